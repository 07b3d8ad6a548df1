#include "dsp/cwt.h"

#include <limits.h>
#include <math.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/interrupt.h"
#include "core/kwspec.h"
#include "core/log.h"
#include "core/pyfmt.h"
#include "dsp/fft.h"
#include "dsp/spectral_common.h"

/* A trial whose output indices fall on more residues (mod k) than this
** takes the full-length inverse FFT instead of one fold per residue. */
#define RESMAX 4

/* ---- scales and frequencies ----------------------------------------------- */

/* get_optimal_wavelet_scales (dj = 0.25), low frequencies first; s0 is the
** scale of period 2 dt.  Returns the count written to a malloc'd *scales
** (NULL when the trial is too short for one scale). */
static size_t optimal_scales(double s0, size_t nsamples, double dt, double **scales)
{
  const double dj = 0.25;
  double r = (1 / dj) * log2((double)nsamples * dt / s0);
  *scales = NULL;
  if (!(r >= 0)) return 0;
  size_t J = (size_t)r;
  double *s = malloc((J + 1) * sizeof *s);
  if (!s) return 0;
  for (size_t j = 0; j <= J; j++) s[J - j] = s0 * pow(2.0, dj * (double)j);
  *scales = s;
  return J + 1;
}

/* The foi of the wavelet methods: c->foi, or numpy.arange(lo, hi + 1) over
** c->foilim, values below 0.01 set to 0.01.  NULL/0 when neither is given
** (or out of memory). */
static size_t foi_of(const spy_fa_common *c, double **foi)
{
  size_t n = 0;
  double *f = NULL;
  *foi = NULL;
  if (c->foi) {
    n = c->nfoi;
    if (!(f = malloc((n ? n : 1) * sizeof *f))) return 0;
    memcpy(f, c->foi, n * sizeof *f);
  } else if (c->have_foilim) {
    double lo = c->foilim[0];
    n = spy_arange_len(lo, c->foilim[1] + 1);
    if (!(f = malloc((n ? n : 1) * sizeof *f))) return 0;
    for (size_t i = 0; i < n; i++) f[i] = spy_arange_at(lo, i);
  } else
    return 0;
  for (size_t i = 0; i < n; i++)
    if (f[i] < 0.01) f[i] = 0.01;
  *foi = f;
  return n;
}

/* int(minTrialLength * samplerate) as Syncopy computes it. */
static size_t min_nsamples(const spy_trials *in)
{
  size_t mn = SIZE_MAX;
  for (size_t k = 0; k < in->ntrials; k++) {
    size_t l = spy_trial_len(in, k);
    mn = l < mn ? l : mn;
  }
  if (in->ntrials == 0) return 0;
  double len_s = (double)mn / in->samplerate;
  return (size_t)(len_s * in->samplerate);
}

int spy_cwt_scales(const spy_fa_common *c, const spy_trials *in, const spy_cwt_grid *g,
                   double **scales, double **foi, size_t *n, spy_err *err)
{
  double dt = 1 / in->samplerate;
  int rc;
  *scales = NULL;
  *n = 0;
  size_t m = foi_of(c, foi);
  if (!*foi && (c->foi || c->have_foilim)) goto oom;
  if (*foi) {
    if (!(*scales = malloc((m ? m : 1) * sizeof **scales))) goto oom;
    for (size_t i = 0; i < m; i++) (*scales)[i] = g->scale(g->ctx, 1 / (*foi)[i]);
  } else {
    size_t ns = min_nsamples(in);
    m = optimal_scales(g->scale(g->ctx, 2 * dt), ns, dt, scales);
    if (!*scales) {
      rc = spy_fail_value(err, "foi", "None",
                          "frequencies of interest: the shortest trial (%zu samples) is too "
                          "short for an automatic wavelet scale grid",
                          ns);
      goto fail;
    }
    if (!(*foi = malloc(m * sizeof **foi))) goto oom;
    for (size_t i = 0; i < m; i++) (*foi)[i] = 1 / g->period(g->ctx, (*scales)[i]);
    spy_log(SPY_LOG_INFO, "Setting frequencies of interest to %.1f-%.1fHz", (*foi)[0],
            (*foi)[m - 1]);
  }
  if (m == 0) {
    rc = spy_fail_value(err, "foi", "[]", "at least one frequency");
    goto fail;
  }
  *n = m;
  return SPY_OK;
oom:
  rc = spy_fail(err, SPY_ENOMEM, "out of memory");
fail:
  free(*scales);
  free(*foi);
  *scales = *foi = NULL;
  return rc;
}

