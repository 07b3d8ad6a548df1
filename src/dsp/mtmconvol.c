#include "dsp/mtmconvol.h"

#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/interrupt.h"
#include "core/pyfmt.h"
#include "core/sizeset.h"
#include "dsp/mtmfft.h"

#define BLOCK_BYTES ((size_t)2 << 20)

enum { SLIDE, TOI, WINDOWS };

typedef struct conv_plan {
  int mode;
  size_t M, nc, K, step, nfreq;
  size_t *fidx;
  spy_specout output;
  bool avg, welch;
  int poly;
  double scale;      /* sqrt(2)/M */
  double *w;         /* SLIDE, TOI: K x M tapers */
  spy_mtm_corr corr; /* SLIDE, TOI: per-window detrending corrections */
  size_t maxseg;     /* most windows of one trial: the block size bound */
  /* TOI */
  size_t ntoi, delta;
  long *soi0; /* per trial: first sample of window 0 */
  /* WINDOWS */
  size_t *wa, *wl; /* ntrials x ntoi window starts and lengths */
  size_t *wfidx;   /* ntrials x nfreq bins on each trial's first-window grid */
  size_t nlen, *lens;
  double **wt; /* per distinct window length: K x len tapers */
} conv_plan;

/* ---- window positions ---------------------------------------------------- */

static size_t nseg_of(const conv_plan *p, size_t L)
{
  if (p->mode == SLIDE) return (L + p->step - 1) / p->step;
  return p->ntoi;
}

static long seg_start(const conv_plan *p, size_t trial, size_t j)
{
  if (p->mode == SLIDE) return (long)(j * p->step) - (long)(p->M / 2);
  return p->soi0[trial] + (long)(j * p->delta);
}

/* ---- the sliding-window kernel (toi 'all', fraction, equidistant; welch) -- */

static size_t block_segs(const conv_plan *p, size_t C)
{
  size_t per = p->K * C * (p->M * sizeof(double) + p->nc * sizeof(double complex));
  return spy_mtm_block(p->maxseg, per, BLOCK_BYTES);
}

static size_t rows_for(const void *ctx, size_t C)
{
  const conv_plan *p = ctx;
  return block_segs(p, C) * p->K * C;
}

typedef struct layout {
  size_t xs, stats, tile, in, out, acc, wacc, wcnt, total;
} layout;

/* Scratch: one transposed window (C x M, several tapers), each block
** window's trend (B x 2C), transpose tile (8C), FFT input and output of a
** block, taper accumulator (nfreq x C), welch's window sums and counts. */
static layout carve(const conv_plan *p, size_t C)
{
  layout s;
  size_t rows = rows_for(p, C), fc = p->nfreq * C, B = block_segs(p, C);
  s.xs = 0;
  s.stats = s.xs + (p->K > 1 ? spy_mtm_round(C * p->M * sizeof(double)) : 0);
  s.tile = s.stats + spy_mtm_round(B * 2 * C * sizeof(double));
  s.in = s.tile + spy_mtm_round(8 * C * sizeof(double));
  s.out = s.in + spy_mtm_round(rows * p->M * sizeof(double));
  s.acc = s.out + spy_mtm_round(rows * p->nc * sizeof(double complex));
  s.wacc = s.acc + spy_mtm_round(fc * sizeof(double));
  s.wcnt = s.wacc + (p->welch ? spy_mtm_round(fc * sizeof(double)) : 0);
  s.total = s.wcnt + (p->welch ? spy_mtm_round(fc * sizeof(size_t)) : 0);
  return s;
}

