/*
** Wavelet method from first principles and Syncopy's validation:
** - a sinusoid's Morlet power peaks where the wavelet's centre frequency
**   w0/(2 pi s) meets it (foi = f0 (w0 + sqrt(w0^2 + 2)) / (2 w0)), with the
**   amplitude of cwt_time's normalisation, pi^-1/4 sqrt(2 pi)/(8 pi sqrt(dt))
**   per unit complex exponential;
** - Paul and DOG give finite results of the right shape; DOG (real) has an
**   imaginary part of exactly 0, as scipy's real convolution;
** - the automatic scale grid (dj = 0.25 from the period 2 dt up);
** - Syncopy's error messages and warnings, word for word;
** - the history entry.
*/
#include <unistd.h>

#include "core/log.h"
#include "core/pyfmt.h"
#include "dsp/cwt.h"
#include "test_wavelet_util.h"

/* One trial of a cosine at f0 (amplitude 1), 1000 Hz, starting at -1 s. */
typedef struct sig {
  double *x;
  double trl[3];
  tf_input t;
} sig;

static void sig_make(sig *s, size_t ns, size_t nch, double f0)
{
  s->x = malloc(ns * nch * sizeof *s->x);
  for (size_t i = 0; i < ns; i++)
    for (size_t c = 0; c < nch; c++) s->x[i * nch + c] = cos(2 * M_PI * f0 * (double)i / 1000);
  s->trl[0] = 0;
  s->trl[1] = (double)ns;
  s->trl[2] = -1000;
  tf_input_init(&s->t, s->x, ns, nch, s->trl, 1, 1000);
}

static void sig_free(sig *s)
{
  tf_input_free(&s->t);
  free(s->x);
}

#define CHECK_MSG(json, t, want) TF_CHECK_MSG(spy_wavelet_plan, json, t, want)

static void test_sinusoid_peak(void)
{
  sig s;
  sig_make(&s, 4000, 1, 40);
  double foi[201];
  for (int i = 0; i <= 200; i++) foi[i] = 30 + 0.1 * i;
  tf_input_foi(&s.t, foi, 201);
  s.t.c.polyremoval = -1;
  cJSON *cfg = tf_cfg("{\"method\": \"wavelet\"}");
  spy_op op = {0};
  spy_err err = {0};
  CHECK(spy_wavelet_plan(cfg, &s.t.trials, &s.t.c, &op, &err) == 0, "%s", err.msg);
  size_t rows;
  double complex *r = tf_run(&op, &s.t, &rows, NULL);
  size_t m = 2000, best = 0, nf = op.nfreq;
  for (size_t i = 0; i < nf; i++)
    if (creal(r[m * nf + i]) > creal(r[m * nf + best])) best = i;
  double w0 = 6, fpeak = 40 * (w0 + sqrt(w0 * w0 + 2)) / (2 * w0);
  CHECK(fabs(foi[best] - fpeak) <= 0.05 + 1e-9, "peak at %g Hz, expected %g", foi[best], fpeak);
  double amp = pow(M_PI, -0.25) * sqrt(2 * M_PI) / (8 * M_PI * sqrt(1e-3)) / 2;
  double sc = (1 / foi[best]) * (sqrt(w0 * w0 + 2) + w0) / (4 * M_PI);
  double want = pow(amp * exp(-0.5 * pow(sc * 2 * M_PI * 40 - w0, 2)), 2);
  CHECK(fabs(creal(r[m * nf + best]) - want) <= 1e-5 * want, "power %.9g, expected %.9g",
        creal(r[m * nf + best]), want);
  /* the frequency axis is foi itself */
  double fe = 0;
  for (size_t i = 0; i < nf; i++) fe = fmax(fe, fabs(op.freq[i] - foi[i]));
  CHECK(fe < 1e-9, "freq axis off by %g", fe);
  free(r);
  spy_op_free(&op);
  cJSON_Delete(cfg);
  sig_free(&s);
}

