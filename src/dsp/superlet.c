/*
** spy.freqanalysis(method="superlet"): Moca et al.'s superlet transform as
** Syncopy computes it (syncopy.md 2.10, syncopy/specest/superlet.py):
** Morlet wavelets of c_1*o cycles (MorletSL, k_sd = 5), 'same' convolution
** (cwtSL), combined per scale by the geometric mean of complex principal
** powers, multiplicative or fractional adaptive.
**
** The geometric mean is formed in the log domain: prod_o W_o^p_o equals
** exp(sum_o p_o Log W_o) for the principal logarithm, so the modulus needs
** one product of |W|^2 per term and one log/exp per output, and the phase
** (only for outputs that use it) a sum of p_o arg W_o.  This is Syncopy's
** value in double precision (Syncopy accumulates the multiplicative SLT in
** complex64).
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

#define K_SD 5.0

typedef struct superlet_plan {
  double dt;
  size_t nscale;
  double *scales;  /* in output order */
  /* kernels: MorletSL(kcyc[i]) at scale kscale[i] */
  size_t nkern;
  double *kscale, *kcyc;
  /* terms of scale s: full-exponent kernels tk[toff[s] .. toff[s+1]) with
  ** exponent expo[s], and the fractional kernel frac[s] (or -1) with
  ** exponent alpha[s]*expo[s] */
  size_t *toff, *tk;
  double *expo, *alpha;
  long *frac;
  spy_specout output;
  int poly;
  spy_cwt_sel sel;
  spy_cwt_bank bank;
} superlet_plan;

/* _get_superlet_support: M = 10 s c/dt points. */
static size_t support(double s, double cyc, double dt, double *start)
{
  return spy_cwt_support(10 * s * cyc / dt, start);
}

/* Superlet scales are periods over 2 pi. */
static double grid_scale(const void *p, double P)
{
  (void)p;
  return P / (2 * M_PI);
}

static double grid_period(const void *p, double s)
{
  (void)p;
  return 2 * M_PI * s;
}

/* dt^0.5/(4 pi) MorletSL(c)(t, s) on the support's grid. */
static void fill(const void *ctx, size_t i, double complex *h)
{
  const superlet_plan *p = ctx;
  double s = p->kscale[i], cyc = p->kcyc[i], start;
  size_t L = support(s, cyc, p->dt, &start);
  double norm = pow(p->dt, 0.5) / (4 * M_PI);
  double Bc = K_SD / (s * cyc * pow(2 * M_PI, 1.5));
  for (size_t j = 0; j < L; j++) {
    double tj = spy_arange_at(start, j) * p->dt;
    double ts = tj / s, g = K_SD * ts / (2 * M_PI * cyc);
    h[j] = norm * ((Bc * cexp(I * ts)) * exp(-0.5 * (g * g)));
  }
}

static void free_plan(void *pp)
{
  superlet_plan *p = pp;
  if (!p) return;
  free(p->scales);
  free(p->kscale);
  free(p->kcyc);
  free(p->toff);
  free(p->tk);
  free(p->expo);
  free(p->alpha);
  free(p->frac);
  spy_cwt_sel_free(&p->sel);
  spy_cwt_bank_free(&p->bank);
  free(p);
}

static bool uses_phase(spy_specout o) { return o != SPY_OUT_POW && o != SPY_OUT_ABS; }

static size_t scratch_bytes(const void *pp, size_t nsamp, size_t nchan)
{
  const superlet_plan *p = pp;
  (void)nchan;
  size_t n = SPY_CWT_CB * spy_cwt_maxout(&p->bank, nsamp);
  return spy_cwt_scratch_bytes(&p->bank, nsamp,
                               n * (sizeof(double complex) + 3 * sizeof(double) + sizeof(int)));
}

