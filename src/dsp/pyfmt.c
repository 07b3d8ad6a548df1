#include "dsp/pyfmt.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

/* Shortest round-trip decimal digits of |v| (finite, non-zero) into d
** (trailing zeros dropped, at least one digit); returns the decimal
** exponent e of d[0].d[1]d[2]... x 10^e.  The correctly rounded p-digit
** string is the closest one, so the first p that round-trips is Python's. */
static int shortest(double v, char *d)
{
  char tmp[48];
  for (int p = 1; p <= 17; p++) {
    snprintf(tmp, sizeof tmp, "%.*e", p - 1, fabs(v));
    if (strtod(tmp, NULL) == fabs(v)) break;
  }
  size_t k = 0;
  const char *s = tmp;
  for (; *s && *s != 'e'; s++)
    if (isdigit((unsigned char)*s)) d[k++] = *s;
  while (k > 1 && d[k - 1] == '0')
    k--;
  d[k] = '\0';
  return atoi(s + 1);
}

void spy_py_float(double v, char *buf, size_t n)
{
  if (isnan(v)) {
    snprintf(buf, n, "nan");
    return;
  }
  if (isinf(v)) {
    snprintf(buf, n, v < 0 ? "-inf" : "inf");
    return;
  }
  const char *sign = signbit(v) ? "-" : "";
  if (v == 0) {
    snprintf(buf, n, "%s0.0", sign);
    return;
  }
  char d[24], out[64];
  int e = shortest(v, d);
  int nd = (int)strlen(d);
  if (e >= -4 && e < 16) {
    if (e >= 0) {
      char ip[24], fp[24];
      int i;
      for (i = 0; i <= e; i++)
        ip[i] = i < nd ? d[i] : '0';
      ip[i] = '\0';
      snprintf(fp, sizeof fp, "%s", nd > e + 1 ? d + e + 1 : "0");
      snprintf(out, sizeof out, "%s%s.%s", sign, ip, fp);
    } else {
      snprintf(out, sizeof out, "%s0.%.*s%s", sign, -e - 1, "0000", d);
    }
  } else {
    snprintf(out, sizeof out, "%s%c%s%se%c%02d", sign, d[0], nd > 1 ? "." : "", d + 1,
             e < 0 ? '-' : '+', abs(e));
  }
  snprintf(buf, n, "%s", out);
}

void spy_py_num(double v, char *buf, size_t n)
{
  if (isfinite(v) && v == floor(v) && fabs(v) < 1e17)
    snprintf(buf, n, "%.0f", v);
  else
    spy_py_float(v, buf, n);
}

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

static void pylog(int level, const char *tag, const char *caller, const char *fmt, va_list ap)
{
  char msg[2048];
  if (level < spy_log_get_level()) return;
  vsnprintf(msg, sizeof msg, fmt, ap);
  spy_log(level, "Syncopy <%s> %s: %s", caller, tag, msg);
}

void spy_py_warning(const char *caller, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  pylog(SPY_LOG_WARNING, "WARNING", caller, fmt, ap);
  va_end(ap);
}

