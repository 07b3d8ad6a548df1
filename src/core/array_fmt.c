/*
** The text of an array (array_ops.h): NumPy's repr for the preview, and
** NumPy's str, which spy also writes into Syncopy's messages and history
** entries (core/pyfmt.h).  The layout is NumPy's: brackets nested per axis,
** rows wrapped at the line width with a hanging indent, axes longer than
** 2*edgeitems summarised as head, ..., tail when the array is large, and
** one number format per array so columns align.  On top of NumPy, the
** preview always shows shape and dtype and never exceeds maxlines lines
** (first summarising, then showing one item at each end of the outer axes,
** finally cutting).
*/
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/array_ops.h"
#include "core/pyfmt.h"
#include "core/strbuf.h"

const spy_printopts spy_printopts_default = {1000, 3, 75, 8, 40};

/* ---- one number format per array (NumPy's FloatingFormat, maxprec) ----- */

typedef struct numfmt {
  bool plus;   /* always a sign (imaginary parts) */
  bool nodot;  /* "2" rather than "2." (parts of complex values) */
  bool single; /* float32: digits that identify the float32 value */
  int maxprec;
  bool exp;   /* scientific notation */
  int left;   /* width left of the point (sign included) */
  int right;  /* digits right of the point (positional: at most) */
  int expdig; /* exponent digits (scientific) */
  bool any;   /* stats: finite values seen */
  double maxabs, minabs;
  bool nan, inf, neginf;
} numfmt;

/* Fractional digits that identify x when read back, or, when that takes
** more than maxprec, the maxprec-digit rounding without its trailing zeros. */
static int digits(const numfmt *f, double x)
{
  char s[64];
  for (int p = 0; p < f->maxprec; p++) {
    snprintf(s, sizeof s, f->exp ? "%.*e" : "%.*f", p, x);
    if (f->single ? strtof(s, NULL) == (float)x : strtod(s, NULL) == x) return p;
  }
  snprintf(s, sizeof s, f->exp ? "%.*e" : "%.*f", f->maxprec, x);
  int p = f->maxprec;
  for (const char *z = s + strcspn(s, "e") - 1; p > 0 && *z == '0'; z--)
    p--;
  return p;
}

static void stat1(numfmt *f, double x)
{
  if (isnan(x)) {
    f->nan = true;
  } else if (isinf(x)) {
    f->inf = true;
    f->neginf |= x < 0;
  } else if (x != 0) {
    double ax = fabs(x);
    if (!f->any || ax > f->maxabs) f->maxabs = ax;
    if (!f->any || ax < f->minabs) f->minabs = ax;
    f->any = true;
  }
}

static void decide(numfmt *f)
{
  f->exp = f->any && (f->maxabs >= 1e8 || f->minabs < 1e-4 || f->maxabs / f->minabs > 1e3);
  f->left = f->right = 0;
  f->expdig = 2;
}

/* Widths from one finite value (second pass). */
static void stat2(numfmt *f, double x)
{
  if (!isfinite(x)) return;
  char s[64];
  int p = digits(f, x);
  snprintf(s, sizeof s, f->exp ? "%.*e" : "%.*f", p, x);
  int ip = (int)strcspn(s, ".e") + (f->plus && s[0] != '-');
  if (ip > f->left) f->left = ip;
  if (p > f->right) f->right = p;
  if (f->exp) {
    int ed = (int)strlen(strchr(s, 'e') + 2);
    if (ed > f->expdig) f->expdig = ed;
  }
}

static int dotw(const numfmt *f)
{
  return f->nodot && f->right == 0 ? 0 : 1;
}

/* Width right of the integer part: point, digits, exponent. */
static int tailw(const numfmt *f)
{
  return dotw(f) + f->right + (f->exp ? 2 + f->expdig : 0);
}

static void finish(numfmt *f)
{
  if (!f->nan && !f->inf) return;
  int nanw = 3 + f->plus, infw = 3 + (f->plus || f->neginf), t = tailw(f);
  if (nanw - t > f->left) f->left = nanw - t;
  if (infw - t > f->left) f->left = infw - t;
}

