/* EEG annotations / markers as EventData (events.h). */
#include "io/formats/events.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ev {
  int64_t sample, id;
  size_t order;
} ev;

static int cmp_ev(const void *a, const void *b)
{
  const ev *x = a, *y = b;
  if (x->sample != y->sample) return x->sample < y->sample ? -1 : 1;
  return x->order < y->order ? -1 : x->order > y->order;
}

/* The marker text of item e ("" when absent); BrainVision joins type and
** description with '/' (MNE's convention). */
static int marker_text(const cJSON *e, bool edf, char *buf, size_t n)
{
  if (edf) {
    const char *t = cJSON_GetStringValue(cJSON_GetObjectItem(e, "text"));
    return snprintf(buf, n, "%s", t ? t : "");
  }
  const char *ty = cJSON_GetStringValue(cJSON_GetObjectItem(e, "type"));
  const char *de = cJSON_GetStringValue(cJSON_GetObjectItem(e, "description"));
  return snprintf(buf, n, "%s/%s", ty ? ty : "", de ? de : "");
}

int spy_eeg_events(const spy_data *rec, spy_data **out, spy_err *err)
{
  *out = NULL;
  const cJSON *list = cJSON_GetObjectItem(rec->info, "annotations");
  bool edf = list != NULL;
  if (!edf) list = cJSON_GetObjectItem(rec->info, "markers");
  if (!cJSON_IsArray(list))
    return spy_fail(err, SPY_EINVAL,
                    "Invalid value of `data`: 'no info.annotations or info.markers'; expected a "
                    "recording loaded by spy.load_edf or spy.load_brainvision");
  size_t n = (size_t)cJSON_GetArraySize(list);
  if (n == 0) return SPY_OK;
  if (!(rec->samplerate > 0))
    return spy_fail(err, SPY_EINVAL, "Invalid value of `samplerate`: 'None'; expected the recording's rate");
  int rc = SPY_OK;
  ev *evs = malloc(n * sizeof *evs);
  int64_t *rows = malloc(2 * n * sizeof *rows);
  cJSON *ids = cJSON_CreateObject();
  spy_data *d = NULL;
  char text[1024];
  if (!evs || !rows || !ids) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto exit;
  }
  size_t k = 0, nid = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, list)
  {
    double pos = edf ? cJSON_GetNumberValue(cJSON_GetObjectItem(e, "onset")) * rec->samplerate
                     : cJSON_GetNumberValue(cJSON_GetObjectItem(e, "sample"));
    if (!isfinite(pos) || round(pos) < 0 || round(pos) > 9e15) {
      rc = spy_fail(err, SPY_EFORMAT,
                    "Invalid value of `%s`: marker %zu at %g; expected a position at or after the "
                    "recording's start",
                    edf ? "annotations" : "markers", k + 1, edf ? pos / rec->samplerate : pos);
      goto exit;
    }
    marker_text(e, edf, text, sizeof text);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(ids, text);
    if (!id) {
      id = cJSON_AddNumberToObject(ids, text, (double)++nid);
      if (!id) {
        rc = spy_fail(err, SPY_ENOMEM, "out of memory");
        goto exit;
      }
    }
    evs[k] = (ev){(int64_t)round(pos), (int64_t)id->valuedouble, k};
    k++;
  }
  qsort(evs, n, sizeof *evs, cmp_ev);
  for (size_t i = 0; i < n; i++) {
    rows[2 * i] = evs[i].sample;
    rows[2 * i + 1] = evs[i].id;
  }
  if (!(d = spy_data_new(SPY_EVENT))) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto exit;
  }
  d->samplerate = rec->samplerate;
  size_t shape[2] = {n, 2};
  if ((rc = spy_data_create(d, SPY_DT_I64, 2, shape, err)) ||
      (rc = spy_data_write(d, 0, n, 0, 2, rows, SPY_DT_I64, err)))
    goto exit;
  if (spy_data_set_trldef(d, rec->trldef, rec->ntrials, rec->trlcols) ||
      !cJSON_AddItemToObject(d->info, "event_ids", ids)) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto exit;
  }
  ids = NULL;
  spy_data_log(d, edf ? "load_edf" : "load_brainvision",
               edf ? "EventData from the EDF+/BDF+ annotations" : "EventData from the BrainVision markers");
  if ((rc = spy_data_sync_meta(d, err))) goto exit;
  *out = d;
  d = NULL;
exit:
  if (d) spy_data_unref(d);
  cJSON_Delete(ids);
  free(evs);
  free(rows);
  return rc;
}
