/*
** The wavelet bank is made by the tasks that first need it (dsp/cwt.h,
** spy_cwt_ready): whichever workers take the first trials share the kernel
** spectra and twiddle tables between them.  The results must be the bytes
** of a sequential run however the work was shared: four threads running
** the trials of one plan at once, several times over on fresh plans, for a
** Morlet with a two-residue toi (twiddle tables as well as spectra), a
** Morlet over every sample and a multiplicative superlet, every other
** round with the input handed over as stored float32 (SPY_TASK_IN_F32, as
** the scheduler does for float32 data: widening is exact).  A task stopped
** by Ctrl-C before the bank is made returns SPY_EINTR, and a later run of
** the same plan still gives the sequential bytes.
*/
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "core/interrupt.h"
#include "test_wavelet_util.h"

#define NTHREADS 4

static uint64_t rng = 7;

typedef struct shared_run {
  const spy_op *op;
  const tf_input *t;
  size_t *row0;        /* output row of each trial */
  double complex *res; /* rows x nf x nch */
  atomic_size_t next;  /* next trial to take */
  atomic_int failures;
  bool f32;            /* hand the input over as float32 */
} shared_run;

/* One worker: takes trials until none is left, with its own scratch. */
static void *worker(void *arg)
{
  shared_run *s = arg;
  const spy_op *op = s->op;
  const tf_input *t = s->t;
  size_t nf = op->nfreq, nch = t->nchan, es = spy_dtype_size(op->out_dtype), maxlen = 0;
  for (size_t k = 0; k < t->trials.ntrials; k++)
    if (spy_trial_len(&t->trials, k) > maxlen) maxlen = spy_trial_len(&t->trials, k);
  void *scratch = spy_fft_alloc(op->scratch_bytes(op->plan, maxlen, nch));
  float *in32 = malloc(maxlen * nch * sizeof *in32 + 1);
  for (size_t k; (k = atomic_fetch_add(&s->next, 1)) < op->ntrials;) {
    size_t a = (size_t)t->trl[k * 3], r = op->out_rows[k], ns = spy_trial_len(&t->trials, k);
    void *out = malloc(r * nf * nch * es + 1);
    spy_task task = {k, 0, nch, t->data + a * nch, ns, out, r, scratch, 0};
    if (s->f32) {
      for (size_t i = 0; i < ns * nch; i++) in32[i] = (float)t->data[a * nch + i];
      task.in = (const double *)(const void *)in32;
      task.flags = SPY_TASK_IN_F32;
    }
    spy_err err = {0};
    if (op->kernel(op->plan, &task, &err) != SPY_OK) atomic_fetch_add(&s->failures, 1);
    for (size_t i = 0; i < r * nf * nch; i++)
      s->res[s->row0[k] * nf * nch + i] = op->out_dtype == SPY_DT_C64
                                              ? ((float complex *)out)[i]
                                              : ((float *)out)[i];
    free(out);
  }
  spy_fft_free(scratch);
  free(in32);
  return NULL;
}

/* Runs a fresh plan of cfg on NTHREADS threads at once; the outputs as tf_run. */
static double complex *run_threads(plan_fn plan, const cJSON *cfg, tf_input *t, bool f32,
                                   size_t *rows)
{
  spy_op op = {0};
  spy_err err = {0};
  int rc = plan(cfg, &t->trials, &t->c, &op, &err);
  CHECK(rc == 0, "plan: %s", err.msg);
  if (rc) return NULL;
  shared_run s = {.op = &op, .t = t, .f32 = f32};
  CHECK(op.in_f32, "the plan takes float32 input as stored");
  s.row0 = malloc(op.ntrials * sizeof *s.row0);
  size_t total = 0;
  for (size_t k = 0; k < op.ntrials; k++) s.row0[k] = total, total += op.out_rows[k];
  s.res = calloc(total * op.nfreq * t->nchan + 1, sizeof *s.res);
  atomic_init(&s.next, 0);
  atomic_init(&s.failures, 0);
  pthread_t th[NTHREADS];
  for (int i = 0; i < NTHREADS; i++) pthread_create(&th[i], NULL, worker, &s);
  for (int i = 0; i < NTHREADS; i++) pthread_join(th[i], NULL);
  CHECK(atomic_load(&s.failures) == 0, "%d tasks failed", atomic_load(&s.failures));
  *rows = total;
  free(s.row0);
  spy_op_free(&op);
  return s.res;
}

