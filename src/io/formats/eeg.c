/* EDF/BDF through edflib and BrainVision by hand (eeg.h). */
#include "io/formats/eeg.h"

#include <ctype.h>
#include <edflib.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/interrupt.h"
#include "core/progress.h"
#include "io/formats/common.h"

#define BLOCK 65536 /* samples per channel and block */

/* A new single-trial AnalogData of nsamp x nch (dtype t) in temporary storage. */
static int start(spy_data **out, spy_dtype t, size_t nsamp, size_t nch, double fs, spy_err *err)
{
  spy_data *d = spy_data_new(SPY_ANALOG);
  if (!d) return spy_fail(err, SPY_ENOMEM, "out of memory");
  size_t shape[2] = {nsamp, nch};
  int rc = spy_data_create(d, t, 2, shape, err);
  if (rc) {
    spy_data_unref(d);
    return rc;
  }
  d->samplerate = fs;
  double trl[3] = {0, (double)nsamp, 0};
  if (spy_data_set_trldef(d, trl, 1, 3)) {
    spy_data_unref(d);
    return spy_fail(err, SPY_ENOMEM, "out of memory");
  }
  *out = d;
  return SPY_OK;
}

/* Labels, info (taken over), history; writes the metadata. */
static int finish(spy_data *d, char **labels, size_t n, cJSON *info, const char *caller,
                  const char *path, spy_err *err)
{
  if (spy_data_set_channel(d, (const char *const *)labels, n)) {
    cJSON_Delete(info);
    return spy_fail(err, SPY_ENOMEM, "out of memory");
  }
  cJSON_Delete(d->info);
  d->info = info;
  char msg[1200];
  snprintf(msg, sizeof msg, "loaded '%s'", path);
  spy_data_log(d, caller, msg);
  return spy_data_sync_meta(d, err);
}

static void store(void *buf, spy_dtype t, size_t i, double v)
{
  if (t == SPY_DT_F32)
    ((float *)buf)[i] = (float)v;
  else
    ((double *)buf)[i] = v;
}

/* ---- EDF / BDF -------------------------------------------------------------------- */

static pthread_mutex_t edf_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *edf_error(int code)
{
  switch (code) {
  case EDFLIB_MALLOC_ERROR:
    return "out of memory";
  case EDFLIB_NO_SUCH_FILE_OR_DIRECTORY:
    return "no such file";
  case EDFLIB_FILE_CONTAINS_FORMAT_ERRORS:
    return "the header or the data records do not follow the EDF/BDF specification";
  case EDFLIB_MAXFILES_REACHED:
    return "too many EDF files open";
  case EDFLIB_FILE_READ_ERROR:
    return "read error";
  case EDFLIB_FILE_ALREADY_OPENED:
    return "the file is already open";
  case EDFLIB_FILETYPE_ERROR:
    return "not an EDF, EDF+, BDF or BDF+ file";
  case EDFLIB_FILE_IS_DISCONTINUOUS:
    return "discontinuous EDF+D/BDF+D files are not supported";
  default:
    return "unknown edflib error";
  }
}

/* A header text field without edflib's blank padding. */
static const char *unpad(const char *s, char *out, size_t n)
{
  snprintf(out, n, "%s", s);
  for (size_t e = strlen(out); e && out[e - 1] == ' '; e--)
    out[e - 1] = 0;
  return out;
}

static cJSON *edf_info(const struct edf_hdr_struct *h, const int *sig, size_t n)
{
  static const char *const types[] = {"EDF", "EDF+", "BDF", "BDF+"};
  cJSON *info = cJSON_CreateObject();
  if (!info) return NULL;
  cJSON_AddStringToObject(info, "filetype", types[h->filetype & 3]);
  char buf[64];
  snprintf(buf, sizeof buf, "%04d-%02d-%02d", h->startdate_year, h->startdate_month,
           h->startdate_day);
  cJSON_AddStringToObject(info, "startdate", buf);
  snprintf(buf, sizeof buf, "%02d:%02d:%02d.%07lld", h->starttime_hour, h->starttime_minute,
           h->starttime_second, h->starttime_subsecond);
  cJSON_AddStringToObject(info, "starttime", buf);
  bool plus = h->filetype == EDFLIB_FILETYPE_EDFPLUS || h->filetype == EDFLIB_FILETYPE_BDFPLUS;
  if (plus) {
    cJSON_AddStringToObject(info, "patientcode", h->patientcode);
    cJSON_AddStringToObject(info, "patient_name", h->patient_name);
    cJSON_AddStringToObject(info, "gender", h->gender);
    cJSON_AddStringToObject(info, "birthdate", h->birthdate);
    cJSON_AddStringToObject(info, "technician", h->technician);
    cJSON_AddStringToObject(info, "equipment", h->equipment);
    cJSON_AddStringToObject(info, "admincode", h->admincode);
    cJSON_AddStringToObject(info, "recording_additional", h->recording_additional);
  } else {
    cJSON_AddStringToObject(info, "patient", h->patient);
    cJSON_AddStringToObject(info, "recording", h->recording);
  }
  cJSON *unit = cJSON_AddArrayToObject(info, "physdimension"),
        *pre = cJSON_AddArrayToObject(info, "prefilter"),
        *tr = cJSON_AddArrayToObject(info, "transducer");
  for (size_t i = 0; i < n; i++) {
    const struct edf_param_struct *p = &h->signalparam[sig[i]];
    char b[96];
    cJSON_AddItemToArray(unit, cJSON_CreateString(unpad(p->physdimension, b, sizeof b)));
    cJSON_AddItemToArray(pre, cJSON_CreateString(unpad(p->prefilter, b, sizeof b)));
    cJSON_AddItemToArray(tr, cJSON_CreateString(unpad(p->transducer, b, sizeof b)));
  }
  return info;
}

