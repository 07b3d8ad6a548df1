#include "synth/poisson.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/npsum.h"
#include "synth/rng.h"

/* default_rng(seed).uniform(size=n) normalised to sum 1, as a cumulative
** distribution (p.cumsum(); cdf /= cdf[-1]). */
static void weights_cdf(size_t n, const spy_rng *fresh, double *cdf)
{
  spy_rng r = *fresh;
  for (size_t i = 0; i < n; i++) cdf[i] = spy_rng_uniform(&r);
  double s = spy_np_sum(cdf, n);
  double acc = 0;
  for (size_t i = 0; i < n; i++) {
    acc += cdf[i] / s;
    cdf[i] = acc;
  }
  double last = cdf[n - 1];
  for (size_t i = 0; i < n; i++) cdf[i] /= last;
}

/* searchsorted(cdf, u, side="right") */
static int64_t pick(const double *cdf, size_t n, double u)
{
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (cdf[mid] <= u) lo = mid + 1;
    else hi = mid;
  }
  return (int64_t)lo;
}

/* Open-addressing map position -> value for the untouched-is-identity
** array of NumPy's tail shuffle. */
typedef struct {
  uint64_t *key;
  int64_t *val;
  size_t mask;
} posmap;

static int64_t *slot(posmap *m, uint64_t k, bool *found)
{
  size_t h = (size_t)((k * 0x9E3779B97F4A7C15ULL) >> 17) & m->mask;
  while (m->key[h] != UINT64_MAX && m->key[h] != k) h = (h + 1) & m->mask;
  *found = m->key[h] == k;
  m->key[h] = k;
  return &m->val[h];
}

