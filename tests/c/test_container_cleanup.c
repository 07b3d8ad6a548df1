/*
** spy.cleanup: spy_* entries of sessions that are not running go, with
** their sizes reported; entries of running sessions (this one, and another
** process holding its session lock) and files some process holds open stay;
** spy_cleanup_session removes this session's entries and lock at exit.
*/
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/settings.h"
#include "io/cleanup.h"
#include "t.h"

static char path_buf[8][4200];

static const char *tmp(int slot, const char *name)
{
  snprintf(path_buf[slot], sizeof path_buf[slot], "%s/%s", spy_tmpdir(), name);
  return path_buf[slot];
}

static void make_file(const char *path, size_t bytes)
{
  FILE *f = fopen(path, "wb");
  for (size_t i = 0; f && i < bytes; i++) fputc('x', f);
  if (f) fclose(f);
}

static bool exists(const char *path) { return access(path, F_OK) == 0; }

/* A process that holds session q002's lock until told to go. */
static pid_t live_session(int *release)
{
  int ready[2], go[2];
  if (pipe(ready) || pipe(go)) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    close(go[1]); /* so that the parent's close gives EOF */
    close(ready[0]);
    char path[4200];
    spy_session_lock_path(path, sizeof path, "q002");
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    flock(fd, LOCK_EX);
    if (write(ready[1], "r", 1) != 1) _exit(1);
    char c;
    if (read(go[0], &c, 1) < 0) _exit(1);
    _exit(0);
  }
  char c;
  if (read(ready[0], &c, 1) != 1) return -1;
  close(ready[0]);
  close(ready[1]);
  close(go[0]);
  *release = go[1];
  return pid;
}

int main(void)
{
  spy_err err = {0};
  if (getenv("SPYDIR")) spy_mkdirs(getenv("SPYDIR"), NULL);
  if (spy_settings_init(&err) != SPY_OK) {
    fprintf(stderr, "settings: %s\n", err.msg);
    return 1;
  }
  char own_lock[4200], mine[256];
  spy_session_lock_path(own_lock, sizeof own_lock, spy_session_id());
  CHECK(exists(own_lock), "this session holds its lock file %s", own_lock);

  /* a clean slate: earlier runs may have left entries */
  spy_cleanup_report rep;
  CHECK(spy_cleanup(false, &rep, &err) == SPY_OK, "cleanup: %s", err.msg);

  /* session q001 is gone (stale lock file, nobody holds it) */
  make_file(tmp(0, "spy_q001_00000001.analog"), 1000);
  mkdir(tmp(1, "spy_q001_00000002"), 0755);
  make_file(tmp(2, "spy_q001_00000002/0.h5"), 500);
  make_file(tmp(3, ".session_q001.lock"), 0);
  /* session q002 runs in another process */
  int release = -1;
  pid_t child = live_session(&release);
  CHECK(child > 0, "fork");
  make_file(tmp(4, "spy_q002_00000003.analog"), 300);
  /* ours */
  snprintf(mine, sizeof mine, "spy_%s_00000004.spectral", spy_session_id());
  make_file(tmp(5, mine), 200);
  /* not spy's, and a dangling-looking file someone has open */
  make_file(tmp(6, "notes.txt"), 10);
  make_file(tmp(7, "spy_q003_00000005.analog"), 70);
  int held = open(path_buf[7], O_RDONLY);

  CHECK(spy_cleanup(true, &rep, &err) == SPY_OK, "dry run: %s", err.msg);
  CHECK(rep.nremoved == 2 && rep.bytes == 1500 && rep.nlive == 3,
        "dry run finds q001's two entries (1500 bytes), keeps 3: %zu %llu %zu", rep.nremoved,
        (unsigned long long)rep.bytes, rep.nlive);
  CHECK(exists(path_buf[0]) && exists(path_buf[2]), "dry run removes nothing");

  CHECK(spy_cleanup(false, &rep, &err) == SPY_OK, "cleanup: %s", err.msg);
  CHECK(rep.nremoved == 2 && rep.bytes == 1500, "removed %zu entries, %llu bytes", rep.nremoved,
        (unsigned long long)rep.bytes);
  CHECK(!exists(path_buf[0]) && !exists(path_buf[1]) && !exists(path_buf[3]),
        "q001's file, folder and lock are gone");
  CHECK(exists(path_buf[4]), "the running session's file stays");
  CHECK(exists(path_buf[5]), "this session's file stays");
  CHECK(exists(path_buf[6]), "other files stay");
  CHECK(exists(path_buf[7]), "an open file stays");
  CHECK(exists(own_lock), "our lock stays");

  /* the other session ends: its file is dangling now */
  if (release >= 0) close(release);
  if (child > 0) waitpid(child, NULL, 0);
  close(held);
  CHECK(spy_cleanup(false, &rep, &err) == SPY_OK, "cleanup: %s", err.msg);
  CHECK(rep.nremoved == 2 && rep.bytes == 370, "q002 and q003 removed: %zu %llu", rep.nremoved,
        (unsigned long long)rep.bytes);
  CHECK(!exists(path_buf[4]) && !exists(path_buf[7]), "gone");

  /* at exit this session's entries and lock go */
  spy_cleanup_session();
  CHECK(!exists(path_buf[5]), "own entry removed at exit");
  CHECK(!exists(own_lock), "own lock removed at exit");
  spy_cleanup_session();
  unlink(path_buf[6]);
  return t_done();
}
