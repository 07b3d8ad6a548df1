#include "data/dataclass.h"

#include <string.h>

#include "core/err.h"

static const char *const dim_analog[] = {"time", "channel", NULL};
static const char *const dim_spectral[] = {"time", "taper", "freq", "channel", NULL};
static const char *const dim_cross[] = {"time", "freq", "channel_i", "channel_j", NULL};

static const char *const dim_spike[] = {"sample", "channel", "unit", NULL};
static const char *const dim_event[] = {"sample", "eventid", NULL};

static const struct {
  const char *name, *ext;
  int ndim;
  const char *const *dimord;
} classes[SPY_NCLASSES] = {
    [SPY_ANALOG] = {"AnalogData", ".analog", 2, dim_analog},
    [SPY_SPECTRAL] = {"SpectralData", ".spectral", 4, dim_spectral},
    [SPY_CROSSSPECTRAL] = {"CrossSpectralData", ".crossspectral", 4, dim_cross},
    [SPY_TIMELOCK] = {"TimeLockData", ".timelock", 2, dim_analog},
    [SPY_SPIKE] = {"SpikeData", ".spike", 2, dim_spike},
    [SPY_EVENT] = {"EventData", ".event", 2, dim_event},
};

const char *spy_dataclass_name(spy_dataclass c) { return c < SPY_NCLASSES ? classes[c].name : "?"; }
const char *spy_dataclass_ext(spy_dataclass c) { return c < SPY_NCLASSES ? classes[c].ext : ""; }
int spy_dataclass_ndim(spy_dataclass c) { return c < SPY_NCLASSES ? classes[c].ndim : 0; }
const char *const *spy_dataclass_dimord(spy_dataclass c)
{
  return c < SPY_NCLASSES ? classes[c].dimord : NULL;
}

int spy_dataclass_discrete(spy_dataclass c) { return c == SPY_SPIKE || c == SPY_EVENT; }

int spy_dataclass_parse(const char *name, spy_dataclass *c)
{
  for (int i = 0; i < SPY_NCLASSES; i++) {
    const char *ext = classes[i].ext;
    if (strcmp(name, classes[i].name) == 0 || strcmp(name, ext) == 0 || strcmp(name, ext + 1) == 0) {
      *c = (spy_dataclass)i;
      return SPY_OK;
    }
  }
  return SPY_EINVAL;
}

bool spy_dataclass_timechannel(spy_dataclass c) { return c == SPY_ANALOG || c == SPY_TIMELOCK; }

const char *const *spy_dataclass_datasets(spy_dataclass c)
{
  static const char *const plain[] = {"data", NULL};
  static const char *const timelock[] = {"data", "avg", "var", "cov", NULL};
  static const char *const spike[] = {"data", "waveform", NULL};
  static const char *const cross[] = {"data", "jack_var", "jack_bias", NULL}; /* jackknife */
  if (c == SPY_SPIKE) return spike;
  return c == SPY_TIMELOCK ? timelock : c == SPY_CROSSSPECTRAL ? cross : plain;
}
