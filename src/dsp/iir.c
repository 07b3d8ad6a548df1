#include "dsp/iir.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/pyfmt.h"

static const char *const btype_names[] = {"lp", "hp", "bp", "bs"};

int spy_btype_parse(const char *name, spy_btype *t)
{
  for (int i = 0; i < 4; i++)
    if (name && strcmp(name, btype_names[i]) == 0) {
      *t = (spy_btype)i;
      return SPY_OK;
    }
  return SPY_EINVAL;
}

const char *spy_btype_name(spy_btype t) { return btype_names[t]; }

/* NumPy's complex division (Smith's method), so designs round as SciPy's. */
static double complex cdiv(double complex a, double complex b)
{
  double ar = creal(a), ai = cimag(a), br = creal(b), bi = cimag(b);
  if (fabs(br) >= fabs(bi)) {
    if (br == 0 && bi == 0) return CMPLX(ar / fabs(br), ai / fabs(bi));
    double rat = bi / br, scl = 1.0 / (br + bi * rat);
    return CMPLX((ar + ai * rat) * scl, (ai - ar * rat) * scl);
  }
  double rat = br / bi, scl = 1.0 / (bi + br * rat);
  return CMPLX((ar * rat + ai) * scl, (ai * rat - ar) * scl);
}

static double complex cmul(double complex a, double complex b)
{
  double ar = creal(a), ai = cimag(a), br = creal(b), bi = cimag(b);
  return CMPLX(ar * br - ai * bi, ar * bi + ai * br);
}

int spy_butter_zpk(int order, const double *freq, double fs, spy_btype t, double complex *z,
                   size_t *nz, double complex *p, size_t *np, double *k, spy_err *err)
{
  size_t nw = spy_btype_is_band(t) ? 2 : 1, N = (size_t)order;
  double wn[2];
  for (size_t i = 0; i < nw; i++) wn[i] = 2 * freq[i] / fs;
  for (size_t i = 0; i < nw; i++)
    if (!(wn[i] > 0))
      return spy_fail(err, SPY_EINVAL, "filter critical frequencies must be greater than 0");
  if (nw > 1 && !(wn[0] < wn[1]))
    return spy_fail(err, SPY_EINVAL, "Wn[0] must be less than Wn[1]");
  for (size_t i = 0; i < nw; i++)
    if (!(wn[i] < 1)) {
      char a[64], b[64];
      spy_py_float(fs, a, sizeof a);
      spy_py_float(fs / 2, b, sizeof b);
      return spy_fail(err, SPY_EINVAL,
                      "Digital filter critical frequencies must be 0 < Wn < fs/2 (fs=%s -> "
                      "fs/2=%s)",
                      a, b);
    }

  /* analog prototype: poles on the unit circle's left half, no zeros */
  for (size_t i = 0; i < N; i++) {
    double m = -(double)order + 1 + 2 * (double)i;
    double th = M_PI * m / (2.0 * (double)order);
    p[i] = CMPLX(-cos(th), -sin(th));
  }
  double gain = 1;
  size_t npo = N, nze = 0;

  /* pre-warping for the bilinear transform with fs = 2 */
  double warped[2];
  for (size_t i = 0; i < nw; i++) warped[i] = 2 * 2.0 * tan(M_PI * wn[i] / 2.0);

  switch (t) {
  case SPY_LOWPASS: {
    double wo = warped[0];
    for (size_t i = 0; i < npo; i++) p[i] = CMPLX(wo * creal(p[i]), wo * cimag(p[i]));
    gain *= pow(wo, (double)N);
    break;
  }
  case SPY_HIGHPASS: {
    double wo = warped[0];
    double complex prodp = 1.0;
    for (size_t i = 0; i < npo; i++) prodp = cmul(prodp, -p[i]);
    for (size_t i = 0; i < npo; i++) p[i] = cdiv(wo, p[i]);
    for (size_t i = 0; i < N; i++) z[nze++] = 0;
    gain *= creal(cdiv(1.0, prodp));
    break;
  }
  case SPY_BANDPASS:
  case SPY_BANDSTOP: {
    double bw = warped[1] - warped[0], wo = sqrt(warped[0] * warped[1]);
    double complex prodp = 1.0;
    if (t == SPY_BANDSTOP)
      for (size_t i = 0; i < npo; i++) prodp = cmul(prodp, -p[i]);
    for (size_t i = 0; i < npo; i++) {
      double complex q = t == SPY_BANDPASS ? CMPLX(creal(p[i]) * bw / 2, cimag(p[i]) * bw / 2)
                                           : cdiv(bw / 2, p[i]);
      double complex s = csqrt(cmul(q, q) - wo * wo);
      p[i] = q + s;
      p[npo + i] = q - s;
    }
    npo *= 2;
    if (t == SPY_BANDPASS) {
      for (size_t i = 0; i < N; i++) z[nze++] = 0;
      gain *= pow(bw, (double)N);
    } else {
      for (size_t i = 0; i < N; i++) z[nze++] = CMPLX(0, wo);
      for (size_t i = 0; i < N; i++) z[nze++] = CMPLX(0, -wo);
      gain *= creal(cdiv(1.0, prodp));
    }
    break;
  }
  }

  /* bilinear transform, fs = 2: s -> 4 (z - 1) / (z + 1) */
  const double fs2 = 4.0;
  double complex pz = 1.0, pp = 1.0;
  for (size_t i = 0; i < nze; i++) pz = cmul(pz, fs2 - z[i]);
  for (size_t i = 0; i < npo; i++) pp = cmul(pp, fs2 - p[i]);
  for (size_t i = 0; i < nze; i++) z[i] = cdiv(fs2 + z[i], fs2 - z[i]);
  for (size_t i = 0; i < npo; i++) p[i] = cdiv(fs2 + p[i], fs2 - p[i]);
  size_t degree = npo - nze;
  for (size_t i = 0; i < degree; i++) z[nze++] = -1;
  gain *= creal(cdiv(pz, pp));

  *nz = nze;
  *np = npo;
  *k = gain;
  return SPY_OK;
}

