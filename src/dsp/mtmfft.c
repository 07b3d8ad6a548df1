#include "dsp/mtmfft.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/interrupt.h"
#include "core/sizeset.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Target size of one batched transform (input + output), so a block's
** fill, FFT and conversion mostly stay in cache.  512 KB (32 transforms
** of 1000 points x 32 channels) rather than 2 MB: FFTW's batches of 128
** ran slower here; case b's CPU time fell about 5-9%, results identical. */
#define BLOCK_BYTES ((size_t)512 << 10)

typedef struct mtmfft_plan {
  size_t N, nc, K, nfreq;
  size_t *fidx;
  spy_specout output;
  bool avg; /* mean over the K tapers */
  bool demean_taper, ft_compat;
  int poly;
  size_t nlen;        /* distinct trial lengths */
  size_t *lens;       /* ascending */
  double **w;         /* per length: K x L normalised tapers */
  spy_mtm_corr *corr; /* per length: detrending corrections (NULL if none) */
} mtmfft_plan;

/* ---- shared pieces ------------------------------------------------------- */

size_t spy_mtm_block(size_t n, size_t per, size_t cap)
{
  if (n == 0) return 1;
  size_t most = per ? cap / per : n;
  if (most < 1) most = 1;
  if (most > n) most = n;
  size_t nblocks = (n + most - 1) / most;
  return (n + nblocks - 1) / nblocks;
}

fftw_plan spy_mtm_fftplan(size_t n, size_t howmany, spy_err *err)
{
  if (n > (size_t)1 << 30 || howmany > (size_t)1 << 30) {
    spy_fail(err, SPY_EINVAL, "FFT too large (length %zu, %zu transforms)", n, howmany);
    return NULL;
  }
  spy_fft_geom g = {SPY_FFT_R2C, (int)n, (int)howmany, 1, (int)n, 1, (int)(n / 2 + 1), false};
  return spy_fft_plan(&g, err);
}

int spy_mtm_bins(const char *method, const size_t *fidx, size_t nfreq, size_t nc, size_t **out,
                 spy_err *err)
{
  if (!(*out = malloc((nfreq ? nfreq : 1) * sizeof **out)))
    return spy_fail(err, SPY_ENOMEM, "out of memory planning %s", method);
  for (size_t i = 0; i < nfreq; i++) {
    if (fidx[i] >= nc)
      return spy_fail(err, SPY_EINVAL, "%s: frequency index %zu beyond the %zu bins", method,
                      fidx[i], nc);
    (*out)[i] = fidx[i];
  }
  return SPY_OK;
}

int spy_mtm_tapers(const char *method, const spy_taper *t, const size_t *lens, size_t nlen,
                   size_t nfft, double ***w, spy_err *err)
{
  if (!(*w = calloc(nlen ? nlen : 1, sizeof **w)))
    return spy_fail(err, SPY_ENOMEM, "out of memory planning %s", method);
  for (size_t i = 0; i < nlen; i++) {
    size_t L = lens[i];
    if (!((*w)[i] = malloc((L ? L : 1) * t->K * sizeof(double))))
      return spy_fail(err, SPY_ENOMEM, "out of memory planning %s", method);
    int rc = spy_taper_compute(t, L, nfft ? nfft : L, true, (*w)[i], err);
    if (rc) return rc;
  }
  return SPY_OK;
}

int spy_mtm_axes(spy_op *op, const spy_taper *t, bool keeptapers, spy_specout output,
                 const size_t *fidx, size_t nfreq, size_t nfft, double samplerate)
{
  size_t nlab = keeptapers ? t->K : 1;
  op->cls = SPY_SPECTRAL;
  op->out_dtype = spy_specout_dtype(output);
  op->ninner = 2;
  op->inner[0] = nlab;
  op->inner[1] = nfreq;
  if (!(op->freq = malloc((nfreq ? nfreq : 1) * sizeof *op->freq))) return SPY_ENOMEM;
  op->nfreq = nfreq;
  for (size_t i = 0; i < nfreq; i++)
    op->freq[i] = spy_rfftfreq(fidx[i], nfft, samplerate);
  char(*lab)[32] = malloc(nlab * sizeof *lab);
  const char **labs = malloc(nlab * sizeof *labs);
  int rc = SPY_ENOMEM;
  if (lab && labs) {
    for (size_t k = 0; k < nlab; k++) {
      spy_taper_label(t, k, lab[k], sizeof lab[k]);
      labs[k] = lab[k];
    }
    rc = spy_op_set_tapers(op, labs, nlab);
  }
  free(lab);
  free(labs);
  return rc;
}

