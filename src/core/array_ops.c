/*
** Array operations (see array_ops.h): views, conversion, arithmetic and
** reductions.  Elements are reached through a walker that keeps one element
** offset per operand, so views of any strides and broadcast operands
** (stride 0) run through the same loops.
*/
#include "core/array_ops.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- walking elements -------------------------------------------------- */

typedef struct walk {
  int ndim, nop;
  size_t shape[SPY_MAXDIM], idx[SPY_MAXDIM];
  ptrdiff_t st[3][SPY_MAXDIM], off[3]; /* per operand, in elements */
} walk;

static void walk_init(walk *w, int ndim, const size_t *shape)
{
  memset(w, 0, sizeof *w);
  w->ndim = ndim;
  for (int d = 0; d < ndim; d++)
    w->shape[d] = shape[d];
}

/* Adds an operand, aligned at the last axis and broadcast (stride 0) along
** the axes where it has length 1 or no axis at all. */
static void walk_add(walk *w, const spy_array *a)
{
  int k = w->nop++, lead = w->ndim - a->ndim;
  for (int d = 0; d < a->ndim; d++)
    w->st[k][lead + d] = a->shape[d] == 1 ? 0 : a->strides[d];
  w->off[k] = (ptrdiff_t)a->offset;
}

static void walk_next(walk *w)
{
  for (int d = w->ndim - 1; d >= 0; d--) {
    for (int k = 0; k < w->nop; k++)
      w->off[k] += w->st[k][d];
    if (++w->idx[d] < w->shape[d]) return;
    for (int k = 0; k < w->nop; k++)
      w->off[k] -= w->st[k][d] * (ptrdiff_t)w->shape[d];
    w->idx[d] = 0;
  }
}

static size_t count(int ndim, const size_t *shape)
{
  size_t n = 1;
  for (int d = 0; d < ndim; d++)
    n *= shape[d];
  return n;
}

static void *at(const spy_array *a, ptrdiff_t off)
{
  return (char *)a->buf->data + off * (ptrdiff_t)spy_dtype_size(a->dtype);
}

/* ---- blocks of elements (the elementwise loops) -------------------------- */

enum { BLOCK = 256 };

/* m elements from p (stride st in elements) as doubles (real parts). */
static void get_real(const void *p, ptrdiff_t st, size_t m, spy_dtype t, double *x)
{
  switch (t) {
  case SPY_DT_F32:
    for (size_t j = 0; j < m; j++)
      x[j] = ((const float *)p)[(ptrdiff_t)j * st];
    break;
  case SPY_DT_F64:
    for (size_t j = 0; j < m; j++)
      x[j] = ((const double *)p)[(ptrdiff_t)j * st];
    break;
  case SPY_DT_I64:
    for (size_t j = 0; j < m; j++)
      x[j] = (double)((const int64_t *)p)[(ptrdiff_t)j * st];
    break;
  default:
    for (size_t j = 0; j < m; j++)
      x[j] = creal(spy_dtype_load((const char *)p + (ptrdiff_t)(j * spy_dtype_size(t)) * st, t));
  }
}

static void get_cplx(const void *p, ptrdiff_t st, size_t m, spy_dtype t, double complex *z)
{
  double x[BLOCK];
  switch (t) {
  case SPY_DT_C64:
    for (size_t j = 0; j < m; j++)
      z[j] = ((const float complex *)p)[(ptrdiff_t)j * st];
    break;
  case SPY_DT_C128:
    for (size_t j = 0; j < m; j++)
      z[j] = ((const double complex *)p)[(ptrdiff_t)j * st];
    break;
  default:
    get_real(p, st, m, t, x);
    for (size_t j = 0; j < m; j++)
      z[j] = x[j];
  }
}

/* m results into contiguous p of a floating dtype t. */
static void put_real(void *p, size_t m, spy_dtype t, const double *x)
{
  if (t == SPY_DT_F32)
    for (size_t j = 0; j < m; j++)
      ((float *)p)[j] = (float)x[j];
  else
    memcpy(p, x, m * sizeof *x);
}

static void put_cplx(void *p, size_t m, spy_dtype t, const double complex *z)
{
  if (t == SPY_DT_C64)
    for (size_t j = 0; j < m; j++)
      ((float complex *)p)[j] = (float complex)z[j];
  else
    memcpy(p, z, m * sizeof *z);
}

/* Rows along the last axis of a result of shape (nd, shape); operands are
** aligned and broadcast as by walk_add, inner[k] is operand k's stride
** along the row (0 where it is broadcast). */
typedef struct rows {
  walk w;
  size_t n, count;
  ptrdiff_t inner[3];
} rows;

