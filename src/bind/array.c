/*
** spy.array, spy.zeros, spy.complex, spy.h5read, spy.h5write (see
** bind/array.h).  Every array a function creates lives in a userdata box
** pushed before the engine call fills it, so a Lua error at any point leaves
** nothing that __gc cannot release.
*/
#include "bind/array.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/array_ops.h"
#include "io/h5plain.h"

#define ARRAY "spy.array"
#define COMPLEX "spy.complex"
#define H5DATA "spy.h5data"
#define DTYPES "'float32' or 'float64' or 'complex64' or 'complex128' or 'int64'"

typedef struct abox {
  spy_array *a;
} abox;

static void pushmeta(lua_State *L);

/* An empty spy.array box on the stack; the caller stores into the slot. */
static spy_array **newslot(lua_State *L)
{
  abox *b = lua_newuserdatauv(L, sizeof *b, 0);
  b->a = NULL;
  pushmeta(L);
  lua_setmetatable(L, -2);
  return &b->a;
}

static int nomem(lua_State *L)
{
  return luaL_error(L, "out of memory");
}

static void *at(const spy_array *a, ptrdiff_t off)
{
  return (char *)a->buf->data + off * (ptrdiff_t)spy_dtype_size(a->dtype);
}

int spy_bind_isarray(lua_State *L, int idx)
{
  return luaL_testudata(L, idx, ARRAY) != NULL;
}

spy_array *spy_bind_checkarray(lua_State *L, int idx)
{
  abox *b = luaL_checkudata(L, idx, ARRAY);
  if (!b->a) luaL_argerror(L, idx, "the spy.array is closed");
  return b->a;
}

static int pushbox(lua_State *L)
{
  *newslot(L) = lua_touserdata(L, 1);
  return 1;
}

void spy_bind_pusharray(lua_State *L, spy_array *a)
{
  if (!a) nomem(L);
  lua_pushcfunction(L, pushbox);
  lua_pushlightuserdata(L, a);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    spy_array_free(a);
    lua_error(L);
  }
}

/* ---- Lua values <-> elements ------------------------------------------- */

static void pushcomplex(lua_State *L, double complex v)
{
  lua_createtable(L, 0, 2);
  lua_pushnumber(L, creal(v));
  lua_setfield(L, -2, "re");
  lua_pushnumber(L, cimag(v));
  lua_setfield(L, -2, "im");
  luaL_setmetatable(L, COMPLEX);
}

static void pushvalue(lua_State *L, const spy_array *a, const void *p)
{
  if (a->dtype == SPY_DT_I64)
    lua_pushinteger(L, *(const int64_t *)p);
  else if (spy_dtype_is_complex(a->dtype))
    pushcomplex(L, spy_dtype_load(p, a->dtype));
  else
    lua_pushnumber(L, creal(spy_dtype_load(p, a->dtype)));
}

/* A complex value is a table with a field re (spy.complex or plain). */
static bool iscomplex(lua_State *L, int idx)
{
  if (!lua_istable(L, idx)) return false;
  idx = lua_absindex(L, idx);
  lua_pushliteral(L, "re");
  int t = lua_rawget(L, idx);
  lua_pop(L, 1);
  return t != LUA_TNIL;
}

static bool getcomplex(lua_State *L, int idx, double complex *v)
{
  idx = lua_absindex(L, idx);
  lua_pushliteral(L, "re");
  lua_rawget(L, idx);
  lua_pushliteral(L, "im");
  lua_rawget(L, idx);
  bool ok = lua_type(L, -2) == LUA_TNUMBER && lua_type(L, -1) == LUA_TNUMBER;
  if (ok) *v = CMPLX(lua_tonumber(L, -2), lua_tonumber(L, -1));
  lua_pop(L, 2);
  return ok;
}

static spy_dtype complexof(spy_dtype t)
{
  return t == SPY_DT_F32 ? SPY_DT_C64 : t == SPY_DT_C64 ? SPY_DT_C64 : SPY_DT_C128;
}

/* ---- nested tables -> array -------------------------------------------- */

typedef struct fill {
  abox *box;   /* owns the array being filled */
  size_t flat; /* next element, C order */
  bool forced; /* dtype given explicitly: no promotion to complex */
  int arg;     /* argument number for messages */
  char path[8 * 24];
} fill;

static int probe(lua_State *L, int idx, size_t *shape, int arg)
{
  int nd = 0;
  lua_pushvalue(L, idx);
  while (lua_istable(L, -1) && !iscomplex(L, -1)) {
    if (nd == SPY_MAXDIM)
      luaL_argerror(L, arg, "tables nested more than 8 deep (allowed: at most 8 dimensions)");
    size_t n = lua_rawlen(L, -1);
    shape[nd++] = n;
    if (!n) break;
    lua_rawgeti(L, -1, 1);
    lua_remove(L, -2);
  }
  lua_pop(L, 1);
  return nd;
}

static const char *where(const fill *f)
{
  return f->path[0] ? f->path : "(the value)";
}