static void fmt_num(const numfmt *f, double x, spy_strbuf *b)
{
  char s[64];
  if (!isfinite(x)) {
    snprintf(s, sizeof s, "%s%s", x < 0 ? "-" : f->plus ? "+" : "", isnan(x) ? "nan" : "inf");
    spy_sb_pad(b, f->left + tailw(f) - (int)strlen(s));
    spy_sb_puts(b, s);
    return;
  }
  int p = f->exp ? f->right : digits(f, x);
  snprintf(s, sizeof s, f->exp ? "%.*e" : "%.*f", p, x);
  char *e = strchr(s, 'e');
  int ip = (int)strcspn(s, ".e");
  int sign = f->plus && s[0] != '-';
  spy_sb_pad(b, f->left - ip - sign);
  if (sign) spy_sb_put(b, "+", 1);
  spy_sb_put(b, s, (size_t)ip);
  if (p > 0) {
    spy_sb_put(b, ".", 1);
    spy_sb_put(b, s + ip + 1, (size_t)p);
  } else if (dotw(f)) {
    spy_sb_put(b, f->nodot ? " " : ".", 1);
  }
  if (e) {
    int ed = (int)strlen(e + 2);
    spy_sb_put(b, e, 2);
    for (; ed < f->expdig; ed++)
      spy_sb_put(b, "0", 1);
    spy_sb_puts(b, e + 2);
  } else {
    spy_sb_pad(b, f->right - p);
  }
}

/* ---- walking the shown elements ---------------------------------------- */

typedef struct ctx {
  const spy_array *a;
  const spy_printopts *o;
  bool repr;               /* repr: "array(...)" and ", "; str: " " */
  size_t edge[SPY_MAXDIM]; /* items shown at each end of an axis; 0: all */
  numfmt re, im;
  int iwidth; /* int64 */
  spy_strbuf b;
  size_t col;      /* length of the current output line */
  size_t nl, stop; /* newlines written; rendering stops beyond `stop` */
} ctx;

typedef void (*visitfn)(ctx *, const void *);

static bool summarised(const ctx *c, int d)
{
  return c->edge[d] && c->a->shape[d] > 2 * c->edge[d];
}

static void visit(ctx *c, int d, ptrdiff_t off, visitfn fn)
{
  const spy_array *a = c->a;
  if (d == a->ndim) {
    fn(c, (char *)a->buf->data + off * (ptrdiff_t)spy_dtype_size(a->dtype));
    return;
  }
  size_t n = a->shape[d], e = c->edge[d];
  for (size_t i = 0; i < n; i++) {
    if (summarised(c, d) && i == e) i = n - e;
    visit(c, d + 1, off + (ptrdiff_t)i * a->strides[d], fn);
  }
}

static void v_stat1(ctx *c, const void *p)
{
  double complex v = spy_dtype_load(p, c->a->dtype);
  stat1(&c->re, creal(v));
  stat1(&c->im, cimag(v));
}

static void v_stat2(ctx *c, const void *p)
{
  double complex v = spy_dtype_load(p, c->a->dtype);
  stat2(&c->re, creal(v));
  stat2(&c->im, cimag(v));
}

static void v_int(ctx *c, const void *p)
{
  char s[32];
  int w = snprintf(s, sizeof s, "%" PRId64, *(const int64_t *)p);
  if (w > c->iwidth) c->iwidth = w;
}

static void setup(ctx *c)
{
  spy_dtype t = c->a->dtype;
  ptrdiff_t off = (ptrdiff_t)c->a->offset;
  if (t == SPY_DT_I64) {
    c->iwidth = 0;
    visit(c, 0, off, v_int);
    return;
  }
  numfmt f0 = {.maxprec = c->o->precision, .single = t == SPY_DT_F32 || t == SPY_DT_C64};
  c->re = c->im = f0;
  c->im.plus = true;
  c->re.nodot = c->im.nodot = spy_dtype_is_complex(t);
  visit(c, 0, off, v_stat1);
  decide(&c->re);
  decide(&c->im);
  visit(c, 0, off, v_stat2);
  finish(&c->re);
  finish(&c->im);
}

