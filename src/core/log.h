/*
** Logging, as Syncopy's: levels DEBUG < INFO < IMPORTANT < WARNING < ERROR,
** default IMPORTANT (SPYLOGLEVEL overrides).  Console lines go to stderr as
**   HH:MM:SS - LEVEL: message
** and every message at or above the level is appended to
** <SPYLOGDIR>/spy.log as
**   YYYY-mm-dd HH:MM:SS - LEVEL - <host> - <session>: message
** Thread-safe; callable from workers (kernels themselves never log).
*/
#ifndef SPY_LOG_H
#define SPY_LOG_H

enum {
  SPY_LOG_DEBUG = 10,
  SPY_LOG_INFO = 20,
  SPY_LOG_IMPORTANT = 25,
  SPY_LOG_WARNING = 30,
  SPY_LOG_ERROR = 40
};

void spy_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* As spy_log, but the log file gets the line whatever the level (progress
** of long waits, e.g. for Slurm workers, that one may need to reconstruct). */
void spy_log_keep(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* As spy_log, but never into the log file (secrets such as the dashboard's
** token, which a log file others may read must not hold). */
void spy_log_console(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Parses "DEBUG", "info", ... (case-insensitive); -1 if unknown. */
int spy_log_parse_level(const char *name);
const char *spy_log_level_name(int level);
int spy_log_get_level(void);
void spy_log_set_level(int level);

/* Log file location; NULL disables the file (default until settings init). */
void spy_log_set_file(const char *path);
const char *spy_log_file(void);

/* Called (under the log lock) before a console line is written, so a
** progress bar can clear its line, and after, so it can redraw. */
void spy_log_set_console_hooks(void (*before)(void), void (*after)(void));

/* Called with every message at INFO or above, whatever the level (the
** dashboard's recent log lines); outside the log lock, must not log. */
void spy_log_set_sink(void (*sink)(int level, const char *msg));

#endif
