#include "dsp/resample.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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

int spy_polyphase_init(spy_polyphase *pp, const double *h, size_t m, long up, long down)
{
  memset(pp, 0, sizeof *pp);
  const size_t U = (size_t)up;
  pp->up = up, pp->down = down, pp->m = m, pp->half = m ? (m - 1) / 2 : 0;
  pp->len = calloc(U, sizeof *pp->len);
  pp->off = calloc(U, sizeof *pp->off);
  pp->g = malloc((m ? m : 1) * sizeof *pp->g);
  if (!pp->len || !pp->off || !pp->g) {
    spy_polyphase_release(pp);
    return SPY_ENOMEM;
  }
  size_t o = 0;
  for (size_t p = 0; p < U; p++) {
    size_t L = p < m ? (m - p + U - 1) / U : 0;
    pp->len[p] = L;
    pp->off[p] = o;
    for (size_t i = 0; i < L; i++) pp->g[o + i] = h[p + U * (L - 1 - i)];
    o += L;
  }
  return SPY_OK;
}

void spy_polyphase_release(spy_polyphase *pp)
{
  free(pp->len);
  free(pp->off);
  free(pp->g);
  memset(pp, 0, sizeof *pp);
}

typedef double v4d __attribute__((vector_size(32)));

/* sum a[i] b[i] in eight partial sums (a different order than SciPy's
** loop: the results agree to rounding) */
static inline __attribute__((always_inline)) double dot(const double *a, const double *b,
                                                        size_t n)
{
  v4d s0 = {0, 0, 0, 0}, s1 = {0, 0, 0, 0};
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    v4d a0, a1, b0, b1;
    memcpy(&a0, a + i, sizeof a0);
    memcpy(&a1, a + i + 4, sizeof a1);
    memcpy(&b0, b + i, sizeof b0);
    memcpy(&b1, b + i + 4, sizeof b1);
    s0 += a0 * b0;
    s1 += a1 * b1;
  }
  s0 += s1;
  double s = (s0[0] + s0[1]) + (s0[2] + s0[3]);
  for (; i < n; i++) s += a[i] * b[i];
  return s;
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void
spy_resample_channel(const spy_polyphase *pp, const double *x, size_t n, size_t k0, size_t k1,
                     double *y)
{
  const size_t U = (size_t)pp->up, D = (size_t)pp->down;
  for (size_t k = k0; k < k1; k++) {
    size_t q = k * D + pp->half, p = q % U, base = q / U, L = pp->len[p];
    /* taps i' of the reversed sub-filter meet x[base - (L-1) + i'] */
    const double *g = pp->g + pp->off[p];
    ptrdiff_t start = (ptrdiff_t)base - (ptrdiff_t)L + 1;
    size_t i0 = start < 0 ? (size_t)(-start) : 0;
    size_t i1 = L;
    if ((ptrdiff_t)n - start < (ptrdiff_t)i1) i1 = (ptrdiff_t)n - start > 0 ? (size_t)((ptrdiff_t)n - start) : 0;
    y[k - k0] = i1 > i0 ? dot(g + i0, x + (start + (ptrdiff_t)i0), i1 - i0) : 0;
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
