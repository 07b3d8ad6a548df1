/*
** Hostile containers and names (issue #10): a container cannot make spy read
** other files (external links, external raw storage, virtual datasets), a
** FIFO is refused without waiting for a writer, the .info size and its
** parse memory are bounded, and tags / container names that would leave the
** container, break loading or act as globs are refused before anything
** touches the file system.
*/
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/settings.h"
#include "io/container.h"
#include "io/h5.h"
#include "io/h5plain.h"
#include "io/info.h"
#include "t.h"

static char scratch[4096];

/* libhdf5 (thread-safe build) does not free the per-thread state of a
** thread that exits; our own allocations are still checked. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libhdf5_serial.so\n"; }

static void spit(const char *path, const char *text, size_t n)
{
  FILE *f = fopen(path, "wb");
  if (!f) return;
  fwrite(text, 1, n, f);
  fclose(f);
}

static void copy_file(const char *from, const char *to)
{
  size_t n;
  char *b = t_slurp(from, &n);
  if (b) spit(to, b, n);
  free(b);
}

/* <scratch>/<name>.spy/<name>.analog(.info), copies of Syncopy's reference. */
static void make_copy(const char *name, char *hdf, char *json)
{
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/%s.spy", scratch, name);
  mkdir(dir, 0755);
  snprintf(hdf, 4096, "%s/%s.analog", dir, name);
  snprintf(json, 4096, "%s.info", hdf);
  copy_file(t_data("analog_ref.spy/analog_ref.analog"), hdf);
  copy_file(t_data("analog_ref.spy/analog_ref.analog.info"), json);
}

static void expect_load_error(const char *hdf, int code, const char *text)
{
  spy_err err = {0};
  spy_data *d = NULL;
  int rc = spy_load_file(hdf, false, &d, &err);
  CHECK(rc == code && d == NULL, "%s: expected status %d, got %d (%s)", hdf, code, rc, err.msg);
  CHECK(strstr(err.msg, text) != NULL, "message '%s' lacks '%s'", err.msg, text);
  spy_data_unref(d);
}

/* The reference's data and trial definition, read plainly. */
typedef struct {
  hsize_t dims[2], tdims[2];
  float *data;
  double *trl;
} plain;

static int read_plain(const char *hdf, plain *p)
{
  hid_t f = H5Fopen(hdf, H5F_ACC_RDONLY, H5P_DEFAULT);
  hid_t ds = H5Dopen2(f, "data", H5P_DEFAULT), sp = H5Dget_space(ds);
  H5Sget_simple_extent_dims(sp, p->dims, NULL);
  p->data = malloc(p->dims[0] * p->dims[1] * sizeof *p->data);
  H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, p->data);
  H5Sclose(sp);
  H5Dclose(ds);
  ds = H5Dopen2(f, "trialdefinition", H5P_DEFAULT);
  sp = H5Dget_space(ds);
  H5Sget_simple_extent_dims(sp, p->tdims, NULL);
  p->trl = malloc(p->tdims[0] * p->tdims[1] * sizeof *p->trl);
  H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, p->trl);
  H5Sclose(sp);
  H5Dclose(ds);
  H5Fclose(f);
  return p->data && p->trl ? 0 : -1;
}

static void write_trl(hid_t f, const plain *p)
{
  hid_t sp = H5Screate_simple(2, p->tdims, NULL);
  hid_t ds = H5Dcreate2(f, "trialdefinition", H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT,
                        H5P_DEFAULT);
  H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, p->trl);
  H5Dclose(ds);
  H5Sclose(sp);
}

