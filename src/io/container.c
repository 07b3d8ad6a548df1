#include "io/container.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/interrupt.h"
#include "core/settings.h"
#include "data/extra.h"
#include "io/checksum.h"
#include "io/h5.h"
#include "io/info.h"

int (*spy_save_fault_hook)(const char *step);

enum { COPY_BLOCK_BYTES = 8 << 20 };

static int fault(const char *step, spy_err *err)
{
  if (spy_save_fault_hook && spy_save_fault_hook(step))
    return spy_fail(err, SPY_EIO, "injected failure at step '%s'", step);
  return SPY_OK;
}

/* ---- paths, as Python's os.path ----------------------------------------- */

static char *str_cat(const char *a, const char *b, const char *c)
{
  size_t na = strlen(a), nb = strlen(b), nc = c ? strlen(c) : 0;
  char *s = malloc(na + nb + nc + 1);
  if (!s) return NULL;
  memcpy(s, a, na);
  memcpy(s + na, b, nb);
  if (c) memcpy(s + na + nb, c, nc);
  s[na + nb + nc] = '\0';
  return s;
}

static char *path_join(const char *dir, const char *name)
{
  size_t n = strlen(dir);
  return str_cat(dir, n && dir[n - 1] == '/' ? "" : "/", name);
}

/* os.path.abspath(os.path.expanduser(p)): lexical, symlinks untouched. */
static char *abspath(const char *p)
{
  char *joined;
  const char *home = getenv("HOME");
  if (p[0] == '~' && (p[1] == '/' || p[1] == '\0') && home && *home) {
    joined = str_cat(home, p + 1, NULL);
  } else if (p[0] == '/') {
    joined = strdup(p);
  } else {
    char *cwd = getcwd(NULL, 0);
    joined = cwd ? path_join(cwd, p) : NULL;
    free(cwd);
  }
  if (!joined) return NULL;
  /* normpath: drop "", "." and resolve ".." against earlier components. */
  size_t n = strlen(joined);
  char *out = malloc(n + 2), **parts = malloc((n / 2 + 2) * sizeof *parts);
  if (!out || !parts) {
    free(out);
    free(parts);
    free(joined);
    return NULL;
  }
  size_t np = 0;
  for (char *save = NULL, *tok = strtok_r(joined, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
    if (strcmp(tok, ".") == 0) continue;
    if (strcmp(tok, "..") == 0) {
      if (np) np--;
      continue;
    }
    parts[np++] = tok;
  }
  size_t k = 0;
  for (size_t i = 0; i < np; i++) {
    out[k++] = '/';
    size_t l = strlen(parts[i]);
    memcpy(out + k, parts[i], l);
    k += l;
  }
  if (k == 0) out[k++] = '/';
  out[k] = '\0';
  free(parts);
  free(joined);
  return out;
}

/* Start of the extension of the last path component (os.path.splitext):
** the last dot that is not part of the leading dots; NULL if none. */
static const char *ext_of(const char *path)
{
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  while (*base == '.') base++;
  return strrchr(base, '.');
}

static size_t count_char(const char *s, char c)
{
  size_t n = 0;
  for (; *s; s++) n += *s == c;
  return n;
}

static const char *const data_exts[] = {".analog", ".spectral", ".crossspectral", ".timelock",
                                        ".spike", ".event", NULL};

static bool is_data_ext(const char *ext)
{
  for (int i = 0; data_exts[i]; i++)
    if (strcmp(ext, data_exts[i]) == 0) return true;
  return false;
}

/* Syncopy's filename_parser: what a container folder, data or info file
** name says.  Strings are malloc'd; filename is NULL for a container. */
typedef struct {
  char *folder;    /* absolute folder holding the file (or the container) */
  char *container; /* name of the .spy folder, or NULL */
  char *filename;  /* data file name, or NULL */
  char *basename;
  char *tag;
  char *ext;
} fileinfo;

static void fileinfo_free(fileinfo *fi)
{
  free(fi->folder);
  free(fi->container);
  free(fi->filename);
  free(fi->basename);
  free(fi->tag);
  free(fi->ext);
  memset(fi, 0, sizeof *fi);
}

static int oom(spy_err *err) { return spy_fail(err, SPY_ENOMEM, "out of memory"); }

static int parse_filename(const char *path, fileinfo *fi, spy_err *err)
{
  memset(fi, 0, sizeof *fi);
  char *abs = abspath(path), *name = NULL;
  if (!abs) return oom(err);
  char *slash = strrchr(abs, '/');
  name = strdup(slash + 1);
  *slash = '\0';
  fi->folder = strdup(abs[0] ? abs : "/");
  const char *cont = strrchr(fi->folder ? fi->folder : "", '/');
  cont = cont ? cont + 1 : "";
  char *container = strdup(cont);
  free(abs);
  if (!name || !fi->folder || !container) {
    free(name);
    free(container);
    fileinfo_free(fi);
    return oom(err);
  }
  int rc = SPY_OK;
  const char *e = ext_of(name);
  size_t dots = count_char(name, '.');
  if (dots > 2) {
    char legal[64];
    snprintf(legal, sizeof legal, "single extension, found %zu", dots);
    rc = spy_fail_value(err, "filename", name, "%s", legal);
    goto exit;
  }
  if (e && strcmp(e, ".spy") == 0) {
    size_t bdots = count_char(name, '.') - 1;
    if (bdots > 0) {
      char *base = strndup(name, (size_t)(e - name));
      rc = spy_fail_value(err, "container", base ? base : name, "no extension, found %zu", bdots);
      free(base);
      goto exit;
    }
    fi->container = name;
    fi->basename = strndup(name, (size_t)(e - name));
    fi->ext = strdup(e);
    name = NULL;
    if (!fi->basename || !fi->ext) rc = oom(err);
    goto exit;
  }
  if (e && strcmp(e, ".info") == 0) {
    name[e - name] = '\0';
    e = ext_of(name);
  }
  if (!e || !is_data_ext(e)) {
    rc = spy_fail_value(err, "filename extension", e ? e : "",
                        "('.analog', '.spectral', '.crossspectral', '.timelock', '.spike', '.event')");
    goto exit;
  }
  fi->ext = strdup(e);
  fi->basename = strndup(name, (size_t)(e - name));
  if (!fi->ext || !fi->basename) {
    rc = oom(err);
    goto exit;
  }
  const char *cext = ext_of(container);
  if (cext && strcmp(cext, ".spy") == 0) {
    size_t nb = (size_t)(cext - container);
    if (strncmp(fi->basename, container, nb) != 0) {
      container[nb] = '\0';
      rc = spy_fail_value(err, "start of filename", name, "%s", container);
      goto exit;
    }
    const char *tag = fi->basename + nb;
    if (*tag == '_') tag++;
    if (*tag && !(fi->tag = strdup(tag))) {
      rc = oom(err);
      goto exit;
    }
    fi->basename[nb] = '\0';
    fi->container = container;
    container = NULL;
  }
  fi->filename = name;
  name = NULL;
exit:
  free(name);
  free(container);
  if (rc != SPY_OK) fileinfo_free(fi);
  return rc;
}

/* ---- names ----------------------------------------------------------------- */

/* Longest tag or container base name accepted (file names stay below NAME_MAX
** with the extension, the `_` and the hidden temporary's decoration). */
#define NAME_LIMIT 128

/*
** A tag (save) or container base name: letters, digits, `_` and `-`, not
** empty, at most NAME_LIMIT bytes.  Everything else is refused before a path
** is built: `/` and `..` would write outside the container, a `.` breaks
** Syncopy's filename_parser (one extension only), glob characters make the
** loader's `*<tag>*` patterns match other objects, and control characters
** (newlines) corrupt listings and logs.
*/
int spy_check_name(const char *key, const char *s, spy_err *err)
{
  size_t n = strlen(s);
  bool ok = n > 0 && n <= NAME_LIMIT;
  for (size_t i = 0; ok && i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
  }
  if (ok) return SPY_OK;
  char shown[64];
  size_t k = 0;
  for (size_t i = 0; s[i] && k + 5 < sizeof shown; i++) {
    unsigned char c = (unsigned char)s[i];
    k += (size_t)snprintf(shown + k, sizeof shown - k, c < 0x20 || c == 0x7f ? "\\x%02x" : "%c", c);
  }
  if (s[0] && k + 5 >= sizeof shown) snprintf(shown + k, sizeof shown - k, "...");
  return spy_fail_value(err, key, shown,
                        "a non-empty name of at most %d letters, digits, '_' or '-'", NAME_LIMIT);
}

/* A load pattern: any name characters plus glob characters, no path. */
static int check_pattern(const char *s, spy_err *err)
{
  for (const char *c = s; *c; c++)
    if (*c == '/' || (unsigned char)*c < 0x20 || *c == 0x7f || strlen(s) > NAME_LIMIT)
      return spy_fail_value(err, "tag", s,
                            "a name or glob pattern of at most %d characters without '/' or "
                            "control characters",
                            NAME_LIMIT);
  return SPY_OK;
}

/* ---- save ------------------------------------------------------------------ */

/* Refuses objects whose metadata disagree with their data: a container
** written from them could not be loaded. */
static int check_saveable(const spy_data *d, spy_err *err)
{
  if (!d->path || d->ndim < 1) return spy_fail_value(err, "out", "empty", "non-empty");
  const size_t *sh = d->shape;
  size_t nd = (size_t)d->ndim;
  if ((int)nd != spy_dataclass_ndim(d->cls))
    return spy_fail(err, SPY_EINVAL, "%s with %d dimensions cannot be saved (expected %d)",
                    spy_dataclass_name(d->cls), d->ndim, spy_dataclass_ndim(d->cls));
  typedef struct {
    size_t have, want;
    const char *name;
  } axis_labels;
  axis_labels labels[3] = {{d->nchannel, sh[nd - 1], "channel"}, {0, 0, NULL}, {0, 0, NULL}};
  if (spy_dataclass_discrete(d->cls)) {
    labels[0] = (axis_labels){0, 0, NULL}; /* labels follow the distinct indices */
  } else if (d->cls == SPY_SPECTRAL) {
    labels[1] = (axis_labels){d->ntaper, sh[1], "taper"};
    labels[2] = (axis_labels){d->nfreq, sh[2], "freq"};
  } else if (d->cls == SPY_CROSSSPECTRAL) {
    labels[0] = (axis_labels){d->nchannel, sh[2], "channel_i"};
    labels[1] = (axis_labels){d->nchannel_j, sh[3], "channel_j"};
    labels[2] = (axis_labels){d->nfreq, sh[1], "freq"};
  }
  for (int i = 0; i < 3; i++)
    if (labels[i].name && labels[i].have != labels[i].want) {
      char actual[64];
      snprintf(actual, sizeof actual, "shape = (%zu,)", labels[i].have);
      return spy_fail_value(err, labels[i].name, actual, "array of shape (%zu,)", labels[i].want);
    }
  for (size_t k = 0; k < d->ntrials; k++) {
    const double *r = d->trldef + k * d->trlcols;
    if (!(r[0] >= 0 && r[0] <= r[1] && (spy_dataclass_discrete(d->cls) || r[1] <= (double)sh[0])))
      return spy_fail(err, SPY_EINVAL, "trial %zu [%g, %g) lies outside the %zu rows of the data", k,
                      r[0], r[1], sh[0]);
  }
  return SPY_OK;
}

/* Copies `data` of d into dataset ds in blocks of rows (at most
** COPY_BLOCK_BYTES, at least one row), reading through d's own handle. */
static int copy_data(spy_data *d, hid_t ds, spy_err *err)
{
  size_t rowelems = spy_data_row_elems(d), es = spy_dtype_size(d->dtype);
  size_t lastdim = d->shape[d->ndim - 1];
  if (d->shape[0] == 0 || rowelems == 0) return SPY_OK;
  size_t rows = COPY_BLOCK_BYTES / (rowelems * es);
  if (rows == 0) rows = 1;
  if (rows > d->shape[0]) rows = d->shape[0];
  void *buf = malloc(rows * rowelems * es);
  if (!buf) return spy_fail(err, SPY_ENOMEM, "out of memory copying %zu rows", rows);
  int rc = SPY_OK;
  hid_t ty = spy_h5_type(d->dtype);
  for (size_t r0 = 0; r0 < d->shape[0] && rc == SPY_OK; r0 += rows) {
    size_t nr = d->shape[0] - r0 < rows ? d->shape[0] - r0 : rows;
    if (spy_interrupted()) {
      rc = spy_fail(err, SPY_EINTR, "interrupted while saving");
      break;
    }
    if ((rc = spy_data_read(d, r0, nr, NULL, lastdim, buf, d->dtype, err)) != SPY_OK) break;
    spy_h5_lock();
    hid_t fs = H5Dget_space(ds);
    hsize_t start[4] = {r0, 0, 0, 0}, count[4];
    count[0] = nr;
    for (int i = 1; i < d->ndim; i++) count[i] = d->shape[i];
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
    hid_t ms = H5Screate_simple(d->ndim, count, NULL);
    if (H5Dwrite(ds, ty, ms, fs, H5P_DEFAULT, buf) < 0)
      rc = spy_h5_fail(err, SPY_EIO, "cannot write rows %zu..%zu", r0, r0 + nr);
    spy_h5_close_space(ms);
    spy_h5_close_space(fs);
    spy_h5_unlock();
  }
  spy_h5_lock();
  spy_h5_close_type(ty);
  spy_h5_unlock();
  free(buf);
  return rc;
}

/* Writes the HDF5 file of d at tmp (created exclusively): `data` contiguous
** as h5py writes it (no filters, no timestamps), then trialdefinition and
** the attributes.  *offset is H5Dget_offset of `data`. */
static int write_hdf(spy_data *d, const char *tmp, const char *listing, spy_info_hdr *h,
                     spy_err *err)
{
  int rc = SPY_OK;
  hid_t f = H5I_INVALID_HID, sp = H5I_INVALID_HID, ty = H5I_INVALID_HID;
  hid_t dcpl = H5I_INVALID_HID, ds = H5I_INVALID_HID;
  hsize_t dims[4];
  for (int i = 0; i < d->ndim; i++) dims[i] = d->shape[i];
  spy_h5_lock();
  f = H5Fcreate(tmp, H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT);
  if (f < 0) {
    rc = spy_h5_fail(err, SPY_EIO, "Cannot write %s", tmp);
    goto exit;
  }
  sp = H5Screate_simple(d->ndim, dims, NULL);
  ty = spy_h5_type(d->dtype);
  dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_layout(dcpl, H5D_CONTIGUOUS);
  H5Pset_obj_track_times(dcpl, 0);
  ds = H5Dcreate2(f, "data", ty, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  if (ds < 0) {
    rc = spy_h5_fail(err, SPY_EIO, "cannot create dataset `data` in %s", tmp);
    goto exit;
  }
  spy_h5_unlock();
  rc = copy_data(d, ds, err);
  if (rc == SPY_OK) rc = spy_data_copy_extras(d, f, err);
  if (rc == SPY_OK) rc = fault("data", err);
  if (rc == SPY_OK) rc = spy_data_write_meta(d, f, listing, err);
  if (rc == SPY_OK) rc = fault("meta", err);
  spy_h5_lock();
  if (rc != SPY_OK) goto exit;
  haddr_t a = H5Dget_offset(ds);
  h->has_data_offset = a != HADDR_UNDEF;
  h->data_offset = h->has_data_offset ? (uint64_t)a : 0;
  H5Eclear2(H5E_DEFAULT);
exit:
  spy_h5_close_dset(ds);
  spy_h5_close_plist(dcpl);
  spy_h5_close_type(ty);
  spy_h5_close_space(sp);
  if (f >= 0 && H5Fclose(f) < 0 && rc == SPY_OK) rc = spy_h5_fail(err, SPY_EIO, "cannot close %s", tmp);
  spy_h5_unlock();
  return rc;
}

static int write_text(const char *path, const char *text, spy_err *err)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return spy_fail(err, SPY_EIO, "Cannot write %s: %s", path, strerror(errno));
  size_t n = strlen(text);
  const char *p = text;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      int e = errno;
      close(fd);
      return spy_fail(err, SPY_EIO, "Cannot write %s: %s", path, strerror(e));
    }
    p += w;
    n -= (size_t)w;
  }
  if (fsync(fd) != 0 || close(fd) != 0)
    return spy_fail(err, SPY_EIO, "Cannot write %s: %s", path, strerror(errno));
  return SPY_OK;
}

