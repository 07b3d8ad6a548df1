/* spy.redefinetrial and spy.concat: new trials from existing samples. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/interrupt.h"
#include "core/log.h"
#include "stats/common.h"

/* Copies row ranges [r0[k], r0[k]+len[k]) (all inner axes, last-axis
** channels chans) of the inputs src[k] into consecutive trials of a new
** object: trialdefinition rows [row, row+len, trl[k*cols+2], trl[k*cols+3...]]. */
static int stream_ranges(spy_data *const *src, const size_t *r0, const size_t *len,
                         const size_t *const *chans, const size_t *nch, size_t ntr,
                         const double *trl, size_t cols, spy_data *o, spy_err *err)
{
  size_t rows = 0, maxr = 0, total = 0, inner = 1;
  for (size_t k = 0; k < ntr; k++) {
    rows += len[k];
    if (len[k] > maxr) maxr = len[k];
  }
  /* every source contributes its channels side by side (concat along channels) */
  total = nch[0];
  spy_dtype t = src[0]->dtype;
  size_t es = spy_dtype_size(t);
  int nd = src[0]->ndim;
  size_t shape[4] = {rows, 0, 0, 0};
  for (int a = 1; a < nd - 1; a++) inner *= shape[a] = src[0]->shape[a];
  shape[nd - 1] = total;
  double *out_trl = calloc((ntr ? ntr : 1) * cols, sizeof *out_trl);
  char *buf = malloc((maxr * inner * total + 1) * es);
  int rc = (!out_trl || !buf) ? spy_fail(err, SPY_ENOMEM, "out of memory") : SPY_OK;
  if (!rc) rc = spy_data_create(o, t, nd, shape, err);
  size_t row = 0;
  for (size_t k = 0; !rc && k < ntr; k++) {
    if (spy_interrupted()) rc = spy_fail(err, SPY_EINTR, "interrupted");
    if (!rc) rc = spy_data_read(src[k], r0[k], len[k], chans[k], nch[k], buf, t, err);
    if (!rc) rc = spy_data_write(o, row, len[k], 0, nch[k], buf, t, err);
    double *r = out_trl + k * cols;
    memcpy(r, trl + k * cols, cols * sizeof *r);
    r[0] = (double)row;
    r[1] = (double)(row + len[k]);
    row += len[k];
  }
  if (!rc && spy_data_set_trldef(o, out_trl, ntr, cols))
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
  free(out_trl);
  free(buf);
  return rc;
}

static int values_for(const char *name, const double *v, size_t n, size_t ntr, size_t k,
                      double *out, spy_err *err)
{
  if (n != 1 && n != ntr)
    return spy_fail_value(err, name, NULL, "a single value or one value per trial (%zu)", ntr);
  *out = v[n == 1 ? 0 : k];
  if (!isfinite(*out) || *out != floor(*out))
    return spy_fail_value(err, name, NULL, "integer sample numbers");
  return SPY_OK;
}

