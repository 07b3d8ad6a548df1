/* MAT files: FieldTrip raw structures in, arrays and data objects out (mat.h). */
#include "io/formats/mat.h"

#include <errno.h>
#include <math.h>
#include <matio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/interrupt.h"
#include "core/progress.h"
#include "io/formats/common.h"
#include "io/formats/npy.h"
#include "io/h5.h"

/* ---- matio's messages ------------------------------------------------------- */

static char matio_msg[512];

static void matio_log(int level, char *message)
{
  (void)level;
  snprintf(matio_msg, sizeof matio_msg, "%s", message ? message : "");
}

static void matio_init(void)
{
  static int done;
  if (!done++) Mat_LogInitFunc("spy", matio_log);
  matio_msg[0] = 0;
}

/* ---- the FieldTrip structure, whatever the file version ---------------------- */

typedef struct ftsrc ftsrc;
struct ftsrc {
  const char *path, *name;
  size_t ntrials, nchan;
  size_t *nsamp; /* per trial */
  double *t0;    /* time{k}(1) */
  double tfirst, tlast;
  size_t tn;      /* time{1}: first, last, length (to infer fsample) */
  double fsample; /* NaN when missing */
  char **labels;
  size_t nlabels;
  double *trialinfo; /* ntrials x ticols, C order */
  size_t ticols;
  cJSON *info;
  char *warnings;
  /* reads trial k as nsamp[k] x nchan float32 (C order) */
  int (*read)(ftsrc *s, size_t k, float *buf, spy_err *err);
  void *ctx;
};

static void ftsrc_clear(ftsrc *s)
{
  free(s->nsamp);
  free(s->t0);
  spy_strv_free(s->labels, s->nlabels);
  free(s->trialinfo);
  cJSON_Delete(s->info);
  free(s->warnings);
  memset(s, 0, sizeof *s);
}

/* A column-major rows x cols matrix into info[name]: a number, a list, or a list of rows. */
static void put_matrix(cJSON *info, const char *name, const double *v, size_t rows, size_t cols)
{
  cJSON *j;
  if (rows * cols == 1) {
    j = cJSON_CreateNumber(v[0]);
  } else if (rows == 1 || cols == 1) {
    j = cJSON_CreateDoubleArray(v, (int)(rows * cols));
  } else {
    j = cJSON_CreateArray();
    for (size_t r = 0; j && r < rows; r++) {
      cJSON *row = cJSON_CreateArray();
      for (size_t c = 0; row && c < cols; c++)
        cJSON_AddItemToArray(row, cJSON_CreateNumber(v[c * rows + r]));
      cJSON_AddItemToArray(j, row);
    }
  }
  if (j) cJSON_AddItemToObject(info, name, j);
}

static int build(ftsrc *s, spy_data **out, spy_err *err)
{
  *out = NULL;
  const char *P = s->path, *N = s->name;
  if (s->ntrials == 0)
    return spy_fail(err, SPY_EFORMAT, "'%s': structure '%s' holds no trials", P, N);
  if (s->nlabels != s->nchan)
    return spy_fail(
        err, SPY_EFORMAT,
        "'%s': structure '%s': `label` has %zu entries but the trials have %zu channels", P, N,
        s->nlabels, s->nchan);
  double fs = s->fsample;
  if (isnan(fs)) {
    if (s->tn < 2 || !(s->tlast > s->tfirst))
      return spy_fail(
          err, SPY_EFORMAT,
          "'%s': structure '%s' has no `fsample` and its first time vector cannot give one "
          "(it needs two or more increasing samples)",
          P, N);
    fs = (double)(s->tn - 1) / (s->tlast - s->tfirst);
  }
  if (!(fs > 0 && isfinite(fs)))
    return spy_fail(err, SPY_EFORMAT,
                    "'%s': structure '%s': `fsample` is %g; expected a positive finite number", P,
                    N, fs);
  size_t rows = 0, maxs = 0;
  for (size_t k = 0; k < s->ntrials; k++) {
    rows += s->nsamp[k];
    if (s->nsamp[k] > maxs) maxs = s->nsamp[k];
  }
  spy_data *d = spy_data_new(SPY_ANALOG);
  float *buf = malloc((maxs * s->nchan + 1) * sizeof *buf);
  size_t cols = 3 + s->ticols;
  double *trl = calloc(s->ntrials * cols, sizeof *trl);
  int rc = SPY_OK;
  if (!d || !buf || !trl) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto exit;
  }
  size_t shape[2] = {rows, s->nchan};
  if ((rc = spy_data_create(d, SPY_DT_F32, 2, shape, err))) goto exit;
  d->samplerate = fs;
  spy_progress_begin(s->ntrials);
  size_t row = 0;
  for (size_t k = 0; k < s->ntrials; k++) {
    if (spy_interrupted()) {
      rc = spy_fail(err, SPY_EINTR, "interrupted while loading '%s'", P);
      break;
    }
    if ((rc = s->read(s, k, buf, err))) break;
    if (s->nsamp[k] &&
        (rc = spy_data_write(d, row, s->nsamp[k], 0, s->nchan, buf, SPY_DT_F32, err)))
      break;
    double *r = trl + k * cols;
    r[0] = (double)row;
    row += s->nsamp[k];
    r[1] = (double)row;
    r[2] = rint(s->t0[k] * fs);
    for (size_t c = 0; c < s->ticols; c++)
      r[3 + c] = s->trialinfo[k * s->ticols + c];
    spy_progress_update(k + 1);
  }
  spy_progress_end(rc == SPY_OK);
  if (rc) goto exit;
  if (spy_data_set_trldef(d, trl, s->ntrials, cols) ||
      spy_data_set_channel(d, (const char *const *)s->labels, s->nlabels)) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto exit;
  }
  cJSON_Delete(d->info);
  d->info = s->info;
  s->info = NULL;
  char msg[1024];
  snprintf(msg, sizeof msg, "loaded FieldTrip structure '%s' from '%s'", N, P);
  spy_data_log(d, "load_ft_raw", msg);
  if ((rc = spy_data_sync_meta(d, err))) goto exit;
  *out = d;
  d = NULL;
exit:
  if (d) spy_data_unref(d);
  free(buf);
  free(trl);
  return rc;
}

static bool wanted(const char *name, const char *const *list, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp(list[i], name) == 0) return true;
  return false;
}

/* ---- MAT v5/v6/v7 through matio ---------------------------------------------- */

static size_t mv_numel(const matvar_t *v)
{
  size_t n = 1;
  for (int i = 0; i < v->rank; i++)
    n *= v->dims[i];
  return n;
}

