#include "dsp/preprocessing.h"

#include <complex.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/interrupt.h"
#include "core/kwspec.h"
#include "core/log.h"
#include "core/pyfmt.h"
#include "core/settings.h"
#include "core/sizeset.h"
#include "dsp/fir.h"
#include "dsp/hilbert.h"
#include "dsp/iir.h"
#include "dsp/preprocessing_spec.h"
#include "dsp/resample.h"
#include "dsp/spectral_common.h"

typedef enum { FILT_NONE, FILT_DETREND, FILT_BUT, FILT_FIR } filt_kind;
typedef enum { POST_NONE, POST_RECTIFY, POST_HILBERT } post_kind;

/* One plan type serves both functions: preprocessing's stage chain, the
** downsample path (optional FIR, then every step-th sample) and the
** polyphase resampler. */
typedef struct pp_plan {
  bool zscore;
  int poly; /* polyremoval: -1 None, 0, 1 */
  filt_kind filt;
  double *sos, *zi; /* Butterworth sections and sosfilt_zi */
  size_t nsec, edge;
  bool twopass;
  spy_fir fir;
  spy_fir2 fir2; /* passes == 2 as one convolution (g.m == 0: not used) */
  int passes; /* FIR convolutions: 1 or 2 */
  post_kind post;
  spy_specout hout;
  spy_hilbert *hil; /* one per distinct trial length */
  size_t nhil;
  size_t step; /* keep every step-th sample (downsample), else 1 */
  const char *nanmsg;
  /* polyphase resampling */
  bool resample, copy;
  spy_polyphase pp;
  spy_dtype out_dtype;
} pp_plan;

static void pp_free(void *vp)
{
  pp_plan *P = vp;
  if (!P) return;
  free(P->sos);
  free(P->zi);
  spy_fir_release(&P->fir);
  spy_fir2_release(&P->fir2);
  free(P->hil);
  spy_polyphase_release(&P->pp);
  free(P);
}

/* ---- kernels --------------------------------------------------------------- */

/* Channels filtered together: the IIR recursion runs up to 16 lanes in
** vectors of 4 (zero-padded to a multiple of 4 when fewer channels are
** left); the other stages work lane by lane. */
enum { MAXLANES = 16 };

static size_t al64(size_t b) { return (b + 63) & ~(size_t)63; }

static size_t edge_of(const pp_plan *P)
{
  return P->filt == FILT_BUT && P->twopass ? P->edge : 0;
}

/* Lanes of the widest block a task of nchan channels uses (pp_kernel's W):
** one channel takes one lane (a streamed long trial goes channel by
** channel), more are padded to vectors of 4. */
static size_t lanes_for(size_t nchan)
{
  if (nchan <= 1) return 1;
  size_t w = (nchan + 3) / 4 * 4;
  return w < MAXLANES ? w : MAXLANES;
}

/* Whether the kernel needs the two single-lane buffers a and b: the FIR
** stage after zscore, and the Hilbert transform of interleaved lanes (a
** single lane is transformed where it lies). */
static bool needs_lane_buffers(const pp_plan *P, size_t lanes)
{
  return P->filt == FILT_FIR || (P->post == POST_HILBERT && lanes > 1);
}

/* pp_kernel's block of W lanes starts `shift` doubles into its scratch, so
** that the signal rows x = blk + e*W start on a 64-byte line (FFTW's
** alignment, for the Hilbert transform of a single lane in place). */
static size_t block_shift(size_t e, size_t W) { return (8 - e * W % 8) % 8; }

/* fir_kernel's channel groups, and its lane pitch: n rounded up to whole
** 64-byte lines, so that every lane is aligned as FFTW's plans need */
enum { FIR_LANES = 8 };
/* rows per block of the gather into lanes and of the write back: 256 rows
** of the interleaved trial (10 KB of float32 at 10 channels) stay in L1
** while the lanes are visited one by one (row by row ran 8% slower end to
** end, issue #20) */
enum { TILE_ROWS = 256 };
static size_t lane_pitch(size_t n) { return (n + 7) & ~(size_t)7; }

static size_t fir_group(size_t nchan) { return nchan < FIR_LANES ? nchan : FIR_LANES; }

/* Scratch of the FIR stage (one pass, or two as one). */
static size_t fir_scratch(const pp_plan *P)
{
  size_t a = spy_fir_scratch_bytes(&P->fir), b = P->fir2.g.m ? spy_fir2_scratch_bytes(&P->fir2) : 0;
  return a > b ? a : b;
}

/* Whether fir_kernel runs the task (FIR filters without zscore). */
static bool lane_fir(const pp_plan *P) { return P->filt == FILT_FIR && !P->zscore; }

/* Whether fir_kernel filters trials of n samples inside their FFT blocks:
** two passes as one convolution whose single overlap-save block holds the
** trial (spy_fir2_block), without the Hilbert transform (it wants its
** lane where FFTW's alignment puts it). */
static bool fir_in_blocks(const pp_plan *P, size_t n)
{
  return lane_fir(P) && P->passes == 2 && P->post != POST_HILBERT && spy_fir2_fits(&P->fir2, n);
}

static size_t pp_scratch(const void *vp, size_t nsamp, size_t nchan)
{
  const pp_plan *P = vp;
  if (P->resample) return 2 * al64(nsamp * sizeof(double)); /* a channel, its output (up <= down) */
  if (fir_in_blocks(P, nsamp))
    return fir_group(nchan) * al64(P->fir2.g.nfft * sizeof(double)) + al64(nsamp * sizeof(double)) +
           al64(spy_fir2_block_scratch_bytes(&P->fir2));
  if (lane_fir(P))
    return fir_group(nchan) * lane_pitch(nsamp) * sizeof(double) + al64(nsamp * sizeof(double)) +
           fir_scratch(P) +
           (P->post == POST_HILBERT ? al64(nsamp * sizeof(double complex)) : 0);
  size_t L = lanes_for(nchan); /* channels go one block of lanes at a time */
  size_t b = al64(((nsamp + 2 * edge_of(P)) * L + 8) * sizeof(double));
  b += al64((P->nsec ? P->nsec : 1) * 2 * L * sizeof(double));
  if (needs_lane_buffers(P, L)) b += 2 * al64(nsamp * sizeof(double));
  if (P->filt == FILT_FIR) b += fir_scratch(P);
  if (P->post == POST_HILBERT) b += al64(nsamp * sizeof(double complex));
  return b;
}

static void carve(char **p, void **dst, size_t bytes)
{
  *dst = *p;
  *p += al64(bytes);
}

static bool any_nan(const double *x, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (isnan(x[i])) return true;
  return false;
}

/* (x - mean) / std of the first w of W lanes after de-trending, std
** with ddof 0 (the padding lanes stay zero) */
static void zscore_lanes(double *x, size_t n, size_t W, size_t w, int poly)
{
  spy_detrend(x, n, W, poly);
  for (size_t j = 0; j < w; j++) {
    double mean = 0, var = 0;
    for (size_t i = 0; i < n; i++) mean += x[i * W + j];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++) {
      double d = x[i * W + j] - mean;
      var += d * d;
    }
    double sd = sqrt(var / (double)n);
    for (size_t i = 0; i < n; i++) x[i * W + j] = (x[i * W + j] - mean) / sd;
  }
}

static void store(void *out, spy_dtype t, size_t idx, double v)
{
  if (t == SPY_DT_F64)
    ((double *)out)[idx] = v;
  else if (t == SPY_DT_C64)
    ((float complex *)out)[idx] = (float)v;
  else
    ((float *)out)[idx] = (float)v;
}

/* out rows r of channels c0.. c0+w from block rows r*step, |.| for
** rectify; the common float32 case gets its own loop */
static void write_rows(const pp_plan *P, const double *x, size_t W, size_t w, size_t rows,
                       void *out, size_t C, size_t c0)
{
  const size_t step = P->step;
  const bool rect = P->post == POST_RECTIFY;
  if (P->out_dtype == SPY_DT_F32 && !rect) {
    for (size_t r = 0; r < rows; r++) {
      const double *src = x + r * step * W;
      float *dst = (float *)out + r * C + c0;
      for (size_t j = 0; j < w; j++) dst[j] = (float)src[j];
    }
    return;
  }
  for (size_t r = 0; r < rows; r++)
    for (size_t j = 0; j < w; j++) {
      double v = x[r * step * W + j];
      store(out, P->out_dtype, r * C + c0 + j, rect ? fabs(v) : v);
    }
}

