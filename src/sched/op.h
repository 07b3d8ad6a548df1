/*
** The contract between an analysis method and the scheduler
** (ARCHITECTURE invariant 3).
**
** A method's plan function (spy_<method>_plan) validates the cfg against a
** description of the input (spy_trials), precomputes everything that does
** not depend on the trial (tapers, FFT plans, filter kernels, frequency
** indices) and fills a spy_op: a kernel plus the geometry and metadata of
** the output.  The scheduler runs op->kernel once per task (one trial, or one
** trial and one channel chunk) inline, on a pool thread or in a remote
** worker; the kernel is a pure function of (plan, task): it reads task->in,
** writes task->out, uses task->scratch, never allocates in its loops, never
** logs and never touches Lua.  It polls spy_interrupted() between chunks of
** work and returns SPY_EINTR when set.
**
** Ownership: the op owns its plan and every array it points to;
** spy_op_free releases them (and is safe on a zeroed or half-filled op, so a
** plan function can fail at any point and call it).
*/
#ifndef SPY_OP_H
#define SPY_OP_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/array.h"
#include "core/err.h"
#include "data/dataclass.h"

/* What a plan may know about the input: the selected trials. */
typedef struct spy_trials {
  size_t ntrials;
  size_t nchan;          /* channels after selection */
  double samplerate;
  const double *trldef;  /* ntrials x trlcols, row-major: start, stop, offset,
                            trialinfo...  in samples; after a selection the
                            rows are re-based as Syncopy does */
  size_t trlcols;        /* >= 3 */
  spy_dtype dtype;       /* dtype of the stored input */
  bool time_selected;    /* an in-place latency selection cuts the trials */
} spy_trials;

static inline size_t spy_trial_len(const spy_trials *t, size_t k)
{
  return (size_t)(t->trldef[k * t->trlcols + 1] - t->trldef[k * t->trlcols + 0]);
}
static inline double spy_trial_offset(const spy_trials *t, size_t k)
{
  return t->trldef[k * t->trlcols + 2];
}

/* Flags a kernel may raise for its task (reported in the result's .info). */
enum { SPY_TASK_HAS_NAN = 1 << 0 };

/* Set by the scheduler on entry when an op with in_f32 gets its input as
** stored float32 values: task->in then points to nsamp x nchan floats,
** aligned for float only (batched small tasks follow each other in one
** buffer); read it as (const float *)(const void *)task->in.  The kernel
** may leave the flag set. */
enum { SPY_TASK_IN_F32 = 1 << 8 };

typedef struct spy_task {
  size_t trial;       /* index into spy_trials */
  size_t chan0, nchan; /* channel chunk (indices among the selected channels) */
  const double *in;   /* nsamp x nchan, row-major (time x channel); NULL for generators */
  size_t nsamp;
  void *out;          /* rows x inner[0] x ... x nchan, row-major, op->out_dtype */
  size_t rows;        /* op->out_rows[trial] */
  void *scratch;      /* op->scratch_bytes(plan, nsamp, nchan) bytes, SIMD-aligned */
  unsigned flags;     /* out: SPY_TASK_* */
  const float *in32;  /* spy_op.fold only: float32 input read as stored (in is NULL then) */
} spy_task;

/* How a streaming kernel (spy_op.stream) reads and writes its task's data
** in pieces.  Rows count from the start of the task's trial (input rows,
** resp. output rows), channels from the start of its channel chunk.  read
** fills buf with n x nc float64 values; write stores n x inner x nc values
** of op->out_dtype.  Both may be called from any executor thread. */
typedef struct spy_task_io {
  void *ctx;
  int (*read)(void *ctx, size_t row0, size_t n, size_t c0, size_t nc, double *buf, spy_err *err);
  int (*write)(void *ctx, size_t row0, size_t n, size_t c0, size_t nc, const void *buf,
               spy_err *err);
} spy_task_io;

/* Tasks whose input and output buffers would hold more than this many
** bytes stream (see spy_op.stream) unless spy_runopts.stream_bytes says
** otherwise. */
#define SPY_STREAM_BYTES ((size_t)64 << 20)

