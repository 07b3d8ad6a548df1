/*
** Spectral Granger causality (Dhamala et al. 2008) from the trial-averaged
** cross-spectral matrix, as Syncopy computes it (syncopy.md 5,
** syncopy/connectivity/{csd,wilson_sf,granger}.py): regularisation of the
** CSD, Wilson's minimum-phase factorisation CSD = psi psi^H, the noise
** covariance Sigma = psi0 psi0^T and transfer function H = psi psi0^-1, and
** the conditional formula.  Small dense complex matrices (n = channels), in
** double precision; FFTs along the frequency axis through the plan cache.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "connectivity/conn.h"
#include "dsp/fft.h"

typedef double complex cplx;

/* ---- small dense linear algebra (row-major n x n) --------------------------- */

/*
** 2-norm condition number of the Hermitian n x n matrix h (+ eps I): the
** ratio of its largest and smallest |eigenvalue|, by cyclic complex Jacobi
** rotations on a copy (work: 2 n^2 doubles as n^2 complex).  Each rotation
** of the pair (p, q) is the unitary J = D R, D = diag(1, e^{-i phi}) at q
** making the pivot |a_pq| real, R the real Jacobi rotation: a quarter of
** the work of the real symmetric embedding [[Re, -Im], [Im, Re]] of twice
** the size.
*/
static double herm_cond(const cplx *h, size_t n, double eps, double *work)
{
  cplx *a = (cplx *)(void *)work;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++)
      a[i * n + j] = h[i * n + j] + (i == j ? eps : 0);
  for (size_t i = 0; i < n; i++) /* the diagonal of a Hermitian matrix is real */
    a[i * n + i] = creal(a[i * n + i]);
  for (int sweep = 0; sweep < 100; sweep++) {
    double off = 0, tot = 0;
    for (size_t i = 0; i < n; i++)
      for (size_t j = 0; j < n; j++) {
        double re = creal(a[i * n + j]), im = cimag(a[i * n + j]), m = re * re + im * im;
        tot += m;
        if (i != j) off += m;
      }
    if (off <= 1e-30 * tot || off == 0) break;
    for (size_t p = 0; p < n; p++)
      for (size_t q = p + 1; q < n; q++) {
        cplx apq = a[p * n + q];
        double mag = hypot(creal(apq), cimag(apq));
        if (mag == 0) continue;
        cplx ph = conj(apq) / mag; /* e^{-i phi} */
        double theta = (creal(a[q * n + q]) - creal(a[p * n + p])) / (2 * mag);
        double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
        double c = 1 / sqrt(t * t + 1), s = t * c;
        for (size_t k = 0; k < n; k++) { /* columns p, q: A J */
          cplx akp = a[k * n + p], akq = a[k * n + q] * ph;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (size_t k = 0; k < n; k++) { /* rows p, q: J^H A */
          cplx apk = a[p * n + k], aqk = a[q * n + k] * conj(ph);
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        a[p * n + q] = a[q * n + p] = 0; /* zero in exact arithmetic */
        a[p * n + p] = creal(a[p * n + p]);
        a[q * n + q] = creal(a[q * n + q]);
      }
  }
  double lo = INFINITY, hi = 0;
  for (size_t i = 0; i < n; i++) {
    double ev = fabs(creal(a[i * n + i]));
    lo = fmin(lo, ev);
    hi = fmax(hi, ev);
  }
  return lo > 0 ? hi / lo : INFINITY;
}

/* Lower Cholesky factor l of the Hermitian positive definite a: a = l l^H. */
static int chol(const cplx *a, size_t n, cplx *l)
{
  memset(l, 0, n * n * sizeof *l);
  for (size_t j = 0; j < n; j++) {
    double d = creal(a[j * n + j]);
    for (size_t k = 0; k < j; k++)
      d -= creal(l[j * n + k] * conj(l[j * n + k]));
    if (!(d > 0)) return -1;
    l[j * n + j] = sqrt(d);
    for (size_t i = j + 1; i < n; i++) {
      cplx s = a[i * n + j];
      for (size_t k = 0; k < j; k++)
        s -= l[i * n + k] * conj(l[j * n + k]);
      l[i * n + j] = s / creal(l[j * n + j]);
    }
  }
  return 0;
}

/* inv = a^-1 (Gauss-Jordan, partial pivoting); work: n x 2n. */
static int inverse(const cplx *a, size_t n, cplx *inv, cplx *work)
{
  size_t w = 2 * n;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < w; j++)
      work[i * w + j] = j < n ? a[i * n + j] : (j - n == i ? 1 : 0);
  for (size_t c = 0; c < n; c++) {
    size_t piv = c;
    for (size_t r = c + 1; r < n; r++)
      if (cabs(work[r * w + c]) > cabs(work[piv * w + c])) piv = r;
    if (work[piv * w + c] == 0) return -1;
    if (piv != c)
      for (size_t j = 0; j < w; j++) {
        cplx t = work[c * w + j];
        work[c * w + j] = work[piv * w + j];
        work[piv * w + j] = t;
      }
    cplx d = 1 / work[c * w + c];
    for (size_t j = 0; j < w; j++)
      work[c * w + j] *= d;
    for (size_t r = 0; r < n; r++) {
      if (r == c) continue;
      cplx f = work[r * w + c];
      if (f == 0) continue;
      for (size_t j = 0; j < w; j++)
        work[r * w + j] -= f * work[c * w + j];
    }
  }
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++)
      inv[i * n + j] = work[i * w + n + j];
  return 0;
}

