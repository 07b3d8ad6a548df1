/*
** mtmfft from first principles (syncopy.md 2.6): sinusoid peak heights,
** Parseval with sqrt(2) on every bin, padding and ft_compat scaling, taper
** normalisation and order, every output conversion, trial averaging and
** taper keeping metadata, foi order and ties, unequal trials, channel
** chunks, demean_taper and linear detrending.
*/
#include <complex.h>
#include <math.h>
#include <string.h>

#include "dsp/taper.h"
#include "dsp/windows.h"
#include "fa_util.h"
#include "t.h"

#define FS 1000.0

/* Runs json on d (all trials, all channels) and returns the output. */
static double complex *run(const char *json, fa_data *d, spy_op *op, size_t chunk, size_t *rows)
{
  spy_err err = {0};
  int rc = fa_plan(json, &d->t, op, &err);
  CHECK(rc == 0, "%s: %s", json, err.msg);
  if (rc) return NULL;
  double complex *r = fa_run(op, &d->t, d->x, chunk, rows, &err);
  CHECK(r != NULL, "%s: kernel: %s", json, err.msg);
  return r;
}

static void sinusoid_peaks(void)
{
  size_t L = 1000;
  fa_data d;
  fa_data_init(&d, 1, &L, NULL, 1, FS);
  double A = 3;
  for (size_t n = 0; n < L; n++)
    d.x[n] = A * cos(2 * M_PI * 50 * (double)n / FS + 0.3) + 1.5;
  spy_op op;
  size_t rows;

  /* boxcar on a bin: all power A^2/2 in one bin, none elsewhere */
  double complex *r = run("{\"taper\": null}", &d, &op, 0, &rows);
  if (r) {
    CHECK(op.ntaper == 1 && !strcmp(op.taper[0], "None"), "taper label %s", op.taper[0]);
    CHECK_NEAR(creal(r[50]), A * A / 2, 1e-5 * A * A, "boxcar peak power A^2/2");
    double rest = 0;
    for (size_t k = 0; k < op.nfreq; k++)
      if (k != 50) rest = fmax(rest, creal(r[k]));
    CHECK(rest < 1e-10, "boxcar leakage %g", rest);
    CHECK_NEAR(op.freq[50], 50.0, 1e-12, "peak frequency");
  }
  free(r);
  spy_op_free(&op);

  /* hann: peak (A^2/2)(4/3)(sum w)/L, the three bins hold A^2/2 */
  r = run("{\"taper\": \"hann\"}", &d, &op, 0, &rows);
  if (r) {
    double w[1000], sw = 0;
    spy_window("hann", L, true, NULL, w, NULL);
    for (size_t n = 0; n < L; n++)
      sw += w[n];
    size_t kmax = 0;
    for (size_t k = 0; k < op.nfreq; k++)
      if (creal(r[k]) > creal(r[kmax])) kmax = k;
    CHECK(kmax == 50, "hann peak at bin %zu", kmax);
    CHECK_NEAR(creal(r[50]), A * A / 2 * (4.0 / 3) * sw / (double)L, 2e-5 * A * A, "hann peak");
    double three = creal(r[49] + r[50] + r[51]);
    CHECK(fabs(three / (A * A / 2) - 1) < 5e-3, "hann: bins 49..51 hold %g of A^2/2",
          three / (A * A / 2));
  }
  free(r);
  spy_op_free(&op);
  fa_data_free(&d);
}

