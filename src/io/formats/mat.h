/*
** MATLAB MAT files: FieldTrip raw structures in (spy.load_ft_raw), arrays
** and data objects out (spy.savemat).
**
** Reading.  MAT v5/v6/v7 (scipy.io.savemat, MATLAB's -v6/-v7) go through
** matio, which holds one structure in memory at a time (as Syncopy, which
** loads these files whole: mem_use must be >= 2000 MB).  MAT v7.3 files are
** HDF5: they are read with HDF5 directly (under the io lock), one trial at a
** time, so memory stays at about one trial whatever the file size.
** A FieldTrip raw structure needs `trial`, `time` and `label`; `fsample`,
** `trialinfo` and the fields named in include_fields are optional.  Each
** structure becomes one float32 AnalogData (as Syncopy) with trials stacked
** along time, offsets rint(time{k}(1) * fsample), trialinfo columns appended
** to the trial definition and the included fields in `info`.
** Where Syncopy is wrong spy decides (docs/internals/formats.md): a missing
** fsample is 1 / mean(diff(time{1})) (Syncopy stores the mean period); the
** v7.3 offsets are in samples (Syncopy stores seconds there); trials of
** unequal lengths load (Syncopy refuses them).
**
** Writing goes through matio (v5 uncompressed, v7 compressed, v7.3 HDF5 under
** the io lock) into a part file renamed into place (formats/common.h).
*/
#ifndef SPY_FORMATS_MAT_H
#define SPY_FORMATS_MAT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/array.h"
#include "core/err.h"
#include "data/data.h"
#include "io/formats/common.h"

typedef struct spy_ft_opts {
  const char *const *select; /* structure names to load, NULL: all */
  size_t nselect;
  const char *const *include; /* extra fields into info */
  size_t ninclude;
  double mem_use; /* MB */
} spy_ft_opts;

/* Structures found (names in file order) and, after loading, the objects. */
typedef spy_objset spy_ft_result;

/* Names of the FieldTrip raw structures (root structs with trial, time and
** label) in the file. */
int spy_ft_list(const char *path, spy_ft_result *r, spy_err *err);

int spy_load_ft_raw(const char *path, const spy_ft_opts *o, spy_ft_result *r, spy_err *err);

/* One variable to write: an array, or a data object (exactly one set). */
typedef struct spy_mat_var {
  const char *name;
  const spy_array *array;
  spy_data *data;
} spy_mat_var;

/* version: 5 (v5/v6, uncompressed), 7 (compressed), 73 (HDF5). */
int spy_savemat(const char *path, const spy_mat_var *vars, size_t n, int version, spy_err *err);

#endif
