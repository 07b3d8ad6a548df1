/*
** Libraries loaded on first use (issue #20: start-up).  Linking HDF5, FFTW,
** LAPACK, matio, edflib, libmicrohttpd, cminpack and libcrypto made the
** dynamic loader map ~50 shared objects (HDF5 alone pulls curl, gnutls,
** krb5; LAPACK pulls gfortran) before `spy -e 'print(1)'` could print.
** Instead spy defines, for every function it calls in such a library, a
** forwarding stub of the same name and prototype (src/core/lazy_<lib>.c,
** one table line per function; the compiler checks each line against the
** library's header).  The first call of any stub dlopen()s the library
** (its soname, found by CMake at configure time) and resolves the whole
** table with dlsym(), once, under a mutex; later calls cost an atomic load
** (acquire) and an indirect call.
** Call sites do not change.
**
** The stubs are hidden symbols: neither the shell (which exports its
** symbols for Lua C modules) nor spy.so offers them to other libraries, so
** matio, loaded through its own stubs, binds to the same libhdf5 that
** spy's HDF5 stubs opened (one HDF5 in the process, one lock: invariant 5).
**
** When a library cannot be loaded, every stub returns the library's own
** failure value (-1, NULL, 0, as its documentation states), so callers
** take their error paths, and spy_lazy_need() gives the message to raise:
** "<who> needs <soname> (Debian package <pkg>): <dlerror>".  A function
** spy newly calls in one of these libraries must get its line in the
** table: the link fails with "undefined reference" until it has one.
*/
#ifndef SPY_LAZY_H
#define SPY_LAZY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "core/err.h"

typedef struct spy_lazylib {
  const char *soname;            /* dlopen name, e.g. "libedf.so.1" */
  const char *package;           /* the Debian package that ships it */
  const char *const *names;      /* the functions to resolve, n of them */
  void **slots;                  /* their addresses, filled by the first load */
  int n;
  void (*loaded)(void *handle);  /* optional: runs once after a successful load */
  _Atomic int state;             /* 0 not tried, 1 loaded, -1 failed */
  void *handle;                  /* NULL until loaded, or when loading failed */
  char why[512];                 /* dlerror() of a failed load */
} spy_lazylib;

/* Loads lib once (thread-safe: the first caller loads, the others wait);
** true when it and all its functions are there. */
bool spy_lazy_load(spy_lazylib *lib);
/* SPY_OK when lib is loaded, else SPY_ERUNTIME with "<who> needs <soname>
** (Debian package <pkg>): <reason>" in err. */
int spy_lazy_need(spy_lazylib *lib, const char *who, spy_err *err);

/* The libraries and what in spy needs them. */
extern spy_lazylib spy_lazy_hdf5;     /* data objects, .spy containers, MAT v7.3, NWB */
extern spy_lazylib spy_lazy_lapack;   /* DPSS tapers, the FOOOF bounded fit */
extern spy_lazylib spy_lazy_matio;    /* spy.savemat, MAT v5 reading */
extern spy_lazylib spy_lazy_edf;      /* spy.load_edf */
extern spy_lazylib spy_lazy_mhd;      /* the dashboard's HTTP server */
extern spy_lazylib spy_lazy_cminpack; /* FOOOF's unbounded fits */
extern spy_lazylib spy_lazy_crypto;   /* .spy checksums, worker authentication */
extern spy_lazylib spy_lazy_fftw;     /* every FFT */

/* ---- building a stub table (src/core/lazy_<lib>.c) -----------------------
** #define SPY_LAZY_LIB spy_lazy_edf
** #define FUNCS(F, V)
**   F(int, edfclose_file, (int handle), (handle), -1)   -- returns a value
**   V(free_thing, (thing *t), (t), (void)0)              -- returns nothing
** SPY_LAZY_DEFINE(FUNCS, "libedf.so.1", "libedf1", NULL)
** The last argument of F is the value returned, of V the statement run,
** when the library is missing. */
#define SPY_LAZY_HIDDEN __attribute__((visibility("hidden")))
#define SPY_LAZY_ENUM_F(ret, name, params, args, fail) spy_lazy_i_##name,
#define SPY_LAZY_ENUM_V(name, params, args, fail) spy_lazy_i_##name,
#define SPY_LAZY_NAME_F(ret, name, params, args, fail) #name,
#define SPY_LAZY_NAME_V(name, params, args, fail) #name,
#define SPY_LAZY_STUB_F(ret, name, params, args, fail)                                   \
  SPY_LAZY_HIDDEN ret name params                                                        \
  {                                                                                      \
    ret(*f_) params;                                                                     \
    if (!spy_lazy_fn(&SPY_LAZY_LIB, spy_lazy_i_##name, &f_, sizeof f_)) return (fail);   \
    return f_ args;                                                                      \
  }
#define SPY_LAZY_STUB_V(name, params, args, fail)                                        \
  SPY_LAZY_HIDDEN void name params                                                       \
  {                                                                                      \
    void(*f_) params;                                                                    \
    if (!spy_lazy_fn(&SPY_LAZY_LIB, spy_lazy_i_##name, &f_, sizeof f_)) {                \
      fail;                                                                              \
      return;                                                                            \
    }                                                                                    \
    f_ args;                                                                             \
  }
#define SPY_LAZY_CAT_(a, b) a##b
#define SPY_LAZY_CAT(a, b) SPY_LAZY_CAT_(a, b)
#define SPY_LAZY_COUNT SPY_LAZY_CAT(SPY_LAZY_LIB, _count)
#define SPY_LAZY_NAMES SPY_LAZY_CAT(SPY_LAZY_LIB, _names)
#define SPY_LAZY_SLOTS SPY_LAZY_CAT(SPY_LAZY_LIB, _slots)
#define SPY_LAZY_DEFINE(FUNCS, soname, package, loaded)                                   \
  enum { FUNCS(SPY_LAZY_ENUM_F, SPY_LAZY_ENUM_V) SPY_LAZY_COUNT };                        \
  static const char *const SPY_LAZY_NAMES[] = {FUNCS(SPY_LAZY_NAME_F, SPY_LAZY_NAME_V)};  \
  static void *SPY_LAZY_SLOTS[SPY_LAZY_COUNT];                                            \
  spy_lazylib SPY_LAZY_LIB = {soname, package, SPY_LAZY_NAMES, SPY_LAZY_SLOTS,            \
                              SPY_LAZY_COUNT, loaded};                                    \
  FUNCS(SPY_LAZY_STUB_F, SPY_LAZY_STUB_V)

/* The address of function i of lib into *fn (a function pointer of size
** n), loading lib first; false when it cannot be loaded. */
static inline bool spy_lazy_fn(spy_lazylib *lib, int i, void *fn, size_t n)
{
  if (atomic_load_explicit(&lib->state, memory_order_acquire) <= 0 && !spy_lazy_load(lib))
    return false;
  memcpy(fn, &lib->slots[i], n);
  return true;
}

#endif
