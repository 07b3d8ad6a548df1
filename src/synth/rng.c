#include "synth/rng.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

#include "core/settings.h"

__extension__ typedef unsigned __int128 u128;

/* ---- PCG64 (XSL-RR 128/64) -------------------------------------------- */

/* O'Neill's default 128-bit LCG multiplier, as NumPy's PCG64 uses it. */
#define PCG_MULT (((u128)2549297995355413924ULL << 64) | 4865540595714422341ULL)

static inline u128 get_state(const spy_rng *r)
{
  return ((u128)r->state_hi << 64) | r->state_lo;
}
static inline u128 get_inc(const spy_rng *r)
{
  return ((u128)r->inc_hi << 64) | r->inc_lo;
}
static inline void put_state(spy_rng *r, u128 s)
{
  r->state_hi = (uint64_t)(s >> 64);
  r->state_lo = (uint64_t)s;
}

static inline uint64_t rotr64(uint64_t v, unsigned k)
{
  return (v >> k) | (v << ((-k) & 63));
}

/* XSL-RR: fold the state to 64 bits, rotate by its top 6 bits. */
static inline uint64_t pcg_out(u128 s)
{
  uint64_t hi = (uint64_t)(s >> 64), lo = (uint64_t)s;
  return rotr64(hi ^ lo, (unsigned)(hi >> 58));
}

/* Advance, then output from the new state (PCG's "pre-advance" order). */
uint64_t spy_rng_next64(spy_rng *r)
{
  u128 s = get_state(r) * PCG_MULT + get_inc(r);
  put_state(r, s);
  return pcg_out(s);
}

uint32_t spy_rng_next32(spy_rng *r)
{
  if (r->has32) {
    r->has32 = 0;
    return r->buf32;
  }
  uint64_t v = spy_rng_next64(r);
  r->has32 = 1;
  r->buf32 = (uint32_t)(v >> 32);
  return (uint32_t)v;
}

/* ---- SeedSequence ------------------------------------------------------- */

/* NumPy's SeedSequence constants: two multiplicative hash streams (A for
** mixing entropy into the pool, B for drawing state words out of it) and
** the mixing function's multipliers. */
enum { POOL = 4 };
#define INIT_A 0x43b0d7e5u
#define MULT_A 0x931e8875u
#define INIT_B 0x8b51f9ddu
#define MULT_B 0x58f38dedu
#define MIX_L 0xca01f9ddu
#define MIX_R 0x4973f715u

static uint32_t hashmix(uint32_t v, uint32_t *h)
{
  v ^= *h;
  *h *= MULT_A;
  v *= *h;
  return v ^ (v >> 16);
}

static uint32_t mix(uint32_t x, uint32_t y)
{
  uint32_t m = MIX_L * x - MIX_R * y;
  return m ^ (m >> 16);
}

void spy_rng_seed_words(spy_rng *r, const uint32_t *words, size_t n)
{
  static const uint32_t zero = 0;
  if (n == 0) words = &zero, n = 1;

  uint32_t pool[POOL], h = INIT_A;
  for (size_t i = 0; i < POOL; i++)
    pool[i] = hashmix(i < n ? words[i] : 0, &h);
  for (size_t s = 0; s < POOL; s++)
    for (size_t d = 0; d < POOL; d++)
      if (s != d) pool[d] = mix(pool[d], hashmix(pool[s], &h));
  for (size_t s = POOL; s < n; s++)
    for (size_t d = 0; d < POOL; d++)
      pool[d] = mix(pool[d], hashmix(words[s], &h));

  /* generate_state(4, uint64): 8 words cycling over the pool, pairs
  ** (low, high) forming the 64-bit words. */
  uint32_t w[8];
  uint32_t hb = INIT_B;
  for (size_t i = 0; i < 8; i++) {
    uint32_t v = pool[i % POOL] ^ hb;
    hb *= MULT_B;
    v *= hb;
    w[i] = v ^ (v >> 16);
  }
  uint64_t s[4];
  for (size_t i = 0; i < 4; i++)
    s[i] = (uint64_t)w[2 * i] | ((uint64_t)w[2 * i + 1] << 32);

  /* PCG's srandom: state 0, increment 2*seq+1, step, add the initial
  ** state, step. */
  u128 initstate = ((u128)s[0] << 64) | s[1];
  u128 initseq = ((u128)s[2] << 64) | s[3];
  u128 inc = (initseq << 1) | 1u;
  r->inc_hi = (uint64_t)(inc >> 64);
  r->inc_lo = (uint64_t)inc;
  u128 st = inc; /* 0 * MULT + inc */
  st += initstate;
  put_state(r, st * PCG_MULT + inc);
  r->has32 = 0;
  r->buf32 = 0;
}

