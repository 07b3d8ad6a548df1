/*
** Statistics and trial tools in Lua: spy.mean / std / var / median, spy.itc,
** spy.timelockanalysis, spy.redefinetrial, spy.concat, and the elementwise
** methods of data objects (obj:log10(), obj:abs(), ...).  The engine is
** src/stats; reductions over trials of time x channel data go through the
** scheduler (spy_bind_runop) like every analysis.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bind/array.h"
#include "bind/data.h"
#include "core/log.h"
#include "data/extra.h"
#include "sched/methods.h"
#include "stats/stats.h"

static void release_selection(void *p)
{
  spy_selection_free(p);
}
static void release_data(void *p)
{
  spy_data_unref(p);
}

/* f(data, "dim", {...}) -> f(data, {dim="dim", ...}) */
static void dim_positional(lua_State *L)
{
  if (lua_type(L, 2) != LUA_TSTRING) return;
  lua_newtable(L);
  if (lua_istable(L, 3)) {
    lua_pushnil(L);
    while (lua_next(L, 3)) {
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_settable(L, -4);
    }
  }
  lua_pushvalue(L, 2);
  lua_setfield(L, -2, "dim");
  lua_replace(L, 2);
  lua_settop(L, 2);
}

/* What stands where the data should be: a nil first argument is most often
** a misspelt variable name (Lua reads an unknown global as nil). */
static const char *missing_data(lua_State *L)
{
  return lua_isnil(L, 1) ? "nil (a misspelt variable name? a name that was never assigned is nil)"
                         : "nothing";
}

static spy_data *data_arg(lua_State *L, int idx, const char *what)
{
  spy_data *d = idx ? spy_bind_todata(L, idx) : NULL;
  if (!d)
    luaL_error(L, "Wrong type of `data`: expected Syncopy %s object found %s", what,
               idx ? luaL_typename(L, idx) : missing_data(L));
  if (d->ntrials == 0 || !d->path)
    luaL_error(L, "Invalid value of `data`: 'empty'; expected non-empty Syncopy data object");
  return d;
}

/* The selection of a call. `select=` of a statistic is an analysis' (a latency
** window cuts partially covered trials, as Syncopy's select= does); the
** latency keywords of timelockanalysis and redefinetrial select as selectdata. */
static spy_selection *select_as(lua_State *L, spy_data *d, const cJSON *sel, bool analysis)
{
  spy_err err = {0};
  spy_gcbox *box = spy_bind_gcbox(L, release_selection);
  spy_selection *s = NULL;
  if ((analysis ? spy_select_analysis : spy_select)(d, sel, &s, &err)) spy_bind_raise(L, &err);
  box->ptr = s;
  return s;
}

/* The result of an engine call: cfg entry and history as spy_bind_runop
** writes them, then pushed. */
static int push_result(lua_State *L, spy_data *o, const char *fname, const cJSON *cfg)
{
  spy_err err = {0};
  spy_gcbox *box = spy_bind_gcbox(L, release_data);
  box->ptr = o;
  cJSON_DeleteItemFromObject(o->cfg, fname);
  cJSON *c = cJSON_Duplicate(cfg, 1);
  if (c) cJSON_AddItemToObject(o->cfg, fname, c);
  char *s = cJSON_PrintUnformatted(cfg);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addstring(&b, "computed ");
  luaL_addstring(&b, fname);
  luaL_addstring(&b, " with settings ");
  luaL_addstring(&b, s ? s : "{}");
  luaL_pushresult(&b);
  free(s);
  spy_data_log(o, fname, lua_tostring(L, -1));
  lua_pop(L, 1);
  if (spy_data_sync_meta(o, &err)) spy_bind_raise(L, &err);
  box->ptr = NULL;
  spy_bind_pushdata(L, o);
  return 1;
}

/* ---- mean / std / var / median ---------------------------------------------- */

