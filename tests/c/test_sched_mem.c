/* The scheduler's memory (ARCHITECTURE invariant 6, issue #20): peak RSS of
** a run does not grow with the number of trials (a task record carries no
** error text until it fails), and a single long trial costs one task's
** buffers whatever the number of workers (idle workers hold none, the
** inline executor does not double-buffer a lone task).  Peaks are measured
** as VmHWM after resetting it (/proc/self/clear_refs). */
#include <stdio.h>
#include <string.h>

#include "core/settings.h"
#include "data/data.h"
#include "data/selection.h"
#include "sched/sched.h"
#include "t.h"

/* ASan's quarantine keeps freed blocks resident; measure the program's own. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "quarantine_size_mb=0"; }

static int kernel(const void *plan, spy_task *t, spy_err *err)
{
  (void)plan;
  (void)err;
  float *o = t->out;
  for (size_t i = 0; i < t->nsamp * t->nchan; i++) o[i] = (float)(t->in[i] + 1);
  return SPY_OK;
}

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

static spy_data *make_input(size_t ntr, size_t ns, size_t nch)
{
  spy_err err = {0};
  spy_data *d = spy_data_new(SPY_ANALOG);
  size_t shape[2] = {ntr * ns, nch};
  CHECK(spy_data_create(d, SPY_DT_F32, 2, shape, &err) == SPY_OK, "%s", err.msg);
  size_t blk = 1 << 16;
  float *buf = malloc(blk * nch * sizeof *buf);
  for (size_t i = 0; i < blk * nch; i++) buf[i] = (float)(i % 1000) / 100.0f;
  for (size_t r = 0; r < ntr * ns; r += blk)
    spy_data_write(d, r, ntr * ns - r < blk ? ntr * ns - r : blk, 0, nch, buf, SPY_DT_F32, &err);
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

/* Peak RSS above the RSS before the run, in bytes. */
static double run_peak(spy_data *in, spy_pool *pool, int *rc)
{
  spy_err err = {0};
  spy_selection *s = NULL;
  CHECK(spy_select(in, NULL, &s, &err) == SPY_OK, "%s", err.msg);
  spy_op op = {0};
  op.name = "plus1";
  op.kernel = kernel;
  op.chan_independent = true;
  op.cls = SPY_ANALOG;
  op.out_dtype = SPY_DT_F32;
  op.ntrials = s->ntrials;
  op.out_rows = malloc(s->ntrials * sizeof *op.out_rows);
  for (size_t k = 0; k < s->ntrials; k++) op.out_rows[k] = s->nrows[k];
  op.samplerate = 1000;
  op.out_trlcols = 3;
  op.out_trldef = malloc(s->ntrials * 3 * sizeof(double));
  memcpy(op.out_trldef, s->trldef, s->ntrials * 3 * sizeof(double));
  spy_runopts o = {.pool = pool, .quiet = true};
  spy_runstats st;
  spy_data *out = spy_data_new(SPY_ANALOG);
  double base = kb_field("VmRSS:");
  reset_peak();
  *rc = spy_run(&op, in, s, out, &o, &st, &err);
  double peak = kb_field("VmHWM:");
  CHECK(*rc == SPY_OK, "%s", err.msg);
  if (*rc == SPY_OK) {
    double x, y; /* last sample of channel 0 */
    size_t last = out->shape[0] - 1;
    spy_data_read(in, last, 1, NULL, 1, &x, SPY_DT_F64, &err);
    spy_data_read(out, last, 1, NULL, 1, &y, SPY_DT_F64, &err);
    CHECK(y == (double)(float)(x + 1), "result %g for input %g", y, x);
    free(st.flagged);
  }
  spy_data_unref(out);
  spy_op_free(&op);
  spy_selection_free(s);
  return peak - base;
}

int main(void)
{
  spy_err err = {0};
  CHECK(spy_settings_init(&err) == SPY_OK, "%s", err.msg);
  int rc;

  /* one trial of 2,000,000 x 4 float32 (32 MB): one task's buffers are its
  ** float64 input (64 MB) and float32 output (32 MB), whatever the workers;
  ** the bound (4x) leaves room for HDF5's and ASan's own; before buffers
  ** were taken on first use the peaks were 201 MB inline, 393 MB on 4 */
  const double f32 = 2e6 * 4 * 4;
  spy_data *lng = make_input(1, 2000000, 4);
  double inl = run_peak(lng, NULL, &rc);
  CHECK(inl < 4 * f32, "inline: peak %.0f MB over %.0f MB of float32", inl / 1e6, f32 / 1e6);
  spy_pool *pool = spy_pool_new(4, &err);
  double p4 = run_peak(lng, pool, &rc);
  CHECK(p4 < 4 * f32, "4 threads: peak %.0f MB over %.0f MB of float32", p4 / 1e6, f32 / 1e6);
  spy_data_unref(lng);

  /* many short trials: the per-trial cost stays small (a task record with
  ** an embedded error buffer costs over 2 KB) */
  spy_data *a = make_input(2000, 1, 2), *b = make_input(40000, 1, 2);
  double pa = run_peak(a, pool, &rc), pb = run_peak(b, pool, &rc);
  double per = (pb - pa) / 38000;
  CHECK(per < 400, "peak grows by %.0f bytes per trial (%.1f MB at 2000, %.1f MB at 40000)", per,
        pa / 1e6, pb / 1e6);
  fprintf(stderr, "long trial: inline %.0f MB, 4 threads %.0f MB (float32 %.0f MB); "
                  "trials: %.0f bytes each\n",
          inl / 1e6, p4 / 1e6, f32 / 1e6, per);
  spy_data_unref(a);
  spy_data_unref(b);
  spy_pool_free(pool);
  return t_done();
}
