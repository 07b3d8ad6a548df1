/* The array preview: NumPy's repr layout and number formats (the expected
** bodies are what NumPy 1.24 prints for the same values), shape and dtype
** always shown, and a bounded number of lines however large the array. */
#include <string.h>

#include "core/array_ops.h"
#include "t.h"

static spy_array *mk(spy_dtype t, int nd, const size_t *shape, const double *vals)
{
  spy_array *a = spy_array_new(t, nd, shape);
  for (size_t i = 0; i < spy_array_numel(a); i++)
    spy_array_setc_flat(a, i, vals[i]);
  return a;
}

static spy_array *ramp(spy_dtype t, int nd, const size_t *shape, double step)
{
  spy_array *a = spy_array_new(t, nd, shape);
  for (size_t i = 0; i < spy_array_numel(a); i++)
    spy_array_setc_flat(a, i, step * (double)i);
  return a;
}

static size_t nlines(const char *s, size_t *widest)
{
  size_t n = 1, w = 0, cur = 0;
  for (; *s; s++) {
    if (*s == '\n') {
      n++;
      cur = 0;
    } else if (++cur > w) {
      w = cur;
    }
  }
  if (widest) *widest = w;
  return n;
}

/* Checks the preview of a (which it frees) against want. */
static void expect(spy_array *a, const char *want, const char *what)
{
  char *s = spy_array_format(a, &spy_printopts_default);
  CHECK(s && strcmp(s, want) == 0, "%s:\n got: %s\nwant: %s", what, s, want);
  free(s);
  spy_array_free(a);
}

static void test_small(void)
{
  expect(mk(SPY_DT_F64, 1, (size_t[]){3}, (double[]){0.1, 0.22, -3}),
         "array([ 0.1 ,  0.22, -3.  ], shape=(3,), dtype=float64)", "aligned points");
  expect(ramp(SPY_DT_I64, 2, (size_t[]){3, 4}, 1),
         "array([[ 0,  1,  2,  3],\n"
         "       [ 4,  5,  6,  7],\n"
         "       [ 8,  9, 10, 11]], shape=(3, 4), dtype=int64)",
         "int64 rows");
  expect(mk(SPY_DT_F64, 1, (size_t[]){4}, (double[]){1e-5, 1.5, 3, 4.5}),
         "array([1.0e-05, 1.5e+00, 3.0e+00, 4.5e+00], shape=(4,), dtype=float64)",
         "scientific when the range exceeds 1e3");
  expect(mk(SPY_DT_F64, 1, (size_t[]){3}, (double[]){NAN, -INFINITY, 2.5}),
         "array([ nan, -inf,  2.5], shape=(3,), dtype=float64)", "non-finite values");
  expect(mk(SPY_DT_F32, 1, (size_t[]){2}, (double[]){1.1f, 1.0f / 3}),
         "array([1.1       , 0.33333334], shape=(2,), dtype=float32)",
         "float32 digits are float32's");
  expect(mk(SPY_DT_F64, 1, (size_t[]){2}, (double[]){1.1, 0.1 * 3}),
         "array([1.1, 0.3], shape=(2,), dtype=float64)", "at most 8 digits, trailing zeros cut");
  expect(mk(SPY_DT_F64, 0, NULL, (double[]){3.5}), "array(3.5, shape=(), dtype=float64)", "0-d");
  expect(spy_array_new(SPY_DT_F32, 2, (size_t[]){2, 0}), "array([], shape=(2, 0), dtype=float32)",
         "empty");

  spy_array *c = spy_array_new(SPY_DT_C128, 1, (size_t[]){2});
  spy_array_setc_flat(c, 0, 1.5 + 2 * I);
  spy_array_setc_flat(c, 1, 1 - 0.25 * I);
  expect(c, "array([1.5+2j   , 1  -0.25j], shape=(2,), dtype=complex128)", "complex as 1.5+2j");

  expect(ramp(SPY_DT_F64, 3, (size_t[]){2, 2, 2}, 1),
         "array([[[0., 1.],\n"
         "        [2., 3.]],\n"
         "\n"
         "       [[4., 5.],\n"
         "        [6., 7.]]], shape=(2, 2, 2), dtype=float64)",
         "3-d blocks separated by a blank line");

  /* 0.1 * (1..30): rows wrap at 75 columns with a hanging indent */
  spy_array *w = spy_array_new(SPY_DT_F64, 1, (size_t[]){30});
  for (size_t i = 0; i < 30; i++)
    spy_array_setc_flat(w, i, 0.1 * (double)(i + 1));
  expect(w,
         "array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1. , 1.1, 1.2, 1.3,\n"
         "       1.4, 1.5, 1.6, 1.7, 1.8, 1.9, 2. , 2.1, 2.2, 2.3, 2.4, 2.5, 2.6,\n"
         "       2.7, 2.8, 2.9, 3. ], shape=(30,), dtype=float64)",
         "wrapped row");
}