/* ---- zpk2sos ------------------------------------------------------------ */

static bool isreal(double complex v) { return cimag(v) == 0; }

static void delete_at(double complex *v, size_t *n, size_t i)
{
  memmove(v + i, v + i + 1, (*n - i - 1) * sizeof *v);
  (*n)--;
}

/* stable insertion sort by (key1, key2) */
static void sort2(double complex *v, size_t n, double (*k1)(double complex),
                  double (*k2)(double complex))
{
  for (size_t i = 1; i < n; i++) {
    double complex x = v[i];
    size_t j = i;
    while (j > 0) {
      double a1 = k1 ? k1(v[j - 1]) : 0, b1 = k1 ? k1(x) : 0;
      double a2 = k2(v[j - 1]), b2 = k2(x);
      if (a1 > b1 || (a1 == b1 && a2 > b2)) {
        v[j] = v[j - 1];
        j--;
      } else
        break;
    }
    v[j] = x;
  }
}

static double key_re(double complex v) { return creal(v); }
static double key_absim(double complex v) { return fabs(cimag(v)); }

/*
** SciPy's _cplxreal: the conjugate pairs of v (one value each, positive
** imaginary part, pair-averaged) followed by the real values, each group
** sorted as SciPy sorts it.  Rewrites v[0..n) in that order; *ncplx gets
** the pair count, the return value the total.
*/
static int cplxreal(double complex *v, size_t n, size_t *count, spy_err *err)
{
  const double tol = 100 * DBL_EPSILON;
  double complex *buf = malloc((3 * n + 1) * sizeof *buf);
  if (!buf) return spy_fail(err, SPY_ENOMEM, "out of memory");
  double complex *zp = buf, *zn = buf + n, *zr = buf + 2 * n;
  size_t npos = 0, nneg = 0, nre = 0;
  sort2(v, n, key_re, key_absim);
  for (size_t i = 0; i < n; i++) {
    if (fabs(cimag(v[i])) <= tol * cabs(v[i]))
      zr[nre++] = creal(v[i]);
    else if (cimag(v[i]) > 0)
      zp[npos++] = v[i];
    else
      zn[nneg++] = v[i];
  }
  if (npos != nneg) {
    free(buf);
    return spy_fail(err, SPY_EINVAL, "Array contains complex value with no matching conjugate.");
  }
  /* runs of (nearly) equal real parts are ordered by |imag| */
  for (size_t s = 0; s + 1 < npos;) {
    size_t e = s;
    while (e + 1 < npos && creal(zp[e + 1]) - creal(zp[e]) <= tol * cabs(zp[e])) e++;
    if (e > s) {
      sort2(zp + s, e - s + 1, NULL, key_absim);
      sort2(zn + s, e - s + 1, NULL, key_absim);
    }
    s = e + 1;
  }
  for (size_t i = 0; i < npos; i++)
    if (cabs(zp[i] - conj(zn[i])) > tol * cabs(zn[i])) {
      free(buf);
      return spy_fail(err, SPY_EINVAL, "Array contains complex value with no matching conjugate.");
    }
  size_t m = 0;
  for (size_t i = 0; i < npos; i++) v[m++] = (zp[i] + conj(zn[i])) / 2;
  for (size_t i = 0; i < nre; i++) v[m++] = zr[i];
  free(buf);
  *count = m;
  return SPY_OK;
}

