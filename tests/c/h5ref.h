/*
** Test helper: read datasets and attributes of the Syncopy reference files
** (tests/data/<case>.h5) into plain buffers.  Test-only; the engine's HDF5 code
** lives in src/io.
*/
#ifndef SPY_H5REF_H
#define SPY_H5REF_H

#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Reads dataset `name` as float64 into a malloc'd buffer; dims (up to 8)
** into shape, rank into *ndim.  NULL if missing. */
static inline double *h5ref_read(const char *file, const char *name, int *ndim, size_t *shape)
{
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) return NULL;
  hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
  if (d < 0) {
    H5Fclose(f);
    return NULL;
  }
  hid_t s = H5Dget_space(d);
  hsize_t dims[8];
  int r = H5Sget_simple_extent_dims(s, dims, NULL);
  size_t n = 1;
  for (int i = 0; i < r; i++) {
    shape[i] = dims[i];
    n *= dims[i];
  }
  *ndim = r;
  double *buf = malloc((n ? n : 1) * sizeof *buf);
  H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
  H5Sclose(s);
  H5Dclose(d);
  H5Fclose(f);
  return buf;
}

/* Reads a string attribute of the root group (variable or fixed length)
** into buf. Returns 0 on success. */
static inline int h5ref_attr_str(const char *file, const char *name, char *buf, size_t n)
{
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) return -1;
  hid_t a = H5Aopen(f, name, H5P_DEFAULT);
  if (a < 0) {
    H5Fclose(f);
    return -1;
  }
  hid_t t = H5Aget_type(a);
  int rc = 0;
  if (H5Tis_variable_str(t) > 0) {
    char *s = NULL;
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, H5T_VARIABLE);
    H5Tset_cset(mt, H5Tget_cset(t)); /* the reference strings are UTF-8 */
    rc = H5Aread(a, mt, &s) < 0 ? -1 : 0;
    if (!rc) snprintf(buf, n, "%s", s);
    H5free_memory(s);
    H5Tclose(mt);
  } else {
    size_t sz = H5Tget_size(t);
    char *s = calloc(sz + 1, 1);
    rc = H5Aread(a, t, s) < 0 ? -1 : 0;
    if (!rc) snprintf(buf, n, "%s", s);
    free(s);
  }
  H5Tclose(t);
  H5Aclose(a);
  H5Fclose(f);
  return rc;
}

/* Reads a fixed-length string dataset: its first max entries (up to 63
** characters each) into out.  Returns the dataset's length, 0 if missing. */
static inline size_t h5ref_strings(const char *file, const char *name, char out[][64], size_t max)
{
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) return 0;
  hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
  hsize_t n = 0;
  if (d >= 0) {
    hid_t t = H5Dget_type(d), s = H5Dget_space(d);
    H5Sget_simple_extent_dims(s, &n, NULL);
    size_t sz = H5Tget_size(t), l = sz < 63 ? sz : 63;
    char *buf = calloc(n * sz + 1, 1);
    if (H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) n = 0;
    for (size_t i = 0; i < n && i < max; i++) {
      memcpy(out[i], buf + i * sz, l);
      out[i][l] = '\0';
    }
    free(buf);
    H5Sclose(s);
    H5Tclose(t);
    H5Dclose(d);
  }
  H5Fclose(f);
  return (size_t)n;
}

/* Reads a numeric scalar attribute of the root group. */
static inline double h5ref_attr_num(const char *file, const char *name)
{
  double v = NAN;
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) return v;
  hid_t a = H5Aopen(f, name, H5P_DEFAULT);
  if (a >= 0) {
    H5Aread(a, H5T_NATIVE_DOUBLE, &v);
    H5Aclose(a);
  }
  H5Fclose(f);
  return v;
}

#endif
