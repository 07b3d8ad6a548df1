/*
** Discrete data engine: Syncopy's poisson_noise rows, trial row ranges by
** binary search on the file, selections, trials from event markers, and
** spike_psth against Syncopy's reference (spike_psth.h5, 1e-5 relative,
** NaN where Syncopy has NaN) and from first principles (a Poisson process's
** rate recovered within its confidence interval).
*/
#include <string.h>

#include "core/settings.h"
#include "data/discrete.h"
#include "h5ref.h"
#include "stats/psth.h"
#include "synth/poisson.h"
#include "synth/rng.h"
#include "t.h"

/* A SpikeData in temporary storage from rows (n x 3) and a trial definition. */
static spy_data *spikes(const int64_t *rows, size_t n, const double *trl, size_t ntr, double sr)
{
  spy_err err = {0};
  spy_data *d = spy_data_new(SPY_SPIKE);
  size_t shape[2] = {n, 3};
  d->samplerate = sr;
  CHECK(spy_data_create(d, SPY_DT_I64, 2, shape, &err) == SPY_OK, "%s", err.msg);
  CHECK(spy_data_write(d, 0, n, 0, 3, rows, SPY_DT_I64, &err) == SPY_OK, "%s", err.msg);
  spy_data_set_trldef(d, trl, ntr, 3);
  return d;
}

static void test_poisson_reference(void)
{
  int nd;
  size_t sh[8], tsh[8];
  double *want = h5ref_read(t_data("spike_poisson.h5"), "output", &nd, sh);
  double *wtrl = h5ref_read(t_data("spike_poisson.h5"), "output_trialdefinition", &nd, tsh);
  spy_poisson_cfg c = {10, 10000, 3, 10, 0.1, 10000, true, 42};
  int64_t *rows;
  double *trl;
  size_t nt;
  spy_err err = {0};
  CHECK(spy_poisson_noise(&c, &rows, &trl, &nt, &err) == SPY_OK, "%s", err.msg);
  size_t bad = 0;
  for (size_t i = 0; i < 30000; i++) bad += (double)rows[i] != want[i];
  CHECK(bad == 0 && sh[0] == 10000, "%zu of 30000 values differ from Syncopy's", bad);
  CHECK(nt == 10 && memcmp(trl, wtrl, 30 * sizeof *trl) == 0, "trial definition differs");
  free(rows);
  free(trl);
  free(want);
  free(wtrl);
  /* small populations take NumPy's Floyd path; intensity > 1 is impossible */
  c = (spy_poisson_cfg){4, 500, 2, 3, 0.5, 1000, true, 7};
  CHECK(spy_poisson_noise(&c, &rows, &trl, &nt, &err) == SPY_OK, "%s", err.msg);
  bool sorted = true, distinct = true;
  for (size_t i = 1; i < 500; i++) {
    sorted &= rows[3 * i] >= rows[3 * i - 3];
    distinct &= rows[3 * i] != rows[3 * i - 3];
  }
  CHECK(sorted && distinct && rows[3 * 499] < 1000, "samples must be distinct, sorted, < 1000");
  free(rows);
  free(trl);
  c.intensity = 2;
  CHECK(spy_poisson_noise(&c, &rows, &trl, &nt, &err) == SPY_EINVAL &&
            strstr(err.msg, "Cannot take a larger sample than population"),
        "%s", err.msg);
}

