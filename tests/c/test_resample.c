/*
** spy.resampledata (src/dsp/resample.h, the plan in preprocessing.h):
** the rational factor as Python's Fraction computes it (literal results
** printed by CPython 3.11), output lengths and trial definitions as
** Syncopy's, resampled sinusoids, downsampling, and Syncopy's messages.
*/
#include <cjson/cJSON.h>
#include <string.h>

#include "core/kwspec.h"
#include "dsp/preprocessing.h"
#include "dsp/preprocessing_spec.h"
#include "dsp/resample.h"
#include "preproc_run.h"
#include "t.h"

#define FS 1000.0

/* plan from Lua-like keywords given as JSON; returns the status */
static int plan(const char *json, const spy_trials *in, spy_op *op, spy_err *err)
{
  return pp_plan(&spy_spec_resampledata, spy_resampledata_plan, json, in, op, err);
}

static void rational(void)
{
  /* Fraction.from_float(x).limit_denominator() */
  struct {
    double x;
    long n, d;
  } c[] = {{0.3, 3, 10},
           {333.3 / 1000, 3333, 10000},
           {999.7 / 1000, 9997, 10000},
           {1.0 / 3, 1, 3},
           {0.7853981633974483, 286602, 364913},
           {44100.0 / 48000, 147, 160},
           {0.1, 1, 10},
           {1.0 / 1000003, 1, 1000000},
           {2.0 / 3 * 0.999999, 333333, 500000},
           {1.0, 1, 1},
           {0.5, 1, 2}};
  for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
    long n = 0, d = 0;
    CHECK(spy_rational_approx(c[i].x, 1000000, &n, &d) == 0 && n == c[i].n && d == c[i].d,
          "%.17g -> %ld/%ld, Python: %ld/%ld", c[i].x, n, d, c[i].n, c[i].d);
  }
  long n, d;
  CHECK(spy_rational_approx(0, 1000000, &n, &d) != 0 && spy_rational_approx(1.5, 100, &n, &d) != 0,
        "ratios outside (0, 1] are refused");
  CHECK(spy_resample_len(1001, 3, 10) == 301 && spy_resample_len(1000, 3, 10) == 300,
        "ceil(n * up / down)");
}

/* The polyphase loop computes interior outputs in blocks that share their
** taps: every output must equal resample_poly's sum (taken here term by
** term from the definition) to rounding, and be the same bytes whether it
** was computed in a block or alone (a trial's values must not depend on
** where a block starts). */
static void polyphase_blocks(void)
{
  const long ratios[][2] = {{3, 10}, {1, 4}, {7, 9}, {1, 1000}};
  const size_t m = 1001, n = 5003;
  double *h = malloc(m * sizeof *h), *x = malloc(n * sizeof *x);
  unsigned long long s = 12345;
  for (size_t i = 0; i < n; i++) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    x[i] = (double)(s >> 11) / 9007199254740992.0 - 0.5;
  }
  for (size_t i = 0; i < m; i++) h[i] = sin(0.01 * (double)(i + 1)) / (double)(i + 1);
  for (size_t r = 0; r < sizeof ratios / sizeof *ratios; r++) {
    long up = ratios[r][0], down = ratios[r][1];
    spy_polyphase pp;
    CHECK(spy_polyphase_init(&pp, h, m, up, down) == 0, "polyphase %ld/%ld", up, down);
    size_t R = spy_resample_len(n, up, down);
    double *y = malloc(R * sizeof *y), worst = 0;
    spy_resample_channel(&pp, x, n, 0, R, y);
    size_t differ = 0;
    for (size_t k = 0; k < R; k++) {
      double one, want = 0, mag = 0;
      spy_resample_channel(&pp, x, n, k, k + 1, &one);
      if (memcmp(&one, &y[k], sizeof one) != 0) differ++;
      /* y[k] = sum_t h[k*down + (m-1)/2 - t*up] x[t] */
      for (size_t t = 0; t < n; t++) {
        long j = (long)k * down + (long)(m - 1) / 2 - (long)t * up;
        if (j >= 0 && j < (long)m) want += h[j] * x[t], mag += fabs(h[j] * x[t]);
      }
      double e = fabs(y[k] - want) / (mag > 0 ? mag : 1);
      if (e > worst) worst = e;
    }
    CHECK(differ == 0, "%ld/%ld: %zu of %zu outputs differ computed alone", up, down, differ, R);
    CHECK(worst < 1e-14, "%ld/%ld: off resample_poly's sum by %g (relative)", up, down, worst);
    free(y);
    spy_polyphase_release(&pp);
  }
  free(h);
  free(x);
}

