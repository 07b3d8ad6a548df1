/* Figures of data objects (dataplot.h). */
#include "plot/dataplot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "data/discrete.h"
#include "data/extra.h"
#include "data/selection.h"
#include "plot/style.h"

/* What one builder sees: the object, its resolved selection, the options. */
typedef struct ctx {
  spy_data *d;
  spy_selection *s;
  const spy_plot_opts *o;
  const cJSON *sel; /* the selection keywords in force */
} ctx;

static int nomem(spy_err *err)
{
  return spy_fail(err, SPY_ENOMEM, "out of memory");
}

/* Whether selection keyword k was given (and not null). */
static bool given(const ctx *c, const char *k)
{
  const cJSON *v = c->sel ? cJSON_GetObjectItemCaseSensitive(c->sel, k) : NULL;
  return v && !cJSON_IsNull(v);
}

/* cfg[frontend][key] as a string, or NULL. */
static const char *cfgstr(const spy_data *d, const char *frontend, const char *key)
{
  const cJSON *f = cJSON_GetObjectItemCaseSensitive(d->cfg, frontend);
  const cJSON *v = f ? cJSON_GetObjectItemCaseSensitive(f, key) : NULL;
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

/*
** Reads the selected trial (the only one) as doubles, C order
** rows x inner selections x last-axis selection; *n gets the element count.
*/
static double *read_trial(const ctx *c, size_t *n, spy_err *err)
{
  spy_data *d = c->d;
  const spy_selection *s = c->s;
  const size_t *last = d->cls == SPY_CROSSSPECTRAL ? s->chans_j : s->chans;
  size_t nlast = d->cls == SPY_CROSSSPECTRAL ? s->nchan_j : s->nchan;
  const size_t *idx[2] = {NULL, NULL};
  size_t nidx[2] = {1, 1}, full[2] = {1, 1};
  if (d->cls == SPY_SPECTRAL) {
    idx[0] = s->tapers, nidx[0] = s->ntaper, full[0] = d->shape[1];
    idx[1] = s->freqs, nidx[1] = s->nfreq, full[1] = d->shape[2];
  } else if (d->cls == SPY_CROSSSPECTRAL) {
    idx[0] = s->freqs, nidx[0] = s->nfreq, full[0] = d->shape[1];
    idx[1] = s->chans, nidx[1] = s->nchan, full[1] = d->shape[2];
  }
  size_t rows = s->nrows[0];
  size_t nraw = rows * full[0] * full[1] * nlast;
  *n = rows * nidx[0] * nidx[1] * nlast;
  double *raw = malloc((nraw ? nraw : 1) * sizeof *raw);
  double *v = malloc((*n ? *n : 1) * sizeof *v);
  if (!raw || !v) {
    free(raw), free(v);
    nomem(err);
    return NULL;
  }
  if (spy_data_read(d, s->row0[0], rows, last, nlast, raw, SPY_DT_F64, err)) {
    free(raw), free(v);
    return NULL;
  }
  double *dst = v;
  for (size_t r = 0; r < rows; r++)
    for (size_t a = 0; a < nidx[0]; a++)
      for (size_t b = 0; b < nidx[1]; b++) {
        size_t ia = idx[0] ? idx[0][a] : a, ib = idx[1] ? idx[1][b] : b;
        memcpy(dst, raw + ((r * full[0] + ia) * full[1] + ib) * nlast, nlast * sizeof *dst);
        dst += nlast;
      }
  free(raw);
  return v;
}

/* Time (s) of the selected trial's rows. */
static double *trial_time(const ctx *c, spy_err *err)
{
  size_t rows = c->s->nrows[0];
  double *t = malloc((rows ? rows : 1) * sizeof *t);
  if (!t) {
    nomem(err);
    return NULL;
  }
  double off = c->s->trldef[2], fs = c->d->samplerate;
  for (size_t k = 0; k < rows; k++)
    t[k] = (off + (double)k) / fs;
  return t;
}

static double *sel_freq(const ctx *c, spy_err *err)
{
  size_t n = c->s->nfreq;
  double *f = malloc((n ? n : 1) * sizeof *f);
  if (!f) {
    nomem(err);
    return NULL;
  }
  for (size_t i = 0; i < n; i++)
    f[i] = c->d->freq[c->s->freqs[i]];
  return f;
}

/* Syncopy's single-trial rule (the wording differs between single and multi panel). */
static int one_trial(const ctx *c, spy_err *err)
{
  if (c->s->ntrials != 1)
    return spy_fail(err, SPY_EINVAL,
                    c->o->multi ? "Please select a single trial for plotting!"
                                : "Please select a single trial for plotting.");
  return SPY_OK;
}

static int nonempty(size_t n, spy_err *err)
{
  if (n == 0)
    return spy_fail_value(err, "show_kwargs", "got zero samples", "Selection with non-zero size");
  return SPY_OK;
}

/* Multi panel: 2..25 panels of `what` ("channels", "channel combinations"). */
static int panel_count(size_t n, const char *what, spy_err *err)
{
  if (n < 2)
    return spy_fail(err, SPY_EINVAL, "Please select at least two %s for a multipanelplot!", what);
  if (n > SPY_PLOT_MAX_PANELS)
    return spy_fail(err, SPY_EINVAL, "Please select max. %d %s for a multipanelplot!",
                    SPY_PLOT_MAX_PANELS, what);
  return SPY_OK;
}

static spy_figure *newfig(const char *kind, size_t npanels, spy_err *err)
{
  size_t r = 1, cols = 1;
  if (npanels > 1) spy_plot_layout(npanels, &r, &cols);
  spy_figure *f = spy_figure_new(kind, npanels, r, cols);
  if (!f) {
    nomem(err);
    return NULL;
  }
  const spy_plot_style *st = &spy_plot_look;
  f->width = npanels > 1 ? (double)cols * st->panel_w : st->single_w;
  f->height = npanels > 1 ? (double)r * st->panel_h : st->single_h;
  return f;
}

/* ---- AnalogData ------------------------------------------------------------ */

static int plot_analog(const ctx *c, spy_figure **out, spy_err *err)
{
  spy_data *d = c->d;
  const spy_selection *s = c->s;
  if (one_trial(c, err)) return err->code;
  size_t rows = s->nrows[0], nch = s->nchan;
  if (nonempty(rows * nch, err)) return err->code;
  if (c->o->multi && panel_count(nch, "channels", err)) return err->code;
  size_t n;
  double *y = read_trial(c, &n, err);
  double *t = y ? trial_time(c, err) : NULL;
  spy_figure *f = t ? newfig(c->o->multi ? "AnalogData, one panel per channel" : "AnalogData",
                             c->o->multi ? nch : 1, err)
                    : NULL;
  int rc = f ? SPY_OK : err->code;
  if (f && c->o->multi) {
    for (size_t ch = 0; ch < nch && !rc; ch++) {
      spy_plot_panel *p = &f->panels[ch];
      if (spy_panel_labels(p, d->channel[s->chans[ch]], "time (s)", "signal (a.u.)") ||
          spy_panel_add_line(p, t, y + ch, nch, rows, NULL))
        rc = nomem(err);
    }
  } else if (f) {
    spy_plot_panel *p = &f->panels[0];
    bool shift = c->o->shifted && nch > 1;
    double *off = calloc(nch, sizeof *off);
    const char **names = calloc(nch, sizeof *names);
    if (!off || !names || spy_panel_labels(p, NULL, "time (s)", "")) rc = nomem(err);
    /* Syncopy's offsets: cumsum([0, max(prev) - min(cur)] * 1.1), over the
    ** finite values (an infinity or a channel without finite values would
    ** make every later offset, and the y tick of its label, infinite) */
    for (size_t ch = 1; shift && !rc && ch < nch; ch++) {
      double mx = -INFINITY, mn = INFINITY;
      for (size_t k = 0; k < rows; k++) {
        double a = y[k * nch + ch - 1], b = y[k * nch + ch];
        if (isfinite(a) && a > mx) mx = a;
        if (isfinite(b) && b < mn) mn = b;
      }
      off[ch] = off[ch - 1] + (isfinite(mx - mn) ? (mx - mn) * 1.1 : 0);
    }
    for (size_t ch = 0; !rc && ch < nch; ch++) {
      names[ch] = d->channel[s->chans[ch]];
      for (size_t k = 0; shift && k < rows; k++)
        y[k * nch + ch] += off[ch];
      if (spy_panel_add_line(p, t, y + ch, nch, rows, shift ? NULL : names[ch])) rc = nomem(err);
    }
    if (!rc && shift && spy_panel_set_yticks(p, off, names, nch)) rc = nomem(err);
    free(off), free(names);
  }
  free(y), free(t);
  if (rc)
    spy_figure_free(f);
  else
    *out = f;
  return rc;
}

/* ---- SpectralData ---------------------------------------------------------- */

/* Time-frequency data: some trial has more than one time row (Syncopy's
** any(diff(trialdefinition)[:, 0] != 1)). */
static bool time_freq(const spy_data *d)
{
  for (size_t k = 0; k < d->ntrials; k++)
    if (d->trldef[k * d->trlcols + 1] - d->trldef[k * d->trlcols] != 1) return true;
  return false;
}

/* Whether v[0..n) is evenly spaced (to 1e-6 of its range). */
static bool even(const double *v, size_t n)
{
  if (n < 3) return true;
  double step = (v[n - 1] - v[0]) / (double)(n - 1), tol = 1e-6 * fabs(v[n - 1] - v[0]);
  for (size_t i = 1; i < n; i++)
    if (fabs(v[i] - v[i - 1] - step) > tol) return false;
  return true;
}

/* An image of time x frequency into panel p: rows at the frequencies
** themselves when they are not evenly spaced. */
static int tf_image(spy_plot_panel *p, const double *z, size_t nt, size_t nf, const double *t,
                    const double *fr, const char *cblabel)
{
  if (spy_panel_set_image(p, z, nt, nf, t[0], t[nt - 1], fr[0], fr[nf - 1], cblabel))
    return SPY_ENOMEM;
  if (!even(fr, nf) && spy_panel_set_image_rows(p, fr)) return SPY_ENOMEM;
  return SPY_OK;
}

/* One image per channel: value[t][freq] averaged over the selected tapers,
** transposed to freq (rows, bottom first) x time.  zmin/zmax shared when
** `shared` (Syncopy scales all panels to the overall maximum). */
static int tf_images(const ctx *c, spy_figure *f, const char *cblabel, bool shared, spy_err *err)
{
  const spy_selection *s = c->s;
  size_t rows = s->nrows[0], ntap = s->ntaper, nf = s->nfreq, nch = s->nchan, n;
  double *v = read_trial(c, &n, err);
  double *t = v ? trial_time(c, err) : NULL;
  double *fr = t ? sel_freq(c, err) : NULL;
  double *z = fr ? malloc((nf * rows > 0 ? nf * rows : 1) * sizeof *z) : NULL;
  int rc = z ? SPY_OK : fr ? nomem(err) : err->code;
  double lo = INFINITY, hi = -INFINITY;
  for (size_t ch = 0; !rc && ch < nch; ch++) {
    for (size_t k = 0; k < rows; k++)
      for (size_t i = 0; i < nf; i++) {
        double sum = 0;
        for (size_t a = 0; a < ntap; a++)
          sum += v[((k * ntap + a) * nf + i) * nch + ch];
        z[i * rows + k] = sum / (double)ntap;
      }
    spy_plot_panel *p = &f->panels[c->o->multi ? ch : 0];
    if (spy_panel_labels(p, c->d->channel[s->chans[ch]], "time (s)", "frequency (Hz)") ||
        tf_image(p, z, rows, nf, t, fr, cblabel)) {
      rc = nomem(err);
      break;
    }
    lo = fmin(lo, p->image->zmin);
    hi = fmax(hi, p->image->zmax);
  }
  for (size_t i = 0; !rc && shared && i < f->npanels; i++)
    f->panels[i].image->zmin = lo, f->panels[i].image->zmax = hi;
  free(v), free(t), free(fr), free(z);
  return rc;
}

static int plot_spectral(const ctx *c, spy_figure **out, spy_err *err)
{
  spy_data *d = c->d;
  const spy_selection *s = c->s;
  bool multi = c->o->multi;
  if (one_trial(c, err)) return err->code;
  size_t nch = s->nchan, ntap = s->ntaper, nf = s->nfreq, rows = s->nrows[0];
  if (multi && panel_count(nch, "channels", err)) return err->code;
  const char *output = cfgstr(d, "freqanalysis", "output");
  if (spy_dtype_is_complex(d->dtype) ||
      (output && (!strcmp(output, "fourier") || !strcmp(output, "complex"))))
    return spy_fail(err, SPY_EINVAL,
                    "Can't plot complex valued spectra, choose 'real' or 'imag' as freqanalysis "
                    "output.. aborting plotting");
  if (nonempty(rows * nch * ntap * nf, err)) return err->code;
  spy_figure *f = NULL;
  int rc;
  if (time_freq(d)) {
    if (given(c, "taper"))
      return spy_fail(err, SPY_EINVAL,
                      "Taper selection not supported for time-frequency spectra!\nSkipping plot..");
    if (!multi && nch != 1)
      return spy_fail(err, SPY_EINVAL,
                      "Please select a single channel for plotting!\nSkipping plot..");
    f = newfig(multi ? "SpectralData time-frequency, one panel per channel"
                     : "SpectralData time-frequency",
               multi ? nch : 1, err);
    if (!f) return err->code;
    rc = tf_images(c, f, output && !strcmp(output, "pow") ? "power" : output, multi, err);
  } else {
    /* several tapers: a single taper or a single channel (multi: taper lines per panel) */
    bool by_taper = d->ntaper != 1 && ntap > 1;
    if (!multi && by_taper && nch != 1)
      return spy_fail(err, SPY_EINVAL,
                      "Please select a single taper or a single channel \nfor plotting multi-taper "
                      "spectra.. aborting plotting\n");
    /* power and FOOOF's fits are drawn as log10 ("power (dB)", no factor 10: Syncopy's) */
    bool power = output && (!strcmp(output, "pow") || !strncmp(output, "fooof", 5));
    bool logpow = power && c->o->logscale;
    const char *ylabel = !output ? "" : logpow ? "power (dB)" : power ? "power (mV^2)" : output;
    size_t n;
    double *v = read_trial(c, &n, err); /* 1 x ntap x nf x nch */
    double *fr = v ? sel_freq(c, err) : NULL;
    f = fr ? newfig(multi ? "SpectralData line spectra, one panel per channel"
                          : "SpectralData line spectra",
                    multi ? nch : 1, err)
           : NULL;
    rc = f ? SPY_OK : err->code;
    for (size_t i = 0; !rc && logpow && i < n; i++)
      v[i] = log10(v[i]);
    for (size_t ch = 0; !rc && ch < nch; ch++) {
      spy_plot_panel *p = &f->panels[multi ? ch : 0];
      const char *cname = d->channel[s->chans[ch]];
      if (spy_panel_labels(p, multi ? cname : NULL, "frequency (Hz)", ylabel)) rc = nomem(err);
      for (size_t a = 0; !rc && a < ntap; a++) {
        if (!by_taper && a > 0) break;
        const char *label = by_taper ? d->taper[s->tapers[a]] : multi ? NULL : cname;
        if (spy_panel_add_line(p, fr, v + a * nf * nch + ch, nch, nf, label)) rc = nomem(err);
      }
    }
    free(v), free(fr);
  }
  if (rc)
    spy_figure_free(f);
  else
    *out = f;
  return rc;
}

/* ---- CrossSpectralData ----------------------------------------------------- */

static int plot_cross(const ctx *c, spy_figure **out, spy_err *err)
{
  spy_data *d = c->d;
  const spy_selection *s = c->s;
  bool multi = c->o->multi;
  if (one_trial(c, err)) return err->code;
  if (!multi && (!given(c, "channel_i") || !given(c, "channel_j")))
    return spy_fail(
        err, SPY_EINVAL,
        "Please select a channel combination `channel_i` and `channel_j` for plotting.");
  size_t ni = s->nchan, nj = s->nchan_j, nf = s->nfreq, rows = s->nrows[0];
  if (multi && panel_count(ni * nj, "channel combinations", err)) return err->code;
  if (spy_dtype_is_complex(d->dtype))
    return spy_fail(err, SPY_EINVAL,
                    "Can't plot complex valued cross spectra, choose a real valued output.. "
                    "aborting plotting");
  if (nonempty(rows * nf * ni * nj, err)) return err->code;
  const char *method = cfgstr(d, "connectivityanalysis", "method");
  const char *output = cfgstr(d, "connectivityanalysis", "output");
  char ylabel[128] = "";
  const char *sep = " - ", *xlabel = "frequency (Hz)";
  bool corr = method && !strcmp(method, "corr");
  if (method && !strcmp(method, "granger")) {
    snprintf(ylabel, sizeof ylabel, "Granger causality");
    sep = " \xe2\x86\x92 "; /* → */
  } else if (method && !strcmp(method, "coh")) {
    snprintf(ylabel, sizeof ylabel, "%s coherence", output ? output : "");
  } else if (method && !strcmp(method, "ppc")) {
    snprintf(ylabel, sizeof ylabel, "PPC");
  } else if (corr) {
    snprintf(ylabel, sizeof ylabel, "correlation");
    xlabel = "lag";
  }
  bool tf = !corr && time_freq(d);
  size_t npanels = multi ? ni * nj : tf ? ni * nj : 1;
  if (tf && !multi && npanels != 1)
    return spy_fail(err, SPY_EINVAL, "Please select a single channel combination for plotting!");
  size_t n;
  double *v = read_trial(c, &n, err); /* rows x nf x ni x nj */
  double *x = v ? (corr || tf ? trial_time(c, err) : sel_freq(c, err)) : NULL;
  double *fr = x && tf ? sel_freq(c, err) : NULL;
  spy_figure *f = x && (!tf || fr) ? newfig(tf      ? "CrossSpectralData time-frequency"
                                            : multi ? "CrossSpectralData, one panel per channel "
                                                      "combination"
                                                    : "CrossSpectralData",
                                            npanels, err)
                                   : NULL;
  int rc = f ? SPY_OK : err->code;
  double *z = !rc && tf ? malloc((rows * nf > 0 ? rows * nf : 1) * sizeof *z) : NULL;
  if (!rc && tf && !z) rc = nomem(err);
  size_t npts = corr ? rows : nf, stride = corr ? nf * ni * nj : ni * nj;
  for (size_t i = 0; !rc && i < ni; i++)
    for (size_t j = 0; !rc && j < nj; j++) {
      char label[512];
      snprintf(label, sizeof label, "%s%s%s", d->channel[s->chans[i]], sep,
               d->channel_j[s->chans_j[j]]);
      spy_plot_panel *p = &f->panels[npanels > 1 ? i * nj + j : 0];
      if (tf) {
        for (size_t k = 0; k < rows; k++)
          for (size_t q = 0; q < nf; q++)
            z[q * rows + k] = v[((k * nf + q) * ni + i) * nj + j];
        char title[600];
        snprintf(title, sizeof title, "%s%s%s", method ? method : "", method ? ": " : "", label);
        if (spy_panel_labels(p, title, "time (s)", "frequency (Hz)") ||
            tf_image(p, z, rows, nf, x, fr, ylabel))
          rc = nomem(err);
        continue;
      }
      if (spy_panel_labels(p, multi ? label : NULL, xlabel, ylabel) ||
          spy_panel_add_line(p, x, v + i * nj + j, stride, npts, multi ? NULL : label))
        rc = nomem(err);
      p->yrange = (method && (!strcmp(method, "granger") || !strcmp(method, "coh")) && output &&
                   (!strcmp(output, "pow") || !strcmp(output, "abs"))) ||
                  corr;
      p->ymin = corr ? -1.02 : -0.02, p->ymax = 1.02;
    }
  free(v), free(x), free(fr), free(z);
  if (rc)
    spy_figure_free(f);
  else
    *out = f;
  return rc;
}

/* ---- TimeLockData ---------------------------------------------------------- */

/* A [len x nch] extra dataset (avg, var) as doubles, or NULL (*has false) when absent. */
static double *extra_rows(spy_data *d, const char *name, size_t *len, bool *has, spy_err *err)
{
  spy_array *a = NULL;
  *has = false;
  if (spy_data_get_extra(d, name, &a, err)) return NULL;
  if (!a) return NULL;
  size_t n = a->ndim >= 1 ? a->shape[0] : 0, m = a->ndim >= 2 ? a->shape[1] : 1;
  double *v = malloc((n * m > 0 ? n * m : 1) * sizeof *v);
  if (!v) {
    spy_array_free(a);
    nomem(err);
    return NULL;
  }
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < m; j++) {
      size_t idx[2] = {i, j};
      v[i * m + j] = spy_array_getd(a, idx);
    }
  spy_array_free(a);
  *len = n, *has = true;
  return v;
}