static int sync_file(const char *path, spy_err *err)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fsync(fd) != 0) {
    int e = errno;
    if (fd >= 0) close(fd);
    return spy_fail(err, SPY_EIO, "Cannot write %s: %s", path, strerror(e));
  }
  close(fd);
  return SPY_OK;
}

static void sync_dir(const char *dir)
{
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
}

static char *temp_name(const char *folder, const char *name)
{
  unsigned char r[4] = {0};
  spy_random_bytes(r, sizeof r);
  char suffix[32];
  snprintf(suffix, sizeof suffix, ".%02x%02x%02x%02x.tmp", r[0], r[1], r[2], r[3]);
  char *dot = str_cat(".", name, suffix);
  char *p = dot ? path_join(folder, dot) : NULL;
  free(dot);
  return p;
}

/*
** The save journal: <SPYTMPDIR>/spy_<session>_<hex>.saving names the
** temporaries a save writes into the destination folder (NUL-separated), from
** before they exist until they are renamed or removed.  A session killed in
** between leaves it behind with its session's other entries, and
** spy.cleanup() removes the listed temporaries of dead sessions (cleanup.c).
** Best effort: without temporary storage a save still works, unjournaled.
*/
static char *journal_start(const char *tmp_hdf, const char *tmp_info)
{
  char path[4200];
  if (spy_tmp_path(path, sizeof path, ".saving") != SPY_OK) return NULL;
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return NULL;
  size_t a = strlen(tmp_hdf) + 1, b = strlen(tmp_info) + 1;
  bool ok = write(fd, tmp_hdf, a) == (ssize_t)a && write(fd, tmp_info, b) == (ssize_t)b;
  close(fd);
  if (!ok) {
    unlink(path);
    return NULL;
  }
  return strdup(path);
}