static void rows_init(rows *r, int nd, const size_t *shape, const spy_array *const *ops, int nop)
{
  walk_init(&r->w, nd ? nd - 1 : 0, shape);
  r->n = nd ? shape[nd - 1] : 1;
  r->count = nd ? count(nd - 1, shape) : 1;
  for (int k = 0; k < nop; k++) {
    spy_array g = *ops[k];
    g.ndim = g.ndim ? g.ndim - 1 : 0;
    walk_add(&r->w, &g);
    const spy_array *a = ops[k];
    r->inner[k] = a->ndim && a->shape[a->ndim - 1] != 1 ? a->strides[a->ndim - 1] : 0;
  }
}

/* Element j0 of the current row of operand k. */
static const void *rowat(const rows *r, int k, const spy_array *a, size_t j0)
{
  return (const char *)a->buf->data +
         (r->w.off[k] + (ptrdiff_t)j0 * r->inner[k]) * (ptrdiff_t)spy_dtype_size(a->dtype);
}

static int nomem(spy_err *err)
{
  return spy_fail(err, SPY_ENOMEM, "out of memory");
}

/* ---- indexing and views ------------------------------------------------ */

static const char *allowed(size_t n, char *buf, size_t len)
{
  if (n == 1)
    snprintf(buf, len, "1 or -1");
  else
    snprintf(buf, len, "1..%zu, or -%zu..-1 counting from the end", n, n);
  return buf;
}

int spy_index_resolve(int64_t i, size_t n, int axis, size_t *pos, spy_err *err)
{
  int64_t len = (int64_t)n;
  char ok[96];
  if (i >= 1 && i <= len) {
    *pos = (size_t)(i - 1);
    return SPY_OK;
  }
  if (i < 0 && i >= -len) {
    *pos = (size_t)(len + i);
    return SPY_OK;
  }
  if (n == 0)
    return spy_fail(err, SPY_EINVAL, "index %" PRId64 " is out of range: axis %d has length 0", i,
                    axis);
  if (i == 0)
    return spy_fail(err, SPY_EINVAL,
                    "index 0 is out of range for axis %d: indices start at 1 (allowed: %s)", axis,
                    allowed(n, ok, sizeof ok));
  return spy_fail(err, SPY_EINVAL,
                  "index %" PRId64 " is out of range for axis %d of length %zu (allowed: %s)", i,
                  axis, n, allowed(n, ok, sizeof ok));
}

static int cut(spy_array *v, const spy_array *a, int d, const spy_slice *s, spy_err *err)
{
  size_t lo, hi;
  int rc = spy_index_resolve(s->lo, a->shape[d], d + 1, &lo, err);
  if (rc) return rc;
  v->offset = (size_t)((ptrdiff_t)v->offset + (ptrdiff_t)lo * a->strides[d]);
  if (s->kind == SPY_SLICE_INDEX) return SPY_OK;
  if ((rc = spy_index_resolve(s->hi, a->shape[d], d + 1, &hi, err))) return rc;
  if (s->step == 0)
    return spy_fail(err, SPY_EINVAL,
                    "step 0 in range {%" PRId64 ", %" PRId64 ", 0} of axis %d: "
                    "the step must be a non-zero integer",
                    s->lo, s->hi, d + 1);
  if (s->step > 0 ? hi < lo : hi > lo)
    return spy_fail(err, SPY_EINVAL,
                    "range {%" PRId64 ", %" PRId64 ", %" PRId64 "} of axis %d is empty: with a %s "
                    "step, hi must be %s lo (ranges are inclusive; {hi, lo, -1} reverses)",
                    s->lo, s->hi, s->step, d + 1, s->step > 0 ? "positive" : "negative",
                    s->step > 0 ? ">=" : "<=");
  size_t span = hi > lo ? hi - lo : lo - hi;
  size_t step = s->step > 0 ? (size_t)s->step : (size_t)0 - (size_t)s->step;
  v->shape[v->ndim] = span / step + 1;
  /* |step| <= span < n when more than one element is taken: no overflow */
  v->strides[v->ndim++] = step > span ? a->strides[d] : a->strides[d] * (ptrdiff_t)s->step;
  return SPY_OK;
}

int spy_array_slice(const spy_array *a, const spy_slice *s, int ns, spy_array **out, spy_err *err)
{
  *out = NULL;
  if (ns > a->ndim)
    return spy_fail(err, SPY_EINVAL, "%d axes given for a %d-d array (at most one entry per axis)",
                    ns, a->ndim);
  spy_array v = *a;
  v.ndim = 0;
  for (int d = 0; d < a->ndim; d++) {
    if (d >= ns || s[d].kind == SPY_SLICE_ALL) {
      v.shape[v.ndim] = a->shape[d];
      v.strides[v.ndim++] = a->strides[d];
      continue;
    }
    int rc = cut(&v, a, d, &s[d], err);
    if (rc) return rc;
  }
  if (!(*out = spy_array_share(&v))) return nomem(err);
  return SPY_OK;
}