typedef struct spy_op {
  const char *name; /* method name for messages and logs, e.g. "mtmfft" */
  void *plan;
  int (*kernel)(const void *plan, spy_task *task, spy_err *err);
  size_t (*scratch_bytes)(const void *plan, size_t nsamp, size_t nchan);
  void (*free_plan)(void *plan);
  bool chan_independent; /* channel chunks can be computed separately */

  /* output geometry: axis 0 stacks trials, the last axis is the channel */
  spy_dataclass cls;
  spy_dtype out_dtype;
  int ninner;         /* dims between axis 0 and channel: 2 for SpectralData */
  size_t inner[2];    /* {ntaper, nfreq} for SpectralData */
  size_t ntrials;     /* = input trials */
  size_t out_nchan;   /* ops without input (generators): output channels; 0 = the input's */
  size_t *out_rows;   /* per input trial: rows along axis 0 */
  bool average;       /* keeptrials=false: one output trial, the trial mean */

  /* Custom reduction over trials (average mode only; tasks are whole trials).
  ** With acc_elems > 0 each kernel call writes acc_elems doubles into
  ** task->out (layout the op's own), the scheduler sums these blocks in trial
  ** order in double (identical for any executor and worker count), and then
  ** finalize turns the sum over ntrials trials into the output block
  ** (out_rows[0] x inner x nchan elements of out_dtype).  Without finalize the
  ** output is the mean: sum / ntrials (acc_elems must then be 0). */
  size_t acc_elems;
  int (*finalize)(const void *plan, const double *acc, size_t ntrials, void *out, spy_err *err);
  /* Optional, with acc_elems: adds one trial's input (task->in) into acc
  ** directly and leaves acc exactly as the kernel's block summed into it
  ** would.  The inline and pool executors call it in trial order instead
  ** of kernel and sum (no block written and read back: one pass over the
  ** input); remote workers run the kernel, so the numbers agree.  Input
  ** stored as float32 comes as such (task->in32), not widened. */
  void (*fold)(const void *plan, double *acc, const spy_task *task);
  /* After a successful run (and finalize): the result's metadata, Syncopy's
  ** out.metadata (e.g. FOOOF's fitted parameters), a new JSON object the
  ** caller owns; NULL only when out of memory.  May be NULL: no metadata. */
  cJSON *(*metadata)(const void *plan);
  /* The kernels leave per-trial results in the plan (for metadata): the op
  ** runs inline or on threads only; remote workers refuse it. */
  bool in_process;
  /* The kernel also takes float32 input as it is stored (SPY_TASK_IN_F32):
  ** the inline and thread executors then read float32 input without
  ** widening it to float64 (half the bytes, one pass less over memory).
  ** Remote workers and streamed tasks always hand over float64. */
  bool in_f32;

  /* Long trials (optional).  A task whose float64 input and output
  ** buffers would exceed the run's stream limit (SPY_STREAM_BYTES) runs
  ** `stream` instead of `kernel`: task->in and task->out are NULL, and the
  ** kernel reads its input and writes its output through `io` in pieces of
  ** its choosing, holding only stream_scratch(plan, nsamp, nchan) bytes
  ** (task->scratch).  Inline and thread executors; remote workers and
  ** average mode always run `kernel`.  Results must equal the kernel's. */
  int (*stream)(const void *plan, spy_task *task, const spy_task_io *io, spy_err *err);
  size_t (*stream_scratch)(const void *plan, size_t nsamp, size_t nchan);

  /* output metadata */
  double samplerate;
  double *out_trldef; /* (average ? 1 : ntrials) x out_trlcols */
  size_t out_trlcols;
  double *freq;       /* nfreq values (SpectralData) */
  size_t nfreq;
  char **taper;       /* ntaper labels (SpectralData) */
  size_t ntaper;
  char *log;          /* history entry: "computed <cF> with settings\n\t<k> = <v>\n..." */
  cJSON *info;        /* entries merged into the result's .info, may be NULL */
} spy_op;

void spy_op_free(spy_op *op);

/* Convenience for plans: allocate and fill op->taper from a list. */
int spy_op_set_tapers(spy_op *op, const char *const *labels, size_t n);

/* Number of elements of one output row (product of inner dims) per channel. */
size_t spy_op_row_elems(const spy_op *op);

/* The block one task produces and a remote worker ships: rows x inner x nc
** of out_dtype, or, with a custom reduction, acc_elems float64 values.
** spy_op_task_shape fills shape and returns the number of dimensions. */
spy_dtype spy_op_task_dtype(const spy_op *op);
int spy_op_task_shape(const spy_op *op, size_t rows, size_t nc, size_t shape[4]);
size_t spy_op_task_bytes(const spy_op *op, size_t rows, size_t nc);

#endif
