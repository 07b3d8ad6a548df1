/*
** spy.save, spy.load, obj:save, spy.cleanup: thin wrappers of src/io.
** This session's temporary files are removed when the Lua state closes
** (a finaliser in the registry, collected last) and, for a process that
** exits without closing it, at exit.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bind/data.h"
#include "io/cleanup.h"
#include "io/container.h"

static const spy_kwarg kw_save[] = {
    {"container", SPY_KT_STR | SPY_KT_NULL, "null", NULL,
     "the .spy folder (created if missing; '.spy' appended)"},
    {"tag", SPY_KT_STR | SPY_KT_NULL, "null", NULL,
     "file name suffix inside the container: <name>_<tag>.<ext>"},
    {"filename", SPY_KT_STR | SPY_KT_NULL, "null", NULL, "a single file outside containers"},
    {"overwrite", SPY_KT_BOOL, "false", NULL, "replace an existing file"},
    {NULL, 0, NULL, NULL, NULL}};

static const spy_funcspec spec_save = {
    "save", "spy.save(data, container [, {tag=, filename=, overwrite=false}])",
    "Save a data object in Syncopy's .spy format (HDF5 + .info JSON).",
    "The container loads in Syncopy with spy.load(path, checksum=True).  Writing goes to "
    "temporary names that are renamed into place, so an existing file is never damaged; "
    "overwriting needs overwrite=true.  Afterwards the object reads from the saved file.",
    "spy.save(spec, 'spec.spy')\nspec:save{container='results.spy', tag='mtmfft', overwrite=true}",
    kw_save};

static const spy_kwarg kw_load[] = {
    {"tag", SPY_KT_STR | SPY_KT_STRS | SPY_KT_NULL, "null", NULL,
     "only files whose tag matches (glob pattern, containers only)"},
    {"dataclass", SPY_KT_STR | SPY_KT_STRS | SPY_KT_NULL, "null", NULL,
     "only these classes: 'analog', 'spectral', 'crossspectral'"},
    {"checksum", SPY_KT_BOOL, "false", NULL, "verify the SHA-1 stored in the .info"},
    {NULL, 0, NULL, NULL, NULL}};

static const spy_funcspec spec_load = {
    "load", "spy.load(path [, {tag=, dataclass=, checksum=false}])",
    "Load a .spy container (or one data file) written by spy or Syncopy.",
    "A container with one matching file returns the object; several return a table keyed by "
    "file name.  Loaded objects are read-only.",
    "local spec = spy.load('spec.spy', {checksum=true})", kw_load};

static const spy_kwarg kw_cleanup[] = {
    {"dry_run", SPY_KT_BOOL, "false", NULL, "only report what would be removed"},
    {NULL, 0, NULL, NULL, NULL}};

static const spy_funcspec spec_cleanup = {
    "cleanup", "spy.cleanup{dry_run=false}",
    "Remove leftovers of earlier sessions from the temporary storage (SPYTMPDIR).",
    "Files of running sessions are kept.  Prints and returns the number of entries and bytes "
    "freed.",
    "spy.cleanup()", kw_cleanup};

/* spy.save(obj [, container] [, opts]) and obj:save([container] [, opts]) */
static int save(lua_State *L, bool method)
{
  spy_data *d = spy_bind_checkdata(L, 1);
  int opts = 0;
  const char *container = NULL;
  if (lua_type(L, 2) == LUA_TSTRING) {
    container = lua_tostring(L, 2);
    opts = lua_istable(L, 3) ? 3 : 0;
  } else if (lua_istable(L, 2)) {
    opts = 2;
  } else if (!lua_isnoneornil(L, 2)) {
    return luaL_argerror(L, 2, "container path or option table expected");
  }
  spy_jsonbox *box = spy_bind_jsonbox(L);
  box->json = spy_bind_kwargs(L, opts, &spec_save);
  spy_save_opts o = {0};
  o.container = container ? container : spy_cfg_str(box->json, "container", NULL);
  if (container && !spy_cfg_isnull(box->json, "container"))
    return luaL_error(L, "Invalid value of `container`: given twice (argument and option table)");
  o.tag = spy_cfg_str(box->json, "tag", NULL);
  o.filename = spy_cfg_str(box->json, "filename", NULL);
  o.overwrite = spy_cfg_bool(box->json, "overwrite", false);
  spy_err err = {0};
  if ((method ? spy_save_method(d, &o, &err) : spy_save(d, &o, &err)) != SPY_OK)
    return spy_bind_raise(L, &err);
  return 0; /* as Syncopy's (None): the prompt stays quiet after a save */
}