int spy_array_locate(const spy_array *a, const int64_t *idx, int nidx, size_t *pos, spy_err *err)
{
  if (nidx != a->ndim)
    return spy_fail(err, SPY_EINVAL, "an element of a %d-d array takes %d ind%s, got %d", a->ndim,
                    a->ndim, a->ndim == 1 ? "ex" : "ices", nidx);
  for (int d = 0; d < a->ndim; d++) {
    int rc = spy_index_resolve(idx[d], a->shape[d], d + 1, &pos[d], err);
    if (rc) return rc;
  }
  return SPY_OK;
}

static void set_contiguous(spy_array *a, int ndim, const size_t *shape)
{
  ptrdiff_t s = 1;
  a->ndim = ndim;
  for (int d = ndim - 1; d >= 0; d--) {
    a->shape[d] = shape[d];
    a->strides[d] = s;
    s *= (ptrdiff_t)(shape[d] ? shape[d] : 1);
  }
}

int spy_array_reshape(const spy_array *a, int ndim, const int64_t *shape, spy_array **out,
                      spy_err *err)
{
  *out = NULL;
  char want[200];
  size_t k = (size_t)snprintf(want, sizeof want, "(");
  for (int d = 0; d < ndim && k < sizeof want; d++)
    k += (size_t)snprintf(want + k, sizeof want - k, d ? ", %" PRId64 : "%" PRId64, shape[d]);
  if (k < sizeof want) snprintf(want + k, sizeof want - k, ndim == 1 ? ",)" : ")");
  if (ndim < 0 || ndim > SPY_MAXDIM)
    return spy_fail(err, SPY_EINVAL, "cannot reshape into %d dimensions (allowed: 0..%d)", ndim,
                    SPY_MAXDIM);
  size_t n = spy_array_numel(a), known = 1, sh[SPY_MAXDIM];
  int infer = -1;
  for (int d = 0; d < ndim; d++) {
    if (shape[d] == -1 && infer < 0) {
      infer = d;
      continue;
    }
    if (shape[d] < 0)
      return spy_fail(err, SPY_EINVAL,
                      "cannot reshape into %s: lengths must be >= 0, with at "
                      "most one -1 (inferred)",
                      want);
    sh[d] = (size_t)shape[d];
    known = sh[d] && known > SIZE_MAX / sh[d] ? SIZE_MAX : known * sh[d];
  }
  if (infer >= 0) sh[infer] = known ? n / known : 0;
  size_t total = infer >= 0 ? known * sh[infer] : known; /* known saturates: never wraps */
  if (total != n || (infer >= 0 && known == 0))
    return spy_fail(err, SPY_EINVAL, "cannot reshape an array of %zu elements into shape %s", n,
                    want);
  *out = spy_array_is_contiguous(a) ? spy_array_share(a) : spy_array_convert(a, a->dtype);
  if (!*out) return nomem(err);
  set_contiguous(*out, ndim, sh);
  return SPY_OK;
}

/* ---- conversion and assignment ----------------------------------------- */

static bool int64_ok(double x)
{
  return x >= -0x1p63 && x < 0x1p63;
}

/* SPY_OK when every element of a fits into dtype t by assignment rules
** (integral=true: int64 needs integral values) or by astype rules. */
static int check_fits(const spy_array *a, spy_dtype t, bool integral, const char *what,
                      spy_err *err)
{
  if (spy_dtype_is_complex(a->dtype) && !spy_dtype_is_complex(t))
    return spy_fail(err, SPY_ETYPE,
                    "cannot %s %s values %s %s: the imaginary part would be lost "
                    "(take real() or abs() first)",
                    what, spy_dtype_name(a->dtype), integral ? "in" : "to", spy_dtype_name(t));
  if (t != SPY_DT_I64 || a->dtype == SPY_DT_I64) return SPY_OK;
  walk w;
  walk_init(&w, a->ndim, a->shape);
  walk_add(&w, a);
  for (size_t i = 0, n = spy_array_numel(a); i < n; i++, walk_next(&w)) {
    double x = creal(spy_dtype_load(at(a, w.off[0]), a->dtype));
    if (!int64_ok(x) || (integral && x != trunc(x)))
      return spy_fail(err, SPY_EINVAL, "cannot %s %.17g %s an int64 array (allowed: %s)", what, x,
                      integral ? "in" : "to",
                      integral ? "integers in [-2^63, 2^63)" : "finite values in [-2^63, 2^63)");
  }
  return SPY_OK;
}

int spy_array_astype(const spy_array *a, spy_dtype t, spy_array **out, spy_err *err)
{
  *out = NULL;
  int rc = check_fits(a, t, false, "convert", err);
  if (rc) return rc;
  if (!(*out = spy_array_convert(a, t))) return nomem(err);
  return SPY_OK;
}

