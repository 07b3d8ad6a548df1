#include "dsp/preprocessing_spec.h"

/* Allowed string values are checked by the plans, which give Syncopy's own
** messages (they differ between keywords), so `allowed` stays NULL and the
** docs list the values.  order and polyremoval are numbers here so that a
** fractional value reaches the plan and gets Syncopy's "int_like" error. */
static const spy_kwarg kw_pre[] = {
    {"filter_class", SPY_KT_STR | SPY_KT_NULL, "\"but\"", NULL,
     "'but' (Butterworth IIR) or 'firws' (windowed-sinc FIR); spy.null: no filtering"},
    {"filter_type", SPY_KT_STR, "\"lp\"", NULL,
     "'lp' low-pass, 'hp' high-pass, 'bp' band-pass or 'bs' band-stop"},
    {"freq", SPY_KT_NUM | SPY_KT_NUMS | SPY_KT_NULL, "null", NULL,
     "cut-off in Hz (lp, hp) or {low, high} (bp, bs), within [0, samplerate/2]"},
    {"order", SPY_KT_NUM | SPY_KT_NULL, "null", NULL,
     "filter order (integer >= 0); default 4 for 'but', min(shortest trial, 1000) for 'firws'"},
    {"direction", SPY_KT_STR | SPY_KT_NULL, "\"twopass\"", NULL,
     "'twopass' (zero phase), 'onepass' or 'onepass-minphase' (firws only)"},
    {"window", SPY_KT_STR | SPY_KT_NULL, "\"hamming\"", NULL,
     "firws window: 'hamming', 'hann' or 'blackman'"},
    {"polyremoval", SPY_KT_NUM | SPY_KT_NULL, "null", NULL,
     "de-trending before filtering: 0 mean, 1 linear, nil none"},
    {"zscore", SPY_KT_BOOL, "false", NULL, "standardise every channel of every trial first"},
    {"rectify", SPY_KT_BOOL, "false", NULL, "absolute value after filtering"},
    {"hilbert", SPY_KT_BOOL | SPY_KT_STR, "false", NULL,
     "Hilbert transform after filtering, output 'abs', 'complex', 'real', 'imag', "
     "'absreal', 'absimag' or 'angle'; false: none"},
    SPY_KW_COMPUTE_TAIL};

const spy_funcspec spy_spec_preprocessing = {
    "preprocessing",
    "spy.preprocessing(data, {filter_class='but', filter_type='lp', freq=..., order=nil, "
    "direction='twopass', window='hamming', polyremoval=nil, zscore=false, rectify=false, "
    "hilbert=false})",
    "Filter AnalogData with Butterworth (IIR) or windowed-sinc (FIR) filters; z-score, "
    "de-trend, rectify or Hilbert-transform it.",
    "Steps in Syncopy's order: zscore, then de-trending and the filter, then rectify or the "
    "Hilbert transform.  'but' designs SciPy's butter(order, freq, filter_type, fs) in "
    "second-order sections; 'twopass' is SciPy's sosfiltfilt (odd padding of 3 x taps at "
    "each edge, so a trial must be longer than that), 'onepass' sosfilt from rest.  'firws' "
    "convolves with a windowed sinc of order+1 taps ('same' convolution, zero-padded edges; "
    "'twopass' twice, 'onepass-minphase' its minimum-phase version); a trial containing NaN "
    "is convolved in the time domain so a NaN spoils only its neighbourhood.  The result is "
    "AnalogData of float32 (complex64 for hilbert='complex') with the input's trials and "
    "samplerate; trials that held NaN are listed in .info.nan_trials.",
    "local filt = spy.preprocessing(data, {filter_class='but', filter_type='bp', freq={20, 40}})\n"
    "local low  = spy.preprocessing(data, {filter_class='firws', filter_type='lp', freq=40, "
    "order=500, direction='onepass'})\n"
    "local env  = spy.preprocessing(data, {filter_type='bp', freq={8, 12}, hilbert='abs'})",
    kw_pre};

static const spy_kwarg kw_rs[] = {
    {"resamplefs", SPY_KT_NUM, "1.0", NULL,
     "new sampling rate in Hz, within [1, samplerate] (no up-sampling)"},
    {"method", SPY_KT_STR, "\"resample\"", NULL,
     "'resample' (any rational factor, anti-aliased) or 'downsample' (integer division, "
     "every n-th sample)"},
    {"lpfreq", SPY_KT_NUM | SPY_KT_NULL, "null", NULL,
     "anti-alias low-pass cut-off in Hz, within [0, resamplefs/2]; resample: default the new "
     "Nyquist, downsample: no filter unless set"},
    {"order", SPY_KT_NUM | SPY_KT_NULL, "null", NULL,
     "order of the anti-alias FIR (integer >= 0); default min(shortest trial, 1000)"},
    SPY_KW_COMPUTE_TAIL};

const spy_funcspec spy_spec_resampledata = {
    "resampledata",
    "spy.resampledata(data, {resamplefs=1.0, method='resample', lpfreq=nil, order=nil})",
    "Resample AnalogData to a lower sampling rate (polyphase resampling or plain "
    "downsampling).",
    "'resample' uses the rational factor up/down closest to resamplefs/samplerate "
    "(denominator <= 10^6) and SciPy's resample_poly with a Hamming windowed-sinc low-pass "
    "at lpfreq (default resamplefs/2) of order+1 taps; each trial becomes ceil(n*up/down) "
    "samples long.  'downsample' keeps every (samplerate/resamplefs)-th sample starting with "
    "the first and needs an integer ratio; it filters only when lpfreq is set (a two-pass "
    "FIR).  Trial definitions are rescaled as Syncopy does; extra trialinfo columns are "
    "dropped.",
    "local rs = spy.resampledata(data, {resamplefs=300})\n"
    "local ds = spy.resampledata(data, {method='downsample', resamplefs=250, lpfreq=100})",
    kw_rs};
