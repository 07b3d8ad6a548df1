/* TDT blocks: .tsq index and .sev channel files (tdt.h). */
#include "io/formats/tdt.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/interrupt.h"
#include "core/progress.h"
#include "io/formats/common.h"

#define REC 40            /* bytes per .tsq record and of the .sev header */
#define TDT_GRID 195312.5 /* timestamps are rounded to this rate, as TDT's own readers do */
#define BLOCK 65536

enum {
  STARTBLOCK = 1,
  STOPBLOCK = 2,
  STRON = 0x101,
  STROFF = 0x102,
  SCALAR = 0x201,
  STREAM = 0x8101,
  MARK = 0x8801,
  MASK = 0xFF0F
};

typedef struct {
  double *v;
  size_t n, cap;
} dvec;

static int push(dvec *d, double x)
{
  if (d->n == d->cap) {
    size_t cap = d->cap ? 2 * d->cap : 64;
    double *v = realloc(d->v, cap * sizeof *v);
    if (!v) return SPY_ENOMEM;
    d->v = v;
    d->cap = cap;
  }
  d->v[d->n++] = x;
  return SPY_OK;
}

typedef struct {
  double start, stop, fs;
  dvec on, on_data, off, mark_ts, mark_val, mark_chan;
} tsqinfo;

static void tsq_clear(tsqinfo *t)
{
  free(t->on.v);
  free(t->on_data.v);
  free(t->off.v);
  free(t->mark_ts.v);
  free(t->mark_val.v);
  free(t->mark_chan.v);
  memset(t, 0, sizeof *t);
}

static uint32_t u32(const unsigned char *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static double f64(const unsigned char *p)
{
  double x;
  memcpy(&x, p, 8);
  return x;
}
static double f32(const unsigned char *p)
{
  float x;
  memcpy(&x, p, 4);
  return x;
}

static double grid(double t)
{
  return rint(t * TDT_GRID) / TDT_GRID;
}

static int tsq_parse(const unsigned char *buf, size_t n, const char *name, tsqinfo *t,
                     char **warnings, spy_err *err)
{
  memset(t, 0, sizeof *t);
  t->fs = NAN;
  t->stop = NAN;
  if (n < 2 * REC || u32(buf + REC + 8) != STARTBLOCK)
    return spy_fail(err, SPY_EFORMAT,
                    "'%s' is not a TDT event index: the block start marker is missing", name);
  size_t nrec = (n - REC) / REC;
  if ((n - REC) % REC)
    spy_warn_append(warnings, "'%s': block did not end cleanly, removing the last %zu bytes", name,
                    (n - REC) % REC);
  t->start = f64(buf + REC + 16);
  const unsigned char *last = buf + REC + (nrec - 1) * REC;
  if (u32(last + 8) == STOPBLOCK)
    t->stop = f64(last + 16);
  else
    spy_warn_append(warnings, "'%s': block end marker not found, block did not end cleanly", name);
  size_t bad = 0;
  int rc = SPY_OK;
  for (size_t i = 0; i < nrec && rc == SPY_OK; i++) {
    const unsigned char *r = buf + REC + i * REC;
    uint32_t type = u32(r + 4), code = u32(r + 8);
    if (code == 0) {
      bad++;
      continue;
    }
    char store[5];
    memcpy(store, r + 8, 4);
    store[4] = 0;
    double ts = grid(f64(r + 16) - t->start), val = f64(r + 24);
    if ((strcmp(store, "LFPs") == 0 || strcmp(store, "LFP1") == 0) && (type & MASK) == STREAM) {
      if (isnan(t->fs)) t->fs = f32(r + 36);
    } else if (strcmp(store, "PDio") == 0 && (type == STRON || type == MARK)) {
      rc = push(&t->on, ts) | push(&t->on_data, val);
    } else if (strcmp(store, "PDi\\") == 0 && type == STROFF) {
      rc = push(&t->off, ts);
    } else if (strcmp(store, "Mark") == 0 && type == SCALAR) {
      rc = push(&t->mark_ts, ts) | push(&t->mark_val, val) |
           push(&t->mark_chan, (double)(r[12] | r[13] << 8));
    }
  }
  if (rc) return spy_fail(err, SPY_ENOMEM, "out of memory");
  if (bad)
    spy_warn_append(warnings,
                    "'%s': bad TSQ headers were written, removing %zu, keeping %zu headers", name,
                    bad, nrec - bad);
  if (!(t->fs > 0 && isfinite(t->fs)))
    return spy_fail(err, SPY_EFORMAT,
                    "'%s' has no stream store 'LFPs' or 'LFP1' with a sample rate", name);
  if (t->fs > SPY_MAX_SAMPLERATE)
    return spy_fail(err, SPY_EFORMAT, "'%s': the sample rate %g Hz of the LFPs/LFP1 store is not "
                                      "one a recording has (0 < rate <= %g Hz)",
                    name, t->fs, SPY_MAX_SAMPLERATE);
  /* several Mark channels: channel 1's values (as Syncopy's reshape keeps) */
  double maxch = 0;
  for (size_t i = 0; i < t->mark_chan.n; i++)
    maxch = fmax(maxch, t->mark_chan.v[i]);
  if (maxch > 1) {
    size_t k = 0;
    for (size_t i = 0; i < t->mark_chan.n; i++)
      if (t->mark_chan.v[i] == 1) {
        t->mark_ts.v[k] = t->mark_ts.v[i];
        t->mark_val.v[k++] = t->mark_val.v[i];
      }
    t->mark_ts.n = t->mark_val.n = k;
  }
  return SPY_OK;
}

int spy_tdt_check_tsq(const unsigned char *buf, size_t n, spy_err *err)
{
  tsqinfo t;
  char *w = NULL;
  int rc = tsq_parse(buf, n, "<buffer>", &t, &w, err);
  free(w);
  tsq_clear(&t);
  return rc;
}

/* ---- files of the block ------------------------------------------------------------ */

/* Natural order: digit runs compare as numbers ("Ch2" before "Ch11"). */
static int natcmp(const void *pa, const void *pb)
{
  const char *a = *(const char *const *)pa, *b = *(const char *const *)pb;
  while (*a && *b) {
    if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
      char *ea, *eb;
      unsigned long long x = strtoull(a, &ea, 10), y = strtoull(b, &eb, 10);
      if (x != y) return x < y ? -1 : 1;
      a = ea;
      b = eb;
    } else {
      int ca = tolower((unsigned char)*a), cb = tolower((unsigned char)*b);
      if (ca != cb) return ca - cb;
      a++;
      b++;
    }
  }
  return (unsigned char)*a - (unsigned char)*b;
}

