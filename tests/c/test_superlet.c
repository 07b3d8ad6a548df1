/*
** Superlet method from first principles and Syncopy's validation:
** - a sinusoid's superlet power peaks at its frequency (the SL Morlet's
**   centre frequency is 1/(2 pi s)), with cwtSL's normalisation: modulus
**   1/(4 pi sqrt(dt)) per unit complex exponential;
** - adaptive = multiplicative when order_min == order_max; the adaptive
**   transform uses only order_min at the lowest frequency and every order
**   at the highest (syncopy.md 2.10);
** - the outputs (pow, abs, fourier, angle, real, imag) are one value seen
**   through Syncopy's conversions;
** - the automatic scale grid; Syncopy's messages, warnings and history.
*/
#include <unistd.h>

#include "core/log.h"
#include "test_wavelet_util.h"

typedef struct sig {
  double *x;
  double trl[6];
  tf_input t;
} sig;

/* Two trials of ns samples at 1000 Hz from -1 s: a cosine at f0 plus a
** weaker one at 2.3 f0 on channel 1. */
static void sig_make(sig *s, size_t ns, double f0)
{
  s->x = malloc(2 * ns * 2 * sizeof *s->x);
  for (size_t k = 0; k < 2; k++)
    for (size_t i = 0; i < ns; i++) {
      double tt = (double)i / 1000;
      s->x[(k * ns + i) * 2] = cos(2 * M_PI * f0 * tt + (double)k);
      s->x[(k * ns + i) * 2 + 1] = cos(2 * M_PI * f0 * tt) + 0.3 * sin(2 * M_PI * 2.3 * f0 * tt);
    }
  double trl[6] = {0, (double)ns, -1000, (double)ns, (double)(2 * ns), -1000};
  memcpy(s->trl, trl, sizeof trl);
  tf_input_init(&s->t, s->x, 2 * ns, 2, s->trl, 2, 1000);
}

static void sig_free(sig *s)
{
  tf_input_free(&s->t);
  free(s->x);
}

static double complex *run(const char *json, tf_input *t, spy_op *op)
{
  cJSON *cfg = tf_cfg(json);
  spy_err err = {0};
  size_t rows;
  int rc = spy_superlet_plan(cfg, &t->trials, &t->c, op, &err);
  cJSON_Delete(cfg);
  CHECK(rc == 0, "%s: %s", json, err.msg);
  return rc ? NULL : tf_run(op, t, &rows, NULL);
}

#define CHECK_MSG(json, t, want) TF_CHECK_MSG(spy_superlet_plan, json, t, want)

static void test_sinusoid(void)
{
  sig s;
  sig_make(&s, 3000, 30);
  double foi[41];
  for (int i = 0; i <= 40; i++) foi[i] = 20 + 0.5 * i;
  tf_input_foi(&s.t, foi, 41);
  s.t.c.polyremoval = -1;
  spy_op op = {0};
  double complex *r = run("{\"method\": \"superlet\", \"order_max\": 4, \"c_1\": 3}", &s.t, &op);
  if (r) {
    size_t m = 1500, nf = op.nfreq, best = 0;
    for (size_t i = 0; i < nf; i++)
      if (creal(r[(m * nf + i) * 2]) > creal(r[(m * nf + best) * 2])) best = i;
    CHECK(foi[best] == 30, "superlet peak at %g Hz", foi[best]);
    double want = 1 / (64 * M_PI * M_PI * 1e-3);
    CHECK(fabs(creal(r[(m * nf + best) * 2]) - want) <= 1e-3 * want, "power %.7g, expected %.7g",
          creal(r[(m * nf + best) * 2]), want);
  }
  free(r);
  spy_op_free(&op);
  sig_free(&s);
}

