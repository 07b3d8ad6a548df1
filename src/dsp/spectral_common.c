#include "dsp/spectral_common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char spy_specout_names[] = "pow|abs|fourier|real|imag|angle|absreal|absimag|complex";

int spy_specout_parse(const char *name, spy_specout *out)
{
  static const struct {
    const char *name;
    spy_specout o;
  } tab[] = {{"pow", SPY_OUT_POW},         {"abs", SPY_OUT_ABS},
             {"fourier", SPY_OUT_FOURIER}, {"complex", SPY_OUT_FOURIER},
             {"real", SPY_OUT_REAL},       {"imag", SPY_OUT_IMAG},
             {"angle", SPY_OUT_ANGLE},     {"absreal", SPY_OUT_ABSREAL},
             {"absimag", SPY_OUT_ABSIMAG}};
  for (size_t i = 0; i < sizeof tab / sizeof *tab; i++)
    if (strcmp(name, tab[i].name) == 0) {
      *out = tab[i].o;
      return SPY_OK;
    }
  return SPY_EINVAL;
}

spy_dtype spy_specout_dtype(spy_specout o)
{
  return o == SPY_OUT_FOURIER ? SPY_DT_C64 : SPY_DT_F32;
}

double complex spy_specout_value(spy_specout o, double complex x)
{
  double re = creal(x), im = cimag(x);
  switch (o) {
  case SPY_OUT_POW: return re * re + im * im;
  case SPY_OUT_ABS: return hypot(re, im);
  case SPY_OUT_FOURIER: return x;
  case SPY_OUT_REAL: return re;
  case SPY_OUT_IMAG: return im;
  case SPY_OUT_ANGLE: return atan2(im, re);
  case SPY_OUT_ABSREAL: return fabs(re);
  case SPY_OUT_ABSIMAG: return fabs(im);
  }
  return 0;
}

void spy_specout_convert(spy_specout o, const double complex *x, size_t n, void *dst,
                         size_t stride)
{
  if (o == SPY_OUT_FOURIER) {
    float complex *d = dst;
    for (size_t k = 0; k < n; k++) d[k * stride] = (float complex)x[k];
    return;
  }
  float *d = dst;
  if (o == SPY_OUT_POW) { /* the default, without a call per value: same arithmetic */
    for (size_t k = 0; k < n; k++) {
      double re = creal(x[k]), im = cimag(x[k]);
      d[k * stride] = (float)(re * re + im * im);
    }
    return;
  }
  for (size_t k = 0; k < n; k++) d[k * stride] = (float)creal(spy_specout_value(o, x[k]));
}

void spy_detrend(double *x, size_t nsamp, size_t nch, int order)
{
  if (order < 0 || nsamp == 0) return;
  for (size_t c = 0; c < nch; c++) {
    double mean = 0;
    for (size_t n = 0; n < nsamp; n++) mean += x[n * nch + c];
    mean /= (double)nsamp;
    if (order == 0 || nsamp == 1) {
      for (size_t n = 0; n < nsamp; n++) x[n * nch + c] -= mean;
      continue;
    }
    /* least squares a + b*(n - nbar) */
    double nbar = (double)(nsamp - 1) / 2.0, sxy = 0, sxx = 0;
    for (size_t n = 0; n < nsamp; n++) {
      double d = (double)n - nbar;
      sxy += d * (x[n * nch + c] - mean);
      sxx += d * d;
    }
    double b = sxy / sxx;
    for (size_t n = 0; n < nsamp; n++) x[n * nch + c] -= mean + b * ((double)n - nbar);
  }
}