static void test_rows_and_selection(void)
{
  const int64_t rows[] = {5, 0, 0, 20, 1, 0, 60, 0, 2, 110, 2, 0, 150, 0, 0, 190, 1, 2, 250, 0, 0};
  const double trl[] = {0, 100, -10, 100, 200, 0, 200, 240, 0};
  spy_data *d = spikes(rows, 7, trl, 3, 100);
  spy_err err = {0};
  size_t r0, n;
  CHECK(spy_discrete_trial_rows(d, 1, &r0, &n, &err) == SPY_OK && r0 == 3 && n == 3, "trial 2: %zu+%zu", r0, n);
  CHECK(spy_discrete_trial_rows(d, 2, &r0, &n, &err) == SPY_OK && r0 == 6 && n == 0, "empty trial 3: %zu+%zu", r0,
        n);
  spy_discrete_scan sc;
  CHECK(spy_discrete_check(d, &sc, &err) == SPY_OK && sc.smin == 5 && sc.smax == 250 && sc.col[0].n == 3 &&
            sc.col[1].n == 2 && sc.col[1].v[1] == 2,
        "scan");
  char **lab = spy_discrete_labels("unit", &sc.col[1]);
  CHECK(strcmp(lab[0], "unit1") == 0 && strcmp(lab[1], "unit3") == 0, "labels %s %s", lab[0], lab[1]);
  spy_strv_free(lab, 2);
  spy_discrete_scan_free(&sc);
  /* channel index 1 only, latency [0, 0.5] s */
  const char *names[] = {"channel1", "channel2", "channel3"};
  spy_data_set_channel(d, names, 3);
  cJSON *sel = cJSON_Parse("{\"channel\": [\"channel1\", 1], \"latency\": [0, 0.5]}");
  spy_dsel *s = NULL;
  CHECK(spy_dsel_make(d, sel, &s, &err) == SPY_OK, "%s", err.msg);
  if (s) {
    CHECK(s->ntrials == 2, "trial 3 (0 .. 0.39 s) does not cover the window: %zu trials", s->ntrials);
    spy_data *o = NULL;
    CHECK(spy_dsel_copy(d, s, &o, &err) == SPY_OK && o->shape[0] == 3, "%s", err.msg);
    int64_t got[9];
    if (o) CHECK(spy_discrete_read(o, 0, 3, got, &err) == SPY_OK && got[0] == 20 && got[3] == 60 && got[6] == 150,
                 "rows %lld %lld %lld", (long long)got[0], (long long)got[3], (long long)got[6]);
    spy_data_unref(o);
  }
  spy_dsel_free(s);
  cJSON_Delete(sel);
  /* unsorted samples are refused */
  const int64_t bad[] = {5, 0, 0, 3, 0, 0};
  spy_data *u = spikes(bad, 2, trl, 1, 100);
  CHECK(spy_discrete_check(u, &sc, &err) == SPY_EINVAL && strstr(err.msg, "sorted in ascending order"), "%s",
        err.msg);
  spy_data_unref(u);
  spy_data_unref(d);
}

static void test_events(void)
{
  /* triggers (code 1) at 1.0, 3.0, 5.0 s; code 2 in between */
  const int64_t ev[] = {1000, 1, 1600, 2, 3000, 1, 3700, 2, 5000, 1};
  spy_evtdef def = {0.25, 0.5, false, true, false, 0, 1, 0};
  double *trl;
  size_t n;
  spy_err err = {0};
  CHECK(spy_trials_from_events(ev, 5, 1000, 500, &def, &trl, &n, &err) == SPY_OK && n == 3, "%s", err.msg);
  for (size_t k = 0; k < n; k++) {
    double t = 1.0 + 2.0 * (double)k;
    CHECK(trl[3 * k] == (t - 0.25) * 500 && trl[3 * k + 1] == (t + 0.5) * 500 && trl[3 * k + 2] == 125,
          "trial %zu: [%g %g %g]", k, trl[3 * k], trl[3 * k + 1], trl[3 * k + 2]);
  }
  free(trl);
  /* start/stop codes: 1 .. 2 */
  def = (spy_evtdef){0, 0, true, false, true, 1, 0, 2};
  def.pre = NAN, def.post = NAN;
  CHECK(spy_trials_from_events(ev, 5, 1000, 1000, &def, &trl, &n, &err) == SPY_OK && n == 2 && trl[0] == 1000 &&
            trl[1] == 1600 && trl[3] == 3000 && trl[4] == 3700,
        "%s", err.msg);
  free(trl);
  def = (spy_evtdef){0.1, 0.1, false, true, false, 0, 9, 0};
  CHECK(spy_trials_from_events(ev, 5, 1000, 1000, &def, &trl, &n, &err) == SPY_EINVAL &&
            strstr(err.msg, "expected existing event-id"),
        "%s", err.msg);
}

