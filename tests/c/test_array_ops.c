/* Array operations: views share buffers, index errors say what is allowed,
** reductions and arithmetic against hand-computed values, dtype rules. */
#include <string.h>

#include "core/array_ops.h"
#include "t.h"

/* a new array of dtype t holding vals (C order) */
static spy_array *mk(spy_dtype t, int nd, const size_t *shape, const double *vals)
{
  spy_array *a = spy_array_new(t, nd, shape);
  for (size_t i = 0; i < spy_array_numel(a); i++)
    spy_array_setc_flat(a, i, vals[i]);
  return a;
}

static double flat(const spy_array *a, size_t i)
{
  return creal(spy_array_getc_flat(a, i));
}

/* 3 x 4, a[i][j] = 10 i + j (1-based) */
static spy_array *grid(spy_dtype t)
{
  size_t sh[] = {3, 4};
  double v[12];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 4; j++)
      v[i * 4 + j] = 10 * (i + 1) + (j + 1);
  return mk(t, 2, sh, v);
}

static void test_views(void)
{
  spy_err err = {0};
  spy_array *a = grid(SPY_DT_F64), *v = NULL, *w = NULL;

  /* a:slice{2, {2, 4}} -> row 2, columns 2..4 */
  spy_slice s[] = {{SPY_SLICE_INDEX, 2, 0, 0}, {SPY_SLICE_RANGE, 2, 4, 1}};
  CHECK(spy_array_slice(a, s, 2, &v, &err) == SPY_OK, "%s", err.msg);
  CHECK(v->ndim == 1 && v->shape[0] == 3, "slice shape");
  CHECK(flat(v, 0) == 22 && flat(v, 2) == 24, "slice values %g %g", flat(v, 0), flat(v, 2));
  CHECK(v->buf == a->buf, "a slice is a view");
  spy_array_setc_flat(v, 1, -1);
  CHECK(creal(spy_array_getc(a, (size_t[]){1, 2})) == -1, "writes through a view reach the parent");

  /* negative indices and steps: {':', {-1, 1, -2}} -> columns 4, 2 */
  spy_slice r[] = {{SPY_SLICE_ALL, 0, 0, 1}, {SPY_SLICE_RANGE, -1, 1, -2}};
  CHECK(spy_array_slice(a, r, 2, &w, &err) == SPY_OK, "%s", err.msg);
  CHECK(w->ndim == 2 && w->shape[0] == 3 && w->shape[1] == 2, "reversed shape");
  CHECK(flat(w, 0) == 14 && flat(w, 1) == 12 && flat(w, 5) == 32, "reversed values");

  /* the view outlives its parent */
  spy_array_free(a);
  CHECK(flat(w, 4) == 34, "view valid after the parent is freed");
  spy_array_free(v);
  spy_array_free(w);
}

static void test_index_errors(void)
{
  spy_err err = {0};
  size_t pos;
  CHECK(spy_index_resolve(11, 10, 2, &pos, &err) == SPY_EINVAL, "11 of 10");
  CHECK(strcmp(err.msg, "index 11 is out of range for axis 2 of length 10 (allowed: 1..10, or "
                        "-10..-1 counting from the end)") == 0,
        "%s", err.msg);
  CHECK(spy_index_resolve(0, 10, 1, &pos, &err) == SPY_EINVAL, "0");
  CHECK(strstr(err.msg, "indices start at 1") != NULL, "%s", err.msg);
  CHECK(spy_index_resolve(-10, 10, 1, &pos, &err) == SPY_OK && pos == 0, "-10 is the first");
  CHECK(spy_index_resolve(-11, 10, 1, &pos, &err) == SPY_EINVAL, "-11 of 10");

  spy_array *a = grid(SPY_DT_F64), *v = NULL;
  spy_slice empty[] = {{SPY_SLICE_RANGE, 3, 1, 1}};
  CHECK(spy_array_slice(a, empty, 1, &v, &err) == SPY_EINVAL && v == NULL, "empty range");
  CHECK(strstr(err.msg, "is empty") && strstr(err.msg, "{hi, lo, -1} reverses"), "%s", err.msg);
  spy_slice huge[] = {{SPY_SLICE_RANGE, 3, 1, INT64_MIN}};
  CHECK(spy_array_slice(a, huge, 1, &v, &err) == SPY_OK && v->shape[0] == 1, "a step past the end");
  spy_array_free(v);
  spy_slice zero[] = {{SPY_SLICE_RANGE, 1, 3, 0}};
  CHECK(spy_array_slice(a, zero, 1, &v, &err) == SPY_EINVAL, "step 0");
  CHECK(strstr(err.msg, "non-zero") != NULL, "%s", err.msg);

  size_t p[8];
  CHECK(spy_array_locate(a, (int64_t[]){1}, 1, p, &err) == SPY_EINVAL, "one index for 2-d");
  CHECK(strcmp(err.msg, "an element of a 2-d array takes 2 indices, got 1") == 0, "%s", err.msg);
  CHECK(spy_array_locate(a, (int64_t[]){3, -1}, 2, p, &err) == SPY_OK && p[0] == 2 && p[1] == 3,
        "locate");
  spy_array_free(a);
}