/* Bytes per element of a numeric class (0 for others). */
static size_t class_size(enum matio_classes c)
{
  switch (c) {
  case MAT_C_DOUBLE:
  case MAT_C_INT64:
  case MAT_C_UINT64:
    return 8;
  case MAT_C_SINGLE:
  case MAT_C_INT32:
  case MAT_C_UINT32:
    return 4;
  case MAT_C_INT16:
  case MAT_C_UINT16:
    return 2;
  case MAT_C_INT8:
  case MAT_C_UINT8:
    return 1;
  default:
    return 0;
  }
}

/* The data buffer holds numel elements of data_size bytes (damaged files can
** claim more elements than matio read). */
static bool mv_filled(const matvar_t *v, size_t elsize)
{
  size_t n = 1;
  for (int i = 0; i < v->rank; i++) {
    if (v->dims[i] && n > SIZE_MAX / 16 / v->dims[i]) return false;
    n *= v->dims[i];
  }
  return v->data && elsize && (size_t)v->data_size == elsize && v->nbytes >= n * elsize;
}

static bool mv_numeric(const matvar_t *v)
{
  return v && !v->isComplex && class_size(v->class_type) && mv_filled(v, class_size(v->class_type));
}

static double mv_get(const matvar_t *v, size_t i)
{
  const void *p = v->data;
  switch (v->class_type) {
  case MAT_C_DOUBLE:
    return ((const double *)p)[i];
  case MAT_C_SINGLE:
    return ((const float *)p)[i];
  case MAT_C_INT8:
    return ((const int8_t *)p)[i];
  case MAT_C_UINT8:
    return ((const uint8_t *)p)[i];
  case MAT_C_INT16:
    return ((const int16_t *)p)[i];
  case MAT_C_UINT16:
    return ((const uint16_t *)p)[i];
  case MAT_C_INT32:
    return ((const int32_t *)p)[i];
  case MAT_C_UINT32:
    return ((const uint32_t *)p)[i];
  case MAT_C_INT64:
    return (double)((const int64_t *)p)[i];
  case MAT_C_UINT64:
    return (double)((const uint64_t *)p)[i];
  default:
    return NAN;
  }
}

/* Row r of a char matrix (all of a 1 x L row); trailing blanks dropped. */
static char *mv_string(const matvar_t *v, size_t r)
{
  if (!v || v->class_type != MAT_C_CHAR || v->rank != 2 || !mv_filled(v, (size_t)v->data_size) ||
      (v->data_size != 1 && v->data_size != 2 && v->data_size != 4) || r >= v->dims[0])
    return NULL;
  size_t rows = v->dims[0], cols = v->dims[1];
  char *s = malloc(cols + 1);
  if (!s) return NULL;
  for (size_t c = 0; c < cols; c++) {
    size_t i = c * rows + r;
    unsigned ch = v->data_size == 2   ? ((const uint16_t *)v->data)[i]
                  : v->data_size == 4 ? (unsigned)((const uint32_t *)v->data)[i]
                                      : ((const uint8_t *)v->data)[i];
    s[c] = ch < 128 ? (char)ch : '?';
  }
  size_t n = cols;
  while (n && s[n - 1] == ' ')
    n--;
  s[n] = 0;
  return s;
}

static matvar_t *mv_cell(matvar_t *c, size_t k)
{
  if (!c || c->class_type != MAT_C_CELL || !c->data || k >= mv_numel(c) ||
      c->nbytes < (k + 1) * sizeof(matvar_t *))
    return NULL;
  return ((matvar_t **)c->data)[k];
}

/* Field `name` of a 1 x 1 struct (checked by hand: matio trusts damaged files). */
static matvar_t *mv_field(matvar_t *sv, const char *name)
{
  if (!sv || sv->class_type != MAT_C_STRUCT || !sv->data || mv_numel(sv) < 1) return NULL;
  unsigned nf = Mat_VarGetNumberOfFields(sv);
  char *const *names = Mat_VarGetStructFieldnames(sv);
  if (!names || sv->nbytes < nf * sizeof(matvar_t *)) return NULL;
  for (unsigned i = 0; i < nf; i++)
    if (names[i] && strcmp(names[i], name) == 0) return ((matvar_t **)sv->data)[i];
  return NULL;
}

static int m5_read(ftsrc *s, size_t k, float *buf, spy_err *err)
{
  (void)err;
  matvar_t *t = mv_cell(s->ctx, k);
  size_t n = s->nsamp[k] * s->nchan; /* nchan x nsamp column-major == nsamp x nchan C order */
  for (size_t i = 0; i < n; i++)
    buf[i] = (float)mv_get(t, i);
  return SPY_OK;
}

static bool is_ft_v5(matvar_t *sv)
{
  return sv && sv->class_type == MAT_C_STRUCT && mv_field(sv, "trial") && mv_field(sv, "time") &&
         mv_field(sv, "label");
}

static int m5_labels(ftsrc *s, matvar_t *lab, spy_err *err)
{
  size_t n = lab->class_type == MAT_C_CELL   ? mv_numel(lab)
             : lab->class_type == MAT_C_CHAR ? lab->dims[0]
                                             : 0;
  if (!n && lab->class_type != MAT_C_CELL)
    return spy_fail(err, SPY_EFORMAT,
                    "'%s': structure '%s': `label` must be a cell array of strings", s->path,
                    s->name);
  s->labels = calloc(n ? n : 1, sizeof *s->labels);
  if (!s->labels) return spy_fail(err, SPY_ENOMEM, "out of memory");
  s->nlabels = n;
  for (size_t i = 0; i < n; i++) {
    matvar_t *e = lab->class_type == MAT_C_CELL ? mv_cell(lab, i) : lab;
    s->labels[i] = e ? mv_string(e, lab->class_type == MAT_C_CELL ? 0 : i) : NULL;
    if (!s->labels[i] && e && e->class_type == MAT_C_CHAR) s->labels[i] = strdup("");
    if (!s->labels[i])
      return spy_fail(err, SPY_EFORMAT, "'%s': structure '%s': `label`{%zu} is not a string",
                      s->path, s->name, i + 1);
  }
  return SPY_OK;
}

