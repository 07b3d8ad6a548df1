#include "dsp/fir.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dsp/fft.h"
#include "dsp/windows.h"

/* Syncopy's windowed_sinc: a low-pass of order+1 taps (order even),
** cut-off fc in cycles per sample, windowed and normalised to unit sum. */
static void windowed_sinc(const double *win, size_t order, double fc, double *h)
{
  double wc = 2 * M_PI * fc, sum = 0;
  size_t half = order / 2;
  h[half] = wc;
  for (size_t k = 1; k <= half; k++) h[half + k] = h[half - k] = sin(wc * (double)k) / (double)k;
  for (size_t i = 0; i <= order; i++) {
    h[i] *= win[i];
    sum += h[i];
  }
  for (size_t i = 0; i <= order; i++) h[i] /= sum;
}

int spy_design_wsinc(const char *window, long order, const double *fc, spy_btype type, double *h,
                     spy_err *err)
{
  if (order < 0) return spy_fail_value(err, "order", NULL, "a non-negative filter order");
  size_t m = spy_wsinc_len(order), ord = m - 1, mid = ord / 2;
  double *win = malloc(2 * m * sizeof *win);
  if (!win) return spy_fail(err, SPY_ENOMEM, "out of memory");
  double *tmp = win + m;
  int rc = spy_window(window, m, true, NULL, win, err);
  if (rc) {
    free(win);
    return rc;
  }
  switch (type) {
  case SPY_LOWPASS: windowed_sinc(win, ord, fc[0], h); break;
  case SPY_HIGHPASS:
    windowed_sinc(win, ord, fc[0], h);
    for (size_t i = 0; i < m; i++) h[i] = -h[i];
    h[mid] += 1;
    break;
  case SPY_BANDPASS:
  case SPY_BANDSTOP: {
    /* bp: lp(high) + (delta - lp(low)) - delta;  bs: lp(low) + (delta - lp(high)) */
    double flp = type == SPY_BANDPASS ? fc[1] : fc[0];
    double fhp = type == SPY_BANDPASS ? fc[0] : fc[1];
    windowed_sinc(win, ord, flp, h);
    windowed_sinc(win, ord, fhp, tmp);
    for (size_t i = 0; i < m; i++) tmp[i] = -tmp[i];
    tmp[mid] += 1;
    for (size_t i = 0; i < m; i++) h[i] += tmp[i];
    if (type == SPY_BANDPASS) h[mid] -= 1;
    break;
  }
  }
  free(win);
  return SPY_OK;
}

/* A plan for transforms made once: FFTW_ESTIMATE, measuring would cost
** more than it saves. */
static fftw_plan plan_once(spy_fft_kind kind, size_t n, spy_err *err)
{
  int nc = (int)(n / 2 + 1);
  spy_fft_geom g = {kind, (int)n, 1, 1, kind == SPY_FFT_C2R ? nc : (int)n, 1,
                    kind == SPY_FFT_R2C ? nc : (int)n, false};
  return spy_fft_plan_quick(&g, err);
}

