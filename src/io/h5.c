#include "io/h5.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/lazy.h"

static pthread_mutex_t lock;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static hid_t local_dapl = H5I_INVALID_HID; /* external links refused */

/* Link traversal callback: spy never follows a link into another file. */
static herr_t deny_elink(const char *parent_file, const char *parent_group, const char *child_file,
                         const char *child_object, unsigned *acc_flags, hid_t fapl, void *data)
{
  (void)parent_file, (void)parent_group, (void)child_file, (void)child_object;
  (void)acc_flags, (void)fapl, (void)data;
  return -1;
}

static void initonce(void)
{
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
  pthread_mutex_init(&lock, &a);
  pthread_mutexattr_destroy(&a);
  H5open();
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  local_dapl = H5Pcreate(H5P_DATASET_ACCESS);
  if (local_dapl >= 0) H5Pset_elink_cb(local_dapl, deny_elink, NULL);
}

/* A thread-safe libhdf5 keeps its error-printing switch per thread: every
** thread that calls HDF5 turns it off before its first call. */
static void quiet_thread(void)
{
  static _Thread_local int quiet;
  if (!quiet) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    quiet = 1;
  }
}

void spy_h5_init(void)
{
  pthread_once(&once, initonce);
  quiet_thread();
}

void spy_h5_lock(void)
{
  pthread_once(&once, initonce);
  pthread_mutex_lock(&lock);
  quiet_thread();
}

hid_t spy_h5_local_dapl(void)
{
  pthread_once(&once, initonce);
  return local_dapl >= 0 ? local_dapl : H5P_DEFAULT;
}

int spy_h5_open_local(hid_t loc, const char *name, const char *file, hid_t *out, spy_err *err)
{
  *out = H5I_INVALID_HID;
  hid_t lapl = spy_h5_local_dapl();
  H5L_info_t li;
  if (H5Lexists(loc, name, lapl) <= 0 || H5Lget_info(loc, name, &li, lapl) < 0) {
    H5Eclear2(H5E_DEFAULT);
    return SPY_ENOENT;
  }
  if (li.type != H5L_TYPE_HARD)
    return spy_fail(err, SPY_EFORMAT,
                    "Data file %s: '%s' is a %s link; spy reads only datasets stored in the file "
                    "itself",
                    file, name, li.type == H5L_TYPE_SOFT ? "soft" : "external");
  hid_t ds = H5Dopen2(loc, name, lapl);
  if (ds < 0) {
    H5Eclear2(H5E_DEFAULT);
    return SPY_ENOENT;
  }
  int rc = spy_h5_check_local(ds, name, file, err);
  if (rc) {
    H5Dclose(ds);
    return rc;
  }
  *out = ds;
  return SPY_OK;
}

hid_t spy_h5_create_private(const char *path, bool excl)
{
  if (excl) {
    /* A new file is made by HDF5 itself (O_EXCL) and never truncated: on ext4 a
    ** truncate to zero arms auto_da_alloc, which writes the file's pages back to
    ** disk when it is closed, so every temporary result was flushed to disk when
    ** it was freed. The mode is narrowed before anything is written into it. */
    hid_t f = H5Fcreate(path, H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) return H5I_INVALID_HID;
    if (chmod(path, 0600) != 0) {
      H5Fclose(f);
      unlink(path);
      return H5I_INVALID_HID;
    }
    return f;
  }
  int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_TRUNC, 0600);
  if (fd < 0) return H5I_INVALID_HID;
  if (fchmod(fd, 0600) != 0) {
    close(fd);
    return H5I_INVALID_HID;
  }
  close(fd);
  /* truncating keeps the mode of the file made above */
  return H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
}

bool spy_h5_backed(hid_t ds, size_t bytes)
{
  hid_t dcpl = H5Dget_create_plist(ds);
  int nf = dcpl >= 0 ? H5Pget_nfilters(dcpl) : -1;
  spy_h5_close_plist(dcpl);
  if (nf < 0) {
    H5Eclear2(H5E_DEFAULT);
    return false;
  }
  if (nf > 0) return true; /* compressed: the stored size says nothing */
  return (size_t)H5Dget_storage_size(ds) >= bytes;
}

int spy_h5_check_local(hid_t ds, const char *name, const char *file, spy_err *err)
{
  hid_t dcpl = H5Dget_create_plist(ds);
  int next = dcpl >= 0 ? H5Pget_external_count(dcpl) : -1;
  H5D_layout_t lay = dcpl >= 0 ? H5Pget_layout(dcpl) : H5D_LAYOUT_ERROR;
  spy_h5_close_plist(dcpl);
  if (next != 0 || (lay != H5D_CONTIGUOUS && lay != H5D_CHUNKED && lay != H5D_COMPACT)) {
    H5Eclear2(H5E_DEFAULT);
    return spy_fail(err, SPY_EFORMAT,
                    "Data file %s: dataset '%s' keeps its data %s; spy reads only datasets "
                    "stored in the file itself",
                    file, name,
                    next > 0 ? "in external files" : lay == H5D_VIRTUAL ? "in other files (virtual dataset)"
                                                                         : "in an unknown layout");
  }
  return SPY_OK;
}

void spy_h5_unlock(void) { pthread_mutex_unlock(&lock); }

typedef struct {
  char msg[512];
  char nospace[512]; /* the file a write failed on for lack of space */
  bool full;
} walkdata;

/* The innermost message, and whether a system write failed with ENOSPC
** (the sec2 driver's message: "..., filename = '<path>', ..., errno = 28, ..."). */
static herr_t walker(unsigned n, const H5E_error2_t *e, void *data)
{
  walkdata *w = data;
  if (n == 0 && e->desc) snprintf(w->msg, sizeof w->msg, "%s", e->desc);
  char code[32];
  snprintf(code, sizeof code, "errno = %d,", ENOSPC);
  if (e->desc && !w->full && strstr(e->desc, code)) {
    w->full = true;
    const char *f = strstr(e->desc, "filename = '");
    const char *end = f ? strchr(f + 12, '\'') : NULL;
    if (f && end)
      snprintf(w->nospace, sizeof w->nospace, "%.*s", (int)(end - f - 12), f + 12);
  }
  return 0;
}

int spy_h5_fail(spy_err *err, int code, const char *fmt, ...)
{
  char ctx[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(ctx, sizeof ctx, fmt, ap);
  va_end(ap);
  int saved = errno;
  if (spy_lazy_need(&spy_lazy_hdf5, "reading and writing HDF5 files", err) != SPY_OK) {
    spy_err_prefix(err, "%s", ctx);
    return SPY_ERUNTIME;
  }
  walkdata w = {{0}, {0}, false};
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, walker, &w);
  H5Eclear2(H5E_DEFAULT);
  if (w.full || saved == ENOSPC) {
    /* the directory of the file the write failed on (the stack names it) */
    char *slash = strrchr(w.nospace, '/');
    if (slash) *(slash == w.nospace ? slash + 1 : slash) = '\0';
    return spy_fail(err, code, "no space left on device in %s (%s)",
                    slash ? w.nospace : w.nospace[0] ? "." : "the target folder", ctx);
  }
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