static void leaf(lua_State *L, int idx, fill *f)
{
  spy_array *a = f->box->a;
  double complex v;
  if (lua_type(L, idx) == LUA_TNUMBER) {
    void *p = at(a, (ptrdiff_t)f->flat++);
    if (a->dtype != SPY_DT_I64) {
      spy_dtype_store(p, a->dtype, lua_tonumber(L, idx));
    } else if (lua_isinteger(L, idx)) {
      *(int64_t *)p = lua_tointeger(L, idx);
    } else {
      double x = lua_tonumber(L, idx);
      if (!(x >= -0x1p63 && x < 0x1p63 && x == trunc(x)))
        luaL_argerror(L, f->arg,
                      lua_pushfstring(L,
                                      "element %s = %f is not an integer (dtype "
                                      "int64 holds integers)",
                                      where(f), x));
      *(int64_t *)p = (int64_t)x;
    }
    return;
  }
  if (!iscomplex(L, idx))
    luaL_argerror(L, f->arg,
                  lua_pushfstring(L,
                                  "element %s is a %s (allowed: numbers and "
                                  "complex values {re=, im=})",
                                  where(f), luaL_typename(L, idx)));
  if (!getcomplex(L, idx, &v))
    luaL_argerror(L, f->arg,
                  lua_pushfstring(L,
                                  "element %s: a complex value needs numbers re "
                                  "and im",
                                  where(f)));
  if (!spy_dtype_is_complex(a->dtype)) {
    if (f->forced)
      luaL_argerror(L, f->arg,
                    lua_pushfstring(L,
                                    "element %s is complex: a %s array cannot hold "
                                    "it (use dtype 'complex128')",
                                    where(f), spy_dtype_name(a->dtype)));
    spy_array *c = spy_array_convert(a, complexof(a->dtype));
    if (!c) nomem(L);
    spy_array_free(a);
    f->box->a = a = c;
  }
  spy_dtype_store(at(a, (ptrdiff_t)f->flat++), a->dtype, v);
}

static void walk(lua_State *L, int idx, int d, int nd, const size_t *shape, fill *f)
{
  if (d == nd) {
    leaf(L, idx, f);
    return;
  }
  bool sub = lua_istable(L, idx) && !iscomplex(L, idx);
  size_t n = sub ? lua_rawlen(L, idx) : 0;
  if (!sub || n != shape[d]) {
    char what[64];
    if (sub)
      snprintf(what, sizeof what, "a table of %zu element%s", n, n == 1 ? "" : "s");
    else
      snprintf(what, sizeof what, "%s %s", iscomplex(L, idx) ? "a complex" : "a",
               iscomplex(L, idx) ? "value" : luaL_typename(L, idx));
    luaL_argerror(L, f->arg,
                  lua_pushfstring(L,
                                  "ragged nested table: %s is %s where a table of "
                                  "%d elements was expected (arrays are rectangular)",
                                  where(f), what, (int)shape[d]));
  }
  if (n == 0) {
    lua_pushnil(L);
    if (lua_next(L, idx))
      luaL_argerror(L, f->arg, "table has keys but no elements 1..n (not an array)");
  }
  size_t plen = strlen(f->path);
  luaL_checkstack(L, 4, "tables nested too deep");
  for (size_t i = 0; i < n; i++) {
    snprintf(f->path + plen, sizeof f->path - plen, "[%zu]", i + 1);
    lua_rawgeti(L, idx, (lua_Integer)i + 1);
    walk(L, lua_gettop(L), d + 1, nd, shape, f);
    lua_pop(L, 1);
  }
  f->path[plen] = 0;
}

/* Pushes a box holding the value at idx as an array of dtype t. */
static spy_array **convert(lua_State *L, int idx, spy_dtype t, bool forced, int arg)
{
  idx = lua_absindex(L, idx);
  int ty = lua_type(L, idx);
  if (ty != LUA_TNUMBER && ty != LUA_TTABLE)
    luaL_argerror(L, arg,
                  lua_pushfstring(L,
                                  "spy.array, number or table of numbers expected, "
                                  "got %s",
                                  luaL_typename(L, idx)));
  size_t shape[SPY_MAXDIM];
  int nd = probe(L, idx, shape, arg);
  spy_array **slot = newslot(L);
  if (!(*slot = spy_array_new(t, nd, shape))) nomem(L);
  fill f = {(abox *)lua_touserdata(L, -1), 0, forced, arg, {0}};
  walk(L, idx, 0, nd, shape, &f);
  return slot;
}

spy_array *spy_bind_toarray(lua_State *L, int idx, spy_dtype dflt)
{
  idx = lua_absindex(L, idx);
  if (spy_bind_isarray(L, idx)) {
    spy_array *r = spy_array_share(spy_bind_checkarray(L, idx));
    if (!r) nomem(L);
    return r;
  }
  spy_array **slot = convert(L, idx, dflt, false, idx);
  spy_array *r = *slot;
  *slot = NULL;
  lua_pop(L, 1);
  return r;
}

/* An operand of arithmetic or assignment: arrays are borrowed; anything
** else becomes a boxed array left on the stack (Lua integers int64, other
** numbers float64, as NumPy treats Python scalars). */
static spy_array *operand(lua_State *L, int idx, spy_dtype dflt)
{
  if (spy_bind_isarray(L, idx)) return spy_bind_checkarray(L, idx);
  if (lua_type(L, idx) == LUA_TNUMBER)
    dflt = lua_isinteger(L, idx) ? SPY_DT_I64 : SPY_DT_F64;
  else if (lua_type(L, idx) != LUA_TTABLE)
    luaL_error(L,
               "attempt to perform arithmetic on a %s value (spy.array works with arrays, "
               "numbers, complex {re=, im=} and tables of numbers)",
               luaL_typename(L, idx));
  return *convert(L, idx, dflt, false, idx);
}

/* ---- dtype and index arguments ----------------------------------------- */

static spy_dtype checkdtype(lua_State *L, int arg)
{
  const char *s = luaL_checkstring(L, arg);
  spy_dtype t;
  if (spy_dtype_parse(s, &t) != SPY_OK)
    luaL_argerror(L, arg,
                  lua_pushfstring(L, "Invalid value of `dtype`: '%s'; expected " DTYPES, s));
  return t;
}

static int raise(lua_State *L, const spy_err *err)
{
  return spy_bind_raise(L, err);
}

static int argraise(lua_State *L, int arg, const spy_err *err)
{
  return luaL_argerror(L, arg, err->msg);
}

