/*
** spy: the interactive shell and script runner.
**
** The command line is Lua's own (lua.c), so a `lua` user's habits and
** scripts carry over:
**   spy [options] [script [args]]
**     -e stat   run the string stat          -l mod    mod = require("mod")
**     -i        interactive after the rest   -l g=mod  g = require("mod")
**     -v        print the version            -E        ignore LUA_INIT and ~/.spyrc.lua
**     -W        turn warnings on             --        stop handling options
**     -h, --help  the usage text, on stdout
**     -         run stdin and stop handling options
** Order of work: the `spy` namespace (global `spy`), the `arg` table,
** LUA_INIT_5_4 or LUA_INIT (code, or @file), SPY_INIT (code, or @file; every
** session), ~/.spyrc.lua when the session will be interactive, -e/-l/-W in command-line order, the script, and
** then the REPL when -i was given or when nothing else was and stdin is a
** terminal.  With nothing given and stdin not a terminal, stdin is the
** script.  The exit status is 0 unless a step failed (1) or was
** interrupted (130).
**
** `spy --worker tcp://host:port ...` is a different program sharing the
** binary: a SLURMCluster's remote worker (src/cluster/worker.h), no Lua.
*/
#include <limits.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bind/bind.h"
#include "bind/cluster.h"
#include "cluster/ranks.h"
#include "cluster/worker.h"
#include "shell.h"

#define PROGNAME "spy"

enum { HAS_E = 1, HAS_I = 2, HAS_V = 4, HAS_NOENV = 8, BAD = 16 };

typedef struct options {
  int argc;
  char **argv;
  int flags;  /* HAS_* */
  int script; /* index of the script in argv, 0 if none */
  int optend; /* index after the last option */
  int exit;   /* exit status */
} options;

/* The usage text, to out; after "unrecognized option" unless badopt is NULL
** (spy -h / --help). */
static void usage(FILE *out, const char *badopt)
{
  if (badopt && (badopt[1] == 'e' || badopt[1] == 'l'))
    fprintf(out, "%s: '%s' needs argument\n", PROGNAME, badopt);
  else if (badopt)
    fprintf(out, "%s: unrecognized option '%s'\n", PROGNAME, badopt);
  fprintf(out,
          "usage: %s [options] [script [args]]\n"
          "Available options are:\n"
          "  -e stat   execute string 'stat'\n"
          "  -i        enter interactive mode after executing 'script'\n"
          "  -l mod    require library 'mod' into global 'mod'\n"
          "  -l g=mod  require library 'mod' into global 'g'\n"
          "  -v        show version information\n"
          "  -E        ignore environment variables LUA_INIT*, SPY_INIT and ~/.spyrc.lua\n"
          "  -W        turn warnings on\n"
          "  -h        show this help (also --help)\n"
          "  --        stop handling options\n"
          "  -         stop handling options and execute stdin\n"
          "  --worker tcp://HOST:PORT ...  serve a SLURMCluster's session (spy --worker -h)\n"
          "  --ranks N script ...  run script on rank 0, ranks 1..N-1 are its workers\n"
          "                        (as `srun -n N spy script` does in a Slurm allocation)\n"
          "At start: LUA_INIT, then SPY_INIT (Lua code, or @file; every session: scripts too),\n"
          "then ~/.spyrc.lua (interactive sessions only), then -e/-l, the script, the prompt.\n",
          PROGNAME);
}

static void version(void)
{
  printf("%s %s (%s)\n", PROGNAME, SPY_VERSION, LUA_RELEASE);
  fflush(stdout);
}

/* Reads the options into o; on a bad one, o->flags gets BAD and o->script
** the index of the offending argument. */
static void collect(options *o)
{
  char **argv = o->argv;
  int i;
  o->script = 0;
  for (i = 1; argv[i]; i++) {
    if (argv[i][0] != '-') break; /* the script */
    const char *a = argv[i];
    if (strcmp(a, "--") == 0) {
      i++;
      break;
    }
    if (strcmp(a, "-") == 0) break; /* script "-": stdin */
    if (a[1] == 'e' || a[1] == 'l') {
      if (a[1] == 'e') o->flags |= HAS_E;
      if (a[2] == '\0' && (argv[i + 1] == NULL || argv[i + 1][0] == '-')) goto bad;
      if (a[2] == '\0') i++;
    } else if (strcmp(a, "-i") == 0) {
      o->flags |= HAS_I;
    } else if (strcmp(a, "-v") == 0) {
      o->flags |= HAS_V;
    } else if (strcmp(a, "-E") == 0) {
      o->flags |= HAS_NOENV;
    } else if (strcmp(a, "-W") != 0) {
      goto bad;
    }
  }
  o->optend = i;
  o->script = argv[i] ? i : 0;
  return;
bad:
  o->flags |= BAD;
  o->script = i;
}

static int interactive(const options *o)
{
  if (o->flags & HAS_I) return 1;
  return o->script == 0 && !(o->flags & (HAS_E | HAS_V)) && isatty(STDIN_FILENO);
}