/*
** The trial average with its band avg +- sqrt(var) (where `var` exists)
** when the object has `avg` and no `trials` are selected; otherwise the
** selected trials as lines (one line per trial and channel).
*/
static int plot_timelock(const ctx *c, spy_figure **out, spy_err *err)
{
  spy_data *d = c->d;
  const spy_selection *s = c->s;
  bool multi = c->o->multi;
  size_t nch = s->nchan, rows = s->nrows[0];
  if (multi && panel_count(nch, "channels", err)) return err->code;
  size_t len = 0, vlen = 0;
  bool has_avg = false, has_var = false;
  double *avg = given(c, "trials") ? NULL : extra_rows(d, "avg", &len, &has_avg, err);
  if (!has_avg && err->code) return err->code;
  double *var = has_avg ? extra_rows(d, "var", &vlen, &has_var, err) : NULL;
  if (has_avg && !has_var && err->code) {
    free(avg);
    return err->code;
  }
  int rc = SPY_OK;
  spy_figure *f = NULL;
  double *t = NULL, *y = NULL, *lo = NULL, *hi = NULL;
  if (has_avg) {
    /* the window of the (equal-length) trials: rows of the first selected trial */
    size_t first = (size_t)d->trldef[s->trials[0] * d->trlcols];
    size_t r0 = s->row0[0] - first, dch = d->nchannel;
    if (nonempty(rows * nch, err) || r0 + rows > len || (has_var && vlen != len))
      rc = err->code ? err->code
                     : spy_fail(err, SPY_EINVAL, "`avg` (%zu rows) does not match the trials", len);
    t = rc ? NULL : trial_time(c, err);
    lo = t ? malloc(rows * sizeof *lo) : NULL;
    hi = lo ? malloc(rows * sizeof *hi) : NULL;
    y = hi ? malloc(rows * sizeof *y) : NULL;
    if (!rc && !y) rc = t ? nomem(err) : err->code;
    f = rc ? NULL
           : newfig(multi ? "TimeLockData trial average, one panel per channel"
                          : "TimeLockData trial average",
                    multi ? nch : 1, err);
    if (!rc && !f) rc = err->code;
    const char *title = has_var ? "trial average \xc2\xb1 1 SD" : "trial average";
    for (size_t ch = 0; !rc && ch < nch; ch++) {
      size_t col = s->chans[ch];
      spy_plot_panel *p = &f->panels[multi ? ch : 0];
      for (size_t k = 0; k < rows; k++) {
        y[k] = avg[(r0 + k) * dch + col];
        double sd = has_var ? sqrt(var[(r0 + k) * dch + col]) : 0;
        lo[k] = y[k] - sd, hi[k] = y[k] + sd;
      }
      if (spy_panel_labels(p, multi ? d->channel[col] : title, "time (s)",
                           multi ? "signal (a.u.)" : "") ||
          (has_var && spy_panel_add_band(p, t, lo, hi, 1, rows)) ||
          spy_panel_add_line(p, t, y, 1, rows, multi ? NULL : d->channel[col]))
        rc = nomem(err);
    }
  } else {
    size_t ntr = s->ntrials;
    if (!multi && nch != 1 && ntr != 1)
      rc = spy_fail(err, SPY_EINVAL,
                    "Please select a single channel or a single trial for plotting!");
    for (size_t i = 0; !rc && i < ntr; i++)
      if (nonempty(s->nrows[i] * nch, err)) rc = err->code;
    f = rc ? NULL
           : newfig(multi ? "TimeLockData trials, one panel per channel" : "TimeLockData trials",
                    multi ? nch : 1, err);
    if (!rc && !f) rc = err->code;
    bool legend = ntr * (multi ? 1 : nch) <= 10;
    for (size_t ch = 0; !rc && ch < nch; ch++)
      if (spy_panel_labels(&f->panels[multi ? ch : 0], multi ? d->channel[s->chans[ch]] : NULL,
                           "time (s)", multi ? "signal (a.u.)" : ""))
        rc = nomem(err);
    for (size_t i = 0; !rc && i < ntr; i++) {
      size_t n, tr = s->trials[i];
      /* read trial i alone: a one-trial view of the selection */
      spy_selection one = *s;
      one.ntrials = 1, one.trials = s->trials + i, one.row0 = s->row0 + i;
      one.nrows = s->nrows + i, one.trldef = s->trldef + i * s->trlcols;
      ctx ci = {d, &one, c->o, c->sel};
      y = read_trial(&ci, &n, err);
      t = y ? trial_time(&ci, err) : NULL;
      if (!t) {
        rc = err->code;
        break;
      }
      for (size_t ch = 0; !rc && ch < nch; ch++) {
        char label[300];
        if (multi || nch == 1)
          snprintf(label, sizeof label, "trial %zu", tr + 1);
        else
          snprintf(label, sizeof label, "%s", d->channel[s->chans[ch]]);
        if (spy_panel_add_line(&f->panels[multi ? ch : 0], t, y + ch, nch, one.nrows[0],
                               legend ? label : NULL))
          rc = nomem(err);
      }
      free(y), free(t);
      y = t = NULL;
    }
  }
  free(avg), free(var), free(t), free(y), free(lo), free(hi);
  if (rc)
    spy_figure_free(f);
  else
    *out = f;
  return rc;
}

