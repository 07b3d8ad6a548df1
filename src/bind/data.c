/*
** Data objects in Lua: fields and methods with Syncopy's names, the trial
** and time indexers, the printed summary, constructors, definetrial, copy,
** show, selectdata and arithmetic.  Objects hold one reference to their
** spy_data; trials are read from disk on access, one at a time.
*/
#include "bind/data.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bind/array.h"
#include "core/log.h"
#include "core/settings.h"
#include "data/extra.h"
#include "io/h5.h"
#include "sched/methods.h"
#include "sched/sched.h"

#define METHODS "spy.data.methods" /* registry: methods table shared by all classes */

typedef struct {
  spy_data *d;
} dataud;

static const char *mtname(spy_dataclass c)
{
  switch (c) {
  case SPY_ANALOG: return "spy.AnalogData";
  case SPY_SPECTRAL: return "spy.SpectralData";
  case SPY_TIMELOCK: return "spy.TimeLockData";
  case SPY_SPIKE: return "spy.SpikeData";
  case SPY_EVENT: return "spy.EventData";
  default: return "spy.CrossSpectralData";
  }
}

spy_data *spy_bind_todata(lua_State *L, int idx)
{
  if (lua_type(L, idx) != LUA_TUSERDATA) return NULL;
  if (luaL_getmetafield(L, idx, "__spydata") == LUA_TNIL) return NULL;
  lua_pop(L, 1);
  dataud *u = lua_touserdata(L, idx);
  return u ? u->d : NULL;
}

spy_data *spy_bind_checkdata(lua_State *L, int idx)
{
  spy_data *d = spy_bind_todata(L, idx);
  if (!d) luaL_typeerror(L, idx, "spy data object");
  return d;
}

void spy_bind_pushdata(lua_State *L, spy_data *d)
{
  dataud *u = lua_newuserdatauv(L, sizeof *u, 0);
  u->d = NULL;
  luaL_setmetatable(L, mtname(d->cls));
  u->d = d;
}

static int l_gc(lua_State *L)
{
  dataud *u = lua_touserdata(L, 1);
  if (u && u->d) {
    spy_data_unref(u->d);
    u->d = NULL;
  }
  return 0;
}

/* ---- helpers ------------------------------------------------------------ */

static void pushstrv(lua_State *L, char *const *v, size_t n)
{
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushstring(L, v[i]);
    lua_seti(L, -2, (lua_Integer)i + 1);
  }
}

static void pushdoubles(lua_State *L, const double *v, size_t rows, size_t cols, int ndim)
{
  size_t shape[2] = {rows, cols};
  spy_array *a = spy_array_new(SPY_DT_F64, ndim, shape);
  if (!a) luaL_error(L, "out of memory");
  if (rows > 0 && cols > 0) memcpy(a->buf->data, v, rows * cols * sizeof(double));
  spy_bind_pusharray(L, a);
}

static double datasize(const spy_data *d)
{
  size_t n = 1;
  for (int i = 0; i < d->ndim; i++) n *= d->shape[i];
  return (double)n * (double)spy_dtype_size(d->dtype);
}

static bool time_locked(const spy_data *d)
{
  for (size_t k = 1; k < d->ntrials; k++)
    if (spy_data_trial_rows(d, k) != spy_data_trial_rows(d, 0) ||
        d->trldef[k * d->trlcols + 2] != d->trldef[2])
      return false;
  return true;
}

/* The `log` property: Syncopy's header followed by the history. */
static void pushlog(lua_State *L, const spy_data *d)
{
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addstring(&b, "\n\t\t>>> spy v. " SPY_VERSION " <<< \n\n--- LOG ---");
  luaL_addstring(&b, d->log);
  luaL_pushresult(&b);
}

/* ---- trial and time indexers --------------------------------------------- */

static spy_data *indexer_data(lua_State *L)
{
  lua_getiuservalue(L, 1, 1);
  spy_data *d = spy_bind_checkdata(L, -1);
  lua_pop(L, 1);
  return d;
}

static lua_Integer check_trial(lua_State *L, int idx)
{
  if (!lua_isinteger(L, idx)) {
    if (lua_type(L, idx) == LUA_TNUMBER && lua_tonumber(L, idx) == floor(lua_tonumber(L, idx)))
      return (lua_Integer)lua_tonumber(L, idx);
    luaL_error(L, "Wrong type of `trial index`: expected single number to index a single trial "
                  "found %s",
               luaL_typename(L, idx));
  }
  return lua_tointeger(L, idx);
}

/* ipairs's step function (set by spy_open_data), to recognise its calls. */
static lua_CFunction ipairs_step;

/* Index k outside 1..n: nil for ipairs, which asks for n+1 to learn that the
** sequence ended; otherwise an error that gives the range. */
static int outside(lua_State *L, lua_Integer k, size_t n)
{
  lua_Debug ar;
  if (ipairs_step && k == (lua_Integer)n + 1 && lua_getstack(L, 1, &ar) &&
      lua_getinfo(L, "f", &ar)) {
    int fromipairs = lua_tocfunction(L, -1) == ipairs_step;
    lua_pop(L, 1);
    if (fromipairs) return 0;
  }
  if (n == 0) return luaL_error(L, "trial %I does not exist: the object has no trials", k);
  return luaL_error(L, "trial %I does not exist: the object has %I trial%s, 1 to %I", k,
                    (lua_Integer)n, n == 1 ? "" : "s", (lua_Integer)n);
}

static int trials_index(lua_State *L)
{
  spy_data *d = indexer_data(L);
  lua_Integer k = check_trial(L, 2);
  if (k < 1 || (size_t)k > d->ntrials) return outside(L, k, d->ntrials);
  size_t rows = spy_data_trial_rows(d, (size_t)k - 1), shape[4];
  shape[0] = rows;
  for (int i = 1; i < d->ndim; i++) shape[i] = d->shape[i];
  spy_array *a = spy_array_new(d->dtype, d->ndim, shape);
  if (!a) return luaL_error(L, "out of memory reading trial %d", (int)k);
  spy_err err = {0};
  size_t nlast = d->shape[d->ndim - 1];
  if (spy_data_read(d, (size_t)d->trldef[(k - 1) * d->trlcols], rows, NULL, nlast, a->buf->data,
                    d->dtype, &err)) {
    spy_array_free(a);
    return spy_bind_raise(L, &err);
  }
  spy_bind_pusharray(L, a);
  return 1;
}

static int time_index(lua_State *L)
{
  spy_data *d = indexer_data(L);
  lua_Integer k = check_trial(L, 2);
  if (k < 1 || (size_t)k > d->ntrials) return outside(L, k, d->ntrials);
  size_t rows = spy_data_trial_rows(d, (size_t)k - 1);
  spy_array *a = spy_array_new(SPY_DT_F64, 1, &rows);
  if (!a) return luaL_error(L, "out of memory");
  double off = d->trldef[(k - 1) * d->trlcols + 2];
  for (size_t n = 0; n < rows; n++) ((double *)a->buf->data)[n] = ((double)n + off) / d->samplerate;
  spy_bind_pusharray(L, a);
  return 1;
}

static int indexer_len(lua_State *L)
{
  lua_pushinteger(L, (lua_Integer)indexer_data(L)->ntrials);
  return 1;
}

/*
** `for t in data.trials do`: the generic for calls the indexer with the
** previous value; a weak table remembers which trial each value was.
*/
static int indexer_call(lua_State *L)
{
  spy_data *d = indexer_data(L);
  lua_Integer k = 1;
  lua_getfield(L, LUA_REGISTRYINDEX, "spy.trialiter");
  int seen = lua_gettop(L);
  if (!lua_isnoneornil(L, 3)) {
    lua_pushvalue(L, 3);
    if (lua_rawget(L, seen) != LUA_TNUMBER)
      return luaL_error(L, "a trial indexer iterates in a for loop: for t in data.trials do ... end");
    k = lua_tointeger(L, -1) + 1;
    lua_pop(L, 1);
  }
  if (k > (lua_Integer)d->ntrials) return 0;
  lua_getmetatable(L, 1);
  lua_getfield(L, -1, "__index");
  lua_pushvalue(L, 1);
  lua_pushinteger(L, k);
  lua_call(L, 2, 1);
  lua_pushvalue(L, -1);
  lua_pushinteger(L, k);
  lua_rawset(L, seen);
  return 1;
}

static int indexer_tostring(lua_State *L)
{
  lua_pushfstring(L, "%d element iterable", (int)indexer_data(L)->ntrials);
  return 1;
}

static void pushindexer(lua_State *L, int obj, const char *mt)
{
  lua_newuserdatauv(L, 1, 1);
  lua_pushvalue(L, obj);
  lua_setiuservalue(L, -2, 1);
  luaL_setmetatable(L, mt);
}

/* ---- fields -------------------------------------------------------------- */

