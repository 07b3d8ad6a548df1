#include "io/info.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/pyfmt.h"
#include "core/strbuf.h"
#include "data/dataclass.h"
#include "data/extra.h"
#include "io/checksum.h"

/* ---- JSON writer (Python's json.dump) ------------------------------------ */

cJSON *spy_json_float(double v)
{
  cJSON *n = cJSON_CreateNumber(v);
  if (n) n->type |= SPY_JSON_FLOAT;
  return n;
}

bool spy_json_is_float(const cJSON *n) { return n && cJSON_IsNumber(n) && (n->type & SPY_JSON_FLOAT); }

static void put_number(spy_strbuf *s, const cJSON *v)
{
  double x = v->valuedouble;
  char buf[64];
  bool as_float = (v->type & SPY_JSON_FLOAT) || !isfinite(x) || x != floor(x) || fabs(x) >= 9.2e18;
  if (!as_float) {
    snprintf(buf, sizeof buf, "%.0f", x == 0 ? 0.0 : x);
  } else if (isnan(x)) {
    snprintf(buf, sizeof buf, "NaN");
  } else if (isinf(x)) {
    snprintf(buf, sizeof buf, x < 0 ? "-Infinity" : "Infinity");
  } else {
    spy_py_float(x, buf, sizeof buf);
  }
  spy_sb_puts(s, buf);
}

/* Decodes one UTF-8 sequence at p (n bytes left); an invalid byte counts
** as the Latin-1 code point of that byte.  Lone surrogates written as three
** bytes (what the parser stores for "\ud800") decode to themselves. */
static unsigned long utf8_next(const unsigned char *p, size_t n, size_t *used)
{
  unsigned c = p[0];
  int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (len == 0 || (size_t)len > n) {
    *used = 1;
    return c;
  }
  unsigned long cp = len == 1 ? c : len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
  for (int i = 1; i < len; i++) {
    if ((p[i] & 0xc0) != 0x80) {
      *used = 1;
      return c;
    }
    cp = (cp << 6) | (p[i] & 0x3f);
  }
  static const unsigned long minimum[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < minimum[len] || cp > 0x10ffff) {
    *used = 1;
    return c;
  }
  *used = (size_t)len;
  return cp;
}

static void put_string(spy_strbuf *s, const char *str)
{
  const unsigned char *p = (const unsigned char *)(str ? str : "");
  size_t n = strlen((const char *)p);
  spy_sb_putc(s, '"');
  while (n > 0) {
    size_t used;
    unsigned long c = utf8_next(p, n, &used);
    p += used;
    n -= used;
    char esc[16];
    switch (c) {
    case '"': spy_sb_puts(s, "\\\""); continue;
    case '\\': spy_sb_puts(s, "\\\\"); continue;
    case '\n': spy_sb_puts(s, "\\n"); continue;
    case '\r': spy_sb_puts(s, "\\r"); continue;
    case '\t': spy_sb_puts(s, "\\t"); continue;
    case '\b': spy_sb_puts(s, "\\b"); continue;
    case '\f': spy_sb_puts(s, "\\f"); continue;
    default: break;
    }
    if (c >= 0x20 && c < 0x7f) {
      spy_sb_putc(s, (char)c);
    } else if (c > 0xffff) {
      c -= 0x10000;
      snprintf(esc, sizeof esc, "\\u%04lx\\u%04lx", 0xd800 | (c >> 10), 0xdc00 | (c & 0x3ff));
      spy_sb_puts(s, esc);
    } else {
      snprintf(esc, sizeof esc, "\\u%04lx", c);
      spy_sb_puts(s, esc);
    }
  }
  spy_sb_putc(s, '"');
}

static void put_value(spy_strbuf *s, const cJSON *v, int indent, int level)
{
  switch (v->type & 0xff) {
  case cJSON_NULL: spy_sb_puts(s, "null"); return;
  case cJSON_True: spy_sb_puts(s, "true"); return;
  case cJSON_False: spy_sb_puts(s, "false"); return;
  case cJSON_Number: put_number(s, v); return;
  case cJSON_String: put_string(s, v->valuestring); return;
  case cJSON_Raw: spy_sb_puts(s, v->valuestring ? v->valuestring : "null"); return;
  case cJSON_Array:
  case cJSON_Object: break;
  default: spy_sb_puts(s, "null"); return;
  }
  bool obj = (v->type & 0xff) == cJSON_Object;
  if (!v->child) {
    spy_sb_puts(s, obj ? "{}" : "[]");
    return;
  }
  spy_sb_putc(s, obj ? '{' : '[');
  for (const cJSON *c = v->child; c; c = c->next) {
    if (indent >= 0) {
      spy_sb_putc(s, '\n');
      spy_sb_pad(s, indent * (level + 1));
    }
    if (obj) {
      put_string(s, c->string);
      spy_sb_puts(s, ": ");
    }
    put_value(s, c, indent, level + 1);
    if (c->next) spy_sb_puts(s, indent >= 0 ? "," : ", ");
  }
  if (indent >= 0) {
    spy_sb_putc(s, '\n');
    spy_sb_pad(s, indent * level);
  }
  spy_sb_putc(s, obj ? '}' : ']');
}

