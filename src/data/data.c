#include "data/data.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <limits.h>
#include <math.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "core/log.h"
#include "core/settings.h"
#include "core/sizeset.h"
#include "io/h5.h"
#include "io/metadata.h"

void spy_strv_free(char **v, size_t n)
{
  if (!v) return;
  for (size_t i = 0; i < n; i++) free(v[i]);
  free(v);
}

char **spy_strv_dup(const char *const *v, size_t n)
{
  char **r = calloc(n ? n : 1, sizeof *r);
  if (!r) return NULL;
  for (size_t i = 0; i < n; i++)
    if (!(r[i] = strdup(v[i] ? v[i] : ""))) {
      spy_strv_free(r, i);
      return NULL;
    }
  return r;
}

/* The live objects (spy_data_file_in_use), under live_lock. */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static spy_data **live;
static size_t nlive, caplive;

static bool live_add(spy_data *d)
{
  pthread_mutex_lock(&live_lock);
  bool ok = nlive < caplive;
  if (!ok) {
    size_t cap = caplive ? 2 * caplive : 64;
    spy_data **nl = realloc(live, cap * sizeof *nl);
    if (nl) live = nl, caplive = cap, ok = true;
  }
  if (ok) live[nlive++] = d;
  pthread_mutex_unlock(&live_lock);
  return ok;
}

static void live_remove(spy_data *d)
{
  pthread_mutex_lock(&live_lock);
  for (size_t i = nlive; i-- > 0;)
    if (live[i] == d) {
      live[i] = live[--nlive];
      break;
    }
  pthread_mutex_unlock(&live_lock);
}

bool spy_data_file_in_use(const char *path)
{
  struct stat t, s;
  if (!path || stat(path, &t) != 0) return false;
  bool used = false;
  pthread_mutex_lock(&live_lock);
  for (size_t i = 0; i < nlive && !used; i++)
    used = live[i]->path && stat(live[i]->path, &s) == 0 && s.st_dev == t.st_dev &&
           s.st_ino == t.st_ino;
  pthread_mutex_unlock(&live_lock);
  return used;
}

spy_data *spy_data_new(spy_dataclass cls)
{
  spy_data *d = calloc(1, sizeof *d);
  if (!d) return NULL;
  if (!live_add(d)) {
    free(d);
    return NULL;
  }
  atomic_init(&d->refs, 1);
  d->cls = cls;
  d->dtype = SPY_DT_F32;
  d->ndim = spy_dataclass_ndim(cls);
  d->file = d->dset = H5I_INVALID_HID;
  d->raw_dset = H5I_INVALID_HID;
  d->raw_fd = -1;
  d->raw_off = -1;
  d->cfg = cJSON_CreateObject();
  d->info = cJSON_CreateObject();
  d->log = strdup("");
  d->version = strdup("spy " SPY_VERSION);
  if (!d->cfg || !d->info || !d->log || !d->version) {
    spy_data_unref(d);
    return NULL;
  }
  return d;
}

spy_data *spy_data_ref(spy_data *d)
{
  if (d) atomic_fetch_add(&d->refs, 1);
  return d;
}

/* Descriptors held for raw reads, at most RAW_MAX_FDS (objects beyond read
** through HDF5: HDF5 holds a descriptor per open file too, and the
** process's limit may be 1024); guarded by the io lock. */
#define RAW_MAX_FDS 64
static int raw_nfd;

/* Forgets the raw-read state (caller holds the io lock). */
static void raw_reset(spy_data *d)
{
  if (d->raw_fd >= 0) {
    close(d->raw_fd);
    raw_nfd--;
  }
  d->raw_fd = -1;
  d->raw_off = -1;
  d->raw_stale = false;
  d->raw_h5io = false;
  d->raw_dset = H5I_INVALID_HID;
}

void spy_data_close(spy_data *d)
{
  spy_h5_lock();
  raw_reset(d);
  spy_h5_close_dset(d->dset);
  spy_h5_close_file(d->file);
  d->dset = d->file = H5I_INVALID_HID;
  spy_h5_unlock();
}

void spy_data_unref(spy_data *d)
{
  if (!d || atomic_fetch_sub(&d->refs, 1) != 1) return;
  live_remove(d);
  spy_data_close(d);
  if (d->temporary && d->path) unlink(d->path);
  free(d->trldef);
  spy_strv_free(d->channel, d->nchannel);
  spy_strv_free(d->channel_j, d->nchannel_j);
  free(d->freq);
  spy_strv_free(d->taper, d->ntaper);
  spy_strv_free(d->unit, d->nunit);
  if (d->dimord) {
    size_t n = 0;
    while (d->dimord[n]) n++;
    spy_strv_free(d->dimord, n);
  }
  cJSON_Delete(d->cfg);
  cJSON_Delete(d->info);
  cJSON_Delete(d->metadata);
  free(d->log);
  free(d->version);
  free(d->path);
  free(d->container);
  free(d->tag);
  free(d);
}

size_t spy_data_row_elems(const spy_data *d)
{
  size_t n = 1;
  for (int i = 1; i < d->ndim; i++) n *= d->shape[i];
  return n;
}

