/* The figure model (figure.h): construction, copies, description. */
#include "plot/figure.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"

static char *dupstr(const char *s)
{
  if (!s) return NULL;
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

spy_figure *spy_figure_new(const char *kind, size_t npanels, size_t nrows, size_t ncols)
{
  spy_figure *f = calloc(1, sizeof *f);
  if (!f) return NULL;
  f->kind = dupstr(kind ? kind : "figure");
  f->panels = calloc(npanels ? npanels : 1, sizeof *f->panels);
  if (!f->kind || !f->panels) {
    spy_figure_free(f);
    return NULL;
  }
  f->npanels = npanels, f->nrows = nrows, f->ncols = ncols;
  return f;
}

static void panel_free(spy_plot_panel *p)
{
  free(p->title), free(p->xlabel), free(p->ylabel);
  for (size_t i = 0; i < p->nlines; i++) {
    free(p->lines[i].x), free(p->lines[i].y), free(p->lines[i].y2), free(p->lines[i].label);
  }
  free(p->lines);
  if (p->image) {
    free(p->image->z), free(p->image->cblabel), free(p->image->yc);
    free(p->image);
  }
  for (size_t i = 0; i < p->nyticks; i++)
    free(p->yticklabel[i]);
  free(p->ytick), free(p->yticklabel);
}

void spy_figure_free(spy_figure *f)
{
  if (!f) return;
  for (size_t i = 0; f->panels && i < f->npanels; i++)
    panel_free(&f->panels[i]);
  free(f->panels);
  free(f->kind);
  free(f);
}

static int setstr(char **dst, const char *s)
{
  if (!s) return SPY_OK;
  char *d = dupstr(s);
  if (!d) return SPY_ENOMEM;
  free(*dst);
  *dst = d;
  return SPY_OK;
}

int spy_panel_labels(spy_plot_panel *p, const char *title, const char *xlabel, const char *ylabel)
{
  if (setstr(&p->title, title) || setstr(&p->xlabel, xlabel) || setstr(&p->ylabel, ylabel))
    return SPY_ENOMEM;
  return SPY_OK;
}

int spy_panel_add_line(spy_plot_panel *p, const double *x, const double *y, size_t ystride,
                       size_t n, const char *label)
{
  spy_plot_line *v = realloc(p->lines, (p->nlines + 1) * sizeof *v);
  if (!v) return SPY_ENOMEM;
  p->lines = v;
  spy_plot_line *l = &v[p->nlines];
  memset(l, 0, sizeof *l);
  l->x = malloc((n ? n : 1) * sizeof *l->x);
  l->y = malloc((n ? n : 1) * sizeof *l->y);
  l->label = dupstr(label);
  if (!l->x || !l->y || (label && !l->label)) {
    free(l->x), free(l->y), free(l->label);
    return SPY_ENOMEM;
  }
  for (size_t k = 0; k < n; k++) {
    l->x[k] = x[k];
    l->y[k] = y[k * ystride];
  }
  l->n = n;
  p->nlines++;
  return SPY_OK;
}

int spy_panel_add_band(spy_plot_panel *p, const double *x, const double *lo, const double *hi,
                       size_t stride, size_t n)
{
  double *y2 = malloc((n ? n : 1) * sizeof *y2);
  if (!y2 || spy_panel_add_line(p, x, lo, stride, n, NULL)) {
    free(y2);
    return SPY_ENOMEM;
  }
  for (size_t k = 0; k < n; k++)
    y2[k] = hi[k * stride];
  p->lines[p->nlines - 1].y2 = y2;
  p->lines[p->nlines - 1].kind = SPY_PLOT_BAND;
  return SPY_OK;
}

int spy_panel_add_marks(spy_plot_panel *p, const double *x, const double *y, size_t n)
{
  if (spy_panel_add_line(p, x, y, 1, n, NULL)) return SPY_ENOMEM;
  p->lines[p->nlines - 1].kind = SPY_PLOT_MARKS;
  return SPY_OK;
}

int spy_panel_set_image(spy_plot_panel *p, const double *z, size_t nx, size_t ny, double x0,
                        double x1, double y0, double y1, const char *cblabel)
{
  spy_plot_image *im = calloc(1, sizeof *im);
  if (!im) return SPY_ENOMEM;
  im->z = malloc((nx * ny > 0 ? nx * ny : 1) * sizeof *im->z);
  im->cblabel = dupstr(cblabel);
  if (!im->z || (cblabel && !im->cblabel)) {
    free(im->z), free(im->cblabel), free(im);
    return SPY_ENOMEM;
  }
  memcpy(im->z, z, nx * ny * sizeof *z);
  im->nx = nx, im->ny = ny, im->x0 = x0, im->x1 = x1, im->y0 = y0, im->y1 = y1;
  im->zmin = INFINITY, im->zmax = -INFINITY;
  for (size_t i = 0; i < nx * ny; i++)
    if (isfinite(z[i])) {
      if (z[i] < im->zmin) im->zmin = z[i];
      if (z[i] > im->zmax) im->zmax = z[i];
    }
  if (!(im->zmin <= im->zmax)) im->zmin = 0, im->zmax = 1;
  if (p->image) {
    free(p->image->z), free(p->image->cblabel), free(p->image->yc), free(p->image);
  }
  p->image = im;
  return SPY_OK;
}

int spy_panel_set_image_rows(spy_plot_panel *p, const double *y)
{
  spy_plot_image *im = p->image;
  if (!im) return SPY_EINVAL;
  double *yc = malloc((im->ny ? im->ny : 1) * sizeof *yc);
  if (!yc) return SPY_ENOMEM;
  memcpy(yc, y, im->ny * sizeof *yc);
  free(im->yc);
  im->yc = yc;
  im->y0 = yc[0], im->y1 = yc[im->ny ? im->ny - 1 : 0];
  return SPY_OK;
}

int spy_panel_set_yticks(spy_plot_panel *p, const double *pos, const char *const *labels, size_t n)
{
  double *t = malloc((n ? n : 1) * sizeof *t);
  char **l = calloc(n ? n : 1, sizeof *l);
  bool ok = t && l;
  for (size_t i = 0; ok && i < n; i++)
    ok = (l[i] = dupstr(labels[i])) != NULL;
  if (!ok) {
    for (size_t i = 0; l && i < n; i++)
      free(l[i]);
    free(t), free(l);
    return SPY_ENOMEM;
  }
  memcpy(t, pos, n * sizeof *t);
  for (size_t i = 0; i < p->nyticks; i++)
    free(p->yticklabel[i]);
  free(p->ytick), free(p->yticklabel);
  p->ytick = t, p->yticklabel = l, p->nyticks = n;
  return SPY_OK;
}

static void quoted(spy_strbuf *b, const char *key, const char *s)
{
  if (!s || !*s) return;
  spy_sb_puts(b, ", ");
  spy_sb_puts(b, key);
  spy_sb_puts(b, " '");
  spy_sb_puts(b, s);
  spy_sb_putc(b, '\'');
}

char *spy_figure_describe(const spy_figure *f)
{
  spy_strbuf b = {0};
  char tmp[128];
  snprintf(tmp, sizeof tmp, "<Figure: %s, %zu panel%s (%zu x %zu)>", f->kind, f->npanels,
           f->npanels == 1 ? "" : "s", f->nrows, f->ncols);
  spy_sb_puts(&b, tmp);
  for (size_t i = 0; i < f->npanels; i++) {
    const spy_plot_panel *p = &f->panels[i];
    snprintf(tmp, sizeof tmp, "\n  panel %zu: ", i + 1);
    spy_sb_puts(&b, tmp);
    if (p->image)
      snprintf(tmp, sizeof tmp, "image %zu x %zu with colorbar", p->image->ny, p->image->nx);
    else {
      size_t k[3] = {0, 0, 0};
      for (size_t j = 0; j < p->nlines; j++)
        k[p->lines[j].kind] += p->lines[j].kind == SPY_PLOT_MARKS ? p->lines[j].n : 1;
      snprintf(tmp, sizeof tmp, "%zu line%s", k[0], k[0] == 1 ? "" : "s");
      if (k[1]) {
        spy_sb_puts(&b, tmp);
        snprintf(tmp, sizeof tmp, " with %zu band%s", k[1], k[1] == 1 ? "" : "s");
      }
      if (k[2]) snprintf(tmp, sizeof tmp, "raster of %zu mark%s", k[2], k[2] == 1 ? "" : "s");
    }
    spy_sb_puts(&b, tmp);
    quoted(&b, "title", p->title);
    quoted(&b, "x", p->xlabel);
    quoted(&b, "y", p->ylabel);
  }
  return spy_sb_take(&b);
}

void spy_plot_layout(size_t n, size_t *nrows, size_t *ncols)
{
  size_t r = 1, c = n ? n : 1;
  if (n % 2 != 0) {
    c = (size_t)sqrt((double)n);
    r = c;
    while (c * r < n) {
      c++;
      r = n / c;
    }
    if (c == n && n > 4) n++; /* a prime: one empty slot rather than a single row */
  }
  if (n % 2 == 0 && n > 2) {
    r = (size_t)sqrt((double)n);
    c = n / r;
    while (c * r < n) {
      r--;
      c = n / r;
    }
  } else if (n == 2) {
    r = 1, c = 2;
  }
  *nrows = r, *ncols = c;
}
