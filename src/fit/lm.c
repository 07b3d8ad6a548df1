/*
** spy_lsq_lm: MINPACK's lmdif (Debian's cminpack) with the arguments
** scipy.optimize.leastsq passes, so curve_fit's unbounded fits are
** reproduced iteration for iteration.
*/
#include <cminpack.h>
#include <float.h>
#include <stdlib.h>

#include "core/lazy.h"
#include "fit/lsq.h"

typedef struct {
  spy_lsq_fn fn;
  void *ctx;
} thunk;

static int call(void *p, int m, int n, const double *x, double *f, int iflag)
{
  const thunk *t = p;
  (void)iflag;
  return t->fn(t->ctx, (size_t)m, (size_t)n, x, f) ? -1 : 0;
}

int spy_lsq_lm(spy_lsq_fn fn, void *ctx, size_t m, size_t n, double *x, int maxfev,
               spy_lsq_result *res, spy_err *err)
{
  if (n == 0 || m < n)
    return spy_fail(err, SPY_EINVAL,
                    "Improper input: func (m=%zu) must not exceed the number of data points "
                    "for n=%zu parameters",
                    m, n);
  if (maxfev <= 0) maxfev = 200 * ((int)n + 1);
  if (spy_lazy_need(&spy_lazy_cminpack, "the least-squares fit", err) != SPY_OK)
    return SPY_ERUNTIME;
  /* fvec m, diag n, fjac m*n, qtf n, wa1..3 n, wa4 m */
  double *w = malloc((2 * m + 6 * n + m * n) * sizeof *w);
  int *ipvt = malloc(n * sizeof *ipvt);
  if (!w || !ipvt) {
    free(w);
    free(ipvt);
    return spy_fail(err, SPY_ENOMEM, "out of memory");
  }
  double *fvec = w, *diag = fvec + m, *fjac = diag + n, *qtf = fjac + m * n;
  double *wa1 = qtf + n, *wa2 = wa1 + n, *wa3 = wa2 + n, *wa4 = wa3 + n;
  thunk t = {fn, ctx};
  int nfev = 0;
  const double tol = 1.49012e-8; /* leastsq's ftol and xtol */
  int info = lmdif(call, &t, (int)m, (int)n, x, fvec, tol, tol, 0.0, maxfev, DBL_EPSILON, diag, 1,
                   100.0, 0, &nfev, fjac, (int)m, ipvt, qtf, wa1, wa2, wa3, wa4);
  double cost = 0;
  for (size_t i = 0; i < m; i++)
    cost += fvec[i] * fvec[i];
  free(w);
  free(ipvt);
  if (res) *res = (spy_lsq_result){info, nfev, 0.5 * cost};
  switch (info) {
  case 1: case 2: case 3: case 4:
    return SPY_OK;
  case 5:
    return spy_fail(err, SPY_ERUNTIME,
                    "Optimal parameters not found: Number of calls to function has reached "
                    "maxfev = %d.",
                    maxfev);
  case 6: case 7: case 8:
    return spy_fail(err, SPY_ERUNTIME,
                    "Optimal parameters not found: tolerances too small, no further improvement "
                    "possible");
  case -1:
    return spy_fail(err, SPY_ERUNTIME, "the residual function failed");
  default:
    return spy_fail(err, SPY_EINVAL, "Improper input parameters.");
  }
}
