/*
** Statistics from first principles through the C API: medians over trials
** computed in channel blocks equal the one-block result and the values
** known by construction, the bound's error, per-trial statistics along an
** axis, elementwise maths and redefinetrial's sample checks, and the two
** ways the scheduler reduces over trials (fold and blocks) agree.
*/
#include <cjson/cJSON.h>
#include <string.h>

#include "sched/op.h"
#include "stats/stats.h"
#include "t.h"

/* ntr trials of len samples x nch channels, x = f(k, s, c), float64 */
static spy_data *make(size_t ntr, size_t len, size_t nch, double (*f)(size_t, size_t, size_t))
{
  spy_err err = {0};
  spy_data *d = spy_data_new(SPY_ANALOG);
  size_t shape[2] = {ntr * len, nch};
  double *x = malloc(ntr * len * nch * sizeof *x), *trl = malloc(ntr * 3 * sizeof *trl);
  for (size_t k = 0; k < ntr; k++) {
    for (size_t s = 0; s < len; s++)
      for (size_t c = 0; c < nch; c++)
        x[(k * len + s) * nch + c] = f(k, s, c);
    trl[3 * k] = (double)(k * len), trl[3 * k + 1] = (double)((k + 1) * len), trl[3 * k + 2] = -2;
  }
  CHECK(spy_data_create(d, SPY_DT_F64, 2, shape, &err) == 0, "%s", err.msg);
  CHECK(spy_data_write(d, 0, shape[0], 0, nch, x, SPY_DT_F64, &err) == 0, "%s", err.msg);
  d->samplerate = 10;
  spy_data_set_trldef(d, trl, ntr, 3);
  spy_data_default_channels(d, nch);
  free(x);
  free(trl);
  return d;
}

static double *values(spy_data *o, size_t *n)
{
  spy_err err = {0};
  *n = o->shape[0] * spy_data_row_elems(o);
  double *v = malloc(*n * sizeof *v);
  CHECK(spy_data_read(o, 0, o->shape[0], NULL, o->shape[o->ndim - 1], v, SPY_DT_F64, &err) == 0,
        "%s", err.msg);
  return v;
}

/* a permutation of trials per element, so the median is (ntr-1)/2 + c + s */
static double perm(size_t k, size_t s, size_t c)
{
  return (double)((k * 7 + s * 3 + c) % 9) + (double)(c + s);
}
static double nan_in_first(size_t k, size_t s, size_t c)
{
  return k == 0 && c == 1 ? NAN : (double)(k + 1) * (double)(s + 1 + c);
}
static double ramp(size_t k, size_t s, size_t c)
{
  return (double)(k * 100 + s) + 0.5 * (double)c;
}

static void median_blocks(void)
{
  spy_data *d = make(9, 6, 5, perm);
  spy_selection *s = NULL;
  spy_err err = {0};
  CHECK(spy_select(d, NULL, &s, &err) == 0, "%s", err.msg);
  spy_data *whole = NULL, *blocks = NULL;
  CHECK(spy_stat_trials(d, s, SPY_STAT_MEDIAN, &whole, &err) == 0, "%s", err.msg);
  /* room for two channels of all trials: blocks of 2, 2, 1 channels */
  spy_stat_median_bytes = 2 * 9 * 6 * sizeof(double);
  CHECK(spy_stat_trials(d, s, SPY_STAT_MEDIAN, &blocks, &err) == 0, "%s", err.msg);
  /* less than one channel: a clear error and no result */
  spy_stat_median_bytes = 9 * 6 * sizeof(double) - 1;
  spy_data *none = NULL;
  CHECK(spy_stat_trials(d, s, SPY_STAT_MEDIAN, &none, &err) == SPY_ENOTSUP && none == NULL &&
            strstr(err.msg, "the median over trials holds every trial of a channel in memory"),
        "%s", err.msg);
  spy_stat_median_bytes = SPY_STAT_MEDIAN_BYTES;
  if (whole && blocks) {
    size_t n, m;
    double *a = values(whole, &n), *b = values(blocks, &m);
    CHECK(n == 6 * 5 && n == m, "one trial of 6 x 5");
    for (size_t i = 0; i < n && n == m; i++) {
      size_t sidx = i / 5, c = i % 5;
      CHECK(a[i] == b[i], "element %zu: blocks %g vs whole %g", i, b[i], a[i]);
      CHECK(a[i] == 4 + (double)(c + sidx), "element %zu: median %g", i, a[i]);
    }
    CHECK(whole->trldef[0] == 0 && whole->trldef[1] == 6 && whole->trldef[2] == -2,
          "first trial's offset");
    free(a), free(b);
  }
  spy_data_unref(whole), spy_data_unref(blocks);
  spy_selection_free(s), spy_data_unref(d);
}

