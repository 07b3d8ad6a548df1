/*
** The read-eval-print loop, protected calls, error messages and Ctrl-C.
**
** A chunk is read line by line until it compiles, or until it fails with a
** syntax error that is not about the end of the input (Lua's "<eof>"
** marker, the test lua.c uses).  Each chunk is tried first as
** `return <chunk>`, so an expression's values print; a trailing ';' keeps
** them quiet.  `?name` and `name?` are help(name); `=expr` is lua's
** `return expr`.
**
** Ctrl-C while Lua runs: the SIGINT handler only calls
** spy_interrupt_request() (the flag long C loops poll) and arms a hook on
** line, count and return events.  The hook clears the flag and raises
** "interrupted", and stays armed: it raises again at the next event, so a
** pcall in user code cannot swallow the interrupt.  The message handler of
** our outermost protected call disarms it.  Ctrl-C at the prompt is the
** line editor's (it discards the line).  A third Ctrl-C during one call
** ends the process, for code the hook cannot reach: C code that never
** polls, and coroutines (the hook is armed on the main thread).
*/
#include <ctype.h>
#include <lauxlib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "core/interrupt.h"
#include "core/settings.h"
#include "shell.h"

#if !defined(SPY_PROMPT)
#define SPY_PROMPT "spy> "
#define SPY_PROMPT2 "...> "
#endif

#define EOFMARK "<eof>"
#define MAXPRESSES 3 /* Ctrl-C presses during one call before exiting */
#define TRACEHEAD 10 /* user frames shown before and after a "..." */

enum { INCOMPLETE = -1, NOINPUT = -2, CANCELLED = -3 }; /* beyond LUA_* */

static lua_State *globalL;
static volatile sig_atomic_t presses; /* Ctrl-C presses in this call */
static int stopping;                  /* the hook raised: keep raising */
static int lastinterrupted;           /* the last call ended by Ctrl-C */
static int fulltrace;                 /* spy.traceback(true) */
static int atprompt;                  /* running a chunk typed at the prompt */

/*
** {======================================================
** Ctrl-C
** =======================================================
*/

static void stop(lua_State *L, lua_Debug *ar)
{
  (void)ar;
  if (spy_interrupted()) {
    spy_interrupt_clear();
    stopping = 1;
  }
  if (!stopping) { /* armed by a Ctrl-C that came after its call ended */
    lua_sethook(L, NULL, 0, 0);
    return;
  }
  lua_pushliteral(L, "interrupted");
  lua_error(L);
}

static void say(const char *msg)
{
  ssize_t w = write(STDERR_FILENO, msg, strlen(msg));
  (void)w;
}

static void onsigint(int sig)
{
  (void)sig;
  if (spy_le_sigint()) return;
  spy_interrupt_request();
  lua_sethook(globalL, stop, LUA_MASKLINE | LUA_MASKRET | LUA_MASKCOUNT, 1);
  presses++;
  if (presses == MAXPRESSES - 1) say("\nspy: still running; one more Ctrl-C quits spy\n");
  if (presses >= MAXPRESSES) {
    say("\nspy: interrupted three times, exiting\n");
    _exit(SPY_EXIT_INTERRUPTED);
  }
}

/* }====================================================== */

/*
** {======================================================
** Error messages: one line, then the frames of user code
** =======================================================
*/

/* spy's own Lua code is embedded under this chunk name prefix. */
static int libsource(const lua_Debug *ar)
{
  return strncmp(ar->source, "@[spy]/", 7) == 0;
}

/* Frames of user code: Lua functions that are not spy's own. */
static int shown(lua_State *L, int level)
{
  lua_Debug ar;
  if (!lua_getstack(L, level, &ar) || !lua_getinfo(L, "S", &ar)) return 0;
  return *ar.what != 'C' && !libsource(&ar);
}

