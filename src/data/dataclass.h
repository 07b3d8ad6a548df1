/* The data classes spy knows, with Syncopy's names, dimords and file
** extensions. */
#ifndef SPY_DATACLASS_H
#define SPY_DATACLASS_H

#include <stdbool.h>

typedef enum {
  SPY_ANALOG,        /* AnalogData: time x channel, ".analog" */
  SPY_SPECTRAL,      /* SpectralData: time x taper x freq x channel, ".spectral" */
  SPY_CROSSSPECTRAL, /* CrossSpectralData: time x freq x channel_i x channel_j, ".crossspectral" */
  SPY_TIMELOCK,      /* TimeLockData: time x channel (+ avg, var, cov), ".timelock" */
  /* discrete data: rows of int64 [sample, ...] sorted by sample (docs/internals/discrete.md) */
  SPY_SPIKE,         /* SpikeData: sample x channel x unit columns, ".spike" */
  SPY_EVENT,         /* EventData: sample x eventid columns, ".event" */
  SPY_NCLASSES
} spy_dataclass;

const char *spy_dataclass_name(spy_dataclass c); /* "AnalogData" */
const char *spy_dataclass_ext(spy_dataclass c);  /* ".analog" */
int spy_dataclass_ndim(spy_dataclass c);
const char *const *spy_dataclass_dimord(spy_dataclass c); /* NULL-terminated */
/* SpikeData or EventData: rows are events, trials are sample ranges. */
int spy_dataclass_discrete(spy_dataclass c);
int spy_dataclass_parse(const char *name, spy_dataclass *c); /* class name or extension */

/* Classes with dimord time x channel and a channel axis (AnalogData,
** TimeLockData): everything that treats AnalogData's axes applies. */
bool spy_dataclass_timechannel(spy_dataclass c);
/* Names of the HDF5 datasets of the class (Syncopy's
** _hdfFileDatasetProperties), "data" first; NULL-terminated. */
const char *const *spy_dataclass_datasets(spy_dataclass c);

#endif
