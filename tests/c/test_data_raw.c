/* Raw reads and writes (spy_data_read/spy_data_write outside HDF5,
** docs/internals/scheduler.md): rows over every channel read with pread give
** the bytes HDF5 gives, see writes made through HDF5 just before, and files
** with a user block still read right; rows written with pwrite are what
** HDF5 and a later reader of the file see, whatever HDF5 held in its sieve
** buffer, and a new result's data blocks are allocated when it is created. */
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "data/data.h"
#include "t.h"

static spy_data *make(spy_dtype t, int nd, const size_t *shape, double (*val)(size_t))
{
  spy_err err = {0};
  spy_data *d = spy_data_new(nd == 3 ? SPY_SPECTRAL : SPY_ANALOG);
  if (!d || spy_data_create(d, t, nd, shape, &err)) return NULL;
  size_t n = 1;
  for (int i = 0; i < nd; i++) n *= shape[i];
  double *v = malloc(n * sizeof *v);
  for (size_t i = 0; i < n; i++) v[i] = val(i);
  int rc = spy_data_write(d, 0, shape[0], 0, shape[nd - 1], v, SPY_DT_F64, &err);
  CHECK(rc == SPY_OK, "write: %s", err.msg);
  free(v);
  return d;
}

static double ramp(size_t i) { return (double)((i * 7919) % 1013) / 64.0 - 5.0 + 1e-3 * (double)i; }
static double other(size_t i) { return -ramp(i) * 3.0 + 0.5; }

/* rows [r0, r0+n) over all channels as t, raw; the same through HDF5 (the
** channels in reverse order, which the raw path does not take) */
static void same_as_hdf5(spy_data *d, size_t r0, size_t n, spy_dtype t, const char *what)
{
  spy_err err = {0};
  size_t nch = d->shape[d->ndim - 1], inner = spy_data_row_elems(d) / nch;
  size_t es = spy_dtype_size(t), nel = n * inner * nch;
  size_t *all = malloc(nch * sizeof *all), *rev = malloc(nch * sizeof *rev);
  for (size_t c = 0; c < nch; c++) all[c] = c, rev[c] = nch - 1 - c;
  char *a = calloc(nel, es), *b = calloc(nel, es);
  int rc = spy_data_read(d, r0, n, all, nch, a, t, &err);
  CHECK(rc == SPY_OK, "%s raw read: %s", what, err.msg);
  rc = spy_data_read(d, r0, n, rev, nch, b, t, &err);
  CHECK(rc == SPY_OK, "%s hdf5 read: %s", what, err.msg);
  size_t bad = 0;
  for (size_t i = 0; i < n * inner; i++)
    for (size_t c = 0; c < nch; c++)
      bad += memcmp(a + (i * nch + c) * es, b + (i * nch + nch - 1 - c) * es, es) != 0;
  CHECK(bad == 0, "%s: %zu of %zu values differ", what, bad, nel);
  free(a);
  free(b);
  free(all);
  free(rev);
}

static float wval(size_t i, int round) { return (float)ramp(i + 37 * (size_t)round) * (float)(round + 1); }