static void test_reductions(void)
{
  spy_err err = {0};
  spy_array *a = grid(SPY_DT_F32), *r = NULL;
  /* all elements: sum 10*(1+2+3)*4 + (1+2+3+4)*3 = 270 */
  CHECK(spy_array_reduce(a, SPY_RED_SUM, 0, &r, &err) == SPY_OK, "%s", err.msg);
  CHECK(r->ndim == 0 && r->dtype == SPY_DT_F32 && flat(r, 0) == 270, "sum %g", flat(r, 0));
  spy_array_free(r);
  spy_array_reduce(a, SPY_RED_MEAN, 0, &r, &err);
  CHECK(flat(r, 0) == 22.5, "mean %g", flat(r, 0));
  spy_array_free(r);
  /* std: rows differ by 10, columns by 1: var = var(10 i) + var(j) = 200/3 + 5/4 */
  spy_array_reduce(a, SPY_RED_STD, 0, &r, &err);
  CHECK_NEAR(flat(r, 0), sqrt(200.0 / 3 + 1.25), 1e-5, "std");
  spy_array_free(r);
  spy_array_reduce(a, SPY_RED_ARGMAX, 0, &r, &err);
  CHECK(r->dtype == SPY_DT_I64 && flat(r, 0) == 12, "argmax flat 1-based %g", flat(r, 0));
  spy_array_free(r);
  spy_array_reduce(a, SPY_RED_MIN, 0, &r, &err);
  CHECK(flat(r, 0) == 11, "min");
  spy_array_free(r);

  /* along axis 2 (columns): row means 12.5, 22.5, 32.5 */
  CHECK(spy_array_reduce(a, SPY_RED_MEAN, 2, &r, &err) == SPY_OK, "%s", err.msg);
  CHECK(r->ndim == 1 && r->shape[0] == 3, "mean(2) shape");
  CHECK(flat(r, 0) == 12.5 && flat(r, 1) == 22.5 && flat(r, 2) == 32.5, "mean(2)");
  spy_array_free(r);
  /* along axis 1 (rows) of a strided view: columns 4..1 reversed, max = row 3 */
  spy_slice rev[] = {{SPY_SLICE_ALL, 0, 0, 1}, {SPY_SLICE_RANGE, -1, 1, -1}};
  spy_array *v = NULL;
  spy_array_slice(a, rev, 2, &v, &err);
  CHECK(spy_array_reduce(v, SPY_RED_MAX, 1, &r, &err) == SPY_OK, "%s", err.msg);
  CHECK(flat(r, 0) == 34 && flat(r, 3) == 31, "max(1) of a reversed view");
  spy_array_free(r);
  spy_array_reduce(v, SPY_RED_ARGMIN, -1, &r, &err);
  CHECK(r->shape[0] == 3 && flat(r, 0) == 4 && flat(r, 2) == 4, "argmin(-1) is the last column");
  spy_array_free(r);
  spy_array_reduce(v, SPY_RED_SUM, 0, &r, &err);
  CHECK(flat(r, 0) == 270, "sum of a non-contiguous view");
  spy_array_free(r);
  spy_array_free(v);

  CHECK(spy_array_reduce(a, SPY_RED_SUM, 3, &r, &err) == SPY_EINVAL && r == NULL, "axis 3");
  CHECK(strstr(err.msg, "allowed: 1..2, -2..-1") != NULL, "%s", err.msg);
  spy_array_free(a);

  /* nan propagates through max; argmax points at the first nan */
  size_t sh4[] = {4};
  spy_array *n = mk(SPY_DT_F64, 1, sh4, (double[]){1, NAN, 5, NAN});
  spy_array_reduce(n, SPY_RED_MAX, 0, &r, &err);
  CHECK(isnan(flat(r, 0)), "max with nan");
  spy_array_free(r);
  spy_array_reduce(n, SPY_RED_ARGMAX, 0, &r, &err);
  CHECK(flat(r, 0) == 2, "argmax finds the first nan");
  spy_array_free(r);
  spy_array_free(n);

  /* complex: sum and mean complex, std real, min refused */
  spy_array *c = spy_array_new(SPY_DT_C64, 1, (size_t[]){2});
  spy_array_setc_flat(c, 0, 1 + 2 * I);
  spy_array_setc_flat(c, 1, 3 - 4 * I);
  spy_array_reduce(c, SPY_RED_MEAN, 0, &r, &err);
  CHECK(r->dtype == SPY_DT_C64 && spy_array_getc_flat(r, 0) == 2 - 1 * I, "complex mean");
  spy_array_free(r);
  spy_array_reduce(c, SPY_RED_STD, 0, &r, &err);
  /* |x - m| = |-1+3i| = |1-3i| = sqrt(10) */
  CHECK(r->dtype == SPY_DT_F32, "std of complex64 is float32");
  CHECK_NEAR(flat(r, 0), sqrt(10), 1e-6, "complex std");
  spy_array_free(r);
  CHECK(spy_array_reduce(c, SPY_RED_MIN, 0, &r, &err) == SPY_ETYPE, "complex min refused");
  CHECK(strstr(err.msg, "take abs() or real() first") != NULL, "%s", err.msg);
  spy_array_free(c);

  /* int64: sums stay exact beyond 2^53; mean is float64 */
  spy_array *i64 = spy_array_new(SPY_DT_I64, 1, (size_t[]){2});
  ((int64_t *)i64->buf->data)[0] = (int64_t)1 << 60;
  ((int64_t *)i64->buf->data)[1] = 1;
  spy_array_reduce(i64, SPY_RED_SUM, 0, &r, &err);
  CHECK(r->dtype == SPY_DT_I64 && *(int64_t *)r->buf->data == ((int64_t)1 << 60) + 1, "exact");
  spy_array_free(r);
  spy_array_reduce(i64, SPY_RED_MEAN, 0, &r, &err);
  CHECK(r->dtype == SPY_DT_F64, "int mean is float64");
  spy_array_free(r);
  spy_array_free(i64);

  /* empty axis */
  spy_array *e = spy_array_new(SPY_DT_F64, 2, (size_t[]){0, 3});
  spy_array_reduce(e, SPY_RED_SUM, 1, &r, &err);
  CHECK(r->shape[0] == 3 && flat(r, 0) == 0, "sum over an empty axis is 0");
  spy_array_free(r);
  CHECK(spy_array_reduce(e, SPY_RED_MAX, 1, &r, &err) == SPY_EINVAL, "max of empty refused");
  spy_array_free(e);
}

