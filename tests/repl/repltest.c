/*
** repltest: a Lua C module for the REPL transcripts only.  It registers a
** keyword spec named "repltest" (shaped like freqanalysis's) in the spec
** registry of the `spy` binary that loads it, so a transcript can attach
** it to a Lua function with spy._setspec and exercise keyword completion
** and help() through the same path real spy functions take.
**
** Built without libspy: spy_spec_register resolves to the binary's own
** copy (the binary exports its symbols), so only `spy -l repltest` works.
*/
#include <lauxlib.h>
#include <lua.h>

#include "core/kwspec.h"

static const spy_kwarg kw[] = {
    {"method", SPY_KT_STR, "\"mtmfft\"", "mtmfft|mtmconvol|wavelet|superlet",
     "Spectral estimation method."},
    {"output", SPY_KT_STR, "\"pow\"", "pow|fourier|abs", "Quantity to return."},
    {"taper", SPY_KT_STR | SPY_KT_NULL, "\"hann\"", "hann|dpss|boxcar", "Windowing function."},
    {"tapsmofrq", SPY_KT_NUM | SPY_KT_NULL, "null", NULL,
     "Spectral smoothing box half-width in Hz."},
    {"foilim", SPY_KT_NUMS | SPY_KT_NULL, "[1, 100]", NULL, "Frequency window [fmin, fmax] in Hz."},
    {"keeptrials", SPY_KT_BOOL, "true", NULL, "Keep single-trial results."},
    {NULL, 0, NULL, NULL, NULL}};

static const spy_funcspec spec = {
    "repltest",
    "repltest(data, {method=\"mtmfft\", ...})",
    "A test function with the keywords of a spectral analysis.",
    "Registered by the REPL transcripts to check completion and help.",
    "repltest(data, {method=\"mtmfft\", taper=\"dpss\", tapsmofrq=4})",
    kw};

LUAMOD_API int luaopen_repltest(lua_State *L);

LUAMOD_API int luaopen_repltest(lua_State *L)
{
  spy_spec_register(&spec);
  lua_pushboolean(L, 1);
  return 1;
}
