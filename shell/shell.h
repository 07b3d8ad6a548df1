/*
** Internal interfaces of the `spy` shell (docs/internals/shell.md).
**
**   main.c      command line (lua-compatible flags), start-up, script mode
**   repl.c      read-eval-print loop, protected calls, errors, Ctrl-C
**   lineedit.c  GNU readline adapter (history, completion hook) or plain stdin
**   complete.c  completion candidates, independent of readline
**
** One lua_State, owned by the main thread.  Strings returned by these
** functions are malloc'd and owned by the caller unless said otherwise.
*/
#ifndef SPY_SHELL_H
#define SPY_SHELL_H

#include <lua.h>
#include <stddef.h>

/* ---- repl.c ---------------------------------------------------------- */

/* Exit status of a script ended by Ctrl-C (128 + SIGINT, as shells use). */
#define SPY_EXIT_INTERRUPTED 130

/* Installs the SIGINT handler, spy.traceback and the global `help`. */
void spy_repl_open(lua_State *L);

/*
** Calls the function below the narg arguments on the stack, protected,
** with the shell's message handler (error line + trimmed traceback) and
** Ctrl-C armed.  [-(narg+1), +(nres|1), -]  On error the formatted
** message replaces the function and arguments.
*/
int spy_repl_docall(lua_State *L, int narg, int nres);

/* Whether the last failed spy_repl_docall was ended by Ctrl-C. */
int spy_repl_wasinterrupted(void);

/* Prints the error message on top of the stack (popped) to stderr as
** "<prefix>: msg", or just msg when prefix is NULL. */
void spy_repl_report(lua_State *L, const char *prefix);

/* With a syntax error message on top of the stack: when code (the text that
** failed) calls a function the Python way, f(x, key=value), appends the Lua
** way to write it to the message. */
void spy_repl_hint(lua_State *L, const char *code);

/* The interactive loop; returns at end of input (Ctrl-D). */
void spy_repl_run(lua_State *L);

/* ---- lineedit.c ------------------------------------------------------ */

/* Line input: GNU readline with history and completion when `tty`, plain
** stdin otherwise.  histfile may be NULL (no persistent history). */
void spy_le_open(lua_State *L, int tty, const char *histfile);
void spy_le_close(void);

/*
** Reads one line (no trailing newline) after showing `prompt`.  `pending`
** is the chunk typed so far (continuation lines), used for completion;
** may be NULL.  Returns NULL at end of input.  When Ctrl-C discards the
** line, returns NULL with *cancelled = 1.
*/
char *spy_le_read(const char *prompt, const char *pending, int *cancelled);

/* Adds one entry (possibly several lines) to the history and its file. */
void spy_le_remember(const char *entry);

/* Called by the SIGINT handler (async-signal-safe): returns 1 when a
** prompt is waiting for input and takes the interrupt as "discard the
** line", 0 when Lua code is running. */
int spy_le_sigint(void);

/* ---- complete.c ------------------------------------------------------ */

enum {
  SPY_COMPL_NONE,     /* nothing to offer */
  SPY_COMPL_NAMES,    /* globals, fields, methods: replace the whole word */
  SPY_COMPL_KEYWORDS, /* keyword names of the spy function being called */
  SPY_COMPL_VALUES,   /* allowed string values of a keyword */
  SPY_COMPL_FILES,    /* file names (inside a string) */
  SPY_COMPL_CONTAINERS /* spy.load's path: folders and spy containers/files only */
};

typedef struct spy_cands {
  int kind;     /* SPY_COMPL_* */
  size_t strip; /* NAMES: length of the "a.b." part, for display */
  char **v;     /* candidates, each malloc'd */
  size_t n, cap;
} spy_cands;

/*
** Fills `out` with the candidates for completing `word`.  `before` is the
** text of the chunk before the word (earlier lines included, the opening
** quote excluded); `quote` is the open quote character when the word is
** inside a string, else 0.  Reads Lua values with raw access and follows
** only __index tables, so no user code runs; the one function called is
** spy._spec, to read keyword specs.  Free with spy_cands_free.
*/
void spy_complete(lua_State *L, const char *before, const char *word, int quote, spy_cands *out);
void spy_cands_free(spy_cands *c);

#endif
