#include "cluster/proto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/settings.h"

double spy_clock(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- building ---------------------------------------------------------------- */

static void put(spy_msgbuf *b, const void *p, size_t n)
{
  if (b->oom) return;
  if (b->n + n > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + n) cap *= 2;
    unsigned char *q = realloc(b->p, cap);
    if (!q) {
      b->oom = true;
      return;
    }
    b->p = q;
    b->cap = cap;
  }
  memcpy(b->p + b->n, p, n);
  b->n += n;
}

void spy_msg_begin(spy_msgbuf *b, int type)
{
  unsigned char h[5] = {0, 0, 0, 0, (unsigned char)type};
  b->n = 0;
  b->oom = false;
  put(b, h, sizeof h);
}

void spy_msg_u32(spy_msgbuf *b, uint32_t v)
{
  unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
                        (unsigned char)v};
  put(b, x, 4);
}

void spy_msg_u64(spy_msgbuf *b, uint64_t v)
{
  spy_msg_u32(b, (uint32_t)(v >> 32));
  spy_msg_u32(b, (uint32_t)v);
}

void spy_msg_f64(spy_msgbuf *b, double v)
{
  uint64_t u;
  memcpy(&u, &v, sizeof u);
  spy_msg_u64(b, u);
}

void spy_msg_raw(spy_msgbuf *b, const void *p, size_t n) { put(b, p, n); }

void spy_msg_str(spy_msgbuf *b, const char *s)
{
  size_t n = s ? strlen(s) : 0;
  if (n > UINT32_MAX) {
    b->oom = true;
    return;
  }
  spy_msg_u32(b, (uint32_t)n);
  put(b, s, n);
}

int spy_msg_end(spy_msgbuf *b, spy_err *err)
{
  if (b->oom) return spy_fail(err, SPY_ENOMEM, "out of memory building a message");
  size_t len = b->n - 4;
  if (len > SPY_PROTO_MAX_FRAME)
    return spy_fail(err, SPY_EINVAL, "message of %zu bytes exceeds the protocol limit of %u bytes",
                    len, SPY_PROTO_MAX_FRAME);
  b->p[0] = (unsigned char)(len >> 24);
  b->p[1] = (unsigned char)(len >> 16);
  b->p[2] = (unsigned char)(len >> 8);
  b->p[3] = (unsigned char)len;
  return SPY_OK;
}

void spy_msgbuf_free(spy_msgbuf *b)
{
  free(b->p);
  memset(b, 0, sizeof *b);
}

/* ---- reading ------------------------------------------------------------------ */

static const unsigned char *take(spy_msgreader *r, size_t n)
{
  if (r->bad || r->n - r->off < n) {
    r->bad = true;
    return NULL;
  }
  const unsigned char *p = r->p + r->off;
  r->off += n;
  return p;
}