int spy_mtm_warm(size_t n, size_t nchan, size_t chunk, size_t (*howmany)(const void *, size_t),
                 const void *ctx, spy_err *err)
{
  size_t sizes[2] = {nchan, 0};
  if (chunk && chunk < nchan) {
    sizes[0] = chunk;
    sizes[1] = nchan % chunk;
  }
  for (int i = 0; i < 2; i++)
    if (sizes[i] && !spy_mtm_fftplan(n, howmany(ctx, sizes[i]), err)) return err ? err->code : -1;
  return SPY_OK;
}

/* ---- one transform ------------------------------------------------------- */

static size_t block_tapers(const spy_mtm_args *a, size_t C)
{
  size_t nc = a->N / 2 + 1;
  return spy_mtm_block(a->K, C * (a->N * sizeof(double) + nc * sizeof(double complex)),
                       BLOCK_BYTES);
}

/* Scratch regions, in order: transposed data (C x L, several tapers
** only), trend (2C), transpose tile (8C), tapered means (rows,
** demean_taper), FFT input (rows x N), FFT output (rows x nc), taper
** accumulator (nfreq x C complex, averaging only). */
typedef struct layout {
  size_t xt, stats, tile, mu, in, out, acc, total;
} layout;

static layout carve(const spy_mtm_args *a, size_t L, size_t C)
{
  layout s;
  size_t rows = block_tapers(a, C) * C, nc = a->N / 2 + 1;
  s.xt = 0;
  s.stats = s.xt + (a->K > 1 ? spy_mtm_round(C * L * sizeof(double)) : 0);
  s.tile = s.stats + spy_mtm_round(2 * C * sizeof(double));
  s.mu = s.tile + spy_mtm_round(8 * C * sizeof(double));
  s.in = s.mu + spy_mtm_round(rows * sizeof(double));
  s.out = s.in + spy_mtm_round(rows * a->N * sizeof(double));
  s.acc = s.out + spy_mtm_round(rows * nc * sizeof(double complex));
  s.total = s.acc + (a->avg ? spy_mtm_round(a->nfreq * C * sizeof(double complex)) : 0);
  return s;
}

size_t spy_mtm_scratch(const spy_mtm_args *a, size_t L, size_t C)
{
  return carve(a, L, C).total;
}

size_t spy_mtm_rows(const spy_mtm_args *a, size_t C)
{
  return block_tapers(a, C) * C;
}

/* 8 samples x all channels of the fill, through the tile. */
static void fill_tile(const double *restrict x, size_t jn, size_t C, const double *restrict w,
                      double jbar, double *restrict rows, size_t ld, double *restrict tile,
                      double *restrict sum, double *restrict sumd)
{
  for (size_t j = 0; j < jn; j++) {
    const double *restrict xr = x + j * C;
    double *restrict tr = tile + j * C, wj = w ? w[j] : 1.0;
    for (size_t c = 0; c < C; c++)
      tr[c] = wj * xr[c];
    if (sum)
      for (size_t c = 0; c < C; c++)
        sum[c] += xr[c];
    if (sumd) {
      double d = (double)j - jbar;
      for (size_t c = 0; c < C; c++)
        sumd[c] += d * xr[c];
    }
  }
  for (size_t c = 0; c < C; c++)
    for (size_t j = 0; j < jn; j++)
      rows[c * ld + j] = tile[j * C + c];
}

