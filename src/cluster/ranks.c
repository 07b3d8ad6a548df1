/*
** In-allocation runs (ranks.h).
*/
#include "cluster/ranks.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cluster/proto.h"
#include "cluster/server.h"
#include "cluster/worker.h"

static int env_int(const char *name, int dflt)
{
  const char *v = getenv(name);
  if (!v || !*v) return dflt;
  char *end;
  long x = strtol(v, &end, 10);
  if (*end || x < 0 || x > 1000000) return dflt;
  return (int)x;
}

static bool numeric(const char *s)
{
  if (!s || !*s) return false;
  for (; *s; s++)
    if (*s < '0' || *s > '9') return false;
  return true;
}

bool spy_ranks_detect(spy_ranks *r)
{
  memset(r, 0, sizeof *r);
  r->threads = 1;
  const char *id = getenv("SPY_RANKS_ID");
  if (id && *id && getenv("SPY_RANK") && getenv("SPY_NRANKS")) {
    r->rank = env_int("SPY_RANK", -1);
    r->nranks = env_int("SPY_NRANKS", 0);
    snprintf(r->id, sizeof r->id, "%s", id);
  } else {
    const char *job = getenv("SLURM_JOB_ID"), *step = getenv("SLURM_STEP_ID");
    if (!numeric(job) || !numeric(step) || !getenv("SLURM_PROCID")) return false;
    r->rank = env_int("SLURM_PROCID", -1);
    r->nranks = env_int("SLURM_NTASKS", 0);
    snprintf(r->id, sizeof r->id, "%s.%s", job, step);
    r->slurm = true;
    int cpt = env_int("SLURM_CPUS_PER_TASK", 1);
    r->threads = cpt > 0 ? cpt : 1;
  }
  for (char *p = r->id; *p; p++)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '.' || *p == '-'))
      *p = '_';
  return r->nranks > 1 && r->rank >= 0 && r->rank < r->nranks;
}

int spy_ranks_path(const spy_ranks *r, char *buf, size_t n)
{
  char user[64];
  spy_cluster_user_name(user, sizeof user);
  const char *d = getenv("SPY_RANKS_DIR");
  int k;
  if (d && *d) k = snprintf(buf, n, "%s/spy-ranks-%s-%s", d, user, r->id);
  else if ((d = getenv("SPYTMPDIR")) && *d) k = snprintf(buf, n, "%s/spy-ranks-%s-%s", d, user, r->id);
  else if ((d = getenv("SPYDIR")) && *d) k = snprintf(buf, n, "%s/tmp_storage/spy-ranks-%s-%s", d, user, r->id);
  else {
    const char *home = getenv("HOME");
    struct passwd *pw = home ? NULL : getpwuid(getuid());
    if (!home) home = pw ? pw->pw_dir : "/tmp";
    k = snprintf(buf, n, "%s/.spy/tmp_storage/spy-ranks-%s-%s", home, user, r->id);
  }
  return k < 0 || (size_t)k >= n ? SPY_EINVAL : SPY_OK;
}

int spy_ranks_publish(const spy_ranks *r, const char *address, const char *clusterdir, spy_err *err)
{
  char path[4200], tmp[4300];
  if (spy_ranks_path(r, path, sizeof path)) return spy_fail(err, SPY_EINVAL, "rendezvous path too long");
  snprintf(tmp, sizeof tmp, "%s.part", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return spy_fail(err, SPY_EIO, "cannot write the ranks' rendezvous file %s: %s", tmp, strerror(errno));
  FILE *f = fdopen(fd, "w");
  if (!f) {
    close(fd);
    return spy_fail(err, SPY_EIO, "cannot write %s", tmp);
  }
  int ok = fprintf(f, "%s\n%s\n", address, clusterdir) > 0;
  ok &= fflush(f) == 0 && fsync(fileno(f)) == 0;
  ok &= fclose(f) == 0;
  if (!ok || rename(tmp, path) != 0) {
    unlink(tmp);
    return spy_fail(err, SPY_EIO, "cannot write the ranks' rendezvous file %s: %s", path, strerror(errno));
  }
  return SPY_OK;
}

void spy_ranks_unpublish(const spy_ranks *r)
{
  char path[4200];
  if (!spy_ranks_path(r, path, sizeof path)) unlink(path);
}

/* Reads "<address>\n<dir>\n" from a file of ours that nobody else may write. */
static bool read_rendezvous(const char *path, char *addr, size_t na, char *dir, size_t nd)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st;
  char buf[8192];
  ssize_t k = 0;
  if (fstat(fd, &st) == 0 && st.st_uid == getuid() && !(st.st_mode & 022))
    k = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (k <= 0) return false;
  buf[k] = 0;
  char *nl = strchr(buf, '\n');
  if (!nl) return false;
  *nl = 0;
  char *d = nl + 1, *nl2 = strchr(d, '\n');
  if (!nl2) return false;
  *nl2 = 0;
  snprintf(addr, na, "%s", buf);
  snprintf(dir, nd, "%s", d);
  return *addr && *dir;
}

