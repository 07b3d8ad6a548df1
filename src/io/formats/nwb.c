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
#include "io/h5.h"

#define ROWS 65536
#define ELECTRODES "/general/extracellular_ephys/electrodes"

/* ---- writing helpers (the caller holds the io lock; failures show in H5E) ---- */

static hid_t vlstr(void)
{
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  return t;
}

static int attr_str(hid_t obj, const char *name, const char *v)
{
  hid_t t = vlstr(), sp = H5Screate(H5S_SCALAR),
        a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
  int rc = a >= 0 && H5Awrite(a, t, &v) >= 0 ? 0 : -1;
  spy_h5_close_attr(a);
  spy_h5_close_space(sp);
  spy_h5_close_type(t);
  return rc;
}

static int attr_strs(hid_t obj, const char *name, const char *const *v, size_t n)
{
  hsize_t dim = n;
  hid_t t = vlstr(), sp = H5Screate_simple(1, &dim, NULL),
        a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
  int rc = a >= 0 && H5Awrite(a, t, v) >= 0 ? 0 : -1;
  spy_h5_close_attr(a);
  spy_h5_close_space(sp);
  spy_h5_close_type(t);
  return rc;
}

static int attr_num(hid_t obj, const char *name, hid_t type, double v)
{
  hid_t sp = H5Screate(H5S_SCALAR), a = H5Acreate2(obj, name, type, sp, H5P_DEFAULT, H5P_DEFAULT);
  int rc = a >= 0 && H5Awrite(a, H5T_NATIVE_DOUBLE, &v) >= 0 ? 0 : -1;
  spy_h5_close_attr(a);
  spy_h5_close_space(sp);
  return rc;
}

static void uuid4(char out[37])
{
  unsigned char b[16];
  FILE *f = fopen("/dev/urandom", "rb");
  if (!f || fread(b, 1, 16, f) != 16)
    for (int i = 0; i < 16; i++)
      b[i] = (unsigned char)rand();
  if (f) fclose(f);
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
  snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
           b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
           b[15]);
}

/* namespace, neurodata_type, object_id */
static int typed(hid_t obj, const char *ns, const char *type)
{
  char id[37];
  uuid4(id);
  return attr_str(obj, "namespace", ns) | attr_str(obj, "neurodata_type", type) |
         attr_str(obj, "object_id", id);
}

