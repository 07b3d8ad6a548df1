/*
** The convolution bank (dsp/cwt) against the definition: scipy's
** fftconvolve(x, h, mode="same") computed directly in the time domain,
** out[n] = sum_i x[i] h[n + (L-1)/2 - i], for kernels shorter and longer
** than the trial, odd and even lengths, every toi path (all samples, one
** residue, several residues, the full inverse FFT) and channel blocks of
** 1, 2 and 4.
*/
#include <stdint.h>

#include "dsp/cwt.h"
#include "test_wavelet_util.h"

static uint64_t rng = 7;
static double unif(void)
{
  rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
  return (double)(rng >> 11) / 9007199254740992.0 - 0.5;
}

typedef struct bankdef {
  size_t n;
  const size_t *len;
  double complex **h;
} bankdef;

static void fill(const void *ctx, size_t i, double complex *h)
{
  const bankdef *d = ctx;
  memcpy(h, d->h[i], d->len[i] * sizeof *h);
}

static void check(const char *what, const char *toi_json, size_t nch, int poly)
{
  const size_t ns = 2500, nt = 2;
  static const size_t len[] = {1, 2, 31, 64, 400, 1201, 2900};
  const size_t nk = sizeof len / sizeof *len;
  double *x = malloc(nt * ns * nch * sizeof *x), trl[6] = {0, 2500, -1000, 2500, 5000, -800};
  for (size_t i = 0; i < nt * ns * nch; i++) x[i] = unif() + 0.3;
  double complex *h[7];
  for (size_t i = 0; i < nk; i++) {
    h[i] = malloc(len[i] * sizeof **h);
    for (size_t j = 0; j < len[i]; j++) h[i][j] = CMPLX(unif(), unif());
  }
  bankdef d = {nk, len, h};
  tf_input t;
  tf_input_init(&t, x, nt * ns, nch, trl, nt, 1000);
  cJSON *cfg = tf_cfg(toi_json);
  spy_cwt_sel sel;
  spy_cwt_bank b;
  spy_err err = {0};
  int rc = spy_cwt_sel_parse(cfg, &t.trials, &t.c, &sel, &err);
  CHECK(rc == 0, "%s: %s", what, err.msg);
  rc = rc ? rc : spy_cwt_bank_build(&b, nk, len, fill, &d, &sel, &err);
  CHECK(rc == 0, "%s: %s", what, err.msg);
  if (rc == 0) {
    void *scratch = spy_fft_alloc(spy_cwt_scratch_bytes(&b, ns, 4 * ns * sizeof(double complex)));
    double *xd = malloc(ns * sizeof *xd);
    double worst = 0;
    for (size_t k = 0; k < nt; k++) {
      spy_task task = {k, 0, nch, x + k * ns * nch, ns, NULL, 0, scratch, 0};
      spy_cwt_work *w;
      double complex *vals = spy_cwt_begin(&w, &b, &sel, &task, scratch);
      size_t nout = spy_cwt_nout(w);
      CHECK(spy_cwt_ready(w) == SPY_OK, "%s: spectra made", what);
      for (size_t c0 = 0, cb; c0 < nch; c0 += cb) {
        cb = spy_cwt_block(nch - c0);
        spy_cwt_channels(w, c0, cb, poly);
        for (size_t i = 0; i < nk; i++) {
          spy_cwt_apply(w, i, vals);
          for (size_t ch = 0; ch < cb; ch++) {
            for (size_t n = 0; n < ns; n++) xd[n] = x[(k * ns + n) * nch + c0 + ch];
            spy_detrend(xd, ns, 1, poly);
            const double *sec = xd + sel.a[k];
            long L = (long)len[i], c = (L - 1) / 2, N = (long)sel.n[k];
            for (size_t m = 0; m < nout; m++) {
              long q = sel.all ? (long)m : (long)sel.idx[k * sel.ntoi + m];
              double complex s = 0;
              for (long j = 0; j < N; j++) {
                long hj = q + c - j;
                if (hj >= 0 && hj < L) s += sec[j] * h[i][hj];
              }
              worst = fmax(worst, cabs(vals[ch * nout + m] - s));
            }
          }
        }
      }
    }
    CHECK(worst < 1e-11, "%s: bank vs direct convolution: %g", what, worst);
    fprintf(stderr, "%s: max |bank - direct| = %.2g (k = %zu, %zu residues%s)\n", what, worst,
            b.k, b.maxres, b.need_full ? ", full path" : "");
    spy_fft_free(scratch);
    free(xd);
    spy_cwt_bank_free(&b);
  }
  spy_cwt_sel_free(&sel);
  cJSON_Delete(cfg);
  tf_input_free(&t);
  for (size_t i = 0; i < nk; i++) free(h[i]);
  free(x);
}

static char *toi_list(double a, double step, size_t n)
{
  char *s = malloc(64 + 32 * n);
  size_t u = (size_t)sprintf(s, "{\"toi\": [");
  double delta = (a + step) - a;
  for (size_t i = 0; i < n; i++)
    u += (size_t)sprintf(s + u, "%s%.17g", i ? ", " : "", i == 0 ? a : (i == 1 ? a + step : a + (double)i * delta));
  sprintf(s + u, "]}");
  return s;
}

int main(void)
{
  check("all, 1 channel", "{\"toi\": \"all\"}", 1, 0);
  check("all, 7 channels, linear detrend", "{\"toi\": \"all\"}", 7, 1);
  char *a = toi_list(-0.6, 0.02, 80), *b = toi_list(-0.9, 0.0105, 210),
       *c = toi_list(-0.29, 0.0103, 80), *e = toi_list(-0.28, 0.3, 3);
  check("step 20", a, 3, 0);
  check("step 10.5", b, 4, -1);
  check("step 10.3 (full path)", c, 2, 0);
  check("step 300", e, 5, 0);
  free(a);
  free(b);
  free(c);
  free(e);
  spy_fft_cleanup();
  return t_done();
}
