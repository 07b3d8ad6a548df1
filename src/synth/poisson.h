/*
** spy.synthdata.poisson_noise: Syncopy's synthetic SpikeData (syncopy.md
** 13.2), drawn with the same NumPy algorithms in the same order as
** Syncopy's generator, so a seed gives the same spikes bit for bit:
**   - spike samples: Generator.choice(T, nSpikes, replace=False) (NumPy's
**     tail shuffle for large populations, Floyd's algorithm plus a shuffle
**     for small ones), sorted;
**   - channels and units: Generator.choice(n, p=w) (searchsorted of
**     uniforms in the normalised cumulative weights), with the weights from a
**     fresh generator of the same seed;
**   - trial shortening and offsets: Generator.integers.
** The tail shuffle keeps only the touched entries (a hash map), so memory
** is O(nSpikes), not O(nSpikes / intensity).
**
** spy_poisson_noise allocates *rows (nSpikes x 3: sample, channel, unit)
** and *trl (ntrials x 3); the caller frees both.
*/
#ifndef SPY_POISSON_H
#define SPY_POISSON_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

typedef struct spy_poisson_cfg {
  int64_t ntrials, nspikes, nchannels, nunits;
  double intensity, samplerate;
  bool seeded;
  uint64_t seed;
} spy_poisson_cfg;

int spy_poisson_noise(const spy_poisson_cfg *c, int64_t **rows, double **trl, size_t *ntrials,
                      spy_err *err);

#endif