/*
** Moves the temporaries into place: data first, info last.  An existing
** data file is kept as a hard link until the info is in place, so a failed
** second rename can put it back.
*/
static int commit(const char *tmp_hdf, const char *hdf, const char *tmp_info, const char *info,
                  const char *folder, spy_err *err)
{
  char *backup = NULL;
  struct stat st;
  if (stat(hdf, &st) == 0) {
    backup = temp_name(folder, "backup");
    if (backup && link(hdf, backup) != 0) {
      free(backup);
      backup = NULL; /* no hard links here: no roll back of the data file */
    }
  }
  int rc = fault("rename-data", err);
  if (rc == SPY_OK && rename(tmp_hdf, hdf) != 0)
    rc = spy_fail(err, SPY_EIO, "Cannot write %s: %s", hdf, strerror(errno));
  if (rc == SPY_OK) {
    rc = fault("rename-info", err);
    if (rc == SPY_OK && rename(tmp_info, info) != 0)
      rc = spy_fail(err, SPY_EIO, "Cannot write %s: %s", info, strerror(errno));
    if (rc != SPY_OK) {
      if (backup) rename(backup, hdf);
      else unlink(hdf);
    }
  }
  if (backup) {
    unlink(backup);
    free(backup);
  }
  sync_dir(folder);
  return rc;
}

