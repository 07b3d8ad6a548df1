#include "cluster/worker.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cluster/proto.h"
#include "cluster/slurm.h"
#include "core/interrupt.h"
#include "core/kwspec.h"
#include "core/log.h"
#include "core/settings.h"
#include "data/data.h"
#include "dsp/fft.h"
#include "sched/methods.h"

typedef struct opts {
  const char *address, *secret, *dir, *name;
  int nthreads, nworkers;
  double memory, death_timeout;
  double walltime, margin; /* s; 0: unknown / default */
} opts;

/* A computation the session described: planned once, shared by its tasks. */
typedef struct comp {
  uint64_t id;
  int refs;             /* the table's + one per queued or running task */
  bool planned;
  int errcode;          /* planning failed: every task fails with this */
  char *errmsg;
  spy_op op;
  cJSON *cfg;           /* the validated cfg the op was planned from */
  spy_data *in;
  size_t *chans, nchan;
  double *trldef;
  spy_trials tr;
  struct comp *next;
} comp;

typedef struct wtask {
  comp *c;
  uint64_t id;
  size_t trial, row0, nsamp, c0, nc, rows;
  struct wtask *next;
} wtask;

static struct {
  opts o;
  int fd;
  pthread_mutex_t send_lock;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  wtask *head, *tail;
  int running;
  bool draining, stop;
  comp *comps;
  unsigned char key[SPY_PROTO_KEY];
  double t_start; /* epoch seconds at start (the job's start, near enough) */
} W = {.fd = -1,
       .send_lock = PTHREAD_MUTEX_INITIALIZER,
       .lock = PTHREAD_MUTEX_INITIALIZER,
       .cond = PTHREAD_COND_INITIALIZER};

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
  got_signal = sig;
  spy_interrupt_request();
}

/* ---- sending (any thread) ---------------------------------------------------- */

static void send_frame(spy_msgbuf *b)
{
  spy_err err = {0};
  if (spy_msg_end(b, &err)) return;
  pthread_mutex_lock(&W.send_lock);
  int bad = W.fd < 0 || spy_send_all(W.fd, b->p, b->n, 30) != 0;
  pthread_mutex_unlock(&W.send_lock);
  if (bad) {
    pthread_mutex_lock(&W.lock);
    W.stop = true;
    pthread_cond_broadcast(&W.cond);
    pthread_mutex_unlock(&W.lock);
  }
}

static void send_fail(uint64_t task, int code, const char *msg)
{
  spy_msgbuf b = {0};
  spy_msg_begin(&b, SPY_MSG_FAIL);
  spy_msg_u64(&b, task);
  spy_msg_u32(&b, (uint32_t)code);
  char tmp[SPY_ERRMSG_MAX];
  snprintf(tmp, sizeof tmp, "%s", msg);
  spy_msg_str(&b, tmp);
  send_frame(&b);
  spy_msgbuf_free(&b);
}

/* ---- computations -------------------------------------------------------------- */

static void comp_unref(comp *c)
{
  if (--c->refs > 0) return;
  spy_op_free(&c->op);
  cJSON_Delete(c->cfg);
  if (c->in) spy_data_unref(c->in);
  free(c->chans);
  free(c->trldef);
  free(c->errmsg);
  free(c);
}

static int comp_fail(comp *c, const spy_err *err)
{
  c->errcode = err->code ? err->code : SPY_ERUNTIME;
  free(c->errmsg);
  c->errmsg = strdup(err->msg);
  spy_log(SPY_LOG_ERROR, "cannot plan computation %llu: %s", (unsigned long long)c->id, err->msg);
  return c->errcode;
}

static size_t *size_array(const cJSON *a, size_t *n)
{
  *n = (size_t)cJSON_GetArraySize(a);
  size_t *v = malloc((*n ? *n : 1) * sizeof *v), i = 0;
  const cJSON *e;
  if (!v) return NULL;
  cJSON_ArrayForEach(e, a) {
    if (!cJSON_IsNumber(e) || e->valuedouble < 0) {
      free(v);
      return NULL;
    }
    v[i++] = (size_t)e->valuedouble;
  }
  return v;
}