#ifdef __SSE2__
/* The same for 8 samples x an even number of channels, two by two: 2 x 2
** blocks transposed in registers, no tile. */
static void fill_pairs(const double *restrict x, size_t C, const double *restrict w, double jbar,
                       double *restrict rows, size_t ld, double *restrict sum,
                       double *restrict sumd)
{
  for (size_t c = 0; c + 1 < C; c += 2) {
    __m128d s = sum ? _mm_loadu_pd(sum + c) : _mm_setzero_pd();
    __m128d sd = sumd ? _mm_loadu_pd(sumd + c) : _mm_setzero_pd();
    for (size_t j = 0; j < 8; j += 2) {
      __m128d a = _mm_loadu_pd(x + j * C + c), b = _mm_loadu_pd(x + (j + 1) * C + c);
      s = _mm_add_pd(s, _mm_add_pd(a, b));
      if (sumd)
        sd = _mm_add_pd(sd, _mm_add_pd(_mm_mul_pd(a, _mm_set1_pd((double)j - jbar)),
                                       _mm_mul_pd(b, _mm_set1_pd((double)j + 1 - jbar))));
      if (w) {
        a = _mm_mul_pd(a, _mm_set1_pd(w[j]));
        b = _mm_mul_pd(b, _mm_set1_pd(w[j + 1]));
      }
      _mm_storeu_pd(rows + c * ld + j, _mm_unpacklo_pd(a, b));
      _mm_storeu_pd(rows + (c + 1) * ld + j, _mm_unpackhi_pd(a, b));
    }
    if (sum) _mm_storeu_pd(sum + c, s);
    if (sumd) _mm_storeu_pd(sumd + c, sd);
  }
}
#endif

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define FILL_AVX 1
/* The same for 8 samples x a multiple of 4 channels, four by four: 4 x 4
** blocks transposed in AVX registers.  Each channel's sums are formed in
** the order of fill_pairs (samples added two by two, no fused
** multiply-add), so the numbers are those of the SSE2 path. */
__attribute__((target("avx"))) static void
fill_quads(const double *restrict x, size_t n8, size_t C, const double *restrict w, double jbar,
           double *restrict rows, size_t ld, double *restrict sum, double *restrict sumd)
{
  for (size_t j0 = 0; j0 < 8 * n8; j0 += 8) {
    const double *xj = x + j0 * C;
    double jb = jbar - (double)j0;
    if (j0 + 24 < 8 * n8)
      for (size_t b = 0; b < 8 * C; b += 8) __builtin_prefetch(xj + 16 * C + b);
    for (size_t c = 0; c < C; c += 4) {
      __m256d r[8];
      for (int j = 0; j < 8; j++) r[j] = _mm256_loadu_pd(xj + (size_t)j * C + c);
      if (sum) {
        __m256d s = _mm256_loadu_pd(sum + c);
        for (int j = 0; j < 8; j += 2) s = _mm256_add_pd(s, _mm256_add_pd(r[j], r[j + 1]));
        _mm256_storeu_pd(sum + c, s);
      }
      if (sumd) {
        __m256d sd = _mm256_loadu_pd(sumd + c);
        for (int j = 0; j < 8; j += 2)
          sd = _mm256_add_pd(sd, _mm256_add_pd(_mm256_mul_pd(r[j], _mm256_set1_pd(j - jb)),
                                               _mm256_mul_pd(r[j + 1], _mm256_set1_pd(j + 1 - jb))));
        _mm256_storeu_pd(sumd + c, sd);
      }
      for (int h = 0; h < 8; h += 4) {
        __m256d t0 = _mm256_unpacklo_pd(r[h], r[h + 1]), t1 = _mm256_unpackhi_pd(r[h], r[h + 1]);
        __m256d t2 = _mm256_unpacklo_pd(r[h + 2], r[h + 3]);
        __m256d t3 = _mm256_unpackhi_pd(r[h + 2], r[h + 3]);
        __m256d col[4] = {_mm256_permute2f128_pd(t0, t2, 0x20), _mm256_permute2f128_pd(t1, t3, 0x20),
                          _mm256_permute2f128_pd(t0, t2, 0x31), _mm256_permute2f128_pd(t1, t3, 0x31)};
        __m256d wv = w ? _mm256_loadu_pd(w + j0 + (size_t)h) : _mm256_set1_pd(1.0);
        for (size_t q = 0; q < 4; q++)
          _mm256_storeu_pd(rows + (c + q) * ld + j0 + (size_t)h,
                           w ? _mm256_mul_pd(col[q], wv) : col[q]);
      }
    }
  }
}

/* libgcc fills the CPU model in a constructor; the test is a load and a bit
** test, so nothing is cached here (a cached static was a data race). */
static bool have_avx(void) { return __builtin_cpu_supports("avx"); }
#endif