static int statistic(lua_State *L, const spy_funcspec *spec, spy_stat_kind k)
{
  dim_positional(L);
  int dataidx = 0;
  cJSON *cfg = NULL;
  spy_bind_callargs(L, spec, &dataidx, &cfg);
  spy_jsonbox *cfgbox = spy_bind_jsonbox(L);
  cfgbox->json = cfg;
  spy_data *d = data_arg(L, dataidx, "data");
  if (spy_dataclass_discrete(d->cls)) /* rows of spikes/events, not samples */
    return luaL_error(L, "Wrong type of `data`: expected AnalogData, SpectralData, "
                         "CrossSpectralData or TimeLockData found %s",
                      spy_dataclass_name(d->cls));
  const char *dim = spy_cfg_str(cfg, "dim", NULL);
  const char *const *dimord = spy_dataclass_dimord(d->cls);
  int axis = -1;
  for (int i = 0; dim && dimord[i]; i++)
    if (strcmp(dimord[i], dim) == 0) axis = i;
  if (!dim || (axis < 0 && strcmp(dim, "trials") != 0)) {
    char legal[160] = "one of [";
    for (int i = 0; dimord[i]; i++) {
      strcat(legal, i ? ", '" : "'");
      strcat(legal, dimord[i]);
      strcat(legal, "'");
    }
    return spy_bind_errorf(L, "Invalid value of `dim`: '%s'; expected %s] or 'trials'",
                           dim ? dim : "None", legal);
  }
  spy_selection *sel = select_as(L, d, cJSON_GetObjectItem(cfg, "select"), true);
  spy_err err = {0};
  spy_data *o = NULL;
  if (axis < 0 && sel->time_selected)
    for (size_t i = 1; i < sel->ntrials; i++)
      if (sel->nrows[i] != sel->nrows[0])
        return spy_bind_errorf(L, "Invalid value of `select`: 'latency window cuts trial %zu to "
                                  "%zu samples, trial 1 to %zu'; expected trials of the same "
                                  "shape over 'trials' (`spy.selectdata` with that latency drops "
                                  "the trials that do not cover it)",
                               i + 1, sel->nrows[i], sel->nrows[0]);
  bool scheduled = axis < 0 && spy_dataclass_timechannel(d->cls) &&
                   !spy_dtype_is_complex(d->dtype) && k != SPY_STAT_MEDIAN;
  if (!scheduled && cJSON_IsTrue(cJSON_GetObjectItem(cfg, "parallel")))
    spy_log(SPY_LOG_WARNING, "%s of %s %s is computed sequentially, ignoring `parallel` keyword",
            spec->name, spy_dataclass_name(d->cls), axis < 0 ? "over trials" : "along an axis");
  if (axis >= 0) {
    if (spy_stat_dim(d, sel, k, axis, spy_cfg_bool(cfg, "keeptrials", true), &o, &err))
      return spy_bind_raise(L, &err);
    return push_result(L, o, spec->name, cfg);
  }
  /* over trials: time x channel real data on the scheduler, the rest here */
  if (scheduled) {
    spy_op *op = spy_bind_plan(L, spec->name, cfg, d, sel);
    op->cls = d->cls;
    spy_bind_runop(L, spec->name, cfg, d, sel, op, NULL, 0, NULL);
    return 1;
  }
  if (spy_stat_trials(d, sel, k, &o, &err)) return spy_bind_raise(L, &err);
  return push_result(L, o, spec->name, cfg);
}

static int l_mean(lua_State *L)
{
  return statistic(L, &spy_spec_mean, SPY_STAT_MEAN);
}
static int l_std(lua_State *L)
{
  return statistic(L, &spy_spec_std, SPY_STAT_STD);
}
static int l_var(lua_State *L)
{
  return statistic(L, &spy_spec_var, SPY_STAT_VAR);
}
static int l_median(lua_State *L)
{
  return statistic(L, &spy_spec_median, SPY_STAT_MEDIAN);
}

/* ---- itc ---------------------------------------------------------------------- */

static int l_itc(lua_State *L)
{
  int dataidx = 0;
  cJSON *cfg = NULL;
  spy_bind_callargs(L, &spy_spec_itc, &dataidx, &cfg);
  spy_jsonbox *cfgbox = spy_bind_jsonbox(L);
  cfgbox->json = cfg;
  spy_data *d = data_arg(L, dataidx, "SpectralData");
  spy_selection *sel = select_as(L, d, cJSON_GetObjectItem(cfg, "select"), true);
  spy_err err = {0};
  spy_data *o = NULL;
  if (spy_itc(d, sel, &o, &err)) return spy_bind_raise(L, &err);
  return push_result(L, o, "itc", cfg);
}

/* ---- timelockanalysis ------------------------------------------------------- */

