/* NWB 2.x over HDF5 for AnalogData (nwb.h). */
#include "io/formats/nwb.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/interrupt.h"
#include "core/progress.h"
#include "io/formats/common.h"
#include "io/formats/nwb_util.h"
#include "io/h5.h"

#define ROWS 65536
/* ElectricalSeries.comments of a TimeLockData (load_nwb returns TimeLockData again) */
#define TIMELOCK_MARK "Exported by spy from TimeLockData"

/* One ElectricalSeries (AnalogData, TimeLockData) with its file around it. */
static int nwb_write(hid_t f, spy_data *d, bool trials, bool raw, spy_err *err)
{
  size_t nch = d->nchannel;
  int bad = spy_nwb_skeleton(f, (const char *const *)d->channel, NULL, nch);
  hid_t acq = H5Gopen2(f, "acquisition", H5P_DEFAULT), proc = H5Gopen2(f, "processing", H5P_DEFAULT);
  /* the series */
  hid_t home = acq, ecephys = -1, lfp = -1;
  if (!raw) {
    ecephys = spy_nwb_group(proc, "ecephys");
    bad |= spy_nwb_typed(ecephys, "core", "ProcessingModule") | spy_nwb_attr_str(ecephys, "description", d->log);
    lfp = spy_nwb_group(ecephys, "LFP");
    bad |= spy_nwb_typed(lfp, "core", "LFP");
    home = lfp;
  }
  hid_t es = spy_nwb_group(home, "ElectricalSeries");
  bad |= spy_nwb_typed(es, "core", "ElectricalSeries") | spy_nwb_attr_str(es, "comments", d->cls == SPY_TIMELOCK ? TIMELOCK_MARK : "Exported by spy") |
         spy_nwb_attr_str(es, "description", "Electrical time series dataset");
  hid_t st = H5Screate(H5S_SCALAR), stds = H5Dcreate2(es, "starting_time", H5T_IEEE_F64LE, st,
                                                      H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  double zero = 0;
  bad |= stds < 0 || H5Dwrite(stds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &zero) < 0 ||
         spy_nwb_attr_num(stds, "rate", H5T_IEEE_F64LE, d->samplerate) | spy_nwb_attr_str(stds, "unit", "seconds");
  spy_h5_close_dset(stds);
  spy_h5_close_space(st);
  int64_t *idx = malloc((nch + 1) * sizeof *idx);
  for (size_t i = 0; idx && i < nch; i++)
    idx[i] = (int64_t)i;
  hid_t reg = idx ? spy_nwb_ds_1d(es, "electrodes", H5T_STD_I64LE, H5T_NATIVE_INT64, idx, nch) : -1;
  free(idx);
  bad |= reg < 0 ||
         spy_nwb_typed(reg, "hdmf-common", "DynamicTableRegion") |
             spy_nwb_attr_str(reg, "description", "All electrodes.") |
             spy_nwb_attr_ref(reg, "table", f, SPY_NWB_ELECTRODES);
  spy_h5_close_dset(reg);
  /* data, streamed */
  hsize_t dims[2] = {d->shape[0], nch};
  hid_t ft = spy_h5_type(d->dtype), dsp = H5Screate_simple(2, dims, NULL);
  hid_t dd = H5Dcreate2(es, "data", ft, dsp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  bad |= dd < 0 || spy_nwb_attr_num(dd, "conversion", H5T_IEEE_F32LE, 1.0) |
                       spy_nwb_attr_num(dd, "offset", H5T_IEEE_F32LE, 0.0) |
                       spy_nwb_attr_num(dd, "resolution", H5T_IEEE_F32LE, -1.0) |
                       spy_nwb_attr_str(dd, "unit", "volts");
  int rc = bad ? spy_h5_fail(err, SPY_EIO, "cannot write the NWB structure") : SPY_OK;
  size_t esz = spy_dtype_size(d->dtype);
  void *buf = rc ? NULL : malloc((ROWS * nch + 1) * esz);
  if (!rc && !buf) rc = spy_fail(err, SPY_ENOMEM, "out of memory");
  for (size_t r0 = 0; rc == SPY_OK && r0 < d->shape[0]; r0 += ROWS) {
    size_t m = d->shape[0] - r0 < ROWS ? d->shape[0] - r0 : ROWS;
    if (spy_interrupted()) {
      rc = spy_fail(err, SPY_EINTR, "interrupted");
      break;
    }
    if ((rc = spy_data_read(d, r0, m, NULL, nch, buf, d->dtype, err))) break;
    hsize_t off[2] = {r0, 0}, cnt[2] = {m, nch};
    hid_t ms = H5Screate_simple(2, cnt, NULL);
    H5Sselect_hyperslab(dsp, H5S_SELECT_SET, off, NULL, cnt, NULL);
    hid_t mt = spy_h5_type(d->dtype);
    if (H5Dwrite(dd, mt, ms, dsp, H5P_DEFAULT, buf) < 0)
      rc = spy_h5_fail(err, SPY_EIO, "cannot write the data");
    spy_h5_close_type(mt);
    spy_h5_close_space(ms);
  }
  free(buf);
  spy_h5_close_dset(dd);
  spy_h5_close_space(dsp);
  spy_h5_close_type(ft);
  if (rc == SPY_OK && trials) rc = spy_nwb_write_trials(f, d, err);
  hid_t all[] = {es, lfp, ecephys, proc, acq};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++)
    if (all[i] >= 0) H5Gclose(all[i]);
  return rc;
}

/* A SpikeData's units table or an EventData's TTL series, with trials (the units
** writer writes the skeleton: its electrodes are the channels it finds). */
static int nwb_write_discrete(hid_t f, spy_data *d, bool trials, spy_err *err)
{
  int rc = SPY_OK;
  if (d->cls == SPY_SPIKE) {
    rc = spy_nwb_write_units(f, d, err);
  } else {
    rc = spy_nwb_skeleton(f, NULL, NULL, 0) ? spy_h5_fail(err, SPY_EIO, "cannot write the NWB structure")
                                            : spy_nwb_write_ttls(f, d, err);
  }
  if (!rc && trials) rc = spy_nwb_write_trials(f, d, err);
  return rc;
}

int spy_save_nwb(spy_data *d, const char *path, bool with_trialdefinition, bool is_raw,
                 spy_err *err)
{
  bool discrete = d->cls == SPY_SPIKE || d->cls == SPY_EVENT;
  if (d->cls != SPY_ANALOG && d->cls != SPY_TIMELOCK && !discrete)
    return spy_fail(err, SPY_ENOTSUP,
                    "save_nwb writes AnalogData, TimeLockData, SpikeData or EventData; got %s",
                    spy_dataclass_name(d->cls));
  if (!discrete && d->dtype != SPY_DT_F32 && d->dtype != SPY_DT_F64)
    return spy_fail(err, SPY_ENOTSUP, "save_nwb writes real data (float32 or float64); got %s",
                    spy_dtype_name(d->dtype));
  if (discrete && !(d->samplerate > 0))
    return spy_fail(err, SPY_EINVAL,
                    "Invalid value of `samplerate`: 'None'; expected a samplerate (NWB stores "
                    "times in seconds)");
  if (d->cls == SPY_EVENT && d->ndim == 2 && d->shape[1] > 3)
    return spy_fail(err, SPY_ENOTSUP,
                    "save_nwb writes EventData with the columns sample, eventid and at most one "
                    "more (TTL_Channels); got %zu columns",
                    d->shape[1]);
  spy_part p;
  int rc = spy_part_begin(&p, path, false, err);
  if (rc) return rc;
  spy_h5_lock();
  hid_t f = H5Fcreate(p.tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  rc = f < 0       ? spy_h5_fail(err, SPY_EIO, "cannot write '%s'", path)
       : discrete ? nwb_write_discrete(f, d, with_trialdefinition, err)
                  : nwb_write(f, d, with_trialdefinition, is_raw, err);
  if (f >= 0 && H5Fclose(f) < 0 && rc == SPY_OK)
    rc = spy_h5_fail(err, SPY_EIO, "cannot write '%s'", path);
  spy_h5_unlock();
  if (rc) {
    spy_err_prefix(err, "'%s'", path);
    spy_part_abort(&p);
    return rc;
  }
  return spy_part_commit(&p, err);
}

/* ---- reading ------------------------------------------------------------------------- */

typedef struct {
  char names[64][256];
  hid_t groups[64];
  size_t n;
  bool ttl;           /* /acquisition/TTL_PulseValues */
  char skipped[1024]; /* "name (type), ..." of other objects */
} serieslist;

static herr_t find_series(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
  (void)info;
  serieslist *l = data;
  H5O_info_t oi;
  if (l->n >= 64 || H5Oget_info_by_name(g, name, &oi, H5P_DEFAULT) < 0 || oi.type != H5O_TYPE_GROUP)
    return 0;
  hid_t s = H5Gopen2(g, name, H5P_DEFAULT);
  char type[64];
  spy_nwb_get_attr_str(s, "neurodata_type", type, sizeof type);
  if (strcmp(type, "ElectricalSeries") == 0) {
    snprintf(l->names[l->n], sizeof l->names[0], "%s", name);
    l->groups[l->n++] = s;
  } else if ((strcmp(type, "TTLs") == 0 || strcmp(type, "TimeSeries") == 0) &&
             (strcmp(name, "TTL_PulseValues") == 0 || strcmp(name, "TTL_Channels") == 0 ||
              strcmp(name, "TTL_ChannelStates") == 0)) {
    /* Syncopy's TTL series (esi-oephys2nwb): loaded as EventData */
    l->ttl |= strcmp(name, "TTL_PulseValues") == 0;
    H5Gclose(s);
  } else {
    size_t len = strlen(l->skipped);
    snprintf(l->skipped + len, sizeof l->skipped - len, "%s%s (%s)", len ? ", " : "", name,
             type[0] ? type : "untyped");
    H5Gclose(s);
  }
  return 0;
}

/* One ElectricalSeries into an AnalogData. */
static int load_series(hid_t f, hid_t es, const char *path, const char *name, spy_data **out,
                       spy_err *err)
{
  *out = NULL;
  int rc = SPY_OK;
  hid_t dd = H5Dopen2(es, "data", H5P_DEFAULT), sp = dd >= 0 ? H5Dget_space(dd) : -1,
        ft = dd >= 0 ? H5Dget_type(dd) : -1;
  hsize_t dims[2] = {0, 1};
  int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
  H5T_class_t cls = ft >= 0 ? H5Tget_class(ft) : H5T_NO_CLASS;
  double *gains = NULL, *idx = NULL, fs = NAN, t0 = 0;
  char **loc = NULL;
  size_t ngain = 0, nidx = 0, nloc = 0;
  void *buf = NULL;
  spy_data *d = NULL;
  if (dd < 0 || (rank != 1 && rank != 2) || (cls != H5T_FLOAT && cls != H5T_INTEGER)) {
    rc = spy_fail(err, SPY_EFORMAT, "'%s': ElectricalSeries '%s' has no numeric 1-d or 2-d `data`",
                  path, name);
    goto exit;
  }
  H5Sget_simple_extent_dims(sp, dims, NULL);
  if (rank == 1) dims[1] = 1;
  spy_dtype t =
      (cls == H5T_FLOAT && H5Tget_size(ft) == 4) || (cls == H5T_INTEGER && H5Tget_size(ft) <= 2)
          ? SPY_DT_F32
          : SPY_DT_F64;
  size_t nch = (size_t)dims[1], nsamp = (size_t)dims[0];
  /* timing: starting_time@rate (Syncopy needs both) */
  if (H5Lexists(es, "starting_time", H5P_DEFAULT) > 0) {
    hid_t s = H5Dopen2(es, "starting_time", H5P_DEFAULT);
    if (s >= 0) {
      H5Dread(s, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &t0);
      fs = spy_nwb_get_attr_num(s, "rate", NAN);
      H5Dclose(s);
    }
  }
  if (fs > SPY_MAX_SAMPLERATE) {
    rc = spy_fail(err, SPY_EFORMAT,
                  "'%s': ElectricalSeries '%s' has a `rate` of %g Hz; expected 0 < rate <= %g Hz",
                  path, name, fs, SPY_MAX_SAMPLERATE);
    goto exit;
  }
  if (!(fs > 0 && isfinite(fs))) {
    rc = spy_fail(err, SPY_ENOTSUP,
                  "'%s': ElectricalSeries '%s' has no `starting_time` with a `rate` (series with "
                  "timestamps are not supported)",
                  path, name);
    goto exit;
  }
  gains = spy_nwb_get_doubles(es, "channel_conversion", &ngain);
  if (gains && ngain != nch) {
    rc = spy_fail(err, SPY_EFORMAT,
                  "'%s': ElectricalSeries '%s': channel_conversion has %zu values for %zu channels",
                  path, name, ngain, nch);
    goto exit;
  }
  /* channel names: the electrodes' location (Syncopy's convention) */
  idx = spy_nwb_get_doubles(es, "electrodes", &nidx);
  hid_t el = H5Lexists(f, SPY_NWB_ELECTRODES, H5P_DEFAULT) > 0 ? H5Gopen2(f, SPY_NWB_ELECTRODES, H5P_DEFAULT) : -1;
  if (el >= 0) {
    loc = spy_nwb_get_strings(el, "location", &nloc);
    H5Gclose(el);
  }
  H5Eclear2(H5E_DEFAULT);
  char comments[64];
  spy_nwb_get_attr_str(es, "comments", comments, sizeof comments);
  d = spy_data_new(strcmp(comments, TIMELOCK_MARK) == 0 ? SPY_TIMELOCK : SPY_ANALOG);
  if (!d) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto exit;
  }
  size_t shape[2] = {nsamp, nch};
  if ((rc = spy_data_create(d, t, 2, shape, err))) goto exit;
  d->samplerate = fs;
  bool named = idx && nidx == nch && loc;
  for (size_t i = 0; named && i < nch; i++)
    named = idx[i] >= 0 && (size_t)idx[i] < nloc;
  bool unique = named && nch > 1 ? false : named;
  for (size_t i = 1; named && i < nch && !unique; i++)
    unique = strcmp(loc[(size_t)idx[i]], loc[(size_t)idx[0]]) != 0;
  if (unique) {
    const char **lab = malloc(nch * sizeof *lab);
    for (size_t i = 0; lab && i < nch; i++)
      lab[i] = loc[(size_t)idx[i]];
    rc = lab && spy_data_set_channel(d, lab, nch) == SPY_OK
             ? SPY_OK
             : spy_fail(err, SPY_ENOMEM, "out of memory");
    free(lab);
  } else {
    rc = spy_data_default_channels(d, nch) ? spy_fail(err, SPY_ENOMEM, "out of memory") : SPY_OK;
  }
  if (rc) goto exit;
  buf = malloc((ROWS * nch + 1) * spy_dtype_size(t));
  if (!buf) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto exit;
  }
  hid_t mt = t == SPY_DT_F32 ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE;
  spy_progress_begin(nsamp / ROWS + 1);
  for (size_t r0 = 0; r0 < nsamp && rc == SPY_OK; r0 += ROWS) {
    size_t m = nsamp - r0 < ROWS ? nsamp - r0 : ROWS;
    if (spy_interrupted()) {
      rc = spy_fail(err, SPY_EINTR, "interrupted while loading '%s'", path);
      break;
    }
    hsize_t off[2] = {r0, 0}, cnt[2] = {m, nch};
    hid_t ms = H5Screate_simple(rank, cnt, NULL);
    H5Sselect_hyperslab(sp, H5S_SELECT_SET, off, NULL, cnt, NULL);
    if (H5Dread(dd, mt, ms, sp, H5P_DEFAULT, buf) < 0)
      rc = spy_h5_fail(err, SPY_EFORMAT, "'%s': cannot read rows %zu-%zu of '%s'", path, r0, r0 + m,
                       name);
    spy_h5_close_space(ms);
    if (rc == SPY_OK && gains)
      for (size_t j = 0; j < m; j++)
        for (size_t c = 0; c < nch; c++) {
          if (t == SPY_DT_F32)
            ((float *)buf)[j * nch + c] = (float)(((float *)buf)[j * nch + c] * gains[c]);
          else
            ((double *)buf)[j * nch + c] *= gains[c];
        }
    if (rc == SPY_OK) rc = spy_data_write(d, r0, m, 0, nch, buf, t, err);
    if (rc == SPY_OK) spy_progress_update(r0 / ROWS + 1);
  }
  spy_progress_end(rc == SPY_OK);
  if (rc) goto exit;
  /* trials (else epochs), relative to starting_time */
  double whole[3] = {0, (double)nsamp, 0}, *trl = NULL;
  size_t ntr = 0;
  if ((rc = spy_nwb_read_trials(f, path, name, t0, fs, (double)nsamp, &trl, &ntr, err))) goto exit;
  if (spy_data_set_trldef(d, trl ? trl : whole, trl ? ntr : 1, 3))
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
  free(trl);
  if (rc) goto exit;
  /* TimeLockData stays one when its trials still are time-locked */
  for (size_t k = 1; d->cls == SPY_TIMELOCK && k < d->ntrials; k++) {
    const double *a = d->trldef, *b = d->trldef + k * d->trlcols;
    if (b[1] - b[0] != a[1] - a[0] || b[2] != a[2]) d->cls = SPY_ANALOG;
  }
  cJSON_AddNumberToObject(d->info, "starting_time", t0);
  cJSON_AddNumberToObject(d->info, "conversion", spy_nwb_get_attr_num(dd, "conversion", 1.0));
  cJSON_AddNumberToObject(d->info, "offset", spy_nwb_get_attr_num(dd, "offset", 0.0));
  char unit[64];
  spy_nwb_get_attr_str(dd, "unit", unit, sizeof unit);
  cJSON_AddStringToObject(d->info, "unit", unit);
  if ((rc = spy_nwb_loaded(d, path, err))) goto exit;
  *out = d;
  d = NULL;
exit:
  if (d) spy_data_unref(d);
  free(buf);
  free(gains);
  free(idx);
  spy_strv_free(loc, nloc);
  spy_h5_close_type(ft);
  spy_h5_close_space(sp);
  spy_h5_close_dset(dd);
  return rc;
}