void spy_py_info(const char *caller, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  pylog(SPY_LOG_INFO, "INFO", caller, fmt, ap);
  va_end(ap);
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

/* ---- numpy's str() of a float64 vector ---------------------------------- */

/* dragon4_positional(v, precision=8, unique=True, trim='.'): "100.", "0.5" */
static void np_positional(double v, char *out, size_t n)
{
  if (v == 0) {
    snprintf(out, n, "%s0.", signbit(v) ? "-" : "");
    return;
  }
  char d[24];
  int e = shortest(v, d);
  int nfrac = (int)strlen(d) - 1 - e;
  if (nfrac < 0) nfrac = 0;
  if (nfrac > 8) nfrac = 8;
  snprintf(out, n, "%.*f", nfrac, v);
  if (nfrac == 0) {
    size_t l = strlen(out);
    if (l + 1 < n) out[l] = '.', out[l + 1] = '\0';
  } else {
    size_t l = strlen(out);
    while (l > 0 && out[l - 1] == '0')
      out[--l] = '\0';
  }
}

/* dragon4_scientific(v, precision=8, unique=True): number of mantissa
** fraction digits actually needed (at most 8). */
static int np_sci_digits(double v)
{
  if (v == 0) return 0;
  char d[24];
  shortest(v, d);
  int k = (int)strlen(d) - 1;
  if (k > 8) {
    char tmp[48];
    snprintf(tmp, sizeof tmp, "%.8e", fabs(v));
    char *e = strchr(tmp, 'e');
    k = 8;
    while (k > 0 && e[-1] == '0')
      k--, e--;
  }
  return k;
}

typedef struct npfmt {
  bool exp;
  int pad_left, pad_right, precision;
} npfmt;

static void np_fill_format(const double *v, size_t count, npfmt *f)
{
  double maxv = 0, minv = INFINITY;
  for (size_t i = 0; i < count; i++) {
    double a = fabs(v[i]);
    if (a == 0 || !isfinite(a)) continue;
    if (a > maxv) maxv = a;
    if (a < minv) minv = a;
  }
  f->exp = maxv > 0 && (maxv >= 1e8 || minv < 1e-4 || maxv / minv > 1000.0);
  f->pad_left = f->pad_right = f->precision = 0;
  for (size_t i = 0; i < count; i++) {
    if (!isfinite(v[i])) continue;
    if (f->exp) {
      int k = np_sci_digits(v[i]);
      if (k > f->precision) f->precision = k;
      int il = signbit(v[i]) ? 2 : 1;
      if (il > f->pad_left) f->pad_left = il;
    } else {
      char s[64];
      np_positional(v[i], s, sizeof s);
      char *dot = strchr(s, '.');
      int il = (int)(dot - s), fl = (int)strlen(dot + 1);
      if (il > f->pad_left) f->pad_left = il;
      if (fl > f->pad_right) f->pad_right = fl;
    }
  }
}

static void np_format(double v, const npfmt *f, char *out, size_t n)
{
  char s[64];
  if (!isfinite(v)) {
    snprintf(s, sizeof s, "%s", isnan(v) ? "nan" : (v < 0 ? "-inf" : "inf"));
    snprintf(out, n, "%*s", f->pad_left + f->pad_right + 1, s);
    return;
  }
  if (f->exp) {
    snprintf(s, sizeof s, "%.*e", f->precision, v);
    if (f->precision == 0) { /* numpy keeps the dot: "5.e+02" */
      char *e = strchr(s, 'e');
      memmove(e + 1, e, strlen(e) + 1);
      *e = '.';
    }
    char *dot = strchr(s, '.');
    snprintf(out, n, "%*s%s", f->pad_left - (int)(dot - s), "", s);
    return;
  }
  np_positional(v, s, sizeof s);
  char *dot = strchr(s, '.');
  int il = (int)(dot - s), fl = (int)strlen(dot + 1);
  snprintf(out, n, "%*s%s%*s", f->pad_left - il, "", s, f->pad_right - fl, "");
}

typedef struct sbuf {
  char *s;
  size_t len, cap;
} sbuf;

static bool sb_add(sbuf *b, const char *s, size_t l)
{
  if (b->len + l + 1 > b->cap) {
    size_t nc = (b->cap ? b->cap * 2 : 256) + l;
    char *p = realloc(b->s, nc);
    if (!p) return false;
    b->s = p;
    b->cap = nc;
  }
  memcpy(b->s + b->len, s, l);
  b->len += l;
  b->s[b->len] = '\0';
  return true;
}

/* numpy's _extendLine for a 1-D array: wrap before `word` when the line
** would pass `width`, unless wrapping cannot help. */
static bool extend(sbuf *out, sbuf *line, const char *word, size_t width)
{
  size_t wl = strlen(word);
  if (line->len + wl > width && line->len > 1) {
    size_t l = line->len;
    while (l > 0 && line->s[l - 1] == ' ')
      l--;
    if (!sb_add(out, line->s, l) || !sb_add(out, "\n", 1)) return false;
    line->len = 0;
    if (!sb_add(line, " ", 1)) return false;
  }
  return sb_add(line, word, wl);
}

char *spy_np_array_str(const double *v, size_t count)
{
  const size_t width = 75 - 1, edge = 3;
  bool summary = count > 1000;
  double ends[6];
  const double *fv = v;
  size_t fcount = count;
  if (summary) {
    for (size_t i = 0; i < edge; i++)
      ends[i] = v[i], ends[edge + i] = v[count - edge + i];
    fv = ends;
    fcount = 2 * edge;
  }
  npfmt f;
  np_fill_format(fv, fcount, &f);

  sbuf out = {0}, line = {0};
  char word[96];
  bool ok = sb_add(&out, "", 0) && sb_add(&line, " ", 1);
  for (size_t i = 0; ok && i < fcount; i++) {
    np_format(fv[i], &f, word, sizeof word);
    ok = extend(&out, &line, word, width);
    if (ok && i + 1 < fcount) ok = sb_add(&line, " ", 1);
    if (ok && summary && i + 1 == edge)
      ok = extend(&out, &line, "...", width) && sb_add(&line, " ", 1);
  }
  if (ok) ok = sb_add(&out, line.s, line.len);
  free(line.s);
  if (!ok) {
    free(out.s);
    return NULL;
  }
  /* drop the hanging indent of the first line and bracket */
  size_t l = strlen(out.s);
  char *r = malloc(l + 2);
  if (r) {
    r[0] = '[';
    memcpy(r + 1, out.s + 1, l - 1);
    r[l] = ']';
    r[l + 1] = '\0';
  }
  free(out.s);
  return r;
}

void spy_log_value_shorten(char *s)
{
  size_t l = strlen(s);
  if (l < 80) return;
  char tail[31];
  memcpy(tail, s + l - 30, 30);
  tail[30] = '\0';
  sprintf(s + 30, ", ..., %s", tail);
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
