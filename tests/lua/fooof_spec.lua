-- spy.freqanalysis with output='fooof', 'fooof_aperiodic', 'fooof_peaks'
-- against Syncopy's references (keeptrials=false), through the whole
-- pipeline (mtmfft trial average, then FOOOF); single-trial fits
-- (keeptrials=true) against the average of each trial alone.
--
-- Tolerances reached and what limits them: the fitted spectra agree with
-- Syncopy to 4e-6 (fooof, fooof_aperiodic) and 1.6e-5 (fooof_peaks, a
-- difference of two spectra) of each channel's maximum, the parameters to
-- 5e-5 relative (Gaussian heights and widths; the aperiodic parameters
-- to 1e-5).  Syncopy sums the trials' power in float32, spy in double:
-- the power FOOOF sees differs by up to 3.5e-7, and the fit (log power,
-- least squares) magnifies that.  Fed Syncopy's own power, the fit agrees
-- to 1.1e-7 (tests/c/test_fooof.c).
local spy = require "spy"
local DATA = os.getenv("SPY_TEST_DATA")
local TOL_SPEC, TOL_PEAKS, TOL_PAR = 1e-5, 3e-5, 1e-4

local CASES = { fooof = "fooof_fixed", fooof_aperiodic = "fooof_aperiodic", fooof_peaks = "fooof_peaks" }

local function input(case)
  local f = DATA .. "/" .. case .. ".h5"
  local d = spy.AnalogData{ data = spy.h5read(f, "input"), samplerate = 1000,
                            trialdefinition = spy.h5read(f, "input_trialdefinition") }
  return d, f
end

local function cfg(output, extra)
  local c = { method = "mtmfft", taper = "hann", keeptrials = false, foilim = { 1, 100 }, output = output }
  for k, v in pairs(extra or {}) do c[k] = v end
  return c
end

