/*
** spy.freqanalysis: Syncopy's frontend (syncopy/specest/freqanalysis.py)
** in its order, with its messages: the common validation, padding,
** foi/foilim, toi presence and trial times, taper processing for the FFT
** methods, then the method plan.  Warnings and infos go through spy_log in
** Syncopy's "Syncopy <caller>: ..." form.
*/
#include "dsp/freqanalysis.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/kwspec.h"
#include "core/pyfmt.h"
#include "dsp/freqanalysis_spec.h"
#include "dsp/mtmconvol.h"
#include "fit/fooof_op.h"
#include "dsp/mtmfft.h"
#include "dsp/taper.h"
#include "dsp/wavelet.h"

/* Syncopy's availableMethods, spectralConversions keys, fooof outputs */
static const char *const methods[] = {"mtmfft", "mtmconvol", "wavelet", "superlet", "welch", NULL};
static const char *const outputs[] = {"pow",   "abs",     "fourier", "real",    "imag",
                                      "angle", "absreal", "absimag", "complex", NULL};
static const char *const fooofs[] = {"fooof", "fooof_aperiodic", "fooof_peaks", NULL};

/* Keywords each compute class accepts besides the general ones
** (check_effective_parameters: CR.valid_kws). */
static const char *const fft_valid[] = {"taper",      "taper_opt", "demean_taper", "ft_compat",
                                        "keeptapers", "output",    "tapsmofrq",    "nTaper",
                                        "fooof_opt",  NULL};
static const char *const conv_valid[] = {"taper",     "taper_opt", "toi",    "keeptapers", "output",
                                         "tapsmofrq", "t_ftimwin", "nTaper", NULL};
static const char *const general[] = {"method",      "keeptrials", "foi", "foilim",
                                      "polyremoval", "out",        "pad", NULL};

static bool in_list(const char *const *list, const char *s)
{
  for (size_t i = 0; list[i]; i++)
    if (strcmp(list[i], s) == 0) return true;
  return false;
}

static size_t count(const char *const *list)
{
  size_t n = 0;
  while (list[n])
    n++;
  return n;
}

static bool isnone(const cJSON *v)
{
  return !v || cJSON_IsNull(v);
}

static bool isclose(double a, double b)
{
  return fabs(a - b) <= 1e-8 + 1e-5 * fabs(b);
}

/* ---- pieces of the frontend ------------------------------------------------ */

void spy_fa_check_effective(const cJSON *cfg, const char *crname, const char *const *valid)
{
  for (const spy_kwarg *k = spy_spec_freqanalysis.kw; k->name; k++) {
    if (in_list(general, k->name) || in_list(valid, k->name)) continue;
    if (!strcmp(k->name, "select") || !strcmp(k->name, "parallel") ||
        !strcmp(k->name, "chan_per_worker"))
      continue;
    const cJSON *v = spy_cfg_item(cfg, k->name);
    if (!v) continue;
    cJSON *d = cJSON_Parse(k->dflt ? k->dflt : "null");
    bool same = d && cJSON_Compare(v, d, true);
    cJSON_Delete(d);
    if (!same)
      spy_py_warning("input_processors", "option `%s` has no effect for `%s`!", k->name, crname);
  }
}

void spy_fa_history(const cJSON *cfg, spy_history *h)
{
  static const char *const keys[] = {"method",     "output",      "keeptapers",
                                     "keeptrials", "polyremoval", "pad"};
  for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
    spy_history_add_json(h, keys[i], spy_cfg_item(cfg, keys[i]));
}