void spy_mtm_fill(const double *restrict x, size_t n, size_t C, const double *restrict w,
                  double jbar, double *restrict rows, size_t ld, double *restrict tile,
                  double *restrict sum, double *restrict sumd)
{
  size_t start = 0;
#ifdef FILL_AVX
  if (C % 4 == 0 && n >= 8 && have_avx()) {
    start = n / 8 * 8;
    fill_quads(x, n / 8, C, w, jbar, rows, ld, sum, sumd);
  }
#endif
  for (size_t j0 = start; j0 < n; j0 += 8) {
    size_t jn = n - j0 < 8 ? n - j0 : 8;
    const double *xj = x + j0 * C, *wj = w ? w + j0 : NULL;
    if (j0 + 24 < n) /* input arriving from memory: ask for the tile after next */
      for (size_t b = 0; b < 8 * C; b += 8)
        __builtin_prefetch(xj + 16 * C + b);
#ifdef __SSE2__
    if (jn == 8 && C % 2 == 0) {
      fill_pairs(xj, C, wj, jbar - (double)j0, rows + j0, ld, sum, sumd);
      continue;
    }
#endif
    fill_tile(xj, jn, C, wj, jbar - (double)j0, rows + j0, ld, tile, sum, sumd);
  }
}

void spy_mtm_trend(int order, size_t L, size_t C, const double *sum, const double *sumd,
                   double *mean, double *slope)
{
  double sxx = (double)L * ((double)L * L - 1) / 12;
  for (size_t c = 0; c < C; c++) {
    double m = order >= 0 && L ? sum[c] / (double)L : 0;
    double b = order == 1 && L > 1 ? sumd[c] / sxx : 0;
    mean[c] = m;
    slope[c] = b;
  }
}

void spy_mtm_corr_free(spy_mtm_corr *c)
{
  if (!c) return;
  free(c->W);
  free(c->V);
  free(c->D);
  free(c->W0);
  free(c->V0);
  memset(c, 0, sizeof *c);
}

int spy_mtm_corr_make(const double *w, size_t K, size_t L, size_t N, const size_t *fidx,
                      size_t nfreq, bool linear, bool demean, size_t rows, spy_mtm_corr *c,
                      spy_err *err)
{
  memset(c, 0, sizeof *c);
  size_t nc = N / 2 + 1, Lc = L < N ? L : N, nf = nfreq ? nfreq : 1;
  size_t ntr = K * (linear ? 2 : 1) + (demean ? 1 : 0);
  double nbar = (double)(L > 0 ? L - 1 : 0) / 2;
  c->W = malloc(K * nf * sizeof *c->W);
  c->V = linear ? malloc(K * nf * sizeof *c->V) : NULL;
  c->D = demean ? malloc(nf * sizeof *c->D) : NULL;
  c->W0 = calloc(K, sizeof *c->W0);
  c->V0 = calloc(K, sizeof *c->V0);
  double *in = spy_fft_alloc(rows * N * sizeof *in);
  double complex *F = spy_fft_alloc(rows * nc * sizeof *F);
  fftw_plan fp = spy_mtm_fftplan(N, rows, err);
  int rc = SPY_OK;
  if (!c->W || (linear && !c->V) || (demean && !c->D) || !c->W0 || !c->V0 || !in || !F)
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
  else if (!fp)
    rc = err ? err->code : SPY_ERUNTIME;
  /* transform t: taper t (W), taper t-K times (n - nbar) (V), ones (D) */
  for (size_t t0 = 0; !rc && t0 < ntr; t0 += rows) {
    memset(in, 0, rows * N * sizeof *in);
    for (size_t t = t0; t < ntr && t < t0 + rows; t++) {
      double *r = in + (t - t0) * N;
      for (size_t n = 0; n < Lc; n++) {
        if (t < K)
          r[n] = w[t * L + n];
        else if (linear && t < 2 * K)
          r[n] = w[(t - K) * L + n] * ((double)n - nbar);
        else
          r[n] = 1;
      }
      for (size_t n = 0; n < L; n++) { /* the DC sums over every sample */
        if (t < K)
          c->W0[t] += w[t * L + n];
        else if (linear && t < 2 * K)
          c->V0[t - K] += w[(t - K) * L + n] * ((double)n - nbar);
      }
    }
    fftw_execute_dft_r2c(fp, in, (fftw_complex *)F);
    for (size_t t = t0; t < ntr && t < t0 + rows; t++) {
      const double complex *row = F + (t - t0) * nc;
      double complex *dst =
          t < K ? c->W + t * nf : (linear && t < 2 * K ? c->V + (t - K) * nf : c->D);
      for (size_t i = 0; i < nfreq; i++)
        dst[i] = row[fidx[i]];
    }
  }
  spy_fft_free(in);
  spy_fft_free(F);
  if (rc) spy_mtm_corr_free(c);
  return rc;
}

