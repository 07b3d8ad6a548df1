/* NumPy .npy files and numpy.savetxt-style text (see npy.h). */
#include "io/formats/npy.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/interrupt.h"
#include "io/formats/common.h"

static const unsigned char MAGIC[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

#define NPY_SUPPORTED "floats (f2, f4, f8), complex (c8, c16), integers (i1-i8, u1-u8) and bools"

/* ---- header --------------------------------------------------------------- */

static const char *skipws(const char *s, const char *end)
{
  while (s < end && isspace((unsigned char)*s))
    s++;
  return s;
}

/* Finds 'key' (quoted either way) followed by ':' and returns the value start. */
static const char *findkey(const char *s, const char *end, const char *key)
{
  size_t k = strlen(key);
  for (const char *p = s; p + k + 2 <= end; p++) {
    if ((*p == '\'' || *p == '"') && p[k + 1] == *p && memcmp(p + 1, key, k) == 0) {
      const char *q = skipws(p + k + 2, end);
      if (q < end && *q == ':') {
        q = skipws(q + 1, end);
        return q < end ? q : NULL;
      }
    }
  }
  return NULL;
}

static int bad(spy_err *err, const char *path, const char *what)
{
  return spy_fail(err, SPY_EFORMAT, "'%s' is not a valid .npy file: %s", path ? path : "<buffer>",
                  what);
}

int spy_npy_parse_header(const unsigned char *buf, size_t n, const char *path, spy_npy_header *h,
                         spy_err *err)
{
  memset(h, 0, sizeof *h);
  if (n < 10 || memcmp(buf, MAGIC, 6) != 0)
    return bad(err, path, "the magic string \\x93NUMPY is missing");
  int major = buf[6];
  size_t hlen, start;
  if (major == 1) {
    hlen = (size_t)buf[8] | (size_t)buf[9] << 8;
    start = 10;
  } else if (major == 2 || major == 3) {
    if (n < 12) return bad(err, path, "the header is truncated");
    hlen = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
    start = 12;
  } else {
    char m[64];
    snprintf(m, sizeof m, "format version %d.%d (1.0, 2.0 and 3.0 are supported)", major, buf[7]);
    return bad(err, path, m);
  }
  if (hlen > n - start) return bad(err, path, "the header is truncated");
  const char *s = (const char *)buf + start, *end = s + hlen;
  /* descr */
  const char *v = findkey(s, end, "descr");
  if (!v) return bad(err, path, "the header has no 'descr'");
  if (*v != '\'' && *v != '"') {
    char m[200];
    snprintf(m, sizeof m, "structured or object dtypes are not supported (only %s)", NPY_SUPPORTED);
    return spy_fail(err, SPY_ENOTSUP, "'%s': %s", path ? path : "<buffer>", m);
  }
  char q = *v++;
  const char *ve = memchr(v, q, (size_t)(end - v));
  if (!ve || ve - v < 2 || ve - v > 8) return bad(err, path, "the header's 'descr' is malformed");
  char descr[16] = {0};
  memcpy(descr, v, (size_t)(ve - v));
  char order = descr[0];
  const char *d = descr;
  if (order == '<' || order == '>' || order == '|' || order == '=')
    d++;
  else
    order = '=';
  h->bigendian = order == '>';
  h->kind = d[0];
  char *numend = NULL;
  long size = strtol(d + 1, &numend, 10);
  bool ok = numend && *numend == 0 && numend != d + 1;
  switch (h->kind) {
  case 'f':
    ok = ok && (size == 2 || size == 4 || size == 8);
    break;
  case 'c':
    ok = ok && (size == 8 || size == 16);
    break;
  case 'i':
  case 'u':
    ok = ok && (size == 1 || size == 2 || size == 4 || size == 8);
    break;
  case 'b':
    ok = ok && size == 1;
    break;
  default:
    ok = false;
  }
  if (!ok)
    return spy_fail(err, SPY_ENOTSUP, "'%s': dtype '%s' is not supported (only %s)",
                    path ? path : "<buffer>", descr, NPY_SUPPORTED);
  h->itemsize = (int)size;
  /* fortran_order */
  v = findkey(s, end, "fortran_order");
  if (!v) return bad(err, path, "the header has no 'fortran_order'");
  if (end - v >= 4 && memcmp(v, "True", 4) == 0)
    h->fortran = true;
  else if (end - v >= 5 && memcmp(v, "False", 5) == 0)
    h->fortran = false;
  else
    return bad(err, path, "the header's 'fortran_order' is neither True nor False");
  /* shape */
  v = findkey(s, end, "shape");
  if (!v || *v != '(') return bad(err, path, "the header has no 'shape' tuple");
  v++;
  size_t total = 1;
  for (;;) {
    v = skipws(v, end);
    if (v >= end) return bad(err, path, "the header's 'shape' is not closed");
    if (*v == ')') break;
    if (!isdigit((unsigned char)*v))
      return bad(err, path, "the header's 'shape' holds a non-integer");
    if (h->ndim == SPY_MAXDIM) return bad(err, path, "more than 8 dimensions");
    size_t x = 0;
    while (v < end && isdigit((unsigned char)*v)) {
      if (x > (SIZE_MAX - 9) / 10) return bad(err, path, "the header's 'shape' overflows");
      x = x * 10 + (size_t)(*v++ - '0');
    }
    if (v < end && *v == 'L') v++; /* Python 2 longs */
    if (x && total > SIZE_MAX / x / 16) return bad(err, path, "the header's 'shape' overflows");
    total *= x;
    h->shape[h->ndim++] = x;
    v = skipws(v, end);
    if (v < end && *v == ',')
      v++;
    else if (v < end && *v != ')')
      return bad(err, path, "the header's 'shape' is malformed");
  }
  h->data_offset = start + hlen;
  return SPY_OK;
}

/* ---- decoding ------------------------------------------------------------- */

static spy_dtype target(const spy_npy_header *h)
{
  switch (h->kind) {
  case 'f':
    return h->itemsize == 8 ? SPY_DT_F64 : SPY_DT_F32;
  case 'c':
    return h->itemsize == 16 ? SPY_DT_C128 : SPY_DT_C64;
  default:
    return SPY_DT_I64;
  }
}

static void bytes(unsigned char *dst, const unsigned char *src, int n, bool swap)
{
  for (int i = 0; i < n; i++)
    dst[i] = swap ? src[n - 1 - i] : src[i];
}

static float half(uint16_t x)
{
  int e = (x >> 10) & 0x1f, m = x & 0x3ff;
  float v = e == 0    ? ldexpf((float)m, -24)
            : e == 31 ? (m ? NAN : INFINITY)
                      : ldexpf((float)(m | 0x400), e - 25);
  return (x & 0x8000) ? -v : v;
}

/* n elements at src (file layout) -> dst (dtype target(h)). */
static void decode(const spy_npy_header *h, const unsigned char *src, size_t n, void *dst)
{
  static const uint16_t one = 1;
  bool little_host = *(const unsigned char *)&one == 1;
  bool swap = h->itemsize > 1 && h->bigendian == little_host;
  int sz = h->itemsize;
  unsigned char tmp[16];
  for (size_t i = 0; i < n; i++, src += sz) {
    if (h->kind == 'c') {
      int half_sz = sz / 2;
      bytes(tmp, src, half_sz, swap);
      bytes(tmp + half_sz, src + half_sz, half_sz, swap);
      memcpy((char *)dst + i * (size_t)sz, tmp, (size_t)sz);
      continue;
    }
    bytes(tmp, src, sz, swap);
    if (h->kind == 'f') {
      if (sz == 8)
        memcpy((double *)dst + i, tmp, 8);
      else if (sz == 4)
        memcpy((float *)dst + i, tmp, 4);
      else {
        uint16_t x;
        memcpy(&x, tmp, 2);
        ((float *)dst)[i] = half(x);
      }
      continue;
    }
    int64_t v = 0;
    if (h->kind == 'i') {
      if (sz == 1)
        v = (int8_t)tmp[0];
      else if (sz == 2) {
        int16_t x;
        memcpy(&x, tmp, 2);
        v = x;
      } else if (sz == 4) {
        int32_t x;
        memcpy(&x, tmp, 4);
        v = x;
      } else
        memcpy(&v, tmp, 8);
    } else if (h->kind == 'b') {
      v = tmp[0] != 0;
    } else {
      if (sz == 1)
        v = tmp[0];
      else if (sz == 2) {
        uint16_t x;
        memcpy(&x, tmp, 2);
        v = x;
      } else if (sz == 4) {
        uint32_t x;
        memcpy(&x, tmp, 4);
        v = x;
      } else {
        uint64_t x;
        memcpy(&x, tmp, 8);
        v = x > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)x;
      }
    }
    ((int64_t *)dst)[i] = v;
  }
}

