#include "io/h5.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t lock;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void initonce(void)
{
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
  pthread_mutex_init(&lock, &a);
  pthread_mutexattr_destroy(&a);
  H5open();
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

void spy_h5_init(void) { pthread_once(&once, initonce); }

void spy_h5_lock(void)
{
  pthread_once(&once, initonce);
  pthread_mutex_lock(&lock);
}

void spy_h5_unlock(void) { pthread_mutex_unlock(&lock); }

typedef struct {
  char msg[512];
} walkdata;

static herr_t walker(unsigned n, const H5E_error2_t *e, void *data)
{
  walkdata *w = data;
  if (n == 0 && e->desc) snprintf(w->msg, sizeof w->msg, "%s", e->desc);
  return 0;
}

int spy_h5_fail(spy_err *err, int code, const char *fmt, ...)
{
  char ctx[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(ctx, sizeof ctx, fmt, ap);
  va_end(ap);
  walkdata w = {{0}};
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, walker, &w);
  H5Eclear2(H5E_DEFAULT);
  if (w.msg[0]) return spy_fail(err, code, "%s (HDF5: %s)", ctx, w.msg);
  return spy_fail(err, code, "%s", ctx);
}

void spy_h5_close_file(hid_t id) { if (id >= 0) H5Fclose(id); }
void spy_h5_close_dset(hid_t id) { if (id >= 0) H5Dclose(id); }
void spy_h5_close_space(hid_t id) { if (id >= 0) H5Sclose(id); }
void spy_h5_close_type(hid_t id) { if (id >= 0) H5Tclose(id); }
void spy_h5_close_attr(hid_t id) { if (id >= 0) H5Aclose(id); }
void spy_h5_close_plist(hid_t id) { if (id >= 0) H5Pclose(id); }

static hid_t complex_type(hid_t base, size_t sz)
{
  hid_t t = H5Tcreate(H5T_COMPOUND, 2 * sz);
  H5Tinsert(t, "r", 0, base);
  H5Tinsert(t, "i", sz, base);
  return t;
}

hid_t spy_h5_type(spy_dtype t)
{
  switch (t) {
  case SPY_DT_F32: return H5Tcopy(H5T_IEEE_F32LE);
  case SPY_DT_F64: return H5Tcopy(H5T_IEEE_F64LE);
  case SPY_DT_C64: return complex_type(H5T_IEEE_F32LE, 4);
  case SPY_DT_C128: return complex_type(H5T_IEEE_F64LE, 8);
  case SPY_DT_I64: return H5Tcopy(H5T_STD_I64LE);
  default: return H5I_INVALID_HID;
  }
}

int spy_h5_dtype_of(hid_t ft, spy_dtype *t)
{
  H5T_class_t c = H5Tget_class(ft);
  size_t sz = H5Tget_size(ft);
  if (c == H5T_FLOAT) {
    if (sz == 4) { *t = SPY_DT_F32; return SPY_OK; }
    if (sz == 8) { *t = SPY_DT_F64; return SPY_OK; }
  } else if (c == H5T_INTEGER) {
    *t = SPY_DT_I64; /* every integer type is read as int64 */
    return SPY_OK;
  } else if (c == H5T_COMPOUND && H5Tget_nmembers(ft) == 2) {
    hid_t m = H5Tget_member_type(ft, 0);
    int ok = H5Tget_class(m) == H5T_FLOAT;
    size_t msz = H5Tget_size(m);
    H5Tclose(m);
    if (ok && msz == 4 && sz == 8) { *t = SPY_DT_C64; return SPY_OK; }
    if (ok && msz == 8 && sz == 16) { *t = SPY_DT_C128; return SPY_OK; }
  }
  return SPY_EFORMAT;
}
