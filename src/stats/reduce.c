/* spy.mean / std / var / median along an axis or over trials, and spy.itc. */
#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/interrupt.h"
#include "stats/common.h"

const char *spy_stat_name(spy_stat_kind k)
{
  static const char *const names[] = {"mean", "std", "var", "median"};
  return k <= SPY_STAT_MEDIAN ? names[k] : "?";
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* The NaN-ignoring statistic of v[0..n) with stride (in doubles); tmp holds
** n doubles (median).  Complex values are (re, im) pairs; y gets 1 or 2
** doubles (mean of complex data is complex, var/std real). */
static void stat_of(spy_stat_kind k, const double *v, size_t n, size_t stride, bool cplx,
                    double *tmp, double *y)
{
  size_t cnt = 0;
  if (k == SPY_STAT_MEDIAN) { /* real only (checked by the callers) */
    for (size_t i = 0; i < n; i++)
      if (!isnan(v[i * stride])) tmp[cnt++] = v[i * stride];
    if (cnt == 0) {
      y[0] = NAN;
      return;
    }
    qsort(tmp, cnt, sizeof *tmp, cmp_double);
    y[0] = cnt % 2 ? tmp[cnt / 2] : 0.5 * (tmp[cnt / 2 - 1] + tmp[cnt / 2]);
    return;
  }
  double sr = 0, si = 0;
  for (size_t i = 0; i < n; i++) {
    const double *p = v + i * stride;
    if (isnan(p[0]) || (cplx && isnan(p[1]))) continue;
    sr += p[0];
    if (cplx) si += p[1];
    cnt++;
  }
  double mr = cnt ? sr / (double)cnt : NAN, mi = cnt ? si / (double)cnt : NAN;
  if (k == SPY_STAT_MEAN) {
    y[0] = mr;
    if (cplx) y[1] = mi;
    return;
  }
  double ss = 0;
  for (size_t i = 0; i < n; i++) {
    const double *p = v + i * stride;
    if (isnan(p[0]) || (cplx && isnan(p[1]))) continue;
    double dr = p[0] - mr, di = cplx ? p[1] - mi : 0;
    ss += dr * dr + di * di;
  }
  double var = cnt ? ss / (double)cnt : NAN;
  y[0] = k == SPY_STAT_STD ? sqrt(var) : var;
}

/* ---- along a dimord axis ---------------------------------------------------- */

int spy_stat_dim(spy_data *in, const spy_selection *sel, spy_stat_kind k, int axis, bool keeptrials,
                 spy_data **out, spy_err *err)
{
  *out = NULL;
  bool cplx = spy_dtype_is_complex(in->dtype), cplx_out = cplx && k == SPY_STAT_MEAN;
  if (cplx && k == SPY_STAT_MEDIAN)
    return spy_fail_value(err, "data", spy_dtype_name(in->dtype),
                          "real-valued data for the median (complex numbers have no order)");
  size_t ntr = sel->ntrials, w = cplx ? 2 : 1, wo = cplx_out ? 2 : 1;
  if (!keeptrials && axis != 0) {
    int rc = spy_stat_equal_trials(sel, err);
    if (rc) {
      spy_err_prefix(err, "keeptrials=false averages the per-trial results");
      return rc;
    }
  }
  size_t maxel = 0, maxraw = 0, maxlen = 0;
  for (size_t i = 0; i < ntr; i++) {
    size_t e = spy_stat_block_elems(in, sel, i), r = spy_stat_raw_elems(in, sel, i), dims[4];
    spy_stat_block_dims(in, sel, i, dims);
    if (e > maxel) maxel = e;
    if (r > maxraw) maxraw = r;
    if (dims[axis] > maxlen) maxlen = dims[axis];
  }
  size_t dims[4];
  int nd = spy_stat_block_dims(in, sel, 0, dims);
  /* output geometry */
  size_t orows = 0;
  for (size_t i = 0; i < ntr; i++)
    orows += axis == 0 ? 1 : sel->nrows[i];
  if (!keeptrials) orows = axis == 0 ? 1 : sel->nrows[0];
  size_t oshape[4];
  memcpy(oshape, dims, sizeof oshape);
  oshape[0] = orows;
  if (axis > 0) oshape[axis] = 1;
  size_t cols = sel->trlcols;
  double *trl = calloc((ntr ? ntr : 1) * cols, sizeof *trl);
  double *x = malloc((maxel ? maxel : 1) * w * sizeof *x);
  double *raw = malloc((maxraw ? maxraw : 1) * w * sizeof *raw);
  double *y = malloc((maxel ? maxel : 1) * wo * sizeof *y);
  double *acc = keeptrials ? NULL : calloc((maxel ? maxel : 1) * wo, sizeof *acc);
  double *tmp = malloc((maxlen ? maxlen : 1) * sizeof *tmp);
  spy_data *o = spy_data_new(in->cls);
  int rc = SPY_OK;
  if (!trl || !x || !raw || !y || (!keeptrials && !acc) || !tmp || !o) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto exit;
  }
  if ((rc = spy_data_create(o, spy_stat_out_dtype(in->dtype, cplx_out), nd, oshape, err)))
    goto exit;
  size_t row = 0, ny = 0;
  for (size_t i = 0; i < ntr; i++) {
    if (spy_interrupted()) {
      rc = spy_fail(err, SPY_EINTR, "interrupted");
      goto exit;
    }
    spy_stat_block_dims(in, sel, i, dims);
    if ((rc = spy_stat_read_block(in, sel, i, cplx, x, raw, err))) goto exit;
    size_t outer = 1, inner = 1, len = dims[axis];
    for (int a = 0; a < axis; a++)
      outer *= dims[a];
    for (int a = axis + 1; a < nd; a++)
      inner *= dims[a];
    for (size_t p = 0; p < outer; p++)
      for (size_t q = 0; q < inner; q++)
        stat_of(k, x + (p * len * inner + q) * w, len, inner * w, cplx, tmp,
                y + (p * inner + q) * wo);
    ny = outer * inner;
    size_t nrow = axis == 0 ? 1 : dims[0];
    const double *src = sel->trldef + i * cols;
    double *t = trl + i * cols;
    memcpy(t, src, cols * sizeof *t);
    if (axis == 0) t[0] = (double)i, t[1] = (double)i + 1, t[2] = 0;
    if (keeptrials) {
      if ((rc = spy_data_write(o, row, nrow, 0, oshape[nd - 1], y,
                               cplx_out ? SPY_DT_C128 : SPY_DT_F64, err)))
        goto exit;
      row += nrow;
    } else {
      for (size_t e = 0; e < ny * wo; e++)
        acc[e] += y[e];
    }
  }
  if (!keeptrials) {
    for (size_t e = 0; e < ny * wo; e++)
      y[e] = acc[e] / (double)ntr;
    if ((rc = spy_data_write(o, 0, oshape[0], 0, oshape[nd - 1], y,
                             cplx_out ? SPY_DT_C128 : SPY_DT_F64, err)))
      goto exit;
    if (axis == 0)
      trl[0] = 0, trl[1] = 1, trl[2] = 0;
    else
      trl[0] = 0, trl[1] = (double)sel->nrows[0];
  }
  if (spy_stat_labels(o, in, sel) || spy_data_set_trldef(o, trl, keeptrials ? ntr : 1, cols)) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto exit;
  }
  /* the reduced axis: its label is the operation (channel, taper) or 0 (freq) */
  const char *dimname = spy_dataclass_dimord(in->cls)[axis];
  const char *opname = spy_stat_name(k);
  double zero = 0;
  if (strcmp(dimname, "freq") == 0)
    rc = spy_data_set_freq(o, &zero, 1);
  else if (strcmp(dimname, "taper") == 0)
    rc = spy_data_set_taper(o, &opname, 1);
  else if (strcmp(dimname, "channel") == 0 || strcmp(dimname, "channel_i") == 0)
    rc = spy_data_set_channel(o, &opname, 1);
  else if (strcmp(dimname, "channel_j") == 0)
    rc = spy_data_set_channel_j(o, &opname, 1);
  if (rc) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto exit;
  }
  spy_stat_inherit(o, in);
  if ((rc = spy_data_sync_meta(o, err))) goto exit;
  *out = o;
  o = NULL;
