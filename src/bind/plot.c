/*
** Lua face of plotting: spy.singlepanelplot / spy.multipanelplot (and the
** same methods on data objects) return a Figure; fig:save writes a file,
** fig:show displays it (a window, sixel or kitty graphics, or a text plot
** in the terminal), fig:text returns the text plot.  spy.set_plot chooses
** where show goes.  At the prompt the shell displays a Figure returned by
** an expression through the metatable's __display; scripts show nothing
** unless they call show.
**
** A Figure userdata owns one spy_figure (freed by __gc / __close).
*/
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "bind/bind.h"
#include "bind/data.h"
#include "plot/dataplot.h"
#include "plot/gnuplot.h"
#include "plot/style.h"

#define FIGURE "spy.Figure"

/* Where show goes (spy.set_plot). */
static struct {
  char backend[16];  /* auto | window | terminal */
  char terminal[16]; /* auto | sixel | kitty | text */
  int color;         /* text plot colours: -1 auto, 0 no, 1 yes */
} settings = {"auto", "auto", -1};

typedef struct figbox {
  spy_figure *f;
} figbox;

static figbox *checkfig(lua_State *L, int idx)
{
  return luaL_checkudata(L, idx, FIGURE);
}

static spy_figure *getfig(lua_State *L, int idx)
{
  figbox *b = checkfig(L, idx);
  if (!b->f) luaL_error(L, "the figure was closed");
  return b->f;
}

static int fig_gc(lua_State *L)
{
  figbox *b = checkfig(L, 1);
  spy_figure_free(b->f);
  b->f = NULL;
  return 0;
}

/* ---- making figures ------------------------------------------------------- */

#define KW_SELECTORS                                                                               \
  {"trials", SPY_KT_INT | SPY_KT_NUMS | SPY_KT_NULL, "null", NULL,                                 \
   "the trial to plot (1-based); needed when the object has several"},                             \
      {"channel", SPY_KT_INT | SPY_KT_STR | SPY_KT_LIST | SPY_KT_NULL, "null", NULL,               \
       "channel names or 1-based indices"},                                                        \
      {"channel_i", SPY_KT_INT | SPY_KT_STR | SPY_KT_LIST | SPY_KT_NULL, "null", NULL,             \
       "CrossSpectralData: row channel(s)"},                                                       \
      {"channel_j", SPY_KT_INT | SPY_KT_STR | SPY_KT_LIST | SPY_KT_NULL, "null", NULL,             \
       "CrossSpectralData: column channel(s)"},                                                    \
      {"latency", SPY_KT_NUMS | SPY_KT_STR | SPY_KT_NULL, "null", NULL,                            \
       "{t0, t1} in s, or 'maxperiod', 'minperiod', 'prestim', 'poststim'"},                       \
      {"frequency", SPY_KT_NUM | SPY_KT_NUMS | SPY_KT_NULL, "null", NULL,                          \
       "a frequency (nearest bin) or {fmin, fmax} in Hz"},                                         \
      {"taper", SPY_KT_INT | SPY_KT_STR | SPY_KT_LIST | SPY_KT_NULL, "null", NULL,                 \
       "taper names or 1-based indices"},                                                          \
      {"unit", SPY_KT_INT | SPY_KT_STR | SPY_KT_LIST | SPY_KT_NULL, "null", NULL,                  \
       "SpikeData: unit names or 1-based indices"},                                                \
      {"on_yaxis", SPY_KT_STR, "\"trials\"", "trials|unit|channel",                                \
       "SpikeData: rows of the raster, 'trials' (one unit), 'unit' or 'channel' (one trial)"},     \
      {"shifted", SPY_KT_BOOL, "true", NULL,                                                       \
       "AnalogData: stack the channels with offsets, channel names as y ticks"},                   \
      {"logscale", SPY_KT_BOOL, "true", NULL,                                                      \
       "SpectralData with output 'pow': plot log10 of the power ('power (dB)')"},                  \
      SPY_KW_END

static const spy_kwarg kw_plot[] = {KW_SELECTORS};

