/* Shared pieces of the statistics: reading one selected trial as doubles,
** output objects and their labels. */
#include "stats/common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int spy_stat_block_dims(const spy_data *d, const spy_selection *s, size_t i, size_t dims[4])
{
  dims[0] = s->nrows[i];
  if (d->cls == SPY_SPECTRAL) {
    dims[1] = s->ntaper, dims[2] = s->nfreq, dims[3] = s->nchan;
    return 4;
  }
  if (d->cls == SPY_CROSSSPECTRAL) {
    dims[1] = s->nfreq, dims[2] = s->nchan, dims[3] = s->nchan_j;
    return 4;
  }
  dims[1] = s->nchan;
  return 2;
}

size_t spy_stat_block_elems(const spy_data *d, const spy_selection *s, size_t i)
{
  size_t dims[4];
  int nd = spy_stat_block_dims(d, s, i, dims);
  size_t n = 1;
  for (int a = 0; a < nd; a++)
    n *= dims[a];
  return n;
}

size_t spy_stat_raw_elems(const spy_data *d, const spy_selection *s, size_t i)
{
  size_t full = 1;
  for (int a = 1; a < d->ndim - 1; a++)
    full *= d->shape[a];
  size_t nlast = d->cls == SPY_CROSSSPECTRAL ? s->nchan_j : s->nchan;
  return s->nrows[i] * full * nlast;
}

int spy_stat_read_block(spy_data *d, const spy_selection *s, size_t i, bool cplx, double *dst,
                        double *raw, spy_err *err)
{
  spy_dtype t = cplx ? SPY_DT_C128 : SPY_DT_F64;
  size_t w = cplx ? 2 : 1, rows = s->nrows[i];
  if (spy_dataclass_timechannel(d->cls))
    return spy_data_read(d, s->row0[i], rows, s->chans, s->nchan, dst, t, err);
  bool cross = d->cls == SPY_CROSSSPECTRAL;
  const size_t *last = cross ? s->chans_j : s->chans;
  size_t nlast = cross ? s->nchan_j : s->nchan;
  int rc = spy_data_read(d, s->row0[i], rows, last, nlast, raw, t, err);
  if (rc) return rc;
  const size_t *ia = cross ? s->freqs : s->tapers, *ib = cross ? s->chans : s->freqs;
  size_t na = cross ? s->nfreq : s->ntaper, nb = cross ? s->nchan : s->nfreq;
  size_t d1 = d->shape[1], d2 = d->shape[2];
  double *o = dst;
  for (size_t r = 0; r < rows; r++)
    for (size_t a = 0; a < na; a++)
      for (size_t b = 0; b < nb; b++) {
        const double *src = raw + (((r * d1 + ia[a]) * d2 + ib[b]) * nlast) * w;
        memcpy(o, src, nlast * w * sizeof *o);
        o += nlast * w;
      }
  return SPY_OK;
}

int spy_stat_labels(spy_data *out, const spy_data *in, const spy_selection *s)
{
  size_t n = s->nchan + s->nchan_j + s->ntaper + 1;
  const char **lab = calloc(n, sizeof *lab);
  double *fv = calloc(s->nfreq + 1, sizeof *fv);
  int rc = (!lab || !fv) ? SPY_ENOMEM : SPY_OK;
  for (size_t c = 0; !rc && c < s->nchan; c++)
    lab[c] = in->channel[s->chans[c]];
  if (!rc) rc = spy_data_set_channel(out, lab, s->nchan);
  for (size_t c = 0; !rc && c < s->nchan_j; c++)
    lab[c] = in->channel_j[s->chans_j[c]];
  if (!rc && in->cls == SPY_CROSSSPECTRAL) rc = spy_data_set_channel_j(out, lab, s->nchan_j);
  for (size_t c = 0; !rc && c < s->ntaper; c++)
    lab[c] = in->taper[s->tapers[c]];
  if (!rc && in->cls == SPY_SPECTRAL) rc = spy_data_set_taper(out, lab, s->ntaper);
  for (size_t f = 0; !rc && f < s->nfreq; f++)
    fv[f] = in->freq[s->freqs[f]];
  if (!rc && !spy_dataclass_timechannel(in->cls)) rc = spy_data_set_freq(out, fv, s->nfreq);
  free(lab);
  free(fv);
  out->samplerate = in->samplerate;
  return rc;
}

void spy_stat_inherit(spy_data *out, const spy_data *in)
{
  cJSON_Delete(out->cfg);
  out->cfg = cJSON_Duplicate(in->cfg, 1);
  free(out->log);
  out->log = strdup(in->log);
  if (!out->cfg) out->cfg = cJSON_CreateObject();
  if (!out->log) out->log = strdup("");
}

int spy_stat_equal_trials(const spy_selection *sel, spy_err *err)
{
  for (size_t k = 1; k < sel->ntrials; k++)
    if (sel->nrows[k] != sel->nrows[0]) {
      char actual[160];
      snprintf(actual, sizeof actual, "trial %zu has %zu samples, trial 1 has %zu", k + 1,
               sel->nrows[k], sel->nrows[0]);
      return spy_fail_value(err, "trials", actual, "all trials to have the same shape");
    }
  return SPY_OK;
}

spy_dtype spy_stat_out_dtype(spy_dtype in, bool cplx_out)
{
  bool dbl = in == SPY_DT_F64 || in == SPY_DT_C128 || in == SPY_DT_I64;
  if (cplx_out) return dbl ? SPY_DT_C128 : SPY_DT_C64;
  return dbl ? SPY_DT_F64 : SPY_DT_F32;
}
