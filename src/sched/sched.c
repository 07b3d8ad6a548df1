#include "sched/sched.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/interrupt.h"
#include "core/progress.h"
#include "dash/events.h"
#include "dsp/fft.h"

typedef struct task {
  size_t sel;          /* index into the selection (trial) */
  size_t c0, nc;       /* channel chunk */
  int status;          /* SPY_OK, error, or 1 = not run (cancelled) */
  unsigned flags;
  spy_err *err;        /* the cause, allocated only when the task fails */
  void *result;        /* average mode: a copy of the kernel output */
  uint64_t ev;         /* dashboard record (dash/events.h) */
} task;

/* A worker's buffers, allocated on its first task and grown only when a
** task needs more (idle workers hold none), and its error text. */
typedef struct buffers {
  double *in;
  void *out;
  void *scratch;
  size_t incap, outcap, scratchcap;
  spy_err err;
} buffers;

typedef struct run {
  const spy_op *op;
  spy_data *in, *out;
  const spy_selection *sel;
  size_t nchan;
  const size_t *chans;
  size_t *outrow0;     /* first output row of each trial */
  size_t rowelems;     /* elements per output row per channel */
  size_t es;           /* output element size */
  buffers *buf;        /* one per worker */
  spy_remote *remote;
  size_t inbytes, outbytes, scratchbytes;
  size_t stream_bytes; /* tasks moving more stream (op->stream) */
  bool any_stream;
  bool fold;           /* average with op->fold (not remote): trials go into acc directly */

  pthread_mutex_t lock;
  pthread_cond_t cond;
  atomic_int cancel;
  /* pool executor: workers claim tasks themselves (see run_pool) */
  task *tasks;
  size_t ntasks, next, frontier, window, active;
  bool reducing; /* a runner is adding the tasks at the frontier into acc (outside lock) */
  /* fold on a pool: trial buffers of foldbytes each, reused once folded
  ** (at most `window` are live; a fresh trial-sized malloc is an mmap whose
  ** pages fault in again for every trial) */
  size_t foldbytes, nspare;
  void **spare;
  bool *isdone;
  double *acc;
  task *failed;
  atomic_size_t ndone;
  int ev_worker;       /* dashboard id of worker 0 (0: tasks not recorded; remote: the cluster's) */
} run;

static size_t trial_nsamp(const run *r, size_t k)
{
  return r->sel ? r->sel->nrows[k] : 0;
}

/* Whether tasks read the input as stored float32 (op->in_f32): no widened
** float64 copy of each trial; the kernel converts while it gathers. */
static bool raw_f32(const run *r)
{
  return r->op->in_f32 && r->in && !r->remote && r->in->dtype == SPY_DT_F32;
}

/* Folds take float32 input as stored (spy_op.fold). */
static bool fold_f32(const run *r)
{
  return r->fold && r->in->dtype == SPY_DT_F32;
}

static spy_dtype in_type(const run *r)
{
  return raw_f32(r) || fold_f32(r) ? SPY_DT_F32 : SPY_DT_F64;
}
static size_t in_es(const run *r) { return raw_f32(r) || fold_f32(r) ? sizeof(float) : sizeof(double); }

static int alloc_buffers(run *r, int nworkers, spy_err *err)
{
  r->buf = calloc((size_t)nworkers, sizeof *r->buf);
  if (!r->buf) return spy_fail(err, SPY_ENOMEM, "out of memory");
  return SPY_OK;
}

/*
** Buffers of finished runs, kept for the next one: a fresh allocation of a
** few MB costs a page fault per 4 KB page on first touch (12% of a short
** mtmconvol call), a kept one only its zeroing.  Blocks of at most
** KEEP_BYTES, at most KEEP_BLOCKS of them (so at most 16 MB are held between
** runs); a run's buffers are zeroed whether fresh or kept, as before.
*/
#define KEEP_BLOCKS 8
#define KEEP_BYTES ((size_t)2 << 20)
static pthread_mutex_t keep_lock = PTHREAD_MUTEX_INITIALIZER;
static struct { void *p; size_t cap; } kept[KEEP_BLOCKS];

static void *take(size_t n, size_t *cap)
{
  size_t best = KEEP_BLOCKS;
  pthread_mutex_lock(&keep_lock);
  for (size_t i = 0; i < KEEP_BLOCKS; i++)
    if (kept[i].p && kept[i].cap >= n && (best == KEEP_BLOCKS || kept[i].cap < kept[best].cap))
      best = i;
  void *p = NULL;
  if (best < KEEP_BLOCKS) {
    p = kept[best].p;
    *cap = kept[best].cap;
    kept[best].p = NULL;
  }
  pthread_mutex_unlock(&keep_lock);
  if (p) memset(p, 0, *cap);
  return p;
}

static void give(void *p, size_t cap)
{
  if (!p) return;
  if (cap <= KEEP_BYTES) {
    pthread_mutex_lock(&keep_lock);
    for (size_t i = 0; i < KEEP_BLOCKS; i++)
      if (!kept[i].p) {
        kept[i].p = p;
        kept[i].cap = cap;
        p = NULL;
        break;
      }
    pthread_mutex_unlock(&keep_lock);
  }
  spy_fft_free(p);
}

/* Grows *p to at least n bytes (contents not kept; zeroed). */
static bool grow(void **p, size_t *cap, size_t n)
{
  if (n <= *cap) return true;
  give(*p, *cap);
  *p = NULL;
  *cap = 0;
  if (n <= KEEP_BYTES && (*p = take(n, cap))) return true;
  if (!(*p = spy_fft_alloc(n))) return false;
  *cap = n;
  return true;
}

/* Whether task t streams: op->stream reads and writes it in pieces,
** because its whole input and output would take more than stream_bytes. */
static bool streamed(const run *r, const task *t)
{
  const spy_op *op = r->op;
  if (!op->stream || r->remote || op->average || !r->in) return false;
  size_t inb = trial_nsamp(r, t->sel) * t->nc * sizeof(double);
  size_t outb = op->out_rows[t->sel] * r->rowelems * t->nc * r->es;
  return inb + outb > r->stream_bytes;
}

