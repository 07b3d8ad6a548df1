/*
** NWB units tables (SpikeData) and TTL series (EventData), nwb_util.h.
**
** Units: one row per distinct unit index (the `id`), spike_times in s
** (sample / samplerate) as a ragged column (spike_times + spike_times_index),
** `electrodes` (ragged DynamicTableRegion: the electrodes-table rows the
** unit fires on; the electrodes table has one row per channel index, its
** `id` the index and its `location` the label), `unit_name` (spy's unit
** labels), `samplerate` (Syncopy's column, so its reader finds the rate)
** and, only when some unit fires on more than one channel, the per-spike
** electrode row `spike_electrodes` (+ index) so that channels survive.
** The writer streams: one pass counts spikes per unit, a second scatters
** each block's rows into the units' slices.  The reader merges the units'
** sorted spike trains with a heap, reading each unit's slice in blocks, so
** memory is units x block, never the spike count.
**
** TTLs: /acquisition/TTL_PulseValues (event ids) and, for a third EventData
** column, TTL_Channels: core TimeSeries with `timestamps` in s carrying the
** ndx-events `resolution` attribute (1 / samplerate), the names Syncopy's
** reader looks for.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/interrupt.h"
#include "core/progress.h"
#include "data/discrete.h"
#include "io/formats/common.h"
#include "io/formats/nwb_util.h"
#include "io/h5.h"

#define ROWS SPY_DISCRETE_BLOCK

static size_t pos_of(const spy_ivec *s, int64_t x) { return (size_t)spy_ivec_find(s, x); }

/* Reads or writes rows [off, off + n) of a 1-d dataset (cols 0) or of a 2-d
** one with cols columns. */
static int rows_io(hid_t ds, hid_t mtype, size_t off, size_t n, size_t cols, void *v, bool write)
{
  if (!n) return 0;
  hsize_t o[2] = {off, 0}, c[2] = {n, cols};
  hid_t fs = H5Dget_space(ds), ms = H5Screate_simple(cols ? 2 : 1, c, NULL);
  int rc = fs >= 0 && ms >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, o, NULL, c, NULL) >= 0 &&
                   (write ? H5Dwrite(ds, mtype, ms, fs, H5P_DEFAULT, v)
                          : H5Dread(ds, mtype, ms, fs, H5P_DEFAULT, v)) >= 0
               ? 0
               : -1;
  spy_h5_close_space(ms);
  spy_h5_close_space(fs);
  return rc;
}

static int put(hid_t ds, hid_t mtype, size_t off, size_t n, const void *v)
{
  return rows_io(ds, mtype, off, n, 0, (void *)v, true);
}

static int get(hid_t ds, hid_t mtype, size_t off, size_t n, void *v)
{
  return rows_io(ds, mtype, off, n, 0, v, false);
}

/* ---- writing units -------------------------------------------------------------------- */

