#include "data/selection.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/kwspec.h"
#include "core/log.h"

void spy_selection_free(spy_selection *s)
{
  if (!s) return;
  free(s->trials);
  free(s->row0);
  free(s->nrows);
  free(s->chans);
  free(s->chans_j);
  free(s->freqs);
  free(s->tapers);
  free(s->trldef);
  free(s);
}

static const char *const keys_analog[] = {"trials", "latency", "channel", NULL};
static const char *const keys_spectral[] = {"trials", "latency", "channel", "frequency", "taper",
                                            NULL};
static const char *const keys_cross[] = {"trials", "latency", "channel_i", "channel_j",
                                         "frequency", NULL};
static const char *const keys_all[] = {"trials",    "latency",   "channel", "channel_i",
                                       "channel_j", "frequency", "taper",   NULL};

static const char *const *classkeys(spy_dataclass c)
{
  return spy_dataclass_timechannel(c) ? keys_analog : c == SPY_SPECTRAL ? keys_spectral : keys_cross;
}

static bool inlist(const char *const *l, const char *k)
{
  for (; *l; l++)
    if (strcmp(*l, k) == 0) return true;
  return false;
}

static void keylist(const char *const *l, char *buf, size_t n)
{
  size_t used = 0;
  buf[0] = '\0';
  for (; *l && used < n; l++) {
    int w = snprintf(buf + used, n - used, "%s'%s'", used ? ", " : "", *l);
    if (w > 0) used += (size_t)w;
  }
}

static bool isall(const cJSON *v)
{
  return !v || cJSON_IsNull(v) || (cJSON_IsString(v) && strcmp(v->valuestring, "all") == 0);
}

static bool intlike(const cJSON *v)
{
  return cJSON_IsNumber(v) && isfinite(v->valuedouble) && v->valuedouble == floor(v->valuedouble);
}

/* Edit distance (Levenshtein) of two short names, capped at 64 characters. */
static size_t edit_distance(const char *a, const char *b)
{
  size_t na = strnlen(a, 64), nb = strnlen(b, 64), row[65];
  for (size_t j = 0; j <= nb; j++) row[j] = j;
  for (size_t i = 1; i <= na; i++) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= nb; j++) {
      size_t up = row[j];
      size_t best = diag + (a[i - 1] != b[j - 1]);
      if (up + 1 < best) best = up + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  return row[nb];
}

/* "; 'x' is not a channel name (did you mean 'y'?); the names are 'a', 'b',
** ... (N in all)": the object's names, with the nearest one first. */
static void unknown_label_hint(const char *name, char *const *labels, size_t nlab, const char *what,
                               char *buf, size_t n)
{
  size_t best = 0, bestd = (size_t)-1, used = 0;
  for (size_t i = 0; i < nlab; i++) {
    size_t d = edit_distance(name, labels[i]);
    if (d < bestd) bestd = d, best = i;
  }
  int w = snprintf(buf, n, "; '%s' is not a %s name", name, what);
  if (w > 0) used = (size_t)w;
  if (nlab && bestd <= (strlen(name) + 1) / 2 + 1 && used < n) {
    w = snprintf(buf + used, n - used, " (did you mean '%s'?)", labels[best]);
    if (w > 0) used += (size_t)w;
  }
  size_t shown = nlab < 8 ? nlab : 8;
  for (size_t i = 0; i < shown && used < n; i++) {
    w = snprintf(buf + used, n - used, "%s'%s'", i ? ", " : "; the names are ", labels[i]);
    if (w > 0) used += (size_t)w;
  }
  if (nlab > shown && used < n) snprintf(buf + used, n - used, ", ... (%zu in all)", nlab);
}

