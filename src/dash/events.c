#include "dash/events.h"

#include <fcntl.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "core/progress.h"
#include "core/settings.h"
#include "core/strbuf.h"

#define MAX_WORKERS 1024
#define MAX_JOBS 1024
#define NTASKS 4096 /* ring of recent tasks */
#define NLOGS 256   /* ring of recent log lines */
#define NCOMPS 16   /* recent computations */
#define SNAP_TASKS 600
#define SNAP_LOGS 50

enum { W_IDLE, W_BUSY, W_GONE };
enum { T_RUN, T_DONE, T_FAIL, T_CANCEL };
enum { C_RUN, C_DONE, C_FAIL, C_INTR };

typedef struct worker {
  int id, state, nthreads, busy;
  long job;
  double memory, joined, left;
  size_t done, failed;
  uint64_t current; /* last task begun */
  const void *pool; /* pool threads: their pool */
  int slot;
  char group[32], name[96], host[64], log[512], why[96];
} worker;

typedef struct jobrec {
  long id;
  char group[32], state[24], reason[48], log[512];
} jobrec;

typedef struct taskrec {
  uint64_t seq;
  int worker;
  uint64_t comp;
  size_t trial, c0, nc, nall;
  double t0, t1;
  int state;
} taskrec;

typedef struct comprec {
  uint64_t id;
  char name[48];
  size_t total, done;
  int workers, state;
  double t0, t1;
} comprec;

typedef struct logrec {
  double wall;
  int level;
  char msg[400];
} logrec;

