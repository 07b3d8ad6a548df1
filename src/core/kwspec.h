/*
** Keyword specifications: one table per Lua-facing function.
**
** A spy_funcspec lists every keyword with its accepted types, its default
** (as JSON text), its allowed string values and a one-line doc.  The same
** data drive validation (spy_kw_apply), help(), tab completion of keyword
** names and the cfg stored with results, so docs and checks cannot drift.
**
** spy_kw_apply works on cJSON, so a remote worker re-validates a cfg with the
** very code the session used.  Keys typed SPY_KT_OPAQUE (for example the
** `data` array of a constructor) never travel as JSON; bindings take them
** from the Lua table themselves and spy_kw_apply skips them.
*/
#ifndef SPY_KWSPEC_H
#define SPY_KWSPEC_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

enum {
  SPY_KT_NULL = 1 << 0,   /* absent / None */
  SPY_KT_BOOL = 1 << 1,
  SPY_KT_INT = 1 << 2,    /* integral number */
  SPY_KT_NUM = 1 << 3,    /* any finite or infinite number */
  SPY_KT_STR = 1 << 4,
  SPY_KT_NUMS = 1 << 5,   /* list of numbers */
  SPY_KT_STRS = 1 << 6,   /* list of strings */
  SPY_KT_LIST = 1 << 7,   /* any list */
  SPY_KT_DICT = 1 << 8,   /* table with string keys */
  SPY_KT_OPAQUE = 1 << 9, /* not JSON: handled by the binding */
  SPY_KT_ANY = 0x1ff
};

/*
** Numeric bounds.  Every number a keyword takes (a scalar or each element of
** a list) is checked by spy_kw_apply against [min, max] (inclusive).  Tables
** written before the fields existed leave them zero, which means the
** default range: integers within +-SPY_KW_INT_LIMIT (exact in a double, so
** they convert to int64 safely), other numbers finite and within
** +-SPY_KW_NUM_LIMIT.  NaN is never accepted; +-inf only where min or max
** is itself infinite.  A keyword whose plan needs a tighter or different
** range (an order, a length that becomes an allocation) states it here, so
** the limit is documented in help() and enforced before any plan runs:
**   {"order_max", SPY_KT_INT | SPY_KT_NULL, "null", NULL, "...", 1, 1000}
*/
#define SPY_KW_INT_LIMIT 9007199254740992.0 /* 2^53 */
#define SPY_KW_NUM_LIMIT 1e15
/* The bounds of a keyword that the binding converts to a C int. */
#define SPY_KW_INT32 -2147483647.0, 2147483647.0

typedef struct spy_kwarg {
  const char *name;
  unsigned types;      /* SPY_KT_* mask */
  const char *dflt;    /* default as JSON text ("null" when None) */
  const char *allowed; /* allowed string values "a|b|c", or NULL */
  const char *doc;     /* one line */
  double min, max;     /* inclusive numeric bounds; both 0: the default range */
} spy_kwarg;

/* Keywords every computing frontend takes (Syncopy's unwrap_select,
** detect_parallel_client and chan_per_worker), and the end of a table.
** `run` is the verb of the `parallel` doc: "run", "generate". */
#define SPY_KW_SELECT                                                                         \
  {"select", SPY_KT_DICT | SPY_KT_STR | SPY_KT_NULL, "null", NULL,                            \
   "selection applied first: {trials=, channel=, latency=}"}
#define SPY_KW_PARALLEL(run)                                                                  \
  {"parallel", SPY_KT_BOOL | SPY_KT_NULL, "null", NULL,                                       \
   "true: " run " on the client's workers (a local cluster if none); false: sequentially"}
#define SPY_KW_CHAN_PER_WORKER                                                                \
  {"chan_per_worker", SPY_KT_INT | SPY_KT_NULL, "null", NULL,                                 \
   "split each trial into tasks of this many channels"}
#define SPY_KW_END {NULL, 0, NULL, NULL, NULL, 0, 0}
/* select, parallel, chan_per_worker and the end: the tail of a frontend's table. */
#define SPY_KW_COMPUTE_TAIL SPY_KW_SELECT, SPY_KW_PARALLEL("run"), SPY_KW_CHAN_PER_WORKER, SPY_KW_END

typedef struct spy_funcspec {
  const char *name;      /* Lua name inside `spy`, e.g. "freqanalysis" */
  const char *signature; /* e.g. "spy.freqanalysis(data, {method=..., ...})" */
  const char *summary;   /* one line */
  const char *doc;       /* a paragraph, may be NULL */
  const char *example;   /* Lua code, may be NULL */
  const spy_kwarg *kw;   /* terminated by an entry with name == NULL */
} spy_funcspec;

const spy_kwarg *spy_kw_find(const spy_funcspec *f, const char *name);

/* Nearest keyword name to `name` (edit distance), or NULL when none is
** plausibly meant. */
const char *spy_kw_suggest(const spy_funcspec *f, const char *name);

/* The effective inclusive range of k's numbers (its own or the default). */
void spy_kw_range(const spy_kwarg *k, double *lo, double *hi);

/* Checks one number of keyword k against its range; the message names the
** keyword and the limits ("Invalid value of `x`: '1e+308'; expected value to
** be greater or equals 1 and less or equals 1000"). */
int spy_kw_checknum(const spy_kwarg *k, double x, spy_err *err);

/* Overflow-safe conversions of a double (NaN, inf and out-of-range values
** return false and leave *out alone). */
bool spy_d2i64(double x, long long *out);
bool spy_d2size(double x, size_t *out);

/* Human description of a type mask: "bool", "number or string", ... */
void spy_kw_typedesc(unsigned types, char *buf, size_t n);

/*
** Validates `given` (a JSON object, or NULL) against f and returns in *out a
** new object holding every non-opaque keyword in spec order: the given value
** or the default.  Errors: an unknown key names it and suggests the nearest
** valid one; a wrong type names the key, what is allowed and what was given;
** a string outside `allowed` gives Syncopy's "expected 'a' or 'b'" message.
** "yes"/"no" are accepted for bool keys, as in Syncopy.
*/
int spy_kw_apply(const spy_funcspec *f, const cJSON *given, cJSON **out,
                 spy_err *err);

/* Registry of all specs, filled by the bindings when they open. */
void spy_spec_register(const spy_funcspec *f);
const spy_funcspec *spy_spec_find(const char *name);
size_t spy_spec_count(void);
const spy_funcspec *spy_spec_at(size_t i);

/* Helpers for reading a validated cfg. */
static inline const cJSON *spy_cfg_item(const cJSON *cfg, const char *key)
{
  return cJSON_GetObjectItemCaseSensitive(cfg, key);
}
bool spy_cfg_isnull(const cJSON *cfg, const char *key);
double spy_cfg_num(const cJSON *cfg, const char *key, double dflt);
const char *spy_cfg_str(const cJSON *cfg, const char *key, const char *dflt);
bool spy_cfg_bool(const cJSON *cfg, const char *key, bool dflt);

/* Short rendering of a value for messages, as Lua writes it ("{1, 2}", "foo"). */
void spy_json_brief(const cJSON *v, char *buf, size_t n);

#endif