static spy_psth_plan plan_for(spy_data *d, const char *cfgtext, spy_dsel **sel, spy_err *err)
{
  spy_psth_plan p;
  cJSON *given = cJSON_Parse(cfgtext), *cfg = NULL;
  CHECK(spy_kw_apply(&spy_spec_spike_psth, given, &cfg, err) == SPY_OK, "%s", err->msg);
  CHECK(spy_dsel_make(d, NULL, sel, err) == SPY_OK, "%s", err->msg);
  int rc = spy_psth_plan_make(d, *sel, cfg, &p, err);
  CHECK(rc == SPY_OK, "%s", err->msg);
  cJSON_Delete(given);
  cJSON_Delete(cfg);
  return p;
}

static void test_psth_reference(void)
{
  const char *f = t_data("spike_psth.h5");
  int nd;
  size_t ish[8], tsh[8], osh[8];
  double *in = h5ref_read(f, "input", &nd, ish), *trl = h5ref_read(f, "input_trialdefinition", &nd, tsh);
  double *want = h5ref_read(f, "output", &nd, osh), *otrl = h5ref_read(f, "output_trialdefinition", &nd, tsh);
  int64_t *rows = malloc(ish[0] * 3 * sizeof *rows);
  for (size_t i = 0; i < ish[0] * 3; i++) rows[i] = (int64_t)in[i];
  spy_data *d = spikes(rows, ish[0], trl, 10, 10000);
  spy_err err = {0};
  spy_dsel *sel = NULL;
  spy_psth_plan p = plan_for(d, "{}", &sel, &err);
  CHECK(p.nbins == 41 && p.ncombos == 30, "%zu bins, %zu combos", p.nbins, p.ncombos);
  CHECK_NEAR(p.out_samplerate, h5ref_attr_num(f, "output_samplerate"), 1e-9, "samplerate");
  CHECK(p.out_offset == otrl[2], "offset %g vs %g", p.out_offset, otrl[2]);
  char labels[30][64];
  h5ref_strings(f, "channel", labels, 30);
  CHECK(p.combos[2 * 29] == 2 && p.combos[2 * 29 + 1] == 9 && strcmp(labels[29], "channel2_unit9") == 0,
        "last combination");
  double *counts = malloc(p.nbins * p.ncombos * sizeof *counts);
  int64_t *scratch = malloc(SPY_DISCRETE_BLOCK * 3 * sizeof *scratch);
  double worst = 0;
  size_t nanbad = 0, nnan = 0;
  for (size_t i = 0; i < p.ntrials; i++) {
    CHECK(spy_psth_trial(&p, d, i, scratch, counts, &err) == SPY_OK, "%s", err.msg);
    for (size_t k = 0; k < p.nbins * p.ncombos; k++) {
      double w = want[i * p.nbins * p.ncombos + k], g = (float)counts[k];
      if (isnan(w) || isnan(g)) {
        nanbad += isnan(w) != isnan(g);
        nnan += isnan(w);
        continue;
      }
      double e = fabs(g - w) / (fabs(w) > 1 ? fabs(w) : 1);
      if (e > worst) worst = e;
    }
  }
  CHECK(nanbad == 0 && nnan == 1290, "NaN pattern: %zu mismatches, %zu NaN", nanbad, nnan);
  CHECK(worst <= 1e-5, "rate relative error %g", worst);
  spy_psth_plan_free(&p);
  spy_dsel_free(sel);
  /* spike counts are integers; proportions sum to 1 per column */
  p = plan_for(d, "{\"output\": \"spikecount\", \"binsize\": 0.05, \"latency\": [-0.1, 0.8], \"vartriallen\": false}",
               &sel, &err);
  size_t cover = 0; /* trials whose [offset, len - 1 + offset] / sr holds [-0.1, 0.8] */
  for (size_t k = 0; k < 10; k++)
    cover += trl[3 * k + 2] / 1e4 <= -0.1 && (trl[3 * k + 1] - trl[3 * k] - 1 + trl[3 * k + 2]) / 1e4 >= 0.8;
  CHECK(cover > 0 && cover < 10 && p.ntrials == cover && p.ndiscarded == 10 - cover && p.nedges == 19,
        "%zu trials (%zu cover the window), %zu edges", p.ntrials, cover, p.nedges);
  double total = 0;
  spy_psth_trial(&p, d, 0, scratch, counts, &err);
  for (size_t k = 0; k < p.nbins * p.ncombos; k++) total += counts[k];
  size_t expect = 0;
  const double *t0 = trl + 3 * p.trials[0];
  for (size_t r = 0; r < ish[0]; r++) {
    double t = (in[3 * r] - t0[0] + t0[2]) / 10000;
    expect += in[3 * r] >= t0[0] && in[3 * r] < t0[1] && t >= p.edges[0] && t <= p.edges[p.nedges - 1];
  }
  CHECK(total == (double)expect, "trial 1 counts %g spikes in the window, expected %zu", total, expect);
  spy_psth_plan_free(&p);
  spy_dsel_free(sel);
  p = plan_for(d, "{\"output\": \"proportion\", \"latency\": \"minperiod\"}", &sel, &err);
  spy_psth_trial(&p, d, 3, scratch, counts, &err);
  for (size_t c = 0; c < p.ncombos; c++) {
    double s = 0;
    for (size_t b = 0; b < p.nbins; b++) s += counts[b * p.ncombos + c];
    CHECK(isnan(s) || fabs(s - 1) < 1e-9, "column %zu sums to %g", c, s);
  }
  spy_psth_plan_free(&p);
  spy_dsel_free(sel);
  free(counts);
  free(scratch);
  spy_data_unref(d);
  free(rows);
  free(in);
  free(trl);
  free(want);
  free(otrl);
}