static int l_index(lua_State *L)
{
  spy_data *d = spy_bind_checkdata(L, 1);
  const char *k = luaL_checkstring(L, 2);
  bool cross = d->cls == SPY_CROSSSPECTRAL;
  if (strcmp(k, "samplerate") == 0) {
    lua_pushnumber(L, d->samplerate);
  } else if (strcmp(k, "channel") == 0) {
    if (cross) lua_pushstring(L, "see channel_i and channel_j");
    else pushstrv(L, d->channel, d->nchannel);
  } else if (cross && strcmp(k, "channel_i") == 0) {
    pushstrv(L, d->channel, d->nchannel);
  } else if (cross && strcmp(k, "channel_j") == 0) {
    pushstrv(L, d->channel_j, d->nchannel_j);
  } else if ((d->cls == SPY_TIMELOCK &&
              (strcmp(k, "avg") == 0 || strcmp(k, "var") == 0 || strcmp(k, "cov") == 0)) ||
             (cross && (strcmp(k, "jack_var") == 0 || strcmp(k, "jack_bias") == 0))) {
    spy_array *a = NULL;
    spy_err err = {0};
    if (spy_data_get_extra(d, k, &a, &err)) return spy_bind_raise(L, &err);
    if (a) spy_bind_pusharray(L, a);
    else lua_pushnil(L);
  } else if (!spy_dataclass_timechannel(d->cls) && strcmp(k, "freq") == 0) {
    pushdoubles(L, d->freq, d->nfreq, 1, 1);
  } else if (d->cls == SPY_SPECTRAL && strcmp(k, "taper") == 0) {
    pushstrv(L, d->taper, d->ntaper);
  } else if (strcmp(k, "dimord") == 0) {
    const char *const *dim = spy_dataclass_dimord(d->cls);
    lua_newtable(L);
    for (int i = 0; dim[i]; i++) {
      lua_pushstring(L, dim[i]);
      lua_seti(L, -2, i + 1);
    }
  } else if (strcmp(k, "trialdefinition") == 0) {
    pushdoubles(L, d->trldef, d->ntrials, d->trlcols, 2);
  } else if (strcmp(k, "sampleinfo") == 0 || strcmp(k, "trialinfo") == 0 ||
             strcmp(k, "trialintervals") == 0) {
    bool info = k[5] == 'i' && k[0] == 't', intervals = strcmp(k, "trialintervals") == 0;
    size_t cols = intervals ? 2 : info ? d->trlcols - 3 : 2;
    size_t nv = d->ntrials * cols;
    double *v = malloc((nv ? nv : 1) * sizeof *v);
    if (!v) return luaL_error(L, "out of memory");
    for (size_t t = 0; t < d->ntrials; t++) {
      const double *r = d->trldef + t * d->trlcols;
      for (size_t c = 0; c < cols; c++) {
        if (intervals)
          v[t * cols + c] = c == 0 ? r[2] / d->samplerate : (r[1] - r[0] - 1 + r[2]) / d->samplerate;
        else
          v[t * cols + c] = info ? r[3 + c] : r[c];
      }
    }
    pushdoubles(L, v, d->ntrials, cols, 2);
    free(v);
  } else if (strcmp(k, "trial_ids") == 0) {
    lua_createtable(L, (int)d->ntrials, 0);
    for (size_t t = 0; t < d->ntrials; t++) {
      lua_pushinteger(L, (lua_Integer)t + 1);
      lua_seti(L, -2, (lua_Integer)t + 1);
    }
  } else if (strcmp(k, "trials") == 0) {
    pushindexer(L, 1, "spy.TrialIndexer");
  } else if (strcmp(k, "time") == 0) {
    pushindexer(L, 1, "spy.TimeIndexer");
  } else if (strcmp(k, "cfg") == 0) {
    spy_bind_pushjson(L, d->cfg);
  } else if (strcmp(k, "info") == 0) {
    spy_bind_pushjson(L, d->info);
  } else if (strcmp(k, "metadata") == 0) {
    if (d->metadata) spy_bind_pushjson(L, d->metadata);
    else lua_pushnil(L);
  } else if (strcmp(k, "log") == 0) {
    pushlog(L, d);
  } else if (strcmp(k, "filename") == 0) {
    lua_pushstring(L, d->path);
  } else if (strcmp(k, "container") == 0) {
    lua_pushstring(L, d->container);
  } else if (strcmp(k, "tag") == 0) {
    lua_pushstring(L, d->tag);
  } else if (strcmp(k, "mode") == 0) {
    lua_pushstring(L, d->writable ? "r+" : "r");
  } else if (strcmp(k, "shape") == 0) {
    spy_bind_pushshape(L, d->ndim, d->shape);
  } else if (strcmp(k, "dtype") == 0) {
    lua_pushstring(L, spy_dtype_name(d->dtype));
  } else if (strcmp(k, "is_time_locked") == 0) {
    lua_pushboolean(L, time_locked(d));
  } else if (strcmp(k, "dataclass") == 0) {
    lua_pushstring(L, spy_dataclass_name(d->cls));
  } else if (strcmp(k, "nbytes") == 0) {
    lua_pushnumber(L, datasize(d));
  } else {
    lua_getfield(L, LUA_REGISTRYINDEX, METHODS);
    lua_getfield(L, -1, k);
  }
  return 1;
}

static int l_newindex(lua_State *L)
{
  spy_data *d = spy_bind_checkdata(L, 1);
  const char *k = luaL_checkstring(L, 2);
  bool unit = d->cls == SPY_SPIKE && strcmp(k, "unit") == 0; /* SpikeData's unit labels */
  if (strcmp(k, "channel") == 0 || strcmp(k, "channel_i") == 0 || strcmp(k, "channel_j") == 0 || unit) {
    bool j = strcmp(k, "channel_j") == 0;
    size_t want = unit ? d->nunit : j ? d->nchannel_j : d->nchannel;
    if (!lua_istable(L, 3))
      return luaL_error(L, "Wrong type of `%s`: expected array_like found %s", k, luaL_typename(L, 3));
    size_t n = (size_t)luaL_len(L, 3);
    if (n != want)
      return luaL_error(L, "Invalid value of `%s`: 'shape = (%d,)'; expected array of shape (%d,)", k,
                        (int)n, (int)want);
    const char **v = lua_newuserdatauv(L, (n ? n : 1) * sizeof *v, 0);
    for (size_t i = 0; i < n; i++) {
      lua_geti(L, 3, (lua_Integer)i + 1);
      if (!lua_isstring(L, -1))
        return luaL_error(L, "Wrong type of `%s`: expected array of strings found %s", k,
                          luaL_typename(L, -1));
      v[i] = lua_tostring(L, -1);
      lua_pop(L, 1); /* the string stays anchored in the table */
    }
    if ((unit ? spy_data_set_unit(d, v, n) : j ? spy_data_set_channel_j(d, v, n) : spy_data_set_channel(d, v, n)) !=
        SPY_OK)
      return luaL_error(L, "out of memory");
  } else if (strcmp(k, "info") == 0) {
    spy_err err = {0};
    cJSON *j = spy_bind_tojson(L, 3, &err);
    if (!j)
      return luaL_error(L, "Wrong type of value of info: %s, expected serializable data type, e.g. "
                           "floats, lists, tuples, ... ",
                        err.msg);
    if (!cJSON_IsObject(j)) {
      cJSON_Delete(j);
      return luaL_error(L, "Wrong type of `info`: expected table found %s", luaL_typename(L, 3));
    }
    cJSON_Delete(d->info);
    d->info = j;
  } else if (strcmp(k, "log") == 0) {
    if (spy_data_log(d, "user", luaL_checkstring(L, 3)) != SPY_OK) return luaL_error(L, "out of memory");
  } else {
    const char *cls = spy_dataclass_name(d->cls);
    return luaL_error(L, "cannot set field '%s' of %s %s (settable: channel, info, log)", k,
                      cls[0] && strchr("AEIOU", cls[0]) ? "an" : "a", cls);
  }
  if (d->writable) {
    spy_err err = {0};
    if (spy_data_sync_meta(d, &err)) return spy_bind_raise(L, &err);
  }
  return 0;
}

/* ---- printed summary (syncopy.md 8.2) ------------------------------------- */

static void fmt_size(char *buf, size_t n, double bytes)
{
  if (bytes >= 1e9) snprintf(buf, n, "%.2f GB", bytes / 1024.0 / 1024.0 / 1024.0);
  else snprintf(buf, n, "%.2f MB", bytes / 1024.0 / 1024.0);
}

static void keysof(const cJSON *o, char *buf, size_t n)
{
  int count = cJSON_GetArraySize(o);
  if (count > 6) {
    snprintf(buf, n, "dictionary with %d keys", count);
    return;
  }
  size_t used = (size_t)snprintf(buf, n, "dictionary with keys ");
  if (count == 0) snprintf(buf + used, n - used, "''");
  const cJSON *e;
  int i = 0;
  cJSON_ArrayForEach(e, o) {
    int w = snprintf(buf + used, n > used ? n - used : 0, "%s'%s'", i++ ? ", " : "", e->string);
    if (w > 0) used += (size_t)w;
  }
}

/* A summary line of an extra dataset: "[a x b] element array" or "nil". */
static void extra_line(spy_data *d, const char *name, char line[2][256])
{
  spy_array *a = NULL;
  spy_err err = {0};
  snprintf(line[0], 256, "%s", name);
  if (spy_data_get_extra(d, name, &a, &err) || !a) {
    snprintf(line[1], 256, "nil");
  } else {
    size_t used = (size_t)snprintf(line[1], 256, "[");
    for (int i = 0; i < a->ndim && used < 200; i++)
      used += (size_t)snprintf(line[1] + used, 256 - used, "%s%zu", i ? " x " : "", a->shape[i]);
    snprintf(line[1] + used, 256 - used, "] element array");
  }
  spy_array_free(a);
}

