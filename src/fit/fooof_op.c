/*
** The FOOOF op: mtmfft kernel per trial, FOOOF fits in finalize.
*/
#include "fit/fooof_op.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/interrupt.h"
#include "core/kwspec.h"
#include "core/pyfmt.h"

static const char *const optkeys[] = {"peak_width_limits", "max_n_peaks",    "min_peak_height",
                                      "peak_threshold",    "aperiodic_mode", "verbose"};
enum { NOPT = 6 };

/* per channel results of the last finalize */
typedef struct {
  double *ap;            /* nap x nchan */
  size_t *npeaks;        /* nchan */
  double *r2, *error;    /* nchan */
  double *gauss, *peak;  /* sum(npeaks) x 3, channel after channel */
  size_t rows;
  bool done;
} results;

typedef struct {
  void *inner;
  int (*ikernel)(const void *, spy_task *, spy_err *);
  size_t (*iscratch)(const void *, size_t, size_t);
  void (*ifree)(void *);
  size_t nfreq, nchan, blk; /* blk: bytes of the float32 power block, 64-aligned */
  double *freq;
  spy_fooof_opts opts;
  spy_fooof_output kind;
  size_t ncalls;  /* 1 (trial average) or ntrials (keeptrials) */
  results *res;   /* ncalls */
} fplan;

static void free_results(results *r, size_t n)
{
  for (size_t i = 0; r && i < n; i++) {
    free(r[i].ap);
    free(r[i].npeaks);
    free(r[i].r2);
    free(r[i].error);
    free(r[i].gauss);
    free(r[i].peak);
  }
  free(r);
}

static void free_plan(void *pv)
{
  fplan *p = pv;
  if (!p) return;
  if (p->ifree) p->ifree(p->inner);
  free(p->freq);
  free_results(p->res, p->ncalls);
  free(p);
}

static size_t f_scratch(const void *pv, size_t nsamp, size_t nchan)
{
  const fplan *p = pv;
  return p->blk + (p->iscratch ? p->iscratch(p->inner, nsamp, nchan) : 0);
}

/* Fits every channel of a power block (nfreq x nchan sums over ntr
** trials) into out (float32, same layout) and r. */
static int fit_block(const fplan *p, const double *pw, double ntr, float *out, results *r,
                     double *spec, spy_err *err)
{
  size_t nf = p->nfreq, nc = p->nchan;
  double *fitted = spec + nf;
  int rc = SPY_OK;
  r->rows = 0;
  r->done = false;
  for (size_t c = 0; c < nc && !rc; c++) {
    if (spy_interrupted()) return spy_fail(err, SPY_EINTR, "interrupted");
    /* the power Syncopy fits is stored as float32 */
    for (size_t i = 0; i < nf; i++)
      spec[i] = (double)(float)(pw[i * nc + c] / ntr);
    spy_fooof_fit fit = {0};
    if ((rc = spy_fooof(&p->opts, p->freq, spec, nf, p->kind, fitted, &fit, err))) {
      char msg[sizeof err->msg];
      snprintf(msg, sizeof msg, "%s", err->msg);
      return spy_fail(err, rc, "%s (channel %zu)", msg, c + 1);
    }
    for (size_t i = 0; i < nf; i++)
      out[i * nc + c] = (float)fitted[i];
    for (int k = 0; k < fit.nap; k++)
      r->ap[(size_t)k * nc + c] = fit.ap[k];
    r->npeaks[c] = fit.npeaks;
    r->r2[c] = fit.r_squared;
    r->error[c] = fit.error;
    if (fit.npeaks) {
      double *g = realloc(r->gauss, (r->rows + fit.npeaks) * 3 * sizeof *g);
      if (g) r->gauss = g;
      double *q = g ? realloc(r->peak, (r->rows + fit.npeaks) * 3 * sizeof *q) : NULL;
      if (q) r->peak = q;
      if (!g || !q) rc = spy_fail(err, SPY_ENOMEM, "out of memory");
      if (!rc) {
        memcpy(r->gauss + 3 * r->rows, fit.gauss, 3 * fit.npeaks * sizeof *g);
        memcpy(r->peak + 3 * r->rows, fit.peak, 3 * fit.npeaks * sizeof *q);
        r->rows += fit.npeaks;
      }
    }
    spy_fooof_fit_free(&fit);
  }
  r->done = rc == SPY_OK;
  return rc;
}

/* runs the mtmfft kernel into the float32 block at the head of scratch */
static int power(const fplan *p, spy_task *t, float **pw, spy_err *err)
{
  *pw = t->scratch;
  spy_task it = *t;
  it.out = *pw;
  it.scratch = (char *)t->scratch + p->blk;
  int rc = p->ikernel(p->inner, &it, err);
  t->flags = it.flags;
  return rc;
}