exit:
  spy_data_unref(o);
  free(trl);
  free(x);
  free(raw);
  free(y);
  free(acc);
  free(tmp);
  return rc;
}

/* ---- over trials: the accumulator ------------------------------------------ */

/* Per element, in planes of n: real [sum, count, sum of squares]; complex
** [sum re, sum im, count, sum |z|^2].  The mean needs no squares (sq
** false: one plane less).  NaNs are skipped (numpy's nanmean/nanvar). */
static size_t acc_planes(bool cplx, bool sq)
{
  return (cplx ? 3 : 2) + (sq ? 1 : 0);
}

static void acc_add(double *acc, const double *x, size_t n, bool cplx, bool sq)
{
  if (!cplx) {
    for (size_t i = 0; i < n; i++)
      if (!isnan(x[i])) {
        acc[i] += x[i];
        acc[n + i] += 1;
        if (sq) acc[2 * n + i] += x[i] * x[i];
      }
    return;
  }
  for (size_t i = 0; i < n; i++) {
    double re = x[2 * i], im = x[2 * i + 1];
    if (isnan(re) || isnan(im)) continue;
    acc[i] += re;
    acc[n + i] += im;
    acc[2 * n + i] += 1;
    if (sq) acc[3 * n + i] += re * re + im * im;
  }
}

