/*
** SpikeData and EventData in Lua (docs/internals/discrete.md): their
** constructors, fields, printed summary, trial and time indexers, and the
** discrete branches of spy.show, spy.selectdata and spy.definetrial (with
** EventData markers, also for AnalogData); spy.synthdata.poisson_noise.
** Common fields (cfg, log, trialdefinition, ...) come from the continuous
** classes' __index, taken as an upvalue at open time.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bind/array.h"
#include "bind/data.h"
#include "core/log.h"
#include "data/discrete.h"
#include "data/extra.h"
#include "stats/psth.h"
#include "synth/poisson.h"

/* ---- helpers ---------------------------------------------------------------- */

static spy_data *indexer_data(lua_State *L)
{
  lua_getiuservalue(L, 1, 1);
  spy_data *d = spy_bind_checkdata(L, -1);
  lua_pop(L, 1);
  return d;
}

static lua_Integer trial_arg(lua_State *L, int idx)
{
  if (lua_type(L, idx) == LUA_TNUMBER && lua_tonumber(L, idx) == floor(lua_tonumber(L, idx)))
    return (lua_Integer)lua_tonumber(L, idx);
  return luaL_error(L, "Wrong type of `trial index`: expected single number to index a single trial "
                       "found %s", luaL_typename(L, idx));
}

/* Rows of trial k (0-based) as an int64 array (nrows x ncols). */
static void push_trial(lua_State *L, spy_data *d, size_t k)
{
  spy_err err = {0};
  size_t r0, n;
  if (spy_discrete_trial_rows(d, k, &r0, &n, &err)) spy_bind_raise(L, &err);
  size_t shape[2] = {n, d->shape[1]};
  spy_array *a = spy_array_new(SPY_DT_I64, 2, shape);
  if (!a) luaL_error(L, "out of memory reading trial %d", (int)k + 1);
  if (spy_discrete_read(d, r0, n, a->buf->data, &err)) {
    spy_array_free(a);
    spy_bind_raise(L, &err);
  }
  spy_bind_pusharray(L, a);
}

static int trials_index(lua_State *L)
{
  spy_data *d = indexer_data(L);
  lua_Integer k = trial_arg(L, 2);
  if (k < 1 || (size_t)k > d->ntrials) return 0;
  push_trial(L, d, (size_t)k - 1);
  return 1;
}

/* time[k]: (sample - start + offset) / samplerate of each row of trial k. */
static int time_index(lua_State *L)
{
  spy_data *d = indexer_data(L);
  lua_Integer k = trial_arg(L, 2);
  if (k < 1 || (size_t)k > d->ntrials) return 0;
  push_trial(L, d, (size_t)k - 1);
  spy_array *a = spy_bind_checkarray(L, -1);
  size_t n = a->shape[0], nc = a->shape[1];
  spy_array *t = spy_array_new(SPY_DT_F64, 1, &n);
  if (!t) return luaL_error(L, "out of memory");
  const double *r = d->trldef + (size_t)(k - 1) * d->trlcols;
  for (size_t i = 0; i < n; i++)
    ((double *)t->buf->data)[i] = ((double)((int64_t *)a->buf->data)[i * nc] - r[0] + r[2]) / d->samplerate;
  spy_bind_pusharray(L, t);
  return 1;
}

static void push_ivec(lua_State *L, const spy_ivec *v)
{
  lua_createtable(L, (int)v->n, 0);
  for (size_t i = 0; i < v->n; i++) {
    lua_pushinteger(L, (lua_Integer)v->v[i]);
    lua_seti(L, -2, (lua_Integer)i + 1);
  }
}

static void pushstrv(lua_State *L, char *const *v, size_t n)
{
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushstring(L, v[i]);
    lua_seti(L, -2, (lua_Integer)i + 1);
  }
}

/* ---- fields ------------------------------------------------------------------ */

static int l_index(lua_State *L)
{
  spy_data *d = spy_bind_checkdata(L, 1);
  const char *k = luaL_checkstring(L, 2);
  bool spike = d->cls == SPY_SPIKE;
  if (strcmp(k, "trials") == 0 || strcmp(k, "time") == 0) {
    lua_newuserdatauv(L, 1, 1);
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, 1);
    luaL_setmetatable(L, k[1] == 'r' ? "spy.DiscreteTrials" : "spy.DiscreteTime");
    return 1;
  }
  if (spike && strcmp(k, "unit") == 0) {
    pushstrv(L, d->unit, d->nunit);
    return 1;
  }
  if (strcmp(k, "dimord") == 0) {
    const char *const *dim = spy_data_dimord(d);
    lua_newtable(L);
    for (int i = 0; dim[i]; i++) {
      lua_pushstring(L, dim[i]);
      lua_seti(L, -2, i + 1);
    }
    return 1;
  }
  if (spike && strcmp(k, "waveform") == 0) { /* the whole dataset, as Syncopy's property */
    spy_array *w = NULL;
    spy_err err = {0};
    if (spy_data_get_extra(d, "waveform", &w, &err)) return spy_bind_raise(L, &err);
    if (!w) return 0;
    spy_bind_pusharray(L, w);
    return 1;
  }
  if ((spike && (strcmp(k, "channel_idx") == 0 || strcmp(k, "unit_idx") == 0)) ||
      (!spike && strcmp(k, "eventid") == 0)) {
    spy_discrete_scan sc;
    spy_err err = {0};
    if (spy_discrete_check(d, &sc, &err)) return spy_bind_raise(L, &err);
    push_ivec(L, &sc.col[spike && k[0] == 'u' ? 1 : 0]);
    spy_discrete_scan_free(&sc);
    return 1;
  }
  if ((!spike && strcmp(k, "channel") == 0) || strcmp(k, "freq") == 0 || strcmp(k, "taper") == 0 ||
      strcmp(k, "channel_i") == 0 || strcmp(k, "channel_j") == 0 ||
      strcmp(k, "is_time_locked") == 0) {
    lua_getfield(L, LUA_REGISTRYINDEX, "spy.data.methods");
    lua_getfield(L, -1, k);
    return 1;
  }
  lua_pushvalue(L, lua_upvalueindex(1)); /* the continuous classes' __index */
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_call(L, 2, 1);
  return 1;
}

/* Settable fields are the continuous classes' (channel, info, log) and, via
** the same setter, SpikeData's unit; EventData has no channel. */
static int l_newindex(lua_State *L)
{
  spy_data *d = spy_bind_checkdata(L, 1);
  const char *k = luaL_checkstring(L, 2);
  if (d->cls == SPY_EVENT && strcmp(k, "channel") == 0)
    return luaL_error(L, "cannot set field 'channel' of a EventData (settable: info, log)");
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_pushvalue(L, 3);
  lua_call(L, 3, 0);
  return 0;
}

/* ---- printed summary (syncopy.md 8.2, DiscreteData.__str__) -------------------- */