-- max over channels of max|got - want| / max|want|
local function relerr(got, want)
  local worst = 0
  for c = 1, want.shape[#want.shape] do
    local w = want:slice({ ":", ":", ":", c }):astype("float64")
    local g = got:slice({ ":", ":", ":", c }):astype("float64")
    worst = math.max(worst, (g - w):abs():max() / w:abs():max())
  end
  return worst
end

local function rel(a, b) return math.abs(a - b) / math.abs(b) end


describe("freqanalysis FOOOF outputs", function()
  local d, f = input("fooof_fixed")
  local results = {}

  for output, case in pairs(CASES) do
    it(output .. " equals Syncopy's " .. case, function()
      local r = spy.freqanalysis(d, cfg(output))
      results[output] = r
      local want = spy.h5read(DATA .. "/" .. case .. ".h5", "output")
      assert.are.same(want.shape, r.shape)
      assert.are.equal("float32", r.dtype)
      assert.are.same({ "time", "taper", "freq", "channel" }, r.dimord)
      assert.are.same({ "channel1", "channel2" }, r.channel)
      assert.is_true((r.freq - spy.h5read(DATA .. "/" .. case .. ".h5", "freq")):abs():max() < 1e-12)
      local e = relerr(r.trials[1], want)
      assert.is_true(e <= (output == "fooof_peaks" and TOL_PEAKS or TOL_SPEC), output .. ": " .. e)
      if output == "fooof_peaks" then
        assert.is_true(r.trials[1]:min() >= 1e-16 * 0.99, "peaks are >= 1e-16")
      end
    end)
  end

  it("metadata: Syncopy's keys, every channel's own peaks", function()
    local r = results.fooof or spy.freqanalysis(d, cfg("fooof"))
    local md = r.metadata
    assert.are.same({ 8, 6 }, md.n_peaks.n_peaks__0_0)
    local ap = md.aperiodic_params.aperiodic_params__0_0
    local want_ap = { { -0.42326712395811855, -0.33956599779167346 }, { 0.8518492726872434, 0.8984868414442836 } }
    for k = 1, 2 do
      for c = 1, 2 do
        assert.is_true(rel(ap[k][c], want_ap[k][c]) <= TOL_PAR, ("ap %d %d: %.12g"):format(k, c, ap[k][c]))
      end
    end
    local r2, er = md.r_squared.r_squared__0_0, md.error.error__0_0
    assert.is_true(rel(r2[1], 0.9781635809585996) <= TOL_PAR and rel(r2[2], 0.9813190085992338) <= TOL_PAR)
    assert.is_true(rel(er[1], 0.045641183976562416) <= TOL_PAR and rel(er[2], 0.047574935445845526) <= TOL_PAR)
    -- from output_metadata_raw: first peak of each channel (rows 1 and 9)
    local g = md.gaussian_params.gaussian_params__0_0
    local p = md.peak_params.peak_params__0_0
    assert.are.equal(8, #g[1]); assert.are.equal(6, #g[2]); assert.are.equal(6, #p[2])
    local want_g = { { 8.301907750188922, 0.2859442698634592, 2.4138982557068456 },
                     { 8.22667759889021, 0.2460339695254792, 2.1981458917818775 } }
    local want_p2 = { 63.13250273744681, 0.14411147768803012, 6.912084008105963 }
    for j = 1, 3 do
      assert.is_true(rel(g[1][1][j], want_g[1][j]) <= TOL_PAR, "gaussian ch1 " .. j)
      assert.is_true(rel(g[2][1][j], want_g[2][j]) <= TOL_PAR, "gaussian ch2 " .. j)
      assert.is_true(rel(p[2][6][j], want_p2[j]) <= TOL_PAR, "peak ch2 last " .. j)
    end
  end)

  it("is the same with 2 workers and after a replay of its cfg", function()
    local r1 = spy.freqanalysis(d, cfg("fooof_peaks"))
    local cluster = spy.LocalCluster{ n_workers = 2 }
    local client = spy.Client(cluster)
    local r2 = spy.freqanalysis(d, cfg("fooof_peaks"))
    client:close()
    cluster:close()
    assert.are.equal(0, (r1.trials[1] - r2.trials[1]):abs():max())
    assert.are.same(r1.metadata, r2.metadata)
    local r3 = spy.freqanalysis(d, r1.cfg.freqanalysis)
    assert.are.equal(0, (r1.trials[1] - r3.trials[1]):abs():max())
    assert.are.same(r1.metadata, r3.metadata)
    assert.is_truthy(r1.log:find("computed fooofspy_cF with settings", 1, true))
    assert.is_truthy(r1.log:find("fooof_method = fooof_peaks", 1, true))
  end)

  it("keeps its metadata through spy.save and spy.load", function()
    local r = spy.freqanalysis(d, cfg("fooof"))
    local dir = os.tmpname(); os.remove(dir)
    spy.save(r, dir .. ".spy")
    local back = spy.load(dir .. ".spy")
    assert.are.same(r.metadata, back.metadata)
    assert.are.equal(0, (r.trials[1] - back.trials[1]):abs():max())
    os.execute(("rm -rf %q"):format(dir .. ".spy"))
  end)

  it("fits the knee mode and honours fooof_opt", function()
    local r = spy.freqanalysis(d, cfg("fooof", { fooof_opt = { aperiodic_mode = "knee", max_n_peaks = 3 } }))
    local md = r.metadata
    assert.are.equal(3, #md.aperiodic_params.aperiodic_params__0_0)
    for c = 1, 2 do assert.is_true(md.n_peaks.n_peaks__0_0[c] <= 3) end
    local h = spy.freqanalysis(d, cfg("fooof", { fooof_opt = { min_peak_height = 10 } }))
    assert.are.same({ 0, 0 }, h.metadata.n_peaks.n_peaks__0_0)
    assert.are.same({ {}, {} }, h.metadata.gaussian_params.gaussian_params__0_0)
  end)

  it("fits every trial with keeptrials=true, as the average of that trial alone", function()
    local sel = { trials = { 2, 5, 7 } }
    local r = spy.freqanalysis(d, cfg("fooof_peaks", { keeptrials = true, select = sel }))
    assert.are.same({ 3, 1, 100, 2 }, r.shape)
    local md = r.metadata
    local cluster = spy.LocalCluster{ n_workers = 2 }
    local client = spy.Client(cluster)
    local r2 = spy.freqanalysis(d, cfg("fooof_peaks", { keeptrials = true, select = sel }))
    client:close()
    cluster:close()
    assert.are.equal(0, (r.trials[3] - r2.trials[3]):abs():max())
    assert.are.same(md, r2.metadata)
    for k, trial in ipairs(sel.trials) do
      local one = spy.freqanalysis(d, cfg("fooof_peaks", { select = { trials = { trial } } }))
      assert.are.equal(0, (r.trials[k] - one.trials[1]):abs():max())
      for label, v in pairs(one.metadata) do
        assert.are.same(v[label .. "__0_0"], md[label][("%s__%d_0"):format(label, k - 1)])
      end
    end
  end)

  it("rejects what Syncopy rejects", function()
    local ok, e = pcall(spy.freqanalysis, d, cfg("fooof", { fooof_opt = { nope = 1 } }))
    assert.is_false(ok)
    assert.is_truthy(tostring(e):find("fooof_opt: invalid keys: '['nope']'", 1, true))
    ok, e = pcall(spy.freqanalysis, d, cfg("fooof", { foilim = { 0, 100 } }))
    assert.is_truthy(tostring(e):find("expected a frequency range that does not include zero", 1, true))
    ok, e = pcall(spy.freqanalysis, d * 0, cfg("fooof"))
    assert.is_false(ok)
    assert.is_truthy(tostring(e):find("contains NaNs or Infs", 1, true), tostring(e))
    assert.is_truthy(tostring(e):find("(channel 1)", 1, true), tostring(e))
  end)
end)
