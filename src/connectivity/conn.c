/*
** spy.connectivityanalysis: Syncopy's frontend
** (syncopy/connectivity/connectivity_analysis.py) in its order, with its
** messages, and the kernels and finalizers of its five methods.
*/
#include "connectivity/conn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/array.h"
#include "core/interrupt.h"
#include "core/progress.h"
#include "core/pyfmt.h"
#include "data/extra.h"
#include "dsp/fft.h"
#include "dsp/freqanalysis.h"
#include "dsp/mtmfft.h"
#include "dsp/spectral_common.h"
#include "dsp/taper.h"

enum { COH, CORR, GRANGER, CSD, PPC };
static const char *const methods[] = {"coh", "corr", "granger", "csd", "ppc", NULL};
static const char *const outputs[] = {"abs", "pow", "complex", "fourier", "angle", "real", "imag",
                                      NULL};

typedef struct corrlen {
  size_t N;       /* trial length */
  size_t M;       /* transform length >= N + nlags(N): linear for the lags kept */
  size_t ldr;     /* row stride of the real rows (doubles, 64-byte multiple) */
  size_t ldc;     /* row stride of the spectra (complex, 64-byte multiple) */
  fftw_plan r2c, c2r;
} corrlen;

typedef struct conn_plan {
  int method;
  spy_specout output; /* coh */
  bool average;
  size_t C, nfreq;
  /* spectral methods: the Fourier transform of each trial */
  spy_op fft;
  size_t K;
  /* corr */
  int poly;
  corrlen *lens;
  size_t nlen;
  /* granger: the result's info (owned by the op), filled by finalize */
  cJSON *info;
  bool demean; /* de-mean the tapered trials (granger's cross spectra) */
} conn_plan;

static size_t count(const char *const *list)
{
  size_t n = 0;
  while (list[n])
    n++;
  return n;
}

static int index_of(const char *const *list, const char *s)
{
  for (int i = 0; list[i]; i++)
    if (strcmp(list[i], s) == 0) return i;
  return -1;
}

static bool isnone(const cJSON *v)
{
  return !v || cJSON_IsNull(v);
}

static size_t nlags(size_t N)
{
  return N % 2 == 0 ? N / 2 : N / 2 + 1;
}

static size_t round64(size_t n, size_t elem)
{
  size_t per = 64 / elem;
  return (n + per - 1) / per * per;
}

static const corrlen *corr_len(const conn_plan *p, size_t N)
{
  for (size_t i = 0; i < p->nlen; i++)
    if (p->lens[i].N == N) return &p->lens[i];
  return NULL;
}

/* ---- kernels ------------------------------------------------------------------- */

/* Scratch of the spectral kernel: the Fourier block (K x nfreq x C complex
** float), the per-frequency sums (sums_bytes), then the mtmfft kernel's own
** scratch. */
static size_t fourier_bytes(const conn_plan *p)
{
  return spy_mtm_round(p->K * p->nfreq * p->C * 2 * sizeof(float));
}

/* Channel block of the cross-spectral products (spectral_row). */
enum { JB = 8 };

/* Row stride of the per-frequency split Fourier coefficients: C plus room
** for a full block read past the last channel (zeros). */
static size_t xld(const conn_plan *p)
{
  return p->C + JB;
}

/* then the per-frequency scratch: xr, xi (K x xld) and one packed upper
** triangle (C (C + 1) / 2 pairs) doubles */
static size_t sums_bytes(const conn_plan *p)
{
  return spy_mtm_round((2 * p->K * xld(p) + p->C * (p->C + 1)) * sizeof(double));
}

static size_t conn_scratch(const void *plan, size_t nsamp, size_t nchan)
{
  const conn_plan *p = plan;
  if (p->method == CORR) {
    const corrlen *l = corr_len(p, nsamp);
    if (!l) return 64;
    return (nchan * l->ldr + l->ldr) * sizeof(double) +
           (nchan * l->ldc + l->ldc) * sizeof(double complex) + 64 * 2 +
           (p->average ? 0
                       : (nchan * nchan * nlags(nsamp) + round64(nlags(nsamp), sizeof(double))) *
                             sizeof(double));
  }
  size_t s = p->fft.scratch_bytes ? p->fft.scratch_bytes(p->fft.plan, nsamp, nchan) : 0;
  return fourier_bytes(p) + sums_bytes(p) + s;
}

/*
** One frequency's cross spectra: the packed upper triangle (pairs (i, j),
** j >= i, row by row, as (re, im) doubles) of inv * sum_k x_k^T conj(x_k)
** for the K tapers' coefficients x_k = xr + i xi (rows of stride ld, zero
** past C).  The hot loop of the spectral methods (O(freq x tapers x
** channels^2) per trial): each block of JB pairs of a row (4 for its last
** 1-4) is summed over the tapers in registers and stored once, in real
** arithmetic (a complex product would call __muldc3); built for AVX2 too,
** the CPU picks the version at load time.  The diagonal's imaginary part
** is exactly 0.
*/
typedef double v4d __attribute__((vector_size(32), aligned(8), may_alias));
typedef long long v4i __attribute__((vector_size(32)));

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SPY_CONN_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define SPY_CONN_CLONES
#endif

SPY_CONN_CLONES
static void spectral_row(const double *restrict xr, const double *restrict xi, size_t K, size_t C,
                         size_t ld, double inv, double *restrict a)
{
  const v4i lo = {0, 4, 1, 5}, hi = {2, 6, 3, 7};
  for (size_t i = 0; i < C; i++) {
    double *row = a;
    for (size_t j0 = i; j0 < C; j0 += JB) {
      if (C - j0 <= 4) { /* the row's last 1-4 pairs: one vector */
        v4d r0 = {0}, m0 = {0};
        for (size_t k = 0; k < K; k++) {
          double ar = xr[k * ld + i], ai = xi[k * ld + i];
          v4d b0 = *(const v4d *)(xr + k * ld + j0), c0 = *(const v4d *)(xi + k * ld + j0);
          r0 += ar * b0 + ai * c0;
          m0 += ai * b0 - ar * c0;
        }
        r0 *= inv, m0 *= inv;
        v4d o0 = __builtin_shuffle(r0, m0, lo), o1 = __builtin_shuffle(r0, m0, hi);
        size_t n = C - j0;
        if (n >= 2) *(v4d *)a = o0;
        if (n == 4) *(v4d *)(a + 4) = o1;
        if (n & 1) {
          v4d t = n == 1 ? o0 : o1;
          a[2 * (n - 1)] = t[0];
          a[2 * (n - 1) + 1] = t[1];
        }
        a += 2 * n;
        break;
      }
      v4d r0 = {0}, r1 = {0}, m0 = {0}, m1 = {0};
      for (size_t k = 0; k < K; k++) {
        double ar = xr[k * ld + i], ai = xi[k * ld + i];
        const double *br = xr + k * ld + j0, *bi = xi + k * ld + j0;
        v4d b0 = *(const v4d *)br, b1 = *(const v4d *)(br + 4);
        v4d c0 = *(const v4d *)bi, c1 = *(const v4d *)(bi + 4);
        r0 += ar * b0 + ai * c0;
        r1 += ar * b1 + ai * c1;
        m0 += ai * b0 - ar * c0;
        m1 += ai * b1 - ar * c1;
      }
      r0 *= inv, r1 *= inv, m0 *= inv, m1 *= inv;
      v4d o0 = __builtin_shuffle(r0, m0, lo), o1 = __builtin_shuffle(r0, m0, hi);
      v4d o2 = __builtin_shuffle(r1, m1, lo), o3 = __builtin_shuffle(r1, m1, hi);
      size_t n = C - j0 < JB ? C - j0 : JB;
      /* n pairs by constant-size stores from registers (no loop GCC would
      ** turn into a memcpy call, no indexed spill of the vectors) */
      size_t nv = n / 2;
      if (nv > 0) *(v4d *)a = o0;
      if (nv > 1) *(v4d *)(a + 4) = o1;
      if (nv > 2) *(v4d *)(a + 8) = o2;
      if (nv > 3) *(v4d *)(a + 12) = o3;
      if (n & 1) {
        v4d t = nv == 0 ? o0 : nv == 1 ? o1 : nv == 2 ? o2 : o3;
        a[4 * nv] = t[0];
        a[4 * nv + 1] = t[1];
      }
      a += 2 * n;
    }
    row[1] = 0;
  }
}

