#include "synth/synth_spec.h"

#include <string.h>

/* collect_trials' keywords, shared by every trial generator. */
/* clang-format off */
#define KW_NTRIALS                                                                            \
  {"nTrials", SPY_KT_NUM | SPY_KT_NULL, "100", NULL,                                          \
   "number of trials (integer >= 1); spy.null returns one nSamples x nChannels array "     \
   "instead of an AnalogData"}
#define KW_SAMPLERATE                                                                         \
  {"samplerate", SPY_KT_NUM, "1000", NULL, "sampling rate in Hz"}
#define KW_SEED                                                                               \
  {"seed", SPY_KT_INT | SPY_KT_NULL, "null", NULL,                                            \
   "non-negative integer for reproducible data; nil draws fresh entropy for every trial"}
#define KW_SEED_PER_TRIAL                                                                     \
  {"seed_per_trial", SPY_KT_BOOL, "true", NULL,                                               \
   "true: derive one seed per trial from `seed`; false: every trial uses `seed` (identical "  \
   "trials)"}
#define KW_NSAMPLES {"nSamples", SPY_KT_INT, "1000", NULL, "number of samples per trial"}
#define KW_NCHANNELS {"nChannels", SPY_KT_INT, "2", NULL, "number of channels"}
#define KW_END SPY_KW_PARALLEL("generate"), SPY_KW_END
/* clang-format on */

static const spy_kwarg kw_white_noise[] = {
    KW_NSAMPLES, KW_NCHANNELS, KW_NTRIALS, KW_SAMPLERATE, KW_SEED, KW_SEED_PER_TRIAL, KW_END};

const spy_funcspec spy_spec_white_noise = {
    "synthdata.white_noise",
    "spy.synthdata.white_noise{nSamples=1000, nChannels=2, nTrials=100, samplerate=1000, "
    "seed=nil, seed_per_trial=true}",
    "Gaussian white noise with unit variance (AnalogData, float32).",
    "Every sample is an independent standard normal draw, from NumPy's default_rng(seed) "
    "algorithms (PCG64, SeedSequence, ziggurat).  Trials start at t = -1 s.",
    "local wn = spy.synthdata.white_noise{nTrials=50, nChannels=8, seed=42}",
    kw_white_noise};

static const spy_kwarg kw_linear_trend[] = {
    {"y_max", SPY_KT_NUM, "null", NULL,
     "required: value at the last sample (the trend starts at 0)"},
    KW_NSAMPLES,
    KW_NCHANNELS,
    KW_NTRIALS,
    KW_SAMPLERATE,
    KW_SEED,
    KW_SEED_PER_TRIAL,
    KW_END};

const spy_funcspec spy_spec_linear_trend = {
    "synthdata.linear_trend",
    "spy.synthdata.linear_trend{y_max, nSamples=1000, nChannels=2, nTrials=100, "
    "samplerate=1000, seed=nil, seed_per_trial=true}",
    "A straight line from 0 to y_max on every channel (AnalogData, float32).",
    "Evenly spaced values from 0 (first sample) to y_max (last sample), the same on every "
    "channel and in every trial; seed is accepted and ignored, as in Syncopy.",
    "local trend = spy.synthdata.linear_trend{y_max=5, nTrials=10}",
    kw_linear_trend};

static const spy_kwarg kw_harmonic[] = {
    {"freq", SPY_KT_NUM, "null", NULL, "required: frequency of the harmonic in Hz"},
    KW_SAMPLERATE,
    KW_NSAMPLES,
    KW_NCHANNELS,
    KW_NTRIALS,
    KW_SEED,
    KW_SEED_PER_TRIAL,
    KW_END};

const spy_funcspec spy_spec_harmonic = {
    "synthdata.harmonic",
    "spy.synthdata.harmonic{freq, samplerate=1000, nSamples=1000, nChannels=2, nTrials=100, "
    "seed=nil, seed_per_trial=true}",
    "A cosine of frequency freq and amplitude 1 on every channel (AnalogData, float32).",
    "cos(2 pi freq n / samplerate) for n = 0 .. nSamples-1, the argument rounded to float32 "
    "and the cosine taken in float32, as Syncopy does; the same on every channel and trial.",
    "local sig = spy.synthdata.harmonic{freq=30, nTrials=20} + "
    "spy.synthdata.white_noise{nTrials=20}",
    kw_harmonic};

static const spy_kwarg kw_phase_diffusion[] = {
    {"freq", SPY_KT_NUM, "null", NULL, "required: harmonic frequency in Hz"},
    {"eps", SPY_KT_NUM, "0.1", NULL,
     "scale of the Brownian phase increments relative to the harmonic ones"},
    KW_SAMPLERATE,
    KW_NCHANNELS,
    KW_NSAMPLES,
    {"rand_ini", SPY_KT_BOOL, "false", NULL, "randomise the initial phase of every channel"},
    {"return_phase", SPY_KT_BOOL, "false", NULL,
     "return the unwrapped phase (radians) instead of its cosine"},
    KW_SEED,
    KW_NTRIALS,
    KW_SEED_PER_TRIAL,
    KW_END};

const spy_funcspec spy_spec_phase_diffusion = {
    "synthdata.phase_diffusion",
    "spy.synthdata.phase_diffusion{freq, eps=0.1, samplerate=1000, nChannels=2, nSamples=1000, "
    "rand_ini=false, return_phase=false, seed=nil, nTrials=100, seed_per_trial=true}",
    "A harmonic whose phase diffuses (Brownian increments): cos(phase) or the phase itself.",
    "phase = 2 pi freq t + cumsum(sqrt(2 pi freq / samplerate * eps) * white noise), with "
    "Syncopy's time axis linspace(0, nSamples/samplerate, nSamples) (step "
    "nSamples/samplerate/(nSamples-1), not 1/samplerate) and its float32 arithmetic.",
    "local sig = spy.synthdata.phase_diffusion{freq=60, eps=0.01, nTrials=50, seed=1}",
    kw_phase_diffusion};