static int l_tostring(lua_State *L)
{
  spy_data *d = spy_bind_checkdata(L, 1);
  char lines[24][2][256];
  int nl = 0;
#define LINE(name, ...)                                                  \
  do {                                                                   \
    snprintf(lines[nl][0], sizeof lines[nl][0], "%s", name);             \
    snprintf(lines[nl][1], sizeof lines[nl][1], __VA_ARGS__);            \
    nl++;                                                                \
  } while (0)
  char tmp[256], sz[32];
  bool cross = d->cls == SPY_CROSSSPECTRAL;
  if (d->cls == SPY_TIMELOCK) extra_line(d, "avg", lines[nl++]);
  keysof(d->cfg, tmp, sizeof tmp);
  LINE("cfg", "%s", tmp);
  if (cross) {
    LINE("channel_i", "[%zu] element list", d->nchannel);
    LINE("channel_j", "[%zu] element list", d->nchannel_j);
  } else {
    LINE("channel", "[%zu] element list", d->nchannel);
  }
  LINE("container", "%s", d->container ? d->container : "nil");
  if (d->cls == SPY_TIMELOCK) extra_line(d, "cov", lines[nl++]);
  fmt_size(sz, sizeof sz, datasize(d));
  char shape[96] = "";
  size_t used = 0;
  for (int i = 0; i < d->ndim; i++)
    used += (size_t)snprintf(shape + used, sizeof shape - used, "%s%zu", i ? " x " : "", d->shape[i]);
  if (d->ntrials && time_locked(d))
    LINE("data", "%zu trials of length %.1f defined on [%s] %s Dataset of size %s", d->ntrials,
         (double)spy_data_trial_rows(d, 0), shape, spy_dtype_name(d->dtype), sz);
  else
    LINE("data", "%zu trials defined on [%s] %s Dataset of size %s", d->ntrials, shape,
         spy_dtype_name(d->dtype), sz);
  const char *const *dim = spy_dataclass_dimord(d->cls);
  used = 0;
  tmp[0] = '\0';
  for (int i = 0; dim[i]; i++)
    used += (size_t)snprintf(tmp + used, sizeof tmp - used, "%s%s", i ? " by " : "", dim[i]);
  LINE("dimord", "%s", tmp);
  LINE("filename", "%s", d->path ? d->path : "nil");
  if (!spy_dataclass_timechannel(d->cls)) LINE("freq", "[%zu] element array", d->nfreq);
  keysof(d->info, tmp, sizeof tmp);
  LINE("info", "%s", tmp);
  if (spy_dataclass_timechannel(d->cls)) LINE("is_time_locked", "%s", time_locked(d) ? "true" : "false");
  LINE("mode", "%s", d->writable ? "r+" : "r");
  LINE("sampleinfo", "[%zu x 2] element array", d->ntrials);
  LINE("samplerate", "%.10g", d->samplerate);
  LINE("selection", "nil");
  LINE("tag", "%s", d->tag ? d->tag : "nil");
  if (d->cls == SPY_SPECTRAL) LINE("taper", "[%zu] element list", d->ntaper);
  LINE("time", "%zu element iterable", d->ntrials);
  LINE("trial_ids", "[%zu] element list", d->ntrials);
  LINE("trialinfo", "[%zu x %zu] element array", d->ntrials, d->trlcols > 3 ? d->trlcols - 3 : 0);
  LINE("trialintervals", "[%zu x 2] element array", d->ntrials);
  LINE("trials", "%zu element iterable", d->ntrials);
  if (d->cls == SPY_TIMELOCK) extra_line(d, "var", lines[nl++]);
#undef LINE
  int w = 0;
  for (int i = 0; i < nl; i++)
    if ((int)strlen(lines[i][0]) > w) w = (int)strlen(lines[i][0]);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  snprintf(tmp, sizeof tmp, "spy %s object with fields\n\n", spy_dataclass_name(d->cls));
  luaL_addstring(&b, tmp);
  for (int i = 0; i < nl; i++) {
    char line[600];
    snprintf(line, sizeof line, "%*s : %s\n", w + 5, lines[i][0], lines[i][1]);
    luaL_addstring(&b, line);
  }
  luaL_addstring(&b, "\nUse `.log` to see object history");
  luaL_pushresult(&b);
  return 1;
}

/* ---- constructors --------------------------------------------------------- */

static const spy_kwarg kw_analog[] = {
    {"data", SPY_KT_OPAQUE, NULL, NULL,
     "samples x channels array (one trial), or a list of per-trial arrays (trials start at -1 s)"},
    {"samplerate", SPY_KT_NUM | SPY_KT_NULL, "null", NULL, "sampling rate in Hz"},
    {"channel", SPY_KT_STRS | SPY_KT_NULL, "null", NULL, "channel labels (default channel1, ...)"},
    {"trialdefinition", SPY_KT_OPAQUE, NULL, NULL,
     "M x (3+k) array of [start, stop, offset, trialinfo...] in samples (single-array data only)"},
    {NULL, 0, NULL, NULL, NULL}};

static const spy_kwarg kw_spectral[] = {
    {"data", SPY_KT_OPAQUE, NULL, NULL,
     "time x taper x freq x channel array, or a list of per-trial arrays"},
    {"samplerate", SPY_KT_NUM | SPY_KT_NULL, "null", NULL, "sampling rate of the time axis in Hz"},
    {"channel", SPY_KT_STRS | SPY_KT_NULL, "null", NULL, "channel labels"},
    {"taper", SPY_KT_STRS | SPY_KT_NULL, "null", NULL, "taper labels"},
    {"freq", SPY_KT_NUMS | SPY_KT_NULL, "null", NULL, "frequencies in Hz"},
    {"trialdefinition", SPY_KT_OPAQUE, NULL, NULL, "M x (3+k) array (single-array data only)"},
    {NULL, 0, NULL, NULL, NULL}};

static const spy_kwarg kw_cross[] = {
    {"data", SPY_KT_OPAQUE, NULL, NULL,
     "time x freq x channel_i x channel_j array, or a list of per-trial arrays"},
    {"samplerate", SPY_KT_NUM | SPY_KT_NULL, "null", NULL, "sampling rate of the time axis in Hz"},
    {"channel_i", SPY_KT_STRS | SPY_KT_NULL, "null", NULL, "row channel labels"},
    {"channel_j", SPY_KT_STRS | SPY_KT_NULL, "null", NULL, "column channel labels"},
    {"freq", SPY_KT_NUMS | SPY_KT_NULL, "null", NULL, "frequencies in Hz"},
    {"trialdefinition", SPY_KT_OPAQUE, NULL, NULL, "M x (3+k) array (single-array data only)"},
    {NULL, 0, NULL, NULL, NULL}};

static const spy_funcspec spec_analog = {
    "AnalogData", "spy.AnalogData{data=..., samplerate=..., channel=..., trialdefinition=...}",
    "Continuous data (time x channel) backed by an HDF5 file in SPYTMPDIR.",
    "From one array (samples x channels, one trial starting at t = 0 unless a trialdefinition is "
    "given) or from a list of per-trial arrays with the same channels (each trial then starts at "
    "t = -1 s, as in Syncopy).  Trials are read from disk on access: data.trials[i].",
    "local a = spy.AnalogData{data={x1, x2}, samplerate=1000}\nprint(a.trials[1])",
    kw_analog};
static const spy_funcspec spec_spectral = {
    "SpectralData",
    "spy.SpectralData{data=..., samplerate=..., channel=..., taper=..., freq=..., trialdefinition=...}",
    "Spectral data (time x taper x freq x channel); usually the result of spy.freqanalysis.", NULL,
    "local s = spy.freqanalysis(data, {foilim={1, 100}})", kw_spectral};
static const spy_funcspec spec_cross = {
    "CrossSpectralData",
    "spy.CrossSpectralData{data=..., samplerate=..., channel_i=..., channel_j=..., freq=...}",
    "Cross-spectral data (time x freq x channel_i x channel_j).", NULL, NULL, kw_cross};

static const spy_funcspec spec_timelock = {
    "TimeLockData", "spy.TimeLockData{data=..., samplerate=..., channel=..., trialdefinition=...}",
    "Time-locked data (time x channel): trials of equal length and offset, with the trial "
    "average `avg`, variance `var` and covariance `cov` (nil until computed).",
    "Usually the result of spy.timelockanalysis.  Built like AnalogData; all trials must have the "
    "same length and offset.",
    "local tl = spy.timelockanalysis(data, {covariance=true})\nprint(tl.avg)", kw_analog};

/* Labels from cfg key (list of strings) or defaults. */
static int set_labels(spy_data *d, const cJSON *cfg, const char *key, size_t n, int which,
                      spy_err *err)
{
  const cJSON *v = cJSON_GetObjectItem(cfg, key);
  if (!v || cJSON_IsNull(v)) {
    if (which == 0) return spy_data_default_channels(d, n);
    char **lab = calloc(n ? n : 1, sizeof *lab);
    int width = snprintf(NULL, 0, "%zu", n);
    for (size_t i = 0; lab && i < n; i++) {
      char buf[64];
      snprintf(buf, sizeof buf, "%s%0*zu", which == 2 ? "taper" : "channel", width, i + 1);
      lab[i] = strdup(buf);
    }
    int rc = which == 2 ? spy_data_set_taper(d, (const char *const *)lab, n)
                        : spy_data_set_channel_j(d, (const char *const *)lab, n);
    spy_strv_free(lab, n);
    return rc;
  }
  if ((size_t)cJSON_GetArraySize(v) != n)
    return spy_fail(err, SPY_EINVAL, "Invalid value of `%s`: 'shape = (%d,)'; expected array of shape (%zu,)",
                    key, cJSON_GetArraySize(v), n);
  const char **lab = calloc(n ? n : 1, sizeof *lab);
  if (!lab) return SPY_ENOMEM;
  size_t i = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, v) lab[i++] = e->valuestring;
  int rc = which == 0 ? spy_data_set_channel(d, lab, n)
           : which == 1 ? spy_data_set_channel_j(d, lab, n)
                        : spy_data_set_taper(d, lab, n);
  free(lab);
  return rc;
}

/* Validates a trial definition against nrows rows of axis 0. */
static int check_trldef(const spy_array *t, size_t nrows, double **out, size_t *ntr, size_t *cols,
                        spy_err *err)
{
  if (t->ndim != 2 || t->shape[1] < 3)
    return spy_fail(err, SPY_EINVAL,
                    "Invalid value of `trialdefinition`: expected array of shape (M, 3+k)");
  size_t n = t->shape[0], c = t->shape[1];
  size_t nv = n * c;
  double *v = malloc((nv ? nv : 1) * sizeof *v);
  if (!v) return SPY_ENOMEM;
  spy_array_pack(t, v, SPY_DT_F64);
  for (size_t k = 0; k < n; k++) {
    double a = v[k * c], b = v[k * c + 1];
    if (a != floor(a) || b != floor(b) || a < 0 || b > (double)nrows || b < a) {
      free(v);
      return spy_fail(err, SPY_EINVAL,
                      "Invalid value of `trialdefinition`: 'trial %zu: [%g, %g]'; expected integer "
                      "start/stop samples with 0 <= start <= stop <= %zu",
                      k + 1, a, b, nrows);
    }
  }
  *out = v;
  *ntr = n;
  *cols = c;
  return SPY_OK;
}

