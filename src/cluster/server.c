#include "cluster/server.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <math.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cluster/proto.h"
#include "core/interrupt.h"
#include "core/kwspec.h"
#include "core/log.h"
#include "core/settings.h"
#include "dash/events.h"
#include "data/data.h"

/* Unauthenticated connections hold no slot anyone needs: there is no small
** pool to fill (a pending connection costs a descriptor and ~300 bytes), and
** past these counts (per source address, in all) the connection silent the
** longest is evicted to make room.  A client on another node can only evict
** its own connections; one on a worker's node would have to cycle a
** thousand connections in the milliseconds a worker needs to answer the
** greeting -- and an evicted worker retries. */
#define MAX_PENDING_HANDSHAKES 1024
#define PENDING_PER_SOURCE 256
#define MAX_CONNECTIONS 4096
#define HANDSHAKE_SECONDS 5.0
/* Refusals are logged per reason in bursts of at most 10, then 1 per second;
** the rest are counted and reported with the next line of that reason (so a
** flood of one kind hides no other kind). */
#define REFUSAL_BURST 10.0
#define REFUSALS_PER_SECOND 1.0
#define REFUSAL_KINDS 8

typedef struct refusal_kind {
  char why[96];
  double tokens, at;
  unsigned quiet;
} refusal_kind;
#define HEARTBEAT_SECONDS 1.0
#define WORKER_TTL_SECONDS 30.0
#define MAX_OUTQ (512u << 20)
#define ALLOWED_FAILURES 3
/* Tasks a worker may hold per thread: one running, one queued behind it, so
** it never idles for a round trip between tasks. */
#define DEPTH 2
/* Waiting for workers: a line every 2 s (INFO, always in the log file), every
** third one at IMPORTANT so the default console shows it. */
#define WAIT_SHOW_TICKS 3

enum { C_HANDSHAKE, C_READY, C_CLOSING };
enum { J_SUBMITTED, J_ACTIVE, J_LOST, J_ENDED, J_CANCELLED };
enum { T_SENT, T_DONE, T_FAILED, T_DIED };

typedef struct conn {
  int fd;
  int stage;
  double deadline, heard, pinged;
  unsigned char snonce[SPY_PROTO_NONCE];
  spy_inbuf in;
  unsigned char *out;
  size_t outn, outoff, outcap;
  bool overflow;
  char peer[64];
  uint32_t addr; /* IPv4 source, network order */
  /* after authentication */
  int wid;
  char name[128];
  long job;
  int nthreads, busy;
  bool retiring;        /* its job's walltime is near: no new tasks, SHUTDOWN when idle */
  double memory;
  uint64_t comp_sent;
  int ev;               /* dashboard id (dash/events.h) */
  struct conn *next;
} conn;

typedef struct job {
  long id;
  int state;
  int nconnected;
  bool retiring;        /* its worker retires before the walltime: replaced, not live */
  char sstate[24], reason[48];
} job;

typedef struct ptask {
  uint64_t id;
  int wid;
  int state;
  bool abandoned;
  unsigned flags;
  int code;
  char *msg;
  char worker[128];
  long job;
  /* the result block arrives in BLOCK frames straight into the buffer the
  ** proxy waits with; NULL once the proxy gave up on the task (its bytes
  ** are then dropped) */
  unsigned char *dst;
  size_t want, got;
  struct ptask *next;
} ptask;

struct spy_cluster {
  spy_slurm_config cfg;
  char id[9], dir[4096], address[128];
  unsigned char key[SPY_PROTO_KEY];
  int lfd, wake[2];
  pthread_t server, monitor;
  bool threads_started, closing, closed;
  pthread_mutex_t lock;
  pthread_cond_t cond;   /* workers, replies, jobs changed */
  pthread_cond_t mcond;  /* the monitor's: a worker was lost, closing */
  conn *conns;
  int nconns, nwid;
  job *jobs;
  size_t njobs, capjobs;
  int target_jobs, replaced;
  int replacing;        /* replacement jobs being submitted (count as live) */
  int retire_pending;             /* retiring jobs to replace (monitor) */
  int external, external_threads; /* workers started by others (in-allocation ranks) */
  int external_lost;              /* of those, lost (a rank is not replaced) */
  char rendezvous[4200];          /* their rendezvous file, removed at close */
  /* adapt(): jobs between adapt_min and adapt_max, following the computations */
  bool adapt_on, adapt_busy;
  int adapt_min, adapt_max;
  double adapt_wait, adapt_idle_since;
  pthread_mutex_t scale_lock;     /* one scale at a time (user, adapt) */
  ptask *tasks;
  uint64_t next_task;
  /* the current computation */
  uint64_t comp_id;
  spy_msgbuf comp_frame;
  const spy_op *op;      /* its op, valid from begin to end (the block sizes) */
  char fname[64];
  size_t nchan;          /* selected channels (the dashboard's task labels) */
  /* executor */
  spy_remote remote;
  spy_pool *pool;
  int pool_slots;
  size_t recv_peak;     /* the largest receive buffer a connection held */
  struct spy_cluster *next_open;
  /* rate limit of refusal warnings, per reason */
  refusal_kind refusals[REFUSAL_KINDS];
};

/* every open cluster, for the exit paths */
static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;
static spy_cluster *open_list;
static bool atexit_done, signals_installed;
/* a Slurm job was submitted by this session: only then does SIGTERM run scancel
** (in-allocation ranks have none; outside Slurm, scancel only prints errors) */
static volatile sig_atomic_t jobs_submitted;

/* ---- small helpers ------------------------------------------------------------ */

static void wake(spy_cluster *c)
{
  char x = 1;
  ssize_t k = write(c->wake[1], &x, 1);
  (void)k;
}

