#include "dsp/fft.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/lazy.h"

typedef struct entry {
  spy_fft_geom g;
  fftw_plan plan;
  struct entry *next;
} entry;

static pthread_mutex_t planner = PTHREAD_MUTEX_INITIALIZER;
static entry *cache;

static bool same(const spy_fft_geom *a, const spy_fft_geom *b)
{
  return a->kind == b->kind && a->n == b->n && a->howmany == b->howmany &&
         a->istride == b->istride && a->idist == b->idist && a->ostride == b->ostride &&
         a->odist == b->odist && a->inplace == b->inplace;
}

/* FFTW_ESTIMATE by default: measured plans cost more planning time (0.1-0.7 s
** per new geometry) than they save on the transforms of a typical call
** (measured: within ~10% for mtmfft, none for the wavelet banks), and
** estimated plans are reproducible run to run.  SPY_FFTW_PLANNER=measure or
** =patient asks for more. */
static unsigned rigor(void)
{
  const char *e = getenv("SPY_FFTW_PLANNER");
  if (e && strcmp(e, "measure") == 0) return FFTW_MEASURE;
  if (e && strcmp(e, "patient") == 0) return FFTW_PATIENT;
  return FFTW_ESTIMATE;
}

/* Size in elements of one side of a transform, for the scratch arrays used
** while planning. */
static size_t span(int n, int howmany, int stride, int dist)
{
  return (size_t)(n - 1) * (size_t)stride + (size_t)(howmany - 1) * (size_t)dist + 1;
}

static fftw_plan make(const spy_fft_geom *g, bool quick, spy_err *err)
{
  if (spy_lazy_need(&spy_lazy_fftw, "the FFT", err) != SPY_OK) return NULL;
  int n = g->n, nc = n / 2 + 1;
  int nin = (g->kind == SPY_FFT_C2R) ? nc : (g->kind == SPY_FFT_R2C ? n : n);
  int nout = (g->kind == SPY_FFT_R2C) ? nc : n;
  size_t esin = (g->kind == SPY_FFT_R2C) ? sizeof(double) : sizeof(fftw_complex);
  size_t esout = (g->kind == SPY_FFT_C2R) ? sizeof(double) : sizeof(fftw_complex);
  size_t inbytes = span(nin, g->howmany, g->istride, g->idist) * esin;
  size_t outbytes = span(nout, g->howmany, g->ostride, g->odist) * esout;
  size_t bytes = inbytes > outbytes ? inbytes : outbytes;
  void *in = fftw_malloc(bytes), *out = g->inplace ? in : fftw_malloc(bytes);
  fftw_plan p = NULL;
  if (!in || !out) {
    spy_fail(err, SPY_ENOMEM, "out of memory planning an FFT of length %d", n);
    goto done;
  }
  unsigned flags = quick ? FFTW_ESTIMATE : rigor();
  fftw_set_timelimit(2.0);
  switch (g->kind) {
  case SPY_FFT_R2C:
    p = fftw_plan_many_dft_r2c(1, &n, g->howmany, in, NULL, g->istride, g->idist, out, NULL,
                               g->ostride, g->odist, flags);
    break;
  case SPY_FFT_C2R:
    p = fftw_plan_many_dft_c2r(1, &n, g->howmany, in, NULL, g->istride, g->idist, out, NULL,
                               g->ostride, g->odist, flags);
    break;
  case SPY_FFT_FORWARD:
  case SPY_FFT_BACKWARD:
    p = fftw_plan_many_dft(1, &n, g->howmany, in, NULL, g->istride, g->idist, out, NULL,
                           g->ostride, g->odist,
                           g->kind == SPY_FFT_FORWARD ? FFTW_FORWARD : FFTW_BACKWARD, flags);
    break;
  }
  if (!p)
    spy_fail(err, SPY_ERUNTIME, "FFTW cannot plan a transform of length %d (x%d)", n, g->howmany);
done:
  fftw_free(in);
  if (out != in) fftw_free(out);
  return p;
}

static fftw_plan get(const spy_fft_geom *g, bool quick, spy_err *err)
{
  if (g->n < 1 || g->howmany < 1) {
    spy_fail(err, SPY_EINVAL, "FFT length and count must be positive (n=%d, howmany=%d)", g->n,
             g->howmany);
    return NULL;
  }
  pthread_mutex_lock(&planner);
  for (entry *e = cache; e; e = e->next)
    if (same(&e->g, g)) {
      fftw_plan p = e->plan;
      pthread_mutex_unlock(&planner);
      return p;
    }
  fftw_plan p = make(g, quick, err);
  if (p) {
    entry *e = malloc(sizeof *e);
    if (e) {
      e->g = *g;
      e->plan = p;
      e->next = cache;
      cache = e;
    } else {
      fftw_destroy_plan(p);
      p = NULL;
      spy_fail(err, SPY_ENOMEM, "out of memory");
    }
  }
  pthread_mutex_unlock(&planner);
  return p;
}

fftw_plan spy_fft_plan(const spy_fft_geom *g, spy_err *err) { return get(g, false, err); }

fftw_plan spy_fft_plan_quick(const spy_fft_geom *g, spy_err *err) { return get(g, true, err); }

fftw_plan spy_fft_plan_simple(spy_fft_kind kind, int n, int howmany, spy_err *err)
{
  spy_fft_geom g = {kind, n, howmany, 1, 0, 1, 0, false};
  int nc = n / 2 + 1;
  switch (kind) {
  case SPY_FFT_R2C: g.idist = n; g.odist = nc; break;
  case SPY_FFT_C2R: g.idist = nc; g.odist = n; break;
  default: g.idist = n; g.odist = n; break;
  }
  return spy_fft_plan(&g, err);
}

void *spy_fft_alloc(size_t nbytes)
{
  void *p = fftw_malloc(nbytes ? nbytes : 1);
  if (p) memset(p, 0, nbytes);
  return p;
}

void spy_fft_free(void *p) { fftw_free(p); }

size_t spy_fft_good_size(size_t n)
{
  if (n <= 1) return 1;
  for (size_t m = n;; m++) {
    size_t r = m;
    static const size_t primes[] = {2, 3, 5, 7};
    for (int i = 0; i < 4; i++)
      while (r % primes[i] == 0) r /= primes[i];
    if (r == 1) return m;
  }
}

void spy_fft_cleanup(void)
{
  pthread_mutex_lock(&planner);
  while (cache) {
    entry *e = cache;
    cache = e->next;
    fftw_destroy_plan(e->plan);
    free(e);
  }
  fftw_cleanup();
  pthread_mutex_unlock(&planner);
}