char *spy_json_dump(const cJSON *v, int indent)
{
  spy_strbuf s = {0};
  if (v) put_value(&s, v, indent, 0);
  else spy_sb_puts(&s, "null");
  return spy_sb_take(&s);
}

/* ---- JSON parser (Python's json.loads) ----------------------------------- */

/* Parse memory is bounded by the number of values (a cJSON node is ~64 bytes
** and "[0,0,..." spends 2 bytes per value): 2^21 values, far more than the
** labels and frequencies of any real object, cap the nodes near 128 MiB. */
enum { MAX_DEPTH = 512, MAX_VALUES = 1 << 21 };

typedef struct {
  const char *text, *p, *end;
  int depth;
  spy_err *err;
  size_t values;
} parser;

static int perr(parser *ps, const char *what, const char *at)
{
  size_t line = 1, col = 1;
  for (const char *q = ps->text; q < at; q++) {
    if (*q == '\n') {
      line++;
      col = 1;
    } else {
      col++;
    }
  }
  return spy_fail(ps->err, SPY_EFORMAT, "%s: line %zu column %zu (char %zu)", what, line, col,
                  (size_t)(at - ps->text));
}

static void skip_ws(parser *ps)
{
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
    ps->p++;
}

static bool lit(parser *ps, const char *word)
{
  size_t n = strlen(word);
  if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) return false;
  ps->p += n;
  return true;
}

static int hex4(const char *p, const char *end, unsigned *out)
{
  if (end - p < 4) return -1;
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
    else return -1;
  }
  *out = v;
  return 0;
}

static void put_utf8(spy_strbuf *s, unsigned long c)
{
  char b[4];
  if (c < 0x80) {
    b[0] = (char)c;
    spy_sb_put(s, b, 1);
  } else if (c < 0x800) {
    b[0] = (char)(0xc0 | (c >> 6));
    b[1] = (char)(0x80 | (c & 0x3f));
    spy_sb_put(s, b, 2);
  } else if (c < 0x10000) {
    b[0] = (char)(0xe0 | (c >> 12));
    b[1] = (char)(0x80 | ((c >> 6) & 0x3f));
    b[2] = (char)(0x80 | (c & 0x3f));
    spy_sb_put(s, b, 3);
  } else {
    b[0] = (char)(0xf0 | (c >> 18));
    b[1] = (char)(0x80 | ((c >> 12) & 0x3f));
    b[2] = (char)(0x80 | ((c >> 6) & 0x3f));
    b[3] = (char)(0x80 | (c & 0x3f));
    spy_sb_put(s, b, 4);
  }
}

/* ps->p is just past the opening quote; returns a malloc'd UTF-8 string. */
static char *parse_string(parser *ps)
{
  const char *start = ps->p - 1;
  spy_strbuf s = {0};
  spy_sb_put(&s, "", 0);
  while (1) {
    if (ps->p >= ps->end) {
      perr(ps, "Unterminated string starting at", start);
      goto fail;
    }
    unsigned char c = (unsigned char)*ps->p;
    if (c == '"') {
      ps->p++;
      break;
    }
    if (c < 0x20) {
      perr(ps, "Invalid control character at", ps->p);
      goto fail;
    }
    if (c != '\\') {
      const char *run = ps->p;
      while (ps->p < ps->end && *ps->p != '"' && *ps->p != '\\' && (unsigned char)*ps->p >= 0x20)
        ps->p++;
      spy_sb_put(&s, run, (size_t)(ps->p - run));
      continue;
    }
    const char *esc = ps->p++;
    if (ps->p >= ps->end) {
      perr(ps, "Unterminated string starting at", start);
      goto fail;
    }
    char e = *ps->p++;
    unsigned u, lo;
    switch (e) {
    case '"': spy_sb_putc(&s, '"'); break;
    case '\\': spy_sb_putc(&s, '\\'); break;
    case '/': spy_sb_putc(&s, '/'); break;
    case 'b': spy_sb_putc(&s, '\b'); break;
    case 'f': spy_sb_putc(&s, '\f'); break;
    case 'n': spy_sb_putc(&s, '\n'); break;
    case 'r': spy_sb_putc(&s, '\r'); break;
    case 't': spy_sb_putc(&s, '\t'); break;
    case 'u':
      if (hex4(ps->p, ps->end, &u) != 0) {
        perr(ps, "Invalid \\uXXXX escape", esc);
        goto fail;
      }
      ps->p += 4;
      if (u >= 0xd800 && u <= 0xdbff && ps->end - ps->p >= 6 && ps->p[0] == '\\' &&
          ps->p[1] == 'u' && hex4(ps->p + 2, ps->end, &lo) == 0 && lo >= 0xdc00 && lo <= 0xdfff) {
        ps->p += 6;
        put_utf8(&s, 0x10000 + (((unsigned long)u - 0xd800) << 10) + (lo - 0xdc00));
      } else if (u == 0) {
        /* C strings end at NUL: refuse rather than cut the text short. */
        perr(ps, "Unsupported NUL character (\\u0000) in string at", esc);
        goto fail;
      } else {
        put_utf8(&s, u);
      }
      break;
    default:
      perr(ps, "Invalid \\escape", esc);
      goto fail;
    }
  }
  if (s.oom) {
    spy_fail(ps->err, SPY_ENOMEM, "out of memory parsing JSON");
    goto fail;
  }
  return s.s;
fail:
  free(s.s);
  return NULL;
}

