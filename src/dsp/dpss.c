/*
** DPSS (Slepian) tapers as scipy.signal.windows.dpss(n, NW, Kmax=K, sym).
**
** The tapers are the eigenvectors of the K largest eigenvalues of Percival &
** Walden's symmetric tridiagonal matrix that commutes with the
** concentration operator (diagonal ((M-1-2t)/2)^2 cos(2 pi W), off-diagonal
** t(M-t)/2, W = NW/M).  As SciPy's eigh_tridiagonal(select='i'), LAPACK's
** bisection (dstebz) finds just those eigenvalues and inverse iteration
** (dstein) their eigenvectors: O(M K) work and memory where a full
** eigendecomposition would be O(M^2).  The bisection is latency-bound (a
** chain of dependent divisions per Sturm count), 6.4 ms for case b's
** (1000, 10, 19) on every mtmfft plan; so the tapers of the last calls are
** kept (windows.h), which a session's repeated analyses hit.
*/
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/lazy.h"
#include "dsp/fft.h"
#include "dsp/windows.h"

/* Reference LAPACK (gfortran): arguments by reference, hidden string lengths last. */
extern void dstebz_(const char *range, const char *order, const int *n, const double *vl,
                    const double *vu, const int *il, const int *iu, const double *abstol,
                    const double *d, const double *e, int *m, int *nsplit, double *w, int *iblock,
                    int *isplit, double *work, int *iwork, int *info, size_t range_len,
                    size_t order_len);
extern void dstein_(const int *n, const double *d, const double *e, const int *m, const double *w,
                    const int *iblock, const int *isplit, double *z, const int *ldz, double *work,
                    int *iwork, int *ifail, int *info);

/* Percival & Walden's sign convention, as SciPy applies it: even-order
** (symmetric) tapers sum positive; odd-order (antisymmetric) ones start
** with a positive lobe, i.e. their first sample whose square exceeds
** max(1e-7, 1/M) is positive.  When no sample does (M = 2: both squares are
** exactly 1/2, and SciPy raises IndexError) the first largest one decides. */
static void orient(double *v, size_t M, size_t order)
{
  bool flip = false;
  if (order % 2 == 0) {
    double s = 0;
    for (size_t i = 0; i < M; i++)
      s += v[i];
    flip = s < 0;
  } else {
    double thresh = fmax(1e-7, 1.0 / (double)M);
    size_t first = M, big = 0;
    for (size_t i = 0; i < M && first == M; i++) {
      if (v[i] * v[i] > thresh) first = i;
      if (fabs(v[i]) > fabs(v[big])) big = i;
    }
    flip = v[first < M ? first : big] < 0;
  }
  if (flip)
    for (size_t i = 0; i < M; i++)
      v[i] = -v[i];
}

static double sinc(double x)
{
  if (x == 0) return 1.0;
  double y = M_PI * x;
  return sin(y) / y;
}

/* Fraction of each taper's energy inside [-W, W]: sum_t r_vv[t] r[t] with the
** band's autocorrelation r[0] = 2W, r[t] = 4W sinc(2Wt) and the taper's
** autocorrelation r_vv, by FFT zero-padded past 2M-1 as SciPy does.  The
** power spectrum is real and even, so its inverse transform is its forward
** one: a single r2c plan serves both directions (planning, not executing,
** is what costs here). */
static int concentration(const double *z, size_t M, size_t K, const size_t *col, double W,
                         double *ratios, spy_err *err)
{
  size_t L = spy_fft_good_size(2 * M - 1), nc = L / 2 + 1;
  if (L > INT_MAX) return spy_fail(err, SPY_EINVAL, "dpss: taper too long for ratios (%zu)", M);
  fftw_plan plan = spy_fft_plan_simple(SPY_FFT_R2C, (int)L, 1, err);
  if (!plan) return err ? err->code : SPY_ERUNTIME;
  double *x = spy_fft_alloc(L * sizeof *x), *r = malloc(M * sizeof *r);
  fftw_complex *X = spy_fft_alloc(nc * sizeof *X);
  if (!x || !X || !r) {
    spy_fft_free(x), spy_fft_free(X), free(r);
    return spy_fail(err, SPY_ENOMEM, "out of memory for DPSS concentration ratios");
  }
  r[0] = 2.0 * W;
  for (size_t t = 1; t < M; t++)
    r[t] = 4.0 * W * sinc(2.0 * W * (double)t);
  for (size_t k = 0; k < K; k++) {
    memcpy(x, z + col[k] * M, M * sizeof *x);
    memset(x + M, 0, (L - M) * sizeof *x);
    fftw_execute_dft_r2c(plan, x, X);
    for (size_t f = 0; f < nc; f++)
      x[f] = creal(X[f]) * creal(X[f]) + cimag(X[f]) * cimag(X[f]);
    for (size_t f = nc; f < L; f++)
      x[f] = x[L - f];
    fftw_execute_dft_r2c(plan, x, X);
    double s = 0;
    for (size_t t = 0; t < M; t++)
      s += creal(X[t]) * r[t];
    ratios[k] = s / (double)L;
  }
  spy_fft_free(x), spy_fft_free(X), free(r);
  return SPY_OK;
}

