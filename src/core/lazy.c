#include "core/lazy.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

/* One lock for every library: loads are rare, and matio's load maps the
** libhdf5 that spy's HDF5 stubs may be opening at the same moment. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static int load(spy_lazylib *lib)
{
  dlerror();
  void *h = dlopen(lib->soname, RTLD_LAZY | RTLD_LOCAL);
  if (!h) {
    const char *e = dlerror();
    snprintf(lib->why, sizeof lib->why, "%s", e ? e : "dlopen failed");
    return -1;
  }
  for (int i = 0; i < lib->n; i++) {
    dlerror();
    lib->slots[i] = dlsym(h, lib->names[i]);
    if (!lib->slots[i]) {
      snprintf(lib->why, sizeof lib->why, "%s has no function %s", lib->soname, lib->names[i]);
      dlclose(h);
      return -1;
    }
  }
  lib->handle = h;
  if (lib->loaded) lib->loaded(h);
  return 1;
}

bool spy_lazy_load(spy_lazylib *lib)
{
  int s = atomic_load_explicit(&lib->state, memory_order_acquire);
  if (s == 0) {
    pthread_mutex_lock(&lock);
    s = atomic_load_explicit(&lib->state, memory_order_relaxed);
    if (s == 0) {
      s = load(lib);
      atomic_store_explicit(&lib->state, s, memory_order_release);
    }
    pthread_mutex_unlock(&lock);
  }
  return s > 0;
}

int spy_lazy_need(spy_lazylib *lib, const char *who, spy_err *err)
{
  if (spy_lazy_load(lib)) return SPY_OK;
  return spy_fail(err, SPY_ERUNTIME, "%s needs %s (Debian package %s): %s", who, lib->soname,
                  lib->package, lib->why);
}