int spy_nwb_write_units(hid_t f, spy_data *d, spy_err *err)
{
  spy_waveform w;
  int rc = spy_waveform_info(d, &w, err);
  if (rc) return rc;
  if (w.ndim > 2)
    return spy_fail(err, SPY_ENOTSUP,
                    "save_nwb writes SpikeData waveforms of shape (nSpikes, nSamples) (NWB's "
                    "`waveforms`, one per spike); got %d dimensions",
                    w.ndim);
  size_t ws = w.ndim == 2 ? w.shape[1] : 0, wb = ws ? spy_waveform_row_bytes(&w) : 0;
  spy_discrete_scan sc;
  if ((rc = spy_discrete_check(d, &sc, err))) return rc;
  const spy_ivec *chans = &sc.col[0], *units = &sc.col[1];
  size_t nu = units->n, n = sc.nrows;
  /* the electrodes: one per channel index (id = the index, location = its label) */
  char **cdflt = d->nchannel == chans->n ? NULL : spy_discrete_labels("channel", chans);
  rc = spy_nwb_skeleton(f, (const char *const *)(cdflt ? cdflt : d->channel), chans->v, chans->n)
           ? spy_h5_fail(err, SPY_EIO, "cannot write the NWB structure")
           : SPY_OK;
  spy_strv_free(cdflt, chans->n);
  if (rc) {
    spy_discrete_scan_free(&sc);
    return rc;
  }
  uint64_t *ends = calloc(nu + 1, sizeof *ends), *cur = calloc(nu + 1, sizeof *cur);
  spy_ivec *uch = calloc(nu + 1, sizeof *uch);
  int64_t *buf = malloc(ROWS * 3 * sizeof *buf), *tch = malloc(ROWS * sizeof *tch);
  double *tt = malloc(ROWS * sizeof *tt);
  size_t *tpos = malloc(ROWS * sizeof *tpos), *bcount = calloc(nu + 1, sizeof *bcount);
  char *wbuf = ws ? malloc(ROWS * wb) : NULL, *wtmp = ws ? malloc(ROWS * wb) : NULL;
  uint64_t *widx = ws ? malloc(ROWS * sizeof *widx) : NULL;
  hid_t g = -1, st = -1, se = -1, wd = -1, wi = -1, wt = ws ? spy_h5_type(w.dtype) : -1;
  bool multi = false;
  if (!ends || !cur || !uch || !buf || !tch || !tt || !tpos || !bcount ||
      (ws && (!wbuf || !wtmp || !widx))) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto exit;
  }
  /* pass 1: spikes and channels per unit */
  for (size_t r0 = 0; !rc && r0 < n; r0 += ROWS) {
    size_t m = n - r0 < ROWS ? n - r0 : ROWS;
    if (spy_interrupted()) rc = spy_fail(err, SPY_EINTR, "interrupted");
    if (!rc) rc = spy_discrete_read(d, r0, m, buf, err);
    for (size_t i = 0; !rc && i < m; i++) {
      size_t u = pos_of(units, buf[3 * i + 2]);
      ends[u]++;
      if (spy_ivec_add(&uch[u], (int64_t)pos_of(chans, buf[3 * i + 1])))
        rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    }
  }
  if (rc) goto exit;
  size_t nreg = 0;
  for (size_t u = 0; u < nu; u++) {
    cur[u] = u ? ends[u - 1] : 0;
    ends[u] += cur[u];
    multi |= uch[u].n > 1;
    nreg += uch[u].n;
  }
  /* the table */
  int64_t *reg = malloc((nreg + 1) * sizeof *reg);
  uint64_t *regend = malloc((nu + 1) * sizeof *regend);
  double *sr = malloc((nu + 1) * sizeof *sr);
  int bad = !reg || !regend || !sr;
  for (size_t u = 0, k = 0; !bad && u < nu; u++) {
    for (size_t j = 0; j < uch[u].n; j++)
      reg[k++] = uch[u].v[j];
    regend[u] = k;
    sr[u] = d->samplerate;
  }
  const char *cols[6] = {"spike_times", "electrodes", "unit_name", "samplerate"};
  size_t ncols = 4;
  if (ws) cols[ncols++] = "waveforms";
  if (multi) cols[ncols++] = "spike_electrodes";
  g = spy_nwb_group(f, "units");
  hid_t vs = spy_nwb_vlstr(), rg = -1;
  bad = bad || g < 0 ||
        spy_nwb_typed(g, "core", "Units") |
            spy_nwb_attr_str(g, "description", "units (spike trains) exported by spy") |
            spy_nwb_attr_strs(g, "colnames", cols, ncols) | spy_nwb_ids(g, units->v, nu) |
            spy_nwb_column(g, "samplerate", "the samplerate of the unit's spike train (Syncopy)",
                           H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, sr, nu);
  if (!bad)
    bad = (rg = spy_nwb_ds_1d(g, "electrodes", H5T_STD_I64LE, H5T_NATIVE_INT64, reg, nreg)) < 0 ||
          spy_nwb_typed(rg, "hdmf-common", "DynamicTableRegion") |
              spy_nwb_attr_str(rg, "description", "the electrodes (channels) of each unit") |
              spy_nwb_attr_ref(rg, "table", f, SPY_NWB_ELECTRODES) |
              spy_nwb_index(g, "electrodes_index", "electrodes", regend, nu);
  spy_h5_close_dset(rg);
  char **dflt = d->nunit == nu ? NULL : spy_discrete_labels("unit", units);
  if (!bad)
    bad = spy_nwb_column(g, "unit_name", "the unit's label in spy", vs, vs,
                         (const char *const *)(dflt ? dflt : d->unit), nu);
  spy_strv_free(dflt, nu);
  spy_h5_close_type(vs);
  free(reg);
  free(regend);
  free(sr);
  if (!bad) {
    st = spy_nwb_ds_1d(g, "spike_times", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, NULL, n);
    bad = st < 0 || spy_nwb_typed(st, "hdmf-common", "VectorData") |
                        spy_nwb_attr_str(st, "description", "the spike times for each unit in seconds") |
                        spy_nwb_attr_num(st, "resolution", H5T_IEEE_F64LE, 1 / d->samplerate) |
                        spy_nwb_index(g, "spike_times_index", "spike_times", ends, nu);
  }
  if (!bad && multi) {
    se = spy_nwb_ds_1d(g, "spike_electrodes", H5T_STD_I64LE, H5T_NATIVE_INT64, NULL, n);
    bad = se < 0 || spy_nwb_typed(se, "hdmf-common", "VectorData") |
                        spy_nwb_attr_str(se, "description",
                                         "the electrodes-table row (channel) of each spike (spy)") |
                        spy_nwb_index(g, "spike_electrodes_index", "spike_electrodes", ends, nu);
  }
  if (!bad && ws) { /* doubly ragged: one waveform per spike, spikes per unit */
    hsize_t dims[2] = {n, ws};
    hid_t sp = H5Screate_simple(2, dims, NULL);
    wd = H5Dcreate2(g, "waveforms", wt, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    spy_h5_close_space(sp);
    bad = wd < 0 || spy_nwb_typed(wd, "hdmf-common", "VectorData") |
                        spy_nwb_attr_str(wd, "description", "the waveform of each spike") |
                        spy_nwb_index(g, "waveforms_index", "waveforms", NULL, n) |
                        spy_nwb_index(g, "waveforms_index_index", "waveforms_index", ends, nu) ||
          (wi = H5Dopen2(g, "waveforms_index", H5P_DEFAULT)) < 0;
  }
  if (bad) {
    rc = spy_h5_fail(err, SPY_EIO, "cannot write the units table");
    goto exit;
  }
  /* pass 2: each block's rows grouped by unit, one write per unit */
  for (size_t r0 = 0; !rc && r0 < n; r0 += ROWS) {
    size_t m = n - r0 < ROWS ? n - r0 : ROWS;
    if (spy_interrupted()) rc = spy_fail(err, SPY_EINTR, "interrupted");
    if (!rc) rc = spy_discrete_read(d, r0, m, buf, err);
    if (!rc && ws) rc = spy_waveform_read(d, &w, r0, m, wbuf, err);
    if (rc) break;
    for (size_t i = 0; ws && i < m; i++)
      widx[i] = r0 + i + 1;
    if (ws && put(wi, H5T_NATIVE_UINT64, r0, m, widx)) {
      rc = spy_h5_fail(err, SPY_EIO, "cannot write the waveforms");
      break;
    }
    memset(bcount, 0, (nu + 1) * sizeof *bcount);
    for (size_t i = 0; i < m; i++)
      bcount[(tpos[i] = pos_of(units, buf[3 * i + 2])) + 1]++;
    for (size_t u = 1; u <= nu; u++)
      bcount[u] += bcount[u - 1];
    for (size_t i = 0; i < m; i++) {
      size_t k = bcount[tpos[i]]++;
      tt[k] = (double)buf[3 * i] / d->samplerate;
      tch[k] = (int64_t)pos_of(chans, buf[3 * i + 1]);
      if (ws) memcpy(wtmp + k * wb, wbuf + i * wb, wb);
    }
    /* bcount[u] is now the end of unit u's rows in tt */
    for (size_t u = 0, b = 0; !rc && u < nu; b = bcount[u++]) {
      size_t k = bcount[u] - b;
      if (put(st, H5T_NATIVE_DOUBLE, cur[u], k, tt + b) ||
          (multi && put(se, H5T_NATIVE_INT64, cur[u], k, tch + b)) ||
          (ws && rows_io(wd, wt, cur[u], k, ws, wtmp + b * wb, true)))
        rc = spy_h5_fail(err, SPY_EIO, "cannot write the spike times");
      cur[u] += k;
    }
  }
exit:
  spy_h5_close_dset(st);
  spy_h5_close_dset(se);
  spy_h5_close_dset(wd);
  spy_h5_close_dset(wi);
  spy_h5_close_type(wt);
  free(wbuf);
  free(wtmp);
  free(widx);
  if (g >= 0) H5Gclose(g);
  for (size_t u = 0; uch && u < nu; u++)
    spy_ivec_free(&uch[u]);
  free(uch);
  free(ends);
  free(cur);
  free(buf);
  free(tch);
  free(tt);
  free(tpos);
  free(bcount);
  spy_discrete_scan_free(&sc);
  return rc;
}

