#include "dash/dash.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/lazy.h"
#include "core/log.h"
#include "core/progress.h"
#include "core/settings.h"
#include "core/strbuf.h"
#include "dash/events.h"

#define MAX_CONNECTIONS 32u
#define IDLE_SECONDS 10u
#define HEADER_BYTES ((size_t)16384)
#define TOKEN_HEX 32
#define SSE_INTERVAL 0.25  /* s between two updates of one stream */
#define SSE_KEEPALIVE 5.0  /* s: a comment line keeps idle streams open */
#define PORT_TRIES 100
#define LOG_TAIL 16384

static struct {
  pthread_mutex_t lock;
  int refs;
  struct MHD_Daemon *d;
  int fd, port;
  atomic_bool stopping;
  char token[TOKEN_HEX + 1];
  char host[256];     /* the host the user bound to ("" for the default) */
  char link[512];
} D = {.lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1};

/* ---- access -------------------------------------------------------------------------------- */

static bool token_ok(const char *t)
{
  if (!t || strlen(t) != TOKEN_HEX) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < TOKEN_HEX; i++) diff |= (unsigned char)(t[i] ^ D.token[i]);
  return diff == 0;
}

/* Host header: its name part must be this machine, so a page of another
** site cannot reach the dashboard through a rebound DNS name. */
static bool host_ok(const char *h)
{
  if (!h || !*h) return false;
  char name[256];
  size_t n;
  if (h[0] == '[') { /* [v6]:port */
    const char *e = strchr(h, ']');
    if (!e || (size_t)(e - h - 1) >= sizeof name) return false;
    n = (size_t)(e - h - 1);
    memcpy(name, h + 1, n);
    name[n] = 0;
    unsigned char a[16];
    return inet_pton(AF_INET6, name, a) == 1;
  }
  const char *colon = strchr(h, ':');
  n = colon ? (size_t)(colon - h) : strlen(h);
  if (n == 0 || n >= sizeof name) return false;
  memcpy(name, h, n);
  name[n] = 0;
  if (n > 1 && name[n - 1] == '.') name[--n] = 0;
  unsigned char a[4];
  if (inet_pton(AF_INET, name, a) == 1) return true;
  if (strcasecmp(name, "localhost") == 0) return true;
  if (D.host[0] && strcasecmp(name, D.host) == 0) return true;
  char me[256] = "";
  gethostname(me, sizeof me - 1);
  if (*me && strcasecmp(name, me) == 0) return true;
  char *dot = strchr(me, '.');
  if (dot) *dot = 0;
  return *me && strcasecmp(name, me) == 0;
}

