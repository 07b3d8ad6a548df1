/* Keyword specifications of spy.preprocessing and spy.resampledata
** (Syncopy's signatures and defaults, syncopy.md 3 and 4); they drive
** validation, help() and completion. */
#ifndef SPY_PREPROCESSING_SPEC_H
#define SPY_PREPROCESSING_SPEC_H

#include "core/kwspec.h"

extern const spy_funcspec spy_spec_preprocessing, spy_spec_resampledata;

#endif
