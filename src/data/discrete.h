/*
** Discrete data (SpikeData, EventData): rows of int64 [sample, channel,
** unit] or [sample, eventid] sorted by sample, in dataset `data`.  Trials
** are sample ranges [start, stop) of the trialdefinition; trial k owns the
** rows searchsorted(sample, start) .. searchsorted(sample, stop) (Syncopy's
** rule, side "left" for both ends).
**
** Everything here streams: rows are read in blocks of SPY_DISCRETE_BLOCK,
** and row ranges are found by binary search on the file, so memory never
** grows with the number of spikes (ARCHITECTURE invariant 6).
**
** Ownership: spy_dsel and spy_discrete_scan results are allocated here and
** freed with spy_dsel_free / spy_ivec_free.
*/
#ifndef SPY_DISCRETE_H
#define SPY_DISCRETE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "data/data.h"

#define SPY_DISCRETE_BLOCK 65536 /* rows per read */

/* A growable sorted set of distinct int64 values. */
typedef struct spy_ivec {
  int64_t *v;
  size_t n, cap;
} spy_ivec;
int spy_ivec_add(spy_ivec *s, int64_t x); /* keeps v sorted and distinct */
ptrdiff_t spy_ivec_find(const spy_ivec *s, int64_t x); /* index or -1 */
void spy_ivec_free(spy_ivec *s);

/* What one pass over the data finds. */
typedef struct spy_discrete_scan {
  size_t nrows;
  int64_t smin, smax;   /* sample range (0, 0 without rows) */
  spy_ivec col[2];      /* distinct values of column 1 (channel / eventid) and 2 (unit) */
} spy_discrete_scan;

/*
** Reads all rows once: checks that samples are non-negative and sorted
** (Syncopy's searchsorted needs it), that SpikeData channel and unit
** indices are non-negative, and collects the distinct values.  Messages
** name the first offending row (1-based).
*/
int spy_discrete_check(spy_data *d, spy_discrete_scan *out, spy_err *err);
void spy_discrete_scan_free(spy_discrete_scan *s);

/* Reads rows [row0, row0+n) as int64 (n x ncols) into buf. */
int spy_discrete_read(spy_data *d, size_t row0, size_t n, int64_t *buf, spy_err *err);

/* First row whose sample is >= s (numpy searchsorted, side left). */
int spy_discrete_search(spy_data *d, double s, size_t *row, spy_err *err);

/* Rows of trial k of d's trial definition. */
int spy_discrete_trial_rows(spy_data *d, size_t k, size_t *row0, size_t *nrows, spy_err *err);

/* Default labels "channel<i+1>" / "unit<i+1>", zero-padded to the digits of
** the largest index (Syncopy's rule), for the distinct indices idx. */
char **spy_discrete_labels(const char *prefix, const spy_ivec *idx);

/*
** SpikeData's optional `waveform` dataset: one row (of any inner shape, any
** dtype) per spike, next to `data` (Syncopy's extra dataset).  Rows are read
** and written in blocks like `data`.  info: *ndim = 0 when there is none.
*/
typedef struct spy_waveform {
  int ndim;
  size_t shape[4];
  spy_dtype dtype;
} spy_waveform;
int spy_waveform_info(spy_data *d, spy_waveform *w, spy_err *err);
size_t spy_waveform_row_bytes(const spy_waveform *w);
int spy_waveform_read(spy_data *d, const spy_waveform *w, size_t row0, size_t n, void *buf, spy_err *err);
/* Creates (replaces) `waveform` of w's shape in d's writable file. */
int spy_waveform_create(spy_data *d, const spy_waveform *w, spy_err *err);
int spy_waveform_write(spy_data *d, const spy_waveform *w, size_t row0, size_t n, const void *buf,
                       spy_err *err);

/* A resolved selection of discrete data (syncopy.md 7.1). */
typedef struct spy_dsel {
  size_t ntrials;
  size_t *trials;        /* selected trial ids (0-based) */
  size_t *row0, *nrows;  /* their row ranges */
  spy_ivec chan, unit, eventid; /* selected column values; n == 0 with *_all */
  bool chan_all, unit_all, eventid_all;
  bool window;           /* latency window [t0, t1] in s, inclusive */
  double t0, t1;
  double *trldef;        /* ntrials x trlcols: the selected rows, unchanged */
  size_t trlcols;
} spy_dsel;

/*
** Resolves a selection (JSON object of trials, channel, unit, latency,
** eventid; NULL = everything) against d.  Trials are 0-based here (the
** bindings shift), channel/unit are label names or 0-based label
** positions, eventid are event codes.  Errors in Syncopy's wording.
*/
int spy_dsel_make(spy_data *d, const cJSON *sel, spy_dsel **out, spy_err *err);
void spy_dsel_free(spy_dsel *s);

/* Whether row r (ncols values) of selected trial i passes the selection. */
bool spy_dsel_keep(const spy_dsel *s, const spy_data *d, size_t i, const int64_t *r);

/*
** Streams the selection of d into a new temporary object of the same class
** (two passes: count, then copy block by block); labels of the distinct
** indices that remain, trial definition rows as selected.  cfg/log are the
** caller's.
*/
int spy_dsel_copy(spy_data *d, const spy_dsel *s, spy_data **out, spy_err *err);

/*
** Trial definition from event markers (spy.definetrial with EventData,
** syncopy.md 7.3).  ev are the nev [sample, eventid] rows of the EventData
** (sorted), evsr its samplerate, tgsr the target's.  pre/post in s (NaN:
** not given), start/trigger/stop event codes (has_* false: not given).
** Returns the M x 3 [begin, end, t0] rows in target samples (malloc'd).
*/
typedef struct spy_evtdef {
  double pre, post;
  bool has_start, has_trigger, has_stop;
  int64_t start, trigger, stop;
} spy_evtdef;
int spy_trials_from_events(const int64_t *ev, size_t nev, double evsr, double tgsr,
                           const spy_evtdef *def, double **trl, size_t *ntrials, spy_err *err);

#endif
