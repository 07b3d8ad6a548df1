/*
** Statistics and trial tools against Syncopy's own results (tests/data/
** stat_*.h5, trials_*.h5) through the C API: the same input arrays, the
** engine's functions, the result read back from its file.  Tolerance: per
** channel max|spy - Syncopy| / max|Syncopy| <= 1e-5 (Syncopy's results are
** float32); trial definitions and labels exactly.  The reductions over
** trials on the scheduler give bit-identical results inline and with 1, 2
** and 4 threads.
*/
#include <cjson/cJSON.h>
#include <string.h>

#include "data/extra.h"
#include "h5ref.h"
#include "sched/sched.h"
#include "stats/stats.h"
#include "t.h"

#define TOL 1e-5

static double *R(const char *file, const char *name, size_t *shape)
{
  int nd;
  double *v = h5ref_read(t_data(file), name, &nd, shape);
  CHECK(v != NULL, "%s: dataset %s missing", file, name);
  return v;
}

/* An object of class cls holding x (shape, float32 or complex64 from re/im)
** with trial definition trl (ntr x 3). */
static spy_data *make(spy_dataclass cls, const double *re, const double *im, int nd,
                      const size_t *shape, const double *trl, size_t ntr)
{
  spy_err err = {0};
  spy_data *d = spy_data_new(cls);
  size_t n = 1;
  for (int i = 0; i < nd; i++)
    n *= shape[i];
  bool cplx = im != NULL;
  double *buf = malloc(n * (cplx ? 2 : 1) * sizeof *buf);
  for (size_t i = 0; i < n; i++) {
    if (cplx)
      buf[2 * i] = re[i], buf[2 * i + 1] = im[i];
    else
      buf[i] = re[i];
  }
  int rc = spy_data_create(d, cplx ? SPY_DT_C64 : SPY_DT_F32, nd, shape, &err);
  if (!rc)
    rc = spy_data_write(d, 0, shape[0], 0, shape[nd - 1], buf, cplx ? SPY_DT_C128 : SPY_DT_F64,
                        &err);
  CHECK(rc == 0, "make: %s", err.msg);
  free(buf);
  d->samplerate = 1000;
  spy_data_set_trldef(d, trl, ntr, 3);
  spy_data_default_channels(d, shape[nd - 1]);
  if (cls == SPY_SPECTRAL) {
    const char *taper = "hann";
    spy_data_set_taper(d, &taper, 1);
    double *f = malloc(shape[2] * sizeof *f);
    for (size_t i = 0; i < shape[2]; i++)
      f[i] = (double)i * 0.5;
    spy_data_set_freq(d, f, shape[2]);
    free(f);
  }
  CHECK(spy_data_sync_meta(d, &err) == 0, "meta: %s", err.msg);
  return d;
}

/* All of d's data as doubles (complex: re only when im is NULL). */
static double *all_of(spy_data *d, size_t *n)
{
  spy_err err = {0};
  *n = d->shape[0] * spy_data_row_elems(d);
  double *v = malloc((*n ? *n : 1) * sizeof *v);
  CHECK(spy_data_read(d, 0, d->shape[0], NULL, d->shape[d->ndim - 1], v, SPY_DT_F64, &err) == 0,
        "read: %s", err.msg);
  return v;
}

/* per-channel relative error (last axis nch) */
static void compare(const char *what, const double *got, const double *want, size_t n, size_t nch)
{
  for (size_t c = 0; c < nch; c++) {
    double dmax = 0, rmax = 0;
    for (size_t i = c; i < n; i += nch) {
      double d = fabs(got[i] - want[i]);
      if (d > dmax || isnan(d)) dmax = isnan(d) ? INFINITY : d;
      if (fabs(want[i]) > rmax) rmax = fabs(want[i]);
    }
    fprintf(stderr, "%s channel %zu: max rel. error %.3g\n", what, c, dmax / rmax);
    CHECK(dmax / rmax <= TOL, "%s channel %zu: rel. error %g", what, c, dmax / rmax);
  }
}

static void same_trl(const char *what, const spy_data *o, const double *want, size_t ntr)
{
  CHECK(o->ntrials == ntr && o->trlcols == 3, "%s: %zu trials", what, o->ntrials);
  for (size_t i = 0; o->ntrials == ntr && i < ntr * 3; i++)
    CHECK(o->trldef[i] == want[i], "%s: trialdefinition[%zu] %g vs %g", what, i, o->trldef[i],
          want[i]);
}

