/*
** spy.LocalCluster, spy.Client, spy.get_client, spy.cluster_cleanup: the Lua
** face of the executors, with dask's names and printouts.  A client attaches
** a LocalCluster (a thread pool) or a SLURMCluster (remote workers, slurm.c);
** once made it is used by every later computation until closed (registry
** "spy.client").  Each computation asks spy._executor_for_call(parallel) for
** its pool (and remote executor) and calls spy._end_call() afterwards (see
** spy_bind_runop).
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "bind/cluster.h"
#include "bind/dash.h"
#include "bind/data.h"
#include "core/log.h"
#include "dash/dash.h"
#include "dash/events.h"
#include "sched/pool.h"
#include "sched/sched.h"

typedef struct {
  spy_pool *pool;
  int nworkers, threads;
  double memory;   /* total bytes */
  bool dash;       /* holds a reference on the dashboard */
  char group[16];  /* its workers on the dashboard: "<group>-<k>" */
} cluster_ud;

#define MT_CLUSTER "spy.LocalCluster"
#define MT_CLIENT "spy.Client"

static double system_memory(void)
{
  long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
  return pages > 0 && size > 0 ? (double)pages * (double)size : 0;
}

/* Cores to use by default: the Slurm allocation inside a job, else the machine's. */
static int default_workers(void)
{
  const char *e = getenv("SLURM_JOB_ID") ? getenv("SLURM_CPUS_PER_TASK") : NULL;
  if (!e && getenv("SLURM_JOB_ID")) e = getenv("SLURM_CPUS_ON_NODE");
  if (e && atoi(e) > 0) return atoi(e);
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

/* dask.utils.format_bytes */
void spy_bind_format_bytes(char *buf, size_t n, double b)
{
  static const struct {
    const char *p;
    double k;
  } pre[] = {{"Pi", 1125899906842624.0}, {"Ti", 1099511627776.0}, {"Gi", 1073741824.0},
             {"Mi", 1048576.0},          {"ki", 1024.0}};
  for (size_t i = 0; i < sizeof pre / sizeof *pre; i++)
    if (b >= 0.9 * pre[i].k) {
      snprintf(buf, n, "%.2f %sB", b / pre[i].k, pre[i].p);
      return;
    }
  snprintf(buf, n, "%.0f B", b);
}

/* "4GB", "1500MB", "2GiB", numbers (bytes) -> bytes; <0 if bad */
double spy_bind_parse_bytes(const char *s)
{
  char *end;
  double v = strtod(s, &end);
  if (end == s) v = 1;
  while (*end == ' ') end++;
  static const struct {
    const char *u;
    double f;
  } units[] = {{"", 1},       {"B", 1},          {"kB", 1e3},      {"KB", 1e3},
               {"MB", 1e6},   {"GB", 1e9},       {"TB", 1e12},     {"KiB", 1024.0},
               {"kiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0}, {"TiB", 1099511627776.0},
               {"k", 1e3},    {"M", 1e6},        {"G", 1e9},       {"T", 1e12}};
  for (size_t i = 0; i < sizeof units / sizeof *units; i++)
    if (strcasecmp(end, units[i].u) == 0) return v * units[i].f;
  return -1;
}

static cluster_ud *tocluster(lua_State *L, int idx)
{
  cluster_ud *c = luaL_checkudata(L, idx, MT_CLUSTER);
  return c;
}

static void cluster_repr(const cluster_ud *c, char *buf, size_t n)
{
  char mem[32];
  spy_bind_format_bytes(mem, sizeof mem, c->memory);
  if (!c->pool) snprintf(buf, n, "LocalCluster('local://spy', workers=0, threads=0, memory=0 B)");
  else snprintf(buf, n, "LocalCluster('local://spy', workers=%d, threads=%d, memory=%s)", c->nworkers,
                c->threads, mem);
}

static const spy_kwarg kw_cluster[] = {
    {"n_workers", SPY_KT_INT | SPY_KT_NULL, "null", NULL,
     "worker threads (default: the cores, or the CPUs of the Slurm allocation)", SPY_KW_INT32},
    {"threads_per_worker", SPY_KT_INT, "1", NULL, "threads per worker", SPY_KW_INT32},
    {"memory_limit", SPY_KT_STR | SPY_KT_NUM | SPY_KT_NULL, "\"auto\"", NULL,
     "memory per worker: 'auto' (system memory / workers), bytes or a string like '4GB'"},
    SPY_KW_DASHBOARD_ADDRESS,
    {NULL, 0, NULL, NULL, NULL}};

static const spy_funcspec spec_cluster = {
    "LocalCluster", "spy.LocalCluster{n_workers=<cores>, threads_per_worker=1, memory_limit='auto'}",
    "A pool of worker threads on this machine; attach it with spy.Client(cluster).",
    "Every computation then runs its trials (and channel chunks) in parallel.  Inside a Slurm job "
    "the default is the allocation's CPUs (SLURM_CPUS_PER_TASK / SLURM_CPUS_ON_NODE).",
    "local cluster = spy.LocalCluster{n_workers=8}\nlocal client = spy.Client(cluster)",
    kw_cluster};

static void cluster_close(cluster_ud *c)
{
  if (c->pool) {
    spy_pool_free(c->pool);
    c->pool = NULL;
    if (*c->group) spy_ev_group_close(c->group);
  }
  spy_bind_dash_release(&c->dash);
}

static int l_cluster_gc(lua_State *L)
{
  cluster_close(tocluster(L, 1));
  return 0;
}

/* cfg: the LocalCluster's keywords (its dashboard_address), or NULL for a
** computation's temporary cluster (no dashboard, its threads not listed as
** workers: the table of workers is for the session's clusters). */
static int new_cluster(lua_State *L, int n, int tpw, double memory_per_worker, const cJSON *cfg)
{
  static int count;
  cluster_ud *c = lua_newuserdatauv(L, sizeof *c, 0);
  memset(c, 0, sizeof *c);
  luaL_setmetatable(L, MT_CLUSTER);
  spy_err err = {0};
  c->pool = spy_pool_new(n * tpw, &err);
  if (!c->pool) return spy_bind_raise(L, &err);
  c->nworkers = n;
  c->threads = n * tpw;
  c->memory = memory_per_worker * n;
  if (!cfg) return 1; /* a temporary cluster: its tasks are not shown per worker */
  if (++count == 1) snprintf(c->group, sizeof c->group, "local");
  else snprintf(c->group, sizeof c->group, "local%d", count);
  spy_ev_pool_add(c->group, c->pool, c->threads, memory_per_worker / tpw);
  c->dash = spy_bind_dash_acquire(L, cfg);
  return 1;
}

static int l_localcluster(lua_State *L)
{
  spy_jsonbox *box = spy_bind_jsonbox(L);
  box->json = spy_bind_kwargs(L, lua_istable(L, 1) ? 1 : 0, &spec_cluster);
  int n = spy_cfg_isnull(box->json, "n_workers") ? default_workers()
                                                  : (int)spy_cfg_num(box->json, "n_workers", 1);
  int tpw = (int)spy_cfg_num(box->json, "threads_per_worker", 1);
  if (n < 1 || n > 4096)
    return luaL_error(L, "Invalid value of `n_workers`: '%d'; expected an integer between 1 and 4096", n);
  if (tpw < 1 || tpw > 256)
    return luaL_error(L, "Invalid value of `threads_per_worker`: '%d'; expected an integer >= 1", tpw);
  double sys = system_memory(), mem = sys / n;
  const cJSON *m = cJSON_GetObjectItem(box->json, "memory_limit");
  if (cJSON_IsNumber(m)) mem = m->valuedouble <= 1 && m->valuedouble > 0 ? m->valuedouble * sys : m->valuedouble;
  else if (cJSON_IsString(m) && strcmp(m->valuestring, "auto") != 0) mem = spy_bind_parse_bytes(m->valuestring);
  if (!(mem > 0)) {
    char given[200];
    spy_json_brief(m, given, sizeof given);
    return luaL_error(L, "Invalid value of `memory_limit`: '%s'; expected 'auto', a number of bytes or "
                         "a size like '4GB' or '1500MB'",
                      given);
  }
  if (mem * n > sys && sys > 0) {
    spy_log(SPY_LOG_WARNING, "memory_limit exceeds the system memory; using %.2f GB per worker",
            sys / n / 1e9);
    mem = sys / n;
  }
  return new_cluster(L, n, tpw, mem, box->json);
}

static int l_cluster_tostring(lua_State *L)
{
  char buf[256];
  cluster_repr(tocluster(L, 1), buf, sizeof buf);
  lua_pushstring(L, buf);
  return 1;
}

static int l_cluster_close(lua_State *L)
{
  cluster_close(tocluster(L, 1));
  return 0;
}

static const spy_funcspec spec_cluster_close = {
    "LocalCluster:close", "cluster:close()",
    "Stop the cluster's worker threads (a client attached to it then has no workers).", NULL,
    "cluster:close()", NULL};

static int l_cluster_index(lua_State *L)
{
  cluster_ud *c = tocluster(L, 1);
  const char *k = luaL_checkstring(L, 2);
  if (strcmp(k, "close") == 0) lua_pushcfunction(L, l_cluster_close);
  else if (strcmp(k, "n_workers") == 0) lua_pushinteger(L, c->pool ? c->nworkers : 0);
  else if (strcmp(k, "threads") == 0) lua_pushinteger(L, c->pool ? c->threads : 0);
  else if (strcmp(k, "memory_limit") == 0) lua_pushnumber(L, c->nworkers ? c->memory / c->nworkers : 0);
  else if (strcmp(k, "dashboard_link") == 0) c->dash ? spy_bind_push_dash_link(L) : lua_pushnil(L);
  else lua_pushnil(L);
  return 1;
}

/* ---- Client ------------------------------------------------------------------ */

/* A client's uservalue 1 is its cluster: a LocalCluster or a SLURMCluster. */
typedef struct clientref {
  cluster_ud *local;
  spy_cluster *slurm;
} clientref;

static clientref client_ref(lua_State *L, int idx)
{
  clientref r = {NULL, NULL};
  luaL_checkudata(L, idx, MT_CLIENT);
  lua_getiuservalue(L, idx, 1);
  r.slurm = spy_bind_toslurm(L, -1);
  if (!r.slurm && !lua_isnil(L, -1)) r.local = luaL_testudata(L, -1, MT_CLUSTER);
  lua_pop(L, 1);
  return r;
}

static bool client_live(clientref r)
{
  return (r.local && r.local->pool) || (r.slurm && !spy_cluster_closed(r.slurm));
}

static void client_repr(clientref r, char *buf, size_t n)
{
  char mem[32];
  if (!client_live(r)) {
    snprintf(buf, n, "<Client: No scheduler connected>");
  } else if (r.slurm) {
    spy_cluster_status s;
    spy_cluster_get_status(r.slurm, &s);
    spy_bind_format_bytes(mem, sizeof mem, s.memory);
    snprintf(buf, n, "<Client: '%s' processes=%d threads=%d, memory=%s>", spy_cluster_address(r.slurm),
             s.workers, s.threads, mem);
  } else {
    spy_bind_format_bytes(mem, sizeof mem, r.local->memory);
    /* spy's local workers are threads of this process: dask's LocalCluster shape */
    snprintf(buf, n, "<Client: 'local://spy' workers=%d threads=%d, memory=%s>", r.local->nworkers,
             r.local->threads, mem);
  }
}

int spy_bind_client_workers(lua_State *L, int idx)
{
  if (!luaL_testudata(L, idx, MT_CLIENT)) return -1;
  clientref r = client_ref(L, idx);
  if (!client_live(r)) return 0;
  if (r.local) return r.local->nworkers;
  spy_cluster_status s;
  spy_cluster_get_status(r.slurm, &s);
  return s.workers;
}

static const spy_funcspec spec_client = {
    "Client", "spy.Client(cluster)",
    "Attach a cluster (LocalCluster or SLURMCluster): every later computation runs on its workers "
    "until client:close().  Without one: inside `srun -n N spy script.lua` or `spy --ranks N "
    "script.lua`, the other ranks; else a new LocalCluster.",
    NULL, "local client = spy.Client(spy.LocalCluster{n_workers=2})", NULL};

static int l_client(lua_State *L)
{
  if (lua_isnoneornil(L, 1)) { /* an in-allocation run's ranks (cluster/ranks.h) */
    lua_settop(L, 0);
    lua_getfield(L, LUA_REGISTRYINDEX, "spy.allocation");
    spy_cluster *ac = spy_bind_toslurm(L, 1);
    if (!ac || spy_cluster_closed(ac)) lua_settop(L, 0);
  }
  if (lua_isnoneornil(L, 1)) { /* dask: Client() makes a LocalCluster */
    lua_settop(L, 0);
    lua_newtable(L);
    l_localcluster(L);
    lua_replace(L, 1);
    lua_settop(L, 1);
  }
  spy_cluster *sc = spy_bind_toslurm(L, 1);
  if (sc && spy_cluster_closed(sc)) return luaL_argerror(L, 1, "the SLURMCluster is closed");
  if (!sc && !luaL_testudata(L, 1, MT_CLUSTER))
    return luaL_typeerror(L, 1, "LocalCluster or SLURMCluster");
  lua_getfield(L, LUA_REGISTRYINDEX, "spy.client");
  if (!lua_isnil(L, -1)) {
    clientref old = client_ref(L, -1);
    if (client_live(old)) {
      char repr[512];
      client_repr(old, repr, sizeof repr);
      spy_log(SPY_LOG_WARNING,
              "a client is already attached: %s; the new one replaces it for later computations "
              "(start one cluster per session, as Syncopy's guide advises; client:close() "
              "detaches a client, cluster:close() stops its workers)",
              repr);
    }
  }
  lua_pop(L, 1);
  bool *dash = lua_newuserdatauv(L, sizeof *dash, 1);
  *dash = false;
  luaL_setmetatable(L, MT_CLIENT);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);
  if (spy_dash_running()) { /* the client keeps the dashboard of its cluster */
    spy_err err = {0};
    *dash = spy_dash_acquire(NULL, &err) == SPY_OK;
    if (*dash) spy_bind_dash_announce();
  }
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, "spy.client");
  return 1;
}