static void test_families(void)
{
  sig s;
  sig_make(&s, 2000, 3, 25);
  double foi[] = {5, 10, 25, 60, 120};
  tf_input_foi(&s.t, foi, 5);
  s.t.c.output = SPY_OUT_FOURIER;
  const char *cfgs[] = {"{\"method\": \"wavelet\", \"wavelet\": \"Paul\", \"order\": 4}",
                        "{\"method\": \"wavelet\", \"wavelet\": \"Paul\", \"order\": 12}",
                        "{\"method\": \"wavelet\", \"wavelet\": \"DOG\", \"order\": 3}",
                        "{\"method\": \"wavelet\", \"wavelet\": \"Mexican_hat\"}",
                        "{\"method\": \"wavelet\", \"wavelet\": \"Ricker\"}"};
  for (size_t q = 0; q < 5; q++) {
    cJSON *cfg = tf_cfg(cfgs[q]);
    spy_op op = {0};
    spy_err err = {0};
    CHECK(spy_wavelet_plan(cfg, &s.t.trials, &s.t.c, &op, &err) == 0, "%s: %s", cfgs[q], err.msg);
    CHECK(op.out_dtype == SPY_DT_C64 && op.inner[0] == 1 && op.inner[1] == 5 &&
              op.out_rows[0] == 2000 && op.ntaper == 1 && strcmp(op.taper[0], "None") == 0,
          "%s: geometry", cfgs[q]);
    size_t rows;
    double complex *r = tf_run(&op, &s.t, &rows, NULL);
    bool finite = true, realonly = true, nonzero = false;
    for (size_t i = 0; i < rows * 5 * 3; i++) {
      finite &= isfinite(creal(r[i])) && isfinite(cimag(r[i]));
      realonly &= cimag(r[i]) == 0;
      nonzero |= cabs(r[i]) > 0;
    }
    CHECK(rows == 2000 && finite && nonzero, "%s: %zu rows, finite %d", cfgs[q], rows, finite);
    bool dog = q >= 2;
    CHECK(realonly == dog, "%s: imaginary part %s", cfgs[q], dog ? "must be 0" : "expected");
    /* the 25 Hz row: identical channels give identical values */
    CHECK(cabs(r[(1000 * 5 + 2) * 3] - r[(1000 * 5 + 2) * 3 + 2]) == 0, "%s: channels",
          cfgs[q]);
    free(r);
    spy_op_free(&op);
    cJSON_Delete(cfg);
  }
  /* Paul(m) power of a sinusoid peaks where s w = m: foi = f0 (2m+1)/(2m) */
  double grid[121];
  for (int i = 0; i <= 120; i++) grid[i] = 20 + 0.1 * i;
  tf_input_foi(&s.t, grid, 121);
  s.t.c.output = SPY_OUT_POW;
  s.t.c.polyremoval = -1;
  cJSON *cfg = tf_cfg("{\"method\": \"wavelet\", \"wavelet\": \"Paul\", \"order\": 8}");
  spy_op op = {0};
  spy_err err = {0};
  CHECK(spy_wavelet_plan(cfg, &s.t.trials, &s.t.c, &op, &err) == 0, "%s", err.msg);
  size_t rows, best = 0;
  double complex *r = tf_run(&op, &s.t, &rows, NULL);
  for (size_t i = 0; i < 121; i++)
    if (creal(r[(1000 * 121 + i) * 3]) > creal(r[(1000 * 121 + best) * 3])) best = i;
  CHECK(fabs(grid[best] - 25 * 17.0 / 16) <= 0.1, "Paul(8) peak at %g, expected %g", grid[best],
        25 * 17.0 / 16);
  free(r);
  spy_op_free(&op);
  cJSON_Delete(cfg);
  sig_free(&s);
}

