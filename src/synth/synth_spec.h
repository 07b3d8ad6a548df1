/* Keyword specifications of spy.synthdata (Syncopy's signatures and
** defaults, syncopy.md 13); they drive validation, help() and completion.
** The trial generators carry collect_trials' keywords too (nTrials,
** samplerate, seed, seed_per_trial). */
#ifndef SPY_SYNTH_SPEC_H
#define SPY_SYNTH_SPEC_H

#include "core/kwspec.h"

extern const spy_funcspec spy_spec_white_noise;
extern const spy_funcspec spy_spec_linear_trend;
extern const spy_funcspec spy_spec_harmonic;
extern const spy_funcspec spy_spec_phase_diffusion;
extern const spy_funcspec spy_spec_ar2_network;
extern const spy_funcspec spy_spec_red_noise;
extern const spy_funcspec spy_spec_mk_RandomAdjMat;
extern const spy_funcspec spy_spec_ar2_peak_freq;

/* The spec of a trial generator by its Syncopy name ("white_noise"), or
** NULL. */
const spy_funcspec *spy_synth_spec(const char *generator);

#endif