/* P->hil is sorted by length */
static const spy_hilbert *find_hilbert(const pp_plan *P, size_t n)
{
  size_t lo = 0, hi = P->nhil;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (P->hil[mid].n < n) lo = mid + 1;
    else hi = mid;
  }
  return lo < P->nhil && P->hil[lo].n == n ? &P->hil[lo] : NULL;
}

/* Polyphase resampling channel by channel (each a contiguous copy, so the
** sub-filter dot products run over contiguous memory). */
static int rs_kernel(const pp_plan *P, spy_task *t, spy_err *err)
{
  const size_t N = t->nsamp, C = t->nchan, R = t->rows;
  double *a = t->scratch, *b = (double *)((char *)t->scratch + al64(N * sizeof(double)));
  for (size_t c = 0; c < C; c++) {
    if (spy_interrupted()) return spy_fail(err, SPY_EINTR, "interrupted");
    for (size_t i = 0; i < N; i++) a[i] = t->in[i * C + c];
    if (P->copy)
      memcpy(b, a, R * sizeof *b);
    else
      spy_resample_channel(&P->pp, a, N, 0, R, b);
    for (size_t k = 0; k < R; k++) store(t->out, P->out_dtype, k * C + c, b[k]);
  }
  return SPY_OK;
}

/* The FIR stage of one lane: a -> b (and back for two passes); the result
** is left in *res.  Time-domain sums when the lane holds NaN. */
static void fir_lane(const pp_plan *P, double *a, double *b, size_t n, void *fscr, bool direct,
                     double **res)
{
  if (!direct && P->passes == 2 && P->fir2.g.m) {
    spy_fir2_same(&P->fir2, a, n, b, fscr);
    *res = b;
    return;
  }
  double *src = a, *dst = b;
  for (int pass = 0; pass < P->passes; pass++) {
    if (direct)
      spy_fir_same_direct(P->fir.h, P->fir.m, src, n, dst);
    else
      spy_fir_same(&P->fir, src, n, dst, fscr);
    double *tmp = src;
    src = dst;
    dst = tmp;
  }
  *res = src;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define LANES_AVX 1
/* r[k] = row k of an 8 x 8 block of floats -> r[k] = its column k */
__attribute__((target("avx2"))) static inline void transpose8(__m256 r[8])
{
  __m256 t[8], s[8];
  for (int k = 0; k < 8; k += 2) {
    t[k] = _mm256_unpacklo_ps(r[k], r[k + 1]);
    t[k + 1] = _mm256_unpackhi_ps(r[k], r[k + 1]);
  }
  for (int k = 0; k < 8; k += 4) {
    s[k] = _mm256_shuffle_ps(t[k], t[k + 2], 0x44);
    s[k + 1] = _mm256_shuffle_ps(t[k], t[k + 2], 0xEE);
    s[k + 2] = _mm256_shuffle_ps(t[k + 1], t[k + 3], 0x44);
    s[k + 3] = _mm256_shuffle_ps(t[k + 1], t[k + 3], 0xEE);
  }
  for (int k = 0; k < 4; k++) {
    r[k] = _mm256_permute2f128_ps(s[k], s[k + 4], 0x20);
    r[k + 4] = _mm256_permute2f128_ps(s[k], s[k + 4], 0x31);
  }
}

/* The mask of the first w <= 8 floats of a row: a short group at the end
** of a row is loaded without reading past it. */
__attribute__((target("avx2"))) static inline __m256i first_w(size_t w)
{
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)w), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* gather_lanes for w <= 8 channels of float32 rows (C apart), 8 rows at a
** time: one load per row, a transpose, widening stores per lane; the
** widening is exact and the NaN test is the same, so are the numbers.
** Returns the rows done (a multiple of 8). */
__attribute__((target("avx2"))) static size_t gather8_f32(const float *src, size_t C, size_t N,
                                                         size_t w, double *const *g, int *bad)
{
  const size_t N8 = N / 8 * 8;
  const __m256i mask = first_w(w);
  __m256 nan[8];
  for (int j = 0; j < 8; j++) nan[j] = _mm256_setzero_ps();
  for (size_t i0 = 0; i0 < N8; i0 += 8) {
    __m256 r[8];
    if (w == 8)
      for (size_t k = 0; k < 8; k++) r[k] = _mm256_loadu_ps(src + (i0 + k) * C);
    else
      for (size_t k = 0; k < 8; k++) r[k] = _mm256_maskload_ps(src + (i0 + k) * C, mask);
    transpose8(r);
    for (size_t j = 0; j < w; j++) {
      nan[j] = _mm256_or_ps(nan[j], _mm256_cmp_ps(r[j], r[j], _CMP_UNORD_Q));
      _mm256_storeu_pd(g[j] + i0, _mm256_cvtps_pd(_mm256_castps256_ps128(r[j])));
      _mm256_storeu_pd(g[j] + i0 + 4, _mm256_cvtps_pd(_mm256_extractf128_ps(r[j], 1)));
    }
  }
  for (size_t j = 0; j < w; j++) bad[j] |= _mm256_movemask_ps(nan[j]) != 0;
  return N8;
}

/* write_lanes' float32 case for w <= 8 lanes, 8 rows at a time: narrowing
** (round to nearest, as the scalar cast), a transpose, one store per row.
** Returns the rows done. */
__attribute__((target("avx2"))) static size_t write8_f32(double *const *g, size_t w, size_t rows,
                                                        float *out, size_t C)
{
  const size_t R8 = rows / 8 * 8;
  for (size_t r0 = 0; r0 < R8; r0 += 8) {
    __m256 r[8];
    for (size_t j = 0; j < 8; j++)
      r[j] = j < w ? _mm256_set_m128(_mm256_cvtpd_ps(_mm256_loadu_pd(g[j] + r0 + 4)),
                                     _mm256_cvtpd_ps(_mm256_loadu_pd(g[j] + r0)))
                   : _mm256_setzero_ps();
    transpose8(r);
    if (w == 8)
      for (size_t k = 0; k < 8; k++) _mm256_storeu_ps(out + (r0 + k) * C, r[k]);
    else /* a masked store ran 2.5% slower end to end (c_firws: groups of 8 and 2) */
      for (size_t k = 0; k < 8; k++) {
        float row[8];
        _mm256_storeu_ps(row, r[k]);
        for (size_t j = 0; j < w; j++) out[(r0 + k) * C + j] = row[j];
      }
  }
  return R8;
}

static bool have_avx2(void)
{
  static int known = -1; /* racy but idempotent: every thread computes the same */
  if (known < 0) known = __builtin_cpu_supports("avx2") ? 1 : 0;
  return known == 1;
}
#endif

/* out rows r of channels c0 .. c0+w from lanes g[0..w), taking every
** step-th sample, |.| for rectify */
static void write_lanes(const pp_plan *P, double *const *g, size_t w, size_t rows, void *out,
                        size_t C, size_t c0)
{
  const size_t step = P->step;
  const bool rect = P->post == POST_RECTIFY;
  if (P->out_dtype == SPY_DT_F32 && !rect) {
    size_t done = 0;
#ifdef LANES_AVX
    if (step == 1 && w > 1 && have_avx2()) done = write8_f32(g, w, rows, (float *)out + c0, C);
#endif
    /* in blocks of rows whose output stays in L1, lane by lane */
    for (size_t r0 = done; r0 < rows; r0 += TILE_ROWS) {
      const size_t r1 = rows - r0 < TILE_ROWS ? rows : r0 + TILE_ROWS;
      for (size_t j = 0; j < w; j++) {
        const double *src = g[j];
        float *dst = (float *)out + c0 + j;
        for (size_t r = r0; r < r1; r++) dst[r * C] = (float)src[r * step];
      }
    }
    return;
  }
  for (size_t r = 0; r < rows; r++)
    for (size_t j = 0; j < w; j++) {
      double v = g[j][r * step];
      store(out, P->out_dtype, r * C + c0 + j, rect ? fabs(v) : v);
    }
}

