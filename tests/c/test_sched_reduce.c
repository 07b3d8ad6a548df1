/* The scheduler's custom reduction (op->acc_elems + op->finalize): per-trial
** blocks of doubles summed in trial order, then finalized once.  Checked on
** the sample variance over trials (sum and sum of squares per sample and
** channel): equal to a direct two-pass computation, bit-identical inline and
** on 1/2/4 threads with any chan_per_worker (chunks are disabled for custom
** reductions), and refused without average mode or without finalize. */
#include <string.h>
#include <unistd.h>

#include "core/settings.h"
#include "data/data.h"
#include "data/selection.h"
#include "sched/sched.h"
#include "t.h"

typedef struct {
  size_t rows, nchan;
} plan_t;

/* acc = [sum x | sum x^2], each rows x nchan */
static int kernel(const void *plan, spy_task *t, spy_err *err)
{
  (void)err;
  const plan_t *p = plan;
  double *acc = t->out;
  size_t n = p->rows * p->nchan;
  for (size_t i = 0; i < n; i++) {
    double x = t->in[i];
    acc[i] = x;
    acc[n + i] = x * x;
  }
  return SPY_OK;
}

static int finalize(const void *plan, const double *acc, size_t ntrials, void *out, spy_err *err)
{
  (void)err;
  const plan_t *p = plan;
  size_t n = p->rows * p->nchan;
  float *o = out;
  for (size_t i = 0; i < n; i++) {
    double m = acc[i] / (double)ntrials;
    o[i] = (float)((acc[n + i] - (double)ntrials * m * m) / (double)(ntrials - 1));
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
    trl[3 * k + 2] = 0;
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

static void fill_op(spy_op *op, plan_t *p, const spy_selection *s)
{
  memset(op, 0, sizeof *op);
  op->name = "variance";
  op->plan = p;
  op->kernel = kernel;
  op->finalize = finalize;
  op->chan_independent = true; /* ignored: custom reductions take whole trials */
  op->cls = SPY_ANALOG;
  op->out_dtype = SPY_DT_F32;
  op->ntrials = s->ntrials;
  op->out_rows = malloc(s->ntrials * sizeof *op->out_rows);
  for (size_t k = 0; k < s->ntrials; k++) op->out_rows[k] = s->nrows[k];
  op->average = true;
  op->acc_elems = 2 * p->rows * p->nchan;
  op->samplerate = 100;
  op->out_trlcols = 3;
  op->out_trldef = malloc(3 * sizeof(double));
  memcpy(op->out_trldef, s->trldef, 3 * sizeof(double));
}

static float *run(spy_data *in, const spy_selection *s, const spy_op *op, spy_pool *pool,
                  size_t cpw, int *rc, spy_err *err)
{
  spy_runopts o = {.pool = pool, .chan_per_worker = cpw, .quiet = true};
  spy_runstats st;
  spy_data *out = spy_data_new(SPY_ANALOG);
  *rc = spy_run(op, in, s, out, &o, &st, err);
  free(st.flagged);
  float *buf = NULL;
  if (*rc == SPY_OK) {
    CHECK(out->ntrials == 1 && out->shape[0] == 40 && out->shape[1] == 6, "one averaged trial");
    buf = malloc(out->shape[0] * out->shape[1] * sizeof *buf);
    spy_data_read(out, 0, out->shape[0], NULL, out->shape[1], buf, SPY_DT_F32, err);
  }
  spy_data_unref(out);
  return buf;
}

int main(void)
{
  spy_err err = {0};
  CHECK(spy_settings_init(&err) == SPY_OK, "%s", err.msg);
  const size_t ntr = 17, ns = 40, nch = 6;
  spy_data *in = make_input(ntr, ns, nch);
  CHECK(in != NULL, "input");
  spy_selection *s = NULL;
  CHECK(spy_select(in, NULL, &s, &err) == SPY_OK, "%s", err.msg);

  /* direct two-pass variance over trials */
  float *all = malloc(ntr * ns * nch * sizeof *all);
  spy_data_read(in, 0, ntr * ns, NULL, nch, all, SPY_DT_F32, &err);
  double maxerr = 0;

  plan_t p = {ns, nch};
  spy_op op;
  fill_op(&op, &p, s);
  int rc;
  float *ref = run(in, s, &op, NULL, 0, &rc, &err);
  CHECK(rc == SPY_OK && ref, "inline: %s", err.msg);
  for (size_t i = 0; ref && i < ns * nch; i++) {
    double m = 0, v = 0;
    for (size_t k = 0; k < ntr; k++) m += all[k * ns * nch + i];
    m /= (double)ntr;
    for (size_t k = 0; k < ntr; k++) v += (all[k * ns * nch + i] - m) * (all[k * ns * nch + i] - m);
    v /= (double)(ntr - 1);
    double e = fabs(ref[i] - v) / (v > 1e-12 ? v : 1);
    if (e > maxerr) maxerr = e;
  }
  CHECK(maxerr < 1e-6, "variance equals the two-pass value to 1e-6 relative: %g", maxerr);

  int threads[] = {1, 2, 4};
  size_t cpws[] = {0, 1, 4};
  for (int ti = 0; ti < 3; ti++) {
    spy_pool *pool = spy_pool_new(threads[ti], &err);
    for (int ci = 0; ci < 3; ci++) {
      float *got = run(in, s, &op, pool, cpws[ci], &rc, &err);
      CHECK(rc == SPY_OK && got && ref && memcmp(got, ref, ns * nch * sizeof *got) == 0,
            "threads=%d chan_per_worker=%zu is bit-identical to inline", threads[ti], cpws[ci]);
      free(got);
    }
    spy_pool_free(pool);
  }
  free(ref);

  /* misuse is refused, not run */
  op.finalize = NULL;
  CHECK(run(in, s, &op, NULL, 0, &rc, &err) == NULL && rc == SPY_EINVAL &&
            strstr(err.msg, "finalize"),
        "acc_elems without finalize refused: %s", err.msg);
  op.finalize = finalize;
  op.average = false;
  CHECK(run(in, s, &op, NULL, 0, &rc, &err) == NULL && rc == SPY_EINVAL,
        "acc_elems without average mode refused: %s", err.msg);

  /* the task block geometry a remote worker ships */
  size_t shape[4];
  op.average = true;
  CHECK(spy_op_task_shape(&op, ns, nch, shape) == 1 && shape[0] == 2 * ns * nch, "1-d block");
  CHECK(spy_op_task_dtype(&op) == SPY_DT_F64, "float64 block");
  CHECK(spy_op_task_bytes(&op, ns, nch) == 2 * ns * nch * sizeof(double), "block bytes");
  op.acc_elems = 0;
  CHECK(spy_op_task_shape(&op, ns, 3, shape) == 2 && shape[0] == ns && shape[1] == 3, "plain block");
  CHECK(spy_op_task_bytes(&op, ns, 3) == ns * 3 * sizeof(float), "plain block bytes");

  free(all);
  free(op.out_rows);
  free(op.out_trldef);
  spy_selection_free(s);
  spy_data_unref(in);
  return t_done();
}
