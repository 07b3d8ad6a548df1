/*
** spy_eeg_events on EDF+ and BDF+ files written by edflib's own writer: the
** annotations become EventData rows [sample, eventid] in the recording's
** sampling (onsets rounded to the nearest sample), ids by first
** appearance of each text (case counts), mapping in info.event_ids, the
** recording's trial definition; the recording keeps its info.annotations;
** no annotations give no EventData; a marker before the start and a
** foreign object give clear errors.
*/
#include <edflib.h>
#include <string.h>
#include <unistd.h>

#include "core/settings.h"
#include "data/discrete.h"
#include "io/formats/eeg.h"
#include "io/formats/events.h"
#include "io/h5.h"
#include "t.h"

static char scratch[4096];

/* 5 s of one 200 Hz signal (EDF+ or BDF+); annotations (onset in 100 us
** units, text). */
static void write_file(const char *path, int type, int nann, const long long *onset,
                       const char *const *text)
{
  int h = edfopen_file_writeonly(path, type, 1);
  CHECK(h >= 0, "edfopen_file_writeonly %s: %d", path, h);
  if (h < 0) return;
  edf_set_samplefrequency(h, 0, 200);
  edf_set_digital_maximum(h, 0, type == EDFLIB_FILETYPE_BDFPLUS ? 8388607 : 32767);
  edf_set_digital_minimum(h, 0, type == EDFLIB_FILETYPE_BDFPLUS ? -8388608 : -32768);
  edf_set_physical_maximum(h, 0, 3276.7);
  edf_set_physical_minimum(h, 0, -3276.8);
  edf_set_label(h, 0, "Cz");
  int buf[200];
  for (int sec = 0; sec < 5; sec++) {
    for (int i = 0; i < 200; i++)
      buf[i] = (sec * 200 + i) % 1000;
    CHECK(edfwrite_digital_samples(h, buf) == 0, "write sec %d", sec);
  }
  for (int a = 0; a < nann; a++)
    CHECK(edfwrite_annotation_utf8(h, onset[a], -1, text[a]) == 0, "annotation %d", a);
  CHECK(edfclose_file(h) == 0, "close %s", path);
}

static spy_data *load(const char *path)
{
  spy_err err = {0};
  spy_data *d = NULL;
  spy_eeg_opts o = {0};
  o.dtype = SPY_DT_F32;
  int rc = spy_load_edf(path, &o, &d, NULL, &err);
  CHECK(rc == SPY_OK, "load %s: %s", path, err.msg);
  return d;
}

static void test_annotations(int type)
{
  char path[4200];
  snprintf(path, sizeof path, "%s/ann.%s", scratch, type == EDFLIB_FILETYPE_BDFPLUS ? "bdf" : "edf");
  /* 0.5 s, 1.004 s (200.8 samples -> 201), 2 s, 3 s, 4 s */
  const long long on[] = {5000, 10040, 20000, 30000, 40000};
  const char *const tx[] = {"Stop", "Go", "Go", "stop", "Stop"};
  write_file(path, type, 5, on, tx);
  spy_data *rec = load(path);
  if (!rec) return;
  spy_err err = {0};
  spy_data *ev = NULL;
  int rc = spy_eeg_events(rec, &ev, &err);
  CHECK(rc == SPY_OK && ev, "events: %s", err.msg);
  if (!ev) {
    spy_data_unref(rec);
    return;
  }
  CHECK(ev->cls == SPY_EVENT && ev->samplerate == 200, "class %d, samplerate %g", (int)ev->cls,
        ev->samplerate);
  CHECK(ev->shape[0] == 5 && ev->shape[1] == 2, "shape %zu x %zu", ev->shape[0], ev->shape[1]);
  int64_t rows[10] = {0};
  rc = spy_discrete_read(ev, 0, 5, rows, &err);
  CHECK(rc == SPY_OK, "read: %s", err.msg);
  const int64_t want[10] = {100, 1, 201, 2, 400, 2, 600, 3, 800, 1};
  for (int i = 0; i < 10; i++)
    CHECK(rows[i] == want[i], "row %d col %d: %lld, expected %lld", i / 2 + 1, i % 2, (long long)rows[i],
          (long long)want[i]);
  const cJSON *ids = cJSON_GetObjectItem(ev->info, "event_ids");
  CHECK(cJSON_GetArraySize(ids) == 3, "3 ids, got %d", cJSON_GetArraySize(ids));
  CHECK(cJSON_GetObjectItemCaseSensitive(ids, "Stop")->valuedouble == 1 &&
            cJSON_GetObjectItemCaseSensitive(ids, "Go")->valuedouble == 2 &&
            cJSON_GetObjectItemCaseSensitive(ids, "stop")->valuedouble == 3,
        "event_ids mapping");
  CHECK(ev->ntrials == 1 && ev->trldef[0] == 0 && ev->trldef[1] == 1000 && ev->trldef[2] == 0,
        "trial definition of the recording");
  spy_discrete_scan sc;
  CHECK(spy_discrete_check(ev, &sc, &err) == SPY_OK, "valid EventData: %s", err.msg);
  spy_discrete_scan_free(&sc);
  /* the recording keeps its plain list */
  CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(rec->info, "annotations")) == 5, "info.annotations kept");
  spy_data_unref(ev);
  spy_data_unref(rec);
}

static void test_none_and_foreign(void)
{
  char path[4200];
  snprintf(path, sizeof path, "%s/plain.edf", scratch);
  write_file(path, EDFLIB_FILETYPE_EDFPLUS, 0, NULL, NULL);
  spy_data *rec = load(path);
  if (!rec) return;
  spy_err err = {0};
  spy_data *ev = (spy_data *)1;
  CHECK(spy_eeg_events(rec, &ev, &err) == SPY_OK && ev == NULL, "no annotations, no EventData: %s", err.msg);
  /* a marker before the start (as a hand-edited info could hold) */
  cJSON *bad = cJSON_CreateObject();
  cJSON_AddNumberToObject(bad, "onset", -0.5);
  cJSON_AddStringToObject(bad, "text", "early");
  cJSON_AddItemToArray(cJSON_GetObjectItem(rec->info, "annotations"), bad);
  int rc = spy_eeg_events(rec, &ev, &err);
  CHECK(rc == SPY_EFORMAT && !ev && strstr(err.msg, "marker 1 at -0.5; expected a position at or after"),
        "negative onset: %s", err.msg);
  cJSON_DeleteItemFromObject(rec->info, "annotations");
  rc = spy_eeg_events(rec, &ev, &err);
  CHECK(rc == SPY_EINVAL && !ev && strstr(err.msg, "expected a recording loaded by spy.load_edf"),
        "foreign: %s", err.msg);
  spy_data_unref(rec);
}

int main(void)
{
  spy_err err = {0};
  if (spy_settings_init(&err) != SPY_OK) {
    fprintf(stderr, "settings: %s\n", err.msg);
    return 1;
  }
  spy_h5_init();
  snprintf(scratch, sizeof scratch, "%s/edfev_test_XXXXXX", spy_tmpdir());
  if (!mkdtemp(scratch)) {
    perror("mkdtemp");
    return 1;
  }
  test_annotations(EDFLIB_FILETYPE_EDFPLUS);
  test_annotations(EDFLIB_FILETYPE_BDFPLUS);
  test_none_and_foreign();
  char cmd[4300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", scratch);
  return t_done();
}
