/* spy.synthdata generators: the op they plan (geometry, trial definition,
** seeds), the statistics and spectra of what they generate, the helpers
** mk_RandomAdjMat and ar2_peak_freq, Syncopy's error messages, and the
** generation speed.
**
** NumPy reference numbers were printed by NumPy 1.24.2, e.g.
**   np.random.default_rng(42).integers(1_000_000, size=5)
*/
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "core/interrupt.h"
#include "dsp/fft.h"
#include "synth/synth.h"
#include "synth/synth_spec.h"
#include "t.h"

static cJSON *J(const char *json)
{
  cJSON *c = cJSON_Parse(json);
  if (!c) {
    fprintf(stderr, "bad test JSON: %s\n", json);
    exit(2);
  }
  return c;
}

static int plan(const char *gen, const char *json, spy_op *op, spy_err *err)
{
  cJSON *cfg = J(json);
  int rc = spy_synth_plan(gen, cfg, op, err);
  cJSON_Delete(cfg);
  return rc;
}

/* All trials of op, concatenated (ntrials x rows x nchan). */
static float *run_all(const spy_op *op)
{
  size_t per = op->out_rows[0] * op->out_nchan;
  float *buf = malloc(op->ntrials * per * sizeof *buf);
  spy_err err = {0};
  for (size_t k = 0; k < op->ntrials; k++)
    if (spy_synth_trial(op, k, buf + k * per, &err) != SPY_OK) {
      fprintf(stderr, "trial %zu: %s\n", k, err.msg);
      exit(2);
    }
  return buf;
}

static float *generate(const char *gen, const char *json, spy_op *op)
{
  spy_err err = {0};
  if (plan(gen, json, op, &err) != SPY_OK) {
    fprintf(stderr, "%s %s: %s\n", gen, json, err.msg);
    exit(2);
  }
  return run_all(op);
}

/* Power spectrum |X_k|^2 of column c of an n x nchan block, added to pw
** (n/2+1 bins), through the FFT plan cache. */
static void add_power(const float *x, size_t n, size_t nchan, size_t c, double *pw)
{
  spy_err err = {0};
  fftw_plan p = spy_fft_plan_simple(SPY_FFT_R2C, (int)n, 1, &err);
  double *in = spy_fft_alloc(n * sizeof *in);
  fftw_complex *out = spy_fft_alloc((n / 2 + 1) * sizeof *out);
  for (size_t i = 0; i < n; i++)
    in[i] = x[i * nchan + c];
  fftw_execute_dft_r2c(p, in, out);
  for (size_t k = 0; k <= n / 2; k++)
    pw[k] += creal(out[k] * conj(out[k]));
  spy_fft_free(in);
  spy_fft_free(out);
}

static size_t argmax(const double *v, size_t n)
{
  size_t best = 1; /* skip DC */
  for (size_t i = 1; i < n; i++)
    if (v[i] > v[best]) best = i;
  return best;
}

/* ---- the op ---------------------------------------------------------------- */

static void test_op_geometry(void)
{
  spy_op op;
  spy_err err = {0};
  CHECK(plan("white_noise", "{\"nTrials\":4,\"nSamples\":300,\"nChannels\":3,\"samplerate\":250}",
             &op, &err) == SPY_OK,
        "%s", err.msg);
  CHECK(op.cls == SPY_ANALOG && op.out_dtype == SPY_DT_F32 && op.ninner == 0, "AnalogData float32");
  CHECK(op.ntrials == 4 && op.out_nchan == 3 && op.samplerate == 250, "trials, channels, rate");
  CHECK(!op.chan_independent, "random draws run across channels: one task per trial");
  CHECK(op.out_trlcols == 3, "trialdefinition has 3 columns");
  for (size_t k = 0; k < 4; k++) {
    CHECK(op.out_rows[k] == 300, "rows of trial %zu", k);
    /* [k N, (k+1) N, -samplerate]: every trial starts at t = -1 s */
    CHECK(op.out_trldef[3 * k] == 300.0 * k && op.out_trldef[3 * k + 1] == 300.0 * (k + 1) &&
              op.out_trldef[3 * k + 2] == -250.0,
          "trialdefinition row %zu: %g %g %g", k, op.out_trldef[3 * k], op.out_trldef[3 * k + 1],
          op.out_trldef[3 * k + 2]);
  }
  CHECK(op.log && strncmp(op.log, "computed white_noise with settings\n", 35) == 0 &&
            strstr(op.log, "\tnSamples = 300\n") && strstr(op.log, "\tseed = None\n") &&
            strstr(op.log, "\tseed_per_trial = True\n"),
        "log entry: %s", op.log ? op.log : "(null)");
  CHECK(strcmp(op.name, "white_noise") == 0, "op name");
  spy_op_free(&op);

  /* defaults are Syncopy's: 100 trials of 1000 x 2 at 1000 Hz */
  CHECK(plan("white_noise", "{}", &op, &err) == SPY_OK, "%s", err.msg);
  CHECK(op.ntrials == 100 && op.out_rows[0] == 1000 && op.out_nchan == 2 && op.samplerate == 1000 &&
            op.out_trldef[2] == -1000,
        "white_noise defaults");
  spy_op_free(&op);

  /* nTrials = nil: one array, which as Syncopy's plain ndarray starts at 0 */
  CHECK(plan("red_noise", "{\"alpha\":0.5,\"nTrials\":null}", &op, &err) == SPY_OK, "%s", err.msg);
  CHECK(op.ntrials == 1 && op.out_trldef[2] == 0.0, "nTrials=nil: one trial, offset 0");
  spy_op_free(&op);

  CHECK(plan("harmonic", "{\"freq\":10}", &op, &err) == SPY_OK && op.chan_independent,
        "harmonic is channel-independent");
  spy_op_free(&op);
  CHECK(plan("ar2_network", "{}", &op, &err) == SPY_OK && op.out_nchan == 2,
        "ar2_network default: 2 channels");
  spy_op_free(&op);
  CHECK(plan("ar2_network", "{\"AdjMat\":[[0,0,0],[0,0,0],[0,0,0]]}", &op, &err) == SPY_OK &&
            op.out_nchan == 3,
        "ar2_network channels from AdjMat");
  spy_op_free(&op);
}