static double edf_rate(const struct edf_hdr_struct *h, int s)
{
  return (double)h->signalparam[s].smp_in_datarecord * EDFLIB_TIME_DIMENSION /
         (double)h->datarecord_duration;
}

/* Chooses the signals: the wanted ones, or all of the most common rate. */
static int edf_pick(const char *path, const struct edf_hdr_struct *h, const spy_eeg_opts *o,
                    int *sig, size_t *n, char **warnings, spy_err *err)
{
  *n = 0;
  int ns = h->edfsignals;
  if (o->channel) {
    for (size_t i = 0; i < o->nchannel; i++) {
      int found = -1;
      for (int s = 0; s < ns && found < 0; s++) {
        char lab[17];
        if (strcmp(unpad(h->signalparam[s].label, lab, sizeof lab), o->channel[i]) == 0) found = s;
      }
      if (found < 0)
        return spy_fail(err, SPY_EINVAL,
                        "Invalid value of `channel`: '%s'; expected a signal of '%s'",
                        o->channel[i], path);
      sig[(*n)++] = found;
    }
    for (size_t i = 1; i < *n; i++)
      if (h->signalparam[sig[i]].smp_in_datarecord != h->signalparam[sig[0]].smp_in_datarecord)
        return spy_fail(err, SPY_EINVAL,
                        "Invalid value of `channel`: '%s' (%g Hz) and '%s' (%g Hz)'; expected "
                        "signals of one sample rate",
                        o->channel[0], edf_rate(h, sig[0]), o->channel[i], edf_rate(h, sig[i]));
    return SPY_OK;
  }
  int best = -1, bestcount = 0;
  for (int s = 0; s < ns; s++) {
    int c = 0;
    for (int t = 0; t < ns; t++)
      c += h->signalparam[t].smp_in_datarecord == h->signalparam[s].smp_in_datarecord;
    if (c > bestcount) {
      best = s;
      bestcount = c;
    }
  }
  for (int s = 0; s < ns; s++) {
    char lab[17];
    if (h->signalparam[s].smp_in_datarecord == h->signalparam[best].smp_in_datarecord)
      sig[(*n)++] = s;
    else
      spy_warn_append(warnings,
                      "'%s': signal '%s' (%g Hz) skipped: AnalogData has one sample rate (%g Hz); "
                      "choose it with channel=",
                      path, unpad(h->signalparam[s].label, lab, sizeof lab), edf_rate(h, s),
                      edf_rate(h, best));
  }
  return SPY_OK;
}