/*
** On the scheduler (real data) the planes are [sum, NaN count, sum of
** squares]: tr_set writes one trial's block (the scheduler sums the blocks
** in trial order), tr_fold adds a trial into the sum directly (the inline
** executor) and leaves the same numbers: the block's zeros (a NaN's value,
** a number's NaN count) change no sum, and the NaN counts are touched only
** for a trial that has NaNs.
*/
static void tr_set(double *acc, const double *x, size_t n, bool sq)
{
  for (size_t i = 0; i < n; i++) {
    bool nan = x[i] != x[i];
    double v = nan ? 0 : x[i];
    acc[i] = v;
    acc[n + i] = nan;
    if (sq) acc[2 * n + i] = v * v;
  }
}

typedef double v4d __attribute__((vector_size(32)));
typedef float v4f __attribute__((vector_size(16)));
typedef long long v4l __attribute__((vector_size(32)));

/* Four elements at a time (the compiler left the scalar loop unvectorised:
** 3x slower); a NaN lane's bits are cleared, i.e. it adds +0 as tr_set's
** block does.  x is float32 (f32) or float64: a float converts to double
** exactly, so either adds the values the widened input would. */
static inline __attribute__((always_inline)) void
add_n(double *restrict acc, const void *restrict xv, bool f32, size_t n, bool sq)
{
  const float *xf = xv;
  const double *xd = xv;
  v4l any = {0, 0, 0, 0};
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    v4d v, s, q;
    if (f32) {
      v4f w;
      memcpy(&w, xf + i, sizeof w);
      v = __builtin_convertvector(w, v4d);
    } else {
      memcpy(&v, xd + i, sizeof v);
    }
    v4l nan = v != v;
    any |= nan;
    v = (v4d)((v4l)v & ~nan);
    memcpy(&s, acc + i, sizeof s);
    s += v;
    memcpy(acc + i, &s, sizeof s);
    if (sq) {
      memcpy(&q, acc + 2 * n + i, sizeof q);
      q += v * v;
      memcpy(acc + 2 * n + i, &q, sizeof q);
    }
  }
  bool nan = (any[0] | any[1] | any[2] | any[3]) != 0;
  for (; i < n; i++) {
    double x = f32 ? (double)xf[i] : xd[i], v = x != x ? 0 : x;
    nan |= x != x;
    acc[i] += v;
    if (sq) acc[2 * n + i] += v * v;
  }
  if (nan)
    for (i = 0; i < n; i++) acc[n + i] += f32 ? xf[i] != xf[i] : xd[i] != xd[i];
}

