/*
** Placeholder so the spectral branch links before the wavelet branch is
** merged: both plans answer SPY_ENOTSUP.  DELETE AT MERGE (the real
** spy_wavelet_plan / spy_superlet_plan come from the wavelet branch).
*/
#include "dsp/wavelet.h"

int spy_wavelet_plan(const cJSON *cfg, const spy_trials *in, const spy_fa_common *c, spy_op *op,
                     spy_err *err)
{
  (void)cfg, (void)in, (void)c, (void)op;
  return spy_fail(err, SPY_ENOTSUP, "method='wavelet' is not available in this build");
}

int spy_superlet_plan(const cJSON *cfg, const spy_trials *in, const spy_fa_common *c, spy_op *op,
                      spy_err *err)
{
  (void)cfg, (void)in, (void)c, (void)op;
  return spy_fail(err, SPY_ENOTSUP, "method='superlet' is not available in this build");
}
