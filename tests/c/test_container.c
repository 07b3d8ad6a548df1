/*
** .spy containers against Syncopy: the two containers Syncopy wrote
** (tests/data/{analog,spectral}_ref.spy) load with every field equal to the plain arrays
** of spy_container.h5; a saved container has Syncopy's HDF5 layout and
** .info (keys, order, offsets, checksum) and loads back identically; saving
** is refused or fails without touching existing files; each kind of broken
** container gives its error.
*/
#include <dirent.h>
#include <complex.h>
#include <fcntl.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/interrupt.h"
#include "core/settings.h"
#include "io/checksum.h"
#include "io/container.h"
#include "io/h5.h"
#include "io/info.h"
#include "h5ref.h"
#include "t.h"

static char scratch[4096];

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

static const char *sp(const char *fmt, const char *a, const char *b)
{
  static char buf[16][4096];
  static int k;
  k = (k + 1) % 16;
  char tmp[4096];
  snprintf(tmp, sizeof tmp, fmt, a, b);
  memcpy(buf[k], tmp, sizeof tmp);
  return buf[k];
}

static bool same_bytes(const char *a, const char *b)
{
  size_t na, nb;
  char *x = t_slurp(a, &na), *y = t_slurp(b, &nb);
  bool same = x && y && na == nb && memcmp(x, y, na) == 0;
  free(x);
  free(y);
  return same;
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

/* All of d's data as float32, read through the engine. */
static float *all_rows(spy_data *d, size_t *n)
{
  size_t row = spy_data_row_elems(d);
  *n = d->shape[0] * row;
  float *buf = malloc(*n * sizeof *buf + 1);
  spy_err err = {0};
  int rc = spy_data_read(d, 0, d->shape[0], NULL, d->shape[d->ndim - 1], buf, SPY_DT_F32, &err);
  CHECK(rc == SPY_OK, "read: %s", err.msg);
  return buf;
}

static spy_data *load_one(const char *path, bool checksum, spy_err *err)
{
  spy_loaded l;
  spy_load_opts o = {.checksum = checksum};
  if (spy_load(path, &o, &l, err) != SPY_OK) return NULL;
  spy_data *d = NULL;
  if (l.n == 1) {
    d = l.objs[0];
    l.objs[0] = NULL;
  }
  spy_loaded_free(&l);
  return d;
}

/* ---- Syncopy's containers ------------------------------------------------ */

static void check_against_reference(spy_data *d, const char *dataset)
{
  const char *ref = t_data("spy_container.h5");
  int nd;
  size_t shape[8], n;
  double *want = h5ref_read(ref, dataset, &nd, shape);
  float *have = all_rows(d, &n);
  size_t nwant = 1;
  for (int i = 0; i < nd; i++) nwant *= shape[i];
  CHECK(nwant == n, "%s: %zu values, reference %zu", dataset, n, nwant);
  size_t bad = 0;
  for (size_t i = 0; i < n && i < nwant; i++) bad += (double)have[i] != want[i];
  CHECK(bad == 0, "%s: %zu values differ from the reference (exact comparison)", dataset, bad);
  free(want);
  free(have);
}

static void check_trldef(spy_data *d, const char *dataset)
{
  int nd;
  size_t shape[8];
  double *want = h5ref_read(t_data("spy_container.h5"), dataset, &nd, shape);
  CHECK(d->ntrials == shape[0] && d->trlcols == shape[1], "trialdefinition %zux%zu", d->ntrials,
        d->trlcols);
  for (size_t i = 0; i < shape[0] * shape[1] && d->ntrials == shape[0]; i++)
    CHECK(d->trldef[i] == want[i], "trialdefinition[%zu] %g vs %g", i, d->trldef[i], want[i]);
  free(want);
}

static void check_channels(spy_data *d)
{
  char labels[16][64];
  size_t n = h5ref_strings(t_data("spy_container.h5"), "channel", labels, 16);
  CHECK(d->nchannel == n, "%zu channels, reference %zu", d->nchannel, n);
  for (size_t i = 0; i < n && i < d->nchannel; i++)
    CHECK(strcmp(d->channel[i], labels[i]) == 0, "channel %zu: %s vs %s", i, d->channel[i],
          labels[i]);
}

static void test_load_analog_ref(void)
{
  spy_err err = {0};
  spy_data *d = load_one(t_data("analog_ref.spy"), true, &err);
  CHECK(d != NULL, "load analog_ref.spy: %s", err.msg);
  if (!d) return;
  CHECK(d->cls == SPY_ANALOG && d->dtype == SPY_DT_F32 && d->ndim == 2, "class/dtype/rank");
  CHECK(d->shape[0] == 10000 && d->shape[1] == 4, "shape %zux%zu", d->shape[0], d->shape[1]);
  check_against_reference(d, "input");
  check_trldef(d, "input_trialdefinition");
  check_channels(d);
  CHECK(d->samplerate == h5ref_attr_num(t_data("spy_container.h5"), "samplerate"), "samplerate %g",
        d->samplerate);
  CHECK(cJSON_GetArraySize(d->cfg) == 0 && cJSON_IsObject(d->cfg), "cfg is {}");
  CHECK(cJSON_IsObject(d->info) && cJSON_GetArraySize(d->info) == 0, "info is {}");
  CHECK(strcmp(d->version, "v2023.09-28-ga86199ac") == 0, "_version %s", d->version);
  CHECK(!d->writable && !d->temporary, "loaded objects are read-only (mode 'r')");
  CHECK(d->tag == NULL, "no tag");
  CHECK(d->container && strstr(d->container, "analog_ref.spy"), "container %s", d->container);
  /* history: Syncopy's text, then our read entry with its alignment */
  CHECK(strstr(d->log, "\n\n|=== root@vm: Fri Nov 27 00:22:17 2026 ===|\n\n\t__init__: created "
                       "AnalogData object") == d->log,
        "log keeps Syncopy's history");
  char want[8192];
  snprintf(want, sizeof want,
           "\tload: Read files v. v2023.09-28-ga86199ac %s/analog_ref.analog\n\t%*s%s/"
           "analog_ref.analog.info",
           d->container, 42, "", d->container);
  CHECK(strstr(d->log, want) != NULL, "read entry missing or misaligned:\n%s", d->log);
  spy_data_unref(d);
}

static void test_load_spectral_ref(void)
{
  spy_err err = {0};
  spy_data *d = load_one(t_data("spectral_ref.spy/spectral_ref.spectral"), true, &err);
  CHECK(d != NULL, "load spectral_ref.spectral: %s", err.msg);
  if (!d) return;
  CHECK(d->cls == SPY_SPECTRAL && d->dtype == SPY_DT_F32 && d->ndim == 4, "class/dtype/rank");
  CHECK(d->shape[0] == 5 && d->shape[1] == 1 && d->shape[2] == 201 && d->shape[3] == 4, "shape");
  check_against_reference(d, "output");
  check_trldef(d, "output_trialdefinition");
  check_channels(d);
  int nd;
  size_t shape[8];
  double *freq = h5ref_read(t_data("spy_container.h5"), "freq", &nd, shape);
  CHECK(d->nfreq == shape[0], "nfreq %zu", d->nfreq);
  for (size_t i = 0; i < d->nfreq && i < shape[0]; i++)
    CHECK(d->freq[i] == freq[i], "freq[%zu] %g vs %g", i, d->freq[i], freq[i]);
  free(freq);
  char tapers[4][64];
  size_t nt = h5ref_strings(t_data("spy_container.h5"), "taper", tapers, 4);
  CHECK(d->ntaper == nt && nt == 1 && strcmp(d->taper[0], tapers[0]) == 0, "taper %s",
        d->ntaper ? d->taper[0] : "-");
  char cfgtext[8192];
  CHECK(h5ref_attr_str(t_data("spy_container.h5"), "syncopy_cfg", cfgtext, sizeof cfgtext) == 0,
        "syncopy_cfg");
  cJSON *cfg = NULL;
  spy_json_parse(cfgtext, strlen(cfgtext), &cfg, &err);
  CHECK(cfg && cJSON_Compare(cfg, d->cfg, true), "cfg differs from Syncopy's");
  cJSON_Delete(cfg);
  CHECK(d->samplerate == 1000.0, "samplerate %g", d->samplerate);
  spy_data_unref(d);
}

/* ---- saving ------------------------------------------------------------- */

static void check_layout(const char *hdf, spy_data *d)
{
  hid_t f = H5Fopen(hdf, H5F_ACC_RDONLY, H5P_DEFAULT);
  CHECK(f >= 0, "open %s", hdf);
  if (f < 0) return;
  hid_t ds = H5Dopen2(f, "data", H5P_DEFAULT), dcpl = H5Dget_create_plist(ds);
  CHECK(H5Pget_layout(dcpl) == H5D_CONTIGUOUS, "`data` is contiguous");
  CHECK(H5Pget_nfilters(dcpl) == 0, "`data` has no filters");
  hid_t ty = H5Dget_type(ds);
  CHECK(H5Tequal(ty, H5T_IEEE_F32LE) > 0, "`data` is float32 LE");
  hsize_t dims[4], maxd[4];
  hid_t s = H5Dget_space(ds);
  int nd = H5Sget_simple_extent_dims(s, dims, maxd);
  CHECK(nd == d->ndim, "rank %d", nd);
  for (int i = 0; i < nd; i++) CHECK(dims[i] == d->shape[i] && maxd[i] == dims[i], "dim %d", i);
  H5Sclose(s);
  H5Tclose(ty);
  H5Pclose(dcpl);
  H5Dclose(ds);

  ds = H5Dopen2(f, "trialdefinition", H5P_DEFAULT);
  dcpl = H5Dget_create_plist(ds);
  hsize_t chunk[2] = {0};
  CHECK(H5Pget_layout(dcpl) == H5D_CHUNKED, "trialdefinition is chunked");
  H5Pget_chunk(dcpl, 2, chunk);
  CHECK(chunk[0] == 5 && chunk[1] == 3, "h5py's chunk (5, 3): %llu %llu",
        (unsigned long long)chunk[0], (unsigned long long)chunk[1]);
  H5D_fill_time_t ft;
  H5Pget_fill_time(dcpl, &ft);
  CHECK(ft == H5D_FILL_TIME_ALLOC, "h5py's fill time for chunked datasets");
  ty = H5Dget_type(ds);
  CHECK(H5Tequal(ty, H5T_IEEE_F64LE) > 0, "trialdefinition is float64");
  s = H5Dget_space(ds);
  H5Sget_simple_extent_dims(s, dims, maxd);
  CHECK(dims[0] == 5 && dims[1] == 3 && maxd[0] == H5S_UNLIMITED && maxd[1] == 3,
        "maxshape (None, 3)");
  H5Sclose(s);
  H5Tclose(ty);
  H5Pclose(dcpl);
  H5Dclose(ds);

  /* attributes: exactly Syncopy's, as h5py types them */
  static const char *const names[] = {"_log", "_version", "channel", "dimord", "freq", "samplerate"};
  H5O_info_t oi;
  H5Oget_info(f, &oi);
  CHECK(oi.num_attrs == 6, "%llu root attributes (no taper)", (unsigned long long)oi.num_attrs);
  for (int i = 0; i < 6; i++) {
    hid_t a = H5Aopen(f, names[i], H5P_DEFAULT);
    CHECK(a >= 0, "attribute %s", names[i]);
    if (a < 0) continue;
    hid_t at = H5Aget_type(a);
    if (names[i][0] == 'f' || names[i][0] == 's') {
      CHECK(H5Tequal(at, H5T_IEEE_F64LE) > 0, "%s is float64", names[i]);
    } else {
      CHECK(H5Tis_variable_str(at) > 0 && H5Tget_cset(at) == H5T_CSET_UTF8,
            "%s is a variable-length UTF-8 string", names[i]);
    }
    H5Tclose(at);
    H5Aclose(a);
  }
  H5Fclose(f);
}

static void check_info(const char *json, const char *hdf, spy_data *d)
{
  size_t n, nref;
  char *text = t_slurp(json, &n);
  char *reftext = t_slurp(t_data("spectral_ref.spy/spectral_ref.spectral.info"), &nref);
  cJSON *v = NULL, *ref = NULL;
  spy_err err = {0};
  CHECK(text && spy_json_parse(text, n, &v, &err) == SPY_OK, "parse %s: %s", json, err.msg);
  spy_json_parse(reftext, nref, &ref, &err);
  if (!v || !ref) return;
  /* same keys in the same order as Syncopy's file */
  const cJSON *a = v->child, *b = ref->child;
  for (; a && b; a = a->next, b = b->next)
    CHECK(strcmp(a->string, b->string) == 0, "key %s where Syncopy has %s", a->string, b->string);
  CHECK(!a && !b, "key count differs");

  CHECK(strcmp(cJSON_GetObjectItem(v, "filename")->valuestring, "saved.spectral") == 0, "filename");
  CHECK(cJSON_IsNull(cJSON_GetObjectItem(v, "trl_offset")), "trl_offset is null");
  /* data_offset is where HDF5 put the contiguous data */
  hid_t f = H5Fopen(hdf, H5F_ACC_RDONLY, H5P_DEFAULT), ds = H5Dopen2(f, "data", H5P_DEFAULT);
  haddr_t off = H5Dget_offset(ds);
  H5Dclose(ds);
  H5Fclose(f);
  CHECK(cJSON_GetObjectItem(v, "data_offset")->valuedouble == (double)off, "data_offset %g vs %llu",
        cJSON_GetObjectItem(v, "data_offset")->valuedouble, (unsigned long long)off);
  /* file_checksum: SHA-1 of the file in one piece (OpenSSL's SHA1) */
  size_t nh;
  unsigned char *bytes = (unsigned char *)t_slurp(hdf, &nh), md[SHA_DIGEST_LENGTH];
  SHA1(bytes, nh, md);
  free(bytes);
  char hex[41];
  for (int i = 0; i < SHA_DIGEST_LENGTH; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
  CHECK(strcmp(cJSON_GetObjectItem(v, "file_checksum")->valuestring, hex) == 0, "checksum");
  /* the log entry, in the .info and in the HDF5 attribute */
  const char *log = cJSON_GetObjectItem(v, "_log")->valuestring;
  char tail[8192];
  snprintf(tail, sizeof tail, "\tsave: Wrote files %s\n\t\t\t  %s", hdf, json);
  CHECK(strlen(log) > strlen(tail) && strcmp(log + strlen(log) - strlen(tail), tail) == 0,
        "log ends with the save entry:\n%s", log);
  char attr[16384];
  CHECK(h5ref_attr_str(hdf, "_log", attr, sizeof attr) == 0 && strcmp(attr, log) == 0,
        "HDF5 `_log` equals the .info `_log`");
  CHECK(strcmp(d->log, log) == 0, "the object's history has the entry");

  /* Everything else is Syncopy's text exactly: drop the fields that name
  ** the file or depend on its bytes and compare the serialisations. */
  static const char *const varying[] = {"filename", "data_offset", "file_checksum", "_log"};
  for (int i = 0; i < 4; i++) {
    cJSON_DeleteItemFromObject(v, varying[i]);
    cJSON_DeleteItemFromObject(ref, varying[i]);
  }
  char *x = spy_json_dump(v, 4), *y = spy_json_dump(ref, 4);
  CHECK(x && y && strcmp(x, y) == 0, "the .info differs from Syncopy's:\n%s", x);
  free(x);
  free(y);
  cJSON_Delete(v);
  cJSON_Delete(ref);
  free(text);
  free(reftext);
}

static void test_save_roundtrip(void)
{
  spy_err err = {0};
  spy_data *d = load_one(t_data("spectral_ref.spy"), false, &err);
  CHECK(d != NULL, "load: %s", err.msg);
  if (!d) return;
  const char *cont = sp("%s/%s", scratch, "saved.spy");
  spy_save_opts o = {.container = sp("%s/%s", scratch, "saved")};
  int rc = spy_save(d, &o, &err);
  CHECK(rc == SPY_OK, "save: %s", err.msg);
  const char *hdf = sp("%s/%s", cont, "saved.spectral");
  const char *json = sp("%s/%s", cont, "saved.spectral.info");
  CHECK(count_entries(cont) == 2, "the container holds the two files, no temporaries");
  CHECK(strcmp(d->path, hdf) == 0 && d->container && strcmp(d->container, cont) == 0,
        "object re-pointed: %s in %s", d->path, d->container);
  check_layout(hdf, d);
  check_info(json, hdf, d);

  /* identical when read back, checksum verified */
  spy_data *e = load_one(cont, true, &err);
  CHECK(e != NULL, "reload: %s", err.msg);
  if (e) {
    check_against_reference(e, "output");
    check_trldef(e, "output_trialdefinition");
    CHECK(cJSON_Compare(e->cfg, d->cfg, true), "cfg survives");
    CHECK(e->nfreq == d->nfreq && memcmp(e->freq, d->freq, d->nfreq * sizeof *d->freq) == 0, "freq");
    spy_data_unref(e);
  }
  /* the object reads from its new file */
  check_against_reference(d, "output");

  /* overwrite protection */
  size_t n0;
  char *before = t_slurp(hdf, &n0);
  rc = spy_save(d, &o, &err);
  CHECK(rc == SPY_EEXIST, "second save refused");
  CHECK(strcmp(err.msg, sp("Cannot write %s%s: object already exists (overwrite=true replaces it)", hdf, "")) == 0, "%s",
        err.msg);
  size_t n1;
  char *after = t_slurp(hdf, &n1);
  CHECK(n0 == n1 && memcmp(before, after, n0) == 0, "refused save leaves the file alone");
  free(before);
  free(after);
  o.overwrite = true;
  CHECK(spy_save(d, &o, &err) == SPY_OK, "overwrite: %s", err.msg);
  CHECK(count_entries(cont) == 2, "no temporaries after overwrite");

  /* obj.save() re-saves in place; obj.save(tag=) adds to the container */
  CHECK(spy_save_method(d, NULL, &err) == SPY_OK, "obj.save(): %s", err.msg);
  check_against_reference(d, "output");
  spy_save_opts tagged = {.tag = "late"};
  CHECK(spy_save_method(d, &tagged, &err) == SPY_OK, "obj.save(tag=): %s", err.msg);
  CHECK(access(sp("%s/%s", cont, "saved_late.spectral.info"), F_OK) == 0, "tagged file");
  CHECK(d->tag && strcmp(d->tag, "late") == 0, "tag %s", d->tag ? d->tag : "NULL");

  /* a container with several objects loads as a dict keyed by file name */
  spy_loaded l;
  CHECK(spy_load(cont, NULL, &l, &err) == SPY_OK && l.n == 2 && !l.single, "load 2: %s", err.msg);
  if (l.n == 2)
    CHECK(strcmp(l.names[0], "saved.spectral") == 0 && strcmp(l.names[1], "saved_late.spectral") == 0,
          "names %s %s", l.names[0], l.names[1]);
  spy_loaded_free(&l);
  const char *tags[] = {"late"};
  spy_load_opts bytag = {.tags = tags, .ntags = 1};
  CHECK(spy_load(cont, &bytag, &l, &err) == SPY_OK && l.n == 1 && l.single, "tag filter");
  if (l.n == 1) CHECK(l.objs[0]->tag && strcmp(l.objs[0]->tag, "late") == 0, "loaded tag");
  spy_loaded_free(&l);
  const char *dc[] = {"analog"};
  spy_load_opts byclass = {.dataclass = dc, .ndataclass = 1};
  CHECK(spy_load(cont, &byclass, &l, &err) == SPY_ENOENT, "no analog in there");
  CHECK(strstr(err.msg, sp("Cannot read %s/* with extensions .analog : object does not exist", cont,
                           "")) != NULL,
        "%s", err.msg);
  spy_data_unref(d);
}

static void test_save_messages(void)
{
  spy_err err = {0};
  spy_data *d = load_one(t_data("analog_ref.spy"), false, &err);
  if (!d) return;
  spy_save_opts o = {0};
  CHECK(spy_save(d, &o, &err) != SPY_OK &&
            strcmp(err.msg, "filename and container cannot both be `None`") == 0,
        "%s", err.msg);
  o = (spy_save_opts){.container = "x", .filename = "y"};
  CHECK(spy_save(d, &o, &err) != SPY_OK &&
            strcmp(err.msg, "container and filename cannot be used at the same time") == 0,
        "%s", err.msg);
  o = (spy_save_opts){.filename = sp("%s/%s", scratch, "plain.spectral")};
  CHECK(spy_save(d, &o, &err) != SPY_OK &&
            strcmp(err.msg, "Extension in filename ('.spectral') does not match data class "
                            "(AnalogData), expected '.analog'.") == 0,
        "%s", err.msg);
  o = (spy_save_opts){.filename = sp("%s/%s", scratch, "plain.txt")};
  CHECK(spy_save(d, &o, &err) != SPY_OK &&
            strcmp(err.msg, "Invalid value of `filename extension`: '.txt'; expected ('.analog', "
                            "'.spectral', '.crossspectral', '.timelock', '.spike', '.event')") == 0,
        "%s", err.msg);
  /* filename= outside containers, extension added, missing folders made */
  o = (spy_save_opts){.filename = sp("%s/%s", scratch, "deep/er/plain")};
  CHECK(spy_save(d, &o, &err) == SPY_OK, "filename save: %s", err.msg);
  CHECK(access(sp("%s/%s", scratch, "deep/er/plain.analog.info"), F_OK) == 0, "plain.analog.info");
  CHECK(d->container == NULL && d->tag == NULL, "not in a container");
  /* obj.save() without a container has nowhere to go */
  CHECK(spy_save_method(d, NULL, &err) != SPY_OK &&
            strstr(err.msg, "Cannot create spy container in temporary storage"),
        "%s", err.msg);
  spy_save_opts tag = {.tag = "t"};
  CHECK(spy_save_method(d, &tag, &err) != SPY_OK &&
            strstr(err.msg, "Object is not associated to an existing spy container"),
        "%s", err.msg);
  /* load: tag only for containers; unknown dataclass; wrong extension */
  const char *tags[] = {"t"};
  spy_load_opts lo = {.tags = tags, .ntags = 1};
  spy_loaded l;
  CHECK(spy_load(sp("%s/%s", scratch, "deep/er/plain.analog"), &lo, &l, &err) != SPY_OK &&
            strcmp(err.msg, "Only containers can be loaded with `tag` keyword!") == 0,
        "%s", err.msg);
  const char *dc[] = {"wave"};
  lo = (spy_load_opts){.dataclass = dc, .ndataclass = 1};
  CHECK(spy_load(scratch, &lo, &l, &err) != SPY_OK &&
            strcmp(err.msg, "Invalid value of `dataclass`: '['.wave']'; expected extension(s) "
                            "'.analog' or '.spectral' or '.crossspectral' or '.timelock' or '.spike' or '.event' ") == 0,
        "%s", err.msg);
  CHECK(spy_load(sp("%s/%s", scratch, "nothere"), NULL, &l, &err) == SPY_ENOENT &&
            strstr(err.msg, "nothere.spy/* with extensions .analog or .spectral or "
                            ".crossspectral or .timelock or .spike or .event : object does not exist"),
        "%s", err.msg);
  spy_data_unref(d);
}

/* ---- objects made in this session ----------------------------------------- */

/* A fresh temporary object of class cls, shape sh, dtype t, values i*0.5 (+ i*0.25j). */
static spy_data *make_object(spy_dataclass cls, spy_dtype t, const size_t *sh, size_t ntrials)
{
  spy_err err = {0};
  spy_data *d = spy_data_new(cls);
  int nd = spy_dataclass_ndim(cls);
  CHECK(spy_data_create(d, t, nd, sh, &err) == SPY_OK, "create: %s", err.msg);
  size_t row = spy_data_row_elems(d), n = sh[0] * row;
  /* libhdf5 converts between float types, not between real and complex */
  bool cplx = spy_dtype_is_complex(t);
  double complex *v = malloc(n * sizeof *v);
  double *re = (double *)v;
  for (size_t i = 0; i < n; i++) {
    if (cplx) v[i] = i * 0.5 + I * (i * 0.25);
    else re[i] = i * 0.5;
  }
  CHECK(spy_data_write(d, 0, sh[0], 0, sh[nd - 1], v, cplx ? SPY_DT_C128 : SPY_DT_F64, &err) == SPY_OK,
        "write: %s", err.msg);
  free(v);
  double trl[3 * 8];
  for (size_t k = 0; k < ntrials; k++) {
    trl[3 * k] = (double)(k * sh[0] / ntrials);
    trl[3 * k + 1] = (double)((k + 1) * sh[0] / ntrials);
    trl[3 * k + 2] = -(double)k;
  }
  spy_data_set_trldef(d, trl, ntrials, 3);
  spy_data_default_channels(d, sh[cls == SPY_CROSSSPECTRAL ? 2 : nd - 1]);
  if (cls == SPY_CROSSSPECTRAL) {
    const char *cj[] = {"a", "b", "c", "d"};
    spy_data_set_channel_j(d, cj, sh[3]);
  }
  if (cls != SPY_ANALOG) {
    double f[8];
    size_t nf = sh[cls == SPY_SPECTRAL ? 2 : 1];
    for (size_t i = 0; i < nf; i++) f[i] = 0.5 + i * 2.25;
    spy_data_set_freq(d, f, nf);
  }
  if (cls == SPY_SPECTRAL) {
    const char *tp[] = {"dpss0", "dpss1", "dpss2"};
    spy_data_set_taper(d, tp, sh[1]);
  }
  d->samplerate = 250.0;
  cJSON_AddItemToObject(d->cfg, "f", spy_json_float(4));
  cJSON_AddNumberToObject(d->cfg, "i", 4);
  spy_data_log(d, "__init__", "created object");
  return d;
}

static void expect_same_values(spy_data *a, spy_data *b)
{
  size_t n = a->shape[0] * spy_data_row_elems(a);
  double complex *x = calloc(n, sizeof *x), *y = calloc(n, sizeof *y);
  spy_err err = {0};
  size_t last = a->shape[a->ndim - 1];
  spy_dtype t = spy_dtype_is_complex(a->dtype) ? SPY_DT_C128 : SPY_DT_F64;
  CHECK(spy_data_read(a, 0, a->shape[0], NULL, last, x, t, &err) == SPY_OK, "%s", err.msg);
  CHECK(spy_data_read(b, 0, b->shape[0], NULL, last, y, t, &err) == SPY_OK, "%s", err.msg);
  CHECK(memcmp(x, y, n * sizeof *x) == 0, "values differ after the round trip");
  free(x);
  free(y);
}

static void test_save_session_objects(void)
{
  static const struct {
    spy_dataclass cls;
    spy_dtype t;
    size_t shape[4];
    const char *name;
  } cases[] = {
      {SPY_ANALOG, SPY_DT_F64, {100, 3}, "ana"},
      {SPY_SPECTRAL, SPY_DT_C64, {4, 3, 5, 2}, "spec"},
      {SPY_CROSSSPECTRAL, SPY_DT_F32, {2, 3, 4, 4}, "cross"},
  };
  for (int c = 0; c < 3; c++) {
    spy_err err = {0};
    spy_data *d = make_object(cases[c].cls, cases[c].t, cases[c].shape, 2);
    char *tmp = strdup(d->path);
    CHECK(d->temporary && strstr(tmp, spy_tmpdir()) == tmp, "starts in temporary storage");
    spy_save_opts o = {.container = sp("%s/%s", scratch, cases[c].name)};
    CHECK(spy_save(d, &o, &err) == SPY_OK, "save %s: %s", cases[c].name, err.msg);
    CHECK(access(tmp, F_OK) != 0, "the temporary file is deleted after saving");
    CHECK(!d->temporary && d->container && strstr(d->path, ".spy/"), "re-pointed to %s", d->path);
    CHECK(!d->writable, "a saved object is read-only");
    spy_data *e = load_one(sp("%s/%s.spy", scratch, cases[c].name), true, &err);
    CHECK(e != NULL, "load %s: %s", cases[c].name, err.msg);
    if (e) {
      CHECK(e->cls == d->cls && e->dtype == d->dtype && e->ndim == d->ndim, "class and dtype");
      expect_same_values(d, e);
      CHECK(e->ntrials == 2 && memcmp(e->trldef, d->trldef, 6 * sizeof *e->trldef) == 0, "trials");
      CHECK(e->samplerate == 250.0 && cJSON_Compare(e->cfg, d->cfg, true), "samplerate, cfg");
      CHECK(e->nchannel == d->nchannel && strcmp(e->channel[0], "channel1") == 0, "channels");
      if (e->cls == SPY_CROSSSPECTRAL)
        CHECK(e->nchannel_j == 4 && strcmp(e->channel_j[3], "d") == 0, "channel_j");
      if (e->cls == SPY_SPECTRAL) CHECK(e->ntaper == 3 && strcmp(e->taper[2], "dpss2") == 0, "taper");
      if (e->cls != SPY_ANALOG)
        CHECK(e->nfreq == d->nfreq && e->freq[1] == 2.75, "freq");
      spy_data_unref(e);
    }
    /* the cfg keeps 4.0 and 4 apart in the file */
    size_t n;
    char *info = t_slurp(sp("%s%s", d->path, ".info"), &n);
    CHECK(info && strstr(info, "\"cfg\": {\n        \"f\": 4.0,\n        \"i\": 4\n    }"),
          "cfg written as Python writes it");
    free(info);
    free(tmp);
    spy_data_unref(d);
  }

  /* more rows than one 8 MiB copy block holds: copied in pieces */
  {
    spy_err err = {0};
    size_t big[2] = {1100000, 3};
    spy_data *d = make_object(SPY_ANALOG, SPY_DT_F32, big, 4);
    spy_save_opts o = {.container = sp("%s/%s", scratch, "big")};
    CHECK(spy_save(d, &o, &err) == SPY_OK, "save big: %s", err.msg);
    spy_data *e = load_one(sp("%s/%s", scratch, "big.spy"), true, &err);
    CHECK(e != NULL, "load big: %s", err.msg);
    if (e) expect_same_values(d, e);
    spy_data_unref(e);

    /* Ctrl-C during a save: SPY_EINTR, nothing written */
    spy_interrupt_request();
    o.container = sp("%s/%s", scratch, "interrupted");
    CHECK(spy_save(d, &o, &err) == SPY_EINTR, "interrupted save: %s", err.msg);
    spy_interrupt_clear();
    CHECK(count_entries(sp("%s/%s", scratch, "interrupted.spy")) == 0, "no files after Ctrl-C");
    spy_data_unref(d);
  }

  /* samplerate None: null in the .info, "None" in HDF5, NaN when loaded */
  spy_err err = {0};
  size_t sh[2] = {10, 2};
  spy_data *d = make_object(SPY_ANALOG, SPY_DT_F32, sh, 1);
  d->samplerate = NAN;
  spy_save_opts o = {.filename = sp("%s/%s", scratch, "norate")};
  CHECK(spy_save(d, &o, &err) == SPY_OK, "save: %s", err.msg);
  char attr[64] = "";
  h5ref_attr_str(d->path, "samplerate", attr, sizeof attr);
  CHECK(strcmp(attr, "None") == 0, "HDF5 samplerate attribute is \"None\": %s", attr);
  spy_data *e = load_one(sp("%s/%s", scratch, "norate.analog"), true, &err);
  CHECK(e && isnan(e->samplerate), "loaded samplerate None: %s", err.msg);
  spy_data_unref(e);
  spy_data_unref(d);
}

/* ---- atomicity -------------------------------------------------------------- */

static const char *fail_step;
static int fail_at(const char *step) { return fail_step && strcmp(step, fail_step) == 0; }

static void test_atomic_save(void)
{
  spy_err err = {0};
  spy_data *d = load_one(t_data("analog_ref.spy"), false, &err);
  if (!d) return;
  const char *cont = sp("%s/%s", scratch, "atomic.spy");
  spy_save_opts o = {.container = cont};
  CHECK(spy_save(d, &o, &err) == SPY_OK, "first save: %s", err.msg);
  const char *hdf = sp("%s/%s", cont, "atomic.analog");
  const char *json = sp("%s/%s", cont, "atomic.analog.info");
  const char *keep_hdf = sp("%s/%s", scratch, "atomic.keep");
  const char *keep_json = sp("%s/%s", scratch, "atomic.keep.info");
  copy_file(hdf, keep_hdf);
  copy_file(json, keep_json);

  static const char *const steps[] = {"data", "meta", "checksum", "info", "rename-data", "rename-info"};
  spy_save_fault_hook = fail_at;
  o.overwrite = true;
  for (int i = 0; i < 6; i++) {
    fail_step = steps[i];
    char *log = strdup(d->log), *path = strdup(d->path);
    int rc = spy_save(d, &o, &err);
    CHECK(rc != SPY_OK && strstr(err.msg, steps[i]), "failure at %s reported: %s", steps[i], err.msg);
    CHECK(same_bytes(hdf, keep_hdf) && same_bytes(json, keep_json),
          "failure at %s left the container byte-identical", steps[i]);
    CHECK(count_entries(cont) == 2, "failure at %s left no temporaries", steps[i]);
    CHECK(strcmp(d->log, log) == 0 && strcmp(d->path, path) == 0, "object unchanged");
    free(log);
    free(path);
  }
  spy_save_fault_hook = NULL;
  fail_step = NULL;
  /* the object still reads and the container still loads with its checksum */
  check_against_reference(d, "input");
  spy_data *e = load_one(cont, true, &err);
  CHECK(e != NULL, "container intact: %s", err.msg);
  spy_data_unref(e);

  /* a folder we may not write to (only meaningful when not root) */
  if (geteuid() != 0) {
    chmod(cont, 0555);
    CHECK(spy_save(d, &o, &err) == SPY_EIO, "read-only folder refused: %s", err.msg);
    chmod(cont, 0755);
    CHECK(same_bytes(hdf, keep_hdf) && same_bytes(json, keep_json), "read-only: untouched");
  }
  spy_data_unref(d);
}

/* ---- broken containers ---------------------------------------------------- */

/* A fresh copy of analog_ref as <scratch>/<name>.spy/<name>.analog(.info). */
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

/* Edits the copy's .info through a callback on its JSON tree. */
static void edit_info(const char *json, void (*edit)(cJSON *))
{
  size_t n;
  char *text = t_slurp(json, &n);
  cJSON *v = NULL;
  spy_json_parse(text, n, &v, NULL);
  edit(v);
  char *out = spy_json_dump(v, 4);
  spit(json, out, strlen(out));
  free(out);
  free(text);
  cJSON_Delete(v);
}

static void ed_class(cJSON *v) { cJSON_ReplaceItemInObject(v, "dataclass", cJSON_CreateString("FooData")); }
static void ed_spike(cJSON *v) { cJSON_ReplaceItemInObject(v, "dataclass", cJSON_CreateString("SpikeData")); }
static void ed_noclass(cJSON *v) { cJSON_DeleteItemFromObject(v, "dataclass"); }
static void ed_nochannel(cJSON *v) { cJSON_DeleteItemFromObject(v, "channel"); }
static void ed_dtype(cJSON *v) { cJSON_ReplaceItemInObject(v, "data_dtype", cJSON_CreateString("float64")); }
static void ed_shape(cJSON *v)
{
  cJSON_ReplaceItemInArray(cJSON_GetObjectItem(v, "data_shape"), 0, cJSON_CreateNumber(9999));
}
static void ed_labels(cJSON *v) { cJSON_DeleteItemFromArray(cJSON_GetObjectItem(v, "channel"), 0); }
static void ed_channel_type(cJSON *v) { cJSON_ReplaceItemInObject(v, "channel", cJSON_CreateNumber(3)); }
static void ed_dimord(cJSON *v)
{
  const char *dims[] = {"channel", "time"};
  cJSON_ReplaceItemInObject(v, "dimord", cJSON_CreateStringArray(dims, 2));
}
static void ed_trlshape(cJSON *v)
{
  cJSON *sh = cJSON_GetObjectItem(v, "trl_shape");
  cJSON_AddItemToArray(sh, cJSON_CreateNumber(1));
  cJSON_AddItemToArray(sh, cJSON_CreateNumber(1));
}
static void ed_samplerate(cJSON *v) { cJSON_ReplaceItemInObject(v, "samplerate", spy_json_float(-1)); }

static void expect_load_error(const char *hdf, bool checksum, int code, const char *text)
{
  spy_err err = {0};
  spy_data *d = NULL;
  int rc = spy_load_file(hdf, checksum, &d, &err);
  CHECK(rc == code && d == NULL, "expected status %d, got %d (%s)", code, rc, err.msg);
  CHECK(strstr(err.msg, text) != NULL, "message '%s' lacks '%s'", err.msg, text);
  spy_data_unref(d);
}

static void h5_edit(const char *hdf, const char *what)
{
  hid_t f = H5Fopen(hdf, H5F_ACC_RDWR, H5P_DEFAULT);
  if (strcmp(what, "drop-trl") == 0) H5Ldelete(f, "trialdefinition", H5P_DEFAULT);
  if (strcmp(what, "drop-data") == 0) H5Ldelete(f, "data", H5P_DEFAULT);
  if (strcmp(what, "bad-trl") == 0) {
    hid_t ds = H5Dopen2(f, "trialdefinition", H5P_DEFAULT);
    double trl[15];
    H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, trl);
    trl[4 * 3 + 1] = 12000;
    H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, trl);
    H5Dclose(ds);
  }
  H5Fclose(f);
}

