/*
** The dashboard in the bindings (dash.c): the `dashboard_address` keyword
** of LocalCluster, SLURMCluster and esi_cluster_setup, the references that
** clients and clusters hold on the server, spy.status().
*/
#ifndef SPY_BIND_DASH_H
#define SPY_BIND_DASH_H

#include <stdbool.h>

#include "bind/bind.h"

/* The keyword's spec entry (dask's name; false disables). */
#define SPY_KW_DASHBOARD_ADDRESS                                                                 \
  {"dashboard_address", SPY_KT_STR | SPY_KT_INT | SPY_KT_BOOL | SPY_KT_NULL, "\":8787\"", NULL, \
   "address of the live dashboard: ':8787' (127.0.0.1, the next free port if taken), "          \
   "'host:port', a port number, or false for none"}

/* Starts the dashboard (or takes another reference on the running one) as
** cfg's dashboard_address asks; true when a reference is held.  A bad
** address raises; a server that cannot start is a WARNING (the cluster
** works without it). */
bool spy_bind_dash_acquire(lua_State *L, const cJSON *cfg);
/* The client's summary line: the link at IMPORTANT (and, in an ssh
** session, the tunnel command). */
void spy_bind_dash_announce(void);
/* Drops the reference *held (if any) and clears it. */
void spy_bind_dash_release(bool *held);
/* Pushes the dashboard link, or nil when none runs. */
void spy_bind_push_dash_link(lua_State *L);
/* client:status() / spy.status(): prints the status text. */
int spy_bind_status(lua_State *L);
/* help(client): the dashboard paragraph (link and the ssh -L hint). */
void spy_bind_push_dash_help(lua_State *L);

void spy_open_dash(lua_State *L, int spy);

#endif
