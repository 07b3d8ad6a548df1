/* Keyword specs: defaults, type errors, allowed values, suggestions. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/kwspec.h"
#include "dsp/freqanalysis_spec.h"
#include "t.h"

static const spy_kwarg kws[] = {
    {"method", SPY_KT_STR, "\"mtmfft\"", "mtmfft|mtmconvol|wavelet", "method"},
    {"tapsmofrq", SPY_KT_NUM | SPY_KT_NULL, "null", NULL, "smoothing"},
    {"keeptrials", SPY_KT_BOOL, "true", NULL, "keep trials"},
    {"foi", SPY_KT_NUMS | SPY_KT_STR | SPY_KT_NULL, "null", NULL, "frequencies"},
    {"nTaper", SPY_KT_INT | SPY_KT_NULL, "null", NULL, "tapers"},
    {"data", SPY_KT_OPAQUE, NULL, NULL, "array"},
    {NULL, 0, NULL, NULL, NULL}};
static const spy_funcspec spec = {"freqanalysis", "", "", NULL, NULL, kws};

/* Bounds: explicit ranges, the default ranges, infinities where allowed. */
static const spy_kwarg kwb[] = {
    {"order_max", SPY_KT_INT | SPY_KT_NULL, "null", NULL, "order", 1, 100},
    {"count", SPY_KT_INT, "1", NULL, "default integer range"},
    {"rate", SPY_KT_NUM, "1", NULL, "default number range"},
    {"cut", SPY_KT_NUM, "1", NULL, "inf allowed", 0, INFINITY},
    {"foi", SPY_KT_NUMS | SPY_KT_NULL, "null", NULL, "list"},
    {"port", SPY_KT_INT, "0", NULL, "an int", SPY_KW_INT32},
    {NULL, 0, NULL, NULL, NULL}};
static const spy_funcspec specb = {"bounded", "", "", NULL, NULL, kwb};

/* The message of {key: x}, or "" when accepted. */
static const char *bound_msg(const char *key, double x, spy_err *err)
{
  cJSON *in = cJSON_CreateObject(), *out = NULL;
  cJSON_AddNumberToObject(in, key, x);
  int rc = spy_kw_apply(&specb, in, &out, err);
  cJSON_Delete(in);
  cJSON_Delete(out);
  return rc ? err->msg : "";
}

#define CHECK_BOUND(key, x, want)                                                                  \
  do {                                                                                             \
    const char *got_ = bound_msg(key, x, &err);                                                    \
    CHECK(strcmp(got_, want) == 0, "%s = %g:\n  got  %s\n  want %s", key, (double)(x), got_, want); \
  } while (0)