static int m5_struct(const char *path, matvar_t *sv, const spy_ft_opts *o, spy_data **out,
                     char **warnings, spy_err *err)
{
  ftsrc s = {0};
  s.path = path;
  s.name = sv->name;
  s.fsample = NAN;
  int rc = SPY_OK;
  matvar_t *trial = mv_field(sv, "trial"), *time = mv_field(sv, "time");
  matvar_t *lab = mv_field(sv, "label");
  if (trial->class_type != MAT_C_CELL || time->class_type != MAT_C_CELL) {
    rc = spy_fail(err, SPY_EFORMAT, "'%s': structure '%s': `trial` and `time` must be cell arrays",
                  path, s.name);
    goto exit;
  }
  s.ntrials = mv_numel(trial);
  if (mv_numel(time) != s.ntrials) {
    rc = spy_fail(err, SPY_EFORMAT, "'%s': structure '%s': `time` has %zu cells, `trial` %zu", path,
                  s.name, mv_numel(time), s.ntrials);
    goto exit;
  }
  s.nsamp = calloc(s.ntrials + 1, sizeof *s.nsamp);
  s.t0 = calloc(s.ntrials + 1, sizeof *s.t0);
  s.info = cJSON_CreateObject();
  if (!s.nsamp || !s.t0 || !s.info) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto exit;
  }
  for (size_t k = 0; k < s.ntrials; k++) {
    matvar_t *t = mv_cell(trial, k), *tv = mv_cell(time, k);
    if (!t || !mv_numeric(t) || t->rank != 2) {
      rc = spy_fail(
          err, SPY_EFORMAT,
          "'%s': structure '%s': trial{%zu} is not a real numeric channels x samples matrix", path,
          s.name, k + 1);
      goto exit;
    }
    if (k == 0) s.nchan = t->dims[0];
    if (t->dims[0] != s.nchan) {
      rc = spy_fail(err, SPY_EFORMAT,
                    "'%s': structure '%s': trial{%zu} has %zu channels, trial{1} %zu", path, s.name,
                    k + 1, t->dims[0], s.nchan);
      goto exit;
    }
    s.nsamp[k] = t->dims[1];
    if (!tv || !mv_numeric(tv) || mv_numel(tv) != s.nsamp[k]) {
      rc = spy_fail(err, SPY_EFORMAT,
                    "'%s': structure '%s': time{%zu} must hold %zu numbers (one per sample)", path,
                    s.name, k + 1, s.nsamp[k]);
      goto exit;
    }
    s.t0[k] = s.nsamp[k] ? mv_get(tv, 0) : 0;
    if (k == 0 && s.nsamp[0]) {
      s.tfirst = mv_get(tv, 0);
      s.tlast = mv_get(tv, s.nsamp[0] - 1);
      s.tn = s.nsamp[0];
    }
  }
  if ((rc = m5_labels(&s, lab, err))) goto exit;
  matvar_t *fsv = mv_field(sv, "fsample");
  if (fsv && mv_numeric(fsv) && mv_numel(fsv) == 1) s.fsample = mv_get(fsv, 0);
  matvar_t *ti = mv_field(sv, "trialinfo");
  if (ti && mv_numeric(ti) && ti->rank == 2 && ti->dims[0] == s.ntrials && ti->dims[1] > 0) {
    s.ticols = ti->dims[1];
    s.trialinfo = malloc(s.ntrials * s.ticols * sizeof *s.trialinfo);
    if (!s.trialinfo) {
      rc = spy_fail(err, SPY_ENOMEM, "out of memory");
      goto exit;
    }
    for (size_t k = 0; k < s.ntrials; k++)
      for (size_t c = 0; c < s.ticols; c++)
        s.trialinfo[k * s.ticols + c] = mv_get(ti, c * s.ntrials + k);
  } else if (ti && mv_numel(ti) > 0) {
    spy_warn_append(
        warnings,
        "'%s': structure '%s': `trialinfo` is not a numeric matrix with one row per trial; ignored",
        path, s.name);
  }
  for (size_t i = 0; i < o->ninclude; i++) {
    matvar_t *f = mv_field(sv, o->include[i]);
    if (!f) {
      spy_warn_append(warnings, "Could not find additional field %s in %s", o->include[i], s.name);
    } else if (mv_numeric(f) && f->rank == 2) {
      double *v = malloc((mv_numel(f) ? mv_numel(f) : 1) * sizeof *v);
      if (!v) {
        rc = spy_fail(err, SPY_ENOMEM, "out of memory");
        goto exit;
      }
      for (size_t j = 0; j < mv_numel(f); j++)
        v[j] = mv_get(f, j);
      put_matrix(s.info, o->include[i], v, f->dims[0], f->dims[1]);
      free(v);
    } else if (f->class_type == MAT_C_CHAR && f->rank == 2 && f->dims[0] <= 1) {
      char *str = f->dims[0] ? mv_string(f, 0) : strdup("");
      if (str) cJSON_AddStringToObject(s.info, o->include[i], str);
      free(str);
    } else if (f->class_type == MAT_C_CELL) {
      cJSON *a = cJSON_CreateArray();
      bool ok = a != NULL;
      for (size_t j = 0; ok && j < mv_numel(f); j++) {
        matvar_t *e = mv_cell(f, j);
        char *str = e ? mv_string(e, 0) : NULL;
        ok = str != NULL;
        if (ok) cJSON_AddItemToArray(a, cJSON_CreateString(str));
        free(str);
      }
      if (ok)
        cJSON_AddItemToObject(s.info, o->include[i], a);
      else {
        cJSON_Delete(a);
        spy_warn_append(warnings,
                        "Could not read additional field %s: only strings, numeric arrays and "
                        "cells of strings are supported",
                        o->include[i]);
      }
    } else {
      spy_warn_append(warnings,
                      "Could not read additional field %s: only strings, numeric arrays and cells "
                      "of strings are supported",
                      o->include[i]);
    }
  }
  s.read = m5_read;
  s.ctx = trial;
  rc = build(&s, out, err);
exit:
  ftsrc_clear(&s);
  return rc;
}

static int v5_open(const char *path, mat_t **mat, spy_err *err)
{
  matio_init();
  *mat = Mat_Open(path, MAT_ACC_RDONLY);
  if (!*mat)
    return spy_fail(err, SPY_EFORMAT, "'%s' is not a MAT file matio can read%s%s", path,
                    matio_msg[0] ? ": " : "", matio_msg);
  if (Mat_GetVersion(*mat) != MAT_FT_MAT5) {
    Mat_Close(*mat);
    *mat = NULL;
    return spy_fail(err, SPY_ENOTSUP,
                    "'%s' is a MAT v4 file, which cannot hold FieldTrip structures", path);
  }
  return SPY_OK;
}

/* Every root variable (info only), FieldTrip structs named in r. */
static int v5_list(const char *path, spy_ft_result *r, spy_err *err)
{
  mat_t *mat = NULL;
  int rc = v5_open(path, &mat, err);
  if (rc) return rc;
  matvar_t *v;
  while ((v = Mat_VarReadNextInfo(mat)) != NULL) {
    if (is_ft_v5(v)) {
      char **nn = realloc(r->names, (r->n + 1) * sizeof *nn);
      if (!nn || !(nn[r->n] = strdup(v->name))) {
        if (nn) r->names = nn;
        Mat_VarFree(v);
        rc = spy_fail(err, SPY_ENOMEM, "out of memory");
        break;
      }
      r->names = nn;
      r->n++;
    }
    Mat_VarFree(v);
  }
  Mat_Close(mat);
  return rc;
}

