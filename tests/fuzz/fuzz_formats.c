/*
** libFuzzer target: the hand-written parsers of src/io/formats: the .npy
** header, the BrainVision .vhdr header and .vmrk markers, and the TDT .tsq
** event index.  Any input either parses or fails with a message; a parsed
** .npy header describes at most 8 axes and data that start inside or right
** after the bytes it was given.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/formats/eeg.h"
#include "io/formats/npy.h"
#include "io/formats/tdt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  spy_err err = {0};
  spy_npy_header h;
  if (spy_npy_parse_header(data, size, "fuzz.npy", &h, &err) == SPY_OK) {
    if (h.ndim < 0 || h.ndim > 8 || h.data_offset > size || h.itemsize < 1 || h.itemsize > 16)
      abort();
  } else if (!err.msg[0]) {
    abort(); /* every failure says why */
  }
  memset(&err, 0, sizeof err);
  if (spy_brainvision_check_header((const char *)data, size, &err) != SPY_OK && !err.msg[0])
    abort();
  memset(&err, 0, sizeof err);
  if (spy_tdt_check_tsq(data, size, &err) != SPY_OK && !err.msg[0]) abort();
  return 0;
}
