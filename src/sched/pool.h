/*
** A fixed pool of worker threads (the engine of spy.LocalCluster): one FIFO
** guarded by a mutex and a condition variable, jobs with a `run` callback
** that runs unlocked on a pool thread and receives the worker's index
** (0..n-1, for per-worker buffers).  Completion is the submitter's business
** (the scheduler keeps its own completion queue); no job calls back into the
** pool.  spy_pool_free waits for queued jobs to finish and joins the threads.
*/
#ifndef SPY_POOL_H
#define SPY_POOL_H

#include "core/err.h"

typedef struct spy_pool spy_pool;

spy_pool *spy_pool_new(int nthreads, spy_err *err);
void spy_pool_free(spy_pool *p);
int spy_pool_size(const spy_pool *p);
int spy_pool_submit(spy_pool *p, void (*run)(void *arg, int worker), void *arg);

#endif