/* Makes b hold the buffers task t needs among `which` (BUF_* bits). */
enum { BUF_IN = 1, BUF_OUT = 2, BUF_SCRATCH = 4, BUF_ALL = 7 };
static int task_buffers(run *r, const task *t, buffers *b, int which, spy_err *e)
{
  const spy_op *op = r->op;
  size_t k = t->sel, nsamp = trial_nsamp(r, k);
  size_t inb = which & BUF_IN && r->inbytes ? nsamp * t->nc * in_es(r) : 0;
  size_t outb = !(which & BUF_OUT) ? 0
                : op->acc_elems    ? spy_op_task_bytes(op, op->out_rows[k], t->nc)
                                   : op->out_rows[k] * r->rowelems * t->nc * r->es;
  size_t scb = which & BUF_SCRATCH && r->scratchbytes ? op->scratch_bytes(op->plan, nsamp, t->nc)
                                                       : 0;
  if (streamed(r, t)) {
    inb = outb = 0;
    scb = which & BUF_SCRATCH ? op->stream_scratch(op->plan, nsamp, t->nc) : 0;
  }
  /* a buffer the run has is never NULL, even for an empty task */
  if (!grow((void **)&b->in, &b->incap, which & BUF_IN && r->inbytes && !inb ? 1 : inb) ||
      !grow(&b->out, &b->outcap, which & BUF_OUT && !outb ? 1 : outb) ||
      !grow(&b->scratch, &b->scratchcap, which & BUF_SCRATCH && r->scratchbytes && !scb ? 1 : scb))
    return spy_fail(e, SPY_ENOMEM, "cannot allocate %.1f MB of per-task buffers",
                    (double)(inb + outb + scb) / 1e6);
  return SPY_OK;
}

/* Keeps the cause of a failed task (status st, text in e) with the task. */
static int keep_err(task *t, int st, const spy_err *e)
{
  if (st == SPY_OK || st == 1 || t->err) return st;
  if ((t->err = malloc(sizeof *t->err))) {
    t->err->code = e->code;
    snprintf(t->err->msg, sizeof t->err->msg, "%s", e->msg);
  }
  return st;
}

static void free_buffers(run *r, int nworkers)
{
  if (!r->buf) return;
  for (int w = 0; w < nworkers; w++) {
    give(r->buf[w].in, r->buf[w].incap);
    give(r->buf[w].out, r->buf[w].outcap);
    give(r->buf[w].scratch, r->buf[w].scratchcap);
  }
  free(r->buf);
}

/* Average mode: acc += result (float32/complex64 -> double, or the doubles
** of a custom reduction). */
static void accumulate(run *r, double *acc, const task *t)
{
  if (r->op->acc_elems) {
    const double *p = t->result;
    for (size_t i = 0; i < r->op->acc_elems; i++) acc[i] += p[i];
    return;
  }
  size_t rows = r->op->out_rows[t->sel], nch = r->nchan, re = r->rowelems;
  bool cplx = spy_dtype_is_complex(r->op->out_dtype);
  for (size_t i = 0; i < rows * re; i++)
    for (size_t c = 0; c < t->nc; c++) {
      size_t src = i * t->nc + c, dst = i * nch + t->c0 + c;
      if (cplx) {
        const float *p = (const float *)t->result + 2 * src;
        acc[2 * dst] += p[0];
        acc[2 * dst + 1] += p[1];
      } else {
        acc[dst] += ((const float *)t->result)[src];
      }
    }
}

/* The three stages of a task.  Pool workers run them back to back; the
** inline executor pipelines them (reads ahead and writes behind on an I/O
** thread while the calling thread computes).  Each returns the status and
** fills t->err. */

static int stage_read(run *r, task *t, double *in, spy_err *e)
{
  size_t k = t->sel;
  if (!r->in || r->remote || streamed(r, t)) return SPY_OK;
  return spy_data_read(r->in, r->sel->row0[k], trial_nsamp(r, k), r->chans + t->c0, t->nc, in,
                       in_type(r), e);
}

/* A streamed task's pieces: rows relative to its trial, channels to its
** chunk. */
typedef struct stream_ctx {
  run *r;
  const task *t;
} stream_ctx;

static int stream_read(void *ctx, size_t row0, size_t n, size_t c0, size_t nc, double *buf,
                       spy_err *e)
{
  const stream_ctx *s = ctx;
  const run *r = s->r;
  size_t k = s->t->sel;
  if (row0 + n > trial_nsamp(r, k) || c0 + nc > s->t->nc)
    return spy_fail(e, SPY_EINVAL, "%s: read beyond its task", r->op->name);
  return spy_data_read(r->in, r->sel->row0[k] + row0, n, r->chans + s->t->c0 + c0, nc, buf,
                       SPY_DT_F64, e);
}

static int stream_write(void *ctx, size_t row0, size_t n, size_t c0, size_t nc, const void *buf,
                        spy_err *e)
{
  const stream_ctx *s = ctx;
  const run *r = s->r;
  size_t k = s->t->sel;
  if (row0 + n > r->op->out_rows[k] || c0 + nc > s->t->nc)
    return spy_fail(e, SPY_EINVAL, "%s: write beyond its task", r->op->name);
  return spy_data_write(r->out, r->outrow0[k] + row0, n, s->t->c0 + c0, nc, buf,
                        r->op->out_dtype, e);
}

