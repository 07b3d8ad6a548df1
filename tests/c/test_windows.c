/*
** Tapers: SciPy's windows and DPSS.
**
** The literal arrays below are the expected values of SciPy 1.10's own test
** suite (scipy/signal/tests/test_windows.py), checked with the tolerances
** SciPy states there (assert_allclose: rtol 1e-7 unless given;
** assert_array_almost_equal(decimal=d): |a-b| < 1.5e-d).  Its DPSS values
** come from MATLAB.  Then first-principles properties, error texts, and an
** end-to-end check of DPSS multitaper power against Syncopy's reference
** tests/data/mtmfft_dpss_pow.h5.
*/
#include <pthread.h>
#include <string.h>

#include "core/log.h"
#include "dsp/fft.h"
#include "dsp/windows.h"
#include "h5ref.h"
#include "t.h"

#define A(...) ((const double[]){__VA_ARGS__})
#define NA(...) (sizeof((const double[]){__VA_ARGS__}) / sizeof(double))
/* One SciPy case: window(n, **opts, sym) against the first `len` expected values. */
#define CASE(name, n, sym, opts, rtol, atol, ...)                                                  \
  {                                                                                                \
    name, n, sym, opts, rtol, atol, NA(__VA_ARGS__), A(__VA_ARGS__)                                \
  }

typedef struct wcase {
  const char *name;
  size_t n;
  bool sym;
  const char *opts;
  double rtol, atol;
  size_t len;
  const double *want;
} wcase;

#define RT 1e-7   /* assert_allclose's default rtol */
#define D4 1.5e-4 /* decimal=4 */