static void test_arithmetic(void)
{
  spy_err err = {0};
  spy_array *a = grid(SPY_DT_F32), *r = NULL;
  spy_array *half = mk(SPY_DT_F64, 0, NULL, (double[]){0.5});
  spy_array *row = mk(SPY_DT_F64, 1, (size_t[]){4}, (double[]){1, 2, 3, 4});
  spy_array *col = mk(SPY_DT_F64, 2, (size_t[]){3, 1}, (double[]){100, 200, 300});

  CHECK(spy_binop_dtype(SPY_BIN_MUL, a, half) == SPY_DT_F32, "float32 * number stays float32");
  CHECK(spy_binop_dtype(SPY_BIN_MUL, a, row) == SPY_DT_F64, "float32 * float64 array: float64");
  spy_array *iu = spy_array_new(SPY_DT_C128, 0, NULL);
  CHECK(spy_binop_dtype(SPY_BIN_MUL, a, iu) == SPY_DT_C64, "float32 * complex scalar: complex64");
  spy_array *i1 = spy_array_new(SPY_DT_I64, 1, (size_t[]){1});
  CHECK(spy_binop_dtype(SPY_BIN_ADD, i1, i1) == SPY_DT_I64, "int + int: int64");
  CHECK(spy_binop_dtype(SPY_BIN_DIV, i1, i1) == SPY_DT_F64, "int / int: float64");
  CHECK(spy_binop_dtype(SPY_BIN_ADD, i1, a) == SPY_DT_F64, "int64 with float32: float64");

  CHECK(spy_array_binop(SPY_BIN_SUB, half, a, &r, &err) == SPY_OK, "%s", err.msg);
  CHECK(r->dtype == SPY_DT_F32 && flat(r, 0) == -10.5 && flat(r, 11) == -33.5, "0.5 - a");
  spy_array_free(r);
  /* broadcasting: (3,4) + (4,) + (3,1) */
  spy_array *t = NULL;
  CHECK(spy_array_binop(SPY_BIN_ADD, a, row, &t, &err) == SPY_OK, "%s", err.msg);
  CHECK(spy_array_binop(SPY_BIN_ADD, t, col, &r, &err) == SPY_OK, "%s", err.msg);
  CHECK(r->shape[0] == 3 && r->shape[1] == 4, "broadcast shape");
  CHECK(flat(r, 0) == 11 + 1 + 100 && flat(r, 7) == 24 + 4 + 200, "broadcast values");
  spy_array_free(r);
  spy_array_free(t);
  spy_array *bad = mk(SPY_DT_F64, 1, (size_t[]){3}, (double[]){1, 2, 3});
  CHECK(spy_array_binop(SPY_BIN_ADD, a, bad, &r, &err) == SPY_EINVAL && r == NULL, "(3,4)+(3,)");
  CHECK(strcmp(err.msg, "shapes (3, 4) and (3,) do not match: aligned at the last axis, lengths "
                        "must be equal or 1") == 0,
        "%s", err.msg);

  /* division by zero follows IEEE */
  spy_array *z = mk(SPY_DT_F64, 1, (size_t[]){2}, (double[]){0, -1});
  spy_array *num = mk(SPY_DT_F64, 1, (size_t[]){2}, (double[]){1, 2});
  CHECK(spy_array_binop(SPY_BIN_DIV, num, z, &r, &err) == SPY_OK, "%s", err.msg);
  CHECK(isinf(flat(r, 0)) && flat(r, 1) == -2, "1/0 = inf, 2/-1 = -2");
  spy_array_free(r);
  spy_array_free(num);
  spy_array_free(z);

  /* integer wrap-around as NumPy */
  ((int64_t *)i1->buf->data)[0] = INT64_MAX;
  spy_array *one = spy_array_new(SPY_DT_I64, 0, NULL);
  ((int64_t *)one->buf->data)[0] = 1;
  spy_array_binop(SPY_BIN_ADD, i1, one, &r, &err);
  CHECK(*(int64_t *)r->buf->data == INT64_MIN, "int64 wraps");
  spy_array_free(r);

  spy_array_free(bad);
  spy_array_free(one);
  spy_array_free(i1);
  spy_array_free(iu);
  spy_array_free(col);
  spy_array_free(row);
  spy_array_free(half);
  spy_array_free(a);
}