/* sum_k pow_k = (N sum x^2 + D_0^2 + D_{N/2}^2) / L^2 with boxcar and x
** zero-padded to N (the boxcar's sqrt(N/L) cancels the sqrt(L N) of the
** scaling): sqrt(2) on every bin, DC and Nyquist included. */
static void parseval(size_t L, const char *json, size_t N)
{
  fa_data d;
  fa_data_init(&d, 1, &L, NULL, 1, FS);
  unsigned long long s = 7 + L;
  for (size_t n = 0; n < L; n++)
    d.x[n] = fa_randn(&s) + 0.7;
  spy_op op;
  size_t rows;
  double complex *r = run(json, &d, &op, 0, &rows);
  if (r) {
    CHECK(op.nfreq == N / 2 + 1, "%s: %zu bins", json, op.nfreq);
    double e = 0, d0 = 0, dn = 0, sum = 0;
    for (size_t n = 0; n < L; n++) {
      e += d.x[n] * d.x[n];
      d0 += d.x[n];
      dn += (n % 2 ? -1 : 1) * d.x[n];
    }
    double want = ((double)N * e + d0 * d0 + (N % 2 ? 0 : dn * dn)) / ((double)L * (double)L);
    for (size_t k = 0; k < op.nfreq; k++)
      sum += creal(r[k]);
    CHECK(fabs(sum / want - 1) < 2e-6, "%s: Parseval %.9g vs %.9g", json, sum, want);
  }
  free(r);
  spy_op_free(&op);
  fa_data_free(&d);
}

static void padding_scales(void)
{
  size_t L = 1000;
  fa_data d;
  fa_data_init(&d, 1, &L, NULL, 2, FS);
  unsigned long long s = 99;
  for (size_t i = 0; i < 2 * L; i++)
    d.x[i] = fa_randn(&s);
  spy_op op, op2;
  size_t rows;
  double complex *a = run("{\"pad\": 2.0}", &d, &op, 0, &rows);
  double complex *b = run("{\"pad\": 2.0, \"ft_compat\": true}", &d, &op2, 0, &rows);
  if (a && b) {
    CHECK(op.nfreq == 1001 && op2.nfreq == 1001, "pad=2s: %zu bins", op.nfreq);
    double worst = 0;
    for (size_t i = 0; i < op.nfreq * 2; i++)
      if (creal(a[i]) > 1e-12) worst = fmax(worst, fabs(creal(b[i]) / creal(a[i]) - 0.5));
    CHECK(worst < 1e-6, "ft_compat / default power = L/N = 0.5 on every bin (off by %g)", worst);
  }
  free(a);
  free(b);
  spy_op_free(&op);
  spy_op_free(&op2);

  /* the peak height of a sinusoid does not depend on the padding */
  for (size_t n = 0; n < L; n++)
    d.x[2 * n] = 3 * cos(2 * M_PI * 50 * (double)n / FS);
  a = run("{\"taper\": null, \"pad\": 2.0}", &d, &op, 0, &rows);
  if (a) CHECK_NEAR(creal(a[100 * 2]), 4.5, 1e-5 * 4.5, "padded boxcar peak A^2/2");
  free(a);
  spy_op_free(&op);

  /* nextpow2 */
  a = run("{\"pad\": \"nextpow2\"}", &d, &op, 0, &rows);
  if (a)
    CHECK(op.nfreq == 513 && fabs(op.freq[1] - FS / 1024) < 1e-12, "nextpow2: %zu bins", op.nfreq);
  free(a);
  spy_op_free(&op);
  fa_data_free(&d);
}

static void taper_norms(void)
{
  spy_err err = {0};
  spy_taper t;
  cJSON *smo = cJSON_CreateNumber(4), *hann = cJSON_CreateString("hann");
  int rc = spy_taper_process(hann, NULL, smo, NULL, false, FS, 1000, "pow", &t, &err);
  CHECK(rc == 0 && t.dpss && t.K == 7, "dpss K=%zu: %s", t.K, err.msg);
  size_t L = 1000, N = 1500;
  double *w = malloc(t.K * L * sizeof *w);
  rc = spy_taper_compute(&t, L, N, true, w, &err);
  CHECK(rc == 0, "%s", err.msg);
  double worst = 0;
  for (size_t i = 0; !rc && i < t.K; i++)
    for (size_t j = 0; j < t.K; j++) {
      double s = 0;
      for (size_t n = 0; n < L; n++)
        s += w[i * L + n] * w[j * L + n];
      worst = fmax(worst, fabs(s - (i == j ? (double)N : 0)));
    }
  CHECK(worst < 1e-8 * (double)N, "dpss x sqrt(N): sum w_i w_j = N delta_ij (off by %g)", worst);
  spy_taper_clear(&t);

  /* boxcar: sum w^2 = N exactly; hann: (4/3) N sum w^2 / sum w ~ N */
  cJSON *none = cJSON_CreateNull();
  rc = spy_taper_process(none, NULL, NULL, NULL, false, FS, 1000, "pow", &t, &err);
  spy_taper_compute(&t, L, N, true, w, &err);
  double s2 = 0;
  for (size_t n = 0; n < L; n++)
    s2 += w[n] * w[n];
  CHECK(t.none && fabs(s2 - (double)N) < 1e-9 * (double)N, "boxcar sum w^2 = %g", s2);
  spy_taper_clear(&t);
  spy_taper_process(hann, NULL, NULL, NULL, false, FS, 1000, "pow", &t, &err);
  spy_taper_compute(&t, L, N, true, w, &err);
  s2 = 0;
  for (size_t n = 0; n < L; n++)
    s2 += w[n] * w[n];
  CHECK(fabs(s2 / (double)N - 1) < 2e-3, "hann sum w^2 / N = %g", s2 / (double)N);
  spy_taper_clear(&t);
  free(w);
  cJSON_Delete(smo);
  cJSON_Delete(hann);
  cJSON_Delete(none);
}

