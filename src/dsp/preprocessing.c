#include "dsp/preprocessing.h"

#include <complex.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/interrupt.h"
#include "core/kwspec.h"
#include "core/log.h"
#include "core/pyfmt.h"
#include "dsp/fir.h"
#include "dsp/hilbert.h"
#include "dsp/iir.h"
#include "dsp/preprocessing_spec.h"
#include "dsp/resample.h"
#include "dsp/spectral_common.h"

typedef enum { FILT_NONE, FILT_DETREND, FILT_BUT, FILT_FIR } filt_kind;
typedef enum { POST_NONE, POST_RECTIFY, POST_HILBERT } post_kind;

/* One plan type serves both functions: preprocessing's stage chain, the
** downsample path (optional FIR, then every step-th sample) and the
** polyphase resampler. */
typedef struct pp_plan {
  bool zscore;
  int poly; /* polyremoval: -1 None, 0, 1 */
  filt_kind filt;
  double *sos, *zi; /* Butterworth sections and sosfilt_zi */
  size_t nsec, edge;
  bool twopass;
  spy_fir fir;
  int passes; /* FIR convolutions: 1 or 2 */
  post_kind post;
  spy_specout hout;
  spy_hilbert *hil; /* one per distinct trial length */
  size_t nhil;
  size_t step; /* keep every step-th sample (downsample), else 1 */
  const char *nanmsg;
  /* polyphase resampling */
  bool resample, copy;
  spy_polyphase pp;
  spy_dtype out_dtype;
} pp_plan;

static void pp_free(void *vp)
{
  pp_plan *P = vp;
  if (!P) return;
  free(P->sos);
  free(P->zi);
  spy_fir_release(&P->fir);
  free(P->hil);
  spy_polyphase_release(&P->pp);
  free(P);
}

/* ---- kernels --------------------------------------------------------------- */

/* Channels filtered together: the IIR recursion runs up to 16 lanes in
** vectors of 4 (zero-padded to a multiple of 4 when fewer channels are
** left); the other stages work lane by lane. */
enum { MAXLANES = 16 };

static size_t al64(size_t b) { return (b + 63) & ~(size_t)63; }

static size_t edge_of(const pp_plan *P)
{
  return P->filt == FILT_BUT && P->twopass ? P->edge : 0;
}

static size_t pp_scratch(const void *vp, size_t nsamp, size_t nchan)
{
  const pp_plan *P = vp;
  (void)nchan; /* channels go one (or one block) at a time */
  if (P->resample) return 2 * al64(nsamp * sizeof(double)); /* a channel, its output (up <= down) */
  size_t b = al64((nsamp + 2 * edge_of(P)) * MAXLANES * sizeof(double));
  b += al64((P->nsec ? P->nsec : 1) * 2 * MAXLANES * sizeof(double));
  b += 2 * al64(nsamp * sizeof(double));
  if (P->filt == FILT_FIR) b += spy_fir_scratch_bytes(&P->fir);
  if (P->post == POST_HILBERT)
    b += spy_hilbert_scratch_bytes(nsamp) + al64(nsamp * sizeof(double complex));
  return b;
}

static void carve(char **p, void **dst, size_t bytes)
{
  *dst = *p;
  *p += al64(bytes);
}

static bool any_nan(const double *x, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (isnan(x[i])) return true;
  return false;
}

/* (x - mean) / std of the first w of W lanes after de-trending, std
** with ddof 0 (the padding lanes stay zero) */
static void zscore_lanes(double *x, size_t n, size_t W, size_t w, int poly)
{
  spy_detrend(x, n, W, poly);
  for (size_t j = 0; j < w; j++) {
    double mean = 0, var = 0;
    for (size_t i = 0; i < n; i++) mean += x[i * W + j];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++) {
      double d = x[i * W + j] - mean;
      var += d * d;
    }
    double sd = sqrt(var / (double)n);
    for (size_t i = 0; i < n; i++) x[i * W + j] = (x[i * W + j] - mean) / sd;
  }
}

static void store(void *out, spy_dtype t, size_t idx, double v)
{
  if (t == SPY_DT_F64)
    ((double *)out)[idx] = v;
  else if (t == SPY_DT_C64)
    ((float complex *)out)[idx] = (float)v;
  else
    ((float *)out)[idx] = (float)v;
}

/* out rows r of channels c0.. c0+w from block rows r*step, |.| for
** rectify; the common float32 case gets its own loop */
static void write_rows(const pp_plan *P, const double *x, size_t W, size_t w, size_t rows,
                       void *out, size_t C, size_t c0)
{
  const size_t step = P->step;
  const bool rect = P->post == POST_RECTIFY;
  if (P->out_dtype == SPY_DT_F32 && !rect) {
    for (size_t r = 0; r < rows; r++) {
      const double *src = x + r * step * W;
      float *dst = (float *)out + r * C + c0;
      for (size_t j = 0; j < w; j++) dst[j] = (float)src[j];
    }
    return;
  }
  for (size_t r = 0; r < rows; r++)
    for (size_t j = 0; j < w; j++) {
      double v = x[r * step * W + j];
      store(out, P->out_dtype, r * C + c0 + j, rect ? fabs(v) : v);
    }
}