/* Pushes "mod.name" when the function of frame ar is a field of a loaded
** module (as luaL_traceback names functions); returns 0 if not found. */
static int pushglobalname(lua_State *L, lua_Debug *ar)
{
  int top = lua_gettop(L);
  lua_getinfo(L, "f", ar);
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    if (lua_type(L, -2) == LUA_TSTRING && lua_istable(L, -1)) {
      lua_pushnil(L);
      while (lua_next(L, -2)) {
        if (lua_type(L, -2) == LUA_TSTRING && lua_rawequal(L, -1, top + 1)) {
          const char *mod = lua_tostring(L, -4);
          if (strcmp(mod, LUA_GNAME) == 0)
            lua_pushstring(L, lua_tostring(L, -2));
          else
            lua_pushfstring(L, "%s.%s", mod, lua_tostring(L, -2));
          lua_replace(L, top + 1);
          lua_settop(L, top + 1);
          return 1;
        }
        lua_pop(L, 1);
      }
    }
    lua_pop(L, 1);
  }
  lua_settop(L, top);
  return 0;
}

/* Pushes one traceback line for the frame at level. */
static void pushframe(lua_State *L, int level)
{
  lua_Debug ar;
  lua_getstack(L, level, &ar);
  lua_getinfo(L, "Slnt", &ar);
  if (*ar.what == 'C')
    lua_pushliteral(L, "\n  [C]: in ");
  else
    lua_pushfstring(L, "\n  %s:%d: in ", ar.short_src, ar.currentline);
  if (pushglobalname(L, &ar)) {
    lua_pushfstring(L, "function '%s'", lua_tostring(L, -1));
    lua_remove(L, -2);
  } else if (*ar.namewhat) {
    lua_pushfstring(L, "%s '%s'", ar.namewhat, ar.name);
  } else if (*ar.what == 'm') {
    lua_pushliteral(L, "main chunk");
  } else if (*ar.what != 'C') {
    lua_pushfstring(L, "function <%s:%d>", ar.short_src, ar.linedefined);
  } else {
    lua_pushliteral(L, "?");
  }
  lua_concat(L, 2);
}

/* Does msg already start with the position "src:line:" of frame level? */
static int haslocation(lua_State *L, int level, const char *msg)
{
  lua_Debug ar;
  char where[LUA_IDSIZE + 32];
  if (!lua_getstack(L, level, &ar) || !lua_getinfo(L, "Sl", &ar)) return 0;
  snprintf(where, sizeof where, "%s:%d:", ar.short_src, ar.currentline);
  return strncmp(msg, where, strlen(where)) == 0;
}

/* Pushes msg followed by the frames of user code: the first and last
** TRACEHEAD of them when there are many.  A lone main-chunk frame is left
** out when the message gives its position already or when it is the line
** just typed at the prompt. */
static void trimmedtrace(lua_State *L, const char *msg)
{
  int levels[2 * TRACEHEAD], total = 0, first = 0;
  lua_Debug ar;
  for (int level = 1; lua_getstack(L, level, &ar); level++) {
    if (!shown(L, level)) continue;
    if (total < TRACEHEAD)
      levels[total] = level;
    else
      levels[TRACEHEAD + (total - TRACEHEAD) % TRACEHEAD] = level;
    if (total == 0) first = level;
    total++;
  }
  lua_pushstring(L, msg);
  if (total == 1 && lua_getstack(L, first, &ar) && lua_getinfo(L, "S", &ar) && *ar.what == 'm' &&
      (haslocation(L, first, msg) || (atprompt && strcmp(ar.source, "=stdin") == 0)))
    return;
  int n = 1;
  for (int i = 0; i < total && i < TRACEHEAD; i++, n++)
    pushframe(L, levels[i]);
  if (total > 2 * TRACEHEAD) {
    lua_pushfstring(L, "\n  ...\t(skipping %d levels)", total - 2 * TRACEHEAD);
    n++;
  }
  int tail = total > 2 * TRACEHEAD ? TRACEHEAD : total - TRACEHEAD;
  for (int i = 0; i < tail; i++, n++) {
    int k = total > 2 * TRACEHEAD ? (total - TRACEHEAD + i) % TRACEHEAD : i;
    pushframe(L, levels[TRACEHEAD + k]);
  }
  lua_concat(L, n);
}