static int l_tostring(lua_State *L)
{
  spy_data *d = spy_bind_checkdata(L, 1);
  bool spike = d->cls == SPY_SPIKE;
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  char line[600], val[400];
  snprintf(line, sizeof line, "spy %s object with fields\n\n", spy_dataclass_name(d->cls));
  luaL_addstring(&b, line);
  /* same length for all trials? */
  bool same = d->ntrials > 0;
  for (size_t k = 1; k < d->ntrials; k++)
    same &= d->trldef[k * d->trlcols + 1] - d->trldef[k * d->trlcols] == d->trldef[1] - d->trldef[0];
  const char *names[] = {"cfg", "channel", "container", "data", "dimord", "eventid", "filename", "info",
                         "mode", "sampleinfo", "samplerate", "selection", "tag", "time",
                         "trial_ids", "trialinfo", "trialintervals", "trials", "unit", "waveform", NULL};
  int w = 14; /* longest name: trialintervals */
  for (int i = 0; names[i]; i++) {
    const char *n = names[i];
    if ((!spike && (strcmp(n, "channel") == 0 || strcmp(n, "unit") == 0 || strcmp(n, "waveform") == 0)) ||
        (spike && strcmp(n, "eventid") == 0))
      continue;
    val[0] = '\0';
    if (strcmp(n, "cfg") == 0 || strcmp(n, "info") == 0) {
      const cJSON *o = n[0] == 'c' ? d->cfg : d->info, *e;
      int cnt = cJSON_GetArraySize(o), j = 0;
      size_t used = 0;
      if (cnt > 6) {
        snprintf(val, sizeof val, "dictionary with %d keys", cnt);
      } else {
        used = (size_t)snprintf(val, sizeof val, "dictionary with keys %s", cnt ? "" : "''");
        cJSON_ArrayForEach(e, o) if (used < sizeof val) used += (size_t)snprintf(
            val + used, sizeof val - used, "%s'%s'", j++ ? ", " : "", e->string);
      }
    } else if (strcmp(n, "channel") == 0) {
      snprintf(val, sizeof val, "[%zu] element array", d->nchannel);
    } else if (strcmp(n, "unit") == 0) {
      snprintf(val, sizeof val, "[%zu] element array", d->nunit);
    } else if (strcmp(n, "waveform") == 0) {
      spy_waveform wf;
      spy_err err = {0};
      if (spy_waveform_info(d, &wf, &err) || wf.ndim == 0) {
        snprintf(val, sizeof val, "nil");
      } else {
        size_t used = (size_t)snprintf(val, sizeof val, "[");
        for (int a = 0; a < wf.ndim; a++)
          used += (size_t)snprintf(val + used, sizeof val - used, "%s%zu", a ? " x " : "", wf.shape[a]);
        snprintf(val + used, sizeof val - used, "] element array");
      }
    } else if (strcmp(n, "container") == 0) {
      snprintf(val, sizeof val, "%s", d->container ? d->container : "nil");
    } else if (strcmp(n, "data") == 0) {
      double mb = (double)d->shape[0] * (double)d->shape[1] * 8 / 1024 / 1024;
      char len[64] = "";
      if (same) snprintf(len, sizeof len, "of length %.0f ", d->trldef[1] - d->trldef[0]);
      snprintf(val, sizeof val, "%zu trials %sdefined on [%zu x %zu] int64 Dataset of size %.2f %s",
               d->ntrials, len, d->shape[0], d->shape[1], mb > 1000 ? mb / 1024 : mb, mb > 1000 ? "GB" : "MB");
    } else if (strcmp(n, "dimord") == 0) {
      size_t used = 0;
      const char *const *dim = spy_data_dimord(d);
      for (int a = 0; dim[a] && used < sizeof val; a++)
        used += (size_t)snprintf(val + used, sizeof val - used, "%s%s", a ? " by " : "", dim[a]);
    } else if (strcmp(n, "eventid") == 0) {
      snprintf(val, sizeof val, "distinct event codes (read on access)");
    } else if (strcmp(n, "filename") == 0) {
      snprintf(val, sizeof val, "%s", d->path ? d->path : "nil");
    } else if (strcmp(n, "mode") == 0) {
      snprintf(val, sizeof val, "%s", d->writable ? "r+" : "r");
    } else if (strcmp(n, "sampleinfo") == 0 || strcmp(n, "trialintervals") == 0) {
      snprintf(val, sizeof val, "[%zu x 2] element array", d->ntrials);
    } else if (strcmp(n, "samplerate") == 0) {
      if (isnan(d->samplerate)) snprintf(val, sizeof val, "nil");
      else snprintf(val, sizeof val, "%.10g", d->samplerate);
    } else if (strcmp(n, "selection") == 0 || strcmp(n, "tag") == 0) {
      snprintf(val, sizeof val, "%s", n[0] == 't' && d->tag ? d->tag : "nil");
    } else if (strcmp(n, "time") == 0 || strcmp(n, "trials") == 0) {
      snprintf(val, sizeof val, "%zu element iterable", d->ntrials);
    } else if (strcmp(n, "trial_ids") == 0) {
      snprintf(val, sizeof val, "[%zu] element list", d->ntrials);
    } else if (strcmp(n, "trialinfo") == 0) {
      snprintf(val, sizeof val, "[%zu x %zu] element array", d->ntrials, d->trlcols > 3 ? d->trlcols - 3 : 0);
    }
    snprintf(line, sizeof line, "%*s : %s\n", w + 5, n, val);
    luaL_addstring(&b, line);
  }
  luaL_addstring(&b, "\nUse `.log` to see object history");
  luaL_pushresult(&b);
  return 1;
}

/* ---- constructors ------------------------------------------------------------------ */

static const spy_kwarg kw_spike[] = {
    {"data", SPY_KT_OPAQUE, NULL, NULL,
     "nSpikes x 3 integer array of [sample, channel, unit] rows, sorted by sample; channel and unit "
     "are 0-based indices"},
    {"samplerate", SPY_KT_NUM | SPY_KT_NULL, "null", NULL, "sampling rate in Hz (>= 1)"},
    {"channel", SPY_KT_STRS | SPY_KT_NULL, "null", NULL,
     "one label per distinct channel index (default channel1, ...)"},
    {"unit", SPY_KT_STRS | SPY_KT_NULL, "null", NULL, "one label per distinct unit index (default unit1, ...)"},
    {"trialdefinition", SPY_KT_OPAQUE, NULL, NULL,
     "M x (3+k) array of [start, stop, offset, trialinfo...] in samples (default: one trial "
     "[first sample, last sample, 0])"},
    {"waveform", SPY_KT_OPAQUE, NULL, NULL,
     "optional array with one row per spike (nSpikes x samples [x ...]), kept next to the data"},
    {NULL, 0, NULL, NULL, NULL}};

