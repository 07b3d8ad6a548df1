/*
** spy.SLURMCluster and spy.esi_cluster_setup: remote workers as Slurm jobs,
** with dask-jobqueue's option names and ACME's ESI presets.  A SLURMCluster
** userdata owns one spy_cluster (src/cluster/server.h); __gc and __close
** close it, which cancels its jobs, so a session that ends by error, Ctrl-C
** or os.exit leaves nothing behind (the engine's atexit hook covers exits
** that skip lua_close).
*/
#include <math.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bind/cluster.h"
#include "bind/dash.h"
#include "cluster/ranks.h"
#include "bind/data.h"
#include "core/interrupt.h"
#include "core/log.h"
#include "core/settings.h"
#include "data/data.h"

typedef struct slurm_ud {
  spy_cluster *c;
  bool dash;   /* holds a reference on the dashboard */
} slurm_ud;

spy_cluster *spy_bind_toslurm(lua_State *L, int idx)
{
  slurm_ud *u = luaL_testudata(L, idx, SPY_MT_SLURM);
  return u ? u->c : NULL;
}

static spy_cluster *checkslurm(lua_State *L, int idx)
{
  slurm_ud *u = luaL_checkudata(L, idx, SPY_MT_SLURM);
  if (!u->c) luaL_error(L, "the SLURMCluster was not created");
  return u->c;
}

void spy_bind_slurm_repr(spy_cluster *c, char *buf, size_t n)
{
  spy_cluster_status s;
  char mem[32];
  spy_cluster_get_status(c, &s);
  spy_bind_format_bytes(mem, sizeof mem, s.memory);
  snprintf(buf, n, "SLURMCluster(%s, '%s', workers=%d, threads=%d, memory=%s)%s", spy_cluster_id(c),
           spy_cluster_address(c), s.workers, s.threads, mem, spy_cluster_closed(c) ? " [closed]" : "");
}

/* ---- options ------------------------------------------------------------------------- */

static const spy_kwarg kw_slurm[] = {
    {"cores", SPY_KT_INT | SPY_KT_NULL, "null", NULL, "CPUs per job (--cpus-per-task); required", SPY_KW_INT32},
    {"memory", SPY_KT_STR | SPY_KT_NUM | SPY_KT_NULL, "null", NULL,
     "memory per job: '24GB' (10^9), '16GiB' (2^30), '1500MB' or bytes; required"},
    {"processes", SPY_KT_INT | SPY_KT_NULL, "null", NULL,
     "worker processes per job (default: cores if <= 4, else a factor near sqrt(cores))", SPY_KW_INT32},
    {"queue", SPY_KT_STR | SPY_KT_NULL, "null", NULL, "partition (#SBATCH -p)"},
    {"account", SPY_KT_STR | SPY_KT_NULL, "null", NULL, "account (#SBATCH -A)"},
    {"walltime", SPY_KT_STR | SPY_KT_BOOL | SPY_KT_NULL, "\"00:30:00\"", NULL,
     "time limit per job (#SBATCH -t); false for the partition's default"},
    {"local_directory", SPY_KT_STR | SPY_KT_NULL, "null", NULL,
     "shared folder for the cluster's directory (its secret); default SPYTMPDIR"},
    {"log_directory", SPY_KT_STR | SPY_KT_NULL, "null", NULL,
     "job logs <name>-<jobid>.out/.err; default <SPYLOGDIR>/slurm/<user>_<date>-<time>"},
    {"job_extra_directives", SPY_KT_STRS, "[]", NULL, "extra '#SBATCH <item>' lines, verbatim"},
    {"job_script_prologue", SPY_KT_STRS, "[]", NULL, "shell lines run before the worker (module load ...)"},
    {"job_directives_skip", SPY_KT_STRS, "[]", NULL,
     "generated directives to leave out, by option: {'--mem'}, {'-t'}"},
    {"interface", SPY_KT_STR | SPY_KT_NULL, "null", NULL,
     "network interface workers connect to (e.g. 'ib0'); default: this host name's address"},
    {"scheduler_port", SPY_KT_INT, "0", NULL, "TCP port of the session (0: any free one)", SPY_KW_INT32},
    {"death_timeout", SPY_KT_NUM, "60", NULL, "seconds a worker lives on without its session"},
    {"timeout", SPY_KT_NUM, "360", NULL, "seconds to wait for a first worker before failing"},
    {"n_workers", SPY_KT_INT, "0", NULL, "workers to start right away (cluster:scale(n_workers))", SPY_KW_INT32},
    {"job_name", SPY_KT_STR | SPY_KT_NULL, "null", NULL,
     "#SBATCH -J (default spy-worker-<user>-<session>, which spy.cluster_cleanup() recognises)"},
    {"spy", SPY_KT_STR | SPY_KT_NULL, "null", NULL,
     "the spy executable jobs run (default: this one, $SPY_BIN, or spy in PATH)"},
    SPY_KW_DASHBOARD_ADDRESS,
    {NULL, 0, NULL, NULL, NULL}};

