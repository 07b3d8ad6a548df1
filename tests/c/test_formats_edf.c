/*
** spy_load_edf on EDF+ and BDF+ files written here by edflib's own writer
** with known digital samples: physical values, labels, sample rates (the
** most common rate is chosen, others on request), annotations in info, and
** clear errors for mixed rates, unknown channels, truncated and foreign
** files (no object left behind).
*/
#include <edflib.h>
#include <string.h>
#include <unistd.h>

#include <dirent.h>

#include "core/interrupt.h"
#include "core/settings.h"
#include "io/formats/eeg.h"
#include "io/h5.h"
#include "t.h"

static char scratch[4096];

/* digital sample s of signal c */
static int dig(int c, int s, int maxabs)
{
  return (s * 7 + c * 1000) % (2 * maxabs) - maxabs;
}

/* 10 s; signals 0, 1 at 256 Hz ("Fp1", "Fp2"), signal 2 at 128 Hz ("Resp"). */
static void write_file(const char *path, int filetype)
{
  bool bdf = filetype == EDFLIB_FILETYPE_BDFPLUS;
  int dmax = bdf ? 8388607 : 32767, dmin = -dmax - 1;
  int h = edfopen_file_writeonly(path, filetype, 3);
  CHECK(h >= 0, "edfopen_file_writeonly %s: %d", path, h);
  if (h < 0) return;
  const char *labels[] = {"Fp1", "Fp2", "Resp"};
  int rate[] = {256, 256, 128};
  for (int c = 0; c < 3; c++) {
    edf_set_samplefrequency(h, c, rate[c]);
    edf_set_digital_maximum(h, c, dmax);
    edf_set_digital_minimum(h, c, dmin);
    /* gain 0.1 uV (EDF) / 0.001 (BDF), zero offset */
    edf_set_physical_maximum(h, c, bdf ? dmax * 0.001 : 3276.7);
    edf_set_physical_minimum(h, c, bdf ? dmin * 0.001 : -3276.8);
    edf_set_label(h, c, labels[c]);
    edf_set_physical_dimension(h, c, c == 2 ? "mV" : "uV");
  }
  edf_set_patientcode(h, "P-007");
  int buf[256];
  for (int sec = 0; sec < 10; sec++)
    for (int c = 0; c < 3; c++) {
      for (int i = 0; i < rate[c]; i++)
        buf[i] = dig(c, sec * rate[c] + i, bdf ? 4000000 : 15000);
      CHECK(edfwrite_digital_samples(h, buf) == 0, "write sec %d signal %d", sec, c);
    }
  edfwrite_annotation_utf8(h, 15000, 5000, "Stim A");
  edfwrite_annotation_utf8(h, 42000, -1, "Button");
  CHECK(edfclose_file(h) == 0, "close %s", path);
}

/* Physical value of digital d of signal c by the EDF formula, with the
** header values the file holds (its ASCII fields round what was set). */
static double phys(const char *path, int c, int d)
{
  struct edf_hdr_struct *h = calloc(1, sizeof *h);
  double v = NAN;
  if (edfopen_file_readonly(path, h, EDFLIB_DO_NOT_READ_ANNOTATIONS) == 0) {
    const struct edf_param_struct *p = &h->signalparam[c];
    v = p->phys_min + (d - p->dig_min) * (p->phys_max - p->phys_min) / (p->dig_max - p->dig_min);
    edfclose_file(h->handle);
  }
  free(h);
  return v;
}