/* The element at p as a word of the common width. */
static void word(ctx *c, const void *p, spy_strbuf *w)
{
  w->len = 0;
  if (c->a->dtype == SPY_DT_I64) {
    char s[32];
    int n = snprintf(s, sizeof s, "%" PRId64, *(const int64_t *)p);
    spy_sb_pad(w, c->iwidth - n);
    spy_sb_puts(w, s);
    return;
  }
  double complex v = spy_dtype_load(p, c->a->dtype);
  fmt_num(&c->re, creal(v), w);
  if (!spy_dtype_is_complex(c->a->dtype)) return;
  size_t at = w->len;
  fmt_num(&c->im, cimag(v), w);
  size_t end = w->len;
  while (end > at && w->s[end - 1] == ' ')
    end--;
  size_t trail = w->len - end;
  w->len = end;
  spy_sb_put(w, "j", 1);
  spy_sb_pad(w, (int)trail);
}

/* ---- layout ------------------------------------------------------------ */

static void newline(ctx *c, int n, size_t indent)
{
  while (c->b.len && c->b.s[c->b.len - 1] == ' ')
    c->b.len--;
  for (int i = 0; i < n; i++)
    spy_sb_put(&c->b, "\n", 1);
  c->nl += (size_t)n;
  spy_sb_pad(&c->b, (int)indent);
  c->col = indent;
}

static void item(ctx *c, const char *s, size_t n, size_t indent, size_t width, bool last)
{
  if (c->col + n > width && c->col > indent) newline(c, 1, indent);
  spy_sb_put(&c->b, s, n);
  c->col += n;
  if (!last) {
    spy_sb_put(&c->b, c->repr ? ", " : " ", c->repr ? 2 : 1);
    c->col += c->repr ? 2 : 1;
  }
}

/* Axis d starting at element offset off; the output column is `indent`
** right after this axis' "[" (NumPy's hanging indent), width the space
** left for it. */
static void render(ctx *c, int d, ptrdiff_t off, size_t indent, size_t width, spy_strbuf *w)
{
  const spy_array *a = c->a;
  size_t n = a->shape[d], e = c->edge[d];
  bool sum = summarised(c, d);
  int left = a->ndim - d;
  spy_sb_put(&c->b, "[", 1);
  c->col = indent;
  for (size_t i = 0; i < n && c->nl <= c->stop; i++) {
    ptrdiff_t o = off + (ptrdiff_t)i * a->strides[d];
    bool last = i + 1 == n;
    if (left == 1) {
      word(c, (char *)a->buf->data + o * (ptrdiff_t)spy_dtype_size(a->dtype), w);
      item(c, w->s, w->len, indent, width - 1, last);
    } else {
      if (i) {
        spy_sb_pad(&c->b, (int)indent);
        c->col = indent;
      }
      render(c, d + 1, o, indent + 1, width - 1, w);
      if (!last) {
        if (c->repr) spy_sb_put(&c->b, ",", 1);
        newline(c, left - 1, 0);
      }
    }
    if (sum && i + 1 == e) {
      if (left == 1) {
        item(c, "...", 3, indent, width - 1, false);
      } else {
        spy_sb_pad(&c->b, (int)indent);
        spy_sb_put(&c->b, "...,", c->repr ? 4 : 3);
        newline(c, left - 1, 0);
      }
      i = n - e - 1;
    }
  }
  spy_sb_put(&c->b, "]", 1);
}

static size_t lines(const spy_strbuf *b)
{
  size_t n = 1;
  for (size_t i = 0; i < b->len; i++)
    n += b->s[i] == '\n';
  return n;
}

/* Rows the current edges show (at least one line each). */
static size_t rows(const ctx *c)
{
  size_t r = 1;
  for (int d = 0; d + 1 < c->a->ndim && r <= c->stop; d++)
    r *= summarised(c, d) ? 2 * c->edge[d] + 1 : c->a->shape[d];
  return r;
}

