/*
** Tapers of the FFT-based methods (mtmfft, mtmconvol, welch): Syncopy's
** process_taper (validation, DPSS parameters; syncopy.md 2.4) and
** _norm_taper (normalisation; 2.6).
**
** spy_taper_process turns the user's taper, taper_opt, tapsmofrq and nTaper
** into a spy_taper, with Syncopy's messages (errors in `err`, warnings and
** infos through spy_log).  spy_taper_compute then evaluates the K tapers
** for one data length.  Ownership: a spy_taper owns its `opt` copy;
** spy_taper_clear frees it and is safe on a zeroed struct.
*/
#ifndef SPY_TAPER_H
#define SPY_TAPER_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

typedef struct spy_taper {
  char name[32]; /* SciPy window name, "dpss" for multi-tapering,
                    "boxcar" for taper=None */
  bool none;     /* taper=None: a boxcar labelled "None" */
  bool dpss;
  size_t K;         /* number of tapers (1 unless dpss) */
  double NW;        /* dpss: tapsmofrq * nSamples / samplerate */
  double tapsmofrq; /* dpss: the bandwidth used (after clipping) */
  cJSON *opt;       /* window parameters (taper_opt), owned; NULL if none */
} spy_taper;

/*
** process_taper.  `taper`, `taper_opt`, `tapsmofrq`, `nTaper` are the cfg
** values (NULL or JSON null for None); `nsamples` is the mean unpadded
** trial length (Syncopy derives NW from it for every method); `output` the
** output name, for the keeptapers message.
*/
int spy_taper_process(const cJSON *taper, const cJSON *taper_opt, const cJSON *tapsmofrq,
                      const cJSON *nTaper, bool keeptapers, double samplerate, double nsamples,
                      const char *output, spy_taper *t, spy_err *err);
void spy_taper_clear(spy_taper *t);

/*
** The K tapers for data of length L, row-major K x L into w, normalised as
** _norm_taper for the transform length N: dpss x sqrt(N), boxcar x
** sqrt(N / sum w), any other window x sqrt(4/3) sqrt(N / sum w).  Windows
** are SciPy's symmetric ones; `dpss_sym` picks the DPSS variant (true in
** mtmfft, false in the sliding-window STFT).
*/
int spy_taper_compute(const spy_taper *t, size_t L, size_t N, bool dpss_sym, double *w,
                      spy_err *err);

/* Output taper label k: "None", the window name, or "dpss<k>". */
void spy_taper_label(const spy_taper *t, size_t k, char *buf, size_t n);

#endif