/* Tapers the window of x starting at sample a (zeros outside the trial)
** with each of the K tapers into K x C rows of length M, and leaves the
** window's trend (mean and slope over all M samples, the zeros included,
** as scipy's detrend sees them) in stats; emit_window removes it. */
static void fill_window(const conv_plan *p, const double *x, size_t L, size_t C, long a,
                        double *rows, double *xs, double *stats, double *tile)
{
  size_t M = p->M, K = p->K;
  long lo = a < 0 ? -a : 0, hi = (long)L - a;
  size_t m0 = (size_t)(lo < (long)M ? lo : (long)M);
  size_t m1 = hi < 0 ? 0 : (hi > (long)M ? M : (size_t)hi);
  if (m1 < m0) m1 = m0;
  double mbar = (double)(M - 1) / 2, *mean = stats, *slope = stats + C;
  double *dst = K > 1 ? xs : rows;
  memset(stats, 0, 2 * C * sizeof *stats);
  for (size_t c = 0; c < C; c++) {
    memset(dst + c * M, 0, m0 * sizeof *dst);
    memset(dst + c * M + m1, 0, (M - m1) * sizeof *dst);
  }
  if (m1 > m0)
    spy_mtm_fill(x + (a + (long)m0) * (long)C, m1 - m0, C, K > 1 ? NULL : p->w + m0,
                 mbar - (double)m0, dst + m0, M, tile, p->poly >= 0 ? mean : NULL,
                 p->poly == 1 ? slope : NULL);
  spy_mtm_trend(p->poly, M, C, mean, slope, mean, slope);
  if (K > 1)
    for (size_t k = 0; k < K; k++) {
      const double *wk = p->w + k * M;
      for (size_t c = 0; c < C; c++) {
        double *r = rows + (k * C + c) * M;
        const double *v = xs + c * M;
        for (size_t m = 0; m < M; m++)
          r[m] = wk[m] * v[m];
      }
    }
}

/* Converts the K x C spectra of one window (its trend removed) into its
** output row, or the taper mean into acc (welch: into the window sums);
** returns a sum that is NaN when an output is. */
static double emit_window(const conv_plan *p, const double complex *F, size_t C,
                          const double *stats, void *row, double *acc, double *wacc, size_t *wcnt)
{
  size_t nf = p->nfreq, nc = p->nc, K = p->K;
  size_t es = p->output == SPY_OUT_FOURIER ? sizeof(float complex) : sizeof(float);
  double scale = p->scale, chk = 0;
  bool mean_pow = p->avg || p->welch;
  if (mean_pow) memset(acc, 0, nf * C * sizeof *acc);
  for (size_t k = 0; k < K; k++) {
    const double complex *W = p->poly >= 0 ? p->corr.W + k * nf : NULL;
    const double complex *V = p->poly == 1 ? p->corr.V + k * nf : NULL;
    if (mean_pow)
      chk += spy_mtm_pow(F + k * C * nc, nc, C, p->fidx, nf, W, V, stats, stats + C, scale * scale,
                         NULL, acc);
    else
      chk += spy_mtm_emit(F + k * C * nc, nc, C, p->fidx, nf, W, V, NULL, stats, stats + C, NULL,
                          scale, p->output, (char *)row + k * nf * C * es);
  }
  if (!mean_pow) return chk;
  /* the taper mean of the power (the only output averaging is allowed for) */
  for (size_t i = 0; i < nf * C; i++) {
    double v = acc[i] / (double)K;
    if (p->welch) {
      if (v == v) wacc[i] += v, wcnt[i]++;
    } else {
      ((float *)row)[i] = (float)v;
      chk += v;
    }
  }
  return chk;
}

