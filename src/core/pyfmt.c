#include "core/pyfmt.h"

#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/array_ops.h"
#include "core/log.h"

/* ---- the C locale for number text -----------------------------------------
** printf and strtod follow LC_NUMERIC; a host program (or Lua's
** os.setlocale) may have chosen one whose decimal point is ','.  The switch
** is per thread (uselocale), so it is safe in workers. */

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void make_c_locale(void)
{
  c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

static locale_t enter_c_locale(void)
{
  pthread_once(&c_locale_once, make_c_locale);
  return c_locale ? uselocale(c_locale) : (locale_t)0;
}

static void leave_c_locale(locale_t old)
{
  if (old) uselocale(old);
}

double spy_strtod_c(const char *s)
{
  locale_t old = enter_c_locale();
  double v = strtod(s, NULL);
  leave_c_locale(old);
  return v;
}

/* ---- shortest round-trip digits ------------------------------------------ */

/* Digits and decimal point position of the correctly rounded p-significant-
** digit decimal of x (x > 0): x ~ 0.d1d2... * 10^decpt. */
static void round_digits(double x, int p, char *dig, int *decpt)
{
  char tmp[64];
  snprintf(tmp, sizeof tmp, "%.*e", p - 1, x);
  char *e = strchr(tmp, 'e');
  int k = 0;
  for (char *q = tmp; q < e; q++)
    if (*q >= '0' && *q <= '9') dig[k++] = *q;
  dig[k] = '\0';
  *decpt = atoi(e + 1) + 1;
}

static bool digits_equal(const char *dig, int decpt, double x)
{
  char tmp[64];
  snprintf(tmp, sizeof tmp, "0.%se%d", dig, decpt);
  return strtod(tmp, NULL) == x;
}

/* Adds delta (+1 or -1) to the last digit; false when the digit count
** would change (those candidates are covered by other precisions). */
static bool step_digits(char *dig, int delta)
{
  int i = (int)strlen(dig) - 1;
  for (; i >= 0; i--) {
    int d = dig[i] - '0' + delta;
    if (d >= 0 && d <= 9) {
      dig[i] = (char)('0' + d);
      return dig[0] != '0';
    }
    dig[i] = delta > 0 ? '0' : '9';
  }
  return false;
}

/* Shortest digit string that reads back as x (x > 0, finite), nearest to x
** among the shortest, as Python's repr (David Gay's mode 0); in the C
** locale. */
static void shortest_digits(double x, char *dig, int *decpt)
{
  locale_t old = enter_c_locale();
  for (int p = 1; p <= 17; p++) {
    round_digits(x, p, dig, decpt);
    if (digits_equal(dig, *decpt, x)) break;
    /* Next to a power of two the rounding interval is lopsided: a p-digit
    ** neighbour of the nearest candidate may still read back as x. */
    char alt[32];
    strcpy(alt, dig);
    if (step_digits(alt, +1) && digits_equal(alt, *decpt, x)) {
      strcpy(dig, alt);
      break;
    }
    strcpy(alt, dig);
    if (step_digits(alt, -1) && digits_equal(alt, *decpt, x)) {
      strcpy(dig, alt);
      break;
    }
  }
  leave_c_locale(old);
  size_t n = strlen(dig);
  while (n > 1 && dig[n - 1] == '0')
    dig[--n] = '\0';
}

/* ---- Python scalars -------------------------------------------------------- */

/* Python's float_repr_style 'r': positional for 1e-4 <= |v| < 1e16, else
** d[.ddd]e+XX; dot0 appends ".0" to integral positional values. */
static void float_repr(double v, bool dot0, char *buf, size_t n)
{
  if (isnan(v)) {
    snprintf(buf, n, "nan");
    return;
  }
  if (isinf(v)) {
    snprintf(buf, n, v < 0 ? "-inf" : "inf");
    return;
  }
  char dig[32] = "0", out[64];
  int decpt = 1, k = 0;
  if (v != 0) shortest_digits(fabs(v), dig, &decpt);
  int nd = (int)strlen(dig);
  if (signbit(v)) out[k++] = '-';
  if (decpt <= -4 || decpt > 16) {
    /* d[.ddd]e+XX */
    out[k++] = dig[0];
    if (nd > 1) k += snprintf(out + k, sizeof out - (size_t)k, ".%s", dig + 1);
    snprintf(out + k, sizeof out - (size_t)k, "e%+.02d", decpt - 1);
  } else if (decpt <= 0) {
    /* 0.000ddd */
    k += snprintf(out + k, sizeof out - (size_t)k, "0.");
    for (int i = 0; i < -decpt; i++)
      out[k++] = '0';
    snprintf(out + k, sizeof out - (size_t)k, "%s", dig);
  } else if (decpt < nd) {
    /* ddd.ddd */
    snprintf(out + k, sizeof out - (size_t)k, "%.*s.%s", decpt, dig, dig + decpt);
  } else {
    /* ddd000.0 */
    k += snprintf(out + k, sizeof out - (size_t)k, "%s", dig);
    for (int i = nd; i < decpt; i++)
      out[k++] = '0';
    snprintf(out + k, sizeof out - (size_t)k, dot0 ? ".0" : "");
  }
  snprintf(buf, n, "%s", out);
}

void spy_py_float(double v, char *buf, size_t n)
{
  float_repr(v, true, buf, n);
}

void spy_py_float_part(double v, char *buf, size_t n)
{
  float_repr(v, false, buf, n);
}

void spy_py_num(double v, char *buf, size_t n)
{
  if (isfinite(v) && v == floor(v) && fabs(v) < 1e17)
    snprintf(buf, n, "%.0f", v);
  else
    spy_py_float(v, buf, n);
}

void spy_py_list(const double *v, size_t count, char *buf, size_t n)
{
  size_t used = (size_t)snprintf(buf, n, "[");
  char item[64];
  for (size_t i = 0; i < count && used < n; i++) {
    spy_py_num(v[i], item, sizeof item);
    used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? ", " : "", item);
  }
  if (used < n) snprintf(buf + used, n - used, "]");
}