static void test_auto_grid(void)
{
  sig s;
  sig_make(&s, 3000, 1, 10);
  const char *fams[] = {"{\"method\": \"wavelet\"}",
                        "{\"method\": \"wavelet\", \"wavelet\": \"Paul\", \"order\": 6}",
                        "{\"method\": \"wavelet\", \"wavelet\": \"DOG\", \"order\": 2}"};
  /* fourier_period(s) / s of each family: 4 pi/(w0 + sqrt(2 + w0^2)), 4 pi/(2m+1),
  ** 2 pi/sqrt(m + 1/2) */
  double fp[] = {4 * M_PI / (6 + sqrt(38.0)), 4 * M_PI / 13, 2 * M_PI / sqrt(2.5)};
  for (int q = 0; q < 3; q++) {
    tf_log_reset();
    cJSON *cfg = tf_cfg(fams[q]);
    spy_op op = {0};
    spy_err err = {0};
    CHECK(spy_wavelet_plan(cfg, &s.t.trials, &s.t.c, &op, &err) == 0, "%s", err.msg);
    double s0 = 2e-3 / fp[q];
    size_t J = (size_t)(4 * log2(3000 * 1e-3 / s0));
    CHECK(op.nfreq == J + 1, "%s: %zu frequencies, expected %zu", fams[q], op.nfreq, J + 1);
    if (op.nfreq == J + 1) {
      double err1 = 0;
      for (size_t i = 0; i <= J; i++) {
        double want = 1 / (fp[q] * s0 * pow(2, 0.25 * (double)(J - i)));
        err1 = fmax(err1, fabs(op.freq[i] - want) / want);
      }
      CHECK(err1 < 1e-12 && fabs(op.freq[J] - 500) < 1e-9, "%s: grid off by %g, top %g",
            fams[q], err1, op.freq[J]);
      char msg[128];
      snprintf(msg, sizeof msg, "Setting frequencies of interest to %.1f-%.1fHz", op.freq[0],
               op.freq[J]);
      CHECK(tf_logged("INFO", msg), "%s: INFO '%s' not logged", fams[q], msg);
    }
    spy_op_free(&op);
    cJSON_Delete(cfg);
  }
  sig_free(&s);
}

