/* Minimal placeholder driver; the full shell (repl.c, lineedit.c,
** complete.c) replaces it. */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <string.h>

#include "bind/bind.h"

int main(int argc, char **argv)
{
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  luaL_requiref(L, "spy", spy_bind_open, 1);
  lua_pop(L, 1);
  int rc = 0;
  if (argc > 2 && strcmp(argv[1], "-e") == 0)
    rc = luaL_dostring(L, argv[2]);
  else if (argc > 1)
    rc = luaL_dofile(L, argv[1]);
  if (rc) fprintf(stderr, "spy: %s\n", lua_tostring(L, -1));
  lua_close(L);
  return rc ? 1 : 0;
}
