/*
** The least-squares solvers of src/fit: known solutions, and the number of
** residual evaluations SciPy 1.10.1 needs for the same problem (the TRF
** solver follows SciPy's least_squares step for step, the LM wrapper is
** MINPACK as in leastsq), so a drift in the algorithm shows here first.
*/
#include <math.h>
#include <string.h>

#include "fit/lsq.h"
#include "t.h"

static int rosen(void *ctx, size_t m, size_t n, const double *x, double *f)
{
  (void)ctx, (void)m, (void)n;
  f[0] = 10 * (x[1] - x[0] * x[0]);
  f[1] = 1 - x[0];
  return 0;
}

/* Bounded Rosenbrock (SciPy's documentation example): x2 >= 1.5 is active,
** x1 then minimises 100 (1.5 - a^2)^2 + (1 - a)^2. */
static void bounded_rosenbrock(void)
{
  double a = 1.2;
  for (int i = 0; i < 50; i++) {
    double d1 = -400 * a * (1.5 - a * a) - 2 * (1 - a);
    double d2 = -400 * (1.5 - 3 * a * a) + 2;
    a -= d1 / d2;
  }
  double x[2] = {2, 2}, lb[2] = {-INFINITY, 1.5}, ub[2] = {INFINITY, INFINITY};
  spy_lsq_result r;
  spy_err err = {0};
  int rc = spy_lsq_trf(rosen, NULL, 2, 2, x, lb, ub, 0, &r, &err);
  CHECK(rc == SPY_OK, "rosenbrock: %s", err.msg);
  CHECK_NEAR(x[0], a, 1e-7, "x1");
  CHECK(x[1] >= 1.5 && x[1] - 1.5 < 1e-12, "x2 on its bound: %.17g", x[1]);
  CHECK(r.nfev == 9 && r.status == 2, "nfev %d status %d (SciPy: 9, 2)", r.nfev, r.status);
}

typedef struct {
  const double *x, *y;
} data;

static double gauss(double x, const double *p) { return p[1] * exp(-(x - p[0]) * (x - p[0]) / (2 * p[2] * p[2])); }

static int two_gauss(void *ctx, size_t m, size_t n, const double *p, double *f)
{
  const data *d = ctx;
  (void)n;
  for (size_t i = 0; i < m; i++)
    f[i] = gauss(d->x[i], p) + gauss(d->x[i], p + 3) - d->y[i];
  return 0;
}

static void gaussians(void)
{
  enum { M = 60 };
  double x[M], y[M];
  const double truth[6] = {4, 2, 1.3, 7, 0.5, 0.8};
  for (int i = 0; i < M; i++) {
    x[i] = 10.0 * i / (M - 1);
    y[i] = gauss(x[i], truth) + gauss(x[i], truth + 3);
  }
  data d = {x, y};
  double lb[6] = {3, 0, 0.5, 6, 0, 0.5}, ub[6] = {5, INFINITY, 2, 8, INFINITY, 2};
  double p[6] = {3.6, 1.5, 1.0, 6.8, 0.3, 1.0};
  spy_lsq_result r;
  spy_err err = {0};
  int rc = spy_lsq_trf(two_gauss, &d, M, 6, p, lb, ub, 0, &r, &err);
  CHECK(rc == SPY_OK, "gaussians: %s", err.msg);
  for (int j = 0; j < 6; j++)
    CHECK_NEAR(p[j], truth[j], 1e-8, "inactive bounds: parameter");
  CHECK(r.nfev == 8 && r.status == 1, "nfev %d status %d (SciPy: 8, 1)", r.nfev, r.status);

  /* the second height capped at 0.4 < 0.5: SciPy 1.10.1's solution */
  const double scipy[6] = {4.03107886, 1.9816143, 1.34370558, 7.08565155, 0.4, 0.81587809};
  double p2[6] = {3.6, 1.5, 1.0, 6.8, 0.3, 1.0};
  ub[4] = 0.4;
  rc = spy_lsq_trf(two_gauss, &d, M, 6, p2, lb, ub, 0, &r, &err);
  CHECK(rc == SPY_OK, "active bound: %s", err.msg);
  for (int j = 0; j < 6; j++)
    CHECK(fabs(p2[j] - scipy[j]) <= 1e-8 * fmax(1, fabs(scipy[j])) + 5e-9, "active bound %d: %.10g vs %.10g",
          j, p2[j], scipy[j]);
  CHECK(p2[4] <= 0.4, "height within its bound: %.17g", p2[4]);
  CHECK_NEAR(r.cost, 0.020813622184306733, 1e-12, "cost");
  CHECK(r.nfev == 19 && r.status == 2, "nfev %d status %d (SciPy: 19, 2)", r.nfev, r.status);
}

static void trf_errors(void)
{
  double x[2] = {0, 0}, lb[2] = {1, -1}, ub[2] = {2, 1};
  spy_err err = {0};
  CHECK(spy_lsq_trf(rosen, NULL, 2, 2, x, lb, ub, 0, NULL, &err) == SPY_EINVAL &&
            strstr(err.msg, "`x0` is infeasible"),
        "infeasible: %s", err.msg);
  lb[0] = 2;
  x[0] = 2;
  CHECK(spy_lsq_trf(rosen, NULL, 2, 2, x, lb, ub, 0, NULL, &err) == SPY_EINVAL &&
            strstr(err.msg, "strictly less"),
        "lb == ub: %s", err.msg);
  double y[2] = {2, 2}, l2[2] = {-INFINITY, 1.5}, u2[2] = {INFINITY, INFINITY};
  CHECK(spy_lsq_trf(rosen, NULL, 2, 2, y, l2, u2, 3, NULL, &err) == SPY_ERUNTIME &&
            strstr(err.msg, "maximum number of function evaluations"),
        "max_nfev: %s", err.msg);
}

static int powerlaw(void *ctx, size_t m, size_t n, const double *p, double *f)
{
  const data *d = ctx;
  (void)n;
  for (size_t i = 0; i < m; i++)
    f[i] = p[0] - log10(pow(d->x[i], p[1])) - d->y[i];
  return 0;
}

static void lm(void)
{
  enum { M = 29 };
  double x[M], y[M];
  for (int i = 0; i < M; i++) {
    x[i] = i + 1;
    y[i] = 0.7 - log10(pow(x[i], 1.3));
  }
  data d = {x, y};
  double p[2] = {0, 1};
  spy_lsq_result r;
  spy_err err = {0};
  int rc = spy_lsq_lm(powerlaw, &d, M, 2, p, 0, &r, &err);
  CHECK(rc == SPY_OK, "lm: %s", err.msg);
  CHECK_NEAR(p[0], 0.7, 1e-10, "offset");
  CHECK_NEAR(p[1], 1.3, 1e-10, "exponent");
  CHECK(r.nfev == 7 && r.status == 2, "nfev %d info %d (SciPy leastsq: 7, 2)", r.nfev, r.status);
  CHECK(spy_lsq_lm(powerlaw, &d, 1, 2, p, 0, NULL, &err) == SPY_EINVAL && strstr(err.msg, "Improper input"),
        "m < n: %s", err.msg);
  double q[2] = {0, 1};
  CHECK(spy_lsq_lm(powerlaw, &d, M, 2, q, 3, NULL, &err) == SPY_ERUNTIME && strstr(err.msg, "maxfev = 3"),
        "maxfev: %s", err.msg);
}

int main(void)
{
  bounded_rosenbrock();
  gaussians();
  trf_errors();
  lm();
  return t_done();
}
