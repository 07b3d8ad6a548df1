#include "core/array.h"

#include <fftw3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
  const char *name;
  size_t size;
} dtinfo[SPY_DT_NTYPES] = {
    [SPY_DT_F32] = {"float32", 4},    [SPY_DT_F64] = {"float64", 8},
    [SPY_DT_C64] = {"complex64", 8},  [SPY_DT_C128] = {"complex128", 16},
    [SPY_DT_I64] = {"int64", 8},
};

size_t spy_dtype_size(spy_dtype t) { return t < SPY_DT_NTYPES ? dtinfo[t].size : 0; }
const char *spy_dtype_name(spy_dtype t) { return t < SPY_DT_NTYPES ? dtinfo[t].name : "?"; }
bool spy_dtype_is_complex(spy_dtype t) { return t == SPY_DT_C64 || t == SPY_DT_C128; }

int spy_dtype_parse(const char *name, spy_dtype *t)
{
  for (int i = 0; i < SPY_DT_NTYPES; i++)
    if (strcmp(name, dtinfo[i].name) == 0) {
      *t = (spy_dtype)i;
      return SPY_OK;
    }
  return SPY_EINVAL;
}

/* The machine's physical memory: no in-memory array can be larger, so a
** shape announced by a file or a keyword beyond it is refused before any
** allocation is tried (with overcommit the attempt could succeed and thrash
** later; under the sanitizers it aborts). */
size_t spy_physical_memory(void)
{
  static size_t phys;
  if (!phys) {
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    phys = pages > 0 && size > 0 ? (size_t)pages * (size_t)size : SIZE_MAX;
  }
  return phys;
}

static spy_buffer *buffer_new(size_t nbytes)
{
  if (nbytes > spy_physical_memory()) return NULL;
  spy_buffer *b = malloc(sizeof *b);
  if (!b) return NULL;
  b->data = fftw_malloc(nbytes ? nbytes : 1);
  if (!b->data) {
    free(b);
    return NULL;
  }
  memset(b->data, 0, nbytes);
  b->nbytes = nbytes;
  atomic_init(&b->refs, 1);
  return b;
}

static void buffer_release(spy_buffer *b)
{
  if (b && atomic_fetch_sub(&b->refs, 1) == 1) {
    fftw_free(b->data);
    free(b);
  }
}

spy_array *spy_array_new(spy_dtype t, int ndim, const size_t *shape)
{
  if (ndim < 0 || ndim > SPY_MAXDIM || t >= SPY_DT_NTYPES) return NULL;
  size_t n = 1;
  for (int i = 0; i < ndim; i++) {
    if (shape[i] && n > SIZE_MAX / shape[i]) return NULL;
    n *= shape[i];
  }
  if (n > SIZE_MAX / dtinfo[t].size) return NULL;
  spy_array *a = calloc(1, sizeof *a);
  if (!a) return NULL;
  a->buf = buffer_new(n * dtinfo[t].size);
  if (!a->buf) {
    free(a);
    return NULL;
  }
  a->dtype = t;
  a->ndim = ndim;
  ptrdiff_t s = 1;
  for (int i = ndim - 1; i >= 0; i--) {
    a->shape[i] = shape[i];
    a->strides[i] = s;
    s *= (ptrdiff_t)(shape[i] ? shape[i] : 1);
  }
  return a;
}

spy_array *spy_array_share(const spy_array *a)
{
  spy_array *v = malloc(sizeof *v);
  if (!v) return NULL;
  *v = *a;
  atomic_fetch_add(&v->buf->refs, 1);
  return v;
}

void spy_array_free(spy_array *a)
{
  if (!a) return;
  buffer_release(a->buf);
  free(a);
}

size_t spy_array_numel(const spy_array *a)
{
  size_t n = 1;
  for (int i = 0; i < a->ndim; i++) n *= a->shape[i];
  return n;
}

bool spy_array_is_contiguous(const spy_array *a)
{
  ptrdiff_t s = 1;
  for (int i = a->ndim - 1; i >= 0; i--) {
    if (a->shape[i] != 1 && a->strides[i] != s) return false;
    s *= (ptrdiff_t)a->shape[i];
  }
  return true;
}

void *spy_array_at(const spy_array *a, const size_t *idx)
{
  ptrdiff_t off = (ptrdiff_t)a->offset;
  for (int i = 0; i < a->ndim; i++) off += (ptrdiff_t)idx[i] * a->strides[i];
  return (char *)a->buf->data + (size_t)off * dtinfo[a->dtype].size;
}

static double complex load(const void *p, spy_dtype t)
{
  switch (t) {
  case SPY_DT_F32: return *(const float *)p;
  case SPY_DT_F64: return *(const double *)p;
  case SPY_DT_C64: return *(const float complex *)p;
  case SPY_DT_C128: return *(const double complex *)p;
  case SPY_DT_I64: return (double)*(const int64_t *)p;
  default: return 0;
  }
}

static void store(void *p, spy_dtype t, double complex v)
{
  switch (t) {
  case SPY_DT_F32: *(float *)p = (float)creal(v); break;
  case SPY_DT_F64: *(double *)p = creal(v); break;
  case SPY_DT_C64: *(float complex *)p = (float complex)v; break;
  case SPY_DT_C128: *(double complex *)p = v; break;
  case SPY_DT_I64: *(int64_t *)p = (int64_t)creal(v); break;
  default: break;
  }
}

double complex spy_dtype_load(const void *p, spy_dtype t) { return load(p, t); }
void spy_dtype_store(void *p, spy_dtype t, double complex v) { store(p, t, v); }

double spy_array_getd(const spy_array *a, const size_t *idx)
{
  return creal(load(spy_array_at(a, idx), a->dtype));
}

double complex spy_array_getc(const spy_array *a, const size_t *idx)
{
  return load(spy_array_at(a, idx), a->dtype);
}

void spy_array_setc(spy_array *a, const size_t *idx, double complex v)
{
  store(spy_array_at(a, idx), a->dtype, v);
}

static void unflat(const spy_array *a, size_t flat, size_t *idx)
{
  for (int i = a->ndim - 1; i >= 0; i--) {
    size_t n = a->shape[i] ? a->shape[i] : 1;
    idx[i] = flat % n;
    flat /= n;
  }
}

double complex spy_array_getc_flat(const spy_array *a, size_t flat)
{
  size_t idx[SPY_MAXDIM];
  unflat(a, flat, idx);
  return spy_array_getc(a, idx);
}

void spy_array_setc_flat(spy_array *a, size_t flat, double complex v)
{
  size_t idx[SPY_MAXDIM];
  unflat(a, flat, idx);
  spy_array_setc(a, idx, v);
}

void spy_array_pack(const spy_array *src, void *dst, spy_dtype t)
{
  size_t n = spy_array_numel(src), es = dtinfo[t].size;
  if (src->dtype == t && spy_array_is_contiguous(src)) {
    memcpy(dst, (char *)src->buf->data + src->offset * es, n * es);
    return;
  }
  size_t idx[SPY_MAXDIM] = {0};
  for (size_t k = 0; k < n; k++) {
    store((char *)dst + k * es, t, spy_array_getc(src, idx));
    for (int i = src->ndim - 1; i >= 0; i--) {
      if (++idx[i] < src->shape[i]) break;
      idx[i] = 0;
    }
  }
}

spy_array *spy_array_convert(const spy_array *a, spy_dtype t)
{
  spy_array *r = spy_array_new(t, a->ndim, a->shape);
  if (r) spy_array_pack(a, r->buf->data, t);
  return r;
}
