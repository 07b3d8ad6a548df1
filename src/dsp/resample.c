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

/*
** sum g[i] x[i] over 0 <= i < n: one chain of four partial sums (i mod 4),
** added pairwise, then the last n mod 4 terms in order (a different order
** than SciPy's loop: the results agree to rounding).  dot_block computes
** the same sums, term for term in the same order, for NB outputs that share
** the sub-filter g and whose stretches of x lie `step` samples apart: one
** load of the taps serves NB outputs, so the loop is no longer bound by
** loads (two per four multiply-adds in a plain dot product).  An output's
** value therefore does not depend on whether it was computed alone or in
** a block.
*/
#define NB 8

static inline __attribute__((always_inline)) double dot(const double *g, const double *x,
                                                        size_t n)
{
  v4d s = {0, 0, 0, 0};
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    v4d a, b;
    memcpy(&a, g + i, sizeof a);
    memcpy(&b, x + i, sizeof b);
    s += a * b;
  }
  double r = (s[0] + s[1]) + (s[2] + s[3]);
  for (; i < n; i++) r += g[i] * x[i];
  return r;
}

static inline __attribute__((always_inline)) void dot_block(const double *g, const double *x,
                                                            size_t n, size_t step, double *y,
                                                            size_t ystep)
{
  v4d s[NB];
  for (int j = 0; j < NB; j++) s[j] = (v4d){0, 0, 0, 0};
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    v4d a;
    memcpy(&a, g + i, sizeof a);
    for (int j = 0; j < NB; j++) {
      v4d b;
      memcpy(&b, x + j * step + i, sizeof b);
      s[j] += a * b;
    }
  }
  for (int j = 0; j < NB; j++) {
    double r = (s[j][0] + s[j][1]) + (s[j][2] + s[j][3]);
    for (size_t q = i; q < n; q++) r += g[q] * x[j * step + q];
    y[j * ystep] = r;
  }
}

/* output k: its sub-filter, and the stretch of x it meets (taps i0..i1 of
** the reversed sub-filter meet x[start + i0 .. start + i1)) */
static inline __attribute__((always_inline)) const double *
tap_range(const spy_polyphase *pp, size_t n, size_t k, ptrdiff_t *start, size_t *i0, size_t *i1)
{
  const size_t U = (size_t)pp->up, D = (size_t)pp->down;
  size_t q = k * D + pp->half, p = q % U, base = q / U, L = pp->len[p];
  *start = (ptrdiff_t)base - (ptrdiff_t)L + 1;
  *i0 = *start < 0 ? (size_t)(-*start) : 0;
  *i1 = L;
  if ((ptrdiff_t)n - *start < (ptrdiff_t)*i1)
    *i1 = (ptrdiff_t)n - *start > 0 ? (size_t)((ptrdiff_t)n - *start) : 0;
  return pp->g + pp->off[p];
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void
spy_resample_channel(const spy_polyphase *pp, const double *x, size_t n, size_t k0, size_t k1,
                     double *y)
{
  /* outputs k and k + U use the same sub-filter, their stretches of x
  ** D samples apart (up/down are coprime) */
  const size_t U = (size_t)pp->up, D = (size_t)pp->down;
  size_t k = k0;
  while (k < k1) {
    ptrdiff_t s0, s1;
    size_t a0, a1, b0, b1;
    if (k1 - k >= NB * U) {
      tap_range(pp, n, k, &s0, &a0, &a1);
      tap_range(pp, n, k + NB * U - 1, &s1, &b0, &b1);
      /* every output of the block meets its whole sub-filter */
      if (a0 == 0 && b1 == pp->len[((k + NB * U - 1) * D + pp->half) % U] && s0 >= 0) {
        for (size_t r = 0; r < U; r++) {
          ptrdiff_t st;
          size_t i0, i1;
          const double *g = tap_range(pp, n, k + r, &st, &i0, &i1);
          dot_block(g, x + st, i1, D, y + (k + r - k0), U);
        }
        k += NB * U;
        continue;
      }
    }
    ptrdiff_t st;
    size_t i0, i1;
    const double *g = tap_range(pp, n, k, &st, &i0, &i1);
    y[k - k0] = i1 > i0 ? dot(g + i0, x + (st + (ptrdiff_t)i0), i1 - i0) : 0;
    k++;
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