int spy_array_assign(spy_array *dst, const spy_array *src, spy_err *err)
{
  char ds[160], ss[160];
  bool ok = src->ndim <= dst->ndim;
  for (int d = 0; ok && d < src->ndim; d++) {
    size_t ls = src->shape[src->ndim - 1 - d], ld = dst->shape[dst->ndim - 1 - d];
    ok = ls == ld || ls == 1;
  }
  if (!ok) {
    spy_shape_format(dst->ndim, dst->shape, ds, sizeof ds);
    spy_shape_format(src->ndim, src->shape, ss, sizeof ss);
    return spy_fail(err, SPY_EINVAL,
                    "cannot assign shape %s to shape %s (allowed: the same shape, "
                    "a scalar, or lengths of 1 that repeat)",
                    ss, ds);
  }
  int rc = check_fits(src, dst->dtype, true, "store", err);
  if (rc) return rc;
  spy_array *copy = NULL;
  if (src->buf == dst->buf) {
    if (!(copy = spy_array_convert(src, src->dtype))) return nomem(err);
    src = copy;
  }
  walk w;
  walk_init(&w, dst->ndim, dst->shape);
  walk_add(&w, dst);
  walk_add(&w, src);
  for (size_t i = 0, n = spy_array_numel(dst); i < n; i++, walk_next(&w)) {
    void *p = at(dst, w.off[0]);
    const void *q = at(src, w.off[1]);
    if (dst->dtype == SPY_DT_I64 && src->dtype == SPY_DT_I64)
      *(int64_t *)p = *(const int64_t *)q;
    else
      spy_dtype_store(p, dst->dtype, spy_dtype_load(q, src->dtype));
  }
  spy_array_free(copy);
  return SPY_OK;
}

/* ---- dtype rules ------------------------------------------------------- */

static int kind(spy_dtype t)
{
  return t == SPY_DT_I64 ? 0 : spy_dtype_is_complex(t) ? 2 : 1;
}
static bool wide(spy_dtype t)
{
  return t == SPY_DT_F64 || t == SPY_DT_C128 || t == SPY_DT_I64;
}

static spy_dtype make(int k, bool w)
{
  if (k == 0) return SPY_DT_I64;
  if (k == 1) return w ? SPY_DT_F64 : SPY_DT_F32;
  return w ? SPY_DT_C128 : SPY_DT_C64;
}

static spy_dtype realof(spy_dtype t)
{
  return t == SPY_DT_C64 ? SPY_DT_F32 : t == SPY_DT_C128 ? SPY_DT_F64 : t;
}

spy_dtype spy_binop_dtype(spy_binop op, const spy_array *a, const spy_array *b)
{
  int ka = kind(a->dtype), kb = kind(b->dtype);
  spy_dtype r;
  if (a->ndim == 0 && b->ndim > 0)
    r = ka <= kb ? b->dtype : make(ka, wide(b->dtype));
  else if (b->ndim == 0 && a->ndim > 0)
    r = kb <= ka ? a->dtype : make(kb, wide(a->dtype));
  else
    r = make(ka > kb ? ka : kb, wide(a->dtype) || wide(b->dtype));
  if (r == SPY_DT_I64 && (op == SPY_BIN_DIV || op == SPY_BIN_POW)) r = SPY_DT_F64;
  return r;
}

/* ---- arithmetic -------------------------------------------------------- */

static int broadcast(const spy_array *a, const spy_array *b, int *ndim, size_t *shape, spy_err *err)
{
  int nd = a->ndim > b->ndim ? a->ndim : b->ndim;
  for (int d = 0; d < nd; d++) {
    int ia = a->ndim - nd + d, ib = b->ndim - nd + d;
    size_t la = ia >= 0 ? a->shape[ia] : 1, lb = ib >= 0 ? b->shape[ib] : 1;
    if (la != lb && la != 1 && lb != 1) {
      char sa[160], sb[160];
      spy_shape_format(a->ndim, a->shape, sa, sizeof sa);
      spy_shape_format(b->ndim, b->shape, sb, sizeof sb);
      return spy_fail(err, SPY_EINVAL,
                      "shapes %s and %s do not match: aligned at the last axis, "
                      "lengths must be equal or 1",
                      sa, sb);
    }
    shape[d] = la == 1 ? lb : la;
  }
  *ndim = nd;
  return SPY_OK;
}

static int64_t ibinop(spy_binop op, int64_t x, int64_t y)
{
  uint64_t u = (uint64_t)x, v = (uint64_t)y;
  switch (op) {
  case SPY_BIN_ADD:
    return (int64_t)(u + v);
  case SPY_BIN_SUB:
    return (int64_t)(u - v);
  default:
    return (int64_t)(u * v);
  }
}

