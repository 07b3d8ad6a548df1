/*
** SciPy's scipy.signal.windows (1.10), value for value.
**
** Every window is a per-sample formula on an M-point symmetric grid; SciPy's
** periodic variant (sym=false) is that grid for M = n+1 with the last point
** dropped, so each fill function writes the first n <= M points of the
** M-point window.  M <= 1 never reaches them: SciPy answers ones(M) there.
** Where SciPy evaluates a formula only on one half and mirrors it (triang,
** lanczos, kaiser_bessel_derived, chebwin), so do we, so that symmetric
** windows are exactly symmetric.
*/
#include "dsp/windows.h"

#include <complex.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/pyfmt.h"
#include "dsp/fft.h"

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
    {NULL, {NULL}},
};

const spy_window_info *spy_window_find(const char *name)
{
  if (!name) return NULL;
  for (const spy_window_info *w = spy_windows; w->name; w++)
    if (strcmp(w->name, name) == 0) return w;
  return NULL;
}

/* Parameters of one call, in the order of spy_window_info.params: numbers
** (bool as 0/1) in v, general_cosine's coefficient list in a. */
typedef struct wpar {
  double v[3];
  const cJSON *a;
  size_t na;
} wpar;

typedef int (*fill_fn)(double *w, size_t n, size_t M, const wpar *p, spy_err *err);

/* ---- cosine sums ------------------------------------------------------- */

/* w[k] = sum_j a_j cos(j x_k), x = linspace(-pi, pi, M) as NumPy spaces it
** (start + k*step, the last point exactly pi). */
static void cosines(double *w, size_t n, size_t M, const double *a, size_t na)
{
  double step = 2.0 * M_PI / (double)(M - 1);
  for (size_t k = 0; k < n; k++) {
    double x = k == M - 1 ? M_PI : (double)k * step - M_PI;
    double s = 0;
    for (size_t j = 0; j < na; j++)
      s += a[j] * cos((double)j * x);
    w[k] = s;
  }
}

#define COSINE_WINDOW(fname, ...)                                                                  \
  static int fname(double *w, size_t n, size_t M, const wpar *p, spy_err *err)                     \
  {                                                                                                \
    static const double a[] = {__VA_ARGS__};                                                       \
    (void)p, (void)err;                                                                            \
    cosines(w, n, M, a, sizeof a / sizeof a[0]);                                                   \
    return SPY_OK;                                                                                 \
  }

COSINE_WINDOW(fill_blackman, 0.42, 0.50, 0.08)
COSINE_WINDOW(fill_nuttall, 0.3635819, 0.4891775, 0.1365995, 0.0106411)
COSINE_WINDOW(fill_blackmanharris, 0.35875, 0.48829, 0.14128, 0.01168)
COSINE_WINDOW(fill_flattop, 0.21557895, 0.41663158, 0.277263158, 0.083578947, 0.006947368)
COSINE_WINDOW(fill_hamming, 0.54, 0.46)
COSINE_WINDOW(fill_hann, 0.5, 0.5)

static int fill_general_hamming(double *w, size_t n, size_t M, const wpar *p, spy_err *err)
{
  double a[2] = {p->v[0], 1.0 - p->v[0]};
  (void)err;
  cosines(w, n, M, a, 2);
  return SPY_OK;
}

static int fill_general_cosine(double *w, size_t n, size_t M, const wpar *p, spy_err *err)
{
  double *a = malloc((p->na ? p->na : 1) * sizeof *a);
  if (!a) return spy_fail(err, SPY_ENOMEM, "out of memory for general_cosine coefficients");
  size_t j = 0;
  for (const cJSON *c = p->a->child; c; c = c->next)
    a[j++] = c->valuedouble;
  cosines(w, n, M, a, p->na);
  free(a);
  return SPY_OK;
}

/* ---- closed forms ------------------------------------------------------ */

static int fill_boxcar(double *w, size_t n, size_t M, const wpar *p, spy_err *err)
{
  (void)M, (void)p, (void)err;
  for (size_t k = 0; k < n; k++)
    w[k] = 1.0;
  return SPY_OK;
}