/* `data` whose raw bytes live in an external file (a "secret" the crafted
** container wants the session to read). */
static void craft_external_storage(const char *hdf, const plain *p, const char *secret)
{
  size_t bytes = p->dims[0] * p->dims[1] * sizeof(float);
  spit(secret, (const char *)p->data, bytes);
  hid_t f = H5Fcreate(hdf, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_external(dcpl, secret, 0, (hsize_t)bytes);
  hid_t sp = H5Screate_simple(2, p->dims, NULL);
  hid_t ds = H5Dcreate2(f, "data", H5T_IEEE_F32LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  H5Dclose(ds);
  H5Sclose(sp);
  H5Pclose(dcpl);
  write_trl(f, p);
  H5Fclose(f);
}

/* `data` as an external link to a dataset of another file. */
static void craft_external_link(const char *hdf, const plain *p, const char *other)
{
  hid_t g = H5Fcreate(other, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hid_t sp = H5Screate_simple(2, p->dims, NULL);
  hid_t ds = H5Dcreate2(g, "data", H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, p->data);
  H5Dclose(ds);
  H5Sclose(sp);
  H5Fclose(g);
  hid_t f = H5Fcreate(hdf, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  H5Lcreate_external(other, "data", f, "data", H5P_DEFAULT, H5P_DEFAULT);
  write_trl(f, p);
  H5Fclose(f);
}

/* `data` as a virtual dataset mapping another file. */
static void craft_virtual(const char *hdf, const plain *p, const char *other)
{
  hid_t sp = H5Screate_simple(2, p->dims, NULL);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_virtual(dcpl, sp, other, "data", sp);
  hid_t f = H5Fcreate(hdf, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hid_t ds = H5Dcreate2(f, "data", H5T_IEEE_F32LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  H5Dclose(ds);
  H5Pclose(dcpl);
  H5Sclose(sp);
  write_trl(f, p);
  H5Fclose(f);
}

/* `data` announcing 2^30 rows with no bytes behind them (a 1.6 KB file
** used to make the loader trust a 16 GB shape). */
static void craft_hollow(const char *hdf, const char *json, const plain *p)
{
  hsize_t dims[2] = {(hsize_t)1 << 30, p->dims[1]};
  hid_t f = H5Fcreate(hdf, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hid_t sp = H5Screate_simple(2, dims, NULL);
  hid_t ds = H5Dcreate2(f, "data", H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dclose(ds);
  H5Sclose(sp);
  write_trl(f, p);
  H5Fclose(f);
  size_t n;
  char *text = t_slurp(json, &n);
  cJSON *v = NULL;
  spy_json_parse(text, n, &v, NULL);
  cJSON_ReplaceItemInArray(cJSON_GetObjectItem(v, "data_shape"), 0, cJSON_CreateNumber(1 << 30));
  char *out = spy_json_dump(v, 4);
  spit(json, out, strlen(out));
  free(out);
  free(text);
  cJSON_Delete(v);
}

static void test_foreign_storage(void)
{
  char hdf[4096], json[4096], other[4200];
  plain p = {0};
  make_copy("ext", hdf, json);
  if (read_plain(hdf, &p)) {
    CHECK(0, "cannot read the reference");
    return;
  }
  /* the crafted files are valid HDF5 that libhdf5 would happily read */
  snprintf(other, sizeof other, "%s/secret.bin", scratch);
  craft_external_storage(hdf, &p, other);
  expect_load_error(hdf, SPY_EFORMAT, "dataset 'data' keeps its data in external files");

  make_copy("elink", hdf, json);
  snprintf(other, sizeof other, "%s/other.h5", scratch);
  craft_external_link(hdf, &p, other);
  expect_load_error(hdf, SPY_EFORMAT, "'data' is a external link");

  make_copy("virt", hdf, json);
  craft_virtual(hdf, &p, other);
  expect_load_error(hdf, SPY_EFORMAT, "dataset 'data' keeps its data in other files (virtual");

  make_copy("hollow", hdf, json);
  craft_hollow(hdf, json, &p);
  expect_load_error(hdf, SPY_EFORMAT, "dataset 'data' announces 17179869184 bytes but the file does not hold them");

  /* the plain HDF5 reader refuses them too */
  spy_h5data a = {0};
  spy_err err = {0};
  snprintf(hdf, sizeof hdf, "%s/ext.spy/ext.analog", scratch);
  CHECK(spy_h5read(hdf, "data", &a, &err) == SPY_EFORMAT && !a.array &&
            strstr(err.msg, "keeps its data in external files"),
        "h5read of external storage: %s", err.msg);
  spy_h5data_clear(&a);
  snprintf(hdf, sizeof hdf, "%s/elink.spy/elink.analog", scratch);
  CHECK(spy_h5read(hdf, "data", &a, &err) != SPY_OK && !a.array,
        "h5read through an external link: %s", err.msg);
  spy_h5data_clear(&a);
  free(p.data);
  free(p.trl);
}

static void test_special_files(void)
{
  char hdf[4096], json[4096];
  /* a FIFO as .info: refused at once (it used to block in open) */
  make_copy("fifo", hdf, json);
  unlink(json);
  CHECK(mkfifo(json, 0600) == 0, "mkfifo");
  expect_load_error(hdf, SPY_EIO, "expected file");
  /* a FIFO as the data file: named for what it is */
  make_copy("fifodata", hdf, json);
  unlink(hdf);
  CHECK(mkfifo(hdf, 0600) == 0, "mkfifo");
  expect_load_error(hdf, SPY_EIO, "Invalid value of `hdfFile`: 'not a regular file'; expected file");
  /* spy.h5read / h5write of a FIFO: refused, not blocked on */
  spy_h5data hd = {0};
  spy_err err = {0};
  CHECK(spy_h5read(hdf, "data", &hd, &err) == SPY_EFORMAT && strstr(err.msg, "not a regular file"),
        "h5read of a FIFO: %s", err.msg);
  spy_h5data_clear(&hd);
  size_t one = 1;
  spy_array *a = spy_array_new(SPY_DT_F64, 1, &one);
  CHECK(spy_h5write(hdf, "x", a, true, &err) == SPY_EFORMAT, "h5write to a FIFO: %s", err.msg);
  spy_array_free(a);
  make_copy("dirdata", hdf, json);
  unlink(hdf);
  mkdir(hdf, 0755);
  expect_load_error(hdf, SPY_EIO, "Invalid value of `hdfFile`: 'directory'; expected file");
}

static void test_info_bounds(void)
{
  char hdf[4096], json[4096], msg[4300];
  /* a sparse .info one byte over the limit: refused by its size, unread */
  make_copy("bigjson", hdf, json);
  int fd = open(json, O_WRONLY | O_TRUNC);
  CHECK(fd >= 0 && ftruncate(fd, SPY_INFO_MAX_BYTES + 1) == 0, "ftruncate");
  if (fd >= 0) close(fd);
  snprintf(msg, sizeof msg, "Info file %s is larger than 64 MiB", json);
  expect_load_error(hdf, SPY_EFORMAT, msg);

  /* 2^21 + 1 values in 4 MiB: the parser stops instead of building them */
  size_t nv = (1u << 21) + 1, n = 0;
  char *text = malloc(2 * nv + 64);
  n += (size_t)sprintf(text, "{\"channel\": [");
  for (size_t i = 0; i < nv; i++) {
    text[n++] = '0';
    text[n++] = i + 1 < nv ? ',' : ']';
  }
  text[n++] = '}';
  spy_data *d = NULL;
  spy_info_hdr h;
  spy_err err = {0};
  CHECK(spy_info_parse(text, n, "many.info", &d, &h, &err) == SPY_EFORMAT && !d &&
            strstr(err.msg, "more than 2097152 values"),
        "value limit: %s", err.msg);
  free(text);
}

static size_t count_entries(const char *dir)
{
  DIR *d = opendir(dir);
  size_t n = 0;
  if (!d) return 0;
  for (struct dirent *e; (e = readdir(d));)
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
  closedir(d);
  return n;
}

static void test_names(void)
{
  char hdf[4096], json[4096], cont[4200];
  spy_err err = {0};
  make_copy("names", hdf, json);
  spy_data *d = NULL;
  CHECK(spy_load_file(hdf, false, &d, &err) == SPY_OK, "%s", err.msg);
  if (!d) return;
  char sub[4200];
  snprintf(sub, sizeof sub, "%s/deep", scratch);
  mkdir(sub, 0755);
  snprintf(cont, sizeof cont, "%s/deep/c.spy", scratch);
  size_t before = count_entries(scratch), before_sub = count_entries(sub);
  static const char *const bad[] = {"/../../c", "../x", "a/b", "a\nb", "*", "a?", "[ab]", "a.b",
                                    "", "a b", NULL};
  for (int i = 0; bad[i]; i++) {
    spy_save_opts o = {.container = cont, .tag = bad[i]};
    CHECK(spy_save(d, &o, &err) == SPY_EINVAL &&
              strstr(err.msg, "Invalid value of `tag`") &&
              strstr(err.msg, "expected a non-empty name of at most 128 letters, digits, '_' or '-'"),
          "tag '%s': %s", bad[i], err.msg);
  }
  char longtag[200];
  memset(longtag, 'a', 129);
  longtag[129] = '\0';
  spy_save_opts o = {.container = cont, .tag = longtag};
  CHECK(spy_save(d, &o, &err) == SPY_EINVAL, "129-byte tag: %s", err.msg);
  /* the newline is shown escaped, not printed */
  o.tag = "a\nb";
  spy_save(d, &o, &err);
  CHECK(strstr(err.msg, "'a\\x0ab'") != NULL, "escaped: %s", err.msg);
  CHECK(count_entries(scratch) == before && count_entries(sub) == before_sub,
        "nothing created by refused saves");
  /* container base names follow the same rule */
  snprintf(cont, sizeof cont, "%s/deep/c*d.spy", scratch);
  o = (spy_save_opts){.container = cont};
  CHECK(spy_save(d, &o, &err) == SPY_EINVAL && strstr(err.msg, "Invalid value of `container`: 'c*d'"),
        "container glob: %s", err.msg);
  /* good names still work, and load back by tag */
  snprintf(cont, sizeof cont, "%s/deep/c.spy", scratch);
  o = (spy_save_opts){.container = cont, .tag = "mtm_fft-2"};
  CHECK(spy_save(d, &o, &err) == SPY_OK, "good tag: %s", err.msg);
  const char *tags[] = {"fft"};
  spy_load_opts lo = {.tags = tags, .ntags = 1};
  spy_loaded l;
  CHECK(spy_load(cont, &lo, &l, &err) == SPY_OK, "load by tag: %s", err.msg);
  spy_loaded_free(&l);
  /* load patterns may glob, but not name a path */
  const char *badpat[] = {"../x"};
  lo = (spy_load_opts){.tags = badpat, .ntags = 1};
  CHECK(spy_load(cont, &lo, &l, &err) == SPY_EINVAL && strstr(err.msg, "Invalid value of `tag`"),
        "load tag with '/': %s", err.msg);
  spy_data_unref(d);
}

/* A failing HDF5 call on a thread other than the one that initialised
** HDF5 (a thread-safe libhdf5 keeps its print switch per thread). */
static void *fail_on_thread(void *arg)
{
  spy_err *err = arg;
  spy_h5_lock();
  hid_t f = H5Fopen("/nonexistent/x.h5", H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) spy_h5_fail(err, SPY_EIO, "cannot open");
  spy_h5_unlock();
  return NULL;
}

/* A write that fails for lack of space says so, naming the folder. */
static void nospace(void)
{
  spy_h5_lock();
  hid_t f = H5Fcreate("/dev/full", H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  int rc = SPY_OK;
  spy_err err = {0};
  if (f < 0) {
    rc = spy_h5_fail(&err, SPY_EIO, "cannot create '%s'", "/dev/full");
  } else {
    hsize_t dims[1] = {1 << 16};
    double *x = calloc(dims[0], sizeof *x);
    hid_t sp = H5Screate_simple(1, dims, NULL);
    hid_t ds = H5Dcreate2(f, "data", H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t w = H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, x);
    if (w >= 0) w = H5Fflush(f, H5F_SCOPE_GLOBAL);
    if (w < 0) rc = spy_h5_fail(&err, SPY_EIO, "cannot write '%s'", "/dev/full");
    H5Dclose(ds);
    H5Sclose(sp);
    H5Fclose(f);
    H5Eclear2(H5E_DEFAULT);
    free(x);
  }
  spy_h5_unlock();
  CHECK(rc == SPY_EIO && strncmp(err.msg, "no space left on device in /dev (", 33) == 0,
        "ENOSPC: %s", err.msg);
}

/* ... and nothing of HDF5's error stack reaches stderr, on any thread. */
static void test_nospace(void)
{
  char log[4300];
  snprintf(log, sizeof log, "%s/stderr.txt", scratch);
  fflush(stderr);
  int saved = dup(2), fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  dup2(fd, 2);
  close(fd);
  nospace();
  spy_err terr = {0};
  pthread_t th;
  if (pthread_create(&th, NULL, fail_on_thread, &terr) == 0) pthread_join(th, NULL);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  size_t n;
  char *text = t_slurp(log, &n);
  CHECK(text && !strstr(text, "HDF5-DIAG"), "HDF5 printed its error stack:\n%s", text ? text : "");
  CHECK(terr.code == SPY_EIO, "the thread's failure is reported: %s", terr.msg);
  free(text);
}

int main(void)
{
  spy_err err = {0};
  if (getenv("SPYDIR")) spy_mkdirs(getenv("SPYDIR"), NULL);
  if (spy_settings_init(&err) != SPY_OK) {
    fprintf(stderr, "settings: %s\n", err.msg);
    return 1;
  }
  spy_h5_init();
  snprintf(scratch, sizeof scratch, "%s/hostile_test_XXXXXX", spy_dir());
  if (!mkdtemp(scratch)) {
    perror("mkdtemp");
    return 1;
  }
  test_foreign_storage();
  test_special_files();
  test_info_bounds();
  test_names();
  test_nospace();
  if (!t_failures) {
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", scratch);
  }
  return t_done();
}