static const spy_funcspec spec_slurm = {
    "SLURMCluster",
    "spy.SLURMCluster{cores=, memory=, processes=, queue=, account=, walltime='00:30:00', ...}",
    "Workers as Slurm jobs (`spy --worker`), attached with spy.Client(cluster).",
    "Options and defaults are dask-jobqueue's.  Each job runs `spy --worker <address>`, which "
    "connects back to this session over TCP and authenticates with a per-cluster secret; tasks "
    "carry the computation's cfg and a slice; workers read their slices from the input file and "
    "send result blocks back over the connection (local_directory, which holds the secret, must "
    "be visible from the compute nodes).  cluster:job_script() shows the script, "
    "cluster:scale(n) submits or cancels jobs, cluster:adapt{minimum_jobs=0, maximum_jobs=8, wait=3} lets the jobs follow "
    "the computations (dask-jobqueue's adapt), cluster:close() cancels them all (as does the end "
    "of the session).  Workers retire before their walltime and are replaced first.  Inside "
    "`srun -n N spy script.lua` no cluster is needed: spy.Client() attaches the other ranks.",
    "local cluster = spy.SLURMCluster{cores=1, memory='4GB', queue='8GBS'}\ncluster:scale(8)\n"
    "local client = spy.Client(cluster)",
    kw_slurm};

static char **strv_from_json(const cJSON *a, size_t *n)
{
  *n = (size_t)cJSON_GetArraySize(a);
  char **v = calloc(*n ? *n : 1, sizeof *v);
  size_t i = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, a) if (v && cJSON_IsString(e)) v[i++] = strdup(e->valuestring);
  *n = i;
  return v;
}

static char *dupstr(const cJSON *cfg, const char *key)
{
  const cJSON *v = cJSON_GetObjectItem(cfg, key);
  return cJSON_IsString(v) ? strdup(v->valuestring) : NULL;
}

/* this program when it is the spy shell, else $SPY_BIN, else spy in PATH */
static char *spy_executable(lua_State *L)
{
  const char *e = getenv("SPY_BIN");
  if (lua_getfield(L, LUA_REGISTRYINDEX, "spy.executable") == LUA_TSTRING) e = lua_tostring(L, -1);
  char *r = e && *e ? strdup(e) : NULL;
  lua_pop(L, 1);
  if (r) return r;
  const char *path = getenv("PATH");
  char buf[4200];
  for (const char *p = path ? path : ""; *p;) {
    size_t k = strcspn(p, ":");
    snprintf(buf, sizeof buf, "%.*s/spy", (int)k, p);
    if (access(buf, X_OK) == 0) return strdup(buf);
    p += k + (p[k] == ':');
  }
  return strdup("spy");
}

static void default_logdir(char *buf, size_t n)
{
  char user[64] = "user", stamp[32];
  struct passwd *pw = getpwuid(getuid());
  const char *u = pw ? pw->pw_name : getenv("USER");
  if (u && *u) snprintf(user, sizeof user, "%s", u);
  time_t now = time(NULL);
  struct tm tm;
  localtime_r(&now, &tm);
  strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  snprintf(buf, n, "%s/slurm/%s_%s", spy_logdir(), user, stamp);
}