static const spy_kwarg kw_event[] = {
    {"data", SPY_KT_OPAQUE, NULL, NULL,
     "nEvents x 2 integer array of [sample, eventid] rows sorted by sample, or more columns named by dimord"},
    {"dimord", SPY_KT_STRS | SPY_KT_NULL, "null", NULL,
     "column names for extra columns: {'sample', 'eventid', <extra names>...}"},
    {"samplerate", SPY_KT_NUM | SPY_KT_NULL, "null", NULL, "sampling rate in Hz (>= 1)"},
    {"trialdefinition", SPY_KT_OPAQUE, NULL, NULL,
     "M x (3+k) array of [start, stop, offset, trialinfo...] in samples"},
    {NULL, 0, NULL, NULL, NULL}};

static const spy_funcspec spec_spike = {
    "SpikeData", "spy.SpikeData{data=..., samplerate=..., channel=..., unit=..., trialdefinition=...}",
    "Spike times of sorted units: int64 rows [sample, channel, unit] backed by an HDF5 file.",
    "Rows must be sorted by sample.  Trial k holds the rows with start <= sample < stop; trials are "
    "read from disk on access (spikes.trials[k]); spikes.time[k] gives their trial times in s.",
    "local s = spy.SpikeData{data={{10, 0, 0}, {25, 1, 0}, {40, 0, 1}}, samplerate=1000}", kw_spike};

static const spy_funcspec spec_event = {
    "EventData", "spy.EventData{data=..., samplerate=..., trialdefinition=...}",
    "Event markers: int64 rows [sample, eventid] backed by an HDF5 file.",
    "Use them to cut trials: spy.definetrial(data, events, {pre=..., post=..., trigger=...}).",
    "local evt = spy.EventData{data={{1000, 1}, {1500, 2}}, samplerate=1000}", kw_event};

/* Table or array at idx -> int64 rows (n x cols), checked integral. */
static int64_t *int_rows(lua_State *L, int idx, size_t cols_min, size_t cols_max, size_t *n,
                         size_t *cols, const char *what)
{
  spy_array *a = spy_bind_toarray(L, idx, SPY_DT_F64);
  spy_bind_pusharray(L, a); /* Lua owns it */
  if (a->ndim != 2 || a->shape[1] < cols_min || a->shape[1] > cols_max) {
    luaL_error(L, "Invalid value of `data`: '%d-dimensional array'; expected %s", a->ndim, what);
    return NULL;
  }
  *n = a->shape[0];
  *cols = a->shape[1];
  size_t m = *n * *cols;
  double *v = malloc((m ? m : 1) * sizeof *v);
  int64_t *r = lua_newuserdatauv(L, (m ? m : 1) * sizeof *r, 0);
  if (!v) {
    luaL_error(L, "out of memory");
    return NULL;
  }
  spy_array_pack(a, v, SPY_DT_F64);
  for (size_t i = 0; i < m; i++) {
    if (v[i] != floor(v[i]) || !isfinite(v[i])) {
      double bad = v[i];
      free(v);
      spy_bind_errorf(L, "Wrong type of `data`: expected integer like found %g (row %zu)", bad, i / *cols + 1);
      return NULL;
    }
    r[i] = (int64_t)v[i];
  }
  free(v);
  return r;
}

/* Trial definition at idx for discrete data (int-like, non-negative samples). */
static int set_trldef(lua_State *L, spy_data *d, int idx)
{
  spy_array *t = spy_bind_toarray(L, idx, SPY_DT_F64);
  spy_bind_pusharray(L, t);
  if (t->ndim != 2 || t->shape[1] < 3)
    return luaL_error(L, "Invalid value of `trialdefinition`: expected array of shape (M, 3+k)");
  size_t n = t->shape[0], c = t->shape[1];
  double *v = lua_newuserdatauv(L, (n * c > 0 ? n * c : 1) * sizeof *v, 0);
  spy_array_pack(t, v, SPY_DT_F64);
  for (size_t k = 0; k < n; k++) {
    double a = v[k * c], b = v[k * c + 1];
    if (a != floor(a) || b != floor(b) || a < 0 || b < a || !isfinite(b))
      return spy_bind_errorf(L, "Invalid value of `sampleinfo`: 'trial %zu: [%g, %g]'; expected integer "
                                "start/stop samples with 0 <= start <= stop", k + 1, a, b);
  }
  if (spy_data_set_trldef(d, v, n, c)) return luaL_error(L, "out of memory");
  lua_pop(L, 2);
  return 0;
}

/* Labels from the cfg (count = distinct indices) or Syncopy's defaults. */
static void set_labels(lua_State *L, spy_data *d, const cJSON *cfg, const char *key, const spy_ivec *idx)
{
  const cJSON *v = cJSON_GetObjectItem(cfg, key);
  bool unit = key[0] == 'u';
  int rc;
  if (!v || cJSON_IsNull(v)) {
    char **lab = spy_discrete_labels(key, idx);
    if (!lab) luaL_error(L, "out of memory");
    rc = unit ? spy_data_set_unit(d, (const char *const *)lab, idx->n)
              : spy_data_set_channel(d, (const char *const *)lab, idx->n);
    spy_strv_free(lab, idx->n);
  } else {
    size_t n = (size_t)cJSON_GetArraySize(v), i = 0;
    if (n != idx->n)
      spy_bind_errorf(L, "Invalid value of `%s`: 'shape = (%zu,)'; expected exactly %zu %s label(s)", key, n,
                      idx->n, key);
    const char **lab = lua_newuserdatauv(L, (n ? n : 1) * sizeof *lab, 0);
    const cJSON *e;
    cJSON_ArrayForEach(e, v) lab[i++] = e->valuestring;
    rc = unit ? spy_data_set_unit(d, lab, n) : spy_data_set_channel(d, lab, n);
    lua_pop(L, 1);
  }
  if (rc) luaL_error(L, "out of memory");
}

/* Writes rows into a new temporary object of class cls; pushes it. */
static spy_data *new_discrete(lua_State *L, spy_dataclass cls, const int64_t *rows, size_t n, size_t cols,
                              double sr)
{
  spy_data *d = spy_data_new(cls);
  if (!d) luaL_error(L, "out of memory");
  spy_bind_pushdata(L, d);
  spy_err err = {0};
  size_t shape[2] = {n, cols};
  d->samplerate = sr;
  if (spy_data_create(d, SPY_DT_I64, 2, shape, &err) ||
      spy_data_write(d, 0, n, 0, cols, rows, SPY_DT_I64, &err))
    spy_bind_raise(L, &err);
  return d;
}

