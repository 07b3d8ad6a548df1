/*
** FOOOF v1.1.1's fit of one power spectrum (see fooof.h for the steps).
** Numerical details follow the Python reference where they decide which
** points or peaks are used: NumPy's linear percentile, population std,
** argmax taking the first maximum, half-height search that never looks at
** the first frequency, stable sort of guesses by centre frequency.
*/
#include "fit/fooof.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fit/lsq.h"

enum { MAXFEV = 5000 };                 /* FOOOF's _maxfev */
static const double AP_PERCENTILE = 0.025;  /* _ap_percentile_thresh (a percentile, not a fraction) */
static const double CF_BOUND = 1.5;     /* _cf_bound, in gaussian std */
static const double BW_STD_EDGE = 1.0;  /* _bw_std_edge */
static const double OVERLAP = 0.75;     /* _gauss_overlap_thresh */

typedef struct {
  const double *x, *y;
  bool knee;
} curve;

/* offset - log10(f^exp) or offset - log10(knee + f^exp) */
static void aperiodic(const double *f, size_t n, const double *p, bool knee, double *y)
{
  for (size_t i = 0; i < n; i++)
    y[i] = knee ? p[0] - log10(p[1] + pow(f[i], p[2])) : p[0] - log10(pow(f[i], p[1]));
}

static void gaussians(const double *f, size_t n, const double *p, size_t npk, double *y)
{
  for (size_t i = 0; i < n; i++) {
    double s = 0;
    for (size_t k = 0; k < npk; k++) {
      double d = f[i] - p[3 * k], w = p[3 * k + 2];
      s = s + p[3 * k + 1] * exp(-(d * d) / (2 * (w * w)));
    }
    y[i] = s;
  }
}

static int ap_residual(void *ctx, size_t m, size_t n, const double *p, double *r)
{
  const curve *c = ctx;
  (void)n;
  aperiodic(c->x, m, p, c->knee, r);
  for (size_t i = 0; i < m; i++)
    r[i] -= c->y[i];
  return 0;
}

static int gauss_residual(void *ctx, size_t m, size_t n, const double *p, double *r)
{
  const curve *c = ctx;
  gaussians(c->x, m, p, n / 3, r);
  for (size_t i = 0; i < m; i++)
    r[i] -= c->y[i];
  return 0;
}

