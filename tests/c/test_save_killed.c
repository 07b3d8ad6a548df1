/*
** Temporary storage is private and killed saves leave nothing for good
** (issue #10): SPYTMPDIR is mode 0700 and a session's data files 0600; a
** session killed in the middle of spy.save leaves full-size hidden
** temporaries in the destination folder, which the next spy.cleanup()
** removes once that session is dead -- and only then.
*/
#include <dirent.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/settings.h"
#include "io/cleanup.h"
#include "io/container.h"
#include "io/h5.h"
#include "t.h"

static char dest[4200];

/* Hidden temporaries (".*.tmp") in dir, and their bytes. */
static size_t hidden_tmps(const char *dir, size_t *bytes)
{
  DIR *d = opendir(dir);
  size_t n = 0;
  *bytes = 0;
  for (struct dirent *e; d && (e = readdir(d));) {
    size_t k = strlen(e->d_name);
    if (e->d_name[0] != '.' || k < 5 || strcmp(e->d_name + k - 4, ".tmp") != 0) continue;
    char p[4500];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    if (stat(p, &st) == 0) *bytes += (size_t)st.st_size;
    n++;
  }
  if (d) closedir(d);
  return n;
}

static int die_at_info(const char *step)
{
  if (strcmp(step, "info") == 0) raise(SIGKILL); /* after both temporaries are written */
  return 0;
}

/* A session of its own that gets killed while saving into dest. */
static int killed_save(void)
{
  pid_t pid = fork();
  if (pid == 0) {
    spy_err err = {0};
    if (spy_settings_init(&err) != SPY_OK) _exit(2);
    spy_h5_init();
    spy_loaded l;
    if (spy_load(t_data("analog_ref.spy"), NULL, &l, &err) != SPY_OK || l.n != 1) _exit(3);
    spy_save_fault_hook = die_at_info;
    spy_save_opts o = {.container = dest};
    spy_save(l.objs[0], &o, &err);
    _exit(4); /* not reached */
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL ? 0 : -1;
}

int main(void)
{
  spy_err err = {0};
  if (getenv("SPYDIR")) spy_mkdirs(getenv("SPYDIR"), NULL);
  const char *spydir = getenv("SPYDIR") ? getenv("SPYDIR") : ".";
  snprintf(dest, sizeof dest, "%s/killed_%ld.spy", spydir, (long)getpid());

  /* before this process has a session: another one is killed mid-save */
  CHECK(killed_save() == 0, "the saving session was killed at the 'info' step");
  size_t bytes = 0;
  CHECK(hidden_tmps(dest, &bytes) == 2 && bytes > 100000,
        "it left its two temporaries (%zu bytes) in %s", bytes, dest);

  if (spy_settings_init(&err) != SPY_OK) {
    fprintf(stderr, "settings: %s\n", err.msg);
    return 1;
  }
  spy_h5_init();
  struct stat st;
  CHECK(stat(spy_tmpdir(), &st) == 0 && (st.st_mode & 0777) == 0700, "SPYTMPDIR mode %o",
        (unsigned)(st.st_mode & 0777));

  /* a temporary data file of this session: owner only */
  spy_data *d = spy_data_new(SPY_ANALOG);
  size_t shape[2] = {10, 2};
  CHECK(d && spy_data_create(d, SPY_DT_F32, 2, shape, &err) == SPY_OK, "%s", err.msg);
  CHECK(d && d->path && stat(d->path, &st) == 0 && (st.st_mode & 0777) == 0600,
        "temporary data file mode %o", (unsigned)(st.st_mode & 0777));
  spy_data_unref(d);

  spy_cleanup_report rep;
  CHECK(spy_cleanup(true, &rep, &err) == SPY_OK && rep.bytes >= bytes, "dry run: %s", err.msg);
  CHECK(hidden_tmps(dest, &bytes) == 2, "a dry run removes nothing");
  CHECK(spy_cleanup(false, &rep, &err) == SPY_OK, "cleanup: %s", err.msg);
  CHECK(hidden_tmps(dest, &bytes) == 0, "the dead session's save temporaries are gone");

  /* a save of this (live) session is journaled too, but never touched */
  spy_loaded l;
  CHECK(spy_load(t_data("analog_ref.spy"), NULL, &l, &err) == SPY_OK, "%s", err.msg);
  spy_save_opts o = {.container = dest};
  CHECK(l.n == 1 && spy_save(l.objs[0], &o, &err) == SPY_OK, "a save after cleanup: %s", err.msg);
  spy_loaded_free(&l);
  CHECK(hidden_tmps(dest, &bytes) == 0, "a finished save leaves no temporaries");

  char cmd[4400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dest);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dest);
  spy_cleanup_session();
  return t_done();
}