int spy_npy_load(const char *path, spy_array **out, spy_err *err)
{
  *out = NULL;
  int rc0 = spy_check_file(path, err);
  if (rc0) return rc0;
  FILE *f = fopen(path, "rb");
  if (!f)
    return spy_fail(err, errno == ENOENT ? SPY_ENOENT : SPY_EIO, "cannot open '%s': %s", path,
                    strerror(errno));
  int rc = SPY_OK;
  unsigned char *head = NULL, *raw = NULL;
  spy_array *a = NULL;
  unsigned char pre[12];
  size_t got = fread(pre, 1, sizeof pre, f);
  spy_npy_header h;
  if (got < 10 || memcmp(pre, MAGIC, 6) != 0) {
    rc = bad(err, path, "the magic string \\x93NUMPY is missing");
    goto exit;
  }
  size_t hlen =
      pre[6] == 1
          ? ((size_t)pre[8] | (size_t)pre[9] << 8) + 10
          : ((size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24) +
                12;
  if (hlen > (1u << 26)) {
    rc = bad(err, path, "the header is implausibly long");
    goto exit;
  }
  head = malloc(hlen);
  if (!head) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto exit;
  }
  rewind(f);
  got = fread(head, 1, hlen, f);
  if ((rc = spy_npy_parse_header(head, got, path, &h, err))) goto exit;
  /* the array: C order of the shape, or of the reversed shape for Fortran */
  size_t shp[SPY_MAXDIM], numel = 1;
  for (int i = 0; i < h.ndim; i++) {
    shp[i] = h.fortran ? h.shape[h.ndim - 1 - i] : h.shape[i];
    numel *= h.shape[i];
  }
  if (fseeko(f, 0, SEEK_END) != 0) {
    rc = spy_fail(err, SPY_EIO, "cannot read '%s': %s", path, strerror(errno));
    goto exit;
  }
  off_t fsize = ftello(f);
  double want = (double)numel * h.itemsize;
  if ((double)(fsize - (off_t)h.data_offset) < want) {
    rc = spy_fail(err, SPY_EFORMAT,
                  "'%s' is truncated: the header promises %.0f bytes of data, the file holds %lld",
                  path, want, (long long)(fsize - (off_t)h.data_offset));
    goto exit;
  }
  a = spy_array_new(target(&h), h.ndim, shp);
  if (!a) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory: '%s' needs %.0f bytes", path, want);
    goto exit;
  }
  fseeko(f, (off_t)h.data_offset, SEEK_SET);
  size_t block = (1u << 20), esz = spy_dtype_size(a->dtype);
  raw = malloc(block * (size_t)h.itemsize);
  if (!raw) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto exit;
  }
  for (size_t done = 0; done < numel;) {
    size_t m = numel - done < block ? numel - done : block;
    if (fread(raw, (size_t)h.itemsize, m, f) != m) {
      rc = spy_fail(err, SPY_EIO, "cannot read '%s': %s", path,
                    ferror(f) ? strerror(errno) : "unexpected end");
      goto exit;
    }
    decode(&h, raw, m, (char *)a->buf->data + done * esz);
    done += m;
  }
  if (h.fortran && h.ndim > 1) { /* a transposed view, copied into C order */
    spy_array *t = spy_array_share(a);
    if (!t) {
      rc = spy_fail(err, SPY_ENOMEM, "out of memory");
      goto exit;
    }
    for (int i = 0; i < h.ndim; i++) {
      t->shape[i] = a->shape[h.ndim - 1 - i];
      t->strides[i] = a->strides[h.ndim - 1 - i];
    }
    spy_array *c = spy_array_convert(t, a->dtype);
    spy_array_free(t);
    if (!c) {
      rc = spy_fail(err, SPY_ENOMEM, "out of memory");
      goto exit;
    }
    spy_array_free(a);
    a = c;
  }
  *out = a;
  a = NULL;
