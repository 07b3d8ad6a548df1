/*
** The wire protocol between a session and its remote workers
** (docs/internals/cluster.md has the full table).
**
** A connection carries frames: a 4-byte big-endian length L, then L bytes,
** the first of which is the message type.  1 <= L <= a limit that depends on
** the stage: SPY_PROTO_MAX_HELLO until the peer is authenticated, then
** SPY_PROTO_MAX_FRAME (session -> worker, which carries the cfg) or
** SPY_PROTO_MAX_REPLY (worker -> session).  A frame over the limit, an
** unknown type or a malformed payload closes the connection; it is never
** buffered whole first.
**
** Handshake, versioned and mutually authenticated with the per-cluster
** secret (32 random bytes, hex in a 0600 file in the cluster's directory):
**   session: HELLO  magic "SPYW", version, 32-byte session nonce
**   worker:  AUTH   magic, version, 32-byte worker nonce,
**                   HMAC-SHA256(secret, "spy-worker" | snonce | wnonce), info JSON
**   session: WELCOME HMAC-SHA256(secret, "spy-session" | snonce | wnonce), JSON
**            or REJECT <reason> and close.
** The secret itself never travels.
**
** Integers are big-endian; strings are a u32 length and bytes (no NUL);
** doubles travel as their IEEE bits in a u64.
**
** Results travel over the connection (version 2): a task's block as BLOCK
** frames of at most SPY_PROTO_BLOCK_BYTES bytes each, in order, then RESULT
** with the total; the session copies each piece straight into the buffer
** the task's proxy waits with, so it holds at most one frame per connection
** besides the scheduler's own task buffers.
*/
#ifndef SPY_PROTO_H
#define SPY_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define SPY_PROTO_MAGIC "SPYW"
#define SPY_PROTO_VERSION 2u
#define SPY_PROTO_NONCE 32
#define SPY_PROTO_MAC 32
#define SPY_PROTO_KEY 32
#define SPY_PROTO_MAX_HELLO 4096u
#define SPY_PROTO_MAX_FRAME (64u << 20)
#define SPY_PROTO_MAX_REPLY (64u << 10)
/* result bytes per BLOCK frame: the reply limit less type, task and offset,
** rounded down to whole complex values */
#define SPY_PROTO_BLOCK_BYTES (SPY_PROTO_MAX_REPLY - 64u)

enum {
  SPY_MSG_HELLO = 1,     /* S->W  magic, u32 version, nonce */
  SPY_MSG_AUTH = 2,      /* W->S  magic, u32 version, nonce, mac, str info-json */
  SPY_MSG_WELCOME = 3,   /* S->W  mac, str json {"id", "heartbeat"} */
  SPY_MSG_REJECT = 4,    /* S->W  str reason */
  SPY_MSG_COMP = 10,     /* S->W  u64 comp, str computation-json */
  SPY_MSG_TASK = 11,     /* S->W  u64 comp, u64 task, u64 trial, row0, nsamp, c0, nc, rows */
  SPY_MSG_CANCEL = 12,   /* S->W  u64 comp: stop its running tasks */
  SPY_MSG_DROP = 13,     /* S->W  u64 comp: forget it (close its input) */
  SPY_MSG_PING = 20,     /* both  heartbeat, empty */
  SPY_MSG_SHUTDOWN = 21, /* S->W  exit now, empty */
  SPY_MSG_RESULT = 30,   /* W->S  u64 task, u32 flags, u64 bytes (after all its BLOCKs) */
  SPY_MSG_FAIL = 31,     /* W->S  u64 task, i32 code, str message */
  SPY_MSG_RETIRE = 32,   /* W->S  empty: the job's walltime is near, no new tasks please */
  SPY_MSG_BLOCK = 33     /* W->S  u64 task, u64 offset, bytes of its result block */
};

/* ---- building a frame ---------------------------------------------------- */

typedef struct spy_msgbuf {
  unsigned char *p;
  size_t n, cap;
  bool oom;
} spy_msgbuf;