/* The kernel through the scheduler contract: a task per trial (and per
** channel chunk when allowed) gives the same numbers as spy_synth_trial. */
static void test_kernel_contract(void)
{
  spy_op op;
  spy_err err = {0};
  float *ref =
      generate("harmonic", "{\"freq\":7,\"nTrials\":2,\"nSamples\":64,\"nChannels\":5}", &op);
  float chunk[64 * 2];
  spy_task t = {.trial = 1, .chan0 = 3, .nchan = 2, .out = chunk, .rows = 64};
  CHECK(op.kernel(op.plan, &t, &err) == SPY_OK, "%s", err.msg);
  int same = 1;
  for (size_t n = 0; n < 64; n++)
    for (size_t c = 0; c < 2; c++)
      same &= chunk[n * 2 + c] == ref[(64 + n) * 5 + 3 + c];
  CHECK(same, "channel chunk 3..4 equals the full trial's columns");
  spy_op_free(&op);
  free(ref);

  CHECK(plan("white_noise", "{\"nTrials\":2,\"nSamples\":64,\"nChannels\":4,\"seed\":1}", &op,
             &err) == SPY_OK,
        "%s", err.msg);
  float buf[64 * 4];
  spy_task bad = {.trial = 0, .chan0 = 1, .nchan = 2, .out = buf, .rows = 64};
  CHECK(op.kernel(op.plan, &bad, &err) == SPY_EINVAL && strstr(err.msg, "all channels"),
        "a random generator refuses a channel chunk: %s", err.msg);
  spy_interrupt_request();
  spy_task whole = {.trial = 0, .chan0 = 0, .nchan = 4, .out = buf, .rows = 64};
  CHECK(op.kernel(op.plan, &whole, &err) == SPY_EINTR, "interrupt flag is honoured");
  spy_interrupt_clear();
  CHECK(op.kernel(op.plan, &whole, &err) == SPY_OK, "%s", err.msg);
  spy_op_free(&op);

  /* a scheduler sizes scratch with scratch_bytes(plan, nsamp=0, nchan):
  ** generators have no input, so the plan's own channel count decides */
  ref = generate("phase_diffusion",
                 "{\"freq\":20,\"nTrials\":2,\"nSamples\":64,\"nChannels\":3,"
                 "\"rand_ini\":true,\"seed\":4}",
                 &op);
  size_t nb = op.scratch_bytes(op.plan, 0, 0);
  CHECK(nb >= 6 * sizeof(float), "phase_diffusion scratch for 3 channels: %zu bytes", nb);
  void *scratch = spy_fft_alloc(nb);
  float out[64 * 3];
  spy_task pt = {.trial = 1, .nchan = 3, .out = out, .rows = 64, .scratch = scratch};
  CHECK(op.kernel(op.plan, &pt, &err) == SPY_OK, "%s", err.msg);
  CHECK(memcmp(out, ref + 64 * 3, sizeof out) == 0, "kernel task equals spy_synth_trial");
  spy_fft_free(scratch);
  free(ref);
  spy_op_free(&op);
}

