/* Plain HDF5 import/export: the reference files read exactly as HDF5 itself
** reads them, every dtype survives a round trip bit for bit, complex values
** are stored the way h5py stores them, and failures say what went wrong. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "h5ref.h"
#include "io/h5plain.h"
#include "t.h"

static char dir[64], path[128];

static const char *tmp(const char *name)
{
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return path;
}

static void test_reference(void)
{
  spy_err err = {0};
  spy_h5data d;
  const char *f = t_data("mtmfft_hann_pow.h5");

  CHECK(spy_h5read(f, "output", &d, &err) == SPY_OK, "%s", err.msg);
  spy_array *a = d.array;
  CHECK(a && a->dtype == SPY_DT_F32 && a->ndim == 4, "output is 4-d float32");
  CHECK(a->shape[0] == 5 && a->shape[1] == 1 && a->shape[2] == 1001 && a->shape[3] == 4, "shape");
  int nd;
  size_t shape[8], bad = 0;
  double *ref = h5ref_read(f, "output", &nd, shape);
  for (size_t i = 0; ref && i < spy_array_numel(a); i++)
    bad += ((float *)a->buf->data)[i] != ref[i];
  CHECK(ref && bad == 0, "%zu elements differ from HDF5's own read", bad);
  free(ref);
  spy_h5data_clear(&d);

  CHECK(spy_h5read(f, "freq", &d, &err) == SPY_OK, "%s", err.msg);
  a = d.array;
  bad = 0;
  for (size_t i = 0; i < 1001; i++)
    bad += ((double *)a->buf->data)[i] != 0.5 * (double)i;
  CHECK(a->dtype == SPY_DT_F64 && a->shape[0] == 1001 && bad == 0, "freq is 0:0.5:500");
  spy_h5data_clear(&d);

  CHECK(spy_h5read(f, "channel", &d, &err) == SPY_OK, "%s", err.msg);
  CHECK(!d.array && d.nstrings == 4 && d.ndim == 1 && d.shape[0] == 4, "4 channel labels");
  CHECK(d.strings && strcmp(d.strings[0], "channel1") == 0 && strcmp(d.strings[3], "channel4") == 0,
        "fixed-length strings");
  spy_h5data_clear(&d);
}

/* Writes a, reads it back, compares bytes. */
static void roundtrip(const spy_array *a, const char *name)
{
  spy_err err = {0};
  spy_h5data d;
  CHECK(spy_h5write(tmp("rt.h5"), name, a, false, &err) == SPY_OK, "%s: %s", name, err.msg);
  CHECK(spy_h5read(tmp("rt.h5"), name, &d, &err) == SPY_OK, "%s: %s", name, err.msg);
  spy_array *b = d.array;
  bool same = b && b->dtype == a->dtype && b->ndim == a->ndim;
  for (int i = 0; same && i < a->ndim; i++)
    same = a->shape[i] == b->shape[i];
  size_t n = spy_array_numel(a), es = spy_dtype_size(a->dtype);
  char *packed = malloc(n * es + 1);
  spy_array_pack(a, packed, a->dtype);
  CHECK(same && memcmp(packed, b->buf->data, n * es) == 0, "%s: round trip differs", name);
  free(packed);
  spy_h5data_clear(&d);
}

static void test_roundtrip(void)
{
  size_t sh[] = {3, 5};
  for (int t = 0; t < SPY_DT_NTYPES; t++) {
    spy_array *a = spy_array_new((spy_dtype)t, 2, sh);
    for (size_t i = 0; i < 15; i++)
      spy_array_setc_flat(a, i, CMPLX(1.0 / 3 * (double)i - 2, 0.1 * (double)i));
    if (t != SPY_DT_I64) {
      spy_array_setc_flat(a, 3, CMPLX(NAN, INFINITY));
      spy_array_setc_flat(a, 4, -INFINITY);
    }
    roundtrip(a, spy_dtype_name((spy_dtype)t));
    /* a strided view (every other column) is written packed */
    spy_array *v = spy_array_share(a);
    v->shape[1] = 3;
    v->strides[1] = 2;
    char name[64];
    snprintf(name, sizeof name, "group/view_%s", spy_dtype_name((spy_dtype)t));
    roundtrip(v, name);
    spy_array_free(v);
    spy_array_free(a);
  }
  spy_array *z = spy_array_new(SPY_DT_F64, 0, NULL);
  spy_array_setc_flat(z, 0, 2.5);
  roundtrip(z, "scalar");
  spy_array_free(z);
  size_t e[] = {0, 4};
  spy_array *empty = spy_array_new(SPY_DT_F32, 2, e);
  roundtrip(empty, "empty");
  spy_array_free(empty);
}

