/*
** spy core: logging, settings, keyword specs for help() and completion.
*/
#include <string.h>

#include "bind/bind.h"
#include "core/log.h"
#include "core/progress.h"
#include "core/pyfmt.h"
#include "core/settings.h"

#define SPECS "spy.specs" /* registry: weak table function -> spec */

static void specs_table(lua_State *L)
{
  if (lua_getfield(L, LUA_REGISTRYINDEX, SPECS) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_newtable(L);
    lua_pushstring(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, SPECS);
  }
}

void spy_bind_func(lua_State *L, int t, const char *name, lua_CFunction f, const spy_funcspec *spec)
{
  t = lua_absindex(L, t);
  lua_pushcfunction(L, f);
  if (spec) {
    spy_spec_register(spec);
    specs_table(L);
    lua_pushvalue(L, -2);
    lua_pushlightuserdata(L, (void *)spec);
    lua_rawset(L, -3);
    lua_pop(L, 1);
  }
  lua_setfield(L, t, name);
}

static const spy_funcspec *tospec(lua_State *L, int idx)
{
  if (lua_type(L, idx) == LUA_TSTRING) return spy_spec_find(lua_tostring(L, idx));
  specs_table(L);
  lua_pushvalue(L, idx);
  lua_rawget(L, -2);
  const spy_funcspec *s = lua_touserdata(L, -1);
  lua_pop(L, 2);
  return s;
}

static void setstr(lua_State *L, const char *k, const char *v)
{
  if (!v) return;
  lua_pushstring(L, v);
  lua_setfield(L, -2, k);
}

/* spy._spec(f | name) -> {name, signature, summary, doc, example,
**   kw = {{name, type, default, allowed, doc, min, max}, ...}} or nil
** (min and max, the inclusive range, only for keywords that take numbers;
** range, "1 to 100", where the spec states a limit of its own) */
static int l_spec(lua_State *L)
{
  const spy_funcspec *s = tospec(L, 1);
  if (!s) return 0;
  lua_newtable(L);
  setstr(L, "name", s->name);
  setstr(L, "signature", s->signature);
  setstr(L, "summary", s->summary);
  setstr(L, "doc", s->doc);
  setstr(L, "example", s->example);
  lua_newtable(L);
  int i = 1;
  for (const spy_kwarg *k = s->kw; k && k->name; k++) {
    char ty[200];
    spy_kw_typedesc(k->types, ty, sizeof ty);
    lua_newtable(L);
    setstr(L, "name", k->name);
    setstr(L, "type", ty);
    setstr(L, "default", k->dflt ? k->dflt : "null");
    setstr(L, "allowed", k->allowed);
    setstr(L, "doc", k->doc);
    if (k->types & (SPY_KT_INT | SPY_KT_NUM | SPY_KT_NUMS)) {
      double lo, hi;
      spy_kw_range(k, &lo, &hi);
      lua_pushnumber(L, lo);
      lua_setfield(L, -2, "min");
      lua_pushnumber(L, hi);
      lua_setfield(L, -2, "max");
      /* a limit stated by the spec (not a default, not the C int range): for help() */
      if (!(k->min == 0 && k->max == 0) && !(k->min == -2147483647.0 && k->max == 2147483647.0)) {
        char a[48], b[48];
        spy_py_num(lo, a, sizeof a);
        spy_py_num(hi, b, sizeof b);
        lua_pushfstring(L, "%s to %s", a, b);
        lua_setfield(L, -2, "range");
      }
    }
    lua_seti(L, -2, i++);
  }
  lua_setfield(L, -2, "kw");
  return 1;
}

/* spy._setspec(f, name): attach a registered spec to a Lua function. */
static int l_setspec(lua_State *L)
{
  luaL_checktype(L, 1, LUA_TFUNCTION);
  const spy_funcspec *s = spy_spec_find(luaL_checkstring(L, 2));
  luaL_argcheck(L, s != NULL, 2, "no such spec");
  specs_table(L);
  lua_pushvalue(L, 1);
  lua_pushlightuserdata(L, (void *)s);
  lua_rawset(L, -3);
  return 0;
}

/* spy._kwcheck(name, opts) -> cfg table with defaults (validation only) */
static int l_kwcheck(lua_State *L)
{
  const spy_funcspec *s = spy_spec_find(luaL_checkstring(L, 1));
  luaL_argcheck(L, s != NULL, 1, "no such spec");
  spy_jsonbox *box = spy_bind_jsonbox(L);
  box->json = spy_bind_kwargs(L, lua_isnoneornil(L, 2) ? 0 : 2, s);
  spy_bind_pushjson(L, box->json);
  return 1;
}