static cJSON *parse_value(parser *ps);

static cJSON *parse_number(parser *ps)
{
  const char *start = ps->p, *q = ps->p;
  bool is_float = false;
  if (q < ps->end && *q == '-') q++;
  if (q < ps->end && *q == '0') {
    q++;
  } else if (q < ps->end && *q >= '1' && *q <= '9') {
    while (q < ps->end && *q >= '0' && *q <= '9') q++;
  } else {
    perr(ps, "Expecting value", start);
    return NULL;
  }
  if (q + 1 < ps->end && *q == '.' && q[1] >= '0' && q[1] <= '9') {
    is_float = true;
    q++;
    while (q < ps->end && *q >= '0' && *q <= '9') q++;
  }
  if (q < ps->end && (*q == 'e' || *q == 'E')) {
    const char *r = q + 1;
    if (r < ps->end && (*r == '+' || *r == '-')) r++;
    if (r < ps->end && *r >= '0' && *r <= '9') {
      while (r < ps->end && *r >= '0' && *r <= '9') r++;
      q = r;
      is_float = true;
    }
  }
  size_t n = (size_t)(q - start);
  char small[64], *buf = n < sizeof small ? small : malloc(n + 1);
  if (!buf) {
    spy_fail(ps->err, SPY_ENOMEM, "out of memory parsing JSON");
    return NULL;
  }
  memcpy(buf, start, n);
  buf[n] = '\0';
  double v = spy_strtod_c(buf);
  if (buf != small) free(buf);
  ps->p = q;
  cJSON *node = is_float ? spy_json_float(v) : cJSON_CreateNumber(v);
  if (!node) spy_fail(ps->err, SPY_ENOMEM, "out of memory parsing JSON");
  return node;
}

static cJSON *parse_container(parser *ps, bool obj)
{
  const char *open = ps->p++;
  if (++ps->depth > MAX_DEPTH) {
    perr(ps, "Nesting too deep (more than 512 levels) at", open);
    return NULL;
  }
  cJSON *c = obj ? cJSON_CreateObject() : cJSON_CreateArray();
  if (!c) goto oom;
  skip_ws(ps);
  if (ps->p < ps->end && *ps->p == (obj ? '}' : ']')) {
    ps->p++;
    ps->depth--;
    return c;
  }
  while (1) {
    char *key = NULL;
    if (obj) {
      skip_ws(ps);
      if (ps->p >= ps->end || *ps->p != '"') {
        perr(ps, "Expecting property name enclosed in double quotes", ps->p);
        goto fail;
      }
      ps->p++;
      if (!(key = parse_string(ps))) goto fail;
      skip_ws(ps);
      if (ps->p >= ps->end || *ps->p != ':') {
        free(key);
        perr(ps, "Expecting ':' delimiter", ps->p);
        goto fail;
      }
      ps->p++;
    }
    cJSON *item = parse_value(ps);
    if (!item) {
      free(key);
      goto fail;
    }
    if (obj) {
      /* Python's dict: a repeated key keeps its first position, last value. */
      bool ok = cJSON_GetObjectItemCaseSensitive(c, key)
                    ? cJSON_ReplaceItemInObjectCaseSensitive(c, key, item)
                    : cJSON_AddItemToObject(c, key, item);
      free(key);
      if (!ok) {
        cJSON_Delete(item);
        goto oom;
      }
    } else if (!cJSON_AddItemToArray(c, item)) {
      cJSON_Delete(item);
      goto oom;
    }
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ',') {
      ps->p++;
      continue;
    }
    if (ps->p < ps->end && *ps->p == (obj ? '}' : ']')) {
      ps->p++;
      break;
    }
    perr(ps, "Expecting ',' delimiter", ps->p);
    goto fail;
  }
  ps->depth--;
  return c;
oom:
  spy_fail(ps->err, SPY_ENOMEM, "out of memory parsing JSON");
fail:
  cJSON_Delete(c);
  return NULL;
}

static cJSON *parse_value(parser *ps)
{
  skip_ws(ps);
  if (ps->p >= ps->end) {
    perr(ps, "Expecting value", ps->p);
    return NULL;
  }
  cJSON *v = NULL;
  if (++ps->values > MAX_VALUES) {
    spy_fail(ps->err, SPY_EFORMAT, "JSON holds more than %d values", MAX_VALUES);
    return NULL;
  }
  switch (*ps->p) {
  case '{': return parse_container(ps, true);
  case '[': return parse_container(ps, false);
  case '"': {
    ps->p++;
    char *str = parse_string(ps);
    if (!str) return NULL;
    v = cJSON_CreateString(str);
    free(str);
    break;
  }
  case 'n':
    if (lit(ps, "null")) v = cJSON_CreateNull();
    else return perr(ps, "Expecting value", ps->p), NULL;
    break;
  case 't':
    if (lit(ps, "true")) v = cJSON_CreateTrue();
    else return perr(ps, "Expecting value", ps->p), NULL;
    break;
  case 'f':
    if (lit(ps, "false")) v = cJSON_CreateFalse();
    else return perr(ps, "Expecting value", ps->p), NULL;
    break;
  case 'N':
    if (lit(ps, "NaN")) v = spy_json_float(NAN);
    else return perr(ps, "Expecting value", ps->p), NULL;
    break;
  case 'I':
    if (lit(ps, "Infinity")) v = spy_json_float(INFINITY);
    else return perr(ps, "Expecting value", ps->p), NULL;
    break;
  case '-':
    if (lit(ps, "-Infinity")) {
      v = spy_json_float(-INFINITY);
      break;
    }
    return parse_number(ps);
  default: return parse_number(ps);
  }
  if (!v) spy_fail(ps->err, SPY_ENOMEM, "out of memory parsing JSON");
  return v;
}

