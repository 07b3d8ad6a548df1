#include "core/kwspec.h"

#include <stdint.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/pyfmt.h"

const spy_kwarg *spy_kw_find(const spy_funcspec *f, const char *name)
{
  for (const spy_kwarg *k = f->kw; k && k->name; k++)
    if (strcmp(k->name, name) == 0) return k;
  return NULL;
}

static size_t editdist(const char *a, const char *b)
{
  size_t la = strlen(a), lb = strlen(b);
  if (la > 63 || lb > 63) return 99;
  size_t d[64][64];
  for (size_t i = 0; i <= la; i++) d[i][0] = i;
  for (size_t j = 0; j <= lb; j++) d[0][j] = j;
  for (size_t i = 1; i <= la; i++)
    for (size_t j = 1; j <= lb; j++) {
      size_t c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
      size_t del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
      d[i][j] = c < del ? (c < ins ? c : ins) : (del < ins ? del : ins);
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
          d[i - 2][j - 2] + 1 < d[i][j])
        d[i][j] = d[i - 2][j - 2] + 1; /* transposition */
    }
  return d[la][lb];
}

const char *spy_kw_suggest(const spy_funcspec *f, const char *name)
{
  const char *best = NULL;
  size_t bestd = (size_t)-1, len = strlen(name);
  for (const spy_kwarg *k = f->kw; k && k->name; k++) {
    size_t d = editdist(name, k->name);
    if (strncasecmp(name, k->name, len) == 0 && len >= 2) d = d < 1 ? d : 1;
    if (d < bestd) bestd = d, best = k->name;
  }
  size_t limit = len <= 4 ? 1 : (len <= 8 ? 2 : 3);
  return bestd <= limit ? best : NULL;
}

void spy_kw_typedesc(unsigned t, char *buf, size_t n)
{
  static const struct { unsigned bit; const char *name; } names[] = {
      {SPY_KT_BOOL, "boolean"},        {SPY_KT_INT, "integer"},
      {SPY_KT_NUM, "number"},          {SPY_KT_STR, "string"},
      {SPY_KT_NUMS, "list of numbers"}, {SPY_KT_STRS, "list of strings"},
      {SPY_KT_LIST, "list"},           {SPY_KT_DICT, "table"},
      {SPY_KT_OPAQUE, "array"},        {SPY_KT_NULL, "nil"}};
  size_t used = 0, count = 0;
  buf[0] = '\0';
  if ((t & SPY_KT_NUM) && (t & SPY_KT_INT)) t &= ~(unsigned)SPY_KT_INT;
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    if (!(t & names[i].bit)) continue;
    int w = snprintf(buf + used, n > used ? n - used : 0, "%s%s",
                     count ? " or " : "", names[i].name);
    if (w > 0) used += (size_t)w;
    count++;
  }
}

static const char *jsontype(const cJSON *v)
{
  if (cJSON_IsNull(v)) return "nil";
  if (cJSON_IsBool(v)) return "boolean";
  if (cJSON_IsNumber(v)) return "number";
  if (cJSON_IsString(v)) return "string";
  if (cJSON_IsArray(v)) return "list";
  if (cJSON_IsObject(v)) return "table";
  return "value";
}

void spy_json_brief(const cJSON *v, char *buf, size_t n)
{
  /* as the user wrote it in Lua: nil, true, {5, 6}, {"a", "b"}, text */
  char full[4096];
  spy_lua_str(v, full, sizeof full);
  if (strlen(full) >= n && n > 8) {
    memcpy(buf, full, n - 5);
    strcpy(buf + n - 5, "...");
  } else if (n) {
    snprintf(buf, n, "%s", full);
  }
}

static bool islist_of(const cJSON *v, bool (*pred)(const cJSON *))
{
  if (!cJSON_IsArray(v)) return false;
  const cJSON *e;
  cJSON_ArrayForEach(e, v) if (!pred(e)) return false;
  return true;
}

