/*
** Tapers: SciPy's scipy.signal.windows, value for value, and DPSS.
**
** spy_window fills w[0..n-1] with the window `name` as
** scipy.signal.windows.<name>(n, **opts, sym=sym) would (sym=false is SciPy's
** periodic variant: computed for n+1 points, last dropped).  `opts` is a
** JSON object with the window's parameters (Syncopy's taper_opt), or NULL
** for parameter-free windows.  The caller owns w.
**
** As SciPy: n == 0 writes nothing, n == 1 gives [1]; kaiser_bessel_derived
** needs sym and an even n.  Every parameter of the window must be in opts
** (Syncopy's rule; keys it does not use are ignored); a missing one gets
** Syncopy's message.  Reentrant; chebwin plans an FFT of n (+1) points
** through dsp/fft.h, so call it at plan time, not in a kernel.
*/
#ifndef SPY_WINDOWS_H
#define SPY_WINDOWS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

typedef struct spy_window_info {
  const char *name;
  const char *params[4]; /* parameter names (SciPy signature minus M, sym), NULL-terminated */
} spy_window_info;

/* Syncopy's availableTapers (SciPy >= 1.10 windows minus get_window,
** exponential and dpss), in SciPy's order; terminated by name == NULL. */
extern const spy_window_info spy_windows[];

const spy_window_info *spy_window_find(const char *name);

int spy_window(const char *name, size_t n, bool sym, const cJSON *opts, double *w,
               spy_err *err);

/* Syncopy's process_taper checks of a single taper's taper_opt, in its
** order and wording: name in availableTapers; opts NULL, JSON null or an
** object; no object for parameter-free windows; no unknown key; every
** parameter present; then spy_window's type and value checks. */
int spy_window_check_opts(const char *name, const cJSON *opts, spy_err *err);

/*
** DPSS (Slepian) tapers as scipy.signal.windows.dpss(n, NW, K, sym=sym):
** K tapers of length n, row-major in `tapers` (K x n), each of unit L2 norm
** (SciPy's normalisation when Kmax is given), sign convention as SciPy's.
** `ratios` (may be NULL) receives the K concentration ratios.
**
** Requires 1 <= K <= n and 0 < NW < n/2 (n >= 2); n == 1 gives ones, as
** SciPy.  Cost O(n K): about 10 ms for (2000, 8, 15), 6.4 ms for
** (1000, 10, 19), 0.4 s for (100000, 8, 15), almost all of it LAPACK's
** bisection.  Ratios add two FFTs of ~2n points per taper, planned once per
** length by dsp/fft.h.  Reentrant (thread-safe); meant for plan time.
**
** Tapers asked for without ratios are kept for later calls with the same
** (n, NW, K, sym), the tapers of a session's repeated analyses of equally
** long trials: at most SPY_DPSS_KEEP sets and SPY_DPSS_KEEP_BYTES in all,
** the least recently used given up first; a set larger than that is not
** kept.  A kept set is the bytes the computation gave.
*/
#define SPY_DPSS_KEEP 16
#define SPY_DPSS_KEEP_BYTES ((size_t)32 << 20)
int spy_dpss(size_t n, double NW, size_t K, bool sym, double *tapers, double *ratios,
             spy_err *err);
/* Bytes of tapers kept (at most SPY_DPSS_KEEP_BYTES) and their count. */
size_t spy_dpss_kept(size_t *count);

#endif
