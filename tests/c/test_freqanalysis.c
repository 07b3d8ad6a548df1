/*
** spy_freqanalysis_plan's validation: Syncopy's messages, verbatim
** (syncopy.md 2.2-2.4, 2.7, 2.8), its warnings in the log, and the
** validation of output='fooof*'.
*/
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "fa_util.h"
#include "t.h"

static fa_data data;

/* Plans json (keywords merged over the defaults without the keyword
** spec's own type checks, as a replayed cfg arrives) and returns the
** message ("" on success). */
static const char *msg_of(const char *json)
{
  static spy_err err;
  spy_err_clear(&err);
  cJSON *cfg = fa_cfg("{}", &err), *given = cJSON_Parse(json), *e;
  cJSON_ArrayForEach(e, given) cJSON_ReplaceItemInObject(cfg, e->string, cJSON_Duplicate(e, 1));
  spy_op op;
  int rc = spy_freqanalysis_plan(cfg, &data.t, &op, &err);
  if (rc == 0) spy_op_free(&op);
  cJSON_Delete(cfg);
  cJSON_Delete(given);
  return rc ? err.msg : "";
}

#define EXPECT(json, text)                                                                         \
  do {                                                                                             \
    const char *m_ = msg_of(json);                                                                 \
    CHECK(strcmp(m_, text) == 0, "%s:\n   got  %s\n   want %s", json, m_, text);                   \
  } while (0)

static char logpath[256];

/* The log file's text since the last call. */
static char *log_since(long *pos)
{
  FILE *f = fopen(logpath, "rb");
  static char buf[65536];
  buf[0] = '\0';
  if (!f) return buf;
  fseek(f, *pos, SEEK_SET);
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  *pos += (long)n;
  fclose(f);
  return buf;
}