static int replace(char **dst, const char *src)
{
  char *s = src ? strdup(src) : NULL;
  if (src && !s) return SPY_ENOMEM;
  free(*dst);
  *dst = s;
  return SPY_OK;
}

int spy_save(spy_data *d, const spy_save_opts *o, spy_err *err)
{
  static const spy_save_opts none = {0};
  if (!o) o = &none;
  if (!o->filename && !o->container)
    return spy_fail(err, SPY_EINVAL, "filename and container cannot both be `None`");
  if (o->filename && o->container)
    return spy_fail(err, SPY_EINVAL, "container and filename cannot be used at the same time");

  int rc = SPY_OK;
  fileinfo fi = {0};
  char *filename = NULL, *hdf = NULL, *info = NULL, *tmp_hdf = NULL, *tmp_info = NULL;
  char *text = NULL, *old_log = NULL, *msg = NULL, *container = NULL, *journal = NULL;
  spy_info_hdr h = {0};
  const char *ext = spy_dataclass_ext(d->cls);

  if (o->container && o->tag && (rc = spy_check_name("tag", o->tag, err))) return rc;
  if (o->container) {
    const char *e = ext_of(o->container);
    char *c = (e && strcmp(e, ".spy") == 0) ? strdup(o->container) : str_cat(o->container, ".spy", NULL);
    if (!c) return oom(err);
    rc = parse_filename(c, &fi, err);
    free(c);
    if (!rc) rc = spy_check_name("container", fi.basename, err);
    if (rc) {
      fileinfo_free(&fi);
      return rc;
    }
    char *dir = path_join(fi.folder, fi.container);
    filename = dir ? path_join(dir, fi.basename) : NULL;
    free(dir);
    if (filename && o->tag) {
      char *t = str_cat(filename, "_", o->tag);
      free(filename);
      filename = t;
    }
    fileinfo_free(&fi);
  } else {
    filename = strdup(o->filename);
  }
  if (!filename) return oom(err);
  if (!ext_of(filename)) {
    char *t = str_cat(filename, ext, NULL);
    free(filename);
    if (!(filename = t)) return oom(err);
  }
  if ((rc = parse_filename(filename, &fi, err))) goto exit;
  if (strcmp(fi.ext, ext) != 0) {
    rc = spy_fail(err, SPY_EINVAL,
                  "Extension in filename ('%s') does not match data class (%s), expected '%s'.",
                  fi.ext, spy_dataclass_name(d->cls), ext);
    goto exit;
  }
  if (!fi.filename) {
    rc = spy_fail(err, SPY_EINVAL, "Extension in filename ('.spy') does not match data class (%s), expected '%s'.",
                  spy_dataclass_name(d->cls), ext);
    goto exit;
  }
  hdf = path_join(fi.folder, fi.filename);
  info = hdf ? str_cat(hdf, ".info", NULL) : NULL;
  tmp_hdf = temp_name(fi.folder, fi.filename);
  tmp_info = hdf ? temp_name(fi.folder, strrchr(info, '/') + 1) : NULL;
  if (!hdf || !info || !tmp_hdf || !tmp_info) {
    rc = oom(err);
    goto exit;
  }
  if ((rc = check_saveable(d, err))) goto exit;
  journal = journal_start(tmp_hdf, tmp_info);

  struct stat st;
  if (stat(fi.folder, &st) != 0) {
    if ((rc = spy_mkdirs(fi.folder, err))) goto exit;
  } else if (stat(hdf, &st) == 0) {
    if (!S_ISREG(st.st_mode)) {
      rc = spy_fail(err, SPY_EIO, "Cannot access %s", hdf);
      goto exit;
    }
    if (!o->overwrite) {
      rc = spy_fail(err, SPY_EEXIST, "Cannot write %s: object already exists (overwrite=true replaces it)", hdf);
      goto exit;
    }
  }

  /* The history entry goes into `_log` of both files; undone on failure. */
  old_log = strdup(d->log);
  msg = str_cat("Wrote files ", hdf, "\n\t\t\t  ");
  char *full = msg ? str_cat(msg, info, NULL) : NULL;
  free(msg);
  msg = full;
  if (!old_log || !msg || spy_data_log(d, "save", msg) != SPY_OK) {
    rc = oom(err);
    goto exit;
  }
  h.filename = fi.filename;
  h.trl_shape[0] = d->ntrials;
  h.trl_shape[1] = d->trlcols ? d->trlcols : 3;
  char *listing = path_join(fi.container ? fi.container : "", fi.filename);
  rc = listing ? write_hdf(d, tmp_hdf, listing, &h, err) : oom(err);
  free(listing);
  if (rc) goto exit;
  if ((rc = sync_file(tmp_hdf, err))) goto exit;
  char sha[SPY_SHA1_HEXLEN + 1];
  if ((rc = spy_sha1_file(tmp_hdf, sha, err)) || (rc = fault("checksum", err))) goto exit;
  h.checksum = sha;
  text = spy_info_format(d, &h);
  h.checksum = NULL;
  h.filename = NULL;
  if (!text) {
    rc = oom(err);
    goto exit;
  }
  if ((rc = write_text(tmp_info, text, err)) || (rc = fault("info", err))) goto exit;
  if ((rc = commit(tmp_hdf, hdf, tmp_info, info, fi.folder, err))) goto exit;

  /* Saved: the object now lives in the container (Syncopy's out.data = dataFile). */
  if (fi.container && !(container = strdup(fi.folder))) {
    rc = oom(err);
    goto exit;
  }
  spy_h5_lock();
  spy_h5_close_dset(d->dset);
  spy_h5_close_file(d->file);
  d->dset = d->file = H5I_INVALID_HID;
  if (d->temporary && d->path && strcmp(d->path, hdf) != 0) unlink(d->path);
  free(d->path);
  d->path = hdf;
  hdf = NULL;
  d->temporary = false;
  /* Read-only from now on, like a loaded object: writing into a container
  ** file would invalidate its checksum, and libhdf5 cannot reopen a file
  ** read-write while a loaded copy holds it open read-only. */
  d->writable = false;
  free(d->container);
  d->container = container;
  container = NULL;
  replace(&d->tag, fi.tag);
  spy_h5_unlock();
exit:
  if (rc != SPY_OK) {
    if (tmp_hdf) unlink(tmp_hdf);
    if (tmp_info) unlink(tmp_info);
    if (old_log) {
      free(d->log);
      d->log = old_log;
      old_log = NULL;
    }
  }
  if (journal) unlink(journal);
  free(journal);
  free(old_log);
  free(msg);
  free(text);
  free(container);
  free(filename);
  free(hdf);
  free(info);
  free(tmp_hdf);
  free(tmp_info);
  fileinfo_free(&fi);
  return rc;
}