static void nan_and_axes(void)
{
  spy_data *d = make(4, 3, 2, nan_in_first);
  spy_selection *s = NULL;
  spy_err err = {0};
  spy_select(d, NULL, &s, &err);
  spy_data *m = NULL, *md = NULL;
  CHECK(spy_stat_trials(d, s, SPY_STAT_MEAN, &m, &err) == 0, "%s", err.msg);
  if (m) {
    size_t n;
    double *v = values(m, &n);
    /* channel 0: mean of (1..4)(s+1); channel 1: trials 2..4 only */
    CHECK_NEAR(v[0], 2.5, 1e-12, "mean over trials");
    CHECK_NEAR(v[1], 3.0 * 2, 1e-12, "nanmean over trials skips the NaN trial");
    free(v);
  }
  /* median along time, per trial: the middle sample */
  CHECK(spy_stat_dim(d, s, SPY_STAT_MEDIAN, 0, true, &md, &err) == 0, "%s", err.msg);
  if (md) {
    size_t n;
    double *v = values(md, &n);
    CHECK(n == 4 * 2 && md->ntrials == 4, "one sample per trial");
    CHECK(v[2 * 2 + 0] == 3 * 2, "trial 3 channel 1: median of 3, 6, 9");
    CHECK(isnan(v[1]), "trial 1 channel 2 is all NaN");
    CHECK(md->trldef[3] == 1 && md->trldef[4] == 2 && md->trldef[5] == 0, "rows [k, k+1, 0]");
    free(v);
  }
  spy_data_unref(m), spy_data_unref(md);
  spy_selection_free(s), spy_data_unref(d);
}

static void apply_and_redefine(void)
{
  spy_data *d = make(3, 10, 2, ramp);
  spy_err err = {0};
  spy_data *o = NULL;
  CHECK(spy_data_apply(d, "log10", &o, &err) == 0, "%s", err.msg);
  if (o) {
    size_t n;
    double *v = values(o, &n);
    CHECK_NEAR(v[(10 + 4) * 2 + 1], log10(104.5), 1e-12, "log10 of trial 2, sample 5, channel 2");
    CHECK(o->cls == SPY_ANALOG && o->ntrials == 3 && o->dtype == SPY_DT_F64,
          "same class, trials, dtype");
    free(v);
  }
  spy_data_unref(o);
  CHECK(spy_data_apply(d, "tan", &o, &err) != 0 && o == NULL &&
            strcmp(err.msg, "Invalid value of `function`: 'tan'; expected one of 'log10', 'log', "
                            "'exp', 'abs', 'sqrt', 'real', 'imag', 'angle', 'conj'") == 0,
        "%s", err.msg);
  spy_selection *s = NULL;
  spy_select(d, NULL, &s, &err);
  double beg[3] = {2, 3, 4}, end = 10, off = 5;
  spy_redefine r = {.begsample = beg, .nbeg = 3, .endsample = &end, .nend = 1, .minlength = NAN};
  CHECK(spy_redefinetrial(d, s, &r, &o, &err) == 0, "%s", err.msg);
  if (o) {
    CHECK(o->ntrials == 3 && spy_data_trial_rows(o, 2) == 7, "trial 3 keeps samples 4..10");
    CHECK(o->trldef[2 * 3 + 2] == -2 + 3, "offset moves with begsample");
    size_t n;
    double *v = values(o, &n);
    CHECK(v[(9 + 8) * 2] == 203, "trial 3 starts at its 4th sample");
    free(v);
  }
  spy_data_unref(o);
  end = 11;
  CHECK(spy_redefinetrial(d, s, &r, &o, &err) != 0 && o == NULL &&
            strstr(
                err.msg,
                "'trial 1: begsample 2, endsample 11'; expected 1 <= begsample <= endsample <= 10"),
        "%s", err.msg);
  spy_redefine ro = {.offset = &off, .noffset = 1, .minlength = 1.5};
  CHECK(spy_redefinetrial(d, s, &ro, &o, &err) == 0 && o->ntrials == 0, "minlength drops all: %s",
        err.msg);
  spy_data_unref(o);
  ro.minlength = 0.5;
  CHECK(spy_redefinetrial(d, s, &ro, &o, &err) == 0 && o->ntrials == 3 && o->trldef[2] == 5,
        "offset replaces column 3: %s", err.msg);
  spy_data_unref(o);
  spy_selection_free(s), spy_data_unref(d);
}

