/*
** Plain HDF5 import and export (see h5plain.h).  Handles start at -1 and are
** closed at one exit label; the io lock is held from the first HDF5 call to
** the last.
*/
#include "io/h5plain.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/data.h"
#include "io/h5.h"

#define SUPPORTED                                                                                  \
  "float32/64 (and narrower floats), integers, complex as a compound of two "                      \
  "floats {r, i} (as h5py writes it), strings"

void spy_h5data_clear(spy_h5data *d)
{
  spy_array_free(d->array);
  for (size_t i = 0; d->strings && i < d->nstrings; i++)
    free(d->strings[i]);
  free(d->strings);
  memset(d, 0, sizeof *d);
}

/* ---- names for messages ------------------------------------------------ */

typedef struct {
  char text[400];
  size_t n;
} namelist;

static herr_t addname(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
  (void)g;
  (void)info;
  namelist *l = data;
  size_t len = strlen(l->text);
  if (len + strlen(name) + 8 >= sizeof l->text) {
    if (!strstr(l->text, ", ...")) snprintf(l->text + len, sizeof l->text - len, ", ...");
    return 1;
  }
  snprintf(l->text + len, sizeof l->text - len, "%s%s", l->n++ ? ", " : "", name);
  return 0;
}

static int missing(hid_t f, const char *path, const char *name, spy_err *err)
{
  namelist l = {{0}, 0};
  H5Literate(f, H5_INDEX_NAME, H5_ITER_INC, NULL, addname, &l);
  H5Eclear2(H5E_DEFAULT);
  return spy_fail(err, SPY_ENOENT, "no dataset '%s' in '%s' (%s%s)", name, path,
                  l.n ? "it holds: " : "the file is empty", l.text);
}

static const char *classname(H5T_class_t c)
{
  switch (c) {
  case H5T_INTEGER:
    return "integer";
  case H5T_FLOAT:
    return "float";
  case H5T_STRING:
    return "string";
  case H5T_BITFIELD:
    return "bitfield";
  case H5T_OPAQUE:
    return "opaque";
  case H5T_COMPOUND:
    return "compound";
  case H5T_REFERENCE:
    return "reference";
  case H5T_ENUM:
    return "enum (h5py writes booleans so)";
  case H5T_VLEN:
    return "variable-length sequence";
  case H5T_ARRAY:
    return "array";
  default:
    return "unknown";
  }
}

/* ---- reading ----------------------------------------------------------- */