/* An impulse at n0 through keeptapers=True: output row k holds taper k,
** X_k(f) = sqrt(2)/sqrt(L N) w_k[n0] e^{-2 pi i f n0 / N}. */
static void taper_rows(void)
{
  size_t L = 500, n0 = 137;
  fa_data d;
  fa_data_init(&d, 1, &L, NULL, 1, FS);
  d.x[n0] = 1;
  spy_op op;
  size_t rows;
  double complex *r = run(
      "{\"tapsmofrq\": 10, \"keeptapers\": true, \"output\": \"fourier\", \"polyremoval\": null}",
      &d, &op, 0, &rows);
  if (r) {
    size_t K = op.inner[0];
    CHECK(K == 9 && op.ntaper == 9 && !strcmp(op.taper[8], "dpss8"), "K=%zu labels", K);
    spy_taper t;
    spy_err err = {0};
    cJSON *smo = cJSON_CreateNumber(10), *hann = cJSON_CreateString("hann");
    spy_taper_process(hann, NULL, smo, NULL, true, FS, (double)L, "fourier", &t, &err);
    double *w = malloc(K * L * sizeof *w), worst = 0;
    spy_taper_compute(&t, L, L, true, w, &err);
    for (size_t k = 0; k < K; k++)
      for (size_t f = 0; f < op.nfreq; f += 17) {
        double complex want = sqrt(2.0) / (double)L * w[k * L + n0] *
                              cexp(-2 * M_PI * I * (double)(f * n0 % L) / (double)L);
        worst = fmax(worst, cabs(r[k * op.nfreq + f] - want));
      }
    CHECK(worst < 1e-7, "taper rows: off by %g", worst);
    free(w);
    spy_taper_clear(&t);
    cJSON_Delete(smo);
    cJSON_Delete(hann);
  }
  free(r);
  spy_op_free(&op);
  fa_data_free(&d);
}

static void conversions(void)
{
  size_t L = 800;
  fa_data d;
  fa_data_init(&d, 2, (size_t[]){L, L}, NULL, 3, FS);
  unsigned long long s = 5;
  for (size_t i = 0; i < 2 * L * 3; i++)
    d.x[i] = fa_randn(&s);
  spy_op op;
  size_t rows;
  double complex *F = run("{\"output\": \"fourier\"}", &d, &op, 0, &rows);
  size_t n = rows * spy_op_row_elems(&op) * 3;
  spy_op_free(&op);
  static const char *names[] = {"pow",   "abs",     "real",    "imag",
                                "angle", "absreal", "absimag", "complex"};
  double fmax_ = 0;
  for (size_t i = 0; F && i < n; i++)
    fmax_ = fmax(fmax_, cabs(F[i]));
  for (int o = 0; F && o < 8; o++) {
    char json[64];
    snprintf(json, sizeof json, "{\"output\": \"%s\"}", names[o]);
    double complex *r = run(json, &d, &op, 0, &rows);
    spy_specout so;
    spy_specout_parse(names[o], &so);
    CHECK(op.out_dtype == spy_specout_dtype(so), "%s dtype", names[o]);
    double worst = 0;
    for (size_t i = 0; r && i < n; i++) {
      if (so == SPY_OUT_ANGLE && cabs(F[i]) < 1e-3 * fmax_) continue;
      double complex want = spy_specout_value(so, F[i]);
      double scale = so == SPY_OUT_POW ? fmax_ * fmax_ : (so == SPY_OUT_ANGLE ? 1 : fmax_);
      worst = fmax(worst, cabs(r[i] - want) / scale);
    }
    CHECK(r && worst < 2e-6, "output %s: off by %g", names[o], worst);
    free(r);
    spy_op_free(&op);
  }
  free(F);
  fa_data_free(&d);
}

