#include "core/progress.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

#define WIDTH 40
#define SHOW_AFTER 1.0 /* seconds */

static bool enabled = true;
static struct {
  bool active, shown, tty;
  size_t total, done;
  double t0, last;
  int lastdecile;
} bar;

double spy_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void spy_progress_enable(bool on) { enabled = on; }
bool spy_progress_enabled(void) { return enabled; }

static void fmt_time(char *buf, size_t n, double s)
{
  if (s < 600) snprintf(buf, n, "%6.2f s", s);
  else if (s < 7200) snprintf(buf, n, "%dm %ds", (int)(s / 60), (int)s % 60);
  else if (s < 172800) snprintf(buf, n, "%dhr %dm", (int)(s / 3600), ((int)s % 3600) / 60);
  else snprintf(buf, n, "%dd %dhr", (int)(s / 86400), ((int)s % 86400) / 3600);
}

void spy_progress_format(char *buf, size_t n, double frac, double elapsed)
{
  char hashes[WIDTH + 1], t[32];
  if (frac < 0) frac = 0;
  if (frac > 1) frac = 1;
  int nh = (int)(WIDTH * frac);
  memset(hashes, '#', (size_t)nh);
  hashes[nh] = '\0';
  fmt_time(t, sizeof t, elapsed);
  snprintf(buf, n, "[%-*s] | %3d%% Completed | %s", WIDTH, hashes, (int)(100 * frac), t);
}

static void draw(bool final)
{
  char line[160];
  double now = spy_now();
  spy_progress_format(line, sizeof line, bar.total ? (double)bar.done / (double)bar.total : 1.0,
                      now - bar.t0);
  if (bar.tty) fprintf(stderr, "\r%s%s", line, final ? "\n" : "");
  else fprintf(stderr, "%s\n", line);
  fflush(stderr);
  bar.last = now;
}

/* log hooks: clear the line before a log message, redraw after */
static void before_log(void)
{
  if (bar.active && bar.shown && bar.tty) fprintf(stderr, "\r\033[2K");
}

static void after_log(void)
{
  if (bar.active && bar.shown && bar.tty) draw(false);
}

void spy_progress_begin(size_t total)
{
  memset(&bar, 0, sizeof bar);
  bar.active = enabled;
  bar.total = total;
  bar.t0 = spy_now();
  bar.tty = isatty(STDERR_FILENO);
  if (bar.active) spy_log_set_console_hooks(before_log, after_log);
}

void spy_progress_update(size_t done)
{
  if (!bar.active) return;
  bar.done = done;
  double now = spy_now();
  if (now - bar.t0 < SHOW_AFTER) return;
  int decile = bar.total ? (int)(10 * done / bar.total) : 10;
  if (bar.tty) {
    if (!bar.shown || now - bar.last >= 0.1) {
      bar.shown = true;
      draw(false);
    }
  } else if (!bar.shown || decile > bar.lastdecile) {
    bar.shown = true;
    bar.lastdecile = decile;
    if (decile < 10) draw(false);
  }
}

void spy_progress_end(bool completed)
{
  if (!bar.active) return;
  if (completed) bar.done = bar.total;
  if (bar.shown || spy_now() - bar.t0 >= SHOW_AFTER) {
    bar.shown = true;
    draw(true);
  }
  bar.active = false;
  spy_log_set_console_hooks(NULL, NULL);
}
