/*
** Statistics over data objects (syncopy.md 6): spy.mean / std / var /
** median along a dimord axis or over trials, spy.itc, spy.timelockanalysis,
** and the trial tools spy.redefinetrial / spy.concat, plus elementwise maths
** on objects.  docs/internals/stats.md explains the choices.
**
** All functions read the input one trial at a time (ARCHITECTURE invariant
** 6) and write a fresh temporary object that is returned only on success
** (invariant 7): on failure *out is NULL and nothing is left behind.  The
** input is never modified.  Accumulation is in double, in trial order.
**
** Reductions over the trials of AnalogData / TimeLockData run on the
** scheduler through spy_stat_{mean,std,var}_plan (a custom reduction: each trial
** contributes [sum, count(, sum of squares)] per element; see stats.md);
** other classes, whose trials the scheduler cannot read (inner axes),
** stream in the calling thread with the same accumulator.
*/
#ifndef SPY_STATS_H
#define SPY_STATS_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "core/kwspec.h"
#include "data/data.h"
#include "data/selection.h"
#include "sched/op.h"

typedef enum { SPY_STAT_MEAN, SPY_STAT_STD, SPY_STAT_VAR, SPY_STAT_MEDIAN } spy_stat_kind;

const char *spy_stat_name(spy_stat_kind k); /* "mean", ... */

/* Keyword specs of the frontends (src/stats/stats_spec.c). */
extern const spy_funcspec spy_spec_mean, spy_spec_std, spy_spec_var, spy_spec_median;
extern const spy_funcspec spy_spec_itc, spy_spec_timelockanalysis, spy_spec_redefinetrial,
    spy_spec_concat;

/*
** Per-trial statistic along axis `axis` of the dimord (0-based, not the
** time axis of a trial-less reduction), NaN-ignoring (numpy's nan*
** functions, ddof 0).  keeptrials=false averages the per-trial results over
** trials (which must then have equal shapes).  The reduced axis keeps
** length 1; its label becomes the statistic's name (channel, taper) or 0
** (freq); over time each trial becomes one row [k, k+1, 0].
*/
int spy_stat_dim(spy_data *in, const spy_selection *sel, spy_stat_kind k, int axis, bool keeptrials,
                 spy_data **out, spy_err *err);

/*
** Statistic over trials, computed in the calling thread, one trial's
** accumulators in memory (median: exact, with all trials of a block of
** channels in memory, at most SPY_STAT_MEDIAN_BYTES).  All trials must have
** the same shape.  The result is one trial with the first trial's offset.
*/
int spy_stat_trials(spy_data *in, const spy_selection *sel, spy_stat_kind k, spy_data **out,
                    spy_err *err);
#define SPY_STAT_MEDIAN_BYTES ((size_t)256 << 20)
/* The bound in force (SPY_STAT_MEDIAN_BYTES; tests lower it). */
extern size_t spy_stat_median_bytes;

/* Scheduler plans (methods table): mean/std/var over trials of
** time x channel data, and timelockanalysis's avg/var/cov. */
int spy_stat_mean_plan(const cJSON *cfg, const spy_trials *tr, spy_op *op, spy_err *err);
int spy_stat_std_plan(const cJSON *cfg, const spy_trials *tr, spy_op *op, spy_err *err);
int spy_stat_var_plan(const cJSON *cfg, const spy_trials *tr, spy_op *op, spy_err *err);
int spy_timelock_plan(const cJSON *cfg, const spy_trials *tr, spy_op *op, spy_err *err);
/* After a spy_run of a timelock op: the trial variance and covariance it
** computed (views into the plan, valid while the op lives; cov NULL
** unless covariance=true). */
void spy_timelock_results(const spy_op *op, const double **var, const double **cov);

/* np.cov(x, rowvar=False, ddof) of one trial x (len x nch) into cov (nch x
** nch); mean is nch doubles of scratch. */
void spy_stat_trial_cov(const double *x, size_t len, size_t nch, double ddof, double *cov,
                        double *mean);

/* Common checks: all selected trials have equal lengths. */
int spy_stat_equal_trials(const spy_selection *sel, spy_err *err);

/* ITC = | mean over tapers of the mean over trials of z/|z| | of complex
** SpectralData: float32, one trial, taper label "taper1". */
int spy_itc(spy_data *in, const spy_selection *sel, spy_data **out, spy_err *err);

/* Copies the selected trials of a time x channel object into a new object
** of class cls (float32 when f32), trial definition = sel's. */
int spy_stat_copy_selection(spy_data *in, const spy_selection *sel, spy_dataclass cls, bool f32,
                            spy_data **out, spy_err *err);

/* Elementwise maths on every trial: "log10", "log", "exp", "abs", "sqrt",
** "real", "imag", "angle", "conj".  The result has the class, axes and
** trials of `in` (abs/real/imag/angle of complex data are real). */
int spy_data_apply(spy_data *in, const char *fn, spy_data **out, spy_err *err);
bool spy_data_apply_known(const char *fn);

/*
** spy.redefinetrial: new trials cut from the trials of an object with a
** time axis (AnalogData, TimeLockData, SpectralData, CrossSpectralData; all
** inner axes are kept).  Exactly one of: toilim (via the latency selection in sel),
** begsample/endsample (1-based inclusive, per selected trial), trl (rows
** [start, stop, offset] in samples of the data, stop exclusive), minlength
** (seconds; trials of fewer than int(minlength * samplerate) samples are
** dropped, Syncopy's rule).  offset (samples; one value or one per
** trial) replaces column 3.  Samples outside the data are an error.
*/
typedef struct spy_redefine {
  const double *begsample, *endsample; /* nbeg / nend values (1 or ntrials) */
  size_t nbeg, nend;
  const double *trl; /* ntrl x trlcols */
  size_t ntrl, trlcols;
  double minlength;     /* NaN: not given */
  const double *offset; /* noffset values */
  size_t noffset;
} spy_redefine;
int spy_redefinetrial(spy_data *in, const spy_selection *sel, const spy_redefine *r, spy_data **out,
                      spy_err *err);

/* spy.concat(a, b, dim) of AnalogData, TimeLockData or SpectralData (inner
** axes of equal size, obj1's freq and taper): "channel" (same trials, channels appended,
** default labels as Syncopy) or "trials" (same channels and samplerate,
** trials of b after those of a). */
int spy_concat(spy_data *a, spy_data *b, const char *dim, spy_data **out, spy_err *err);

#endif
