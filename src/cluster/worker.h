/*
** A remote worker: `spy --worker <address> [options]`, what a SLURMCluster's
** jobs run.  Plain C, no Lua: it connects to the session, authenticates with
** the cluster's secret, and serves tasks.  Each task names a computation (its
** function name and complete cfg, planned here with the same validation
** code the session ran: spy_kw_apply then spy_method_plan) and a slice; the
** worker reads the slice from the input file, runs the kernel and sends the
** block back over its connection (BLOCK frames, then RESULT; proto.h).
**
** It never runs forever: it exits when the session closes the connection,
** sends SHUTDOWN, or is silent for --death-timeout seconds (also while
** trying to connect at start), and on SIGTERM (scancel, walltime).
**
** Options (after --worker <address>):
**   --secret-file F       the cluster's secret (0600), required
**   --local-directory D   the cluster's directory (job scripts pass it; nothing is
**                         written there: results travel over the connection)
**   --nthreads N          tasks run at once (default 1)
**   --nworkers P          worker processes (default 1; P connections)
**   --memory-limit B      bytes, reported to the session
**   --death-timeout S     default 60
**   --walltime S          the job's time limit (its end: SLURM_JOB_END_TIME, else
**                         start + S, else squeue's EndTime of SLURM_JOB_ID)
**   --name NAME           default <SLURM_JOB_NAME>-<SLURM_JOB_ID>, or spy-worker-<pid>
*/
#ifndef SPY_WORKER_H
#define SPY_WORKER_H

/* argv[0] is the program, argv[1] "--worker".  Returns the exit status. */
int spy_worker_main(int argc, char **argv);

#endif
