/*
** Operations on spy_array behind spy.array at the prompt: views by slicing,
** reductions, elementwise arithmetic with broadcasting, unary maths, dtype
** conversion, and the NumPy-style text preview.
**
** Index convention.  These functions speak the user's language, because
** their error messages reach the prompt unchanged: indices are 1-based,
** negative indices count from the end (-1 is the last), ranges {lo, hi,
** step} are inclusive and axes are numbered from 1.  (The accessors of
** array.h are 0-based; the functions here convert.)
**
** Ownership.  Every `spy_array **out` receives a new reference that the
** caller frees with spy_array_free; it is NULL when the call fails.  Slices
** and reshapes of contiguous arrays are views sharing the source's buffer
** (writes through one are seen by the other); everything else allocates a
** new contiguous array.
**
** Dtype rules (NumPy's, with scalars passed as 0-d arrays):
**  - kinds rank int64 < float < complex; two arrays give the smallest dtype
**    holding both (float32 with int64 gives float64, float64 with complex64
**    gives complex128);
**  - a 0-d operand next to an array of rank >= 1 only contributes its kind:
**    float32 * 2.5 stays float32, float32 * (0+1j) gives complex64;
**  - / and ^ of two integers give float64 (as Lua's / and ^ do);
**  - integer + - * wrap around on overflow (two's complement), as NumPy's;
**  - arithmetic runs in double (complex) precision and is rounded to the
**    result dtype once.
*/
#ifndef SPY_ARRAY_OPS_H
#define SPY_ARRAY_OPS_H

#include "core/array.h"

/* ---- indexing and views ------------------------------------------------ */

typedef enum { SPY_SLICE_ALL, SPY_SLICE_INDEX, SPY_SLICE_RANGE } spy_slicekind;

/* One axis of a slice: ALL takes the axis whole, INDEX picks lo (dropping
** the axis), RANGE takes lo..hi (inclusive) by step (non-zero; negative
** steps walk backwards, hi <= lo). */
typedef struct spy_slice {
  spy_slicekind kind;
  int64_t lo, hi, step;
} spy_slice;

/* Position (0-based) of the 1-based index i on an axis of length n; axis
** (1-based) names the axis in the error, which says what is allowed. */
int spy_index_resolve(int64_t i, size_t n, int axis, size_t *pos, spy_err *err);

/* A view of a: axis k < ns is cut by s[k], the remaining axes are whole. */
int spy_array_slice(const spy_array *a, const spy_slice *s, int ns, spy_array **out, spy_err *err);

/* Positions (0-based) of one element addressed by exactly ndim indices. */
int spy_array_locate(const spy_array *a, const int64_t *idx, int nidx, size_t *pos, spy_err *err);

/* shape: ndim entries >= 0, at most one -1 (inferred).  A view when a is
** contiguous, otherwise a reshaped copy. */
int spy_array_reshape(const spy_array *a, int ndim, const int64_t *shape, spy_array **out,
                      spy_err *err);

/* ---- conversion and assignment ----------------------------------------- */

/* A contiguous copy in dtype t.  Refuses complex -> real (the imaginary part
** would be lost silently: take real() or abs() first) and, for int64,
** non-finite or out-of-range values; finite floats truncate toward zero. */
int spy_array_astype(const spy_array *a, spy_dtype t, spy_array **out, spy_err *err);

/* Writes src, broadcast to dst's shape, into dst (src may overlap dst).
** Refuses complex values into a real dst and non-integral values into an
** int64 dst. */
int spy_array_assign(spy_array *dst, const spy_array *src, spy_err *err);

/* ---- arithmetic -------------------------------------------------------- */

typedef enum { SPY_BIN_ADD, SPY_BIN_SUB, SPY_BIN_MUL, SPY_BIN_DIV, SPY_BIN_POW } spy_binop;

/* Result dtype of a op b under the rules above. */
spy_dtype spy_binop_dtype(spy_binop op, const spy_array *a, const spy_array *b);

/* a op b elementwise, shapes broadcast as NumPy does (aligned at the last
** axis, each pair of lengths equal or one of them 1). */
int spy_array_binop(spy_binop op, const spy_array *a, const spy_array *b, spy_array **out,
                    spy_err *err);

