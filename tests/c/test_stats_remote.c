/*
** Reductions over trials through remote workers without Slurm: a cluster's
** session side in this process and two real `spy --worker` processes
** ($SPY_BIN).  The workers re-plan spy.mean / spy.var and
** spy.timelockanalysis from their cfg (the methods table), ship float64
** accumulator blocks, and the session's in-order sum gives exactly the
** inline numbers.
*/
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cluster/server.h"
#include "core/kwspec.h"
#include "core/progress.h"
#include "core/settings.h"
#include "sched/methods.h"
#include "sched/sched.h"
#include "remote.h"
#include "t.h"

/* bit-exact comparison of two objects' data (as float64) */
static bool identical(spy_data *a, spy_data *b)
{
  size_t n = spy_data_row_elems(a) * a->shape[0], nch = a->shape[a->ndim - 1];
  if (n != spy_data_row_elems(b) * b->shape[0]) return false;
  double *x = malloc(n * 8 + 8), *y = malloc(n * 8 + 8);
  spy_err err = {0};
  CHECK(spy_data_read(a, 0, a->shape[0], NULL, nch, x, SPY_DT_F64, &err) == 0, "%s", err.msg);
  CHECK(spy_data_read(b, 0, b->shape[0], NULL, nch, y, SPY_DT_F64, &err) == 0, "%s", err.msg);
  bool same = memcmp(x, y, n * 8) == 0;
  free(x);
  free(y);
  return same;
}

/* fname over the selection of `in`, remotely and inline: identical results */
static void both_ways(spy_remote *rem, spy_data *in, const char *fname, const char *json)
{
  spy_err err = {0};
  cJSON *sj = cJSON_Parse("{\"trials\":[2,3,5,6,7,9],\"channel\":[4,1]}");
  spy_selection *sel = NULL;
  CHECK(spy_select(in, sj, &sel, &err) == 0, "%s", err.msg);
  cJSON_Delete(sj);
  if (!sel) return;
  spy_trials tr = {sel->ntrials, sel->nchan, in->samplerate, sel->trldef,
                   sel->trlcols, in->dtype,  false};
  cJSON *cfg = t_plan_cfg(fname, json);
  spy_op op = {0}, op2 = {0};
  CHECK(spy_method_plan(fname, cfg, &tr, &op, &err) == 0, "%s", err.msg);
  CHECK(spy_method_plan(fname, cfg, &tr, &op2, &err) == 0, "%s", err.msg);
  spy_computation comp = {fname, cfg, &tr, in->path, sel->row0, sel->chans, sel->nchan};
  spy_runopts ro = {.remote = rem, .comp = &comp, .quiet = true}, inl = {.quiet = true};
  spy_runstats s1 = {0}, s2 = {0};
  spy_data *a = spy_data_new(op.cls), *b = spy_data_new(op.cls);
  CHECK(spy_run(&op, in, sel, a, &ro, &s1, &err) == 0, "remote %s: %s", fname, err.msg);
  CHECK(spy_run(&op2, in, sel, b, &inl, &s2, &err) == 0, "inline %s: %s", fname, err.msg);
  CHECK(s1.ntasks == 6, "%s: one task per trial (%zu)", fname, s1.ntasks);
  CHECK(a->shape[0] == b->shape[0] && a->shape[1] == 2 && identical(a, b),
        "%s: remote and inline results differ", fname);
  free(s1.flagged), free(s2.flagged);
  spy_op_free(&op), spy_op_free(&op2);
  spy_data_unref(a), spy_data_unref(b);
  cJSON_Delete(cfg);
  spy_selection_free(sel);
}

int main(void)
{
  spy_err err = {0};
  const char *exe = t_remote_init("stats_remote");
  if (!exe) return 1;
  spy_slurm_config cfg = t_local_config(exe, "spy-stats-test", 20);
  spy_cluster *c = NULL;
  CHECK(spy_cluster_new(&cfg, &c, &err) == 0, "%s", err.msg);
  if (!c) return t_done();
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", spy_cluster_dir(c));
  pid_t w[2] = {t_start_worker(exe, spy_cluster_address(c), dir, "stats-test", "20"),
                t_start_worker(exe, spy_cluster_address(c), dir, "stats-test", "20")};
  spy_cluster_status s = {0};
  for (int i = 0; i < 600 && s.workers < 2; i++) {
    usleep(50000);
    spy_cluster_get_status(c, &s);
  }
  CHECK(s.workers == 2, "workers connected: %d", s.workers);
  spy_remote *rem = spy_cluster_remote(c, &err);
  CHECK(rem != NULL, "%s", err.msg);

  /* the input: white noise generated inline, 10 trials x 300 samples x 4 channels */
  cJSON *gcfg =
      t_plan_cfg("white_noise", "{\"nTrials\":10,\"nSamples\":300,\"nChannels\":4,\"seed\":5}");
  spy_op gop = {0};
  CHECK(spy_method_plan("white_noise", gcfg, NULL, &gop, &err) == 0, "%s", err.msg);
  spy_data *in = spy_data_new(gop.cls);
  spy_data_default_channels(in, gop.out_nchan);
  spy_runopts inl = {.quiet = true};
  spy_runstats gs = {0};
  CHECK(spy_run(&gop, NULL, NULL, in, &inl, &gs, &err) == 0, "%s", err.msg);
  free(gs.flagged);
  spy_op_free(&gop);
  CHECK(spy_data_flush(in, &err) == 0, "%s", err.msg);

  if (rem) {
    both_ways(rem, in, "mean", "{\"dim\":\"trials\"}");
    both_ways(rem, in, "var", "{\"dim\":\"trials\"}");
    both_ways(rem, in, "timelockanalysis", "{\"covariance\":true,\"ddof\":0}");
  }

  spy_cluster_free(c);
  for (int i = 0; i < 2; i++) {
    int status = -1;
    pid_t p = waitpid(w[i], &status, 0);
    CHECK(p == w[i] && WIFEXITED(status) && WEXITSTATUS(status) == 0, "worker %d exit status %d", i,
          WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  }
  spy_data_unref(in);
  cJSON_Delete(gcfg);
  return t_done();
}