static int l_save(lua_State *L) { return save(L, false); }
static int l_save_method(lua_State *L) { return save(L, true); }

static void release_loaded(void *p)
{
  spy_loaded_free(p);
  free(p);
}

/* A string or a list of strings from cfg[key] into a C array (views). */
const char **spy_bind_strlist(lua_State *L, const cJSON *cfg, const char *key, size_t *n)
{
  const cJSON *v = cJSON_GetObjectItem(cfg, key);
  *n = 0;
  if (!v || cJSON_IsNull(v)) return NULL;
  size_t count = cJSON_IsArray(v) ? (size_t)cJSON_GetArraySize(v) : 1;
  const char **s = lua_newuserdatauv(L, (count ? count : 1) * sizeof *s, 0);
  if (cJSON_IsString(v)) s[(*n)++] = v->valuestring;
  else {
    const cJSON *e;
    cJSON_ArrayForEach(e, v) s[(*n)++] = e->valuestring;
  }
  return s;
}

static int l_load(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  spy_jsonbox *box = spy_bind_jsonbox(L);
  box->json = spy_bind_kwargs(L, lua_istable(L, 2) ? 2 : 0, &spec_load);
  spy_load_opts o = {0};
  o.tags = spy_bind_strlist(L, box->json, "tag", &o.ntags);
  o.dataclass = spy_bind_strlist(L, box->json, "dataclass", &o.ndataclass);
  o.checksum = spy_cfg_bool(box->json, "checksum", false);
  spy_gcbox *gb = spy_bind_gcbox(L, release_loaded);
  spy_loaded *res = calloc(1, sizeof *res);
  if (!res) return luaL_error(L, "out of memory");
  gb->ptr = res;
  spy_err err = {0};
  if (spy_load(path, &o, res, &err) != SPY_OK) return spy_bind_raise(L, &err);
  if (res->single) {
    spy_bind_pushdata(L, res->objs[0]);
    res->objs[0] = NULL;
    return 1;
  }
  lua_createtable(L, 0, (int)res->n);
  for (size_t i = 0; i < res->n; i++) {
    spy_bind_pushdata(L, res->objs[i]);
    res->objs[i] = NULL;
    lua_setfield(L, -2, res->names[i]);
  }
  return 1;
}

static int l_cleanup(lua_State *L)
{
  spy_jsonbox *box = spy_bind_jsonbox(L);
  box->json = spy_bind_kwargs(L, lua_istable(L, 1) ? 1 : 0, &spec_cleanup);
  bool dry = spy_cfg_bool(box->json, "dry_run", false);
  spy_cleanup_report rep = {0};
  spy_err err = {0};
  if (spy_cleanup(dry, &rep, &err) != SPY_OK) return spy_bind_raise(L, &err);
  printf("%s %zu leftover entr%s of earlier sessions in '%s' (%.2f MB)%s\n",
         dry ? "Found" : "Removed", rep.nremoved, rep.nremoved == 1 ? "y" : "ies",
         spy_bind_tmpdir(), (double)rep.bytes / 1e6,
         rep.nlive ? "; files of running sessions were kept" : "");
  fflush(stdout);
  lua_pushinteger(L, (lua_Integer)rep.nremoved);
  lua_pushinteger(L, (lua_Integer)rep.bytes);
  return 2;
}

static int l_session_end(lua_State *L)
{
  (void)L;
  spy_cleanup_session();
  return 0;
}

void spy_open_io(lua_State *L, int spy)
{
  spy_bind_func(L, spy, "save", l_save, &spec_save);
  spy_bind_func(L, spy, "load", l_load, &spec_load);
  spy_bind_func(L, spy, "cleanup", l_cleanup, &spec_cleanup);
  lua_getfield(L, spy, "_methods");
  lua_pushcfunction(L, l_save_method);
  lua_setfield(L, -2, "save");
  lua_pop(L, 1);
  /* session end: a finaliser run at lua_close (after the objects' own) */
  lua_newuserdatauv(L, 1, 0);
  lua_newtable(L);
  lua_pushcfunction(L, l_session_end);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  lua_setfield(L, LUA_REGISTRYINDEX, "spy.session");
  static int registered;
  if (!registered++) atexit(spy_cleanup_session);
}