static int v5_load(const char *path, const spy_ft_opts *o, spy_ft_result *r, spy_err *err)
{
  mat_t *mat = NULL;
  int rc = v5_open(path, &mat, err);
  if (rc) return rc;
  for (size_t i = 0; i < r->n && rc == SPY_OK; i++) {
    matvar_t *sv = Mat_VarRead(mat, r->names[i]);
    if (!sv)
      rc = spy_fail(err, SPY_EFORMAT, "'%s': cannot read structure '%s'%s%s", path, r->names[i],
                    matio_msg[0] ? ": " : "", matio_msg);
    else
      rc = m5_struct(path, sv, o, &r->objs[i], &r->warnings, err);
    Mat_VarFree(sv);
  }
  Mat_Close(mat);
  return rc;
}

/* ---- MAT v7.3 (HDF5), read trial by trial -------------------------------------- */

/* The MATLAB_class attribute of an object ("" when none). */
static void h5class(hid_t obj, char *out, size_t n)
{
  out[0] = 0;
  if (H5Aexists(obj, "MATLAB_class") <= 0) return;
  hid_t a = H5Aopen(obj, "MATLAB_class", H5P_DEFAULT), t = H5Aget_type(a);
  if (a >= 0 && t >= 0 && H5Tget_class(t) == H5T_STRING && !H5Tis_variable_str(t)) {
    size_t len = H5Tget_size(t);
    char *s = calloc(len + 1, 1);
    if (s && H5Aread(a, t, s) >= 0) snprintf(out, n, "%s", s);
    free(s);
  }
  spy_h5_close_type(t);
  spy_h5_close_attr(a);
}

static bool h5empty(hid_t obj)
{
  if (H5Aexists(obj, "MATLAB_empty") <= 0) return false;
  hid_t a = H5Aopen(obj, "MATLAB_empty", H5P_DEFAULT);
  unsigned char v = 0;
  if (a >= 0) H5Aread(a, H5T_NATIVE_UCHAR, &v);
  spy_h5_close_attr(a);
  return v != 0;
}

/* Dims of a dataset (HDF5 order, rank <= 2 padded with 1); numel returned. */
static size_t h5dims(hid_t ds, size_t dims[2])
{
  dims[0] = dims[1] = 1;
  hid_t sp = H5Dget_space(ds);
  int r = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
  hsize_t d[8] = {0};
  size_t n = 0;
  if (r >= 0 && r <= 8) {
    H5Sget_simple_extent_dims(sp, d, NULL);
    n = 1;
    for (int i = 0; i < r; i++)
      n *= (size_t)d[i];
    if (r == 1) dims[1] = (size_t)d[0];
    if (r == 2) {
      dims[0] = (size_t)d[0];
      dims[1] = (size_t)d[1];
    }
    if (r > 2) n = 0;
  }
  spy_h5_close_space(sp);
  return h5empty(ds) ? 0 : n;
}

/* The object references of a cell dataset (caller frees). */
static int h5refs(hid_t g, const char *field, const char *path, const char *sname,
                  hobj_ref_t **refs, size_t *n, spy_err *err)
{
  *refs = NULL;
  *n = 0;
  hid_t ds = H5Dopen2(g, field, H5P_DEFAULT), t = ds >= 0 ? H5Dget_type(ds) : -1;
  int rc = SPY_OK;
  size_t dims[2];
  if (ds < 0 || t < 0 || H5Tget_class(t) != H5T_REFERENCE) {
    rc = spy_fail(err, SPY_EFORMAT, "'%s': structure '%s': `%s` must be a cell array", path, sname,
                  field);
    goto exit;
  }
  *n = h5dims(ds, dims);
  *refs = malloc((*n ? *n : 1) * sizeof **refs);
  if (!*refs)
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
  else if (*n && H5Dread(ds, H5T_STD_REF_OBJ, H5S_ALL, H5S_ALL, H5P_DEFAULT, *refs) < 0)
    rc =
        spy_h5_fail(err, SPY_EFORMAT, "'%s': structure '%s': cannot read `%s`", path, sname, field);
exit:
  spy_h5_close_type(t);
  spy_h5_close_dset(ds);
  if (rc) {
    free(*refs);
    *refs = NULL;
  }
  return rc;
}

/* Whole numeric dataset as doubles (HDF5 C order == MATLAB column-major). */
static int h5doubles(hid_t ds, double **v, size_t dims[2], size_t *n)
{
  *n = h5dims(ds, dims);
  *v = malloc((*n ? *n : 1) * sizeof **v);
  if (!*v) return SPY_ENOMEM;
  if (*n && H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, *v) < 0) {
    free(*v);
    *v = NULL;
    return SPY_EFORMAT;
  }
  return SPY_OK;
}

/* A MATLAB char dataset (uint16 codes) as a string. */
static char *h5string(hid_t ds)
{
  double *v = NULL;
  size_t dims[2], n;
  if (h5doubles(ds, &v, dims, &n)) return NULL;
  char *s = malloc(n + 1);
  for (size_t i = 0; s && i < n; i++)
    s[i] = v[i] >= 0 && v[i] < 128 ? (char)v[i] : '?';
  if (s) s[n] = 0;
  free(v);
  return s;
}

static bool h5isnumeric(hid_t ds)
{
  hid_t t = H5Dget_type(ds);
  H5T_class_t c = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
  spy_h5_close_type(t);
  return c == H5T_FLOAT || c == H5T_INTEGER;
}

typedef struct {
  hid_t file;
  hobj_ref_t *trials;
} h5ctx;