static int stream_compute(run *r, task *t, void *scratch, spy_err *e)
{
  stream_ctx ctx = {r, t};
  spy_task_io io = {&ctx, stream_read, stream_write};
  spy_task kt = {0};
  kt.trial = t->sel;
  kt.chan0 = t->c0;
  kt.nchan = t->nc;
  kt.nsamp = trial_nsamp(r, t->sel);
  kt.rows = r->op->out_rows[t->sel];
  kt.scratch = scratch;
  int rc = r->op->stream(r->op->plan, &kt, &io, e);
  t->flags = kt.flags;
  return rc;
}

static int stage_compute(run *r, task *t, const double *in, void *out, void *scratch, int w,
                         spy_err *e)
{
  const spy_op *op = r->op;
  size_t k = t->sel, nsamp = trial_nsamp(r, k);
  if (atomic_load(&r->cancel)) return 1;
  if (spy_interrupted()) return spy_fail(e, SPY_EINTR, "interrupted");
  if (r->remote) {
    spy_remote_task rt = {k, r->sel ? r->sel->row0[k] : 0, nsamp, t->c0, t->nc, op->out_rows[k],
                          &r->cancel};
    return r->remote->compute(r->remote->ctx, w, &rt, out, &t->flags, e);
  }
  if (streamed(r, t)) return stream_compute(r, t, scratch, e);
  spy_task kt = {0};
  kt.trial = k;
  kt.chan0 = t->c0;
  kt.nchan = t->nc;
  kt.in = in;
  kt.nsamp = nsamp;
  kt.out = out;
  kt.rows = op->out_rows[k];
  kt.scratch = scratch;
  kt.flags = raw_f32(r) ? SPY_TASK_IN_F32 : 0;
  int rc = op->kernel(op->plan, &kt, e);
  t->flags = kt.flags & ~(unsigned)SPY_TASK_IN_F32;
  return rc;
}

/* Average mode with op->fold: the trial's input goes into acc directly, in
** trial order (inline as it is read; on a pool by the runner that moves the
** reduction frontier). */
static void fold_into(run *r, task *t, const double *in, double *acc)
{
  spy_task kt = {0};
  kt.trial = t->sel;
  kt.chan0 = t->c0;
  kt.nchan = t->nc;
  if (fold_f32(r))
    kt.in32 = (const float *)in;
  else
    kt.in = in;
  kt.nsamp = trial_nsamp(r, t->sel);
  r->op->fold(r->op->plan, acc, &kt);
}

static int stage_fold(run *r, task *t, const double *in, double *acc, spy_err *e)
{
  if (spy_interrupted()) return spy_fail(e, SPY_EINTR, "interrupted");
  fold_into(r, t, in, acc);
  return SPY_OK;
}

/* Writes the task's block into the output (not in average mode; a
** streamed task has written its own). */
static int stage_write(run *r, task *t, const void *out, spy_err *e)
{
  if (streamed(r, t)) return SPY_OK;
  return spy_data_write(r->out, r->outrow0[t->sel], r->op->out_rows[t->sel], t->c0, t->nc, out,
                        r->op->out_dtype, e);
}

static void ev_begin(run *r, task *t, int w)
{
  if (r->ev_worker) t->ev = spy_ev_task_begin(r->ev_worker + w, t->sel, t->c0, t->nc, r->nchan);
}

/* Pool worker w: read -> compute -> write, or keep a copy for the in-order
** reduction in average mode. */
static void execute(run *r, task *t, int w)
{
  buffers *b = &r->buf[w];
  if (atomic_load(&r->cancel)) {
    t->status = 1;
    return;
  }
  spy_err *e = &b->err;
  ev_begin(r, t, w);
  if (r->fold) { /* the input itself waits for its turn (runner) */
    pthread_mutex_lock(&r->lock);
    t->result = r->nspare ? r->spare[--r->nspare] : NULL;
    pthread_mutex_unlock(&r->lock);
    if (!t->result) t->result = malloc(r->foldbytes ? r->foldbytes : 1);
    if (!t->result)
      t->status = keep_err(t, spy_fail(e, SPY_ENOMEM, "out of memory"), e);
    else
      t->status = keep_err(t, stage_read(r, t, t->result, e), e);
    return;
  }
  if ((t->status = task_buffers(r, t, b, BUF_ALL, e)) ||
      (t->status = stage_read(r, t, b->in, e)) ||
      (t->status = stage_compute(r, t, b->in, b->out, b->scratch, w, e))) {
    keep_err(t, t->status, e);
    return;
  }
  if (r->op->average) {
    size_t nbytes = spy_op_task_bytes(r->op, r->op->out_rows[t->sel], t->nc);
    t->result = malloc(nbytes ? nbytes : 1);
    if (!t->result) {
      t->status = keep_err(t, spy_fail(e, SPY_ENOMEM, "out of memory"), e);
      return;
    }
    memcpy(t->result, b->out, nbytes);
  } else {
    t->status = keep_err(t, stage_write(r, t, b->out, e), e);
  }
}

/* ---- the inline executor: compute here, I/O on a helper thread ------------ */

/* Tasks moving less than this (input + output buffers) run without the I/O
** thread: two hand-offs per task (~10-40 us) would cost more than they hide. */
#define PIPELINE_MIN_BYTES (256 * 1024)

typedef struct iojob {
  run *r;
  task *t;
  void *buf;
  int kind;        /* 0 read, 1 write */
  int status;
  bool done;
  spy_err err;
} iojob;

static void io_run(void *arg, int w)
{
  (void)w;
  iojob *j = arg;
  int st = j->kind == 0 ? stage_read(j->r, j->t, j->buf, &j->err)
                        : stage_write(j->r, j->t, j->buf, &j->err);
  keep_err(j->t, st, &j->err);
  pthread_mutex_lock(&j->r->lock);
  j->status = st;
  j->done = true;
  pthread_cond_broadcast(&j->r->cond);
  pthread_mutex_unlock(&j->r->lock);
}

static int io_wait(iojob *j)
{
  pthread_mutex_lock(&j->r->lock);
  while (!j->done) pthread_cond_wait(&j->r->cond, &j->r->lock);
  pthread_mutex_unlock(&j->r->lock);
  return j->status;
}

