#include "cluster/slurm.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cluster/proto.h"
#include "data/data.h"

extern char **environ;

void spy_slurm_config_free(spy_slurm_config *c)
{
  free(c->queue);
  free(c->account);
  free(c->walltime);
  free(c->local_directory);
  free(c->log_directory);
  spy_strv_free(c->job_extra, c->njob_extra);
  spy_strv_free(c->prologue, c->nprologue);
  spy_strv_free(c->skip, c->nskip);
  free(c->interface);
  free(c->spy);
  free(c->job_name);
  memset(c, 0, sizeof *c);
}

int spy_slurm_default_processes(int cores)
{
  if (cores <= 4) return cores > 0 ? cores : 1;
  int r = (int)ceil(sqrt((double)cores));
  for (int p = r; p <= cores; p++)
    if (cores % p == 0) return p;
  return cores;
}

void spy_slurm_format_mem(double bytes, char *buf, size_t n)
{
  const double gib = 1073741824.0, mib = 1048576.0;
  if (bytes >= gib && fmod(bytes, gib) == 0) snprintf(buf, n, "%.0fG", bytes / gib);
  else if (bytes >= mib) snprintf(buf, n, "%.0fM", ceil(bytes / mib));
  else snprintf(buf, n, "%.0fK", bytes > 1024 ? ceil(bytes / 1024) : 1);
}

/* ---- the job script ----------------------------------------------------------- */

typedef struct sbuf {
  char *p;
  size_t n, cap;
  bool oom;
} sbuf;

static void add(sbuf *b, const char *s, size_t len)
{
  if (b->oom) return;
  if (b->n + len + 1 > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 1024;
    while (cap < b->n + len + 1) cap *= 2;
    char *q = realloc(b->p, cap);
    if (!q) {
      b->oom = true;
      return;
    }
    b->p = q;
    b->cap = cap;
  }
  memcpy(b->p + b->n, s, len);
  b->n += len;
  b->p[b->n] = 0;
}

static void adds(sbuf *b, const char *s) { add(b, s, strlen(s)); }

static void addf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void addf(sbuf *b, const char *fmt, ...)
{
  char tmp[8192];
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (k < 0 || (size_t)k >= sizeof tmp) b->oom = true;
  else add(b, tmp, (size_t)k);
}

/* bash single quoting: 'it'\''s' */
static void add_quoted(sbuf *b, const char *s)
{
  adds(b, "'");
  for (const char *p = s; *p; p++) {
    if (*p == '\'') adds(b, "'\\''");
    else add(b, p, 1);
  }
  adds(b, "'");
}

/* A value inside an #SBATCH line: no newline or quote; double-quoted when it has blanks. */
static int directive_value(const char *what, const char *v, bool blanks_ok, spy_err *err)
{
  if (!*v) return spy_fail_value(err, what, v, "a non-empty string");
  for (const char *p = v; *p; p++) {
    if (*p == '\n' || *p == '\r' || *p == '"' || *p == '\'' || *p == '\\' ||
        (!blanks_ok && (*p == ' ' || *p == '\t')))
      return spy_fail_value(err, what, v,
                            "a value without %squotes, backslashes or line breaks",
                            blanks_ok ? "" : "blanks, ");
  }
  return SPY_OK;
}

static bool skipped(const spy_slurm_config *c, const char *directive)
{
  for (size_t i = 0; i < c->nskip; i++) {
    size_t k = strlen(c->skip[i]);
    if (k && strncmp(directive, c->skip[i], k) == 0 &&
        (directive[k] == 0 || directive[k] == ' ' || directive[k] == '='))
      return true;
  }
  return false;
}

static void directive(sbuf *b, const spy_slurm_config *c, const char *text)
{
  if (skipped(c, text)) return;
  addf(b, "#SBATCH %s\n", text);
}

static void path_directive(sbuf *b, const spy_slurm_config *c, const char *opt, const char *dir,
                           const char *name, const char *ext)
{
  char text[8192];
  bool blank = strpbrk(dir, " \t") != NULL;
  snprintf(text, sizeof text, "%s %s%s/%s-%%J.%s%s", opt, blank ? "\"" : "", dir, name, ext,
           blank ? "\"" : "");
  directive(b, c, text);
}

