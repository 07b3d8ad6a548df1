/*
** Python's and NumPy's text forms of values, for the messages, history
** entries and .info files that must read as Syncopy's do
** ("Invalid value of `pad`: '0.5'; ...", "foi = [  0.    0.5 ...]", 1e-05),
** and Syncopy's scalar and array parsers, whose messages print them.
**
** Numbers are written in the C locale ('.' as the decimal point), whatever
** LC_NUMERIC the host program set.  JSON cannot tell 2 from 2.0:
** spy_py_num prints integral values as ints (what a Lua integer would have
** been in Python), spy_py_float always as a float (for values Syncopy
** computes, such as samplerate / 2).  Functions with a buffer write a
** NUL-terminated string truncated to n bytes; the others return a malloc'd
** string the caller frees (NULL when out of memory).
*/
#ifndef SPY_PYFMT_H
#define SPY_PYFMT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "core/strbuf.h"

/* ---- Python scalars and values -------------------------------------------- */

/* repr(float(v)): shortest round-trip digits, "2.0", "0.001", "1e-05",
** "1.5e+16", "nan", "-inf". */
void spy_py_float(double v, char *buf, size_t n);
/* The same digits without the ".0" of integral values ("2", "1e-05"): how
** Python writes the parts of a complex number. */
void spy_py_float_part(double v, char *buf, size_t n);
/* "2" for integral values, else as spy_py_float. */
void spy_py_num(double v, char *buf, size_t n);
/* strtod in the C locale (for number text this module, or Python, wrote). */
double spy_strtod_c(const char *s);

/* str(list) of numbers, as spy_py_num prints them: "[20, 40]". */
void spy_py_list(const double *v, size_t count, char *buf, size_t n);

/* str(v) / repr(v) of the Python value a JSON value stands for: None,
** True, 'text' (repr) or text (str), [1, 2.5], {'beta': 8}. */
void spy_py_str(const cJSON *v, char *buf, size_t n);
void spy_py_repr(const cJSON *v, char *buf, size_t n);
/* type(v).__name__: NoneType, bool, int, float, str, list, dict.  For
** values a Python program wrote; messages about what the user typed use
** spy_lua_typename (docs/messages.md). */
const char *spy_py_typename(const cJSON *v);
/* The Lua type of the value the user wrote, for messages about keywords:
** nil, boolean, integer, number, string, list (a sequence), table. */
const char *spy_lua_typename(const cJSON *v);
/* The value as the user wrote it in Lua, for messages: nil, true, 2.5,
** text (str) or "text" (repr), {1, 2}, {beta=8}. */
void spy_lua_str(const cJSON *v, char *buf, size_t n);
void spy_lua_repr(const cJSON *v, char *buf, size_t n);

/* Syncopy's list of options "'a' or 'b' or 'c' " (with its trailing space). */
void spy_py_or_list(const char *const *names, size_t count, char *buf, size_t n);

/* SPYWarning / SPYInfo: spy_log at WARNING / INFO of
** "Syncopy <caller>: <message>" (Syncopy writes "Syncopy <caller> WARNING:
** <message>"; spy's log line already names the level, see docs/messages.md). */
void spy_py_warning(const char *caller, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void spy_py_info(const char *caller, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- Syncopy's parsers ----------------------------------------------------- */

/* scalar_parser(v, varname=name, ntype="int_like" if int_like, lims=[lo,
** hi]) with Syncopy's messages, v as Python prints it; los/his are the
** bounds as Syncopy prints them (NULL: spy_py_num of lo / hi). */
int spy_scalar_parser(const cJSON *v, const char *name, bool int_like, double lo, double hi,
                      const char *los, const char *his, spy_err *err);
/* array_parser(v, varname=name, hasinf=False, hasnan=False, lims=[lo, hi],
** dims=(want,), or (None,) when want is 0): the values in a malloc'd *out
** (*n of them) on success. */
int spy_array_parser(const cJSON *v, const char *name, double lo, double hi, const char *los,
                     const char *his, size_t want, double **out, size_t *n, spy_err *err);

/* ---- NumPy arrays -------------------------------------------------------- */

/* str() of a 1-D numpy array of v with NumPy's default print options
** (precision 8 'maxprec', scientific when the magnitudes call for it, lines
** wrapped at 75 columns, more than 1000 values summarised as
** "a b c ... x y z"): as float64 ("[  2.   4. 100.]"), or as int64 for
** integral values ("[ 5 40]").  The formatter is the one of the array
** preview (core/array_ops.h). */
char *spy_np_array_str(const double *v, size_t count);
char *spy_np_int_array_str(const double *v, size_t count);
/* spy_np_array_str into a buffer (truncated), for messages. */
void spy_np_str(const double *v, size_t count, char *buf, size_t n);

/* ---- Syncopy's history entry ---------------------------------------------- */

/* The value part of a history line: s itself when shorter than 80
** characters, else its first 30 + ", ..., " + its last 30 (in place). */
void spy_log_value_shorten(char *s);

/*
** The history entry of a computation, "computed <cF> with settings\n"
** followed by one "\t<key> = <value>\n" line per entry of Syncopy's
** log_dict, values shortened as spy_log_value_shorten does.  Lines are
** collected first (the cF name is often known last); spy_history_text
** returns the malloc'd entry (NULL when out of memory at any point, a NULL
** value standing for a text that could not be made) and
** spy_history_free releases the lines, also after spy_history_text.  A
** zeroed spy_history is empty.
*/
typedef struct spy_history {
  spy_strbuf lines;
} spy_history;

void spy_history_add(spy_history *h, const char *key, const char *value);
/* str() of the Python value a JSON value stands for (spy_py_str). */
void spy_history_add_json(spy_history *h, const char *key, const cJSON *v);
/* str() of a float64 numpy array (spy_np_array_str). */
void spy_history_add_np(spy_history *h, const char *key, const double *v, size_t count);
char *spy_history_text(const spy_history *h, const char *cf);
void spy_history_free(spy_history *h);

#endif
