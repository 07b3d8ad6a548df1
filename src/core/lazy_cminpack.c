/*
** cminpack on first use (src/core/lazy.h): FOOOF's unbounded fits.  When
** missing, lmdif reports info 0 (improper input).
*/
#include <cminpack.h>

#include "core/lazy.h"

#define SPY_LAZY_LIB spy_lazy_cminpack

#define FUNCS(F, V) \
  F(int, lmdif, (cminpack_func_mn fcn_mn, void *p, int m, int n, double *x, double *fvec, double ftol, double xtol, double gtol, int maxfev, double epsfcn, double *diag, int mode, double factor, int nprint, int *nfev, double *fjac, int ldfjac, int *ipvt, double *qtf, double *wa1, double *wa2, double *wa3, double *wa4), (fcn_mn, p, m, n, x, fvec, ftol, xtol, gtol, maxfev, epsfcn, diag, mode, factor, nprint, nfev, fjac, ldfjac, ipvt, qtf, wa1, wa2, wa3, wa4), 0)

SPY_LAZY_DEFINE(FUNCS, SPY_SONAME_CMINPACK, "libcminpack1", NULL)
