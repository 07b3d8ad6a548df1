/*
** spy.preprocessing against Syncopy's own results (tests/data/preproc_*.h5):
** the same input, the call's keywords (root attribute `kwargs`) completed
** with spy's defaults, which must be the defaults Syncopy recorded in its cfg
** (`syncopy_cfg`).  Output shape and trial definition must be equal, values
** within max|spy - Syncopy| / max|Syncopy| <= 1e-5 per channel (Syncopy's
** result is float32, and its Hilbert step runs in single precision).
*/
#include <cjson/cJSON.h>
#include <string.h>

#include "core/kwspec.h"
#include "dsp/preprocessing.h"
#include "dsp/preprocessing_spec.h"
#include "preproc_run.h"
#include "t.h"
#include "h5ref.h"

/* A root string attribute; h5ref_attr_str cannot convert the UTF-8
** variable-length strings these files hold (it asks for ASCII). */
static int attr_utf8(const char *file, const char *name, char *buf, size_t n)
{
  hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) return -1;
  hid_t a = H5Aopen(f, name, H5P_DEFAULT), ft = a >= 0 ? H5Aget_type(a) : -1;
  hid_t mt = H5Tcopy(H5T_C_S1);
  H5Tset_size(mt, H5T_VARIABLE);
  if (ft >= 0) H5Tset_cset(mt, H5Tget_cset(ft));
  char *s = NULL;
  int rc = a >= 0 && H5Aread(a, mt, &s) >= 0 ? 0 : -1;
  if (!rc) snprintf(buf, n, "%s", s);
  if (s) H5free_memory(s);
  H5Tclose(mt);
  if (ft >= 0) H5Tclose(ft);
  if (a >= 0) H5Aclose(a);
  H5Fclose(f);
  return rc;
}

static void check_case(const char *name)
{
  const char *file = t_data(name);
  char fname[4096];
  snprintf(fname, sizeof fname, "%s", file);
  int nd;
  size_t shx[8], sht[8], shy[8], shyt[8];
  double *x = h5ref_read(fname, "input", &nd, shx);
  double *trl = h5ref_read(fname, "input_trialdefinition", &nd, sht);
  double *ref = h5ref_read(fname, "output", &nd, shy);
  double *reft = h5ref_read(fname, "output_trialdefinition", &nd, shyt);
  CHECK(x && trl && ref && reft, "%s: reference datasets missing", name);
  if (!x || !trl || !ref || !reft) return;
  char kwtxt[4096], cfgtxt[8192];
  CHECK(attr_utf8(fname, "kwargs", kwtxt, sizeof kwtxt) == 0, "%s: kwargs", name);
  CHECK(attr_utf8(fname, "syncopy_cfg", cfgtxt, sizeof cfgtxt) == 0, "%s: cfg", name);
  cJSON *kw = cJSON_Parse(kwtxt), *scfg = cJSON_Parse(cfgtxt), *cfg = NULL;
  spy_err err = {0};
  CHECK(spy_kw_apply(&spy_spec_preprocessing, kw, &cfg, &err) == 0, "%s: %s", name, err.msg);

  /* every parameter Syncopy recorded is a keyword of ours, with the same
  ** value (the defaults among them: window, polyremoval, zscore, ...) */
  const cJSON *pre = cJSON_GetObjectItemCaseSensitive(scfg, "preprocessing"), *e;
  cJSON_ArrayForEach(e, pre)
  {
    if (strcmp(e->string, "parallel") == 0) continue; /* the harness ran sequentially */
    const cJSON *mine = cJSON_GetObjectItemCaseSensitive(cfg, e->string);
    CHECK(mine != NULL, "%s: Syncopy's cfg key `%s` is not a keyword", name, e->string);
    CHECK(mine && cJSON_Compare(mine, e, 1), "%s: `%s` differs from Syncopy's cfg", name,
          e->string);
  }

  spy_trials in = {sht[0], shx[1], h5ref_attr_num(fname, "samplerate"), trl, 3, SPY_DT_F32,
                   false};
  spy_op op;
  int rc = spy_preprocessing_plan(cfg, &in, &op, &err);
  CHECK(rc == 0, "%s: plan: %s", name, err.msg);
  if (rc == 0) {
    CHECK(op.out_dtype == SPY_DT_F32, "%s: dtype %d", name, op.out_dtype);
    CHECK(op.out_trlcols == 3, "%s: trlcols", name);
    for (size_t i = 0; i < shyt[0] * 3; i++)
      CHECK(op.out_trldef[i] == reft[i], "%s: trialdefinition[%zu] %g vs %g", name, i,
            op.out_trldef[i], reft[i]);
    size_t rows = 0;
    unsigned flags = 0;
    double *y = pp_run(&op, &in, x, &rows, &flags, NULL, &err);
    CHECK(y != NULL, "%s: kernel: %s", name, err.msg);
    CHECK(rows == shy[0] && shy[1] == in.nchan, "%s: shape %zu vs %zu", name, rows, shy[0]);
    CHECK(flags == 0, "%s: NaN flagged on finite data", name);
    for (size_t c = 0; y && c < in.nchan; c++) {
      double dmax = 0, rmax = 0;
      for (size_t i = 0; i < rows; i++) {
        double d = fabs(y[i * in.nchan + c] - ref[i * in.nchan + c]);
        if (d > dmax) dmax = d;
        if (fabs(ref[i * in.nchan + c]) > rmax) rmax = fabs(ref[i * in.nchan + c]);
      }
      fprintf(stderr, "%s channel %zu: max rel. error %.3g\n", name, c, dmax / rmax);
      CHECK(dmax / rmax <= 1e-5, "%s channel %zu: rel. error %g", name, c, dmax / rmax);
    }
    free(y);
  }
  spy_op_free(&op);
  cJSON_Delete(kw);
  cJSON_Delete(scfg);
  cJSON_Delete(cfg);
  free(x);
  free(trl);
  free(ref);
  free(reft);
}

int main(void)
{
  check_case("preproc_but_bp_twopass.h5");
  check_case("preproc_firws_lp.h5");
  check_case("preproc_hilbert_abs.h5");
  return t_done();
}
