#include "dsp/taper.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pyfmt.h"
#include "dsp/windows.h"

static bool isnone(const cJSON *v)
{
  return !v || cJSON_IsNull(v);
}

static int single_taper(const char *name, const cJSON *taper_opt, spy_taper *t, spy_err *err)
{
  int rc = spy_window_check_opts(name, taper_opt, err);
  if (rc) return rc;
  if (!isnone(taper_opt) && !(t->opt = cJSON_Duplicate(taper_opt, 1)))
    return spy_fail(err, SPY_ENOMEM, "out of memory");
  snprintf(t->name, sizeof t->name, "%s", name);
  t->K = 1;
  return SPY_OK;
}

static int multi_taper(const char *name, const cJSON *taper_opt, const cJSON *tapsmofrq,
                       const cJSON *nTaper, bool keeptapers, double sr, double ns,
                       const char *output, spy_taper *t, spy_err *err)
{
  char act[256];
  if (strcmp(name, "hann") != 0)
    return spy_fail_value(err, "taper", name, "`None` for multi-tapering, just set `tapsmofrq`");
  if (!isnone(taper_opt))
    spy_py_warning("process_taper", "For multi-tapering use `tapsmofrq` and `nTaper` to control "
                                    "frequency smoothing, `taper_opt` has no effect");
  if (!keeptapers && strcmp(output, "pow") != 0) {
    snprintf(act, sizeof act, "'%s'|False", output);
    return spy_fail_value(err, "output|keeptapers", act,
                          "'pow'|False or '%s'|True, set either keeptapers=True or `output='pow'`!",
                          output);
  }
  double minbw = sr / ns;
  double maxbw = fmin(sr / 2 - 1 / ns, sr * (ns + 1) / (2 * ns));
  if (!cJSON_IsNumber(tapsmofrq) || !isfinite(tapsmofrq->valuedouble) ||
      tapsmofrq->valuedouble < 0) {
    spy_lua_str(tapsmofrq, act, sizeof act);
    return spy_fail_value(err, "tapsmofrq", act,
                          "smoothing bandwidth in Hz, typical values are in the range 1-10Hz");
  }
  double smo = tapsmofrq->valuedouble;
  if (smo < minbw) {
    spy_py_info("process_taper", "Setting tapsmofrq to the minimal attainable bandwidth of %.2fHz",
                minbw);
    smo = minbw;
  }
  if (smo > maxbw) {
    spy_py_info("process_taper", "Setting tapsmofrq to the maximal attainable bandwidth of %.2fHz",
                maxbw);
    smo = maxbw;
  }
  double NW = smo * ns / sr;
  double kd = trunc(2 * NW - 1);
  long kmax = kd > 1 ? (long)kd : 1;
  size_t K = (size_t)kmax;
  if (isnone(nTaper)) {
    spy_py_info("process_taper", "Using %ld taper(s) for multi-tapering", kmax);
  } else {
    if (!cJSON_IsNumber(nTaper))
      return spy_fail_type(err, "nTaper", "scalar", spy_lua_typename(nTaper));
    double v = nTaper->valuedouble;
    spy_py_num(v, act, sizeof act);
    if (isfinite(v) && round(v) != v) return spy_fail_value(err, "nTaper", act, "int_like");
    if (!isfinite(v) || v < 1)
      return spy_fail_value(err, "nTaper", act,
                            "value to be greater or equals 1 and less or equals inf");
    if (v != (double)kmax)
      spy_py_warning("process_taper",
                     "\n                Manually setting the number of tapers is not recommended"
                     "\n                and may (strongly) distort the effective smoothing "
                     "bandwidth!\n\n                The optimal number of tapers is %ld, you have "
                     "chosen to use %s.\n                ",
                     kmax, act);
    K = v > 1e12 ? (size_t)1e12 : (size_t)v; /* DPSS rejects K > length */
  }
  snprintf(t->name, sizeof t->name, "dpss");
  t->dpss = true;
  t->K = K;
  t->NW = NW;
  t->tapsmofrq = smo;
  return SPY_OK;
}

int spy_taper_process(const cJSON *taper, const cJSON *taper_opt, const cJSON *tapsmofrq,
                      const cJSON *nTaper, bool keeptapers, double samplerate, double nsamples,
                      const char *output, spy_taper *t, spy_err *err)
{
  memset(t, 0, sizeof *t);
  const char *name = cJSON_IsString(taper) ? taper->valuestring : NULL;
  char act[256];
  if (name && strcmp(name, "dpss") == 0)
    return spy_fail_value(err, "taper", name,
                          "set `tapsmofrq` parameter directly for multi-tapering");
  if (isnone(taper) && isnone(tapsmofrq)) {
    snprintf(t->name, sizeof t->name, "boxcar");
    t->none = true;
    t->K = 1;
    return SPY_OK;
  }
  if (!name || !spy_window_find(name)) {
    const char *names[64];
    size_t n = 0;
    for (const spy_window_info *w = spy_windows; w->name && n < 64; w++)
      names[n++] = w->name;
    char legal[1024];
    spy_py_or_list(names, n, legal, sizeof legal);
    spy_lua_str(taper, act, sizeof act);
    return spy_fail_value(err, "taper", act, "%s", legal);
  }
  if (!isnone(taper_opt) && !cJSON_IsObject(taper_opt)) {
    snprintf(act, sizeof act, "%s", spy_lua_typename(taper_opt));
    return spy_fail_value(err, "taper_opt", act, "a table or nil");
  }
  if (isnone(tapsmofrq)) {
    if (!isnone(nTaper))
      spy_py_warning("process_taper", "`nTaper` is only used for multi-tapering!");
    if (keeptapers)
      spy_py_warning("process_taper", "`keeptapers` is only used for multi-tapering!");
    return single_taper(name, taper_opt, t, err);
  }
  return multi_taper(name, taper_opt, tapsmofrq, nTaper, keeptapers, samplerate, nsamples, output,
                     t, err);
}

void spy_taper_clear(spy_taper *t)
{
  if (!t) return;
  cJSON_Delete(t->opt);
  memset(t, 0, sizeof *t);
}

int spy_taper_compute(const spy_taper *t, size_t L, size_t N, bool dpss_sym, double *w,
                      spy_err *err)
{
  if (L == 0) return SPY_OK;
  int rc;
  if (t->dpss) {
    if ((rc = spy_dpss(L, t->NW, t->K, dpss_sym, w, NULL, err))) return rc;
    double f = sqrt((double)N);
    for (size_t i = 0; i < t->K * L; i++)
      w[i] *= f;
    return SPY_OK;
  }
  if ((rc = spy_window(t->name, L, true, t->opt, w, err))) return rc;
  double sum = 0;
  for (size_t i = 0; i < L; i++)
    sum += w[i];
  double f = sqrt((double)N / sum);
  if (strcmp(t->name, "boxcar") != 0) f *= sqrt(4.0 / 3.0);
  for (size_t i = 0; i < L; i++)
    w[i] *= f;
  return SPY_OK;
}

void spy_taper_label(const spy_taper *t, size_t k, char *buf, size_t n)
{
  if (t->none)
    snprintf(buf, n, "None");
  else if (t->dpss)
    snprintf(buf, n, "dpss%zu", k);
  else
    snprintf(buf, n, "%s", t->name);
}
