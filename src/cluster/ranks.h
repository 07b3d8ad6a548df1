/*
** In-allocation runs: `srun -n N spy script.lua` (or `spy --ranks N
** script.lua` on one machine) runs the script on rank 0 and makes every
** other rank a worker of rank 0's cluster.
**
** The layout comes from the environment: SPY_RANK / SPY_NRANKS / SPY_RANKS_ID
** (set by `spy --ranks`), else Slurm's SLURM_PROCID / SLURM_NTASKS and
** SLURM_JOB_ID.SLURM_STEP_ID (a job step only: a batch script's own shell,
** which has no step id, is not a rank).  Rendezvous goes through the shared
** directory: rank 0 creates an ordinary cluster (its directory and secret,
** no Slurm jobs) and publishes "<dir>/spy-ranks-<user>-<id>" (mode 0600)
** with its address and the cluster's directory; the other ranks wait for
** that file and then run `spy --worker` against it (the same authenticated
** protocol).  The ranks connect to rank 0, inside the allocation; nothing
** connects to the login node.
**
** <dir> is SPY_RANKS_DIR, else SPYTMPDIR, else <SPYDIR or ~/.spy>/tmp_storage:
** it must be on a filesystem every node of the allocation sees.
*/
#ifndef SPY_RANKS_H
#define SPY_RANKS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

typedef struct spy_ranks {
  int rank, nranks;
  int threads;       /* task slots per worker rank: SLURM_CPUS_PER_TASK, else 1 */
  char id[96];       /* "<job>.<step>" or "local-<pid>" */
  bool slurm;
} spy_ranks;

/* true when this process is one rank of a multi-rank run (nranks > 1). */
bool spy_ranks_detect(spy_ranks *r);

/* "<dir>/spy-ranks-<user>-<id>" */
int spy_ranks_path(const spy_ranks *r, char *buf, size_t n);

/* Rank 0: writes the rendezvous file (atomically, 0600). */
int spy_ranks_publish(const spy_ranks *r, const char *address, const char *clusterdir, spy_err *err);
/* Rank 0: removes it (at close). */
void spy_ranks_unpublish(const spy_ranks *r);

/* Ranks > 0: waits for the rendezvous (at most the death timeout, 60 s, or
** SPY_RANKS_TIMEOUT seconds) and serves as a worker until rank 0's cluster
** shuts it down.  Returns the exit status. */
int spy_ranks_worker_main(const spy_ranks *r, const char *argv0);

/* `spy --ranks N args...`: starts ranks 1..N-1 as `argv0 args...` with
** SPY_RANK/SPY_NRANKS/SPY_RANKS_ID in their environment and sets those for
** this process (rank 0).  Their pids in *pids (caller frees). */
int spy_ranks_launch(int n, char **argv, int **pids, spy_err *err);
/* Waits up to `grace` s for the launched ranks, then SIGTERMs those left. */
void spy_ranks_reap(const int *pids, int n, double grace);

#endif