static struct {
  pthread_mutex_t lock;
  atomic_uint_fast64_t version;
  double t0, wall0;
  worker *w;
  int nw;
  jobrec *j;
  int nj;
  taskrec t[NTASKS];
  uint64_t tseq; /* tasks begun; task k lives in t[(k-1) % NTASKS] */
  comprec c[NCOMPS];
  uint64_t cseq;
  logrec l[NLOGS];
  uint64_t lseq;
  char waiting[1024];
  double waiting_since;
} S = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void sbf(spy_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void cpy(char *dst, size_t n, const char *src) { snprintf(dst, n, "%s", src ? src : ""); }

/* under the lock */
static void init(void)
{
  if (S.t0 > 0) return;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  S.t0 = spy_now();
  S.wall0 = (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec - S.t0;
}

static void changed(void) { atomic_fetch_add_explicit(&S.version, 1, memory_order_relaxed); }

uint64_t spy_ev_version(void) { return atomic_load_explicit(&S.version, memory_order_relaxed); }

static comprec *cur_comp(void) { return S.cseq ? &S.c[(S.cseq - 1) % NCOMPS] : NULL; }

void spy_ev_comp_begin(const char *name, size_t ntasks, int nworkers)
{
  pthread_mutex_lock(&S.lock);
  init();
  comprec *c = &S.c[S.cseq++ % NCOMPS];
  memset(c, 0, sizeof *c);
  c->id = S.cseq;
  cpy(c->name, sizeof c->name, name);
  c->total = ntasks;
  c->workers = nworkers;
  c->state = C_RUN;
  c->t0 = spy_now();
  changed();
  pthread_mutex_unlock(&S.lock);
}

void spy_ev_comp_progress(size_t done)
{
  pthread_mutex_lock(&S.lock);
  comprec *c = cur_comp();
  if (c && c->done != done) {
    c->done = done;
    changed();
  }
  pthread_mutex_unlock(&S.lock);
}

void spy_ev_comp_end(int status)
{
  pthread_mutex_lock(&S.lock);
  comprec *c = cur_comp();
  if (c && c->state == C_RUN) {
    c->state = status == 0 ? C_DONE : status == SPY_EINTR ? C_INTR : C_FAIL;
    c->t1 = spy_now();
    /* tasks still marked running were dropped */
    for (uint64_t k = S.tseq > NTASKS ? S.tseq - NTASKS : 0; k < S.tseq; k++) {
      taskrec *t = &S.t[k % NTASKS];
      if (t->comp == c->id && t->state == T_RUN) {
        t->state = T_CANCEL;
        t->t1 = c->t1;
      }
    }
    changed();
  }
  pthread_mutex_unlock(&S.lock);
}

/* under the lock */
static worker *add_worker(void)
{
  if (S.nw >= MAX_WORKERS) return NULL;
  if (!S.w && !(S.w = calloc(MAX_WORKERS, sizeof *S.w))) return NULL;
  init();
  worker *w = &S.w[S.nw++];
  memset(w, 0, sizeof *w);
  w->id = S.nw;
  w->joined = spy_now();
  w->slot = -1;
  return w;
}

static worker *find_worker(int id) { return id > 0 && id <= S.nw ? &S.w[id - 1] : NULL; }

int spy_ev_worker_add(const char *group, const char *name, const char *host, long job, int nthreads,
                      double memory, const char *log)
{
  pthread_mutex_lock(&S.lock);
  worker *w = add_worker();
  int id = 0;
  if (w) {
    cpy(w->group, sizeof w->group, group);
    cpy(w->name, sizeof w->name, name);
    cpy(w->host, sizeof w->host, host);
    cpy(w->log, sizeof w->log, log);
    w->job = job;
    w->nthreads = nthreads;
    w->memory = memory;
    id = w->id;
    changed();
  }
  pthread_mutex_unlock(&S.lock);
  return id;
}

void spy_ev_worker_gone(int id, const char *why)
{
  pthread_mutex_lock(&S.lock);
  worker *w = find_worker(id);
  if (w && w->state != W_GONE) {
    w->state = W_GONE;
    w->left = spy_now();
    w->pool = NULL;
    cpy(w->why, sizeof w->why, why);
    changed();
  }
  pthread_mutex_unlock(&S.lock);
}

void spy_ev_group_close(const char *group)
{
  pthread_mutex_lock(&S.lock);
  for (int i = 0; i < S.nw; i++)
    if (strcmp(S.w[i].group, group) == 0 && S.w[i].state != W_GONE) {
      S.w[i].state = W_GONE;
      S.w[i].left = spy_now();
      S.w[i].pool = NULL;
      cpy(S.w[i].why, sizeof S.w[i].why, "cluster closed");
    }
  for (int i = 0; i < S.nj;)
    if (strcmp(S.j[i].group, group) == 0) S.j[i] = S.j[--S.nj];
    else i++;
  changed();
  pthread_mutex_unlock(&S.lock);
}

int spy_ev_pool_add(const char *group, const void *pool, int nthreads, double memory_per_thread)
{
  char host[64] = "localhost";
  gethostname(host, sizeof host - 1);
  pthread_mutex_lock(&S.lock);
  int base = 0;
  if (S.nw + nthreads <= MAX_WORKERS)
    for (int k = 0; k < nthreads; k++) {
      worker *w = add_worker();
      if (!w) break;
      snprintf(w->name, sizeof w->name, "%s-%d", group, k);
      cpy(w->group, sizeof w->group, group);
      cpy(w->host, sizeof w->host, host);
      w->nthreads = 1;
      w->memory = memory_per_thread;
      w->pool = pool;
      w->slot = k;
      if (k == 0) base = w->id;
    }
  changed();
  pthread_mutex_unlock(&S.lock);
  return base;
}

int spy_ev_pool_base(const void *pool)
{
  int id = 0;
  if (!pool) return 0;
  pthread_mutex_lock(&S.lock);
  for (int i = 0; i < S.nw && !id; i++)
    if (S.w[i].pool == pool && S.w[i].slot == 0) id = S.w[i].id;
  pthread_mutex_unlock(&S.lock);
  return id;
}

uint64_t spy_ev_task_begin(int wid, size_t trial, size_t chan0, size_t nchan, size_t nchan_all)
{
  pthread_mutex_lock(&S.lock);
  worker *w = find_worker(wid);
  uint64_t h = 0;
  if (w) {
    taskrec *t = &S.t[S.tseq++ % NTASKS];
    comprec *c = cur_comp();
    *t = (taskrec){S.tseq, wid, c ? c->id : 0, trial, chan0, nchan, nchan_all, spy_now(), 0, T_RUN};
    w->busy++;
    if (w->state == W_IDLE) w->state = W_BUSY;
    w->current = S.tseq;
    h = S.tseq;
    changed();
  }
  pthread_mutex_unlock(&S.lock);
  return h;
}

void spy_ev_task_end(uint64_t h, int status)
{
  if (!h) return;
  pthread_mutex_lock(&S.lock);
  taskrec *t = &S.t[(h - 1) % NTASKS];
  worker *w = find_worker(t->seq == h ? t->worker : 0);
  if (w) {
    t->t1 = spy_now();
    if (t->state == T_RUN)
      t->state = status == 0 ? T_DONE : status == SPY_EINTR || status == 1 ? T_CANCEL : T_FAIL;
    if (status == 0) w->done++;
    else if (t->state == T_FAIL) w->failed++;
    if (w->busy > 0) w->busy--;
    if (!w->busy && w->state == W_BUSY) w->state = W_IDLE;
    changed();
  }
  pthread_mutex_unlock(&S.lock);
}

void spy_ev_job(const char *group, long id, const char *state, const char *reason, const char *log)
{
  pthread_mutex_lock(&S.lock);
  jobrec *j = NULL;
  for (int i = 0; i < S.nj && !j; i++)
    if (S.j[i].id == id) j = &S.j[i];
  if (!j && S.nj < MAX_JOBS && (S.j || (S.j = calloc(MAX_JOBS, sizeof *S.j)))) {
    j = &S.j[S.nj++];
    memset(j, 0, sizeof *j);
    j->id = id;
    cpy(j->group, sizeof j->group, group);
  }
  if (j) {
    if (state) cpy(j->state, sizeof j->state, state);
    if (reason) cpy(j->reason, sizeof j->reason, reason);
    if (log) cpy(j->log, sizeof j->log, log);
    changed();
  }
  pthread_mutex_unlock(&S.lock);
}

void spy_ev_waiting(const char *line)
{
  pthread_mutex_lock(&S.lock);
  init();
  if (!line) S.waiting[0] = 0;
  else {
    if (!S.waiting[0]) S.waiting_since = spy_now();
    cpy(S.waiting, sizeof S.waiting, line);
  }
  changed();
  pthread_mutex_unlock(&S.lock);
}

void spy_ev_log(int level, const char *msg)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  pthread_mutex_lock(&S.lock);
  logrec *l = &S.l[S.lseq++ % NLOGS];
  l->wall = (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
  l->level = level;
  cpy(l->msg, sizeof l->msg, msg);
  changed();
  pthread_mutex_unlock(&S.lock);
}

/* ---- readers --------------------------------------------------------------------------- */

static const char *wstate(const worker *w)
{
  return w->state == W_GONE ? "gone" : w->busy ? "busy" : "idle";
}

static const char *tstate(int s)
{
  return s == T_RUN ? "running" : s == T_DONE ? "done" : s == T_FAIL ? "failed" : "cancelled";
}

static const char *cstate(int s)
{
  return s == C_RUN ? "running" : s == C_DONE ? "finished" : s == C_FAIL ? "failed" : "interrupted";
}

/* "trial 5" or "trial 5, channels 1-4" (1-based, as in error messages) */
static void task_label(const taskrec *t, char *buf, size_t n)
{
  if (t->nc && t->nc < t->nall)
    snprintf(buf, n, "trial %zu, channels %zu-%zu", t->trial + 1, t->c0 + 1, t->c0 + t->nc);
  else snprintf(buf, n, "trial %zu", t->trial + 1);
}

static double rel(double t) { return t > 0 ? t - S.t0 : 0; }

static const jobrec *find_job(long id)
{
  for (int i = 0; i < S.nj; i++)
    if (S.j[i].id == id) return &S.j[i];
  return NULL;
}

static cJSON *comp_json(const comprec *c, double now)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "id", (double)c->id);
  cJSON_AddStringToObject(o, "name", c->name);
  cJSON_AddStringToObject(o, "state", cstate(c->state));
  cJSON_AddNumberToObject(o, "tasks_total", (double)c->total);
  cJSON_AddNumberToObject(o, "tasks_done", (double)c->done);
  cJSON_AddNumberToObject(o, "progress", c->total ? (double)c->done / (double)c->total : 1.0);
  cJSON_AddNumberToObject(o, "workers", c->workers);
  cJSON_AddNumberToObject(o, "start", rel(c->t0));
  cJSON_AddNumberToObject(o, "elapsed", (c->state == C_RUN ? now : c->t1) - c->t0);
  return o;
}