static int open_read(const char *path, hid_t *f, spy_err *err)
{
  struct stat st;
  if (stat(path, &st) != 0)
    return spy_fail(err, SPY_ENOENT, "cannot open '%s': %s", path, strerror(errno));
  /* a FIFO would block the HDF5 signature check forever */
  if (!S_ISREG(st.st_mode))
    return spy_fail(err, SPY_EFORMAT, "'%s' is not an HDF5 file (not a regular file)", path);
  if (H5Fis_hdf5(path) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    return spy_fail(err, SPY_EFORMAT, "'%s' is not an HDF5 file", path);
  }
  if ((*f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0)
    return spy_h5_fail(err, SPY_EIO, "cannot open '%s'", path);
  return SPY_OK;
}

/* Memory type and dtype for a numeric file type; -1 when unsupported. */
static hid_t numeric_type(hid_t ft, spy_dtype *t)
{
  H5T_class_t c = H5Tget_class(ft);
  if (c == H5T_FLOAT) {
    *t = H5Tget_size(ft) <= 4 ? SPY_DT_F32 : SPY_DT_F64;
    return spy_h5_type(*t);
  }
  if (c == H5T_INTEGER) {
    *t = SPY_DT_I64;
    return spy_h5_type(*t);
  }
  if (c != H5T_COMPOUND || H5Tget_nmembers(ft) != 2 || spy_h5_dtype_of(ft, t) != SPY_OK)
    return H5I_INVALID_HID;
  /* h5py names the members r and i; others are matched by position */
  hid_t m1 = H5Tget_member_type(ft, 1);
  bool ok = H5Tget_class(m1) == H5T_FLOAT && H5Tget_size(m1) * 2 == H5Tget_size(ft);
  H5Tclose(m1);
  if (!ok) return H5I_INVALID_HID;
  size_t sz = spy_dtype_size(*t) / 2;
  hid_t base = sz == 4 ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE;
  hid_t mt = H5Tcreate(H5T_COMPOUND, 2 * sz);
  char *n0 = H5Tget_member_name(ft, 0), *n1 = H5Tget_member_name(ft, 1);
  H5Tinsert(mt, n0, 0, base);
  H5Tinsert(mt, n1, sz, base);
  H5free_memory(n0);
  H5free_memory(n1);
  return mt;
}

static int read_strings(hid_t d, hid_t ft, hid_t space, size_t n, spy_h5data *out, spy_err *err)
{
  hid_t mt = H5Tcopy(H5T_C_S1);
  H5Tset_cset(mt, H5Tget_cset(ft));
  int rc = SPY_OK;
  char *buf = NULL;
  if (!(out->strings = calloc(n ? n : 1, sizeof *out->strings))) goto nomem;
  out->nstrings = n;
  if (H5Tis_variable_str(ft) > 0) {
    char **v = calloc(n ? n : 1, sizeof *v);
    if (!v) goto nomem;
    H5Tset_size(mt, H5T_VARIABLE);
    if (n && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) {
      free(v);
      rc = spy_h5_fail(err, SPY_EIO, "reading strings failed");
      goto exit;
    }
    for (size_t i = 0; i < n && rc == SPY_OK; i++)
      if (!(out->strings[i] = strdup(v[i] ? v[i] : ""))) rc = SPY_ENOMEM;
    if (n) H5Dvlen_reclaim(mt, space, H5P_DEFAULT, v);
    free(v);
    if (rc) goto nomem;
  } else {
    size_t sz = H5Tget_size(ft);
    bool spaces = H5Tget_strpad(ft) == H5T_STR_SPACEPAD;
    H5Tset_size(mt, sz);
    H5Tset_strpad(mt, H5T_STR_NULLPAD);
    if (!(buf = malloc(n * sz + 1))) goto nomem;
    if (n && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
      rc = spy_h5_fail(err, SPY_EIO, "reading strings failed");
      goto exit;
    }
    for (size_t i = 0; i < n; i++) {
      char *s = strndup(buf + i * sz, sz);
      if (!s) goto nomem;
      for (size_t k = strlen(s); spaces && k > 0 && s[k - 1] == ' '; k--)
        s[k - 1] = 0;
      out->strings[i] = s;
    }
  }
  goto exit;
nomem:
  rc = spy_fail(err, SPY_ENOMEM, "out of memory");
exit:
  free(buf);
  H5Tclose(mt);
  return rc;
}

int spy_h5read(const char *path, const char *name, spy_h5data *out, spy_err *err)
{
  hid_t f = H5I_INVALID_HID, d = H5I_INVALID_HID, space = H5I_INVALID_HID;
  hid_t ft = H5I_INVALID_HID, mt = H5I_INVALID_HID;
  hsize_t dims[SPY_MAXDIM];
  int rc;
  memset(out, 0, sizeof *out);
  spy_h5_lock();
  if ((rc = open_read(path, &f, err))) goto exit;
  H5O_info_t info;
  if (H5Lexists(f, name, spy_h5_local_dapl()) <= 0 ||
      H5Oget_info_by_name(f, name, &info, spy_h5_local_dapl()) < 0) {
    H5Eclear2(H5E_DEFAULT);
    rc = missing(f, path, name, err);
    goto exit;
  }
  if (info.type != H5O_TYPE_DATASET) {
    rc = spy_fail(err, SPY_ENOENT, "'%s' in '%s' is a %s, not a dataset", name, path,
                  info.type == H5O_TYPE_GROUP ? "group" : "named datatype");
    goto exit;
  }
  if ((d = H5Dopen2(f, name, spy_h5_local_dapl())) < 0 || (space = H5Dget_space(d)) < 0 ||
      (ft = H5Dget_type(d)) < 0) {
    rc = spy_h5_fail(err, SPY_EIO, "cannot open dataset '%s' in '%s'", name, path);
    goto exit;
  }
  if ((rc = spy_h5_check_local(d, name, path, err))) goto exit;
  int nd = H5Sget_simple_extent_ndims(space);
  if (nd < 0 || nd > SPY_MAXDIM) {
    rc = spy_fail(err, SPY_ENOTSUP, "dataset '%s' in '%s' has %d dimensions (allowed: at most %d)",
                  name, path, nd, SPY_MAXDIM);
    goto exit;
  }
  H5Sget_simple_extent_dims(space, dims, NULL);
  out->ndim = nd;
  size_t n = 1;
  for (int i = 0; i < nd; i++)
    n *= (out->shape[i] = (size_t)dims[i]);
  if (H5Tget_class(ft) == H5T_STRING) {
    rc = read_strings(d, ft, space, n, out, err);
    if (rc) spy_err_prefix(err, "dataset '%s' in '%s'", name, path);
    goto exit;
  }
  spy_dtype t;
  if ((mt = numeric_type(ft, &t)) < 0) {
    H5Eclear2(H5E_DEFAULT);
    rc = spy_fail(err, SPY_ENOTSUP,
                  "dataset '%s' in '%s' holds %s values (%zu bytes each), which "
                  "spy cannot read (supported: " SUPPORTED ")",
                  name, path, classname(H5Tget_class(ft)), H5Tget_size(ft));
    goto exit;
  }
  if (!(out->array = spy_array_new(t, nd, out->shape))) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory for dataset '%s' (%zu elements)", name, n);
    goto exit;
  }
  if (n && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, out->array->buf->data) < 0)
    rc = spy_h5_fail(err, SPY_EIO, "cannot read dataset '%s' in '%s'", name, path);
