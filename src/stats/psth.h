/*
** spike_psth: peristimulus time histograms of SpikeData (syncopy.md 6,
** Syncopy's syncopy/spikes/psth.py), one histogram per trial over the same
** time bins, one column per (channel, unit) combination that fires in the
** analysed trials.
**
** Plan: spy_psth_plan_make validates the cfg (binsize, output, latency,
** vartriallen), picks the trials, builds the bin edges exactly as NumPy does
** (linspace for 'rice'/'sqrt', arange for a width in s) and collects the
** combinations in one streamed pass.  Kernel: spy_psth_add bins one block of
** a trial's rows into a counts buffer (nbins x ncombos, double);
** spy_psth_finish masks the bins outside the trial with NaN and converts to
** rate or proportion.  Nothing holds more than one trial's counts and one
** block of rows, whatever the number of spikes.
**
** Ownership: the plan owns its arrays (spy_psth_plan_free).
*/
#ifndef SPY_PSTH_H
#define SPY_PSTH_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "core/err.h"
#include "core/kwspec.h"
#include "data/discrete.h"

enum { SPY_PSTH_RATE, SPY_PSTH_SPIKECOUNT, SPY_PSTH_PROPORTION };

typedef struct spy_psth_plan {
  int output;
  double samplerate;
  double *edges;          /* nedges bin edges in s (nbins = nedges - 1) */
  size_t nedges, nbins;
  int64_t *combos;        /* ncombos (channel, unit) pairs, sorted */
  size_t ncombos;
  size_t ntrials;         /* trials analysed (after vartriallen) */
  size_t *trials;         /* their ids in the input (0-based) */
  size_t *row0, *nrows;   /* their rows */
  double *trldef;         /* ntrials x 3 [start, stop, offset] of the input */
  size_t ndiscarded;      /* trials dropped by vartriallen=false */
  double out_samplerate;  /* 1 / mean(diff(bin midpoints)) */
  double out_offset;      /* rint(edges[0] * out_samplerate) */
} spy_psth_plan;

extern const spy_funcspec spy_spec_spike_psth;

/*
** Plans spike_psth of the selection sel of d (SpikeData) under cfg (the
** validated keywords of spy_spec_spike_psth).  Reads every analysed spike
** once to find the channel-unit combinations.
*/
int spy_psth_plan_make(spy_data *d, const spy_dsel *sel, const cJSON *cfg, spy_psth_plan *p,
                       spy_err *err);
void spy_psth_plan_free(spy_psth_plan *p);

/* Adds n rows ([sample, channel, unit]) of analysed trial i into counts. */
void spy_psth_add(const spy_psth_plan *p, size_t i, const int64_t *rows, size_t n, double *counts);

/* Masks and normalises the counts of analysed trial i (Syncopy's rules). */
void spy_psth_finish(const spy_psth_plan *p, size_t i, double *counts);

/* Runs trial i of the plan on d: streams its rows, fills counts. */
int spy_psth_trial(const spy_psth_plan *p, spy_data *d, size_t i, int64_t *scratch, double *counts,
                   spy_err *err);

#endif
