#include "core/err.h"

#include <stdio.h>
#include <string.h>

int spy_vfail(spy_err *err, int code, const char *fmt, va_list ap)
{
  if (err) {
    err->code = code;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  }
  return code;
}

int spy_fail(spy_err *err, int code, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  spy_vfail(err, code, fmt, ap);
  va_end(ap);
  return code;
}

int spy_fail_value(spy_err *err, const char *name, const char *actual,
                   const char *legal_fmt, ...)
{
  char legal[SPY_ERRMSG_MAX / 2];
  va_list ap;
  va_start(ap, legal_fmt);
  vsnprintf(legal, sizeof legal, legal_fmt, ap);
  va_end(ap);
  if (actual && *actual)
    return spy_fail(err, SPY_EINVAL, "Invalid value of `%s`: '%s'; expected %s",
                    name, actual, legal);
  return spy_fail(err, SPY_EINVAL, "Invalid value of `%s`: expected %s", name,
                  legal);
}

int spy_fail_type(spy_err *err, const char *name, const char *expected,
                  const char *found)
{
  return spy_fail(err, SPY_ETYPE, "Wrong type of `%s`: expected %s found %s",
                  name, expected, found);
}

void spy_err_prefix(spy_err *err, const char *fmt, ...)
{
  char pre[512], old[SPY_ERRMSG_MAX];
  va_list ap;
  if (!err) return;
  va_start(ap, fmt);
  vsnprintf(pre, sizeof pre, fmt, ap);
  va_end(ap);
  memcpy(old, err->msg, sizeof old);
  snprintf(err->msg, sizeof err->msg, "%s: %s", pre, old);
}

void spy_err_clear(spy_err *err)
{
  if (err) {
    err->code = SPY_OK;
    err->msg[0] = '\0';
  }
}

const char *spy_strstatus(int code)
{
  switch (code) {
  case SPY_OK: return "ok";
  case SPY_EINVAL: return "invalid value";
  case SPY_ETYPE: return "wrong type";
  case SPY_EIO: return "I/O error";
  case SPY_ENOMEM: return "out of memory";
  case SPY_EINTR: return "interrupted";
  case SPY_EFORMAT: return "malformed file";
  case SPY_ECHECKSUM: return "checksum mismatch";
  case SPY_ENOTSUP: return "not supported";
  case SPY_EEXIST: return "already exists";
  case SPY_ENOENT: return "does not exist";
  default: return "runtime error";
  }
}