/* trial average: hand the power up as doubles */
static int f_kernel(const void *pv, spy_task *t, spy_err *err)
{
  const fplan *p = pv;
  float *pw;
  int rc = power(p, t, &pw, err);
  if (rc) return rc;
  double *acc = t->out;
  for (size_t i = 0; i < p->nfreq * p->nchan; i++)
    acc[i] = pw[i];
  return SPY_OK;
}

static int f_finalize(const void *pv, const double *acc, size_t ntrials, void *outv, spy_err *err)
{
  const fplan *p = pv;
  double *spec = malloc(2 * p->nfreq * sizeof *spec);
  if (!spec) return spy_fail(err, SPY_ENOMEM, "out of memory");
  int rc = fit_block(p, acc, (double)ntrials, outv, p->res, spec, err);
  free(spec);
  return rc;
}

/* keeptrials: fit each trial's power in its task; results stay in the plan */
static int f_kernel_trial(const void *pv, spy_task *t, spy_err *err)
{
  const fplan *p = pv;
  float *pw;
  int rc = power(p, t, &pw, err);
  if (rc) return rc;
  size_t n = p->nfreq * p->nchan;
  double *buf = malloc(n * sizeof *buf + 2 * p->nfreq * sizeof *buf);
  if (!buf) return spy_fail(err, SPY_ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++)
    buf[i] = pw[i];
  rc = fit_block(p, buf, 1.0, t->out, p->res + t->trial, buf + n, err);
  free(buf);
  return rc; /* the scheduler names the trial (task_context) */
}

static cJSON *numbers(const double *v, size_t n)
{
  cJSON *a = cJSON_CreateArray();
  for (size_t i = 0; a && i < n; i++)
    cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
  return a;
}

/* rows x 3 arrays of each channel's peaks */
static cJSON *per_channel(const double *rows, const size_t *npeaks, size_t nc)
{
  cJSON *a = cJSON_CreateArray();
  size_t r0 = 0;
  for (size_t c = 0; a && c < nc; c++) {
    cJSON *ch = cJSON_CreateArray();
    for (size_t q = 0; ch && q < npeaks[c]; q++)
      cJSON_AddItemToArray(ch, numbers(rows + 3 * (r0 + q), 3));
    r0 += npeaks[c];
    cJSON_AddItemToArray(a, ch);
  }
  return a;
}

static void put(cJSON *md, const char *name, size_t call, cJSON *v)
{
  char key[96];
  snprintf(key, sizeof key, "%s__%zu_0", name, call);
  cJSON *o = cJSON_GetObjectItem(md, name);
  if (!o) cJSON_AddItemToObject(md, name, o = cJSON_CreateObject());
  cJSON_AddItemToObject(o, key, v);
}

/* Syncopy's out.metadata: {label: {"<label>__<call>_0": value}}, calls
** being the trial-average call 0 or the trials. */
static cJSON *f_metadata(const void *pv)
{
  const fplan *p = pv;
  size_t nc = p->nchan;
  int nap = p->opts.knee ? 3 : 2;
  cJSON *md = cJSON_CreateObject();
  static const char *const order[] = {"aperiodic_params", "error",     "gaussian_params",
                                      "n_peaks",          "peak_params", "r_squared"};
  for (int i = 0; md && i < 6; i++)
    cJSON_AddItemToObject(md, order[i], cJSON_CreateObject());
  for (size_t k = 0; md && k < p->ncalls; k++) {
    const results *r = p->res + k;
    if (!r->done) continue;
    cJSON *ap = cJSON_CreateArray();
    for (int q = 0; ap && q < nap; q++)
      cJSON_AddItemToArray(ap, numbers(r->ap + (size_t)q * nc, nc));
    put(md, "aperiodic_params", k, ap);
    put(md, "error", k, numbers(r->error, nc));
    put(md, "gaussian_params", k, per_channel(r->gauss, r->npeaks, nc));
    cJSON *np = cJSON_CreateArray();
    for (size_t c = 0; np && c < nc; c++)
      cJSON_AddItemToArray(np, cJSON_CreateNumber((double)r->npeaks[c]));
    put(md, "n_peaks", k, np);
    put(md, "peak_params", k, per_channel(r->peak, r->npeaks, nc));
    put(md, "r_squared", k, numbers(r->r2, nc));
  }
  return md;
}

/* ---- options ------------------------------------------------------------- */

static int num_opt(const cJSON *v, const char *name, double lo, bool lo_open, double *out,
                   spy_err *err)
{
  char act[128];
  if (!cJSON_IsNumber(v)) return spy_fail_type(err, name, "scalar", spy_lua_typename(v));
  double d = v->valuedouble;
  if (isnan(d) || (lo_open ? !(d > lo) : !(d >= lo))) {
    spy_lua_str(v, act, sizeof act);
    return spy_fail_value(err, name, act, "value %s %g", lo_open ? ">" : ">=", lo);
  }
  *out = d;
  return SPY_OK;
}