typedef enum {
  SPY_UN_NEG,
  SPY_UN_ABS,  /* complex -> real of the same precision */
  SPY_UN_REAL, /* complex -> real; real -> copy */
  SPY_UN_IMAG, /* complex -> real; real -> zeros */
  SPY_UN_CONJ,
  SPY_UN_ANGLE, /* radians in (-pi, pi]; real input gives 0 or pi */
  SPY_UN_SQRT,  /* real input stays real: negative -> nan, as NumPy */
  SPY_UN_EXP,
  SPY_UN_LOG,
  SPY_UN_LOG10
} spy_unop;

/* op elementwise; int64 input gives float64 except for neg, abs, real,
** imag and conj, which stay int64. */
int spy_array_unary(spy_unop op, const spy_array *a, spy_array **out, spy_err *err);

/* ---- reductions -------------------------------------------------------- */

typedef enum {
  SPY_RED_SUM,  /* same dtype as the input */
  SPY_RED_MEAN, /* int64 -> float64 */
  SPY_RED_STD,  /* population std (ddof 0); real dtype of the input's precision */
  SPY_RED_MIN,  /* real dtypes only; nan propagates */
  SPY_RED_MAX,
  SPY_RED_ARGMIN, /* int64, 1-based; the first of equal extremes, or the first nan */
  SPY_RED_ARGMAX,
  /* NumPy's nan* reductions: nan elements are left out (a complex element is
  ** nan when either part is); a lane of nan only gives 0 for nansum and nan
  ** for the others. */
  SPY_RED_NANSUM,
  SPY_RED_NANMEAN,
  SPY_RED_NANSTD,
  SPY_RED_NANMIN,
  SPY_RED_NANMAX
} spy_reduce_op;

/* Reduces axis (1..ndim, or -ndim..-1 from the last) away, or with axis 0
** every element into a 0-d array (argmin/argmax then give the 1-based flat
** C-order position).  An empty axis gives 0 for sum and nan for mean and
** std; min, max and the arg reductions refuse it. */
int spy_array_reduce(const spy_array *a, spy_reduce_op op, int axis, spy_array **out, spy_err *err);

/* ---- views ------------------------------------------------------------- */

/* A view with the axes permuted: axis k of the result is axis perm[k]
** (0-based) of a; perm NULL reverses them (NumPy's a.T).  perm must name
** every axis once. */
int spy_array_transpose(const spy_array *a, const int *perm, spy_array **out, spy_err *err);
/* A view without the axes of length 1 (all of them, or only axis+1 when
** axis > 0, which must have length 1). */
int spy_array_squeeze(const spy_array *a, int axis, spy_array **out, spy_err *err);

/* ---- text -------------------------------------------------------------- */

typedef struct spy_printopts {
  size_t threshold; /* more elements than this: summarise (head ... tail) */
  int edgeitems;    /* items shown at each end of a summarised axis */
  int linewidth;    /* wrap rows at this many columns */
  int precision;    /* at most this many fractional digits */
  int maxlines;     /* never print more lines than this */
} spy_printopts;

/* NumPy's defaults (1000, 3, 75, 8) and a 40-line ceiling. */
extern const spy_printopts spy_printopts_default;

/*
** The preview of a, as NumPy's repr with the shape and dtype always shown:
**   array([[0.1, 0.2, ..., 0.9], ...], shape=(1000, 32), dtype=float32)
** Values align in columns; each shows up to `precision` fractional digits,
** fewer when fewer identify it; scientific notation when NumPy would use it.
** Complex values read 1.5+2j.  A malloc'd string, NULL when out of memory.
*/
char *spy_array_format(const spy_array *a, const spy_printopts *o);

/* NumPy's str(a): the preview's rows and number formats with " " between
** values and no "array(", shape or dtype; summarised above o->threshold
** elements, never cut (o->maxlines is not used).  A 0-d array gives its
** element as the preview writes it.  Malloc'd, NULL when out of memory. */
char *spy_array_str(const spy_array *a, const spy_printopts *o);

/* A shape as NumPy writes it: "(3, 4)", "(3,)", "()". */
void spy_shape_format(int ndim, const size_t *shape, char *buf, size_t n);

/* One complex value as Python writes it, shortest round-trip digits:
** "1.5+2j", "1e-05-0.25j", "nan+infj". */
void spy_format_complex(double complex v, char *buf, size_t n);

#endif
