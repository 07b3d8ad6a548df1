/* The gnuplot back end (gnuplot.h). */
#if !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif
#include "plot/gnuplot.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "plot/style.h"

#define PKG_HINT "install the Debian package gnuplot-nox (gnuplot-qt for windows)"

int spy_plot_kind_of_path(const char *path, spy_plot_kind *kind, spy_err *err)
{
  const char *dot = path ? strrchr(path, '.') : NULL;
  const char *slash = path ? strrchr(path, '/') : NULL;
  if (dot && (!slash || dot > slash)) {
    if (strcasecmp(dot, ".png") == 0) return *kind = SPY_PLOT_PNG, SPY_OK;
    if (strcasecmp(dot, ".svg") == 0) return *kind = SPY_PLOT_SVG, SPY_OK;
    if (strcasecmp(dot, ".pdf") == 0) return *kind = SPY_PLOT_PDF, SPY_OK;
  }
  return spy_fail_value(err, "filename", path ? path : "",
                        "a file name ending in .png, .svg or .pdf");
}

/* ---- finding and running gnuplot ------------------------------------------ */

static int findprog(char *out, size_t n, spy_err *err)
{
  const char *prog = getenv("SPY_GNUPLOT");
  if (!prog || !*prog) prog = "gnuplot";
  if (strchr(prog, '/')) {
    if (access(prog, X_OK) == 0) return snprintf(out, n, "%s", prog), SPY_OK;
    return spy_fail(err, SPY_ENOENT, "plotting needs gnuplot, but '%s' was not found: " PKG_HINT,
                    prog);
  }
  const char *path = getenv("PATH");
  if (!path) path = "/usr/bin:/bin";
  for (const char *p = path; *p;) {
    const char *e = strchr(p, ':');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len && (size_t)snprintf(out, n, "%.*s/%s", (int)len, p, prog) < n && access(out, X_OK) == 0)
      return SPY_OK;
    p += len + (e != NULL);
  }
  return spy_fail(err, SPY_ENOENT,
                  "plotting needs gnuplot, which was not found on PATH: " PKG_HINT);
}

static void closefd(int *fd)
{
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

/*
** Runs prog with args, writes in[0..nin) to its stdin, collects stdout into
** out (may be NULL: discarded) and stderr into errs.  Returns the exit
** status, 128 + the signal when a signal ended it, or -1 when it could not
** start.  `detach` (windows): stdout and stderr go to an anonymous file read
** once prog has exited, because the window process a persisting gnuplot
** leaves behind inherits them and must not find a closed pipe later.
*/
static int run(const char *prog, char *const argv[], const char *in, size_t nin, spy_strbuf *out,
               spy_strbuf *errs, bool detach)
{
  int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1};
  FILE *log = detach ? tmpfile() : NULL;
  if (pipe(pin) || (detach ? !log : (pipe(pout) || pipe(perr)))) {
    closefd(&pin[0]), closefd(&pin[1]), closefd(&pout[0]), closefd(&pout[1]);
    if (log) fclose(log);
    return -1;
  }
  sigset_t pipeset, old;
  sigemptyset(&pipeset);
  sigaddset(&pipeset, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipeset, &old);
  pid_t pid = fork();
  if (pid == 0) {
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    dup2(pin[0], 0);
    dup2(log ? fileno(log) : pout[1], 1);
    dup2(log ? fileno(log) : perr[1], 2);
    closefd(&pin[0]), closefd(&pin[1]), closefd(&pout[0]), closefd(&pout[1]);
    closefd(&perr[0]), closefd(&perr[1]);
    execv(prog, argv);
    _exit(127);
  }
  closefd(&pin[0]), closefd(&pout[1]), closefd(&perr[1]);
  int status = -1;
  if (pid < 0) {
    closefd(&pin[1]), closefd(&pout[0]), closefd(&perr[0]);
    goto done;
  }
  int fin = pin[1], fout = pout[0], ferr = perr[0];
  for (int *fd = &fin; fd; fd = fd == &fin ? &fout : fd == &fout ? &ferr : NULL)
    if (*fd >= 0) fcntl(*fd, F_SETFL, fcntl(*fd, F_GETFL) | O_NONBLOCK);
  size_t off = 0;
  if (nin == 0) closefd(&fin);
  bool exited = false;
  char buf[65536];
  while (fout >= 0 || ferr >= 0 || fin >= 0) {
    struct pollfd p[3] = {{fin, POLLOUT, 0}, {fout, POLLIN, 0}, {ferr, POLLIN, 0}};
    int r = poll(p, 3, exited ? 0 : 50);
    if (r < 0 && errno != EINTR) break;
    if (fin >= 0 && (p[0].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t w = write(fin, in + off, nin - off);
      if (w > 0) off += (size_t)w;
      if ((w < 0 && errno != EAGAIN && errno != EINTR) || off == nin) closefd(&fin);
    }
    int *fds[2] = {&fout, &ferr};
    spy_strbuf *dst[2] = {out, errs};
    for (int k = 0; k < 2; k++) {
      if (*fds[k] < 0 || !(p[1 + k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(*fds[k], buf, sizeof buf);
      if (n > 0) {
        if (dst[k]) spy_sb_put(dst[k], buf, (size_t)n);
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        closefd(fds[k]);
      }
    }
    if (exited && r == 0) break; /* exited and nothing more to read now */
    if (!exited && waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      closefd(&fin);
    }
  }
  closefd(&fin), closefd(&fout), closefd(&ferr);
  if (!exited) waitpid(pid, &status, 0);
  status = WIFEXITED(status)     ? WEXITSTATUS(status)
           : WIFSIGNALED(status) ? 128 + WTERMSIG(status)
                                 : -1;
  if (log) {
    rewind(log);
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, log)) > 0)
      if (errs) spy_sb_put(errs, buf, n);
  }
done:;
  if (log) fclose(log);
  /* a SIGPIPE raised by writing to a gnuplot that died stays pending: take it */
  struct timespec zero = {0, 0};
  while (sigtimedwait(&pipeset, NULL, &zero) > 0) {
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return status;
}

/* gnuplot's terminals (the GPVAL_TERMINALS list). */
static int terminals(const char *prog, spy_strbuf *out)
{
  char *argv[] = {(char *)prog, "-d", "-e", "print GPVAL_TERMINALS", NULL};
  spy_strbuf errs = {0};
  int st = run(prog, argv, NULL, 0, NULL, &errs, false); /* print writes to stderr */
  if (errs.s) spy_sb_put(out, errs.s, errs.len);
  free(errs.s);
  return st;
}

static bool hasword(const char *list, const char *w)
{
  size_t n = strlen(w);
  for (const char *p = list; p && (p = strstr(p, w)); p += n)
    if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || p[n] == '\0')) return true;
  return false;
}