static int l_client_tostring(lua_State *L)
{
  char buf[512];
  client_repr(client_ref(L, 1), buf, sizeof buf);
  lua_pushstring(L, buf);
  return 1;
}

static int l_client_close(lua_State *L)
{
  spy_bind_dash_release(luaL_checkudata(L, 1, MT_CLIENT));
  lua_getfield(L, LUA_REGISTRYINDEX, "spy.client");
  if (lua_rawequal(L, 1, -1)) {
    lua_pushnil(L);
    lua_setfield(L, LUA_REGISTRYINDEX, "spy.client");
  }
  lua_pushnil(L);
  lua_setiuservalue(L, 1, 1);
  return 0;
}

static const spy_funcspec spec_client_close = {
    "client:close", "client:close()",
    "Detach the client: later computations run without it (the cluster stays open).", NULL,
    "client:close()", NULL};

static const spy_funcspec spec_client_status = {
    "client:status", "client:status()",
    "Print the live state as text, the same as spy.status() and the dashboard.", NULL, "client:status()",
    NULL};

static int l_client_gc(lua_State *L)
{
  spy_bind_dash_release(luaL_checkudata(L, 1, MT_CLIENT));
  return 0;
}

static int l_client_help(lua_State *L)
{
  luaL_checkudata(L, 1, MT_CLIENT);
  spy_bind_push_dash_help(L);
  return 1;
}