/* Complex data as h5py writes it: a compound of two IEEE floats named r, i. */
static void test_h5py_layout(void)
{
  spy_err err = {0};
  spy_array *c = spy_array_new(SPY_DT_C64, 1, (size_t[]){2});
  CHECK(spy_h5write(tmp("layout.h5"), "c", c, false, &err) == SPY_OK, "%s", err.msg);
  hid_t f = H5Fopen(tmp("layout.h5"), H5F_ACC_RDONLY, H5P_DEFAULT);
  hid_t d = H5Dopen2(f, "c", H5P_DEFAULT), t = H5Dget_type(d);
  char *r = H5Tget_member_name(t, 0), *i = H5Tget_member_name(t, 1);
  hid_t m = H5Tget_member_type(t, 1);
  CHECK(H5Tget_class(t) == H5T_COMPOUND && H5Tget_nmembers(t) == 2 && H5Tget_size(t) == 8,
        "compound of 8 bytes");
  CHECK(strcmp(r, "r") == 0 && strcmp(i, "i") == 0 && H5Tequal(m, H5T_IEEE_F32LE) > 0,
        "members r and i, float32 little-endian");
  H5free_memory(r);
  H5free_memory(i);
  H5Tclose(m);
  H5Tclose(t);
  H5Dclose(d);
  H5Fclose(f);
  spy_array_free(c);
}