static bool endswith(const char *s, const char *ext)
{
  size_t n = strlen(s), e = strlen(ext);
  return n > e && strcmp(s + n - e, ext) == 0;
}

static int listdir(const char *dir, const char *ext, char ***out, size_t *n, spy_err *err)
{
  *out = NULL;
  *n = 0;
  DIR *d = opendir(dir);
  if (!d)
    return spy_fail(err, errno == ENOENT ? SPY_ENOENT : SPY_EIO,
                    "cannot open the TDT block folder '%s': %s", dir, strerror(errno));
  struct dirent *e;
  int rc = SPY_OK;
  while ((e = readdir(d)) && rc == SPY_OK) {
    if (!endswith(e->d_name, ext)) continue;
    char **v = realloc(*out, (*n + 1) * sizeof *v);
    size_t len = strlen(dir) + strlen(e->d_name) + 2;
    char *p = malloc(len);
    if (!v || !p) {
      free(p);
      if (v) *out = v;
      rc = spy_fail(err, SPY_ENOMEM, "out of memory");
      break;
    }
    snprintf(p, len, "%s/%s", dir, e->d_name);
    *out = v;
    v[(*n)++] = p;
  }
  closedir(d);
  if (rc == SPY_OK && *n > 1) qsort(*out, *n, sizeof **out, natcmp);
  return rc;
}

static void fmt_time(double t, char *date, size_t nd, char *hms, size_t nh)
{
  time_t s = (time_t)floor(t);
  struct tm tm;
  gmtime_r(&s, &tm);
  char day[40];
  strftime(day, sizeof day, "%Y-%m-%d %H:%M:%S", &tm);
  snprintf(date, nd, "%s.%06ld", day, (long)rint((t - floor(t)) * 1e6) % 1000000);
  strftime(hms, nh, "%H:%M:%S", &tm);
}

static cJSON *numbers(const double *v, size_t n)
{
  cJSON *a = cJSON_CreateArray();
  for (size_t i = 0; a && i < n; i++)
    cJSON_AddItemToArray(a, isfinite(v[i]) ? cJSON_CreateNumber(v[i]) : cJSON_CreateNull());
  return a;
}