static hid_t group(hid_t parent, const char *name)
{
  return H5Gcreate2(parent, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
}

static int ds_str(hid_t g, const char *name, const char *v)
{
  hid_t t = vlstr(), sp = H5Screate(H5S_SCALAR),
        d = H5Dcreate2(g, name, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  int rc = d >= 0 && H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v) >= 0 ? 0 : -1;
  spy_h5_close_dset(d);
  spy_h5_close_space(sp);
  spy_h5_close_type(t);
  return rc;
}

/* A 1-d dataset; returns it open (caller closes) or -1. */
static hid_t ds_1d(hid_t g, const char *name, hid_t ftype, hid_t mtype, const void *v, size_t n)
{
  hsize_t dim = n;
  hid_t sp = H5Screate_simple(1, &dim, NULL),
        d = H5Dcreate2(g, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (d >= 0 && n && H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) {
    H5Dclose(d);
    d = -1;
  }
  spy_h5_close_space(sp);
  return d;
}

/* A VectorData column of a DynamicTable. */
static int column(hid_t g, const char *name, const char *desc, hid_t ftype, hid_t mtype,
                  const void *v, size_t n)
{
  hid_t d = ds_1d(g, name, ftype, mtype, v, n);
  int rc = d >= 0 ? typed(d, "hdmf-common", "VectorData") | attr_str(d, "description", desc) : -1;
  spy_h5_close_dset(d);
  return rc;
}

static int ids(hid_t g, size_t n)
{
  int64_t *v = malloc((n + 1) * sizeof *v);
  if (!v) return -1;
  for (size_t i = 0; i < n; i++)
    v[i] = (int64_t)i;
  hid_t d = ds_1d(g, "id", H5T_STD_I64LE, H5T_NATIVE_INT64, v, n);
  free(v);
  int rc = d >= 0 ? typed(d, "hdmf-common", "ElementIdentifiers") : -1;
  spy_h5_close_dset(d);
  return rc;
}

static int nwb_write(hid_t f, spy_data *d, bool trials, bool raw, spy_err *err)
{
  char now[64], id[37];
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
  uuid4(id);
  size_t nch = d->nchannel;
  int bad = typed(f, "core", "NWBFile") | attr_str(f, "nwb_version", "2.6.0");
  const char *dates[1] = {now};
  hid_t x = ds_1d(f, "file_create_date", vlstr(), vlstr(), dates, 1);
  bad |= x < 0;
  spy_h5_close_dset(x);
  bad |= ds_str(f, "identifier", id) | ds_str(f, "session_description", "unknown") |
         ds_str(f, "session_start_time", now) | ds_str(f, "timestamps_reference_time", now);
  hid_t acq = group(f, "acquisition"), ana = group(f, "analysis"), proc = group(f, "processing"),
        stim = group(f, "stimulus"), gen = group(f, "general");
  hid_t pres = group(stim, "presentation"), tmpl = group(stim, "templates"),
        dev = group(gen, "devices");
  hid_t ephys = group(gen, "extracellular_ephys"), arr = group(dev, "array");
  bad |= typed(arr, "core", "Device") | attr_str(arr, "description", "Unknown array") |
         attr_str(arr, "manufacturer", "Unknown manufacturer");
  hid_t shank = group(ephys, "shank0");
  bad |= typed(shank, "core", "ElectrodeGroup") |
         attr_str(shank, "description", "electrode group for shank 0") |
         attr_str(shank, "location", "unknown brain area");
  bad |= H5Lcreate_soft("/general/devices/array", shank, "device", H5P_DEFAULT, H5P_DEFAULT) < 0;
  /* the electrodes table: channel names in `location`, as Syncopy writes them */
  hid_t el = group(ephys, "electrodes");
  const char *cols[] = {"location", "group", "group_name", "label"};
  bad |= typed(el, "hdmf-common", "DynamicTable") |
         attr_str(el, "description", "metadata about extracellular electrodes") |
         attr_strs(el, "colnames", cols, 4) | ids(el, nch);
  hobj_ref_t *refs = malloc((nch + 1) * sizeof *refs);
  const char **gname = malloc((nch + 1) * sizeof *gname);
  char **label = calloc(nch + 1, sizeof *label);
  if (!refs || !gname || !label) bad = 1;
  for (size_t i = 0; !bad && i < nch; i++) {
    bad |= H5Rcreate(&refs[i], f, "/general/extracellular_ephys/shank0", H5R_OBJECT, -1) < 0;
    gname[i] = "shank0";
    char l[48];
    snprintf(l, sizeof l, "shank0elec%zu", i);
    label[i] = strdup(l);
    bad |= !label[i];
  }
  hid_t vs = vlstr();
  if (!bad) {
    bad |= column(el, "location", "the location of channel within the subject e.g. brain region",
                  vs, vs, (const char *const *)d->channel, nch);
    bad |= column(el, "group", "a reference to the ElectrodeGroup this electrode is a part of",
                  H5T_STD_REF_OBJ, H5T_STD_REF_OBJ, refs, nch);
    bad |= column(el, "group_name", "the name of the ElectrodeGroup this electrode is a part of",
                  vs, vs, gname, nch);
    bad |= column(el, "label", "label of electrode", vs, vs, (const char *const *)label, nch);
  }
  spy_h5_close_type(vs);
  free(refs);
  free(gname);
  spy_strv_free(label, nch);
  /* the series */
  hid_t home = acq, ecephys = -1, lfp = -1;
  if (!raw) {
    ecephys = group(proc, "ecephys");
    bad |= typed(ecephys, "core", "ProcessingModule") | attr_str(ecephys, "description", d->log);
    lfp = group(ecephys, "LFP");
    bad |= typed(lfp, "core", "LFP");
    home = lfp;
  }
  hid_t es = group(home, "ElectricalSeries");
  bad |= typed(es, "core", "ElectricalSeries") | attr_str(es, "comments", "Exported by spy") |
         attr_str(es, "description", "Electrical time series dataset");
  hid_t st = H5Screate(H5S_SCALAR), stds = H5Dcreate2(es, "starting_time", H5T_IEEE_F64LE, st,
                                                      H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  double zero = 0;
  bad |= stds < 0 || H5Dwrite(stds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &zero) < 0 ||
         attr_num(stds, "rate", H5T_IEEE_F64LE, d->samplerate) | attr_str(stds, "unit", "seconds");
  spy_h5_close_dset(stds);
  spy_h5_close_space(st);
  int64_t *idx = malloc((nch + 1) * sizeof *idx);
  for (size_t i = 0; idx && i < nch; i++)
    idx[i] = (int64_t)i;
  hid_t reg = idx ? ds_1d(es, "electrodes", H5T_STD_I64LE, H5T_NATIVE_INT64, idx, nch) : -1;
  free(idx);
  hobj_ref_t tref;
  hid_t rs = H5Screate(H5S_SCALAR), ra = -1;
  bad |= reg < 0 ||
         typed(reg, "hdmf-common", "DynamicTableRegion") |
             attr_str(reg, "description", "All electrodes.") ||
         H5Rcreate(&tref, f, ELECTRODES, H5R_OBJECT, -1) < 0 ||
         (ra = H5Acreate2(reg, "table", H5T_STD_REF_OBJ, rs, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
         H5Awrite(ra, H5T_STD_REF_OBJ, &tref) < 0;
  spy_h5_close_attr(ra);
  spy_h5_close_space(rs);
  spy_h5_close_dset(reg);
  /* data, streamed */
  hsize_t dims[2] = {d->shape[0], nch};
  hid_t ft = spy_h5_type(d->dtype), dsp = H5Screate_simple(2, dims, NULL);
  hid_t dd = H5Dcreate2(es, "data", ft, dsp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  bad |= dd < 0 || attr_num(dd, "conversion", H5T_IEEE_F32LE, 1.0) |
                       attr_num(dd, "offset", H5T_IEEE_F32LE, 0.0) |
                       attr_num(dd, "resolution", H5T_IEEE_F32LE, -1.0) |
                       attr_str(dd, "unit", "volts");
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
  /* trials: start_time, stop_time, offset in seconds */
  hid_t iv = -1, tr = -1;
  if (rc == SPY_OK && trials && d->ntrials) {
    size_t n = d->ntrials;
    double *v = malloc(3 * n * sizeof *v);
    if (!v) rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    for (size_t k = 0; v && k < n; k++)
      for (int c = 0; c < 3; c++)
        v[c * n + k] = d->trldef[k * d->trlcols + (size_t)c] / d->samplerate;
    iv = group(f, "intervals");
    tr = group(iv, "trials");
    const char *tcols[] = {"start_time", "stop_time", "offset"};
    if (v &&
        (typed(tr, "core", "TimeIntervals") | attr_str(tr, "description", "experimental trials") |
         attr_strs(tr, "colnames", tcols, 3) | ids(tr, n) |
         column(tr, "start_time", "Start time of epoch, in seconds", H5T_IEEE_F64LE,
                H5T_NATIVE_DOUBLE, v, n) |
         column(tr, "stop_time", "Stop time of epoch, in seconds", H5T_IEEE_F64LE,
                H5T_NATIVE_DOUBLE, v + n, n) |
         column(tr, "offset", "The offset of the trial.", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                v + 2 * n, n)))
      rc = spy_h5_fail(err, SPY_EIO, "cannot write the trials table");
    free(v);
  }
  hid_t all[] = {tr,  iv,   es,   lfp, ecephys, el,   shank, arr, ephys,
                 dev, tmpl, pres, gen, stim,    proc, ana,   acq};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++)
    if (all[i] >= 0) H5Gclose(all[i]);
  return rc;
}

int spy_save_nwb(spy_data *d, const char *path, bool with_trialdefinition, bool is_raw,
                 spy_err *err)
{
  if (d->cls != SPY_ANALOG)
    return spy_fail(err, SPY_ENOTSUP, "save_nwb writes AnalogData; got %s",
                    spy_dataclass_name(d->cls));
  if (d->dtype != SPY_DT_F32 && d->dtype != SPY_DT_F64)
    return spy_fail(err, SPY_ENOTSUP, "save_nwb writes real data (float32 or float64); got %s",
                    spy_dtype_name(d->dtype));
  spy_part p;
  int rc = spy_part_begin(&p, path, false, err);
  if (rc) return rc;
  spy_h5_lock();
  hid_t f = H5Fcreate(p.tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  rc = f < 0 ? spy_h5_fail(err, SPY_EIO, "cannot write '%s'", path)
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

/* A string attribute (fixed or variable length) into out ("" when missing). */
static void get_attr_str(hid_t obj, const char *name, char *out, size_t n)
{
  out[0] = 0;
  if (H5Aexists(obj, name) <= 0) return;
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT), t = a >= 0 ? H5Aget_type(a) : -1;
  if (t >= 0 && H5Tget_class(t) == H5T_STRING) {
    if (H5Tis_variable_str(t) > 0) {
      char *s = NULL;
      hid_t mt = vlstr();
      if (H5Aread(a, mt, &s) >= 0 && s) {
        snprintf(out, n, "%s", s);
        H5free_memory(s);
      }
      spy_h5_close_type(mt);
    } else {
      size_t len = H5Tget_size(t);
      char *s = calloc(len + 1, 1);
      if (s && H5Aread(a, t, s) >= 0) snprintf(out, n, "%s", s);
      free(s);
    }
  }
  spy_h5_close_type(t);
  spy_h5_close_attr(a);
}

static double get_attr_num(hid_t obj, const char *name, double dflt)
{
  double v = dflt;
  if (H5Aexists(obj, name) <= 0) return dflt;
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  if (a < 0 || H5Aread(a, H5T_NATIVE_DOUBLE, &v) < 0) v = dflt;
  spy_h5_close_attr(a);
  H5Eclear2(H5E_DEFAULT);
  return v;
}

/* A numeric 1-d dataset `name` of g as doubles (NULL when missing or not numeric). */
static double *get_doubles(hid_t g, const char *name, size_t *n)
{
  *n = 0;
  if (H5Lexists(g, name, H5P_DEFAULT) <= 0) return NULL;
  hid_t d = H5Dopen2(g, name, H5P_DEFAULT), sp = d >= 0 ? H5Dget_space(d) : -1;
  double *v = NULL;
  hssize_t np = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
  hid_t t = d >= 0 ? H5Dget_type(d) : -1;
  H5T_class_t c = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
  if (np >= 0 && (c == H5T_FLOAT || c == H5T_INTEGER) &&
      (v = malloc(((size_t)np + 1) * sizeof *v)) &&
      (np == 0 || H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0)) {
    *n = (size_t)np;
  } else {
    free(v);
    v = NULL;
  }
  spy_h5_close_type(t);
  spy_h5_close_space(sp);
  spy_h5_close_dset(d);
  H5Eclear2(H5E_DEFAULT);
  return v;
}

/* A 1-d string column as C strings (caller frees with spy_strv_free). */
static char **get_strings(hid_t g, const char *name, size_t *n)
{
  *n = 0;
  if (H5Lexists(g, name, H5P_DEFAULT) <= 0) return NULL;
  hid_t d = H5Dopen2(g, name, H5P_DEFAULT), sp = d >= 0 ? H5Dget_space(d) : -1,
        t = d >= 0 ? H5Dget_type(d) : -1;
  hssize_t np = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
  char **out = NULL;
  if (np > 0 && t >= 0 && H5Tget_class(t) == H5T_STRING) {
    out = calloc((size_t)np, sizeof *out);
    if (out && H5Tis_variable_str(t) > 0) {
      char **raw = calloc((size_t)np, sizeof *raw);
      hid_t mt = vlstr();
      if (raw && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) >= 0) {
        for (hssize_t i = 0; i < np; i++)
          out[i] = strdup(raw[i] ? raw[i] : "");
        H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, raw);
        *n = (size_t)np;
      }
      spy_h5_close_type(mt);
      free(raw);
    } else if (out) {
      size_t len = H5Tget_size(t);
      char *raw = calloc((size_t)np, len + 1);
      if (raw && H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) >= 0) {
        for (hssize_t i = 0; i < np; i++)
          out[i] = strndup(raw + (size_t)i * len, len);
        *n = (size_t)np;
      }
      free(raw);
    }
    if (!*n) {
      free(out);
      out = NULL;
    }
  }
  spy_h5_close_type(t);
  spy_h5_close_space(sp);
  spy_h5_close_dset(d);
  H5Eclear2(H5E_DEFAULT);
  return out;
}

typedef struct {
  char names[64][256];
  hid_t groups[64];
  size_t n;
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
  get_attr_str(s, "neurodata_type", type, sizeof type);
  if (strcmp(type, "ElectricalSeries") == 0) {
    snprintf(l->names[l->n], sizeof l->names[0], "%s", name);
    l->groups[l->n++] = s;
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
      fs = get_attr_num(s, "rate", NAN);
      H5Dclose(s);
    }
  }
  if (!(fs > 0 && isfinite(fs))) {
    rc = spy_fail(err, SPY_ENOTSUP,
                  "'%s': ElectricalSeries '%s' has no `starting_time` with a `rate` (series with "
                  "timestamps are not supported)",
                  path, name);
    goto exit;
  }
  gains = get_doubles(es, "channel_conversion", &ngain);
  if (gains && ngain != nch) {
    rc = spy_fail(err, SPY_EFORMAT,
                  "'%s': ElectricalSeries '%s': channel_conversion has %zu values for %zu channels",
                  path, name, ngain, nch);
    goto exit;
  }
  /* channel names: the electrodes' location (Syncopy's convention) */
  idx = get_doubles(es, "electrodes", &nidx);
  hid_t el = H5Lexists(f, ELECTRODES, H5P_DEFAULT) > 0 ? H5Gopen2(f, ELECTRODES, H5P_DEFAULT) : -1;
  if (el >= 0) {
    loc = get_strings(el, "location", &nloc);
    H5Gclose(el);
  }
  H5Eclear2(H5E_DEFAULT);
  d = spy_data_new(SPY_ANALOG);
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
  size_t ntr = 0, nstop = 0, noff = 0;
  double *start = NULL, *stop = NULL, *offs = NULL;
  const char *tables[] = {"/intervals/trials", "/intervals/epochs"};
  for (int k = 0; k < 2 && !start; k++) {
    if (H5Lexists(f, "/intervals", H5P_DEFAULT) <= 0 || H5Lexists(f, tables[k], H5P_DEFAULT) <= 0)
      continue;
    hid_t g = H5Gopen2(f, tables[k], H5P_DEFAULT);
    start = get_doubles(g, "start_time", &ntr);
    stop = get_doubles(g, "stop_time", &nstop);
    if (k == 0) offs = get_doubles(g, "offset", &noff);
    H5Gclose(g);
    if (!start || !stop || nstop != ntr) {
      free(start);
      free(stop);
      free(offs);
      start = stop = offs = NULL;
    }
  }
  H5Eclear2(H5E_DEFAULT);
  double whole[3] = {0, (double)nsamp, 0}, *trl = whole;
  if (start && ntr) {
    trl = calloc(3 * ntr, sizeof *trl);
    for (size_t k = 0; trl && k < ntr; k++) {
      trl[3 * k] = rint((start[k] - t0) * fs);
      trl[3 * k + 1] = rint((stop[k] - t0) * fs);
      trl[3 * k + 2] = offs && noff == ntr ? rint(offs[k] * fs) : 0;
      if (trl[3 * k] < 0 || trl[3 * k + 1] > (double)nsamp || trl[3 * k + 1] < trl[3 * k])
        rc = spy_fail(err, SPY_EFORMAT,
                      "'%s': trial %zu [%g s, %g s] lies outside the %zu samples of '%s'", path,
                      k + 1, start[k], stop[k], nsamp, name);
    }
    if (!trl) rc = spy_fail(err, SPY_ENOMEM, "out of memory");
  } else {
    ntr = 1;
  }
  if (rc == SPY_OK && spy_data_set_trldef(d, trl, ntr, 3))
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
  if (trl != whole) free(trl);
  free(start);
  free(stop);
  free(offs);
  if (rc) goto exit;
  cJSON_AddNumberToObject(d->info, "starting_time", t0);
  cJSON_AddNumberToObject(d->info, "conversion", get_attr_num(dd, "conversion", 1.0));
  cJSON_AddNumberToObject(d->info, "offset", get_attr_num(dd, "offset", 0.0));
  char unit[64];
  get_attr_str(dd, "unit", unit, sizeof unit);
  cJSON_AddStringToObject(d->info, "unit", unit);
  char msg[1200];
  snprintf(msg, sizeof msg, "Read data from NWB file %s", path);
  spy_data_log(d, "load_nwb", msg);
  if ((rc = spy_data_sync_meta(d, err))) goto exit;
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

int spy_load_nwb(const char *path, spy_nwb_result *r, spy_err *err)
{
  memset(r, 0, sizeof *r);
  FILE *probe = fopen(path, "rb");
  if (!probe) return spy_fail(err, SPY_ENOENT, "cannot open '%s': no such file", path);
  fclose(probe);
  spy_h5_lock();
  int rc = SPY_OK;
  serieslist *l = calloc(1, sizeof *l);
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  char type[64] = "";
  if (f >= 0) get_attr_str(f, "neurodata_type", type, sizeof type);
  if (!l)
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
  else if (f < 0 || strcmp(type, "NWBFile") != 0) {
    H5Eclear2(H5E_DEFAULT);
    rc = spy_fail(err, SPY_EFORMAT, "'%s' is not an NWB file (%s)", path,
                  f < 0 ? "not HDF5" : "its root has no neurodata_type 'NWBFile'");
  }
  const char *where[] = {"/acquisition", "/processing/ecephys/LFP"};
  for (int w = 0; rc == SPY_OK && w < 2; w++) {
    if (w == 1 && (H5Lexists(f, "/processing", H5P_DEFAULT) <= 0 ||
                   H5Lexists(f, "/processing/ecephys", H5P_DEFAULT) <= 0 ||
                   H5Lexists(f, where[1], H5P_DEFAULT) <= 0))
      continue;
    if (w == 0 && H5Lexists(f, where[0], H5P_DEFAULT) <= 0) continue;
    hid_t g = H5Gopen2(f, where[w], H5P_DEFAULT);
    l->skipped[0] = 0;
    H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, NULL, find_series, l);
    if (l->skipped[0])
      spy_warn_append(&r->warnings,
                      "'%s': skipped in %s: %s; only ElectricalSeries load (as AnalogData)", path,
                      where[w], l->skipped);
    H5Gclose(g);
  }
  H5Eclear2(H5E_DEFAULT);
  if (rc == SPY_OK && l->n == 0)
    rc =
        spy_fail(err, SPY_EFORMAT,
                 "'%s' holds no ElectricalSeries (in acquisition or processing/ecephys/LFP)", path);
  if (rc == SPY_OK) {
    r->names = calloc(l->n, sizeof *r->names);
    r->objs = calloc(l->n, sizeof *r->objs);
    if (!r->names || !r->objs) rc = spy_fail(err, SPY_ENOMEM, "out of memory");
  }
  for (size_t i = 0; rc == SPY_OK && i < l->n; i++) {
    r->names[i] = strdup(l->names[i]);
    r->n = i + 1;
    rc = load_series(f, l->groups[i], path, l->names[i], &r->objs[i], err);
  }
  for (size_t i = 0; l && i < l->n; i++)
    H5Gclose(l->groups[i]);
  free(l);
  spy_h5_close_file(f);
  spy_h5_unlock();
  return rc;
}
