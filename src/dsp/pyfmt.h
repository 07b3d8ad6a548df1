/*
** Python's and NumPy's text forms of values, for Syncopy's messages and
** history entries, which embed str()/repr() of the user's arguments
** ("Invalid value of `pad`: '0.5'; ...", "foi = [  0.    0.5 ...]").
**
** JSON cannot tell 2 from 2.0: spy_py_num prints integral values as ints
** (what a Lua integer would have been in Python), spy_py_float always as a
** float (for values Syncopy computes, such as samplerate / 2).
** All functions write a NUL-terminated string, truncated to n bytes.
*/
#ifndef SPY_PYFMT_H
#define SPY_PYFMT_H

#include <cjson/cJSON.h>
#include <stddef.h>

void spy_py_float(double v, char *buf, size_t n); /* repr(float(v)): "2.0", "0.001", "1e-05" */
void spy_py_num(double v, char *buf, size_t n);   /* "2" for integral values, else as above */

/* str(list) of numbers, as spy_py_num prints them: "[20, 40]". */
void spy_py_list(const double *v, size_t count, char *buf, size_t n);

/* str(v) / repr(v) of the Python value a JSON value stands for: None,
** True, 'text' (repr) or text (str), [1, 2.5], {'beta': 8}. */
void spy_py_str(const cJSON *v, char *buf, size_t n);
void spy_py_repr(const cJSON *v, char *buf, size_t n);
/* type(v).__name__: NoneType, bool, int, float, str, list, dict */
const char *spy_py_typename(const cJSON *v);

/* SPYWarning / SPYInfo: spy_log at WARNING / INFO of
** "Syncopy <caller> WARNING: <message>" ("... INFO: ..."). */
void spy_py_warning(const char *caller, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void spy_py_info(const char *caller, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Syncopy's list of options "'a' or 'b' or 'c' " (with its trailing space). */
void spy_py_or_list(const char *const *names, size_t count, char *buf, size_t n);

/* str(np.asarray(v, float64)) of a 1-D array: NumPy's default print options
** (precision 8, 75 columns, summarised as "a b c ... x y z" above 1000
** elements).  Returns a malloc'd string or NULL. */
char *spy_np_array_str(const double *v, size_t count);

/* The value part of a history line: s itself when shorter than 80
** characters, else its first 30 + ", ..., " + its last 30 (in place). */
void spy_log_value_shorten(char *s);

#endif
