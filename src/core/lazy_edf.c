/*
** edflib on first use (src/core/lazy.h): spy.load_edf.
*/
#include <edflib.h>

#include "core/lazy.h"

#define SPY_LAZY_LIB spy_lazy_edf

#define FUNCS(F, V) \
  F(int, edf_get_annotation, (int handle, int n, struct edf_annotation_struct *annot), (handle, n, annot), -1) \
  F(int, edfclose_file, (int handle), (handle), -1) \
  F(int, edfopen_file_readonly, (const char *path, struct edf_hdr_struct *edfhdr, int read_annotations), (path, edfhdr, read_annotations), -1)

SPY_LAZY_DEFINE(FUNCS, SPY_SONAME_EDF, "libedf1", NULL)
