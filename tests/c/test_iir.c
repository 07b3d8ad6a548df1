/*
** Butterworth design and SOS filtering (src/dsp/iir.h).
**
** Literal values: the zpk2sos cases and the butter() zeros/poles/gains are
** the expected arrays of SciPy's own test suite
** (scipy/signal/tests/test_filter_design.py, v1.10.1: TestZpk2Sos.test_basic,
** test_pairing, TestButter.test_bandpass, test_bandstop), with the
** tolerances SciPy uses there.  The butter(..., output="sos") arrays were
** printed by SciPy 1.10.1, the version that made the Syncopy references.
** The rest are first-principles properties of the filters.
*/
#include <complex.h>
#include <string.h>

#include "dsp/iir.h"
#include "t.h"

static int cmp_imag(const void *a, const void *b)
{
  double x = cimag(*(const double complex *)a), y = cimag(*(const double complex *)b);
  return x < y ? -1 : x > y;
}

static void check_sos(const double *got, size_t ngot, const double *want, size_t nwant, double tol,
                      const char *what)
{
  CHECK(ngot == nwant, "%s: %zu sections, want %zu", what, ngot, nwant);
  for (size_t i = 0; i < 6 * nwant && ngot == nwant; i++)
    CHECK(fabs(got[i] - want[i]) <= tol, "%s: sos[%zu][%zu] = %.10g, want %.10g", what, i / 6,
          i % 6, got[i], want[i]);
}

