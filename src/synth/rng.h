/*
** The seeded random generator of spy.synthdata: NumPy's default_rng, ported.
**
** Syncopy draws every synthetic number from numpy.random.default_rng(seed),
** so spy uses the same algorithms, and seeded output is the same stream of
** numbers as NumPy's (tested against NumPy 1.24 outputs):
**   - bit generator: PCG64 (O'Neill's PCG XSL-RR 128/64: a 128-bit LCG with
**     NumPy's default multiplier and increment, output = rotr64(hi ^ lo,
**     state >> 122)), seeded from a SeedSequence;
**   - SeedSequence: NumPy's entropy pool (4 x 32-bit words, hashmix/mix) and
**     its state generation (generate_state(4, uint64) feeds PCG64's 128-bit
**     state and increment), so seeds 0, 1, 2, ... give unrelated streams;
**   - uniform doubles in [0, 1): the top 53 bits of one 64-bit draw / 2^53;
**   - standard normals: the 256-layer ziggurat of Marsaglia & Tsang in
**     NumPy's variant (52-bit magnitude, one 64-bit draw per accepted
**     sample in ~99% of cases; exact: the rejection steps make the output
**     exactly Gaussian), tables computed here at first use;
**   - bounded integers: Lemire's multiply-and-reject (no modulo bias), on
**     buffered 32-bit halves of the 64-bit draws when the range fits 32 bits,
**     as Generator.integers does.
**
** A spy_rng is a plain value (no allocation): copy it, put it on the stack,
** give each thread its own.  Nothing here is shared between generators
** except the ziggurat tables, which are made once under pthread_once.
*/
#ifndef SPY_RNG_H
#define SPY_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct spy_rng {
  uint64_t state_hi, state_lo; /* 128-bit LCG state */
  uint64_t inc_hi, inc_lo;     /* 128-bit odd increment (the stream) */
  uint32_t buf32;              /* upper half of the last 64-bit draw ... */
  int has32;                   /* ... not yet handed out by spy_rng_next32 */
} spy_rng;

/* default_rng(seed) for a non-negative integer seed. */
void spy_rng_seed(spy_rng *r, uint64_t seed);

/* SeedSequence(entropy) where the entropy integer is given as n 32-bit
** words, least significant first (n = 0 is entropy 0). */
void spy_rng_seed_words(spy_rng *r, const uint32_t *words, size_t n);

/* default_rng(None): 128 bits of fresh OS entropy.  0, or -1 when the OS
** has none to give (r is then left unseeded). */
int spy_rng_seed_entropy(spy_rng *r);

uint64_t spy_rng_next64(spy_rng *r);
uint32_t spy_rng_next32(spy_rng *r); /* low half of a 64-bit draw, then its high half */

double spy_rng_uniform(spy_rng *r); /* [0, 1), 53 random bits: Generator.random() */
double spy_rng_normal(spy_rng *r);  /* N(0, 1): Generator.standard_normal() */

/* n standard normals rounded to float32, in draw order (the fast path of
** Generator.normal(size=n).astype("f4")). */
void spy_rng_normal_f32(spy_rng *r, float *out, size_t n);

/* Uniform integer in [0, high) without modulo bias; high >= 1.  The same
** draws as Generator.integers(high) (int64, endpoint=False). */
uint64_t spy_rng_below(spy_rng *r, uint64_t high);

#endif
