#include "synth/synth.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/interrupt.h"
#include "core/kwspec.h"
#include "core/pyfmt.h"
#include "synth/rng.h"
#include "synth/synth_spec.h"

typedef enum { G_WHITE, G_TREND, G_HARMONIC, G_PHASE, G_AR2, G_RED } gen_kind;

static const char *const gen_names[] = {"white_noise",     "linear_trend", "harmonic",
                                        "phase_diffusion", "ar2_network",  "red_noise"};

enum { SEED_ENTROPY, SEED_SAME, SEED_PER_TRIAL };

typedef struct synth_plan {
  gen_kind kind;
  size_t nsamp, nchan, ntrials;
  int seeding;
  uint64_t seed;        /* SEED_SAME */
  uint32_t *trial_seed; /* SEED_PER_TRIAL: one per trial */
  double samplerate;
  double y_max;     /* linear_trend */
  double freq, eps; /* harmonic, phase_diffusion */
  bool rand_ini, return_phase;
  double *M;     /* ar2: nchan x nchan, diag(alpha1) + A^T; red: the diagonal */
  float alpha2;  /* ar2: Syncopy multiplies float32 rows by it in float32 */
  bool diagonal; /* ar2: M is diagonal (red_noise) */
} synth_plan;

/* Numbers drawn between two polls of the interrupt flag. */
enum { POLL_BLOCK = 1 << 20 };

static void plan_free(void *vp)
{
  synth_plan *p = vp;
  if (!p) return;
  free(p->trial_seed);
  free(p->M);
  free(p);
}

/* Generators have no input, so the scheduler's nsamp and nchan say
** nothing: the plan knows its channels. */
static size_t plan_scratch(const void *vp, size_t nsamp, size_t nchan)
{
  (void)nsamp, (void)nchan;
  const synth_plan *p = vp;
  return p->kind == G_PHASE ? 2 * p->nchan * sizeof(float) : 0;
}

/* ---- seeds ------------------------------------------------------------- */

void spy_synth_trial_seeds(uint64_t seed, size_t n, uint32_t *out)
{
  spy_rng r;
  spy_rng_seed(&r, seed);
  for (size_t k = 0; k < n; k++)
    out[k] = (uint32_t)spy_rng_below(&r, 1000000);
}

/* A fresh generator for trial k, as default_rng(<the trial's seed>). */
static int trial_rng(const synth_plan *p, size_t k, spy_rng *r, spy_err *err)
{
  switch (p->seeding) {
  case SEED_PER_TRIAL:
    spy_rng_seed(r, p->trial_seed[k]);
    return SPY_OK;
  case SEED_SAME:
    spy_rng_seed(r, p->seed);
    return SPY_OK;
  default:
    if (spy_rng_seed_entropy(r) != 0)
      return spy_fail(err, SPY_ERUNTIME, "cannot read random bytes from the operating system");
    return SPY_OK;
  }
}

static int normals_f32(spy_rng *r, float *out, size_t n, spy_err *err)
{
  for (size_t i = 0; i < n; i += POLL_BLOCK) {
    if (spy_interrupted()) return spy_fail(err, SPY_EINTR, "interrupted");
    spy_rng_normal_f32(r, out + i, n - i < POLL_BLOCK ? n - i : POLL_BLOCK);
  }
  return SPY_OK;
}

/* ---- the generators: one trial each ------------------------------------ */

/* NumPy's linspace(start=0, stop, num) element i before the float32 cast:
** i * (stop / (num-1)) (i / (num-1) * stop when that step underflows to 0),
** the last element exactly stop; num = 1 gives 0 * stop. */
static double linspace0(double stop, size_t num, size_t i)
{
  if (num == 1) return 0.0 * stop + 0.0;
  double div = (double)(num - 1), step = stop / div;
  if (i == num - 1) return stop;
  double y = step == 0 ? (double)i / div * stop : (double)i * step;
  return y + 0.0;
}

/* harmonic and linear_trend: one column repeated; computed in place in
** the first column's slots, then spread (rows are written back to front so
** no value is overwritten before it is read). */
static int gen_column(const synth_plan *p, spy_task *t, spy_err *err)
{
  float *out = t->out;
  size_t N = p->nsamp, C = t->nchan;
  double c = 2 * M_PI * p->freq;
  for (size_t n = 0; n < N; n++) {
    if ((n & (POLL_BLOCK - 1)) == 0 && spy_interrupted())
      return spy_fail(err, SPY_EINTR, "interrupted");
    float v;
    if (p->kind == G_TREND) {
      v = (float)linspace0(p->y_max, N, n);
    } else {
      float arg = (float)(c * ((double)n / p->samplerate));
      v = (float)cos((double)arg);
    }
    out[n] = v;
  }
  if (C > 1)
    for (size_t n = N; n-- > 0;) {
      float v = out[n];
      for (size_t ch = 0; ch < C; ch++)
        out[n * C + ch] = v;
    }
  return SPY_OK;
}