/* A homogeneous Poisson process of rate 40 Hz over 200 trials of 1 s: the
** mean rate per bin is recovered within its 99.9 % confidence interval. */
static void test_psth_rate(void)
{
  const double rate = 40, sr = 1000;
  const size_t ntr = 200;
  spy_rng r;
  spy_rng_seed(&r, 11);
  size_t cap = 20000, n = 0;
  int64_t *rows = malloc(cap * 3 * sizeof *rows);
  double *trl = malloc(ntr * 3 * sizeof *trl);
  for (size_t k = 0; k < ntr; k++) {
    trl[3 * k] = (double)k * 1000, trl[3 * k + 1] = (double)k * 1000 + 1000, trl[3 * k + 2] = -200;
    for (size_t s = 0; s < 1000; s++)
      if (spy_rng_uniform(&r) < rate / sr) {
        if (n == cap) rows = realloc(rows, (cap *= 2) * 3 * sizeof *rows);
        rows[3 * n] = (int64_t)(k * 1000 + s), rows[3 * n + 1] = 0, rows[3 * n + 2] = 0;
        n++;
      }
  }
  spy_data *d = spikes(rows, n, trl, ntr, sr);
  spy_err err = {0};
  spy_dsel *sel = NULL;
  spy_psth_plan p = plan_for(d, "{\"binsize\": 0.1, \"latency\": [-0.2, 0.8]}", &sel, &err);
  double *counts = malloc(p.nbins * sizeof *counts), *mean = calloc(p.nbins, sizeof *mean);
  int64_t *scratch = malloc(SPY_DISCRETE_BLOCK * 3 * sizeof *scratch);
  for (size_t i = 0; i < p.ntrials; i++) {
    spy_psth_trial(&p, d, i, scratch, counts, &err);
    for (size_t b = 0; b < p.nbins; b++) mean[b] += counts[b] / (double)ntr;
  }
  /* per bin: N = 200 trials x 0.1 s x 40 Hz = 800 expected spikes, sd sqrt(800) */
  for (size_t b = 0; b + 1 < p.nbins; b++) {
    double ci = 3.29 * sqrt(rate * 0.1 * (double)ntr) / (0.1 * (double)ntr);
    CHECK(fabs(mean[b] - rate) < ci, "bin %zu: %g Hz, expected %g +- %g", b, mean[b], rate, ci);
  }
  spy_psth_plan_free(&p);
  spy_dsel_free(sel);
  free(counts);
  free(mean);
  free(scratch);
  spy_data_unref(d);
  free(rows);
  free(trl);
}

int main(void)
{
  spy_err err = {0};
  spy_settings_init(&err);
  test_poisson_reference();
  test_rows_and_selection();
  test_events();
  test_psth_reference();
  test_psth_rate();
  return t_done();
}