/* ---- seeds ------------------------------------------------------------------ */

static void test_seeds(void)
{
  /* collect_trials: default_rng(42).integers(1_000_000, size=5) */
  static const uint32_t s42[] = {89250, 773956, 654571, 438878, 433015};
  uint32_t got[5];
  spy_synth_trial_seeds(42, 5, got);
  CHECK(memcmp(got, s42, sizeof got) == 0, "per-trial seeds of seed 42: %u %u %u %u %u", got[0],
        got[1], got[2], got[3], got[4]);

  spy_op a, b, c, one;
  size_t per = 500 * 3;
  const char *cfg = "{\"nTrials\":3,\"nSamples\":500,\"nChannels\":3,\"seed\":42}";
  float *x = generate("white_noise", cfg, &a);
  float *y = generate("white_noise", cfg, &b);
  CHECK(memcmp(x, y, 3 * per * sizeof *x) == 0, "same seed, same data");
  CHECK(memcmp(x, x + per, per * sizeof *x) != 0, "seed_per_trial: trials differ");
  /* trial k is default_rng(seeds[k]): trial 1 equals a single array seeded 773956 */
  float *t1 = generate("white_noise",
                       "{\"nTrials\":null,\"nSamples\":500,\"nChannels\":3,\"seed\":773956}", &one);
  CHECK(memcmp(x + per, t1, per * sizeof *x) == 0, "trial 1 uses seed 773956");
  free(t1);
  spy_op_free(&one);

  float *z =
      generate("white_noise", "{\"nTrials\":3,\"nSamples\":500,\"nChannels\":3,\"seed\":43}", &c);
  double cor = 0;
  for (size_t i = 0; i < 3 * per; i++)
    cor += (double)x[i] * z[i];
  cor /= (double)(3 * per);
  CHECK(fabs(cor) < 5 / sqrt(3.0 * per), "seeds 42 and 43 uncorrelated: %g", cor);
  free(y);
  free(z);
  spy_op_free(&b);
  spy_op_free(&c);

  /* seed_per_trial = false: every trial is default_rng(seed), identical */
  float *w = generate("ar2_network", "{\"nTrials\":3,\"seed\":42,\"seed_per_trial\":false}", &b);
  float *w1 = generate("ar2_network", "{\"nTrials\":null,\"seed\":42}", &c);
  size_t pw = 1000 * 2;
  CHECK(memcmp(w, w + pw, pw * sizeof *w) == 0 && memcmp(w, w + 2 * pw, pw * sizeof *w) == 0,
        "seed_per_trial=false: identical trials");
  CHECK(memcmp(w, w1, pw * sizeof *w) == 0, "... each equal to the single array with that seed");
  free(w);
  free(w1);
  spy_op_free(&b);
  spy_op_free(&c);

  /* seed = nil: fresh entropy, trials and calls differ */
  float *e1 = generate("white_noise", "{\"nTrials\":2,\"nSamples\":500,\"nChannels\":3}", &b);
  float *e2 = generate("white_noise", "{\"nTrials\":2,\"nSamples\":500,\"nChannels\":3}", &c);
  CHECK(memcmp(e1, e1 + per, per * sizeof *e1) != 0, "seed=nil: trials differ");
  CHECK(memcmp(e1, e2, per * sizeof *e1) != 0, "seed=nil: calls differ");
  free(e1);
  free(e2);
  spy_op_free(&b);
  spy_op_free(&c);
  free(x);
  spy_op_free(&a);
}

/* Syncopy's own numbers: values of its generators (run with NumPy 1.24.2)
** at a few (row, channel) positions of the concatenated trials.  spy
** reproduces them bit for bit (docs/internals/synth.md). */
static void expect_values(const char *gen, const char *json, const size_t (*at)[2],
                          const float *want, size_t n)
{
  spy_op op;
  float *x = generate(gen, json, &op);
  for (size_t i = 0; i < n; i++) {
    float v = x[at[i][0] * op.out_nchan + at[i][1]];
    CHECK(v == want[i], "%s %s [%zu, %zu]: %.9g, Syncopy %.9g", gen, json, at[i][0], at[i][1], v,
          want[i]);
  }
  free(x);
  spy_op_free(&op);
}