/* ---- Python values --------------------------------------------------------- */

const char *spy_py_typename(const cJSON *v)
{
  if (!v || cJSON_IsNull(v)) return "NoneType";
  if (cJSON_IsBool(v)) return "bool";
  if (cJSON_IsNumber(v))
    return (isfinite(v->valuedouble) && v->valuedouble == floor(v->valuedouble)) ? "int" : "float";
  if (cJSON_IsString(v)) return "str";
  if (cJSON_IsArray(v)) return "list";
  if (cJSON_IsObject(v)) return "dict";
  return "object";
}

const char *spy_lua_typename(const cJSON *v)
{
  if (!v || cJSON_IsNull(v)) return "nil";
  if (cJSON_IsBool(v)) return "boolean";
  if (cJSON_IsNumber(v))
    return (isfinite(v->valuedouble) && v->valuedouble == floor(v->valuedouble)) ? "integer" : "number";
  if (cJSON_IsString(v)) return "string";
  if (cJSON_IsArray(v)) return "list";
  if (cJSON_IsObject(v)) return "table";
  return "value";
}

/* Appends to buf at *used, keeping it terminated. */
static void put(char *buf, size_t n, size_t *used, const char *s)
{
  if (*used >= n) return;
  int w = snprintf(buf + *used, n - *used, "%s", s);
  if (w > 0) *used += (size_t)w;
  if (*used >= n) *used = n - 1;
}

static void pyfmt(const cJSON *v, bool quote, char *buf, size_t n, size_t *used)
{
  char tmp[64];
  if (!v || cJSON_IsNull(v)) {
    put(buf, n, used, "None");
  } else if (cJSON_IsBool(v)) {
    put(buf, n, used, cJSON_IsTrue(v) ? "True" : "False");
  } else if (cJSON_IsNumber(v)) {
    spy_py_num(v->valuedouble, tmp, sizeof tmp);
    put(buf, n, used, tmp);
  } else if (cJSON_IsString(v)) {
    if (quote) put(buf, n, used, "'");
    put(buf, n, used, v->valuestring);
    if (quote) put(buf, n, used, "'");
  } else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
    bool obj = cJSON_IsObject(v);
    const cJSON *e;
    bool first = true;
    put(buf, n, used, obj ? "{" : "[");
    cJSON_ArrayForEach(e, v)
    {
      if (!first) put(buf, n, used, ", ");
      first = false;
      if (obj) {
        put(buf, n, used, "'");
        put(buf, n, used, e->string);
        put(buf, n, used, "': ");
      }
      pyfmt(e, true, buf, n, used);
    }
    put(buf, n, used, obj ? "}" : "]");
  }
}

void spy_py_str(const cJSON *v, char *buf, size_t n)
{
  size_t used = 0;
  if (n) buf[0] = '\0';
  pyfmt(v, false, buf, n, &used);
}

void spy_py_repr(const cJSON *v, char *buf, size_t n)
{
  size_t used = 0;
  if (n) buf[0] = '\0';
  pyfmt(v, true, buf, n, &used);
}