static const spy_kwarg kw_ar2_network[] = {
    {"AdjMat", SPY_KT_LIST | SPY_KT_NULL, "null", NULL,
     "nChannels x nChannels coupling matrix, entry {i}{j} = coupling i -> j; nil: 2 channels, "
     "2 -> 1 with 0.25"},
    KW_NSAMPLES,
    {"alphas", SPY_KT_NUMS, "[0.55,-0.8]", NULL, "the AR(2) coefficients {lag 1, lag 2}"},
    KW_SEED,
    KW_NTRIALS,
    KW_SAMPLERATE,
    KW_SEED_PER_TRIAL,
    KW_END};

const spy_funcspec spy_spec_ar2_network = {
    "synthdata.ar2_network",
    "spy.synthdata.ar2_network{AdjMat=nil, nSamples=1000, alphas={0.55, -0.8}, seed=nil, "
    "nTrials=100, samplerate=1000, seed_per_trial=true}",
    "A network of coupled AR(2) processes (AnalogData, float32).",
    "x_t = (diag(alphas[1]) + AdjMat^T) x_{t-1} + alphas[2] x_{t-2} + white noise, the first "
    "two samples white noise; no stability check.  The default parameters give each channel a "
    "spectral peak at 0.2 samplerate (ar2_peak_freq(0.55, -0.8)).",
    "local A = spy.synthdata.mk_RandomAdjMat{nChannels=5, seed=3}\n"
    "local net = spy.synthdata.ar2_network{AdjMat=A, nTrials=50, samplerate=200, seed=3}",
    kw_ar2_network};

static const spy_kwarg kw_red_noise[] = {
    {"alpha", SPY_KT_NUM, "null", NULL, "required: AR(1) coefficient, meant to lie in [0, 1)"},
    KW_NSAMPLES,
    KW_NCHANNELS,
    KW_SEED,
    KW_NTRIALS,
    KW_SAMPLERATE,
    KW_SEED_PER_TRIAL,
    KW_END};

const spy_funcspec spy_spec_red_noise = {
    "synthdata.red_noise",
    "spy.synthdata.red_noise{alpha, nSamples=1000, nChannels=2, seed=nil, nTrials=100, "
    "samplerate=1000, seed_per_trial=true}",
    "Independent AR(1) processes x_t = alpha x_{t-1} + white noise (AnalogData, float32).",
    "An uncoupled ar2_network with alphas {alpha, 0}; alpha close to 1 gives a 1/f-like "
    "background.",
    "local bg = spy.synthdata.red_noise{alpha=0.9, nChannels=4, nTrials=20, seed=7}",
    kw_red_noise};

static const spy_kwarg kw_mk_RandomAdjMat[] = {
    {"nChannels", SPY_KT_INT, "3", NULL, "number of channels (network nodes)"},
    {"conn_thresh", SPY_KT_NUM, "0.25", NULL,
     "probability of each connection (1 gives a fully connected network)"},
    {"max_coupling", SPY_KT_NUM, "0.25", NULL,
     "total input into one channel, split over its connections (< 0.5 for stability)"},
    {"seed", SPY_KT_INT | SPY_KT_NULL, "null", NULL,
     "non-negative integer for a reproducible matrix; nil draws fresh entropy"},
    SPY_KW_END};

const spy_funcspec spy_spec_mk_RandomAdjMat = {
    "synthdata.mk_RandomAdjMat",
    "spy.synthdata.mk_RandomAdjMat{nChannels=3, conn_thresh=0.25, max_coupling=0.25, seed=nil}",
    "A random adjacency matrix for ar2_network: entry {i}{j} couples channel i -> j.",
    "Each off-diagonal entry is 1 with probability conn_thresh; every column is then divided "
    "by its sum (if non-zero) and multiplied by max_coupling, so each channel receives at most "
    "max_coupling in total.  The diagonal is 0.",
    "local A = spy.synthdata.mk_RandomAdjMat{nChannels=4, conn_thresh=0.5, seed=1}",
    kw_mk_RandomAdjMat};

static const spy_kwarg kw_ar2_peak_freq[] = {
    {"a1", SPY_KT_NUM, "null", NULL, "required: AR(2) coefficient at lag 1"},
    {"a2", SPY_KT_NUM, "null", NULL, "required: AR(2) coefficient at lag 2"},
    {"samplerate", SPY_KT_NUM, "1", NULL, "sampling rate in Hz (1: result in cycles/sample)"},
    SPY_KW_END};

const spy_funcspec spy_spec_ar2_peak_freq = {
    "synthdata.ar2_peak_freq",
    "spy.synthdata.ar2_peak_freq{a1, a2, samplerate=1}",
    "The spectral peak frequency of an AR(2) process with complex roots.",
    "arccos(a1 (a2 - 1) / (4 a2)) / (2 pi) * samplerate; an error 'No complex roots!' when "
    "a1^2 + 4 a2 > 0.",
    "print(spy.synthdata.ar2_peak_freq{a1=0.55, a2=-0.8, samplerate=200})  --> 39.98801714721",
    kw_ar2_peak_freq};

const spy_funcspec *spy_synth_spec(const char *generator)
{
  static const spy_funcspec *const all[] = {&spy_spec_white_noise, &spy_spec_linear_trend,
                                            &spy_spec_harmonic,    &spy_spec_phase_diffusion,
                                            &spy_spec_ar2_network, &spy_spec_red_noise};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++)
    if (strcmp(all[i]->name + strlen("synthdata."), generator) == 0) return all[i];
  return NULL;
}