static int l_client_index(lua_State *L)
{
  const char *k = luaL_checkstring(L, 2);
  if (strcmp(k, "close") == 0) lua_pushcfunction(L, l_client_close);
  else if (strcmp(k, "cluster") == 0) lua_getiuservalue(L, 1, 1);
  else if (strcmp(k, "n_workers") == 0) lua_pushinteger(L, spy_bind_client_workers(L, 1));
  else if (strcmp(k, "status") == 0) lua_pushcfunction(L, spy_bind_status);
  else if (strcmp(k, "dashboard_link") == 0) {
    if (*(bool *)lua_touserdata(L, 1)) spy_bind_push_dash_link(L);
    else lua_pushnil(L);
  } else lua_pushnil(L);
  return 1;
}

static const spy_funcspec spec_get_client = {
    "get_client", "spy.get_client()", "The client attached with spy.Client (an error if there is none).",
    NULL, "print(spy.get_client())", NULL};

static int l_get_client(lua_State *L)
{
  lua_getfield(L, LUA_REGISTRYINDEX, "spy.client");
  if (lua_isnil(L, -1) || !client_live(client_ref(L, -1)))
    return luaL_error(L, "No clients found: attach one with spy.Client(spy.LocalCluster{...})");
  return 1;
}

/* ---- cluster_cleanup ------------------------------------------------------------- */