uint32_t spy_rd_u32(spy_msgreader *r)
{
  const unsigned char *p = take(r, 4);
  if (!p) return 0;
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint64_t spy_rd_u64(spy_msgreader *r)
{
  uint64_t hi = spy_rd_u32(r);
  return hi << 32 | spy_rd_u32(r);
}

double spy_rd_f64(spy_msgreader *r)
{
  uint64_t u = spy_rd_u64(r);
  double v;
  memcpy(&v, &u, sizeof v);
  return v;
}

void spy_rd_raw(spy_msgreader *r, void *out, size_t n)
{
  const unsigned char *p = take(r, n);
  if (p) memcpy(out, p, n);
  else memset(out, 0, n);
}

char *spy_rd_str(spy_msgreader *r)
{
  size_t n = spy_rd_u32(r);
  const unsigned char *p = take(r, n);
  if (!p || memchr(p, 0, n)) {
    r->bad = true;
    return NULL;
  }
  char *s = malloc(n + 1);
  if (!s) {
    r->bad = true;
    return NULL;
  }
  memcpy(s, p, n);
  s[n] = 0;
  return s;
}

/* ---- receiving ------------------------------------------------------------------ */

static size_t frame_len(const spy_inbuf *in)
{
  return (size_t)in->p[0] << 24 | (size_t)in->p[1] << 16 | (size_t)in->p[2] << 8 | in->p[3];
}

long spy_inbuf_fill(spy_inbuf *in, int fd, size_t maxframe)
{
  /* an oversized length fails as soon as its 4 bytes are in, before any of
  ** its body is buffered */
  size_t want = 64 * 1024;
  if (in->n >= 4) {
    size_t len = frame_len(in);
    if (len == 0 || len > maxframe) {
      errno = EMSGSIZE;
      return -1;
    }
    if (4 + len > in->n && 4 + len - in->n > want) want = 4 + len - in->n;
  }
  if (in->n + want > in->cap) {
    size_t cap = in->cap ? in->cap : 4096;
    while (cap < in->n + want) cap *= 2;
    unsigned char *q = realloc(in->p, cap);
    if (!q) {
      errno = ENOMEM;
      return -1;
    }
    in->p = q;
    in->cap = cap;
  }
  ssize_t k = recv(fd, in->p + in->n, want, MSG_DONTWAIT);
  if (k < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? -2 : -1;
  in->n += (size_t)k;
  return (long)k;
}

int spy_inbuf_frame(const spy_inbuf *in, size_t maxframe, int *type, spy_msgreader *r)
{
  if (in->n < 4) return 0;
  size_t len = frame_len(in);
  if (len == 0 || len > maxframe) return -1;
  if (in->n < 4 + len) return 0;
  *type = in->p[4];
  r->p = in->p + 5;
  r->n = len - 1;
  r->off = 0;
  r->bad = false;
  return 1;
}

void spy_inbuf_pop(spy_inbuf *in)
{
  if (in->n < 4) return;
  size_t len = 4 + frame_len(in);
  if (len > in->n) len = in->n;
  memmove(in->p, in->p + len, in->n - len);
  in->n -= len;
  /* give back a large buffer once a big frame has been consumed */
  if (in->cap > (1u << 20) && in->n < 4096) {
    unsigned char *q = realloc(in->p, 4096);
    if (q) {
      in->p = q;
      in->cap = 4096;
    }
  }
}

void spy_inbuf_free(spy_inbuf *in)
{
  free(in->p);
  memset(in, 0, sizeof *in);
}

int spy_send_all(int fd, const void *p, size_t n, double seconds)
{
  const unsigned char *q = p;
  double end = spy_clock() + seconds;
  while (n) {
    int ms = -1;
    if (seconds >= 0) {
      double left = end - spy_clock();
      if (left <= 0) {
        errno = ETIMEDOUT;
        return -1;
      }
      ms = (int)(left * 1000) + 1;
    }
    struct pollfd pfd = {fd, POLLOUT, 0};
    int e = poll(&pfd, 1, ms);
    if (e < 0 && errno == EINTR) continue;
    if (e < 0) return -1;
    if (e == 0) continue;
    ssize_t k = send(fd, q, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (k < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
      return -1;
    }
    q += k;
    n -= (size_t)k;
  }
  return 0;
}

int spy_recv_frame(int fd, spy_inbuf *in, size_t maxframe, double seconds)
{
  double end = spy_clock() + seconds;
  for (;;) {
    int type;
    spy_msgreader r;
    int f = spy_inbuf_frame(in, maxframe, &type, &r);
    if (f < 0) return -2;
    if (f > 0) return 1;
    double left = end - spy_clock();
    if (left <= 0) return 0;
    struct pollfd pfd = {fd, POLLIN, 0};
    int e = poll(&pfd, 1, (int)(left * 1000) + 1);
    if (e < 0 && errno != EINTR) return -1;
    if (e <= 0) continue;
    long k = spy_inbuf_fill(in, fd, maxframe);
    if (k == 0) {
      errno = ECONNRESET;
      return -1;
    }
    if (k == -1) return -1;
  }
}

/* ---- secrets ---------------------------------------------------------------- */

static const char hexdig[] = "0123456789abcdef";

int spy_secret_create(const char *path, unsigned char key[SPY_PROTO_KEY], spy_err *err)
{
  char hex[2 * SPY_PROTO_KEY + 2];
  if (spy_random_bytes(key, SPY_PROTO_KEY) != 0)
    return spy_fail(err, SPY_ERUNTIME, "cannot draw random bytes for the cluster secret");
  for (int i = 0; i < SPY_PROTO_KEY; i++) {
    hex[2 * i] = hexdig[key[i] >> 4];
    hex[2 * i + 1] = hexdig[key[i] & 15];
  }
  hex[2 * SPY_PROTO_KEY] = '\n';
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return spy_fail(err, SPY_EIO, "cannot create the secret file '%s': %s", path, strerror(errno));
  ssize_t k = write(fd, hex, 2 * SPY_PROTO_KEY + 1);
  int bad = k != 2 * SPY_PROTO_KEY + 1 || fchmod(fd, 0600) != 0;
  if (close(fd) != 0 || bad) {
    unlink(path);
    return spy_fail(err, SPY_EIO, "cannot write the secret file '%s'", path);
  }
  return SPY_OK;
}

int spy_secret_read(const char *path, unsigned char key[SPY_PROTO_KEY], spy_err *err)
{
  char hex[2 * SPY_PROTO_KEY + 8];
  struct stat st;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return spy_fail(err, SPY_EIO, "cannot open the secret file '%s': %s", path, strerror(errno));
  if (fstat(fd, &st) != 0 || (st.st_mode & 077)) {
    close(fd);
    return spy_fail(err, SPY_EIO, "the secret file '%s' must be readable by its owner only (mode 0600)",
                    path);
  }
  ssize_t k = read(fd, hex, sizeof hex - 1);
  close(fd);
  if (k < 2 * SPY_PROTO_KEY) return spy_fail(err, SPY_EFORMAT, "the secret file '%s' is truncated", path);
  for (int i = 0; i < SPY_PROTO_KEY; i++) {
    const char *a = strchr(hexdig, hex[2 * i]), *b = strchr(hexdig, hex[2 * i + 1]);
    if (!a || !b || !*a || !*b) return spy_fail(err, SPY_EFORMAT, "the secret file '%s' is not hex", path);
    key[i] = (unsigned char)((a - hexdig) << 4 | (b - hexdig));
  }
  return SPY_OK;
}

void spy_auth_mac(const unsigned char key[SPY_PROTO_KEY], const char *role,
                  const unsigned char snonce[SPY_PROTO_NONCE],
                  const unsigned char wnonce[SPY_PROTO_NONCE], unsigned char out[SPY_PROTO_MAC])
{
  unsigned char msg[64 + 2 * SPY_PROTO_NONCE];
  size_t rl = strlen(role);
  if (rl > 64) rl = 64;
  memcpy(msg, role, rl);
  memcpy(msg + rl, snonce, SPY_PROTO_NONCE);
  memcpy(msg + rl + SPY_PROTO_NONCE, wnonce, SPY_PROTO_NONCE);
  unsigned int n = SPY_PROTO_MAC;
  HMAC(EVP_sha256(), key, SPY_PROTO_KEY, msg, rl + 2 * SPY_PROTO_NONCE, out, &n);
}

bool spy_auth_equal(const unsigned char *a, const unsigned char *b)
{
  return CRYPTO_memcmp(a, b, SPY_PROTO_MAC) == 0;
}

/* ---- addresses ------------------------------------------------------------------ */

int spy_addr_parse(const char *addr, char *host, size_t hostsz, int *port, spy_err *err)
{
  const char *p = addr;
  if (strncmp(p, "tcp://", 6) == 0) p += 6;
  const char *colon = strrchr(p, ':');
  if (!colon || colon == p || (size_t)(colon - p) >= hostsz)
    return spy_fail(err, SPY_EINVAL, "Invalid value of `address`: '%s'; expected 'tcp://<host>:<port>'", addr);
  char *end;
  long v = strtol(colon + 1, &end, 10);
  if (*end || v < 1 || v > 65535)
    return spy_fail(err, SPY_EINVAL, "Invalid value of `address`: '%s'; expected a port between 1 and 65535", addr);
  memcpy(host, p, (size_t)(colon - p));
  host[colon - p] = 0;
  *port = (int)v;
  return SPY_OK;
}

int spy_tcp_connect(const char *host, int port, double seconds, spy_err *err)
{
  struct addrinfo hints = {0}, *res = NULL;
  char ps[16];
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  snprintf(ps, sizeof ps, "%d", port);
  int e = getaddrinfo(host, ps, &hints, &res);
  if (e) return spy_fail(err, SPY_EIO, "cannot resolve '%s': %s", host, gai_strerror(e));
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    freeaddrinfo(res);
    return spy_fail(err, SPY_EIO, "socket: %s", strerror(errno));
  }
  int rc = connect(fd, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  if (rc != 0 && errno == EINPROGRESS) {
    struct pollfd pfd = {fd, POLLOUT, 0};
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (poll(&pfd, 1, (int)(seconds * 1000)) == 1 &&
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
      rc = 0;
    else
      errno = soerr ? soerr : ETIMEDOUT;
  }
  if (rc != 0) {
    int en = errno;
    close(fd);
    rc = spy_fail(err, SPY_EIO, "cannot connect to %s:%d: %s", host, port, strerror(en));
    errno = en; /* callers tell a refused connection from a slow one */
    return rc;
  }
  int fl = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}