/* ---- tapers kept for later calls ------------------------------------------ */

typedef struct kept_set {
  size_t n, K;
  double NW;
  bool sym;
  unsigned long long used; /* clock of the last hit or store */
  double *w;               /* K x n */
} kept_set;

static pthread_mutex_t keep_lock = PTHREAD_MUTEX_INITIALIZER;
static kept_set keep[SPY_DPSS_KEEP];
static unsigned long long keep_clock;
static size_t keep_bytes;

static bool same(const kept_set *s, size_t n, double NW, size_t K, bool sym)
{
  return s->w && s->n == n && s->K == K && s->sym == sym && memcmp(&s->NW, &NW, sizeof NW) == 0;
}

static bool recall(size_t n, double NW, size_t K, bool sym, double *tapers)
{
  bool hit = false;
  pthread_mutex_lock(&keep_lock);
  for (size_t i = 0; i < SPY_DPSS_KEEP && !hit; i++)
    if (same(&keep[i], n, NW, K, sym)) {
      memcpy(tapers, keep[i].w, n * K * sizeof *tapers);
      keep[i].used = ++keep_clock;
      hit = true;
    }
  pthread_mutex_unlock(&keep_lock);
  return hit;
}

/* Keeps a copy of tapers, giving up the least recently used sets until
** the bounds allow it; nothing when the copy alone is over the byte bound
** or memory is short. */
static void store(size_t n, double NW, size_t K, bool sym, const double *tapers)
{
  size_t bytes = n * K * sizeof *tapers;
  if (bytes > SPY_DPSS_KEEP_BYTES) return;
  double *w = malloc(bytes);
  if (!w) return;
  memcpy(w, tapers, bytes);
  pthread_mutex_lock(&keep_lock);
  for (size_t i = 0; i < SPY_DPSS_KEEP; i++)
    if (same(&keep[i], n, NW, K, sym)) { /* another thread was first */
      pthread_mutex_unlock(&keep_lock);
      free(w);
      return;
    }
  for (;;) {
    size_t slot = SPY_DPSS_KEEP, oldest = SPY_DPSS_KEEP;
    for (size_t i = 0; i < SPY_DPSS_KEEP; i++) {
      if (!keep[i].w) slot = slot == SPY_DPSS_KEEP ? i : slot;
      else if (oldest == SPY_DPSS_KEEP || keep[i].used < keep[oldest].used) oldest = i;
    }
    if (slot < SPY_DPSS_KEEP && keep_bytes + bytes <= SPY_DPSS_KEEP_BYTES) {
      keep[slot] = (kept_set){n, K, NW, sym, ++keep_clock, w};
      keep_bytes += bytes;
      break;
    }
    keep_bytes -= keep[oldest].n * keep[oldest].K * sizeof(double);
    free(keep[oldest].w);
    keep[oldest].w = NULL;
  }
  pthread_mutex_unlock(&keep_lock);
}

size_t spy_dpss_kept(size_t *count)
{
  size_t c = 0;
  pthread_mutex_lock(&keep_lock);
  for (size_t i = 0; i < SPY_DPSS_KEEP; i++) c += keep[i].w != NULL;
  size_t b = keep_bytes;
  pthread_mutex_unlock(&keep_lock);
  if (count) *count = c;
  return b;
}