static int h5_read(ftsrc *s, size_t k, float *buf, spy_err *err)
{
  h5ctx *c = s->ctx;
  if (!s->nsamp[k]) return SPY_OK;
  spy_h5_lock();
  hid_t ds = H5Rdereference2(c->file, H5P_DEFAULT, H5R_OBJECT, &c->trials[k]);
  int rc = SPY_OK;
  if (ds < 0 || H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
    rc = spy_h5_fail(err, SPY_EFORMAT, "'%s': structure '%s': cannot read trial{%zu}", s->path,
                     s->name, k + 1);
  spy_h5_close_dset(ds);
  spy_h5_unlock();
  return rc;
}

static bool h5is_ft(hid_t f, const char *name)
{
  if (name[0] == '#') return false;
  H5O_info_t oi;
  if (H5Oget_info_by_name(f, name, &oi, H5P_DEFAULT) < 0 || oi.type != H5O_TYPE_GROUP) return false;
  hid_t g = H5Gopen2(f, name, H5P_DEFAULT);
  char cls[32];
  h5class(g, cls, sizeof cls);
  bool ok = strcmp(cls, "struct") == 0 && H5Lexists(g, "trial", H5P_DEFAULT) > 0 &&
            H5Lexists(g, "time", H5P_DEFAULT) > 0 && H5Lexists(g, "label", H5P_DEFAULT) > 0;
  H5Gclose(g);
  return ok;
}

static herr_t h5_addname(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
  (void)info;
  spy_ft_result *r = data;
  if (!h5is_ft(g, name)) return 0;
  char **nn = realloc(r->names, (r->n + 1) * sizeof *nn);
  if (!nn) return -1;
  r->names = nn;
  if (!(nn[r->n] = strdup(name))) return -1;
  r->n++;
  return 0;
}

static int h5_struct(const char *path, hid_t f, const char *name, const spy_ft_opts *o,
                     spy_data **out, char **warnings, spy_err *err)
{
  ftsrc s = {0};
  s.path = path;
  s.name = name;
  s.fsample = NAN;
  h5ctx c = {f, NULL};
  hobj_ref_t *times = NULL, *labs = NULL;
  size_t ntime = 0, nlab = 0, dims[2];
  double *v = NULL;
  int rc = SPY_OK;
  hid_t g = H5Gopen2(f, name, H5P_DEFAULT), ds = -1;
  if (g < 0) {
    rc = spy_h5_fail(err, SPY_EFORMAT, "'%s': cannot open structure '%s'", path, name);
    goto exit;
  }
  if ((rc = h5refs(g, "trial", path, name, &c.trials, &s.ntrials, err))) goto exit;
  if ((rc = h5refs(g, "time", path, name, &times, &ntime, err))) goto exit;
  if ((rc = h5refs(g, "label", path, name, &labs, &nlab, err))) goto exit;
  if (ntime != s.ntrials) {
    rc = spy_fail(err, SPY_EFORMAT, "'%s': structure '%s': `time` has %zu cells, `trial` %zu", path,
                  name, ntime, s.ntrials);
    goto exit;
  }
  s.nsamp = calloc(s.ntrials + 1, sizeof *s.nsamp);
  s.t0 = calloc(s.ntrials + 1, sizeof *s.t0);
  s.labels = calloc(nlab + 1, sizeof *s.labels);
  s.info = cJSON_CreateObject();
  if (!s.nsamp || !s.t0 || !s.labels || !s.info) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto exit;
  }
  for (size_t k = 0; k < s.ntrials; k++) {
    ds = H5Rdereference2(f, H5P_DEFAULT, H5R_OBJECT, &c.trials[k]);
    size_t n = ds >= 0 && h5isnumeric(ds) ? h5dims(ds, dims) : 0;
    if (ds < 0 || (!h5isnumeric(ds) && !h5empty(ds))) {
      rc = spy_fail(err, SPY_EFORMAT,
                    "'%s': structure '%s': trial{%zu} is not a numeric channels x samples matrix",
                    path, name, k + 1);
      goto exit;
    }
    if (!n && !h5empty(ds)) {
      rc = spy_fail(err, SPY_EFORMAT,
                    "'%s': structure '%s': trial{%zu} is not a 2-d channels x samples matrix", path,
                    name, k + 1);
      goto exit;
    }
    size_t nch = n ? dims[1] : 0, ns = n ? dims[0] : 0; /* HDF5 (samples, channels) */
    hid_t ft = H5Dget_type(ds);
    double isz = ft >= 0 ? (double)H5Tget_size(ft) : 8; /* the stored dtype, as Syncopy's check */
    spy_h5_close_type(ft);
    if (k == 0) s.nchan = nch;
    if (nch != s.nchan && ns) {
      rc = spy_fail(err, SPY_EFORMAT,
                    "'%s': structure '%s': trial{%zu} has %zu channels, trial{1} %zu", path, name,
                    k + 1, nch, s.nchan);
      goto exit;
    }
    s.nsamp[k] = ns;
    double mb = (double)ns * (double)s.nchan * isz / 1e6;
    if (mb >= 0.4 * o->mem_use) {
      rc = spy_fail(err, SPY_EINVAL,
                    "Invalid value of `mem_use`: '%g'; expected %g or more MB (trial{%zu} of '%s' "
                    "needs %.1f MB)",
                    o->mem_use, ceil(2.5 * mb), k + 1, name, mb);
      goto exit;
    }
    spy_h5_close_dset(ds);
    ds = H5Rdereference2(f, H5P_DEFAULT, H5R_OBJECT, &times[k]);
    size_t tn = 0;
    if (ds < 0 || h5doubles(ds, &v, dims, &tn) || tn != ns) {
      rc = spy_fail(err, SPY_EFORMAT,
                    "'%s': structure '%s': time{%zu} must hold %zu numbers (one per sample)", path,
                    name, k + 1, ns);
      goto exit;
    }
    s.t0[k] = tn ? v[0] : 0;
    if (k == 0 && tn) {
      s.tfirst = v[0];
      s.tlast = v[tn - 1];
      s.tn = tn;
    }
    free(v);
    v = NULL;
    spy_h5_close_dset(ds);
    ds = -1;
  }
  for (size_t i = 0; i < nlab; i++) {
    ds = H5Rdereference2(f, H5P_DEFAULT, H5R_OBJECT, &labs[i]);
    s.labels[i] = ds >= 0 ? (h5empty(ds) ? strdup("") : h5string(ds)) : NULL;
    spy_h5_close_dset(ds);
    ds = -1;
    if (!s.labels[i]) {
      s.nlabels = i;
      rc = spy_fail(err, SPY_EFORMAT, "'%s': structure '%s': `label`{%zu} is not a string", path,
                    name, i + 1);
      goto exit;
    }
  }
  s.nlabels = nlab;
  if (H5Lexists(g, "fsample", H5P_DEFAULT) > 0 && (ds = H5Dopen2(g, "fsample", H5P_DEFAULT)) >= 0) {
    size_t n = 0;
    if (h5isnumeric(ds) && !h5doubles(ds, &v, dims, &n) && n == 1) s.fsample = v[0];
    free(v);
    v = NULL;
    spy_h5_close_dset(ds);
    ds = -1;
  }
  if (H5Lexists(g, "trialinfo", H5P_DEFAULT) > 0 &&
      (ds = H5Dopen2(g, "trialinfo", H5P_DEFAULT)) >= 0) {
    size_t n = 0;
    /* MATLAB ntrials x k is HDF5 (k, ntrials) */
    if (h5isnumeric(ds) && !h5doubles(ds, &v, dims, &n) && n && dims[1] == s.ntrials) {
      s.ticols = dims[0];
      s.trialinfo = malloc(n * sizeof *s.trialinfo);
      if (!s.trialinfo) {
        rc = spy_fail(err, SPY_ENOMEM, "out of memory");
        goto exit;
      }
      for (size_t k = 0; k < s.ntrials; k++) /* (k, ntrials) -> trials x columns */
        for (size_t c = 0; c < s.ticols; c++)
          s.trialinfo[k * s.ticols + c] = v[c * s.ntrials + k];
    } else if (n) {
      spy_warn_append(warnings,
                      "'%s': structure '%s': `trialinfo` is not a numeric matrix with one row per "
                      "trial; ignored",
                      path, name);
    }
    free(v);
    v = NULL;
    spy_h5_close_dset(ds);
    ds = -1;
  }
  for (size_t i = 0; i < o->ninclude; i++) {
    const char *fld = o->include[i];
    H5O_info_t oi;
    if (H5Lexists(g, fld, H5P_DEFAULT) <= 0 || H5Oget_info_by_name(g, fld, &oi, H5P_DEFAULT) < 0) {
      spy_warn_append(warnings, "Could not find additional field %s in %s", fld, name);
      continue;
    }
    if (oi.type != H5O_TYPE_DATASET || (ds = H5Dopen2(g, fld, H5P_DEFAULT)) < 0) {
      spy_warn_append(warnings,
                      "Could not read additional field %s: only simple fields holding strings or "
                      "numeric arrays are supported",
                      fld);
      continue;
    }
    char cls[32];
    h5class(ds, cls, sizeof cls);
    size_t n = 0;
    if (strcmp(cls, "char") == 0) {
      char *str = h5empty(ds) ? strdup("") : h5string(ds);
      if (str) cJSON_AddStringToObject(s.info, fld, str);
      free(str);
    } else if (h5isnumeric(ds) && !h5doubles(ds, &v, dims, &n)) {
      if (n)
        put_matrix(s.info, fld, v, dims[1], dims[0]); /* MATLAB rows = HDF5 dims[1] */
      else
        cJSON_AddItemToObject(s.info, fld, cJSON_CreateArray());
      free(v);
      v = NULL;
    } else {
      spy_warn_append(warnings,
                      "Could not read additional field %s: only simple fields holding strings or "
                      "numeric arrays are supported",
                      fld);
    }
    spy_h5_close_dset(ds);
    ds = -1;
  }
  s.read = h5_read;
  s.ctx = &c;
  spy_h5_unlock(); /* build reads trial by trial, each under the lock */
  rc = build(&s, out, err);
  spy_h5_lock();
exit:
  free(v);
  spy_h5_close_dset(ds);
  if (g >= 0) H5Gclose(g);
  free(c.trials);
  free(times);
  free(labs);
  if (s.warnings) spy_warn_append(warnings, "%s", s.warnings);
  ftsrc_clear(&s);
  return rc;
}