/* Indices (1-based ints) or names into 0-based indices; `what` names the key. */
static int resolve_labels(const cJSON *v, char *const *labels, size_t nlab, const char *what,
                          size_t **out, size_t *nout, spy_err *err)
{
  size_t n = cJSON_IsArray(v) ? (size_t)cJSON_GetArraySize(v) : 1;
  size_t *idx = malloc((n ? n : 1) * sizeof *idx);
  if (!idx) return spy_fail(err, SPY_ENOMEM, "out of memory");
  size_t m = 0;
  const cJSON *e = cJSON_IsArray(v) ? v->child : v;
  for (; e; e = cJSON_IsArray(v) ? e->next : NULL) {
    char brief[200];
    spy_json_brief(v, brief, sizeof brief);
    if (cJSON_IsString(e)) {
      size_t i = 0;
      while (i < nlab && strcmp(labels[i], e->valuestring) != 0) i++;
      if (i == nlab) {
        char hint[1024];
        unknown_label_hint(e->valuestring, labels, nlab, what, hint, sizeof hint);
        free(idx);
        return spy_fail_value(err, what, brief, "list/array of %s existing names or indices%s", what,
                              hint);
      }
      idx[m++] = i;
    } else if (intlike(e)) {
      double x = e->valuedouble;
      if (x < 0) x += (double)nlab + 1; /* -1 is the last */
      if (x < 1 || x > (double)nlab) {
        free(idx);
        return spy_fail_value(err, what, brief, "list/array of %s existing names or indices (1..%zu)",
                              what, nlab);
      }
      idx[m++] = (size_t)x - 1;
    } else {
      free(idx);
      return spy_fail_type(err, what, "a name, a 1-based index or a list of them, or 'all'",
                           cJSON_IsArray(e) ? "list" : cJSON_IsBool(e) ? "boolean" : "value");
    }
  }
  if (m == 0) {
    free(idx);
    return spy_fail_value(err, what, "[]", "non-empty %s selection", what);
  }
  *out = idx;
  *nout = m;
  return SPY_OK;
}

static int all_indices(size_t n, size_t **out, size_t *nout)
{
  size_t *idx = malloc((n ? n : 1) * sizeof *idx);
  if (!idx) return SPY_ENOMEM;
  for (size_t i = 0; i < n; i++) idx[i] = i;
  *out = idx;
  *nout = n;
  return SPY_OK;
}

static double trial_len(const spy_data *d, size_t k)
{
  return d->trldef[k * d->trlcols + 1] - d->trldef[k * d->trlcols];
}