static int window_term(const char *prog, const char **term, spy_err *err)
{
  spy_strbuf t = {0};
  terminals(prog, &t);
  *term = hasword(t.s, "qt")    ? "qt"
          : hasword(t.s, "wxt") ? "wxt"
          : hasword(t.s, "x11") ? "x11"
                                : NULL;
  free(t.s);
  if (!*term)
    return spy_fail(err, SPY_ENOTSUP,
                    "this gnuplot has no window terminal (qt, wxt or x11): install the Debian "
                    "package gnuplot-qt, or save the figure with fig:save(\"name.png\") or show it "
                    "in the terminal with spy.set_plot{backend=\"terminal\"}");
  return SPY_OK;
}

int spy_plot_has_window(spy_err *err)
{
  char prog[4096];
  const char *term;
  if (findprog(prog, sizeof prog, err) || window_term(prog, &term, err)) return 0;
  return 1;
}

/* ---- the script ------------------------------------------------------------- */

static void printf_sb(spy_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void printf_sb(spy_strbuf *b, const char *fmt, ...)
{
  char tmp[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n < sizeof tmp) {
    spy_sb_put(b, tmp, (size_t)n);
    return;
  }
  char *big = malloc((size_t)n + 1);
  if (!big) {
    b->oom = true;
    return;
  }
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  spy_sb_put(b, big, (size_t)n);
  free(big);
}

/* A gnuplot string literal: single quotes, '' for a quote, no line breaks. */
static void lit(spy_strbuf *b, const char *s)
{
  spy_sb_putc(b, '\'');
  for (; s && *s; s++) {
    if (*s == '\'') spy_sb_putc(b, '\'');
    spy_sb_putc(b, *s == '\n' || *s == '\r' ? ' ' : *s);
  }
  spy_sb_putc(b, '\'');
}

static void cmd_str(spy_strbuf *b, const char *cmd, const char *s, const char *tail)
{
  spy_sb_puts(b, cmd);
  spy_sb_putc(b, ' ');
  lit(b, s ? s : "");
  if (tail) spy_sb_puts(b, tail);
  spy_sb_putc(b, '\n');
}

static void terminal(spy_strbuf *b, const spy_plot_target *t, const char *winterm, double w,
                     double h, double dpi, double fontsize, const char *outpath)
{
  const spy_plot_style *s = &spy_plot_look;
  double px = dpi / 72.0; /* cairo and gd fonts are sized at 72 dpi */
  int pw = (int)lround(w * dpi), ph = (int)lround(h * dpi);
  switch (t->kind) {
  case SPY_PLOT_PNG:
  case SPY_PLOT_KITTY:
    printf_sb(b, "set terminal pngcairo size %d,%d font '%s,%g' noenhanced background '#ffffff'\n",
              pw, ph, s->font, fontsize * px);
    break;
  case SPY_PLOT_SVG:
    printf_sb(b, "set terminal svg size %d,%d font '%s,%g' noenhanced background '#ffffff'\n", pw,
              ph, s->font, fontsize * px);
    break;
  case SPY_PLOT_PDF:
    printf_sb(b, "set terminal pdfcairo size %gin,%gin font '%s,%g' noenhanced\n", w, h, s->font,
              fontsize);
    break;
  case SPY_PLOT_SIXEL:
    printf_sb(b, "set terminal sixelgd size %d,%d truecolor font '%s,%g' noenhanced\n", pw, ph,
              s->font, fontsize * px);
    break;
  case SPY_PLOT_WINDOW:
    printf_sb(b, "set terminal %s size %d,%d font '%s,%g' noenhanced persist\n", winterm, pw, ph,
              s->font, fontsize);
    break;
  case SPY_PLOT_TEXT:
    printf_sb(b, "set terminal dumb size %d,%d %s noenhanced\n", t->cols > 0 ? t->cols : 80,
              t->rows > 0 ? t->rows : 24, t->color ? "ansi256" : "mono");
    break;
  }
  if (outpath) cmd_str(b, "set output", outpath, NULL);
  spy_sb_puts(b, "set encoding utf8\n");
}

static void palette(spy_strbuf *b)
{
  const spy_plot_style *s = &spy_plot_look;
  spy_sb_puts(b, "set palette defined (");
  for (size_t i = 0; i < s->ncmap; i++)
    printf_sb(b, "%s%g '%s'", i ? ", " : "", s->cmap[i].at, s->cmap[i].rgb);
  spy_sb_puts(b, ")\n");
}

static void put_doubles(spy_strbuf *b, const double *v, size_t n)
{
  spy_sb_put(b, (const char *)v, n * sizeof *v);
}

/* How a panel sits in its figure. */
typedef struct placing {
  bool text;           /* the dumb terminal */
  double titlesize;    /* points, as the terminal counts them */
  int maxticks;        /* > 0: at most about this many ticks per axis */
  bool xlabel, ylabel; /* outer panels only carry axis labels (as Syncopy's) */
  int pixw, pixh;      /* raster output: the panel's size in pixels (0: vector); text: in cells */
  bool mono;           /* text without colours: images drawn with a shade ramp */
  bool key;            /* the panel that explains the shades (the first) */
  int linecols;        /* columns a line is resolved to (raster: pixels; vector: at 300 dpi) */
} placing;

/* A 1-2-5 step giving at most n intervals over [lo, hi] (0 when degenerate). */
static double nicestep(double lo, double hi, int n)
{
  double span = hi - lo;
  if (!(span > 0) || !isfinite(span) || n < 1) return 0;
  double raw = span / n, mag = pow(10, floor(log10(raw)));
  double r = raw / mag;
  return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * mag;
}

static void ticks(spy_strbuf *b, const spy_plot_panel *p, int n)
{
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (size_t i = 0; i < p->nlines; i++)
    for (size_t k = 0; k < p->lines[i].n; k++) {
      double x = p->lines[i].x[k], y = p->lines[i].y[k];
      if (isfinite(x)) x0 = fmin(x0, x), x1 = fmax(x1, x);
      if (isfinite(y)) y0 = fmin(y0, y), y1 = fmax(y1, y);
      if (p->lines[i].y2 && isfinite(p->lines[i].y2[k]))
        y0 = fmin(y0, p->lines[i].y2[k]), y1 = fmax(y1, p->lines[i].y2[k]);
    }
  if (p->xrange) x0 = p->xmin, x1 = p->xmax;
  if (p->image) {
    x0 = p->image->x0, x1 = p->image->x1, y0 = p->image->y0, y1 = p->image->y1;
  }
  if (p->yrange) y0 = p->ymin, y1 = p->ymax;
  double dx = nicestep(x0, x1, n), dy = nicestep(y0, y1, n);
  if (dx > 0) printf_sb(b, "set xtics %.17g\n", dx);
  if (dy > 0 && !p->nyticks) printf_sb(b, "set ytics %.17g\n", dy);
}

/* Whether an image's own row centres are geometric (log-spaced: drawn on a
** log axis). */
static bool logrows(const spy_plot_image *im)
{
  if (!im->yc || im->ny < 3 || im->yc[0] <= 0) return false;
  double r = im->yc[1] / im->yc[0];
  for (size_t i = 2; i < im->ny; i++)
    if (fabs(im->yc[i] / im->yc[i - 1] - r) > 1e-6 * r) return false;
  return true;
}

/* Row edges in axis space (log10 on a log axis): e[0..ny], midway between
** neighbouring centres, the outer ones half a step out. */
static void rowedges(const spy_plot_image *im, bool logy, double *e)
{
  size_t n = im->ny;
  for (size_t i = 0; i < n; i++) {
    double y =
        im->yc ? im->yc[i] : im->y0 + (n > 1 ? (im->y1 - im->y0) * (double)i / (double)(n - 1) : 0);
    e[i + 1] = logy ? log10(y) : y; /* centres for now */
  }
  if (n == 1) {
    e[0] = e[1] - 0.5, e[1] = e[1] + 0.5;
    return;
  }
  double first = e[1], last = e[n];
  for (size_t i = 1; i < n; i++)
    e[i] = (e[i] + e[i + 1]) / 2;
  e[0] = first - (e[1] - first);
  e[n] = last + (last - e[n - 1]);
}

/* Fractional source row at axis position y (edges e[0..ny]). */
static double rowat(const double *e, size_t ny, double y)
{
  if (y <= e[0]) return 0;
  if (y >= e[ny]) return (double)ny;
  size_t lo = 0, hi = ny;
  while (hi - lo > 1) {
    size_t mid = (lo + hi) / 2;
    if (e[mid] <= y)
      lo = mid;
    else
      hi = mid;
  }
  return (double)lo + (y - e[lo]) / (e[lo + 1] - e[lo]);
}

/* The mean of z over source cells [i0, i1) x [j0, j1), widened to one cell
** when empty (a target cell between two source cells). */
static double cellmean(const spy_plot_image *im, double i0, double i1, double j0, double j1)
{
  size_t a = (size_t)i0, b = (size_t)ceil(i1), c = (size_t)j0, d = (size_t)ceil(j1);
  if (b <= a) b = a + 1;
  if (d <= c) d = c + 1;
  if (b > im->nx) b = im->nx;
  if (d > im->ny) d = im->ny;
  double sum = 0;
  size_t n = 0;
  for (size_t j = c; j < d; j++)
    for (size_t i = a; i < b; i++)
      if (isfinite(im->z[j * im->nx + i])) sum += im->z[j * im->nx + i], n++;
  return n ? sum / (double)n : NAN;
}

/*
** An image in a text plot without colours: one character per cell of the
** plot area from a ramp of ten shades (light to dark), the image resampled
** to the cells (area means), and a line under the axis that reads the
** ramp.  The cells travel as binary (x, y, value) records; gnuplot picks
** the character.
*/
static void shaded(spy_strbuf *b, const spy_plot_image *im, const placing *at, double xlo,
                   double xhi, const double *e)
{
  static const char ramp[] = " .:-=+*#%@";
  int tm = 2, bm = 5, lm = 10, rm = 2;
  int w = at->pixw - lm - rm - 1, h = at->pixh - tm - bm - 1;
  if (w < 2) w = 2;
  if (h < 2) h = 2;
  printf_sb(b, "set lmargin %d\nset rmargin %d\nset tmargin %d\nset bmargin %d\n", lm, rm, tm, bm);
  printf_sb(b, "ramp = '%s'\nzlo = %.17g\nzhi = %.17g\n", ramp, im->zmin,
            im->zmax > im->zmin ? im->zmax : im->zmin + 1);
  spy_sb_puts(b,
              "zf(z) = (z - zlo) / (zhi - zlo)\n"
              "zk(z) = (z != z) ? 1 : int(1 + 9.999 * (zf(z) < 0 ? 0 : zf(z) > 1 ? 1 : zf(z)))\n");
  char key[256];
  snprintf(key, sizeof key, "%s%sshades '%s' from %g to %g", im->cblabel ? im->cblabel : "",
           im->cblabel ? ": " : "", ramp, im->zmin, im->zmax);
  if (at->key) {
    spy_sb_puts(b, "set label 2 ");
    lit(b, key);
    spy_sb_puts(b, " at graph 0, graph 0 offset -6,-4 left\n");
  }
  printf_sb(b,
            "plot '-' binary record=(%d) format='%%float64%%float64%%float64' "
            "using 1:2:(substr(ramp, zk($3), zk($3))) with labels notitle\n",
            w * h);
  /* Cell (i, j) is the character (i + 1, j + 1) counted from the axes'
  ** corner; it shows the image around that point, half a cell each way. */
  double sx = (double)im->nx / w, ylo = e[0], yhi = e[im->ny], dy = (yhi - ylo) / h;
  for (int j = 0; j < h; j++) {
    double y = ylo + (j + 1) * dy; /* axis space */
    double r0 = rowat(e, im->ny, y - dy / 2), r1 = rowat(e, im->ny, y + dy / 2);
    for (int i = 0; i < w; i++) {
      double rec[3] = {xlo + (i + 1) * (xhi - xlo) / w, y,
                       cellmean(im, (i + 0.5) * sx, fmin((i + 1.5) * sx, (double)im->nx), r0, r1)};
      put_doubles(b, rec, 3);
    }
  }
}

/* Sends an evenly spaced image: reduced by block means to at most the
** output's pixels for raster output (gnuplot would resample it anyway; this
** spares it reading millions of points). */
static void put_image(spy_strbuf *b, const spy_plot_image *im, const placing *at, double dx,
                      double dy)
{
  size_t fx = 1, fy = 1;
  if (at->pixw > 0 && im->nx > (size_t)at->pixw)
    fx = (im->nx + (size_t)at->pixw - 1) / (size_t)at->pixw;
  if (at->pixh > 0 && im->ny > (size_t)at->pixh)
    fy = (im->ny + (size_t)at->pixh - 1) / (size_t)at->pixh;
  size_t nx = (im->nx + fx - 1) / fx, ny = (im->ny + fy - 1) / fy;
  printf_sb(b,
            "plot '-' binary array=(%zu,%zu) format='%%float64' origin=(%.17g,%.17g) "
            "dx=%.17g dy=%.17g with image notitle\n",
            nx, ny, im->x0 + dx * (double)(fx - 1) / 2, im->y0 + dy * (double)(fy - 1) / 2,
            dx * (double)fx, dy * (double)fy);
  if (fx == 1 && fy == 1) {
    put_doubles(b, im->z, im->nx * im->ny);
    return;
  }
  for (size_t j = 0; j < ny; j++)
    for (size_t i = 0; i < nx; i++) {
      double sum = 0;
      size_t cnt = 0;
      for (size_t q = j * fy; q < (j + 1) * fy && q < im->ny; q++)
        for (size_t r = i * fx; r < (i + 1) * fx && r < im->nx; r++) {
          double v = im->z[q * im->nx + r];
          if (isfinite(v)) sum += v, cnt++;
        }
      double m = cnt ? sum / (double)cnt : NAN;
      put_doubles(b, &m, 1);
    }
}

/* Ticks of a log10 axis over [lo, hi] (exponents): the decades, with 2 and
** 5 between them when the axis spans two decades or less. */
static void logticks(spy_strbuf *b, double lo, double hi)
{
  spy_sb_puts(b, "set ytics (");
  const char *sep = "";
  for (int dec = (int)floor(lo); dec <= (int)ceil(hi); dec++)
    for (int m = 1; m <= 5; m += m == 1 ? 1 : 3) {
      double v = dec + log10(m);
      if (v < lo || v > hi || (m != 1 && hi - lo > 2)) continue;
      printf_sb(b, "%s'%g' %.17g", sep, m * pow(10, dec), v);
      sep = ", ";
    }
  spy_sb_puts(b, ")\n");
}

/* A line of many more points than the panel has columns (pixels; for SVG
** and PDF columns at 300 dpi) is sent as the lowest and the highest point
** of each of 2 x columns runs of points (in their order), which draws the
** same picture (every extreme survives) from a bounded number of points. */
static size_t line_buckets(const spy_plot_line *l, const placing *at)
{
  if (l->kind != SPY_PLOT_LINE) return 0;
  size_t cols = at->linecols > 0 ? 2 * (size_t)at->linecols : 0;
  return cols && l->n > 4 * cols ? cols : 0;
}

static size_t line_points(const spy_plot_line *l, const placing *at)
{
  size_t nb = line_buckets(l, at);
  return nb ? 2 * nb : l->n;
}

static void put_line(spy_strbuf *b, const spy_plot_line *l, const placing *at)
{
  size_t nb = line_buckets(l, at);
  if (!nb) {
    for (size_t k = 0; k < l->n; k++) {
      put_doubles(b, &l->x[k], 1);
      put_doubles(b, &l->y[k], 1);
      if (l->y2) put_doubles(b, &l->y2[k], 1);
    }
    return;
  }
  for (size_t j = 0; j < nb; j++) {
    size_t k0 = j * l->n / nb, k1 = (j + 1) * l->n / nb, lo = k0, hi = k0;
    for (size_t k = k0; k < k1; k++) {
      if (isnan(l->y[lo]) || l->y[k] < l->y[lo]) lo = k;
      if (isnan(l->y[hi]) || l->y[k] > l->y[hi]) hi = k;
    }
    size_t first = lo < hi ? lo : hi, second = lo < hi ? hi : lo;
    double pts[4] = {l->x[first], l->y[first], l->x[second], l->y[second]};
    put_doubles(b, pts, 4);
  }
}

static void panel(spy_strbuf *b, const spy_plot_panel *p, const placing *at)
{
  const spy_plot_style *s = &spy_plot_look;
  bool text = at->text;
  double titlesize = at->titlesize;
  spy_sb_puts(
      b, "reset\nunset key\nset tics out\nset border 3\nset xtics nomirror\nset ytics nomirror\n");
  const char *title = p->title ? p->title : "";
  const char *ylabel = at->ylabel && p->ylabel ? p->ylabel : "";
  cmd_str(b, "set xlabel", at->xlabel ? p->xlabel : "", NULL);
  if (text) {
    /* The dumb terminal cannot write rotated text, and a centred title
    ** collides with anything at the top of a narrow panel: title and y
    ** label share one line above the axis, "title: y label". */
    spy_strbuf top = {0};
    spy_sb_puts(&top, title);
    if (*title && *ylabel) spy_sb_puts(&top, ": ");
    spy_sb_puts(&top, ylabel);
    if (top.len) {
      spy_sb_puts(b, "set label 1 ");
      lit(b, top.s);
      spy_sb_puts(b, " at graph 0, graph 1 offset -4,1 left\nset tmargin 2\n");
    }
    free(top.s);
  } else {
    spy_sb_puts(b, "set title ");
    lit(b, title);
    printf_sb(b, " font ',%g'\n", titlesize);
    cmd_str(b, "set ylabel", ylabel, NULL);
  }
  if (at->maxticks > 0) ticks(b, p, at->maxticks);
  if (p->nyticks) {
    spy_sb_puts(b, "set ytics (");
    for (size_t i = 0; i < p->nyticks; i++) {
      if (i) spy_sb_puts(b, ", ");
      lit(b, p->yticklabel[i]);
      printf_sb(b, " %.17g", p->ytick[i]);
    }
    spy_sb_puts(b, ")\n");
  }
  if (p->image) {
    const spy_plot_image *im = p->image;
    double dx = im->nx > 1 ? (im->x1 - im->x0) / (double)(im->nx - 1) : 1;
    double dy = im->ny > 1 ? (im->y1 - im->y0) / (double)(im->ny - 1) : 1;
    palette(b);
    spy_sb_puts(b, "set format cb '%g'\n");
    if (!text) spy_sb_puts(b, "set border 15\nset colorbox\nset rmargin 12\n");
    printf_sb(b, "set cbrange [%.17g:%.17g]\n", im->zmin,
              im->zmax > im->zmin ? im->zmax : im->zmin + 1);
    cmd_str(b, "set cblabel", im->cblabel, text ? NULL : " offset 1.5,0");
    /* Rows with their own centres are drawn in axis space (log10 of the
    ** frequency when log-spaced, with ticks labelled in Hz), resampled to an
    ** even grid there; the y range is the rows' edges. */
    bool logy = logrows(im);
    double *e = malloc((im->ny + 1) * sizeof *e);
    if (!e) {
      b->oom = true;
      return;
    }
    rowedges(im, logy, e);
    if (logy) logticks(b, e[0], e[im->ny]);
    printf_sb(b, "set xrange [%.17g:%.17g]\nset yrange [%.17g:%.17g]\n", im->x0 - dx / 2,
              im->x1 + dx / 2, e[0], e[im->ny]);
    if (at->mono || (at->text && im->yc)) {
      shaded(b, im, at, im->x0 - dx / 2, im->x1 + dx / 2, e);
      free(e);
      return;
    }
    spy_plot_image even = *im;
    if (im->yc) {
      size_t rows = at->pixh > 0 ? (size_t)at->pixh : 8 * im->ny;
      if (rows > 2000) rows = 2000;
      even.z = malloc(im->nx * rows * sizeof *even.z);
      if (!even.z) {
        free(e);
        b->oom = true;
        return;
      }
      double step = (e[im->ny] - e[0]) / (double)rows;
      for (size_t r = 0; r < rows; r++) {
        size_t q = (size_t)rowat(e, im->ny, e[0] + ((double)r + 0.5) * step);
        if (q >= im->ny) q = im->ny - 1;
        memcpy(even.z + r * im->nx, im->z + q * im->nx, im->nx * sizeof *even.z);
      }
      even.ny = rows, even.yc = NULL;
      even.y0 = e[0] + step / 2, even.y1 = e[im->ny] - step / 2;
      dy = rows > 1 ? (even.y1 - even.y0) / (double)(rows - 1) : 1;
      im = &even;
    }
    free(e);
    put_image(b, im, at, dx, dy);
    if (im == &even) free(even.z);
    return;
  }
  /* gnuplot refuses to autoscale an axis without one defined point ("all
  ** points y value undefined!"): a panel of NaN/inf (a spectrum of data
  ** holding a NaN) gets a fixed range and shows no line */
  bool xdef = false, ydef = false;
  for (size_t i = 0; i < p->nlines && !(xdef && ydef); i++)
    for (size_t k = 0; k < p->lines[i].n; k++) {
      bool fx = isfinite(p->lines[i].x[k]), fy = isfinite(p->lines[i].y[k]);
      xdef |= fx, ydef |= fx && fy;
    }
  if (p->yrange) printf_sb(b, "set yrange [%.17g:%.17g]\n", p->ymin, p->ymax);
  else if (!ydef) spy_sb_puts(b, "set yrange [-1:1]\n");
  if (p->xrange)
    printf_sb(b, "set xrange [%.17g:%.17g]\n", p->xmin, p->xmax);
  else if (!xdef)
    spy_sb_puts(b, "set xrange [0:1]\n");
  else
    spy_sb_puts(b, "set autoscale xfix\n");
  bool legend = false;
  for (size_t i = 0; i < p->nlines; i++)
    legend |= p->lines[i].label != NULL;
  if (legend)
    spy_sb_puts(b, text ? "set key top right\n" : "set key top right noopaque samplen 2\n");
  if (p->nlines == 0) {
    spy_sb_puts(b, "set xrange [0:1]\nset yrange [0:1]\nplot NaN notitle\n");
    return;
  }
  spy_sb_puts(b, "plot ");
  size_t colour = 0; /* a band takes the colour of the line after it; marks are black */
  for (size_t i = 0; i < p->nlines; i++) {
    const spy_plot_line *l = &p->lines[i];
    if (l->kind == SPY_PLOT_BAND && text) {
      /* text: the band's edges as dots (a filled band would hide the line under characters) */
      for (int e = 2; e <= 3; e++)
        printf_sb(b,
                  "%s'-' binary record=(%zu) format='%%float64%%float64%%float64' using 1:%d with "
                  "points pt '.' lc rgb '%s' notitle",
                  i || e == 3 ? ", " : "", l->n, e, s->colors[colour % s->ncolors]);
      continue;
    } else if (l->kind == SPY_PLOT_BAND) {
      printf_sb(b,
                "%s'-' binary record=(%zu) format='%%float64%%float64%%float64' using 1:2:3 with "
                "filledcurves fs transparent solid 0.3 noborder lc rgb '%s' ",
                i ? ", " : "", l->n, s->colors[colour % s->ncolors]);
    } else if (l->kind == SPY_PLOT_MARKS && text) {
      /* text: one '|' per mark in its row (a vector 0.8 rows tall can miss a character row) */
      printf_sb(b,
                "%s'-' binary record=(%zu) format='%%float64%%float64' using 1:2 with points "
                "pt '|' lc rgb '#000000' notitle",
                i ? ", " : "", l->n);
      continue;
    } else if (l->kind == SPY_PLOT_MARKS) {
      printf_sb(b,
                "%s'-' binary record=(%zu) format='%%float64%%float64' using 1:($2-0.4):(0):(0.8) "
                "with vectors nohead lw %g lc rgb '#000000' ",
                i ? ", " : "", l->n, s->linewidth);
    } else {
      printf_sb(b,
                "%s'-' binary record=(%zu) format='%%float64%%float64' using 1:2 with %s lw %g "
                "lc rgb '%s' ",
                i ? ", " : "", line_points(l, at), l->n == 1 ? "points pt 7" : "lines",
                s->linewidth, s->colors[colour % s->ncolors]);
      colour++;
    }
    if (l->label) {
      spy_sb_puts(b, "title ");
      lit(b, l->label);
    } else {
      spy_sb_puts(b, "notitle");
    }
  }
  spy_sb_putc(b, '\n');
  for (size_t i = 0; i < p->nlines; i++) {
    put_line(b, &p->lines[i], at);
    if (text && p->lines[i].kind == SPY_PLOT_BAND) put_line(b, &p->lines[i], at);
  }
}

static char *script(const spy_figure *f, const spy_plot_target *t, const char *winterm,
                    const char *outpath, size_t *len)
{
  const spy_plot_style *s = &spy_plot_look;
  double w = t->width > 0 ? t->width : f->width > 0 ? f->width : s->single_w;
  double h = t->height > 0 ? t->height : f->height > 0 ? f->height : s->single_h;
  double dpi = t->dpi > 0 ? t->dpi : s->dpi;
  size_t nrows = f->nrows ? f->nrows : 1, ncols = f->ncols ? f->ncols : 1;
  bool multi = f->npanels > 1;
  spy_strbuf b = {0};
  terminal(&b, t, winterm, w, h, dpi, multi ? s->multi_fontsize : s->fontsize, outpath);
  printf_sb(&b, "set multiplot layout %zu,%zu\n", nrows, ncols);
  /* raster terminals size fonts at 72 dpi: scale them with the resolution */
  bool raster = t->kind == SPY_PLOT_PNG || t->kind == SPY_PLOT_SVG || t->kind == SPY_PLOT_SIXEL ||
                t->kind == SPY_PLOT_KITTY;
  placing at = {.text = t->kind == SPY_PLOT_TEXT,
                .titlesize =
                    (multi ? s->multi_titlesize : s->titlesize) * (raster ? dpi / 72.0 : 1),
                .maxticks = multi ? s->multi_ticks : s->single_ticks};
  if (raster || t->kind == SPY_PLOT_WINDOW) {
    at.pixw = (int)lround(w * dpi / (double)ncols), at.pixh = (int)lround(h * dpi / (double)nrows);
  } else if (at.text) {
    at.pixw = (t->cols > 0 ? t->cols : 80) / (int)ncols;
    at.pixh = (t->rows > 0 ? t->rows : 24) / (int)nrows;
    at.mono = !t->color;
  }
  at.linecols = at.pixw > 0 ? at.pixw : (int)lround(w * 300 / (double)ncols);
  for (size_t i = 0; i < f->npanels; i++) {
    /* the x label goes on the lowest panel of each column */
    at.xlabel = !multi || i + ncols >= f->npanels;
    at.ylabel = !multi || i % ncols == 0;
    at.key = i == 0;
    panel(&b, &f->panels[i], &at);
  }
  spy_sb_puts(&b, "unset multiplot\n");
  if (outpath || t->kind == SPY_PLOT_WINDOW) spy_sb_puts(&b, "unset output\n");
  *len = b.len;
  return spy_sb_take(&b);
}

/* ---- rendering -------------------------------------------------------------- */

static void kitty(spy_strbuf *out, const char *png, size_t n)
{
  static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  spy_strbuf enc = {0};
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned char)png[i] << 16;
    if (i + 1 < n) v |= (unsigned char)png[i + 1] << 8;
    if (i + 2 < n) v |= (unsigned char)png[i + 2];
    char q[4] = {tab[v >> 18 & 63], tab[v >> 12 & 63], i + 1 < n ? tab[v >> 6 & 63] : '=',
                 i + 2 < n ? tab[v & 63] : '='};
    spy_sb_put(&enc, q, 4);
  }
  for (size_t off = 0; off < enc.len || off == 0; off += 4096) {
    size_t chunk = enc.len - off < 4096 ? enc.len - off : 4096;
    bool more = off + chunk < enc.len;
    spy_sb_puts(out, off == 0 ? "\033_Gf=100,a=T," : "\033_G");
    spy_sb_puts(out, more ? "m=1;" : "m=0;");
    spy_sb_put(out, enc.s ? enc.s + off : "", chunk);
    spy_sb_puts(out, "\033\\");
    if (!more) break;
  }
  spy_sb_putc(out, '\n');
  free(enc.s);
}

