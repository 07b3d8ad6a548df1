/*
** mtmconvol and welch from first principles (syncopy.md 2.7, 2.8): every
** window against a direct DFT of the detrended, tapered segment (zeros
** beyond the trial included in the trend), the three toi paths with their
** trial definitions and samplerates, the equidistant-toi quirk and its
** error, welch = NaN-mean over windows, welch of white noise is flat.
*/
#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "dsp/taper.h"
#include "fa_util.h"
#include "t.h"

#define FS 1000.0

static double complex *run(const char *json, fa_data *d, spy_op *op, size_t *rows)
{
  spy_err err = {0};
  int rc = fa_plan(json, &d->t, op, &err);
  CHECK(rc == 0, "%s: %s", json, err.msg);
  if (rc) return NULL;
  double complex *r = fa_run(op, &d->t, d->x, 0, rows, &err);
  CHECK(r != NULL, "%s: kernel: %s", json, err.msg);
  return r;
}

/* Tapers as the plan makes them: taper JSON fields, length M, N = M. */
static double *tapers(const char *taper, double smo, size_t M, double nmean, bool sym, size_t *K)
{
  spy_taper t;
  spy_err err = {0};
  cJSON *tj = taper ? cJSON_CreateString(taper) : cJSON_CreateNull();
  cJSON *sj = smo > 0 ? cJSON_CreateNumber(smo) : NULL;
  spy_taper_process(tj, NULL, sj, NULL, true, FS, nmean, "fourier", &t, &err);
  double *w = malloc(t.K * M * sizeof *w);
  spy_taper_compute(&t, M, M, sym, w, &err);
  *K = t.K;
  spy_taper_clear(&t);
  cJSON_Delete(tj);
  cJSON_Delete(sj);
  return w;
}

/* Bin k of segment v (M values) after detrending (0 mean, 1 line, -1 none)
** and taper w, times scale. */
static double complex naive(const double *v, size_t M, int poly, const double *w, size_t k,
                            double scale)
{
  double y[4096], mean = 0, slope = 0, mb = (double)(M - 1) / 2, sxx = 0;
  for (size_t m = 0; m < M; m++)
    mean += v[m] / (double)M;
  for (size_t m = 0; m < M; m++) {
    slope += ((double)m - mb) * v[m];
    sxx += ((double)m - mb) * ((double)m - mb);
  }
  slope = poly == 1 ? slope / sxx : 0;
  if (poly < 0) mean = 0;
  for (size_t m = 0; m < M; m++)
    y[m] = w[m] * (v[m] - mean - slope * ((double)m - mb));
  return fa_dft(y, M, M, k) * scale;
}

static void fill_noise(fa_data *d, size_t C, unsigned long long seed)
{
  for (size_t i = 0; i < d->total * C; i++)
    d->x[i] = fa_randn(&seed) + 0.5;
  for (size_t n = 0; n < d->total; n++)
    d->x[n * C] += 0.004 * (double)n; /* a trend */
}

