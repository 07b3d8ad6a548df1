/*
** spy.preprocessing's plan and kernel (src/dsp/preprocessing.h): Syncopy's
** validation messages, the history entry, the NaN reporting contract and
** first-principles properties of the stages.
*/
#include <cjson/cJSON.h>
#include <string.h>

#include "core/kwspec.h"
#include "dsp/preprocessing.h"
#include "dsp/preprocessing_spec.h"
#include "preproc_run.h"
#include "t.h"

#define FS 1000.0

static double trl[16 * 3];
static spy_trials trials(size_t nt, const size_t *len, size_t nchan)
{
  double start = 0;
  for (size_t k = 0; k < nt; k++) {
    trl[3 * k] = start;
    trl[3 * k + 1] = start + (double)len[k];
    trl[3 * k + 2] = -1000;
    start += (double)len[k];
  }
  spy_trials t = {nt, nchan, FS, trl, 3, SPY_DT_F32, false};
  return t;
}

/* plan from Lua-like keywords given as JSON; returns the status */
static int plan(const char *json, const spy_trials *in, spy_op *op, spy_err *err)
{
  return pp_plan(&spy_spec_preprocessing, spy_preprocessing_plan, json, in, op, err);
}

#define expect_error(json, in, msg) \
  PP_EXPECT_ERROR(&spy_spec_preprocessing, spy_preprocessing_plan, json, in, msg)

static void validation(void)
{
  size_t len[] = {2000, 1500};
  spy_trials in = trials(2, len, 3);
  expect_error("{\"filter_class\":\"foo\"}", &in,
               "Invalid value of `filter_class`: 'foo'; expected 'but' or 'firws' ");
  expect_error("{\"filter_type\":\"xx\",\"freq\":10}", &in,
               "Invalid value of `filter_type`: 'xx'; expected one of ('lp', 'hp', 'bp', 'bs')");
  expect_error("{\"freq\":600}", &in,
               "Invalid value of `freq`: '600'; expected value to be greater or equals 0 and less "
               "or equals 500.0");
  expect_error("{}", &in, "Wrong type of `freq`: expected scalar found nil");
  expect_error("{\"filter_type\":\"lp\",\"freq\":[10,20]}", &in,
               "Wrong type of `freq`: expected scalar found list");
  expect_error("{\"filter_type\":\"bp\",\"freq\":[20,20]}", &in,
               "Invalid value of `freq`: '[20, 20]'; expected two different frequencies");
  expect_error("{\"filter_type\":\"bp\",\"freq\":[20,600]}", &in,
               "Invalid value of `freq`: 'array with range 20 to 600'; expected all array "
               "elements to be bounded by 0 and 500.0");
  expect_error("{\"filter_type\":\"bs\",\"freq\":[10,20,30]}", &in,
               "Invalid value of `freq`: 'shape = (3,)'; expected array of shape (2,)");
  expect_error("{\"filter_type\":\"bs\",\"freq\":50}", &in,
               "Wrong type of `freq`: expected array_like found integer");
  expect_error("{\"freq\":40,\"order\":4.5}", &in,
               "Invalid value of `order`: '4.5'; expected int_like");
  expect_error("{\"freq\":40,\"order\":-1}", &in,
               "Invalid value of `order`: '-1'; expected value to be greater or equals 0 and less "
               "or equals inf");
  expect_error("{\"filter_class\":null}", &in,
               "Invalid value of `filter_class/polyremoval/zscore`: 'neither filtering, detrending "
               "or zscore requested'; expected a preprocessing method");
  expect_error("{\"freq\":40,\"polyremoval\":2}", &in,
               "Invalid value of `polyremoval`: '2'; expected value to be greater or equals 0 and "
               "less or equals 1");
  expect_error("{\"freq\":40,\"rectify\":true,\"hilbert\":\"abs\"}", &in,
               "Invalid value of `rectify/hilbert`: 'rectify=true, hilbert=\"abs\"'; expected either "
               "rectification or Hilbert transform");
  expect_error("{\"freq\":40,\"hilbert\":\"foo\"}", &in,
               "Invalid value of `hilbert`: 'foo'; expected one of {'abs', 'complex', 'real', "
               "'imag', 'absreal', 'absimag', 'angle'}");
  expect_error("{\"freq\":40,\"hilbert\":true}", &in,
               "Invalid value of `hilbert`: 'true'; expected one of {'abs', 'complex', 'real', "
               "'imag', 'absreal', 'absimag', 'angle'}");
  expect_error("{\"freq\":40,\"window\":\"hann\"}", &in,
               "Invalid value of `window`: 'hann'; expected no `window` setting for IIR "
               "filtering");
  expect_error("{\"freq\":40,\"direction\":\"onepass-minphase\"}", &in,
               "Invalid value of `direction`: 'onepass-minphase'; expected 'onepass' or "
               "'twopass' ");
  expect_error("{\"filter_class\":\"firws\",\"freq\":40,\"window\":\"kaiser\"}", &in,
               "Invalid value of `window`: 'kaiser'; expected 'hamming' or 'hann' or 'blackman' ");
  expect_error("{\"filter_class\":\"firws\",\"freq\":40,\"direction\":\"both\"}", &in,
               "Invalid value of `direction`: 'both'; expected 'twopass' or 'onepass' or "
               "'onepass-minphase' ");
  expect_error("{\"freq\":500}", &in,
               "Digital filter critical frequencies must be 0 < Wn < fs/2 (fs=1000.0 -> "
               "fs/2=500.0)");
  size_t shortlen[] = {2000, 20};
  spy_trials sh = trials(2, shortlen, 1);
  expect_error("{\"filter_type\":\"bp\",\"freq\":[20,40]}", &sh,
               "trial 1 has 20 samples; a two-pass Butterworth filter of order 4 needs trials "
               "longer than 27 samples (scipy.signal.sosfiltfilt pads 27 samples at each edge); "
               "use direction='onepass' or a lower order");
  spy_trials none = trials(0, len, 1);
  expect_error("{\"freq\":40}", &none,
               "Invalid value of `data`: 'empty'; expected non-empty Syncopy data object");
}