/* Parses and plans; on failure the comp remembers the error for its tasks. */
static void comp_plan(comp *c, const char *json)
{
  spy_err err = {0};
  cJSON *j = cJSON_Parse(json);
  const cJSON *fn = cJSON_GetObjectItem(j, "fname"), *cfg = cJSON_GetObjectItem(j, "cfg");
  const cJSON *tj = cJSON_GetObjectItem(j, "trials"), *in = cJSON_GetObjectItem(j, "input");
  const cJSON *ex = cJSON_GetObjectItem(j, "expect");
  const spy_funcspec *spec = cJSON_IsString(fn) ? spy_method_spec(fn->valuestring) : NULL;
  if (!j || !spec || !cJSON_IsObject(cfg) || !cJSON_IsObject(ex)) {
    spy_fail(&err, SPY_EFORMAT, "malformed computation from the session%s%s",
             cJSON_IsString(fn) && !spec ? ": unknown computation " : "",
             cJSON_IsString(fn) && !spec ? fn->valuestring : "");
    comp_fail(c, &err);
    goto exit;
  }
  if (cJSON_IsObject(tj)) {
    const cJSON *trl = cJSON_GetObjectItem(tj, "trldef"), *sr = cJSON_GetObjectItem(tj, "samplerate");
    const cJSON *dt = cJSON_GetObjectItem(tj, "dtype");
    size_t n = (size_t)cJSON_GetArraySize(trl), i = 0;
    c->tr.ntrials = (size_t)spy_cfg_num(tj, "ntrials", 0);
    c->tr.nchan = (size_t)spy_cfg_num(tj, "nchan", 0);
    c->tr.trlcols = (size_t)spy_cfg_num(tj, "trlcols", 3);
    c->tr.samplerate = cJSON_IsNumber(sr) ? sr->valuedouble : NAN;
    c->tr.time_selected = spy_cfg_bool(tj, "time_selected", false);
    if (!cJSON_IsString(dt) || spy_dtype_parse(dt->valuestring, &c->tr.dtype) ||
        n != c->tr.ntrials * c->tr.trlcols || c->tr.trlcols < 3 || !(c->trldef = malloc((n ? n : 1) * sizeof(double)))) {
      spy_fail(&err, SPY_EFORMAT, "malformed trial description from the session");
      comp_fail(c, &err);
      goto exit;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, trl) c->trldef[i++] = cJSON_IsNumber(e) ? e->valuedouble : NAN;
    c->tr.trldef = c->trldef;
  }
  if (spy_kw_apply(spec, cfg, &c->cfg, &err) ||
      spy_method_plan(fn->valuestring, c->cfg, c->trldef ? &c->tr : NULL, &c->op, &err)) {
    comp_fail(c, &err);
    goto exit;
  }
  /* the session's plan and ours must agree, or the blocks would not fit */
  const cJSON *inner = cJSON_GetObjectItem(ex, "inner");
  bool same = strcmp(spy_cfg_str(ex, "dtype", ""), spy_dtype_name(c->op.out_dtype)) == 0 &&
              (size_t)spy_cfg_num(ex, "ntrials", -1) == c->op.ntrials &&
              (size_t)spy_cfg_num(ex, "acc_elems", 0) == c->op.acc_elems &&
              cJSON_GetArraySize(inner) == c->op.ninner;
  for (int i = 0; same && i < c->op.ninner; i++)
    same = (size_t)cJSON_GetArrayItem(inner, i)->valuedouble == c->op.inner[i];
  if (!same) {
    spy_fail(&err, SPY_ERUNTIME, "this worker planned a different output than the session "
                                 "(different spy versions?)");
    comp_fail(c, &err);
    goto exit;
  }
  if (cJSON_IsString(in)) {
    const cJSON *ch = cJSON_GetObjectItem(j, "chans");
    if (!(c->chans = size_array(ch, &c->nchan))) {
      spy_fail(&err, SPY_EFORMAT, "malformed channel list from the session");
      comp_fail(c, &err);
      goto exit;
    }
    if (!(c->in = spy_data_new(SPY_ANALOG)) || spy_data_open(c->in, in->valuestring, false, &err)) {
      if (!c->in) spy_fail(&err, SPY_ENOMEM, "out of memory");
      comp_fail(c, &err);
      goto exit;
    }
    size_t have = c->in->shape[c->in->ndim - 1];
    for (size_t i = 0; i < c->nchan; i++)
      if (c->chans[i] >= have) {
        spy_fail(&err, SPY_EFORMAT, "channel %zu is outside '%s' (%zu channels)", c->chans[i],
                 in->valuestring, have);
        comp_fail(c, &err);
        goto exit;
      }
  }
  c->planned = true;
  spy_log(SPY_LOG_IMPORTANT, "computation %llu: %s (%s) on %zu trials", (unsigned long long)c->id,
          fn->valuestring, c->op.name, c->op.ntrials);
exit:
  cJSON_Delete(j);
}