exit:
  spy_array_free(a);
  free(head);
  free(raw);
  fclose(f);
  return rc;
}

/* ---- writing -------------------------------------------------------------- */

static const char *descr_of(spy_dtype t)
{
  switch (t) {
  case SPY_DT_F32:
    return "<f4";
  case SPY_DT_F64:
    return "<f8";
  case SPY_DT_C64:
    return "<c8";
  case SPY_DT_C128:
    return "<c16";
  default:
    return "<i8";
  }
}

static int write_header(FILE *f, spy_dtype t, int ndim, const size_t *shape)
{
  char dict[600];
  int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                   descr_of(t));
  for (int i = 0; i < ndim; i++)
    n += snprintf(dict + n, sizeof dict - (size_t)n, "%zu,%s", shape[i], i + 1 < ndim ? " " : "");
  if (ndim > 1) n--; /* numpy writes (3, 4) but (5,) */
  n += snprintf(dict + n, sizeof dict - (size_t)n, "), }");
  size_t pre = 10, len = (size_t)n + 1; /* + '\n' */
  size_t total = (pre + len + 63) / 64 * 64;
  unsigned char head[12] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0, 0, 0};
  size_t hl = total - pre;
  head[8] = (unsigned char)(hl & 0xff);
  head[9] = (unsigned char)(hl >> 8);
  if (fwrite(head, 1, pre, f) != pre || fwrite(dict, 1, (size_t)n, f) != (size_t)n) return -1;
  for (size_t i = pre + (size_t)n; i + 1 < total; i++)
    fputc(' ', f);
  fputc('\n', f);
  return ferror(f) ? -1 : 0;
}