static void test_bad_containers(void)
{
  char hdf[4096], json[4096];
  char msg[8192];

  make_copy("noinfo", hdf, json);
  unlink(json);
  snprintf(msg, sizeof msg, "Cannot read %s: object does not exist", json);
  expect_load_error(hdf, false, SPY_ENOENT, msg);

  make_copy("badjson", hdf, json);
  spit(json, "{\"filename\": ", 13);
  snprintf(msg, sizeof msg, "Info file %s is not valid JSON: Expecting value: line 1 column 14 (char 13)", json);
  expect_load_error(hdf, false, SPY_EFORMAT, msg);

  make_copy("checksum", hdf, json);
  {
    int fd = open(hdf, O_WRONLY);
    pwrite(fd, "\x7f", 1, 6144 + 100); /* inside `data` (data_offset 6144) */
    close(fd);
    char sha[41];
    spy_sha1_file(hdf, sha, NULL);
    snprintf(msg, sizeof msg,
             "Invalid value of `checksum.analog`: 'hash = %s'; expected hash = "
             "b9abd4ab2e7c8c6278f3a68618251b876ee940e4",
             sha);
    expect_load_error(hdf, true, SPY_ECHECKSUM, msg);
    spy_err err;
    spy_data *d = NULL;
    CHECK(spy_load_file(hdf, false, &d, &err) == SPY_OK, "without checksum it loads: %s", err.msg);
    spy_data_unref(d);
  }

  make_copy("truncated", hdf, json);
  truncate(hdf, 4000);
  expect_load_error(hdf, false, SPY_EFORMAT, "not an HDF5 file or damaged");

  make_copy("nothdf", hdf, json);
  spit(hdf, "this is not HDF5\n", 17);
  expect_load_error(hdf, false, SPY_EFORMAT, "not an HDF5 file or damaged");

  make_copy("foo", hdf, json);
  edit_info(json, ed_class);
  expect_load_error(hdf, false, SPY_EFORMAT, "Unknown data class FooData");

  make_copy("spike", hdf, json);
  edit_info(json, ed_spike);
  /* an AnalogData relabelled SpikeData lacks SpikeData's unit labels */
  expect_load_error(hdf, false, SPY_EFORMAT, "Required field unit for SpikeData");

  make_copy("noclass", hdf, json);
  edit_info(json, ed_noclass);
  snprintf(msg, sizeof msg, "Info file %s does not contain a dataclass field", json);
  expect_load_error(hdf, false, SPY_EFORMAT, msg);

  make_copy("nochannel", hdf, json);
  edit_info(json, ed_nochannel);
  snprintf(msg, sizeof msg, "Required field channel for AnalogData not in %s", json);
  expect_load_error(hdf, false, SPY_EFORMAT, msg);

  make_copy("dtype", hdf, json);
  edit_info(json, ed_dtype);
  expect_load_error(hdf, false, SPY_EFORMAT,
                    "dataset 'data' is float32 (10000, 4), the info file says float64 (10000, 4)");

  make_copy("shape", hdf, json);
  edit_info(json, ed_shape);
  expect_load_error(hdf, false, SPY_EFORMAT,
                    "dataset 'data' is float32 (10000, 4), the info file says float32 (9999, 4)");

  make_copy("labels", hdf, json);
  edit_info(json, ed_labels);
  expect_load_error(hdf, false, SPY_EFORMAT,
                    "Invalid value of `channel`: 'shape = (3,)'; expected array of shape (4,)");

  make_copy("chantype", hdf, json);
  edit_info(json, ed_channel_type);
  expect_load_error(hdf, false, SPY_EFORMAT, "Wrong type of `channel`: expected array_like found int");

  make_copy("dimord", hdf, json);
  edit_info(json, ed_dimord);
  expect_load_error(hdf, false, SPY_ENOTSUP, "expected ['time', 'channel']");

  make_copy("trlshape", hdf, json);
  edit_info(json, ed_trlshape);
  expect_load_error(hdf, false, SPY_EFORMAT,
                    "Invalid value of `trl_shape`: '4 entries'; expected shape of 2 dimensions");

  make_copy("rate", hdf, json);
  edit_info(json, ed_samplerate);
  expect_load_error(hdf, false, SPY_EFORMAT, "Invalid value of `samplerate`: '-1.0'");

  make_copy("notrl", hdf, json);
  h5_edit(hdf, "drop-trl");
  expect_load_error(hdf, false, SPY_EFORMAT, "does not contain a dataset named 'trialdefinition'.");

  make_copy("nodata", hdf, json);
  h5_edit(hdf, "drop-data");
  snprintf(msg, sizeof msg, "Data file %s does not contain a dataset named 'data'.", hdf);
  expect_load_error(hdf, false, SPY_EFORMAT, msg);

  make_copy("badtrl", hdf, json);
  h5_edit(hdf, "bad-trl");
  expect_load_error(hdf, false, SPY_EFORMAT,
                    "Invalid value of `trialdefinition`: 'trial 4: [8000, 12000, -1000]'");

  make_copy("nohdf", hdf, json);
  unlink(hdf);
  snprintf(msg, sizeof msg, "Cannot read %s: object does not exist", hdf);
  expect_load_error(hdf, false, SPY_ENOENT, msg);
}

int main(void)
{
  spy_err err = {0};
  /* ctest points SPYDIR into the build tree; Syncopy requires it to exist */
  if (getenv("SPYDIR")) spy_mkdirs(getenv("SPYDIR"), NULL);
  if (spy_settings_init(&err) != SPY_OK) {
    fprintf(stderr, "settings: %s\n", err.msg);
    return 1;
  }
  spy_h5_init();
  snprintf(scratch, sizeof scratch, "%s/container_test_XXXXXX", spy_dir());
  if (!mkdtemp(scratch)) {
    perror("mkdtemp");
    return 1;
  }
  test_load_analog_ref();
  test_load_spectral_ref();
  test_save_roundtrip();
  test_save_messages();
  test_save_session_objects();
  test_atomic_save();
  test_bad_containers();
  if (!t_failures) {
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", scratch);
  }
  return t_done();
}