static int cmp_i64(const void *a, const void *b)
{
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

/* Generator.choice(pop, size, replace=False) (shuffle=True), values into out. */
static int choice_noreplace(spy_rng *r, uint64_t pop, uint64_t size, int64_t *out, spy_err *err)
{
  if (pop > 10000 && size > pop / 50) {
    /* tail shuffle of arange(pop); keep the last `size` entries */
    uint64_t first = pop - size > 1 ? pop - size : 1;
    size_t cap = 16;
    while (cap < 2 * size) cap <<= 1; /* at most `size` entries: load <= 1/2 */
    posmap m = {malloc(cap * sizeof(uint64_t)), malloc(cap * sizeof(int64_t)), cap - 1};
    int64_t *dense = malloc((pop - first) * sizeof *dense); /* positions first..pop-1 */
    if (!m.key || !m.val || !dense) {
      free(m.key), free(m.val), free(dense);
      return spy_fail(err, SPY_ENOMEM, "out of memory");
    }
    memset(m.key, 0xff, cap * sizeof(uint64_t));
    for (uint64_t i = first; i < pop; i++) dense[i - first] = (int64_t)i;
    for (uint64_t i = pop - 1; i >= first; i--) {
      uint64_t j = spy_rng_below(r, i + 1);
      int64_t *pj;
      bool found = true;
      if (j >= first) pj = &dense[j - first];
      else {
        pj = slot(&m, j, &found);
        if (!found) *pj = (int64_t)j;
      }
      int64_t t = *pj;
      *pj = dense[i - first];
      dense[i - first] = t;
      if (i == first) break;
    }
    memcpy(out, dense + (pop - first - size), size * sizeof *out);
    free(m.key), free(m.val), free(dense);
    return SPY_OK;
  }
  /* Floyd's algorithm with a hash set, then a shuffle */
  uint64_t set_size = (uint64_t)(1.2 * (double)size), mask = 0;
  while (mask < set_size) mask = (mask << 1) | 1;
  uint64_t *hs = malloc((mask + 1) * sizeof *hs);
  if (!hs) return spy_fail(err, SPY_ENOMEM, "out of memory");
  memset(hs, 0xff, (mask + 1) * sizeof *hs);
  for (uint64_t j = pop - size; j < pop; j++) {
    uint64_t val = spy_rng_below(r, j + 1), loc = val & mask;
    while (hs[loc] != UINT64_MAX && hs[loc] != val) loc = (loc + 1) & mask;
    if (hs[loc] == UINT64_MAX) {
      hs[loc] = val;
      out[j - pop + size] = (int64_t)val;
    } else {
      loc = j & mask;
      while (hs[loc] != UINT64_MAX) loc = (loc + 1) & mask;
      hs[loc] = j;
      out[j - pop + size] = (int64_t)j;
    }
  }
  free(hs);
  for (uint64_t i = size; i-- > 1;) {
    uint64_t j = spy_rng_below(r, i + 1);
    int64_t t = out[j];
    out[j] = out[i];
    out[i] = t;
  }
  return SPY_OK;
}

int spy_poisson_noise(const spy_poisson_cfg *c, int64_t **rows, double **trl, size_t *ntrials,
                      spy_err *err)
{
  *rows = NULL;
  *trl = NULL;
  *ntrials = 0;
  if (c->ntrials < 1) return spy_fail_value(err, "nTrials", NULL, "an integer >= 1");
  if (c->nspikes < 1) return spy_fail_value(err, "nSpikes", NULL, "an integer >= 1");
  if (c->nchannels < 1) return spy_fail_value(err, "nChannels", NULL, "an integer >= 1");
  if (c->nunits < 1) return spy_fail_value(err, "nUnits", NULL, "an integer >= 1");
  if (!(c->intensity > 0) || !isfinite(c->intensity))
    return spy_fail_value(err, "intensity", NULL, "a positive finite number");
  if (!(c->samplerate >= 1) || !isfinite(c->samplerate))
    return spy_fail_value(err, "samplerate", NULL, "value to be greater or equals 1");
  double tmax_d = (double)c->nspikes / c->intensity;
  if (!(tmax_d < 9.0e15)) return spy_fail_value(err, "intensity", NULL, "nSpikes / intensity below 2^53");
  uint64_t tmax = (uint64_t)tmax_d, n = (uint64_t)c->nspikes, nt = (uint64_t)c->ntrials;
  if (n > tmax)
    return spy_fail(err, SPY_EINVAL, "Cannot take a larger sample than population when 'replace=False' "
                                     "(nSpikes = %llu > nSpikes / intensity = %llu; expected intensity <= 1)",
                    (unsigned long long)n, (unsigned long long)tmax);
  uint64_t step = tmax / nt;
  if (step == 0 || tmax / step != nt || step / 10 == 0)
    return spy_fail_value(err, "nTrials", NULL,
                          "nTrials that divides nSpikes / intensity = %llu into trials of at least 10 samples "
                          "(and no remainder trial)",
                          (unsigned long long)tmax);
  spy_rng r, fresh;
  if (c->seeded) spy_rng_seed(&r, c->seed);
  else if (spy_rng_seed_entropy(&r)) return spy_fail(err, SPY_ERUNTIME, "no OS entropy for an unseeded generator");
  fresh = r; /* a second default_rng(seed): the state right after seeding */
  if (!c->seeded && spy_rng_seed_entropy(&fresh)) return spy_fail(err, SPY_ERUNTIME, "no OS entropy");
  /* every spike is in memory (sorted before writing): 4 int64 each.  Beyond
  ** the machine's memory the attempt would abort under the sanitizers or
  ** thrash with overcommit; refuse it by name instead */
  long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
  double phys = pages > 0 && psize > 0 ? (double)pages * (double)psize : INFINITY;
  if ((double)n * 4 * sizeof(int64_t) > phys)
    return spy_fail_value(err, "nSpikes", NULL,
                          "at most %.0f spikes (the generator holds all of them in memory: %.0f "
                          "bytes each, %.1f GB on this machine)",
                          floor(phys / (4 * sizeof(int64_t))), (double)(4 * sizeof(int64_t)),
                          phys / 1e9);
  int64_t *samp = malloc(n * sizeof *samp), *out = malloc(3 * n * sizeof *out);
  size_t ncw = (size_t)(c->nchannels > c->nunits ? c->nchannels : c->nunits);
  double *cdf = malloc(ncw * sizeof *cdf), *t = malloc(3 * nt * sizeof *t);
  int rc = samp && out && cdf && t ? SPY_OK : spy_fail(err, SPY_ENOMEM, "out of memory");
  if (!rc) rc = choice_noreplace(&r, tmax, n, samp, err);
  if (!rc) {
    qsort(samp, n, sizeof *samp, cmp_i64);
    for (uint64_t i = 0; i < n; i++) out[3 * i] = samp[i];
    weights_cdf((size_t)c->nchannels, &fresh, cdf);
    for (uint64_t i = 0; i < n; i++) out[3 * i + 1] = pick(cdf, (size_t)c->nchannels, spy_rng_uniform(&r));
    spy_rng fresh2 = c->seeded ? fresh : r;
    if (!c->seeded && spy_rng_seed_entropy(&fresh2)) rc = spy_fail(err, SPY_ERUNTIME, "no OS entropy");
    weights_cdf((size_t)c->nunits, &fresh2, cdf);
    for (uint64_t i = 0; i < n; i++) out[3 * i + 2] = pick(cdf, (size_t)c->nunits, spy_rng_uniform(&r));
  }
  if (!rc) {
    int64_t shortest = INT64_MAX;
    for (uint64_t k = 0; k < nt; k++) {
      int64_t start = (int64_t)(k * step), end = (int64_t)((k + 1) * step) - 1;
      if (k + 1 < nt) end -= (int64_t)spy_rng_below(&r, step / 10);
      t[3 * k] = (double)start;
      t[3 * k + 1] = (double)end;
      if (end - start < shortest) shortest = end - start;
    }
    /* np.arange(0.05 * s, 0.2 * s, dtype=int): int(0.05 s) + i, ceil(0.15 s) values */
    double a = 0.05 * (double)shortest, b = 0.2 * (double)shortest;
    uint64_t pop = (uint64_t)ceil(b - a);
    if (pop == 0) rc = spy_fail_value(err, "nSpikes", NULL, "trials long enough for random offsets");
    for (uint64_t k = 0; !rc && k < nt; k++)
      t[3 * k + 2] = -(double)((int64_t)a + (int64_t)spy_rng_below(&r, pop));
  }
  free(samp);
  free(cdf);
  if (rc) {
    free(out);
    free(t);
    return rc;
  }
  *rows = out;
  *trl = t;
  *ntrials = (size_t)nt;
  return SPY_OK;
}
