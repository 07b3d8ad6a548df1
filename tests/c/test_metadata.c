/*
** Metadata in HDF5 (src/io/metadata.c): Syncopy's encoding on disk (one
** attribute per `<label>__<trial>_<chunk>`, per-channel peak rows stacked,
** n_peaks int32) and the decoded nested dict back; inconsistent counts
** leave the rows stacked instead of inventing a split.
*/
#include <cjson/cJSON.h>
#include <string.h>
#include <unistd.h>

#include "io/h5.h"
#include "io/metadata.h"
#include "t.h"

static const char *MD =
    "{\"aperiodic_params\": {\"aperiodic_params__0_0\": [[-0.4, -0.3, 0.1], [0.85, 0.9, 1.0]]},"
    " \"error\": {\"error__0_0\": [0.04, 0.05, 0.06]},"
    " \"gaussian_params\": {\"gaussian_params__0_0\": [[[8.3, 0.28, 2.4], [18.4, 0.49, 5.8]], [],"
    " [[29.8, 0.56, 4.9]]]},"
    " \"n_peaks\": {\"n_peaks__0_0\": [2, 0, 1]},"
    " \"peak_params\": {\"peak_params__0_0\": [[[8.3, 0.38, 4.8], [18.4, 0.49, 11.6]], [],"
    " [[29.8, 0.56, 9.9]]]},"
    " \"r_squared\": {\"r_squared__0_0\": [0.97, 0.98, 0.99]}}";

int main(void)
{
  spy_h5_init();
  char path[] = "/tmp/spy-test-metadata-XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  cJSON *md = cJSON_Parse(MD), *back = NULL;
  spy_err err = {0};
  CHECK(spy_metadata_write(f, md, &err) == SPY_OK, "write: %s", err.msg);
  /* on disk: stacked rows and int32 counts, as Syncopy's encode step */
  hid_t g = H5Gopen2(f, "metadata", H5P_DEFAULT);
  hid_t a = H5Aopen(g, "gaussian_params__0_0", H5P_DEFAULT);
  hid_t sp = H5Aget_space(a);
  hsize_t dims[2] = {0, 0};
  CHECK(H5Sget_simple_extent_ndims(sp) == 2, "rank");
  H5Sget_simple_extent_dims(sp, dims, NULL);
  CHECK(dims[0] == 3 && dims[1] == 3, "stacked rows %llu x %llu", dims[0], dims[1]);
  H5Sclose(sp);
  H5Aclose(a);
  a = H5Aopen(g, "n_peaks__0_0", H5P_DEFAULT);
  hid_t t = H5Aget_type(a);
  CHECK(H5Tget_class(t) == H5T_INTEGER && H5Tget_size(t) == 4, "n_peaks int32");
  H5Tclose(t);
  H5Aclose(a);
  CHECK(spy_metadata_read(f, &back, &err) == SPY_OK, "read: %s", err.msg);
  CHECK(cJSON_Compare(md, back, 1), "round trip: %s", cJSON_PrintUnformatted(back));
  cJSON_Delete(back);

  /* counts that do not add up: rows stay stacked */
  int bad[3] = {2, 5, 1};
  a = H5Aopen(g, "n_peaks__0_0", H5P_DEFAULT);
  H5Awrite(a, H5T_NATIVE_INT, bad);
  H5Aclose(a);
  H5Gclose(g);
  CHECK(spy_metadata_read(f, &back, &err) == SPY_OK, "read: %s", err.msg);
  const cJSON *gp = cJSON_GetObjectItem(cJSON_GetObjectItem(back, "gaussian_params"),
                                        "gaussian_params__0_0");
  CHECK(cJSON_GetArraySize(gp) == 3 && cJSON_GetArraySize(cJSON_GetArrayItem(gp, 0)) == 3,
        "stacked rows kept");
  cJSON_Delete(back);

  /* no group: NULL */
  CHECK(spy_metadata_write(f, NULL, &err) == SPY_OK, "remove");
  CHECK(spy_metadata_read(f, &back, &err) == SPY_OK && back == NULL, "no metadata group");
  H5Fclose(f);
  unlink(path);
  cJSON_Delete(md);
  return t_done();
}
