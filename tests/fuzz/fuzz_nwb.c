/*
** libFuzzer target: spy_load_nwb's units table and TTL readers on crafted
** but well-formed NWB files.  The input drives a generator that writes,
** through libhdf5, a units table (ids, ragged spike_times with a VectorIndex
** that may point past the end or go backwards, unsorted / negative / NaN
** times, odd dtypes and ranks, an electrodes region and per-spike
** electrodes that may be out of range, Syncopy's samplerate column), an
** optional ElectricalSeries giving the clock, TTL series of matching or
** mismatching lengths, and a trials table.
** Properties (a violation aborts):
**   - loading fails with a message, or gives objects whose discrete rows
**     are sorted by non-negative sample, whose labels match the distinct
**     channel / unit indices, and whose trials have start <= stop;
**   - no HDF5 handle left open.
*/
#include <ftw.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "core/settings.h"
#include "data/discrete.h"
#include "io/formats/nwb.h"
#include "io/h5.h"

static char dir[4096], path[4200];

typedef struct {
  const uint8_t *p;
  size_t n;
} input;

static unsigned take(input *in, unsigned mod)
{
  if (!in->n) return 0;
  unsigned v = *in->p++;
  in->n--;
  return mod ? v % mod : v;
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(p);
}

static void remove_scratch(void) { nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  snprintf(dir, sizeof dir, "/tmp/spy_fuzz_nwb_XXXXXX");
  if (!mkdtemp(dir)) exit(1);
  atexit(remove_scratch);
  setenv("SPYDIR", dir, 1);
  spy_err err;
  if (spy_settings_init(&err) != SPY_OK) exit(1);
  snprintf(path, sizeof path, "%s/f.nwb", dir);
  spy_h5_init();
  return 0;
}

static void str_attr(hid_t o, const char *name, const char *v)
{
  hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR);
  H5Tset_size(t, H5T_VARIABLE);
  hid_t a = H5Acreate2(o, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(a, t, &v);
  H5Aclose(a);
  H5Sclose(sp);
  H5Tclose(t);
}

