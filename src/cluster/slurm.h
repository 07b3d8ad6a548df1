/*
** Talking to Slurm: the job script of a worker, sbatch / scancel / squeue /
** sinfo / scontrol run without a shell (argument vectors, never a command
** string), and ESI's partition presets.
**
** Every value that reaches the job script is checked or quoted: #SBATCH
** values may not contain newlines or quotes (and are double-quoted when they
** contain spaces, which sbatch strips), every word of the worker command is
** single-quoted for bash, prologue lines are the user's own shell lines and
** must each be one line.  A bad value is an error naming the option.
*/
#ifndef SPY_SLURM_H
#define SPY_SLURM_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

/* The options of a SLURMCluster (dask-jobqueue's names and meanings). */
typedef struct spy_slurm_config {
  int cores;              /* CPUs per job (--cpus-per-task) */
  double memory;          /* bytes per job (--mem) */
  int processes;          /* worker processes per job; threads = cores / processes */
  char *queue;            /* -p, or NULL */
  char *account;          /* -A, or NULL */
  char *walltime;         /* -t, or NULL for the partition's default */
  char *local_directory;  /* shared folder holding the cluster's directory */
  char *log_directory;    /* -o/-e folder (created) */
  char **job_extra;       /* extra "#SBATCH <item>" lines, verbatim */
  size_t njob_extra;
  char **prologue;        /* shell lines before the worker command */
  size_t nprologue;
  char **skip;            /* generated directives to drop, by option name ("--mem", "-t") */
  size_t nskip;
  char *interface;        /* network interface the session listens on, or NULL */
  int port;               /* 0: any free port */
  double death_timeout;   /* s: a worker without its session exits */
  double timeout;         /* s: wait for a first worker before failing */
  char *spy;              /* the spy executable the jobs run */
  char *job_name;         /* -J; every job of this session carries it */
} spy_slurm_config;

void spy_slurm_config_free(spy_slurm_config *c);

/* dask-jobqueue's default number of processes for `cores` CPUs. */
int spy_slurm_default_processes(int cores);

/* Seconds of a Slurm time limit ("30", "1:30", "00:30:00", "1-12", "1-12:00:00"),
** -1 when it is none of Slurm's formats. */
double spy_slurm_walltime_seconds(const char *t);

/* Slurm's --mem text for bytes: "<n>G" for whole GiB, else MiB rounded up. */
void spy_slurm_format_mem(double bytes, char *buf, size_t n);

/*
** The job script exactly as submitted (caller frees *script).  address is
** "tcp://host:port"; dir is the cluster's directory (secret file, blocks).
*/
int spy_slurm_job_script(const spy_slurm_config *c, const char *address, const char *dir,
                         char **script, spy_err *err);

/*
** Runs argv[0] (searched in PATH) with argv, feeding `input` (may be NULL) on
** stdin; collects stdout and stderr (each truncated at 64 KiB; either
** pointer may be NULL) and kills the command after `seconds`.  Returns its
** exit status (>= 0), or a negative status with err filled when it could not
** run or timed out.
*/
int spy_cmd_run(const char *const argv[], const char *input, double seconds, char **out,
                char **errout, spy_err *err);

/* sbatch --parsable with the script on stdin: the job id, or < 0 with the
** exit code, command, stdout and stderr in err. */
long spy_slurm_submit(const char *script, spy_err *err);
/* scancel of ids (errors ignored: a job may have ended already). */
void spy_slurm_cancel(const long *ids, size_t n);

typedef struct spy_jobinfo {
  long id;
  char state[24];   /* PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, ... or "" = unknown to squeue */
  char reason[48];  /* squeue's %r: Resources, Priority, QOSMaxJobsPerUserLimit, None, ... */
  char name[128];
} spy_jobinfo;

/* squeue -t all for ids: fills states (state "" for jobs squeue no longer knows). */
int spy_slurm_query(spy_jobinfo *jobs, size_t n, spy_err *err);
/* squeue's EndTime ("2026-12-07T10:00:00", the controller's local time) as
** epoch seconds; 0 for "N/A", "Unknown" or anything that is not such a time. */
double spy_slurm_parse_endtime(const char *s);
/* `squeue -h -j <job> -O EndTime`: the job's end in epoch seconds, *end = 0
** when Slurm does not know it (yet). */
int spy_slurm_job_end(const char *job, double *end, spy_err *err);

/* This user's jobs whose name starts with prefix (caller frees *jobs). */
int spy_slurm_user_jobs(const char *prefix, spy_jobinfo **jobs, size_t *n, spy_err *err);

/* sinfo -h -o %P, the default partition's '*' stripped (caller frees with spy_strv_free). */
int spy_slurm_partitions(char ***names, size_t *n, spy_err *err);

typedef struct spy_partition {
  double defmem;    /* DefMemPerCPU in MB (Slurm's MB = MiB), 0 when not set */
  double maxmem;    /* MaxMemPerCPU, 0 when not set */
} spy_partition;

/* Parses one line of `scontrol -o show partition` output. */
void spy_slurm_parse_partition(const char *text, spy_partition *p);
int spy_slurm_partition_info(const char *name, spy_partition *p, spy_err *err);

/*
** ESI presets, as ACME derives them: the partition's memory limit is
** MaxMemPerCPU, else DefMemPerCPU, else the <N>GB<class> name (N * 1000 MB);
** cores default to max(1, DefMemPerCPU / 8000) (8 GB per core; the name's
** memory stands in for DefMemPerCPU when unset); memory defaults to the
** limit, and a request above it is capped with *capped set.  mem_mb <= 0 and
** cores <= 0 mean "auto".  Errors when no limit can be found and none was
** requested.
*/
int spy_esi_resources(const char *partition, const spy_partition *p, double mem_mb, int cores,
                      double *out_mem_mb, int *out_cores, bool *capped, double *limit_mb,
                      spy_err *err);

#endif