static spy_selection *select_json(spy_data *d, const char *json)
{
  cJSON *j = json ? cJSON_Parse(json) : NULL;
  spy_selection *s = NULL;
  spy_err err = {0};
  CHECK(spy_select(d, j, &s, &err) == 0, "select: %s", err.msg);
  cJSON_Delete(j);
  return s;
}

static void trials_of(const spy_data *d, const spy_selection *s, spy_trials *t)
{
  *t = (spy_trials){s->ntrials, s->nchan, d->samplerate, s->trldef, s->trlcols, d->dtype, false};
}

/* Runs a scheduler plan over all of d with `threads` workers (0: inline). */
static spy_data *run_plan(int (*plan)(const cJSON *, const spy_trials *, spy_op *, spy_err *),
                          const char *cfgjson, spy_data *d, int threads)
{
  spy_err err = {0};
  spy_selection *s = select_json(d, NULL);
  spy_trials tr;
  trials_of(d, s, &tr);
  cJSON *cfg = cJSON_Parse(cfgjson);
  spy_op op = {0};
  spy_data *out = NULL;
  if (plan(cfg, &tr, &op, &err) == 0) {
    spy_pool *pool = threads ? spy_pool_new(threads, &err) : NULL;
    spy_runopts ro = {.pool = pool, .quiet = true};
    spy_runstats st;
    out = spy_data_new(op.cls);
    if (spy_run(&op, d, s, out, &ro, &st, &err)) {
      CHECK(0, "run: %s", err.msg);
      spy_data_unref(out);
      out = NULL;
    }
    free(st.flagged);
    if (pool) spy_pool_free(pool);
  } else {
    CHECK(0, "plan: %s", err.msg);
  }
  spy_op_free(&op);
  cJSON_Delete(cfg);
  spy_selection_free(s);
  return out;
}

static void mean_trials(void)
{
  const char *F = "stat_mean_trials.h5";
  size_t sx[8], st[8], sy[8], sy2[8];
  double *x = R(F, "input", sx), *trl = R(F, "input_trialdefinition", st);
  double *y = R(F, "output", sy), *ytrl = R(F, "output_trialdefinition", sy2);
  spy_data *d = make(SPY_ANALOG, x, NULL, 2, sx, trl, st[0]);
  double *first = NULL;
  size_t n0 = 0;
  for (int threads = 0; threads <= 4; threads = threads ? threads * 2 : 1) {
    spy_data *o = run_plan(spy_stat_mean_plan, "{\"dim\":\"trials\"}", d, threads);
    if (!o) continue;
    CHECK(o->shape[0] == sy[0] && o->shape[1] == sy[1], "mean shape");
    same_trl("mean", o, ytrl, 1);
    size_t n;
    double *v = all_of(o, &n);
    if (!first) {
      compare("mean over trials", v, y, n, sy[1]);
      first = v, n0 = n;
    } else {
      CHECK(n == n0 && memcmp(v, first, n * sizeof *v) == 0, "%d threads differ from inline",
            threads);
      free(v);
    }
    spy_data_unref(o);
  }
  /* var and std: first principles against the input (float64 two-pass) */
  spy_data *ov = run_plan(spy_stat_var_plan, "{\"dim\":\"trials\"}", d, 2);
  spy_data *os = run_plan(spy_stat_std_plan, "{\"dim\":\"trials\"}", d, 0);
  size_t n, ns, len = sx[0] / st[0], nch = sx[1], ntr = st[0];
  double *v = ov ? all_of(ov, &n) : NULL, *s = os ? all_of(os, &ns) : NULL;
  double *want = malloc(len * nch * sizeof *want), *wsd = malloc(len * nch * sizeof *wsd);
  for (size_t i = 0; i < len * nch; i++) {
    double m = 0, q = 0;
    for (size_t k = 0; k < ntr; k++)
      m += x[k * len * nch + i];
    m /= (double)ntr;
    for (size_t k = 0; k < ntr; k++)
      q += (x[k * len * nch + i] - m) * (x[k * len * nch + i] - m);
    want[i] = q / (double)ntr;
    wsd[i] = sqrt(want[i]);
  }
  if (v) compare("var over trials", v, want, len * nch, nch);
  if (s) compare("std over trials", s, wsd, len * nch, nch);
  free(v), free(s), free(want), free(wsd), free(first);
  spy_data_unref(ov), spy_data_unref(os), spy_data_unref(d);
  free(x), free(trl), free(y), free(ytrl);
}