int spy_save_method(spy_data *d, const spy_save_opts *o, spy_err *err)
{
  spy_save_opts opts = o ? *o : (spy_save_opts){0};
  if (!opts.container && !opts.filename) {
    if (!d->container) {
      if (!opts.tag)
        return spy_fail(err, SPY_EINVAL,
                        "Cannot create spy container in temporary storage %s - please provide "
                        "explicit path. ",
                        spy_tmpdir());
      return spy_fail(err, SPY_EINVAL,
                      "Object is not associated to an existing spy container - please save "
                      "object first using an explicit path. ");
    }
    if (!opts.tag) {
      opts.overwrite = true;
      opts.filename = d->path;
    } else {
      opts.container = d->container;
    }
  }
  return spy_save(d, &opts, err);
}

/* ---- load ------------------------------------------------------------------ */

static void shape_text(char *buf, size_t n, int nd, const size_t *sh)
{
  int k = snprintf(buf, n, "(");
  for (int i = 0; i < nd && (size_t)k < n; i++)
    k += snprintf(buf + k, n - (size_t)k, "%s%zu", i ? ", " : "", sh[i]);
  if ((size_t)k < n) snprintf(buf + k, n - (size_t)k, nd == 1 ? ",)" : ")");
}

/* A plain IEEE float, or an integer of 1-8 bytes using all its bits.  A
** damaged type message can claim any size (libhdf5 1.10 then overruns its
** own buffers when reading), so nothing else is read. */
static bool plain_number(hid_t t)
{
  H5T_class_t c = H5Tget_class(t);
  size_t sz = H5Tget_size(t);
  if (c == H5T_FLOAT)
    return H5Tequal(t, H5T_IEEE_F32LE) > 0 || H5Tequal(t, H5T_IEEE_F64LE) > 0 ||
           H5Tequal(t, H5T_IEEE_F32BE) > 0 || H5Tequal(t, H5T_IEEE_F64BE) > 0;
  if (c == H5T_INTEGER)
    return (sz == 1 || sz == 2 || sz == 4 || sz == 8) && H5Tget_precision(t) == 8 * sz &&
           H5Tget_offset(t) == 0;
  return false;
}

/* A plain number, or h5py's complex: a compound {r, i} of two equal floats. */
static bool plain_type(hid_t t)
{
  if (H5Tget_class(t) != H5T_COMPOUND) return plain_number(t);
  if (H5Tget_nmembers(t) != 2) return false;
  hid_t r = H5Tget_member_type(t, 0), i = H5Tget_member_type(t, 1);
  size_t rs = r >= 0 ? H5Tget_size(r) : 0;
  bool ok = r >= 0 && i >= 0 && H5Tget_class(r) == H5T_FLOAT && plain_number(r) &&
            H5Tequal(r, i) > 0 && H5Tget_member_offset(t, 0) == 0 &&
            H5Tget_member_offset(t, 1) == rs && H5Tget_size(t) == 2 * rs;
  spy_h5_close_type(r);
  spy_h5_close_type(i);
  return ok;
}

/* A TimeLockData file whose .info gives the dtype and shape of its `var`
** or `cov` dataset (Syncopy's data_shape quirk, syncopy.md 9.3). */
static bool timelock_quirk(hid_t f, const spy_info_hdr *h)
{
  static const char *const names[] = {"var", "cov", NULL};
  bool match = false;
  for (int i = 0; names[i] && !match; i++) {
    if (H5Lexists(f, names[i], H5P_DEFAULT) <= 0) continue;
    hid_t ds = H5Dopen2(f, names[i], H5P_DEFAULT), sp = ds >= 0 ? H5Dget_space(ds) : H5I_INVALID_HID;
    hsize_t dims[2];
    if (sp >= 0 && H5Sget_simple_extent_ndims(sp) == 2 && h->data_ndim == 2) {
      H5Sget_simple_extent_dims(sp, dims, NULL);
      match = dims[0] == h->data_shape[0] && dims[1] == h->data_shape[1];
    }
    spy_h5_close_space(sp);
    spy_h5_close_dset(ds);
  }
  H5Eclear2(H5E_DEFAULT);
  return match;
}

/* Whether the .info's data_dtype/data_shape describe dataset `waveform`. */
static bool spike_quirk(hid_t f, const spy_info_hdr *h)
{
  bool match = false;
  if (H5Lexists(f, "waveform", H5P_DEFAULT) > 0) {
    hid_t ds = H5Dopen2(f, "waveform", H5P_DEFAULT), sp = ds >= 0 ? H5Dget_space(ds) : H5I_INVALID_HID;
    hid_t ty = ds >= 0 ? H5Dget_type(ds) : H5I_INVALID_HID;
    int nd = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    hsize_t dims[4];
    spy_dtype t;
    if (nd == h->data_ndim && nd >= 2 && nd <= 4 && ty >= 0 && spy_h5_dtype_of(ty, &t) == SPY_OK &&
        t == h->data_dtype) {
      H5Sget_simple_extent_dims(sp, dims, NULL);
      match = true;
      for (int i = 0; i < nd; i++) match = match && dims[i] == h->data_shape[i];
    }
    spy_h5_close_type(ty);
    spy_h5_close_space(sp);
    spy_h5_close_dset(ds);
  }
  H5Eclear2(H5E_DEFAULT);
  return match;
}

