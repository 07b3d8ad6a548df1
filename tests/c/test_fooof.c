/*
** FOOOF (src/fit/fooof.c) against Syncopy's references and first
** principles.  The reference spectra (`pow` in tests/data/fooof_*.h5) are
** Syncopy's own float32 trial-averaged mtmfft power, so these checks
** measure the fit alone.
**
** Tolerances reached: the fitted spectra agree with Syncopy's float32
** output to 1e-6 relative (float32 rounding of the reference is 6e-8; the
** rest is the order of floating-point sums inside the solvers), the fitted
** parameters to 1e-6 relative.
*/
#include <cjson/cJSON.h>
#include <string.h>

#include "fit/fooof.h"
#include "h5ref.h"
#include "t.h"

static const double TOL_SPEC = 1e-6, TOL_PAR = 1e-6;

static double relerr(double a, double b) { return fabs(a - b) / fmax(fabs(b), 1e-300); }

/* Row-major [1,1,nf,nc] -> channel c's spectrum. */
static void column(const double *a, size_t nf, size_t nc, size_t c, double *out)
{
  for (size_t i = 0; i < nf; i++)
    out[i] = a[i * nc + c];
}

static void check_rows(const cJSON *rows, size_t row0, const double *got, size_t n, const char *what)
{
  for (size_t q = 0; q < n; q++)
    for (int j = 0; j < 3; j++) {
      double want = cJSON_GetArrayItem(cJSON_GetArrayItem(rows, (int)(row0 + q)), j)->valuedouble;
      CHECK(relerr(got[3 * q + j], want) <= TOL_PAR, "%s row %zu col %d: %.12g vs %.12g", what, q,
            j, got[3 * q + j], want);
    }
}

static void reference(const char *file, spy_fooof_output kind, bool meta)
{
  int nd;
  size_t sh[8], shf[8], sho[8];
  double *pow = h5ref_read(t_data(file), "pow", &nd, sh);
  double *freq = h5ref_read(t_data(file), "freq", &nd, shf);
  double *want = h5ref_read(t_data(file), "output", &nd, sho);
  CHECK(pow && freq && want, "%s: reference datasets", file);
  if (!pow || !freq || !want) return;
  size_t nf = sh[2], nc = sh[3];
  static char js[1 << 16];
  cJSON *md = NULL;
  if (meta) {
    CHECK(h5ref_attr_str(t_data(file), "output_metadata_raw", js, sizeof js) == 0, "metadata");
    md = cJSON_Parse(js);
  }
  double *spec = malloc(nf * sizeof *spec), *out = malloc(nf * sizeof *out);
  size_t row0 = 0;
  double worst = 0;
  for (size_t c = 0; c < nc; c++) {
    column(pow, nf, nc, c, spec);
    /* fooof_peaks is a difference of two spectra: measured against its peak */
    double scale = 0;
    for (size_t i = 0; i < nf; i++)
      scale = fmax(scale, fabs(want[i * nc + c]));
    spy_fooof_opts o = SPY_FOOOF_DEFAULTS;
    spy_fooof_fit fit = {0};
    spy_err err = {0};
    int rc = spy_fooof(&o, freq, spec, nf, kind, out, &fit, &err);
    CHECK(rc == SPY_OK, "%s channel %zu: %s", file, c, err.msg);
    if (rc) continue;
    for (size_t i = 0; i < nf; i++) {
      double w = want[i * nc + c], e = relerr((float)out[i], w);
      if (kind == SPY_FOOOF_PEAKS) e = fabs((float)out[i] - w) / scale;
      worst = fmax(worst, e);
      CHECK(e <= TOL_SPEC, "%s channel %zu freq %g: %.9g vs %.9g", file, c, freq[i], out[i], w);
    }
    if (md) {
      const cJSON *ap = cJSON_GetObjectItem(md, "aperiodic_params__0_0");
      for (int k = 0; k < 2; k++) {
        double w = cJSON_GetArrayItem(cJSON_GetArrayItem(ap, k), (int)c)->valuedouble;
        CHECK(relerr(fit.ap[k], w) <= TOL_PAR, "aperiodic %d channel %zu: %.12g vs %.12g", k, c,
              fit.ap[k], w);
      }
      size_t np = (size_t)cJSON_GetArrayItem(cJSON_GetObjectItem(md, "n_peaks__0_0"), (int)c)->valueint;
      CHECK(fit.npeaks == np, "channel %zu: %zu peaks, Syncopy %zu", c, fit.npeaks, np);
      if (fit.npeaks == np) {
        check_rows(cJSON_GetObjectItem(md, "gaussian_params__0_0"), row0, fit.gauss, np, "gaussian");
        check_rows(cJSON_GetObjectItem(md, "peak_params__0_0"), row0, fit.peak, np, "peak");
      }
      row0 += np;
      double r2 = cJSON_GetArrayItem(cJSON_GetObjectItem(md, "r_squared__0_0"), (int)c)->valuedouble;
      double er = cJSON_GetArrayItem(cJSON_GetObjectItem(md, "error__0_0"), (int)c)->valuedouble;
      CHECK(relerr(fit.r_squared, r2) <= TOL_PAR, "r2 %.12g vs %.12g", fit.r_squared, r2);
      CHECK(relerr(fit.error, er) <= TOL_PAR, "error %.12g vs %.12g", fit.error, er);
    }
    spy_fooof_fit_free(&fit);
  }
  fprintf(stderr, "%s: worst relative deviation of the spectrum %.3g\n", file, worst);
  cJSON_Delete(md);
  free(spec);
  free(out);
  free(pow);
  free(freq);
  free(want);
}