void spy_cluster_user_name(char *buf, size_t n)
{
  struct passwd *pw = getpwuid(getuid());
  const char *u = pw ? pw->pw_name : getenv("USER");
  size_t k = 0;
  for (const char *p = u ? u : "user"; *p && k + 1 < n; p++)
    buf[k++] = (char)((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                              *p == '.' || *p == '_'
                          ? *p
                          : '_');
  buf[k] = 0;
}

void spy_cluster_job_name(char *buf, size_t n)
{
  char user[64];
  spy_cluster_user_name(user, sizeof user);
  snprintf(buf, n, "spy-worker-%s-%s", user, spy_session_id());
}

static job *find_job(spy_cluster *c, long id)
{
  for (size_t i = 0; i < c->njobs; i++)
    if (c->jobs[i].id == id) return &c->jobs[i];
  return NULL;
}

static bool terminal(const char *s);

static bool live(const job *j) { return (j->state == J_SUBMITTED || j->state == J_ACTIVE) && !j->retiring; }

/* jobs that are or will be there: submitted, running, lost and about to be
** replaced, or being submitted as replacements */
static int live_jobs(const spy_cluster *c)
{
  int n = c->replacing;
  for (size_t i = 0; i < c->njobs; i++) n += live(&c->jobs[i]);
  return n;
}

static bool lost_jobs(const spy_cluster *c)
{
  for (size_t i = 0; i < c->njobs; i++)
    if (c->jobs[i].state == J_LOST) return true;
  return false;
}

static int ready_workers(const spy_cluster *c)
{
  int n = 0;
  for (conn *w = c->conns; w; w = w->next) n += w->stage == C_READY;
  return n;
}

static void log_path(const spy_cluster *c, long id, char *buf, size_t n)
{
  if (c->cfg.log_directory) snprintf(buf, n, "%s/%s-%ld.out", c->cfg.log_directory, c->cfg.job_name, id);
  else snprintf(buf, n, "slurm-%ld.out", id);
}

static void queue_bytes(conn *w, const void *p, size_t n)
{
  if (w->stage == C_CLOSING || w->overflow) return;
  if (w->outoff && w->outoff == w->outn) w->outoff = w->outn = 0;
  if (w->outn + n > MAX_OUTQ) {
    w->overflow = true;
    return;
  }
  if (w->outn + n > w->outcap) {
    size_t cap = w->outcap ? w->outcap : 4096;
    while (cap < w->outn + n) cap *= 2;
    unsigned char *q = realloc(w->out, cap);
    if (!q) {
      w->overflow = true;
      return;
    }
    w->out = q;
    w->outcap = cap;
  }
  memcpy(w->out + w->outn, p, n);
  w->outn += n;
}

static void queue_msg(conn *w, spy_msgbuf *b)
{
  if (spy_msg_end(b, NULL) == SPY_OK) queue_bytes(w, b->p, b->n);
}

static void queue_simple(conn *w, int type, const uint64_t *arg)
{
  spy_msgbuf b = {0};
  spy_msg_begin(&b, type);
  if (arg) spy_msg_u64(&b, *arg);
  queue_msg(w, &b);
  spy_msgbuf_free(&b);
}

/* ---- connections (server thread, lock held) ------------------------------------- */

static void free_conn(conn *w)
{
  if (w->fd >= 0) close(w->fd);
  spy_inbuf_free(&w->in);
  free(w->out);
  free(w);
}

/* "refused connection from <peer> to cluster <id>: <why>", rate-limited:
** a flood of connections must not flood the log. */
static void log_refusal(spy_cluster *c, const char *peer, const char *why)
{
  double now = spy_clock();
  refusal_kind *k = NULL, *lru = &c->refusals[0];
  for (int i = 0; i < REFUSAL_KINDS && !k; i++) {
    refusal_kind *q = &c->refusals[i];
    if (q->why[0] && strncmp(q->why, why, sizeof q->why - 1) == 0) k = q;
    else if (q->at < lru->at) lru = q;
  }
  if (!k) { /* a new reason takes the slot used longest ago (zeroed: a full bucket) */
    k = lru;
    if (k->quiet)
      spy_log(SPY_LOG_WARNING, "%u more refused connections to cluster %s not shown: %s", k->quiet,
              c->id, k->why);
    snprintf(k->why, sizeof k->why, "%s", why);
    k->tokens = REFUSAL_BURST;
    k->quiet = 0;
    k->at = now;
  }
  k->tokens = fmin(REFUSAL_BURST, k->tokens + (now - k->at) * REFUSALS_PER_SECOND);
  k->at = now;
  if (k->tokens < 1) {
    k->quiet++;
    return;
  }
  k->tokens -= 1;
  if (k->quiet)
    spy_log(SPY_LOG_WARNING,
            "refused connection from %s to cluster %s: %s (and %u more refused connections not "
            "shown)",
            peer, c->id, why, k->quiet);
  else
    spy_log(SPY_LOG_WARNING, "refused connection from %s to cluster %s: %s", peer, c->id, why);
  k->quiet = 0;
}

/* Takes w out of service: its tasks die, its job may be lost. */
static void drop(spy_cluster *c, conn *w, const char *why)
{
  if (w->stage == C_HANDSHAKE) {
    log_refusal(c, w->peer, why);
  } else if (w->stage == C_READY) {
    for (ptask **pp = &c->tasks; *pp;) {
      ptask *p = *pp;
      if (p->wid == w->wid && p->state == T_SENT && p->abandoned) {
        *pp = p->next;
        free(p);
        continue;
      }
      if (p->wid == w->wid && p->state == T_SENT) p->state = T_DIED;
      pp = &p->next;
    }
    job *j = find_job(c, w->job);
    if (j && j->nconnected > 0) j->nconnected--;
    if (!c->closing && j && j->retiring && j->nconnected == 0) {
      j->state = J_ENDED; /* retired before its walltime; replaced already */
    } else if (!c->closing && j && j->state == J_ACTIVE && j->nconnected == 0) {
      j->state = J_LOST;
      pthread_cond_signal(&c->mcond);
    }
    if (!c->closing && w->retiring)
      spy_log_keep(SPY_LOG_INFO, "worker %s (Slurm job %ld) retired before its walltime", w->name, w->job);
    else if (!c->closing && j && j->state != J_CANCELLED)
      spy_log(SPY_LOG_WARNING, "worker %s (Slurm job %ld) was lost: %s", w->name, w->job, why);
    else if (!c->closing && !j) /* not a job of ours: an in-allocation rank */
      spy_log(SPY_LOG_WARNING, "worker %s was lost: %s", w->name, why);
    if (!c->closing && !j) c->external_lost++;
    spy_ev_worker_gone(w->ev, c->closing ? "cluster closed" : why);
    pthread_cond_broadcast(&c->cond);
  }
  if (w->stage != C_CLOSING) c->nconns--;
  w->stage = C_CLOSING;
  shutdown(w->fd, SHUT_RDWR);
}

static void reject(conn *w, const char *why)
{
  spy_msgbuf b = {0};
  spy_msg_begin(&b, SPY_MSG_REJECT);
  spy_msg_str(&b, why);
  if (spy_msg_end(&b, NULL) == SPY_OK) {
    ssize_t k = send(w->fd, b.p, b.n, MSG_NOSIGNAL | MSG_DONTWAIT); /* best effort */
    (void)k;
  }
  spy_msgbuf_free(&b);
}

static void on_auth(spy_cluster *c, conn *w, spy_msgreader *r)
{
  char magic[4];
  unsigned char wnonce[SPY_PROTO_NONCE], mac[SPY_PROTO_MAC], want[SPY_PROTO_MAC];
  spy_rd_raw(r, magic, 4);
  uint32_t version = spy_rd_u32(r);
  spy_rd_raw(r, wnonce, sizeof wnonce);
  spy_rd_raw(r, mac, sizeof mac);
  char *info = spy_rd_str(r);
  cJSON *j = info ? cJSON_Parse(info) : NULL;
  free(info);
  char why[256] = "";
  if (r->bad || memcmp(magic, SPY_PROTO_MAGIC, 4) != 0) {
    snprintf(why, sizeof why, "not a spy worker");
  } else if (version != SPY_PROTO_VERSION) {
    snprintf(why, sizeof why, "protocol version %u, the session speaks %u", version, SPY_PROTO_VERSION);
    reject(w, why);
  } else {
    spy_auth_mac(c->key, "spy-worker", w->snonce, wnonce, want);
    if (!spy_auth_equal(mac, want)) {
      snprintf(why, sizeof why, "authentication failed (wrong or missing secret)");
      reject(w, "authentication failed");
    } else if (!cJSON_IsObject(j) || strcmp(spy_cfg_str(j, "version", ""), SPY_VERSION) != 0) {
      snprintf(why, sizeof why, "the worker runs spy %s, the session spy %s",
               cJSON_IsObject(j) ? spy_cfg_str(j, "version", "?") : "?", SPY_VERSION);
      reject(w, why);
    }
  }
  int nthreads = (int)spy_cfg_num(j, "nthreads", 1);
  if (!*why && (nthreads < 1 || nthreads > 1024)) snprintf(why, sizeof why, "bad thread count");
  if (*why) {
    cJSON_Delete(j);
    drop(c, w, why);
    return;
  }
  w->stage = C_READY;
  w->wid = ++c->nwid;
  w->nthreads = nthreads;
  w->memory = spy_cfg_num(j, "memory", 0);
  w->job = (long)spy_cfg_num(j, "job", 0);
  snprintf(w->name, sizeof w->name, "%s", spy_cfg_str(j, "name", "worker"));
  char lp[4400];
  log_path(c, w->job, lp, sizeof lp);
  w->ev = spy_ev_worker_add(c->id, w->name, spy_cfg_str(j, "host", w->peer), w->job, nthreads, w->memory,
                            w->job > 0 ? lp : NULL);
  if (w->job > 0) spy_ev_job(c->id, w->job, "RUNNING", "None", NULL);
  cJSON_Delete(j);
  job *jb = find_job(c, w->job);
  if (jb) {
    jb->nconnected++;
    if (jb->state == J_SUBMITTED) jb->state = J_ACTIVE;
  }
  spy_auth_mac(c->key, "spy-session", w->snonce, wnonce, mac);
  spy_msgbuf b = {0};
  spy_msg_begin(&b, SPY_MSG_WELCOME);
  spy_msg_raw(&b, mac, sizeof mac);
  char json[96];
  snprintf(json, sizeof json, "{\"id\":%d,\"heartbeat\":%g}", w->wid, HEARTBEAT_SECONDS);
  spy_msg_str(&b, json);
  queue_msg(w, &b);
  spy_msgbuf_free(&b);
  spy_log(SPY_LOG_INFO, "worker %s connected from %s (Slurm job %ld, %d thread%s)", w->name, w->peer,
          w->job, w->nthreads, w->nthreads == 1 ? "" : "s");
  /* a worker of a job that was cancelled meanwhile goes home */
  if (jb && (jb->state == J_CANCELLED || jb->state == J_ENDED)) queue_simple(w, SPY_MSG_SHUTDOWN, NULL);
  pthread_cond_broadcast(&c->cond);
}

static ptask *find_task(spy_cluster *c, uint64_t id, int wid)
{
  for (ptask *p = c->tasks; p; p = p->next)
    if (p->id == id && p->wid == wid) return p;
  return NULL;
}

static void unlink_task(spy_cluster *c, ptask *t)
{
  for (ptask **pp = &c->tasks; *pp; pp = &(*pp)->next)
    if (*pp == t) {
      *pp = t->next;
      return;
    }
}

/* A reply for task id: record it, or clean up after an abandoned task. */
static int on_reply(spy_cluster *c, conn *w, int type, spy_msgreader *r)
{
  uint64_t id = spy_rd_u64(r);
  unsigned flags = 0;
  int code = 0;
  uint64_t bytes = 0;
  char *msg = NULL;
  if (type == SPY_MSG_RESULT) {
    flags = spy_rd_u32(r);
    bytes = spy_rd_u64(r);
  } else {
    code = (int)spy_rd_u32(r);
    msg = spy_rd_str(r);
  }
  if (r->bad) {
    free(msg);
    return -1;
  }
  ptask *p = find_task(c, id, w->wid);
  if (!p || p->state != T_SENT) {
    free(msg);
    return 0; /* a task given up on (its worker was declared dead): ignore */
  }
  /* a result must be the whole block, received: anything else is a broken
  ** worker, dropped (its tasks re-run) */
  if (type == SPY_MSG_RESULT && !p->abandoned && (bytes != p->want || p->got != p->want)) return -1;
  if (w->busy > 0) w->busy--;
  if (w->retiring && w->busy == 0) queue_simple(w, SPY_MSG_SHUTDOWN, NULL);
  if (p->abandoned) {
    unlink_task(c, p);
    free(msg);
    free(p);
  } else {
    p->state = type == SPY_MSG_RESULT ? T_DONE : T_FAILED;
    p->flags = flags;
    p->code = code < 0 && code >= SPY_ERUNTIME ? code : SPY_ERUNTIME;
    p->msg = msg;
  }
  pthread_cond_broadcast(&c->cond);
  return 0;
}

/* BLOCK: the next piece of a task's result, copied into the proxy's buffer
** (pieces arrive in order; one beyond the block is a broken worker). */
static int on_block(spy_cluster *c, conn *w, spy_msgreader *r)
{
  uint64_t id = spy_rd_u64(r), off = spy_rd_u64(r);
  if (r->bad) return -1;
  size_t n = r->n - r->off;
  ptask *p = find_task(c, id, w->wid);
  if (!p || p->state != T_SENT || !p->dst) return 0; /* given up on: dropped */
  if (off != p->got || n > p->want - p->got) return -1;
  memcpy(p->dst + p->got, r->p + r->off, n);
  p->got += n;
  return 0;
}

/* RETIRE: the worker's job ends soon.  No new tasks for it; it finishes
** what it holds and is shut down when idle; its job is replaced now. */
static void on_retire(spy_cluster *c, conn *w)
{
  if (w->retiring) return;
  w->retiring = true;
  job *j = find_job(c, w->job);
  if (j && !j->retiring && j->state == J_ACTIVE) {
    j->retiring = true;
    c->retire_pending++;
    pthread_cond_signal(&c->mcond);
  }
  spy_log_keep(SPY_LOG_INFO, "worker %s (Slurm job %ld) retires before its walltime (%d task%s to finish)%s",
               w->name, w->job, w->busy, w->busy == 1 ? "" : "s", j ? "; submitting a replacement" : "");
  if (w->busy == 0) queue_simple(w, SPY_MSG_SHUTDOWN, NULL);
}

/* One read (at most 64 KiB or the rest of a frame) and the frames it
** completed; false when nothing more is to be read now. */
static bool read_some(spy_cluster *c, conn *w)
{
  size_t max = w->stage == C_READY ? SPY_PROTO_MAX_REPLY : SPY_PROTO_MAX_HELLO;
  long k = spy_inbuf_fill(&w->in, w->fd, max);
  if (k == -2) return false;
  if (k == 0) {
    drop(c, w, w->stage == C_READY ? "connection closed" : "closed during the handshake");
    return false;
  }
  if (k < 0) {
    drop(c, w, errno == EMSGSIZE ? "message over the size limit" : strerror(errno));
    return false;
  }
  w->heard = spy_clock();
  if (w->in.cap > c->recv_peak) c->recv_peak = w->in.cap;
  int type, f;
  spy_msgreader r;
  while (w->stage != C_CLOSING && (f = spy_inbuf_frame(&w->in, max, &type, &r)) != 0) {
    if (f < 0) {
      drop(c, w, "message over the size limit");
      return false;
    }
    int bad = 0;
    if (w->stage == C_HANDSHAKE) {
      if (type == SPY_MSG_AUTH) on_auth(c, w, &r);
      else bad = 1;
      max = SPY_PROTO_MAX_REPLY;
    } else if (type == SPY_MSG_BLOCK) {
      bad = on_block(c, w, &r) != 0;
    } else if (type == SPY_MSG_RESULT || type == SPY_MSG_FAIL) {
      bad = on_reply(c, w, type, &r) != 0;
    } else if (type == SPY_MSG_RETIRE) {
      on_retire(c, w);
    } else if (type != SPY_MSG_PING) {
      bad = 1;
    }
    spy_inbuf_pop(&w->in);
    if (bad) {
      drop(c, w, w->stage == C_HANDSHAKE ? "not a spy worker" : "malformed message");
      return false;
    }
  }
  return w->stage == C_READY;
}

/* A streaming result can fill the socket faster than one read a wakeup
** drains it: read on, up to about 1 MiB, then serve the other connections. */
static void on_readable(spy_cluster *c, conn *w)
{
  for (int i = 0; i < 16 && read_some(c, w); i++) {
  }
}

static void on_writable(spy_cluster *c, conn *w)
{
  while (w->outoff < w->outn) {
    ssize_t k = send(w->fd, w->out + w->outoff, w->outn - w->outoff, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (k < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) drop(c, w, strerror(errno));
      return;
    }
    w->outoff += (size_t)k;
  }
  w->outoff = w->outn = 0;
}

/* The unauthenticated connection silent the longest (from addr only, unless
** addr is 0), and how many there are. */
static conn *stalest(spy_cluster *c, uint32_t addr, int *count)
{
  conn *old = NULL;
  *count = 0;
  for (conn *w = c->conns; w; w = w->next) {
    if (w->stage != C_HANDSHAKE || (addr && w->addr != addr)) continue;
    (*count)++;
    if (!old || w->heard < old->heard) old = w;
  }
  return old;
}

static void on_accept(spy_cluster *c)
{
  struct sockaddr_in sa;
  socklen_t sl = sizeof sa;
  int pending;
  int fd = accept4(c->lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) {
    /* out of descriptors: free one held by a connection that never spoke */
    conn *old = (errno == EMFILE || errno == ENFILE) ? stalest(c, 0, &pending) : NULL;
    if (old) drop(c, old, "evicted: out of file descriptors");
    return;
  }
  char peer[64];
  snprintf(peer, sizeof peer, "%s:%d", inet_ntoa(sa.sin_addr), ntohs(sa.sin_port));
  int same;
  conn *old_same = stalest(c, sa.sin_addr.s_addr, &same), *old = stalest(c, 0, &pending);
  if (same >= PENDING_PER_SOURCE)
    drop(c, old_same, "evicted: too many unauthenticated connections from one address");
  else if (pending >= MAX_PENDING_HANDSHAKES || (old && c->nconns >= MAX_CONNECTIONS))
    drop(c, old, "evicted: too many unauthenticated connections");
  if (c->nconns >= MAX_CONNECTIONS) {
    log_refusal(c, peer, "too many connections");
    close(fd);
    return;
  }
  conn *w = calloc(1, sizeof *w);
  if (!w) {
    close(fd);
    return;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  w->fd = fd;
  w->addr = sa.sin_addr.s_addr;
  w->stage = C_HANDSHAKE;
  w->heard = spy_clock();
  w->deadline = w->heard + HANDSHAKE_SECONDS;
  snprintf(w->peer, sizeof w->peer, "%s", peer);
  spy_random_bytes(w->snonce, sizeof w->snonce);
  spy_msgbuf b = {0};
  spy_msg_begin(&b, SPY_MSG_HELLO);
  spy_msg_raw(&b, SPY_PROTO_MAGIC, 4);
  spy_msg_u32(&b, SPY_PROTO_VERSION);
  spy_msg_raw(&b, w->snonce, sizeof w->snonce);
  queue_msg(w, &b);
  spy_msgbuf_free(&b);
  w->next = c->conns;
  c->conns = w;
  c->nconns++;
}

/* heartbeats out, silence and handshake deadlines in */
static void housekeeping(spy_cluster *c, double now)
{
  for (conn *w = c->conns; w; w = w->next) {
    if (w->stage == C_HANDSHAKE && now > w->deadline) drop(c, w, "no authentication within 5 s");
    else if (w->stage == C_READY && now - w->heard > WORKER_TTL_SECONDS)
      drop(c, w, "no heartbeat for 30 s");
    else if (w->stage == C_READY && now - w->pinged >= HEARTBEAT_SECONDS) {
      queue_simple(w, SPY_MSG_PING, NULL);
      w->pinged = now;
    }
    if (w->overflow && w->stage != C_CLOSING) drop(c, w, "send queue overflow");
    /* a connection that streamed a result gives its receive buffer back */
    if (w->in.n == 0 && w->in.cap > 16384) spy_inbuf_free(&w->in);
  }
  for (int i = 0; i < REFUSAL_KINDS; i++) {
    refusal_kind *k = &c->refusals[i];
    if (k->quiet && now - k->at >= 10) {
      spy_log(SPY_LOG_WARNING, "%u more refused connections to cluster %s not shown: %s", k->quiet,
              c->id, k->why);
      k->quiet = 0;
    }
  }
  for (conn **pp = &c->conns; *pp;) {
    conn *w = *pp;
    if (w->stage == C_CLOSING) {
      *pp = w->next;
      free_conn(w);
    } else {
      pp = &w->next;
    }
  }
}

static void *server_thread(void *arg)
{
  spy_cluster *c = arg;
  struct pollfd *pfd = NULL;
  conn **who = NULL;
  size_t cap = 0;
  double last = 0;
  pthread_mutex_lock(&c->lock);
  for (;;) {
    bool closing = c->closing;
    size_t n = 0, need = (size_t)c->nconns + 8;
    if (need > cap) {
      cap = 2 * need;
      free(pfd);
      free(who);
      pfd = malloc(cap * sizeof *pfd);
      who = malloc(cap * sizeof *who);
      if (!pfd || !who) break;
    }
    pfd[n] = (struct pollfd){c->wake[0], POLLIN, 0};
    who[n++] = NULL;
    if (!closing) {
      pfd[n] = (struct pollfd){c->lfd, POLLIN, 0};
      who[n++] = NULL;
    }
    bool pending_out = false;
    for (conn *w = c->conns; w && n < cap; w = w->next) {
      if (w->stage == C_CLOSING) continue;
      short ev = (short)(closing ? 0 : POLLIN);
      if (w->outn > w->outoff) ev |= POLLOUT, pending_out = true;
      pfd[n] = (struct pollfd){w->fd, ev, 0};
      who[n++] = w;
    }
    if (closing && !pending_out) break;
    pthread_mutex_unlock(&c->lock);
    int k = poll(pfd, (nfds_t)n, closing ? 1000 : 200);
    pthread_mutex_lock(&c->lock);
    if (closing && k <= 0) break; /* flushed what could be flushed */
    for (size_t i = 0; k > 0 && i < n; i++) {
      if (!pfd[i].revents) continue;
      if (pfd[i].fd == c->wake[0] && !who[i]) {
        char buf[256];
        while (read(c->wake[0], buf, sizeof buf) > 0) {
        }
      } else if (pfd[i].fd == c->lfd && !who[i]) {
        on_accept(c);
      } else if (who[i]) {
        conn *w = who[i];
        if (w->stage != C_CLOSING && (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))) on_readable(c, w);
        if (w->stage != C_CLOSING && (pfd[i].revents & POLLOUT)) on_writable(c, w);
      }
    }
    double now = spy_clock();
    if (!closing && now - last >= 0.25) {
      housekeeping(c, now);
      last = now;
    }
  }
  pthread_mutex_unlock(&c->lock);
  free(pfd);
  free(who);
  return NULL;
}

/* ---- jobs ---------------------------------------------------------------------- */

static int add_job(spy_cluster *c, long id)
{
  if (c->njobs == c->capjobs) {
    size_t cap = c->capjobs ? 2 * c->capjobs : 16;
    job *q = realloc(c->jobs, cap * sizeof *q);
    if (!q) return -1;
    c->jobs = q;
    c->capjobs = cap;
  }
  memset(&c->jobs[c->njobs], 0, sizeof c->jobs[0]);
  c->jobs[c->njobs].id = id;
  c->jobs[c->njobs].state = J_SUBMITTED;
  snprintf(c->jobs[c->njobs].sstate, sizeof c->jobs[0].sstate, "PENDING");
  c->njobs++;
  jobs_submitted = 1;
  char lp[4400];
  log_path(c, id, lp, sizeof lp);
  spy_ev_job(c->id, id, "PENDING", "", lp);
  return 0;
}

/* Submits one job (lock not held); records it. */
static int submit(spy_cluster *c, spy_err *err)
{
  char *script = NULL;
  int rc = spy_slurm_job_script(&c->cfg, c->address, c->dir, &script, err);
  struct stat st;
  bool made = false;
  if (!rc && c->cfg.log_directory && stat(c->cfg.log_directory, &st) != 0) {
    rc = spy_mkdirs(c->cfg.log_directory, err);
    made = rc == SPY_OK;
  }
  if (rc) {
    free(script);
    return rc;
  }
  long id = -1;
  for (int attempt = 0; attempt < 5; attempt++) {
    id = spy_slurm_submit(script, err);
    if (id > 0 || !strstr(err->msg, "temporarily unavailable")) break;
    usleep(500000); /* the controller sheds load: back off (dask-jobqueue#190) */
  }
  free(script);
  if (id <= 0) {
    if (made) rmdir(c->cfg.log_directory); /* no job: no log folder (it is empty) */
    return (int)id;
  }
  pthread_mutex_lock(&c->lock);
  bool closing = c->closing;
  rc = closing ? SPY_OK : add_job(c, id);
  pthread_mutex_unlock(&c->lock);
  if (closing || rc) { /* a close() that raced with this submission owns no such job */
    spy_slurm_cancel(&id, 1);
    return closing ? spy_fail(err, SPY_EINVAL, "the cluster is closed") : spy_fail(err, SPY_ENOMEM, "out of memory");
  }
  spy_log(SPY_LOG_DEBUG, "submitted Slurm job %ld", id);
  return SPY_OK;
}


static int scale_jobs(spy_cluster *c, int target, spy_err *err);

/* adapt's scaling (no lock held): logs what it does */
static void adapt_to(spy_cluster *c, int jobs, const char *why)
{
  spy_err err = {0};
  pthread_mutex_lock(&c->scale_lock);
  pthread_mutex_lock(&c->lock);
  int have = c->target_jobs;
  bool on = c->adapt_on && !c->closing;
  pthread_mutex_unlock(&c->lock);
  if (on && have != jobs) {
    spy_log_keep(SPY_LOG_INFO, "cluster %s adapts: %d -> %d jobs (%s)", c->id, have, jobs, why);
    if (scale_jobs(c, jobs, &err)) spy_log(SPY_LOG_WARNING, "cluster %s: adapt: %s", c->id, err.msg);
  }
  pthread_mutex_unlock(&c->scale_lock);
}

static void *monitor_thread(void *arg)
{
  spy_cluster *c = arg;
  double next_query = 0;
  pthread_mutex_lock(&c->lock);
  while (!c->closing) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 500 * 1000 * 1000;
    if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
    pthread_cond_timedwait(&c->mcond, &c->lock, &ts);
    if (c->closing) break;

    /* squeue for jobs without a worker, every 2 s */
    double now = spy_clock();
    size_t nq = 0;
    for (size_t i = 0; i < c->njobs; i++)
      nq += c->jobs[i].state == J_SUBMITTED || c->jobs[i].state == J_LOST;
    if (nq && now >= next_query) {
      spy_jobinfo *q = calloc(nq, sizeof *q);
      size_t k = 0;
      for (size_t i = 0; q && i < c->njobs; i++)
        if (c->jobs[i].state == J_SUBMITTED || c->jobs[i].state == J_LOST) q[k++].id = c->jobs[i].id;
      pthread_mutex_unlock(&c->lock);
      spy_err err = {0};
      int rc = q ? spy_slurm_query(q, k, &err) : SPY_ENOMEM;
      pthread_mutex_lock(&c->lock);
      if (rc) spy_log(SPY_LOG_DEBUG, "cluster %s: %s", c->id, err.msg);
      for (size_t i = 0; rc == SPY_OK && i < k; i++) {
        job *j = find_job(c, q[i].id);
        if (!j || !(j->state == J_SUBMITTED || j->state == J_LOST)) continue;
        snprintf(j->sstate, sizeof j->sstate, "%s", q[i].state);
        snprintf(j->reason, sizeof j->reason, "%s", q[i].reason);
        spy_ev_job(c->id, j->id, *j->sstate ? j->sstate : "ENDED", j->reason, NULL);
        if (terminal(q[i].state) && j->nconnected == 0 && j->state == J_SUBMITTED) {
          j->state = J_ENDED;
          if (!*j->sstate) snprintf(j->sstate, sizeof j->sstate, "ENDED");
          pthread_cond_broadcast(&c->cond);
        }
      }
      free(q);
      next_query = spy_clock() + 2;
    }

    /* adapt: back to the minimum after adapt_wait seconds without a computation */
    if (c->adapt_on && !c->adapt_busy && c->target_jobs > c->adapt_min &&
        now - c->adapt_idle_since >= c->adapt_wait) {
      int to = c->adapt_min;
      pthread_mutex_unlock(&c->lock);
      adapt_to(c, to, "idle");
      pthread_mutex_lock(&c->lock);
    }

    /* lost workers: make sure their jobs are gone, then replace them */
    long lost[64];
    size_t nlost = 0;
    for (size_t i = 0; i < c->njobs && nlost < 64; i++)
      if (c->jobs[i].state == J_LOST) {
        c->jobs[i].state = J_ENDED;
        lost[nlost++] = c->jobs[i].id;
      }
    int want = c->target_jobs - live_jobs(c);
    int budget = (c->target_jobs > 2 ? 2 * c->target_jobs : 4) - c->replaced;
    int n = nlost && want > 0 ? (want < budget ? want : budget) : 0;
    if (n > 0) c->replaced += n;
    int nretire = 0; /* walltime hand-over: replacements outside the lost budget */
    if (c->retire_pending) {
      nretire = want - n > 0 ? want - n : 0;
      c->retire_pending = 0;
    }
    if (!nlost && !nretire) continue;
    c->replacing += n + nretire;
    pthread_mutex_unlock(&c->lock);
    spy_slurm_cancel(lost, nlost);
    for (int i = 0; i < nretire + n; i++) { /* the retiring workers' successors first */
      bool retiring = i < nretire;
      spy_err err = {0};
      int rc = submit(c, &err);
      pthread_mutex_lock(&c->lock);
      c->replacing--;
      pthread_cond_broadcast(&c->cond);
      pthread_mutex_unlock(&c->lock);
      if (rc != SPY_OK)
        spy_log(SPY_LOG_WARNING, "cluster %s: cannot replace a %s worker: %s", c->id,
                retiring ? "retiring" : "lost", err.msg);
      else if (retiring)
        spy_log_keep(SPY_LOG_INFO, "cluster %s: submitted a Slurm job to take over from a retiring worker", c->id);
      else
        spy_log(SPY_LOG_WARNING, "cluster %s: submitted a Slurm job to replace a lost worker", c->id);
    }
    pthread_mutex_lock(&c->lock);
  }
  pthread_mutex_unlock(&c->lock);
  return NULL;
}

