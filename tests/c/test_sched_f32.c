/* The scheduler's float32 seam (spy_op.in_f32, SPY_TASK_IN_F32): an op
** that takes its input as stored gets float32 values with the flag set
** from the inline executor (batched small tasks and the pipelined path),
** from pool threads and with channel chunks and channel selections, and
** float64 without the flag when the data are stored as float64, and the
** kernel's own flags still arrive.  And firws through the seam
** gives the bytes of the float64 path (widening is exact). */
#include <cjson/cJSON.h>
#include <stdatomic.h>
#include <string.h>

#include "core/kwspec.h"
#include "core/settings.h"
#include "data/data.h"
#include "data/selection.h"
#include "dsp/preprocessing.h"
#include "dsp/preprocessing_spec.h"
#include "sched/sched.h"
#include "t.h"

/* out[n][c] = 3 * in[n][c] + trial; counts the tasks that got floats */
typedef struct {
  atomic_int f32, f64;
} plan_t;

static int kernel(const void *plan, spy_task *t, spy_err *err)
{
  (void)err;
  plan_t *p = (plan_t *)plan;
  bool f32 = t->flags & SPY_TASK_IN_F32;
  atomic_fetch_add(f32 ? &p->f32 : &p->f64, 1);
  float *o = t->out;
  for (size_t i = 0; i < t->nsamp * t->nchan; i++) {
    double v = f32 ? ((const float *)(const void *)t->in)[i] : t->in[i];
    o[i] = (float)(3 * v + (double)t->trial);
  }
  t->flags |= t->trial == 2 ? SPY_TASK_HAS_NAN : 0;
  return SPY_OK;
}

static spy_data *make_input(spy_dtype dt, size_t ntr, size_t ns, size_t nch)
{
  spy_err err = {0};
  spy_data *d = spy_data_new(SPY_ANALOG);
  size_t shape[2] = {ntr * ns, nch};
  CHECK(spy_data_create(d, dt, 2, shape, &err) == SPY_OK, "%s", err.msg);
  float *buf = malloc(ntr * ns * nch * sizeof *buf);
  double *trl = malloc(ntr * 3 * sizeof *trl);
  for (size_t i = 0; i < ntr * ns * nch; i++) buf[i] = (float)((i * 7919) % 1000) / 7.0f - 60;
  for (size_t k = 0; k < ntr; k++) {
    trl[3 * k] = (double)(k * ns);
    trl[3 * k + 1] = (double)((k + 1) * ns);
    trl[3 * k + 2] = 0;
  }
  spy_data_write(d, 0, ntr * ns, 0, nch, buf, SPY_DT_F32, &err);
  spy_data_set_trldef(d, trl, ntr, 3);
  spy_data_default_channels(d, nch);
  d->samplerate = 1000;
  CHECK(spy_data_sync_meta(d, &err) == SPY_OK, "%s", err.msg);
  free(buf);
  free(trl);
  return d;
}

/* Runs op over in (selection json or NULL) and returns the output bytes. */
static void *run(spy_op *op, spy_data *in, const char *seljson, spy_pool *pool, size_t cpw,
                 size_t *nbytes, size_t *nflagged)
{
  spy_err err = {0};
  spy_selection *s = NULL;
  cJSON *sj = seljson ? cJSON_Parse(seljson) : NULL;
  CHECK(spy_select(in, sj, &s, &err) == SPY_OK, "%s", err.msg);
  cJSON_Delete(sj);
  bool own = op->out_rows == NULL; /* the generic op: geometry of the selection */
  if (own) {
    op->ntrials = s->ntrials;
    op->out_rows = malloc(s->ntrials * sizeof *op->out_rows);
    op->out_trldef = malloc(s->ntrials * 3 * sizeof(double));
    for (size_t k = 0; k < s->ntrials; k++) op->out_rows[k] = s->nrows[k];
    memcpy(op->out_trldef, s->trldef, s->ntrials * 3 * sizeof(double));
  }
  spy_runopts o = {.pool = pool, .chan_per_worker = cpw, .quiet = true};
  spy_runstats st = {0};
  spy_data *out = spy_data_new(SPY_ANALOG);
  int rc = spy_run(op, in, s, out, &o, &st, &err);
  CHECK(rc == SPY_OK, "run: %s", err.msg);
  void *bytes = NULL;
  *nbytes = 0;
  if (!rc) {
    *nbytes = out->shape[0] * out->nchannel * spy_dtype_size(out->dtype);
    bytes = malloc(*nbytes);
    CHECK(spy_data_read(out, 0, out->shape[0], NULL, out->nchannel, bytes, out->dtype, &err) ==
              SPY_OK,
          "%s", err.msg);
    *nflagged = st.nflagged;
  }
  free(st.flagged);
  spy_data_unref(out);
  spy_selection_free(s);
  if (own) {
    free(op->out_rows);
    free(op->out_trldef);
    op->out_rows = NULL;
    op->out_trldef = NULL;
  }
  return bytes;
}