/* Integers at first..last as int64 indices; returns their count. */
static int indices(lua_State *L, int first, int last, int64_t *idx)
{
  int n = last - first + 1;
  if (n > SPY_MAXDIM) luaL_argerror(L, first + SPY_MAXDIM, "too many indices (at most 8)");
  for (int i = 0; i < n; i++)
    idx[i] = luaL_checkinteger(L, first + i);
  return n;
}

/* ---- fields and elements ----------------------------------------------- */

static int shape_tostring(lua_State *L)
{
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addchar(&b, '{');
  lua_Integer n = luaL_len(L, 1);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_geti(L, 1, i);
    lua_pushfstring(L, i > 1 ? ", %I" : "%I", lua_tointeger(L, -1));
    lua_remove(L, -2);
    luaL_addvalue(&b);
  }
  luaL_addchar(&b, '}');
  luaL_pushresult(&b);
  return 1;
}

void spy_bind_pushshape(lua_State *L, int ndim, const size_t *shape)
{
  lua_createtable(L, ndim, 0);
  for (int d = 0; d < ndim; d++) {
    lua_pushinteger(L, (lua_Integer)shape[d]);
    lua_rawseti(L, -2, d + 1);
  }
  if (luaL_newmetatable(L, "spy.shape")) {
    lua_pushcfunction(L, shape_tostring);
    lua_setfield(L, -2, "__tostring");
  }
  lua_setmetatable(L, -2);
}

static void pushshape(lua_State *L, const spy_array *a)
{
  spy_bind_pushshape(L, a->ndim, a->shape);
}

static int item(lua_State *L, spy_array *a, lua_Integer i)
{
  spy_err err = {0};
  if (a->ndim == 0) return luaL_error(L, "a 0-d array has no items (a:get() gives its value)");
  if (i == (lua_Integer)a->shape[0] + 1) { /* the border of a sequence: ipairs stops here */
    lua_pushnil(L);
    return 1;
  }
  size_t pos;
  if (spy_index_resolve(i, a->shape[0], 1, &pos, &err)) return raise(L, &err);
  if (a->ndim == 1) {
    pushvalue(L, a, at(a, (ptrdiff_t)a->offset + (ptrdiff_t)pos * a->strides[0]));
    return 1;
  }
  spy_slice s = {SPY_SLICE_INDEX, i, 0, 0};
  spy_array **slot = newslot(L);
  if (spy_array_slice(a, &s, 1, slot, &err)) return raise(L, &err);
  return 1;
}

static int m_index(lua_State *L)
{
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1; /* a method */
  spy_array *a = spy_bind_checkarray(L, 1);
  int isint;
  lua_Integer i = lua_tointegerx(L, 2, &isint);
  if (isint) return item(L, a, i);
  if (lua_type(L, 2) == LUA_TNUMBER)
    return luaL_error(L, "array index %f is not an integer", lua_tonumber(L, 2));
  if (lua_type(L, 2) != LUA_TSTRING)
    return luaL_error(L,
                      "cannot index a spy.array with a %s (use a[i], a:get(i, j, ...) or "
                      "a:slice{...})",
                      luaL_typename(L, 2));
  const char *k = lua_tostring(L, 2);
  if (strcmp(k, "shape") == 0)
    pushshape(L, a);
  else if (strcmp(k, "dtype") == 0)
    lua_pushstring(L, spy_dtype_name(a->dtype));
  else if (strcmp(k, "ndim") == 0)
    lua_pushinteger(L, a->ndim);
  else if (strcmp(k, "size") == 0)
    lua_pushinteger(L, (lua_Integer)spy_array_numel(a));
  else
    lua_pushnil(L);
  return 1;
}

static void assign(lua_State *L, spy_array *dst, int vidx)
{
  spy_err err = {0};
  if (spy_array_assign(dst, operand(L, vidx, dst->dtype), &err)) raise(L, &err);
}

static int m_newindex(lua_State *L)
{
  spy_array *a = spy_bind_checkarray(L, 1);
  spy_err err = {0};
  int isint;
  lua_Integer i = lua_tointegerx(L, 2, &isint);
  if (!isint)
    return luaL_error(L,
                      "cannot set %s of a spy.array (allowed: items by integer index, "
                      "a[i] = v, and elements, a:set(i, j, ..., v))",
                      lua_pushfstring(L, lua_type(L, 2) == LUA_TSTRING ? "field '%s'" : "key %s",
                                      luaL_tolstring(L, 2, NULL)));
  if (a->ndim == 0) return luaL_error(L, "a 0-d array has no items (a:set(v) sets its value)");
  spy_slice s = {SPY_SLICE_INDEX, i, 0, 0};
  spy_array **view = newslot(L);
  if (spy_array_slice(a, &s, 1, view, &err)) return raise(L, &err);
  assign(L, *view, 3);
  return 0;
}

static int m_get(lua_State *L)
{
  spy_array *a = spy_bind_checkarray(L, 1);
  int64_t idx[SPY_MAXDIM];
  size_t pos[SPY_MAXDIM];
  spy_err err = {0};
  int n = indices(L, 2, lua_gettop(L), idx);
  if (spy_array_locate(a, idx, n, pos, &err)) return argraise(L, 2, &err);
  pushvalue(L, a, spy_array_at(a, pos));
  return 1;
}

static int m_set(lua_State *L)
{
  spy_array *a = spy_bind_checkarray(L, 1);
  int64_t idx[SPY_MAXDIM];
  size_t pos[SPY_MAXDIM];
  spy_slice s[SPY_MAXDIM];
  spy_err err = {0};
  int top = lua_gettop(L);
  luaL_argcheck(L, top >= 2, 2, "a value expected (a:set(i, j, ..., v))");
  int n = indices(L, 2, top - 1, idx);
  if (spy_array_locate(a, idx, n, pos, &err)) return argraise(L, 2, &err);
  for (int d = 0; d < n; d++)
    s[d] = (spy_slice){SPY_SLICE_INDEX, idx[d], 0, 0};
  spy_array **view = newslot(L);
  if (spy_array_slice(a, s, n, view, &err)) return raise(L, &err);
  assign(L, *view, top);
  return 0;
}