/* ---- creation and closing ---------------------------------------------------------- */

static void remove_dir(const char *dir)
{
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  char path[4400];
  while ((e = readdir(d))) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    unlink(path);
  }
  closedir(d);
  rmdir(dir);
}

/* The address to listen on and advertise: the interface's IPv4 address, or
** that of this host's name (127.0.0.1 when it has none). */
static int listen_address(const char *iface, char *ip, size_t n, spy_err *err)
{
  if (iface) {
    struct ifaddrs *ifs = NULL;
    char names[1024] = "";
    if (getifaddrs(&ifs) != 0) return spy_fail(err, SPY_EIO, "getifaddrs: %s", strerror(errno));
    bool found = false;
    for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
      if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
      if (strcmp(i->ifa_name, iface) == 0 && !found) {
        inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, ip, (socklen_t)n);
        found = true;
      }
      if (!strstr(names, i->ifa_name) && strlen(names) + strlen(i->ifa_name) + 8 < sizeof names) {
        strcat(names, *names ? ", '" : "'");
        strcat(names, i->ifa_name);
        strcat(names, "'");
      }
    }
    freeifaddrs(ifs);
    if (!found)
      return spy_fail_value(err, "interface", iface, "a network interface with an IPv4 address: %s", names);
    return SPY_OK;
  }
  char host[256] = "localhost";
  struct addrinfo hints = {0}, *res = NULL;
  hints.ai_family = AF_INET;
  gethostname(host, sizeof host - 1);
  snprintf(ip, n, "127.0.0.1");
  if (getaddrinfo(host, NULL, &hints, &res) == 0 && res) {
    inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, ip, (socklen_t)n);
    freeaddrinfo(res);
  }
  return SPY_OK;
}

