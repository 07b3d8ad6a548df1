/*
** The analysis frontends: spy.freqanalysis, spy.preprocessing and
** spy.resampledata.  Each one resolves Syncopy's calling
** conventions, validates its keywords against its spec, applies the
** selection, asks the engine for a plan and hands it to spy_bind_runop.
*/
#include <stdlib.h>
#include <string.h>

#include "bind/data.h"
#include "dsp/freqanalysis_spec.h"
#include "dsp/preprocessing.h"
#include "dsp/preprocessing_spec.h"
#include "sched/methods.h"

/* What stands where the data should be: a nil first argument is most often
** a misspelt variable name (Lua reads an unknown global as nil). */
static const char *missing_data(lua_State *L)
{
  return lua_isnil(L, 1) ? "nil (a misspelt variable name? a name that was never assigned is nil)"
                         : "nothing";
}

/* The AnalogData argument of an analysis, with Syncopy's messages. */
static spy_data *analog_arg(lua_State *L, int idx)
{
  spy_data *d = idx ? spy_bind_todata(L, idx) : NULL;
  if (!d)
    luaL_error(L, "Wrong type of `data`: expected Syncopy AnalogData object found %s",
               idx ? luaL_typename(L, idx) : missing_data(L));
  else if (d->cls != SPY_ANALOG)
    luaL_error(L, "Wrong type of `data`: expected Syncopy AnalogData object found %s",
               spy_dataclass_name(d->cls));
  else if (d->ntrials == 0 || !d->path)
    luaL_error(L, "Invalid value of `data`: 'empty'; expected non-empty Syncopy AnalogData object");
  return d;
}

static void release_selection(void *p) { spy_selection_free(p); }

/* The common body: args -> cfg -> selection -> plan -> run -> result. */
static int analyse(lua_State *L, const spy_funcspec *spec)
{
  int dataidx = 0;
  cJSON *cfg = NULL;
  spy_bind_callargs(L, spec, &dataidx, &cfg);
  spy_jsonbox *cfgbox = spy_bind_jsonbox(L);
  cfgbox->json = cfg;
  spy_data *d = analog_arg(L, dataidx);
  spy_err err = {0};
  spy_gcbox *selbox = spy_bind_gcbox(L, release_selection);
  spy_selection *sel = NULL;
  if (spy_select_analysis(d, cJSON_GetObjectItem(cfg, "select"), &sel, &err))
    return spy_bind_raise(L, &err);
  selbox->ptr = sel;
  spy_op *op = spy_bind_plan(L, spec->name, cfg, d, sel);
  /* runop frees the op's contents; the box then frees the zeroed struct */
  const char *warn = strcmp(spec->name, "preprocessing") == 0 ? spy_preprocessing_nan_warning(op) : NULL;
  if (warn) lua_pushstring(L, warn); /* the op's string dies with the op */
  spy_bind_runop(L, spec->name, cfg, d, sel, op, NULL, 0, warn ? lua_tostring(L, -1) : NULL);
  return 1;
}

static int l_freqanalysis(lua_State *L)
{
  return analyse(L, &spy_spec_freqanalysis);
}

static int l_preprocessing(lua_State *L)
{
  return analyse(L, &spy_spec_preprocessing);
}

static int l_resampledata(lua_State *L)
{
  return analyse(L, &spy_spec_resampledata);
}

void spy_open_analysis(lua_State *L, int spy)
{
  spy_bind_func(L, spy, "freqanalysis", l_freqanalysis, &spy_spec_freqanalysis);
  spy_bind_func(L, spy, "preprocessing", l_preprocessing, &spy_spec_preprocessing);
  spy_bind_func(L, spy, "resampledata", l_resampledata, &spy_spec_resampledata);
}
