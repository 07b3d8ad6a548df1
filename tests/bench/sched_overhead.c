/*
** The scheduler's own cost per task: an op whose kernel does nothing runs
** over many one-sample trials, inline and on 1 and 2 threads; the time per
** task includes reading the slice and writing the result (HDF5 hyperslab
** calls under the io lock), dispatch, completion and progress bookkeeping.
** Prints microseconds per task.  Asserts nothing.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/progress.h"
#include "core/settings.h"
#include "data/data.h"
#include "data/selection.h"
#include "sched/sched.h"

static int noop(const void *plan, spy_task *t, spy_err *err)
{
  (void)plan, (void)t, (void)err;
  return SPY_OK;
}

int main(int argc, char **argv)
{
  size_t ntr = argc > 1 ? (size_t)atol(argv[1]) : 20000;
  spy_err err = {0};
  if (spy_settings_init(&err)) return fprintf(stderr, "%s\n", err.msg), 1;
  spy_data *in = spy_data_new(SPY_ANALOG);
  size_t shape[2] = {ntr, 1};
  spy_data_create(in, SPY_DT_F32, 2, shape, &err);
  double *trl = malloc(ntr * 3 * sizeof *trl);
  for (size_t k = 0; k < ntr; k++) trl[3 * k] = (double)k, trl[3 * k + 1] = (double)k + 1, trl[3 * k + 2] = 0;
  spy_data_set_trldef(in, trl, ntr, 3);
  spy_data_default_channels(in, 1);
  in->samplerate = 1;
  spy_data_sync_meta(in, &err);
  spy_selection *s = NULL;
  spy_select(in, NULL, &s, &err);

  spy_op op = {0};
  op.name = "noop";
  op.kernel = noop;
  op.chan_independent = true;
  op.cls = SPY_ANALOG;
  op.out_dtype = SPY_DT_F32;
  op.ntrials = ntr;
  op.out_rows = malloc(ntr * sizeof *op.out_rows);
  for (size_t k = 0; k < ntr; k++) op.out_rows[k] = 1;
  op.samplerate = 1;
  op.out_trlcols = 3;
  op.out_trldef = trl;

  int threads[] = {0, 1, 2};
  for (int i = 0; i < 3; i++) {
    spy_pool *pool = threads[i] ? spy_pool_new(threads[i], &err) : NULL;
    spy_runopts o = {.pool = pool, .quiet = true};
    spy_runstats st;
    spy_data *out = spy_data_new(SPY_ANALOG);
    double t0 = spy_now();
    int rc = spy_run(&op, in, s, out, &o, &st, &err);
    double dt = spy_now() - t0;
    if (rc) fprintf(stderr, "%s\n", err.msg);
    printf("overhead %s %.2f us/task (%zu tasks)\n", threads[i] ? (threads[i] == 1 ? "1thread" : "2threads") : "inline",
           1e6 * dt / (double)ntr, ntr);
    free(st.flagged);
    spy_data_unref(out);
    spy_pool_free(pool);
  }
  free(op.out_rows);
  spy_selection_free(s);
  spy_data_unref(in);
  free(trl);
  return 0;
}