/* Opens the HDF5 file and checks it against the .info header: `data` of
** the stated dtype and shape, a 2-D trialdefinition of trl_shape whose rows
** lie inside the data.  On success d->trldef is set. */
static int check_hdf(const char *hdf, const char *json, const spy_info_hdr *h, spy_data *d,
                     spy_err *err)
{
  int rc = SPY_OK;
  hid_t f = H5I_INVALID_HID, ds = H5I_INVALID_HID, sp = H5I_INVALID_HID, ty = H5I_INVALID_HID;
  double *trl = NULL;
  char have[128], want[128];
  spy_h5_lock();
  f = H5Fopen(hdf, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) {
    rc = spy_h5_fail(err, SPY_EFORMAT, "Cannot read %s: not an HDF5 file or damaged", hdf);
    goto exit;
  }
  if ((rc = spy_h5_open_local(f, "data", hdf, &ds, err))) {
    if (rc == SPY_ENOENT)
      rc = spy_fail(err, SPY_EFORMAT, "Data file %s does not contain a dataset named 'data'.", hdf);
    goto exit;
  }
  sp = H5Dget_space(ds);
  ty = H5Dget_type(ds);
  hsize_t dims[8];
  int nd = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
  spy_dtype t;
  size_t sh[8];
  if (nd < 0 || nd > 8 || ty < 0 || !plain_type(ty) || spy_h5_dtype_of(ty, &t) != SPY_OK) {
    H5Eclear2(H5E_DEFAULT);
    rc = spy_fail(err, SPY_EFORMAT, "Data file %s: dataset 'data' has an unsupported type or shape",
                  hdf);
    goto exit;
  }
  H5Sget_simple_extent_dims(sp, dims, NULL);
  bool same = nd == h->data_ndim && t == h->data_dtype;
  for (int i = 0; i < nd; i++) {
    sh[i] = dims[i];
    same = same && i < 4 && sh[i] == h->data_shape[i];
  }
  size_t nrows = h->data_shape[0];
  if (!same && d->cls == SPY_TIMELOCK && nd == 2 && t == h->data_dtype && timelock_quirk(f, h)) {
    /* Syncopy describes the last dataset it wrote (var or cov), not `data` */
    same = true;
    nrows = sh[0];
    d->shape[0] = sh[0];
    d->shape[1] = sh[1];
  }
  if (!same && d->cls == SPY_SPIKE && nd == 2 && spike_quirk(f, h)) {
    /* Syncopy describes the waveform (its last dataset written), not `data` */
    same = true;
    nrows = sh[0];
    d->ndim = 2;
    d->dtype = t;
    d->shape[0] = sh[0];
    d->shape[1] = sh[1];
  }
  if (!same) {
    shape_text(have, sizeof have, nd, sh);
    shape_text(want, sizeof want, h->data_ndim, h->data_shape);
    rc = spy_fail(err, SPY_EFORMAT,
                  "Data file %s does not match %s: dataset 'data' is %s %s, the info file says %s %s",
                  hdf, json, spy_dtype_name(t), have, spy_dtype_name(h->data_dtype), want);
    goto exit;
  }
  size_t bytes = spy_dtype_size(t);
  for (int i = 0; i < nd; i++)
    if (__builtin_mul_overflow(bytes, sh[i], &bytes) || bytes > ((size_t)1 << 62)) {
      rc = spy_fail(err, SPY_EFORMAT, "Data file %s: dataset 'data' is impossibly large", hdf);
      goto exit;
    }
  if (!spy_h5_backed(ds, bytes)) {
    rc = spy_fail(err, SPY_EFORMAT,
                  "Data file %s: dataset 'data' announces %zu bytes but the file does not hold "
                  "them",
                  hdf, bytes);
    goto exit;
  }
  spy_h5_close_type(ty);
  spy_h5_close_space(sp);
  spy_h5_close_dset(ds);
  ty = sp = ds = H5I_INVALID_HID;

  if ((rc = spy_h5_open_local(f, "trialdefinition", hdf, &ds, err))) {
    if (rc == SPY_ENOENT)
      rc = spy_fail(err, SPY_EFORMAT,
                    "Data file %s does not contain a dataset named 'trialdefinition'.", hdf);
    goto exit;
  }
  sp = H5Dget_space(ds);
  ty = H5Dget_type(ds);
  H5T_class_t tc = ty >= 0 ? H5Tget_class(ty) : H5T_NO_CLASS;
  nd = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
  if (nd != 2 || (tc != H5T_INTEGER && tc != H5T_FLOAT) || !plain_number(ty)) {
    H5Eclear2(H5E_DEFAULT);
    rc = spy_fail(err, SPY_EFORMAT,
                  "Data file %s: dataset 'trialdefinition' must be a 2-D numeric array", hdf);
    goto exit;
  }
  H5Sget_simple_extent_dims(sp, dims, NULL);
  size_t trl_sh[2] = {dims[0], dims[1]};
  if (trl_sh[0] != h->trl_shape[0] || trl_sh[1] != h->trl_shape[1]) {
    shape_text(have, sizeof have, 2, trl_sh);
    shape_text(want, sizeof want, 2, h->trl_shape);
    rc = spy_fail(err, SPY_EFORMAT,
                  "Data file %s does not match %s: dataset 'trialdefinition' has shape %s, the "
                  "info file says %s",
                  hdf, json, have, want);
    goto exit;
  }
  size_t n = trl_sh[0] * trl_sh[1];
  if (trl_sh[1] < 3 || trl_sh[1] > 1024 || trl_sh[0] > ((size_t)1 << 26) || n > ((size_t)1 << 26) ||
      !spy_h5_backed(ds, n * H5Tget_size(ty))) {
    rc = spy_fail(err, SPY_EFORMAT, "Data file %s: dataset 'trialdefinition' of shape (%zu, %zu) is not a trial definition", hdf,
                  trl_sh[0], trl_sh[1]);
    goto exit;
  }
  trl = malloc((n ? n : 1) * sizeof *trl);
  if (!trl) {
    rc = oom(err);
    goto exit;
  }
  if (n && H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, trl) < 0) {
    rc = spy_h5_fail(err, SPY_EFORMAT, "Cannot read the trial definition of %s", hdf);
    goto exit;
  }
  for (size_t k = 0; k < trl_sh[0]; k++) {
    const double *r = trl + k * trl_sh[1];
    bool ok = true;
    for (int j = 0; j < 3; j++) ok = ok && isfinite(r[j]) && r[j] == floor(r[j]);
    /* discrete data: start/stop are samples, not rows */
    bool inside = spy_dataclass_discrete(d->cls) || r[1] <= (double)nrows;
    if (!ok || !(r[0] >= 0 && r[0] <= r[1] && inside)) {
      char actual[160];
      snprintf(actual, sizeof actual, "trial %zu: [%g, %g, %g]", k, r[0], r[1], r[2]);
      rc = spy_fail_value(err, "trialdefinition", actual,
                          "integer rows [start, stop, offset] with 0 <= start <= stop <= %zu (the "
                          "rows of `data` in %s)",
                          nrows, hdf);
      err->code = rc = SPY_EFORMAT;
      goto exit;
    }
  }
  if (spy_data_set_trldef(d, trl, trl_sh[0], trl_sh[1]) != SPY_OK) rc = oom(err);