/* Index of the pair (i, j), i <= j, in the packed upper triangle. */
static inline size_t upper(size_t i, size_t j, size_t C)
{
  return i * C - i * (i - 1) / 2 + (j - i);
}

/* The full nfreq x C x C matrices of a packed sum (upper triangles, pairs of
** doubles), divided by n. */
static void unpack(const double *acc, size_t F, size_t C, double n, double complex *full)
{
  size_t P = C * (C + 1) / 2;
  for (size_t f = 0; f < F; f++)
    for (size_t i = 0; i < C; i++)
      for (size_t j = i; j < C; j++) {
        const double *a = acc + 2 * (f * P + upper(i, j, C));
        double complex v = a[0] / n + I * (a[1] / n);
        full[(f * C + i) * C + j] = v;
        full[(f * C + j) * C + i] = conj(v);
      }
}

/* ppc's unit vector CS / |CS|: numpy's angle(0) = 0 makes a zero cross spectrum 1; a NaN
** (a NaN sample) stays NaN, as Syncopy's cos(angle(NaN)) */
static void unit_vector(double *re, double *im)
{
  double mag = hypot(*re, *im);
  if (mag > 0) {
    *re /= mag;
    *im /= mag;
  } else if (mag == 0) {
    *re = 1;
    *im = 0;
  } else {
    *re = *im = NAN;
  }
}

static int spectral_kernel(const conn_plan *p, spy_task *task, spy_err *err)
{
  size_t C = p->C, F = p->nfreq, K = p->K;
  float complex *X = task->scratch;
  spy_task ft = *task;
  ft.out = X;
  ft.rows = 1;
  ft.scratch = (char *)task->scratch + fourier_bytes(p) + sums_bytes(p);
  ft.flags = 0;
  int rc = p->fft.kernel(p->fft.plan, &ft, err);
  task->flags |= ft.flags;
  if (rc) return rc;
  /* per frequency: the packed upper triangle of mean_k x_k^T conj(x_k),
  ** written straight into the trial's block when averaging */
  size_t ld = xld(p), P = C * (C + 1) / 2;
  double *xr = (double *)(void *)((char *)task->scratch + fourier_bytes(p));
  double *xi = xr + K * ld, *pk = xi + K * ld;
  memset(xr, 0, 2 * K * ld * sizeof *xr);
  double inv = 1.0 / (double)K;
  double *acc = p->average ? task->out : NULL;
  float complex *cs = p->average ? NULL : task->out;
  bool ppc = p->method == PPC;
  for (size_t f = 0; f < F; f++) {
    if ((f & 63) == 0 && spy_interrupted()) return spy_fail(err, SPY_EINTR, "interrupted");
    for (size_t k = 0; k < K; k++) {
      const float *x = (const float *)(X + (k * F + f) * C);
      for (size_t c = 0; c < C; c++) {
        xr[k * ld + c] = x[2 * c];
        xi[k * ld + c] = x[2 * c + 1];
      }
    }
    double *a = acc ? acc + 2 * f * P : pk;
    spectral_row(xr, xi, K, C, ld, inv, a);
    if (acc) {
      if (ppc)
        for (size_t q = 0; q < P; q++)
          unit_vector(a + 2 * q, a + 2 * q + 1);
    } else {
      for (size_t i = 0; i < C; i++)
        for (size_t j = i; j < C; j++) {
          const double *v = pk + 2 * upper(i, j, C);
          float re = (float)v[0], im = (float)v[1];
          cs[(f * C + i) * C + j] = re + I * im;
          cs[(f * C + j) * C + i] = re - I * im;
        }
    }
  }
  return SPY_OK;
}

/* The corr kernel's loops around its inverse transforms, built for AVX2
** too: p = a conj(b) over nc interleaved complex values (real arithmetic),
** and the lags of r scaled by w: tp[t] = r[t] w[t] and, when rn is given,
** tn[t] = rn[-t] w[t] (tn[0] = rn[0] w[0] when rn0, else r[0] w[0]). */
static void corr_weights(size_t N, size_t M, size_t L, double *w)
{
  for (size_t t = 0; t < L; t++)
    w[t] = 1.0 / (double)M / (double)(N - t);
}

SPY_CONN_CLONES
static void corr_product(const double *restrict a, const double *restrict b, size_t nc,
                         double *restrict p)
{
  for (size_t q = 0; q < nc; q++) {
    p[2 * q] = a[2 * q] * b[2 * q] + a[2 * q + 1] * b[2 * q + 1];
    p[2 * q + 1] = a[2 * q + 1] * b[2 * q] - a[2 * q] * b[2 * q + 1];
  }
}

SPY_CONN_CLONES
static void corr_lags(const double *restrict r, const double *restrict w, size_t L,
                      const double *rn, bool rn0, double *restrict tp, double *restrict tn)
{
  for (size_t t = 0; t < L; t++)
    tp[t] = r[t] * w[t];
  if (!rn) return;
  tn[0] = (rn0 ? rn[0] : r[0]) * w[0];
  for (size_t t = 1; t < L; t++)
    tn[t] = rn[-(ptrdiff_t)t] * w[t];
}

/*
** One trial's cross-covariance over the positive lags, as Syncopy's
** fftconvolve(x_i, x_j[::-1], "same")[N//2:] / (N - lag) for i >= j, and the
** reversed sequence for j < i (lag -(t+1) for even N: Syncopy's
** off-by-one, reproduced).  Output nlag x C x C: doubles (averaged) or
** float32 divided by std_i std_j (single trials).
*/
static int corr_kernel(const conn_plan *p, spy_task *task, spy_err *err)
{
  size_t N = task->nsamp, C = p->C, L = nlags(N);
  const corrlen *l = corr_len(p, N);
  if (!l) return spy_fail(err, SPY_EINVAL, "corr: no transform planned for %zu samples", N);
  size_t M = l->M, nc = M / 2 + 1;
  double *rows = task->scratch;
  double *r = rows + C * l->ldr;
  double complex *X = (double complex *)(void *)(r + l->ldr);
  double complex *P = X + C * l->ldc;
  double sd[C > 0 ? C : 1];
  for (size_t c = 0; c < C; c++) {
    double *x = rows + c * l->ldr, mean = 0;
    for (size_t n = 0; n < N; n++)
      x[n] = task->in[n * C + c];
    /* SciPy's linear detrend with overwrite_data works in place on Syncopy's
    ** contiguous trial, so polyremoval=1 does detrend (xcheck-conn.md) */
    spy_detrend(x, N, 1, p->poly);
    for (size_t n = 0; n < N; n++)
      mean += x[n];
    mean /= (double)N;
    double m2 = 0, mu = p->poly < 0 ? mean : 0;
    for (size_t n = 0; n < N; n++)
      m2 += (x[n] - mu) * (x[n] - mu);
    sd[c] = sqrt(m2 / (double)N);
    memset(x + N, 0, (M - N) * sizeof *x);
    fftw_execute_dft_r2c(l->r2c, x, (fftw_complex *)(X + c * l->ldc));
  }
  if (p->average) { /* the cross spectra X_i conj(X_j), j <= i: finalize transforms their sums */
    double *o = task->out;
    for (size_t i = 0; i < C; i++) {
      if (spy_interrupted()) return spy_fail(err, SPY_EINTR, "interrupted");
      for (size_t j = 0; j <= i; j++, o += 2 * nc)
        corr_product((const double *)(X + i * l->ldc), (const double *)(X + j * l->ldc), nc, o);
    }
    return SPY_OK;
  }
  /* single trials: pair-major blocks (lags contiguous) transposed into the
  ** output at the end; w: the lags' 1 / (M (N - lag)), after them */
  double *T = (double *)(void *)(P + l->ldc), *w = T + C * C * L;
  corr_weights(N, M, L, w);
  for (size_t i = 0; i < C; i++) {
    if (spy_interrupted()) return spy_fail(err, SPY_EINTR, "interrupted");
    for (size_t j = 0; j <= i; j++) {
      const double *a = (const double *)(X + i * l->ldc), *b = (const double *)(X + j * l->ldc);
      corr_product(a, b, nc, (double *)P);
      fftw_execute_dft_c2r(l->c2r, (fftw_complex *)P, r);
      double *tij = T + (i * C + j) * L, *tji = T + (j * C + i) * L;
      if (i != j) /* negative lags: -(t+1) for even N (Syncopy's off-by-one), -t for odd */
        corr_lags(r, w, L, N % 2 == 0 ? r + M - 1 : r + M, N % 2 == 0, tij, tji);
      else
        corr_lags(r, w, L, NULL, false, tij, NULL);
    }
  }
  { /* normalise by std_i std_j, transpose to lag x C x C in blocks */
    float *out = task->out;
    for (size_t t0 = 0; t0 < L; t0 += 64) {
      size_t t1 = t0 + 64 < L ? t0 + 64 : L;
      for (size_t i = 0; i < C; i++)
        for (size_t j = 0; j < C; j++) {
          const double *src = T + (i * C + j) * L;
          double nrm = 1 / (sd[i] * sd[j]);
          for (size_t t = t0; t < t1; t++)
            out[(t * C + i) * C + j] = (float)(src[t] * nrm);
        }
    }
  }
  return SPY_OK;
}

