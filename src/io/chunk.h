/*
** Block files: one task's result as its own small HDF5 file, the way
** Syncopy's parallel store writes `<k>.h5` with a dataset "chk".  A remote
** worker writes the block of a task (rows x inner x channels) and closes the
** file before it reports the task done; the session reads it back and
** deletes it.  A file is written to "<path>.part" and renamed into place, so
** a reader never sees a half-written block.
**
** Every HDF5 call runs under the io lock (io/h5.h).
*/
#ifndef SPY_CHUNK_H
#define SPY_CHUNK_H

#include <stddef.h>

#include "core/array.h"
#include "core/err.h"

/* Writes buf (C order, dtype t, shape[0..ndim)) as dataset "chk" of a new
** file at path (replaced if it exists). */
int spy_chunk_write(const char *path, spy_dtype t, int ndim, const size_t *shape, const void *buf,
                    spy_err *err);

/* Reads dataset "chk" of path into buf as dtype t; its shape must equal
** shape[0..ndim) (SPY_EFORMAT otherwise, naming both shapes). */
int spy_chunk_read(const char *path, spy_dtype t, int ndim, const size_t *shape, void *buf,
                   spy_err *err);

#endif