/* From the raw header: where each of edflib's signals (annotation signals
** left out, as edflib numbers them) starts inside a data record, the header
** length, samples per record and bytes per sample. */
static int edf_layout(const char *path, const struct edf_hdr_struct *h, size_t *start_at,
                      size_t *hdrbytes, size_t *recsamp, int *width, spy_err *err)
{
  FILE *f = fopen(path, "rb");
  char head[256];
  int rc = SPY_OK;
  if (!f || fread(head, 1, 256, f) != 256) {
    if (f) fclose(f);
    return spy_fail(err, SPY_EIO, "cannot read '%s'", path);
  }
  char num[5] = {0};
  memcpy(num, head + 252, 4);
  long ns = strtol(num, NULL, 10);
  char *sh = ns > 0 && ns <= 4096 ? malloc((size_t)ns * 256) : NULL;
  if (!sh || fread(sh, 256, (size_t)ns, f) != (size_t)ns) {
    rc = spy_fail(err, SPY_EFORMAT, "'%s': cannot read the signal headers", path);
  } else {
    *width = h->filetype == EDFLIB_FILETYPE_BDF || h->filetype == EDFLIB_FILETYPE_BDFPLUS ? 3 : 2;
    *hdrbytes = 256 * ((size_t)ns + 1);
    size_t at = 0;
    int k = 0;
    for (long i = 0; i < ns; i++) {
      char spr[9] = {0};
      memcpy(spr, sh + ns * 216 + i * 8, 8);
      bool annot = strncmp(sh + i * 16, "EDF Annotations", 15) == 0 ||
                   strncmp(sh + i * 16, "BDF Annotations", 15) == 0;
      if (!annot && k < h->edfsignals) start_at[k++] = at;
      at += (size_t)strtol(spr, NULL, 10);
    }
    *recsamp = at;
    if (k != h->edfsignals)
      rc = spy_fail(err, SPY_EFORMAT, "'%s': the signal headers do not match the signal count",
                    path);
  }
  free(sh);
  fclose(f);
  return rc;
}

int spy_load_edf(const char *path, const spy_eeg_opts *o, spy_data **out, char **warnings,
                 spy_err *err)
{
  *out = NULL;
  struct edf_hdr_struct *h = calloc(1, sizeof *h);
  if (!h) return spy_fail(err, SPY_ENOMEM, "out of memory");
  int rc0 = spy_check_file(path, err);
  if (rc0) {
    free(h);
    return rc0;
  }
  pthread_mutex_lock(&edf_lock);
  int rc = SPY_OK, handle = -1;
  int *sig = NULL;
  void *buf = NULL;
  char **labels = NULL;
  size_t n = 0;
  spy_data *d = NULL;
  cJSON *info = NULL;
  if (edfopen_file_readonly(path, h, EDFLIB_READ_ALL_ANNOTATIONS) < 0) {
    rc = spy_fail(err, SPY_EFORMAT, "'%s' cannot be read as EDF/BDF: %s", path,
                  edf_error(h->filetype));
    goto exit;
  }
  handle = h->handle;
  if (h->edfsignals < 1) {
    rc = spy_fail(err, SPY_EFORMAT, "'%s' holds no signals (only annotations)", path);
    goto exit;
  }
  sig = calloc((size_t)h->edfsignals + (o->nchannel ? o->nchannel : 0), sizeof *sig);
  if (!sig) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto exit;
  }
  if ((rc = edf_pick(path, h, o, sig, &n, warnings, err))) goto exit;
  double fs = edf_rate(h, sig[0]);
  size_t nsamp = (size_t)h->signalparam[sig[0]].smp_in_file;
  labels = calloc(n, sizeof *labels);
  info = edf_info(h, sig, n);
  if (!labels || !info) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto exit;
  }
  for (size_t i = 0; i < n; i++) {
    char lab[17];
    if (!(labels[i] = strdup(unpad(h->signalparam[sig[i]].label, lab, sizeof lab)))) {
      rc = spy_fail(err, SPY_ENOMEM, "out of memory");
      goto exit;
    }
  }
  /* annotations */
  cJSON *ann = cJSON_AddArrayToObject(info, "annotations");
  for (long long a = 0; ann && a < h->annotations_in_file; a++) {
    struct edf_annotation_struct an;
    if (edf_get_annotation(handle, (int)a, &an) < 0) break;
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e, "onset", (double)an.onset / EDFLIB_TIME_DIMENSION);
    if (an.duration_l >= 0)
      cJSON_AddNumberToObject(e, "duration", (double)an.duration_l / EDFLIB_TIME_DIMENSION);
    cJSON_AddStringToObject(e, "text", an.annotation);
    cJSON_AddItemToArray(ann, e);
  }
  if (!o->channel && (size_t)h->edfsignals > n) {
    cJSON *sk = cJSON_AddArrayToObject(info, "skipped_channels");
    for (int s = 0; s < h->edfsignals; s++) {
      bool used = false;
      for (size_t i = 0; i < n; i++)
        used |= sig[i] == s;
      char lab[17];
      if (!used)
        cJSON_AddItemToArray(sk,
                             cJSON_CreateString(unpad(h->signalparam[s].label, lab, sizeof lab)));
    }
  }
  /* Samples straight from the data records (edflib validated the header and
  ** the file size; reading signal by signal through it is ~3x slower). */
  size_t hdrbytes = 0, recsamp = 0;
  int width = 0;
  size_t *start_at = calloc((size_t)h->edfsignals, sizeof *start_at);
  if (!start_at) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto exit;
  }
  rc = edf_layout(path, h, start_at, &hdrbytes, &recsamp, &width, err);
  size_t spr = (size_t)h->signalparam[sig[0]].smp_in_datarecord, recbytes = recsamp * (size_t)width;
  size_t nrec = spr ? nsamp / spr : 0, per = spr >= BLOCK ? 1 : BLOCK / spr;
  unsigned char *raw = rc ? NULL : malloc(per * recbytes + 1);
  FILE *fp = rc ? NULL : fopen(path, "rb");
  buf = rc ? NULL : malloc((per * spr * n + 1) * spy_dtype_size(o->dtype));
  if (!rc && (!raw || !fp || !buf))
    rc = spy_fail(err, fp ? SPY_ENOMEM : SPY_EIO, "cannot read '%s'", path);
  if (!rc) rc = start(&d, o->dtype, nsamp, n, fs, err);
  if (!rc) spy_progress_begin(nrec / per + 1);
  for (size_t r0 = 0; rc == SPY_OK && r0 < nrec; r0 += per) {
    size_t m = nrec - r0 < per ? nrec - r0 : per;
    if (spy_interrupted()) {
      rc = spy_fail(err, SPY_EINTR, "interrupted while loading '%s'", path);
      break;
    }
    if (fseeko(fp, (off_t)(hdrbytes + r0 * recbytes), SEEK_SET) != 0 ||
        fread(raw, recbytes, m, fp) != m) {
      rc = spy_fail(err, SPY_EFORMAT, "'%s' is truncated or unreadable at data record %zu", path,
                    r0 + 1);
      break;
    }
    for (size_t i = 0; i < n; i++) {
      const struct edf_param_struct *p = &h->signalparam[sig[i]];
      double bit = (p->phys_max - p->phys_min) / (p->dig_max - p->dig_min),
             off = p->phys_max / bit - p->dig_max;
      for (size_t r = 0; r < m; r++) {
        const unsigned char *q = raw + r * recbytes + start_at[sig[i]] * (size_t)width;
        for (size_t j = 0; j < spr; j++, q += width) {
          int32_t v =
              width == 2
                  ? (int16_t)(q[0] | q[1] << 8)
                  : (int32_t)((uint32_t)q[0] << 8 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 24) >>
                        8;
          store(buf, o->dtype, (r * spr + j) * n + i, bit * (off + v));
        }
      }
    }
    rc = spy_data_write(d, r0 * spr, m * spr, 0, n, buf, o->dtype, err);
    if (rc == SPY_OK) spy_progress_update(r0 / per + 1);
  }
  if (fp) fclose(fp);
  free(raw);
  free(start_at);
  spy_progress_end(rc == SPY_OK);
  if (rc) goto exit;
  rc = finish(d, labels, n, info, "load_edf", path, err);
  info = NULL;
  if (rc == SPY_OK) {
    *out = d;
    d = NULL;
  }
