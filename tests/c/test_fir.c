/*
** Windowed-sinc design, minimum phase and 'same' convolution
** (src/dsp/fir.h): properties a user relies on, checked from first
** principles (Syncopy's reference output is checked in test_preproc_ref).
*/
#include <complex.h>
#include <string.h>

#include "dsp/fft.h"
#include "dsp/fir.h"
#include "t.h"

static double complex response(const double *h, size_t m, double f)
{
  double complex s = 0;
  for (size_t k = 0; k < m; k++) s += h[k] * cexp(-I * 2 * M_PI * f * (double)k);
  return s;
}

static void design_cases(void)
{
  spy_err err;
  CHECK(spy_wsinc_len(500) == 501 && spy_wsinc_len(501) == 503 && spy_wsinc_len(0) == 1,
        "odd orders are raised to even: order m -> m + 1 taps");
  const char *wins[] = {"hamming", "hann", "blackman"};
  for (int w = 0; w < 3; w++) {
    size_t m = spy_wsinc_len(400);
    double *h = malloc(m * sizeof *h), fc[2] = {0.04, 0.12};
    CHECK(spy_design_wsinc(wins[w], 400, fc, SPY_LOWPASS, h, &err) == 0, "%s", err.msg);
    double sum = 0, asym = 0;
    for (size_t i = 0; i < m; i++) {
      sum += h[i];
      asym = fmax(asym, fabs(h[i] - h[m - 1 - i]));
    }
    CHECK_NEAR(sum, 1.0, 1e-14, "lp: unit DC gain");
    CHECK(asym <= 1e-16, "%s lp kernel symmetric (max diff %g)", wins[w], asym);
    CHECK_NEAR(cabs(response(h, m, 0.04)), 0.5, 5e-3, "windowed sinc: -6 dB at the cut-off");
    CHECK(cabs(response(h, m, 0.08)) < 1e-3, "%s lp stop band %g", wins[w],
          cabs(response(h, m, 0.08)));

    spy_design_wsinc(wins[w], 400, fc, SPY_HIGHPASS, h, &err);
    CHECK(fabs(cabs(response(h, m, 0))) < 1e-3, "hp blocks DC");
    CHECK_NEAR(cabs(response(h, m, 0.5)), 1.0, 1e-3, "hp passes Nyquist");
    spy_design_wsinc(wins[w], 400, fc, SPY_BANDPASS, h, &err);
    CHECK(cabs(response(h, m, 0)) < 1e-3 && cabs(response(h, m, 0.3)) < 1e-3, "bp stop bands");
    CHECK_NEAR(cabs(response(h, m, 0.08)), 1.0, 1e-3, "bp pass band");
    spy_design_wsinc(wins[w], 400, fc, SPY_BANDSTOP, h, &err);
    CHECK_NEAR(cabs(response(h, m, 0)), 1.0, 1e-3, "bs passes DC");
    CHECK(cabs(response(h, m, 0.08)) < 1e-3, "bs stop band");
    free(h);
  }
  double h0[1], f0[1] = {0.1};
  spy_design_wsinc("hamming", 0, f0, SPY_LOWPASS, h0, &err);
  CHECK(h0[0] == 1.0, "order 0 is the identity");
  CHECK(spy_design_wsinc("kaiser", 10, f0, SPY_LOWPASS, h0, &err) != 0, "unknown window fails");
}

static void minphase_case(void)
{
  spy_err err;
  size_t m = spy_wsinc_len(100);
  double h[101], hm[101], fc[1] = {0.05};
  spy_design_wsinc("hamming", 100, fc, SPY_LOWPASS, h, &err);
  CHECK(spy_minphase_rceps(h, m, hm, &err) == 0, "%s", err.msg);
  /* the same magnitude response */
  double worst = 0;
  for (double f = 0; f <= 0.5; f += 0.001)
    worst = fmax(worst, fabs(cabs(response(hm, m, f)) - cabs(response(h, m, f))));
  CHECK(worst < 2e-3, "minimum phase: magnitude response changed by %g", worst);
  /* energy front-loaded: every prefix holds at least the linear-phase share */
  double el = 0, em = 0, tl = 0, tm = 0;
  for (size_t i = 0; i < m; i++) tl += h[i] * h[i], tm += hm[i] * hm[i];
  bool front = true;
  for (size_t i = 0; i < m; i++) {
    el += h[i] * h[i];
    em += hm[i] * hm[i];
    if (em / tm + 1e-9 < el / tl) front = false;
  }
  CHECK(front, "minimum phase: partial energies dominate the linear-phase kernel's");
  double first = 0;
  for (size_t i = 0; i < m / 2; i++) first += hm[i] * hm[i];
  CHECK(first / tm > 0.99, "minimum phase: %.4f of the energy in the first half", first / tm);
}