/* Builds the config from a validated cfg; raises on bad values. */
static void config_from(lua_State *L, const cJSON *cfg, spy_slurm_config *c)
{
  if (spy_cfg_isnull(cfg, "cores") || spy_cfg_isnull(cfg, "memory"))
    luaL_error(L, "You must specify how much cores and memory per job you want to use, for "
                  "example:\ncluster = spy.SLURMCluster{cores=8, memory='24GB'}");
  c->cores = (int)spy_cfg_num(cfg, "cores", 1);
  if (c->cores < 1 || c->cores > 4096)
    luaL_error(L, "Invalid value of `cores`: '%d'; expected an integer between 1 and 4096", c->cores);
  const cJSON *m = cJSON_GetObjectItem(cfg, "memory");
  c->memory = cJSON_IsNumber(m) ? m->valuedouble : spy_bind_parse_bytes(m->valuestring);
  if (!(c->memory >= 1024))
    luaL_error(L, "Invalid value of `memory`: '%s'; expected a size like '24GB', '16GiB' or '1500MB'",
               cJSON_IsString(m) ? m->valuestring : "?");
  c->processes = spy_cfg_isnull(cfg, "processes") ? spy_slurm_default_processes(c->cores)
                                                   : (int)spy_cfg_num(cfg, "processes", 1);
  if (c->processes < 1 || c->processes > c->cores)
    luaL_error(L, "Invalid value of `processes`: '%d'; expected an integer between 1 and cores (%d)",
               c->processes, c->cores);
  c->death_timeout = spy_cfg_num(cfg, "death_timeout", 60);
  c->timeout = spy_cfg_num(cfg, "timeout", 360);
  if (!(c->death_timeout > 0) || !(c->timeout > 0))
    spy_bind_errorf(L, "Invalid value of `%s`: '%g'; expected a positive number of seconds",
               c->timeout > 0 ? "death_timeout" : "timeout", c->timeout > 0 ? c->death_timeout : c->timeout);
  c->port = (int)spy_cfg_num(cfg, "scheduler_port", 0);
  if (c->port < 0 || c->port > 65535)
    luaL_error(L, "Invalid value of `scheduler_port`: '%d'; expected 0 (any) or a port up to 65535", c->port);
  c->queue = dupstr(cfg, "queue");
  c->account = dupstr(cfg, "account");
  c->walltime = cJSON_IsTrue(cJSON_GetObjectItem(cfg, "walltime")) ? strdup("00:30:00")
                                                                    : dupstr(cfg, "walltime");
  c->interface = dupstr(cfg, "interface");
  c->job_name = dupstr(cfg, "job_name");
  c->spy = dupstr(cfg, "spy");
  if (!c->spy) c->spy = spy_executable(L);
  c->local_directory = dupstr(cfg, "local_directory");
  if (!c->local_directory) c->local_directory = strdup(spy_tmpdir());
  c->log_directory = dupstr(cfg, "log_directory");
  if (!c->log_directory) {
    char buf[4200];
    default_logdir(buf, sizeof buf);
    c->log_directory = strdup(buf);
  }
  c->job_extra = strv_from_json(cJSON_GetObjectItem(cfg, "job_extra_directives"), &c->njob_extra);
  c->prologue = strv_from_json(cJSON_GetObjectItem(cfg, "job_script_prologue"), &c->nprologue);
  c->skip = strv_from_json(cJSON_GetObjectItem(cfg, "job_directives_skip"), &c->nskip);
}

static void release_config(void *p)
{
  spy_slurm_config_free(p);
  free(p);
}

/* A config that is freed if the caller raises before handing it over. */
static spy_slurm_config *new_config(lua_State *L, spy_gcbox **box)
{
  *box = spy_bind_gcbox(L, release_config);
  spy_slurm_config *c = calloc(1, sizeof *c);
  if (!c) luaL_error(L, "out of memory");
  (*box)->ptr = c;
  return c;
}

/* Creates the userdata and the engine cluster from a config (taken over). */
static spy_cluster *push_cluster(lua_State *L, spy_slurm_config *cfg)
{
  slurm_ud *u = lua_newuserdatauv(L, sizeof *u, 0);
  u->c = NULL;
  u->dash = false;
  luaL_setmetatable(L, SPY_MT_SLURM);
  spy_err err = {0};
  char *script = NULL;
  if (!cfg->job_name) {
    char name[160];
    spy_cluster_job_name(name, sizeof name);
    cfg->job_name = strdup(name);
  }
  /* the job script is checked (quoting, values) before anything is created */
  int rc = spy_slurm_job_script(cfg, "tcp://127.0.0.1:1", "/dir", &script, &err);
  free(script);
  if (!rc) rc = spy_cluster_new(cfg, &u->c, &err);
  if (rc) {
    spy_slurm_config_free(cfg);
    spy_bind_raise(L, &err);
  }
  return u->c;
}

