/*
** Plain HDF5 import and export (spy.h5read, spy.h5write): one dataset <->
** one spy_array, the bridge to h5py, MATLAB and the reference files.
**
** Read: IEEE floats (4 bytes or fewer -> float32, wider -> float64), every
** integer type (-> int64; unsigned values above 2^63-1 saturate), compounds
** of two equal floats as h5py writes complex numbers ({r, i}, any member
** names, -> complex64/complex128), and strings (fixed or variable length)
** -> C strings.  Scalar datasets give 0-d arrays.
** Write: the five dtypes as little-endian IEEE / int64, complex as the h5py
** compound {r, i}; contiguous, uncompressed.  A missing file is created
** (a failed write removes it again); intermediate groups are created; an
** existing dataset is replaced only when asked to (it is deleted first).
**
** Every HDF5 call runs under the io lock (io/h5.h).  Errors come back as a
** status and a message naming the file and the dataset: a missing file,
** something that is not HDF5, a missing dataset (the message lists what the
** file holds), an unsupported type (the message lists what is supported).
*/
#ifndef SPY_H5PLAIN_H
#define SPY_H5PLAIN_H

#include <stdbool.h>

#include "core/array.h"
#include "core/err.h"

/* The content of one dataset.  Owned by the struct: release with
** spy_h5data_clear (which accepts a zeroed struct). */
typedef struct spy_h5data {
  spy_array *array; /* numbers, or NULL */
  char **strings;   /* strings, numel(shape) in C order, or NULL */
  size_t nstrings;
  int ndim; /* the dataset's shape (strings and numbers alike) */
  size_t shape[SPY_MAXDIM];
} spy_h5data;

int spy_h5read(const char *path, const char *dataset, spy_h5data *out, spy_err *err);
void spy_h5data_clear(spy_h5data *d);

int spy_h5write(const char *path, const char *dataset, const spy_array *a, bool overwrite,
                spy_err *err);

#endif
