/* Long trials through spy.preprocessing and spy.resampledata (issue #20,
** ARCHITECTURE invariant 6): a trial too large to hold whole streams
** channel by channel, so the run's peak RSS stays under 3x the trial's
** float32 size for every filter, inline and on 4 threads (whole-trial
** buffers took 4.8x: float64 input, float32 output, the IIR block); and a
** streamed trial's output is bit-identical to the whole-trial kernel's,
** NaN report included.  Peaks are VmHWM after resetting it. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/kwspec.h"
#include "core/settings.h"
#include "data/data.h"
#include "data/selection.h"
#include "dsp/preprocessing.h"
#include "dsp/preprocessing_spec.h"
#include "sched/sched.h"
#include "t.h"

/* ASan's quarantine keeps freed blocks resident; measure the program's own. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "quarantine_size_mb=0"; }

static double kb_field(const char *name)
{
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  double v = -1;
  size_t n = strlen(name);
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, name, n) == 0) v = atof(line + n + 1);
  if (f) fclose(f);
  return v * 1024;
}

static void reset_peak(void)
{
  FILE *f = fopen("/proc/self/clear_refs", "w");
  if (f) {
    fputs("5", f);
    fclose(f);
  }
}

/* ntr trials of ns x nch float32 noise at 1 kHz; with `nan`, channel 1
** of trial 1 holds a NaN in its middle. */
static spy_data *make_input(size_t ntr, size_t ns, size_t nch, bool nan)
{
  spy_err err = {0};
  spy_data *d = spy_data_new(SPY_ANALOG);
  size_t shape[2] = {ntr * ns, nch};
  CHECK(spy_data_create(d, SPY_DT_F32, 2, shape, &err) == SPY_OK, "%s", err.msg);
  size_t blk = 1 << 16;
  float *buf = malloc(blk * nch * sizeof *buf);
  uint64_t s = 42;
  for (size_t r = 0; r < ntr * ns; r += blk) {
    size_t n = ntr * ns - r < blk ? ntr * ns - r : blk;
    for (size_t i = 0; i < n * nch; i++) {
      s ^= s << 13, s ^= s >> 7, s ^= s << 17;
      buf[i] = (float)((double)(s >> 11) / 9007199254740992.0 - 0.5);
    }
    spy_data_write(d, r, n, 0, nch, buf, SPY_DT_F32, &err);
  }
  if (nan && ntr > 1 && nch > 1) {
    float v = NAN;
    spy_data_write(d, ns + ns / 2, 1, 1, 1, &v, SPY_DT_F32, &err);
  }
  free(buf);
  double *trl = malloc(ntr * 3 * sizeof *trl);
  for (size_t k = 0; k < ntr; k++) {
    trl[3 * k] = (double)(k * ns);
    trl[3 * k + 1] = (double)((k + 1) * ns);
    trl[3 * k + 2] = 0;
  }
  spy_data_set_trldef(d, trl, ntr, 3);
  free(trl);
  spy_data_default_channels(d, nch);
  d->samplerate = 1000;
  CHECK(spy_data_sync_meta(d, &err) == SPY_OK, "%s", err.msg);
  return d;
}

typedef struct result {
  void *bytes; /* the whole output, its own dtype */
  size_t nbytes;
  double peak; /* peak RSS of the run above the RSS before it */
  size_t nflagged, flagged0;
} result;

/* Runs preprocessing (resample = false) or resampledata with keywords
** `json` over `in` on `pool` (NULL: inline), streaming tasks that move
** more than stream_bytes (0: the default). */
static result run(const char *json, bool resample, spy_data *in, spy_pool *pool,
                  size_t stream_bytes)
{
  result res = {0};
  spy_err err = {0};
  spy_selection *s = NULL;
  CHECK(spy_select(in, NULL, &s, &err) == SPY_OK, "%s", err.msg);
  spy_trials tr = {s->ntrials, s->nchan, in->samplerate, s->trldef, s->trlcols, in->dtype,
                   s->time_selected};
  const spy_funcspec *spec = resample ? &spy_spec_resampledata : &spy_spec_preprocessing;
  cJSON *kw = cJSON_Parse(json), *cfg = NULL;
  spy_op op = {0};
  int rc = spy_kw_apply(spec, kw, &cfg, &err);
  if (!rc)
    rc = resample ? spy_resampledata_plan(cfg, &tr, &op, &err)
                  : spy_preprocessing_plan(cfg, &tr, &op, &err);
  CHECK(rc == SPY_OK, "%s: %s", json, err.msg);
  spy_runopts o = {.pool = pool, .quiet = true, .stream_bytes = stream_bytes};
  spy_runstats st = {0};
  spy_data *out = spy_data_new(SPY_ANALOG);
  double base = kb_field("VmRSS:");
  reset_peak();
  if (!rc) rc = spy_run(&op, in, s, out, &o, &st, &err);
  res.peak = kb_field("VmHWM:") - base;
  CHECK(rc == SPY_OK, "%s: %s", json, err.msg);
  if (!rc) {
    res.nbytes = out->shape[0] * out->nchannel * spy_dtype_size(out->dtype);
    res.bytes = malloc(res.nbytes);
    size_t *ch = malloc(out->nchannel * sizeof *ch);
    for (size_t c = 0; c < out->nchannel; c++) ch[c] = c;
    CHECK(spy_data_read(out, 0, out->shape[0], ch, out->nchannel, res.bytes, out->dtype, &err) ==
              SPY_OK,
          "%s", err.msg);
    free(ch);
    res.nflagged = st.nflagged;
    res.flagged0 = st.nflagged ? st.flagged[0] : (size_t)-1;
    free(st.flagged);
  }
  spy_data_unref(out);
  spy_op_free(&op);
  cJSON_Delete(kw);
  cJSON_Delete(cfg);
  spy_selection_free(s);
  return res;
}