static int l_slurmcluster(lua_State *L)
{
  spy_jsonbox *box = spy_bind_jsonbox(L);
  box->json = spy_bind_kwargs(L, lua_istable(L, 1) ? 1 : 0, &spec_slurm);
  spy_gcbox *g;
  spy_slurm_config *cfg = new_config(L, &g);
  config_from(L, box->json, cfg);
  int n = (int)spy_cfg_num(box->json, "n_workers", 0);
  spy_cluster *c = push_cluster(L, cfg);
  g->ptr = NULL;
  free(cfg);
  ((slurm_ud *)lua_touserdata(L, -1))->dash = spy_bind_dash_acquire(L, box->json);
  if (n > 0) {
    spy_err err = {0};
    if (spy_cluster_scale(c, n, &err)) spy_bind_raise(L, &err);
  }
  return 1;
}

/* ---- methods ----------------------------------------------------------------------------- */

static int l_job_script(lua_State *L)
{
  spy_cluster *c = checkslurm(L, 1);
  spy_err err = {0};
  char *s = NULL;
  if (spy_cluster_job_script(c, &s, &err)) return spy_bind_raise(L, &err);
  lua_pushstring(L, s);
  free(s);
  return 1;
}

static int l_scale(lua_State *L)
{
  spy_cluster *c = checkslurm(L, 1);
  lua_Integer n = luaL_checkinteger(L, 2);
  spy_err err = {0};
  if (spy_cluster_scale(c, n < 0 || n > 100000 ? -1 : (int)n, &err)) return spy_bind_raise(L, &err);
  lua_settop(L, 1);
  return 1;
}

static int l_close(lua_State *L)
{
  slurm_ud *u = luaL_checkudata(L, 1, SPY_MT_SLURM);
  if (u->c) spy_cluster_close(u->c);
  spy_bind_dash_release(&u->dash);
  return 0;
}

static int l_gc(lua_State *L)
{
  slurm_ud *u = luaL_checkudata(L, 1, SPY_MT_SLURM);
  spy_cluster_free(u->c);
  u->c = NULL;
  spy_bind_dash_release(&u->dash);
  return 0;
}

static int l_wait(lua_State *L)
{
  spy_cluster *c = checkslurm(L, 1);
  lua_Integer n = luaL_optinteger(L, 2, 1);
  spy_err err = {0};
  if (spy_cluster_wait(c, n < 0 ? 0 : n > 100000 ? 100000 : (int)n, &err)) return spy_bind_raise(L, &err);
  lua_settop(L, 1);
  return 1;
}

static const spy_kwarg kw_adapt[] = {
    {"minimum_jobs", SPY_KT_INT, "0", NULL, "jobs kept while no computation runs", SPY_KW_INT32},
    {"maximum_jobs", SPY_KT_INT | SPY_KT_NULL, "null", NULL, "jobs at most; required", SPY_KW_INT32},
    {"wait", SPY_KT_NUM, "3", NULL, "seconds without a computation before scaling down to minimum_jobs"},
    {NULL, 0, NULL, NULL, NULL}};

static const spy_funcspec spec_adapt = {
    "adapt", "cluster:adapt{minimum_jobs=0, maximum_jobs=, wait=3}",
    "dask-jobqueue's adaptive scaling: Slurm jobs follow the computations.",
    "A computation that starts gets as many jobs as it has trials for (one trial per core), at "
    "most maximum_jobs; `wait` seconds after the last computation ended, idle jobs are cancelled "
    "(their workers shut down first) down to minimum_jobs.  cluster:scale(n) ends adaptive "
    "scaling.",
    "cluster:adapt{minimum_jobs=0, maximum_jobs=8}", kw_adapt};

static int l_adapt(lua_State *L)
{
  spy_cluster *c = checkslurm(L, 1);
  spy_jsonbox *box = spy_bind_jsonbox(L);
  box->json = spy_bind_kwargs(L, lua_istable(L, 2) ? 2 : 0, &spec_adapt);
  if (spy_cfg_isnull(box->json, "maximum_jobs"))
    return luaL_error(L, "cluster:adapt needs maximum_jobs, for example cluster:adapt{minimum_jobs=0, maximum_jobs=8}");
  spy_err err = {0};
  if (spy_cluster_adapt(c, (int)spy_cfg_num(box->json, "minimum_jobs", 0), (int)spy_cfg_num(box->json, "maximum_jobs", 1),
                        spy_cfg_num(box->json, "wait", 3), &err))
    return spy_bind_raise(L, &err);
  lua_settop(L, 1);
  return 1;
}

static int l_tostring(lua_State *L)
{
  char buf[512];
  spy_bind_slurm_repr(checkslurm(L, 1), buf, sizeof buf);
  lua_pushstring(L, buf);
  return 1;
}

