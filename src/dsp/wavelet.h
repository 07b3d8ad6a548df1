/*
** Wavelet and superlet plans of spy.freqanalysis (syncopy.md 2.9, 2.10),
** called by spy_freqanalysis_plan after the common validation.  They read
** their own keywords from the complete cfg (wavelet, width, order, toi;
** order_min, order_max, c_1, adaptive), validate them with Syncopy's
** messages and fill `op` completely (kernel, output geometry, freq, taper
** label "None", trial definitions, log).
*/
#ifndef SPY_WAVELET_H
#define SPY_WAVELET_H

#include "dsp/freqanalysis.h"

int spy_wavelet_plan(const cJSON *cfg, const spy_trials *in, const spy_fa_common *c, spy_op *op,
                     spy_err *err);
int spy_superlet_plan(const cJSON *cfg, const spy_trials *in, const spy_fa_common *c, spy_op *op,
                      spy_err *err);

#endif
