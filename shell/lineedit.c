/*
** Line input for the REPL.
**
** With a terminal: GNU readline through its callback interface.  Keys are
** read from a private non-blocking descriptor of the terminal, and every
** wait polls it together with a self-pipe that the SIGINT handler writes
** to.  So a Ctrl-C at the prompt always wakes the loop and discards the
** line, even when it arrives while readline waits for the rest of a key
** sequence or after the terminal flushed input we were told was there
** (there readline is left through rl_abort, its own way back to the top
** level).  Nothing longjmps out of a signal handler.
** Without a terminal: getline() on stdin, prompts still printed (spy -i).
**
** History: one entry per chunk, so a multi-line statement stays one entry.
** Each entry is appended to the history file at once (a crash or os.exit
** loses nothing).  Multi-line entries survive the file through readline's
** timestamped format (history_multiline_entries).  The file keeps the last
** SPY_HISTORY_MAX entries.
*/
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "shell.h"

#if !defined(SPY_HISTORY_MAX)
#define SPY_HISTORY_MAX 1000
#endif

/* Characters that end a word for completion.  Not '.' and ':', so
** "spy.fr" and "data:me" are one word; quotes are handled by readline
** (rl_completer_quote_characters): inside a string the word is the text
** after the quote. */
#define WORDBREAK " \t\n\"'`<>=;|&{}()[],+-*/%^~#?!@$"

static struct {
  lua_State *L;
  int tty;             /* readline in use */
  char *histfile;      /* NULL: history kept for the session only */
  const char *pending; /* chunk so far, for completion (not owned) */
  char *line;          /* handed over by the readline callback */
  int done;            /* the callback ran (line NULL: end of input) */
  size_t strip;        /* completion display: length of "a.b." prefix */
} le;

static volatile sig_atomic_t reading;     /* a readline prompt waits */
static volatile sig_atomic_t interrupted; /* Ctrl-C at that prompt */
static int wake[2] = {-1, -1};            /* self-pipe: handler -> loop */
static int keyfd = -1;                    /* the terminal, non-blocking */

int spy_le_sigint(void)
{
  if (!reading) return 0;
  interrupted = 1;
  char c = 0;
  ssize_t w = write(wake[1], &c, 1); /* non-blocking; a full pipe wakes too */
  (void)w;
  return 1;
}

/*
** {======================================================
** Completion glue
** =======================================================
*/

/* Lists candidates without their common "a.b." part, as shells list file
** names without their directory. */
static void display(char **matches, int n, int maxlen)
{
  (void)maxlen;
  char **v = malloc((size_t)(n + 2) * sizeof *v);
  if (!v) return;
  int longest = 0;
  v[0] = matches[0];
  for (int i = 1; i <= n; i++) {
    size_t len = strlen(matches[i]);
    v[i] = matches[i] + (len >= le.strip ? le.strip : 0);
    if ((int)strlen(v[i]) > longest) longest = (int)strlen(v[i]);
  }
  v[n + 1] = NULL;
  rl_display_match_list(v, n, longest);
  rl_forced_update_display();
  free(v);
}

static spy_cands *handing; /* candidates rl_completion_matches collects */
static size_t handed;

static char *handover(const char *text, int state)
{
  (void)text;
  if (state == 0) handed = 0;
  if (handed >= handing->n) return NULL;
  char *s = handing->v[handed];
  handing->v[handed++] = NULL; /* readline owns it now */
  return s;
}

/* Inside a string only quotes end the word, so "data/run1.spy" is one
** word although '/' is an operator outside strings. */
static char *wordbreak(void)
{
  char q = 0;
  for (int i = 0; i < rl_point && rl_line_buffer[i]; i++) {
    char c = rl_line_buffer[i];
    if (q && c == '\\')
      i++;
    else if (q && c == q)
      q = 0;
    else if (!q && (c == '"' || c == '\''))
      q = c;
  }
  return (char *)(q ? "\"'" : WORDBREAK);
}

/* Is the file name one spy.load takes: a folder (a .spy container, or one
** to look into) or a data file of a container? */
static int loadable(const char *name)
{
  static const char *const ext[] = {".spy", ".analog", ".spectral", ".crossspectral",
                                    ".timelock", ".spike", ".event", NULL};
  struct stat st;
  char *path = tilde_expand(name);
  int dir = path && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
  free(path);
  if (dir) return 1;
  size_t n = strlen(name);
  for (const char *const *e = ext; *e; e++)
    if (n >= strlen(*e) && strcmp(name + n - strlen(*e), *e) == 0) return 1;
  return 0;
}