int spy_slurm_job_script(const spy_slurm_config *c, const char *address, const char *dir,
                         char **script, spy_err *err)
{
  sbuf b = {0};
  char text[8192], mem[32];
  int rc;
  *script = NULL;
  if ((rc = directive_value("job_name", c->job_name, false, err))) return rc;
  if (c->queue && (rc = directive_value("queue", c->queue, false, err))) return rc;
  if (c->account && (rc = directive_value("account", c->account, false, err))) return rc;
  if (c->walltime && (rc = directive_value("walltime", c->walltime, false, err))) return rc;
  if (c->log_directory && (rc = directive_value("log_directory", c->log_directory, true, err)))
    return rc;
  for (size_t i = 0; i < c->njob_extra; i++) {
    const char *x = c->job_extra[i];
    if (x[0] != '-')
      return spy_fail_value(err, "job_extra_directives", x, "options flagged with - or --");
    if (strpbrk(x, "\n\r")) return spy_fail_value(err, "job_extra_directives", x, "one line per option");
  }
  for (size_t i = 0; i < c->nprologue; i++)
    if (strpbrk(c->prologue[i], "\n\r"))
      return spy_fail_value(err, "job_script_prologue", c->prologue[i], "one shell line per entry");
  if (c->cores < 1) return spy_fail_value(err, "cores", NULL, "a positive integer");
  if (c->processes < 1 || c->processes > c->cores)
    return spy_fail_value(err, "processes", NULL, "an integer between 1 and cores (%d)", c->cores);

  adds(&b, "#!/usr/bin/env bash\n\n");
  snprintf(text, sizeof text, "-J %s", c->job_name);
  directive(&b, c, text);
  if (c->log_directory) {
    path_directive(&b, c, "-e", c->log_directory, c->job_name, "err");
    path_directive(&b, c, "-o", c->log_directory, c->job_name, "out");
  }
  if (c->queue) {
    snprintf(text, sizeof text, "-p %s", c->queue);
    directive(&b, c, text);
  }
  if (c->account) {
    snprintf(text, sizeof text, "-A %s", c->account);
    directive(&b, c, text);
  }
  directive(&b, c, "-n 1");
  directive(&b, c, "-N 1");
  snprintf(text, sizeof text, "--cpus-per-task=%d", c->cores);
  directive(&b, c, text);
  spy_slurm_format_mem(c->memory, mem, sizeof mem);
  snprintf(text, sizeof text, "--mem=%s", mem);
  directive(&b, c, text);
  if (c->walltime) {
    snprintf(text, sizeof text, "-t %s", c->walltime);
    directive(&b, c, text);
  }
  for (size_t i = 0; i < c->njob_extra; i++) addf(&b, "#SBATCH %s\n", c->job_extra[i]);
  adds(&b, "\n");
  for (size_t i = 0; i < c->nprologue; i++) addf(&b, "%s\n", c->prologue[i]);
  /* workers open the session's files while the session holds them: HDF5's
  ** advisory locks would refuse that, and readers only read flushed data */
  adds(&b, "export HDF5_USE_FILE_LOCKING=FALSE\n");
  adds(&b, "exec ");
  add_quoted(&b, c->spy);
  adds(&b, " --worker ");
  add_quoted(&b, address);
  char secret[4200];
  snprintf(secret, sizeof secret, "%s/secret", dir);
  adds(&b, " --secret-file ");
  add_quoted(&b, secret);
  adds(&b, " --local-directory ");
  add_quoted(&b, dir);
  addf(&b, " --nthreads %d", c->cores / c->processes);
  if (c->processes > 1) addf(&b, " --nworkers %d", c->processes);
  addf(&b, " --memory-limit %.0f", floor(c->memory / c->processes));
  double wt = c->walltime ? spy_slurm_walltime_seconds(c->walltime) : -1;
  if (wt > 0 && !skipped(c, "-t")) addf(&b, " --walltime %.0f", wt); /* the worker retires before it */
  addf(&b, " --death-timeout %g\n", c->death_timeout);
  if (b.oom) {
    free(b.p);
    return spy_fail(err, SPY_ENOMEM, "out of memory");
  }
  *script = b.p;
  return SPY_OK;
}