/* gnuplot's error text without its echo of the script line and the caret
** under it: the remaining lines, joined. */
static void fail_gnuplot(spy_err *err, int status, const spy_strbuf *errs)
{
  char clean[1024];
  size_t k = 0;
  const char *p = errs->s ? errs->s : "";
  while (*p) {
    const char *e = strchr(p, '\n');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    const char *q = p;
    while (q < p + n && (*q == ' ' || *q == '\t' || *q == '^'))
      q++;
    bool echo = strncmp(q, "gnuplot>", 8) == 0 || q == p + n;
    if (!echo && strncmp(q, "line ", 5) == 0 && strchr(q, ':') && strchr(q, ':') < p + n) {
      q = strchr(q, ':') + 1;
      while (q < p + n && *q == ' ')
        q++;
      echo = q == p + n;
    }
    if (!echo) {
      int w = snprintf(clean + k, sizeof clean - k, "%s%.*s", k ? "; " : "", (int)(p + n - q), q);
      if (w > 0) k = k + (size_t)w < sizeof clean ? k + (size_t)w : sizeof clean - 1;
    }
    p += n + (e != NULL);
  }
  spy_fail(err, SPY_ERUNTIME, "gnuplot failed (status %d)%s%s", status, k ? ": " : "", clean);
}