static int conn_kernel(const void *plan, spy_task *task, spy_err *err)
{
  const conn_plan *p = plan;
  if (spy_interrupted()) return spy_fail(err, SPY_EINTR, "interrupted");
  return p->method == CORR ? corr_kernel(p, task, err) : spectral_kernel(p, task, err);
}

/* ---- finalizers ------------------------------------------------------------ */

static float convert(double complex c, spy_specout o)
{
  switch (o) {
  case SPY_OUT_POW: return (float)(creal(c) * creal(c) + cimag(c) * cimag(c));
  case SPY_OUT_ANGLE: return (float)carg(c);
  case SPY_OUT_REAL: return (float)creal(c);
  case SPY_OUT_IMAG: return (float)cimag(c);
  default: return (float)cabs(c);
  }
}

/*
** csd, coh and ppc from the packed upper triangles of the sum over N trials
** (finalize): each pair (i, j), j >= i, once, its mirror (j, i) from the
** conjugate, so no full nfreq x C x C copy of the mean.  coh divides by
** sqrt(S_ii S_jj) of the real diagonal (exactly real: spectral_row writes
** its imaginary part as 0).
*/
static int finalize_packed(const conn_plan *p, const double *acc, double N, void *out, spy_err *err)
{
  size_t C = p->C, F = p->nfreq, P = C * (C + 1) / 2;
  float complex *oc = out;
  float *of = out;
  bool cplx = p->method == CSD || (p->method == COH && p->output == SPY_OUT_FOURIER);
  double *d = malloc((C + 1) * sizeof *d);
  if (!d) return spy_fail(err, SPY_ENOMEM, "out of memory");
  for (size_t f = 0; f < F; f++) {
    const double *a = acc + 2 * f * P;
    for (size_t i = 0; i < C; i++)
      d[i] = a[2 * upper(i, i, C)] / N;
    for (size_t i = 0; i < C; i++)
      for (size_t j = i; j < C; j++, a += 2) {
        size_t e = (f * C + i) * C + j, m = (f * C + j) * C + i;
        double re = a[0] / N, im = a[1] / N;
        if (p->method == PPC) { /* sum_{j<k} cos(th_j - th_k) = (|sum u|^2 - N) / 2, unit u */
          double s = (re * re + im * im) * N * N;
          of[e] = of[m] = (float)((s - N) / (N * (N - 1)));
          continue;
        }
        if (p->method == COH) {
          double nrm = sqrt(d[i] * d[j]);
          re /= nrm, im /= nrm;
        }
        if (cplx) {
          oc[e] = (float)re + I * (float)im;
          oc[m] = (float)re - I * (float)im;
          continue;
        }
        switch (p->output) {
        case SPY_OUT_POW: of[e] = of[m] = (float)(re * re + im * im); break;
        case SPY_OUT_ANGLE:
          of[e] = (float)atan2(im, re);
          of[m] = (float)atan2(-im, re);
          break;
        case SPY_OUT_REAL: of[e] = of[m] = (float)re; break;
        case SPY_OUT_IMAG:
          of[e] = (float)im;
          of[m] = (float)-im;
          break;
        default: of[e] = of[m] = (float)sqrt(re * re + im * im);
        }
      }
  }
  free(d);
  return SPY_OK;
}

/* Syncopy's out.info of a Granger result, its values filled by conn_finalize
** (which replaces the items: they must exist, whatever the input class). */
static cJSON *granger_info_new(void)
{
  cJSON *info = cJSON_CreateObject();
  if (!info || !cJSON_AddFalseToObject(info, "converged") ||
      !cJSON_AddNumberToObject(info, "max rel. err", 0) ||
      !cJSON_AddNumberToObject(info, "reg. factor", 0) ||
      !cJSON_AddNumberToObject(info, "initial cond. num", 0)) {
    cJSON_Delete(info);
    return NULL;
  }
  return info;
}

/*
** corr, averaged: acc holds the sums over the trials of X_i conj(X_j) (j <=
** i, nc complex each), so one inverse transform per pair makes the summed
** cross-covariances (the transform is linear), then as per trial: lag t of
** r / (M (N - t)) for (i, j), the reversed sequence for (j, i); the mean
** over N trials normalised by sqrt(C_ii(0) C_jj(0)).
*/
static int finalize_corr(const conn_plan *p, const double *acc, double ntr, void *out,
                         spy_err *err)
{
  const corrlen *l = &p->lens[0];
  size_t C = p->C, N = l->N, M = l->M, nc = M / 2 + 1, L = p->nfreq;
  double *T = malloc((C * C * L + L + 1) * sizeof *T), *w = T ? T + C * C * L : NULL;
  double *r = fftw_malloc(M * sizeof *r);
  fftw_complex *P = fftw_malloc(nc * sizeof *P);
  int rc = T && r && P ? SPY_OK : spy_fail(err, SPY_ENOMEM, "out of memory");
  if (!rc) {
    corr_weights(N, M, L, w);
    const double *a = acc;
    for (size_t i = 0; i < C; i++)
      for (size_t j = 0; j <= i; j++, a += 2 * nc) {
        memcpy(P, a, nc * sizeof *P); /* c2r overwrites its input */
        fftw_execute_dft_c2r(l->c2r, P, r);
        double *tij = T + (i * C + j) * L, *tji = T + (j * C + i) * L;
        if (i != j)
          corr_lags(r, w, L, N % 2 == 0 ? r + M - 1 : r + M, N % 2 == 0, tij, tji);
        else
          corr_lags(r, w, L, NULL, false, tij, NULL);
      }
    float *o = out;
    for (size_t t = 0; t < L; t++)
      for (size_t i = 0; i < C; i++)
        for (size_t j = 0; j < C; j++) {
          double v = T[(i * C + j) * L + t] / ntr; /* pair-major */
          double d = sqrt((T[(i * C + i) * L] / ntr) * (T[(j * C + j) * L] / ntr));
          o[(t * C + i) * C + j] = (float)(v / d);
        }
  }
  free(T);
  fftw_free(r);
  fftw_free(P);
  return rc;
}

/* Sets key to item in info: replaced where the op pre-filled it (the scheduler's
** op), added where info starts empty (SpectralData input), never leaked. */
static void set_info(cJSON *info, const char *key, cJSON *item)
{
  if (item && !cJSON_ReplaceItemInObject(info, key, item) &&
      !cJSON_AddItemToObject(info, key, item))
    cJSON_Delete(item);
}