/* process_padding: the padded length (samples) for mtmfft. */
static int padding(const cJSON *pad, const spy_trials *in, size_t maxlen, size_t minlen,
                   size_t *nsamples, spy_err *err)
{
  char act[256];
  bool bad = !(cJSON_IsNumber(pad) || cJSON_IsString(pad)) ||
             (cJSON_IsString(pad) && strcmp(pad->valuestring, "maxperlen") &&
              strcmp(pad->valuestring, "nextpow2"));
  if (bad) {
    spy_lua_str(pad, act, sizeof act);
    return spy_fail_value(err, "pad", act, "'maxperlen', 'nextpow2' or a float number");
  }
  double sr = in->samplerate;
  if (cJSON_IsNumber(pad)) {
    char lo[48], hi[48];
    double most = fmax((double)maxlen, SPY_PAD_SAMPLES_LIMIT) / sr;
    spy_py_float((double)maxlen / sr, lo, sizeof lo);
    spy_py_float(most, hi, sizeof hi);
    int rc = spy_scalar_parser(pad, "pad", false, (double)maxlen / sr, most, lo, hi, err);
    if (rc) return rc;
    *nsamples = (size_t)(pad->valuedouble * sr);
  } else if (!strcmp(pad->valuestring, "nextpow2")) {
    size_t n = 1;
    while (n < maxlen)
      n *= 2;
    *nsamples = n;
  } else {
    *nsamples = maxlen;
    if (minlen != maxlen)
      spy_py_info("process_padding",
                  "Unequal trial lengths present, padding all trials to %zu samples", maxlen);
  }
  return SPY_OK;
}

/* process_foi: foi (values, user order) or a sorted foilim. */
static int process_foi(const cJSON *foi, const cJSON *foilim, double sr, spy_fa_common *c,
                       double **foibuf, spy_err *err)
{
  char hi[48];
  spy_py_float(sr / 2, hi, sizeof hi);
  if (!isnone(foi) && !isnone(foilim))
    return spy_fail_value(err, "foi/foilim", "both", "either `foi` or `foilim` specification");
  if (!isnone(foi)) {
    if (cJSON_IsString(foi)) {
      if (strcmp(foi->valuestring, "all"))
        return spy_fail_value(err, "foi", foi->valuestring, "'all' or `None` or list/array");
    } else {
      int rc = spy_array_parser(foi, "foi", 0, sr / 2, "0", hi, 0, foibuf, &c->nfoi, err);
      if (rc) return rc;
      c->foi = *foibuf;
    }
  }
  if (!isnone(foilim)) {
    if (cJSON_IsString(foilim)) {
      if (strcmp(foilim->valuestring, "all"))
        return spy_fail_value(err, "foilim", foilim->valuestring,
                              "'all' or `None` or `[fmin, fmax]`");
    } else {
      double *v;
      size_t n;
      int rc = spy_array_parser(foilim, "foilim", 0, sr / 2, "0", hi, 2, &v, &n, err);
      if (rc) return rc;
      c->have_foilim = true;
      c->foilim[0] = v[0];
      c->foilim[1] = v[1];
      free(v);
      if (c->foilim[0] > c->foilim[1]) {
        spy_py_info("process_foi", "Sorting foilim low to high..");
        double t = c->foilim[0];
        c->foilim[0] = c->foilim[1];
        c->foilim[1] = t;
      }
    }
  }
  return SPY_OK;
}

/* Frequencies of rfftfreq(n) selected by foi / foilim (best_match). */
static int match_freqs(const spy_fa_common *c, size_t n, double sr, size_t **fidx, size_t *nfreq,
                       spy_err *err)
{
  size_t nb = n / 2 + 1;
  double *grid = malloc(nb * sizeof *grid);
  size_t *idx = malloc((nb > c->nfoi ? nb : c->nfoi) * sizeof *idx + 1);
  if (!grid || !idx) {
    free(grid);
    free(idx);
    return spy_fail(err, SPY_ENOMEM, "out of memory");
  }
  for (size_t k = 0; k < nb; k++)
    grid[k] = spy_rfftfreq(k, n, sr);
  size_t m;
  if (c->foi) {
    m = spy_best_match(grid, nb, c->foi, c->nfoi, true, idx);
  } else if (c->have_foilim) {
    m = spy_best_match_span(grid, nb, c->foilim[0], c->foilim[1], idx);
  } else {
    spy_py_info("freqanalysis", "Automatic FFT frequency selection from %.1fHz to %.1fHz", grid[0],
                grid[nb - 1]);
    for (m = 0; m < nb; m++)
      idx[m] = m;
  }
  free(grid);
  if (m == 0) {
    free(idx);
    return spy_fail_value(err, "foi/foilim", "empty frequency selection",
                          "non-empty frequency specification");
  }
  *fidx = idx;
  *nfreq = m;
  return SPY_OK;
}