static double rbinop(spy_binop op, double x, double y)
{
  switch (op) {
  case SPY_BIN_ADD:
    return x + y;
  case SPY_BIN_SUB:
    return x - y;
  case SPY_BIN_MUL:
    return x * y;
  case SPY_BIN_DIV:
    return x / y;
  default:
    return pow(x, y);
  }
}

static double complex cbinop(spy_binop op, double complex x, double complex y)
{
  switch (op) {
  case SPY_BIN_ADD:
    return x + y;
  case SPY_BIN_SUB:
    return x - y;
  case SPY_BIN_MUL:
    return x * y;
  case SPY_BIN_DIV:
    return x / y;
  default:
    return cpow(x, y);
  }
}

int spy_array_binop(spy_binop op, const spy_array *a, const spy_array *b, spy_array **out,
                    spy_err *err)
{
  size_t shape[SPY_MAXDIM];
  int nd = 0, rc;
  *out = NULL;
  if ((rc = broadcast(a, b, &nd, shape, err))) return rc;
  spy_dtype t = spy_binop_dtype(op, a, b);
  spy_array *r = spy_array_new(t, nd, shape);
  if (!r) return nomem(err);
  const spy_array *ops[3] = {r, a, b};
  rows rw;
  rows_init(&rw, nd, shape, ops, 3);
  double x[BLOCK], y[BLOCK];
  double complex zx[BLOCK], zy[BLOCK];
  for (size_t i = 0; i < rw.count; i++, walk_next(&rw.w)) {
    for (size_t j0 = 0; j0 < rw.n; j0 += BLOCK) {
      size_t m = rw.n - j0 < BLOCK ? rw.n - j0 : BLOCK;
      void *p = (void *)rowat(&rw, 0, r, j0);
      const void *pa = rowat(&rw, 1, a, j0), *pb = rowat(&rw, 2, b, j0);
      if (t == SPY_DT_I64) {
        const int64_t *ia = pa, *ib = pb;
        for (size_t j = 0; j < m; j++)
          ((int64_t *)p)[j] =
              ibinop(op, ia[(ptrdiff_t)j * rw.inner[1]], ib[(ptrdiff_t)j * rw.inner[2]]);
      } else if (spy_dtype_is_complex(t)) {
        get_cplx(pa, rw.inner[1], m, a->dtype, zx);
        get_cplx(pb, rw.inner[2], m, b->dtype, zy);
        for (size_t j = 0; j < m; j++)
          zx[j] = cbinop(op, zx[j], zy[j]);
        put_cplx(p, m, t, zx);
      } else {
        get_real(pa, rw.inner[1], m, a->dtype, x);
        get_real(pb, rw.inner[2], m, b->dtype, y);
        for (size_t j = 0; j < m; j++)
          x[j] = rbinop(op, x[j], y[j]);
        put_real(p, m, t, x);
      }
    }
  }
  *out = r;
  return SPY_OK;
}

static spy_dtype unary_dtype(spy_unop op, spy_dtype t)
{
  switch (op) {
  case SPY_UN_NEG:
  case SPY_UN_CONJ:
    return t;
  case SPY_UN_ABS:
  case SPY_UN_REAL:
  case SPY_UN_IMAG:
    return realof(t);
  case SPY_UN_ANGLE:
    return t == SPY_DT_I64 ? SPY_DT_F64 : realof(t);
  default:
    return t == SPY_DT_I64 ? SPY_DT_F64 : t;
  }
}

static int64_t iunary(spy_unop op, int64_t x)
{
  uint64_t u = (uint64_t)x;
  switch (op) {
  case SPY_UN_NEG:
    return (int64_t)(0 - u);
  case SPY_UN_ABS:
    return x < 0 ? (int64_t)(0 - u) : x;
  case SPY_UN_IMAG:
    return 0;
  default:
    return x; /* real, conj */
  }
}

static double complex cunary(spy_unop op, double complex z)
{
  switch (op) {
  case SPY_UN_NEG:
    return -z;
  case SPY_UN_ABS:
    return cabs(z);
  case SPY_UN_REAL:
    return creal(z);
  case SPY_UN_IMAG:
    return cimag(z);
  case SPY_UN_CONJ:
    return conj(z);
  case SPY_UN_ANGLE:
    return carg(z);
  case SPY_UN_SQRT:
    return csqrt(z);
  case SPY_UN_EXP:
    return cexp(z);
  case SPY_UN_LOG:
    return clog(z);
  default:
    return clog(z) / M_LN10;
  }
}