static comp *comp_find(uint64_t id)
{
  for (comp *c = W.comps; c; c = c->next)
    if (c->id == id) return c;
  return NULL;
}

/* ---- compute threads ---------------------------------------------------------- */

static bool stopping(void)
{
  pthread_mutex_lock(&W.lock);
  bool s = W.stop;
  pthread_mutex_unlock(&W.lock);
  return s;
}

typedef struct buffers {
  void *in, *out, *scratch;
  size_t nin, nout, nscratch;
} buffers;

static int grow(void **p, size_t *have, size_t need)
{
  if (need <= *have && *p) return 0;
  spy_fft_free(*p);
  *p = spy_fft_alloc(need ? need : 16);
  *have = *p ? need : 0;
  return *p ? 0 : -1;
}

/* Runs t into b->out; *nbytes is the size of its block. */
static int run_task(const wtask *t, buffers *b, unsigned *flags, size_t *nbytes, spy_err *err)
{
  comp *c = t->c;
  const spy_op *op = &c->op;
  if (!c->planned) return spy_fail(err, c->errcode, "%s", c->errmsg ? c->errmsg : "not planned");
  size_t nch = c->in ? c->nchan : op->out_nchan ? op->out_nchan : SIZE_MAX;
  if (t->trial >= op->ntrials || t->rows != op->out_rows[t->trial] || t->nc > nch ||
      t->c0 > nch - t->nc || (c->in && t->row0 + t->nsamp > c->in->shape[0]))
    return spy_fail(err, SPY_EINVAL, "task outside the computation (trial %zu, rows %zu+%zu, channels %zu+%zu)",
                    t->trial, t->row0, t->nsamp, t->c0, t->nc);
  size_t nout = spy_op_task_bytes(op, t->rows, t->nc);
  size_t nscr = op->scratch_bytes ? op->scratch_bytes(op->plan, t->nsamp, t->nc) : 0;
  if ((c->in && grow(&b->in, &b->nin, t->nsamp * t->nc * sizeof(double))) || grow(&b->out, &b->nout, nout) ||
      (nscr && grow(&b->scratch, &b->nscratch, nscr)))
    return spy_fail(err, SPY_ENOMEM, "cannot allocate %.1f MB of task buffers",
                    (double)(t->nsamp * t->nc * sizeof(double) + nout + nscr) / 1e6);
  int rc;
  if (c->in && (rc = spy_data_read(c->in, t->row0, t->nsamp, c->chans + t->c0, t->nc, b->in, SPY_DT_F64, err)))
    return rc;
  spy_task kt = {0};
  kt.trial = t->trial;
  kt.chan0 = t->c0;
  kt.nchan = t->nc;
  kt.in = c->in ? b->in : NULL;
  kt.nsamp = t->nsamp;
  kt.out = b->out;
  kt.rows = t->rows;
  kt.scratch = nscr ? b->scratch : NULL;
  if ((rc = op->kernel(op->plan, &kt, err))) return rc;
  *flags = kt.flags;
  *nbytes = nout;
  return SPY_OK;
}

/* The block as BLOCK frames, then RESULT.  Each frame goes out whole under
** the send lock, so heartbeats and other threads' frames pass in between;
** a session that reads slowly slows this thread down (TCP's flow control),
** and one that stops reading for 30 s ends the worker (send_frame). */
static void send_result(const wtask *t, const unsigned char *p, size_t n, unsigned flags, spy_msgbuf *m)
{
  for (size_t off = 0; off < n && !stopping(); off += SPY_PROTO_BLOCK_BYTES) {
    size_t k = n - off < SPY_PROTO_BLOCK_BYTES ? n - off : SPY_PROTO_BLOCK_BYTES;
    spy_msg_begin(m, SPY_MSG_BLOCK);
    spy_msg_u64(m, t->id);
    spy_msg_u64(m, off);
    spy_msg_raw(m, p + off, k);
    send_frame(m);
  }
  if (stopping()) return; /* the connection is going: the session re-runs the task */
  spy_msg_begin(m, SPY_MSG_RESULT);
  spy_msg_u64(m, t->id);
  spy_msg_u32(m, flags);
  spy_msg_u64(m, n);
  send_frame(m);
}

