/*
** spy.connectivityanalysis: the plan (syncopy.md section 5).
**
** spy_conn_plan validates a complete cfg (spy_kw_apply against
** spy_spec_connectivityanalysis has filled the defaults) in Syncopy's order
** and with its messages against the selected trials of an AnalogData, and
** fills `op`:
**
**   coh, csd, ppc, granger  per trial: the (multi-)tapered Fourier transform
**            of every channel (the mtmfft kernel of src/dsp), then the cross
**            spectra CS[f,i,j] = mean_tapers X_i(f) conj(X_j(f)).
**   corr     per trial: detrended cross-covariance over the positive lags.
**
** Trial-averaged methods use the scheduler's custom reduction (op.h:
** acc_elems + finalize): each task writes its trial's block of doubles, the
** scheduler sums them in trial order and finalize turns the sum into the
** result (csd: mean; coh: normalised mean; ppc: from the sum of unit
** cross-spectra, see docs/internals/connectivity.md; granger: Wilson
** factorisation; corr: mean normalised by the zero-lag auto terms).  Peak
** memory is independent of the number of trials for every method.
**
** The output is CrossSpectralData time x freq x channel_i x channel_j; the
** plan fills the geometry with inner = {nfreq, nchan}.
*/
#ifndef SPY_CONN_H
#define SPY_CONN_H

#include <cjson/cJSON.h>
#include <complex.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "core/kwspec.h"
#include "data/data.h"
#include "data/selection.h"
#include "sched/op.h"

extern const spy_funcspec spy_spec_connectivityanalysis;

int spy_conn_plan(const cJSON *cfg, const spy_trials *in, spy_op *op, spy_err *err);

/*
** SpectralData input (complex: freqanalysis output='fourier'): the dyadic
** products CS = mean over the selected tapers of X_i conj(X_j) for every row
** of every trial (so mtmconvol, wavelet and superlet Fourier output give
** time-resolved coherence), averaged in trial order and finalized as for
** AnalogData.  Runs on the calling thread, one trial in memory at a time
** (the transforms that made the input were the expensive part), polling
** Ctrl-C between trials.  Same validation and messages as the plan.  `out` is
** a fresh CrossSpectralData (spy_data_new); on success it holds the data and
** its metadata (trial definition, freq, channel_i/j, samplerate, granger's
** info); on failure the caller discards it.
*/
/*
** jackknife=true (coh, granger; AnalogData): after the direct result `out`
** is made, Syncopy's leave-one-out bias and variance, written into out's
** file as the datasets jack_var and jack_bias (float32, out's shape).  Two
** passes over the trials on the calling thread, one trial in memory at a
** time.  A no-op for other cfgs.
*/
int spy_conn_jackknife(const cJSON *cfg, spy_data *in, const spy_selection *sel, spy_data *out,
                       spy_err *err);

int spy_conn_spectral(const cJSON *cfg, spy_data *in, const spy_selection *sel, spy_data *out,
                      bool quiet, spy_err *err);

/*
** Granger causality from one averaged cross-spectral matrix (syncopy.md 5):
** csd is nfreq x n x n complex (row-major, [f][i][j]), the one-sided
** spectrum of an rfft of nfft samples.  Regularises (cond_max 1e4),
** factorises with Wilson's algorithm (nIter 100, rtol 5e-6) and writes
** granger[f][i][j] = causality i -> j (diagonal 0).  info (may be NULL)
** receives converged, max rel. err, reg. factor, initial cond. num.
*/
typedef struct spy_granger_info {
  bool converged;
  double max_rel_err;
  double reg_factor;
  double cond_num;
} spy_granger_info;

int spy_granger(const double complex *csd, size_t nfreq, size_t n, double *granger,
                spy_granger_info *info, spy_err *err);

#endif