static const spy_funcspec spec_single = {
    "singlepanelplot",
    "spy.singlepanelplot(data, {trials=..., channel=..., frequency=..., taper=..., ...})",
    "Plot a selection of a data object into one panel; returns a Figure.",
    "AnalogData: time series, channels stacked with their names as y ticks (shifted=true).  "
    "SpectralData: line spectra as log10 power ('power (dB)'), or for time-frequency data an "
    "image of one channel with a magma colorbar.  CrossSpectralData: the pair channel_i, "
    "channel_j.  TimeLockData: the trial average with a band avg +- sqrt(var) (with trials=: "
    "the trials as lines).  SpikeData: a raster, on_yaxis='trials' (one unit) or 'unit' / "
    "'channel' (one trial).  Selectors as spy.selectdata; one trial only.  The Figure saves with "
    "fig:save('f.png'|'.svg'|'.pdf') and shows with fig:show(); at the prompt it shows itself.",
    "local spec = spy.freqanalysis(data, {keeptrials=false})\n"
    "spy.singlepanelplot(spec, {channel={1, 2}}):save('spec.png')",
    kw_plot};

static const spy_funcspec spec_multi = {
    "multipanelplot",
    "spy.multipanelplot(data, {trials=..., channel=..., frequency=..., ...})",
    "Plot a selection of a data object with one panel per channel (2 to 25); returns a Figure.",
    "Panels are laid out as Syncopy's calc_multi_layout.  CrossSpectralData: one panel per "
    "channel_i x channel_j combination.  SpikeData: one panel per trial (on_yaxis 'unit' or "
    "'channel') or per unit (on_yaxis='trials'), at most 25.  Other rules as spy.singlepanelplot.",
    "spy.multipanelplot(spec, {channel={1, 2, 3, 4}}):save('spectra.pdf')",
    kw_plot};

/* An empty Figure on the stack (safe for __gc), filled by the caller. */
static figbox *newfig(lua_State *L)
{
  figbox *b = lua_newuserdatauv(L, sizeof *b, 0);
  b->f = NULL;
  luaL_setmetatable(L, FIGURE);
  return b;
}

static const char *const selkeys[] = {"trials",    "channel", "channel_i", "channel_j", "latency",
                                      "frequency", "taper",   "unit",      NULL};

static int makeplot(lua_State *L, const spy_funcspec *spec, bool multi)
{
  spy_data *d = spy_bind_checkdata(L, 1);
  lua_settop(L, 2);
  if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TTABLE);
  spy_jsonbox *box = spy_bind_jsonbox(L);
  box->json = spy_bind_kwargs(L, lua_isnoneornil(L, 2) ? 0 : 2, spec);
  spy_jsonbox *selbox = spy_bind_jsonbox(L);
  selbox->json = cJSON_CreateObject();
  if (!selbox->json) return luaL_error(L, "out of memory");
  for (const char *const *k = selkeys; *k; k++) {
    cJSON *v = cJSON_GetObjectItemCaseSensitive(box->json, *k);
    if (v && !cJSON_IsNull(v)) cJSON_AddItemToObject(selbox->json, *k, cJSON_Duplicate(v, 1));
  }
  spy_plot_opts o = {multi, cJSON_IsTrue(cJSON_GetObjectItem(box->json, "shifted")),
                     cJSON_IsTrue(cJSON_GetObjectItem(box->json, "logscale")), selbox->json,
                     cJSON_GetStringValue(cJSON_GetObjectItem(box->json, "on_yaxis"))};
  figbox *fig = newfig(L);
  spy_err err = {0};
  if (spy_plot_data(d, &o, &fig->f, &err)) return spy_bind_raise(L, &err);
  return 1;
}

static int l_single(lua_State *L)
{
  return makeplot(L, &spec_single, false);
}
static int l_multi(lua_State *L)
{
  return makeplot(L, &spec_multi, true);
}

/* ---- where a figure goes --------------------------------------------------- */

static bool envis(const char *name, const char *value)
{
  const char *v = getenv(name);
  return v && strcmp(v, value) == 0;
}