/* _simple_ap_fit: guesses from y (offset) and from the whole log spectrum ps
** (exponent), then an unbounded fit on the m points (fx, y). */
static int simple_ap(const double *fx, const double *y, size_t m, const double *freqs,
                     const double *ps, size_t nf, bool knee, const double *p0, double *p,
                     const char *what, spy_err *err)
{
  int np = knee ? 3 : 2;
  if (p0) {
    memcpy(p, p0, (size_t)np * sizeof *p);
  } else {
    p[0] = y[0];
    if (knee) p[1] = 0;
    p[np - 1] = fabs((ps[nf - 1] - ps[0]) / (log10(freqs[nf - 1]) - log10(freqs[0])));
  }
  curve c = {fx, y, knee};
  spy_err e = {0};
  int rc = spy_lsq_lm(ap_residual, &c, m, (size_t)np, p, MAXFEV, NULL, &e);
  if (rc == SPY_ENOMEM) return spy_fail(err, rc, "out of memory");
  if (rc) return spy_fail(err, SPY_ERUNTIME, "FOOOF: Model fitting failed due to %s (%s)", what, e.msg);
  return SPY_OK;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* NumPy's percentile (method 'linear') of n values, sorting buf. */
static double percentile(double *buf, size_t n, double q)
{
  qsort(buf, n, sizeof *buf, cmp_double);
  double idx = q / 100.0 * (double)(n - 1);
  size_t lo = (size_t)floor(idx);
  if (lo >= n - 1) return buf[n - 1];
  double t = idx - (double)lo, a = buf[lo], b = buf[lo + 1];
  return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
}

static double pop_std(const double *x, size_t n)
{
  double mu = 0, s = 0;
  for (size_t i = 0; i < n; i++)
    mu += x[i];
  mu /= (double)n;
  for (size_t i = 0; i < n; i++)
    s += (x[i] - mu) * (x[i] - mu);
  return sqrt(s / (double)n);
}

typedef struct {
  double *g; /* rows of centre, height, std */
  size_t n, cap;
} guesses;

static int push(guesses *G, double cf, double h, double sd)
{
  if (G->n == G->cap) {
    size_t cap = G->cap ? 2 * G->cap : 8;
    double *g = realloc(G->g, 3 * cap * sizeof *g);
    if (!g) return -1;
    G->g = g, G->cap = cap;
  }
  G->g[3 * G->n] = cf, G->g[3 * G->n + 1] = h, G->g[3 * G->n + 2] = sd;
  G->n++;
  return 0;
}

static int cmp_centre(const void *a, const void *b)
{
  const double *x = a, *y = b;
  if (x[0] != y[0]) return (x[0] > y[0]) - (x[0] < y[0]);
  return (x[3] > y[3]) - (x[3] < y[3]); /* original position: a stable sort */
}

/* Sorts rows (3 values) by centre, keeping the order of equal centres. */
static int sort_rows(double *g, size_t n)
{
  double *t = malloc((n ? n : 1) * 4 * sizeof *t);
  if (!t) return -1;
  for (size_t k = 0; k < n; k++)
    memcpy(t + 4 * k, g + 3 * k, 3 * sizeof *t), t[4 * k + 3] = (double)k;
  qsort(t, n, 4 * sizeof *t, cmp_centre);
  for (size_t k = 0; k < n; k++)
    memcpy(g + 3 * k, t + 4 * k, 3 * sizeof *t);
  free(t);
  return 0;
}

/* _fit_peaks: guesses on a copy of the flattened spectrum, dropping, and
** the joint bounded fit; G holds the fitted gaussians, sorted. */
static int fit_peaks(const spy_fooof_opts *o, const double *freqs, const double *flat, size_t nf,
                     double *it, double *tmp, guesses *G, spy_err *err)
{
  double res = freqs[1] - freqs[0], fr0 = freqs[0], fr1 = freqs[nf - 1];
  double slo = o->width_lo / 2, shi = o->width_hi / 2;
  memcpy(it, flat, nf * sizeof *it);
  while ((double)G->n < o->max_n_peaks) {
    size_t mx = 0;
    for (size_t i = 1; i < nf; i++)
      if (it[i] > it[mx]) mx = i;
    double h = it[mx];
    if (h <= o->peak_threshold * pop_std(it, nf)) break;
    if (!(h > o->min_peak_height)) break;
    double half = 0.5 * h;
    size_t side = 0;
    for (size_t v = mx - 1; mx > 0 && v > 0; v--)
      if (it[v] <= half) {
        side = mx - v;
        break;
      }
    for (size_t v = mx + 1; v < nf; v++)
      if (it[v] <= half) {
        if (!side || v - mx < side) side = v - mx;
        break;
      }
    double sd = side ? (double)(side * 2) * res / (2 * sqrt(2 * log(2)))
                     : (o->width_lo + o->width_hi) / 2;
    if (sd < slo) sd = slo;
    if (sd > shi) sd = shi;
    if (push(G, freqs[mx], h, sd)) return spy_fail(err, SPY_ENOMEM, "out of memory");
    double row[3] = {freqs[mx], h, sd};
    gaussians(freqs, nf, row, 1, tmp);
    for (size_t i = 0; i < nf; i++)
      it[i] = it[i] - tmp[i];
  }
  /* drop guesses too close to the edges */
  size_t k = 0;
  for (size_t q = 0; q < G->n; q++) {
    double *r = G->g + 3 * q, bw = r[2] * BW_STD_EDGE;
    if (fabs(r[0] - fr0) > bw && fabs(r[0] - fr1) > bw) memmove(G->g + 3 * k++, r, 3 * sizeof *r);
  }
  G->n = k;
  /* drop the lower of two overlapping neighbours */
  if (sort_rows(G->g, G->n)) return spy_fail(err, SPY_ENOMEM, "out of memory");
  bool *drop = calloc(G->n ? G->n : 1, sizeof *drop);
  if (!drop) return spy_fail(err, SPY_ENOMEM, "out of memory");
  for (size_t q = 0; q + 1 < G->n; q++) {
    const double *a = G->g + 3 * q, *b = a + 3;
    if (a[0] + a[2] * OVERLAP > b[0] - b[2] * OVERLAP) drop[b[1] < a[1] ? q + 1 : q] = true;
  }
  k = 0;
  for (size_t q = 0; q < G->n; q++)
    if (!drop[q]) memmove(G->g + 3 * k++, G->g + 3 * q, 3 * sizeof *G->g);
  G->n = k;
  free(drop);
  if (!G->n) return SPY_OK;

  size_t np = 3 * G->n;
  double *lb = malloc(2 * np * sizeof *lb);
  if (!lb) return spy_fail(err, SPY_ENOMEM, "out of memory");
  double *ub = lb + np;
  for (size_t q = 0; q < G->n; q++) {
    const double *r = G->g + 3 * q;
    double lo = r[0] - 2 * CF_BOUND * r[2], hi = r[0] + 2 * CF_BOUND * r[2];
    lb[3 * q] = lo > fr0 ? lo : fr0, ub[3 * q] = hi < fr1 ? hi : fr1;
    lb[3 * q + 1] = 0, ub[3 * q + 1] = INFINITY;
    lb[3 * q + 2] = slo, ub[3 * q + 2] = shi;
  }
  curve c = {freqs, flat, false};
  spy_err e = {0};
  int rc = spy_lsq_trf(gauss_residual, &c, nf, np, G->g, lb, ub, MAXFEV, NULL, &e);
  free(lb);
  if (rc == SPY_ENOMEM) return spy_fail(err, rc, "out of memory");
  if (rc)
    return spy_fail(err, SPY_ERUNTIME,
                    "FOOOF: Model fitting failed due to not finding parameters in the peak "
                    "component fit (%s)",
                    e.msg);
  if (sort_rows(G->g, G->n)) return spy_fail(err, SPY_ENOMEM, "out of memory");
  return SPY_OK;
}

void spy_fooof_fit_free(spy_fooof_fit *fit)
{
  if (!fit) return;
  free(fit->gauss);
  free(fit->peak);
  fit->gauss = fit->peak = NULL;
  fit->npeaks = 0;
}

int spy_fooof(const spy_fooof_opts *o, const double *freqs, const double *power, size_t nf,
              spy_fooof_output kind, double *out, spy_fooof_fit *fit, spy_err *err)
{
  if (nf < 3)
    return spy_fail(err, SPY_EINVAL, "FOOOF needs at least 3 frequencies, got %zu", nf);
  /* ps, ap, flat, peak, model, it, tmp, sub-x, sub-y */
  double *w = malloc(9 * nf * sizeof *w);
  if (!w) return spy_fail(err, SPY_ENOMEM, "out of memory");
  double *ps = w, *apf = ps + nf, *flat = apf + nf, *pk = flat + nf, *model = pk + nf;
  double *it = model + nf, *tmp = it + nf, *sx = tmp + nf, *sy = sx + nf;
  guesses G = {0};
  int rc = SPY_OK;
  for (size_t i = 0; i < nf; i++) {
    ps[i] = log10(power[i]);
    if (!isfinite(ps[i])) {
      rc = spy_fail(err, SPY_EINVAL,
                    "FOOOF: The input power spectra data, after logging, contains NaNs or Infs "
                    "(at %g Hz). This will cause the fitting to fail.",
                    freqs[i]);
      goto out;
    }
  }
  bool knee = o->knee;
  double p0[3], ap[3];
  /* robust aperiodic fit */
  if ((rc = simple_ap(freqs, ps, nf, freqs, ps, nf, knee, NULL, p0,
                      "not finding parameters in the simple aperiodic component fit", err)))
    goto out;
  aperiodic(freqs, nf, p0, knee, apf);
  for (size_t i = 0; i < nf; i++) {
    flat[i] = ps[i] - apf[i];
    if (flat[i] < 0) flat[i] = 0;
    tmp[i] = flat[i];
  }
  double thr = percentile(tmp, nf, AP_PERCENTILE);
  size_t ns = 0;
  for (size_t i = 0; i < nf; i++)
    if (flat[i] <= thr) sx[ns] = freqs[i], sy[ns++] = ps[i];
  if ((rc = simple_ap(sx, sy, ns, freqs, ps, nf, knee, p0, ap,
                      "not finding parameters in the robust aperiodic fit", err)))
    goto out;
  aperiodic(freqs, nf, ap, knee, apf);
  for (size_t i = 0; i < nf; i++)
    flat[i] = ps[i] - apf[i];
  /* peaks */
  if ((rc = fit_peaks(o, freqs, flat, nf, it, tmp, &G, err))) goto out;
  gaussians(freqs, nf, G.g, G.n, pk);
  /* final aperiodic fit on the spectrum without peaks */
  for (size_t i = 0; i < nf; i++)
    it[i] = ps[i] - pk[i];
  if ((rc = simple_ap(freqs, it, nf, freqs, ps, nf, knee, NULL, ap,
                      "not finding parameters in the simple aperiodic component fit", err)))
    goto out;
  aperiodic(freqs, nf, ap, knee, apf);
  for (size_t i = 0; i < nf; i++)
    model[i] = pk[i] + apf[i];

  for (size_t i = 0; i < nf; i++) {
    switch (kind) {
    case SPY_FOOOF_FULL: out[i] = pow(10.0, model[i]); break;
    case SPY_FOOOF_APERIODIC: out[i] = pow(10.0, apf[i]); break;
    case SPY_FOOOF_PEAKS: out[i] = pow(10.0, model[i]) - pow(10.0, apf[i]) + 1e-16; break;
    }
  }
  if (fit) {
    memset(fit, 0, sizeof *fit);
    fit->nap = knee ? 3 : 2;
    memcpy(fit->ap, ap, sizeof ap);
    fit->npeaks = G.n;
    fit->gauss = G.g; /* handed over */
    G.g = NULL;
    fit->peak = malloc((fit->npeaks ? fit->npeaks : 1) * 3 * sizeof *fit->peak);
    if (!fit->peak) {
      spy_fooof_fit_free(fit);
      rc = spy_fail(err, SPY_ENOMEM, "out of memory");
      goto out;
    }
    for (size_t q = 0; q < fit->npeaks; q++) {
      const double *g = fit->gauss + 3 * q;
      size_t ind = 0;
      for (size_t i = 1; i < nf; i++)
        if (fabs(freqs[i] - g[0]) < fabs(freqs[ind] - g[0])) ind = i;
      fit->peak[3 * q] = g[0];
      fit->peak[3 * q + 1] = model[ind] - apf[ind];
      fit->peak[3 * q + 2] = g[2] * 2;
    }
    /* r^2 as np.corrcoef(ps, model)[0, 1]^2; error: mean absolute error */
    double mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0, mae = 0;
    for (size_t i = 0; i < nf; i++)
      mx += ps[i], my += model[i];
    mx /= (double)nf, my /= (double)nf;
    for (size_t i = 0; i < nf; i++) {
      double a = ps[i] - mx, b = model[i] - my;
      sxy += a * b, sxx += a * a, syy += b * b;
      mae += fabs(ps[i] - model[i]);
    }
    double dn = (double)(nf - 1), r = sxy / dn / sqrt(sxx / dn) / sqrt(syy / dn);
    if (r > 1) r = 1;
    if (r < -1) r = -1;
    fit->r_squared = r * r;
    fit->error = mae / (double)nf;
  }
out:
  free(G.g);
  free(w);
  return rc;
}