static void num_attr(hid_t o, const char *name, double v)
{
  hid_t sp = H5Screate(H5S_SCALAR), a = H5Acreate2(o, name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(a, H5T_NATIVE_DOUBLE, &v);
  H5Aclose(a);
  H5Sclose(sp);
}

static hid_t group(hid_t f, const char *name, const char *type)
{
  hid_t g = H5Gcreate2(f, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (type) str_attr(g, "neurodata_type", type);
  return g;
}

/* n doubles as a 1-d dataset of a type the input picks (sometimes 2-d). */
static void column(input *in, hid_t g, const char *name, const double *v, size_t n)
{
  static const hid_t *types[] = {&H5T_IEEE_F64LE_g, &H5T_IEEE_F32LE_g, &H5T_STD_I32LE_g,
                                 &H5T_STD_U8LE_g, &H5T_STD_I64BE_g};
  unsigned k = take(in, 16);
  hid_t t = k < 5 ? *types[k] : H5T_IEEE_F64LE;
  hsize_t dims[2] = {n, 1};
  int rank = take(in, 16) == 15 ? 2 : 1;
  hid_t sp = H5Screate_simple(rank, dims, NULL);
  if (k == 5) { /* strings where numbers belong */
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, 4);
    H5Dclose(H5Dcreate2(g, name, st, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    H5Tclose(st);
  } else {
    hid_t d = H5Dcreate2(g, name, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (n) H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    H5Dclose(d);
  }
  H5Sclose(sp);
}

static double value(input *in)
{
  switch (take(in, 24)) {
  case 20: return NAN;
  case 21: return -1;
  case 22: return INFINITY;
  case 23: return 1e300;
  default: return take(in, 0) / 8.0;
  }
}

static void build(input *in)
{
  hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  str_attr(f, "neurodata_type", take(in, 32) != 31 ? "NWBFile" : "TimeSeries");
  double v[64], w[64];
  /* electrodes table */
  hid_t gen = group(f, "general", NULL), ec = group(gen, "extracellular_ephys", NULL);
  hid_t el = group(ec, "electrodes", "DynamicTable");
  unsigned nel = take(in, 4);
  if (nel) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    hsize_t dim = nel;
    hid_t sp = H5Screate_simple(1, &dim, NULL);
    const char *names[3] = {"A", take(in, 4) != 3 ? "B" : "A", "C"};
    hid_t d = H5Dcreate2(el, "location", t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, names);
    H5Dclose(d);
    H5Sclose(sp);
    H5Tclose(t);
  }
  hid_t acq = group(f, "acquisition", NULL);
  /* a series giving the clock */
  if (take(in, 3) == 0) {
    hid_t es = group(acq, "es", "ElectricalSeries");
    size_t ns = take(in, 8);
    for (size_t i = 0; i < ns; i++) v[i] = i;
    column(in, es, "data", v, ns);
    hid_t sp = H5Screate(H5S_SCALAR), st = H5Dcreate2(es, "starting_time", H5T_IEEE_F64LE, sp,
                                                       H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    double t0 = value(in);
    H5Dwrite(st, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &t0);
    num_attr(st, "rate", take(in, 8) != 7 ? 1 + take(in, 0) : value(in));
    H5Dclose(st);
    H5Sclose(sp);
    H5Gclose(es);
  }
  /* TTLs */
  if (take(in, 3) == 0) {
    hid_t g = group(acq, "TTL_PulseValues", take(in, 2) ? "TTLs" : "TimeSeries");
    size_t n = 1 + take(in, 11), m = take(in, 4) != 3 ? n : take(in, 12);
    for (size_t i = 0; i < 12; i++) {
      v[i] = take(in, 8) != 7 ? take(in, 0) / 16.0 : value(in);
      w[i] = take(in, 0) - 100.0;
    }
    column(in, g, "data", w, n);
    column(in, g, "timestamps", v, m);
    if (take(in, 4) != 3) {
      hid_t ts = H5Dopen2(g, "timestamps", H5P_DEFAULT);
      num_attr(ts, "resolution", take(in, 4) != 3 ? 1.0 / (1 + take(in, 0)) : value(in));
      H5Dclose(ts);
    }
    H5Gclose(g);
    if (take(in, 2)) {
      g = group(acq, "TTL_Channels", "TTLs");
      column(in, g, "data", w, take(in, 4) != 3 ? n : take(in, 12));
      H5Gclose(g);
    }
  }
  /* units */
  if (take(in, 8) != 7) {
    hid_t u = group(f, "units", "Units");
    size_t nu = 1 + take(in, 5), ends[8], total = 0;
    for (size_t i = 0; i < nu; i++) {
      total += 1 + take(in, 4);
      ends[i] = total;
      v[i] = take(in, 16) != 15 ? i * 3 : value(in);
    }
    if (take(in, 16) != 15) column(in, u, "id", v, nu);
    double e[8];
    for (size_t i = 0; i < nu; i++) e[i] = take(in, 12) != 11 ? (double)ends[i] : value(in);
    if (take(in, 16) != 15) column(in, u, "spike_times_index", e, nu);
    double t = 0;
    for (size_t i = 0; i < total; i++) {
      t = take(in, 8) != 7 ? t + take(in, 0) / 64.0 : value(in);
      v[i] = t;
      if (take(in, 6) == 5) t = 0; /* a new unit starts over */
    }
    if (take(in, 16) != 15) column(in, u, "spike_times", v, total);
    if (take(in, 2)) {
      for (size_t i = 0; i < nu; i++) w[i] = take(in, 6) != 5 ? 1000 : value(in);
      column(in, u, "samplerate", w, nu);
    }
    if (take(in, 2)) { /* electrodes region, ragged */
      size_t nr = 0;
      for (size_t i = 0; i < nu; i++) {
        nr += take(in, 3);
        e[i] = (double)nr;
        if (take(in, 16) == 15) e[i] = value(in);
      }
      for (size_t i = 0; i < nr; i++) w[i] = take(in, 8) != 7 ? take(in, 4) : -1.0;
      column(in, u, "electrodes", w, nr);
      if (take(in, 8) != 7) column(in, u, "electrodes_index", e, nu);
    }
    if (take(in, 4) == 3) {
      size_t n = take(in, 4) != 3 ? total : take(in, 24);
      for (size_t i = 0; i < n; i++) w[i] = take(in, 8) != 7 ? take(in, 4) : -1.0;
      column(in, u, "spike_electrodes", w, n);
    }
    H5Gclose(u);
  }
  if (take(in, 4) == 0) {
    hid_t iv = group(f, "intervals", NULL), tr = group(iv, "trials", "TimeIntervals");
    size_t n = take(in, 4);
    for (size_t i = 0; i < n; i++) {
      v[i] = value(in);
      w[i] = take(in, 8) != 7 ? v[i] + take(in, 0) / 8.0 : value(in);
    }
    column(in, tr, "start_time", v, n);
    column(in, tr, "stop_time", w, n);
    H5Gclose(tr);
    H5Gclose(iv);
  }
  H5Gclose(acq);
  H5Gclose(el);
  H5Gclose(ec);
  H5Gclose(gen);
  H5Fclose(f);
  H5Eclear2(H5E_DEFAULT);
}

static void check(spy_data *d)
{
  spy_err err = {0};
  for (size_t k = 0; k < d->ntrials; k++)
    if (!(d->trldef[k * d->trlcols] <= d->trldef[k * d->trlcols + 1])) abort();
  if (d->cls != SPY_SPIKE && d->cls != SPY_EVENT) return;
  spy_discrete_scan sc;
  if (spy_discrete_check(d, &sc, &err) != SPY_OK) {
    fprintf(stderr, "loaded discrete data that fail their own check: %s\n", err.msg);
    abort();
  }
  if (d->cls == SPY_SPIKE && (sc.col[0].n != d->nchannel || sc.col[1].n != d->nunit)) {
    fprintf(stderr, "labels do not match the indices\n");
    abort();
  }
  spy_discrete_scan_free(&sc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  input in = {data, size};
  spy_h5_lock();
  build(&in);
  spy_h5_unlock();
  double sr = take(&in, 4) == 0 ? 1 + take(&in, 0) : NAN;
  spy_err err = {0};
  spy_nwb_result r;
  int rc = spy_load_nwb(path, sr, &r, &err);
  if (rc != SPY_OK && !err.msg[0]) abort();
  for (size_t i = 0; rc == SPY_OK && i < r.n; i++)
    check(r.objs[i]);
  spy_objset_clear(&r);
  ssize_t open_ids = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
  if (open_ids != 0) {
    fprintf(stderr, "%zd HDF5 objects left open\n", open_ids);
    abort();
  }
  return 0;
}
