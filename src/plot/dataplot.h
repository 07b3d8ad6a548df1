/*
** Figures of data objects: what spy.singlepanelplot / spy.multipanelplot
** show for each data class, with Syncopy's selection rules, labels and
** messages (syncopy.md section 12).  Each class is one builder function;
** a class without a builder gets a clear "not supported" error.
**
** The selection is applied to a private resolved copy (spy_select); the
** object itself is never changed, so nothing needs restoring afterwards.
** The figure returned in *out is the caller's (spy_figure_free).
*/
#ifndef SPY_PLOT_DATAPLOT_H
#define SPY_PLOT_DATAPLOT_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "data/data.h"
#include "plot/figure.h"

/* Syncopy's pltConfig["mMaxAxes"]. */
#define SPY_PLOT_MAX_PANELS 25

typedef struct spy_plot_opts {
  bool multi;           /* multipanelplot: one panel per channel (channel pair) */
  bool shifted;         /* AnalogData: stack channels with offsets, names as y ticks */
  bool logscale;        /* SpectralData with output 'pow': log10 of the power */
  const cJSON *sel;     /* selection keywords (object; NULL: everything) */
  const char *on_yaxis; /* SpikeData: 'trials' (NULL), 'unit' or 'channel' */
} spy_plot_opts;

int spy_plot_data(spy_data *d, const spy_plot_opts *o, spy_figure **out, spy_err *err);

#endif