int spy_redefinetrial(spy_data *in, const spy_selection *sel, const spy_redefine *r, spy_data **out,
                      spy_err *err)
{
  *out = NULL;
  int given =
      (r->begsample || r->endsample) + (r->trl != NULL) + !isnan(r->minlength) + sel->time_selected;
  if (given > 1)
    return spy_fail(err, SPY_EINVAL,
                    "Incompatible input arguments, either `minlength` or "
                    "`begsample`/`endsample` or `trl` or `toilim`");
  if ((r->begsample != NULL) != (r->endsample != NULL))
    return spy_fail(err, SPY_EINVAL,
                    "Incompatible input arguments, `begsample` and `endsample` "
                    "are needed together");
  size_t ntr = r->trl ? r->ntrl : sel->ntrials;
  size_t cols = r->trl ? r->trlcols : sel->trlcols;
  size_t *r0 = calloc(ntr + 1, sizeof *r0), *len = calloc(ntr + 1, sizeof *len);
  double *trl = calloc((ntr + 1) * (cols ? cols : 3), sizeof *trl);
  spy_data **src = calloc(ntr + 1, sizeof *src);
  const size_t **chans = calloc(ntr + 1, sizeof *chans);
  size_t *nch = calloc(ntr + 1, sizeof *nch);
  spy_data *o = NULL;
  int rc = (!r0 || !len || !trl || !src || !chans || !nch)
               ? spy_fail(err, SPY_ENOMEM, "out of memory")
               : SPY_OK;
  size_t kept = 0;
  for (size_t k = 0; !rc && k < ntr; k++) {
    double *row = trl + kept * cols;
    if (r->trl) {
      const double *t = r->trl + k * cols;
      if (t[0] != floor(t[0]) || t[1] != floor(t[1]) || t[0] < 0 || t[1] < t[0] ||
          t[1] > (double)in->shape[0]) {
        char actual[128];
        snprintf(actual, sizeof actual, "trial %zu: [%g, %g]", k + 1, t[0], t[1]);
        rc = spy_fail_value(err, "trl", actual,
                            "integer start/stop samples with 0 <= start <= stop <= %zu (samples "
                            "outside the data are not filled)",
                            in->shape[0]);
        break;
      }
      r0[kept] = (size_t)t[0];
      len[kept] = (size_t)(t[1] - t[0]);
      memcpy(row, t, cols * sizeof *row);
    } else {
      r0[kept] = sel->row0[k];
      len[kept] = sel->nrows[k];
      memcpy(row, sel->trldef + k * cols, cols * sizeof *row);
      if (r->begsample) {
        double b = 0, e = 0;
        if ((rc = values_for("begsample", r->begsample, r->nbeg, ntr, k, &b, err)) ||
            (rc = values_for("endsample", r->endsample, r->nend, ntr, k, &e, err)))
          break;
        if (b < 1 || e < b || e > (double)sel->nrows[k]) {
          char actual[128];
          snprintf(actual, sizeof actual, "trial %zu: begsample %g, endsample %g",
                   sel->trials[k] + 1, b, e);
          rc = spy_fail_value(err, "begsample/endsample", actual,
                              "1 <= begsample <= endsample <= %zu (1-based, inclusive, the "
                              "samples of the trial)",
                              sel->nrows[k]);
          break;
        }
        r0[kept] += (size_t)b - 1;
        len[kept] = (size_t)(e - b + 1);
        row[2] += b - 1; /* the samples keep their time */
      }
      /* Syncopy: keep trials with nSamples >= int(minlength * samplerate) */
      if (!isnan(r->minlength) && (double)sel->nrows[k] < trunc(r->minlength * in->samplerate))
        continue;
    }
    src[kept] = in;
    /* the last axis: channel, or channel_j of CrossSpectralData */
    chans[kept] = in->cls == SPY_CROSSSPECTRAL ? sel->chans_j : sel->chans;
    nch[kept] = in->cls == SPY_CROSSSPECTRAL ? sel->nchan_j : sel->nchan;
    kept++;
  }
  if (!rc && !isnan(r->minlength) && kept < ntr)
    spy_log(SPY_LOG_INFO, "discarding %zu trials", ntr - kept);
  for (size_t k = 0; !rc && r->offset && k < kept; k++) {
    if (r->noffset != 1 && r->noffset != kept) {
      rc = spy_fail_value(err, "offset", NULL, "a single value or one value per trial (%zu)", kept);
      break;
    }
    double off = r->offset[r->noffset == 1 ? 0 : k];
    if (!isfinite(off) || off != floor(off)) {
      rc = spy_fail_value(err, "offset", NULL, "integer offsets in samples");
      break;
    }
    trl[k * cols + 2] = off;
  }
  if (!rc && !(o = spy_data_new(in->cls))) rc = spy_fail(err, SPY_ENOMEM, "out of memory");
  if (!rc && kept) rc = stream_ranges(src, r0, len, chans, nch, kept, trl, cols, o, err);
  if (!rc && !kept) {
    size_t shape[4] = {0};
    for (int a = 1; a < in->ndim; a++) shape[a] = in->shape[a];
    shape[in->ndim - 1] = in->cls == SPY_CROSSSPECTRAL ? sel->nchan_j : sel->nchan;
    rc = spy_data_create(o, in->dtype, in->ndim, shape, err);
    if (!rc && spy_data_set_trldef(o, trl, 0, cols))
      rc = spy_fail(err, SPY_ENOMEM, "out of memory");
  }
  if (!rc && spy_stat_labels(o, in, sel)) rc = spy_fail(err, SPY_ENOMEM, "out of memory");
  if (!rc && in->cls == SPY_TIMELOCK) {
    for (size_t k = 1; !rc && k < kept; k++)
      if (len[k] != len[0] || trl[k * cols + 2] != trl[2])
        rc = spy_fail_value(err, "trialdefinition", NULL,
                            "trialdefinition with equally sized trials and common offsets");
  }
  if (!rc) {
    spy_stat_inherit(o, in);
    rc = spy_data_sync_meta(o, err);
  }
  free(r0);
  free(len);
  free(trl);
  free(src);
  free(chans);
  free(nch);
  if (rc)
    spy_data_unref(o);
  else
    *out = o;
  return rc;
}

