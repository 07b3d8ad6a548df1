/*
** Neurodata Without Borders (NWB 2.x over HDF5): spy's own reader and writer
** (no C NWB library exists), as Syncopy's load_nwb and save_nwb use the
** format.  Helpers: nwb_util.c; units and TTLs: nwb_discrete.c.
**
** Writing (spy_save_nwb): an NWBFile (nwb_version 2.6.0) with Syncopy's
** skeleton (electrodes table whose `location` holds the channel names, one
** ElectrodeGroup "shank0" on Device "array") and
**  - AnalogData / TimeLockData: one ElectricalSeries "ElectricalSeries" in
**    acquisition (is_raw) or processing/ecephys/LFP: data [time, channel] in
**    the object's dtype, streamed block by block; starting_time 0 with rate
**    = samplerate; electrodes a DynamicTableRegion of all rows.  A
**    TimeLockData is marked by its `comments` (avg/var/cov are not written);
**  - SpikeData: the units table (nwb_util.h, nwb_discrete.c);
**  - EventData: acquisition TTL_PulseValues (+ TTL_Channels).
** with_trialdefinition: intervals/trials with start_time, stop_time and
** offset in seconds (trial definition / samplerate).  Every object carries
** namespace, neurodata_type and object_id attributes.
**
** Reading (spy_load_nwb): every ElectricalSeries in /acquisition (and in
** processing/ecephys/LFP) becomes one AnalogData keyed by its name (a
** TimeLockData when spy marked it and its trials are still time-locked):
** data [time, channel] (1-d: one channel) times channel_conversion when
** present (as Syncopy; `conversion` and `offset` go to info), samplerate =
** rate, channels from the electrodes' `location` (default names when these
** are not unique, as Syncopy), trials from intervals/trials (else
** intervals/epochs; else one trial) as rint((t - starting_time) * rate)
** samples, offsets from the trials' `offset` column.  float32 and integers
** of up to 2 bytes load as float32, everything else as float64.  /units
** becomes SpikeData "units", acquisition TTL_PulseValues EventData
** "TTL_PulseValues", both on the first series' clock; samplerate (NaN:
** from the file) overrides the rate for them.  Other acquisition types are
** skipped with a warning.
**
** All HDF5 calls run under the io lock; the readers stream (series: 65536
** rows at a time; units: a merge reading each unit in blocks); the writer
** writes a part file renamed into place.
*/
#ifndef SPY_FORMATS_NWB_H
#define SPY_FORMATS_NWB_H

#include <stdbool.h>

#include "core/err.h"
#include "data/data.h"
#include "io/formats/common.h"

typedef spy_objset spy_nwb_result; /* objects keyed by series name */

int spy_load_nwb(const char *path, double samplerate, spy_nwb_result *r, spy_err *err);
int spy_save_nwb(spy_data *d, const char *path, bool with_trialdefinition, bool is_raw,
                 spy_err *err);

#endif