size_t spy_data_trial_rows(const spy_data *d, size_t k)
{
  return (size_t)(d->trldef[k * d->trlcols + 1] - d->trldef[k * d->trlcols]);
}

static long long raw_offset(spy_data *d);

/* Whether fd's file system allocates without writing (unwritten extents:
** ext4, XFS); tmpfs would allocate and zero the pages at once. */
static bool unwritten_extents(int fd)
{
  struct statfs fs;
  return fstatfs(fd, &fs) == 0 && (fs.f_type == 0xEF53 /* ext2/3/4 */ || fs.f_type == 0x58465342 /* XFS */);
}

int spy_data_create(spy_data *d, spy_dtype t, int ndim, const size_t *shape, spy_err *err)
{
  char path[4200];
  hid_t f = H5I_INVALID_HID, sp = H5I_INVALID_HID, ty = H5I_INVALID_HID;
  hid_t dcpl = H5I_INVALID_HID, ds = H5I_INVALID_HID;
  int rc = SPY_OK;
  if (ndim < 1 || ndim > 4) return spy_fail(err, SPY_EINVAL, "invalid data rank %d", ndim);
  if (spy_tmp_path(path, sizeof path, spy_dataclass_ext(d->cls)) != SPY_OK)
    return spy_fail(err, SPY_EIO, "cannot make a temporary file name in '%s'", spy_tmpdir());
  hsize_t dims[4];
  for (int i = 0; i < ndim; i++) dims[i] = shape[i];

  spy_h5_lock();
  f = spy_h5_create_private(path, true);
  if (f < 0) {
    rc = spy_h5_fail(err, SPY_EIO, "cannot create '%s'", path);
    goto exit;
  }
  sp = H5Screate_simple(ndim, dims, NULL);
  ty = spy_h5_type(t);
  dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_layout(dcpl, H5D_CONTIGUOUS);
  H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER);
  /* storage placed now (not filled): the first write can go raw */
  H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY);
  ds = H5Dcreate2(f, "data", ty, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  if (ds < 0) {
    rc = spy_h5_fail(err, SPY_EIO, "cannot create dataset `data` in '%s'", path);
    goto exit;
  }
  raw_reset(d);
  spy_h5_close_dset(d->dset);
  spy_h5_close_file(d->file);
  d->file = f;
  d->dset = ds;
  f = ds = H5I_INVALID_HID;
  free(d->path);
  d->path = strdup(path);
  d->temporary = true;
  d->writable = true;
  d->dtype = t;
  d->ndim = ndim;
  for (int i = 0; i < ndim; i++) d->shape[i] = shape[i];
  /* The data's blocks allocated now (unwritten extents): writing into them
  ** costs ext4 ~35% less CPU than into a hole (no delayed-allocation
  ** reservation per 4 KB block; docs/internals/scheduler.md).  Best effort:
  ** without it the writes allocate as before. */
  if (raw_offset(d) >= 0 && unwritten_extents(d->raw_fd)) {
    size_t bytes = spy_dtype_size(t);
    for (int i = 0; i < ndim; i++) bytes *= shape[i];
    if (bytes > 0) (void)fallocate(d->raw_fd, 0, (off_t)d->raw_off, (off_t)bytes);
  }
exit:
  spy_h5_close_dset(ds);
  spy_h5_close_plist(dcpl);
  spy_h5_close_type(ty);
  spy_h5_close_space(sp);
  if (f >= 0) {
    H5Fclose(f);
    unlink(path);
  }
  spy_h5_unlock();
  return rc;
}

/* Opens file and dataset if closed; caller holds the io lock. */
static int ensure_open(spy_data *d, spy_err *err)
{
  if (d->dset >= 0) return SPY_OK;
  if (!d->path) return spy_fail(err, SPY_EINVAL, "object has no backing file");
  if (d->file < 0) d->file = H5Fopen(d->path, d->writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, H5P_DEFAULT);
  if (d->file < 0) return spy_h5_fail(err, SPY_EIO, "cannot open '%s'", d->path);
  int rc = spy_h5_open_local(d->file, "data", d->path, &d->dset, err);
  if (rc == SPY_ENOENT)
    return spy_fail(err, SPY_EFORMAT, "Data file %s does not contain a dataset named 'data'.", d->path);
  if (rc) return rc;
  return SPY_OK;
}