static cJSON *worker_json(const worker *w)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "id", w->id);
  cJSON_AddStringToObject(o, "name", w->name);
  cJSON_AddStringToObject(o, "cluster", w->group);
  cJSON_AddStringToObject(o, "host", w->host);
  cJSON_AddStringToObject(o, "state", wstate(w));
  cJSON_AddNumberToObject(o, "threads", w->nthreads);
  cJSON_AddNumberToObject(o, "memory_limit", w->memory);
  cJSON_AddNumberToObject(o, "tasks_done", (double)w->done);
  cJSON_AddNumberToObject(o, "tasks_failed", (double)w->failed);
  const taskrec *t = w->current ? &S.t[(w->current - 1) % NTASKS] : NULL;
  if (w->busy && t && t->seq == w->current && t->state == T_RUN) {
    char lab[96];
    task_label(t, lab, sizeof lab);
    cJSON_AddStringToObject(o, "task", lab);
  } else {
    cJSON_AddNullToObject(o, "task");
  }
  const jobrec *j = w->job > 0 ? find_job(w->job) : NULL;
  if (w->job > 0) cJSON_AddNumberToObject(o, "slurm_job", (double)w->job);
  else cJSON_AddNullToObject(o, "slurm_job");
  if (j) {
    cJSON_AddStringToObject(o, "job_state", j->state);
    cJSON_AddStringToObject(o, "job_reason", j->reason);
  } else {
    cJSON_AddNullToObject(o, "job_state");
    cJSON_AddNullToObject(o, "job_reason");
  }
  cJSON_AddNumberToObject(o, "joined", rel(w->joined));
  if (w->state == W_GONE) {
    cJSON_AddNumberToObject(o, "left", rel(w->left));
    cJSON_AddStringToObject(o, "left_because", w->why);
  }
  return o;
}