/* Channels c0 .. c0+w of the task's rows into lanes g[0..w), noting NaN;
** from the stored float32 values when the scheduler hands them over
** (SPY_TASK_IN_F32: widening is exact, so the numbers are the same). */
static void gather_lanes(const spy_task *t, size_t c0, size_t w, double *const *g, bool *nan)
{
  const size_t N = t->nsamp, C = t->nchan;
  const bool f32 = t->flags & SPY_TASK_IN_F32;
  int bad[FIR_LANES] = {0};
  size_t done = 0;
#ifdef LANES_AVX
  if (f32 && w > 1 && have_avx2())
    done = gather8_f32((const float *)(const void *)t->in + c0, C, N, w, g, bad);
#endif
  /* in blocks of rows that stay in L1, lane by lane */
  for (size_t i0 = done; i0 < N; i0 += TILE_ROWS) {
    const size_t i1 = N - i0 < TILE_ROWS ? N : i0 + TILE_ROWS;
    for (size_t j = 0; j < w; j++) {
      double *dst = g[j];
      int b = 0;
      if (f32) {
        const float *src = (const float *)(const void *)t->in + c0 + j;
        for (size_t i = i0; i < i1; i++) {
          double v = src[i * C];
          dst[i] = v;
          b |= v != v;
        }
      } else {
        const double *src = t->in + c0 + j;
        for (size_t i = i0; i < i1; i++) {
          double v = src[i * C];
          dst[i] = v;
          b |= v != v;
        }
      }
      bad[j] |= b;
    }
  }
  for (size_t j = 0; j < w; j++) nan[j] = bad[j];
}

/* fir_kernel for trials that fit one block (fir_in_blocks): each channel
** of a group is gathered straight into its own FFT block, filtered there
** (spy_fir2_block), and written back from it; a lane holding NaN goes the
** direct way with the spare buffer. */
static int fir_block_kernel(const pp_plan *P, spy_task *t, spy_err *err)
{
  const size_t N = t->nsamp, C = t->nchan, L = P->fir2.g.nfft;
  char *p = t->scratch;
  void *g_, *spare, *fscr;
  carve(&p, &g_, fir_group(C) * al64(L * sizeof(double)));
  carve(&p, &spare, N * sizeof(double));
  carve(&p, &fscr, spy_fir2_block_scratch_bytes(&P->fir2));
  double *blk[FIR_LANES], *x[FIR_LANES], *res[FIR_LANES];
  for (size_t j = 0; j < fir_group(C); j++) {
    blk[j] = (double *)(void *)((char *)g_ + j * al64(L * sizeof(double)));
    x[j] = blk[j] + SPY_FIR2_IN(&P->fir2);
  }
  for (size_t c0 = 0; c0 < C;) {
    if (spy_interrupted()) return spy_fail(err, SPY_EINTR, "interrupted");
    const size_t w = fir_group(C - c0);
    bool nan[FIR_LANES] = {false};
    gather_lanes(t, c0, w, x, nan);
    for (size_t j = 0; j < w; j++) {
      spy_detrend(x[j], N, 1, P->poly);
      if (nan[j]) {
        if (P->nanmsg) t->flags |= SPY_TASK_HAS_NAN;
        fir_lane(P, x[j], spare, N, NULL, true, &res[j]);
      } else {
        spy_fir2_block(&P->fir2, blk[j], N, fscr);
        res[j] = blk[j] + SPY_FIR2_OUT(&P->fir2);
      }
    }
    write_lanes(P, res, w, t->rows, t->out, C, c0);
    c0 += w;
  }
  return SPY_OK;
}

/* FIR filtering without zscore, FIR_LANES channels at a time: gathered
** into contiguous lanes in blocks of TILE_ROWS rows (NaN check on the
** way), each lane de-trended and convolved, and the group written back the
** same way (or each lane Hilbert-transformed).  Gathering lane by lane
** over the whole trial would walk the interleaved trial once per channel.
** A lane's result lands in the spare buffer, which then takes the lane's
** place (no copy back). */
static int fir_kernel(const pp_plan *P, const spy_hilbert *hil, spy_task *t, spy_err *err)
{
  if (!hil && fir_in_blocks(P, t->nsamp)) return fir_block_kernel(P, t, err);
  const size_t N = t->nsamp, C = t->nchan, ld = lane_pitch(N);
  char *p = t->scratch;
  void *g_, *b_, *fscr, *z_ = NULL;
  carve(&p, &g_, fir_group(C) * ld * sizeof(double));
  carve(&p, &b_, N * sizeof(double));
  carve(&p, &fscr, fir_scratch(P));
  if (hil) carve(&p, &z_, N * sizeof(double complex));
  double *lane[FIR_LANES] = {NULL}, *spare = b_;
  for (size_t j = 0; j < fir_group(C); j++) lane[j] = (double *)g_ + j * ld;
  for (size_t c0 = 0; c0 < C;) {
    if (spy_interrupted()) return spy_fail(err, SPY_EINTR, "interrupted");
    const size_t w = fir_group(C - c0);
    bool nan[FIR_LANES] = {false};
    gather_lanes(t, c0, w, lane, nan);
    for (size_t j = 0; j < w; j++) {
      double *res;
      if (P->nanmsg && nan[j]) t->flags |= SPY_TASK_HAS_NAN;
      spy_detrend(lane[j], N, 1, P->poly);
      fir_lane(P, lane[j], spare, N, fscr, nan[j], &res);
      if (hil) {
        spy_hilbert_run(hil, res, z_);
        spy_specout_convert(P->hout, z_, N,
                            (char *)t->out + (c0 + j) * spy_dtype_size(P->out_dtype), C);
      } else if (res != lane[j]) {
        spare = lane[j];
        lane[j] = res;
      }
    }
    if (!hil) write_lanes(P, lane, w, t->rows, t->out, C, c0);
    c0 += w;
  }
  return SPY_OK;
}

static int pp_kernel(const void *vp, spy_task *t, spy_err *err)
{
  const pp_plan *P = vp;
  if (P->resample) return rs_kernel(P, t, err);
  const size_t N = t->nsamp, C = t->nchan, e = edge_of(P);
  if (N == 0) return SPY_OK;
  if (e && N <= e)
    return spy_fail(err, SPY_EINVAL,
                    "trial %zu has %zu samples; a two-pass Butterworth filter of this order needs "
                    "more than %zu (scipy.signal.sosfiltfilt pads %zu samples at each edge)",
                    t->trial, N, e, e);
  const spy_hilbert *hil = NULL;
  if (P->post == POST_HILBERT && !(hil = find_hilbert(P, N)))
    return spy_fail(err, SPY_ERUNTIME, "no Hilbert transform was planned for %zu samples", N);
  if (lane_fir(P)) return fir_kernel(P, hil, t, err);

  char *p = t->scratch;
  void *blk_, *state_, *a_, *b_, *fscr = NULL, *z_ = NULL;
  size_t L = lanes_for(C);
  carve(&p, &blk_, ((N + 2 * e) * L + 8) * sizeof(double));
  carve(&p, &state_, (P->nsec ? P->nsec : 1) * 2 * L * sizeof(double));
  a_ = b_ = NULL;
  if (needs_lane_buffers(P, L)) {
    carve(&p, &a_, N * sizeof(double));
    carve(&p, &b_, N * sizeof(double));
  }
  if (P->filt == FILT_FIR) carve(&p, &fscr, fir_scratch(P));
  if (P->post == POST_HILBERT) carve(&p, &z_, N * sizeof(double complex));
  double *state = state_, *a = a_, *b = b_;
  double complex *z = z_;
  const size_t rows = t->rows;

  for (size_t c0 = 0; c0 < C;) {
    if (spy_interrupted()) return spy_fail(err, SPY_EINTR, "interrupted");
    /* W lanes in the block, the first w of them channels */
    size_t left = C - c0, W, w;
    if (P->filt == FILT_BUT)
      W = left >= MAXLANES ? MAXLANES : C == 1 ? 1 : (left + 3) / 4 * 4;
    else
      W = left >= 8 ? 8 : left >= 4 ? 4 : left >= 2 ? 2 : 1;
    w = left < W ? left : W;
    double *blk = (double *)blk_ + block_shift(e, W), *x = blk + e * W;
    bool nan = false;
    /* (a streamed channel arrives in x itself: src == dst) */
    for (size_t i = 0; i < N; i++) {
      const double *src = t->in + i * C + c0;
      double *dst = x + i * W;
      for (size_t j = 0; j < w; j++) {
        dst[j] = src[j];
        nan |= src[j] != src[j];
      }
      for (size_t j = w; j < W; j++) dst[j] = 0;
    }

    if (P->zscore) {
      zscore_lanes(x, N, W, w, P->poly);
      nan = any_nan(x, N * W);
    }
    if (P->nanmsg && nan) t->flags |= SPY_TASK_HAS_NAN;
    if (P->filt != FILT_NONE) spy_detrend(x, N, W, P->poly);
    if (P->filt == FILT_BUT) {
      if (P->twopass)
        spy_sosfiltfilt(P->sos, P->nsec, P->zi, blk, N, W, e, state);
      else {
        memset(state, 0, P->nsec * 2 * W * sizeof *state);
        spy_sosfilt(P->sos, P->nsec, x, N, W, false, state);
      }
    } else if (P->filt == FILT_FIR) {
      for (size_t j = 0; j < w; j++) {
        double *res;
        for (size_t i = 0; i < N; i++) a[i] = x[i * W + j];
        fir_lane(P, a, b, N, fscr, any_nan(a, N), &res);
        for (size_t i = 0; i < N; i++) x[i * W + j] = res[i];
      }
    }

    if (P->post == POST_HILBERT) {
      size_t es = spy_dtype_size(P->out_dtype);
      for (size_t j = 0; j < w; j++) {
        const double *lane = x;
        if (W > 1) {
          for (size_t i = 0; i < N; i++) a[i] = x[i * W + j];
          lane = a;
        }
        spy_hilbert_run(hil, lane, z);
        spy_specout_convert(P->hout, z, N, (char *)t->out + (c0 + j) * es, C);
      }
    } else
      write_rows(P, x, W, w, rows, t->out, C, c0);
    c0 += w;
  }
  return SPY_OK;
}