double spy_slurm_walltime_seconds(const char *t)
{
  /* minutes | minutes:seconds | hours:minutes:seconds | days-hours[:minutes[:seconds]] */
  long v[4] = {0, 0, 0, 0};
  int n = 0;
  double days = 0;
  const char *p = t;
  const char *dash = strchr(t, '-');
  if (dash) {
    char *end;
    long d = strtol(t, &end, 10);
    if (end != dash || d < 0) return -1;
    days = (double)d;
    p = dash + 1;
  }
  while (*p && n < 4) {
    char *end;
    if (*p < '0' || *p > '9') return -1;
    v[n++] = strtol(p, &end, 10);
    p = end;
    if (*p == ':' && p[1]) p++;
    else if (*p) return -1;
  }
  if (*p || n == 0 || n > 3) return -1;
  double s;
  if (dash) s = n == 1 ? v[0] * 3600.0 : n == 2 ? v[0] * 3600.0 + v[1] * 60.0 : v[0] * 3600.0 + v[1] * 60.0 + v[2];
  else s = n == 1 ? v[0] * 60.0 : n == 2 ? v[0] * 60.0 + v[1] : v[0] * 3600.0 + v[1] * 60.0 + v[2];
  return days * 86400 + s;
}

/* ---- running commands ---------------------------------------------------------- */

typedef struct capture {
  int fd;
  sbuf buf;
} capture;

int spy_cmd_run(const char *const argv[], const char *input, double seconds, char **out,
                char **errout, spy_err *err)
{
  int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1};
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  pid_t pid;
  int rc = -1, status = 0;
  if (out) *out = NULL;
  if (errout) *errout = NULL;
  if (pipe2(pin, O_CLOEXEC) || pipe2(pout, O_CLOEXEC) || pipe2(perr, O_CLOEXEC)) {
    rc = spy_fail(err, SPY_EIO, "pipe: %s", strerror(errno));
    goto close;
  }
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, pin[0], 0);
  posix_spawn_file_actions_adddup2(&fa, pout[1], 1);
  posix_spawn_file_actions_adddup2(&fa, perr[1], 2);
  posix_spawnattr_init(&at);
  /* its own process group: a Ctrl-C at the terminal must not kill a scancel */
  posix_spawnattr_setpgroup(&at, 0);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&at, &none);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
  int e = posix_spawnp(&pid, argv[0], &fa, &at, (char *const *)argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  close(pin[0]);
  close(pout[1]);
  close(perr[1]);
  pin[0] = pout[1] = perr[1] = -1;
  if (e) {
    rc = spy_fail(err, SPY_ENOENT, "cannot run '%s': %s", argv[0], strerror(e));
    goto close;
  }
  {
    capture cap[2] = {{pout[0], {0}}, {perr[0], {0}}};
    const char *inp = input ? input : "";
    size_t inleft = strlen(inp);
    if (!inleft) {
      close(pin[1]);
      pin[1] = -1;
    } else {
      fcntl(pin[1], F_SETFL, O_NONBLOCK);
    }
    double end = spy_clock() + seconds;
    bool timedout = false;
    while (cap[0].fd >= 0 || cap[1].fd >= 0) {
      struct pollfd p[3];
      int np = 0, idx[3];
      for (int i = 0; i < 2; i++)
        if (cap[i].fd >= 0) {
          p[np] = (struct pollfd){cap[i].fd, POLLIN, 0};
          idx[np++] = i;
        }
      if (pin[1] >= 0) {
        p[np] = (struct pollfd){pin[1], POLLOUT, 0};
        idx[np++] = 2;
      }
      double left = end - spy_clock();
      if (left <= 0) {
        timedout = true;
        break;
      }
      int k = poll(p, (nfds_t)np, (int)(left * 1000) + 1);
      if (k < 0 && errno == EINTR) continue;
      if (k < 0) break;
      for (int j = 0; j < np; j++) {
        if (!p[j].revents) continue;
        if (idx[j] == 2) {
          ssize_t w = write(pin[1], inp, inleft);
          if (w > 0) {
            inp += w;
            inleft -= (size_t)w;
          }
          if (w < 0 && errno != EAGAIN && errno != EINTR) inleft = 0;
          if (!inleft) {
            close(pin[1]);
            pin[1] = -1;
          }
          continue;
        }
        capture *c = &cap[idx[j]];
        char tmp[4096];
        ssize_t r = read(c->fd, tmp, sizeof tmp);
        if (r > 0 && c->buf.n < 65536) add(&c->buf, tmp, (size_t)r);
        else if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) {
          close(c->fd);
          c->fd = -1;
        }
      }
    }
    for (int i = 0; i < 2; i++)
      if (cap[i].fd >= 0) close(cap[i].fd);
    pout[0] = perr[0] = -1;
    if (timedout) kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (timedout) {
      rc = spy_fail(err, SPY_ERUNTIME, "'%s' did not finish within %g s", argv[0], seconds);
      free(cap[0].buf.p);
      free(cap[1].buf.p);
      goto close;
    }
    if (out) *out = cap[0].buf.p ? cap[0].buf.p : strdup("");
    else free(cap[0].buf.p);
    if (errout) *errout = cap[1].buf.p ? cap[1].buf.p : strdup("");
    else free(cap[1].buf.p);
    rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  }