int spy_data_open(spy_data *d, const char *path, bool writable, spy_err *err)
{
  int rc;
  hid_t sp = H5I_INVALID_HID, ty = H5I_INVALID_HID;
  spy_h5_lock();
  raw_reset(d);
  spy_h5_close_dset(d->dset);
  spy_h5_close_file(d->file);
  d->dset = d->file = H5I_INVALID_HID;
  char *copy = strdup(path);
  free(d->path);
  d->path = copy;
  d->writable = writable;
  d->temporary = false;
  if ((rc = ensure_open(d, err)) != SPY_OK) goto exit;
  sp = H5Dget_space(d->dset);
  int nd = H5Sget_simple_extent_ndims(sp);
  if (nd < 1 || nd > 4) {
    rc = spy_fail(err, SPY_EFORMAT, "dataset `data` in '%s' has unsupported rank %d", path, nd);
    goto exit;
  }
  hsize_t dims[4];
  H5Sget_simple_extent_dims(sp, dims, NULL);
  ty = H5Dget_type(d->dset);
  if (spy_h5_dtype_of(ty, &d->dtype) != SPY_OK) {
    rc = spy_fail(err, SPY_EFORMAT, "dataset `data` in '%s' has an unsupported type", path);
    goto exit;
  }
  d->ndim = nd;
  for (int i = 0; i < nd; i++) d->shape[i] = dims[i];
  cJSON_Delete(d->metadata);
  rc = spy_metadata_read(d->file, &d->metadata, err);
exit:
  spy_h5_close_type(ty);
  spy_h5_close_space(sp);
  if (rc != SPY_OK) {
    spy_h5_close_dset(d->dset);
    spy_h5_close_file(d->file);
    d->dset = d->file = H5I_INVALID_HID;
  }
  spy_h5_unlock();
  return rc;
}

/*
** Raw reads and writes.  Rows over every channel of a contiguous, unfiltered
** float32 or float64 dataset (every dataset spy writes, and Syncopy's) are
** one byte range of the file: they are read with pread(2) and, in the
** dataset's own type, written with pwrite(2), outside the io lock, so one
** worker's read or write does not wait for another's, and without HDF5's
** per-call overhead.  The range is established once per open dataset under
** the lock (its offset, a descriptor, read-write for writable objects, and
** a flush of HDF5's buffers when the file is writable), marked stale by a
** write through HDF5 (flushed again before the next raw read; after
** RAW_MAX_UNDONE such flushes the object reads and writes through HDF5),
** and forgotten when the handles close.  HDF5 never holds the raw bytes
** itself except in a contiguous dataset's sieve buffer, which reads and
** writes smaller than it go through: before a raw write the dataset is
** reopened if it read or wrote data through HDF5 since it was opened
** (raw_h5io), which writes a dirty sieve buffer out and drops it.
*/

#define RAW_MAX_UNDONE 16

/* The dataset's byte offset for raw reads, or -1 (caller holds the io lock,
** dataset open). */
static long long raw_offset(spy_data *d)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (d->raw_dset == d->dset && d->raw_stale && d->raw_off >= 0) {
    /* written through HDF5 since: its buffers to the file first (the
    ** descriptor stays: a read on another thread may be using it) */
    d->raw_stale = false;
    d->raw_undone++;
    /* reads and writes alternating on one object: a flush each time would
    ** cost more than raw reads save */
    if (d->raw_undone > RAW_MAX_UNDONE || H5Fflush(d->file, H5F_SCOPE_LOCAL) < 0) {
      H5Eclear2(H5E_DEFAULT);
      d->raw_off = -1;
    }
  }
  if (d->raw_dset == d->dset) return d->raw_off;
  raw_reset(d);
  d->raw_dset = d->dset;
  if (d->dtype != SPY_DT_F32 && d->dtype != SPY_DT_F64) return -1;
  hid_t dcpl = H5Dget_create_plist(d->dset), ft = H5Dget_type(d->dset);
  hid_t want = spy_h5_type(d->dtype);
  bool ok = dcpl >= 0 && ft >= 0 && want >= 0 && H5Pget_layout(dcpl) == H5D_CONTIGUOUS &&
            H5Pget_nfilters(dcpl) == 0 && H5Pget_external_count(dcpl) == 0 && H5Tequal(ft, want) > 0;
  spy_h5_close_type(want);
  spy_h5_close_type(ft);
  spy_h5_close_plist(dcpl);
  haddr_t off = ok ? H5Dget_offset(d->dset) : HADDR_UNDEF;
  /* written through HDF5 in this process: its buffers to the file first */
  if (off == HADDR_UNDEF || off > (haddr_t)LLONG_MAX ||
      (d->writable && H5Fflush(d->file, H5F_SCOPE_LOCAL) < 0)) {
    H5Eclear2(H5E_DEFAULT);
    return -1;
  }
  int fd = raw_nfd < RAW_MAX_FDS ? open(d->path, (d->writable ? O_RDWR : O_RDONLY) | O_CLOEXEC) : -1;
  if (fd < 0) return -1;
  /* offsets are from the superblock: use them only when it starts the file
  ** (no user block) */
  static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
  unsigned char head[8];
  if (pread(fd, head, sizeof head, 0) != (ssize_t)sizeof head || memcmp(head, sig, sizeof sig) != 0) {
    close(fd);
    return -1;
  }
  d->raw_fd = fd;
  raw_nfd++;
  d->raw_off = (long long)off;
  return d->raw_off;
#else
  (void)d;
  return -1;
#endif
}

