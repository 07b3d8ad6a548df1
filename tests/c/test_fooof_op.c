/*
** freqanalysis with output='fooof*': the validation of fooof_opt and of the
** surrounding keywords (Syncopy's messages where it has them; spy's own for
** values FOOOF itself would only trip over later), and the op's shape: a
** custom reduction of whole trials with one fit per channel.
*/
#include <string.h>

#include "fa_util.h"
#include "t.h"

static fa_data data;

static const char *msg_of(const char *json)
{
  static spy_err err;
  spy_err_clear(&err);
  spy_op op;
  int rc = fa_plan(json, &data.t, &op, &err);
  if (rc == 0) spy_op_free(&op);
  return rc ? err.msg : "";
}

#define BASE "\"output\": \"fooof\", \"foilim\": [1, 100], \"keeptrials\": false"
#define EXPECT(json, text)                                                        \
  do {                                                                            \
    const char *m_ = msg_of(json);                                                \
    CHECK(strcmp(m_, text) == 0, "%s:\n   got  %s\n   want %s", json, m_, text); \
  } while (0)

int main(void)
{
  size_t lens[2] = {1000, 1000};
  fa_data_init(&data, 2, lens, NULL, 3, 1000);

  EXPECT("{" BASE "}", "");
  EXPECT("{" BASE ", \"output\": \"fooof_peaks\"}", "");
  EXPECT("{" BASE ", \"fooof_opt\": {\"aperiodic_mode\": \"knee\", \"max_n_peaks\": 3, "
         "\"peak_width_limits\": [1, 8], \"min_peak_height\": 0.1, \"peak_threshold\": 1.5, "
         "\"verbose\": false}}",
         "");
  EXPECT("{" BASE ", \"fooof_opt\": {\"max_n_peaks\": null}}", "");
  EXPECT("{" BASE ", \"fooof_opt\": {\"foo\": 1, \"max_n_peaks\": 2, \"bar\": 2}}",
         "fooof_opt: invalid keys: '['foo', 'bar']', allowed keys are: '['peak_width_limits', "
         "'max_n_peaks', 'min_peak_height', 'peak_threshold', 'aperiodic_mode', 'verbose']'.");
  EXPECT("{" BASE ", \"fooof_opt\": {\"aperiodic_mode\": \"lorentz\"}}",
         "Invalid value of `aperiodic_mode`: 'lorentz'; expected 'fixed' or 'knee'");
  EXPECT("{" BASE ", \"fooof_opt\": {\"peak_width_limits\": [8, 1]}}",
         "Invalid value of `peak_width_limits`: '{8, 1}'; expected two increasing positive finite "
         "widths in Hz, e.g. {0.5, 12}");
  EXPECT("{" BASE ", \"fooof_opt\": {\"peak_width_limits\": 3}}",
         "Invalid value of `peak_width_limits`: '3'; expected two increasing positive finite "
         "widths in Hz, e.g. {0.5, 12}");
  EXPECT("{" BASE ", \"fooof_opt\": {\"max_n_peaks\": 2.5}}",
         "Invalid value of `max_n_peaks`: '2.5'; expected an integer >= 0 or inf");
  EXPECT("{" BASE ", \"fooof_opt\": {\"max_n_peaks\": -1}}",
         "Invalid value of `max_n_peaks`: '-1'; expected value >= 0");
  EXPECT("{" BASE ", \"fooof_opt\": {\"peak_threshold\": \"2\"}}",
         "Wrong type of `peak_threshold`: expected scalar found string");
  EXPECT("{" BASE ", \"fooof_opt\": {\"verbose\": 1}}",
         "Wrong type of `verbose`: expected boolean found integer");
  EXPECT("{" BASE ", \"fooof_opt\": [1, 2]}",
         "Wrong type of `fooof_opt`: expected table or nil found list");
  EXPECT("{" BASE ", \"tapsmofrq\": 4, \"keeptapers\": true}",
         "Invalid value of `keeptapers`: 'true'; expected false with FOOOF outputs");
  EXPECT("{\"output\": \"fooof\", \"foilim\": [1, 100]}", "");
  EXPECT("{\"output\": \"fooof\", \"keeptrials\": false, \"foilim\": [1, 2]}",
         "Invalid value of `foi/foilim`: 'fewer than 3 frequencies'; expected at least 3 "
         "frequencies for FOOOF");
  EXPECT("{\"output\": \"fooof\", \"keeptrials\": false, \"foi\": [1, 2, 3, 5, 8]}",
         "Invalid value of `foi`: 'not evenly spaced'; expected equidistant frequencies for FOOOF "
         "(the model expects equidistant frequency values in linear space)");
  EXPECT("{\"output\": \"fooof\", \"keeptrials\": false, \"foi\": [2, 4, 6, 8]}", "");
  EXPECT("{\"output\": \"fooof\", \"keeptrials\": false, \"foilim\": [0, 100]}",
         "Invalid value of `foi/foilim`: 'Frequency range from 0.0 to 100.0.'; expected a "
         "frequency range that does not include zero. Use 'foi' or 'foilim' to restrict.");

  /* the op: whole trials summed as doubles, one output trial, float32 */
  spy_op op;
  spy_err err = {0};
  CHECK(fa_plan("{" BASE "}", &data.t, &op, &err) == SPY_OK, "plan: %s", err.msg);
  CHECK(op.average && op.acc_elems == 100 * 3 && op.finalize && op.metadata, "reduction seam");
  CHECK(op.nfreq == 100 && op.freq[0] == 1 && op.inner[0] == 1 && op.inner[1] == 100, "axes");
  CHECK(op.out_dtype == SPY_DT_F32 && !op.chan_independent, "dtype and chunks");
  CHECK(op.log && strstr(op.log, "computed mtmfft_cF with settings") &&
            strstr(op.log, "computed fooofspy_cF with settings") &&
            strstr(op.log, "\tfooof_method = fooof\n"),
        "log: %s", op.log);
  spy_op_free(&op);

  /* keeptrials: one fit per trial inside the kernels, results kept in the plan */
  CHECK(fa_plan("{\"output\": \"fooof\", \"foilim\": [1, 100]}", &data.t, &op, &err) == SPY_OK,
        "plan: %s", err.msg);
  CHECK(!op.average && op.acc_elems == 0 && !op.finalize && op.metadata && op.in_process,
        "per-trial fits in process");
  spy_op_free(&op);
  fa_data_free(&data);
  return t_done();
}