/* j counts from the nearer edge, as SciPy builds one half and mirrors it. */
static int fill_triang(double *w, size_t n, size_t M, const wpar *p, spy_err *err)
{
  (void)p, (void)err;
  for (size_t k = 0; k < n; k++) {
    double j = (double)(k < M - 1 - k ? k : M - 1 - k);
    w[k] = M % 2 == 0 ? (2.0 * (j + 1) - 1.0) / (double)M : 2.0 * (j + 1) / ((double)M + 1.0);
  }
  return SPY_OK;
}

static int fill_parzen(double *w, size_t n, size_t M, const wpar *p, spy_err *err)
{
  (void)p, (void)err;
  double half = (double)M / 2.0, quarter = ((double)M - 1.0) / 4.0;
  for (size_t k = 0; k < n; k++) {
    double x = fabs(-((double)M - 1.0) / 2.0 + (double)k), r = x / half;
    w[k] = x <= quarter ? 1.0 - 6.0 * r * r + 6.0 * r * r * r : 2.0 * pow(1.0 - r, 3.0);
  }
  return SPY_OK;
}

static int fill_bohman(double *w, size_t n, size_t M, const wpar *p, spy_err *err)
{
  (void)p, (void)err;
  double step = 2.0 / (double)(M - 1);
  for (size_t k = 0; k < n; k++) {
    if (k == 0 || k == M - 1) {
      w[k] = 0.0;
      continue;
    }
    double f = fabs(-1.0 + (double)k * step);
    w[k] = (1.0 - f) * cos(M_PI * f) + 1.0 / M_PI * sin(M_PI * f);
  }
  return SPY_OK;
}

static int fill_bartlett(double *w, size_t n, size_t M, const wpar *p, spy_err *err)
{
  (void)p, (void)err;
  double m1 = (double)(M - 1);
  for (size_t k = 0; k < n; k++) {
    double x = (double)k;
    w[k] = x <= m1 / 2.0 ? 2.0 * x / m1 : 2.0 - 2.0 * x / m1;
  }
  return SPY_OK;
}

static int fill_barthann(double *w, size_t n, size_t M, const wpar *p, spy_err *err)
{
  (void)p, (void)err;
  for (size_t k = 0; k < n; k++) {
    double f = fabs((double)k / ((double)M - 1.0) - 0.5);
    w[k] = 0.62 - 0.48 * f + 0.38 * cos(2.0 * M_PI * f);
  }
  return SPY_OK;
}

/* e^{-x} I0(x) for x >= 0: the power series below 30 (positive terms, so
** accurate to a few ulps), Hankel's asymptotic series above (its smallest
** term there is far below one ulp).  Scaled, so kaiser never overflows
** where SciPy's unscaled i0 gives inf/inf. */
static double i0e(double x)
{
  if (x < 30.0) {
    double q = x * x / 4.0, t = 1.0, s = 1.0;
    for (int k = 1; t > 1e-17 * s; k++) {
      t *= q / ((double)k * (double)k);
      s += t;
    }
    return s * exp(-x);
  }
  double t = 1.0, s = 1.0;
  for (int k = 1; k < 60; k++) {
    double next = t * (2.0 * k - 1.0) * (2.0 * k - 1.0) / (8.0 * k * x);
    if (next > t) break;
    t = next;
    s += t;
    if (t < 1e-17 * s) break;
  }
  return s / sqrt(2.0 * M_PI * x);
}

/* I0(x) / I0(beta) for 0 <= x <= |beta|. */
static double i0ratio(double x, double beta)
{
  beta = fabs(beta);
  return i0e(x) / i0e(beta) * exp(x - beta);
}