static double runary(spy_unop op, double x)
{
  switch (op) {
  case SPY_UN_NEG:
    return -x;
  case SPY_UN_ABS:
    return fabs(x);
  case SPY_UN_IMAG:
    return 0;
  case SPY_UN_ANGLE:
    return atan2(0.0, x);
  case SPY_UN_SQRT:
    return sqrt(x);
  case SPY_UN_EXP:
    return exp(x);
  case SPY_UN_LOG:
    return log(x);
  case SPY_UN_LOG10:
    return log10(x);
  default:
    return x; /* real, conj */
  }
}

int spy_array_unary(spy_unop op, const spy_array *a, spy_array **out, spy_err *err)
{
  spy_dtype t = unary_dtype(op, a->dtype);
  spy_array *r = spy_array_new(t, a->ndim, a->shape);
  *out = NULL;
  if (!r) return nomem(err);
  const spy_array *ops[2] = {r, a};
  rows rw;
  rows_init(&rw, a->ndim, a->shape, ops, 2);
  double x[BLOCK];
  double complex z[BLOCK];
  for (size_t i = 0; i < rw.count; i++, walk_next(&rw.w)) {
    for (size_t j0 = 0; j0 < rw.n; j0 += BLOCK) {
      size_t m = rw.n - j0 < BLOCK ? rw.n - j0 : BLOCK;
      void *p = (void *)rowat(&rw, 0, r, j0);
      const void *pa = rowat(&rw, 1, a, j0);
      if (t == SPY_DT_I64) {
        for (size_t j = 0; j < m; j++)
          ((int64_t *)p)[j] = iunary(op, ((const int64_t *)pa)[(ptrdiff_t)j * rw.inner[1]]);
      } else if (spy_dtype_is_complex(a->dtype)) {
        get_cplx(pa, rw.inner[1], m, a->dtype, z);
        for (size_t j = 0; j < m; j++)
          z[j] = cunary(op, z[j]);
        if (spy_dtype_is_complex(t)) {
          put_cplx(p, m, t, z);
        } else {
          for (size_t j = 0; j < m; j++)
            x[j] = creal(z[j]);
          put_real(p, m, t, x);
        }
      } else {
        get_real(pa, rw.inner[1], m, a->dtype, x);
        for (size_t j = 0; j < m; j++)
          x[j] = runary(op, x[j]);
        put_real(p, m, t, x);
      }
    }
  }
  *out = r;
  return SPY_OK;
}

/* ---- reductions -------------------------------------------------------- */

static const char *opname[] = {"sum",    "mean",    "std",    "min",    "max",   "argmin",
                               "argmax", "nansum",  "nanmean", "nanstd", "nanmin", "nanmax"};

/* Reductions that order elements: real dtypes only, refused on empty lanes. */
static bool ordering(spy_reduce_op op)
{
  return (op >= SPY_RED_MIN && op <= SPY_RED_ARGMAX) || op == SPY_RED_NANMIN ||
         op == SPY_RED_NANMAX;
}

static spy_dtype reduce_dtype(spy_reduce_op op, spy_dtype t)
{
  switch (op) {
  case SPY_RED_SUM:
  case SPY_RED_MIN:
  case SPY_RED_MAX:
  case SPY_RED_NANSUM:
    return t;
  case SPY_RED_NANMIN:
  case SPY_RED_NANMAX:
    return t == SPY_DT_I64 ? SPY_DT_F64 : t;
  case SPY_RED_MEAN:
  case SPY_RED_NANMEAN:
    return t == SPY_DT_I64 ? SPY_DT_F64 : t;
  case SPY_RED_STD:
  case SPY_RED_NANSTD:
    return t == SPY_DT_I64 ? SPY_DT_F64 : realof(t);
  default:
    return SPY_DT_I64;
  }
}

/* Compensated (Neumaier) summation: error independent of the length. */
typedef struct {
  double s, c;
} ksum;

static void kadd(ksum *k, double x)
{
  double t = k->s + x;
  k->c += fabs(k->s) >= fabs(x) ? (k->s - t) + x : (x - t) + k->s;
  k->s = t;
}

static double kval(const ksum *k)
{
  return isfinite(k->s) ? k->s + k->c : k->s;
}

static double complex lane_mean(const char *p, ptrdiff_t es, size_t n, spy_dtype t, bool div)
{
  ksum re = {0, 0}, im = {0, 0};
  for (size_t j = 0; j < n; j++, p += es) {
    double complex v = spy_dtype_load(p, t);
    kadd(&re, creal(v));
    kadd(&im, cimag(v));
  }
  double complex s = CMPLX(kval(&re), kval(&im));
  return div ? s / (double)n : s;
}

