/*
** Metadata group of a data file, Syncopy's encoding (see metadata.h).
*/
#include "io/metadata.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "io/h5.h"

/* v has the shape dims[0..rank) exactly */
static bool conforms(const cJSON *v, const hsize_t *dims, int rank)
{
  if (rank == 0) return cJSON_IsNumber(v);
  if (!cJSON_IsArray(v) || (hsize_t)cJSON_GetArraySize(v) != dims[0]) return false;
  const cJSON *e;
  cJSON_ArrayForEach(e, v) if (!conforms(e, dims + 1, rank - 1)) return false;
  return true;
}

/* Rank and shape (rank <= 3) of a rectangular nested array of numbers,
** read along the first elements and then verified; -1 otherwise. */
static int shape_of(const cJSON *v, hsize_t *dims)
{
  int rank = 0;
  const cJSON *p = v;
  while (cJSON_IsArray(p)) {
    if (rank == 3) return -1;
    dims[rank++] = (hsize_t)cJSON_GetArraySize(p);
    p = cJSON_GetArrayItem(p, 0);
    if (!p) break;
  }
  return conforms(v, dims, rank) ? rank : -1;
}

static void flatten(const cJSON *v, double *out, size_t *k)
{
  if (cJSON_IsNumber(v)) {
    out[(*k)++] = v->valuedouble;
    return;
  }
  const cJSON *e;
  cJSON_ArrayForEach(e, v) flatten(e, out, k);
}

/* Per-channel lists of rows (3 levels, ragged) -> stacked rows. */
static bool stacked(const cJSON *v, size_t *rows, size_t *cols)
{
  *rows = 0, *cols = 3;
  if (!cJSON_IsArray(v)) return false;
  const cJSON *ch;
  cJSON_ArrayForEach(ch, v) {
    if (!cJSON_IsArray(ch)) return false;
    const cJSON *row;
    cJSON_ArrayForEach(row, ch) {
      if (!cJSON_IsArray(row) || cJSON_GetArraySize(row) != 3) return false;
      (*rows)++;
    }
  }
  return true;
}

static bool ragged_label(const char *label)
{
  return !strcmp(label, "gaussian_params") || !strcmp(label, "peak_params");
}

static int put(hid_t g, const char *name, const char *label, const cJSON *v)
{
  hsize_t dims[8] = {0};
  int rank;
  size_t n = 1, rows, cols;
  bool rag = ragged_label(label) && stacked(v, &rows, &cols);
  if (rag) {
    rank = 2, dims[0] = rows, dims[1] = cols;
  } else if ((rank = shape_of(v, dims)) < 0) {
    return -1;
  }
  for (int i = 0; i < rank; i++) n *= dims[i];
  double *buf = malloc((n ? n : 1) * sizeof *buf);
  if (!buf) return -1;
  size_t k = 0;
  flatten(v, buf, &k);
  bool ints = !strcmp(label, "n_peaks");
  hid_t sp = rank ? H5Screate_simple(rank, dims, NULL) : H5Screate(H5S_SCALAR);
  hid_t ft = ints ? H5T_STD_I32LE : H5T_IEEE_F64LE;
  hid_t a = H5Acreate2(g, name, ft, sp, H5P_DEFAULT, H5P_DEFAULT);
  int rc = -1;
  if (a >= 0) {
    if (ints) {
      int *iv = malloc((n ? n : 1) * sizeof *iv);
      if (iv) {
        for (size_t i = 0; i < n; i++) iv[i] = (int)buf[i];
        rc = H5Awrite(a, H5T_NATIVE_INT, iv) < 0 ? -1 : 0;
        free(iv);
      }
    } else {
      rc = H5Awrite(a, H5T_NATIVE_DOUBLE, buf) < 0 ? -1 : 0;
    }
  }
  spy_h5_close_attr(a);
  spy_h5_close_space(sp);
  free(buf);
  return rc;
}

