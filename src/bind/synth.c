/*
** spy.synthdata: Syncopy's synthetic data generators.  Each generator runs
** through the scheduler trial by trial (bounded memory, parallel with a
** client); nTrials = nil returns a single (nSamples x nChannels) array as in
** Syncopy.  Objects compose with + - * / (spy.AnalogData arithmetic).
*/
#include <stdlib.h>
#include <string.h>

#include "bind/array.h"
#include "bind/data.h"
#include "synth/synth.h"
#include "sched/methods.h"
#include "synth/synth_spec.h"


static int generate(lua_State *L, const char *name)
{
  const spy_funcspec *spec = spy_synth_spec(name);
  int dataidx = 0;
  cJSON *cfg = NULL;
  spy_bind_callargs(L, spec, &dataidx, &cfg);
  spy_jsonbox *box = spy_bind_jsonbox(L);
  box->json = cfg;
  if (dataidx) return luaL_error(L, "spy.synthdata.%s takes no data object", name);
  spy_op *op = spy_bind_plan(L, name, cfg, NULL, NULL);
  spy_err err = {0};
  if (spy_cfg_isnull(cfg, "nTrials")) { /* Syncopy: a plain array */
    size_t shape[2] = {op->out_rows[0], op->out_nchan};
    spy_array *a = spy_array_new(SPY_DT_F32, 2, shape);
    if (!a) return luaL_error(L, "out of memory");
    if (spy_synth_trial(op, 0, a->buf->data, &err)) {
      spy_array_free(a);
      return spy_bind_raise(L, &err);
    }
    spy_bind_pusharray(L, a);
    return 1;
  }
  spy_bind_runop(L, name, cfg, NULL, NULL, op, NULL, op->out_nchan, NULL);
  return 1;
}

#define GENERATOR(n) \
  static int l_##n(lua_State *L) { return generate(L, #n); }
GENERATOR(white_noise)
GENERATOR(linear_trend)
GENERATOR(harmonic)
GENERATOR(phase_diffusion)
GENERATOR(ar2_network)
GENERATOR(red_noise)

static int l_adjmat(lua_State *L)
{
  spy_jsonbox *box = spy_bind_jsonbox(L);
  box->json = spy_bind_kwargs(L, lua_istable(L, 1) ? 1 : 0, &spy_spec_mk_RandomAdjMat);
  spy_err err = {0};
  double *m = NULL;
  size_t n = 0;
  if (spy_synth_random_adjmat_cfg(box->json, &m, &n, &err)) return spy_bind_raise(L, &err);
  size_t shape[2] = {n, n};
  spy_array *a = spy_array_new(SPY_DT_F64, 2, shape);
  if (!a) {
    free(m);
    return luaL_error(L, "out of memory");
  }
  memcpy(a->buf->data, m, n * n * sizeof *m);
  free(m);
  spy_bind_pusharray(L, a);
  return 1;
}

static int l_peakfreq(lua_State *L)
{
  spy_jsonbox *box = spy_bind_jsonbox(L);
  /* positional form ar2_peak_freq(a1, a2 [, samplerate]) as well as a table */
  if (lua_type(L, 1) == LUA_TNUMBER) {
    lua_newtable(L);
    lua_pushvalue(L, 1);
    lua_setfield(L, -2, "a1");
    lua_pushvalue(L, 2);
    lua_setfield(L, -2, "a2");
    if (!lua_isnoneornil(L, 3)) {
      lua_pushvalue(L, 3);
      lua_setfield(L, -2, "samplerate");
    }
    lua_replace(L, 1);
  }
  box->json = spy_bind_kwargs(L, 1, &spy_spec_ar2_peak_freq);
  spy_err err = {0};
  double f;
  if (spy_synth_ar2_peak_freq_cfg(box->json, &f, &err)) return spy_bind_raise(L, &err);
  lua_pushnumber(L, f);
  return 1;
}

void spy_open_synth(lua_State *L, int spy)
{
  lua_newtable(L);
  int t = lua_gettop(L);
  spy_bind_func(L, t, "white_noise", l_white_noise, &spy_spec_white_noise);
  spy_bind_func(L, t, "linear_trend", l_linear_trend, &spy_spec_linear_trend);
  spy_bind_func(L, t, "harmonic", l_harmonic, &spy_spec_harmonic);
  spy_bind_func(L, t, "phase_diffusion", l_phase_diffusion, &spy_spec_phase_diffusion);
  spy_bind_func(L, t, "ar2_network", l_ar2_network, &spy_spec_ar2_network);
  spy_bind_func(L, t, "red_noise", l_red_noise, &spy_spec_red_noise);
  spy_bind_func(L, t, "mk_RandomAdjMat", l_adjmat, &spy_spec_mk_RandomAdjMat);
  spy_bind_func(L, t, "ar2_peak_freq", l_peakfreq, &spy_spec_ar2_peak_freq);
  lua_setfield(L, spy, "synthdata");
}