int spy_minphase_rceps(const double *h, size_t n, double *out, spy_err *err)
{
  size_t nfft = 1;
  while (nfft < n * 1000) nfft *= 2;
  size_t n1 = nfft - 1;
  if (nfft > (size_t)1 << 30)
    return spy_fail(err, SPY_EINVAL,
                    "a minimum-phase FIR filter of %zu taps needs an FFT of %zu points, "
                    "more than this version supports; use a lower order",
                    n, nfft);
  fftw_plan f1 = plan_once(SPY_FFT_R2C, nfft, err);
  fftw_plan b1 = f1 ? plan_once(SPY_FFT_C2R, nfft, err) : NULL;
  fftw_plan f2 = b1 ? plan_once(SPY_FFT_R2C, n1, err) : NULL;
  fftw_plan b2 = f2 ? plan_once(SPY_FFT_C2R, n1, err) : NULL;
  if (!b2) return err ? err->code : SPY_ERUNTIME;
  double *r = spy_fft_alloc(nfft * sizeof *r);
  double complex *X = spy_fft_alloc((nfft / 2 + 1) * sizeof *X);
  if (!r || !X) {
    spy_fft_free(r);
    spy_fft_free(X);
    return spy_fail(err, SPY_ENOMEM, "out of memory");
  }
  memcpy(r, h, n * sizeof *r);
  fftw_execute_dft_r2c(f1, r, (fftw_complex *)X);
  for (size_t k = 0; k <= nfft / 2; k++) {
    double a = cabs(X[k]);
    X[k] = log(a < 1e-8 ? 1e-8 : a);
  }
  fftw_execute_dft_c2r(b1, (fftw_complex *)X, r);
  for (size_t i = 0; i < nfft; i++) r[i] /= (double)nfft;
  /* fold the real cepstrum onto its causal part (length nfft - 1, as
  ** Syncopy's port of FieldTrip's minphaserceps builds it) */
  for (size_t j = 1; j < nfft / 2; j++) r[j] = r[j] + r[nfft - j];
  for (size_t j = nfft / 2 + 1; j < n1; j++) r[j] = 0;
  fftw_execute_dft_r2c(f2, r, (fftw_complex *)X);
  for (size_t k = 0; k <= n1 / 2; k++) X[k] = cexp(X[k]);
  fftw_execute_dft_c2r(b2, (fftw_complex *)X, r);
  for (size_t i = 0; i < n; i++) out[i] = r[i] / (double)n1;
  spy_fft_free(r);
  spy_fft_free(X);
  return SPY_OK;
}

/*
** The overlap-save block length for m taps and signals of up to maxlen
** samples: the candidate with the least estimated work, blocks x L log2 L.
** Candidates are 2^k, 5 * 2^k and 25 * 2^k from 2m (at least half of a
** block is output) up to 20480 (or the power of two >= 4m when that is
** longer).  FFTW's estimated plans ran these at 0.20-0.25 ns per L log2 L
** on this machine kind, except powers of two above 4096 (0.35 ns: weighed
** 1.5 here); longer blocks ran slower per point (0.28-0.36 ns).  At 2001
** taps and 10,000 samples: one block of 12,800 points instead of two of
** 8192 (issue #20, docs/internals/filters.md).
*/
static size_t block_len(size_t m, size_t maxlen)
{
  size_t p2 = 1;
  while (p2 < 4 * m) p2 *= 2;
  const size_t cap = p2 > 20480 ? p2 : 20480, n = maxlen ? maxlen : 1;
  static const size_t bases[] = {1, 5, 25};
  size_t best = p2;
  double bestcost = -1;
  for (size_t i = 0; i < sizeof bases / sizeof *bases; i++)
    for (size_t L = bases[i]; L <= cap; L *= 2) {
      if (L < 2 * m || L < 16) continue;
      size_t B = L - m + 1, nb = (n + B - 1) / B;
      double cost = (double)nb * (double)L * log2((double)L);
      if (bases[i] == 1 && L > 4096) cost *= 1.5;
      if (bestcost < 0 || cost < bestcost) best = L, bestcost = cost;
    }
  return best;
}

int spy_fir_prepare(spy_fir *f, const double *h, size_t m, size_t maxlen, spy_err *err)
{
  memset(f, 0, sizeof *f);
  if (m == 0) return spy_fail(err, SPY_EINVAL, "an FIR filter needs at least one tap");
  if (m > (size_t)1 << 28)
    return spy_fail(err, SPY_EINVAL, "an FIR filter of %zu taps is too long for this version", m);
  f->nfft = block_len(m, maxlen);
  if (f->nfft > (size_t)1 << 30)
    return spy_fail(err, SPY_EINVAL, "an FIR filter of %zu taps is too long for this version", m);
  f->m = m;
  f->h = malloc(m * sizeof *f->h);
  f->H = spy_fft_alloc((f->nfft / 2 + 1) * sizeof *f->H);
  double *r = spy_fft_alloc(f->nfft * sizeof *r);
  if (!f->h || !f->H || !r) {
    spy_fft_free(r);
    spy_fir_release(f);
    return spy_fail(err, SPY_ENOMEM, "out of memory");
  }
  memcpy(f->h, h, m * sizeof *h);
  f->r2c = spy_fft_plan_simple(SPY_FFT_R2C, (int)f->nfft, 1, err);
  f->c2r = f->r2c ? spy_fft_plan_simple(SPY_FFT_C2R, (int)f->nfft, 1, err) : NULL;
  if (!f->c2r) {
    spy_fft_free(r);
    spy_fir_release(f);
    return err ? err->code : SPY_ERUNTIME;
  }
  memcpy(r, h, m * sizeof *h);
  fftw_execute_dft_r2c(f->r2c, r, (fftw_complex *)f->H);
  for (size_t k = 0; k <= f->nfft / 2; k++) f->H[k] /= (double)f->nfft;
  spy_fft_free(r);
  return SPY_OK;
}