/* Latency window and per-trial sample ranges (syncopy.md 7.1, latency). */
static int latency(const spy_data *d, const cJSON *lat, bool partial, spy_selection *s,
                   spy_err *err)
{
  double sr = d->samplerate;
  size_t nt = s->ntrials;
  double lo = INFINITY, hi = -INFINITY, maxstart = -INFINITY, minend = INFINITY;
  for (size_t i = 0; i < nt; i++) {
    size_t k = s->trials[i];
    double off = d->trldef[k * d->trlcols + 2];
    double t0 = off / sr, t1 = (trial_len(d, k) - 1 + off) / sr;
    lo = fmin(lo, t0);
    hi = fmax(hi, t1);
    maxstart = fmax(maxstart, t0);
    minend = fmin(minend, t1);
  }
  double w0, w1;
  char brief[200];
  spy_json_brief(lat, brief, sizeof brief);
  if (cJSON_IsString(lat)) {
    const char *m = lat->valuestring;
    if (strcmp(m, "maxperiod") == 0) {
      w0 = lo, w1 = hi;
    } else if (strcmp(m, "minperiod") == 0) {
      if (maxstart > minend)
        return spy_fail_value(err, "latency", "minperiod - no common time window for all trials",
                              "overlapping trials");
      w0 = maxstart, w1 = minend;
    } else if (strcmp(m, "prestim") == 0) {
      if (!(lo < 0)) return spy_fail_value(err, "latency", "prestim", "no pre-stimulus (t < 0) events");
      w0 = lo, w1 = 0;
    } else if (strcmp(m, "poststim") == 0) {
      if (!(hi > 0)) return spy_fail_value(err, "latency", "poststim", "no post-stimulus (t > 0) events");
      w0 = 0, w1 = hi;
    } else {
      return spy_fail_value(err, "latency", m,
                            "'maxperiod', 'minperiod', 'prestim', 'poststim', 'all' or {t0, t1} in s");
    }
  } else if (cJSON_IsArray(lat) && cJSON_GetArraySize(lat) == 2 &&
             cJSON_IsNumber(cJSON_GetArrayItem(lat, 0)) && cJSON_IsNumber(cJSON_GetArrayItem(lat, 1))) {
    w0 = cJSON_GetArrayItem(lat, 0)->valuedouble;
    w1 = cJSON_GetArrayItem(lat, 1)->valuedouble;
    if (isnan(w0) || isnan(w1))
      return spy_fail_value(err, "latency", brief, "{t0, t1} in s without NaN");
    if (w0 > hi)
      return spy_fail_value(err, "latency", brief,
                            "start of latency window < %gs (the trials span %g s to %g s)", hi, lo, hi);
    if (w1 < lo)
      return spy_fail_value(err, "latency", brief,
                            "end of latency window > %gs (the trials span %g s to %g s)", lo, lo, hi);
    if (w0 > w1) return spy_fail_value(err, "latency", brief, "start < end latency window");
  } else {
    return spy_fail_value(err, "latency", brief,
                          "'maxperiod', 'minperiod', 'prestim', 'poststim', 'all' or {t0, t1} in s");
  }
  /* keep trials covering the window (partial: trials with samples in it), each
  ** cut to the window's samples */
  size_t kept = 0;
  for (size_t i = 0; i < nt; i++) {
    size_t k = s->trials[i];
    double off = d->trldef[k * d->trlcols + 2], len = trial_len(d, k);
    double t0 = off / sr, t1 = (len - 1 + off) / sr;
    if (!partial && (t0 > w0 + 1e-12 * fabs(w0) || t1 < w1 - 1e-12 * fabs(w1))) continue;
    /* first sample with t >= w0, last with t <= w1 */
    double a = ceil(w0 * sr - off - 1e-9), b = floor(w1 * sr - off + 1e-9);
    if (a < 0) a = 0;
    if (b > len - 1) b = len - 1;
    if (b < a) continue;
    s->trials[kept] = k;
    s->row0[kept] = (size_t)d->trldef[k * d->trlcols] + (size_t)a;
    s->nrows[kept] = (size_t)(b - a + 1);
    kept++;
  }
  if (kept < nt)
    spy_log(SPY_LOG_INFO, "Discarded %zu trial(s) which did not fit into latency window", nt - kept);
  if (kept == 0 && partial)
    return spy_fail_value(err, "latency", brief,
                          "a window containing samples of at least one trial");
  if (kept == 0)
    return spy_fail_value(err, "latency/vartriallen",
                          "no trial that completely covers the latency window",
                          "at least one trial covering the latency window");
  s->ntrials = kept;
  s->time_selected = true;
  return SPY_OK;
}

static int select_data(const spy_data *d, const cJSON *sel, bool partial, spy_selection **out,
                       spy_err *err);

int spy_select(const spy_data *d, const cJSON *sel, spy_selection **out, spy_err *err)
{
  return select_data(d, sel, false, out, err);
}

int spy_select_analysis(const spy_data *d, const cJSON *sel, spy_selection **out, spy_err *err)
{
  return select_data(d, sel, true, out, err);
}