/* Raw writes of a float32 result (200 rows x 5 channels). */
static void raw_writes(void)
{
  spy_err err = {0};
  enum { R = 200, C = 5 };
  size_t shape[2] = {R, C};
  spy_data *w = spy_data_new(SPY_ANALOG);
  int rc = w ? spy_data_create(w, SPY_DT_F32, 2, shape, &err) : SPY_ENOMEM;
  CHECK(rc == SPY_OK, "create: %s", err.msg);
  if (rc) {
    spy_data_unref(w);
    return;
  }
  /* created with its data blocks allocated where the file system has
  ** unwritten extents (ext4, XFS: tmpfs would zero the pages) */
  struct stat st;
  struct statfs fs;
  CHECK(stat(w->path, &st) == 0 && statfs(w->path, &fs) == 0, "stat %s", w->path);
  if (fs.f_type == 0xEF53 || fs.f_type == 0x58465342)
    CHECK((size_t)st.st_blocks * 512 >= R * C * sizeof(float),
          "data blocks not allocated at creation: %lld bytes on disk for %zu of data",
          (long long)st.st_blocks * 512, R * C * sizeof(float));

  float v[R * C], u[R * C];
  for (size_t i = 0; i < R * C; i++) v[i] = wval(i, 0);
  CHECK(spy_data_write(w, 0, R, 0, C, v, SPY_DT_F32, &err) == SPY_OK, "%s", err.msg);
  CHECK(w->raw_off > 0 && w->raw_fd >= 0 && !w->raw_h5io, "rows over every channel were not written raw");

  /* a small write through HDF5 (one channel: it sits in HDF5's sieve
  ** buffer, which covers the whole dataset), then raw rows over it: the
  ** raw rows are what stays */
  float one[10];
  for (size_t i = 0; i < 10; i++) one[i] = -1000.0f - (float)i;
  CHECK(spy_data_write(w, 100, 10, 2, 1, one, SPY_DT_F32, &err) == SPY_OK, "%s", err.msg);
  for (size_t i = 0; i < R * C; i++) v[i] = wval(i, 1);
  CHECK(spy_data_write(w, 50, 100, 0, C, v + 50 * C, SPY_DT_F32, &err) == SPY_OK, "%s", err.msg);
  /* a read through HDF5 (channels reversed) fills the sieve buffer; raw
  ** rows written after it are what the next HDF5 read sees */
  size_t rev[C] = {4, 3, 2, 1, 0};
  CHECK(spy_data_read(w, 0, 20, rev, C, u, SPY_DT_F32, &err) == SPY_OK, "%s", err.msg);
  for (size_t i = 0; i < 10 * C; i++) v[i] = wval(i, 2);
  CHECK(spy_data_write(w, 0, 10, 0, C, v, SPY_DT_F32, &err) == SPY_OK, "%s", err.msg);
  /* expected: rows 0-9 round 2, 10-49 and 150-199 round 0, 50-149 round 1 */
  float want[R * C];
  for (size_t i = 0; i < R * C; i++) {
    size_t row = i / C;
    want[i] = wval(i, row < 10 ? 2 : row >= 50 && row < 150 ? 1 : 0);
  }
  CHECK(spy_data_read(w, 0, R, rev, C, u, SPY_DT_F32, &err) == SPY_OK, "%s", err.msg);
  size_t bad = 0;
  for (size_t i = 0; i < R * C; i++) bad += u[(i / C) * C + (C - 1 - i % C)] != want[i];
  CHECK(bad == 0, "HDF5 reads %zu of %d values other than the raw writes left", bad, R * C);
  same_as_hdf5(w, 0, R, SPY_DT_F32, "raw-written rows");

  /* the file as another program reads it: closed, reopened read-only */
  char *path = strdup(w->path);
  spy_data_close(w);
  spy_data *r = spy_data_new(SPY_ANALOG);
  rc = spy_data_open(r, path, false, &err);
  CHECK(rc == SPY_OK, "reopen %s: %s", path, err.msg);
  if (rc == SPY_OK) {
    CHECK(spy_data_read(r, 0, R, rev, C, u, SPY_DT_F32, &err) == SPY_OK, "%s", err.msg);
    bad = 0;
    for (size_t i = 0; i < R * C; i++) bad += u[(i / C) * C + (C - 1 - i % C)] != want[i];
    CHECK(bad == 0, "reopened file: %zu of %d values wrong", bad, R * C);
    /* a read-only object is never written, raw or not */
    CHECK(spy_data_write(r, 0, 1, 0, C, v, SPY_DT_F32, &err) == SPY_EIO, "read-only object written");
  }
  spy_data_unref(r);
  free(path);
  spy_data_unref(w);

  /* rows x tapers x freqs x channels written raw, a row range in the middle */
  size_t s4[4] = {30, 2, 7, 3}, n4 = 30 * 2 * 7 * 3, row = 2 * 7 * 3;
  spy_data *q = spy_data_new(SPY_SPECTRAL);
  rc = q ? spy_data_create(q, SPY_DT_F32, 4, s4, &err) : SPY_ENOMEM;
  CHECK(rc == SPY_OK, "create 4-d: %s", err.msg);
  if (rc == SPY_OK) {
    float *a = malloc(n4 * sizeof *a), *b = malloc(n4 * sizeof *b);
    for (size_t i = 0; i < n4; i++) a[i] = wval(i, 3);
    CHECK(spy_data_write(q, 0, 12, 0, 3, a, SPY_DT_F32, &err) == SPY_OK &&
              spy_data_write(q, 12, 18, 0, 3, a + 12 * row, SPY_DT_F32, &err) == SPY_OK,
          "%s", err.msg);
    CHECK(q->raw_off > 0 && !q->raw_h5io, "4-d rows were not written raw");
    size_t r3[3] = {2, 1, 0};
    CHECK(spy_data_read(q, 0, 30, r3, 3, b, SPY_DT_F32, &err) == SPY_OK, "%s", err.msg);
    bad = 0;
    for (size_t i = 0; i < n4; i++) bad += b[(i / 3) * 3 + (2 - i % 3)] != a[i];
    CHECK(bad == 0, "4-d raw writes: %zu of %zu values wrong through HDF5", bad, n4);
    free(a);
    free(b);
  }
  spy_data_unref(q);
}