static void *compute_thread(void *arg)
{
  (void)arg;
  buffers b = {0};
  spy_msgbuf m = {0}; /* reused: one frame's worth of memory per thread */
  pthread_mutex_lock(&W.lock);
  for (;;) {
    while (!W.stop && (W.draining || !W.head)) pthread_cond_wait(&W.cond, &W.lock);
    if (W.stop) break;
    wtask *t = W.head;
    W.head = t->next;
    if (!W.head) W.tail = NULL;
    W.running++;
    pthread_mutex_unlock(&W.lock);

    spy_err err = {0};
    unsigned flags = 0;
    size_t nout = 0;
    int rc = run_task(t, &b, &flags, &nout, &err);
    if (rc == SPY_OK) {
      send_result(t, b.out, nout, flags, &m);
    } else if (rc != SPY_EINTR || !(got_signal || stopping())) {
      /* a worker being stopped (scancel, walltime) just goes away: the
      ** session re-runs its tasks elsewhere, as after any other death */
      send_fail(t->id, rc, err.msg);
    }

    pthread_mutex_lock(&W.lock);
    W.running--;
    if (W.draining && W.running == 0) {
      spy_interrupt_clear();
      W.draining = false;
      pthread_cond_broadcast(&W.cond);
    }
    comp_unref(t->c);
    free(t);
  }
  pthread_mutex_unlock(&W.lock);
  spy_fft_free(b.in);
  spy_fft_free(b.out);
  spy_fft_free(b.scratch);
  spy_msgbuf_free(&m);
  return NULL;
}

/* ---- messages from the session -------------------------------------------------- */

static int on_task(spy_msgreader *r)
{
  uint64_t cid = spy_rd_u64(r);
  wtask *t = calloc(1, sizeof *t);
  if (!t) return -1;
  t->id = spy_rd_u64(r);
  t->trial = spy_rd_u64(r);
  t->row0 = spy_rd_u64(r);
  t->nsamp = spy_rd_u64(r);
  t->c0 = spy_rd_u64(r);
  t->nc = spy_rd_u64(r);
  t->rows = spy_rd_u64(r);
  comp *c = comp_find(cid);
  if (r->bad || !c) {
    if (!r->bad) send_fail(t->id, SPY_EINVAL, "task for an unknown computation");
    free(t);
    return r->bad ? -1 : 0;
  }
  t->c = c;
  pthread_mutex_lock(&W.lock);
  c->refs++;
  if (W.tail) W.tail->next = t;
  else W.head = t;
  W.tail = t;
  pthread_cond_signal(&W.cond);
  pthread_mutex_unlock(&W.lock);
  return 0;
}

/* CANCEL: queued tasks of the computation fail at once, running ones are
** interrupted; new tasks wait until they have stopped. */
static void on_cancel(uint64_t cid)
{
  wtask *drop = NULL, **pp;
  pthread_mutex_lock(&W.lock);
  for (pp = &W.head; *pp;) {
    wtask *t = *pp;
    if (t->c->id == cid) {
      *pp = t->next;
      t->next = drop;
      drop = t;
    } else {
      pp = &t->next;
    }
  }
  W.tail = NULL;
  for (wtask *t = W.head; t; t = t->next) W.tail = t;
  if (W.running > 0) {
    W.draining = true;
    spy_interrupt_request();
  }
  pthread_mutex_unlock(&W.lock);
  while (drop) {
    wtask *t = drop;
    drop = t->next;
    send_fail(t->id, SPY_EINTR, "cancelled");
    pthread_mutex_lock(&W.lock);
    comp_unref(t->c);
    pthread_mutex_unlock(&W.lock);
    free(t);
  }
}

static void on_drop(uint64_t cid)
{
  pthread_mutex_lock(&W.lock);
  for (comp **pp = &W.comps; *pp; pp = &(*pp)->next)
    if ((*pp)->id == cid) {
      comp *c = *pp;
      *pp = c->next;
      comp_unref(c);
      break;
    }
  pthread_mutex_unlock(&W.lock);
}

