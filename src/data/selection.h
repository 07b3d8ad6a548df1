/*
** Selections (syncopy.md 7.1): which trials, channels, samples (latency),
** frequencies and tapers of an object an operation sees.
**
** Indices exposed to Lua are 1-based (trials, channels, tapers), as
** everything else in spy's Lua surface; inside the engine they are 0-based.
** Names select channels/tapers exactly.  Order and repetitions are kept.
**
** spy_select validates a selection table (JSON: the `select` keyword or the
** keywords of spy.selectdata) against an object with Syncopy's messages and
** returns the resolved selection; the caller frees it with
** spy_selection_free.  `sel` may be NULL or the string "all": everything.
*/
#ifndef SPY_SELECTION_H
#define SPY_SELECTION_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "data/data.h"

typedef struct spy_selection {
  size_t ntrials;
  size_t *trials;   /* selected trial ids (0-based, in the object's numbering) */
  size_t *row0;     /* per selected trial: first row of axis 0 */
  size_t *nrows;    /* per selected trial: number of rows */
  size_t nchan;
  size_t *chans;    /* selected channel (channel_i) indices */
  size_t nchan_j;
  size_t *chans_j;  /* CrossSpectralData: channel_j */
  size_t nfreq;
  size_t *freqs;    /* Spectral/Cross: frequency indices */
  size_t ntaper;
  size_t *tapers;   /* Spectral: taper indices */
  double *trldef;   /* ntrials x trlcols, re-based: consecutive rows, offset of the first kept sample */
  size_t trlcols;
  bool time_selected;
  bool channel_selected, trial_selected, freq_selected, taper_selected;
} spy_selection;

int spy_select(const spy_data *d, const cJSON *sel, spy_selection **out, spy_err *err);
/* The `select` keyword of an analysis (Syncopy's unwrap_select assigns the
** Selector directly, without selectdata's get_analysis_window): a latency
** window cuts every trial to its samples inside the window and drops only
** trials without any; spy_select (selectdata) drops trials not covering it. */
int spy_select_analysis(const spy_data *d, const cJSON *sel, spy_selection **out, spy_err *err);
void spy_selection_free(spy_selection *s);

#endif
