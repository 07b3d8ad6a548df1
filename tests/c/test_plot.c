/*
** The plot engine without Lua: Syncopy's panel grid, the figure model's
** description, and the gnuplot back end's outputs as other programs read
** them (an SVG with its texts and image, sixel and kitty escape sequences,
** a text plot), its errors without gnuplot or without a window terminal,
** and that a failed save leaves no file.
*/
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "plot/figure.h"
#include "plot/gnuplot.h"
#include "t.h"

static char dir[] = "/tmp/spy-test-plot-XXXXXX";

static void path(char *buf, size_t n, const char *name)
{
  snprintf(buf, n, "%s/%s", dir, name);
}

/* Syncopy's calc_multi_layout for 2..25 axes: {n, nrows, ncols}. */
static const int layouts[][3] = {{2, 1, 2},   {3, 1, 3},  {4, 2, 2},  {5, 2, 3},  {6, 2, 3},
                                 {7, 2, 4},   {8, 2, 4},  {9, 3, 3},  {10, 2, 5}, {11, 3, 4},
                                 {12, 3, 4},  {13, 2, 7}, {14, 2, 7}, {15, 3, 5}, {16, 4, 4},
                                 {17, 3, 6},  {18, 3, 6}, {19, 4, 5}, {20, 4, 5}, {21, 3, 7},
                                 {22, 2, 11}, {23, 4, 6}, {24, 4, 6}, {25, 5, 5}};

static void test_layout(void)
{
  for (size_t i = 0; i < sizeof layouts / sizeof *layouts; i++) {
    size_t r, c;
    spy_plot_layout((size_t)layouts[i][0], &r, &c);
    CHECK((int)r == layouts[i][1] && (int)c == layouts[i][2], "n=%d: %zu x %zu, Syncopy %d x %d",
          layouts[i][0], r, c, layouts[i][1], layouts[i][2]);
    CHECK(r * c >= (size_t)layouts[i][0], "n=%d fits", layouts[i][0]);
  }
}

/* Two panels: a line (0,0)..(10,10) labelled, and a 3 x 2 image. */
static spy_figure *sample(void)
{
  spy_figure *f = spy_figure_new("test figure", 2, 1, 2);
  double x[11], y[11], z[6] = {0, 1, 2, 3, 4, 5};
  for (int i = 0; i <= 10; i++)
    x[i] = y[i] = i;
  CHECK(f && spy_panel_labels(&f->panels[0], "left", "x axis", "y axis") == SPY_OK, "labels");
  CHECK(spy_panel_add_line(&f->panels[0], x, y, 1, 11, "diagonal") == SPY_OK, "line");
  CHECK(spy_panel_labels(&f->panels[1], "right", "time (s)", "frequency (Hz)") == SPY_OK, "labels");
  CHECK(spy_panel_set_image(&f->panels[1], z, 3, 2, 0, 1, 10, 20, "power") == SPY_OK, "image");
  return f;
}

static void test_describe(void)
{
  spy_figure *f = sample();
  char *s = spy_figure_describe(f);
  CHECK(s && strcmp(s, "<Figure: test figure, 2 panels (1 x 2)>\n"
                       "  panel 1: 1 line, title 'left', x 'x axis', y 'y axis'\n"
                       "  panel 2: image 2 x 3 with colorbar, title 'right', x 'time (s)', y "
                       "'frequency (Hz)'") == 0,
        "%s", s ? s : "(null)");
  CHECK(f->panels[1].image->zmin == 0 && f->panels[1].image->zmax == 5,
        "colour range = data range");
  free(s);
  spy_figure_free(f);
}

static void test_svg(void)
{
  spy_figure *f = sample();
  char p[512];
  path(p, sizeof p, "f.svg");
  spy_plot_target t = {.kind = SPY_PLOT_SVG, .path = p, .width = 8, .height = 4, .dpi = 100};
  spy_err err = {0};
  CHECK(spy_plot_render(f, &t, NULL, &err) == SPY_OK, "%s", err.msg);
  size_t n;
  char *svg = t_slurp(p, &n);
  CHECK(svg && strstr(svg, "width=\"800\" height=\"400\""), "size 800 x 400");
  const char *want[] = {
      "<text>left</text>",     "<text>right</text>", "<text>x axis</text>",   "<text>y axis</text>",
      "<text>diagonal</text>", "<text>power</text>", "<text>time (s)</text>", "<image "};
  for (size_t i = 0; svg && i < sizeof want / sizeof *want; i++)
    CHECK(strstr(svg, want[i]) != NULL, "svg has %s", want[i]);
  /* as Syncopy's: y labels on the left column only */
  CHECK(svg && !strstr(svg, "<text>frequency (Hz)</text>"), "inner y label left out");
  free(svg);
  spy_figure_free(f);
}

/* A user's ~/.gnuplot is not read: spy's figures look the same for all. */
static void test_no_init_file(void)
{
  char p[512], init[512];
  const char *home = getenv("HOME");
  char *saved = home ? strdup(home) : NULL;
  setenv("HOME", dir, 1);
  path(init, sizeof init, ".gnuplot");
  FILE *fp = fopen(init, "w");
  fputs("exit status 3\n", fp);
  fclose(fp);
  spy_figure *f = sample();
  path(p, sizeof p, "init.png");
  spy_plot_target t = {.kind = SPY_PLOT_PNG, .path = p};
  spy_err err = {0};
  CHECK(spy_plot_render(f, &t, NULL, &err) == SPY_OK && access(p, F_OK) == 0, "%s", err.msg);
  spy_figure_free(f);
  unlink(init);
  if (saved) setenv("HOME", saved, 1);
  free(saved);
}