/* 1: keep going, 0: asked to stop, -1: protocol error */
static int on_frame(int type, spy_msgreader *r)
{
  switch (type) {
  case SPY_MSG_PING: return 1;
  case SPY_MSG_SHUTDOWN:
    spy_log(SPY_LOG_IMPORTANT, "the session asked this worker to shut down");
    return 0;
  case SPY_MSG_TASK: return on_task(r) == 0 ? 1 : -1;
  case SPY_MSG_CANCEL: {
    uint64_t cid = spy_rd_u64(r);
    if (r->bad) return -1;
    on_cancel(cid);
    return 1;
  }
  case SPY_MSG_DROP: {
    uint64_t cid = spy_rd_u64(r);
    if (r->bad) return -1;
    on_drop(cid);
    return 1;
  }
  case SPY_MSG_COMP: {
    uint64_t cid = spy_rd_u64(r);
    char *json = spy_rd_str(r);
    comp *c = json ? calloc(1, sizeof *c) : NULL;
    if (r->bad || !c) {
      free(json);
      free(c);
      return -1;
    }
    c->id = cid;
    c->refs = 1;
    comp_plan(c, json);
    free(json);
    pthread_mutex_lock(&W.lock);
    c->next = W.comps;
    W.comps = c;
    pthread_mutex_unlock(&W.lock);
    return 1;
  }
  default: return -1;
  }
}

/* ---- connection -------------------------------------------------------------- */

static int handshake(int fd, spy_inbuf *in, double seconds, spy_err *err)
{
  int type;
  spy_msgreader r;
  unsigned char snonce[SPY_PROTO_NONCE], wnonce[SPY_PROTO_NONCE], mac[SPY_PROTO_MAC];
  char magic[4];
  if (spy_recv_frame(fd, in, SPY_PROTO_MAX_HELLO, seconds) != 1 ||
      spy_inbuf_frame(in, SPY_PROTO_MAX_HELLO, &type, &r) != 1 || type != SPY_MSG_HELLO)
    return spy_fail(err, SPY_EIO, "no greeting from the session at %s", W.o.address);
  spy_rd_raw(&r, magic, 4);
  uint32_t version = spy_rd_u32(&r);
  spy_rd_raw(&r, snonce, sizeof snonce);
  spy_inbuf_pop(in);
  if (r.bad || memcmp(magic, SPY_PROTO_MAGIC, 4) != 0)
    return spy_fail(err, SPY_EIO, "%s is not a spy session", W.o.address);
  if (version != SPY_PROTO_VERSION)
    return spy_fail(err, SPY_ENOTSUP, "the session speaks protocol version %u, this worker %u", version,
                    SPY_PROTO_VERSION);
  spy_random_bytes(wnonce, sizeof wnonce);
  spy_auth_mac(W.key, "spy-worker", snonce, wnonce, mac);

  char host[256] = "localhost";
  gethostname(host, sizeof host - 1);
  const char *job = getenv("SLURM_JOB_ID");
  cJSON *info = cJSON_CreateObject();
  cJSON_AddStringToObject(info, "name", W.o.name);
  cJSON_AddNumberToObject(info, "job", job ? atof(job) : 0);
  cJSON_AddStringToObject(info, "host", host);
  cJSON_AddNumberToObject(info, "pid", (double)getpid());
  cJSON_AddNumberToObject(info, "nthreads", W.o.nthreads);
  cJSON_AddNumberToObject(info, "memory", W.o.memory);
  cJSON_AddStringToObject(info, "version", SPY_VERSION);
  char *s = cJSON_PrintUnformatted(info);
  cJSON_Delete(info);
  spy_msgbuf b = {0};
  spy_msg_begin(&b, SPY_MSG_AUTH);
  spy_msg_raw(&b, SPY_PROTO_MAGIC, 4);
  spy_msg_u32(&b, SPY_PROTO_VERSION);
  spy_msg_raw(&b, wnonce, sizeof wnonce);
  spy_msg_raw(&b, mac, sizeof mac);
  spy_msg_str(&b, s ? s : "{}");
  free(s);
  int rc = spy_msg_end(&b, err);
  if (!rc && spy_send_all(fd, b.p, b.n, seconds) != 0)
    rc = spy_fail(err, SPY_EIO, "cannot send to the session: %s", strerror(errno));
  spy_msgbuf_free(&b);
  if (rc) return rc;

  if (spy_recv_frame(fd, in, SPY_PROTO_MAX_HELLO, seconds) != 1 ||
      spy_inbuf_frame(in, SPY_PROTO_MAX_HELLO, &type, &r) != 1)
    return spy_fail(err, SPY_EIO, "the session did not answer the authentication");
  if (type == SPY_MSG_REJECT) {
    char *why = spy_rd_str(&r);
    rc = spy_fail(err, SPY_EINVAL, "the session refused this worker: %s", why ? why : "?");
    free(why);
    return rc;
  }
  unsigned char smac[SPY_PROTO_MAC], want[SPY_PROTO_MAC];
  spy_rd_raw(&r, smac, sizeof smac);
  spy_inbuf_pop(in);
  spy_auth_mac(W.key, "spy-session", snonce, wnonce, want);
  if (type != SPY_MSG_WELCOME || r.bad || !spy_auth_equal(smac, want))
    return spy_fail(err, SPY_EINVAL, "the peer at %s does not know the cluster's secret", W.o.address);
  return SPY_OK;
}

