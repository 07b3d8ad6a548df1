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
static void release_op(void *p)
{
  spy_op_free(p);
  free(p);
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
  if (d->cls == SPY_SPECTRAL)
    return luaL_error(L, "connectivityanalysis: SpectralData input is not supported yet; compute "
                      "the connectivity from the AnalogData");
  spy_err err = {0};
  spy_gcbox *selbox = spy_bind_gcbox(L, release_selection);
  spy_selection *sel = NULL;
  if (spy_select(d, cJSON_GetObjectItem(cfg, "select"), &sel, &err)) return spy_bind_raise(L, &err);
  selbox->ptr = sel;
  spy_trials tr;
  spy_bind_trials(d, sel, &tr);
  spy_gcbox *opbox = spy_bind_gcbox(L, release_op);
  spy_op *op = calloc(1, sizeof *op);
  if (!op) return luaL_error(L, "out of memory");
  opbox->ptr = op;
  if (spy_method_plan(spec->name, cfg, &tr, op, &err) != SPY_OK) return spy_bind_raise(L, &err);
  spy_bind_runop(L, spec->name, cfg, d, sel, op, NULL, 0, NULL);
  return 1;
}

void spy_open_connectivity(lua_State *L, int spy)
{
  spy_bind_func(L, spy, "connectivityanalysis", l_connectivityanalysis, &spy_spec_connectivityanalysis);
}
