-- One benchmark case, timed end to end through the Lua API (data generation
-- excluded), in its own process so that its peak memory is its own:
--   spy tests/bench/cases.lua <case> [workers] [repeats]
-- Prints one line (see below).
-- Cases (the issues' benchmarks): a, b (freqanalysis on 500 x 1000 x 32),
-- d1 (mtmconvol), d2 (wavelet) on 50 x 5000 x 4, c_but, c_firws, c_resample
-- (preprocessing / resampledata on 100 x 10000 x 10), synth (white_noise
-- 5000 x 1000 x 32), stat_mean (spy.mean over its trials), big (mtmfft over a 4 GB
-- AnalogData), fooof (FOOOF on the trial-averaged power of 500 x 1000 x 32),
-- superlet (foi 2:2:100, orders 1-10, c_1 3, every sample) and welch (0.5 s
-- windows, half overlap, foilim 1-150) on d1's 50 x 5000 x 4: the cases
-- scripts/syncopy-bench times in Syncopy,
-- m500, m5000, m50000 (the same Butterworth low-pass over 500, 5000 and
-- 50,000 trials of 100 x 4: peak memory must not grow with the number of
-- trials), long (one trial of 5,000,000 x 4 low-pass filtered; 80 MB of
-- float32), long_fir, long_hilbert, long_resample (the same trial by firws,
-- Butterworth + Hilbert, resampledata).
-- Prints: case workers first best peak_MB call_MB cpu.  peak_MB is the
-- process's peak RSS during the timed calls (the peak is reset after the
-- data are generated), call_MB that peak less the RSS held before the calls,
-- cpu the CPU seconds (user + sys, all threads: os.clock) of the fastest
-- call, so that scaling with workers can be judged from efficiency too.
local case, workers, repeats = arg[1], tonumber(arg[2] or "0"), tonumber(arg[3] or "3")
spy.set_progress(false)

local function white(nTrials, nSamples, nChannels)
  return spy.synthdata.white_noise{ nTrials = nTrials, nSamples = nSamples, nChannels = nChannels, seed = 42 }
end

