/* Wavelet transform against Syncopy: Morlet power at 2..100 Hz, every
** sample (tests/data/wavelet_morlet_pow.h5), to 1e-5 of each channel's
** maximum; freq and time axes to 1e-9. */
#include "test_wavelet_util.h"

int main(void)
{
  tf_check_reference("wavelet_morlet_pow.h5", spy_wavelet_plan, 1e-5);
  spy_fft_cleanup();
  return t_done();
}