/* Everything the FFT methods share after the common part. */
typedef struct fftsetup {
  size_t nsamples; /* mtmfft: padded length; mtmconvol/welch: nperseg */
  size_t *fidx;
  size_t nfreq;
  spy_taper taper;
} fftsetup;

static int mtm_common(const cJSON *cfg, const char *method, const char *output,
                      const spy_trials *in, const spy_fa_common *c, size_t minlen, fftsetup *s,
                      spy_history *log, spy_err *err)
{
  double sr = in->samplerate;
  int rc;
  bool conv = strcmp(method, "mtmfft") != 0;
  if (conv) {
    char lo[48], hi[48];
    spy_py_float(1 / sr, lo, sizeof lo);
    spy_py_float((double)minlen / sr, hi, sizeof hi);
    const cJSON *tw = spy_cfg_item(cfg, "t_ftimwin");
    if (!tw || cJSON_IsNull(tw)) {
      spy_py_info("freqanalysis", "Please specify 't_ftimwin' parameter.. exiting!");
      return spy_fail(err, SPY_ETYPE,
                      "Wrong type of `t_ftimwin`: expected scalar found nil (method='%s' needs a "
                      "window length: give it in seconds, e.g. {method=\"%s\", t_ftimwin=0.5})",
                      method, method);
    }
    if ((rc =
             spy_scalar_parser(tw, "t_ftimwin", false, 1 / sr, (double)minlen / sr, lo, hi, err))) {
      spy_py_info("freqanalysis", "Please specify 't_ftimwin' parameter.. exiting!");
      return rc;
    }
    s->nsamples = (size_t)(tw->valuedouble * sr);
    if (!strcmp(method, "welch")) {
      if (cJSON_IsTrue(spy_cfg_item(cfg, "keeptapers")))
        return spy_fail_value(err, "keeptapers", "true", "keeptapers=false with method='welch'");
      if (strcmp(output, "pow"))
        return spy_fail_value(err, "output", output, "output='pow' with method='welch'");
    }
  }
  if (s->nsamples < 1)
    return spy_fail(err, SPY_EINVAL, "%s: the transform length is zero samples", method);
  if ((rc = match_freqs(c, s->nsamples, sr, &s->fidx, &s->nfreq, err))) return rc;
  double *fv = malloc(s->nfreq * sizeof *fv);
  if (!fv) return spy_fail(err, SPY_ENOMEM, "out of memory");
  for (size_t i = 0; i < s->nfreq; i++)
    fv[i] = spy_rfftfreq(s->fidx[i], s->nsamples, sr);
  spy_history_add_np(log, "foi", fv, s->nfreq);
  free(fv);

  double mean = 0;
  for (size_t k = 0; k < in->ntrials; k++)
    mean += (double)spy_trial_len(in, k);
  mean /= (double)in->ntrials;
  if ((rc = spy_taper_process(spy_cfg_item(cfg, "taper"), spy_cfg_item(cfg, "taper_opt"),
                              spy_cfg_item(cfg, "tapsmofrq"), spy_cfg_item(cfg, "nTaper"),
                              cJSON_IsTrue(spy_cfg_item(cfg, "keeptapers")), sr, mean, output,
                              &s->taper, err)))
    return rc;
  char num[64];
  spy_history_add(log, "taper", s->taper.none ? "None" : s->taper.name);
  if (s->taper.dpss) {
    snprintf(num, sizeof num, "%zu", s->taper.K);
    spy_history_add(log, "nTaper", num);
    spy_history_add_json(log, "tapsmofrq", spy_cfg_item(cfg, "tapsmofrq"));
  } else if (s->taper.opt && cJSON_GetArraySize(s->taper.opt) > 0) {
    spy_history_add_json(log, "taper_opt", s->taper.opt);
  }
  return SPY_OK;
}