/* ---- writing TTLs ----------------------------------------------------------------------- */

static int ttl_series(hid_t acq, const char *name, const char *desc, size_t n, double fs,
                      hid_t *data, hid_t *ts)
{
  hid_t g = spy_nwb_group(acq, name);
  *data = g >= 0 ? spy_nwb_ds_1d(g, "data", H5T_STD_I64LE, H5T_NATIVE_INT64, NULL, n) : -1;
  *ts = g >= 0 ? spy_nwb_ds_1d(g, "timestamps", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, NULL, n) : -1;
  hid_t it = H5Tcopy(H5T_STD_I32LE);
  int bad = g < 0 || *data < 0 || *ts < 0 ||
            spy_nwb_typed(g, "core", "TimeSeries") | spy_nwb_attr_str(g, "description", desc) |
                spy_nwb_attr_str(g, "comments", "Exported by spy") |
                spy_nwb_attr_num(*data, "conversion", H5T_IEEE_F32LE, 1.0) |
                spy_nwb_attr_num(*data, "offset", H5T_IEEE_F32LE, 0.0) |
                spy_nwb_attr_num(*data, "resolution", H5T_IEEE_F32LE, -1.0) |
                spy_nwb_attr_str(*data, "unit", "n/a") |
                spy_nwb_attr_num(*ts, "interval", it, 1) |
                spy_nwb_attr_str(*ts, "unit", "seconds") |
                spy_nwb_attr_num(*ts, "resolution", H5T_IEEE_F64LE, 1 / fs);
  spy_h5_close_type(it);
  if (g >= 0) H5Gclose(g);
  return bad ? -1 : 0;
}

int spy_nwb_write_ttls(hid_t f, spy_data *d, spy_err *err)
{
  size_t nc = d->ndim == 2 ? d->shape[1] : 0, n = d->shape[0];
  hid_t acq = H5Gopen2(f, "acquisition", H5P_DEFAULT), ds[4] = {-1, -1, -1, -1};
  int rc = SPY_OK;
  if (acq < 0 ||
      ttl_series(acq, "TTL_PulseValues", "TTL pulse values (event ids) exported by spy", n,
                 d->samplerate, &ds[0], &ds[1]) ||
      (nc > 2 && ttl_series(acq, "TTL_Channels", "TTL channels exported by spy", n, d->samplerate,
                            &ds[2], &ds[3])))
    rc = spy_h5_fail(err, SPY_EIO, "cannot write the TTL series");
  int64_t *buf = rc ? NULL : malloc(ROWS * nc * sizeof *buf), *col = malloc(ROWS * sizeof *col);
  double *t = malloc(ROWS * sizeof *t);
  if (!rc && (!buf || !col || !t)) rc = spy_fail(err, SPY_ENOMEM, "out of memory");
  for (size_t r0 = 0; !rc && r0 < n; r0 += ROWS) {
    size_t m = n - r0 < ROWS ? n - r0 : ROWS;
    if (spy_interrupted()) rc = spy_fail(err, SPY_EINTR, "interrupted");
    if (!rc) rc = spy_discrete_read(d, r0, m, buf, err);
    for (size_t i = 0; i < m && !rc; i++)
      t[i] = (double)buf[i * nc] / d->samplerate;
    for (size_t c = 1; c < nc && c < 3 && !rc; c++) {
      for (size_t i = 0; i < m; i++)
        col[i] = buf[i * nc + c];
      if (put(ds[2 * c - 2], H5T_NATIVE_INT64, r0, m, col) ||
          put(ds[2 * c - 1], H5T_NATIVE_DOUBLE, r0, m, t))
        rc = spy_h5_fail(err, SPY_EIO, "cannot write the TTL series");
    }
  }
  free(buf);
  free(col);
  free(t);
  for (int i = 0; i < 4; i++)
    spy_h5_close_dset(ds[i]);
  if (acq >= 0) H5Gclose(acq);
  return rc;
}

