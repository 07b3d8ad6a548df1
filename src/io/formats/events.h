/*
** Event markers of a loaded EEG recording as EventData (issue #16): the
** EDF+/BDF+ annotations (info.annotations) or BrainVision markers
** (info.markers) that spy_load_edf / spy_load_brainvision put in the
** AnalogData's info, turned into int64 rows [sample, eventid].
**
** Samples are in the recording's sampling: EDF onsets (s from the file's
** start) are rounded to the nearest sample (round half away from zero),
** BrainVision positions are taken as they are (0-based).  Marker texts
** (EDF: the annotation text; BrainVision: "type/description") become event
** ids 1, 2, ... in order of first appearance in the file; the mapping is
** kept in the EventData's info.event_ids {text = id}.  Rows are sorted by
** sample (stable: equal samples keep file order).  The trial definition is
** the recording's, so spy.definetrial(rec, events, ...) lines up.
**
** Ownership: *out is a new temporary EventData (caller unrefs), or NULL
** when the recording has no markers.  rec is never changed.
*/
#ifndef SPY_FORMATS_EVENTS_H
#define SPY_FORMATS_EVENTS_H

#include "data/data.h"

int spy_eeg_events(const spy_data *rec, spy_data **out, spy_err *err);

#endif