/* Python reads the file as UTF-8 before parsing; so do we. */
static const char *invalid_utf8(const char *text, size_t len)
{
  const unsigned char *p = (const unsigned char *)text, *end = p + len;
  while (p < end) {
    if (*p < 0x80) {
      p++;
      continue;
    }
    size_t used;
    unsigned long c = utf8_next(p, (size_t)(end - p), &used);
    if (used == 1 || (c >= 0xd800 && c <= 0xdfff)) return (const char *)p;
    p += used;
  }
  return NULL;
}

int spy_json_parse(const char *text, size_t len, cJSON **out, spy_err *err)
{
  spy_err local;
  if (!err) err = &local;
  *out = NULL;
  parser ps = {text, text, text + len, 0, err, 0};
  const char *bad = invalid_utf8(text, len);
  if (bad)
    return spy_fail(err, SPY_EFORMAT, "'utf-8' codec can't decode byte 0x%02x in position %zu",
                    (unsigned char)*bad, (size_t)(bad - text));
  cJSON *v = parse_value(&ps);
  if (!v) return err->code;
  skip_ws(&ps);
  if (ps.p != ps.end) {
    cJSON_Delete(v);
    return perr(&ps, "Extra data", ps.p);
  }
  *out = v;
  return SPY_OK;
}

/* ---- the .info sidecar --------------------------------------------------- */

static const char *const start_keys[] = {
    "filename",  "dataclass", "data_dtype",    "data_shape", "data_offset",        "trl_dtype",
    "trl_shape", "trl_offset", "file_checksum", "order",      "checksum_algorithm", NULL};

/* _infoFileProperties of each class, in Syncopy's order. */
static const char *const props_analog[] = {"dimord", "_version", "_log", "cfg", "info",
                                           "samplerate", "channel", NULL};
static const char *const props_spectral[] = {"dimord", "_version", "_log", "cfg", "info",
                                             "samplerate", "channel", "taper", "freq", NULL};
static const char *const props_cross[] = {"dimord", "_version", "_log", "cfg", "info",
                                          "samplerate", "channel_i", "channel_j", "freq", NULL};

static const char *const props_spike[] = {"dimord", "_version", "_log", "cfg", "info",
                                          "samplerate", "channel", "unit", NULL};
static const char *const props_event[] = {"dimord", "_version", "_log", "cfg", "info",
                                          "samplerate", NULL};

static const char *const *class_props(spy_dataclass c)
{
  if (c == SPY_SPIKE) return props_spike;
  if (c == SPY_EVENT) return props_event;
  return spy_dataclass_timechannel(c) ? props_analog : c == SPY_SPECTRAL ? props_spectral : props_cross;
}

void spy_info_hdr_free(spy_info_hdr *h)
{
  if (!h) return;
  free(h->filename);
  free(h->checksum);
  free(h->checksum_algorithm);
  memset(h, 0, sizeof *h);
}

static const char *pytype(const cJSON *v)
{
  if (!v) return "NoneType";
  switch (v->type & 0xff) {
  case cJSON_NULL: return "NoneType";
  case cJSON_True:
  case cJSON_False: return "bool";
  case cJSON_Number: return (v->type & SPY_JSON_FLOAT) ? "float" : "int";
  case cJSON_String: return "str";
  case cJSON_Array: return "list";
  case cJSON_Object: return "dict";
  default: return "object";
  }
}

/* Context for the checks of one file: every message names the file. */
typedef struct {
  const char *path;
  const cJSON *root;
  spy_err *err;
} ictx;

static int bad_type(ictx *c, const char *key, const char *expected, const cJSON *v)
{
  spy_fail_type(c->err, key, expected, pytype(v));
  spy_err_prefix(c->err, "Invalid info file %s", c->path);
  return c->err->code = SPY_EFORMAT;
}

static int bad_value(ictx *c, int code, const char *key, const char *actual, const char *legal)
{
  spy_fail_value(c->err, key, actual, "%s", legal);
  spy_err_prefix(c->err, "Invalid info file %s", c->path);
  return c->err->code = code;
}

static const cJSON *field(ictx *c, const char *key)
{
  return cJSON_GetObjectItemCaseSensitive(c->root, key);
}

static int get_str(ictx *c, const char *key, bool nullable, const char **out)
{
  const cJSON *v = field(c, key);
  if (nullable && cJSON_IsNull(v)) {
    *out = NULL;
    return SPY_OK;
  }
  if (!cJSON_IsString(v)) return bad_type(c, key, nullable ? "str or None" : "str", v);
  *out = v->valuestring;
  return SPY_OK;
}

static bool is_count(const cJSON *v)
{
  return cJSON_IsNumber(v) && !(v->type & SPY_JSON_FLOAT) && v->valuedouble >= 0 &&
         v->valuedouble <= 9007199254740992.0;
}