/* toi fraction, dpss with kept tapers, linear detrending: every window. */
static void sliding_windows(void)
{
  size_t lens[2] = {1000, 1100}, C = 2;
  double offs[2] = {-500, 300};
  fa_data d;
  fa_data_init(&d, 2, lens, offs, C, FS);
  fill_noise(&d, C, 21);
  spy_op op;
  size_t rows;
  const char *json = "{\"method\": \"mtmconvol\", \"t_ftimwin\": 0.2, \"toi\": 0.3, "
                     "\"tapsmofrq\": 20, \"keeptapers\": true, \"output\": \"fourier\", "
                     "\"polyremoval\": 1, \"foilim\": [10, 200]}";
  double complex *r = run(json, &d, &op, &rows);
  size_t M = 200, step = M - (size_t)(0.3 * M), K = 0;
  double *w = tapers("hann", 20, M, 1050, false, &K);
  if (r) {
    /* NW from the mean trial length (1050): 20 * 1050 / 1000 = 21, K = 41 */
    CHECK(op.inner[0] == K && K == 41 && op.nfreq == 39 && op.freq[0] == 10 && op.freq[38] == 200,
          "K %zu, %zu freqs", op.inner[0], op.nfreq);
    CHECK(op.out_rows[0] == 8 && op.out_rows[1] == 8, "ceil(len/step) windows: %zu %zu",
          op.out_rows[0], op.out_rows[1]);
    CHECK(fabs(op.samplerate - 7.14) < 1e-12, "samplerate round(1000/140, 2) = %g", op.samplerate);
    CHECK(op.out_trldef[0] == 0 && op.out_trldef[1] == 8 && op.out_trldef[3] == 8 &&
              op.out_trldef[4] == 16 && fabs(op.out_trldef[2] - (-500.0 / 140)) < 1e-12 &&
              fabs(op.out_trldef[5] - 300.0 / 140) < 1e-12,
          "trial definitions [%g %g %g] [%g %g %g]", op.out_trldef[0], op.out_trldef[1],
          op.out_trldef[2], op.out_trldef[3], op.out_trldef[4], op.out_trldef[5]);
    double worst = 0, mx = 0, v[4096];
    size_t row = 0, per = spy_op_row_elems(&op);
    for (size_t k = 0; k < 2; k++) {
      size_t s0 = (size_t)d.trl[3 * k];
      for (size_t j = 0; j < op.out_rows[k]; j++, row++) {
        long a = (long)(j * step) - (long)(M / 2);
        for (size_t c = 0; c < C; c++) {
          for (size_t m = 0; m < M; m++) {
            long n = a + (long)m;
            v[m] = (n >= 0 && n < (long)lens[k]) ? d.x[(s0 + (size_t)n) * C + c] : 0;
          }
          for (size_t t = 0; t < K; t++)
            for (size_t f = 0; f < op.nfreq; f += 5) {
              double complex want =
                  naive(v, M, 1, w + t * M, (size_t)(op.freq[f] / 5), sqrt(2.0) / (double)M);
              double complex got = r[(row * per + t * op.nfreq + f) * C + c];
              worst = fmax(worst, cabs(got - want));
              mx = fmax(mx, cabs(want));
            }
        }
      }
    }
    CHECK(worst < 1e-6 * mx, "every window = DFT of the detrended tapered segment (off by %g)",
          worst / mx);
  }
  free(w);
  free(r);
  spy_op_free(&op);

  /* taper mean = mean of the kept tapers' power */
  double complex *kept =
      run("{\"method\": \"mtmconvol\", \"t_ftimwin\": 0.2, \"toi\": 0.3, \"tapsmofrq\": 20, "
          "\"keeptapers\": true}",
          &d, &op, &rows);
  size_t per = spy_op_row_elems(&op), nf = op.nfreq, nk = op.inner[0];
  spy_op_free(&op);
  double complex *mean =
      run("{\"method\": \"mtmconvol\", \"t_ftimwin\": 0.2, \"toi\": 0.3, \"tapsmofrq\": 20}", &d,
          &op, &rows);
  double worst = 0, mx = 0;
  for (size_t i = 0; kept && mean && i < rows; i++)
    for (size_t f = 0; f < nf; f++)
      for (size_t c = 0; c < C; c++) {
        double s = 0;
        for (size_t t = 0; t < nk; t++)
          s += creal(kept[(i * per + t * nf + f) * C + c]) / (double)nk;
        worst = fmax(worst, fabs(creal(mean[(i * nf + f) * C + c]) - s));
        mx = fmax(mx, s);
      }
  CHECK(worst < 1e-6 * mx, "keeptapers=false is the taper mean (off by %g)", worst / mx);
  free(kept);
  free(mean);
  spy_op_free(&op);
  fa_data_free(&d);
}

