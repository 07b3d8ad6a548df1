/*
** EEG recordings: EDF, EDF+, BDF, BDF+ (through edflib) and BrainVision
** (.vhdr header, .vmrk markers, binary .eeg data; spy's own parser).
**
** Each recording becomes one AnalogData with a single trial covering the
** whole recording (trial definition [0, nsamples, 0]), physical values
** (digital x gain + offset for EDF/BDF; raw x resolution for BrainVision) in
** the dtype asked (float32 by default, float64 on request), channel labels
** from the file.  Data stream in blocks of samples into spy's HDF5 storage:
** memory stays at one block whatever the recording's length.
**
** Annotations (EDF+/BDF+) and markers (.vmrk) come back in `info` as plain
** lists: info.annotations =
** {{onset=s, duration=s or nil, text=...}, ...}; info.markers =
** {{type=, description=, sample= (0-based), length=, channel= (0 = all)}, ...};
** spy_eeg_events (events.h) turns either into EventData.
**
** EDF signals of different sample rates cannot share one AnalogData: without
** a channel list the signals of the most common rate load, and the others
** are named in a warning and info.skipped_channels; a channel list of mixed
** rates is an error that lists the rates.
**
** edflib keeps global state, so every edflib call here runs under a lock of
** this module.  Errors name the file and the problem (truncated data,
** malformed header lines, unsupported formats).
*/
#ifndef SPY_FORMATS_EEG_H
#define SPY_FORMATS_EEG_H

#include <stddef.h>

#include "core/err.h"
#include "data/data.h"

typedef struct spy_eeg_opts {
  const char *const *channel; /* labels to load, NULL: all (EDF: those of the most common rate) */
  size_t nchannel;
  spy_dtype dtype; /* SPY_DT_F32 or SPY_DT_F64 */
} spy_eeg_opts;

/* warnings: newline-separated text for the caller to log (caller frees; may stay NULL). */
int spy_load_edf(const char *path, const spy_eeg_opts *o, spy_data **out, char **warnings,
                 spy_err *err);
int spy_load_brainvision(const char *vhdr, const spy_eeg_opts *o, spy_data **out, char **warnings,
                         spy_err *err);

/* The .vhdr parser on a buffer (for fuzzing): fills nothing, only checks
** that the header parses or fails cleanly. */
int spy_brainvision_check_header(const char *text, size_t n, spy_err *err);
/* The same for the .vmrk marker parser. */
int spy_brainvision_check_markers(const char *text, size_t n, spy_err *err);

#endif
