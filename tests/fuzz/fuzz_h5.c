/*
** libFuzzer target: the HDF5 side of the container loader on crafted but
** well-formed HDF5 files (issue #10).  The input drives a generator that
** writes, through libhdf5 itself, the container's `data` and
** `trialdefinition` with adversarial headers: shapes up to 2^40 rows with or
** without bytes behind them, odd types, contiguous / chunked / compact /
** external-storage / virtual layouts, soft and external links; the .info is
** made to agree with the announced shape so the loader gets past it.
** Properties (a violation aborts):
**   - loading fails with a message or gives an object whose rows read back
**     (or fail with a message);
**   - an object is never loaded from data kept outside the file (external
**     storage, external link, virtual dataset) or behind a soft link;
**   - no allocation beyond -malloc_limit_mb (run.sh), however large the
**     announced shape; no HDF5 handle left open.
** Unlike raw HDF5 bytes (fuzz_load's SPY_FUZZ_HDF5_BYTES), these files are
** valid, so libhdf5's own parser bugs stay out of the way.
*/
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "core/settings.h"
#include "io/container.h"
#include "io/h5.h"
#include "io/info.h"

static char dir[4096], hdf[4200], json[4200], other[4200], raw[4200];
static char *ref_json;
static size_t ref_json_n;

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

static uint64_t take64(input *in)
{
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = v << 8 | take(in, 0);
  return v;
}

static char *slurp(const char *path, size_t *n)
{
  FILE *f = fopen(path, "rb");
  if (!f) exit(1);
  fseek(f, 0, SEEK_END);
  *n = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = malloc(*n + 1);
  if (fread(b, 1, *n, f) != *n) exit(1);
  b[*n] = '\0';
  fclose(f);
  return b;
}

static void spit(const char *path, const void *p, size_t n)
{
  FILE *f = fopen(path, "wb");
  if (!f) exit(1);
  fwrite(p, 1, n, f);
  fclose(f);
}

static hsize_t pick_rows(input *in)
{
  static const hsize_t v[] = {0, 1, 5, 100, 10000, 1u << 20, (hsize_t)1 << 31, (hsize_t)1 << 40};
  unsigned k = take(in, 9);
  return k < 8 ? v[k] : take64(in) % ((hsize_t)1 << 44);
}

static hid_t pick_type(input *in, const char **name)
{
  switch (take(in, 6)) {
  case 1: *name = "float64"; return H5Tcopy(H5T_IEEE_F64LE);
  case 2: *name = "int64"; return H5Tcopy(H5T_STD_I64LE);
  case 3: *name = "int64"; return H5Tcopy(H5T_STD_I16BE); /* the .info says int64 */
  case 4: {
    *name = "complex64";
    hid_t t = H5Tcreate(H5T_COMPOUND, 8);
    H5Tinsert(t, "r", 0, H5T_IEEE_F32LE);
    H5Tinsert(t, "i", 4, H5T_IEEE_F32LE);
    return t;
  }
  case 5: {
    *name = "float32";
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, 4);
    return t;
  }
  default: *name = "float32"; return H5Tcopy(H5T_IEEE_F32LE);
  }
}

/*
** One dataset `name` in f (or, through a link, in `other`), shape dims,
** layout and link chosen by the input.  Bytes are written only when the
** shape is small; large ones are announced, not stored.
*/
static void make_dataset(input *in, hid_t f, hid_t g, const char *name, int nd, const hsize_t *dims,
                         hid_t type, const double *fill)
{
  hsize_t total = 1;
  int huge = 0;
  for (int i = 0; i < nd; i++) {
    if (dims[i] && total > ((hsize_t)1 << 40) / dims[i]) huge = 1;
    total *= dims[i];
  }
  size_t bytes = huge ? 0 : (size_t)total * H5Tget_size(type);
  unsigned layout = take(in, 5), link = take(in, 4);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  hid_t sp = H5Screate_simple(nd, dims, NULL);
  hid_t where = link >= 2 ? g : f; /* soft/external links point at a dataset elsewhere */
  const char *dname = link >= 2 ? "target" : name;
  if (layout == 1 && !huge) {
    hsize_t ch[2] = {dims[0] ? (dims[0] < 64 ? dims[0] : 64) : 1, nd > 1 && dims[1] ? dims[1] : 1};
    H5Pset_chunk(dcpl, nd, ch);
  } else if (layout == 2 && bytes < 32000) {
    H5Pset_layout(dcpl, H5D_COMPACT);
  } else if (layout == 3 && !huge) {
    spit(raw, "", 0);
    H5Pset_external(dcpl, raw, 0, bytes ? bytes : 1);
  } else if (layout == 4) {
    H5Pset_virtual(dcpl, sp, other, "data", sp);
  }
  hid_t ds = H5Dcreate2(where, dname, type, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  if (ds >= 0 && !huge && bytes && bytes <= (1u << 20) && layout != 4 && take(in, 4)) {
    double *x = malloc((size_t)total * sizeof *x);
    for (hsize_t i = 0; i < total; i++) x[i] = fill ? fill[i % 15] : (double)(i % 7);
    H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, x);
    free(x);
  }
  if (ds >= 0) H5Dclose(ds);
  if (link == 2) H5Lcreate_soft("/inner/target", f, name, H5P_DEFAULT, H5P_DEFAULT);
  if (link == 3) H5Lcreate_external(other, "/inner/target", f, name, H5P_DEFAULT, H5P_DEFAULT);
  H5Sclose(sp);
  H5Pclose(dcpl);
  H5Eclear2(H5E_DEFAULT);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void)st;
  (void)ftw;
  return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void remove_scratch(void) { nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  const char *data = getenv("SPY_TEST_DATA");
  char path[4200];
  snprintf(path, sizeof path, "%s/analog_ref.spy/analog_ref.analog.info", data ? data : "tests/data");
  ref_json = slurp(path, &ref_json_n);
  snprintf(dir, sizeof dir, "/tmp/spy_fuzz_h5_XXXXXX");
  if (!mkdtemp(dir)) exit(1);
  atexit(remove_scratch);
  setenv("SPYDIR", dir, 1);
  spy_err err;
  if (spy_settings_init(&err) != SPY_OK) exit(1);
  snprintf(path, sizeof path, "%s/f.spy", dir);
  spy_mkdirs(path, NULL);
  snprintf(hdf, sizeof hdf, "%s/f.analog", path);
  snprintf(json, sizeof json, "%s/f.analog.info", path);
  snprintf(other, sizeof other, "%s/other.h5", dir);
  snprintf(raw, sizeof raw, "%s/secret.bin", dir);
  spy_h5_init();
  return 0;
}