/* The terminal's graphics: explicit setting, else from the environment
** (kitty's and sixel terminals' own variables); text otherwise. */
static spy_plot_kind termkind(void)
{
  if (!strcmp(settings.terminal, "sixel")) return SPY_PLOT_SIXEL;
  if (!strcmp(settings.terminal, "kitty")) return SPY_PLOT_KITTY;
  if (!strcmp(settings.terminal, "text")) return SPY_PLOT_TEXT;
  const char *term = getenv("TERM");
  if (getenv("KITTY_WINDOW_ID") || envis("TERM", "xterm-kitty") || envis("TERM", "xterm-ghostty"))
    return SPY_PLOT_KITTY;
  if (term && (strstr(term, "sixel") || !strcmp(term, "mlterm") || !strncmp(term, "foot", 4) ||
               !strcmp(term, "contour") || !strncmp(term, "yaft", 4)))
    return SPY_PLOT_SIXEL;
  if (envis("TERM_PROGRAM", "WezTerm") || envis("TERM_PROGRAM", "iTerm.app")) return SPY_PLOT_SIXEL;
  return SPY_PLOT_TEXT;
}

static void textsize(spy_plot_target *t)
{
  struct winsize ws;
  t->cols = 80, t->rows = 24;
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20 && ws.ws_row >= 8)
    t->cols = ws.ws_col, t->rows = ws.ws_row;
  t->rows -= 2; /* room for the figure's line and the prompt */
  t->color = settings.color >= 0
                 ? settings.color == 1
                 : isatty(STDOUT_FILENO) && !getenv("NO_COLOR") && !envis("TERM", "dumb");
}

/* Renders fig where show goes; terminal output is left in *out. */
static int display(spy_figure *f, spy_strbuf *out, spy_err *err)
{
  spy_plot_target t = {0};
  const char *disp = getenv("DISPLAY"), *way = getenv("WAYLAND_DISPLAY");
  bool screen = (disp && *disp) || (way && *way);
  bool window = !strcmp(settings.backend, "window");
  if (window && !screen)
    return spy_fail(
        err, SPY_ENOTSUP,
        "no display for a window (DISPLAY is not set): show the figure in the terminal "
        "with spy.set_plot{backend=\"terminal\"} or save it with fig:save(\"name.png\")");
  if (!strcmp(settings.backend, "auto")) {
    spy_err ignore = {0};
    window = screen && spy_plot_has_window(&ignore);
  }
  if (window) {
    t.kind = SPY_PLOT_WINDOW;
  } else {
    t.kind = termkind();
    if (t.kind == SPY_PLOT_TEXT) textsize(&t);
  }
  return spy_plot_render(f, &t, out, err);
}

static const spy_kwarg kw_none[] = {SPY_KW_END};
static const spy_funcspec spec_show = {
    "Figure:show",
    "fig:show()",
    "Show the figure: in a window, as terminal graphics, or as a text plot (see spy.set_plot).",
    "At the prompt a figure returned by an expression shows itself; scripts show nothing unless "
    "they call fig:show().",
    "spy.singlepanelplot(spec):show()",
    kw_none};

/* Shows f where show goes and pushes the terminal output (possibly empty). */
static void pushshown(lua_State *L, spy_figure *f)
{
  spy_strbuf out = {0};
  spy_err err = {0};
  if (display(f, &out, &err)) {
    free(out.s);
    spy_bind_raise(L, &err);
  }
  lua_pushlstring(L, out.s ? out.s : "", out.len);
  free(out.s);
}

static int fig_show(lua_State *L)
{
  spy_figure *f = getfig(L, 1);
  lua_settop(L, 1);
  pushshown(L, f);
  size_t n;
  const char *s = lua_tolstring(L, 2, &n);
  if (n) {
    fwrite(s, 1, n, stdout);
    fflush(stdout);
  }
  lua_settop(L, 1);
  return 1;
}