/* The scheduler's two ways of reducing over trials (op.fold into the sums,
** or the kernel's block summed in trial order; remote workers use the
** latter) must leave the same bytes, for float64 input and for float32
** input read as stored, with NaNs anywhere (also in the last, unvectorised
** elements: 7 x 3 values per trial). */
static void fold_equals_blocks(void)
{
  const size_t ntr = 6, len = 7, nch = 3, n = len * nch;
  double trl[6 * 3], x[6 * 21];
  float xf[6 * 21];
  for (size_t k = 0; k < ntr; k++) {
    trl[3 * k] = (double)(k * len), trl[3 * k + 1] = (double)((k + 1) * len), trl[3 * k + 2] = 0;
    for (size_t i = 0; i < n; i++) {
      xf[k * n + i] = (float)(sin(1.3 * (double)(k * n + i)) * (double)(k + 1));
      if ((k == 1 && i == 2) || (k == 4 && i == 20) || (k % 2 == 0 && i == 9)) xf[k * n + i] = NAN;
    }
  }
  const char *const names[] = {"mean", "var", "std"};
  int (*const plans[])(const cJSON *, const spy_trials *, spy_op *, spy_err *) = {
      spy_stat_mean_plan, spy_stat_var_plan, spy_stat_std_plan};
  cJSON *cfg = cJSON_Parse("{\"dim\":\"trials\"}");
  for (int f32 = 0; f32 < 2; f32++)
    for (int q = 0; q < 3; q++) {
      spy_trials tr = {ntr, nch, 1000, trl, 3, f32 ? SPY_DT_F32 : SPY_DT_F64, false};
      spy_op op = {0};
      spy_err err = {0};
      CHECK(plans[q](cfg, &tr, &op, &err) == 0, "%s: %s", names[q], err.msg);
      CHECK(op.fold != NULL, "%s: no fold", names[q]);
      if (!op.fold) continue;
      size_t na = op.acc_elems;
      double *a = calloc(na, sizeof *a), *b = calloc(na, sizeof *b), *blk = malloc(na * sizeof *blk);
      for (size_t k = 0; k < ntr; k++) {
        for (size_t i = 0; i < n; i++) x[k * n + i] = xf[k * n + i];
        spy_task t = {0};
        t.trial = k, t.nchan = nch, t.nsamp = len, t.in = x + k * n, t.out = blk, t.rows = len;
        CHECK(op.kernel(op.plan, &t, &err) == 0, "%s: %s", names[q], err.msg);
        for (size_t i = 0; i < na; i++) a[i] += blk[i];
        if (f32) t.in = NULL, t.in32 = xf + k * n;
        op.fold(op.plan, b, &t);
      }
      CHECK(memcmp(a, b, na * sizeof *a) == 0, "%s (%s input): folded sums differ from the blocks'",
            names[q], f32 ? "float32" : "float64");
      double ya[21], yb[21];
      float fa[21], fb[21];
      void *oa = f32 ? (void *)fa : (void *)ya, *ob = f32 ? (void *)fb : (void *)yb;
      CHECK(op.finalize(op.plan, a, ntr, oa, &err) == 0 && op.finalize(op.plan, b, ntr, ob, &err) == 0,
            "%s", err.msg);
      CHECK(memcmp(oa, ob, n * (f32 ? sizeof(float) : sizeof(double))) == 0, "%s: results differ",
            names[q]);
      /* element 9 is NaN in trials 1, 3, 5: the mean of trials 2, 4, 6 */
      if (q == 0) {
        double m = ((double)xf[n + 9] + (double)xf[3 * n + 9] + (double)xf[5 * n + 9]) / 3;
        double got = f32 ? (double)fa[9] : ya[9];
        CHECK(fabs(got - m) <= (f32 ? 1e-6 : 1e-15) * fabs(m), "nanmean %g, want %g", got, m);
      }
      free(a);
      free(b);
      free(blk);
      spy_op_free(&op);
    }
  cJSON_Delete(cfg);
}

int main(void)
{
  median_blocks();
  fold_equals_blocks();
  nan_and_axes();
  apply_and_redefine();
  return t_done();
}