/* P->hil is sorted by length */
static const spy_hilbert *find_hilbert(const pp_plan *P, size_t n)
{
  size_t lo = 0, hi = P->nhil;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (P->hil[mid].n < n) lo = mid + 1;
    else hi = mid;
  }
  return lo < P->nhil && P->hil[lo].n == n ? &P->hil[lo] : NULL;
}

/* Polyphase resampling channel by channel (each a contiguous copy, so the
** sub-filter dot products run over contiguous memory). */
static int rs_kernel(const pp_plan *P, spy_task *t, spy_err *err)
{
  const size_t N = t->nsamp, C = t->nchan, R = t->rows;
  double *a = t->scratch, *b = (double *)((char *)t->scratch + al64(N * sizeof(double)));
  for (size_t c = 0; c < C; c++) {
    if (spy_interrupted()) return spy_fail(err, SPY_EINTR, "interrupted");
    for (size_t i = 0; i < N; i++) a[i] = t->in[i * C + c];
    if (P->copy)
      memcpy(b, a, R * sizeof *b);
    else
      spy_resample_channel(&P->pp, a, N, 0, R, b);
    for (size_t k = 0; k < R; k++) store(t->out, P->out_dtype, k * C + c, b[k]);
  }
  return SPY_OK;
}

/* The FIR stage of one lane: a -> b (and back for two passes); the result
** is left in *res.  Time-domain sums when the lane holds NaN. */
static void fir_lane(const pp_plan *P, double *a, double *b, size_t n, void *fscr, double **res)
{
  bool direct = any_nan(a, n);
  double *src = a, *dst = b;
  for (int pass = 0; pass < P->passes; pass++) {
    if (direct)
      spy_fir_same_direct(P->fir.h, P->fir.m, src, n, dst);
    else
      spy_fir_same(&P->fir, src, n, dst, fscr);
    double *tmp = src;
    src = dst;
    dst = tmp;
  }
  *res = src;
}

static int pp_kernel(const void *vp, spy_task *t, spy_err *err)
{
  const pp_plan *P = vp;
  if (P->resample) return rs_kernel(P, t, err);
  const size_t N = t->nsamp, C = t->nchan, e = edge_of(P);
  if (N == 0) return SPY_OK;
  if (e && N <= e)
    return spy_fail(err, SPY_EINVAL,
                    "trial %zu has %zu samples; a two-pass Butterworth filter of this order needs "
                    "more than %zu (scipy.signal.sosfiltfilt pads %zu samples at each edge)",
                    t->trial, N, e, e);
  const spy_hilbert *hil = NULL;
  if (P->post == POST_HILBERT && !(hil = find_hilbert(P, N)))
    return spy_fail(err, SPY_ERUNTIME, "no Hilbert transform was planned for %zu samples", N);

  char *p = t->scratch;
  void *blk_, *state_, *a_, *b_, *fscr = NULL, *hscr = NULL, *z_ = NULL;
  carve(&p, &blk_, (N + 2 * e) * MAXLANES * sizeof(double));
  carve(&p, &state_, (P->nsec ? P->nsec : 1) * 2 * MAXLANES * sizeof(double));
  carve(&p, &a_, N * sizeof(double));
  carve(&p, &b_, N * sizeof(double));
  if (P->filt == FILT_FIR) carve(&p, &fscr, spy_fir_scratch_bytes(&P->fir));
  if (P->post == POST_HILBERT) {
    carve(&p, &hscr, spy_hilbert_scratch_bytes(N));
    carve(&p, &z_, N * sizeof(double complex));
  }
  double *blk = blk_, *state = state_, *a = a_, *b = b_;
  double complex *z = z_;
  const size_t rows = t->rows;

  for (size_t c0 = 0; c0 < C;) {
    if (spy_interrupted()) return spy_fail(err, SPY_EINTR, "interrupted");
    /* W lanes in the block, the first w of them channels */
    size_t left = C - c0, W, w;
    if (P->filt == FILT_BUT)
      W = left >= MAXLANES ? MAXLANES : (left + 3) / 4 * 4;
    else
      W = left >= 8 ? 8 : left >= 4 ? 4 : left >= 2 ? 2 : 1;
    w = left < W ? left : W;
    double *x = blk + e * W;
    bool nan = false;
    for (size_t i = 0; i < N; i++) {
      const double *src = t->in + i * C + c0;
      double *dst = x + i * W;
      for (size_t j = 0; j < w; j++) {
        dst[j] = src[j];
        nan |= src[j] != src[j];
      }
      for (size_t j = w; j < W; j++) dst[j] = 0;
    }

    if (P->zscore) {
      zscore_lanes(x, N, W, w, P->poly);
      nan = any_nan(x, N * W);
    }
    if (P->nanmsg && nan) t->flags |= SPY_TASK_HAS_NAN;
    if (P->filt != FILT_NONE) spy_detrend(x, N, W, P->poly);
    if (P->filt == FILT_BUT) {
      if (P->twopass)
        spy_sosfiltfilt(P->sos, P->nsec, P->zi, blk, N, W, e, state);
      else {
        memset(state, 0, P->nsec * 2 * W * sizeof *state);
        spy_sosfilt(P->sos, P->nsec, x, N, W, false, state);
      }
    } else if (P->filt == FILT_FIR) {
      for (size_t j = 0; j < w; j++) {
        double *res;
        for (size_t i = 0; i < N; i++) a[i] = x[i * W + j];
        fir_lane(P, a, b, N, fscr, &res);
        for (size_t i = 0; i < N; i++) x[i * W + j] = res[i];
      }
    }

    if (P->post == POST_HILBERT) {
      size_t es = spy_dtype_size(P->out_dtype);
      for (size_t j = 0; j < w; j++) {
        for (size_t i = 0; i < N; i++) a[i] = x[i * W + j];
        spy_hilbert_run(hil, a, z, hscr);
        spy_specout_convert(P->hout, z, N, (char *)t->out + (c0 + j) * es, C);
      }
    } else
      write_rows(P, x, W, w, rows, t->out, C, c0);
    c0 += w;
  }
  return SPY_OK;
}