static int slide_kernel(const conv_plan *p, spy_task *task, spy_err *err)
{
  size_t L = task->nsamp, C = task->nchan, K = p->K, M = p->M;
  size_t nseg = nseg_of(p, L), B = block_segs(p, C),
         rowel = (p->avg || p->welch ? 1 : K) * p->nfreq * C;
  size_t esz = p->output == SPY_OUT_FOURIER ? sizeof(float complex) : sizeof(float);
  fftw_plan fp = spy_mtm_fftplan(M, B * K * C, err);
  if (!fp) return err ? err->code : SPY_ERUNTIME;
  layout s = carve(p, C);
  char *base = task->scratch;
  double *xs = (double *)(base + s.xs), *stats = (double *)(base + s.stats);
  double *tile = (double *)(base + s.tile), *in = (double *)(base + s.in);
  double *acc = (double *)(base + s.acc);
  double complex *F = (double complex *)(base + s.out);
  double *wacc = (double *)(base + s.wacc);
  size_t *wcnt = (size_t *)(base + s.wcnt);
  double chk = 0;
  if (p->welch) {
    memset(wacc, 0, p->nfreq * C * sizeof *wacc);
    memset(wcnt, 0, p->nfreq * C * sizeof *wcnt);
  }

  for (size_t j0 = 0; j0 < nseg; j0 += B) {
    size_t jn = nseg - j0 < B ? nseg - j0 : B;
    for (size_t jj = 0; jj < jn; jj++)
      fill_window(p, task->in, L, C, seg_start(p, task->trial, j0 + jj), in + jj * K * C * M, xs,
                  stats + jj * 2 * C, tile);
    if (jn < B) memset(in + jn * K * C * M, 0, (B - jn) * K * C * M * sizeof *in);
    fftw_execute_dft_r2c(fp, in, (fftw_complex *)F);
    for (size_t jj = 0; jj < jn; jj++) {
      void *row = (char *)task->out + (p->welch ? 0 : (j0 + jj) * rowel * esz);
      chk += emit_window(p, F + jj * K * C * p->nc, C, stats + jj * 2 * C, row, acc, wacc, wcnt);
    }
    if (spy_interrupted()) return SPY_EINTR;
  }
  if (p->welch) {
    float *o = task->out;
    for (size_t i = 0; i < p->nfreq * C; i++) {
      o[i] = wcnt[i] ? (float)(wacc[i] / (double)wcnt[i]) : NAN;
      chk += o[i];
    }
  }
  if (chk != chk) task->flags |= SPY_TASK_HAS_NAN;
  return SPY_OK;
}

/* ---- one window per toi value (non-equidistant toi) ---------------------- */

static spy_mtm_args window_args(const conv_plan *p, size_t trial, size_t len)
{
  size_t lo = spy_sizeset_find(p->lens, p->nlen, len);
  spy_mtm_args a = {.N = len,
                    .K = p->K,
                    .w = lo < p->nlen ? p->wt[lo] : NULL,
                    .fidx = p->wfidx + trial * p->nfreq,
                    .nfreq = p->nfreq,
                    .output = p->output,
                    .avg = p->avg,
                    .demean_taper = false,
                    .poly = -1, /* this path does not detrend */
                    .scale = sqrt(2.0) / (double)len,
                    .corr = NULL};
  return a;
}

/* A window length of the plan, for spy_mtm_warm. */
typedef struct window {
  const conv_plan *p;
  size_t len;
} window;

static size_t window_rows(const void *ctx, size_t C)
{
  const window *w = ctx;
  spy_mtm_args a = window_args(w->p, 0, w->len);
  return spy_mtm_rows(&a, C);
}

static size_t windows_scratch(const conv_plan *p, size_t C)
{
  size_t most = 0;
  for (size_t i = 0; i < p->nlen; i++) {
    spy_mtm_args a = window_args(p, 0, p->lens[i]);
    size_t b = spy_mtm_scratch(&a, p->lens[i], C);
    if (b > most) most = b;
  }
  return most;
}

static int windows_kernel(const conv_plan *p, spy_task *task, spy_err *err)
{
  size_t C = task->nchan, k = task->trial;
  size_t rowel = (p->avg ? 1 : p->K) * p->nfreq * C;
  size_t esz = p->output == SPY_OUT_FOURIER ? sizeof(float complex) : sizeof(float);
  for (size_t i = 0; i < p->ntoi; i++) {
    size_t a0 = p->wa[k * p->ntoi + i], len = p->wl[k * p->ntoi + i];
    spy_mtm_args a = window_args(p, k, len);
    if (!a.w) return spy_fail(err, SPY_EINVAL, "mtmconvol: no tapers planned for %zu samples", len);
    int rc = spy_mtm_transform(&a, task->in + a0 * C, len, C, (char *)task->out + i * rowel * esz,
                               task->scratch, &task->flags, err);
    if (rc) return rc;
  }
  return SPY_OK;
}

/* ---- the op --------------------------------------------------------------- */

