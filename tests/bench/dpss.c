/*
** Time of the DPSS tapers of benchmark case b (scipy's dpss(1000, 10, 19)),
** which mtmfft's plan computes before any task starts:
**   bench_dpss [n NW K [repeats]]
** Prints the median and minimum wall time of one spy_dpss call computed
** (NW moved by a few ulps each call, so no kept set matches) and of one
** served from the kept sets (windows.h).
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "dsp/windows.h"

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
  size_t n = argc > 1 ? (size_t)atol(argv[1]) : 1000, K = argc > 3 ? (size_t)atol(argv[3]) : 19;
  double NW = argc > 2 ? atof(argv[2]) : 10;
  int reps = argc > 4 ? atoi(argv[4]) : 21;
  double *w = malloc(n * K * sizeof *w), *t = malloc((size_t)reps * sizeof *t);
  spy_err err = {0};
  if (spy_dpss(n, NW, K, true, w, NULL, &err)) { /* loads LAPACK */
    fprintf(stderr, "%s\n", err.msg);
    return 1;
  }
  for (int kept = 0; kept < 2; kept++) {
    double nw = NW;
    for (int r = 0; r < reps; r++) {
      if (!kept) nw = nextafter(nw, 2 * NW);
      double t0 = now();
      spy_dpss(n, nw, K, true, w, NULL, &err);
      t[r] = now() - t0;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp);
    printf("dpss(%zu, %g, %zu) %s: median %.3f ms, min %.3f ms (%d calls)\n", n, NW, K,
           kept ? "kept" : "computed", 1e3 * t[reps / 2], 1e3 * t[0], reps);
  }
  free(w);
  free(t);
  return 0;
}