/* x: sum(len) x C test signal */
static double *signal(const size_t *len, size_t nt, size_t C)
{
  size_t tot = 0;
  for (size_t k = 0; k < nt; k++) tot += len[k];
  double *x = malloc(tot * C * sizeof *x);
  for (size_t i = 0; i < tot; i++)
    for (size_t c = 0; c < C; c++)
      x[i * C + c] = 2 * cos(2 * M_PI * 10 * (double)i / FS + (double)c) +
                     sin(0.0123 * (double)(i * i % 10007) + (double)c) + 0.1 * (double)c;
  return x;
}

static void history_and_geometry(void)
{
  size_t len[] = {3000, 800};
  spy_trials in = trials(2, len, 2);
  spy_op op;
  spy_err err;
  CHECK(plan("{\"filter_type\":\"bp\",\"freq\":[40,20]}", &in, &op, &err) == 0, "%s", err.msg);
  CHECK(op.log && strcmp(op.log, "computed but_filtering_cF with settings\n"
                                  "\tpolyremoval = None\n\tzscore = False\n\torder = 4\n"
                                  "\tdirection = twopass\n\tfilter_class = but\n"
                                  "\tfilter_type = bp\n\tfreq = [20 40]\n") == 0,
        "log:\n%s", op.log);
  CHECK(op.cls == SPY_ANALOG && op.out_dtype == SPY_DT_F32 && op.samplerate == FS, "geometry");
  CHECK(op.out_rows[0] == 3000 && op.out_rows[1] == 800 && op.out_trlcols == 3 &&
            memcmp(op.out_trldef, trl, 6 * sizeof *trl) == 0,
        "same trials as the input");
  spy_op_free(&op);
  CHECK(plan("{\"filter_class\":\"firws\",\"freq\":40,\"hilbert\":\"complex\"}", &in, &op, &err) ==
            0,
        "%s", err.msg);
  CHECK(op.out_dtype == SPY_DT_C64, "hilbert='complex' gives complex64");
  CHECK(op.log && strcmp(op.log, "computed hilbert_cF with settings\n"
                                  "\tpolyremoval = None\n\tzscore = False\n\torder = 800\n"
                                  "\tdirection = twopass\n\tfilter_class = firws\n"
                                  "\tfilter_type = lp\n\tfreq = 40\n\thilbert = complex\n") == 0,
        "firws default order = shortest trial below 1000; log:\n%s", op.log);
  spy_op_free(&op);
}

