/*
** Temporary storage maintenance (spy.cleanup, syncopy.md 10).
**
** Every backing file of an unsaved object lives in SPYTMPDIR as
** spy_<session>_<8 hex><ext> (a folder of that name for split outputs).
** A session is live while it holds the flock on its lock file (see
** core/settings.h).  An entry is dangling when its session is not live and
** no process of this machine has it open (the second rule protects files
** of sessions without a lock, e.g. Syncopy's own, sharing the folder).
*/
#ifndef SPY_CLEANUP_H
#define SPY_CLEANUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct spy_cleanup_report {
  size_t nremoved; /* dangling spy_* entries removed (or found, in a dry run) */
  uint64_t bytes;  /* their size: files, and folders recursively */
  size_t nlive;    /* entries kept because a running session owns them */
} spy_cleanup_report;

/* Removes the dangling entries of SPYTMPDIR and the lock files of dead
** sessions; with dry_run only counts them. */
int spy_cleanup(bool dry_run, spy_cleanup_report *rep, spy_err *err);

/* Removes this session's spy_<id>_* entries and releases its lock: the
** shell and the module call it at exit (atexit-safe, idempotent). */
void spy_cleanup_session(void);

#endif
