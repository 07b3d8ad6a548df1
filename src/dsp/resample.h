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
** One output row of resample_poly(x, up, down, window=h) over nch
** interleaved channels (x is n x nch, row-major): acc[c] = row k of channel
** c.  `h` has m taps and is already multiplied by up.  Output k is
** sum_t h[k*down + (m-1)/2 - t*up] x[t] over the taps in range, so a row
** costs about m/up multiply-adds per channel.
*/
void spy_resample_row(const double *h, size_t m, long up, long down, const double *x, size_t n,
                      size_t nch, size_t k, double *acc);

/*
** Syncopy's _resampling_trl_definition: for each input row (start, stop,
** offset, ...) of `trl` (ntrials x cols), with factor = new / old rate:
** len = ceil(stop*f - start*f), start' = ceil(start*f),
** offset' = ceil(offset*f), stop' = start' + len.  Writes ntrials x 3.
*/
void spy_resample_trldef(const double *trl, size_t ntrials, size_t cols, double factor,
                         double *out);

#endif
