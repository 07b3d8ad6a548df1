/* Internal helpers of src/stats (not part of the public stats.h). */
#ifndef SPY_STATS_COMMON_H
#define SPY_STATS_COMMON_H

#include <stdio.h>

#include "stats/stats.h"

/* Geometry of selected trial i: rows x inner... x last (2 or 4 dims). */
int spy_stat_block_dims(const spy_data *d, const spy_selection *s, size_t i, size_t dims[4]);
size_t spy_stat_block_elems(const spy_data *d, const spy_selection *s, size_t i);
/* Elements of the raw read buffer spy_stat_read_block needs (before the
** inner selections are applied). */
size_t spy_stat_raw_elems(const spy_data *d, const spy_selection *s, size_t i);
/* Reads selected trial i as doubles (complex: interleaved re, im) into dst
** (block_elems x (cplx ? 2 : 1)); raw is scratch of raw_elems x (cplx ? 2 : 1). */
int spy_stat_read_block(spy_data *d, const spy_selection *s, size_t i, bool cplx, double *dst,
                        double *raw, spy_err *err);
/* Labels and axes of the selection (channel, channel_j, taper, freq) and samplerate. */
int spy_stat_labels(spy_data *out, const spy_data *in, const spy_selection *s);
/* cfg and log copied from the input. */
void spy_stat_inherit(spy_data *out, const spy_data *in);
/* Output dtype: float32 / complex64 unless the input is double precision. */
spy_dtype spy_stat_out_dtype(spy_dtype in, bool cplx_out);

#endif