/* Checks rows, sets the default trial definition and labels (cfg may be NULL). */
static void finish(lua_State *L, spy_data *d, const cJSON *cfg, int trlidx)
{
  spy_err err = {0};
  spy_discrete_scan sc;
  if (trlidx && !lua_isnoneornil(L, trlidx)) set_trldef(L, d, trlidx);
  if (spy_discrete_check(d, &sc, &err)) spy_bind_raise(L, &err);
  if (!d->trldef) {
    /* Syncopy: [min(sample), max(sample), 0] (the last spike lies outside) */
    double trl[3] = {(double)sc.smin, (double)sc.smax, 0};
    if (spy_data_set_trldef(d, trl, 1, 3)) luaL_error(L, "out of memory");
  }
  if (d->cls == SPY_SPIKE) {
    spy_ivec c = sc.col[0], u = sc.col[1];
    memset(&sc, 0, sizeof sc);
    /* labels can raise: move the sets into Lua-owned memory first */
    int64_t *cv = lua_newuserdatauv(L, (c.n + u.n + 1) * sizeof *cv, 0);
    if (c.n) memcpy(cv, c.v, c.n * sizeof *cv);
    if (u.n) memcpy(cv + c.n, u.v, u.n * sizeof *cv);
    spy_ivec cc = {cv, c.n, c.n}, uu = {cv + c.n, u.n, u.n};
    spy_ivec_free(&c);
    spy_ivec_free(&u);
    set_labels(L, d, cfg, "channel", &cc);
    set_labels(L, d, cfg, "unit", &uu);
    lua_pop(L, 1);
  } else {
    spy_discrete_scan_free(&sc);
  }
}

static int construct(lua_State *L, spy_dataclass cls, const spy_funcspec *spec)
{
  luaL_checktype(L, 1, LUA_TTABLE);
  spy_jsonbox *box = spy_bind_jsonbox(L);
  box->json = spy_bind_kwargs(L, 1, spec);
  double sr = spy_cfg_isnull(box->json, "samplerate") ? NAN : spy_cfg_num(box->json, "samplerate", NAN);
  if (!isnan(sr) && !(sr >= 1 && isfinite(sr)))
    return spy_bind_errorf(L, "Invalid value of `samplerate`: '%g'; expected value to be greater or equals 1",
                           sr);
  lua_getfield(L, 1, "data");
  if (lua_isnil(L, -1)) return luaL_error(L, "Invalid value of `data`: expected non empty data set");
  size_t n = 0, cols = 0;
  int64_t *rows = int_rows(L, lua_gettop(L), cls == SPY_SPIKE ? 3 : 2, cls == SPY_SPIKE ? 3 : 8, &n, &cols,
                           cls == SPY_SPIKE ? "nSpikes x 3 array [sample, channel, unit]"
                                            : "nEvents x 2 array [sample, eventid] (more columns with a dimord)");
  const cJSON *dim = cJSON_GetObjectItem(box->json, "dimord");
  size_t ndim = cJSON_IsArray(dim) ? (size_t)cJSON_GetArraySize(dim) : 0;
  if (cls == SPY_EVENT && (cols > 2 || ndim)) {
    const cJSON *d0 = ndim ? dim->child : NULL, *d1 = d0 ? d0->next : NULL;
    if (ndim != cols || strcmp(d0->valuestring, "sample") != 0 || strcmp(d1->valuestring, "eventid") != 0)
      return spy_bind_errorf(L, "Invalid value of `dimord`: '%zu labels for %zu columns'; expected dimensional "
                                "labels 'sample', 'eventid' and one name per extra column", ndim, cols);
  }
  if (n == 0) return luaL_error(L, "Invalid value of `data`: expected non empty data set");
  spy_data *d = new_discrete(L, cls, rows, n, cols, sr);
  int obj = lua_gettop(L);
  if (cls == SPY_EVENT && cols > 2) {
    const char *names[9] = {NULL};
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, dim) names[i++] = e->valuestring;
    if (spy_data_set_dimord(d, names)) return luaL_error(L, "out of memory");
  }
  lua_getfield(L, 1, "trialdefinition");
  finish(L, d, box->json, lua_gettop(L));
  lua_settop(L, obj);
  if (cls == SPY_SPIKE && lua_getfield(L, 1, "waveform") != LUA_TNIL) {
    spy_array *w = spy_bind_toarray(L, -1, SPY_DT_F64);
    spy_bind_pusharray(L, w);
    if (w->ndim < 2 || w->ndim > 4)
      return luaL_error(L, "Invalid value of `waveform`: 'data with %d dimensions'; expected waveform data with "
                           "at least 2 dimensions", w->ndim);
    if (w->shape[0] != n)
      return spy_bind_errorf(L, "Invalid value of `waveform`: 'wrong size waveform with shape[0]=%zu'; expected "
                                "waveform shape[0] to equal nSpikes=%zu (one waveform per spike)", w->shape[0], n);
    spy_err werr = {0};
    if (spy_data_put_extra(d, "waveform", w, &werr)) return spy_bind_raise(L, &werr);
  }
  lua_settop(L, obj);
  char msg[64];
  snprintf(msg, sizeof msg, "created %s object", spy_dataclass_name(cls));
  spy_data_log(d, "__init__", msg);
  spy_err err = {0};
  if (spy_data_sync_meta(d, &err)) return spy_bind_raise(L, &err);
  return 1;
}

static int l_spike(lua_State *L) { return construct(L, SPY_SPIKE, &spec_spike); }
static int l_event(lua_State *L) { return construct(L, SPY_EVENT, &spec_event); }

/* ---- poisson_noise ------------------------------------------------------------------ */

static const spy_kwarg kw_poisson[] = {
    {"nTrials", SPY_KT_INT, "10", NULL, "number of trials"},
    {"nSpikes", SPY_KT_INT, "10000", NULL, "total number of spikes over all trials"},
    {"nChannels", SPY_KT_INT, "3", NULL, "number of channels"},
    {"nUnits", SPY_KT_INT, "10", NULL, "number of units"},
    {"intensity", SPY_KT_NUM, "0.1", NULL, "expected number of spikes per sampling interval"},
    {"samplerate", SPY_KT_NUM, "10000", NULL, "sampling rate in Hz"},
    {"seed", SPY_KT_INT | SPY_KT_NULL, "null", NULL, "non-negative integer for reproducible data"},
    {NULL, 0, NULL, NULL, NULL}};

static const spy_funcspec spec_poisson = {
    "synthdata.poisson_noise",
    "spy.synthdata.poisson_noise{nTrials=10, nSpikes=10000, nChannels=3, nUnits=10, intensity=0.1, "
    "samplerate=10000, seed=nil}",
    "Poisson (shot-)noise spikes as SpikeData, bit-identical to Syncopy's for a seed.",
    "nSpikes spike samples are drawn without replacement from nSpikes/intensity samples; channels and "
    "units get random weights.  Expected trial length nSpikes / (intensity * nTrials) samples, each "
    "trial shortened by up to 10 % and given a random offset of 5-20 % of the shortest trial.",
    "local spikes = spy.synthdata.poisson_noise{nTrials=10, seed=42}", kw_poisson};