static void io_submit(spy_pool *io, iojob *j, run *r, task *t, void *buf, int kind)
{
  j->r = r;
  j->t = t;
  j->buf = buf;
  j->kind = kind;
  j->status = SPY_OK;
  j->done = false;
  if (spy_pool_submit(io, io_run, j) != SPY_OK) io_run(j, 0); /* no memory: do it here */
}

/* Small tasks, in batches: consecutive tasks over every channel whose input
** rows follow each other are read with one HDF5 call, and their outputs
** (consecutive rows of the result) written with one, up to BATCH_BYTES of
** input and output together.  Each HDF5 call costs ~20 us besides its
** bytes, as much as a small task's kernel.  Averages are reduced per task
** as before (no output is written). */
#define BATCH_BYTES ((size_t)1 << 20)

static size_t in_bytes(const run *r, const task *t)
{
  return r->in && !r->remote ? trial_nsamp(r, t->sel) * t->nc * in_es(r) : 0;
}

static size_t out_bytes(const run *r, const task *t)
{
  return r->op->out_rows[t->sel] * r->rowelems * t->nc * r->es;
}

/* May task b join the batch that ends with task a? */
static bool joins(const run *r, const task *a, const task *b)
{
  if (r->op->average || r->op->acc_elems || a->nc != r->nchan || b->nc != r->nchan ||
      b->sel != a->sel + 1 || streamed(r, a) || streamed(r, b))
    return false;
  if (!r->in || r->remote) return true;
  return r->sel->row0[b->sel] == r->sel->row0[a->sel] + trial_nsamp(r, a->sel);
}