/* Length of s without its trailing blank lines (spaces and colour
** sequences only). */
static size_t unpadded(const char *s, size_t n)
{
  size_t end = n;
  for (;;) {
    size_t start = end;
    while (start > 0 && s[start - 1] != '\n')
      start--;
    bool blank = true;
    for (size_t i = start; i < end && blank; i++) {
      if (s[i] == ' ' || s[i] == '\r') continue;
      if (s[i] == '\033' && i + 1 < end && s[i + 1] == '[') {
        for (i += 2; i < end && !isalpha((unsigned char)s[i]); i++) {
        }
        continue;
      }
      blank = false;
    }
    if (!blank) return end;
    if (start == 0) return 0;
    end = start - 1;
  }
}

/* The shell's hook for a figure returned at the prompt: shows it and
** returns the text to print: the text plot (if that is where it went) and
** the first line of the figure's description. */
static int fig_display(lua_State *L)
{
  spy_figure *f = getfig(L, 1);
  lua_settop(L, 1);
  pushshown(L, f);
  size_t n;
  const char *s = lua_tolstring(L, 2, &n);
  n = unpadded(s, n);
  char *desc = spy_figure_describe(f);
  if (!desc) return luaL_error(L, "out of memory");
  char *nl = strchr(desc, '\n');
  if (nl) *nl = '\0';
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addlstring(&b, s, n);
  if (memchr(s, '\033', n)) luaL_addstring(&b, "\033[0m"); /* colours end with the plot */
  if (n) luaL_addchar(&b, '\n');
  luaL_addstring(&b, desc);
  free(desc);
  luaL_pushresult(&b);
  return 1;
}

static const spy_kwarg kw_save[] = {
    {"width", SPY_KT_NUM | SPY_KT_NULL, "null", NULL, "width in inches (default: the figure's)"},
    {"height", SPY_KT_NUM | SPY_KT_NULL, "null", NULL, "height in inches (default: the figure's)"},
    {"dpi", SPY_KT_NUM | SPY_KT_NULL, "null", NULL, "pixels per inch of PNG and SVG (default 100)"},
    SPY_KW_END};
static const spy_funcspec spec_save = {"Figure:save",
                                       "fig:save(filename, {width=, height=, dpi=})",
                                       "Write the figure to a .png, .svg or .pdf file.",
                                       NULL,
                                       "fig:save('spec.svg', {width=8, height=5})",
                                       kw_save};