static void luafmt(const cJSON *v, bool quote, char *buf, size_t n, size_t *used)
{
  char tmp[64];
  if (!v || cJSON_IsNull(v)) {
    put(buf, n, used, "nil");
  } else if (cJSON_IsBool(v)) {
    put(buf, n, used, cJSON_IsTrue(v) ? "true" : "false");
  } else if (cJSON_IsNumber(v)) {
    spy_py_num(v->valuedouble, tmp, sizeof tmp);
    put(buf, n, used, tmp);
  } else if (cJSON_IsString(v)) {
    if (quote) put(buf, n, used, "\"");
    put(buf, n, used, v->valuestring);
    if (quote) put(buf, n, used, "\"");
  } else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
    bool obj = cJSON_IsObject(v);
    const cJSON *e;
    bool first = true;
    put(buf, n, used, "{");
    cJSON_ArrayForEach(e, v)
    {
      if (!first) put(buf, n, used, ", ");
      first = false;
      if (obj) {
        put(buf, n, used, e->string);
        put(buf, n, used, "=");
      }
      luafmt(e, true, buf, n, used);
    }
    put(buf, n, used, "}");
  }
}

void spy_lua_str(const cJSON *v, char *buf, size_t n)
{
  size_t used = 0;
  if (n) buf[0] = '\0';
  luafmt(v, false, buf, n, &used);
}

void spy_lua_repr(const cJSON *v, char *buf, size_t n)
{
  size_t used = 0;
  if (n) buf[0] = '\0';
  luafmt(v, true, buf, n, &used);
}

void spy_py_or_list(const char *const *names, size_t count, char *buf, size_t n)
{
  size_t used = 0;
  if (n) buf[0] = '\0';
  for (size_t i = 0; i < count; i++) {
    put(buf, n, &used, i ? "or '" : "'");
    put(buf, n, &used, names[i]);
    put(buf, n, &used, "' ");
  }
}

static void pylog(int level, const char *caller, const char *fmt, va_list ap)
{
  char msg[2048];
  if (level < spy_log_get_level()) return;
  vsnprintf(msg, sizeof msg, fmt, ap);
  spy_log(level, "Syncopy <%s>: %s", caller, msg);
}

void spy_py_warning(const char *caller, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  pylog(SPY_LOG_WARNING, caller, fmt, ap);
  va_end(ap);
}

void spy_py_info(const char *caller, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  pylog(SPY_LOG_INFO, caller, fmt, ap);
  va_end(ap);
}

/* ---- Syncopy's parsers ---------------------------------------------------- */

int spy_scalar_parser(const cJSON *v, const char *name, bool int_like, double lo, double hi,
                      const char *los, const char *his, spy_err *err)
{
  char act[64], lb[64], ub[64];
  if (!cJSON_IsNumber(v)) return spy_fail_type(err, name, "scalar", spy_lua_typename(v));
  double x = v->valuedouble;
  spy_py_num(x, act, sizeof act);
  if (int_like && isfinite(x) && round(x) != x) return spy_fail_value(err, name, act, "int_like");
  if (x < lo || x > hi || !isfinite(x)) {
    if (!los) spy_py_num(lo, lb, sizeof lb);
    if (!his) spy_py_num(hi, ub, sizeof ub);
    return spy_fail_value(err, name, act, "value to be greater or equals %s and less or equals %s",
                          los ? los : lb, his ? his : ub);
  }
  return SPY_OK;
}