exit:
  free(trl);
  spy_h5_close_type(ty);
  spy_h5_close_space(sp);
  spy_h5_close_dset(ds);
  spy_h5_close_file(f);
  spy_h5_unlock();
  return rc;
}

int spy_load_file(const char *path, bool checksum, spy_data **out, spy_err *err)
{
  *out = NULL;
  fileinfo fi;
  int rc = parse_filename(path, &fi, err);
  if (rc) return rc;
  spy_data *d = NULL;
  spy_info_hdr h = {0};
  char *msg = NULL, *container = NULL;
  char *hdf = fi.filename ? path_join(fi.folder, fi.filename) : NULL;
  char *json = hdf ? str_cat(hdf, ".info", NULL) : NULL;
  if (!fi.filename) {
    rc = spy_fail(err, SPY_EINVAL, "%s is a container, not a data file", path);
    goto exit;
  }
  if (!hdf || !json) {
    rc = oom(err);
    goto exit;
  }
  struct stat st;
  if (stat(hdf, &st) != 0) {
    rc = spy_fail(err, SPY_ENOENT, "Cannot read %s: object does not exist", hdf);
    goto exit;
  }
  if (!S_ISREG(st.st_mode)) {
    rc = spy_fail(err, SPY_EIO, "Invalid value of `hdfFile`: '%s'; expected file",
                  S_ISDIR(st.st_mode) ? "directory" : "not a regular file");
    goto exit;
  }
  if ((rc = spy_info_read(json, &d, &h, err))) goto exit;
  if (checksum) {
    char sha[SPY_SHA1_HEXLEN + 1], sha_open[SPY_SHA1_HEXLEN + 1];
    if ((rc = spy_sha1_file_open_variant(hdf, sha, sha_open, err))) goto exit;
    /* sha_open: the hash Syncopy records (it hashes while holding the file open "r+") */
    if (!h.checksum || (strcmp(sha, h.checksum) != 0 && strcmp(sha_open, h.checksum) != 0)) {
      rc = spy_fail(err, SPY_ECHECKSUM, "Invalid value of `%s`: 'hash = %s'; expected hash = %s",
                    fi.filename, sha, h.checksum ? h.checksum : "None");
      goto exit;
    }
  }
  if ((rc = check_hdf(hdf, json, &h, d, err))) goto exit;
  if ((rc = spy_data_open(d, hdf, false, err))) goto exit;
  if (fi.container && !(container = strdup(fi.folder))) {
    rc = oom(err);
    goto exit;
  }
  free(d->container);
  d->container = container;
  container = NULL;
  if (replace(&d->tag, fi.tag)) {
    rc = oom(err);
    goto exit;
  }
  /* "Read files v. <ver> <hdf>\n\t<spaces><json>", the spaces lining the
  ** json path up under the hdf path after "\tload: ". */
  size_t lead = strlen("Read files v. ") + strlen(d->version) + 1 + strlen("load") + 2;
  size_t need = 2 * lead + strlen(hdf) + strlen(json) + 8;
  if (!(msg = malloc(need))) {
    rc = oom(err);
    goto exit;
  }
  snprintf(msg, need, "Read files v. %s %s\n\t%*s%s", d->version, hdf, (int)lead, "", json);
  if (spy_data_log(d, "load", msg) != SPY_OK) {
    rc = oom(err);
    goto exit;
  }
  *out = d;
  d = NULL;
exit:
  spy_data_unref(d);
  spy_info_hdr_free(&h);
  free(msg);
  free(container);
  free(hdf);
  free(json);
  fileinfo_free(&fi);
  return rc;
}