static int construct(lua_State *L, spy_dataclass cls, const spy_funcspec *spec)
{
  luaL_checktype(L, 1, LUA_TTABLE);
  spy_jsonbox *box = spy_bind_jsonbox(L);
  box->json = spy_bind_kwargs(L, 1, spec);
  int ndim = spy_dataclass_ndim(cls);
  spy_err err = {0};
  double sr = spy_cfg_isnull(box->json, "samplerate") ? NAN : spy_cfg_num(box->json, "samplerate", NAN);
  if (!isnan(sr) && !(sr > 0 && isfinite(sr)))
    return spy_bind_errorf(L, "Invalid value of `samplerate`: '%g'; expected a positive finite number", sr);

  /* collect the trial arrays */
  lua_getfield(L, 1, "data");
  int src = lua_gettop(L);
  bool list = lua_istable(L, src) && !spy_bind_isarray(L, src);
  if (list) { /* a list of arrays, or one nested numeric table? */
    lua_geti(L, src, 1);
    bool nested_numbers = lua_istable(L, -1) && !spy_bind_isarray(L, -1);
    if (nested_numbers) {
      lua_geti(L, -1, 1);
      nested_numbers = lua_type(L, -1) == LUA_TNUMBER;
      lua_pop(L, 1);
    }
    if (lua_type(L, -1) == LUA_TNUMBER || (nested_numbers && ndim == 2)) list = false;
    lua_pop(L, 1);
  }
  size_t ntr = lua_isnil(L, src) ? 0 : list ? (size_t)luaL_len(L, src) : 1;
  lua_createtable(L, (int)ntr, 0); /* anchors the arrays */
  int anchor = lua_gettop(L);
  spy_array **arr = lua_newuserdatauv(L, (ntr ? ntr : 1) * sizeof *arr, 0);
  for (size_t k = 0; k < ntr; k++) {
    if (list) lua_geti(L, src, (lua_Integer)k + 1);
    else lua_pushvalue(L, src);
    spy_array *a = spy_bind_toarray(L, -1, SPY_DT_F64);
    lua_pop(L, 1);
    spy_bind_pusharray(L, a); /* owned by Lua from here */
    lua_seti(L, anchor, (lua_Integer)k + 1);
    if (a->ndim == 1 && ndim == 2) { /* a single channel */
      a->ndim = 2;
      a->shape[1] = 1;
      a->strides[1] = 1;
    }
    if (a->ndim != ndim)
      return luaL_error(L, "Invalid value of `data`: '%d-dimensional array'; expected %d-dimensional "
                           "array(s) (%s)", a->ndim, ndim, spy_dataclass_timechannel(cls) ? "samples x channels" : "see help");
    for (int i = 1; i < ndim; i++)
      if (k > 0 && a->shape[i] != arr[0]->shape[i])
        return luaL_error(L, "Invalid value of `data`: 'trial %d has shape %d on axis %d, trial 1 has %d'; "
                             "expected trials with equal shapes except along time",
                          (int)k + 1, (int)a->shape[i], i + 1, (int)arr[0]->shape[i]);
    arr[k] = a;
  }

  spy_data *d = spy_data_new(cls);
  if (!d) return luaL_error(L, "out of memory");
  spy_bind_pushdata(L, d); /* owns d from here: errors below free it */
  d->samplerate = sr;
  size_t shape[4] = {0, 0, 0, 0}, rows = 0;
  for (size_t k = 0; k < ntr; k++) rows += arr[k]->shape[0];
  shape[0] = rows;
  for (int i = 1; i < ndim; i++) shape[i] = ntr ? arr[0]->shape[i] : 0;
  if (ntr) {
    spy_dtype t = arr[0]->dtype;
    if (t == SPY_DT_I64) t = SPY_DT_F64;
    if (spy_data_create(d, t, ndim, shape, &err)) return spy_bind_raise(L, &err);
    size_t row = 0;
    for (size_t k = 0; k < ntr; k++) {
      size_t n = spy_array_numel(arr[k]);
      void *buf = malloc((n ? n : 1) * spy_dtype_size(t));
      if (!buf) return luaL_error(L, "out of memory");
      spy_array_pack(arr[k], buf, t);
      int rc = spy_data_write(d, row, arr[k]->shape[0], 0, shape[ndim - 1], buf, t, &err);
      free(buf);
      if (rc) return spy_bind_raise(L, &err);
      row += arr[k]->shape[0];
    }
  }
  /* trial definition */
  lua_getfield(L, 1, "trialdefinition");
  if (!lua_isnil(L, -1) && !list) {
    spy_array *t = spy_bind_toarray(L, -1, SPY_DT_F64);
    double *trl = NULL;
    size_t n = 0, c = 0;
    int rc = check_trldef(t, rows, &trl, &n, &c, &err);
    spy_array_free(t);
    if (rc) return spy_bind_raise(L, &err);
    rc = spy_data_set_trldef(d, trl, n, c);
    free(trl);
    if (rc) return luaL_error(L, "out of memory");
  } else {
    double *trl = calloc(ntr ? 3 * ntr : 3, sizeof *trl);
    if (!trl) return luaL_error(L, "out of memory");
    size_t row = 0;
    for (size_t k = 0; k < ntr; k++) {
      trl[3 * k] = (double)row;
      row += arr[k]->shape[0];
      trl[3 * k + 1] = (double)row;
      trl[3 * k + 2] = list && !isnan(sr) ? -sr : 0;
    }
    spy_data_set_trldef(d, trl, ntr, 3);
    free(trl);
  }
  lua_pop(L, 1);
  /* labels and axes */
  size_t nlast = shape[ndim - 1];
  int rc = SPY_OK;
  if (cls == SPY_CROSSSPECTRAL) {
    rc = set_labels(d, box->json, "channel_i", shape[2], 0, &err);
    if (!rc) rc = set_labels(d, box->json, "channel_j", nlast, 1, &err);
  } else {
    rc = set_labels(d, box->json, "channel", nlast, 0, &err);
  }
  if (!rc && cls == SPY_SPECTRAL) rc = set_labels(d, box->json, "taper", shape[1], 2, &err);
  if (!rc && !spy_dataclass_timechannel(cls)) {
    size_t nf = cls == SPY_SPECTRAL ? shape[2] : shape[1];
    const cJSON *f = cJSON_GetObjectItem(box->json, "freq");
    double *fv = calloc(nf ? nf : 1, sizeof *fv);
    if (!fv) return luaL_error(L, "out of memory");
    if (f && !cJSON_IsNull(f)) {
      if ((size_t)cJSON_GetArraySize(f) != nf) {
        free(fv);
        return luaL_error(L, "Invalid value of `freq`: 'shape = (%d,)'; expected array of shape (%d,)",
                          cJSON_GetArraySize(f), (int)nf);
      }
      size_t i = 0;
      const cJSON *e;
      cJSON_ArrayForEach(e, f) fv[i++] = e->valuedouble;
    } else {
      for (size_t i = 0; i < nf; i++) fv[i] = (double)i;
    }
    rc = spy_data_set_freq(d, fv, nf);
    free(fv);
  }
  if (rc) return rc == SPY_ENOMEM ? luaL_error(L, "out of memory") : spy_bind_raise(L, &err);
  char msg[64];
  if (cls == SPY_TIMELOCK && !time_locked(d))
    return luaL_error(L, "Invalid value of `trialdefinition`: expected trialdefinition with equally "
                         "sized trials and common offsets");
  snprintf(msg, sizeof msg, "created %s object", spy_dataclass_name(cls));
  spy_data_log(d, "__init__", msg);
  if (d->path && spy_data_sync_meta(d, &err)) return spy_bind_raise(L, &err);
  return 1;
}

static int l_analog(lua_State *L) { return construct(L, SPY_ANALOG, &spec_analog); }
static int l_spectral(lua_State *L) { return construct(L, SPY_SPECTRAL, &spec_spectral); }
static int l_cross(lua_State *L) { return construct(L, SPY_CROSSSPECTRAL, &spec_cross); }
static int l_timelock(lua_State *L) { return construct(L, SPY_TIMELOCK, &spec_timelock); }

/* ---- definetrial, copy ------------------------------------------------------ */

static const spy_kwarg kw_none[] = {{NULL, 0, NULL, NULL, NULL}};

/* For help() and completion: the options of spy.definetrial are read by
** spy_bind_discrete_definetrial and spy_bind_definetrial_args. */
static const spy_kwarg kw_definetrial[] = {
    {"trialdefinition", SPY_KT_OPAQUE, "null", NULL,
     "the M x (3+k) array or the EventData (the second argument, or this keyword)"},
    {"pre", SPY_KT_NUM | SPY_KT_NULL, "null", NULL, "EventData: s before the start/trigger event"},
    {"post", SPY_KT_NUM | SPY_KT_NULL, "null", NULL, "EventData: s after the stop/trigger event"},
    {"start", SPY_KT_INT | SPY_KT_NULL, "null", NULL, "EventData: event code that starts a trial"},
    {"trigger", SPY_KT_INT | SPY_KT_NULL, "null", NULL,
     "EventData: event code at t = 0 of a trial"},
    {"stop", SPY_KT_INT | SPY_KT_NULL, "null", NULL, "EventData: event code that ends a trial"},
    {"clip_edges", SPY_KT_BOOL, "false", NULL,
     "EventData: cut trials reaching past the data at its edges instead of an error"},
    SPY_KW_END};