exit:
  if (handle >= 0) edfclose_file(handle);
  pthread_mutex_unlock(&edf_lock);
  if (d) spy_data_unref(d);
  cJSON_Delete(info);
  spy_strv_free(labels, labels ? n : 0);
  free(sig);
  free(buf);
  free(h);
  return rc;
}

/* ---- BrainVision --------------------------------------------------------------------- */

enum { BV_INT16, BV_INT32, BV_UINT16, BV_FLOAT32 };

typedef struct bvhdr {
  char *datafile, *markerfile;
  bool vectorized;
  int format;
  size_t nch;
  double interval; /* microseconds */
  char **names, **units;
  double *res;
} bvhdr;

static void bv_clear(bvhdr *b)
{
  free(b->datafile);
  free(b->markerfile);
  spy_strv_free(b->names, b->nch);
  spy_strv_free(b->units, b->nch);
  free(b->res);
  memset(b, 0, sizeof *b);
}

/* Trims in place and returns the start. */
static char *trim(char *s)
{
  while (isspace((unsigned char)*s))
    s++;
  size_t n = strlen(s);
  while (n && isspace((unsigned char)s[n - 1]))
    s[--n] = 0;
  return s;
}

/* Splits a comma-separated value into at most max fields ("\1" is a comma). */
static size_t fields(char *v, char **f, size_t max)
{
  size_t n = 0;
  f[n++] = v;
  for (char *p = v; *p && n < max; p++)
    if (*p == ',') {
      *p = 0;
      f[n++] = p + 1;
    }
  for (size_t i = 0; i < n; i++) {
    char *w = f[i];
    for (char *r = f[i]; *r; r++) {
      if (r[0] == '\\' && r[1] == '1') {
        *w++ = ',';
        r++;
      } else
        *w++ = *r;
    }
    *w = 0;
  }
  return n;
}

