/*
** The floors the end-to-end benchmark is measured against, in the same run
** (scripts/bench): raw FFTW executing the transforms each case needs, from
** cached plans on hot, aligned buffers, one thread, no I/O, no tapering;
** and memory bandwidth (a large memcpy).  Prints "floor <case> <seconds>"
** and "bandwidth <GB/s>".  Asserts nothing.
** Case a is floored end to end: "floor a" is the FFT floor plus the I/O
** floor (reading its float32 input from a file in the page cache and
** writing its float32 output to a new file), each printed on its own as
** "floor a_fft" and "floor a_io".  c_firws likewise: "floor c_firws_fft"
** the overlap-save FFT convolution alone (the fastest block length among
** those spy chooses from; "floor c_firws_fft_pow2": powers of two only) with
** the combined kernel of its two passes ("floor c_firws_1001": one pass),
** "floor c_firws_io" reading and writing its float32 samples, "floor
** c_firws" their sum (`bench_floor c_firws` prints only c_firws_fft,
** c_firws_io and c_firws, for runs paired with spy's call).  stat_mean:
** reading its 640 MB of float32 (8 MB pieces: "floor stat_mean_io") and
** that plus the sums ("floor stat_mean").
*/
#include <fftw3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/progress.h"
#include "dsp/fft.h"

/* Best of `reps` times of `count` executions of (n, howmany) r2c transforms. */
static double r2c(int n, int howmany, size_t count, int reps)
{
  spy_err err = {0};
  fftw_plan p = spy_fft_plan_simple(SPY_FFT_R2C, n, howmany, &err);
  double *in = spy_fft_alloc((size_t)n * (size_t)howmany * sizeof *in);
  fftw_complex *out = spy_fft_alloc((size_t)(n / 2 + 1) * (size_t)howmany * sizeof *out);
  for (int i = 0; i < n * howmany; i++) in[i] = (double)((i * 7919) % 1000) / 1000.0;
  double best = 1e30;
  for (int r = 0; r < reps; r++) {
    double t0 = spy_now();
    for (size_t c = 0; c < count; c++) fftw_execute_dft_r2c(p, in, out);
    double dt = spy_now() - t0;
    if (dt < best) best = dt;
  }
  spy_fft_free(in);
  spy_fft_free(out);
  return best;
}

/* c2c transforms of length n, `count` times (wavelet inverse transforms). */
static double c2c(int n, size_t count, int reps)
{
  spy_err err = {0};
  fftw_plan p = spy_fft_plan_simple(SPY_FFT_BACKWARD, n, 1, &err);
  fftw_complex *in = spy_fft_alloc((size_t)n * sizeof *in), *out = spy_fft_alloc((size_t)n * sizeof *out);
  double best = 1e30;
  for (int r = 0; r < reps; r++) {
    double t0 = spy_now();
    for (size_t c = 0; c < count; c++) fftw_execute_dft(p, in, out);
    double dt = spy_now() - t0;
    if (dt < best) best = dt;
  }
  spy_fft_free(in);
  spy_fft_free(out);
  return best;
}

/* Best of `reps` times of reading nin bytes from a cached file and writing
** nout bytes to a new one, in 8 MB pieces (the files are unlinked at once). */
static double io(size_t nin, size_t nout, int reps)
{
  const char *dir = getenv("TMPDIR");
  char pin[4096], pout[4096];
  snprintf(pin, sizeof pin, "%s/spy-floor-in-XXXXXX", dir && *dir ? dir : "/tmp");
  snprintf(pout, sizeof pout, "%s/spy-floor-out-XXXXXX", dir && *dir ? dir : "/tmp");
  int fin = mkstemp(pin), fout = mkstemp(pout);
  if (fin < 0 || fout < 0) return -1;
  unlink(pin);
  unlink(pout);
  const size_t piece = (size_t)8 << 20;
  char *buf = malloc(piece);
  memset(buf, 3, piece);
  double best = 1e30;
  for (size_t o = 0; o < nin; o += piece)
    if (pwrite(fin, buf, nin - o < piece ? nin - o : piece, (off_t)o) < 0) best = -1;
  for (int r = 0; r < reps && best > 0; r++) {
    if (ftruncate(fout, 0)) best = -1;
    double t0 = spy_now();
    for (size_t o = 0; o < nin; o += piece)
      if (pread(fin, buf, nin - o < piece ? nin - o : piece, (off_t)o) < 0) best = -1;
    for (size_t o = 0; o < nout; o += piece)
      if (pwrite(fout, buf, nout - o < piece ? nout - o : piece, (off_t)o) < 0) best = -1;
    double dt = spy_now() - t0;
    if (dt < best && best > 0) best = dt;
  }
  free(buf);
  close(fin);
  close(fout);
  return best;
}