/* A list of exactly n non-negative integers into shape[0..n). */
static int get_shape(ictx *c, const char *key, int n, size_t *shape, int *ndim)
{
  const cJSON *v = field(c, key);
  if (!cJSON_IsArray(v)) return bad_type(c, key, "list of int", v);
  int k = 0;
  for (const cJSON *e = v->child; e; e = e->next, k++) {
    if (!is_count(e)) return bad_type(c, key, "list of non-negative int", e);
    if (k < n) shape[k] = (size_t)e->valuedouble;
  }
  if (k != n) {
    char actual[32], legal[64];
    snprintf(actual, sizeof actual, "%d entries", k);
    snprintf(legal, sizeof legal, "shape of %d dimensions", n);
    return bad_value(c, SPY_EFORMAT, key, actual, legal);
  }
  if (ndim) *ndim = k;
  return SPY_OK;
}

/* Python's repr of a shape tuple: "(3,)". */
static void shape1(char *buf, size_t n, size_t len) { snprintf(buf, n, "shape = (%zu,)", len); }

static int get_labels(ictx *c, const char *key, size_t expect, char ***out, size_t *n)
{
  const cJSON *v = field(c, key);
  if (!cJSON_IsArray(v)) return bad_type(c, key, "array_like", v);
  size_t k = 0;
  for (const cJSON *e = v->child; e; e = e->next, k++)
    if (!cJSON_IsString(e)) return bad_type(c, key, "array of str", e);
  if (k != expect) {
    char actual[64], legal[64];
    shape1(actual, sizeof actual, k);
    snprintf(legal, sizeof legal, "array of shape (%zu,)", expect);
    return bad_value(c, SPY_EFORMAT, key, actual, legal);
  }
  char **labels = calloc(k ? k : 1, sizeof *labels);
  if (!labels) return spy_fail(c->err, SPY_ENOMEM, "out of memory");
  size_t i = 0;
  for (const cJSON *e = v->child; e; e = e->next, i++)
    if (!(labels[i] = strdup(e->valuestring))) {
      spy_strv_free(labels, i);
      return spy_fail(c->err, SPY_ENOMEM, "out of memory");
    }
  *out = labels;
  *n = k;
  return SPY_OK;
}

static int get_freq(ictx *c, size_t expect, spy_data *d)
{
  const cJSON *v = field(c, "freq");
  if (!cJSON_IsArray(v)) return bad_type(c, "freq", "array_like", v);
  size_t k = 0;
  for (const cJSON *e = v->child; e; e = e->next, k++)
    if (!cJSON_IsNumber(e)) return bad_type(c, "freq", "array of numbers", e);
  if (k != expect) {
    char actual[64], legal[64];
    shape1(actual, sizeof actual, k);
    snprintf(legal, sizeof legal, "array of shape (%zu,)", expect);
    return bad_value(c, SPY_EFORMAT, "freq", actual, legal);
  }
  double *f = malloc((k ? k : 1) * sizeof *f);
  if (!f) return spy_fail(c->err, SPY_ENOMEM, "out of memory");
  size_t i = 0;
  for (const cJSON *e = v->child; e; e = e->next) f[i++] = e->valuedouble;
  free(d->freq);
  d->freq = f;
  d->nfreq = k;
  return SPY_OK;
}

static int get_dict(ictx *c, const char *key, bool optional, cJSON **out)
{
  const cJSON *v = field(c, key);
  cJSON *copy;
  if ((optional && !v) || cJSON_IsNull(v)) copy = cJSON_CreateObject();
  else if (!cJSON_IsObject(v)) return bad_type(c, key, "dict", v);
  else copy = cJSON_Duplicate(v, true);
  if (!copy) return spy_fail(c->err, SPY_ENOMEM, "out of memory");
  cJSON_Delete(*out);
  *out = copy;
  return SPY_OK;
}

static int replace_str(char **dst, const char *src, spy_err *err)
{
  char *s = strdup(src ? src : "");
  if (!s) return spy_fail(err, SPY_ENOMEM, "out of memory");
  free(*dst);
  *dst = s;
  return SPY_OK;
}

static int check_dimord(ictx *c, spy_dataclass cls, size_t ncols)
{
  const cJSON *v = field(c, "dimord");
  const char *const *want = spy_dataclass_dimord(cls);
  if (!cJSON_IsArray(v)) return bad_type(c, "dimord", "list of str", v);
  /* EventData: extra columns named after "sample", "eventid" */
  if (cls == SPY_EVENT && (size_t)cJSON_GetArraySize(v) == ncols && ncols > 2 && ncols <= 8 &&
      cJSON_IsString(v->child) && strcmp(v->child->valuestring, "sample") == 0 &&
      cJSON_IsString(v->child->next) && strcmp(v->child->next->valuestring, "eventid") == 0) {
    bool strs = true;
    for (const cJSON *e = v->child; e; e = e->next) strs = strs && cJSON_IsString(e);
    if (strs) return SPY_OK;
  }
  const cJSON *e = v->child;
  bool same = true;
  size_t i = 0;
  for (; e && want[i]; e = e->next, i++) {
    if (!cJSON_IsString(e)) return bad_type(c, "dimord", "list of str", e);
    same = same && strcmp(e->valuestring, want[i]) == 0;
  }
  if (same && !e && !want[i]) return SPY_OK;
  char *actual = spy_json_dump(v, -1);
  spy_strbuf legal = {0};
  spy_sb_putc(&legal, '[');
  for (i = 0; want[i]; i++) {
    spy_sb_puts(&legal, i ? ", '" : "'");
    spy_sb_puts(&legal, want[i]);
    spy_sb_putc(&legal, '\'');
  }
  spy_sb_puts(&legal, "] (spy supports the default dimord only)");
  int rc = bad_value(c, SPY_ENOTSUP, "dimord", actual ? actual : "?", legal.s ? legal.s : "");
  free(actual);
  free(legal.s);
  return rc;
}

