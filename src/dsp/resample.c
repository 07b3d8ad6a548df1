#include "dsp/resample.h"

#include <math.h>

__extension__ typedef __int128 i128;

static i128 iabs128(i128 v) { return v < 0 ? -v : v; }

int spy_rational_approx(double x, long maxden, long *num, long *den)
{
  if (!(x > 0x1p-40 && x <= 1) || maxden < 1) return SPY_EINVAL;
  /* x = mant / 2^e exactly, reduced */
  int e2;
  double fr = frexp(x, &e2); /* x = fr * 2^e2, 0.5 <= fr < 1 */
  i128 n = (i128)ldexp(fr, 53);
  int sh = 53 - e2;
  while (sh > 0 && (n & 1) == 0) n >>= 1, sh--;
  i128 d = (i128)1 << sh;
  if (d <= maxden) {
    *num = (long)n;
    *den = (long)d;
    return SPY_OK;
  }
  const i128 N = n, D = d;
  i128 p0 = 0, q0 = 1, p1 = 1, q1 = 0;
  for (;;) {
    i128 a = n / d, q2 = q0 + a * q1;
    if (q2 > maxden) break;
    i128 np = p0 + a * p1;
    p0 = p1, q0 = q1, p1 = np, q1 = q2;
    i128 r = n - a * d;
    n = d, d = r;
  }
  i128 k = (maxden - q0) / q1;
  i128 bp = p0 + k * p1, bq = q0 + k * q1;
  /* |p1/q1 - N/D| <= |bp/bq - N/D|, compared exactly */
  i128 e1 = iabs128(p1 * D - N * q1) * bq, eb = iabs128(bp * D - N * bq) * q1;
  if (e1 <= eb) {
    *num = (long)p1;
    *den = (long)q1;
  } else {
    *num = (long)bp;
    *den = (long)bq;
  }
  return SPY_OK;
}

size_t spy_resample_len(size_t n, long up, long down)
{
  size_t t = n * (size_t)up;
  return t / (size_t)down + (t % (size_t)down != 0);
}

void spy_resample_row(const double *h, size_t m, long up, long down, const double *x, size_t n,
                      size_t nch, size_t k, double *acc)
{
  const size_t U = (size_t)up, half = (m - 1) / 2, q = k * (size_t)down + half;
  for (size_t c = 0; c < nch; c++) acc[c] = 0;
  /* taps r = q - t*U in [0, m): t from ceil((q - (m-1)) / U) to q / U */
  size_t tmax = q / U, tmin = q >= m - 1 ? (q - (m - 1) + U - 1) / U : 0;
  if (tmax >= n) tmax = n - 1;
  for (size_t t = tmin; t <= tmax && n > 0; t++) {
    const double w = h[q - t * U];
    const double *row = x + t * nch;
    for (size_t c = 0; c < nch; c++) acc[c] += w * row[c];
  }
}

void spy_resample_trldef(const double *trl, size_t ntrials, size_t cols, double f, double *out)
{
  for (size_t k = 0; k < ntrials; k++) {
    const double *r = trl + k * cols;
    double len = ceil(r[1] * f - r[0] * f);
    double start = ceil(r[0] * f);
    out[3 * k + 0] = start;
    out[3 * k + 1] = start + len;
    out[3 * k + 2] = ceil(r[2] * f);
  }
}