/* index of the value closest to the unit circle (first on ties) */
static size_t idx_worst(const double complex *p, size_t n, bool realonly)
{
  size_t best = (size_t)-1;
  double bd = INFINITY;
  for (size_t i = 0; i < n; i++) {
    if (realonly && !isreal(p[i])) continue;
    double d = fabs(1 - cabs(p[i]));
    if (best == (size_t)-1 || d < bd) bd = d, best = i;
  }
  return best;
}

enum { ANY, REAL, COMPLEX };

/* SciPy's _nearest_real_complex_idx: nearest to `to` among the values of
** the wanted kind (stable on equal distances). */
static size_t nearest(const double complex *v, size_t n, double complex to, int which)
{
  size_t best = (size_t)-1;
  double bd = INFINITY;
  for (size_t i = 0; i < n; i++) {
    if (which == REAL && !isreal(v[i])) continue;
    if (which == COMPLEX && isreal(v[i])) continue;
    double d = cabs(v[i] - to);
    if (best == (size_t)-1 || d < bd) bd = d, best = i;
  }
  return best;
}

/* coefficients of prod (x - r_i), highest power first, real part */
static void poly(const double complex *r, size_t n, double *c)
{
  double complex a[3] = {1, 0, 0};
  for (size_t i = 0; i < n; i++) {
    double complex nr = -r[i];
    double complex b[3] = {a[0], a[1] + cmul(a[0], nr), a[2] + cmul(a[1], nr)};
    memcpy(a, b, sizeof a);
  }
  for (size_t i = 0; i <= n; i++) c[i] = creal(a[i]);
}

static void single_sos(const double complex *z, size_t nz, const double complex *p, size_t np,
                       double *sos)
{
  double b[3], a[3];
  poly(z, nz, b);
  poly(p, np, a);
  memset(sos, 0, 6 * sizeof *sos);
  for (size_t i = 0; i <= nz; i++) sos[3 - (nz + 1) + i] = b[i];
  for (size_t i = 0; i <= np; i++) sos[6 - (np + 1) + i] = a[i];
}

static size_t count_real(const double complex *v, size_t n)
{
  size_t c = 0;
  for (size_t i = 0; i < n; i++) c += isreal(v[i]);
  return c;
}

int spy_zpk2sos(const double complex *z0, size_t nz0, const double complex *p0, size_t np0,
                double k, double *sos, size_t *nsec, spy_err *err)
{
  if (nz0 == 0 && np0 == 0) {
    const double one[6] = {k, 0, 0, 1, 0, 0};
    memcpy(sos, one, sizeof one);
    *nsec = 1;
    return SPY_OK;
  }
  size_t n = nz0 > np0 ? nz0 : np0, ns = (n + 1) / 2;
  double complex *z = calloc(2 * (n + 1), sizeof *z);
  if (!z) return spy_fail(err, SPY_ENOMEM, "out of memory");
  double complex *p = z + n + 1;
  if (nz0) memcpy(z, z0, nz0 * sizeof *z);
  if (np0) memcpy(p, p0, np0 * sizeof *p);
  size_t nz = n, np = n;
  if (n % 2 == 1) nz++, np++; /* extra pole and zero at the origin */
  int rc = cplxreal(z, nz, &nz, err);
  if (!rc) rc = cplxreal(p, np, &np, err);
  if (rc) {
    free(z);
    return rc;
  }

  for (size_t si = ns; si-- > 0;) {
    double *s = sos + 6 * si;
    size_t i1 = idx_worst(p, np, false);
    double complex p1 = p[i1];
    delete_at(p, &np, i1);
    if (isreal(p1) && count_real(p, np) == 0) {
      size_t iz = nearest(z, nz, p1, REAL);
      double complex zz[2] = {z[iz], 0}, pp[2] = {p1, 0};
      delete_at(z, &nz, iz);
      single_sos(zz, 2, pp, 2, s);
    } else if (np + 1 == nz && !isreal(p1) && count_real(p, np) == 1 &&
               count_real(z, nz) == 1) {
      size_t iz = nearest(z, nz, p1, COMPLEX);
      double complex zz[2] = {z[iz], conj(z[iz])}, pp[2] = {p1, conj(p1)};
      delete_at(z, &nz, iz);
      single_sos(zz, 2, pp, 2, s);
    } else {
      double complex p2;
      if (isreal(p1)) {
        size_t i2 = idx_worst(p, np, true);
        p2 = p[i2];
        delete_at(p, &np, i2);
      } else
        p2 = conj(p1);
      double complex pp[2] = {p1, p2};
      if (nz > 0) {
        size_t iz = nearest(z, nz, p1, ANY);
        double complex z1 = z[iz];
        delete_at(z, &nz, iz);
        if (!isreal(z1)) {
          double complex zz[2] = {z1, conj(z1)};
          single_sos(zz, 2, pp, 2, s);
        } else if (nz > 0) {
          size_t i2 = nearest(z, nz, p1, REAL);
          double complex zz[2] = {z1, z[i2]};
          delete_at(z, &nz, i2);
          single_sos(zz, 2, pp, 2, s);
        } else
          single_sos(&z1, 1, pp, 2, s);
      } else
        single_sos(NULL, 0, pp, 2, s);
    }
  }
  free(z);
  for (int i = 0; i < 3; i++) sos[i] *= k;
  *nsec = ns;
  return SPY_OK;
}