static double thread_cpu(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The calling thread's CPU since c0 (io_start), added to *io (io NULL: not timed) */
static void io_add(double *io, double c0)
{
  if (io) *io += thread_cpu() - c0;
}
static double io_start(const double *io) { return io ? thread_cpu() : 0; }

/* io: when not NULL, the calling thread's CPU seconds in reads and writes are
** added to it */
static task *run_small(run *r, task *tasks, size_t ntasks, size_t base, double *acc, bool quiet,
                       double *io)
{
  buffers *b = &r->buf[0];
  spy_err *e = &b->err;
  for (size_t i = 0, j; i < ntasks; i = j) {
    size_t inb = in_bytes(r, &tasks[i]), outb = out_bytes(r, &tasks[i]);
    for (j = i + 1; j < ntasks && joins(r, &tasks[j - 1], &tasks[j]) &&
                    inb + outb + in_bytes(r, &tasks[j]) + out_bytes(r, &tasks[j]) <= BATCH_BYTES;
         j++)
      inb += in_bytes(r, &tasks[j]), outb += out_bytes(r, &tasks[j]);
    task *t = &tasks[i];
    if (j - i == 1) { /* one task: its own buffers (average mode, channel chunks) */
      ev_begin(r, t, 0);
      bool fold = r->fold;
      if (!(t->status = task_buffers(r, t, b, fold ? BUF_IN : BUF_ALL, e))) {
        double c0 = io_start(io);
        t->status = stage_read(r, t, b->in, e);
        io_add(io, c0);
      }
      if (!t->status)
        t->status = fold ? stage_fold(r, t, b->in, acc, e)
                         : stage_compute(r, t, b->in, b->out, b->scratch, 0, e);
      if (t->status) {
        keep_err(t, t->status, e);
        spy_ev_task_end(t->ev, t->status);
        return t;
      }
      if (r->op->average) {
        t->result = b->out;
        if (!fold) accumulate(r, acc, t);
        t->result = NULL;
      } else {
        double c0 = io_start(io);
        t->status = keep_err(t, stage_write(r, t, b->out, e), e);
        io_add(io, c0);
        if (t->status) {
          spy_ev_task_end(t->ev, t->status);
          return t;
        }
      }
      spy_ev_task_end(t->ev, SPY_OK);
      spy_ev_comp_progress(base + i + 1);
      if (!quiet) spy_progress_update(base + i + 1);
      continue;
    }
    size_t rows = 0, outrows = 0;
    for (size_t q = i; q < j; q++) rows += trial_nsamp(r, tasks[q].sel), outrows += r->op->out_rows[tasks[q].sel];
    if (!grow((void **)&b->in, &b->incap, inb ? inb : 1) || !grow(&b->out, &b->outcap, outb ? outb : 1)) {
      t->status = keep_err(t, spy_fail(e, SPY_ENOMEM, "cannot allocate %.1f MB of per-task buffers",
                                       (double)(inb + outb) / 1e6), e);
      return t;
    }
    double c0 = io_start(io);
    if (inb && (t->status = keep_err(t, spy_data_read(r->in, r->sel->row0[t->sel], rows, r->chans,
                                                      r->nchan, b->in, in_type(r), e), e)))
      return t;
    io_add(io, c0);
    size_t ioff = 0, ooff = 0;
    for (size_t q = i; q < j; q++) {
      task *u = &tasks[q];
      ev_begin(r, u, 0);
      if ((u->status = task_buffers(r, u, b, BUF_SCRATCH, e)) ||
          (u->status = stage_compute(r, u, (const double *)((char *)b->in + ioff),
                                     (char *)b->out + ooff, b->scratch, 0, e))) {
        keep_err(u, u->status, e);
        spy_ev_task_end(u->ev, u->status);
        return u;
      }
      spy_ev_task_end(u->ev, SPY_OK);
      ioff += in_bytes(r, u);
      ooff += out_bytes(r, u);
    }
    c0 = io_start(io);
    if ((t->status = keep_err(t, spy_data_write(r->out, r->outrow0[t->sel], outrows, 0, r->nchan,
                                                b->out, r->op->out_dtype, e), e)))
      return t;
    io_add(io, c0);
    spy_ev_comp_progress(base + j);
    if (!quiet) spy_progress_update(base + j);
  }
  return NULL;
}

/*
** Runs the tasks in order on the calling thread with two input and two
** output buffers: read(i+1) and write(i-1) run on the I/O thread while
** compute(i) runs here.  Returns the failed task or NULL.
*/
static task *run_pipelined(run *r, task *tasks, size_t ntasks, size_t base, double *acc, bool quiet,
                           int *rc, spy_err *err)
{
  buffers *b = r->buf; /* two sets: b[0], b[1] */
  spy_err *e = &b[0].err;
  spy_pool *io = spy_pool_new(1, err);
  if (!io) {
    *rc = err->code;
    return NULL;
  }
  iojob rd[2], wr[2];
  bool wpending[2] = {false, false};
  task *failed = NULL;
  if ((tasks[0].status = keep_err(&tasks[0], task_buffers(r, &tasks[0], &b[0], BUF_IN, e), e))) {
    spy_pool_free(io);
    return &tasks[0];
  }
  io_submit(io, &rd[0], r, &tasks[0], b[0].in, 0);
  for (size_t i = 0; i < ntasks; i++) {
    task *t = &tasks[i];
    int s = i & 1;
    t->status = io_wait(&rd[s]);
    if (t->status) {
      failed = t;
      break;
    }
    if (i + 1 < ntasks) { /* b[!s].in was last used by compute(i-1) */
      if ((tasks[i + 1].status = keep_err(
               &tasks[i + 1], task_buffers(r, &tasks[i + 1], &b[!s], BUF_IN, e), e))) {
        failed = &tasks[i + 1];
        break;
      }
      io_submit(io, &rd[!s], r, &tasks[i + 1], b[!s].in, 0);
    }
    if (wpending[s]) { /* write(i-2) used out[s] */
      wpending[s] = false;
      if ((tasks[i - 2].status = io_wait(&wr[s]))) {
        failed = &tasks[i - 2];
        break;
      }
    }
    ev_begin(r, t, 0);
    if ((t->status = task_buffers(r, t, &b[s], BUF_OUT, e)) ||
        (t->status = task_buffers(r, t, &b[0], BUF_SCRATCH, e)) ||
        (t->status = stage_compute(r, t, b[s].in, b[s].out, b[0].scratch, 0, e)))
      keep_err(t, t->status, e);
    spy_ev_task_end(t->ev, t->status);
    if (t->status) {
      failed = t;
      break;
    }
    if (r->op->average) {
      t->result = b[s].out;
      accumulate(r, acc, t);
      t->result = NULL;
    } else {
      io_submit(io, &wr[s], r, t, b[s].out, 1);
      wpending[s] = true;
    }
    spy_ev_comp_progress(base + i + 1);
    if (!quiet) spy_progress_update(base + i + 1);
  }
  for (int s = 0; s < 2; s++)
    if (wpending[s]) {
      int st = io_wait(&wr[s]);
      if (st && !failed) {
        failed = wr[s].t;
        failed->status = st;
      }
    }
  spy_pool_free(io); /* waits for a pending read-ahead */
  return failed;
}

/* The I/O thread pays when it takes more off the calling thread than the two
** hand-offs per task cost it (a futex wake-up each way, and in a VM the
** wake-up of an idle virtual CPU: ~50 us of CPU per task in all, measured on
** case a).  So the first tasks run without it, in batches, with the calling
** thread's CPU in their reads and writes timed, and the rest are pipelined
** only when that was at least PIPELINE_MIN_IO_S per task: case a's 500
** tasks (~25 us of I/O each) ran 15% faster without the I/O thread and
** without its slow runs, firws and Butterworth (~0.1 ms of I/O per task)
** faster with it.  Which way a task runs changes no number. */
#define PIPELINE_MIN_IO_S 60e-6
#define PIPELINE_PROBE 4

static task *run_inline(run *r, task *tasks, size_t ntasks, double *acc, bool quiet, int pipeline,
                        int *rc, spy_err *err)
{
  if (r->inbytes + r->outbytes < PIPELINE_MIN_BYTES || ntasks < 2 || r->any_stream || r->fold ||
      pipeline < 0) /* nothing to overlap (streamed tasks do their own I/O; a fold is cheaper
                       than the hand-offs), or told so */
    return run_small(r, tasks, ntasks, 0, acc, quiet, NULL);
  if (pipeline > 0 || ntasks < 4 * PIPELINE_PROBE)
    return run_pipelined(r, tasks, ntasks, 0, acc, quiet, rc, err);
  /* the first task pays the buffers' first touch: timed are the next ones */
  task *failed = run_small(r, tasks, 1, 0, acc, quiet, NULL);
  if (failed) return failed;
  size_t k = 1 + PIPELINE_PROBE;
  double io = 0;
  if ((failed = run_small(r, tasks + 1, PIPELINE_PROBE, 1, acc, quiet, &io))) return failed;
  if (io / PIPELINE_PROBE < PIPELINE_MIN_IO_S)
    return run_small(r, tasks + k, ntasks - k, k, acc, quiet, NULL);
  return run_pipelined(r, tasks + k, ntasks - k, k, acc, quiet, rc, err);
}

/*
** The pool executor.  Each pool thread runs one runner that claims tasks in
** order (next) until none is left or the run is cancelled, so the calling
** thread neither hands out tasks nor wakes per task: with two workers on
** two cores, a third thread woken after every task preempted a worker.  In
** average mode the runner that completes the task at the reduction
** frontier adds the finished results into acc strictly in trial order
** (under the lock: the numbers are those of any worker count), and no task
** is claimed more than `window` ahead of the frontier, so buffered results
** stay bounded.  The calling thread sleeps until the last runner is done,
** waking every 50 ms for the progress bar and Ctrl-C.
*/
static void runner(void *arg, int w)
{
  run *r = arg;
  pthread_mutex_lock(&r->lock);
  for (;;) {
    while (!atomic_load(&r->cancel) && r->next < r->ntasks && r->op->average &&
           r->next >= r->frontier + r->window)
      pthread_cond_wait(&r->cond, &r->lock);
    if (atomic_load(&r->cancel) || r->next >= r->ntasks) break;
    task *t = &r->tasks[r->next++];
    pthread_mutex_unlock(&r->lock);
    execute(r, t, w);
    spy_ev_task_end(t->ev, t->status);
    pthread_mutex_lock(&r->lock);
    r->isdone[t - r->tasks] = true;
    atomic_fetch_add(&r->ndone, 1);
    if (t->status && t->status != 1 && !r->failed) {
      r->failed = t;
      atomic_store(&r->cancel, 1);
    }
    /* One runner at a time reduces the finished tasks at the frontier, in
    ** trial order, outside the lock: the others go on reading and
    ** computing meanwhile, and it looks again before it lets go. */
    bool moved = false;
    while (r->op->average && !r->failed && !r->reducing && r->frontier < r->ntasks &&
           r->isdone[r->frontier]) {
      size_t f0 = r->frontier, f1 = f0;
      while (f1 < r->ntasks && r->isdone[f1]) f1++;
      r->reducing = true;
      pthread_mutex_unlock(&r->lock);
      for (size_t q = f0; q < f1; q++) {
        task *f = &r->tasks[q];
        if (f->status == SPY_OK && r->fold)
          fold_into(r, f, f->result, r->acc);
        else if (f->status == SPY_OK)
          accumulate(r, r->acc, f);
        if (!r->fold) {
          free(f->result);
          f->result = NULL;
        }
      }
      pthread_mutex_lock(&r->lock);
      for (size_t q = f0; q < f1 && r->fold; q++) { /* buffers back for the next trials */
        task *f = &r->tasks[q];
        if (f->result && r->nspare < r->window)
          r->spare[r->nspare++] = f->result;
        else
          free(f->result);
        f->result = NULL;
      }
      r->frontier = f1;
      r->reducing = false;
      moved = true;
    }
    if (moved || r->failed) pthread_cond_broadcast(&r->cond);
  }
  if (--r->active == 0) pthread_cond_broadcast(&r->cond);
  pthread_mutex_unlock(&r->lock);
}

/* Runs the tasks on the pool; returns the failed task or NULL, *rc set when
** the runners could not be started. */
static task *run_pool(run *r, spy_pool *pool, int nworkers, bool quiet, int *rc, spy_err *err)
{
  size_t nrun = r->ntasks < (size_t)nworkers ? r->ntasks : (size_t)nworkers;
  r->window = 2 * (size_t)nworkers + 2;
  r->foldbytes = r->nspare = 0;
  for (size_t i = 0; r->fold && i < r->ntasks; i++) {
    size_t nb = trial_nsamp(r, r->tasks[i].sel) * r->tasks[i].nc * in_es(r);
    if (nb > r->foldbytes) r->foldbytes = nb;
  }
  if (!(r->isdone = calloc(r->ntasks ? r->ntasks : 1, sizeof *r->isdone)) ||
      !(r->spare = calloc(r->window, sizeof *r->spare))) {
    free(r->isdone);
    r->isdone = NULL;
    *rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    return NULL;
  }
  pthread_mutex_lock(&r->lock);
  for (size_t i = 0; i < nrun; i++) {
    if (spy_pool_submit(pool, runner, r) != SPY_OK) {
      *rc = spy_fail(err, SPY_ENOMEM, "out of memory");
      atomic_store(&r->cancel, 1);
      pthread_cond_broadcast(&r->cond);
      break;
    }
    r->active++;
  }
  while (r->active > 0) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 50 * 1000 * 1000;
    if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
    pthread_cond_timedwait(&r->cond, &r->lock, &ts);
    if (spy_interrupted() && !atomic_load(&r->cancel)) {
      atomic_store(&r->cancel, 1);
      pthread_cond_broadcast(&r->cond);
    }
    size_t nd = atomic_load(&r->ndone);
    pthread_mutex_unlock(&r->lock);
    spy_ev_comp_progress(nd);
    if (!quiet) spy_progress_update(nd);
    pthread_mutex_lock(&r->lock);
  }
  task *failed = r->failed;
  pthread_mutex_unlock(&r->lock);
  spy_ev_comp_progress(atomic_load(&r->ndone));
  if (!quiet) spy_progress_update(atomic_load(&r->ndone));
  free(r->isdone);
  r->isdone = NULL;
  while (r->nspare) free(r->spare[--r->nspare]);
  free(r->spare);
  r->spare = NULL;
  return failed;
}

