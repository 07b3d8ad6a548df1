/*
** spy_lsq_trf: bounded nonlinear least squares by the trust-region-
** reflective method (Branch, Coleman & Li, SIAM J. Sci. Comput. 21, 1999),
** following the concrete choices scipy.optimize.least_squares documents
** and makes by default, so that curve_fit's bounded fits are reproduced:
**
**  - variables are scaled by the Coleman-Li vector v (distance to the bound
**    the anti-gradient points at, 1 where that bound is infinite); the
**    trust-region subproblem in the scaled space is solved exactly from
**    the SVD of [J diag(sqrt v); diag(sqrt(g dv))] with a Newton iteration
**    on the Levenberg-Marquardt parameter (Moré 1977);
**  - a step leaving the box is cut at the bound and compared with its
**    reflection and with the scaled anti-gradient (a 1-d minimisation of
**    the quadratic model each), steps being kept strictly interior
**    (theta = max(0.995, 1 - |g|_inf));
**  - the radius starts at |x0 / sqrt(v)| and follows the usual ratio test
**    (quarter below 0.25, double above 0.75 when the step hit the radius);
**  - the Jacobian is the forward difference with step sqrt(eps) max(1,|x|),
**    turned backwards or shortened when it would cross a bound;
**  - termination: gtol on |v g|_inf, ftol on the relative cost decrease
**    (with ratio > 0.25), xtol on the step relative to |x|.
**
** Matrices are column-major (LAPACK's order).  The SVD is LAPACK's dgesdd,
** as in numpy.linalg.svd.
*/
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/lazy.h"
#include "fit/lsq.h"

extern void dgesdd_(const char *jobz, const int *m, const int *n, double *a, const int *lda,
                    double *s, double *u, const int *ldu, double *vt, const int *ldvt,
                    double *work, const int *lwork, int *iwork, int *info);

typedef struct {
  spy_lsq_fn fn;
  void *ctx;
  size_t m, n;
  const double *lb, *ub;
} problem;

static double dot(const double *a, const double *b, size_t n)
{
  double s = 0;
  for (size_t i = 0; i < n; i++)
    s += a[i] * b[i];
  return s;
}

static double nrm(const double *a, size_t n) { return sqrt(dot(a, a, n)); }

static bool finite_all(const double *a, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (!isfinite(a[i])) return false;
  return true;
}

/* Which bounds x is within rtol of (-1 lower, +1 upper, 0 none). */
static int active(double x, double lb, double ub, double rtol)
{
  if (rtol == 0) return x <= lb ? -1 : x >= ub ? 1 : 0;
  double ld = x - lb, ud = ub - x;
  if (isfinite(lb) && ld <= fmin(ud, rtol * fmax(1, fabs(lb)))) return -1;
  if (isfinite(ub) && ud <= fmin(ld, rtol * fmax(1, fabs(ub)))) return 1;
  return 0;
}

/* Moves x off its bounds: by rstep relative, or (rstep 0) by one ulp. */
static void strictly_feasible(double *x, const problem *p, double rstep)
{
  for (size_t i = 0; i < p->n; i++) {
    double lb = p->lb[i], ub = p->ub[i], v = x[i];
    int a = active(v, lb, ub, rstep);
    if (a == -1) v = rstep == 0 ? nextafter(lb, ub) : lb + rstep * fmax(1, fabs(lb));
    if (a == 1) v = rstep == 0 ? nextafter(ub, lb) : ub - rstep * fmax(1, fabs(ub));
    if (v < lb || v > ub) v = 0.5 * (lb + ub);
    x[i] = v;
  }
}

/* Coleman-Li scaling v and its derivative sign dv. */
static void cl_scaling(const double *x, const double *g, const problem *p, double *v, double *dv)
{
  for (size_t i = 0; i < p->n; i++) {
    v[i] = 1, dv[i] = 0;
    if (g[i] < 0 && isfinite(p->ub[i])) v[i] = p->ub[i] - x[i], dv[i] = -1;
    if (g[i] > 0 && isfinite(p->lb[i])) v[i] = x[i] - p->lb[i], dv[i] = 1;
  }
}

/* Largest t with x + t s inside the box; hits marks the binding components
** (sign of s there, 0 elsewhere). */
static double to_bound(const double *x, const double *s, const problem *p, int *hits)
{
  double mn = INFINITY;
  for (size_t i = 0; i < p->n; i++)
    if (s[i] != 0) mn = fmin(mn, fmax((p->lb[i] - x[i]) / s[i], (p->ub[i] - x[i]) / s[i]));
  if (hits)
    for (size_t i = 0; i < p->n; i++) {
      double t = s[i] != 0 ? fmax((p->lb[i] - x[i]) / s[i], (p->ub[i] - x[i]) / s[i]) : INFINITY;
      hits[i] = t == mn ? (s[i] > 0) - (s[i] < 0) : 0;
    }
  return mn;
}