int spy_fooof_parse_opts(const cJSON *fo, spy_fooof_opts *o, bool *verbose, spy_err *err)
{
  *o = SPY_FOOOF_DEFAULTS;
  *verbose = false;
  if (!fo || cJSON_IsNull(fo)) return SPY_OK;
  if (!cJSON_IsObject(fo)) return spy_fail_type(err, "fooof_opt", "table", spy_lua_typename(fo));
  char bad[512] = "", act[256];
  size_t used = 0, nbad = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, fo) {
    bool ok = false;
    for (int i = 0; i < NOPT; i++)
      ok |= strcmp(e->string, optkeys[i]) == 0;
    if (!ok)
      used += (size_t)snprintf(bad + used, used < sizeof bad ? sizeof bad - used : 0, "%s'%s'",
                               nbad++ ? ", " : "", e->string);
  }
  if (nbad)
    return spy_fail(err, SPY_EINVAL,
                    "fooof_opt: invalid keys: '[%s]', allowed keys are: '['peak_width_limits', "
                    "'max_n_peaks', 'min_peak_height', 'peak_threshold', 'aperiodic_mode', "
                    "'verbose']'.",
                    bad);
  const cJSON *v = cJSON_GetObjectItem(fo, "peak_width_limits");
  if (v) {
    bool ok = cJSON_IsArray(v) && cJSON_GetArraySize(v) == 2 &&
              cJSON_IsNumber(cJSON_GetArrayItem(v, 0)) && cJSON_IsNumber(cJSON_GetArrayItem(v, 1));
    double lo = ok ? cJSON_GetArrayItem(v, 0)->valuedouble : 0;
    double hi = ok ? cJSON_GetArrayItem(v, 1)->valuedouble : 0;
    if (!ok || !(lo > 0) || !(hi > lo) || !isfinite(hi)) {
      spy_lua_str(v, act, sizeof act);
      return spy_fail_value(err, "peak_width_limits", act,
                            "two increasing positive finite widths in Hz, e.g. {0.5, 12}");
    }
    o->width_lo = lo, o->width_hi = hi;
  }
  v = cJSON_GetObjectItem(fo, "max_n_peaks");
  if (v && !cJSON_IsNull(v)) { /* null: inf (how JSON writes FOOOF's np.inf) */
    int rc = num_opt(v, "max_n_peaks", 0, false, &o->max_n_peaks, err);
    if (rc) return rc;
    if (isfinite(o->max_n_peaks) && o->max_n_peaks != floor(o->max_n_peaks)) {
      spy_lua_str(v, act, sizeof act);
      return spy_fail_value(err, "max_n_peaks", act, "an integer >= 0 or inf");
    }
  }
  v = cJSON_GetObjectItem(fo, "min_peak_height");
  if (v) {
    int rc = num_opt(v, "min_peak_height", 0, false, &o->min_peak_height, err);
    if (rc) return rc;
  }
  v = cJSON_GetObjectItem(fo, "peak_threshold");
  if (v) {
    int rc = num_opt(v, "peak_threshold", 0, false, &o->peak_threshold, err);
    if (rc) return rc;
  }
  v = cJSON_GetObjectItem(fo, "aperiodic_mode");
  if (v) {
    if (!cJSON_IsString(v) ||
        (strcmp(v->valuestring, "fixed") && strcmp(v->valuestring, "knee"))) {
      spy_lua_str(v, act, sizeof act);
      return spy_fail_value(err, "aperiodic_mode", act, "'fixed' or 'knee'");
    }
    o->knee = strcmp(v->valuestring, "knee") == 0;
  }
  v = cJSON_GetObjectItem(fo, "verbose");
  if (v) {
    if (!cJSON_IsBool(v)) return spy_fail_type(err, "verbose", "boolean", spy_lua_typename(v));
    *verbose = cJSON_IsTrue(v);
  }
  for (int i = 0; i < 3; i++) {
    double x = i == 0 ? o->min_peak_height : i == 1 ? o->peak_threshold : o->width_lo;
    if (!isfinite(x)) {
      snprintf(act, sizeof act, "%s", "inf");
      return spy_fail_value(err, i == 0 ? "min_peak_height" : i == 1 ? "peak_threshold" : "peak_width_limits",
                            act, "a finite value");
    }
  }
  return SPY_OK;
}

