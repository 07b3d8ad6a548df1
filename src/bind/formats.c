/*
** Recordings in, results out: spy.savenpy, spy.loadnpy, spy.savetxt,
** a:tocsv, data:toarray, spy.savemat, spy.load_ft_raw, spy.load_edf,
** spy.load_brainvision.  Thin wrappers of src/io/formats.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bind/array.h"
#include "bind/data.h"
#include "core/lazy.h"
#include "core/log.h"
#include "io/formats/eeg.h"
#include "io/formats/events.h"
#include "io/formats/mat.h"
#include "io/formats/npy.h"
#include "io/formats/nwb.h"
#include "io/formats/tdt.h"

static const spy_kwarg kw_none[] = {SPY_KW_END};

/* ---- .npy ----------------------------------------------------------------- */

static const spy_funcspec spec_savenpy = {
    "savenpy",
    "spy.savenpy(path, array_or_data)",
    "Write an array, or a data object's data array, as a NumPy .npy file.",
    "numpy.load reads the file.  A data object is written in Syncopy's layout (its dataset "
    "`data`: trials stacked along the first axis, channels last), streamed from disk.  dtypes: "
    "float32 '<f4', float64 '<f8', complex64 '<c8', complex128 '<c16', int64 '<i8'.",
    "spy.savenpy('power.npy', spec)",
    kw_none};

/* Raises "<who> needs <library> (Debian package ...): ..." when lib, opened on
** first use (src/core/lazy.h), cannot be loaded. */
static void need(lua_State *L, spy_lazylib *lib, const char *who)
{
  spy_err err = {0};
  if (spy_lazy_need(lib, who, &err) != SPY_OK) spy_bind_raise(L, &err);
}

static int l_savenpy(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  spy_err err = {0};
  spy_data *d = spy_bind_todata(L, 2);
  int rc;
  if (d) {
    rc = spy_npy_save_data(path, d, &err);
  } else {
    spy_gcbox *box = spy_bind_gcbox(L, (void (*)(void *))spy_array_free);
    box->ptr = spy_bind_toarray(L, 2, SPY_DT_F64);
    rc = spy_npy_save(path, box->ptr, &err);
  }
  if (rc) return spy_bind_raise(L, &err);
  return 0;
}

static const spy_funcspec spec_loadnpy = {
    "loadnpy",
    "spy.loadnpy(path)",
    "Read a NumPy .npy file into an array.",
    "Format versions 1.0-3.0, either byte order, C or Fortran order.  float16/32 -> float32, "
    "float64 -> float64, complex -> complex64/128, integers and bools -> int64.",
    "local x = spy.loadnpy('power.npy')",
    kw_none};

static int l_loadnpy(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  spy_err err = {0};
  spy_array *a = NULL;
  if (spy_npy_load(path, &a, &err)) return spy_bind_raise(L, &err);
  spy_bind_pusharray(L, a);
  return 1;
}

/* ---- text ----------------------------------------------------------------- */

static const spy_kwarg kw_savetxt[] = {
    {"delimiter", SPY_KT_STR, "\" \"", NULL, "between the values of a row"},
    {"fmt", SPY_KT_STR, "\"%.18e\"", NULL, "printf float conversion of every value"},
    {"header", SPY_KT_STR | SPY_KT_NULL, "null", NULL, "text written first, each line after '# '"},
    SPY_KW_END};

static const spy_funcspec spec_savetxt = {
    "savetxt",
    "spy.savetxt(path, array [, {delimiter=' ', fmt='%.18e', header=nil}])",
    "Write a 1-d or 2-d array as a text table, as numpy.savetxt does.",
    "One row per line (a 1-d array: one value per line).  Complex values are written ' (re+imj)' "
    "as NumPy writes them.  x:tocsv(path) is the same with delimiter=','.",
    "spy.savetxt('x.txt', spy.array{{1, 2}, {3, 4}}, {fmt='%g'})",
    kw_savetxt};

