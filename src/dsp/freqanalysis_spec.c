#include "dsp/freqanalysis_spec.h"

static const spy_kwarg kw[] = {
    {"method", SPY_KT_STR, "\"mtmfft\"", "mtmfft|mtmconvol|wavelet|superlet|welch",
     "spectral estimation method"},
    {"output", SPY_KT_STR, "\"pow\"",
     "pow|abs|fourier|real|imag|angle|absreal|absimag|complex|fooof|fooof_aperiodic|fooof_peaks",
     "output of the complex coefficients: power, amplitude, the coefficients themselves, ..."},
    {"keeptrials", SPY_KT_BOOL, "true", NULL,
     "keep single-trial results (false: average over trials)"},
    {"foi", SPY_KT_NUMS | SPY_KT_STR | SPY_KT_NULL, "null", NULL,
     "frequencies of interest in Hz (nearest available bins, order kept) or 'all'"},
    {"foilim", SPY_KT_NUMS | SPY_KT_STR | SPY_KT_NULL, "null", NULL,
     "frequency window {fmin, fmax} in Hz (inclusive) or 'all'"},
    {"pad", SPY_KT_STR | SPY_KT_NUM, "\"maxperlen\"", NULL,
     "mtmfft padding: 'maxperlen', 'nextpow2' or a length in seconds"},
    {"polyremoval", SPY_KT_INT | SPY_KT_NULL, "0", NULL,
     "de-trending before the transform: 0 mean, 1 linear, spy.null none"},
    {"taper", SPY_KT_STR | SPY_KT_NULL, "\"hann\"", NULL,
     "window function (any of SciPy's windows; multi-tapering: set tapsmofrq)"},
    {"demean_taper", SPY_KT_BOOL, "false", NULL, "mtmfft: subtract the mean after tapering"},
    {"taper_opt", SPY_KT_DICT | SPY_KT_NULL, "null", NULL,
     "parameters of the taper, e.g. {beta=8} for kaiser"},
    {"tapsmofrq", SPY_KT_NUM | SPY_KT_NULL, "null", NULL,
     "multi-taper (DPSS) spectral smoothing in Hz"},
    {"nTaper", SPY_KT_INT | SPY_KT_NULL, "null", NULL,
     "number of DPSS tapers (default: the optimal 2NW-1)"},
    {"keeptapers", SPY_KT_BOOL, "false", NULL, "keep single-taper results (multi-tapering)"},
    {"toi", SPY_KT_NUM | SPY_KT_NUMS | SPY_KT_STR, "\"all\"", NULL,
     "times of interest: 'all', an overlap fraction in [0, 1] (mtmconvol, welch) or a list of times in s"},
    {"t_ftimwin", SPY_KT_NUM | SPY_KT_NULL, "null", NULL,
     "mtmconvol/welch: sliding window length in seconds"},
    {"wavelet", SPY_KT_STR, "\"Morlet\"", "Morlet|Paul|DOG|Ricker|Marr|Mexican_hat",
     "wavelet family"},
    {"width", SPY_KT_NUM, "6", NULL,
     "Morlet: must be >= 1; as in Syncopy the transform uses w0 = 6 whatever its value (a warning says so)"},
    {"order", SPY_KT_INT | SPY_KT_NULL, "null", NULL, "Paul (>= 4) and DOG (>= 1) wavelet order, at most 50", SPY_KW_INT32},
    {"order_max", SPY_KT_INT | SPY_KT_NULL, "null", NULL, "superlet: highest order (required)", 1,
     SPY_SUPERLET_ORDER_LIMIT},
    {"order_min", SPY_KT_INT, "1", NULL, "superlet: lowest order", 1, SPY_SUPERLET_ORDER_LIMIT},
    {"c_1", SPY_KT_INT, "3", NULL, "superlet: cycles of the base wavelet", 1,
     SPY_SUPERLET_C1_LIMIT},
    {"adaptive", SPY_KT_BOOL, "false", NULL,
     "superlet: fractional adaptive (true) or multiplicative (false)"},
    {"out", SPY_KT_NULL, "null", NULL, "ignored (Syncopy compatibility)"},
    {"fooof_opt", SPY_KT_DICT | SPY_KT_NULL, "null", NULL,
     "output='fooof*': FOOOF settings merged over {peak_width_limits = {0.5, 12.0}, "
     "max_n_peaks = math.huge, min_peak_height = 0.0, peak_threshold = 2.0, "
     "aperiodic_mode = 'fixed' or 'knee', verbose = false}; fits in result.metadata"},
    {"ft_compat", SPY_KT_BOOL, "false", NULL,
     "mtmfft: FieldTrip's normalisation (power scales with the padding)"},
    SPY_KW_COMPUTE_TAIL};

const spy_funcspec spy_spec_freqanalysis = {
    "freqanalysis",
    "spy.freqanalysis(data, {method='mtmfft', output='pow', keeptrials=true, ...})",
    "Spectral estimation of AnalogData: mtmfft, mtmconvol, wavelet, superlet, welch.",
    "Returns a SpectralData (dimord time, taper, freq, channel) whose numbers follow Syncopy: "
    "power per bin with sqrt(2) on every bin, tapers normalised as Syncopy's, float32 (complex64 "
    "for output='fourier').  Also accepts Syncopy's call forms spy.freqanalysis(cfg, data) and "
    "spy.freqanalysis(data, res.cfg) (replays the analysis of res).",
    "local spec = spy.freqanalysis(data, {method='mtmfft', foilim={1, 150}, tapsmofrq=4})\n"
    "local tf   = spy.freqanalysis(data, {method='wavelet', foi={10, 20, 40}, toi='all'})",
    kw};
