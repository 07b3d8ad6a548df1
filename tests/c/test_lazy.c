/* Libraries opened on first use (src/core/lazy.h): a missing library or
** function gives the stubs' failure values and a message naming the Debian
** package, never a crash; loading is safe from many threads at once; HDF5's
** global ids read through its macros are the library's. */
#include <hdf5.h>
#include <pthread.h>
#include <string.h>

#include "core/lazy.h"
#include "t.h"

/* A library that is not there. */
int spy_test_absent(int x);
#define SPY_LAZY_LIB absent_lib
#define ABSENT(F, V) F(int, spy_test_absent, (int x), (x), -7)
SPY_LAZY_DEFINE(ABSENT, "libspy-test-absent.so.0", "spy-test-absent0", NULL)
#undef SPY_LAZY_LIB

/* A library that is there, without the function asked for. */
int spy_test_nofunction(int x);
#define SPY_LAZY_LIB nofunction_lib
#define NOFUNCTION(F, V) F(int, spy_test_nofunction, (int x), (x), -8)
SPY_LAZY_DEFINE(NOFUNCTION, "libc.so.6", "libc6", NULL)
#undef SPY_LAZY_LIB

static void *race(void *arg)
{
  (void)arg;
  /* the first HDF5 call of the process, from several threads at once */
  size_t n = H5Tget_size(H5T_NATIVE_DOUBLE);
  return (void *)(uintptr_t)(n == sizeof(double) && spy_lazy_load(&spy_lazy_cminpack));
}

int main(void)
{
  enum { THREADS = 8 };
  pthread_t th[THREADS];
  for (int i = 0; i < THREADS; i++) CHECK(pthread_create(&th[i], NULL, race, NULL) == 0, "thread");
  for (int i = 0; i < THREADS; i++) {
    void *ok = NULL;
    pthread_join(th[i], &ok);
    CHECK(ok, "thread %d: HDF5 or cminpack not ready on first use", i);
  }

  /* every global id spy reads is a live HDF5 id */
  CHECK(H5Tget_size(H5T_NATIVE_FLOAT) == 4 && H5Tget_size(H5T_NATIVE_INT64) == 8 &&
            H5Tget_size(H5T_NATIVE_INT) == sizeof(int) && H5Tget_size(H5T_NATIVE_UCHAR) == 1,
        "native types");
  CHECK(H5Tget_size(H5T_IEEE_F32BE) == 4 && H5Tget_size(H5T_IEEE_F32LE) == 4 &&
            H5Tget_size(H5T_IEEE_F64BE) == 8 && H5Tget_size(H5T_IEEE_F64LE) == 8 &&
            H5Tget_size(H5T_STD_I32LE) == 4 && H5Tget_size(H5T_STD_I64LE) == 8 &&
            H5Tget_class(H5T_STD_REF_OBJ) == H5T_REFERENCE && H5Tget_class(H5T_C_S1) == H5T_STRING,
        "standard types");
  hid_t lists[] = {H5Pcreate(H5P_DATASET_ACCESS), H5Pcreate(H5P_DATASET_CREATE),
                   H5Pcreate(H5P_LINK_CREATE)};
  for (int i = 0; i < 3; i++) {
    CHECK(lists[i] >= 0, "property list class %d", i);
    H5Pclose(lists[i]);
  }
  spy_err err = {0};
  CHECK(spy_lazy_need(&spy_lazy_hdf5, "HDF5", &err) == SPY_OK, "%s", err.msg);

  /* a missing library: failure values and the message to raise */
  CHECK(spy_test_absent(1) == -7, "the stub of a missing library returns its failure value");
  CHECK(spy_lazy_need(&absent_lib, "spy.test", &err) == SPY_ERUNTIME, "code");
  const char *want = "spy.test needs libspy-test-absent.so.0 (Debian package spy-test-absent0): "
                     "libspy-test-absent.so.0: cannot open shared object file";
  CHECK(strncmp(err.msg, want, strlen(want)) == 0, "%s", err.msg);
  CHECK(spy_test_absent(2) == -7, "and keeps returning it");

  CHECK(spy_test_nofunction(1) == -8, "a library without the function");
  CHECK(spy_lazy_need(&nofunction_lib, "spy.test", &err) == SPY_ERUNTIME, "code");
  CHECK(strcmp(err.msg, "spy.test needs libc.so.6 (Debian package libc6): libc.so.6 has no "
                        "function spy_test_nofunction") == 0,
        "%s", err.msg);
  return t_done();
}