/*
** One trial, in blocks of channels.  Per scale and output sample: P = prod
** |W|^2 over the full-exponent terms (kept in range with frexp), F = alpha
** log |W_frac|^2, B = the exponent-weighted sum of phases; then
** log |R|^2 = expo (log P + F) and arg R = expo B.
*/
static int kernel(const void *pp, spy_task *task, spy_err *err)
{
  const superlet_plan *p = pp;
  spy_cwt_work *w;
  char *x = spy_cwt_begin(&w, &p->bank, &p->sel, task, task->scratch);
  size_t nout = spy_cwt_nout(w), nch = task->nchan, nf = p->nscale, cap = SPY_CWT_CB * nout;
  double complex *vals = (double complex *)x;
  double *P = (double *)(vals + cap), *F = P + cap, *B = F + cap;
  int *E = (int *)(B + cap);
  bool phase = uses_phase(p->output);
  size_t es = spy_dtype_size(spy_specout_dtype(p->output)), stride = nf * nch * es;
  if (task->rows != nout)
    return spy_fail(err, SPY_ERUNTIME, "superlet: task has %zu rows, the plan %zu", task->rows,
                    nout);
  if (spy_cwt_ready(w)) return SPY_EINTR;
  for (size_t c0 = 0, cb; c0 < nch; c0 += cb) {
    cb = spy_cwt_block(nch - c0);
    if (!spy_cwt_channels(w, c0, cb, p->poly)) task->flags |= SPY_TASK_HAS_NAN;
    size_t n = cb * nout;
    for (size_t s = 0; s < nf; s++) {
      if (spy_interrupted()) return SPY_EINTR;
      for (size_t m = 0; m < n; m++) P[m] = 1, F[m] = 0, B[m] = 0, E[m] = 0;
      for (size_t t = p->toff[s]; t < p->toff[s + 1]; t++) {
        spy_cwt_apply(w, p->tk[t], vals);
        for (size_t m = 0; m < n; m++) {
          double re = creal(vals[m]), im = cimag(vals[m]);
          double q = P[m] * (re * re + im * im);
          if (q < 1e-200 || q > 1e200) {
            int e;
            q = frexp(q, &e);
            E[m] += e;
          }
          P[m] = q;
          if (phase) B[m] += atan2(im, re);
        }
      }
      double ex = p->expo[s], al = p->alpha[s];
      if (p->frac[s] >= 0) {
        spy_cwt_apply(w, (size_t)p->frac[s], vals);
        for (size_t m = 0; m < n; m++) {
          double re = creal(vals[m]), im = cimag(vals[m]);
          F[m] = al * log(re * re + im * im);
          if (phase) B[m] += al * atan2(im, re);
        }
      }
      for (size_t ch = 0; ch < cb; ch++) {
        char *o = (char *)task->out + (s * nch + c0 + ch) * es;
        for (size_t m = 0; m < nout; m++) {
          size_t e = ch * nout + m;
          double l2 = ex * (log(P[e]) + E[e] * M_LN2 + F[e]); /* log |R|^2 */
          if (p->output == SPY_OUT_POW)
            *(float *)(o + m * stride) = (float)exp(l2);
          else if (p->output == SPY_OUT_ABS)
            *(float *)(o + m * stride) = (float)exp(0.5 * l2);
          else {
            double r = exp(0.5 * l2), b = ex * B[e];
            double complex z = CMPLX(r * cos(b), r * sin(b));
            spy_specout_convert(p->output, &z, 1, o + m * stride, 1);
          }
        }
      }
    }
  }
  return SPY_OK;
}

/* Kernel index of (scale s, cycles cyc), added when new. */
static size_t kernel_of(superlet_plan *p, double s, double cyc)
{
  for (size_t i = 0; i < p->nkern; i++)
    if (p->kscale[i] == s && p->kcyc[i] == cyc) return i;
  p->kscale[p->nkern] = s;
  p->kcyc[p->nkern] = cyc;
  return p->nkern++;
}

/* multiplicativeSLT: every scale takes orders order_min..order_max with
** exponent 1/n. */
static void terms_multiplicative(superlet_plan *p, long omin, long omax, long c1)
{
  size_t n = (size_t)(omax - omin + 1), t = 0;
  for (size_t s = 0; s < p->nscale; s++) {
    p->toff[s] = t;
    for (long o = omin; o <= omax; o++) p->tk[t++] = kernel_of(p, p->scales[s], (double)(c1 * o));
    p->expo[s] = 1 / (double)n;
    p->alpha[s] = 0;
    p->frac[s] = -1;
  }
  p->toff[p->nscale] = t;
}

/*
** FASLT, syncopy.md 2.10: orders rise linearly with frequency; the
** wavelets of the integer orders present (unique floors) are used, scale s
** of block b (b = jumps before s) takes SL[0..b] in full and SL[b+1] with
** the fraction alpha (Syncopy's loop starts its first block at scale 1).
*/
static void terms_adaptive(superlet_plan *p, long omin, long omax, long c1)
{
  size_t ns = p->nscale, t = 0;
  double f0 = 1 / (2 * M_PI * p->scales[0]), fN = 1 / (2 * M_PI * p->scales[ns - 1]);
  long *oi = malloc(ns * sizeof *oi), *uniq = malloc(ns * sizeof *uniq);
  double *orders = malloc(ns * sizeof *orders);
  size_t nu = 0;
  for (size_t s = 0; s < ns; s++) {
    double f = 1 / (2 * M_PI * p->scales[s]);
    orders[s] = omin + (double)(omax - omin) * (f - f0) / (fN - f0);
    oi[s] = (long)floor(orders[s]);
    if (nu == 0 || uniq[nu - 1] != oi[s]) uniq[nu++] = oi[s];
  }
  size_t block = 0;
  for (size_t s = 0; s < ns; s++) {
    if (s > 0 && oi[s] != oi[s - 1]) block++;
    p->toff[s] = t;
    for (size_t b = 0; b <= block; b++)
      p->tk[t++] = kernel_of(p, p->scales[s], (double)(c1 * uniq[b]));
    p->expo[s] = 1 / (orders[s] - omin + 1);
    p->alpha[s] = fmod(orders[s], (double)oi[s]);
    p->frac[s] = -1;
    if (s >= 1 && block + 1 < nu && p->alpha[s] != 0)
      p->frac[s] = (long)kernel_of(p, p->scales[s], (double)(c1 * uniq[block + 1]));
  }
  p->toff[ns] = t;
  free(oi);
  free(uniq);
  free(orders);
}