/* Best of `reps` times of reading ntr trials of n float32 values, one
** trial per pread, from a file in the page cache, adding each into n
** double sums in trial order. */
static double meanfloor(size_t ntr, size_t n, int reps)
{
  const char *dir = getenv("TMPDIR");
  char path[4096];
  snprintf(path, sizeof path, "%s/spy-floor-mean-XXXXXX", dir && *dir ? dir : "/tmp");
  int fd = mkstemp(path);
  if (fd < 0) return -1;
  unlink(path);
  float *x = malloc(n * sizeof *x);
  double *sum = malloc(n * sizeof *sum), best = 1e30;
  for (size_t i = 0; i < n; i++) x[i] = (float)i;
  for (size_t k = 0; k < ntr; k++)
    if (pwrite(fd, x, n * sizeof *x, (off_t)(k * n * sizeof *x)) < 0) best = -1;
  for (int r = 0; r < reps && best > 0; r++) {
    memset(sum, 0, n * sizeof *sum);
    double t0 = spy_now();
    for (size_t k = 0; k < ntr; k++) {
      if (pread(fd, x, n * sizeof *x, (off_t)(k * n * sizeof *x)) < 0) best = -1;
      for (size_t i = 0; i < n; i++) sum[i] += x[i];
    }
    double dt = spy_now() - t0;
    if (dt < best && best > 0) best = dt;
  }
  if (sum[n - 1] != (double)ntr * (double)(n - 1)) best = -1; /* the sums are used */
  free(x);
  free(sum);
  close(fd);
  return best;
}

/* Overlap-save 'same' convolution of `lanes` signals of n samples with an
** m-tap kernel, raw FFTW: per block a copy in, r2c, the spectrum product,
** c2r (no zero padding, no copy out); best of `reps`, and the fastest block
** length from 2048 to 32768: powers of two only (pow2), or also 5 * 2^k
** and 25 * 2^k, the lengths spy's FIR chooses from (src/dsp/fir.c). */
static double firconv(size_t lanes, size_t n, size_t m, int reps, bool pow2)
{
  double best = 1e30;
  double *x = malloc(n * sizeof *x);
  for (size_t i = 0; i < n; i++) x[i] = (double)((i * 7919) % 1000) / 1000.0;
  static const int lens[] = {2048, 2560, 3200, 4096, 5120, 6400, 8192, 10240, 12800,
                             16384, 20480, 25600, 32768};
  for (size_t li = 0; li < sizeof lens / sizeof *lens; li++) {
    int L = lens[li];
    if ((size_t)L <= m || (pow2 && (L & (L - 1)))) continue;
    size_t B = (size_t)L - m + 1, nb = (n + B - 1) / B;
    spy_err err = {0};
    fftw_plan f = spy_fft_plan_simple(SPY_FFT_R2C, L, 1, &err);
    fftw_plan b = spy_fft_plan_simple(SPY_FFT_C2R, L, 1, &err);
    double *r = spy_fft_alloc((size_t)L * sizeof *r), *H = spy_fft_alloc((size_t)(L + 2) * sizeof *H);
    fftw_complex *X = spy_fft_alloc((size_t)(L / 2 + 1) * sizeof *X);
    for (int i = 0; i < L + 2; i++) H[i] = 1.0 / (i + 1);
    for (int rep = 0; rep < reps; rep++) {
      double t0 = spy_now();
      for (size_t l = 0; l < lanes; l++)
        for (size_t k = 0; k < nb; k++) {
          size_t o = k * B, cnt = n - o < (size_t)L ? n - o : (size_t)L;
          memcpy(r, x + o, cnt * sizeof *r);
          fftw_execute_dft_r2c(f, r, X);
          for (int i = 0; i <= L / 2; i++) {
            double a = X[i][0], c = X[i][1];
            X[i][0] = a * H[2 * i] - c * H[2 * i + 1];
            X[i][1] = a * H[2 * i + 1] + c * H[2 * i];
          }
          fftw_execute_dft_c2r(b, X, r);
        }
      double dt = spy_now() - t0;
      if (dt < best) best = dt;
    }
    spy_fft_free(r);
    spy_fft_free(H);
    spy_fft_free(X);
  }
  free(x);
  return best;
}

