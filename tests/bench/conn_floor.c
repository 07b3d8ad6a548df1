/*
** Floors of the connectivity benchmarks (scripts/bench), measured in the
** same run: raw FFTW executing the transforms each case needs from cached
** plans on hot buffers, one thread, no I/O, no tapering, no cross-spectral
** products, no reduction.  Prints "floor <case> <seconds>".
** Asserts nothing.
*/
#include <complex.h>
#include <fftw3.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/progress.h"
#include "dsp/fft.h"

/* ntrials x (r2c of n samples for the C x K (channel, taper) rows), in
** batches of C transforms (one taper's channels, as the mtmfft kernel runs
** them: one plan of C*K transforms was 3x slower here). */
static double spectral(int n, int C, int K, int ntrials)
{
  spy_err err = {0};
  int rows = C * K, nb = n / 2 + 1;
  fftw_plan p = spy_fft_plan_simple(SPY_FFT_R2C, n, C, &err);
  double *in = spy_fft_alloc((size_t)n * (size_t)rows * sizeof *in);
  double complex *out = spy_fft_alloc((size_t)nb * (size_t)rows * sizeof *out);
  for (int i = 0; i < n * rows; i++) in[i] = (double)((i * 7919) % 1000) / 1000.0;
  double best = 1e30;
  for (int r = 0; r < 3; r++) {
    double t0 = spy_now();
    for (int k = 0; k < ntrials; k++)
      for (int t = 0; t < K; t++)
        fftw_execute_dft_r2c(p, in + (size_t)t * (size_t)n * (size_t)C,
                             (fftw_complex *)(out + (size_t)t * (size_t)nb * (size_t)C));
    double dt = spy_now() - t0;
    if (dt < best) best = dt;
  }
  spy_fft_free(in);
  spy_fft_free(out);
  return best;
}

/* ntrials x (C r2c of length M) + C(C+1)/2 c2r of length M once (the
** averaged cross-covariances are the inverse transforms of the summed cross
** spectra), M the length the corr kernel uses: the smallest even good size
** >= N + nlags(N) (the lags it keeps are linear there). */
static double correlation(int N, int C, int ntrials)
{
  spy_err err = {0};
  size_t L = (size_t)N % 2 == 0 ? (size_t)N / 2 : (size_t)N / 2 + 1;
  size_t m = spy_fft_good_size((size_t)N + L);
  while (m % 2) m = spy_fft_good_size(m + 1);
  int M = (int)m;
  fftw_plan f = spy_fft_plan_simple(SPY_FFT_R2C, M, C, &err);
  fftw_plan b = spy_fft_plan_simple(SPY_FFT_C2R, M, 1, &err);
  double *in = spy_fft_alloc((size_t)M * (size_t)C * sizeof *in);
  fftw_complex *out = spy_fft_alloc((size_t)(M / 2 + 1) * (size_t)C * sizeof *out);
  fftw_complex *prod = spy_fft_alloc((size_t)(M / 2 + 1) * sizeof *prod);
  double *r = spy_fft_alloc((size_t)M * sizeof *r);
  double best = 1e30;
  for (int rep = 0; rep < 3; rep++) {
    double t0 = spy_now();
    for (int k = 0; k < ntrials; k++) fftw_execute_dft_r2c(f, in, out);
    for (int p = 0; p < C * (C + 1) / 2; p++) fftw_execute_dft_c2r(b, prod, r);
    double dt = spy_now() - t0;
    if (dt < best) best = dt;
  }
  spy_fft_free(in);
  spy_fft_free(out);
  spy_fft_free(prod);
  spy_fft_free(r);
  return best;
}

int main(void)
{
  /* coh: 200 trials x 1000 samples x 32 channels, DPSS tapsmofrq=3: 5 tapers */
  printf("floor conn_coh %.6f\n", spectral(1000, 32, 5, 200));
  /* granger: 200 x 1000 x 4, DPSS tapsmofrq=2: 3 tapers (the factorisation is extra) */
  printf("floor conn_granger %.6f\n", spectral(1000, 4, 3, 200));
  /* corr: 100 trials x 2000 samples x 16 channels */
  printf("floor conn_corr %.6f\n", correlation(2000, 16, 100));
  return 0;
}