static int pread_all(int fd, void *buf, size_t n, off_t at)
{
  char *p = buf;
  while (n) {
    ssize_t k = pread(fd, p, n < ((size_t)1 << 30) ? n : (size_t)1 << 30, at);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return -1;
    p += k;
    n -= (size_t)k;
    at += k;
  }
  return 0;
}

static int pwrite_all(int fd, const void *buf, size_t n, off_t at)
{
  const char *p = buf;
  while (n) {
    ssize_t k = pwrite(fd, p, n < ((size_t)1 << 30) ? n : (size_t)1 << 30, at);
    if (k < 0 && errno == EINTR) continue;
    if (k == 0) errno = EIO;
    if (k <= 0) return -1;
    p += k;
    n -= (size_t)k;
    at += k;
  }
  return 0;
}

/* Reopens the dataset (caller holds the io lock): HDF5 writes a dirty sieve
** buffer out and drops it, so it holds none of the bytes a raw write
** changes.  Same dataset, same offset: the raw state stays. */
static int reopen_dset(spy_data *d, spy_err *err)
{
  bool same = d->raw_dset == d->dset;
  spy_h5_close_dset(d->dset);
  d->dset = H5I_INVALID_HID;
  int rc = ensure_open(d, err);
  if (rc == SPY_OK) {
    if (same) d->raw_dset = d->dset;
    d->raw_h5io = false;
  }
  return rc;
}

/* float32 values stored from byte nelem * 4 of buf on, widened to the
** nelem doubles of buf in place.  In chunks copied out first (memcpy keeps
** the aliasing well defined): doubles [i, i+m) overwrite float slots below
** 2(i+m) <= nelem + i + m, i.e. only floats of this or earlier chunks. */
static void widen_upper(void *buf, size_t nelem)
{
  char *base = buf;
  for (size_t i = 0; i < nelem; i += 256) {
    float chunk[256];
    size_t m = nelem - i < 256 ? nelem - i : 256;
    memcpy(chunk, base + (nelem + i) * sizeof(float), m * sizeof(float));
    for (size_t j = 0; j < m; j++) {
      double v = chunk[j];
      memcpy(base + (i + j) * sizeof(double), &v, sizeof v);
    }
  }
}

/* Reads rows [row0, row0+nrows) over every channel raw when the dataset
** allows it; *done tells whether it did. */
static int raw_read(spy_data *d, size_t row0, size_t nrows, void *buf, spy_dtype t, bool *done,
                    spy_err *err)
{
  *done = false;
  spy_h5_lock();
  int rc = ensure_open(d, err);
  long long off = rc == SPY_OK ? raw_offset(d) : -1;
  int fd = d->raw_fd;
  spy_h5_unlock();
  if (rc != SPY_OK || off < 0) return rc;
  size_t fes = spy_dtype_size(d->dtype), nelem = nrows * spy_data_row_elems(d);
  bool widen = t != d->dtype; /* float32 -> float64 */
  void *target = widen ? (float *)buf + nelem : buf;
  unsigned long long at = (unsigned long long)off + (unsigned long long)row0 * spy_data_row_elems(d) * fes;
  if (at > (unsigned long long)LLONG_MAX ||
      pread_all(fd, target, nelem * fes, (off_t)at) != 0)
    return spy_fail(err, SPY_EIO, "cannot read rows %zu..%zu of '%s'", row0, row0 + nrows, d->path);
  if (widen) widen_upper(buf, nelem);
  *done = true;
  return SPY_OK;
}

/* Writes rows [row0, row0+nrows) over every channel (buf in the dataset's
** own type) raw when the dataset allows it; *done tells whether it did. */
static int raw_write(spy_data *d, size_t row0, size_t nrows, const void *buf, bool *done,
                     spy_err *err)
{
  *done = false;
  spy_h5_lock();
  int rc = ensure_open(d, err);
  long long off = rc == SPY_OK ? raw_offset(d) : -1;
  if (off >= 0 && d->raw_h5io && (rc = reopen_dset(d, err)) != SPY_OK) off = -1;
  int fd = d->raw_fd;
  spy_h5_unlock();
  if (rc != SPY_OK || off < 0) return rc;
  size_t fes = spy_dtype_size(d->dtype), nelem = nrows * spy_data_row_elems(d);
  unsigned long long at = (unsigned long long)off + (unsigned long long)row0 * spy_data_row_elems(d) * fes;
  errno = EOVERFLOW;
  if (at > (unsigned long long)LLONG_MAX || pwrite_all(fd, buf, nelem * fes, (off_t)at) != 0) {
    int e = errno;
    if (e == ENOSPC) { /* spy_h5_fail's wording: the folder, then the context */
      const char *slash = strrchr(d->path, '/');
      int len = !slash ? 1 : slash == d->path ? 1 : (int)(slash - d->path);
      return spy_fail(err, SPY_EIO, "no space left on device in %.*s (cannot write rows %zu..%zu of '%s')",
                      len, slash ? d->path : ".", row0, row0 + nrows, d->path);
    }
    return spy_fail(err, SPY_EIO, "cannot write rows %zu..%zu of '%s' (%s)", row0, row0 + nrows,
                    d->path, strerror(e));
  }
  *done = true;
  return SPY_OK;
}

