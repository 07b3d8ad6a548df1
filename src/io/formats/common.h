/*
** Shared by the format readers and writers in src/io/formats.
**
** Part files: a writer creates "<path>.part-<pid>" (spy_part_begin), writes
** it, and spy_part_commit renames it onto path; spy_part_abort removes it.
** So a failed or interrupted write never leaves a half-written target and
** never damages an existing one.
**
** Readers: spy_read_file reads a whole small file (headers, markers) into
** memory with a size limit, and names the file in every error.
*/
#ifndef SPY_FORMATS_COMMON_H
#define SPY_FORMATS_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/err.h"
#include "data/data.h"

typedef struct spy_part {
  char *path; /* the target */
  char *tmp;  /* the part file */
  FILE *f;    /* open for writing (NULL when the caller writes by name) */
} spy_part;

/* Picks the part name; opens it with fopen("wb") when open is true. */
int spy_part_begin(spy_part *p, const char *path, bool open, spy_err *err);
/* Closes (when open) and renames into place; on failure removes the part. */
int spy_part_commit(spy_part *p, spy_err *err);
/* Closes and removes the part file; accepts a zeroed struct. */
void spy_part_abort(spy_part *p);

/* Whether path names a regular file (symlinks followed), before anything
** opens it: a directory fails with a message saying so, and a FIFO, socket
** or device is refused instead of blocking (open() of a FIFO waits for a
** writer) or being read forever. */
int spy_check_file(const char *path, spy_err *err);

/* The largest sample rate a reader accepts from a file header: the largest
** number a constructor's `samplerate` takes (SPY_KW_NUM_LIMIT, Hz). */
#define SPY_MAX_SAMPLERATE 1e15

/* Whole file into a NUL-terminated buffer (caller frees); files larger than
** limit bytes are refused. */
int spy_read_file(const char *path, size_t limit, char **out, size_t *n, spy_err *err);

/* What a multi-object reader returns: objects by name (file order) and the
** warnings to log.  Owned by the struct: spy_objset_clear frees what is
** left (objects taken by the caller are set to NULL first). */
typedef struct spy_objset {
  size_t n;
  char **names;
  spy_data **objs;
  char *warnings;  /* newline-separated, or NULL */
  char version[8]; /* the file's format version where one applies ("5.0", "7.3") */
} spy_objset;

void spy_objset_clear(spy_objset *s);

/* Appends one line to the newline-separated warnings *w (a NULL w is
** ignored; out of memory drops the line). */
void spy_warn_append(char **w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* errno text for messages */
const char *spy_errno_text(void);

#endif