static void hilbert_of_cosine(void)
{
  size_t len[] = {1000, 2000}, C = 1;
  spy_trials in = trials(2, len, C);
  double *x = malloc(3000 * sizeof *x);
  for (size_t i = 0; i < 3000; i++) x[i] = cos(2 * M_PI * 10 * (double)(i % 1000) / FS);
  const char *outs[] = {"imag", "real", "abs", "angle"};
  for (int o = 0; o < 4; o++) {
    char js[160];
    snprintf(js, sizeof js, "{\"filter_class\":null,\"polyremoval\":0,\"hilbert\":\"%s\"}",
             outs[o]);
    spy_op op;
    spy_err err;
    CHECK(plan(js, &in, &op, &err) == 0, "%s", err.msg);
    size_t rows = 0;
    unsigned fl = 0;
    double *y = pp_run(&op, &in, x, &rows, &fl, NULL, &err);
    double worst = 0;
    for (size_t i = 0; y && i < rows; i++) {
      double ph = 2 * M_PI * 10 * (double)(i % 1000) / FS, want;
      switch (o) {
      case 0: want = sin(ph); break;
      case 1: want = cos(ph); break;
      case 2: want = 1; break;
      default: want = atan2(sin(ph), cos(ph)); break;
      }
      double d = fabs(y[i] - want);
      if (o == 3) d = fmin(d, 2 * M_PI - d);
      worst = fmax(worst, d);
    }
    CHECK(y && worst < 1e-5, "hilbert '%s' of a cosine: off by %g", outs[o], worst);
    free(y);
    spy_op_free(&op);
  }
  free(x);
}

