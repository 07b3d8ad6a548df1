/*
** matio on first use (src/core/lazy.h): spy.savemat and MAT v5 reading.
** matio links the shared libhdf5, the same one spy's HDF5 stubs open.
*/
#include <matio.h>

#include "core/lazy.h"

#define SPY_LAZY_LIB spy_lazy_matio

#define FUNCS(F, V) \
  F(int, Mat_Close, (mat_t *mat), (mat), -1) \
  F(mat_t *, Mat_CreateVer, (const char *matname, const char *hdr_str, enum mat_ft mat_file_ver), (matname, hdr_str, mat_file_ver), NULL) \
  F(enum mat_ft, Mat_GetVersion, (mat_t *mat), (mat), -1) \
  F(int, Mat_LogInitFunc, (const char *prog_name, void (*log_func)(int log_level, char *message)), (prog_name, log_func), -1) \
  F(mat_t *, Mat_Open, (const char *matname, int mode), (matname, mode), NULL) \
  F(matvar_t *, Mat_VarCreate, (const char *name, enum matio_classes class_type, enum matio_types data_type, int rank, size_t *dims, void *data, int opt), (name, class_type, data_type, rank, dims, data, opt), NULL) \
  F(matvar_t *, Mat_VarCreateStruct2, (const char *name, int rank, const size_t *dims, const char *const *fields), (name, rank, dims, fields), NULL) \
  V(Mat_VarFree, (matvar_t *matvar), (matvar), (void)0) \
  F(unsigned, Mat_VarGetNumberOfFields, (matvar_t *matvar), (matvar), 0) \
  F(char *const *, Mat_VarGetStructFieldnames, (const matvar_t *matvar), (matvar), NULL) \
  F(matvar_t *, Mat_VarRead, (mat_t *mat, const char *name), (mat, name), NULL) \
  F(matvar_t *, Mat_VarReadNextInfo, (mat_t *mat), (mat), NULL) \
  F(matvar_t *, Mat_VarSetCell, (matvar_t *matvar, int index, matvar_t *cell), (matvar, index, cell), NULL) \
  F(matvar_t *, Mat_VarSetStructFieldByName, (matvar_t *matvar, const char *field_name, size_t index, matvar_t *field), (matvar, field_name, index, field), NULL) \
  F(int, Mat_VarWrite, (mat_t *mat, matvar_t *matvar, enum matio_compression compress), (mat, matvar, compress), -1)

SPY_LAZY_DEFINE(FUNCS, SPY_SONAME_MATIO, "libmatio11", NULL)
