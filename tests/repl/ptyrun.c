/*
** ptyrun: runs a REPL transcript against real programs on a pseudo-terminal
** and checks what a person would see.  One transcript file is one ctest.
**
**   ptyrun FILE.t         (SPY_BIN names the spy binary)
**
** Each test gets a fresh scratch directory ($DIR) that is the programs'
** working directory, HOME and SPYDIR, with an empty ~/.inputrc (INPUTRC),
** TERM=xterm, an 80x24 window and LUA_INIT / SPY_HISTORY unset.
**
** Transcript lines (blank lines and lines starting with '#' are skipped):
**   spawn PROG ARG...   start PROG ("spy" is $SPY_BIN) on a new terminal;
**                       arguments split at blanks, '...' and "..." quote
**   send TEXT           type TEXT; escapes \n \r \t \e \\ \xHH
**   key NAME...         type keys: TAB ENTER C-a..C-z ESC UP DOWN BS
**   expect TEXT         wait until the output shows TEXT (after the previous
**                       match); escapes as for send
**   absent TEXT         TEXT was not in the output skipped by the last expect
**   exit N              wait for the program to end with status N
**   settle              wait until the program has taken its pending signals
**                       (after `key C-c` and `expect ^C`: signals sent while
**                       one is pending would merge with it)
**   env NAME=VALUE      for later spawns ($DIR in VALUE is the scratch dir)
**   unset NAME          for later spawns
**   stdin TEXT          the next spawn reads TEXT from a pipe, not the terminal
**   file NAME           create $DIR/NAME (and its folders) from the
**                       following lines up to "end"
**   timeout SECONDS     limit for each expect/exit (default 60, or
**                       $SPY_REPL_TIMEOUT)
** The output is compared after removing terminal control sequences
** (ESC [ ... and the like), carriage returns, backspaces and bells.
** Under AddressSanitizer, $SPY_LUA_PRELOAD is preloaded into lua5.4.
*/
#if !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MAXARGS 64
#define MAXENV 64

static struct {
  const char *file; /* transcript path */
  int line;         /* line being run */
  char dir[4096];   /* scratch directory */
  double timeout;   /* seconds per expect */
  int verbose;
  pid_t pid; /* running program, 0 if none */
  int master;
  int eof;
  char *stdintext; /* for the next spawn */
  size_t stdinlen;
  char *env[MAXENV]; /* "NAME=VALUE" or "NAME" (unset) */
  int nenv;
  /* output with control sequences removed */
  char *out;
  size_t len, cap, pos;  /* pos: end of the last match */
  size_t gapfrom, gapto; /* text skipped by the last expect */
  int esc;               /* filter state: 0 text, 1 ESC, 2 CSI, 3 OSC, 4 one more */
} T = {.master = -1};

static void cleanup(void)
{
  if (T.pid > 0) {
    kill(T.pid, SIGKILL);
    waitpid(T.pid, NULL, 0);
    T.pid = 0;
  }
}

static void shown(const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '\n')
      fputs("\\n\n", stderr);
    else if (c == '\t')
      fputs("\\t", stderr);
    else if (c < 32 || c == 127)
      fprintf(stderr, "\\x%02x", c);
    else
      fputc(c, stderr);
  }
}

static void fail(const char *fmt, ...)
{
  va_list ap;
  fprintf(stderr, "%s:%d: ", T.file, T.line);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  if (T.len > T.pos) {
    fprintf(stderr, "---- output after the last match ----\n");
    shown(T.out + T.pos, T.len - T.pos);
    fprintf(stderr, "\n---- end ----\n");
  }
  fprintf(stderr, "(scratch directory kept: %s)\n", T.dir);
  cleanup();
  exit(1);
}

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Decodes \n \r \t \e \\ \xHH in place; returns the length. */
static size_t unescape(char *s)
{
  size_t o = 0;
  for (size_t i = 0; s[i]; i++) {
    if (s[i] != '\\' || !s[i + 1]) {
      s[o++] = s[i];
      continue;
    }
    char c = s[++i];
    if (c == 'n')
      s[o++] = '\n';
    else if (c == 'r')
      s[o++] = '\r';
    else if (c == 't')
      s[o++] = '\t';
    else if (c == 'e')
      s[o++] = 27;
    else if (c == 'x' && s[i + 1] && s[i + 2]) {
      char hex[3] = {s[i + 1], s[i + 2], 0};
      s[o++] = (char)strtol(hex, NULL, 16);
      i += 2;
    } else
      s[o++] = c;
  }
  s[o] = '\0';
  return o;
}