static cJSON *tdt_info(const char *dir, const tsqinfo *t, char **files, size_t nfiles, double fs)
{
  cJSON *info = cJSON_CreateObject();
  if (!info) return NULL;
  const char *slash = strrchr(dir, '/');
  while (slash && slash[1] == 0 && slash > dir) { /* trailing slashes */
    const char *p = slash - 1;
    while (p > dir && *p != '/')
      p--;
    slash = *p == '/' ? p : NULL;
  }
  char block[512];
  snprintf(block, sizeof block, "%s", slash ? slash + 1 : dir);
  block[strcspn(block, "/")] = 0;
  cJSON_AddStringToObject(info, "blockname", block);
  char date[64], hms[16];
  fmt_time(t->start, date, sizeof date, hms, sizeof hms);
  cJSON_AddStringToObject(info, "start_date", date);
  cJSON_AddStringToObject(info, "utc_start_time", hms);
  if (!isnan(t->stop)) {
    fmt_time(t->stop, date, sizeof date, hms, sizeof hms);
    cJSON_AddStringToObject(info, "stop_date", date);
    cJSON_AddStringToObject(info, "utc_stop_time", hms);
    double dur = t->stop - t->start;
    long whole = (long)floor(dur);
    char d[64];
    long us = (long)rint((dur - (double)whole) * 1e6);
    if (us)
      snprintf(d, sizeof d, "%ld:%02ld:%02ld.%06ld", whole / 3600, whole / 60 % 60, whole % 60, us);
    else
      snprintf(d, sizeof d, "%ld:%02ld:%02ld", whole / 3600, whole / 60 % 60, whole % 60);
    cJSON_AddStringToObject(info, "duration", d);
  }
  cJSON *of = cJSON_AddArrayToObject(info, "originalFiles");
  for (size_t i = 0; of && i < nfiles; i++)
    cJSON_AddItemToArray(of, cJSON_CreateString(files[i]));
  /* PDio epochs: offsets from PDi\ when present, else the next onset (the last one open) */
  size_t non = t->on.n, noff = t->off.n;
  double *on = malloc((non + 2) * sizeof *on), *ond = malloc((non + 2) * sizeof *ond),
         *off = malloc((non + noff + 2) * sizeof *off);
  if (on && ond && off) {
    if (non) { /* a block without PDio events has no vectors (memcpy from NULL is undefined) */
      memcpy(on, t->on.v, non * sizeof *on);
      memcpy(ond, t->on_data.v, non * sizeof *ond);
    }
    size_t nf;
    if (noff) {
      memcpy(off, t->off.v, noff * sizeof *off);
      nf = noff;
      if (non && off[0] < on[0]) { /* the block began inside an epoch */
        memmove(on + 1, on, non * sizeof *on);
        memmove(ond + 1, ond, non * sizeof *ond);
        on[0] = 0;
        non++;
      }
      if (non && on[non - 1] > off[nf - 1]) off[nf++] = INFINITY;
    } else {
      for (size_t i = 0; i + 1 < non; i++)
        off[i] = on[i + 1];
      nf = non;
      if (non) off[non - 1] = INFINITY;
    }
    cJSON_AddItemToObject(info, "PDio_onset", numbers(on, non));
    cJSON_AddItemToObject(info, "PDio_offset", numbers(off, nf));
    cJSON_AddItemToObject(info, "PDio_data", numbers(ond, non));
  }
  free(on);
  free(ond);
  free(off);
  cJSON_AddItemToObject(info, "Trigger_timestamp", numbers(t->mark_ts.v, t->mark_ts.n));
  cJSON *smp = cJSON_AddArrayToObject(info, "Trigger_sample");
  for (size_t i = 0; smp && i < t->mark_ts.n; i++)
    cJSON_AddItemToArray(smp, cJSON_CreateNumber(rint(t->mark_ts.v[i] * fs)));
  cJSON_AddItemToObject(info, "Trigger_code", numbers(t->mark_val.v, t->mark_val.n));
  return info;
}

/* Median of v[0..n) (reorders v): the middle value, or the mean of the two middle ones. */
static double select_k(float *v, size_t n, size_t k)
{
  size_t lo = 0, hi = n - 1;
  while (lo < hi) {
    float p = v[lo + (hi - lo) / 2];
    size_t i = lo, j = hi;
    while (i <= j) {
      while (v[i] < p)
        i++;
      while (v[j] > p)
        j--;
      if (i <= j) {
        float x = v[i];
        v[i] = v[j];
        v[j] = x;
        i++;
        if (j == 0) break;
        j--;
      }
    }
    if (k <= j)
      hi = j;
    else if (k >= i)
      lo = i;
    else
      break;
  }
  return v[k];
}

