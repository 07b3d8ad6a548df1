/*
** Helpers of the tests that run real `spy --worker` processes against a
** cluster's session side in the test process (no Slurm).
*/
#ifndef SPY_TEST_REMOTE_H
#define SPY_TEST_REMOTE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cluster/slurm.h"
#include "core/kwspec.h"
#include "core/progress.h"
#include "core/settings.h"
#include "sched/methods.h"
#include "t.h"

/* Starts `exe --worker address` with the secret of the cluster directory dir;
** returns its pid. */
static inline pid_t t_start_worker(const char *exe, const char *address, const char *dir,
                                   const char *name, const char *death_timeout)
{
  char secret[4200];
  snprintf(secret, sizeof secret, "%s/secret", dir);
  pid_t p = fork();
  if (p == 0) {
    execl(exe, exe, "--worker", address, "--secret-file", secret, "--local-directory", dir,
          "--death-timeout", death_timeout, "--name", name, (char *)NULL);
    _exit(127);
  }
  return p;
}

/* The session side of a cluster whose workers the test starts itself
** (one core each, on loopback, in spy's temporary directory). */
static inline spy_slurm_config t_local_config(const char *exe, const char *job_name,
                                              double death_timeout)
{
  spy_slurm_config cfg = {0};
  cfg.cores = cfg.processes = 1;
  cfg.memory = 1e9;
  cfg.local_directory = strdup(spy_tmpdir());
  cfg.interface = strdup("lo");
  cfg.death_timeout = death_timeout;
  cfg.timeout = 60;
  cfg.spy = strdup(exe);
  cfg.job_name = strdup(job_name);
  return cfg;
}

/* The complete cfg of computation fname for the keywords in json. */
static inline cJSON *t_plan_cfg(const char *fname, const char *json)
{
  cJSON *given = cJSON_Parse(json), *cfg = NULL;
  spy_err err = {0};
  CHECK(spy_kw_apply(spy_method_spec(fname), given, &cfg, &err) == 0, "%s: %s", fname, err.msg);
  cJSON_Delete(given);
  return cfg;
}

/* A remote test's start: its own temporary storage under $HOME (tmp_<name>),
** settings read, no progress bars.  Returns the spy binary to start workers
** from ($SPY_BIN), NULL (with a message) when it is not set. */
static inline const char *t_remote_init(const char *name)
{
  spy_err err = {0};
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s/.spy/tmp_%s", getenv("HOME") ? getenv("HOME") : "/tmp", name);
  setenv("SPYTMPDIR", tmp, 1);
  CHECK(spy_settings_init(&err) == 0, "%s", err.msg);
  spy_progress_enable(false);
  const char *exe = getenv("SPY_BIN");
  if (!exe) fprintf(stderr, "SPY_BIN not set\n");
  return exe;
}

#endif