/* ---- reading units ---------------------------------------------------------------------- */

/* One unit's cursor in the merge. */
typedef struct cursor {
  size_t next, end; /* elements of spike_times still to read: [next, end) */
  size_t have, at;  /* buffered values and the current one */
  double *t;
  int64_t *ch;
  char *wf;         /* waveform rows, or NULL */
  int64_t sample, chan, prev;
} cursor;

typedef struct merge {
  hid_t st, se;     /* spike_times, spike_electrodes (or -1) */
  hid_t wd, wt;     /* waveforms and their memory type (or -1) */
  size_t ws, wb;    /* waveform samples and bytes per spike (0: none) */
  size_t block;
  double fs, t0;
  cursor *c;
  size_t *heap, nheap;
  const char *path;
} merge;

static bool before(const merge *m, size_t a, size_t b)
{
  return m->c[a].sample != m->c[b].sample ? m->c[a].sample < m->c[b].sample : a < b;
}

static void sift_down(merge *m, size_t i)
{
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, s = i;
    if (l < m->nheap && before(m, m->heap[l], m->heap[s])) s = l;
    if (r < m->nheap && before(m, m->heap[r], m->heap[s])) s = r;
    if (s == i) return;
    size_t x = m->heap[i];
    m->heap[i] = m->heap[s];
    m->heap[s] = x;
    i = s;
  }
}

/* Advances unit u to its next spike; *done when it has none. */
static int advance(merge *m, size_t u, const int64_t *uid, bool *done, spy_err *err)
{
  cursor *c = &m->c[u];
  *done = false;
  if (c->at + 1 < c->have) {
    c->at++;
  } else {
    size_t k = c->end - c->next < m->block ? c->end - c->next : m->block;
    if (!k) {
      *done = true;
      return SPY_OK;
    }
    if (get(m->st, H5T_NATIVE_DOUBLE, c->next, k, c->t) ||
        (m->se >= 0 && get(m->se, H5T_NATIVE_INT64, c->next, k, c->ch)) ||
        (m->ws && rows_io(m->wd, m->wt, c->next, k, m->ws, c->wf, false)))
      return spy_h5_fail(err, SPY_EFORMAT, "'%s': cannot read spike_times / spike_electrodes of unit id %lld",
                         m->path, (long long)uid[u]);
    c->next += k;
    c->have = k;
    c->at = 0;
  }
  double t = c->t[c->at], s = rint((t - m->t0) * m->fs);
  if (!isfinite(s) || s < 0 || s > 9e15)
    return spy_fail(err, SPY_EFORMAT,
                    "'%s': unit id %lld has a spike at %g s, before the recording's start (%g s) or "
                    "not a finite time",
                    m->path, (long long)uid[u], t, m->t0);
  if ((int64_t)s < c->prev)
    return spy_fail(err, SPY_EFORMAT,
                    "'%s': the spike times of unit id %lld are not sorted (%g s follows a later "
                    "spike); NWB expects ascending spike_times per unit",
                    m->path, (long long)uid[u], t);
  c->sample = c->prev = (int64_t)s;
  if (m->se >= 0) c->chan = c->ch[c->at];
  return SPY_OK;
}

/* The units' first electrode rows (channel of each spike when the file has no
** per-spike electrodes): NULL when the table has no electrodes column. */
static double *first_electrodes(hid_t g, size_t nu, const char *path, spy_err *err, int *rc)
{
  size_t ne = 0, ni = 0;
  double *el = spy_nwb_get_doubles(g, "electrodes", &ne), *ix = NULL, *first = NULL;
  *rc = SPY_OK;
  if (!el) return NULL;
  ix = spy_nwb_get_doubles(g, "electrodes_index", &ni);
  if (!ix && ne == nu) return el; /* one electrode per unit, not ragged */
  if (!(first = calloc(nu + 1, sizeof *first))) {
    *rc = spy_fail(err, SPY_ENOMEM, "out of memory");
  } else if (!ix || ni != nu) {
    *rc = spy_fail(err, SPY_EFORMAT,
                   "'%s': units/electrodes has %zu values for %zu units and no electrodes_index "
                   "with one entry per unit",
                   path, ne, nu);
  }
  for (size_t u = 0; !*rc && u < nu; u++) {
    double b = u ? ix[u - 1] : 0;
    if (!(ix[u] >= b && ix[u] <= (double)ne))
      *rc = spy_fail(err, SPY_EFORMAT,
                     "'%s': units/electrodes_index is out of range: row %zu ends at %g, but "
                     "electrodes has %zu values",
                     path, u + 1, ix[u], ne);
    else
      first[u] = ix[u] > b ? el[(size_t)b] : 0;
  }
  free(el);
  free(ix);
  if (*rc) {
    free(first);
    first = NULL;
  }
  return first;
}

