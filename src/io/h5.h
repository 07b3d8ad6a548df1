/*
** HDF5 access rules (ARCHITECTURE invariant 5): every HDF5 call in spy goes
** through src/io and runs under one process-wide lock, taken with
** spy_h5_lock()/spy_h5_unlock() (recursive, so io functions may nest).
** HDF5's own error printing is switched off (in every thread that takes the
** lock: a thread-safe libhdf5 keeps the switch per thread); failures are translated at
** the boundary into spy_err messages with context (spy_h5_fail), never
** printed by the library.
**
** Handles are initialised to H5I_INVALID_HID (-1) and closed at one exit
** label (netcdf-c style); spy_h5_close* accept -1.
*/
#ifndef SPY_H5_H
#define SPY_H5_H

#include <hdf5.h>
#include <stdbool.h>

#include "core/array.h"
#include "core/err.h"

void spy_h5_init(void);
void spy_h5_lock(void);
void spy_h5_unlock(void);

/* Fills err with "<context>: <innermost HDF5 message>" and returns code; a
** write that failed for lack of space reads "no space left on device in
** <dir> (<context>)", whatever HDF5 made of it. */
int spy_h5_fail(spy_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
** Opens dataset `name` of `loc` only when its data live in this file: the
** name is a hard link (soft and external links are refused, and no link on
** the way is followed into another file), the dataset has no external raw
** data files and is not virtual.  SPY_ENOENT (err untouched) when there is
** no such dataset, SPY_EFORMAT with a message naming `file` when it is kept
** elsewhere.  A crafted container cannot make spy read other files.
*/
int spy_h5_open_local(hid_t loc, const char *name, const char *file, hid_t *ds, spy_err *err);
/* The dataset checks of spy_h5_open_local on an open dataset (no external
** raw data files, not virtual). */
int spy_h5_check_local(hid_t ds, const char *name, const char *file, spy_err *err);
/* H5Fcreate of a file readable by its owner only (mode 0600, whatever the
** umask): temporary storage holds a session's data.  excl:
** fail when path exists (else it is truncated). */
hid_t spy_h5_create_private(const char *path, bool excl);

/* Does an unfiltered dataset really store `bytes` bytes?  A crafted header
** can announce any shape with no data behind it (libhdf5 then returns fill
** values); sizes are trusted only as far as the file backs them. */
bool spy_h5_backed(hid_t ds, size_t bytes);
/* Dataset/link access list that refuses to traverse external links. */
hid_t spy_h5_local_dapl(void);

void spy_h5_close_file(hid_t id);
void spy_h5_close_dset(hid_t id);
void spy_h5_close_space(hid_t id);
void spy_h5_close_type(hid_t id);
void spy_h5_close_attr(hid_t id);
void spy_h5_close_plist(hid_t id);

/* Native HDF5 type for a dtype (complex as the compound {r, i} h5py uses);
** the caller closes the returned type. */
hid_t spy_h5_type(spy_dtype t);
/* dtype of a dataset's file type; SPY_EFORMAT when unsupported. */
int spy_h5_dtype_of(hid_t ftype, spy_dtype *t);

#endif