static const struct {
  const char *json;
  bool resample;
} methods[] = {
    {"{\"freq\":40,\"filter_type\":\"lp\"}", false}, /* Butterworth, twopass */
    {"{\"freq\":[20,40],\"filter_type\":\"bp\",\"direction\":\"onepass\",\"polyremoval\":1}",
     false},
    {"{\"filter_class\":\"firws\",\"freq\":40,\"filter_type\":\"lp\",\"order\":200}", false},
    {"{\"filter_class\":\"firws\",\"freq\":[5,30],\"filter_type\":\"bp\",\"order\":100,"
     "\"direction\":\"twopass\",\"polyremoval\":0}",
     false},
    {"{\"freq\":[8,12],\"filter_type\":\"bp\",\"hilbert\":\"complex\"}", false},
    {"{\"freq\":40,\"filter_type\":\"hp\",\"zscore\":true,\"rectify\":true}", false},
    {"{\"resamplefs\":300,\"method\":\"resample\"}", true},
    {"{\"resamplefs\":250,\"method\":\"downsample\",\"lpfreq\":100,\"order\":200}", true},
};

/* Streamed tasks (every task streams at stream_bytes 1) give the
** whole-trial kernel's bytes, inline and on threads, NaN trials included. */
static void streamed_equals_whole(spy_pool *pool)
{
  spy_data *in = make_input(2, 140001, 5, true); /* > 2 IIR stream blocks */
  for (size_t m = 0; m < sizeof methods / sizeof *methods; m++) {
    result whole = run(methods[m].json, methods[m].resample, in, NULL, SIZE_MAX);
    result inl = run(methods[m].json, methods[m].resample, in, NULL, 1);
    result thr = run(methods[m].json, methods[m].resample, in, pool, 1);
    CHECK(whole.bytes && inl.bytes && thr.bytes && whole.nbytes == inl.nbytes &&
              whole.nbytes == thr.nbytes,
          "%s: outputs missing or of different sizes", methods[m].json);
    if (whole.bytes && inl.bytes && thr.bytes && whole.nbytes == inl.nbytes &&
        whole.nbytes == thr.nbytes) {
      CHECK(memcmp(whole.bytes, inl.bytes, whole.nbytes) == 0,
            "%s: streamed inline differs from the whole trial", methods[m].json);
      CHECK(memcmp(whole.bytes, thr.bytes, whole.nbytes) == 0,
            "%s: streamed on threads differs from the whole trial", methods[m].json);
    }
    CHECK(whole.nflagged == inl.nflagged && whole.nflagged == thr.nflagged &&
              whole.flagged0 == inl.flagged0,
          "%s: NaN trials %zu (first %zu) whole, %zu streamed", methods[m].json, whole.nflagged,
          whole.flagged0, inl.nflagged);
    free(whole.bytes);
    free(inl.bytes);
    free(thr.bytes);
  }
  spy_data_unref(in);
}

/* One trial of 2,000,000 x 4 float32 (32 MB): whole, its buffers alone
** were 96 MB (float64 input and float32 output) plus 64 MB of IIR block. */
static void long_trial_peaks(spy_pool *pool)
{
  const double f32 = 2e6 * 4 * 4;
  spy_data *lng = make_input(1, 2000000, 4, false);
  static const struct {
    int method;
    bool threads;
  } runs[] = {{0, false}, {0, true}, {1, true}, {2, false}, {4, false}, {6, false}};
  for (size_t i = 0; i < sizeof runs / sizeof *runs; i++) {
    int m = runs[i].method;
    result r = run(methods[m].json, methods[m].resample, lng, runs[i].threads ? pool : NULL, 0);
    CHECK(r.peak < 3 * f32, "%s (%s): peak %.0f MB over %.0f MB of float32", methods[m].json,
          runs[i].threads ? "4 threads" : "inline", r.peak / 1e6, f32 / 1e6);
    fprintf(stderr, "%-70s %-9s peak %5.1f MB (float32 %.0f MB)\n", methods[m].json,
            runs[i].threads ? "4 threads" : "inline", r.peak / 1e6, f32 / 1e6);
    free(r.bytes);
  }
  spy_data_unref(lng);
}

int main(void)
{
  spy_err err = {0};
  CHECK(spy_settings_init(&err) == SPY_OK, "%s", err.msg);
  spy_pool *pool = spy_pool_new(4, &err);
  streamed_equals_whole(pool);
  long_trial_peaks(pool);
  spy_pool_free(pool);
  return t_done();
}