static void zpk2sos_cases(void)
{
  spy_err err;
  double sos[6 * 8];
  size_t ns = 0;
  /* TestZpk2Sos.test_basic, 'nearest' (decimal=4) */
  {
    double complex z[] = {-1, -1}, p[] = {0.57149 + 0.29360 * I, 0.57149 - 0.29360 * I};
    double want[] = {1, 2, 1, 1, -1.14298, 0.41280};
    CHECK(spy_zpk2sos(z, 2, p, 2, 1, sos, &ns, &err) == 0, "%s", err.msg);
    check_sos(sos, ns, want, 1, 1.5e-4, "zpk2sos basic 1");
  }
  {
    double complex z[] = {I, -I}, p[] = {0.9, -0.9, 0.7 * I, -0.7 * I};
    double want[] = {1, 0, 1, 1, 0, 0.49, 1, 0, 0, 1, 0, -0.81};
    spy_zpk2sos(z, 2, p, 4, 1, sos, &ns, &err);
    check_sos(sos, ns, want, 2, 1.5e-4, "zpk2sos basic 2");
  }
  {
    double complex p[] = {0.8, -0.5 + 0.25 * I, -0.5 - 0.25 * I};
    double want[] = {1, 0, 0, 1, 1, 0.3125, 1, 0, 0, 1, -0.8, 0};
    spy_zpk2sos(NULL, 0, p, 3, 1, sos, &ns, &err);
    check_sos(sos, ns, want, 2, 1.5e-4, "zpk2sos basic 3");
  }
  {
    double complex z[] = {1, 1, 0.9 * I, -0.9 * I};
    double complex p[] = {0.99 + 0.01 * I, 0.99 - 0.01 * I, 0.1 + 0.9 * I, 0.1 - 0.9 * I};
    double want[] = {1, 0, 0.81, 1, -0.2, 0.82, 1, -2, 1, 1, -1.98, 0.9802};
    spy_zpk2sos(z, 4, p, 4, 1, sos, &ns, &err);
    check_sos(sos, ns, want, 2, 1.5e-4, "zpk2sos basic 4");
  }
  {
    double complex z[] = {0.9 + 0.1 * I, 0.9 - 0.1 * I, -0.9};
    double complex p[] = {0.75 + 0.25 * I, 0.75 - 0.25 * I, 0.9};
    double want[] = {1, 0.9, 0, 1, -1.5, 0.625, 1, -1.8, 0.82, 1, -0.9, 0};
    spy_zpk2sos(z, 3, p, 3, 1, sos, &ns, &err);
    check_sos(sos, ns, want, 2, 1.5e-4, "zpk2sos basic 5 (nearest)");
  }
  {
    double complex z[] = {-0.3090 + 0.9511 * I, -0.3090 - 0.9511 * I, 0.8090 + 0.5878 * I,
                          0.8090 - 0.5878 * I, -1.0000 + 0.0000 * I};
    double complex p[] = {-0.3026 + 0.9312 * I, -0.3026 - 0.9312 * I, 0.7922 + 0.5755 * I,
                          0.7922 - 0.5755 * I, -0.9791 + 0.0000 * I};
    double want[] = {1, 1,        0, 1, 0.97915,  0,       1, 0.61803, 1,
                     1, 0.60515,  0.95873, 1, -1.61803, 1, 1, -1.58430, 0.95873};
    spy_zpk2sos(z, 5, p, 5, 1, sos, &ns, &err);
    check_sos(sos, ns, want, 3, 1.5e-4, "zpk2sos basic 6");
  }
  {
    double complex z[] = {-1 - 1.4142 * I, -1 + 1.4142 * I, -0.625 - 1.0533 * I,
                          -0.625 + 1.0533 * I};
    double complex p[] = {-0.2 - 0.6782 * I, -0.2 + 0.6782 * I, -0.1 - 0.5385 * I,
                          -0.1 + 0.5385 * I};
    double want[] = {4, 8, 12, 1, 0.2, 0.3, 1, 1.25, 1.5, 1, 0.4, 0.5};
    spy_zpk2sos(z, 4, p, 4, 4, sos, &ns, &err);
    for (int i = 0; i < 12; i++)
      CHECK(fabs(sos[i] - want[i]) <= 1e-4 + 1e-4 * fabs(want[i]), "zpk2sos basic 7 [%d]: %g", i,
            sos[i]);
  }
  {
    /* Jackson's example: pole-zero pairing as in the text */
    double th[] = {22.5, 45, 77.5}, mag[] = {0.8, 0.6, 0.9};
    double complex z[6], p[6];
    for (int i = 0; i < 3; i++) {
      z[i] = cexp(I * th[i] * M_PI / 180);
      z[i + 3] = conj(z[i]);
      p[i] = mag[i] * cexp(I * th[i] * M_PI / 180);
      p[i + 3] = conj(p[i]);
    }
    double want[] = {1, -1.41421, 1, 1, -0.84853, 0.36, 1, -1.84776, 1,
                     1, -1.47821, 0.64, 1, -0.43288, 1, 1, -0.38959, 0.81};
    spy_zpk2sos(z, 6, p, 6, 1, sos, &ns, &err);
    check_sos(sos, ns, want, 3, 1.5e-4, "zpk2sos Jackson 1");
  }
  {
    /* test_pairing, 'nearest': the extra origin pole and zero split */
    double complex z[] = {-1, -0.5 - 0.5 * I, -0.5 + 0.5 * I}, p[] = {0.75, 0.8 + 0.1 * I,
                                                                      0.8 - 0.1 * I};
    double want[] = {1, 1, 0.5, 1, -0.75, 0, 1, 1, 0, 1, -1.6, 0.65};
    spy_zpk2sos(z, 3, p, 3, 1, sos, &ns, &err);
    check_sos(sos, ns, want, 2, 1.5e-4, "zpk2sos pairing nearest");
  }
}