/* first index with src[i] >= v (numpy searchsorted side="left") */
static size_t lower_bound(const double *src, size_t n, double v)
{
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (src[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

size_t spy_best_match(const double *src, size_t n, const double *sel, size_t nsel, bool squash,
                      size_t *idx)
{
  size_t m = 0;
  if (n == 0) return 0;
  for (size_t j = 0; j < nsel; j++) {
    size_t i = lower_bound(src, n, sel[j]);
    double left = fabs(sel[j] - src[i > 0 ? i - 1 : 0]);
    double right = fabs(sel[j] - src[i < n ? i : n - 1]);
    if (i == n || left < right) i = i > 0 ? i - 1 : 0;
    if (squash) {
      bool seen = false;
      for (size_t q = 0; q < m && !seen; q++) seen = idx[q] == i;
      if (seen) continue;
    }
    idx[m++] = i;
  }
  return m;
}

size_t spy_best_match_span(const double *src, size_t n, double lo, double hi, size_t *idx)
{
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (src[i] >= lo && src[i] <= hi) idx[m++] = i;
  return m;
}

static int trldef_common(const spy_trials *in, bool average, spy_op *op, size_t *rows)
{
  size_t nt = in->ntrials, cols = in->trlcols, nout = average ? 1 : nt;
  op->out_rows = malloc((nt ? nt : 1) * sizeof *op->out_rows);
  op->out_trldef = malloc((nout ? nout : 1) * cols * sizeof *op->out_trldef);
  if (!op->out_rows || !op->out_trldef) return SPY_ENOMEM;
  op->ntrials = nt;
  op->out_trlcols = cols;
  op->average = average;
  double start = 0, offsum = 0;
  for (size_t k = 0; k < nt; k++) {
    op->out_rows[k] = rows[k];
    offsum += spy_trial_offset(in, k);
    if (average) continue;
    double *r = op->out_trldef + k * cols;
    memcpy(r, in->trldef + k * cols, cols * sizeof *r);
    r[0] = start;
    r[1] = start + (double)rows[k];
    start = r[1];
  }
  if (average && nt > 0) {
    double *r = op->out_trldef;
    memcpy(r, in->trldef, cols * sizeof *r);
    r[0] = 0;
    r[1] = (double)rows[0];
    r[2] = offsum / (double)nt;
  }
  return SPY_OK;
}

int spy_tf_trldef_all(const spy_trials *in, bool average, spy_op *op)
{
  size_t *rows = malloc((in->ntrials ? in->ntrials : 1) * sizeof *rows);
  if (!rows) return SPY_ENOMEM;
  for (size_t k = 0; k < in->ntrials; k++) rows[k] = spy_trial_len(in, k);
  int rc = trldef_common(in, average, op, rows);
  free(rows);
  return rc;
}

int spy_tf_trldef_toi(const spy_trials *in, size_t ntoi, double toi0, double out_samplerate,
                      bool average, spy_op *op)
{
  size_t *rows = malloc((in->ntrials ? in->ntrials : 1) * sizeof *rows);
  if (!rows) return SPY_ENOMEM;
  for (size_t k = 0; k < in->ntrials; k++) rows[k] = ntoi;
  int rc = trldef_common(in, average, op, rows);
  free(rows);
  if (rc) return rc;
  size_t nout = average ? 1 : in->ntrials;
  for (size_t k = 0; k < nout; k++) op->out_trldef[k * op->out_trlcols + 2] = toi0 * out_samplerate;
  return SPY_OK;
}

int spy_tf_trldef_step(const spy_trials *in, size_t step, bool average, spy_op *op)
{
  size_t *rows = malloc((in->ntrials ? in->ntrials : 1) * sizeof *rows);
  if (!rows) return SPY_ENOMEM;
  for (size_t k = 0; k < in->ntrials; k++) rows[k] = (spy_trial_len(in, k) + step - 1) / step;
  int rc = trldef_common(in, average, op, rows);
  free(rows);
  if (rc) return rc;
  size_t nout = average ? 1 : in->ntrials;
  for (size_t k = 0; k < nout; k++) op->out_trldef[k * op->out_trlcols + 2] /= (double)step;
  return SPY_OK;
}

int spy_trldef_stacked(const spy_trials *in, bool keep_offsets, bool average, spy_op *op)
{
  size_t nt = in->ntrials, cols = (keep_offsets && !average) ? in->trlcols : 3;
  size_t nout = average ? 1 : nt;
  op->out_rows = malloc((nt ? nt : 1) * sizeof *op->out_rows);
  op->out_trldef = calloc((nout ? nout : 1) * cols, sizeof *op->out_trldef);
  if (!op->out_rows || !op->out_trldef) return SPY_ENOMEM;
  op->ntrials = nt;
  op->out_trlcols = cols;
  op->average = average;
  for (size_t k = 0; k < nt; k++) op->out_rows[k] = 1;
  for (size_t k = 0; k < nout; k++) {
    double *r = op->out_trldef + k * cols;
    if (keep_offsets && !average) memcpy(r, in->trldef + k * cols, cols * sizeof *r);
    r[0] = (double)k;
    r[1] = (double)k + 1;
    if (!keep_offsets || average) r[2] = 0;
  }
  return SPY_OK;
}