/* toi of mtmconvol / welch (the method branch of the frontend). */
typedef struct toisetup {
  bool all;
  double overlap; /* fraction, or -1 for an array */
  double *toi;
  size_t ntoi;
  bool equidistant, even;
} toisetup;

static int process_toi(const cJSON *toi, bool welch, const spy_trials *in, const spy_fa_common *c,
                       size_t nperseg, toisetup *t, spy_err *err)
{
  char act[512];
  double sr = in->samplerate, dt = 1 / sr;
  memset(t, 0, sizeof *t);
  if (cJSON_IsString(toi)) {
    if (welch)
      return spy_fail_value(err, "toi", toi->valuestring,
                            "toi to be a float in range [0, 1] for method='welch'");
    if (strcmp(toi->valuestring, "all"))
      return spy_fail_value(err, "toi", toi->valuestring,
                            "`toi = 'all'` to center analysis windows on all time-points");
    t->all = true;
    t->overlap = INFINITY;
    return SPY_OK;
  }
  if (cJSON_IsNumber(toi)) {
    int rc = spy_scalar_parser(toi, "toi", false, 0, 1, "0", "1", err);
    if (rc) return rc;
    t->overlap = toi->valuedouble;
    return SPY_OK;
  }
  if (welch) {
    spy_lua_str(toi, act, sizeof act);
    return spy_fail_value(err, "toi", act, "toi to be a float in range [0, 1] for method='welch'");
  }
  double tmin = INFINITY, tmax = -INFINITY;
  for (size_t k = 0; k < in->ntrials; k++)
    tmin = fmin(tmin, c->tstart[k]), tmax = fmax(tmax, c->tend[k]);
  char lo[48], hi[48];
  spy_py_float(tmin, lo, sizeof lo);
  spy_py_float(tmax, hi, sizeof hi);
  int rc = spy_array_parser(toi, "toi", tmin, tmax, lo, hi, 0, &t->toi, &t->ntoi, err);
  if (rc) return rc;
  t->overlap = -1;
  if (t->ntoi == 0)
    return spy_fail_value(err, "toi", "[]",
                          "at least one time point (or 'all', or an overlap fraction)");
  size_t ns = t->ntoi - 1;
  double *steps = malloc((ns ? ns : 1) * sizeof *steps);
  if (!steps) return spy_fail(err, SPY_ENOMEM, "out of memory");
  for (size_t i = 0; i < ns; i++) {
    steps[i] = t->toi[i + 1] - t->toi[i];
    if (steps[i] < 0) {
      free(steps);
      return spy_fail_value(err, "toi", "unsorted list/array", "ordered list/array of time-points");
    }
  }
  /* the array as _make_trialdef sees it (unsnapped) */
  t->even = ns > 0;
  for (size_t i = 0; i < ns; i++)
    t->even &= isclose(steps[i], steps[0]);
  if (ns > 0) {
    double mn = steps[0];
    for (size_t i = 1; i < ns; i++)
      mn = fmin(mn, steps[i]);
    if (isclose(mn, dt))
      for (size_t i = 0; i < ns; i++)
        if (isclose(steps[i], dt)) steps[i] = dt;
    mn = steps[0];
    double mx = steps[0];
    for (size_t i = 1; i < ns; i++)
      mn = fmin(mn, steps[i]), mx = fmax(mx, steps[i]);
    if (mn < dt) {
      char d[48];
      spy_py_float(dt, d, sizeof d);
      spy_py_warning("freqanalysis", "`toi` selection too fine, max. time resolution is %ss", d);
    }
    t->equidistant = true;
    for (size_t i = 0; i < ns; i++)
      t->equidistant &= isclose(steps[i], steps[0]);
    if (mx * sr > (double)(nperseg / 2) && t->equidistant) t->equidistant = false;
  }
  free(steps);
  return SPY_OK;
}