/* spy.load's path: the file matches m (readline's: m[0] is the common
** part) reduced to folders and containers, unless that leaves none. */
static char **containers(char **m)
{
  if (!m || !m[1]) return m;
  size_t n = 1, kept = 0;
  for (size_t i = 1; m[i]; i++, n++)
    kept += loadable(m[i]);
  if (kept == 0 || kept == n - 1) return m;
  char **out = calloc(kept + 2, sizeof *out);
  if (!out) return m;
  size_t k = 1;
  for (size_t i = 1; m[i]; i++) {
    if (loadable(m[i])) out[k++] = m[i];
    else free(m[i]);
  }
  /* the common prefix of what is left */
  size_t lcd = strlen(out[1]);
  for (size_t i = 2; i < k; i++) {
    size_t j = 0;
    while (j < lcd && out[i][j] == out[1][j]) j++;
    lcd = j;
  }
  free(m[0]);
  out[0] = strndup(out[1], k == 2 ? strlen(out[1]) : lcd);
  free(m);
  return out;
}

static char **attempt(const char *text, int start, int end)
{
  (void)end;
  rl_attempted_completion_over = 1; /* never fall back to file names */
  rl_completion_append_character = '\0';
  rl_completion_display_matches_hook = NULL;
  int quote = rl_completion_quote_character;
  size_t upto = (size_t)start - (quote && start > 0 ? 1 : 0);
  size_t plen = le.pending ? strlen(le.pending) + 1 : 0;
  char *before = malloc(plen + upto + 1);
  if (!before) return NULL;
  if (plen) {
    memcpy(before, le.pending, plen - 1);
    before[plen - 1] = '\n';
  }
  memcpy(before + plen, rl_line_buffer, upto);
  before[plen + upto] = '\0';

  spy_cands c;
  spy_complete(le.L, before, text, quote, &c);
  free(before);
  char **m = NULL;
  switch (c.kind) {
  case SPY_COMPL_FILES:
    rl_filename_completion_desired = 1;
    m = rl_completion_matches(text, rl_filename_completion_function);
    break;
  case SPY_COMPL_CONTAINERS:
    rl_filename_completion_desired = 1;
    m = containers(rl_completion_matches(text, rl_filename_completion_function));
    break;
  case SPY_COMPL_KEYWORDS:
    rl_completion_append_character = '=';
    /* fall through */
  case SPY_COMPL_NAMES:
  case SPY_COMPL_VALUES:
    le.strip = c.kind == SPY_COMPL_NAMES ? c.strip : 0;
    if (le.strip && c.n <= (size_t)rl_completion_query_items)
      rl_completion_display_matches_hook = display;
    if (c.n) {
      handing = &c;
      m = rl_completion_matches(text, handover);
      handing = NULL;
    }
    break;
  default:
    break;
  }
  spy_cands_free(&c);
  return m;
}

/* }====================================================== */

/*
** {======================================================
** History
** =======================================================
*/

static void openhistory(const char *path)
{
  using_history();
  stifle_history(SPY_HISTORY_MAX);
  history_comment_char = '#'; /* timestamps mark where an entry starts */
  history_write_timestamps = 1;
  history_multiline_entries = 1;
  if (!path || !*path) return;
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    fprintf(stderr, "spy: history is not saved: cannot open %s: %s\n", path, strerror(errno));
    return;
  }
  close(fd);
  le.histfile = strdup(path);
  read_history(path);
  if (history_length >= SPY_HISTORY_MAX) write_history(path); /* drop the oldest */
}

void spy_le_remember(const char *entry)
{
  if (!le.tty || entry[strspn(entry, " \t\n")] == '\0') return;
  HIST_ENTRY *last = history_length > 0 ? history_get(history_base + history_length - 1) : NULL;
  if (last && strcmp(last->line, entry) == 0) return;
  add_history(entry);
  if (le.histfile) append_history(1, le.histfile);
}

/* }====================================================== */