static void check_file(const char *path, bool bdf)
{
  spy_err err = {0};
  spy_data *d = NULL;
  char *warnings = NULL;
  spy_eeg_opts o = {0};
  o.dtype = SPY_DT_F64;
  int rc = spy_load_edf(path, &o, &d, &warnings, &err);
  CHECK(rc == SPY_OK, "load %s: %s", path, err.msg);
  if (rc) return;
  CHECK(d->shape[0] == 2560 && d->shape[1] == 2, "shape %zu x %zu", d->shape[0], d->shape[1]);
  CHECK(d->samplerate == 256, "samplerate %g", d->samplerate);
  CHECK(d->nchannel == 2 && strcmp(d->channel[0], "Fp1") == 0 && strcmp(d->channel[1], "Fp2") == 0,
        "labels");
  CHECK(d->ntrials == 1 && d->trldef[0] == 0 && d->trldef[1] == 2560 && d->trldef[2] == 0,
        "one trial");
  CHECK(warnings &&
            strstr(warnings,
                   "signal 'Resp' (128 Hz) skipped: AnalogData has one sample rate (256 Hz)"),
        "warning: %s", warnings ? warnings : "(none)");
  double *x = malloc(2560 * 2 * sizeof *x);
  rc = spy_data_read(d, 0, 2560, NULL, 2, x, SPY_DT_F64, &err);
  CHECK(rc == SPY_OK, "read: %s", err.msg);
  double worst = 0;
  for (int s = 0; s < 2560; s += 3)
    for (int c = 0; c < 2; c++) {
      double want = phys(path, c, dig(c, s, bdf ? 4000000 : 15000)), e = fabs(x[s * 2 + c] - want);
      if (e > worst) worst = e;
    }
  CHECK(worst <= 1e-9 * (bdf ? 8400 : 3300), "physical values off by %g", worst);
  free(x);
  const cJSON *ann = cJSON_GetObjectItem(d->info, "annotations");
  CHECK(cJSON_GetArraySize(ann) == 2, "2 annotations, got %d", cJSON_GetArraySize(ann));
  const cJSON *a0 = cJSON_GetArrayItem(ann, 0), *a1 = cJSON_GetArrayItem(ann, 1);
  CHECK(a0 && cJSON_GetObjectItem(a0, "onset")->valuedouble == 1.5 &&
            cJSON_GetObjectItem(a0, "duration")->valuedouble == 0.5 &&
            strcmp(cJSON_GetObjectItem(a0, "text")->valuestring, "Stim A") == 0,
        "annotation 1");
  CHECK(a1 && cJSON_GetObjectItem(a1, "onset")->valuedouble == 4.2 &&
            !cJSON_GetObjectItem(a1, "duration") &&
            strcmp(cJSON_GetObjectItem(a1, "text")->valuestring, "Button") == 0,
        "annotation 2");
  CHECK(strcmp(cJSON_GetObjectItem(d->info, "filetype")->valuestring, bdf ? "BDF+" : "EDF+") == 0,
        "filetype");
  CHECK(strcmp(cJSON_GetObjectItem(d->info, "patientcode")->valuestring, "P-007") == 0,
        "patientcode");
  spy_data_unref(d);
  free(warnings);

  /* the other rate, on request */
  const char *resp[] = {"Resp"};
  o.channel = resp;
  o.nchannel = 1;
  o.dtype = SPY_DT_F32;
  warnings = NULL;
  rc = spy_load_edf(path, &o, &d, &warnings, &err);
  CHECK(rc == SPY_OK, "load Resp: %s", err.msg);
  if (rc == SPY_OK) {
    CHECK(d->shape[0] == 1280 && d->shape[1] == 1 && d->samplerate == 128 && d->dtype == SPY_DT_F32,
          "Resp");
    float v;
    spy_data_read(d, 1000, 1, NULL, 1, &v, SPY_DT_F32, &err);
    CHECK_NEAR(v, (float)phys(path, 2, dig(2, 1000, bdf ? 4000000 : 15000)), 1e-6 * fabs(v),
               "Resp sample 1000");
    CHECK(strcmp(cJSON_GetArrayItem(cJSON_GetObjectItem(d->info, "physdimension"), 0)->valuestring,
                 "mV") == 0,
          "unit");
    spy_data_unref(d);
  }
  free(warnings);
  /* mixed rates and unknown names */
  const char *mixed[] = {"Fp1", "Resp"};
  o.channel = mixed;
  o.nchannel = 2;
  d = NULL;
  rc = spy_load_edf(path, &o, &d, NULL, &err);
  CHECK(rc == SPY_EINVAL && !d &&
            strstr(err.msg,
                   "'Fp1' (256 Hz) and 'Resp' (128 Hz)'; expected signals of one sample rate"),
        "mixed: %s", err.msg);
  const char *none[] = {"Cz"};
  o.channel = none;
  o.nchannel = 1;
  rc = spy_load_edf(path, &o, &d, NULL, &err);
  CHECK(rc == SPY_EINVAL &&
            strstr(err.msg, "Invalid value of `channel`: 'Cz'; expected a signal of"),
        "unknown: %s", err.msg);
}

