/*
** The progress bar of long computations, in dask's format:
**   [###################                     ] | 48% Completed |  2.41 s
** Drawn on stderr by the main thread only: redrawn in place (\r) on a
** terminal at most every 0.1 s, or, when stderr is not a terminal (sbatch
** logs), as a plain line at every 10 %.  Nothing is drawn for computations
** shorter than about a second; a drawn bar ends with a final line at 100 %
** (or at the point of failure) with the total time.  Log lines written while
** a bar is shown clear it first and it is redrawn after (spy_log hooks).
** spy_progress_enable(false) (spy.set_progress(false)) turns it off.
*/
#ifndef SPY_PROGRESS_H
#define SPY_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>

void spy_progress_enable(bool on);
bool spy_progress_enabled(void);

void spy_progress_begin(size_t total);
void spy_progress_update(size_t done);
/* Ends the bar; `completed` false leaves the percentage where it stopped. */
void spy_progress_end(bool completed);

/* Seconds since an arbitrary epoch (monotonic). */
double spy_now(void);

/* For tests: the bar line for a fraction and elapsed time (no \r). */
void spy_progress_format(char *buf, size_t n, double frac, double elapsed);

#endif