static int conn_finalize(const void *plan, const double *acc, size_t ntrials, void *out,
                         spy_err *err)
{
  const conn_plan *p = plan;
  size_t C = p->C, F = p->nfreq, nn = C * C;
  double N = (double)ntrials;
  if (p->method == CORR) return finalize_corr(p, acc, N, out, err);
  if (p->method == PPC && ntrials < 2) return spy_fail(err, SPY_EINVAL, "ppc needs at least two trials");
  if (p->method != GRANGER) /* csd, coh, ppc: straight from the packed sums */
    return finalize_packed(p, acc, N, out, err);
  /* the trial mean as full matrices */
  double complex *S = malloc((F * nn + 1) * sizeof *S);
  if (!S) return spy_fail(err, SPY_ENOMEM, "out of memory");
  unpack(acc, F, C, N, S);
  int rc = SPY_OK;
  switch (p->method) {
  case GRANGER: {
    double *gc = malloc((F * nn + 1) * sizeof *gc);
    spy_granger_info gi = {0};
    rc = gc ? spy_granger(S, F, C, gc, &gi, err) : spy_fail(err, SPY_ENOMEM, "out of memory");
    for (size_t e = 0; !rc && e < F * nn; e++)
      ((float *)out)[e] = (float)gc[e];
    if (!rc && p->info) {
      set_info(p->info, "converged", cJSON_CreateBool(gi.converged));
      set_info(p->info, "max rel. err", cJSON_CreateNumber(gi.max_rel_err));
      set_info(p->info, "reg. factor", cJSON_CreateNumber(gi.reg_factor));
      set_info(p->info, "initial cond. num", cJSON_CreateNumber(gi.cond_num));
    }
    free(gc);
    break;
  }
  default: rc = spy_fail(err, SPY_EINVAL, "connectivity: no finalizer for this method");
  }
  free(S);
  return rc;
}

static void conn_free(void *plan)
{
  conn_plan *p = plan;
  if (!p) return;
  spy_op_free(&p->fft);
  free(p->lens);
  free(p);
}

/* ---- the plan ---------------------------------------------------------------- */

static int plan_corr(conn_plan *p, const spy_trials *in, spy_op *op, spy_err *err)
{
  size_t nt = in->ntrials;
  if (!(p->lens = calloc(nt ? nt : 1, sizeof *p->lens)))
    return spy_fail(err, SPY_ENOMEM, "out of memory");
  for (size_t k = 0; k < nt; k++) {
    size_t N = spy_trial_len(in, k);
    if (corr_len(p, N)) continue;
    if (N < 1) return spy_fail_value(err, "data", "empty trial", "non-empty trials");
    corrlen *l = &p->lens[p->nlen++];
    l->N = N;
    /* the kept lags -nlags..nlags-1 of the circular correlation are the
    ** linear ones when M >= N + nlags (no wrap-around reaches them) */
    size_t M = spy_fft_good_size(N + nlags(N));
    while (M % 2) M = spy_fft_good_size(M + 1);
    l->M = M;
    l->ldr = round64(M, sizeof(double));
    l->ldc = round64(M / 2 + 1, sizeof(double complex));
    if (!(l->r2c = spy_fft_plan_simple(SPY_FFT_R2C, (int)M, 1, err)) ||
        !(l->c2r = spy_fft_plan_simple(SPY_FFT_C2R, (int)M, 1, err)))
      return err->code;
  }
  /* output: lags on the time axis, a dummy freq [0] */
  op->ninner = 2;
  op->inner[0] = 1;
  op->inner[1] = p->C;
  if (!(op->out_rows = malloc((nt ? nt : 1) * sizeof *op->out_rows))) goto nomem;
  for (size_t k = 0; k < nt; k++)
    op->out_rows[k] = nlags(spy_trial_len(in, k));
  p->nfreq = nt ? op->out_rows[0] : 0;
  op->out_trlcols = 3;
  size_t nrows = p->average ? 1 : nt;
  if (!(op->out_trldef = calloc(nrows * 3, sizeof(double)))) goto nomem;
  for (size_t k = 0, row = 0; k < nrows; k++) {
    op->out_trldef[3 * k] = (double)row;
    op->out_trldef[3 * k + 1] = (double)(row + op->out_rows[k]);
    row += op->out_rows[k];
  }
  if (!(op->freq = calloc(1, sizeof(double)))) goto nomem;
  op->nfreq = 1;
  op->out_dtype = SPY_DT_F32;
  if (p->average) { /* the trials' cross spectra, summed (finalize_corr) */
    if (p->nlen > 1)
      return spy_fail(err, SPY_ENOTSUP,
                      "Averaging trials of unequal lengths in output currently not supported!");
    op->acc_elems = p->C * (p->C + 1) / 2 * 2 * (p->lens[0].M / 2 + 1);
  }
  return SPY_OK;
nomem:
  return spy_fail(err, SPY_ENOMEM, "out of memory");
}

/* The averaged result of ppc and of a jackknifed coh/granger: Syncopy averages
** its single-trial results, keeping the first trial's row [0, 1, offset, trialinfo...] */
static int first_row(const spy_trials *in, spy_op *op)
{
  size_t cols = in->trlcols;
  double *r = calloc(cols > 3 ? cols : 3, sizeof *r);
  if (!r) return SPY_ENOMEM;
  if (in->ntrials) {
    memcpy(r, in->trldef, cols * sizeof *r);
    r[2] = spy_trial_offset(in, 0);
  }
  r[0] = 0;
  r[1] = 1;
  free(op->out_trldef);
  op->out_trldef = r;
  op->out_trlcols = cols > 3 ? cols : 3;
  return SPY_OK;
}

static int plan_spectral(conn_plan *p, const cJSON *cfg, const spy_trials *in, spy_op *op,
                         spy_history *log, spy_err *err)
{
  int rc;
  double sr = in->samplerate;
  size_t nsamples = 0, *fidx = NULL, nfreq = 0;
  double *foibuf = NULL;
  spy_taper taper = {0};
  spy_fa_common c = {0};
  if ((rc = spy_fa_padding(spy_cfg_item(cfg, "pad"), in, &nsamples, err))) return rc;
  if ((rc = spy_fa_foi(spy_cfg_item(cfg, "foi"), spy_cfg_item(cfg, "foilim"), sr, &c, &foibuf,
                       err)))
    goto done;
  if (p->method == GRANGER) {
    if (c.foi || c.have_foilim) {
      rc = spy_fail_value(err, "foi/foilim", "foi or foilim specification",
                          "no foi specification for Granger analysis");
      goto done;
    }
    if ((double)in->nchan / (double)in->ntrials > 0.1)
      spy_py_warning("cross_spectra",
                     "Multi-channel Granger analysis can be numerically unstable, it is "
                     "recommended to have at least 10 times the number of trials compared to the "
                     "number of channels. Try calculating in sub-groups of fewer channels!");
  }
  if (c.foi || c.have_foilim) {
    if ((rc = spy_fa_match(&c, nsamples, sr, &fidx, &nfreq, err))) goto done;
  } else {
    nfreq = nsamples / 2 + 1;
    if (!(fidx = malloc(nfreq * sizeof *fidx))) {
      rc = spy_fail(err, SPY_ENOMEM, "out of memory");
      goto done;
    }
    for (size_t k = 0; k < nfreq; k++)
      fidx[k] = k;
    spy_py_info("connectivityanalysis", "Setting frequencies of interest to %.1f-%.1fHz",
                spy_rfftfreq(0, nsamples, sr), spy_rfftfreq(nfreq - 1, nsamples, sr));
  }
  double mean = 0;
  for (size_t k = 0; k < in->ntrials; k++)
    mean += (double)spy_trial_len(in, k);
  mean /= (double)in->ntrials;
  if ((rc = spy_taper_process(spy_cfg_item(cfg, "taper"), spy_cfg_item(cfg, "taper_opt"),
                              spy_cfg_item(cfg, "tapsmofrq"), spy_cfg_item(cfg, "nTaper"), false,
                              sr, mean, "pow", &taper, err)))
    goto done;
  double *fv = malloc(nfreq * sizeof *fv);
  if (fv) {
    for (size_t i = 0; i < nfreq; i++)
      fv[i] = spy_rfftfreq(fidx[i], nsamples, sr);
    spy_history_add_np(log, "foi", fv, nfreq);
    free(fv);
  }
  spy_history_add(log, "taper", taper.none ? "None" : taper.name);
  if (taper.dpss) {
    char num[32];
    snprintf(num, sizeof num, "%zu", taper.K);
    spy_history_add(log, "nTaper", num);
    spy_history_add_json(log, "tapsmofrq", spy_cfg_item(cfg, "tapsmofrq"));
  } else if (taper.opt && cJSON_GetArraySize(taper.opt) > 0) {
    spy_history_add_json(log, "taper_opt", taper.opt);
  }
  spy_mtmfft_params mp = {.nfft = nsamples,
                          .taper = &taper,
                          .fidx = fidx,
                          .nfreq = nfreq,
                          .output = SPY_OUT_FOURIER,
                          .keeptapers = true,
                          .keeptrials = true,
                          .demean_taper = p->demean,
                          .polyremoval = p->poly,
                          .chan_chunk = 0};
  if ((rc = spy_mtmfft_plan(&mp, in, &p->fft, err))) goto done;
  p->K = taper.K;
  p->nfreq = nfreq;

  op->ninner = 2;
  op->inner[0] = nfreq;
  op->inner[1] = p->C;
  op->out_dtype = p->method == CSD || (p->method == COH && p->output == SPY_OUT_FOURIER)
                      ? SPY_DT_C64
                      : SPY_DT_F32;
  /* the time axis stacks trials [k, k+1, offset_k] (Syncopy's
  ** propagate_properties); averaged [0, 1, 0] (ppc keeps the first trial's
  ** offset, as Syncopy's result does) */
  if ((rc = spy_trldef_stacked(in, true, p->average, op))) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto done;
  }
  if (p->method == PPC && (rc = first_row(in, op))) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto done;
  }
  if (!(op->freq = malloc(nfreq * sizeof *op->freq))) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto done;
  }
  for (size_t i = 0; i < nfreq; i++)
    op->freq[i] = spy_rfftfreq(fidx[i], nsamples, sr);
  op->nfreq = nfreq;
  if (p->average) op->acc_elems = 2 * nfreq * (p->C * (p->C + 1) / 2); /* upper triangles */

