/*
** The session's live state, as the dashboard and spy.status() show it: the
** current computation and its progress, the workers (threads of a
** LocalCluster, Slurm workers), the Slurm jobs without a worker (state and
** pending reason), a ring buffer of recent tasks per worker and one of
** recent log lines.  The scheduler and the cluster code feed it with small
** calls; readers take a snapshot (JSON or text).
**
** Cost: every call takes one uncontended mutex for a few stores (no
** allocation, no I/O, no logging); a task costs two calls.  Readers never
** hold the lock longer than it takes to copy the state out, and nothing
** here waits for a reader.  Strings are copied (truncated to the fields'
** sizes); callers keep ownership of what they pass.
**
** Workers are numbered by this module (ids from 1, never reused in a
** session).  A worker belongs to a group (a LocalCluster or a SLURMCluster):
** closing the group marks its workers gone and forgets its jobs.
*/
#ifndef SPY_DASH_EVENTS_H
#define SPY_DASH_EVENTS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- computations (the scheduler, main thread) ---- */
void spy_ev_comp_begin(const char *name, size_t ntasks, int nworkers);
void spy_ev_comp_progress(size_t done);
/* status: 0 ok, SPY_EINTR interrupted, other < 0 failed */
void spy_ev_comp_end(int status);

/* ---- workers ---- */
/* Returns the worker's id (> 0), or 0 when the table is full (then task
** calls with id 0 are ignored).  job <= 0: no Slurm job; log may be NULL. */
int spy_ev_worker_add(const char *group, const char *name, const char *host, long job,
                      int nthreads, double memory, const char *log);
void spy_ev_worker_gone(int id, const char *why);
/* Marks every worker of the group gone and forgets its jobs. */
void spy_ev_group_close(const char *group);

/* A pool's threads as workers "<group>-<k>" (a LocalCluster); the scheduler
** finds them by the pool pointer.  Returns the id of thread 0 (the others
** follow), 0 when full. */
int spy_ev_pool_add(const char *group, const void *pool, int nthreads, double memory_per_thread);
/* The worker id of a pool's thread 0; 0 for unknown pools and for NULL (the
** inline executor: its computations show, not as a worker). */
int spy_ev_pool_base(const void *pool);

/* Task handles: 0 means "not recorded". */
uint64_t spy_ev_task_begin(int worker, size_t trial, size_t chan0, size_t nchan, size_t nchan_all);
/* status: 0 done, SPY_EINTR / 1 cancelled, other failed */
void spy_ev_task_end(uint64_t handle, int status);

/* ---- Slurm jobs (by id) ---- */
void spy_ev_job(const char *group, long id, const char *state, const char *reason, const char *log);
/* "3/8 workers available, waiting.. 4s (jobs: ...)"; NULL: no longer waiting */
void spy_ev_waiting(const char *line);

/* ---- log lines (level >= INFO) ---- */
void spy_ev_log(int level, const char *msg);

/* ---- readers ---- */
/* Changes on every update (readers poll it to decide whether to resend). */
uint64_t spy_ev_version(void);
/* The documented status document (docs/internals/dashboard.md); caller frees. */
cJSON *spy_ev_snapshot(void);
/* One worker's record plus its tasks and the tail of its log file (last
** `tail` bytes); NULL when unknown.  Caller frees. */
cJSON *spy_ev_worker_info(int id, size_t tail);
/* spy.status(): the snapshot as text lines (caller frees). */
char *spy_ev_status_text(const char *link);

#endif
