/* Entry point of spy.so: `require "spy"` from any Lua 5.4 interpreter. */
#include "bind/bind.h"

LUAMOD_API int luaopen_spy(lua_State *L);

LUAMOD_API int luaopen_spy(lua_State *L) { return spy_bind_open(L); }
