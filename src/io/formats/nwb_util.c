/* HDF5 helpers of the NWB reader/writer (nwb_util.h). */
#include "io/formats/nwb_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "io/h5.h"

/* ---- writing ---------------------------------------------------------------------- */

hid_t spy_nwb_vlstr(void)
{
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  return t;
}

int spy_nwb_attr_str(hid_t obj, const char *name, const char *v)
{
  hid_t t = spy_nwb_vlstr(), sp = H5Screate(H5S_SCALAR),
        a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
  int rc = a >= 0 && H5Awrite(a, t, &v) >= 0 ? 0 : -1;
  spy_h5_close_attr(a);
  spy_h5_close_space(sp);
  spy_h5_close_type(t);
  return rc;
}

int spy_nwb_attr_strs(hid_t obj, const char *name, const char *const *v, size_t n)
{
  hsize_t dim = n;
  hid_t t = spy_nwb_vlstr(), sp = H5Screate_simple(1, &dim, NULL),
        a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
  int rc = a >= 0 && H5Awrite(a, t, v) >= 0 ? 0 : -1;
  spy_h5_close_attr(a);
  spy_h5_close_space(sp);
  spy_h5_close_type(t);
  return rc;
}

int spy_nwb_attr_num(hid_t obj, const char *name, hid_t type, double v)
{
  hid_t sp = H5Screate(H5S_SCALAR), a = H5Acreate2(obj, name, type, sp, H5P_DEFAULT, H5P_DEFAULT);
  int rc = a >= 0 && H5Awrite(a, H5T_NATIVE_DOUBLE, &v) >= 0 ? 0 : -1;
  spy_h5_close_attr(a);
  spy_h5_close_space(sp);
  return rc;
}

