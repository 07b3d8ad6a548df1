/*
** LAPACK on first use (src/core/lazy.h): DPSS tapers (dstebz, dstein) and
** the FOOOF bounded fit (dgesdd).  Reference LAPACK is Fortran: arguments by
** reference, hidden string lengths last, as declared in src/dsp/dpss.c and
** src/fit/trf.c.  When missing, the routines report info = -1000 (no LAPACK
** routine uses that value).
*/
#include <stddef.h>

#include "core/lazy.h"

#define SPY_LAZY_LIB spy_lazy_lapack

void dstebz_(const char *range, const char *order, const int *n, const double *vl,
             const double *vu, const int *il, const int *iu, const double *abstol,
             const double *d, const double *e, int *m, int *nsplit, double *w, int *iblock,
             int *isplit, double *work, int *iwork, int *info, size_t range_len,
             size_t order_len);
void dstein_(const int *n, const double *d, const double *e, const int *m, const double *w,
             const int *iblock, const int *isplit, double *z, const int *ldz, double *work,
             int *iwork, int *ifail, int *info);
void dgesdd_(const char *jobz, const int *m, const int *n, double *a, const int *lda, double *s,
             double *u, const int *ldu, double *vt, const int *ldvt, double *work,
             const int *lwork, int *iwork, int *info);

#define FUNCS(F, V)                                                                                \
  V(dstebz_,                                                                                       \
    (const char *range, const char *order, const int *n, const double *vl, const double *vu,      \
     const int *il, const int *iu, const double *abstol, const double *d, const double *e,        \
     int *m, int *nsplit, double *w, int *iblock, int *isplit, double *work, int *iwork,          \
     int *info, size_t range_len, size_t order_len),                                               \
    (range, order, n, vl, vu, il, iu, abstol, d, e, m, nsplit, w, iblock, isplit, work, iwork,    \
     info, range_len, order_len),                                                                  \
    *info = -1000)                                                                                 \
  V(dstein_,                                                                                       \
    (const int *n, const double *d, const double *e, const int *m, const double *w,               \
     const int *iblock, const int *isplit, double *z, const int *ldz, double *work, int *iwork,   \
     int *ifail, int *info),                                                                       \
    (n, d, e, m, w, iblock, isplit, z, ldz, work, iwork, ifail, info), *info = -1000)             \
  V(dgesdd_,                                                                                       \
    (const char *jobz, const int *m, const int *n, double *a, const int *lda, double *s,          \
     double *u, const int *ldu, double *vt, const int *ldvt, double *work, const int *lwork,      \
     int *iwork, int *info),                                                                       \
    (jobz, m, n, a, lda, s, u, ldu, vt, ldvt, work, lwork, iwork, info), *info = -1000)

SPY_LAZY_DEFINE(FUNCS, SPY_SONAME_LAPACK, "liblapack3", NULL)
