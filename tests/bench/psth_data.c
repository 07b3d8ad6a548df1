/*
** Writes the spike_psth benchmark input: a SpikeData container of N spikes
** (default 10 million) in 100 trials of 10 s at 30 kHz, 3 channels x 10
** units, homogeneous Poisson spikes, generated and written block by block
** (memory stays small).  Then time and measure spy.spike_psth on it:
**
**   build-rel/bench_psth_data /tmp/psth10m.spy [N]
**   /usr/bin/time -v build-rel/spy -e 'local s = spy.load("/tmp/psth10m.spy")
**     local t = os.time(); local p = spy.spike_psth(s, {binsize=0.01}); print(os.time() - t)'
*/
#include <stdio.h>
#include <stdlib.h>
#include <math.h>

#include "core/settings.h"
#include "data/discrete.h"
#include "io/container.h"
#include "synth/rng.h"

int main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(stderr, "usage: %s <container.spy> [nspikes]\n", argv[0]);
    return 2;
  }
  size_t n = argc > 2 ? (size_t)atof(argv[2]) : 10000000, ntr = 100;
  const double sr = 30000, len = 10 * sr;
  spy_err err = {0};
  if (spy_settings_init(&err)) return fprintf(stderr, "%s\n", err.msg), 1;
  spy_data *d = spy_data_new(SPY_SPIKE);
  size_t shape[2] = {n, 3};
  d->samplerate = sr;
  if (spy_data_create(d, SPY_DT_I64, 2, shape, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
  spy_rng r;
  spy_rng_seed(&r, 1);
  int64_t *buf = malloc(SPY_DISCRETE_BLOCK * 3 * sizeof *buf);
  /* exponential gaps with mean len * ntr / n samples: sorted by construction */
  double t = 0, gap = len * (double)ntr / (double)n;
  for (size_t r0 = 0; r0 < n; r0 += SPY_DISCRETE_BLOCK) {
    size_t m = n - r0 < SPY_DISCRETE_BLOCK ? n - r0 : SPY_DISCRETE_BLOCK;
    for (size_t i = 0; i < m; i++) {
      t += -gap * log1p(-spy_rng_uniform(&r));
      buf[3 * i] = (int64_t)t;
      buf[3 * i + 1] = (int64_t)spy_rng_below(&r, 3);
      buf[3 * i + 2] = (int64_t)spy_rng_below(&r, 10);
    }
    if (spy_data_write(d, r0, m, 0, 3, buf, SPY_DT_I64, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
  }
  free(buf);
  double *trl = malloc(ntr * 3 * sizeof *trl);
  for (size_t k = 0; k < ntr; k++)
    trl[3 * k] = (double)k * len, trl[3 * k + 1] = (double)(k + 1) * len, trl[3 * k + 2] = -sr;
  spy_data_set_trldef(d, trl, ntr, 3);
  free(trl);
  const char *ch[] = {"channel1", "channel2", "channel3"};
  const char *un[] = {"unit01", "unit02", "unit03", "unit04", "unit05",
                      "unit06", "unit07", "unit08", "unit09", "unit10"};
  spy_data_set_channel(d, ch, 3);
  spy_data_set_unit(d, un, 10);
  spy_save_opts o = {.container = argv[1], .overwrite = true};
  if (spy_save(d, &o, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
  spy_data_unref(d);
  printf("%zu spikes in %zu trials written to %s\n", n, ntr, argv[1]);
  return 0;
}