static int fill_kaiser(double *w, size_t n, size_t M, const wpar *p, spy_err *err)
{
  (void)err;
  double beta = p->v[0], alpha = ((double)M - 1.0) / 2.0;
  for (size_t k = 0; k < n; k++) {
    double r = ((double)k - alpha) / alpha, s = 1.0 - r * r;
    w[k] = i0ratio(fabs(beta) * sqrt(s > 0 ? s : 0.0), beta);
  }
  return SPY_OK;
}

/* Only called with n == M, M even (spy_window checks): the root of the
** running sum of a symmetric kaiser(M/2+1), mirrored.  Built in place. */
static int fill_kaiser_bessel_derived(double *w, size_t n, size_t M, const wpar *p, spy_err *err)
{
  (void)n;
  size_t h = M / 2;
  int rc = fill_kaiser(w, h + 1, h + 1, p, err);
  if (rc) return rc;
  for (size_t j = 1; j <= h; j++)
    w[j] += w[j - 1];
  double total = w[h];
  for (size_t j = 0; j < h; j++)
    w[j] = sqrt(w[j] / total);
  for (size_t j = 0; j < h; j++)
    w[M - 1 - j] = w[j];
  return SPY_OK;
}

static int fill_gaussian(double *w, size_t n, size_t M, const wpar *p, spy_err *err)
{
  (void)err;
  double sig2 = 2.0 * p->v[0] * p->v[0], c = ((double)M - 1.0) / 2.0;
  for (size_t k = 0; k < n; k++) {
    double x = (double)k - c;
    w[k] = exp(-(x * x) / sig2);
  }
  return SPY_OK;
}

static int fill_general_gaussian(double *w, size_t n, size_t M, const wpar *p, spy_err *err)
{
  (void)err;
  double pw = p->v[0], sig = p->v[1], c = ((double)M - 1.0) / 2.0;
  for (size_t k = 0; k < n; k++)
    w[k] = exp(-0.5 * pow(fabs(((double)k - c) / sig), 2.0 * pw));
  return SPY_OK;
}

static int fill_cosine(double *w, size_t n, size_t M, const wpar *p, spy_err *err)
{
  (void)p, (void)err;
  for (size_t k = 0; k < n; k++)
    w[k] = sin(M_PI / (double)M * ((double)k + 0.5));
  return SPY_OK;
}

/* Cosine tapers over alpha*(M-1)/2 samples at each end; alpha <= 0 is a
** boxcar and alpha >= 1 a hann, as in SciPy. */
static int fill_tukey(double *w, size_t n, size_t M, const wpar *p, spy_err *err)
{
  double alpha = p->v[0];
  if (alpha <= 0) return fill_boxcar(w, n, M, p, err);
  if (alpha >= 1.0) return fill_hann(w, n, M, p, err);
  double m1 = (double)M - 1.0;
  size_t width = (size_t)floor(alpha * m1 / 2.0);
  for (size_t k = 0; k < n; k++) {
    double x = (double)k;
    if (k <= width)
      w[k] = 0.5 * (1.0 + cos(M_PI * (-1.0 + 2.0 * x / alpha / m1)));
    else if (k >= M - width - 1)
      w[k] = 0.5 * (1.0 + cos(M_PI * (-2.0 / alpha + 1.0 + 2.0 * x / alpha / m1)));
    else
      w[k] = 1.0;
  }
  return SPY_OK;
}

