/*
** A minimal test harness for the C unit tests: CHECK(cond, fmt...) records a
** failure and goes on; main returns t_done().  Each test file is one ctest.
*/
#ifndef SPY_T_H
#define SPY_T_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int t_failures, t_checks;

#define CHECK(cond, ...)                                                      \
  do {                                                                        \
    t_checks++;                                                               \
    if (!(cond)) {                                                            \
      t_failures++;                                                           \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                           \
      fputc('\n', stderr);                                                    \
    }                                                                         \
  } while (0)

#define CHECK_NEAR(a, b, tol, what)                                             \
  CHECK(fabs((double)(a) - (double)(b)) <= (tol), "%s: %.12g vs %.12g (tol %g)", \
        what, (double)(a), (double)(b), (double)(tol))

static inline const char *t_data(const char *name)
{
  static char buf[4096];
  const char *dir = getenv("SPY_TEST_DATA");
  snprintf(buf, sizeof buf, "%s/%s", dir ? dir : "tests/data", name);
  return buf;
}

/* The bytes of the file at path, NUL-terminated, in a malloc'd buffer; *n
** is their count (0 and NULL when the file cannot be read). */
static inline char *t_slurp(const char *path, size_t *n)
{
  *n = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long sz = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = sz >= 0 ? malloc((size_t)sz + 1) : NULL;
  if (b) {
    *n = fread(b, 1, (size_t)sz, f);
    b[*n] = '\0';
  }
  fclose(f);
  return b;
}

static inline int t_done(void)
{
  fprintf(stderr, "%d checks, %d failures\n", t_checks, t_failures);
  return t_failures ? 1 : 0;
}

#endif
