/*
** A result's metadata (Syncopy's out.metadata, e.g. FOOOF's fitted
** parameters) in its HDF5 file, in Syncopy's own encoding: group `metadata`
** whose attributes are named `<label>__<trial>_<chunk>`, one per entry
** of the nested dict {label: {label__t_c: value}}.  Values are numeric
** arrays (float64; `n_peaks` int32 as Syncopy's); per-channel lists of rows
** (`gaussian_params`, `peak_params`) are stacked row-wise as Syncopy's
** encode step does and split again by the matching `n_peaks` on reading.
** Syncopy reads the group with syncopy.shared.metadata.metadata_from_hdf5_file
** and ignores it when loading a container.
**
** Both functions take the io lock themselves.  spy_metadata_read sets *md
** to NULL when the file has no `metadata` group.
*/
#ifndef SPY_METADATA_H
#define SPY_METADATA_H

#include <cjson/cJSON.h>
#include <hdf5.h>

#include "core/err.h"

int spy_metadata_write(hid_t file, const cJSON *md, spy_err *err);
int spy_metadata_read(hid_t file, cJSON **md, spy_err *err);

#endif
