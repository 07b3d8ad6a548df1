-- Regressions found by scripts/syncopy-xcheck-conn (docs/internals/xcheck-conn.md):
-- spy.connectivityanalysis against Syncopy's results in tests/data/xconn_syncopy.h5
-- (Syncopy a86199ac on a float32 input with linear trends, 3 trials x 300 samples x 2
-- channels, offset -100 samples). Numbers: max|spy - Syncopy| / max|Syncopy| <= 1e-5 over
-- the whole result (float32 results). Where Syncopy is wrong the test asserts spy's
-- documented decision and that the data still agree.
local spy = require "spy"
local F = os.getenv("SPY_TEST_DATA") .. "/xconn_syncopy.h5"
local TOL = 1e-5

local function input()
  return spy.AnalogData{ data = spy.h5read(F, "input"), samplerate = 1000,
                         trialdefinition = spy.h5read(F, "input_trialdefinition") }
end

local function whole(res) return spy.h5read(res.filename, "data") end

local function rel(got, want)
  got, want = got:astype("float64"), want:astype("float64")
  assert.are.same(want.shape, got.shape)
  return (got - want):abs():max() / want:abs():max()
end

local function same_trl(res, name)
  assert.are.equal(0, (res.trialdefinition - spy.h5read(F, name .. "_trialdefinition")):abs():max())
end