static int savetxt(lua_State *L, int arr, int opts, const char *delim_default)
{
  const char *path = luaL_checkstring(L, arr == 1 ? 2 : 1);
  spy_gcbox *gb = spy_bind_gcbox(L, (void (*)(void *))spy_array_free);
  gb->ptr = spy_bind_toarray(L, arr, SPY_DT_F64);
  spy_jsonbox *box = spy_bind_jsonbox(L);
  box->json = spy_bind_kwargs(L, lua_istable(L, opts) ? opts : 0, &spec_savetxt);
  const cJSON *dl = cJSON_GetObjectItem(box->json, "delimiter");
  bool given = lua_istable(L, opts) && lua_getfield(L, opts, "delimiter") != LUA_TNIL;
  const char *delim = given || !delim_default ? dl->valuestring : delim_default;
  spy_err err = {0};
  if (spy_savetxt(path, gb->ptr, spy_cfg_str(box->json, "fmt", "%.18e"), delim,
                  spy_cfg_str(box->json, "header", NULL), &err))
    return spy_bind_raise(L, &err);
  return 0;
}

static int l_savetxt(lua_State *L)
{
  return savetxt(L, 2, 3, NULL);
}

static const spy_funcspec spec_tocsv = {
    "array:tocsv",
    "a:tocsv(path [, {fmt='%.18e', header=nil, delimiter=','}])",
    "Write a 1-d or 2-d array as comma-separated text (spy.savetxt with delimiter=',').",
    NULL,
    "spec_pow:tocsv('power.csv')",
    kw_savetxt};

static int l_tocsv(lua_State *L)
{
  spy_bind_checkarray(L, 1);
  return savetxt(L, 1, 3, ",");
}

/* ---- MAT files ---------------------------------------------------------------- */

static const spy_kwarg kw_savemat[] = {
    {"version", SPY_KT_STR, "\"v7\"", "v5|v6|v7|v7.3",
     "MAT format: v5/v6 uncompressed, v7 compressed, v7.3 HDF5 (for variables over 2 GB)"},
    SPY_KW_END};

static const spy_funcspec spec_savemat = {
    "savemat",
    "spy.savemat(path, {name=array_or_data, ...} [, {version='v7'}])",
    "Write arrays and data objects as variables of a MATLAB .mat file.",
    "Arrays keep their shape (rows x columns; 1-d arrays become 1 x n rows, as scipy.io.savemat "
    "writes them).  An AnalogData becomes a FieldTrip raw structure (label, trial {channels x "
    "samples}, time, fsample, sampleinfo, trialinfo), so ft_datatype_raw and spy.load_ft_raw "
    "read it; other classes become a structure with Syncopy's data array, dimord, "
    "trialdefinition, samplerate, label, freq, taper and label_j.  Variables are written in "
    "name order.",
    "spy.savemat('out.mat', {data=lfp, power=spec_pow}, {version='v7.3'})",
    kw_savemat};