/* Taylor's coefficients F_m (m = 1..nbar-1) for sidelobe level sll dB, then
** W(x) = 1 + 2 sum_m F_m cos(2 pi m (x - M/2 + 1/2) / M), optionally scaled
** so that the (possibly half-sample) centre is 1. */
static int fill_taylor(double *w, size_t n, size_t M, const wpar *p, spy_err *err)
{
  size_t nbar = (size_t)p->v[0], nf = nbar - 1;
  double sll = p->v[1];
  bool norm = p->v[2] != 0;
  double *F = malloc((nf ? nf : 1) * sizeof *F);
  if (!F) return spy_fail(err, SPY_ENOMEM, "out of memory for %zu taylor coefficients", nf);
  double B = pow(10.0, sll / 20.0), A = acosh(B) / M_PI, A2 = A * A;
  double nb = (double)nbar, s2 = nb * nb / (A2 + (nb - 0.5) * (nb - 0.5));
  for (size_t i = 0; i < nf; i++) {
    double m2 = (double)(i + 1) * (double)(i + 1), num = i % 2 ? -1.0 : 1.0, den = 2.0;
    for (size_t j = 0; j < nf; j++) {
      double mj = (double)(j + 1) - 0.5;
      num *= 1.0 - m2 / s2 / (A2 + mj * mj);
      if (j != i) den *= 1.0 - m2 / ((double)(j + 1) * (double)(j + 1));
    }
    F[i] = num / den;
  }
  double Md = (double)M, scale = 1.0;
  if (norm) {
    double c = 1.0, x = (Md - 1.0) / 2.0;
    for (size_t i = 0; i < nf; i++)
      c += 2.0 * F[i] * cos(2.0 * M_PI * (double)(i + 1) * (x - Md / 2.0 + 0.5) / Md);
    scale = 1.0 / c;
  }
  for (size_t k = 0; k < n; k++) {
    double s = 1.0;
    for (size_t i = 0; i < nf; i++)
      s += 2.0 * F[i] * cos(2.0 * M_PI * (double)(i + 1) * ((double)k - Md / 2.0 + 0.5) / Md);
    w[k] = norm ? s * scale : s;
  }
  free(F);
  return SPY_OK;
}

static double sinc(double x)
{
  double y = M_PI * (x == 0 ? 1e-20 : x);
  return sin(y) / y;
}

static int fill_lanczos(double *w, size_t n, size_t M, const wpar *p, spy_err *err)
{
  (void)p, (void)err;
  for (size_t k = 0; k < n; k++) {
    size_t j = 2 * k >= M ? k : M - 1 - k;
    w[k] = (M % 2 && 2 * j + 1 == M) ? 1.0 : sinc(2.0 * (double)j / ((double)M - 1.0) - 1.0);
  }
  return SPY_OK;
}

/* Dolph-Chebyshev: the window is the (half-sample shifted, for even M) DFT
** of the Chebyshev polynomial T_{M-1} sampled on the unit circle, folded
** symmetric and scaled to a maximum of 1. */
static int fill_chebwin(double *w, size_t n, size_t M, const wpar *p, spy_err *err)
{
  double at = fabs(p->v[0]), order = (double)M - 1.0;
  if (M > INT_MAX) return spy_fail(err, SPY_EINVAL, "chebwin: window too long (%zu)", M);
  fftw_plan plan = spy_fft_plan_simple(SPY_FFT_FORWARD, (int)M, 1, err);
  if (!plan) return err ? err->code : SPY_ERUNTIME;
  fftw_complex *in = spy_fft_alloc(M * sizeof *in), *out = spy_fft_alloc(M * sizeof *out);
  double *full = malloc(M * sizeof *full);
  if (!in || !out || !full) {
    spy_fft_free(in), spy_fft_free(out), free(full);
    return spy_fail(err, SPY_ENOMEM, "out of memory for chebwin(%zu)", M);
  }
  double beta = cosh(1.0 / order * acosh(pow(10.0, at / 20.0)));
  for (size_t k = 0; k < M; k++) {
    double x = beta * cos(M_PI * (double)k / (double)M), t;
    if (x > 1)
      t = cosh(order * acosh(x));
    else if (x < -1)
      t = (2.0 * (double)(M % 2) - 1.0) * cosh(order * acosh(-x));
    else
      t = cos(order * acos(x));
    double complex c = t;
    if (M % 2 == 0) c *= cexp(I * M_PI / (double)M * (double)k);
    in[k] = c;
  }
  fftw_execute_dft(plan, in, out);
  size_t h = M / 2;
  double mx = -HUGE_VAL;
  for (size_t i = 0; i < M; i++) {
    size_t src;
    if (M % 2)
      src = i >= h ? i - h : h - i;
    else
      src = i < h ? h - i : i - h + 1;
    full[i] = creal(out[src]);
    if (full[i] > mx) mx = full[i];
  }
  for (size_t k = 0; k < n; k++)
    w[k] = full[k] / mx;
  spy_fft_free(in), spy_fft_free(out), free(full);
  return SPY_OK;
}

