/*
** The scheduler: runs a method's op over the selected trials of an input
** object into a new output object (ARCHITECTURE invariants 3, 6, 7).
**
** Tasks are (trial) or (trial, channel chunk) when chan_per_worker is set
** and the op is channel-independent.  Each task reads its slice of the input
** (converted to float64), runs op->kernel with per-worker buffers (allocated
** by a worker on its first task and grown only when a task needs more, so
** idle workers hold none: peak memory is at most workers x per-task buffers,
** independent of the number of trials; a task record holds no error text
** until it fails) and writes its slice of the output.  With op->average the per-task results are summed
** strictly in trial order (so the numbers are identical
** for any worker count and completion order) and divided at the end.
**
** Execution is inline on the calling thread (no pool) or on a spy_pool.
** The calling thread draws the progress bar and polls spy_interrupted():
** on Ctrl-C, queued tasks are cancelled, running kernels stop at their next
** chunk boundary, and spy_run returns SPY_EINTR ("interrupted").  The first
** failing task fails the run with an error naming the trial, the channel
** chunk and the cause; the others are cancelled.  In both cases the output
** is incomplete and the caller must discard it (spy_data_unref deletes a
** temporary file); the input is never modified.
**
** On success `out` (a fresh object of class op->cls, created by the caller
** with spy_data_new) holds the data and all metadata: trial definition,
** samplerate, channel labels of the selection, freq and taper axes; they are
** synced to its file.
*/
#ifndef SPY_SCHED_H
#define SPY_SCHED_H

#include "data/data.h"
#include "data/selection.h"
#include "sched/op.h"
#include "sched/pool.h"

#include <stdatomic.h>

/*
** Remote execution (the third executor; src/cluster implements it).  The
** scheduler stays in charge of tasks, windows, averaging, cancellation and
** writing the output; a remote executor only replaces "read the slice + run
** the kernel" by "have a worker do it":
**   begin    once per run, with what a worker needs to rebuild the op with
**            the same validation code (the function name and its complete
**            cfg, the selected trials, the input file and the selected
**            channels); may return an error (no workers, ...).
**   compute  called on one of `pool`'s threads (slot = the thread's index)
**            for one task: fill `out` (rows x inner x nchan of op->out_dtype)
**            and *flags, or fail with the cause.  It may retry elsewhere
**            when a worker dies; it must return SPY_EINTR promptly when
**            spy_interrupted() or *cancel is set.
**   end      once per run, after every compute call has returned.
*/
typedef struct spy_computation {
  const char *fname;       /* "freqanalysis", "preprocessing", "white_noise", ... */
  const cJSON *cfg;        /* its complete, validated cfg */
  const spy_trials *trials;/* the selected trials, as the plan saw them (NULL: generator) */
  const char *input;       /* HDF5 file of the input, or NULL */
  const size_t *row0;      /* per selected trial: first input row */
  const size_t *chans;     /* selected channels (input indices) */
  size_t nchan;
} spy_computation;

typedef struct spy_remote_task {
  size_t trial;            /* index among the selected trials */
  size_t row0, nsamp;      /* input rows */
  size_t c0, nc;           /* channel chunk (among the selected channels) */
  size_t rows;             /* output rows */
  const atomic_int *cancel;
} spy_remote_task;

typedef struct spy_remote {
  void *ctx;
  spy_pool *pool;          /* one thread per worker slot */
  int (*begin)(void *ctx, const spy_op *op, const spy_computation *c, spy_err *err);
  int (*compute)(void *ctx, int slot, const spy_remote_task *t, void *out, unsigned *flags,
                 spy_err *err);
  void (*end)(void *ctx);
} spy_remote;

typedef struct spy_runopts {
  spy_pool *pool;               /* NULL: run inline on the calling thread */
  size_t chan_per_worker;       /* 0: whole trials */
  bool quiet;                   /* no progress bar */
  spy_remote *remote;           /* remote workers (pool ignored), or NULL */
  double worker_memory;         /* bytes a worker may use (memory_limit), 0: unchecked */
  const spy_computation *comp;  /* required with remote */
  size_t stream_bytes;          /* stream tasks moving more (op->stream); 0: SPY_STREAM_BYTES */
  int pipeline;                 /* inline runs' I/O thread: 0 by the first tasks' I/O time,
                                   1 always, -1 never (tests) */
} spy_runopts;

typedef struct spy_runstats {
  size_t ntasks;
  double seconds;
  size_t nflagged;        /* trials with SPY_TASK_HAS_NAN */
  size_t *flagged;        /* their indices in the selection (caller frees) */
} spy_runstats;

/*
** in may be NULL for generators (op reads nothing); sel must then be NULL
** and the op's ntrials/out_rows describe the output.
*/
int spy_run(const spy_op *op, spy_data *in, const spy_selection *sel, spy_data *out,
            const spy_runopts *opts, spy_runstats *stats, spy_err *err);

#endif