/* Long trials stream channel by channel (ARCHITECTURE invariant 6): each
** channel is read straight into the place where the kernel gathers it
** (so the gather copies it onto itself), run through the same kernel as a
** one-channel task, and written out.  A task then holds a few channel
** lengths, whatever its number of channels, and its numbers are those of
** the whole-trial kernel: every stage works lane by lane. */
static double *stream_lane(const pp_plan *P, void *scratch, size_t n)
{
  if (fir_in_blocks(P, n)) return (double *)scratch + SPY_FIR2_IN(&P->fir2);
  if (P->resample || lane_fir(P)) return scratch;
  size_t e = edge_of(P);
  return (double *)scratch + block_shift(e, 1) + e;
}

/*
** Butterworth filters without zscore or Hilbert transform go further: in
** blocks of rows, a group of up to 16 channels at once (the recursion's
** vectors, as pp_kernel runs it), the section states carried from block to
** block, de-trending from sums taken in a first pass over the trial in the
** same order as spy_detrend.  The recursion sees the same values in the
** same order as over the whole trial, so the numbers are the same.  The
** two-pass filter writes its forward pass (odd extensions included,
** float64) to an unlinked temporary file and runs the backward pass over
** it from the end.  Memory: a few blocks, whatever the trial length.
*/
static bool iir_streams(const pp_plan *P)
{
  return P->filt == FILT_BUT && !P->zscore && P->post != POST_HILBERT && P->step == 1;
}

/* rows per block: also the two odd extensions with their e+1 samples */
static size_t iir_block_rows(const pp_plan *P)
{
  size_t R = (size_t)1 << 16, e = edge_of(P);
  return R > 2 * e + 1 ? R : 2 * e + 1;
}

/* x (n rows of W lanes, the first w of them channels) from the task's
** rows [row0, row0+n), channels c0.., through `tmp`; de-trended with
** mean/slope; NaN noted in *nan. */
static int iir_read(const pp_plan *P, const spy_task_io *io, size_t row0, size_t n, size_t c0,
                    size_t w, size_t W, const double *mean, const double *slope, double nbar,
                    double *tmp, double *x, bool *nan, spy_err *err)
{
  int rc = io->read(io->ctx, row0, n, c0, w, tmp, err);
  if (rc) return rc;
  for (size_t i = 0; i < n; i++) {
    for (size_t j = 0; j < w; j++) {
      double v = tmp[i * w + j];
      *nan |= v != v;
      if (P->poly == 0) v -= mean[j];
      else if (P->poly == 1) v -= mean[j] + slope[j] * ((double)(row0 + i) - nbar);
      x[i * W + j] = v;
    }
    for (size_t j = w; j < W; j++) x[i * W + j] = 0;
  }
  return SPY_OK;
}

/* spy_detrend's mean and slope of the w channels from c0, summed in its
** order (slope 0 for polyremoval 0 or a single sample). */
static int iir_trend(const pp_plan *P, const spy_task_io *io, size_t N, size_t c0, size_t w,
                     size_t R, double *tmp, double *mean, double *slope, spy_err *err)
{
  double sxy[MAXLANES] = {0}, sxx = 0, nbar = (double)(N - 1) / 2.0;
  for (size_t j = 0; j < w; j++) mean[j] = slope[j] = 0;
  for (int pass = 0; pass < (P->poly == 1 && N > 1 ? 2 : 1); pass++)
    for (size_t r0 = 0; r0 < N; r0 += R) {
      size_t n = N - r0 < R ? N - r0 : R;
      int rc = io->read(io->ctx, r0, n, c0, w, tmp, err);
      if (rc) return rc;
      for (size_t i = 0; i < n; i++) {
        double d = (double)(r0 + i) - nbar;
        if (pass == 1) sxx += d * d;
        for (size_t j = 0; j < w; j++)
          if (pass == 0) mean[j] += tmp[i * w + j];
          else sxy[j] += d * (tmp[i * w + j] - mean[j]);
      }
      if (pass == 0 && r0 + n == N)
        for (size_t j = 0; j < w; j++) mean[j] /= (double)N;
    }
  if (P->poly == 1 && N > 1)
    for (size_t j = 0; j < w; j++) slope[j] = sxy[j] / sxx;
  return SPY_OK;
}

/* Rows [row0, row0+n) of a temporary file of W-lane float64 rows. */
static int file_rows(int fd, bool wr, size_t row0, size_t n, size_t W, double *x, spy_err *err)
{
  size_t bytes = n * W * sizeof *x, done = 0;
  off_t off = (off_t)(row0 * W * sizeof *x);
  while (done < bytes) {
    ssize_t k = wr ? pwrite(fd, (char *)x + done, bytes - done, off + (off_t)done)
                   : pread(fd, (char *)x + done, bytes - done, off + (off_t)done);
    if (k <= 0)
      return spy_fail(err, SPY_EIO, "cannot %s the filter's temporary file in '%s': %s",
                      wr ? "write" : "read", spy_tmpdir(), k < 0 ? strerror(errno) : "end of file");
    done += (size_t)k;
  }
  return SPY_OK;
}

static void init_state(const pp_plan *P, const double *row, size_t W, double *state)
{
  for (size_t q = 0; q < P->nsec; q++)
    for (size_t j = 0; j < W; j++) {
      state[2 * q * W + j] = P->zi[2 * q] * row[j];
      state[(2 * q + 1) * W + j] = P->zi[2 * q + 1] * row[j];
    }
}

/* Output rows [row0, row0+n) of the w channels from c0, from x. */
static int iir_write(const pp_plan *P, const spy_task_io *io, const double *x, size_t row0,
                     size_t n, size_t c0, size_t w, size_t W, void *obuf, spy_err *err)
{
  write_rows(P, x, W, w, n, obuf, w, 0);
  return io->write(io->ctx, row0, n, c0, w, obuf, err);
}