static void online(char *line)
{
  le.line = line;
  le.done = 1;
  rl_callback_handler_remove(); /* or readline shows the prompt again */
}

/* Waits for input on the terminal or a Ctrl-C. */
static void waitkey(void)
{
  struct pollfd p[2] = {{keyfd, POLLIN, 0}, {wake[0], POLLIN, 0}};
  poll(p, 2, -1);
}

/* readline's source of keys (rl_getc_function). */
static int getkey(FILE *f)
{
  (void)f;
  for (;;) {
    if (interrupted) rl_abort(0, 0); /* back to rl_callback_read_char */
    unsigned char c;
    ssize_t n = read(keyfd, &c, 1);
    if (n == 1) return c;
    if (n == 0 || (errno != EAGAIN && errno != EINTR)) return EOF;
    waitkey();
    rl_check_signals(); /* a window resize redraws at once */
  }
}

static char *rlread(const char *prompt, int *cancelled)
{
  char drain[64];
  while (read(wake[0], drain, sizeof drain) > 0)
    continue;
  le.done = 0;
  le.line = NULL;
  interrupted = 0;
  reading = 1;
  rl_callback_handler_install(prompt, online);
  while (!le.done && !interrupted)
    rl_callback_read_char(); /* keys: getkey */
  if (interrupted) {
    /* ^C goes after the text typed and before readline restores the
    ** terminal, whose bracketed-paste reset ends in a carriage return (so
    ** the mark was printed over the prompt) */
    rl_point = rl_end;
    rl_redisplay();
    fputs("^C\n", rl_outstream ? rl_outstream : stdout);
    fflush(rl_outstream ? rl_outstream : stdout);
    free(le.line);
    le.line = NULL;
    rl_free_line_state();
    rl_callback_sigcleanup();
    rl_callback_handler_remove();
    *cancelled = 1;
  }
  reading = 0;
  return le.line;
}

void spy_le_open(lua_State *L, int tty, const char *histfile)
{
  le.L = L;
  le.tty = tty;
  if (!tty) return;
  if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) {
    le.tty = 0; /* without the self-pipe Ctrl-C could hang the prompt */
    return;
  }
  /* A descriptor of our own, so O_NONBLOCK does not leak to the shell
  ** that shares our stdin. */
  const char *dev = ttyname(STDIN_FILENO);
  keyfd = dev ? open(dev, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY) : -1;
  if (keyfd < 0) keyfd = STDIN_FILENO;
  rl_getc_function = getkey;
  rl_readline_name = "spy"; /* for $if spy in ~/.inputrc */
  rl_catch_signals = 0;     /* SIGINT stays ours (see above) */
  rl_persistent_signal_handlers = 1;
  rl_attempted_completion_function = attempt;
  rl_completer_word_break_characters = WORDBREAK;
  rl_completion_word_break_hook = wordbreak;
  rl_completer_quote_characters = "\"'";
  openhistory(histfile);
}

void spy_le_close(void)
{
  if (!le.tty) return;
  close(wake[0]);
  close(wake[1]);
  wake[0] = wake[1] = -1;
  if (keyfd != STDIN_FILENO) close(keyfd);
  keyfd = -1;
  clear_history();
  free(le.histfile);
  le.histfile = NULL;
  rl_callback_handler_remove();
}

static char *plainread(const char *prompt)
{
  fputs(prompt, stdout);
  fflush(stdout);
  char *line = NULL;
  size_t cap = 0;
  ssize_t n = getline(&line, &cap, stdin);
  if (n < 0) {
    free(line);
    return NULL;
  }
  if (n > 0 && line[n - 1] == '\n') line[n - 1] = '\0';
  return line;
}

/* At end of input the cursor still follows the prompt; readline moves it
** to a new line itself only when bracketed paste is on. */
static void endline(void)
{
  const char *paste = le.tty ? rl_variable_value("enable-bracketed-paste") : NULL;
  if (!paste || strcmp(paste, "on") != 0) fputc('\n', stdout);
  fflush(stdout);
}

char *spy_le_read(const char *prompt, const char *pending, int *cancelled)
{
  *cancelled = 0;
  le.pending = pending;
  char *line = le.tty ? rlread(prompt, cancelled) : plainread(prompt);
  le.pending = NULL;
  if (!line && !*cancelled) endline();
  return line;
}