static void test_messages(void)
{
  sig s;
  sig_make(&s, 3000, 2, 10); /* one trial, t in [-1, 2) s */
  double foi[] = {10, 20};
  tf_input_foi(&s.t, foi, 2);
  tf_input *t = &s.t;
  const char *eq = "expected array of equidistant time-points or 'all' for wavelet based methods";
  char want[512];
  snprintf(want, sizeof want, "Invalid value of `toi`: '0.5'; %s", eq);
  CHECK_MSG("{\"method\": \"wavelet\", \"toi\": 0.5}", t, want);
  snprintf(want, sizeof want, "Invalid value of `toi`: 'some'; %s", eq);
  CHECK_MSG("{\"method\": \"wavelet\", \"toi\": \"some\"}", t, want);
  snprintf(want, sizeof want, "Invalid value of `toi`: '[0.1 0.2 0.5]'; %s", eq);
  CHECK_MSG("{\"method\": \"wavelet\", \"toi\": [0.1, 0.2, 0.5]}", t, want);
  snprintf(want, sizeof want, "Invalid value of `toi`: '[-0.5  0.   0.3]'; %s", eq);
  CHECK_MSG("{\"method\": \"wavelet\", \"toi\": [-0.5, 0, 0.3]}", t, want);
  CHECK_MSG("{\"method\": \"wavelet\", \"toi\": [1.5, 2.5]}", t,
            "Invalid value of `toi`: 'array with range 1.5 to 2.5'; expected all array "
            "elements to be bounded by -1.0 and 2.0");
  /* descending: Syncopy's section is empty and numpy's indexing fails */
  CHECK_MSG("{\"method\": \"wavelet\", \"toi\": [0.5, 0.4, 0.3]}", t,
            "Invalid value of `toi`: '0.5'; expected ascending time-points within every trial "
            "(in trial 0 this one selects sample 0 of a 0-sample section)");
  CHECK_MSG("{\"method\": \"wavelet\", \"width\": 0.5}", t,
            "Invalid value of `width`: '0.5'; expected value to be greater or equals 1 and less "
            "or equals inf");
  CHECK_MSG("{\"method\": \"wavelet\", \"wavelet\": \"Paul\"}", t,
            "Wrong type of `order`: expected scalar found nil");
  CHECK_MSG("{\"method\": \"wavelet\", \"wavelet\": \"Paul\", \"order\": 3}", t,
            "Invalid value of `order`: '3'; expected value to be greater or equals 4 and less or "
            "equals 50");
  CHECK_MSG("{\"method\": \"wavelet\", \"wavelet\": \"DOG\", \"order\": 0}", t,
            "Invalid value of `order`: '0'; expected value to be greater or equals 1 and less or "
            "equals 50");
  /* spy's limit (Syncopy has none; the normalisation overflows near 85) */
  CHECK_MSG("{\"method\": \"wavelet\", \"wavelet\": \"Paul\", \"order\": 51}", t,
            "Invalid value of `order`: '51'; expected value to be greater or equals 4 and less or "
            "equals 50");

  /* warnings, in Syncopy's words */
  spy_err err = {0};
  tf_log_reset();
  CHECK(!tf_plan_error(spy_wavelet_plan,
                       "{\"method\": \"wavelet\", \"wavelet\": \"DOG\", \"order\": 2}", t, &err),
        "%s", err.msg);
  CHECK(tf_logged("WARNING", "the chosen wavelet 'DOG' is real-valued and does not provide any "
                          "information about amplitude or phase of the data. This wavelet "
                          "function may be used to isolate peaks or discontinuities in the "
                          "signal. "),
        "real-valued warning");
  CHECK(tf_logged("WARNING", "option `order` has no effect for `WaveletTransform`!"),
        "the `order` quirk for DOG");
  tf_log_reset();
  CHECK(!tf_plan_error(spy_wavelet_plan,
                       "{\"method\": \"wavelet\", \"wavelet\": \"Marr\", \"order\": 5}", t, &err),
        "%s", err.msg);
  CHECK(tf_logged("WARNING", "option `order` has no effect for wavelet 'Marr'"), "Marr order");
  CHECK(tf_logged("WARNING", "option `order` has no effect for `WaveletTransform`!"), "Marr quirk");
  tf_log_reset();
  CHECK(!tf_plan_error(spy_wavelet_plan,
                       "{\"method\": \"wavelet\", \"taper\": \"hamming\", \"keeptapers\": true, "
                       "\"c_1\": 4}",
                       t, &err),
        "%s", err.msg);
  CHECK(tf_logged("WARNING", "option `taper` has no effect for `WaveletTransform`!") &&
            tf_logged("WARNING", "option `keeptapers` has no effect for `WaveletTransform`!") &&
            tf_logged("WARNING", "option `c_1` has no effect for `WaveletTransform`!"),
        "ineffective options");
  CHECK(!tf_logged("WARNING", "option `toi` has no effect for `WaveletTransform`!") &&
            !tf_logged("WARNING", "option `width` has no effect for `WaveletTransform`!"),
        "effective options must not warn");
  /* second differences within numpy's allclose (1e-8) pass as equidistant,
  ** but steps drifting beyond allclose of the first step make Syncopy's
  ** trial definition fall back to samplerate 1 with a warning */
  char *js = malloc(20000);
  size_t u = (size_t)sprintf(js, "{\"method\": \"wavelet\", \"toi\": [");
  for (int i = 0; i < 400; i++)
    u += (size_t)sprintf(js + u, "%s%.17g", i ? ", " : "", -0.5 + 1e-3 * i + 0.45e-8 * i * i);
  sprintf(js + u, "]}");
  cJSON *cfg = tf_cfg(js);
  spy_op op = {0};
  tf_log_reset();
  CHECK(spy_wavelet_plan(cfg, &t->trials, &t->c, &op, &err) == 0, "%s", err.msg);
  CHECK(tf_logged("WARNING", "`SpectralData`'s `time` property currently does not support "
                          "unevenly spaced `toi` selections!"),
        "uneven toi steps");
  CHECK(op.samplerate == 1.0 && op.out_trldef && op.out_trldef[2] == -0.5,
        "uneven toi: samplerate %g, offset %g", op.samplerate, op.out_trldef ? op.out_trldef[2] : 0);
  spy_op_free(&op);
  cJSON_Delete(cfg);
  free(js);
  sig_free(&s);
}