done:
  free(foibuf);
  free(fidx);
  spy_taper_clear(&taper);
  return rc;
}

/* check_effective_parameters: Syncopy's WARNING for every keyword outside the
** general ones and the compute class' own (`valid`, NULL-terminated) whose
** value differs from its default. */
static void check_effective(const cJSON *cfg, const char *cr, const char *const *valid)
{
  static const char *const relevant[] = {"output", "channelcmb", "tapsmofrq", "nTaper",
                                         "taper",  "taper_opt",  "jackknife", NULL};
  for (size_t i = 0; relevant[i]; i++) {
    if (index_of(valid, relevant[i]) >= 0) continue;
    const spy_kwarg *k = spy_kw_find(&spy_spec_connectivityanalysis, relevant[i]);
    const cJSON *v = spy_cfg_item(cfg, relevant[i]);
    if (!k || !v) continue;
    cJSON *d = cJSON_Parse(k->dflt ? k->dflt : "null");
    bool same = d && cJSON_Compare(v, d, true);
    cJSON_Delete(d);
    if (!same)
      spy_py_warning("input_processors", "option `%s` has no effect for `%s`!", relevant[i], cr);
  }
}

static const char *const valid_ccov[] = {"jackknife", NULL};
static const char *const valid_ppc_analog[] = {"taper", "tapsmofrq", "nTaper", NULL};
static const char *const valid_ppc_spectral[] = {"channelcmb", NULL};
static const char *const valid_granger_analog[] = {"jackknife", "taper", "tapsmofrq", "nTaper", NULL};
static const char *const valid_granger_spectral[] = {"jackknife", "channelcmb", NULL};
static const char *const valid_dyadic[] = {"output", "jackknife", "channelcmb", NULL};

/* The checks every input shares, in Syncopy's order (up to polyremoval). */
typedef struct common {
  int method;
  bool keeptrials;
  bool jackknife; /* coh or granger */
  const cJSON *outv;
  const char *output;
  int polyremoval;
} common;

static int check_common(const cJSON *cfg, bool spectral_input, common *c, spy_err *err)
{
  char act[512], legal[512];
  int rc;
  const cJSON *mv = spy_cfg_item(cfg, "method");
  c->method = cJSON_IsString(mv) ? index_of(methods, mv->valuestring) : -1;
  if (c->method < 0) {
    spy_py_or_list(methods, count(methods), legal, sizeof legal);
    spy_py_str(mv, act, sizeof act);
    return spy_fail_value(err, "method", act, "%s", legal);
  }
  int method = c->method;
  const cJSON *jk = spy_cfg_item(cfg, "jackknife");
  if (jk && !cJSON_IsBool(jk)) return spy_fail_type(err, "jackknife", "boolean", spy_lua_typename(jk));
  if (cJSON_IsTrue(jk) && method != COH && method != GRANGER) {
    spy_py_warning("connectivityanalysis", "Jackknife is not available for method %s",
                   methods[method]);
    jk = NULL;
  }
  c->jackknife = cJSON_IsTrue(jk);
  c->outv = spy_cfg_item(cfg, "output");
  c->output = cJSON_IsString(c->outv) ? c->outv->valuestring : "";
  if (c->jackknife && spectral_input)
    return spy_fail(err, SPY_ENOTSUP,
                    "jackknife=true is not supported yet for SpectralData input; compute the "
                    "connectivity from the AnalogData");
  if (c->jackknife && (!strcmp(c->output, "complex") || !strcmp(c->output, "fourier")))
    return spy_fail(err, SPY_ENOTSUP,
                    "jackknife=true is not supported yet for complex coherency (output='%s')",
                    c->output);
  if (method != COH && strcmp(c->output, "abs"))
    spy_py_warning("connectivityanalysis", "Setting `output` for method %s has no effect!",
                   methods[method]);
  const cJSON *kt = spy_cfg_item(cfg, "keeptrials");
  if (kt && !cJSON_IsBool(kt)) return spy_fail_type(err, "keeptrials", "boolean", spy_lua_typename(kt));
  c->keeptrials = cJSON_IsTrue(kt);
  if (!isnone(spy_cfg_item(cfg, "channelcmb"))) {
    if (!spectral_input)
      return spy_fail_type(err, "data",
                           "SpectralData, `channelcmb` not supported for other data types, ",
                           "AnalogData");
  }
  const cJSON *pad = spy_cfg_item(cfg, "pad");
  if (method == CORR && !(cJSON_IsString(pad) && !strcmp(pad->valuestring, "maxperlen"))) {
    spy_py_str(pad, act, sizeof act);
    return spy_fail_value(err, "pad", act,
                          "'maxperlen', no padding needed/allowed for cross-correlations");
  }
  const cJSON *poly = spy_cfg_item(cfg, "polyremoval");
  c->polyremoval = -1;
  if (!isnone(poly)) {
    if ((rc = spy_scalar_parser(poly, "polyremoval", true, 0, 1, "0", "1", err))) return rc;
    c->polyremoval = (int)poly->valuedouble;
  }
  return SPY_OK;
}

