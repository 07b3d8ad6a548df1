/* The dashboard's HTTP server: the token (403 without, 200 with), the Host
** check against DNS rebinding, loopback only by default, the documented
** fields of /json/status.json, the live stream, the info pages, the server
** stopping with its last reference, and hostile clients (huge headers, slow
** and many connections) that neither disturb a running computation nor stop
** the server from answering afterwards.  Ports are picked by the OS. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/progress.h"
#include "core/settings.h"
#include "dash/dash.h"
#include "dash/events.h"
#include "data/data.h"
#include "data/selection.h"
#include "sched/sched.h"
#include "t.h"

static int port;
static char token[64];

static int connect_to(const char *ip, int p)
{
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p)};
  inet_pton(AF_INET, ip, &sa.sin_addr);
  struct timeval tv = {5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static void send_all(int fd, const char *s, size_t n)
{
  while (n) {
    ssize_t k = send(fd, s, n, MSG_NOSIGNAL);
    if (k <= 0) return;
    s += k;
    n -= (size_t)k;
  }
}

/* GET path with the given Host header (NULL: none); the body into out;
** returns the status code, 0 when the connection closed without one, -1
** when it could not connect. */
static int get(const char *path, const char *host, char *out, size_t n)
{
  int fd = connect_to("127.0.0.1", port);
  if (fd < 0) return -1;
  char req[2048];
  if (host) snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path, host);
  else snprintf(req, sizeof req, "GET %s HTTP/1.0\r\n\r\n", path);
  send_all(fd, req, strlen(req));
  size_t len = 0;
  static char buf[1 << 20];
  ssize_t k;
  while (len < sizeof buf - 1 && (k = recv(fd, buf + len, sizeof buf - 1 - len, 0)) > 0) len += (size_t)k;
  buf[len] = 0;
  close(fd);
  int status = 0;
  sscanf(buf, "HTTP/1.%*d %d", &status);
  const char *body = strstr(buf, "\r\n\r\n");
  if (out) snprintf(out, n, "%s", body ? body + 4 : "");
  return status;
}

static int get_local(const char *path, char *out, size_t n)
{
  char host[64];
  snprintf(host, sizeof host, "127.0.0.1:%d", port);
  return get(path, host, out, n);
}

/* ---- a computation for the hostile-client test ---- */

static int kernel(const void *plan, spy_task *t, spy_err *err)
{
  (void)plan, (void)err;
  float *o = t->out;
  usleep(2000);
  for (size_t i = 0; i < t->nsamp * t->nchan; i++) o[i] = (float)(2 * t->in[i]);
  return SPY_OK;
}

static int run_computation(spy_pool *pool, size_t ntr, double *seconds)
{
  spy_err err = {0};
  size_t ns = 100, nch = 4;
  spy_data *in = spy_data_new(SPY_ANALOG), *out = spy_data_new(SPY_ANALOG);
  size_t shape[2] = {ntr * ns, nch};
  spy_data_create(in, SPY_DT_F32, 2, shape, &err);
  float *buf = malloc(ntr * ns * nch * sizeof *buf);
  double *trl = malloc(ntr * 3 * sizeof *trl);
  for (size_t i = 0; i < ntr * ns * nch; i++) buf[i] = (float)(i % 97);
  for (size_t k = 0; k < ntr; k++) trl[3 * k] = (double)(k * ns), trl[3 * k + 1] = (double)((k + 1) * ns), trl[3 * k + 2] = 0;
  spy_data_write(in, 0, ntr * ns, 0, nch, buf, SPY_DT_F32, &err);
  spy_data_set_trldef(in, trl, ntr, 3);
  spy_data_default_channels(in, nch);
  in->samplerate = 100;
  spy_selection *sel = NULL;
  int rc = spy_select(in, NULL, &sel, &err);
  spy_op op = {0};
  op.name = "double";
  op.kernel = kernel;
  op.chan_independent = true;
  op.cls = SPY_ANALOG;
  op.out_dtype = SPY_DT_F32;
  op.ntrials = ntr;
  op.out_rows = malloc(ntr * sizeof *op.out_rows);
  for (size_t k = 0; k < ntr; k++) op.out_rows[k] = ns;
  op.samplerate = 100;
  op.out_trlcols = 3;
  op.out_trldef = malloc(ntr * 3 * sizeof(double));
  memcpy(op.out_trldef, trl, ntr * 3 * sizeof(double));
  spy_runopts o = {.pool = pool, .quiet = true};
  spy_runstats st = {0};
  double t0 = spy_now();
  if (!rc) rc = spy_run(&op, in, sel, out, &o, &st, &err);
  *seconds = spy_now() - t0;
  if (!rc) { /* the numbers are right */
    float *res = malloc(ntr * ns * nch * sizeof *res);
    rc = spy_data_read(out, 0, ntr * ns, NULL, nch, res, SPY_DT_F32, &err);
    for (size_t i = 0; !rc && i < ntr * ns * nch; i++)
      if (res[i] != 2 * buf[i]) rc = -1;
    free(res);
  }
  CHECK(rc == 0, "computation: %s", err.msg);
  free(st.flagged);
  free(op.out_rows);
  free(op.out_trldef);
  spy_selection_free(sel);
  spy_data_unref(in);
  spy_data_unref(out);
  free(buf);
  free(trl);
  return rc;
}

