/*
** Keyword tables, cfg conversion and the calling conventions shared by every
** analysis (see bind.h).  Lua values are turned into cJSON and validated by
** the engine's spy_kw_apply, the same code a remote worker runs.
*/
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bind/bind.h"

static const char NULLKEY = 'n'; /* address is the spy.null sentinel */

void spy_bind_pushnull(lua_State *L) { lua_pushlightuserdata(L, (void *)&NULLKEY); }

int spy_bind_isnull(lua_State *L, int idx)
{
  return lua_islightuserdata(L, idx) && lua_touserdata(L, idx) == (void *)&NULLKEY;
}

int spy_bind_errorf(lua_State *L, const char *fmt, ...)
{
  char msg[SPY_ERRMSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  luaL_where(L, 1);
  lua_pushstring(L, msg);
  lua_concat(L, 2);
  return lua_error(L);
}

int spy_bind_raise(lua_State *L, const spy_err *err)
{
  lua_pushstring(L, err->msg[0] ? err->msg : spy_strstatus(err->code));
  return lua_error(L);
}

static int jsonbox_gc(lua_State *L)
{
  spy_jsonbox *b = luaL_checkudata(L, 1, "spy.jsonbox");
  cJSON_Delete(b->json);
  b->json = NULL;
  return 0;
}

spy_jsonbox *spy_bind_jsonbox(lua_State *L)
{
  spy_jsonbox *b = lua_newuserdatauv(L, sizeof *b, 0);
  b->json = NULL;
  if (luaL_newmetatable(L, "spy.jsonbox")) {
    lua_pushcfunction(L, jsonbox_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, jsonbox_gc);
    lua_setfield(L, -2, "__close");
  }
  lua_setmetatable(L, -2);
  return b;
}

/* Is the table at idx a sequence 1..n with n >= 1 and no other keys? */
static int issequence(lua_State *L, int idx, lua_Integer *n)
{
  lua_Integer count = 0, maxk = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (!lua_isinteger(L, -1)) {
      lua_pop(L, 1);
      return 0;
    }
    lua_Integer k = lua_tointeger(L, -1);
    if (k < 1) {
      lua_pop(L, 1);
      return 0;
    }
    if (k > maxk) maxk = k;
    count++;
  }
  *n = count;
  return count == maxk;
}

/* "AnalogData", "array", or Lua's type name: what a user would call the value. */
static const char *typename_of(lua_State *L, int idx)
{
  static char buf[64];
  if (lua_type(L, idx) == LUA_TUSERDATA && luaL_getmetafield(L, idx, "__name") == LUA_TSTRING) {
    const char *n = lua_tostring(L, -1);
    snprintf(buf, sizeof buf, "%s", strncmp(n, "spy.", 4) == 0 ? n + 4 : n);
    lua_pop(L, 1);
    return buf;
  }
  return luaL_typename(L, idx);
}

