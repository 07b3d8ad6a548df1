/*
** The gnuplot back end: renders a spy_figure by running gnuplot as a child
** process and writing it a script on a pipe; the data follow the commands
** as inline binary (`'-' binary`), never as text, so large images render
** fast.
**
** Output kinds: files (png via pngcairo, svg, pdf via pdfcairo), a window
** (qt or x11, when gnuplot has one), and terminal output returned as bytes:
** sixel (sixelgd), kitty (a PNG wrapped in kitty's graphics protocol) and
** text (gnuplot's dumb terminal, in colour or plain).
**
** Files appear atomically: gnuplot writes a temporary file next to the
** target, renamed over it only when gnuplot succeeded.  The program is
** "gnuplot" on PATH, or $SPY_GNUPLOT when set.
*/
#ifndef SPY_PLOT_GNUPLOT_H
#define SPY_PLOT_GNUPLOT_H

#include <stdbool.h>

#include "core/err.h"
#include "core/strbuf.h"
#include "plot/figure.h"

typedef enum {
  SPY_PLOT_PNG,
  SPY_PLOT_SVG,
  SPY_PLOT_PDF,
  SPY_PLOT_WINDOW,
  SPY_PLOT_SIXEL,
  SPY_PLOT_KITTY,
  SPY_PLOT_TEXT
} spy_plot_kind;

typedef struct spy_plot_target {
  spy_plot_kind kind;
  const char *path;     /* files only */
  double width, height; /* inches; <= 0: the figure's size */
  double dpi;           /* <= 0: the style's */
  int cols, rows;       /* text: characters (<= 0: 80 x 24) */
  bool color;           /* text: ANSI colours (needed to read images) */
} spy_plot_target;

/* The file kind for a path by its extension (.png .svg .pdf, any case);
** fails with the allowed extensions. */
int spy_plot_kind_of_path(const char *path, spy_plot_kind *kind, spy_err *err);

/* Renders f.  Terminal kinds (sixel, kitty, text) append their bytes to out
** (may be NULL for the others).  Fails with a clear message when gnuplot is
** missing (naming the Debian package), lacks a window terminal, or reports
** an error. */
int spy_plot_render(const spy_figure *f, const spy_plot_target *t, spy_strbuf *out, spy_err *err);

/* Whether gnuplot is installed and has a window terminal (qt or x11):
** 1 yes, 0 no (err says why). */
int spy_plot_has_window(spy_err *err);

#endif
