#include "stats/stats.h"

#define STAT_KW(what)                                                                              \
  {"dim", SPY_KT_STR, "null", NULL,                                                                \
   "a dimord label ('time', 'channel', 'freq', 'taper', ...) or 'trials'"},                        \
      {"keeptrials", SPY_KT_BOOL, "true", NULL,                                                    \
       "dim other than 'trials': false also averages the per-trial " what " over trials"},         \
      SPY_KW_SELECT, SPY_KW_PARALLEL("run"), SPY_KW_END

static const spy_kwarg kw_mean[] = {STAT_KW("means")};
static const spy_kwarg kw_std[] = {STAT_KW("standard deviations")};
static const spy_kwarg kw_var[] = {STAT_KW("variances")};
static const spy_kwarg kw_median[] = {STAT_KW("medians")};

#define STAT_DOC                                                                                   \
  "NaNs are ignored (numpy's nan* functions, ddof 0).  Along a dimord axis the statistic is "      \
  "taken per trial and the axis keeps length 1 (label: the statistic's name, 0 for freq; "         \
  "over time each trial becomes one sample).  dim='trials' needs trials of equal shape and "       \
  "gives one trial with the first trial's offset; it streams the trials (one trial's "             \
  "accumulators in memory) and, for AnalogData and TimeLockData, runs on the client's "            \
  "workers with a reduction in trial order (identical results for any number of workers)."

const spy_funcspec spy_spec_mean = {
    "mean",
    "spy.mean(data, dim [, {keeptrials=true, select=...}])",
    "Mean along a dimension or over trials (AnalogData, SpectralData, CrossSpectralData, "
    "TimeLockData).",
    STAT_DOC,
    "local avg = spy.mean(data, 'trials')\nlocal m = spy.mean(spec, {dim='freq'})",
    kw_mean};
const spy_funcspec spy_spec_std = {"std",
                                   "spy.std(data, dim [, {keeptrials=true, select=...}])",
                                   "Standard deviation (ddof 0) along a dimension or over trials.",
                                   STAT_DOC,
                                   "local sd = spy.std(data, 'trials')",
                                   kw_std};
const spy_funcspec spy_spec_var = {"var",
                                   "spy.var(data, dim [, {keeptrials=true, select=...}])",
                                   "Variance (ddof 0) along a dimension or over trials.",
                                   STAT_DOC,
                                   "local v = spy.var(spec, 'freq')",
                                   kw_var};
const spy_funcspec spy_spec_median = {
    "median",
    "spy.median(data, dim [, {keeptrials=true, select=...}])",
    "Median along a dimension or over trials (real data).",
    STAT_DOC "  The median over trials is exact: it holds every trial of a block of channels in "
             "memory (at most 256 MB) and reads the trials once per block.",
    "local med = spy.median(data, 'trials')",
    kw_median};

static const spy_kwarg kw_itc[] = {SPY_KW_SELECT, SPY_KW_PARALLEL("run"), SPY_KW_END};
const spy_funcspec spy_spec_itc = {
    "itc",
    "spy.itc(spec [, {select=...}])",
    "Inter-trial coherence |mean over tapers of mean over trials of z/|z|| of a complex spectrum.",
    "The input is SpectralData with output='fourier' (complex); trials must have equal shapes.  "
    "The result is one float32 trial with the first trial's offset and the taper label "
    "'taper1', as Syncopy.",
    "local f = spy.freqanalysis(data, {method='mtmfft', taper='hann', output='fourier'})\n"
    "local itc = spy.itc(f)",
    kw_itc};

static const spy_kwarg kw_tl[] = {
    {"latency", SPY_KT_STR | SPY_KT_NUMS, "\"maxperiod\"", NULL,
     "'maxperiod', 'minperiod', 'prestim', 'poststim' or {t0, t1} in s; trials not covering "
     "the window are discarded"},
    {"covariance", SPY_KT_BOOL, "false", NULL, "also compute the channel covariance `cov`"},
    {"ddof", SPY_KT_INT | SPY_KT_NULL, "null", NULL,
     "delta degrees of freedom of the covariance (nil: numpy's default 1); var uses 0"},
    {"trials", SPY_KT_STR | SPY_KT_INT | SPY_KT_NUMS, "\"all\"", NULL,
     "'all' or 1-based trial numbers (not together with a select trial selection)"},
    {"keeptrials", SPY_KT_BOOL, "false", NULL,
     "with covariance: true keeps one covariance matrix per trial (ntrials x nch x nch)"},
    SPY_KW_SELECT,
    SPY_KW_PARALLEL("run"),
    SPY_KW_END};