void spy_fir_release(spy_fir *f)
{
  free(f->h);
  spy_fft_free(f->H);
  memset(f, 0, sizeof *f);
}

static size_t align64(size_t b) { return (b + 63) & ~(size_t)63; }

size_t spy_fir_scratch_bytes(const spy_fir *f)
{
  return align64(f->nfft * sizeof(double)) + align64((f->nfft / 2 + 1) * sizeof(double complex));
}

/* X[k] *= H[k] over n complex values as (re, im) pairs: the plain
** product, without the C library's checks for infinite operands (the
** spectra are finite), so the loop vectorises; in wider vectors where the
** CPU has them (ISO C mode keeps the compiler from fusing multiply-adds, so
** every version rounds alike). */
__attribute__((target_clones("avx2", "default"))) static void
cmul_spectrum(double *restrict X, const double *restrict H, size_t n)
{
  for (size_t k = 0; k < n; k++) {
    double a = X[2 * k], b = X[2 * k + 1], c = H[2 * k], d = H[2 * k + 1];
    X[2 * k] = a * c - b * d;
    X[2 * k + 1] = a * d + b * c;
  }
}

void spy_fir_same(const spy_fir *f, const double *x, size_t n, double *y, void *scratch)
{
  const size_t m = f->m, L = f->nfft, B = L - m + 1, c = (m - 1) / 2;
  double *r = scratch;
  double complex *X = (double complex *)((char *)scratch + align64(L * sizeof(double)));
  for (size_t o = 0; o < n; o += B) {
    /* segment x[o + c - (m-1) .. + L), zero outside the signal */
    ptrdiff_t s = (ptrdiff_t)o + (ptrdiff_t)c - (ptrdiff_t)(m - 1);
    ptrdiff_t lo = s < 0 ? -s : 0;
    ptrdiff_t hi = (ptrdiff_t)n - s < (ptrdiff_t)L ? (ptrdiff_t)n - s : (ptrdiff_t)L;
    if (hi < lo) hi = lo;
    memset(r, 0, (size_t)lo * sizeof *r);
    memcpy(r + lo, x + (s + lo), (size_t)(hi - lo) * sizeof *r);
    memset(r + hi, 0, (L - (size_t)hi) * sizeof *r);
    fftw_execute_dft_r2c(f->r2c, r, (fftw_complex *)X);
    cmul_spectrum((double *)X, (const double *)f->H, L / 2 + 1);
    fftw_execute_dft_c2r(f->c2r, (fftw_complex *)X, r);
    size_t cnt = n - o < B ? n - o : B;
    memcpy(y + o, r + m - 1, cnt * sizeof *y);
  }
}

void spy_fir_same_direct(const double *h, size_t m, const double *x, size_t n, double *y)
{
  const size_t c = (m - 1) / 2;
  for (size_t i = 0; i < n; i++) {
    /* k with 0 <= i + c - k < n */
    size_t kmax = i + c < m - 1 ? i + c : m - 1;
    size_t kmin = i + c + 1 > n ? i + c + 1 - n : 0;
    double acc = 0;
    for (size_t k = kmin; k <= kmax && k < m; k++) acc += h[k] * x[i + c - k];
    y[i] = acc;
  }
}

/* ---- two passes as one convolution ------------------------------------------ */

/* r = FFT-convolution of r[0..len) (zero beyond) with the half kernel
** whose spectrum is H, at length Lc (no wrap-around: len + c - 1 <= Lc);
** result in r[0..Lc). */
static void edge_conv(const spy_fir2 *f, double *r, size_t len, const double complex *H,
                      double complex *X)
{
  memset(r + len, 0, (f->Lc - len) * sizeof *r);
  fftw_execute_dft_r2c(f->r2c, r, (fftw_complex *)X);
  cmul_spectrum((double *)X, (const double *)H, f->Lc / 2 + 1);
  fftw_execute_dft_c2r(f->c2r, (fftw_complex *)X, r);
}