/* toi as Syncopy's history shows it: 'all', or str() of the list of times,
** which are floats (a list with a fraction is one of floats: 0.0, not 0). */
static void history_toi(spy_history *h, const cJSON *toi)
{
  if (!cJSON_IsArray(toi)) {
    spy_history_add_json(h, "toi", toi);
    return;
  }
  spy_strbuf b = {0};
  const cJSON *e;
  bool floats = false;
  cJSON_ArrayForEach(e, toi)
    floats |= !cJSON_IsNumber(e) || e->valuedouble != floor(e->valuedouble);
  spy_sb_putc(&b, '[');
  cJSON_ArrayForEach(e, toi)
  {
    char num[40];
    double v = cJSON_IsNumber(e) ? e->valuedouble : NAN;
    if (floats)
      spy_py_float(v, num, sizeof num);
    else
      spy_py_num(v, num, sizeof num);
    if (e != toi->child) spy_sb_puts(&b, ", ");
    spy_sb_puts(&b, num);
  }
  spy_sb_putc(&b, ']');
  char *s = spy_sb_take(&b);
  spy_history_add(h, "toi", s);
  free(s);
}

int spy_cwt_op(spy_op *op, const cJSON *cfg, const spy_fa_common *c, const spy_cwt_sel *sel,
               const spy_trials *in, const spy_cwt_grid *g, const double *scales,
               const double *foi, size_t n, const char *cf, const char *const *extra,
               spy_err *err)
{
  static const char *const none[] = {"None"};
  op->chan_independent = true;
  op->cls = SPY_SPECTRAL;
  op->out_dtype = spy_specout_dtype(c->output);
  op->ninner = 2;
  op->inner[0] = 1;
  op->inner[1] = n;
  if (!(op->freq = malloc(n * sizeof *op->freq))) goto oom;
  for (size_t i = 0; i < n; i++) op->freq[i] = 1 / g->period(g->ctx, scales[i]);
  op->nfreq = n;
  if (spy_op_set_tapers(op, none, 1)) goto oom;
  if (spy_cwt_sel_trldef(sel, in, !c->keeptrials, op)) goto oom;

  spy_history h = {0};
  spy_fa_history(cfg, &h);
  history_toi(&h, spy_cfg_item(cfg, "toi"));
  spy_history_add_np(&h, "foi", foi, n);
  for (; *extra; extra++) spy_history_add_json(&h, *extra, spy_cfg_item(cfg, *extra));
  op->log = spy_history_text(&h, cf);
  spy_history_free(&h);
  if (!op->log) goto oom;
  return SPY_OK;
oom:
  return spy_fail(err, SPY_ENOMEM, "out of memory");
}

/* ---- toi selection ----------------------------------------------------------- */

void spy_cwt_sel_free(spy_cwt_sel *sel)
{
  if (!sel) return;
  free(sel->a);
  free(sel->n);
  free(sel->toi);
  free(sel->idx);
  memset(sel, 0, sizeof *sel);
}

static int toi_invalid(spy_err *err, const char *actual)
{
  return spy_fail_value(err, "toi", actual,
                        "array of equidistant time-points or 'all' for wavelet based methods");
}