static void test_log(void)
{
  sig s;
  sig_make(&s, 3000, 1, 10);
  double foi[50];
  for (int i = 0; i < 50; i++) foi[i] = 2 + 2 * i;
  tf_input_foi(&s.t, foi, 50);
  cJSON *cfg = tf_cfg("{\"method\": \"wavelet\", \"toi\": \"all\"}");
  spy_op op = {0};
  spy_err err = {0};
  CHECK(spy_wavelet_plan(cfg, &s.t.trials, &s.t.c, &op, &err) == 0, "%s", err.msg);
  /* str(numpy.arange(2, 102, 2.)) is four lines of 14, 14, 14, 8 values;
  ** Syncopy keeps 30 characters from each end of values of 80 or more */
  const char *want = "computed wavelet_cF with settings\n\tmethod = wavelet\n\toutput = pow\n"
                     "\tkeeptapers = False\n\tkeeptrials = True\n\tpolyremoval = 0\n"
                     "\tpad = maxperlen\n\ttoi = all\n"
                     "\tfoi = [  2.   4.   6.   8.  10.  12., ...,  90.  92.  94.  96.  98. 100.]\n"
                     "\twavelet = Morlet\n\twidth = 6\n\torder = None\n";
  CHECK(op.log && strcmp(op.log, want) == 0, "log:\n%s\nwant:\n%s", op.log, want);
  spy_op_free(&op);
  cJSON_Delete(cfg);
  /* a long toi list: str() of the Python list, shortened to 30 + 30 */
  char js[1024];
  size_t u = (size_t)snprintf(js, sizeof js, "{\"method\": \"wavelet\", \"toi\": [");
  for (int i = 0; i < 20; i++) u += (size_t)snprintf(js + u, sizeof js - u, "%s%g", i ? ", " : "", -0.5 + 0.125 * i);
  snprintf(js + u, sizeof js - u, "]}");
  cfg = tf_cfg(js);
  CHECK(spy_wavelet_plan(cfg, &s.t.trials, &s.t.c, &op, &err) == 0, "%s", err.msg);
  /* str(list) computed by Python: */
  const char *line = "\ttoi = [-0.5, -0.375, -0.25, -0.125, , ..., .375, 1.5, 1.625, 1.75, 1.875]\n";
  CHECK(op.log && strstr(op.log, line), "log:\n%s\nwant the line:\n%s", op.log, line);
  spy_op_free(&op);
  cJSON_Delete(cfg);
  sig_free(&s);
}

static void test_np_str(void)
{
  char buf[4096];
  double a[] = {1e-5, 1}, b[] = {2, 4, 100}, c[] = {0.25, 0.5, 1.125};
  spy_np_str(a, 2, buf, sizeof buf);
  CHECK(strcmp(buf, "[1.e-05 1.e+00]") == 0, "%s", buf);
  spy_np_str(b, 3, buf, sizeof buf);
  CHECK(strcmp(buf, "[  2.   4. 100.]") == 0, "%s", buf);
  spy_np_str(c, 3, buf, sizeof buf);
  CHECK(strcmp(buf, "[0.25  0.5   1.125]") == 0, "%s", buf);
  double *d = malloc(2000 * sizeof *d);
  for (int i = 0; i < 2000; i++) d[i] = i;
  spy_np_str(d, 2000, buf, sizeof buf);
  CHECK(strcmp(buf, "[0.000e+00 1.000e+00 2.000e+00 ... 1.997e+03 1.998e+03 1.999e+03]") == 0,
        "%s", buf);
  free(d);
}

int main(void)
{
  snprintf(tf_logpath, sizeof tf_logpath, "/tmp/spy_test_wavelet_%d.log", (int)getpid());
  spy_log_set_file(tf_logpath);
  spy_log_set_level(SPY_LOG_INFO);
  test_sinusoid_peak();
  test_families();
  test_auto_grid();
  test_messages();
  test_log();
  test_np_str();
  spy_log_set_file(NULL);
  unlink(tf_logpath);
  spy_fft_cleanup();
  return t_done();
}