/* ---- SpikeData ------------------------------------------------------------- */

/* The selected ids of one column (channel or unit positions) with their labels. */
static size_t *spike_ids(const spy_dsel *s, bool unit, size_t nlabels, size_t *n)
{
  const spy_ivec *v = unit ? &s->unit : &s->chan;
  bool all = unit ? s->unit_all : s->chan_all;
  size_t m = all ? nlabels : v->n;
  size_t *ids = malloc((m ? m : 1) * sizeof *ids);
  if (!ids) return NULL;
  for (size_t i = 0; i < m; i++)
    ids[i] = all ? i : (size_t)v->v[i];
  *n = m;
  return ids;
}

/* Position of id in ids, or -1. */
static ptrdiff_t id_row(const size_t *ids, size_t n, int64_t id)
{
  for (size_t i = 0; i < n; i++)
    if ((int64_t)ids[i] == id) return (ptrdiff_t)i;
  return -1;
}

/*
** Raster marks of selected trial i into panel p: a mark at the spike's time
** (s, relative to the trial's offset) on row `rowof` (the position of its
** channel/unit id in ids; `fixed` >= 0 puts every mark on that row).
*/
static int raster_trial(spy_data *d, const spy_dsel *s, size_t i, int col, const size_t *ids,
                        size_t nids, ptrdiff_t fixed, spy_plot_panel *p, spy_err *err)
{
  size_t nc = d->shape[1], cap = 0, n = 0;
  const double *trl = s->trldef + i * s->trlcols;
  double shift = trl[0] - trl[2];
  int64_t *buf = malloc(SPY_DISCRETE_BLOCK * nc * sizeof *buf);
  double *x = NULL, *y = NULL;
  int rc = buf ? SPY_OK : nomem(err);
  for (size_t r = 0; !rc && r < s->nrows[i]; r += SPY_DISCRETE_BLOCK) {
    size_t m = s->nrows[i] - r < SPY_DISCRETE_BLOCK ? s->nrows[i] - r : SPY_DISCRETE_BLOCK;
    if ((rc = spy_discrete_read(d, s->row0[i] + r, m, buf, err))) break;
    for (size_t k = 0; k < m; k++) {
      const int64_t *row = buf + k * nc;
      if (!spy_dsel_keep(s, d, i, row)) continue;
      ptrdiff_t at = id_row(ids, nids, row[col]);
      if (at < 0) continue;
      if (fixed >= 0) at = fixed;
      if (n == cap) {
        size_t nc2 = cap ? 2 * cap : 1024;
        double *x2 = realloc(x, nc2 * sizeof *x2);
        if (x2) x = x2;
        double *y2 = x2 ? realloc(y, nc2 * sizeof *y2) : NULL;
        if (!y2) {
          rc = nomem(err);
          break;
        }
        y = y2, cap = nc2;
      }
      x[n] = ((double)row[0] - shift) / d->samplerate;
      y[n++] = (double)at;
    }
  }
  if (!rc && n && spy_panel_add_marks(p, x, y, n)) rc = nomem(err);
  /* the x axis spans the trials' windows (a spike at a trial's edge stays visible) */
  double a = trl[2] / d->samplerate, b = (trl[1] - trl[0] + trl[2]) / d->samplerate;
  if (!p->xrange || a < p->xmin) p->xmin = a;
  if (!p->xrange || b > p->xmax) p->xmax = b;
  p->xrange = true;
  free(buf), free(x), free(y);
  return rc;
}

