#include "stats/psth.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/interrupt.h"
#include "core/npsum.h"

static const spy_kwarg kw_psth[] = {
    {"binsize", SPY_KT_NUM | SPY_KT_STR, "\"rice\"", NULL,
     "bin width in s, or 'rice' (int(2 L^(1/3)) edges) or 'sqrt' (ceil(sqrt(L)) edges), L = mean trial "
     "length in samples"},
    {"output", SPY_KT_STR, "\"rate\"", "rate|spikecount|proportion",
     "'rate' (spikes/s), 'spikecount', or 'proportion' (each histogram sums to 1)"},
    {"latency", SPY_KT_NUMS | SPY_KT_STR, "\"maxperiod\"", NULL,
     "{t0, t1} in s or 'maxperiod', 'minperiod', 'prestim', 'poststim': the window binned"},
    {"vartriallen", SPY_KT_BOOL, "true", NULL,
     "true: use every trial (bins outside a trial are NaN); false: drop trials not covering the window"},
    {"keeptrials", SPY_KT_BOOL, "true", NULL, "false: average the histograms over trials"},
    {"select", SPY_KT_DICT | SPY_KT_STR | SPY_KT_NULL, "null", NULL,
     "selection applied first: {trials=, channel=, unit=} (the time window is `latency`)"},
    {"parallel", SPY_KT_BOOL | SPY_KT_NULL, "null", NULL,
     "accepted for Syncopy compatibility; spike_psth runs in the session"},
    SPY_KW_END};

const spy_funcspec spy_spec_spike_psth = {
    "spike_psth",
    "spy.spike_psth(spikes, {binsize='rice', output='rate', latency='maxperiod', vartriallen=true, "
    "keeptrials=true})",
    "Peristimulus time histograms of SpikeData (TimeLockData, one column per channel-unit pair).",
    "Spike times (sample - start + offset) / samplerate are binned per trial into the same bins; "
    "columns are named channel<c>_unit<u> with Syncopy's 0-based index numbers.  Bins outside a "
    "trial are NaN.  Runs in the session, streaming one block of spikes at a time.",
    "local psth = spy.spike_psth(spikes, {binsize=0.01, latency={-0.2, 0.5}})",
    kw_psth};

void spy_psth_plan_free(spy_psth_plan *p)
{
  free(p->edges);
  free(p->combos);
  free(p->trials);
  free(p->row0);
  free(p->nrows);
  free(p->trldef);
  memset(p, 0, sizeof *p);
}

static int cmp_pair(const void *a, const void *b)
{
  const int64_t *x = a, *y = b;
  if (x[0] != y[0]) return x[0] < y[0] ? -1 : 1;
  return x[1] < y[1] ? -1 : x[1] > y[1];
}