static void test_terminals(void)
{
  spy_figure *f = sample();
  spy_err err = {0};
  spy_strbuf out = {0};
  spy_plot_target t = {.kind = SPY_PLOT_SIXEL, .width = 4, .height = 2, .dpi = 50};
  CHECK(spy_plot_render(f, &t, &out, &err) == SPY_OK, "%s", err.msg);
  CHECK(out.len > 100 && memcmp(out.s, "\033P", 2) == 0 && strstr(out.s, "\033\\"),
        "sixel: a DCS sequence");
  free(out.s);
  out = (spy_strbuf){0};
  t.kind = SPY_PLOT_KITTY;
  CHECK(spy_plot_render(f, &t, &out, &err) == SPY_OK, "%s", err.msg);
  /* kitty graphics: a PNG, base64, in APC chunks; "iVBORw0KGgo" is the PNG signature */
  CHECK(out.len > 100 && strncmp(out.s, "\033_Gf=100,a=T,m=", 15) == 0 &&
            strncmp(out.s + 17, "iVBORw0KGgo", 11) == 0,
        "kitty: %.30s", out.s ? out.s : "");
  free(out.s);
  out = (spy_strbuf){0};
  t = (spy_plot_target){.kind = SPY_PLOT_TEXT, .cols = 70, .rows = 20};
  CHECK(spy_plot_render(f, &t, &out, &err) == SPY_OK, "%s", err.msg);
  CHECK(out.s && strstr(out.s, "diagonal") && strstr(out.s, "x axis") && out.s[0] != '\f',
        "text plot: %s", out.s ? out.s : "");
  int lines = 0;
  for (size_t i = 0; i < out.len; i++)
    lines += out.s[i] == '\n';
  CHECK(lines == 20, "20 lines, got %d", lines);
  free(out.s);
  spy_figure_free(f);
}

static void fake(const char *name, const char *script, char *out, size_t n)
{
  path(out, n, name);
  FILE *fp = fopen(out, "w");
  fputs(script, fp);
  fclose(fp);
  chmod(out, 0755);
}

static void test_errors(void)
{
  spy_figure *f = sample();
  spy_err err = {0};
  spy_plot_kind k;
  CHECK(spy_plot_kind_of_path("a/b.PDF", &k, &err) == SPY_OK && k == SPY_PLOT_PDF, "by extension");
  CHECK(spy_plot_kind_of_path("a.svg/b", &k, &err) != SPY_OK &&
            strcmp(err.msg,
                   "Invalid value of `filename`: 'a.svg/b'; expected a file name ending in "
                   ".png, .svg or .pdf") == 0,
        "%s", err.msg);

  char p[512], prog[512];
  path(p, sizeof p, "missing.png");
  setenv("SPY_GNUPLOT", "/nonexistent/gnuplot", 1);
  spy_plot_target t = {.kind = SPY_PLOT_PNG, .path = p};
  CHECK(spy_plot_render(f, &t, NULL, &err) == SPY_ENOENT &&
            strstr(err.msg, "install the Debian package gnuplot-nox"),
        "%s", err.msg);
  CHECK(access(p, F_OK) != 0, "no file");

  /* a gnuplot that fails: its message, and nothing left behind */
  fake("failing", "#!/bin/sh\ncat >/dev/null\necho 'line 0: something broke' >&2\nexit 1\n", prog,
       sizeof prog);
  setenv("SPY_GNUPLOT", prog, 1);
  CHECK(spy_plot_render(f, &t, NULL, &err) == SPY_ERUNTIME &&
            strcmp(err.msg, "gnuplot failed (status 1): something broke") == 0,
        "%s", err.msg);
  CHECK(access(p, F_OK) != 0, "no file");

  /* window terminals as gnuplot lists them */
  fake("noqt", "#!/bin/sh\necho 'canvas dumb pngcairo svg' >&2\n", prog, sizeof prog);
  setenv("SPY_GNUPLOT", prog, 1);
  CHECK(spy_plot_has_window(&err) == 0 && strstr(err.msg, "install the Debian package gnuplot-qt"),
        "%s", err.msg);
  t.kind = SPY_PLOT_WINDOW;
  CHECK(spy_plot_render(f, &t, NULL, &err) == SPY_ENOTSUP, "%s", err.msg);
  fake("qt", "#!/bin/sh\necho 'canvas dumb qt svg' >&2\n", prog, sizeof prog);
  setenv("SPY_GNUPLOT", prog, 1);
  CHECK(spy_plot_has_window(&err) == 1, "qt listed");

  /* a window: gnuplot exits while its window process lives on, holding
  ** gnuplot's stdout and stderr; show returns at once all the same */
  char saved[512], script[1200];
  path(saved, sizeof saved, "window-script.gp");
  snprintf(script, sizeof script,
           "#!/bin/sh\nif [ \"$2\" = -e ]; then echo 'dumb qt svg' >&2; exit 0; fi\n"
           "cat > '%s'\nsleep 4 &\nexit 0\n",
           saved);
  fake("window", script, prog, sizeof prog);
  setenv("SPY_GNUPLOT", prog, 1);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  CHECK(spy_plot_render(f, &t, NULL, &err) == SPY_OK, "%s", err.msg);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double dt = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
  CHECK(dt < 2, "show returned after %.2f s", dt);
  size_t n;
  char *gp = t_slurp(saved, &n);
  CHECK(gp && strncmp(gp, "set terminal qt size 640,420 font 'DejaVu Sans,8' noenhanced persist\n",
                      69) == 0,
        "%.80s", gp ? gp : "");
  free(gp);
  unsetenv("SPY_GNUPLOT");
  spy_figure_free(f);
}

int main(void)
{
  if (!mkdtemp(dir)) return 1;
  test_layout();
  test_describe();
  test_svg();
  test_no_init_file();
  test_terminals();
  test_errors();
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) return 1;
  return t_done();
}
