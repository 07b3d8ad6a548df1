#include "sched/methods.h"

#include <string.h>

#include "connectivity/conn.h"
#include "dsp/freqanalysis.h"
#include "dsp/freqanalysis_spec.h"
#include "dsp/preprocessing.h"
#include "dsp/preprocessing_spec.h"
#include "stats/stats.h"
#include "synth/synth.h"
#include "synth/synth_spec.h"

static const struct {
  const char *name;
  const spy_funcspec *spec;
  int (*plan)(const cJSON *, const spy_trials *, spy_op *, spy_err *);
} table[] = {
    {"freqanalysis", &spy_spec_freqanalysis, spy_freqanalysis_plan},
    {"preprocessing", &spy_spec_preprocessing, spy_preprocessing_plan},
    {"resampledata", &spy_spec_resampledata, spy_resampledata_plan},
    {"mean", &spy_spec_mean, spy_stat_mean_plan},
    {"std", &spy_spec_std, spy_stat_std_plan},
    {"var", &spy_spec_var, spy_stat_var_plan},
    {"timelockanalysis", &spy_spec_timelockanalysis, spy_timelock_plan},
    {"connectivityanalysis", &spy_spec_connectivityanalysis, spy_conn_plan},
};

const spy_funcspec *spy_method_spec(const char *fname)
{
  for (size_t i = 0; i < sizeof table / sizeof *table; i++)
    if (strcmp(table[i].name, fname) == 0) return table[i].spec;
  return spy_synth_spec(fname);
}

int spy_method_plan(const char *fname, const cJSON *cfg, const spy_trials *in, spy_op *op,
                    spy_err *err)
{
  for (size_t i = 0; i < sizeof table / sizeof *table; i++)
    if (strcmp(table[i].name, fname) == 0) {
      if (!in) return spy_fail(err, SPY_EINVAL, "%s needs input trials", fname);
      return table[i].plan(cfg, in, op, err);
    }
  if (spy_synth_spec(fname)) return spy_synth_plan(fname, cfg, op, err);
  return spy_fail(err, SPY_EINVAL, "unknown computation '%s'", fname);
}
