/*
** TDT blocks (Tucker-Davis Technologies): spy.load_tdt, as Syncopy's
** load_tdt reads them.
**
** A block folder holds one .tsq event index and one .sev file per channel.
** The .tsq is a sequence of 40-byte records (uint32 size, uint32 type,
** 4-char store code, uint16 channel, uint16 sort code, float64 timestamp,
** float64 value or file offset, uint32 data format, float32 sample rate); the
** second record marks the block start (code 1, its timestamp the start time),
** the last one the stop (code 2).  spy reads, as Syncopy: the stream store
** `LFPs` (or `LFP1`) for the sample rate, the epoc stores `PDio` (onsets) and
** `PDi\` (offsets) and the scalar store `Mark` (trigger codes).  Timestamps
** are taken relative to the start and rounded to TDT's 195312.5 Hz grid.
** The .sev files (a 40-byte header, then float32 samples) are the channels,
** in natural order of their names; every channel has the length of the first.
**
** The result is one float32 AnalogData; info holds blockname, start/stop
** dates and times, originalFiles, PDio_onset/offset/data, Trigger_timestamp,
** Trigger_sample (rint(timestamp x samplerate)) and Trigger_code.  With
** start_code and end_code the trials run from each start trigger's sample to
** the matching end trigger's sample (the shorter list wins).  Where Syncopy
** is wrong spy decides (docs/internals/formats.md): subtract_median removes
** each channel's own median (Syncopy the median of 16-channel chunks), and
** Trigger_code lists every Mark value (Syncopy only the first of a
** single-channel store).
*/
#ifndef SPY_FORMATS_TDT_H
#define SPY_FORMATS_TDT_H

#include <stdbool.h>

#include "core/err.h"
#include "data/data.h"

typedef struct spy_tdt_opts {
  bool have_codes;
  double start_code, end_code;
  bool subtract_median;
} spy_tdt_opts;

int spy_load_tdt(const char *dir, const spy_tdt_opts *o, spy_data **out, char **warnings,
                 spy_err *err);

/* The .tsq parser on a buffer (for fuzzing): parses or fails with a message. */
int spy_tdt_check_tsq(const unsigned char *buf, size_t n, spy_err *err);

#endif