static const spy_funcspec spec_m_job_script = {
    "SLURMCluster:job_script", "cluster:job_script()",
    "The sbatch script each worker job runs (as dask-jobqueue's job_script()).", NULL,
    "print(cluster:job_script())", NULL};
static const spy_funcspec spec_m_scale = {
    "SLURMCluster:scale", "cluster:scale(n)",
    "Ask for n worker jobs: submits or cancels jobs until n are requested.", NULL,
    "cluster:scale(4)", NULL};
static const spy_funcspec spec_m_close = {
    "SLURMCluster:close", "cluster:close()", "Cancel the worker jobs and stop the scheduler.", NULL,
    "cluster:close()", NULL};
static const spy_funcspec spec_m_wait = {
    "SLURMCluster:wait_for_workers", "cluster:wait_for_workers([n=1])",
    "Wait until n workers have connected (an error after the cluster's timeout).", NULL,
    "cluster:wait_for_workers(2)", NULL};

static int l_index(lua_State *L)
{
  spy_cluster *c = checkslurm(L, 1);
  const char *k = luaL_checkstring(L, 2);
  spy_cluster_status s;
  static const luaL_Reg methods[] = {{"job_script", l_job_script}, {"scale", l_scale}, {"close", l_close},
                                     {"adapt", l_adapt},
                                     {"wait_for_workers", l_wait}, {NULL, NULL}};
  for (const luaL_Reg *m = methods; m->name; m++)
    if (strcmp(k, m->name) == 0) {
      lua_pushcfunction(L, m->func);
      return 1;
    }
  spy_cluster_get_status(c, &s);
  if (strcmp(k, "address") == 0) lua_pushstring(L, spy_cluster_address(c));
  else if (strcmp(k, "id") == 0) lua_pushstring(L, spy_cluster_id(c));
  else if (strcmp(k, "directory") == 0) lua_pushstring(L, spy_cluster_dir(c));
  else if (strcmp(k, "log_directory") == 0) lua_pushstring(L, spy_cluster_config(c)->log_directory);
  else if (strcmp(k, "job_name") == 0) lua_pushstring(L, spy_cluster_config(c)->job_name);
  else if (strcmp(k, "workers") == 0) lua_pushinteger(L, s.workers);
  else if (strcmp(k, "threads") == 0) lua_pushinteger(L, s.threads);
  else if (strcmp(k, "requested") == 0) lua_pushinteger(L, s.requested);
  else if (strcmp(k, "closed") == 0) lua_pushboolean(L, spy_cluster_closed(c));
  else if (strcmp(k, "dashboard_link") == 0) {
    if (((slurm_ud *)lua_touserdata(L, 1))->dash) spy_bind_push_dash_link(L);
    else lua_pushnil(L);
  }
  else if (strcmp(k, "job_ids") == 0) {
    long ids[4096];
    size_t n = spy_cluster_job_ids(c, ids, 4096);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n && i < 4096; i++) {
      lua_pushinteger(L, ids[i]);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
  } else lua_pushnil(L);
  return 1;
}

/* ---- esi_cluster_setup ------------------------------------------------------------------ */

static const spy_kwarg kw_esi[] = {
    {"partition", SPY_KT_STR | SPY_KT_NULL, "null", NULL, "Slurm partition, e.g. '8GBXS', '16GBXL'; required"},
    {"n_jobs", SPY_KT_INT | SPY_KT_NULL, "null", NULL, "number of worker jobs (default 2; alias n_workers)", SPY_KW_INT32},
    {"mem_per_job", SPY_KT_STR | SPY_KT_NULL, "null", NULL,
     "'auto' (the partition's limit) or '8GB' / '12000MB' (1 GB = 1000 MB; alias mem_per_worker)"},
    {"cores_per_job", SPY_KT_INT | SPY_KT_NULL, "null", NULL,
     "CPUs per job (default DefMemPerCPU / 8000, at least 1; alias cores_per_worker)", SPY_KW_INT32},
    {"n_jobs_startup", SPY_KT_INT | SPY_KT_NULL, "null", NULL,
     "workers to wait for before returning (default 1; alias n_workers_startup)", SPY_KW_INT32},
    {"timeout", SPY_KT_NUM, "360", NULL, "seconds to wait for workers before giving up"},
    {"job_extra", SPY_KT_STRS, "[]", NULL, "extra sbatch options, e.g. {'--nodelist=esi-svhpc5'}"},
    {"interface", SPY_KT_STR | SPY_KT_NULL, "null", NULL, "network interface workers connect to"},
    {"n_workers", SPY_KT_INT | SPY_KT_NULL, "null", NULL, "ACME 2023.12+ name of n_jobs", SPY_KW_INT32},
    {"mem_per_worker", SPY_KT_STR | SPY_KT_NULL, "null", NULL, "ACME 2023.12+ name of mem_per_job"},
    {"cores_per_worker", SPY_KT_INT | SPY_KT_NULL, "null", NULL, "ACME 2023.12+ name of cores_per_job", SPY_KW_INT32},
    {"n_workers_startup", SPY_KT_INT | SPY_KT_NULL, "null", NULL, "ACME 2023.12+ name of n_jobs_startup", SPY_KW_INT32},
    SPY_KW_DASHBOARD_ADDRESS,
    {NULL, 0, NULL, NULL, NULL}};