static void test_syncopy_values(void)
{
  static const size_t wn_at[][2] = {{0, 0}, {0, 1}, {999, 1}, {1000, 0}, {1999, 1}};
  static const float wn[] = {-0x1.c111bap-5f, -0x1.be9dbep-4f, 0x1.f572c4p-3f, 0x1.afed18p-1f,
                             0x1.2d5c12p-5f};
  expect_values("white_noise", "{\"nTrials\":2,\"seed\":42}", wn_at, wn, 5);

  static const size_t ar_at[][2] = {{0, 0}, {2, 0}, {999, 0}, {999, 1}, {1999, 1}};
  static const float ar[] = {-0x1.c111bap-5f, -0x1.0313a8p+0f, 0x1.d8e57ap+1f, 0x1.4efab6p+0f,
                             -0x1.559728p+1f};
  expect_values("ar2_network", "{\"nTrials\":2,\"seed\":42}", ar_at, ar, 5);

  static const size_t rn_at[][2] = {{999, 2}};
  static const float rn[] = {0x1.7a65c4p-1f};
  expect_values("red_noise", "{\"alpha\":0.9,\"nTrials\":1,\"seed\":3,\"nChannels\":3}", rn_at, rn,
                1);

  static const size_t pd_at[][2] = {{0, 0}, {0, 3}, {2999, 3}, {5999, 2}};
  static const float pd[] = {0x1.0ae1b0p+2f, 0x1.203858p+0f, 0x1.80814cp+9f, 0x1.7e6a2ap+9f};
  expect_values("phase_diffusion",
                "{\"freq\":40.5,\"eps\":0.1,\"nTrials\":2,\"seed\":5,\"rand_ini\":true,"
                "\"return_phase\":true,\"nSamples\":3000,\"nChannels\":4}",
                pd_at, pd, 4);
}

/* ---- the generators ------------------------------------------------------- */

static void test_white_noise(void)
{
  /* 100 x 1000 x 2 = 2e5 samples: the standard error of the mean is
  ** 1/sqrt(n) = 0.0022, of the variance sqrt(2/n) = 0.0032; 5 of each */
  spy_op op;
  float *x = generate("white_noise", "{\"seed\":7}", &op);
  size_t n = 100 * 1000 * 2;
  double s1 = 0, s2 = 0;
  for (size_t i = 0; i < n; i++)
    s1 += x[i], s2 += (double)x[i] * x[i];
  double mean = s1 / (double)n, var = s2 / (double)n - mean * mean;
  CHECK_NEAR(mean, 0.0, 5 / sqrt((double)n), "white noise mean");
  CHECK_NEAR(var, 1.0, 5 * sqrt(2.0 / (double)n), "white noise variance");
  free(x);
  spy_op_free(&op);
}

static void test_linear_trend(void)
{
  spy_op op;
  float *x =
      generate("linear_trend", "{\"y_max\":5,\"nTrials\":2,\"nSamples\":101,\"nChannels\":3}", &op);
  CHECK(x[0] == 0.0f && x[100 * 3] == 5.0f, "endpoints 0 and y_max: %g %g", x[0], x[300]);
  CHECK(x[50 * 3 + 1] == 2.5f, "midpoint y_max/2: %g", x[151]);
  int ok = 1;
  for (size_t n = 0; n < 101; n++)
    for (size_t c = 0; c < 3; c++)
      ok &= x[n * 3 + c] == (float)(n * 0.05) && x[303 + n * 3 + c] == x[n * 3];
  CHECK(ok, "evenly spaced, same on every channel and trial");
  free(x);
  spy_op_free(&op);
}

static void test_harmonic(void)
{
  /* 30 Hz at 1000 Hz over 1000 samples: exactly bin 30; a cosine of
  ** amplitude 1 has |X_30| = N/2.  float32 rounding leaves ~1e-7. */
  spy_op op;
  float *x = generate("harmonic", "{\"freq\":30,\"nTrials\":1}", &op);
  double pw[501] = {0};
  add_power(x, 1000, 2, 1, pw);
  size_t k = argmax(pw, 501);
  CHECK(k == 30, "harmonic peak at bin %zu (30 Hz expected)", k);
  CHECK_NEAR(sqrt(pw[30]) / 500, 1.0, 1e-5, "harmonic amplitude");
  CHECK(x[0] == 1.0f && x[1] == x[0], "cos(0) = 1 on both channels");
  free(x);
  spy_op_free(&op);
}