static int parse_fields(ictx *c, spy_data **out, spy_info_hdr *h)
{
  spy_err *err = c->err;
  int rc;
  const cJSON *cls_node = field(c, "dataclass");
  if (!cls_node)
    return spy_fail(err, SPY_EFORMAT, "Info file %s does not contain a dataclass field", c->path);
  const char *clsname = cJSON_IsString(cls_node) ? cls_node->valuestring : pytype(cls_node);
  spy_dataclass cls = SPY_NCLASSES;
  for (int i = 0; i < SPY_NCLASSES; i++)
    if (strcmp(clsname, spy_dataclass_name((spy_dataclass)i)) == 0) cls = (spy_dataclass)i;
  if (cls == SPY_NCLASSES) {
    return spy_fail(err, SPY_EFORMAT, "Unknown data class %s", clsname);
  }
  const char *const *props = class_props(cls);
  for (int i = 0; start_keys[i]; i++)
    if (!field(c, start_keys[i]))
      return spy_fail(err, SPY_EFORMAT, "Required field %s for %s not in %s", start_keys[i],
                      spy_dataclass_name(cls), c->path);
  for (int i = 0; props[i]; i++)
    if (strcmp(props[i], "info") != 0 && !field(c, props[i]))
      return spy_fail(err, SPY_EFORMAT, "Required field %s for %s not in %s", props[i],
                      spy_dataclass_name(cls), c->path);

  /* file-level fields */
  const char *s;
  if ((rc = get_str(c, "filename", false, &s))) return rc;
  if (replace_str(&h->filename, s, err)) return SPY_ENOMEM;
  if ((rc = get_str(c, "data_dtype", false, &s))) return rc;
  if (spy_dtype_parse(s, &h->data_dtype) != SPY_OK)
    return bad_value(c, SPY_ENOTSUP, "data_dtype", s,
                     "one of float32, float64, complex64, complex128, int64");
  /* SpikeData with a waveform: Syncopy describes the waveform (its last
  ** dataset written), of 2 to 4 dimensions; container.c checks it */
  int want_nd = spy_dataclass_ndim(cls);
  const cJSON *dsh = field(c, "data_shape");
  if (cls == SPY_SPIKE && cJSON_GetArraySize(dsh) >= 2 && cJSON_GetArraySize(dsh) <= 4)
    want_nd = cJSON_GetArraySize(dsh);
  if ((rc = get_shape(c, "data_shape", want_nd, h->data_shape, &h->data_ndim))) return rc;
  const cJSON *off = field(c, "data_offset");
  if (is_count(off)) {
    h->has_data_offset = true;
    h->data_offset = (uint64_t)off->valuedouble;
  } else if (!cJSON_IsNull(off)) {
    return bad_type(c, "data_offset", "int or None", off);
  }
  if ((rc = get_str(c, "trl_dtype", false, &s))) return rc;
  if ((rc = get_shape(c, "trl_shape", 2, h->trl_shape, NULL))) return rc;
  if (h->trl_shape[1] < 3) {
    char actual[64];
    snprintf(actual, sizeof actual, "%zu columns", h->trl_shape[1]);
    return bad_value(c, SPY_EFORMAT, "trl_shape", actual, "at least 3 columns [start, stop, offset]");
  }
  if ((rc = get_str(c, "file_checksum", true, &s))) return rc;
  if (s && replace_str(&h->checksum, s, err)) return SPY_ENOMEM;
  if ((rc = get_str(c, "order", false, &s))) return rc;
  if (strcmp(s, "C") != 0) return bad_value(c, SPY_ENOTSUP, "order", s, "'C'");
  if ((rc = get_str(c, "checksum_algorithm", false, &s))) return rc;
  if (replace_str(&h->checksum_algorithm, s, err)) return SPY_ENOMEM;

  /* class properties */
  if ((rc = check_dimord(c, cls, h->data_shape[1]))) return rc;
  spy_data *d = spy_data_new(cls);
  if (!d) return spy_fail(err, SPY_ENOMEM, "out of memory");
  *out = d;
  const cJSON *dv = field(c, "dimord");
  if (cls == SPY_EVENT && cJSON_GetArraySize(dv) > 2) {
    const char *names[9] = {NULL};
    int i = 0;
    for (const cJSON *e = dv->child; e && i < 8; e = e->next) names[i++] = e->valuestring;
    if (spy_data_set_dimord(d, names)) return spy_fail(err, SPY_ENOMEM, "out of memory");
  }
  d->dtype = h->data_dtype;
  d->ndim = h->data_ndim;
  memcpy(d->shape, h->data_shape, sizeof d->shape);
  if ((rc = get_str(c, "_version", false, &s)) || (rc = replace_str(&d->version, s, err))) return rc;
  if ((rc = get_str(c, "_log", false, &s)) || (rc = replace_str(&d->log, s, err))) return rc;
  if ((rc = get_dict(c, "cfg", false, &d->cfg)) || (rc = get_dict(c, "info", true, &d->info)))
    return rc;
  const cJSON *sr = field(c, "samplerate");
  if (cJSON_IsNull(sr)) {
    d->samplerate = NAN;
  } else if (!cJSON_IsNumber(sr)) {
    return bad_type(c, "samplerate", "scalar", sr);
  } else if (!(sr->valuedouble >= 2.220446049250313e-16) || isinf(sr->valuedouble)) {
    char actual[64];
    spy_py_float(sr->valuedouble, actual, sizeof actual);
    return bad_value(c, SPY_EFORMAT, "samplerate", actual,
                     "value to be greater or equals 2.220446049250313e-16 and less or equals inf");
  } else {
    d->samplerate = sr->valuedouble;
  }
  size_t *sh = h->data_shape;
  /* SpikeData: one label per distinct channel/unit index, which only the
  ** data know; the count is checked when the data are opened */
  const cJSON *lab;
  switch (cls) {
  case SPY_SPIKE:
    lab = field(c, "channel");
    rc = get_labels(c, "channel", (size_t)cJSON_GetArraySize(lab), &d->channel, &d->nchannel);
    lab = field(c, "unit");
    if (!rc) rc = get_labels(c, "unit", (size_t)cJSON_GetArraySize(lab), &d->unit, &d->nunit);
    break;
  case SPY_EVENT:
    break;
  case SPY_ANALOG:
  case SPY_TIMELOCK:
    rc = get_labels(c, "channel", sh[1], &d->channel, &d->nchannel);
    break;
  case SPY_SPECTRAL:
    if (!(rc = get_labels(c, "channel", sh[3], &d->channel, &d->nchannel)) &&
        !(rc = get_labels(c, "taper", sh[1], &d->taper, &d->ntaper)))
      rc = get_freq(c, sh[2], d);
    break;
  default:
    if (!(rc = get_labels(c, "channel_i", sh[2], &d->channel, &d->nchannel)) &&
        !(rc = get_labels(c, "channel_j", sh[3], &d->channel_j, &d->nchannel_j)))
      rc = get_freq(c, sh[1], d);
    break;
  }
  if (rc) return rc;

  const cJSON *dsets = field(c, "_hdfFileDatasetProperties");
  if (dsets) {
    bool has_data = false;
    if (!cJSON_IsArray(dsets)) return bad_type(c, "_hdfFileDatasetProperties", "list of str", dsets);
    for (const cJSON *e = dsets->child; e; e = e->next) {
      if (!cJSON_IsString(e)) return bad_type(c, "_hdfFileDatasetProperties", "list of str", e);
      has_data = has_data || strcmp(e->valuestring, "data") == 0;
    }
    if (!has_data)
      return bad_value(c, SPY_EFORMAT, "_hdfFileDatasetProperties", "", "a list naming 'data'");
  }
  return SPY_OK;
}