/* ---- responses ------------------------------------------------------------------------------- */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type, char *body,
                             size_t len)
{
  struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
  if (!r) {
    free(body);
    return MHD_NO;
  }
  MHD_add_response_header(r, "Content-Type", type);
  MHD_add_response_header(r, "Cache-Control", "no-store");
  MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
  MHD_add_response_header(r, "X-Frame-Options", "DENY");
  MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
  MHD_add_response_header(r, "Content-Security-Policy",
                          "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                          "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'");
  enum MHD_Result rc = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return rc;
}

static enum MHD_Result text(struct MHD_Connection *c, unsigned status, const char *msg)
{
  char *s = strdup(msg);
  return s ? reply(c, status, "text/plain; charset=utf-8", s, strlen(s)) : MHD_NO;
}

static void put_escaped(spy_strbuf *b, const char *s)
{
  for (; s && *s; s++) switch (*s) {
    case '<': spy_sb_puts(b, "&lt;"); break;
    case '>': spy_sb_puts(b, "&gt;"); break;
    case '&': spy_sb_puts(b, "&amp;"); break;
    case '"': spy_sb_puts(b, "&quot;"); break;
    case '\'': spy_sb_puts(b, "&#39;"); break;
    default: spy_sb_putc(b, *s);
    }
}

/* JSON that can sit inside a <script> element: "</" never appears. */
static void put_script_json(spy_strbuf *b, const char *json)
{
  for (const char *p = json; *p; p++) {
    if (p[0] == '<' && p[1] == '/') spy_sb_puts(b, "<\\/"), p++;
    else spy_sb_putc(b, *p);
  }
}

static enum MHD_Result html(struct MHD_Connection *c, spy_strbuf *b)
{
  char *s = spy_sb_take(b);
  return s ? reply(c, MHD_HTTP_OK, "text/html; charset=utf-8", s, strlen(s)) : MHD_NO;
}

static const char *jstr(const cJSON *o, const char *k)
{
  const cJSON *v = cJSON_GetObjectItem(o, k);
  return cJSON_IsString(v) ? v->valuestring : "";
}

static void put_value(spy_strbuf *b, const cJSON *v)
{
  if (cJSON_IsString(v)) put_escaped(b, v->valuestring);
  else if (cJSON_IsNumber(v)) {
    char num[64];
    if (v->valuedouble == (double)(long long)v->valuedouble) snprintf(num, sizeof num, "%.0f", v->valuedouble);
    else snprintf(num, sizeof num, "%.3f", v->valuedouble);
    spy_sb_puts(b, num);
  } else spy_sb_puts(b, "-");
}

static const char *page_head =
    "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>%s</title><style>"
    "body{font:14px system-ui,sans-serif;margin:1em 2em}table{border-collapse:collapse}"
    "td,th{border-bottom:1px solid #ddd;padding:2px 8px;text-align:left}pre{background:#f6f6f6;"
    "padding:8px;overflow:auto;max-height:40em}</style></head><body>";

static void head(spy_strbuf *b, const char *title)
{
  char h[1024];
  snprintf(h, sizeof h, page_head, title);
  spy_sb_puts(b, h);
}

static enum MHD_Result page_workers(struct MHD_Connection *c)
{
  cJSON *s = spy_ev_snapshot();
  spy_strbuf b = {0};
  static const char *cols[] = {"id", "name", "state", "cluster", "host", "slurm_job", "job_state", "job_reason",
                               "threads", "task", "tasks_done", "tasks_failed", "memory_limit"};
  head(&b, "spy: workers");
  spy_sb_puts(&b, "<h1>Workers</h1><p><a href=\"/status?token=");
  spy_sb_puts(&b, D.token);
  spy_sb_puts(&b, "\">status</a></p><table id=\"workers\"><tr>");
  for (size_t i = 0; i < sizeof cols / sizeof *cols; i++) {
    spy_sb_puts(&b, "<th>");
    spy_sb_puts(&b, cols[i]);
    spy_sb_puts(&b, "</th>");
  }
  spy_sb_puts(&b, "</tr>");
  const cJSON *w;
  cJSON_ArrayForEach(w, cJSON_GetObjectItem(s, "workers"))
  {
    char link[160];
    snprintf(link, sizeof link, "<tr><td><a href=\"/info/worker/%.0f?token=%s\">%.0f</a></td>",
             cJSON_GetObjectItem(w, "id")->valuedouble, D.token, cJSON_GetObjectItem(w, "id")->valuedouble);
    spy_sb_puts(&b, link);
    for (size_t i = 1; i < sizeof cols / sizeof *cols; i++) {
      spy_sb_puts(&b, "<td>");
      put_value(&b, cJSON_GetObjectItem(w, cols[i]));
      spy_sb_puts(&b, "</td>");
    }
    spy_sb_puts(&b, "</tr>");
  }
  spy_sb_puts(&b, "</table><h2>Slurm jobs</h2><table id=\"jobs\"><tr><th>id</th><th>state</th><th>reason</th>"
                  "<th>worker</th><th>log</th></tr>");
  const cJSON *j;
  cJSON_ArrayForEach(j, cJSON_GetObjectItem(s, "jobs"))
  {
    static const char *jc[] = {"id", "state", "reason", "worker", "log"};
    spy_sb_puts(&b, "<tr>");
    for (size_t i = 0; i < 5; i++) {
      spy_sb_puts(&b, "<td>");
      put_value(&b, cJSON_GetObjectItem(j, jc[i]));
      spy_sb_puts(&b, "</td>");
    }
    spy_sb_puts(&b, "</tr>");
  }
  spy_sb_puts(&b, "</table></body></html>");
  cJSON_Delete(s);
  return html(c, &b);
}

static enum MHD_Result page_worker(struct MHD_Connection *c, const char *idtext)
{
  char *end;
  long id = strtol(idtext, &end, 10);
  cJSON *w = *idtext && !*end && id > 0 && id < 1000000 ? spy_ev_worker_info((int)id, LOG_TAIL) : NULL;
  if (!w) return text(c, MHD_HTTP_NOT_FOUND, "no such worker\n");
  spy_strbuf b = {0};
  head(&b, "spy: worker");
  spy_sb_puts(&b, "<h1>Worker ");
  put_escaped(&b, jstr(w, "name"));
  spy_sb_puts(&b, "</h1><p><a href=\"/info/workers?token=");
  spy_sb_puts(&b, D.token);
  spy_sb_puts(&b, "\">all workers</a></p><table id=\"worker\">");
  const cJSON *f;
  cJSON_ArrayForEach(f, w)
  {
    if (cJSON_IsArray(f) || strcmp(f->string, "log_tail") == 0) continue;
    spy_sb_puts(&b, "<tr><th>");
    put_escaped(&b, f->string);
    spy_sb_puts(&b, "</th><td>");
    put_value(&b, f);
    spy_sb_puts(&b, "</td></tr>");
  }
  spy_sb_puts(&b, "</table><h2>Recent tasks</h2><table id=\"tasks\"><tr><th>task</th><th>state</th>"
                  "<th>start (s)</th><th>stop (s)</th></tr>");
  const cJSON *t;
  cJSON_ArrayForEach(t, cJSON_GetObjectItem(w, "tasks"))
  {
    static const char *tc[] = {"label", "state", "start", "stop"};
    spy_sb_puts(&b, "<tr>");
    for (size_t i = 0; i < 4; i++) {
      spy_sb_puts(&b, "<td>");
      put_value(&b, cJSON_GetObjectItem(t, tc[i]));
      spy_sb_puts(&b, "</td>");
    }
    spy_sb_puts(&b, "</tr>");
  }
  spy_sb_puts(&b, "</table><h2>Log</h2><pre id=\"log\">");
  const cJSON *tail = cJSON_GetObjectItem(w, "log_tail");
  if (cJSON_IsString(tail)) put_escaped(&b, tail->valuestring);
  else if (cJSON_IsString(cJSON_GetObjectItem(w, "log_file"))) spy_sb_puts(&b, "(the log file is not readable yet)");
  else spy_sb_puts(&b, "(this worker is a thread of the session: its messages are the session's log)");
  spy_sb_puts(&b, "</pre></body></html>");
  cJSON_Delete(w);
  return html(c, &b);
}

static enum MHD_Result page_status(struct MHD_Connection *c)
{
  cJSON *s = spy_ev_snapshot();
  char *json = cJSON_PrintUnformatted(s);
  cJSON_Delete(s);
  if (!json) return MHD_NO;
  const char *mark = strstr(spy_dash_status_html, "__SPY_INITIAL__");
  spy_strbuf b = {0};
  spy_sb_put(&b, spy_dash_status_html, (size_t)(mark - spy_dash_status_html));
  put_script_json(&b, json);
  spy_sb_puts(&b, mark + strlen("__SPY_INITIAL__"));
  free(json);
  return html(c, &b);
}

static enum MHD_Result page_json(struct MHD_Connection *c)
{
  cJSON *s = spy_ev_snapshot();
  char *json = cJSON_PrintUnformatted(s);
  cJSON_Delete(s);
  return json ? reply(c, MHD_HTTP_OK, "application/json", json, strlen(json)) : MHD_NO;
}

/* ---- Server-Sent Events ------------------------------------------------------------------- */

typedef struct sse {
  char *data;
  size_t len, off;
  uint64_t seen;
  bool sent;
  double next, last;
} sse;

/* The status event, made at most once per SSE_INTERVAL for all streams
** together (a copy for the caller), so that more browsers cost no more.
** *version is the state's version it shows (read before the snapshot): a
** stream that sent it waits for a newer one, so no change is missed. */
static char *shared_event(double now, uint64_t *version)
{
  static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  static char *cached;
  static uint64_t cached_version;
  static double made = -1;
  pthread_mutex_lock(&lock);
  uint64_t v = spy_ev_version();
  if (!cached || (v != cached_version && (now - made >= SSE_INTERVAL || now < made))) {
    cJSON *s = spy_ev_snapshot();
    char *json = cJSON_PrintUnformatted(s);
    cJSON_Delete(s);
    spy_strbuf b = {0};
    spy_sb_puts(&b, "event: status\ndata: ");
    spy_sb_puts(&b, json ? json : "{}");
    spy_sb_puts(&b, "\n\n");
    free(json);
    char *e = spy_sb_take(&b);
    if (e) {
      free(cached);
      cached = e;
      cached_version = v;
      made = now;
    }
  }
  char *copy = cached ? strdup(cached) : NULL;
  *version = cached_version;
  pthread_mutex_unlock(&lock);
  return copy;
}

/* Runs on the connection's own thread (one thread per connection), so it
** may sleep; it returns within SSE_INTERVAL of the server stopping. */
static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
  sse *st = cls;
  (void)pos;
  for (;;) {
    if (st->off < st->len) {
      size_t n = st->len - st->off < max ? st->len - st->off : max;
      memcpy(buf, st->data + st->off, n);
      st->off += n;
      return (ssize_t)n;
    }
    free(st->data);
    st->data = NULL;
    st->len = st->off = 0;
    if (atomic_load(&D.stopping)) return MHD_CONTENT_READER_END_OF_STREAM;
    double now = spy_now();
    uint64_t v = spy_ev_version();
    if (now >= st->next && (!st->sent || v != st->seen)) {
      uint64_t shown;
      if (!(st->data = shared_event(now, &shown))) return MHD_CONTENT_READER_END_WITH_ERROR;
      if (st->sent && shown == st->seen) { /* not newer than what this stream has: wait */
        free(st->data);
        st->data = NULL;
        st->next = now + SSE_INTERVAL / 2;
        continue;
      }
      st->len = strlen(st->data);
      st->seen = shown;
      st->sent = true;
      st->next = now + SSE_INTERVAL;
      st->last = now;
      continue;
    }
    if (now - st->last >= SSE_KEEPALIVE) {
      if (!(st->data = strdup(": keep-alive\n\n"))) return MHD_CONTENT_READER_END_WITH_ERROR;
      st->len = strlen(st->data);
      st->last = now;
      continue;
    }
    usleep((useconds_t)(SSE_INTERVAL * 1e6 / 2));
  }
}

