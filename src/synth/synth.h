/*
** spy.synthdata: Syncopy's synthetic AnalogData generators (syncopy.md 13).
**
** spy_synth_plan validates a generator's cfg (spy_kw_apply against its
** spec from synth_spec.h, then Syncopy's semantic checks) and fills a
** spy_op (sched/op.h) whose kernel computes one trial, nSamples x
** nChannels float32 (time x channel), from the trial's seed.  The
** scheduler runs it trial by trial, so memory stays bounded by one trial
** per worker; task->in is NULL and task->nsamp 0.  Output geometry: class
** AnalogData, op->out_nchan channels, out_rows[k] = nSamples, trial
** definition [k N, (k+1) N, -samplerate] (every trial starts at t = -1 s).
**
** Seeds, as Syncopy's collect_trials:
**   seed = nil                  fresh OS entropy for every trial;
**   seed = S, seed_per_trial    trial k uses default_rng(S).integers(1e6,
**                               size=nTrials)[k] as its seed;
**   seed = S, !seed_per_trial   every trial uses S: identical trials.
** A trial's numbers depend only on its seed, never on which worker or in
** which order it is computed.  nTrials = nil is Syncopy's "return one
** array": the plan then makes one trial seeded with S itself (offset 0);
** the binding returns that trial as a plain array, not an AnalogData.
**
** Channel chunks: harmonic and linear_trend are channel-independent
** (op->chan_independent); the random generators draw their numbers
** row-major across channels, as NumPy does, so a task always covers all
** channels.
**
** Ownership: the op owns the plan (spy_op_free releases it).
*/
#ifndef SPY_SYNTH_H
#define SPY_SYNTH_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "sched/op.h"

/* generator: "white_noise", "linear_trend", "harmonic", "phase_diffusion",
** "ar2_network" or "red_noise". */
int spy_synth_plan(const char *generator, const cJSON *cfg, spy_op *op, spy_err *err);

/* Computes trial k of a planned generator into out (out_rows[k] x
** out_nchan float32, row-major), without a scheduler: for the binding's
** nTrials = nil path and for tests.  Allocates its scratch. */
int spy_synth_trial(const spy_op *op, size_t k, float *out, spy_err *err);

/* collect_trials' per-trial seeds: default_rng(seed).integers(1_000_000,
** size=n). */
void spy_synth_trial_seeds(uint64_t seed, size_t n, uint32_t *out);

/* mk_RandomAdjMat: an n x n matrix (row-major, caller's buffer of n*n
** doubles), entry (i, j) the coupling i -> j.  seed NULL draws entropy. */
int spy_synth_random_adjmat(size_t n, double conn_thresh, double max_coupling, const uint64_t *seed,
                            double *out, spy_err *err);

/* ar2_peak_freq; "No complex roots!" (SPY_EINVAL) when a1^2 + 4 a2 > 0. */
int spy_synth_ar2_peak_freq(double a1, double a2, double samplerate, double *out, spy_err *err);

/* The same two from a cfg validated against their specs (spy_kw_apply is
** applied here too).  *out is malloc'd n x n; the caller frees it. */
int spy_synth_random_adjmat_cfg(const cJSON *cfg, double **out, size_t *n, spy_err *err);
int spy_synth_ar2_peak_freq_cfg(const cJSON *cfg, double *out, spy_err *err);

#endif
