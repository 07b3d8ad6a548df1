/*
** mtmconvol and welch: sliding-window (multi-)tapered FFT
** (syncopy.md 2.7, 2.8).
**
** Three ways to place the windows, as Syncopy does:
** - toi 'all' or an overlap fraction: windows of nperseg samples every
**   `step` samples, centred on sample j*step (zeros beyond the trial),
**   ceil(len/step) of them; each window detrended (pad zeros included),
**   tapered (DPSS with sym=False), rfft, x sqrt(2)/nperseg;
** - an equidistant toi array: the same on the cut soi of each trial with
**   step 1, then every delta-th window (delta from trial 0), literally;
** - a non-equidistant toi array: one window of about 2 halfWin + 1 samples
**   per toi value, no detrending, transformed as mtmfft (DPSS sym=True),
**   frequencies re-matched on the first window's grid.
** welch runs the first way and reduces each trial to the NaN-mean over
** windows of the taper-mean power: one row (1 x 1 x nfreq x nchan).
**
** The plan precomputes tapers, window positions and FFT plans; the kernel
** transforms all windows of a trial x tapers x channels in batched FFTs
** (blocks of windows bounded in memory).
*/
#ifndef SPY_MTMCONVOL_H
#define SPY_MTMCONVOL_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "dsp/spectral_common.h"
#include "dsp/taper.h"
#include "sched/op.h"

typedef struct spy_mtmconvol_params {
  size_t nperseg;    /* int(t_ftimwin * samplerate) */
  size_t step;       /* nperseg - noverlap (toi 'all' or fraction) */
  bool toi_all;      /* toi = 'all' (output trial definitions) */
  const double *toi; /* toi array (s), NULL for 'all' or a fraction */
  size_t ntoi;
  bool equidistant;       /* Syncopy's flag, after the spacing > halfWin override */
  bool toi_even;          /* allclose(diff(toi)): output samplerate 1/(toi[1]-toi[0]) */
  const double *tstart;   /* per trial start time (s) */
  const spy_taper *taper; /* copied */
  const size_t *fidx;     /* nfreq bins of rfftfreq(nperseg) */
  size_t nfreq;
  spy_specout output;
  bool keeptapers, keeptrials;
  bool welch;        /* reduce every trial to the mean over windows */
  int polyremoval;   /* per-window detrending: 0 mean, 1 line, -1 none */
  size_t chan_chunk; /* channels per task, 0: all */
} spy_mtmconvol_params;

int spy_mtmconvol_plan(const spy_mtmconvol_params *p, const spy_trials *in, spy_op *op,
                       spy_err *err);

#endif