static bool isnum(const cJSON *v) { return cJSON_IsNumber(v) != 0; }
static bool isstr(const cJSON *v) { return cJSON_IsString(v) != 0; }

static bool typeok(unsigned t, const cJSON *v)
{
  if (cJSON_IsNull(v)) return t & SPY_KT_NULL;
  if (cJSON_IsBool(v)) return t & SPY_KT_BOOL;
  if (cJSON_IsNumber(v)) {
    if (t & SPY_KT_NUM) return true;
    if (t & SPY_KT_INT) return isfinite(v->valuedouble) && v->valuedouble == floor(v->valuedouble);
    return false;
  }
  if (cJSON_IsString(v)) return t & SPY_KT_STR;
  if (cJSON_IsArray(v)) {
    if (t & SPY_KT_LIST) return true;
    if ((t & SPY_KT_NUMS) && islist_of(v, isnum)) return true;
    if ((t & SPY_KT_STRS) && islist_of(v, isstr)) return true;
    return false;
  }
  if (cJSON_IsObject(v)) return t & SPY_KT_DICT;
  return false;
}

void spy_kw_range(const spy_kwarg *k, double *lo, double *hi)
{
  if (k->min == 0 && k->max == 0) {
    bool intonly = (k->types & SPY_KT_INT) && !(k->types & SPY_KT_NUM);
    *hi = intonly ? SPY_KW_INT_LIMIT : SPY_KW_NUM_LIMIT;
    *lo = -*hi;
  } else {
    *lo = k->min;
    *hi = k->max;
  }
}

/* Limits as messages print them: integral values as ints, the default
** limits by name, infinities as inf. */
static void limtext(double x, char *buf, size_t n)
{
  if (isinf(x))
    snprintf(buf, n, "%sinf", x < 0 ? "-" : "");
  else if (fabs(x) == SPY_KW_INT_LIMIT)
    snprintf(buf, n, "%s2^53", x < 0 ? "-" : "");
  else if (fabs(x) == SPY_KW_NUM_LIMIT)
    snprintf(buf, n, "%s1e+15", x < 0 ? "-" : "");
  else
    spy_py_num(x, buf, n);
}

static bool isdefault(const spy_kwarg *k) { return k->min == 0 && k->max == 0; }

int spy_kw_checknum(const spy_kwarg *k, double x, spy_err *err)
{
  double lo, hi;
  spy_kw_range(k, &lo, &hi);
  if (x >= lo && x <= hi) return SPY_OK; /* false for NaN */
  char act[64], lb[64], ub[64];
  if (isnan(x))
    snprintf(act, sizeof act, "nan");
  else
    limtext(x, act, sizeof act);
  limtext(lo, lb, sizeof lb);
  limtext(hi, ub, sizeof ub);
  if (isnan(x) && isdefault(k)) return spy_fail_value(err, k->name, act, "a finite number");
  /* the default range is a sanity limit: name only the side that was crossed */
  if (isdefault(k) && x > hi) return spy_fail_value(err, k->name, act, "value to be less or equals %s", ub);
  if (isdefault(k) && x < lo)
    return spy_fail_value(err, k->name, act, "value to be greater or equals %s", lb);
  return spy_fail_value(err, k->name, act, "value to be greater or equals %s and less or equals %s",
                        lb, ub);
}

bool spy_d2i64(double x, long long *out)
{
  /* -2^63 is exact; 2^63 is the first double past LLONG_MAX */
  if (!(x >= -9223372036854775808.0 && x < 9223372036854775808.0)) return false;
  *out = (long long)x;
  return true;
}

bool spy_d2size(double x, size_t *out)
{
  if (!(x >= 0 && x < 18446744073709551616.0) || x >= (double)SIZE_MAX) return false;
  *out = (size_t)x;
  return true;
}