static void check_shared(const char *what, plan_fn plan, const char *json, tf_input *t)
{
  cJSON *cfg = tf_cfg(json);
  spy_op op = {0};
  spy_err err = {0};
  int rc = plan(cfg, &t->trials, &t->c, &op, &err);
  CHECK(rc == 0, "%s: plan: %s", what, err.msg);
  if (rc) {
    cJSON_Delete(cfg);
    return;
  }
  size_t rows, n = 0;
  double complex *seq = tf_run(&op, t, &rows, NULL);
  n = rows * op.nfreq * t->nchan;
  for (int rep = 0; rep < 5; rep++) {
    size_t r2 = 0;
    double complex *par = run_threads(plan, cfg, t, rep % 2, &r2);
    CHECK(par && r2 == rows && memcmp(par, seq, n * sizeof *seq) == 0,
          "%s: %d threads, round %d%s: not the sequential bytes", what, NTHREADS, rep,
          rep % 2 ? " (float32 input)" : "");
    free(par);
  }

  /* Ctrl-C before the bank is made: the task stops; the plan stays usable */
  spy_op again = {0};
  CHECK(plan(cfg, &t->trials, &t->c, &again, &err) == 0, "%s: plan: %s", what, err.msg);
  size_t es = spy_dtype_size(again.out_dtype), r = again.out_rows[0];
  void *scratch = spy_fft_alloc(again.scratch_bytes(again.plan, spy_trial_len(&t->trials, 0),
                                                    t->nchan));
  void *out = malloc(r * again.nfreq * t->nchan * es + 1);
  spy_task task = {0, 0, t->nchan, t->data, spy_trial_len(&t->trials, 0), out, r, scratch, 0};
  spy_interrupt_request();
  rc = again.kernel(again.plan, &task, &err);
  spy_interrupt_clear();
  CHECK(rc == SPY_EINTR, "%s: interrupted task returned %d", what, rc);
  size_t r3;
  double complex *later = tf_run(&again, t, &r3, NULL);
  CHECK(r3 == rows && memcmp(later, seq, n * sizeof *seq) == 0,
        "%s: after an interrupted task: not the sequential bytes", what);
  fprintf(stderr, "%s: %zu rows x %zu frequencies x %zu channels, identical for %d threads\n",
          what, rows, op.nfreq, t->nchan, NTHREADS);
  free(later);
  free(out);
  spy_fft_free(scratch);
  spy_op_free(&again);
  free(seq);
  spy_op_free(&op);
  cJSON_Delete(cfg);
}

int main(void)
{
  const size_t nt = 12, ns = 2000, nch = 5;
  const double sr = 1000;
  double *data = malloc(nt * ns * nch * sizeof *data), *trl = malloc(nt * 3 * sizeof *trl);
  for (size_t i = 0; i < nt * ns * nch; i++) data[i] = (float)tf_gauss(&rng);
  for (size_t k = 0; k < nt; k++) {
    trl[k * 3] = (double)(k * ns);
    trl[k * 3 + 1] = (double)((k + 1) * ns);
    trl[k * 3 + 2] = -500;
  }
  tf_input t;
  tf_input_init(&t, data, nt * ns, nch, trl, nt, sr);
  double foi[25];
  for (int i = 0; i < 25; i++) foi[i] = 4 + 4 * i;
  tf_input_foi(&t, foi, 25);

  /* toi every 10 samples, every other one 1e-9 s early: two residues */
  char toi[8192];
  size_t u = (size_t)snprintf(toi, sizeof toi, "{\"method\": \"wavelet\", \"toi\": [");
  for (int i = 0; i < 150; i++)
    u += (size_t)snprintf(toi + u, sizeof toi - u, "%s%.17g", i ? ", " : "",
                          -0.4 + 0.01 * i - (i % 2 ? 1e-9 : 0));
  snprintf(toi + u, sizeof toi - u, "], \"output\": \"fourier\"}");
  check_shared("Morlet, two residues", spy_wavelet_plan, toi, &t);
  check_shared("Morlet, every sample", spy_wavelet_plan,
               "{\"method\": \"wavelet\", \"toi\": \"all\", \"output\": \"pow\"}", &t);
  check_shared("superlet", spy_superlet_plan,
               "{\"method\": \"superlet\", \"order_max\": 4, \"c_1\": 3, \"toi\": \"all\", "
               "\"output\": \"fourier\"}",
               &t);

  tf_input_free(&t);
  free(data);
  free(trl);
  spy_fft_cleanup();
  return t_done();
}