/* Converts rows [r0, r0+nr) x nch of the intermediate result to a float32 extra dataset. */
static void put_rows(lua_State *L, spy_data *tl, const char *name, const double *v, size_t n0,
                     size_t n1, size_t n2)
{
  size_t shape[3] = {n0, n1, n2};
  spy_array *a = spy_array_new(SPY_DT_F32, n2 ? 3 : 2, shape);
  if (!a) luaL_error(L, "out of memory");
  for (size_t i = 0; i < n0 * n1 * (n2 ? n2 : 1); i++)
    ((float *)a->buf->data)[i] = (float)v[i];
  spy_err err = {0};
  int rc = spy_data_put_extra(tl, name, a, &err);
  spy_array_free(a);
  if (rc) spy_bind_raise(L, &err);
}

static int l_timelockanalysis(lua_State *L)
{
  int dataidx = 0;
  cJSON *cfg = NULL;
  spy_bind_callargs(L, &spy_spec_timelockanalysis, &dataidx, &cfg);
  spy_jsonbox *cfgbox = spy_bind_jsonbox(L);
  cfgbox->json = cfg;
  spy_data *d = data_arg(L, dataidx, "AnalogData");
  if (d->cls != SPY_ANALOG)
    return luaL_error(L, "Wrong type of `data`: expected Syncopy AnalogData object found %s",
                      spy_dataclass_name(d->cls));
  /* the selection: select's trials or the trials keyword, and the latency window */
  spy_jsonbox *selbox = spy_bind_jsonbox(L);
  const cJSON *given = cJSON_GetObjectItem(cfg, "select");
  selbox->json = cJSON_IsObject(given) ? cJSON_Duplicate(given, 1) : cJSON_CreateObject();
  const cJSON *trials = cJSON_GetObjectItem(cfg, "trials");
  bool all = cJSON_IsString(trials) && strcmp(trials->valuestring, "all") == 0;
  if (!all) {
    if (cJSON_GetObjectItem(selbox->json, "trials"))
      return luaL_error(L, "Invalid value of `trials`: 'trial keyword and trial selection'; "
                           "expected either `trials != 'all'` or selection");
    cJSON_AddItemToObject(selbox->json, "trials", cJSON_Duplicate(trials, 1));
  }
  cJSON_DeleteItemFromObject(selbox->json, "latency");
  cJSON_AddItemToObject(selbox->json, "latency",
                        cJSON_Duplicate(cJSON_GetObjectItem(cfg, "latency"), 1));
  spy_selection *sel = select_as(L, d, selbox->json, false);
  spy_err err = {0};
  if (spy_stat_equal_trials(sel, &err)) return spy_bind_raise(L, &err);
  spy_data *tl = NULL;
  if (spy_stat_copy_selection(d, sel, SPY_TIMELOCK, true, &tl, &err))
    return spy_bind_raise(L, &err);
  spy_gcbox *tlbox = spy_bind_gcbox(L, release_data);
  tlbox->ptr = tl;
  /* avg, var (and cov) as one reduction over trials on the scheduler */
  spy_op *op = spy_bind_plan(L, "timelockanalysis", cfg, d, sel);
  spy_bind_runop(L, "timelockanalysis", cfg, d, sel, op, NULL, 0, NULL);
  spy_data *r = spy_bind_checkdata(L, -1);
  size_t len = sel->nrows[0], nch = sel->nchan, rows = r->shape[0];
  double *v = lua_newuserdatauv(L, (rows * nch + 1) * sizeof *v, 0); /* collected by Lua */
  if (spy_data_read(r, 0, rows, NULL, nch, v, SPY_DT_F64, &err)) return spy_bind_raise(L, &err);
  put_rows(L, tl, "avg", v, len, nch, 0);
  put_rows(L, tl, "var", v + len * nch, len, nch, 0);
  if (rows > 2 * len) put_rows(L, tl, "cov", v + 2 * len * nch, nch, nch, 0);
  if (spy_cfg_bool(cfg, "covariance", false) && spy_cfg_bool(cfg, "keeptrials", false)) {
    /* one covariance per trial: read back the stored trials */
    const cJSON *dd = cJSON_GetObjectItem(cfg, "ddof");
    double ddof = cJSON_IsNumber(dd) ? dd->valuedouble : 1;
    size_t nt = tl->ntrials;
    double *x = lua_newuserdatauv(L, (len * nch + 1) * sizeof *x, 0);
    double *cov = lua_newuserdatauv(L, (nt * nch * nch + 1) * sizeof *cov, 0);
    double *mean = lua_newuserdatauv(L, (nch + 1) * sizeof *mean, 0);
    if ((double)len <= ddof)
      return spy_bind_errorf(
          L, "Invalid value of `ddof`: expected fewer than the %zu samples of a trial", len);
    for (size_t k = 0; k < nt; k++) {
      if (spy_data_read(tl, (size_t)tl->trldef[k * tl->trlcols], len, NULL, nch, x, SPY_DT_F64,
                        &err))
        return spy_bind_raise(L, &err);
      spy_stat_trial_cov(x, len, nch, ddof, cov + k * nch * nch, mean);
    }
    put_rows(L, tl, "cov", cov, nt, nch, nch);
  }
  tlbox->ptr = NULL; /* push_result takes it over */
  return push_result(L, tl, "timelockanalysis", cfg);
}