static void generic(spy_pool *pool)
{
  static const char *const sels[] = {NULL, "{\"trials\":[4,2,3],\"channel\":[5,1,2]}"};
  struct {
    size_t ntr, ns;
  } sizes[] = {{9, 41}, {5, 9000}}; /* batched small tasks (287 floats each: aligned for
                                        float only); the pipelined path */
  for (int dt = 0; dt < 2; dt++)
    for (size_t z = 0; z < 2; z++) {
      spy_data *in = make_input(dt ? SPY_DT_F64 : SPY_DT_F32, sizes[z].ntr, sizes[z].ns, 7);
      for (size_t q = 0; q < 2; q++)
        for (int ex = 0; ex < 3; ex++) {
          plan_t p;
          atomic_init(&p.f32, 0);
          atomic_init(&p.f64, 0);
          spy_op op = {0};
          op.name = "triple";
          op.plan = &p;
          op.kernel = kernel;
          op.chan_independent = true;
          op.cls = SPY_ANALOG;
          op.out_dtype = SPY_DT_F32;
          op.samplerate = 1000;
          op.out_trlcols = 3;
          size_t n0, n1, f0 = 0, f1 = 0;
          void *ref = run(&op, in, sels[q], NULL, 0, &n0, &f0); /* in_f32 off */
          CHECK(atomic_load(&p.f32) == 0, "without in_f32 no task gets floats");
          atomic_store(&p.f64, 0);
          op.in_f32 = true;
          void *got = run(&op, in, sels[q], ex ? pool : NULL, ex == 2 ? 4 : 0, &n1, &f1);
          int tasks = atomic_load(&p.f32) + atomic_load(&p.f64);
          CHECK(tasks > 0 && (dt ? atomic_load(&p.f32) == 0 : atomic_load(&p.f64) == 0),
                "%s input, %s: %d tasks got float32, %d float64", dt ? "float64" : "float32",
                ex == 0 ? "inline" : ex == 1 ? "threads" : "threads, channel chunks",
                atomic_load(&p.f32), atomic_load(&p.f64));
          CHECK(ref && got && n0 == n1 && memcmp(ref, got, n0) == 0,
                "in_f32 output equals the float64 path (%s input, selection %zu, executor %d, "
                "%zu samples)",
                dt ? "float64" : "float32", q, ex, sizes[z].ns);
          CHECK(f0 == 1 && f1 == 1, "flagged trials %zu / %zu (expected 1)", f0, f1);
          free(ref);
          free(got);
        }
      spy_data_unref(in);
    }
}

/* firws (two passes as one, one pass, band-pass with polyremoval, rectify,
** downsampling) through the seam and through the float64 path. */
static void firws(spy_pool *pool)
{
  static const struct {
    const char *json;
    bool resample;
  } cfgs[] = {
      {"{\"filter_class\":\"firws\",\"freq\":40,\"filter_type\":\"lp\"}", false},
      {"{\"filter_class\":\"firws\",\"freq\":[5,30],\"filter_type\":\"bp\",\"order\":150,"
       "\"direction\":\"onepass\",\"polyremoval\":1,\"rectify\":true}",
       false},
      {"{\"resamplefs\":250,\"method\":\"downsample\",\"lpfreq\":100,\"order\":200}", true},
  };
  spy_data *in = make_input(SPY_DT_F32, 4, 3001, 11); /* a group of 8 channels and one of 3 */
  for (size_t c = 0; c < sizeof cfgs / sizeof *cfgs; c++) {
    spy_err err = {0};
    spy_selection *s = NULL;
    CHECK(spy_select(in, NULL, &s, &err) == SPY_OK, "%s", err.msg);
    spy_trials tr = {s->ntrials, s->nchan, in->samplerate, s->trldef, s->trlcols, in->dtype,
                     s->time_selected};
    const spy_funcspec *spec = cfgs[c].resample ? &spy_spec_resampledata : &spy_spec_preprocessing;
    cJSON *kw = cJSON_Parse(cfgs[c].json), *cfg = NULL;
    spy_op op = {0};
    int rc = spy_kw_apply(spec, kw, &cfg, &err);
    if (!rc)
      rc = cfgs[c].resample ? spy_resampledata_plan(cfg, &tr, &op, &err)
                            : spy_preprocessing_plan(cfg, &tr, &op, &err);
    CHECK(rc == SPY_OK && op.in_f32, "%s: planned (%s), takes float32", cfgs[c].json, err.msg);
    size_t n0, n1, n2, f;
    op.in_f32 = false;
    void *ref = run(&op, in, NULL, NULL, 0, &n0, &f);
    op.in_f32 = true;
    void *inl = run(&op, in, NULL, NULL, 0, &n1, &f);
    void *thr = run(&op, in, NULL, pool, 0, &n2, &f);
    CHECK(ref && inl && thr && n0 == n1 && n0 == n2 && memcmp(ref, inl, n0) == 0 &&
              memcmp(ref, thr, n0) == 0,
          "%s: float32 seam gives the float64 path's bytes", cfgs[c].json);
    free(ref);
    free(inl);
    free(thr);
    spy_op_free(&op);
    cJSON_Delete(kw);
    cJSON_Delete(cfg);
    spy_selection_free(s);
  }
  spy_data_unref(in);
}

int main(void)
{
  spy_err err = {0};
  CHECK(spy_settings_init(&err) == SPY_OK, "%s", err.msg);
  spy_pool *pool = spy_pool_new(2, &err);
  CHECK(pool != NULL, "%s", err.msg);
  generic(pool);
  firws(pool);
  spy_pool_free(pool);
  return t_done();
}