/* Appends program output, dropping control sequences. */
static void filter(const char *buf, size_t n)
{
  if (T.len + n + 1 > T.cap) {
    T.cap = (T.len + n + 1) * 2;
    T.out = realloc(T.out, T.cap);
    if (!T.out) fail("out of memory");
  }
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)buf[i];
    switch (T.esc) {
    case 0:
      if (c == 27)
        T.esc = 1;
      else if (c != '\r' && c != '\a' && c != '\b')
        T.out[T.len++] = (char)c;
      break;
    case 1:
      T.esc = c == '[' ? 2 : c == ']' ? 3 : (c == '(' || c == ')') ? 4 : 0;
      break;
    case 2:
      if (c >= 0x40 && c <= 0x7e) T.esc = 0;
      break;
    case 3:
      if (c == '\a' || c == '\\') T.esc = 0;
      break;
    default:
      T.esc = 0;
      break;
    }
  }
  T.out[T.len] = '\0';
}

/* Reads what the program wrote, waiting up to `wait` seconds for the first
** bytes; returns 0 on timeout or end of output. */
static int pump(double wait)
{
  if (T.master < 0 || T.eof) return 0;
  struct pollfd p = {T.master, POLLIN, 0};
  int r = poll(&p, 1, wait <= 0 ? 0 : (int)(wait * 1000) + 1);
  if (r <= 0) return 0;
  char buf[4096];
  ssize_t n = read(T.master, buf, sizeof buf);
  if (n <= 0) { /* EIO: the terminal's last user went away */
    T.eof = 1;
    return 0;
  }
  if (T.verbose) fwrite(buf, 1, (size_t)n, stderr);
  filter(buf, (size_t)n);
  return 1;
}

static void expect(char *text)
{
  size_t n = unescape(text);
  double deadline = now() + T.timeout;
  for (;;) {
    char *hit = memmem(T.out ? T.out + T.pos : "", T.len - T.pos, text, n);
    if (hit) {
      T.gapfrom = T.pos;
      T.gapto = (size_t)(hit - T.out);
      T.pos = T.gapto + n;
      return;
    }
    double left = deadline - now();
    if (T.eof || T.pid == 0) fail("expected \"%s\" but the program's output ended", text);
    if (left <= 0) fail("expected \"%s\" within %.0f s", text, T.timeout);
    pump(left);
  }
}

static void absent(char *text)
{
  size_t n = unescape(text);
  if (memmem(T.out + T.gapfrom, T.gapto - T.gapfrom, text, n))
    fail("\"%s\" appeared before the last expected text:\n%.*s", text, (int)(T.gapto - T.gapfrom),
         T.out + T.gapfrom);
}

static void sendbytes(const char *s, size_t n)
{
  if (T.pid == 0) fail("send: no program running");
  while (n > 0) {
    ssize_t w = write(T.master, s, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) fail("send: %s", strerror(errno));
    s += w;
    n -= (size_t)w;
  }
}

static void keys(char *names)
{
  static const struct {
    const char *name, *seq;
  } named[] = {{"TAB", "\t"},    {"ENTER", "\r"},    {"ESC", "\x1b"},     {"BS", "\x7f"},
               {"UP", "\x1b[A"}, {"DOWN", "\x1b[B"}, {"RIGHT", "\x1b[C"}, {"LEFT", "\x1b[D"}};
  for (char *k = strtok(names, " "); k; k = strtok(NULL, " ")) {
    if (k[0] == 'C' && k[1] == '-' && k[2] >= 'a' && k[2] <= 'z' && !k[3]) {
      char c = (char)(k[2] - 'a' + 1);
      sendbytes(&c, 1);
      continue;
    }
    size_t i = 0;
    while (i < sizeof named / sizeof *named && strcmp(named[i].name, k) != 0)
      i++;
    if (i == sizeof named / sizeof *named) fail("unknown key '%s'", k);
    sendbytes(named[i].seq, strlen(named[i].seq));
  }
}

/* Splits s into argv at blanks, honouring '...' and "..." quotes. */
static int split(char *s, char **argv)
{
  int n = 0;
  char *o = s;
  while (*s) {
    while (*s == ' ' || *s == '\t')
      s++;
    if (!*s) break;
    if (n == MAXARGS - 1) fail("too many arguments");
    argv[n++] = o;
    while (*s && *s != ' ' && *s != '\t') {
      if (*s == '\'' || *s == '"') {
        char q = *s++;
        while (*s && *s != q)
          *o++ = *s++;
        if (*s) s++;
      } else {
        *o++ = *s++;
      }
    }
    if (*s) s++;
    *o++ = '\0';
  }
  argv[n] = NULL;
  return n;
}

