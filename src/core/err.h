/*
** Status codes and error messages of the engine.
**
** Engine functions return SPY_OK (0) or a negative status and, when given a
** spy_err, fill its message.  Messages follow Syncopy's wording where one
** exists:
**   Invalid value of `<name>`: '<actual>'; expected <legal>
**   Wrong type of `<name>`: expected <expected> found <found>
** The bindings raise them as Lua errors; nothing in the engine exits.
*/
#ifndef SPY_ERR_H
#define SPY_ERR_H

#include <stdarg.h>
#include <stddef.h>

enum {
  SPY_OK = 0,
  SPY_EINVAL = -1,    /* a parameter has an invalid value */
  SPY_ETYPE = -2,     /* a parameter has the wrong type */
  SPY_EIO = -3,       /* file system or HDF5 failure */
  SPY_ENOMEM = -4,    /* allocation failed */
  SPY_EINTR = -5,     /* interrupted (Ctrl-C) or cancelled */
  SPY_EFORMAT = -6,   /* malformed file or container */
  SPY_ECHECKSUM = -7, /* checksum mismatch */
  SPY_ENOTSUP = -8,   /* a valid request this version cannot serve */
  SPY_EEXIST = -9,    /* target exists */
  SPY_ENOENT = -10,   /* target missing */
  SPY_ERUNTIME = -11  /* anything else (worker lost, library failure) */
};

#define SPY_ERRMSG_MAX 2048

typedef struct spy_err {
  int code;
  char msg[SPY_ERRMSG_MAX];
} spy_err;

/* Sets code and message (printf format) and returns code.  err may be NULL. */
int spy_fail(spy_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int spy_vfail(spy_err *err, int code, const char *fmt, va_list ap);

/* "Invalid value of `name`: 'actual'; expected <legal>" (actual may be NULL
** or empty, then the quoted part is left out, as in Syncopy). */
int spy_fail_value(spy_err *err, const char *name, const char *actual,
                   const char *legal_fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* "Wrong type of `name`: expected <expected> found <found>" */
int spy_fail_type(spy_err *err, const char *name, const char *expected,
                  const char *found);

/* Prefixes the existing message: "<prefix>: <old message>". */
void spy_err_prefix(spy_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void spy_err_clear(spy_err *err);
const char *spy_strstatus(int code);

#endif