static void butter_zpk_cases(void)
{
  spy_err err;
  double complex z[32], p[32];
  size_t nz, np;
  double k;
  /* TestButter.test_bandpass: butter(8, [0.25, 0.33], 'band') == fs 2 */
  double f1[] = {0.25, 0.33};
  CHECK(spy_butter_zpk(8, f1, 2.0, SPY_BANDPASS, z, &nz, p, &np, &k, &err) == 0, "%s", err.msg);
  static const double pr[] = {4.979909925436156e-01, 4.913338722555539e-01, 5.035229361778706e-01,
                              5.307617160406101e-01, 5.680556159453138e-01, 6.100962560818854e-01,
                              6.904694312740631e-01, 6.521767004237027e-01};
  static const double pi_[] = {8.367609424799387e-01, 7.866774509868817e-01, 7.401147376726750e-01,
                               7.029184459442954e-01, 6.788228792952775e-01, 6.693849403338664e-01,
                               6.930501690145245e-01, 6.744414640183752e-01};
  double complex want[16];
  for (int i = 0; i < 8; i++) {
    want[2 * i] = pr[i] + pi_[i] * I;
    want[2 * i + 1] = pr[i] - pi_[i] * I;
  }
  CHECK(nz == 16 && np == 16, "bandpass counts %zu %zu", nz, np);
  for (size_t i = 0; i < nz; i++) CHECK(z[i] == (i < 8 ? 1 : -1), "bandpass zero %zu", i);
  qsort(p, np, sizeof *p, cmp_imag);
  qsort(want, 16, sizeof *want, cmp_imag);
  for (int i = 0; i < 16; i++)
    CHECK(cabs(p[i] - want[i]) <= 1e-13 * cabs(want[i]), "bandpass pole %d: %.16g%+.16gi", i,
          creal(p[i]), cimag(p[i]));
  CHECK(fabs(k - 3.398854055800844e-08) <= 1e-13 * 3.398854055800844e-08, "bandpass k %.16g", k);

  /* TestButter.test_bandstop: butter(7, [0.45, 0.56], 'stop') */
  double f2[] = {0.45, 0.56};
  CHECK(spy_butter_zpk(7, f2, 2.0, SPY_BANDSTOP, z, &nz, p, &np, &k, &err) == 0, "%s", err.msg);
  CHECK(nz == 14 && np == 14, "bandstop counts %zu %zu", nz, np);
  for (size_t i = 0; i < nz; i++)
    CHECK(cabs(z[i] - (-1.594474531383421e-02 + (cimag(z[i]) > 0 ? 1 : -1) *
                                                     9.998728744679880e-01 * I)) <= 1e-7,
          "bandstop zero %zu", i);
  static const double br[] = {-1.766850742887729e-01, 1.467897662432886e-01,
                              -1.370083529426906e-01, 1.086774544701390e-01,
                              -7.982704457700891e-02, 5.238812787110331e-02,
                              -1.357545000491310e-02};
  static const double bi[] = {9.466951258673900e-01, 9.515917126462422e-01, 8.880376681273993e-01,
                              8.915240810704319e-01, 8.506056315273435e-01, 8.524011102699969e-01,
                              8.382287744986582e-01};
  for (int i = 0; i < 7; i++) {
    want[2 * i] = br[i] + bi[i] * I;
    want[2 * i + 1] = br[i] - bi[i] * I;
  }
  qsort(p, np, sizeof *p, cmp_imag);
  qsort(want, 14, sizeof *want, cmp_imag);
  for (int i = 0; i < 14; i++)
    CHECK(cabs(p[i] - want[i]) <= 1e-7 * cabs(want[i]), "bandstop pole %d", i);
  CHECK(fabs(k - 4.577122512960063e-01) <= 1e-14 * 4.577122512960063e-01, "bandstop k %.16g", k);

  /* SciPy's messages for critical frequencies outside (0, fs/2) */
  double bad[] = {500};
  CHECK(spy_butter_zpk(4, bad, 1000, SPY_LOWPASS, z, &nz, p, &np, &k, &err) == SPY_EINVAL &&
            strcmp(err.msg, "Digital filter critical frequencies must be 0 < Wn < fs/2 "
                            "(fs=1000.0 -> fs/2=500.0)") == 0,
        "Nyquist: %s", err.msg);
  double zero[] = {0};
  CHECK(spy_butter_zpk(4, zero, 1000, SPY_HIGHPASS, z, &nz, p, &np, &k, &err) == SPY_EINVAL &&
            strcmp(err.msg, "filter critical frequencies must be greater than 0") == 0,
        "zero: %s", err.msg);
}