/* Position of the extreme (max when `hi`) in a lane; the first nan wins. */
static size_t lane_extreme(const char *p, ptrdiff_t es, size_t n, spy_dtype t, bool hi)
{
  size_t best = 0;
  if (t == SPY_DT_I64) {
    int64_t b = *(const int64_t *)p;
    for (size_t j = 1; j < n; j++) {
      int64_t x = *(const int64_t *)(p + (ptrdiff_t)j * es);
      if (hi ? x > b : x < b) b = x, best = j;
    }
    return best;
  }
  double b = creal(spy_dtype_load(p, t));
  for (size_t j = 1; j < n && !isnan(b); j++) {
    double x = creal(spy_dtype_load(p + (ptrdiff_t)j * es, t));
    if (isnan(x) || (hi ? x > b : x < b)) b = x, best = j;
  }
  return best;
}

static bool isnanc(double complex v)
{
  return isnan(creal(v)) || isnan(cimag(v));
}

/* nan-skipping lane: sum (or mean when div) and the count of numbers. */
static double complex lane_nanmean(const char *p, ptrdiff_t es, size_t n, spy_dtype t, bool div,
                                   size_t *count)
{
  ksum re = {0, 0}, im = {0, 0};
  size_t m = 0;
  for (size_t j = 0; j < n; j++, p += es) {
    double complex v = spy_dtype_load(p, t);
    if (isnanc(v)) continue;
    kadd(&re, creal(v));
    kadd(&im, cimag(v));
    m++;
  }
  *count = m;
  double complex s = CMPLX(kval(&re), kval(&im));
  return div ? (m ? s / (double)m : NAN) : s;
}

static void lane_nan(spy_reduce_op op, const char *p, ptrdiff_t es, size_t n, spy_dtype t,
                     void *q, spy_dtype rt)
{
  size_t m;
  switch (op) {
  case SPY_RED_NANSUM:
  case SPY_RED_NANMEAN:
    spy_dtype_store(q, rt, lane_nanmean(p, es, n, t, op == SPY_RED_NANMEAN, &m));
    break;
  case SPY_RED_NANSTD: {
    double complex mu = lane_nanmean(p, es, n, t, true, &m);
    ksum ss = {0, 0};
    for (size_t j = 0; j < n; j++) {
      double complex v = spy_dtype_load(p + (ptrdiff_t)j * es, t);
      if (isnanc(v)) continue;
      double complex d = v - mu;
      kadd(&ss, creal(d) * creal(d) + cimag(d) * cimag(d));
    }
    spy_dtype_store(q, rt, m ? sqrt(kval(&ss) / (double)m) : NAN);
    break;
  }
  default: { /* nanmin, nanmax */
    double b = NAN;
    for (size_t j = 0; j < n; j++) {
      double x = creal(spy_dtype_load(p + (ptrdiff_t)j * es, t));
      if (!isnan(x) && (isnan(b) || (op == SPY_RED_NANMAX ? x > b : x < b))) b = x;
    }
    spy_dtype_store(q, rt, b);
  }
  }
}

static void lane(spy_reduce_op op, const char *p, ptrdiff_t es, size_t n, spy_dtype t, void *q,
                 spy_dtype rt)
{
  if (op >= SPY_RED_NANSUM) {
    lane_nan(op, p, es, n, t, q, rt);
    return;
  }
  switch (op) {
  case SPY_RED_SUM:
    if (t == SPY_DT_I64) {
      uint64_t s = 0;
      for (size_t j = 0; j < n; j++)
        s += (uint64_t) * (const int64_t *)(p + (ptrdiff_t)j * es);
      *(int64_t *)q = (int64_t)s;
    } else {
      spy_dtype_store(q, rt, lane_mean(p, es, n, t, false));
    }
    break;
  case SPY_RED_MEAN:
    spy_dtype_store(q, rt, lane_mean(p, es, n, t, true));
    break;
  case SPY_RED_STD: {
    double complex m = lane_mean(p, es, n, t, true);
    ksum ss = {0, 0};
    for (size_t j = 0; j < n; j++) {
      double complex d = spy_dtype_load(p + (ptrdiff_t)j * es, t) - m;
      kadd(&ss, creal(d) * creal(d) + cimag(d) * cimag(d));
    }
    spy_dtype_store(q, rt, sqrt(kval(&ss) / (double)n));
    break;
  }
  case SPY_RED_MIN:
  case SPY_RED_MAX: {
    size_t j = lane_extreme(p, es, n, t, op == SPY_RED_MAX);
    memcpy(q, p + (ptrdiff_t)j * es, spy_dtype_size(t));
    break;
  }
  default:
    *(int64_t *)q = (int64_t)lane_extreme(p, es, n, t, op == SPY_RED_ARGMAX) + 1;
  }
}