void spy_fooof_opts_str(const spy_fooof_opts *o, bool verbose, char *buf, size_t n)
{
  char a[48], b[48], c[48], d[48], e[48];
  spy_py_float(o->width_lo, a, sizeof a);
  spy_py_float(o->width_hi, b, sizeof b);
  if (isinf(o->max_n_peaks)) snprintf(c, sizeof c, "inf");
  else snprintf(c, sizeof c, "%.0f", o->max_n_peaks);
  spy_py_float(o->min_peak_height, d, sizeof d);
  spy_py_float(o->peak_threshold, e, sizeof e);
  snprintf(buf, n,
           "{'peak_width_limits': (%s, %s), 'max_n_peaks': %s, 'min_peak_height': %s, "
           "'peak_threshold': %s, 'aperiodic_mode': '%s', 'verbose': %s}",
           a, b, c, d, e, o->knee ? "knee" : "fixed", verbose ? "True" : "False");
}

/* ---- the op ---------------------------------------------------------------- */

int spy_fooof_wrap(spy_op *op, const char *output, const cJSON *fooof_opt, size_t nchan,
                   spy_err *err)
{
  spy_fooof_opts o;
  bool verbose;
  int rc = spy_fooof_parse_opts(fooof_opt, &o, &verbose, err);
  if (rc) return rc;
  if (op->ninner != 2 || op->inner[0] != 1 || op->out_dtype != SPY_DT_F32)
    return spy_fail_value(err, "keeptapers", "true", "false with FOOOF outputs");
  size_t nf = op->nfreq, nc = nchan ? nchan : 1;
  if (nf < 3)
    return spy_fail_value(err, "foi/foilim", "fewer than 3 frequencies",
                          "at least 3 frequencies for FOOOF");
  /* FOOOF's _check_freqs: np.isclose(np.diff(freqs), freqs[1] - freqs[0]) */
  double res = op->freq[1] - op->freq[0];
  for (size_t i = 1; i < nf; i++) {
    double dfi = op->freq[i] - op->freq[i - 1];
    if (!(fabs(dfi - res) <= 1e-8 + 1e-5 * fabs(res)))
      return spy_fail_value(err, "foi", "not evenly spaced",
                            "equidistant frequencies for FOOOF (the model expects equidistant "
                            "frequency values in linear space)");
  }
  if (verbose && 1.5 * (op->freq[1] - op->freq[0]) >= o.width_lo) {
    char a[48], b[48];
    snprintf(a, sizeof a, "%.2f", o.width_lo);
    snprintf(b, sizeof b, "%.2f", op->freq[1] - op->freq[0]);
    spy_py_warning("freqanalysis",
                   "FOOOF WARNING: Lower-bound peak width limit is < or ~= the frequency "
                   "resolution: %s <= %s. Lower bounds below frequency-resolution have no effect "
                   "(effective lower bound is the frequency resolution).",
                   a, b);
  }
  fplan *p = calloc(1, sizeof *p);
  if (!p) return spy_fail(err, SPY_ENOMEM, "out of memory");
  p->ncalls = op->average ? 1 : op->ntrials;
  p->res = calloc(p->ncalls ? p->ncalls : 1, sizeof *p->res);
  p->freq = malloc(nf * sizeof *p->freq);
  int nap = o.knee ? 3 : 2;
  bool ok = p->res && p->freq;
  for (size_t k = 0; ok && k < p->ncalls; k++) {
    results *r = p->res + k;
    r->ap = calloc((size_t)nap * nc, sizeof *r->ap);
    r->npeaks = calloc(nc, sizeof *r->npeaks);
    r->r2 = calloc(nc, sizeof *r->r2);
    r->error = calloc(nc, sizeof *r->error);
    ok = r->ap && r->npeaks && r->r2 && r->error;
  }
  if (!ok) {
    free_plan(p);
    return spy_fail(err, SPY_ENOMEM, "out of memory");
  }
  memcpy(p->freq, op->freq, nf * sizeof *p->freq);
  p->nfreq = nf;
  p->nchan = nchan;
  p->blk = (nf * nchan * sizeof(float) + 63) / 64 * 64;
  p->opts = o;
  p->kind = !strcmp(output, "fooof_aperiodic") ? SPY_FOOOF_APERIODIC
            : !strcmp(output, "fooof_peaks")   ? SPY_FOOOF_PEAKS
                                               : SPY_FOOOF_FULL;
  p->inner = op->plan;
  p->ikernel = op->kernel;
  p->iscratch = op->scratch_bytes;
  p->ifree = op->free_plan;
  op->plan = p;
  op->scratch_bytes = f_scratch;
  op->free_plan = free_plan;
  op->chan_independent = false;
  op->metadata = f_metadata;
  if (op->average) {
    op->kernel = f_kernel;
    op->acc_elems = nf * nchan;
    op->finalize = f_finalize;
  } else {
    op->kernel = f_kernel_trial;
    op->in_process = true;
  }
  op->name = "fooof";
  return SPY_OK;
}