/* demean: de-mean the tapered trials (Syncopy's demean_taper) even for csd, as the
** jackknife's single-trial cross spectra of Granger need; granger always does */
static int plan_conn(const cJSON *cfg, const spy_trials *in, bool demean, spy_op *op, spy_err *err)
{
  char act[512];
  int rc;
  memset(op, 0, sizeof *op);
  if (!in || in->ntrials == 0)
    return spy_fail_value(err, "data", "empty", "non-empty Syncopy data object");
  common cm;
  if ((rc = check_common(cfg, false, &cm, err))) return rc;
  int method = cm.method, polyremoval = cm.polyremoval;
  bool keeptrials = cm.keeptrials;
  const cJSON *outv = cm.outv;
  const char *output = cm.output;

  conn_plan *p = calloc(1, sizeof *p);
  if (!p) return spy_fail(err, SPY_ENOMEM, "out of memory");
  op->plan = p;
  op->free_plan = conn_free;
  op->kernel = conn_kernel;
  op->scratch_bytes = conn_scratch;
  op->finalize = conn_finalize;
  op->name = methods[method];
  op->chan_independent = false;
  op->cls = SPY_CROSSSPECTRAL;
  op->ntrials = in->ntrials;
  op->samplerate = in->samplerate;
  p->method = method;
  p->C = in->nchan;
  p->poly = polyremoval;
  p->demean = demean || method == GRANGER;
  spy_history log = {0};
  static const char *const keys[] = {"method", "keeptrials", "polyremoval", "pad", "channelcmb"};
  for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
    spy_history_add_json(&log, keys[i], spy_cfg_item(cfg, keys[i]));
  const char *cf = "cross_spectra_cF";

  if (method == CORR) {
    if (!isnone(spy_cfg_item(cfg, "foi")))
      spy_py_warning("connectivityanalysis", "Parameter `foi` has no effect for method `corr`");
    check_effective(cfg, "CrossCovariance", valid_ccov);
    p->average = !keeptrials;
    cf = "cross_covariance_cF";
    if ((rc = plan_corr(p, in, op, err))) goto fail;
  } else {
    if (in->ntrials == 1) {
      rc = spy_fail_value(err, "data", "only one trial",
                          "multi-trial input data, spectral connectivity measures critically "
                          "depend on trial averaging!");
      goto fail;
    }
    if (keeptrials && method != CSD) {
      rc = spy_fail_value(err, "keeptrials", "True",
                          "False, trial averaging needed for method %s!", methods[method]);
      goto fail;
    }
    p->average = !keeptrials;
    if ((rc = plan_spectral(p, cfg, in, op, &log, err))) goto fail;
    /* with jackknife Syncopy's direct estimate is of spy.mean(single trials), which keeps
    ** the first trial's row: its offset (not 0) and trialinfo */
    if (cm.jackknife && (method == COH || method == GRANGER) && (rc = first_row(in, op))) {
      rc = spy_fail(err, SPY_ENOMEM, "out of memory");
      goto fail;
    }
    if (method == COH) {
      if (index_of(outputs, output) < 0) {
        spy_py_str(outv, act, sizeof act);
        rc = spy_fail_value(err, "output", act,
                            "one of ('abs', 'pow', 'complex', 'fourier', 'angle', 'real', "
                            "'imag')");
        goto fail;
      }
      spy_specout_parse(output, &p->output);
      op->out_dtype = p->output == SPY_OUT_FOURIER ? SPY_DT_C64 : SPY_DT_F32;
      spy_history_add_json(&log, "output", outv);
    }
    if (method == PPC) check_effective(cfg, "PPC_column", valid_ppc_analog);
    if (method == GRANGER) check_effective(cfg, "GrangerCausality", valid_granger_analog);
    if (method == GRANGER) { /* Syncopy's out.info, filled by finalize */
      if (!(op->info = granger_info_new())) {
        rc = spy_fail(err, SPY_ENOMEM, "out of memory");
        goto fail;
      }
      p->info = op->info;
    }
  }
  op->average = p->average;
  if (!(op->log = spy_history_text(&log, cf))) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto fail;
  }
  spy_history_free(&log);
  return SPY_OK;
fail:
  spy_history_free(&log);
  spy_op_free(op);
  return rc;
}

int spy_conn_plan(const cJSON *cfg, const spy_trials *in, spy_op *op, spy_err *err)
{
  return plan_conn(cfg, in, false, op, err);
}

/* ---- SpectralData input ------------------------------------------------------ */

/* One side of channelcmb: names or (1-based) indices of existing channels. */
static int cmb_side(const cJSON *v, const char *varname, const spy_data *in, int *type, size_t **idx,
                    size_t *n, spy_err *err)
{
  char act[256];
  if (!cJSON_IsArray(v)) return spy_fail_type(err, varname, "sequence", spy_lua_typename(v));
  if (cJSON_GetArraySize(v) == 0)
    return spy_fail_value(err, varname, "[]", "non-empty list of channel names or indices");
  *n = (size_t)cJSON_GetArraySize(v);
  if (!(*idx = malloc(*n * sizeof **idx))) return spy_fail(err, SPY_ENOMEM, "out of memory");
  size_t k = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, v) {
    int t = cJSON_IsString(e) ? 1 : cJSON_IsNumber(e) && e->valuedouble == floor(e->valuedouble) ? 2 : 0;
    if (!t) return spy_fail_type(err, varname, "either `int` or `str`", spy_lua_typename(e));
    if (!*type) *type = t;
    if (t != *type)
      return spy_fail_type(err, varname, *type == 1 ? "str" : "int", spy_lua_typename(e));
    size_t c = in->nchannel;
    if (t == 1) {
      for (c = 0; c < in->nchannel && strcmp(in->channel[c], e->valuestring); c++) {}
    } else if (e->valuedouble >= 1 && e->valuedouble <= (double)in->nchannel) {
      c = (size_t)e->valuedouble - 1;
    }
    if (c >= in->nchannel) {
      spy_py_str(e, act, sizeof act);
      return spy_fail_value(err, "channelcmb", act, "names or indices of existing channels");
    }
    (*idx)[k++] = c;
  }
  return SPY_OK;
}

/* out[m][a][b] = full[m][snd[a]][rcv[b]] for m < nm matrices of C x C. */
static void select_pairs(const void *full, size_t nm, size_t C, const size_t *snd, size_t nS,
                         const size_t *rcv, size_t nR, spy_dtype dt, void *out)
{
  size_t es = spy_dtype_size(dt);
  for (size_t m = 0; m < nm; m++)
    for (size_t a = 0; a < nS; a++)
      for (size_t b = 0; b < nR; b++)
        memcpy((char *)out + ((m * nS + a) * nR + b) * es,
               (const char *)full + ((m * C + snd[a]) * C + rcv[b]) * es, es);
}

/* channelcmb with granger: the 2 x 2 Granger of every (sender, receiver)
** from the averaged CSD, sender -> receiver (Syncopy's pairwise loop). */
static int pairwise_granger(const double *acc, size_t nt, size_t F, size_t C, const size_t *snd,
                            size_t nS, const size_t *rcv, size_t nR, float *out, spy_err *err)
{
  double complex *S = malloc((F * C * C + 1) * sizeof *S), *sub = malloc((4 * F + 1) * sizeof *sub);
  double *g = malloc((4 * F + 1) * sizeof *g);
  int rc = S && sub && g ? SPY_OK : spy_fail(err, SPY_ENOMEM, "out of memory");
  if (!rc) unpack(acc, F, C, (double)nt, S);
  for (size_t a = 0; !rc && a < nS; a++)
    for (size_t b = 0; !rc && b < nR; b++) {
      size_t ch[2] = {snd[a], rcv[b]};
      for (size_t f = 0; f < F; f++)
        for (int i = 0; i < 2; i++)
          for (int j = 0; j < 2; j++) sub[f * 4 + (size_t)(2 * i + j)] = S[(f * C + ch[i]) * C + ch[j]];
      spy_granger_info gi;
      if ((rc = spy_granger(sub, F, 2, g, &gi, err))) break;
      for (size_t f = 0; f < F; f++) out[(f * nS + a) * nR + b] = (float)g[f * 4 + 1];
    }
  free(S);
  free(sub);
  free(g);
  return rc;
}