__attribute__((target_clones("avx2", "default"))) static void
tr_add(double *restrict acc, const void *restrict x, bool f32, size_t n, bool sq)
{
  if (f32)
    add_n(acc, x, true, n, sq);
  else
    add_n(acc, x, false, n, sq);
}

/* y: n values (complex mean: n pairs).  var = E|x|^2 - |E x|^2, clamped at 0.
** With total > 0 the count plane holds the NaNs instead: count = total - it. */
static void acc_finish(spy_stat_kind k, const double *acc, size_t n, bool cplx, double total,
                       double *y)
{
  size_t cp = cplx ? 2 : 1; /* the count plane */
  for (size_t i = 0; i < n; i++) {
    double c = total > 0 ? total - acc[cp * n + i] : acc[cp * n + i];
    double mr = acc[i] / c, mi = cplx ? acc[n + i] / c : 0;
    if (k == SPY_STAT_MEAN) {
      if (cplx)
        y[2 * i] = mr, y[2 * i + 1] = mi;
      else
        y[i] = mr;
      continue;
    }
    double e2 = acc[(cp + 1) * n + i] / c, var = e2 - (mr * mr + mi * mi);
    if (var < 0) var = 0;
    if (c == 0) var = NAN;
    y[i] = k == SPY_STAT_STD ? sqrt(var) : var;
  }
}

/* Output of a reduction over trials: one trial with the first trial's row. */
static int trials_output(spy_data *in, const spy_selection *sel, spy_dtype t, const size_t *dims,
                         int nd, spy_data **o, spy_err *err)
{
  *o = spy_data_new(in->cls);
  if (!*o) return spy_fail(err, SPY_ENOMEM, "out of memory");
  int rc = spy_data_create(*o, t, nd, dims, err);
  if (rc) return rc;
  double *trl = malloc(sel->trlcols * sizeof *trl);
  if (!trl) return spy_fail(err, SPY_ENOMEM, "out of memory");
  memcpy(trl, sel->trldef, sel->trlcols * sizeof *trl);
  trl[0] = 0;
  trl[1] = (double)dims[0];
  rc = spy_data_set_trldef(*o, trl, 1, sel->trlcols) || spy_stat_labels(*o, in, sel);
  free(trl);
  if (rc) return spy_fail(err, SPY_ENOMEM, "out of memory");
  spy_stat_inherit(*o, in);
  return SPY_OK;
}

size_t spy_stat_median_bytes = SPY_STAT_MEDIAN_BYTES;