/* c = a b (c distinct from a and b); conjugate-transpose b when bh. */
static void matmul(const cplx *a, const cplx *b, size_t n, bool bh, cplx *c)
{
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) {
      cplx s = 0;
      for (size_t k = 0; k < n; k++)
        s += a[i * n + k] * (bh ? conj(b[j * n + k]) : b[k * n + j]);
      c[i * n + j] = s;
    }
}

/*
** The Wilson iteration's per-frequency steps in real arithmetic on the
** interleaved (re, im) doubles of row-major n x n complex matrices: no
** complex multiplications or divisions through libgcc's NaN-checking
** helpers, no hypot in the pivot search.  Wilson's loop runs them
** nf x (iterations) times.
*/

/* g = X X^H + I with X = psi^-1 u: Gauss-Jordan elimination of [psi | u]
** with partial pivoting (largest |.|^2); w: 4 n^2 doubles.  Returns -1 when
** psi is singular. */
static int wilson_g(const double *psi, const double *u, size_t n, double *g, double *w)
{
  size_t m = 2 * n; /* complex columns of the augmented matrix */
  for (size_t i = 0; i < n; i++) {
    memcpy(w + 2 * i * m, psi + 2 * i * n, 2 * n * sizeof *w);
    memcpy(w + 2 * (i * m + n), u + 2 * i * n, 2 * n * sizeof *w);
  }
  for (size_t c = 0; c < n; c++) {
    size_t piv = c;
    double best = -1;
    for (size_t r = c; r < n; r++) {
      const double *e = w + 2 * (r * m + c);
      double a = e[0] * e[0] + e[1] * e[1];
      if (a > best) {
        best = a;
        piv = r;
      }
    }
    if (!(best > 0)) return -1;
    if (piv != c)
      for (size_t j = 2 * c; j < 2 * m; j++) {
        double t = w[2 * c * m + j];
        w[2 * c * m + j] = w[2 * piv * m + j];
        w[2 * piv * m + j] = t;
      }
    double *pr = w + 2 * c * m;
    double dr = pr[2 * c] / best, di = -pr[2 * c + 1] / best; /* 1 / pivot */
    for (size_t j = c; j < m; j++) {
      double a = pr[2 * j], b = pr[2 * j + 1];
      pr[2 * j] = a * dr - b * di;
      pr[2 * j + 1] = a * di + b * dr;
    }
    for (size_t r = 0; r < n; r++) {
      if (r == c) continue;
      double *row = w + 2 * r * m;
      double fr = row[2 * c], fi = row[2 * c + 1];
      if (fr == 0 && fi == 0) continue;
      for (size_t j = c; j < m; j++) {
        double a = pr[2 * j], b = pr[2 * j + 1];
        row[2 * j] -= fr * a - fi * b;
        row[2 * j + 1] -= fr * b + fi * a;
      }
    }
  }
  /* X = the right half; g = X X^H + I (Hermitian: the upper triangle, mirrored) */
  for (size_t i = 0; i < n; i++) {
    const double *xi = w + 2 * (i * m + n);
    for (size_t j = i; j < n; j++) {
      const double *xj = w + 2 * (j * m + n);
      double sr = 0, si = 0;
      for (size_t k = 0; k < n; k++) {
        sr += xi[2 * k] * xj[2 * k] + xi[2 * k + 1] * xj[2 * k + 1];
        si += xi[2 * k + 1] * xj[2 * k] - xi[2 * k] * xj[2 * k + 1];
      }
      if (i == j) {
        g[2 * (i * n + i)] = sr + 1;
        g[2 * (i * n + i) + 1] = 0;
      } else {
        g[2 * (i * n + j)] = sr;
        g[2 * (i * n + j) + 1] = si;
        g[2 * (j * n + i)] = sr;
        g[2 * (j * n + i) + 1] = -si;
      }
    }
  }
  return 0;
}