int spy_conn_spectral(const cJSON *cfg, spy_data *in, const spy_selection *sel, spy_data *out,
                      bool quiet, spy_err *err)
{
  char act[512];
  int rc;
  common cm;
  if ((rc = check_common(cfg, true, &cm, err))) return rc;
  int method = cm.method;
  if (method == CORR)
    return spy_fail_value(err, "data", "SpectralData", "AnalogData instance as input for method corr");
  size_t nt = sel->ntrials;
  if (nt == 1)
    return spy_fail_value(err, "data", "only one trial",
                          "multi-trial input data, spectral connectivity measures critically "
                          "depend on trial averaging!");
  if (cm.keeptrials && method != CSD)
    return spy_fail_value(err, "keeptrials", "True", "False, trial averaging needed for method %s!",
                          methods[method]);
  if (in->dtype != SPY_DT_C64 && in->dtype != SPY_DT_C128)
    return spy_fail_value(err, "data", "real valued spectral data",
                          "complex valued spectra, set `output='fourier'` in spy.freqanalysis!");
  bool tf = false;
  for (size_t k = 0; k < nt; k++) tf |= sel->nrows[k] != 1;
  if (method == GRANGER && tf)
    return spy_fail(err, SPY_ENOTSUP,
                    "NotImplementedError: Time resolved Granger causality from tf-spectra not "
                    "available atm");
  check_effective(cfg, "SpectralDyadicProduct", valid_dyadic);
  /* channelcmb = {senders, receivers} */
  const cJSON *cmb = spy_cfg_item(cfg, "channelcmb");
  size_t *snd = NULL, *rcv = NULL, nS = 0, nR = 0;
  if (!isnone(cmb)) {
    int type = 0;
    if (!cJSON_IsArray(cmb)) return spy_fail_type(err, "channelcmb", "list", spy_lua_typename(cmb));
    if (cJSON_GetArraySize(cmb) != 2) {
      snprintf(act, sizeof act, "length of %d", cJSON_GetArraySize(cmb));
      return spy_fail_value(err, "channelcmb", act,
                            "list with exactly two elements: [senders, receivers]");
    }
    if (sel->channel_selected)
      return spy_fail_value(err, "select/channelcmb", "both",
                            "either channel selection or use channelcmb");
    if ((rc = cmb_side(cJSON_GetArrayItem(cmb, 0), "channelcmb[1] (senders)", in, &type, &snd, &nS,
                       err)) ||
        (rc = cmb_side(cJSON_GetArrayItem(cmb, 1), "channelcmb[2] (receivers)", in, &type, &rcv,
                       &nR, err))) {
      free(snd);
      free(rcv);
      return rc;
    }
  }
  bool pick = snd != NULL;
  conn_plan p = {0};
  p.method = method;
  if (method == COH) {
    if (index_of(outputs, cm.output) < 0) {
      spy_py_str(cm.outv, act, sizeof act);
      return spy_fail_value(err, "output", act,
                            "one of ('abs', 'pow', 'complex', 'fourier', 'angle', 'real', 'imag')");
    }
    spy_specout_parse(cm.output, &p.output);
  }
  if (method == PPC) check_effective(cfg, "PPC_column", valid_ppc_spectral);
  if (method == GRANGER) check_effective(cfg, "GrangerCausality", valid_granger_spectral);
  p.average = !cm.keeptrials;
  size_t C = sel->nchan, F = sel->nfreq, K = sel->ntaper, R = sel->nrows[0];
  size_t Kin = in->shape[1], Fin = in->shape[2], maxrows = 0, total = 0;
  for (size_t k = 0; k < nt; k++) {
    if (p.average && sel->nrows[k] != R)
      return spy_fail(err, SPY_ENOTSUP,
                      "Averaging trials of unequal lengths in output currently not supported!");
    maxrows = sel->nrows[k] > maxrows ? sel->nrows[k] : maxrows;
    total += sel->nrows[k];
  }
  p.C = C;
  p.K = K;
  p.nfreq = R * F; /* finalize treats (row, freq) as one axis */
  spy_dtype dt = method == CSD || (method == COH && p.output == SPY_OUT_FOURIER) ? SPY_DT_C64
                                                                                 : SPY_DT_F32;
  size_t P = C * (C + 1) / 2, nn = C * C;
  size_t rows_out = p.average ? R : total;
  size_t CI = pick ? nS : C, CJ = pick ? nR : C;
  size_t shape[4] = {rows_out, F, CI, CJ};
  /* beyond the machine's memory an allocation aborts under the sanitizers or
  ** thrashes with overcommit: refuse it by name */
  double need = (double)maxrows * Kin * Fin * C * sizeof(double complex) +
                (p.average ? 2.0 * R * F * P * sizeof(double) : 0) +
                (double)maxrows * F * nn * spy_dtype_size(dt) * (pick ? 2 : 1);
  if (need > (double)spy_physical_memory()) {
    free(snd);
    free(rcv);
    cJSON_Delete(p.info);
    return spy_fail(err, SPY_ENOMEM,
                    "connectivityanalysis needs %.1f GB in memory, more than this machine has "
                    "(%.1f GB); select fewer channels, frequencies or trials",
                    need / 1e9, (double)spy_physical_memory() / 1e9);
  }
  if ((rc = spy_data_create(out, dt, 4, shape, err))) {
    free(snd);
    free(rcv);
    return rc;
  }
  double complex *X = malloc((maxrows * Kin * Fin * C + 1) * sizeof *X);
  double *acc = p.average ? calloc(2 * R * F * P + 1, sizeof *acc) : NULL;
  size_t ld = C + JB; /* spectral_row's rows, zero past C */
  double *sums = calloc(2 * K * ld + 2 * P + 1, sizeof *sums);
  void *obuf = malloc((maxrows * F * nn + 1) * spy_dtype_size(dt));
  void *pbuf = pick ? malloc((maxrows * F * CI * CJ + 1) * spy_dtype_size(dt)) : obuf;
  if (method == GRANGER) p.info = granger_info_new();
  if (!X || (p.average && !acc) || !sums || !obuf || !pbuf || (method == GRANGER && !p.info)) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto done;
  }
  if (!quiet) spy_progress_begin(nt);
  size_t row0 = 0;
  double inv = 1.0 / (double)K;
  double *xr = sums, *xi = xr + K * ld, *pk = xi + K * ld;
  for (size_t k = 0; k < nt; k++) {
    if (spy_interrupted()) {
      rc = spy_fail(err, SPY_EINTR, "interrupted");
      break;
    }
    size_t Rk = sel->nrows[k];
    if ((rc = spy_data_read(in, sel->row0[k], Rk, sel->chans, C, X, SPY_DT_C128, err))) break;
    for (size_t r = 0; r < Rk; r++)
      for (size_t f = 0; f < F; f++) {
        for (size_t t = 0; t < K; t++) {
          const double complex *x = X + ((r * Kin + sel->tapers[t]) * Fin + sel->freqs[f]) * C;
          for (size_t c = 0; c < C; c++) {
            xr[t * ld + c] = creal(x[c]);
            xi[t * ld + c] = cimag(x[c]);
          }
        }
        spectral_row(xr, xi, K, C, ld, inv, pk);
        for (size_t i = 0; i < C; i++)
          for (size_t j = i; j < C; j++) {
            double re = pk[2 * upper(i, j, C)], im = pk[2 * upper(i, j, C) + 1];
            if (p.average) {
              if (method == PPC) {
                unit_vector(&re, &im);
              }
              size_t u = 2 * ((r * F + f) * P + upper(i, j, C));
              acc[u] += re;
              acc[u + 1] += im;
            } else {
              float complex *o = obuf;
              o[((r * F + f) * C + i) * C + j] = (float)re + I * (float)im;
              o[((r * F + f) * C + j) * C + i] = (float)re - I * (float)im;
            }
          }
      }
    if (pick && !p.average) select_pairs(obuf, Rk * F, C, snd, nS, rcv, nR, dt, pbuf);
    if (!p.average && (rc = spy_data_write(out, row0, Rk, 0, CJ, pbuf, dt, err))) break;
    row0 += Rk;
    if (!quiet) spy_progress_update(k + 1);
  }
  if (!quiet) spy_progress_end(rc == SPY_OK);
  if (rc) goto done;
  if (p.average) {
    if (pick && method == GRANGER) {
      rc = pairwise_granger(acc, nt, F, C, snd, nS, rcv, nR, pbuf, err);
    } else {
      rc = conn_finalize(&p, acc, nt, obuf, err);
      if (!rc && pick) select_pairs(obuf, R * F, C, snd, nS, rcv, nR, dt, pbuf);
    }
    if (rc || (rc = spy_data_write(out, 0, R, 0, CJ, pbuf, dt, err))) goto done;
  }

  /* metadata: Syncopy's propagate_properties */
  size_t ntr_out = p.average ? 1 : nt, cols = sel->trlcols;
  double *trl = calloc(ntr_out * cols + 1, sizeof *trl);
  double *fv = malloc((F + 1) * sizeof *fv);
  const char **lab = malloc((C + nS + nR + 1) * sizeof *lab);
  if (!trl || !fv || !lab) {
    free(trl), free(fv), free(lab);
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto done;
  }
  for (size_t k = 0; k < ntr_out; k++) {
    for (size_t c = 0; c < cols; c++) trl[k * cols + c] = sel->trldef[k * cols + c];
    if (!tf) { /* trials stacked [k, k+1, ...], averaged [0, 1, 0] */
      trl[k * cols] = (double)k;
      trl[k * cols + 1] = (double)k + 1;
      if (p.average && method != PPC) trl[k * cols + 2] = 0; /* ppc: the first trial's */
    }
  }
  for (size_t f = 0; f < F; f++) fv[f] = in->freq[sel->freqs[f]];
  for (size_t c = 0; c < C; c++) lab[c] = in->channel[sel->chans[c]];
  for (size_t c = 0; c < nS; c++) lab[C + c] = in->channel[snd[c]];
  for (size_t c = 0; c < nR; c++) lab[C + nS + c] = in->channel[rcv[c]];
  out->samplerate = in->samplerate;
  if (spy_data_set_trldef(out, trl, ntr_out, p.average ? (tf || method == PPC ? cols : 3) : cols) ||
      spy_data_set_freq(out, fv, F) || spy_data_set_channel(out, pick ? lab + C : lab, CI) ||
      spy_data_set_channel_j(out, pick ? lab + C + nS : lab, CJ))
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
  free(trl);
  free(fv);
  free(lab);
  if (!rc && p.info && !pick) { /* Syncopy's pairwise Granger result has no info */
    const cJSON *e;
    cJSON_ArrayForEach(e, p.info) cJSON_AddItemToObject(out->info, e->string, cJSON_Duplicate(e, 1));
  }
  if (!rc) rc = spy_data_sync_meta(out, err);