static int conv_kernel(const void *plan, spy_task *task, spy_err *err)
{
  const conv_plan *p = plan;
  if (spy_interrupted()) return SPY_EINTR;
  return p->mode == WINDOWS ? windows_kernel(p, task, err) : slide_kernel(p, task, err);
}

static size_t conv_scratch(const void *plan, size_t nsamp, size_t nchan)
{
  const conv_plan *p = plan;
  (void)nsamp;
  return p->mode == WINDOWS ? windows_scratch(p, nchan) : carve(p, nchan).total;
}

static void conv_free(void *plan)
{
  conv_plan *p = plan;
  if (!p) return;
  free(p->fidx);
  free(p->w);
  spy_mtm_corr_free(&p->corr);
  free(p->soi0);
  free(p->wa);
  free(p->wl);
  free(p->wfidx);
  for (size_t i = 0; i < p->nlen; i++)
    free(p->wt ? p->wt[i] : NULL);
  free(p->wt);
  free(p->lens);
  free(p);
}

/* Equidistant toi: Syncopy cuts each trial to soi = [toi[0] - halfWin,
** toi[-1] + halfWin] (rounded), runs the STFT with step 1 and no boundary,
** drops the last window and keeps every delta-th, delta from trial 0. */
static int plan_toi(conv_plan *p, const spy_mtmconvol_params *prm, const spy_trials *in,
                    spy_err *err)
{
  double sr = in->samplerate, half = (double)(p->M / 2);
  size_t nt = in->ntrials;
  if (!(p->soi0 = malloc((nt ? nt : 1) * sizeof *p->soi0))) return SPY_ENOMEM;
  for (size_t k = 0; k < nt; k++) {
    long start = (long)nearbyint(sr * (prm->toi[0] - prm->tstart[k]) - half);
    if (start < 0) start = 0;
    long stop = (long)nearbyint(sr * (prm->toi[prm->ntoi - 1] - prm->tstart[k]) + half + 1);
    if (stop - start > stop) stop = stop - start;
    if (k == 0) {
      double d = nearbyint((double)(stop - start) / (double)prm->ntoi);
      p->delta = d > 1 ? (size_t)d : 1;
    }
    size_t a, Ls;
    spy_pyslice(start, stop, spy_trial_len(in, k), &a, &Ls);
    size_t nwin = Ls > p->M ? (Ls - p->M + p->delta - 1) / p->delta : 0;
    if (nwin != prm->ntoi)
      return spy_fail(err, SPY_EINVAL,
                      "Invalid value of `toi`: '%zu equidistant time points'; expected one "
                      "analysis window per time point, but Syncopy's algorithm for equidistant "
                      "`toi` places %zu windows in trial %zu (Syncopy fails on this input "
                      "too): use a spacing of one sample, or a spacing larger than half the "
                      "window (t_ftimwin/2)",
                      prm->ntoi, nwin, k);
    p->soi0[k] = (long)a;
  }
  p->ntoi = prm->ntoi;
  p->maxseg = p->ntoi;
  return SPY_OK;
}

