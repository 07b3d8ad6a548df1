/*
** Extra datasets of a backing file, next to `data` (syncopy.md 9.2):
** TimeLockData's `avg`, `var` and `cov`; CrossSpectralData's `jack_var` and
** `jack_bias` after jackknifing.  They are small (one trial, or
** channel x channel), so they are read and written whole.  Which names a
** class has is spy_dataclass_datasets(); an object may lack any of them
** (Syncopy's None).
**
** Ownership: spy_data_get_extra returns a new array the caller frees (NULL
** when the dataset is absent).  All calls take the io lock.
*/
#ifndef SPY_DATA_EXTRA_H
#define SPY_DATA_EXTRA_H

#include <hdf5.h>

#include "core/array.h"
#include "data/data.h"

/* Writes (or replaces) dataset `name` of d's writable backing file with a
** (contiguous layout, a's dtype). */
int spy_data_put_extra(spy_data *d, const char *name, const spy_array *a, spy_err *err);
/* Reads dataset `name`; *out = NULL when the file has none. */
int spy_data_get_extra(spy_data *d, const char *name, spy_array **out, spy_err *err);
/* Whether d's backing file has dataset `name`. */
bool spy_data_has_extra(spy_data *d, const char *name);
/* Copies every extra dataset of d's class that d has into the open file f
** (spy_save). */
int spy_data_copy_extras(spy_data *d, hid_t f, spy_err *err);

#endif
