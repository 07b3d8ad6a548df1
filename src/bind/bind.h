/*
** Internal API of the Lua bindings (the only engine-side C that includes
** lua.h).  Each area has one file with one opener,
**   void spy_open_<area>(lua_State *L, int spy)
** that adds its functions to the `spy` table at stack index `spy`.
** Engine errors become Lua errors through spy_bind_raise, so they read as
** one clear line in Syncopy's wording.
*/
#ifndef SPY_BIND_H
#define SPY_BIND_H

#include <cjson/cJSON.h>
#include <lauxlib.h>
#include <lua.h>

#include "core/err.h"
#include "core/kwspec.h"

/* Opens the whole namespace: returns with the `spy` table on the stack. */
int spy_bind_open(lua_State *L);

/* Sets t[name] = f (t at absolute index) and records f's keyword spec (may
** be NULL) for help(), completion and validation; registers the spec. */
void spy_bind_func(lua_State *L, int t, const char *name, lua_CFunction f,
                   const spy_funcspec *spec);

/* luaL_error with the C library's printf formats (%g, %zu, ...), which
** lua_pushfstring lacks; prefixes the caller's position as luaL_error does. */
int spy_bind_errorf(lua_State *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Raises err as a Lua error (never returns). */
int spy_bind_raise(lua_State *L, const spy_err *err);

/* Lua value at idx -> new cJSON (NULL and *err filled on failure).  Tables
** that are sequences become arrays, other tables objects; userdata with a
** __tojson metamethod are converted through it; spy.null -> null. */
cJSON *spy_bind_tojson(lua_State *L, int idx, spy_err *err);
/* Pushes a JSON value as Lua (objects -> tables, null members omitted,
** null array entries -> spy.null). */
void spy_bind_pushjson(lua_State *L, const cJSON *v);

/*
** Resolves the calling conventions every analysis accepts:
**   f(data, {k=v})   f({k=v}, data)   f(data, cfg)   f(data, cfg, {k=v})
** where a cfg holding a sub-table named after the function (res.cfg)
** replays that sub-table.  On return *dataidx is the stack index of the
** data argument (0 if none) and *cfg the validated, defaults-filled cfg
** (caller frees).  Raises a Lua error on bad input.
*/
void spy_bind_callargs(lua_State *L, const spy_funcspec *f, int *dataidx,
                       cJSON **cfg);

/* Validates the option table at idx (or none when idx is 0 / nil). */
cJSON *spy_bind_kwargs(lua_State *L, int idx, const spy_funcspec *f);

/* Sentinel for JSON null. */
void spy_bind_pushnull(lua_State *L);
int spy_bind_isnull(lua_State *L, int idx);

/* Userdata whose __gc frees a cJSON tree, so a cfg survives Lua errors:
** pushes the box and returns it; set box->json to take ownership. */
typedef struct spy_jsonbox {
  cJSON *json;
} spy_jsonbox;
spy_jsonbox *spy_bind_jsonbox(lua_State *L);

/* Userdata that frees an engine object when collected (or closed), so
** temporaries survive Lua errors without leaking: pushes the box; set
** box->ptr to hand over ownership, or to NULL to take it back. */
typedef struct spy_gcbox {
  void *ptr;
  void (*release)(void *);
} spy_gcbox;
spy_gcbox *spy_bind_gcbox(lua_State *L, void (*release)(void *));

/* Area openers (one per bind file). */
void spy_open_core(lua_State *L, int spy);
void spy_open_array(lua_State *L, int spy);
/* recordings in, results out (bind/formats.c) */
void spy_open_formats(lua_State *L, int spy);
/* cfg[key] (a string or a list of strings) as a C array of views into cfg,
** held by a userdata pushed on the stack; NULL and *n = 0 when null (bind/io.c). */
const char **spy_bind_strlist(lua_State *L, const cJSON *cfg, const char *key, size_t *n);
/* Plots (bind/plot.c). */
void spy_open_plot(lua_State *L, int spy);
void spy_open_connectivity(lua_State *L, int spy);

#endif