/* "$DIR" in s replaced by the scratch directory (malloc'd). */
static char *expand(const char *s)
{
  size_t cap = strlen(s) + 1;
  for (const char *p = s; (p = strstr(p, "$DIR")); p += 4)
    cap += strlen(T.dir);
  char *r = malloc(cap), *o = r;
  if (!r) fail("out of memory");
  while (*s) {
    if (strncmp(s, "$DIR", 4) == 0) {
      o = stpcpy(o, T.dir);
      s += 4;
    } else {
      *o++ = *s++;
    }
  }
  *o = '\0';
  return r;
}

static void setenvs(const char *prog)
{
  char path[4200];
  setenv("HOME", T.dir, 1);
  snprintf(path, sizeof path, "%s/.spy", T.dir);
  setenv("SPYDIR", path, 1);
  snprintf(path, sizeof path, "%s/.inputrc", T.dir);
  setenv("INPUTRC", path, 1);
  setenv("TERM", "xterm", 1);
  setenv("LC_ALL", "C", 1);
  unsetenv("LUA_INIT");
  unsetenv("LUA_INIT_5_4");
  unsetenv("SPY_HISTORY");
  const char *preload = getenv("SPY_LUA_PRELOAD");
  if (strcmp(prog, "lua5.4") == 0 && preload && *preload) {
    setenv("LD_PRELOAD", preload, 1);
    setenv("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=1", 1);
  }
  for (int i = 0; i < T.nenv; i++) {
    char *eq = strchr(T.env[i], '=');
    if (!eq) {
      unsetenv(T.env[i]);
      continue;
    }
    *eq = '\0';
    setenv(T.env[i], eq + 1, 1);
    *eq = '=';
  }
}