static int l_poisson(lua_State *L)
{
  spy_jsonbox *box = spy_bind_jsonbox(L);
  box->json = spy_bind_kwargs(L, lua_istable(L, 1) ? 1 : 0, &spec_poisson);
  const cJSON *c = box->json;
  spy_poisson_cfg pc = {(int64_t)spy_cfg_num(c, "nTrials", 10), (int64_t)spy_cfg_num(c, "nSpikes", 10000),
                        (int64_t)spy_cfg_num(c, "nChannels", 3), (int64_t)spy_cfg_num(c, "nUnits", 10),
                        spy_cfg_num(c, "intensity", 0.1), spy_cfg_num(c, "samplerate", 10000),
                        !spy_cfg_isnull(c, "seed"), 0};
  if (pc.seeded) {
    double s = spy_cfg_num(c, "seed", 0);
    if (s < 0) return spy_bind_errorf(L, "Invalid value of `seed`: '%g'; expected a non-negative integer", s);
    pc.seed = (uint64_t)s;
  }
  int64_t *rows = NULL;
  double *trl = NULL;
  size_t nt = 0;
  spy_err err = {0};
  if (spy_poisson_noise(&pc, &rows, &trl, &nt, &err)) return spy_bind_raise(L, &err);
  spy_gcbox *rb = spy_bind_gcbox(L, free), *tb = spy_bind_gcbox(L, free);
  rb->ptr = rows;
  tb->ptr = trl;
  spy_data *d = new_discrete(L, SPY_SPIKE, rows, (size_t)pc.nspikes, 3, pc.samplerate);
  if (spy_data_set_trldef(d, trl, nt, 3)) return luaL_error(L, "out of memory");
  finish(L, d, NULL, 0);
  spy_data_log(d, "poisson_noise", "created SpikeData object");
  if (spy_data_sync_meta(d, &err)) return spy_bind_raise(L, &err);
  return 1;
}

/* ---- show, selectdata ---------------------------------------------------------------- */

/* Resolves a selection (JSON, 1-based trials and channel/unit indices as
** everywhere in spy's Lua surface; NULL = all); raises on bad input. */
static spy_dsel *dselect_json(lua_State *L, spy_data *d, cJSON *j)
{
  static const char *const shift[] = {"trials", "channel", "unit", NULL};
  for (const char *const *k = shift; j && *k; k++) {
    cJSON *v = cJSON_GetObjectItem(j, *k), *e;
    if (cJSON_IsNumber(v)) cJSON_SetNumberValue(v, v->valuedouble - 1);
    else if (cJSON_IsArray(v))
      cJSON_ArrayForEach(e, v) if (cJSON_IsNumber(e)) cJSON_SetNumberValue(e, e->valuedouble - 1);
  }
  spy_err err = {0};
  spy_dsel *s = NULL;
  if (spy_dsel_make(d, j, &s, &err)) {
    /* trial numbers in messages are 1-based in spy */
    char *p = strstr(err.msg, "values b/w 0 and ");
    if (p) snprintf(p, sizeof err.msg - (size_t)(p - err.msg), "values b/w 1 and %zu", d->ntrials);
    spy_bind_raise(L, &err);
  }
  return s;
}

/* The selection table at idx (without `skip` keys) -> resolved selection. */
static spy_dsel *dselect(lua_State *L, spy_data *d, int idx, const char *const *skip)
{
  spy_err err = {0};
  spy_jsonbox *box = spy_bind_jsonbox(L);
  if (!lua_isnoneornil(L, idx)) {
    luaL_checktype(L, idx, LUA_TTABLE);
    box->json = spy_bind_tojson(L, idx, &err);
    if (!box->json) spy_bind_raise(L, &err);
    if (cJSON_IsArray(box->json) && cJSON_GetArraySize(box->json) == 0) {
      cJSON_Delete(box->json);
      box->json = cJSON_CreateObject();
    }
    for (const char *const *k = skip; *k; k++) cJSON_DeleteItemFromObject(box->json, *k);
  }
  spy_dsel *s = dselect_json(L, d, box->json);
  lua_pop(L, 1);
  return s;
}

static void release_dsel(void *p) { spy_dsel_free(p); }

int spy_bind_discrete_show(lua_State *L, spy_data *d)
{
  bool squeeze = true;
  if (lua_istable(L, 2) && lua_getfield(L, 2, "squeeze") != LUA_TNIL) squeeze = lua_toboolean(L, -1);
  if (lua_istable(L, 2)) lua_pop(L, 1);
  static const char *const skip[] = {"squeeze", NULL};
  spy_gcbox *box = spy_bind_gcbox(L, release_dsel);
  spy_dsel *s = box->ptr = dselect(L, d, 2, skip);
  int out = 0;
  if (s->ntrials != 1 || !squeeze) {
    lua_createtable(L, (int)s->ntrials, 0);
    out = lua_gettop(L);
  }
  size_t nc = d->shape[1];
  spy_err err = {0};
  for (size_t i = 0; i < s->ntrials; i++) {
    size_t shape[2] = {s->nrows[i], nc};
    spy_array *a = spy_array_new(SPY_DT_I64, 2, shape);
    if (!a) return luaL_error(L, "out of memory");
    spy_bind_pusharray(L, a);
    int64_t *buf = a->buf->data;
    if (spy_discrete_read(d, s->row0[i], s->nrows[i], buf, &err)) return spy_bind_raise(L, &err);
    size_t kept = 0;
    for (size_t r = 0; r < s->nrows[i]; r++)
      if (spy_dsel_keep(s, d, i, buf + r * nc)) memmove(buf + kept++ * nc, buf + r * nc, nc * sizeof *buf);
    a->shape[0] = kept;
    if (out) lua_seti(L, out, (lua_Integer)i + 1);
  }
  return 1;
}

int spy_bind_discrete_selectdata(lua_State *L, spy_data *d, const cJSON *kw)
{
  static const char *const skip[] = {"parallel", NULL};
  spy_gcbox *box = spy_bind_gcbox(L, release_dsel);
  spy_dsel *s = box->ptr = dselect(L, d, 2, skip);
  spy_err err = {0};
  spy_data *o = NULL;
  if (spy_dsel_copy(d, s, &o, &err)) return spy_bind_raise(L, &err);
  spy_bind_pushdata(L, o);
  cJSON_Delete(o->cfg);
  o->cfg = cJSON_Duplicate(d->cfg, 1);
  cJSON_AddItemToObject(o->cfg, "selectdata", cJSON_Duplicate(kw, 1));
  free(o->log);
  o->log = strdup(d->log);
  spy_data_log(o, "selectdata", "selected data based on selection");
  if (spy_data_sync_meta(o, &err)) return spy_bind_raise(L, &err);
  return 1;
}

/* ---- spike_psth ---------------------------------------------------------------------------- */

static void release_plan(void *p)
{
  spy_psth_plan_free(p);
  free(p);
}