/* Connects and authenticates, retrying with backoff until death_timeout has
** passed (a refused connection, or a session that dropped us before the
** greeting; not a wrong secret). */
static int connect_session(spy_inbuf *in, spy_err *err)
{
  char host[256];
  int port, rc;
  if ((rc = spy_addr_parse(W.o.address, host, sizeof host, &port, err))) return rc;
  double end = spy_clock() + W.o.death_timeout;
  bool told = false;
  unsigned attempt = 0;
  bool reached = false;
  for (;;) {
    if (got_signal) return spy_fail(err, SPY_EINTR, "interrupted by signal %d", (int)got_signal);
    spy_err e = {0};
    int fd = spy_tcp_connect(host, port, 5, &e);
    /* the session was reached before and its port is closed now: it is gone */
    if (fd < 0 && reached && errno == ECONNREFUSED)
      return spy_fail(err, SPY_EIO, "the session at %s is gone (%s)", W.o.address, e.msg);
    if (fd >= 0) {
      reached = true;
      W.fd = fd;
      rc = handshake(fd, in, fmax(1, fmin(30, end - spy_clock())), &e);
      if (rc == SPY_OK) return SPY_OK;
      close(fd);
      W.fd = -1;
      spy_inbuf_free(in);
      memset(in, 0, sizeof *in);
      /* a wrong secret or version will not get better; anything else (no
      ** greeting: the session was busy or evicted us) is tried again */
      if (rc != SPY_EIO) return spy_fail(err, rc, "%s", e.msg);
    }
    if (!told) spy_log(SPY_LOG_IMPORTANT, "waiting to connect to %s (%s)", W.o.address, e.msg);
    told = true;
    if (spy_clock() >= end)
      return spy_fail(err, SPY_EIO, "could not connect to the session at %s within %g s: %s",
                      W.o.address, W.o.death_timeout, e.msg);
    /* backoff 0.1 s doubling to 2 s, with jitter so that workers spread out */
    unsigned char r = 0;
    spy_random_bytes(&r, 1);
    double wait = fmin(2.0, 0.1 * (double)(1u << (attempt < 5 ? attempt : 5))) * (0.5 + r / 510.0);
    attempt++;
    struct timespec ts = {(time_t)wait, (long)((wait - floor(wait)) * 1e9)};
    nanosleep(&ts, NULL);
  }
}

/* The job's end in epoch seconds (0: unknown, the worker runs until Slurm
** ends it): SLURM_JOB_END_TIME, else start + --walltime, else what squeue
** says of SLURM_JOB_ID (one query per worker, only when neither is known:
** in-allocation ranks and jobs whose -t was skipped, on a Slurm that does
** not export the end time). */
static double job_end_time(void)
{
  const char *et = getenv("SLURM_JOB_END_TIME"), *job = getenv("SLURM_JOB_ID");
  if (et && strtod(et, NULL) > 0) return strtod(et, NULL);
  if (W.o.walltime > 0) return W.t_start + W.o.walltime;
  double end = 0;
  spy_err err = {0};
  if (job && *job && spy_slurm_job_end(job, &end, &err) != SPY_OK)
    spy_log(SPY_LOG_INFO, "cannot learn the job's end time: %s", err.msg);
  if (end > 0) spy_log(SPY_LOG_INFO, "the job ends in %.0f s (squeue)", end - (double)time(NULL));
  return end;
}