static void toi_all(void)
{
  /* overlapping input trials: output trials are re-cumulated */
  double trl[6] = {0, 300, -100, 150, 450, 20};
  fa_data d;
  size_t lens[1] = {450};
  fa_data_init(&d, 1, lens, NULL, 1, FS);
  d.t.ntrials = 2;
  d.trl = realloc(d.trl, sizeof trl);
  memcpy(d.trl, trl, sizeof trl);
  d.t.trldef = d.trl;
  fill_noise(&d, 1, 4);
  spy_op op;
  size_t rows;
  double complex *r =
      run("{\"method\": \"mtmconvol\", \"t_ftimwin\": 0.05, \"foi\": [40, 100]}", &d, &op, &rows);
  CHECK(r && rows == 600 && op.out_rows[0] == 300 && op.samplerate == FS, "toi='all': %zu rows",
        rows);
  CHECK(op.out_trldef[0] == 0 && op.out_trldef[1] == 300 && op.out_trldef[2] == -100 &&
            op.out_trldef[3] == 300 && op.out_trldef[4] == 600 && op.out_trldef[5] == 20,
        "re-cumulated trials [%g %g %g] [%g %g %g]", op.out_trldef[0], op.out_trldef[1],
        op.out_trldef[2], op.out_trldef[3], op.out_trldef[4], op.out_trldef[5]);
  if (r) {
    /* row 0 of trial 1 is centred on its first sample: window [-25, 25) */
    size_t K;
    double *w = tapers("hann", 0, 50, 300, true, &K), v[50];
    for (size_t m = 0; m < 50; m++)
      v[m] = m < 25 ? 0 : d.x[150 + m - 25];
    double complex want = naive(v, 50, 0, w, 2, sqrt(2.0) / 50);
    CHECK(fabs(creal(r[300 * 2]) - creal(want * conj(want))) < 1e-6 * creal(want * conj(want)),
          "first window of trial 1: %g vs %g", creal(r[600]), creal(want * conj(want)));
    free(w);
  }
  free(r);
  spy_op_free(&op);
  fa_data_free(&d);
}