/* The message handler of every protected call made by the shell. */
static int msghandler(lua_State *L)
{
  lastinterrupted = stopping || spy_interrupted();
  if (lastinterrupted) {
    lua_sethook(L, NULL, 0, 0);
    lua_pushliteral(L, "interrupted");
  } else if (lua_type(L, 1) != LUA_TSTRING && lua_type(L, 1) != LUA_TNUMBER) {
    if (!luaL_callmeta(L, 1, "__tostring") || lua_type(L, -1) != LUA_TSTRING)
      lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  } else {
    lua_pushvalue(L, 1);
  }
  const char *msg = lua_tostring(L, -1);
  if (fulltrace)
    luaL_traceback(L, L, msg, 1);
  else
    trimmedtrace(L, msg);
  return 1;
}

int spy_repl_docall(lua_State *L, int narg, int nres)
{
  int base = lua_gettop(L) - narg;
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  spy_interrupt_clear(); /* a Ctrl-C before this call is not for it */
  stopping = 0;
  presses = 0;
  lastinterrupted = 0;
  int status = lua_pcall(L, narg, nres, base);
  lua_remove(L, base);
  if (presses) lua_sethook(L, NULL, 0, 0);
  stopping = 0;
  return status;
}

int spy_repl_wasinterrupted(void)
{
  return lastinterrupted;
}

/* Did the terminal echo the ^C that interrupted us?  Then the message
** starts on a new line. */
static int echoedctl(void)
{
  struct termios t;
  return isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &t) == 0 && (t.c_lflag & ECHO) &&
         (t.c_lflag & ECHOCTL);
}

void spy_repl_report(lua_State *L, const char *prefix)
{
  const char *msg = lua_tostring(L, -1);
  fflush(stdout);
  if (!msg) msg = "(error object is not a string)";
  if (lastinterrupted && echoedctl()) fputc('\n', stderr);
  if (!prefix)
    fprintf(stderr, "%s\n", msg);
  else
    fprintf(stderr, "%s: %s\n", prefix, msg);
  fflush(stderr);
  lua_pop(L, 1);
}

/* spy.traceback([on]): full tracebacks instead of user frames only. */
static int l_traceback(lua_State *L)
{
  if (lua_isnone(L, 1)) {
    lua_pushboolean(L, fulltrace);
    return 1;
  }
  fulltrace = lua_toboolean(L, 1);
  return 0;
}

/* spy._columns(): the terminal's width (nil when not a terminal), so help()
** and printed tables use the room there is. */
static int l_columns(lua_State *L)
{
  struct winsize ws;
  if ((ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 || ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) &&
      ws.ws_col > 0) {
    lua_pushinteger(L, ws.ws_col);
    return 1;
  }
  return 0;
}

/* }====================================================== */

/*
** {======================================================
** Reading chunks
** =======================================================
*/

void spy_repl_hint(lua_State *L, const char *code)
{
  if (!code || !lua_isstring(L, -1)) return;
  int top = lua_gettop(L);
  lua_getfield(L, LUA_REGISTRYINDEX, "spy.namespace");
  if (lua_istable(L, -1) && lua_getfield(L, -1, "_pyhint") == LUA_TFUNCTION) {
    lua_pushstring(L, code);
    lua_pushvalue(L, top);
    if (lua_pcall(L, 2, 1, 0) == LUA_OK && lua_isstring(L, -1)) {
      lua_pushfstring(L, "%s\n  %s", lua_tostring(L, top), lua_tostring(L, -1));
      lua_replace(L, top);
    }
  }
  lua_settop(L, top);
}

static int incomplete(lua_State *L, int status)
{
  size_t len;
  const char *msg = lua_tolstring(L, -1, &len);
  return status == LUA_ERRSYNTAX && len >= sizeof EOFMARK - 1 &&
         strcmp(msg + len - (sizeof EOFMARK - 1), EOFMARK) == 0;
}

