/*
** spy.status() and the dashboard's keyword and references (bind/dash.h).
*/
#include "bind/dash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "dash/dash.h"
#include "dash/events.h"

bool spy_bind_dash_acquire(lua_State *L, const cJSON *cfg)
{
  const cJSON *a = cJSON_GetObjectItem(cfg, "dashboard_address");
  char addr[300];
  if (cJSON_IsFalse(a)) return false;
  if (cJSON_IsTrue(a) || !a || cJSON_IsNull(a)) snprintf(addr, sizeof addr, "%s", SPY_DASH_DEFAULT);
  else if (cJSON_IsNumber(a)) snprintf(addr, sizeof addr, "%.0f", a->valuedouble);
  else if (cJSON_IsString(a) && strlen(a->valuestring) < sizeof addr)
    snprintf(addr, sizeof addr, "%s", a->valuestring);
  else luaL_error(L, "Invalid value of `dashboard_address`: too long");
  bool was = spy_dash_running();
  spy_err err = {0};
  int rc = spy_dash_acquire(addr, &err);
  if (rc == SPY_EINVAL) spy_bind_raise(L, &err);
  if (rc) {
    spy_log(SPY_LOG_WARNING, "%s; continuing without a dashboard", err.msg);
    return false;
  }
  if (!was) spy_log(SPY_LOG_INFO, "Dashboard started on port %d", spy_dash_port());
  return true;
}

void spy_bind_dash_announce(void)
{
  char link[600], host[256] = "this-host";
  spy_dash_link(link, sizeof link);
  gethostname(host, sizeof host - 1);
  /* the token stays out of the log file: the console only */
  spy_log_console(SPY_LOG_IMPORTANT, "Dashboard accessible at %s", link);
  if (getenv("SSH_CONNECTION")) /* a remote session: the tunnel that reaches it */
    spy_log(SPY_LOG_IMPORTANT, "..from your computer: ssh -L %d:127.0.0.1:%d %s, then open the link there",
            spy_dash_port(), spy_dash_port(), host);
}

void spy_bind_dash_release(bool *held)
{
  if (*held) spy_dash_release();
  *held = false;
}

void spy_bind_push_dash_link(lua_State *L)
{
  char link[600];
  spy_dash_link(link, sizeof link);
  if (*link) lua_pushstring(L, link);
  else lua_pushnil(L);
}

int spy_bind_status(lua_State *L)
{
  char link[600];
  spy_dash_link(link, sizeof link);
  char *s = spy_ev_status_text(*link ? link : NULL);
  if (!s) return luaL_error(L, "out of memory");
  fputs(s, stdout);
  fflush(stdout);
  free(s);
  return 0;
}

void spy_bind_push_dash_help(lua_State *L)
{
  char link[600], host[256] = "this-host";
  spy_dash_link(link, sizeof link);
  gethostname(host, sizeof host - 1);
  if (!*link) {
    lua_pushstring(L, "\nDashboard: not running (dashboard_address=false, or every client closed).\n");
    return;
  }
  int port = spy_dash_port();
  lua_pushfstring(L,
                  "\nDashboard (live status in a browser; client:status() prints the same):\n  %s\n"
                  "From your own computer when spy runs on a login node: open a tunnel with\n"
                  "  ssh -L %d:127.0.0.1:%d <user>@%s\n"
                  "and open the link above on your computer.\n",
                  link, port, port, host);
}

static const spy_funcspec spec_status = {
    "status", "spy.status()",
    "Print the session's live state: computation and progress, workers, Slurm jobs, recent log.",
    "The same information as the dashboard's /status page (client.dashboard_link), as text: the "
    "current computation with its progress, every worker (state, Slurm job and its state with the "
    "pending reason, host, current task, tasks done, memory limit), Slurm jobs still waiting for "
    "their worker, and the last log lines.",
    "spy.status()", NULL};

static void log_sink(int level, const char *msg) { spy_ev_log(level, msg); }

void spy_open_dash(lua_State *L, int spy)
{
  spy_log_set_sink(log_sink);
  spy_bind_func(L, spy, "status", spy_bind_status, &spec_status);
}