/* spectrum of h[0..c) at Lc, scaled by 1/Lc, into H (r: Lc doubles of scratch) */
static void half_spectrum(const spy_fir2 *f, const double *h, double *r, double complex *H)
{
  memset(r, 0, f->Lc * sizeof *r);
  memcpy(r, h, f->c * sizeof *h);
  fftw_execute_dft_r2c(f->r2c, r, (fftw_complex *)H);
  for (size_t k = 0; k <= f->Lc / 2; k++) H[k] /= (double)f->Lc;
}

int spy_fir2_prepare(spy_fir2 *f, const double *h, size_t m, size_t maxlen, spy_err *err)
{
  memset(f, 0, sizeof *f);
  if (m == 0 || m % 2 == 0)
    return spy_fail(err, SPY_EINVAL, "a two-pass FIR filter needs an odd number of taps");
  const size_t c = (m - 1) / 2, mg = 2 * m - 1;
  double *g = calloc(mg, sizeof *g);
  if (!g) return spy_fail(err, SPY_ENOMEM, "out of memory");
  for (size_t i = 0; i < m; i++)
    for (size_t k = 0; k < m; k++) g[i + k] += h[i] * h[k];
  int rc = spy_fir_prepare(&f->g, g, mg, maxlen, err);
  free(g);
  if (rc) return rc;
  f->c = c;
  f->Lc = 1;
  while (f->Lc < 2 * c) f->Lc *= 2;
  f->Ha = spy_fft_alloc((f->Lc / 2 + 1) * sizeof *f->Ha);
  f->Hb = spy_fft_alloc((f->Lc / 2 + 1) * sizeof *f->Hb);
  double *r = spy_fft_alloc(f->Lc * sizeof *r);
  f->r2c = spy_fft_plan_simple(SPY_FFT_R2C, (int)f->Lc, 1, err);
  f->c2r = f->r2c ? spy_fft_plan_simple(SPY_FFT_C2R, (int)f->Lc, 1, err) : NULL;
  if (!f->Ha || !f->Hb || !r || !f->c2r) {
    bool mem = !f->Ha || !f->Hb || !r;
    spy_fft_free(r);
    spy_fir2_release(f);
    return mem ? spy_fail(err, SPY_ENOMEM, "out of memory") : (err ? err->code : SPY_ERUNTIME);
  }
  half_spectrum(f, h, r, f->Ha);         /* h[0..c) */
  half_spectrum(f, h + c + 1, r, f->Hb); /* h[c+1..2c] */
  spy_fft_free(r);
  return SPY_OK;
}

void spy_fir2_release(spy_fir2 *f)
{
  spy_fir_release(&f->g);
  spy_fft_free(f->Ha);
  spy_fft_free(f->Hb);
  memset(f, 0, sizeof *f);
}

/* Scratch of the edge corrections: their transform buffer r (Lc doubles)
** and the corrections of both ends (2c doubles); the spectrum goes where
** the caller says. */
static size_t edge_bytes(const spy_fir2 *f)
{
  return align64(f->Lc * sizeof(double)) + align64(2 * f->c * sizeof(double));
}

static size_t spectrum_bytes(const spy_fir2 *f)
{
  return align64((f->g.nfft / 2 + 1) * sizeof(double complex));
}

size_t spy_fir2_scratch_bytes(const spy_fir2 *f)
{
  /* the main convolution's block and spectrum, then the edges' buffers;
  ** the edges' spectrum (Lc/2+1 values) reuses the main one */
  return spy_fir_scratch_bytes(&f->g) + edge_bytes(f);
}