int spy_cwt_sel_parse(const cJSON *cfg, const spy_trials *in, const spy_fa_common *c,
                      spy_cwt_sel *sel, spy_err *err)
{
  const cJSON *toi = cJSON_GetObjectItemCaseSensitive(cfg, "toi");
  size_t nt = in->ntrials;
  char buf[1024];
  memset(sel, 0, sizeof *sel);
  sel->ntrials = nt;
  sel->samplerate = in->samplerate;
  if (!toi || cJSON_IsNull(toi))
    return spy_fail_type(err, "toi", "scalar or array-like or 'all'", "nil");
  if (cJSON_IsNumber(toi)) {
    spy_py_num(toi->valuedouble, buf, sizeof buf);
    return toi_invalid(err, buf);
  }
  if (cJSON_IsString(toi) && strcmp(toi->valuestring, "all") != 0)
    return toi_invalid(err, toi->valuestring);
  sel->a = calloc(nt ? nt : 1, sizeof *sel->a);
  sel->n = calloc(nt ? nt : 1, sizeof *sel->n);
  if (!sel->a || !sel->n) goto oom;
  if (cJSON_IsString(toi)) {
    sel->all = true;
    for (size_t k = 0; k < nt; k++) sel->n[k] = spy_trial_len(in, k);
    return SPY_OK;
  }
  if (!cJSON_IsArray(toi)) {
    spy_json_brief(toi, buf, sizeof buf);
    return toi_invalid(err, buf);
  }

  double lo = INFINITY, hi = -INFINITY;
  for (size_t k = 0; k < nt; k++) {
    lo = c->tstart[k] < lo ? c->tstart[k] : lo;
    hi = c->tend[k] > hi ? c->tend[k] : hi;
  }
  char l0[40], l1[40];
  spy_py_float(lo, l0, sizeof l0);
  spy_py_float(hi, l1, sizeof l1);
  size_t m, i;
  int rc = spy_array_parser(toi, "toi", lo, hi, l0, l1, 0, &sel->toi, &m, err);
  if (rc) return rc;
  sel->ntoi = m;
  if (m < 2) { /* numpy raises on the equidistance test of fewer than 2 */
    spy_np_str(sel->toi, m, buf, sizeof buf);
    return toi_invalid(err, buf);
  }
  /* np.allclose(np.diff(toi, 2), 0): atol 1e-8 */
  for (i = 0; i + 2 < m; i++) {
    double d2 = (sel->toi[i + 2] - sel->toi[i + 1]) - (sel->toi[i + 1] - sel->toi[i]);
    if (!(fabs(d2) <= 1e-8)) {
      spy_np_str(sel->toi, m, buf, sizeof buf);
      return toi_invalid(err, buf);
    }
  }

  if (!(sel->idx = malloc(nt * m * sizeof *sel->idx + 1))) goto oom;
  double sr = in->samplerate;
  for (size_t k = 0; k < nt; k++) {
    double ts = c->tstart[k];
    size_t len = spy_trial_len(in, k);
    long start = (long)(sr * (sel->toi[0] - ts));
    long stop = (long)(sr * (sel->toi[m - 1] - ts) + 1);
    spy_pyslice(start > 0 ? start : 0, stop > stop - start ? stop : stop - start, len,
                &sel->a[k], &sel->n[k]);
    for (i = 0; i < m; i++) {
      double x = sr * (sel->toi[i] - ts) - (double)start;
      double cap = (double)len - 1;
      long j = (long)(x < cap ? x : cap);
      long sec = (long)sel->n[k];
      if (j < 0) j += sec; /* numpy fancy indexing from the end */
      if (j < 0 || j >= sec) { /* numpy raises IndexError here */
        char t0[40];
        spy_py_float(sel->toi[i], t0, sizeof t0);
        return spy_fail_value(err, "toi", t0,
                              "ascending time-points within every trial (in trial %zu this "
                              "one selects sample %ld of a %ld-sample section)",
                              k, (long)(x < cap ? x : cap), sec);
      }
      sel->idx[k * m + i] = (size_t)j;
    }
  }
  /* _make_trialdef: equidistant steps give the samplerate */
  double s0 = sel->toi[1] - sel->toi[0];
  bool even = true;
  for (i = 1; i < m; i++)
    if (!(fabs((sel->toi[i] - sel->toi[i - 1]) - s0) <= 1e-8 + 1e-5 * fabs(s0))) even = false;
  sel->uneven = !even;
  sel->samplerate = even ? 1 / (sel->toi[1] - sel->toi[0]) : 1.0;
  return SPY_OK;
oom:
  return spy_fail(err, SPY_ENOMEM, "out of memory");
}

int spy_cwt_sel_trldef(const spy_cwt_sel *sel, const spy_trials *in, bool average, spy_op *op)
{
  op->samplerate = sel->samplerate;
  if (sel->all) return spy_tf_trldef_all(in, average, op);
  if (sel->uneven)
    spy_log(SPY_LOG_WARNING, "`SpectralData`'s `time` property currently does not support "
                             "unevenly spaced `toi` selections!");
  return spy_tf_trldef_toi(in, sel->ntoi, sel->toi[0], sel->samplerate, average, op);
}

/* ---- residues of a trial's output indices ------------------------------- */

/*
** The distinct residues (idx - R) mod k of a trial's output indices, where
** the rotation R is the most frequent residue of idx mod k, so that res[0]
** = 0 covers most outputs.  Returns the count, or RESMAX + 1 when there are
** more (then *R = 0 and the trial takes the full inverse FFT).
*/
static size_t residues(const size_t *idx, size_t n, size_t k, size_t *R, size_t *res)
{
  size_t val[RESMAX] = {0}, cnt[RESMAX] = {0}, nv = 0;
  *R = 0;
  for (size_t m = 0; m < n; m++) {
    size_t r = idx[m] % k, q = 0;
    while (q < nv && val[q] != r) q++;
    if (q == nv) {
      if (nv == RESMAX) return RESMAX + 1;
      val[nv] = r;
      cnt[nv++] = 0;
    }
    cnt[q]++;
  }
  size_t best = 0;
  for (size_t q = 1; q < nv; q++)
    if (cnt[q] > cnt[best]) best = q;
  *R = val[best];
  res[0] = 0;
  for (size_t q = 0, j = 1; q < nv; q++)
    if (q != best) res[j++] = (val[q] + k - *R) % k;
  return nv;
}

/* Residues the worst trial needs with grid step k (RESMAX + 1: too many). */
static size_t max_residues(const spy_cwt_sel *sel, size_t k)
{
  size_t worst = 1;
  for (size_t t = 0; t < sel->ntrials && worst <= RESMAX; t++) {
    size_t R, res[RESMAX];
    size_t nr = residues(sel->idx + t * sel->ntoi, sel->ntoi, k, &R, res);
    worst = nr > worst ? nr : worst;
  }
  return worst;
}