static hid_t h5_open(const char *path, spy_err *err)
{
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) spy_h5_fail(err, SPY_EFORMAT, "'%s' (MAT v7.3) cannot be opened as HDF5", path);
  return f;
}

/* ---- entry points ------------------------------------------------------------ */

/* 73 for HDF5-based files, 5 for v5/v6/v7, 0 otherwise. */
static int mat_version(const char *path, spy_err *err)
{
  int rc0 = spy_check_file(path, err);
  if (rc0) return rc0;
  FILE *fp = fopen(path, "rb");
  if (!fp)
    return spy_fail(err, errno == ENOENT ? SPY_ENOENT : SPY_EIO, "cannot open '%s': %s", path,
                    strerror(errno));
  char head[128] = {0};
  size_t n = fread(head, 1, sizeof head, fp);
  fclose(fp);
  if (n >= 10 && memcmp(head, "MATLAB 7.3", 10) == 0) return 73;
  spy_h5_lock();
  htri_t h5 = H5Fis_hdf5(path);
  H5Eclear2(H5E_DEFAULT);
  spy_h5_unlock();
  if (h5 > 0) return 73;
  if (n >= 10 && memcmp(head, "MATLAB ", 7) == 0) return 5;
  return spy_fail(err, SPY_EFORMAT, "'%s' is not a recognizable .mat file (no 'MATLAB' header)",
                  path);
}

int spy_ft_list(const char *path, spy_ft_result *r, spy_err *err)
{
  memset(r, 0, sizeof *r);
  int v = mat_version(path, err);
  if (v < 0) return v;
  snprintf(r->version, sizeof r->version, "%s", v == 73 ? "7.3" : "5.0");
  if (v == 5) return v5_list(path, r, err);
  spy_h5_lock();
  hid_t f = h5_open(path, err);
  int rc = f < 0 ? SPY_EFORMAT : SPY_OK;
  if (f >= 0 && H5Literate(f, H5_INDEX_CRT_ORDER, H5_ITER_INC, NULL, h5_addname, r) < 0) {
    H5Eclear2(H5E_DEFAULT);
    /* files without creation order tracking: by name */
    spy_strv_free(r->names, r->n);
    r->names = NULL;
    r->n = 0;
    if (H5Literate(f, H5_INDEX_NAME, H5_ITER_INC, NULL, h5_addname, r) < 0)
      rc = spy_h5_fail(err, SPY_EFORMAT, "'%s': cannot list the variables", path);
  }
  spy_h5_close_file(f);
  spy_h5_unlock();
  return rc;
}

