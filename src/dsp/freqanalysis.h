/*
** spy.freqanalysis: the plan (syncopy.md section 2).
**
** spy_freqanalysis_plan validates a complete cfg (spy_kw_apply against
** spy_spec_freqanalysis has filled the defaults) in Syncopy's order and
** with its messages, against the selected input trials, and fills `op` for
** the chosen method.  It is the same code in the session and in a remote
** worker.  The common part (fooof, method, output, booleans, polyremoval,
** foi/foilim, toi presence, trial times) is done here once and handed to the
** method plans as a spy_fa_common.
*/
#ifndef SPY_FREQANALYSIS_H
#define SPY_FREQANALYSIS_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "core/err.h"
#include "core/pyfmt.h"
#include "dsp/spectral_common.h"
#include "sched/op.h"

typedef struct spy_fa_common {
  spy_specout output;
  bool keeptrials;
  int polyremoval;     /* 0 constant, 1 linear, -1 None */
  const double *foi;   /* validated foi (Hz, user order), NULL when not given */
  size_t nfoi;
  bool have_foilim;    /* foilim given (sorted low to high) */
  double foilim[2];
  const double *tstart; /* per trial: first sample time, offset/samplerate (s) */
  const double *tend;   /* per trial: tstart + len/samplerate (s) */
} spy_fa_common;

int spy_freqanalysis_plan(const cJSON *cfg, const spy_trials *in, spy_op *op, spy_err *err);

/* Pieces the method plans share (the plans of dsp/wavelet.h run them too):
** check_effective_parameters, a WARNING "option `<k>` has no effect for
** `<crname>`!" for every keyword outside the general ones and `valid`
** (NULL-terminated) that differs from its default; and the head of the
** history entry, log_dict's method, output, keeptapers, keeptrials,
** polyremoval and pad from the validated cfg. */
void spy_fa_check_effective(const cJSON *cfg, const char *crname, const char *const *valid);
void spy_fa_history(const cJSON *cfg, spy_history *h);

/* Syncopy's process_padding (the padded length for whole-trial FFTs),
** process_foi and the best_match of foi/foilim on rfftfreq(n) (all bins when
** neither is given): the frontend's own code, run by connectivityanalysis. */
int spy_fa_padding(const cJSON *pad, const spy_trials *in, size_t *nsamples, spy_err *err);
int spy_fa_foi(const cJSON *foi, const cJSON *foilim, double sr, spy_fa_common *c,
               double **foibuf, spy_err *err);
int spy_fa_match(const spy_fa_common *c, size_t n, double sr, size_t **fidx, size_t *nfreq,
                 spy_err *err);

#endif
