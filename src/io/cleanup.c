#include "io/cleanup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/settings.h"

/* The session id of "spy_<id>_..." into id (empty when there is none). */
static void session_of(const char *name, char *id, size_t n)
{
  const char *p = name + 4, *end = strchr(p, '_');
  if (!end) end = strchr(p, '.');
  if (!end) end = p + strlen(p);
  size_t k = (size_t)(end - p) < n - 1 ? (size_t)(end - p) : n - 1;
  memcpy(id, p, k);
  id[k] = '\0';
}

static uint64_t tree_bytes;

static int add_size(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void)path;
  (void)ftw;
  if (flag == FTW_F) tree_bytes += (uint64_t)st->st_size;
  return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void)st;
  (void)ftw;
  if (flag == FTW_DP) rmdir(path);
  else unlink(path);
  return 0;
}

static uint64_t entry_bytes(const char *path)
{
  tree_bytes = 0;
  nftw(path, add_size, 16, FTW_PHYS);
  return tree_bytes;
}

static void remove_entry(const char *path)
{
  struct stat st;
  if (lstat(path, &st) != 0) return;
  if (S_ISDIR(st.st_mode)) nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
  else unlink(path);
}

static bool ends_with(const char *s, const char *tail)
{
  size_t n = strlen(s), k = strlen(tail);
  return n >= k && strcmp(s + n - k, tail) == 0;
}

/* The temporaries listed in a dead session's save journal (container.c):
** removed when they still exist and are what a save names its temporaries
** (`.<name>.<8 hex>.tmp`, a regular file) -- nothing else, whatever the
** journal says. */
static void remove_journaled(const char *journal, bool dry_run, spy_cleanup_report *rep)
{
  int fd = open(journal, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return;
  char buf[3 * 4200];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return;
  buf[n] = '\0';
  for (char *p = buf; p < buf + n; p += strlen(p) + 1) {
    const char *base = strrchr(p, '/');
    struct stat st;
    if (!base || base[1] != '.' || !ends_with(base, ".tmp") || lstat(p, &st) != 0 ||
        !S_ISREG(st.st_mode) || st.st_uid != geteuid())
      continue;
    rep->nremoved++;
    rep->bytes += (uint64_t)st.st_size;
    if (!dry_run) unlink(p);
  }
}

/* Paths under dir that some process of this machine holds open
** (/proc/<pid>/fd links), as one newline-separated list. */
static char *open_files(const char *dir)
{
  size_t cap = 4096, n = 0, dl = strlen(dir);
  char *list = malloc(cap);
  if (!list) return NULL;
  list[0] = '\0';
  DIR *proc = opendir("/proc");
  if (!proc) return list;
  for (struct dirent *p; (p = readdir(proc));) {
    if (p->d_name[0] < '0' || p->d_name[0] > '9') continue;
    char fddir[300];
    snprintf(fddir, sizeof fddir, "/proc/%s/fd", p->d_name);
    DIR *fds = opendir(fddir);
    if (!fds) continue;
    for (struct dirent *f; (f = readdir(fds));) {
      char link[600], target[4200];
      snprintf(link, sizeof link, "%s/%s", fddir, f->d_name);
      ssize_t k = readlink(link, target, sizeof target - 1);
      if (k <= 0 || (size_t)k <= dl || strncmp(target, dir, dl) != 0 || target[dl] != '/') continue;
      target[k] = '\0';
      if (n + (size_t)k + 2 > cap) {
        char *t = realloc(list, cap = 2 * (cap + (size_t)k));
        if (!t) break;
        list = t;
      }
      memcpy(list + n, target, (size_t)k);
      n += (size_t)k;
      list[n++] = '\n';
      list[n] = '\0';
    }
    closedir(fds);
  }
  closedir(proc);
  return list;
}

/* Is path (or something inside it) in the open-file list? */
static bool is_open(const char *list, const char *path)
{
  size_t n = strlen(path);
  for (const char *p = list; p && *p;) {
    const char *nl = strchr(p, '\n');
    size_t k = nl ? (size_t)(nl - p) : strlen(p);
    if (k >= n && strncmp(p, path, n) == 0 && (k == n || p[n] == '/')) return true;
    p = nl ? nl + 1 : p + k;
  }
  return false;
}

typedef struct {
  char id[64];
  int fd;    /* lock held by us while its entries go (dead sessions), else -1 */
  bool live;
} session_state;

/* Liveness of session id: its lock file is held by someone else.  When it
** is free we keep it locked (fd) so that no new session can take the id
** while its entries are removed. */
static void probe(const char *id, session_state *s)
{
  snprintf(s->id, sizeof s->id, "%s", id);
  s->fd = -1;
  s->live = false;
  char path[4200];
  if (spy_session_lock_path(path, sizeof path, id) != SPY_OK) return;
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return;
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    s->live = errno == EWOULDBLOCK;
    close(fd);
    return;
  }
  s->fd = fd;
}