static const spy_funcspec spec_definetrial = {
    "definetrial", "spy.definetrial(data [, trialdefinition | events [, {pre=, post=, trigger=, start=, stop=, clip_edges=}]])",
    "Set the trial definition: an M x (3+k) array of [start, stop, offset, trialinfo...] in "
    "samples (stop exclusive); without one, the whole recording becomes one trial.",
    "Start and stop must be integers within the data.  With an EventData instead, trials are cut "
    "around its markers: begin = (start or trigger) - pre, end = (stop or trigger) + post (pre/post "
    "in s, start/trigger/stop event codes); without options the EventData's own trials are used.  "
    "The object is changed in place and returned.",
    "spy.definetrial(data, {{0, 1000, -500}, {1000, 2000, -500}})", kw_definetrial};

static int l_definetrial(lua_State *L)
{
  spy_data *d = spy_bind_checkdata(L, 1);
  spy_bind_definetrial_args(L); /* the keyword form {trialdefinition=, pre=, ...} */
  if (spy_dataclass_discrete(d->cls) || spy_bind_todata(L, 2)) return spy_bind_discrete_definetrial(L, d);
  spy_err err = {0};
  size_t rows = d->shape[0];
  if (lua_isnoneornil(L, 2)) {
    double trl[3] = {0, (double)rows, 0};
    if (spy_data_set_trldef(d, trl, 1, 3)) return luaL_error(L, "out of memory");
  } else {
    spy_array *t = spy_bind_toarray(L, 2, SPY_DT_F64);
    double *trl = NULL;
    size_t n = 0, c = 0;
    int rc = check_trldef(t, rows, &trl, &n, &c, &err);
    spy_array_free(t);
    if (rc) return spy_bind_raise(L, &err);
    for (size_t k = 1; d->cls == SPY_TIMELOCK && k < n; k++)
      if (trl[k * c + 1] - trl[k * c] != trl[1] - trl[0] || trl[k * c + 2] != trl[2]) {
        free(trl);
        return luaL_error(L, "Invalid value of `trialdefinition`: expected trialdefinition with "
                             "equally sized trials and common offsets");
      }
    rc = spy_data_set_trldef(d, trl, n, c);
    free(trl);
    if (rc) return luaL_error(L, "out of memory");
  }
  char msg[128];
  snprintf(msg, sizeof msg, "updated trial-definition with [%zu x %zu] element array", d->ntrials,
           d->trlcols);
  spy_data_log(d, "definetrial", msg);
  if (d->writable && spy_data_sync_meta(d, &err)) return spy_bind_raise(L, &err);
  lua_settop(L, 1);
  return 1;
}

static int copyfile(const char *from, const char *to, spy_err *err)
{
  int fd = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600); /* private, as all temporaries */
  FILE *in = fd >= 0 ? fopen(from, "rb") : NULL, *out = in ? fdopen(fd, "wb") : NULL;
  if (fd >= 0 && !out) close(fd);
  int rc = SPY_OK;
  if (!in || !out) {
    rc = spy_fail(err, SPY_EIO, "cannot copy '%s' to '%s'", from, to);
  } else {
    char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
      if (fwrite(buf, 1, n, out) != n) {
        rc = spy_fail(err, SPY_EIO, "cannot write '%s'", to);
        break;
      }
    if (ferror(in)) rc = spy_fail(err, SPY_EIO, "cannot read '%s'", from);
  }
  if (in) fclose(in);
  if (out && fclose(out) != 0 && !rc) rc = spy_fail(err, SPY_EIO, "cannot write '%s'", to);
  if (rc && out) remove(to);
  return rc;
}

/* A new object sharing no storage with d: byte copy of the file + metadata. */
static spy_data *clone(spy_data *d, spy_err *err)
{
  spy_data *c = spy_data_new(d->cls);
  char path[4200];
  if (!c) {
    spy_fail(err, SPY_ENOMEM, "out of memory");
    return NULL;
  }
  if (spy_tmp_path(path, sizeof path, spy_dataclass_ext(d->cls)) ||
      (d->path && copyfile(d->path, path, err))) {
    if (!err->msg[0]) spy_fail(err, SPY_EIO, "cannot create a temporary file in '%s'", spy_tmpdir());
    spy_data_unref(c);
    return NULL;
  }
  c->samplerate = d->samplerate;
  if ((d->path && spy_data_open(c, path, true, err)) ||
      spy_data_set_trldef(c, d->trldef, d->ntrials, d->trlcols) ||
      spy_data_set_channel(c, (const char *const *)d->channel, d->nchannel) ||
      (d->channel_j && spy_data_set_channel_j(c, (const char *const *)d->channel_j, d->nchannel_j)) ||
      (d->taper && spy_data_set_taper(c, (const char *const *)d->taper, d->ntaper)) ||
      (d->freq && spy_data_set_freq(c, d->freq, d->nfreq)) ||
      (d->unit && spy_data_set_unit(c, (const char *const *)d->unit, d->nunit)) ||
      (d->dimord && spy_data_set_dimord(c, (const char *const *)d->dimord))) {
    if (!err->msg[0]) spy_fail(err, SPY_ENOMEM, "out of memory");
    remove(path);
    spy_data_unref(c);
    return NULL;
  }
  c->temporary = true;
  cJSON_Delete(c->cfg);
  cJSON_Delete(c->info);
  c->cfg = cJSON_Duplicate(d->cfg, 1);
  c->info = cJSON_Duplicate(d->info, 1);
  free(c->log);
  c->log = strdup(d->log);
  return c;
}

static const spy_funcspec spec_copy = {
    "copy", "spy.copy(data)", "A copy of a data object with its own file in SPYTMPDIR.", NULL,
    "local b = spy.copy(a)", kw_none};

static int l_copy(lua_State *L)
{
  spy_data *d = spy_bind_checkdata(L, 1);
  spy_err err = {0};
  spy_log(SPY_LOG_INFO, "Copying %.2f MB of data to create new %s object on disk",
          datasize(d) / 1024.0 / 1024.0, spy_dataclass_name(d->cls));
  spy_data *c = clone(d, &err);
  if (!c) return spy_bind_raise(L, &err);
  if (c->path && spy_data_sync_meta(c, &err)) {
    spy_data_unref(c);
    return spy_bind_raise(L, &err);
  }
  spy_bind_pushdata(L, c);
  return 1;
}

/* ---- selections: show and selectdata -------------------------------------- */

/* Inner-axis selections of d under sel: the index lists per inner axis. */
static void inner_sel(const spy_data *d, const spy_selection *s, const size_t **idx, size_t *n)
{
  if (d->cls == SPY_SPECTRAL) {
    idx[0] = s->tapers, n[0] = s->ntaper;
    idx[1] = s->freqs, n[1] = s->nfreq;
  } else if (d->cls == SPY_CROSSSPECTRAL) {
    idx[0] = s->freqs, n[0] = s->nfreq;
    idx[1] = s->chans, n[1] = s->nchan;
  }
}

/* Reads selected trial i (rows x inner_sel x last_sel) in d's dtype into a new array. */
static spy_array *read_selected(spy_data *d, const spy_selection *s, size_t i, spy_err *err)
{
  size_t rows = s->nrows[i], shape[4];
  const size_t *last = d->cls == SPY_CROSSSPECTRAL ? s->chans_j : s->chans;
  size_t nlast = d->cls == SPY_CROSSSPECTRAL ? s->nchan_j : s->nchan;
  const size_t *idx[2] = {NULL, NULL};
  size_t nidx[2] = {0, 0};
  inner_sel(d, s, idx, nidx);
  int ninner = d->ndim - 2;
  size_t es = spy_dtype_size(d->dtype), full = 1;
  for (int a = 0; a < ninner; a++) full *= d->shape[1 + a];
  size_t nraw = rows * full * nlast;
  void *raw = malloc((nraw ? nraw : 1) * es);
  if (!raw) {
    spy_fail(err, SPY_ENOMEM, "out of memory");
    return NULL;
  }
  if (spy_data_read(d, s->row0[i], rows, last, nlast, raw, d->dtype, err)) {
    free(raw);
    return NULL;
  }
  shape[0] = rows;
  for (int a = 0; a < ninner; a++) shape[1 + a] = nidx[a];
  shape[d->ndim - 1] = nlast;
  spy_array *out = spy_array_new(d->dtype, d->ndim, shape);
  if (!out) {
    free(raw);
    spy_fail(err, SPY_ENOMEM, "out of memory");
    return NULL;
  }
  char *dst = out->buf->data;
  if (ninner == 0) {
    memcpy(dst, raw, rows * nlast * es);
  } else {
    size_t d1 = d->shape[1], d2 = d->shape[2];
    for (size_t r = 0; r < rows; r++)
      for (size_t a = 0; a < nidx[0]; a++)
        for (size_t b = 0; b < nidx[1]; b++) {
          const char *src = (const char *)raw + (((r * d1 + idx[0][a]) * d2 + idx[1][b]) * nlast) * es;
          memcpy(dst, src, nlast * es);
          dst += nlast * es;
        }
  }
  free(raw);
  return out;
}

/* Selection table at idx (minus non-selector keys) -> resolved selection. */
static spy_selection *select_from(lua_State *L, spy_data *d, int idx, const char *const *skip)
{
  spy_err err = {0};
  cJSON *j = NULL;
  if (!lua_isnoneornil(L, idx)) {
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
      bool drop = false;
      for (const char *const *k = skip; *k && lua_type(L, -2) == LUA_TSTRING; k++)
        drop |= strcmp(*k, lua_tostring(L, -2)) == 0;
      if (drop) {
        lua_pop(L, 1);
        continue;
      }
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_settable(L, -4);
    }
    j = spy_bind_tojson(L, -1, &err);
    lua_pop(L, 1);
    if (!j) spy_bind_raise(L, &err);
    if (cJSON_IsArray(j) && cJSON_GetArraySize(j) == 0) {
      cJSON_Delete(j);
      j = NULL;
    }
  }
  spy_selection *s = NULL;
  int rc = spy_select(d, j, &s, &err);
  cJSON_Delete(j);
  if (rc) spy_bind_raise(L, &err);
  return s;
}