int spy_data_read(spy_data *d, size_t row0, size_t nrows, const size_t *chans, size_t nch,
                  void *buf, spy_dtype t, spy_err *err)
{
  int rc = SPY_OK, nd = d->ndim;
  hid_t fs = H5I_INVALID_HID, ms = H5I_INVALID_HID, mt = H5I_INVALID_HID;
  size_t *uniq = NULL, nuniq = 0, nelem = 0, es = spy_dtype_size(t);
  void *tmp = NULL;
  bool widen = false;
  size_t inner = 1, lastdim = d->shape[nd - 1];
  for (int i = 1; i < nd - 1; i++) inner *= d->shape[i];
  if (row0 + nrows > d->shape[0])
    return spy_fail(err, SPY_EINVAL, "rows %zu..%zu outside the data (%zu rows)", row0,
                    row0 + nrows, d->shape[0]);
  if (nrows == 0 || nch == 0) return SPY_OK;

  /* contiguous ascending channel run? */
  bool contiguous = true;
  for (size_t i = 1; chans && i < nch && contiguous; i++) contiguous = chans[i] == chans[0] + i;
  size_t c0 = chans ? chans[0] : 0;
  if (!contiguous) {
    uniq = malloc(nch * sizeof *uniq);
    if (!uniq) return spy_fail(err, SPY_ENOMEM, "out of memory");
    memcpy(uniq, chans, nch * sizeof *uniq);
    nuniq = spy_sizeset_make(uniq, nch);
    if (uniq[nuniq - 1] >= lastdim) {
      size_t bad = uniq[nuniq - 1];
      free(uniq);
      return spy_fail(err, SPY_EINVAL, "channel index %zu outside the data", bad);
    }
  } else if (c0 + nch > lastdim) {
    return spy_fail(err, SPY_EINVAL, "channels %zu..%zu outside the data (%zu)", c0, c0 + nch,
                    lastdim);
  }
  if (contiguous && c0 == 0 && nch == lastdim &&
      (t == d->dtype || (t == SPY_DT_F64 && d->dtype == SPY_DT_F32))) {
    bool done;
    if ((rc = raw_read(d, row0, nrows, buf, t, &done, err)) != SPY_OK || done) return rc;
  }

  spy_h5_lock();
  if ((rc = ensure_open(d, err)) != SPY_OK) goto exit;
  fs = H5Dget_space(d->dset);
  hsize_t start[4] = {0}, count[4];
  start[0] = row0;
  count[0] = nrows;
  for (int i = 1; i < nd - 1; i++) count[i] = d->shape[i];
  if (contiguous) {
    start[nd - 1] = c0;
    count[nd - 1] = nch;
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
  } else {
    H5Sselect_none(fs);
    for (size_t i = 0; i < nuniq;) {
      size_t j = i + 1;
      while (j < nuniq && uniq[j] == uniq[j - 1] + 1) j++;
      start[nd - 1] = uniq[i];
      count[nd - 1] = j - i;
      H5Sselect_hyperslab(fs, H5S_SELECT_OR, start, NULL, count, NULL);
      i = j;
    }
  }
  size_t nsel = contiguous ? nch : nuniq;
  hsize_t mdims[3] = {nrows, inner, nsel};
  ms = H5Screate_simple(3, mdims, NULL);
  mt = spy_h5_type(t);
  void *target = buf;
  if (!contiguous) {
    tmp = malloc(nrows * inner * nuniq * es);
    if (!tmp) {
      rc = spy_fail(err, SPY_ENOMEM, "out of memory reading %zu rows", nrows);
      goto exit;
    }
    target = tmp;
  }
  /* float32 data read as float64: HDF5's conversion (and the buffer it
  ** callocs per call) costs more than the read; read the floats into the
  ** upper half of the caller's buffer and widen them in place instead. */
  widen = contiguous && t == SPY_DT_F64 && d->dtype == SPY_DT_F32;
  nelem = nrows * inner * nsel;
  if (widen) {
    spy_h5_close_type(mt);
    mt = spy_h5_type(SPY_DT_F32);
    target = (float *)buf + nelem;
  }
  d->raw_h5io = true;
  if (H5Dread(d->dset, mt, ms, fs, H5P_DEFAULT, target) < 0) {
    rc = spy_h5_fail(err, SPY_EIO, "cannot read rows %zu..%zu of '%s'", row0, row0 + nrows, d->path);
    goto exit;
  }
exit:
  spy_h5_close_type(mt);
  spy_h5_close_space(ms);
  spy_h5_close_space(fs);
  spy_h5_unlock();
  /* widening and scattering need no HDF5: done after the lock is released,
  ** so another worker's read or write is not held up by them */
  if (rc == SPY_OK) {
    if (widen) widen_upper(buf, nelem);
    if (!contiguous) {
      size_t blocks = nrows * inner;
      for (size_t c = 0; c < nch; c++) {
        size_t u = spy_sizeset_find(uniq, nuniq, chans[c]);
        for (size_t b = 0; b < blocks; b++)
          memcpy((char *)buf + (b * nch + c) * es, (char *)tmp + (b * nuniq + u) * es, es);
      }
    }
  }
  free(tmp);
  free(uniq);
  return rc;
}

