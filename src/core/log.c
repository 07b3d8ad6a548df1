#include "core/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/settings.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int level = SPY_LOG_IMPORTANT;
static char *logpath;
static void (*hook_before)(void);
static void (*hook_after)(void);
static void (*_Atomic sink)(int, const char *);

static const struct {
  const char *name;
  int level;
} levels[] = {{"DEBUG", SPY_LOG_DEBUG},
              {"INFO", SPY_LOG_INFO},
              {"IMPORTANT", SPY_LOG_IMPORTANT},
              {"WARNING", SPY_LOG_WARNING},
              {"ERROR", SPY_LOG_ERROR}};

int spy_log_parse_level(const char *name)
{
  for (size_t i = 0; name && i < sizeof levels / sizeof *levels; i++)
    if (strcasecmp(name, levels[i].name) == 0) return levels[i].level;
  return -1;
}

const char *spy_log_level_name(int lv)
{
  for (size_t i = 0; i < sizeof levels / sizeof *levels; i++)
    if (levels[i].level == lv) return levels[i].name;
  return "LOG";
}

int spy_log_get_level(void) { return level; }
void spy_log_set_level(int lv) { level = lv; }

void spy_log_set_file(const char *path)
{
  pthread_mutex_lock(&lock);
  free(logpath);
  logpath = path ? strdup(path) : NULL;
  pthread_mutex_unlock(&lock);
}

const char *spy_log_file(void) { return logpath; }

void spy_log_set_console_hooks(void (*before)(void), void (*after)(void))
{
  pthread_mutex_lock(&lock);
  hook_before = before;
  hook_after = after;
  pthread_mutex_unlock(&lock);
}

void spy_log_set_sink(void (*f)(int level, const char *msg)) { sink = f; }

/* keep: the file gets it whatever the level; nofile: the console only */
static void vlog(int lv, bool keep, bool nofile, const char *fmt, va_list ap)
{
  bool console = lv >= level;
  void (*to)(int, const char *) = lv >= SPY_LOG_INFO ? sink : NULL;
  if (!console && !(keep && logpath) && !to) return;
  char msg[4096];
  vsnprintf(msg, sizeof msg, fmt, ap);
  if (to) to(lv, msg);
  if (!console && !(keep && logpath)) return;

  time_t now = time(NULL);
  struct tm tm;
  localtime_r(&now, &tm);
  char hms[16], full[32];
  strftime(hms, sizeof hms, "%H:%M:%S", &tm);
  strftime(full, sizeof full, "%Y-%m-%d %H:%M:%S", &tm);

  pthread_mutex_lock(&lock);
  if (console) {
    if (hook_before) hook_before();
    fprintf(stderr, "%s - %s: %s\n", hms, spy_log_level_name(lv), msg);
    fflush(stderr);
    if (hook_after) hook_after();
  }
  if (logpath && !nofile) {
    FILE *f = fopen(logpath, "a");
    if (f) {
      char host[256] = "localhost";
      gethostname(host, sizeof host - 1);
      fprintf(f, "%s - %s - %s - %s: %s\n", full, spy_log_level_name(lv), host,
              spy_session_id(), msg);
      fclose(f);
    }
  }
  pthread_mutex_unlock(&lock);
}

void spy_log(int lv, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vlog(lv, false, false, fmt, ap);
  va_end(ap);
}

void spy_log_keep(int lv, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vlog(lv, true, false, fmt, ap);
  va_end(ap);
}

void spy_log_console(int lv, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vlog(lv, false, true, fmt, ap);
  va_end(ap);
}
