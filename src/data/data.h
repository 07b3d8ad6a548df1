/*
** Data objects: AnalogData, SpectralData, CrossSpectralData backed by an
** HDF5 file (ARCHITECTURE invariant 6: data stay on disk; readers take one
** trial or chunk at a time).
**
** Layout of the backing file is Syncopy's (syncopy.md 9.2): dataset `data`
** (contiguous; axis 0 stacks the trials, the last axis is the channel or
** channel_j), dataset `trialdefinition` (float64, chunked, maxshape
** (None, cols)), root attributes dimord, _version, _log, samplerate,
** channel / channel_i / channel_j, freq.  The metadata authoritative at run
** time live in the struct; spy_data_sync_meta writes them to the file.
**
** Ownership and lifetime: a spy_data is reference counted (spy_data_ref /
** spy_data_unref) because a Lua object and running computations may hold it
** at the same time.  When the last reference goes, handles are closed and a
** temporary backing file (in SPYTMPDIR) is deleted.  All strings and arrays
** in the struct are owned by it.  Metadata are set by the thread that owns
** the object (the main thread); workers only read rows.
*/
#ifndef SPY_DATA_H
#define SPY_DATA_H

#include <cjson/cJSON.h>
#include <hdf5.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/array.h"
#include "core/err.h"
#include "data/dataclass.h"

typedef struct spy_data {
  atomic_int refs;
  spy_dataclass cls;
  spy_dtype dtype;
  int ndim;
  size_t shape[4];   /* of dataset `data` */

  double samplerate; /* NaN when None */
  size_t ntrials, trlcols;
  double *trldef;    /* ntrials x trlcols: start, stop, offset, trialinfo... (samples, rows of axis 0) */

  char **channel;    /* Analog/Spectral: channel; Cross: channel_i */
  size_t nchannel;
  char **channel_j;  /* Cross only */
  size_t nchannel_j;
  double *freq;      /* Spectral/Cross */
  size_t nfreq;
  char **taper;      /* Spectral */
  size_t ntaper;

  cJSON *cfg;        /* object, never NULL */
  cJSON *info;       /* object, never NULL */
  cJSON *metadata;   /* Syncopy's out.metadata (FOOOF fits), or NULL */
  char *log;         /* Syncopy-style history text, never NULL */
  char *version;     /* `_version` written to files */

  char *path;        /* backing HDF5 file */
  bool temporary;    /* delete the file with the last reference */
  char *container;   /* the .spy folder it was saved in / loaded from, or NULL */
  char *tag;
  bool writable;     /* opened r+ */

  hid_t file, dset;  /* open handles, -1 when closed (guarded by the io lock) */

  /* SpikeData: unit labels, one per distinct unit index (channel labels: one
  ** per distinct channel index, in `channel`) */
  char **unit;
  size_t nunit;
  /* EventData with extra columns: its own dimord ("sample", "eventid",
  ** extra names; NULL-terminated), NULL for the class's */
  char **dimord;

  /* Raw reads and writes (data.c, raw_offset): while raw_dset == dset, rows
  ** of `data` are read with pread(2) and written with pwrite(2) on raw_fd
  ** (read-write for writable objects) at byte offset raw_off (-1: not
  ** that way), without HDF5 or the io lock; raw_stale: written through
  ** HDF5 since, flush first; raw_h5io: dset has read or written data
  ** through HDF5 (its sieve buffer may hold bytes), so it is reopened
  ** before a raw write.  Set and cleared under the io lock. */
  hid_t raw_dset;
  int raw_fd;
  long long raw_off;
  bool raw_stale;
  bool raw_h5io;
  unsigned raw_undone; /* flushes made because of writes */
} spy_data;

/* A new, empty object of class cls holding one reference; NULL if out of memory. */
spy_data *spy_data_new(spy_dataclass cls);
spy_data *spy_data_ref(spy_data *d);
void spy_data_unref(spy_data *d);