static bool number(const char *s, double *v)
{
  char *end;
  errno = 0;
  *v = strtod(s, &end);
  return end != s && *trim(end) == 0 && errno == 0 && isfinite(*v);
}

/* Parses the .vhdr text (modified in place). name is for messages. */
static int bv_parse(char *text, const char *name, bvhdr *b, spy_err *err)
{
  memset(b, 0, sizeof *b);
  b->format = -1;
  if (strncmp(text, "Brain Vision Data Exchange Header File", 38) != 0 &&
      strncmp(text, "BrainVision Data Exchange Header File", 36) != 0)
    return spy_fail(err, SPY_EFORMAT,
                    "'%s' is not a BrainVision header (its first line must be 'Brain Vision Data "
                    "Exchange Header File Version 1.0')",
                    name);
  char section[64] = "";
  long declared = -1;
  size_t lineno = 0;
  int rc = SPY_OK;
  for (char *line = text, *next; line && rc == SPY_OK; line = next) {
    lineno++;
    next = strchr(line, '\n');
    if (next) *next++ = 0;
    char *l = trim(line);
    if (!*l || *l == ';') continue;
    if (*l == '[') {
      char *e = strchr(l, ']');
      if (!e)
        return spy_fail(err, SPY_EFORMAT, "'%s' line %zu: unclosed section name", name, lineno);
      *e = 0;
      snprintf(section, sizeof section, "%s", l + 1);
      continue;
    }
    char *eq = strchr(l, '=');
    if (!eq) continue; /* free text (comments section) */
    *eq = 0;
    char *k = trim(l), *v = trim(eq + 1);
    if (strcmp(section, "Common Infos") == 0) {
      if (strcmp(k, "DataFile") == 0) {
        free(b->datafile);
        b->datafile = strdup(v);
      } else if (strcmp(k, "MarkerFile") == 0) {
        free(b->markerfile);
        b->markerfile = strdup(v);
      } else if (strcmp(k, "DataFormat") == 0 && strcmp(v, "BINARY") != 0) {
        rc = spy_fail(err, SPY_ENOTSUP, "'%s': DataFormat=%s is not supported (only BINARY)", name,
                      v);
      } else if (strcmp(k, "DataOrientation") == 0) {
        if (strcmp(v, "VECTORIZED") == 0)
          b->vectorized = true;
        else if (strcmp(v, "MULTIPLEXED") != 0)
          rc = spy_fail(err, SPY_EFORMAT,
                        "'%s': DataOrientation=%s; expected MULTIPLEXED or VECTORIZED", name, v);
      } else if (strcmp(k, "NumberOfChannels") == 0) {
        double x;
        if (declared >= 1)
          rc = spy_fail(err, SPY_EFORMAT, "'%s' line %zu: NumberOfChannels is defined twice", name,
                        lineno);
        else if (!number(v, &x) || x < 1 || x > 100000 || x != floor(x))
          rc = spy_fail(err, SPY_EFORMAT, "'%s': NumberOfChannels=%s is not a positive integer",
                        name, v);
        else
          declared = (long)x;
      } else if (strcmp(k, "SamplingInterval") == 0) {
        if (!number(v, &b->interval) || !(b->interval > 0))
          rc = spy_fail(err, SPY_EFORMAT,
                        "'%s': SamplingInterval=%s is not a positive number (microseconds)", name,
                        v);
        else if (1e6 / b->interval > SPY_MAX_SAMPLERATE)
          rc = spy_fail(err, SPY_EFORMAT,
                        "'%s': SamplingInterval=%s gives a sample rate above %g Hz (microseconds "
                        "are expected)",
                        name, v, SPY_MAX_SAMPLERATE);
      }
    } else if (strcmp(section, "Binary Infos") == 0) {
      if (strcmp(k, "BinaryFormat") == 0) {
        b->format = strcmp(v, "INT_16") == 0          ? BV_INT16
                    : strcmp(v, "INT_32") == 0        ? BV_INT32
                    : strcmp(v, "UINT_16") == 0       ? BV_UINT16
                    : strcmp(v, "IEEE_FLOAT_32") == 0 ? BV_FLOAT32
                                                      : -2;
        if (b->format == -2)
          rc = spy_fail(
              err, SPY_ENOTSUP,
              "'%s': BinaryFormat=%s is not supported (INT_16, INT_32, UINT_16, IEEE_FLOAT_32)",
              name, v);
      } else if (strcmp(k, "UseBigEndianOrder") == 0 && strcmp(v, "YES") == 0) {
        rc = spy_fail(err, SPY_ENOTSUP,
                      "'%s': big-endian data (UseBigEndianOrder=YES) are not supported", name);
      }
    } else if (strcmp(section, "Channel Infos") == 0 && strncmp(k, "Ch", 2) == 0) {
      double idx;
      if (declared < 1) {
        rc = spy_fail(err, SPY_EFORMAT, "'%s' line %zu: channel entries before NumberOfChannels",
                      name, lineno);
        break;
      }
      if (!b->names) {
        b->names = calloc((size_t)declared, sizeof *b->names);
        b->units = calloc((size_t)declared, sizeof *b->units);
        b->res = calloc((size_t)declared, sizeof *b->res);
        if (!b->names || !b->units || !b->res) return spy_fail(err, SPY_ENOMEM, "out of memory");
        b->nch = (size_t)declared;
      }
      if (!number(k + 2, &idx) || idx < 1 || idx > (double)declared || idx != floor(idx)) {
        rc = spy_fail(err, SPY_EFORMAT, "'%s' line %zu: channel '%s' is not one of Ch1..Ch%ld",
                      name, lineno, k, declared);
        break;
      }
      size_t i = (size_t)idx - 1;
      char *f[4] = {"", "", "", ""};
      fields(v, f, 4);
      if (b->names[i]) {
        rc = spy_fail(err, SPY_EFORMAT, "'%s' line %zu: %s is defined twice", name, lineno, k);
        break;
      }
      double r = 1;
      if (*trim(f[2]) && (!number(f[2], &r) || r == 0)) {
        rc = spy_fail(err, SPY_EFORMAT,
                      "'%s' line %zu: resolution '%s' of %s is not a non-zero number", name, lineno,
                      f[2], k);
        break;
      }
      b->names[i] = strdup(f[0]);
      b->units[i] = strdup(*trim(f[3]) ? f[3] : "µV");
      b->res[i] = r;
      if (!b->names[i] || !b->units[i]) return spy_fail(err, SPY_ENOMEM, "out of memory");
    }
  }
  if (rc) return rc;
  if (!b->datafile || !*b->datafile)
    return spy_fail(err, SPY_EFORMAT, "'%s' names no DataFile", name);
  if (declared < 1) return spy_fail(err, SPY_EFORMAT, "'%s' has no NumberOfChannels", name);
  if (!(b->interval > 0)) return spy_fail(err, SPY_EFORMAT, "'%s' has no SamplingInterval", name);
  if (b->format < 0) return spy_fail(err, SPY_EFORMAT, "'%s' has no BinaryFormat", name);
  for (size_t i = 0; i < b->nch || (!b->names && i < 1); i++)
    if (!b->names || !b->names[i])
      return spy_fail(err, SPY_EFORMAT, "'%s': [Channel Infos] lacks Ch%zu (NumberOfChannels=%ld)",
                      name, i + 1, declared);
  return SPY_OK;
}