/* phase_diffusion with Syncopy's float32 arithmetic: the white noise, time
** axis, linear phase, Brownian increments, their cumulative sum and the
** phases are all float32 arrays there (NumPy 1.x keeps float32 when an
** array meets a Python or NumPy scalar), so each step rounds to float32. */
static int gen_phase(const synth_plan *p, spy_task *t, spy_err *err)
{
  float *out = t->out, *cum = t->scratch, *ps0 = cum + p->nchan;
  size_t N = p->nsamp, C = p->nchan;
  spy_rng r;
  int rc = trial_rng(p, t->trial, &r, err);
  if (rc == SPY_OK) rc = normals_f32(&r, out, N * C, err);
  if (rc != SPY_OK) return rc;

  double omega0 = 2 * M_PI * p->freq;
  if (p->rand_ini) {
    spy_rng r2; /* Syncopy draws the initial phases from a new default_rng(seed) */
    if ((rc = trial_rng(p, t->trial, &r2, err)) != SPY_OK) return rc;
    for (size_t c = 0; c < C; c++)
      ps0[c] = (float)(2 * M_PI) * (float)spy_rng_uniform(&r2);
  }
  float om = (float)omega0;
  float rel_eps = (float)sqrt(omega0 / p->samplerate * p->eps);
  double tstop = (double)N / p->samplerate;
  for (size_t c = 0; c < C; c++)
    cum[c] = 0.0f;
  for (size_t n = 0; n < N; n++) {
    if (n % (POLL_BLOCK / C + 1) == 0 && spy_interrupted())
      return spy_fail(err, SPY_EINTR, "interrupted");
    float lin = om * (float)linspace0(tstop, N, n);
    float *row = out + n * C;
    for (size_t c = 0; c < C; c++) {
      float l = p->rand_ini ? lin + ps0[c] : lin;
      float b = rel_eps * row[c];
      cum[c] = n ? cum[c] + b : b;
      float ph = l + cum[c];
      row[c] = p->return_phase ? ph : (float)cos((double)ph);
    }
  }
  return SPY_OK;
}

/* ar2_network and red_noise: x_t = M x_{t-1} + alpha2 x_{t-2} + noise, M
** and the sum in float64 (Syncopy's float64 matrix times the float32 row),
** alpha2 x_{t-2} in float32, the sum rounded to float32 and the float64
** noise added to that float32 value, rounded again: the stored row. */
static int gen_ar2(const synth_plan *p, spy_task *t, spy_err *err)
{
  float *out = t->out;
  size_t N = p->nsamp, C = p->nchan;
  spy_rng r;
  int rc = trial_rng(p, t->trial, &r, err);
  if (rc != SPY_OK) return rc;
  for (size_t i = 0; i < 2 * C; i++)
    out[i] = (float)spy_rng_normal(&r);
  for (size_t n = 2; n < N; n++) {
    if (n % (POLL_BLOCK / C + 1) == 0 && spy_interrupted())
      return spy_fail(err, SPY_EINTR, "interrupted");
    const float *x1 = out + (n - 1) * C, *x2 = out + (n - 2) * C;
    float *x = out + n * C;
    for (size_t a = 0; a < C; a++) {
      double s;
      if (p->diagonal) {
        s = p->M[a] * (double)x1[a];
      } else {
        s = 0.0;
        for (size_t j = 0; j < C; j++)
          s += p->M[a * C + j] * (double)x1[j];
      }
      x[a] = (float)(s + (double)(p->alpha2 * x2[a]));
    }
    for (size_t a = 0; a < C; a++)
      x[a] = (float)((double)x[a] + spy_rng_normal(&r));
  }
  return SPY_OK;
}

