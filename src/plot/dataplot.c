/* Figures of data objects (dataplot.h). */
#include "plot/dataplot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
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
    /* Syncopy's offsets: cumsum([0, max(prev) - min(cur)] * 1.1) */
    for (size_t ch = 1; shift && !rc && ch < nch; ch++) {
      double mx = -INFINITY, mn = INFINITY;
      for (size_t k = 0; k < rows; k++) {
        double a = y[k * nch + ch - 1], b = y[k * nch + ch];
        if (a > mx) mx = a;
        if (b < mn) mn = b;
      }
      off[ch] = off[ch - 1] + (mx - mn) * 1.1;
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

/* ---- dispatch -------------------------------------------------------------- */

static const struct {
  spy_dataclass cls;
  int (*build)(const ctx *, spy_figure **, spy_err *);
} builders[] = {
    {SPY_ANALOG, plot_analog},
    {SPY_SPECTRAL, plot_spectral},
    {SPY_CROSSSPECTRAL, plot_cross},
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
    int rc = spy_select(d, c.sel, &c.s, err) ? err->code : builders[i].build(&c, out, err);
    spy_selection_free(c.s);
    cJSON_Delete(own);
    return rc;
  }
  return spy_fail(err, SPY_ENOTSUP, "plotting %s is not supported", spy_dataclass_name(d->cls));
}
