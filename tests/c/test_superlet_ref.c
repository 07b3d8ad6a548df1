/* Superlet transform against Syncopy: multiplicative and fractional
** adaptive SLT, orders 1..5, c_1 = 3, 10..100 Hz, every sample
** (tests/data/superlet_pow.h5, superlet_adaptive_pow.h5), to 1e-5 of each
** channel's maximum; freq and time axes to 1e-9. */
#include "test_wavelet_util.h"

int main(void)
{
  tf_check_reference("superlet_pow.h5", spy_superlet_plan, 1e-5);
  tf_check_reference("superlet_adaptive_pow.h5", spy_superlet_plan, 1e-5);
  spy_fft_cleanup();
  return t_done();
}