static const wcase scipy_cases[] = {
    CASE("barthann", 6, true, NULL, RT, 0, 0, 0.35857354213752, 0.8794264578624801,
         0.8794264578624801, 0.3585735421375199, 0),
    CASE("barthann", 7, true, NULL, RT, 0, 0, 0.27, 0.73, 1.0, 0.73, 0.27, 0),
    CASE("barthann", 6, false, NULL, RT, 0, 0, 0.27, 0.73, 1.0, 0.73, 0.27),
    CASE("bartlett", 6, true, NULL, RT, 0, 0, 0.4, 0.8, 0.8, 0.4, 0),
    CASE("bartlett", 7, true, NULL, RT, 0, 0, 1. / 3, 2. / 3, 1.0, 2. / 3, 1. / 3, 0),
    CASE("bartlett", 6, false, NULL, RT, 0, 0, 1. / 3, 2. / 3, 1.0, 2. / 3, 1. / 3),
    CASE("blackman", 6, false, NULL, RT, 1e-14, 0, 0.13, 0.63, 1.0, 0.63, 0.13),
    CASE("blackman", 7, false, NULL, RT, 1e-8, 0, 0.09045342435412804, 0.4591829575459636,
         0.9203636180999081, 0.9203636180999081, 0.4591829575459636, 0.09045342435412804),
    CASE("blackman", 6, true, NULL, RT, 1e-14, 0, 0.2007701432625305, 0.8492298567374694,
         0.8492298567374694, 0.2007701432625305, 0),
    CASE("blackman", 7, true, NULL, RT, 1e-14, 0, 0.13, 0.63, 1.0, 0.63, 0.13, 0),
    CASE("blackmanharris", 6, false, NULL, RT, 0, 6.0e-05, 0.055645, 0.520575, 1.0, 0.520575,
         0.055645),
    CASE("blackmanharris", 7, false, NULL, RT, 0, 6.0e-05, 0.03339172347815117, 0.332833504298565,
         0.8893697722232837, 0.8893697722232838, 0.3328335042985652, 0.03339172347815122),
    CASE("blackmanharris", 6, true, NULL, RT, 0, 6.0e-05, 0.1030114893456638, 0.7938335106543362,
         0.7938335106543364, 0.1030114893456638, 6.0e-05),
    CASE("blackmanharris", 7, true, NULL, RT, 0, 6.0e-05, 0.055645, 0.520575, 1.0, 0.520575,
         0.055645, 6.0e-05),
    CASE("taylor", 1, true, "{\"nbar\":2,\"sll\":15,\"norm\":true}", RT, 0, 1.0),
    CASE("taylor", 5, true, "{\"nbar\":2,\"sll\":15,\"norm\":true}", RT, 0, 0.75803341, 0.90757699,
         1.0, 0.90757699, 0.75803341),
    CASE("taylor", 6, true, "{\"nbar\":2,\"sll\":15,\"norm\":true}", RT, 0, 0.7504082, 0.86624416,
         0.98208011, 0.98208011, 0.86624416, 0.7504082),
    CASE("taylor", 5, true, "{\"nbar\":2,\"sll\":15,\"norm\":false}", RT, 0, 0.87508054, 1.04771499,
         1.15440894, 1.04771499, 0.87508054),
    CASE("taylor", 6, true, "{\"nbar\":2,\"sll\":15,\"norm\":false}", RT, 0, 0.86627793, 1.0,
         1.13372207, 1.13372207, 1.0, 0.86627793),
    CASE("bohman", 6, true, NULL, RT, 0, 0, 0.1791238937062839, 0.8343114522576858,
         0.8343114522576858, 0.1791238937062838, 0),
    CASE("bohman", 7, true, NULL, RT, 0, 0, 0.1089977810442293, 0.6089977810442293, 1.0,
         0.6089977810442295, 0.1089977810442293, 0),
    CASE("bohman", 6, false, NULL, RT, 0, 0, 0.1089977810442293, 0.6089977810442293, 1.0,
         0.6089977810442295, 0.1089977810442293),
    CASE("boxcar", 6, true, NULL, RT, 0, 1, 1, 1, 1, 1, 1),
    CASE("boxcar", 7, true, NULL, RT, 0, 1, 1, 1, 1, 1, 1, 1),
    CASE("boxcar", 6, false, NULL, RT, 0, 1, 1, 1, 1, 1, 1),
    CASE("chebwin", 6, true, "{\"at\":100}", RT, 0, 0.1046401879356917, 0.5075781475823447, 1.0,
         1.0, 0.5075781475823447, 0.1046401879356917),
    CASE("chebwin", 7, true, "{\"at\":100}", RT, 0, 0.05650405062850233, 0.316608530648474,
         0.7601208123539079, 1.0, 0.7601208123539079, 0.316608530648474, 0.05650405062850233),
    CASE("chebwin", 6, true, "{\"at\":10}", RT, 0, 1.0, 0.6071201674458373, 0.6808391469897297,
         0.6808391469897297, 0.6071201674458373, 1.0),
    CASE("chebwin", 7, true, "{\"at\":10}", RT, 0, 1.0, 0.5190521247588651, 0.5864059018130382,
         0.6101519801307441, 0.5864059018130382, 0.5190521247588651, 1.0),
    CASE("chebwin", 6, false, "{\"at\":10}", RT, 0, 1.0, 0.5190521247588651, 0.5864059018130382,
         0.6101519801307441, 0.5864059018130382, 0.5190521247588651),
    CASE("chebwin", 53, true, "{\"at\":-40}", 0, D4, 0.200938, 0.107729, 0.134941, 0.165348,
         0.198891, 0.235450, 0.274846, 0.316836, 0.361119, 0.407338, 0.455079, 0.503883, 0.553248,
         0.602637, 0.651489, 0.699227, 0.745266, 0.789028, 0.829947, 0.867485, 0.901138, 0.930448,
         0.955010, 0.974482, 0.988591, 0.997138, 1.000000, 0.997138, 0.988591, 0.974482, 0.955010,
         0.930448, 0.901138, 0.867485, 0.829947, 0.789028, 0.745266, 0.699227, 0.651489, 0.602637,
         0.553248, 0.503883, 0.455079, 0.407338, 0.361119, 0.316836, 0.274846, 0.235450, 0.198891,
         0.165348, 0.134941, 0.107729, 0.200938),
    CASE("chebwin", 54, true, "{\"at\":40}", 0, D4, 0.203894, 0.107279, 0.133904, 0.163608,
         0.196338, 0.231986, 0.270385, 0.311313, 0.354493, 0.399594, 0.446233, 0.493983, 0.542378,
         0.590916, 0.639071, 0.686302, 0.732055, 0.775783, 0.816944, 0.855021, 0.889525, 0.920006,
         0.946060, 0.967339, 0.983557, 0.994494, 1.000000, 1.000000, 0.994494, 0.983557, 0.967339,
         0.946060, 0.920006, 0.889525, 0.855021, 0.816944, 0.775783, 0.732055, 0.686302, 0.639071,
         0.590916, 0.542378, 0.493983, 0.446233, 0.399594, 0.354493, 0.311313, 0.270385, 0.231986,
         0.196338, 0.163608, 0.133904, 0.107279, 0.203894),
    CASE("chebwin", 7, true, "{\"at\":10}", 0, D4, 1.000000, 0.519052, 0.586405, 0.610151, 0.586405,
         0.519052, 1.000000),
    CASE("chebwin", 8, true, "{\"at\":-10}", 0, D4, 1.000000, 0.451924, 0.51027, 0.541338, 0.541338,
         0.51027, 0.451924, 1.000000),
    CASE("flattop", 6, false, NULL, RT, 0, -0.000421051, -0.051263156, 0.19821053, 1.0, 0.19821053,
         -0.051263156),
    CASE("flattop", 7, false, NULL, RT, 0, -0.000421051, -0.03684078115492348, 0.01070371671615342,
         0.7808739149387698, 0.7808739149387698, 0.01070371671615342, -0.03684078115492348),
    CASE("flattop", 6, true, NULL, RT, 0, -0.000421051, -0.0677142520762119, 0.6068721525762117,
         0.6068721525762117, -0.0677142520762119, -0.000421051),
    CASE("flattop", 7, true, NULL, RT, 0, -0.000421051, -0.051263156, 0.19821053, 1.0, 0.19821053,
         -0.051263156, -0.000421051),
    CASE("gaussian", 6, true, "{\"std\":1.0}", RT, 0, 0.04393693362340742, 0.3246524673583497,
         0.8824969025845955, 0.8824969025845955, 0.3246524673583497, 0.04393693362340742),
    CASE("gaussian", 7, true, "{\"std\":1.2}", RT, 0, 0.04393693362340742, 0.2493522087772962,
         0.7066482778577162, 1.0, 0.7066482778577162, 0.2493522087772962, 0.04393693362340742),
    CASE("gaussian", 7, true, "{\"std\":3}", RT, 0, 0.6065306597126334, 0.8007374029168081,
         0.9459594689067654, 1.0, 0.9459594689067654, 0.8007374029168081, 0.6065306597126334),
    CASE("gaussian", 6, false, "{\"std\":3}", RT, 0, 0.6065306597126334, 0.8007374029168081,
         0.9459594689067654, 1.0, 0.9459594689067654, 0.8007374029168081),
    CASE("general_cosine", 5, true, "{\"a\":[0.5,0.3,0.2]}", RT, 0, 0.4, 0.3, 1, 0.3, 0.4),
    CASE("general_cosine", 4, false, "{\"a\":[0.5,0.3,0.2]}", RT, 0, 0.4, 0.3, 1, 0.3),
    CASE("general_cosine", 4, true, "{\"a\":[0.5,0.3,0.2]}", RT, 0, 0.4, 0.55, 0.55, 0.4),
    CASE("general_hamming", 5, true, "{\"alpha\":0.7}", RT, 0, 0.4, 0.7, 1.0, 0.7, 0.4),
    CASE("general_hamming", 5, false, "{\"alpha\":0.75}", RT, 0, 0.5, 0.6727457514, 0.9522542486,
         0.9522542486, 0.6727457514),
    CASE("general_hamming", 6, true, "{\"alpha\":0.75}", RT, 0, 0.5, 0.6727457514, 0.9522542486,
         0.9522542486, 0.6727457514, 0.5),
    CASE("general_hamming", 5, false, "{\"alpha\":0.7}", RT, 0, 0.4, 0.6072949, 0.9427051,
         0.9427051, 0.6072949),
    CASE("hamming", 6, false, NULL, RT, 0, 0.08, 0.31, 0.77, 1.0, 0.77, 0.31),
    CASE("hamming", 7, false, NULL, RT, 0, 0.08, 0.2531946911449826, 0.6423596296199047,
         0.9544456792351128, 0.9544456792351128, 0.6423596296199047, 0.2531946911449826),
    CASE("hamming", 6, true, NULL, RT, 0, 0.08, 0.3978521825875242, 0.9121478174124757,
         0.9121478174124757, 0.3978521825875242, 0.08),
    CASE("hamming", 7, true, NULL, RT, 0, 0.08, 0.31, 0.77, 1.0, 0.77, 0.31, 0.08),
    CASE("hann", 6, false, NULL, RT, 0, 0, 0.25, 0.75, 1.0, 0.75, 0.25),
    CASE("hann", 7, false, NULL, RT, 0, 0, 0.1882550990706332, 0.6112604669781572,
         0.9504844339512095, 0.9504844339512095, 0.6112604669781572, 0.1882550990706332),
    CASE("hann", 6, true, NULL, RT, 0, 0, 0.3454915028125263, 0.9045084971874737,
         0.9045084971874737, 0.3454915028125263, 0),
    CASE("hann", 7, true, NULL, RT, 0, 0, 0.25, 0.75, 1.0, 0.75, 0.25, 0),
    CASE("kaiser", 6, true, "{\"beta\":0.5}", RT, 0, 0.9403061933191572, 0.9782962393705389,
         0.9975765035372042, 0.9975765035372042, 0.9782962393705389, 0.9403061933191572),
    CASE("kaiser", 7, true, "{\"beta\":0.5}", RT, 0, 0.9403061933191572, 0.9732402256999829,
         0.9932754654413773, 1.0, 0.9932754654413773, 0.9732402256999829, 0.9403061933191572),
    CASE("kaiser", 6, true, "{\"beta\":2.7}", RT, 0, 0.2603047507678832, 0.6648106293528054,
         0.9582099802511439, 0.9582099802511439, 0.6648106293528054, 0.2603047507678832),
    CASE("kaiser", 7, true, "{\"beta\":2.7}", RT, 0, 0.2603047507678832, 0.5985765418119844,
         0.8868495172060835, 1.0, 0.8868495172060835, 0.5985765418119844, 0.2603047507678832),
    CASE("kaiser", 6, false, "{\"beta\":2.7}", RT, 0, 0.2603047507678832, 0.5985765418119844,
         0.8868495172060835, 1.0, 0.8868495172060835, 0.5985765418119844),
    /* Reference values from other implementations quoted by SciPy (beta = pi/2),
    ** first half only. */
    CASE("kaiser_bessel_derived", 2, true, "{\"beta\":1.5707963267948966}", RT, 0,
         0.70710678118654752),
    CASE("kaiser_bessel_derived", 4, true, "{\"beta\":1.5707963267948966}", RT, 0, 0.518562710536,
         0.855039598640),
    CASE("kaiser_bessel_derived", 6, true, "{\"beta\":1.5707963267948966}", RT, 0, 0.436168993154,
         0.707106781187, 0.899864772847),
    CASE("nuttall", 6, false, NULL, RT, 0, 0.0003628, 0.0613345, 0.5292298, 1.0, 0.5292298,
         0.0613345),
    CASE("nuttall", 7, false, NULL, RT, 0, 0.0003628, 0.03777576895352025, 0.3427276199688195,
         0.8918518610776603, 0.8918518610776603, 0.3427276199688196, 0.0377757689535203),
    CASE("nuttall", 6, true, NULL, RT, 0, 0.0003628, 0.1105152530498718, 0.7982580969501282,
         0.7982580969501283, 0.1105152530498719, 0.0003628),
    CASE("nuttall", 7, true, NULL, RT, 0, 0.0003628, 0.0613345, 0.5292298, 1.0, 0.5292298,
         0.0613345, 0.0003628),
    CASE("parzen", 6, true, NULL, RT, 0, 0.009259259259259254, 0.25, 0.8611111111111112,
         0.8611111111111112, 0.25, 0.009259259259259254),
    CASE("parzen", 7, true, NULL, RT, 0, 0.00583090379008747, 0.1574344023323616,
         0.6501457725947521, 1.0, 0.6501457725947521, 0.1574344023323616, 0.00583090379008747),
    CASE("parzen", 6, false, NULL, RT, 0, 0.00583090379008747, 0.1574344023323616,
         0.6501457725947521, 1.0, 0.6501457725947521, 0.1574344023323616),
    CASE("triang", 6, true, NULL, RT, 0, 1. / 6, 1. / 2, 5. / 6, 5. / 6, 1. / 2, 1. / 6),
    CASE("triang", 7, true, NULL, RT, 0, 1. / 4, 1. / 2, 3. / 4, 1, 3. / 4, 1. / 2, 1. / 4),
    CASE("triang", 6, false, NULL, RT, 0, 1. / 4, 1. / 2, 3. / 4, 1, 3. / 4, 1. / 2),
    CASE("tukey", 4, true, "{\"alpha\":0.5}", 1e-14, 0, 0.0, 1.0, 1.0, 0.0),
    CASE("tukey", 4, true, "{\"alpha\":0.9}", 1e-14, 0, 0.0, 0.84312081893436686,
         0.84312081893436686, 0.0),
    CASE("tukey", 4, true, "{\"alpha\":1.0}", 1e-14, 0, 0.0, 0.75, 0.75, 0.0),
    CASE("tukey", 4, false, "{\"alpha\":0.5}", 1e-14, 0, 0.0, 1.0, 1.0, 1.0),
    CASE("tukey", 4, false, "{\"alpha\":0.9}", 1e-14, 0, 0.0, 0.58682408883346526, 1.0,
         0.58682408883346526),
    CASE("tukey", 4, false, "{\"alpha\":1.0}", 1e-14, 0, 0.0, 0.5, 1.0, 0.5),
    CASE("tukey", 5, true, "{\"alpha\":0.0}", 1e-14, 0, 1.0, 1.0, 1.0, 1.0, 1.0),
    CASE("tukey", 5, true, "{\"alpha\":0.8}", 1e-14, 0, 0.0, 0.69134171618254492, 1.0,
         0.69134171618254492, 0.0),
    CASE("tukey", 5, true, "{\"alpha\":1.0}", 1e-14, 0, 0.0, 0.5, 1.0, 0.5, 0.0),
    CASE("tukey", 6, true, "{\"alpha\":0}", 1e-14, 0, 1, 1, 1, 1, 1, 1),
    CASE("tukey", 7, true, "{\"alpha\":0}", 1e-14, 0, 1, 1, 1, 1, 1, 1, 1),
    CASE("tukey", 6, true, "{\"alpha\":0.25}", 1e-14, 0, 0, 1, 1, 1, 1, 0),
    CASE("tukey", 7, true, "{\"alpha\":0.25}", 1e-14, 0, 0, 1, 1, 1, 1, 1, 0),
    CASE("tukey", 6, true, "{\"alpha\":0.5}", 1e-14, 0, 0, 0.9045084971874737, 1.0, 1.0,
         0.9045084971874735, 0),
    CASE("tukey", 7, true, "{\"alpha\":0.5}", 1e-14, 0, 0, 0.75, 1.0, 1.0, 1.0, 0.75, 0),
    CASE("tukey", 6, true, "{\"alpha\":0.75}", 1e-14, 0, 0, 0.5522642316338269, 1.0, 1.0,
         0.5522642316338267, 0),
    CASE("tukey", 7, true, "{\"alpha\":0.75}", 1e-14, 0, 0, 0.4131759111665348, 0.9698463103929542,
         1.0, 0.9698463103929542, 0.4131759111665347, 0),
    CASE("tukey", 6, true, "{\"alpha\":1}", 1e-14, 0, 0, 0.3454915028125263, 0.9045084971874737,
         0.9045084971874737, 0.3454915028125263, 0),
    CASE("tukey", 7, true, "{\"alpha\":1}", 1e-14, 0, 0, 0.25, 0.75, 1.0, 0.75, 0.25, 0),
    CASE("lanczos", 6, false, NULL, 0, 1e-9, 0., 0.413496672, 0.826993343, 1., 0.826993343,
         0.413496672),
    CASE("lanczos", 6, true, NULL, 0, 1e-9, 0., 0.504551152, 0.935489284, 0.935489284, 0.504551152,
         0.),
    CASE("lanczos", 7, true, NULL, 0, 1e-9, 0., 0.413496672, 0.826993343, 1., 0.826993343,
         0.413496672, 0.),
};