/*
** The output grid step k (1 for "all"): among round(c * mean step),
** c = 1..4, the one whose residues are fewest (the first on ties).  A
** non-integer step such as 10.5 samples lands on two residues of k = 21;
** truncation jitter (steps of 9 and 11) on two residues of k = 10.
*/
static size_t grid_step(const spy_cwt_sel *sel)
{
  if (sel->all || sel->ntoi < 2) return 1;
  const size_t *x = sel->idx;
  double mean = ((double)x[sel->ntoi - 1] - (double)x[0]) / (double)(sel->ntoi - 1);
  size_t best = 1, bestr = RESMAX + 2;
  for (int c = 1; c <= 4; c++) {
    double kc = round(c * mean);
    if (!(kc >= 1) || kc > 1e9) continue;
    size_t nr = max_residues(sel, (size_t)kc);
    if (nr < bestr) bestr = nr, best = (size_t)kc;
  }
  return best;
}

/* ---- kernel bank ----------------------------------------------------------- */

/* What is still to make, claimed by the tasks one item at a time: first
** the classes' twiddle tables (when a trial needs more than one residue),
** then the kernel spectra in `order` (longest FFT first, so that the last
** claims are the cheapest). */
struct spy_cwt_lazy {
  size_t ntw, nitems;   /* twiddle tables, all items */
  atomic_size_t next;   /* claims handed out (may run past nitems) */
  atomic_size_t done;   /* items made */
  spy_cwt_fill fill;
  const void *ctx;
  size_t *len, *order;
};

void spy_cwt_bank_free(spy_cwt_bank *b)
{
  if (!b) return;
  if (b->cls)
    for (size_t c = 0; c < b->nclass; c++) spy_fft_free(b->cls[c].tw);
  if (b->lazy) {
    free(b->lazy->len);
    free(b->lazy->order);
    free(b->lazy);
  }
  free(b->cls);
  free(b->kcls);
  free(b->hoff);
  spy_fft_free(b->hre);
  spy_fft_free(b->him);
  memset(b, 0, sizeof *b);
}

static size_t reach(size_t L) /* max(c0, L-1-c0) with c0 = (L-1)/2 */
{
  return L ? L / 2 : 0;
}

static int cmp_desc(const void *a, const void *b, void *ctx)
{
  const size_t *own = ctx;
  size_t x = own[*(const size_t *)a], y = own[*(const size_t *)b];
  return x < y ? 1 : (x > y ? -1 : 0);
}

/* Spectrum of kernel h (length L) on the circular grid of length nfft,
** centred at sample (L-1)/2 and scaled by 1/nfft, via two real FFTs. */
static void kernel_spectrum(const double complex *h, size_t L, size_t nfft, fftw_plan r2c,
                            double *gr, double *gi, fftw_complex *Rs, fftw_complex *Is,
                            double *hre, double *him)
{
  size_t c0 = L ? (L - 1) / 2 : 0;
  memset(gr, 0, nfft * sizeof *gr);
  memset(gi, 0, nfft * sizeof *gi);
  for (size_t j = 0; j < L; j++) {
    size_t p = (j + nfft - c0 % nfft) % nfft; /* (j - c0) mod nfft */
    gr[p] += creal(h[j]);
    gi[p] += cimag(h[j]);
  }
  fftw_execute_dft_r2c(r2c, gr, Rs);
  fftw_execute_dft_r2c(r2c, gi, Is);
  double sc = 1.0 / (double)nfft;
  for (size_t j = 0; j < nfft; j++) {
    double rr, ri, ir, ii;
    if (j <= nfft / 2) {
      rr = creal(Rs[j]), ri = cimag(Rs[j]), ir = creal(Is[j]), ii = cimag(Is[j]);
    } else {
      size_t q = nfft - j;
      rr = creal(Rs[q]), ri = -cimag(Rs[q]), ir = creal(Is[q]), ii = -cimag(Is[q]);
    }
    hre[j] = (rr - ii) * sc;
    him[j] = (ri + ir) * sc;
  }
}

