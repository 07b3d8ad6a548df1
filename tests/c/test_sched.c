/* The scheduler: same results inline, on 1/2/4 threads, with channel chunks;
** deterministic averages; failures name the trial and chunk; interrupts. */
#include <string.h>
#include <unistd.h>

#include "core/interrupt.h"
#include "core/settings.h"
#include "data/data.h"
#include "data/selection.h"
#include "sched/sched.h"
#include "t.h"

/* Kernel: out[n][c] = 2*in[n][c] + (trial+1)/1000 + chan0 ; fails on trial `fail_at`. */
typedef struct {
  long fail_at;
  int slow;
} plan_t;

static int kernel(const void *plan, spy_task *t, spy_err *err)
{
  const plan_t *p = plan;
  if ((long)t->trial == p->fail_at) return spy_fail(err, SPY_EINVAL, "synthetic failure");
  float *o = t->out;
  for (size_t n = 0; n < t->nsamp; n++) {
    if (p->slow && spy_interrupted()) return spy_fail(err, SPY_EINTR, "interrupted");
    if (p->slow) usleep(200);
    for (size_t c = 0; c < t->nchan; c++)
      o[n * t->nchan + c] =
          (float)(2 * t->in[n * t->nchan + c] + (double)(t->trial + 1) / 1000.0 + 0 * (double)t->chan0);
  }
  return SPY_OK;
}

static spy_data *make_input(size_t ntr, size_t ns, size_t nch)
{
  spy_err err = {0};
  spy_data *d = spy_data_new(SPY_ANALOG);
  size_t shape[2] = {ntr * ns, nch};
  if (spy_data_create(d, SPY_DT_F32, 2, shape, &err)) return NULL;
  float *buf = malloc(ntr * ns * nch * sizeof *buf);
  double *trl = malloc(ntr * 3 * sizeof *trl);
  for (size_t i = 0; i < ntr * ns * nch; i++) buf[i] = (float)((i * 7919) % 1000) / 100.0f;
  for (size_t k = 0; k < ntr; k++) {
    trl[3 * k] = (double)(k * ns);
    trl[3 * k + 1] = (double)((k + 1) * ns);
    trl[3 * k + 2] = -10;
  }
  spy_data_write(d, 0, ntr * ns, 0, nch, buf, SPY_DT_F32, &err);
  spy_data_set_trldef(d, trl, ntr, 3);
  spy_data_default_channels(d, nch);
  d->samplerate = 100;
  spy_data_sync_meta(d, &err);
  free(buf);
  free(trl);
  return d;
}

static void fill_op(spy_op *op, plan_t *p, const spy_selection *s, bool average)
{
  memset(op, 0, sizeof *op);
  op->name = "double";
  op->plan = p;
  op->kernel = kernel;
  op->chan_independent = true;
  op->cls = SPY_ANALOG;
  op->out_dtype = SPY_DT_F32;
  op->ntrials = s->ntrials;
  op->out_rows = malloc(s->ntrials * sizeof *op->out_rows);
  for (size_t k = 0; k < s->ntrials; k++) op->out_rows[k] = s->nrows[k];
  op->average = average;
  op->samplerate = 100;
  op->out_trlcols = 3;
  op->out_trldef = malloc(s->ntrials * 3 * sizeof(double));
  memcpy(op->out_trldef, s->trldef, s->ntrials * 3 * sizeof(double));
}

static int pipeline; /* spy_runopts.pipeline of the runs below */

static float *run_and_read(spy_data *in, const spy_selection *s, spy_op *op, spy_pool *pool,
                           size_t cpw, int *rc, spy_err *err, size_t *n)
{
  spy_runopts o = {.pool = pool, .chan_per_worker = cpw, .quiet = true, .pipeline = pipeline};
  spy_runstats st;
  spy_data *out = spy_data_new(SPY_ANALOG);
  *rc = spy_run(op, in, s, out, &o, &st, err);
  free(st.flagged);
  float *buf = NULL;
  if (*rc == SPY_OK) {
    *n = out->shape[0] * out->shape[1];
    buf = malloc(*n * sizeof *buf);
    spy_data_read(out, 0, out->shape[0], NULL, out->shape[1], buf, SPY_DT_F32, err);
  } else {
    CHECK(access(out->path ? out->path : "/nonexistent", F_OK) == 0 || out->path == NULL,
          "temp file exists until unref");
  }
  char *path = out->path ? strdup(out->path) : NULL;
  spy_data_unref(out);
  if (path) CHECK(access(path, F_OK) != 0, "temporary output removed: %s", path);
  free(path);
  return buf;
}