/* spy_window with opts as JSON text; w must hold n values. */
static int win(const char *name, size_t n, bool sym, const char *opts, double *w, spy_err *err)
{
  cJSON *o = opts ? cJSON_Parse(opts) : NULL;
  int rc = spy_window(name, n, sym, o, w, err);
  cJSON_Delete(o);
  return rc;
}

static bool close_to(double a, double b, double rtol, double atol)
{
  return fabs(a - b) <= atol + rtol * fabs(b);
}

static void test_scipy_literals(void)
{
  double w[64];
  spy_err err = {0};
  for (size_t c = 0; c < sizeof scipy_cases / sizeof scipy_cases[0]; c++) {
    const wcase *k = &scipy_cases[c];
    int rc = win(k->name, k->n, k->sym, k->opts, w, &err);
    CHECK(rc == SPY_OK, "%s(%zu): %s", k->name, k->n, err.msg);
    if (rc) continue;
    for (size_t i = 0; i < k->len; i++)
      CHECK(close_to(w[i], k->want[i], k->rtol, k->atol),
            "%s(%zu, %s, sym=%d)[%zu] = %.17g, want %.17g", k->name, k->n, k->opts ? k->opts : "",
            k->sym, i, w[i], k->want[i]);
  }
}

/* Parameters for the property checks: SciPy's test_windowfunc_basics set
** plus the windows it leaves out. */
static const char *basic_opts(const char *name)
{
  static const struct {
    const char *name, *opts;
  } t[] = {{"kaiser", "{\"beta\":1}"},
           {"kaiser_bessel_derived", "{\"beta\":4}"},
           {"gaussian", "{\"std\":0.5}"},
           {"general_cosine", "{\"a\":[0.5,0.3,0.2]}"},
           {"general_gaussian", "{\"p\":1.5,\"sig\":2}"},
           {"general_hamming", "{\"alpha\":0.7}"},
           {"chebwin", "{\"at\":1}"},
           {"tukey", "{\"alpha\":0.5}"},
           {"taylor", "{\"nbar\":4,\"sll\":30,\"norm\":true}"}};
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
    if (strcmp(t[i].name, name) == 0) return t[i].opts;
  return NULL;
}