const spy_funcspec spy_spec_timelockanalysis = {
    "timelockanalysis",
    "spy.timelockanalysis(data, {latency='maxperiod', covariance=false, ddof=nil, trials='all', "
    "keeptrials=false})",
    "TimeLockData from AnalogData: the trials cut to a common window, their average `avg`, "
    "variance `var` (ddof 0) and optionally covariance `cov`.",
    "As Syncopy: data are stored float32; var has ddof 0 while cov is np.cov(trial, "
    "rowvar=False) with ddof (default 1), averaged over trials.  avg, var and cov are one "
    "reduction over trials on the client's workers, in trial order.",
    "local tl = spy.timelockanalysis(data, {latency={-0.5, 0.5}, covariance=true})\n"
    "print(tl.avg, tl.cov)",
    kw_tl};

static const spy_kwarg kw_redef[] = {
    {"trials", SPY_KT_STR | SPY_KT_INT | SPY_KT_NUMS | SPY_KT_NULL, "null", NULL,
     "1-based trial numbers to keep (nil: all)"},
    {"minlength", SPY_KT_NUM | SPY_KT_NULL, "null", NULL, "drop trials shorter than this (s)"},
    {"offset", SPY_KT_NUM | SPY_KT_NUMS | SPY_KT_NULL, "null", NULL,
     "new offset in samples (one value or one per trial): the sample of t = 0 relative to the "
     "trial start"},
    {"toilim", SPY_KT_NUMS | SPY_KT_NULL, "null", NULL, "{t0, t1} in s, both ends included"},
    {"begsample", SPY_KT_NUM | SPY_KT_NUMS | SPY_KT_NULL, "null", NULL,
     "first sample of each new trial, 1-based within the trial (one value or one per trial)"},
    {"endsample", SPY_KT_NUM | SPY_KT_NUMS | SPY_KT_NULL, "null", NULL,
     "last sample of each new trial, 1-based and inclusive"},
    {"trl", SPY_KT_LIST | SPY_KT_NULL, "null", NULL,
     "new trial definition: rows {start, stop, offset, ...} in samples of the data (0-based "
     "start, exclusive stop, as trialdefinition)"},
    SPY_KW_END};
const spy_funcspec spy_spec_redefinetrial = {
    "redefinetrial",
    "spy.redefinetrial(data, {toilim=... | begsample=..., endsample=... | trl=... | "
    "minlength=..., trials=..., offset=...})",
    "A copy of the data with new trials cut from the old ones (FieldTrip's ft_redefinetrial).",
    "At most one of toilim, begsample/endsample, trl and minlength.  Unlike Syncopy, "
    "begsample and endsample are 1-based and inclusive like every index in spy (Syncopy: "
    "0-based, exclusive end); samples keep their time (the offset moves with begsample) "
    "unless offset is given.  Samples outside the data are an error, not NaN.  Works on "
    "AnalogData, TimeLockData, SpectralData and CrossSpectralData (rows of the time axis).",
    "local cut = spy.redefinetrial(data, {toilim={-0.5, 0.5}})\n"
    "local first = spy.redefinetrial(data, {begsample=1, endsample=100})",
    kw_redef};

static const spy_kwarg kw_concat[] = {
    {"dim", SPY_KT_STR, "\"channel\"", "channel|trials",
     "'channel': channels of obj2 after those of obj1 (same trials); 'trials': trials of obj2 "
     "after those of obj1 (same channels)"},
    SPY_KW_END};
const spy_funcspec spy_spec_concat = {
    "concat",
    "spy.concat(obj1, obj2 [, {dim='channel'} | 'channel' | 'trials'])",
    "Concatenate two AnalogData, TimeLockData or SpectralData objects along channels or trials.",
    "dim='channel' needs the same trials (number and lengths); the channel labels become the "
    "defaults channel1, ... as in Syncopy.  dim='trials' (which Syncopy offers through "
    "AnalogData{data={obj1, obj2}}) needs the same channels, samplerate and dtype and keeps "
    "obj1's labels.  SpectralData needs tapers and frequencies of equal number and keeps obj1's.",
    "local both = spy.concat(lfp, emg, {dim='channel'})",
    kw_concat};