static void test_adaptive_structure(void)
{
  sig s;
  sig_make(&s, 2000, 25);
  double foi[19];
  for (int i = 0; i < 19; i++) foi[i] = 10 + 5 * i;
  tf_input_foi(&s.t, foi, 19);
  spy_op a = {0}, m = {0};
  /* order_min == order_max: both are the single wavelet of c_1 * order cycles */
  double complex *A = run("{\"method\": \"superlet\", \"order_min\": 3, \"order_max\": 3, "
                          "\"adaptive\": true}",
                          &s.t, &a);
  double complex *M = run("{\"method\": \"superlet\", \"order_min\": 3, \"order_max\": 3}", &s.t,
                          &m);
  size_t rows = 4000, nf = 19;
  for (size_t c = 0; A && M && c < 2; c++) {
    double e = tf_relerr(A, M, rows, nf, 2, c);
    CHECK(e <= 1e-12, "adaptive vs multiplicative at order 3, channel %zu: %g", c, e);
  }
  free(A);
  free(M);
  spy_op_free(&a);
  spy_op_free(&m);

  /* orders 1..5 over 10..100 Hz: every integer order is present, the lowest
  ** frequency uses order 1 alone and the highest all five */
  spy_op ad = {0}, m1 = {0}, m5 = {0};
  A = run("{\"method\": \"superlet\", \"order_max\": 5, \"adaptive\": true}", &s.t, &ad);
  double complex *M1 = run("{\"method\": \"superlet\", \"order_max\": 1}", &s.t, &m1);
  double complex *M5 = run("{\"method\": \"superlet\", \"order_max\": 5}", &s.t, &m5);
  if (A && M1 && M5) {
    double e_lo = 0, e_hi = 0, d_mid = 0, n_lo = 0, n_hi = 0, n_mid = 0;
    for (size_t r = 0; r < rows; r++)
      for (size_t c = 0; c < 2; c++) {
        size_t lo = (r * nf) * 2 + c, hi = (r * nf + 18) * 2 + c, mid = (r * nf + 9) * 2 + c;
        e_lo = fmax(e_lo, cabs(A[lo] - M1[lo]));
        e_hi = fmax(e_hi, cabs(A[hi] - M5[hi]));
        d_mid = fmax(d_mid, fmin(cabs(A[mid] - M1[mid]), cabs(A[mid] - M5[mid])));
        n_lo = fmax(n_lo, cabs(M1[lo]));
        n_hi = fmax(n_hi, cabs(M5[hi]));
        n_mid = fmax(n_mid, cabs(M5[mid]));
      }
    CHECK(e_lo <= 1e-6 * n_lo, "adaptive at 10 Hz vs order 1: %g", e_lo / n_lo);
    CHECK(e_hi <= 1e-6 * n_hi, "adaptive at 100 Hz vs orders 1..5: %g", e_hi / n_hi);
    CHECK(d_mid > 1e-3 * n_mid, "adaptive at 55 Hz is neither (fractional order 3.25)");
  }
  free(A);
  free(M1);
  free(M5);
  spy_op_free(&ad);
  spy_op_free(&m1);
  spy_op_free(&m5);

  /* unsorted frequencies are sorted for the adaptive transform */
  double rev[] = {40, 20, 30};
  tf_input_foi(&s.t, rev, 3);
  tf_log_reset();
  spy_op so = {0};
  double complex *S = run("{\"method\": \"superlet\", \"order_max\": 3, \"adaptive\": true}",
                          &s.t, &so);
  CHECK(tf_logged("WARNING", "Sorting frequencies low to high for adaptive SLT.."), "sort warning");
  CHECK(so.nfreq == 3 && fabs(so.freq[0] - 20) < 1e-9 && fabs(so.freq[1] - 30) < 1e-9 &&
            fabs(so.freq[2] - 40) < 1e-9,
        "sorted freq axis");
  free(S);
  spy_op_free(&so);
  sig_free(&s);
}