int main(void)
{
  raw_writes();
  spy_err err = {0};
  /* float32 read as float64 (widened) and as float32, float64 as float64 */
  size_t s2[2] = {1000, 7};
  spy_data *f32 = make(SPY_DT_F32, 2, s2, ramp), *f64 = make(SPY_DT_F64, 2, s2, ramp);
  CHECK(f32 && f64, "create");
  same_as_hdf5(f32, 0, 1000, SPY_DT_F64, "f32 as f64, all rows");
  same_as_hdf5(f32, 123, 456, SPY_DT_F64, "f32 as f64, rows 123..579");
  same_as_hdf5(f32, 999, 1, SPY_DT_F32, "f32 as f32, last row");
  same_as_hdf5(f64, 17, 300, SPY_DT_F64, "f64 as f64");
  double x[7];
  size_t all[7] = {0, 1, 2, 3, 4, 5, 6};
  CHECK(spy_data_read(f32, 10, 1, all, 7, x, SPY_DT_F64, &err) == SPY_OK, "%s", err.msg);
  CHECK(x[3] == (double)(float)ramp(10 * 7 + 3), "value %g vs %g", x[3], (double)(float)ramp(73));
  CHECK(f32->raw_off > 0 && f32->raw_fd >= 0, "rows over every channel were not read raw");

  /* a write through HDF5 (small: it may sit in HDF5's sieve buffer) is seen
  ** by the next raw read */
  double w[2 * 7];
  for (size_t i = 0; i < 14; i++) w[i] = other(i);
  CHECK(spy_data_write(f32, 10, 2, 0, 7, w, SPY_DT_F64, &err) == SPY_OK, "%s", err.msg);
  double y[2 * 7];
  CHECK(spy_data_read(f32, 10, 2, all, 7, y, SPY_DT_F64, &err) == SPY_OK, "%s", err.msg);
  size_t bad = 0;
  for (size_t i = 0; i < 14; i++) bad += y[i] != (double)(float)other(i);
  CHECK(bad == 0, "%zu of 14 values written through HDF5 not seen by the raw read", bad);
  same_as_hdf5(f32, 0, 20, SPY_DT_F64, "after the write");
  /* writes and reads alternating (raw reads give way to HDF5's after a few) */
  bad = 0;
  for (size_t it = 0; it < 40; it++) {
    for (size_t i = 0; i < 7; i++) w[i] = other(i + it);
    spy_data_write(f32, 500 + it, 1, 0, 7, w, SPY_DT_F64, &err);
    CHECK(spy_data_read(f32, 500 + it, 1, all, 7, y, SPY_DT_F64, &err) == SPY_OK, "%s", err.msg);
    for (size_t i = 0; i < 7; i++) bad += y[i] != (double)(float)other(i + it);
  }
  CHECK(bad == 0, "alternating writes and reads: %zu values not seen", bad);
  same_as_hdf5(f32, 490, 60, SPY_DT_F64, "after alternating");

  /* read before the first write (no storage yet), then written: read raw */
  {
    spy_data *e = spy_data_new(SPY_ANALOG);
    size_t se[2] = {30, 7};
    CHECK(spy_data_create(e, SPY_DT_F32, 2, se, &err) == SPY_OK, "%s", err.msg);
    double z[30 * 7];
    spy_data_read(e, 0, 30, all, 7, z, SPY_DT_F64, &err);
    for (size_t i = 0; i < 30 * 7; i++) z[i] = ramp(i);
    CHECK(spy_data_write(e, 0, 30, 0, 7, z, SPY_DT_F64, &err) == SPY_OK, "%s", err.msg);
    double u[30 * 7];
    CHECK(spy_data_read(e, 0, 30, all, 7, u, SPY_DT_F64, &err) == SPY_OK, "%s", err.msg);
    bad = 0;
    for (size_t i = 0; i < 30 * 7; i++) bad += u[i] != (double)(float)ramp(i);
    CHECK(bad == 0, "written after an early read: %zu values wrong", bad);
    CHECK(e->raw_off > 0, "not read raw once written");
    spy_data_unref(e);
  }

  /* rows x tapers x freqs x channels */
  size_t s4[4] = {50, 3, 11, 4};
  spy_data *d4 = make(SPY_DT_F32, 4, s4, ramp);
  CHECK(d4 != NULL, "create 4-d");
  if (d4) same_as_hdf5(d4, 5, 40, SPY_DT_F64, "4-d");

  /* out of range: the same error as before */
  CHECK(spy_data_read(f32, 999, 2, all, 7, y, SPY_DT_F64, &err) == SPY_EINVAL &&
            strstr(err.msg, "outside the data"),
        "rows outside: %s", err.msg);

  /* a file with a 512-byte user block (h5py, userblock_size=512): the data
  ** start 512 bytes later than in a plain file */
  spy_data *ub = spy_data_new(SPY_ANALOG);
  int rc = spy_data_open(ub, t_data("userblock.h5"), false, &err);
  CHECK(rc == SPY_OK, "open userblock.h5: %s", err.msg);
  if (rc == SPY_OK) {
    float v[40 * 3];
    size_t c3[3] = {0, 1, 2};
    CHECK(spy_data_read(ub, 0, 40, c3, 3, v, SPY_DT_F32, &err) == SPY_OK, "%s", err.msg);
    bad = 0;
    for (size_t i = 0; i < 120; i++) bad += v[i] != (float)i * 0.25f - 7.0f;
    CHECK(bad == 0, "user block file: %zu of 120 values wrong", bad);
  }
  spy_data_unref(ub);

  /* many objects open at once under a low descriptor limit: raw reads hold
  ** at most 64 descriptors besides HDF5's one per file, so 120 objects fit
  ** in 200 */
  struct rlimit lim, low;
  getrlimit(RLIMIT_NOFILE, &lim);
  low = lim;
  low.rlim_cur = 200;
  if (lim.rlim_cur > 200 && setrlimit(RLIMIT_NOFILE, &low) == 0) {
    enum { NOBJ = 120 };
    spy_data *objs[NOBJ] = {0};
    size_t sm[2] = {10, 7}, failed = 0;
    err = (spy_err){0};
    for (size_t i = 0; i < NOBJ; i++) {
      objs[i] = make(SPY_DT_F32, 2, sm, ramp);
      double z[10 * 7];
      if (!objs[i] || spy_data_read(objs[i], 0, 10, all, 7, z, SPY_DT_F64, &err) != SPY_OK ||
          z[69] != (double)(float)ramp(69))
        failed++;
    }
    CHECK(failed == 0, "%zu of %d objects could not be created or read: %s", failed, NOBJ, err.msg);
    for (size_t i = 0; i < NOBJ; i++) spy_data_unref(objs[i]);
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  spy_data_unref(f32);
  spy_data_unref(f64);
  spy_data_unref(d4);
  return t_done();
}
