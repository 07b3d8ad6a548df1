/*
** mtmfft: (multi-)tapered FFT of whole trials (syncopy.md 2.6).
**
** spy_mtmfft_plan takes parameters the freqanalysis frontend has already
** validated and resolved (transform length, tapers, frequency indices) and
** fills a spy_op: the tapers of every distinct trial length, evaluated and
** normalised once; the batched FFTW plans; output geometry
** (1 row x ntaper x nfreq x nchan per trial), freq axis, taper labels and
** trial definitions.  The kernel handles one trial or channel chunk:
** detrend, taper, rfft of length N, x sqrt(2)/sqrt(L N) (ft_compat:
** sqrt(2)/N), frequency selection, output conversion, taper mean.
**
** The spy_mtm_* pieces below are shared with mtmconvol.c: one batched
** transform of (taper x channel) rows, FFT-plan warm-up per channel chunk.
*/
#ifndef SPY_MTMFFT_H
#define SPY_MTMFFT_H

#include <complex.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "dsp/fft.h"
#include "dsp/spectral_common.h"
#include "dsp/taper.h"
#include "sched/op.h"

typedef struct spy_mtmfft_params {
  size_t nfft;            /* transform length N (the padded length) */
  const spy_taper *taper; /* copied */
  const size_t *fidx;     /* nfreq indices into rfftfreq(N), output order */
  size_t nfreq;
  spy_specout output;
  bool keeptapers; /* K taper rows out; else the mean over tapers */
  bool keeptrials;
  bool demean_taper; /* subtract each tapered channel's mean */
  bool ft_compat;    /* scale sqrt(2)/N instead of sqrt(2)/sqrt(L N) */
  int polyremoval;   /* 0 mean, 1 line, -1 none */
  size_t chan_chunk; /* channels per task the scheduler will use, 0: all */
} spy_mtmfft_params;

int spy_mtmfft_plan(const spy_mtmfft_params *p, const spy_trials *in, spy_op *op, spy_err *err);

/* ---- shared with mtmconvol.c ------------------------------------------- */

/* Bytes of a scratch region, rounded up so that every region starts
** SIMD-aligned (FFTW's new-array execute needs the planning alignment). */
static inline size_t spy_mtm_round(size_t bytes)
{
  return (bytes + 63) & ~(size_t)63;
}

/* Rows of one batched transform so that in + out stay near `cap` bytes:
** ceil(n / nblocks) units of `per` bytes for the fewest blocks, so the
** last block wastes less than one unit per block. */
size_t spy_mtm_block(size_t n, size_t per, size_t cap);

/* Batched r2c plan: howmany contiguous rows of length n (dist n, n/2+1). */
fftw_plan spy_mtm_fftplan(size_t n, size_t howmany, spy_err *err);

/* The plan's copy of the nfreq bins fidx (checked below nc) in a malloc'd
** *out; `method` names the plan in messages. */
int spy_mtm_bins(const char *method, const size_t *fidx, size_t nfreq, size_t nc, size_t **out,
                 spy_err *err);

/* The K x L tapers of t (DPSS with sym=True) for each of the nlen lengths,
** normalised for a transform of nfft samples (0: of the length itself), in
** a malloc'd array of malloc'd arrays *w (rows left NULL on failure; the
** caller frees what is there). */
int spy_mtm_tapers(const char *method, const spy_taper *t, const size_t *lens, size_t nlen,
                   size_t nfft, double ***w, spy_err *err);

/* The axes of an mtm result: SpectralData of output's dtype, (K when
** keeptapers, else 1) x nfreq inner shape, freq = rfftfreq(nfft,
** 1/samplerate) at bins fidx, taper labels of t.  SPY_ENOMEM when out of
** memory (no message). */
int spy_mtm_axes(spy_op *op, const spy_taper *t, bool keeptapers, spy_specout output,
                 const size_t *fidx, size_t nfreq, size_t nfft, double samplerate);

/* Plans ahead (FFTW_MEASURE can take a while) the transforms a kernel will
** look up for every channel-chunk size the scheduler can hand it: all
** channels, or chunks of `chunk` and the remainder.  `howmany(ctx, nchan)`
** gives the rows for a chunk of nchan channels. */
int spy_mtm_warm(size_t n, size_t nchan, size_t chunk, size_t (*howmany)(const void *, size_t),
                 const void *ctx, spy_err *err);

/*
** Detrending after the transform.  Removing mean m and slope b before the
** taper equals subtracting m W(f) + b V(f) from the spectrum, W and V the
** transforms of w and w (n - nbar); demean_taper likewise subtracts
** mu D(f), D the transform of L ones and mu the tapered mean.  So a kernel
** reads its input once (transpose, taper, sums) and corrects only the
** output bins.  Built at plan time, per taper, at the output bins.
*/
typedef struct spy_mtm_corr {
  double complex *W; /* K x nfreq */
  double complex *V; /* K x nfreq, linear detrending only (else NULL) */
  double complex *D; /* nfreq, demean_taper only (else NULL) */
  double *W0, *V0;   /* K: sum w, sum w (n - nbar) over all L samples */
} spy_mtm_corr;