static const spy_funcspec spec_show = {
    "show", "spy.show(data, {trials=..., channel=..., latency=..., frequency=..., taper=..., squeeze=true})",
    "Read a selection into memory: an array for one trial, a list of arrays for several.",
    "Selectors as spy.selectdata (trials, channels and tapers 1-based or by name).  squeeze=true "
    "drops axes of length 1.",
    "local x = spy.show(data, {trials=1, channel={'channel1'}})", kw_none};

static int l_show(lua_State *L)
{
  spy_data *d = spy_bind_checkdata(L, 1);
  if (spy_dataclass_discrete(d->cls)) return spy_bind_discrete_show(L, d);
  bool squeeze = true;
  if (lua_istable(L, 2) && lua_getfield(L, 2, "squeeze") != LUA_TNIL) squeeze = lua_toboolean(L, -1);
  if (lua_istable(L, 2)) lua_pop(L, 1);
  static const char *const skip[] = {"squeeze", NULL};
  spy_selection *s = select_from(L, d, 2, skip);
  spy_err err = {0};
  if (s->ntrials > 1) lua_createtable(L, (int)s->ntrials, 0);
  for (size_t i = 0; i < s->ntrials; i++) {
    spy_array *a = read_selected(d, s, i, &err);
    if (!a) {
      spy_selection_free(s);
      return spy_bind_raise(L, &err);
    }
    if (squeeze) {
      int nd = 0;
      for (int ax = 0; ax < a->ndim; ax++)
        if (a->shape[ax] != 1) {
          a->shape[nd] = a->shape[ax];
          a->strides[nd] = a->strides[ax];
          nd++;
        }
      if (nd == 0) { /* a single value stays a 1-element array */
        a->shape[0] = 1;
        a->strides[0] = 1;
        nd = 1;
      }
      a->ndim = nd;
    }
    spy_bind_pusharray(L, a);
    if (s->ntrials > 1) lua_seti(L, -2, (lua_Integer)i + 1);
  }
  spy_selection_free(s);
  return 1;
}

static const spy_kwarg kw_selectdata[] = {
    {"trials", SPY_KT_INT | SPY_KT_NUMS | SPY_KT_STR | SPY_KT_NULL, "null", NULL,
     "trial numbers (1-based, order and repeats kept) or 'all'"},
    {"channel", SPY_KT_INT | SPY_KT_STR | SPY_KT_LIST | SPY_KT_NULL, "null", NULL,
     "channel names or 1-based indices, or 'all'"},
    {"channel_i", SPY_KT_INT | SPY_KT_STR | SPY_KT_LIST | SPY_KT_NULL, "null", NULL,
     "CrossSpectralData: row channels"},
    {"channel_j", SPY_KT_INT | SPY_KT_STR | SPY_KT_LIST | SPY_KT_NULL, "null", NULL,
     "CrossSpectralData: column channels"},
    {"latency", SPY_KT_NUMS | SPY_KT_STR | SPY_KT_NULL, "null", NULL,
     "{t0, t1} in s, or 'maxperiod', 'minperiod', 'prestim', 'poststim'; trials not covering the "
     "window are dropped"},
    {"frequency", SPY_KT_NUM | SPY_KT_NUMS | SPY_KT_NULL, "null", NULL,
     "a frequency (nearest bin) or {fmin, fmax} in Hz"},
    {"taper", SPY_KT_INT | SPY_KT_STR | SPY_KT_LIST | SPY_KT_NULL, "null", NULL,
     "taper names or 1-based indices"},
    {"unit", SPY_KT_INT | SPY_KT_STR | SPY_KT_LIST | SPY_KT_NULL, "null", NULL,
     "SpikeData: unit names or 1-based indices"},
    {"eventid", SPY_KT_INT | SPY_KT_NUMS | SPY_KT_NULL, "null", NULL, "EventData: event codes"},
    {"parallel", SPY_KT_BOOL | SPY_KT_NULL, "null", NULL, "accepted for Syncopy compatibility"},
    {NULL, 0, NULL, NULL, NULL}};

static const spy_funcspec spec_selectdata = {
    "selectdata",
    "spy.selectdata(data, {trials=..., channel=..., latency=..., frequency=..., taper=...})",
    "A new object holding a selection of trials, channels, time, frequencies and tapers.",
    "Indices are 1-based, as everywhere in spy; names select channels and tapers exactly.  "
    "Errors follow Syncopy's wording (syncopy.md 7.1).  The same selectors are accepted by every "
    "analysis through its select= keyword.",
    "local sub = spy.selectdata(data, {trials={1, 3}, channel={'channel2'}, latency={0, 0.5}})",
    kw_selectdata};

static int l_selectdata(lua_State *L)
{
  spy_data *d = spy_bind_checkdata(L, 1);
  if (lua_istable(L, 2) && lua_getfield(L, 2, "select") != LUA_TNIL)
    return luaL_error(L, "Invalid value of `selection kwargs`: '`select` as explicit parameter'; "
                         "expected unpacked selection keywords directly, try `**select`");
  if (lua_istable(L, 2)) lua_pop(L, 1);
  /* validate keys against the spec first (unknown keys, types) */
  spy_jsonbox *box = spy_bind_jsonbox(L);
  box->json = spy_bind_kwargs(L, lua_istable(L, 2) ? 2 : 0, &spec_selectdata);
  if (spy_dataclass_discrete(d->cls)) return spy_bind_discrete_selectdata(L, d, box->json);
  static const char *const skip[] = {"parallel", NULL};
  spy_selection *s = select_from(L, d, 2, skip);
  spy_err err = {0};
  spy_data *out = spy_data_new(d->cls);
  if (!out) {
    spy_selection_free(s);
    return luaL_error(L, "out of memory");
  }
  size_t rows = 0;
  for (size_t i = 0; i < s->ntrials; i++) rows += s->nrows[i];
  size_t shape[4];
  const size_t *idx[2];
  size_t nidx[2];
  inner_sel(d, s, idx, nidx);
  shape[0] = rows;
  for (int a = 0; a < d->ndim - 2; a++) shape[1 + a] = nidx[a];
  shape[d->ndim - 1] = d->cls == SPY_CROSSSPECTRAL ? s->nchan_j : s->nchan;
  int rc = spy_data_create(out, d->dtype, d->ndim, shape, &err);
  size_t row = 0;
  for (size_t i = 0; !rc && i < s->ntrials; i++) {
    spy_array *a = read_selected(d, s, i, &err);
    if (!a) {
      rc = err.code ? err.code : SPY_ENOMEM;
      break;
    }
    rc = spy_data_write(out, row, s->nrows[i], 0, shape[d->ndim - 1], a->buf->data, d->dtype, &err);
    row += s->nrows[i];
    spy_array_free(a);
  }
  if (!rc) {
    out->samplerate = d->samplerate;
    const char **lab = calloc(s->nchan + s->nchan_j + s->ntaper + 1, sizeof *lab);
    double *fv = calloc(s->nfreq + 1, sizeof *fv);
    if (!lab || !fv) rc = SPY_ENOMEM;
    for (size_t c = 0; !rc && c < s->nchan; c++) lab[c] = d->channel[s->chans[c]];
    if (!rc) rc = spy_data_set_channel(out, lab, s->nchan);
    for (size_t c = 0; !rc && c < s->nchan_j; c++) lab[c] = d->channel_j[s->chans_j[c]];
    if (!rc && d->cls == SPY_CROSSSPECTRAL) rc = spy_data_set_channel_j(out, lab, s->nchan_j);
    for (size_t c = 0; !rc && c < s->ntaper; c++) lab[c] = d->taper[s->tapers[c]];
    if (!rc && d->cls == SPY_SPECTRAL) rc = spy_data_set_taper(out, lab, s->ntaper);
    for (size_t f = 0; !rc && f < s->nfreq; f++) fv[f] = d->freq[s->freqs[f]];
    if (!rc && !spy_dataclass_timechannel(d->cls)) rc = spy_data_set_freq(out, fv, s->nfreq);
    if (!rc) rc = spy_data_set_trldef(out, s->trldef, s->ntrials, s->trlcols);
    free(lab);
    free(fv);
    if (rc == SPY_ENOMEM) spy_fail(&err, rc, "out of memory");
  }
  if (!rc) {
    cJSON_Delete(out->cfg);
    out->cfg = cJSON_Duplicate(d->cfg, 1);
    cJSON_AddItemToObject(out->cfg, "selectdata", cJSON_Duplicate(box->json, 1));
    free(out->log);
    out->log = strdup(d->log);
    spy_data_log(out, "selectdata", "selected data based on selection");
    rc = spy_data_sync_meta(out, &err);
  }
  spy_selection_free(s);
  if (rc) {
    spy_data_unref(out);
    return spy_bind_raise(L, &err);
  }
  spy_bind_pushdata(L, out);
  return 1;
}

/* ---- arithmetic (syncopy.md 7.7) ------------------------------------------ */

typedef struct {
  spy_data *d;    /* NULL for a scalar or an array */
  double complex s;
  spy_array *a;   /* broadcast array: numel 1, the trial's shape, or the last axis */
} operand;

static void getoperand(lua_State *L, int idx, operand *o)
{
  memset(o, 0, sizeof *o);
  if ((o->d = spy_bind_todata(L, idx))) return;
  if (lua_type(L, idx) == LUA_TNUMBER) {
    o->s = lua_tonumber(L, idx);
    if (!isfinite(creal(o->s)))
      spy_bind_errorf(L, "Invalid value of `operand`: '%g'; expected finite scalar", creal(o->s));
    return;
  }
  o->a = spy_bind_toarray(L, idx, SPY_DT_F64);
  spy_bind_pusharray(L, o->a); /* Lua owns it; stays on the stack */
}

