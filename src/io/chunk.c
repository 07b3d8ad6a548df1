#include "io/chunk.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "io/h5.h"

static void shape_str(char *buf, size_t n, int ndim, const size_t *shape)
{
  size_t k = (size_t)snprintf(buf, n, "(");
  for (int i = 0; i < ndim && k < n; i++)
    k += (size_t)snprintf(buf + k, n - k, i ? ", %zu" : "%zu", shape[i]);
  if (k < n) snprintf(buf + k, n - k, ndim == 1 ? ",)" : ")");
}

int spy_chunk_write(const char *path, spy_dtype t, int ndim, const size_t *shape, const void *buf,
                    spy_err *err)
{
  char part[4200];
  hid_t f = H5I_INVALID_HID, sp = H5I_INVALID_HID, ty = H5I_INVALID_HID, ds = H5I_INVALID_HID;
  hsize_t dims[SPY_MAXDIM];
  int rc = SPY_OK;
  if (ndim < 1 || ndim > SPY_MAXDIM) return spy_fail(err, SPY_EINVAL, "invalid block rank %d", ndim);
  if (snprintf(part, sizeof part, "%s.part", path) >= (int)sizeof part)
    return spy_fail(err, SPY_EINVAL, "block path too long: %s", path);
  for (int i = 0; i < ndim; i++) dims[i] = shape[i];
  spy_h5_lock();
  if ((f = spy_h5_create_private(part, false)) < 0) {
    rc = spy_h5_fail(err, SPY_EIO, "cannot create '%s'", part);
    goto exit;
  }
  sp = H5Screate_simple(ndim, dims, NULL);
  ty = spy_h5_type(t);
  ds = H5Dcreate2(f, "chk", ty, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (ds < 0 || H5Dwrite(ds, ty, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
    rc = spy_h5_fail(err, SPY_EIO, "cannot write dataset 'chk' in '%s'", part);
    goto exit;
  }
exit:
  spy_h5_close_dset(ds);
  spy_h5_close_type(ty);
  spy_h5_close_space(sp);
  if (f >= 0 && H5Fclose(f) < 0 && rc == SPY_OK)
    rc = spy_h5_fail(err, SPY_EIO, "cannot close '%s'", part);
  spy_h5_unlock();
  if (rc == SPY_OK && rename(part, path) != 0)
    rc = spy_fail(err, SPY_EIO, "cannot rename '%s' to '%s'", part, path);
  if (rc != SPY_OK) unlink(part);
  return rc;
}

int spy_chunk_read(const char *path, spy_dtype t, int ndim, const size_t *shape, void *buf,
                   spy_err *err)
{
  hid_t f = H5I_INVALID_HID, sp = H5I_INVALID_HID, ty = H5I_INVALID_HID, ds = H5I_INVALID_HID;
  hsize_t dims[SPY_MAXDIM];
  int rc = SPY_OK;
  spy_h5_lock();
  if ((f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0) {
    rc = spy_h5_fail(err, SPY_EIO, "cannot open result block '%s'", path);
    goto exit;
  }
  if ((ds = H5Dopen2(f, "chk", H5P_DEFAULT)) < 0) {
    rc = spy_h5_fail(err, SPY_EFORMAT, "result block '%s' has no dataset 'chk'", path);
    goto exit;
  }
  sp = H5Dget_space(ds);
  int nd = H5Sget_simple_extent_ndims(sp);
  bool fits = nd > 0 && nd <= SPY_MAXDIM, same = fits && nd == ndim;
  if (fits) H5Sget_simple_extent_dims(sp, dims, NULL);
  for (int i = 0; same && i < ndim; i++) same = dims[i] == shape[i];
  if (!same) {
    char want[128], got[128] = "(?)";
    size_t g[SPY_MAXDIM];
    for (int i = 0; fits && i < nd; i++) g[i] = (size_t)dims[i];
    shape_str(want, sizeof want, ndim, shape);
    if (fits) shape_str(got, sizeof got, nd, g);
    rc = spy_fail(err, SPY_EFORMAT, "result block '%s' has shape %s, expected %s", path, got, want);
    goto exit;
  }
  ty = spy_h5_type(t);
  if (H5Dread(ds, ty, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
    rc = spy_h5_fail(err, SPY_EIO, "cannot read result block '%s'", path);
exit:
  spy_h5_close_type(ty);
  spy_h5_close_space(sp);
  spy_h5_close_dset(ds);
  spy_h5_close_file(f);
  spy_h5_unlock();
  return rc;
}
