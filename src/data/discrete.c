#include "data/discrete.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/interrupt.h"
#include "io/h5.h"

/* ---- sorted sets of int64 ---------------------------------------------- */

ptrdiff_t spy_ivec_find(const spy_ivec *s, int64_t x)
{
  size_t lo = 0, hi = s->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (s->v[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo < s->n && s->v[lo] == x ? (ptrdiff_t)lo : -1;
}

int spy_ivec_add(spy_ivec *s, int64_t x)
{
  size_t lo = 0, hi = s->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (s->v[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  if (lo < s->n && s->v[lo] == x) return SPY_OK;
  if (s->n == s->cap) {
    size_t cap = s->cap ? 2 * s->cap : 16;
    int64_t *v = realloc(s->v, cap * sizeof *v);
    if (!v) return SPY_ENOMEM;
    s->v = v;
    s->cap = cap;
  }
  memmove(s->v + lo + 1, s->v + lo, (s->n - lo) * sizeof *s->v);
  s->v[lo] = x;
  s->n++;
  return SPY_OK;
}

void spy_ivec_free(spy_ivec *s)
{
  free(s->v);
  memset(s, 0, sizeof *s);
}

/* ---- reading ------------------------------------------------------------- */

static size_t ncols(const spy_data *d) { return d->ndim == 2 ? d->shape[1] : 0; }

int spy_discrete_read(spy_data *d, size_t row0, size_t n, int64_t *buf, spy_err *err)
{
  if (n == 0) return SPY_OK;
  return spy_data_read(d, row0, n, NULL, ncols(d), buf, SPY_DT_I64, err);
}

int spy_discrete_search(spy_data *d, double s, size_t *row, spy_err *err)
{
  size_t lo = 0, hi = d->path ? d->shape[0] : 0, nc = ncols(d);
  int64_t r[8];
  if (nc > 8) return spy_fail(err, SPY_ENOTSUP, "discrete data with more than 8 columns");
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int rc = spy_discrete_read(d, mid, 1, r, err);
    if (rc) return rc;
    if ((double)r[0] < s) lo = mid + 1;
    else hi = mid;
  }
  *row = lo;
  return SPY_OK;
}

int spy_discrete_trial_rows(spy_data *d, size_t k, size_t *row0, size_t *nrows, spy_err *err)
{
  const double *t = d->trldef + k * d->trlcols;
  size_t a, b;
  int rc = spy_discrete_search(d, t[0], &a, err);
  if (!rc) rc = spy_discrete_search(d, t[1], &b, err);
  if (rc) return rc;
  *row0 = a;
  *nrows = b > a ? b - a : 0;
  return SPY_OK;
}

void spy_discrete_scan_free(spy_discrete_scan *s)
{
  spy_ivec_free(&s->col[0]);
  spy_ivec_free(&s->col[1]);
}

int spy_discrete_check(spy_data *d, spy_discrete_scan *out, spy_err *err)
{
  memset(out, 0, sizeof *out);
  size_t n = d->path ? d->shape[0] : 0, nc = ncols(d);
  bool spike = d->cls == SPY_SPIKE;
  if (nc < 2 || (spike && nc != 3))
    return spy_fail_value(err, "data", NULL, "%s", spike ? "array of shape (nSpikes, 3) [sample, channel, unit]"
                                                         : "array of shape (nEvents, 2) [sample, eventid]");
  int64_t *buf = malloc(SPY_DISCRETE_BLOCK * nc * sizeof *buf);
  if (!buf) return spy_fail(err, SPY_ENOMEM, "out of memory");
  int rc = SPY_OK;
  int64_t prev = INT64_MIN;
  for (size_t r0 = 0; !rc && r0 < n; r0 += SPY_DISCRETE_BLOCK) {
    size_t m = n - r0 < SPY_DISCRETE_BLOCK ? n - r0 : SPY_DISCRETE_BLOCK;
    if (spy_interrupted()) {
      rc = spy_fail(err, SPY_EINTR, "interrupted");
      break;
    }
    if ((rc = spy_discrete_read(d, r0, m, buf, err))) break;
    for (size_t i = 0; i < m; i++) {
      const int64_t *r = buf + i * nc;
      char actual[96];
      if (r[0] < 0 || r[0] < prev) {
        if (r[0] < 0) snprintf(actual, sizeof actual, "sample %lld in row %zu", (long long)r[0], r0 + i + 1);
        else snprintf(actual, sizeof actual, "sample %lld in row %zu after sample %lld", (long long)r[0], r0 + i + 1,
                      (long long)prev);
        rc = spy_fail_value(err, "data", actual, "non-negative sample numbers sorted in ascending order");
        break;
      }
      for (int c = 1; c <= (spike ? 2 : 0); c++)
        if (r[c] < 0) {
          snprintf(actual, sizeof actual, "%s %lld in row %zu", c == 1 ? "channel" : "unit",
                   (long long)r[c], r0 + i + 1);
          rc = spy_fail_value(err, "data", actual, "non-negative %s indices", c == 1 ? "channel" : "unit");
          break;
        }
      if (rc) break;
      prev = r[0];
      if (r0 + i == 0) out->smin = r[0];
      out->smax = r[0];
      if (spy_ivec_add(&out->col[0], r[1]) || (spike && spy_ivec_add(&out->col[1], r[2]))) {
        rc = spy_fail(err, SPY_ENOMEM, "out of memory");
        break;
      }
    }
  }
  free(buf);
  out->nrows = n;
  if (rc) spy_discrete_scan_free(out);
  return rc;
}

char **spy_discrete_labels(const char *prefix, const spy_ivec *idx)
{
  int width = idx->n ? snprintf(NULL, 0, "%lld", (long long)idx->v[idx->n - 1]) : 1;
  char **v = calloc(idx->n ? idx->n : 1, sizeof *v);
  for (size_t i = 0; v && i < idx->n; i++) {
    char buf[64];
    snprintf(buf, sizeof buf, "%s%0*lld", prefix, width, (long long)idx->v[i] + 1);
    if (!(v[i] = strdup(buf))) {
      spy_strv_free(v, i);
      return NULL;
    }
  }
  return v;
}

/* ---- waveforms ------------------------------------------------------------ */

static int open_file(spy_data *d, spy_err *err)
{
  if (d->file >= 0) return SPY_OK;
  if (!d->path) return spy_fail(err, SPY_EINVAL, "object has no backing file");
  d->file = H5Fopen(d->path, d->writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, H5P_DEFAULT);
  if (d->file < 0) return spy_h5_fail(err, SPY_EIO, "cannot open '%s'", d->path);
  return SPY_OK;
}

int spy_waveform_info(spy_data *d, spy_waveform *w, spy_err *err)
{
  memset(w, 0, sizeof *w);
  if (d->cls != SPY_SPIKE || !d->path) return SPY_OK;
  spy_h5_lock();
  int rc = open_file(d, err);
  if (!rc && H5Lexists(d->file, "waveform", H5P_DEFAULT) > 0) {
    hid_t ds = H5Dopen2(d->file, "waveform", H5P_DEFAULT);
    hid_t sp = ds >= 0 ? H5Dget_space(ds) : H5I_INVALID_HID, ty = ds >= 0 ? H5Dget_type(ds) : H5I_INVALID_HID;
    int nd = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    hsize_t dims[4];
    if (nd < 2 || nd > 4 || ty < 0 || spy_h5_dtype_of(ty, &w->dtype) != SPY_OK) {
      rc = spy_h5_fail(err, SPY_EFORMAT, "dataset `waveform` in '%s' has an unsupported type or shape", d->path);
    } else {
      H5Sget_simple_extent_dims(sp, dims, NULL);
      w->ndim = nd;
      for (int i = 0; i < nd; i++) w->shape[i] = dims[i];
    }
    spy_h5_close_type(ty);
    spy_h5_close_space(sp);
    spy_h5_close_dset(ds);
  }
  H5Eclear2(H5E_DEFAULT);
  spy_h5_unlock();
  return rc;
}

size_t spy_waveform_row_bytes(const spy_waveform *w)
{
  size_t n = spy_dtype_size(w->dtype);
  for (int i = 1; i < w->ndim; i++) n *= w->shape[i];
  return n;
}

/* Reads (or writes) rows [row0, row0 + n) of `waveform`. */
static int rows_io(spy_data *d, const spy_waveform *w, size_t row0, size_t n, void *buf, bool write,
                   spy_err *err)
{
  if (n == 0) return SPY_OK;
  spy_h5_lock();
  int rc = open_file(d, err);
  hid_t ds = H5I_INVALID_HID, fs = H5I_INVALID_HID, ms = H5I_INVALID_HID, ty = H5I_INVALID_HID;
  if (!rc) {
    hsize_t start[4] = {row0, 0, 0, 0}, count[4];
    count[0] = n;
    for (int i = 1; i < w->ndim; i++) count[i] = w->shape[i];
    ds = H5Dopen2(d->file, "waveform", H5P_DEFAULT);
    fs = ds >= 0 ? H5Dget_space(ds) : H5I_INVALID_HID;
    ms = H5Screate_simple(w->ndim, count, NULL);
    ty = spy_h5_type(w->dtype);
    if (fs < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
        (write ? H5Dwrite(ds, ty, ms, fs, H5P_DEFAULT, buf) : H5Dread(ds, ty, ms, fs, H5P_DEFAULT, buf)) < 0)
      rc = spy_h5_fail(err, SPY_EIO, "cannot %s waveform rows %zu..%zu of '%s'", write ? "write" : "read", row0,
                       row0 + n, d->path);
  }
  spy_h5_close_type(ty);
  spy_h5_close_space(ms);
  spy_h5_close_space(fs);
  spy_h5_close_dset(ds);
  spy_h5_unlock();
  return rc;
}

int spy_waveform_read(spy_data *d, const spy_waveform *w, size_t row0, size_t n, void *buf, spy_err *err)
{
  return rows_io(d, w, row0, n, buf, false, err);
}

int spy_waveform_write(spy_data *d, const spy_waveform *w, size_t row0, size_t n, const void *buf,
                       spy_err *err)
{
  return rows_io(d, w, row0, n, (void *)buf, true, err);
}

int spy_waveform_create(spy_data *d, const spy_waveform *w, spy_err *err)
{
  if (!d->writable) return spy_fail(err, SPY_EIO, "object is read-only");
  spy_h5_lock();
  int rc = open_file(d, err);
  hid_t sp = H5I_INVALID_HID, ty = H5I_INVALID_HID, dcpl = H5I_INVALID_HID, ds = H5I_INVALID_HID;
  if (!rc) {
    hsize_t dims[4];
    for (int i = 0; i < w->ndim; i++) dims[i] = w->shape[i];
    if (H5Lexists(d->file, "waveform", H5P_DEFAULT) > 0) H5Ldelete(d->file, "waveform", H5P_DEFAULT);
    sp = H5Screate_simple(w->ndim, dims, NULL);
    ty = spy_h5_type(w->dtype);
    dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_layout(dcpl, H5D_CONTIGUOUS);
    H5Pset_obj_track_times(dcpl, 0);
    ds = H5Dcreate2(d->file, "waveform", ty, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (ds < 0) rc = spy_h5_fail(err, SPY_EIO, "cannot create dataset `waveform` in '%s'", d->path);
  }
  spy_h5_close_dset(ds);
  spy_h5_close_plist(dcpl);
  spy_h5_close_type(ty);
  spy_h5_close_space(sp);
  spy_h5_unlock();
  return rc;
}

/* ---- selections ------------------------------------------------------------ */

void spy_dsel_free(spy_dsel *s)
{
  if (!s) return;
  free(s->trials);
  free(s->row0);
  free(s->nrows);
  spy_ivec_free(&s->chan);
  spy_ivec_free(&s->unit);
  spy_ivec_free(&s->eventid);
  free(s->trldef);
  free(s);
}

static bool is_all(const cJSON *v)
{
  return !v || cJSON_IsNull(v) || (cJSON_IsString(v) && strcmp(v->valuestring, "all") == 0);
}

static bool intlike(const cJSON *v) { return cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble); }

/* channel/unit selector: names or 0-based positions into labels -> the
** selected index values (idx holds the distinct indices, one per label). */
static int sel_labels(const char *key, const cJSON *v, char *const *labels, size_t nlab,
                      const spy_ivec *idx, spy_ivec *out, spy_err *err)
{
  bool list = cJSON_IsArray(v);
  for (const cJSON *e = list ? v->child : v; e; e = list ? e->next : NULL) {
    ptrdiff_t pos = -1;
    if (cJSON_IsString(e)) {
      for (size_t i = 0; i < nlab; i++)
        if (strcmp(labels[i], e->valuestring) == 0) pos = (ptrdiff_t)i;
    } else if (intlike(e) && e->valuedouble >= 0 && e->valuedouble < (double)nlab) {
      pos = (ptrdiff_t)e->valuedouble;
    }
    if (pos < 0 || (size_t)pos >= idx->n) { /* positions arrive 0-based: name only a name */
      char names[512] = "";
      for (size_t i = 0, n = 0; i < nlab && n + 1 < sizeof names; i++)
        n += (size_t)snprintf(names + n, sizeof names - n, "%s'%s'", i ? ", " : "", labels[i]);
      return spy_fail_value(err, key, cJSON_IsString(e) ? e->valuestring : NULL,
                            "list/array of %s existing names or indices (1..%zu); the names are %s",
                            key, nlab, names);
    }
    if (spy_ivec_add(out, idx->v[pos])) return spy_fail(err, SPY_ENOMEM, "out of memory");
  }
  return SPY_OK;
}

static double tstart(const spy_data *d, size_t k) { return d->trldef[k * d->trlcols + 2] / d->samplerate; }
static double tend(const spy_data *d, size_t k)
{
  const double *t = d->trldef + k * d->trlcols;
  return (t[1] - t[0] - 1 + t[2]) / d->samplerate;
}

static int sel_latency(const spy_data *d, const cJSON *v, spy_dsel *s, spy_err *err)
{
  if (isnan(d->samplerate))
    return spy_fail_value(err, "samplerate", "None", "non-`None` value - make sure `samplerate` is set");
  double lo = INFINITY, hi = -INFINITY, maxlo = -INFINITY, minhi = INFINITY;
  for (size_t i = 0; i < s->ntrials; i++) {
    double a = tstart(d, s->trials[i]), b = tend(d, s->trials[i]);
    lo = fmin(lo, a), hi = fmax(hi, b), maxlo = fmax(maxlo, a), minhi = fmin(minhi, b);
  }
  if (cJSON_IsString(v)) {
    const char *k = v->valuestring;
    if (strcmp(k, "maxperiod") == 0) {
      s->t0 = lo, s->t1 = hi;
    } else if (strcmp(k, "minperiod") == 0) {
      if (maxlo > minhi)
        return spy_fail_value(err, "latency", "minperiod - no common time window for all trials",
                              "overlapping trials");
      s->t0 = maxlo, s->t1 = minhi;
    } else if (strcmp(k, "prestim") == 0) {
      if (!(lo < 0)) return spy_fail_value(err, "latency", "no pre-stimulus (t < 0) events", "prestim");
      s->t0 = lo, s->t1 = 0;
    } else if (strcmp(k, "poststim") == 0) {
      if (!(hi > 0)) return spy_fail_value(err, "latency", "no post-stimulus (t > 0) events", "poststim");
      s->t0 = 0, s->t1 = hi;
    } else {
      return spy_fail_value(err, "latency", k, "'maxperiod', 'minperiod', 'prestim', 'poststim' or [t0, t1]");
    }
  } else if (cJSON_IsArray(v) && cJSON_GetArraySize(v) == 2 && cJSON_IsNumber(v->child) &&
             cJSON_IsNumber(v->child->next)) {
    s->t0 = v->child->valuedouble, s->t1 = v->child->next->valuedouble;
    if (s->t0 > hi) return spy_fail_value(err, "latency", NULL, "start of latency window < %gs", hi);
    if (s->t1 < lo) return spy_fail_value(err, "latency", NULL, "end of latency window > %gs", lo);
    if (s->t0 > s->t1) return spy_fail_value(err, "latency", NULL, "start < end latency window");
  } else {
    return spy_fail_type(err, "latency", "[t0, t1] or one of 'maxperiod', 'minperiod', 'prestim', 'poststim'",
                         cJSON_IsString(v) ? "str" : "other");
  }
  s->window = true;
  /* trials that do not cover the window are dropped */
  size_t kept = 0;
  for (size_t i = 0; i < s->ntrials; i++) {
    size_t k = s->trials[i];
    if (tstart(d, k) <= s->t0 && tend(d, k) >= s->t1) s->trials[kept++] = k;
  }
  if (kept == 0)
    return spy_fail_value(err, "latency/vartriallen", "no trial that completely covers the latency window",
                          "at least one trial covering the latency window");
  s->ntrials = kept;
  return SPY_OK;
}

bool spy_dsel_keep(const spy_dsel *s, const spy_data *d, size_t i, const int64_t *r)
{
  if (d->cls == SPY_SPIKE) {
    if (!s->chan_all && spy_ivec_find(&s->chan, r[1]) < 0) return false;
    if (!s->unit_all && spy_ivec_find(&s->unit, r[2]) < 0) return false;
  } else if (!s->eventid_all && spy_ivec_find(&s->eventid, r[1]) < 0) {
    return false;
  }
  if (s->window) {
    const double *t = s->trldef + i * s->trlcols;
    double tm = ((double)r[0] - t[0] + t[2]) / d->samplerate;
    if (tm < s->t0 || tm > s->t1) return false;
  }
  return true;
}

static const char *const keys_spike[] = {"trials", "latency", "channel", "unit", NULL};
static const char *const keys_event[] = {"trials", "latency", "eventid", NULL};

int spy_dsel_make(spy_data *d, const cJSON *sel, spy_dsel **out, spy_err *err)
{
  *out = NULL;
  spy_dsel *s = calloc(1, sizeof *s);
  if (!s) return spy_fail(err, SPY_ENOMEM, "out of memory");
  s->chan_all = s->unit_all = s->eventid_all = true;
  int rc = SPY_OK;
  const char *const *keys = d->cls == SPY_SPIKE ? keys_spike : keys_event;
  const cJSON *e;
  if (sel && cJSON_IsString(sel) && strcmp(sel->valuestring, "all") == 0) sel = NULL;
  if (sel && !cJSON_IsObject(sel)) {
    spy_dsel_free(s);
    return spy_fail_type(err, "select", "dict", "other");
  }
  cJSON_ArrayForEach(e, sel) {
    bool ok = false;
    for (int i = 0; keys[i]; i++) ok |= strcmp(keys[i], e->string) == 0;
    if (!ok) {
      char actual[128];
      snprintf(actual, sizeof actual, "no `%s` selection available for %s", e->string,
               spy_dataclass_name(d->cls));
      spy_dsel_free(s);
      return spy_fail(err, SPY_EINVAL, "Invalid value of `selection arguments`: '%s'; expected one of (%s)",
                      actual, d->cls == SPY_SPIKE ? "'trials', 'latency', 'channel', 'unit'"
                                                  : "'trials', 'latency', 'eventid'");
    }
  }
  /* trials */
  const cJSON *tv = sel ? cJSON_GetObjectItem(sel, "trials") : NULL;
  size_t nt = is_all(tv) ? d->ntrials : cJSON_IsArray(tv) ? (size_t)cJSON_GetArraySize(tv) : 1;
  s->trials = calloc(nt ? nt : 1, sizeof *s->trials);
  if (!s->trials) rc = spy_fail(err, SPY_ENOMEM, "out of memory");
  if (!rc && is_all(tv)) {
    for (size_t k = 0; k < nt; k++) s->trials[k] = k;
  } else if (!rc) {
    size_t i = 0;
    bool list = cJSON_IsArray(tv);
    for (e = list ? tv->child : tv; e && i < nt; e = list ? e->next : NULL, i++) {
      if (!intlike(e) || e->valuedouble < 0 || e->valuedouble >= (double)d->ntrials) {
        rc = spy_fail_value(err, "trials", NULL, "list/array of values b/w 0 and %zu", d->ntrials - 1);
        break;
      }
      s->trials[i] = (size_t)e->valuedouble;
    }
  }
  s->ntrials = nt;
  /* labels */
  if (!rc && d->cls == SPY_SPIKE) {
    const cJSON *cv = sel ? cJSON_GetObjectItem(sel, "channel") : NULL;
    const cJSON *uv = sel ? cJSON_GetObjectItem(sel, "unit") : NULL;
    if (!is_all(cv) || !is_all(uv)) {
      spy_discrete_scan sc;
      rc = spy_discrete_check(d, &sc, err);
      if (!rc && !is_all(cv)) {
        s->chan_all = false;
        rc = sel_labels("channel", cv, d->channel, d->nchannel, &sc.col[0], &s->chan, err);
      }
      if (!rc && !is_all(uv)) {
        s->unit_all = false;
        rc = sel_labels("unit", uv, d->unit, d->nunit, &sc.col[1], &s->unit, err);
      }
      spy_discrete_scan_free(&sc); /* safe after a failed check too */
    }
  } else if (!rc) {
    const cJSON *ev = sel ? cJSON_GetObjectItem(sel, "eventid") : NULL;
    if (!is_all(ev)) {
      s->eventid_all = false;
      bool list = cJSON_IsArray(ev);
      for (e = list ? ev->child : ev; !rc && e; e = list ? e->next : NULL) {
        if (!intlike(e)) rc = spy_fail_value(err, "eventid", NULL, "list/array of integer event codes");
        else if (spy_ivec_add(&s->eventid, (int64_t)e->valuedouble)) rc = spy_fail(err, SPY_ENOMEM, "out of memory");
      }
    }
  }
  /* latency */
  const cJSON *lv = sel ? cJSON_GetObjectItem(sel, "latency") : NULL;
  if (!rc && !is_all(lv)) rc = sel_latency(d, lv, s, err);
  /* trial rows and definition */
  if (!rc) {
    size_t m = s->ntrials ? s->ntrials : 1;
    s->trlcols = d->trlcols ? d->trlcols : 3;
    s->row0 = calloc(m, sizeof *s->row0);
    s->nrows = calloc(m, sizeof *s->nrows);
    s->trldef = calloc(m * s->trlcols, sizeof *s->trldef);
    if (!s->row0 || !s->nrows || !s->trldef) rc = spy_fail(err, SPY_ENOMEM, "out of memory");
  }
  for (size_t i = 0; !rc && i < s->ntrials; i++) {
    memcpy(s->trldef + i * s->trlcols, d->trldef + s->trials[i] * d->trlcols, d->trlcols * sizeof(double));
    rc = spy_discrete_trial_rows(d, s->trials[i], &s->row0[i], &s->nrows[i], err);
  }
  if (rc) {
    spy_dsel_free(s);
    return rc;
  }
  *out = s;
  return SPY_OK;
}

/* Labels of `have` (distinct indices of the output) from d's labels of `all`. */
static char **sub_labels(char *const *labels, size_t nlab, const spy_ivec *all, const spy_ivec *have)
{
  const char **v = calloc(have->n ? have->n : 1, sizeof *v);
  if (!v) return NULL;
  for (size_t i = 0; i < have->n; i++) {
    ptrdiff_t p = spy_ivec_find(all, have->v[i]);
    v[i] = p >= 0 && (size_t)p < nlab ? labels[p] : "";
  }
  char **r = spy_strv_dup(v, have->n);
  free(v);
  return r;
}

int spy_dsel_copy(spy_data *d, const spy_dsel *s, spy_data **out, spy_err *err)
{
  *out = NULL;
  size_t nc = ncols(d), total = 0;
  int64_t *buf = malloc(SPY_DISCRETE_BLOCK * nc * sizeof *buf);
  int64_t *obuf = malloc(SPY_DISCRETE_BLOCK * nc * sizeof *obuf);
  spy_data *o = spy_data_new(d->cls);
  spy_discrete_scan have = {0}, all = {0};
  spy_waveform wf;
  int rc = buf && obuf && o ? SPY_OK : spy_fail(err, SPY_ENOMEM, "out of memory");
  if (!rc) rc = spy_waveform_info(d, &wf, err);
  size_t wb = wf.ndim ? spy_waveform_row_bytes(&wf) : 0;
  char *wbuf = wb ? malloc(SPY_DISCRETE_BLOCK * wb) : NULL, *owbuf = wb ? malloc(SPY_DISCRETE_BLOCK * wb) : NULL;
  if (!rc && wb && (!wbuf || !owbuf)) rc = spy_fail(err, SPY_ENOMEM, "out of memory");
  /* pass 1 counts, pass 2 writes */
  for (int pass = 0; pass < 2 && !rc; pass++) {
    if (pass == 1) {
      size_t shape[2] = {total, nc};
      if (total == 0) {
        rc = spy_fail_value(err, "selection", "no spikes or events left", "a selection that keeps at least one row");
        break;
      }
      if ((rc = spy_data_create(o, SPY_DT_I64, 2, shape, err))) break;
      if (wb) {
        spy_waveform ow = wf;
        ow.shape[0] = total;
        if ((rc = spy_waveform_create(o, &ow, err))) break;
      }
    }
    size_t w = 0, fill = 0, prev_trial = 0;
    int64_t prev = INT64_MIN;
    for (size_t i = 0; !rc && i < s->ntrials; i++) {
      for (size_t r0 = 0; !rc && r0 < s->nrows[i]; r0 += SPY_DISCRETE_BLOCK) {
        size_t m = s->nrows[i] - r0 < SPY_DISCRETE_BLOCK ? s->nrows[i] - r0 : SPY_DISCRETE_BLOCK;
        if (spy_interrupted()) {
          rc = spy_fail(err, SPY_EINTR, "interrupted");
          break;
        }
        if ((rc = spy_discrete_read(d, s->row0[i] + r0, m, buf, err))) break;
        if (pass == 1 && wb && (rc = spy_waveform_read(d, &wf, s->row0[i] + r0, m, wbuf, err))) break;
        for (size_t j = 0; j < m; j++) {
          const int64_t *r = buf + j * nc;
          if (!spy_dsel_keep(s, d, i, r)) continue;
          if (pass == 0) {
            /* the rows must stay sorted by sample: trials in time order, not overlapping
               (Syncopy's own result of such a selection has empty trials) */
            if (r[0] < prev) {
              char actual[160];
              snprintf(actual, sizeof actual,
                       "trial %zu has samples from %lld, before sample %lld of trial %zu",
                       s->trials[i] + 1, (long long)r[0], (long long)prev,
                       s->trials[prev_trial] + 1);
              rc = spy_fail_value(err, "trials", actual,
                                  "trials in ascending order of time, not overlapping (the rows of "
                                  "SpikeData and EventData stay sorted by sample)");
              break;
            }
            prev = r[0], prev_trial = i;
            total++;
            continue;
          }
          memcpy(obuf + fill * nc, r, nc * sizeof *r);
          if (wb) memcpy(owbuf + fill * wb, wbuf + j * wb, wb);
          if (++fill == SPY_DISCRETE_BLOCK) {
            if ((rc = spy_data_write(o, w, fill, 0, nc, obuf, SPY_DT_I64, err))) break;
            if (wb && (rc = spy_waveform_write(o, &wf, w, fill, owbuf, err))) break;
            w += fill;
            fill = 0;
          }
        }
      }
    }
    if (!rc && pass == 1 && fill) rc = spy_data_write(o, w, fill, 0, nc, obuf, SPY_DT_I64, err);
    if (!rc && pass == 1 && fill && wb) rc = spy_waveform_write(o, &wf, w, fill, owbuf, err);
  }
  free(buf);
  free(obuf);
  free(wbuf);
  free(owbuf);
  if (!rc) {
    o->samplerate = d->samplerate;
    if (spy_data_set_trldef(o, s->trldef, s->ntrials, s->trlcols) ||
        (d->dimord && spy_data_set_dimord(o, (const char *const *)d->dimord)))
      rc = spy_fail(err, SPY_ENOMEM, "out of memory");
  }
  if (!rc && d->cls == SPY_SPIKE) {
    if (!(rc = spy_discrete_check(o, &have, err)) && !(rc = spy_discrete_check(d, &all, err))) {
      char **ch = sub_labels(d->channel, d->nchannel, &all.col[0], &have.col[0]);
      char **un = sub_labels(d->unit, d->nunit, &all.col[1], &have.col[1]);
      if (!ch || !un || spy_data_set_channel(o, (const char *const *)ch, have.col[0].n) ||
          spy_data_set_unit(o, (const char *const *)un, have.col[1].n))
        rc = spy_fail(err, SPY_ENOMEM, "out of memory");
      spy_strv_free(ch, ch ? have.col[0].n : 0);
      spy_strv_free(un, un ? have.col[1].n : 0);
    }
    spy_discrete_scan_free(&have);
    spy_discrete_scan_free(&all);
  }
  if (rc) {
    spy_data_unref(o);
    return rc;
  }
  *out = o;
  return SPY_OK;
}

/* ---- trials from events ---------------------------------------------------- */

int spy_trials_from_events(const int64_t *ev, size_t nev, double evsr, double tgsr,
                           const spy_evtdef *def, double **trl, size_t *ntrials, spy_err *err)
{
  *trl = NULL;
  *ntrials = 0;
  bool has_pre = !isnan(def->pre), has_post = !isnan(def->post);
  if ((!has_pre && !def->has_start) || (!has_post && !def->has_stop))
    return spy_fail_value(err, "definetrial",
                          "both `pre` and `start` and/or `post` and `stop` are simultaneously `None`",
                          "`pre` or `start` and `post` or `stop` to be not `None`");
  if (!def->has_trigger && (has_pre || has_post))
    return spy_fail_value(err, "definetrial", "`trigger` = `None`",
                          "non-None `trigger` with `pre`/`post` timing information");
  if (isnan(evsr) || isnan(tgsr))
    return spy_fail_value(err, "samplerate", "None",
                          "non-`None` value - make sure `samplerate` is set before defining trials");
  double pre = has_pre ? def->pre : 0, post = has_post ? def->post : 0;
  double *out = malloc((nev ? nev : 1) * 3 * sizeof *out);
  bool *used = calloc(nev ? nev : 1, sizeof *used);
  if (!out || !used) {
    free(out);
    free(used);
    return spy_fail(err, SPY_ENOMEM, "out of memory");
  }
  /* Syncopy's scan: each trial takes the first unused start/trigger/stop
  ** code after the previous trial's last event; it ends when a code is not
  ** found any more (an error only for the first trial) or after as many
  ** trials as events. */
  size_t from = 0, n = 0;
  int rc = SPY_OK;
  for (size_t cnt = 0; cnt < nev; cnt++) {
    double begin = NAN, end, t0 = 0;
    size_t last = from, sidx = from;
    bool any = false, missing = false;
    const char *which = NULL;
    int64_t code = 0;
    if (def->has_start) {
      size_t i = from;
      while (i < nev && (used[i] || ev[2 * i + 1] != def->start)) i++;
      if (i == nev) missing = true, which = "start", code = def->start;
      else begin = (double)ev[2 * i] / evsr, used[i] = true, sidx = i, last = i, any = true;
    }
    if (!missing && def->has_trigger) {
      size_t i = from;
      while (i < nev && (used[i] || ev[2 * i + 1] != def->trigger)) i++;
      if (i == nev) missing = true, which = "trigger", code = def->trigger;
      else t0 = (double)ev[2 * i] / evsr, used[i] = true, last = i > last || !any ? i : last, any = true;
    }
    if (missing) {
      if (n == 0) {
        char actual[32];
        snprintf(actual, sizeof actual, "%lld", (long long)code);
        rc = spy_fail_value(err, which, actual, "existing event-id");
      }
      break;
    }
    begin = def->has_start ? begin - pre : t0 - pre;
    if (def->has_stop) {
      size_t i = def->has_start ? sidx : from; /* stop comes after start */
      while (i < nev && (used[i] || ev[2 * i + 1] != def->stop)) i++;
      if (i == nev) {
        if (n == 0) {
          char actual[32];
          snprintf(actual, sizeof actual, "%lld", (long long)def->stop);
          rc = spy_fail_value(err, "stop", actual, "existing event-id");
        }
        break;
      }
      end = (double)ev[2 * i] / evsr + post;
      used[i] = true;
      last = i > last || !any ? i : last;
      any = true;
    } else {
      end = t0 + post;
    }
    t0 -= begin;
    if (begin >= end) {
      char actual[96];
      snprintf(actual, sizeof actual, "trial-begin at %g, trial-end at %g", begin, end);
      rc = spy_fail_value(err, "definetrial", actual, "non-overlapping trial begin-/end-samples");
      break;
    }
    out[3 * n] = rint(begin * tgsr);
    out[3 * n + 1] = rint(end * tgsr);
    out[3 * n + 2] = rint(t0 * tgsr);
    n++;
    from = any ? last + 1 : from;
  }
  free(used);
  if (rc) {
    free(out);
    return rc;
  }
  *trl = out;
  *ntrials = n;
  return SPY_OK;
}