/* Datasets written by other tools: unsigned bytes, variable-length strings,
** complex with other member names, an enum (h5py's booleans). */
static void test_foreign(void)
{
  spy_err err = {0};
  spy_h5data d;
  hid_t f = H5Fcreate(tmp("foreign.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hsize_t n = 3;
  hid_t s = H5Screate_simple(1, &n, NULL);
  unsigned char bytes[3] = {0, 7, 255};
  hid_t d1 = H5Dcreate2(f, "u8", H5T_STD_U8LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(d1, H5T_NATIVE_UCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes);
  hid_t vs = H5Tcopy(H5T_C_S1);
  H5Tset_size(vs, H5T_VARIABLE);
  const char *words[3] = {"alpha", "", "gamma"};
  hid_t d2 = H5Dcreate2(f, "words", vs, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(d2, vs, H5S_ALL, H5S_ALL, H5P_DEFAULT, words);
  hid_t ct = H5Tcreate(H5T_COMPOUND, 16);
  H5Tinsert(ct, "real", 0, H5T_IEEE_F64LE);
  H5Tinsert(ct, "imag", 8, H5T_IEEE_F64LE);
  double cv[6] = {1, 2, 3, 4, 5, 6};
  hid_t d3 = H5Dcreate2(f, "cplx", ct, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(d3, ct, H5S_ALL, H5S_ALL, H5P_DEFAULT, cv);
  hid_t et = H5Tenum_create(H5T_NATIVE_SCHAR);
  signed char no = 0, yes = 1;
  H5Tenum_insert(et, "FALSE", &no);
  H5Tenum_insert(et, "TRUE", &yes);
  signed char bv[3] = {0, 1, 1};
  hid_t d4 = H5Dcreate2(f, "flags", et, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(d4, et, H5S_ALL, H5S_ALL, H5P_DEFAULT, bv);
  H5Gclose(H5Gcreate2(f, "grp", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  H5Dclose(d1), H5Dclose(d2), H5Dclose(d3), H5Dclose(d4);
  H5Tclose(vs), H5Tclose(ct), H5Tclose(et), H5Sclose(s), H5Fclose(f);

  CHECK(spy_h5read(tmp("foreign.h5"), "u8", &d, &err) == SPY_OK, "%s", err.msg);
  int64_t *iv = d.array->buf->data;
  CHECK(d.array->dtype == SPY_DT_I64 && iv[0] == 0 && iv[1] == 7 && iv[2] == 255, "uint8 -> int64");
  spy_h5data_clear(&d);
  CHECK(spy_h5read(tmp("foreign.h5"), "words", &d, &err) == SPY_OK, "%s", err.msg);
  CHECK(d.nstrings == 3 && strcmp(d.strings[0], "alpha") == 0 && d.strings[1][0] == 0 &&
            strcmp(d.strings[2], "gamma") == 0,
        "variable-length strings");
  spy_h5data_clear(&d);
  CHECK(spy_h5read(tmp("foreign.h5"), "cplx", &d, &err) == SPY_OK, "%s", err.msg);
  CHECK(d.array->dtype == SPY_DT_C128 && spy_array_getc_flat(d.array, 2) == 5 + 6 * I,
        "complex members matched by position");
  spy_h5data_clear(&d);
  CHECK(spy_h5read(tmp("foreign.h5"), "flags", &d, &err) == SPY_ENOTSUP, "enum refused");
  CHECK(strstr(err.msg, "holds enum") && strstr(err.msg, "supported: float32/64"), "%s", err.msg);
  CHECK(spy_h5read(tmp("foreign.h5"), "grp", &d, &err) == SPY_ENOENT, "group");
  CHECK(strstr(err.msg, "'grp' in '") && strstr(err.msg, "is a group, not a dataset"), "%s",
        err.msg);
}

static void test_errors(void)
{
  spy_err err = {0};
  spy_h5data d;
  CHECK(spy_h5read(tmp("nope.h5"), "x", &d, &err) == SPY_ENOENT, "missing file");
  CHECK(strstr(err.msg, "nope.h5': No such file or directory") != NULL, "%s", err.msg);

  CHECK(spy_h5read(t_data("mtmfft_hann_pow.h5"), "outptu", &d, &err) == SPY_ENOENT, "typo");
  CHECK(strstr(err.msg, "no dataset 'outptu' in '") &&
            strstr(err.msg, "(it holds: channel, freq, input, input_time, "),
        "%s", err.msg);

  FILE *fp = fopen(tmp("text.h5"), "w");
  fputs("not hdf5\n", fp);
  fclose(fp);
  CHECK(spy_h5read(tmp("text.h5"), "x", &d, &err) == SPY_EFORMAT, "text file");
  CHECK(strstr(err.msg, "is not an HDF5 file") != NULL, "%s", err.msg);
  spy_array *a = spy_array_new(SPY_DT_F64, 1, (size_t[]){2});
  CHECK(spy_h5write(tmp("text.h5"), "x", a, true, &err) == SPY_EFORMAT, "write into text");
  fp = fopen(tmp("text.h5"), "r");
  char line[32] = {0};
  CHECK(fp && fgets(line, sizeof line, fp) && strcmp(line, "not hdf5\n") == 0, "left untouched");
  if (fp) fclose(fp);

  /* replacing needs overwrite=true */
  CHECK(spy_h5write(tmp("ow.h5"), "x", a, false, &err) == SPY_OK, "%s", err.msg);
  CHECK(spy_h5write(tmp("ow.h5"), "x", a, false, &err) == SPY_EEXIST, "exists");
  CHECK(strstr(err.msg, "dataset 'x' already exists in '") &&
            strstr(err.msg, "(overwrite=true replaces it)"),
        "%s", err.msg);
  spy_array *b = spy_array_new(SPY_DT_I64, 2, (size_t[]){2, 2});
  CHECK(spy_h5write(tmp("ow.h5"), "x", b, true, &err) == SPY_OK, "%s", err.msg);
  CHECK(spy_h5read(tmp("ow.h5"), "x", &d, &err) == SPY_OK && d.array->dtype == SPY_DT_I64 &&
            d.array->ndim == 2,
        "replaced");
  spy_h5data_clear(&d);

  CHECK(spy_h5write("/nonexistent-dir/x.h5", "x", a, false, &err) == SPY_EIO, "no directory");
  CHECK(strstr(err.msg, "cannot create '/nonexistent-dir/x.h5'") != NULL, "%s", err.msg);
  spy_array_free(a);
  spy_array_free(b);
}

int main(void)
{
  snprintf(dir, sizeof dir, "/tmp/spy_h5plain_XXXXXX");
  if (!mkdtemp(dir)) return 1;
  test_reference();
  test_roundtrip();
  test_h5py_layout();
  test_foreign();
  test_errors();
  const char *files[] = {"rt.h5", "layout.h5", "foreign.h5", "text.h5", "ow.h5"};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
    unlink(tmp(files[i]));
  rmdir(dir);
  return t_done();
}
