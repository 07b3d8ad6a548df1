/* The synthdata random generator: NumPy's default_rng streams (PCG64 +
** SeedSequence, random(), integers(), the ziggurat normal) and the
** statistics users rely on.
**
** Reference numbers were printed by NumPy 1.24.2 (the version that made
** tests/data), e.g.
**   np.random.default_rng(42).bit_generator.random_raw(3)
**   np.random.default_rng(42).random(3)
**   np.random.default_rng(42).integers(1_000_000, size=8)
**   np.random.default_rng(42).normal(size=8)
*/
#include <stdint.h>
#include <string.h>

#include "h5ref.h"
#include "synth/rng.h"
#include "t.h"

static void test_pcg64_seedsequence(void)
{
  static const struct {
    uint64_t seed;
    uint64_t raw[2];
  } cases[] = {
      {0, {11749869230777074271ULL, 4976686463289251617ULL}},
      {42, {14276969152011380360ULL, 8095878257575067585ULL}},
      {4294967301ULL, {14281546376153053393ULL, 8683300866460616067ULL}}, /* 2 entropy words */
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    spy_rng r;
    spy_rng_seed(&r, cases[i].seed);
    for (int j = 0; j < 2; j++) {
      uint64_t v = spy_rng_next64(&r);
      CHECK(v == cases[i].raw[j], "seed %llu draw %d: %llu, NumPy %llu",
            (unsigned long long)cases[i].seed, j, (unsigned long long)v,
            (unsigned long long)cases[i].raw[j]);
    }
  }
  spy_rng r;
  spy_rng_seed(&r, 42);
  (void)spy_rng_next64(&r);
  (void)spy_rng_next64(&r);
  CHECK(spy_rng_next64(&r) == 15838336090824644132ULL, "seed 42 third draw");
}

static void test_uniform_integers(void)
{
  static const double u42[] = {0.7739560485559633, 0.4388784397520523, 0.8585979199113825};
  spy_rng r;
  spy_rng_seed(&r, 42);
  for (int i = 0; i < 3; i++) {
    double u = spy_rng_uniform(&r);
    CHECK(u == u42[i], "random() #%d: %.17g, NumPy %.17g", i, u, u42[i]);
  }

  /* integers(1_000_000): Lemire on buffered 32-bit halves */
  static const uint64_t i42[] = {89250, 773956, 654571, 438878, 433015, 858597, 85945, 697368};
  spy_rng_seed(&r, 42);
  for (int i = 0; i < 8; i++) {
    uint64_t v = spy_rng_below(&r, 1000000);
    CHECK(v == i42[i], "integers(1e6) #%d: %llu, NumPy %llu", i, (unsigned long long)v,
          (unsigned long long)i42[i]);
  }
  /* a range above 2^32 takes the 64-bit path */
  static const uint64_t i7[] = {687299734006ULL, 986497006773ULL, 852875435929ULL};
  spy_rng_seed(&r, 7);
  for (int i = 0; i < 3; i++) {
    uint64_t v = spy_rng_below(&r, (1ULL << 40) + 7);
    CHECK(v == i7[i], "integers(2^40+7) #%d: %llu, NumPy %llu", i, (unsigned long long)v,
          (unsigned long long)i7[i]);
  }

  /* no modulo bias: with high = 3 * 2^30 a modulo reduction of 32 bits
  ** would give 0 with probability 1/2 instead of 1/3 */
  spy_rng_seed(&r, 5);
  size_t n = 300000, low = 0;
  for (size_t i = 0; i < n; i++)
    low += spy_rng_below(&r, 3ULL << 30) < (1ULL << 30);
  double frac = (double)low / (double)n, se = sqrt(1.0 / 3 * 2.0 / 3 / (double)n);
  CHECK_NEAR(frac, 1.0 / 3, 5 * se, "P(x < high/3)");
  for (int i = 0; i < 1000; i++)
    CHECK(spy_rng_below(&r, 1) == 0, "below(1) is 0");
}

