/*
** spy.connectivityanalysis: resolves Syncopy's calling conventions,
** validates the keywords against the spec, applies the selection, plans
** through the table of computations (as a remote worker does) and runs the
** op on the scheduler.  The result is a CrossSpectralData whose channel_i
** and channel_j are the selected input channels (the scheduler labels both).
*/
#include <stdlib.h>
#include <string.h>

#include "bind/data.h"
#include "connectivity/conn.h"
#include "sched/methods.h"

static void release_selection(void *p) { spy_selection_free(p); }

static void release_data(void *p) { spy_data_unref(p); }

/* SpectralData input: the engine's own loop (conn.h), then cfg and history
** as every other result gets them. */
static int spectral_input(lua_State *L, const cJSON *cfg, spy_data *d, const spy_selection *sel)
{
  spy_err err = {0};
  spy_gcbox *outbox = spy_bind_gcbox(L, release_data);
  spy_data *out = spy_data_new(SPY_CROSSSPECTRAL);
  if (!out) return luaL_error(L, "out of memory");
  outbox->ptr = out;
  if (spy_conn_spectral(cfg, d, sel, out, false, &err)) return spy_bind_raise(L, &err);
  cJSON_Delete(out->cfg);
  out->cfg = cJSON_Duplicate(d->cfg, 1);
  cJSON_DeleteItemFromObject(out->cfg, "connectivityanalysis");
  cJSON_AddItemToObject(out->cfg, "connectivityanalysis", cJSON_Duplicate(cfg, 1));
  free(out->log);
  out->log = strdup(d->log ? d->log : "");
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addstring(&b, "computed spectral_dyadic_product_cF with settings\n");
  static const char *const keys[] = {"method", "keeptrials", "output"};
  for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
    char v[256];
    spy_json_brief(cJSON_GetObjectItem(cfg, keys[i]), v, sizeof v);
    lua_pushfstring(L, "\t%s = %s\n", keys[i], v);
    luaL_addvalue(&b);
  }
  luaL_addstring(&b, "\tused_parallel = False\n");
  luaL_pushresult(&b);
  spy_data_log(out, "write_log", lua_tostring(L, -1));
  lua_pop(L, 1);
  if (spy_data_sync_meta(out, &err)) return spy_bind_raise(L, &err);
  outbox->ptr = NULL;
  spy_bind_pushdata(L, out);
  return 1;
}

static int l_connectivityanalysis(lua_State *L)
{
  const spy_funcspec *spec = &spy_spec_connectivityanalysis;
  int dataidx = 0;
  cJSON *cfg = NULL;
  spy_bind_callargs(L, spec, &dataidx, &cfg);
  spy_jsonbox *cfgbox = spy_bind_jsonbox(L);
  cfgbox->json = cfg;
  spy_data *d = dataidx ? spy_bind_todata(L, dataidx) : NULL;
  if (!d)
    return luaL_error(L, "Wrong type of `data`: expected Syncopy data object found %s",
                      dataidx ? luaL_typename(L, dataidx) : "nothing");
  if (d->ntrials == 0 || !d->path)
    return luaL_error(L, "Invalid value of `data`: 'empty'; expected non-empty Syncopy data object");
  if (d->cls != SPY_ANALOG && d->cls != SPY_SPECTRAL)
    return luaL_error(L, "Invalid value of `data`: '%s'; expected either AnalogData or SpectralData "
                      "as input", spy_dataclass_name(d->cls));
  spy_err err = {0};
  spy_gcbox *selbox = spy_bind_gcbox(L, release_selection);
  spy_selection *sel = NULL;
  if (spy_select_analysis(d, cJSON_GetObjectItem(cfg, "select"), &sel, &err))
    return spy_bind_raise(L, &err);
  selbox->ptr = sel;
  if (d->cls == SPY_SPECTRAL) return spectral_input(L, cfg, d, sel);
  spy_op *op = spy_bind_plan(L, spec->name, cfg, d, sel);
  spy_bind_runop(L, spec->name, cfg, d, sel, op, NULL, 0, NULL);
  /* jackknife: leave-one-out bias and variance next to the result */
  spy_data *out = spy_bind_todata(L, -1);
  if (out && spy_conn_jackknife(cfg, d, sel, out, &err)) return spy_bind_raise(L, &err);
  return 1;
}

void spy_open_connectivity(lua_State *L, int spy)
{
  spy_bind_func(L, spy, "connectivityanalysis", l_connectivityanalysis, &spy_spec_connectivityanalysis);
}