/* One worker process: connect, serve until told otherwise; the exit status. */
static int serve(void)
{
  spy_err err = {0};
  spy_inbuf in = {0};
  int status = 0;
  if (spy_secret_read(W.o.secret, W.key, &err) || connect_session(&in, &err)) {
    spy_log(SPY_LOG_ERROR, "%s", err.msg);
    spy_inbuf_free(&in);
    return 1;
  }
  spy_log(SPY_LOG_IMPORTANT, "worker %s connected to %s (%d thread%s)", W.o.name, W.o.address,
          W.o.nthreads, W.o.nthreads == 1 ? "" : "s");
  pthread_t *th = calloc((size_t)W.o.nthreads, sizeof *th);
  int nth = 0;
  for (int i = 0; th && i < W.o.nthreads; i++)
    if (pthread_create(&th[i], NULL, compute_thread, NULL) == 0) nth++;
  if (nth == 0) {
    spy_log(SPY_LOG_ERROR, "cannot start compute threads");
    status = 1;
  }

  /* the job's end; retire `margin` s before it (default a quarter of the
  ** walltime, 10 to 60 s) */
  double end_at = job_end_time(), margin = W.o.margin, t_start = W.t_start;
  if (end_at > 0 && !(margin > 0)) {
    double life = W.o.walltime > 0 ? W.o.walltime : end_at - t_start;
    margin = life / 4 < 10 ? 10 : life / 4 > 60 ? 60 : life / 4;
  }
  bool retired = false;
  double heard = spy_clock(), pinged = 0;
  while (status == 0) {
    if (end_at > 0 && !retired && (double)time(NULL) >= end_at - margin) {
      spy_log(SPY_LOG_IMPORTANT, "the job's walltime ends in %.0f s: taking no new tasks", end_at - (double)time(NULL));
      spy_msgbuf b = {0};
      spy_msg_begin(&b, SPY_MSG_RETIRE);
      send_frame(&b);
      spy_msgbuf_free(&b);
      retired = true;
    }
    pthread_mutex_lock(&W.lock);
    bool stop = W.stop;
    pthread_mutex_unlock(&W.lock);
    if (stop) {
      spy_log(SPY_LOG_ERROR, "lost the connection to the session; exiting");
      status = 1;
      break;
    }
    if (got_signal) {
      spy_log(SPY_LOG_IMPORTANT, "received signal %d; exiting", (int)got_signal);
      status = 128 + (int)got_signal;
      break;
    }
    double now = spy_clock();
    if (now - pinged >= 1) {
      spy_msgbuf b = {0};
      spy_msg_begin(&b, SPY_MSG_PING);
      send_frame(&b);
      spy_msgbuf_free(&b);
      pinged = now;
    }
    if (now - heard > W.o.death_timeout) {
      spy_log(SPY_LOG_ERROR, "no word from the session for %g s (death timeout); exiting",
              W.o.death_timeout);
      status = 1;
      break;
    }
    int k = spy_recv_frame(W.fd, &in, SPY_PROTO_MAX_FRAME, 0.5);
    if (k == 0) continue;
    if (k < 0) {
      if (k == -1 && (errno == ECONNRESET || errno == 0))
        spy_log(SPY_LOG_IMPORTANT, "the session closed the connection; exiting");
      else
        spy_log(SPY_LOG_ERROR, "connection to the session failed (%s); exiting",
                k == -2 ? "oversized message" : strerror(errno));
      status = k == -2 ? 1 : 0;
      break;
    }
    heard = spy_clock();
    int type;
    spy_msgreader r;
    while (spy_inbuf_frame(&in, SPY_PROTO_MAX_FRAME, &type, &r) == 1) {
      int go = on_frame(type, &r);
      spy_inbuf_pop(&in);
      if (go <= 0) {
        if (go < 0) spy_log(SPY_LOG_ERROR, "malformed message (type %d) from the session; exiting", type);
        status = go < 0 ? 1 : 0;
        goto done;
      }
    }
  }
done:
  pthread_mutex_lock(&W.lock);
  W.stop = true;
  spy_interrupt_request(); /* running kernels stop at their next chunk */
  pthread_cond_broadcast(&W.cond);
  pthread_mutex_unlock(&W.lock);
  for (int i = 0; i < nth; i++) pthread_join(th[i], NULL);
  free(th);
  shutdown(W.fd, SHUT_RDWR);
  close(W.fd);
  W.fd = -1;
  while (W.head) {
    wtask *t = W.head;
    W.head = t->next;
    comp_unref(t->c);
    free(t);
  }
  while (W.comps) {
    comp *c = W.comps;
    W.comps = c->next;
    comp_unref(c);
  }
  spy_inbuf_free(&in);
  return status;
}