int spy_data_write(spy_data *d, size_t row0, size_t nrows, size_t chan0, size_t nch,
                   const void *buf, spy_dtype t, spy_err *err)
{
  int rc = SPY_OK, nd = d->ndim;
  hid_t fs = H5I_INVALID_HID, ms = H5I_INVALID_HID, mt = H5I_INVALID_HID;
  if (nrows == 0 || nch == 0) return SPY_OK;
  if (row0 + nrows > d->shape[0] || chan0 + nch > d->shape[nd - 1])
    return spy_fail(err, SPY_EINVAL, "write outside the data");
  if (!d->writable) return spy_fail(err, SPY_EIO, "object is read-only");
  if (chan0 == 0 && nch == d->shape[nd - 1] && t == d->dtype) {
    bool done;
    if ((rc = raw_write(d, row0, nrows, buf, &done, err)) != SPY_OK || done) return rc;
  }
  spy_h5_lock();
  /* HDF5 may hold the new bytes in its buffers: flush before a raw read;
  ** not readable raw so far (e.g. no storage before the first write): look
  ** again, unless given up on alternating writes and reads */
  if (d->raw_off >= 0) d->raw_stale = true;
  else if (d->raw_undone <= RAW_MAX_UNDONE) d->raw_dset = H5I_INVALID_HID;
  if ((rc = ensure_open(d, err)) != SPY_OK) goto exit;
  fs = H5Dget_space(d->dset);
  hsize_t start[4] = {0}, count[4];
  size_t inner = 1;
  start[0] = row0;
  count[0] = nrows;
  for (int i = 1; i < nd - 1; i++) {
    count[i] = d->shape[i];
    inner *= d->shape[i];
  }
  start[nd - 1] = chan0;
  count[nd - 1] = nch;
  H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
  hsize_t mdims[3] = {nrows, inner, nch};
  ms = H5Screate_simple(3, mdims, NULL);
  mt = spy_h5_type(t);
  d->raw_h5io = true;
  if (H5Dwrite(d->dset, mt, ms, fs, H5P_DEFAULT, buf) < 0)
    rc = spy_h5_fail(err, SPY_EIO, "cannot write rows %zu..%zu of '%s'", row0, row0 + nrows, d->path);
exit:
  spy_h5_close_type(mt);
  spy_h5_close_space(ms);
  spy_h5_close_space(fs);
  spy_h5_unlock();
  return rc;
}

/* ---- metadata -------------------------------------------------------- */

static hid_t vlen_str_type(void)
{
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  return t;
}

static int put_attr(hid_t obj, const char *name, hid_t type, hid_t space, const void *buf)
{
  if (H5Aexists(obj, name) > 0) H5Adelete(obj, name);
  hid_t a = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  if (a < 0) return -1;
  herr_t e = H5Awrite(a, type, buf);
  H5Aclose(a);
  return e < 0 ? -1 : 0;
}

static int attr_str(hid_t obj, const char *name, const char *s)
{
  hid_t t = vlen_str_type(), sp = H5Screate(H5S_SCALAR);
  int rc = put_attr(obj, name, t, sp, &s);
  H5Sclose(sp);
  H5Tclose(t);
  return rc;
}

static int attr_strv(hid_t obj, const char *name, const char *const *v, size_t n,
                     const char *listing)
{
  hsize_t dim = n;
  hid_t t = vlen_str_type(), sp = H5Screate_simple(1, &dim, NULL);
  int rc = put_attr(obj, name, t, sp, v);
  H5Sclose(sp);
  H5Tclose(t);
  if (rc < 0 && n > 3) { /* too large for an attribute: Syncopy truncates */
    H5Eclear2(H5E_DEFAULT);
    const char *trunc[3] = {v[0], "...", v[n - 1]};
    if (listing) /* temporary files: the struct holds the full labels */
      spy_log(SPY_LOG_WARNING,
            "Too many entries in `%s` - truncating HDF5 attribute. Please refer to %s.info "
            "for complete listing.",
            name, listing);
    return attr_strv(obj, name, trunc, 3, listing);
  }
  return rc;
}

static int attr_doubles(hid_t obj, const char *name, const double *v, size_t n, bool scalar,
                        const char *listing)
{
  hsize_t dim = n;
  hid_t sp = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dim, NULL);
  int rc = put_attr(obj, name, H5T_NATIVE_DOUBLE, sp, v);
  H5Sclose(sp);
  if (rc < 0 && !scalar && n > 3) {
    H5Eclear2(H5E_DEFAULT);
    double trunc[3] = {v[0], NAN, v[n - 1]};
    if (listing)
      spy_log(SPY_LOG_WARNING,
            "Too many entries in `%s` - truncating HDF5 attribute. Please refer to %s.info "
            "for complete listing.",
            name, listing);
    return attr_doubles(obj, name, trunc, 3, false, listing);
  }
  return rc;
}