/* Rows longer than one block, strided and broadcast operands: every element
** equals the scalar computation. */
static void test_long_rows(void)
{
  spy_err err = {0};
  size_t n = 1000, bad = 0;
  spy_array *a = spy_array_new(SPY_DT_F32, 2, (size_t[]){3, n}),
            *b = spy_array_new(SPY_DT_C128, 1, &n);
  for (size_t i = 0; i < 3 * n; i++)
    spy_array_setc_flat(a, i, 0.5 * (double)i);
  for (size_t i = 0; i < n; i++)
    spy_array_setc_flat(b, i, CMPLX((double)i, 1));
  spy_slice rev[] = {{SPY_SLICE_RANGE, -1, 1, -1}};
  spy_array *br = NULL, *r = NULL;
  spy_array_slice(b, rev, 1, &br, &err);
  CHECK(spy_array_binop(SPY_BIN_MUL, a, br, &r, &err) == SPY_OK, "%s", err.msg);
  CHECK(r->dtype == SPY_DT_C128, "float32 * complex128 array: complex128");
  for (size_t i = 0; i < 3; i++)
    for (size_t j = 0; j < n; j++) {
      double complex want =
          (double)(float)(0.5 * (double)(i * n + j)) * CMPLX((double)(n - 1 - j), 1);
      bad += spy_array_getc(r, (size_t[]){i, j}) != want;
    }
  CHECK(bad == 0, "%zu of 3000 products wrong", bad);
  spy_array_free(r);

  spy_array *ia = NULL, *ir = NULL;
  spy_array_astype(a, SPY_DT_I64, &ia, &err);
  spy_slice every2[] = {{SPY_SLICE_ALL, 0, 0, 1}, {SPY_SLICE_RANGE, 1, -1, 2}};
  spy_array *iv = NULL;
  spy_array_slice(ia, every2, 2, &iv, &err);
  CHECK(spy_array_unary(SPY_UN_NEG, iv, &ir, &err) == SPY_OK && ir->shape[1] == n / 2, "%s",
        err.msg);
  bad = 0;
  for (size_t i = 0; i < 3 * n / 2; i++) {
    int64_t want = -(int64_t)(0.5 * (double)(2 * i)); /* element (i / 500, 2 (i % 500)) */
    bad += ((int64_t *)ir->buf->data)[i] != want;
  }
  CHECK(bad == 0, "%zu negated int64 elements wrong", bad);
  spy_array_free(ir);
  spy_array_free(iv);
  spy_array_free(ia);
  spy_array_free(br);
  spy_array_free(b);
  spy_array_free(a);
}

