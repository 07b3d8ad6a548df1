/*
** IIR filtering: Butterworth design and second-order-section filtering, as
** SciPy does it (syncopy.md 3).
**
** Design follows scipy.signal.butter(order, freq, btype, fs=fs, output=...)
** step by step: analog prototype poles, frequency pre-warping, the
** lp->lp/hp/bp/bs transform, the bilinear transform, and zpk2sos with
** SciPy's 'nearest' pairing, so the sections (not just the overall
** response) equal SciPy's.  A section is {b0, b1, b2, a0 = 1, a1, a2}.
**
** Filtering works on `lanes` interleaved signals (row-major n x lanes, the
** layout of a channel block of a time x channel trial), so several channels
** share one pass and the compiler can vectorise across them.  The
** recursion is SciPy's direct form II transposed (sosfilt).
**
** Ownership: callers own every array; nothing here allocates.
*/
#ifndef SPY_IIR_H
#define SPY_IIR_H

#include <complex.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

/* Filter types, in Syncopy's spelling: "lp", "hp", "bp", "bs". */
typedef enum { SPY_LOWPASS, SPY_HIGHPASS, SPY_BANDPASS, SPY_BANDSTOP } spy_btype;

int spy_btype_parse(const char *name, spy_btype *t);
const char *spy_btype_name(spy_btype t);
static inline bool spy_btype_is_band(spy_btype t)
{
  return t == SPY_BANDPASS || t == SPY_BANDSTOP;
}

/* Number of poles of butter(order, ..., btype): order, or 2*order for bands. */
static inline size_t spy_butter_npoles(int order, spy_btype t)
{
  return (size_t)order * (spy_btype_is_band(t) ? 2 : 1);
}
/* Rows of the sos array for `npoles` poles: max(1, (npoles + 1) / 2). */
static inline size_t spy_sos_nsections(size_t npoles)
{
  return npoles ? (npoles + 1) / 2 : 1;
}

/*
** Digital Butterworth zeros, poles and gain as butter(..., output="zpk"):
** freq[0] (and freq[1] for bands, ascending) in Hz, fs the sampling rate.
** z and p need room for spy_butter_npoles() entries each; *nz and *np
** receive the counts.  Fails with SciPy's messages when a critical
** frequency is not inside (0, fs/2).
*/
int spy_butter_zpk(int order, const double *freq, double fs, spy_btype t, double complex *z,
                   size_t *nz, double complex *p, size_t *np, double *k, spy_err *err);

/*
** scipy.signal.zpk2sos(z, p, k) with pairing 'nearest' (digital): sections
** ordered so the poles closest to the unit circle come last, the gain in the
** first section.  Complex values must come in conjugate pairs.  sos needs
** spy_sos_nsections(max(nz, np)) x 6 doubles; *nsec receives the count.
*/
int spy_zpk2sos(const double complex *z, size_t nz, const double complex *p, size_t np,
                double k, double *sos, size_t *nsec, spy_err *err);

/* butter(order, freq, t, fs=fs, output="sos"): both steps above. */
int spy_butter_sos(int order, const double *freq, double fs, spy_btype t, double *sos,
                   size_t *nsec, spy_err *err);

/* scipy.signal.sosfilt_zi: steady-state section states (nsec x 2) for a
** unit step input. */
void spy_sosfilt_zi(const double *sos, size_t nsec, double *zi);

/* Padding of scipy.signal.sosfiltfilt with its defaults: 3 * ntaps, where
** ntaps = 2*nsec + 1 - min(#(b2 == 0), #(a2 == 0)).  A signal must be
** longer than this. */
size_t spy_sosfiltfilt_edge(const double *sos, size_t nsec);

/*
** sosfilt over x (n x lanes, in place).  `state` (nsec x 2 x lanes) holds
** the initial section states on entry and the final ones on return; zero it
** for SciPy's default zero initial conditions.  With `reverse` the signal is
** run from its last sample to its first.
*/
void spy_sosfilt(const double *sos, size_t nsec, double *x, size_t n, size_t lanes, bool reverse,
                 double *state);

/*
** sosfiltfilt(sos, x, padtype="odd") over `lanes` interleaved signals of n
** samples stored in rows [edge, edge + n) of ext ((n + 2*edge) x lanes);
** the function writes the odd extensions into the outer rows itself, runs
** the forward pass from zi * ext[0] and the backward pass from
** zi * y[last], and leaves the result in the same rows [edge, edge + n).
** `zi` comes from spy_sosfilt_zi, `edge` from spy_sosfiltfilt_edge (the
** caller checks n > edge); `state` is scratch of nsec x 2 x lanes doubles.
*/
void spy_sosfiltfilt(const double *sos, size_t nsec, const double *zi, double *ext, size_t n,
                     size_t lanes, size_t edge, double *state);

#endif