/* Every window: periodic(n) is symmetric(n+1) without its last point;
** symmetric windows are mirror images, periodic ones DFT-even
** (w[k] = w[n-k], SciPy checks the DFT is real); n = 0 and 1 as SciPy;
** peak < 1.01 as SciPy checks. */
static void test_properties(void)
{
  spy_err err = {0};
  double s[40], p[40];
  for (const spy_window_info *i = spy_windows; i->name; i++) {
    const char *o = basic_opts(i->name);
    bool kbd = strcmp(i->name, "kaiser_bessel_derived") == 0;
    for (size_t n = 2; n <= 33 && !kbd; n++) {
      CHECK(win(i->name, n + 1, true, o, s, &err) == SPY_OK, "%s: %s", i->name, err.msg);
      CHECK(win(i->name, n, false, o, p, &err) == SPY_OK, "%s: %s", i->name, err.msg);
      double dmax = 0, amax = 0, pmax = 0;
      for (size_t k = 0; k < n; k++)
        dmax = fmax(dmax, fabs(s[k] - p[k]));
      for (size_t k = 0; k <= n; k++)
        amax = fmax(amax, fabs(s[k] - s[n - k]));
      for (size_t k = 1; k < n; k++)
        pmax = fmax(pmax, fabs(p[k] - p[n - k]));
      CHECK(dmax == 0, "%s(%zu, sym=false) differs from %s(%zu)[:-1] by %g", i->name, n, i->name,
            n + 1, dmax);
      CHECK(amax <= 1e-14, "%s(%zu) not symmetric (%g)", i->name, n + 1, amax);
      CHECK(pmax <= 1e-14, "%s(%zu, sym=false) not DFT-even (%g)", i->name, n, pmax);
    }
    for (size_t n = 9; n <= 10; n++)
      for (int sym = 0; sym < 2; sym++) {
        if (kbd && (!sym || n % 2)) continue;
        CHECK(win(i->name, n, sym, o, s, &err) == SPY_OK, "%s: %s", i->name, err.msg);
        for (size_t k = 0; k < n; k++)
          CHECK(s[k] < 1.01, "%s(%zu)[%zu] = %g", i->name, n, k, s[k]);
      }
    for (int sym = 0; sym < 2; sym++) {
      s[0] = -1;
      CHECK(win(i->name, 0, sym || kbd, o, s, &err) == SPY_OK && s[0] == -1, "%s(0) writes nothing",
            i->name);
      if (kbd) continue;
      CHECK(win(i->name, 1, sym, o, s, &err) == SPY_OK && s[0] == 1.0, "%s(1) = [1]", i->name);
    }
  }
}

/* Identities between windows, for the ones SciPy's suite gives no numbers. */
static void test_identities(void)
{
  spy_err err = {0};
  enum { N = 101 };
  double a[N], b[N];
  for (int sym = 0; sym < 2; sym++) {
    win("cosine", N, sym, NULL, a, &err);
    size_t M = sym ? N : N + 1;
    for (size_t k = 0; k < N; k++)
      CHECK_NEAR(a[k], sin(M_PI * ((double)k + 0.5) / (double)M), 1e-15, "cosine");
    win("general_gaussian", N, sym, "{\"p\":1,\"sig\":7.5}", a, &err);
    win("gaussian", N, sym, "{\"std\":7.5}", b, &err);
    for (size_t k = 0; k < N; k++)
      CHECK_NEAR(a[k], b[k], 1e-15, "general_gaussian(p=1)=gaussian");
    win("general_hamming", N, sym, "{\"alpha\":0.54}", a, &err);
    win("hamming", N, sym, NULL, b, &err);
    for (size_t k = 0; k < N; k++)
      CHECK_NEAR(a[k], b[k], 1e-15, "general_hamming(0.54)=hamming");
    win("general_cosine", N, sym, "{\"a\":[0.5,0.5]}", a, &err);
    win("hann", N, sym, NULL, b, &err);
    for (size_t k = 0; k < N; k++)
      CHECK_NEAR(a[k], b[k], 1e-15, "general_cosine([.5,.5])=hann");
    win("tukey", N, sym, "{\"alpha\":1.5}", a, &err);
    for (size_t k = 0; k < N; k++)
      CHECK(a[k] == b[k], "tukey(alpha>=1) is hann");
    win("tukey", N, sym, "{\"alpha\":-1}", a, &err);
    win("kaiser", N, sym, "{\"beta\":0}", b, &err);
    for (size_t k = 0; k < N; k++)
      CHECK(a[k] == 1 && b[k] == 1, "tukey(0), kaiser(0) are boxcars");
  }
  /* SciPy's test_symmetric: lanczos is exactly symmetric at 4096 and 4097. */
  static double big[4097];
  for (size_t n = 4096; n <= 4097; n++) {
    win("lanczos", n, true, NULL, big, &err);
    double e = 0;
    for (size_t k = 0; k < n; k++)
      e = fmax(e, fabs(big[k] - big[n - 1 - k]));
    CHECK(e == 0, "lanczos(%zu) asymmetric by %g", n, e);
  }
  /* kaiser_bessel_derived: Princen-Bradley w[k]^2 + w[k+M/2]^2 = 1 (SciPy, M=100). */
  win("kaiser_bessel_derived", 100, true, "{\"beta\":4.0}", big, &err);
  for (size_t k = 0; k < 50; k++)
    CHECK_NEAR(big[k] * big[k] + big[k + 50] * big[k + 50], 1.0, 1e-14, "Princen-Bradley");
  /* kaiser stays finite where SciPy's unscaled i0 overflows (beta > ~713). */
  win("kaiser", 51, true, "{\"beta\":800}", a, &err);
  CHECK(a[25] == 1.0 && a[0] >= 0 && a[0] < 1e-300 && isfinite(a[10]), "kaiser(beta=800)");
}

