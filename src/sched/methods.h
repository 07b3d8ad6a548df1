/*
** Every computation by name: the one table that turns (function name,
** complete cfg, selected trials) into an op.  The bindings plan through it
** in the session and a remote worker re-plans through it from the cfg it
** receives, so both run the same validation code (ARCHITECTURE invariant 4).
*/
#ifndef SPY_METHODS_H
#define SPY_METHODS_H

#include <cjson/cJSON.h>

#include "core/kwspec.h"
#include "sched/op.h"

/* fname: "freqanalysis", "preprocessing", "resampledata", "mean", "std",
** "var" (over trials), "timelockanalysis", or a synthdata
** generator ("white_noise", ...; `in` is NULL for those). */
int spy_method_plan(const char *fname, const cJSON *cfg, const spy_trials *in, spy_op *op,
                    spy_err *err);
/* The keyword spec of a computation (NULL if unknown). */
const spy_funcspec *spy_method_spec(const char *fname);

#endif