static void sse_free(void *cls)
{
  sse *st = cls;
  free(st->data);
  free(st);
}

static enum MHD_Result page_events(struct MHD_Connection *c)
{
  sse *st = calloc(1, sizeof *st);
  if (!st) return MHD_NO;
  struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, sse_read, st, sse_free);
  if (!r) {
    free(st);
    return MHD_NO;
  }
  MHD_add_response_header(r, "Content-Type", "text/event-stream");
  MHD_add_response_header(r, "Cache-Control", "no-store");
  MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
  enum MHD_Result rc = MHD_queue_response(c, MHD_HTTP_OK, r);
  MHD_destroy_response(r);
  return rc;
}

/* ---- routing --------------------------------------------------------------------------------- */

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload, size_t *upload_size, void **state)
{
  (void)cls, (void)version, (void)upload, (void)state;
  if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) return text(c, 405, "only GET and HEAD\n");
  if (*upload_size) return MHD_NO; /* a body on a GET: drop the connection */
  if (!host_ok(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host")))
    return text(c, MHD_HTTP_FORBIDDEN, "Host not allowed: open the dashboard as localhost or by IP address\n");
  if (strcmp(url, "/health") == 0) return text(c, MHD_HTTP_OK, "ok");
  if (!token_ok(MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token")))
    return text(c, MHD_HTTP_FORBIDDEN, "403 Forbidden: the dashboard needs the token of its link "
                                       "(client.dashboard_link, or spy.status())\n");
  if (strcmp(url, "/") == 0 || strcmp(url, "/status") == 0) return page_status(c);
  if (strcmp(url, "/events") == 0) return page_events(c);
  if (strcmp(url, "/json/status.json") == 0) return page_json(c);
  if (strcmp(url, "/info/workers") == 0) return page_workers(c);
  if (strncmp(url, "/info/worker/", 13) == 0) return page_worker(c, url + 13);
  return text(c, MHD_HTTP_NOT_FOUND, "not found\n");
}

/* ---- start and stop ---------------------------------------------------------------------------- */

/* "host:port", ":port", "port", "[v6]:port" -> host ("" = default) and port */
static int parse_address(const char *a, char *host, size_t n, int *port, spy_err *err)
{
  const char *p = a, *colon;
  host[0] = 0;
  if (a[0] == '[') {
    const char *e = strchr(a, ']');
    if (!e || e[1] != ':') goto bad;
    snprintf(host, n, "%.*s", (int)(e - a - 1), a + 1);
    p = e + 2;
  } else if ((colon = strrchr(a, ':'))) {
    snprintf(host, n, "%.*s", (int)(colon - a), a);
    p = colon + 1;
  }
  char *end;
  long v = strtol(p, &end, 10);
  if (!*p || *end || v < 0 || v > 65535) goto bad;
  *port = (int)v;
  return SPY_OK;
bad:
  return spy_fail(err, SPY_EINVAL,
                  "Invalid value of `dashboard_address`: '%s'; expected 'host:port', ':port', a port "
                  "number, or false to disable the dashboard",
                  a);
}

/* A listening socket on host:port (the first of port..port+tries-1 that is free). */
static int listen_on(const char *host, int port, int tries, int *bound, bool *v6, spy_err *err)
{
  struct addrinfo hints = {0}, *res = NULL;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  hints.ai_family = AF_UNSPEC;
  int g = getaddrinfo(*host ? host : "127.0.0.1", "0", &hints, &res);
  if (g != 0 || !res)
    return spy_fail(err, SPY_EINVAL, "dashboard address '%s': %s", host, gai_strerror(g));
  int fd = -1, e = 0;
  for (int k = 0; k < (port ? tries : 1) && fd < 0; k++) {
    fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      e = errno;
      break;
    }
    struct sockaddr_storage sa;
    memcpy(&sa, res->ai_addr, res->ai_addrlen);
    int p = port ? port + k : 0;
    if (p > 65535) {
      close(fd);
      fd = -1;
      break;
    }
    if (res->ai_family == AF_INET6) ((struct sockaddr_in6 *)&sa)->sin6_port = htons((uint16_t)p);
    else ((struct sockaddr_in *)&sa)->sin_port = htons((uint16_t)p);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sa, res->ai_addrlen) != 0 || listen(fd, 64) != 0) {
      e = errno;
      close(fd);
      fd = -1;
      if (e != EADDRINUSE) break;
    }
  }
  *v6 = res->ai_family == AF_INET6;
  freeaddrinfo(res);
  if (fd < 0)
    return spy_fail(err, SPY_EIO, "cannot start the dashboard on %s:%d%s: %s", *host ? host : "127.0.0.1", port,
                    port && e == EADDRINUSE ? " (and the next 99 ports)" : "", strerror(e));
  struct sockaddr_storage sa;
  socklen_t sl = sizeof sa;
  getsockname(fd, (struct sockaddr *)&sa, &sl);
  *bound = ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&sa)->sin6_port
                                          : ((struct sockaddr_in *)&sa)->sin_port);
  return fd;
}