static int synth_kernel(const void *vp, spy_task *t, spy_err *err)
{
  const synth_plan *p = vp;
  bool indep = p->kind == G_TREND || p->kind == G_HARMONIC;
  if (t->trial >= p->ntrials || t->rows != p->nsamp || t->chan0 + t->nchan > p->nchan ||
      (!indep && (t->chan0 != 0 || t->nchan != p->nchan)))
    return spy_fail(err, SPY_EINVAL,
                    "%s: task (trial %zu, %zu rows x channels %zu..%zu) does not fit the plan "
                    "(%zu trials of %zu rows x %zu channels%s)",
                    gen_names[p->kind], t->trial, t->rows, t->chan0, t->chan0 + t->nchan,
                    p->ntrials, p->nsamp, p->nchan, indep ? "" : ", all channels in one task");
  if (p->kind == G_PHASE && !t->scratch)
    return spy_fail(err, SPY_EINVAL, "phase_diffusion: the task has no scratch buffer");
  if (spy_interrupted()) return spy_fail(err, SPY_EINTR, "interrupted");

  switch (p->kind) {
  case G_WHITE: {
    spy_rng r;
    int rc = trial_rng(p, t->trial, &r, err);
    return rc != SPY_OK ? rc : normals_f32(&r, t->out, p->nsamp * p->nchan, err);
  }
  case G_TREND:
  case G_HARMONIC:
    return gen_column(p, t, err);
  case G_PHASE:
    return gen_phase(p, t, err);
  case G_AR2:
  case G_RED:
    return gen_ar2(p, t, err);
  }
  return spy_fail(err, SPY_EINVAL, "unknown generator");
}

int spy_synth_trial(const spy_op *op, size_t k, float *out, spy_err *err)
{
  const synth_plan *p = op->plan;
  if (!p || op->kernel != synth_kernel)
    return spy_fail(err, SPY_EINVAL, "spy_synth_trial: not a synthdata plan");
  if (k >= op->ntrials)
    return spy_fail_value(err, "trial", NULL, "trial index below %zu", op->ntrials);
  size_t nscratch = plan_scratch(p, 0, 0);
  void *scratch = nscratch ? malloc(nscratch) : NULL;
  if (nscratch && !scratch) return spy_fail(err, SPY_ENOMEM, "out of memory");
  spy_task t = {
      .trial = k, .chan0 = 0, .nchan = p->nchan, .out = out, .rows = p->nsamp, .scratch = scratch};
  int rc = synth_kernel(p, &t, err);
  free(scratch);
  return rc;
}

/* ---- validation ---------------------------------------------------------- */

static void brief(const cJSON *v, char *buf, size_t n)
{
  spy_json_brief(v, buf, n);
}

/* scalar_parser(var, name, lims=[lo, inf]) and its message. */
static int check_lower(const cJSON *cfg, const char *key, double lo, const char *lo_text,
                       spy_err *err)
{
  return spy_scalar_parser(spy_cfg_item(cfg, key), key, false, lo, INFINITY, lo_text, "inf", err);
}

/* A count (nSamples, nChannels, nTrials) >= lo that is also exactly
** representable, so it converts to size_t without loss. */
#define COUNT_MAX 9007199254740992.0 /* 2^53 */
static int check_count(const cJSON *cfg, const char *key, double lo, const char *lo_text,
                       size_t *out, spy_err *err)
{
  int rc = check_lower(cfg, key, lo, lo_text, err);
  if (rc != SPY_OK) return rc;
  double x = spy_cfg_item(cfg, key)->valuedouble;
  if (x > COUNT_MAX) {
    char actual[64];
    brief(spy_cfg_item(cfg, key), actual, sizeof actual);
    return spy_fail_value(err, key, actual, "value to be less or equals 2^53");
  }
  *out = (size_t)x;
  return SPY_OK;
}

static int require(const cJSON *cfg, const char *key, const char *fn, double *out, spy_err *err)
{
  const cJSON *v = spy_cfg_item(cfg, key);
  if (!cJSON_IsNumber(v))
    return spy_fail(err, SPY_EINVAL, "%s: missing required keyword `%s` (a number)", fn, key);
  if (!isfinite(v->valuedouble)) {
    char actual[64];
    brief(v, actual, sizeof actual);
    return spy_fail_value(err, key, actual, "finite number");
  }
  *out = v->valuedouble;
  return SPY_OK;
}

/* Seeds are non-negative integers (NumPy: "expected non-negative integer");
** JSON numbers are doubles, so the range is [0, 2^64). */
static int read_seed(const cJSON *cfg, bool *given, uint64_t *seed, spy_err *err)
{
  const cJSON *v = spy_cfg_item(cfg, "seed");
  *given = v && !cJSON_IsNull(v);
  if (!*given) return SPY_OK;
  double x = v->valuedouble;
  if (!(x >= 0 && x < 18446744073709551616.0)) {
    char actual[64];
    brief(v, actual, sizeof actual);
    return spy_fail_value(err, "seed", actual, "non-negative integer or nil");
  }
  *seed = (uint64_t)x;
  return SPY_OK;
}