/* Non-equidistant toi: one window per toi value at
** int(sr (t - tStart) -/+ halfWin (+1)) + padBegin, clipped to the trial as
** numpy slicing does; bins re-matched on the grid of each trial's first
** window. */
static int plan_windows(conv_plan *p, const spy_mtmconvol_params *prm, const spy_trials *in,
                        const spy_taper *t, spy_err *err)
{
  double sr = in->samplerate, half = (double)(p->M / 2);
  size_t nt = in->ntrials, ntoi = prm->ntoi, nf = p->nfreq;
  p->ntoi = ntoi;
  p->wa = malloc((nt ? nt : 1) * ntoi * sizeof *p->wa);
  p->wl = malloc((nt ? nt : 1) * ntoi * sizeof *p->wl);
  p->wfidx = malloc((nt ? nt : 1) * (nf ? nf : 1) * sizeof *p->wfidx);
  p->lens = malloc((nt ? nt : 1) * ntoi * sizeof *p->lens);
  double *foi = malloc((nf ? nf : 1) * sizeof *foi), *grid = NULL;
  size_t *idx = malloc((nf ? nf : 1) * sizeof *idx);
  int rc = SPY_ENOMEM;
  if (!p->wa || !p->wl || !p->wfidx || !p->lens || !foi || !idx) goto done;
  for (size_t f = 0; f < nf; f++)
    foi[f] = spy_rfftfreq(p->fidx[f], p->M, sr);
  for (size_t k = 0; k < nt; k++) {
    size_t L = spy_trial_len(in, k);
    long pad = (long)half - (long)((prm->toi[0] - prm->tstart[k]) * sr);
    if (pad < 0) pad = 0;
    for (size_t i = 0; i < ntoi; i++) {
      double v = sr * (prm->toi[i] - prm->tstart[k]);
      long start = (long)(v - half) + pad, stop = (long)(v + half + 1) + pad;
      if (stop - start > stop) stop = stop - start;
      size_t a, n;
      spy_pyslice(start, stop, L, &a, &n);
      if (n == 0) {
        rc = spy_fail(err, SPY_EINVAL,
                      "Invalid value of `toi`: '%g'; expected time points whose analysis "
                      "windows overlap trial %zu (this window holds no samples)",
                      prm->toi[i], k);
        goto done;
      }
      p->wa[k * ntoi + i] = a;
      p->wl[k * ntoi + i] = n;
    }
    size_t n0 = p->wl[k * ntoi], nb = n0 / 2 + 1;
    double *g = realloc(grid, nb * sizeof *grid);
    if (!g) goto done;
    grid = g;
    for (size_t b = 0; b < nb; b++)
      grid[b] = spy_rfftfreq(b, n0, sr);
    size_t m = spy_best_match(grid, nb, foi, nf, true, idx);
    if (m != nf) {
      rc = spy_fail(err, SPY_EINVAL,
                    "Invalid value of `foi/foilim`: '%zu frequencies'; expected frequencies "
                    "that stay distinct on the %zu-sample window of trial %zu (only %zu do; "
                    "Syncopy fails on this input too)",
                    nf, n0, k, m);
      goto done;
    }
    for (size_t i = 0; i < ntoi; i++) {
      size_t len = p->wl[k * ntoi + i];
      for (size_t f = 0; f < nf; f++)
        if (idx[f] >= len / 2 + 1) {
          rc = spy_fail(err, SPY_EINVAL,
                        "Invalid value of `toi`: '%g'; expected time points whose windows hold "
                        "at least %zu samples (the window in trial %zu is cut to %zu samples by "
                        "the trial end; Syncopy fails on this input too)",
                        prm->toi[i], 2 * idx[f], k, len);
          goto done;
        }
    }
    memcpy(p->wfidx + k * nf, idx, nf * sizeof *idx);
  }
  /* tapers per distinct window length (dpss with sym=True: mtmfft) */
  memcpy(p->lens, p->wl, nt * ntoi * sizeof *p->lens);
  p->nlen = spy_sizeset_make(p->lens, nt * ntoi);
  if ((rc = spy_mtm_tapers("mtmconvol", t, p->lens, p->nlen, 0, &p->wt, err))) goto done;
  for (size_t i = 0; i < p->nlen; i++) {
    window w = {p, p->lens[i]};
    if ((rc = spy_mtm_warm(w.len, in->nchan, prm->chan_chunk, window_rows, &w, err))) goto done;
  }
  rc = SPY_OK;
done:
  if (rc == SPY_ENOMEM) spy_fail(err, SPY_ENOMEM, "out of memory planning mtmconvol");
  free(foi);
  free(idx);
  free(grid);
  return rc;
}