static void expect_err(const char *name, size_t n, bool sym, const char *opts, int code,
                       const char *msg)
{
  double w[16];
  spy_err err = {0};
  int rc = win(name, n, sym, opts, w, &err);
  CHECK(rc == code, "%s %s: rc %d, want %d (%s)", name, opts ? opts : "", rc, code, err.msg);
  CHECK(strcmp(err.msg, msg) == 0, "message\n  got  %s\n  want %s", err.msg, msg);
}

static void test_errors(void)
{
  double w[4];
  spy_err err = {0};
  CHECK(win("hanning", 4, true, NULL, w, &err) == SPY_EINVAL, "unknown window");
  CHECK(strncmp(err.msg,
                "Invalid value of `taper`: 'hanning'; expected 'boxcar' or 'triang' or "
                "'parzen' or ",
                73) == 0 &&
            strstr(err.msg, "or 'taylor' or 'lanczos' ") != NULL,
        "%s", err.msg);
  expect_err("taylor", 8, true, NULL, SPY_EINVAL,
             "Invalid value of `taper_opt`: 'nil'; expected additional parameters for taper "
             "'taylor': ['nbar', 'sll', 'norm']");
  expect_err("taylor", 8, true, "{\"nbar\":4,\"norm\":true}", SPY_EINVAL,
             "Invalid value of `taper_opt`: 'nil'; expected additional parameter 'sll' for "
             "`taper='taylor'`");
  expect_err("kaiser", 8, true, "{}", SPY_EINVAL,
             "Invalid value of `taper_opt`: 'nil'; expected additional parameter 'beta' for "
             "`taper='kaiser'`");
  expect_err("taylor", 8, true, "{\"nbar\":4,\"sll\":30,\"norm\":1}", SPY_ETYPE,
             "Wrong type of `taper_opt['norm']`: expected boolean found integer");
  expect_err("kaiser", 8, true, "{\"beta\":\"big\"}", SPY_ETYPE,
             "Wrong type of `taper_opt['beta']`: expected a number found string");
  expect_err("general_cosine", 8, true, "{\"a\":0.5}", SPY_ETYPE,
             "Wrong type of `taper_opt['a']`: expected list of numbers found number");
  expect_err("taylor", 8, true, "{\"nbar\":0,\"sll\":30,\"norm\":true}", SPY_EINVAL,
             "Invalid value of `taper_opt['nbar']`: '0'; expected an integer between 1 and 10000");
  expect_err("gaussian", 8, true, "{\"std\":0}", SPY_EINVAL,
             "Invalid value of `taper_opt['std']`: '0'; expected a non-zero width");
  expect_err("kaiser_bessel_derived", 8, false, "{\"beta\":4}", SPY_EINVAL,
             "Kaiser-Bessel Derived windows are only defined for symmetric shapes (sym=true)");
  expect_err("kaiser_bessel_derived", 7, true, "{\"beta\":4}", SPY_EINVAL,
             "Kaiser-Bessel Derived windows are only defined for even number of points, got 7");
  /* Syncopy's process_taper checks, in its order. */
  static const struct {
    const char *name, *opts, *msg;
  } chk[] = {
      {"hann", NULL, ""},
      {"hann", "null", ""},
      {"kaiser", "{\"beta\":2}", ""},
      {"hann", "{\"a\":1,\"b\":[0.5,true,null,\"x\"]}",
       "Invalid value of `taper_opt`: '{a=1, b={0.5, true, nil, \"x\"}}'; expected nil, "
       "taper 'hann' has no additional parameters"},
      {"hann", "[1]", "Invalid value of `taper_opt`: 'list'; expected a table or nil"},
      {"kaiser", "{\"beta\":1,\"foo\":2}",
       "Invalid value of `taper_opt key`: 'foo'; expected one of ['beta'] for `taper='kaiser'`"},
      {"taylor", NULL,
       "Invalid value of `taper_opt`: 'nil'; expected additional parameters for taper 'taylor': "
       "['nbar', 'sll', 'norm']"},
      {"tukey", "{}",
       "Invalid value of `taper_opt`: 'nil'; expected additional parameter 'alpha' for "
       "`taper='tukey'`"},
      {"dpss", NULL, NULL},
  };
  for (size_t i = 0; i < sizeof chk / sizeof chk[0]; i++) {
    cJSON *o = chk[i].opts ? cJSON_Parse(chk[i].opts) : NULL;
    spy_err_clear(&err);
    int rc = spy_window_check_opts(chk[i].name, o, &err);
    cJSON_Delete(o);
    if (!chk[i].msg)
      CHECK(rc == SPY_EINVAL && strncmp(err.msg, "Invalid value of `taper`: 'dpss'", 32) == 0, "%s",
            err.msg);
    else
      CHECK((rc == SPY_OK) == (chk[i].msg[0] == 0) && strcmp(err.msg, chk[i].msg) == 0,
            "check_opts(%s, %s): %s", chk[i].name, chk[i].opts ? chk[i].opts : "NULL", err.msg);
  }
  /* Parameters are required whatever the length (SciPy's signature). */
  CHECK(win("kaiser", 0, true, NULL, w, &err) == SPY_EINVAL, "kaiser(0) without beta");
}

/* ---- DPSS -------------------------------------------------------------- */

typedef struct dcase {
  size_t n;
  double NW;
  size_t K;
  const double *tapers, *ratios;
} dcase;