static void slicespec(lua_State *L, int t, int k, spy_slice *s)
{
  int ty = lua_rawgeti(L, t, k), isint;
  lua_Integer i = lua_tointegerx(L, -1, &isint);
  if (isint) {
    *s = (spy_slice){SPY_SLICE_INDEX, i, 0, 0};
  } else if (ty == LUA_TSTRING && strcmp(lua_tostring(L, -1), ":") == 0) {
    *s = (spy_slice){SPY_SLICE_ALL, 0, 0, 1};
  } else if (ty == LUA_TTABLE && lua_rawlen(L, -1) >= 2 && lua_rawlen(L, -1) <= 3) {
    lua_Integer v[3] = {0, 0, 1};
    for (int j = 0; j < (int)lua_rawlen(L, -1); j++) {
      lua_rawgeti(L, -1, j + 1);
      v[j] = lua_tointegerx(L, -1, &isint);
      lua_pop(L, 1);
      if (!isint)
        luaL_argerror(L, 2, lua_pushfstring(L, "entry %d: range entries must be integers", k));
    }
    *s = (spy_slice){SPY_SLICE_RANGE, v[0], v[1], v[2]};
  } else {
    luaL_argerror(L, 2,
                  lua_pushfstring(L,
                                  "entry %d: expected an index, {lo, hi}, {lo, hi, "
                                  "step} or ':', got %s",
                                  k, luaL_typename(L, -1)));
  }
  lua_pop(L, 1);
}

static int m_slice(lua_State *L)
{
  spy_array *a = spy_bind_checkarray(L, 1);
  spy_slice s[SPY_MAXDIM];
  spy_err err = {0};
  luaL_checktype(L, 2, LUA_TTABLE);
  int n = (int)lua_rawlen(L, 2);
  if (n > a->ndim)
    return luaL_argerror(L, 2,
                         lua_pushfstring(L,
                                         "%d entries for a %d-d array (at most one per "
                                         "axis)",
                                         n, a->ndim));
  for (int k = 0; k < n; k++)
    slicespec(L, 2, k + 1, &s[k]);
  spy_array **slot = newslot(L);
  if (spy_array_slice(a, s, n, slot, &err)) return argraise(L, 2, &err);
  return 1;
}

