/*
** Machinery shared by the wavelet and superlet methods (syncopy.md 2.9,
** 2.10): 'same'-mode FFT convolution of real signals with a bank of complex
** kernels, evaluated only at the output samples that are asked for; the
** `toi` selection of wavelet methods; Syncopy's automatic scale grid; and
** the small pieces of Syncopy's plumbing both plans repeat (ineffective
** keyword warnings, numpy's array printing for messages and logs).
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
** Ownership: a spy_cwt_bank owns its spectra and twiddle tables (FFTW plans
** belong to the cache of dsp/fft.h); spy_cwt_bank_free releases them and is
** safe on a zeroed bank.  A spy_cwt_sel owns its arrays likewise.
*/
#ifndef SPY_CWT_H
#define SPY_CWT_H

#include <cjson/cJSON.h>
#include <complex.h>
#include <fftw3.h>
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
  double complex *tw;  /* e^{2 pi i j/nfft}, j < nfft (NULL when k == 1) */
} spy_cwt_class;

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
} spy_cwt_bank;

/* Samples kernel i (len[i] values, see spy_cwt_bank_build) into h. */
typedef void (*spy_cwt_fill)(const void *ctx, size_t i, double complex *h);

/*
** Builds the bank for nkern kernels of lengths len[] sampled by fill(ctx,..),
** for the trial sections of sel: output step k and residue needs come from
** sel (k = 1 for "all").  Plans every FFT the kernel will execute.
*/
int spy_cwt_bank_build(spy_cwt_bank *b, size_t nkern, const size_t *len, spy_cwt_fill fill,
                       const void *ctx, const spy_cwt_sel *sel, spy_err *err);
void spy_cwt_bank_free(spy_cwt_bank *b);

/*
** Per-task work, in blocks of up to SPY_CWT_CB channels.
** spy_cwt_scratch_bytes sizes the scratch of a task on a trial of nsamp
** samples plus `extra` bytes for the caller; spy_cwt_begin lays the work
** area out in it and returns the caller's part.  For each block
** (spy_cwt_block gives its size: 4, 2 or 1), spy_cwt_channels loads
** channels col0.. of task->in, detrends each over the whole trial with
** `poly` and transforms it once per FFT class; spy_cwt_apply then evaluates
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
size_t spy_cwt_nout(const spy_cwt_work *w);
size_t spy_cwt_block(size_t remaining);
/* False when a channel holds NaN (its outputs are then NaN, as in Syncopy). */
bool spy_cwt_channels(spy_cwt_work *w, size_t col0, size_t cb, int poly);
void spy_cwt_apply(spy_cwt_work *w, size_t i, double complex *vals);

/* ---- scales ----------------------------------------------------------------- */

/* get_optimal_wavelet_scales (dj = 0.25), low frequencies first; s0 is
** scale_from_period(2 dt).  Returns the count written to a malloc'd *scales. */
size_t spy_cwt_optimal_scales(double s0, size_t nsamples, double dt, double **scales);
/* The foi of the wavelet methods: c->foi, or 1 Hz steps over c->foilim,
** values below 0.01 set to 0.01.  NULL/0 when neither is given. */
size_t spy_cwt_foi(const spy_fa_common *c, double **foi);
/* int(minTrialLength * samplerate) as Syncopy computes it. */
size_t spy_cwt_min_nsamples(const spy_trials *in);

/* ---- Syncopy plumbing ----------------------------------------------------- */

/* scalar_parser(cfg[name], lims=[lo, hi], ntype="int_like" if intlike) with
** Syncopy's messages (hi may be INFINITY). */
int spy_cwt_scalar_check(const cJSON *cfg, const char *name, double lo, double hi, bool intlike,
                         spy_err *err);

/* check_effective_parameters: WARNING "option `<k>` has no effect for
** `<cls>`!" for every keyword outside `expected` ('|'-separated) that
** differs from its default. */
void spy_cwt_warn_ineffective(const cJSON *cfg, const char *cls, const char *expected);

/* str() of a 1-D float64 numpy array with numpy's default print options
** (numpy 1.24: 'maxprec' 8 digits, scientific when the magnitudes call for
** it, lines wrapped at 75 columns, more than 1000 values summarised). */
void spy_np_str(const double *v, size_t n, char *buf, size_t bufsz);
/*
** Syncopy's history entry: "computed <cf> with settings\n\t<k> = <v>\n...".
** Values are formatted as str() of the Python value and shortened as
** Syncopy does (80 characters or more: first 30 + ", ..., " + last 30), so
** they fit 128-byte buffers.  spy_cwt_logcfg formats cfg[key],
** spy_cwt_lognp a float64 numpy array, spy_cwt_logcommon the head of
** freqanalysis' log_dct (method, output, keeptapers, keeptrials,
** polyremoval, pad, toi) into bufs[0..6] and pairs; spy_cwt_logtext joins
** key/value pairs (NULL-terminated) into a malloc'd entry.
*/
void spy_cwt_logcfg(const cJSON *cfg, const char *key, char *dst, size_t n);
void spy_cwt_lognp(const double *v, size_t n, char *dst, size_t dn);
size_t spy_cwt_logcommon(const cJSON *cfg, const char **pairs, char (*bufs)[128]);
char *spy_cwt_logtext(const char *cf, const char *const *pairs);

#endif
