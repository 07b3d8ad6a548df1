/*
** Resampling as Syncopy's resampledata does it (syncopy.md 4): the rational
** factor up/down of Python's Fraction.from_float(ratio).limit_denominator(),
** polyphase filtering as scipy.signal.resample_poly(x, up, down, window=h)
** (h scaled by up, zero padding, filter delay compensated), the output
** lengths and Syncopy's output trial definitions.
*/
#ifndef SPY_RESAMPLE_H
#define SPY_RESAMPLE_H

#include <stddef.h>

#include "core/err.h"

/* Fraction.from_float(x).limit_denominator(maxden) for 0 < x <= 1:
** the exact binary value of x, then the closest fraction with a
** denominator of at most maxden.  SPY_EINVAL when x is outside (2^-40, 1]. */
int spy_rational_approx(double x, long maxden, long *num, long *den);

/* ceil(n * up / down), resample_poly's output length. */
size_t spy_resample_len(size_t n, long up, long down);

/*
** resample_poly(x, up, down, window=h) as a polyphase filter: output k is
** sum_t h[k*down + (m-1)/2 - t*up] x[t] over the taps in range (h already
** multiplied by up, zero outside the signal), i.e. a dot product of one of
** `up` sub-filters with a stretch of x, about m/up multiply-adds per output.
** spy_polyphase_init splits h into the sub-filters (reversed, so each dot
** product runs forwards); spy_polyphase_release frees them (safe on a
** zeroed struct).
*/
typedef struct spy_polyphase {
  long up, down;
  size_t m, half; /* taps, (m-1)/2 */
  size_t *len;    /* up sub-filter lengths */
  size_t *off;    /* their offsets in g */
  double *g;      /* m taps, grouped by phase, each group reversed */
} spy_polyphase;

int spy_polyphase_init(spy_polyphase *pp, const double *h, size_t m, long up, long down);
void spy_polyphase_release(spy_polyphase *pp);

/* y[k - k0] = output k of one channel x (n contiguous samples), k0 <= k < k1. */
void spy_resample_channel(const spy_polyphase *pp, const double *x, size_t n, size_t k0,
                          size_t k1, double *y);

/*
** Syncopy's _resampling_trl_definition: for each input row (start, stop,
** offset, ...) of `trl` (ntrials x cols), with factor = new / old rate:
** len = ceil(stop*f - start*f), start' = ceil(start*f),
** offset' = ceil(offset*f), stop' = start' + len.  Writes ntrials x 3.
*/
void spy_resample_trldef(const double *trl, size_t ntrials, size_t cols, double factor,
                         double *out);

#endif