static void test_large(void)
{
  size_t widest;
  /* 10^6 elements: head ... tail in a few lines */
  spy_array *a = ramp(SPY_DT_F64, 1, (size_t[]){1000000}, 1);
  char *s = spy_array_format(a, &spy_printopts_default);
  CHECK(nlines(s, &widest) <= 3 && widest <= 75, "1e6 elements in %zu lines", nlines(s, NULL));
  const char *head = "array([0.00000e+00, 1.00000e+00, 2.00000e+00, ..., 9.99997e+05,\n"
                     "       9.99998e+05, 9.99999e+05],";
  CHECK(strncmp(s, head, strlen(head)) == 0, "head and tail: %s", s);
  CHECK(strstr(s, "shape=(1000000,), dtype=float64)") != NULL, "shape and dtype: %s", s);
  free(s);
  spy_array_free(a);

  /* (1000, 32) float32: 3 + 3 rows */
  a = ramp(SPY_DT_F32, 2, (size_t[]){1000, 32}, 1);
  s = spy_array_format(a, &spy_printopts_default);
  CHECK(nlines(s, &widest) <= 20 && widest <= 75, "%zu lines: %s", nlines(s, NULL), s);
  CHECK(strstr(s, "\n       ...,\n") && strstr(s, "3.1999e+04]], shape=(1000, 32), dtype=float32)"),
        "summarised rows: %s", s);
  free(s);
  spy_array_free(a);

  /* an mtmfft result (5, 1, 1001, 4): within the line ceiling */
  a = ramp(SPY_DT_F32, 4, (size_t[]){5, 1, 1001, 4}, 1);
  s = spy_array_format(a, &spy_printopts_default);
  CHECK(nlines(s, &widest) <= 40 && widest <= 75, "%zu lines", nlines(s, NULL));
  CHECK(strstr(s, "shape=(5, 1, 1001, 4), dtype=float32)") != NULL, "tail: %s", s);
  free(s);
  spy_array_free(a);

  /* 5^8 elements where no axis is long: still at most maxlines lines */
  size_t sh[8] = {5, 5, 5, 5, 5, 5, 5, 5};
  a = ramp(SPY_DT_F64, 8, sh, 1);
  s = spy_array_format(a, &spy_printopts_default);
  CHECK(nlines(s, NULL) <= 40, "%zu lines", nlines(s, NULL));
  CHECK(strstr(s, "shape=(5, 5, 5, 5, 5, 5, 5, 5), dtype=float64)") != NULL, "tail: %s", s);
  free(s);
  spy_array_free(a);

  /* 1000 elements (not above the threshold) but 200 lines in full: summarised */
  a = ramp(SPY_DT_F64, 2, (size_t[]){200, 5}, 1);
  s = spy_array_format(a, &spy_printopts_default);
  CHECK(nlines(s, NULL) <= 8, "%zu lines: %s", nlines(s, NULL), s);
  free(s);
  spy_array_free(a);
}

static void test_scalars(void)
{
  char b[64];
  spy_format_complex(1.5 + 2 * I, b, sizeof b);
  CHECK(strcmp(b, "1.5+2j") == 0, "%s", b);
  spy_format_complex(1e-5 - 0.25 * I, b, sizeof b);
  CHECK(strcmp(b, "1e-05-0.25j") == 0, "%s", b);
  spy_format_complex(CMPLX(0.1, 1e16), b, sizeof b);
  CHECK(strcmp(b, "0.1+1e+16j") == 0, "%s", b);
  spy_format_complex(CMPLX(1, -0.0), b, sizeof b);
  CHECK(strcmp(b, "1-0j") == 0, "%s", b);
  spy_format_complex(CMPLX(NAN, INFINITY), b, sizeof b);
  CHECK(strcmp(b, "nan+infj") == 0, "%s", b);
  spy_format_complex(CMPLX(1.0 / 3, 0), b, sizeof b);
  CHECK(strcmp(b, "0.3333333333333333+0j") == 0, "%s", b);
}

int main(void)
{
  test_small();
  test_large();
  test_scalars();
  return t_done();
}