static cJSON *task_json(const taskrec *t)
{
  char lab[96];
  task_label(t, lab, sizeof lab);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "worker", t->worker);
  cJSON_AddNumberToObject(o, "computation", (double)t->comp);
  cJSON_AddNumberToObject(o, "trial", (double)t->trial + 1);
  cJSON_AddStringToObject(o, "label", lab);
  cJSON_AddNumberToObject(o, "start", rel(t->t0));
  if (t->state == T_RUN) cJSON_AddNullToObject(o, "stop");
  else cJSON_AddNumberToObject(o, "stop", rel(t->t1));
  cJSON_AddStringToObject(o, "state", tstate(t->state));
  return o;
}

static double rss_bytes(void)
{
  FILE *f = fopen("/proc/self/statm", "r");
  long pages = 0, res = 0;
  if (f) {
    if (fscanf(f, "%ld %ld", &pages, &res) != 2) res = 0;
    fclose(f);
  }
  return (double)res * (double)sysconf(_SC_PAGESIZE);
}

cJSON *spy_ev_snapshot(void)
{
  double rss = rss_bytes();
  char host[256] = "localhost";
  gethostname(host, sizeof host - 1);
  cJSON *o = cJSON_CreateObject();
  pthread_mutex_lock(&S.lock);
  init();
  double now = spy_now();
  cJSON_AddNumberToObject(o, "format", 1);
  cJSON_AddStringToObject(o, "session", spy_session_id());
  cJSON_AddStringToObject(o, "host", host);
  cJSON_AddNumberToObject(o, "pid", (double)getpid());
  cJSON_AddNumberToObject(o, "time", S.wall0 + now);
  cJSON_AddNumberToObject(o, "clock", rel(now));
  cJSON_AddNumberToObject(o, "memory_rss", rss);
  comprec *c = cur_comp();
  if (c) cJSON_AddItemToObject(o, "computation", comp_json(c, now));
  else cJSON_AddNullToObject(o, "computation");
  cJSON *cs = cJSON_AddArrayToObject(o, "computations");
  for (uint64_t k = S.cseq > NCOMPS ? S.cseq - NCOMPS : 0; k < S.cseq; k++)
    cJSON_AddItemToArray(cs, comp_json(&S.c[k % NCOMPS], now));
  if (S.waiting[0]) {
    cJSON *wt = cJSON_AddObjectToObject(o, "waiting");
    cJSON_AddStringToObject(wt, "message", S.waiting);
    cJSON_AddNumberToObject(wt, "since", rel(S.waiting_since));
  } else {
    cJSON_AddNullToObject(o, "waiting");
  }
  int live = 0, busy = 0;
  cJSON *ws = cJSON_AddArrayToObject(o, "workers");
  for (int i = 0; i < S.nw; i++) {
    const worker *w = &S.w[i];
    if (w->state == W_GONE && now - w->left > 300) continue; /* long gone */
    live += w->state != W_GONE;
    busy += w->state != W_GONE && w->busy > 0;
    cJSON_AddItemToArray(ws, worker_json(w));
  }
  cJSON_AddNumberToObject(o, "workers_available", live);
  cJSON_AddNumberToObject(o, "workers_busy", busy);
  cJSON *js = cJSON_AddArrayToObject(o, "jobs");
  for (int i = 0; i < S.nj; i++) {
    const jobrec *j = &S.j[i];
    int wid = 0;
    for (int k = 0; k < S.nw && !wid; k++)
      if (S.w[k].job == j->id && S.w[k].state != W_GONE) wid = S.w[k].id;
    cJSON *jo = cJSON_CreateObject();
    cJSON_AddNumberToObject(jo, "id", (double)j->id);
    cJSON_AddStringToObject(jo, "cluster", j->group);
    cJSON_AddStringToObject(jo, "state", j->state);
    cJSON_AddStringToObject(jo, "reason", j->reason);
    if (wid) cJSON_AddNumberToObject(jo, "worker", wid);
    else cJSON_AddNullToObject(jo, "worker");
    if (j->log[0]) cJSON_AddStringToObject(jo, "log", j->log);
    cJSON_AddItemToArray(js, jo);
  }
  cJSON *ts = cJSON_AddArrayToObject(o, "tasks");
  uint64_t first = S.tseq > SNAP_TASKS ? S.tseq - SNAP_TASKS : 0;
  for (uint64_t k = first; k < S.tseq; k++) cJSON_AddItemToArray(ts, task_json(&S.t[k % NTASKS]));
  cJSON *ls = cJSON_AddArrayToObject(o, "log");
  for (uint64_t k = S.lseq > SNAP_LOGS ? S.lseq - SNAP_LOGS : 0; k < S.lseq; k++) {
    const logrec *l = &S.l[k % NLOGS];
    cJSON *lo = cJSON_CreateObject();
    cJSON_AddNumberToObject(lo, "time", l->wall);
    cJSON_AddStringToObject(lo, "level", spy_log_level_name(l->level));
    cJSON_AddStringToObject(lo, "message", l->msg);
    cJSON_AddItemToArray(ls, lo);
  }
  pthread_mutex_unlock(&S.lock);
  return o;
}

