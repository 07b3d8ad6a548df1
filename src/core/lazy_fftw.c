/*
** FFTW on first use (src/core/lazy.h): every FFT.  Planning goes through
** src/dsp/fft.c, which asks for the library first; the kernels' execute calls
** cost one more indirect call each.
*/
#include <fftw3.h>

#include "core/lazy.h"

#define SPY_LAZY_LIB spy_lazy_fftw

#define FUNCS(F, V) \
  V(fftw_cleanup, (void), (), (void)0) \
  V(fftw_destroy_plan, (fftw_plan p), (p), (void)0) \
  V(fftw_execute_dft, (const fftw_plan p, fftw_complex *in, fftw_complex *out), (p, in, out), (void)0) \
  V(fftw_execute_dft_c2r, (const fftw_plan p, fftw_complex *in, double *out), (p, in, out), (void)0) \
  V(fftw_execute_dft_r2c, (const fftw_plan p, double *in, fftw_complex *out), (p, in, out), (void)0) \
  V(fftw_free, (void *p), (p), (void)0) \
  F(void *, fftw_malloc, (size_t n), (n), NULL) \
  F(fftw_plan, fftw_plan_many_dft, (int rank, const int *n, int howmany, fftw_complex *in, const int *inembed, int istride, int idist, fftw_complex *out, const int *onembed, int ostride, int odist, int sign, unsigned flags), (rank, n, howmany, in, inembed, istride, idist, out, onembed, ostride, odist, sign, flags), NULL) \
  F(fftw_plan, fftw_plan_many_dft_c2r, (int rank, const int *n, int howmany, fftw_complex *in, const int *inembed, int istride, int idist, double *out, const int *onembed, int ostride, int odist, unsigned flags), (rank, n, howmany, in, inembed, istride, idist, out, onembed, ostride, odist, flags), NULL) \
  F(fftw_plan, fftw_plan_many_dft_r2c, (int rank, const int *n, int howmany, double *in, const int *inembed, int istride, int idist, fftw_complex *out, const int *onembed, int ostride, int odist, unsigned flags), (rank, n, howmany, in, inembed, istride, idist, out, onembed, ostride, odist, flags), NULL) \
  V(fftw_set_timelimit, (double t), (t), (void)0)

SPY_LAZY_DEFINE(FUNCS, SPY_SONAME_FFTW, "libfftw3-double3", NULL)
