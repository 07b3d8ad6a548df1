/*
** spy.freqanalysis against Syncopy's own results (tests/data, README.md
** there): the stored float32 input, the stored trial definition and
** Syncopy's complete cfg (root attribute `syncopy_cfg`) go through
** spy_freqanalysis_plan and the kernel; the output must match per channel
** to max|spy - Syncopy| / max|Syncopy| <= 1e-5 (real and imaginary parts
** separately for complex output), freq and time axes to 1e-9, and shapes,
** taper labels and trial definitions exactly.
*/
#include <cjson/cJSON.h>
#include <complex.h>
#include <hdf5.h>
#include <stdio.h>
#include <string.h>

#include "fa_util.h"
#include "h5ref.h"
#include "t.h"

/* The lines "computed ... = <v>\n" of Syncopy's history entry, without
** used_parallel (added by the scheduler). */
static char *ref_log(const char *infofile)
{
  size_t n;
  char *txt = t_slurp(infofile, &n);
  if (!txt) return NULL;
  cJSON *j = cJSON_Parse(txt);
  free(txt);
  const cJSON *lg = cJSON_GetObjectItem(j, "_log");
  char *res = NULL;
  if (cJSON_IsString(lg)) {
    const char *a = strstr(lg->valuestring, "computed ");
    const char *b = a ? strstr(a, "\tused_parallel") : NULL;
    if (a && b) {
      res = malloc((size_t)(b - a) + 1);
      memcpy(res, a, (size_t)(b - a));
      res[b - a] = '\0';
    }
  }
  cJSON_Delete(j);
  return res;
}