static int iir_group(const pp_plan *P, spy_task *t, const spy_task_io *io, size_t c0, size_t w,
                     int fd, spy_err *err)
{
  const size_t N = t->nsamp, W = lanes_for(w), R = iir_block_rows(P), e = edge_of(P);
  char *p = t->scratch;
  void *x_, *tmp_, *state_, *obuf;
  carve(&p, &x_, R * W * sizeof(double));
  carve(&p, &tmp_, R * W * sizeof(double));
  carve(&p, &state_, P->nsec * 2 * W * sizeof(double));
  carve(&p, &obuf, R * W * spy_dtype_size(P->out_dtype));
  double *x = x_, *tmp = tmp_, *state = state_;
  double mean[MAXLANES], slope[MAXLANES], nbar = (double)(N - 1) / 2.0;
  bool nan = false;
  int rc = SPY_OK;
  if (P->poly >= 0 && (rc = iir_trend(P, io, N, c0, w, R, tmp, mean, slope, err))) return rc;
  if (!P->twopass) {
    memset(state, 0, P->nsec * 2 * W * sizeof *state);
    for (size_t r0 = 0; r0 < N && !rc; r0 += R) {
      size_t n = N - r0 < R ? N - r0 : R;
      if (spy_interrupted()) return spy_fail(err, SPY_EINTR, "interrupted");
      rc = iir_read(P, io, r0, n, c0, w, W, mean, slope, nbar, tmp, x, &nan, err);
      if (!rc) spy_sosfilt(P->sos, P->nsec, x, n, W, false, state);
      if (!rc) rc = iir_write(P, io, x, r0, n, c0, w, W, obuf, err);
    }
  } else {
    /* forward: the odd extension of the first e+1 samples, the trial, that
    ** of the last e+1; file rows [0, N + 2e) */
    const size_t total = N + 2 * e;
    double *x0 = x + e * W;
    if ((rc = iir_read(P, io, 0, e + 1, c0, w, W, mean, slope, nbar, tmp, x0, &nan, err)))
      return rc;
    for (size_t i = 1; i <= e; i++)
      for (size_t j = 0; j < W; j++) x[(e - i) * W + j] = 2 * x0[j] - x0[i * W + j];
    init_state(P, x, W, state);
    spy_sosfilt(P->sos, P->nsec, x, e, W, false, state);
    rc = file_rows(fd, true, 0, e, W, x, err);
    for (size_t r0 = 0; r0 < N && !rc; r0 += R) {
      size_t n = N - r0 < R ? N - r0 : R;
      if (spy_interrupted()) return spy_fail(err, SPY_EINTR, "interrupted");
      rc = iir_read(P, io, r0, n, c0, w, W, mean, slope, nbar, tmp, x, &nan, err);
      if (!rc) spy_sosfilt(P->sos, P->nsec, x, n, W, false, state);
      if (!rc) rc = file_rows(fd, true, e + r0, n, W, x, err);
    }
    /* x[0..e] = the trial's last e+1 samples, x[e+1..2e] their extension */
    bool ignore = false;
    if (!rc) rc = iir_read(P, io, N - 1 - e, e + 1, c0, w, W, mean, slope, nbar, tmp, x, &ignore, err);
    if (rc) return rc;
    const double *xl = x + e * W;
    for (size_t i = 1; i <= e; i++)
      for (size_t j = 0; j < W; j++) x[(e + i) * W + j] = 2 * xl[j] - xl[-(ptrdiff_t)(i * W) + (ptrdiff_t)j];
    spy_sosfilt(P->sos, P->nsec, x + (e + 1) * W, e, W, false, state);
    if ((rc = file_rows(fd, true, e + N, e, W, x + (e + 1) * W, err))) return rc;
    /* backward from zi * the last forward sample, block by block from the
    ** end; rows [e, e + N) are the result */
    init_state(P, x + (2 * e) * W, W, state);
    for (size_t hi = total; hi > e && !rc;) {
      size_t lo = hi - e > R ? hi - R : e, n = hi - lo;
      if (spy_interrupted()) return spy_fail(err, SPY_EINTR, "interrupted");
      rc = file_rows(fd, false, lo, n, W, x, err);
      if (!rc) spy_sosfilt(P->sos, P->nsec, x, n, W, true, state);
      size_t a = lo, b = hi < e + N ? hi : e + N; /* the trial's rows in [lo, hi) */
      if (!rc && b > a) rc = iir_write(P, io, x + (a - lo) * W, a - e, b - a, c0, w, W, obuf, err);
      hi = lo;
    }
  }
  if (!rc && P->nanmsg && nan) t->flags |= SPY_TASK_HAS_NAN;
  return rc;
}

static int iir_stream(const pp_plan *P, spy_task *t, const spy_task_io *io, spy_err *err)
{
  int fd = -1, rc = SPY_OK;
  if (P->twopass) {
    char path[4096];
    snprintf(path, sizeof path, "%s/spy-filter-XXXXXX", spy_tmpdir());
    if ((fd = mkstemp(path)) < 0)
      return spy_fail(err, SPY_EIO, "cannot create a temporary file in '%s': %s", spy_tmpdir(),
                      strerror(errno));
    unlink(path);
  }
  for (size_t c0 = 0; c0 < t->nchan && !rc; c0 += MAXLANES)
    rc = iir_group(P, t, io, c0, t->nchan - c0 < MAXLANES ? t->nchan - c0 : MAXLANES, fd, err);
  if (fd >= 0) close(fd);
  return rc;
}

static size_t pp_stream_scratch(const void *vp, size_t nsamp, size_t nchan)
{
  const pp_plan *P = vp;
  if (iir_streams(P)) {
    size_t W = lanes_for(nchan < MAXLANES ? nchan : MAXLANES), R = iir_block_rows(P);
    return 2 * al64(R * W * sizeof(double)) + al64(P->nsec * 2 * W * sizeof(double)) +
           al64(R * W * spy_dtype_size(P->out_dtype));
  }
  /* the Hilbert transform's output goes where its input lane was */
  return pp_scratch(P, nsamp, 1) +
         (P->post == POST_HILBERT ? 0 : al64(nsamp * spy_dtype_size(P->out_dtype)));
}

static int pp_stream(const void *vp, spy_task *t, const spy_task_io *io, spy_err *err)
{
  const pp_plan *P = vp;
  const size_t N = t->nsamp;
  if (N == 0) return SPY_OK;
  if (iir_streams(P)) return iir_stream(P, t, io, err);
  double *x = stream_lane(P, t->scratch, N);
  /* rows <= N; a transformed lane is not read again, so the Hilbert output
  ** (at most 8 bytes a sample) takes its place */
  void *out = P->post == POST_HILBERT ? (void *)x : (char *)t->scratch + pp_scratch(P, N, 1);
  for (size_t j = 0; j < t->nchan; j++) {
    if (spy_interrupted()) return spy_fail(err, SPY_EINTR, "interrupted");
    spy_task one = *t;
    one.chan0 = t->chan0 + j;
    one.nchan = 1;
    one.in = x;
    one.out = out;
    one.flags = 0;
    int rc = io->read(io->ctx, 0, N, j, 1, x, err);
    if (!rc) rc = pp_kernel(P, &one, err);
    if (!rc && t->rows) rc = io->write(io->ctx, 0, t->rows, j, 1, out, err);
    if (rc) return rc;
    t->flags |= one.flags;
  }
  return SPY_OK;
}

/* ---- validation helpers ---------------------------------------------------- */

/* array_parser(freq, hasinf=False, hasnan=False, lims=[0, hi], dims=(2,)),
** then Syncopy's check for two different edges; f sorted low to high. */
static int freq_pair_check(const cJSON *v, double hi, const char *his, double *f, spy_err *err)
{
  double *vals;
  size_t n;
  int rc = spy_array_parser(v, "freq", 0, hi, "0", his, 2, &vals, &n, err);
  if (rc) return rc;
  if (vals[0] == vals[1]) {
    char act[160];
    spy_py_list(vals, 2, act, sizeof act);
    rc = spy_fail_value(err, "freq", act, "two different frequencies");
  }
  f[0] = vals[0] < vals[1] ? vals[0] : vals[1];
  f[1] = vals[0] < vals[1] ? vals[1] : vals[0];
  free(vals);
  return rc;
}

static bool isnull(const cJSON *v) { return !v || cJSON_IsNull(v); }

static bool truthy(const cJSON *v)
{
  if (isnull(v)) return false;
  if (cJSON_IsBool(v)) return cJSON_IsTrue(v);
  if (cJSON_IsString(v)) return v->valuestring[0] != '\0';
  if (cJSON_IsNumber(v)) return v->valuedouble != 0;
  if (cJSON_IsArray(v) || cJSON_IsObject(v)) return v->child != NULL;
  return true;
}

static bool str_in(const cJSON *v, const char *const *list)
{
  if (!cJSON_IsString(v)) return false;
  for (; *list; list++)
    if (strcmp(v->valuestring, *list) == 0) return true;
  return false;
}

/* A NULL-terminated list of names and their count, for spy_py_or_list. */
#define NAMES(list) (list), (sizeof(list) / sizeof *(list) - 1)

/* ---- shared plan pieces ----------------------------------------------------- */

/* op->log from the history lines h, which it releases. */
static int finish_log(spy_op *op, const char *cf, spy_history *h, spy_err *err)
{
  op->log = spy_history_text(h, cf);
  spy_history_free(h);
  return op->log ? SPY_OK : spy_fail(err, SPY_ENOMEM, "out of memory");
}

