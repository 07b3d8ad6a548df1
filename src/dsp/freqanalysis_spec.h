/* Keyword specification of spy.freqanalysis (Syncopy's signature and
** defaults, syncopy.md 2.1); drives validation, help() and completion. */
#ifndef SPY_FREQANALYSIS_SPEC_H
#define SPY_FREQANALYSIS_SPEC_H

#include "core/kwspec.h"

extern const spy_funcspec spy_spec_freqanalysis;

#endif