/* The range in the message is printed as numpy prints the extremes of the
** array: ints when every value is integral, else floats. */
int spy_array_parser(const cJSON *v, const char *name, double lo, double hi, const char *los,
                     const char *his, size_t want, double **out, size_t *n, spy_err *err)
{
  char act[160];
  *out = NULL;
  *n = 0;
  if (!cJSON_IsArray(v)) return spy_fail_type(err, name, "array_like", spy_lua_typename(v));
  size_t cnt = (size_t)cJSON_GetArraySize(v), ninf = 0, nnan = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, v) if (!cJSON_IsNumber(e)) return spy_fail_value(
      err, name, "dtype = object", "dtype = numeric");
  double *x = malloc((cnt ? cnt : 1) * sizeof *x);
  if (!x) return spy_fail(err, SPY_ENOMEM, "out of memory");
  bool ints = true;
  size_t i = 0;
  cJSON_ArrayForEach(e, v)
  {
    x[i] = e->valuedouble;
    ninf += isinf(x[i]) != 0;
    nnan += isnan(x[i]) != 0;
    ints &= isfinite(x[i]) && x[i] == floor(x[i]);
    i++;
  }
  int rc = SPY_OK;
  if (ninf) {
    snprintf(act, sizeof act, "array with %zu `inf` entries", ninf);
    rc = spy_fail_value(err, name, act, "finite numerical array");
  } else if (nnan) {
    snprintf(act, sizeof act, "array with %zu `NaN` entries", nnan);
    rc = spy_fail_value(err, name, act, "well-defined numerical array");
  } else if (cnt) {
    double mn = x[0], mx = x[0];
    for (i = 1; i < cnt; i++)
      mn = fmin(mn, x[i]), mx = fmax(mx, x[i]);
    if (mn < lo || mx > hi) {
      char a[48], b[48];
      if (ints)
        spy_py_num(mn, a, sizeof a), spy_py_num(mx, b, sizeof b);
      else
        spy_py_float(mn, a, sizeof a), spy_py_float(mx, b, sizeof b);
      snprintf(act, sizeof act, "array with range %s to %s", a, b);
      rc =
          spy_fail_value(err, name, act, "all array elements to be bounded by %s and %s", los, his);
    }
  }
  if (!rc && want && cnt != want) {
    snprintf(act, sizeof act, "shape = (%zu,)", cnt);
    rc = spy_fail_value(err, name, act, "array of shape (%zu,)", want);
  }
  if (rc) {
    free(x);
    return rc;
  }
  *out = x;
  *n = cnt;
  return SPY_OK;
}

/* ---- NumPy arrays ---------------------------------------------------------- */

static char *np_str(const double *v, size_t count, spy_dtype t)
{
  spy_array *a = spy_array_new(t, 1, &count);
  if (!a) return NULL;
  for (size_t i = 0; i < count; i++)
    if (t == SPY_DT_I64)
      ((int64_t *)a->buf->data)[i] = (int64_t)v[i];
    else
      ((double *)a->buf->data)[i] = v[i];
  locale_t old = enter_c_locale();
  char *s = spy_array_str(a, &spy_printopts_default);
  leave_c_locale(old);
  spy_array_free(a);
  return s;
}

char *spy_np_array_str(const double *v, size_t count)
{
  return np_str(v, count, SPY_DT_F64);
}

char *spy_np_int_array_str(const double *v, size_t count)
{
  return np_str(v, count, SPY_DT_I64);
}

void spy_np_str(const double *v, size_t count, char *buf, size_t n)
{
  char *s = spy_np_array_str(v, count);
  snprintf(buf, n, "%s", s ? s : "");
  free(s);
}

/* ---- Syncopy's history entry -------------------------------------------- */

/* Syncopy's form of a long value: first 30 + ", ..., " + last 30
** characters from 80 on (at most 79 bytes). */
static void shorten(const char *value, char *dst, size_t n)
{
  size_t l = strlen(value);
  if (l < 80)
    snprintf(dst, n, "%s", value);
  else
    snprintf(dst, n, "%.30s, ..., %s", value, value + l - 30);
}

void spy_log_value_shorten(char *s)
{
  char v[80];
  shorten(s, v, sizeof v);
  strcpy(s, v);
}

void spy_history_add(spy_history *h, const char *key, const char *value)
{
  char v[80];
  if (!value) {
    h->lines.oom = true;
    return;
  }
  shorten(value, v, sizeof v);
  spy_sb_putc(&h->lines, '\t');
  spy_sb_puts(&h->lines, key);
  spy_sb_puts(&h->lines, " = ");
  spy_sb_puts(&h->lines, v);
  spy_sb_putc(&h->lines, '\n');
}

void spy_history_add_json(spy_history *h, const char *key, const cJSON *v)
{
  char buf[1024];
  spy_py_str(v, buf, sizeof buf);
  spy_history_add(h, key, buf);
}

void spy_history_add_np(spy_history *h, const char *key, const double *v, size_t count)
{
  char *s = spy_np_array_str(v, count);
  spy_history_add(h, key, s);
  free(s);
}

char *spy_history_text(const spy_history *h, const char *cf)
{
  if (h->lines.oom) return NULL;
  size_t n = strlen(cf) + h->lines.len + 32;
  char *s = malloc(n);
  if (s) snprintf(s, n, "computed %s with settings\n%s", cf, h->lines.s ? h->lines.s : "");
  return s;
}

void spy_history_free(spy_history *h)
{
  free(spy_sb_take(&h->lines));
}
