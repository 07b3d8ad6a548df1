/*
** NumPy's summation order for float64 (np.sum / np.mean of a contiguous
** array): pairwise, 8 accumulators per block of up to 128 values.  Used
** where spy must reproduce a NumPy result to the last bit (poisson_noise's
** weights, spike_psth's samplerate).
*/
#ifndef SPY_NPSUM_H
#define SPY_NPSUM_H

#include <stddef.h>

double spy_np_sum(const double *a, size_t n);

#endif