/* Whether path is (the same file as) the backing file of a live object of
** this process: writers refuse such a target, so writing a result never
** replaces or changes the data an object reads (an input stays untouched). */
bool spy_data_file_in_use(const char *path);

/*
** Creates the backing file: a fresh temporary file "spy_<session>_<hex><ext>"
** in SPYTMPDIR with a contiguous dataset `data` of the given dtype and shape
** (allocated, not filled).  d->shape/dtype/ndim are set; the file stays open
** read-write.  Metadata are written later by spy_data_sync_meta.
*/
int spy_data_create(spy_data *d, spy_dtype t, int ndim, const size_t *shape, spy_err *err);

/* Opens an existing backing file (dataset `data`), read-only unless
** writable; sets dtype/shape/ndim.  Metadata are the caller's job. */
int spy_data_open(spy_data *d, const char *path, bool writable, spy_err *err);

/*
** Reads rows [row0, row0+nrows) of axis 0, all inner axes, and the channels
** chans[0..nch) of the last axis (any order, repeats allowed; NULL = the
** contiguous range [0, nch)) into buf (C order: rows x inner x nch),
** converted to dtype t.  Thread-safe (takes the io lock).
*/
int spy_data_read(spy_data *d, size_t row0, size_t nrows, const size_t *chans, size_t nch,
                  void *buf, spy_dtype t, spy_err *err);

/* Writes a block rows x inner x [chan0, chan0+nch) from buf (dtype t). */
int spy_data_write(spy_data *d, size_t row0, size_t nrows, size_t chan0, size_t nch,
                   const void *buf, spy_dtype t, spy_err *err);

/* Writes trialdefinition and the root attributes from the struct. */
int spy_data_sync_meta(spy_data *d, spy_err *err);

/*
** Writes dataset `trialdefinition` (float64, chunked as h5py chunks it,
** maxshape (None, cols)) and the root attributes of d (dimord, _version,
** _log, samplerate, channel or channel_i/channel_j, freq; a NaN samplerate
** is None, written "None") into the open HDF5 file f, replacing existing
** ones.  listing names the file in the truncation warning of oversized
** attributes (NULL: truncate silently, for temporary files whose full
** metadata live in the struct).  Takes the io lock.
*/
int spy_data_write_meta(const spy_data *d, hid_t f, const char *listing, spy_err *err);

/* Flushes an open, writable backing file, so another process (a remote
** worker) reads everything written so far. */
int spy_data_flush(spy_data *d, spy_err *err);

/* Closes the HDF5 handles (reopened on demand by read/write). */
void spy_data_close(spy_data *d);

/* Number of elements per row of axis 0 (product of the other axes). */
size_t spy_data_row_elems(const spy_data *d);
size_t spy_data_trial_rows(const spy_data *d, size_t k);

/* Setters that copy their input (labels are n strings). */
int spy_data_set_channel(spy_data *d, const char *const *labels, size_t n);
int spy_data_set_channel_j(spy_data *d, const char *const *labels, size_t n);
int spy_data_set_taper(spy_data *d, const char *const *labels, size_t n);
int spy_data_set_unit(spy_data *d, const char *const *labels, size_t n);
/* Custom dimord (NULL-terminated list, copied) and the dimord in force. */
int spy_data_set_dimord(spy_data *d, const char *const *dimord);
const char *const *spy_data_dimord(const spy_data *d);
int spy_data_set_freq(spy_data *d, const double *f, size_t n);
int spy_data_set_trldef(spy_data *d, const double *trl, size_t ntrials, size_t cols);
/* Default channel labels "channel" + zero-padded number (Syncopy's rule). */
int spy_data_default_channels(spy_data *d, size_t n);
/* Appends a Syncopy-style history entry "\n\n|=== user@host: <asctime> ===|\n\n\t<caller>: <msg>". */
int spy_data_log(spy_data *d, const char *caller, const char *msg);

void spy_strv_free(char **v, size_t n);
char **spy_strv_dup(const char *const *v, size_t n);

#endif