int spy_cwt_bank_build(spy_cwt_bank *b, size_t nkern, const size_t *len, spy_cwt_fill fill,
                       const void *ctx, const spy_cwt_sel *sel, spy_err *err)
{
  int rc = SPY_ENOMEM;
  size_t *own = NULL, *order = NULL;
  memset(b, 0, sizeof *b);

  b->k = grid_step(sel);
  b->nkern = nkern;
  b->ntoi = sel->all ? 0 : sel->ntoi;
  for (size_t t = 0; t < sel->ntrials; t++) b->nmax = sel->n[t] > b->nmax ? sel->n[t] : b->nmax;
  b->maxres = 1;
  if (!sel->all)
    for (size_t t = 0; t < sel->ntrials; t++) {
      size_t R, res[RESMAX];
      size_t nr = residues(sel->idx + t * sel->ntoi, sel->ntoi, b->k, &R, res);
      if (nr > RESMAX) b->need_full = true;
      else if (nr > b->maxres) b->maxres = nr;
    }

  own = malloc((nkern + 1) * sizeof *own);
  order = malloc((nkern + 1) * sizeof *order);
  b->kcls = calloc(nkern + 1, sizeof *b->kcls);
  b->hoff = malloc((nkern + 1) * sizeof *b->hoff);
  b->cls = calloc(nkern + 1, sizeof *b->cls);
  b->lazy = calloc(1, sizeof *b->lazy);
  if (!own || !order || !b->kcls || !b->hoff || !b->cls || !b->lazy) goto fail;
  size_t k = b->k, maxlen = 1;
  for (size_t i = 0; i < nkern; i++) {
    size_t need = b->nmax + reach(len[i]);
    if (need < 1) need = 1;
    own[i] = k * spy_fft_good_size((need + k - 1) / k);
    order[i] = i;
    maxlen = len[i] > maxlen ? len[i] : maxlen;
  }
  /* Classes: from the longest, every kernel whose own length is at least
  ** 4/5 of the class length joins it (a few percent more work per kernel
  ** against one more signal transform per class). */
  qsort_r(order, nkern, sizeof *order, cmp_desc, own);
  for (size_t i = 0; i < nkern;) {
    size_t S = own[order[i]], c = b->nclass++;
    if (S > INT_MAX) {
      rc = spy_fail(err, SPY_EINVAL,
                    "wavelet kernels of %zu samples on trials of %zu samples exceed the FFT "
                    "lengths FFTW takes",
                    maxlen, b->nmax);
      goto fail;
    }
    b->cls[c].nfft = S;
    b->cls[c].nf = S / k;
    while (i < nkern && own[order[i]] * 5 >= S * 4) b->kcls[order[i++]] = c;
  }

  size_t total = 0;
  for (size_t i = 0; i < nkern; i++) {
    b->hoff[i] = total;
    total += b->cls[b->kcls[i]].nfft;
  }
  b->maxlen = maxlen;
  /* not zeroed: spy_cwt_ready writes every value (zeroing 6 MB for case
  ** d2 cost 3 ms of page faults on the calling thread) */
  b->hre = fftw_malloc((total ? total : 1) * sizeof *b->hre);
  b->him = fftw_malloc((total ? total : 1) * sizeof *b->him);
  if (!b->hre || !b->him) goto fail;
  b->bytes = 2 * total * sizeof(double);

  for (size_t c = 0; c < b->nclass; c++) {
    spy_cwt_class *C = &b->cls[c];
    rc = SPY_ERUNTIME;
    int n = (int)C->nfft;
    spy_fft_geom r2c = {SPY_FFT_R2C, n, 1, 1, n, 1, n / 2 + 1, false};
    if (!(C->r2c = spy_fft_plan_quick(&r2c, err))) goto fail;
    for (int q = 0; q < 3; q++) { /* blocks of 1, 2, 4 channels, nf apart */
      int cb = 1 << q;
      int nf = (int)C->nf;
      spy_fft_geom g = {SPY_FFT_BACKWARD, nf, cb, 1, nf, 1, nf, false};
      if (!(C->inv[q] = spy_fft_plan_quick(&g, err))) goto fail;
      spy_fft_geom gf = {SPY_FFT_BACKWARD, n, cb, 1, n, 1, n, false};
      if (b->need_full && k > 1 && !(C->inv_full[q] = spy_fft_plan_quick(&gf, err))) goto fail;
    }
    if (b->maxres > 1) { /* the phase ramps of residues other than the first */
      rc = SPY_ENOMEM;
      if (!(C->tw = fftw_malloc(C->nfft * sizeof *C->tw))) goto fail;
      b->bytes += C->nfft * sizeof *C->tw;
    }
  }
  rc = SPY_ENOMEM;
  spy_cwt_lazy *z = b->lazy;
  if (!(z->len = malloc((nkern + 1) * sizeof *z->len))) goto fail;
  memcpy(z->len, len, nkern * sizeof *len);
  z->order = order; /* longest FFT first */
  order = NULL;
  z->fill = fill;
  z->ctx = ctx;
  z->ntw = b->maxres > 1 ? b->nclass : 0;
  z->nitems = z->ntw + nkern;
  atomic_init(&z->next, 0);
  atomic_init(&z->done, 0);
  spy_log(SPY_LOG_DEBUG,
          "wavelet kernel bank: %zu kernels, %zu FFT lengths (%zu..%zu), output step %zu, "
          "%zu residues%s, %.1f MB",
          nkern, b->nclass, b->nclass ? b->cls[b->nclass - 1].nfft : 0,
          b->nclass ? b->cls[0].nfft : 0, k, b->maxres, b->need_full ? " + full path" : "",
          (double)b->bytes / 1048576.0);
  rc = SPY_OK;
fail:
  if (rc == SPY_ENOMEM) spy_fail(err, rc, "out of memory building the wavelet kernels");
  free(own);
  free(order);
  if (rc) spy_cwt_bank_free(b);
  return rc;
}

/* ---- per-task work ------------------------------------------------------- */