/* ---- dispatch ---------------------------------------------------------- */

enum { SYM_EVEN_ONLY = 1 };

/* Same order as spy_windows[]. */
static const struct {
  fill_fn fill;
  int flags;
} impl[] = {
    {fill_boxcar, 0},
    {fill_triang, 0},
    {fill_parzen, 0},
    {fill_bohman, 0},
    {fill_blackman, 0},
    {fill_nuttall, 0},
    {fill_blackmanharris, 0},
    {fill_flattop, 0},
    {fill_bartlett, 0},
    {fill_barthann, 0},
    {fill_hamming, 0},
    {fill_kaiser, 0},
    {fill_kaiser_bessel_derived, SYM_EVEN_ONLY},
    {fill_gaussian, 0},
    {fill_general_cosine, 0},
    {fill_general_gaussian, 0},
    {fill_general_hamming, 0},
    {fill_chebwin, 0},
    {fill_cosine, 0},
    {fill_hann, 0},
    {fill_tukey, 0},
    {fill_taylor, 0},
    {fill_lanczos, 0},
};
_Static_assert(sizeof impl / sizeof impl[0] + 1 == sizeof spy_windows / sizeof spy_windows[0],
               "impl[] and spy_windows[] list the same windows");

/* The Python list repr of the window's parameter names: ['nbar', 'sll', 'norm']. */
static void param_list(const spy_window_info *info, char *buf, size_t len)
{
  size_t used = (size_t)snprintf(buf, len, "[");
  for (int i = 0; info->params[i] && used < len; i++)
    used += (size_t)snprintf(buf + used, len - used, "%s'%s'", i ? ", " : "", info->params[i]);
  if (used < len) snprintf(buf + used, len - used, "]");
}

/* Reads and checks the parameters of `info` from opts.  Missing ones get
** Syncopy's process_taper messages (its `actual`, Python's None, printed as nil); the
** value checks are ours: SciPy would return NaNs or raise a Python error. */
static int params(const spy_window_info *info, const cJSON *opts, wpar *p, spy_err *err)
{
  const char *win = info->name;
  if (!info->params[0]) return SPY_OK;
  if (!cJSON_IsObject(opts)) {
    char list[256];
    param_list(info, list, sizeof list);
    return spy_fail_value(err, "taper_opt", "nil", "additional parameters for taper '%s': %s", win,
                          list);
  }
  for (int i = 0; info->params[i]; i++) {
    const char *k = info->params[i];
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(opts, k);
    char var[64];
    snprintf(var, sizeof var, "taper_opt['%s']", k);
    if (!v)
      return spy_fail_value(err, "taper_opt", "nil", "additional parameter '%s' for `taper='%s'`",
                            k, win);
    if (strcmp(k, "a") == 0) {
      if (!cJSON_IsArray(v)) return spy_fail_type(err, var, "list of numbers", spy_lua_typename(v));
      p->a = v;
      p->na = 0;
      for (const cJSON *c = v->child; c; c = c->next, p->na++)
        if (!cJSON_IsNumber(c) || !isfinite(c->valuedouble))
          return spy_fail_value(err, var, NULL, "a list of finite numbers");
      continue;
    }
    if (strcmp(k, "norm") == 0) {
      if (!cJSON_IsBool(v)) return spy_fail_type(err, var, "boolean", spy_lua_typename(v));
      p->v[i] = cJSON_IsTrue(v);
      continue;
    }
    if (!cJSON_IsNumber(v)) return spy_fail_type(err, var, "a number", spy_lua_typename(v));
    double x = v->valuedouble;
    char actual[64];
    snprintf(actual, sizeof actual, "%.17g", x);
    if (!isfinite(x)) return spy_fail_value(err, var, actual, "a finite number");
    if (strcmp(k, "nbar") == 0 && (x < 1 || x != floor(x) || x > 10000))
      return spy_fail_value(err, var, actual, "an integer between 1 and 10000");
    if (strcmp(k, "sll") == 0 && x < 0)
      return spy_fail_value(err, var, actual, "a sidelobe level >= 0 (dB below the main lobe)");
    if ((strcmp(k, "std") == 0 || strcmp(k, "sig") == 0) && x == 0)
      return spy_fail_value(err, var, actual, "a non-zero width");
    p->v[i] = x;
  }
  return SPY_OK;
}