int spy_dpss(size_t n, double NW, size_t K, bool sym, double *tapers, double *ratios, spy_err *err)
{
  if (K < 1) return spy_fail_value(err, "Kmax", "0", "greater than 0 and at most M");
  if (n == 0) return SPY_OK;
  if (n == 1) {
    /* SciPy's length guard: ones(1), no validation, no ratios.  A single
    ** sample has a flat spectrum: min(1, 2W) of it lies in [-W, W]. */
    double W = NW / (double)(sym ? 1 : 2);
    for (size_t k = 0; k < K; k++) {
      tapers[k] = 1.0;
      if (ratios) ratios[k] = fmin(1.0, fabs(2.0 * W));
    }
    return SPY_OK;
  }
  char actual[64];
  if (K > n) {
    snprintf(actual, sizeof actual, "%zu", K);
    return spy_fail_value(err, "Kmax", actual, "greater than 0 and at most M = %zu", n);
  }
  snprintf(actual, sizeof actual, "%.17g", NW);
  if (!(NW > 0) || !isfinite(NW)) return spy_fail_value(err, "NW", actual, "a positive number");
  if (NW >= (double)n / 2.0)
    return spy_fail_value(err, "NW", actual, "less than M/2 = %.17g", (double)n / 2.0);
  size_t M = sym ? n : n + 1;
  if (M > INT_MAX / 5) return spy_fail(err, SPY_EINVAL, "dpss: window too long (%zu)", n);
  if (!ratios && recall(n, NW, K, sym, tapers)) return SPY_OK;
  if (spy_lazy_need(&spy_lazy_lapack, "dpss", err) != SPY_OK) return SPY_ERUNTIME;

  int Mi = (int)M, il = Mi - (int)K + 1, iu = Mi, m = 0, nsplit = 0, info = 0, ldz = Mi;
  double W = NW / (double)M, c = cos(2.0 * M_PI * W), vl = 0, vu = 0, abstol = 0;
  double *d = malloc(M * sizeof *d), *e = malloc(M * sizeof *e), *ev = malloc(M * sizeof *ev);
  double *work = malloc(5 * M * sizeof *work), *z = malloc(M * K * sizeof *z);
  int *iblock = malloc(M * sizeof *iblock), *isplit = malloc(M * sizeof *isplit);
  int *iwork = malloc(3 * M * sizeof *iwork), *ifail = malloc(K * sizeof *ifail);
  size_t *col = malloc(K * sizeof *col);
  int rc = SPY_OK;
  if (!d || !e || !ev || !work || !z || !iblock || !isplit || !iwork || !ifail || !col) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory for dpss(%zu, K=%zu)", n, K);
    goto done;
  }
  for (size_t t = 0; t < M; t++) {
    double h = ((double)M - 1.0 - 2.0 * (double)t) / 2.0;
    d[t] = h * h * c;
  }
  for (size_t t = 1; t < M; t++)
    e[t - 1] = (double)t * (double)(M - t) / 2.0;

  dstebz_("I", "B", &Mi, &vl, &vu, &il, &iu, &abstol, d, e, &m, &nsplit, ev, iblock, isplit, work,
          iwork, &info, 1, 1);
  if (info != 0 || m != (int)K) {
    rc = spy_fail(err, SPY_ERUNTIME, "dpss: LAPACK dstebz failed (info %d, %d of %zu eigenvalues)",
                  info, m, K);
    goto done;
  }
  dstein_(&Mi, d, e, &m, ev, iblock, isplit, z, &ldz, work, iwork, ifail, &info);
  if (info != 0) {
    rc = spy_fail(err, SPY_ERUNTIME,
                  "dpss: LAPACK dstein failed (info %d: %d eigenvectors did "
                  "not converge)",
                  info, info > 0 ? info : 0);
    goto done;
  }
  /* Eigenvalues come block by block; taper k is the k-th largest. */
  for (size_t k = 0; k < K; k++)
    col[k] = k;
  for (size_t i = 1; i < K; i++)
    for (size_t j = i; j > 0 && ev[col[j]] > ev[col[j - 1]]; j--) {
      size_t t = col[j];
      col[j] = col[j - 1], col[j - 1] = t;
    }
  for (size_t k = 0; k < K; k++)
    orient(z + col[k] * M, M, k);
  if (ratios && (rc = concentration(z, M, K, col, W, ratios, err))) goto done;
  for (size_t k = 0; k < K; k++)
    memcpy(tapers + k * n, z + col[k] * M, n * sizeof *tapers);
  store(n, NW, K, sym, tapers);

done:
  free(d), free(e), free(ev), free(work), free(z);
  free(iblock), free(isplit), free(iwork), free(ifail), free(col);
  return rc;
}