static const spy_funcspec spec_esi = {
    "esi_cluster_setup",
    "spy.esi_cluster_setup{partition=, n_jobs=2, mem_per_job='auto', cores_per_job=nil, timeout=360, job_extra={}}",
    "A SLURMCluster on an ESI partition with ACME's presets, attached: returns the client.",
    "The partition is checked against `sinfo`.  Memory and cores come from `scontrol show "
    "partition`: the limit is MaxMemPerCPU, else DefMemPerCPU, else the <N>GB<class> name "
    "(N x 1000 MB); memory defaults to the limit (larger requests are capped, with a warning) and "
    "cores to DefMemPerCPU / 8000 (at least 1).  Slurm's MB are MiB: a partition with "
    "MaxMemPerCPU=8000 gets --mem=8000M.  An existing client with workers is reused.  Without "
    "Slurm a LocalCluster is started instead.",
    "local client = spy.esi_cluster_setup{partition='16GBXL', n_jobs=10}", kw_esi};

/* the value of `a` or of its alias `b` (both given: error); NULL when neither */
static const cJSON *alias(lua_State *L, const cJSON *cfg, const char *a, const char *b)
{
  bool ha = !spy_cfg_isnull(cfg, a), hb = !spy_cfg_isnull(cfg, b);
  if (ha && hb) luaL_error(L, "`%s` and `%s` are the same option: give one of them", a, b);
  return ha ? cJSON_GetObjectItem(cfg, a) : hb ? cJSON_GetObjectItem(cfg, b) : NULL;
}

/* "8GB" -> 8000, "1500MB" -> 1500 (ACME: 1 GB = 1000 MB); < 0 bad, 0 auto */
static double mem_mb(const char *s)
{
  if (strcmp(s, "auto") == 0) return 0;
  char *end;
  double v = strtod(s, &end);
  if (end == s || !(v > 0)) return -1;
  if (strcmp(end, "MB") == 0) return v;
  if (strcmp(end, "GB") == 0) return v * 1000;
  return -1;
}

static void call_namespace(lua_State *L, const char *fname, int nargs, int nres)
{
  lua_getfield(L, LUA_REGISTRYINDEX, "spy.namespace");
  lua_getfield(L, -1, fname);
  lua_remove(L, -2);
  lua_insert(L, -nargs - 1);
  lua_call(L, nargs, nres);
}