/* ---- validation helpers (Syncopy's parsers) ------------------------------- */

static const char *pytype(const cJSON *v)
{
  if (!v || cJSON_IsNull(v)) return "NoneType";
  if (cJSON_IsBool(v)) return "bool";
  if (cJSON_IsString(v)) return "str";
  if (cJSON_IsArray(v)) return "list";
  if (cJSON_IsObject(v)) return "dict";
  if (cJSON_IsNumber(v)) {
    double d = v->valuedouble;
    return isfinite(d) && d == floor(d) ? "int" : "float";
  }
  return "object";
}

/* str(value) as Python would print the user's value */
static void pystr(const cJSON *v, char *buf, size_t n)
{
  if (!v || cJSON_IsNull(v))
    snprintf(buf, n, "None");
  else if (cJSON_IsBool(v))
    snprintf(buf, n, "%s", cJSON_IsTrue(v) ? "True" : "False");
  else if (cJSON_IsNumber(v))
    spy_py_num(v->valuedouble, buf, n);
  else if (cJSON_IsString(v))
    snprintf(buf, n, "%s", v->valuestring);
  else if (cJSON_IsArray(v)) {
    double vals[64];
    size_t k = 0;
    const cJSON *e;
    bool nums = true;
    cJSON_ArrayForEach(e, v)
    {
      if (!cJSON_IsNumber(e)) nums = false;
      if (k < 64 && cJSON_IsNumber(e)) vals[k++] = e->valuedouble;
    }
    if (nums)
      spy_py_list(vals, k, buf, n);
    else
      spy_json_brief(v, buf, n);
  } else
    spy_json_brief(v, buf, n);
}

/* scalar_parser(v, name, ntype="int_like"?, lims=[lo, hi]); los/his are
** the bounds as Syncopy prints them. */
static int scalar_check(const cJSON *v, const char *name, bool intlike, double lo, double hi,
                        const char *los, const char *his, spy_err *err)
{
  if (!cJSON_IsNumber(v)) return spy_fail_type(err, name, "scalar", pytype(v));
  char act[64];
  double d = v->valuedouble;
  spy_py_num(d, act, sizeof act);
  if (intlike && round(d) != d) return spy_fail_value(err, name, act, "int_like");
  if (d < lo || d > hi || !isfinite(d))
    return spy_fail_value(err, name, act, "value to be greater or equals %s and less or equals %s",
                          los, his);
  return SPY_OK;
}

/* array_parser(freq, hasinf=False, hasnan=False, lims=[0, hi], dims=(2,)) */
static int freq_pair_check(const cJSON *v, double hi, const char *his, double *f, spy_err *err)
{
  if (!cJSON_IsArray(v)) return spy_fail_type(err, "freq", "array_like", pytype(v));
  size_t n = (size_t)cJSON_GetArraySize(v), ninf = 0, nnan = 0, k = 0;
  double vals[64], amin = INFINITY, amax = -INFINITY;
  const cJSON *e;
  cJSON_ArrayForEach(e, v)
  {
    if (!cJSON_IsNumber(e))
      return spy_fail_value(err, "freq", "dtype = object", "dtype = numeric");
    double d = e->valuedouble;
    if (k < 64) vals[k++] = d;
    if (isinf(d)) ninf++;
    if (isnan(d)) nnan++;
    if (isfinite(d)) {
      if (d < amin) amin = d;
      if (d > amax) amax = d;
    }
  }
  char act[160], a1[64], a2[64];
  if (ninf) {
    snprintf(act, sizeof act, "array with %zu `inf` entries", ninf);
    return spy_fail_value(err, "freq", act, "finite numerical array");
  }
  if (nnan) {
    snprintf(act, sizeof act, "array with %zu `NaN` entries", nnan);
    return spy_fail_value(err, "freq", act, "well-defined numerical array");
  }
  if (n > 0 && (amin < 0 || amax > hi)) {
    spy_py_num(amin, a1, sizeof a1);
    spy_py_num(amax, a2, sizeof a2);
    snprintf(act, sizeof act, "array with range %s to %s", a1, a2);
    return spy_fail_value(err, "freq", act, "all array elements to be bounded by 0 and %s", his);
  }
  if (n != 2) {
    snprintf(act, sizeof act, "shape = (%zu,)", n);
    return spy_fail_value(err, "freq", act, "array of shape (2,)");
  }
  if (vals[0] == vals[1]) {
    spy_py_list(vals, 2, act, sizeof act);
    return spy_fail_value(err, "freq", act, "two different frequencies");
  }
  f[0] = vals[0] < vals[1] ? vals[0] : vals[1];
  f[1] = vals[0] < vals[1] ? vals[1] : vals[0];
  return SPY_OK;
}