/* Starts a frame of `type` (reuses b's memory). */
void spy_msg_begin(spy_msgbuf *b, int type);
void spy_msg_u32(spy_msgbuf *b, uint32_t v);
void spy_msg_u64(spy_msgbuf *b, uint64_t v);
void spy_msg_f64(spy_msgbuf *b, double v);
void spy_msg_raw(spy_msgbuf *b, const void *p, size_t n);
void spy_msg_str(spy_msgbuf *b, const char *s);
/* Writes the length; SPY_ENOMEM, or SPY_EINVAL when over SPY_PROTO_MAX_FRAME. */
int spy_msg_end(spy_msgbuf *b, spy_err *err);
void spy_msgbuf_free(spy_msgbuf *b);

/* ---- reading a payload ----------------------------------------------------- */

typedef struct spy_msgreader {
  const unsigned char *p;
  size_t n, off;
  bool bad; /* set by any read past the end; reads then return 0 */
} spy_msgreader;

uint32_t spy_rd_u32(spy_msgreader *r);
uint64_t spy_rd_u64(spy_msgreader *r);
double spy_rd_f64(spy_msgreader *r);
void spy_rd_raw(spy_msgreader *r, void *out, size_t n);
/* A malloc'ed NUL-terminated copy (NULL and r->bad on error or embedded NUL). */
char *spy_rd_str(spy_msgreader *r);

/* ---- receiving frames -------------------------------------------------------- */

typedef struct spy_inbuf {
  unsigned char *p;
  size_t n, cap;
} spy_inbuf;

/*
** Reads what fd has (non-blocking) into in.  Returns the number of bytes
** read, 0 on orderly close, -1 on error (errno; EMSGSIZE when the pending
** frame's length is 0 or above maxframe), -2 when nothing was ready.
*/
long spy_inbuf_fill(spy_inbuf *in, int fd, size_t maxframe);
/*
** The next complete frame in `in`: 1 with *type and a reader over its
** payload, 0 when incomplete, -1 when the length is 0 or above maxframe.
** spy_inbuf_pop drops it after use.
*/
int spy_inbuf_frame(const spy_inbuf *in, size_t maxframe, int *type, spy_msgreader *r);
void spy_inbuf_pop(spy_inbuf *in);
void spy_inbuf_free(spy_inbuf *in);

/* Blocking helpers for the worker: all bytes within `seconds` (< 0: none). */
int spy_send_all(int fd, const void *p, size_t n, double seconds);
/* Waits up to `seconds` for one whole frame into `in` (1 got one, 0 timeout,
** -1 closed or error with errno, -2 oversized frame). */
int spy_recv_frame(int fd, spy_inbuf *in, size_t maxframe, double seconds);

/* ---- secrets and authentication ------------------------------------------------ */

/* Creates `path` (must not exist) mode 0600 holding a fresh random key in hex. */
int spy_secret_create(const char *path, unsigned char key[SPY_PROTO_KEY], spy_err *err);
/* Reads a key; refuses a file that others than its owner may read. */
int spy_secret_read(const char *path, unsigned char key[SPY_PROTO_KEY], spy_err *err);
/* HMAC-SHA256(key, role | snonce | wnonce). */
void spy_auth_mac(const unsigned char key[SPY_PROTO_KEY], const char *role,
                  const unsigned char snonce[SPY_PROTO_NONCE],
                  const unsigned char wnonce[SPY_PROTO_NONCE], unsigned char out[SPY_PROTO_MAC]);
/* Constant-time comparison of two MACs. */
bool spy_auth_equal(const unsigned char *a, const unsigned char *b);

/* "tcp://host:port" -> host (IPv4 literal or name) and port. */
int spy_addr_parse(const char *addr, char *host, size_t hostsz, int *port, spy_err *err);
/* Connects with a timeout; the socket is returned blocking, TCP_NODELAY.
** On failure errno tells why (ECONNREFUSED: nothing listens). */
int spy_tcp_connect(const char *host, int port, double seconds, spy_err *err);

double spy_clock(void); /* monotonic seconds */

#endif