/*
** The work area of one task, carved from its scratch.  A block of cb
** channels is transformed together: each kernel spectrum is folded with
** the cb channel spectra in turn while it is in cache, and the cb inverse
** FFTs run as one batched transform.  Spectra are stored per channel,
** real and imaginary parts apart, so the fold loop vectorizes.
*/
struct spy_cwt_work {
  const spy_cwt_bank *b;
  const spy_task *task;
  size_t a, n;            /* analysed section */
  size_t nout;
  const size_t *idx;      /* NULL: every sample */
  bool full;              /* k > 1 but too many residues */
  size_t R;               /* rotation */
  size_t nres, res[RESMAX];
  size_t cb;              /* channels in the loaded block */
  unsigned char *rq;      /* residue slot of each output (fold mode) */
  double *xd;             /* one channel, detrended */
  double *rbuf;           /* r2c input */
  fftw_complex *half;     /* r2c output */
  double **xre, **xim;    /* [class * maxres + q] block spectra */
  double *zr, *zi;        /* fold accumulators */
  fftw_complex *z, *r;    /* inverse FFT in/out */
  double complex *kh;     /* spy_cwt_ready, in the block spectra's area: one kernel, */
  double *kgr, *kgi;      /* its real and imaginary parts on the circular grid, */
  fftw_complex *kRs, *kIs;/* and their half spectra */
};

#define ALIGN(x) (((x) + 63) & ~(size_t)63)

size_t spy_cwt_block(size_t remaining)
{
  return remaining >= 4 ? 4 : (remaining >= 2 ? 2 : 1);
}

/*
** Lengths shared by spy_cwt_scratch_bytes and spy_cwt_begin.  `area` holds
** the block spectra, and before them (spy_cwt_ready comes before the first
** spy_cwt_channels) the buffers that make kernel spectra: the area is the
** larger of the two.
*/
static void lengths(const spy_cwt_bank *b, size_t *maxfft, size_t *zlen, size_t *area)
{
  size_t mf = 1, mn = 1, s = 0;
  for (size_t c = 0; c < b->nclass; c++) {
    mf = b->cls[c].nfft > mf ? b->cls[c].nfft : mf;
    mn = b->cls[c].nf > mn ? b->cls[c].nf : mn;
    s += ALIGN(b->cls[c].nfft * SPY_CWT_CB * sizeof(double));
  }
  size_t make = ALIGN(b->maxlen * sizeof(double complex)) + 2 * ALIGN(mf * sizeof(double)) +
                2 * ALIGN((mf / 2 + 1) * sizeof(fftw_complex));
  *maxfft = mf;
  *zlen = (b->need_full ? mf : mn) * SPY_CWT_CB;
  *area = 2 * b->maxres * s > make ? 2 * b->maxres * s : make;
}

size_t spy_cwt_scratch_bytes(const spy_cwt_bank *b, size_t nsamp, size_t extra)
{
  size_t maxfft, zlen, area, nptr = b->nclass * b->maxres;
  lengths(b, &maxfft, &zlen, &area);
  return 64 + ALIGN(sizeof(spy_cwt_work)) + ALIGN(2 * nptr * sizeof(double *)) +
         ALIGN(b->ntoi) + ALIGN(nsamp * sizeof(double)) + ALIGN(maxfft * sizeof(double)) +
         ALIGN((maxfft / 2 + 1) * sizeof(fftw_complex)) + area +
         2 * ALIGN(zlen * sizeof(double)) + 2 * ALIGN(zlen * sizeof(fftw_complex)) +
         ALIGN(extra);
}

size_t spy_cwt_maxout(const spy_cwt_bank *b, size_t nsamp)
{
  return b->ntoi ? b->ntoi : nsamp;
}

static void *carve(char **p, size_t bytes)
{
  void *q = *p;
  *p += ALIGN(bytes);
  return q;
}