static size_t min_len(const spy_trials *in, size_t *maxlen)
{
  size_t lo = (size_t)-1, hi = 0;
  for (size_t k = 0; k < in->ntrials; k++) {
    size_t n = spy_trial_len(in, k);
    if (n < lo) lo = n;
    if (n > hi) hi = n;
  }
  if (maxlen) *maxlen = hi;
  return in->ntrials ? lo : 0;
}

/* one Hilbert plan per distinct trial length, sorted by length */
static int plan_hilbert(pp_plan *P, const spy_trials *in, spy_err *err)
{
  size_t nt = in->ntrials, *len = malloc((nt ? nt : 1) * sizeof *len);
  P->hil = calloc(nt ? nt : 1, sizeof *P->hil);
  if (!len || !P->hil) {
    free(len);
    return spy_fail(err, SPY_ENOMEM, "out of memory");
  }
  for (size_t k = 0; k < nt; k++) len[k] = spy_trial_len(in, k);
  size_t nlen = spy_sizeset_make(len, nt);
  /* FFTW's measuring costs seconds at long lengths and did not beat its
  ** estimate on whole-trial transforms, so these plans are estimated */
  int rc = SPY_OK;
  for (size_t k = 0; k < nlen && !rc; k++) {
    if (len[k] == 0) continue;
    rc = spy_hilbert_prepare(&P->hil[P->nhil], len[k], true, err);
    if (!rc) P->nhil++;
  }
  free(len);
  return rc;
}

/* Syncopy has no upper limit; an order becomes an allocation of order+1
** taps (and its FFT), so spy refuses more than 2^24 (docs/internals/core.md). */
#define FIR_ORDER_LIMIT 16777216.0

static int fir_order_limit(const cJSON *order, spy_err *err)
{
  if (order->valuedouble <= FIR_ORDER_LIMIT) return SPY_OK;
  char act[64];
  spy_py_num(order->valuedouble, act, sizeof act);
  return spy_fail_value(err, "order", act,
                        "value to be greater or equals 0 and less or equals 16777216");
}

static int plan_fir(pp_plan *P, const char *window, long order, const double *fc, spy_btype bt,
                    bool minphase, size_t maxlen, spy_err *err)
{
  size_t m = spy_wsinc_len(order);
  double *h = malloc(m * sizeof *h);
  if (!h) return spy_fail(err, SPY_ENOMEM, "out of memory");
  int rc = spy_design_wsinc(window, order, fc, bt, h, err);
  if (!rc && minphase) rc = spy_minphase_rceps(h, m, h, err);
  if (!rc) rc = spy_fir_prepare(&P->fir, h, m, maxlen, err);
  free(h);
  P->filt = FILT_FIR;
  return rc;
}

/* Two FIR passes as one convolution with the combined kernel (about half
** the FFT work; docs/internals/filters.md).  Designing it costs m^2
** multiply-adds, so orders above 4096 keep the two passes. */
static int plan_twopass(pp_plan *P, size_t maxlen, spy_err *err)
{
  if (P->passes != 2 || P->fir.m > 4097) return SPY_OK;
  return spy_fir2_prepare(&P->fir2, P->fir.h, P->fir.m, maxlen, err);
}

static int empty_data(const spy_trials *in, spy_err *err)
{
  if (in->ntrials == 0)
    return spy_fail_value(err, "data", "empty", "non-empty Syncopy data object");
  return SPY_OK;
}

/* ---- spy.preprocessing ------------------------------------------------------ */

static const char *const filters[] = {"but", "firws", NULL};
static const char *const ftypes[] = {"lp", "hp", "bp", "bs", NULL};
static const char *const directions[] = {"twopass", "onepass", "onepass-minphase", NULL};
static const char *const iir_directions[] = {"onepass", "twopass", NULL};
static const char *const windows[] = {"hamming", "hann", "blackman", NULL};
static const char *const hilbert_outputs[] = {"abs",    "complex", "real",  "imag",
                                              "absreal", "absimag", "angle", NULL};

static const char nan_but[] = "Syncopy <preprocessing>: Data contains NaNs! See "
                              "`.info['nan_trials']` for the offending trials\n\t\t try using a "
                              "'onepass' FIR filter of low order..";
static const char nan_plain[] = "Syncopy <preprocessing>: Data contains NaNs! See "
                                "`.info['nan_trials']` for the offending trials";

/* Validated filter settings, gathered before the routines are chosen. */
typedef struct pp_args {
  const char *fclass; /* NULL: no filter */
  spy_btype btype;
  double freq[2];
  bool have_order;
  double order;
  int poly;
  bool zscore, rectify;
  const char *hilbert; /* NULL: none */
} pp_args;

static int check_common(const cJSON *cfg, const spy_trials *in, pp_args *A, spy_err *err)
{
  int rc;
  char act[160], lgl[160], his[64];
  const cJSON *fc = spy_cfg_item(cfg, "filter_class"), *ft = spy_cfg_item(cfg, "filter_type");
  const cJSON *freq = spy_cfg_item(cfg, "freq"), *order = spy_cfg_item(cfg, "order");
  const cJSON *poly = spy_cfg_item(cfg, "polyremoval"), *zs = spy_cfg_item(cfg, "zscore");
  const cJSON *rect = spy_cfg_item(cfg, "rectify"), *hil = spy_cfg_item(cfg, "hilbert");
  memset(A, 0, sizeof *A);
  A->poly = -1;

  if (!isnull(fc)) {
    if (!str_in(fc, filters)) {
      spy_lua_str(fc, act, sizeof act);
      spy_py_or_list(NAMES(filters), lgl, sizeof lgl);
      return spy_fail_value(err, "filter_class", act, "%s", lgl);
    }
    A->fclass = fc->valuestring;
    if (!str_in(ft, ftypes)) {
      spy_lua_str(ft, act, sizeof act);
      return spy_fail_value(err, "filter_type", act, "one of ('lp', 'hp', 'bp', 'bs')");
    }
    spy_btype_parse(ft->valuestring, &A->btype);
    spy_py_float(in->samplerate / 2, his, sizeof his);
    if (!spy_btype_is_band(A->btype)) {
      if ((rc = spy_scalar_parser(freq, "freq", false, 0, in->samplerate / 2, "0", his, err)))
        return rc;
      A->freq[0] = freq->valuedouble;
    } else if ((rc = freq_pair_check(freq, in->samplerate / 2, his, A->freq, err)))
      return rc;
    if (!isnull(order)) {
      if ((rc = spy_scalar_parser(order, "order", true, 0, INFINITY, "0", "inf", err)) ||
          (rc = fir_order_limit(order, err)))
        return rc;
      A->have_order = true;
      A->order = order->valuedouble;
    }
  } else if (isnull(poly) && !(cJSON_IsBool(zs) && cJSON_IsTrue(zs)))
    return spy_fail_value(err, "filter_class/polyremoval/zscore",
                          "neither filtering, detrending or zscore requested",
                          "a preprocessing method");

  if (!isnull(poly)) {
    if ((rc = spy_scalar_parser(poly, "polyremoval", true, 0, 1, "0", "1", err))) return rc;
    A->poly = (int)poly->valuedouble;
  }
  if (!cJSON_IsBool(zs)) {
    spy_lua_str(zs, act, sizeof act);
    return spy_fail_value(err, "zscore", act, "either `true` or `false`");
  }
  if (!cJSON_IsBool(rect)) {
    spy_lua_str(rect, act, sizeof act);
    return spy_fail_value(err, "rectify", act, "either `true` or `false`");
  }
  A->zscore = cJSON_IsTrue(zs);
  A->rectify = cJSON_IsTrue(rect);
  if (A->rectify && truthy(hil)) {
    char h[64];
    spy_lua_repr(hil, h, sizeof h);
    snprintf(act, sizeof act, "rectify=true, hilbert=%s", h);
    return spy_fail_value(err, "rectify/hilbert", act,
                          "either rectification or Hilbert transform");
  }
  if (truthy(hil)) {
    if (!str_in(hil, hilbert_outputs)) {
      spy_lua_str(hil, act, sizeof act);
      return spy_fail_value(err, "hilbert", act,
                            "one of {'abs', 'complex', 'real', 'imag', 'absreal', 'absimag', "
                            "'angle'}");
    }
    A->hilbert = hil->valuestring;
  }
  return SPY_OK;
}