static cJSON *tojson(lua_State *L, int idx, spy_err *err, int depth)
{
  idx = lua_absindex(L, idx);
  if (depth > 32) {
    spy_fail(err, SPY_EINVAL, "table nested too deeply (or cyclic)");
    return NULL;
  }
  switch (lua_type(L, idx)) {
  case LUA_TNIL: return cJSON_CreateNull();
  case LUA_TBOOLEAN: return cJSON_CreateBool(lua_toboolean(L, idx));
  case LUA_TNUMBER: return cJSON_CreateNumber(lua_tonumber(L, idx));
  case LUA_TSTRING: return cJSON_CreateString(lua_tostring(L, idx));
  case LUA_TLIGHTUSERDATA:
    if (spy_bind_isnull(L, idx)) return cJSON_CreateNull();
    break;
  case LUA_TUSERDATA:
    if (luaL_getmetafield(L, idx, "__tojson") != LUA_TNIL) {
      lua_pushvalue(L, idx);
      lua_call(L, 1, 1);
      cJSON *r = tojson(L, -1, err, depth + 1);
      lua_pop(L, 1);
      return r;
    }
    break;
  case LUA_TTABLE: {
    lua_Integer n = 0;
    if (issequence(L, idx, &n)) {
      cJSON *arr = cJSON_CreateArray();
      for (lua_Integer i = 1; arr && i <= n; i++) {
        lua_geti(L, idx, i);
        cJSON *e = tojson(L, -1, err, depth + 1);
        lua_pop(L, 1);
        if (!e) {
          cJSON_Delete(arr);
          return NULL;
        }
        cJSON_AddItemToArray(arr, e);
      }
      return arr;
    }
    cJSON *obj = cJSON_CreateObject();
    lua_pushnil(L);
    while (lua_next(L, idx)) {
      if (lua_type(L, -2) != LUA_TSTRING) {
        lua_pop(L, 2);
        cJSON_Delete(obj);
        spy_fail(err, SPY_ETYPE, "table keys must be strings or a 1..n sequence");
        return NULL;
      }
      cJSON *e = tojson(L, -1, err, depth + 1);
      if (!e) {
        /* name the key the value was given for */
        if (strncmp(err->msg, "Wrong type of `", 15) != 0)
          spy_err_prefix(err, "Wrong type of `%s`", lua_tostring(L, -2));
        lua_pop(L, 2);
        cJSON_Delete(obj);
        return NULL;
      }
      cJSON_AddItemToObject(obj, lua_tostring(L, -2), e);
      lua_pop(L, 1);
    }
    return obj;
  }
  default: break;
  }
  spy_fail(err, SPY_ETYPE, "a value of type %s cannot be stored in a cfg (numbers, strings, "
                           "booleans, arrays and tables can)",
           typename_of(L, idx));
  return NULL;
}

cJSON *spy_bind_tojson(lua_State *L, int idx, spy_err *err) { return tojson(L, idx, err, 0); }

void spy_bind_pushjson(lua_State *L, const cJSON *v)
{
  luaL_checkstack(L, 4, "JSON too deep");
  if (!v || cJSON_IsNull(v)) {
    spy_bind_pushnull(L);
  } else if (cJSON_IsBool(v)) {
    lua_pushboolean(L, cJSON_IsTrue(v));
  } else if (cJSON_IsNumber(v)) {
    double d = v->valuedouble;
    if (isfinite(d) && d == floor(d) && fabs(d) < 9007199254740992.0)
      lua_pushinteger(L, (lua_Integer)d);
    else
      lua_pushnumber(L, d);
  } else if (cJSON_IsString(v)) {
    lua_pushstring(L, v->valuestring);
  } else if (cJSON_IsArray(v)) {
    lua_createtable(L, cJSON_GetArraySize(v), 0);
    lua_Integer i = 1;
    const cJSON *e;
    cJSON_ArrayForEach(e, v) {
      spy_bind_pushjson(L, e);
      lua_seti(L, -2, i++);
    }
  } else if (cJSON_IsObject(v)) {
    lua_newtable(L);
    const cJSON *e;
    cJSON_ArrayForEach(e, v) {
      if (cJSON_IsNull(e)) continue;
      spy_bind_pushjson(L, e);
      lua_setfield(L, -2, e->string);
    }
  } else {
    lua_pushnil(L);
  }
}

cJSON *spy_bind_kwargs(lua_State *L, int idx, const spy_funcspec *f)
{
  spy_err err = {0};
  cJSON *given = NULL, *out = NULL;
  spy_jsonbox *box = spy_bind_jsonbox(L); /* frees `given` on error */
  if (idx && !lua_isnoneornil(L, idx)) {
    if (!lua_istable(L, idx)) {
      luaL_error(L, "Wrong type of `cfg`: expected dictionary-like table found %s",
                 luaL_typename(L, idx));
      return NULL;
    }
    /* opaque keys never become JSON */
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
      const spy_kwarg *k = lua_type(L, -2) == LUA_TSTRING ? spy_kw_find(f, lua_tostring(L, -2)) : NULL;
      if (k && (k->types & SPY_KT_OPAQUE)) {
        lua_pop(L, 1);
        continue;
      }
      /* an array or a data object where the keyword takes no list: say what it is */
      if (k && lua_type(L, -1) == LUA_TUSERDATA &&
          !(k->types & (SPY_KT_NUMS | SPY_KT_STRS | SPY_KT_LIST))) {
        char want[160];
        spy_kw_typedesc(k->types, want, sizeof want);
        spy_fail_type(&err, k->name, want, typename_of(L, -1));
        spy_bind_raise(L, &err);
      }
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_settable(L, -4);
    }
    given = spy_bind_tojson(L, -1, &err);
    lua_pop(L, 1);
    if (!given) spy_bind_raise(L, &err);
    if (cJSON_IsArray(given) && cJSON_GetArraySize(given) == 0) {
      cJSON_Delete(given);
      given = cJSON_CreateObject();
    }
    box->json = given;
  }
  if (spy_kw_apply(f, given, &out, &err) != SPY_OK) spy_bind_raise(L, &err);
  cJSON_Delete(given);
  box->json = NULL;
  lua_pop(L, 1);
  return out;
}