static bool distinct(const char *const *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < i; j++)
      if (strcmp(v[i], v[j]) == 0) return false;
  return true;
}

/*
** Channel labels, one per channel index in cset (ascending): the location of
** the electrodes-table row of each index (the row whose id is the index,
** or the row itself without ids), when all exist and are distinct; else
** spy's defaults.  rset: the rows used (as many as indices).
*/
static char **channel_labels(const spy_ivec *cset, const spy_ivec *rset, const double *elid,
                             size_t nelid, char **loc, size_t nloc)
{
  const char **v = loc && rset->n == cset->n ? malloc((cset->n + 1) * sizeof *v) : NULL;
  bool ok = v != NULL;
  for (size_t i = 0; ok && i < cset->n; i++) {
    size_t row = (size_t)cset->v[i];
    if (elid)
      for (row = 0; row < nelid && elid[row] != (double)cset->v[i]; row++) {
      }
    if ((ok = row < nloc && spy_ivec_find(rset, (int64_t)row) >= 0)) v[i] = loc[row];
  }
  char **out = ok && distinct(v, cset->n) ? spy_strv_dup(v, cset->n)
                                          : spy_discrete_labels("channel", cset);
  free(v);
  return out;
}

/*
** Whether units/waveforms can become SpikeData's `waveform`: 2-d numeric,
** exactly one waveform per spike (waveforms_index = 1..n, checked in
** blocks) and the spikes of each unit (waveforms_index_index = the spike
** index).  Returns NULL and opens *wd, or says why not.
*/
static const char *waveforms_ok(hid_t g, size_t nspk, const double *ends, size_t nu, hid_t *wd,
                                spy_waveform *w)
{
  *wd = H5Dopen2(g, "waveforms", H5P_DEFAULT);
  hid_t sp = *wd >= 0 ? H5Dget_space(*wd) : -1, ty = *wd >= 0 ? H5Dget_type(*wd) : -1;
  hsize_t dims[2] = {0, 0};
  const char *why = NULL;
  if (sp < 0 || H5Sget_simple_extent_ndims(sp) != 2 || ty < 0 ||
      spy_h5_dtype_of(ty, &w->dtype) != SPY_OK)
    why = "`waveforms` is not a 2-d numeric dataset";
  else if (H5Sget_simple_extent_dims(sp, dims, NULL), dims[0] != nspk || dims[1] == 0)
    why = "`waveforms` does not hold one waveform per spike";
  spy_h5_close_space(sp);
  spy_h5_close_type(ty);
  size_t nii = 0;
  double *ii = why ? NULL : spy_nwb_get_doubles(g, "waveforms_index_index", &nii);
  for (size_t u = 0; !why && u < nu; u++)
    if (!ii || nii != nu || ii[u] != ends[u]) why = "waveforms_index_index does not match spike_times_index";
  free(ii);
  hid_t wi = why ? -1 : H5Dopen2(g, "waveforms_index", H5P_DEFAULT);
  hid_t wsp = wi >= 0 ? H5Dget_space(wi) : -1;
  if (!why && (wsp < 0 || H5Sget_simple_extent_npoints(wsp) != (hssize_t)nspk))
    why = "waveforms_index does not have one entry per spike";
  spy_h5_close_space(wsp);
  double *b = why ? NULL : malloc(ROWS * sizeof *b);
  if (!why && !b) why = "out of memory";
  for (size_t r0 = 0; !why && r0 < nspk; r0 += ROWS) {
    size_t k = nspk - r0 < ROWS ? nspk - r0 : ROWS;
    if (get(wi, H5T_NATIVE_DOUBLE, r0, k, b)) why = "waveforms_index cannot be read";
    for (size_t i = 0; !why && i < k; i++)
      if (b[i] != (double)(r0 + i + 1))
        why = "spikes with several waveforms (electrodes) are not supported";
  }
  free(b);
  spy_h5_close_dset(wi);
  if (why) {
    spy_h5_close_dset(*wd);
    *wd = -1;
  } else {
    w->ndim = 2;
    w->shape[0] = nspk;
    w->shape[1] = (size_t)dims[1];
  }
  H5Eclear2(H5E_DEFAULT);
  return why;
}

