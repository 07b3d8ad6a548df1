/*
** The cluster dashboard: an HTTP server (libmicrohttpd, its own threads)
** that shows the session's live state (dash/events.h) in a browser.
**
** One per session, reference-counted: each client or cluster that wants it
** acquires it (the first acquire starts it on its address), each close
** releases, the last release stops it (and closes every connection).
**
** Access: every URL but /health needs the session's random token
** (`?token=...`, 32 hex digits, compared in constant time; 403 without);
** the Host header must name this machine (localhost, an IP address, the
** host name or the name the user bound to), against DNS rebinding (403).
** Bound to 127.0.0.1 unless the address names another interface.  Limits
** against hostile clients: 32 connections, 16 KiB of request header,
** 10 s of inactivity; only GET and HEAD.  Nothing here blocks the caller
** or the scheduler: requests are served on the server's threads from
** snapshots of dash/events.
**
** Pages: /status (live, Server-Sent Events from /events), /info/workers,
** /info/worker/<id>, /json/status.json, /health.  docs/internals/dashboard.md.
*/
#ifndef SPY_DASH_H
#define SPY_DASH_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

/* The default address, as dask's. */
#define SPY_DASH_DEFAULT "127.0.0.1:8787"

/*
** Starts the server on `address` ("host:port", ":port", "port"; NULL:
** SPY_DASH_DEFAULT) unless it runs already (then the address is ignored),
** and takes a reference.  A taken port moves on to the next free one (up to
** 100 further, a message at INFO); port 0 picks any free port.  On error
** nothing is held.
*/
int spy_dash_acquire(const char *address, spy_err *err);
/* Drops a reference; the last one stops the server (joins its threads). */
void spy_dash_release(void);
bool spy_dash_running(void);
/* The status page's full URL with the token ("" when not running). */
void spy_dash_link(char *buf, size_t n);
/* The bound port (0 when not running). */
int spy_dash_port(void);

/* The status page (page.c). */
extern const char spy_dash_status_html[];

#endif
