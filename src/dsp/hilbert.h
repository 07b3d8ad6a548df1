/*
** The analytic signal as scipy.signal.hilbert(x) computes it: an FFT over
** the full signal length n (no padding), negative frequencies zeroed, the
** positive ones doubled (DC and, for even n, Nyquist kept), inverse FFT.
** Preprocessing's hilbert outputs are this signal passed through the
** spectral conversions of dsp/spectral_common.h.
**
** A spy_hilbert holds the cached FFT plans for one length; make it when
** planning (one per distinct trial length), run it in kernels.
*/
#ifndef SPY_HILBERT_H
#define SPY_HILBERT_H

#include <complex.h>
#include <fftw3.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

typedef struct spy_hilbert {
  size_t n;
  fftw_plan r2c, inv; /* real n -> n/2+1; complex n in place, backward */
} spy_hilbert;

/* Plans for length n; `estimate` skips FFTW's measuring (worth it when
** many different lengths each serve few trials). */
int spy_hilbert_prepare(spy_hilbert *h, size_t n, bool estimate, spy_err *err);

/* z[0..n) = analytic signal of x[0..n) (x contiguous, not overwritten);
** x and z must be SIMD-aligned (from scratch or spy_fft_alloc). */
void spy_hilbert_run(const spy_hilbert *h, const double *x, double complex *z);

#endif