static double median(float *v, size_t n)
{
  if (!n) return 0;
  double a = select_k(v, n, n / 2);
  if (n % 2) return a;
  float lower = v[0];
  for (size_t i = 1; i < n / 2; i++)
    lower = v[i] > lower ? v[i] : lower; /* max of the lower half */
  return (a + lower) / 2;
}

int spy_load_tdt(const char *dir, const spy_tdt_opts *o, spy_data **out, char **warnings,
                 spy_err *err)
{
  *out = NULL;
  char **tsq = NULL, **sev = NULL, *buf = NULL;
  size_t ntsq = 0, nsev = 0, blen = 0;
  tsqinfo t;
  memset(&t, 0, sizeof t);
  FILE **fp = NULL;
  double *med = NULL;
  float *block = NULL, *col = NULL;
  spy_data *d = NULL;
  cJSON *info = NULL;
  int rc = listdir(dir, ".tsq", &tsq, &ntsq, err);
  if (rc) goto exit;
  if (ntsq != 1) {
    rc = ntsq ? spy_fail(err, SPY_EFORMAT, "'%s' holds %zu .tsq files; a TDT block has exactly one",
                         dir, ntsq)
              : spy_fail(err, SPY_ENOENT, "'%s' holds no .tsq file (the TDT event index)", dir);
    goto exit;
  }
  if ((rc = listdir(dir, ".sev", &sev, &nsev, err))) goto exit;
  if (!nsev) {
    rc = spy_fail(err, SPY_ENOENT, "'%s' holds no .sev files (the TDT channel data)", dir);
    goto exit;
  }
  if ((rc = spy_read_file(tsq[0], (size_t)1 << 34, &buf, &blen, err))) goto exit;
  if ((rc = tsq_parse((const unsigned char *)buf, blen, tsq[0], &t, warnings, err))) goto exit;
  /* channels: every file as long as the first */
  fp = calloc(nsev, sizeof *fp);
  med = calloc(nsev, sizeof *med);
  if (!fp || !med) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto exit;
  }
  size_t nsamp = 0;
  for (size_t c = 0; c < nsev; c++) {
    if ((rc = spy_check_file(sev[c], err))) goto exit;
    fp[c] = fopen(sev[c], "rb");
    off_t size = -1;
    if (fp[c] && fseeko(fp[c], 0, SEEK_END) == 0) size = ftello(fp[c]);
    if (size < REC || (size - REC) % 4) {
      rc = spy_fail(err, SPY_EFORMAT,
                    "'%s' is not a TDT channel file of float32 samples after a 40-byte header%s",
                    sev[c], size < 0 ? " (unreadable)" : " (truncated?)");
      goto exit;
    }
    size_t n = (size_t)(size - REC) / 4;
    if (c == 0) nsamp = n;
    if (n < nsamp) {
      rc = spy_fail(err, SPY_EFORMAT,
                    "'%s' holds %zu samples, fewer than the first channel file (%zu)", sev[c], n,
                    nsamp);
      goto exit;
    }
  }
  block = malloc((BLOCK * nsev + 1) * sizeof *block);
  col = malloc((BLOCK + 1) * sizeof *col);
  if (!block || !col) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto exit;
  }
  if (o->subtract_median) { /* one channel at a time in memory */
    float *all = malloc((nsamp + 1) * sizeof *all);
    if (!all) {
      rc = spy_fail(err, SPY_ENOMEM, "out of memory: the median of a channel needs %.0f bytes",
                    (double)nsamp * 4);
      goto exit;
    }
    for (size_t c = 0; c < nsev && rc == SPY_OK; c++) {
      if (fseeko(fp[c], REC, SEEK_SET) != 0 || fread(all, 4, nsamp, fp[c]) != nsamp)
        rc = spy_fail(err, SPY_EIO, "cannot read '%s'", sev[c]);
      else
        med[c] = median(all, nsamp);
    }
    free(all);
    if (rc) goto exit;
  }
  d = spy_data_new(SPY_ANALOG);
  size_t shape[2] = {nsamp, nsev};
  if (!d || (rc = spy_data_create(d, SPY_DT_F32, 2, shape, err))) {
    if (!d) rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto exit;
  }
  d->samplerate = t.fs;
  spy_progress_begin(nsamp / BLOCK + 1);
  for (size_t s0 = 0; s0 < nsamp && rc == SPY_OK; s0 += BLOCK) {
    size_t m = nsamp - s0 < BLOCK ? nsamp - s0 : BLOCK;
    if (spy_interrupted()) {
      rc = spy_fail(err, SPY_EINTR, "interrupted while loading '%s'", dir);
      break;
    }
    for (size_t c = 0; c < nsev && rc == SPY_OK; c++) {
      if (fseeko(fp[c], (off_t)(REC + 4 * s0), SEEK_SET) != 0 || fread(col, 4, m, fp[c]) != m) {
        rc = spy_fail(err, SPY_EIO, "cannot read '%s'", sev[c]);
        break;
      }
      for (size_t j = 0; j < m; j++)
        block[j * nsev + c] = (float)((double)col[j] - med[c]);
    }
    if (rc == SPY_OK) rc = spy_data_write(d, s0, m, 0, nsev, block, SPY_DT_F32, err);
    if (rc == SPY_OK) spy_progress_update(s0 / BLOCK + 1);
  }
  spy_progress_end(rc == SPY_OK);
  if (rc) goto exit;
  /* trials */
  info = tdt_info(dir, &t, sev, nsev, t.fs);
  if (!info || spy_data_default_channels(d, nsev)) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto exit;
  }
  double whole[3] = {0, (double)nsamp, 0};
  double *trl = whole;
  size_t ntr = 1;
  if (o->have_codes) {
    dvec st = {0}, en = {0};
    for (size_t i = 0; i < t.mark_val.n; i++) {
      double smp = rint(t.mark_ts.v[i] * t.fs);
      if (t.mark_val.v[i] == o->start_code) push(&st, smp);
      if (t.mark_val.v[i] == o->end_code) push(&en, smp);
    }
    if (!st.n || !en.n) {
      rc = !st.n ? spy_fail(err, SPY_EINVAL,
                            "Invalid value of `start_code`: '%g'; expected at least one occurence "
                            "of trial start code",
                            o->start_code)
                 : spy_fail(err, SPY_EINVAL,
                            "Invalid value of `end_code`: '%g'; expected at least one occurence of "
                            "trial end code",
                            o->end_code);
    } else {
      if (st.n != en.n)
        spy_warn_append(
            warnings,
            "Found %zu trial starts and %zu trial end codes! truncating to number of trial %s..",
            st.n, en.n, st.n > en.n ? "ends" : "starts");
      ntr = st.n < en.n ? st.n : en.n;
      trl = calloc(3 * ntr, sizeof *trl);
      for (size_t k = 0; trl && k < ntr; k++) {
        trl[3 * k] = st.v[k];
        trl[3 * k + 1] = en.v[k];
        if (st.v[k] < 0 || en.v[k] > (double)nsamp || en.v[k] < st.v[k])
          rc = spy_fail(
              err, SPY_EFORMAT,
              "trial %zu from start code at sample %g to end code at sample %g does not lie "
              "within the %zu samples of '%s'",
              k + 1, st.v[k], en.v[k], nsamp, dir);
      }
      if (!trl) rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    }
    free(st.v);
    free(en.v);
  }
  if (rc == SPY_OK && spy_data_set_trldef(d, trl, ntr, 3))
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
  if (trl != whole) free(trl);
  if (rc) goto exit;
  cJSON_Delete(d->info);
  d->info = info;
  info = NULL;
  char msg[1200];
  snprintf(msg, sizeof msg,
           "loaded TDT data from %zu files\n\tsource folder: %s\n\tsubtract median: %s", nsev, dir,
           o->subtract_median ? "True" : "False");
  spy_data_log(d, "load_tdt", msg);
  if ((rc = spy_data_sync_meta(d, err))) goto exit;
  *out = d;
  d = NULL;
exit:
  if (d) spy_data_unref(d);
  cJSON_Delete(info);
  for (size_t c = 0; fp && c < nsev; c++)
    if (fp[c]) fclose(fp[c]);
  free(fp);
  free(med);
  free(block);
  free(col);
  free(buf);
  tsq_clear(&t);
  spy_strv_free(tsq, ntsq);
  spy_strv_free(sev, nsev);
  return rc;
}