/* Elements are written in the host's order: little-endian (x86, arm64). */
static int check_host(const char *path, spy_err *err)
{
  static const uint16_t one = 1;
  if (*(const unsigned char *)&one != 1)
    return spy_fail(err, SPY_ENOTSUP, "cannot write '%s': big-endian hosts are not supported",
                    path);
  return SPY_OK;
}

int spy_npy_save(const char *path, const spy_array *a, spy_err *err)
{
  if (check_host(path, err)) return err ? err->code : SPY_ENOTSUP;
  spy_part p;
  int rc = spy_part_begin(&p, path, true, err);
  if (rc) return rc;
  size_t n = spy_array_numel(a), esz = spy_dtype_size(a->dtype);
  void *buf = NULL;
  const void *src;
  if (spy_array_is_contiguous(a)) {
    src = (const char *)a->buf->data + a->offset * esz;
  } else {
    buf = malloc((n ? n : 1) * esz);
    if (!buf) {
      spy_part_abort(&p);
      return spy_fail(err, SPY_ENOMEM, "out of memory");
    }
    spy_array_pack(a, buf, a->dtype);
    src = buf;
  }
  if (write_header(p.f, a->dtype, a->ndim, a->shape) || fwrite(src, esz, n, p.f) != n) {
    free(buf);
    rc = spy_fail(err, SPY_EIO, "cannot write '%s': %s", path, strerror(errno));
    spy_part_abort(&p);
    return rc;
  }
  free(buf);
  return spy_part_commit(&p, err);
}

int spy_npy_save_data(const char *path, spy_data *d, spy_err *err)
{
  if (check_host(path, err)) return err ? err->code : SPY_ENOTSUP;
  spy_part p;
  int rc = spy_part_begin(&p, path, true, err);
  if (rc) return rc;
  size_t row = spy_data_row_elems(d), esz = spy_dtype_size(d->dtype);
  size_t nch = d->shape[d->ndim - 1];
  size_t rows = row * esz > (8u << 20) ? 1 : (8u << 20) / (row * esz + 1) + 1;
  void *buf = malloc((rows * row + 1) * esz);
  if (!buf) {
    spy_part_abort(&p);
    return spy_fail(err, SPY_ENOMEM, "out of memory");
  }
  if (write_header(p.f, d->dtype, d->ndim, d->shape))
    rc = spy_fail(err, SPY_EIO, "cannot write '%s': %s", path, strerror(errno));
  for (size_t r0 = 0; !rc && r0 < d->shape[0]; r0 += rows) {
    size_t m = d->shape[0] - r0 < rows ? d->shape[0] - r0 : rows;
    if (spy_interrupted())
      rc = spy_fail(err, SPY_EINTR, "interrupted: '%s' was not written", path);
    else
      rc = spy_data_read(d, r0, m, NULL, nch, buf, d->dtype, err);
    if (!rc && fwrite(buf, esz, m * row, p.f) != m * row)
      rc = spy_fail(err, SPY_EIO, "cannot write '%s': %s", path, strerror(errno));
  }
  free(buf);
  if (rc) {
    spy_part_abort(&p);
    return rc;
  }
  return spy_part_commit(&p, err);
}