/* SciPy's dpss_data (values from MATLAB), sym=True; tapers atol 1e-7,
** ratios rtol 1e-5 + atol 1e-7. */
static const dcase dpss_cases[] = {
    {4, 0.1, 2,
     A(0.497943898, 0.502047681, 0.502047681, 0.497943898, 0.670487993, 0.224601537, -0.224601537,
       -0.670487993),
     A(0.197961815, 0.002035474)},
    {3, 1.4, 3,
     A(0.410233151, 0.814504464, 0.410233151, 0.707106781, 0.0, -0.707106781, 0.575941629,
       -0.580157287, 0.575941629),
     A(0.999998093, 0.998067480, 0.801934426)},
    {5, 1.5, 5,
     A(0.1745071052, 0.4956749177, 0.669109327, 0.495674917, 0.174507105, 0.4399493348, 0.553574369,
       0.0, -0.553574369, -0.439949334, 0.631452756, 0.073280238, -0.437943884, 0.073280238,
       0.631452756, 0.553574369, -0.439949334, 0.0, 0.439949334, -0.553574369, 0.266110290,
       -0.498935248, 0.600414741, -0.498935248, 0.266110290147157),
     A(0.999728571, 0.983706916, 0.768457889, 0.234159338, 0.013947282907567)},
    {100, 2, 4,
     A(0.0030914414, 0.0041266922, 0.005315076, 0.006665149, 0.008184854, 0.0098814158, 0.011761239,
       0.013829809, 0.016091597, 0.018549973, 0.02120712, 0.02406396, 0.027120092, 0.030373728,
       0.033821651, 0.037459181, 0.041280145, 0.045276872, 0.049440192, 0.053759447, 0.058222524,
       0.062815894, 0.067524661, 0.072332638, 0.077222418, 0.082175473, 0.087172252, 0.092192299,
       0.097214376, 0.1022166, 0.10717657, 0.11207154, 0.11687856, 0.12157463, 0.12613686,
       0.13054266, 0.13476986, 0.13879691, 0.14260302, 0.14616832, 0.14947401, 0.1525025,
       0.15523755, 0.15766438, 0.15976981, 0.16154233, 0.16297223, 0.16405162, 0.16477455,
       0.16513702, 0.16513702, 0.16477455, 0.16405162, 0.16297223, 0.16154233, 0.15976981,
       0.15766438, 0.15523755, 0.1525025, 0.14947401, 0.14616832, 0.14260302, 0.13879691,
       0.13476986, 0.13054266, 0.12613686, 0.12157463, 0.11687856, 0.11207154, 0.10717657,
       0.1022166, 0.097214376, 0.092192299, 0.087172252, 0.082175473, 0.077222418, 0.072332638,
       0.067524661, 0.062815894, 0.058222524, 0.053759447, 0.049440192, 0.045276872, 0.041280145,
       0.037459181, 0.033821651, 0.030373728, 0.027120092, 0.02406396, 0.02120712, 0.018549973,
       0.016091597, 0.013829809, 0.011761239, 0.0098814158, 0.008184854, 0.006665149, 0.005315076,
       0.0041266922, 0.0030914414, 0.018064449, 0.022040342, 0.026325013, 0.030905288, 0.035764398,
       0.040881982, 0.046234148, 0.051793558, 0.057529559, 0.063408356, 0.069393216, 0.075444716,
       0.081521022, 0.087578202, 0.093570567, 0.099451049, 0.10517159, 0.11068356, 0.11593818,
       0.12088699, 0.12548227, 0.12967752, 0.1334279, 0.13669069, 0.13942569, 0.1415957, 0.14316686,
       0.14410905, 0.14439626, 0.14400686, 0.14292389, 0.1411353, 0.13863416, 0.13541876,
       0.13149274, 0.12686516, 0.12155045, 0.1155684, 0.10894403, 0.10170748, 0.093893752,
       0.08554251, 0.076697768, 0.067407559, 0.057723559, 0.04770068, 0.037396627, 0.026871428,
       0.016186944, 0.0054063557, -0.0054063557, -0.016186944, -0.026871428, -0.037396627,
       -0.04770068, -0.057723559, -0.067407559, -0.076697768, -0.08554251, -0.093893752,
       -0.10170748, -0.10894403, -0.1155684, -0.12155045, -0.12686516, -0.13149274, -0.13541876,
       -0.13863416, -0.1411353, -0.14292389, -0.14400686, -0.14439626, -0.14410905, -0.14316686,
       -0.1415957, -0.13942569, -0.13669069, -0.1334279, -0.12967752, -0.12548227, -0.12088699,
       -0.11593818, -0.11068356, -0.10517159, -0.099451049, -0.093570567, -0.087578202,
       -0.081521022, -0.075444716, -0.069393216, -0.063408356, -0.057529559, -0.051793558,
       -0.046234148, -0.040881982, -0.035764398, -0.030905288, -0.026325013, -0.022040342,
       -0.018064449, 0.064817553, 0.072567801, 0.080292992, 0.087918235, 0.095367076, 0.10256232,
       0.10942687, 0.1158846, 0.12186124, 0.12728523, 0.13208858, 0.13620771, 0.13958427,
       0.14216587, 0.14390678, 0.14476863, 0.1447209, 0.14374148, 0.14181704, 0.13894336,
       0.13512554, 0.13037812, 0.1247251, 0.11819984, 0.11084487, 0.10271159, 0.093859853,
       0.084357497, 0.074279719, 0.063708406, 0.052731374, 0.041441525, 0.029935953, 0.018314987,
       0.0066811877, -0.0048616765, -0.016209689, -0.027259848, -0.037911124, -0.048065512,
       -0.05762905, -0.066512804, -0.0746338, -0.081915903, -0.088290621, -0.09369783, -0.098086416,
       -0.10141482, -0.10365146, -0.10477512, -0.10477512, -0.10365146, -0.10141482, -0.098086416,
       -0.09369783, -0.088290621, -0.081915903, -0.0746338, -0.066512804, -0.05762905, -0.048065512,
       -0.037911124, -0.027259848, -0.016209689, -0.0048616765, 0.0066811877, 0.018314987,
       0.029935953, 0.041441525, 0.052731374, 0.063708406, 0.074279719, 0.084357497, 0.093859853,
       0.10271159, 0.11084487, 0.11819984, 0.1247251, 0.13037812, 0.13512554, 0.13894336,
       0.14181704, 0.14374148, 0.1447209, 0.14476863, 0.14390678, 0.14216587, 0.13958427,
       0.13620771, 0.13208858, 0.12728523, 0.12186124, 0.1158846, 0.10942687, 0.10256232,
       0.095367076, 0.087918235, 0.080292992, 0.072567801, 0.064817553, 0.14985551, 0.15512305,
       0.15931467, 0.16236806, 0.16423291, 0.16487165, 0.16426009, 0.1623879, 0.1592589, 0.15489114,
       0.14931693, 0.14258255, 0.13474785, 0.1258857, 0.11608124, 0.10543095, 0.094041635,
       0.082029213, 0.069517411, 0.056636348, 0.043521028, 0.030309756, 0.017142511, 0.0041592774,
       -0.0085016282, -0.020705223, -0.032321494, -0.043226982, -0.053306291, -0.062453515,
       -0.070573544, -0.077583253, -0.083412547, -0.088005244, -0.091319802, -0.093329861,
       -0.094024602, -0.093408915, -0.091503383, -0.08834406, -0.08398207, -0.078483012,
       -0.071926192, -0.064403681, -0.056019215, -0.046886954, -0.037130106, -0.026879442,
       -0.016271713, -0.005448, 0.005448, 0.016271713, 0.026879442, 0.037130106, 0.046886954,
       0.056019215, 0.064403681, 0.071926192, 0.078483012, 0.08398207, 0.08834406, 0.091503383,
       0.093408915, 0.094024602, 0.093329861, 0.091319802, 0.088005244, 0.083412547, 0.077583253,
       0.070573544, 0.062453515, 0.053306291, 0.043226982, 0.032321494, 0.020705223, 0.0085016282,
       -0.0041592774, -0.017142511, -0.030309756, -0.043521028, -0.056636348, -0.069517411,
       -0.082029213, -0.094041635, -0.10543095, -0.11608124, -0.1258857, -0.13474785, -0.14258255,
       -0.14931693, -0.15489114, -0.1592589, -0.1623879, -0.16426009, -0.16487165, -0.16423291,
       -0.16236806, -0.15931467, -0.15512305, -0.14985551),
     A(0.999943140, 0.997571533, 0.959465463, 0.721862496)},
};