/*
** With f = x * h (full), c = (m-1)/2 and 'same' cutting f to [c, n+c),
** the second pass y[i] = sum_k h[k] same1[i+c-k] is the 'same' convolution
** with h * h less the terms of f the first pass cut off:
**   i < c:     sum_{j=i}^{c-1} h[i+2c-j] f[j]      = (fL * hb)[c-1+i],
**   i >= n-c:  sum_{j=n+c}^{i+2c} h[i+2c-j] f[j]   = (fR * ha)[i-n+c],
** where ha = h[0..c), hb = h[c+1..2c], fL = f[0..c) = (x[0..c) * ha)[0..c)
** and fR = f[n+c..n+2c) = (x[n-c..n) * hb)[c-1..2c-1): four convolutions
** of half-kernel length per signal (FFT length >= 2c).  edges() leaves the
** terms of the left end in cl[0..min(n,c)), those of y[n-c+s] in cr[s]
** for s >= lead = max(c-n, 0); sub_edges() takes them off y.
*/
static void edges(const spy_fir2 *f, const double *x, size_t n, double *r, double complex *X,
                  double *cl, double *cr)
{
  const size_t c = f->c;
  /* left edge */
  size_t k = n < c ? n : c;
  memcpy(r, x, k * sizeof *r);
  edge_conv(f, r, k, f->Ha, X);
  edge_conv(f, r, c, f->Hb, X); /* r[0..c) = fL */
  memcpy(cl, r + c - 1, k * sizeof *cl);
  /* right edge: x[n-c..n), zero before the signal */
  size_t lead = n < c ? c - n : 0;
  memset(r, 0, lead * sizeof *r);
  memcpy(r + lead, x + (n - (c - lead)), (c - lead) * sizeof *r);
  edge_conv(f, r, c, f->Hb, X);
  memmove(r, r + c - 1, c * sizeof *r); /* fR */
  edge_conv(f, r, c, f->Ha, X);
  memcpy(cr + lead, r + lead, (c - lead) * sizeof *cr);
}

static void sub_edges(const spy_fir2 *f, double *y, size_t n, const double *cl, const double *cr)
{
  const size_t c = f->c, k = n < c ? n : c, lead = n < c ? c - n : 0;
  for (size_t i = 0; i < k; i++) y[i] -= cl[i];
  for (size_t s = lead; s < c; s++) y[n - c + s] -= cr[s];
}

void spy_fir2_same(const spy_fir2 *f, const double *x, size_t n, double *y, void *scratch)
{
  spy_fir_same(&f->g, x, n, y, scratch);
  if (f->c == 0 || n == 0) return;
  char *e = (char *)scratch + spy_fir_scratch_bytes(&f->g);
  double *r = (double *)(void *)e, *cl = (double *)(void *)(e + align64(f->Lc * sizeof(double)));
  double complex *X = (double complex *)((char *)scratch + align64(f->g.nfft * sizeof(double)));
  edges(f, x, n, r, X, cl, cl + f->c);
  sub_edges(f, y, n, cl, cl + f->c);
}

/* ---- one signal in its own block ------------------------------------------- */

bool spy_fir2_fits(const spy_fir2 *f, size_t n)
{
  return f->g.m && n > 0 && n <= f->g.nfft - f->g.m + 1;
}

size_t spy_fir2_block_scratch_bytes(const spy_fir2 *f) { return spectrum_bytes(f) + edge_bytes(f); }

/*
** spy_fir_same's only block, done where the signal lies: the segment it
** transforms is x with (g.m-1)/2 zeros before it and zeros after it up to
** the block length, so the caller gathers x into its place and the result
** comes back in the same buffer (the same operations as spy_fir2_same, so
** the same bytes, without the copies into and out of a separate block).
*/
void spy_fir2_block(const spy_fir2 *f, double *blk, size_t n, void *scratch)
{
  const spy_fir *g = &f->g;
  const size_t L = g->nfft, off = SPY_FIR2_IN(f);
  double complex *X = scratch;
  double *r = (double *)(void *)((char *)scratch + spectrum_bytes(f));
  double *cl = (double *)(void *)((char *)r + align64(f->Lc * sizeof(double)));
  if (f->c) edges(f, blk + off, n, r, X, cl, cl + f->c);
  memset(blk, 0, off * sizeof *blk);
  memset(blk + off + n, 0, (L - off - n) * sizeof *blk);
  fftw_execute_dft_r2c(g->r2c, blk, (fftw_complex *)X);
  cmul_spectrum((double *)X, (const double *)g->H, L / 2 + 1);
  fftw_execute_dft_c2r(g->c2r, (fftw_complex *)X, blk);
  if (f->c) sub_edges(f, blk + SPY_FIR2_OUT(f), n, cl, cl + f->c);
}