/* spy._specnames() -> {name, ...}: every registered spec ("freqanalysis",
** "synthdata.white_noise", ...), for tests that sweep all keywords. */
static int l_specnames(lua_State *L)
{
  size_t n = spy_spec_count();
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushstring(L, spy_spec_at(i)->name);
    lua_seti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

static int l_set_loglevel(lua_State *L)
{
  const char *name = luaL_checkstring(L, 1);
  int lv = spy_log_parse_level(name);
  if (lv < 0)
    return luaL_error(L, "Invalid value of `level`: '%s'; expected 'DEBUG' or 'INFO' or "
                         "'IMPORTANT' or 'WARNING' or 'ERROR'",
                      name);
  spy_log_set_level(lv);
  return 0;
}

static int l_get_loglevel(lua_State *L)
{
  lua_pushstring(L, spy_log_level_name(spy_log_get_level()));
  return 1;
}

static int l_log(lua_State *L)
{
  const char *msg = luaL_checkstring(L, 1);
  const char *lvname = luaL_optstring(L, 2, "IMPORTANT");
  int lv = spy_log_parse_level(lvname);
  if (lv < 0) return luaL_error(L, "Invalid value of `level`: '%s'", lvname);
  spy_log(lv, "%s", msg);
  return 0;
}

static int l_set_progress(lua_State *L)
{
  spy_progress_enable(lua_toboolean(L, 1));
  return 0;
}

static int l_clock(lua_State *L)
{
  lua_pushnumber(L, spy_now());
  return 1;
}

static const spy_kwarg kw_none[] = {{NULL, 0, NULL, NULL, NULL}};

static const spy_funcspec spec_set_loglevel = {
    "set_loglevel", "spy.set_loglevel(level)",
    "Set the console and log-file level: 'DEBUG', 'INFO', 'IMPORTANT' (default), "
    "'WARNING' or 'ERROR'.",
    "Messages below the level are not shown.  The environment variable SPYLOGLEVEL sets "
    "the level at start-up.",
    "spy.set_loglevel('INFO')", kw_none};

static const spy_funcspec spec_get_loglevel = {
    "get_loglevel", "spy.get_loglevel()",
    "The current console and log-file level ('DEBUG', 'INFO', 'IMPORTANT', 'WARNING' or "
    "'ERROR').",
    NULL, "local old = spy.get_loglevel(); spy.set_loglevel('ERROR'); ...; spy.set_loglevel(old)",
    kw_none};

static const spy_funcspec spec_log = {
    "log", "spy.log(msg [, level='IMPORTANT'])", "Write a message to the console and the log file.",
    NULL, "spy.log('starting analysis', 'INFO')", kw_none};

static const spy_funcspec spec_set_progress = {
    "set_progress", "spy.set_progress(on)",
    "Show (true, default) or hide (false) the progress bar of long computations.", NULL,
    "spy.set_progress(false)", kw_none};

static const spy_funcspec spec_clock = {
    "clock", "spy.clock()", "Wall-clock seconds from a monotonic clock (for timing: t1 - t0).",
    "Unlike os.clock(), which counts CPU time of this process, spy.clock() measures elapsed time, "
    "which is what a parallel computation saves.",
    "local t0 = spy.clock(); spy.freqanalysis(data); print(spy.clock() - t0)", kw_none};

void spy_open_core(lua_State *L, int spy)
{
  spy_bind_func(L, spy, "set_progress", l_set_progress, &spec_set_progress);
  spy_bind_func(L, spy, "clock", l_clock, &spec_clock);
  spy_bind_func(L, spy, "_spec", l_spec, NULL);
  spy_bind_func(L, spy, "_setspec", l_setspec, NULL);
  spy_bind_func(L, spy, "_kwcheck", l_kwcheck, NULL);
  spy_bind_func(L, spy, "_specnames", l_specnames, NULL);
  spy_bind_func(L, spy, "set_loglevel", l_set_loglevel, &spec_set_loglevel);
  spy_bind_func(L, spy, "get_loglevel", l_get_loglevel, &spec_get_loglevel);
  spy_bind_func(L, spy, "log", l_log, &spec_log);
  spy_bind_pushnull(L);
  lua_setfield(L, spy, "null");
  lua_pushstring(L, SPY_VERSION);
  lua_setfield(L, spy, "__version__");
  lua_pushstring(L, spy_dir());
  lua_setfield(L, spy, "__spydir__");
  lua_pushstring(L, spy_tmpdir());
  lua_setfield(L, spy, "__storage__");
  lua_pushstring(L, spy_logdir());
  lua_setfield(L, spy, "__logdir__");
  lua_pushstring(L, spy_session_id());
  lua_setfield(L, spy, "__sessionid__");
}
