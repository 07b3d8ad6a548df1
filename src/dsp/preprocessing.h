/*
** spy.preprocessing and spy.resampledata: the plans (syncopy.md 3 and 4).
**
** Each plan validates a complete cfg (spy_kw_apply against the spec of
** dsp/preprocessing_spec.h has filled the defaults) in Syncopy's order and
** with its messages, logs Syncopy's INFO and WARNING texts, designs the
** filter once (Butterworth sections, windowed sinc, minimum phase, FFT
** plans for every trial length the Hilbert transform meets) and fills `op`:
**
**   preprocessing  AnalogData float32 (complex64 for hilbert='complex'),
**                  the input's trial definition (all columns) and samplerate;
**                  per task: zscore -> de-trend + filter -> rectify | hilbert.
**   resampledata   AnalogData at samplerate = resamplefs, trial definition
**                  rescaled as Syncopy's _resampling_trl_definition (three
**                  columns; trialinfo dropped), dtype of the input
**                  (float32 when downsample filters first, as Syncopy
**                  stores the filtered intermediate as float32).
**
** Kernels take one trial (any channel chunk: channels are independent) of
** float64 time x channel data and need op->scratch_bytes(plan, nsamp, nchan)
** bytes: a block of at most 8 channels plus the filter's padding, a few
** single-channel trial buffers and FFT blocks - never the whole trial again.
**
** NaN reporting (preprocessing only).  When the filter stage ran (a filter
** or de-trending, not zscore alone) a task whose filter input holds a NaN
** sets SPY_TASK_HAS_NAN.  The binding then
**   - fills op->info's "nan_trials" (present, as [], only when neither
**     rectify nor hilbert ran, because Syncopy sets it on the filtered object
**     and post-processing returns a fresh one) with the absolute trial
**     numbers whose tasks raised the flag, ascending; and
**   - if any did, logs spy_preprocessing_nan_warning(op) at WARNING:
**       Syncopy <preprocessing>: Data contains NaNs! See
**       `.info['nan_trials']` for the offending trials
**     with, for filter_class='but', the extra line
**       "\n\t\t try using a 'onepass' FIR filter of low order.."
**
** op->log is Syncopy's history entry of the last routine of the chain
** ("computed hilbert_cF with settings\n\tpolyremoval = None\n..."); the
** scheduler appends the used_parallel line.
*/
#ifndef SPY_PREPROCESSING_H
#define SPY_PREPROCESSING_H

#include <cjson/cJSON.h>

#include "core/err.h"
#include "sched/op.h"

int spy_preprocessing_plan(const cJSON *cfg, const spy_trials *in, spy_op *op, spy_err *err);
int spy_resampledata_plan(const cJSON *cfg, const spy_trials *in, spy_op *op, spy_err *err);

/* The full warning line for NaN trials of an op made by
** spy_preprocessing_plan, or NULL when that op does not report NaN. */
const char *spy_preprocessing_nan_warning(const spy_op *op);

#endif