static void test_unary(void)
{
  spy_err err = {0};
  spy_array *c = spy_array_new(SPY_DT_C128, 1, (size_t[]){2}), *r = NULL;
  spy_array_setc_flat(c, 0, 3 + 4 * I);
  spy_array_setc_flat(c, 1, -1);
  spy_array_unary(SPY_UN_ABS, c, &r, &err);
  CHECK(r->dtype == SPY_DT_F64 && flat(r, 0) == 5 && flat(r, 1) == 1, "abs");
  spy_array_free(r);
  spy_array_unary(SPY_UN_ANGLE, c, &r, &err);
  CHECK_NEAR(flat(r, 0), atan2(4, 3), 1e-15, "angle");
  CHECK_NEAR(flat(r, 1), M_PI, 1e-15, "angle of -1");
  spy_array_free(r);
  spy_array_unary(SPY_UN_SQRT, c, &r, &err);
  CHECK(r->dtype == SPY_DT_C128 && cabs(spy_array_getc_flat(r, 1) - I) < 1e-15, "csqrt(-1) = i");
  spy_array_free(r);
  spy_array_unary(SPY_UN_CONJ, c, &r, &err);
  CHECK(spy_array_getc_flat(r, 0) == 3 - 4 * I, "conj");
  spy_array_free(r);
  spy_array_unary(SPY_UN_IMAG, c, &r, &err);
  CHECK(flat(r, 0) == 4 && flat(r, 1) == 0, "imag");
  spy_array_free(r);
  spy_array_free(c);

  spy_array *x = mk(SPY_DT_F32, 1, (size_t[]){3}, (double[]){100, -4, 1});
  spy_array_unary(SPY_UN_LOG10, x, &r, &err);
  CHECK(r->dtype == SPY_DT_F32 && flat(r, 0) == 2 && isnan(flat(r, 1)) && flat(r, 2) == 0,
        "log10 of real stays real: nan for negatives");
  spy_array_free(r);
  spy_array_unary(SPY_UN_EXP, x, &r, &err);
  CHECK_NEAR(flat(r, 2), exp(1), 1e-6, "exp");
  spy_array_free(r);
  spy_array_free(x);
}