static void test_dpss_literals(void)
{
  spy_err err = {0};
  double t[400], r[5];
  for (size_t c = 0; c < sizeof dpss_cases / sizeof dpss_cases[0]; c++) {
    const dcase *d = &dpss_cases[c];
    int rc = spy_dpss(d->n, d->NW, d->K, true, t, r, &err);
    CHECK(rc == SPY_OK, "dpss(%zu): %s", d->n, err.msg);
    if (rc) continue;
    double et = 0;
    for (size_t i = 0; i < d->n * d->K; i++)
      et = fmax(et, fabs(t[i] - d->tapers[i]));
    CHECK(et <= 1e-7, "dpss(%zu, %g, %zu): max taper error %g", d->n, d->NW, d->K, et);
    for (size_t k = 0; k < d->K; k++)
      CHECK(close_to(r[k], d->ratios[k], 1e-5, 1e-7), "dpss(%zu) ratio %zu: %.10g want %.10g", d->n,
            k, r[k], d->ratios[k]);
  }
  /* SciPy's test_extremes: wide bands concentrate fully (decimal=6). */
  for (double NW = 6; NW <= 8; NW++) {
    spy_dpss(31, NW, 4, true, t, r, &err);
    for (size_t k = 0; k < 4; k++)
      CHECK_NEAR(r[k], 1.0, 1.5e-6, "dpss(31, NW>=6) ratio");
  }
}

static double dot(const double *a, const double *b, size_t n)
{
  double s = 0;
  for (size_t i = 0; i < n; i++)
    s += a[i] * b[i];
  return s;
}

static void test_dpss_properties(void)
{
  spy_err err = {0};
  enum { N = 2000, K = 15 };
  static double t[K * (N + 1)], u[K * (N + 1)];
  double r[K], NW = 8;
  for (int sym = 0; sym < 2; sym++) {
    CHECK(spy_dpss(N, NW, K, sym, t, r, &err) == SPY_OK, "dpss: %s", err.msg);
    size_t M = sym ? N : N + 1;
    double eo = 0, es = 0;
    for (size_t i = 0; i < K; i++) {
      /* Orthonormal, even-indexed symmetric, odd antisymmetric: before
      ** truncation, so only for sym. */
      for (size_t j = 0; j <= i && sym; j++)
        eo = fmax(eo, fabs(dot(t + i * N, t + j * N, N) - (i == j ? 1.0 : 0.0)));
      for (size_t k = 0; k < N && sym; k++)
        es = fmax(es, fabs(t[i * N + k] - (i % 2 ? -1 : 1) * t[i * N + N - 1 - k]));
      /* SciPy's signs: positive sum; positive first sample above the noise. */
      double s = 0;
      size_t first = 0;
      while (t[i * N + first] * t[i * N + first] <= fmax(1e-7, 1.0 / (double)M))
        first++;
      for (size_t k = 0; k < N; k++)
        s += t[i * N + k];
      CHECK(i % 2 ? t[i * N + first] > 0 : s > 0, "dpss taper %zu sign (sym=%d)", i, sym);
      CHECK(r[i] <= 1 + 1e-12 && r[i] > (i < 2 * NW - 3 ? 0.99 : 0.9),
            "dpss ratio %zu = %.15g (2NW-1 = %g tapers concentrated)", i, r[i], 2 * NW - 1);
      if (i) CHECK(r[i] <= r[i - 1] + 1e-12, "ratios decrease: %zu", i);
    }
    CHECK(eo < 1e-10, "orthonormality: max |<vi,vj> - dij| = %g", eo);
    CHECK(es < 1e-10, "(anti)symmetry: %g", es);
    if (sym)
      fprintf(stderr, "dpss(%d, 8, 15): orthonormality %.2e, (anti)symmetry %.2e, ratio[14] %.9f\n",
              N, eo, es, r[K - 1]);
  }
  /* sym=false is the n+1 taper, normalised there, then truncated (SciPy's _extend). */
  spy_dpss(N, NW, K, false, t, NULL, &err);
  spy_dpss(N + 1, NW, K, true, u, NULL, &err);
  double ep = 0;
  for (size_t i = 0; i < K; i++)
    for (size_t k = 0; k < N; k++)
      ep = fmax(ep, fabs(t[i * N + k] - u[i * (N + 1) + k]));
  CHECK(ep == 0, "periodic dpss = symmetric(n+1)[:n]: %g", ep);
  /* Taper k does not depend on how many tapers are asked for. */
  spy_dpss(N, NW, K, true, t, NULL, &err);
  for (size_t k2 = 1; k2 < K; k2 += 6) {
    spy_dpss(N, NW, k2, true, u, NULL, &err);
    double ek = 0;
    for (size_t i = 0; i < k2 * N; i++)
      ek = fmax(ek, fabs(t[i] - u[i]));
    CHECK(ek < 1e-10, "dpss(K=%zu) vs first %zu of K=15: %g", k2, k2, ek);
  }
  /* n = 1: SciPy's length guard returns ones. */
  double one[3] = {0, 0, 0};
  CHECK(spy_dpss(1, 3, 3, true, one, NULL, &err) == SPY_OK && one[0] == 1 && one[2] == 1,
        "dpss(1) = ones");
}

/* Kept tapers (windows.h): a later call with the same parameters gets the
** bytes of a fresh computation (calls with ratios always compute), other
** parameters do not match, and at most SPY_DPSS_KEEP sets are kept, also
** when threads ask at the same time. */
typedef struct dpss_job {
  double NW;
  double w[7 * 257];
} dpss_job;

static void *dpss_thread(void *arg)
{
  dpss_job *j = arg;
  spy_err err = {0};
  spy_dpss(257, j->NW, 7, true, j->w, NULL, &err);
  return NULL;
}