describe("connectivityanalysis: cases of the Syncopy cross-check", function()
  it("corr with polyremoval=1 removes the linear trend (averaged and single trials)", function()
    local a = input()
    local avg = spy.connectivityanalysis(a, { method = "corr", polyremoval = 1 })
    assert.is_true(rel(whole(avg), spy.h5read(F, "corr_poly1")) <= TOL)
    same_trl(avg, "corr_poly1")
    local kt = spy.connectivityanalysis(a, { method = "corr", polyremoval = 1, keeptrials = true })
    assert.is_true(rel(whole(kt), spy.h5read(F, "corr_poly1_kt")) <= TOL)
    same_trl(kt, "corr_poly1_kt")
    -- the trends dominate without de-trending: not the same numbers
    local raw = spy.connectivityanalysis(a, { method = "corr", polyremoval = spy.null })
    assert.is_true(rel(whole(raw), spy.h5read(F, "corr_poly1")) > 0.1)
  end)

  it("ppc from SpectralData keeps the first trial's offset, as from AnalogData", function()
    local spec = spy.freqanalysis(input(), { method = "mtmfft", output = "fourier", keeptapers = true,
                                             tapsmofrq = 10, foilim = { 0, 100 } })
    local res = spy.connectivityanalysis(spec, { method = "ppc" })
    assert.is_true(rel(whole(res), spy.h5read(F, "ppc_spec")) <= TOL)
    same_trl(res, "ppc_spec") -- [[0, 1, -100]]
    assert.are.equal(-0.1, res.time[1][1])
  end)

  it("coherence from mtmconvol Fourier spectra keeps the input's time axis (Syncopy truncates the offset)", function()
    local tf = spy.freqanalysis(input(), { method = "mtmconvol", output = "fourier", t_ftimwin = 0.1,
                                           toi = { -0.04, 0.03, 0.1 }, foi = { 20, 30, 40 } })
    local res = spy.connectivityanalysis(tf, { method = "coh" })
    assert.is_true(rel(whole(res), spy.h5read(F, "tf_coh")) <= TOL)
    -- Syncopy's result says offset 0 (int(-0.571) of its selection), i.e. time 0, 0.07,
    -- 0.14 s for windows centred at -0.04, 0.03, 0.1 s; spy keeps the input's first row
    local want = spy.h5read(F, "tf_input_trialdefinition"):slice{ { 1, 1 }, ":" }
    assert.are.equal(0, (res.trialdefinition - want):abs():max())
    local t = res.time[1]
    for k, v in ipairs({ -0.04, 0.03, 0.1 }) do assert.is_true(math.abs(t[k] - v) < 1e-12) end
  end)

  it("a channel selection names the selected channels (Syncopy labels them channel1..)", function()
    local res = spy.connectivityanalysis(input(), { method = "csd", keeptrials = true, foilim = { 20, 40 },
                                                    select = { trials = { 1, 3 }, channel = { "channel2" } } })
    local w = whole(res)
    assert.is_true(rel(w:real(), spy.h5read(F, "sel_csd_real")) <= TOL)
    assert.is_true(rel(w:imag() + 1, spy.h5read(F, "sel_csd_imag") + 1) <= TOL) -- diagonal: imag 0
    same_trl(res, "sel_csd")
    assert.are.same({ "channel2" }, res.channel_i)
    assert.are.same({ "channel2" }, res.channel_j)
  end)

  it("granger jackknife: replicates from the same de-meaned cross spectra as the direct estimate", function()
    -- Below 5 Hz both results are dominated by the rounding noise of the de-meaned 0 Hz
    -- bin (connectivity.md); from 5 Hz each field must be within 3x what Syncopy's own
    -- result moves when its input is float64 instead of float32 (gj_float64_spread_from_5Hz)
    local a = spy.AnalogData{ data = spy.h5read(F, "ar_input"), samplerate = 1000,
                              trialdefinition = spy.h5read(F, "ar_input_trialdefinition") }
    local res = spy.connectivityanalysis(a, { method = "granger", jackknife = true })
    same_trl(res, "gj") -- the first trial's offset, as Syncopy's spy.mean of the single trials
    local freq = spy.h5read(F, "gj_freq")
    local f5 = 1
    while freq[f5] < 5 do f5 = f5 + 1 end
    local spread = spy.h5read(F, "gj_float64_spread_from_5Hz") -- data, jack_var, jack_bias
    for i, k in ipairs({ "data", "jack_var", "jack_bias" }) do
      local got = k == "data" and whole(res) or res[k]
      local want = spy.h5read(F, "gj_" .. k)
      local n = want.shape[2]
      local e = rel(got:slice{ ":", { f5, n }, ":", ":" }, want:slice{ ":", { f5, n }, ":", ":" })
      local bound = 3 * spread[i]
      assert.is_true(e <= bound, ("%s: %g > %g"):format(k, e, bound))
    end
  end)

  it("select={latency=...} in an analysis cuts partially covered trials instead of dropping them", function()
    -- Syncopy's analyses assign `select` to the data directly (no selectdata, whose
    -- get_analysis_window drops trials not covering the window): trial 2 starts at
    -- -0.05 s, inside [-0.08, 0.1], and is kept with its 151 samples in the window
    local a = spy.AnalogData{ data = spy.h5read(F, "input"), samplerate = 1000,
                              trialdefinition = spy.h5read(F, "lat_input_trialdefinition") }
    local res = spy.connectivityanalysis(a, { method = "csd", keeptrials = true, foilim = { 0, 100 },
                                              select = { latency = { -0.08, 0.1 } } })
    local w = whole(res)
    assert.is_true(rel(w:real(), spy.h5read(F, "lat_csd_real")) <= TOL)
    assert.is_true(rel(w:imag() + 1, spy.h5read(F, "lat_csd_imag") + 1) <= TOL)
    same_trl(res, "lat_csd")
    -- spy.selectdata keeps Syncopy's selectdata rule: only trials covering the window
    assert.are.equal(2, #spy.selectdata(a, { latency = { -0.08, 0.1 } }).trials)
    local ok, err = pcall(spy.connectivityanalysis, a, { method = "csd", select = { latency = { 0 / 0, 0 } } })
    assert.is_false(ok)
    assert.is_truthy(tostring(err):find("Invalid value of `latency`", 1, true))
  end)

  it("SpectralData input: pairwise Granger keeps the frequencies, a frequency selection works", function()
    -- Syncopy's pairwise result has freq 0, 1, 2, ...; its frequency selection of
    -- SpectralData input fails in its metadata step (xcheck-conn.md)
    local d = spy.synthdata.ar2_network{ nTrials = 20, nSamples = 300, seed = 4 }
    local spec = spy.freqanalysis(d, { method = "mtmfft", output = "fourier", keeptapers = true, tapsmofrq = 3 })
    local g = spy.connectivityanalysis(spec, { method = "granger", channelcmb = { { 1 }, { 2 } } })
    assert.are.equal(0, (g.freq - spec.freq):abs():max())
    local full = spy.connectivityanalysis(spec, { method = "coh" })
    local part = spy.connectivityanalysis(spec, { method = "coh", select = { frequency = { 10, 60 } } })
    local f0, f1 = 1, #full.freq
    while full.freq[f0] < 10 do f0 = f0 + 1 end
    while full.freq[f1] > 60 do f1 = f1 - 1 end
    assert.are.equal(0, (part.freq - full.freq:slice{ { f0, f1 } }):abs():max())
    assert.is_true(rel(whole(part), whole(full):slice{ ":", { f0, f1 }, ":", ":" }) <= 1e-6)
  end)

  it("ppc: a NaN sample makes the pairs of its channel NaN, as in Syncopy", function()
    local a = spy.AnalogData{ data = spy.h5read(F, "nan_input"), samplerate = 1000,
                              trialdefinition = spy.h5read(F, "input_trialdefinition") }
    local got = whole(spy.connectivityanalysis(a, { method = "ppc", foilim = { 0, 100 } })):astype("float64")
    local want = spy.h5read(F, "ppc_nan"):astype("float64")
    assert.are.same(want.shape, got.shape)
    local nnan, worst, scale = 0, 0, 0
    for f = 1, want.shape[2] do
      for i = 1, 2 do
        for j = 1, 2 do
          local g, w = got[1][f][i][j], want[1][f][i][j]
          assert.are.equal(w ~= w, g ~= g) -- NaN exactly where Syncopy has NaN
          if w ~= w then nnan = nnan + 1 else
            worst = math.max(worst, math.abs(g - w))
            scale = math.max(scale, math.abs(w))
          end
        end
      end
    end
    assert.are.equal(3 * want.shape[2], nnan) -- (1,2), (2,1), (2,2)
    assert.is_true(worst / scale <= TOL)
  end)

  it("ppc and a jackknifed coh keep the first trial's row with its trialinfo", function()
    local a = spy.AnalogData{ data = spy.h5read(F, "input"), samplerate = 1000,
                              trialdefinition = spy.h5read(F, "ti_input_trialdefinition") }
    local ppc = spy.connectivityanalysis(a, { method = "ppc", foilim = { 0, 100 } })
    assert.is_true(rel(whole(ppc), spy.h5read(F, "ppc_ti")) <= TOL)
    same_trl(ppc, "ppc_ti") -- [[0, 1, -100, 5]]
    local coh = spy.connectivityanalysis(a, { method = "coh", jackknife = true, foilim = { 0, 100 } })
    -- one Hann taper: 0 Hz differs by 1e-5 (Syncopy de-means in float32, connectivity.md)
    local got, want = whole(coh), spy.h5read(F, "cohjk_ti")
    local n = want.shape[2]
    assert.is_true(rel(got:slice{ ":", { 2, n }, ":", ":" }, want:slice{ ":", { 2, n }, ":", ":" }) <= TOL)
    assert.is_true(rel(got, want) <= 1e-4)
    same_trl(coh, "cohjk_ti")
    -- from SpectralData input too
    local spec = spy.freqanalysis(a, { method = "mtmfft", output = "fourier", keeptapers = true, foilim = { 0, 100 } })
    same_trl(spy.connectivityanalysis(spec, { method = "ppc" }), "ppc_ti")
  end)

  it("warns once, with Syncopy's caller names (the jackknife pass does not re-warn)", function()
    local script, log = os.tmpname(), os.tmpname()
    local f = assert(io.open(script, "w"))
    f:write("local w = spy.synthdata.white_noise{nTrials=4, nSamples=100, nChannels=2, seed=1}\n",
      "spy.connectivityanalysis(w, {method='csd', output='pow', jackknife=true})\n",
      "local a = spy.synthdata.ar2_network{nTrials=10, nSamples=100, seed=1}\n",
      "spy.connectivityanalysis(a, {method='granger', jackknife=true, output='pow'})\n")
    f:close()
    assert.is_true(os.execute(("%q %q 2>%q"):format(assert(os.getenv("SPY_BIN")), script, log)))
    local text = assert(io.open(log)):read("a")
    os.remove(script)
    os.remove(log)
    local function count(s) return select(2, text:gsub(s:gsub("%p", "%%%0"), "")) end
    assert.are.equal(1, count("Setting `output` for method csd has no effect!"))
    assert.are.equal(1, count("Jackknife is not available for method csd"))
    assert.are.equal(1, count("Setting `output` for method granger has no effect!"))
    assert.are.equal(1, count("Syncopy <cross_spectra>: Multi-channel Granger analysis"))
  end)

  it("granger from SpectralData reports Syncopy's info keys", function()
    local d = spy.synthdata.ar2_network{ nTrials = 20, nSamples = 300, seed = 4 }
    local spec = spy.freqanalysis(d, { method = "mtmfft", output = "fourier", keeptapers = true, tapsmofrq = 3 })
    local res = spy.connectivityanalysis(spec, { method = "granger" })
    assert.are.equal(true, res.info.converged)
    assert.are.equal(0, res.info["reg. factor"])
    assert.is_true(res.info["initial cond. num"] > 1)
    assert.is_true(res.info["max rel. err"] < 5e-6)
  end)
end)