int spy_brainvision_check_header(const char *text, size_t n, spy_err *err)
{
  char *t = malloc(n + 1);
  if (!t) return spy_fail(err, SPY_ENOMEM, "out of memory");
  memcpy(t, text, n);
  t[n] = 0;
  bvhdr b;
  int rc = bv_parse(t, "<buffer>", &b, err);
  bv_clear(&b);
  free(t);
  return rc;
}

/* path of file named in the header, relative to the header's folder */
static char *sibling(const char *vhdr, const char *name)
{
  if (name[0] == '/') return strdup(name);
  const char *slash = strrchr(vhdr, '/');
  size_t dl = slash ? (size_t)(slash - vhdr + 1) : 0;
  char *p = malloc(dl + strlen(name) + 1);
  if (!p) return NULL;
  memcpy(p, vhdr, dl);
  strcpy(p + dl, name);
  return p;
}

/* The [Marker Infos] of .vmrk text (modified in place) into info.markers. */
static int bv_parse_markers(char *text, const char *path, cJSON *info, spy_err *err)
{
  int rc = SPY_OK;
  cJSON *list = cJSON_AddArrayToObject(info, "markers");
  bool in = false;
  size_t lineno = 0;
  for (char *line = text, *next; line && rc == SPY_OK; line = next) {
    lineno++;
    next = strchr(line, '\n');
    if (next) *next++ = 0;
    char *l = trim(line);
    if (*l == '[') {
      in = strncmp(l, "[Marker Infos]", 14) == 0;
      continue;
    }
    if (!in || !*l || *l == ';' || strncmp(l, "Mk", 2) != 0) continue;
    char *eq = strchr(l, '=');
    if (!eq) continue;
    char *f[6] = {"", "", "", "", "", ""};
    size_t nf = fields(eq + 1, f, 6);
    double pos, len = 1, ch = 0;
    if (nf < 3 || !number(f[2], &pos) || pos < 1 ||
        (nf > 3 && *trim(f[3]) && !number(f[3], &len)) ||
        (nf > 4 && *trim(f[4]) && !number(f[4], &ch))) {
      rc = spy_fail(
          err, SPY_EFORMAT,
          "'%s' line %zu: a marker needs 'type,description,position[,length,channel]' with a "
          "position >= 1",
          path, lineno);
      break;
    }
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "type", trim(f[0]));
    cJSON_AddStringToObject(m, "description", trim(f[1]));
    cJSON_AddNumberToObject(m, "sample", pos - 1);
    cJSON_AddNumberToObject(m, "length", len);
    cJSON_AddNumberToObject(m, "channel", ch);
    if (nf > 5 && *trim(f[5])) cJSON_AddStringToObject(m, "date", trim(f[5]));
    cJSON_AddItemToArray(list, m);
  }
  return rc;
}