int main(void)
{
  size_t lens[3] = {2000, 2000, 2000};
  double offs[3] = {-1000, -1000, -1000};
  fa_data_init(&data, 3, lens, offs, 2, 1000);

  /* 2.2: order and wording */
  EXPECT("{\"method\": \"fft\"}", "Invalid value of `method`: 'fft'; expected 'mtmfft' or "
                                  "'mtmconvol' or 'wavelet' or 'superlet' or 'welch' ");
  EXPECT("{\"output\": \"power\"}",
         "Invalid value of `output`: 'power'; expected 'pow' or 'abs' or 'fourier' or 'real' or "
         "'imag' or 'angle' or 'absreal' or 'absimag' or 'complex' ");
  EXPECT("{\"output\": \"fooof_x\"}", "Invalid value of `output_fooof`: 'fooof_x'; expected "
                                      "'fooof' or 'fooof_aperiodic' or 'fooof_peaks' ");
  EXPECT("{\"keeptapers\": 1}", "Wrong type of `keeptapers`: expected boolean found integer");
  EXPECT("{\"polyremoval\": 2}", "Invalid value of `polyremoval`: '2'; expected value to be "
                                 "greater or equals 0 and less or equals 1");
  EXPECT("{\"polyremoval\": 0.5}", "Invalid value of `polyremoval`: '0.5'; expected int_like");
  EXPECT("{\"pad\": \"max\"}",
         "Invalid value of `pad`: 'max'; expected 'maxperlen', 'nextpow2' or a float number");
  EXPECT("{\"pad\": 1.5}", "Invalid value of `pad`: '1.5'; expected value to be greater or equals "
                           "2.0 and less or equals 33554.432");
  /* spy's limit: 2^25 samples of padding beyond the longest trial (pad=1e308 once became
  ** an undefined double-to-integer conversion) */
  EXPECT("{\"pad\": 1e6}", "Invalid value of `pad`: '1000000'; expected value to be greater or "
                           "equals 2.0 and less or equals 33554.432");
  EXPECT("{\"pad\": 1e308}", "Invalid value of `pad`: '1e+308'; expected value to be greater or "
                             "equals 2.0 and less or equals 33554.432");
  EXPECT("{\"foi\": [1, 2], \"foilim\": [1, 2]}",
         "Invalid value of `foi/foilim`: 'both'; expected either `foi` or `foilim` specification");
  EXPECT("{\"foi\": \"some\"}",
         "Invalid value of `foi`: 'some'; expected 'all' or `None` or list/array");
  EXPECT("{\"foi\": [-1, 600]}", "Invalid value of `foi`: 'array with range -1 to 600'; expected "
                                 "all array elements to be bounded by 0 and 500.0");
  EXPECT("{\"foilim\": [1, 2, 3]}",
         "Invalid value of `foilim`: 'shape = (3,)'; expected array of shape (2,)");
  EXPECT("{\"foilim\": [100.1, 100.2]}", "Invalid value of `foi/foilim`: 'empty frequency "
                                         "selection'; expected non-empty frequency specification");
  EXPECT("{\"method\": \"mtmconvol\", \"toi\": null}",
         "Wrong type of `toi`: expected scalar or array-like or 'all' found nil");

  /* 2.4: tapers */
  EXPECT("{\"taper\": \"dpss\"}", "Invalid value of `taper`: 'dpss'; expected set `tapsmofrq` "
                                  "parameter directly for multi-tapering");
  EXPECT("{\"taper\": \"kaiser\"}", "Invalid value of `taper_opt`: 'nil'; expected additional "
                                    "parameters for taper 'kaiser': ['beta']");
  EXPECT("{\"taper\": \"boxcar\", \"tapsmofrq\": 4}",
         "Invalid value of `taper`: 'boxcar'; expected `None` for multi-tapering, just set "
         "`tapsmofrq`");
  EXPECT("{\"tapsmofrq\": 4, \"output\": \"abs\"}",
         "Invalid value of `output|keeptapers`: ''abs'|False'; expected 'pow'|False or "
         "'abs'|True, set either keeptapers=True or `output='pow'`!");
  EXPECT("{\"tapsmofrq\": -1}", "Invalid value of `tapsmofrq`: '-1'; expected smoothing bandwidth "
                                "in Hz, typical values are in the range 1-10Hz");
  CHECK(strncmp(msg_of("{\"taper\": \"nope\"}"),
                "Invalid value of `taper`: 'nope'; expected 'boxcar' or 'triang' or ", 66) == 0,
        "unknown taper: %s", msg_of("{\"taper\": \"nope\"}"));

  /* 2.7, 2.8 */
  EXPECT("{\"method\": \"mtmconvol\", \"toi\": \"all\"}",
         "Wrong type of `t_ftimwin`: expected scalar found nil (method='mtmconvol' needs a window "
         "length: give it in seconds, e.g. {method=\"mtmconvol\", t_ftimwin=0.5})");
  EXPECT("{\"method\": \"mtmconvol\", \"t_ftimwin\": 5}",
         "Invalid value of `t_ftimwin`: '5'; expected value to be greater or equals 0.001 and less "
         "or equals 2.0");
  EXPECT("{\"method\": \"mtmconvol\", \"t_ftimwin\": 0.1, \"toi\": \"some\"}",
         "Invalid value of `toi`: 'some'; expected `toi = 'all'` to center analysis windows on "
         "all time-points");
  EXPECT("{\"method\": \"mtmconvol\", \"t_ftimwin\": 0.1, \"toi\": [0.3, -0.1, 0.2]}",
         "Invalid value of `toi`: 'unsorted list/array'; expected ordered list/array of "
         "time-points");
  EXPECT("{\"method\": \"mtmconvol\", \"t_ftimwin\": 0.1, \"toi\": [-2, 0]}",
         "Invalid value of `toi`: 'array with range -2 to 0'; expected all array elements to be "
         "bounded by -1.0 and 1.0");
  EXPECT("{\"method\": \"welch\", \"t_ftimwin\": 0.1}",
         "Invalid value of `toi`: 'all'; expected toi to be a float in range [0, 1] for "
         "method='welch'");
  EXPECT("{\"method\": \"welch\", \"t_ftimwin\": 0.1, \"toi\": 0.5, \"keeptapers\": true}",
         "Invalid value of `keeptapers`: 'true'; expected keeptapers=false with method='welch'");
  EXPECT("{\"method\": \"welch\", \"t_ftimwin\": 0.1, \"toi\": 0.5, \"output\": \"abs\"}",
         "Invalid value of `output`: 'abs'; expected output='pow' with method='welch'");
  EXPECT("{\"method\": \"welch\", \"t_ftimwin\": 0.1, \"toi\": 0.5}", "");

  /* fooof: validated as mtmfft, then as FOOOF (tests/c/test_fooof_op.c) */
  EXPECT("{\"output\": \"fooof\"}",
         "Invalid value of `foi/foilim`: 'Frequency range from 0.0 to 500.0.'; expected a "
         "frequency range that does not include zero. Use 'foi' or 'foilim' to restrict.");
  EXPECT("{\"output\": \"fooof\", \"foilim\": [1, 100]}", "");
  EXPECT("{\"output\": \"fooof\", \"foilim\": [1, 100], \"keeptrials\": false}", "");

  /* the history entry of a multi-taper call */
  {
    spy_err err = {0};
    spy_op op;
    int rc = fa_plan("{\"tapsmofrq\": 4, \"foilim\": [1, 3]}", &data.t, &op, &err);
    const char *want = "computed mtmfft_cF with settings\n\tmethod = mtmfft\n\toutput = pow\n"
                       "\tkeeptapers = False\n\tkeeptrials = True\n\tpolyremoval = 0\n"
                       "\tpad = maxperlen\n\tfoi = [1.  1.5 2.  2.5 3. ]\n\ttaper = dpss\n"
                       "\tnTaper = 15\n\ttapsmofrq = 4\n";
    CHECK(rc == 0 && !strcmp(op.log, want), "log:\n%s", rc ? err.msg : op.log);
    if (!rc) spy_op_free(&op);
  }

  /* warnings, in the log */
  snprintf(logpath, sizeof logpath, "/tmp/spy_test_fa_%d.log", (int)getpid());
  remove(logpath);
  spy_log_set_file(logpath);
  long pos = 0;
  msg_of("{\"nTaper\": 3, \"keeptapers\": true}");
  char *l = log_since(&pos);
  CHECK(
      strstr(l, "Syncopy <process_taper>: `nTaper` is only used for multi-tapering!") &&
          strstr(l,
                 "Syncopy <process_taper>: `keeptapers` is only used for multi-tapering!"),
      "single-taper warnings: %s", l);
  msg_of("{\"toi\": 0.5, \"width\": 7}");
  l = log_since(&pos);
  CHECK(strstr(l, "Syncopy <input_processors>: option `toi` has no effect for "
                  "`MultiTaperFFT`!") &&
            strstr(l, "option `width` has no effect for `MultiTaperFFT`!"),
        "ineffective options: %s", l);
  msg_of("{\"method\": \"mtmconvol\", \"t_ftimwin\": 0.1, \"pad\": \"nextpow2\", \"ft_compat\": "
         "true}");
  l = log_since(&pos);
  CHECK(strstr(l, "Your choice of `pad = 'nextpow2'` will be ignored. ") &&
            strstr(l, "option `ft_compat` has no effect for `MultiTaperFFTConvol`!"),
        "mtmconvol warnings: %s", l);
  msg_of("{\"tapsmofrq\": 4, \"nTaper\": 3}");
  l = log_since(&pos);
  CHECK(strstr(l, "The optimal number of tapers is 15, you have chosen to use 3."),
        "nTaper warning: %s", l);
  spy_log_set_file(NULL);
  remove(logpath);

  fa_data_free(&data);
  spy_fft_cleanup();
  return t_done();
}