static double complex opval(char op, double complex x, double complex y)
{
  switch (op) {
  case '+': return x + y;
  case '-': return x - y;
  case '*': return x * y;
  default: return x / y;
  }
}

/* Reads rows of o into buf as `work` (F64 or C128), widening real data. */
static int read_as(spy_data *o, size_t r0, size_t rows, size_t nlast, double complex *buf,
                   spy_dtype work, spy_err *err)
{
  bool real = !spy_dtype_is_complex(o->dtype);
  int rc = spy_data_read(o, r0, rows, NULL, nlast, buf, real ? SPY_DT_F64 : work, err);
  if (!rc && real && work == SPY_DT_C128)
    for (size_t i = rows * spy_data_row_elems(o); i-- > 0;) buf[i] = ((double *)buf)[i];
  return rc;
}

static int arith(lua_State *L, char op)
{
  operand A, B;
  getoperand(L, 1, &A);
  getoperand(L, 2, &B);
  spy_data *d = A.d ? A.d : B.d;
  if (A.d && B.d) {
    if (A.d->cls != B.d->cls || A.d->ntrials != B.d->ntrials || A.d->samplerate != B.d->samplerate)
      return spy_bind_errorf(L, "Invalid value of `operand`: '%s with %zu trials at %g Hz'; expected "
                           "an object of the same class, number of trials and samplerate (%s, %zu, %g)",
                        spy_dataclass_name(B.d->cls), B.d->ntrials, B.d->samplerate,
                        spy_dataclass_name(A.d->cls), A.d->ntrials, A.d->samplerate);
    for (int i = 1; i < d->ndim; i++)
      if (A.d->shape[i] != B.d->shape[i])
        return luaL_error(L, "Invalid value of `operand`: expected objects with equal shapes except along time");
    for (size_t k = 0; k < d->ntrials; k++)
      if (spy_data_trial_rows(A.d, k) != spy_data_trial_rows(B.d, k))
        return spy_bind_errorf(L, "Invalid value of `operand`: 'trial %zu has %zu vs %zu samples'; expected "
                             "trials of equal lengths", k + 1, spy_data_trial_rows(A.d, k),
                          spy_data_trial_rows(B.d, k));
  }
  operand *other = A.d == d ? &B : &A;
  if (op == '/' && B.d == NULL && B.a == NULL && B.s == 0)
    return luaL_error(L, "Invalid value of `operand`: '0'; expected non-zero scalar for division");
  size_t row_elems = spy_data_row_elems(d), nlast = d->shape[d->ndim - 1];
  if (other->a) {
    size_t n = spy_array_numel(other->a);
    if (n != 1 && n != nlast && !(other->a->ndim == d->ndim && n % row_elems == 0))
      return spy_bind_errorf(L, "Invalid value of `operand`: 'array of %zu elements'; expected a scalar, "
                           "one value per channel (%zu) or an array of a trial's shape", n, nlast);
  }
  bool cplx = spy_dtype_is_complex(d->dtype) || (other->d && spy_dtype_is_complex(other->d->dtype)) ||
              (other->a && spy_dtype_is_complex(other->a->dtype));
  spy_dtype work = cplx ? SPY_DT_C128 : SPY_DT_F64;
  spy_dtype outt = d->dtype;
  if (cplx && !spy_dtype_is_complex(outt)) outt = outt == SPY_DT_F32 ? SPY_DT_C64 : SPY_DT_C128;
  spy_err err = {0};
  spy_data *out = spy_data_new(d->cls);
  if (!out) return luaL_error(L, "out of memory");
  int ndim = d->ndim;
  size_t shape[4];
  memcpy(shape, d->shape, sizeof shape);
  int rc = spy_data_create(out, outt, ndim, shape, &err);
  double complex *x = NULL, *y = NULL;
  size_t maxrows = 0;
  for (size_t k = 0; k < d->ntrials; k++)
    if (spy_data_trial_rows(d, k) > maxrows) maxrows = spy_data_trial_rows(d, k);
  size_t nel = maxrows * row_elems;
  if (!rc && !(x = malloc((nel ? nel : 1) * sizeof *x))) rc = spy_fail(&err, SPY_ENOMEM, "out of memory");
  if (!rc && !(y = malloc((nel ? nel : 1) * sizeof *y))) rc = spy_fail(&err, SPY_ENOMEM, "out of memory");
  /* copy everything first (data outside trials stay unchanged), then the trials */
  for (size_t r0 = 0; !rc && r0 < d->shape[0]; r0 += maxrows ? maxrows : 1) {
    size_t nr = d->shape[0] - r0 < maxrows ? d->shape[0] - r0 : maxrows;
    if (nr == 0) break;
    rc = read_as(d, r0, nr, nlast, x, work, &err);
    if (!rc) rc = spy_data_write(out, r0, nr, 0, nlast, x, work, &err);
  }
  for (size_t k = 0; !rc && k < d->ntrials; k++) {
    size_t rows = spy_data_trial_rows(d, k), r0 = (size_t)d->trldef[k * d->trlcols], n = rows * row_elems;
    double complex *xs[2] = {x, y};
    operand *ops[2] = {&A, &B};
    for (int s = 0; s < 2 && !rc; s++) {
      operand *o = ops[s];
      if (o->d) {
        size_t q0 = (size_t)o->d->trldef[k * o->d->trlcols];
        rc = read_as(o->d, q0, rows, nlast, xs[s], SPY_DT_C128, &err);
      } else if (o->a) {
        size_t m = spy_array_numel(o->a);
        for (size_t i = 0; i < n; i++) xs[s][i] = spy_array_getc_flat(o->a, m == 1 ? 0 : m == nlast ? i % nlast : i % m);
      } else {
        for (size_t i = 0; i < n; i++) xs[s][i] = o->s;
      }
    }
    if (rc) break;
    for (size_t i = 0; i < n; i++) x[i] = opval(op, x[i], y[i]);
    if (work == SPY_DT_F64)
      for (size_t i = 0; i < n; i++) ((double *)x)[i] = creal(x[i]);
    rc = spy_data_write(out, r0, rows, 0, nlast, x, work, &err);
  }
  free(x);
  free(y);
  if (!rc) {
    out->samplerate = d->samplerate;
    if (spy_data_set_trldef(out, d->trldef, d->ntrials, d->trlcols) ||
        spy_data_set_channel(out, (const char *const *)d->channel, d->nchannel) ||
        (d->channel_j && spy_data_set_channel_j(out, (const char *const *)d->channel_j, d->nchannel_j)) ||
        (d->taper && spy_data_set_taper(out, (const char *const *)d->taper, d->ntaper)) ||
        (d->freq && spy_data_set_freq(out, d->freq, d->nfreq)))
      rc = spy_fail(&err, SPY_ENOMEM, "out of memory");
    free(out->log);
    out->log = strdup(d->log);
    char msg[64];
    snprintf(msg, sizeof msg, "applied operator %c", op);
    spy_data_log(out, "arithmetic", msg);
    if (!rc) rc = spy_data_sync_meta(out, &err);
  }
  if (rc) {
    spy_data_unref(out);
    return spy_bind_raise(L, &err);
  }
  spy_bind_pushdata(L, out);
  return 1;
}

static int l_add(lua_State *L) { return arith(L, '+'); }
static int l_sub(lua_State *L) { return arith(L, '-'); }
static int l_mul(lua_State *L) { return arith(L, '*'); }
static int l_div(lua_State *L) { return arith(L, '/'); }

/* ---- running an op: the common tail of every analysis ---------------------- */

void spy_bind_trials(const spy_data *d, const spy_selection *sel, spy_trials *t)
{
  memset(t, 0, sizeof *t);
  t->ntrials = sel->ntrials;
  t->nchan = sel->nchan;
  t->samplerate = d->samplerate;
  t->trldef = sel->trldef;
  t->trlcols = sel->trlcols;
  t->dtype = d->dtype;
  t->time_selected = sel->time_selected;
}

static void release_op(void *p)
{
  spy_op_free(p);
  free(p);
}

spy_op *spy_bind_plan(lua_State *L, const char *fname, const cJSON *cfg, const spy_data *d,
                      const spy_selection *sel)
{
  spy_trials tr;
  if (d) spy_bind_trials(d, sel, &tr);
  spy_gcbox *box = spy_bind_gcbox(L, release_op);
  spy_op *op = calloc(1, sizeof *op);
  if (!op) luaL_error(L, "out of memory");
  box->ptr = op;
  spy_err err = {0};
  if (spy_method_plan(fname, cfg, d ? &tr : NULL, op, &err) != SPY_OK) spy_bind_raise(L, &err);
  return op;
}

static int cmp_size(const void *a, const void *b)
{
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  return x < y ? -1 : x > y;
}

/* Syncopy's log line for a value: long values shortened to first30, ..., last30. */
static void logvalue(luaL_Buffer *b, const char *key, const cJSON *v)
{
  char *s = cJSON_IsString(v) ? strdup(v->valuestring) : cJSON_PrintUnformatted(v);
  if (!s) return;
  if (cJSON_IsNull(v)) {
    free(s);
    s = strdup("None");
  } else if (cJSON_IsBool(v)) {
    free(s);
    s = strdup(cJSON_IsTrue(v) ? "True" : "False");
  }
  size_t n = strlen(s);
  char line[256];
  if (n >= 80)
    snprintf(line, sizeof line, "\t%s = %.30s, ..., %s\n", key, s, s + n - 30);
  else
    snprintf(line, sizeof line, "\t%s = %s\n", key, s);
  luaL_addstring(b, line);
  free(s);
}

