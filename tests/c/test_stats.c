/*
** Statistics from first principles through the C API: medians over trials
** computed in channel blocks equal the one-block result and the values
** known by construction, the bound's error, per-trial statistics along an
** axis, elementwise maths and redefinetrial's sample checks.
*/
#include <string.h>

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

int main(void)
{
  median_blocks();
  nan_and_axes();
  apply_and_redefine();
  return t_done();
}
