/*
** Machinery shared by the wavelet and superlet methods (syncopy.md 2.9,
** 2.10): 'same'-mode FFT convolution of real signals with a bank of complex
** kernels, evaluated only at the output samples that are asked for; the
** `toi` selection of wavelet methods; the kernels' support; Syncopy's
** automatic scale grid; and what both plans build around their kernels
** (output geometry, history entry).
**
** Convolution (docs/internals/wavelets.md).  A kernel h of length L is
** applied as scipy's fftconvolve(x, h, mode="same"): out[n] = full[n + c0]
** with c0 = (L-1)/2 and the data implicitly zero-padded.  The bank stores,
** once per plan, every kernel's spectrum on a circular grid of length nfft
** >= Nmax + max(c0, L-1-c0) (no wrap-around can reach an output), centred
** so that circular index 0 is kernel sample c0, and scaled by 1/nfft.
** Kernels of similar length share an FFT length ("class"); the signal is
** transformed once per class and channel.  Outputs are wanted on a grid of
** step k (toi subsampling): nfft is a multiple of k, and the samples
** n = rho + k*m of one residue rho come from folding the product spectrum
** into nfft/k bins and one inverse FFT of length nfft/k, which is exact.
** Each residue present among a trial's output indices costs one fold;
** trials whose indices use too many residues take the full inverse FFT.
**
** The spectra (and twiddle tables) are computed on first use, by the tasks
** (spy_cwt_ready), not by the plan: they are independent, so every worker
** of a run claims items not yet claimed and makes them in its own scratch
** until all are done; a sequential run does the same work in its first
** task.  Each item is made by the same code from the same input whoever
** makes it, so the numbers do not depend on the worker count
** (docs/internals/wavelets.md, "The bank on first use").
**
** Ownership: a spy_cwt_bank owns its spectra and twiddle tables (FFTW plans
** belong to the cache of dsp/fft.h); spy_cwt_bank_free releases them and is
** safe on a zeroed bank.  A spy_cwt_sel owns its arrays likewise.
*/
#ifndef SPY_CWT_H
#define SPY_CWT_H

#include <cjson/cJSON.h>
#include <complex.h>
#include <fftw3.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "dsp/freqanalysis.h"
#include "sched/op.h"

/* ---- toi selection ------------------------------------------------------ */

/*
** Syncopy's preSelect/postSelect per trial: the analysed section [a, a+n) of
** the trial (after the whole-trial detrend), and nout output rows taken at
** section indices idx[m] (NULL: every sample, nout = n).
*/
typedef struct spy_cwt_sel {
  bool all;            /* toi = "all" */
  size_t ntrials;
  size_t *a, *n;       /* per trial */
  size_t ntoi;         /* rows per trial when !all */
  double *toi;         /* the toi array (ntoi) */
  size_t *idx;         /* ntrials x ntoi section indices, when !all */
  double samplerate;   /* output samplerate (input's for "all", 1 when uneven) */
  bool uneven;         /* steps not allclose to the first (Syncopy warns) */
} spy_cwt_sel;

/*
** Validates cfg "toi" for method `name` ("wavelet"/"superlet") against the
** trials, with Syncopy's messages, and fills sel.  Index sets Syncopy could
** not use (it raises IndexError) are reported as an invalid `toi`.
*/
int spy_cwt_sel_parse(const cJSON *cfg, const spy_trials *in, const spy_fa_common *c,
                      spy_cwt_sel *sel, spy_err *err);
void spy_cwt_sel_free(spy_cwt_sel *sel);
/* Output trial definitions and samplerate (syncopy.md 2.7 rules), with
** Syncopy's warning for unevenly spaced toi. */
int spy_cwt_sel_trldef(const spy_cwt_sel *sel, const spy_trials *in, bool average, spy_op *op);

/* ---- kernel bank ---------------------------------------------------------- */

typedef struct spy_cwt_class {
  size_t nfft, nf;     /* FFT length, folded length nfft/k */
  fftw_plan r2c;       /* real nfft -> half spectrum */
  fftw_plan inv[3];      /* backward, length nf, batches of 1, 2, 4 interleaved channels */
  fftw_plan inv_full[3]; /* the same of length nfft (NULL unless needed) */
  double complex *tw;  /* e^{2 pi i j/nfft}, j < nfft (NULL when maxres == 1) */
} spy_cwt_class;

typedef struct spy_cwt_lazy spy_cwt_lazy;

typedef struct spy_cwt_bank {
  size_t k;             /* output grid step */
  size_t nmax;          /* longest analysed section */
  size_t nclass;
  spy_cwt_class *cls;
  size_t nkern;
  size_t *kcls;         /* class of each kernel */
  size_t *hoff;         /* offset of each spectrum in hre/him */
  double *hre, *him;    /* spectra, split real/imaginary */
  size_t ntoi;          /* output rows per trial (0 for "all") */
  size_t maxres;        /* most residues any trial needs (1 for "all") */
  bool need_full;
  size_t bytes;         /* memory held by spectra and tables */
  size_t maxlen;        /* longest kernel */
  spy_cwt_lazy *lazy;   /* what spy_cwt_ready needs to make the spectra */
} spy_cwt_bank;