int spy_load_ft_raw(const char *path, const spy_ft_opts *o, spy_ft_result *r, spy_err *err)
{
  if (!(o->mem_use >= 1))
    return spy_fail(err, SPY_EINVAL,
                    "Invalid value of `mem_use`: '%g'; expected value to be greater or equals 1",
                    o->mem_use);
  int rc = spy_ft_list(path, r, err);
  if (rc) return rc;
  bool v73 = strcmp(r->version, "7.3") == 0;
  if (!v73 && o->mem_use < 2000)
    return spy_fail(
        err, SPY_EINVAL,
        "Invalid value of `mem_use`: '%g'; expected 2000 or more MB (MAT-File version < 7.3 "
        "does not support lazy loading)",
        o->mem_use);
  if (r->n == 0)
    return spy_fail(
        err, SPY_EFORMAT,
        "'%s' holds no FieldTrip raw structure (a struct with fields time, trial, label)", path);
  if (o->select) { /* keep the selected ones, in the order asked */
    char **keep = calloc(o->nselect + 1, sizeof *keep);
    size_t nk = 0;
    if (!keep) return spy_fail(err, SPY_ENOMEM, "out of memory");
    for (size_t i = 0; i < o->nselect; i++) {
      if (!wanted(o->select[i], (const char *const *)r->names, r->n)) {
        spy_warn_append(&r->warnings, "Could not find structure `%s` in %s", o->select[i], path);
        continue;
      }
      if (wanted(o->select[i], (const char *const *)keep, nk)) continue;
      keep[nk] = strdup(o->select[i]);
      if (!keep[nk]) {
        spy_strv_free(keep, nk);
        return spy_fail(err, SPY_ENOMEM, "out of memory");
      }
      nk++;
    }
    spy_strv_free(r->names, r->n);
    r->names = keep;
    r->n = nk;
  }
  r->objs = calloc(r->n + 1, sizeof *r->objs);
  if (!r->objs) return spy_fail(err, SPY_ENOMEM, "out of memory");
  if (!v73) return v5_load(path, o, r, err);
  spy_h5_lock();
  hid_t f = h5_open(path, err);
  rc = f < 0 ? SPY_EFORMAT : SPY_OK;
  for (size_t i = 0; i < r->n && rc == SPY_OK; i++)
    rc = h5_struct(path, f, r->names[i], o, &r->objs[i], &r->warnings, err);
  spy_h5_close_file(f);
  spy_h5_unlock();
  return rc;
}

/* ---- writing ------------------------------------------------------------------- */

static matvar_t *mk_string(const char *s)
{
  size_t dims[2] = {1, strlen(s)};
  return Mat_VarCreate(NULL, MAT_C_CHAR, MAT_T_UTF8, 2, dims, (void *)s, 0);
}

static matvar_t *mk_doubles(const double *v, size_t rows, size_t cols)
{
  size_t dims[2] = {rows, cols};
  return Mat_VarCreate(NULL, MAT_C_DOUBLE, MAT_T_DOUBLE, 2, dims, (void *)v, 0);
}

static matvar_t *mk_cell(size_t rows, size_t cols)
{
  size_t dims[2] = {rows, cols};
  matvar_t **cells = calloc(rows * cols + 1, sizeof *cells);
  if (!cells) return NULL;
  matvar_t *c = Mat_VarCreate(NULL, MAT_C_CELL, MAT_T_CELL, 2, dims, cells, 0);
  free(cells);
  return c;
}

/* An n-d array in column-major order with the array's own shape (so MATLAB
** sees the same rows x columns); 0-d and 1-d arrays become 1 x n. */
static matvar_t *mk_array(const char *name, const spy_array *a)
{
  size_t dims[SPY_MAXDIM];
  int rank = a->ndim;
  spy_array *t = spy_array_share(a);
  if (!t) return NULL;
  for (int i = 0; i < a->ndim; i++) { /* reversed view: its C order is a's Fortran order */
    t->shape[i] = a->shape[a->ndim - 1 - i];
    t->strides[i] = a->strides[a->ndim - 1 - i];
    dims[i] = a->shape[i];
  }
  if (rank < 2) {
    dims[1] = rank == 1 ? a->shape[0] : 1;
    dims[0] = 1;
    rank = 2;
  }
  size_t n = spy_array_numel(a);
  matvar_t *v = NULL;
  if (spy_dtype_is_complex(a->dtype)) {
    double *re = malloc((n ? n : 1) * sizeof *re), *im = malloc((n ? n : 1) * sizeof *im);
    if (re && im) {
      for (size_t i = 0; i < n; i++) {
        double complex z = spy_array_getc_flat(t, i);
        re[i] = creal(z);
        im[i] = cimag(z);
      }
      mat_complex_split_t z = {re, im};
      v = Mat_VarCreate(name, MAT_C_DOUBLE, MAT_T_DOUBLE, rank, dims, &z, MAT_F_COMPLEX);
    }
    free(re);
    free(im);
  } else {
    spy_dtype dt = a->dtype;
    void *buf = malloc((n ? n : 1) * spy_dtype_size(dt));
    if (buf) {
      spy_array_pack(t, buf, dt);
      v = dt == SPY_DT_F32   ? Mat_VarCreate(name, MAT_C_SINGLE, MAT_T_SINGLE, rank, dims, buf, 0)
          : dt == SPY_DT_I64 ? Mat_VarCreate(name, MAT_C_INT64, MAT_T_INT64, rank, dims, buf, 0)
                             : Mat_VarCreate(name, MAT_C_DOUBLE, MAT_T_DOUBLE, rank, dims, buf, 0);
    }
    free(buf);
  }
  spy_array_free(t);
  return v;
}

static int setfield(matvar_t *s, const char *name, matvar_t *v)
{
  if (!v) return SPY_ENOMEM;
  Mat_VarSetStructFieldByName(s, name, 0, v);
  return SPY_OK;
}