int spy_data_toarray(spy_data *d, spy_array **out, spy_err *err)
{
  *out = NULL;
  size_t shape[4];
  for (int i = 0; i < d->ndim; i++)
    shape[i] = d->shape[i];
  spy_array *a = spy_array_new(d->dtype, d->ndim, shape);
  if (!a)
    return spy_fail(err, SPY_ENOMEM, "out of memory: the data need %.0f bytes",
                    (double)spy_data_row_elems(d) * (double)d->shape[0] *
                        (double)spy_dtype_size(d->dtype));
  int rc = d->shape[0] ? spy_data_read(d, 0, d->shape[0], NULL, d->shape[d->ndim - 1], a->buf->data,
                                       d->dtype, err)
                       : SPY_OK;
  if (rc) {
    spy_array_free(a);
    return rc;
  }
  *out = a;
  return SPY_OK;
}

/* NaN without its sign: C's printf writes a NaN with the sign bit (what 0/0
** gives on x86) as "-nan", Python's % formatting (numpy.savetxt) "nan". */
static double unsigned_nan(double x)
{
  return isnan(x) ? fabs(x) : x;
}

/* ---- text ----------------------------------------------------------------- */

static bool valid_fmt(const char *f)
{
  if (*f++ != '%') return false;
  while (*f && strchr("-+ #0", *f))
    f++;
  while (isdigit((unsigned char)*f))
    f++;
  if (*f == '.') {
    f++;
    while (isdigit((unsigned char)*f))
      f++;
  }
  return *f && strchr("eEfFgG", *f) && f[1] == 0;
}

int spy_savetxt(const char *path, const spy_array *a, const char *fmt, const char *delimiter,
                const char *header, spy_err *err)
{
  if (a->ndim < 1 || a->ndim > 2) {
    char got[32];
    snprintf(got, sizeof got, "%dD", a->ndim);
    return spy_fail(err, SPY_EINVAL, "Expected 1D or 2D array, got %s array instead", got);
  }
  if (!valid_fmt(fmt))
    return spy_fail_value(err, "fmt", fmt,
                          "one printf float conversion such as '%%.18e', '%%g' or '%%10.4f'");
  spy_part p;
  int rc = spy_part_begin(&p, path, true, err);
  if (rc) return rc;
  if (header && *header) { /* '# ' before every line, as numpy */
    const char *s = header;
    while (*s) {
      const char *nl = strchr(s, '\n');
      size_t len = nl ? (size_t)(nl - s) : strlen(s);
      fprintf(p.f, "# %.*s\n", (int)len, s);
      s += len + (nl ? 1 : 0);
    }
  }
  size_t rows = a->shape[0], cols = a->ndim == 2 ? a->shape[1] : 1;
  bool cplx = spy_dtype_is_complex(a->dtype), isint = a->dtype == SPY_DT_I64;
  for (size_t r = 0; r < rows; r++) {
    for (size_t c = 0; c < cols; c++) {
      size_t idx[2] = {r, c};
      if (c) fputs(delimiter, p.f);
      if (cplx) {
        double complex v = spy_array_getc(a, idx);
        char im[400];
        snprintf(im, sizeof im, fmt, unsigned_nan(cimag(v)));
        fprintf(p.f, " (");
        fprintf(p.f, fmt, unsigned_nan(creal(v)));
        fprintf(p.f, "%s%sj)", im[0] == '-' || im[0] == '+' ? "" : "+", im);
      } else if (isint) {
        fprintf(p.f, fmt, (double)*(const int64_t *)spy_array_at(a, idx));
      } else {
        fprintf(p.f, fmt, unsigned_nan(spy_array_getd(a, idx)));
      }
    }
    fputc('\n', p.f);
  }
  return spy_part_commit(&p, err);
}
