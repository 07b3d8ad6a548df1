#include "dsp/pyfmt.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Shortest decimal digits of |v| that read back as |v|: digits without
** dot or trailing zeros into d, decimal exponent of the first digit. */
static void shortest(double v, char *d, int *exp10)
{
  char tmp[40];
  for (int p = 1; p <= 17; p++) {
    snprintf(tmp, sizeof tmp, "%.*e", p - 1, v);
    if (strtod(tmp, NULL) == v || p == 17) break;
  }
  char *e = strchr(tmp, 'e');
  *exp10 = atoi(e + 1);
  size_t k = 0;
  for (char *s = tmp; s < e; s++)
    if (*s >= '0' && *s <= '9') d[k++] = *s;
  while (k > 1 && d[k - 1] == '0') k--;
  d[k] = '\0';
}

void spy_pyfloat(double v, char *buf, size_t n)
{
  if (isnan(v)) {
    snprintf(buf, n, "nan");
    return;
  }
  if (isinf(v)) {
    snprintf(buf, n, "%sinf", v < 0 ? "-" : "");
    return;
  }
  char d[40], out[80];
  int e, k = 0;
  const char *sign = signbit(v) ? "-" : "";
  shortest(fabs(v), d, &e);
  int nd = (int)strlen(d);
  if (v == 0) {
    snprintf(buf, n, "%s0.0", sign);
    return;
  }
  if (e < -4 || e >= 16) {
    k = snprintf(out, sizeof out, "%s%c%s%s", sign, d[0], nd > 1 ? "." : "", d + 1);
    snprintf(out + k, sizeof out - (size_t)k, "e%c%02d", e < 0 ? '-' : '+', abs(e));
  } else if (e < 0) {
    k = snprintf(out, sizeof out, "%s0.", sign);
    for (int i = 0; i < -e - 1; i++) out[k++] = '0';
    snprintf(out + k, sizeof out - (size_t)k, "%s", d);
  } else {
    k = snprintf(out, sizeof out, "%s", sign);
    for (int i = 0; i <= e; i++) out[k++] = i < nd ? d[i] : '0';
    out[k++] = '.';
    if (nd > e + 1)
      k += snprintf(out + k, sizeof out - (size_t)k, "%s", d + e + 1);
    else
      out[k++] = '0';
    out[k] = '\0';
  }
  snprintf(buf, n, "%s", out);
}

static bool integral(double v) { return isfinite(v) && v == floor(v) && fabs(v) < 1e16; }

void spy_pynum(double v, char *buf, size_t n)
{
  if (integral(v))
    snprintf(buf, n, "%.0f", v == 0 ? 0.0 : v);
  else
    spy_pyfloat(v, buf, n);
}

void spy_pyarray(const double *v, size_t count, char *buf, size_t n)
{
  bool ints = true;
  for (size_t i = 0; i < count; i++) ints = ints && integral(v[i]);
  size_t used = 0;
  char item[64];
  used += (size_t)snprintf(buf, n, "[");
  if (ints) {
    for (size_t i = 0; i < count && used < n; i++) {
      snprintf(item, sizeof item, "%.0f", v[i] == 0 ? 0.0 : v[i]);
      used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? " " : "", item);
    }
  } else {
    /* NumPy pads the integer parts left and the fractions right to a
    ** common width; a fraction of "0" prints as nothing after the dot. */
    size_t left = 0, right = 0;
    for (size_t i = 0; i < count; i++) {
      spy_pyfloat(v[i], item, sizeof item);
      char *dot = strchr(item, '.');
      size_t l = dot ? (size_t)(dot - item) : strlen(item);
      size_t r = dot ? strlen(dot + 1) : 0;
      if (dot && strcmp(dot + 1, "0") == 0) r = 0;
      if (l > left) left = l;
      if (r > right) right = r;
    }
    for (size_t i = 0; i < count && used < n; i++) {
      spy_pyfloat(v[i], item, sizeof item);
      char *dot = strchr(item, '.');
      if (dot && strcmp(dot + 1, "0") == 0) dot[1] = '\0';
      size_t l = dot ? (size_t)(dot - item) : strlen(item);
      size_t r = dot ? strlen(dot + 1) : 0;
      used += (size_t)snprintf(buf + used, n - used, "%s%*s%s%*s", i ? " " : "",
                               (int)(left - l), "", item, (int)(right - r), "");
    }
  }
  if (used < n) snprintf(buf + used, n - used, "]");
}

void spy_pylist(const double *v, size_t count, char *buf, size_t n)
{
  size_t used = (size_t)snprintf(buf, n, "[");
  char item[64];
  for (size_t i = 0; i < count && used < n; i++) {
    spy_pynum(v[i], item, sizeof item);
    used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? ", " : "", item);
  }
  if (used < n) snprintf(buf + used, n - used, "]");
}
