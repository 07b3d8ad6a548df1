/* Elementwise maths on data objects: obj:log10(), obj:abs(), ...  The
** whole dataset is streamed in row blocks (bounded memory), so every trial
** and the samples between trials are transformed alike. */
#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/interrupt.h"
#include "stats/common.h"

#define BLOCK_BYTES ((size_t)16 << 20)

static const char *const known[] = {"log10", "log",  "exp",   "abs",  "sqrt",
                                    "real",  "imag", "angle", "conj", NULL};

bool spy_data_apply_known(const char *fn)
{
  for (int i = 0; known[i]; i++)
    if (strcmp(known[i], fn) == 0) return true;
  return false;
}

/* Does fn map complex input to real output? */
static bool to_real(const char *fn)
{
  return strcmp(fn, "abs") == 0 || strcmp(fn, "real") == 0 || strcmp(fn, "imag") == 0 ||
         strcmp(fn, "angle") == 0;
}

static double real_fn(const char *fn, double x)
{
  switch (fn[0]) {
  case 'l':
    return fn[3] == '1' ? log10(x) : log(x);
  case 'e':
    return exp(x);
  case 'a':
    return fn[1] == 'b' ? fabs(x) : (x < 0 ? M_PI : x == 0 || x > 0 ? 0 : NAN);
  case 's':
    return sqrt(x);
  case 'i':
    return 0;
  default:
    return x; /* real, conj */
  }
}

static double complex cplx_fn(const char *fn, double complex z)
{
  if (strcmp(fn, "log10") == 0) return clog(z) / log(10.0);
  if (strcmp(fn, "log") == 0) return clog(z);
  if (strcmp(fn, "exp") == 0) return cexp(z);
  if (strcmp(fn, "abs") == 0) return cabs(z);
  if (strcmp(fn, "sqrt") == 0) return csqrt(z);
  if (strcmp(fn, "real") == 0) return creal(z);
  if (strcmp(fn, "imag") == 0) return cimag(z);
  if (strcmp(fn, "angle") == 0) return carg(z);
  return conj(z);
}

int spy_data_apply(spy_data *in, const char *fn, spy_data **out, spy_err *err)
{
  *out = NULL;
  if (!spy_data_apply_known(fn))
    return spy_fail_value(
        err, "function", fn,
        "one of 'log10', 'log', 'exp', 'abs', 'sqrt', 'real', 'imag', 'angle', 'conj'");
  if (!in->path) return spy_fail_value(err, "data", "empty", "non-empty data");
  bool cplx = spy_dtype_is_complex(in->dtype), cplx_out = cplx && !to_real(fn);
  spy_dtype t = spy_stat_out_dtype(in->dtype, cplx_out);
  size_t rowel = spy_data_row_elems(in), nlast = in->shape[in->ndim - 1];
  size_t block = BLOCK_BYTES / ((rowel ? rowel : 1) * 2 * sizeof(double));
  if (block == 0) block = 1;
  if (block > in->shape[0]) block = in->shape[0];
  double *x = malloc((block * rowel + 1) * 2 * sizeof *x);
  spy_data *o = spy_data_new(in->cls);
  int rc = (!x || !o) ? spy_fail(err, SPY_ENOMEM, "out of memory") : SPY_OK;
  if (!rc) rc = spy_data_create(o, t, in->ndim, in->shape, err);
  for (size_t r0 = 0; !rc && r0 < in->shape[0]; r0 += block) {
    size_t nr = in->shape[0] - r0 < block ? in->shape[0] - r0 : block, n = nr * rowel;
    if (spy_interrupted()) rc = spy_fail(err, SPY_EINTR, "interrupted");
    if (!rc) rc = spy_data_read(in, r0, nr, NULL, nlast, x, cplx ? SPY_DT_C128 : SPY_DT_F64, err);
    if (rc) break;
    if (!cplx) {
      for (size_t i = 0; i < n; i++)
        x[i] = real_fn(fn, x[i]);
    } else {
      double complex *z = (double complex *)x;
      for (size_t i = 0; i < n; i++) {
        double complex v = cplx_fn(fn, z[i]);
        if (cplx_out)
          z[i] = v;
        else
          x[i] = creal(v); /* i <= 2i: in place front to back */
      }
    }
    rc = spy_data_write(o, r0, nr, 0, nlast, x, cplx_out ? SPY_DT_C128 : SPY_DT_F64, err);
  }
  if (!rc) {
    o->samplerate = in->samplerate;
    if (spy_data_set_trldef(o, in->trldef, in->ntrials, in->trlcols) ||
        spy_data_set_channel(o, (const char *const *)in->channel, in->nchannel) ||
        (in->channel_j &&
         spy_data_set_channel_j(o, (const char *const *)in->channel_j, in->nchannel_j)) ||
        (in->taper && spy_data_set_taper(o, (const char *const *)in->taper, in->ntaper)) ||
        (in->freq && spy_data_set_freq(o, in->freq, in->nfreq)))
      rc = spy_fail(err, SPY_ENOMEM, "out of memory");
  }
  if (!rc) {
    spy_stat_inherit(o, in);
    char msg[64];
    snprintf(msg, sizeof msg, "applied %s elementwise", fn);
    spy_data_log(o, "arithmetic", msg);
    rc = spy_data_sync_meta(o, err);
  }
  free(x);
  if (rc)
    spy_data_unref(o);
  else
    *out = o;
  return rc;
}