/* Frequencies per pass of the conversion: the output block (16 x C) and
** the spectra read (C rows of 16 bins) stay in L1. */
#define FBLOCK 16

/* Power of one channel's bin; the scalar path of spy_mtm_pow. */
static inline double pow1(const double complex *row, size_t bin, const double complex *W,
                          const double complex *V, size_t f, double m, double b)
{
  double complex v = spy_mtm_bin(row[bin], W, V, NULL, f, m, b, 0);
  return creal(v) * creal(v) + cimag(v) * cimag(v);
}

double spy_mtm_pow(const double complex *F, size_t nc, size_t C, const size_t *fidx, size_t nf,
                   const double complex *W, const double complex *V, const double *mean,
                   const double *slope, double s2, float *out, double *acc)
{
  double chk = 0;
  for (size_t f0 = 0; f0 < nf; f0 += FBLOCK) {
    size_t f1 = f0 + FBLOCK < nf ? f0 + FBLOCK : nf, c = 0;
#ifdef __SSE2__
    /* two channels at a time: their bins in two registers, the power of
    ** both in one, stored as two adjacent floats */
    __m128d vs2 = _mm_set1_pd(s2), vchk = _mm_setzero_pd();
    for (; c + 1 < C; c += 2) {
      const double *ra = (const double *)(F + c * nc), *rb = (const double *)(F + (c + 1) * nc);
      __m128d ma = _mm_set1_pd(mean[c]), mb = _mm_set1_pd(mean[c + 1]);
      __m128d ba = _mm_set1_pd(slope[c]), bb = _mm_set1_pd(slope[c + 1]);
      for (size_t f = f0; f < f1; f++) {
        size_t i = 2 * fidx[f];
        __m128d A = _mm_loadu_pd(ra + i), B = _mm_loadu_pd(rb + i);
        if (W) {
          __m128d w = _mm_loadu_pd((const double *)(W + f));
          A = _mm_sub_pd(A, _mm_mul_pd(ma, w));
          B = _mm_sub_pd(B, _mm_mul_pd(mb, w));
        }
        if (V) {
          __m128d v = _mm_loadu_pd((const double *)(V + f));
          A = _mm_sub_pd(A, _mm_mul_pd(ba, v));
          B = _mm_sub_pd(B, _mm_mul_pd(bb, v));
        }
        A = _mm_mul_pd(A, A);
        B = _mm_mul_pd(B, B);
        __m128d pw = _mm_mul_pd(_mm_add_pd(_mm_unpacklo_pd(A, B), _mm_unpackhi_pd(A, B)), vs2);
        vchk = _mm_add_pd(vchk, pw);
        if (out) {
          _mm_storel_pi((__m64 *)(out + f * C + c), _mm_cvtpd_ps(pw));
        } else {
          _mm_storeu_pd(acc + f * C + c, _mm_add_pd(_mm_loadu_pd(acc + f * C + c), pw));
        }
      }
    }
    double t[2];
    _mm_storeu_pd(t, vchk);
    chk += t[0] + t[1];
#endif
    for (; c < C; c++) {
      const double complex *row = F + c * nc;
      for (size_t f = f0; f < f1; f++) {
        double pw = pow1(row, fidx[f], W, V, f, mean[c], slope[c]) * s2;
        if (out)
          out[f * C + c] = (float)pw;
        else
          acc[f * C + c] += pw;
        chk += pw;
      }
    }
  }
  return chk;
}