/* ---- the plan ---------------------------------------------------------------- */

int spy_freqanalysis_plan(const cJSON *cfg, const spy_trials *in, spy_op *op, spy_err *err)
{
  char act[512], legal[512];
  int rc = SPY_OK;
  memset(op, 0, sizeof *op);
  if (!in || in->ntrials == 0)
    return spy_fail_value(err, "data", "empty", "non-empty Syncopy data object");

  const cJSON *mv = spy_cfg_item(cfg, "method");
  const char *method = cJSON_IsString(mv) ? mv->valuestring : (mv ? "" : "mtmfft");
  const cJSON *outv = spy_cfg_item(cfg, "output");
  const char *output = cJSON_IsString(outv) ? outv->valuestring : "pow";
  const char *fooof = NULL;
  if (!strcmp(method, "mtmfft") && !strncmp(output, "fooof", 5)) {
    fooof = output;
    output = "pow";
    if (!in_list(fooofs, fooof)) {
      spy_py_or_list(fooofs, count(fooofs), legal, sizeof legal);
      return spy_fail_value(err, "output_fooof", fooof, "%s", legal);
    }
  }
  if (!in_list(methods, method)) {
    spy_py_or_list(methods, count(methods), legal, sizeof legal);
    spy_lua_str(mv, act, sizeof act);
    return spy_fail_value(err, "method", act, "%s", legal);
  }
  spy_specout out;
  if (!cJSON_IsString(outv) && !fooof) {
    spy_lua_str(outv, act, sizeof act);
    spy_py_or_list(outputs, count(outputs), legal, sizeof legal);
    return spy_fail_value(err, "output", act, "%s", legal);
  }
  if (spy_specout_parse(output, &out)) {
    spy_py_or_list(outputs, count(outputs), legal, sizeof legal);
    return spy_fail_value(err, "output", output, "%s", legal);
  }
  static const char *const bools[] = {"keeptrials", "keeptapers", "demean_taper", "ft_compat"};
  for (int i = 0; i < 4; i++) {
    const cJSON *v = spy_cfg_item(cfg, bools[i]);
    if (v && !cJSON_IsBool(v)) return spy_fail_type(err, bools[i], "boolean", spy_lua_typename(v));
  }
  const cJSON *toi = spy_cfg_item(cfg, "toi");
  if (in->time_selected && cJSON_IsArray(toi)) {
    spy_lua_str(toi, act, sizeof act);
    return spy_fail_value(err, "toi", act,
                          "no `toi` specification due to active in-place time-selection in input "
                          "dataset");
  }
  size_t maxlen = 0, minlen = (size_t)-1;
  for (size_t k = 0; k < in->ntrials; k++) {
    size_t l = spy_trial_len(in, k);
    if (l > maxlen) maxlen = l;
    if (l < minlen) minlen = l;
  }

  spy_fa_common c = {0};
  c.output = out;
  c.keeptrials = spy_cfg_bool(cfg, "keeptrials", true);
  const cJSON *poly = spy_cfg_item(cfg, "polyremoval");
  c.polyremoval = -1;
  if (!isnone(poly)) {
    if ((rc = spy_scalar_parser(poly, "polyremoval", true, 0, 1, "0", "1", err))) return rc;
    c.polyremoval = (int)poly->valuedouble;
  }

  const cJSON *pad = spy_cfg_item(cfg, "pad");
  size_t nsamples = minlen;
  bool conv = !strcmp(method, "mtmconvol") || !strcmp(method, "welch");
  if (conv && cJSON_IsString(pad) && strcmp(pad->valuestring, "maxperlen"))
    spy_py_warning("freqanalysis",
                   "methods 'mtmconvol' and 'welch' only support in-place padding for windows "
                   "exceeding trial boundaries. Your choice of `pad = '%s'` will be ignored. ",
                   pad->valuestring);
  if (!strcmp(method, "mtmfft") && (rc = padding(pad, in, maxlen, minlen, &nsamples, err)))
    return rc;

  double *foibuf = NULL, *tbuf = NULL;
  fftsetup fs = {0};
  toisetup ts = {0};
  spy_history log = {0};
  if ((rc = process_foi(spy_cfg_item(cfg, "foi"), spy_cfg_item(cfg, "foilim"), in->samplerate, &c,
                        &foibuf, err)))
    goto done;

  bool tf = strcmp(method, "mtmfft") != 0;
  if (tf) {
    if (isnone(toi)) {
      rc = spy_fail_type(err, "toi", "scalar or array-like or 'all'", "nil");
      goto done;
    }
    if (!(tbuf = malloc(2 * in->ntrials * sizeof *tbuf))) {
      rc = spy_fail(err, SPY_ENOMEM, "out of memory");
      goto done;
    }
    for (size_t k = 0; k < in->ntrials; k++) {
      tbuf[k] = spy_trial_offset(in, k) / in->samplerate;
      tbuf[in->ntrials + k] = tbuf[k] + (double)spy_trial_len(in, k) / in->samplerate;
    }
    c.tstart = tbuf;
    c.tend = tbuf + in->ntrials;
  }
  if (!strcmp(method, "wavelet")) {
    rc = spy_wavelet_plan(cfg, in, &c, op, err);
    goto done;
  }
  if (!strcmp(method, "superlet")) {
    rc = spy_superlet_plan(cfg, in, &c, op, err);
    goto done;
  }

  fs.nsamples = nsamples;
  spy_fa_history(cfg, &log);
  if ((rc = mtm_common(cfg, method, output, in, &c, minlen, &fs, &log, err))) goto done;
  bool keeptapers = cJSON_IsTrue(spy_cfg_item(cfg, "keeptapers"));
  const cJSON *cpw = spy_cfg_item(cfg, "chan_per_worker");
  size_t chunk = cJSON_IsNumber(cpw) && cpw->valuedouble >= 1 ? (size_t)cpw->valuedouble : 0;
  const char *cf;
  if (!strcmp(method, "mtmfft")) {
    spy_fa_check_effective(cfg, "MultiTaperFFT", fft_valid);
    spy_mtmfft_params p = {.nfft = fs.nsamples,
                           .taper = &fs.taper,
                           .fidx = fs.fidx,
                           .nfreq = fs.nfreq,
                           .output = out,
                           .keeptapers = keeptapers,
                           .keeptrials = c.keeptrials,
                           .demean_taper = cJSON_IsTrue(spy_cfg_item(cfg, "demean_taper")),
                           .ft_compat = cJSON_IsTrue(spy_cfg_item(cfg, "ft_compat")),
                           .polyremoval = c.polyremoval,
                           .chan_chunk = chunk};
    if ((rc = spy_mtmfft_plan(&p, in, op, err))) goto done;
    cf = "mtmfft_cF";
  } else {
    bool welch = !strcmp(method, "welch");
    spy_fa_check_effective(cfg, "MultiTaperFFTConvol", conv_valid);
    if ((rc = process_toi(toi, welch, in, &c, fs.nsamples, &ts, err))) goto done;
    size_t M = fs.nsamples, noverlap = M - 1;
    if (ts.overlap >= 0 && ts.overlap <= 1) {
      size_t o = (size_t)(ts.overlap * (double)M);
      noverlap = o < M - 1 ? o : M - 1;
    }
    spy_mtmconvol_params p = {.nperseg = M,
                              .step = M - noverlap,
                              .toi_all = ts.all,
                              .toi = ts.toi,
                              .ntoi = ts.ntoi,
                              .equidistant = ts.equidistant,
                              .toi_even = ts.even,
                              .tstart = c.tstart,
                              .taper = &fs.taper,
                              .fidx = fs.fidx,
                              .nfreq = fs.nfreq,
                              .output = out,
                              .keeptapers = keeptapers,
                              .keeptrials = c.keeptrials,
                              .welch = welch,
                              .polyremoval = c.polyremoval,
                              .chan_chunk = chunk};
    if ((rc = spy_mtmconvol_plan(&p, in, op, err))) goto done;
    cf = "mtmconvol_cF";
  }
  if (fooof) {
    if (op->nfreq && op->freq[0] == 0) {
      char a[48], b[48];
      spy_py_float(op->freq[0], a, sizeof a);
      spy_py_float(op->freq[op->nfreq - 1], b, sizeof b);
      snprintf(act, sizeof act, "Frequency range from %s to %s.", a, b);
      rc = spy_fail_value(err, "foi/foilim", act,
                          "a frequency range that does not include zero. Use 'foi' or 'foilim' to "
                          "restrict.");
    } else {
      rc = spy_fooof_wrap(op, fooof, spy_cfg_item(cfg, "fooof_opt"), in->nchan, err);
    }
    if (rc) {
      spy_op_free(op);
      goto done;
    }
  }
  /* FOOOF's result carries two history entries, as Syncopy's: the mtmfft
  ** run and the fit, whose log_dict adds fooof_method and fooof_opt */
  char *first = fooof ? spy_history_text(&log, cf) : NULL;
  if (fooof) {
    spy_fooof_opts fo;
    bool verbose;
    char txt[512];
    spy_fooof_parse_opts(spy_cfg_item(cfg, "fooof_opt"), &fo, &verbose, err);
    spy_fooof_opts_str(&fo, verbose, txt, sizeof txt);
    spy_history_add(&log, "fooof_method", fooof);
    spy_history_add(&log, "fooof_opt", txt);
  }
  char *last = spy_history_text(&log, fooof ? "fooofspy_cF" : cf);
  if (fooof && first && last) {
    size_t n1 = strlen(first), n2 = strlen(last);
    op->log = malloc(n1 + n2 + 1);
    if (op->log) memcpy(op->log, first, n1), memcpy(op->log + n1, last, n2 + 1);
    free(last);
  } else if (!fooof) {
    op->log = last;
  } else {
    free(last);
  }
  free(first);
  if (!op->log) {
    spy_op_free(op);
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
  }

done:
  free(foibuf);
  free(tbuf);
  free(fs.fidx);
  free(ts.toi);
  spy_taper_clear(&fs.taper);
  spy_history_free(&log);
  return rc;
}

/* ---- pieces connectivityanalysis runs too ------------------------------------ */

int spy_fa_padding(const cJSON *pad, const spy_trials *in, size_t *nsamples, spy_err *err)
{
  size_t maxlen = 0, minlen = (size_t)-1;
  for (size_t k = 0; k < in->ntrials; k++) {
    size_t l = spy_trial_len(in, k);
    if (l > maxlen) maxlen = l;
    if (l < minlen) minlen = l;
  }
  return padding(pad, in, maxlen, minlen, nsamples, err);
}

int spy_fa_foi(const cJSON *foi, const cJSON *foilim, double sr, spy_fa_common *c,
               double **foibuf, spy_err *err)
{
  return process_foi(foi, foilim, sr, c, foibuf, err);
}

int spy_fa_match(const spy_fa_common *c, size_t n, double sr, size_t **fidx, size_t *nfreq,
                 spy_err *err)
{
  return match_freqs(c, n, sr, fidx, nfreq, err);
}