int spy_nwb_load_units(hid_t f, const char *path, double fs, double t0, double nsamp,
                       spy_data **out, char **warnings, spy_err *err)
{
  *out = NULL;
  int rc = SPY_OK;
  hid_t g = H5Gopen2(f, "/units", H5P_DEFAULT);
  merge m = {.st = -1, .se = -1, .wd = -1, .wt = -1, .t0 = t0, .path = path};
  spy_waveform w = {0};
  char *wout = NULL;
  size_t nu = 0, nend = 0, nsr = 0, nname = 0, nloc = 0, nspk = 0, ntot = 0, nelid = 0;
  double *uidd = spy_nwb_get_doubles(g, "id", &nu), *ends = NULL, *srcol = NULL,
         *first = NULL, *elid = NULL;
  int64_t *uid = NULL, *rows = NULL;
  char **names = NULL, **loc = NULL, **ulab = NULL, **clab = NULL;
  spy_ivec uset = {0}, cset = {0}, rset = {0}; /* unit ids, channel indices, electrode rows */
  spy_data *d = NULL;
  if (g < 0 || !uidd) {
    rc = spy_fail(err, SPY_EFORMAT, "'%s': the units table has no `id` column", path);
    goto exit;
  }
  if (H5Lexists(g, "spike_times", H5P_DEFAULT) <= 0 ||
      (m.st = H5Dopen2(g, "spike_times", H5P_DEFAULT)) < 0) {
    rc = spy_fail(err, SPY_EFORMAT, "'%s': the units table has no `spike_times` column", path);
    goto exit;
  }
  hid_t sp = H5Dget_space(m.st), ty = H5Dget_type(m.st);
  hssize_t np = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
  H5T_class_t cls = ty >= 0 ? H5Tget_class(ty) : H5T_NO_CLASS;
  int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
  spy_h5_close_space(sp);
  spy_h5_close_type(ty);
  if (np < 0 || rank != 1 || (cls != H5T_FLOAT && cls != H5T_INTEGER)) {
    rc = spy_fail(err, SPY_EFORMAT, "'%s': units/spike_times is not a 1-d numeric column", path);
    goto exit;
  }
  nspk = (size_t)np;
  /* the ragged index: row u owns spike_times[ends[u-1], ends[u]) */
  ends = spy_nwb_get_doubles(g, "spike_times_index", &nend);
  if (!ends && nu == 1) {
    ends = malloc(sizeof *ends);
    if (ends) ends[0] = (double)nspk;
    nend = 1;
  }
  if (!ends || nend != nu) {
    rc = spy_fail(err, SPY_EFORMAT,
                  "'%s': units/spike_times_index is missing or has %zu entries for %zu units", path,
                  nend, nu);
    goto exit;
  }
  for (size_t u = 0; u < nu; u++) {
    double b = u ? ends[u - 1] : 0;
    if (!(ends[u] >= b && ends[u] <= (double)nspk) || ends[u] != floor(ends[u])) {
      rc = spy_fail(err, SPY_EFORMAT,
                    "'%s': units/spike_times_index is out of range: row %zu ends at %g, but "
                    "spike_times has %zu values",
                    path, u + 1, ends[u], nspk);
      goto exit;
    }
  }
  ntot = nu ? (size_t)ends[nu - 1] : 0; /* spike_times past the last row belong to no unit */
  /* unit indices: the ids (Syncopy) */
  if (!(uid = malloc((nu + 1) * sizeof *uid))) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto exit;
  }
  for (size_t u = 0; u < nu; u++) {
    if (!(uidd[u] >= 0 && uidd[u] == floor(uidd[u]) && uidd[u] < 9e15)) {
      rc = spy_fail(err, SPY_EFORMAT,
                    "'%s': unit %zu has id %g; spy uses the ids as unit indices, which must be "
                    "non-negative integers",
                    path, u + 1, uidd[u]);
      goto exit;
    }
    uid[u] = (int64_t)uidd[u];
  }
  /* the sample rate: given, else Syncopy's `samplerate` column */
  if (isnan(fs) && (srcol = spy_nwb_get_doubles(g, "samplerate", &nsr)) && nsr) fs = srcol[0];
  if (!(fs > 0 && isfinite(fs))) {
    rc = spy_fail(err, SPY_EINVAL,
                  "'%s': the units table holds spike times in seconds, but the file gives no "
                  "samplerate to turn them into samples (no ElectricalSeries rate, no units "
                  "`samplerate` column); pass one: spy.load_nwb(path, {samplerate=...})",
                  path);
    goto exit;
  }
  m.fs = fs;
  /* channels: per spike (spy's spike_electrodes), else each unit's first electrode */
  if (H5Lexists(g, "spike_electrodes", H5P_DEFAULT) > 0) {
    m.se = H5Dopen2(g, "spike_electrodes", H5P_DEFAULT);
    hid_t s2 = m.se >= 0 ? H5Dget_space(m.se) : -1;
    if (s2 < 0 || H5Sget_simple_extent_npoints(s2) != np) {
      spy_h5_close_space(s2);
      rc = spy_fail(err, SPY_EFORMAT, "'%s': units/spike_electrodes does not match spike_times",
                    path);
      goto exit;
    }
    spy_h5_close_space(s2);
  } else {
    first = first_electrodes(g, nu, path, err, &rc);
    if (rc) goto exit;
  }
  names = spy_nwb_get_strings(g, "unit_name", &nname);
  if (spy_nwb_exists(f, SPY_NWB_ELECTRODES)) {
    hid_t el = H5Gopen2(f, SPY_NWB_ELECTRODES, H5P_DEFAULT);
    if (el >= 0) {
      loc = spy_nwb_get_strings(el, "location", &nloc);
      elid = spy_nwb_get_doubles(el, "id", &nelid);
      H5Gclose(el);
    }
    /* channel indices are the electrodes' ids when these are indices */
    for (size_t i = 0; elid && i < nelid; i++)
      if (!(elid[i] >= 0 && elid[i] == floor(elid[i]) && elid[i] < 9e15)) {
        free(elid);
        elid = NULL;
        nelid = 0;
      }
  }
  H5Eclear2(H5E_DEFAULT);
  if (H5Lexists(g, "waveforms", H5P_DEFAULT) > 0) {
    const char *why = waveforms_ok(g, ntot, ends, nu, &m.wd, &w);
    if (why)
      spy_warn_append(warnings, "'%s': units waveforms not loaded: %s", path, why);
    else {
      m.ws = w.shape[1];
      m.wb = spy_waveform_row_bytes(&w);
      m.wt = spy_h5_type(w.dtype);
    }
  }
  H5Eclear2(H5E_DEFAULT);
  /* the merge: each unit's buffer of `block` spikes (memory ~ 1M values in all) */
  m.block = ((size_t)1 << 20) / (nu ? nu : 1) / (m.ws ? m.ws : 1);
  if (m.block > 4096) m.block = 4096;
  if (m.block < 16) m.block = 16;
  m.c = calloc(nu + 1, sizeof *m.c);
  m.heap = calloc(nu + 1, sizeof *m.heap);
  rows = malloc(ROWS * 3 * sizeof *rows);
  wout = m.ws ? malloc(ROWS * m.wb) : NULL;
  if (!m.c || !m.heap || !rows || (m.ws && !wout)) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto exit;
  }
  d = spy_data_new(SPY_SPIKE);
  size_t shape[2] = {ntot, 3};
  if (!d) rc = spy_fail(err, SPY_ENOMEM, "out of memory");
  else rc = spy_data_create(d, SPY_DT_I64, 2, shape, err);
  if (!rc && m.ws) rc = spy_waveform_create(d, &w, err);
  for (size_t u = 0; !rc && u < nu; u++) {
    cursor *c = &m.c[u];
    c->next = u ? (size_t)ends[u - 1] : 0;
    c->end = (size_t)ends[u];
    c->prev = INT64_MIN;
    c->chan = first ? (int64_t)first[u] : 0;
    if (c->end > c->next) {
      if (!(c->t = malloc(m.block * sizeof *c->t)) ||
          (m.se >= 0 && !(c->ch = malloc(m.block * sizeof *c->ch))) ||
          (m.ws && !(c->wf = malloc(m.block * m.wb)))) {
        rc = spy_fail(err, SPY_ENOMEM, "out of memory");
        break;
      }
      c->have = c->at = 0;
      bool done;
      if ((rc = advance(&m, u, uid, &done, err))) break;
      m.heap[m.nheap++] = u;
      /* labels: one per unit index that has spikes */
      if (!rc && spy_ivec_add(&uset, uid[u])) rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    }
  }
  for (size_t i = m.nheap; !rc && i-- > 0;)
    sift_down(&m, i);
  size_t nrow = 0, k = 0;
  int64_t smax = -1;
  spy_progress_begin(ntot / ROWS + 1);
  while (!rc && m.nheap) {
    size_t u = m.heap[0];
    cursor *c = &m.c[u];
    if (c->chan < 0) {
      rc = spy_fail(err, SPY_EFORMAT, "'%s': unit id %lld has a negative electrode row", path,
                    (long long)uid[u]);
      break;
    }
    int64_t chan = (size_t)c->chan < nelid ? (int64_t)elid[c->chan] : c->chan;
    rows[3 * k] = c->sample;
    rows[3 * k + 1] = chan;
    rows[3 * k + 2] = uid[u];
    if (m.ws) memcpy(wout + k * m.wb, c->wf + c->at * m.wb, m.wb);
    smax = c->sample;
    if (spy_ivec_add(&cset, chan) || spy_ivec_add(&rset, c->chan))
      rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    if (++k == ROWS || nrow + k == ntot) {
      if (spy_interrupted()) rc = spy_fail(err, SPY_EINTR, "interrupted while loading '%s'", path);
      if (!rc) rc = spy_data_write(d, nrow, k, 0, 3, rows, SPY_DT_I64, err);
      if (!rc && m.ws) rc = spy_waveform_write(d, &w, nrow, k, wout, err);
      nrow += k;
      k = 0;
      if (!rc) spy_progress_update(nrow / ROWS);
    }
    bool done = false;
    if (!rc) rc = advance(&m, u, uid, &done, err);
    if (done) m.heap[0] = m.heap[--m.nheap];
    sift_down(&m, 0);
  }
  spy_progress_end(rc == SPY_OK);
  if (rc) goto exit;
  /* labels: unit_name of each id's first row; channels from the electrodes' location */
  if (names && nname == nu) {
    char **byid = calloc(uset.n + 1, sizeof *byid);
    if (!byid) rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    for (size_t u = nu; byid && u-- > 0;)
      if (spy_ivec_find(&uset, uid[u]) >= 0) byid[spy_ivec_find(&uset, uid[u])] = names[u];
    if (byid && distinct((const char *const *)byid, uset.n))
      ulab = spy_strv_dup((const char *const *)byid, uset.n);
    free(byid);
  }
  if (!rc && !ulab) ulab = spy_discrete_labels("unit", &uset);
  if (!rc) clab = channel_labels(&cset, &rset, elid, nelid, loc, nloc);
  if (!rc && (!ulab || !clab || spy_data_set_unit(d, (const char *const *)ulab, uset.n) ||
              spy_data_set_channel(d, (const char *const *)clab, cset.n)))
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
  if (rc) goto exit;
  d->samplerate = fs;
  double whole[3] = {0, nsamp >= 0 ? nsamp : (double)(smax + 1), 0};
  if ((rc = spy_nwb_discrete_trials(f, path, "units", t0, fs, whole, d, err)) ||
      (rc = spy_nwb_loaded(d, path, err)))
    goto exit;
  *out = d;
  d = NULL;