int spy_load_nwb(const char *path, double samplerate, spy_nwb_result *r, spy_err *err)
{
  memset(r, 0, sizeof *r);
  int rc0 = spy_check_file(path, err);
  if (rc0) return rc0;
  if (!isnan(samplerate) && !(samplerate > 0 && isfinite(samplerate)))
    return spy_fail(err, SPY_EINVAL,
                    "Invalid value of `samplerate`: '%g'; expected a positive number", samplerate);
  spy_h5_lock();
  int rc = SPY_OK;
  serieslist *l = calloc(1, sizeof *l);
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  char type[64] = "";
  if (f >= 0) spy_nwb_get_attr_str(f, "neurodata_type", type, sizeof type);
  if (!l)
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
  else if (f < 0 || strcmp(type, "NWBFile") != 0) {
    H5Eclear2(H5E_DEFAULT);
    rc = spy_fail(err, SPY_EFORMAT, "'%s' is not an NWB file (%s)", path,
                  f < 0 ? "not HDF5" : "its root has no neurodata_type 'NWBFile'");
  }
  const char *where[] = {"/acquisition", "/processing/ecephys/LFP"};
  for (int w = 0; rc == SPY_OK && w < 2; w++) {
    if (!spy_nwb_exists(f, where[w])) continue;
    hid_t g = H5Gopen2(f, where[w], H5P_DEFAULT);
    l->skipped[0] = 0;
    H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, NULL, find_series, l);
    if (l->skipped[0])
      spy_warn_append(&r->warnings,
                      "'%s': skipped in %s: %s; only ElectricalSeries (AnalogData), units "
                      "(SpikeData) and TTL_PulseValues (EventData) load",
                      path, where[w], l->skipped);
    H5Gclose(g);
  }
  H5Eclear2(H5E_DEFAULT);
  bool units = rc == SPY_OK && spy_nwb_exists(f, "/units");
  size_t nobj = rc == SPY_OK ? l->n + units + l->ttl : 0;
  if (rc == SPY_OK && nobj == 0)
    rc = spy_fail(err, SPY_EFORMAT,
                  "'%s' holds no ElectricalSeries (in acquisition or processing/ecephys/LFP), no "
                  "units table and no TTL_PulseValues",
                  path);
  if (rc == SPY_OK) {
    r->names = calloc(nobj, sizeof *r->names);
    r->objs = calloc(nobj, sizeof *r->objs);
    if (!r->names || !r->objs) rc = spy_fail(err, SPY_ENOMEM, "out of memory");
  }
  for (size_t i = 0; rc == SPY_OK && i < l->n; i++) {
    if (!(r->names[i] = strdup(l->names[i]))) rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    r->n = i + 1;
    if (!rc) rc = load_series(f, l->groups[i], path, l->names[i], &r->objs[i], err);
  }
  /* spikes and TTLs share the first series' clock (Syncopy: tStarts[0], sRates[0]); a given
  ** samplerate wins */
  const spy_data *first = rc == SPY_OK && l->n ? r->objs[0] : NULL;
  double t0 = first ? cJSON_GetNumberValue(cJSON_GetObjectItem(first->info, "starting_time")) : 0;
  double fs = !isnan(samplerate) ? samplerate : first ? first->samplerate : NAN;
  double nsamp = first ? (double)first->shape[0] : -1;
  const char *extra[] = {"units", "TTL_PulseValues"};
  for (int k = 0; k < 2 && rc == SPY_OK; k++) {
    if (!(k == 0 ? units : l->ttl)) continue;
    size_t i = r->n;
    if (!(r->names[i] = strdup(extra[k]))) rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    r->n = i + 1;
    if (!rc)
      rc = k == 0 ? spy_nwb_load_units(f, path, fs, t0, nsamp, &r->objs[i], &r->warnings, err)
                  : spy_nwb_load_ttls(f, path, isnan(samplerate) ? NAN : samplerate, t0,
                                      &r->objs[i], err);
  }
  for (size_t i = 0; l && i < l->n; i++)
    H5Gclose(l->groups[i]);
  free(l);
  spy_h5_close_file(f);
  spy_h5_unlock();
  return rc;
}