static void spawn(char *args)
{
  char *argv[MAXARGS];
  if (T.pid) fail("spawn: the previous program is still running (use exit N)");
  if (split(args, argv) == 0) fail("spawn: no program");
  const char *prog = argv[0];
  if (strcmp(prog, "spy") == 0) {
    argv[0] = getenv("SPY_BIN");
    if (!argv[0]) fail("SPY_BIN is not set");
  }
  int in[2] = {-1, -1};
  if (T.stdintext && pipe(in) != 0) fail("pipe: %s", strerror(errno));
  struct winsize ws = {24, 80, 0, 0};
  fflush(NULL);
  pid_t pid = forkpty(&T.master, NULL, NULL, &ws);
  if (pid < 0) fail("forkpty: %s", strerror(errno));
  if (pid == 0) {
    if (in[0] >= 0) {
      dup2(in[0], STDIN_FILENO);
      close(in[0]);
      close(in[1]);
    }
    if (chdir(T.dir) != 0) _exit(126);
    setenvs(prog);
    execvp(argv[0], argv);
    fprintf(stderr, "ptyrun: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  T.pid = pid;
  T.eof = 0;
  free(T.out);
  T.out = NULL;
  T.len = T.cap = T.pos = T.gapfrom = T.gapto = 0;
  T.esc = 0;
  if (in[0] >= 0) {
    close(in[0]);
    size_t off = 0;
    while (off < T.stdinlen) {
      ssize_t w = write(in[1], T.stdintext + off, T.stdinlen - off);
      if (w <= 0) break;
      off += (size_t)w;
    }
    close(in[1]);
    free(T.stdintext);
    T.stdintext = NULL;
  }
}

static void waitexit(const char *arg)
{
  int want = atoi(arg), st;
  if (T.pid == 0) fail("exit: no program running");
  double deadline = now() + T.timeout;
  while (!T.eof && now() < deadline)
    pump(deadline - now());
  for (;;) {
    pid_t r = waitpid(T.pid, &st, WNOHANG);
    if (r == T.pid) break;
    if (now() > deadline) fail("exit: the program did not end within %.0f s", T.timeout);
    poll(NULL, 0, 20); /* between checks of a process that closed its terminal */
  }
  T.pid = 0;
  close(T.master);
  T.master = -1;
  if (WIFSIGNALED(st)) fail("exit: the program was killed by signal %d", WTERMSIG(st));
  if (WEXITSTATUS(st) != want) fail("exit: status %d, expected %d", WEXITSTATUS(st), want);
}

/* Signals waiting for delivery to the program (SigPnd | ShdPnd). */
static unsigned long long pending(void)
{
  char path[64], line[256];
  unsigned long long all = 0, v;
  snprintf(path, sizeof path, "/proc/%d/status", (int)T.pid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  while (fgets(line, sizeof line, f))
    if ((sscanf(line, "SigPnd: %llx", &v) == 1 || sscanf(line, "ShdPnd: %llx", &v) == 1)) all |= v;
  fclose(f);
  return all;
}

static void settle(void)
{
  if (T.pid == 0) fail("settle: no program running");
  double deadline = now() + T.timeout;
  while (pending()) {
    if (now() > deadline) fail("settle: signals still pending after %.0f s", T.timeout);
    pump(0.01);
  }
}

static void makefile(FILE *f, const char *name)
{
  char path[8192], *line = NULL;
  size_t cap = 0;
  snprintf(path, sizeof path, "%s/%s", T.dir, name);
  for (char *slash = strchr(path + strlen(T.dir) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
    *slash = '\0';
    mkdir(path, 0700);
    *slash = '/';
  }
  FILE *o = fopen(path, "w");
  if (!o) fail("file %s: %s", name, strerror(errno));
  while (getline(&line, &cap, f) > 0) {
    T.line++;
    if (strcmp(line, "end\n") == 0 || strcmp(line, "end") == 0) break;
    fputs(line, o);
  }
  free(line);
  fclose(o);
}

static int rmone(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(p);
}

int main(int argc, char **argv)
{
  if (argc != 2) {
    fprintf(stderr, "usage: ptyrun TRANSCRIPT\n");
    return 2;
  }
  T.file = argv[1];
  const char *to = getenv("SPY_REPL_TIMEOUT");
  T.timeout = to ? atof(to) : 60;
  T.verbose = getenv("SPY_REPL_VERBOSE") != NULL;
  signal(SIGPIPE, SIG_IGN);
  const char *tmp = getenv("TMPDIR");
  snprintf(T.dir, sizeof T.dir, "%s/spy-repl-XXXXXX", tmp ? tmp : "/tmp");
  if (!mkdtemp(T.dir)) {
    perror("mkdtemp");
    return 1;
  }
  char sub[4200];
  snprintf(sub, sizeof sub, "%s/.spy", T.dir);
  mkdir(sub, 0700);
  snprintf(sub, sizeof sub, "%s/.inputrc", T.dir);
  fclose(fopen(sub, "w"));

  FILE *f = fopen(T.file, "r");
  if (!f) {
    perror(T.file);
    return 1;
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  while ((n = getline(&line, &cap, f)) > 0) {
    T.line++;
    if (line[n - 1] == '\n') line[--n] = '\0';
    if (n == 0 || line[0] == '#') continue;
    char *arg = strchr(line, ' ');
    if (arg)
      *arg++ = '\0';
    else
      arg = line + n;
    const char *cmd = line;
    if (strcmp(cmd, "spawn") == 0)
      spawn(arg);
    else if (strcmp(cmd, "send") == 0) {
      size_t k = unescape(arg);
      sendbytes(arg, k);
    } else if (strcmp(cmd, "key") == 0)
      keys(arg);
    else if (strcmp(cmd, "expect") == 0)
      expect(arg);
    else if (strcmp(cmd, "absent") == 0)
      absent(arg);
    else if (strcmp(cmd, "exit") == 0)
      waitexit(arg);
    else if (strcmp(cmd, "timeout") == 0)
      T.timeout = atof(arg);
    else if (strcmp(cmd, "settle") == 0)
      settle();
    else if (strcmp(cmd, "file") == 0)
      makefile(f, arg);
    else if (strcmp(cmd, "stdin") == 0) {
      free(T.stdintext);
      T.stdintext = strdup(arg);
      T.stdinlen = unescape(T.stdintext);
    } else if (strcmp(cmd, "env") == 0 || strcmp(cmd, "unset") == 0) {
      if (T.nenv == MAXENV) fail("too many env lines");
      T.env[T.nenv++] = cmd[0] == 'e' ? expand(arg) : strdup(arg);
    } else
      fail("unknown command '%s'", cmd);
  }
  free(line);
  fclose(f);
  if (T.pid) {
    T.line++;
    fail("the program is still running at the end (end transcripts with exit N)");
  }
  for (int i = 0; i < T.nenv; i++)
    free(T.env[i]);
  free(T.out);
  nftw(T.dir, rmone, 16, FTW_DEPTH | FTW_PHYS);
  return 0;
}
