/* Part files and small-file reading for the format modules (common.h). */
#include "io/formats/common.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *spy_errno_text(void)
{
  return strerror(errno);
}

int spy_part_begin(spy_part *p, const char *path, bool open, spy_err *err)
{
  memset(p, 0, sizeof *p);
  if (spy_data_file_in_use(path))
    return spy_fail(err, SPY_EINVAL,
                    "Cannot write '%s': it is the file of a data object of this session (its "
                    "data would be lost); expected another path",
                    path);
  size_t n = strlen(path) + 40;
  p->path = strdup(path);
  p->tmp = malloc(n);
  if (!p->path || !p->tmp) {
    spy_part_abort(p);
    return spy_fail(err, SPY_ENOMEM, "out of memory");
  }
  snprintf(p->tmp, n, "%s.part-%ld", path, (long)getpid());
  if (open) {
    p->f = fopen(p->tmp, "wb");
    if (!p->f) {
      int rc = spy_fail(err, SPY_EIO, "cannot write '%s': %s", path, strerror(errno));
      free(p->path);
      free(p->tmp);
      memset(p, 0, sizeof *p);
      return rc;
    }
  }
  return SPY_OK;
}

int spy_part_commit(spy_part *p, spy_err *err)
{
  int rc = SPY_OK;
  if (p->f) {
    bool bad = ferror(p->f) != 0;
    if (fclose(p->f) != 0 || bad)
      rc = spy_fail(err, SPY_EIO, "cannot write '%s': %s", p->path, strerror(errno ? errno : EIO));
    p->f = NULL;
  }
  if (rc == SPY_OK && rename(p->tmp, p->path) != 0)
    rc = spy_fail(err, SPY_EIO, "cannot write '%s': %s", p->path, strerror(errno));
  if (rc != SPY_OK) remove(p->tmp);
  free(p->path);
  free(p->tmp);
  memset(p, 0, sizeof *p);
  return rc;
}

void spy_part_abort(spy_part *p)
{
  if (p->f) fclose(p->f);
  if (p->tmp) remove(p->tmp);
  free(p->path);
  free(p->tmp);
  memset(p, 0, sizeof *p);
}

int spy_check_file(const char *path, spy_err *err)
{
  struct stat st;
  if (stat(path, &st) != 0)
    return spy_fail(err, errno == ENOENT ? SPY_ENOENT : SPY_EIO, "cannot open '%s': %s", path,
                    strerror(errno));
  if (S_ISDIR(st.st_mode))
    return spy_fail(err, SPY_EINVAL, "'%s' is a directory; expected a file", path);
  if (!S_ISREG(st.st_mode))
    return spy_fail(err, SPY_EINVAL,
                    "'%s' is not a regular file (a FIFO, socket or device); expected a file", path);
  return SPY_OK;
}

int spy_read_file(const char *path, size_t limit, char **out, size_t *n, spy_err *err)
{
  *out = NULL;
  *n = 0;
  int rc0 = spy_check_file(path, err);
  if (rc0) return rc0;
  FILE *f = fopen(path, "rb");
  if (!f)
    return spy_fail(err, errno == ENOENT ? SPY_ENOENT : SPY_EIO, "cannot open '%s': %s", path,
                    strerror(errno));
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap + 1);
  int rc = SPY_OK;
  while (buf) {
    size_t got = fread(buf + len, 1, cap - len, f);
    len += got;
    if (len < cap) break;
    if (cap >= limit) {
      rc = spy_fail(err, SPY_EFORMAT, "'%s' is larger than %zu bytes; is it the right file?", path,
                    limit);
      break;
    }
    cap *= 2;
    char *nb = realloc(buf, cap + 1);
    if (!nb) {
      free(buf);
      buf = NULL;
    } else
      buf = nb;
  }
  if (!buf)
    rc = spy_fail(err, SPY_ENOMEM, "out of memory");
  else if (rc == SPY_OK && ferror(f))
    rc = spy_fail(err, SPY_EIO, "cannot read '%s': %s", path, strerror(errno));
  fclose(f);
  if (rc != SPY_OK) {
    free(buf);
    return rc;
  }
  buf[len] = 0;
  *out = buf;
  *n = len;
  return SPY_OK;
}

void spy_warn_append(char **w, const char *fmt, ...)
{
  if (!w) return;
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  size_t old = *w ? strlen(*w) : 0;
  char *n = realloc(*w, old + strlen(line) + 2);
  if (!n) return;
  if (old) n[old++] = '\n';
  strcpy(n + old, line);
  *w = n;
}

void spy_objset_clear(spy_objset *s)
{
  for (size_t i = 0; s->objs && i < s->n; i++)
    spy_data_unref(s->objs[i]);
  spy_strv_free(s->names, s->n);
  free(s->objs);
  free(s->warnings);
  memset(s, 0, sizeof *s);
}