int spy_info_parse(const char *text, size_t len, const char *path, spy_data **out,
                   spy_info_hdr *hdr, spy_err *err)
{
  spy_err local;
  if (!err) err = &local;
  *out = NULL;
  memset(hdr, 0, sizeof *hdr);
  cJSON *root = NULL;
  int rc = spy_json_parse(text, len, &root, err);
  if (rc != SPY_OK) {
    spy_err_prefix(err, "Info file %s is not valid JSON", path);
    return rc;
  }
  if (!cJSON_IsObject(root)) {
    rc = spy_fail(err, SPY_EFORMAT, "Info file %s does not hold a JSON object (found %s)", path,
                  pytype(root));
    cJSON_Delete(root);
    return rc;
  }
  ictx c = {path, root, err};
  rc = parse_fields(&c, out, hdr);
  cJSON_Delete(root);
  if (rc != SPY_OK) {
    spy_data_unref(*out);
    *out = NULL;
    spy_info_hdr_free(hdr);
  }
  return rc;
}

int spy_info_read(const char *path, spy_data **out, spy_info_hdr *hdr, spy_err *err)
{
  *out = NULL;
  memset(hdr, 0, sizeof *hdr);
  /* O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused
  ** below as not a regular file. */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  FILE *f = fd >= 0 ? fdopen(fd, "rb") : NULL;
  if (!f) {
    int e = errno;
    if (fd >= 0) close(fd);
    if (e == ENOENT) return spy_fail(err, SPY_ENOENT, "Cannot read %s: object does not exist", path);
    return spy_fail(err, SPY_EIO, "Cannot read %s: %s", path, strerror(e));
  }
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    fclose(f);
    return spy_fail(err, SPY_EIO, "Invalid value of `jsonFile`: '%s'; expected file", path);
  }
  if (st.st_size > SPY_INFO_MAX_BYTES) {
    fclose(f);
    return spy_fail(err, SPY_EFORMAT, "Info file %s is larger than %d MiB", path,
                    SPY_INFO_MAX_BYTES >> 20);
  }
  size_t n = (size_t)st.st_size;
  char *text = malloc(n ? n : 1);
  if (!text) {
    fclose(f);
    return spy_fail(err, SPY_ENOMEM, "out of memory reading %s", path);
  }
  size_t got = fread(text, 1, n, f);
  fclose(f);
  if (got != n) {
    free(text);
    return spy_fail(err, SPY_EIO, "Cannot read %s: short read", path);
  }
  int rc = spy_info_parse(text, n, path, out, hdr, err);
  free(text);
  return rc;
}

