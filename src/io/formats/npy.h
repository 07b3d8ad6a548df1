/*
** NumPy .npy files (format versions 1.0, 2.0 and 3.0) and plain text tables
** (numpy.savetxt's layout): spy.savenpy, spy.loadnpy, spy.savetxt, a:tocsv.
**
** Read: little- and big-endian floats ('f2', 'f4', 'f8'), complex ('c8',
** 'c16'), signed and unsigned integers of 1, 2, 4, 8 bytes and bools, in C or
** Fortran order, become a C-ordered spy_array: f2/f4 -> float32, f8 ->
** float64, c8/c16 -> complex64/complex128, integers and bools -> int64
** (uint64 values above 2^63-1 saturate).  Structured and object arrays are
** refused with a message naming the dtype.
** Write: the array's dtype little-endian ('<f4', '<f8', '<c8', '<c16',
** '<i8'), C order, version 1.0 (2.0 only when the header needs it), header
** padded to a multiple of 64 bytes as numpy >= 1.9 writes it.  A data object
** is written as its dataset `data` (trials stacked along axis 0), streamed
** block by block, so memory does not grow with the recording.
**
** Every writer goes to "<path>.part-<pid>" and renames it into place when
** complete, so a failed or interrupted write leaves the target untouched and
** no partial file behind.  Errors name the file and the problem.
*/
#ifndef SPY_FORMATS_NPY_H
#define SPY_FORMATS_NPY_H

#include <stdbool.h>
#include <stddef.h>

#include "core/array.h"
#include "core/err.h"
#include "data/data.h"

typedef struct spy_npy_header {
  char kind;    /* 'f', 'c', 'i', 'u', 'b' */
  int itemsize; /* bytes per element */
  bool bigendian;
  bool fortran;
  int ndim;
  size_t shape[SPY_MAXDIM];
  size_t data_offset; /* bytes from the start of the file */
} spy_npy_header;

/* Parses the magic, version and header dict at the start of buf (n bytes).
** Errors name `path` (may be NULL). */
int spy_npy_parse_header(const unsigned char *buf, size_t n, const char *path, spy_npy_header *h,
                         spy_err *err);

/* Reads a whole .npy file into a new array (*out, caller frees). */
int spy_npy_load(const char *path, spy_array **out, spy_err *err);

/* Writes an array (any layout). */
int spy_npy_save(const char *path, const spy_array *a, spy_err *err);

/* Writes the dataset `data` of a data object, streaming. */
int spy_npy_save_data(const char *path, spy_data *d, spy_err *err);

/* Writes a 1-d (one value per line) or 2-d array as text, as
** numpy.savetxt(path, a, fmt, delimiter, header=header) does ('# '-prefixed
** header lines; complex values as ' (re+imj)').  fmt is a printf float
** conversion (%[flags][width][.prec]{e,E,f,F,g,G}). */
int spy_savetxt(const char *path, const spy_array *a, const char *fmt, const char *delimiter,
                const char *header, spy_err *err);

/* Reads the whole dataset `data` of a data object into a new array. */
int spy_data_toarray(spy_data *d, spy_array **out, spy_err *err);

#endif
