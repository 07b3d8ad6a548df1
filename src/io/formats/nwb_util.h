/*
** HDF5 helpers shared by the NWB reader/writer (nwb.c: ElectricalSeries;
** nwb_discrete.c: units and TTLs).  Internal to src/io/formats; every
** function expects the caller to hold the io lock.
**
** Writing: helpers return 0 or -1 (the HDF5 error stack says why; callers
** OR them together and translate once with spy_h5_fail).  Objects get the
** namespace / neurodata_type / object_id attributes of the NWB 2.x schema.
** Returned hids are the caller's to close.
**
** Reading: missing or ill-typed objects give NULL / defaults; the caller
** decides whether that is an error and words it.  Returned arrays are the
** caller's to free (strings with spy_strv_free).
*/
#ifndef SPY_FORMATS_NWB_UTIL_H
#define SPY_FORMATS_NWB_UTIL_H

#include <hdf5.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "data/data.h"

#define SPY_NWB_ELECTRODES "/general/extracellular_ephys/electrodes"

hid_t spy_nwb_vlstr(void);
int spy_nwb_attr_str(hid_t obj, const char *name, const char *v);
int spy_nwb_attr_strs(hid_t obj, const char *name, const char *const *v, size_t n);
int spy_nwb_attr_num(hid_t obj, const char *name, hid_t type, double v);
/* An object-reference attribute to the object at path. */
int spy_nwb_attr_ref(hid_t obj, const char *name, hid_t f, const char *path);
int spy_nwb_typed(hid_t obj, const char *ns, const char *type);
hid_t spy_nwb_group(hid_t parent, const char *name);
/* A 1-d dataset of n values; returned open, or -1. */
hid_t spy_nwb_ds_1d(hid_t g, const char *name, hid_t ftype, hid_t mtype, const void *v, size_t n);
/* A VectorData column of a DynamicTable. */
int spy_nwb_column(hid_t g, const char *name, const char *desc, hid_t ftype, hid_t mtype,
                   const void *v, size_t n);
/* A VectorIndex `name` over the ragged column `target` (a dataset of g):
** ends[i] = one past the last element of row i (NULL: written later). */
int spy_nwb_index(hid_t g, const char *name, const char *target, const uint64_t *ends, size_t n);
/* ElementIdentifiers `id`: v[0..n) or 0..n-1 when v is NULL. */
int spy_nwb_ids(hid_t g, const int64_t *v, size_t n);
/*
** The NWBFile skeleton: root attributes and required datasets, the
** required groups, Device "array", ElectrodeGroup "shank0" and the
** electrodes table whose `location` holds the names (Syncopy's layout) and
** whose `id`s are ids[] (NULL: 0..n-1; SpikeData: the channel indices).
*/
int spy_nwb_skeleton(hid_t f, const char *const *names, const int64_t *ids, size_t n);
/* intervals/trials: start_time, stop_time, offset in s (trial definition / samplerate). */
int spy_nwb_write_trials(hid_t f, const spy_data *d, spy_err *err);

void spy_nwb_get_attr_str(hid_t obj, const char *name, char *out, size_t n);
double spy_nwb_get_attr_num(hid_t obj, const char *name, double dflt);
/* A numeric dataset `name` of g as doubles (NULL when missing or not numeric). */
double *spy_nwb_get_doubles(hid_t g, const char *name, size_t *n);
/* A 1-d string dataset as C strings. */
char **spy_nwb_get_strings(hid_t g, const char *name, size_t *n);
/* Whether the absolute path exists (all its parents checked). */
bool spy_nwb_exists(hid_t f, const char *path);
/*
** Trials from intervals/trials (else intervals/epochs) as rows [start, stop,
** offset] in samples: rint((t - t0) * fs), offsets from the `offset` column.
** *trl = NULL and *n = 0 when the file has neither table.  Rows outside
** [0, limit] (limit < 0: no upper limit) are an error naming the trial.
*/
int spy_nwb_read_trials(hid_t f, const char *path, const char *what, double t0, double fs,
                        double limit, double **trl, size_t *n, spy_err *err);
/* A discrete object's trials: the file's (spy_nwb_read_trials, no limit),
** else the one trial `whole`; and its starting_time t0. */
int spy_nwb_discrete_trials(hid_t f, const char *path, const char *what, double t0, double fs,
                            const double whole[3], spy_data *d, spy_err *err);
/* The end of every reader: the object's log line and its metadata synced. */
int spy_nwb_loaded(spy_data *d, const char *path, spy_err *err);

/*
** nwb_discrete.c.  Writers: the units table of a SpikeData (one row per
** unit index, Syncopy's layout plus spy's columns) and the TTL series of an
** EventData, into an open file that has the skeleton.  Readers: fs NaN means
** "from the file" (units: `samplerate` column; TTLs: timestamps'
** `resolution`), t0 is the time of sample 0, nsamp the default trial's end
** (< 0: after the last spike).
*/
int spy_nwb_write_units(hid_t f, spy_data *d, spy_err *err);
int spy_nwb_write_ttls(hid_t f, spy_data *d, spy_err *err);
int spy_nwb_load_units(hid_t f, const char *path, double fs, double t0, double nsamp,
                       spy_data **out, char **warnings, spy_err *err);
int spy_nwb_load_ttls(hid_t f, const char *path, double fs, double t0, spy_data **out,
                      spy_err *err);

#endif