static cJSON *str_list(char *const *v, size_t n)
{
  cJSON *a = cJSON_CreateArray();
  for (size_t i = 0; a && i < n; i++)
    if (!cJSON_AddItemToArray(a, cJSON_CreateString(v[i] ? v[i] : ""))) {
      cJSON_Delete(a);
      return NULL;
    }
  return a;
}

static cJSON *size_list(const size_t *v, int n)
{
  cJSON *a = cJSON_CreateArray();
  for (int i = 0; a && i < n; i++)
    if (!cJSON_AddItemToArray(a, cJSON_CreateNumber((double)v[i]))) {
      cJSON_Delete(a);
      return NULL;
    }
  return a;
}

static cJSON *float_list(const double *v, size_t n)
{
  cJSON *a = cJSON_CreateArray();
  for (size_t i = 0; a && i < n; i++)
    if (!cJSON_AddItemToArray(a, spy_json_float(v[i]))) {
      cJSON_Delete(a);
      return NULL;
    }
  return a;
}

static bool add(cJSON *o, const char *key, cJSON *v)
{
  if (!v) return false;
  if (!cJSON_AddItemToObject(o, key, v)) {
    cJSON_Delete(v);
    return false;
  }
  return true;
}

char *spy_info_format(const spy_data *d, const spy_info_hdr *h)
{
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  char *text = NULL;
  const char *cname = spy_dataclass_name(d->cls);
  bool ok =
      add(o, "filename", cJSON_CreateString(h->filename ? h->filename : "")) &&
      add(o, "dataclass", cJSON_CreateString(cname)) &&
      add(o, "data_dtype", cJSON_CreateString(spy_dtype_name(d->dtype))) &&
      add(o, "data_shape", size_list(d->shape, d->ndim)) &&
      add(o, "data_offset",
          h->has_data_offset ? cJSON_CreateNumber((double)h->data_offset) : cJSON_CreateNull()) &&
      add(o, "trl_dtype", cJSON_CreateString("float64")) &&
      add(o, "trl_shape", size_list(h->trl_shape, 2)) &&
      add(o, "trl_offset", cJSON_CreateNull()) &&
      add(o, "file_checksum", h->checksum ? cJSON_CreateString(h->checksum) : cJSON_CreateNull()) &&
      add(o, "order", cJSON_CreateString("C")) &&
      add(o, "checksum_algorithm", cJSON_CreateString(SPY_CHECKSUM_ALGORITHM));
  for (const char *const *p = class_props(d->cls); ok && *p; p++) {
    const char *k = *p;
    if (strcmp(k, "dimord") == 0) {
      const char *const *dim = spy_data_dimord(d);
      size_t n = 0;
      while (dim[n]) n++;
      ok = add(o, k, str_list((char *const *)dim, n));
    } else if (strcmp(k, "_version") == 0) {
      ok = add(o, k, cJSON_CreateString(d->version));
    } else if (strcmp(k, "_log") == 0) {
      ok = add(o, k, cJSON_CreateString(d->log));
    } else if (strcmp(k, "cfg") == 0 || strcmp(k, "info") == 0) {
      /* A reference: the object's tree is written, not copied. */
      ok = cJSON_AddItemReferenceToObject(o, k, k[0] == 'c' ? d->cfg : d->info);
    } else if (strcmp(k, "samplerate") == 0) {
      ok = add(o, k, isnan(d->samplerate) ? cJSON_CreateNull() : spy_json_float(d->samplerate));
    } else if (strcmp(k, "channel") == 0 || strcmp(k, "channel_i") == 0) {
      ok = add(o, k, str_list(d->channel, d->nchannel));
    } else if (strcmp(k, "channel_j") == 0) {
      ok = add(o, k, str_list(d->channel_j, d->nchannel_j));
    } else if (strcmp(k, "taper") == 0) {
      ok = add(o, k, str_list(d->taper, d->ntaper));
    } else if (strcmp(k, "unit") == 0) {
      ok = add(o, k, str_list(d->unit, d->nunit));
    } else if (strcmp(k, "freq") == 0) {
      ok = add(o, k, float_list(d->freq, d->nfreq));
    }
  }
  cJSON *dsets = cJSON_CreateArray();
  for (const char *const *n = spy_dataclass_datasets(d->cls); ok && dsets && *n; n++) {
    /* CrossSpectralData lists its jackknife datasets only when it has them */
    if (d->cls == SPY_CROSSSPECTRAL && n != spy_dataclass_datasets(d->cls) &&
        !spy_data_has_extra((spy_data *)d, *n))
      continue;
    ok = cJSON_AddItemToArray(dsets, cJSON_CreateString(*n));
  }
  ok = ok && dsets;
  if (ok) ok = add(o, "_hdfFileDatasetProperties", dsets);
  else cJSON_Delete(dsets);
  if (ok) text = spy_json_dump(o, 4);
  cJSON_Delete(o);
  return text;
}