/* Samples kernel i (len[i] values, see spy_cwt_bank_build) into h. */
typedef void (*spy_cwt_fill)(const void *ctx, size_t i, double complex *h);

/*
** Builds the bank for nkern kernels of lengths len[] sampled by fill(ctx,..),
** for the trial sections of sel: output step k and residue needs come from
** sel (k = 1 for "all").  Plans every FFT the kernel will execute and
** allocates the spectra; spy_cwt_ready fills them.  fill must be safe to
** call from several threads at once, and ctx must live as long as the bank.
*/
int spy_cwt_bank_build(spy_cwt_bank *b, size_t nkern, const size_t *len, spy_cwt_fill fill,
                       const void *ctx, const spy_cwt_sel *sel, spy_err *err);
void spy_cwt_bank_free(spy_cwt_bank *b);

/*
** Per-task work, in blocks of up to SPY_CWT_CB channels.
** spy_cwt_scratch_bytes sizes the scratch of a task on a trial of nsamp
** samples plus `extra` bytes for the caller; spy_cwt_begin lays the work
** area out in it and returns the caller's part.  spy_cwt_ready, before the
** task's first spy_cwt_channels (it works in the same part of the scratch),
** makes sure every kernel spectrum is stored (SPY_OK, or SPY_EINTR on
** Ctrl-C), making those no other task has claimed.  For each block
** (spy_cwt_block gives its size: 4, 2 or 1), spy_cwt_channels loads
** channels col0.. of task->in (float64, or the stored float32 values when
** the scheduler sets SPY_TASK_IN_F32: the plans set op->in_f32), detrends
** each over the whole trial with `poly` and transforms it once per FFT class; spy_cwt_apply then evaluates
** kernel i at the trial's output rows: vals[c * nout + m] for channel c of
** the block and output row m.
*/
#define SPY_CWT_CB 4

typedef struct spy_cwt_work spy_cwt_work;

size_t spy_cwt_scratch_bytes(const spy_cwt_bank *b, size_t nsamp, size_t extra);
/* Most output rows of a task on a trial of nsamp samples. */
size_t spy_cwt_maxout(const spy_cwt_bank *b, size_t nsamp);
void *spy_cwt_begin(spy_cwt_work **w, const spy_cwt_bank *b, const spy_cwt_sel *sel,
                    const spy_task *task, void *scratch);
int spy_cwt_ready(spy_cwt_work *w);
size_t spy_cwt_nout(const spy_cwt_work *w);
size_t spy_cwt_block(size_t remaining);
/* False when a channel holds NaN (its outputs are then NaN, as in Syncopy). */
bool spy_cwt_channels(spy_cwt_work *w, size_t col0, size_t cb, int poly);
void spy_cwt_apply(spy_cwt_work *w, size_t i, double complex *vals);

/* ---- kernel support ---------------------------------------------------------- */

/* numpy.arange(start, stop) of floats: ceil(stop - start) values (none when
** that is not positive), value j computed as numpy does: start, start + 1,
** then start + j*delta with delta = (start + 1) - start. */
static inline size_t spy_arange_len(double start, double stop)
{
  double span = ceil(stop - start);
  return span > 0 ? (size_t)span : 0;
}

static inline double spy_arange_at(double start, size_t j)
{
  double delta = (start + 1.0) - start;
  return j == 0 ? start : (j == 1 ? start + 1.0 : start + (double)j * delta);
}

/* The sample grid of a wavelet of M points, numpy.arange((-M+1)/2, (M+1)/2):
** its length, and its first value in *start. */
static inline size_t spy_cwt_support(double M, double *start)
{
  *start = (-M + 1) / 2.0;
  return spy_arange_len(*start, (M + 1) / 2.0);
}

/* ---- the plan around the kernels --------------------------------------------- */

/* A method's conversions between scale and Fourier period (ctx: its plan). */
typedef struct spy_cwt_grid {
  double (*scale)(const void *ctx, double period);
  double (*period)(const void *ctx, double scale);
  const void *ctx;
} spy_cwt_grid;

/*
** The scales of a wavelet method and the foi they stand for (both
** malloc'd, n >= 1 values): the scales of periods 1/f for c->foi (or 1 Hz
** steps over c->foilim, values below 0.01 set to 0.01), or else Syncopy's
** automatic grid (get_optimal_wavelet_scales, dj = 0.25, from the scale of
** period 2 dt over the shortest trial; INFO "Setting frequencies of
** interest to ...").  On failure nothing is left allocated.
*/
int spy_cwt_scales(const spy_fa_common *c, const spy_trials *in, const spy_cwt_grid *g,
                   double **scales, double **foi, size_t *n, spy_err *err);

/*
** The op around a wavelet method's kernel: output geometry (1 taper "None",
** n frequencies 1/period of the scales, in that order), trial definitions
** of sel, and the history entry "computed <cf> with settings": the head of
** spy_fa_history, toi, foi (the user's order) and the cfg keywords `extra`
** (NULL-terminated).  The caller sets name, plan, kernel and scratch.
*/
int spy_cwt_op(spy_op *op, const cJSON *cfg, const spy_fa_common *c, const spy_cwt_sel *sel,
               const spy_trials *in, const spy_cwt_grid *g, const double *scales,
               const double *foi, size_t n, const char *cf, const char *const *extra,
               spy_err *err);

#endif
