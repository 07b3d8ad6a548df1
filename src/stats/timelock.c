/* spy.timelockanalysis: the trial average, variance and covariance of
** time-locked trials, as one custom reduction on the scheduler, and the
** copy of the selected trials into a TimeLockData. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/interrupt.h"
#include "stats/common.h"

typedef struct tlplan {
  size_t len, nch;
  bool cov;
  double ddof; /* divisor of the covariance: len - ddof */
} tlplan;

/* Covariance over time of one trial x (len x nch), np.cov(x, rowvar=False,
** ddof) : (x - mean)' (x - mean) / (len - ddof).  mean: nch scratch. */
void spy_stat_trial_cov(const double *x, size_t len, size_t nch, double ddof, double *cov,
                        double *mean)
{
  for (size_t c = 0; c < nch; c++)
    mean[c] = 0;
  for (size_t t = 0; t < len; t++)
    for (size_t c = 0; c < nch; c++)
      mean[c] += x[t * nch + c];
  for (size_t c = 0; c < nch; c++)
    mean[c] /= (double)len;
  for (size_t i = 0; i < nch * nch; i++)
    cov[i] = 0;
  for (size_t t = 0; t < len; t++)
    for (size_t a = 0; a < nch; a++) {
      double da = x[t * nch + a] - mean[a];
      for (size_t b = a; b < nch; b++)
        cov[a * nch + b] += da * (x[t * nch + b] - mean[b]);
    }
  double div = (double)len - ddof;
  for (size_t a = 0; a < nch; a++)
    for (size_t b = a; b < nch; b++)
      cov[b * nch + a] = cov[a * nch + b] = cov[a * nch + b] / div;
}

static size_t tl_scratch(const void *plan, size_t nsamp, size_t nchan)
{
  (void)nsamp;
  (void)plan;
  return (nchan + 1) * sizeof(double);
}

/* acc = [sum x (len*nch), sum x^2 (len*nch), cov (nch*nch, with covariance)] */
static int tl_kernel(const void *plan, spy_task *t, spy_err *err)
{
  const tlplan *p = plan;
  size_t n = p->len * p->nch;
  double *acc = t->out;
  const double *x = t->in;
  for (size_t i = 0; i < n; i++) {
    acc[i] = x[i];
    acc[n + i] = x[i] * x[i];
  }
  if (p->cov) spy_stat_trial_cov(x, p->len, p->nch, p->ddof, acc + 2 * n, t->scratch);
  return spy_interrupted() ? spy_fail(err, SPY_EINTR, "interrupted") : SPY_OK;
}

/* Output rows: avg (len), var (len), cov (nch, with covariance). */
static int tl_finalize(const void *plan, const double *acc, size_t ntrials, void *out, spy_err *err)
{
  (void)err;
  const tlplan *p = plan;
  size_t n = p->len * p->nch;
  double *o = out, N = (double)ntrials;
  for (size_t i = 0; i < n; i++) {
    double m = acc[i] / N, v = acc[n + i] / N - m * m;
    o[i] = m;
    o[n + i] = v < 0 ? 0 : v; /* rounding below 0 is clamped; NaN stays NaN as in avg (Syncopy) */
  }
  if (p->cov)
    for (size_t i = 0; i < p->nch * p->nch; i++)
      o[2 * n + i] = acc[2 * n + i] / N;
  return SPY_OK;
}

