#include "data/extra.h"

#include <stdlib.h>
#include <string.h>

#include "io/h5.h"

static int open_file(spy_data *d, spy_err *err)
{
  if (d->file >= 0) return SPY_OK;
  if (!d->path) return spy_fail(err, SPY_EINVAL, "object has no backing file");
  d->file = H5Fopen(d->path, d->writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, H5P_DEFAULT);
  if (d->file < 0) return spy_h5_fail(err, SPY_EIO, "cannot open '%s'", d->path);
  return SPY_OK;
}

/* Writes a into a new contiguous dataset `name` of f (replacing one). */
static int write_dset(hid_t f, const char *name, const spy_array *a, spy_err *err)
{
  int rc = SPY_OK;
  hid_t sp = H5I_INVALID_HID, ty = H5I_INVALID_HID, dcpl = H5I_INVALID_HID, ds = H5I_INVALID_HID;
  hsize_t dims[SPY_MAXDIM];
  for (int i = 0; i < a->ndim; i++)
    dims[i] = a->shape[i];
  size_t n = spy_array_numel(a), es = spy_dtype_size(a->dtype);
  void *buf = malloc(n ? n * es : 1);
  if (!buf) return spy_fail(err, SPY_ENOMEM, "out of memory");
  spy_array_pack(a, buf, a->dtype);
  spy_h5_lock();
  if (H5Lexists(f, name, H5P_DEFAULT) > 0) H5Ldelete(f, name, H5P_DEFAULT);
  sp = H5Screate_simple(a->ndim, dims, NULL);
  ty = spy_h5_type(a->dtype);
  dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_layout(dcpl, H5D_CONTIGUOUS);
  H5Pset_obj_track_times(dcpl, 0);
  ds = H5Dcreate2(f, name, ty, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  if (ds < 0 || (n && H5Dwrite(ds, ty, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0))
    rc = spy_h5_fail(err, SPY_EIO, "cannot write dataset `%s`", name);
  spy_h5_close_dset(ds);
  spy_h5_close_plist(dcpl);
  spy_h5_close_type(ty);
  spy_h5_close_space(sp);
  spy_h5_unlock();
  free(buf);
  return rc;
}

int spy_data_put_extra(spy_data *d, const char *name, const spy_array *a, spy_err *err)
{
  if (!d->writable) return spy_fail(err, SPY_EIO, "object is read-only");
  spy_h5_lock();
  int rc = open_file(d, err);
  if (rc == SPY_OK) rc = write_dset(d->file, name, a, err);
  if (rc == SPY_OK) H5Fflush(d->file, H5F_SCOPE_LOCAL);
  spy_h5_unlock();
  return rc;
}

int spy_data_get_extra(spy_data *d, const char *name, spy_array **out, spy_err *err)
{
  *out = NULL;
  hid_t ds = H5I_INVALID_HID, sp = H5I_INVALID_HID, ty = H5I_INVALID_HID, mt = H5I_INVALID_HID;
  spy_h5_lock();
  int rc = open_file(d, err);
  if (rc || H5Lexists(d->file, name, H5P_DEFAULT) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    goto exit;
  }
  ds = H5Dopen2(d->file, name, H5P_DEFAULT);
  sp = ds >= 0 ? H5Dget_space(ds) : H5I_INVALID_HID;
  ty = ds >= 0 ? H5Dget_type(ds) : H5I_INVALID_HID;
  int nd = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
  spy_dtype t;
  if (nd < 1 || nd > SPY_MAXDIM || ty < 0 || spy_h5_dtype_of(ty, &t) != SPY_OK) {
    rc = spy_h5_fail(err, SPY_EFORMAT, "dataset `%s` in '%s' has an unsupported type or shape",
                     name, d->path);
    goto exit;
  }
  hsize_t dims[SPY_MAXDIM];
  size_t shape[SPY_MAXDIM];
  H5Sget_simple_extent_dims(sp, dims, NULL);
  for (int i = 0; i < nd; i++)
    shape[i] = dims[i];
  spy_array *a = spy_array_new(t, nd, shape);
  if (!a) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto exit;
  }
  mt = spy_h5_type(t);
  if (spy_array_numel(a) && H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, a->buf->data) < 0) {
    spy_array_free(a);
    rc = spy_h5_fail(err, SPY_EIO, "cannot read dataset `%s` of '%s'", name, d->path);
    goto exit;
  }
  *out = a;
exit:
  spy_h5_close_type(mt);
  spy_h5_close_type(ty);
  spy_h5_close_space(sp);
  spy_h5_close_dset(ds);
  spy_h5_unlock();
  return rc;
}

bool spy_data_has_extra(spy_data *d, const char *name)
{
  spy_err err = {0};
  spy_h5_lock();
  bool has = open_file(d, &err) == SPY_OK && H5Lexists(d->file, name, H5P_DEFAULT) > 0;
  H5Eclear2(H5E_DEFAULT);
  spy_h5_unlock();
  return has;
}

int spy_data_copy_extras(spy_data *d, hid_t f, spy_err *err)
{
  const char *const *names = spy_dataclass_datasets(d->cls);
  for (int i = 1; names[i]; i++) {
    spy_array *a = NULL;
    int rc = spy_data_get_extra(d, names[i], &a, err);
    if (rc == SPY_OK && a) rc = write_dset(f, names[i], a, err);
    spy_array_free(a);
    if (rc) return rc;
  }
  return SPY_OK;
}
