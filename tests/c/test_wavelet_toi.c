/*
** toi subsampling: the toi-array path (Syncopy's preSelect/postSelect, spy's
** folded spectra) gives the 'all' path's values at the samples Syncopy
** picks, on the shape of benchmark d2 (white noise, trials of 5000 samples
** at 1000 Hz starting at -1 s, 4 channels, Morlet at 2..100 Hz, every 10th
** sample).  Also a sparse toi (residues beyond the fold limit, the full
** inverse FFT path) and a superlet on the same grid.  Prints kernel times;
** SPY_BENCH=1 times all 50 trials of d2.
*/
#include <stdint.h>

#include "core/log.h"
#include "test_wavelet_util.h"

static uint64_t rng = 42;

/*
** Syncopy's toi path transforms the section [max(0, start), stop) of each
** trial (start = int(sr (toi[0] - ts)), stop = int(sr (toi[-1] - ts) + 1)),
** after a whole-trial detrend, and picks int(sr (toi - ts) - start) from it.
** The reference: the 'all' path on trials cut to those sections, from data
** demeaned over the whole trial beforehand and with polyremoval None.
*/
static void compare(const char *what, plan_fn plan, const char *all_json, const char *toi_json,
                    tf_input *t, size_t ncmp, const double *toi, size_t ntoi)
{
  double sr = t->trials.samplerate;
  size_t nch = t->nchan, ns = spy_trial_len(&t->trials, 0);
  double *dm = malloc(t->total * nch * sizeof *dm), *trl = malloc(ncmp * 3 * sizeof *trl);
  long *start = malloc(ncmp * sizeof *start);
  for (size_t k = 0; k < ncmp; k++) {
    size_t a0 = (size_t)t->trl[k * 3];
    for (size_t c = 0; c < nch; c++) {
      double mean = 0;
      for (size_t i = 0; i < ns; i++) mean += t->data[(a0 + i) * nch + c];
      mean /= (double)ns;
      for (size_t i = 0; i < ns; i++) dm[(a0 + i) * nch + c] = t->data[(a0 + i) * nch + c] - mean;
    }
    start[k] = (long)(sr * (toi[0] - t->tstart[k]));
    long stop = (long)(sr * (toi[ntoi - 1] - t->tstart[k]) + 1);
    long lo = start[k] > 0 ? start[k] : 0, hi = stop > (long)ns ? (long)ns : stop;
    trl[k * 3] = (double)a0 + (double)lo;
    trl[k * 3 + 1] = (double)a0 + (double)hi;
    trl[k * 3 + 2] = 0;
  }
  tf_input sec;
  tf_input_init(&sec, dm, t->total, nch, trl, ncmp, sr);
  tf_input_foi(&sec, t->c.foi, t->c.nfoi);
  sec.c.polyremoval = -1;

  spy_op all = {0}, sub = {0};
  spy_err err = {0};
  cJSON *ca = tf_cfg(all_json), *cs = tf_cfg(toi_json);
  size_t keep = t->trials.ntrials;
  t->trials.ntrials = ncmp;
  CHECK(plan(ca, &sec.trials, &sec.c, &all, &err) == 0, "%s all: %s", what, err.msg);
  CHECK(plan(cs, &t->trials, &t->c, &sub, &err) == 0, "%s toi: %s", what, err.msg);
  size_t ra, rs;
  double sa, ss;
  double complex *A = tf_run(&all, &sec, &ra, &sa), *S = tf_run(&sub, t, &rs, &ss);
  size_t nf = all.nfreq;
  CHECK(rs == ncmp * ntoi, "%s: %zu rows", what, rs);
  double complex *pick = malloc(rs * nf * nch * sizeof *pick);
  size_t a = 0;
  for (size_t k = 0; k < ncmp; k++) {
    for (size_t i = 0; i < ntoi; i++) {
      long j = (long)(sr * (toi[i] - t->tstart[k]) - (double)start[k]);
      memcpy(pick + (k * ntoi + i) * nf * nch, A + (a + (size_t)j) * nf * nch,
             nf * nch * sizeof *pick);
    }
    a += all.out_rows[k];
  }
  for (size_t c = 0; c < nch; c++) {
    double e = tf_relerr(S, pick, rs, nf, nch, c);
    CHECK(e <= 1e-6, "%s channel %zu: toi path vs 'all' on the section: %g", what, c, e);
  }
  fprintf(stderr, "%s: %zu trials: 'all' kernels %.3f s, toi kernels %.3f s\n", what, ncmp, sa,
          ss);
  CHECK(fabs(sub.samplerate - 1 / (toi[1] - toi[0])) < 1e-9, "%s: samplerate %g", what,
        sub.samplerate);
  CHECK(fabs(sub.out_trldef[2] - toi[0] * sub.samplerate) < 1e-9, "%s: offset %g", what,
        sub.out_trldef[2]);
  t->trials.ntrials = keep;
  free(A);
  free(S);
  free(pick);
  free(dm);
  free(trl);
  free(start);
  tf_input_free(&sec);
  spy_op_free(&all);
  spy_op_free(&sub);
  cJSON_Delete(ca);
  cJSON_Delete(cs);
}

/* numpy.arange(a, b, step) values. */
static size_t arange(double a, double b, double step, double *out)
{
  size_t n = (size_t)ceil((b - a) / step);
  double delta = (a + step) - a;
  for (size_t i = 0; i < n; i++) out[i] = i == 0 ? a : (i == 1 ? a + step : a + (double)i * delta);
  return n;
}