static ptrdiff_t find_combo(const spy_psth_plan *p, int64_t c, int64_t u)
{
  size_t lo = 0, hi = p->ncombos;
  int64_t key[2] = {c, u};
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (cmp_pair(p->combos + 2 * mid, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo < p->ncombos && cmp_pair(p->combos + 2 * lo, key) == 0 ? (ptrdiff_t)lo : -1;
}

/* The latency window from the trials' intervals [offset, stop - start - 1 + offset] / sr
** (syncopy/shared/latency.py). */
static int window(const spy_psth_plan *p, const cJSON *lat, double *w, spy_err *err)
{
  double lo = INFINITY, hi = -INFINITY, maxlo = -INFINITY, minhi = INFINITY;
  for (size_t i = 0; i < p->ntrials; i++) {
    const double *t = p->trldef + 3 * i;
    double a = t[2] / p->samplerate, b = (t[1] - t[0] - 1 + t[2]) / p->samplerate;
    lo = fmin(lo, a), hi = fmax(hi, b), maxlo = fmax(maxlo, a), minhi = fmin(minhi, b);
  }
  if (cJSON_IsString(lat)) {
    const char *k = lat->valuestring;
    if (strcmp(k, "maxperiod") == 0) {
      w[0] = lo, w[1] = hi;
    } else if (strcmp(k, "minperiod") == 0) {
      if (maxlo >= minhi)
        return spy_fail_value(err, "latency", "minperiod - no common time window for all trials",
                              "overlapping trials");
      w[0] = maxlo, w[1] = minhi;
    } else if (strcmp(k, "prestim") == 0) {
      if (!(lo < 0)) return spy_fail_value(err, "latency", "no pre-stimulus (t < 0) events", "pre-stimulus recordings");
      w[0] = lo, w[1] = 0;
    } else if (strcmp(k, "poststim") == 0) {
      if (!(hi > 0))
        return spy_fail_value(err, "latency", "no post-stimulus (t > 0) events", "post-stimulus recordings");
      w[0] = 0, w[1] = hi;
    } else {
      return spy_fail_value(err, "latency", k, "one of ['maxperiod', 'minperiod', 'prestim', 'poststim']");
    }
    return SPY_OK;
  }
  if (cJSON_GetArraySize(lat) != 2)
    return spy_fail_value(err, "latency", NULL, "array of shape (2,) or one of ['maxperiod', 'minperiod', "
                                                "'prestim', 'poststim']");
  w[0] = cJSON_GetArrayItem(lat, 0)->valuedouble;
  w[1] = cJSON_GetArrayItem(lat, 1)->valuedouble;
  char actual[64];
  snprintf(actual, sizeof actual, "%g", w[0]);
  if (!isfinite(w[0]) || !isfinite(w[1])) return spy_fail_value(err, "latency", NULL, "finite [t0, t1]");
  if (w[0] > hi) return spy_fail_value(err, "latency[0]", actual, "start of latency window < %gs", hi);
  snprintf(actual, sizeof actual, "%g", w[1]);
  if (w[1] < lo) return spy_fail_value(err, "latency[1]", actual, "end of latency window > %gs", lo);
  if (w[0] >= w[1]) { /* an empty window has bins of width 0 */
    snprintf(actual, sizeof actual, "start=%g, end=%g", w[0], w[1]);
    return spy_fail_value(err, "latency", actual, "start < end latency window");
  }
  return SPY_OK;
}

/* At most this many bins (2^24: 128 MB of edges; the counts of one trial
** are bins x channel-unit combinations, limited by PSTH_MAXCOUNTS). */
#define PSTH_MAXBINS 16777216.0
#define PSTH_MAXCOUNTS 134217728.0

/* Bin edges: np.linspace(w0, w1, n) or np.arange(w0, w1 + bs, bs). */
static int edges(spy_psth_plan *p, const cJSON *bs, const double *w, spy_err *err)
{
  size_t n;
  if (cJSON_IsString(bs)) {
    double len = 0;
    for (size_t i = 0; i < p->ntrials; i++) len += p->trldef[3 * i + 1] - p->trldef[3 * i];
    len /= (double)p->ntrials;
    double nd;
    if (strcmp(bs->valuestring, "rice") == 0) nd = floor(2 * pow(len, 1.0 / 3));
    else if (strcmp(bs->valuestring, "sqrt") == 0) nd = ceil(sqrt(len));
    else return spy_fail_value(err, "binsize", bs->valuestring, "a width in s, 'rice' or 'sqrt'");
    if (nd - 1 > PSTH_MAXBINS)
      return spy_fail_value(err, "binsize", bs->valuestring,
                            "at most %.0f bins (%.0f edges for trials of %.0f samples); a "
                            "width in s",
                            PSTH_MAXBINS, nd, len);
    n = (size_t)nd;
    if (n < 2) return spy_fail_value(err, "binsize", NULL, "trials long enough for at least one bin");
    if (!(p->edges = malloc(n * sizeof *p->edges))) return spy_fail(err, SPY_ENOMEM, "out of memory");
    double step = (w[1] - w[0]) / (double)(n - 1);
    for (size_t i = 0; i < n; i++) p->edges[i] = (double)i * step + w[0];
    p->edges[n - 1] = w[1];
  } else {
    /* Syncopy's range is (0, latency window]; the lower end here keeps the
    ** bins (the edges, one trial's counts) to PSTH_MAXBINS */
    double b = bs->valuedouble, bmin = (w[1] - w[0]) / PSTH_MAXBINS;
    if (!(b > 0) || !(b <= w[1] - w[0])) {
      char actual[64];
      snprintf(actual, sizeof actual, "%g", b);
      /* Syncopy says 'greater or equals 0', lets 0 through and then fails in np.arange */
      return spy_fail_value(err, "binsize", actual,
                            "value to be greater than 0 and less or equals %g", w[1] - w[0]);
    }
    if (b < bmin) {
      char actual[64];
      snprintf(actual, sizeof actual, "%g", b);
      return spy_fail_value(err, "binsize", actual,
                            "value to be greater or equals %g and less or equals %g", bmin,
                            w[1] - w[0]);
    }
    double stop = w[1] + b, d = (w[0] + b) - w[0];
    n = (size_t)ceil((stop - w[0]) / b);
    if (n < 2) return spy_fail_value(err, "binsize", NULL, "at least 2 bin edges");
    if (!(p->edges = malloc(n * sizeof *p->edges))) return spy_fail(err, SPY_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) p->edges[i] = w[0] + (double)i * d;
  }
  p->nedges = n;
  p->nbins = n - 1;
  /* samplerate of the result: 1 / mean(diff(midpoints)) (NumPy's mean) */
  if (n >= 3) {
    double *dm = malloc((n - 2) * sizeof *dm);
    if (!dm) return spy_fail(err, SPY_ENOMEM, "out of memory");
    for (size_t i = 0; i + 2 < n; i++)
      dm[i] = (p->edges[i + 1] + p->edges[i + 2]) / 2 - (p->edges[i] + p->edges[i + 1]) / 2;
    p->out_samplerate = 1 / (spy_np_sum(dm, n - 2) / (double)(n - 2));
    free(dm);
  } else {
    p->out_samplerate = 1 / (p->edges[1] - p->edges[0]);
  }
  /* Syncopy: offset rint(first bin midpoint * samplerate), so the time axis starts half a
     bin after the first edge, rounded to the output's sample grid */
  p->out_offset = rint((p->edges[0] + p->edges[1]) / 2 * p->out_samplerate);
  return SPY_OK;
}

int spy_psth_plan_make(spy_data *d, const spy_dsel *sel, const cJSON *cfg, spy_psth_plan *p,
                       spy_err *err)
{
  memset(p, 0, sizeof *p);
  if (d->cls != SPY_SPIKE)
    return spy_fail_value(err, "data", spy_dataclass_name(d->cls), "SpikeData");
  if (isnan(d->samplerate))
    return spy_fail_value(err, "samplerate", "None", "non-`None` value - make sure `samplerate` is set");
  const char *out = spy_cfg_str(cfg, "output", "rate");
  p->output = strcmp(out, "spikecount") == 0 ? SPY_PSTH_SPIKECOUNT
              : strcmp(out, "proportion") == 0 ? SPY_PSTH_PROPORTION : SPY_PSTH_RATE;
  p->samplerate = d->samplerate;
  size_t n = sel->ntrials;
  if (n == 0) return spy_fail_value(err, "data", "no trials", "non-empty SpikeData");
  p->trials = malloc(n * sizeof *p->trials);
  p->row0 = malloc(n * sizeof *p->row0);
  p->nrows = malloc(n * sizeof *p->nrows);
  p->trldef = malloc(3 * n * sizeof *p->trldef);
  if (!p->trials || !p->row0 || !p->nrows || !p->trldef) {
    spy_psth_plan_free(p);
    return spy_fail(err, SPY_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < n; i++) {
    p->trials[i] = sel->trials[i];
    p->row0[i] = sel->row0[i];
    p->nrows[i] = sel->nrows[i];
    memcpy(p->trldef + 3 * i, sel->trldef + i * sel->trlcols, 3 * sizeof(double));
  }
  p->ntrials = n;
  double w[2] = {0, 0};
  int rc = window(p, spy_cfg_item(cfg, "latency"), w, err);
  if (!rc && !spy_cfg_bool(cfg, "vartriallen", true)) {
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
      const double *t = p->trldef + 3 * i;
      if (t[2] / p->samplerate <= w[0] && (t[1] - t[0] - 1 + t[2]) / p->samplerate >= w[1]) {
        p->trials[kept] = p->trials[i], p->row0[kept] = p->row0[i], p->nrows[kept] = p->nrows[i];
        memmove(p->trldef + 3 * kept, t, 3 * sizeof(double));
        kept++;
      }
    }
    if (kept == 0)
      rc = spy_fail_value(err, "latency/vartriallen", "no trial that completely covers the latency window",
                          "at least one trial covering the latency window");
    p->ndiscarded = n - kept;
    p->ntrials = kept;
  }
  if (!rc) rc = edges(p, spy_cfg_item(cfg, "binsize"), w, err);
  /* the channel-unit combinations of the analysed spikes: one streamed pass */
  int64_t *buf = NULL;
  spy_ivec chans = {0};
  if (!rc && !(buf = malloc(SPY_DISCRETE_BLOCK * 3 * sizeof *buf))) rc = spy_fail(err, SPY_ENOMEM, "out of memory");
  /* combos as a set of channels, each with its set of units */
  spy_ivec *units = NULL;
  for (size_t i = 0; !rc && i < p->ntrials; i++) {
    for (size_t r0 = 0; !rc && r0 < p->nrows[i]; r0 += SPY_DISCRETE_BLOCK) {
      size_t m = p->nrows[i] - r0 < SPY_DISCRETE_BLOCK ? p->nrows[i] - r0 : SPY_DISCRETE_BLOCK;
      if (spy_interrupted()) rc = spy_fail(err, SPY_EINTR, "interrupted");
      if (!rc) rc = spy_discrete_read(d, p->row0[i] + r0, m, buf, err);
      for (size_t j = 0; !rc && j < m; j++) {
        const int64_t *r = buf + 3 * j;
        if (!spy_dsel_keep(sel, d, 0, r)) continue; /* channel/unit selection (no latency here) */
        ptrdiff_t c = spy_ivec_find(&chans, r[1]);
        if (c < 0) {
          size_t before = chans.n;
          if (spy_ivec_add(&chans, r[1])) {
            rc = spy_fail(err, SPY_ENOMEM, "out of memory");
            break;
          }
          spy_ivec *nu = realloc(units, chans.n * sizeof *nu);
          if (!nu) {
            rc = spy_fail(err, SPY_ENOMEM, "out of memory");
            break;
          }
          units = nu;
          c = spy_ivec_find(&chans, r[1]);
          memmove(units + c + 1, units + c, (before - (size_t)c) * sizeof *units);
          memset(units + c, 0, sizeof *units);
        }
        if (spy_ivec_add(&units[c], r[2])) rc = spy_fail(err, SPY_ENOMEM, "out of memory");
      }
    }
  }
  size_t nc = 0;
  for (size_t c = 0; c < chans.n; c++) nc += units[c].n;
  if (!rc && nc == 0) rc = spy_fail_value(err, "data", "no spikes in the analysed trials", "non-empty SpikeData");
  if (!rc && !(p->combos = malloc(2 * nc * sizeof *p->combos))) rc = spy_fail(err, SPY_ENOMEM, "out of memory");
  size_t k = 0;
  for (size_t c = 0; !rc && c < chans.n; c++)
    for (size_t u = 0; u < units[c].n; u++) {
      p->combos[2 * k] = chans.v[c];
      p->combos[2 * k + 1] = units[c].v[u];
      k++;
    }
  p->ncombos = k;
  if (!rc && (double)p->nbins * (double)k > PSTH_MAXCOUNTS)
    rc = spy_fail_value(err, "binsize", NULL,
                        "at most %.0f bins x channel-unit combinations (found %zu bins x %zu); "
                        "a larger binsize",
                        PSTH_MAXCOUNTS, p->nbins, k);
  for (size_t c = 0; c < chans.n; c++) spy_ivec_free(&units[c]);
  free(units);
  spy_ivec_free(&chans);
  free(buf);
  if (rc) spy_psth_plan_free(p);
  return rc;
}

void spy_psth_add(const spy_psth_plan *p, size_t i, const int64_t *rows, size_t n, double *counts)
{
  const double *t = p->trldef + 3 * i, *e = p->edges;
  size_t ne = p->nedges;
  for (size_t j = 0; j < n; j++) {
    const int64_t *r = rows + 3 * j;
    double tm = ((double)r[0] - t[0] + t[2]) / p->samplerate;
    if (!(tm >= e[0] && tm <= e[ne - 1])) continue;
    /* np.histogram: searchsorted(edges, t, 'right') - 1, the last edge in the last bin */
    size_t lo = 0, hi = ne;
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (e[mid] <= tm) lo = mid + 1;
      else hi = mid;
    }
    size_t b = lo - 1;
    if (b >= p->nbins) b = p->nbins - 1;
    ptrdiff_t c = find_combo(p, r[1], r[2]);
    if (c >= 0) counts[b * p->ncombos + (size_t)c] += 1;
  }
}

void spy_psth_finish(const spy_psth_plan *p, size_t i, double *counts)
{
  const double *t = p->trldef + 3 * i, *e = p->edges;
  size_t nb = p->nbins, nc = p->ncombos;
  if (p->output == SPY_PSTH_PROPORTION) {
    /* histogram2d(density=True) per unit, stored as float32: the column
    ** divided by the unit's total count and the bin width */
    double w = e[1] - e[0];
    double *unit_tot = calloc(nc ? nc : 1, sizeof *unit_tot);
    if (unit_tot) {
      for (size_t k = 0; k < nc; k++)
        for (size_t b = 0; b < nb; b++) unit_tot[k] += counts[b * nc + k];
      for (size_t c = 0; c < nc; c++) {
        double tot = 0;
        for (size_t k = 0; k < nc; k++)
          if (p->combos[2 * k + 1] == p->combos[2 * c + 1]) tot += unit_tot[k];
        if (tot > 0)
          for (size_t b = 0; b < nb; b++) counts[b * nc + c] = (float)(counts[b * nc + c] / tot / w);
      }
      free(unit_tot);
    }
  }
  /* bins outside the trial: NaN (Syncopy's argmin rule on the edges) */
  double t0 = t[2] / p->samplerate, t1 = (t[1] - t[0] + t[2]) / p->samplerate;
  size_t min_idx = 0, max_idx = 0;
  while (min_idx < p->nedges && e[min_idx] < t0) min_idx++;
  if (min_idx == p->nedges) min_idx = nb; /* every edge before the trial: all NaN */
  while (max_idx < p->nedges && e[max_idx] <= t1) max_idx++;
  if (max_idx == p->nedges) max_idx = 0;
  if (e[0] > t1) min_idx = nb, max_idx = 0; /* every edge after the trial */
  for (size_t b = 0; b < nb; b++)
    if ((min_idx && b < min_idx) || (max_idx && b >= max_idx))
      for (size_t c = 0; c < nc; c++) counts[b * nc + c] = NAN;
  if (p->output == SPY_PSTH_RATE) {
    double f = 1 / (e[1] - e[0]);
    for (size_t k = 0; k < nb * nc; k++) counts[k] *= f;
  } else if (p->output == SPY_PSTH_PROPORTION) {
    for (size_t c = 0; c < nc; c++) {
      double s = 0;
      for (size_t b = 0; b < nb; b++)
        if (!isnan(counts[b * nc + c])) s += counts[b * nc + c];
      if (s == 0) s = 1;
      for (size_t b = 0; b < nb; b++) counts[b * nc + c] /= s;
    }
  }
}

int spy_psth_trial(const spy_psth_plan *p, spy_data *d, size_t i, int64_t *scratch, double *counts,
                   spy_err *err)
{
  memset(counts, 0, p->nbins * p->ncombos * sizeof *counts);
  for (size_t r0 = 0; r0 < p->nrows[i]; r0 += SPY_DISCRETE_BLOCK) {
    size_t m = p->nrows[i] - r0 < SPY_DISCRETE_BLOCK ? p->nrows[i] - r0 : SPY_DISCRETE_BLOCK;
    if (spy_interrupted()) return spy_fail(err, SPY_EINTR, "interrupted");
    int rc = spy_discrete_read(d, p->row0[i] + r0, m, scratch, err);
    if (rc) return rc;
    spy_psth_add(p, i, scratch, m, counts);
  }
  spy_psth_finish(p, i, counts);
  return SPY_OK;
}
