#include "dsp/hilbert.h"

#include <string.h>

#include "dsp/fft.h"

int spy_hilbert_prepare(spy_hilbert *h, size_t n, bool estimate, spy_err *err)
{
  memset(h, 0, sizeof *h);
  if (n == 0 || n > (size_t)1 << 30)
    return spy_fail(err, SPY_EINVAL, "cannot Hilbert-transform a signal of %zu samples", n);
  h->n = n;
  spy_fft_geom fwd = {SPY_FFT_R2C, (int)n, 1, 1, (int)n, 1, (int)(n / 2 + 1), false};
  spy_fft_geom inv = {SPY_FFT_BACKWARD, (int)n, 1, 1, (int)n, 1, (int)n, true};
  h->r2c = estimate ? spy_fft_plan_quick(&fwd, err) : spy_fft_plan(&fwd, err);
  h->inv = !h->r2c ? NULL : estimate ? spy_fft_plan_quick(&inv, err) : spy_fft_plan(&inv, err);
  return h->inv ? SPY_OK : (err ? err->code : SPY_ERUNTIME);
}

void spy_hilbert_run(const spy_hilbert *h, const double *x, double complex *z)
{
  const size_t n = h->n, half = n / 2;
  /* an out-of-place r2c keeps its input (FFTW's default for r2c) */
  fftw_execute_dft_r2c(h->r2c, (double *)x, (fftw_complex *)z);
  /* doubled: 1 .. (n-1)/2 for odd n, 1 .. n/2-1 for even n */
  size_t top = n % 2 ? (n + 1) / 2 : half;
  for (size_t k = 1; k < top; k++) z[k] *= 2;
  for (size_t k = (n % 2 ? top : half + 1); k < n; k++) z[k] = 0;
  fftw_execute_dft(h->inv, (fftw_complex *)z, (fftw_complex *)z);
  const double s = 1.0 / (double)n;
  for (size_t k = 0; k < n; k++) z[k] *= s;
}
