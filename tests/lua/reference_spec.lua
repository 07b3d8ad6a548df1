-- Every Syncopy reference case through the Lua API (AnalogData from the
-- stored input, the analysis, the result read back from disk): for each
-- channel max|spy - Syncopy| / max|Syncopy| <= 1e-5 (real and imaginary
-- parts separately for complex output), axes equal to 1e-9, shapes, dimord
-- and taper labels equal.  Then the same analyses with 1, 2 and 4 workers
-- and with chan_per_worker give the same numbers.
local spy = require "spy"
local DATA = os.getenv("SPY_TEST_DATA")
local TOL = 1e-5

local function ref(case)
  local f = DATA .. "/" .. case .. ".h5"
  local r = { file = f }
  r.input = spy.h5read(f, "input")
  r.trl = spy.h5read(f, "input_trialdefinition")
  r.out_trl = spy.h5read(f, "output_trialdefinition")
  r.time = spy.h5read(f, "time")
  local ok, out = pcall(spy.h5read, f, "output")
  if ok then r.out = out else
    r.re = spy.h5read(f, "output_real")
    r.im = spy.h5read(f, "output_imag")
  end
  local okf, freq = pcall(spy.h5read, f, "freq")
  if okf then r.freq = freq end
  local okt, taper = pcall(spy.h5read, f, "taper")
  if okt then r.taper = taper end
  r.data = spy.AnalogData{ data = r.input, samplerate = 1000, trialdefinition = r.trl }
  return r
end

-- rows [r0, r1] (1-based, inclusive) of a reference array, all other axes
local function rows(a, r0, r1)
  local sel = { { r0, r1 } }
  for i = 2, #a.shape do sel[i] = ":" end
  return a:slice(sel)
end

