/*
** The figure model: what a plot shows, independent of how it is drawn.
** A figure is a grid of panels; a panel holds line series or one image
** (with a colorbar), axis labels, a title and optional custom y ticks.
** Back ends (src/plot/gnuplot.c) render a figure; the plot builders for the
** data classes (src/plot/dataplot.c) fill one.
**
** Ownership: a spy_figure owns everything reachable from it (all arrays
** and strings are copies); spy_figure_free releases it all.  Adders copy
** their inputs and return SPY_ENOMEM (figure unchanged) when out of memory.
*/
#ifndef SPY_PLOT_FIGURE_H
#define SPY_PLOT_FIGURE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

/* What a series draws. */
typedef enum spy_plot_linekind {
  SPY_PLOT_LINE,  /* a line through the points */
  SPY_PLOT_BAND,  /* a translucent area between y and y2 (in the colour of the next line) */
  SPY_PLOT_MARKS, /* one vertical mark (height 0.8, centred on y) per point: a raster */
} spy_plot_linekind;

typedef struct spy_plot_line {
  double *x, *y; /* n points; NaN/inf y values leave a gap */
  double *y2;    /* SPY_PLOT_BAND: the band's other edge; NULL otherwise */
  size_t n;
  char *label; /* legend entry, NULL for none */
  spy_plot_linekind kind;
} spy_plot_line;

/* An image on a regular grid: z is ny x nx, row-major, row 0 at y0 (the
** bottom); pixel centres run from (x0, y0) to (x1, y1). */
typedef struct spy_plot_image {
  double *z;
  size_t nx, ny;
  double x0, x1, y0, y1;
  double *yc;        /* NULL: rows evenly spaced; else the ny row centres (increasing) */
  double zmin, zmax; /* colour range (the colorbar's) */
  char *cblabel;     /* colorbar label, NULL for none */
} spy_plot_image;

typedef struct spy_plot_panel {
  char *title, *xlabel, *ylabel;
  spy_plot_line *lines;
  size_t nlines;
  spy_plot_image *image; /* NULL for a line panel */
  double *ytick;         /* custom y ticks at ytick[k] labelled yticklabel[k] */
  char **yticklabel;
  size_t nyticks;
  bool yrange; /* fixed y range [ymin, ymax] instead of autoscale */
  double ymin, ymax;
  bool xrange; /* fixed x range [xmin, xmax] instead of the data's */
  double xmin, xmax;
} spy_plot_panel;

typedef struct spy_figure {
  char *kind; /* what is shown, e.g. "SpectralData line spectra" */
  spy_plot_panel *panels;
  size_t npanels, nrows, ncols; /* panels fill the grid row by row */
  double width, height;         /* default size in inches */
} spy_figure;

/* A figure with npanels empty panels on an nrows x ncols grid; NULL when out of memory. */
spy_figure *spy_figure_new(const char *kind, size_t npanels, size_t nrows, size_t ncols);
void spy_figure_free(spy_figure *f);

/* Sets a panel's labels (each may be NULL: unchanged). */
int spy_panel_labels(spy_plot_panel *p, const char *title, const char *xlabel, const char *ylabel);
/* Appends a line of n points (y[k*ystride] for k < n). */
int spy_panel_add_line(spy_plot_panel *p, const double *x, const double *y, size_t ystride,
                       size_t n, const char *label);
/* Appends a band between lo[k*stride] and hi[k*stride] (drawn under the
** lines, in the colour of the line added after it). */
int spy_panel_add_band(spy_plot_panel *p, const double *x, const double *lo, const double *hi,
                       size_t stride, size_t n);
/* Appends n raster marks: a vertical tick at (x[k], y[k]). */
int spy_panel_add_marks(spy_plot_panel *p, const double *x, const double *y, size_t n);
/* Sets the image (copies z: ny x nx, row-major, bottom row first); the
** colour range is z's finite min/max. */
int spy_panel_set_image(spy_plot_panel *p, const double *z, size_t nx, size_t ny, double x0,
                        double x1, double y0, double y1, const char *cblabel);
/* Gives the image's rows their own centres y[0..ny) (increasing; for
** frequencies that are not evenly spaced, e.g. log-spaced wavelet scales). */
int spy_panel_set_image_rows(spy_plot_panel *p, const double *y);
int spy_panel_set_yticks(spy_plot_panel *p, const double *pos, const char *const *labels, size_t n);

/* A one-paragraph description (caller frees): kind, grid, and per panel its
** title, labels, number of lines or image size. */
char *spy_figure_describe(const spy_figure *f);

/* Syncopy's panel grid for n axes (calc_multi_layout): prefers more
** columns than rows; primes above 4 leave one empty slot. */
void spy_plot_layout(size_t n, size_t *nrows, size_t *ncols);

#endif
