/*
** Test helpers of the wavelet and superlet tests: load a Syncopy reference
** case (tests/data/README.md), describe its input as the dispatcher would
** (spy_trials, spy_fa_common, the complete cfg), run a method plan and its
** kernel over every trial, and compare outputs and axes.
*/
#ifndef SPY_TEST_WAVELET_UTIL_H
#define SPY_TEST_WAVELET_UTIL_H

#include <cjson/cJSON.h>
#include <complex.h>
#include <hdf5.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/kwspec.h"
#include "dsp/fft.h"
#include "dsp/freqanalysis_spec.h"
#include "dsp/freqanalysis.h"
#include "dsp/wavelet.h"
#include "h5ref.h"
#include "t.h"

typedef int (*plan_fn)(const cJSON *, const spy_trials *, const spy_fa_common *, spy_op *,
                       spy_err *);

/* An input described as the dispatcher hands it to a method plan. */
typedef struct tf_input {
  double *data;  /* all trials concatenated: total x nchan */
  size_t total, nchan;
  spy_trials trials;
  double *trl;   /* ntrials x 3 */
  double *tstart, *tend;
  double *foi;
  spy_fa_common c;
} tf_input;

static inline void tf_input_init(tf_input *t, double *data, size_t total, size_t nchan,
                                 double *trl, size_t ntrials, double sr)
{
  memset(t, 0, sizeof *t);
  t->data = data;
  t->total = total;
  t->nchan = nchan;
  t->trl = trl;
  t->trials = (spy_trials){ntrials, nchan, sr, trl, 3, SPY_DT_F32, false};
  t->tstart = malloc(ntrials * sizeof(double));
  t->tend = malloc(ntrials * sizeof(double));
  for (size_t k = 0; k < ntrials; k++) {
    t->tstart[k] = trl[k * 3 + 2] / sr;
    t->tend[k] = t->tstart[k] + (trl[k * 3 + 1] - trl[k * 3]) / sr;
  }
  t->c.output = SPY_OUT_POW;
  t->c.keeptrials = true;
  t->c.polyremoval = 0;
  t->c.tstart = t->tstart;
  t->c.tend = t->tend;
}

static inline void tf_input_foi(tf_input *t, const double *foi, size_t n)
{
  free(t->foi);
  t->foi = malloc((n ? n : 1) * sizeof *t->foi);
  memcpy(t->foi, foi, n * sizeof *foi);
  t->c.foi = t->foi;
  t->c.nfoi = n;
}

static inline void tf_input_free(tf_input *t)
{
  free(t->tstart);
  free(t->tend);
  free(t->foi);
}

/* A complete cfg: the spec's defaults overridden by `json`. */
static inline cJSON *tf_cfg(const char *json)
{
  cJSON *given = cJSON_Parse(json), *out = NULL;
  spy_err err = {0};
  if (spy_kw_apply(&spy_spec_freqanalysis, given, &out, &err))
    fprintf(stderr, "cfg %s: %s\n", json, err.msg);
  cJSON_Delete(given);
  return out;
}

/* The plan's error text for cfg json (NULL when the plan succeeds). */
static inline const char *tf_plan_error(plan_fn plan, const char *json, tf_input *t, spy_err *err)
{
  cJSON *given = cJSON_Parse(json), *cfg = NULL;
  int krc = spy_kw_apply(&spy_spec_freqanalysis, given, &cfg, err);
  cJSON_Delete(given);
  if (krc) return err->msg; /* refused by the spec, before any plan */
  spy_op op = {0};
  int rc = plan(cfg, &t->trials, &t->c, &op, err);
  spy_op_free(&op);
  cJSON_Delete(cfg);
  return rc ? err->msg : NULL;
}

/* The plan's error for cfg json is exactly `want`. */
#define TF_CHECK_MSG(plan, json, t, want)                                                          \
  do {                                                                                             \
    spy_err e_ = {0};                                                                              \
    const char *got_ = tf_plan_error(plan, json, t, &e_);                                          \
    CHECK(got_ && strcmp(got_, want) == 0, "%s:\n  got  %s\n  want %s", json,                      \
          got_ ? got_ : "(no error)", want);                                                       \
  } while (0)

