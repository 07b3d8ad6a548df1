/*
** Numbers in messages and logs as Python prints them, so texts that Syncopy
** builds with str() read the same: 500.0, 0.25, 1e-05, inf, [20 40].
*/
#ifndef SPY_PYFMT_H
#define SPY_PYFMT_H

#include <stddef.h>

/* repr(float(v)): shortest round-trip digits, ".0" on integral values,
** exponent form below 1e-4 and from 1e16 on. */
void spy_pyfloat(double v, char *buf, size_t n);

/* A value the user gave: integral values print as Python ints ("4"), since
** Lua integers arrive as such; anything else as spy_pyfloat. */
void spy_pynum(double v, char *buf, size_t n);

/* str(numpy.array(v)) of a 1-D array: "[20 40]" when every value is
** integral, else NumPy's padded float form "[ 8.5 12. ]". */
void spy_pyarray(const double *v, size_t count, char *buf, size_t n);

/* str(list) of numbers: "[20, 40]". */
void spy_pylist(const double *v, size_t count, char *buf, size_t n);

#endif