close:
  for (int i = 0; i < 2; i++) {
    if (pin[i] >= 0) close(pin[i]);
    if (pout[i] >= 0) close(pout[i]);
    if (perr[i] >= 0) close(perr[i]);
  }
  return rc;
}

static void chomp(char *s)
{
  size_t n = s ? strlen(s) : 0;
  while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ')) s[--n] = 0;
}

long spy_slurm_submit(const char *script, spy_err *err)
{
  const char *argv[] = {"sbatch", "--parsable", NULL};
  char *out = NULL, *errs = NULL;
  int st = spy_cmd_run(argv, script, 60, &out, &errs, err);
  if (st == SPY_ENOENT)
    return spy_fail(err, SPY_ENOENT,
                    "Slurm is not installed on this machine (no `sbatch` on PATH): a SLURMCluster "
                    "cannot start workers here; use spy.LocalCluster{n_workers=...} to compute on "
                    "this machine");
  if (st < 0) return st;
  chomp(out);
  chomp(errs);
  char *end = NULL;
  long id = out ? strtol(out, &end, 10) : 0;
  if (st != 0)
    spy_fail(err, SPY_ERUNTIME,
             "Command exited with non-zero exit code.\nExit code: %d\nCommand:\nsbatch --parsable "
             "<job script>\nstdout:\n%s\nstderr:\n%s\n",
             st, out ? out : "", errs ? errs : "");
  else if (id <= 0 || (end && *end && *end != ';'))
    spy_fail(err, SPY_ERUNTIME, "sbatch printed no job id: '%s'", out ? out : "");
  if (st != 0 || id <= 0 || (end && *end && *end != ';')) id = SPY_ERUNTIME;
  free(out);
  free(errs);
  return id;
}

void spy_slurm_cancel(const long *ids, size_t n)
{
  for (size_t i0 = 0; i0 < n; i0 += 64) {
    const char *argv[67];
    char num[64][24];
    size_t k = 0;
    argv[k++] = "scancel";
    for (size_t i = i0; i < n && i < i0 + 64; i++) {
      snprintf(num[i - i0], sizeof num[0], "%ld", ids[i]);
      argv[k++] = num[i - i0];
    }
    argv[k] = NULL;
    if (k > 1) spy_cmd_run(argv, NULL, 30, NULL, NULL, NULL);
  }
}

/* one "id|state|reason|name" line of squeue */
static void parse_job_line(char *line, spy_jobinfo *j)
{
  char *f[4] = {line, NULL, NULL, NULL};
  for (int i = 1; i < 4; i++) {
    char *bar = f[i - 1] ? strchr(f[i - 1], '|') : NULL;
    if (bar) {
      *bar = 0;
      f[i] = bar + 1;
    }
  }
  j->id = strtol(f[0], NULL, 10);
  snprintf(j->state, sizeof j->state, "%s", f[1] ? f[1] : "");
  snprintf(j->reason, sizeof j->reason, "%s", f[2] ? f[2] : "");
  snprintf(j->name, sizeof j->name, "%s", f[3] ? f[3] : "");
}