#define expect_error(json, in, msg) \
  PP_EXPECT_ERROR(&spy_spec_resampledata, spy_resampledata_plan, json, in, msg)

int main(void)
{
  rational();
  polyphase_blocks();

  /* trials with a trialinfo column, which resampling drops */
  double trl[] = {0, 3000, -1000, 7, 3000, 5001, -500, 8, 5001, 8001, 0, 9};
  spy_trials in = {3, 2, FS, trl, 4, SPY_DT_F64, false};
  size_t tot = 8001, C = 2;
  double *x = malloc(tot * C * sizeof *x);
  for (size_t i = 0; i < tot; i++) {
    double t = (double)i / FS;
    x[i * C] = cos(2 * M_PI * 7 * t + 0.4);
    x[i * C + 1] = 0.5 * sin(2 * M_PI * 31 * t);
  }

  expect_error("{\"method\":\"foo\"}", &in,
               "Invalid value of `method`: 'foo'; expected 'downsample' or 'resample' ");
  expect_error("{\"resamplefs\":2000}", &in,
               "Invalid value of `resamplefs`: '2000'; expected value to be greater or equals 1 "
               "and less or equals 1000.0");
  expect_error("{\"resamplefs\":300,\"method\":\"downsample\"}", &in,
               "Invalid value of `resamplefs`: '300'; expected integer division of the original "
               "sampling rate for `method='downsample'`");
  expect_error("{\"resamplefs\":300,\"lpfreq\":200}", &in,
               "Invalid value of `lpfreq`: '200'; expected value to be greater or equals 0 and "
               "less or equals 150.0");
  expect_error("{\"resamplefs\":300,\"order\":10.5}", &in,
               "Invalid value of `order`: '10.5'; expected int_like");

  /* resample 1000 -> 300 Hz: frequency and amplitude kept */
  spy_op op;
  spy_err err;
  size_t rows = 0;
  unsigned fl = 0;
  CHECK(plan("{\"resamplefs\":300}", &in, &op, &err) == 0, "%s", err.msg);
  CHECK(op.log && strcmp(op.log, "computed resample_cF with settings\n\tmethod = resample\n"
                                  "\tresamplefs = 300\n\torigfs = 1000.0\n\tlpfreq = None\n"
                                  "\torder = 1000\n") == 0,
        "log:\n%s", op.log);
  CHECK(op.samplerate == 300 && op.out_dtype == SPY_DT_F64 && op.out_trlcols == 3,
        "300 Hz, input dtype, three trial columns");
  size_t want_rows[] = {900, 601, 900};
  double want_trl[] = {0, 900, -300, 900, 1501, -150, 1501, 2401, 0};
  for (int k = 0; k < 3; k++) CHECK(op.out_rows[k] == want_rows[k], "rows[%d] %zu", k, op.out_rows[k]);
  for (int i = 0; i < 9; i++)
    CHECK(op.out_trldef[i] == want_trl[i], "trialdefinition[%d] = %g, want %g", i,
          op.out_trldef[i], want_trl[i]);
  double *y = pp_run(&op, &in, x, &rows, &fl, NULL, &err);
  CHECK(y && rows == 2401, "rows %zu", rows);
  double worst = 0;
  for (size_t i = 300; y && i < 600; i++) { /* inside trial 0, away from its edges */
    double t = (double)i / 300;
    worst = fmax(worst, fabs(y[i * C] - cos(2 * M_PI * 7 * t + 0.4)));
    worst = fmax(worst, fabs(y[i * C + 1] - 0.5 * sin(2 * M_PI * 31 * t)));
  }
  CHECK(worst < 5e-3, "resampled sinusoids off by %g", worst);
  free(y);
  spy_op_free(&op);

  /* 333.3 Hz = 1000 * 3333/10000: lengths ceil(n * 3333 / 10000) (the filter of
  ** order+1 taps at fc/3333 is Syncopy's, not a useful one) */
  CHECK(plan("{\"resamplefs\":333.3,\"order\":400}", &in, &op, &err) == 0, "%s", err.msg);
  CHECK(op.out_rows[0] == 1000 && op.out_rows[1] == 667, "333.3 Hz rows %zu %zu", op.out_rows[0],
        op.out_rows[1]);
  spy_op_free(&op);

  /* downsample: every 4th sample from the first, exactly */
  CHECK(plan("{\"resamplefs\":250,\"method\":\"downsample\"}", &in, &op, &err) == 0, "%s",
        err.msg);
  CHECK(op.out_dtype == SPY_DT_F64 && op.out_rows[0] == 750 && op.out_rows[1] == 501 &&
            op.out_rows[2] == 750,
        "downsample rows");
  CHECK(op.log && strcmp(op.log, "computed downsample_cF with settings\n\tmethod = downsample\n"
                                  "\tresamplefs = 250\n\torigfs = 1000.0\n") == 0,
        "log:\n%s", op.log);
  y = pp_run(&op, &in, x, &rows, &fl, NULL, &err);
  bool exact = y != NULL;
  size_t r = 0;
  for (size_t k = 0; y && k < 3; k++)
    for (size_t i = (size_t)trl[4 * k]; i < (size_t)trl[4 * k + 1]; i += 4, r++)
      for (size_t c = 0; c < C; c++) exact = exact && y[r * C + c] == x[i * C + c];
  CHECK(exact && r == rows, "downsample keeps samples 0, 4, 8, ... of every trial");
  free(y);
  spy_op_free(&op);

  /* downsample with an anti-alias filter: 120 Hz (above the new Nyquist) removed */
  for (size_t i = 0; i < tot; i++) x[i * C + 1] = cos(2 * M_PI * 120 * (double)i / FS);
  CHECK(plan("{\"resamplefs\":250,\"method\":\"downsample\",\"lpfreq\":100,\"order\":500}", &in,
             &op, &err) == 0,
        "%s", err.msg);
  CHECK(op.out_dtype == SPY_DT_F32, "filtered first: float32 as Syncopy stores it");
  y = pp_run(&op, &in, x, &rows, &fl, NULL, &err);
  double leak = 0, keep = 0;
  for (size_t i = 200; y && i < 500; i++) {
    leak = fmax(leak, fabs(y[i * C + 1]));
    keep = fmax(keep, fabs(y[i * C] - cos(2 * M_PI * 7 * (double)i / 250 + 0.4)));
  }
  CHECK(leak < 1e-3 && keep < 1e-3, "anti-aliased: 120 Hz leaks %g, 7 Hz off by %g", leak, keep);
  free(y);
  spy_op_free(&op);

  /* resamplefs = samplerate: a copy */
  CHECK(plan("{\"resamplefs\":1000}", &in, &op, &err) == 0, "%s", err.msg);
  y = pp_run(&op, &in, x, &rows, &fl, NULL, &err);
  CHECK(y && rows == tot && memcmp(y, x, tot * C * sizeof *x) == 0, "same rate: unchanged");
  free(y);
  spy_op_free(&op);

  free(x);
  spy_fft_cleanup();
  return t_done();
}