/* AnalogData: a FieldTrip raw structure (label, trial, time, fsample,
** sampleinfo, trialinfo).  Other classes: the data array in Syncopy's layout
** with dimord, trialdefinition and their axes. */
static matvar_t *mk_data(const char *name, spy_data *d, spy_err *err)
{
  bool analog = d->cls == SPY_ANALOG;
  const char *raw[] = {"label", "trial", "time", "fsample", "sampleinfo", "trialinfo", NULL};
  const char *other[] = {"dimord", "data",  "trialdefinition", "samplerate", "label",
                         "freq",   "taper", "label_j",         NULL};
  size_t one[2] = {1, 1};
  if (d->trlcols <= 3) raw[5] = NULL;
  matvar_t *s = Mat_VarCreateStruct2(name, 2, one, analog ? raw : other);
  if (!s) {
    spy_fail(err, SPY_ENOMEM, "out of memory");
    return NULL;
  }
  int rc = SPY_OK;
  size_t nch = d->nchannel;
  matvar_t *lab = mk_cell(nch, 1);
  for (size_t i = 0; lab && i < nch; i++)
    Mat_VarSetCell(lab, (int)i, mk_string(d->channel[i]));
  rc = setfield(s, "label", lab);
  double fs = d->samplerate;
  if (analog) {
    matvar_t *tr = mk_cell(1, d->ntrials), *tm = mk_cell(1, d->ntrials);
    double *si = malloc((d->ntrials ? d->ntrials : 1) * 2 * sizeof *si);
    double *ti = malloc((d->ntrials * (d->trlcols - 3) + 1) * sizeof *ti);
    if (!tr || !tm || !si || !ti) rc = SPY_ENOMEM;
    for (size_t k = 0; rc == SPY_OK && k < d->ntrials; k++) {
      const double *r = d->trldef + k * d->trlcols;
      size_t n = spy_data_trial_rows(d, k);
      size_t dims[2] = {nch, n};
      void *buf = malloc((n * nch + 1) * spy_dtype_size(d->dtype));
      double *tv = malloc((n ? n : 1) * sizeof *tv);
      if (!buf || !tv)
        rc = spy_fail(err, SPY_ENOMEM, "out of memory");
      else
        rc = spy_data_read(d, (size_t)r[0], n, NULL, nch, buf, d->dtype, err);
      if (rc == SPY_OK) {
        bool f32 = d->dtype == SPY_DT_F32;
        Mat_VarSetCell(tr, (int)k,
                       Mat_VarCreate(NULL, f32 ? MAT_C_SINGLE : MAT_C_DOUBLE,
                                     f32 ? MAT_T_SINGLE : MAT_T_DOUBLE, 2, dims, buf, 0));
        for (size_t i = 0; i < n; i++)
          tv[i] = (r[2] + (double)i) / fs;
        Mat_VarSetCell(tm, (int)k, mk_doubles(tv, 1, n));
      }
      free(buf);
      free(tv);
      si[k] = r[0] + 1;
      si[d->ntrials + k] = r[1];
      for (size_t c = 3; c < d->trlcols; c++)
        ti[(c - 3) * d->ntrials + k] = r[c];
    }
    if (rc == SPY_OK)
      rc = setfield(s, "trial", tr);
    else
      Mat_VarFree(tr);
    if (rc == SPY_OK)
      rc = setfield(s, "time", tm);
    else
      Mat_VarFree(tm);
    if (rc == SPY_OK) rc = setfield(s, "fsample", mk_doubles(&fs, 1, 1));
    if (rc == SPY_OK) rc = setfield(s, "sampleinfo", mk_doubles(si, d->ntrials, 2));
    if (rc == SPY_OK && d->trlcols > 3)
      rc = setfield(s, "trialinfo", mk_doubles(ti, d->ntrials, d->trlcols - 3));
    free(si);
    free(ti);
  } else {
    const char *const *dim = spy_dataclass_dimord(d->cls);
    char dimord[128] = "";
    for (int i = 0; dim[i]; i++)
      snprintf(dimord + strlen(dimord), sizeof dimord - strlen(dimord), "%s%s", i ? "_" : "",
               dim[i]);
    rc = setfield(s, "dimord", mk_string(dimord));
    spy_array *a = NULL;
    if (rc == SPY_OK && (rc = spy_data_toarray(d, &a, err)) == SPY_OK)
      rc = setfield(s, "data", mk_array(NULL, a));
    spy_array_free(a);
    double *trl = malloc((d->ntrials * d->trlcols + 1) * sizeof *trl);
    if (!trl) rc = SPY_ENOMEM;
    for (size_t k = 0; trl && k < d->ntrials; k++)
      for (size_t c = 0; c < d->trlcols; c++)
        trl[c * d->ntrials + k] = d->trldef[k * d->trlcols + c];
    if (rc == SPY_OK) rc = setfield(s, "trialdefinition", mk_doubles(trl, d->ntrials, d->trlcols));
    free(trl);
    if (rc == SPY_OK) rc = setfield(s, "samplerate", mk_doubles(&fs, 1, 1));
    if (rc == SPY_OK) rc = setfield(s, "freq", mk_doubles(d->freq, 1, d->nfreq));
    matvar_t *tp = mk_cell(d->ntaper, 1);
    for (size_t i = 0; tp && i < d->ntaper; i++)
      Mat_VarSetCell(tp, (int)i, mk_string(d->taper[i]));
    if (rc == SPY_OK)
      rc = setfield(s, "taper", tp);
    else
      Mat_VarFree(tp);
    matvar_t *lj = mk_cell(d->nchannel_j, 1);
    for (size_t i = 0; lj && i < d->nchannel_j; i++)
      Mat_VarSetCell(lj, (int)i, mk_string(d->channel_j[i]));
    if (rc == SPY_OK)
      rc = setfield(s, "label_j", lj);
    else
      Mat_VarFree(lj);
  }
  if (rc) {
    if (rc == SPY_ENOMEM) spy_fail(err, SPY_ENOMEM, "out of memory");
    Mat_VarFree(s);
    return NULL;
  }
  return s;
}

static bool valid_name(const char *n)
{
  if (!n[0] || !((n[0] >= 'a' && n[0] <= 'z') || (n[0] >= 'A' && n[0] <= 'Z')) || strlen(n) > 63)
    return false;
  for (const char *p = n; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
          *p == '_'))
      return false;
  return true;
}

int spy_savemat(const char *path, const spy_mat_var *vars, size_t n, int version, spy_err *err)
{
  for (size_t i = 0; i < n; i++)
    if (!valid_name(vars[i].name))
      return spy_fail(
          err, SPY_EINVAL,
          "Invalid value of `name`: '%s'; expected a MATLAB variable name (a letter, then "
          "letters, digits or '_', at most 63 characters)",
          vars[i].name);
  matio_init();
  spy_part p;
  int rc = spy_part_begin(&p, path, false, err);
  if (rc) return rc;
  bool h5 = version == 73;
  if (h5) spy_h5_lock();
  mat_t *mat = Mat_CreateVer(p.tmp, NULL, h5 ? MAT_FT_MAT73 : MAT_FT_MAT5);
  if (!mat)
    rc = spy_fail(err, SPY_EIO, "cannot write '%s'%s%s", path, matio_msg[0] ? ": " : "", matio_msg);
  for (size_t i = 0; rc == SPY_OK && i < n; i++) {
    matvar_t *v = vars[i].data ? mk_data(vars[i].name, vars[i].data, err)
                               : mk_array(vars[i].name, vars[i].array);
    if (!v) {
      rc = err && err->code ? err->code : spy_fail(err, SPY_ENOMEM, "out of memory");
      break;
    }
    if (Mat_VarWrite(mat, v, version == 7 ? MAT_COMPRESSION_ZLIB : MAT_COMPRESSION_NONE) != 0)
      rc = spy_fail(err, SPY_EIO, "cannot write variable '%s' to '%s'%s%s", vars[i].name, path,
                    matio_msg[0] ? ": " : "", matio_msg);
    Mat_VarFree(v);
  }
  if (mat && Mat_Close(mat) != 0 && rc == SPY_OK)
    rc = spy_fail(err, SPY_EIO, "cannot write '%s'", path);
  if (h5) spy_h5_unlock();
  if (rc) {
    spy_part_abort(&p);
    return rc;
  }
  return spy_part_commit(&p, err);
}