static void task_context(const run *r, const task *t, spy_err *err)
{
  if (t->status == SPY_EINTR) return;
  if (r->nchan > t->nc)
    spy_err_prefix(err, "%s failed in trial %zu, channels %zu-%zu", r->op->name, t->sel + 1,
                   t->c0 + 1, t->c0 + t->nc);
  else
    spy_err_prefix(err, "%s failed in trial %zu", r->op->name, t->sel + 1);
}

int spy_run(const spy_op *op, spy_data *in, const spy_selection *sel, spy_data *out,
            const spy_runopts *opts, spy_runstats *stats, spy_err *err)
{
  spy_runopts dflt = {0};
  if (!opts) opts = &dflt;
  run r = {0};
  spy_pool *pool = opts->remote ? opts->remote->pool : opts->pool;
  int rc = SPY_OK, nworkers = pool ? spy_pool_size(pool) : 1;
  int nbuf = pool ? nworkers : 2; /* inline: double-buffered I/O */
  bool began = false, evbegun = false;
  size_t ntr = op->ntrials, *allch = NULL, ntasks = 0;
  task *tasks = NULL;
  double *acc = NULL;
  size_t *flagged = NULL, nflagged = 0;
  double t0 = spy_now();
  memset(stats, 0, sizeof *stats);

  r.op = op;
  r.in = in;
  r.out = out;
  r.sel = sel;
  r.es = spy_dtype_size(op->out_dtype);
  r.rowelems = spy_op_row_elems(op);
  pthread_mutex_init(&r.lock, NULL);
  pthread_cond_init(&r.cond, NULL);
  atomic_init(&r.cancel, 0);
  atomic_init(&r.ndone, 0);

  if (in) {
    if (!sel || sel->ntrials != ntr) {
      rc = spy_fail(err, SPY_EINVAL, "selection and plan disagree on the number of trials");
      goto exit;
    }
    r.nchan = sel->nchan;
    r.chans = sel->chans;
  } else {
    r.nchan = op->out_nchan ? op->out_nchan : out->nchannel; /* generators */
    if (!(allch = malloc((r.nchan ? r.nchan : 1) * sizeof *allch))) goto nomem;
    for (size_t c = 0; c < r.nchan; c++) allch[c] = c;
    r.chans = allch;
  }

  /* output geometry */
  size_t totalrows = 0, maxrows = 0, maxsamp = 0;
  if (!(r.outrow0 = malloc((ntr ? ntr : 1) * sizeof *r.outrow0))) goto nomem;
  for (size_t k = 0; k < ntr; k++) {
    r.outrow0[k] = totalrows;
    totalrows += op->out_rows[k];
    if (op->out_rows[k] > maxrows) maxrows = op->out_rows[k];
    if (trial_nsamp(&r, k) > maxsamp) maxsamp = trial_nsamp(&r, k);
    if (op->average && op->out_rows[k] != op->out_rows[0]) {
      rc = spy_fail(err, SPY_ENOTSUP,
                    "Averaging trials of unequal lengths in output currently not supported!");
      goto exit;
    }
  }
  if (op->average) totalrows = ntr ? op->out_rows[0] : 0;
  if ((op->acc_elems || op->fold) && (!op->average || !op->finalize || !op->acc_elems)) {
    rc = spy_fail(err, SPY_EINVAL, "%s: a custom reduction needs average mode and a finalize step",
                  op->name);
    goto exit;
  }
  size_t shape[4], nd = 0;
  shape[nd++] = totalrows;
  for (int i = 0; i < op->ninner; i++) shape[nd++] = op->inner[i];
  shape[nd++] = r.nchan;

  size_t chunk = r.nchan;
  if (opts->chan_per_worker && op->chan_independent && !op->acc_elems &&
      opts->chan_per_worker < r.nchan)
    chunk = opts->chan_per_worker;
  size_t nchunks = r.nchan ? (r.nchan + chunk - 1) / chunk : 1;

  r.inbytes = in ? maxsamp * chunk * sizeof(double) : 0;
  r.outbytes = op->acc_elems ? spy_op_task_bytes(op, maxrows, chunk)
                             : maxrows * r.rowelems * chunk * r.es;
  r.scratchbytes = op->scratch_bytes ? op->scratch_bytes(op->plan, maxsamp, chunk) : 0;

  r.stream_bytes = opts->stream_bytes ? opts->stream_bytes : SPY_STREAM_BYTES;
  if (opts->worker_memory > 0) { /* Syncopy's check against the worker memory */
    double need = (double)(r.inbytes + r.outbytes + r.scratchbytes);
    if (op->stream && !opts->remote && !op->average && in &&
        r.inbytes + r.outbytes > r.stream_bytes) /* the longest trial streams */
      need = (double)op->stream_scratch(op->plan, maxsamp, chunk);
    if (need > opts->worker_memory) {
      rc = spy_fail(err, SPY_ENOMEM,
                    "Single-trial processing requires %.2f GB of memory which is larger than "
                    "the available worker memory (%.2f GB)",
                    need / 1e9, opts->worker_memory / 1e9);
      goto exit;
    }
  }
  { /* before the output exists: beyond the machine's memory an allocation
    ** aborts under the sanitizers or thrashes with overcommit (remote workers
    ** hold the trials on their own nodes; the average stays here) */
    double trial =
        opts->remote ? 0 : (double)r.inbytes + (double)r.outbytes + (double)r.scratchbytes;
    if (!opts->remote && op->stream && !op->average && in &&
        r.inbytes + r.outbytes > r.stream_bytes)
      trial = (double)op->stream_scratch(op->plan, maxsamp, chunk);
    double avg = !op->average ? 0
                 : (double)(op->acc_elems ? op->acc_elems
                                          : totalrows * r.rowelems * r.nchan *
                                                (spy_dtype_is_complex(op->out_dtype) ? 2 : 1)) *
                       sizeof(double);
    double phys = (double)spy_physical_memory();
    if (trial > phys || avg > phys) {
      rc = spy_fail(err, SPY_ENOMEM,
                    "%s: %s needs %.1f GB in memory, more than this machine has (%.1f GB); "
                    "select fewer channels, frequencies or samples",
                    op->name, avg > phys ? "the trial average" : "one trial",
                    (avg > phys ? avg : trial) / 1e9, phys / 1e9);
      goto exit;
    }
  }
  if (opts->remote) { /* workers read and compute: only output buffers here */
    if (op->in_process) {
      rc = spy_fail(err, SPY_ENOTSUP,
                    "%s: this computation keeps per-trial results in the session and cannot run "
                    "on remote workers; use a LocalCluster or parallel=False",
                    op->name);
      goto exit;
    }
    if (!opts->comp || !pool) {
      rc = spy_fail(err, SPY_EINVAL, "remote execution needs a computation and worker slots");
      goto exit;
    }
    r.remote = opts->remote;
    r.inbytes = r.scratchbytes = 0;
    if ((rc = r.remote->begin(r.remote->ctx, op, opts->comp, err))) goto exit;
    began = true;
  }
  if ((rc = spy_data_create(out, op->out_dtype, (int)nd, shape, err))) goto exit;
  if ((rc = alloc_buffers(&r, nbuf, err))) goto exit;

  ntasks = ntr * nchunks;
  if (!(tasks = calloc(ntasks ? ntasks : 1, sizeof *tasks))) goto nomem;
  for (size_t k = 0, i = 0; k < ntr; k++)
    for (size_t c = 0; c < nchunks; c++, i++) {
      tasks[i].sel = k;
      tasks[i].c0 = c * chunk;
      tasks[i].nc = (c + 1) * chunk <= r.nchan ? chunk : r.nchan - c * chunk;
      tasks[i].status = 1;
      r.any_stream |= streamed(&r, &tasks[i]);
    }
  if (op->average) {
    size_t n = op->acc_elems ? op->acc_elems
                             : totalrows * r.rowelems * r.nchan *
                                   (spy_dtype_is_complex(op->out_dtype) ? 2 : 1);
    if (!(acc = calloc(n ? n : 1, sizeof *acc))) goto nomem;
  }
  if (!(flagged = calloc(ntr ? ntr : 1, sizeof *flagged))) goto nomem;

  /* the dashboard: remote workers' tasks are recorded by the cluster */
  r.ev_worker = r.remote ? 0 : spy_ev_pool_base(pool);
  spy_ev_comp_begin(op->name, ntasks, r.remote ? 0 : nworkers);
  evbegun = true;
  if (!opts->quiet) spy_progress_begin(ntasks);
  task *failed = NULL;
  r.fold = op->fold && in && !opts->remote;
  if (!pool) {
    failed = run_inline(&r, tasks, ntasks, acc, opts->quiet, opts->pipeline, &rc, err);
    if (rc) goto exit;
  } else {
    r.tasks = tasks;
    r.ntasks = ntasks;
    r.acc = acc;
    failed = run_pool(&r, pool, nworkers, opts->quiet, &rc, err);
    if (rc) goto exit;
  }
  if (!opts->quiet) spy_progress_end(!failed && !atomic_load(&r.cancel) && !spy_interrupted());

  if (failed && !rc) {
    rc = failed->status == 1 ? SPY_EINTR : failed->status;
    if (failed->err) {
      err->code = failed->err->code;
      snprintf(err->msg, sizeof err->msg, "%s", failed->err->msg);
    } else { /* cancelled, or no memory left for the cause */
      spy_fail(err, rc, "%s", rc == SPY_EINTR ? "interrupted" : "out of memory");
    }
    task_context(&r, failed, err);
    goto exit;
  }
  if (rc) goto exit;
  if (spy_interrupted() || atomic_load(&r.cancel)) {
    rc = spy_fail(err, SPY_EINTR, "interrupted");
    goto exit;
  }

  /* finish: average, metadata */
  if (op->average) {
    size_t n = totalrows * r.rowelems * r.nchan;
    bool cplx = spy_dtype_is_complex(op->out_dtype);
    void *o = malloc((n ? n : 1) * r.es);
    if (!o) goto nomem;
    if (op->finalize) {
      rc = op->finalize(op->plan, acc, ntr, o, err);
    } else {
      float *f = o;
      for (size_t i = 0; i < n * (cplx ? 2 : 1); i++) f[i] = (float)(acc[i] / (double)ntr);
    }
    if (!rc) rc = spy_data_write(out, 0, totalrows, 0, r.nchan, o, op->out_dtype, err);
    free(o);
    if (rc) goto exit;
  }
  for (size_t i = 0; i < ntasks; i++)
    if (tasks[i].flags & SPY_TASK_HAS_NAN) {
      size_t k = tasks[i].sel;
      bool seen = false;
      for (size_t q = 0; q < nflagged && !seen; q++) seen = flagged[q] == k;
      if (!seen) flagged[nflagged++] = k;
    }

  if (op->metadata) {
    cJSON_Delete(out->metadata);
    if (!(out->metadata = op->metadata(op->plan))) goto nomem;
  }
  out->samplerate = op->samplerate;
  if (spy_data_set_trldef(out, op->out_trldef, op->average ? 1 : ntr, op->out_trlcols)) goto nomem;
  if (in) {
    const char **labels = malloc((r.nchan ? r.nchan : 1) * sizeof *labels);
    if (!labels) goto nomem;
    for (size_t c = 0; c < r.nchan; c++) labels[c] = in->channel[r.chans[c]];
    int e = spy_data_set_channel(out, labels, r.nchan);
    if (!e && op->cls == SPY_CROSSSPECTRAL) e = spy_data_set_channel_j(out, labels, r.nchan);
    free(labels);
    if (e) goto nomem;
  }
  if (op->nfreq && spy_data_set_freq(out, op->freq, op->nfreq)) goto nomem;
  if (op->ntaper && spy_data_set_taper(out, (const char *const *)op->taper, op->ntaper)) goto nomem;
  if (op->info) {
    const cJSON *e;
    cJSON_ArrayForEach(e, op->info) cJSON_AddItemToObject(out->info, e->string, cJSON_Duplicate(e, 1));
  }
  if ((rc = spy_data_sync_meta(out, err))) goto exit;

  stats->ntasks = ntasks;
  stats->seconds = spy_now() - t0;
  stats->nflagged = nflagged;
  stats->flagged = flagged;
  flagged = NULL;
  goto exit;
nomem:
  rc = spy_fail(err, SPY_ENOMEM, "out of memory");
exit:
  if (evbegun) spy_ev_comp_end(rc);
  if (began) r.remote->end(r.remote->ctx);
  if (tasks)
    for (size_t i = 0; i < ntasks; i++) {
      free(tasks[i].result);
      free(tasks[i].err);
    }
  free(tasks);
  free(acc);
  free(flagged);
  free(allch);
  free(r.outrow0);
  free_buffers(&r, nbuf);
  pthread_cond_destroy(&r.cond);
  pthread_mutex_destroy(&r.lock);
  return rc;
}