static void nan_reporting(void)
{
  size_t len[] = {2000, 2000, 2000}, C = 3;
  spy_trials in = trials(3, len, C);
  double *x = signal(len, 3, C);
  x[(2000 + 700) * C + 1] = NAN; /* trial 1, channel 1 */
  unsigned tf[3];
  size_t rows = 0;
  unsigned fl = 0;
  spy_op op;
  spy_err err;

  CHECK(plan("{\"filter_class\":\"firws\",\"freq\":40,\"order\":200,\"direction\":\"onepass\"}",
             &in, &op, &err) == 0,
        "%s", err.msg);
  double *y = pp_run(&op, &in, x, &rows, &fl, tf, &err);
  CHECK(y && tf[0] == 0 && tf[1] == SPY_TASK_HAS_NAN && tf[2] == 0, "only trial 1 flagged");
  size_t nnan = 0, elsewhere = 0;
  for (size_t i = 0; y && i < rows; i++)
    for (size_t c = 0; c < C; c++)
      if (isnan(y[i * C + c])) {
        nnan++;
        if (c != 1 || i < 2700 - 100 || i > 2700 + 100) elsewhere++;
      }
  CHECK(nnan == 201 && elsewhere == 0, "firws: NaN spread to %zu samples, %zu outside +-100",
        nnan, elsewhere);
  const char *w = spy_preprocessing_nan_warning(&op);
  CHECK(w && strcmp(w, "Syncopy <preprocessing>: Data contains NaNs! See "
                       "`.info['nan_trials']` for the offending trials") == 0,
        "firws warning: %s", w);
  const cJSON *nt = op.info ? cJSON_GetObjectItemCaseSensitive(op.info, "nan_trials") : NULL;
  CHECK(cJSON_IsArray(nt) && cJSON_GetArraySize(nt) == 0, "info.nan_trials = [] to be filled");
  free(y);
  spy_op_free(&op);

  CHECK(plan("{\"filter_type\":\"lp\",\"freq\":40,\"hilbert\":\"abs\"}", &in, &op, &err) == 0,
        "%s", err.msg);
  y = pp_run(&op, &in, x, &rows, &fl, tf, &err);
  CHECK(y && tf[1] == SPY_TASK_HAS_NAN && fl == SPY_TASK_HAS_NAN, "but: trial 1 flagged");
  bool whole = true;
  for (size_t i = 2000; y && i < 4000; i++) whole = whole && isnan(y[i * C + 1]);
  CHECK(whole && y && !isnan(y[3000 * C]), "but: the NaN channel of the trial is all NaN");
  w = spy_preprocessing_nan_warning(&op);
  CHECK(w && strstr(w, "offending trials\n\t\t try using a 'onepass' FIR filter of low order..") &&
            !op.info,
        "but + hilbert: warning with the FIR hint, no info (a fresh object): %s", w);
  free(y);
  spy_op_free(&op);

  CHECK(plan("{\"filter_class\":null,\"zscore\":true}", &in, &op, &err) == 0, "%s", err.msg);
  CHECK(!spy_preprocessing_nan_warning(&op) && !op.info, "zscore alone reports no NaN");
  spy_op_free(&op);
  free(x);
}

static void zscore_rectify_chunks(void)
{
  size_t len[] = {2500, 1800}, C = 11;
  spy_trials in = trials(2, len, C);
  double *x = signal(len, 2, C);
  spy_op op;
  spy_err err;
  size_t rows = 0;
  unsigned fl = 0;
  CHECK(plan("{\"filter_class\":null,\"zscore\":true,\"polyremoval\":1}", &in, &op, &err) == 0,
        "%s", err.msg);
  double *y = pp_run(&op, &in, x, &rows, &fl, NULL, &err);
  for (size_t k = 0, off = 0; y && k < 2; off += len[k], k++)
    for (size_t c = 0; c < C; c++) {
      double m = 0, v = 0;
      for (size_t i = off; i < off + len[k]; i++) m += y[i * C + c];
      m /= (double)len[k];
      for (size_t i = off; i < off + len[k]; i++) v += (y[i * C + c] - m) * (y[i * C + c] - m);
      CHECK(fabs(m) < 1e-6 && fabs(sqrt(v / (double)len[k]) - 1) < 1e-6,
            "zscore trial %zu channel %zu: mean %g, std %g", k, c, m, sqrt(v / (double)len[k]));
    }
  free(y);
  spy_op_free(&op);

  /* rectify = |filtered|; a channel chunk equals the same channels of the whole */
  const char *js[] = {"{\"filter_type\":\"bs\",\"freq\":[5,15],\"order\":3}",
                      "{\"filter_type\":\"bs\",\"freq\":[5,15],\"order\":3,\"rectify\":true}"};
  double *ys[2];
  for (int q = 0; q < 2; q++) {
    CHECK(plan(js[q], &in, &op, &err) == 0, "%s", err.msg);
    ys[q] = pp_run(&op, &in, x, &rows, &fl, NULL, &err);
    if (q == 1) {
      /* channels 3..5 of trial 0 as their own task */
      size_t n = len[0], cc = 3;
      double *sub = malloc(n * cc * sizeof *sub);
      for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < cc; c++) sub[i * cc + c] = x[i * C + 3 + c];
      float *out = malloc(n * cc * sizeof *out);
      void *scr = spy_fft_alloc(op.scratch_bytes(op.plan, n, cc));
      spy_task t = {0, 3, cc, sub, n, out, n, scr, 0};
      CHECK(op.kernel(op.plan, &t, &err) == 0, "%s", err.msg);
      bool same = true;
      for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < cc; c++) same = same && out[i * cc + c] == ys[1][i * C + 3 + c];
      CHECK(same, "a channel chunk gives the same numbers as the whole trial");
      spy_fft_free(scr);
      free(out);
      free(sub);
    }
    spy_op_free(&op);
  }
  bool rect = true;
  for (size_t i = 0; i < rows * C; i++) rect = rect && ys[1][i] == fabs(ys[0][i]);
  CHECK(rect, "rectify is the absolute value of the filtered signal");
  free(ys[0]);
  free(ys[1]);
  free(x);
}

