#include "connectivity/conn.h"

static const spy_kwarg kw[] = {
    {"method", SPY_KT_STR, "\"coh\"", NULL,
     "connectivity measure: 'coh', 'corr', 'granger', 'csd' or 'ppc'"},
    {"keeptrials", SPY_KT_BOOL, "false", NULL,
     "keep single-trial results (csd and corr only; the others need the trial average)"},
    {"output", SPY_KT_STR, "\"abs\"", NULL,
     "coh only: 'abs', 'pow', 'complex', 'fourier', 'angle', 'real' or 'imag'"},
    {"foi", SPY_KT_NUMS | SPY_KT_STR | SPY_KT_NULL, "null", NULL,
     "frequencies of interest in Hz (nearest available bins) or 'all'"},
    {"foilim", SPY_KT_NUMS | SPY_KT_STR | SPY_KT_NULL, "null", NULL,
     "frequency window {fmin, fmax} in Hz (inclusive) or 'all'"},
    {"pad", SPY_KT_STR | SPY_KT_NUM, "\"maxperlen\"", NULL,
     "padding of the trials before the FFT: 'maxperlen', 'nextpow2' or a length in seconds"},
    {"channelcmb", SPY_KT_LIST | SPY_KT_NULL, "null", NULL,
     "{senders, receivers} (SpectralData input only)"},
    {"polyremoval", SPY_KT_INT | SPY_KT_NULL, "0", NULL,
     "de-trending before the transform: 0 mean, 1 linear, nil none"},
    {"tapsmofrq", SPY_KT_NUM | SPY_KT_NULL, "null", NULL,
     "multi-taper (DPSS) spectral smoothing in Hz"},
    {"nTaper", SPY_KT_INT | SPY_KT_NULL, "null", NULL,
     "number of DPSS tapers (default: the optimal 2NW-1)"},
    {"taper", SPY_KT_STR | SPY_KT_NULL, "\"hann\"", NULL,
     "window function (any of SciPy's windows; multi-tapering: set tapsmofrq)"},
    {"taper_opt", SPY_KT_DICT | SPY_KT_NULL, "null", NULL,
     "parameters of the taper, e.g. {beta=8} for kaiser"},
    {"jackknife", SPY_KT_BOOL, "false", NULL,
     "coh and granger: leave-one-out variance and bias estimates"},
    SPY_KW_COMPUTE_TAIL};

const spy_funcspec spy_spec_connectivityanalysis = {
    "connectivityanalysis",
    "spy.connectivityanalysis(data, {method='coh', output='abs', keeptrials=false, ...})",
    "Connectivity between channels: coherence, cross spectra, PPC, Granger causality, "
    "cross-correlation.",
    "Returns a CrossSpectralData (dimord time, freq, channel_i, channel_j) whose numbers follow "
    "Syncopy: cross spectra CS_ij = mean over tapers of X_i conj(X_j) per trial, averaged over "
    "trials in trial order (identical for any number of workers).  coh: CS_ij / sqrt(CS_ii CS_jj) "
    "converted by `output`; csd: the (complex) cross spectra; ppc: pairwise phase consistency; "
    "corr: cross-correlation over the positive lags (the time axis holds the lags).  Also "
    "accepts spy.connectivityanalysis(data, res.cfg) (replays the analysis of res).",
    "local coh = spy.connectivityanalysis(data, {method='coh', tapsmofrq=3})\n"
    "local cc  = spy.connectivityanalysis(data, {method='corr', keeptrials=true})",
    kw};