/* The last `tail` bytes of a file, from the start of a line; NULL if unreadable. */
static char *file_tail(const char *path, size_t tail)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return NULL;
  struct stat st;
  char *buf = NULL;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    off_t from = st.st_size > (off_t)tail ? st.st_size - (off_t)tail : 0;
    size_t n = (size_t)(st.st_size - from);
    buf = malloc(n + 1);
    ssize_t k = buf ? pread(fd, buf, n, from) : -1;
    if (k < 0) {
      free(buf);
      buf = NULL;
    } else {
      buf[k] = 0;
      char *nl = from > 0 ? strchr(buf, '\n') : NULL;
      if (nl) memmove(buf, nl + 1, strlen(nl + 1) + 1);
    }
  }
  close(fd);
  return buf;
}

cJSON *spy_ev_worker_info(int id, size_t tail)
{
  char log[512] = "";
  cJSON *o = NULL;
  pthread_mutex_lock(&S.lock);
  const worker *w = find_worker(id);
  if (w) {
    o = worker_json(w);
    const jobrec *j = w->job > 0 ? find_job(w->job) : NULL;
    cpy(log, sizeof log, w->log[0] ? w->log : j ? j->log : "");
    cJSON *ts = cJSON_AddArrayToObject(o, "tasks");
    uint64_t first = S.tseq > NTASKS ? S.tseq - NTASKS : 0, k = S.tseq;
    int n = 0;
    while (k > first && n < 100) {
      const taskrec *t = &S.t[--k % NTASKS];
      if (t->worker == id) {
        cJSON_AddItemToArray(ts, task_json(t));
        n++;
      }
    }
  }
  pthread_mutex_unlock(&S.lock);
  if (!o) return NULL;
  if (log[0]) {
    /* Slurm writes the job's stderr next to its stdout (<name>-<job>.err / .out) */
    cJSON_AddStringToObject(o, "log_file", log);
    char err[520];
    size_t n = strlen(log);
    snprintf(err, sizeof err, "%.*s.err", (int)(n > 4 ? n - 4 : n), log);
    char *out = file_tail(log, tail);
    char *etext = n > 4 && strcmp(log + n - 4, ".out") == 0 ? file_tail(err, tail) : NULL;
    if (out || etext) {
      spy_strbuf b = {0};
      if (etext) {
        sbf(&b, "==> %s <==\n", err);
        spy_sb_puts(&b, etext);
        sbf(&b, "%s==> %s <==\n", *etext && etext[strlen(etext) - 1] != '\n' ? "\n" : "", log);
      }
      spy_sb_puts(&b, out ? out : "");
      char *text = spy_sb_take(&b);
      cJSON_AddStringToObject(o, "log_tail", text ? text : "");
      free(text);
    } else {
      cJSON_AddNullToObject(o, "log_tail");
    }
    free(out);
    free(etext);
  } else {
    cJSON_AddNullToObject(o, "log_file");
    cJSON_AddNullToObject(o, "log_tail");
  }
  return o;
}