/* firws (two passes as one) of 19 channels (a group of 16, one of 3): every
** channel's float32 result has the bytes of that channel filtered alone,
** from float64 input and from float32 input as stored (the scheduler's
** SPY_TASK_IN_F32), so the gathers into lanes and the write back put each
** sample where it belongs (trial lengths with and without a tail of 8). */
static void firws_channels_alone(void)
{
  size_t len[] = {2500, 1803}, C = 19;
  spy_trials in = trials(2, len, C);
  double *x = signal(len, 2, C);
  spy_op op;
  spy_err err;
  CHECK(plan("{\"filter_class\":\"firws\",\"freq\":40,\"order\":500}", &in, &op, &err) == 0,
        "%s", err.msg);
  for (size_t k = 0, off = 0; k < 2; off += len[k], k++) {
    const size_t n = len[k];
    float *xf = malloc(n * C * sizeof *xf), *whole = malloc(n * C * sizeof *whole);
    float *seam = malloc(n * C * sizeof *seam), *one = malloc(n * sizeof *one);
    double *ch = malloc(n * sizeof *ch);
    for (size_t i = 0; i < n * C; i++) xf[i] = (float)x[off * C + i];
    void *scr = spy_fft_alloc(op.scratch_bytes(op.plan, n, C));
    spy_task t = {k, 0, C, x + off * C, n, whole, n, scr, 0};
    CHECK(op.kernel(op.plan, &t, &err) == 0, "%s", err.msg);
    spy_task tf = {k, 0, C, (const double *)(const void *)xf, n, seam, n, scr, SPY_TASK_IN_F32};
    CHECK(op.kernel(op.plan, &tf, &err) == 0, "%s", err.msg);
    bool same = true, same_seam = true;
    for (size_t c = 0; c < C; c++) {
      for (size_t i = 0; i < n; i++) ch[i] = x[(off + i) * C + c];
      spy_task t1 = {k, c, 1, ch, n, one, n, scr, 0};
      CHECK(op.kernel(op.plan, &t1, &err) == 0, "%s", err.msg);
      for (size_t i = 0; i < n; i++) {
        same = same && memcmp(&one[i], &whole[i * C + c], sizeof *one) == 0;
        /* the float32 input is x rounded to float32: compare with itself alone */
        ch[i] = xf[i * C + c];
      }
      CHECK(op.kernel(op.plan, &t1, &err) == 0, "%s", err.msg);
      for (size_t i = 0; i < n; i++) same_seam = same_seam && memcmp(&one[i], &seam[i * C + c], sizeof *one) == 0;
    }
    CHECK(same, "trial %zu: 19 channels filtered together give each channel's own bytes", k);
    CHECK(same_seam, "trial %zu: the same from float32 input as stored", k);
    spy_fft_free(scr);
    free(xf), free(whole), free(seam), free(one), free(ch);
  }
  spy_op_free(&op);
  free(x);
}

int main(void)
{
  validation();
  history_and_geometry();
  hilbert_of_cosine();
  nan_reporting();
  zscore_rectify_chunks();
  firws_channels_alone();
  spy_fft_cleanup();
  return t_done();
}