/* check_effective_parameters: settings that differ from their defaults
** but mean nothing to the chosen routine (caller input_processors) */
static void no_effect(const cJSON *cfg, const char *const *names, const char *cr)
{
  for (; *names; names++) {
    const spy_kwarg *k = spy_kw_find(&spy_spec_preprocessing, *names);
    cJSON *dflt = k ? cJSON_Parse(k->dflt) : NULL;
    const cJSON *v = spy_cfg_item(cfg, *names);
    bool same = dflt && (v ? cJSON_Compare(v, dflt, true) : cJSON_IsNull(dflt));
    cJSON_Delete(dflt);
    if (!same)
      spy_py_warning("input_processors", "option `%s` has no effect for `%s`!", *names, cr);
  }
}

/* The filter direction: the given one when it is one of the n `allowed`,
** None gives `dflt` (with Syncopy's INFO for a `kind` filter). */
static int direction_of(const cJSON *dir, const char *const *allowed, size_t n, const char *dflt,
                        const char *kind, const char **out, spy_err *err)
{
  char act[160], lgl[160];
  if (isnull(dir)) {
    *out = dflt;
    spy_py_info("preprocessing", "Setting default direction for %s filter to '%s'", kind, dflt);
    return SPY_OK;
  }
  if (!str_in(dir, allowed)) {
    spy_lua_str(dir, act, sizeof act);
    spy_py_or_list(allowed, n, lgl, sizeof lgl);
    return spy_fail_value(err, "direction", act, "%s", lgl);
  }
  *out = dir->valuestring;
  return SPY_OK;
}

/* freq as Syncopy logs it: the user's number, or np.sort of the band edges
** (an int array when both are integral, as the user's ints make it). */
static void fmt_freq(const pp_args *A, char *buf, size_t n)
{
  if (spy_btype_is_band(A->btype)) {
    bool ints = A->freq[0] == floor(A->freq[0]) && A->freq[1] == floor(A->freq[1]);
    char *arr = ints ? spy_np_int_array_str(A->freq, 2) : spy_np_array_str(A->freq, 2);
    snprintf(buf, n, "%s", arr ? arr : "[]");
    free(arr);
  } else
    spy_py_num(A->freq[0], buf, n);
}

int spy_preprocessing_plan(const cJSON *cfg, const spy_trials *in, spy_op *op, spy_err *err)
{
  memset(op, 0, sizeof *op);
  pp_args A;
  int rc;
  char act[160], lgl[160], buf[160];
  if ((rc = empty_data(in, err)) || (rc = check_common(cfg, in, &A, err))) return rc;
  const cJSON *dir = spy_cfg_item(cfg, "direction"), *win = spy_cfg_item(cfg, "window");

  pp_plan *P = calloc(1, sizeof *P);
  if (!P) return spy_fail(err, SPY_ENOMEM, "out of memory");
  op->plan = P;
  op->free_plan = pp_free;
  P->zscore = A.zscore;
  P->poly = A.poly;
  P->step = 1;
  P->out_dtype = SPY_DT_F32;

  const char *cf = A.zscore ? "standardize_cF" : NULL;
  size_t maxlen, minlen = min_len(in, &maxlen);
  long order = 0;
  const char *direction = NULL;

  if (A.fclass && strcmp(A.fclass, "but") == 0) {
    if (!isnull(win) && !(cJSON_IsString(win) && strcmp(win->valuestring, "hamming") == 0)) {
      spy_lua_str(win, act, sizeof act);
      return spy_fail_value(err, "window", act, "no `window` setting for IIR filtering");
    }
    if ((rc = direction_of(dir, NAMES(iir_directions), "twopass", "IIR", &direction, err)))
      return rc;
    if (A.have_order)
      order = (long)A.order;
    else {
      order = 4;
      spy_py_info("preprocessing", "Setting default order for IIR filter to %ld", order);
    }
    static const char *const ineffective[] = {"window", NULL};
    if (isnull(win)) no_effect(cfg, ineffective, "ButFiltering");

    if (order > 1000)
      return spy_fail_value(err, "order", NULL, "a Butterworth order of at most 1000");
    size_t nsec = spy_sos_nsections(spy_butter_npoles((int)order, A.btype));
    P->sos = malloc(nsec * 6 * sizeof *P->sos);
    P->zi = malloc(nsec * 2 * sizeof *P->zi);
    if (!P->sos || !P->zi) return spy_fail(err, SPY_ENOMEM, "out of memory");
    rc = spy_butter_sos((int)order, A.freq, in->samplerate, A.btype, P->sos, &P->nsec, err);
    if (rc) return rc;
    spy_sosfilt_zi(P->sos, P->nsec, P->zi);
    P->edge = spy_sosfiltfilt_edge(P->sos, P->nsec);
    P->twopass = strcmp(direction, "twopass") == 0;
    P->filt = FILT_BUT;
    P->nanmsg = nan_but;
    if (P->twopass)
      for (size_t k = 0; k < in->ntrials; k++)
        if (spy_trial_len(in, k) <= P->edge)
          return spy_fail(err, SPY_EINVAL,
                          "trial %zu has %zu samples; a two-pass Butterworth filter of order "
                          "%ld needs trials longer than %zu samples (scipy.signal.sosfiltfilt "
                          "pads %zu samples at each edge); use direction='onepass' or a lower "
                          "order",
                          k, spy_trial_len(in, k), order, P->edge, P->edge);
    cf = "but_filtering_cF";
  } else if (A.fclass) { /* firws */
    if (!str_in(win, windows)) {
      spy_lua_str(win, act, sizeof act);
      spy_py_or_list(NAMES(windows), lgl, sizeof lgl);
      return spy_fail_value(err, "window", act, "%s", lgl);
    }
    if ((rc = direction_of(dir, NAMES(directions), "onepass", "FIR", &direction, err)))
      return rc;
    if (A.have_order)
      order = (long)A.order;
    else {
      order = minlen < 1000 ? (long)minlen : 1000;
      spy_py_info("preprocessing", "Setting order for FIR filter to %ld", order);
    }
    double fc[2] = {A.freq[0] / in->samplerate, A.freq[1] / in->samplerate};
    if ((rc = plan_fir(P, win->valuestring, order, fc, A.btype,
                       strcmp(direction, "onepass-minphase") == 0, maxlen, err)))
      return rc;
    P->passes = strcmp(direction, "twopass") == 0 ? 2 : 1;
    if ((rc = plan_twopass(P, maxlen, err))) return rc;
    P->nanmsg = nan_plain;
    cf = "sinc_filtering_cF";
  } else if (A.poly >= 0 && !A.zscore) {
    static const char *const ineffective[] = {"filter_type", "freq", "order", "direction",
                                              "window", NULL};
    no_effect(cfg, ineffective, "Detrending");
    P->filt = FILT_DETREND;
    P->nanmsg = nan_plain;
    cf = "detrending_cF";
  }

  if (A.rectify) {
    P->post = POST_RECTIFY;
    cf = "rectify_cF";
  } else if (A.hilbert) {
    P->post = POST_HILBERT;
    spy_specout_parse(strcmp(A.hilbert, "complex") == 0 ? "fourier" : A.hilbert, &P->hout);
    P->out_dtype = spy_specout_dtype(P->hout);
    if ((rc = plan_hilbert(P, in, err))) return rc;
    cf = "hilbert_cF";
  }

  op->name = "preprocessing";
  op->kernel = pp_kernel;
  op->scratch_bytes = pp_scratch;
  op->stream = pp_stream;
  op->in_f32 = !P->resample && lane_fir(P);
  op->stream_scratch = pp_stream_scratch;
  op->chan_independent = true;
  op->cls = SPY_ANALOG;
  op->out_dtype = P->out_dtype;
  op->ninner = 0;
  op->ntrials = in->ntrials;
  op->samplerate = in->samplerate;
  op->out_trlcols = in->trlcols;
  op->out_rows = malloc(in->ntrials * sizeof *op->out_rows);
  op->out_trldef = malloc(in->ntrials * in->trlcols * sizeof *op->out_trldef);
  if (!op->out_rows || !op->out_trldef) return spy_fail(err, SPY_ENOMEM, "out of memory");
  memcpy(op->out_trldef, in->trldef, in->ntrials * in->trlcols * sizeof *op->out_trldef);
  for (size_t k = 0; k < in->ntrials; k++) op->out_rows[k] = spy_trial_len(in, k);
  if (P->nanmsg && P->post == POST_NONE) {
    op->info = cJSON_CreateObject();
    if (!op->info || !cJSON_AddArrayToObject(op->info, "nan_trials"))
      return spy_fail(err, SPY_ENOMEM, "out of memory");
  }

  spy_history h = {0};
  spy_history_add_json(&h, "polyremoval", spy_cfg_item(cfg, "polyremoval"));
  spy_history_add(&h, "zscore", A.zscore ? "True" : "False");
  if (A.fclass) {
    if (A.have_order)
      spy_py_num(A.order, buf, sizeof buf);
    else
      snprintf(buf, sizeof buf, "%ld", order);
    spy_history_add(&h, "order", buf);
    spy_history_add(&h, "direction", direction);
    spy_history_add(&h, "filter_class", A.fclass);
    spy_history_add(&h, "filter_type", spy_btype_name(A.btype));
    fmt_freq(&A, buf, sizeof buf);
    spy_history_add(&h, "freq", buf);
  }
  if (A.rectify)
    spy_history_add(&h, "rectify", "True");
  else if (A.hilbert)
    spy_history_add(&h, "hilbert", A.hilbert);
  return finish_log(op, cf, &h, err);
}