int spy_butter_sos(int order, const double *freq, double fs, spy_btype t, double *sos,
                   size_t *nsec, spy_err *err)
{
  if (order < 0) return spy_fail_value(err, "order", NULL, "a non-negative filter order");
  size_t n = spy_butter_npoles(order, t);
  double complex *z = malloc(2 * (n + 1) * sizeof *z);
  if (!z) return spy_fail(err, SPY_ENOMEM, "out of memory");
  double complex *p = z + n + 1;
  size_t nz, np;
  double k;
  int rc = spy_butter_zpk(order, freq, fs, t, z, &nz, p, &np, &k, err);
  if (!rc) rc = spy_zpk2sos(z, nz, p, np, k, sos, nsec, err);
  free(z);
  return rc;
}

/* ---- filtering ------------------------------------------------------------ */

void spy_sosfilt_zi(const double *sos, size_t nsec, double *zi)
{
  double scale = 1;
  for (size_t s = 0; s < nsec; s++) {
    const double *c = sos + 6 * s;
    double b0 = c[0] / c[3], b1 = c[1] / c[3], b2 = c[2] / c[3];
    double a1 = c[4] / c[3], a2 = c[5] / c[3];
    /* lfilter_zi: solve (I - companion(a)^T) zi = b[1:] - a[1:] b[0] */
    double B0 = b1 - a1 * b0, B1 = b2 - a2 * b0;
    double z0 = (B0 + B1) / (1 + a1 + a2);
    zi[2 * s] = scale * z0;
    zi[2 * s + 1] = scale * (B1 - a2 * z0);
    scale *= (c[0] + c[1] + c[2]) / (c[3] + c[4] + c[5]);
  }
}

size_t spy_sosfiltfilt_edge(const double *sos, size_t nsec)
{
  size_t zb = 0, za = 0;
  for (size_t s = 0; s < nsec; s++) {
    zb += sos[6 * s + 2] == 0;
    za += sos[6 * s + 5] == 0;
  }
  size_t ntaps = 2 * nsec + 1 - (zb < za ? zb : za);
  return 3 * ntaps;
}

/*
** The recursion over one lane, rows `stride` doubles apart; state rows are
** `stride` apart too: z0 of section s at st[2s*stride], z1 at
** st[(2s+1)*stride].  Operation order is SciPy's, so results round alike.
*/
static void sosfilt_lane(const double *restrict sos, size_t nsec, double *restrict x, size_t n,
                         size_t stride, bool reverse, double *restrict st)
{
  ptrdiff_t step = reverse ? -(ptrdiff_t)stride : (ptrdiff_t)stride;
  double *row = reverse ? x + (n - 1) * stride : x;
  for (size_t i = 0; i < n; i++, row += step) {
    double cur = *row;
    for (size_t s = 0; s < nsec; s++) {
      const double *c = sos + 6 * s;
      double *z0 = st + 2 * s * stride, *z1 = z0 + stride;
      double xn = c[0] * cur + *z0;
      *z0 = c[1] * cur - c[4] * xn + *z1;
      *z1 = c[2] * cur - c[5] * xn;
      cur = xn;
    }
    *row = cur;
  }
}

