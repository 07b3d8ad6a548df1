/*
** .spy containers, read and written in Syncopy's format (syncopy.md 9;
** docs/internals/containers.md):
**
**   <folder>/<name>.spy/<name>[_<tag>].<ext>        HDF5: data, trialdefinition, attributes
**   <folder>/<name>.spy/<name>[_<tag>].<ext>.info   JSON sidecar, authoritative metadata
**
** spy_save writes both files under temporary names in the target folder and
** renames them into place (data first, info last); a failure at any step
** removes the temporaries and leaves the object and any existing files as
** they were.  Data are copied in bounded row blocks, never whole.
**
** spy_load trusts the .info for metadata and the HDF5 file for the trial
** definition, and checks each against the other (dtype, shape, label
** counts, trial rows inside the data) before returning an object.  Loaded
** objects are read-only (Syncopy reports mode 'r').
**
** Ownership: spy_load fills a spy_loaded whose objects (one reference each)
** and names belong to the caller; spy_loaded_free releases whatever is left
** in it (set an entry to NULL to keep its object).
*/
#ifndef SPY_CONTAINER_H
#define SPY_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "data/data.h"

/* spy.save(out, container=None, tag=None, filename=None, overwrite=False) */
typedef struct spy_save_opts {
  const char *container; /* folder; ".spy" is appended when missing */
  const char *tag;       /* with container only */
  const char *filename;  /* a file outside containers; extension added when missing */
  bool overwrite;
} spy_save_opts;

/*
** Saves d.  Errors in Syncopy's words: both or neither of container and
** filename, a wrong extension, an existing file without overwrite
** ("Cannot write <path>: object already exists").  Appends the history
** entry "Wrote files <hdf>\n\t\t\t  <info>" (caller "save") and re-points d
** to the saved file (container, tag set; a temporary backing file is
** deleted; d becomes read-only, mode 'r').  SPY_EINTR when interrupted.
*/
int spy_save(spy_data *d, const spy_save_opts *o, spy_err *err);

/*
** obj.save(container=None, tag=None, filename=None, overwrite=False):
** without container and filename, an object already in a container is
** saved in place (no tag: overwrite implied) or under a new tag in the same
** container.
*/
int spy_save_method(spy_data *d, const spy_save_opts *o, spy_err *err);

/* Checks a tag or container base name before any path is built: letters,
** digits, '_' and '-', 1 to 128 bytes; the message names `key`. */
int spy_check_name(const char *key, const char *s, spy_err *err);

/* spy.load(filename, tag=None, dataclass=None, checksum=False) */
typedef struct spy_load_opts {
  const char *const *tags;      /* ntags patterns, container only; NULL = all */
  size_t ntags;
  const char *const *dataclass; /* "analog", ".analog", ...; NULL = every class */
  size_t ndataclass;
  bool checksum;                /* recompute the SHA-1 and compare */
} spy_load_opts;

typedef struct spy_loaded {
  spy_data **objs;
  char **names; /* base names of the HDF5 files: the keys of Syncopy's dict */
  size_t n;
  bool single;  /* a file, or a container holding one match: Syncopy returns the object */
} spy_loaded;

/*
** Loads a container (every matching file) or one data file.  A path
** without extension gets ".spy".  On error nothing is returned.
*/
int spy_load(const char *path, const spy_load_opts *o, spy_loaded *out, spy_err *err);
void spy_loaded_free(spy_loaded *l);

/* Loads the one data file hdf (its .info beside it). */
int spy_load_file(const char *hdf, bool checksum, spy_data **out, spy_err *err);

/*
** Test hook: when set, called at each step of spy_save ("data",
** "meta", "checksum", "info", "rename-data",
** "rename-info"); a nonzero return makes that step fail.
*/
extern int (*spy_save_fault_hook)(const char *step);

#endif