/* c_firws: 100 trials x 10 channels of 10000 samples.  c_firws is
** Syncopy's default twopass: 'same' twice with 1001 taps, at least one
** convolution with the combined kernel of 2001 taps */
static void firws_floors(bool all)
{
  double ff = firconv(100 * 10, 10000, 2001, 3, false), fi = io((size_t)100 * 10000 * 10 * 4, (size_t)100 * 10000 * 10 * 4, 5);
  if (all) {
    printf("floor c_firws_1001 %.6f\n", firconv(100 * 10, 10000, 1001, 3, false));
    printf("floor c_firws_fft_pow2 %.6f\n", firconv(100 * 10, 10000, 2001, 3, true));
  }
  printf("floor c_firws_fft %.6f\n", ff);
  printf("floor c_firws_io %.6f\n", fi);
  printf("floor c_firws %.6f\n", ff + fi);
}

/* With the argument c_firws, only that case's floors c_firws_fft,
** c_firws_io and c_firws (for paired runs against spy's call, interleaved
** in one loop). */
int main(int argc, char **argv)
{
  if (argc > 1 && strcmp(argv[1], "c_firws") == 0) {
    firws_floors(false);
    return 0;
  }
  /* a: 500 trials x 32 channels, one r2c of 1000 samples each; end to end
  ** it reads 500 x 1000 x 32 float32 and writes 500 x 501 x 32 float32 */
  double fa = r2c(1000, 32, 500, 5), ia = io((size_t)500 * 1000 * 32 * 4, (size_t)500 * 501 * 32 * 4, 5);
  printf("floor a_fft %.6f\n", fa);
  printf("floor a_io %.6f\n", ia);
  printf("floor a %.6f\n", fa + ia);
  /* b: the same with 19 DPSS tapers */
  printf("floor b %.6f\n", r2c(1000, 32, 500 * 19, 3));
  /* d1: 50 trials x 4 channels x 20 windows of 500 samples (toi=0.5: step 250) */
  printf("floor d1 %.6f\n", r2c(500, 4, 50 * 20, 5));
  /* d2: per trial and channel one forward transform of the padded signal
  ** (5000 + the longest Morlet kernel at 2 Hz, ~4840 samples) and 50
  ** inverse transforms at the output's decimated length (every 10th sample) */
  int nfull = (int)spy_fft_good_size(5000 + 4840), ndec = (int)spy_fft_good_size(500 + 484);
  printf("floor d2 %.6f\n", r2c(nfull, 4, 50, 5) + c2c(ndec, 50 * 4 * 50, 5));

  firws_floors(true);

  /* stat_mean: the mean over 5000 trials of 1000 x 32 float32 (640 MB)
  ** reads every byte once; "floor stat_mean_io" reads them from a file in
  ** the page cache (8 MB pieces), "floor stat_mean" reads a trial at a
  ** time (128 KB) and adds its floats into double sums straight from the
  ** read buffer (no widened copy, no NaN check): the least any
  ** implementation reading the file does, on one thread */
  printf("floor stat_mean_io %.6f\n", io((size_t)5000 * 1000 * 32 * 4, 0, 3));
  printf("floor stat_mean %.6f\n", meanfloor(5000, (size_t)1000 * 32, 3));

  /* memory bandwidth: copy 512 MB */
  size_t n = (size_t)512 << 20;
  char *a = malloc(n), *b = malloc(n);
  memset(a, 1, n);
  memset(b, 2, n);
  double best = 1e30;
  for (int r = 0; r < 3; r++) {
    double t0 = spy_now();
    memcpy(b, a, n);
    double dt = spy_now() - t0;
    if (dt < best) best = dt;
  }
  printf("bandwidth %.2f\n", 2.0 * (double)n / best / 1e9); /* read + write */
  free(a);
  free(b);
  return 0;
}