void spy_bind_runop(lua_State *L, const char *fname, const cJSON *cfg, spy_data *in,
                    const spy_selection *sel, spy_op *op, const char *const *labels, size_t nchan,
                    const char *flagwarn)
{
  spy_err err = {0};
  spy_runopts ro = {0};
  spy_runstats st = {0};
  bool parallel_given = cfg && cJSON_IsBool(cJSON_GetObjectItem(cfg, "parallel"));
  bool parallel = parallel_given && cJSON_IsTrue(cJSON_GetObjectItem(cfg, "parallel"));
  const cJSON *cpw = cfg ? cJSON_GetObjectItem(cfg, "chan_per_worker") : NULL;
  if (cJSON_IsNumber(cpw)) {
    if (cpw->valuedouble < 1) {
      spy_op_free(op);
      spy_bind_errorf(L, "Invalid value of `chan_per_worker`: '%g'; expected a positive integer",
                 cpw->valuedouble);
    }
    ro.chan_per_worker = (size_t)cpw->valuedouble;
  }
  /* executor: the client's pool unless parallel=false; parallel=true without a
  ** client gets a local cluster for this call (spy.prelude's helper) */
  int top = lua_gettop(L);
  if (!parallel_given || parallel) {
    lua_getfield(L, LUA_REGISTRYINDEX, "spy.namespace");
    lua_getfield(L, -1, "_executor_for_call");
    if (lua_isfunction(L, -1)) {
      lua_pushboolean(L, parallel);
      lua_pushboolean(L, in == NULL); /* data generation: the attach block once per client */
      if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
        spy_op_free(op);
        lua_error(L);
      }
      ro.pool = spy_bind_client_pool(L);
      ro.worker_memory = spy_bind_client_memory(L);
    }
  }
  spy_data *out = spy_data_new(op->cls);
  if (!out) {
    spy_op_free(op);
    luaL_error(L, "out of memory");
  }
  int rc = SPY_OK;
  if (!in) {
    rc = labels ? spy_data_set_channel(out, labels, nchan) : spy_data_default_channels(out, nchan);
    if (rc) spy_fail(&err, rc, "out of memory");
  }
  /* a remote client (SLURM workers) ships tasks; describe the computation */
  spy_trials tr;
  spy_computation comp = {fname, cfg, NULL, in ? in->path : NULL, sel ? sel->row0 : NULL,
                          sel ? sel->chans : NULL, sel ? sel->nchan : 0};
  if (in && sel) {
    spy_bind_trials(in, sel, &tr);
    comp.trials = &tr;
  }
  ro.remote = ro.pool ? spy_bind_client_remote(L) : NULL;
  ro.comp = &comp;
  /* remote workers open the input file themselves: it must be on disk */
  if (!rc && ro.remote && in) rc = spy_data_flush(in, &err);
  if (!rc) rc = spy_run(op, in, sel, out, &ro, &st, &err);
  /* a local cluster made for this call goes away now */
  lua_getfield(L, LUA_REGISTRYINDEX, "spy.namespace");
  lua_getfield(L, -1, "_end_call");
  if (lua_isfunction(L, -1)) lua_pcall(L, 0, 0, 0);
  lua_settop(L, top);
  if (rc) {
    spy_data_unref(out);
    spy_op_free(op);
    free(st.flagged);
    spy_bind_raise(L, &err);
  }
  /* cfg, log, info as Syncopy */
  cJSON_Delete(out->cfg);
  out->cfg = in ? cJSON_Duplicate(in->cfg, 1) : cJSON_CreateObject();
  cJSON_DeleteItemFromObject(out->cfg, fname);
  cJSON_AddItemToObject(out->cfg, fname, cfg ? cJSON_Duplicate(cfg, 1) : cJSON_CreateObject());
  free(out->log);
  out->log = strdup(in ? in->log : "");
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addstring(&b, op->log ? op->log : "");
  if (!op->log) {
    luaL_addstring(&b, "computed ");
    luaL_addstring(&b, op->name);
    luaL_addstring(&b, " with settings\n");
    const cJSON *e;
    cJSON_ArrayForEach(e, cfg) logvalue(&b, e->string, e);
  }
  luaL_addstring(&b, ro.pool ? "\tused_parallel = True\n" : "\tused_parallel = False\n");
  luaL_pushresult(&b);
  spy_data_log(out, "write_log", lua_tostring(L, -1));
  lua_pop(L, 1);
  /* ops that report NaNs carry info.nan_trials: fill it (1-based trial numbers) */
  if (cJSON_IsArray(cJSON_GetObjectItem(out->info, "nan_trials"))) {
    for (size_t i = 0; i < st.nflagged; i++)
      st.flagged[i] = sel ? sel->trials[st.flagged[i]] : st.flagged[i];
    qsort(st.flagged, st.nflagged, sizeof *st.flagged, cmp_size);
    cJSON *nan = cJSON_CreateArray();
    for (size_t i = 0; i < st.nflagged; i++)
      cJSON_AddItemToArray(nan, cJSON_CreateNumber((double)st.flagged[i] + 1));
    cJSON_ReplaceItemInObject(out->info, "nan_trials", nan);
  }
  if (st.nflagged && flagwarn) spy_log(SPY_LOG_WARNING, "%s", flagwarn);
  free(st.flagged);
  spy_op_free(op);
  if (spy_data_sync_meta(out, &err)) {
    spy_data_unref(out);
    spy_bind_raise(L, &err);
  }
  spy_bind_pushdata(L, out);
}

/* ---- namespace ------------------------------------------------------------- */

static const luaL_Reg metamethods[] = {
    {"__index", l_index}, {"__newindex", l_newindex}, {"__tostring", l_tostring},
    {"__gc", l_gc},       {"__close", l_gc},          {"__add", l_add},
    {"__sub", l_sub},     {"__mul", l_mul},           {"__div", l_div},
    {NULL, NULL}};

/* Field names per class, for tab completion (__fields). */
static const char *const fields_common[] = {
    "samplerate", "dimord", "trialdefinition", "sampleinfo", "trialinfo", "trialintervals",
    "trial_ids", "trials", "cfg", "info", "log", "filename", "container", "tag", "mode",
    "shape", "dtype", "dataclass", "nbytes", NULL};

static void push_fields(lua_State *L, spy_dataclass c)
{
  lua_newtable(L);
  lua_Integer i = 1;
  for (const char *const *f = fields_common; *f; f++) {
    lua_pushstring(L, *f);
    lua_seti(L, -2, i++);
  }
  static const char *const analog[] = {"channel", "time", "is_time_locked", NULL};
  static const char *const spectral[] = {"channel", "time", "freq", "taper", "metadata", NULL};
  static const char *const cross[] = {"channel_i", "channel_j", "freq", "time", "jack_var", "jack_bias", NULL};
  static const char *const timelock[] = {"channel", "time", "is_time_locked", "avg", "var", "cov", NULL};
  for (const char *const *f = c == SPY_ANALOG     ? analog
                              : c == SPY_SPECTRAL ? spectral
                              : c == SPY_TIMELOCK ? timelock
                                                  : cross;
       *f; f++) {
    lua_pushstring(L, *f);
    lua_seti(L, -2, i++);
  }
}

void spy_open_data(lua_State *L, int spy)
{
  lua_newtable(L); /* the methods table, filled below */
  lua_setfield(L, LUA_REGISTRYINDEX, METHODS);
  lua_newtable(L); /* trial values -> their index, for `for t in data.trials` */
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_setfield(L, LUA_REGISTRYINDEX, "spy.trialiter");
  if (lua_getglobal(L, "ipairs") == LUA_TFUNCTION) { /* its step function */
    lua_newtable(L);
    lua_call(L, 1, 1);
    ipairs_step = lua_tocfunction(L, -1);
  }
  lua_pop(L, 1);
  for (int c = 0; c < SPY_NCLASSES; c++) {
    if (spy_dataclass_discrete((spy_dataclass)c)) continue; /* bind/discrete.c */
    luaL_newmetatable(L, mtname((spy_dataclass)c));
    luaL_setfuncs(L, metamethods, 0);
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "__spydata");
    push_fields(L, (spy_dataclass)c);
    lua_setfield(L, -2, "__fields");
    lua_getfield(L, LUA_REGISTRYINDEX, METHODS);
    lua_setfield(L, -2, "__methods");
    lua_pop(L, 1);
  }
  luaL_newmetatable(L, "spy.TrialIndexer");
  lua_pushcfunction(L, trials_index);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, indexer_len);
  lua_setfield(L, -2, "__len");
  lua_pushcfunction(L, indexer_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushcfunction(L, indexer_call);
  lua_setfield(L, -2, "__call");
  lua_pop(L, 1);
  luaL_newmetatable(L, "spy.TimeIndexer");
  lua_pushcfunction(L, time_index);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, indexer_len);
  lua_setfield(L, -2, "__len");
  lua_pushcfunction(L, indexer_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushcfunction(L, indexer_call);
  lua_setfield(L, -2, "__call");
  lua_pop(L, 1);

  /* methods shared by all classes; other areas add more (save, ...) */
  lua_getfield(L, LUA_REGISTRYINDEX, METHODS);
  lua_pushcfunction(L, l_selectdata);
  lua_setfield(L, -2, "selectdata");
  lua_pushcfunction(L, l_show);
  lua_setfield(L, -2, "show");
  lua_pushcfunction(L, l_copy);
  lua_setfield(L, -2, "copy");
  lua_pushcfunction(L, l_definetrial);
  lua_setfield(L, -2, "definetrial");
  lua_setfield(L, spy, "_methods");

  spy_bind_func(L, spy, "AnalogData", l_analog, &spec_analog);
  spy_bind_func(L, spy, "SpectralData", l_spectral, &spec_spectral);
  spy_bind_func(L, spy, "CrossSpectralData", l_cross, &spec_cross);
  spy_bind_func(L, spy, "TimeLockData", l_timelock, &spec_timelock);
  spy_bind_func(L, spy, "definetrial", l_definetrial, &spec_definetrial);
  spy_bind_func(L, spy, "copy", l_copy, &spec_copy);
  spy_bind_func(L, spy, "show", l_show, &spec_show);
  spy_bind_func(L, spy, "selectdata", l_selectdata, &spec_selectdata);
}
