/*
** spy.array at the Lua level, and the C API other bindings use to pass
** arrays in and out.
**
** A spy.array is a full userdata holding one spy_array reference (the
** metatable is named "spy.array", so argument errors read "spy.array
** expected").  The userdata owns its reference: __gc and __close release it
** (idempotently; a closed array raises on use, its views stay valid).
** Complex scalars travel as tables {re=, im=} with the metatable
** "spy.complex" (printed as 1.5+2j).
*/
#ifndef SPY_BIND_ARRAY_H
#define SPY_BIND_ARRAY_H

#include "bind/bind.h"
#include "core/array.h"

/* Pushes a as a spy.array, taking ownership (freed if the push fails;
** NULL raises "out of memory"). */
void spy_bind_pusharray(lua_State *L, spy_array *a);
/* Pushes a shape as a sequence of integers that prints as {2, 100, 8}. */
void spy_bind_pushshape(lua_State *L, int ndim, const size_t *shape);

/* The array of the spy.array at idx, still owned by the userdata (valid
** while that is reachable).  Raises "bad argument #idx ... (spy.array
** expected, got ...)" for anything else and for a closed array. */
spy_array *spy_bind_checkarray(lua_State *L, int idx);

/* A new reference (the caller frees it) to the value at idx: a spy.array
** (shared, no copy), a number (0-d), or a nested rectangular table of
** numbers and complex {re=, im=} values, stored as dtype dflt (its complex
** counterpart when the table holds complex values).  Raises on bad input,
** naming the offending element. */
spy_array *spy_bind_toarray(lua_State *L, int idx, spy_dtype dflt);

int spy_bind_isarray(lua_State *L, int idx);

#endif
