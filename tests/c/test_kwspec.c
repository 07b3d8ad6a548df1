/* Keyword specs: defaults, type errors, allowed values, suggestions. */
#include <string.h>

#include "core/kwspec.h"
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
  CHECK(strcmp(err.msg, "Wrong type of `keeptrials`: expected bool found number") == 0, "%s",
        err.msg);

  CHECK(apply("{\"nTaper\":2.5}", &out, &err) == SPY_ETYPE, "int");
  CHECK(apply("{\"foi\":[1,\"a\"]}", &out, &err) == SPY_ETYPE, "list of numbers");

  CHECK(apply("{\"keeptrials\":\"no\",\"foi\":[1,2],\"nTaper\":3}", &out, &err) == SPY_OK, "%s",
        err.msg);
  CHECK(!spy_cfg_bool(out, "keeptrials", true), "'no' is false");
  cJSON_Delete(out);
  return t_done();
}