static void butter_sos_cases(void)
{
  spy_err err;
  double sos[6 * 8];
  size_t ns;
  /* butter(4, [20, 40], 'bp', fs=1000, output='sos'), SciPy 1.10.1 */
  static const double bp[] = {
      1.3293728898752894e-05, 2.6587457797505787e-05, 1.3293728898752894e-05, 1,
      -1.8364555032238770e+00, 8.7576317963700623e-01, 1, 2, 1, 1, -1.8822717241525253e+00,
      9.0486502545289427e-01, 1, -2, 1, 1, -1.8808460568832321e+00, 9.3907040202546321e-01, 1, -2,
      1, 1, -1.9511680542973997e+00, 9.6740820601932020e-01};
  double f[] = {20, 40};
  CHECK(spy_butter_sos(4, f, 1000, SPY_BANDPASS, sos, &ns, &err) == 0, "%s", err.msg);
  CHECK(ns == 4, "bp sections %zu", ns);
  for (int i = 0; i < 24; i++)
    CHECK(fabs(sos[i] - bp[i]) <= 1e-14 * fabs(bp[i]), "bp sos[%d] %.17g vs %.17g", i, sos[i],
          bp[i]);
  CHECK(spy_sosfiltfilt_edge(sos, ns) == 27, "bp edge %zu (SciPy: 3 * 9)",
        spy_sosfiltfilt_edge(sos, ns));
  /* butter(3, 100, fs=1000): odd order, one first-order section */
  static const double lp[] = {0.01809893300751443, 0.03619786601502887, 0.01809893300751443, 1,
                              -0.5095254494944288, 0, 1, 1, 0, 1, -1.2505164308487398,
                              0.5457233155094575};
  double f3[] = {100};
  spy_butter_sos(3, f3, 1000, SPY_LOWPASS, sos, &ns, &err);
  check_sos(sos, ns, lp, 2, 1e-15, "butter(3, 100, fs=1000)");
  CHECK(spy_sosfiltfilt_edge(sos, ns) == 12, "lp3 edge %zu (SciPy: 3 * (5 - 1))",
        spy_sosfiltfilt_edge(sos, ns));
  static const double hp[] = {0.5825177969900296, -1.1650355939800592, 0.5825177969900296, 1,
                              -0.9824057931083952, 0.34766539485172315};
  double f4[] = {30};
  spy_butter_sos(2, f4, 250, SPY_HIGHPASS, sos, &ns, &err);
  check_sos(sos, ns, hp, 1, 1e-15, "butter(2, 30, 'hp', fs=250)");
  /* order 0: a pass-through */
  spy_butter_sos(0, f, 1000, SPY_BANDPASS, sos, &ns, &err);
  static const double one[] = {1, 0, 0, 1, 0, 0};
  check_sos(sos, ns, one, 1, 0, "butter(0)");
}

/* |H(e^{i w})|^2 of a cascade */
static double gain2(const double *sos, size_t ns, double f, double fs)
{
  double complex zz = cexp(-I * 2 * M_PI * f / fs), h = 1;
  for (size_t s = 0; s < ns; s++) {
    const double *c = sos + 6 * s;
    h *= (c[0] + c[1] * zz + c[2] * zz * zz) / (c[3] + c[4] * zz + c[5] * zz * zz);
  }
  return creal(h * conj(h));
}