/* AdjMat: a square list of lists of numbers, cast to float32 as Syncopy
** does; M = diag(alpha1) + A^T. */
static int read_adjmat(const cJSON *v, double alpha1, synth_plan *p, spy_err *err)
{
  char actual[128];
  size_t n = (size_t)cJSON_GetArraySize(v);
  const cJSON *row;
  bool square = n > 0;
  cJSON_ArrayForEach(row, v)
  {
    if (!cJSON_IsArray(row) || (size_t)cJSON_GetArraySize(row) != n) {
      square = false;
      continue;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, row)
    {
      if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble)) square = false;
    }
  }
  if (!square) {
    brief(v, actual, sizeof actual);
    return spy_fail_value(err, "AdjMat", actual,
                          "square nChannels x nChannels array of finite numbers "
                          "({{a, b}, {c, d}}, nChannels >= 1)");
  }
  p->nchan = n;
  if (!(p->M = calloc(n * n, sizeof *p->M))) return spy_fail(err, SPY_ENOMEM, "out of memory");
  size_t i = 0;
  cJSON_ArrayForEach(row, v)
  {
    size_t j = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, row)
    {
      p->M[j * n + i] = (double)(float)e->valuedouble; /* transpose */
      j++;
    }
    i++;
  }
  for (i = 0; i < n; i++)
    p->M[i * n + i] += alpha1;
  return SPY_OK;
}

/* ---- the log entry ------------------------------------------------------- */

/* Syncopy's history entry of a generator: every keyword of the cfg. */
static char *make_log(const char *name, const cJSON *cfg)
{
  spy_history h = {0};
  const cJSON *v;
  cJSON_ArrayForEach(v, cfg) spy_history_add_json(&h, v->string, v);
  char *s = spy_history_text(&h, name);
  spy_history_free(&h);
  return s;
}

/* ---- the plan ------------------------------------------------------------- */

static int plan_params(const cJSON *cfg, synth_plan *p, const char *fn, spy_err *err)
{
  int rc;
  bool has_nchan = spy_cfg_item(cfg, "nChannels") != NULL;
  size_t min_samples = (p->kind == G_AR2 || p->kind == G_RED) ? 2 : 1;
  if ((rc = check_count(cfg, "nSamples", (double)min_samples, min_samples == 2 ? "2" : "1",
                        &p->nsamp, err)) != SPY_OK)
    return rc;
  if (has_nchan && (rc = check_count(cfg, "nChannels", 1, "1", &p->nchan, err)) != SPY_OK)
    return rc;

  switch (p->kind) {
  case G_WHITE:
    break;
  case G_TREND:
    rc = require(cfg, "y_max", fn, &p->y_max, err);
    break;
  case G_HARMONIC:
    rc = require(cfg, "freq", fn, &p->freq, err);
    break;
  case G_PHASE:
    if ((rc = require(cfg, "freq", fn, &p->freq, err)) != SPY_OK) break;
    if ((rc = require(cfg, "eps", fn, &p->eps, err)) != SPY_OK) break;
    p->rand_ini = spy_cfg_bool(cfg, "rand_ini", false);
    p->return_phase = spy_cfg_bool(cfg, "return_phase", false);
    break;
  case G_RED: {
    double alpha = 0;
    if ((rc = require(cfg, "alpha", fn, &alpha, err)) != SPY_OK) break;
    p->alpha2 = 0.0f;
    p->diagonal = true;
    if (!(p->M = malloc(p->nchan * sizeof *p->M)))
      return spy_fail(err, SPY_ENOMEM, "out of memory");
    for (size_t i = 0; i < p->nchan; i++)
      p->M[i] = alpha;
    break;
  }
  case G_AR2: {
    const cJSON *al = spy_cfg_item(cfg, "alphas"), *A = spy_cfg_item(cfg, "AdjMat");
    char actual[128];
    if (cJSON_GetArraySize(al) != 2 || !isfinite(al->child->valuedouble) ||
        !isfinite(al->child->next->valuedouble)) {
      brief(al, actual, sizeof actual);
      return spy_fail_value(err, "alphas", actual, "2-element sequence of finite numbers");
    }
    double alpha1 = al->child->valuedouble;
    p->alpha2 = (float)al->child->next->valuedouble;
    if (!A || cJSON_IsNull(A)) {
      /* Syncopy's default: two channels, 2 -> 1 with 0.25 (A[1][0]). */
      cJSON *def = cJSON_Parse("[[0,0],[0.25,0]]");
      if (!def) return spy_fail(err, SPY_ENOMEM, "out of memory");
      rc = read_adjmat(def, alpha1, p, err);
      cJSON_Delete(def);
    } else {
      rc = read_adjmat(A, alpha1, p, err);
    }
    break;
  }
  }
  return rc;
}

