/*
** libFuzzer target: the container loader on damaged containers.  The
** first input byte b picks what the input replaces in a scratch copy of
** Syncopy's analog_ref container:
**   b % 4 == 0: the .info; the HDF5 file is variant (b / 4) % 8 of a set of
**               valid HDF5 files that disagree with the reference in one way
**               (no trialdefinition, no data, bad rows, float64 data, ...);
** with SPY_FUZZ_HDF5_BYTES=1 in the environment also raw HDF5 bytes:
**   1 the HDF5 file, 2 both (split at the first NUL byte), 3 the HDF5 file
**   with the input XOR-ed over it from an offset.
** Raw bytes reach libhdf5's own parser, which has memory errors of its own
** on damaged files (tests/fuzz/libhdf5-known/), so the ctest run keeps to
** the first kind.  Loading must fail with a message or give an object whose
** rows read back (or fail with a message), and leave no HDF5 handle open.
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

static char dir[4096], hdf[4200], json[4200];
static int raw_bytes;
enum { NVARIANTS = 8 };
static char *variant[NVARIANTS];
static size_t variant_n[NVARIANTS];
static char *ref_hdf, *ref_json;
static size_t ref_hdf_n, ref_json_n;

static char *slurp(const char *path, size_t *n)
{
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "cannot read %s\n", path);
    exit(1);
  }
  fseek(f, 0, SEEK_END);
  *n = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = malloc(*n + 1);
  if (fread(b, 1, *n, f) != *n) exit(1);
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

/* Valid HDF5 files that each disagree with the reference .info in one way. */
static void make_variants(void)
{
  char path[4300];
  snprintf(path, sizeof path, "%s/variant.h5", dir);
  for (int v = 0; v < NVARIANTS; v++) {
    spit(path, ref_hdf, ref_hdf_n);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hsize_t d2[2] = {10000, 4}, d3[3] = {10, 4, 2}, t2[2] = {5, 3};
    hid_t s, ds;
    double trl[15];
    switch (v) {
    case 1: H5Ldelete(f, "trialdefinition", H5P_DEFAULT); break;
    case 2: H5Ldelete(f, "data", H5P_DEFAULT); break;
    case 3:
      ds = H5Dopen2(f, "trialdefinition", H5P_DEFAULT);
      H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, trl);
      trl[13] = 12000;
      trl[3] = 0.5;
      H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, trl);
      H5Dclose(ds);
      break;
    case 4:
    case 5:
      H5Ldelete(f, "data", H5P_DEFAULT);
      s = v == 4 ? H5Screate_simple(2, d2, NULL) : H5Screate_simple(3, d3, NULL);
      ds = H5Dcreate2(f, "data", v == 4 ? H5T_IEEE_F64LE : H5T_IEEE_F32LE, s, H5P_DEFAULT,
                      H5P_DEFAULT, H5P_DEFAULT);
      H5Dclose(ds);
      H5Sclose(s);
      break;
    case 6:
      H5Ldelete(f, "trialdefinition", H5P_DEFAULT);
      s = H5Screate_simple(2, t2, NULL);
      ds = H5Dcreate2(f, "trialdefinition", H5T_STD_I64LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      for (int i = 0; i < 15; i++) trl[i] = (i % 3 == 2) ? -1000 : (i / 3) * 2000 + (i % 3) * 2000;
      H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, trl);
      H5Dclose(ds);
      H5Sclose(s);
      break;
    case 7:
      H5Ldelete(f, "data", H5P_DEFAULT);
      H5Gclose(H5Gcreate2(f, "data", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
      break;
    default: break;
    }
    H5Fclose(f);
    variant[v] = slurp(path, &variant_n[v]);
  }
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
  snprintf(path, sizeof path, "%s/analog_ref.spy/analog_ref.analog", data ? data : "tests/data");
  ref_hdf = slurp(path, &ref_hdf_n);
  snprintf(path, sizeof path, "%s/analog_ref.spy/analog_ref.analog.info", data ? data : "tests/data");
  ref_json = slurp(path, &ref_json_n);
  snprintf(dir, sizeof dir, "/tmp/spy_fuzz_load_XXXXXX");
  if (!mkdtemp(dir)) exit(1);
  atexit(remove_scratch);
  setenv("SPYDIR", dir, 1);
  spy_err err;
  if (spy_settings_init(&err) != SPY_OK) exit(1);
  snprintf(path, sizeof path, "%s/f.spy", dir);
  spy_mkdirs(path, NULL);
  snprintf(hdf, sizeof hdf, "%s/f.analog", path);
  snprintf(json, sizeof json, "%s/f.analog.info", path);
  raw_bytes = getenv("SPY_FUZZ_HDF5_BYTES") && atoi(getenv("SPY_FUZZ_HDF5_BYTES"));
  spy_h5_init();
  make_variants();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1) return 0;
  int mode = raw_bytes ? data[0] % 4 : 0;
  const uint8_t *p = data + 1;
  size_t n = size - 1;
  switch (mode) {
  case 0:
    spit(json, p, n);
    spit(hdf, variant[(data[0] / 4) % NVARIANTS], variant_n[(data[0] / 4) % NVARIANTS]);
    break;
  case 1:
    spit(json, ref_json, ref_json_n);
    spit(hdf, p, n);
    break;
  case 2: {
    const uint8_t *z = memchr(p, 0, n);
    size_t k = z ? (size_t)(z - p) : n;
    spit(json, p, k);
    spit(hdf, z ? z + 1 : p + n, z ? n - k - 1 : 0);
    break;
  }
  default: {
    /* keep the file mostly intact so HDF5 gets past the superblock */
    char *copy = malloc(ref_hdf_n);
    memcpy(copy, ref_hdf, ref_hdf_n);
    size_t off = n >= 2 ? ((size_t)p[0] << 8 | p[1]) % ref_hdf_n : 0;
    for (size_t i = 2; i < n && off + i - 2 < ref_hdf_n; i++) copy[off + i - 2] ^= (char)p[i];
    spit(json, ref_json, ref_json_n);
    spit(hdf, copy, ref_hdf_n);
    free(copy);
    break;
  }
  }
  spy_err err = {0};
  spy_data *d = NULL;
  int rc = spy_load_file(hdf, size % 2 == 0, &d, &err);
  if (rc == SPY_OK) {
    size_t row = spy_data_row_elems(d), last = d->shape[d->ndim - 1];
    float *buf = malloc((row ? row : 1) * sizeof *buf);
    for (size_t r = 0; r < d->shape[0] && r < 64; r++)
      if (spy_data_read(d, r, 1, NULL, last, buf, SPY_DT_F32, &err) != SPY_OK && !err.msg[0]) abort();
    free(buf);
    spy_data_unref(d);
  } else if (!err.msg[0]) {
    abort();
  }
  /* Every HDF5 handle the loader opened is closed again. */
  ssize_t open_ids = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
  if (open_ids != 0) {
    fprintf(stderr, "%zd HDF5 objects left open\n", open_ids);
    abort();
  }
  return 0;
}