static void test_phase_diffusion(void)
{
  /* weak diffusion keeps a clear spectral peak at freq: the mean power
  ** over 50 trials peaks within 1 Hz of 60 Hz */
  spy_op op;
  float *x =
      generate("phase_diffusion", "{\"freq\":60,\"eps\":0.01,\"nTrials\":50,\"seed\":3}", &op);
  static double pw[501];
  for (size_t k = 0; k < 50; k++)
    add_power(x + k * 2000, 1000, 2, 0, pw);
  size_t peak = argmax(pw, 501);
  CHECK(peak >= 59 && peak <= 61, "phase diffusion peak at %zu Hz (60 expected)", peak);
  free(x);
  spy_op_free(&op);

  /* eps = 0 and return_phase: the phase is 2 pi f t on Syncopy's time axis
  ** linspace(0, N/fs, N), whose step is N/fs/(N-1), not 1/fs */
  x = generate("phase_diffusion",
               "{\"freq\":10,\"eps\":0,\"return_phase\":true,\"nTrials\":1,\"nSamples\":100}", &op);
  float om = (float)(2 * M_PI * 10);
  CHECK(x[99 * 2] == om * 0.1f, "last phase 2 pi f N/fs: %.9g", x[198]);
  CHECK(x[2] == om * (float)(0.1 / 99), "second phase 2 pi f (N/fs)/(N-1): %.9g", x[2]);
  free(x);
  spy_op_free(&op);

  /* return_phase: the increments beyond the linear phase have variance
  ** 2 pi f / fs * eps (Brownian steps) */
  x = generate("phase_diffusion",
               "{\"freq\":50,\"eps\":0.2,\"return_phase\":true,\"rand_ini\":true,\"nTrials\":20,"
               "\"nSamples\":2001,\"seed\":11}",
               &op);
  double lin = 2 * M_PI * 50 * (2001.0 / 1000) / 2000, s2 = 0;
  size_t cnt = 0;
  for (size_t k = 0; k < 20; k++)
    for (size_t n = 1; n < 2001; n++)
      for (size_t c = 0; c < 2; c++) {
        double d = (double)x[(k * 2001 + n) * 2 + c] - x[(k * 2001 + n - 1) * 2 + c] - lin;
        s2 += d * d;
        cnt++;
      }
  double want = 2 * M_PI * 50 / 1000 * 0.2;
  /* float32 phases of up to ~630 rad carry ~3e-5 rounding per step */
  CHECK_NEAR(s2 / (double)cnt, want, 5 * want * sqrt(2.0 / (double)cnt) + 1e-8,
             "phase increment variance");
  int differ = 0, inrange = 1;
  for (size_t k = 0; k < 20; k++) {
    differ |= x[k * 2001 * 2] != x[k * 2001 * 2 + 1];
    for (size_t c = 0; c < 2; c++)
      inrange &= x[k * 2001 * 2 + c] > -2 && x[k * 2001 * 2 + c] < 2 * M_PI + 2;
  }
  CHECK(differ && inrange, "rand_ini: initial phases differ per channel, in [0, 2 pi) + noise");
  free(x);
  spy_op_free(&op);
}

/* Least squares y_t = sum_j b_j z_j,t over the rows of an n x 3 design. */
static void lsq3(const double *z, const double *y, size_t n, double b[3])
{
  double A[3][4] = {{0}};
  for (size_t t = 0; t < n; t++)
    for (int i = 0; i < 3; i++) {
      for (int j = 0; j < 3; j++)
        A[i][j] += z[t * 3 + i] * z[t * 3 + j];
      A[i][3] += z[t * 3 + i] * y[t];
    }
  for (int i = 0; i < 3; i++) /* Gauss-Jordan, SPD matrix: no pivoting needed */
    for (int r = 0; r < 3; r++) {
      if (r == i) continue;
      double f = A[r][i] / A[i][i];
      for (int j = 0; j < 4; j++)
        A[r][j] -= f * A[i][j];
    }
  for (int i = 0; i < 3; i++)
    b[i] = A[i][3] / A[i][i];
}

/* Regresses channel `to` on its own two lags and channel `from` at lag 1. */
static void ar2_fit(const float *x, size_t ntr, size_t nsamp, size_t nch, size_t to, size_t from,
                    double b[3])
{
  size_t n = ntr * (nsamp - 2);
  double *z = malloc(3 * n * sizeof *z), *y = malloc(n * sizeof *y);
  size_t r = 0;
  for (size_t k = 0; k < ntr; k++)
    for (size_t t = 2; t < nsamp; t++, r++) {
      const float *s = x + k * nsamp * nch;
      y[r] = s[t * nch + to];
      z[3 * r] = s[(t - 1) * nch + to];
      z[3 * r + 1] = s[(t - 2) * nch + to];
      z[3 * r + 2] = s[(t - 1) * nch + from];
    }
  lsq3(z, y, n, b);
  free(z);
  free(y);
}