/* The two t of |x + t s| = Delta, smaller first (x inside the region). */
static int intersect_tr(const double *x, const double *s, size_t n, double Delta, double *t1,
                        double *t2)
{
  double a = dot(s, s, n), b = dot(x, s, n), c = dot(x, x, n) - Delta * Delta;
  if (a == 0 || c > 0) return -1;
  double d = sqrt(b * b - a * c);
  double q = -(b + copysign(d, b));
  double r1 = q / a, r2 = c / q;
  if (r1 < r2) *t1 = r1, *t2 = r2;
  else *t1 = r2, *t2 = r1;
  return 0;
}

/* Quadratic model along s (from s0): a t^2 + b t + c; J is m x n. */
static void quad1d(const double *J, size_t m, size_t n, const double *g, const double *s,
                   const double *diag, const double *s0, double *wm, double *wm2, double *a,
                   double *b, double *c)
{
  for (size_t i = 0; i < m; i++) {
    double v = 0;
    for (size_t j = 0; j < n; j++)
      v += J[i + j * m] * s[j];
    wm[i] = v;
  }
  double aa = dot(wm, wm, m);
  for (size_t j = 0; j < n; j++)
    aa += s[j] * diag[j] * s[j];
  *a = 0.5 * aa;
  double bb = dot(g, s, n), cc = 0;
  if (s0) {
    for (size_t i = 0; i < m; i++) {
      double u = 0;
      for (size_t j = 0; j < n; j++)
        u += J[i + j * m] * s0[j];
      wm2[i] = u;
    }
    bb += dot(wm2, wm, m);
    cc = 0.5 * dot(wm2, wm2, m) + dot(g, s0, n);
    for (size_t j = 0; j < n; j++) {
      bb += s0[j] * diag[j] * s[j];
      cc += 0.5 * s0[j] * diag[j] * s0[j];
    }
  }
  *b = bb;
  if (c) *c = cc;
}

/* Minimum of a t^2 + b t + c on [lo, hi]: the ends, or the vertex inside. */
static double min_quad1d(double a, double b, double lo, double hi, double c, double *val)
{
  double t[3] = {lo, hi, 0};
  int k = 2;
  if (a != 0) {
    double e = -0.5 * b / a;
    if (lo < e && e < hi) t[k++] = e;
  }
  int best = 0;
  double bv = t[0] * (a * t[0] + b) + c;
  for (int i = 1; i < k; i++) {
    double y = t[i] * (a * t[i] + b) + c;
    if (y < bv) bv = y, best = i;
  }
  *val = bv;
  return t[best];
}

/* 0.5 |J s|^2 + 0.5 s' diag s + g' s */
static double quad_value(const double *J, size_t m, size_t n, const double *g, const double *s,
                         const double *diag, double *wm)
{
  for (size_t i = 0; i < m; i++) {
    double v = 0;
    for (size_t j = 0; j < n; j++)
      v += J[i + j * m] * s[j];
    wm[i] = v;
  }
  double q = dot(wm, wm, m);
  for (size_t j = 0; j < n; j++)
    q += s[j] * diag[j] * s[j];
  return 0.5 * q + dot(s, g, n);
}

/* phi(alpha) = |p(alpha)| - Delta and its derivative. */
static void phi_d(double alpha, const double *suf, const double *s, size_t n, double Delta,
                  double *phi, double *dphi)
{
  double pn = 0, acc = 0;
  for (size_t k = 0; k < n; k++) {
    double den = s[k] * s[k] + alpha, q = suf[k] / den;
    pn += q * q;
    acc += suf[k] * suf[k] / (den * den * den);
  }
  pn = sqrt(pn);
  *phi = pn - Delta;
  *dphi = -acc / pn;
}