static int median_trials(spy_data *in, const spy_selection *sel, const size_t *dims, int nd,
                         spy_data *o, spy_err *err)
{
  size_t ntr = sel->ntrials, n = spy_stat_block_elems(in, sel, 0), nlast = dims[nd - 1];
  size_t per_last = nlast ? n / nlast : 0; /* elements per last-axis index */
  size_t budget = spy_stat_median_bytes / sizeof(double);
  size_t chunk = per_last && ntr ? budget / (per_last * ntr) : nlast;
  if (chunk == 0)
    return spy_fail(err, SPY_ENOTSUP,
                    "the median over trials holds every trial of a channel in memory: %.1f MB per "
                    "channel exceeds the bound of %.1f MB; select fewer trials or samples",
                    (double)(per_last * ntr * sizeof(double)) / 1e6,
                    (double)spy_stat_median_bytes / 1e6);
  if (chunk > nlast) chunk = nlast;
  double *x = malloc((n ? n : 1) * sizeof *x);
  double *raw = malloc((spy_stat_raw_elems(in, sel, 0) + 1) * sizeof *raw);
  double *all = malloc((per_last * chunk * ntr + 1) * sizeof *all);
  double *tmp = malloc((ntr + 1) * sizeof *tmp);
  double *y = malloc((n ? n : 1) * sizeof *y);
  int rc = (!x || !raw || !all || !tmp || !y) ? spy_fail(err, SPY_ENOMEM, "out of memory") : SPY_OK;
  for (size_t c0 = 0; !rc && c0 < nlast; c0 += chunk) {
    size_t nc = nlast - c0 < chunk ? nlast - c0 : chunk;
    for (size_t k = 0; !rc && k < ntr; k++) {
      if (spy_interrupted()) rc = spy_fail(err, SPY_EINTR, "interrupted");
      if (!rc) rc = spy_stat_read_block(in, sel, k, false, x, raw, err);
      for (size_t e = 0; !rc && e < per_last; e++)
        for (size_t c = 0; c < nc; c++)
          all[(e * nc + c) * ntr + k] = x[e * nlast + c0 + c];
    }
    for (size_t e = 0; !rc && e < per_last; e++)
      for (size_t c = 0; c < nc; c++)
        stat_of(SPY_STAT_MEDIAN, all + (e * nc + c) * ntr, ntr, 1, false, tmp,
                &y[e * nlast + c0 + c]);
  }
  if (!rc) rc = spy_data_write(o, 0, dims[0], 0, nlast, y, SPY_DT_F64, err);
  free(x);
  free(raw);
  free(all);
  free(tmp);
  free(y);
  return rc;
}

int spy_stat_trials(spy_data *in, const spy_selection *sel, spy_stat_kind k, spy_data **out,
                    spy_err *err)
{
  *out = NULL;
  bool cplx = spy_dtype_is_complex(in->dtype), cplx_out = cplx && k == SPY_STAT_MEAN;
  if (cplx && k == SPY_STAT_MEDIAN)
    return spy_fail_value(err, "data", spy_dtype_name(in->dtype),
                          "real-valued data for the median (complex numbers have no order)");
  int rc = spy_stat_equal_trials(sel, err);
  if (rc) return rc;
  size_t dims[4];
  int nd = spy_stat_block_dims(in, sel, 0, dims);
  spy_data *o = NULL;
  if ((rc = trials_output(in, sel, spy_stat_out_dtype(in->dtype, cplx_out), dims, nd, &o, err)))
    goto exit;
  if (k == SPY_STAT_MEDIAN) {
    rc = median_trials(in, sel, dims, nd, o, err);
  } else {
    size_t n = spy_stat_block_elems(in, sel, 0), w = cplx ? 2 : 1;
    double *x = malloc((n ? n : 1) * w * sizeof *x);
    double *raw = malloc((spy_stat_raw_elems(in, sel, 0) + 1) * w * sizeof *raw);
    bool sq = k != SPY_STAT_MEAN;
    double *acc = calloc((n ? n : 1) * acc_planes(cplx, sq), sizeof *acc);
    double *y = malloc((n ? n : 1) * 2 * sizeof *y);
    if (!x || !raw || !acc || !y) rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < sel->ntrials; i++) {
      if (spy_interrupted()) rc = spy_fail(err, SPY_EINTR, "interrupted");
      if (!rc) rc = spy_stat_read_block(in, sel, i, cplx, x, raw, err);
      if (!rc) acc_add(acc, x, n, cplx, sq);
    }
    if (!rc) {
      acc_finish(k, acc, n, cplx, 0, y);
      rc = spy_data_write(o, 0, dims[0], 0, dims[nd - 1], y, cplx_out ? SPY_DT_C128 : SPY_DT_F64,
                          err);
    }
    free(x);
    free(raw);
    free(acc);
    free(y);
  }
  if (!rc) rc = spy_data_sync_meta(o, err);
