/*
** FFTW plan cache.
**
** All planning, plan destruction and wisdom calls happen under one planner
** lock inside this module (ARCHITECTURE invariant 5).  A plan is made once
** per geometry and kept for the life of the process; kernels only call
** fftw_execute_dft_r2c / _c2r / _dft (the new-array variants) on cached
** plans, from any thread, on buffers from fftw_malloc (or spy_fft_alloc),
** whose alignment then matches the plan's.
**
** Geometry follows FFTW's advanced interface: `howmany` transforms of length
** n, element stride `stride`, distance `dist` between transforms, same for
** input and output (in elements of the respective type).  Plans are made
** out-of-place unless `inplace`.
**
** Planner rigor: FFTW_ESTIMATE, or FFTW_MEASURE / FFTW_PATIENT (with a time
** limit) when the environment variable SPY_FFTW_PLANNER=measure / patient.
** Returned plans are owned by the cache.
*/
#ifndef SPY_FFT_H
#define SPY_FFT_H

#include <complex.h>
#include <fftw3.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

typedef enum {
  SPY_FFT_R2C,     /* real n -> complex n/2+1 */
  SPY_FFT_C2R,     /* complex n/2+1 -> real n (unnormalised, destroys input) */
  SPY_FFT_FORWARD, /* complex -> complex, e^{-i...} */
  SPY_FFT_BACKWARD /* complex -> complex, e^{+i...}, unnormalised */
} spy_fft_kind;

typedef struct spy_fft_geom {
  spy_fft_kind kind;
  int n;
  int howmany;
  int istride, idist;
  int ostride, odist;
  bool inplace;
} spy_fft_geom;

/* Cached plan for g; NULL and err filled when FFTW cannot plan it. */
fftw_plan spy_fft_plan(const spy_fft_geom *g, spy_err *err);

/* As spy_fft_plan, but a geometry not cached yet is planned with
** FFTW_ESTIMATE: for transforms run only a few times (a one-off design,
** many distinct lengths), where measuring costs more than it saves. */
fftw_plan spy_fft_plan_quick(const spy_fft_geom *g, spy_err *err);

/* Convenience: `howmany` contiguous transforms (stride 1, dist n or
** n/2+1 as appropriate). */
fftw_plan spy_fft_plan_simple(spy_fft_kind kind, int n, int howmany, spy_err *err);

/* SIMD-aligned, zeroed allocation for kernel buffers; free with spy_fft_free. */
void *spy_fft_alloc(size_t nbytes);
void spy_fft_free(void *p);

/* Smallest 2^a 3^b 5^c 7^d >= n (a fast FFT length). */
size_t spy_fft_good_size(size_t n);

/* Destroys every cached plan (tests, exit). */
void spy_fft_cleanup(void);

#endif