static int cmpstr(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int l_savemat(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  need(L, &spy_lazy_matio, "spy.savemat");
  luaL_checktype(L, 2, LUA_TTABLE);
  spy_jsonbox *box = spy_bind_jsonbox(L);
  box->json = spy_bind_kwargs(L, lua_istable(L, 3) ? 3 : 0, &spec_savemat);
  const char *ver = spy_cfg_str(box->json, "version", "v7");
  int version = strcmp(ver, "v7.3") == 0 ? 73 : strcmp(ver, "v7") == 0 ? 7 : 5;
  /* names, sorted */
  size_t n = 0;
  for (lua_pushnil(L); lua_next(L, 2); lua_pop(L, 1)) {
    if (lua_type(L, -2) != LUA_TSTRING)
      return luaL_argerror(L, 2, "a table {name=array_or_data, ...} with string keys expected");
    n++;
  }
  if (n == 0) return luaL_argerror(L, 2, "at least one variable expected");
  const char **names = lua_newuserdatauv(L, n * sizeof *names, 0);
  size_t i = 0;
  for (lua_pushnil(L); lua_next(L, 2); lua_pop(L, 1))
    names[i++] = lua_tostring(L, -2);
  qsort(names, n, sizeof *names, cmpstr);
  spy_mat_var *vars = lua_newuserdatauv(L, n * sizeof *vars, 0);
  lua_createtable(L, (int)n, 0); /* anchors converted arrays */
  int anchor = lua_gettop(L);
  for (i = 0; i < n; i++) {
    lua_getfield(L, 2, names[i]);
    vars[i].name = names[i];
    vars[i].data = spy_bind_todata(L, -1);
    vars[i].array = NULL;
    if (!vars[i].data) {
      spy_array *a = spy_bind_toarray(L, -1, SPY_DT_F64);
      spy_bind_pusharray(L, a);
      lua_seti(L, anchor, (lua_Integer)i + 1);
      vars[i].array = a;
    }
    lua_pop(L, 1);
  }
  spy_err err = {0};
  if (spy_savemat(path, vars, n, version, &err)) return spy_bind_raise(L, &err);
  return 0;
}

static const spy_kwarg kw_load_ft[] = {
    {"list_only", SPY_KT_BOOL, "false", NULL, "only return the names of the structures found"},
    {"select_structures", SPY_KT_STR | SPY_KT_STRS | SPY_KT_NULL, "null", NULL,
     "names of the structures to load (default: all)"},
    {"include_fields", SPY_KT_STR | SPY_KT_STRS | SPY_KT_NULL, "null", NULL,
     "further fields of each structure, copied into the object's info"},
    {"mem_use", SPY_KT_INT, "4000", NULL,
     "memory (MB) the import may use: >= 2000 for MAT < v7.3, > 2.5 x one trial for v7.3"},
    SPY_KW_END};

static const spy_funcspec spec_load_ft = {
    "load_ft_raw",
    "spy.load_ft_raw(path [, {list_only=false, select_structures=nil, include_fields=nil, "
    "mem_use=4000}])",
    "Import FieldTrip raw data structures from a MAT file (v5, v6, v7 or v7.3) as AnalogData.",
    "Returns a table {structure_name = AnalogData} (float32, trials stacked along time, "
    "offsets from time{k}(1), trialinfo appended to the trial definition, include_fields in "
    ".info).  MAT v7.3 files are read trial by trial; older versions are read whole, one "
    "structure at a time.  A missing fsample is 1/mean(diff(time{1})); trials may differ in "
    "length.  list_only=true returns the structure names.",
    "local d = spy.load_ft_raw('subject01.mat', {include_fields={'cfg_version'}}).data",
    kw_load_ft};

static void release_ft(void *p)
{
  spy_objset_clear(p);
  free(p);
}

static void logwarnings(const char *w)
{
  while (w && *w) {
    const char *nl = strchr(w, '\n');
    int len = nl ? (int)(nl - w) : (int)strlen(w);
    spy_log(SPY_LOG_WARNING, "%.*s", len, w);
    w += len + (nl ? 1 : 0);
  }
}

static int l_load_ft_raw(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  need(L, &spy_lazy_matio, "spy.load_ft_raw");
  spy_jsonbox *box = spy_bind_jsonbox(L);
  box->json = spy_bind_kwargs(L, lua_istable(L, 2) ? 2 : 0, &spec_load_ft);
  spy_ft_opts o = {0};
  o.select = spy_bind_strlist(L, box->json, "select_structures", &o.nselect);
  o.include = spy_bind_strlist(L, box->json, "include_fields", &o.ninclude);
  o.mem_use = spy_cfg_num(box->json, "mem_use", 4000);
  spy_gcbox *gb = spy_bind_gcbox(L, release_ft);
  spy_ft_result *r = calloc(1, sizeof *r);
  if (!r) return luaL_error(L, "out of memory");
  gb->ptr = r;
  spy_err err = {0};
  bool list = spy_cfg_bool(box->json, "list_only", false);
  int rc = list ? spy_ft_list(path, r, &err) : spy_load_ft_raw(path, &o, r, &err);
  logwarnings(r->warnings);
  if (rc) return spy_bind_raise(L, &err);
  lua_createtable(L, list ? (int)r->n : 0, list ? 0 : (int)r->n);
  for (size_t i = 0; i < r->n; i++) {
    if (list) {
      lua_pushstring(L, r->names[i]);
      lua_seti(L, -2, (lua_Integer)i + 1);
    } else {
      spy_bind_pushdata(L, r->objs[i]);
      r->objs[i] = NULL;
      lua_setfield(L, -2, r->names[i]);
    }
  }
  return 1;
}

/* ---- EEG recordings ------------------------------------------------------------- */

static const spy_kwarg kw_eeg[] = {
    {"channel", SPY_KT_STR | SPY_KT_STRS | SPY_KT_NULL, "null", NULL,
     "labels of the channels to load, in this order (default: all; EDF: all of the most common "
     "sample rate)"},
    {"dtype", SPY_KT_STR, "\"float32\"", "float32|float64", "dtype of the loaded data"},
    {"events", SPY_KT_BOOL, "false", NULL,
     "also return the annotations/markers as EventData (data, events); ids in events.info.event_ids"},
    SPY_KW_END};

static const spy_funcspec spec_load_edf = {
    "load_edf",
    "spy.load_edf(path [, {channel=nil, dtype='float32', events=false}])",
    "Load an EDF, EDF+, BDF or BDF+ recording as one-trial AnalogData (physical units).",
    "Streams the recording into temporary storage block by block.  Signals of a sample rate other "
    "than the most common one are skipped with a warning (pick them with channel=).  info holds "
    "the header (filetype, startdate, starttime, patient/recording fields, physdimension, "
    "prefilter, transducer) and the EDF+/BDF+ annotations as a list {onset=s, duration=s, "
    "text=}.  With events=true a second result is the annotations as EventData: [sample, eventid] "
    "rows (onsets rounded to the data's samples), one id per distinct text in order of first "
    "appearance, mapping in events.info.event_ids (nil without annotations).  EDF+D "
    "(discontinuous) files are refused.",
    "local eeg = spy.load_edf('night.edf'); print(#eeg.info.annotations)",
    kw_eeg};

static const spy_funcspec spec_load_bv = {
    "load_brainvision",
    "spy.load_brainvision(path.vhdr [, {channel=nil, dtype='float32', events=false}])",
    "Load a BrainVision recording (.vhdr header, .eeg data, .vmrk markers) as one-trial "
    "AnalogData.",
    "BINARY data in INT_16, INT_32, UINT_16 or IEEE_FLOAT_32, MULTIPLEXED or VECTORIZED, scaled "
    "by each channel's resolution.  info holds the units, resolutions and the markers as a list "
    "{type=, description=, sample= (0-based), length=, channel= (0: all)}.  With events=true a "
    "second result is the markers as EventData: [sample, eventid] rows, one id per distinct "
    "'type/description' in order of first appearance, mapping in events.info.event_ids (nil "
    "without markers).",
    "local eeg = spy.load_brainvision('sub-01_task-rest.vhdr')",
    kw_eeg};

static int load_eeg(lua_State *L, bool edf)
{
  const char *path = luaL_checkstring(L, 1);
  if (edf) need(L, &spy_lazy_edf, "spy.load_edf");
  spy_jsonbox *box = spy_bind_jsonbox(L);
  box->json = spy_bind_kwargs(L, lua_istable(L, 2) ? 2 : 0, edf ? &spec_load_edf : &spec_load_bv);
  spy_eeg_opts o = {0};
  o.channel = spy_bind_strlist(L, box->json, "channel", &o.nchannel);
  o.dtype =
      strcmp(spy_cfg_str(box->json, "dtype", "float32"), "float64") == 0 ? SPY_DT_F64 : SPY_DT_F32;
  spy_err err = {0};
  spy_data *d = NULL;
  char *warnings = NULL;
  int rc = edf ? spy_load_edf(path, &o, &d, &warnings, &err)
               : spy_load_brainvision(path, &o, &d, &warnings, &err);
  logwarnings(warnings);
  free(warnings);
  if (rc) return spy_bind_raise(L, &err);
  spy_bind_pushdata(L, d);
  if (!spy_cfg_bool(box->json, "events", false)) return 1;
  spy_data *ev = NULL; /* a BrainVision header without MarkerFile= has no info.markers */
  if ((edf || cJSON_GetObjectItem(d->info, "markers")) && spy_eeg_events(d, &ev, &err))
    return spy_bind_raise(L, &err);
  if (ev)
    spy_bind_pushdata(L, ev);
  else
    lua_pushnil(L);
  return 2;
}

static int l_load_edf(lua_State *L)
{
  return load_eeg(L, true);
}
static int l_load_bv(lua_State *L)
{
  return load_eeg(L, false);
}

/* ---- TDT ------------------------------------------------------------------------- */

static const spy_kwarg kw_tdt[] = {
    {"start_code", SPY_KT_INT | SPY_KT_NULL, "null", NULL, "trigger code that starts a trial"},
    {"end_code", SPY_KT_INT | SPY_KT_NULL, "null", NULL, "trigger code that ends a trial"},
    {"subtract_median", SPY_KT_BOOL, "false", NULL, "remove each channel's median"},
    SPY_KW_END};

static const spy_funcspec spec_tdt = {
    "load_tdt",
    "spy.load_tdt(block_dir [, {start_code=nil, end_code=nil, subtract_median=false}])",
    "Load a TDT block (.tsq event index, one .sev file per channel) as AnalogData, as Syncopy "
    "does.",
    "Channels are the .sev files in natural order of their names (float32), the sample rate that "
    "of the LFPs/LFP1 stream.  info holds PDio_onset, PDio_offset, PDio_data, Trigger_code, "
    "Trigger_timestamp and Trigger_sample.  With start_code and end_code (both needed) each trial "
    "runs from a start trigger to the next end trigger; otherwise the whole block is one trial.",
    "local d = spy.load_tdt('/data/session3', {start_code=23000, end_code=30020})",
    kw_tdt};

static int l_load_tdt(lua_State *L)
{
  const char *dir = luaL_checkstring(L, 1);
  spy_jsonbox *box = spy_bind_jsonbox(L);
  box->json = spy_bind_kwargs(L, lua_istable(L, 2) ? 2 : 0, &spec_tdt);
  bool s = !spy_cfg_isnull(box->json, "start_code"), e = !spy_cfg_isnull(box->json, "end_code");
  if (s != e)
    return luaL_error(
        L, "Invalid value of `%s`: 'None'; expected trigger codes for both trial start and end",
        s ? "end_code" : "start_code");
  spy_tdt_opts o = {0};
  o.have_codes = s;
  o.start_code = spy_cfg_num(box->json, "start_code", 0);
  o.end_code = spy_cfg_num(box->json, "end_code", 0);
  o.subtract_median = spy_cfg_bool(box->json, "subtract_median", false);
  spy_err err = {0};
  spy_data *d = NULL;
  char *warnings = NULL;
  int rc = spy_load_tdt(dir, &o, &d, &warnings, &err);
  logwarnings(warnings);
  free(warnings);
  if (rc) return spy_bind_raise(L, &err);
  spy_bind_pushdata(L, d);
  return 1;
}

/* ---- NWB -------------------------------------------------------------------------- */

static const spy_kwarg kw_load_nwb[] = {
    {"samplerate", SPY_KT_NUM | SPY_KT_NULL, "null", NULL,
     "rate (Hz) turning units' spike times and TTL timestamps into samples; default: the first "
     "ElectricalSeries' rate, else the units' `samplerate` column / the TTL timestamps' resolution"},
    SPY_KW_END};

static const spy_funcspec spec_load_nwb = {
    "load_nwb",
    "spy.load_nwb(path [, {samplerate=}])",
    "Load an NWB 2.x file: ElectricalSeries as AnalogData, units as SpikeData, TTLs as EventData.",
    "Returns a table {name = object}: each ElectricalSeries by its name (data times "
    "channel_conversion, samplerate from starting_time's rate, channel names from the electrodes "
    "table's `location` column); `units` (SpikeData: unit indices are the table's ids, channels "
    "the units' electrodes, spikes sorted by sample); `TTL_PulseValues` (EventData: sample, "
    "eventid[, chans] from TTL_Channels).  Trials come from intervals/trials (else epochs) with "
    "the `offset` column spy and Syncopy write.  Other acquisition types are skipped with a "
    "warning.",
    "local spikes = spy.load_nwb('session.nwb', {samplerate=30000}).units",
    kw_load_nwb};

static void release_nwb(void *p)
{
  spy_objset_clear(p);
  free(p);
}

static int l_load_nwb(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  spy_jsonbox *box = spy_bind_jsonbox(L);
  box->json = spy_bind_kwargs(L, lua_istable(L, 2) ? 2 : 0, &spec_load_nwb);
  double sr = spy_cfg_isnull(box->json, "samplerate") ? NAN : spy_cfg_num(box->json, "samplerate", NAN);
  spy_gcbox *gb = spy_bind_gcbox(L, release_nwb);
  spy_nwb_result *r = calloc(1, sizeof *r);
  if (!r) return luaL_error(L, "out of memory");
  gb->ptr = r;
  spy_err err = {0};
  int rc = spy_load_nwb(path, sr, r, &err);
  logwarnings(r->warnings);
  if (rc) return spy_bind_raise(L, &err);
  lua_createtable(L, 0, (int)r->n);
  for (size_t i = 0; i < r->n; i++) {
    spy_bind_pushdata(L, r->objs[i]);
    r->objs[i] = NULL;
    lua_setfield(L, -2, r->names[i]);
  }
  return 1;
}

static const spy_kwarg kw_save_nwb[] = {
    {"with_trialdefinition", SPY_KT_BOOL, "true", NULL,
     "write the trials table (start, stop, offset in s)"},
    {"is_raw", SPY_KT_BOOL, "true", NULL,
     "true: acquisition/ElectricalSeries; false: processing/ecephys/LFP/ElectricalSeries"},
    SPY_KW_END};

static const spy_funcspec spec_save_nwb = {
    "save_nwb",
    "data:save_nwb(path [, {with_trialdefinition=true, is_raw=true}])",
    "Write AnalogData, TimeLockData, SpikeData or EventData as an NWB 2.x file, as Syncopy's "
    "save_nwb does.",
    "AnalogData/TimeLockData: one ElectricalSeries; channel names go to the electrodes table's "
    "`location` column.  SpikeData: the units table (spike_times in s, ids = unit indices, "
    "electrodes = the units' channels, unit_name, samplerate).  EventData: acquisition "
    "TTL_PulseValues (+ TTL_Channels for a third column), timestamps in s.  The trial definition "
    "goes to intervals/trials (start_time, stop_time, offset in seconds).  is_raw applies to "
    "ElectricalSeries only.  spy.load_nwb and pynwb read the file.",
    "lfp:save_nwb('session.nwb')",
    kw_save_nwb};

static int l_save_nwb(lua_State *L)
{
  spy_data *d = spy_bind_checkdata(L, 1);
  const char *path = luaL_checkstring(L, 2);
  spy_jsonbox *box = spy_bind_jsonbox(L);
  box->json = spy_bind_kwargs(L, lua_istable(L, 3) ? 3 : 0, &spec_save_nwb);
  spy_err err = {0};
  if (spy_save_nwb(d, path, spy_cfg_bool(box->json, "with_trialdefinition", true),
                   spy_cfg_bool(box->json, "is_raw", true), &err))
    return spy_bind_raise(L, &err);
  lua_settop(L, 1);
  return 1;
}

/* ---- data:toarray ----------------------------------------------------------- */

static int l_toarray(lua_State *L)
{
  spy_data *d = spy_bind_checkdata(L, 1);
  spy_err err = {0};
  spy_array *a = NULL;
  if (spy_data_toarray(d, &a, &err)) return spy_bind_raise(L, &err);
  spy_bind_pusharray(L, a);
  return 1;
}

void spy_open_formats(lua_State *L, int spy)
{
  spy = lua_absindex(L, spy);
  spy_bind_func(L, spy, "savenpy", l_savenpy, &spec_savenpy);
  spy_bind_func(L, spy, "loadnpy", l_loadnpy, &spec_loadnpy);
  spy_bind_func(L, spy, "savetxt", l_savetxt, &spec_savetxt);
  spy_bind_func(L, spy, "savemat", l_savemat, &spec_savemat);
  spy_bind_func(L, spy, "load_ft_raw", l_load_ft_raw, &spec_load_ft);
  spy_bind_func(L, spy, "load_edf", l_load_edf, &spec_load_edf);
  spy_bind_func(L, spy, "load_brainvision", l_load_bv, &spec_load_bv);
  spy_bind_func(L, spy, "load_tdt", l_load_tdt, &spec_tdt);
  spy_bind_func(L, spy, "load_nwb", l_load_nwb, &spec_load_nwb);
  /* array method */
  luaL_getmetatable(L, "spy.array");
  lua_getfield(L, -1, "__methods");
  spy_bind_func(L, lua_gettop(L), "tocsv", l_tocsv, &spec_tocsv);
  lua_pop(L, 2);
  /* data methods */
  lua_getfield(L, spy, "_methods");
  lua_pushcfunction(L, l_toarray);
  lua_setfield(L, -2, "toarray");
  lua_pushcfunction(L, l_save_nwb);
  lua_setfield(L, -2, "save_nwb");
  lua_pop(L, 1);
}