exit:
  if (rc)
    spy_data_unref(o);
  else
    *out = o;
  return rc;
}

/* ---- over trials on the scheduler (time x channel data) ---------------------- */

typedef struct trplan {
  spy_stat_kind k;
  size_t n; /* elements of one trial: rows x nchan */
  bool f64; /* double-precision input: float64 output */
} trplan;

static int tr_kernel(const void *plan, spy_task *t, spy_err *err)
{
  (void)err;
  const trplan *p = plan;
  tr_set(t->out, t->in, p->n, p->k != SPY_STAT_MEAN);
  return spy_interrupted() ? spy_fail(err, SPY_EINTR, "interrupted") : SPY_OK;
}

static void tr_fold(const void *plan, double *acc, const spy_task *t)
{
  const trplan *p = plan;
  bool f32 = t->in32 != NULL;
  tr_add(acc, f32 ? (const void *)t->in32 : (const void *)t->in, f32, p->n, p->k != SPY_STAT_MEAN);
}

static int tr_finalize(const void *plan, const double *acc, size_t ntrials, void *out, spy_err *err)
{
  const trplan *p = plan;
  double *y = malloc((p->n ? p->n : 1) * sizeof *y);
  if (!y) return spy_fail(err, SPY_ENOMEM, "out of memory");
  acc_finish(p->k, acc, p->n, false, (double)ntrials, y);
  for (size_t i = 0; i < p->n; i++) {
    if (p->f64)
      ((double *)out)[i] = y[i];
    else
      ((float *)out)[i] = (float)y[i];
  }
  free(y);
  return SPY_OK;
}

static int trials_plan(spy_stat_kind k, const cJSON *cfg, const spy_trials *tr, spy_op *op,
                       spy_err *err)
{
  const char *dim = spy_cfg_str(cfg, "dim", "");
  if (strcmp(dim, "trials") != 0)
    return spy_fail(err, SPY_EINVAL, "%s on the scheduler reduces over trials only (dim='%s')",
                    spy_stat_name(k), dim);
  if (tr->ntrials == 0) return spy_fail_value(err, "data", "empty", "non-empty data");
  size_t len = spy_trial_len(tr, 0);
  for (size_t i = 1; i < tr->ntrials; i++)
    if (spy_trial_len(tr, i) != len) {
      char actual[160];
      snprintf(actual, sizeof actual, "trial %zu has %zu samples, trial 1 has %zu", i + 1,
               spy_trial_len(tr, i), len);
      return spy_fail_value(err, "trials", actual, "all trials to have the same shape");
    }
  trplan *p = calloc(1, sizeof *p);
  op->out_rows = calloc(tr->ntrials, sizeof *op->out_rows);
  op->out_trldef = calloc(tr->trlcols, sizeof *op->out_trldef);
  if (!p || !op->out_rows || !op->out_trldef) {
    free(p);
    return spy_fail(err, SPY_ENOMEM, "out of memory");
  }
  p->k = k;
  p->n = len * tr->nchan;
  p->f64 = tr->dtype == SPY_DT_F64;
  op->name = spy_stat_name(k);
  op->plan = p;
  op->free_plan = free;
  op->kernel = tr_kernel;
  op->cls = SPY_ANALOG; /* the binding sets the input's class */
  op->out_dtype = p->f64 ? SPY_DT_F64 : SPY_DT_F32;
  op->ntrials = tr->ntrials;
  for (size_t i = 0; i < tr->ntrials; i++)
    op->out_rows[i] = len;
  op->average = true;
  op->acc_elems = acc_planes(false, k != SPY_STAT_MEAN) * p->n;
  op->finalize = tr_finalize;
  op->fold = tr_fold;
  op->samplerate = tr->samplerate;
  memcpy(op->out_trldef, tr->trldef, tr->trlcols * sizeof *op->out_trldef);
  op->out_trldef[0] = 0;
  op->out_trldef[1] = (double)len;
  op->out_trlcols = tr->trlcols;
  return SPY_OK;
}