int spy_slurm_query(spy_jobinfo *jobs, size_t n, spy_err *err)
{
  if (!n) return SPY_OK;
  size_t cap = 32 + n * 24;
  char *ids = malloc(cap), *out = NULL, *errs = NULL;
  if (!ids) return spy_fail(err, SPY_ENOMEM, "out of memory");
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    k += (size_t)snprintf(ids + k, cap - k, i ? ",%ld" : "%ld", jobs[i].id);
    jobs[i].state[0] = jobs[i].reason[0] = 0;
  }
  const char *argv[] = {"squeue", "-h", "-t", "all", "-j", ids, "-o", "%i|%T|%r|%j", NULL};
  int st = spy_cmd_run(argv, NULL, 30, &out, &errs, err);
  free(ids);
  /* squeue fails with "Invalid job id" when every id has been purged */
  if (st > 0 && errs && strstr(errs, "Invalid job id")) st = 0;
  if (st != 0) {
    if (st > 0) {
      chomp(errs);
      spy_fail(err, SPY_ERUNTIME, "squeue failed (exit code %d): %s", st, errs ? errs : "");
    }
    free(out);
    free(errs);
    return st > 0 ? SPY_ERUNTIME : st;
  }
  for (char *save = NULL, *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    spy_jobinfo j = {0};
    parse_job_line(line, &j);
    for (size_t i = 0; i < n; i++)
      if (jobs[i].id == j.id) {
        memcpy(jobs[i].state, j.state, sizeof j.state);
        memcpy(jobs[i].reason, j.reason, sizeof j.reason);
      }
  }
  free(out);
  free(errs);
  return SPY_OK;
}

double spy_slurm_parse_endtime(const char *s)
{
  struct tm tm = {0};
  char tail = 0;
  while (s && (*s == ' ' || *s == '\t'))
    s++;
  if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &tail) < 6)
    return 0; /* N/A, Unknown, NONE, empty */
  if (tail && tail != '\n' && tail != ' ' && tail != '\r') return 0;
  if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60)
    return 0;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  tm.tm_isdst = -1; /* Slurm prints local time */
  time_t t = mktime(&tm);
  return t == (time_t)-1 ? 0 : (double)t;
}

int spy_slurm_job_end(const char *job, double *end, spy_err *err)
{
  *end = 0;
  if (!job || !*job || strspn(job, "0123456789_.") != strlen(job))
    return spy_fail_value(err, "job", job ? job : "", "a Slurm job id");
  const char *argv[] = {"squeue", "-h", "-j", job, "-O", "EndTime", NULL};
  char *out = NULL, *errs = NULL;
  int st = spy_cmd_run(argv, NULL, 30, &out, &errs, err);
  if (st > 0) {
    chomp(errs);
    spy_fail(err, SPY_ERUNTIME, "squeue failed (exit code %d): %s", st, errs ? errs : "");
  }
  if (st == 0) *end = spy_slurm_parse_endtime(out);
  free(out);
  free(errs);
  return st > 0 ? SPY_ERUNTIME : st;
}

int spy_slurm_user_jobs(const char *prefix, spy_jobinfo **jobs, size_t *n, spy_err *err)
{
  char user[64] = "";
  struct passwd *pw = getpwuid(getuid());
  snprintf(user, sizeof user, "%s", pw ? pw->pw_name : "");
  const char *argv[] = {"squeue", "-h", "-u", user, "-o", "%i|%T|%r|%j", NULL};
  const char *argv_all[] = {"squeue", "-h", "--me", "-o", "%i|%T|%r|%j", NULL};
  char *out = NULL, *errs = NULL;
  *jobs = NULL;
  *n = 0;
  int st = spy_cmd_run(*user ? argv : argv_all, NULL, 30, &out, &errs, err);
  if (st != 0) {
    if (st > 0) {
      chomp(errs);
      spy_fail(err, SPY_ERUNTIME, "squeue failed (exit code %d): %s", st, errs ? errs : "");
    }
    free(out);
    free(errs);
    return st > 0 ? SPY_ERUNTIME : st;
  }
  size_t cap = 0;
  for (char *save = NULL, *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    spy_jobinfo j = {0};
    parse_job_line(line, &j);
    if (strncmp(j.name, prefix, strlen(prefix)) != 0) continue;
    if (*n == cap) {
      cap = cap ? 2 * cap : 16;
      spy_jobinfo *q = realloc(*jobs, cap * sizeof *q);
      if (!q) break;
      *jobs = q;
    }
    (*jobs)[(*n)++] = j;
  }
  free(out);
  free(errs);
  return SPY_OK;
}

