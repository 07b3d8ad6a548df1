/*
** Nonlinear least squares for curve fitting: min 0.5 * sum f_i(x)^2.
**
** Two solvers, each reproducing the choices SciPy's curve_fit makes so that
** fits agree with Python code built on it (FOOOF):
**
**   spy_lsq_lm   unbounded problems: MINPACK's Levenberg-Marquardt (lmdif,
**                forward-difference Jacobian) from Debian's cminpack, with
**                scipy.optimize.leastsq's defaults (ftol = xtol = 1.49012e-8,
**                gtol = 0, epsfcn = machine epsilon, factor = 100, mode 1).
**   spy_lsq_trf  bounded problems: the trust-region-reflective method of
**                Branch, Coleman & Li (1999) as scipy.optimize.least_squares
**                runs it by default (exact trust-region subproblems through
**                an SVD, Coleman-Li scaling, reflective steps, strict
**                feasibility, 2-point Jacobian adjusted to the bounds,
**                ftol = xtol = gtol = 1e-8, x_scale = 1).
**
** The residual function fills f (m values) for parameters x (n values) and
** returns 0, or nonzero to abort the fit.  Both solvers allocate their
** workspace per call (a few (m + n) x n matrices) and free it before they
** return; they never log.
*/
#ifndef SPY_LSQ_H
#define SPY_LSQ_H

#include <stddef.h>

#include "core/err.h"

typedef int (*spy_lsq_fn)(void *ctx, size_t m, size_t n, const double *x, double *f);

typedef struct spy_lsq_result {
  int status;   /* solver's own code: MINPACK info (1..4 converged), or TRF
                   status as SciPy (1 gtol, 2 ftol, 3 xtol, 4 both, 0 max_nfev) */
  int nfev;     /* residual evaluations (TRF: without the Jacobian's) */
  double cost;  /* 0.5 * |f|^2 at the solution */
} spy_lsq_result;

/*
** Unbounded fit from x (n values, overwritten by the solution).  maxfev is
** MINPACK's limit on residual evaluations (SciPy: 200 * (n + 1) when 0).
** Returns SPY_OK when MINPACK converged (info 1..4), otherwise an error
** whose message names the cause as SciPy's leastsq does.
*/
int spy_lsq_lm(spy_lsq_fn fn, void *ctx, size_t m, size_t n, double *x, int maxfev,
               spy_lsq_result *res, spy_err *err);

/*
** Bounded fit lb <= x <= ub (entries may be -INFINITY / INFINITY) from a
** feasible x (overwritten by the solution).  max_nfev 0 means 100 * n.
** Returns SPY_OK when a tolerance was met; an infeasible start, lb >= ub,
** non-finite initial residuals or reaching max_nfev are errors.
*/
int spy_lsq_trf(spy_lsq_fn fn, void *ctx, size_t m, size_t n, double *x, const double *lb,
                const double *ub, int max_nfev, spy_lsq_result *res, spy_err *err);

#endif