void *spy_cwt_begin(spy_cwt_work **wp, const spy_cwt_bank *b, const spy_cwt_sel *sel,
                    const spy_task *task, void *scratch)
{
  char *p = (char *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
  spy_cwt_work *w = carve(&p, sizeof *w);
  memset(w, 0, sizeof *w);
  size_t t = task->trial;
  w->b = b;
  w->task = task;
  w->a = sel->a[t];
  w->n = sel->n[t];
  w->nout = sel->all ? w->n : sel->ntoi;
  w->idx = sel->all ? NULL : sel->idx + t * sel->ntoi;
  w->nres = 1;
  if (w->idx) {
    w->nres = residues(w->idx, w->nout, b->k, &w->R, w->res);
    if (w->nres > RESMAX) {
      w->full = true;
      w->nres = 1;
      w->R = 0;
      w->res[0] = 0;
    }
  }
  size_t maxfft, zlen, area, nptr = b->nclass * b->maxres;
  lengths(b, &maxfft, &zlen, &area);
  w->xre = carve(&p, 2 * nptr * sizeof(double *));
  w->xim = w->xre + nptr;
  w->rq = carve(&p, b->ntoi);
  w->xd = carve(&p, task->nsamp * sizeof(double));
  w->rbuf = carve(&p, maxfft * sizeof(double));
  w->half = carve(&p, (maxfft / 2 + 1) * sizeof(fftw_complex));
  char *a = carve(&p, area), *base = a;
  for (size_t c = 0; c < b->nclass; c++)
    for (size_t q = 0; q < b->maxres; q++) {
      w->xre[c * b->maxres + q] = carve(&a, b->cls[c].nfft * SPY_CWT_CB * sizeof(double));
      w->xim[c * b->maxres + q] = carve(&a, b->cls[c].nfft * SPY_CWT_CB * sizeof(double));
    }
  a = base;
  w->kh = carve(&a, b->maxlen * sizeof(double complex));
  w->kgr = carve(&a, maxfft * sizeof(double));
  w->kgi = carve(&a, maxfft * sizeof(double));
  w->kRs = carve(&a, (maxfft / 2 + 1) * sizeof(fftw_complex));
  w->kIs = carve(&a, (maxfft / 2 + 1) * sizeof(fftw_complex));
  w->zr = carve(&p, zlen * sizeof(double));
  w->zi = carve(&p, zlen * sizeof(double));
  w->z = carve(&p, zlen * sizeof(fftw_complex));
  w->r = carve(&p, zlen * sizeof(fftw_complex));
  if (w->idx && !w->full)
    for (size_t m = 0; m < w->nout; m++) {
      size_t rho = (w->idx[m] + b->k - w->R) % b->k, q = 0;
      while (q + 1 < w->nres && w->res[q] != rho) q++;
      w->rq[m] = (unsigned char)q;
    }
  *wp = w;
  return p;
}

size_t spy_cwt_nout(const spy_cwt_work *w) { return w->nout; }

/*
** Claims kernels until none is left, then waits for those other tasks are
** still transforming (one each at most).  A claimed kernel is always
** finished, so a task that stops on Ctrl-C leaves none half made for the
** others to wait on.
*/
int spy_cwt_ready(spy_cwt_work *w)
{
  const spy_cwt_bank *b = w->b;
  spy_cwt_lazy *z = b->lazy;
  size_t n = z->nitems;
  if (atomic_load_explicit(&z->done, memory_order_acquire) == n) return SPY_OK;
  for (;;) {
    if (spy_interrupted()) return SPY_EINTR;
    size_t j = atomic_fetch_add_explicit(&z->next, 1, memory_order_relaxed);
    if (j >= n) break;
    if (j < z->ntw) {
      const spy_cwt_class *C = &b->cls[j];
      for (size_t q = 0; q < C->nfft; q++) {
        double a = 2 * M_PI * (double)q / (double)C->nfft;
        C->tw[q] = CMPLX(cos(a), sin(a));
      }
    } else {
      size_t i = z->order[j - z->ntw];
      const spy_cwt_class *C = &b->cls[b->kcls[i]];
      z->fill(z->ctx, i, w->kh);
      kernel_spectrum(w->kh, z->len[i], C->nfft, C->r2c, w->kgr, w->kgi, w->kRs, w->kIs,
                      b->hre + b->hoff[i], b->him + b->hoff[i]);
    }
    atomic_fetch_add_explicit(&z->done, 1, memory_order_release);
  }
  while (atomic_load_explicit(&z->done, memory_order_acquire) < n) {
    if (spy_interrupted()) return SPY_EINTR;
    sched_yield();
  }
  return SPY_OK;
}

bool spy_cwt_channels(spy_cwt_work *w, size_t col0, size_t cb, int poly)
{
  const spy_cwt_bank *b = w->b;
  const spy_task *task = w->task;
  size_t ns = task->nsamp, nch = task->nchan;
  bool finite = true;
  w->cb = cb;
  for (size_t ch = 0; ch < cb; ch++) {
    if (task->flags & SPY_TASK_IN_F32) { /* stored float32: widening is exact */
      const float *in = (const float *)(const void *)task->in + col0 + ch;
      for (size_t i = 0; i < ns; i++) {
        double v = in[i * nch];
        finite &= v == v;
        w->xd[i] = v;
      }
    } else
      for (size_t i = 0; i < ns; i++) {
        double v = task->in[i * nch + col0 + ch];
        finite &= v == v;
        w->xd[i] = v;
      }
    spy_detrend(w->xd, ns, 1, poly);
    for (size_t c = 0; c < b->nclass; c++) {
      const spy_cwt_class *C = &b->cls[c];
      size_t nfft = C->nfft, R = w->R % nfft, h = nfft / 2;
      memset(w->rbuf, 0, nfft * sizeof *w->rbuf);
      /* section sample i sits at circular position (i - R) mod nfft */
      for (size_t i = 0; i < w->n; i++) w->rbuf[(i + nfft - R) % nfft] = w->xd[w->a + i];
      fftw_execute_dft_r2c(C->r2c, w->rbuf, w->half);
      double *xr = w->xre[c * b->maxres] + ch * nfft, *xi = w->xim[c * b->maxres] + ch * nfft;
      for (size_t j = 0; j <= h; j++) xr[j] = creal(w->half[j]), xi[j] = cimag(w->half[j]);
      for (size_t j = h + 1; j < nfft; j++)
        xr[j] = creal(w->half[nfft - j]), xi[j] = -cimag(w->half[nfft - j]);
    }
  }
  /* residue rho: the signal advanced by rho samples, X(j) e^{2 pi i j rho/nfft} */
  for (size_t c = 0; c < b->nclass; c++) {
    const spy_cwt_class *C = &b->cls[c];
    const double *xr = w->xre[c * b->maxres], *xi = w->xim[c * b->maxres];
    for (size_t q = 1; q < w->nres; q++) {
      double *yr = w->xre[c * b->maxres + q], *yi = w->xim[c * b->maxres + q];
      size_t rho = w->res[q], ix = 0;
      for (size_t j = 0; j < C->nfft; j++) {
        double tr = creal(C->tw[ix]), ti = cimag(C->tw[ix]);
        for (size_t e = j; e < cb * C->nfft; e += C->nfft) {
          yr[e] = xr[e] * tr - xi[e] * ti;
          yi[e] = xr[e] * ti + xi[e] * tr;
        }
        ix += rho;
        if (ix >= C->nfft) ix -= C->nfft;
      }
    }
  }
  return finite;
}

/* z = sum over the k blocks of H X: the product spectrum folded to nf bins. */
/* On x86-64 the fold also gets an AVX2/FMA build, chosen at load time. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define FOLD_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define FOLD_CLONES
#endif

FOLD_CLONES static void
fold(const double *restrict hr, const double *restrict hi, const double *restrict xr,
                 const double *restrict xi, size_t nf, size_t k, double *restrict zr,
                 double *restrict zi, fftw_complex *restrict z)
{
  if (k == 1) {
    for (size_t j = 0; j < nf; j++)
      z[j] = CMPLX(hr[j] * xr[j] - hi[j] * xi[j], hr[j] * xi[j] + hi[j] * xr[j]);
    return;
  }
  for (size_t j = 0; j < nf; j++) {
    zr[j] = hr[j] * xr[j] - hi[j] * xi[j];
    zi[j] = hr[j] * xi[j] + hi[j] * xr[j];
  }
  for (size_t r = 1; r < k; r++) {
    const double *a = hr + r * nf, *bb = hi + r * nf, *c = xr + r * nf, *d = xi + r * nf;
    for (size_t j = 0; j < nf; j++) {
      zr[j] += a[j] * c[j] - bb[j] * d[j];
      zi[j] += a[j] * d[j] + bb[j] * c[j];
    }
  }
  for (size_t j = 0; j < nf; j++) z[j] = CMPLX(zr[j], zi[j]);
}

void spy_cwt_apply(spy_cwt_work *w, size_t i, double complex *vals)
{
  const spy_cwt_bank *b = w->b;
  size_t c = b->kcls[i], cb = w->cb, nout = w->nout;
  size_t pq = cb == 4 ? 2 : (cb == 2 ? 1 : 0);
  const spy_cwt_class *C = &b->cls[c];
  const double *hr = b->hre + b->hoff[i], *hi = b->him + b->hoff[i];
  size_t nfft = C->nfft, k = b->k;

  if (w->full) {
    const double *xr = w->xre[c * b->maxres], *xi = w->xim[c * b->maxres];
    for (size_t ch = 0; ch < cb; ch++)
      fold(hr, hi, xr + ch * nfft, xi + ch * nfft, nfft, 1, w->zr, w->zi, w->z + ch * nfft);
    fftw_execute_dft(C->inv_full[pq], w->z, w->r);
    for (size_t ch = 0; ch < cb; ch++)
      for (size_t m = 0; m < nout; m++) vals[ch * nout + m] = w->r[ch * nfft + w->idx[m]];
    return;
  }
  size_t nf = C->nf, R = w->R % nfft;
  for (size_t q = 0; q < w->nres; q++) {
    const double *xr = w->xre[c * b->maxres + q], *xi = w->xim[c * b->maxres + q];
    for (size_t ch = 0; ch < cb; ch++)
      fold(hr, hi, xr + ch * nfft, xi + ch * nfft, nf, k, w->zr, w->zi, w->z + ch * nf);
    fftw_execute_dft(C->inv[pq], w->z, w->r);
    if (!w->idx) {
      for (size_t ch = 0; ch < cb; ch++) memcpy(vals + ch * nout, w->r + ch * nf, nout * sizeof *vals);
      continue;
    }
    for (size_t m = 0; m < nout; m++) {
      if (w->rq[m] != q) continue;
      /* circular position of the output, = rho mod k */
      size_t pos = w->idx[m] >= R ? w->idx[m] - R : w->idx[m] + nfft - R;
      for (size_t ch = 0; ch < cb; ch++) vals[ch * nout + m] = w->r[ch * nf + pos / k];
    }
  }
}
