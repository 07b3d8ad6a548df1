/*
** Assembly of the `spy` namespace: settings, the C areas, then the Lua half
** (the files under lua/spy, embedded at build time and found through a package
** searcher of our own, so spy.so and the shell need no files at run time).
*/
#include <stdio.h>
#include <string.h>

#include "bind/bind.h"
#include "bind/data.h"
#include "core/settings.h"

struct spy_lua_source {
  const char *module, *path, *src;
  size_t len;
};
extern const struct spy_lua_source spy_lua_sources[];

static const struct spy_lua_source *findsrc(const char *name)
{
  for (const struct spy_lua_source *s = spy_lua_sources; s->module; s++)
    if (strcmp(s->module, name) == 0) return s;
  return NULL;
}

/* package.searchers entry: embedded modules "spy.<name>". */
static int searcher(lua_State *L)
{
  const char *name = luaL_checkstring(L, 1);
  const struct spy_lua_source *s = findsrc(name);
  if (!s) {
    lua_pushfstring(L, "no embedded module '%s'", name);
    return 1;
  }
  char chunk[256];
  snprintf(chunk, sizeof chunk, "@[spy]/lua/%s", s->path);
  if (luaL_loadbufferx(L, s->src, s->len, chunk, "t") != LUA_OK)
    return lua_error(L);
  lua_pushstring(L, chunk + 1);
  return 2;
}

static void addsearcher(lua_State *L)
{
  lua_getglobal(L, "package");
  if (!lua_istable(L, -1)) {
    lua_pop(L, 1);
    return;
  }
  lua_getfield(L, -1, "searchers");
  if (lua_istable(L, -1)) {
    lua_Integer n = (lua_Integer)luaL_len(L, -1);
    for (lua_Integer i = n; i >= 2; i--) { /* insert at position 2 */
      lua_geti(L, -1, i);
      lua_seti(L, -2, i + 1);
    }
    lua_pushcfunction(L, searcher);
    lua_seti(L, -2, 2);
  }
  lua_pop(L, 2);
}

int spy_bind_open(lua_State *L)
{
  if (lua_getfield(L, LUA_REGISTRYINDEX, "spy.namespace") == LUA_TTABLE) return 1;
  lua_pop(L, 1);

  spy_err err = {0};
  if (spy_settings_init(&err) != SPY_OK) spy_bind_raise(L, &err);

  addsearcher(L);
  lua_newtable(L);
  int spy = lua_gettop(L);
  lua_pushvalue(L, spy);
  lua_setfield(L, LUA_REGISTRYINDEX, "spy.namespace");

  spy_open_core(L, spy);
  spy_open_array(L, spy);
  spy_open_data(L, spy);
  spy_open_cluster(L, spy);
  spy_open_analysis(L, spy);
  spy_open_synth(L, spy);
  spy_open_io(L, spy);
  spy_open_stats(L, spy);
  spy_open_formats(L, spy);
  spy_open_plot(L, spy);
  spy_open_discrete(L, spy);
  spy_open_connectivity(L, spy);

  /* The Lua half completes the namespace: require("spy.prelude")(spy). */
  lua_getglobal(L, "require");
  lua_pushstring(L, "spy.prelude");
  lua_call(L, 1, 1);
  lua_pushvalue(L, spy);
  lua_call(L, 1, 0);
  lua_settop(L, spy);
  return 1;
}

const char *spy_bind_tmpdir(void) { return spy_tmpdir(); }