void spy_rng_seed(spy_rng *r, uint64_t seed)
{
  uint32_t w[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
  spy_rng_seed_words(r, w, w[1] ? 2 : 1);
}

int spy_rng_seed_entropy(spy_rng *r)
{
  uint32_t w[POOL];
  if (spy_random_bytes(w, sizeof w) != 0) return -1;
  spy_rng_seed_words(r, w, POOL);
  return 0;
}

/* ---- uniform, bounded ---------------------------------------------------- */

double spy_rng_uniform(spy_rng *r)
{
  return (double)(spy_rng_next64(r) >> 11) * 0x1p-53;
}

/* Lemire (2019): the high word of x * range is uniform on [0, range) once
** the draws whose low word falls below 2^w mod range are rejected. */
uint64_t spy_rng_below(spy_rng *r, uint64_t high)
{
  uint64_t rng = high - 1; /* inclusive range, as NumPy counts it */
  if (rng == 0) return 0;
  if (rng <= 0xFFFFFFFFu) {
    if (rng == 0xFFFFFFFFu) return spy_rng_next32(r);
    uint32_t excl = (uint32_t)high;
    uint64_t m = (uint64_t)spy_rng_next32(r) * excl;
    uint32_t left = (uint32_t)m;
    if (left < excl) {
      uint32_t thresh = (uint32_t)(-excl) % excl;
      while (left < thresh) {
        m = (uint64_t)spy_rng_next32(r) * excl;
        left = (uint32_t)m;
      }
    }
    return m >> 32;
  }
  if (rng == UINT64_MAX) return spy_rng_next64(r);
  u128 m = (u128)spy_rng_next64(r) * high;
  uint64_t left = (uint64_t)m;
  if (left < high) {
    uint64_t thresh = (-high) % high;
    while (left < thresh) {
      m = (u128)spy_rng_next64(r) * high;
      left = (uint64_t)m;
    }
  }
  return (uint64_t)(m >> 64);
}

/* ---- ziggurat ------------------------------------------------------------ */

/* 256 layers of equal area V under f(x) = exp(-x^2/2), the base layer
** holding the tail beyond R.  Layer i (1..255) spans |x| < x_i; a sample
** x = u * w[i] (u a 52-bit integer) is accepted at once when u < k[i],
** i.e. |x| < x_{i-1}, the part of the layer that lies wholly under f.
** R and V are NumPy's constants (R from Marsaglia & Tsang 2000, V the exact
** layer area for that R); the x_i follow from x_255 = R by Marsaglia and
** Tsang's recurrence, in double precision as NumPy's tables were made.
** The resulting tables agree with NumPy's to within 1e-14 (relative): the
** last bits of its tables carry the rounding of the libm that made them. */
#define ZIG_R 3.6541528853610088
#define ZIG_V 0.0049286732339746519
#define ZIG_M 4503599627370496.0 /* 2^52 */

static uint64_t zig_k[256];
static double zig_w[256], zig_f[256];
static pthread_once_t zig_once = PTHREAD_ONCE_INIT;

static double gauss(double x)
{
  return exp(-0.5 * x * x);
}

static void zig_init(void)
{
  double x[256];
  x[0] = 0.0;
  x[255] = ZIG_R;
  for (int i = 254; i >= 1; i--)
    x[i] = sqrt(-2.0 * log(gauss(x[i + 1]) + ZIG_V / x[i + 1]));
  zig_k[0] = (uint64_t)llround(ZIG_R * gauss(ZIG_R) / ZIG_V * ZIG_M);
  zig_w[0] = ZIG_V / gauss(ZIG_R) / ZIG_M;
  zig_f[0] = 1.0;
  for (int i = 1; i < 256; i++) {
    zig_k[i] = (uint64_t)llround(x[i - 1] / x[i] * ZIG_M);
    zig_w[i] = x[i] / ZIG_M;
    zig_f[i] = gauss(x[i]);
  }
}

/* The ziggurat's fast path for one 64-bit draw: bits 0-7 pick the layer,
** bit 8 the sign, bits 9-60 the magnitude u.  *x gets u * w[layer] with its
** sign (flipped without a branch: the sign bit is a coin toss the branch
** predictor cannot learn); the result is final when u < k[layer] (~99% of
** draws).  u < 2^52 converts through int64_t: one instruction. */
static inline int zig_fast(uint64_t bits, double *x)
{
  unsigned idx = bits & 0xff;
  uint64_t u = (bits >> 9) & 0x000fffffffffffffULL;
  double v = (double)(int64_t)u * zig_w[idx];
  uint64_t vb;
  memcpy(&vb, &v, sizeof vb);
  vb ^= (bits & 0x100) << 55;
  memcpy(x, &vb, sizeof *x);
  return u < zig_k[idx];
}

/* The rare branches after zig_fast declined the draw `bits` (candidate x):
** the base layer's tail (Marsaglia's exponential rejection beyond R) or the
** wedge between a layer's edge and f; a rejected candidate starts over with
** a fresh draw. */
static double zig_slow(spy_rng *r, uint64_t bits, double x)
{
  for (;;) {
    unsigned idx = bits & 0xff;
    uint64_t u = (bits >> 9) & 0x000fffffffffffffULL;
    if (idx == 0) {
      for (;;) {
        double xx = -(1.0 / ZIG_R) * log1p(-spy_rng_uniform(r));
        double yy = -log1p(-spy_rng_uniform(r));
        if (yy + yy > xx * xx) return ((u >> 8) & 1) ? -(ZIG_R + xx) : ZIG_R + xx;
      }
    }
    if ((zig_f[idx - 1] - zig_f[idx]) * spy_rng_uniform(r) + zig_f[idx] < exp(-0.5 * x * x))
      return x;
    bits = spy_rng_next64(r);
    if (zig_fast(bits, &x)) return x;
  }
}

double spy_rng_normal(spy_rng *r)
{
  pthread_once(&zig_once, zig_init);
  uint64_t bits = spy_rng_next64(r);
  double x;
  return zig_fast(bits, &x) ? x : zig_slow(r, bits, x);
}

/* The bulk path keeps the LCG state in registers and stores it back only
** around the rare slow branch (which draws from r itself). */
void spy_rng_normal_f32(spy_rng *r, float *out, size_t n)
{
  pthread_once(&zig_once, zig_init);
  u128 s = get_state(r);
  const u128 inc = get_inc(r);
  for (size_t i = 0; i < n; i++) {
    s = s * PCG_MULT + inc;
    uint64_t bits = pcg_out(s);
    double x;
    if (!zig_fast(bits, &x)) {
      put_state(r, s);
      x = zig_slow(r, bits, x);
      s = get_state(r);
    }
    out[i] = (float)x;
  }
  put_state(r, s);
}