static void test_convert(void)
{
  spy_err err = {0};
  spy_array *a = mk(SPY_DT_F64, 1, (size_t[]){3}, (double[]){1.7, -2.5, 3}), *r = NULL;
  CHECK(spy_array_astype(a, SPY_DT_I64, &r, &err) == SPY_OK, "%s", err.msg);
  int64_t *v = r->buf->data;
  CHECK(v[0] == 1 && v[1] == -2 && v[2] == 3, "astype int64 truncates toward zero");
  spy_array_free(r);
  spy_array_setc_flat(a, 1, NAN);
  CHECK(spy_array_astype(a, SPY_DT_I64, &r, &err) == SPY_EINVAL && r == NULL, "nan to int64");
  CHECK(strstr(err.msg, "cannot convert nan to an int64 array") != NULL, "%s", err.msg);
  spy_array *c = spy_array_new(SPY_DT_C64, 1, (size_t[]){1});
  CHECK(spy_array_astype(c, SPY_DT_F32, &r, &err) == SPY_ETYPE, "complex to real refused");
  CHECK(strstr(err.msg, "imaginary part would be lost") != NULL, "%s", err.msg);

  /* reshape: a view when contiguous, a copy otherwise; -1 inferred */
  spy_array *g = grid(SPY_DT_F64), *v2 = NULL, *t = NULL;
  CHECK(spy_array_reshape(g, 2, (int64_t[]){-1, 6}, &r, &err) == SPY_OK, "%s", err.msg);
  CHECK(r->shape[0] == 2 && r->shape[1] == 6 && r->buf == g->buf, "reshape view");
  CHECK(flat(r, 6) == 23, "C order kept");
  spy_array_free(r);
  CHECK(spy_array_reshape(g, 1, (int64_t[]){5}, &r, &err) == SPY_EINVAL, "12 into 5");
  CHECK(strcmp(err.msg, "cannot reshape an array of 12 elements into shape (5,)") == 0, "%s",
        err.msg);
  /* (2^62 + 3) * 4 wraps around to 12 */
  CHECK(spy_array_reshape(g, 2, (int64_t[]){((int64_t)1 << 62) + 3, 4}, &r, &err) == SPY_EINVAL,
        "a product that wraps around is no match");
  spy_slice cols[] = {{SPY_SLICE_ALL, 0, 0, 1}, {SPY_SLICE_RANGE, 1, 4, 2}};
  spy_array_slice(g, cols, 2, &v2, &err);
  CHECK(spy_array_reshape(v2, 1, (int64_t[]){6}, &t, &err) == SPY_OK, "%s", err.msg);
  CHECK(t->buf != g->buf && flat(t, 1) == 13 && flat(t, 2) == 21, "reshape copies a strided view");
  spy_array_free(t);

  /* assignment: broadcast a row into a view, refuse complex into real */
  spy_array *row = mk(SPY_DT_F64, 1, (size_t[]){2}, (double[]){-1, -2});
  CHECK(spy_array_assign(v2, row, &err) == SPY_OK, "%s", err.msg);
  CHECK(flat(g, 0) == -1 && flat(g, 2) == -2 && flat(g, 1) == 12 && flat(g, 10) == -2,
        "assigned through the view, others untouched");
  CHECK(spy_array_assign(v2, c, &err) == SPY_ETYPE, "complex into float64");
  spy_array *i64 = spy_array_new(SPY_DT_I64, 1, (size_t[]){2});
  spy_array *h = mk(SPY_DT_F64, 0, NULL, (double[]){1.5});
  CHECK(spy_array_assign(i64, h, &err) == SPY_EINVAL, "1.5 into int64 refused");
  CHECK(strstr(err.msg, "cannot store 1.5 in an int64 array") != NULL, "%s", err.msg);
  CHECK(spy_array_assign(row, g, &err) == SPY_EINVAL, "(3,4) into (2,)");
  CHECK(strstr(err.msg, "cannot assign shape (3, 4) to shape (2,)") != NULL, "%s", err.msg);
  /* overlapping source and destination: shift a row by one */
  spy_array *rowg = NULL, *src = NULL, *dst = NULL;
  spy_slice r1[] = {{SPY_SLICE_INDEX, 1, 0, 0}};
  spy_array_slice(g, r1, 1, &rowg, &err);
  spy_slice a1[] = {{SPY_SLICE_RANGE, 1, 3, 1}}, a2[] = {{SPY_SLICE_RANGE, 2, 4, 1}};
  spy_array_slice(rowg, a1, 1, &src, &err);
  spy_array_slice(rowg, a2, 1, &dst, &err);
  double before[4];
  for (int k = 0; k < 4; k++)
    before[k] = flat(rowg, (size_t)k);
  spy_array_assign(dst, src, &err);
  CHECK(flat(rowg, 1) == before[0] && flat(rowg, 2) == before[1] && flat(rowg, 3) == before[2],
        "overlapping assignment reads the old values");
  spy_array_free(rowg);
  spy_array_free(src);
  spy_array_free(dst);
  spy_array_free(h);
  spy_array_free(i64);
  spy_array_free(row);
  spy_array_free(v2);
  spy_array_free(g);
  spy_array_free(c);
  spy_array_free(a);
}

int main(void)
{
  test_views();
  test_index_errors();
  test_reductions();
  test_arithmetic();
  test_long_rows();
  test_unary();
  test_convert();
  return t_done();
}