/*
** h5py's automatic chunk shape (guess_chunk of h5py 3.7, which Syncopy's
** files were written with): start from the shape (0 counts as 1024), then
** halve the axes in turn until the chunk is below a target size that grows
** with the dataset, or within 50% of it, and below 1 MiB.
*/
static void guess_chunk(int nd, const hsize_t *shape, size_t typesize, hsize_t *chunk)
{
  double c[8], n = 1;
  for (int i = 0; i < nd; i++) {
    c[i] = shape[i] ? (double)shape[i] : 1024.0;
    n *= c[i];
  }
  double target = 16.0 * 1024 * pow(2.0, log10(n * (double)typesize / (1024.0 * 1024.0)));
  if (target > 1024.0 * 1024) target = 1024.0 * 1024;
  else if (target < 8.0 * 1024) target = 8.0 * 1024;
  for (int idx = 0;; idx++) {
    double elems = 1;
    for (int i = 0; i < nd; i++) elems *= c[i];
    double bytes = elems * (double)typesize;
    if ((bytes < target || fabs(bytes - target) / target < 0.5) && bytes < 1024.0 * 1024) break;
    if (elems == 1) break;
    c[idx % nd] = ceil(c[idx % nd] / 2.0);
  }
  for (int i = 0; i < nd; i++) chunk[i] = (hsize_t)c[i];
}

int spy_data_write_meta(const spy_data *d, hid_t f, const char *listing, spy_err *err)
{
  int rc = SPY_OK;
  hid_t sp = H5I_INVALID_HID, dcpl = H5I_INVALID_HID, ds = H5I_INVALID_HID;
  spy_h5_lock();
  if (H5Lexists(f, "trialdefinition", H5P_DEFAULT) > 0) H5Ldelete(f, "trialdefinition", H5P_DEFAULT);
  /* h5py's create_dataset(data=trl, maxshape=(None, cols)): chunked with its
  ** guessed chunk shape, fill time "alloc", no object timestamps. */
  hsize_t dims[2] = {d->ntrials, d->trlcols ? d->trlcols : 3};
  hsize_t maxdims[2] = {H5S_UNLIMITED, dims[1]};
  hsize_t chunk[2];
  guess_chunk(2, dims, sizeof(double), chunk);
  sp = H5Screate_simple(2, dims, maxdims);
  dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_chunk(dcpl, 2, chunk);
  H5Pset_fill_time(dcpl, H5D_FILL_TIME_ALLOC);
  H5Pset_obj_track_times(dcpl, 0);
  ds = H5Dcreate2(f, "trialdefinition", H5T_IEEE_F64LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  if (ds < 0 || (d->ntrials && H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                                        d->trldef) < 0)) {
    rc = spy_h5_fail(err, SPY_EIO, "cannot write the trial definition of '%s'",
                     listing ? listing : "a temporary file");
    goto exit;
  }
  const char *const *dimord = spy_data_dimord(d);
  size_t ndim = 0;
  while (dimord[ndim]) ndim++;
  /* Attribute order is Syncopy's _hdfFileAttributeProperties; None is "None". */
  int bad = attr_strv(f, "dimord", dimord, ndim, listing) | attr_str(f, "_version", d->version) |
            attr_str(f, "_log", d->log);
  if (isnan(d->samplerate)) bad |= attr_str(f, "samplerate", "None");
  else bad |= attr_doubles(f, "samplerate", &d->samplerate, 1, true, listing);
  if (d->cls == SPY_SPIKE) {
    bad |= attr_strv(f, "channel", (const char *const *)d->channel, d->nchannel, listing);
    bad |= attr_strv(f, "unit", (const char *const *)d->unit, d->nunit, listing);
  } else if (d->cls == SPY_EVENT) {
    /* EventData: samplerate only */
  } else if (d->cls == SPY_CROSSSPECTRAL) {
    bad |= attr_strv(f, "channel_i", (const char *const *)d->channel, d->nchannel, listing);
    bad |= attr_strv(f, "channel_j", (const char *const *)d->channel_j, d->nchannel_j, listing);
  } else {
    bad |= attr_strv(f, "channel", (const char *const *)d->channel, d->nchannel, listing);
  }
  if (!spy_dataclass_timechannel(d->cls) && !spy_dataclass_discrete(d->cls))
    bad |= attr_doubles(f, "freq", d->freq, d->nfreq, false, listing);
  if (bad)
    rc = spy_h5_fail(err, SPY_EIO, "cannot write the attributes of '%s'",
                     listing ? listing : "a temporary file");
  if (rc == SPY_OK && d->metadata) rc = spy_metadata_write(f, d->metadata, err);
exit:
  spy_h5_close_dset(ds);
  spy_h5_close_plist(dcpl);
  spy_h5_close_space(sp);
  spy_h5_unlock();
  return rc;
}

