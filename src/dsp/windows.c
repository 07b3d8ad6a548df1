#include "dsp/windows.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const spy_window_info spy_windows[] = {
    {"boxcar", {NULL}},
    {"triang", {NULL}},
    {"parzen", {NULL}},
    {"bohman", {NULL}},
    {"blackman", {NULL}},
    {"nuttall", {NULL}},
    {"blackmanharris", {NULL}},
    {"flattop", {NULL}},
    {"bartlett", {NULL}},
    {"barthann", {NULL}},
    {"hamming", {NULL}},
    {"kaiser", {"beta", NULL}},
    {"kaiser_bessel_derived", {"beta", NULL}},
    {"gaussian", {"std", NULL}},
    {"general_cosine", {"a", NULL}},
    {"general_gaussian", {"p", "sig", NULL}},
    {"general_hamming", {"alpha", NULL}},
    {"chebwin", {"at", NULL}},
    {"cosine", {NULL}},
    {"hann", {NULL}},
    {"tukey", {"alpha", NULL}},
    {"taylor", {"nbar", "sll", "norm", NULL}},
    {"lanczos", {NULL}},
    {NULL, {NULL}}};

const spy_window_info *spy_window_find(const char *name)
{
  for (const spy_window_info *w = spy_windows; w->name; w++)
    if (strcmp(w->name, name) == 0) return w;
  return NULL;
}

/* SciPy's general_cosine on m points (already extended for sym=false):
** w[k] = sum_j (-1)^j a_j cos(j * fac[k]), fac = linspace(-pi, pi, m). */
static void gencos(size_t m, const double *a, size_t na, double *w)
{
  for (size_t k = 0; k < m; k++) {
    double fac = m > 1 ? -M_PI + 2.0 * M_PI * (double)k / (double)(m - 1) : -M_PI;
    double s = 0;
    for (size_t j = 0; j < na; j++) s += ((j & 1) ? -1.0 : 1.0) * a[j] * cos((double)j * fac);
    w[k] = s;
  }
}

/* Computes a cosine-sum window with SciPy's sym/periodic handling. */
static int cosine_sum(size_t n, bool sym, const double *a, size_t na, double *w)
{
  if (n == 1) {
    w[0] = 1.0;
    return SPY_OK;
  }
  size_t m = sym ? n : n + 1;
  double *tmp = malloc(m * sizeof *tmp);
  if (!tmp) return SPY_ENOMEM;
  gencos(m, a, na, tmp);
  memcpy(w, tmp, n * sizeof *w);
  free(tmp);
  return SPY_OK;
}

static int param(const cJSON *opts, const char *name, double *v, spy_err *err, const char *win)
{
  const cJSON *p = opts ? cJSON_GetObjectItemCaseSensitive(opts, name) : NULL;
  if (!cJSON_IsNumber(p))
    return spy_fail_value(err, "taper_opt", NULL, "additional parameter '%s' for `taper='%s'`",
                          name, win);
  *v = p->valuedouble;
  return SPY_OK;
}

int spy_window(const char *name, size_t n, bool sym, const cJSON *opts, double *w, spy_err *err)
{
  if (n == 0) return SPY_OK;
  if (!spy_window_find(name))
    return spy_fail_value(err, "taper", name, "one of SciPy's windows (see help(spy.freqanalysis))");
  if (strcmp(name, "boxcar") == 0) {
    for (size_t k = 0; k < n; k++) w[k] = 1.0;
    return SPY_OK;
  }
  if (strcmp(name, "hann") == 0) {
    static const double a[] = {0.5, 0.5};
    return cosine_sum(n, sym, a, 2, w);
  }
  if (strcmp(name, "hamming") == 0) {
    static const double a[] = {0.54, 0.46};
    return cosine_sum(n, sym, a, 2, w);
  }
  if (strcmp(name, "blackman") == 0) {
    static const double a[] = {0.42, 0.50, 0.08};
    return cosine_sum(n, sym, a, 3, w);
  }
  if (strcmp(name, "general_hamming") == 0) {
    double alpha = 0;
    int rc = param(opts, "alpha", &alpha, err, name);
    if (rc) return rc;
    double a[] = {alpha, 1.0 - alpha};
    return cosine_sum(n, sym, a, 2, w);
  }
  return spy_fail(err, SPY_ENOTSUP, "window '%s' is not available in this build", name);
}

int spy_dpss(size_t n, double NW, size_t K, bool sym, double *tapers, double *ratios,
             spy_err *err)
{
  (void)n, (void)NW, (void)K, (void)sym, (void)tapers, (void)ratios;
  return spy_fail(err, SPY_ENOTSUP, "DPSS tapers are not available in this build");
}