static int usage(const char *msg)
{
  fprintf(stderr,
          "spy --worker: %s\n"
          "usage: spy --worker tcp://<host>:<port> --secret-file FILE [--local-directory DIR]\n"
          "                    [--nthreads N] [--nworkers P] [--memory-limit BYTES]\n"
          "                    [--death-timeout SECONDS] [--name NAME]\n"
          "                    [--walltime SECONDS] [--lifetime-margin SECONDS]\n",
          msg);
  return 2;
}

int spy_worker_main(int argc, char **argv)
{
  opts *o = &W.o;
  char name[256];
  o->nthreads = o->nworkers = 1;
  o->death_timeout = 60;
  if (argc < 3 || argv[2][0] == '-') return usage("needs the session's address");
  o->address = argv[2];
  for (int i = 3; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) return usage("an option lacks its value");
    char *end = NULL;
    if (strcmp(a, "--secret-file") == 0) o->secret = v;
    else if (strcmp(a, "--local-directory") == 0) o->dir = v;
    else if (strcmp(a, "--name") == 0) o->name = v;
    else if (strcmp(a, "--nthreads") == 0) o->nthreads = (int)strtol(v, &end, 10);
    else if (strcmp(a, "--nworkers") == 0) o->nworkers = (int)strtol(v, &end, 10);
    else if (strcmp(a, "--memory-limit") == 0) o->memory = strtod(v, &end);
    else if (strcmp(a, "--death-timeout") == 0) o->death_timeout = strtod(v, &end);
    else if (strcmp(a, "--walltime") == 0) o->walltime = strtod(v, &end);
    else if (strcmp(a, "--lifetime-margin") == 0) o->margin = strtod(v, &end);
    else return usage("unknown option");
    if (end && *end) return usage("a numeric option has a bad value");
    i++;
  }
  if (!o->secret) return usage("--secret-file is required");
  if (o->nthreads < 1 || o->nthreads > 1024 || o->nworkers < 1 || o->nworkers > 256 ||
      !(o->death_timeout > 0))
    return usage("--nthreads, --nworkers and --death-timeout must be positive");

  W.t_start = (double)time(NULL);
  /* see the job script: readers of the session's files must not lock them */
  setenv("HDF5_USE_FILE_LOCKING", "FALSE", 1);
  const char *lv = getenv("SPYLOGLEVEL");
  spy_log_set_level(lv && spy_log_parse_level(lv) >= 0 ? spy_log_parse_level(lv) : SPY_LOG_IMPORTANT);
  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  const char *jn = getenv("SLURM_JOB_NAME"), *ji = getenv("SLURM_JOB_ID");
  if (o->name) snprintf(name, sizeof name, "%s", o->name);
  else if (jn && ji) snprintf(name, sizeof name, "%s-%s", jn, ji);
  else snprintf(name, sizeof name, "spy-worker-%ld", (long)getpid());
  o->name = name;
  if (o->nworkers == 1) return serve();

  /* several worker processes per job, one connection each */
  pid_t *kids = calloc((size_t)o->nworkers, sizeof *kids);
  static char names[256][300];
  if (!kids) return 1;
  for (int k = 0; k < o->nworkers; k++) {
    snprintf(names[k], sizeof names[k], "%s-%d", name, k);
    pid_t p = fork();
    if (p == 0) {
      o->name = names[k];
      _exit(serve());
    }
    kids[k] = p;
  }
  int worst = 0;
  for (int k = 0; k < o->nworkers; k++) {
    int st = 0;
    if (kids[k] <= 0) {
      worst = 1;
      continue;
    }
    while (waitpid(kids[k], &st, 0) < 0 && errno == EINTR)
      if (got_signal)
        for (int j = 0; j < o->nworkers; j++)
          if (kids[j] > 0) kill(kids[j], SIGTERM);
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : 1;
    if (code > worst) worst = code;
  }
  free(kids);
  return worst;
}