exit:
  if (d) spy_data_unref(d);
  for (size_t u = 0; m.c && u < nu; u++) {
    free(m.c[u].t);
    free(m.c[u].ch);
    free(m.c[u].wf);
  }
  free(wout);
  spy_h5_close_dset(m.wd);
  spy_h5_close_type(m.wt);
  free(m.c);
  free(m.heap);
  free(rows);
  free(uidd);
  free(uid);
  free(ends);
  free(srcol);
  free(first);
  spy_strv_free(names, nname);
  spy_strv_free(loc, nloc);
  spy_strv_free(ulab, uset.n);
  spy_strv_free(clab, cset.n);
  spy_ivec_free(&uset);
  spy_ivec_free(&cset);
  spy_ivec_free(&rset);
  free(elid);
  spy_h5_close_dset(m.st);
  spy_h5_close_dset(m.se);
  if (g >= 0) H5Gclose(g);
  H5Eclear2(H5E_DEFAULT);
  return rc;
}

/* ---- reading TTLs ------------------------------------------------------------------------ */

typedef struct ttl {
  int64_t sample, id, chan;
  size_t order;
} ttl;

static int cmp_ttl(const void *a, const void *b)
{
  const ttl *x = a, *y = b;
  if (x->sample != y->sample) return x->sample < y->sample ? -1 : 1;
  return x->order < y->order ? -1 : x->order > y->order;
}

