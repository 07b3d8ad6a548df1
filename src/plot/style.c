/* The one definition of the look (style.h). */
#include "plot/style.h"

static const char *const colors[] = {"#0072B2", "#009E73", "#D55E00",
                                     "#CC79A7", "#F0E442", "#56B4E9"};

/* matplotlib's magma at nine equidistant points (perceptually uniform, so
** linear interpolation between them stays close to the full table). */
static const spy_plot_stop magma[] = {{0.000, "#000004"}, {0.125, "#1c1044"}, {0.250, "#4f127b"},
                                      {0.375, "#812581"}, {0.500, "#b5367a"}, {0.625, "#e55064"},
                                      {0.750, "#fb8761"}, {0.875, "#fec287"}, {1.000, "#fcfdbf"}};

const spy_plot_style spy_plot_look = {
    .font = "DejaVu Sans",
    .fontsize = 10,
    .titlesize = 11,
    .multi_fontsize = 8,
    .multi_titlesize = 9,
    .single_ticks = 8,
    .multi_ticks = 5,
    .linewidth = 1.5,
    .colors = colors,
    .ncolors = sizeof colors / sizeof *colors,
    .cmap = magma,
    .ncmap = sizeof magma / sizeof *magma,
    .single_w = 6.4,
    .single_h = 4.2,
    .panel_w = 3.2,
    .panel_h = 2.4,
    .dpi = 100,
};
