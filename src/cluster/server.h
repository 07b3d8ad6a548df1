/*
** The session side of a SLURMCluster: its directory and secret, the
** listening socket and the threads that talk to workers, the Slurm jobs it
** submitted, and the remote executor the scheduler drives (sched.h).
**
** Threads: the caller's (Lua's) thread creates, scales, waits and closes;
** a server thread owns every socket (accept, handshake, heartbeats, reading
** replies, writing queued messages); a monitor thread polls squeue for jobs
** that have not connected and replaces workers that were lost; the proxy
** pool's threads run the executor's compute (one per worker slot).  All
** shared state is under one mutex; nothing blocks while holding it.
**
** Guarantees (docs/internals/cluster.md): every job is cancelled by
** spy_cluster_close, by spy_cluster_cancel_all (atexit, SIGTERM, SIGHUP) or
** by the job's own worker when its session goes away; an unauthenticated or
** malformed connection is refused and logged and never touches a running
** computation; a task whose worker dies is re-run elsewhere, at most three
** times.
**
** Ownership: spy_cluster_new takes over the config's strings;
** spy_cluster_free closes (if needed) and frees.
*/
#ifndef SPY_CLUSTER_SERVER_H
#define SPY_CLUSTER_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "cluster/slurm.h"
#include "sched/sched.h"

typedef struct spy_cluster spy_cluster;

/* Directory (mode 0700) "<local_directory>/spy-cluster-<session>-<id>" with
** the secret (0600), the log directory, the listening socket, the threads.
** No job is submitted yet.  On success *cfg is zeroed (taken over). */
int spy_cluster_new(spy_slurm_config *cfg, spy_cluster **out, spy_err *err);
/* Cancels every job, shuts workers down, joins the threads, removes the
** directory.  Idempotent; the struct stays valid (closed) until freed. */
void spy_cluster_close(spy_cluster *c);
void spy_cluster_free(spy_cluster *c);
bool spy_cluster_closed(const spy_cluster *c);

const char *spy_cluster_address(const spy_cluster *c); /* "tcp://ip:port" */
const char *spy_cluster_id(const spy_cluster *c);      /* 8 hex digits */
/* The user name as it goes into job names and rendezvous files ([A-Za-z0-9._],
** anything else as _). */
void spy_cluster_user_name(char *buf, size_t n);
const char *spy_cluster_dir(const spy_cluster *c);
const spy_slurm_config *spy_cluster_config(const spy_cluster *c);

/* The job script a scale() would submit now. */
int spy_cluster_job_script(spy_cluster *c, char **script, spy_err *err);

/* Asks for n workers: submits ceil(n / processes) jobs in all, or cancels
** surplus ones (never-connected jobs first, newest first). */
int spy_cluster_scale(spy_cluster *c, int n, spy_err *err);

/* dask-jobqueue's adapt: between minimum_jobs and maximum_jobs Slurm jobs.
** A computation starting asks for as many jobs as it has trials for (one
** trial per core), at most maximum_jobs; `wait` seconds after the last
** computation ended the cluster goes back to minimum_jobs (idle jobs are
** cancelled, their workers shut down first).  scale() ends adaptive mode. */
int spy_cluster_adapt(spy_cluster *c, int minimum_jobs, int maximum_jobs, double wait, spy_err *err);

typedef struct spy_cluster_status {
  int workers;       /* connected */
  int threads;       /* their task slots */
  double memory;     /* their memory limits, bytes */
  int requested;     /* workers asked for (jobs x processes) */
  int jobs;          /* live jobs (submitted or running) */
  size_t recv_peak;  /* bytes: the largest receive buffer one connection has held (results
                        stream through it one frame at a time, so it stays near
                        SPY_PROTO_MAX_REPLY whatever the block size) */
} spy_cluster_status;

void spy_cluster_get_status(spy_cluster *c, spy_cluster_status *s);
/* Ids of live jobs (at most max); returns their number. */
size_t spy_cluster_job_ids(spy_cluster *c, long *ids, size_t max);

/*
** Waits until nmin workers are connected.  Every 2 s it logs at INFO
**   3/8 workers available, waiting.. 4s (jobs: 5 PENDING (Resources))
** (kept in the log file whatever the level), every third line at IMPORTANT
** (the default console), and hands the line to the dashboard.  Fails when every job has
** ended without a worker, and after the cluster's timeout with no worker
** (then every job is cancelled); SPY_EINTR on Ctrl-C.
*/
int spy_cluster_wait(spy_cluster *c, int nmin, spy_err *err);

/* The remote executor of the next computation: its pool has one thread per
** requested worker thread (recreated when the request changed). */
spy_remote *spy_cluster_remote(spy_cluster *c, spy_err *err);

/* Workers that others start (in-allocation ranks, ranks.h): n of them with
** `threads` task slots each count as requested (wait, the executor's pool);
** the rendezvous file (may be NULL) is removed when the cluster closes. */
void spy_cluster_expect_external(spy_cluster *c, int n, int threads, const char *rendezvous);

/* "spy-worker-<user>-<session>": the name of every job this session submits. */
void spy_cluster_job_name(char *buf, size_t n);

/* scancel of every live job of every open cluster; removes their
** directories.  Safe at exit (does not join threads). */
void spy_cluster_cancel_all(void);

/* Cancels jobs named "spy-worker-<user>-<id>" whose session <id> is not
** running (its lock is free) and is not this one; their ids in *ids
** (caller frees). */
int spy_cluster_cancel_leftovers(long **ids, size_t *n, spy_err *err);

#endif