/* A spectrum built from known parameters is recovered.  FOOOF is not a
** joint fit: its robust aperiodic fit keeps points where the Gaussians'
** tails still add a little, and the peaks are then fitted on that slightly
** tilted baseline, so noise-free parameters come back to about 0.5 % (the
** wider the peaks, the larger this bias); centres to 1e-3 Hz. */
static void recovery(bool knee)
{
  enum { NF = 200 };
  double f[NF], p[NF], out[NF];
  const double ap[3] = {1.5, knee ? 20.0 : 1.2, 1.8}; /* offset, knee|exp, exp */
  const double g[2][3] = {{30, 0.8, 1.0}, {62, 0.5, 1.5}};
  for (int i = 0; i < NF; i++) {
    f[i] = 1 + 0.5 * i;
    double lp = knee ? ap[0] - log10(ap[1] + pow(f[i], ap[2])) : ap[0] - log10(pow(f[i], ap[1]));
    for (int k = 0; k < 2; k++)
      lp += g[k][1] * exp(-(f[i] - g[k][0]) * (f[i] - g[k][0]) / (2 * g[k][2] * g[k][2]));
    p[i] = pow(10, lp);
  }
  spy_fooof_opts o = SPY_FOOOF_DEFAULTS;
  o.knee = knee;
  spy_fooof_fit fit = {0};
  spy_err err = {0};
  int rc = spy_fooof(&o, f, p, NF, SPY_FOOOF_FULL, out, &fit, &err);
  CHECK(rc == SPY_OK, "recovery: %s", err.msg);
  if (rc) return;
  CHECK(fit.nap == (knee ? 3 : 2), "nap %d", fit.nap);
  for (int k = 0; k < fit.nap; k++)
    CHECK(relerr(fit.ap[k], knee ? ap[k] : (k ? ap[1] : ap[0])) <= 5e-3, "ap %d: %.9g", k, fit.ap[k]);
  CHECK(fit.npeaks == 2, "%s: %zu peaks", knee ? "knee" : "fixed", fit.npeaks);
  for (size_t q = 0; q < fit.npeaks && q < 2; q++)
    for (int j = 0; j < 3; j++)
      CHECK(j ? relerr(fit.gauss[3 * q + j], g[q][j]) <= 5e-3 : fabs(fit.gauss[3 * q] - g[q][0]) <= 1e-3,
            "peak %zu param %d: %.9g vs %g", q, j, fit.gauss[3 * q + j], g[q][j]);
  CHECK(fit.r_squared > 1 - 1e-5, "r2 %.12g", fit.r_squared);
  double worst = 0;
  for (int i = 0; i < NF; i++)
    worst = fmax(worst, relerr(out[i], p[i]));
  CHECK(worst <= 1e-2, "model vs spectrum: %g", worst);
  spy_fooof_fit_free(&fit);
}

/* Aperiodic spectra (exact and with multiplicative noise) give no peaks
** once min_peak_height is above the noise (with the default 0, FOOOF takes
** any bump over 2 std of the flattened spectrum, even rounding noise);
** fooof_peaks is then 1e-16 everywhere. */
static void no_peaks(void)
{
  enum { NF = 150 };
  double f[NF], p[NF], out[NF];
  unsigned s = 12345;
  for (int noisy = 0; noisy < 2; noisy++) {
    for (int i = 0; i < NF; i++) {
      f[i] = 2 + i;
      s = s * 1103515245u + 12345u;
      double u = ((s >> 8) & 0xffff) / 65536.0 - 0.5;
      p[i] = pow(10, 0.3 - log10(pow(f[i], 1.1)) + (noisy ? 0.01 * u : 0));
    }
    spy_fooof_opts o = SPY_FOOOF_DEFAULTS;
    o.max_n_peaks = 6, o.min_peak_height = 0.05;
    spy_fooof_fit fit = {0};
    spy_err err = {0};
    int rc = spy_fooof(&o, f, p, NF, SPY_FOOOF_PEAKS, out, &fit, &err);
    CHECK(rc == SPY_OK, "no peaks: %s", err.msg);
    CHECK(fit.npeaks == 0, "noisy=%d: %zu peaks", noisy, fit.npeaks);
    if (fit.npeaks == 0)
      for (int i = 0; i < NF; i++)
        CHECK(out[i] == 1e-16, "peaks output %g", out[i]);
    CHECK(relerr(fit.ap[1], 1.1) <= (noisy ? 1e-2 : 1e-9), "exponent %.12g", fit.ap[1]);
    spy_fooof_fit_free(&fit);
  }
}

static void bad_input(void)
{
  double f[5] = {1, 2, 3, 4, 5}, p[5] = {1, 0, 1, 1, 1}, out[5];
  spy_fooof_opts o = SPY_FOOOF_DEFAULTS;
  spy_err err = {0};
  CHECK(spy_fooof(&o, f, p, 5, SPY_FOOOF_FULL, out, NULL, &err) == SPY_EINVAL &&
            strstr(err.msg, "contains NaNs or Infs"),
        "zero power: %s", err.msg);
  CHECK(spy_fooof(&o, f, p, 2, SPY_FOOOF_FULL, out, NULL, &err) == SPY_EINVAL, "2 frequencies");
}

int main(void)
{
  reference("fooof_fixed.h5", SPY_FOOOF_FULL, true);
  reference("fooof_aperiodic.h5", SPY_FOOOF_APERIODIC, true);
  reference("fooof_peaks.h5", SPY_FOOOF_PEAKS, false);
  recovery(false);
  recovery(true);
  no_peaks();
  bad_input();
  return t_done();
}
