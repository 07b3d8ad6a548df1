/*
** spy.freqanalysis(method="wavelet"): the continuous wavelet transform of
** Syncopy's cwt_time (syncopy.md 2.9) with the Morlet, Paul and DOG
** families of syncopy/specest/wavelets, on the FFT machinery of dsp/cwt.
*/
#include "dsp/wavelet.h"

#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/interrupt.h"
#include "core/kwspec.h"
#include "dsp/freqanalysis_spec.h"
#include "core/log.h"
#include "dsp/cwt.h"

typedef enum { FAM_MORLET, FAM_PAUL, FAM_DOG } family;

/* Syncopy builds its Morlet as Morlet() after validating `width`, so the
** transform always runs with the default w0 = 6 (syncopy/specest/
** freqanalysis.py, the `else` branch of the `order` checks).  spy keeps
** Syncopy's numbers and says so when `width` differs. */
#define MORLET_W0 6.0

typedef struct wavelet_plan {
  family fam;
  double w0; /* Morlet */
  int m;     /* Paul, DOG order */
  double complex cnorm; /* Paul, DOG: the constant factor of psi */
  double dt;
  size_t nscale;
  double *scales;
  spy_specout output;
  int poly;
  bool real; /* DOG: real-valued kernels */
  spy_cwt_sel sel;
  spy_cwt_bank bank;
} wavelet_plan;

static double fourier_period(const wavelet_plan *p, double s)
{
  switch (p->fam) {
  case FAM_MORLET: return 4 * M_PI * s / (p->w0 + pow(2 + p->w0 * p->w0, 0.5));
  case FAM_PAUL: return 4 * M_PI * s / (2 * p->m + 1);
  case FAM_DOG: return 2 * M_PI * s / pow(p->m + 0.5, 0.5);
  }
  return NAN;
}

static double scale_from_period(const wavelet_plan *p, double P)
{
  switch (p->fam) {
  case FAM_MORLET: return (P * (sqrt(p->w0 * p->w0 + 2) + p->w0)) / (4.0 * M_PI);
  case FAM_PAUL: return P * (2 * p->m + 1) / (4 * M_PI);
  case FAM_DOG: return P * sqrt(p->m + 0.5) / (2 * M_PI);
  }
  return NAN;
}

static double grid_scale(const void *p, double P) { return scale_from_period(p, P); }
static double grid_period(const void *p, double s) { return fourier_period(p, s); }

/* Support of cwt_time: M = 10 s/dt points. */
static size_t support(double s, double dt, double *start)
{
  return spy_cwt_support(10 * s / dt, start);
}

/* psi(t, s) of the family, syncopy/specest/wavelets/wavelets.py. */
static double complex psi(const wavelet_plan *p, double t, double s)
{
  double x = t / s;
  switch (p->fam) {
  case FAM_MORLET: {
    double complex o = cexp(I * p->w0 * x) - exp(-0.5 * (p->w0 * p->w0));
    return o * (exp(-0.5 * (x * x)) * pow(M_PI, -0.25));
  }
  case FAM_PAUL: { /* (1 - i x)^-(m+1) in polar form */
    double r = pow(1 + x * x, -(p->m + 1) / 2.0), a = (p->m + 1) * atan(x);
    return p->cnorm * CMPLX(r * cos(a), r * sin(a));
  }
  case FAM_DOG: {
    int m = p->m;
    double h0 = 1, h1 = x; /* probabilists' Hermite He_m */
    if (m == 0) h1 = 1;
    for (int n = 1; n < m; n++) {
      double h2 = x * h1 - n * h0;
      h0 = h1;
      h1 = h2;
    }
    return p->cnorm * (h1 * exp(-(x * x) / 2));
  }
  }
  return NAN;
}