/* Syncopy's message for a taper outside availableTapers. */
static int unknown(const char *name, spy_err *err)
{
  char legal[1024];
  size_t used = 0;
  legal[0] = '\0';
  for (const spy_window_info *i = spy_windows; i->name && used < sizeof legal; i++)
    used += (size_t)snprintf(legal + used, sizeof legal - used, "%s'%s' ",
                             i == spy_windows ? "" : "or ", i->name);
  return spy_fail_value(err, "taper", name ? name : "nil", "%s", legal);
}

int spy_window_check_opts(const char *name, const cJSON *opts, spy_err *err)
{
  const spy_window_info *info = spy_window_find(name);
  if (!info) return unknown(name, err);
  if (opts && !cJSON_IsNull(opts) && !cJSON_IsObject(opts)) {
    char cls[32];
    snprintf(cls, sizeof cls, "%s", spy_lua_typename(opts));
    return spy_fail_value(err, "taper_opt", cls, "a table or nil");
  }
  bool given = cJSON_IsObject(opts);
  char list[256], text[512];
  param_list(info, list, sizeof list);
  if (given && !info->params[0]) {
    spy_lua_repr(opts, text, sizeof text);
    return spy_fail_value(err, "taper_opt", text, "nil, taper '%s' has no additional parameters",
                          name);
  }
  if (!given) {
    if (!info->params[0]) return SPY_OK;
    return spy_fail_value(err, "taper_opt", "nil", "additional parameters for taper '%s': %s",
                          name, list);
  }
  for (const cJSON *c = opts->child; c; c = c->next) {
    bool known = false;
    for (int i = 0; info->params[i]; i++)
      known = known || strcmp(c->string, info->params[i]) == 0;
    if (!known)
      return spy_fail_value(err, "taper_opt key", c->string, "one of %s for `taper='%s'`", list,
                            name);
  }
  wpar p = {{0, 0, 0}, NULL, 0};
  return params(info, opts, &p, err);
}

int spy_window(const char *name, size_t n, bool sym, const cJSON *opts, double *w, spy_err *err)
{
  const spy_window_info *info = spy_window_find(name);
  if (!info) return unknown(name, err);
  size_t idx = (size_t)(info - spy_windows);
  wpar p = {{0, 0, 0}, NULL, 0};
  int rc = params(info, opts, &p, err);
  if (rc) return rc;
  if (impl[idx].flags & SYM_EVEN_ONLY) {
    if (!sym)
      return spy_fail(err, SPY_EINVAL,
                      "Kaiser-Bessel Derived windows are only defined for symmetric shapes "
                      "(sym=true)");
    if (n % 2)
      return spy_fail(err, SPY_EINVAL,
                      "Kaiser-Bessel Derived windows are only defined for even number of points, "
                      "got %zu",
                      n);
  }
  if (strcmp(name, "chebwin") == 0 && fabs(p.v[0]) < 45)
    spy_log(SPY_LOG_WARNING,
            "This window is not suitable for spectral analysis for attenuation values lower than "
            "about 45dB because the equivalent noise bandwidth of a Chebyshev window does not "
            "grow monotonically with increasing sidelobe attenuation when the attenuation is "
            "smaller than about 45 dB.");
  if (n <= 1) {
    if (n == 1) w[0] = 1.0;
    return SPY_OK;
  }
  return impl[idx].fill(w, n, sym ? n : n + 1, &p, err);
}