/* The trust-region subproblem from the SVD J = U diag(s) V' (vt = V'):
** step p (n) and the Levenberg-Marquardt parameter, updated in *alpha. */
static void solve_tr(size_t n, size_t m, const double *uf, const double *s, const double *vt,
                     double Delta, double *alpha, double *p, double *suf, double *w)
{
  for (size_t k = 0; k < n; k++)
    suf[k] = s[k] * uf[k];
  bool full = m >= n && s[n - 1] > DBL_EPSILON * (double)m * s[0];
  if (full) {
    for (size_t k = 0; k < n; k++)
      w[k] = uf[k] / s[k];
    for (size_t i = 0; i < n; i++) {
      double v = 0;
      for (size_t k = 0; k < n; k++)
        v += vt[k + i * n] * w[k];
      p[i] = -v;
    }
    if (nrm(p, n) <= Delta) {
      *alpha = 0;
      return;
    }
  }
  double au = nrm(suf, n) / Delta, al = 0, phi, dphi;
  if (full) {
    phi_d(0, suf, s, n, Delta, &phi, &dphi);
    al = -phi / dphi;
  }
  double a = *alpha;
  if (!full && a == 0) a = fmax(0.001 * au, sqrt(al * au));
  for (int it = 0; it < 10; it++) {
    if (a < al || a > au) a = fmax(0.001 * au, sqrt(al * au));
    phi_d(a, suf, s, n, Delta, &phi, &dphi);
    if (phi < 0) au = a;
    double ratio = phi / dphi;
    al = fmax(al, a - ratio);
    a -= (phi + Delta) * ratio / Delta;
    if (fabs(phi) < 0.01 * Delta) break;
  }
  for (size_t k = 0; k < n; k++)
    w[k] = suf[k] / (s[k] * s[k] + a);
  for (size_t i = 0; i < n; i++) {
    double v = 0;
    for (size_t k = 0; k < n; k++)
      v += vt[k + i * n] * w[k];
    p[i] = -v;
  }
  double sc = Delta / nrm(p, n);
  for (size_t i = 0; i < n; i++)
    p[i] *= sc;
  *alpha = a;
}

/* Forward-difference Jacobian (m x n) at x with residuals f0; steps are
** turned or shortened at the bounds.  xt (n) and ft (m) are scratch. */
static int jacobian(const problem *p, const double *x, const double *f0, double *J, double *xt,
                    double *ft)
{
  size_t m = p->m, n = p->n;
  const double rstep = sqrt(DBL_EPSILON);
  bool bounded = false;
  for (size_t j = 0; j < n; j++)
    bounded |= isfinite(p->lb[j]) || isfinite(p->ub[j]);
  for (size_t j = 0; j < n; j++) {
    double h = rstep * (x[j] >= 0 ? 1.0 : -1.0) * fmax(1.0, fabs(x[j]));
    if (bounded) {
      double ld = x[j] - p->lb[j], ud = p->ub[j] - x[j], xs = x[j] + h;
      bool violated = xs < p->lb[j] || xs > p->ub[j];
      bool fitting = fabs(h) <= fmax(ld, ud);
      if (violated && fitting) h = -h;
      if (!fitting) h = ud >= ld ? ud : -ld;
    }
    memcpy(xt, x, n * sizeof *xt);
    xt[j] = x[j] + h;
    double dx = xt[j] - x[j];
    if (p->fn(p->ctx, m, n, xt, ft)) return -1;
    for (size_t i = 0; i < m; i++)
      J[i + j * m] = (ft[i] - f0[i]) / dx;
  }
  return 0;
}

static void gradient(const double *J, const double *f, size_t m, size_t n, double *g)
{
  for (size_t j = 0; j < n; j++)
    g[j] = dot(J + j * m, f, m);
}

