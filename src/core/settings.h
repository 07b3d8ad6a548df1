/*
** Session settings, as Syncopy's (syncopy.md 11.4):
**   SPYDIR     base folder, default ~/.spy (must exist when set)
**   SPYTMPDIR  temporary storage, default <SPYDIR>/tmp_storage
**   SPYLOGDIR  log folder, default <SPYDIR>/logs
**   SPYLOGLEVEL console/file log level, default IMPORTANT
** spy_settings_init() reads them once, creates the folders and draws the
** 4-hex session id; the strings it returns live until exit.
*/
#ifndef SPY_SETTINGS_H
#define SPY_SETTINGS_H

#include "core/err.h"

int spy_settings_init(spy_err *err);
const char *spy_dir(void);
const char *spy_tmpdir(void);
const char *spy_logdir(void);
const char *spy_session_id(void);

/*
** Session liveness: a running session holds an flock on
** "<SPYTMPDIR>/.session_<id>.lock" (taken by spy_settings_init, which draws
** ids until it finds one no running session holds).  spy_cleanup treats
** spy_<id>_* entries whose lock is free as dangling.
*/
int spy_session_lock_path(char *out, size_t n, const char *id);
/* Releases and removes this session's lock file (at exit). */
void spy_session_unlock(void);

/* A fresh temporary path "<SPYTMPDIR>/spy_<session>_<8 hex><ext>". */
int spy_tmp_path(char *out, size_t outsz, const char *ext);

/* mkdir -p; 0 on success. */
int spy_mkdirs(const char *path, spy_err *err);

/* Fills buf with n random bytes from the OS. */
int spy_random_bytes(void *buf, size_t n);

#endif
