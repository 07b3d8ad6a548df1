/*
** FOOOF on remote workers without Slurm (the harness of
** test_cluster_remote.c: a session in this process, two `spy --worker`
** processes): with keeptrials=False the workers ship the trials' power and
** the session fits, so output and metadata equal the inline run exactly;
** with keeptrials=True the fits (and their parameters) would stay on the
** workers, so the run is refused with a message.
*/
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cluster/server.h"
#include "core/kwspec.h"
#include "core/progress.h"
#include "core/settings.h"
#include "data/data.h"
#include "data/selection.h"
#include "sched/methods.h"
#include "remote.h"
#include "t.h"

static double maxdiff(spy_data *a, spy_data *b)
{
  size_t n = spy_data_row_elems(a) * a->shape[0], nch = a->shape[a->ndim - 1];
  double *x = malloc(n * 8 + 8), *y = malloc(n * 8 + 8), m = 0;
  spy_err err = {0};
  CHECK(spy_data_read(a, 0, a->shape[0], NULL, nch, x, SPY_DT_F64, &err) == 0, "%s", err.msg);
  CHECK(spy_data_read(b, 0, b->shape[0], NULL, nch, y, SPY_DT_F64, &err) == 0, "%s", err.msg);
  for (size_t i = 0; i < n; i++) m = fmax(m, fabs(x[i] - y[i]));
  free(x);
  free(y);
  return m;
}

int main(void)
{
  spy_err err = {0};
  const char *exe = t_remote_init("fooof_remote");
  if (!exe) return 1;
  spy_slurm_config cfg = t_local_config(exe, "spy-worker-test", 20);
  spy_cluster *c = NULL;
  CHECK(spy_cluster_new(&cfg, &c, &err) == 0, "%s", err.msg);
  if (!c) return t_done();
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", spy_cluster_dir(c));
  pid_t w[2] = {t_start_worker(exe, spy_cluster_address(c), dir, "fooof-test", "20"),
                t_start_worker(exe, spy_cluster_address(c), dir, "fooof-test", "20")};
  spy_cluster_status s = {0};
  for (int i = 0; i < 600 && s.workers < 2; i++) {
    usleep(50000);
    spy_cluster_get_status(c, &s);
  }
  CHECK(s.workers == 2, "workers connected: %d", s.workers);
  spy_remote *rem = spy_cluster_remote(c, &err);
  CHECK(rem != NULL, "%s", err.msg);

  /* input: red noise made inline */
  cJSON *gcfg = t_plan_cfg("red_noise", "{\"nTrials\":6,\"nSamples\":1000,\"nChannels\":3,"
                                      "\"samplerate\":1000,\"alpha\":0.9,\"seed\":5}");
  spy_op gop = {0};
  CHECK(spy_method_plan("red_noise", gcfg, NULL, &gop, &err) == 0, "%s", err.msg);
  spy_data *in = spy_data_new(gop.cls);
  spy_data_default_channels(in, gop.out_nchan);
  spy_runopts inl = {0};
  inl.quiet = true;
  spy_runstats st = {0};
  CHECK(spy_run(&gop, NULL, NULL, in, &inl, &st, &err) == 0, "generator: %s", err.msg);
  free(st.flagged);
  spy_op_free(&gop);
  CHECK(spy_data_flush(in, &err) == 0, "%s", err.msg);

  cJSON *all = cJSON_Parse("{}");
  spy_selection *sel = NULL;
  CHECK(spy_select(in, all, &sel, &err) == 0, "%s", err.msg);
  spy_trials tr = {sel->ntrials, sel->nchan, in->samplerate, sel->trldef, sel->trlcols, in->dtype,
                   sel->time_selected};
  for (int keep = 0; keep < 2; keep++) {
    cJSON *fcfg = t_plan_cfg("freqanalysis", keep ? "{\"output\":\"fooof\",\"foilim\":[1,100]}"
                                                : "{\"output\":\"fooof\",\"foilim\":[1,100],"
                                                  "\"keeptrials\":false}");
    spy_op op = {0}, op2 = {0};
    CHECK(spy_method_plan("freqanalysis", fcfg, &tr, &op, &err) == 0, "%s", err.msg);
    CHECK(spy_method_plan("freqanalysis", fcfg, &tr, &op2, &err) == 0, "%s", err.msg);
    spy_data *a = spy_data_new(op.cls), *b = spy_data_new(op.cls);
    spy_computation fc = {"freqanalysis", fcfg, &tr, in->path, sel->row0, sel->chans, sel->nchan};
    spy_runopts ro = {0};
    ro.remote = rem;
    ro.comp = &fc;
    ro.quiet = true;
    spy_runstats s1 = {0}, s2 = {0};
    int rc = spy_run(&op, in, sel, a, &ro, &s1, &err);
    if (keep) {
      CHECK(rc == SPY_ENOTSUP && strstr(err.msg, "cannot run on remote workers"),
            "keeptrials remote: %d %s", rc, err.msg);
    } else {
      CHECK(rc == 0, "remote fooof: %s", err.msg);
      CHECK(spy_run(&op2, in, sel, b, &inl, &s2, &err) == 0, "inline fooof: %s", err.msg);
      CHECK(a->ndim == 4 && a->shape[0] == 1 && maxdiff(a, b) == 0, "spectra differ: %g",
            maxdiff(a, b));
      CHECK(a->metadata && cJSON_Compare(a->metadata, b->metadata, 1), "metadata differ");
    }
    free(s1.flagged);
    free(s2.flagged);
    spy_op_free(&op);
    spy_op_free(&op2);
    spy_data_unref(a);
    spy_data_unref(b);
    cJSON_Delete(fcfg);
  }
  spy_selection_free(sel);
  cJSON_Delete(all);
  spy_cluster_free(c);
  for (int i = 0; i < 2; i++) {
    int status = -1;
    pid_t p = waitpid(w[i], &status, 0);
    CHECK(p == w[i] && WIFEXITED(status) && WEXITSTATUS(status) == 0, "worker %d exit", i);
  }
  spy_data_unref(in);
  cJSON_Delete(gcfg);
  return t_done();
}
