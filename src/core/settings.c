#include "core/settings.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"

static char dir[4096], tmpdir[4096], logdir[4096], session[8];
static int initialised;
static int session_fd = -1; /* the flock'ed session lock file, -1 when none */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

int spy_random_bytes(void *buf, size_t n)
{
  unsigned char *p = buf;
  while (n > 0) {
    ssize_t got = getrandom(p, n, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += got;
    n -= (size_t)got;
  }
  return 0;
}

int spy_mkdirs(const char *path, spy_err *err)
{
  char tmp[4096];
  if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
    return spy_fail(err, SPY_EINVAL, "path too long: %s", path);
  for (char *p = tmp + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
      return spy_fail(err, SPY_EIO, "cannot create directory '%s': %s", tmp,
                      strerror(errno));
    *p = '/';
  }
  if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
    return spy_fail(err, SPY_EIO, "cannot create directory '%s': %s", tmp,
                    strerror(errno));
  return SPY_OK;
}

/* The temporary storage holds the sessions' data: created mode 0700, and an
** existing one of ours that others can enter is closed (spy's default place
** only: a SPYTMPDIR the user chose keeps the mode the user gave it). */
static int private_dir(const char *path, spy_err *err)
{
  struct stat st;
  bool existed = stat(path, &st) == 0;
  char parent[4096];
  snprintf(parent, sizeof parent, "%s", path);
  char *slash = strrchr(parent, '/');
  if (slash && slash != parent) {
    *slash = '\0';
    int rc = spy_mkdirs(parent, err);
    if (rc) return rc;
  }
  if (!existed) {
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
      return spy_fail(err, SPY_EIO, "cannot create directory '%s': %s", path, strerror(errno));
    return SPY_OK;
  }
  const char *env = getenv("SPYTMPDIR");
  if (S_ISDIR(st.st_mode) && st.st_uid == geteuid() && (st.st_mode & 077) && !(env && *env))
    chmod(path, 0700);
  return SPY_OK;
}

int spy_session_lock_path(char *out, size_t n, const char *id)
{
  int k = snprintf(out, n, "%s/.session_%s.lock", tmpdir, id);
  return (k < 0 || (size_t)k >= n) ? SPY_EINVAL : SPY_OK;
}

/* Takes the lock file of session id: 0 locked, 1 held by a live session,
** -1 no lock possible (the session then runs unlocked).  A lock file that a
** cleanup unlinked between our open and flock is not ours: retry. */
static int lock_session(const char *id)
{
  char path[4200];
  if (spy_session_lock_path(path, sizeof path, id) != SPY_OK) return -1;
  for (int tries = 0; tries < 16; tries++) {
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return -1;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int e = errno;
      close(fd);
      return e == EWOULDBLOCK ? 1 : -1;
    }
    struct stat a, b;
    if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
      char pid[32];
      int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
      /* The pid is informational.  Written over, then cut to its length: ext4
      ** writes a file truncated to zero out to disk when it is closed, and every
      ** start-up waited for that. */
      if (pwrite(fd, pid, (size_t)n, 0) == n && ftruncate(fd, n) != 0) { /* no matter */ }
      session_fd = fd;
      return 0;
    }
    close(fd);
  }
  return -1;
}

void spy_session_unlock(void)
{
  pthread_mutex_lock(&lock);
  if (session_fd >= 0) {
    char path[4200];
    if (spy_session_lock_path(path, sizeof path, session) == SPY_OK) unlink(path);
    close(session_fd);
    session_fd = -1;
  }
  pthread_mutex_unlock(&lock);
}

int spy_settings_init(spy_err *err)
{
  int rc = SPY_OK;
  pthread_mutex_lock(&lock);
  if (initialised) goto done;

  const char *home = getenv("HOME");
  if (!home || !*home) home = "/tmp";
  const char *env = getenv("SPYDIR");
  if (env && *env) {
    struct stat st;
    if (stat(env, &st) != 0 || !S_ISDIR(st.st_mode) || access(env, R_OK | W_OK | X_OK) != 0) {
      rc = spy_fail(err, SPY_EINVAL,
                    "Environment variable SPYDIR set to non-existent or unreadable "
                    "directory '%s'. Please unset SPYDIR or create the directory.",
                    env);
      goto done;
    }
    snprintf(dir, sizeof dir, "%s", env);
  } else {
    snprintf(dir, sizeof dir, "%s/.spy", home);
  }
  env = getenv("SPYTMPDIR");
  if (env && *env) snprintf(tmpdir, sizeof tmpdir, "%s", env);
  else snprintf(tmpdir, sizeof tmpdir, "%s/tmp_storage", dir);
  env = getenv("SPYLOGDIR");
  if (env && *env) snprintf(logdir, sizeof logdir, "%s", env);
  else snprintf(logdir, sizeof logdir, "%s/logs", dir);

  if ((rc = spy_mkdirs(dir, err)) || (rc = private_dir(tmpdir, err)) ||
      (rc = spy_mkdirs(logdir, err)))
    goto done;

  /* A 4-hex id no running session holds (its lock file is free). */
  for (int tries = 0; tries < 256; tries++) {
    unsigned char r[2];
    if (spy_random_bytes(r, 2) != 0) { r[0] = (unsigned char)getpid(); r[1] = (unsigned char)(getpid() >> 8); }
    snprintf(session, sizeof session, "%02x%02x", r[0], r[1]);
    if (lock_session(session) != 1) break;
  }

  char path[4200];
  snprintf(path, sizeof path, "%s/spy.log", logdir);
  spy_log_set_file(path);

  env = getenv("SPYLOGLEVEL");
  if (env && *env) {
    int lv = spy_log_parse_level(env);
    if (lv < 0)
      spy_log(SPY_LOG_WARNING,
              "Invalid log level set in environment variable 'SPYLOGLEVEL', "
              "ignoring and using IMPORTANT instead. Hint: use one of DEBUG, "
              "INFO, IMPORTANT, WARNING, ERROR");
    else
      spy_log_set_level(lv);
  }
  initialised = 1;
done:
  pthread_mutex_unlock(&lock);
  return rc;
}

const char *spy_dir(void) { return dir; }
const char *spy_tmpdir(void) { return tmpdir; }
const char *spy_logdir(void) { return logdir; }
const char *spy_session_id(void) { return initialised ? session : "----"; }

int spy_tmp_path(char *out, size_t outsz, const char *ext)
{
  unsigned char r[4];
  if (spy_random_bytes(r, 4) != 0) return SPY_EIO;
  int n = snprintf(out, outsz, "%s/spy_%s_%02x%02x%02x%02x%s", tmpdir, session,
                   r[0], r[1], r[2], r[3], ext ? ext : "");
  return (n < 0 || (size_t)n >= outsz) ? SPY_EINVAL : SPY_OK;
}