static void test_dpss_kept(void)
{
  enum { N = 257, K = 7 };
  static double fresh[K * N], again[K * N], other[K * N];
  double r[K];
  spy_err err = {0};
  CHECK(spy_dpss(N, 4.5, K, true, fresh, r, &err) == SPY_OK, "%s", err.msg);
  for (int i = 0; i < 2; i++) {
    memset(again, 0, sizeof again);
    CHECK(spy_dpss(N, 4.5, K, true, again, NULL, &err) == SPY_OK, "%s", err.msg);
    CHECK(memcmp(fresh, again, sizeof fresh) == 0, "kept dpss(257, 4.5, 7): not the computed bytes");
  }
  size_t count = 0;
  CHECK(spy_dpss_kept(&count) > 0 && count > 0, "a set is kept");
  /* another NW, the periodic variant, fewer tapers: other sets */
  spy_dpss(N, 4.500001, K, true, other, NULL, &err);
  CHECK(memcmp(fresh, other, sizeof fresh) != 0, "NW 4.500001 served the set of 4.5");
  spy_dpss(N, 4.5, K, false, other, NULL, &err);
  CHECK(memcmp(fresh, other, sizeof fresh) != 0, "sym=false served the sym=true set");
  spy_dpss(N, 4.5, K - 1, true, other, r, &err);
  spy_dpss(N, 4.5, K - 1, true, again, NULL, &err);
  CHECK(memcmp(other, again, (K - 1) * N * sizeof *other) == 0, "K = 6: kept bytes");

  /* more sets than are kept, from 8 threads at once: each result is the
  ** single-threaded computation's, and the bounds hold */
  static dpss_job jobs[3 * SPY_DPSS_KEEP];
  pthread_t th[8];
  size_t nj = sizeof jobs / sizeof jobs[0];
  for (size_t i = 0; i < nj; i++) jobs[i].NW = 2 + 0.125 * (double)(i % (nj / 2));
  for (size_t i0 = 0; i0 < nj; i0 += 8) {
    size_t nt = nj - i0 < 8 ? nj - i0 : 8;
    for (size_t i = 0; i < nt; i++) pthread_create(&th[i], NULL, dpss_thread, &jobs[i0 + i]);
    for (size_t i = 0; i < nt; i++) pthread_join(th[i], NULL);
  }
  size_t bytes = spy_dpss_kept(&count);
  CHECK(count <= SPY_DPSS_KEEP && bytes <= SPY_DPSS_KEEP_BYTES && bytes == count * K * N * sizeof(double),
        "kept %zu sets, %zu bytes", count, bytes);
  for (size_t i = 0; i < nj; i++) {
    spy_dpss(N, jobs[i].NW, K, true, again, r, &err); /* with ratios: computed */
    CHECK(memcmp(jobs[i].w, again, sizeof again) == 0, "thread job %zu (NW %g): bytes differ", i,
          jobs[i].NW);
  }
}

static void test_dpss_errors(void)
{
  spy_err err = {0};
  double t[16];
  CHECK(spy_dpss(4, 1.5, 0, true, t, NULL, &err) == SPY_EINVAL, "Kmax = 0");
  CHECK(spy_dpss(4, 1.5, 5, true, t, NULL, &err) == SPY_EINVAL &&
            strcmp(err.msg, "Invalid value of `Kmax`: '5'; expected greater than 0 and at most "
                            "M = 4") == 0,
        "%s", err.msg);
  CHECK(spy_dpss(3, 1.5, 3, true, t, NULL, &err) == SPY_EINVAL &&
            strcmp(err.msg, "Invalid value of `NW`: '1.5'; expected less than M/2 = 1.5") == 0,
        "%s", err.msg);
  CHECK(spy_dpss(3, -1, 3, true, t, NULL, &err) == SPY_EINVAL, "NW < 0");
  CHECK(spy_dpss(3, 0, 3, true, t, NULL, &err) == SPY_EINVAL, "NW = 0");
  CHECK(spy_dpss(3, NAN, 3, true, t, NULL, &err) == SPY_EINVAL, "NW = nan");
}

/* Syncopy's mtmfft power with 15 DPSS tapers (tapsmofrq = 4 Hz at 1 kHz,
** 2000 samples: NW = 8, Kmax = 15), rebuilt from its definition: demean,
** taper with sqrt(N) dpss_k, rfft, scale sqrt(2)/sqrt(L N), |.|^2, mean over
** tapers.  Relative 1e-5 of each channel's peak (output is float32). */
static void test_mtmfft_reference(void)
{
  const char *file = t_data("mtmfft_dpss_pow.h5");
  int nd = 0;
  size_t sin[8], sout[8];
  double *x = h5ref_read(file, "input", &nd, sin);
  double *ref = h5ref_read(file, "output", &nd, sout);
  CHECK(x && ref, "cannot read %s", file);
  if (!x || !ref) {
    free(x), free(ref);
    return;
  }
  enum { L = 2000, K = 15, NF = L / 2 + 1 };
  size_t nch = sin[1], ntr = sin[0] / L;
  CHECK(ntr == 5 && nch == 4 && sout[0] == 5 && sout[2] == NF && sout[3] == 4, "reference shapes");
  static double tap[K * L], pow_[NF];
  spy_err err = {0};
  CHECK(spy_dpss(L, 8.0, K, true, tap, NULL, &err) == SPY_OK, "%s", err.msg);
  fftw_plan plan = spy_fft_plan_simple(SPY_FFT_R2C, L, 1, &err);
  double *y = spy_fft_alloc(L * sizeof *y);
  fftw_complex *F = spy_fft_alloc(NF * sizeof *F);
  double worst = 0, scale = sqrt(2.0) / sqrt((double)L * L);
  for (size_t tr = 0; tr < ntr && plan; tr++)
    for (size_t c = 0; c < nch; c++) {
      double mean = 0;
      for (size_t i = 0; i < L; i++)
        mean += x[(tr * L + i) * nch + c];
      mean /= L;
      memset(pow_, 0, sizeof pow_);
      for (size_t k = 0; k < K; k++) {
        for (size_t i = 0; i < L; i++)
          y[i] = sqrt((double)L) * tap[k * L + i] * (x[(tr * L + i) * nch + c] - mean);
        fftw_execute_dft_r2c(plan, y, F);
        for (size_t f = 0; f < NF; f++) {
          double a = cabs(F[f]) * scale;
          pow_[f] += a * a / K;
        }
      }
      double dmax = 0, rmax = 0;
      for (size_t f = 0; f < NF; f++) {
        double r = ref[(tr * NF + f) * nch + c];
        dmax = fmax(dmax, fabs(pow_[f] - r));
        rmax = fmax(rmax, fabs(r));
      }
      CHECK(dmax / rmax <= 1e-5, "trial %zu channel %zu: rel err %g", tr, c, dmax / rmax);
      worst = fmax(worst, dmax / rmax);
    }
  fprintf(stderr, "mtmfft_dpss_pow.h5: max |spy - ref| / max |ref| over trials x channels = %.3g\n",
          worst);
  spy_fft_free(y), spy_fft_free(F);
  free(x), free(ref);
}

int main(void)
{
  spy_log_set_level(SPY_LOG_ERROR); /* chebwin's low-attenuation warning */
  test_scipy_literals();
  test_properties();
  test_identities();
  test_errors();
  test_dpss_literals();
  test_dpss_properties();
  test_dpss_errors();
  test_dpss_kept();
  test_mtmfft_reference();
  spy_fft_cleanup();
  return t_done();
}