int spy_mtmconvol_plan(const spy_mtmconvol_params *prm, const spy_trials *in, spy_op *op,
                       spy_err *err)
{
  int rc = SPY_ENOMEM;
  conv_plan *p = calloc(1, sizeof *p);
  if (!p) return spy_fail(err, SPY_ENOMEM, "out of memory");
  op->plan = p;
  op->free_plan = conv_free;
  op->kernel = conv_kernel;
  op->scratch_bytes = conv_scratch;
  op->name = prm->welch ? "welch" : "mtmconvol";
  op->chan_independent = true;

  const spy_taper *t = prm->taper;
  double sr = in->samplerate;
  p->M = prm->nperseg;
  p->nc = p->M / 2 + 1;
  p->K = t->K;
  p->step = prm->step ? prm->step : 1;
  p->nfreq = prm->nfreq;
  p->output = prm->output;
  p->welch = prm->welch;
  p->avg = !prm->keeptapers && t->K > 1;
  p->poly = prm->polyremoval;
  p->scale = sqrt(2.0) / (double)p->M;
  p->mode = !prm->toi ? SLIDE : (prm->equidistant ? TOI : WINDOWS);
  if (p->M < 1) {
    rc = spy_fail(err, SPY_EINVAL, "mtmconvol: the window holds no samples (nperseg = 0)");
    goto fail;
  }
  if ((rc = spy_mtm_bins(op->name, prm->fidx, p->nfreq, p->nc, &p->fidx, err))) goto fail;

  if (p->mode == WINDOWS) {
    if ((rc = plan_windows(p, prm, in, t, err))) goto fail;
  } else {
    if (p->mode == TOI && (rc = plan_toi(p, prm, in, err))) {
      if (rc == SPY_ENOMEM) goto nomem;
      goto fail;
    }
    if (p->mode == SLIDE)
      for (size_t k = 0; k < in->ntrials; k++) {
        size_t n = nseg_of(p, spy_trial_len(in, k));
        if (n > p->maxseg) p->maxseg = n;
      }
    /* the STFT's DPSS are periodic (sym=False) */
    if (!(p->w = malloc(p->M * p->K * sizeof *p->w))) goto nomem;
    if ((rc = spy_taper_compute(t, p->M, p->M, false, p->w, err))) goto fail;
    if ((rc = spy_mtm_warm(p->M, in->nchan, prm->chan_chunk, rows_for, p, err))) goto fail;
    if (p->poly >= 0 &&
        (rc = spy_mtm_corr_make(p->w, p->K, p->M, p->M, p->fidx, p->nfreq, p->poly == 1, false,
                                rows_for(p, prm->chan_chunk && prm->chan_chunk < in->nchan
                                                ? prm->chan_chunk
                                                : in->nchan),
                                &p->corr, err)))
      goto fail;
  }

  /* output geometry and metadata */
  if (spy_mtm_axes(op, t, prm->keeptapers, p->output, p->fidx, p->nfreq, p->M, sr)) goto nomem;
  bool average = !prm->keeptrials;
  if (prm->welch) {
    op->samplerate = nearbyint(sr / (double)p->step * 100) / 100;
    rc = spy_trldef_stacked(in, false, average, op);
  } else if (!prm->toi) {
    op->samplerate = prm->toi_all ? sr : nearbyint(sr / (double)p->step * 100) / 100;
    rc = prm->toi_all ? spy_tf_trldef_all(in, average, op)
                      : spy_tf_trldef_step(in, p->step, average, op);
  } else {
    op->samplerate = prm->toi_even && prm->ntoi > 1 ? 1 / (prm->toi[1] - prm->toi[0]) : 1.0;
    if (!prm->toi_even && prm->ntoi > 1)
      spy_py_warning("freqanalysis", "`SpectralData`'s `time` property currently does not "
                                     "support unevenly spaced `toi` selections!");
    rc = spy_tf_trldef_toi(in, prm->ntoi, prm->toi[0], op->samplerate, average, op);
  }
  if (rc) goto nomem;
  /* Syncopy averages the trials' sliding windows before welch's mean, so
  ** it needs equal window counts there too */
  if (average)
    for (size_t k = 1; k < in->ntrials; k++)
      if (op->out_rows[k] != op->out_rows[0] ||
          nseg_of(p, spy_trial_len(in, k)) != nseg_of(p, spy_trial_len(in, 0))) {
        rc = spy_fail(err, SPY_ENOTSUP,
                      "Averaging trials of unequal lengths in output currently not supported!");
        goto fail;
      }
  return SPY_OK;

nomem:
  rc = spy_fail(err, SPY_ENOMEM, "out of memory planning %s", op->name);
fail:
  spy_op_free(op);
  return rc;
}