local function chan(a, c)
  local sel = {}
  for i = 1, #a.shape - 1 do sel[i] = ":" end
  sel[#a.shape] = c
  return a:slice(sel)
end

-- per-channel relative error of got vs want (same shape)
local function relerr(got, want)
  local worst = 0
  for c = 1, want.shape[#want.shape] do
    local w, g = chan(want, c), chan(got, c)
    local scale = w:abs():max()
    local e = (g:astype("float64") - w:astype("float64")):abs():max() / (scale > 0 and scale or 1)
    if e > worst then worst = e end
  end
  return worst
end

-- compares result object `res` with the reference r
local function check(res, r, dimord)
  assert.are.same(dimord, res.dimord)
  local want = r.out or r.re
  assert.are.same(want.shape, res.shape)
  local trl = res.trialdefinition
  assert.are.same(r.out_trl.shape, trl.shape)
  assert.is_true((trl - r.out_trl):abs():max() < 1e-9, "trial definitions equal")
  if r.freq then
    assert.is_true((res.freq - r.freq):abs():max() < 1e-9, "freq axis equal")
  end
  if r.taper then assert.are.same(r.taper, res.taper) end
  local worst = 0
  for k = 1, #res.trials do
    local r0, r1 = trl:get(k, 1) + 1, trl:get(k, 2)
    local got = res.trials[k]
    if r.out then
      worst = math.max(worst, relerr(got, rows(r.out, r0, r1)))
    else
      worst = math.max(worst, relerr(got:real(), rows(r.re, r0, r1)))
      worst = math.max(worst, relerr(got:imag(), rows(r.im, r0, r1)))
    end
    -- time axis of trial k
    local t = res.time[k]
    assert.is_true((t - rows(r.time, r0, r1)):abs():max() < 1e-9, "time axis equal")
  end
  assert.is_true(worst <= TOL, ("max relative error %g > %g"):format(worst, TOL))
  return worst
end

local SPECTRAL = { "time", "taper", "freq", "channel" }
local ANALOG = { "time", "channel" }
local function range(a, b, s) local t = {} for x = a, b, s do t[#t + 1] = x end return t end

local cases = {
  { "mtmfft_hann_pow", "freqanalysis", { method = "mtmfft", taper = "hann", output = "pow", keeptrials = true }, SPECTRAL },
  { "mtmfft_dpss_pow", "freqanalysis", { method = "mtmfft", tapsmofrq = 4, output = "pow", keeptrials = true }, SPECTRAL },
  { "mtmfft_fourier", "freqanalysis", { method = "mtmfft", taper = "hann", output = "fourier", keeptrials = true }, SPECTRAL },
  { "spy_container", "freqanalysis", { method = "mtmfft", taper = "hann", output = "pow", keeptrials = true, foilim = { 0, 100 } }, SPECTRAL },
  { "mtmconvol_pow", "freqanalysis", { method = "mtmconvol", taper = "hann", t_ftimwin = 0.5, toi = 0.5, foilim = { 1, 150 }, output = "pow" }, SPECTRAL },
  { "wavelet_morlet_pow", "freqanalysis", { method = "wavelet", wavelet = "Morlet", width = 6, foi = range(2, 100, 2), toi = "all", output = "pow" }, SPECTRAL },
  { "superlet_pow", "freqanalysis", { method = "superlet", foi = range(10, 100, 5), order_min = 1, order_max = 5, c_1 = 3, adaptive = false, toi = "all", output = "pow" }, SPECTRAL },
  { "superlet_adaptive_pow", "freqanalysis", { method = "superlet", foi = range(10, 100, 5), order_min = 1, order_max = 5, c_1 = 3, adaptive = true, toi = "all", output = "pow" }, SPECTRAL },
  { "preproc_but_bp_twopass", "preprocessing", { filter_class = "but", filter_type = "bp", freq = { 20, 40 }, order = 4, direction = "twopass" }, ANALOG },
  { "preproc_firws_lp", "preprocessing", { filter_class = "firws", filter_type = "lp", freq = 40, order = 500, window = "hamming", direction = "onepass" }, ANALOG },
  { "preproc_hilbert_abs", "preprocessing", { filter_class = "but", filter_type = "bp", freq = { 8, 12 }, order = 4, direction = "twopass", hilbert = "abs" }, ANALOG },
}

describe("Syncopy reference cases through the Lua API", function()
  for _, c in ipairs(cases) do
    it(c[1], function()
      local r = ref(c[1])
      local res = spy[c[2]](r.data, c[3])
      local e = check(res, r, c[4])
      print(("%-24s max rel. error %.2e"):format(c[1], e))
      -- the cfg replays the analysis
      local again = spy[c[2]](r.data, res.cfg)
      check(again, r, c[4])
    end)
  end
end)

describe("the same numbers for any executor", function()
  local picks = { cases[2], cases[5], cases[6], cases[7], cases[9], cases[10],
    { "mtmfft_hann_pow", "freqanalysis", { method = "welch", t_ftimwin = 0.25, toi = 0.5 } },
    { "mtmfft_hann_pow", "resampledata", { resamplefs = 300, method = "resample" } },
    { "mtmfft_hann_pow", "resampledata", { resamplefs = 250, method = "downsample", lpfreq = 100 } } }
  for _, c in ipairs(picks) do
    it(c[1] .. " " .. (c[3].method or c[2]) .. ": sequential = 1, 2, 4 workers, with and without chan_per_worker", function()
      local r = ref(c[1])
      local base = spy[c[2]](r.data, c[3])
      for _, n in ipairs({ 1, 2, 4 }) do
        local cluster = spy.LocalCluster{ n_workers = n }
        local client = spy.Client(cluster)
        for _, cpw in ipairs({ false, 1 }) do
          local opts = {}
          for k, v in pairs(c[3]) do opts[k] = v end
          if cpw then opts.chan_per_worker = cpw end
          local res = spy[c[2]](r.data, opts)
          for k = 1, #base.trials do
            local e = relerr(res.trials[k], base.trials[k])
            assert.is_true(e <= 1e-6, ("%s, %d workers, chan_per_worker=%s: %g"):format(c[1], n, tostring(cpw), e))
          end
        end
        client:close()
        cluster:close()
      end
    end)
  end

  it("keeptrials=false averages are identical for any worker count", function()
    local r = ref("mtmfft_dpss_pow")
    local opts = { method = "mtmfft", tapsmofrq = 4, keeptrials = false }
    local base = spy.freqanalysis(r.data, opts)
    assert.are.same({ 1, 1, 1001, 4 }, base.shape)
    for _, n in ipairs({ 2, 4 }) do
      local cluster = spy.LocalCluster{ n_workers = n }
      local client = spy.Client(cluster)
      local res = spy.freqanalysis(r.data, opts)
      assert.is_true((res.trials[1] - base.trials[1]):abs():max() == 0, "bit-identical average")
      client:close()
      cluster:close()
    end
    -- and equal to the mean of the single trials
    local single = spy.freqanalysis(r.data, { method = "mtmfft", tapsmofrq = 4 })
    local sum = single.trials[1]:astype("float64")
    for k = 2, 5 do sum = sum + single.trials[k] end
    assert.is_true(relerr(base.trials[1], sum / 5) < 1e-6)
  end)
end)
