/* Keyword specification of spy.freqanalysis (Syncopy's signature and
** defaults, syncopy.md 2.1); drives validation, help() and completion. */
#ifndef SPY_FREQANALYSIS_SPEC_H
#define SPY_FREQANALYSIS_SPEC_H

#include "core/kwspec.h"

/* Limits where Syncopy has none (docs/internals/core.md, numeric bounds): superlet
** orders and base cycles (the wavelets have c_1 * order cycles; published
** superlets use orders up to ~40), Paul and DOG wavelet orders (their
** normalisation overflows near 85), and the padded mtmfft length in samples
** (when it exceeds the longest trial). */
#define SPY_SUPERLET_ORDER_LIMIT 100
#define SPY_SUPERLET_C1_LIMIT 100
#define SPY_WAVELET_ORDER_LIMIT 50
#define SPY_PAD_SAMPLES_LIMIT 33554432.0 /* 2^25 */

extern const spy_funcspec spy_spec_freqanalysis;

#endif