static void test_bad_files(const char *good)
{
  char path[4200];
  spy_err err = {0};
  spy_data *d = NULL;
  spy_eeg_opts o = {0};
  o.dtype = SPY_DT_F32;
  /* truncated: the last data record cut in half */
  size_t n;
  char *bytes = t_slurp(good, &n);
  snprintf(path, sizeof path, "%s/trunc.edf", scratch);
  FILE *f = fopen(path, "wb");
  fwrite(bytes, 1, n - 700, f);
  fclose(f);
  int rc = spy_load_edf(path, &o, &d, NULL, &err);
  CHECK(rc == SPY_EFORMAT && !d && strstr(err.msg, "trunc.edf' cannot be read as EDF/BDF"),
        "truncated: %s", err.msg);
  /* a corrupted header field (number of signals) */
  memcpy(bytes + 252, "x   ", 4);
  snprintf(path, sizeof path, "%s/corrupt.edf", scratch);
  f = fopen(path, "wb");
  fwrite(bytes, 1, n, f);
  fclose(f);
  rc = spy_load_edf(path, &o, &d, NULL, &err);
  CHECK(rc == SPY_EFORMAT && strstr(err.msg, "corrupt.edf' cannot be read as EDF/BDF: the header"),
        "corrupt: %s", err.msg);
  free(bytes);
  snprintf(path, sizeof path, "%s/none.edf", scratch);
  rc = spy_load_edf(path, &o, &d, NULL, &err);
  CHECK(rc == SPY_ENOENT && strstr(err.msg, "cannot open '") && strstr(err.msg, "none.edf"),
        "missing: %s", err.msg);
}

/* Files named spy_* in the temporary storage (the objects' backing files). */
static int count_tmp(void)
{
  int n = 0;
  DIR *d = opendir(spy_tmpdir());
  struct dirent *e;
  while (d && (e = readdir(d)))
    n += strncmp(e->d_name, "spy_", 4) == 0;
  if (d) closedir(d);
  return n;
}

/* Ctrl-C during a load: SPY_EINTR, no object, no backing file left. */
static void test_interrupt(const char *path)
{
  spy_err err = {0};
  spy_data *d = NULL;
  spy_eeg_opts o = {0};
  o.dtype = SPY_DT_F32;
  int before = count_tmp();
  spy_interrupt_request();
  int rc = spy_load_edf(path, &o, &d, NULL, &err);
  spy_interrupt_clear();
  CHECK(rc == SPY_EINTR && !d && strstr(err.msg, "interrupted while loading"), "interrupt: %d %s",
        rc, err.msg);
  CHECK(count_tmp() == before, "temporary files: %d before, %d after", before, count_tmp());
}

int main(void)
{
  spy_err err = {0};
  if (spy_settings_init(&err) != SPY_OK) {
    fprintf(stderr, "settings: %s\n", err.msg);
    return 1;
  }
  spy_h5_init();
  snprintf(scratch, sizeof scratch, "%s/edf_test_XXXXXX", spy_tmpdir());
  if (!mkdtemp(scratch)) {
    perror("mkdtemp");
    return 1;
  }
  char edf[4200], bdf[4200];
  snprintf(edf, sizeof edf, "%s/rec.edf", scratch);
  snprintf(bdf, sizeof bdf, "%s/rec.bdf", scratch);
  write_file(edf, EDFLIB_FILETYPE_EDFPLUS);
  write_file(bdf, EDFLIB_FILETYPE_BDFPLUS);
  check_file(edf, false);
  check_file(bdf, true);
  test_bad_files(edf);
  test_interrupt(bdf);
  char cmd[4300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", scratch);
  return t_done();
}