int spy_cleanup(bool dry_run, spy_cleanup_report *rep, spy_err *err)
{
  memset(rep, 0, sizeof *rep);
  const char *dir = spy_tmpdir();
  if (!dir || !*dir) return spy_fail(err, SPY_EINVAL, "temporary storage is not set up");
  DIR *dp = opendir(dir);
  if (!dp) return spy_fail(err, SPY_EIO, "Cannot read %s: %s", dir, strerror(errno));
  char *open_list = open_files(dir);
  session_state *ss = NULL;
  size_t nss = 0, cap = 0;
  int rc = SPY_OK;
  for (struct dirent *e; (e = readdir(dp));) {
    const char *name = e->d_name;
    char id[64];
    bool lockfile = strncmp(name, ".session_", 9) == 0 && strstr(name, ".lock");
    if (strncmp(name, "spy_", 4) == 0) {
      session_of(name, id, sizeof id);
    } else if (lockfile) {
      snprintf(id, sizeof id, "%.*s", (int)(strlen(name) - 14), name + 9);
    } else {
      continue;
    }
    size_t k = 0;
    while (k < nss && strcmp(ss[k].id, id) != 0) k++;
    if (k == nss) {
      if (nss == cap) {
        session_state *t = realloc(ss, (cap = cap ? 2 * cap : 8) * sizeof *t);
        if (!t) {
          rc = spy_fail(err, SPY_ENOMEM, "out of memory");
          break;
        }
        ss = t;
      }
      probe(id, &ss[nss++]);
    }
    if (lockfile) continue;
    char *path = malloc(strlen(dir) + strlen(name) + 2);
    if (!path) {
      rc = spy_fail(err, SPY_ENOMEM, "out of memory");
      break;
    }
    sprintf(path, "%s/%s", dir, name);
    if (ss[k].live || is_open(open_list, path)) {
      rep->nlive++;
    } else {
      if (ends_with(name, ".saving")) remove_journaled(path, dry_run, rep);
      rep->nremoved++;
      rep->bytes += entry_bytes(path);
      if (!dry_run) remove_entry(path);
    }
    free(path);
  }
  closedir(dp);
  /* Dead sessions lose their lock file too; unlink before unlocking. */
  for (size_t k = 0; k < nss; k++) {
    if (ss[k].fd < 0) continue;
    char path[4200];
    if (!dry_run && spy_session_lock_path(path, sizeof path, ss[k].id) == SPY_OK) unlink(path);
    close(ss[k].fd);
  }
  free(ss);
  free(open_list);
  return rc;
}

void spy_cleanup_session(void)
{
  const char *dir = spy_tmpdir(), *id = spy_session_id();
  if (dir && *dir && strcmp(id, "----") != 0) {
    char prefix[64];
    snprintf(prefix, sizeof prefix, "spy_%s_", id);
    DIR *dp = opendir(dir);
    for (struct dirent *e; dp && (e = readdir(dp));) {
      if (strncmp(e->d_name, prefix, strlen(prefix)) != 0) continue;
      char *path = malloc(strlen(dir) + strlen(e->d_name) + 2);
      if (!path) break;
      sprintf(path, "%s/%s", dir, e->d_name);
      remove_entry(path);
      free(path);
    }
    if (dp) closedir(dp);
  }
  spy_session_unlock();
}