int spy_timelock_plan(const cJSON *cfg, const spy_trials *tr, spy_op *op, spy_err *err)
{
  if (tr->ntrials == 0) return spy_fail_value(err, "data", "empty", "non-empty data");
  const cJSON *dd = spy_cfg_item(cfg, "ddof");
  double ddof = 1; /* numpy's np.cov default */
  if (dd && !cJSON_IsNull(dd)) {
    if (!cJSON_IsNumber(dd) || dd->valuedouble < 0 || dd->valuedouble != floor(dd->valuedouble)) {
      char actual[64];
      spy_json_brief(dd, actual, sizeof actual);
      return spy_fail_value(err, "ddof", actual, "positive integer value");
    }
    ddof = dd->valuedouble;
  }
  bool cov = spy_cfg_bool(cfg, "covariance", false) && !spy_cfg_bool(cfg, "keeptrials", false);
  size_t len = spy_trial_len(tr, 0);
  for (size_t i = 1; i < tr->ntrials; i++)
    if (spy_trial_len(tr, i) != len)
      return spy_fail_value(err, "trials", NULL, "all trials to have the same shape");
  if (cov && (double)len <= ddof)
    return spy_fail_value(err, "ddof", NULL, "fewer than the %zu samples of a trial", len);
  tlplan *p = calloc(1, sizeof *p);
  op->out_rows = calloc(tr->ntrials, sizeof *op->out_rows);
  op->out_trldef = calloc(3, sizeof *op->out_trldef);
  if (!p || !op->out_rows || !op->out_trldef) {
    free(p);
    return spy_fail(err, SPY_ENOMEM, "out of memory");
  }
  *p = (tlplan){len, tr->nchan, cov, ddof};
  size_t rows = 2 * len + (cov ? tr->nchan : 0);
  op->name = "timelockanalysis";
  op->plan = p;
  op->free_plan = free;
  op->kernel = tl_kernel;
  op->scratch_bytes = tl_scratch;
  op->cls = SPY_ANALOG; /* an intermediate: the binding moves avg/var/cov into the TimeLockData */
  op->out_dtype = SPY_DT_F64;
  op->ntrials = tr->ntrials;
  for (size_t i = 0; i < tr->ntrials; i++)
    op->out_rows[i] = rows;
  op->average = true;
  op->acc_elems = 2 * len * tr->nchan + (cov ? tr->nchan * tr->nchan : 0);
  op->finalize = tl_finalize;
  op->samplerate = tr->samplerate;
  op->out_trldef[1] = (double)rows;
  op->out_trlcols = 3;
  return SPY_OK;
}

int spy_stat_copy_selection(spy_data *in, const spy_selection *sel, spy_dataclass cls, bool f32,
                            spy_data **out, spy_err *err)
{
  *out = NULL;
  size_t rows = 0, maxr = 0, nch = sel->nchan;
  for (size_t i = 0; i < sel->ntrials; i++) {
    rows += sel->nrows[i];
    if (sel->nrows[i] > maxr) maxr = sel->nrows[i];
  }
  bool cplx = spy_dtype_is_complex(in->dtype);
  spy_dtype t = f32 ? (cplx ? SPY_DT_C64 : SPY_DT_F32) : in->dtype;
  spy_data *o = spy_data_new(cls);
  void *buf = malloc((maxr * nch + 1) * spy_dtype_size(in->dtype));
  size_t shape[2] = {rows, nch};
  int rc = (!o || !buf) ? spy_fail(err, SPY_ENOMEM, "out of memory") : SPY_OK;
  if (!rc) rc = spy_data_create(o, t, 2, shape, err);
  size_t row = 0;
  for (size_t i = 0; !rc && i < sel->ntrials; i++) {
    if (spy_interrupted()) rc = spy_fail(err, SPY_EINTR, "interrupted");
    if (!rc)
      rc = spy_data_read(in, sel->row0[i], sel->nrows[i], sel->chans, nch, buf, in->dtype, err);
    if (!rc) rc = spy_data_write(o, row, sel->nrows[i], 0, nch, buf, in->dtype, err);
    row += sel->nrows[i];
  }
  if (!rc && (spy_stat_labels(o, in, sel) ||
              spy_data_set_trldef(o, sel->trldef, sel->ntrials, sel->trlcols)))
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
  if (!rc) {
    spy_stat_inherit(o, in);
    rc = spy_data_sync_meta(o, err);
  }
  free(buf);
  if (rc)
    spy_data_unref(o);
  else
    *out = o;
  return rc;
}