/* spy.spike_psth(spikes, {...}): TimeLockData of per-trial histograms (or
** their average), with Syncopy's avg and var datasets.  Trials are
** histogrammed one at a time, streaming their spikes block by block. */
static int l_spike_psth(lua_State *L)
{
  int dataidx = 0;
  cJSON *cfg = NULL;
  spy_bind_callargs(L, &spy_spec_spike_psth, &dataidx, &cfg);
  spy_jsonbox *cbox = spy_bind_jsonbox(L);
  cbox->json = cfg;
  spy_data *d = dataidx ? spy_bind_todata(L, dataidx) : NULL;
  if (!d || d->cls != SPY_SPIKE)
    return luaL_error(L, "Wrong type of `data`: expected Syncopy SpikeData object found %s",
                      d ? spy_dataclass_name(d->cls) : "no data object");
  const cJSON *sv = cJSON_GetObjectItem(cfg, "select");
  if (cJSON_IsObject(sv) && cJSON_GetObjectItem(sv, "latency"))
    return luaL_error(L, "Invalid value of `select`: 'latency'; expected the `latency` keyword of spike_psth "
                         "for its time window");
  spy_gcbox *sbox = spy_bind_gcbox(L, release_dsel);
  cJSON *sj = cJSON_IsObject(sv) ? cJSON_Duplicate(sv, 1) : NULL;
  spy_jsonbox *sjb = spy_bind_jsonbox(L);
  sjb->json = sj;
  spy_dsel *sel = sbox->ptr = dselect_json(L, d, sj);
  spy_gcbox *pbox = spy_bind_gcbox(L, release_plan);
  spy_psth_plan *p = pbox->ptr = calloc(1, sizeof *p);
  if (!p) return luaL_error(L, "out of memory");
  spy_err err = {0};
  if (spy_psth_plan_make(d, sel, cfg, p, &err)) return spy_bind_raise(L, &err);
  if (p->ndiscarded)
    spy_log(SPY_LOG_INFO, "Discarded %zu trials which did not fit into latency window", p->ndiscarded);
  bool keep = spy_cfg_bool(cfg, "keeptrials", true);
  size_t nb = p->nbins, nc = p->ncombos, nt = p->ntrials, nout = keep ? nt : 1;
  /* the result object first, so errors below leave nothing behind */
  spy_data *o = spy_data_new(SPY_TIMELOCK);
  if (!o) return luaL_error(L, "out of memory");
  spy_bind_pushdata(L, o);
  int obj = lua_gettop(L);
  size_t shape[2] = {nout * nb, nc};
  if (spy_data_create(o, SPY_DT_F32, 2, shape, &err)) return spy_bind_raise(L, &err);
  /* scratch: counts, Welford mean/M2, one float32 trial, one block of rows */
  size_t m = nb * nc;
  double *w = lua_newuserdatauv(L, 3 * m * sizeof *w, 0);
  float *f32 = lua_newuserdatauv(L, m * sizeof *f32, 0);
  int64_t *rows = lua_newuserdatauv(L, SPY_DISCRETE_BLOCK * 3 * sizeof *rows, 0);
  double *counts = w, *mean = w + m, *m2 = w + 2 * m;
  memset(mean, 0, 2 * m * sizeof *mean);
  for (size_t i = 0; i < nt; i++) {
    if (spy_psth_trial(p, d, i, rows, counts, &err)) return spy_bind_raise(L, &err);
    /* avg and var are the plain (not nan-aware) trial mean and variance of
    ** the stored float32 histograms */
    for (size_t k = 0; k < m; k++) {
      double x = (float)counts[k], delta = x - mean[k];
      mean[k] += delta / (double)(i + 1);
      m2[k] += delta * (x - mean[k]);
      f32[k] = (float)x;
    }
    if (keep && spy_data_write(o, i * nb, nb, 0, nc, f32, SPY_DT_F32, &err)) return spy_bind_raise(L, &err);
  }
  size_t ashape[2] = {nb, nc};
  spy_array *avg = spy_array_new(SPY_DT_F32, 2, ashape), *var = spy_array_new(SPY_DT_F32, 2, ashape);
  if (!avg || !var) {
    spy_array_free(avg);
    spy_array_free(var);
    return luaL_error(L, "out of memory");
  }
  for (size_t k = 0; k < m; k++) {
    ((float *)avg->buf->data)[k] = (float)mean[k];
    ((float *)var->buf->data)[k] = (float)(m2[k] / (double)nt);
  }
  int rc = keep ? SPY_OK : spy_data_write(o, 0, nb, 0, nc, avg->buf->data, SPY_DT_F32, &err);
  if (!rc) rc = spy_data_put_extra(o, "avg", avg, &err);
  if (!rc) rc = spy_data_put_extra(o, "var", var, &err);
  spy_array_free(avg);
  spy_array_free(var);
  if (rc) return spy_bind_raise(L, &err);
  /* metadata: Syncopy's PSTH.process_metadata */
  o->samplerate = p->out_samplerate;
  double *trl = lua_newuserdatauv(L, 3 * nout * sizeof *trl, 0);
  for (size_t k = 0; k < nout; k++)
    trl[3 * k] = (double)(k * nb), trl[3 * k + 1] = (double)((k + 1) * nb), trl[3 * k + 2] = p->out_offset;
  if (spy_data_set_trldef(o, trl, nout, 3)) return luaL_error(L, "out of memory");
  const char **lab = lua_newuserdatauv(L, (nc ? nc : 1) * sizeof *lab, 0);
  lua_createtable(L, (int)nc, 0); /* anchors the label strings */
  for (size_t c = 0; c < nc; c++) {
    lab[c] = lua_pushfstring(L, "channel%I_unit%I", (lua_Integer)p->combos[2 * c], (lua_Integer)p->combos[2 * c + 1]);
    lua_seti(L, -2, (lua_Integer)c + 1);
  }
  if (spy_data_set_channel(o, lab, nc)) return luaL_error(L, "out of memory");
  cJSON_Delete(o->cfg);
  o->cfg = cJSON_Duplicate(d->cfg, 1);
  cJSON_DeleteItemFromObject(o->cfg, "spike_psth");
  cJSON_AddItemToObject(o->cfg, "spike_psth", cJSON_Duplicate(cfg, 1));
  free(o->log);
  o->log = strdup(d->log);
  char msg[256];
  snprintf(msg, sizeof msg,
           "computed spike_psth with settings\n\tbinsize = %s\n\toutput = %s\n\tvartriallen = %s\n"
           "\tnumDiscard = %zu\n\tbins = [%zu edges from %g to %g s]\n",
           cJSON_IsString(cJSON_GetObjectItem(cfg, "binsize")) ? cJSON_GetObjectItem(cfg, "binsize")->valuestring
                                                                : "width",
           spy_cfg_str(cfg, "output", "rate"), spy_cfg_bool(cfg, "vartriallen", true) ? "True" : "False",
           p->ndiscarded, p->nedges, p->edges[0], p->edges[p->nedges - 1]);
  spy_data_log(o, "write_log", msg);
  if (spy_data_sync_meta(o, &err)) return spy_bind_raise(L, &err);
  lua_pushvalue(L, obj);
  return 1;
}