int spy_concat(spy_data *a, spy_data *b, const char *dim, spy_data **out, spy_err *err)
{
  *out = NULL;
  bool bych = strcmp(dim, "channel") == 0, bytr = strcmp(dim, "trials") == 0;
  if (!bych && !bytr) return spy_fail_value(err, "dim", dim, "'channel' or 'trials'");
  if (!spy_dataclass_timechannel(a->cls) && a->cls != SPY_SPECTRAL)
    return spy_fail(err, SPY_ETYPE,
                    "Wrong type of `obj1`: expected AnalogData, TimeLockData or SpectralData "
                    "(continuous data with a `channel` axis) found %s",
                    spy_dataclass_name(a->cls));
  if (a->cls != b->cls)
    return spy_fail(
        err, SPY_ETYPE,
        "Wrong type of `obj2`: expected continuous data of the class of `obj1` (%s) found %s",
        spy_dataclass_name(a->cls), spy_dataclass_name(b->cls));
  /* inner axes (SpectralData's taper and freq) must agree in size, as Syncopy's shape check */
  size_t inner = 1;
  for (int ax = 1; ax < a->ndim - 1; ax++) {
    if (a->shape[ax] != b->shape[ax]) {
      char actual[128];
      snprintf(actual, sizeof actual, "axis %d ('%s') has %zu entries, %zu in obj1", ax + 1,
               spy_data_dimord(a)[ax], b->shape[ax], a->shape[ax]);
      return spy_fail_value(err, "obj2", actual, "the same shapes except along `%s`", dim);
    }
    inner *= a->shape[ax];
  }
  if (!a->path || !b->path || a->ntrials == 0 || b->ntrials == 0)
    return spy_fail_value(err, "data", "empty", "non-empty objects");
  if (spy_dtype_is_complex(a->dtype) != spy_dtype_is_complex(b->dtype) ||
      !(a->samplerate == b->samplerate || (isnan(a->samplerate) && isnan(b->samplerate))))
    return spy_fail_value(err, "obj2", NULL,
                          "compatible syncopy objects for concatenation (samplerate %g, %s data)",
                          a->samplerate, spy_dtype_is_complex(a->dtype) ? "complex" : "real");
  spy_data *o = spy_data_new(a->cls);
  if (!o) return spy_fail(err, SPY_ENOMEM, "out of memory");
  int rc = SPY_OK;
  size_t *ca = NULL, *cb = NULL;
  size_t na = a->nchannel, nb = b->nchannel, cols = a->trlcols;
  if (!(ca = malloc((na + 1) * sizeof *ca)) || !(cb = malloc((nb + 1) * sizeof *cb))) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto exit;
  }
  for (size_t c = 0; c < na; c++)
    ca[c] = c;
  for (size_t c = 0; c < nb; c++)
    cb[c] = c;
  if (bych) {
    if (a->ntrials != b->ntrials) {
      rc = spy_fail_value(err, "obj2", NULL, "the same number of trials as obj1 (%zu, found %zu)",
                          a->ntrials, b->ntrials);
      goto exit;
    }
    for (size_t k = 0; k < a->ntrials; k++)
      if (spy_data_trial_rows(a, k) != spy_data_trial_rows(b, k)) {
        char actual[128];
        snprintf(actual, sizeof actual, "trial %zu has %zu samples, %zu in obj1", k + 1,
                 spy_data_trial_rows(b, k), spy_data_trial_rows(a, k));
        rc = spy_fail_value(err, "obj2", actual, "the same shapes except along `channel`");
        goto exit;
      }
    size_t rows = 0, maxr = 0, nt = a->ntrials;
    for (size_t k = 0; k < nt; k++) {
      rows += spy_data_trial_rows(a, k);
      if (spy_data_trial_rows(a, k) > maxr) maxr = spy_data_trial_rows(a, k);
    }
    spy_dtype t = a->dtype;
    size_t shape[4] = {rows, 0, 0, 0}, es = spy_dtype_size(t);
    for (int ax = 1; ax < a->ndim - 1; ax++) shape[ax] = a->shape[ax];
    shape[a->ndim - 1] = na + nb;
    char *buf = malloc((maxr * inner * (na > nb ? na : nb) + 1) * es);
    double *trl = malloc((nt * cols + 1) * sizeof *trl);
    if (!buf || !trl) rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    if (!rc) rc = spy_data_create(o, t, a->ndim, shape, err);
    size_t row = 0;
    for (size_t k = 0; !rc && k < nt; k++) {
      size_t len = spy_data_trial_rows(a, k);
      if (spy_interrupted()) rc = spy_fail(err, SPY_EINTR, "interrupted");
      if (!rc) rc = spy_data_read(a, (size_t)a->trldef[k * cols], len, ca, na, buf, t, err);
      if (!rc) rc = spy_data_write(o, row, len, 0, na, buf, t, err);
      if (!rc) rc = spy_data_read(b, (size_t)b->trldef[k * b->trlcols], len, cb, nb, buf, t, err);
      if (!rc) rc = spy_data_write(o, row, len, na, nb, buf, t, err);
      memcpy(trl + k * cols, a->trldef + k * cols, cols * sizeof *trl);
      trl[k * cols] = (double)row;
      trl[k * cols + 1] = (double)(row + len);
      row += len;
    }
    if (!rc && (spy_data_set_trldef(o, trl, nt, cols) || spy_data_default_channels(o, na + nb)))
      rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    free(buf);
    free(trl);
  } else {
    if (na != nb) {
      rc = spy_fail_value(err, "obj2", NULL, "the same number of channels as obj1 (%zu, found %zu)",
                          na, nb);
      goto exit;
    }
    size_t nt = a->ntrials + b->ntrials, c3 = a->trlcols == b->trlcols ? cols : 3;
    spy_data **src = calloc(nt, sizeof *src);
    size_t *r0 = calloc(nt, sizeof *r0), *len = calloc(nt, sizeof *len),
           *nch = calloc(nt, sizeof *nch);
    const size_t **chans = calloc(nt, sizeof *chans);
    double *trl = calloc(nt * c3, sizeof *trl);
    if (!src || !r0 || !len || !nch || !chans || !trl)
      rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    for (size_t k = 0; !rc && k < nt; k++) {
      spy_data *s = k < a->ntrials ? a : b;
      size_t j = k < a->ntrials ? k : k - a->ntrials;
      src[k] = s;
      r0[k] = (size_t)s->trldef[j * s->trlcols];
      len[k] = spy_data_trial_rows(s, j);
      chans[k] = ca;
      nch[k] = na;
      memcpy(trl + k * c3, s->trldef + j * s->trlcols, c3 * sizeof *trl);
    }
    if (!rc && a->dtype != b->dtype)
      rc = spy_fail_value(err, "obj2", spy_dtype_name(b->dtype), "data of dtype %s",
                          spy_dtype_name(a->dtype));
    if (!rc) rc = stream_ranges(src, r0, len, chans, nch, nt, trl, c3, o, err);
    if (!rc && spy_data_set_channel(o, (const char *const *)a->channel, na))
      rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    if (!rc && a->cls == SPY_TIMELOCK)
      for (size_t k = 1; !rc && k < nt; k++)
        if (len[k] != len[0] || trl[k * c3 + 2] != trl[2])
          rc = spy_fail_value(err, "trialdefinition", NULL,
                              "trialdefinition with equally sized trials and common offsets");
    free(src);
    free(r0);
    free(len);
    free(nch);
    free(chans);
    free(trl);
  }
  /* SpectralData: obj1's frequencies and tapers (Syncopy's result takes obj1's) */
  if (!rc && a->cls == SPY_SPECTRAL &&
      (spy_data_set_freq(o, a->freq, a->nfreq) ||
       spy_data_set_taper(o, (const char *const *)a->taper, a->ntaper)))
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
  if (!rc) {
    o->samplerate = a->samplerate;
    rc = spy_data_sync_meta(o, err);
  }
exit:
  free(ca);
  free(cb);
  if (rc)
    spy_data_unref(o);
  else
    *out = o;
  return rc;
}