/* Is s[0..n) a name chain such as spy.freqanalysis or data:method? */
static int ischain(const char *s, size_t n)
{
  if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_')) return 0;
  for (size_t i = 0; i < n; i++)
    if (!(isalnum((unsigned char)s[i]) || strchr("_.:", s[i]))) return 0;
  return 1;
}

/* Pushes the code for the typed text on top: `?x` and `x?` become
** help(x), a leading '=' becomes `return`, anything else is itself. */
static void translate(lua_State *L)
{
  size_t len;
  const char *s = lua_tolstring(L, -1, &len);
  size_t b = 0, e = len;
  while (b < e && isspace((unsigned char)s[b]))
    b++;
  while (e > b && isspace((unsigned char)s[e - 1]))
    e--;
  if (b < e && s[b] == '?') {
    b++;
    while (b < e && isspace((unsigned char)s[b]))
      b++;
    lua_pushfstring(L, "help(%s)", lua_pushlstring(L, s + b, e - b));
    lua_remove(L, -2);
  } else if (e > b && s[e - 1] == '?' && ischain(s + b, e - 1 - b)) {
    lua_pushfstring(L, "help(%s)", lua_pushlstring(L, s + b, e - 1 - b));
    lua_remove(L, -2);
  } else if (b < e && s[b] == '=') {
    lua_pushfstring(L, "return %s", s + b + 1);
  } else {
    lua_pushvalue(L, -1);
  }
}

/*
** Compiles the typed text on top of the stack and pushes the function
** (LUA_OK, *show says whether to print its results), or the syntax error
** message, or nothing when the chunk is incomplete (INCOMPLETE; never
** when `final`).  The typed text stays.
*/
static int compile(lua_State *L, int *show, int final)
{
  size_t n;
  translate(L);
  const char *code = lua_tolstring(L, -1, &n);
  size_t e = n;
  while (e > 0 && isspace((unsigned char)code[e - 1]))
    e--;
  int quiet = e > 0 && code[e - 1] == ';';
  *show = !quiet;

  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addstring(&b, "return ");
  luaL_addlstring(&b, code, quiet ? e - 1 : n);
  luaL_pushresult(&b);
  size_t rn;
  const char *ret = lua_tolstring(L, -1, &rn);
  int status = luaL_loadbuffer(L, ret, rn, "=stdin");
  if (status == LUA_OK) {
    lua_remove(L, -2);
    lua_remove(L, -2);
    return LUA_OK;
  }
  int more = incomplete(L, status);
  lua_pop(L, 2);
  status = luaL_loadbuffer(L, code, n, "=stdin");
  if (status != LUA_OK && !final && (more || incomplete(L, status))) {
    lua_pop(L, 2);
    return INCOMPLETE;
  }
  lua_remove(L, -2);
  return status;
}

static const char *getprompt(lua_State *L, int first)
{
  lua_getglobal(L, first ? "_PROMPT" : "_PROMPT2");
  const char *p = lua_tostring(L, -1);
  if (p) return p;
  lua_pop(L, 1);
  return lua_pushstring(L, first ? SPY_PROMPT : SPY_PROMPT2);
}

/* Reads a line and pushes it; returns 0 (pushing nothing) at end of input
** or when Ctrl-C discarded it (*cancelled).  For a continuation line the
** chunk so far is on top. */
static int pushline(lua_State *L, int first, int *cancelled)
{
  const char *pending = first ? NULL : lua_tostring(L, -1);
  const char *prompt = getprompt(L, first);
  char *line = spy_le_read(prompt, pending, cancelled);
  lua_pop(L, 1);
  if (!line) return 0;
  lua_pushstring(L, line);
  free(line);
  return 1;
}