static const cJSON *item(const cJSON *cfg, const char *key)
{
  return cJSON_GetObjectItemCaseSensitive(cfg, key);
}

static bool isnull(const cJSON *v) { return !v || cJSON_IsNull(v); }

static bool truthy(const cJSON *v)
{
  if (isnull(v)) return false;
  if (cJSON_IsBool(v)) return cJSON_IsTrue(v);
  if (cJSON_IsString(v)) return v->valuestring[0] != '\0';
  if (cJSON_IsNumber(v)) return v->valuedouble != 0;
  if (cJSON_IsArray(v) || cJSON_IsObject(v)) return v->child != NULL;
  return true;
}

static bool str_in(const cJSON *v, const char *const *list)
{
  if (!cJSON_IsString(v)) return false;
  for (; *list; list++)
    if (strcmp(v->valuestring, *list) == 0) return true;
  return false;
}

/* Syncopy's "'a' or 'b' " list (with its trailing space) */
static void or_list(const char *const *list, char *buf, size_t n)
{
  size_t used = 0;
  buf[0] = '\0';
  for (; *list && used < n; list++)
    used += (size_t)snprintf(buf + used, n - used, "%s'%s' ", used ? "or " : "", *list);
}

/* ---- the history entry ------------------------------------------------------ */

typedef struct logbuf {
  char s[2048];
  size_t used;
} logbuf;

static void log_kv(logbuf *L, const char *key, const char *val)
{
  char v[128];
  size_t len = strlen(val);
  if (len >= 80)
    snprintf(v, sizeof v, "%.30s, ..., %s", val, val + len - 30);
  else
    snprintf(v, sizeof v, "%s", val);
  if (L->used < sizeof L->s)
    L->used += (size_t)snprintf(L->s + L->used, sizeof L->s - L->used, "\t%s = %s\n", key, v);
}

static int finish_log(spy_op *op, const char *cf, const logbuf *L, spy_err *err)
{
  size_t n = strlen(cf) + L->used + 64;
  op->log = malloc(n);
  if (!op->log) return spy_fail(err, SPY_ENOMEM, "out of memory");
  snprintf(op->log, n, "computed %s with settings\n%s", cf, L->s);
  return SPY_OK;
}

