/*
** The `.info` JSON sidecar of a .spy container (syncopy.md 9.3), and the
** Python-compatible JSON text it is made of.
**
** Syncopy writes the sidecar with json.dump(indent=4) and reads it with
** json.load.  To read and write the same bytes:
**   - spy_json_parse accepts exactly Python's json grammar (NaN, Infinity,
**     -Infinity, duplicate keys: last value wins at the first position) and
**     marks numbers written with a fraction or exponent with SPY_JSON_FLOAT,
**     so `4` and `4.0` in a cfg survive a load/save round trip;
**   - spy_json_dump writes Python's layout (", "/": " or ","/": " with
**     indent, ensure_ascii escapes, no trailing newline) and Python's
**     float repr (spy_py_float of core/pyfmt.h: "1000.0", "1e-05").
** A number node without the flag is written as an integer when its value is
** integral, otherwise as a float: what cJSON-made trees (the cfg built from
** Lua) expect.
**
** spy_info_parse trusts nothing: every field is type-checked and checked
** against the class (dimord, label counts against data_shape); the caller
** then checks the HDF5 file against the header fields.
**
** Ownership: spy_json_parse returns a tree the caller deletes with
** cJSON_Delete; spy_json_dump and spy_info_format return malloc'd text;
** spy_info_parse returns a new spy_data (one reference) and fills a header
** released with spy_info_hdr_free.
*/
#ifndef SPY_INFO_H
#define SPY_INFO_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/array.h"
#include "core/err.h"
#include "data/data.h"

/* Flag bit on cJSON number nodes (outside cJSON's type byte): written as a
** Python float.  cJSON_Duplicate keeps it. */
#define SPY_JSON_FLOAT (1 << 12)

cJSON *spy_json_float(double v);
bool spy_json_is_float(const cJSON *n);

/* Parses Python-json text (UTF-8, length len).  Errors read like Python's:
** "Expecting value: line 1 column 1 (char 0)".  Nesting is limited to 512. */
int spy_json_parse(const char *text, size_t len, cJSON **out, spy_err *err);

/* json.dumps(v, indent=indent) as Python writes it; indent < 0 gives the
** one-line form.  NULL when out of memory. */
char *spy_json_dump(const cJSON *v, int indent);

/* File-level fields of an .info (the startInfoDict part). */
typedef struct spy_info_hdr {
  char *filename;             /* base name of the HDF5 file */
  spy_dtype data_dtype;
  int data_ndim;
  size_t data_shape[4];
  bool has_data_offset;       /* data_offset is null for an unallocated dataset */
  uint64_t data_offset;
  size_t trl_shape[2];
  char *checksum;             /* NULL when null */
  char *checksum_algorithm;
} spy_info_hdr;

void spy_info_hdr_free(spy_info_hdr *h);

/*
** Parses and validates an .info text.  path names the file in messages
** ("Required field <f> for <Class> not in <path>").  On success *out is a
** new object of the file's class with the JSON metadata (dimord checked,
** samplerate, labels, freq, cfg, info, _log, _version) and no backing file
** or trial definition; hdr holds the file fields.
*/
int spy_info_parse(const char *text, size_t len, const char *path, spy_data **out,
                   spy_info_hdr *hdr, spy_err *err);

/* Largest .info accepted (Syncopy's are kilobytes; labels of 10^5 channels
** are a few MiB); the parser also stops after 2^21 values. */
#define SPY_INFO_MAX_BYTES (64 << 20)

/* Reads and parses the .info file at path: a regular file (a FIFO is refused
** without waiting for a writer) of at most SPY_INFO_MAX_BYTES. */
int spy_info_read(const char *path, spy_data **out, spy_info_hdr *hdr, spy_err *err);

/* The .info text for d, keys in Syncopy's order; data_dtype/data_shape are
** d's, the rest come from hdr.  NULL when out of memory. */
char *spy_info_format(const spy_data *d, const spy_info_hdr *hdr);

#endif