/*
** Reads one chunk into an empty stack and leaves its function there;
** returns LUA_OK, a syntax error status (message on the stack), NOINPUT
** or CANCELLED.  The chunk as typed goes to the history.
*/
static int readchunk(lua_State *L, int *show)
{
  int cancelled, status;
  if (!pushline(L, 1, &cancelled)) return cancelled ? CANCELLED : NOINPUT;
  while ((status = compile(L, show, 0)) == INCOMPLETE) {
    if (!pushline(L, 0, &cancelled)) {
      if (cancelled) {
        lua_settop(L, 0);
        return CANCELLED;
      }
      status = compile(L, show, 1); /* end of input: report the error */
      break;
    }
    lua_pushliteral(L, "\n");
    lua_insert(L, -2);
    lua_concat(L, 3);
  }
  spy_le_remember(lua_tostring(L, 1));
  if (status == LUA_ERRSYNTAX) spy_repl_hint(L, lua_tostring(L, 1));
  lua_remove(L, 1);
  return status;
}

/* }====================================================== */

/* Prints its arguments as the REPL shows results: strings as they are,
** values with a __display metamethod (figures) by calling it (it shows
** the value and returns the text to print), anything else through
** spy.pretty (which users may replace). */
static int printresults(lua_State *L)
{
  int n = lua_gettop(L);
  lua_getfield(L, LUA_REGISTRYINDEX, "spy.namespace");
  if (lua_istable(L, -1)) lua_getfield(L, -1, "pretty");
  int pretty = lua_gettop(L);
  for (int i = 1; i <= n; i++) {
    int display = lua_type(L, i) == LUA_TSTRING ? LUA_TNIL : luaL_getmetafield(L, i, "__display");
    if (display != LUA_TNIL && display != LUA_TFUNCTION) lua_pop(L, 1);
    if (lua_type(L, i) == LUA_TSTRING) {
      lua_pushvalue(L, i);
    } else if (display == LUA_TFUNCTION) {
      /* values that show themselves (figures) return the text to print */
      lua_pushvalue(L, i);
      lua_call(L, 1, 1);
      luaL_tolstring(L, -1, NULL);
      lua_remove(L, -2);
    } else if (lua_isfunction(L, pretty)) {
      lua_pushvalue(L, pretty);
      lua_pushvalue(L, i);
      lua_call(L, 1, 1);
      luaL_tolstring(L, -1, NULL);
      lua_remove(L, -2);
    } else {
      luaL_tolstring(L, i, NULL);
    }
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    if (i > 1) fputc('\t', stdout);
    fwrite(s, 1, len, stdout);
    lua_pop(L, 1);
  }
  fputc('\n', stdout);
  fflush(stdout);
  return 0;
}

void spy_repl_run(lua_State *L)
{
  char hist[4096];
  const char *h = getenv("SPY_HISTORY");
  if (!h) {
    snprintf(hist, sizeof hist, "%s/history", spy_dir());
    h = hist;
  }
  spy_le_open(L, isatty(STDIN_FILENO), h);
  int status, show;
  lua_settop(L, 0);
  while ((status = readchunk(L, &show)) != NOINPUT) {
    if (status == CANCELLED) continue;
    if (status == LUA_OK) {
      atprompt = 1;
      status = spy_repl_docall(L, 0, LUA_MULTRET);
      atprompt = 0;
      if (status == LUA_OK && show && lua_gettop(L) > 0) {
        lua_pushcfunction(L, printresults);
        lua_insert(L, 1);
        status = spy_repl_docall(L, lua_gettop(L) - 1, 0);
      }
    } else {
      lastinterrupted = 0;
    }
    if (status != LUA_OK) spy_repl_report(L, lastinterrupted ? NULL : "error");
    lua_settop(L, 0);
  }
  spy_le_close();
}

void spy_repl_open(lua_State *L)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = onsigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  globalL = L;
  sigaction(SIGINT, &sa, NULL);

  lua_getfield(L, LUA_REGISTRYINDEX, "spy.namespace");
  lua_pushcfunction(L, l_traceback);
  lua_setfield(L, -2, "traceback");
  lua_pushcfunction(L, l_columns);
  lua_setfield(L, -2, "_columns");
  lua_getfield(L, -1, "help");
  lua_setglobal(L, "help");
  lua_pop(L, 1);
}