/* ---- redefinetrial, concat --------------------------------------------------- */

/* Numbers of cfg[key] (a number or list) into a userdata array; *n = 0 when absent. */
static double *numbers(lua_State *L, const cJSON *cfg, const char *key, size_t *n)
{
  const cJSON *v = cJSON_GetObjectItem(cfg, key);
  *n = 0;
  if (!v || cJSON_IsNull(v)) return NULL;
  size_t m = cJSON_IsArray(v) ? (size_t)cJSON_GetArraySize(v) : 1;
  double *out = lua_newuserdatauv(L, (m ? m : 1) * sizeof *out, 0);
  if (cJSON_IsArray(v)) {
    const cJSON *e;
    cJSON_ArrayForEach(e, v) out[(*n)++] = e->valuedouble;
  } else {
    out[(*n)++] = v->valuedouble;
  }
  return *n ? out : NULL;
}

static int l_redefinetrial(lua_State *L)
{
  int dataidx = 0;
  cJSON *cfg = NULL;
  spy_bind_callargs(L, &spy_spec_redefinetrial, &dataidx, &cfg);
  spy_jsonbox *cfgbox = spy_bind_jsonbox(L);
  cfgbox->json = cfg;
  spy_data *d = data_arg(L, dataidx, "AnalogData");
  if (!spy_dataclass_timechannel(d->cls) && d->cls != SPY_SPECTRAL && d->cls != SPY_CROSSSPECTRAL)
    return luaL_error(L,
                      "Wrong type of `data_obj`: expected Syncopy AnalogData, TimeLockData, "
                      "SpectralData or CrossSpectralData object found %s",
                      spy_dataclass_name(d->cls));
  spy_jsonbox *selbox = spy_bind_jsonbox(L);
  selbox->json = cJSON_CreateObject();
  const cJSON *trials = cJSON_GetObjectItem(cfg, "trials"),
              *toilim = cJSON_GetObjectItem(cfg, "toilim");
  if (trials && !cJSON_IsNull(trials))
    cJSON_AddItemToObject(selbox->json, "trials", cJSON_Duplicate(trials, 1));
  if (toilim && !cJSON_IsNull(toilim))
    cJSON_AddItemToObject(selbox->json, "latency", cJSON_Duplicate(toilim, 1));
  spy_redefine r = {0};
  r.minlength = spy_cfg_isnull(cfg, "minlength") ? NAN : spy_cfg_num(cfg, "minlength", NAN);
  r.begsample = numbers(L, cfg, "begsample", &r.nbeg);
  r.endsample = numbers(L, cfg, "endsample", &r.nend);
  r.offset = numbers(L, cfg, "offset", &r.noffset);
  const cJSON *trl = cJSON_GetObjectItem(cfg, "trl");
  if (trl && !cJSON_IsNull(trl)) {
    size_t nr = (size_t)cJSON_GetArraySize(trl), cols = 0;
    const cJSON *row;
    cJSON_ArrayForEach(row, trl)
    {
      size_t c = cJSON_IsArray(row) ? (size_t)cJSON_GetArraySize(row) : 0;
      if (c < 3 || (cols && c != cols))
        return luaL_error(L, "Invalid value of `trl`: expected rows {start, stop, offset, ...} "
                             "of equal length");
      cols = c;
    }
    double *t = lua_newuserdatauv(L, (nr * cols + 1) * sizeof *t, 0);
    size_t i = 0;
    cJSON_ArrayForEach(row, trl)
    {
      const cJSON *e;
      cJSON_ArrayForEach(e, row) t[i++] = cJSON_IsNumber(e) ? e->valuedouble : NAN;
    }
    r.trl = t, r.ntrl = nr, r.trlcols = cols;
  }
  spy_selection *sel = select_as(L, d, selbox->json, false);
  spy_err err = {0};
  spy_data *o = NULL;
  if (spy_redefinetrial(d, sel, &r, &o, &err)) return spy_bind_raise(L, &err);
  return push_result(L, o, "redefinetrial", cfg);
}