/* Calls the function below its narg arguments; reports a failure as
** "spy: msg" and records the exit status. */
static int run(lua_State *L, options *o, int narg, int nres)
{
  int status = spy_repl_docall(L, narg, nres);
  if (status != LUA_OK) {
    o->exit = spy_repl_wasinterrupted() ? SPY_EXIT_INTERRUPTED : EXIT_FAILURE;
    spy_repl_report(L, PROGNAME);
  }
  return status;
}

/* Line `line` (1-based) of the file at path, into buf; NULL if unreadable. */
static const char *fileline(const char *path, long line, char *buf, size_t n)
{
  FILE *f = path ? fopen(path, "r") : NULL;
  if (!f) return NULL;
  const char *got = NULL;
  for (long i = 1; fgets(buf, (int)n, f); i++)
    if (i == line) {
      got = buf;
      break;
    }
  fclose(f);
  return got;
}

/* A load failure: reported (with the keyword-table hint for a Python-style
** call on the failing line of code, or of the file at path). */
static int loaded(lua_State *L, options *o, int status, const char *code, const char *path)
{
  if (status == LUA_OK) return 1;
  o->exit = EXIT_FAILURE;
  if (status == LUA_ERRSYNTAX) {
    char buf[4096];
    const char *msg = lua_tostring(L, -1), *colon = msg ? strstr(msg, ":") : NULL;
    long line = colon ? strtol(colon + 1, NULL, 10) : 0;
    if (!code && line > 0) code = fileline(path, line, buf, sizeof buf);
    spy_repl_hint(L, code);
  }
  spy_repl_report(L, PROGNAME);
  return 0;
}

static int dostring(lua_State *L, options *o, const char *s, const char *name)
{
  if (!loaded(L, o, luaL_loadbuffer(L, s, strlen(s), name), s, NULL)) return 0;
  return run(L, o, 0, 0) == LUA_OK;
}

static int dofile(lua_State *L, options *o, const char *path)
{
  if (!loaded(L, o, luaL_loadfile(L, path), NULL, path)) return 0;
  return run(L, o, 0, 0) == LUA_OK;
}

/* -l [g=]mod: g = require("mod"); g defaults to mod up to a '-'. */
static int dolibrary(lua_State *L, options *o, const char *spec)
{
  const char *eq = strchr(spec, '=');
  const char *mod = eq ? eq + 1 : spec;
  size_t glen = eq ? (size_t)(eq - spec) : strcspn(spec, "-");
  lua_getglobal(L, "require");
  lua_pushstring(L, mod);
  if (run(L, o, 1, 1) != LUA_OK) return 0;
  lua_pushglobaltable(L);
  lua_pushlstring(L, spec, glen);
  lua_rotate(L, -3, -1); /* G, name, module */
  lua_settable(L, -3);
  lua_pop(L, 1);
  return 1;
}

/* LUA_INIT_5_4, else LUA_INIT: a chunk, or @file. */
static int luainit(lua_State *L, options *o)
{
  const char *name = "=LUA_INIT_" LUA_VERSION_MAJOR "_" LUA_VERSION_MINOR;
  const char *init = getenv(name + 1);
  if (!init) {
    name = "=LUA_INIT";
    init = getenv(name + 1);
  }
  if (!init) return 1;
  if (init[0] == '@') return dofile(L, o, init + 1);
  return dostring(L, o, init, name);
}

/* SPY_INIT: Lua code, or @file, run by every session (scripts, -e and the
** prompt alike), so a cluster set up there applies to scripts too. */
static int spyinit(lua_State *L, options *o)
{
  const char *init = getenv("SPY_INIT");
  if (!init || !*init) return 1;
  if (init[0] == '@') return dofile(L, o, init + 1);
  return dostring(L, o, init, "=SPY_INIT");
}

/* ~/.spyrc.lua, if it exists; a failure is reported but not fatal. */
static void rcfile(lua_State *L, options *o)
{
  const char *home = getenv("HOME");
  char path[4096];
  if (!home) return;
  snprintf(path, sizeof path, "%s/.spyrc.lua", home);
  if (access(path, F_OK) != 0) return;
  int saved = o->exit;
  dofile(L, o, path);
  o->exit = saved;
}

/* arg[0] = script (or program), arg[1..] its arguments, arg[-k] the
** interpreter and options before it. */
static void argtable(lua_State *L, const options *o)
{
  int base = o->script;
  lua_createtable(L, o->argc - base - 1 > 0 ? o->argc - base - 1 : 0, base + 1);
  for (int i = 0; i < o->argc; i++) {
    lua_pushstring(L, o->argv[i]);
    lua_rawseti(L, -2, i - base);
  }
  lua_setglobal(L, "arg");
}