int spy_nwb_load_ttls(hid_t f, const char *path, double fs, double t0, spy_data **out,
                      spy_err *err)
{
  *out = NULL;
  int rc = SPY_OK;
  hid_t g = H5Gopen2(f, "/acquisition/TTL_PulseValues", H5P_DEFAULT), gc = -1;
  size_t nv = 0, nt = 0, nc = 0;
  double *v = g >= 0 ? spy_nwb_get_doubles(g, "data", &nv) : NULL;
  double *ts = g >= 0 ? spy_nwb_get_doubles(g, "timestamps", &nt) : NULL, *ch = NULL;
  ttl *ev = NULL;
  int64_t *rows = NULL;
  spy_data *d = NULL;
  if (!v || !ts || nv != nt || !nv) {
    rc = spy_fail(err, SPY_EFORMAT,
                  "'%s': TTL_PulseValues needs numeric `data` and `timestamps` of one length "
                  "(found %zu and %zu values)",
                  path, nv, nt);
    goto exit;
  }
  if (spy_nwb_exists(f, "/acquisition/TTL_Channels")) {
    gc = H5Gopen2(f, "/acquisition/TTL_Channels", H5P_DEFAULT);
    ch = gc >= 0 ? spy_nwb_get_doubles(gc, "data", &nc) : NULL;
    if (!ch || nc != nv) {
      rc = spy_fail(err, SPY_EFORMAT,
                    "'%s': TTL_Channels has %zu values for %zu TTL pulses; expected one channel "
                    "per pulse",
                    path, nc, nv);
      goto exit;
    }
  }
  if (isnan(fs)) {
    hid_t t = H5Dopen2(g, "timestamps", H5P_DEFAULT);
    double res = t >= 0 ? spy_nwb_get_attr_num(t, "resolution", NAN) : NAN;
    spy_h5_close_dset(t);
    fs = 1 / res;
    /* 1 / (1 / fs) may miss fs by an ulp: snap to a whole rate */
    if (fabs(fs - rint(fs)) < 1e-9 * fs) fs = rint(fs);
  }
  if (!(fs > 0 && isfinite(fs))) {
    rc = spy_fail(err, SPY_EINVAL,
                  "'%s': TTL_PulseValues has no timestamps `resolution` to give the samplerate; "
                  "pass one: spy.load_nwb(path, {samplerate=...})",
                  path);
    goto exit;
  }
  size_t cols = ch ? 3 : 2;
  ev = malloc(nv * sizeof *ev);
  rows = malloc(nv * cols * sizeof *rows);
  if (!ev || !rows) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto exit;
  }
  for (size_t i = 0; i < nv; i++) {
    double s = rint((ts[i] - t0) * fs);
    if (!isfinite(s) || s < 0 || s > 9e15 || !isfinite(v[i]) || (ch && !isfinite(ch[i]))) {
      rc = spy_fail(err, SPY_EFORMAT,
                    "'%s': TTL pulse %zu at %g s lies before the recording's start (%g s) or is "
                    "not a finite number",
                    path, i + 1, ts[i], t0);
      goto exit;
    }
    ev[i] = (ttl){(int64_t)s, (int64_t)rint(v[i]), ch ? (int64_t)rint(ch[i]) : 0, i};
  }
  qsort(ev, nv, sizeof *ev, cmp_ttl);
  for (size_t i = 0; i < nv; i++) {
    rows[i * cols] = ev[i].sample;
    rows[i * cols + 1] = ev[i].id;
    if (ch) rows[i * cols + 2] = ev[i].chan;
  }
  size_t shape[2] = {nv, cols};
  if (!(d = spy_data_new(SPY_EVENT))) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto exit;
  }
  d->samplerate = fs;
  const char *dimord[] = {"sample", "eventid", "chans", NULL};
  if ((rc = spy_data_create(d, SPY_DT_I64, 2, shape, err)) ||
      (rc = spy_data_write(d, 0, nv, 0, cols, rows, SPY_DT_I64, err)))
    goto exit;
  if (ch && spy_data_set_dimord(d, dimord)) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto exit;
  }
  double whole[3] = {(double)ev[0].sample, (double)ev[nv - 1].sample, 0};
  if ((rc = spy_nwb_discrete_trials(f, path, "TTL_PulseValues", t0, fs, whole, d, err)) ||
      (rc = spy_nwb_loaded(d, path, err)))
    goto exit;
  *out = d;
  d = NULL;
exit:
  if (d) spy_data_unref(d);
  free(v);
  free(ts);
  free(ch);
  free(ev);
  free(rows);
  if (gc >= 0) H5Gclose(gc);
  if (g >= 0) H5Gclose(g);
  H5Eclear2(H5E_DEFAULT);
  return rc;
}