static void test_normal_numpy(void)
{
  /* default_rng(42).normal(size=8): the doubles agree to 1e-14 (our
  ** ziggurat tables are recomputed, NumPy's carry its libm's last bits);
  ** rounded to float32, as every synthdata output is, they are equal. */
  static const double n42[] = {0.30471707975443135, -1.0399841062404955, 0.7504511958064572,
                               0.9405647163912139,  -1.9510351886538364, -1.302179506862318,
                               0.12784040316728537, -0.3162425923435822};
  spy_rng r;
  spy_rng_seed(&r, 42);
  for (int i = 0; i < 8; i++) {
    double x = spy_rng_normal(&r);
    CHECK(fabs(x - n42[i]) <= 1e-14 * fabs(n42[i]), "normal #%d: %.17g, NumPy %.17g", i, x, n42[i]);
    CHECK((float)x == (float)n42[i], "normal #%d as float32", i);
  }

  /* 40000 NumPy normals, default_rng(42).standard_normal((5, 2000, 4)),
  ** are inside the Syncopy reference input (tests/data/README.md):
  ** x = noise + sum_h A_h cos(2 pi f_h t + phi_hc) + 0.1 c, as float32. */
  int nd;
  size_t shape[8];
  double *in = h5ref_read(t_data("mtmfft_hann_pow.h5"), "input", &nd, shape);
  CHECK(in && nd == 2 && shape[0] == 10000 && shape[1] == 4, "reference input readable");
  if (!in) return;
  static const double fh[] = {10, 40, 75.3}, ah[] = {2.0, 1.0, 0.5};
  spy_rng_seed(&r, 42);
  size_t exact = 0, total = 0;
  double worst = 0;
  for (size_t k = 0; k < 5; k++)
    for (size_t n = 0; n < 2000; n++)
      for (size_t c = 0; c < 4; c++) {
        double x = spy_rng_normal(&r), t = (double)n / 1000.0;
        for (int h = 0; h < 3; h++)
          x += ah[h] * cos(2 * M_PI * fh[h] * t + 2 * M_PI * (double)(((h + 1) * (c + 1)) % 7) / 7);
        x += 0.1 * (double)c;
        float mine = (float)x, ref = (float)in[(k * 2000 + n) * 4 + c];
        double ulp = nextafterf(fabsf(ref), INFINITY) - fabsf(ref);
        double d = fabs((double)mine - (double)ref) / ulp;
        if (d > worst) worst = d;
        exact += mine == ref;
        total++;
      }
  /* Summation order of the harness is unknown: allow 1 float32 ulp, but
  ** nearly all must be equal (a stream out of step would differ by O(1)). */
  fprintf(stderr, "reference input: %zu of %zu bit-equal, worst %g ulp\n", exact, total, worst);
  CHECK(worst <= 1.0, "reference input reproduced within 1 ulp (worst %g ulp)", worst);
  CHECK(exact >= total - total / 1000, "%zu of %zu reference samples bit-equal", exact, total);
  free(in);
}

/* Moments and tails of N(0,1) over 4e6 draws; tolerances are 5 standard
** errors of each estimate. */
static void test_normal_statistics(void)
{
  spy_rng r;
  spy_rng_seed(&r, 2024);
  size_t n = 4000000, beyond1 = 0, beyond3 = 0, tail = 0;
  double s1 = 0, s2 = 0, s4 = 0;
  for (size_t i = 0; i < n; i++) {
    double x = spy_rng_normal(&r);
    s1 += x;
    s2 += x * x;
    s4 += x * x * x * x;
    beyond1 += fabs(x) > 1;
    beyond3 += fabs(x) > 3;
    tail += fabs(x) > 3.6541528853610088; /* the ziggurat's tail branch */
  }
  double dn = (double)n, mean = s1 / dn, var = s2 / dn - mean * mean, kurt = s4 / dn;
  CHECK_NEAR(mean, 0.0, 5 / sqrt(dn), "mean");
  CHECK_NEAR(var, 1.0, 5 * sqrt(2 / dn), "variance");
  CHECK_NEAR(kurt, 3.0, 5 * sqrt(96 / dn), "fourth moment");
  static const double p1 = 0.31731050786291415, p3 = 0.0026997960632601913,
                      pr = 2.580324876539013e-4; /* 2 Q(R), R = 3.6541528853610088 */
  CHECK_NEAR((double)beyond1 / dn, p1, 5 * sqrt(p1 * (1 - p1) / dn), "P(|x| > 1)");
  CHECK_NEAR((double)beyond3 / dn, p3, 5 * sqrt(p3 * (1 - p3) / dn), "P(|x| > 3)");
  CHECK_NEAR((double)tail / dn, pr, 5 * sqrt(pr * (1 - pr) / dn), "P(|x| > R): tail branch");

  /* the f32 bulk path is the same stream */
  spy_rng a, b;
  spy_rng_seed(&a, 77);
  spy_rng_seed(&b, 77);
  float buf[1000];
  spy_rng_normal_f32(&a, buf, 1000);
  int same = 1;
  for (int i = 0; i < 1000; i++)
    same &= buf[i] == (float)spy_rng_normal(&b);
  CHECK(same, "spy_rng_normal_f32 equals spy_rng_normal rounded");
}

/* Seeds 0, 1, 2, ... give unrelated streams (SeedSequence hashing), and
** the OS-entropy seeding gives a new stream each time. */
static void test_independence(void)
{
  enum { N = 200000 };
  static double x[3][N];
  for (int s = 0; s < 3; s++) {
    spy_rng r;
    spy_rng_seed(&r, (uint64_t)s);
    for (int i = 0; i < N; i++)
      x[s][i] = spy_rng_normal(&r);
  }
  for (int a = 0; a < 3; a++)
    for (int b = a + 1; b < 3; b++) {
      double c = 0;
      for (int i = 0; i < N; i++)
        c += x[a][i] * x[b][i];
      CHECK(fabs(c / N) <= 5 / sqrt((double)N), "correlation of seeds %d and %d: %g", a, b, c / N);
    }
  /* lag-1 autocorrelation within a stream */
  double c = 0;
  for (int i = 1; i < N; i++)
    c += x[0][i] * x[0][i - 1];
  CHECK_NEAR(c / N, 0.0, 5 / sqrt((double)N), "lag-1 autocorrelation");

  spy_rng e1, e2;
  CHECK(spy_rng_seed_entropy(&e1) == 0 && spy_rng_seed_entropy(&e2) == 0, "OS entropy");
  int differ = 0;
  for (int i = 0; i < 4; i++)
    differ |= spy_rng_next64(&e1) != spy_rng_next64(&e2);
  CHECK(differ, "two entropy-seeded generators differ");
}

int main(void)
{
  test_pcg64_seedsequence();
  test_uniform_integers();
  test_normal_numpy();
  test_normal_statistics();
  test_independence();
  return t_done();
}