/* repr: "array(" and the rows, a column less wide for the closing ")";
** str: the rows alone. */
static void body(ctx *c, spy_strbuf *w)
{
  const spy_array *a = c->a;
  size_t prefix = c->repr ? 6 : 0;
  c->b.len = 0;
  c->nl = 0;
  spy_sb_put(&c->b, "array(", prefix);
  if (a->ndim > 0 && spy_array_numel(a) == 0) {
    spy_sb_put(&c->b, "[]", 2);
    return;
  }
  setup(c);
  if (a->ndim == 0) {
    word(c, (char *)a->buf->data + a->offset * spy_dtype_size(a->dtype), w);
    spy_sb_put(&c->b, w->s, w->len);
    return;
  }
  render(c, 0, (ptrdiff_t)a->offset, prefix + 1, (size_t)c->o->linewidth - (c->repr ? 1 : 0), w);
}

void spy_shape_format(int ndim, const size_t *shape, char *buf, size_t n)
{
  size_t k = (size_t)snprintf(buf, n, "(");
  for (int d = 0; d < ndim && k < n; d++)
    k += (size_t)snprintf(buf + k, n - k, d ? ", %zu" : "%zu", shape[d]);
  if (k < n) snprintf(buf + k, n - k, ndim == 1 ? ",)" : ")");
}

char *spy_array_format(const spy_array *a, const spy_printopts *o)
{
  size_t max = o->maxlines > 1 ? (size_t)o->maxlines : 1;
  ctx c = {.a = a, .o = o, .repr = true, .stop = max};
  spy_strbuf w = {0};
  bool done = false;
  if (spy_array_numel(a) <= o->threshold && rows(&c) <= max) {
    body(&c, &w);
    done = lines(&c.b) <= max;
  }
  if (!done) {
    for (int d = 0; d < a->ndim; d++)
      c.edge[d] = (size_t)o->edgeitems;
    if (rows(&c) <= max) {
      body(&c, &w);
      done = lines(&c.b) <= max;
    }
  }
  if (!done) {
    for (int d = 0; d + 2 < a->ndim; d++)
      c.edge[d] = 1;
    body(&c, &w);
  }
  if (lines(&c.b) > max) { /* keep max-1 lines, then a marker */
    size_t n = 0, i = 0;
    for (; i < c.b.len && n < max - 1; i++)
      n += c.b.s[i] == '\n';
    c.b.len = i;
    spy_sb_pad(&c.b, 7);
    spy_sb_put(&c.b, "...", 3);
  }
  char tail[300], shp[200];
  spy_shape_format(a->ndim, a->shape, shp, sizeof shp);
  snprintf(tail, sizeof tail, "shape=%s, dtype=%s)", shp, spy_dtype_name(a->dtype));
  spy_sb_put(&c.b, ",", 1);
  const char *nl = c.b.s ? strrchr(c.b.s, '\n') : NULL;
  size_t last = nl ? c.b.len - (size_t)(nl + 1 - c.b.s) : c.b.len;
  if (last + 1 + strlen(tail) > (size_t)o->linewidth)
    spy_sb_put(&c.b, "\n      ", 7);
  else
    spy_sb_put(&c.b, " ", 1);
  spy_sb_puts(&c.b, tail);
  free(w.s);
  if (c.b.oom) {
    free(c.b.s);
    return NULL;
  }
  return c.b.s;
}

char *spy_array_str(const spy_array *a, const spy_printopts *o)
{
  ctx c = {.a = a, .o = o, .stop = SIZE_MAX};
  spy_strbuf w = {0};
  if (spy_array_numel(a) > o->threshold)
    for (int d = 0; d < a->ndim; d++)
      c.edge[d] = (size_t)o->edgeitems;
  body(&c, &w);
  free(w.s);
  if (c.b.oom || !c.b.s) {
    free(c.b.s);
    return NULL;
  }
  return c.b.s;
}

/* ---- one value, as Python's repr -------------------------------------- */

void spy_format_complex(double complex v, char *buf, size_t n)
{
  char re[64], im[64];
  spy_py_float_part(creal(v), re, sizeof re);
  spy_py_float_part(cimag(v), im, sizeof im);
  snprintf(buf, n, "%s%s%sj", re, isnan(cimag(v)) || !signbit(cimag(v)) ? "+" : "", im);
}