/* ---- definetrial ------------------------------------------------------------------------- */

static const char *const evt_keys[] = {"pre", "post", "start", "trigger", "stop", "clip_edges", NULL};

static bool numfield(lua_State *L, int t, const char *k, double *v, bool integer)
{
  int ty = lua_getfield(L, t, k);
  bool has = ty != LUA_TNIL;
  if (has) {
    if (ty != LUA_TNUMBER || !isfinite(lua_tonumber(L, -1)) ||
        (integer && lua_tonumber(L, -1) != floor(lua_tonumber(L, -1))))
      spy_bind_errorf(L, "Wrong type of `%s`: expected %s found %s", k, integer ? "int_like scalar" : "finite scalar",
                      luaL_typename(L, -1));
    *v = lua_tonumber(L, -1);
  }
  lua_pop(L, 1);
  return has;
}

static void set_and_log(lua_State *L, spy_data *d, const double *trl, size_t n, size_t cols)
{
  spy_err err = {0};
  if (spy_data_set_trldef(d, trl, n, cols)) luaL_error(L, "out of memory");
  char msg[128];
  snprintf(msg, sizeof msg, "updated trial-definition with [%zu x %zu] element array", n, cols);
  spy_data_log(d, "definetrial", msg);
  if (d->writable && spy_data_sync_meta(d, &err)) spy_bind_raise(L, &err);
}

/* Accepts the keyword form spy.definetrial(data, {trialdefinition=trl|events,
** pre=..., ...}) by rewriting the stack to (data, trl|events|nil, {pre=...}|nil). */
void spy_bind_definetrial_args(lua_State *L)
{
  if (lua_type(L, 2) != LUA_TTABLE || spy_bind_isarray(L, 2)) return;
  bool kw = false;
  lua_pushnil(L);
  while (lua_next(L, 2)) {
    kw |= lua_type(L, -2) == LUA_TSTRING;
    lua_pop(L, 1);
  }
  if (!kw) return; /* a nested table of numbers: the trial definition itself */
  lua_settop(L, 2);
  lua_getfield(L, 2, "trialdefinition");
  lua_newtable(L);
  lua_pushnil(L);
  while (lua_next(L, 2)) {
    if (lua_type(L, -2) == LUA_TSTRING && strcmp(lua_tostring(L, -2), "trialdefinition") == 0) {
      lua_pop(L, 1);
      continue;
    }
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_settable(L, -4);
  }
  lua_remove(L, 2); /* data, trl, opts */
  if (lua_isnil(L, 2) && !lua_isnil(L, 3)) {
    lua_pushnil(L);
    if (lua_next(L, 3)) { /* options without events */
      lua_pop(L, 2);
      luaL_error(L, "Invalid value of `trialdefinition`: 'None'; expected EventData object with "
                    "`pre`/`post`/`start`/`trigger`/`stop`");
    }
  }
}

/* spy.definetrial(data [, trl | events [, {pre=, post=, start=, trigger=, stop=, clip_edges=}]])
** for discrete data, and for any data with an EventData argument. */
int spy_bind_discrete_definetrial(lua_State *L, spy_data *d)
{
  spy_data *ev = spy_bind_todata(L, 2);
  spy_err err = {0};
  if (!ev) { /* discrete data with an array or nothing */
    if (lua_isnoneornil(L, 2)) {
      spy_discrete_scan sc;
      if (spy_discrete_check(d, &sc, &err)) return spy_bind_raise(L, &err);
      double trl[3] = {(double)sc.smin, (double)sc.smax, 0};
      spy_discrete_scan_free(&sc);
      set_and_log(L, d, trl, 1, 3);
    } else {
      set_trldef(L, d, 2);
      char msg[128];
      snprintf(msg, sizeof msg, "updated trial-definition with [%zu x %zu] element array", d->ntrials,
               d->trlcols);
      spy_data_log(d, "definetrial", msg);
      if (d->writable && spy_data_sync_meta(d, &err)) return spy_bind_raise(L, &err);
    }
    lua_settop(L, 1);
    return 1;
  }
  if (ev->cls != SPY_EVENT)
    return luaL_error(L, "Wrong type of `trialdefinition`: expected EventData or trialdefinition array found %s",
                      spy_dataclass_name(ev->cls));
  if (d->cls == SPY_EVENT)
    return luaL_error(L, "Invalid value of `input`: 'EventData and EventData'; expected AnalogData or SpikeData "
                         "with associated EventData object");
  spy_evtdef def = {NAN, NAN, false, false, false, 0, 0, 0};
  bool clip = false, any = false;
  if (!lua_isnoneornil(L, 3)) {
    luaL_checktype(L, 3, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, 3)) {
      bool ok = false;
      for (int i = 0; evt_keys[i] && lua_type(L, -2) == LUA_TSTRING; i++) ok |= strcmp(evt_keys[i], lua_tostring(L, -2)) == 0;
      if (!ok)
        return luaL_error(L, "unknown keyword '%s' for definetrial (expected pre, post, start, trigger, stop, clip_edges)",
                          lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?");
      lua_pop(L, 1);
    }
    double v;
    any |= numfield(L, 3, "pre", &def.pre, false);
    any |= numfield(L, 3, "post", &def.post, false);
    if (numfield(L, 3, "start", &v, true)) def.has_start = any = true, def.start = (int64_t)v;
    if (numfield(L, 3, "trigger", &v, true)) def.has_trigger = any = true, def.trigger = (int64_t)v;
    if (numfield(L, 3, "stop", &v, true)) def.has_stop = any = true, def.stop = (int64_t)v;
    int ty = lua_getfield(L, 3, "clip_edges");
    if (ty != LUA_TNIL && ty != LUA_TBOOLEAN)
      return luaL_error(L, "Wrong type of `clip_edges`: expected Boolean found %s", luaL_typename(L, -1));
    clip = lua_toboolean(L, -1);
    lua_pop(L, 1);
  }
  if (isnan(d->samplerate) || isnan(ev->samplerate))
    return luaL_error(L, "Invalid value of `samplerate`: 'None'; expected non-`None` value - make sure "
                         "`samplerate` is set before defining trials");
  double *trl = NULL;
  size_t n = 0, cols = 3;
  if (!any) { /* the EventData's own trial definition, rescaled */
    cols = ev->trlcols;
    trl = malloc((ev->ntrials * cols > 0 ? ev->ntrials * cols : 1) * sizeof *trl);
    if (!trl) return luaL_error(L, "out of memory");
    n = ev->ntrials;
    for (size_t i = 0; i < n * cols; i++) trl[i] = rint(ev->trldef[i] / ev->samplerate * d->samplerate);
  } else {
    size_t nev = ev->shape[0], nc = ev->shape[1];
    int64_t *rows = malloc((nev ? nev : 1) * nc * sizeof *rows);
    if (!rows) return luaL_error(L, "out of memory");
    int rc = spy_discrete_read(ev, 0, nev, rows, &err);
    for (size_t i = 0; i < nev; i++) /* [sample, eventid] pairs */
      rows[2 * i] = rows[nc * i], rows[2 * i + 1] = rows[nc * i + 1];
    if (!rc) rc = spy_trials_from_events(rows, nev, ev->samplerate, d->samplerate, &def, &trl, &n, &err);
    free(rows);
    if (rc) return spy_bind_raise(L, &err);
  }
  spy_gcbox *tb = spy_bind_gcbox(L, free);
  tb->ptr = trl;
  if (clip) {
    double hi = INFINITY;
    if (!spy_dataclass_discrete(d->cls)) hi = (double)d->shape[0];
    for (size_t k = 0; k < n; k++) {
      double *r = trl + k * cols;
      if (r[0] < 0) r[0] = 0;
      if (r[1] > hi) r[1] = hi;
      if (r[0] >= r[1])
        return luaL_error(L, "Invalid value of `definetrial`: 'some trials are overlapping after clipping to "
                             "AnalogData object range'; expected non-overlapping trials");
    }
  }
  for (size_t k = 0; k < n; k++) {
    const double *r = trl + k * cols;
    if (r[0] < 0 || (!spy_dataclass_discrete(d->cls) && r[1] > (double)d->shape[0]))
      return spy_bind_errorf(L, "Invalid value of `trialdefinition`: 'trial %zu: [%g, %g]'; expected trials "
                                "inside the data (0 <= start <= stop <= %zu), or clip_edges=true",
                             k + 1, r[0], r[1], spy_dataclass_discrete(d->cls) ? (size_t)-1 : d->shape[0]);
  }
  if (spy_data_set_trldef(d, trl, n, cols)) return luaL_error(L, "out of memory");
  spy_data_log(d, "definetrial", "trial-definition extracted from EventData object: ");
  cJSON *cfg = cJSON_CreateObject();
  cJSON_AddItemToObject(cfg, "method", cJSON_CreateString("definetrial"));
  cJSON_AddItemToObject(cfg, "EventData object", cJSON_Duplicate(ev->cfg, 1));
  cJSON_Delete(d->cfg);
  d->cfg = cfg;
  char msg[96];
  snprintf(msg, sizeof msg, "updated trial-defnition of %s object", spy_dataclass_name(d->cls));
  spy_data_log(ev, "definetrial", msg);
  if (d->writable && spy_data_sync_meta(d, &err)) return spy_bind_raise(L, &err);
  lua_settop(L, 1);
  return 1;
}