static void timelock(void)
{
  const char *F = "stat_timelock.h5";
  size_t sx[8], st[8], sa[8], sv[8], sc[8], sy[8], syt[8];
  double *x = R(F, "input", sx), *trl = R(F, "input_trialdefinition", st);
  double *avg = R(F, "output_avg", sa), *var = R(F, "output_var", sv),
         *cov = R(F, "output_cov", sc);
  double *y = R(F, "output", sy), *yt = R(F, "output_trialdefinition", syt);
  spy_data *d = make(SPY_ANALOG, x, NULL, 2, sx, trl, st[0]);
  spy_data *o = run_plan(spy_timelock_plan, "{\"covariance\":true,\"ddof\":null}", d, 2);
  size_t n, len = sa[0], nch = sa[1];
  double *v = o ? all_of(o, &n) : NULL;
  if (v) {
    CHECK(n == (2 * len + nch) * nch, "avg/var/cov rows");
    compare("timelock avg", v, avg, len * nch, nch);
    compare("timelock var", v + len * nch, var, len * nch, nch);
    compare("timelock cov", v + 2 * len * nch, cov, nch * nch, nch);
  }
  /* the trial-stacked data: the selection copied as float32 TimeLockData */
  spy_err err = {0};
  spy_selection *s = select_json(d, "{\"latency\":\"maxperiod\"}");
  spy_data *tl = NULL;
  CHECK(spy_stat_copy_selection(d, s, SPY_TIMELOCK, true, &tl, &err) == 0, "copy: %s", err.msg);
  if (tl) {
    size_t m;
    double *data = all_of(tl, &m);
    CHECK(tl->cls == SPY_TIMELOCK && tl->dtype == SPY_DT_F32, "TimeLockData float32");
    compare("timelock data", data, y, m, nch);
    same_trl("timelock", tl, yt, syt[0]);
    free(data);
  }
  spy_selection_free(s);
  spy_data_unref(tl);
  free(v);
  spy_data_unref(o), spy_data_unref(d);
  free(x), free(trl), free(avg), free(var), free(cov), free(y), free(yt);
}

static void var_freq(void)
{
  const char *F = "stat_var_freq.h5";
  size_t ss[8], st[8], sy[8], syt[8];
  double *spec = R(F, "spec", ss), *trl = R(F, "spec_trialdefinition", st);
  double *y = R(F, "output", sy), *yt = R(F, "output_trialdefinition", syt);
  spy_data *d = make(SPY_SPECTRAL, spec, NULL, 4, ss, trl, st[0]);
  spy_selection *s = select_json(d, NULL);
  spy_data *o = NULL;
  spy_err err = {0};
  CHECK(spy_stat_dim(d, s, SPY_STAT_VAR, 2, true, &o, &err) == 0, "var freq: %s", err.msg);
  if (o) {
    CHECK(o->ndim == 4 && o->shape[0] == sy[0] && o->shape[1] == sy[1] && o->shape[2] == 1 &&
              o->shape[3] == sy[3],
          "var freq shape");
    CHECK(o->nfreq == 1 && o->freq[0] == 0, "reduced freq axis is [0]");
    CHECK(o->ntaper == 1 && strcmp(o->taper[0], "hann") == 0, "taper label kept");
    size_t n;
    double *v = all_of(o, &n);
    compare("var over freq", v, y, n, sy[3]);
    same_trl("var over freq", o, yt, syt[0]);
    free(v);
  }
  spy_data_unref(o), spy_selection_free(s), spy_data_unref(d);
  free(spec), free(trl), free(y), free(yt);
}

static void itc(void)
{
  const char *F = "stat_itc.h5";
  size_t ss[8], st[8], sy[8], syt[8];
  double *re = R(F, "spec_real", ss), *im = R(F, "spec_imag", ss),
         *trl = R(F, "spec_trialdefinition", st);
  double *y = R(F, "output", sy), *yt = R(F, "output_trialdefinition", syt);
  spy_data *d = make(SPY_SPECTRAL, re, im, 4, ss, trl, st[0]);
  spy_selection *s = select_json(d, NULL);
  spy_data *o = NULL;
  spy_err err = {0};
  CHECK(spy_itc(d, s, &o, &err) == 0, "itc: %s", err.msg);
  if (o) {
    size_t n;
    double *v = all_of(o, &n);
    CHECK(n == sy[0] * sy[1] * sy[2] * sy[3], "itc shape");
    compare("itc", v, y, n, sy[3]);
    same_trl("itc", o, yt, 1);
    CHECK(o->ntaper == 1 && strcmp(o->taper[0], "taper1") == 0, "itc taper label taper1");
    CHECK(o->dtype == SPY_DT_F32, "itc float32");
    free(v);
  }
  spy_data_unref(o);
  /* a real-valued spectrum is refused with Syncopy's message */
  spy_data *p = make(SPY_SPECTRAL, re, NULL, 4, ss, trl, st[0]);
  spy_selection *sp = select_json(p, NULL);
  CHECK(spy_itc(p, sp, &o, &err) != 0 && o == NULL &&
            strcmp(err.msg, "Invalid value of `spec_data`: expected complex valued spectra, set "
                            "`output='fourier` in spy.freqanalysis!") == 0,
        "%s", err.msg);
  spy_selection_free(sp), spy_data_unref(p);
  spy_selection_free(s), spy_data_unref(d);
  free(re), free(im), free(trl), free(y), free(yt);
}

