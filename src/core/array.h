/*
** N-dimensional numeric arrays: the value type of spy.array and of plain
** HDF5 import/export.
**
** Ownership: an array owns one reference to a spy_buffer; views share the
** buffer (refcounted), so a view outlives its parent safely.  Buffers are
** allocated with fftw_malloc (SIMD-aligned), zero-filled.  Strides and
** offset are in elements.  spy_array_free releases the array struct and its
** buffer reference; it accepts NULL.
*/
#ifndef SPY_ARRAY_H
#define SPY_ARRAY_H

#include <complex.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/err.h"

#define SPY_MAXDIM 8

typedef enum {
  SPY_DT_F32,
  SPY_DT_F64,
  SPY_DT_C64,
  SPY_DT_C128,
  SPY_DT_I64,
  SPY_DT_NTYPES
} spy_dtype;

size_t spy_dtype_size(spy_dtype t);

/* The machine's physical memory in bytes (SIZE_MAX when unknown): what no
** buffer can exceed; callers refuse larger requests by name. */
size_t spy_physical_memory(void);
const char *spy_dtype_name(spy_dtype t); /* "float32", "complex64", ... */
int spy_dtype_parse(const char *name, spy_dtype *t);
bool spy_dtype_is_complex(spy_dtype t);

typedef struct spy_buffer {
  atomic_long refs;
  size_t nbytes;
  void *data;
} spy_buffer;

typedef struct spy_array {
  spy_dtype dtype;
  int ndim;
  size_t shape[SPY_MAXDIM];
  ptrdiff_t strides[SPY_MAXDIM]; /* elements */
  size_t offset;                 /* elements */
  spy_buffer *buf;
} spy_array;

/* A new contiguous (C order), zero-filled array; NULL when out of memory. */
spy_array *spy_array_new(spy_dtype t, int ndim, const size_t *shape);
/* A new array struct sharing a's buffer, with a's geometry. */
spy_array *spy_array_share(const spy_array *a);
/* A contiguous copy, converted to dtype t (complex -> real keeps the real part). */
spy_array *spy_array_convert(const spy_array *a, spy_dtype t);
void spy_array_free(spy_array *a);

size_t spy_array_numel(const spy_array *a);
bool spy_array_is_contiguous(const spy_array *a);
/* Pointer to the element at a (full) index tuple. */
void *spy_array_at(const spy_array *a, const size_t *idx);
/* Element as double / double complex (any dtype). */
double spy_array_getd(const spy_array *a, const size_t *idx);
double complex spy_array_getc(const spy_array *a, const size_t *idx);
void spy_array_setc(spy_array *a, const size_t *idx, double complex v);
/* Linear (C-order) element access by flat index through the view. */
double complex spy_array_getc_flat(const spy_array *a, size_t flat);
void spy_array_setc_flat(spy_array *a, size_t flat, double complex v);

/* One element at p of dtype t, as double complex / from double complex
** (to int64: the caller guarantees a finite, in-range value). */
double complex spy_dtype_load(const void *p, spy_dtype t);
void spy_dtype_store(void *p, spy_dtype t, double complex v);

/* Copy src (any layout, dtype converted) into a contiguous destination
** buffer of dtype t with numel(src) elements. */
void spy_array_pack(const spy_array *src, void *dst, spy_dtype t);

#endif
