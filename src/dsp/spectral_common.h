/*
** Pieces every spectral method shares (freqanalysis, and the Hilbert outputs
** of preprocessing): Syncopy's output conversions, de-trending, the rfft
** frequency grid, nearest-neighbour frequency matching and the output trial
** definitions of time-frequency results.
*/
#ifndef SPY_SPECTRAL_COMMON_H
#define SPY_SPECTRAL_COMMON_H

#include <complex.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/array.h"
#include "core/err.h"
#include "sched/op.h"

/* Syncopy's spectralConversions (syncopy.md 2.1). */
typedef enum {
  SPY_OUT_POW,     /* real(x conj(x))      float32 */
  SPY_OUT_ABS,     /* |x|                  float32 */
  SPY_OUT_FOURIER, /* x ("complex" alias)  complex64 */
  SPY_OUT_REAL,    /* real(x)              float32 */
  SPY_OUT_IMAG,    /* imag(x)              float32 */
  SPY_OUT_ANGLE,   /* atan2(imag, real)    float32 */
  SPY_OUT_ABSREAL, /* |real(x)|            float32 */
  SPY_OUT_ABSIMAG  /* |imag(x)|            float32 */
} spy_specout;

/* "pow", "abs", "fourier", "complex", ... -> SPY_OUT_*; SPY_EINVAL if unknown. */
int spy_specout_parse(const char *name, spy_specout *out);
/* Allowed names in Syncopy's order, '|'-separated (for keyword specs). */
extern const char spy_specout_names[];
spy_dtype spy_specout_dtype(spy_specout o);

/* dst[k*stride] = convert(x[k]) for k < n; dst is float32 or complex64 as
** spy_specout_dtype(o), stride in elements of that type. */
void spy_specout_convert(spy_specout o, const double complex *x, size_t n, void *dst,
                         size_t stride);
/* Single value, as double complex (the real outputs in the real part). */
double complex spy_specout_value(spy_specout o, double complex x);

/*
** De-trending as scipy.signal.detrend along time of x (nsamp x nch,
** row-major), in place: order 0 removes each channel's mean ("constant"),
** order 1 its least-squares line ("linear"), order < 0 does nothing
** (polyremoval=None).
*/
void spy_detrend(double *x, size_t nsamp, size_t nch, int order);

/* numpy.fft.rfftfreq(n, 1/fs): k * fs / n for k = 0 .. n/2. */
static inline double spy_rfftfreq(size_t k, size_t n, double fs)
{
  return (double)k * fs / (double)n;
}

/* Python's slice(start, stop) of an axis of length L (negative bounds
** count from the end): the samples [*a, *a + *n). */
static inline void spy_pyslice(long start, long stop, size_t L, size_t *a, size_t *n)
{
  long l = (long)L;
  if (start < 0) start = start + l < 0 ? 0 : start + l;
  if (start > l) start = l;
  if (stop < 0) stop = stop + l < 0 ? 0 : stop + l;
  if (stop > l) stop = l;
  *a = (size_t)start;
  *n = stop > start ? (size_t)(stop - start) : 0;
}

/*
** Syncopy's best_match (syncopy.md 2.5): for each sel[j] the index of the
** nearest value of src (ascending), a tie going to the higher neighbour.
** With `squash`, repeated indices are dropped keeping the first occurrence
** (so the user's order is kept).  Returns the number of indices written to
** idx (room for nsel).
*/
size_t spy_best_match(const double *src, size_t n, const double *sel, size_t nsel, bool squash,
                      size_t *idx);
/* best_match(span=True): every i with lo <= src[i] <= hi, ascending. */
size_t spy_best_match_span(const double *src, size_t n, double lo, double hi, size_t *idx);

/*
** Output trial definitions of time-frequency results (syncopy.md 2.7):
** - spy_tf_trldef_all: one output row per input sample; starts and stops
**   re-cumulated (trial k starts where trial k-1 stopped), offsets and
**   trialinfo columns kept;
** - spy_tf_trldef_toi: `ntoi` rows per trial, cumulative; offset column =
**   toi0 * out_samplerate;
** and, when `average` (keeptrials=false), a single row: trial 0's row with the
** mean of the offsets.  Fill op->out_trldef, op->out_trlcols, op->out_rows
** (per input trial).  Return SPY_OK or SPY_ENOMEM.
*/
int spy_tf_trldef_all(const spy_trials *in, bool average, spy_op *op);
/* toi an overlap fraction (mtmconvol, welch's first stage): ceil(len/step)
** rows per trial, cumulative; offsets divided by step (float division). */
int spy_tf_trldef_step(const spy_trials *in, size_t step, bool average, spy_op *op);
int spy_tf_trldef_toi(const spy_trials *in, size_t ntoi, double toi0, double out_samplerate,
                      bool average, spy_op *op);

/*
** Results with one row per trial (mtmfft, welch): rows [k, k+1, offset_k,
** trialinfo...] when `keep_offsets` (propagate_properties), else
** [k, k+1, 0] (spy.mean over time); `average` gives the single row
** [0, 1, 0].  out_rows are all 1.
*/
int spy_trldef_stacked(const spy_trials *in, bool keep_offsets, bool average, spy_op *op);

#endif