/* A table is "data" if it is a userdata with a __spydata metafield. */
static int isdata(lua_State *L, int idx)
{
  if (lua_type(L, idx) != LUA_TUSERDATA) return 0;
  int t = luaL_getmetafield(L, idx, "__spydata");
  if (t != LUA_TNIL) lua_pop(L, 1);
  return t != LUA_TNIL;
}

void spy_bind_callargs(lua_State *L, const spy_funcspec *f, int *dataidx, cJSON **cfg)
{
  int top = lua_gettop(L), tabs[2] = {0, 0}, ntab = 0;
  *dataidx = 0;
  for (int i = 1; i <= top; i++) {
    if (isdata(L, i)) {
      if (*dataidx)
        luaL_error(L, "%s takes one data object, got a second one as argument #%d", f->name, i);
      *dataidx = i;
    } else if (lua_istable(L, i)) {
      if (ntab == 2)
        luaL_error(L, "Invalid value of `cfg`: '3 `cfg` objects in input arguments'; "
                      "expected a single cfg table plus, optionally, one keyword table");
      tabs[ntab++] = i;
    } else if (!lua_isnil(L, i)) {
      luaL_error(L, "bad argument #%d to '%s' (data object or option table expected, got %s)", i,
                 f->name, luaL_typename(L, i));
    }
  }
  /* merge: cfg (first table, with replay sub-table) then keywords */
  lua_newtable(L);
  int merged = lua_gettop(L);
  for (int t = 0; t < ntab; t++) {
    int src = tabs[t];
    if (lua_getfield(L, src, f->name) == LUA_TTABLE) {
      src = lua_gettop(L); /* replay res.cfg[fname] */
    } else {
      lua_pop(L, 1);
    }
    lua_pushnil(L);
    while (lua_next(L, src)) {
      if (t == 1 && lua_type(L, -2) == LUA_TSTRING) {
        lua_pushvalue(L, -2);
        if (lua_rawget(L, merged) != LUA_TNIL)
          luaL_error(L,
                     "Invalid value of `cfg/%s`: 'parameter `%s` set in both `cfg` and via "
                     "explicit keyword'; expected parameter set either via `cfg.%s=...` or "
                     "directly via keyword",
                     lua_tostring(L, -3), lua_tostring(L, -3), lua_tostring(L, -3));
        lua_pop(L, 1);
      }
      /* skip sub-tables named after other functions (a foreign res.cfg) */
      if (lua_type(L, -2) == LUA_TSTRING && lua_istable(L, -1) && spy_spec_find(lua_tostring(L, -2)) &&
          !spy_kw_find(f, lua_tostring(L, -2))) {
        lua_pop(L, 1);
        continue;
      }
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_rawset(L, merged);
    }
    if (src != tabs[t]) lua_pop(L, 1);
  }
  *cfg = spy_bind_kwargs(L, merged, f);
  lua_remove(L, merged);
}

static int gcbox_gc(lua_State *L)
{
  spy_gcbox *b = luaL_checkudata(L, 1, "spy.gcbox");
  if (b->ptr && b->release) b->release(b->ptr);
  b->ptr = NULL;
  return 0;
}

spy_gcbox *spy_bind_gcbox(lua_State *L, void (*release)(void *))
{
  spy_gcbox *b = lua_newuserdatauv(L, sizeof *b, 0);
  b->ptr = NULL;
  b->release = release;
  if (luaL_newmetatable(L, "spy.gcbox")) {
    lua_pushcfunction(L, gcbox_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, gcbox_gc);
    lua_setfield(L, -2, "__close");
  }
  lua_setmetatable(L, -2);
  return b;
}