/* Room for the connection limits above: the soft descriptor limit is often
** 1024; raise it towards the hard limit. */
static void raise_fd_limit(void)
{
  struct rlimit rl;
  rlim_t want = MAX_CONNECTIONS + 256;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want) return;
  rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
}

static int start_listening(spy_cluster *c, spy_err *err)
{
  char ip[64];
  raise_fd_limit();
  int rc = listen_address(c->cfg.interface, ip, sizeof ip, err);
  if (rc) return rc;
  c->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->lfd < 0) return spy_fail(err, SPY_EIO, "socket: %s", strerror(errno));
  int one = 1;
  setsockopt(c->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa = {0};
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)c->cfg.port);
  inet_pton(AF_INET, ip, &sa.sin_addr);
  if (bind(c->lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(c->lfd, 128) != 0)
    return spy_fail(err, SPY_EIO, "cannot listen on %s:%d: %s", ip, c->cfg.port, strerror(errno));
  socklen_t sl = sizeof sa;
  getsockname(c->lfd, (struct sockaddr *)&sa, &sl);
  snprintf(c->address, sizeof c->address, "tcp://%s:%d", ip, ntohs(sa.sin_port));
  return SPY_OK;
}

static void exit_handler(void) { spy_cluster_cancel_all(); }

/* SIGTERM/SIGHUP: scancel this session's jobs by name, then die as asked. */
static char scancel_path[4096], scancel_user[80], scancel_name[160];
static char *scancel_argv[6];
static const int guarded[2] = {SIGTERM, SIGHUP};