static int bv_markers(const char *path, cJSON *info, spy_err *err)
{
  char *text = NULL;
  size_t n = 0;
  int rc = spy_read_file(path, 256u << 20, &text, &n, err);
  if (rc == SPY_OK) rc = bv_parse_markers(text, path, info, err);
  free(text);
  return rc;
}

int spy_brainvision_check_markers(const char *text, size_t n, spy_err *err)
{
  char *t = malloc(n + 1);
  cJSON *info = cJSON_CreateObject();
  int rc = t && info ? SPY_OK : spy_fail(err, SPY_ENOMEM, "out of memory");
  if (rc == SPY_OK) {
    memcpy(t, text, n);
    t[n] = 0;
    rc = bv_parse_markers(t, "<buffer>", info, err);
  }
  cJSON_Delete(info);
  free(t);
  return rc;
}

static double bv_value(const unsigned char *p, int format)
{
  switch (format) {
  case BV_INT16: {
    int16_t x;
    memcpy(&x, p, 2);
    return x;
  }
  case BV_UINT16: {
    uint16_t x;
    memcpy(&x, p, 2);
    return x;
  }
  case BV_INT32: {
    int32_t x;
    memcpy(&x, p, 4);
    return x;
  }
  default: {
    float x;
    memcpy(&x, p, 4);
    return x;
  }
  }
}