static int l_esi_cluster_setup(lua_State *L)
{
  spy_jsonbox *box = spy_bind_jsonbox(L);
  box->json = spy_bind_kwargs(L, lua_istable(L, 1) ? 1 : 0, &spec_esi);
  const cJSON *cfg = box->json;
  const cJSON *nj = alias(L, cfg, "n_jobs", "n_workers"), *mj = alias(L, cfg, "mem_per_job", "mem_per_worker");
  const cJSON *cj = alias(L, cfg, "cores_per_job", "cores_per_worker");
  const cJSON *sj = alias(L, cfg, "n_jobs_startup", "n_workers_startup");
  int njobs = nj ? (int)nj->valuedouble : 2, cores = cj ? (int)cj->valuedouble : 0;
  int startup = sj ? (int)sj->valuedouble : 1;
  double timeout = spy_cfg_num(cfg, "timeout", 360);
  if (njobs < 1) return luaL_error(L, "Invalid value of `n_jobs`: '%d'; expected an integer >= 1", njobs);
  if (cj && cores < 1) return luaL_error(L, "Invalid value of `cores_per_job`: '%d'; expected an integer >= 1", cores);
  if (startup < 0 || startup > njobs)
    return luaL_error(L, "Invalid value of `n_jobs_startup`: '%d'; expected an integer between 0 and n_jobs (%d)",
                      startup, njobs);
  if (!(timeout > 0)) return spy_bind_errorf(L, "Invalid value of `timeout`: '%g'; expected a positive number", timeout);
  double req = mj ? mem_mb(mj->valuestring) : 0;
  if (req < 0)
    return luaL_error(L, "`mem_per_job` has to be a valid memory specifier (e.g., '8GB', '12000MB'), not %s",
                      mj->valuestring);
  const cJSON *extra = cJSON_GetObjectItem(cfg, "job_extra");
  const cJSON *e;
  cJSON_ArrayForEach(e, extra) if (!cJSON_IsString(e) || e->valuestring[0] != '-')
    return luaL_error(L, "`job_extra` options must be flagged with - or --");

  /* 1. an existing client with workers is reused; one without is replaced */
  lua_getfield(L, LUA_REGISTRYINDEX, "spy.client");
  if (!lua_isnil(L, -1)) {
    int n = spy_bind_client_workers(L, lua_gettop(L));
    if (n > 0) {
      spy_log(SPY_LOG_IMPORTANT, "Found existing parallel computing client %s. Not starting new cluster.",
              luaL_tolstring(L, -1, NULL));
      lua_pop(L, 1);
      return 1;
    }
    lua_pushvalue(L, -1);
    call_namespace(L, "cluster_cleanup", 1, 0);
  }
  lua_pop(L, 1);

  /* 2. Slurm, the partition */
  spy_err err = {0};
  char **parts = NULL;
  size_t nparts = 0;
  if (spy_slurm_partitions(&parts, &nparts, &err)) {
    if (err.code != SPY_ENOENT) return spy_bind_raise(L, &err);
    char host[256] = "localhost";
    gethostname(host, sizeof host - 1);
    spy_log(SPY_LOG_WARNING, "SLURM does not seem to be installed on this machine (%s); starting a local "
                             "cluster instead", host);
    lua_newtable(L);
    call_namespace(L, "LocalCluster", 1, 1);
    call_namespace(L, "Client", 1, 1);
    return 1;
  }
  const char *partition = spy_cfg_str(cfg, "partition", NULL);
  bool found = false;
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addchar(&b, '[');
  for (size_t i = 0; i < nparts; i++) {
    if (partition && strcmp(parts[i], partition) == 0) found = true;
    lua_pushfstring(L, "%s'%s'", i ? ", " : "", parts[i]);
    luaL_addvalue(&b);
  }
  luaL_addchar(&b, ']');
  luaL_pushresult(&b);
  spy_strv_free(parts, nparts);
  if (!partition)
    return luaL_error(L, "`partition` is required: available SLURM partitions are %s", lua_tostring(L, -1));
  if (!found)
    return luaL_error(L, "Invalid partition selection %s, available SLURM partitions are %s", partition,
                      lua_tostring(L, -1));
  lua_pop(L, 1);

  /* 3. memory and cores, as ACME derives them */
  spy_partition pi = {0};
  if (spy_slurm_partition_info(partition, &pi, &err)) return spy_bind_raise(L, &err);
  double mem, limit;
  bool capped;
  if (spy_esi_resources(partition, &pi, req, cores, &mem, &cores, &capped, &limit, &err))
    return spy_bind_raise(L, &err);
  if (capped)
    spy_log(SPY_LOG_WARNING,
            "`mem_per_job` exceeds limit of %.0f MB for partition %s. Capping memory at partition limit. ",
            limit, partition);

  /* 4. the cluster: no -t (the partition's default), Slurm MB = MiB */
  spy_gcbox *g;
  spy_slurm_config *sc = new_config(L, &g);
  sc->cores = cores;
  sc->memory = mem * 1048576.0;
  sc->processes = 1;
  sc->queue = strdup(partition);
  sc->death_timeout = 60;
  sc->timeout = timeout;
  sc->interface = spy_cfg_isnull(cfg, "interface") ? NULL : strdup(spy_cfg_str(cfg, "interface", ""));
  sc->spy = spy_executable(L);
  sc->local_directory = strdup(spy_tmpdir());
  char logdir[4200];
  default_logdir(logdir, sizeof logdir);
  sc->log_directory = strdup(logdir);
  sc->job_extra = strv_from_json(extra, &sc->njob_extra);
  spy_cluster *c = push_cluster(L, sc);
  g->ptr = NULL;
  free(sc);
  int cl = lua_gettop(L);
  ((slurm_ud *)lua_touserdata(L, cl))->dash = spy_bind_dash_acquire(L, cfg);
  if (spy_cluster_scale(c, njobs, &err)) return spy_bind_raise(L, &err);
  spy_log(SPY_LOG_INFO, "Slurm jobs of %s log to %s", spy_cluster_id(c), logdir);
  lua_pushvalue(L, cl);
  call_namespace(L, "Client", 1, 1);
  if (startup > 0 && spy_cluster_wait(c, startup, &err)) {
    lua_pushvalue(L, -1);
    call_namespace(L, "cluster_cleanup", 1, 0);
    return spy_bind_raise(L, &err);
  }
  spy_log(SPY_LOG_IMPORTANT, "Parallel computing client ready: %s", luaL_tolstring(L, -1, NULL));
  lua_pop(L, 1);
  return 1;
}