static void test_ar2_network(void)
{
  spy_op op;
  float *x = generate("ar2_network", "{\"nTrials\":100,\"samplerate\":200,\"seed\":5}", &op);
  /* the uncoupled channel 2 peaks at ar2_peak_freq(0.55, -0.8) * 200 =
  ** 39.99 Hz; mean periodogram of 100 trials, 0.2 Hz bins */
  static double pw[501];
  for (size_t k = 0; k < 100; k++)
    add_power(x + k * 2000, 1000, 2, 1, pw);
  double fpeak, f = 0.2 * (double)argmax(pw, 501);
  spy_err err = {0};
  CHECK(spy_synth_ar2_peak_freq(0.55, -0.8, 200, &fpeak, &err) == SPY_OK, "%s", err.msg);
  CHECK_NEAR(f, fpeak, 1.0, "AR(2) spectral peak (Hz)");

  /* coupling 2 -> 1 with 0.25 (AdjMat[2][1] in Lua's 1-based terms), none
  ** 1 -> 2; the AR coefficients come back too.  ~1e5 rows: standard
  ** errors ~0.003, tolerance 0.02 */
  double b[3];
  ar2_fit(x, 100, 1000, 2, 0, 1, b);
  CHECK_NEAR(b[0], 0.55, 0.02, "channel 1: lag-1 coefficient");
  CHECK_NEAR(b[1], -0.8, 0.02, "channel 1: lag-2 coefficient");
  CHECK_NEAR(b[2], 0.25, 0.02, "coupling 2 -> 1");
  ar2_fit(x, 100, 1000, 2, 1, 0, b);
  CHECK_NEAR(b[2], 0.0, 0.02, "no coupling 1 -> 2");
  free(x);
  spy_op_free(&op);

  /* a user AdjMat: entry {i}{j} couples i -> j */
  x = generate("ar2_network",
               "{\"AdjMat\":[[0,0,0.2],[0,0,0],[0,0,0]],\"alphas\":[0.3,-0.2],\"nTrials\":50,"
               "\"seed\":1}",
               &op);
  ar2_fit(x, 50, 1000, 3, 2, 0, b);
  CHECK_NEAR(b[2], 0.2, 0.02, "coupling 1 -> 3");
  CHECK_NEAR(b[0], 0.3, 0.02, "alpha1");
  ar2_fit(x, 50, 1000, 3, 0, 2, b);
  CHECK_NEAR(b[2], 0.0, 0.02, "no coupling 3 -> 1");
  free(x);
  spy_op_free(&op);
}

static void test_red_noise(void)
{
  /* lag-1 autocorrelation of AR(1) is alpha; 2e5 samples: standard error
  ** sqrt((1 - alpha^2)/n) = 0.001 */
  spy_op op;
  float *x =
      generate("red_noise", "{\"alpha\":0.9,\"nTrials\":50,\"nSamples\":2000,\"seed\":8}", &op);
  for (size_t c = 0; c < 2; c++) {
    double s01 = 0, s00 = 0;
    for (size_t k = 0; k < 50; k++)
      for (size_t t = 1; t < 2000; t++) {
        const float *s = x + k * 4000;
        s01 += (double)s[t * 2 + c] * s[(t - 1) * 2 + c];
        s00 += (double)s[(t - 1) * 2 + c] * s[(t - 1) * 2 + c];
      }
    CHECK_NEAR(s01 / s00, 0.9, 0.01, "red noise lag-1 autocorrelation");
  }
  free(x);
  spy_op_free(&op);
}

/* ---- helpers ---------------------------------------------------------------- */

static void test_adjmat(void)
{
  spy_err err = {0};
  size_t n = 200;
  double *A = malloc(n * n * sizeof *A);
  uint64_t seed = 3;
  CHECK(spy_synth_random_adjmat(n, 0.25, 0.25, &seed, A, &err) == SPY_OK, "%s", err.msg);
  size_t links = 0;
  int diag0 = 1, sums = 1;
  for (size_t j = 0; j < n; j++) {
    double s = 0;
    size_t m = 0;
    diag0 &= A[j * n + j] == 0.0;
    for (size_t i = 0; i < n; i++) {
      s += A[i * n + j];
      m += A[i * n + j] != 0;
    }
    links += m;
    /* each receiving channel gets max_coupling in total, split evenly */
    sums &= m == 0 ? s == 0 : fabs(s - 0.25) < 1e-12;
    for (size_t i = 0; i < n; i++)
      sums &= A[i * n + j] == 0 || A[i * n + j] == 0.25 / (double)m;
  }
  CHECK(diag0, "zero diagonal");
  CHECK(sums, "column sums are max_coupling, split evenly");
  double p = (double)links / (double)(n * (n - 1));
  CHECK_NEAR(p, 0.25, 5 * sqrt(0.25 * 0.75 / (double)(n * (n - 1))), "connection probability");

  /* reproducible, and NumPy's: mk_RandomAdjMat(4, 0.5, 0.25, seed=1) */
  cJSON *cfg = J("{\"nChannels\":4,\"conn_thresh\":0.5,\"seed\":1}");
  double *B = NULL, *C = NULL;
  size_t nb = 0, nc = 0;
  CHECK(spy_synth_random_adjmat_cfg(cfg, &B, &nb, &err) == SPY_OK && nb == 4, "%s", err.msg);
  CHECK(spy_synth_random_adjmat_cfg(cfg, &C, &nc, &err) == SPY_OK && nc == 4, "%s", err.msg);
  CHECK(B && C && memcmp(B, C, 16 * sizeof *B) == 0, "same seed, same matrix");
  static const double np1[16] = {0, 0,    0.125, 0, 0.125, 0, 0,     0.25,
                                 0, 0.25, 0,     0, 0.125, 0, 0.125, 0};
  int same = 1;
  for (int i = 0; i < 16 && B; i++)
    same &= B[i] == np1[i];
  CHECK(same, "equals NumPy's mk_RandomAdjMat(4, 0.5, seed=1)");
  free(B);
  free(C);
  cJSON_Delete(cfg);

  /* fully connected */
  double F[9];
  CHECK(spy_synth_random_adjmat(3, 1.0, 0.3, &seed, F, &err) == SPY_OK, "%s", err.msg);
  CHECK(F[1] == 0.15 && F[3] == 0.15 && F[4] == 0, "conn_thresh=1: all off-diagonal 0.3/2");
  free(A);
}