static void test_outputs(void)
{
  sig s;
  sig_make(&s, 1500, 40);
  double foi[] = {20, 40, 92};
  tf_input_foi(&s.t, foi, 3);
  static const spy_specout outs[] = {SPY_OUT_POW,  SPY_OUT_ABS,  SPY_OUT_FOURIER,
                                     SPY_OUT_ANGLE, SPY_OUT_REAL, SPY_OUT_IMAG};
  double complex *v[6];
  spy_op op[6];
  for (int q = 0; q < 6; q++) {
    memset(&op[q], 0, sizeof op[q]);
    s.t.c.output = outs[q];
    v[q] = run("{\"method\": \"superlet\", \"order_min\": 2, \"order_max\": 4, \"adaptive\": "
               "true}",
               &s.t, &op[q]);
  }
  bool ok = true;
  size_t n = 3000 * 3 * 2;
  for (size_t i = 0; v[0] && v[5] && i < n; i++) {
    double pw = creal(v[0][i]), ab = creal(v[1][i]);
    double complex z = v[2][i];
    double tol = 1e-5 * (pw + 1e-30);
    ok &= fabs(ab * ab - pw) <= tol && fabs(creal(z * conj(z)) - pw) <= tol;
    ok &= fabs(creal(v[4][i]) - creal(z)) <= 1e-6 * ab && fabs(creal(v[5][i]) - cimag(z)) <= 1e-6 * ab;
    ok &= cabs(z) < 1e-6 * ab || fabs(creal(v[3][i]) - carg(z)) <= 1e-5 ||
          fabs(fabs(creal(v[3][i]) - carg(z)) - 2 * M_PI) <= 1e-5;
  }
  CHECK(ok, "pow, abs, fourier, angle, real and imag disagree");
  CHECK(op[2].out_dtype == SPY_DT_C64 && op[0].out_dtype == SPY_DT_F32, "dtypes");
  for (int q = 0; q < 6; q++) {
    free(v[q]);
    spy_op_free(&op[q]);
  }
  sig_free(&s);
}

static void test_auto_grid(void)
{
  sig s;
  sig_make(&s, 2500, 25);
  spy_op op = {0};
  spy_err err = {0};
  tf_log_reset();
  cJSON *cfg = tf_cfg("{\"method\": \"superlet\", \"order_max\": 2}");
  CHECK(spy_superlet_plan(cfg, &s.t.trials, &s.t.c, &op, &err) == 0, "%s", err.msg);
  double s0 = 2e-3 / (2 * M_PI);
  size_t J = (size_t)(4 * log2(2500 * 1e-3 / s0));
  CHECK(op.nfreq == J + 1, "%zu frequencies, expected %zu", op.nfreq, J + 1);
  if (op.nfreq == J + 1) {
    double e = 0;
    for (size_t i = 0; i <= J; i++) {
      double want = 1 / (2 * M_PI * s0 * pow(2, 0.25 * (double)(J - i)));
      e = fmax(e, fabs(op.freq[i] - want) / want);
    }
    CHECK(e < 1e-12 && fabs(op.freq[J] - 500) < 1e-9, "grid off by %g", e);
    char msg[128];
    snprintf(msg, sizeof msg, "Setting frequencies of interest to %.1f-%.1fHz", op.freq[0],
             op.freq[J]);
    CHECK(tf_logged("INFO", msg), "INFO '%s' not logged", msg);
  }
  spy_op_free(&op);
  cJSON_Delete(cfg);
  sig_free(&s);
}

