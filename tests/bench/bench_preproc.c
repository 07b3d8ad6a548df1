/*
** Kernel timings of spy.preprocessing / spy.resampledata on the issue's
** benchmark case c: white noise, 100 trials x 10000 samples x 10 channels at
** 1 kHz, one thread, no I/O; CPU time of the thread in the kernel calls,
** each trial handed over hot in cache (float32 as stored where the kernel
** takes it), best of 5 (plan time reported separately).
**
**   cc -O2 -Isrc -Itests/c tests/bench/bench_preproc.c build/libspy.a \
**      -lfftw3 -lfftw3_threads -lhdf5_serial -lcjson -llapack -lblas -lcrypto -lm -lpthread
*/
#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/kwspec.h"
#include "dsp/fft.h"
#include "dsp/preprocessing.h"
#include "dsp/preprocessing_spec.h"

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t rng = 42;
static double gauss(void)
{
  double u[2];
  for (int i = 0; i < 2; i++) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    u[i] = ((double)(rng >> 11) + 0.5) / 9007199254740992.0;
  }
  return sqrt(-2 * log(u[0])) * cos(2 * M_PI * u[1]);
}

static void run(const char *what, const spy_funcspec *spec, const char *json, const spy_trials *in,
                const double *x, const float *xf)
{
  const char *only = getenv("BENCH_ONLY");
  if (only && !strstr(what, only)) return;
  cJSON *kw = cJSON_Parse(json), *cfg;
  spy_err err;
  spy_op op;
  spy_kw_apply(spec, kw, &cfg, &err);
  double t0 = now();
  int rc = spec == &spy_spec_preprocessing ? spy_preprocessing_plan(cfg, in, &op, &err)
                                           : spy_resampledata_plan(cfg, in, &op, &err);
  if (rc) {
    fprintf(stderr, "%s: %s\n", what, err.msg);
    return;
  }
  double t1 = now();
  size_t n = spy_trial_len(in, 0), C = in->nchan;
  void *scr = spy_fft_alloc(op.scratch_bytes(op.plan, n, C));
  void *out = malloc(op.out_rows[0] * C * spy_dtype_size(op.out_dtype));
  /* each trial is first copied into one buffer, as the scheduler's reader
  ** hands a trial over hot in cache; only the kernel calls are timed */
  void *buf = malloc(n * C * sizeof(double));
  double best = 1e9;
  for (int rep = 0; rep < 5; rep++) {
    double dt = 0;
    for (size_t k = 0; k < in->ntrials; k++) {
      spy_task t = {k, 0, C, buf, n, out, op.out_rows[k], scr, 0};
      if (op.in_f32) { /* float32 input as the scheduler hands it over */
        memcpy(buf, xf + k * n * C, n * C * sizeof *xf);
        t.flags = SPY_TASK_IN_F32;
      } else
        memcpy(buf, x + k * n * C, n * C * sizeof *x);
      double t2 = now();
      if (op.kernel(op.plan, &t, &err)) {
        fprintf(stderr, "%s: %s\n", what, err.msg);
        return;
      }
      dt += now() - t2;
    }
    if (dt < best) best = dt;
  }
  free(buf);
  printf("%-44s plan %6.3f s   kernels %6.3f s  (%.1f ns/sample/channel)\n", what, t1 - t0, best,
         1e9 * best / (double)(in->ntrials * n * C));
  spy_fft_free(scr);
  free(out);
  spy_op_free(&op);
  cJSON_Delete(kw);
  cJSON_Delete(cfg);
}

int main(void)
{
  const size_t nt = 100, n = 10000, C = 10;
  double *trl = malloc(nt * 3 * sizeof *trl), *x = malloc(nt * n * C * sizeof *x);
  for (size_t k = 0; k < nt; k++) {
    trl[3 * k] = (double)(k * n);
    trl[3 * k + 1] = (double)((k + 1) * n);
    trl[3 * k + 2] = -1000;
  }
  float *xf = malloc(nt * n * C * sizeof *xf);
  for (size_t i = 0; i < nt * n * C; i++) xf[i] = (float)(x[i] = (float)gauss());
  spy_trials in = {nt, C, 1000.0, trl, 3, SPY_DT_F32, false};
  run("but bp [20, 40] order 4 twopass (case c)", &spy_spec_preprocessing,
      "{\"freq\":[20,40],\"filter_type\":\"bp\"}", &in, x, xf);
  run("but lp 40 onepass", &spy_spec_preprocessing,
      "{\"freq\":40,\"filter_type\":\"lp\",\"direction\":\"onepass\"}", &in, x, xf);
  run("but bp [8, 12] twopass + hilbert abs", &spy_spec_preprocessing,
      "{\"freq\":[8,12],\"filter_type\":\"bp\",\"hilbert\":\"abs\"}", &in, x, xf);
  run("firws lp 40 (order 1000) onepass", &spy_spec_preprocessing,
      "{\"filter_class\":\"firws\",\"freq\":40,\"direction\":\"onepass\"}", &in, x, xf);
  run("firws lp 40 (order 1000) twopass", &spy_spec_preprocessing,
      "{\"filter_class\":\"firws\",\"freq\":40}", &in, x, xf);
  run("resample 1000 -> 300 Hz (order 1000)", &spy_spec_resampledata, "{\"resamplefs\":300}",
      &in, x, xf);
  run("downsample 1000 -> 250 Hz, lpfreq 100", &spy_spec_resampledata,
      "{\"resamplefs\":250,\"method\":\"downsample\",\"lpfreq\":100}", &in, x, xf);
  spy_fft_cleanup();
  return 0;
}