int spy_synth_plan(const char *generator, const cJSON *cfg, spy_op *op, spy_err *err)
{
  memset(op, 0, sizeof *op);
  const spy_funcspec *spec = generator ? spy_synth_spec(generator) : NULL;
  if (!spec)
    return spy_fail_value(err, "generator", generator ? generator : "nil",
                          "'white_noise' or 'linear_trend' or 'harmonic' or 'phase_diffusion' "
                          "or 'ar2_network' or 'red_noise'");
  cJSON *full = NULL;
  int rc = spy_kw_apply(spec, cfg, &full, err);
  if (rc != SPY_OK) return rc;

  synth_plan *p = calloc(1, sizeof *p);
  if (!p) {
    cJSON_Delete(full);
    return spy_fail(err, SPY_ENOMEM, "out of memory");
  }
  op->plan = p;
  op->free_plan = plan_free;
  for (int g = 0; g <= G_RED; g++)
    if (strcmp(gen_names[g], generator) == 0) p->kind = (gen_kind)g;
  const char *fn = gen_names[p->kind];

  /* collect_trials: nTrials first (scalar_parser, int_like, >= 1) */
  const cJSON *nt = spy_cfg_item(full, "nTrials");
  bool single = cJSON_IsNull(nt);
  size_t ntrials = 1;
  char actual[64];
  if (!single) {
    double x = nt->valuedouble;
    brief(nt, actual, sizeof actual);
    if (isfinite(x) && round(x) != x) {
      rc = spy_fail_value(err, "nTrials", actual, "int_like");
      goto fail;
    }
    if ((rc = check_count(full, "nTrials", 1, "1", &ntrials, err)) != SPY_OK) goto fail;
  }
  /* AnalogData's samplerate: any float above machine epsilon */
  if ((rc = check_lower(full, "samplerate", 2.220446049250313e-16, "2.220446049250313e-16", err)) !=
      SPY_OK)
    goto fail;
  p->samplerate = spy_cfg_item(full, "samplerate")->valuedouble;

  bool seeded;
  uint64_t seed = 0;
  if ((rc = read_seed(full, &seeded, &seed, err)) != SPY_OK) goto fail;
  if ((rc = plan_params(full, p, fn, err)) != SPY_OK) goto fail;
  /* sample indices (trial definition) and one trial's bytes must be exact */
  if ((double)p->nsamp * (double)ntrials > COUNT_MAX ||
      p->nsamp > SIZE_MAX / sizeof(float) / p->nchan) {
    rc = spy_fail(err, SPY_EINVAL,
                  "%s: %zu trials of %zu samples x %zu channels are more than spy can address", fn,
                  ntrials, p->nsamp, p->nchan);
    goto fail;
  }

  p->ntrials = ntrials;
  if (!seeded) {
    p->seeding = SEED_ENTROPY;
  } else if (single || !spy_cfg_bool(full, "seed_per_trial", true)) {
    p->seeding = SEED_SAME;
    p->seed = seed;
  } else {
    p->seeding = SEED_PER_TRIAL;
    if (!(p->trial_seed = malloc(ntrials * sizeof *p->trial_seed))) goto nomem;
    spy_synth_trial_seeds(seed, ntrials, p->trial_seed);
  }

  op->name = fn;
  op->kernel = synth_kernel;
  op->scratch_bytes = plan_scratch;
  op->chan_independent = p->kind == G_TREND || p->kind == G_HARMONIC;
  op->cls = SPY_ANALOG;
  op->out_dtype = SPY_DT_F32;
  op->ninner = 0;
  op->ntrials = ntrials;
  op->out_nchan = p->nchan;
  op->samplerate = p->samplerate;
  op->out_trlcols = 3;
  if (!(op->out_rows = malloc(ntrials * sizeof *op->out_rows))) goto nomem;
  if (!(op->out_trldef = malloc(3 * ntrials * sizeof *op->out_trldef))) goto nomem;
  for (size_t k = 0; k < ntrials; k++) {
    op->out_rows[k] = p->nsamp;
    op->out_trldef[3 * k + 0] = (double)(k * p->nsamp);
    op->out_trldef[3 * k + 1] = (double)((k + 1) * p->nsamp);
    /* a list of trials starts at -1 s; Syncopy's single array at 0 */
    op->out_trldef[3 * k + 2] = single ? 0.0 : -p->samplerate;
  }
  if (!(op->log = make_log(fn, full))) goto nomem;
  cJSON_Delete(full);
  return SPY_OK;

nomem:
  rc = spy_fail(err, SPY_ENOMEM, "out of memory");
fail:
  cJSON_Delete(full);
  spy_op_free(op);
  return rc;
}