static const spy_funcspec spec_cleanup = {
    "cluster_cleanup", "spy.cluster_cleanup([client])",
    "Shut down the client's cluster (default: the current one) and cancel Slurm jobs left over by "
    "earlier spy sessions of this user.",
    "Leftover jobs are recognised by their name, spy-worker-<user>-<session>, where <session> is "
    "no longer running (its lock in SPYTMPDIR is free).  Jobs of other running sessions, and of "
    "sessions whose lock is not in this SPYTMPDIR, are left alone.",
    "spy.cluster_cleanup()", NULL};

static int l_cluster_cleanup(lua_State *L)
{
  bool did = false;
  if (lua_isnoneornil(L, 1)) {
    lua_settop(L, 0);
    lua_getfield(L, LUA_REGISTRYINDEX, "spy.client");
  } else if (!luaL_testudata(L, 1, MT_CLIENT)) {
    return luaL_error(L, "`client` has to be a client object, not %s", luaL_typename(L, 1));
  }
  if (!lua_isnil(L, 1)) {
    clientref r = client_ref(L, 1);
    char name[160];
    int n = spy_bind_client_workers(L, 1);
    if (client_live(r)) {
      if (r.slurm) {
        snprintf(name, sizeof name, "cluster %s", spy_cluster_id(r.slurm));
        spy_cluster_close(r.slurm);
      } else {
        snprintf(name, sizeof name, "LocalCluster hosted on local://spy");
        cluster_close(r.local);
      }
      spy_log(SPY_LOG_IMPORTANT, "Successfully shut down %s containing %d workers", name, n);
      did = true;
    }
    lua_getfield(L, LUA_REGISTRYINDEX, "spy.client");
    if (lua_rawequal(L, 1, -1)) {
      lua_pushnil(L);
      lua_setfield(L, LUA_REGISTRYINDEX, "spy.client");
    }
    spy_bind_dash_release(lua_touserdata(L, 1));
  }
  long *ids = NULL;
  size_t n = 0;
  spy_err err = {0};
  if (spy_cluster_cancel_leftovers(&ids, &n, &err) != SPY_OK)
    spy_log(SPY_LOG_DEBUG, "no leftover Slurm jobs looked for: %s", err.msg);
  if (n) {
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (size_t i = 0; i < n; i++) {
      lua_pushfstring(L, "%s%I", i ? ", " : "", (lua_Integer)ids[i]);
      luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    spy_log(SPY_LOG_IMPORTANT, "Cancelled %zu Slurm job%s left over by earlier sessions: %s", n,
            n == 1 ? "" : "s", lua_tostring(L, -1));
    lua_pop(L, 1);
    did = true;
  }
  free(ids);
  if (!did) spy_log(SPY_LOG_WARNING, "No dangling clients or clusters found.");
  return 0;
}

/* ---- per-call executor ---------------------------------------------------------- */

spy_pool *spy_bind_client_pool(lua_State *L)
{
  lua_getfield(L, LUA_REGISTRYINDEX, "spy.callpool");
  spy_pool *p = lua_touserdata(L, -1);
  lua_pop(L, 1);
  return p;
}

double spy_bind_client_memory(lua_State *L)
{
  lua_getfield(L, LUA_REGISTRYINDEX, "spy.callmemory");
  double m = lua_tonumber(L, -1);
  lua_pop(L, 1);
  return m;
}

spy_remote *spy_bind_client_remote(lua_State *L)
{
  lua_getfield(L, LUA_REGISTRYINDEX, "spy.callremote");
  spy_remote *r = lua_touserdata(L, -1);
  lua_pop(L, 1);
  return r;
}

static void attaching(clientref r, int avail, int total)
{
  char repr[512];
  client_repr(r, repr, sizeof repr);
  spy_log(SPY_LOG_IMPORTANT, "%d/%d workers available, starting computation..", avail, total);
  spy_log(SPY_LOG_IMPORTANT, "..attaching to running client:\n\t%s", repr);
}

/* spy._executor_for_call(parallel): picks the executor of this computation
** (registry "spy.callpool", and "spy.callremote" for SLURM workers) and logs. */
static int l_executor_for_call(lua_State *L)
{
  bool parallel = lua_toboolean(L, 1);
  bool generation = lua_toboolean(L, 2);
  char repr[256];
  lua_pushnil(L);
  lua_setfield(L, LUA_REGISTRYINDEX, "spy.callmemory");
  lua_pushnil(L);
  lua_setfield(L, LUA_REGISTRYINDEX, "spy.callpool");
  lua_pushnil(L);
  lua_setfield(L, LUA_REGISTRYINDEX, "spy.callremote");
  lua_getfield(L, LUA_REGISTRYINDEX, "spy.client");
  clientref r = {NULL, NULL};
  if (!lua_isnil(L, -1)) r = client_ref(L, -1);
  /* data generation prints the attach block once per client (computations:
  ** every call, as Syncopy does); "spy.announced" is the last client announced */
  lua_getfield(L, LUA_REGISTRYINDEX, "spy.announced");
  bool quiet = generation && !lua_isnil(L, -2) && lua_rawequal(L, -1, -2);
  lua_pop(L, 1);
  if (client_live(r)) {
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, "spy.announced");
  }
  if (r.slurm && !spy_cluster_closed(r.slurm)) {
    spy_err err = {0};
    spy_cluster_status s;
    if (spy_cluster_wait(r.slurm, 1, &err)) return spy_bind_raise(L, &err);
    spy_remote *rem = spy_cluster_remote(r.slurm, &err);
    if (!rem) return spy_bind_raise(L, &err);
    spy_cluster_get_status(r.slurm, &s);
    if (!quiet) attaching(r, s.workers, s.requested > s.workers ? s.requested : s.workers);
    lua_pushnumber(L, s.threads > 0 ? s.memory / s.threads : 0);
    lua_setfield(L, LUA_REGISTRYINDEX, "spy.callmemory");
    lua_pushlightuserdata(L, rem->pool);
    lua_setfield(L, LUA_REGISTRYINDEX, "spy.callpool");
    lua_pushlightuserdata(L, rem);
    lua_setfield(L, LUA_REGISTRYINDEX, "spy.callremote");
  } else if (r.local && r.local->pool) {
    if (!quiet) attaching(r, r.local->nworkers, r.local->nworkers);
    lua_pushnumber(L, r.local->threads > 0 ? r.local->memory / r.local->threads : 0);
    lua_setfield(L, LUA_REGISTRYINDEX, "spy.callmemory");
    lua_pushlightuserdata(L, r.local->pool);
    lua_setfield(L, LUA_REGISTRYINDEX, "spy.callpool");
  } else if (parallel) {
    new_cluster(L, default_workers(), 1, system_memory() / default_workers(), NULL);
    cluster_ud *t = lua_touserdata(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, "spy.callcluster");
    cluster_repr(t, repr, sizeof repr);
    spy_log(SPY_LOG_IMPORTANT, "No running cluster found, created a local instance:\n\t%s", repr);
    lua_pushlightuserdata(L, t->pool);
    lua_setfield(L, LUA_REGISTRYINDEX, "spy.callpool");
  }
  return 0;
}