static void fatal_signal(int sig)
{
  extern char **environ;
  pid_t p = jobs_submitted ? fork() : -1;
  if (p == 0) {
    execve(scancel_path, scancel_argv, environ);
    _exit(127);
  }
  if (p > 0) waitpid(p, NULL, 0);
  signal(sig, SIG_DFL);
  raise(sig);
}

/* While a cluster is open (open_lock held): atexit once, and SIGTERM/SIGHUP
** handlers where the program has none; these are removed again when the last
** cluster closes (spy.so may be unloaded after that). */
static void install_exit_hooks(const char *jobname)
{
  if (!atexit_done) atexit(exit_handler);
  atexit_done = true;
  if (signals_installed) return;
  signals_installed = true;
  const char *path = getenv("PATH");
  char dir[4096];
  for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
    size_t k = strcspn(p, ":");
    snprintf(dir, sizeof dir, "%.*s/scancel", (int)k, p);
    if (access(dir, X_OK) == 0) {
      snprintf(scancel_path, sizeof scancel_path, "%s", dir);
      break;
    }
    p += k + (p[k] == ':');
  }
  if (!*scancel_path) return;
  char user[64];
  spy_cluster_user_name(user, sizeof user);
  snprintf(scancel_user, sizeof scancel_user, "--user=%s", user);
  snprintf(scancel_name, sizeof scancel_name, "--name=%s", jobname);
  scancel_argv[0] = "scancel";
  scancel_argv[1] = scancel_user;
  scancel_argv[2] = scancel_name;
  scancel_argv[3] = NULL;
  for (size_t i = 0; i < 2; i++) {
    struct sigaction old;
    if (sigaction(guarded[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL) {
      struct sigaction sa = {0};
      sa.sa_handler = fatal_signal;
      sigaction(guarded[i], &sa, NULL);
    }
  }
}

static void remove_signal_hooks(void)
{
  if (!signals_installed) return;
  signals_installed = false;
  for (size_t i = 0; i < 2; i++) {
    struct sigaction old;
    if (sigaction(guarded[i], NULL, &old) == 0 && old.sa_handler == fatal_signal) signal(guarded[i], SIG_DFL);
  }
}

int spy_cluster_new(spy_slurm_config *cfg, spy_cluster **out, spy_err *err)
{
  spy_cluster *c = calloc(1, sizeof *c);
  unsigned char r[4];
  int rc;
  *out = NULL;
  if (!c) return spy_fail(err, SPY_ENOMEM, "out of memory");
  c->cfg = *cfg;
  memset(cfg, 0, sizeof *cfg);
  c->lfd = c->wake[0] = c->wake[1] = -1;
  pthread_mutex_init(&c->lock, NULL);
  pthread_mutex_init(&c->scale_lock, NULL);
  pthread_cond_init(&c->cond, NULL);
  pthread_cond_init(&c->mcond, NULL);
  spy_random_bytes(r, sizeof r);
  snprintf(c->id, sizeof c->id, "%02x%02x%02x%02x", r[0], r[1], r[2], r[3]);
  if (!c->cfg.job_name) {
    char name[160];
    spy_cluster_job_name(name, sizeof name);
    c->cfg.job_name = strdup(name);
  }
  snprintf(c->dir, sizeof c->dir, "%s/spy-cluster-%s-%s", c->cfg.local_directory, spy_session_id(), c->id);
  if ((rc = spy_mkdirs(c->cfg.local_directory, err))) goto fail;
  if (mkdir(c->dir, 0700) != 0) {
    rc = spy_fail(err, SPY_EIO, "cannot create the cluster's directory '%s': %s", c->dir, strerror(errno));
    goto fail;
  }
  char secret[4200];
  snprintf(secret, sizeof secret, "%s/secret", c->dir);
  if ((rc = spy_secret_create(secret, c->key, err))) goto fail;
  /* the log folder is made by submit(): a cluster that never submits leaves none */
  if ((rc = start_listening(c, err))) goto fail;
  if (pipe2(c->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
    rc = spy_fail(err, SPY_EIO, "pipe: %s", strerror(errno));
    goto fail;
  }
  if (pthread_create(&c->server, NULL, server_thread, c) != 0) {
    rc = spy_fail(err, SPY_ERUNTIME, "cannot start the cluster's server thread");
    goto fail;
  }
  if (pthread_create(&c->monitor, NULL, monitor_thread, c) != 0) {
    pthread_mutex_lock(&c->lock);
    c->closing = true;
    pthread_mutex_unlock(&c->lock);
    wake(c);
    pthread_join(c->server, NULL);
    rc = spy_fail(err, SPY_ERUNTIME, "cannot start the cluster's monitor thread");
    goto fail;
  }
  c->threads_started = true;
  pthread_mutex_lock(&open_lock);
  c->next_open = open_list;
  open_list = c;
  install_exit_hooks(c->cfg.job_name);
  pthread_mutex_unlock(&open_lock);
  *out = c;
  return SPY_OK;
fail:
  if (c->lfd >= 0) close(c->lfd);
  if (c->wake[0] >= 0) close(c->wake[0]), close(c->wake[1]);
  remove_dir(c->dir);
  spy_slurm_config_free(&c->cfg);
  pthread_cond_destroy(&c->cond);
  pthread_cond_destroy(&c->mcond);
  pthread_mutex_destroy(&c->lock);
  pthread_mutex_destroy(&c->scale_lock);
  free(c);
  return rc;
}

static bool terminal(const char *s)
{
  return !*s || strcmp(s, "COMPLETED") == 0 || strcmp(s, "FAILED") == 0 || strcmp(s, "CANCELLED") == 0 ||
         strcmp(s, "TIMEOUT") == 0 || strcmp(s, "NODE_FAIL") == 0 || strcmp(s, "OUT_OF_MEMORY") == 0 ||
         strcmp(s, "PREEMPTED") == 0 || strcmp(s, "BOOT_FAIL") == 0 || strcmp(s, "DEADLINE") == 0 ||
         strcmp(s, "SPECIAL_EXIT") == 0 || strcmp(s, "REVOKED") == 0;
}

/* Polls squeue until none of ids is pending, running or completing (at most
** `seconds`), so that a closed cluster leaves an empty queue behind. */
static void wait_gone(const long *ids, size_t n, double seconds)
{
  spy_jobinfo *q = calloc(n ? n : 1, sizeof *q);
  double end = spy_clock() + seconds;
  while (q && n && spy_clock() < end) {
    for (size_t i = 0; i < n; i++) q[i].id = ids[i];
    if (spy_slurm_query(q, n, NULL) != SPY_OK) break;
    bool left = false;
    for (size_t i = 0; i < n && !left; i++) left = *q[i].state && !terminal(q[i].state);
    if (!left) break;
    usleep(100000);
  }
  free(q);
}

/* Workers with a session get SHUTDOWN and end their jobs themselves (state
** COMPLETED, dask-jobqueue#640); jobs without one, and stragglers after 5 s,
** are cancelled.  Returns when squeue no longer lists any of them (<= 15 s). */
void spy_cluster_close(spy_cluster *c)
{
  if (!c || c->closed) return;
  long *pending = NULL, *active = NULL, *all = NULL;
  size_t np = 0, na = 0, nall = 0;
  pthread_mutex_lock(&c->lock);
  c->closing = true;
  if (*c->rendezvous) unlink(c->rendezvous);
  pending = malloc((c->njobs ? c->njobs : 1) * sizeof *pending);
  active = malloc((c->njobs ? c->njobs : 1) * sizeof *active);
  for (size_t i = 0; pending && active && i < c->njobs; i++) {
    job *j = &c->jobs[i];
    if (j->state == J_ACTIVE && j->nconnected > 0) active[na++] = j->id;
    else if (live(j)) pending[np++] = j->id;
    if (live(j)) j->state = J_CANCELLED;
  }
  for (conn *w = c->conns; w; w = w->next)
    if (w->stage == C_READY) queue_simple(w, SPY_MSG_SHUTDOWN, NULL);
  pthread_cond_broadcast(&c->cond);
  pthread_cond_signal(&c->mcond);
  pthread_mutex_unlock(&c->lock);
  wake(c);
  spy_slurm_cancel(pending, np);
  if (c->threads_started) {
    pthread_join(c->server, NULL);
    pthread_join(c->monitor, NULL);
  }
  wait_gone(active, na, 5);
  spy_slurm_cancel(active, na);
  free(pending);
  free(active);
  /* every job this cluster submitted (also those cancelled earlier) */
  all = malloc((c->njobs ? c->njobs : 1) * sizeof *all);
  for (size_t i = 0; all && i < c->njobs; i++)
    if (c->jobs[i].state != J_ENDED || *c->jobs[i].sstate == 0 || !terminal(c->jobs[i].sstate))
      all[nall++] = c->jobs[i].id;
  wait_gone(all, nall, 15);
  free(all);
  pthread_mutex_lock(&open_lock);
  for (spy_cluster **pp = &open_list; *pp; pp = &(*pp)->next_open)
    if (*pp == c) {
      *pp = c->next_open;
      break;
    }
  if (!open_list) remove_signal_hooks();
  pthread_mutex_unlock(&open_lock);
  if (c->pool) spy_pool_free(c->pool);
  c->pool = NULL;
  while (c->conns) {
    conn *w = c->conns;
    c->conns = w->next;
    free_conn(w);
  }
  while (c->tasks) {
    ptask *p = c->tasks;
    c->tasks = p->next;
    free(p->msg);
    free(p);
  }
  if (c->lfd >= 0) close(c->lfd);
  if (c->wake[0] >= 0) close(c->wake[0]), close(c->wake[1]);
  c->lfd = c->wake[0] = c->wake[1] = -1;
  remove_dir(c->dir);
  spy_msgbuf_free(&c->comp_frame);
  spy_ev_group_close(c->id);
  c->closed = true;
}

void spy_cluster_free(spy_cluster *c)
{
  if (!c) return;
  spy_cluster_close(c);
  spy_slurm_config_free(&c->cfg);
  free(c->jobs);
  pthread_cond_destroy(&c->cond);
  pthread_cond_destroy(&c->mcond);
  pthread_mutex_destroy(&c->lock);
  pthread_mutex_destroy(&c->scale_lock);
  free(c);
}

void spy_cluster_cancel_all(void)
{
  pthread_mutex_lock(&open_lock);
  for (spy_cluster *c = open_list; c; c = c->next_open) {
    long ids[1024];
    size_t n = 0;
    pthread_mutex_lock(&c->lock);
    c->closing = true;
    for (size_t i = 0; i < c->njobs && n < 1024; i++)
      if (live(&c->jobs[i])) {
        ids[n++] = c->jobs[i].id;
        c->jobs[i].state = J_CANCELLED;
      }
    pthread_mutex_unlock(&c->lock);
    spy_slurm_cancel(ids, n);
    remove_dir(c->dir);
  }
  pthread_mutex_unlock(&open_lock);
}

bool spy_cluster_closed(const spy_cluster *c) { return c->closed; }
const char *spy_cluster_address(const spy_cluster *c) { return c->address; }
const char *spy_cluster_id(const spy_cluster *c) { return c->id; }
const char *spy_cluster_dir(const spy_cluster *c) { return c->dir; }
const spy_slurm_config *spy_cluster_config(const spy_cluster *c) { return &c->cfg; }

int spy_cluster_job_script(spy_cluster *c, char **script, spy_err *err)
{
  return spy_slurm_job_script(&c->cfg, c->address, c->dir, script, err);
}

/* ---- scale and status ------------------------------------------------------------------ */

int spy_cluster_scale(spy_cluster *c, int n, spy_err *err)
{
  if (c->closed) return spy_fail(err, SPY_EINVAL, "the cluster is closed");
  if (n < 0 || n > 100000) return spy_fail_value(err, "n", NULL, "a number of workers between 0 and 100000");
  int target = (n + c->cfg.processes - 1) / c->cfg.processes;
  pthread_mutex_lock(&c->scale_lock);
  pthread_mutex_lock(&c->lock);
  c->adapt_on = false; /* as dask: scale() ends adaptive scaling */
  pthread_mutex_unlock(&c->lock);
  int rc = scale_jobs(c, target, err);
  pthread_mutex_unlock(&c->scale_lock);
  return rc;
}

int spy_cluster_adapt(spy_cluster *c, int minimum_jobs, int maximum_jobs, double wait, spy_err *err)
{
  if (c->closed) return spy_fail(err, SPY_EINVAL, "the cluster is closed");
  if (minimum_jobs < 0 || maximum_jobs < 1 || minimum_jobs > maximum_jobs || maximum_jobs > 100000)
    return spy_fail(err, SPY_EINVAL,
                    "Invalid adapt range: minimum_jobs=%d, maximum_jobs=%d; expected 0 <= minimum_jobs <= "
                    "maximum_jobs, maximum_jobs >= 1",
                    minimum_jobs, maximum_jobs);
  if (!(wait >= 0) || wait > 86400)
    return spy_fail(err, SPY_EINVAL, "Invalid value of `wait`: '%g'; expected seconds from 0 to 86400", wait);
  pthread_mutex_lock(&c->lock);
  c->adapt_on = true;
  c->adapt_min = minimum_jobs;
  c->adapt_max = maximum_jobs;
  c->adapt_wait = wait;
  c->adapt_idle_since = spy_clock();
  int have = c->target_jobs, to = c->adapt_busy ? maximum_jobs : have;
  pthread_mutex_unlock(&c->lock);
  if (to < minimum_jobs) to = minimum_jobs;
  if (to > maximum_jobs) to = maximum_jobs;
  adapt_to(c, to, "adapt range");
  return SPY_OK;
}

/* Sets the number of jobs (scale_lock held, not lock). */
static int scale_jobs(spy_cluster *c, int target, spy_err *err)
{
  pthread_mutex_lock(&c->lock);
  c->target_jobs = target;
  c->replaced = 0;
  int have = live_jobs(c);
  long *cancel = NULL;
  size_t ncancel = 0;
  if (have > target) {
    cancel = malloc((size_t)(have - target) * sizeof *cancel);
    /* never-connected jobs first, then the newest */
    for (int pass = 0; pass < 2 && cancel; pass++)
      for (size_t i = c->njobs; i-- > 0 && (int)ncancel < have - target;) {
        job *j = &c->jobs[i];
        if (j->state == (pass == 0 ? J_SUBMITTED : J_ACTIVE)) {
          j->state = J_CANCELLED;
          cancel[ncancel++] = j->id;
          for (conn *w = c->conns; w; w = w->next)
            if (w->stage == C_READY && w->job == j->id) queue_simple(w, SPY_MSG_SHUTDOWN, NULL);
        }
      }
  }
  pthread_mutex_unlock(&c->lock);
  wake(c);
  spy_slurm_cancel(cancel, ncancel);
  free(cancel);
  for (int i = have; i < target; i++) {
    int rc = submit(c, err);
    if (rc) return rc;
  }
  return SPY_OK;
}

void spy_cluster_get_status(spy_cluster *c, spy_cluster_status *s)
{
  memset(s, 0, sizeof *s);
  if (c->closed) return;
  pthread_mutex_lock(&c->lock);
  for (conn *w = c->conns; w; w = w->next)
    if (w->stage == C_READY) {
      s->workers++;
      s->threads += w->nthreads;
      s->memory += w->memory;
    }
  s->requested = c->target_jobs * c->cfg.processes + c->external;
  s->jobs = live_jobs(c);
  s->recv_peak = c->recv_peak;
  pthread_mutex_unlock(&c->lock);
}

size_t spy_cluster_job_ids(spy_cluster *c, long *ids, size_t max)
{
  size_t n = 0;
  pthread_mutex_lock(&c->lock);
  for (size_t i = 0; i < c->njobs; i++)
    if (live(&c->jobs[i])) {
      if (n < max) ids[n] = c->jobs[i].id;
      n++;
    }
  pthread_mutex_unlock(&c->lock);
  return n;
}

/* " (jobs: 3 PENDING (Resources), 1 FAILED: see <log>)" for jobs without a worker */
static void describe_jobs(spy_cluster *c, char *buf, size_t n)
{
  struct {
    char what[80];
    int count;
  } g[8];
  int ng = 0;
  char failed[600] = "";
  for (size_t i = 0; i < c->njobs; i++) {
    job *j = &c->jobs[i];
    if (j->nconnected || j->state == J_CANCELLED || j->state == J_LOST) continue;
    char what[80];
    if (j->state == J_ENDED) {
      snprintf(what, sizeof what, "%s", *j->sstate ? j->sstate : "ENDED");
      if (!*failed) {
        char lp[4400];
        log_path(c, j->id, lp, sizeof lp);
        snprintf(failed, sizeof failed, "; job %ld %s, see %s", j->id, what, lp);
      }
    } else if (*j->reason && strcmp(j->reason, "None") != 0) {
      snprintf(what, sizeof what, "%s (%s)", *j->sstate ? j->sstate : "PENDING", j->reason);
    } else {
      snprintf(what, sizeof what, "%s", *j->sstate ? j->sstate : "PENDING");
    }
    int k = 0;
    while (k < ng && strcmp(g[k].what, what) != 0) k++;
    if (k == ng && ng < 8) {
      snprintf(g[ng].what, sizeof g[ng].what, "%s", what);
      g[ng++].count = 0;
    }
    if (k < ng) g[k].count++;
  }
  size_t k = 0;
  buf[0] = 0;
  for (int i = 0; i < ng && k < n; i++)
    k += (size_t)snprintf(buf + k, n - k, "%s%d %s", i ? ", " : " (jobs: ", g[i].count, g[i].what);
  if (ng && k < n) snprintf(buf + k, n - k, "%s)", failed);
}

int spy_cluster_wait(spy_cluster *c, int nmin, spy_err *err)
{
  if (c->closed) return spy_fail(err, SPY_EINVAL, "the cluster is closed");
  pthread_mutex_lock(&c->lock);
  int up = c->adapt_on && c->target_jobs * c->cfg.processes + c->external < nmin
               ? (nmin - c->external + c->cfg.processes - 1) / c->cfg.processes
               : -1;
  if (up > c->adapt_max) up = c->adapt_max;
  pthread_mutex_unlock(&c->lock);
  if (up > 0) adapt_to(c, up, "waiting for workers");
  double t0 = spy_clock(), next = t0;
  int rc = SPY_OK, tick = 0;
  pthread_mutex_lock(&c->lock);
  for (;;) {
    int n = ready_workers(c), requested = c->target_jobs * c->cfg.processes + c->external;
    double now = spy_clock();
    if (c->adapt_on) c->adapt_idle_since = now; /* adapt keeps the jobs a waiting call needs */
    char jobs[1024];
    if (n >= nmin) break;
    if (requested == 0 && n == 0) {
      rc = spy_fail(err, SPY_EINVAL,
                    "the SLURMCluster has no workers: ask for some with cluster:scale(n)");
      break;
    }
    if (spy_interrupted()) {
      rc = spy_fail(err, SPY_EINTR, "interrupted");
      break;
    }
    if (live_jobs(c) == 0 && !lost_jobs(c) && n == 0 && c->external == 0) {
      describe_jobs(c, jobs, sizeof jobs);
      rc = spy_fail(err, SPY_ERUNTIME,
                    "every Slurm job of cluster %s ended before a worker connected%s", c->id, jobs);
      break;
    }
    /* in-allocation ranks that were lost never come back: no waiting for them */
    if (n == 0 && c->external > 0 && c->external_lost >= c->external && live_jobs(c) == 0 && !lost_jobs(c)) {
      rc = spy_fail(err, SPY_ERUNTIME,
                    "every worker of cluster %s is gone: the %d in-allocation rank%s of this run %s lost "
                    "(lost ranks are not replaced); run with parallel=False or start a new allocation",
                    c->id, c->external, c->external == 1 ? "" : "s", c->external == 1 ? "was" : "were");
      break;
    }
    if (now - t0 >= c->cfg.timeout) {
      describe_jobs(c, jobs, sizeof jobs);
      long ids[1024];
      size_t nid = 0;
      for (size_t i = 0; i < c->njobs && nid < 1024; i++)
        if (live(&c->jobs[i])) {
          ids[nid++] = c->jobs[i].id;
          c->jobs[i].state = J_CANCELLED;
        }
      c->target_jobs = 0;
      pthread_mutex_unlock(&c->lock);
      spy_slurm_cancel(ids, nid);
      spy_ev_waiting(NULL);
      rc = spy_fail(err, SPY_ERUNTIME,
                    "%d/%d workers available after the timeout of %g s%s: cancelled the %zu Slurm "
                    "job%s of cluster %s.  Check the request against `sinfo` and `scontrol show "
                    "partition`, and the job logs in %s",
                    n, requested, c->cfg.timeout, jobs, nid, nid == 1 ? "" : "s", c->id,
                    c->cfg.log_directory ? c->cfg.log_directory : ".");
      return rc;
    }
    if (now >= next) {
      describe_jobs(c, jobs, sizeof jobs);
      pthread_mutex_unlock(&c->lock);
      char line[1200];
      snprintf(line, sizeof line, "%d/%d workers available, waiting.. %.0fs%s", n, requested, now - t0, jobs);
      spy_ev_waiting(line);
      /* shown at the default level every WAIT_SHOW_TICKS-th time (every 6 s) */
      spy_log_keep(tick++ % WAIT_SHOW_TICKS == 0 ? SPY_LOG_IMPORTANT : SPY_LOG_INFO, "%s", line);
      pthread_mutex_lock(&c->lock);
      next += 2;
      continue;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 100 * 1000 * 1000;
    if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
    pthread_cond_timedwait(&c->cond, &c->lock, &ts);
  }
  pthread_mutex_unlock(&c->lock);
  if (tick) spy_ev_waiting(NULL);
  return rc;
}

/* ---- the remote executor -------------------------------------------------------------- */

static void add_sizes(cJSON *o, const char *key, const size_t *v, size_t n)
{
  cJSON *a = cJSON_AddArrayToObject(o, key);
  for (size_t i = 0; a && i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber((double)v[i]));
}

static int r_begin(void *ctx, const spy_op *op, const spy_computation *comp, spy_err *err)
{
  spy_cluster *c = ctx;
  pthread_mutex_lock(&c->lock);
  bool adapting = c->adapt_on;
  int want = c->adapt_max;
  if (adapting && comp->trials) { /* no more jobs than the computation has trials for */
    int per = c->cfg.cores > 0 ? c->cfg.cores : 1;
    size_t need = (comp->trials->ntrials + (size_t)per - 1) / (size_t)per;
    if (need < (size_t)want) want = (int)need;
  }
  if (want < c->adapt_min) want = c->adapt_min;
  if (want < 1) want = 1;
  c->adapt_busy = true;
  pthread_mutex_unlock(&c->lock);
  if (adapting) adapt_to(c, want, "a computation starts");
  int rc = spy_cluster_wait(c, 1, err);
  if (rc) return rc;
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "fname", comp->fname);
  cJSON_AddItemToObject(j, "cfg", comp->cfg ? cJSON_Duplicate(comp->cfg, 1) : cJSON_CreateObject());
  if (comp->input) {
    cJSON_AddStringToObject(j, "input", comp->input);
    add_sizes(j, "chans", comp->chans, comp->nchan);
  }
  if (comp->trials) {
    const spy_trials *t = comp->trials;
    cJSON *tj = cJSON_AddObjectToObject(j, "trials");
    cJSON_AddNumberToObject(tj, "ntrials", (double)t->ntrials);
    cJSON_AddNumberToObject(tj, "nchan", (double)t->nchan);
    if (isfinite(t->samplerate)) cJSON_AddNumberToObject(tj, "samplerate", t->samplerate);
    cJSON_AddNumberToObject(tj, "trlcols", (double)t->trlcols);
    cJSON_AddStringToObject(tj, "dtype", spy_dtype_name(t->dtype));
    cJSON_AddBoolToObject(tj, "time_selected", t->time_selected);
    cJSON *trl = cJSON_AddArrayToObject(tj, "trldef");
    for (size_t i = 0; trl && i < t->ntrials * t->trlcols; i++)
      cJSON_AddItemToArray(trl, cJSON_CreateNumber(t->trldef[i]));
  }
  cJSON *ex = cJSON_AddObjectToObject(j, "expect");
  cJSON_AddStringToObject(ex, "dtype", spy_dtype_name(op->out_dtype));
  cJSON_AddNumberToObject(ex, "ntrials", (double)op->ntrials);
  add_sizes(ex, "inner", op->inner, (size_t)op->ninner);
  if (op->acc_elems) cJSON_AddNumberToObject(ex, "acc_elems", (double)op->acc_elems);
  char *s = cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  if (!s) return spy_fail(err, SPY_ENOMEM, "out of memory");
  pthread_mutex_lock(&c->lock);
  c->comp_id++;
  spy_msg_begin(&c->comp_frame, SPY_MSG_COMP);
  spy_msg_u64(&c->comp_frame, c->comp_id);
  spy_msg_str(&c->comp_frame, s);
  rc = spy_msg_end(&c->comp_frame, err);
  c->op = op;
  snprintf(c->fname, sizeof c->fname, "%s", op->name);
  c->nchan = comp->nchan;
  pthread_mutex_unlock(&c->lock);
  free(s);
  return rc;
}

static conn *pick(spy_cluster *c)
{
  conn *best = NULL;
  for (conn *w = c->conns; w; w = w->next) {
    if (w->stage != C_READY || w->busy >= DEPTH * w->nthreads) continue;
    job *j = find_job(c, w->job);
    if (j && j->state == J_CANCELLED) continue;
    if (w->retiring) continue;
    if (!best || (double)w->busy / w->nthreads < (double)best->busy / best->nthreads) best = w;
  }
  return best;
}

static void timedwait(spy_cluster *c, int ms)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_nsec += (long)ms * 1000 * 1000;
  while (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
  pthread_cond_timedwait(&c->cond, &c->lock, &ts);
}

static int r_compute(void *ctx, int slot, const spy_remote_task *t, void *out, unsigned *flags, spy_err *err)
{
  spy_cluster *c = ctx;
  int deaths = 0;
  char last[4600] = "";
  (void)slot;
  pthread_mutex_lock(&c->lock);
  for (;;) {
    conn *w;
    double since = spy_clock();
    while (!(w = pick(c))) {
      if (atomic_load(t->cancel) || spy_interrupted()) {
        pthread_mutex_unlock(&c->lock);
        return spy_fail(err, SPY_EINTR, "interrupted");
      }
      if (c->closing) {
        pthread_mutex_unlock(&c->lock);
        return spy_fail(err, SPY_ERUNTIME, "the cluster was closed");
      }
      if (ready_workers(c) == 0 && live_jobs(c) == 0 && !lost_jobs(c)) {
        pthread_mutex_unlock(&c->lock);
        return spy_fail(err, SPY_ERUNTIME,
                        "every worker of cluster %s is gone and no Slurm job is left to replace them%s%s",
                        c->id, *last ? "; the last one was " : "", last);
      }
      if (ready_workers(c) == 0 && spy_clock() - since > c->cfg.timeout) {
        pthread_mutex_unlock(&c->lock);
        return spy_fail(err, SPY_ERUNTIME, "no worker of cluster %s was available for %g s", c->id,
                        c->cfg.timeout);
      }
      if (ready_workers(c) > 0) since = spy_clock();
      timedwait(c, 200);
    }
    ptask *p = calloc(1, sizeof *p);
    if (!p) {
      pthread_mutex_unlock(&c->lock);
      return spy_fail(err, SPY_ENOMEM, "out of memory");
    }
    p->id = ++c->next_task;
    p->wid = w->wid;
    p->job = w->job;
    p->state = T_SENT;
    snprintf(p->worker, sizeof p->worker, "%s", w->name);
    p->dst = out;
    p->want = spy_op_task_bytes(c->op, t->rows, t->nc);
    p->next = c->tasks;
    c->tasks = p;
    w->busy++;
    if (w->comp_sent != c->comp_id) {
      queue_bytes(w, c->comp_frame.p, c->comp_frame.n);
      w->comp_sent = c->comp_id;
    }
    spy_msgbuf b = {0};
    spy_msg_begin(&b, SPY_MSG_TASK);
    spy_msg_u64(&b, c->comp_id);
    spy_msg_u64(&b, p->id);
    spy_msg_u64(&b, t->trial);
    spy_msg_u64(&b, t->row0);
    spy_msg_u64(&b, t->nsamp);
    spy_msg_u64(&b, t->c0);
    spy_msg_u64(&b, t->nc);
    spy_msg_u64(&b, t->rows);
    queue_msg(w, &b);
    spy_msgbuf_free(&b);
    wake(c);
    uint64_t ev = spy_ev_task_begin(w->ev, t->trial, t->c0, t->nc, c->nchan ? c->nchan : t->nc);
    while (p->state == T_SENT) {
      if (atomic_load(t->cancel) || spy_interrupted()) {
        p->abandoned = true; /* the server thread frees it when the worker answers */
        p->dst = NULL;       /* and drops what still arrives for it */
        pthread_mutex_unlock(&c->lock);
        spy_ev_task_end(ev, SPY_EINTR);
        return spy_fail(err, SPY_EINTR, "interrupted");
      }
      timedwait(c, 200);
    }
    spy_ev_task_end(ev, p->state == T_DONE ? SPY_OK : SPY_ERUNTIME);
    unlink_task(c, p);
    if (p->state == T_DONE) { /* the block is in `out`, whole (on_reply checked) */
      *flags = p->flags;
      free(p);
      pthread_mutex_unlock(&c->lock);
      return SPY_OK;
    }
    if (p->state == T_FAILED) {
      int code = p->code;
      spy_fail(err, code, "%s (on worker %s)", p->msg ? p->msg : "failed", p->worker);
      free(p->msg);
      free(p);
      pthread_mutex_unlock(&c->lock);
      return code;
    }
    /* T_DIED: run it elsewhere, up to ALLOWED_FAILURES more times */
    deaths++;
    char lp[4400];
    log_path(c, p->job, lp, sizeof lp);
    if (find_job(c, p->job))
      snprintf(last, sizeof last, "%s (Slurm job %ld, log %s)", p->worker, p->job, lp);
    else /* an in-allocation rank: its output is the run's */
      snprintf(last, sizeof last, "%s", p->worker);
    free(p);
    if (deaths > ALLOWED_FAILURES) {
      pthread_mutex_unlock(&c->lock);
      return spy_fail(err, SPY_ERUNTIME,
                      "Attempted to run task '%s trial %zu' on %d different workers, but all those "
                      "workers died while running it. The last worker was %s",
                      c->fname, t->trial + 1, deaths, last);
    }
    spy_log(SPY_LOG_WARNING, "worker %s died while running trial %zu; running it elsewhere (attempt %d of %d)",
            last, t->trial + 1, deaths + 1, ALLOWED_FAILURES + 1);
  }
}

static void r_end(void *ctx)
{
  spy_cluster *c = ctx;
  pthread_mutex_lock(&c->lock);
  c->adapt_busy = false;
  c->adapt_idle_since = spy_clock();
  c->op = NULL; /* the scheduler frees it after the run */
  for (conn *w = c->conns; w; w = w->next)
    if (w->stage == C_READY && w->comp_sent == c->comp_id) {
      uint64_t id = c->comp_id;
      queue_simple(w, SPY_MSG_CANCEL, &id);
      queue_simple(w, SPY_MSG_DROP, &id);
    }
  pthread_mutex_unlock(&c->lock);
  wake(c);
}

spy_remote *spy_cluster_remote(spy_cluster *c, spy_err *err)
{
  if (c->closed) {
    spy_fail(err, SPY_EINVAL, "the cluster is closed");
    return NULL;
  }
  /* one proxy thread per task slot (DEPTH per worker thread) of the
  ** requested workers, or of those connected when that is more */
  pthread_mutex_lock(&c->lock);
  int slots = DEPTH * c->target_jobs * c->cfg.processes * (c->cfg.cores / c->cfg.processes), have = 0;
  for (conn *w = c->conns; w; w = w->next) have += w->stage == C_READY ? DEPTH * w->nthreads : 0;
  if (c->adapt_on) c->adapt_idle_since = spy_clock(); /* a computation is about to begin */
  slots += DEPTH * c->external * c->external_threads;
  if (c->adapt_on && c->adapt_max > c->target_jobs)
    slots += DEPTH * (c->adapt_max - c->target_jobs) * c->cfg.processes * (c->cfg.cores / c->cfg.processes);
  if (have > slots) slots = have;
  pthread_mutex_unlock(&c->lock);
  if (slots < 1) slots = 1;
  if (slots > 4096) slots = 4096;
  if (!c->pool || c->pool_slots != slots) {
    if (c->pool) spy_pool_free(c->pool);
    c->pool = spy_pool_new(slots, err);
    c->pool_slots = c->pool ? slots : 0;
    if (!c->pool) return NULL;
  }
  c->remote.ctx = c;
  c->remote.pool = c->pool;
  c->remote.begin = r_begin;
  c->remote.compute = r_compute;
  c->remote.end = r_end;
  return &c->remote;
}

void spy_cluster_expect_external(spy_cluster *c, int n, int threads, const char *rendezvous)
{
  pthread_mutex_lock(&c->lock);
  c->external = n > 0 ? n : 0;
  c->external_threads = threads > 0 ? threads : 1;
  snprintf(c->rendezvous, sizeof c->rendezvous, "%s", rendezvous ? rendezvous : "");
  pthread_cond_broadcast(&c->cond);
  pthread_mutex_unlock(&c->lock);
}

/* ---- leftovers of earlier sessions ---------------------------------------------------- */

/* false only when session id's lock file is in our SPYTMPDIR and no running
** session holds it (a session that died).  Without a lock file here the session
** used another temporary storage (or ended cleanly and cancelled its own jobs):
** its jobs are not ours to judge, so they count as alive. */
static bool session_alive(const char *id)
{
  char path[4200];
  if (spy_session_lock_path(path, sizeof path, id) != SPY_OK) return true;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return true;
  bool held = flock(fd, LOCK_SH | LOCK_NB) != 0;
  close(fd);
  return held;
}

int spy_cluster_cancel_leftovers(long **ids, size_t *n, spy_err *err)
{
  char user[64], prefix[128];
  spy_jobinfo *jobs = NULL;
  size_t nj = 0;
  *ids = NULL;
  *n = 0;
  spy_cluster_user_name(user, sizeof user);
  snprintf(prefix, sizeof prefix, "spy-worker-%s-", user);
  int rc = spy_slurm_user_jobs(prefix, &jobs, &nj, err);
  if (rc) return rc;
  *ids = malloc((nj ? nj : 1) * sizeof **ids);
  for (size_t i = 0; *ids && i < nj; i++) {
    const char *sid = jobs[i].name + strlen(prefix);
    if (terminal(jobs[i].state) && *jobs[i].state) continue;
    if (strcmp(sid, spy_session_id()) == 0 || session_alive(sid)) continue;
    (*ids)[(*n)++] = jobs[i].id;
  }
  free(jobs);
  spy_slurm_cancel(*ids, *n);
  return SPY_OK;
}