int spy_ranks_worker_main(const spy_ranks *r, const char *argv0)
{
  char path[4200], addr[256], dir[4096];
  if (spy_ranks_path(r, path, sizeof path)) {
    fprintf(stderr, "spy rank %d: rendezvous path too long\n", r->rank);
    return 1;
  }
  int limit = env_int("SPY_RANKS_TIMEOUT", 60);
  double t0 = spy_clock();
  while (!read_rendezvous(path, addr, sizeof addr, dir, sizeof dir)) {
    if (spy_clock() - t0 > limit) {
      fprintf(stderr, "spy rank %d: no rendezvous from rank 0 at %s after %d s; exiting\n", r->rank, path, limit);
      return 1;
    }
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  char secret[4200], name[160], threads[16], mem[32];
  snprintf(mem, sizeof mem, "%.0f", (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE) / r->nranks);
  snprintf(secret, sizeof secret, "%s/secret", dir);
  snprintf(name, sizeof name, "rank-%d-%s", r->rank, r->id);
  snprintf(threads, sizeof threads, "%d", r->threads);
  char *argv[] = {(char *)argv0, "--worker", addr, "--secret-file", secret, "--local-directory", dir,
                  "--nthreads", threads, "--memory-limit", mem, "--name", name, NULL};
  return spy_worker_main((int)(sizeof argv / sizeof argv[0]) - 1, argv);
}

int spy_ranks_launch(int n, char **argv, int **pids, spy_err *err)
{
  char id[64], nr[16], rk[16];
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  snprintf(id, sizeof id, "local-%ld-%lx", (long)getpid(), (unsigned long)now.tv_nsec);
  snprintf(nr, sizeof nr, "%d", n);
  *pids = calloc((size_t)(n > 1 ? n : 1), sizeof **pids);
  if (!*pids) return spy_fail(err, SPY_ENOMEM, "out of memory");
  setenv("SPY_RANKS_ID", id, 1);
  setenv("SPY_NRANKS", nr, 1);
  char self[4096];
  ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
  if (k <= 0) return spy_fail(err, SPY_EIO, "cannot find the spy executable: %s", strerror(errno));
  self[k] = 0;
  fflush(NULL);
  for (int i = 1; i < n; i++) {
    snprintf(rk, sizeof rk, "%d", i);
    setenv("SPY_RANK", rk, 1);
    pid_t p = fork();
    if (p < 0) {
      spy_ranks_reap(*pids, i - 1, 0);
      return spy_fail(err, SPY_ERUNTIME, "cannot start rank %d: %s", i, strerror(errno));
    }
    if (p == 0) {
      execv(self, argv);
      _exit(127);
    }
    (*pids)[i - 1] = (int)p;
  }
  setenv("SPY_RANK", "0", 1);
  return SPY_OK;
}

void spy_ranks_reap(const int *pids, int n, double grace)
{
  double t0 = spy_clock();
  int left = 0;
  bool *done = calloc((size_t)(n > 0 ? n : 1), 1);
  if (!done) return;
  for (;;) {
    left = 0;
    for (int i = 0; i < n; i++) {
      if (done[i] || pids[i] <= 0) continue;
      pid_t w = waitpid(pids[i], NULL, WNOHANG);
      if (w == pids[i] || (w < 0 && errno == ECHILD)) done[i] = true;
      else left++;
    }
    if (!left || spy_clock() - t0 >= grace) break;
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  for (int i = 0; i < n; i++)
    if (!done[i] && pids[i] > 0) kill(pids[i], SIGTERM);
  for (int i = 0; i < n; i++)
    if (!done[i] && pids[i] > 0) waitpid(pids[i], NULL, 0);
  free(done);
}