done:
  free(X);
  free(acc);
  free(sums);
  if (pbuf != obuf) free(pbuf);
  free(obuf);
  free(snd);
  free(rcv);
  cJSON_Delete(p.info);
  return rc;
}

/* ---- jackknife ------------------------------------------------------------- */

/*
** Leave-one-out replicates of coh or granger (Syncopy's jackknife): the mean
** cross spectrum M of the N trials (a csd run), then per trial k the
** replicate R_k = (N M - CS_k) / (N - 1) through the same normalisation or
** Granger factorisation, v_k.  bias = (N - 1)(mean_k v_k - direct),
** var = (N - 1) sum_k (mean_k v_k - v_k)^2 (no 1/N, as Syncopy), from the
** running sums of v and v^2, so one trial is in memory at a time.  `direct`
** is the result already computed (out's data); jack_var and jack_bias are
** written into out's file as float32 datasets of its shape.
*/
int spy_conn_jackknife(const cJSON *cfg, spy_data *in, const spy_selection *sel, spy_data *out,
                       spy_err *err)
{
  /* the plan validated cfg (and gave its warnings): only read it here */
  int rc;
  const cJSON *mv = spy_cfg_item(cfg, "method"), *ov = spy_cfg_item(cfg, "output");
  int method = cJSON_IsString(mv) ? index_of(methods, mv->valuestring) : -1;
  if (!cJSON_IsTrue(spy_cfg_item(cfg, "jackknife")) || (method != COH && method != GRANGER))
    return SPY_OK;
  const char *output = cJSON_IsString(ov) ? ov->valuestring : "abs";
  size_t nt = sel->ntrials;
  cJSON *c1 = cJSON_Duplicate(cfg, 1);
  if (!c1) return spy_fail(err, SPY_ENOMEM, "out of memory");
  cJSON_ReplaceItemInObject(c1, "method", cJSON_CreateString("csd"));
  cJSON_ReplaceItemInObject(c1, "keeptrials", cJSON_CreateTrue());
  cJSON_ReplaceItemInObject(c1, "jackknife", cJSON_CreateFalse());
  cJSON_ReplaceItemInObject(c1, "output", cJSON_CreateString("abs"));
  spy_trials tr = {nt, sel->nchan, in->samplerate, sel->trldef, sel->trlcols, in->dtype,
                   sel->time_selected};
  spy_op op; /* single-trial cross spectra */
  /* Granger's replicates need its own (de-meaned) cross spectra */
  rc = plan_conn(c1, &tr, method == GRANGER, &op, err);
  cJSON_Delete(c1);
  if (rc) return rc;
  const conn_plan *p = op.plan;
  size_t C = p->C, F = p->nfreq, nn = C * C, E = F * nn, maxs = 0;
  for (size_t k = 0; k < nt; k++) maxs = sel->nrows[k] > maxs ? sel->nrows[k] : maxs;
  double *x = malloc((maxs * C + 1) * sizeof *x);
  void *scratch = spy_fft_alloc(op.scratch_bytes(op.plan, maxs, C) + 64);
  float complex *cs = malloc((E + 1) * sizeof *cs);
  double complex *M = calloc(E + 1, sizeof *M), *R = malloc((E + 1) * sizeof *R);
  double *v = malloc((E + 1) * sizeof *v), *s1 = calloc(E + 1, sizeof *s1);
  double *s2 = calloc(E + 1, sizeof *s2), *direct = malloc((E + 1) * sizeof *direct);
  float *jv = malloc((E + 1) * sizeof *jv), *jb = malloc((E + 1) * sizeof *jb);
  conn_plan q = {0}; /* the normalisation (coh: output conversion) of a replicate */
  q.method = method;
  q.C = C;
  q.nfreq = F;
  spy_specout_parse(method == COH ? output : "abs", &q.output);
  if (!x || !scratch || !cs || !M || !R || !v || !s1 || !s2 || !direct || !jv || !jb) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto done;
  }
  /* two passes over the trials: the mean, then the replicates */
  for (int pass = 0; pass < 2 && !rc; pass++)
    for (size_t k = 0; k < nt && !rc; k++) {
      if (spy_interrupted()) {
        rc = spy_fail(err, SPY_EINTR, "interrupted");
        break;
      }
      size_t L = sel->nrows[k];
      if ((rc = spy_data_read(in, sel->row0[k], L, sel->chans, C, x, SPY_DT_F64, err))) break;
      spy_task t = {k, 0, C, x, L, cs, 1, scratch, 0};
      if ((rc = op.kernel(op.plan, &t, err))) break;
      if (pass == 0) {
        for (size_t e = 0; e < E; e++) M[e] += cs[e];
        continue;
      }
      double Nd = (double)nt;
      for (size_t e = 0; e < E; e++) R[e] = (M[e] - (double complex)cs[e]) / (Nd - 1);
      if (method == COH) {
        for (size_t f = 0; f < F; f++)
          for (size_t i = 0; i < C; i++)
            for (size_t j = 0; j < C; j++) {
              size_t e = (f * C + i) * C + j;
              v[e] = convert(R[e] / csqrt(R[(f * C + i) * C + i] * R[(f * C + j) * C + j]), q.output);
            }
      } else {
        spy_granger_info gi;
        if ((rc = spy_granger(R, F, C, v, &gi, err))) break;
      }
      for (size_t e = 0; e < E; e++) {
        s1[e] += v[e];
        s2[e] += v[e] * v[e];
      }
    }
  if (rc) goto done;
  if ((rc = spy_data_read(out, 0, 1, NULL, C, direct, SPY_DT_F64, err))) goto done;
  double Nd = (double)nt;
  for (size_t e = 0; e < E; e++) {
    double mean = s1[e] / Nd, var = s2[e] - Nd * mean * mean;
    jv[e] = (float)((Nd - 1) * (var > 0 ? var : 0));
    jb[e] = (float)((Nd - 1) * (mean - direct[e]));
  }
  size_t shape[4] = {1, F, C, C};
  spy_array *a = spy_array_new(SPY_DT_F32, 4, shape), *b = spy_array_new(SPY_DT_F32, 4, shape);
  if (!a || !b) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
  } else {
    memcpy(a->buf->data, jv, E * sizeof *jv);
    memcpy(b->buf->data, jb, E * sizeof *jb);
    rc = spy_data_put_extra(out, "jack_var", a, err);
    if (!rc) rc = spy_data_put_extra(out, "jack_bias", b, err);
  }
  spy_array_free(a);
  spy_array_free(b);
done:
  free(x);
  spy_fft_free(scratch);
  free(cs);
  free(M);
  free(R);
  free(v);
  free(s1);
  free(s2);
  free(direct);
  free(jv);
  free(jb);
  spy_op_free(&op);
  return rc;
}