static void pushtable(lua_State *L, const spy_array *a, int d, ptrdiff_t off)
{
  if (d == a->ndim) {
    pushvalue(L, a, at(a, off));
    return;
  }
  luaL_checkstack(L, 4, "array too deep");
  size_t n = a->shape[d];
  lua_createtable(L, n < 1u << 24 ? (int)n : 1 << 24, 0);
  for (size_t i = 0; i < n; i++) {
    pushtable(L, a, d + 1, off + (ptrdiff_t)i * a->strides[d]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

static int m_totable(lua_State *L)
{
  spy_array *a = spy_bind_checkarray(L, 1);
  pushtable(L, a, 0, (ptrdiff_t)a->offset);
  return 1;
}

/* ---- copies and conversions -------------------------------------------- */

static int m_copy(lua_State *L)
{
  spy_array *a = spy_bind_checkarray(L, 1);
  spy_array **slot = newslot(L);
  if (!(*slot = spy_array_convert(a, a->dtype))) return nomem(L);
  return 1;
}

static int m_astype(lua_State *L)
{
  spy_array *a = spy_bind_checkarray(L, 1);
  spy_dtype t = checkdtype(L, 2);
  spy_err err = {0};
  spy_array **slot = newslot(L);
  if (spy_array_astype(a, t, slot, &err)) return raise(L, &err);
  return 1;
}

static int m_reshape(lua_State *L)
{
  spy_array *a = spy_bind_checkarray(L, 1);
  int64_t shape[SPY_MAXDIM];
  spy_err err = {0};
  int n;
  if (lua_istable(L, 2)) {
    n = (int)lua_rawlen(L, 2);
    luaL_argcheck(L, n <= SPY_MAXDIM, 2, "at most 8 dimensions");
    for (int d = 0; d < n; d++) {
      int isint;
      lua_rawgeti(L, 2, d + 1);
      shape[d] = lua_tointegerx(L, -1, &isint);
      lua_pop(L, 1);
      luaL_argcheck(L, isint, 2, "lengths must be integers");
    }
  } else {
    n = indices(L, 2, lua_gettop(L), shape);
  }
  spy_array **slot = newslot(L);
  if (spy_array_reshape(a, n, shape, slot, &err)) return argraise(L, 2, &err);
  return 1;
}

/* ---- arithmetic and reductions ------------------------------------------ */

static int arith(lua_State *L, spy_binop op)
{
  spy_array *x = operand(L, 1, SPY_DT_F64), *y = operand(L, 2, SPY_DT_F64);
  spy_err err = {0};
  spy_array **slot = newslot(L);
  if (spy_array_binop(op, x, y, slot, &err)) return raise(L, &err);
  return 1;
}

static int m_add(lua_State *L)
{
  return arith(L, SPY_BIN_ADD);
}
static int m_sub(lua_State *L)
{
  return arith(L, SPY_BIN_SUB);
}
static int m_mul(lua_State *L)
{
  return arith(L, SPY_BIN_MUL);
}
static int m_div(lua_State *L)
{
  return arith(L, SPY_BIN_DIV);
}
static int m_pow(lua_State *L)
{
  return arith(L, SPY_BIN_POW);
}

static int unary(lua_State *L, spy_unop op)
{
  spy_array *a = spy_bind_checkarray(L, 1);
  spy_err err = {0};
  spy_array **slot = newslot(L);
  if (spy_array_unary(op, a, slot, &err)) return raise(L, &err);
  return 1;
}

#define UNARY(name, op)                                                                            \
  static int m_##name(lua_State *L)                                                                \
  {                                                                                                \
    return unary(L, op);                                                                           \
  }
UNARY(unm, SPY_UN_NEG)
UNARY(abs, SPY_UN_ABS)
UNARY(real, SPY_UN_REAL)
UNARY(imag, SPY_UN_IMAG)
UNARY(conj, SPY_UN_CONJ)
UNARY(angle, SPY_UN_ANGLE)
UNARY(sqrt, SPY_UN_SQRT)
UNARY(exp, SPY_UN_EXP)
UNARY(log, SPY_UN_LOG)
UNARY(log10, SPY_UN_LOG10)

/* With an axis: an array.  Without: the value, and for argmin/argmax the
** 1-based index of every axis (i, j, ... as a:get takes them). */
static int reduce(lua_State *L, spy_reduce_op op)
{
  spy_array *a = spy_bind_checkarray(L, 1);
  lua_Integer ax = luaL_optinteger(L, 2, 0);
  int axis = ax > INT_MAX ? INT_MAX : ax < -INT_MAX ? -INT_MAX : (int)ax;
  spy_err err = {0};
  if (axis == 0 && !lua_isnoneornil(L, 2))
    return luaL_argerror(L, 2,
                         "axis 0 does not exist: axes are numbered from 1 (leave the axis "
                         "out to reduce all elements)");
  spy_array **slot = newslot(L);
  if (spy_array_reduce(a, op, axis, slot, &err))
    return err.code == SPY_EINVAL && axis ? argraise(L, 2, &err) : raise(L, &err);
  spy_array *r = *slot;
  if (axis) return 1;
  if ((op != SPY_RED_ARGMIN && op != SPY_RED_ARGMAX) || a->ndim == 0) {
    pushvalue(L, r, at(r, (ptrdiff_t)r->offset));
    return 1;
  }
  size_t flat = (size_t) * (int64_t *)r->buf->data - 1, pos[SPY_MAXDIM];
  for (int d = a->ndim - 1; d >= 0; d--) {
    pos[d] = flat % a->shape[d] + 1;
    flat /= a->shape[d];
  }
  luaL_checkstack(L, a->ndim, NULL);
  for (int d = 0; d < a->ndim; d++)
    lua_pushinteger(L, (lua_Integer)pos[d]);
  return a->ndim;
}

#define REDUCE(name, op)                                                                           \
  static int m_##name(lua_State *L)                                                                \
  {                                                                                                \
    return reduce(L, op);                                                                          \
  }
REDUCE(sum, SPY_RED_SUM)
REDUCE(mean, SPY_RED_MEAN)
REDUCE(std, SPY_RED_STD)
REDUCE(min, SPY_RED_MIN)
REDUCE(max, SPY_RED_MAX)
REDUCE(argmin, SPY_RED_ARGMIN)
REDUCE(argmax, SPY_RED_ARGMAX)
REDUCE(nansum, SPY_RED_NANSUM)
REDUCE(nanmean, SPY_RED_NANMEAN)
REDUCE(nanstd, SPY_RED_NANSTD)
REDUCE(nanmin, SPY_RED_NANMIN)
REDUCE(nanmax, SPY_RED_NANMAX)

/* a:transpose() reverses the axes; a:transpose{3, 1, 2} permutes them
** (1-based: axis k of the result is axis perm[k] of a).  A view. */
static int m_transpose(lua_State *L)
{
  spy_array *a = spy_bind_checkarray(L, 1);
  int perm[SPY_MAXDIM], *pp = NULL;
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    if (luaL_len(L, 2) != a->ndim)
      return luaL_argerror(L, 2, lua_pushfstring(L, "give all %d axes, each once (1-based)", a->ndim));
    for (int k = 0; k < a->ndim; k++) {
      lua_geti(L, 2, k + 1);
      lua_Integer v = lua_tointeger(L, -1);
      lua_pop(L, 1);
      perm[k] = v >= 1 && v <= a->ndim ? (int)v - 1 : -1;
    }
    pp = perm;
  }
  spy_err err = {0};
  spy_array **slot = newslot(L);
  if (spy_array_transpose(a, pp, slot, &err)) return argraise(L, 2, &err);
  return 1;
}

/* a:squeeze([axis]): a view without length-1 axes. */
static int m_squeeze(lua_State *L)
{
  spy_array *a = spy_bind_checkarray(L, 1);
  lua_Integer ax = luaL_optinteger(L, 2, 0);
  if (ax < 0) ax += a->ndim + 1;
  spy_err err = {0};
  spy_array **slot = newslot(L);
  if (spy_array_squeeze(a, ax < 0 || ax > SPY_MAXDIM ? -1 : (int)ax, slot, &err))
    return argraise(L, 2, &err);
  return 1;
}

/* a:nearest(v): the 1-based index of the element of a 1-d real array
** closest to v, and that element (spec.freq:nearest(40)). */
static int m_nearest(lua_State *L)
{
  spy_array *a = spy_bind_checkarray(L, 1);
  double v = luaL_checknumber(L, 2);
  if (a->ndim != 1 || spy_dtype_is_complex(a->dtype))
    return luaL_error(L, "nearest works on 1-d real arrays (an axis such as spec.freq or "
                         "data.time[1]); this one is %d-d %s",
                      a->ndim, spy_dtype_name(a->dtype));
  if (a->shape[0] == 0) return luaL_error(L, "nearest of an empty array");
  if (isnan(v)) return luaL_argerror(L, 2, "nan has no nearest element");
  size_t best = SIZE_MAX;
  double bd = INFINITY, bx = NAN;
  for (size_t i = 0; i < a->shape[0]; i++) {
    double x = creal(spy_array_getc(a, &i)), d = fabs(x - v);
    if (!isnan(d) && (best == SIZE_MAX || d < bd)) best = i, bd = d, bx = x;
  }
  if (best == SIZE_MAX) return luaL_error(L, "nearest: every element is nan");
  lua_pushinteger(L, (lua_Integer)best + 1);
  lua_pushnumber(L, bx);
  return 2;
}

/* ---- metamethods -------------------------------------------------------- */

static int m_len(lua_State *L)
{
  spy_array *a = spy_bind_checkarray(L, 1);
  if (a->ndim == 0) return luaL_error(L, "a 0-d array has no length");
  lua_pushinteger(L, (lua_Integer)a->shape[0]);
  return 1;
}

static int m_tostring(lua_State *L)
{
  abox *b = luaL_checkudata(L, 1, ARRAY);
  if (!b->a) {
    lua_pushliteral(L, "spy.array (closed)");
    return 1;
  }
  char *s = spy_array_format(b->a, &spy_printopts_default);
  if (!s) return nomem(L);
  lua_pushstring(L, s);
  free(s);
  return 1;
}

static int m_gc(lua_State *L)
{
  abox *b = luaL_testudata(L, 1, ARRAY);
  if (b) {
    spy_array_free(b->a);
    b->a = NULL;
  }
  return 0;
}

static const luaL_Reg metamethods[] = {{"__newindex", m_newindex},
                                       {"__len", m_len},
                                       {"__tostring", m_tostring},
                                       {"__add", m_add},
                                       {"__sub", m_sub},
                                       {"__mul", m_mul},
                                       {"__div", m_div},
                                       {"__pow", m_pow},
                                       {"__unm", m_unm},
                                       {"__gc", m_gc},
                                       {"__close", m_gc},
                                       {"__tojson", m_totable},
                                       {NULL, NULL}};

/* ---- help texts ---------------------------------------------------------- */

static const spy_kwarg kw_none[] = {{NULL, 0, NULL, NULL, NULL}};

#define METHOD(fn, sig, sum, doc, ex)                                                              \
  {                                                                                                \
    m_##fn,                                                                                        \
    {                                                                                              \
      "array:" #fn, sig, sum, doc, ex, kw_none                                                     \
    }                                                                                              \
  }

#define AXISDOC                                                                                    \
  "Without an axis, over all elements (a number); with axis k (1-based, negative "                 \
  "counts from the last), along that axis (an array without it)."

static const struct {
  lua_CFunction f;
  spy_funcspec spec;
} methods[] = {
    {m_get,
     {"array:get", "a:get(i, j, ...)",
      "The element at one index per axis (1-based, negative "
      "from the end).",
      "Complex elements come as {re=, im=} tables.", "a:get(1, -1)", kw_none}},
    {m_set,
     {"array:set", "a:set(i, j, ..., v)", "Set the element at one index per axis.", NULL,
      "a:set(2, 3, 0.5)", kw_none}},
    {m_slice,
     {"array:slice", "a:slice{s1, s2, ...}",
      "A view: per axis an index (drops the axis), "
      "{lo, hi} or {lo, hi, step} (inclusive, 1-based), or ':' (all).",
      "Missing entries take their axes whole; negative indices count from the end. The "
      "view shares memory with a: writes to one show in the other.",
      "a:slice{1, {10, 20}, ':'}", kw_none}},
    {m_totable,
     {"array:totable", "a:totable()", "The elements as nested Lua tables.", NULL, NULL, kw_none}},
    {m_copy,
     {"array:copy", "a:copy()", "A contiguous copy that shares nothing with a.", NULL, NULL,
      kw_none}},
    {m_astype,
     {"array:astype", "a:astype(dtype)",
      "A copy converted to 'float32', 'float64', "
      "'complex64', 'complex128' or 'int64'.",
      "Complex to real is refused (take real() "
      "or abs()); floats to int64 truncate toward zero.",
      "a:astype('float32')", kw_none}},
    {m_reshape,
     {"array:reshape", "a:reshape{d1, d2, ...}",
      "The same elements in another shape "
      "(one length may be -1: inferred).",
      "A view when a is contiguous, else a copy.", "a:reshape{-1, 4}", kw_none}},
    METHOD(sum, "a:sum([axis])", "Sum of the elements.", AXISDOC, "a:sum(2)"),
    METHOD(mean, "a:mean([axis])", "Mean of the elements.", AXISDOC, "a:mean()"),
    METHOD(std, "a:std([axis])", "Population standard deviation (ddof 0, as NumPy).", AXISDOC,
           "a:std(1)"),
    METHOD(min, "a:min([axis])", "Smallest element (nan if any is nan; not for complex).", AXISDOC,
           "(a - b):abs():max()"),
    METHOD(max, "a:max([axis])", "Largest element (nan if any is nan; not for complex).", AXISDOC,
           "(a - b):abs():max()"),
    METHOD(argmin, "a:argmin([axis])", "1-based position of the smallest element.",
           "Without an axis: one index per axis (i, j, ...); with an axis: an int64 array.",
           "local i, j = a:argmin()"),
    METHOD(nansum, "a:nansum([axis])", "Sum of the elements that are not nan.", AXISDOC,
           "a:nansum(1)"),
    METHOD(nanmean, "a:nanmean([axis])", "Mean of the elements that are not nan.", AXISDOC,
           "a:nanmean(1)"),
    METHOD(nanstd, "a:nanstd([axis])", "Standard deviation (ddof 0) leaving nan out.", AXISDOC,
           "a:nanstd()"),
    METHOD(nanmin, "a:nanmin([axis])", "Smallest element that is not nan.", AXISDOC,
           "a:nanmin()"),
    METHOD(nanmax, "a:nanmax([axis])", "Largest element that is not nan.", AXISDOC,
           "a:nanmax()"),
    METHOD(transpose, "a:transpose([{axes}])",
           "A view with the axes reversed, or permuted as given (1-based).",
           "a:transpose() is NumPy's a.T; a:transpose{2, 1, 3} swaps the first two axes.",
           "a:transpose()"),
    METHOD(squeeze, "a:squeeze([axis])", "A view without the axes of length 1.",
           "With an axis, only that one (it must have length 1).", "spec.trials[1]:squeeze()"),
    METHOD(nearest, "a:nearest(v)",
           "1-based index of the element nearest v (1-d real arrays), and that element.", NULL,
           "local f = spec.freq:nearest(40)"),
    METHOD(argmax, "a:argmax([axis])", "1-based position of the largest element.",
           "Without an axis: one index per axis (i, j, ...); with an axis: an int64 array.",
           "local i, j = a:argmax()"),
    METHOD(abs, "a:abs()", "Absolute value (magnitude of complex values).", NULL, NULL),
    METHOD(real, "a:real()", "Real part.", NULL, NULL),
    METHOD(imag, "a:imag()", "Imaginary part (zeros for real arrays).", NULL, NULL),
    METHOD(conj, "a:conj()", "Complex conjugate.", NULL, NULL),
    METHOD(angle, "a:angle()", "Phase angle in radians, in (-pi, pi].", NULL, NULL),
    METHOD(sqrt, "a:sqrt()", "Square root (nan for negative reals, as NumPy).", NULL, NULL),
    METHOD(exp, "a:exp()", "Exponential.", NULL, NULL),
    METHOD(log, "a:log()", "Natural logarithm.", NULL, NULL),
    METHOD(log10, "a:log10()", "Base-10 logarithm.", NULL, "10 * p:log10()"),
};

static void pushmeta(lua_State *L)
{
  if (!luaL_newmetatable(L, ARRAY)) return;
  int mt = lua_gettop(L);
  lua_createtable(L, 0, (int)(sizeof methods / sizeof methods[0]));
  for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
    spy_bind_func(L, mt + 1, methods[i].spec.name + strlen("array:"), methods[i].f,
                  &methods[i].spec);
  lua_pushvalue(L, -1);
  lua_setfield(L, mt, "__methods"); /* for completion and help */
  static const char *const fields[] = {"shape", "dtype", "ndim", "size"};
  lua_createtable(L, 4, 0);
  for (int i = 0; i < 4; i++) {
    lua_pushstring(L, fields[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, mt, "__fields");
  lua_pushcclosure(L, m_index, 1);
  lua_setfield(L, mt, "__index");
  luaL_setfuncs(L, metamethods, 0);
}

/* ---- spy.complex ---------------------------------------------------------- */

static int c_tostring(lua_State *L)
{
  double complex v;
  char buf[128];
  if (!getcomplex(L, 1, &v)) return luaL_error(L, "malformed complex value");
  spy_format_complex(v, buf, sizeof buf);
  lua_pushstring(L, buf);
  return 1;
}

static int c_eq(lua_State *L)
{
  double complex x, y;
  lua_pushboolean(L, getcomplex(L, 1, &x) && getcomplex(L, 2, &y) && x == y);
  return 1;
}

static int l_complex(lua_State *L)
{
  pushcomplex(L, CMPLX(luaL_checknumber(L, 1), luaL_optnumber(L, 2, 0)));
  return 1;
}

/* ---- spy.array, spy.zeros ---------------------------------------------- */

static int l_array(lua_State *L)
{
  bool forced = !lua_isnoneornil(L, 2);
  spy_dtype t = forced ? checkdtype(L, 2) : SPY_DT_F64;
  if (spy_bind_isarray(L, 1)) {
    spy_array *a = spy_bind_checkarray(L, 1);
    spy_err err = {0};
    spy_array **slot = newslot(L);
    if (spy_array_astype(a, forced ? t : a->dtype, slot, &err)) return raise(L, &err);
    return 1;
  }
  convert(L, 1, t, forced, 1);
  return 1;
}

static const spy_kwarg kw_zeros[] = {{"dtype", SPY_KT_STR, "\"float64\"",
                                      "float32|float64|complex64|complex128|int64", "element type"},
                                     {NULL, 0, NULL, NULL, NULL}};

static const spy_funcspec spec_zeros = {
    "zeros", "spy.zeros{d1, d2, ..., dtype='float64'}", "A new array of zeros of the given shape.",
    NULL,    "spy.zeros{3, 4, dtype='complex64'}",      kw_zeros};

static int l_zeros(lua_State *L)
{
  size_t shape[SPY_MAXDIM];
  luaL_checktype(L, 1, LUA_TTABLE);
  int nd = (int)lua_rawlen(L, 1);
  luaL_argcheck(L, nd <= SPY_MAXDIM, 1, "at most 8 dimensions");
  for (int d = 0; d < nd; d++) {
    int isint;
    lua_rawgeti(L, 1, d + 1);
    lua_Integer n = lua_tointegerx(L, -1, &isint);
    if (!isint || n < 0)
      luaL_argerror(L, 1,
                    lua_pushfstring(L, "length %d must be an integer >= 0, got %s", d + 1,
                                    luaL_tolstring(L, -1, NULL)));
    shape[d] = (size_t)n;
    lua_pop(L, 1);
  }
  lua_newtable(L); /* the keyword part */
  int kw = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, 1)) {
    if (lua_type(L, -2) == LUA_TSTRING) {
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_rawset(L, kw);
    } else {
      lua_pop(L, 1);
    }
  }
  cJSON *cfg = spy_bind_kwargs(L, kw, &spec_zeros);
  spy_dtype t = SPY_DT_F64;
  spy_dtype_parse(spy_cfg_str(cfg, "dtype", "float64"), &t);
  cJSON_Delete(cfg);
  spy_array **slot = newslot(L);
  if (!(*slot = spy_array_new(t, nd, shape))) return nomem(L);
  return 1;
}

/* ---- spy.h5read, spy.h5write --------------------------------------------- */

static int h5data_gc(lua_State *L)
{
  spy_h5data *d = luaL_testudata(L, 1, H5DATA);
  if (d) spy_h5data_clear(d);
  return 0;
}

static void pushstrings(lua_State *L, const spy_h5data *d, int axis, size_t *k)
{
  if (axis == d->ndim) {
    lua_pushstring(L, d->strings[(*k)++]);
    return;
  }
  luaL_checkstack(L, 4, NULL);
  lua_createtable(L, d->shape[axis] < 1u << 24 ? (int)d->shape[axis] : 1 << 24, 0);
  for (size_t i = 0; i < d->shape[axis]; i++) {
    pushstrings(L, d, axis + 1, k);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

static int l_h5read(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1), *name = luaL_checkstring(L, 2);
  spy_err err = {0};
  spy_h5data *d = lua_newuserdatauv(L, sizeof *d, 0);
  memset(d, 0, sizeof *d);
  if (luaL_newmetatable(L, H5DATA)) {
    lua_pushcfunction(L, h5data_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  if (spy_h5read(path, name, d, &err)) return raise(L, &err);
  if (d->array) {
    spy_array **slot = newslot(L);
    *slot = d->array;
    d->array = NULL;
    return 1;
  }
  size_t k = 0;
  pushstrings(L, d, 0, &k);
  return 1;
}

static const spy_kwarg kw_h5write[] = {
    {"overwrite", SPY_KT_BOOL, "false", NULL, "replace an existing dataset of that name"},
    {NULL, 0, NULL, NULL, NULL}};

static const spy_funcspec spec_h5write = {
    "h5write",
    "spy.h5write(path, dataset, array [, {overwrite=false}])",
    "Write an array (or a table of numbers) to a dataset of a plain HDF5 file.",
    "The file is created when missing; intermediate groups are created. Complex values are "
    "stored as the compound {r, i} h5py uses, so h5py, MATLAB and spy.h5read read them back.",
    "spy.h5write('out.h5', 'power', spec_pow, {overwrite=true})",
    kw_h5write};

static int l_h5write(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1), *name = luaL_checkstring(L, 2);
  lua_settop(L, 4);
  spy_array *a =
      spy_bind_isarray(L, 3) ? spy_bind_checkarray(L, 3) : *convert(L, 3, SPY_DT_F64, false, 3);
  cJSON *cfg = spy_bind_kwargs(L, lua_isnoneornil(L, 4) ? 0 : 4, &spec_h5write);
  bool overwrite = spy_cfg_bool(cfg, "overwrite", false);
  cJSON_Delete(cfg);
  spy_err err = {0};
  if (spy_h5write(path, name, a, overwrite, &err)) return raise(L, &err);
  return 0;
}

/* ---- namespace ------------------------------------------------------------ */

static const spy_funcspec spec_array = {
    "array",
    "spy.array(values [, dtype])",
    "A numeric n-d array from nested tables (or a copy of an array).",
    "values: a number, or nested rectangular tables of numbers; complex elements are tables "
    "{re=, im=} (spy.complex(re, im) makes one). dtype: 'float32', 'float64' (default), "
    "'complex64', 'complex128' (default when an element is complex) or 'int64'. Indexing is "
    "1-based: a[i] is a view of a sub-array (the number, for 1-d), a:get(i, j) an element, "
    "a:slice{...} a view. Fields: shape, dtype, ndim, size; #a is the first length. Arithmetic "
    "+ - * / ^ works elementwise with numbers and arrays (shapes broadcast as in NumPy).",
    "local a = spy.array{{1, 2, 3}, {4, 5, 6}}; print(a:mean(2), a[2][3])",
    kw_none};

static const spy_funcspec spec_complex = {"complex",
                                          "spy.complex(re [, im=0])",
                                          "A complex number, as array elements and values use.",
                                          "A table {re=, im=} that prints as 1.5+2j.",
                                          "spy.array{spy.complex(1, 2), 3}",
                                          kw_none};

static const spy_funcspec spec_h5read = {
    "h5read",
    "spy.h5read(path, dataset)",
    "Read one dataset of a plain HDF5 file.",
    "Numbers give a spy.array: float32/float64, integers (as int64), complex compounds {r, i} "
    "(as h5py writes them). Strings give a table of strings.",
    "spy.h5read('tests/data/mtmfft_hann_pow.h5', 'output').shape",
    kw_none};

void spy_open_array(lua_State *L, int spy)
{
  spy = lua_absindex(L, spy);
  pushmeta(L);
  lua_pop(L, 1);
  if (luaL_newmetatable(L, COMPLEX)) {
    lua_pushcfunction(L, c_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushcfunction(L, c_eq);
    lua_setfield(L, -2, "__eq");
  }
  lua_pop(L, 1);
  spy_bind_func(L, spy, "array", l_array, &spec_array);
  spy_bind_func(L, spy, "zeros", l_zeros, &spec_zeros);
  spy_bind_func(L, spy, "complex", l_complex, &spec_complex);
  spy_bind_func(L, spy, "h5read", l_h5read, &spec_h5read);
  spy_bind_func(L, spy, "h5write", l_h5write, &spec_h5write);
}