int spy_slurm_partitions(char ***names, size_t *n, spy_err *err)
{
  const char *argv[] = {"sinfo", "-h", "-o", "%P", NULL};
  char *out = NULL, *errs = NULL, host[256] = "localhost";
  *names = NULL;
  *n = 0;
  gethostname(host, sizeof host - 1);
  int st = spy_cmd_run(argv, NULL, 30, &out, &errs, err);
  if (st != 0) {
    chomp(errs);
    if (st > 0)
      spy_fail(err, SPY_ERUNTIME, "Error fetching SLURM partition setup from node %s: %s", host,
               errs ? errs : "");
    else
      spy_err_prefix(err, "Cannot access SLURM queuing system from node %s", host);
    free(out);
    free(errs);
    return st > 0 ? SPY_ERUNTIME : st;
  }
  size_t cap = 0;
  for (char *save = NULL, *w = strtok_r(out, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
    size_t len = strlen(w);
    if (len && w[len - 1] == '*') w[--len] = 0;
    if (!len) continue;
    if (*n == cap) {
      cap = cap ? 2 * cap : 8;
      char **q = realloc(*names, cap * sizeof *q);
      if (!q) break;
      *names = q;
    }
    (*names)[(*n)++] = strdup(w);
  }
  free(out);
  free(errs);
  return SPY_OK;
}

static double field(const char *text, const char *key)
{
  const char *p = text;
  size_t k = strlen(key);
  while ((p = strstr(p, key))) {
    if ((p == text || p[-1] == ' ' || p[-1] == '\n') && p[k] == '=') {
      char *end;
      double v = strtod(p + k + 1, &end);
      return end > p + k + 1 && v > 0 ? v : 0;
    }
    p += k;
  }
  return 0;
}

void spy_slurm_parse_partition(const char *text, spy_partition *p)
{
  p->defmem = field(text, "DefMemPerCPU");
  p->maxmem = field(text, "MaxMemPerCPU");
}

int spy_slurm_partition_info(const char *name, spy_partition *p, spy_err *err)
{
  const char *argv[] = {"scontrol", "-o", "show", "partition", name, NULL};
  char *out = NULL, *errs = NULL;
  int st = spy_cmd_run(argv, NULL, 30, &out, &errs, err);
  if (st != 0) {
    chomp(errs);
    if (st > 0)
      spy_fail(err, SPY_ERUNTIME, "Cannot fetch available memory per CPU in SLURM: %s", errs ? errs : "");
    free(out);
    free(errs);
    return st > 0 ? SPY_ERUNTIME : st;
  }
  spy_slurm_parse_partition(out, p);
  free(out);
  free(errs);
  return SPY_OK;
}

int spy_esi_resources(const char *partition, const spy_partition *p, double mem_mb, int cores,
                      double *out_mem_mb, int *out_cores, bool *capped, double *limit_mb,
                      spy_err *err)
{
  double named = 0;
  const char *gb = strstr(partition, "GB");
  if (gb && gb > partition) {
    char *end;
    double v = strtod(partition, &end);
    if (end == gb && v > 0) named = v * 1000;
  }
  double limit = p->maxmem > 0 ? p->maxmem : p->defmem > 0 ? p->defmem : named;
  double percore = p->defmem > 0 ? p->defmem : named;
  *capped = false;
  *limit_mb = limit;
  *out_cores = cores > 0 ? cores : percore >= 8000 ? (int)(percore / 8000) : 1;
  if (mem_mb > 0) {
    *out_mem_mb = mem_mb;
    if (limit > 0 && mem_mb > limit) {
      *out_mem_mb = limit;
      *capped = true;
    }
  } else if (limit > 0) {
    *out_mem_mb = limit;
  } else {
    return spy_fail(err, SPY_EINVAL,
                    "cannot derive the memory of partition %s: scontrol reports neither "
                    "DefMemPerCPU nor MaxMemPerCPU and its name does not read <N>GB<class>; "
                    "give mem_per_job (e.g. '8GB' or '12000MB')",
                    partition);
  }
  return SPY_OK;
}