/* psi := psi (gp + r0) for the real n x n r0, in place (row by row through
** the n complex scratch `row`); returns max_e |s - psi psi^H|^2 / |s|^2 over
** the upper triangle (the lower one mirrors it: s and psi psi^H are exactly
** Hermitian in this arithmetic). */
static double wilson_update(double *psi, const double *gp, const double *r0, const double *s,
                            size_t n, double *row)
{
  for (size_t i = 0; i < n; i++) {
    double *pi = psi + 2 * i * n;
    for (size_t j = 0; j < n; j++) {
      double sr = 0, si = 0;
      for (size_t k = 0; k < n; k++) {
        double br = gp[2 * (k * n + j)] + r0[k * n + j], bi = gp[2 * (k * n + j) + 1];
        sr += pi[2 * k] * br - pi[2 * k + 1] * bi;
        si += pi[2 * k] * bi + pi[2 * k + 1] * br;
      }
      row[2 * j] = sr;
      row[2 * j + 1] = si;
    }
    memcpy(pi, row, 2 * n * sizeof *row);
  }
  double worst = 0;
  for (size_t i = 0; i < n; i++) {
    const double *pi = psi + 2 * i * n;
    for (size_t j = i; j < n; j++) {
      const double *pj = psi + 2 * j * n;
      double sr = 0, si = 0;
      for (size_t k = 0; k < n; k++) {
        sr += pi[2 * k] * pj[2 * k] + pi[2 * k + 1] * pj[2 * k + 1];
        si += pi[2 * k + 1] * pj[2 * k] - pi[2 * k] * pj[2 * k + 1];
      }
      const double *a = s + 2 * (i * n + j);
      double dr = a[0] - sr, di = a[1] - si;
      double e = (dr * dr + di * di) / (a[0] * a[0] + a[1] * a[1]);
      worst = e > worst ? e : worst; /* as fmax: NaN ignored */
    }
  }
  return worst;
}

/* ---- Wilson's factorisation ---------------------------------------------------- */

/* FFT over the frequency axis of nf matrices n x n ([f][i][j]): n*n
** transforms of length nf, stride n*n, distance 1 (c2r: nf / 2 + 1
** complex matrices in, nf real out; r2c the reverse). */
static fftw_plan axis_plan(spy_fft_kind kind, size_t nf, size_t n, spy_err *err)
{
  spy_fft_geom g = {kind, (int)nf, (int)(n * n), (int)(n * n), 1, (int)(n * n), 1, false};
  return spy_fft_plan(&g, err);
}