int spy_metadata_write(hid_t f, const cJSON *md, spy_err *err)
{
  int rc = SPY_OK;
  spy_h5_lock();
  if (H5Lexists(f, "metadata", H5P_DEFAULT) > 0) H5Ldelete(f, "metadata", H5P_DEFAULT);
  hid_t g = H5I_INVALID_HID;
  if (md) {
    g = H5Gcreate2(f, "metadata", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const cJSON *lab, *e;
    cJSON_ArrayForEach(lab, md) {
      cJSON_ArrayForEach(e, lab) {
        if (g < 0 || put(g, e->string, lab->string, e)) {
          rc = spy_h5_fail(err, SPY_EIO, "cannot write metadata `%s`", e->string);
          goto exit;
        }
      }
    }
  }
exit:
  if (g >= 0) H5Gclose(g);
  spy_h5_unlock();
  return rc;
}

/* values[off..] of an N-d array as nested JSON arrays */
static cJSON *nest(const double *v, const hsize_t *dims, int rank, bool ints, size_t *off)
{
  if (rank == 0) {
    double x = v[(*off)++];
    return cJSON_CreateNumber(ints ? floor(x) : x);
  }
  cJSON *a = cJSON_CreateArray();
  for (hsize_t i = 0; a && i < dims[0]; i++)
    cJSON_AddItemToArray(a, nest(v, dims + 1, rank - 1, ints, off));
  return a;
}

/* metadata are small (Syncopy caps attributes at 64 kB); larger is damage */
enum { MAX_VALUES = 1 << 20 };

typedef struct {
  cJSON *flat; /* attribute name -> value */
  int failed;
} readctx;

static herr_t read_one(hid_t loc, const char *name, const H5A_info_t *info, void *p)
{
  readctx *c = p;
  (void)info;
  hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
  hid_t sp = a >= 0 ? H5Aget_space(a) : H5I_INVALID_HID;
  hid_t ty = a >= 0 ? H5Aget_type(a) : H5I_INVALID_HID;
  int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
  hsize_t dims[8] = {0};
  if (rank >= 0 && rank <= 8) H5Sget_simple_extent_dims(sp, dims, NULL);
  size_t n = 1;
  bool sane = rank >= 0 && rank <= 8;
  for (int i = 0; sane && i < rank; i++) {
    sane = dims[i] <= MAX_VALUES && n * dims[i] <= MAX_VALUES;
    n *= sane ? dims[i] : 1;
  }
  double *buf = sane ? malloc((n ? n : 1) * sizeof *buf) : NULL;
  if (buf && ty >= 0 && H5Tget_class(ty) != H5T_STRING &&
      H5Aread(a, H5T_NATIVE_DOUBLE, buf) >= 0) {
    size_t off = 0;
    cJSON_AddItemToObject(c->flat, name, nest(buf, dims, rank, H5Tget_class(ty) == H5T_INTEGER, &off));
  } else if (!(ty >= 0 && H5Tget_class(ty) == H5T_STRING)) {
    c->failed = 1;
  }
  free(buf);
  spy_h5_close_type(ty);
  spy_h5_close_space(sp);
  spy_h5_close_attr(a);
  return 0;
}

int spy_metadata_read(hid_t f, cJSON **md, spy_err *err)
{
  *md = NULL;
  int rc = SPY_OK;
  spy_h5_lock();
  if (H5Lexists(f, "metadata", H5P_DEFAULT) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    spy_h5_unlock();
    return SPY_OK;
  }
  hid_t g = H5Gopen2(f, "metadata", H5P_DEFAULT);
  readctx c = {cJSON_CreateObject(), 0};
  if (g < 0 || !c.flat ||
      H5Aiterate2(g, H5_INDEX_CRT_ORDER, H5_ITER_INC, NULL, read_one, &c) < 0) {
    H5Eclear2(H5E_DEFAULT);
    c.failed |= g < 0 || !c.flat ||
                H5Aiterate2(g, H5_INDEX_NAME, H5_ITER_INC, NULL, read_one, &c) < 0;
  }
  if (g >= 0) H5Gclose(g);
  spy_h5_unlock();
  if (c.failed) {
    cJSON_Delete(c.flat);
    return spy_h5_fail(err, SPY_EFORMAT, "cannot read the `metadata` group");
  }
  /* nest by label, splitting stacked rows by n_peaks of the same suffix */
  cJSON *out = cJSON_CreateObject();
  const cJSON *e;
  cJSON_ArrayForEach(e, c.flat) {
    const char *sep = strstr(e->string, "__");
    char label[128];
    size_t ln = sep ? (size_t)(sep - e->string) : strlen(e->string);
    if (ln >= sizeof label) ln = sizeof label - 1;
    memcpy(label, e->string, ln);
    label[ln] = '\0';
    cJSON *v = cJSON_Duplicate(e, 1);
    if (ragged_label(label) && sep) {
      char key[192];
      snprintf(key, sizeof key, "n_peaks%s", sep);
      const cJSON *np = cJSON_GetObjectItem(c.flat, key);
      int total = 0, nrows = cJSON_GetArraySize(v);
      const cJSON *cnt;
      bool ok = cJSON_IsArray(np);
      cJSON_ArrayForEach(cnt, np) {
        ok &= cnt->valueint >= 0 && cnt->valueint <= nrows - total;
        if (ok) total += cnt->valueint;
      }
      if (ok && total == nrows) {
        cJSON *split = cJSON_CreateArray();
        int r0 = 0;
        cJSON_ArrayForEach(cnt, np) {
          cJSON *ch = cJSON_CreateArray();
          for (int q = 0; q < cnt->valueint; q++)
            cJSON_AddItemToArray(ch, cJSON_Duplicate(cJSON_GetArrayItem(v, r0 + q), 1));
          r0 += cnt->valueint;
          cJSON_AddItemToArray(split, ch);
        }
        cJSON_Delete(v);
        v = split;
      }
    }
    cJSON *grp = cJSON_GetObjectItem(out, label);
    if (!grp) cJSON_AddItemToObject(out, label, grp = cJSON_CreateObject());
    cJSON_AddItemToObject(grp, e->string, v);
  }
  cJSON_Delete(c.flat);
  /* labels in Syncopy's (sorted) order */
  *md = out;
  return rc;
}