int spy_nwb_attr_ref(hid_t obj, const char *name, hid_t f, const char *path)
{
  hobj_ref_t ref;
  hid_t sp = H5Screate(H5S_SCALAR), a = -1;
  int rc = H5Rcreate(&ref, f, path, H5R_OBJECT, -1) < 0 ||
                   (a = H5Acreate2(obj, name, H5T_STD_REF_OBJ, sp, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
                   H5Awrite(a, H5T_STD_REF_OBJ, &ref) < 0
               ? -1
               : 0;
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

int spy_nwb_typed(hid_t obj, const char *ns, const char *type)
{
  char id[37];
  uuid4(id);
  return spy_nwb_attr_str(obj, "namespace", ns) | spy_nwb_attr_str(obj, "neurodata_type", type) |
         spy_nwb_attr_str(obj, "object_id", id);
}

hid_t spy_nwb_group(hid_t parent, const char *name)
{
  return H5Gcreate2(parent, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
}

static int ds_str(hid_t g, const char *name, const char *v)
{
  hid_t t = spy_nwb_vlstr(), sp = H5Screate(H5S_SCALAR),
        d = H5Dcreate2(g, name, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  int rc = d >= 0 && H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v) >= 0 ? 0 : -1;
  spy_h5_close_dset(d);
  spy_h5_close_space(sp);
  spy_h5_close_type(t);
  return rc;
}

hid_t spy_nwb_ds_1d(hid_t g, const char *name, hid_t ftype, hid_t mtype, const void *v, size_t n)
{
  hsize_t dim = n;
  hid_t sp = H5Screate_simple(1, &dim, NULL),
        d = H5Dcreate2(g, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (d >= 0 && n && v && H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) {
    H5Dclose(d);
    d = -1;
  }
  spy_h5_close_space(sp);
  return d;
}

int spy_nwb_column(hid_t g, const char *name, const char *desc, hid_t ftype, hid_t mtype,
                   const void *v, size_t n)
{
  hid_t d = spy_nwb_ds_1d(g, name, ftype, mtype, v, n);
  int rc = d >= 0 ? spy_nwb_typed(d, "hdmf-common", "VectorData") |
                        spy_nwb_attr_str(d, "description", desc)
                  : -1;
  spy_h5_close_dset(d);
  return rc;
}

int spy_nwb_index(hid_t g, const char *name, const char *target, const uint64_t *ends, size_t n)
{
  hid_t d = spy_nwb_ds_1d(g, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, ends, n);
  char desc[160];
  snprintf(desc, sizeof desc, "Index for VectorData '%s'", target);
  hobj_ref_t ref;
  hid_t sp = H5Screate(H5S_SCALAR), a = -1;
  int rc = d < 0 || spy_nwb_typed(d, "hdmf-common", "VectorIndex") |
                        spy_nwb_attr_str(d, "description", desc) ||
                   H5Rcreate(&ref, g, target, H5R_OBJECT, -1) < 0 ||
                   (a = H5Acreate2(d, "target", H5T_STD_REF_OBJ, sp, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
                   H5Awrite(a, H5T_STD_REF_OBJ, &ref) < 0
               ? -1
               : 0;
  spy_h5_close_attr(a);
  spy_h5_close_space(sp);
  spy_h5_close_dset(d);
  return rc;
}

int spy_nwb_ids(hid_t g, const int64_t *v, size_t n)
{
  int64_t *own = NULL;
  if (!v) {
    if (!(own = malloc((n + 1) * sizeof *own))) return -1;
    for (size_t i = 0; i < n; i++)
      own[i] = (int64_t)i;
  }
  hid_t d = spy_nwb_ds_1d(g, "id", H5T_STD_I64LE, H5T_NATIVE_INT64, v ? v : own, n);
  free(own);
  int rc = d >= 0 ? spy_nwb_typed(d, "hdmf-common", "ElementIdentifiers") : -1;
  spy_h5_close_dset(d);
  return rc;
}

int spy_nwb_skeleton(hid_t f, const char *const *names, const int64_t *ids, size_t nch)
{
  char now[64], id[37];
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
  uuid4(id);
  int bad = spy_nwb_typed(f, "core", "NWBFile") | spy_nwb_attr_str(f, "nwb_version", "2.6.0");
  const char *dates[1] = {now};
  hid_t vs = spy_nwb_vlstr(), x = spy_nwb_ds_1d(f, "file_create_date", vs, vs, dates, 1);
  bad |= x < 0;
  spy_h5_close_dset(x);
  bad |= ds_str(f, "identifier", id) | ds_str(f, "session_description", "unknown") |
         ds_str(f, "session_start_time", now) | ds_str(f, "timestamps_reference_time", now);
  hid_t acq = spy_nwb_group(f, "acquisition"), ana = spy_nwb_group(f, "analysis"),
        proc = spy_nwb_group(f, "processing"), stim = spy_nwb_group(f, "stimulus"),
        gen = spy_nwb_group(f, "general");
  hid_t pres = spy_nwb_group(stim, "presentation"), tmpl = spy_nwb_group(stim, "templates"),
        dev = spy_nwb_group(gen, "devices");
  hid_t ephys = spy_nwb_group(gen, "extracellular_ephys"), arr = spy_nwb_group(dev, "array");
  bad |= spy_nwb_typed(arr, "core", "Device") |
         spy_nwb_attr_str(arr, "description", "Unknown array") |
         spy_nwb_attr_str(arr, "manufacturer", "Unknown manufacturer");
  hid_t shank = spy_nwb_group(ephys, "shank0");
  bad |= spy_nwb_typed(shank, "core", "ElectrodeGroup") |
         spy_nwb_attr_str(shank, "description", "electrode group for shank 0") |
         spy_nwb_attr_str(shank, "location", "unknown brain area");
  bad |= H5Lcreate_soft("/general/devices/array", shank, "device", H5P_DEFAULT, H5P_DEFAULT) < 0;
  /* the electrodes table: names in `location`, as Syncopy writes them */
  hid_t el = spy_nwb_group(ephys, "electrodes");
  const char *cols[] = {"location", "group", "group_name", "label"};
  bad |= spy_nwb_typed(el, "hdmf-common", "DynamicTable") |
         spy_nwb_attr_str(el, "description", "metadata about extracellular electrodes") |
         spy_nwb_attr_strs(el, "colnames", cols, 4) | spy_nwb_ids(el, ids, nch);
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
  if (!bad) {
    bad |= spy_nwb_column(el, "location",
                          "the location of channel within the subject e.g. brain region", vs, vs,
                          names, nch);
    bad |= spy_nwb_column(el, "group", "a reference to the ElectrodeGroup this electrode is a part of",
                          H5T_STD_REF_OBJ, H5T_STD_REF_OBJ, refs, nch);
    bad |= spy_nwb_column(el, "group_name",
                          "the name of the ElectrodeGroup this electrode is a part of", vs, vs,
                          gname, nch);
    bad |= spy_nwb_column(el, "label", "label of electrode", vs, vs, (const char *const *)label,
                          nch);
  }
  spy_h5_close_type(vs);
  free(refs);
  free(gname);
  spy_strv_free(label, nch);
  hid_t all[] = {el, shank, arr, ephys, dev, tmpl, pres, gen, stim, proc, ana, acq};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++)
    if (all[i] >= 0) H5Gclose(all[i]);
    else bad = 1;
  return bad ? -1 : 0;
}

int spy_nwb_write_trials(hid_t f, const spy_data *d, spy_err *err)
{
  size_t n = d->ntrials;
  if (!n) return SPY_OK;
  double *v = malloc(3 * n * sizeof *v);
  if (!v) return spy_fail(err, SPY_ENOMEM, "out of memory");
  for (size_t k = 0; k < n; k++)
    for (int c = 0; c < 3; c++)
      v[c * n + k] = d->trldef[k * d->trlcols + (size_t)c] / d->samplerate;
  hid_t iv = spy_nwb_group(f, "intervals"), tr = iv >= 0 ? spy_nwb_group(iv, "trials") : -1;
  const char *tcols[] = {"start_time", "stop_time", "offset"};
  int rc = SPY_OK;
  if (tr < 0 ||
      (spy_nwb_typed(tr, "core", "TimeIntervals") |
       spy_nwb_attr_str(tr, "description", "experimental trials") |
       spy_nwb_attr_strs(tr, "colnames", tcols, 3) | spy_nwb_ids(tr, NULL, n) |
       spy_nwb_column(tr, "start_time", "Start time of epoch, in seconds", H5T_IEEE_F64LE,
                      H5T_NATIVE_DOUBLE, v, n) |
       spy_nwb_column(tr, "stop_time", "Stop time of epoch, in seconds", H5T_IEEE_F64LE,
                      H5T_NATIVE_DOUBLE, v + n, n) |
       spy_nwb_column(tr, "offset", "The offset of the trial.", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                      v + 2 * n, n)))
    rc = spy_h5_fail(err, SPY_EIO, "cannot write the trials table");
  free(v);
  if (tr >= 0) H5Gclose(tr);
  if (iv >= 0) H5Gclose(iv);
  return rc;
}

/* ---- reading ---------------------------------------------------------------------- */

void spy_nwb_get_attr_str(hid_t obj, const char *name, char *out, size_t n)
{
  out[0] = 0;
  if (H5Aexists(obj, name) <= 0) return;
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT), t = a >= 0 ? H5Aget_type(a) : -1;
  if (t >= 0 && H5Tget_class(t) == H5T_STRING) {
    if (H5Tis_variable_str(t) > 0) {
      char *s = NULL;
      hid_t mt = H5Tcopy(t); /* the file's own string type */
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

double spy_nwb_get_attr_num(hid_t obj, const char *name, double dflt)
{
  double v = dflt;
  if (H5Aexists(obj, name) <= 0) return dflt;
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  if (a < 0 || H5Aread(a, H5T_NATIVE_DOUBLE, &v) < 0) v = dflt;
  spy_h5_close_attr(a);
  H5Eclear2(H5E_DEFAULT);
  return v;
}

double *spy_nwb_get_doubles(hid_t g, const char *name, size_t *n)
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

char **spy_nwb_get_strings(hid_t g, const char *name, size_t *n)
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
      hid_t mt = H5Tcopy(t); /* the file's own string type */
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

bool spy_nwb_exists(hid_t f, const char *path)
{
  char buf[256];
  size_t n = strlen(path);
  if (n >= sizeof buf) return false;
  memcpy(buf, path, n + 1);
  for (size_t i = 1; i <= n; i++)
    if (buf[i] == '/' || buf[i] == 0) {
      char c = buf[i];
      buf[i] = 0;
      bool ok = H5Lexists(f, buf, H5P_DEFAULT) > 0;
      buf[i] = c;
      if (!ok) {
        H5Eclear2(H5E_DEFAULT);
        return false;
      }
    }
  return true;
}

int spy_nwb_read_trials(hid_t f, const char *path, const char *what, double t0, double fs,
                        double limit, double **trl, size_t *n, spy_err *err)
{
  *trl = NULL;
  *n = 0;
  size_t ntr = 0, nstop = 0, noff = 0;
  double *start = NULL, *stop = NULL, *offs = NULL;
  const char *tables[] = {"/intervals/trials", "/intervals/epochs"};
  for (int k = 0; k < 2 && !start; k++) {
    if (!spy_nwb_exists(f, tables[k])) continue;
    hid_t g = H5Gopen2(f, tables[k], H5P_DEFAULT);
    if (g < 0) continue;
    start = spy_nwb_get_doubles(g, "start_time", &ntr);
    stop = spy_nwb_get_doubles(g, "stop_time", &nstop);
    if (k == 0) offs = spy_nwb_get_doubles(g, "offset", &noff);
    H5Gclose(g);
    if (!start || !stop || nstop != ntr || !ntr) {
      free(start);
      free(stop);
      free(offs);
      start = stop = offs = NULL;
    }
  }
  H5Eclear2(H5E_DEFAULT);
  int rc = SPY_OK;
  if (start) {
    double *t = calloc(3 * ntr, sizeof *t);
    if (!t) rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    for (size_t k = 0; t && rc == SPY_OK && k < ntr; k++) {
      t[3 * k] = rint((start[k] - t0) * fs);
      t[3 * k + 1] = rint((stop[k] - t0) * fs);
      t[3 * k + 2] = offs && noff == ntr ? rint(offs[k] * fs) : 0;
      if (!isfinite(t[3 * k]) || !isfinite(t[3 * k + 1]) || !isfinite(t[3 * k + 2]) ||
          t[3 * k] < 0 || (limit >= 0 && t[3 * k + 1] > limit) || t[3 * k + 1] < t[3 * k])
        rc = limit >= 0 ? spy_fail(err, SPY_EFORMAT,
                                   "'%s': trial %zu [%g s, %g s] lies outside the %.0f samples of '%s'",
                                   path, k + 1, start[k], stop[k], limit, what)
                        : spy_fail(err, SPY_EFORMAT,
                                   "'%s': trial %zu [%g s, %g s] of '%s' starts before the "
                                   "recording or ends before it starts",
                                   path, k + 1, start[k], stop[k], what);
    }
    if (rc == SPY_OK) {
      *trl = t;
      *n = ntr;
    } else {
      free(t);
    }
  }
  free(start);
  free(stop);
  free(offs);
  return rc;
}

int spy_nwb_discrete_trials(hid_t f, const char *path, const char *what, double t0, double fs,
                            const double whole[3], spy_data *d, spy_err *err)
{
  double *trl = NULL;
  size_t ntr = 0;
  int rc = spy_nwb_read_trials(f, path, what, t0, fs, -1, &trl, &ntr, err);
  if (!rc && spy_data_set_trldef(d, trl ? trl : whole, trl ? ntr : 1, 3))
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
  free(trl);
  if (!rc) cJSON_AddNumberToObject(d->info, "starting_time", t0);
  return rc;
}

int spy_nwb_loaded(spy_data *d, const char *path, spy_err *err)
{
  char msg[1200];
  snprintf(msg, sizeof msg, "Read data from NWB file %s", path);
  spy_data_log(d, "load_nwb", msg);
  return spy_data_sync_meta(d, err);
}