static void convolution_cases(void)
{
  spy_err err;
  size_t m = spy_wsinc_len(300);
  double *h = malloc(m * sizeof *h), fc[1] = {0.1};
  spy_design_wsinc("hann", 300, fc, SPY_LOWPASS, h, &err);
  size_t ns[] = {1, 50, 301, 5000, 40000};
  for (size_t q = 0; q < sizeof ns / sizeof *ns; q++) {
    size_t n = ns[q];
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y), *d = malloc(n * sizeof *d);
    for (size_t i = 0; i < n; i++) x[i] = sin(0.013 * (double)(i * i)) + 0.1 * (double)(i % 7);
    spy_fir f;
    CHECK(spy_fir_prepare(&f, h, m, n, &err) == 0, "%s", err.msg);
    void *scr = spy_fft_alloc(spy_fir_scratch_bytes(&f));
    spy_fir_same(&f, x, n, y, scr);
    /* y[i] = sum_k h[k] x[i + (m-1)/2 - k], x = 0 outside: scipy's 'same' */
    double worst = 0, c = (double)((m - 1) / 2);
    for (size_t i = 0; i < n; i++) {
      double s = 0;
      for (size_t k = 0; k < m; k++) {
        double j = (double)i + c - (double)k;
        if (j >= 0 && j < (double)n) s += h[k] * x[(size_t)j];
      }
      worst = fmax(worst, fabs(s - y[i]));
    }
    CHECK(worst < 1e-12, "n=%zu: FFT 'same' convolution off by %g", n, worst);
    spy_fir_same_direct(h, m, x, n, d);
    double wd = 0;
    for (size_t i = 0; i < n; i++) wd = fmax(wd, fabs(d[i] - y[i]));
    CHECK(wd < 1e-12, "n=%zu: direct and FFT paths differ by %g", n, wd);
    if (n == 40000) CHECK(f.nfft < n, "long signals go by blocks (nfft %zu)", f.nfft);
    spy_fft_free(scr);
    spy_fir_release(&f);
    free(x), free(y), free(d);
  }
  /* two passes as one convolution (Syncopy's twopass: 'same' twice, the
  ** first pass cut to the signal) against the two time-domain passes, at
  ** lengths below, around and far above the half kernel; an asymmetric
  ** kernel too, so that neither edge correction leans on symmetry */
  double *ha = malloc(m * sizeof *ha);
  for (size_t k = 0; k < m; k++) ha[k] = h[k] * (1 + 0.3 * sin((double)k));
  size_t n2[] = {1, 7, 149, 150, 151, 299, 300, 301, 302, 450, 5000, 40000};
  const double *kern[] = {h, ha};
  for (size_t kk = 0; kk < 2; kk++)
    for (size_t q = 0; q < sizeof n2 / sizeof *n2; q++) {
      size_t n = n2[q];
      double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y), *d = malloc(n * sizeof *d);
      double *d1 = malloc(n * sizeof *d1), scale = 0;
      for (size_t i = 0; i < n; i++) x[i] = sin(0.013 * (double)(i * i)) + 0.1 * (double)(i % 7);
      spy_fir2 f2;
      CHECK(spy_fir2_prepare(&f2, kern[kk], m, n, &err) == 0, "%s", err.msg);
      void *scr = spy_fft_alloc(spy_fir2_scratch_bytes(&f2));
      spy_fir2_same(&f2, x, n, y, scr);
      spy_fir_same_direct(kern[kk], m, x, n, d1);
      spy_fir_same_direct(kern[kk], m, d1, n, d);
      double worst = 0;
      for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(d[i]));
      for (size_t i = 0; i < n; i++) worst = fmax(worst, fabs(d[i] - y[i]));
      CHECK(worst <= 1e-12 * fmax(scale, 1), "%s kernel, n=%zu: two passes as one off by %g",
            kk ? "asymmetric" : "symmetric", n, worst);
      /* filtered inside its own FFT block (preprocessing's trials that fit
      ** one): spy_fir2_same's bytes, whatever the block held around x */
      CHECK(n > 450 || spy_fir2_fits(&f2, n), "n=%zu: one block holds it", n);
      if (spy_fir2_fits(&f2, n)) {
        double *blk = spy_fft_alloc(f2.g.nfft * sizeof *blk);
        void *bscr = spy_fft_alloc(spy_fir2_block_scratch_bytes(&f2));
        for (size_t i = 0; i < f2.g.nfft; i++) blk[i] = NAN;
        memcpy(blk + SPY_FIR2_IN(&f2), x, n * sizeof *x);
        spy_fir2_block(&f2, blk, n, bscr);
        CHECK(memcmp(blk + SPY_FIR2_OUT(&f2), y, n * sizeof *y) == 0,
              "%s kernel, n=%zu: filtered in its block, not spy_fir2_same's bytes",
              kk ? "asymmetric" : "symmetric", n);
        spy_fft_free(blk);
        spy_fft_free(bscr);
      }
      spy_fft_free(scr);
      spy_fir2_release(&f2);
      free(x), free(y), free(d), free(d1);
    }
  free(ha);

  /* direct path: a NaN spoils exactly the outputs within (m-1)/2 of it */
  size_t n = 3000, p = 1500, c = (m - 1) / 2;
  double *x = calloc(n, sizeof *x), *y = malloc(n * sizeof *y);
  for (size_t i = 0; i < n; i++) x[i] = 1;
  x[p] = NAN;
  spy_fir_same_direct(h, m, x, n, y);
  size_t bad = 0, outside = 0;
  for (size_t i = 0; i < n; i++) {
    if (isnan(y[i])) bad++;
    if (isnan(y[i]) && (i + c < p || i > p + c)) outside++;
  }
  CHECK(bad == m && outside == 0, "NaN spread to %zu samples (%zu outside +-%zu)", bad, outside,
        c);
  CHECK_NEAR(y[1000], 1.0, 1e-12, "unit DC gain away from edges and NaN");
  free(x), free(y), free(h);
}