static int l_concat(lua_State *L)
{
  spy_data *a = spy_bind_todata(L, 1), *b = spy_bind_todata(L, 2);
  if (!a || !b)
    return luaL_error(L, "Wrong type of `%s`: expected Syncopy data object found %s",
                      a ? "obj2" : "obj1", luaL_typename(L, a ? 2 : 1));
  if (lua_type(L, 3) == LUA_TSTRING) { /* spy.concat(a, b, "trials") */
    lua_createtable(L, 0, 1);
    lua_pushvalue(L, 3);
    lua_setfield(L, -2, "dim");
    lua_replace(L, 3);
  }
  spy_jsonbox *box = spy_bind_jsonbox(L);
  box->json = spy_bind_kwargs(L, lua_istable(L, 3) ? 3 : 0, &spy_spec_concat);
  spy_err err = {0};
  spy_data *o = NULL;
  if (spy_concat(a, b, spy_cfg_str(box->json, "dim", "channel"), &o, &err))
    return spy_bind_raise(L, &err);
  return push_result(L, o, "concat", box->json);
}

/* ---- elementwise methods ------------------------------------------------------ */

static int apply(lua_State *L, const char *fn)
{
  spy_data *d = spy_bind_checkdata(L, 1);
  spy_err err = {0};
  spy_data *o = NULL;
  if (spy_data_apply(d, fn, &o, &err)) return spy_bind_raise(L, &err);
  spy_bind_pushdata(L, o);
  return 1;
}

static const spy_kwarg kw_none[] = {SPY_KW_END};
#define ELEMENTWISE(fn, what)                                                                      \
  static int l_##fn(lua_State *L)                                                                  \
  {                                                                                                \
    return apply(L, #fn);                                                                          \
  }                                                                                                \
  static const spy_funcspec spec_##fn = {                                                          \
      "data:" #fn,                                                                                 \
      "obj:" #fn "()",                                                                             \
      what " of every sample: a new object of the same class and axes.",                           \
      "Streamed in row blocks; complex input gives " #fn " of the complex values.",                \
      "local r = obj:" #fn "()",                                                                   \
      kw_none};

ELEMENTWISE(log10, "Base-10 logarithm (10 * spec:log10() is dB)")
ELEMENTWISE(log, "Natural logarithm")
ELEMENTWISE(exp, "Exponential")
ELEMENTWISE(abs, "Absolute value (real for complex data)")
ELEMENTWISE(sqrt, "Square root")
ELEMENTWISE(real, "Real part (real)")
ELEMENTWISE(imag, "Imaginary part (real)")
ELEMENTWISE(angle, "Phase angle in radians (real)")
ELEMENTWISE(conj, "Complex conjugate")

void spy_open_stats(lua_State *L, int spy)
{
  spy_bind_func(L, spy, "mean", l_mean, &spy_spec_mean);
  spy_bind_func(L, spy, "std", l_std, &spy_spec_std);
  spy_bind_func(L, spy, "var", l_var, &spy_spec_var);
  spy_bind_func(L, spy, "median", l_median, &spy_spec_median);
  spy_bind_func(L, spy, "itc", l_itc, &spy_spec_itc);
  spy_bind_func(L, spy, "timelockanalysis", l_timelockanalysis, &spy_spec_timelockanalysis);
  spy_bind_func(L, spy, "redefinetrial", l_redefinetrial, &spy_spec_redefinetrial);
  spy_bind_func(L, spy, "concat", l_concat, &spy_spec_concat);
  lua_getfield(L, LUA_REGISTRYINDEX, "spy.data.methods");
  int m = lua_gettop(L);
  spy_bind_func(L, m, "log10", l_log10, &spec_log10);
  spy_bind_func(L, m, "log", l_log, &spec_log);
  spy_bind_func(L, m, "exp", l_exp, &spec_exp);
  spy_bind_func(L, m, "abs", l_abs, &spec_abs);
  spy_bind_func(L, m, "sqrt", l_sqrt, &spec_sqrt);
  spy_bind_func(L, m, "real", l_real, &spec_real);
  spy_bind_func(L, m, "imag", l_imag, &spec_imag);
  spy_bind_func(L, m, "angle", l_angle, &spec_angle);
  spy_bind_func(L, m, "conj", l_conj, &spec_conj);
  lua_pop(L, 1);
}