int spy_data_sync_meta(spy_data *d, spy_err *err)
{
  int rc = SPY_OK;
  if (!d->writable) return spy_fail(err, SPY_EIO, "object is read-only");
  spy_h5_lock();
  if ((rc = ensure_open(d, err)) == SPY_OK && (rc = spy_data_write_meta(d, d->file, d->temporary ? NULL : d->path, err)) == SPY_OK)
    H5Fflush(d->file, H5F_SCOPE_LOCAL);
  spy_h5_unlock();
  return rc;
}

int spy_data_flush(spy_data *d, spy_err *err)
{
  int rc = SPY_OK;
  spy_h5_lock();
  if (d->file >= 0 && d->writable && H5Fflush(d->file, H5F_SCOPE_GLOBAL) < 0)
    rc = spy_h5_fail(err, SPY_EIO, "cannot flush '%s'", d->path);
  spy_h5_unlock();
  return rc;
}

/* ---- setters ----------------------------------------------------------- */

/* Replaces the label list *dst (*ndst entries) by a copy of labels. */
static int set_labels(char ***dst, size_t *ndst, const char *const *labels, size_t n)
{
  char **v = spy_strv_dup(labels, n);
  if (!v) return SPY_ENOMEM;
  spy_strv_free(*dst, *ndst);
  *dst = v;
  *ndst = n;
  return SPY_OK;
}

int spy_data_set_channel(spy_data *d, const char *const *labels, size_t n)
{
  return set_labels(&d->channel, &d->nchannel, labels, n);
}

int spy_data_set_channel_j(spy_data *d, const char *const *labels, size_t n)
{
  return set_labels(&d->channel_j, &d->nchannel_j, labels, n);
}

int spy_data_set_taper(spy_data *d, const char *const *labels, size_t n)
{
  return set_labels(&d->taper, &d->ntaper, labels, n);
}

int spy_data_set_unit(spy_data *d, const char *const *labels, size_t n)
{
  return set_labels(&d->unit, &d->nunit, labels, n);
}

int spy_data_set_dimord(spy_data *d, const char *const *dimord)
{
  size_t n = 0;
  while (dimord[n]) n++;
  char **v = calloc(n + 1, sizeof *v);
  if (!v) return SPY_ENOMEM;
  for (size_t i = 0; i < n; i++)
    if (!(v[i] = strdup(dimord[i]))) {
      spy_strv_free(v, i);
      return SPY_ENOMEM;
    }
  if (d->dimord) {
    size_t m = 0;
    while (d->dimord[m]) m++;
    spy_strv_free(d->dimord, m);
  }
  d->dimord = v;
  return SPY_OK;
}

const char *const *spy_data_dimord(const spy_data *d)
{
  return d->dimord ? (const char *const *)d->dimord : spy_dataclass_dimord(d->cls);
}

int spy_data_set_freq(spy_data *d, const double *f, size_t n)
{
  double *v = malloc((n ? n : 1) * sizeof *v);
  if (!v) return SPY_ENOMEM;
  if (n) memcpy(v, f, n * sizeof *v);
  free(d->freq);
  d->freq = v;
  d->nfreq = n;
  return SPY_OK;
}

int spy_data_set_trldef(spy_data *d, const double *trl, size_t ntrials, size_t cols)
{
  size_t n = ntrials * cols;
  double *v = malloc((n ? n : 1) * sizeof *v);
  if (!v) return SPY_ENOMEM;
  if (ntrials) memcpy(v, trl, ntrials * cols * sizeof *v);
  free(d->trldef);
  d->trldef = v;
  d->ntrials = ntrials;
  d->trlcols = cols;
  return SPY_OK;
}

int spy_data_default_channels(spy_data *d, size_t n)
{
  char **v = calloc(n ? n : 1, sizeof *v);
  if (!v) return SPY_ENOMEM;
  int width = snprintf(NULL, 0, "%zu", n);
  for (size_t i = 0; i < n; i++) {
    char buf[64];
    snprintf(buf, sizeof buf, "channel%0*zu", width, i + 1);
    if (!(v[i] = strdup(buf))) {
      spy_strv_free(v, i);
      return SPY_ENOMEM;
    }
  }
  spy_strv_free(d->channel, d->nchannel);
  d->channel = v;
  d->nchannel = n;
  return SPY_OK;
}

int spy_data_log(spy_data *d, const char *caller, const char *msg)
{
  char host[256] = "localhost", user[256] = "user", when[64];
  gethostname(host, sizeof host - 1);
  struct passwd *pw = getpwuid(getuid());
  if (pw && pw->pw_name) snprintf(user, sizeof user, "%s", pw->pw_name);
  time_t now = time(NULL);
  struct tm tm;
  localtime_r(&now, &tm);
  strftime(when, sizeof when, "%a %b %e %H:%M:%S %Y", &tm);
  size_t need = strlen(d->log) + strlen(msg) + strlen(caller) + strlen(host) + strlen(user) + 128;
  char *s = malloc(need);
  if (!s) return SPY_ENOMEM;
  snprintf(s, need, "%s\n\n|=== %s@%s: %s ===|\n\n\t%s: %s", d->log, user, host, when, caller, msg);
  free(d->log);
  d->log = s;
  return SPY_OK;
}