/* Short kernels and signal lengths around them: the block lengths chosen
** include odd ones (25 points) and single blocks; FFT 'same' equals the
** time-domain sum for each, and a block is at least twice the kernel. */
static void short_kernel_cases(void)
{
  spy_err err;
  size_t ms[] = {1, 3, 11, 13, 51, 129}, ns[] = {1, 7, 24, 25, 30, 1000, 3001};
  for (size_t a = 0; a < sizeof ms / sizeof *ms; a++)
    for (size_t q = 0; q < sizeof ns / sizeof *ns; q++) {
      size_t m = ms[a], n = ns[q];
      double *h = malloc(m * sizeof *h), *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y),
             *d = malloc(n * sizeof *d);
      for (size_t k = 0; k < m; k++) h[k] = 1.0 / (1.0 + (double)k) - 0.01 * (double)(k % 3);
      for (size_t i = 0; i < n; i++) x[i] = cos(0.07 * (double)(i * i)) - 0.2 * (double)(i % 5);
      spy_fir f;
      CHECK(spy_fir_prepare(&f, h, m, n, &err) == 0, "%s", err.msg);
      CHECK(f.nfft >= 2 * m, "m=%zu: block %zu shorter than twice the kernel", m, f.nfft);
      void *scr = spy_fft_alloc(spy_fir_scratch_bytes(&f));
      spy_fir_same(&f, x, n, y, scr);
      spy_fir_same_direct(h, m, x, n, d);
      double worst = 0;
      for (size_t i = 0; i < n; i++) worst = fmax(worst, fabs(d[i] - y[i]));
      CHECK(worst < 1e-12, "m=%zu n=%zu (block %zu): FFT and direct differ by %g", m, n, f.nfft,
            worst);
      spy_fft_free(scr);
      spy_fir_release(&f);
      free(h), free(x), free(y), free(d);
    }
}

int main(void)
{
  design_cases();
  minphase_case();
  convolution_cases();
  short_kernel_cases();
  spy_fft_cleanup();
  return t_done();
}