void spy_loaded_free(spy_loaded *l)
{
  if (!l) return;
  for (size_t i = 0; i < l->n; i++) {
    spy_data_unref(l->objs[i]);
    free(l->names[i]);
  }
  free(l->objs);
  free(l->names);
  memset(l, 0, sizeof *l);
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Data file names in dir matching any "*<tag>*<ext>" (Python's glob: hidden
** files never match), grouped by extension as Syncopy lists them. */
static int list_container(const char *dir, const char *const *exts, size_t nexts,
                          const char *const *tags, size_t ntags, char ***names, size_t *n,
                          spy_err *err)
{
  *names = NULL;
  *n = 0;
  DIR *dp = opendir(dir);
  if (!dp) return SPY_OK; /* reported as "nothing found", as glob does */
  char **all = NULL, **res = NULL;
  size_t nall = 0, cap = 0, nres = 0;
  int rc = SPY_OK;
  for (struct dirent *e; (e = readdir(dp));) {
    if (e->d_name[0] == '.') continue;
    if (nall == cap) {
      cap = cap ? 2 * cap : 16;
      char **t = realloc(all, cap * sizeof *t);
      if (!t) {
        rc = oom(err);
        goto exit;
      }
      all = t;
    }
    if (!(all[nall] = strdup(e->d_name))) {
      rc = oom(err);
      goto exit;
    }
    nall++;
  }
  if (nall) qsort(all, nall, sizeof *all, cmp_str);
  res = calloc(nall ? nall : 1, sizeof *res);
  if (!res) {
    rc = oom(err);
    goto exit;
  }
  for (size_t x = 0; x < nexts; x++)
    for (size_t i = 0; i < nall; i++) {
      if (!all[i]) continue;
      bool hit = false;
      for (size_t t = 0; t < ntags && !hit; t++) {
        char *pat = str_cat(tags[t], exts[x], NULL);
        if (!pat) {
          rc = oom(err);
          goto exit;
        }
        hit = fnmatch(pat, all[i], FNM_PERIOD) == 0;
        free(pat);
      }
      if (hit) {
        res[nres++] = all[i];
        all[i] = NULL;
      }
    }
  *names = res;
  *n = nres;
  res = NULL;
exit:
  closedir(dp);
  for (size_t i = 0; i < nall; i++) free(all[i]);
  free(all);
  if (res) {
    for (size_t i = 0; i < nres; i++) free(res[i]);
    free(res);
  }
  return rc;
}

int spy_load(const char *path, const spy_load_opts *o, spy_loaded *out, spy_err *err)
{
  static const spy_load_opts none = {0};
  if (!o) o = &none;
  memset(out, 0, sizeof *out);
  int rc = SPY_OK;
  fileinfo fi = {0};
  char *p = NULL, *dir = NULL, **files = NULL, **tagpats = NULL;
  size_t nfiles = 0, ntags = o->tags ? o->ntags : 0;
  const char *exts[sizeof data_exts / sizeof *data_exts];
  size_t nexts = 0;

  char *abs = abspath(path);
  if (!abs) return oom(err);
  p = ext_of(abs) ? strdup(path) : str_cat(path, ".spy", NULL);
  free(abs);
  if (!p) return oom(err);
  if ((rc = parse_filename(p, &fi, err))) goto exit;
  if (ntags && fi.filename) {
    rc = spy_fail(err, SPY_EINVAL, "Only containers can be loaded with `tag` keyword!");
    goto exit;
  }
  for (size_t t = 0; t < ntags; t++)
    if (o->tags[t] && (rc = check_pattern(o->tags[t], err))) goto exit;
  if (o->dataclass && o->ndataclass) {
    char listing[512] = "[";
    for (size_t i = 0; i < o->ndataclass; i++) {
      const char *dc = o->dataclass[i] ? o->dataclass[i] : "";
      const char *e = dc[0] == '.' ? dc + 1 : dc;
      size_t k = strlen(listing);
      snprintf(listing + k, sizeof listing - k, "%s'.%s'", i ? ", " : "", e);
      for (int j = 0; data_exts[j]; j++) {
        bool dup = false;
        for (size_t m = 0; m < nexts; m++) dup = dup || exts[m] == data_exts[j];
        if (!dup && strcmp(data_exts[j] + 1, e) == 0) exts[nexts++] = data_exts[j];
      }
    }
    strncat(listing, "]", sizeof listing - strlen(listing) - 1);
    if (nexts == 0) {
      rc = spy_fail_value(err, "dataclass", listing,
                          "extension(s) '.analog' or '.spectral' or '.crossspectral' or '.timelock' or '.spike' or '.event' ");
      goto exit;
    }
  } else {
    for (int j = 0; data_exts[j]; j++) exts[nexts++] = data_exts[j];
  }

  if (fi.filename) {
    bool wanted = false;
    for (size_t m = 0; m < nexts; m++) wanted = wanted || strcmp(exts[m], fi.ext) == 0;
    if (!wanted) {
      char legal[256] = "extension ";
      for (size_t m = 0; m < nexts; m++) {
        size_t k = strlen(legal);
        snprintf(legal + k, sizeof legal - k, "%s'%s' ", m ? "or " : "", exts[m]);
      }
      rc = spy_fail_value(err, "filename", fi.filename, "%s", legal);
      goto exit;
    }
    spy_data *d;
    if ((rc = spy_load_file(p, o->checksum, &d, err))) goto exit;
    out->objs = malloc(sizeof *out->objs);
    out->names = malloc(sizeof *out->names);
    if (!out->objs || !out->names || !(out->names[0] = strdup(fi.filename))) {
      spy_data_unref(d);
      free(out->objs);
      free(out->names);
      memset(out, 0, sizeof *out);
      rc = oom(err);
      goto exit;
    }
    out->objs[0] = d;
    out->n = 1;
    out->single = true;
    goto exit;
  }

  /* A container: "*<tag>*<ext>" for every tag and extension. */
  tagpats = calloc(ntags ? ntags : 1, sizeof *tagpats);
  if (!tagpats) {
    rc = oom(err);
    goto exit;
  }
  for (size_t t = 0; t < ntags; t++)
    if (!(tagpats[t] = str_cat("*", o->tags[t] ? o->tags[t] : "", "*"))) {
      rc = oom(err);
      goto exit;
    }
  if (!ntags && !(tagpats[0] = strdup("*"))) {
    rc = oom(err);
    goto exit;
  }
  size_t npat = ntags ? ntags : 1;
  if (!(dir = path_join(fi.folder, fi.container))) {
    rc = oom(err);
    goto exit;
  }
  if ((rc = list_container(dir, exts, nexts, (const char *const *)tagpats, npat, &files, &nfiles, err)))
    goto exit;
  if (nfiles == 0) {
    char what[1024] = "";
    for (size_t t = 0; t < npat; t++) {
      size_t k = strlen(what);
      snprintf(what + k, sizeof what - k, "%s%s ", t ? "or " : "", tagpats[t]);
    }
    strncat(what, "with extensions ", sizeof what - strlen(what) - 1);
    for (size_t m = 0; m < nexts; m++) {
      size_t k = strlen(what);
      snprintf(what + k, sizeof what - k, "%s%s ", m ? "or " : "", exts[m]);
    }
    rc = spy_fail(err, SPY_ENOENT, "Cannot read %s/%s: object does not exist", dir, what);
    goto exit;
  }
  out->objs = calloc(nfiles, sizeof *out->objs);
  out->names = calloc(nfiles, sizeof *out->names);
  if (!out->objs || !out->names) {
    free(out->objs);
    free(out->names);
    memset(out, 0, sizeof *out);
    rc = oom(err);
    goto exit;
  }
  out->single = nfiles == 1;
  for (size_t i = 0; i < nfiles; i++) {
    char *f = path_join(dir, files[i]);
    if (!f) {
      rc = oom(err);
      break;
    }
    rc = spy_load_file(f, o->checksum, &out->objs[out->n], err);
    free(f);
    if (rc) break;
    out->names[out->n++] = files[i];
    files[i] = NULL;
  }
  if (rc) spy_loaded_free(out);
exit:
  for (size_t i = 0; i < nfiles; i++) free(files[i]);
  free(files);
  if (tagpats)
    for (size_t t = 0; t < (ntags ? ntags : 1); t++) free(tagpats[t]);
  free(tagpats);
  free(dir);
  free(p);
  fileinfo_free(&fi);
  return rc;
}