/* The log file a test sends spy_log to (main sets it), and whether it holds
** a line "... - <level> - <host> - <session>: <msg>". */
static char tf_logpath[256];

static inline bool tf_logged(const char *level, const char *msg)
{
  FILE *f = fopen(tf_logpath, "r");
  char line[4096], want[64];
  bool found = false;
  if (!f) return false;
  snprintf(want, sizeof want, " - %s - ", level);
  while (!found && fgets(line, sizeof line, f)) {
    if (!strstr(line, want)) continue;
    for (char *p = strstr(line, ": "); p && !found; p = strstr(p + 1, ": ")) {
      size_t l = strlen(msg);
      found = strncmp(p + 2, msg, l) == 0 && (p[2 + l] == '\n' || p[2 + l] == '\0');
    }
  }
  fclose(f);
  return found;
}

static inline void tf_log_reset(void)
{
  FILE *f = fopen(tf_logpath, "w");
  if (f) fclose(f);
}

/* Runs op over every trial; returns the outputs concatenated along rows
** (as double complex; real outputs in the real part), *rows = total rows.
** *secs = time spent in the kernels. */
static inline double complex *tf_run(const spy_op *op, const tf_input *t, size_t *rows,
                                     double *secs)
{
  size_t nf = op->nfreq, nch = t->nchan, total = 0, maxlen = 0;
  for (size_t k = 0; k < op->ntrials; k++) total += op->out_rows[k];
  for (size_t k = 0; k < t->trials.ntrials; k++)
    if (spy_trial_len(&t->trials, k) > maxlen) maxlen = spy_trial_len(&t->trials, k);
  double complex *res = calloc(total * nf * nch + 1, sizeof *res);
  size_t es = spy_dtype_size(op->out_dtype), row0 = 0;
  void *scratch = spy_fft_alloc(op->scratch_bytes(op->plan, maxlen, nch));
  double el = 0;
  for (size_t k = 0; k < op->ntrials; k++) {
    size_t a = (size_t)t->trl[k * 3], n = spy_trial_len(&t->trials, k), r = op->out_rows[k];
    void *out = malloc(r * nf * nch * es + 1);
    spy_task task = {k, 0, nch, t->data + a * nch, n, out, r, scratch, 0};
    spy_err err = {0};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = op->kernel(op->plan, &task, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    el += (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    CHECK(rc == 0, "kernel trial %zu: %s", k, err.msg);
    for (size_t i = 0; i < r * nf * nch; i++)
      res[row0 * nf * nch + i] = op->out_dtype == SPY_DT_C64 ? ((float complex *)out)[i]
                                                              : ((float *)out)[i];
    row0 += r;
    free(out);
  }
  spy_fft_free(scratch);
  *rows = total;
  if (secs) *secs = el;
  return res;
}

/* max over channel c of |a - b| / max |b|, a and b rows x nf x nch. */
static inline double tf_relerr(const double complex *a, const double complex *b, size_t rows,
                               size_t nf, size_t nch, size_t c)
{
  double num = 0, den = 0;
  for (size_t r = 0; r < rows; r++)
    for (size_t f = 0; f < nf; f++) {
      size_t i = (r * nf + f) * nch + c;
      double d = cabs(a[i] - b[i]), m = cabs(b[i]);
      if (d > num || d != d) num = d;
      if (m > den) den = m;
    }
  return den > 0 ? num / den : num;
}

/*
** Runs the reference case `file` with `plan` and checks, per channel,
** max|spy - Syncopy| / max|Syncopy| <= tol, the freq and time axes to 1e-9,
** the output shape and the taper label.
*/
static inline void tf_check_reference(const char *file, plan_fn plan, double tol)
{
  const char *path = t_data(file);
  char cfgtxt[16384];
  int nd;
  size_t sh[8], tsh[8], osh[8], fsh[8], ish[8];
  CHECK(h5ref_attr_str(path, "syncopy_cfg", cfgtxt, sizeof cfgtxt) == 0, "%s: syncopy_cfg", file);
  double *input = h5ref_read(path, "input", &nd, ish);
  double *trl = h5ref_read(path, "input_trialdefinition", &nd, tsh);
  double *ref = h5ref_read(path, "output", &nd, osh);
  double *freq = h5ref_read(path, "freq", &nd, fsh);
  double *time = h5ref_read(path, "time", &nd, sh);
  double sr = h5ref_attr_num(path, "samplerate");
  CHECK(input && trl && ref && freq && time, "%s: datasets", file);
  if (!(input && trl && ref && freq && time)) return;

  cJSON *root = cJSON_Parse(cfgtxt);
  cJSON *cfg = cJSON_DetachItemFromObject(root, "freqanalysis");
  cJSON_Delete(root);
  tf_input t;
  tf_input_init(&t, input, ish[0], ish[1], trl, tsh[0], sr);
  const cJSON *jf = cJSON_GetObjectItem(cfg, "foi");
  size_t nfoi = (size_t)cJSON_GetArraySize(jf);
  double *foi = malloc(nfoi * sizeof *foi);
  for (size_t i = 0; i < nfoi; i++) foi[i] = cJSON_GetArrayItem(jf, (int)i)->valuedouble;
  tf_input_foi(&t, foi, nfoi);

  spy_op op = {0};
  spy_err err = {0};
  int rc = plan(cfg, &t.trials, &t.c, &op, &err);
  CHECK(rc == 0, "%s: plan: %s", file, err.msg);
  if (rc == 0) {
    size_t rows;
    double secs;
    double complex *got = tf_run(&op, &t, &rows, &secs);
    size_t nf = op.nfreq, nch = t.nchan;
    CHECK(rows == osh[0] && op.inner[0] == osh[1] && nf == osh[2] && nch == osh[3],
          "%s: shape %zu x %zu x %zu x %zu vs %zu x %zu x %zu x %zu", file, rows, op.inner[0], nf,
          nch, osh[0], osh[1], osh[2], osh[3]);
    if (rows == osh[0] && nf == osh[2]) {
      double complex *want = malloc(rows * nf * nch * sizeof *want);
      for (size_t i = 0; i < rows * nf * nch; i++) want[i] = ref[i];
      for (size_t c = 0; c < nch; c++) {
        double e = tf_relerr(got, want, rows, nf, nch, c);
        fprintf(stderr, "%s: channel %zu: max rel error %.3g (kernels %.3f s)\n", file, c, e,
                secs);
        CHECK(e <= tol, "%s channel %zu: max|spy - Syncopy|/max|Syncopy| = %g", file, c, e);
      }
      free(want);
    }
    double fe = 0;
    for (size_t i = 0; i < nf && i < fsh[0]; i++) fe = fmax(fe, fabs(op.freq[i] - freq[i]));
    CHECK(nf == fsh[0] && fe <= 1e-9, "%s: freq axis differs by %g", file, fe);
    /* time of output row r of trial k: (r + offset_k) / samplerate */
    double te = 0;
    size_t r0 = 0;
    for (size_t k = 0; k < op.ntrials; k++) {
      double off = op.out_trldef[k * op.out_trlcols + 2];
      for (size_t r = 0; r < op.out_rows[k] && r0 + r < sh[0]; r++)
        te = fmax(te, fabs(((double)r + off) / op.samplerate - time[r0 + r]));
      r0 += op.out_rows[k];
    }
    CHECK(r0 == sh[0] && te <= 1e-9, "%s: time axis differs by %g", file, te);
    char tap[1][64] = {""};
    CHECK(h5ref_strings(path, "taper", tap, 1) >= 1 && op.ntaper == 1 &&
              strcmp(op.taper[0], tap[0]) == 0,
          "%s: taper label '%s' vs '%s'", file, op.ntaper ? op.taper[0] : "", tap[0]);
    free(got);
  }
  spy_op_free(&op);
  cJSON_Delete(cfg);
  tf_input_free(&t);
  free(foi);
  free(input);
  free(trl);
  free(ref);
  free(freq);
  free(time);
}

/* approximately normal test data: sum of 12 uniforms from a 64-bit LCG with
** state *rng (reproducible across runs and machines) */
static inline double tf_gauss(uint64_t *rng)
{
  double u = 0;
  for (int i = 0; i < 12; i++) {
    *rng = *rng * 6364136223846793005ULL + 1442695040888963407ULL;
    u += (double)(*rng >> 11) / 9007199254740992.0;
  }
  return u - 6;
}

#endif