int main(void)
{
  spy_err err = {0};
  CHECK(spy_settings_init(&err) == SPY_OK, "%s", err.msg);
  spy_data *in = make_input(23, 50, 7);
  CHECK(in != NULL, "input");
  spy_selection *s = NULL;
  CHECK(spy_select(in, NULL, &s, &err) == SPY_OK, "%s", err.msg);

  plan_t p = {-1, 0};
  spy_op op;
  fill_op(&op, &p, s, false);
  int rc;
  size_t n0, n;
  float *ref = run_and_read(in, s, &op, NULL, 0, &rc, &err, &n0);
  CHECK(rc == SPY_OK && n0 == 23 * 50 * 7, "inline run: %s", err.msg);
  int threads[] = {1, 2, 4};
  size_t cpws[] = {0, 1, 3};
  for (int ti = 0; ti < 3; ti++) {
    spy_pool *pool = spy_pool_new(threads[ti], &err);
    for (int ci = 0; ci < 3; ci++) {
      float *got = run_and_read(in, s, &op, pool, cpws[ci], &rc, &err, &n);
      CHECK(rc == SPY_OK && n == n0 && memcmp(got, ref, n * sizeof *got) == 0,
            "threads=%d chan_per_worker=%zu equals inline", threads[ti], cpws[ci]);
      free(got);
    }
    spy_pool_free(pool);
  }
  free(ref);
  spy_op_free(&(spy_op){.out_rows = op.out_rows, .out_trldef = op.out_trldef});

  /* averages: identical for any worker count and chunking */
  fill_op(&op, &p, s, true);
  float *avg = run_and_read(in, s, &op, NULL, 0, &rc, &err, &n0);
  CHECK(rc == SPY_OK && n0 == 50 * 7, "average shape");
  double expect = 0;
  for (size_t k = 0; k < 23; k++) {
    float x;
    size_t row = k * 50 + 3;
    spy_data_read(in, row, 1, (size_t[]){2}, 1, &x, SPY_DT_F32, &err);
    expect += 2.0 * x + (double)(k + 1) / 1000.0;
  }
  CHECK_NEAR(avg[3 * 7 + 2], expect / 23, 1e-5, "average value");
  for (int ti = 0; ti < 3; ti++) {
    spy_pool *pool = spy_pool_new(threads[ti], &err);
    float *got = run_and_read(in, s, &op, pool, ti == 2 ? 2 : 0, &rc, &err, &n);
    CHECK(rc == SPY_OK && memcmp(got, avg, n * sizeof *got) == 0, "average deterministic (%d threads)",
          threads[ti]);
    free(got);
    spy_pool_free(pool);
  }
  free(avg);
  spy_op_free(&(spy_op){.out_rows = op.out_rows, .out_trldef = op.out_trldef});

  /* small tasks are read and written in batches inline: a selection whose
  ** trials do not follow each other in the file (and a channel subset) gives
  ** the numbers of per-task runs on threads */
  {
    cJSON *sj = cJSON_Parse("{\"trials\":[3,4,5,10,9,11,12,1],\"channel\":[6,2,3]}");
    spy_selection *ss = NULL;
    CHECK(spy_select(in, sj, &ss, &err) == SPY_OK, "%s", err.msg);
    cJSON_Delete(sj);
    fill_op(&op, &p, ss, false);
    float *inl = run_and_read(in, ss, &op, NULL, 0, &rc, &err, &n0);
    CHECK(rc == SPY_OK && n0 == 8 * 50 * 3, "batched inline run: %s", err.msg);
    spy_pool *p1 = spy_pool_new(1, &err);
    float *par = run_and_read(in, ss, &op, p1, 0, &rc, &err, &n);
    CHECK(rc == SPY_OK && n == n0 && memcmp(inl, par, n * sizeof *par) == 0,
          "batched inline = one thread, task by task");
    float x;
    spy_data_read(in, 9 * 50 + 7, 1, (size_t[]){5}, 1, &x, SPY_DT_F32, &err);
    CHECK_NEAR(inl[(3 * 50 + 7) * 3], 2.0 * x + 4 / 1000.0, 1e-5, "4th selected trial (file trial 10), channel 6");
    free(inl);
    free(par);
    spy_pool_free(p1);
    spy_op_free(&(spy_op){.out_rows = op.out_rows, .out_trldef = op.out_trldef});
    spy_selection_free(ss);
  }

  /* failure names trial and chunk; output removed */
  p.fail_at = 4;
  fill_op(&op, &p, s, false);
  spy_pool *pool = spy_pool_new(2, &err);
  float *got = run_and_read(in, s, &op, pool, 3, &rc, &err, &n);
  CHECK(rc == SPY_EINVAL && got == NULL, "failure propagates");
  CHECK(strstr(err.msg, "trial 5") && strstr(err.msg, "channels") && strstr(err.msg, "synthetic failure"),
        "message: %s", err.msg);
  got = run_and_read(in, s, &op, NULL, 0, &rc, &err, &n);
  CHECK(rc == SPY_EINVAL && strstr(err.msg, "failed in trial 5: synthetic failure"), "inline: %s", err.msg);

  /* interrupt */
  p.fail_at = -1;
  p.slow = 1;
  spy_interrupt_request();
  got = run_and_read(in, s, &op, pool, 0, &rc, &err, &n);
  CHECK(rc == SPY_EINTR && strcmp(err.msg, "interrupted") == 0, "interrupted: %d %s", rc, err.msg);
  spy_interrupt_clear();
  p.slow = 0;
  got = run_and_read(in, s, &op, pool, 0, &rc, &err, &n);
  CHECK(rc == SPY_OK, "next computation works: %s", err.msg);
  free(got);
  spy_pool_free(pool);
  spy_op_free(&(spy_op){.out_rows = op.out_rows, .out_trldef = op.out_trldef});

  /* large trials take the pipelined inline path (I/O thread): same numbers,
  ** failures and interrupts behave the same */
  {
    spy_data *big = make_input(6, 20000, 4);
    spy_selection *bs = NULL;
    CHECK(spy_select(big, NULL, &bs, &err) == SPY_OK, "%s", err.msg);
    plan_t bp = {-1, 0};
    fill_op(&op, &bp, bs, false);
    float *inl = run_and_read(big, bs, &op, NULL, 0, &rc, &err, &n0);
    CHECK(rc == SPY_OK, "pipelined inline run: %s", err.msg);
    spy_pool *p2 = spy_pool_new(2, &err);
    float *par = run_and_read(big, bs, &op, p2, 0, &rc, &err, &n);
    CHECK(rc == SPY_OK && n == n0 && memcmp(inl, par, n * sizeof *par) == 0, "pipelined = 2 threads");
    free(inl);
    free(par);
    bp.fail_at = 3;
    float *got3 = run_and_read(big, bs, &op, NULL, 0, &rc, &err, &n);
    CHECK(rc == SPY_EINVAL && !got3 && strstr(err.msg, "failed in trial 4: synthetic failure"),
          "pipelined failure: %s", err.msg);
    bp.fail_at = -1;
    spy_interrupt_request();
    got3 = run_and_read(big, bs, &op, NULL, 0, &rc, &err, &n);
    CHECK(rc == SPY_EINTR && !got3, "pipelined interrupt: %d %s", rc, err.msg);
    spy_interrupt_clear();
    spy_pool_free(p2);
    spy_op_free(&(spy_op){.out_rows = op.out_rows, .out_trldef = op.out_trldef});
    spy_selection_free(bs);
    spy_data_unref(big);
  }

  /* 40 such trials: the first ones run without the I/O thread and decide by
  ** their I/O time whether the rest use it.  Both ways (and the deciding one)
  ** give the same numbers; failures before, in and after the first tasks
  ** name their trial. */
  {
    spy_data *big = make_input(40, 20000, 4);
    spy_selection *bs = NULL;
    CHECK(spy_select(big, NULL, &bs, &err) == SPY_OK, "%s", err.msg);
    plan_t bp = {-1, 0};
    fill_op(&op, &bp, bs, false);
    spy_pool *p2 = spy_pool_new(2, &err);
    pipeline = 0;
    float *par = run_and_read(big, bs, &op, p2, 0, &rc, &err, &n0);
    CHECK(rc == SPY_OK, "40 trials on 2 threads: %s", err.msg);
    for (int mode = -1; mode <= 1; mode++) {
      pipeline = mode;
      float *inl = run_and_read(big, bs, &op, NULL, 0, &rc, &err, &n);
      CHECK(rc == SPY_OK && n == n0 && inl && memcmp(inl, par, n * sizeof *par) == 0,
            "40 trials inline (pipeline %d) = 2 threads: %s", mode, err.msg);
      free(inl);
      long at[3] = {0, 3, 30};
      for (int k = 0; k < 3; k++) {
        bp.fail_at = at[k];
        char want[64];
        snprintf(want, sizeof want, "failed in trial %ld: synthetic failure", at[k] + 1);
        float *got4 = run_and_read(big, bs, &op, NULL, 0, &rc, &err, &n);
        CHECK(rc == SPY_EINVAL && !got4 && strstr(err.msg, want), "pipeline %d, failure in trial %ld: %s",
              mode, at[k] + 1, err.msg);
        free(got4);
      }
      bp.fail_at = -1;
    }
    pipeline = 0;
    free(par);
    spy_pool_free(p2);
    spy_op_free(&(spy_op){.out_rows = op.out_rows, .out_trldef = op.out_trldef});
    spy_selection_free(bs);
    spy_data_unref(big);
  }

  spy_selection_free(s);
  char *path = strdup(in->path);
  spy_data_unref(in);
  CHECK(access(path, F_OK) != 0, "input temp file removed on last unref");
  free(path);
  return t_done();
}
