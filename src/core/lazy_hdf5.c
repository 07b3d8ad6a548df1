/*
** HDF5 on first use (src/core/lazy.h).  HDF5's public macros read global
** ids (H5T_NATIVE_DOUBLE is `(H5open(), H5T_NATIVE_DOUBLE_g)`): spy keeps
** its own copies of the ones it uses, filled once from the library after
** H5open() when it is loaded, so every such macro reads a set value.
*/
#include <dlfcn.h>
#include <hdf5.h>

#include "core/lazy.h"

#define SPY_LAZY_LIB spy_lazy_hdf5

/* The global ids spy's code reads through HDF5's macros. */
#define VARS(X)                                                                                    \
  X(H5P_CLS_DATASET_ACCESS_ID_g) X(H5P_CLS_DATASET_CREATE_ID_g) X(H5P_CLS_LINK_CREATE_ID_g)        \
  X(H5T_C_S1_g) X(H5T_IEEE_F32BE_g) X(H5T_IEEE_F32LE_g) X(H5T_IEEE_F64BE_g) X(H5T_IEEE_F64LE_g)    \
  X(H5T_NATIVE_DOUBLE_g) X(H5T_NATIVE_FLOAT_g) X(H5T_NATIVE_INT64_g) X(H5T_NATIVE_INT_g)           \
  X(H5T_NATIVE_UCHAR_g) X(H5T_NATIVE_UINT64_g) X(H5T_STD_I32LE_g) X(H5T_STD_I64LE_g)            \
  X(H5T_STD_REF_OBJ_g) X(H5T_STD_U64LE_g)

#define DEFINE_VAR(name) SPY_LAZY_HIDDEN hid_t name = H5I_INVALID_HID;
VARS(DEFINE_VAR)

