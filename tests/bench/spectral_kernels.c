/*
** Times the freqanalysis kernels alone (plan excluded, one thread) on the
** issue's benchmark cases and the raw FFTW floor: the same number of r2c
** transforms of the same length, run by a cached plan of the kernel's
** batch geometry on buffers of the same size.  Prints the ratio; asserts
** nothing.  Usage: bench_spectral_kernels [a|b|d1 ...]
*/
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dsp/mtmfft.h"
#include "fa_util.h"

static double now(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct bcase {
  const char *name, *json;
  size_t ntr, nsamp, nchan;
  size_t fft_n, fft_rows, fft_per_trial; /* the floor: executions of (n, rows) per trial */
  double fft_scale;                      /* transforms needed / transforms executed */
  double syncopy_s;
} bcase;

static void run(const bcase *b)
{
  size_t *lens = malloc(b->ntr * sizeof *lens);
  for (size_t k = 0; k < b->ntr; k++)
    lens[k] = b->nsamp;
  fa_data d;
  fa_data_init(&d, b->ntr, lens, NULL, b->nchan, 1000);
  unsigned long long s = 42;
  for (size_t i = 0; i < d.total * b->nchan; i++) { /* uniform noise, cheap to make */
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    d.x[i] = (double)(s >> 11) / 9007199254740992.0 - 0.5;
  }

  spy_err err = {0};
  spy_op op;
  double t0 = now();
  if (fa_plan(b->json, &d.t, &op, &err)) {
    printf("%s: plan failed: %s\n", b->name, err.msg);
    return;
  }
  double tplan = now() - t0;
  size_t sb = op.scratch_bytes(op.plan, b->nsamp, b->nchan);
  size_t outn = op.out_rows[0] * spy_op_row_elems(&op) * b->nchan * 8;
  void *scratch = spy_fft_alloc(sb), *out = spy_fft_alloc(outn);

  fftw_plan fp = spy_mtm_fftplan(b->fft_n, b->fft_rows, &err);
  size_t nin = b->fft_n * b->fft_rows, nout = (b->fft_n / 2 + 1) * b->fft_rows;
  double *in = spy_fft_alloc(nin * sizeof *in);
  fftw_complex *fo = spy_fft_alloc(nout * sizeof *fo);
  for (size_t i = 0; i < nin; i++)
    in[i] = fa_randn(&s);

  /* kernels and floor alternate, the best of each counts (the machine is shared) */
  const char *reps = getenv("BENCH_REPS");
  int nrep = reps ? atoi(reps) : 7;
  double best = 1e30, hot = 1e30, floor_ = 1e30;
  size_t tn = b->nsamp * b->nchan;
  double *buf = spy_fft_alloc(tn * sizeof *buf);
  for (int rep = 0; rep < nrep; rep++) {
    /* cold: each trial straight from the big input array */
    t0 = now();
    for (size_t k = 0; k < b->ntr; k++) {
      spy_task task = {k, 0, b->nchan, d.x + k * tn, b->nsamp, out, op.out_rows[k], scratch, 0};
      if (op.kernel(op.plan, &task, &err)) {
        printf("%s: kernel failed: %s\n", b->name, err.msg);
        return;
      }
    }
    double t = now() - t0;
    if (t < best) best = t;
    /* warm: as the scheduler hands it over, just read into a task buffer */
    t = 0;
    for (size_t k = 0; k < b->ntr; k++) {
      memcpy(buf, d.x + k * tn, tn * sizeof *buf);
      spy_task task = {k, 0, b->nchan, buf, b->nsamp, out, op.out_rows[k], scratch, 0};
      t0 = now();
      op.kernel(op.plan, &task, &err);
      t += now() - t0;
    }
    if (t < hot) hot = t;
    t0 = now();
    for (size_t k = 0; k < b->ntr * b->fft_per_trial; k++)
      fftw_execute_dft_r2c(fp, in, fo);
    t = (now() - t0) * b->fft_scale;
    if (t < floor_) floor_ = t;
  }
  printf(
      "%-3s %-70s\n    plan %.3f s | kernels %.4f s (input in cache: %.4f s, ratio %.2f) | FFTW "
      "floor %.4f s (%zu x r2c(%zu) x %zu "
      "per trial, x %.3g) | kernel/floor %.2f | Syncopy %.2f s -> %.0fx (kernels + plan: %.0fx)\n",
      b->name, b->json, tplan, best, hot, hot / floor_, floor_, b->fft_rows, b->fft_n,
      b->fft_per_trial, b->fft_scale, best / floor_, b->syncopy_s, b->syncopy_s / best,
      b->syncopy_s / (best + tplan));
  spy_fft_free(in);
  spy_fft_free(fo);
  spy_fft_free(scratch);
  spy_fft_free(buf);
  spy_fft_free(out);
  spy_op_free(&op);
  fa_data_free(&d);
  free(lens);
}

int main(int argc, char **argv)
{
  /* case b: NW = 10 * 1000 / 1000 = 10, K = 19 tapers x 32 channels, in
  ** blocks of spy_mtm_block(19, ...) tapers */
  size_t kb = spy_mtm_block(19, 32 * (1000 * 8 + 501 * 16), (size_t)2 << 20);
  bcase cases[] = {
      {"a", "{}", 500, 1000, 32, 1000, 32, 1, 1.0, 0.66},
      {"b", "{\"foilim\": [1, 150], \"tapsmofrq\": 10}", 500, 1000, 32, 1000, kb * 32,
       (19 + kb - 1) / kb, 19.0 / (double)(kb * ((19 + kb - 1) / kb)), 6.85},
      {"d1",
       "{\"method\": \"mtmconvol\", \"t_ftimwin\": 0.5, \"toi\": 0.5, \"foilim\": [1, 150], "
       "\"taper\": \"hann\"}",
       50, 5000, 4, 500, 20 * 4, 1, 1.0, 0.07},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    bool want = argc < 2;
    for (int a = 1; a < argc; a++)
      want |= !strcmp(argv[a], cases[i].name);
    if (want) run(&cases[i]);
  }
  spy_fft_cleanup();
  return 0;
}