double spy_mtm_emit(const double complex *F, size_t nc, size_t C, const size_t *fidx, size_t nf,
                    const double complex *W, const double complex *V, const double complex *D,
                    const double *mean, const double *slope, const double *mu, double scale,
                    spy_specout output, void *out)
{
  double s2 = scale * scale, chk = 0;
  if (output == SPY_OUT_POW && !D)
    return spy_mtm_pow(F, nc, C, fidx, nf, W, V, mean, slope, s2, out, NULL);
  for (size_t f0 = 0; f0 < nf; f0 += FBLOCK) {
    size_t f1 = f0 + FBLOCK < nf ? f0 + FBLOCK : nf;
    for (size_t c = 0; c < C; c++) {
      const double complex *row = F + c * nc;
      double m = mean[c], b = slope[c], u = mu ? mu[c] : 0;
      if (output == SPY_OUT_POW) {
        float *o = (float *)out + c;
        for (size_t f = f0; f < f1; f++) {
          double complex v = spy_mtm_bin(row[fidx[f]], W, V, D, f, m, b, u);
          double pw = (creal(v) * creal(v) + cimag(v) * cimag(v)) * s2;
          o[f * C] = (float)pw;
          chk += pw;
        }
      } else if (output == SPY_OUT_FOURIER) {
        float complex *o = (float complex *)out + c;
        for (size_t f = f0; f < f1; f++) {
          double complex v = spy_mtm_bin(row[fidx[f]], W, V, D, f, m, b, u) * scale;
          o[f * C] = (float complex)v;
          chk += creal(v) + cimag(v);
        }
      } else {
        float *o = (float *)out + c;
        for (size_t f = f0; f < f1; f++) {
          double v = creal(
              spy_specout_value(output, spy_mtm_bin(row[fidx[f]], W, V, D, f, m, b, u) * scale));
          o[f * C] = (float)v;
          chk += v;
        }
      }
    }
  }
  return chk;
}

/* Converts one block of tapers' spectra (detrending corrections applied)
** into the output row, or adds them to the taper accumulator; returns a
** sum that is NaN when an output is. */
static double emit(const spy_mtm_args *a, const double complex *F, size_t k0, size_t kn, size_t C,
                   const double *mean, const double *slope, const double *mu, void *out,
                   double complex *acc)
{
  size_t nf = a->nfreq, nc = a->N / 2 + 1;
  const size_t *fi = a->fidx;
  const spy_mtm_corr *cr = a->corr;
  double scale = a->scale, s2 = scale * scale, chk = 0;
  size_t es = a->output == SPY_OUT_FOURIER ? sizeof(float complex) : sizeof(float);
  for (size_t k = k0; k < k0 + kn; k++) {
    const double complex *Fk = F + (k - k0) * C * nc;
    const double complex *W = cr && a->poly >= 0 ? cr->W + k * nf : NULL;
    const double complex *V = cr && cr->V && a->poly == 1 ? cr->V + k * nf : NULL;
    const double complex *D = cr && a->demean_taper ? cr->D : NULL;
    const double *muk = mu ? mu + (k - k0) * C : NULL;
    if (!a->avg) {
      chk += spy_mtm_emit(Fk, nc, C, fi, nf, W, V, D, mean, slope, muk, scale, a->output,
                          (char *)out + k * nf * C * es);
      continue;
    }
    if (a->output == SPY_OUT_POW && !D) {
      chk += spy_mtm_pow(Fk, nc, C, fi, nf, W, V, mean, slope, s2, NULL, (double *)acc);
      continue;
    }
    for (size_t f0 = 0; f0 < nf; f0 += FBLOCK) {
      size_t f1 = f0 + FBLOCK < nf ? f0 + FBLOCK : nf;
      for (size_t c = 0; c < C; c++) {
        const double complex *row = Fk + c * nc;
        double m = mean[c], b = slope[c], u = muk ? muk[c] : 0;
        if (a->output == SPY_OUT_POW) {
          double *o = (double *)acc + c;
          for (size_t f = f0; f < f1; f++) {
            double complex v = spy_mtm_bin(row[fi[f]], W, V, D, f, m, b, u);
            o[f * C] += (creal(v) * creal(v) + cimag(v) * cimag(v)) * s2;
          }
        } else {
          for (size_t f = f0; f < f1; f++)
            acc[f * C + c] +=
                spy_specout_value(a->output, spy_mtm_bin(row[fi[f]], W, V, D, f, m, b, u) * scale);
        }
      }
    }
  }
  return chk;
}