static void test_bounds(void)
{
  spy_err err = {0};
  CHECK_BOUND("order_max", 100, "");
  CHECK_BOUND("order_max", 0x1p62,
              "Invalid value of `order_max`: '4.611686018427388e+18'; expected value to be greater "
              "or equals 1 and less or equals 100");
  CHECK_BOUND("order_max", 0, "Invalid value of `order_max`: '0'; expected value to be greater "
                              "or equals 1 and less or equals 100");
  CHECK_BOUND("count", 0x1p53, "");
  CHECK_BOUND("count", 1e308, "Invalid value of `count`: '1e+308'; expected value to be less or "
                              "equals 2^53");
  CHECK_BOUND("count", -0x1p60, "Invalid value of `count`: '-1.152921504606847e+18'; expected "
                                "value to be greater or equals -2^53");
  CHECK_BOUND("rate", 1e15, "");
  CHECK_BOUND("rate", INFINITY, "Invalid value of `rate`: 'inf'; expected value to be less or "
                                "equals 1e+15");
  CHECK_BOUND("rate", -INFINITY, "Invalid value of `rate`: '-inf'; expected value to be greater "
                                 "or equals -1e+15");
  CHECK_BOUND("rate", NAN, "Invalid value of `rate`: 'nan'; expected a finite number");
  CHECK_BOUND("cut", INFINITY, "");
  CHECK_BOUND("cut", NAN, "Invalid value of `cut`: 'nan'; expected value to be greater or equals "
                          "0 and less or equals inf");
  CHECK_BOUND("port", 65536, "");
  CHECK_BOUND("port", 4294967296.0, "Invalid value of `port`: '4294967296'; expected value to be "
                                    "greater or equals -2147483647 and less or equals 2147483647");

  /* lists: every element, with Syncopy's array_parser messages */
  cJSON *in = cJSON_Parse("{\"foi\":[1, 2, 1e300]}"), *out = NULL;
  CHECK(spy_kw_apply(&specb, in, &out, &err) == SPY_EINVAL &&
            strcmp(err.msg, "Invalid value of `foi`: 'array with range 1 to 1e+300'; expected "
                            "all array elements to be bounded by -1e+15 and 1e+15") == 0,
        "list range: %s", err.msg);
  cJSON_Delete(in);
  in = cJSON_CreateObject();
  double v[] = {1, NAN, 3};
  cJSON_AddItemToObject(in, "foi", cJSON_CreateDoubleArray(v, 3));
  CHECK(spy_kw_apply(&specb, in, &out, &err) == SPY_EINVAL &&
            strcmp(err.msg, "Invalid value of `foi`: 'array with 1 `NaN` entries'; expected "
                            "well-defined numerical array") == 0,
        "list NaN: %s", err.msg);
  cJSON_Delete(in);

  /* the critical case of issue #10 is refused by the real spec before any plan runs */
  in = cJSON_CreateObject();
  cJSON_AddStringToObject(in, "method", "superlet");
  cJSON_AddNumberToObject(in, "order_max", 0x1p62);
  CHECK(spy_kw_apply(&spy_spec_freqanalysis, in, &out, &err) == SPY_EINVAL &&
            strstr(err.msg, "`order_max`") && strstr(err.msg, "less or equals 100"),
        "superlet order_max 2^62: %s", err.msg);
  cJSON_Delete(in);

  long long ll = 7;
  size_t sz = 7;
  CHECK(!spy_d2i64(0x1p63, &ll) && ll == 7 && !spy_d2i64(NAN, &ll) && !spy_d2i64(-INFINITY, &ll),
        "d2i64 refuses what int64 cannot hold");
  CHECK(spy_d2i64(-0x1p63, &ll) && ll == INT64_MIN, "d2i64(-2^63)");
  CHECK(!spy_d2size(-1, &sz) && !spy_d2size(0x1p64, &sz) && !spy_d2size(NAN, &sz) && sz == 7,
        "d2size refuses negatives and 2^64");
  CHECK(spy_d2size(0x1p53, &sz) && sz == ((size_t)1 << 53), "d2size(2^53)");
}

static int apply(const char *json, cJSON **out, spy_err *err)
{
  cJSON *in = json ? cJSON_Parse(json) : NULL;
  int rc = spy_kw_apply(&spec, in, out, err);
  cJSON_Delete(in);
  return rc;
}

int main(void)
{
  spy_err err = {0};
  cJSON *out = NULL;

  CHECK(apply(NULL, &out, &err) == SPY_OK, "%s", err.msg);
  CHECK(strcmp(spy_cfg_str(out, "method", ""), "mtmfft") == 0, "default method");
  CHECK(spy_cfg_isnull(out, "tapsmofrq"), "default None");
  CHECK(spy_cfg_bool(out, "keeptrials", false), "default true");
  CHECK(cJSON_GetObjectItem(out, "data") == NULL, "opaque keys not in cfg");
  /* spec order */
  CHECK(strcmp(out->child->string, "method") == 0, "first key is method");
  cJSON_Delete(out);

  CHECK(apply("{\"method\":\"wavelets\"}", &out, &err) == SPY_EINVAL, "bad method");
  CHECK(strcmp(err.msg, "Invalid value of `method`: 'wavelets'; expected 'mtmfft' or "
                        "'mtmconvol' or 'wavelet'") == 0,
        "message: %s", err.msg);

  CHECK(apply("{\"tapsmofreq\":4}", &out, &err) == SPY_EINVAL, "unknown key");
  CHECK(strstr(err.msg, "unknown keyword `tapsmofreq`") && strstr(err.msg, "did you mean `tapsmofrq`"),
        "suggestion: %s", err.msg);

  CHECK(apply("{\"keeptrials\":1}", &out, &err) == SPY_ETYPE, "type");
  CHECK(strcmp(err.msg, "Wrong type of `keeptrials`: expected boolean found number") == 0, "%s",
        err.msg);

  CHECK(apply("{\"nTaper\":2.5}", &out, &err) == SPY_ETYPE, "int");
  CHECK(apply("{\"foi\":[1,\"a\"]}", &out, &err) == SPY_ETYPE, "list of numbers");

  CHECK(apply("{\"keeptrials\":\"no\",\"foi\":[1,2],\"nTaper\":3}", &out, &err) == SPY_OK, "%s",
        err.msg);
  CHECK(!spy_cfg_bool(out, "keeptrials", true), "'no' is false");
  cJSON_Delete(out);
  test_bounds();
  return t_done();
}