static void response_cases(void)
{
  spy_err err;
  double sos[6 * 16];
  size_t ns;
  /* -3 dB (half power) at every cut-off, unity in the pass band */
  struct {
    int order;
    double f[2];
    spy_btype t;
    double pass;
  } c[] = {{4, {40, 0}, SPY_LOWPASS, 5},   {6, {40, 0}, SPY_HIGHPASS, 300},
           {4, {20, 40}, SPY_BANDPASS, 28.28}, {3, {45, 55}, SPY_BANDSTOP, 200},
           {5, {1, 0}, SPY_HIGHPASS, 100}};
  for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
    CHECK(spy_butter_sos(c[i].order, c[i].f, 1000, c[i].t, sos, &ns, &err) == 0, "%s", err.msg);
    for (int e = 0; e < (spy_btype_is_band(c[i].t) ? 2 : 1); e++)
      CHECK_NEAR(gain2(sos, ns, c[i].f[e], 1000), 0.5, 1e-9, "half power at the cut-off");
    CHECK_NEAR(gain2(sos, ns, c[i].pass, 1000), 1.0, 1e-3, "pass band gain");
  }

  /* twopass: -6 dB at the cut-off, zero phase; onepass: a delay */
  double f[] = {20, 40};
  spy_butter_sos(4, f, 1000, SPY_BANDPASS, sos, &ns, &err);
  double zi[32], state[2 * 16 * 8];
  spy_sosfilt_zi(sos, ns, zi);
  size_t edge = spy_sosfiltfilt_edge(sos, ns), n = 20000;
  double *ext = malloc((n + 2 * edge) * 2 * sizeof *ext);
  for (size_t i = 0; i < n; i++) { /* lane 0: 20 Hz (cut-off), lane 1: 28 Hz (pass band) */
    ext[(edge + i) * 2] = cos(2 * M_PI * 20 * (double)i / 1000 + 0.3);
    ext[(edge + i) * 2 + 1] = cos(2 * M_PI * 28.0 * (double)i / 1000 + 0.3);
  }
  spy_sosfiltfilt(sos, ns, zi, ext, n, 2, edge, state);
  double a[2] = {0, 0}, b[2] = {0, 0};
  for (size_t i = 5000; i < 15000; i++)
    for (int j = 0; j < 2; j++) {
      double fr = j ? 28.0 : 20, w = 2 * M_PI * fr * (double)i / 1000 + 0.3;
      a[j] += ext[(edge + i) * 2 + j] * cos(w);
      b[j] += ext[(edge + i) * 2 + j] * sin(w);
    }
  for (int j = 0; j < 2; j++) {
    double amp = 2 * hypot(a[j], b[j]) / 10000, ph = atan2(-b[j], a[j]);
    CHECK_NEAR(amp, j ? 1.0 : 0.5, 2e-3, j ? "twopass pass-band amplitude" : "twopass -6 dB");
    CHECK_NEAR(ph, 0, 1e-6, "twopass keeps the phase");
  }
  /* a symmetric pulse stays symmetric */
  size_t m = 4001, mid = 2000;
  double *pulse = calloc((m + 2 * edge), sizeof *pulse);
  for (size_t i = 0; i < m; i++) {
    double d = ((double)i - (double)mid) / 30;
    pulse[edge + i] = exp(-d * d) * cos(2 * M_PI * 30 * ((double)i - (double)mid) / 1000);
  }
  spy_sosfiltfilt(sos, ns, zi, pulse, m, 1, edge, state);
  double asym = 0, peak = 0;
  for (size_t i = 0; i < m; i++) {
    asym = fmax(asym, fabs(pulse[edge + i] - pulse[edge + m - 1 - i]));
    peak = fmax(peak, fabs(pulse[edge + i]));
  }
  CHECK(asym <= 1e-12 * peak, "twopass pulse asymmetry %g (peak %g)", asym, peak);
  /* onepass from rest: the same pulse comes out late */
  double *one = calloc(m, sizeof *one);
  for (size_t i = 0; i < m; i++) {
    double d = ((double)i - (double)mid) / 30;
    one[i] = exp(-d * d) * cos(2 * M_PI * 30 * ((double)i - (double)mid) / 1000);
  }
  memset(state, 0, sizeof state);
  spy_sosfilt(sos, ns, one, m, 1, false, state);
  double e1 = 0, e2 = 0;
  for (size_t i = 0; i < m; i++) {
    double v = one[i] * one[i];
    e1 += v * (double)i;
    e2 += v;
  }
  CHECK(e1 / e2 > (double)mid + 5, "onepass energy centre %g should lag %zu", e1 / e2, mid);
  /* lanes are independent: lane order of 8 lanes = 8 single runs */
  double x8[64 * 8], x1[64];
  for (int i = 0; i < 64 * 8; i++) x8[i] = sin(0.37 * i * i);
  double st8[2 * 16 * 8] = {0}, st1[2 * 16] = {0};
  spy_sosfilt(sos, ns, x8, 64, 8, false, st8);
  for (int j = 0; j < 8; j++) {
    for (int i = 0; i < 64; i++) x1[i] = sin(0.37 * (i * 8 + j) * (i * 8 + j));
    memset(st1, 0, sizeof st1);
    spy_sosfilt(sos, ns, x1, 64, 1, false, st1);
    for (int i = 0; i < 64; i++) CHECK(x1[i] == x8[i * 8 + j], "lane %d sample %d", j, i);
  }
  free(ext);
  free(pulse);
  free(one);
}

int main(void)
{
  zpk2sos_cases();
  butter_zpk_cases();
  butter_sos_cases();
  response_cases();
  return t_done();
}