int spy_mtm_transform(const spy_mtm_args *a, const double *x, size_t L, size_t C, void *out,
                      void *scratch, unsigned *flags, spy_err *err)
{
  size_t N = a->N, K = a->K, kb = block_tapers(a, C), Lc = L < N ? L : N, nc = N / 2 + 1;
  const double *w = a->w;
  const spy_mtm_corr *cr = a->corr;
  if ((a->poly >= 0 || a->demean_taper) && !cr)
    return spy_fail(err, SPY_EINVAL, "mtm: detrending needs its corrections (plan bug)");
  fftw_plan fp = spy_mtm_fftplan(N, kb * C, err);
  if (!fp) return err ? err->code : SPY_ERUNTIME;
  layout s = carve(a, L, C);
  char *base = scratch;
  double *xt = (double *)(base + s.xt), *mean = (double *)(base + s.stats), *slope = mean + C;
  double *tile = (double *)(base + s.tile), *mu = (double *)(base + s.mu);
  double *in = (double *)(base + s.in);
  double complex *F = (double complex *)(base + s.out), *acc = (double complex *)(base + s.acc);
  double nbar = (double)(L > 0 ? L - 1 : 0) / 2, chk = 0;

  /* one pass over x: transpose (taper too, for one taper) and sums */
  memset(mean, 0, 2 * C * sizeof *mean);
  double *sum = a->poly >= 0 ? mean : NULL, *sumd = a->poly == 1 ? slope : NULL;
  if (K > 1)
    spy_mtm_fill(x, L, C, NULL, nbar, xt, L, tile, sum, sumd);
  else
    spy_mtm_fill(x, Lc, C, w, nbar, in, N, tile, sum, sumd);
  for (size_t n = Lc; K == 1 && n < L; n++) /* a transform shorter than the trial */
    for (size_t c = 0; c < C; c++) {
      mean[c] += x[n * C + c];
      slope[c] += ((double)n - nbar) * x[n * C + c];
    }
  spy_mtm_trend(a->poly, L, C, mean, slope, mean, slope);
  if (a->avg) memset(acc, 0, a->nfreq * C * sizeof *acc);

  for (size_t k0 = 0; k0 < K; k0 += kb) {
    size_t kn = K - k0 < kb ? K - k0 : kb;
    for (size_t k = k0; k < k0 + kn; k++) {
      const double *wk = w + k * L;
      double *rows = in + (k - k0) * C * N;
      if (K > 1)
        for (size_t c = 0; c < C; c++) {
          double *r = rows + c * N;
          const double *v = xt + c * L;
          for (size_t n = 0; n < Lc; n++)
            r[n] = wk[n] * v[n];
        }
      if (Lc < N)
        for (size_t c = 0; c < C; c++)
          memset(rows + c * N + Lc, 0, (N - Lc) * sizeof *rows);
    }
    if (kn < kb) memset(in + kn * C * N, 0, (kb - kn) * C * N * sizeof *in);
    fftw_execute_dft_r2c(fp, in, (fftw_complex *)F);
    if (a->demean_taper) /* the tapered, detrended mean: from the DC bin */
      for (size_t k = k0; k < k0 + kn; k++)
        for (size_t c = 0; c < C; c++) {
          const double *wk = w + k * L;
          double sum = creal(F[((k - k0) * C + c) * nc]);
          for (size_t n = Lc; n < L; n++)
            sum += wk[n] * x[n * C + c];
          sum -= mean[c] * cr->W0[k] + (a->poly == 1 ? slope[c] * cr->V0[k] : 0);
          mu[(k - k0) * C + c] = sum / (double)L;
        }
    chk += emit(a, F, k0, kn, C, mean, slope, a->demean_taper ? mu : NULL, out, acc);
    if (spy_interrupted()) return SPY_EINTR;
  }

  if (a->avg) {
    size_t n = a->nfreq * C;
    if (a->output == SPY_OUT_FOURIER) {
      float complex *o = out;
      for (size_t i = 0; i < n; i++)
        o[i] = (float complex)(acc[i] / (double)K);
    } else {
      float *o = out;
      const double *ar = (const double *)acc; /* pow: a real accumulator */
      for (size_t i = 0; i < n; i++) {
        o[i] = (float)((a->output == SPY_OUT_POW ? ar[i] : creal(acc[i])) / (double)K);
        chk += o[i];
      }
    }
  }
  if (chk != chk && flags) *flags |= SPY_TASK_HAS_NAN;
  return SPY_OK;
}

/* ---- the mtmfft op --------------------------------------------------------- */

static spy_mtm_args args_for(const mtmfft_plan *p, size_t L)
{
  size_t i = spy_sizeset_find(p->lens, p->nlen, L);
  spy_mtm_args a = {.N = p->N,
                    .K = p->K,
                    .w = i < p->nlen ? p->w[i] : NULL,
                    .fidx = p->fidx,
                    .nfreq = p->nfreq,
                    .output = p->output,
                    .avg = p->avg,
                    .demean_taper = p->demean_taper,
                    .poly = p->poly,
                    .corr = i < p->nlen && p->corr ? &p->corr[i] : NULL};
  a.scale = p->ft_compat ? sqrt(2.0) / (double)p->N : sqrt(2.0) / sqrt((double)L * (double)p->N);
  return a;
}