/* Row labels as y ticks (up to 25; more: the axis named `what`), y range [-0.5, n-0.5]. */
static int raster_axis(spy_plot_panel *p, const char *const *labels, size_t n, const char *what,
                       bool ylabel)
{
  p->yrange = true, p->ymin = -0.5, p->ymax = (double)n - 0.5;
  if (n > SPY_PLOT_MAX_PANELS) return spy_panel_labels(p, NULL, NULL, ylabel ? what : "");
  double *pos = malloc((n ? n : 1) * sizeof *pos);
  if (!pos) return SPY_ENOMEM;
  for (size_t k = 0; k < n; k++)
    pos[k] = (double)k;
  int rc = spy_panel_labels(p, NULL, NULL, "") || spy_panel_set_yticks(p, pos, labels, n);
  free(pos);
  return rc ? SPY_ENOMEM : SPY_OK;
}

/*
** Syncopy's spike rasters (plot_single_figure_SpikeData /
** plot_multi_figure_SpikeData): on_yaxis 'trials' (one unit; multi: one
** panel per unit), or 'channel'/'unit' (one trial; multi: one panel per trial).
*/
static int plot_spike(const ctx *c, spy_figure **out, spy_err *err)
{
  spy_data *d = c->d;
  bool multi = c->o->multi;
  const char *axis = c->o->on_yaxis ? c->o->on_yaxis : "trials";
  if (strcmp(axis, "trials") && strcmp(axis, "unit") && strcmp(axis, "channel"))
    return spy_fail_value(err, "on_yaxis", axis, "either 'trials', 'unit' or 'channel'");
  /* spy's selections are 1-based; the discrete resolver takes 0-based */
  cJSON *sel = c->sel ? cJSON_Duplicate(c->sel, 1) : NULL;
  if (c->sel && !sel) return nomem(err);
  static const char *const shift[] = {"trials", "channel", "unit", NULL};
  for (const char *const *k = shift; sel && *k; k++) {
    cJSON *v = cJSON_GetObjectItem(sel, *k), *e;
    if (cJSON_IsNumber(v))
      cJSON_SetNumberValue(v, v->valuedouble - 1);
    else if (cJSON_IsArray(v))
      cJSON_ArrayForEach(e, v) if (cJSON_IsNumber(e)) cJSON_SetNumberValue(e, e->valuedouble - 1);
  }
  spy_dsel *s = NULL;
  int rc = spy_dsel_make(d, sel, &s, err) ? err->code : SPY_OK;
  cJSON_Delete(sel);
  if (rc) {
    char *p = strstr(err->msg, "values b/w 0 and ");
    if (p)
      snprintf(p, sizeof err->msg - (size_t)(p - err->msg), "values b/w 1 and %zu", d->ntrials);
    return rc;
  }
  bool trials = !strcmp(axis, "trials"), unit = !strcmp(axis, "unit");
  size_t nids = 0, ntr = s->ntrials;
  size_t *ids = spike_ids(s, trials || unit, trials || unit ? d->nunit : d->nchannel, &nids);
  char **names = trials || unit ? d->unit : d->channel;
  spy_figure *f = NULL;
  char **trl = NULL;
  if (!ids) rc = nomem(err);
  if (!rc && ntr == 0) rc = nonempty(0, err);
  if (!rc && !trials) {
    if (!multi && ntr != 1)
      rc = spy_fail(err, SPY_EINVAL, "Please select a single trial for plotting!");
    else if (multi && ntr > SPY_PLOT_MAX_PANELS)
      rc = spy_fail(err, SPY_EINVAL,
                    "Cannot plot %zu trials at once!\nPlease select maximum %d trials for "
                    "multipanel plotting.. skipping plot!",
                    ntr, SPY_PLOT_MAX_PANELS);
  } else if (!rc) {
    if (!multi && nids != 1)
      rc = spy_fail(err, SPY_EINVAL, "Please select a single unit for plotting!");
    else if (multi && nids > SPY_PLOT_MAX_PANELS)
      rc = spy_fail(err, SPY_EINVAL,
                    "Cannot plot %zu units at once!\nPlease select maximum %d units for "
                    "multipanel plotting.. skipping plot!",
                    nids, SPY_PLOT_MAX_PANELS);
  }
  size_t npanels = multi ? (trials ? nids : ntr) : 1;
  const char *kind = !multi   ? "SpikeData raster"
                     : trials ? "SpikeData raster, one panel per unit"
                              : "SpikeData raster, one panel per trial";
  if (!rc && !(f = newfig(kind, npanels, err))) rc = err->code;
  /* trial labels "trial<n>" (1-based: spy's trial numbers) */
  if (!rc && trials && !(trl = calloc(ntr ? ntr : 1, sizeof *trl))) rc = nomem(err);
  for (size_t i = 0; !rc && trials && i < ntr; i++) {
    char b[32];
    snprintf(b, sizeof b, "trial%zu", s->trials[i] + 1);
    if (!(trl[i] = strdup(b))) rc = nomem(err);
  }
  for (size_t q = 0; !rc && q < npanels; q++) {
    spy_plot_panel *p = &f->panels[q];
    char title[300];
    if (trials) {
      /* one unit: a row per trial */
      size_t uid = ids[q];
      size_t one[1] = {uid};
      for (size_t i = 0; !rc && i < ntr; i++)
        rc = raster_trial(d, s, i, 2, one, 1, (ptrdiff_t)i, p, err);
      snprintf(title, sizeof title, "%s", uid < d->nunit ? d->unit[uid] : "");
      if (!rc &&
          raster_axis(p, (const char *const *)trl, ntr, "trials", !multi || q % f->ncols == 0))
        rc = nomem(err);
    } else {
      rc = raster_trial(d, s, q, unit ? 2 : 1, ids, nids, -1, p, err);
      snprintf(title, sizeof title, "trial%zu", s->trials[q] + 1);
      const char **lab = rc ? NULL : malloc((nids ? nids : 1) * sizeof *lab);
      if (!rc && !lab) rc = nomem(err);
      for (size_t k = 0; !rc && k < nids; k++)
        lab[k] = ids[k] < (unit ? d->nunit : d->nchannel) ? names[ids[k]] : "";
      if (!rc && raster_axis(p, lab, nids, axis, true)) rc = nomem(err);
      free(lab);
    }
    if (!rc && spy_panel_labels(p, multi || trials ? title : NULL, "time (s)", NULL))
      rc = nomem(err);
  }
  for (size_t i = 0; trl && i < ntr; i++)
    free(trl[i]);
  free(trl), free(ids);
  spy_dsel_free(s);
  if (rc)
    spy_figure_free(f);
  else
    *out = f;
  return rc;
}