int spy_granger(const cplx *csd, size_t nfreq, size_t n, double *granger, spy_granger_info *info,
                spy_err *err)
{
  const int nIter = 100;
  const double rtol = 5e-6, cond_max = 1e4;
  if (nfreq < 2) return spy_fail(err, SPY_EINVAL, "granger: needs at least two frequencies");
  if (n == 0) return spy_fail(err, SPY_EINVAL, "granger: needs at least one channel");
  size_t nn = n * n, nf = 2 * nfreq - 2; /* two-sided spectrum */
  int rc = SPY_OK;
  /*
  ** The two-sided spectra are Hermitian along frequency (X[nf - f] =
  ** conj(X[f]) for S, U, psi, g, gplus: the iteration maps conjugate inputs
  ** to exactly conjugate outputs), so the iteration keeps the nfreq
  ** one-sided matrices only and does the plus operator with a c2r (g is
  ** Hermitian, its inverse transform real) and an r2c (of the real causal
  ** part): half the work of Syncopy's full-spectrum loop, same iterates up
  ** to rounding.
  */
  fftw_plan fwd = axis_plan(SPY_FFT_R2C, nf, n, err);
  fftw_plan bwd = fwd ? axis_plan(SPY_FFT_C2R, nf, n, err) : NULL;
  if (!fwd || !bwd) return err->code;
  cplx *S = fftw_malloc(nf * nn * sizeof *S);     /* regularised two-sided CSD */
  cplx *U = fftw_malloc(nfreq * nn * sizeof *U);  /* chol(S) */
  cplx *psi = fftw_malloc(nfreq * nn * sizeof *psi);
  cplx *g = fftw_malloc(nfreq * nn * sizeof *g);
  double *beta = fftw_malloc(nf * nn * sizeof *beta);
  cplx *tmp = calloc(6 * nn, sizeof *tmp);
  double *work = malloc((4 * nn + 2 * n + 1) * sizeof *work);
  double *psi0 = malloc(3 * nn * sizeof *psi0);
  if (!S || !U || !psi || !g || !beta || !tmp || !work || !psi0) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto done;
  }
  cplx *inv = tmp, *t1 = tmp + nn, *t2 = tmp + 2 * nn, *gw = tmp + 3 * nn; /* gw: 2 nn */
  double *g0 = psi0 + nn, *r0 = psi0 + 2 * nn;

  /* regularize_csd: max_f cond(CSD_f) below cond_max, else CSD + eps I */
  double cond = 0;
  for (size_t f = 0; f < nfreq; f++)
    cond = fmax(cond, herm_cond(csd + f * nn, n, 0, work));
  double eps = 0;
  info->cond_num = cond;
  if (!(cond < cond_max)) {
    eps = -1;
    for (int s = 0; s < 15; s++) {
      double e = pow(10, -10 + 9.0 * s / 14.0), c = 0;
      for (size_t f = 0; f < nfreq; f++)
        c = fmax(c, herm_cond(csd + f * nn, n, e, work));
      if (c < cond_max) {
        eps = e;
        break;
      }
    }
  }
  info->reg_factor = eps;
  double add = eps < 0 ? 0.1 : eps; /* factor -1: Syncopy keeps the last try */
  for (size_t f = 0; f < nfreq; f++)
    for (size_t e = 0; e < nn; e++)
      S[f * nn + e] = csd[f * nn + e] + (e % (n + 1) == 0 ? add : 0);
  for (size_t f = nfreq; f < nf; f++) /* CSD[nFreq-2:0:-1].conj() */
    for (size_t e = 0; e < nn; e++)
      S[f * nn + e] = conj(S[(nf - f) * nn + e]);

  /* psi0: Cholesky of the real, symmetrised sum over frequencies, transposed */
  for (size_t e = 0; e < nn; e++) {
    double s = 0;
    for (size_t f = 0; f < nf; f++)
      s += creal(S[f * nn + e]);
    r0[e] = s;
  }
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++)
      t1[i * n + j] = (r0[i * n + j] + r0[j * n + i]) / 2;
  if (chol(t1, n, t2)) {
    for (size_t e = 0; e < nn; e++)
      psi0[e] = 1;
  } else {
    for (size_t i = 0; i < n; i++)
      for (size_t j = 0; j < n; j++)
        psi0[i * n + j] = creal(t2[j * n + i]);
  }
  for (size_t f = 0; f < nfreq; f++) {
    for (size_t e = 0; e < nn; e++)
      psi[f * nn + e] = psi0[e];
    if (chol(S + f * nn, n, U + f * nn)) {
      rc = spy_fail(err, SPY_EINVAL,
                    "granger: the cross-spectral matrix is not positive definite at frequency "
                    "bin %zu (Cholesky failed): NaN in the data, or linearly dependent channels?",
                    f);
      goto done;
    }
  }

  bool converged = false;
  double maxerr = INFINITY;
  size_t lag = nf / 2;
  for (int it = 0; it < nIter; it++) {
    for (size_t f = 0; f < nfreq; f++) /* g = (psi^-1 U)(psi^-1 U)^H + I */
      if (wilson_g((const double *)(psi + f * nn), (const double *)(U + f * nn), n,
                   (double *)(g + f * nn), (double *)gw)) {
        rc = spy_fail(err, SPY_EINVAL, "granger: singular spectral factor in Wilson's iteration");
        goto done;
      }
    /* plus operator: causal part (half of lag 0 and of the Nyquist lag) */
    fftw_execute_dft_c2r(bwd, (fftw_complex *)g, beta);
    for (size_t t = 0; t < nf; t++)
      for (size_t e = 0; e < nn; e++) {
        double v = beta[t * nn + e] / (double)nf;
        if (t == 0 || t == lag) v *= 0.5;
        if (t > lag) v = 0;
        beta[t * nn + e] = v;
      }
    for (size_t e = 0; e < nn; e++)
      g0[e] = beta[e];
    fftw_execute_dft_r2c(fwd, beta, (fftw_complex *)g); /* g := gplus */
    /* S = triu(g0) - triu(g0)^T: zero diagonal, antisymmetric */
    for (size_t i = 0; i < n; i++)
      for (size_t j = 0; j < n; j++)
        r0[i * n + j] = i < j ? g0[i * n + j] : i > j ? -g0[j * n + i] : 0;
    double maxerr2 = 0; /* squared, to spare the square roots */
    for (size_t f = 0; f < nfreq; f++) { /* psi := psi (gplus + S), and its error */
      double e = wilson_update((double *)(psi + f * nn), (const double *)(g + f * nn), r0,
                               (const double *)(S + f * nn), n, (double *)t1);
      maxerr2 = e > maxerr2 ? e : maxerr2;
    }
    for (size_t i = 0; i < n; i++) /* psi0 = psi0 (g0 + S), real */
      for (size_t j = 0; j < n; j++) {
        double s = 0;
        for (size_t k = 0; k < n; k++)
          s += psi0[i * n + k] * (g0[k * n + j] + r0[k * n + j]);
        work[i * n + j] = s;
      }
    memcpy(psi0, work, nn * sizeof *psi0);
    maxerr = sqrt(maxerr2);
    if (maxerr < rtol) {
      converged = true;
      break;
    }
  }
  info->converged = converged;
  info->max_rel_err = maxerr;

  /* Sigma = psi0 psi0^T, H = psi psi0^-1 */
  double *Sigma = work;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) {
      double s = 0;
      for (size_t k = 0; k < n; k++)
        s += psi0[i * n + k] * psi0[j * n + k];
      Sigma[i * n + j] = s;
    }
  for (size_t e = 0; e < nn; e++)
    t2[e] = psi0[e];
  if (inverse(t2, n, inv, gw)) {
    rc = spy_fail(err, SPY_EINVAL, "granger: singular noise factor psi0");
    goto done;
  }
  for (size_t f = 0; f < nfreq; f++) {
    matmul(psi + f * nn, inv, n, false, t1); /* H_f */
    for (size_t a = 0; a < n; a++)
      for (size_t b = 0; b < n; b++) {
        double Sbb = cabs(S[f * nn + b * (n + 1)]);
        double h = cabs(t1[b * n + a]);
        double sab = fabs(Sigma[b * n + a]);
        double d = fabs(Sigma[a * (n + 1)]) - sab * sab / fabs(Sigma[b * (n + 1)]);
        granger[f * nn + a * n + b] = log(Sbb / (Sbb - d * h * h));
      }
  }

done:
  fftw_free(S);
  fftw_free(U);
  fftw_free(psi);
  fftw_free(g);
  fftw_free(beta);
  free(tmp);
  free(work);
  free(psi0);
  return rc;
}