int spy_stat_mean_plan(const cJSON *cfg, const spy_trials *tr, spy_op *op, spy_err *err)
{
  return trials_plan(SPY_STAT_MEAN, cfg, tr, op, err);
}
int spy_stat_std_plan(const cJSON *cfg, const spy_trials *tr, spy_op *op, spy_err *err)
{
  return trials_plan(SPY_STAT_STD, cfg, tr, op, err);
}
int spy_stat_var_plan(const cJSON *cfg, const spy_trials *tr, spy_op *op, spy_err *err)
{
  return trials_plan(SPY_STAT_VAR, cfg, tr, op, err);
}

/* ---- inter-trial coherence --------------------------------------------------- */

int spy_itc(spy_data *in, const spy_selection *sel, spy_data **out, spy_err *err)
{
  *out = NULL;
  if (in->cls != SPY_SPECTRAL)
    return spy_fail(err, SPY_ETYPE,
                    "Wrong type of `spec_data`: expected Syncopy SpectralData object found %s",
                    spy_dataclass_name(in->cls));
  if (!spy_dtype_is_complex(in->dtype))
    return spy_fail_value(err, "spec_data", NULL,
                          "complex valued spectra, set `output='fourier` in spy.freqanalysis!");
  int rc = spy_stat_equal_trials(sel, err);
  if (rc) return rc;
  size_t dims[4];
  spy_stat_block_dims(in, sel, 0, dims);
  size_t n = spy_stat_block_elems(in, sel, 0), rows = dims[0], ntap = dims[1];
  size_t nf = dims[2], nch = dims[3];
  double *x = malloc((n + 1) * 2 * sizeof *x);
  double *raw = malloc((spy_stat_raw_elems(in, sel, 0) + 1) * 2 * sizeof *raw);
  double *acc = calloc((n + 1) * 2, sizeof *acc);
  double *y = calloc(rows * nf * nch + 1, sizeof *y);
  spy_data *o = NULL;
  if (!x || !raw || !acc || !y) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto exit;
  }
  for (size_t i = 0; i < sel->ntrials; i++) {
    if (spy_interrupted()) {
      rc = spy_fail(err, SPY_EINTR, "interrupted");
      goto exit;
    }
    if ((rc = spy_stat_read_block(in, sel, i, true, x, raw, err))) goto exit;
    for (size_t e = 0; e < n; e++) {
      double re = x[2 * e], im = x[2 * e + 1], m = hypot(re, im);
      if (m > 0) acc[2 * e] += re / m, acc[2 * e + 1] += im / m;
    }
  }
  double N = (double)sel->ntrials;
  for (size_t r = 0; r < rows; r++)
    for (size_t f = 0; f < nf; f++)
      for (size_t c = 0; c < nch; c++) {
        double sr = 0, si = 0;
        for (size_t t = 0; t < ntap; t++) {
          size_t e = ((r * ntap + t) * nf + f) * nch + c;
          sr += acc[2 * e] / N;
          si += acc[2 * e + 1] / N;
        }
        y[(r * nf + f) * nch + c] = hypot(sr / (double)ntap, si / (double)ntap);
      }
  size_t odims[4] = {rows, 1, nf, nch};
  if ((rc = trials_output(in, sel, SPY_DT_F32, odims, 4, &o, err))) goto exit;
  const char *taper = "taper1";
  if (spy_data_set_taper(o, &taper, 1)) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto exit;
  }
  if ((rc = spy_data_write(o, 0, rows, 0, nch, y, SPY_DT_F64, err))) goto exit;
  rc = spy_data_sync_meta(o, err);
exit:
  free(x);
  free(raw);
  free(acc);
  free(y);
  if (rc)
    spy_data_unref(o);
  else
    *out = o;
  return rc;
}