/* w: K x L tapers; bins fidx of the length-N transform of the first
** min(L, N) samples; nbar = (L - 1)/2.  Runs the batched plan (N, rows)
** the kernel uses (already planned).  Free with spy_mtm_corr_free. */
int spy_mtm_corr_make(const double *w, size_t K, size_t L, size_t N, const size_t *fidx,
                      size_t nfreq, bool linear, bool demean, size_t rows, spy_mtm_corr *c,
                      spy_err *err);
void spy_mtm_corr_free(spy_mtm_corr *c);

/*
** One (multi-)tapered transform of x (L x C, row-major) into one output row
** (ntaper x nfreq x C in the output dtype; ntaper = 1 when `avg`): one pass
** over x (transpose, taper, sums), rfft of length N (zero-padded, or
** truncated when N < L) as ONE batched transform of (taper x channel) rows
** (in blocks of tapers for very large inputs), detrending corrections,
** x scale, bins fidx, conversion, taper mean.  Scratch: spy_mtm_scratch
** bytes, SIMD-aligned.  Sets SPY_TASK_HAS_NAN in *flags when an output is
** NaN.  The mtmfft kernel, and mtmconvol's window per toi.
*/
typedef struct spy_mtm_args {
  size_t N;           /* transform length */
  size_t K;           /* tapers */
  const double *w;    /* K x L, normalised */
  const size_t *fidx; /* nfreq bins of rfftfreq(N) */
  size_t nfreq;
  spy_specout output;
  bool avg; /* mean over the K tapers */
  bool demean_taper;
  int poly;                 /* detrending: 0 mean, 1 line, -1 none */
  double scale;             /* sqrt(2)/sqrt(L N), sqrt(2)/N, ... */
  const spy_mtm_corr *corr; /* for this w; NULL when poly < 0 and no demean_taper */
} spy_mtm_args;

int spy_mtm_transform(const spy_mtm_args *a, const double *x, size_t L, size_t C, void *out,
                      void *scratch, unsigned *flags, spy_err *err);
size_t spy_mtm_scratch(const spy_mtm_args *a, size_t L, size_t C);
/* Rows (taper x channel) of the batched transform spy_mtm_transform runs
** for C channels: its FFT plan is (N, spy_mtm_rows). */
size_t spy_mtm_rows(const spy_mtm_args *a, size_t C);

/* ---- building blocks ------------------------------------------------------ */

/*
** The tapered transpose of n samples of x (n x C, row-major), in one pass:
** rows[c ld + j] = w[j] x[j C + c] (w NULL: no taper), in 8-sample tiles
** (`tile`: 8 x C doubles) so both sides stay in cache.  Adds each
** channel's sum_j x to sum[c] when sum is not NULL and, when sumd is not
** NULL, sum_j (j - jbar) x to sumd[c]: the trend follows from them (a
** caller that does not detrend passes NULL for both).
*/
void spy_mtm_fill(const double *restrict x, size_t n, size_t C, const double *restrict w,
                  double jbar, double *restrict rows, size_t ld, double *restrict tile,
                  double *restrict sum, double *restrict sumd);

/* mean[c] = sum[c] / L and slope[c] = sumd[c] / sum_j (j - jbar)^2 for
** `order` (0 mean, 1 line, -1 none: zeros); may work in place. */
void spy_mtm_trend(int order, size_t L, size_t C, const double *sum, const double *sumd,
                   double *mean, double *slope);

/*
** Power of the corrected bins of C spectra (rows of nc bins, channel c at
** F + c nc) at bins fidx[0..nf): |F - m W - b V|^2 s2 written to
** out[f C + c] (float), or added to acc[f C + c] when out is NULL.  Returns
** the sum of the values (NaN when one is).
*/
double spy_mtm_pow(const double complex *F, size_t nc, size_t C, const size_t *fidx, size_t nf,
                   const double complex *W, const double complex *V, const double *mean,
                   const double *slope, double s2, float *out, double *acc);

/*
** One taper's C spectra (rows of nc bins, channel c at F + c nc) at bins
** fidx[0..nf), corrected (F - m W - b V - mu D, NULL terms and a NULL mu
** skipped), times scale, converted to `output` and written to out[f C + c]
** (float, complex float for fourier; power |.|^2 scale^2).  Returns the sum
** of the values (NaN when one is).
*/
double spy_mtm_emit(const double complex *F, size_t nc, size_t C, const size_t *fidx, size_t nf,
                    const double complex *W, const double complex *V, const double complex *D,
                    const double *mean, const double *slope, const double *mu, double scale,
                    spy_specout output, void *out);

/* The corrected bin i: F - m W[i] - b V[i] - mu D[i] (NULL terms skipped). */
static inline double complex spy_mtm_bin(double complex F, const double complex *W,
                                         const double complex *V, const double complex *D, size_t i,
                                         double m, double b, double mu)
{
  if (W) F -= m * W[i];
  if (V) F -= b * V[i];
  if (D) F -= mu * D[i];
  return F;
}

#endif