static void toi_arrays(void)
{
  size_t lens[2] = {1000, 1000}, C = 1;
  double offs[2] = {-500, -500};
  fa_data d;
  fa_data_init(&d, 2, lens, offs, C, FS);
  fill_noise(&d, C, 77);
  spy_op op;
  size_t rows;
  spy_err err = {0};

  /* equidistant, one sample apart: soi cut, step 1, delta 1 */
  char json[8192];
  int used = snprintf(json, sizeof json,
                      "{\"method\": \"mtmconvol\", \"t_ftimwin\": 0.1, "
                      "\"foi\": [20, 50, 90], \"toi\": [");
  for (int i = 0; i < 300; i++)
    used += snprintf(json + used, sizeof json - (size_t)used, "%s%.3f", i ? ", " : "",
                     -0.2 + 0.001 * i);
  snprintf(json + used, sizeof json - (size_t)used, "]}");
  double complex *r = run(json, &d, &op, &rows);
  CHECK(r && op.out_rows[0] == 300 && fabs(op.samplerate - 1000) < 1e-6 &&
            fabs(op.out_trldef[2] - (-200)) < 1e-9,
        "equidistant toi: %zu rows, samplerate %g, offset %g", op.out_rows[0], op.samplerate,
        op.out_trldef[2]);
  if (r) {
    size_t K;
    double *w = tapers("hann", 0, 100, 1000, true, &K), worst = 0, mx = 0;
    for (size_t k = 0; k < 2; k++)
      for (size_t i = 0; i < 300; i += 7) {
        /* window i starts at round(sr (toi0 - tStart) - halfWin) + i = 250 + i */
        const double *v = d.x + k * 1000 + 250 + i;
        for (size_t f = 0; f < 3; f++) {
          double complex z = naive(v, 100, 0, w, (size_t)(op.freq[f] / 10), sqrt(2.0) / 100);
          double want = creal(z * conj(z));
          worst = fmax(worst, fabs(creal(r[(k * 300 + i) * 3 + f]) - want));
          mx = fmax(mx, want);
        }
      }
    CHECK(worst < 1e-6 * mx, "equidistant toi windows (off by %g)", worst / mx);
    free(w);
  }
  free(r);
  spy_op_free(&op);

  /* equidistant but coarse (10 samples < halfWin): Syncopy's algorithm cannot place one window per
   * point */
  int rc = fa_plan("{\"method\": \"mtmconvol\", \"t_ftimwin\": 0.1, \"toi\": [-0.2, -0.19, -0.18, "
                   "-0.17, -0.16]}",
                   &d.t, &op, &err);
  CHECK(rc == SPY_EINVAL && strstr(err.msg, "Invalid value of `toi`: '5 equidistant time points'"),
        "coarse equidistant toi: %s", err.msg);

  /* non-equidistant: one window per point, no detrending, bins re-matched */
  r = run("{\"method\": \"mtmconvol\", \"t_ftimwin\": 0.1, \"foi\": [20, 50, 90], "
          "\"toi\": [-0.375, 0.125, 0.3125], \"polyremoval\": 1}",
          &d, &op, &rows);
  CHECK(r && op.out_rows[0] == 3 && op.samplerate == 1.0 && op.out_trldef[2] == -0.375,
        "non-equidistant: %zu rows, samplerate %g, offset %g", op.out_rows[0], op.samplerate,
        op.out_trldef[2]);
  if (r) {
    /* binary-exact times: windows [t - halfWin, t + halfWin] of 101 samples */
    double ts[3] = {-0.375, 0.125, 0.3125}, worst = 0, mx = 0;
    size_t K;
    double *w = tapers("hann", 0, 101, 1000, true, &K);
    for (size_t k = 0; k < 2; k++)
      for (size_t i = 0; i < 3; i++) {
        long a = (long)(FS * (ts[i] + 0.5) - 50); /* padBegin is 0: toi[0] is 125 samples in */
        const double *v = d.x + k * 1000 + a;
        for (size_t f = 0; f < 3; f++) {
          /* nearest bin of the 101-point grid */
          size_t b = (size_t)lround(op.freq[f] * 101 / FS);
          double complex z = naive(v, 101, -1, w, b, sqrt(2.0) / 101);
          double want = creal(z * conj(z));
          worst = fmax(worst, fabs(creal(r[(k * 3 + i) * 3 + f]) - want));
          mx = fmax(mx, want);
        }
      }
    CHECK(worst < 1e-6 * mx, "non-equidistant windows (off by %g)", worst / mx);
    free(w);
  }
  free(r);
  spy_op_free(&op);

  /* evenly spaced but farther apart than halfWin: the window path, samplerate 1/step */
  r = run("{\"method\": \"mtmconvol\", \"t_ftimwin\": 0.1, \"toi\": [-0.4, -0.2, 0, 0.2]}", &d, &op,
          &rows);
  CHECK(r && op.out_rows[0] == 4 && fabs(op.samplerate - 5) < 1e-9 &&
            fabs(op.out_trldef[2] - (-2)) < 1e-9,
        "sparse even toi: samplerate %g offset %g", op.samplerate, op.out_trldef[2]);
  free(r);
  spy_op_free(&op);
  fa_data_free(&d);
}

