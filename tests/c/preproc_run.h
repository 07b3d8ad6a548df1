/*
** Test helpers for the preprocessing/resampling tests: plan from keywords
** as Lua passes them, expect a plan's error text, and run an op's kernel
** over every trial of a time x channel array, as the scheduler would
** (one task per trial, all channels, scratch of op->scratch_bytes),
** returning the stacked output as doubles (complex outputs as re, im pairs).
*/
#ifndef SPY_PREPROC_RUN_H
#define SPY_PREPROC_RUN_H

#include <complex.h>
#include <stdlib.h>
#include <string.h>

#include "core/kwspec.h"
#include "dsp/fft.h"
#include "sched/op.h"
#include "t.h"

typedef int (*pp_plan_fn)(const cJSON *, const spy_trials *, spy_op *, spy_err *);

/* Plans keywords given as JSON, validated against spec first (as the
** binding does); returns the status.  op is zeroed when validation fails. */
static inline int pp_plan(const spy_funcspec *spec, pp_plan_fn fn, const char *json,
                          const spy_trials *in, spy_op *op, spy_err *err)
{
  cJSON *kw = cJSON_Parse(json), *cfg = NULL;
  int rc = spy_kw_apply(spec, kw, &cfg, err);
  if (rc == 0) rc = fn(cfg, in, op, err);
  else memset(op, 0, sizeof *op);
  cJSON_Delete(kw);
  cJSON_Delete(cfg);
  return rc;
}

/* Planning json fails with exactly msg. */
#define PP_EXPECT_ERROR(spec, fn, json, in, want)                                                  \
  do {                                                                                             \
    spy_op op_;                                                                                    \
    spy_err e_ = {0};                                                                              \
    int rc_ = pp_plan(spec, fn, json, in, &op_, &e_);                                              \
    CHECK(rc_ != 0 && strcmp(e_.msg, want) == 0, "%s\n  got:  %s\n  want: %s", json, e_.msg,      \
          want);                                                                                   \
    spy_op_free(&op_);                                                                             \
  } while (0)

/* x: all trials stacked (sum of trial lengths) x nchan.  Returns malloc'd
** output (rows summed over trials) x nchan x (complex ? 2 : 1); *rows gets
** the total; *flags the OR of task flags; per-trial flags into tflags when
** not NULL.  NULL and err filled when a kernel fails. */
static inline double *pp_run(const spy_op *op, const spy_trials *in, const double *x,
                             size_t *rows, unsigned *flags, unsigned *tflags, spy_err *err)
{
  size_t C = in->nchan, total = 0, off_in = 0, off_out = 0;
  for (size_t k = 0; k < in->ntrials; k++) total += op->out_rows[k];
  int cplx = op->out_dtype == SPY_DT_C64;
  double *res = malloc((total ? total : 1) * C * (cplx ? 2 : 1) * sizeof *res);
  *flags = 0;
  for (size_t k = 0; k < in->ntrials; k++) {
    size_t n = spy_trial_len(in, k), r = op->out_rows[k];
    size_t es = spy_dtype_size(op->out_dtype);
    void *out = malloc((r ? r : 1) * C * es);
    void *scr = spy_fft_alloc(op->scratch_bytes(op->plan, n, C));
    spy_task t = {k, 0, C, x + off_in * C, n, out, r, scr, 0};
    int rc = op->kernel(op->plan, &t, err);
    spy_fft_free(scr);
    if (rc) {
      free(out);
      free(res);
      return NULL;
    }
    for (size_t i = 0; i < r * C; i++) {
      double *d = res + (off_out * C + i) * (cplx ? 2 : 1);
      if (op->out_dtype == SPY_DT_F32) d[0] = ((float *)out)[i];
      else if (op->out_dtype == SPY_DT_F64) d[0] = ((double *)out)[i];
      else {
        d[0] = crealf(((float complex *)out)[i]);
        d[1] = cimagf(((float complex *)out)[i]);
      }
    }
    free(out);
    *flags |= t.flags;
    if (tflags) tflags[k] = t.flags;
    off_in += n;
    off_out += r;
  }
  *rows = total;
  return res;
}

#endif