static void trials_and_tapers(void)
{
  size_t lens[3] = {600, 600, 600};
  double offs[3] = {-1000, -500, 3};
  fa_data d;
  fa_data_init(&d, 3, lens, offs, 2, FS);
  unsigned long long s = 11;
  for (size_t i = 0; i < 1800 * 2; i++)
    d.x[i] = fa_randn(&s);
  spy_op op;
  spy_err err = {0};
  CHECK(fa_plan("{}", &d.t, &op, &err) == 0, "%s", err.msg);
  CHECK(!op.average && op.out_trlcols == 3, "keeptrials=true");
  for (size_t k = 0; k < 3; k++)
    CHECK(op.out_rows[k] == 1 && op.out_trldef[3 * k] == k && op.out_trldef[3 * k + 1] == k + 1 &&
              op.out_trldef[3 * k + 2] == offs[k],
          "trial row %zu: [%g %g %g]", k, op.out_trldef[3 * k], op.out_trldef[3 * k + 1],
          op.out_trldef[3 * k + 2]);
  spy_op_free(&op);

  size_t rows;
  double complex *each = run("{\"tapsmofrq\": 5}", &d, &op, 0, &rows);
  size_t per = spy_op_row_elems(&op) * 2;
  CHECK(op.inner[0] == 1 && op.ntaper == 1 && !strcmp(op.taper[0], "dpss0"),
        "averaged tapers: one row labelled dpss0");
  spy_op_free(&op);
  double complex *avg = run("{\"tapsmofrq\": 5, \"keeptrials\": false}", &d, &op, 0, &rows);
  CHECK(op.average && rows == 1 && op.out_trlcols == 3 && op.out_trldef[0] == 0 &&
            op.out_trldef[1] == 1 && op.out_trldef[2] == 0,
        "keeptrials=false: one row [0, 1, 0]");
  double worst = 0;
  for (size_t i = 0; each && avg && i < per; i++)
    worst = fmax(worst, cabs(avg[i] - (each[i] + each[per + i] + each[2 * per + i]) / 3) /
                            fmax(1e-30, cabs(avg[i])));
  CHECK(worst < 1e-6, "trial average is the mean of the trials (off by %g)", worst);
  free(each);
  free(avg);
  spy_op_free(&op);

  double complex *kt =
      run("{\"tapsmofrq\": 5, \"keeptapers\": true, \"output\": \"abs\"}", &d, &op, 0, &rows);
  CHECK(op.inner[0] == 5 && op.ntaper == 5 && !strcmp(op.taper[4], "dpss4") &&
            op.out_dtype == SPY_DT_F32,
        "keeptapers: %zu tapers", op.inner[0]);
  free(kt);
  spy_op_free(&op);
  fa_data_free(&d);
}

static void foi_order(void)
{
  size_t L = 2000;
  fa_data d;
  fa_data_init(&d, 1, &L, NULL, 1, FS);
  for (size_t n = 0; n < L; n++)
    d.x[n] = cos(2 * M_PI * 30 * (double)n / FS);
  spy_op op;
  size_t rows;
  /* bins are 0.5 Hz apart: 10.25 ties between 10 and 10.5 -> 10.5 */
  double complex *r = run("{\"foi\": [30, 10, 10.25, 10.1]}", &d, &op, 0, &rows);
  CHECK(op.nfreq == 3 && op.freq[0] == 30 && op.freq[1] == 10 && op.freq[2] == 10.5,
        "foi [30, 10, 10.25, 10.1] -> [%g %g %g] (%zu)", op.freq[0], op.freq[1],
        op.nfreq > 2 ? op.freq[2] : -1, op.nfreq);
  if (r) CHECK(creal(r[0]) > 100 * creal(r[1]), "the first output bin is 30 Hz");
  free(r);
  spy_op_free(&op);
  r = run("{\"foilim\": [40, 20]}", &d, &op, 0, &rows);
  CHECK(op.nfreq == 41 && op.freq[0] == 20 && op.freq[40] == 40, "foilim sorted: %zu bins",
        op.nfreq);
  free(r);
  spy_op_free(&op);
  fa_data_free(&d);
}