exit:
  spy_h5_close_type(mt);
  spy_h5_close_type(ft);
  spy_h5_close_space(space);
  spy_h5_close_dset(d);
  spy_h5_close_file(f);
  spy_h5_unlock();
  if (rc) spy_h5data_clear(out);
  return rc;
}

/* ---- writing ----------------------------------------------------------- */

static int open_write(const char *path, hid_t *f, bool *created, spy_err *err)
{
  *created = false;
  struct stat st;
  if (stat(path, &st) == 0) {
    if (!S_ISREG(st.st_mode) || H5Fis_hdf5(path) <= 0) {
      H5Eclear2(H5E_DEFAULT);
      return spy_fail(err, SPY_EFORMAT, "'%s' exists and is not an HDF5 file (left untouched)",
                      path);
    }
    if ((*f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT)) < 0)
      return spy_h5_fail(err, SPY_EIO, "cannot open '%s' for writing", path);
    return SPY_OK;
  }
  errno = 0;
  if ((*f = H5Fcreate(path, H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT)) < 0) {
    int e = errno;
    H5Eclear2(H5E_DEFAULT);
    return spy_fail(err, SPY_EIO, "cannot create '%s': %s", path,
                    e ? strerror(e) : "HDF5 refused to create it");
  }
  *created = true;
  return SPY_OK;
}

/* Makes room for `name`: SPY_OK when absent or deleted (overwrite). */
static int make_room(hid_t f, const char *path, const char *name, bool overwrite, spy_err *err)
{
  H5O_info_t info;
  if (H5Lexists(f, name, H5P_DEFAULT) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    return SPY_OK;
  }
  if (!overwrite)
    return spy_fail(err, SPY_EEXIST,
                    "dataset '%s' already exists in '%s' (overwrite=true "
                    "replaces it)",
                    name, path);
  if (H5Oget_info_by_name(f, name, &info, H5P_DEFAULT) < 0 || info.type != H5O_TYPE_DATASET) {
    H5Eclear2(H5E_DEFAULT);
    return spy_fail(err, SPY_EEXIST, "'%s' in '%s' is a group, not a dataset: not replaced", name,
                    path);
  }
  if (H5Ldelete(f, name, H5P_DEFAULT) < 0)
    return spy_h5_fail(err, SPY_EIO, "cannot replace dataset '%s' in '%s'", name, path);
  return SPY_OK;
}

int spy_h5write(const char *path, const char *name, const spy_array *a, bool overwrite,
                spy_err *err)
{
  hid_t f = H5I_INVALID_HID, d = H5I_INVALID_HID, space = H5I_INVALID_HID;
  hid_t ft = H5I_INVALID_HID, lcpl = H5I_INVALID_HID;
  hsize_t dims[SPY_MAXDIM];
  bool created = false, made = false;
  size_t n = spy_array_numel(a), es = spy_dtype_size(a->dtype);
  void *packed = NULL;
  const void *data = (const char *)a->buf->data + a->offset * es;
  int rc;
  if (!spy_array_is_contiguous(a)) {
    if (!(packed = malloc(n * es + 1))) return spy_fail(err, SPY_ENOMEM, "out of memory");
    spy_array_pack(a, packed, a->dtype);
    data = packed;
  }
  if (spy_data_file_in_use(path)) {
    free(packed);
    return spy_fail(err, SPY_EINVAL,
                    "Cannot write '%s': it is the file of a data object of this session (it "
                    "must stay unchanged); expected another path",
                    path);
  }
  spy_h5_lock();
  if ((rc = open_write(path, &f, &created, err))) goto exit;
  if ((rc = make_room(f, path, name, overwrite, err))) goto exit;
  for (int i = 0; i < a->ndim; i++)
    dims[i] = a->shape[i];
  space = a->ndim ? H5Screate_simple(a->ndim, dims, NULL) : H5Screate(H5S_SCALAR);
  ft = spy_h5_type(a->dtype);
  lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  if (space < 0 || ft < 0 || lcpl < 0 ||
      (d = H5Dcreate2(f, name, ft, space, lcpl, H5P_DEFAULT, H5P_DEFAULT)) < 0) {
    rc = spy_h5_fail(err, SPY_EIO, "cannot create dataset '%s' in '%s'", name, path);
    goto exit;
  }
  made = true;
  if (n && H5Dwrite(d, ft, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    rc = spy_h5_fail(err, SPY_EIO, "cannot write dataset '%s' in '%s'", name, path);
exit:
  spy_h5_close_plist(lcpl);
  spy_h5_close_type(ft);
  spy_h5_close_space(space);
  spy_h5_close_dset(d);
  if (rc && made && !created) H5Ldelete(f, name, H5P_DEFAULT);
  if (f >= 0 && H5Fclose(f) < 0 && !rc)
    rc = spy_h5_fail(err, SPY_EIO, "cannot finish writing '%s'", path);
  if (rc && created) unlink(path);
  H5Eclear2(H5E_DEFAULT);
  spy_h5_unlock();
  free(packed);
  return rc;
}