static void run_case(const char *name, const char *infofile)
{
  char path[4096], cfgtxt[8192];
  snprintf(path, sizeof path, "%s", t_data(name));
  int nd;
  size_t sh[8], ish[8], tsh[8];
  double *input = h5ref_read(path, "input", &nd, ish);
  double *trl = h5ref_read(path, "input_trialdefinition", &nd, tsh);
  CHECK(input && trl, "%s: cannot read input", name);
  if (!input || !trl) return;
  CHECK(h5ref_attr_str(path, "syncopy_cfg", cfgtxt, sizeof cfgtxt) == 0, "%s: no syncopy_cfg",
        name);
  cJSON *root = cJSON_Parse(cfgtxt), *cfg = NULL;
  spy_err err = {0};
  int rc =
      spy_kw_apply(&spy_spec_freqanalysis, cJSON_GetObjectItem(root, "freqanalysis"), &cfg, &err);
  CHECK(rc == 0, "%s: cfg: %s", name, err.msg);

  spy_trials t = {tsh[0],     ish[1], h5ref_attr_num(path, "samplerate"), trl, tsh[1],
                  SPY_DT_F32, false};
  spy_op op;
  rc = spy_freqanalysis_plan(cfg, &t, &op, &err);
  CHECK(rc == 0, "%s: plan: %s", name, err.msg);
  if (rc) goto out;

  /* geometry and metadata */
  bool cplx = op.out_dtype == SPY_DT_C64;
  double *ref = NULL, *refim = NULL;
  if (cplx) {
    ref = h5ref_read(path, "output_real", &nd, sh);
    refim = h5ref_read(path, "output_imag", &nd, sh);
  } else {
    ref = h5ref_read(path, "output", &nd, sh);
  }
  size_t total = 0;
  for (size_t k = 0; k < t.ntrials; k++)
    total += op.out_rows[k];
  CHECK(nd == 4 && sh[0] == total && sh[1] == op.inner[0] && sh[2] == op.inner[1] &&
            sh[3] == t.nchan,
        "%s: shape (%zu,%zu,%zu,%zu) vs spy (%zu,%zu,%zu,%zu)", name, sh[0], sh[1], sh[2], sh[3],
        total, op.inner[0], op.inner[1], t.nchan);
  size_t fsh[8];
  double *freq = h5ref_read(path, "freq", &nd, fsh);
  CHECK(fsh[0] == op.nfreq, "%s: %zu freqs vs %zu", name, fsh[0], op.nfreq);
  double fe = 0;
  for (size_t i = 0; i < op.nfreq && i < fsh[0]; i++)
    fe = fmax(fe, fabs(freq[i] - op.freq[i]));
  CHECK(fe <= 1e-9, "%s: freq axis differs by %g", name, fe);
  char labels[16][64];
  size_t nl = h5ref_strings(path, "taper", labels, 16);
  CHECK(nl == op.ntaper, "%s: %zu taper labels vs %zu", name, nl, op.ntaper);
  for (size_t i = 0; i < nl && i < op.ntaper; i++)
    CHECK(!strcmp(labels[i], op.taper[i]), "%s: taper label %s vs %s", name, labels[i],
          op.taper[i]);
  size_t osh[8];
  double *otrl = h5ref_read(path, "output_trialdefinition", &nd, osh);
  CHECK(osh[0] == t.ntrials && osh[1] == op.out_trlcols, "%s: trialdefinition shape", name);
  for (size_t i = 0; i < osh[0] * osh[1]; i++)
    CHECK(otrl[i] == op.out_trldef[i], "%s: trialdefinition[%zu] %g vs %g", name, i, otrl[i],
          op.out_trldef[i]);
  /* time: (row - start + offset) / samplerate of the output */
  size_t tsh2[8];
  double *time = h5ref_read(path, "time", &nd, tsh2), te = 0;
  for (size_t k = 0; k < t.ntrials; k++) {
    const double *r = op.out_trldef + k * op.out_trlcols;
    for (size_t i = 0; i < op.out_rows[k]; i++) {
      size_t row = (size_t)r[0] + i;
      if (row < tsh2[0]) te = fmax(te, fabs(time[row] - ((double)i + r[2]) / op.samplerate));
    }
  }
  CHECK(te <= 1e-9, "%s: time axis differs by %g", name, te);
  free(otrl);
  free(time);
  free(freq);

  /* the numbers */
  size_t nrows;
  double complex *res = fa_run(&op, &t, input, 0, &nrows, &err);
  CHECK(res != NULL, "%s: kernel: %s", name, err.msg);
  if (res && ref) {
    size_t C = t.nchan, per = nrows * spy_op_row_elems(&op);
    for (size_t c = 0; c < C; c++) {
      double mre = 0, mim = 0, dre = 0, dim = 0;
      for (size_t i = 0; i < per; i++) {
        double re = ref[i * C + c], im = refim ? refim[i * C + c] : 0;
        mre = fmax(mre, fabs(re)), mim = fmax(mim, fabs(im));
        dre = fmax(dre, fabs(creal(res[i * C + c]) - re));
        dim = fmax(dim, fabs(cimag(res[i * C + c]) - im));
      }
      double er = dre / mre, ei = cplx ? dim / mim : 0;
      if (cplx)
        fprintf(stderr, "%s channel %zu: max rel error %.3g (real), %.3g (imag)\n", name, c, er,
                ei);
      else
        fprintf(stderr, "%s channel %zu: max rel error %.3g\n", name, c, er);
      CHECK(er <= 1e-5 && ei <= 1e-5, "%s channel %zu: relative error %g / %g", name, c, er, ei);
    }
  }
  if (infofile) {
    char *want = ref_log(infofile);
    CHECK(want && op.log && !strcmp(want, op.log), "%s: log\n%s\nvs Syncopy's\n%s", name,
          op.log ? op.log : "(null)", want ? want : "(null)");
    free(want);
  }
  free(res);
  free(ref);
  free(refim);
  spy_op_free(&op);
out:
  cJSON_Delete(cfg);
  cJSON_Delete(root);
  free(input);
  free(trl);
}

int main(void)
{
  run_case("mtmfft_hann_pow.h5", NULL);
  run_case("mtmfft_fourier.h5", NULL);
  run_case("mtmfft_dpss_pow.h5", NULL);
  run_case("mtmconvol_pow.h5", NULL);
  char info[4096];
  snprintf(info, sizeof info, "%s", t_data("spectral_ref.spy/spectral_ref.spectral.info"));
  run_case("spy_container.h5", info);
  spy_fft_cleanup();
  return t_done();
}