/* dask's format_bytes */
static void fmt_bytes(char *buf, size_t n, double b)
{
  static const char *p[] = {"Pi", "Ti", "Gi", "Mi", "ki"};
  double k = 1125899906842624.0;
  for (size_t i = 0; i < 5; i++, k /= 1024)
    if (b >= 0.9 * k) {
      snprintf(buf, n, "%.2f %sB", b / k, p[i]);
      return;
    }
  snprintf(buf, n, "%.0f B", b);
}

static const char *js(const cJSON *o, const char *k)
{
  const cJSON *v = cJSON_GetObjectItem(o, k);
  return cJSON_IsString(v) ? v->valuestring : "";
}

static double jn(const cJSON *o, const char *k)
{
  const cJSON *v = cJSON_GetObjectItem(o, k);
  return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static void sbf(spy_strbuf *b, const char *fmt, ...)
{
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n > 0) spy_sb_put(b, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

char *spy_ev_status_text(const char *link)
{
  cJSON *s = spy_ev_snapshot();
  spy_strbuf b = {0};
  char mem[32];
  fmt_bytes(mem, sizeof mem, jn(s, "memory_rss"));
  sbf(&b, "spy session %s on %s (pid %.0f, memory %s)\n", js(s, "session"), js(s, "host"),
                jn(s, "pid"), mem);
  sbf(&b, "dashboard: %s\n", link ? link : "not running");
  const cJSON *c = cJSON_GetObjectItem(s, "computation");
  if (cJSON_IsObject(c))
    sbf(&b, "computation %.0f (%s): %s, %.0f/%.0f tasks (%.0f%%), %.2f s\n", jn(c, "id"), js(c, "name"),
        js(c, "state"), jn(c, "tasks_done"), jn(c, "tasks_total"), 100 * jn(c, "progress"), jn(c, "elapsed"));
  else sbf(&b, "computation: none yet\n");
  const cJSON *wt = cJSON_GetObjectItem(s, "waiting");
  if (cJSON_IsObject(wt)) sbf(&b, "waiting: %s\n", js(wt, "message"));
  sbf(&b, "workers: %.0f available, %.0f busy\n", jn(s, "workers_available"), jn(s, "workers_busy"));
  const cJSON *w;
  bool head = false;
  cJSON_ArrayForEach(w, cJSON_GetObjectItem(s, "workers"))
  {
    if (!head) {
      sbf(&b, "  %-4s %-28s %-5s %-9s %-26s %-16s %-24s %6s %11s\n", "id", "name", "state", "slurm job",
                    "job state", "host", "task", "done", "memory");
      head = true;
    }
    char job[24] = "-", jst[80] = "-";
    if (cJSON_IsNumber(cJSON_GetObjectItem(w, "slurm_job"))) snprintf(job, sizeof job, "%.0f", jn(w, "slurm_job"));
    if (*js(w, "job_state")) {
      const char *r = js(w, "job_reason");
      if (*r && strcmp(r, "None") != 0) snprintf(jst, sizeof jst, "%s (%s)", js(w, "job_state"), r);
      else snprintf(jst, sizeof jst, "%s", js(w, "job_state"));
    }
    fmt_bytes(mem, sizeof mem, jn(w, "memory_limit"));
    sbf(&b, "  %-4.0f %-28s %-5s %-9s %-26s %-16s %-24s %6.0f %11s\n", jn(w, "id"), js(w, "name"),
                  js(w, "state"), job, jst, js(w, "host"), *js(w, "task") ? js(w, "task") : "-",
                  jn(w, "tasks_done"), mem);
  }
  const cJSON *j;
  cJSON_ArrayForEach(j, cJSON_GetObjectItem(s, "jobs"))
  {
    if (cJSON_IsNumber(cJSON_GetObjectItem(j, "worker"))) continue;
    const char *r = js(j, "reason");
    bool why = *r && strcmp(r, "None") != 0;
    sbf(&b, "  Slurm job %.0f without a worker: %s%s%s%s\n", jn(j, "id"), js(j, "state"), why ? " (" : "",
        why ? r : "", why ? ")" : "");
  }
  const cJSON *ls = cJSON_GetObjectItem(s, "log");
  int nl = cJSON_GetArraySize(ls);
  if (nl) sbf(&b, "recent log:\n");
  for (int i = nl > 10 ? nl - 10 : 0; i < nl; i++) {
    const cJSON *l = cJSON_GetArrayItem(ls, i);
    time_t t = (time_t)jn(l, "time");
    struct tm tm;
    char hms[16];
    localtime_r(&t, &tm);
    strftime(hms, sizeof hms, "%H:%M:%S", &tm);
    sbf(&b, "  %s - %s: %s\n", hms, js(l, "level"), js(l, "message"));
  }
  cJSON_Delete(s);
  return spy_sb_take(&b);
}
