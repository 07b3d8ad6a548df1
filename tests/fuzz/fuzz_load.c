/*
** libFuzzer target: the container loader on damaged files.  The first
** input byte picks what the input replaces in a scratch copy of Syncopy's
** analog_ref container: 0 the .info, 1 the HDF5 file, 2 both (split at the
** first NUL byte), 3 the HDF5 file with the input XOR-ed over its bytes
** from an offset.  Loading must fail with a message or give an object
** whose rows read back (or fail with a message), and leave no HDF5 handle
** open.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "core/settings.h"
#include "io/container.h"

static char dir[4096], hdf[4200], json[4200];
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
  setenv("SPYDIR", dir, 1);
  spy_err err;
  if (spy_settings_init(&err) != SPY_OK) exit(1);
  snprintf(path, sizeof path, "%s/f.spy", dir);
  spy_mkdirs(path, NULL);
  snprintf(hdf, sizeof hdf, "%s/f.analog", path);
  snprintf(json, sizeof json, "%s/f.analog.info", path);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1) return 0;
  int mode = data[0] % 4;
  const uint8_t *p = data + 1;
  size_t n = size - 1;
  switch (mode) {
  case 0:
    spit(json, p, n);
    spit(hdf, ref_hdf, ref_hdf_n);
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