/* ---- dispatch -------------------------------------------------------------- */

static const struct {
  spy_dataclass cls;
  int (*build)(const ctx *, spy_figure **, spy_err *);
} builders[] = {
    {SPY_ANALOG, plot_analog},     {SPY_SPECTRAL, plot_spectral}, {SPY_CROSSSPECTRAL, plot_cross},
    {SPY_TIMELOCK, plot_timelock}, {SPY_SPIKE, plot_spike},
};

int spy_plot_data(spy_data *d, const spy_plot_opts *o, spy_figure **out, spy_err *err)
{
  *out = NULL;
  for (size_t i = 0; i < sizeof builders / sizeof *builders; i++) {
    if (builders[i].cls != d->cls) continue;
    ctx c = {d, NULL, o, o->sel};
    cJSON *own = NULL;
    const cJSON *lat = o->sel ? cJSON_GetObjectItemCaseSensitive(o->sel, "latency") : NULL;
    if (d->cls == SPY_SPECTRAL && lat && !cJSON_IsNull(lat) && !time_freq(d)) {
      if (!(own = cJSON_Duplicate(o->sel, 1))) return nomem(err);
      cJSON_DeleteItemFromObjectCaseSensitive(own, "latency");
      c.sel = own;
      spy_log(SPY_LOG_WARNING,
              "Line spectra don't have a time axis, ignoring `latency` selection!");
    }
    /* discrete data resolve their own selection (spy_dsel) */
    int rc = d->cls != SPY_SPIKE && spy_select(d, c.sel, &c.s, err)
                 ? err->code
                 : builders[i].build(&c, out, err);
    spy_selection_free(c.s);
    cJSON_Delete(own);
    return rc;
  }
  return spy_fail(err, SPY_ENOTSUP, "plotting %s is not supported", spy_dataclass_name(d->cls));
}