static int l_end_call(lua_State *L)
{
  lua_pushnil(L);
  lua_setfield(L, LUA_REGISTRYINDEX, "spy.callmemory");
  lua_pushnil(L);
  lua_setfield(L, LUA_REGISTRYINDEX, "spy.callpool");
  lua_pushnil(L);
  lua_setfield(L, LUA_REGISTRYINDEX, "spy.callremote");
  if (lua_getfield(L, LUA_REGISTRYINDEX, "spy.callcluster") == LUA_TUSERDATA)
    cluster_close(lua_touserdata(L, -1));
  lua_pushnil(L);
  lua_setfield(L, LUA_REGISTRYINDEX, "spy.callcluster");
  return 0;
}

void spy_open_cluster(lua_State *L, int spy)
{
  luaL_newmetatable(L, MT_CLUSTER);
  lua_pushcfunction(L, l_cluster_index);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, l_cluster_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushcfunction(L, l_cluster_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, l_cluster_gc);
  lua_setfield(L, -2, "__close");
  { /* for help(cluster) and completion of cluster. / cluster: */
    static const char *const fields[] = {"dashboard_link", "memory_limit", "n_workers", "threads"};
    int mt = lua_gettop(L);
    lua_pushliteral(L, "worker threads on this machine; attach with spy.Client(cluster)");
    lua_setfield(L, mt, "__about");
    lua_createtable(L, 4, 0);
    for (int i = 0; i < 4; i++) {
      lua_pushstring(L, fields[i]);
      lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, mt, "__fields");
    lua_createtable(L, 0, 1);
    spy_bind_func(L, mt + 1, "close", l_cluster_close, &spec_cluster_close);
    lua_setfield(L, mt, "__methods");
  }
  lua_pop(L, 1);
  luaL_newmetatable(L, MT_CLIENT);
  lua_pushcfunction(L, l_client_index);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, l_client_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushcfunction(L, l_client_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, l_client_help);
  lua_setfield(L, -2, "__help");
  { /* for help(client) and completion */
    static const char *const fields[] = {"cluster", "dashboard_link", "n_workers"};
    int mt = lua_gettop(L);
    lua_createtable(L, 3, 0);
    for (int i = 0; i < 3; i++) {
      lua_pushstring(L, fields[i]);
      lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, mt, "__fields");
    lua_createtable(L, 0, 2);
    spy_bind_func(L, mt + 1, "close", l_client_close, &spec_client_close);
    spy_bind_func(L, mt + 1, "status", spy_bind_status, &spec_client_status);
    lua_setfield(L, mt, "__methods");
  }
  lua_pop(L, 1);
  spy_bind_func(L, spy, "LocalCluster", l_localcluster, &spec_cluster);
  spy_bind_func(L, spy, "Client", l_client, &spec_client);
  spy_bind_func(L, spy, "get_client", l_get_client, &spec_get_client);
  spy_bind_func(L, spy, "cluster_cleanup", l_cluster_cleanup, &spec_cleanup);
  spy_open_slurm(L, spy);
  spy_open_dash(L, spy);
  spy_bind_func(L, spy, "_executor_for_call", l_executor_for_call, NULL);
  spy_bind_func(L, spy, "_end_call", l_end_call, NULL);
}