static double optnum(const cJSON *o, const char *k)
{
  const cJSON *v = cJSON_GetObjectItem(o, k);
  return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static int fig_save(lua_State *L)
{
  spy_figure *f = getfig(L, 1);
  const char *path = luaL_checkstring(L, 2);
  lua_settop(L, 3);
  spy_jsonbox *box = spy_bind_jsonbox(L);
  box->json = spy_bind_kwargs(L, lua_isnoneornil(L, 3) ? 0 : 3, &spec_save);
  spy_plot_target t = {0};
  spy_err err = {0};
  if (spy_plot_kind_of_path(path, &t.kind, &err)) return spy_bind_raise(L, &err);
  t.path = path;
  t.width = optnum(box->json, "width");
  t.height = optnum(box->json, "height");
  t.dpi = optnum(box->json, "dpi");
  const char *bad = t.width < 0 || (t.width > 0 && t.width < 0.5)      ? "width"
                    : t.height < 0 || (t.height > 0 && t.height < 0.5) ? "height"
                    : t.dpi < 0 || (t.dpi > 0 && t.dpi < 10)           ? "dpi"
                                                                       : NULL;
  if (bad)
    return luaL_error(L, "Invalid value of `%s`: expected %s", bad,
                      bad[0] == 'd' ? "a number >= 10" : "a size >= 0.5 (inches)");
  /* the size gnuplot gets (defaults as in gnuplot.c's script): cairo fails
  ** on larger surfaces with its own message; PDF pages end at 200 inches */
  const spy_plot_style *st = &spy_plot_look;
  double ew = t.width > 0 ? t.width : f->width > 0 ? f->width : st->single_w;
  double eh = t.height > 0 ? t.height : f->height > 0 ? f->height : st->single_h;
  double edpi = t.dpi > 0 ? t.dpi : st->dpi;
  if (t.kind == SPY_PLOT_PDF && (ew > 200 || eh > 200))
    return spy_bind_errorf(L, "Invalid value of `width`/`height`: '%g x %g'; expected at most 200 "
                         "inches per side (a PDF page)", ew, eh);
  if (t.kind != SPY_PLOT_PDF && (ew * edpi > 20000 || eh * edpi > 20000))
    return spy_bind_errorf(L,
                      "Invalid value of `width`/`height`/`dpi`: '%g x %g in at %g dpi'; expected "
                      "at most 20000 pixels per side",
                      ew, eh, edpi);
  if (spy_plot_render(f, &t, NULL, &err)) return spy_bind_raise(L, &err);
  lua_pushstring(L, path);
  return 1;
}

static const spy_kwarg kw_text[] = {
    {"cols", SPY_KT_INT | SPY_KT_NULL, "null", NULL, "width in characters (default 80)"},
    {"rows", SPY_KT_INT | SPY_KT_NULL, "null", NULL, "height in lines (default 24)"},
    {"color", SPY_KT_BOOL, "false", NULL, "ANSI colours (images need them)"},
    SPY_KW_END};
static const spy_funcspec spec_text = {"Figure:text",
                                       "fig:text({cols=80, rows=24, color=false})",
                                       "The figure as a text plot (gnuplot's dumb terminal).",
                                       NULL,
                                       "print(fig:text{cols=100, rows=30})",
                                       kw_text};

static int fig_text(lua_State *L)
{
  spy_figure *f = getfig(L, 1);
  lua_settop(L, 2);
  spy_jsonbox *box = spy_bind_jsonbox(L);
  box->json = spy_bind_kwargs(L, lua_isnoneornil(L, 2) ? 0 : 2, &spec_text);
  spy_plot_target t = {.kind = SPY_PLOT_TEXT};
  t.cols = (int)optnum(box->json, "cols");
  t.rows = (int)optnum(box->json, "rows");
  t.color = cJSON_IsTrue(cJSON_GetObjectItem(box->json, "color"));
  if (t.cols < 0 || t.cols > 1000 || (t.cols && t.cols < 20) || t.rows < 0 || t.rows > 1000 ||
      (t.rows && t.rows < 8))
    return luaL_error(L,
                      "Invalid value of `cols`/`rows`: expected 20..1000 columns and 8..1000 rows");
  spy_strbuf out = {0};
  spy_err err = {0};
  if (spy_plot_render(f, &t, &out, &err)) {
    free(out.s);
    return spy_bind_raise(L, &err);
  }
  lua_pushlstring(L, out.s ? out.s : "", out.len);
  free(out.s);
  return 1;
}

static int fig_tostring(lua_State *L)
{
  char *s = spy_figure_describe(getfig(L, 1));
  if (!s) return luaL_error(L, "out of memory");
  lua_pushstring(L, s);
  free(s);
  return 1;
}

static int fig_index(lua_State *L)
{
  spy_figure *f = getfig(L, 1);
  const char *k = luaL_checkstring(L, 2);
  if (!strcmp(k, "npanels"))
    lua_pushinteger(L, (lua_Integer)f->npanels);
  else if (!strcmp(k, "nrows"))
    lua_pushinteger(L, (lua_Integer)f->nrows);
  else if (!strcmp(k, "ncols"))
    lua_pushinteger(L, (lua_Integer)f->ncols);
  else if (!strcmp(k, "kind"))
    lua_pushstring(L, f->kind);
  else {
    luaL_getmetafield(L, 1, "__methods");
    lua_getfield(L, -1, k);
  }
  return 1;
}

/* ---- settings -------------------------------------------------------------- */

static const spy_kwarg kw_set_plot[] = {
    {"backend", SPY_KT_STR | SPY_KT_NULL, "null", "auto|window|terminal",
     "where fig:show goes: a window (needs DISPLAY and gnuplot-qt), the terminal, or auto"},
    {"terminal", SPY_KT_STR | SPY_KT_NULL, "null", "auto|sixel|kitty|text",
     "graphics in the terminal; auto: kitty or sixel when the terminal announces it, else text"},
    {"color", SPY_KT_BOOL | SPY_KT_NULL, "null", NULL,
     "colours in text plots (default: when stdout is a terminal and NO_COLOR is unset)"},
    SPY_KW_END};

static const spy_funcspec spec_set_plot = {
    "set_plot",
    "spy.set_plot{backend='auto'|'window'|'terminal', terminal='auto'|'sixel'|'kitty'|'text', "
    "color=}",
    "Choose where figures show; returns the settings now in force.",
    "Figures are drawn by gnuplot (Debian package gnuplot-nox; gnuplot-qt for windows).  "
    "With backend 'auto' a figure opens in a window when DISPLAY is set and gnuplot has a window "
    "terminal, else in the terminal: kitty graphics (KITTY_WINDOW_ID, TERM=xterm-kitty), sixel "
    "(TERM mlterm, foot, contour, yaft or containing 'sixel'; WezTerm, iTerm2), else a text plot.",
    "spy.set_plot{terminal='text'}",
    kw_set_plot};

static int l_set_plot(lua_State *L)
{
  lua_settop(L, 1);
  spy_jsonbox *box = spy_bind_jsonbox(L);
  box->json = spy_bind_kwargs(L, lua_isnoneornil(L, 1) ? 0 : 1, &spec_set_plot);
  const cJSON *b = cJSON_GetObjectItem(box->json, "backend");
  const cJSON *t = cJSON_GetObjectItem(box->json, "terminal");
  const cJSON *c = cJSON_GetObjectItem(box->json, "color");
  if (cJSON_IsString(b)) snprintf(settings.backend, sizeof settings.backend, "%s", b->valuestring);
  if (cJSON_IsString(t))
    snprintf(settings.terminal, sizeof settings.terminal, "%s", t->valuestring);
  if (cJSON_IsBool(c)) settings.color = cJSON_IsTrue(c);
  lua_createtable(L, 0, 3);
  lua_pushstring(L, settings.backend);
  lua_setfield(L, -2, "backend");
  lua_pushstring(L, settings.terminal);
  lua_setfield(L, -2, "terminal");
  if (settings.color >= 0) {
    lua_pushboolean(L, settings.color);
    lua_setfield(L, -2, "color");
  }
  return 1;
}

static const struct {
  lua_CFunction f;
  const spy_funcspec *spec;
} fig_methods[] = {{fig_save, &spec_save}, {fig_show, &spec_show}, {fig_text, &spec_text}};

void spy_open_plot(lua_State *L, int spy)
{
  luaL_newmetatable(L, FIGURE);
  lua_pushcfunction(L, fig_index);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, fig_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushcfunction(L, fig_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, fig_gc);
  lua_setfield(L, -2, "__close");
  lua_pushcfunction(L, fig_display);
  lua_setfield(L, -2, "__display");
  lua_pushstring(L, "Figure");
  lua_setfield(L, -2, "__name");
  int mt = lua_gettop(L);
  lua_newtable(L);
  for (size_t i = 0; i < sizeof fig_methods / sizeof *fig_methods; i++)
    spy_bind_func(L, mt + 1, fig_methods[i].spec->name + strlen("Figure:"), fig_methods[i].f,
                  fig_methods[i].spec);
  lua_setfield(L, mt, "__methods");
  static const char *const fields[] = {"npanels", "nrows", "ncols", "kind"};
  lua_createtable(L, 4, 0);
  for (int i = 0; i < 4; i++) {
    lua_pushstring(L, fields[i]);
    lua_seti(L, -2, i + 1);
  }
  lua_setfield(L, mt, "__fields");
  lua_pop(L, 1);

  spy_bind_func(L, spy, "singlepanelplot", l_single, &spec_single);
  spy_bind_func(L, spy, "multipanelplot", l_multi, &spec_multi);
  spy_bind_func(L, spy, "set_plot", l_set_plot, &spec_set_plot);
  lua_getfield(L, spy, "_methods");
  lua_pushcfunction(L, l_single);
  lua_setfield(L, -2, "singlepanelplot");
  lua_pushcfunction(L, l_multi);
  lua_setfield(L, -2, "multipanelplot");
  lua_pop(L, 1);
}