static void unequal_and_chunks(void)
{
  size_t lens[2] = {900, 1000};
  fa_data d;
  fa_data_init(&d, 2, lens, NULL, 8, FS);
  unsigned long long s = 3;
  for (size_t n = 0; n < 1900; n++)
    for (size_t c = 0; c < 8; c++)
      d.x[n * 8 + c] = fa_randn(&s) * 0.1 + 2 * cos(2 * M_PI * 100 * (double)n / FS + (double)c);
  spy_op op;
  size_t rows;
  double complex *a = run("{\"taper\": null}", &d, &op, 0, &rows);
  CHECK(op.nfreq == 501, "maxperlen pads to 1000: %zu bins", op.nfreq);
  /* the 900-sample trial padded to 1000: the peak height at 100 Hz stays A^2/2 */
  if (a)
    CHECK(fabs(creal(a[100 * 8 + 3]) / 2 - 1) < 0.02, "padded trial's peak %g of A^2/2",
          creal(a[100 * 8 + 3]) / 2);
  size_t rows2;
  spy_op op2;
  double complex *b = run("{\"taper\": null}", &d, &op2, 3, &rows2);
  double worst = 0, mx = 0;
  for (size_t i = 0; a && b && i < rows * 501 * 8; i++) {
    worst = fmax(worst, cabs(a[i] - b[i]));
    mx = fmax(mx, cabs(a[i]));
  }
  CHECK(a && b && worst <= 1e-6 * mx, "chunks of 3 channels = all channels (off by %g)",
        worst / mx);
  free(a);
  free(b);
  spy_op_free(&op);
  spy_op_free(&op2);
  fa_data_free(&d);
}

static void detrending(void)
{
  size_t L = 700;
  fa_data d;
  fa_data_init(&d, 1, &L, NULL, 2, FS);
  unsigned long long s = 8;
  for (size_t n = 0; n < L; n++) {
    d.x[2 * n] = 5 + 0.01 * (double)n; /* a line */
    d.x[2 * n + 1] = 3 + fa_randn(&s); /* offset noise */
  }
  spy_op op;
  size_t rows;
  double complex *r = run("{\"polyremoval\": 1, \"taper\": \"hann\"}", &d, &op, 0, &rows);
  double mx = 0;
  for (size_t k = 0; r && k < op.nfreq; k++)
    mx = fmax(mx, creal(r[2 * k]));
  CHECK(r && mx < 1e-20, "polyremoval=1 removes a line (max power %g)", mx);
  free(r);
  spy_op_free(&op);
  r = run("{\"polyremoval\": null, \"demean_taper\": true, \"taper\": \"hann\"}", &d, &op, 0,
          &rows);
  CHECK(r && creal(r[1]) < 1e-20 && creal(r[0]) < 1e-20, "demean_taper zeroes DC (%g, %g)",
        r ? creal(r[0]) : -1, r ? creal(r[1]) : -1);
  free(r);
  spy_op_free(&op);
  fa_data_free(&d);
}

int main(void)
{
  sinusoid_peaks();
  parseval(1000, "{\"taper\": null, \"polyremoval\": null}", 1000);
  parseval(999, "{\"taper\": null, \"polyremoval\": null}", 999);
  parseval(1000, "{\"taper\": null, \"polyremoval\": null, \"pad\": 1.5}", 1500);
  padding_scales();
  taper_norms();
  taper_rows();
  conversions();
  trials_and_tapers();
  foi_order();
  unequal_and_chunks();
  detrending();
  spy_fft_cleanup();
  return t_done();
}