/* Kernel i: dt^0.5/(s 8 pi) psi(t, s) on the support's grid, times dt. */
static void fill(const void *ctx, size_t i, double complex *h)
{
  const wavelet_plan *p = ctx;
  double s = p->scales[i], start;
  size_t L = support(s, p->dt, &start);
  double norm = pow(p->dt, 0.5) / (s * 8 * M_PI);
  for (size_t j = 0; j < L; j++)
    h[j] = norm * psi(p, spy_arange_at(start, j) * p->dt, s);
}

static void free_plan(void *pp)
{
  wavelet_plan *p = pp;
  if (!p) return;
  free(p->scales);
  spy_cwt_sel_free(&p->sel);
  spy_cwt_bank_free(&p->bank);
  free(p);
}

static size_t scratch_bytes(const void *pp, size_t nsamp, size_t nchan)
{
  const wavelet_plan *p = pp;
  (void)nchan;
  return spy_cwt_scratch_bytes(&p->bank, nsamp,
                               SPY_CWT_CB * spy_cwt_maxout(&p->bank, nsamp) *
                                   sizeof(double complex));
}

/*
** One trial, in blocks of channels: load and detrend the block, transform
** it once per FFT class, then evaluate every scale at the trial's output
** rows and convert into out (rows x 1 x nfreq x nchan).
*/
static int kernel(const void *pp, spy_task *task, spy_err *err)
{
  const wavelet_plan *p = pp;
  spy_cwt_work *w;
  double complex *vals = spy_cwt_begin(&w, &p->bank, &p->sel, task, task->scratch);
  size_t nout = spy_cwt_nout(w), nch = task->nchan, nf = p->nscale;
  size_t es = spy_dtype_size(spy_specout_dtype(p->output));
  if (task->rows != nout)
    return spy_fail(err, SPY_ERUNTIME, "wavelet: task has %zu rows, the plan %zu", task->rows,
                    nout);
  if (spy_cwt_ready(w)) return SPY_EINTR;
  for (size_t c0 = 0, cb; c0 < nch; c0 += cb) {
    cb = spy_cwt_block(nch - c0);
    if (!spy_cwt_channels(w, c0, cb, p->poly)) task->flags |= SPY_TASK_HAS_NAN;
    for (size_t s = 0; s < nf; s++) {
      if (spy_interrupted()) return SPY_EINTR;
      spy_cwt_apply(w, s, vals);
      if (p->real) /* scipy convolves real with real: imaginary part exactly 0 */
        for (size_t m = 0; m < cb * nout; m++) vals[m] = creal(vals[m]);
      for (size_t ch = 0; ch < cb; ch++)
        spy_specout_convert(p->output, vals + ch * nout, nout,
                            (char *)task->out + (s * nch + c0 + ch) * es, nf * nch);
    }
  }
  return SPY_OK;
}