/* ---- the two helpers ------------------------------------------------------ */

int spy_synth_random_adjmat(size_t n, double conn_thresh, double max_coupling, const uint64_t *seed,
                            double *out, spy_err *err)
{
  spy_rng r;
  if (seed)
    spy_rng_seed(&r, *seed);
  else if (spy_rng_seed_entropy(&r) != 0)
    return spy_fail(err, SPY_ERUNTIME, "cannot read random bytes from the operating system");
  for (size_t i = 0; i < n * n; i++)
    out[i] = spy_rng_uniform(&r) < conn_thresh ? 1.0 : 0.0;
  for (size_t i = 0; i < n; i++)
    out[i * n + i] = 0.0;
  for (size_t j = 0; j < n; j++) {
    double norm = 0.0;
    for (size_t i = 0; i < n; i++)
      norm += out[i * n + j];
    if (norm == 0.0) norm = 1.0;
    for (size_t i = 0; i < n; i++)
      out[i * n + j] = out[i * n + j] / norm * max_coupling;
  }
  return SPY_OK;
}

int spy_synth_ar2_peak_freq(double a1, double a2, double samplerate, double *out, spy_err *err)
{
  if (a1 * a1 + 4 * a2 > 0) return spy_fail(err, SPY_EINVAL, "No complex roots!");
  *out = acos(a1 * (a2 - 1) / (4 * a2)) * 1 / (2 * M_PI) * samplerate;
  return SPY_OK;
}

int spy_synth_random_adjmat_cfg(const cJSON *cfg, double **out, size_t *n, spy_err *err)
{
  *out = NULL;
  *n = 0;
  cJSON *full = NULL;
  int rc = spy_kw_apply(&spy_spec_mk_RandomAdjMat, cfg, &full, err);
  if (rc != SPY_OK) return rc;
  bool seeded;
  uint64_t seed = 0;
  double thresh = spy_cfg_num(full, "conn_thresh", 0.25);
  double maxc = spy_cfg_num(full, "max_coupling", 0.25);
  size_t nc = 0;
  if ((rc = check_count(full, "nChannels", 1, "1", &nc, err)) != SPY_OK ||
      (rc = read_seed(full, &seeded, &seed, err)) != SPY_OK)
    goto done;
  if (!isfinite(thresh) || !isfinite(maxc)) {
    rc = spy_fail_value(err, isfinite(thresh) ? "max_coupling" : "conn_thresh", NULL,
                        "finite number");
    goto done;
  }
  if (nc > 65536) {
    char actual[64];
    brief(spy_cfg_item(full, "nChannels"), actual, sizeof actual);
    rc = spy_fail_value(err, "nChannels", actual, "at most 65536 channels");
    goto done;
  }
  if (!(*out = malloc(nc * nc * sizeof **out))) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
    goto done;
  }
  rc = spy_synth_random_adjmat(nc, thresh, maxc, seeded ? &seed : NULL, *out, err);
  if (rc != SPY_OK) {
    free(*out);
    *out = NULL;
  } else
    *n = nc;
done:
  cJSON_Delete(full);
  return rc;
}

int spy_synth_ar2_peak_freq_cfg(const cJSON *cfg, double *out, spy_err *err)
{
  cJSON *full = NULL;
  int rc = spy_kw_apply(&spy_spec_ar2_peak_freq, cfg, &full, err);
  if (rc != SPY_OK) return rc;
  double a1 = 0, a2 = 0;
  if ((rc = require(full, "a1", "ar2_peak_freq", &a1, err)) == SPY_OK &&
      (rc = require(full, "a2", "ar2_peak_freq", &a2, err)) == SPY_OK)
    rc = spy_synth_ar2_peak_freq(a1, a2, spy_cfg_num(full, "samplerate", 1), out, err);
  cJSON_Delete(full);
  return rc;
}