static void redefinetrial(void)
{
  const char *F = "trials_redefinetrial.h5";
  size_t sx[8], st[8], sy[8], syt[8];
  double *x = R(F, "input", sx), *trl = R(F, "input_trialdefinition", st);
  double *y = R(F, "output", sy), *yt = R(F, "output_trialdefinition", syt);
  spy_data *d = make(SPY_ANALOG, x, NULL, 2, sx, trl, st[0]);
  spy_selection *s = select_json(d, "{\"latency\":[-0.5, 0.5]}");
  spy_redefine r = {.minlength = NAN};
  spy_data *o = NULL;
  spy_err err = {0};
  CHECK(spy_redefinetrial(d, s, &r, &o, &err) == 0, "redefinetrial: %s", err.msg);
  if (o) {
    size_t n;
    double *v = all_of(o, &n);
    CHECK(n == sy[0] * sy[1], "redefinetrial shape %zu", n);
    if (n == sy[0] * sy[1]) compare("redefinetrial toilim", v, y, n, sy[1]);
    same_trl("redefinetrial", o, yt, syt[0]);
    free(v);
  }
  spy_data_unref(o);
  /* toilim and begsample together: Syncopy's message */
  double one = 1;
  spy_redefine both = {
      .begsample = &one, .nbeg = 1, .endsample = &one, .nend = 1, .minlength = NAN};
  CHECK(spy_redefinetrial(d, s, &both, &o, &err) != 0 &&
            strcmp(err.msg, "Incompatible input arguments, either `minlength` or "
                            "`begsample`/`endsample` or `trl` or `toilim`") == 0,
        "%s", err.msg);
  spy_selection_free(s), spy_data_unref(d);
  free(x), free(trl), free(y), free(yt);
}

static void concat(void)
{
  const char *F = "trials_concat.h5";
  size_t sx[8], st[8], sx2[8], st2[8], sy[8], syt[8];
  double *x = R(F, "input", sx), *trl = R(F, "input_trialdefinition", st);
  double *x2 = R(F, "input2", sx2), *trl2 = R(F, "input2_trialdefinition", st2);
  double *y = R(F, "output", sy), *yt = R(F, "output_trialdefinition", syt);
  spy_data *a = make(SPY_ANALOG, x, NULL, 2, sx, trl, st[0]);
  spy_data *b = make(SPY_ANALOG, x2, NULL, 2, sx2, trl2, st2[0]);
  spy_data *o = NULL;
  spy_err err = {0};
  CHECK(spy_concat(a, b, "channel", &o, &err) == 0, "concat: %s", err.msg);
  if (o) {
    size_t n;
    double *v = all_of(o, &n);
    CHECK(o->shape[0] == sy[0] && o->shape[1] == sy[1], "concat shape");
    compare("concat channel", v, y, n, sy[1]);
    same_trl("concat", o, yt, syt[0]);
    char want[6][64];
    size_t nl = h5ref_strings(t_data(F), "channel", want, 6);
    CHECK(nl == 6 && o->nchannel == 6, "6 labels");
    for (size_t c = 0; c < nl && c < o->nchannel; c++)
      CHECK(strcmp(o->channel[c], want[c]) == 0, "label %zu: %s vs %s", c, o->channel[c], want[c]);
    free(v);
  }
  spy_data_unref(o);
  CHECK(spy_concat(a, b, "time", &o, &err) != 0 &&
            strcmp(err.msg, "Invalid value of `dim`: 'time'; expected 'channel' or 'trials'") == 0,
        "%s", err.msg);
  CHECK(spy_concat(a, b, "trials", &o, &err) != 0 &&
            strcmp(err.msg, "Invalid value of `obj2`: expected the same number of channels as obj1 "
                            "(4, found 2)") == 0,
        "%s", err.msg);
  spy_data_unref(a), spy_data_unref(b);
  free(x), free(trl), free(x2), free(trl2), free(y), free(yt);
}

int main(void)
{
  mean_trials();
  timelock();
  var_freq();
  itc();
  redefinetrial();
  concat();
  return t_done();
}