int spy_lsq_trf(spy_lsq_fn fn, void *ctx, size_t m, size_t n, double *x, const double *lb,
                const double *ub, int max_nfev, spy_lsq_result *res, spy_err *err)
{
  if (n == 0) return spy_fail(err, SPY_EINVAL, "no parameters to fit");
  for (size_t j = 0; j < n; j++) {
    if (!(lb[j] < ub[j]))
      return spy_fail(err, SPY_EINVAL, "Each lower bound must be strictly less than each upper "
                                       "bound.");
    if (!(x[j] >= lb[j] && x[j] <= ub[j])) return spy_fail(err, SPY_EINVAL, "`x0` is infeasible.");
  }
  if (max_nfev <= 0) max_nfev = 100 * (int)n;
  if (spy_lazy_need(&spy_lazy_lapack, "the bounded least-squares fit", err) != SPY_OK)
    return SPY_ERUNTIME;
  problem P = {fn, ctx, m, n, lb, ub};
  const double ftol = 1e-8, xtol = 1e-8, gtol = 1e-8;
  size_t ma = m + n;
  /* workspace: f fnew ft fa wm wm2 (m/ma), J Jh (m n), A U (ma n), vt (n n), 16 n-vectors */
  size_t nd = 4 * m + 2 * ma + 2 * m * n + 2 * ma * n + n * n + 16 * n;
  double *w = malloc(nd * sizeof *w);
  int *iw = malloc((8 * n + 2 * n) * sizeof *iw);
  double *work = NULL;
  int rc = SPY_OK;
  if (!w || !iw) goto nomem;
  double *f = w, *fnew = f + m, *ft = fnew + m, *wm = ft + m, *fa = wm + ma, *wm2 = fa + ma;
  double *J = wm2 + m, *Jh = J + m * n, *A = Jh + m * n, *U = A + ma * n, *vt = U + ma * n;
  double *g = vt + n * n, *v = g + n, *dv = v + n, *d = dv + n, *diagh = d + n, *gh = diagh + n;
  double *sv = gh + n, *uf = sv + n, *ph = uf + n, *pp = ph + n, *xn = pp + n, *xt = xn + n;
  double *rh = xt + n, *r = rh + n, *ag = r + n, *tmp = ag + n;
  int *hits = iw + 8 * n;
  double *tmp2 = malloc(2 * n * sizeof *tmp2);
  if (!tmp2) goto nomem;
  double *suf = tmp2, *wn = tmp2 + n;

  int ima = (int)ma, in = (int)n, lwork = -1, info = 0;
  double wq;
  dgesdd_("S", &ima, &in, A, &ima, sv, U, &ima, vt, &in, &wq, &lwork, iw, &info);
  lwork = (int)wq;
  if (!(work = malloc((size_t)(lwork > 1 ? lwork : 1) * sizeof *work))) {
    free(tmp2);
    goto nomem;
  }

  strictly_feasible(x, &P, 1e-10);
  if (fn(ctx, m, n, x, f)) {
    rc = spy_fail(err, SPY_ERUNTIME, "the residual function failed");
    goto out;
  }
  if (!finite_all(f, m)) {
    rc = spy_fail(err, SPY_EINVAL, "Residuals are not finite in the initial point.");
    goto out;
  }
  int nfev = 1, status = -1;
  if (jacobian(&P, x, f, J, xt, ft)) goto fnfail;
  double cost = 0.5 * dot(f, f, m);
  gradient(J, f, m, n, g);
  cl_scaling(x, g, &P, v, dv);
  for (size_t j = 0; j < n; j++)
    tmp[j] = x[j] / sqrt(v[j]);
  double Delta = nrm(tmp, n);
  if (Delta == 0) Delta = 1.0;
  double alpha = 0, gnorm = 0;

  for (;;) {
    cl_scaling(x, g, &P, v, dv);
    gnorm = 0;
    for (size_t j = 0; j < n; j++)
      gnorm = fmax(gnorm, fabs(g[j] * v[j]));
    if (gnorm < gtol) status = 1;
    if (status >= 0 || nfev == max_nfev) break;

    for (size_t j = 0; j < n; j++) {
      d[j] = sqrt(v[j]);
      diagh[j] = g[j] * dv[j];
      gh[j] = d[j] * g[j];
    }
    memset(A, 0, ma * n * sizeof *A);
    for (size_t j = 0; j < n; j++) {
      for (size_t i = 0; i < m; i++)
        A[i + j * ma] = Jh[i + j * m] = J[i + j * m] * d[j];
      A[m + j + j * ma] = sqrt(diagh[j]);
    }
    dgesdd_("S", &ima, &in, A, &ima, sv, U, &ima, vt, &in, work, &lwork, iw, &info);
    if (info != 0) {
      rc = spy_fail(err, SPY_ERUNTIME, "SVD did not converge");
      goto out;
    }
    for (size_t k = 0; k < n; k++)
      uf[k] = dot(U + k * ma, f, m); /* [f; 0] projected */
    double theta = fmax(0.995, 1 - gnorm);
    double ared = -1, cost_new = cost;
    while (ared <= 0 && nfev < max_nfev) {
      solve_tr(n, m, uf, sv, vt, Delta, &alpha, ph, suf, wn);
      for (size_t j = 0; j < n; j++)
        pp[j] = d[j] * ph[j];
      /* select_step: the step, its scaled form (in ph / pp) and the predicted reduction */
      double pred;
      bool inside = true;
      for (size_t j = 0; j < n; j++) {
        double xs = x[j] + pp[j];
        inside &= xs >= lb[j] && xs <= ub[j];
      }
      double *step = pp, *steph = ph;
      if (inside) {
        pred = -quad_value(Jh, m, n, gh, ph, diagh, wm);
      } else {
        double pstride = to_bound(x, pp, &P, hits);
        for (size_t j = 0; j < n; j++) {
          rh[j] = hits[j] ? -ph[j] : ph[j];
          r[j] = d[j] * rh[j];
          pp[j] *= pstride;
          ph[j] *= pstride;
          xt[j] = x[j] + pp[j];
        }
        double t1, totr, rvalue = INFINITY;
        if (intersect_tr(ph, rh, n, Delta, &t1, &totr)) totr = 0;
        double tob = to_bound(xt, r, &P, NULL);
        double rs = fmin(tob, totr), rl, ru;
        if (rs > 0) {
          rl = (1 - theta) * pstride / rs;
          ru = rs == tob ? theta * tob : totr;
        } else {
          rl = 0, ru = -1;
        }
        if (rl <= ru) {
          double a, b, c;
          quad1d(Jh, m, n, gh, rh, diagh, ph, wm, wm2, &a, &b, &c);
          double rstr = min_quad1d(a, b, rl, ru, c, &rvalue);
          for (size_t j = 0; j < n; j++) {
            rh[j] = rh[j] * rstr + ph[j];
            r[j] = rh[j] * d[j];
          }
        }
        for (size_t j = 0; j < n; j++)
          pp[j] *= theta, ph[j] *= theta;
        double pvalue = quad_value(Jh, m, n, gh, ph, diagh, wm);
        double *agh = tmp;
        for (size_t j = 0; j < n; j++) {
          agh[j] = -gh[j];
          ag[j] = d[j] * agh[j];
        }
        double ttr = Delta / nrm(agh, n);
        double tb = to_bound(x, ag, &P, NULL);
        double agstride = tb < ttr ? theta * tb : ttr, agvalue, a, b;
        quad1d(Jh, m, n, gh, agh, diagh, NULL, wm, wm2, &a, &b, NULL);
        agstride = min_quad1d(a, b, 0, agstride, 0, &agvalue);
        for (size_t j = 0; j < n; j++)
          agh[j] *= agstride, ag[j] *= agstride;
        if (pvalue < rvalue && pvalue < agvalue) {
          pred = -pvalue;
        } else if (rvalue < pvalue && rvalue < agvalue) {
          step = r, steph = rh, pred = -rvalue;
        } else {
          step = ag, steph = agh, pred = -agvalue;
        }
      }
      for (size_t j = 0; j < n; j++)
        xn[j] = x[j] + step[j];
      strictly_feasible(xn, &P, 0);
      if (fn(ctx, m, n, xn, fnew)) goto fnfail;
      nfev++;
      double shn = nrm(steph, n);
      if (!finite_all(fnew, m)) {
        Delta = 0.25 * shn;
        continue;
      }
      cost_new = 0.5 * dot(fnew, fnew, m);
      ared = cost - cost_new;
      double ratio, Dnew = Delta;
      if (pred > 0) ratio = ared / pred;
      else if (pred == 0 && ared == 0) ratio = 1;
      else ratio = 0;
      if (ratio < 0.25) Dnew = 0.25 * shn;
      else if (ratio > 0.75 && shn > 0.95 * Delta) Dnew *= 2.0;
      double snorm = nrm(step, n);
      bool fsat = ared < ftol * cost && ratio > 0.25;
      bool xsat = snorm < xtol * (xtol + nrm(x, n));
      status = fsat && xsat ? 4 : fsat ? 2 : xsat ? 3 : -1;
      if (status >= 0) break;
      alpha *= Delta / Dnew;
      Delta = Dnew;
    }
    if (ared > 0) {
      memcpy(x, xn, n * sizeof *x);
      memcpy(f, fnew, m * sizeof *f);
      cost = cost_new;
      if (jacobian(&P, x, f, J, xt, ft)) goto fnfail;
      gradient(J, f, m, n, g);
    }
  }
  if (status < 0) status = 0;
  if (res) *res = (spy_lsq_result){status, nfev, cost};
  if (status == 0)
    rc = spy_fail(err, SPY_ERUNTIME,
                  "Optimal parameters not found: The maximum number of function evaluations is "
                  "exceeded.");
  goto out;
fnfail:
  rc = spy_fail(err, SPY_ERUNTIME, "the residual function failed");
out:
  free(tmp2);
  free(work);
  free(w);
  free(iw);
  return rc;
nomem:
  free(w);
  free(iw);
  return spy_fail(err, SPY_ENOMEM, "out of memory");
}