void spy_open_slurm(lua_State *L, int spy)
{
  luaL_newmetatable(L, SPY_MT_SLURM);
  lua_pushcfunction(L, l_index);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, l_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushcfunction(L, l_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, l_gc);
  lua_setfield(L, -2, "__close");
  { /* for help(cluster) and completion of cluster. / cluster: */
    static const char *const fields[] = {"address",  "closed",    "dashboard_link", "directory",
                                         "id",       "job_ids",   "job_name",       "log_directory",
                                         "requested", "threads",  "workers"};
    int mt = lua_gettop(L);
    int nf = (int)(sizeof fields / sizeof *fields);
    lua_pushliteral(L, "workers as Slurm jobs; attach with spy.Client(cluster)");
    lua_setfield(L, mt, "__about");
    lua_createtable(L, nf, 0);
    for (int i = 0; i < nf; i++) {
      lua_pushstring(L, fields[i]);
      lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, mt, "__fields");
    lua_createtable(L, 0, 4);
    spy_bind_func(L, mt + 1, "job_script", l_job_script, &spec_m_job_script);
    spy_bind_func(L, mt + 1, "scale", l_scale, &spec_m_scale);
    spy_bind_func(L, mt + 1, "close", l_close, &spec_m_close);
    spy_bind_func(L, mt + 1, "wait_for_workers", l_wait, &spec_m_wait);
    lua_setfield(L, mt, "__methods");
  }
  lua_pop(L, 1);
  spy_bind_func(L, spy, "SLURMCluster", l_slurmcluster, &spec_slurm);
  spy_bind_func(L, spy, "esi_cluster_setup", l_esi_cluster_setup, &spec_esi);
}

/* ---- in-allocation runs (cluster/ranks.h) ------------------------------------------------ */

/* Rank 0 of `srun -n N spy script.lua` / `spy --ranks N script.lua`: a
** SLURMCluster without jobs whose workers are the other ranks, kept in the
** registry as "spy.allocation" (spy.Client() attaches it).  Nothing to do
** in a single-rank run. */
int spy_bind_ranks_start(lua_State *L)
{
  spy_ranks r;
  if (!spy_ranks_detect(&r) || r.rank != 0) return 0;
  char path[4200];
  if (spy_ranks_path(&r, path, sizeof path)) return luaL_error(L, "the ranks' rendezvous path is too long");
  char *slash = strrchr(path, '/');
  if (!slash || slash == path) return luaL_error(L, "bad rendezvous path %s", path);
  lua_pushcfunction(L, l_slurmcluster);
  lua_createtable(L, 0, 4);
  lua_pushinteger(L, r.threads);
  lua_setfield(L, -2, "cores");
  lua_pushinteger(L, 1);
  lua_setfield(L, -2, "processes");
  lua_pushnumber(L, (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE) / r.nranks);
  lua_setfield(L, -2, "memory");
  lua_pushlstring(L, path, (size_t)(slash - path));
  lua_setfield(L, -2, "local_directory");
  *slash = 0;
  spy_err merr = {0};
  if (spy_mkdirs(path, &merr)) return spy_bind_raise(L, &merr);
  *slash = '/';
  lua_call(L, 1, 1);
  spy_cluster *c = spy_bind_toslurm(L, -1);
  spy_cluster_expect_external(c, r.nranks - 1, r.threads, path);
  spy_err err = {0};
  if (spy_ranks_publish(&r, spy_cluster_address(c), spy_cluster_dir(c), &err)) return spy_bind_raise(L, &err);
  lua_setfield(L, LUA_REGISTRYINDEX, "spy.allocation");
  spy_log(SPY_LOG_INFO, "rank 0 of %d (%s): the other ranks are this session's workers", r.nranks, r.id);
  return 0;
}