static char *toi_json(const char *head, const double *toi, size_t n)
{
  size_t cap = 64 + strlen(head) + 32 * n, u = 0;
  char *s = malloc(cap);
  u += (size_t)snprintf(s, cap, "{%s, \"toi\": [", head);
  for (size_t i = 0; i < n; i++) u += (size_t)snprintf(s + u, cap - u, "%s%.17g", i ? ", " : "", toi[i]);
  snprintf(s + u, cap - u, "]}");
  return s;
}

int main(void)
{
  const size_t nt = 50, ns = 5000, nch = 4;
  const double sr = 1000;
  double *data = malloc(nt * ns * nch * sizeof *data), *trl = malloc(nt * 3 * sizeof *trl);
  for (size_t i = 0; i < nt * ns * nch; i++) data[i] = (float)tf_gauss(&rng);
  for (size_t k = 0; k < nt; k++) {
    trl[k * 3] = (double)(k * ns);
    trl[k * 3 + 1] = (double)((k + 1) * ns);
    trl[k * 3 + 2] = -sr;
  }
  tf_input t;
  tf_input_init(&t, data, nt * ns, nch, trl, nt, sr);
  double foi[50], toi[600];
  for (int i = 0; i < 50; i++) foi[i] = 2 + 2 * i;
  tf_input_foi(&t, foi, 50);
  size_t ntoi = arange(-1, 4, 0.01, toi);
  if (getenv("SPY_DEBUG")) spy_log_set_level(SPY_LOG_DEBUG);

  const char *head = "\"method\": \"wavelet\", \"width\": 6";
  char *js = toi_json(head, toi, ntoi);
  compare("d2 wavelet", spy_wavelet_plan, "{\"method\": \"wavelet\", \"toi\": \"all\"}", js, &t, 3,
          toi, ntoi);

  /* a sparse toi: 5 points 0.9 s apart fall on many residues */
  double sparse[5];
  size_t nsp = arange(-0.8, 3.7, 0.9, sparse);
  char *jsp = toi_json(head, sparse, nsp);
  compare("sparse toi", spy_wavelet_plan, "{\"method\": \"wavelet\", \"toi\": \"all\"}", jsp, &t,
          2, sparse, nsp);

  /* every other point 1e-9 s early: Syncopy's truncation picks sample
  ** 10 i - 1 there, so the outputs fall on two residues (two folds) */
  double two[500];
  for (size_t i = 0; i < ntoi; i++) two[i] = toi[i] - (i % 2 ? 1e-9 : 0);
  char *jtwo = toi_json(head, two, ntoi);
  compare("two residues", spy_wavelet_plan, "{\"method\": \"wavelet\", \"toi\": \"all\"}", jtwo,
          &t, 2, two, ntoi);
  /* steps of 10.5 samples: two residues of a 21-sample grid */
  double odd[500];
  size_t nodd = arange(-0.9, 3.9, 0.0105, odd);
  char *jodd = toi_json(head, odd, nodd);
  compare("step 10.5", spy_wavelet_plan, "{\"method\": \"wavelet\", \"toi\": \"all\"}", jodd,
          &t, 2, odd, nodd);
  /* steps of 10.3 samples: no short grid, the full inverse FFT */
  double drift[500];
  size_t ndrift = arange(-0.9, 3.9, 0.0103, drift);
  char *jdrift = toi_json(head, drift, ndrift);
  compare("full path", spy_wavelet_plan, "{\"method\": \"wavelet\", \"toi\": \"all\"}",
          jdrift, &t, 2, drift, ndrift);

  double sfoi[20];
  for (int i = 0; i < 20; i++) sfoi[i] = 10 + 5 * i;
  tf_input_foi(&t, sfoi, 20);
  char *jss = toi_json("\"method\": \"superlet\", \"order_max\": 5", toi, ntoi);
  compare("superlet toi", spy_superlet_plan,
          "{\"method\": \"superlet\", \"order_max\": 5, \"toi\": \"all\"}", jss, &t, 2, toi,
          ntoi);

  if (getenv("SPY_BENCH")) {
    spy_fft_cleanup(); /* time planning from scratch */
    spy_log_set_level(SPY_LOG_DEBUG);
    tf_input_foi(&t, foi, 50);
    spy_op op = {0};
    spy_err err = {0};
    cJSON *cfg = tf_cfg(js);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int rc = spy_wavelet_plan(cfg, &t.trials, &t.c, &op, &err);
    clock_gettime(CLOCK_MONOTONIC, &b);
    CHECK(rc == 0, "%s", err.msg);
    size_t rows;
    double secs;
    free(tf_run(&op, &t, &rows, &secs));
    fprintf(stderr, "d2: plan %.3f s, kernels %.3f s (50 trials)\n",
            (double)(b.tv_sec - a.tv_sec) + 1e-9 * (double)(b.tv_nsec - a.tv_nsec), secs);
    spy_op_free(&op);
    cJSON_Delete(cfg);
  }
  free(js);
  free(jsp);
  free(jtwo);
  free(jodd);
  free(jdrift);
  free(jss);
  tf_input_free(&t);
  free(data);
  free(trl);
  spy_fft_cleanup();
  return t_done();
}