const char *spy_preprocessing_nan_warning(const spy_op *op)
{
  if (!op || op->free_plan != pp_free || !op->plan) return NULL;
  return ((const pp_plan *)op->plan)->nanmsg;
}

/* ---- spy.resampledata ------------------------------------------------------- */

static const char *const rs_methods[] = {"downsample", "resample", NULL};

int spy_resampledata_plan(const cJSON *cfg, const spy_trials *in, spy_op *op, spy_err *err)
{
  memset(op, 0, sizeof *op);
  int rc;
  char act[160], lgl[160], his[64], buf[64];
  const cJSON *method = spy_cfg_item(cfg, "method"), *fsv = spy_cfg_item(cfg, "resamplefs");
  const cJSON *lpv = spy_cfg_item(cfg, "lpfreq"), *ordv = spy_cfg_item(cfg, "order");
  if (!str_in(method, rs_methods)) {
    spy_lua_str(method, act, sizeof act);
    spy_py_or_list(NAMES(rs_methods), lgl, sizeof lgl);
    return spy_fail_value(err, "method", act, "%s", lgl);
  }
  if ((rc = empty_data(in, err))) return rc;
  size_t maxlen, minlen = min_len(in, &maxlen);
  const double fs = in->samplerate;
  spy_py_float(fs, his, sizeof his);
  if ((rc = spy_scalar_parser(fsv, "resamplefs", false, 1, fs, "1", his, err))) return rc;
  const double newfs = fsv->valuedouble;
  long order;
  if (!isnull(ordv)) {
    if ((rc = spy_scalar_parser(ordv, "order", true, 0, INFINITY, "0", "inf", err)) ||
        (rc = fir_order_limit(ordv, err)))
      return rc;
    order = (long)ordv->valuedouble;
    if (ordv->valuedouble < 100) {
      spy_py_num(ordv->valuedouble, buf, sizeof buf);
      spy_py_warning("resampledata",
           "You have chosen an anti-alias filter of very low `order=%s`, expect a slow roll-off!",
           buf);
    }
  } else
    order = minlen < 1000 ? (long)minlen : 1000;
  if (!isnull(lpv)) {
    spy_py_float(newfs / 2, his, sizeof his);
    if ((rc = spy_scalar_parser(lpv, "lpfreq", false, 0, newfs / 2, "0", his, err))) return rc;
  }

  pp_plan *P = calloc(1, sizeof *P);
  if (!P) return spy_fail(err, SPY_ENOMEM, "out of memory");
  op->plan = P;
  op->free_plan = pp_free;
  P->poly = -1;
  P->step = 1;
  P->out_dtype = in->dtype == SPY_DT_F64 ? SPY_DT_F64 : SPY_DT_F32;

  const char *cf;
  bool down = strcmp(method->valuestring, "downsample") == 0;
  double rem = fmod(fs, newfs);

  op->out_rows = malloc(in->ntrials * sizeof *op->out_rows);
  op->out_trldef = malloc(in->ntrials * 3 * sizeof *op->out_trldef);
  if (!op->out_rows || !op->out_trldef) return spy_fail(err, SPY_ENOMEM, "out of memory");

  if (down) {
    if (rem != 0) {
      spy_lua_str(fsv, act, sizeof act);
      return spy_fail_value(err, "resamplefs", act,
                            "integer division of the original sampling rate for "
                            "`method='downsample'`");
    }
    P->step = (size_t)floor(fs / newfs);
    if (!isnull(lpv)) {
      double fc[1] = {lpv->valuedouble / fs};
      if ((rc = plan_fir(P, "hamming", order, fc, SPY_LOWPASS, false, maxlen, err))) return rc;
      P->passes = 2;
      if ((rc = plan_twopass(P, maxlen, err))) return rc;
      P->out_dtype = SPY_DT_F32;
    }
    for (size_t k = 0; k < in->ntrials; k++) {
      size_t n = spy_trial_len(in, k);
      op->out_rows[k] = n / P->step + (n % P->step != 0);
    }
    cf = "downsample_cF";
  } else {
    if (rem == 0)
      spy_py_warning("resampledata", "New sampling rate is an integer division of the original "
                                     "sampling rate, consider using `method='downsample'`");
    P->resample = true;
    if (spy_rational_approx(newfs / fs, 1000000, &P->pp.up, &P->pp.down))
      return spy_fail_value(err, "resamplefs", NULL,
                            "a ratio resamplefs/samplerate above 2^-40");
    double fcut = isnull(lpv) ? 0.5 * (newfs / fs) : lpv->valuedouble / fs;
    P->copy = P->pp.up == 1 && P->pp.down == 1;
    long up = P->pp.up, down = P->pp.down;
    if (!P->copy) {
      if (fcut == 0)
        return spy_fail(err, SPY_ENOTSUP,
                        "lpfreq=0 makes Syncopy fall back to SciPy's default Kaiser filter, "
                        "which spy does not reproduce; use lpfreq > 0");
      size_t m = spy_wsinc_len(order);
      double *h = malloc(m * sizeof *h), f1[1] = {fcut / (double)up};
      if (!h) return spy_fail(err, SPY_ENOMEM, "out of memory");
      rc = spy_design_wsinc("hamming", order, f1, SPY_LOWPASS, h, err);
      for (size_t i = 0; !rc && i < m; i++) h[i] *= (double)up;
      if (!rc && spy_polyphase_init(&P->pp, h, m, up, down))
        rc = spy_fail(err, SPY_ENOMEM, "out of memory");
      free(h);
      if (rc) return rc;
    }
    for (size_t k = 0; k < in->ntrials; k++)
      op->out_rows[k] = P->copy ? spy_trial_len(in, k)
                                : spy_resample_len(spy_trial_len(in, k), up, down);
    cf = "resample_cF";
  }

  /* Syncopy's trial definition; where its float arithmetic would disagree
  ** with the samples actually produced, the produced length wins */
  spy_resample_trldef(in->trldef, in->ntrials, in->trlcols, newfs / fs, op->out_trldef);
  for (size_t k = 0; k < in->ntrials; k++) {
    double *r = op->out_trldef + 3 * k;
    if (r[1] - r[0] != (double)op->out_rows[k]) r[1] = r[0] + (double)op->out_rows[k];
  }

  op->name = "resampledata";
  op->kernel = pp_kernel;
  op->scratch_bytes = pp_scratch;
  op->stream = pp_stream;
  op->in_f32 = !P->resample && lane_fir(P);
  op->stream_scratch = pp_stream_scratch;
  op->chan_independent = true;
  op->cls = SPY_ANALOG;
  op->out_dtype = P->out_dtype;
  op->ntrials = in->ntrials;
  op->samplerate = newfs;
  op->out_trlcols = 3;

  spy_history h = {0};
  spy_history_add(&h, "method", method->valuestring);
  spy_py_num(newfs, buf, sizeof buf);
  spy_history_add(&h, "resamplefs", buf);
  spy_py_float(fs, buf, sizeof buf);
  spy_history_add(&h, "origfs", buf);
  if (!down) {
    spy_history_add_json(&h, "lpfreq", lpv);
    if (isnull(ordv))
      snprintf(buf, sizeof buf, "%ld", order);
    else
      spy_py_num(ordv->valuedouble, buf, sizeof buf);
    spy_history_add(&h, "order", buf);
  }
  return finish_log(op, cf, &h, err);
}