/* -e, -l and -W in the order given. */
static int runargs(lua_State *L, options *o)
{
  char **argv = o->argv;
  for (int i = 1; i < o->optend; i++) {
    const char *a = argv[i];
    if (a[0] != '-' || (a[1] != 'e' && a[1] != 'l' && a[1] != 'W')) continue;
    if (a[1] == 'W') {
      lua_warning(L, "@on", 0);
      continue;
    }
    const char *val = a[2] ? a + 2 : argv[++i];
    int ok = a[1] == 'e' ? dostring(L, o, val, "=(command line)") : dolibrary(L, o, val);
    if (!ok) return 0;
  }
  return 1;
}

static int doscript(lua_State *L, options *o)
{
  const char *path = o->argv[o->script];
  if (strcmp(path, "-") == 0 && strcmp(o->argv[o->script - 1], "--") != 0) path = NULL;
  if (!loaded(L, o, luaL_loadfile(L, path), NULL, path)) return 0;
  int n = o->argc - o->script - 1;
  luaL_checkstack(L, n + 3, "too many arguments to script");
  for (int i = 1; i <= n; i++)
    lua_pushstring(L, o->argv[o->script + i]);
  return run(L, o, n, 0) == LUA_OK;
}

static int pmain(lua_State *L)
{
  options *o = lua_touserdata(L, 1);
  lua_pop(L, 1);
  int inter = interactive(o);
  if (o->flags & HAS_V) version();
  if (o->flags & HAS_NOENV) { /* the package library then ignores LUA_PATH */
    lua_pushboolean(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
  }
  luaL_openlibs(L);
  luaL_requiref(L, "spy", spy_bind_open, 1);
  lua_pop(L, 1);
  char exe[4096];
  if (realpath("/proc/self/exe", exe)) { /* what SLURMCluster jobs run */
    lua_pushstring(L, exe);
    lua_setfield(L, LUA_REGISTRYINDEX, "spy.executable");
  }
  spy_repl_open(L);
  spy_bind_ranks_start(L);
  argtable(L, o);
  lua_gc(L, LUA_GCRESTART);
  lua_gc(L, LUA_GCGEN, 0, 0);
  if (!(o->flags & HAS_NOENV)) {
    if (!luainit(L, o)) return 0;
    if (!spyinit(L, o)) return 0;
    if (inter) rcfile(L, o);
  }
  if (!runargs(L, o)) return 0;
  if (o->script && !doscript(L, o)) return 0;
  if (inter) {
    if (!getenv("SPYSILENTSTARTUP") && !(o->flags & HAS_V))
      printf("%s %s (%s) -- help() lists the functions, Ctrl-D exits\n", PROGNAME, SPY_VERSION,
             LUA_RELEASE);
    spy_repl_run(L);
  } else if (o->script == 0 && !(o->flags & (HAS_E | HAS_V))) {
    dofile(L, o, NULL);
  }
  return 0;
}

int main(int argc, char **argv);

/* `spy --ranks N args...`: ranks 1..N-1 as workers, this process rank 0. */
static int ranks_main(int argc, char **argv)
{
  char *end = NULL;
  long n = argc > 2 ? strtol(argv[2], &end, 10) : 0;
  if (argc < 3 || !end || *end || n < 1 || n > 4096) {
    fprintf(stderr, "%s: --ranks needs a number of ranks from 1 to 4096\n", PROGNAME);
    return EXIT_FAILURE;
  }
  argv[2] = argv[0]; /* the ranks run `spy args...` */
  int *pids = NULL;
  spy_err err = {0};
  if (spy_ranks_launch((int)n, argv + 2, &pids, &err)) {
    fprintf(stderr, "%s: %s\n", PROGNAME, err.msg);
    free(pids);
    return EXIT_FAILURE;
  }
  int rc = main(argc - 2, argv + 2);
  spy_ranks_reap(pids, (int)n - 1, 10);
  free(pids);
  return rc;
}

int main(int argc, char **argv)
{
  if (argc > 1 && strcmp(argv[1], "--worker") == 0) return spy_worker_main(argc, argv);
  if (argc > 1 && strcmp(argv[1], "--ranks") == 0) return ranks_main(argc, argv);
  spy_ranks ranks;
  if (spy_ranks_detect(&ranks) && ranks.rank > 0) return spy_ranks_worker_main(&ranks, argv[0]);
  options o = {argc, argv, 0, 0, 1, EXIT_SUCCESS};
  if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
    usage(stdout, NULL);
    return EXIT_SUCCESS;
  }
  collect(&o);
  if (o.flags & BAD) {
    usage(stderr, argv[o.script]);
    return EXIT_FAILURE;
  }
  lua_State *L = luaL_newstate();
  if (!L) {
    fprintf(stderr, "%s: cannot create state: not enough memory\n", PROGNAME);
    return EXIT_FAILURE;
  }
  lua_gc(L, LUA_GCSTOP);
  lua_pushcfunction(L, pmain);
  lua_pushlightuserdata(L, &o);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) { /* start-up failed */
    fprintf(stderr, "%s: %s\n", PROGNAME, lua_tostring(L, -1));
    o.exit = EXIT_FAILURE;
  }
  lua_close(L);
  return o.exit;
}