static char body[1 << 20];

int main(void)
{
  spy_err err = {0};
  CHECK(spy_settings_init(&err) == SPY_OK, "%s", err.msg);

  /* a bad address is refused with what is allowed */
  CHECK(spy_dash_acquire("localhost:notaport", &err) == SPY_EINVAL && strstr(err.msg, "':port'"), "%s", err.msg);
  CHECK(!spy_dash_running(), "nothing started");

  /* the default host, any free port */
  CHECK(spy_dash_acquire(":0", &err) == SPY_OK, "%s", err.msg);
  port = spy_dash_port();
  char link[600];
  spy_dash_link(link, sizeof link);
  CHECK(port > 0 && strncmp(link, "http://127.0.0.1:", 17) == 0, "%s", link);
  const char *tk = strstr(link, "token=");
  CHECK(tk && strlen(tk + 6) == 32, "token of 32 hex digits: %s", link);
  snprintf(token, sizeof token, "%s", tk ? tk + 6 : "");

  /* loopback only: the machine's other addresses refuse */
  struct ifaddrs *ifs = NULL, *i;
  int tried = 0;
  getifaddrs(&ifs);
  for (i = ifs; i; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
    char ip[64];
    inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, ip, sizeof ip);
    if (strncmp(ip, "127.", 4) == 0) continue;
    int fd = connect_to(ip, port);
    CHECK(fd < 0, "nothing listens on %s:%d", ip, port);
    if (fd >= 0) close(fd);
    tried++;
  }
  freeifaddrs(ifs);
  CHECK(tried > 0, "this machine has a non-loopback IPv4 address to try");

  /* the token */
  char path[256], host[128];
  CHECK(get_local("/status", body, sizeof body) == 403, "no token: 403");
  CHECK(strstr(body, "token") != NULL, "403 says why: %s", body);
  CHECK(get_local("/json/status.json", NULL, 0) == 403, "no token: 403");
  CHECK(get_local("/status?token=0123456789abcdef0123456789abcdef", NULL, 0) == 403, "wrong token: 403");
  snprintf(path, sizeof path, "/status?token=%.31s", token);
  CHECK(get_local(path, NULL, 0) == 403, "a prefix of the token: 403");
  snprintf(path, sizeof path, "/status?token=%s", token);
  CHECK(get_local(path, body, sizeof body) == 200, "token: 200");
  CHECK(strstr(body, "<title>spy dashboard</title>") && !strstr(body, "__SPY_INITIAL__") &&
            !strstr(body, "http://") && !strstr(body, "https://"),
        "the page, its state filled in, no external resource");
  CHECK(get_local("/health", body, sizeof body) == 200 && strcmp(body, "ok") == 0, "/health without token: %s", body);

  /* Host header */
  snprintf(host, sizeof host, "evil.example:%d", port);
  CHECK(get(path, host, body, sizeof body) == 403, "rebinding host refused");
  CHECK(get("/health", host, NULL, 0) == 403, "also for /health");
  CHECK(get(path, NULL, NULL, 0) == 403, "no Host header refused");
  snprintf(host, sizeof host, "localhost:%d", port);
  CHECK(get(path, host, NULL, 0) == 200, "localhost allowed");
  CHECK(get(path, "localhost:9999", NULL, 0) == 200, "a tunnel's local port allowed");
  CHECK(get(path, "[::1]:8787", NULL, 0) == 200, "IPv6 literal allowed");

  /* state: a pool's workers, a computation, a Slurm job waiting */
  spy_pool *pool = spy_pool_new(2, &err);
  int base = spy_ev_pool_add("testpool", pool, 2, 2e9);
  CHECK(base > 0 && spy_ev_pool_base(pool) == base, "pool workers registered");
  spy_ev_job("fakecl", 4242, "PENDING", "Resources", NULL);
  int odd = spy_ev_worker_add("fakecl", "<script>alert(1)</script>", "node7", 4243, 1, 1e9, NULL);
  double secs0, secs1;
  run_computation(pool, 40, &secs0);

  snprintf(path, sizeof path, "/json/status.json?token=%s", token);
  CHECK(get_local(path, body, sizeof body) == 200, "status.json");
  cJSON *s = cJSON_Parse(body);
  CHECK(s != NULL, "valid JSON");
  static const char *top[] = {"format", "session", "host", "pid", "time", "clock", "memory_rss", "computation",
                              "computations", "waiting", "workers", "workers_available", "workers_busy",
                              "jobs", "tasks", "log"};
  for (size_t k = 0; k < sizeof top / sizeof *top; k++)
    CHECK(cJSON_GetObjectItem(s, top[k]) != NULL, "status.json has %s", top[k]);
  const cJSON *c = cJSON_GetObjectItem(s, "computation");
  CHECK(cJSON_IsObject(c) && strcmp(cJSON_GetObjectItem(c, "name")->valuestring, "double") == 0 &&
            cJSON_GetObjectItem(c, "tasks_done")->valuedouble == 40 &&
            cJSON_GetObjectItem(c, "tasks_total")->valuedouble == 40 &&
            strcmp(cJSON_GetObjectItem(c, "state")->valuestring, "finished") == 0 &&
            cJSON_GetObjectItem(c, "progress")->valuedouble == 1,
        "the computation, finished: %s", body);
  double done = 0;
  int pw = 0;
  const cJSON *w;
  cJSON_ArrayForEach(w, cJSON_GetObjectItem(s, "workers"))
  {
    static const char *wf[] = {"id", "name", "cluster", "host", "state", "threads", "memory_limit", "tasks_done",
                               "tasks_failed", "task", "slurm_job", "job_state", "job_reason", "joined"};
    for (size_t k = 0; k < sizeof wf / sizeof *wf; k++)
      CHECK(cJSON_GetObjectItem(w, wf[k]) != NULL, "worker has %s", wf[k]);
    if (strcmp(cJSON_GetObjectItem(w, "cluster")->valuestring, "testpool") == 0) {
      pw++;
      done += cJSON_GetObjectItem(w, "tasks_done")->valuedouble;
      CHECK(strcmp(cJSON_GetObjectItem(w, "state")->valuestring, "idle") == 0, "idle after the run");
    }
  }
  CHECK(pw == 2 && done == 40, "2 pool workers did the 40 tasks: %d, %g", pw, done);
  int ntasks = 0;
  cJSON_ArrayForEach(w, cJSON_GetObjectItem(s, "tasks")) ntasks +=
      strcmp(cJSON_GetObjectItem(w, "state")->valuestring, "done") == 0;
  CHECK(ntasks >= 40, "the task stream has the tasks: %d", ntasks);
  bool pending = false;
  cJSON_ArrayForEach(w, cJSON_GetObjectItem(s, "jobs")) pending |=
      cJSON_GetObjectItem(w, "id")->valuedouble == 4242 &&
      strcmp(cJSON_GetObjectItem(w, "reason")->valuestring, "Resources") == 0 &&
      cJSON_IsNull(cJSON_GetObjectItem(w, "worker"));
  CHECK(pending, "the pending job with its reason");
  cJSON_Delete(s);

  /* info pages, escaped */
  snprintf(path, sizeof path, "/info/workers?token=%s", token);
  CHECK(get_local(path, body, sizeof body) == 200 && strstr(body, "testpool-1") &&
            strstr(body, "&lt;script&gt;") && !strstr(body, "<script>alert"),
        "workers page, names escaped");
  snprintf(path, sizeof path, "/info/worker/%d?token=%s", odd, token);
  CHECK(get_local(path, body, sizeof body) == 200 && strstr(body, "node7"), "one worker");
  snprintf(path, sizeof path, "/info/worker/99999?token=%s", token);
  CHECK(get_local(path, NULL, 0) == 404, "unknown worker");
  snprintf(path, sizeof path, "/info/worker/%d", odd);
  CHECK(get_local(path, NULL, 0) == 403, "info pages need the token");

  /* the live stream: a first event at once, then one per change */
  int fd = connect_to("127.0.0.1", port);
  char req[512];
  snprintf(req, sizeof req, "GET /events?token=%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", token, port);
  send_all(fd, req, strlen(req));
  size_t len = 0;
  int events = 0;
  bool changed = false;
  double t0 = spy_now();
  while (events < 2 && spy_now() - t0 < 10) {
    ssize_t k = recv(fd, body + len, sizeof body - 1 - len, 0);
    if (k <= 0) break;
    len += (size_t)k;
    body[len] = 0;
    events = 0;
    for (const char *p = body; (p = strstr(p, "event: status\ndata: {")); p++) events++;
    if (events == 1 && !changed) { /* a change after the first event */
      spy_ev_comp_begin("streamed", 3, 1);
      changed = true;
    }
  }
  CHECK(strstr(body, "Content-Type: text/event-stream") && events >= 2 && strstr(body, "\"streamed\""),
        "two status events over the stream (%d)", events);

  /* hostile clients: huge headers, slow clients, many connections */
  spy_ev_comp_end(0);
  int hfd = connect_to("127.0.0.1", port);
  static char huge[70000];
  memset(huge, 'a', sizeof huge);
  memcpy(huge, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ", 46);
  memcpy(huge + sizeof huge - 4, "\r\n\r\n", 4);
  send_all(hfd, huge, sizeof huge);
  len = 0;
  ssize_t k;
  while ((k = recv(hfd, body + len, sizeof body - 1 - len, 0)) > 0) len += (size_t)k;
  body[len] = 0;
  close(hfd);
  CHECK(len == 0 || strstr(body, " 431 ") || strstr(body, " 413 ") || strstr(body, " 400 "),
        "huge header refused: %.60s", body);

  int slow[20], many[80], nslow = 0, nmany = 0;
  for (int q = 0; q < 20; q++) /* an unfinished request each */
    if ((slow[nslow] = connect_to("127.0.0.1", port)) >= 0) send_all(slow[nslow++], "GET /status HTTP/1.1\r\nHo", 24);
  for (int q = 0; q < 80; q++)
    if ((many[nmany] = connect_to("127.0.0.1", port)) >= 0) nmany++;
  run_computation(pool, 40, &secs1);
  CHECK(secs1 < 3 * secs0 + 1, "the computation is not slowed: %.2f s vs %.2f s", secs1, secs0);
  for (int q = 0; q < nslow; q++) close(slow[q]);
  for (int q = 0; q < nmany; q++) close(many[q]);
  int st = 0;
  for (int tries = 0; tries < 50 && st != 200; tries++) { /* the server closes them as they go */
    st = get_local("/health", NULL, 0);
    if (st != 200) usleep(100000);
  }
  CHECK(st == 200, "the server answers again: %d", st);
  close(fd);

  /* a second reference keeps it; the last release stops it */
  CHECK(spy_dash_acquire("127.0.0.1:1", &err) == SPY_OK && spy_dash_port() == port, "running one reused");
  spy_dash_release();
  CHECK(get_local("/health", NULL, 0) == 200, "still running with one reference");
  spy_dash_release();
  CHECK(!spy_dash_running() && get_local("/health", NULL, 0) == -1, "stopped: connection refused");

  /* a taken port moves on to the next free one */
  int blocker = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  socklen_t sl = sizeof sa;
  bind(blocker, (struct sockaddr *)&sa, sizeof sa);
  listen(blocker, 1);
  getsockname(blocker, (struct sockaddr *)&sa, &sl);
  int taken = ntohs(sa.sin_port);
  char addr[64];
  snprintf(addr, sizeof addr, "127.0.0.1:%d", taken);
  CHECK(spy_dash_acquire(addr, &err) == SPY_OK && spy_dash_port() > taken && spy_dash_port() <= taken + 100,
        "next free port after %d: %d (%s)", taken, spy_dash_port(), err.msg);
  spy_dash_release();
  close(blocker);

  spy_pool_free(pool);
  spy_ev_group_close("testpool");
  return t_done();
}
