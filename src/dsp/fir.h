/*
** FIR filtering: Syncopy's windowed-sinc design (syncopy/preproc/firws.py),
** the real-cepstrum minimum-phase conversion, and 'same' convolution as
** scipy.signal.convolve(x, h, mode="same") computes it: y[i] = full[i + (m-1)/2]
** with the signal zero outside [0, n).
**
** The FFT path convolves by overlap-save in blocks of one FFT length chosen
** when the filter is prepared (the least estimated work for the longest
** signal among lengths FFTW's estimated plans run well, at most 20480 for
** kernels under 5121 taps; fir.c), so scratch stays a few block lengths
** whatever the trial length.  The direct path is the time-domain sum, used when a
** signal contains NaN so that a NaN spoils only the outputs within half a
** kernel of it (the FFT would spread it over a whole block).
**
** Ownership: spy_fir_prepare allocates the kernel copy and its spectrum;
** spy_fir_release frees them (safe on a zeroed struct).  FFT plans belong
** to the cache of dsp/fft.h.
*/
#ifndef SPY_FIR_H
#define SPY_FIR_H

#include <complex.h>
#include <fftw3.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "dsp/iir.h"

/* Kernel length of design_wsinc for `order`: an odd order is raised by one
** and the kernel has order + 1 taps. */
static inline size_t spy_wsinc_len(long order)
{
  return (size_t)(order + (order % 2 != 0)) + 1;
}

/*
** Syncopy's design_wsinc(window, order, f_c, filter_type): `window` one of
** "hamming", "hann", "blackman" (SciPy windows, sym=True); fc[0] (and
** fc[1], ascending, for bands) in cycles per sample.  The low-pass kernel
** is normalised to unit sum; hp is delta - lp; bp lp(f2) + delta - lp(f1) -
** delta; bs lp(f1) + delta - lp(f2).  h needs spy_wsinc_len(order) doubles.
*/
int spy_design_wsinc(const char *window, long order, const double *fc, spy_btype type, double *h,
                     spy_err *err);

/*
** Syncopy's minphaserceps: the minimum-phase version of h (n taps) by the
** real cepstrum, FFT length the power of two >= 1000 n, spectrum clipped at
** 1e-8, and - as Syncopy's port does - the folded cepstrum transformed at
** length nfft - 1.  Writes n taps to out (may alias h).  Plans and runs two
** FFTs of about a million points: call it when planning, not in a kernel.
*/
int spy_minphase_rceps(const double *h, size_t n, double *out, spy_err *err);

typedef struct spy_fir {
  double *h;        /* m taps */
  size_t m;
  size_t nfft;      /* overlap-save block length */
  double complex *H; /* nfft/2+1: spectrum of h, scaled by 1/nfft */
  fftw_plan r2c, c2r;
} spy_fir;

/* Prepares h (m taps) for signals of at most maxlen samples: picks the
** block length and plans its transforms. */
int spy_fir_prepare(spy_fir *f, const double *h, size_t m, size_t maxlen, spy_err *err);
void spy_fir_release(spy_fir *f);

/* Scratch bytes of spy_fir_same (two SIMD-aligned block buffers). */
size_t spy_fir_scratch_bytes(const spy_fir *f);

/* y = convolve(x, h, "same") by FFT; x and y contiguous, n samples, not
** overlapping; scratch aligned as fftw_malloc's. */
void spy_fir_same(const spy_fir *f, const double *x, size_t n, double *y, void *scratch);

/*
** Two 'same' passes, y = same(same(x, h), h) as Syncopy's twopass computes
** it, as one convolution with h * h (2m-1 taps) corrected at both ends for
** what the first pass cuts off (four FFT convolutions of half-kernel
** length at each signal's ends).  Agrees with two spy_fir_same passes to
** rounding.  m odd.  Ownership as spy_fir.
*/
typedef struct spy_fir2 {
  spy_fir g;                /* h * h */
  size_t c;                 /* (m-1)/2 */
  size_t Lc;                /* edge transform length, >= 2c */
  double complex *Ha, *Hb;  /* spectra of h[0..c) and h[c+1..2c] at Lc, scaled by 1/Lc */
  fftw_plan r2c, c2r;
} spy_fir2;

int spy_fir2_prepare(spy_fir2 *f, const double *h, size_t m, size_t maxlen, spy_err *err);
void spy_fir2_release(spy_fir2 *f);
size_t spy_fir2_scratch_bytes(const spy_fir2 *f);
void spy_fir2_same(const spy_fir2 *f, const double *x, size_t n, double *y, void *scratch);

/*
** The same for a signal that fits one overlap-save block (spy_fir2_fits),
** filtered inside that block: blk holds f->g.nfft doubles (aligned as
** fftw_malloc's), the caller puts x[0..n) at blk + SPY_FIR2_IN(f) (anything
** elsewhere), and y comes back at blk + SPY_FIR2_OUT(f), the same bytes as
** spy_fir2_same's; no copies into or out of a separate FFT block.
** Scratch: spy_fir2_block_scratch_bytes, aligned as fftw_malloc's.
*/
#define SPY_FIR2_IN(f) (((f)->g.m - 1) / 2)
#define SPY_FIR2_OUT(f) ((f)->g.m - 1)
bool spy_fir2_fits(const spy_fir2 *f, size_t n);
size_t spy_fir2_block_scratch_bytes(const spy_fir2 *f);
void spy_fir2_block(const spy_fir2 *f, double *blk, size_t n, void *scratch);

/* The same by the time-domain sum (NaN stays local). */
void spy_fir_same_direct(const double *h, size_t m, const double *x, size_t n, double *y);

#endif