int spy_plot_render(const spy_figure *f, const spy_plot_target *t, spy_strbuf *out, spy_err *err)
{
  char prog[4096];
  if (findprog(prog, sizeof prog, err)) return err ? err->code : SPY_ENOENT;
  const char *winterm = NULL;
  if (t->kind == SPY_PLOT_WINDOW && window_term(prog, &winterm, err)) return SPY_ENOTSUP;
  bool file = t->kind == SPY_PLOT_PNG || t->kind == SPY_PLOT_SVG || t->kind == SPY_PLOT_PDF;
  char tmp[4096] = "";
  if (file) {
    const char *slash = strrchr(t->path, '/');
    int dirlen = slash ? (int)(slash - t->path + 1) : 0;
    unsigned r = (unsigned)getpid() ^ (unsigned)time(NULL) ^ (unsigned)(size_t)f;
    if ((size_t)snprintf(tmp, sizeof tmp, "%.*s.%s.part%08x", dirlen, t->path, t->path + dirlen,
                         r) >= sizeof tmp)
      return spy_fail(err, SPY_EINVAL, "file name too long: %s", t->path);
    char dir[4096];
    snprintf(dir, sizeof dir, "%.*s", dirlen ? dirlen : 1, dirlen ? t->path : ".");
    if (access(dir, W_OK) != 0)
      return spy_fail(err, SPY_EIO, "cannot write %s: %s", t->path, strerror(errno));
  }
  size_t len = 0;
  char *src = script(f, t, winterm, file ? tmp : NULL, &len);
  if (!src) return spy_fail(err, SPY_ENOMEM, "out of memory");
  char *argv[] = {prog, "-d", NULL}; /* -d: no ~/.gnuplot, the look is spy's */
  spy_strbuf got = {0}, errs = {0};
  bool capture = t->kind == SPY_PLOT_SIXEL || t->kind == SPY_PLOT_KITTY || t->kind == SPY_PLOT_TEXT;
  int st = run(prog, argv, src, len, capture ? &got : NULL, &errs, t->kind == SPY_PLOT_WINDOW);
  free(src);
  int rc = SPY_OK;
  if (st != 0) {
    if (st == 127 || st < 0)
      rc = spy_fail(err, SPY_ENOENT,
                    "plotting needs gnuplot, which could not be run (%s): " PKG_HINT, prog);
    else if (st > 128)
      rc = spy_fail(err, SPY_EINTR, "interrupted: gnuplot ended by signal %d", st - 128);
    else
      rc = (fail_gnuplot(err, st, &errs), SPY_ERUNTIME);
  } else if (file && rename(tmp, t->path) != 0) {
    rc = spy_fail(err, SPY_EIO, "cannot write %s: %s", t->path, strerror(errno));
  } else if (capture && (got.oom || (out && out->oom))) {
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
  } else if (capture && out) {
    if (t->kind == SPY_PLOT_KITTY) {
      kitty(out, got.s ? got.s : "", got.len);
    } else {
      size_t skip = 0; /* the dumb terminal starts each page with a form feed */
      while (skip < got.len && got.s[skip] == '\f')
        skip++;
      spy_sb_put(out, got.s ? got.s + skip : "", got.len - skip);
    }
  }
  if (file && rc) unlink(tmp);
  free(got.s), free(errs.s);
  return rc;
}
