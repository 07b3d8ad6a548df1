/*
** FOOOF ("fitting oscillations & one over f", Donoghue et al. 2020), the
** algorithm of the fooof package v1.1.1 that Syncopy's freqanalysis runs
** for output='fooof', 'fooof_aperiodic' and 'fooof_peaks':
**
**   1. log10 of the power; an aperiodic fit (offset - log10(f^exp), or
**      offset - log10(knee + f^exp)) by unbounded least squares, then a
**      robust re-fit on the points below it (0.025th percentile threshold
**      of the positive residual);
**   2. on the flattened spectrum, peaks are guessed one by one at the
**      maximum (height above peak_threshold * std and min_peak_height; the
**      width from the nearer half-height point, clipped to the limits) and
**      each guess subtracted, up to max_n_peaks;
**   3. guesses within one std of the edges, and the lower of two guesses
**      overlapping by 0.75 std, are dropped; the rest are fitted together as
**      Gaussians (bounded least squares: centre +-3 std within the range,
**      height >= 0, std within the limits);
**   4. the aperiodic component is re-fitted on the spectrum minus the
**      peaks; r^2 and the mean absolute error of the model follow.
**
** Unbounded fits use spy_lsq_lm, the Gaussian fit spy_lsq_trf, as SciPy's
** curve_fit does.  Ownership: spy_fooof_fit's arrays are malloc'd by
** spy_fooof and released by spy_fooof_fit_free.
*/
#ifndef SPY_FOOOF_H
#define SPY_FOOOF_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

typedef struct spy_fooof_opts {
  double width_lo, width_hi; /* peak_width_limits (Hz) */
  double max_n_peaks;        /* may be INFINITY */
  double min_peak_height;    /* log10 power above the aperiodic fit */
  double peak_threshold;     /* in standard deviations of the flattened spectrum */
  bool knee;                 /* aperiodic_mode 'knee' (else 'fixed') */
} spy_fooof_opts;

/* FOOOF's defaults (Syncopy's default fooof_opt). */
#define SPY_FOOOF_DEFAULTS ((spy_fooof_opts){0.5, 12.0, INFINITY, 0.0, 2.0, false})

typedef struct spy_fooof_fit {
  double ap[3];        /* offset, [knee,] exponent */
  int nap;             /* 2 (fixed) or 3 (knee) */
  size_t npeaks;
  double *gauss;       /* npeaks x 3: centre, height, std (sorted by centre) */
  double *peak;        /* npeaks x 3: centre, height above aperiodic, 2 std */
  double r_squared, error;
} spy_fooof_fit;

/* What Syncopy returns from a fit (linear power). */
typedef enum { SPY_FOOOF_FULL, SPY_FOOOF_APERIODIC, SPY_FOOOF_PEAKS } spy_fooof_output;

/*
** Fits power (nf values > 0, linear) at the equidistant freqs (> 0) and
** writes the requested output to out (nf values, linear scale, as Syncopy:
** 10^model, 10^aperiodic or 10^model - 10^aperiodic + 1e-16).  fit may be
** NULL.  Errors: non-finite log power, too few frequencies, a fit that
** does not converge (FOOOF's FitError).
*/
int spy_fooof(const spy_fooof_opts *o, const double *freqs, const double *power, size_t nf,
              spy_fooof_output kind, double *out, spy_fooof_fit *fit, spy_err *err);

void spy_fooof_fit_free(spy_fooof_fit *fit);

#endif