static void test_messages(void)
{
  sig s;
  sig_make(&s, 1000, 25);
  double foi[] = {20, 30}, one[] = {20}, same[] = {20, 20};
  tf_input_foi(&s.t, foi, 2);
  tf_input *t = &s.t;
  CHECK_MSG("{\"method\": \"superlet\"}", t,
            "Invalid value of `order_max`: 'None'; expected Positive integer needed for "
            "order_max");
  CHECK_MSG("{\"method\": \"superlet\", \"order_max\": 0}", t,
            "Invalid value of `order_max`: '0'; expected value to be greater or equals 1 and "
            "less or equals 100");
  CHECK_MSG("{\"method\": \"superlet\", \"order_max\": 5, \"order_min\": 6}", t,
            "Invalid value of `order_min`: '6'; expected value to be greater or equals 1 and "
            "less or equals 5");
  CHECK_MSG("{\"method\": \"superlet\", \"order_max\": 5, \"c_1\": 0}", t,
            "Invalid value of `c_1`: '0'; expected value to be greater or equals 1 and less or "
            "equals 100");
  CHECK_MSG("{\"method\": \"superlet\", \"order_max\": 5, \"toi\": 0.5}", t,
            "Invalid value of `toi`: '0.5'; expected array of equidistant time-points or 'all' "
            "for wavelet based methods");
  tf_input_foi(t, one, 1);
  CHECK_MSG("{\"method\": \"superlet\", \"order_max\": 5, \"adaptive\": true}", t,
            "Invalid value of `foi`: 'Single frequency'; expected A range of frequencies");
  tf_input_foi(t, same, 2);
  CHECK_MSG("{\"method\": \"superlet\", \"order_max\": 5, \"adaptive\": true}", t,
            "Invalid value of `foi`: 'Single frequency'; expected A range of frequencies");
  tf_input_foi(t, one, 1);
  spy_err err = {0};
  CHECK(!tf_plan_error(spy_superlet_plan, "{\"method\": \"superlet\", \"order_max\": 5}", t, &err),
        "one frequency is fine for the multiplicative SLT: %s", err.msg);
  tf_log_reset();
  CHECK(!tf_plan_error(spy_superlet_plan,
                       "{\"method\": \"superlet\", \"order_max\": 2, \"width\": 7, \"wavelet\": "
                       "\"Paul\", \"order\": 4, \"tapsmofrq\": 2}",
                       t, &err),
        "%s", err.msg);
  CHECK(tf_logged("WARNING", "option `wavelet` has no effect for `SuperletTransform`!") &&
            tf_logged("WARNING", "option `width` has no effect for `SuperletTransform`!") &&
            tf_logged("WARNING", "option `order` has no effect for `SuperletTransform`!") &&
            tf_logged("WARNING", "option `tapsmofrq` has no effect for `SuperletTransform`!"),
        "ineffective options");
  CHECK(!tf_logged("WARNING", "option `order_max` has no effect for `SuperletTransform`!"),
        "order_max is effective");
  sig_free(&s);
}

static void test_log(void)
{
  sig s;
  sig_make(&s, 1000, 25);
  double foi[] = {10, 20.5};
  tf_input_foi(&s.t, foi, 2);
  cJSON *cfg = tf_cfg("{\"method\": \"superlet\", \"order_max\": 5, \"toi\": [-0.5, -0.4, "
                      "-0.3], \"polyremoval\": null, \"keeptrials\": false}");
  s.t.c.keeptrials = false;
  s.t.c.polyremoval = -1;
  spy_op op = {0};
  spy_err err = {0};
  CHECK(spy_superlet_plan(cfg, &s.t.trials, &s.t.c, &op, &err) == 0, "%s", err.msg);
  const char *want = "computed superlet_cF with settings\n\tmethod = superlet\n\toutput = pow\n"
                     "\tkeeptapers = False\n\tkeeptrials = False\n\tpolyremoval = None\n"
                     "\tpad = maxperlen\n\ttoi = [-0.5, -0.4, -0.3]\n\tfoi = [10.  20.5]\n"
                     "\tc_1 = 3\n\torder_max = 5\n\torder_min = 1\n";
  CHECK(op.log && strcmp(op.log, want) == 0, "log:\n%s\nwant:\n%s", op.log, want);
  /* keeptrials=false: one output trial, offset toi[0] * samplerate */
  CHECK(op.average && op.out_rows[0] == 3 && op.out_rows[1] == 3 &&
            fabs(op.samplerate - 10) < 1e-9 && fabs(op.out_trldef[2] + 5) < 1e-9,
        "averaged toi trial definition");
  spy_op_free(&op);
  cJSON_Delete(cfg);
  sig_free(&s);
}

int main(void)
{
  snprintf(tf_logpath, sizeof tf_logpath, "/tmp/spy_test_superlet_%d.log", (int)getpid());
  spy_log_set_file(tf_logpath);
  spy_log_set_level(SPY_LOG_INFO);
  test_sinusoid();
  test_adaptive_structure();
  test_outputs();
  test_auto_grid();
  test_messages();
  test_log();
  spy_log_set_file(NULL);
  unlink(tf_logpath);
  spy_fft_cleanup();
  return t_done();
}