static void test_peak_freq(void)
{
  spy_err err = {0};
  double f = 0;
  CHECK(spy_synth_ar2_peak_freq(0.55, -0.8, 1, &f, &err) == SPY_OK, "%s", err.msg);
  CHECK_NEAR(f, 0.19994008573605207, 1e-15, "ar2_peak_freq(0.55, -0.8)");
  cJSON *cfg = J("{\"a1\":0.2,\"a2\":-0.5,\"samplerate\":1000}");
  CHECK(spy_synth_ar2_peak_freq_cfg(cfg, &f, &err) == SPY_OK, "%s", err.msg);
  CHECK_NEAR(f, 226.03631511478156, 1e-12, "ar2_peak_freq(0.2, -0.5, 1000)");
  cJSON_Delete(cfg);
  CHECK(spy_synth_ar2_peak_freq(1.0, 0.1, 1, &f, &err) == SPY_EINVAL &&
            strcmp(err.msg, "No complex roots!") == 0,
        "real roots: %s", err.msg);
  cfg = J("{\"a1\":0.5}");
  CHECK(spy_synth_ar2_peak_freq_cfg(cfg, &f, &err) == SPY_EINVAL && strstr(err.msg, "`a2`"),
        "a2 is required: %s", err.msg);
  cJSON_Delete(cfg);
}

/* ---- messages ---------------------------------------------------------------- */

static void expect_error(const char *gen, const char *json, int code, const char *msg)
{
  spy_op op;
  spy_err err = {0};
  int rc = plan(gen, json, &op, &err);
  CHECK(rc == code && strcmp(err.msg, msg) == 0, "%s %s:\n   got  %d '%s'\n   want %d '%s'", gen,
        json, rc, err.msg, code, msg);
  if (rc == SPY_OK) spy_op_free(&op);
}