int spy_load_brainvision(const char *vhdr, const spy_eeg_opts *o, spy_data **out, char **warnings,
                         spy_err *err)
{
  (void)warnings;
  *out = NULL;
  char *text = NULL, *datapath = NULL;
  size_t tn = 0;
  int rc = spy_read_file(vhdr, 16u << 20, &text, &tn, err);
  if (rc) return rc;
  bvhdr b;
  FILE *f = NULL;
  size_t *pick = NULL;
  char **labels = NULL;
  unsigned char *raw = NULL;
  void *buf = NULL;
  spy_data *d = NULL;
  cJSON *info = NULL;
  size_t n = 0;
  if ((rc = bv_parse(text, vhdr, &b, err))) goto exit;
  pick = calloc(b.nch + o->nchannel + 1, sizeof *pick);
  labels = calloc(b.nch + o->nchannel + 1, sizeof *labels);
  if (!pick || !labels) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto exit;
  }
  if (o->channel) {
    for (size_t i = 0; i < o->nchannel; i++) {
      size_t c = 0;
      while (c < b.nch && strcmp(b.names[c], o->channel[i]) != 0)
        c++;
      if (c == b.nch) {
        rc = spy_fail(err, SPY_EINVAL,
                      "Invalid value of `channel`: '%s'; expected a channel of '%s'", o->channel[i],
                      vhdr);
        goto exit;
      }
      pick[n++] = c;
    }
  } else {
    for (size_t c = 0; c < b.nch; c++)
      pick[n++] = c;
  }
  for (size_t i = 0; i < n; i++)
    if (!(labels[i] = strdup(b.names[pick[i]]))) {
      rc = spy_fail(err, SPY_ENOMEM, "out of memory");
      goto exit;
    }
  datapath = sibling(vhdr, b.datafile);
  /* a missing file keeps the message below (it names the header too) */
  if (datapath && access(datapath, F_OK) == 0 && (rc = spy_check_file(datapath, err))) goto exit;
  if (!datapath || !(f = fopen(datapath, "rb"))) {
    rc = spy_fail(err, datapath ? SPY_ENOENT : SPY_ENOMEM,
                  "cannot open the data file '%s' named by '%s': %s",
                  datapath ? datapath : b.datafile, vhdr, strerror(errno));
    goto exit;
  }
  size_t esz = b.format == BV_INT16 || b.format == BV_UINT16 ? 2 : 4;
  fseeko(f, 0, SEEK_END);
  off_t fsize = ftello(f);
  size_t frame = esz * b.nch;
  if (fsize < 0 || (size_t)fsize % frame != 0) {
    rc =
        spy_fail(err, SPY_EFORMAT,
                 "'%s' holds %lld bytes, not a whole number of samples of %zu channels x %zu bytes "
                 "(truncated, or the header does not describe it)",
                 datapath, (long long)fsize, b.nch, esz);
    goto exit;
  }
  size_t nsamp = (size_t)fsize / frame;
  info = cJSON_CreateObject();
  if (!info) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto exit;
  }
  static const char *const fmts[] = {"INT_16", "INT_32", "UINT_16", "IEEE_FLOAT_32"};
  cJSON_AddStringToObject(info, "BinaryFormat", fmts[b.format]);
  cJSON_AddStringToObject(info, "DataOrientation", b.vectorized ? "VECTORIZED" : "MULTIPLEXED");
  cJSON *units = cJSON_AddArrayToObject(info, "units"),
        *res = cJSON_AddArrayToObject(info, "resolution");
  for (size_t i = 0; i < n; i++) {
    cJSON_AddItemToArray(units, cJSON_CreateString(b.units[pick[i]]));
    cJSON_AddItemToArray(res, cJSON_CreateNumber(b.res[pick[i]]));
  }
  if (b.markerfile && *b.markerfile) {
    char *mp = sibling(vhdr, b.markerfile);
    rc = mp ? bv_markers(mp, info, err) : spy_fail(err, SPY_ENOMEM, "out of memory");
    free(mp);
    if (rc) goto exit;
  }
  if ((rc = start(&d, o->dtype, nsamp, n, 1e6 / b.interval, err))) goto exit;
  raw = malloc(BLOCK * frame);
  buf = malloc(BLOCK * n * spy_dtype_size(o->dtype));
  if (!raw || !buf) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto exit;
  }
  spy_progress_begin(nsamp / BLOCK + 1);
  for (size_t s0 = 0; s0 < nsamp && rc == SPY_OK; s0 += BLOCK) {
    size_t m = nsamp - s0 < BLOCK ? nsamp - s0 : BLOCK;
    if (spy_interrupted()) {
      rc = spy_fail(err, SPY_EINTR, "interrupted while loading '%s'", vhdr);
      break;
    }
    for (size_t i = 0; i < n && rc == SPY_OK; i++) {
      size_t c = pick[i];
      if (b.vectorized) { /* channel c's samples s0.. at c * nsamp + s0 */
        if (fseeko(f, (off_t)((c * nsamp + s0) * esz), SEEK_SET) != 0 || fread(raw, esz, m, f) != m)
          rc = spy_fail(err, SPY_EIO, "cannot read '%s': %s", datapath,
                        strerror(errno ? errno : EIO));
        for (size_t j = 0; rc == SPY_OK && j < m; j++)
          store(buf, o->dtype, j * n + i, bv_value(raw + j * esz, b.format) * b.res[c]);
      } else {
        if (i == 0 &&
            (fseeko(f, (off_t)(s0 * frame), SEEK_SET) != 0 || fread(raw, frame, m, f) != m))
          rc = spy_fail(err, SPY_EIO, "cannot read '%s': %s", datapath,
                        strerror(errno ? errno : EIO));
        for (size_t j = 0; rc == SPY_OK && j < m; j++)
          store(buf, o->dtype, j * n + i, bv_value(raw + j * frame + c * esz, b.format) * b.res[c]);
      }
    }
    if (rc == SPY_OK) rc = spy_data_write(d, s0, m, 0, n, buf, o->dtype, err);
    if (rc == SPY_OK) spy_progress_update(s0 / BLOCK + 1);
  }
  spy_progress_end(rc == SPY_OK);
  if (rc) goto exit;
  rc = finish(d, labels, n, info, "load_brainvision", vhdr, err);
  info = NULL;
  if (rc == SPY_OK) {
    *out = d;
    d = NULL;
  }
exit:
  if (f) fclose(f);
  if (d) spy_data_unref(d);
  cJSON_Delete(info);
  spy_strv_free(labels, n);
  free(pick);
  free(raw);
  free(buf);
  free(datapath);
  free(text);
  bv_clear(&b);
  return rc;
}
