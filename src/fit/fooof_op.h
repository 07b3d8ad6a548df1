/*
** FOOOF outputs of freqanalysis (Syncopy's output='fooof' / 'fooof_aperiodic'
** / 'fooof_peaks').
**
** spy_fooof_wrap takes a planned mtmfft op (output 'pow') and turns it into
** the FOOOF op in place.  keeptrials=False (average mode): each task runs
** the mtmfft kernel and hands its float32 power up as doubles
** (op->acc_elems); finalize fits the trial mean, rounded to float32 as
** Syncopy stores the power it fits, channel after channel.  keeptrials=True:
** each task fits its own trial and leaves the parameters in the plan's slot
** for that trial (op->in_process: no remote workers).  op->metadata then
** returns Syncopy's out.metadata (keys `<name>__<trial>_0`, every channel's
** peaks its own, see docs/internals/fooof.md).  The wrapped op owns the
** mtmfft plan.  fooof_opt (NULL or JSON null: the defaults) is validated
** here, so a remote worker re-planning from the cfg runs the same checks.
*/
#ifndef SPY_FOOOF_OP_H
#define SPY_FOOOF_OP_H

#include <cjson/cJSON.h>

#include "core/err.h"
#include "fit/fooof.h"
#include "sched/op.h"

/* fooof_opt -> options, with Syncopy's messages. */
int spy_fooof_parse_opts(const cJSON *fooof_opt, spy_fooof_opts *o, bool *verbose, spy_err *err);

/* The Python text of the merged fooof_opt dict (Syncopy's log entry). */
void spy_fooof_opts_str(const spy_fooof_opts *o, bool verbose, char *buf, size_t n);

/* nchan: the selected input channels (the op's output channels). */
int spy_fooof_wrap(spy_op *op, const char *output, const cJSON *fooof_opt, size_t nchan,
                   spy_err *err);

#endif