static void info(const char *caller, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void info(const char *caller, const char *fmt, ...)
{
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  spy_log(SPY_LOG_INFO, "Syncopy <%s> INFO: %s", caller, msg);
}

static void warn(const char *caller, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(const char *caller, const char *fmt, ...)
{
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  spy_log(SPY_LOG_WARNING, "Syncopy <%s> WARNING: %s", caller, msg);
}

/* ---- shared plan pieces ----------------------------------------------------- */

static size_t min_len(const spy_trials *in, size_t *maxlen)
{
  size_t lo = (size_t)-1, hi = 0;
  for (size_t k = 0; k < in->ntrials; k++) {
    size_t n = spy_trial_len(in, k);
    if (n < lo) lo = n;
    if (n > hi) hi = n;
  }
  if (maxlen) *maxlen = hi;
  return in->ntrials ? lo : 0;
}

static int cmp_size(const void *a, const void *b)
{
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  return x < y ? -1 : x > y;
}

/* one Hilbert plan per distinct trial length, sorted by length */
static int plan_hilbert(pp_plan *P, const spy_trials *in, spy_err *err)
{
  size_t nt = in->ntrials, *len = malloc((nt ? nt : 1) * sizeof *len);
  P->hil = calloc(nt ? nt : 1, sizeof *P->hil);
  if (!len || !P->hil) {
    free(len);
    return spy_fail(err, SPY_ENOMEM, "out of memory");
  }
  for (size_t k = 0; k < nt; k++) len[k] = spy_trial_len(in, k);
  qsort(len, nt, sizeof *len, cmp_size);
  /* FFTW's measuring costs seconds at long lengths and did not beat its
  ** estimate on whole-trial transforms, so these plans are estimated */
  int rc = SPY_OK;
  for (size_t k = 0; k < nt && !rc; k++) {
    if (len[k] == 0 || (k > 0 && len[k] == len[k - 1])) continue;
    rc = spy_hilbert_prepare(&P->hil[P->nhil], len[k], true, err);
    if (!rc) P->nhil++;
  }
  free(len);
  return rc;
}

static int plan_fir(pp_plan *P, const char *window, long order, const double *fc, spy_btype bt,
                    bool minphase, size_t maxlen, spy_err *err)
{
  size_t m = spy_wsinc_len(order);
  double *h = malloc(m * sizeof *h);
  if (!h) return spy_fail(err, SPY_ENOMEM, "out of memory");
  int rc = spy_design_wsinc(window, order, fc, bt, h, err);
  if (!rc && minphase) rc = spy_minphase_rceps(h, m, h, err);
  if (!rc) rc = spy_fir_prepare(&P->fir, h, m, maxlen, err);
  free(h);
  P->filt = FILT_FIR;
  return rc;
}

static int empty_data(const spy_trials *in, spy_err *err)
{
  if (in->ntrials == 0)
    return spy_fail_value(err, "data", "empty", "non-empty Syncopy data object");
  return SPY_OK;
}

/* ---- spy.preprocessing ------------------------------------------------------ */

static const char *const filters[] = {"but", "firws", NULL};
static const char *const ftypes[] = {"lp", "hp", "bp", "bs", NULL};
static const char *const directions[] = {"twopass", "onepass", "onepass-minphase", NULL};
static const char *const iir_directions[] = {"onepass", "twopass", NULL};
static const char *const windows[] = {"hamming", "hann", "blackman", NULL};
static const char *const hilbert_outputs[] = {"abs",    "complex", "real",  "imag",
                                              "absreal", "absimag", "angle", NULL};

static const char nan_but[] = "Syncopy <preprocessing> WARNING: Data contains NaNs! See "
                              "`.info['nan_trials']` for the offending trials\n\t\t try using a "
                              "'onepass' FIR filter of low order..";
static const char nan_plain[] = "Syncopy <preprocessing> WARNING: Data contains NaNs! See "
                                "`.info['nan_trials']` for the offending trials";

/* Validated filter settings, gathered before the routines are chosen. */
typedef struct pp_args {
  const char *fclass; /* NULL: no filter */
  spy_btype btype;
  double freq[2];
  bool have_order;
  double order;
  int poly;
  bool zscore, rectify;
  const char *hilbert; /* NULL: none */
} pp_args;

static int check_common(const cJSON *cfg, const spy_trials *in, pp_args *A, spy_err *err)
{
  int rc;
  char act[160], lgl[160], his[64];
  const cJSON *fc = item(cfg, "filter_class"), *ft = item(cfg, "filter_type");
  const cJSON *freq = item(cfg, "freq"), *order = item(cfg, "order");
  const cJSON *poly = item(cfg, "polyremoval"), *zs = item(cfg, "zscore");
  const cJSON *rect = item(cfg, "rectify"), *hil = item(cfg, "hilbert");
  memset(A, 0, sizeof *A);
  A->poly = -1;

  if (!isnull(fc)) {
    if (!str_in(fc, filters)) {
      pystr(fc, act, sizeof act);
      or_list(filters, lgl, sizeof lgl);
      return spy_fail_value(err, "filter_class", act, "%s", lgl);
    }
    A->fclass = fc->valuestring;
    if (!str_in(ft, ftypes)) {
      pystr(ft, act, sizeof act);
      return spy_fail_value(err, "filter_type", act, "one of ('lp', 'hp', 'bp', 'bs')");
    }
    spy_btype_parse(ft->valuestring, &A->btype);
    spy_py_float(in->samplerate / 2, his, sizeof his);
    if (!spy_btype_is_band(A->btype)) {
      if ((rc = scalar_check(freq, "freq", false, 0, in->samplerate / 2, "0", his, err)))
        return rc;
      A->freq[0] = freq->valuedouble;
    } else if ((rc = freq_pair_check(freq, in->samplerate / 2, his, A->freq, err)))
      return rc;
    if (!isnull(order)) {
      if ((rc = scalar_check(order, "order", true, 0, INFINITY, "0", "inf", err))) return rc;
      A->have_order = true;
      A->order = order->valuedouble;
    }
  } else if (isnull(poly) && !(cJSON_IsBool(zs) && cJSON_IsTrue(zs)))
    return spy_fail_value(err, "filter_class/polyremoval/zscore",
                          "neither filtering, detrending or zscore requested",
                          "a preprocessing method");

  if (!isnull(poly)) {
    if ((rc = scalar_check(poly, "polyremoval", true, 0, 1, "0", "1", err))) return rc;
    A->poly = (int)poly->valuedouble;
  }
  if (!cJSON_IsBool(zs)) {
    pystr(zs, act, sizeof act);
    return spy_fail_value(err, "zscore", act, "either `True` or `False`");
  }
  if (!cJSON_IsBool(rect)) {
    pystr(rect, act, sizeof act);
    return spy_fail_value(err, "rectify", act, "either `True` or `False`");
  }
  A->zscore = cJSON_IsTrue(zs);
  A->rectify = cJSON_IsTrue(rect);
  if (A->rectify && truthy(hil)) {
    char h[64];
    pystr(hil, h, sizeof h);
    snprintf(act, sizeof act, "(True, %s%s%s)", cJSON_IsString(hil) ? "'" : "", h,
             cJSON_IsString(hil) ? "'" : "");
    return spy_fail_value(err, "rectify/hilbert", act,
                          "either rectification or Hilbert transform");
  }
  if (truthy(hil)) {
    if (!str_in(hil, hilbert_outputs)) {
      pystr(hil, act, sizeof act);
      return spy_fail_value(err, "hilbert", act,
                            "one of {'abs', 'complex', 'real', 'imag', 'absreal', 'absimag', "
                            "'angle'}");
    }
    A->hilbert = hil->valuestring;
  }
  return SPY_OK;
}

/* check_effective_parameters: settings that differ from their defaults
** but mean nothing to the chosen routine (caller input_processors) */
static void no_effect(const cJSON *cfg, const char *const *names, const char *cr)
{
  for (; *names; names++) {
    const spy_kwarg *k = spy_kw_find(&spy_spec_preprocessing, *names);
    cJSON *dflt = k ? cJSON_Parse(k->dflt) : NULL;
    const cJSON *v = item(cfg, *names);
    bool same = dflt && (v ? cJSON_Compare(v, dflt, true) : cJSON_IsNull(dflt));
    cJSON_Delete(dflt);
    if (!same) warn("input_processors", "option `%s` has no effect for `%s`!", *names, cr);
  }
}

/* freq as Syncopy logs it: the user's number, or np.sort of the band edges
** (an int array when both are integral, as the user's ints make it). */
static void fmt_freq(const pp_args *A, char *buf, size_t n)
{
  if (spy_btype_is_band(A->btype)) {
    bool ints = A->freq[0] == floor(A->freq[0]) && A->freq[1] == floor(A->freq[1]);
    char *arr = ints ? spy_np_int_array_str(A->freq, 2) : spy_np_array_str(A->freq, 2);
    snprintf(buf, n, "%s", arr ? arr : "[]");
    free(arr);
  } else
    spy_py_num(A->freq[0], buf, n);
}

int spy_preprocessing_plan(const cJSON *cfg, const spy_trials *in, spy_op *op, spy_err *err)
{
  memset(op, 0, sizeof *op);
  pp_args A;
  int rc;
  char act[160], lgl[160], buf[160];
  if ((rc = empty_data(in, err)) || (rc = check_common(cfg, in, &A, err))) return rc;
  const cJSON *dir = item(cfg, "direction"), *win = item(cfg, "window");

  pp_plan *P = calloc(1, sizeof *P);
  if (!P) return spy_fail(err, SPY_ENOMEM, "out of memory");
  op->plan = P;
  op->free_plan = pp_free;
  P->zscore = A.zscore;
  P->poly = A.poly;
  P->step = 1;
  P->out_dtype = SPY_DT_F32;

  logbuf L = {.used = 0};
  L.s[0] = '\0';
  pystr(item(cfg, "polyremoval"), buf, sizeof buf);
  log_kv(&L, "polyremoval", buf);
  log_kv(&L, "zscore", A.zscore ? "True" : "False");
  const char *cf = A.zscore ? "standardize_cF" : NULL;
  size_t maxlen, minlen = min_len(in, &maxlen);
  long order = 0;
  const char *direction = NULL;

  if (A.fclass && strcmp(A.fclass, "but") == 0) {
    if (!isnull(win) && !(cJSON_IsString(win) && strcmp(win->valuestring, "hamming") == 0)) {
      pystr(win, act, sizeof act);
      return spy_fail_value(err, "window", act, "no `window` setting for IIR filtering");
    }
    if (isnull(dir)) {
      direction = "twopass";
      info("preprocessing", "Setting default direction for IIR filter to '%s'", direction);
    } else if (!str_in(dir, iir_directions)) {
      pystr(dir, act, sizeof act);
      or_list(iir_directions, lgl, sizeof lgl);
      return spy_fail_value(err, "direction", act, "%s", lgl);
    } else
      direction = dir->valuestring;
    if (A.have_order)
      order = (long)A.order;
    else {
      order = 4;
      info("preprocessing", "Setting default order for IIR filter to %ld", order);
    }
    static const char *const ineffective[] = {"window", NULL};
    if (isnull(win)) no_effect(cfg, ineffective, "ButFiltering");

    if (order > 1000)
      return spy_fail_value(err, "order", NULL, "a Butterworth order of at most 1000");
    size_t nsec = spy_sos_nsections(spy_butter_npoles((int)order, A.btype));
    P->sos = malloc(nsec * 6 * sizeof *P->sos);
    P->zi = malloc(nsec * 2 * sizeof *P->zi);
    if (!P->sos || !P->zi) return spy_fail(err, SPY_ENOMEM, "out of memory");
    rc = spy_butter_sos((int)order, A.freq, in->samplerate, A.btype, P->sos, &P->nsec, err);
    if (rc) return rc;
    spy_sosfilt_zi(P->sos, P->nsec, P->zi);
    P->edge = spy_sosfiltfilt_edge(P->sos, P->nsec);
    P->twopass = strcmp(direction, "twopass") == 0;
    P->filt = FILT_BUT;
    P->nanmsg = nan_but;
    if (P->twopass)
      for (size_t k = 0; k < in->ntrials; k++)
        if (spy_trial_len(in, k) <= P->edge)
          return spy_fail(err, SPY_EINVAL,
                          "trial %zu has %zu samples; a two-pass Butterworth filter of order "
                          "%ld needs trials longer than %zu samples (scipy.signal.sosfiltfilt "
                          "pads %zu samples at each edge); use direction='onepass' or a lower "
                          "order",
                          k, spy_trial_len(in, k), order, P->edge, P->edge);
    cf = "but_filtering_cF";
  } else if (A.fclass) { /* firws */
    if (!str_in(win, windows)) {
      pystr(win, act, sizeof act);
      or_list(windows, lgl, sizeof lgl);
      return spy_fail_value(err, "window", act, "%s", lgl);
    }
    if (isnull(dir)) {
      direction = "onepass";
      info("preprocessing", "Setting default direction for FIR filter to '%s'", direction);
    } else if (!str_in(dir, directions)) {
      pystr(dir, act, sizeof act);
      or_list(directions, lgl, sizeof lgl);
      return spy_fail_value(err, "direction", act, "%s", lgl);
    } else
      direction = dir->valuestring;
    if (A.have_order)
      order = (long)A.order;
    else {
      order = minlen < 1000 ? (long)minlen : 1000;
      info("preprocessing", "Setting order for FIR filter to %ld", order);
    }
    double fc[2] = {A.freq[0] / in->samplerate, A.freq[1] / in->samplerate};
    if ((rc = plan_fir(P, win->valuestring, order, fc, A.btype,
                       strcmp(direction, "onepass-minphase") == 0, maxlen, err)))
      return rc;
    P->passes = strcmp(direction, "twopass") == 0 ? 2 : 1;
    P->nanmsg = nan_plain;
    cf = "sinc_filtering_cF";
  } else if (A.poly >= 0 && !A.zscore) {
    static const char *const ineffective[] = {"filter_type", "freq", "order", "direction",
                                              "window", NULL};
    no_effect(cfg, ineffective, "Detrending");
    P->filt = FILT_DETREND;
    P->nanmsg = nan_plain;
    cf = "detrending_cF";
  }

  if (A.fclass) {
    if (A.have_order)
      spy_py_num(A.order, buf, sizeof buf);
    else
      snprintf(buf, sizeof buf, "%ld", order);
    log_kv(&L, "order", buf);
    log_kv(&L, "direction", direction);
    log_kv(&L, "filter_class", A.fclass);
    log_kv(&L, "filter_type", spy_btype_name(A.btype));
    fmt_freq(&A, buf, sizeof buf);
    log_kv(&L, "freq", buf);
  }
  if (A.rectify) {
    P->post = POST_RECTIFY;
    log_kv(&L, "rectify", "True");
    cf = "rectify_cF";
  } else if (A.hilbert) {
    P->post = POST_HILBERT;
    spy_specout_parse(strcmp(A.hilbert, "complex") == 0 ? "fourier" : A.hilbert, &P->hout);
    P->out_dtype = spy_specout_dtype(P->hout);
    if ((rc = plan_hilbert(P, in, err))) return rc;
    log_kv(&L, "hilbert", A.hilbert);
    cf = "hilbert_cF";
  }

  op->name = "preprocessing";
  op->kernel = pp_kernel;
  op->scratch_bytes = pp_scratch;
  op->chan_independent = true;
  op->cls = SPY_ANALOG;
  op->out_dtype = P->out_dtype;
  op->ninner = 0;
  op->ntrials = in->ntrials;
  op->samplerate = in->samplerate;
  op->out_trlcols = in->trlcols;
  op->out_rows = malloc(in->ntrials * sizeof *op->out_rows);
  op->out_trldef = malloc(in->ntrials * in->trlcols * sizeof *op->out_trldef);
  if (!op->out_rows || !op->out_trldef) return spy_fail(err, SPY_ENOMEM, "out of memory");
  memcpy(op->out_trldef, in->trldef, in->ntrials * in->trlcols * sizeof *op->out_trldef);
  for (size_t k = 0; k < in->ntrials; k++) op->out_rows[k] = spy_trial_len(in, k);
  if (P->nanmsg && P->post == POST_NONE) {
    op->info = cJSON_CreateObject();
    if (!op->info || !cJSON_AddArrayToObject(op->info, "nan_trials"))
      return spy_fail(err, SPY_ENOMEM, "out of memory");
  }
  return finish_log(op, cf, &L, err);
}

const char *spy_preprocessing_nan_warning(const spy_op *op)
{
  if (!op || op->free_plan != pp_free || !op->plan) return NULL;
  return ((const pp_plan *)op->plan)->nanmsg;
}

/* ---- spy.resampledata ------------------------------------------------------- */

static const char *const rs_methods[] = {"downsample", "resample", NULL};

int spy_resampledata_plan(const cJSON *cfg, const spy_trials *in, spy_op *op, spy_err *err)
{
  memset(op, 0, sizeof *op);
  int rc;
  char act[160], lgl[160], his[64], buf[64];
  const cJSON *method = item(cfg, "method"), *fsv = item(cfg, "resamplefs");
  const cJSON *lpv = item(cfg, "lpfreq"), *ordv = item(cfg, "order");
  if (!str_in(method, rs_methods)) {
    pystr(method, act, sizeof act);
    or_list(rs_methods, lgl, sizeof lgl);
    return spy_fail_value(err, "method", act, "%s", lgl);
  }
  if ((rc = empty_data(in, err))) return rc;
  size_t maxlen, minlen = min_len(in, &maxlen);
  const double fs = in->samplerate;
  spy_py_float(fs, his, sizeof his);
  if ((rc = scalar_check(fsv, "resamplefs", false, 1, fs, "1", his, err))) return rc;
  const double newfs = fsv->valuedouble;
  long order;
  if (!isnull(ordv)) {
    if ((rc = scalar_check(ordv, "order", true, 0, INFINITY, "0", "inf", err))) return rc;
    order = (long)ordv->valuedouble;
    if (ordv->valuedouble < 100) {
      spy_py_num(ordv->valuedouble, buf, sizeof buf);
      warn("resampledata",
           "You have chosen an anti-alias filter of very low `order=%s`, expect a slow roll-off!",
           buf);
    }
  } else
    order = minlen < 1000 ? (long)minlen : 1000;
  if (!isnull(lpv)) {
    spy_py_float(newfs / 2, his, sizeof his);
    if ((rc = scalar_check(lpv, "lpfreq", false, 0, newfs / 2, "0", his, err))) return rc;
  }

  pp_plan *P = calloc(1, sizeof *P);
  if (!P) return spy_fail(err, SPY_ENOMEM, "out of memory");
  op->plan = P;
  op->free_plan = pp_free;
  P->poly = -1;
  P->step = 1;
  P->out_dtype = in->dtype == SPY_DT_F64 ? SPY_DT_F64 : SPY_DT_F32;

  logbuf L = {.used = 0};
  L.s[0] = '\0';
  log_kv(&L, "method", method->valuestring);
  spy_py_num(newfs, buf, sizeof buf);
  log_kv(&L, "resamplefs", buf);
  spy_py_float(fs, buf, sizeof buf);
  log_kv(&L, "origfs", buf);
  const char *cf;
  bool down = strcmp(method->valuestring, "downsample") == 0;
  double rem = fmod(fs, newfs);

  op->out_rows = malloc(in->ntrials * sizeof *op->out_rows);
  op->out_trldef = malloc(in->ntrials * 3 * sizeof *op->out_trldef);
  if (!op->out_rows || !op->out_trldef) return spy_fail(err, SPY_ENOMEM, "out of memory");

  if (down) {
    if (rem != 0) {
      pystr(fsv, act, sizeof act);
      return spy_fail_value(err, "resamplefs", act,
                            "integer division of the original sampling rate for "
                            "`method='downsample'`");
    }
    P->step = (size_t)floor(fs / newfs);
    if (!isnull(lpv)) {
      double fc[1] = {lpv->valuedouble / fs};
      if ((rc = plan_fir(P, "hamming", order, fc, SPY_LOWPASS, false, maxlen, err))) return rc;
      P->passes = 2;
      P->out_dtype = SPY_DT_F32;
    }
    for (size_t k = 0; k < in->ntrials; k++) {
      size_t n = spy_trial_len(in, k);
      op->out_rows[k] = n / P->step + (n % P->step != 0);
    }
    cf = "downsample_cF";
  } else {
    if (rem == 0)
      warn("resampledata", "New sampling rate is integeger division of the original sampling "
                           "rate, consider using `method='downsample'`");
    P->resample = true;
    if (spy_rational_approx(newfs / fs, 1000000, &P->pp.up, &P->pp.down))
      return spy_fail_value(err, "resamplefs", NULL,
                            "a ratio resamplefs/samplerate above 2^-40");
    double fcut = isnull(lpv) ? 0.5 * (newfs / fs) : lpv->valuedouble / fs;
    P->copy = P->pp.up == 1 && P->pp.down == 1;
    long up = P->pp.up, down = P->pp.down;
    if (!P->copy) {
      if (fcut == 0)
        return spy_fail(err, SPY_ENOTSUP,
                        "lpfreq=0 makes Syncopy fall back to SciPy's default Kaiser filter, "
                        "which spy does not reproduce; use lpfreq > 0");
      size_t m = spy_wsinc_len(order);
      double *h = malloc(m * sizeof *h), f1[1] = {fcut / (double)up};
      if (!h) return spy_fail(err, SPY_ENOMEM, "out of memory");
      rc = spy_design_wsinc("hamming", order, f1, SPY_LOWPASS, h, err);
      for (size_t i = 0; !rc && i < m; i++) h[i] *= (double)up;
      if (!rc && spy_polyphase_init(&P->pp, h, m, up, down))
        rc = spy_fail(err, SPY_ENOMEM, "out of memory");
      free(h);
      if (rc) return rc;
    }
    for (size_t k = 0; k < in->ntrials; k++)
      op->out_rows[k] = P->copy ? spy_trial_len(in, k)
                                : spy_resample_len(spy_trial_len(in, k), up, down);
    pystr(lpv, buf, sizeof buf);
    log_kv(&L, "lpfreq", buf);
    if (isnull(ordv))
      snprintf(buf, sizeof buf, "%ld", order);
    else
      spy_py_num(ordv->valuedouble, buf, sizeof buf);
    log_kv(&L, "order", buf);
    cf = "resample_cF";
  }

  /* Syncopy's trial definition; where its float arithmetic would disagree
  ** with the samples actually produced, the produced length wins */
  spy_resample_trldef(in->trldef, in->ntrials, in->trlcols, newfs / fs, op->out_trldef);
  for (size_t k = 0; k < in->ntrials; k++) {
    double *r = op->out_trldef + 3 * k;
    if (r[1] - r[0] != (double)op->out_rows[k]) r[1] = r[0] + (double)op->out_rows[k];
  }

  op->name = "resampledata";
  op->kernel = pp_kernel;
  op->scratch_bytes = pp_scratch;
  op->chan_independent = true;
  op->cls = SPY_ANALOG;
  op->out_dtype = P->out_dtype;
  op->ntrials = in->ntrials;
  op->samplerate = newfs;
  op->out_trlcols = 3;
  return finish_log(op, cf, &L, err);
}