int spy_array_reduce(const spy_array *a, spy_reduce_op op, int axis, spy_array **out, spy_err *err)
{
  *out = NULL;
  if (axis < 0 && axis >= -a->ndim) axis += a->ndim + 1;
  if (axis < 0 || axis > a->ndim) {
    if (a->ndim == 0)
      return spy_fail(err, SPY_EINVAL,
                      "axis %d is out of range: a 0-d array has no axes "
                      "(allowed: none, for all elements)",
                      axis);
    return spy_fail(err, SPY_EINVAL,
                    "axis %d is out of range for a %d-d array (allowed: 1..%d, "
                    "-%d..-1 counting from the last, or none for all elements)",
                    axis, a->ndim, a->ndim, a->ndim);
  }
  if (ordering(op) && spy_dtype_is_complex(a->dtype))
    return spy_fail(err, SPY_ETYPE,
                    "%s is not defined for complex values (%s): take abs() or "
                    "real() first",
                    opname[op], spy_dtype_name(a->dtype));
  /* axis 0: one lane over every element of a contiguous (flattened) copy */
  spy_array *flat = NULL;
  const spy_array *src = a;
  int ax = axis - 1;
  if (axis == 0) {
    flat = spy_array_is_contiguous(a) ? spy_array_share(a) : spy_array_convert(a, a->dtype);
    if (!flat) return nomem(err);
    size_t n = spy_array_numel(a);
    set_contiguous(flat, 1, &n);
    src = flat;
    ax = 0;
  }
  int rc = SPY_OK;
  size_t n = src->shape[ax];
  if (n == 0 && ordering(op)) {
    rc = spy_fail(err, SPY_EINVAL, "%s of an empty %s: the axis has length 0", opname[op],
                  axis ? "axis" : "array");
    goto exit;
  }
  size_t rshape[SPY_MAXDIM], lshape[SPY_MAXDIM];
  for (int d = 0, k = 0; d < src->ndim; d++) {
    lshape[d] = d == ax ? 1 : src->shape[d];
    if (d != ax) rshape[k++] = src->shape[d];
  }
  spy_array *r = spy_array_new(reduce_dtype(op, a->dtype), src->ndim - 1, rshape);
  if (!r) {
    rc = nomem(err);
    goto exit;
  }
  /* r seen with a length-1 axis at ax, so one walker visits lanes of src and cells of r */
  spy_array rg = *r;
  rg.ndim = src->ndim;
  for (int d = 0, k = 0; d < src->ndim; d++) {
    rg.shape[d] = d == ax ? 1 : r->shape[k];
    rg.strides[d] = d == ax ? 0 : r->strides[k++];
  }
  walk w;
  walk_init(&w, src->ndim, lshape);
  walk_add(&w, src);
  walk_add(&w, &rg);
  ptrdiff_t es = src->strides[ax] * (ptrdiff_t)spy_dtype_size(src->dtype);
  for (size_t i = 0, nl = spy_array_numel(r); i < nl; i++, walk_next(&w))
    lane(op, at(src, w.off[0]), es, n, src->dtype, at(r, w.off[1]), r->dtype);
  *out = r;
exit:
  spy_array_free(flat);
  return rc;
}

/* ---- views ------------------------------------------------------------- */

int spy_array_transpose(const spy_array *a, const int *perm, spy_array **out, spy_err *err)
{
  *out = NULL;
  int p[SPY_MAXDIM];
  bool seen[SPY_MAXDIM] = {false};
  for (int k = 0; k < a->ndim; k++) {
    p[k] = perm ? perm[k] : a->ndim - 1 - k;
    if (p[k] < 0 || p[k] >= a->ndim || seen[p[k]])
      return spy_fail(err, SPY_EINVAL,
                      "the axes must be a permutation of 1..%d, each axis once", a->ndim);
    seen[p[k]] = true;
  }
  spy_array *v = spy_array_share(a);
  if (!v) return nomem(err);
  for (int k = 0; k < a->ndim; k++) {
    v->shape[k] = a->shape[p[k]];
    v->strides[k] = a->strides[p[k]];
  }
  *out = v;
  return SPY_OK;
}

int spy_array_squeeze(const spy_array *a, int axis, spy_array **out, spy_err *err)
{
  *out = NULL;
  if (axis < 0 || axis > a->ndim)
    return spy_fail(err, SPY_EINVAL, "axis %d is out of range for a %d-d array (allowed: 1..%d)",
                    axis, a->ndim, a->ndim);
  if (axis && a->shape[axis - 1] != 1)
    return spy_fail(err, SPY_EINVAL,
                    "cannot squeeze axis %d: its length is %zu, not 1", axis, a->shape[axis - 1]);
  spy_array *v = spy_array_share(a);
  if (!v) return nomem(err);
  int k = 0;
  for (int d = 0; d < a->ndim; d++) {
    bool drop = axis ? d == axis - 1 : a->shape[d] == 1;
    if (drop) continue;
    v->shape[k] = a->shape[d];
    v->strides[k++] = a->strides[d];
  }
  v->ndim = k;
  *out = v;
  return SPY_OK;
}