#define FUNCS(F, V) \
  F(herr_t, H5Aclose, (hid_t attr_id), (attr_id), -1) \
  F(hid_t, H5Acreate2, (hid_t loc_id, const char *attr_name, hid_t type_id, hid_t space_id, hid_t acpl_id, hid_t aapl_id), (loc_id, attr_name, type_id, space_id, acpl_id, aapl_id), -1) \
  F(herr_t, H5Adelete, (hid_t loc_id, const char *attr_name), (loc_id, attr_name), -1) \
  F(htri_t, H5Aexists, (hid_t obj_id, const char *attr_name), (obj_id, attr_name), -1) \
  F(hid_t, H5Aget_space, (hid_t attr_id), (attr_id), -1) \
  F(hid_t, H5Aget_type, (hid_t attr_id), (attr_id), -1) \
  F(herr_t, H5Aiterate2, (hid_t loc_id, H5_index_t idx_type, H5_iter_order_t order, hsize_t *idx, H5A_operator2_t op, void *op_data), (loc_id, idx_type, order, idx, op, op_data), -1) \
  F(hid_t, H5Aopen, (hid_t obj_id, const char *attr_name, hid_t aapl_id), (obj_id, attr_name, aapl_id), -1) \
  F(herr_t, H5Aread, (hid_t attr_id, hid_t type_id, void *buf), (attr_id, type_id, buf), -1) \
  F(herr_t, H5Awrite, (hid_t attr_id, hid_t type_id, const void *buf), (attr_id, type_id, buf), -1) \
  F(herr_t, H5Dclose, (hid_t dset_id), (dset_id), -1) \
  F(hid_t, H5Dcreate2, (hid_t loc_id, const char *name, hid_t type_id, hid_t space_id, hid_t lcpl_id, hid_t dcpl_id, hid_t dapl_id), (loc_id, name, type_id, space_id, lcpl_id, dcpl_id, dapl_id), -1) \
  F(hid_t, H5Dget_create_plist, (hid_t dset_id), (dset_id), -1) \
  F(haddr_t, H5Dget_offset, (hid_t dset_id), (dset_id), HADDR_UNDEF) \
  F(hid_t, H5Dget_space, (hid_t dset_id), (dset_id), -1) \
  F(hsize_t, H5Dget_storage_size, (hid_t dset_id), (dset_id), 0) \
  F(hid_t, H5Dget_type, (hid_t dset_id), (dset_id), -1) \
  F(hid_t, H5Dopen2, (hid_t loc_id, const char *name, hid_t dapl_id), (loc_id, name, dapl_id), -1) \
  F(herr_t, H5Dread, (hid_t dset_id, hid_t mem_type_id, hid_t mem_space_id, hid_t file_space_id, hid_t dxpl_id, void *buf), (dset_id, mem_type_id, mem_space_id, file_space_id, dxpl_id, buf), -1) \
  F(herr_t, H5Dvlen_reclaim, (hid_t type_id, hid_t space_id, hid_t dxpl_id, void *buf), (type_id, space_id, dxpl_id, buf), -1) \
  F(herr_t, H5Dwrite, (hid_t dset_id, hid_t mem_type_id, hid_t mem_space_id, hid_t file_space_id, hid_t dxpl_id, const void *buf), (dset_id, mem_type_id, mem_space_id, file_space_id, dxpl_id, buf), -1) \
  F(herr_t, H5Eclear2, (hid_t err_stack), (err_stack), -1) \
  F(herr_t, H5Eset_auto2, (hid_t estack_id, H5E_auto2_t func, void *client_data), (estack_id, func, client_data), -1) \
  F(herr_t, H5Ewalk2, (hid_t err_stack, H5E_direction_t direction, H5E_walk2_t func, void *client_data), (err_stack, direction, func, client_data), -1) \
  F(herr_t, H5Fclose, (hid_t file_id), (file_id), -1) \
  F(hid_t, H5Fcreate, (const char *filename, unsigned flags, hid_t fcpl_id, hid_t fapl_id), (filename, flags, fcpl_id, fapl_id), -1) \
  F(herr_t, H5Fflush, (hid_t object_id, H5F_scope_t scope), (object_id, scope), -1) \
  F(htri_t, H5Fis_hdf5, (const char *filename), (filename), -1) \
  F(hid_t, H5Fopen, (const char *filename, unsigned flags, hid_t fapl_id), (filename, flags, fapl_id), -1) \
  F(herr_t, H5Gclose, (hid_t group_id), (group_id), -1) \
  F(hid_t, H5Gcreate2, (hid_t loc_id, const char *name, hid_t lcpl_id, hid_t gcpl_id, hid_t gapl_id), (loc_id, name, lcpl_id, gcpl_id, gapl_id), -1) \
  F(hid_t, H5Gopen2, (hid_t loc_id, const char *name, hid_t gapl_id), (loc_id, name, gapl_id), -1) \
  F(herr_t, H5Lcreate_soft, (const char *link_target, hid_t link_loc_id, const char *link_name, hid_t lcpl_id, hid_t lapl_id), (link_target, link_loc_id, link_name, lcpl_id, lapl_id), -1) \
  F(herr_t, H5Ldelete, (hid_t loc_id, const char *name, hid_t lapl_id), (loc_id, name, lapl_id), -1) \
  F(htri_t, H5Lexists, (hid_t loc_id, const char *name, hid_t lapl_id), (loc_id, name, lapl_id), -1) \
  F(herr_t, H5Lget_info, (hid_t loc_id, const char *name, H5L_info_t *linfo, hid_t lapl_id), (loc_id, name, linfo, lapl_id), -1) \
  F(herr_t, H5Literate, (hid_t grp_id, H5_index_t idx_type, H5_iter_order_t order, hsize_t *idx, H5L_iterate_t op, void *op_data), (grp_id, idx_type, order, idx, op, op_data), -1) \
  F(herr_t, H5Oget_info_by_name, (hid_t loc_id, const char *name, H5O_info_t *oinfo, hid_t lapl_id), (loc_id, name, oinfo, lapl_id), -1) \
  F(herr_t, H5Pclose, (hid_t plist_id), (plist_id), -1) \
  F(hid_t, H5Pcreate, (hid_t cls_id), (cls_id), -1) \
  F(int, H5Pget_external_count, (hid_t plist_id), (plist_id), -1) \
  F(H5D_layout_t, H5Pget_layout, (hid_t plist_id), (plist_id), -1) \
  F(int, H5Pget_nfilters, (hid_t plist_id), (plist_id), -1) \
  F(herr_t, H5Pset_alloc_time, (hid_t plist_id, H5D_alloc_time_t alloc_time), (plist_id, alloc_time), -1) \
  F(herr_t, H5Pset_chunk, (hid_t plist_id, int ndims, const hsize_t dim[ ]), (plist_id, ndims, dim), -1) \
  F(herr_t, H5Pset_create_intermediate_group, (hid_t plist_id, unsigned crt_intmd), (plist_id, crt_intmd), -1) \
  F(herr_t, H5Pset_elink_cb, (hid_t lapl_id, H5L_elink_traverse_t func, void *op_data), (lapl_id, func, op_data), -1) \
  F(herr_t, H5Pset_fill_time, (hid_t plist_id, H5D_fill_time_t fill_time), (plist_id, fill_time), -1) \
  F(herr_t, H5Pset_layout, (hid_t plist_id, H5D_layout_t layout), (plist_id, layout), -1) \
  F(herr_t, H5Pset_obj_track_times, (hid_t plist_id, hbool_t track_times), (plist_id, track_times), -1) \
  F(herr_t, H5Rcreate, (void *ref, hid_t loc_id, const char *name, H5R_type_t ref_type, hid_t space_id), (ref, loc_id, name, ref_type, space_id), -1) \
  F(hid_t, H5Rdereference2, (hid_t obj_id, hid_t oapl_id, H5R_type_t ref_type, const void *ref), (obj_id, oapl_id, ref_type, ref), -1) \
  F(herr_t, H5Sclose, (hid_t space_id), (space_id), -1) \
  F(hid_t, H5Screate, (H5S_class_t type), (type), -1) \
  F(hid_t, H5Screate_simple, (int rank, const hsize_t dims[], const hsize_t maxdims[]), (rank, dims, maxdims), -1) \
  F(int, H5Sget_simple_extent_dims, (hid_t space_id, hsize_t dims[], hsize_t maxdims[]), (space_id, dims, maxdims), -1) \
  F(int, H5Sget_simple_extent_ndims, (hid_t space_id), (space_id), -1) \
  F(hssize_t, H5Sget_simple_extent_npoints, (hid_t space_id), (space_id), -1) \
  F(herr_t, H5Sselect_hyperslab, (hid_t space_id, H5S_seloper_t op, const hsize_t start[], const hsize_t stride[], const hsize_t count[], const hsize_t block[]), (space_id, op, start, stride, count, block), -1) \
  F(herr_t, H5Sselect_none, (hid_t spaceid), (spaceid), -1) \
  F(herr_t, H5Tclose, (hid_t type_id), (type_id), -1) \
  F(hid_t, H5Tcopy, (hid_t type_id), (type_id), -1) \
  F(hid_t, H5Tcreate, (H5T_class_t type, size_t size), (type, size), -1) \
  F(htri_t, H5Tequal, (hid_t type1_id, hid_t type2_id), (type1_id, type2_id), -1) \
  F(H5T_class_t, H5Tget_class, (hid_t type_id), (type_id), -1) \
  F(H5T_cset_t, H5Tget_cset, (hid_t type_id), (type_id), -1) \
  F(char *, H5Tget_member_name, (hid_t type_id, unsigned membno), (type_id, membno), NULL) \
  F(size_t, H5Tget_member_offset, (hid_t type_id, unsigned membno), (type_id, membno), 0) \
  F(hid_t, H5Tget_member_type, (hid_t type_id, unsigned membno), (type_id, membno), -1) \
  F(int, H5Tget_nmembers, (hid_t type_id), (type_id), -1) \
  F(int, H5Tget_offset, (hid_t type_id), (type_id), -1) \
  F(size_t, H5Tget_precision, (hid_t type_id), (type_id), 0) \
  F(size_t, H5Tget_size, (hid_t type_id), (type_id), 0) \
  F(H5T_str_t, H5Tget_strpad, (hid_t type_id), (type_id), -1) \
  F(herr_t, H5Tinsert, (hid_t parent_id, const char *name, size_t offset, hid_t member_id), (parent_id, name, offset, member_id), -1) \
  F(htri_t, H5Tis_variable_str, (hid_t type_id), (type_id), -1) \
  F(herr_t, H5Tset_cset, (hid_t type_id, H5T_cset_t cset), (type_id, cset), -1) \
  F(herr_t, H5Tset_size, (hid_t type_id, size_t size), (type_id, size), -1) \
  F(herr_t, H5Tset_strpad, (hid_t type_id, H5T_str_t strpad), (type_id, strpad), -1) \
  F(herr_t, H5check_version, (unsigned majnum, unsigned minnum, unsigned relnum), (majnum, minnum, relnum), -1) \
  F(herr_t, H5free_memory, (void *mem), (mem), -1) \
  F(herr_t, H5open, (void), (), -1)

static void loaded(void *h);
SPY_LAZY_DEFINE(FUNCS, SPY_SONAME_HDF5, "libhdf5-103-1", loaded)

/* Runs once, under the loader's lock, before any stub can call: H5open()
** sets the library's ids, which are then copied. */
static void loaded(void *h)
{
  herr_t (*open)(void);
  memcpy(&open, &spy_lazy_hdf5_slots[spy_lazy_i_H5open], sizeof open);
  open();
#define COPY_VAR(name)                                                                             \
  {                                                                                                \
    const hid_t *p = dlsym(h, #name);                                                              \
    if (p) name = *p;                                                                              \
  }
  VARS(COPY_VAR)
}