int spy_dash_acquire(const char *address, spy_err *err)
{
  pthread_mutex_lock(&D.lock);
  if (D.d) {
    D.refs++;
    pthread_mutex_unlock(&D.lock);
    return SPY_OK;
  }
  char host[256];
  int port = 0, bound = 0, rc;
  bool v6 = false;
  if ((rc = parse_address(address ? address : SPY_DASH_DEFAULT, host, sizeof host, &port, err))) goto out;
  if ((rc = spy_lazy_need(&spy_lazy_mhd, "the dashboard", err))) goto out;
  int fd = listen_on(host, port, PORT_TRIES, &bound, &v6, err);
  if (fd < 0) {
    rc = fd;
    goto out;
  }
  if (port && bound != port)
    spy_log(SPY_LOG_INFO, "Port %d is already in use; hosting the dashboard on port %d instead", port, bound);
  unsigned char r[TOKEN_HEX / 2];
  if (spy_random_bytes(r, sizeof r) != 0) {
    close(fd);
    rc = spy_fail(err, SPY_EIO, "cannot read random bytes for the dashboard's token");
    goto out;
  }
  for (size_t i = 0; i < sizeof r; i++) snprintf(D.token + 2 * i, 3, "%02x", r[i]);
  snprintf(D.host, sizeof D.host, "%s", host);
  atomic_store(&D.stopping, false);
  D.d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
                             (v6 ? MHD_USE_IPv6 : 0),
                         0, NULL, NULL, handle, NULL, MHD_OPTION_LISTEN_SOCKET, fd,
                         MHD_OPTION_CONNECTION_LIMIT, MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
                         IDLE_SECONDS, MHD_OPTION_CONNECTION_MEMORY_LIMIT, HEADER_BYTES, MHD_OPTION_END);
  if (!D.d) {
    close(fd);
    rc = spy_fail(err, SPY_ERUNTIME, "cannot start the dashboard's HTTP server");
    goto out;
  }
  D.fd = fd;
  D.port = bound;
  D.refs = 1;
  const char *shown = !*host || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 ? "127.0.0.1" : host;
  snprintf(D.link, sizeof D.link, "http://%s%s%s:%d/status?token=%s", strchr(shown, ':') ? "[" : "", shown,
           strchr(shown, ':') ? "]" : "", bound, D.token);
out:
  pthread_mutex_unlock(&D.lock);
  return rc;
}

void spy_dash_release(void)
{
  pthread_mutex_lock(&D.lock);
  if (D.refs > 0 && --D.refs == 0 && D.d) {
    atomic_store(&D.stopping, true);
    MHD_stop_daemon(D.d); /* joins every connection's thread, closes the socket */
    D.d = NULL;
    D.fd = -1;
    D.port = 0;
    D.link[0] = 0;
    memset(D.token, 0, sizeof D.token);
  }
  pthread_mutex_unlock(&D.lock);
}

bool spy_dash_running(void)
{
  pthread_mutex_lock(&D.lock);
  bool r = D.d != NULL;
  pthread_mutex_unlock(&D.lock);
  return r;
}

void spy_dash_link(char *buf, size_t n)
{
  pthread_mutex_lock(&D.lock);
  snprintf(buf, n, "%s", D.link);
  pthread_mutex_unlock(&D.lock);
}

int spy_dash_port(void)
{
  pthread_mutex_lock(&D.lock);
  int p = D.port;
  pthread_mutex_unlock(&D.lock);
  return p;
}