static size_t rows_for(const void *ctx, size_t C)
{
  spy_mtm_args a = args_for(ctx, 1);
  return spy_mtm_rows(&a, C);
}

static size_t mtmfft_scratch(const void *plan, size_t nsamp, size_t nchan)
{
  spy_mtm_args a = args_for(plan, nsamp);
  return spy_mtm_scratch(&a, nsamp, nchan);
}

static void mtmfft_free(void *plan)
{
  mtmfft_plan *p = plan;
  if (!p) return;
  for (size_t i = 0; i < p->nlen; i++) {
    free(p->w ? p->w[i] : NULL);
    if (p->corr) spy_mtm_corr_free(&p->corr[i]);
  }
  free(p->w);
  free(p->corr);
  free(p->lens);
  free(p->fidx);
  free(p);
}

static int mtmfft_kernel(const void *plan, spy_task *task, spy_err *err)
{
  spy_mtm_args a = args_for(plan, task->nsamp);
  if (!a.w)
    return spy_fail(err, SPY_EINVAL, "mtmfft: no tapers planned for a trial of %zu samples",
                    task->nsamp);
  if (spy_interrupted()) return SPY_EINTR;
  return spy_mtm_transform(&a, task->in, task->nsamp, task->nchan, task->out, task->scratch,
                           &task->flags, err);
}

int spy_mtmfft_plan(const spy_mtmfft_params *prm, const spy_trials *in, spy_op *op, spy_err *err)
{
  int rc = SPY_ENOMEM;
  mtmfft_plan *p = calloc(1, sizeof *p);
  if (!p) return spy_fail(err, SPY_ENOMEM, "out of memory");
  op->plan = p;
  op->free_plan = mtmfft_free;
  op->kernel = mtmfft_kernel;
  op->scratch_bytes = mtmfft_scratch;
  op->name = "mtmfft";
  op->chan_independent = true;

  const spy_taper *t = prm->taper;
  p->N = prm->nfft;
  p->nc = p->N / 2 + 1;
  p->K = t->K;
  p->nfreq = prm->nfreq;
  p->output = prm->output;
  p->avg = !prm->keeptapers && t->K > 1;
  p->demean_taper = prm->demean_taper;
  p->ft_compat = prm->ft_compat;
  p->poly = prm->polyremoval;
  if ((rc = spy_mtm_bins("mtmfft", prm->fidx, p->nfreq, p->nc, &p->fidx, err))) goto fail;

  /* tapers per distinct trial length */
  size_t nt = in->ntrials;
  if (!(p->lens = malloc((nt ? nt : 1) * sizeof *p->lens))) goto nomem;
  for (size_t k = 0; k < nt; k++)
    p->lens[k] = spy_trial_len(in, k);
  p->nlen = spy_sizeset_make(p->lens, nt);
  if ((rc = spy_mtm_tapers("mtmfft", t, p->lens, p->nlen, p->N, &p->w, err))) goto fail;
  if ((rc = spy_mtm_warm(p->N, in->nchan, prm->chan_chunk, rows_for, p, err))) goto fail;
  if (p->poly >= 0 || p->demean_taper) {
    if (!(p->corr = calloc(p->nlen ? p->nlen : 1, sizeof *p->corr))) goto nomem;
    size_t rows =
        rows_for(p, prm->chan_chunk && prm->chan_chunk < in->nchan ? prm->chan_chunk : in->nchan);
    for (size_t i = 0; i < p->nlen; i++)
      if ((rc = spy_mtm_corr_make(p->w[i], p->K, p->lens[i], p->N, p->fidx, p->nfreq, p->poly == 1,
                                  p->demean_taper, rows, &p->corr[i], err)))
        goto fail;
  }

  /* output geometry and metadata */
  op->samplerate = in->samplerate;
  if ((rc = spy_trldef_stacked(in, true, !prm->keeptrials, op))) goto nomem;
  if (spy_mtm_axes(op, t, prm->keeptapers, p->output, p->fidx, p->nfreq, p->N, in->samplerate))
    goto nomem;
  return SPY_OK;

nomem:
  rc = spy_fail(err, SPY_ENOMEM, "out of memory planning mtmfft");
fail:
  spy_op_free(op);
  return rc;
}