/* Every number in v (a number, or a list of numbers) within k's range; lists
** get the messages of Syncopy's array_parser. */
static int checkrange(const spy_kwarg *k, const cJSON *v, spy_err *err)
{
  if (cJSON_IsNumber(v)) return spy_kw_checknum(k, v->valuedouble, err);
  if (!cJSON_IsArray(v)) return SPY_OK;
  double lo, hi, mn = INFINITY, mx = -INFINITY;
  spy_kw_range(k, &lo, &hi);
  size_t nnan = 0, ninf = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, v)
  {
    if (!cJSON_IsNumber(e)) continue; /* a list of lists or strings: the plan's business */
    double x = e->valuedouble;
    if (isnan(x)) {
      nnan++;
      continue;
    }
    ninf += isinf(x) && !(x >= lo && x <= hi);
    mn = fmin(mn, x), mx = fmax(mx, x);
  }
  char act[96], a[64], b[64];
  if (ninf) {
    snprintf(act, sizeof act, "array with %zu `inf` entries", ninf);
    return spy_fail_value(err, k->name, act, "finite numerical array");
  }
  if (nnan) {
    snprintf(act, sizeof act, "array with %zu `NaN` entries", nnan);
    return spy_fail_value(err, k->name, act, "well-defined numerical array");
  }
  if (mn < lo || mx > hi) {
    limtext(mn, a, sizeof a);
    limtext(mx, b, sizeof b);
    snprintf(act, sizeof act, "array with range %s to %s", a, b);
    limtext(lo, a, sizeof a);
    limtext(hi, b, sizeof b);
    return spy_fail_value(err, k->name, act, "all array elements to be bounded by %s and %s", a, b);
  }
  return SPY_OK;
}

static bool allowed_has(const char *allowed, const char *s)
{
  size_t n = strlen(s);
  const char *p = allowed;
  while (*p) {
    const char *bar = strchr(p, '|');
    size_t len = bar ? (size_t)(bar - p) : strlen(p);
    if (len == n && strncmp(p, s, n) == 0) return true;
    if (!bar) break;
    p = bar + 1;
  }
  return false;
}

/* "'a' or 'b' or 'c'" from "a|b|c" */
static void allowed_desc(const char *allowed, char *buf, size_t n)
{
  size_t used = 0;
  const char *p = allowed;
  buf[0] = '\0';
  while (*p && used < n) {
    const char *bar = strchr(p, '|');
    int len = bar ? (int)(bar - p) : (int)strlen(p);
    int w = snprintf(buf + used, n - used, "%s'%.*s'", used ? " or " : "", len, p);
    if (w > 0) used += (size_t)w;
    if (!bar) break;
    p = bar + 1;
  }
}