static int validate(const cJSON *cfg, wavelet_plan *p, spy_err *err)
{
  const char *wav = spy_cfg_str(cfg, "wavelet", "Morlet");
  static const char *names[] = {"Morlet", "Paul", "DOG", "Ricker", "Marr", "Mexican_hat"};
  size_t which = 6;
  for (size_t i = 0; i < 6; i++)
    if (strcmp(wav, names[i]) == 0) which = i;
  if (which == 6)
    return spy_fail_value(err, "wavelet", wav,
                          "'Morlet' or 'Paul' or 'DOG' or 'Ricker' or 'Marr' or 'Mexican_hat' ");
  if (which >= 2)
    spy_log(SPY_LOG_WARNING,
            "the chosen wavelet '%s' is real-valued and does not provide any information about "
            "amplitude or phase of the data. This wavelet function may be used to isolate peaks "
            "or discontinuities in the signal. ",
            wav);
  int rc;
  if (which == 0) {
    if ((rc = spy_scalar_parser(spy_cfg_item(cfg, "width"), "width", false, 1, INFINITY, NULL,
                                NULL, err)))
      return rc;
    double width = spy_cfg_num(cfg, "width", MORLET_W0);
    if (width != MORLET_W0)
      spy_log(SPY_LOG_WARNING,
              "`width` = %g has no effect: Syncopy's Morlet transform always uses width %g, and "
              "spy reproduces its numbers",
              width, MORLET_W0);
    p->fam = FAM_MORLET;
    p->w0 = MORLET_W0;
  }
  if (which == 1 || which == 2) {
    if ((rc = spy_scalar_parser(spy_cfg_item(cfg, "order"), "order", true, which == 1 ? 4 : 1,
                                SPY_WAVELET_ORDER_LIMIT, NULL, NULL, err)))
      return rc;
    p->fam = which == 1 ? FAM_PAUL : FAM_DOG;
    p->m = (int)spy_cfg_num(cfg, "order", 0);
  } else {
    if (!spy_cfg_isnull(cfg, "order"))
      spy_log(SPY_LOG_WARNING, "option `order` has no effect for wavelet '%s'", wav);
    if (which >= 3) {
      p->fam = FAM_DOG;
      p->m = 2;
    }
  }
  p->real = p->fam == FAM_DOG;
  /* Paul: 2^m i^m m! / sqrt(pi (2m)!); DOG: (-1)^(m+1) / sqrt(Gamma(m + 1/2)),
  ** with scipy's floating factorials (they overflow where Syncopy's do) */
  int m = p->m;
  static const double complex im[4] = {1, I, -1, -I};
  if (p->fam == FAM_PAUL)
    p->cnorm = pow(2, m) * tgamma(m + 1) / sqrt(M_PI * tgamma(2 * m + 1)) * im[m % 4];
  if (p->fam == FAM_DOG) p->cnorm = ((m + 1) % 2 ? -1.0 : 1.0) / sqrt(tgamma(m + 0.5));
  return SPY_OK;
}

/* WaveletTransform.valid_kws among freqanalysis' keywords ("order" is not
** one: Syncopy warns about it even where it is used). */
static const char *const valid[] = {"wavelet", "toi", "polyremoval", "output", "width", NULL};

int spy_wavelet_plan(const cJSON *cfg, const spy_trials *in, const spy_fa_common *c, spy_op *op,
                     spy_err *err)
{
  int rc;
  size_t *len = NULL;
  double *foi = NULL;
  wavelet_plan *p = calloc(1, sizeof *p);
  if (!p) return spy_fail(err, SPY_ENOMEM, "out of memory");
  op->name = "wavelet";
  op->plan = p;
  op->free_plan = free_plan;

  if ((rc = spy_cwt_sel_parse(cfg, in, c, &p->sel, err))) goto fail;
  spy_fa_check_effective(cfg, "WaveletTransform", valid);
  if ((rc = validate(cfg, p, err))) goto fail;
  p->dt = 1 / in->samplerate;
  p->output = c->output;
  p->poly = c->polyremoval;

  size_t n;
  spy_cwt_grid g = {grid_scale, grid_period, p};
  if ((rc = spy_cwt_scales(c, in, &g, &p->scales, &foi, &n, err))) goto fail;
  p->nscale = n;

  if (!(len = malloc(n * sizeof *len))) goto oom;
  for (size_t i = 0; i < n; i++) {
    double start;
    len[i] = support(p->scales[i], p->dt, &start);
  }
  if ((rc = spy_cwt_bank_build(&p->bank, n, len, fill, p, &p->sel, err))) goto fail;

  op->kernel = kernel;
  op->scratch_bytes = scratch_bytes;
  op->in_f32 = true;
  static const char *const logged[] = {"wavelet", "width", "order", NULL};
  if ((rc = spy_cwt_op(op, cfg, c, &p->sel, in, &g, p->scales, foi, n, "wavelet_cF", logged, err)))
    goto fail;
  free(len);
  free(foi);
  return SPY_OK;
oom:
  rc = spy_fail(err, SPY_ENOMEM, "out of memory");
fail:
  free(len);
  free(foi);
  spy_op_free(op);
  return rc;
}