static int select_data(const spy_data *d, const cJSON *sel, bool partial, spy_selection **out,
                       spy_err *err)
{
  int rc = SPY_OK;
  *out = NULL;
  const char *cls = spy_dataclass_name(d->cls);
  if (sel && !cJSON_IsNull(sel) && !cJSON_IsObject(sel) &&
      !(cJSON_IsString(sel) && strcmp(sel->valuestring, "all") == 0))
    return spy_fail_type(err, "select", "table of selectors or 'all'", "value");
  const cJSON *v;
  if (cJSON_IsObject(sel))
    cJSON_ArrayForEach(v, sel) {
      char valid[300];
      keylist(classkeys(d->cls), valid, sizeof valid);
      if (!inlist(keys_all, v->string)) {
        char actual[200];
        snprintf(actual, sizeof actual, "dict with keys '%s'", v->string);
        return spy_fail_value(err, "selection kwargs", actual,
                              "the following keywords for %s: %s and 'inplace', 'clear', 'parallel'",
                              cls, valid);
      }
      if (!inlist(classkeys(d->cls), v->string)) {
        char actual[200];
        if (d->cls == SPY_CROSSSPECTRAL && strcmp(v->string, "channel") == 0)
          return spy_fail_value(err, "selection arguments", "channel",
                                "`channel_i` and/or `channel_j` selectors for `CrossSpectralData`");
        snprintf(actual, sizeof actual, "no `%s` selection available for %s", v->string, cls);
        return spy_fail_value(err, "selection arguments", actual, "one of (%s)", valid);
      }
    }
  const cJSON *get_trials = cJSON_IsObject(sel) ? cJSON_GetObjectItem(sel, "trials") : NULL;
  const cJSON *get_chan = cJSON_IsObject(sel)
                              ? cJSON_GetObjectItem(sel, d->cls == SPY_CROSSSPECTRAL ? "channel_i" : "channel")
                              : NULL;
  const cJSON *get_chanj = cJSON_IsObject(sel) ? cJSON_GetObjectItem(sel, "channel_j") : NULL;
  const cJSON *get_lat = cJSON_IsObject(sel) ? cJSON_GetObjectItem(sel, "latency") : NULL;
  const cJSON *get_freq = cJSON_IsObject(sel) ? cJSON_GetObjectItem(sel, "frequency") : NULL;
  const cJSON *get_taper = cJSON_IsObject(sel) ? cJSON_GetObjectItem(sel, "taper") : NULL;

  spy_selection *s = calloc(1, sizeof *s);
  if (!s) return spy_fail(err, SPY_ENOMEM, "out of memory");
  size_t nt = d->ntrials;

  /* trials */
  if (isall(get_trials)) {
    if (all_indices(nt, &s->trials, &s->ntrials)) goto nomem;
  } else {
    size_t n = cJSON_IsArray(get_trials) ? (size_t)cJSON_GetArraySize(get_trials) : 1;
    s->trials = malloc((n ? n : 1) * sizeof *s->trials);
    if (!s->trials) goto nomem;
    const cJSON *e = cJSON_IsArray(get_trials) ? get_trials->child : get_trials;
    char brief[200];
    spy_json_brief(get_trials, brief, sizeof brief);
    for (; e; e = cJSON_IsArray(get_trials) ? e->next : NULL) {
      if (!intlike(e)) {
        rc = spy_fail_type(err, "trials", "a 1-based trial index, a list of them or 'all'",
                           cJSON_IsString(e) ? "string" : "value");
        goto fail;
      }
      if (e->valuedouble < 1 || e->valuedouble > (double)nt) {
        rc = spy_fail_value(err, "trials", brief, "list/array of values b/w 1 and %zu", nt);
        goto fail;
      }
      s->trials[s->ntrials++] = (size_t)e->valuedouble - 1;
    }
    if (s->ntrials == 0) {
      rc = spy_fail_value(err, "trials", "[]", "non-empty trial selection");
      goto fail;
    }
    s->trial_selected = true;
  }
  s->row0 = malloc((s->ntrials ? s->ntrials : 1) * sizeof *s->row0);
  s->nrows = malloc((s->ntrials ? s->ntrials : 1) * sizeof *s->nrows);
  if (!s->row0 || !s->nrows) goto nomem;
  for (size_t i = 0; i < s->ntrials; i++) {
    size_t k = s->trials[i];
    s->row0[i] = (size_t)d->trldef[k * d->trlcols];
    s->nrows[i] = (size_t)trial_len(d, k);
  }

  /* channels */
  const char *chankey = d->cls == SPY_CROSSSPECTRAL ? "channel_i" : "channel";
  if (isall(get_chan)) {
    if (all_indices(d->nchannel, &s->chans, &s->nchan)) goto nomem;
  } else {
    if ((rc = resolve_labels(get_chan, d->channel, d->nchannel, chankey, &s->chans, &s->nchan, err)))
      goto fail;
    s->channel_selected = true;
  }
  if (d->cls == SPY_CROSSSPECTRAL) {
    if (isall(get_chanj)) {
      if (all_indices(d->nchannel_j, &s->chans_j, &s->nchan_j)) goto nomem;
    } else {
      if ((rc = resolve_labels(get_chanj, d->channel_j, d->nchannel_j, "channel_j", &s->chans_j,
                               &s->nchan_j, err)))
        goto fail;
      s->channel_selected = true;
    }
  }
  /* tapers */
  if (d->cls == SPY_SPECTRAL) {
    if (isall(get_taper)) {
      if (all_indices(d->ntaper, &s->tapers, &s->ntaper)) goto nomem;
    } else {
      if ((rc = resolve_labels(get_taper, d->taper, d->ntaper, "taper", &s->tapers, &s->ntaper, err)))
        goto fail;
      s->taper_selected = true;
    }
  }
  /* frequencies */
  if (!spy_dataclass_timechannel(d->cls)) {
    if (isall(get_freq)) {
      if (all_indices(d->nfreq, &s->freqs, &s->nfreq)) goto nomem;
    } else {
      double fmin = INFINITY, fmax = -INFINITY;
      for (size_t i = 0; i < d->nfreq; i++) fmin = fmin < d->freq[i] ? fmin : d->freq[i], fmax = fmax > d->freq[i] ? fmax : d->freq[i];
      char brief[200];
      spy_json_brief(get_freq, brief, sizeof brief);
      s->freqs = malloc((d->nfreq ? d->nfreq : 1) * sizeof *s->freqs);
      if (!s->freqs) goto nomem;
      if (cJSON_IsNumber(get_freq)) {
        double f = get_freq->valuedouble;
        if (f < fmin || f > fmax) {
          rc = spy_fail_value(err, "frequency", brief, "value to be greater or equals %g and less or equals %g", fmin, fmax);
          goto fail;
        }
        size_t best = 0;
        for (size_t i = 1; i < d->nfreq; i++)
          if (fabs(d->freq[i] - f) <= fabs(d->freq[best] - f)) best = i;
        s->freqs[s->nfreq++] = best;
      } else if (cJSON_IsArray(get_freq) && cJSON_GetArraySize(get_freq) == 2 &&
                 cJSON_IsNumber(cJSON_GetArrayItem(get_freq, 0)) &&
                 cJSON_IsNumber(cJSON_GetArrayItem(get_freq, 1))) {
        double a = cJSON_GetArrayItem(get_freq, 0)->valuedouble;
        double b = cJSON_GetArrayItem(get_freq, 1)->valuedouble;
        if (!(a < b)) {
          rc = spy_fail_value(err, "frequency", brief,
                              "`select: frequency` selection with `frequency[0]` < `frequency[1]`");
          goto fail;
        }
        if ((isfinite(a) && (a < fmin || a > fmax)) || (isfinite(b) && (b < fmin || b > fmax))) {
          rc = spy_fail_value(err, "frequency", brief, "all array elements to be bounded by %g and %g",
                              fmin, fmax);
          goto fail;
        }
        for (size_t i = 0; i < d->nfreq; i++)
          if (d->freq[i] >= a && d->freq[i] <= b) s->freqs[s->nfreq++] = i;
        if (s->nfreq == 0) {
          rc = spy_fail_value(err, "frequency", brief, "a range containing at least one frequency");
          goto fail;
        }
      } else {
        rc = spy_fail_value(err, "frequency", brief, "a frequency in Hz or {fmin, fmax}");
        goto fail;
      }
      s->freq_selected = true;
    }
  }
  /* latency */
  if (!isall(get_lat) && (rc = latency(d, get_lat, partial, s, err))) goto fail;

  /* re-based trial definition */
  s->trlcols = d->trlcols;
  s->trldef = malloc((s->ntrials ? s->ntrials : 1) * s->trlcols * sizeof *s->trldef);
  if (!s->trldef) goto nomem;
  double start = 0;
  for (size_t i = 0; i < s->ntrials; i++) {
    size_t k = s->trials[i];
    double *r = s->trldef + i * s->trlcols;
    memcpy(r, d->trldef + k * d->trlcols, d->trlcols * sizeof *r);
    double skipped = (double)s->row0[i] - d->trldef[k * d->trlcols];
    r[0] = start;
    r[1] = start + (double)s->nrows[i];
    r[2] = d->trldef[k * d->trlcols + 2] + skipped;
    start = r[1];
  }
  *out = s;
  return SPY_OK;
nomem:
  rc = spy_fail(err, SPY_ENOMEM, "out of memory");
fail:
  spy_selection_free(s);
  return rc;
}