int spy_kw_apply(const spy_funcspec *f, const cJSON *given, cJSON **out, spy_err *err)
{
  *out = NULL;
  if (given && !cJSON_IsObject(given) && !cJSON_IsNull(given))
    return spy_fail(err, SPY_ETYPE,
                    "Wrong type of `cfg`: expected dictionary-like table found %s (keywords are "
                    "named: {%s = ...})",
                    jsontype(given), f->kw && f->kw->name ? f->kw->name : "name");

  const cJSON *v;
  if (given)
    cJSON_ArrayForEach(v, given) {
      const spy_kwarg *k = spy_kw_find(f, v->string);
      if (!k) {
        const char *near = spy_kw_suggest(f, v->string);
        char valid[1200];
        size_t used = 0;
        valid[0] = '\0';
        for (const spy_kwarg *q = f->kw; q && q->name && used < sizeof valid; q++) {
          int w = snprintf(valid + used, sizeof valid - used, "%s%s", used ? ", " : "", q->name);
          if (w > 0) used += (size_t)w;
        }
        if (near)
          return spy_fail(err, SPY_EINVAL,
                          "unknown keyword `%s` for %s; did you mean `%s`? (valid "
                          "keywords: %s)",
                          v->string, f->name, near, valid);
        return spy_fail(err, SPY_EINVAL, "unknown keyword `%s` for %s (valid keywords: %s)",
                        v->string, f->name, valid);
      }
    }

  cJSON *res = cJSON_CreateObject();
  if (!res) return spy_fail(err, SPY_ENOMEM, "out of memory");
  for (const spy_kwarg *k = f->kw; k && k->name; k++) {
    if (k->types & SPY_KT_OPAQUE) continue;
    const cJSON *g = given ? cJSON_GetObjectItemCaseSensitive(given, k->name) : NULL;
    cJSON *val = NULL;
    if (g) {
      if ((k->types & SPY_KT_BOOL) && cJSON_IsString(g) &&
          (strcmp(g->valuestring, "yes") == 0 || strcmp(g->valuestring, "no") == 0)) {
        val = cJSON_CreateBool(strcmp(g->valuestring, "yes") == 0);
      } else {
        if (!typeok(k->types, g)) {
          char want[160];
          spy_kw_typedesc(k->types, want, sizeof want);
          cJSON_Delete(res);
          return spy_fail_type(err, k->name, want, jsontype(g));
        }
        if (k->allowed && cJSON_IsString(g) && !allowed_has(k->allowed, g->valuestring)) {
          char legal[600];
          allowed_desc(k->allowed, legal, sizeof legal);
          cJSON_Delete(res);
          return spy_fail_value(err, k->name, g->valuestring, "%s", legal);
        }
        int rc = checkrange(k, g, err);
        if (rc) {
          cJSON_Delete(res);
          return rc;
        }
        val = cJSON_Duplicate(g, 1);
      }
    } else {
      val = cJSON_Parse(k->dflt ? k->dflt : "null");
      if (!val) val = cJSON_CreateNull();
    }
    if (!val) {
      cJSON_Delete(res);
      return spy_fail(err, SPY_ENOMEM, "out of memory");
    }
    cJSON_AddItemToObject(res, k->name, val);
  }
  *out = res;
  return SPY_OK;
}

/* ---- registry ---------------------------------------------------------- */

static pthread_mutex_t reglock = PTHREAD_MUTEX_INITIALIZER;
static const spy_funcspec **reg;
static size_t nreg, capreg;

void spy_spec_register(const spy_funcspec *f)
{
  pthread_mutex_lock(&reglock);
  for (size_t i = 0; i < nreg; i++)
    if (reg[i] == f || strcmp(reg[i]->name, f->name) == 0) {
      reg[i] = f;
      pthread_mutex_unlock(&reglock);
      return;
    }
  if (nreg == capreg) {
    size_t nc = capreg ? 2 * capreg : 32;
    const spy_funcspec **nr = realloc(reg, nc * sizeof *nr);
    if (!nr) {
      pthread_mutex_unlock(&reglock);
      return;
    }
    reg = nr;
    capreg = nc;
  }
  reg[nreg++] = f;
  pthread_mutex_unlock(&reglock);
}

const spy_funcspec *spy_spec_find(const char *name)
{
  const spy_funcspec *r = NULL;
  pthread_mutex_lock(&reglock);
  for (size_t i = 0; i < nreg && !r; i++)
    if (strcmp(reg[i]->name, name) == 0) r = reg[i];
  pthread_mutex_unlock(&reglock);
  return r;
}

size_t spy_spec_count(void) { return nreg; }
const spy_funcspec *spy_spec_at(size_t i) { return i < nreg ? reg[i] : NULL; }

/* ---- cfg accessors ----------------------------------------------------- */

bool spy_cfg_isnull(const cJSON *cfg, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
  return !v || cJSON_IsNull(v);
}

double spy_cfg_num(const cJSON *cfg, const char *key, double dflt)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
  return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

const char *spy_cfg_str(const cJSON *cfg, const char *key, const char *dflt)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
  return cJSON_IsString(v) ? v->valuestring : dflt;
}

bool spy_cfg_bool(const cJSON *cfg, const char *key, bool dflt)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
  return cJSON_IsBool(v) ? cJSON_IsTrue(v) : dflt;
}