/* The same over 4*V lanes at once with GCC's vector types (the compiler
** maps them to whatever vector unit the target has); lane arithmetic is
** IEEE-identical to the scalar loop. */
typedef double v4d __attribute__((vector_size(32)));

static inline __attribute__((always_inline)) void
sosfilt_vec(const double *restrict sos, size_t nsec, double *restrict x, size_t n, const size_t V,
            size_t stride, bool reverse, double *restrict st)
{
  ptrdiff_t step = reverse ? -(ptrdiff_t)stride : (ptrdiff_t)stride;
  double *row = reverse ? x + (n - 1) * stride : x;
  for (size_t i = 0; i < n; i++, row += step) {
    v4d cur[4];
    for (size_t v = 0; v < V; v++) memcpy(&cur[v], row + 4 * v, sizeof(v4d));
    for (size_t s = 0; s < nsec; s++) {
      const double *c = sos + 6 * s;
      const v4d b0 = {c[0], c[0], c[0], c[0]}, b1 = {c[1], c[1], c[1], c[1]};
      const v4d b2 = {c[2], c[2], c[2], c[2]}, a1 = {c[4], c[4], c[4], c[4]};
      const v4d a2 = {c[5], c[5], c[5], c[5]};
      double *z0 = st + 2 * s * stride, *z1 = z0 + stride;
      for (size_t v = 0; v < V; v++) {
        v4d s0, s1;
        memcpy(&s0, z0 + 4 * v, sizeof s0);
        memcpy(&s1, z1 + 4 * v, sizeof s1);
        v4d xn = b0 * cur[v] + s0;
        s0 = b1 * cur[v] - a1 * xn + s1;
        s1 = b2 * cur[v] - a2 * xn;
        memcpy(z0 + 4 * v, &s0, sizeof s0);
        memcpy(z1 + 4 * v, &s1, sizeof s1);
        cur[v] = xn;
      }
    }
    for (size_t v = 0; v < V; v++) memcpy(row + 4 * v, &cur[v], sizeof(v4d));
  }
}

/* Wider vector units where the CPU has them (chosen once at load time);
** ISO C mode keeps the compiler from fusing multiply-adds, so every
** version rounds exactly as SciPy's loop. */
__attribute__((target_clones("avx512f", "avx2", "default"))) void
spy_sosfilt(const double *sos, size_t nsec, double *x, size_t n, size_t lanes, bool reverse,
            double *state)
{
  if (n == 0) return;
  size_t j = 0;
  for (; lanes - j >= 16; j += 16) sosfilt_vec(sos, nsec, x + j, n, 4, lanes, reverse, state + j);
  switch ((lanes - j) / 4) {
  case 3: sosfilt_vec(sos, nsec, x + j, n, 3, lanes, reverse, state + j); break;
  case 2: sosfilt_vec(sos, nsec, x + j, n, 2, lanes, reverse, state + j); break;
  case 1: sosfilt_vec(sos, nsec, x + j, n, 1, lanes, reverse, state + j); break;
  }
  j += (lanes - j) / 4 * 4;
  for (; j < lanes; j++) sosfilt_lane(sos, nsec, x + j, n, lanes, reverse, state + j);
}

void spy_sosfiltfilt(const double *sos, size_t nsec, const double *zi, double *ext, size_t n,
                     size_t lanes, size_t edge, double *state)
{
  const size_t L = lanes, total = n + 2 * edge;
  double *x0 = ext + edge * L, *xl = ext + (edge + n - 1) * L;
  for (size_t i = 1; i <= edge; i++)
    for (size_t j = 0; j < L; j++) {
      ext[(edge - i) * L + j] = 2 * x0[j] - x0[i * L + j];
      ext[(edge + n - 1 + i) * L + j] = 2 * xl[j] - xl[-(ptrdiff_t)(i * L) + (ptrdiff_t)j];
    }
  for (size_t s = 0; s < nsec; s++)
    for (size_t j = 0; j < L; j++) {
      state[2 * s * L + j] = zi[2 * s] * ext[j];
      state[(2 * s + 1) * L + j] = zi[2 * s + 1] * ext[j];
    }
  spy_sosfilt(sos, nsec, ext, total, L, false, state);
  const double *last = ext + (total - 1) * L;
  for (size_t s = 0; s < nsec; s++)
    for (size_t j = 0; j < L; j++) {
      state[2 * s * L + j] = zi[2 * s] * last[j];
      state[(2 * s + 1) * L + j] = zi[2 * s + 1] * last[j];
    }
  spy_sosfilt(sos, nsec, ext, total, L, true, state);
}