static void welch(void)
{
  size_t lens[2] = {20000, 16000}, C = 2;
  fa_data d;
  fa_data_init(&d, 2, lens, NULL, C, FS);
  unsigned long long s = 1234;
  for (size_t i = 0; i < d.total * C; i++)
    d.x[i] = 2 * fa_randn(&s); /* sigma^2 = 4 */
  spy_op op;
  size_t rows;
  double complex *r =
      run("{\"method\": \"welch\", \"t_ftimwin\": 0.256, \"toi\": 0.5}", &d, &op, &rows);
  CHECK(r && op.out_rows[0] == 1 && op.inner[0] == 1 && op.nfreq == 129,
        "welch: one row per trial, %zu freqs", op.nfreq);
  CHECK(op.out_trlcols == 3 && op.out_trldef[3] == 1 && op.out_trldef[4] == 2 &&
            op.out_trldef[5] == 0,
        "welch trial rows [k, k+1, 0]");
  CHECK(fabs(op.samplerate - 7.81) < 1e-12, "welch samplerate round(1000/128, 2) = %g",
        op.samplerate);
  if (r) {
    /* flat at 2 sigma^2 sum(w~^2) / M^2 */
    size_t K;
    double *w = tapers("hann", 0, 256, 18000, true, &K), s2 = 0;
    for (size_t m = 0; m < 256; m++)
      s2 += w[m] * w[m];
    double level = 2 * 4 * s2 / (256.0 * 256.0), mean = 0, worst = 0;
    size_t n = 0;
    for (size_t k = 0; k < 2; k++)
      for (size_t f = 3; f < 126; f++)
        for (size_t c = 0; c < C; c++) {
          double v = creal(r[(k * 129 + f) * C + c]) / level;
          mean += v, n++;
          worst = fmax(worst, fabs(v - 1));
        }
    mean /= (double)n;
    /* ~140 windows per trial: 492 estimates of relative sd ~0.09 */
    CHECK(fabs(mean - 1) < 0.03 && worst < 0.5, "white noise is flat: mean %g, worst %g", mean,
          worst);
    free(w);
  }
  /* welch = the mean over the mtmconvol windows of the same settings */
  spy_op op2;
  size_t rows2;
  double complex *m =
      run("{\"method\": \"mtmconvol\", \"t_ftimwin\": 0.256, \"toi\": 0.5}", &d, &op2, &rows2);
  double worst = 0;
  for (size_t k = 0, r0 = 0; r && m && k < 2; r0 += op2.out_rows[k], k++)
    for (size_t i = 0; i < 129 * C; i++) {
      double s = 0;
      for (size_t j = 0; j < op2.out_rows[k]; j++)
        s += creal(m[(r0 + j) * 129 * C + i]);
      s /= (double)op2.out_rows[k];
      worst = fmax(worst, fabs(creal(r[k * 129 * C + i]) - s) / s);
    }
  CHECK(worst < 1e-5, "welch = mean of mtmconvol windows (off by %g)", worst);
  free(r);
  free(m);
  spy_op_free(&op);
  spy_op_free(&op2);

  /* a NaN only spoils the windows it is in */
  d.x[5000 * C + 1] = NAN;
  r = run("{\"method\": \"welch\", \"t_ftimwin\": 0.256, \"toi\": 0.5}", &d, &op, &rows);
  CHECK(r && !isnan(creal(r[10 * C + 1])) && !isnan(creal(r[10 * C])), "welch is a NaN-mean");
  free(r);
  spy_op_free(&op);
  fa_data_free(&d);
}

static void trial_average(void)
{
  size_t lens[2] = {1000, 1000}, lens2[2] = {1000, 1300};
  double offs[2] = {-500, 300};
  fa_data d;
  fa_data_init(&d, 2, lens, offs, 1, FS);
  spy_op op;
  spy_err err = {0};
  int rc = fa_plan("{\"method\": \"mtmconvol\", \"t_ftimwin\": 0.2, \"toi\": 0.5, "
                   "\"keeptrials\": false}",
                   &d.t, &op, &err);
  CHECK(rc == 0 && op.average && op.out_trldef[0] == 0 && op.out_trldef[1] == 10 &&
            fabs(op.out_trldef[2] - (-100.0 / 100)) < 1e-12,
        "keeptrials=false: trial 0's row, mean offset / step: [%g %g %g] %s", op.out_trldef[0],
        op.out_trldef[1], op.out_trldef[2], err.msg);
  spy_op_free(&op);
  fa_data_free(&d);
  fa_data_init(&d, 2, lens2, offs, 1, FS);
  rc = fa_plan("{\"method\": \"welch\", \"t_ftimwin\": 0.2, \"toi\": 0.5, \"keeptrials\": false}",
               &d.t, &op, &err);
  CHECK(rc == SPY_ENOTSUP &&
            !strcmp(err.msg,
                    "Averaging trials of unequal lengths in output currently not supported!"),
        "welch average of unequal trials: %s", err.msg);
  fa_data_free(&d);
}

int main(void)
{
  spy_log_set_level(SPY_LOG_ERROR);
  sliding_windows();
  toi_all();
  toi_arrays();
  welch();
  trial_average();
  spy_fft_cleanup();
  return t_done();
}
