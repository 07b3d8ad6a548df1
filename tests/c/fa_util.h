/*
** Test helpers for the freqanalysis tests: build a cfg (defaults filled by
** the keyword spec), describe in-memory trials, run a plan's kernel over
** every trial (optionally averaging as the scheduler does for
** keeptrials=false).  Test-only.
*/
#ifndef SPY_FA_UTIL_H
#define SPY_FA_UTIL_H

#include <cjson/cJSON.h>
#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/kwspec.h"
#include "dsp/fft.h"
#include "dsp/freqanalysis.h"
#include "dsp/freqanalysis_spec.h"

/* The complete cfg from a JSON text of user keywords; NULL on error. */
static inline cJSON *fa_cfg(const char *json, spy_err *err)
{
  cJSON *given = cJSON_Parse(json), *cfg = NULL;
  if (!given) {
    spy_fail(err, SPY_EINVAL, "bad test JSON: %s", json);
    return NULL;
  }
  spy_kw_apply(&spy_spec_freqanalysis, given, &cfg, err);
  cJSON_Delete(given);
  return cfg;
}

/* Trials of lens[k] samples back to back, offsets offs[k] (NULL: 0). */
typedef struct fa_data {
  spy_trials t;
  double *trl;
  double *x; /* total x nchan */
  size_t total;
} fa_data;

static inline void fa_data_init(fa_data *d, size_t ntr, const size_t *lens, const double *offs,
                                size_t nchan, double fs)
{
  d->trl = malloc(ntr * 3 * sizeof *d->trl);
  d->total = 0;
  for (size_t k = 0; k < ntr; k++) {
    d->trl[3 * k] = (double)d->total;
    d->total += lens[k];
    d->trl[3 * k + 1] = (double)d->total;
    d->trl[3 * k + 2] = offs ? offs[k] : 0;
  }
  d->x = calloc(d->total * nchan + 1, sizeof *d->x);
  d->t = (spy_trials){ntr, nchan, fs, d->trl, 3, SPY_DT_F64, false};
}

static inline void fa_data_free(fa_data *d)
{
  free(d->trl);
  free(d->x);
}

/* Runs op's kernel on every trial of x (rows = samples of all trials,
** nchan columns) in channel chunks of `chunk` (0: all channels); returns the
** stacked output (sum(out_rows) x row x nchan), or, when op->average, the
** mean over trials (one trial's rows), as double complex.  NULL on error. */
static inline double complex *fa_run(const spy_op *op, const spy_trials *t, const double *x,
                                     size_t chunk, size_t *nrows, spy_err *err)
{
  size_t C = t->nchan, row = spy_op_row_elems(op), total = 0;
  for (size_t k = 0; k < t->ntrials; k++)
    total += op->out_rows[k];
  size_t outrows = op->average ? op->out_rows[0] : total;
  double complex *res = calloc(outrows * row * C + 1, sizeof *res);
  size_t esz = op->out_dtype == SPY_DT_C64 ? 8 : 4, r0 = 0;
  if (!chunk) chunk = C;
  for (size_t k = 0; k < t->ntrials && res; k++) {
    size_t L = spy_trial_len(t, k), start = (size_t)t->trldef[k * t->trlcols];
    for (size_t c0 = 0; c0 < C; c0 += chunk) {
      size_t cn = C - c0 < chunk ? C - c0 : chunk;
      double *in = malloc(L * cn * sizeof *in + 1);
      for (size_t n = 0; n < L; n++)
        for (size_t c = 0; c < cn; c++)
          in[n * cn + c] = x[(start + n) * C + c0 + c];
      size_t nout = op->out_rows[k] * row * cn;
      void *out = malloc(nout * esz + 1);
      void *scratch = spy_fft_alloc(op->scratch_bytes(op->plan, L, cn));
      spy_task task = {k, c0, cn, in, L, out, op->out_rows[k], scratch, 0};
      int rc = op->kernel(op->plan, &task, err);
      for (size_t i = 0; !rc && i < nout; i++) {
        size_t e = i % cn, rest = i / cn; /* (row, inner) then channel */
        double complex v = esz == 8 ? (double complex)((float complex *)out)[i]
                                    : (double complex)((float *)out)[i];
        size_t dst = ((op->average ? 0 : r0) * row + rest) * C + c0 + e;
        res[dst] += op->average ? v / (double)t->ntrials : v;
      }
      free(in);
      free(out);
      spy_fft_free(scratch);
      if (rc) {
        free(res);
        return NULL;
      }
    }
    r0 += op->out_rows[k];
  }
  *nrows = outrows;
  return res;
}

/* cfg from JSON + plan; returns the plan's status. */
static inline int fa_plan(const char *json, const spy_trials *t, spy_op *op, spy_err *err)
{
  cJSON *cfg = fa_cfg(json, err);
  if (!cfg) {
    memset(op, 0, sizeof *op);
    return err->code ? err->code : SPY_EINVAL;
  }
  int rc = spy_freqanalysis_plan(cfg, t, op, err);
  cJSON_Delete(cfg);
  return rc;
}

/* Deterministic standard normal numbers (xorshift64* + Box-Muller). */
static inline double fa_randn(unsigned long long *s)
{
  double u[2];
  for (int i = 0; i < 2; i++) {
    *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
    u[i] = ((double)((*s * 2685821657736338717ULL) >> 11) + 0.5) / 9007199254740992.0;
  }
  return sqrt(-2 * log(u[0])) * cos(2 * M_PI * u[1]);
}

/* Naive DFT bin k of y[0..n-1] (zero-padded to nfft). */
static inline double complex fa_dft(const double *y, size_t n, size_t nfft, size_t k)
{
  double complex s = 0;
  for (size_t i = 0; i < n; i++)
    s += y[i] * cexp(-2 * M_PI * I * (double)((k * i) % nfft) / (double)nfft);
  return s;
}

#endif
