/*
** The text Syncopy's messages and history embed: Python's repr of floats,
** str of values, and NumPy's str of the frequency axis (the `foi = ...`
** history line), shortened as Syncopy does.
*/
#include <stdlib.h>
#include <string.h>

#include "core/pyfmt.h"
#include "t.h"

static void float_is(double v, const char *want)
{
  char buf[64];
  spy_py_float(v, buf, sizeof buf);
  CHECK(!strcmp(buf, want), "repr(%.17g) = %s, want %s", v, buf, want);
}

static void array_is(const double *v, size_t n, const char *want)
{
  char *s = spy_np_array_str(v, n);
  CHECK(s && !strcmp(s, want), "numpy str:\n%s\nwant\n%s", s ? s : "(null)", want);
  free(s);
}

int main(void)
{
  float_is(2.0, "2.0");
  float_is(0.001, "0.001");
  float_is(1e-05, "1e-05");
  float_is(0.0001, "0.0001");
  float_is(1e16, "1e+16");
  float_is(123456789.0, "123456789.0");
  float_is(0.1 + 0.2, "0.30000000000000004");
  float_is(-2.5e-7, "-2.5e-07");
  float_is(1.0 / 0.0, "inf");

  char buf[256];
  cJSON *j = cJSON_Parse("{\"beta\": 8, \"a\": [1, 2.5], \"s\": \"x\", \"n\": null, \"b\": true}");
  spy_py_str(j, buf, sizeof buf);
  CHECK(!strcmp(buf, "{'beta': 8, 'a': [1, 2.5], 's': 'x', 'n': None, 'b': True}"), "dict: %s",
        buf);
  spy_py_str(cJSON_GetObjectItem(j, "s"), buf, sizeof buf);
  CHECK(!strcmp(buf, "x"), "str('x') = %s", buf);
  cJSON_Delete(j);
  const char *names[] = {"a", "b"};
  spy_py_or_list(names, 2, buf, sizeof buf);
  CHECK(!strcmp(buf, "'a' or 'b' "), "or-list: [%s]", buf);

  double v[1001];
  for (int i = 0; i < 40; i++)
    v[i] = i / 2.0;
  array_is(v, 40,
           "[ 0.   0.5  1.   1.5  2.   2.5  3.   3.5  4.   4.5  5.   5.5  6.   6.5\n"
           "  7.   7.5  8.   8.5  9.   9.5 10.  10.5 11.  11.5 12.  12.5 13.  13.5\n"
           " 14.  14.5 15.  15.5 16.  16.5 17.  17.5 18.  18.5 19.  19.5]");
  for (int i = 0; i < 1001; i++)
    v[i] = i / 2.0;
  array_is(v, 1001, "[  0.    0.5   1.  ... 499.  499.5 500. ]");
  double e[3] = {0, 0.244140625, 500};
  array_is(e, 3, "[0.00000000e+00 2.44140625e-01 5.00000000e+02]");
  double t[3] = {1.0 / 3, 2, 10};
  array_is(t, 3, "[ 0.33333333  2.         10.        ]");

  /* Syncopy's history shortening: from 80 characters, first 30 + ", ..., " + last 30 */
  for (int i = 0; i < 201; i++)
    v[i] = i / 2.0;
  char *s = spy_np_array_str(v, 201);
  spy_log_value_shorten(s);
  CHECK(!strcmp(s, "[  0.    0.5   1.    1.5   2. , ...,  98.   98.5  99.   99.5 100. ]"),
        "shortened: %s", s);
  free(s);
  return t_done();
}