local setups = {
  a = function() return white(500, 1000, 32), spy.freqanalysis, {} end,
  b = function() return white(500, 1000, 32), spy.freqanalysis, { method = "mtmfft", foilim = { 1, 150 }, tapsmofrq = 10 } end,
  d1 = function()
    return white(50, 5000, 4), spy.freqanalysis,
      { method = "mtmconvol", t_ftimwin = 0.5, toi = 0.5, foilim = { 1, 150 }, taper = "hann" }
  end,
  d2 = function()
    local d = white(50, 5000, 4)
    local foi, toi = {}, {}
    for f = 2, 100, 2 do foi[#foi + 1] = f end
    local t = d.time[1]
    for i = 1, t.shape[1], 10 do toi[#toi + 1] = t:get(i) end
    return d, spy.freqanalysis, { method = "wavelet", foi = foi, toi = toi, width = 6 }
  end,
  -- superlet and welch on d1's input (Syncopy's times: scripts/syncopy-bench, docs/internals/bench-syncopy.md)
  superlet = function()
    local foi = {}
    for f = 2, 100, 2 do foi[#foi + 1] = f end
    return white(50, 5000, 4), spy.freqanalysis, { method = "superlet", foi = foi, order_max = 10, c_1 = 3 }
  end,
  welch = function()
    return white(50, 5000, 4), spy.freqanalysis, { method = "welch", t_ftimwin = 0.5, toi = 0.5, foilim = { 1, 150 } }
  end,
  c_but = function() return white(100, 10000, 10), spy.preprocessing, { freq = { 20, 40 }, filter_type = "bp" } end,
  c_firws = function()
    return white(100, 10000, 10), spy.preprocessing, { filter_class = "firws", freq = 40, filter_type = "lp" }
  end,
  c_resample = function() return white(100, 10000, 10), spy.resampledata, { resamplefs = 300, method = "resample" } end,
  -- connectivityanalysis (issue 13)
  conn_coh = function() return white(200, 1000, 32), spy.connectivityanalysis, { method = "coh", tapsmofrq = 3 } end,
  conn_granger = function()
    local d = spy.synthdata.ar2_network{ AdjMat = { { 0, 0.2, 0, 0 }, { 0, 0, 0, 0 }, { 0, 0, 0, 0.2 }, { 0, 0, 0, 0 } },
                                         nSamples = 1000, nTrials = 200, seed = 42 }
    return d, spy.connectivityanalysis, { method = "granger", tapsmofrq = 2 }
  end,
  conn_corr = function() return white(100, 2000, 16), spy.connectivityanalysis, { method = "corr" } end,
  synth = function() return nil, function() return white(5000, 1000, 32) end, nil end,
  fooof = function()
    -- FOOOF on the trial average (as Syncopy): 1/f noise with two rhythms, 500 x 1000 x 32
    local kw = { nTrials = 500, nSamples = 1000, nChannels = 32, samplerate = 1000 }
    local function with(t) for k, v in pairs(kw) do t[k] = v end return t end
    local d = spy.synthdata.red_noise(with{ alpha = 0.9, seed = 42 })
      + 0.8 * spy.synthdata.phase_diffusion(with{ freq = 30, eps = 0.1, seed = 43 })
      + 0.6 * spy.synthdata.phase_diffusion(with{ freq = 50, eps = 0.1, seed = 44 })
    return d, spy.freqanalysis,
      { method = "mtmfft", taper = "hann", keeptrials = false, foilim = { 1, 100 }, output = "fooof" }
  end,
  -- spy.mean over the trials of the synth case's data (peak memory: one trial's accumulators)
  stat_mean = function() return white(5000, 1000, 32), spy.mean, { dim = "trials" } end,
  m500 = function() return white(500, 100, 4), spy.preprocessing, { freq = 40, filter_type = "lp" } end,
  m5000 = function() return white(5000, 100, 4), spy.preprocessing, { freq = 40, filter_type = "lp" } end,
  m50000 = function() return white(50000, 100, 4), spy.preprocessing, { freq = 40, filter_type = "lp" } end,
  long = function() return white(1, 5000000, 4), spy.preprocessing, { freq = 40, filter_type = "lp" } end,
  -- the same trial through the other long-trial paths (issue 20: peak under 3x its float32 size)
  long_fir = function()
    return white(1, 5000000, 4), spy.preprocessing, { filter_class = "firws", freq = 40, filter_type = "lp" }
  end,
  long_hilbert = function()
    return white(1, 5000000, 4), spy.preprocessing, { freq = { 8, 12 }, filter_type = "bp", hilbert = "abs" }
  end,
  long_resample = function() return white(1, 5000000, 4), spy.resampledata, { resamplefs = 300, method = "resample" } end,
  big = function()
    -- 4 GB of float32: 1000 trials x 20000 samples x 50 channels
    return white(1000, 20000, 50), spy.freqanalysis, { method = "mtmfft", foilim = { 1, 100 } }
  end,
}

local setup = assert(setups[case], "unknown case " .. tostring(case))
local data, fn, opts = setup()
local cluster, client
if workers > 0 then
  cluster = spy.LocalCluster{ n_workers = workers }
  client = spy.Client(cluster)
  spy.set_loglevel("WARNING")
end
local first, best, cpu = nil, math.huge, 0
collectgarbage()
local function status_mb(field)
  for line in io.lines("/proc/self/status") do
    local kb = line:match("^" .. field .. ":%s+(%d+)")
    if kb then return tonumber(kb) / 1024 end
  end
  return 0
end
local base = status_mb("VmRSS")
do -- reset the peak RSS: the peak reported is that of the calls
  local f = io.open("/proc/self/clear_refs", "w")
  if f then f:write("5") f:close() end
end
for i = 1, repeats do
  collectgarbage()
  local t0, c0 = spy.clock(), os.clock()
  local res = data and fn(data, opts) or fn()
  local dt, dc = spy.clock() - t0, os.clock() - c0
  first = first or dt
  if dt < best then best, cpu = dt, dc end
  res = nil
end
local peak = status_mb("VmHWM")
print(("%s %d %.4f %.4f %.1f %.1f %.4f"):format(case, workers, first, best, peak, peak - base, cpu))