static int cmp_desc(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? 1 : (x > y ? -1 : 0);
}

/* SuperletTransform.valid_kws among freqanalysis' keywords. */
static const char *const valid[] = {"order_max", "order_min", "c_1",    "adaptive",
                                    "toi",       "polyremoval", "output", NULL};

int spy_superlet_plan(const cJSON *cfg, const spy_trials *in, const spy_fa_common *c, spy_op *op,
                      spy_err *err)
{
  int rc;
  size_t *len = NULL;
  double *foi = NULL;
  superlet_plan *p = calloc(1, sizeof *p);
  if (!p) return spy_fail(err, SPY_ENOMEM, "out of memory");
  op->name = "superlet";
  op->plan = p;
  op->free_plan = free_plan;

  if ((rc = spy_cwt_sel_parse(cfg, in, c, &p->sel, err))) goto fail;
  spy_fa_check_effective(cfg, "SuperletTransform", valid);
  if (spy_cfg_isnull(cfg, "order_max")) {
    rc = spy_fail_value(err, "order_max", "None", "Positive integer needed for order_max");
    goto fail;
  }
  if ((rc = spy_scalar_parser(spy_cfg_item(cfg, "order_max"), "order_max", true, 1,
                              SPY_SUPERLET_ORDER_LIMIT, NULL, NULL, err)))
    goto fail;
  double omax = spy_cfg_num(cfg, "order_max", 1);
  if ((rc = spy_scalar_parser(spy_cfg_item(cfg, "order_min"), "order_min", true, 1, omax, NULL,
                              NULL, err)))
    goto fail;
  if ((rc = spy_scalar_parser(spy_cfg_item(cfg, "c_1"), "c_1", true, 1, SPY_SUPERLET_C1_LIMIT,
                              NULL, NULL, err)))
    goto fail;
  long omin = (long)spy_cfg_num(cfg, "order_min", 1), c1 = (long)spy_cfg_num(cfg, "c_1", 3);
  bool adaptive = spy_cfg_bool(cfg, "adaptive", false);
  p->dt = 1 / in->samplerate;
  p->output = c->output;
  p->poly = c->polyremoval;

  size_t n;
  spy_cwt_grid g = {grid_scale, grid_period, p};
  if ((rc = spy_cwt_scales(c, in, &g, &p->scales, &foi, &n, err))) goto fail;
  p->nscale = n;
  if (adaptive) {
    bool sorted = true, distinct = false;
    for (size_t i = 1; i < n; i++) {
      if (p->scales[i] - p->scales[i - 1] > 0) sorted = false;
      if (p->scales[i] != p->scales[0]) distinct = true;
    }
    /* a single frequency, or only repeats of one (Syncopy divides by zero) */
    if (n < 2 || !distinct) {
      rc = spy_fail_value(err, "foi", "Single frequency", "A range of frequencies");
      goto fail;
    }
    if (!sorted) {
      spy_log(SPY_LOG_WARNING, "Sorting frequencies low to high for adaptive SLT..");
      qsort(p->scales, n, sizeof *p->scales, cmp_desc);
    }
  }

  size_t norders = (size_t)(omax - omin + 1), maxterms = n * (norders + 1);
  p->kscale = malloc(maxterms * sizeof *p->kscale);
  p->kcyc = malloc(maxterms * sizeof *p->kcyc);
  p->tk = malloc(maxterms * sizeof *p->tk);
  p->toff = malloc((n + 1) * sizeof *p->toff);
  p->expo = malloc(n * sizeof *p->expo);
  p->alpha = malloc(n * sizeof *p->alpha);
  p->frac = malloc(n * sizeof *p->frac);
  if (!p->kscale || !p->kcyc || !p->tk || !p->toff || !p->expo || !p->alpha || !p->frac) goto oom;
  if (adaptive)
    terms_adaptive(p, omin, (long)omax, c1);
  else
    terms_multiplicative(p, omin, (long)omax, c1);

  if (!(len = malloc(p->nkern * sizeof *len))) goto oom;
  for (size_t i = 0; i < p->nkern; i++) {
    double start;
    len[i] = support(p->kscale[i], p->kcyc[i], p->dt, &start);
  }
  if ((rc = spy_cwt_bank_build(&p->bank, p->nkern, len, fill, p, &p->sel, err))) goto fail;

  op->kernel = kernel;
  op->scratch_bytes = scratch_bytes;
  op->in_f32 = true;
  static const char *const logged[] = {"c_1", "order_max", "order_min", NULL};
  if ((rc = spy_cwt_op(op, cfg, c, &p->sel, in, &g, p->scales, foi, n, "superlet_cF", logged,
                       err)))
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