static void test_errors(void)
{
  expect_error("white_noise", "{\"nTrials\":0}", SPY_EINVAL,
               "Invalid value of `nTrials`: '0'; expected value to be greater or equals 1 and "
               "less or equals inf");
  expect_error("white_noise", "{\"nTrials\":2.5}", SPY_EINVAL,
               "Invalid value of `nTrials`: '2.5'; expected int_like");
  expect_error("white_noise", "{\"nSamples\":0}", SPY_EINVAL,
               "Invalid value of `nSamples`: '0'; expected value to be greater or equals 1 and "
               "less or equals inf");
  expect_error("red_noise", "{\"alpha\":0.5,\"nSamples\":1}", SPY_EINVAL,
               "Invalid value of `nSamples`: '1'; expected value to be greater or equals 2 and "
               "less or equals inf");
  expect_error("white_noise", "{\"nSamples\":1e300}", SPY_EINVAL,
               "Invalid value of `nSamples`: '1e+300'; expected value to be less or equals 2^53");
  expect_error("white_noise", "{\"nChannels\":2.5}", SPY_ETYPE,
               "Wrong type of `nChannels`: expected integer found number");
  expect_error("white_noise", "{\"samplerate\":0}", SPY_EINVAL,
               "Invalid value of `samplerate`: '0'; expected value to be greater or equals "
               "2.220446049250313e-16 and less or equals inf");
  expect_error("white_noise", "{\"seed\":-1}", SPY_EINVAL,
               "Invalid value of `seed`: '-1'; expected non-negative integer or nil");
  expect_error("harmonic", "{}", SPY_EINVAL,
               "harmonic: missing required keyword `freq` (a number)");
  expect_error("ar2_network", "{\"AdjMat\":[[0,1],[0]]}", SPY_EINVAL,
               "Invalid value of `AdjMat`: '{{0, 1}, {0}}'; expected square nChannels x nChannels "
               "array of finite numbers ({{a, b}, {c, d}}, nChannels >= 1)");
  expect_error("ar2_network", "{\"alphas\":[0.5]}", SPY_EINVAL,
               "Invalid value of `alphas`: '{0.5}'; expected 2-element sequence of finite numbers");
  expect_error("ar2_network", "{\"nChannels\":3}", SPY_EINVAL,
               "unknown keyword `nChannels` for synthdata.ar2_network (valid keywords: AdjMat, "
               "nSamples, alphas, seed, nTrials, samplerate, seed_per_trial, parallel)");
  expect_error("white_noise", "{\"nSample\":10}", SPY_EINVAL,
               "unknown keyword `nSample` for synthdata.white_noise; did you mean `nSamples`? "
               "(valid keywords: nSamples, nChannels, nTrials, samplerate, seed, seed_per_trial, parallel)");
  expect_error("pink_noise", "{}", SPY_EINVAL,
               "Invalid value of `generator`: 'pink_noise'; expected 'white_noise' or "
               "'linear_trend' or 'harmonic' or 'phase_diffusion' or 'ar2_network' or "
               "'red_noise'");
}

static void test_specs(void)
{
  const spy_funcspec *all[] = {&spy_spec_white_noise,     &spy_spec_linear_trend,
                               &spy_spec_harmonic,        &spy_spec_phase_diffusion,
                               &spy_spec_ar2_network,     &spy_spec_red_noise,
                               &spy_spec_mk_RandomAdjMat, &spy_spec_ar2_peak_freq};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
    const spy_funcspec *f = all[i];
    CHECK(strncmp(f->name, "synthdata.", 10) == 0 && f->signature && f->summary && f->example,
          "spec %s complete", f->name);
    for (const spy_kwarg *k = f->kw; k->name; k++) {
      cJSON *d = cJSON_Parse(k->dflt);
      CHECK(d != NULL && k->doc && *k->doc, "%s.%s: default parses, doc present", f->name, k->name);
      cJSON_Delete(d);
    }
  }
  CHECK(spy_synth_spec("phase_diffusion") == &spy_spec_phase_diffusion, "lookup by name");
  CHECK(spy_synth_spec("mk_RandomAdjMat") == NULL, "helpers are not trial generators");
}

/* ---- speed ------------------------------------------------------------------- */

static double cpu_seconds(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#if defined(__SANITIZE_ADDRESS__)
#define SPEED_LIMIT 20.0 /* instrumented build */
#else
#define SPEED_LIMIT 1.0
#endif

static void test_speed(void)
{
  /* 5000 trials x 1000 samples x 32 channels = 1.6e8 float32 normals */
  spy_op op;
  spy_err err = {0};
  CHECK(plan("white_noise", "{\"nTrials\":5000,\"nSamples\":1000,\"nChannels\":32,\"seed\":1}", &op,
             &err) == SPY_OK,
        "%s", err.msg);
  float *buf = malloc(1000 * 32 * sizeof *buf);
  double t0 = cpu_seconds(), sum = 0;
  for (size_t k = 0; k < op.ntrials; k++) {
    spy_task t = {.trial = k, .nchan = 32, .out = buf, .rows = 1000};
    if (op.kernel(op.plan, &t, &err) != SPY_OK) break;
    sum += buf[k % 32000];
  }
  double dt = cpu_seconds() - t0;
  fprintf(stderr, "white_noise 5000 x 1000 x 32: %.3f s CPU (%.2f ns per sample; checksum %g)\n",
          dt, dt / 1.6e8 * 1e9, sum);
  CHECK(dt < SPEED_LIMIT, "white_noise 1.6e8 samples in %.3f s CPU (limit %g s)", dt, SPEED_LIMIT);
  free(buf);
  spy_op_free(&op);
}

int main(void)
{
  test_op_geometry();
  test_kernel_contract();
  test_seeds();
  test_syncopy_values();
  test_white_noise();
  test_linear_trend();
  test_harmonic();
  test_phase_diffusion();
  test_ar2_network();
  test_red_noise();
  test_adjmat();
  test_peak_freq();
  test_errors();
  test_specs();
  test_speed();
  spy_fft_cleanup();
  return t_done();
}