/* Syncopy: "DiscreteData are rejected" by arithmetic. */
static int l_arith(lua_State *L)
{
  spy_data *d = spy_bind_todata(L, 1);
  if (!d || !spy_dataclass_discrete(d->cls)) d = spy_bind_todata(L, 2);
  return luaL_error(L, "Wrong type of `operand`: expected continuous data (AnalogData, SpectralData, ...) found %s",
                    d ? spy_dataclass_name(d->cls) : "?");
}

/* ---- namespace --------------------------------------------------------------------------- */

/* A trial indexer metatable: its own __index, the length and text of the
** continuous classes' spy.TrialIndexer (both read only the object's ntrials). */
static void indexer_mt(lua_State *L, const char *name, lua_CFunction index)
{
  luaL_getmetatable(L, "spy.TrialIndexer");
  luaL_newmetatable(L, name);
  lua_pushcfunction(L, index);
  lua_setfield(L, -2, "__index");
  lua_getfield(L, -2, "__len");
  lua_setfield(L, -2, "__len");
  lua_getfield(L, -2, "__tostring");
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 2);
}

void spy_open_discrete(lua_State *L, int spy)
{
  static const char *const fields[] = {"samplerate", "dimord", "trialdefinition", "sampleinfo", "trialinfo",
                                       "trialintervals", "trial_ids", "trials", "time", "cfg", "info", "log",
                                       "filename", "container", "tag", "mode", "shape", "dtype", "dataclass",
                                       "nbytes", NULL};
  /* the continuous classes' metatable lends __index/__newindex/__gc/arith */
  luaL_getmetatable(L, "spy.AnalogData");
  int base = lua_gettop(L);
  for (int c = SPY_SPIKE; c <= SPY_EVENT; c++) {
    luaL_newmetatable(L, c == SPY_SPIKE ? "spy.SpikeData" : "spy.EventData");
    int mt = lua_gettop(L);
    lua_getfield(L, base, "__index");
    lua_pushcclosure(L, l_index, 1);
    lua_setfield(L, mt, "__index");
    lua_getfield(L, base, "__newindex");
    lua_pushcclosure(L, l_newindex, 1);
    lua_setfield(L, mt, "__newindex");
    lua_pushcfunction(L, l_tostring);
    lua_setfield(L, mt, "__tostring");
    lua_getfield(L, base, "__gc");
    lua_setfield(L, mt, "__gc");
    lua_getfield(L, base, "__gc");
    lua_setfield(L, mt, "__close");
    static const char *const ops[] = {"__add", "__sub", "__mul", "__div", NULL};
    for (const char *const *op = ops; *op; op++) {
      lua_pushcfunction(L, l_arith);
      lua_setfield(L, mt, *op);
    }
    lua_pushboolean(L, 1);
    lua_setfield(L, mt, "__spydata");
    lua_newtable(L);
    lua_Integer i = 1;
    for (const char *const *f = fields; *f; f++) {
      lua_pushstring(L, *f);
      lua_seti(L, -2, i++);
    }
    static const char *const spike[] = {"channel", "unit", "channel_idx", "unit_idx", "waveform", NULL};
    static const char *const event[] = {"eventid", NULL};
    for (const char *const *f = c == SPY_SPIKE ? spike : event; *f; f++) {
      lua_pushstring(L, *f);
      lua_seti(L, -2, i++);
    }
    lua_setfield(L, mt, "__fields");
    lua_getfield(L, LUA_REGISTRYINDEX, "spy.data.methods");
    lua_setfield(L, mt, "__methods");
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  indexer_mt(L, "spy.DiscreteTrials", trials_index);
  indexer_mt(L, "spy.DiscreteTime", time_index);
  spy_bind_func(L, spy, "SpikeData", l_spike, &spec_spike);
  spy_bind_func(L, spy, "EventData", l_event, &spec_event);
  spy_bind_func(L, spy, "spike_psth", l_spike_psth, &spy_spec_spike_psth);
  lua_getfield(L, spy, "synthdata");
  spy_bind_func(L, lua_gettop(L), "poisson_noise", l_poisson, &spec_poisson);
  lua_pop(L, 1);
}
