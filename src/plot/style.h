/*
** The look of every figure spy draws, in one place: font, sizes, line
** width, the colour cycle of line series (seaborn-colorblind, as Syncopy's
** matplotlib style) and the colormap of images (matplotlib's magma, as
** Syncopy's pltConfig["cmap"]).  Back ends read only this table.
*/
#ifndef SPY_PLOT_STYLE_H
#define SPY_PLOT_STYLE_H

#include <stddef.h>

typedef struct spy_plot_stop {
  double at;       /* 0..1 */
  const char *rgb; /* "#rrggbb" */
} spy_plot_stop;

typedef struct spy_plot_style {
  const char *font;      /* family known to cairo/fontconfig */
  double fontsize;       /* labels and ticks, points */
  double titlesize;      /* panel titles, points */
  double multi_fontsize; /* the same in multi-panel figures */
  double multi_titlesize;
  int single_ticks;          /* at most about this many ticks per axis (single panel) */
  int multi_ticks;           /* the same in a multi-panel figure */
  double linewidth;          /* data lines, points */
  const char *const *colors; /* line colour cycle */
  size_t ncolors;
  const spy_plot_stop *cmap; /* image colormap, stops in increasing `at` */
  size_t ncmap;
  double single_w, single_h; /* single panel figure, inches (Syncopy's sFigSize) */
  double panel_w, panel_h;   /* per panel of a multi-panel figure (mXSize, mYSize) */
  double dpi;                /* pixels per inch of raster output */
} spy_plot_style;

extern const spy_plot_style spy_plot_look;

#endif