/* Is `name` in the file a hard link to a dataset stored in the file? */
static int stored_locally(const char *path, const char *name)
{
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  H5L_info_t li;
  int ok = f >= 0 && H5Lget_info(f, name, &li, H5P_DEFAULT) >= 0 && li.type == H5L_TYPE_HARD;
  if (ok) {
    hid_t ds = H5Dopen2(f, name, H5P_DEFAULT), dcpl = ds >= 0 ? H5Dget_create_plist(ds) : -1;
    ok = dcpl >= 0 && H5Pget_external_count(dcpl) == 0 && H5Pget_layout(dcpl) != H5D_VIRTUAL;
    if (dcpl >= 0) H5Pclose(dcpl);
    if (ds >= 0) H5Dclose(ds);
  }
  if (f >= 0) H5Fclose(f);
  H5Eclear2(H5E_DEFAULT);
  return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  input in = {data, size};
  spy_h5_lock();
  /* the other file: a group holding link targets, and a plain `data` */
  hid_t g0 = H5Fcreate(other, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hid_t f = H5Fcreate(hdf, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hid_t gin = H5Gcreate2(f, "inner", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  hsize_t small[2] = {10, 4};
  hid_t sp = H5Screate_simple(2, small, NULL);
  H5Dclose(H5Dcreate2(g0, "data", H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  H5Sclose(sp);

  const char *dtname;
  hid_t dt = pick_type(&in, &dtname);
  unsigned nch = 1 + take(&in, 6);
  hsize_t ddims[2] = {pick_rows(&in), nch};
  make_dataset(&in, f, gin, "data", 2, ddims, dt, NULL);
  H5Tclose(dt);

  hsize_t tdims[2] = {take(&in, 4) == 0 ? pick_rows(&in) : 1 + take(&in, 6), 3 + take(&in, 3) / 2};
  double trl[15];
  for (int i = 0; i < 15; i++) trl[i] = (double)(int8_t)take(&in, 0) * (i % 3 == 2 ? 1 : 3);
  hid_t tt = H5Tcopy(take(&in, 2) ? H5T_IEEE_F64LE : H5T_STD_I64LE);
  make_dataset(&in, f, gin, "trialdefinition", 2, tdims, tt, trl);
  H5Tclose(tt);
  H5Gclose(gin);
  H5Fclose(f);
  H5Fclose(g0);
  H5Eclear2(H5E_DEFAULT);
  spy_h5_unlock();

  /* an .info that agrees with what the headers announce */
  cJSON *v = NULL;
  if (spy_json_parse(ref_json, ref_json_n, &v, NULL) != SPY_OK) abort();
  cJSON *shape = cJSON_CreateArray(), *tshape = cJSON_CreateArray(), *labels = cJSON_CreateArray();
  cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)ddims[0]));
  cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)ddims[1]));
  cJSON_AddItemToArray(tshape, cJSON_CreateNumber((double)tdims[0]));
  cJSON_AddItemToArray(tshape, cJSON_CreateNumber((double)tdims[1]));
  for (unsigned i = 0; i < nch; i++) {
    char l[16];
    snprintf(l, sizeof l, "channel%u", i + 1);
    cJSON_AddItemToArray(labels, cJSON_CreateString(l));
  }
  cJSON_ReplaceItemInObject(v, "data_shape", shape);
  cJSON_ReplaceItemInObject(v, "trl_shape", tshape);
  cJSON_ReplaceItemInObject(v, "channel", labels);
  cJSON_ReplaceItemInObject(v, "data_dtype", cJSON_CreateString(dtname));
  cJSON_ReplaceItemInObject(v, "filename", cJSON_CreateString("f.analog"));
  char *text = spy_json_dump(v, 4);
  cJSON_Delete(v);
  spit(json, text, strlen(text));
  free(text);

  spy_err err = {0};
  spy_data *d = NULL;
  int rc = spy_load_file(hdf, false, &d, &err);
  if (rc == SPY_OK) {
    if (!stored_locally(hdf, "data") || !stored_locally(hdf, "trialdefinition")) {
      fprintf(stderr, "loaded a container whose data live elsewhere\n");
      abort();
    }
    size_t row = spy_data_row_elems(d), last = d->shape[d->ndim - 1];
    float *buf = malloc((row ? row : 1) * sizeof *buf);
    for (size_t r = 0; r < d->shape[0] && r < 64; r++)
      if (spy_data_read(d, r, 1, NULL, last, buf, SPY_DT_F32, &err) != SPY_OK && !err.msg[0]) abort();
    free(buf);
    spy_data_unref(d);
  } else if (!err.msg[0]) {
    abort();
  }
  ssize_t open_ids = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
  if (open_ids != 0) {
    fprintf(stderr, "%zd HDF5 objects left open\n", open_ids);
    abort();
  }
  return 0;
}
