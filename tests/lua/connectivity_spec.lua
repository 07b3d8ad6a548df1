-- spy.connectivityanalysis through the Lua API: every conn_* reference case
-- (per channel pair max|spy - Syncopy| / max|Syncopy| <= 1e-5, real and
-- imaginary parts separately for csd; the stated exceptions are the 0 Hz bin
-- of single-Hann-taper coherence and Granger, see test_conn_ref.c and
-- docs/internals/connectivity.md), the first-principles properties, 1/2/4
-- workers, Syncopy's messages for bad input, and the CrossSpectralData
-- result (labels, selections, arithmetic, .spy round trip, cfg replay).
local spy = require "spy"
local DATA = os.getenv("SPY_TEST_DATA")
local TOL = 1e-5

local function ref(case)
  local f = DATA .. "/" .. case .. ".h5"
  local r = { file = f }
  local ok, out = pcall(spy.h5read, f, "output")
  if ok then r.out = out else
    r.re = spy.h5read(f, "output_real")
    r.im = spy.h5read(f, "output_imag")
  end
  r.out_trl = spy.h5read(f, "output_trialdefinition")
  r.freq = spy.h5read(f, "freq")
  r.data = spy.AnalogData{ data = spy.h5read(f, "input"), samplerate = 1000,
                           trialdefinition = spy.h5read(f, "input_trialdefinition") }
  return r
end

-- the whole result (all trials stacked) as an array
local function whole(res)
  return spy.h5read(res.filename, "data")
end

local function pair(a, i, j, f0)
  return a:slice{ ":", f0 and { f0, a.shape[2] } or ":", i, j }:astype("float64")
end

-- worst per-pair relative error; f0: first frequency index (1-based) compared
local function relerr(got, want, f0)
  local worst = 0
  for i = 1, want.shape[3] do
    for j = 1, want.shape[4] do
      local w, g = pair(want, i, j), pair(got, i, j)
      local scale = w:abs():max()
      local e = (pair(got, i, j, f0) - pair(want, i, j, f0)):abs():max() / (scale > 0 and scale or 1)
      if e > worst then worst = e end
      assert(g)
    end
  end
  return worst
end

local function check(res, r, f0)
  assert.are.same({ "time", "freq", "channel_i", "channel_j" }, res.dimord)
  local want = r.out or r.re
  assert.are.same(want.shape, res.shape)
  assert.is_true((res.trialdefinition - r.out_trl):abs():max() == 0, "trial definitions equal")
  assert.is_true((res.freq - r.freq):abs():max() < 1e-9, "freq axis equal")
  local got = whole(res)
  if r.out then
    return relerr(got, r.out, f0)
  end
  return math.max(relerr(got:real(), r.re, f0), relerr(got:imag(), r.im, f0))
end

describe("connectivityanalysis matches Syncopy", function()
  it("coh, dpss tapsmofrq=3", function()
    local r = ref("conn_coh_dpss")
    assert.is_true(check(spy.connectivityanalysis(r.data, { method = "coh", tapsmofrq = 3 }), r) <= TOL)
  end)
  it("coh, hann, output='pow' (0 Hz bin to 1e-4: Syncopy's float32 de-meaning)", function()
    local r = ref("conn_coh_hann_pow")
    local res = spy.connectivityanalysis(r.data, { method = "coh", taper = "hann", output = "pow" })
    assert.is_true(check(res, r, 2) <= TOL)
    assert.is_true(check(res, r) <= 1e-4)
  end)
  it("csd (complex, Hermitian)", function()
    local r = ref("conn_csd")
    local res = spy.connectivityanalysis(r.data, { method = "csd" })
    assert.are.equal("complex64", res.dtype)
    assert.is_true(check(res, r) <= TOL)
  end)
  it("csd single trials stack the trials with their offsets", function()
    local r = ref("conn_csd")
    local res = spy.connectivityanalysis(r.data, { method = "csd", keeptrials = true })
    assert.are.same({ 5, 1001, 4, 4 }, res.shape)
    for k = 1, 5 do
      assert.are.same({ k - 1, k, -1000 }, { res.trialdefinition:get(k, 1), res.trialdefinition:get(k, 2),
                                             res.trialdefinition:get(k, 3) })
    end
    -- the trial mean of the single trials is the averaged csd
    local single, avg = whole(res), whole(spy.connectivityanalysis(r.data, { method = "csd" }))
    local m = single:real():astype("float64"):mean(1)
    assert.is_true((m - avg:real():astype("float64")):abs():max() <= 1e-6 * avg:real():abs():max())
  end)
  it("ppc keeps the first trial's offset", function()
    local r = ref("conn_ppc")
    assert.is_true(check(spy.connectivityanalysis(r.data, { method = "ppc" }), r) <= TOL)
  end)
  it("corr, averaged and single trials", function()
    local r = ref("conn_corr")
    assert.is_true(check(spy.connectivityanalysis(r.data, { method = "corr" }), r) <= TOL)
    r = ref("conn_corr_keeptrials")
    assert.is_true(check(spy.connectivityanalysis(r.data, { method = "corr", keeptrials = true }), r) <= TOL)
  end)
  it("granger: the coupled direction as Syncopy, info as Syncopy", function()
    local r = ref("conn_granger")
    local res = spy.connectivityanalysis(r.data, { method = "granger", tapsmofrq = 2 })
    -- from 5 Hz up within 1e-3 (Syncopy's 0 Hz bin is rounding noise)
    local g, w = pair(whole(res), 1, 2, 6), pair(r.out, 1, 2, 6)
    assert.is_true((g - w):abs():max() / w:abs():max() <= 1e-3)
    assert.is_true((whole(res):astype("float64") - r.out:astype("float64")):abs():max() <= 0.02)
    assert.is_true(res.info["converged"])
    assert.are.equal(0, res.info["reg. factor"])
    assert.is_true(math.abs(res.info["initial cond. num"] - 9.11129379272461) < 1e-4)
    assert.is_true(res.info["max rel. err"] < 5e-6)
  end)
end)

math.randomseed(42)
local function gauss()
  local u1, u2 = math.random(), math.random()
  return math.sqrt(-2 * math.log(1 - u1)) * math.cos(2 * math.pi * u2)
end

-- AnalogData of ntr trials x ns samples at 1 kHz; fill(k, n) gives one row
local function analog(ntr, ns, fill)
  local rows, trl = {}, {}
  for k = 1, ntr do
    for n = 1, ns do rows[#rows + 1] = fill(k, n) end
    trl[k] = { (k - 1) * ns, k * ns, 0 }
  end
  return spy.AnalogData{ data = spy.array(rows), samplerate = 1000, trialdefinition = spy.array(trl) }
end

describe("connectivityanalysis from first principles", function()
  it("coherence of a signal with itself is 1", function()
    local d = analog(8, 256, function() local v = gauss(); return { v, v, gauss() } end)
    local c = whole(spy.connectivityanalysis(d, { method = "coh", tapsmofrq = 10 }))
    assert.is_true((pair(c, 1, 2) - 1):abs():max() < 1e-6)
    assert.is_true((pair(c, 3, 3) - 1):abs():max() < 1e-6)
    assert.is_true(pair(c, 1, 3, 2):max() < 0.9)
  end)

  it("coh outputs are conversions of the complex coherency", function()
    local d = analog(6, 256, function() local v = gauss(); return { v + gauss(), v, gauss() } end)
    local function coh(out) return whole(spy.connectivityanalysis(d, { method = "coh", output = out })) end
    local c = coh("complex")
    assert.are.equal("complex64", c.dtype)
    local re, im = c:real():astype("float64"), c:imag():astype("float64")
    local mag = (re * re + im * im) ^ 0.5
    assert.is_true((coh("abs"):astype("float64") - mag):abs():max() < 1e-6)
    assert.is_true((coh("pow"):astype("float64") - mag * mag):abs():max() < 1e-6)
    assert.is_true((coh("real"):astype("float64") - re):abs():max() == 0)
    assert.is_true((coh("imag"):astype("float64") - im):abs():max() == 0)
    assert.is_true((whole(spy.connectivityanalysis(d, { method = "coh", output = "fourier" })):real() - c:real()):abs():max() == 0)
    local a = coh("angle"):astype("float64")
    assert.is_true(math.abs(a:get(1, 10, 1, 2) - math.atan(im:get(1, 10, 1, 2), re:get(1, 10, 1, 2))) < 1e-6)
  end)

  it("coherence of independent noise falls as 1/sqrt(trials)", function()
    local function meancoh(ntr)
      local d = analog(ntr, 256, function() return { gauss(), gauss() } end)
      local c = pair(whole(spy.connectivityanalysis(d, { method = "coh" })), 1, 2)
      return c:slice{ 1, { 2, 128 } }:mean()
    end
    local r = meancoh(16) / meancoh(64)
    assert.is_true(r > 1.7 and r < 2.3, "ratio " .. r)
  end)

  it("csd is Hermitian, its diagonal real", function()
    local d = analog(4, 200, function() return { gauss(), gauss(), gauss() } end)
    local c = whole(spy.connectivityanalysis(d, { method = "csd", tapsmofrq = 20 }))
    for i = 1, 3 do
      for j = 1, 3 do
        local a, b = c:slice{ ":", ":", i, j }, c:slice{ ":", ":", j, i }
        assert.are.equal(0, (a:real() - b:real()):abs():max())
        assert.are.equal(0, (a:imag() + b:imag()):abs():max())
      end
      assert.are.equal(0, c:slice{ ":", ":", i, i }:imag():abs():max())
    end
  end)

  it("ppc of phase-locked trials is 1, of independent phases near 0", function()
    local phi = {}
    for k = 1, 20 do phi[k] = 2 * math.pi * math.random() end
    local d = analog(20, 500, function(k, n)
      local t = (n - 1) / 1000
      return { math.cos(2 * math.pi * 50 * t + phi[k]) + 0.05 * gauss(),
               math.cos(2 * math.pi * 50 * t + phi[k] + 1) + 0.05 * gauss(), gauss() }
    end)
    local res = spy.connectivityanalysis(d, { method = "ppc" })
    local p, f50 = whole(res), nil
    for i = 1, #res.freq do if math.abs(res.freq:get(i) - 50) < 1e-9 then f50 = i end end
    assert.is_true(p:get(1, f50, 1, 2) > 0.99)
    assert.is_true(math.abs(p:get(1, f50, 1, 3)) < 0.2)
    assert.is_true((pair(p, 2, 2) - 1):abs():max() < 1e-6)
  end)

  it("corr of a delayed copy peaks at the delay", function()
    local x = {}
    for i = 1, 4 * 400 do x[i] = gauss() end
    local d = analog(4, 400, function(k, n)
      local i = (k - 1) * 400 + n
      return { x[i], n > 7 and x[i - 7] or 0 }
    end)
    local res = spy.connectivityanalysis(d, { method = "corr" })
    local c = whole(res)
    local best, at = -math.huge, 0
    for lag = 1, c.shape[1] do
      local v = c:get(lag, 1, 2, 1)
      if v > best then best, at = v, lag end
    end
    assert.are.equal(8, at) -- lag 7 samples
    assert.is_true(math.abs(res.time[1]:get(at) - 0.007) < 1e-12)
    assert.is_true(best > 0.9)
  end)
end)

describe("granger on an AR(2) network with known coupling", function()
  it("puts the coupled direction clearly above the uncoupled ones", function()
    -- 1 -> 2 and 3 -> 2 coupled (AdjMat[i][j]: i -> j), everything else not
    local d = spy.synthdata.ar2_network{ AdjMat = { { 0, 0.25, 0 }, { 0, 0, 0 }, { 0, 0.25, 0 } },
                                         nSamples = 500, nTrials = 60, seed = 7 }
    local res = spy.connectivityanalysis(d, { method = "granger", tapsmofrq = 3 })
    assert.is_true(res.info["converged"])
    local g = whole(res)
    local function peak(i, j) return pair(g, i, j):max() end
    local coupled = math.min(peak(1, 2), peak(3, 2))
    local uncoupled = math.max(peak(2, 1), peak(2, 3), peak(1, 3), peak(3, 1))
    assert.is_true(coupled > 0.3, "coupled " .. coupled)
    assert.is_true(coupled > 5 * uncoupled, ("coupled %g, uncoupled %g"):format(coupled, uncoupled))
    for i = 1, 3 do assert.is_true(pair(g, i, i):abs():max() < 1e-9) end
  end)
end)

describe("connectivityanalysis from SpectralData (fourier)", function()
  it("coh from multitaper Fourier coefficients matches Syncopy", function()
    local f = DATA .. "/conn_coh_from_fourier.h5"
    local data = spy.AnalogData{ data = spy.h5read(f, "input"), samplerate = 1000,
                                 trialdefinition = spy.h5read(f, "input_trialdefinition") }
    local spec = spy.freqanalysis(data, { method = "mtmfft", tapsmofrq = 3, keeptapers = true,
                                          output = "fourier", keeptrials = true })
    local res = spy.connectivityanalysis(spec, { method = "coh" })
    local r = { out = spy.h5read(f, "output"), out_trl = spy.h5read(f, "output_trialdefinition"),
                freq = spy.h5read(f, "freq") }
    assert.is_true(check(res, r) <= TOL)
    local again = spy.connectivityanalysis(spec, res.cfg) -- cfg replay
    assert.are.equal(0, (whole(again) - whole(res)):abs():max())
    assert.are.same({ "freqanalysis", "connectivityanalysis" }, (function()
      local k = {}
      for name in pairs(res.cfg) do k[#k + 1] = name end
      table.sort(k, function(a, b) return a > b end)
      return k
    end)())
  end)

  it("gives time-resolved coherence from mtmconvol Fourier output", function()
    local d = analog(6, 1000, function(k, n)
      local t = (n - 1) / 1000
      local v = math.cos(2 * math.pi * 40 * t + k) + 0.1 * gauss()
      return { v, v, gauss() }
    end)
    local tf = spy.freqanalysis(d, { method = "mtmconvol", t_ftimwin = 0.2, toi = 0.5, foilim = { 10, 80 },
                                     taper = "hann", output = "fourier" })
    local c = spy.connectivityanalysis(tf, { method = "coh" })
    local rows = tf.trialdefinition:get(1, 2) - tf.trialdefinition:get(1, 1)
    assert.are.same({ rows, #tf.freq, 3, 3 }, c.shape)
    assert.are.equal(tf.trialdefinition:get(1, 3), c.trialdefinition:get(1, 3))
    local w = whole(c)
    assert.is_true((w:slice{ ":", ":", 1, 2 }:astype("float64") - 1):abs():max() < 1e-5)
    assert.is_true(w:slice{ ":", ":", 1, 3 }:max() < 0.99)
  end)

  it("channelcmb selects senders x receivers; granger pairwise", function()
    local d = spy.synthdata.ar2_network{ AdjMat = { { 0, 0.25, 0 }, { 0, 0, 0 }, { 0, 0, 0 } },
                                         nSamples = 500, nTrials = 40, seed = 11 }
    local spec = spy.freqanalysis(d, { method = "mtmfft", tapsmofrq = 3, keeptapers = true, output = "fourier" })
    local full = whole(spy.connectivityanalysis(spec, { method = "coh" }))
    local c = spy.connectivityanalysis(spec, { method = "coh", channelcmb = { { "channel1", "channel2" }, { "channel3" } } })
    assert.are.same({ "channel1", "channel2" }, c.channel_i)
    assert.are.same({ "channel3" }, c.channel_j)
    local w = whole(c)
    assert.are.equal(0, (w:slice{ ":", ":", 2, 1 } - full:slice{ ":", ":", 2, 3 }):abs():max())
    local g = spy.connectivityanalysis(spec, { method = "granger", channelcmb = { { 1, 2 }, { 2, 1 } } })
    local gw = whole(g)
    assert.are.same({ 1, #spec.freq, 2, 2 }, g.shape)
    local fwd, back = pair(gw, 1, 1):max(), pair(gw, 2, 2):max() -- 1 -> 2, 2 -> 1
    assert.is_true(fwd > 5 * back, ("1->2 %g, 2->1 %g"):format(fwd, back))
    local ok, err = pcall(spy.connectivityanalysis, spec, { channelcmb = { { "nope" }, { 1 } } })
    assert.is_truthy(tostring(err):find("Invalid value of `channelcmb`: 'nope'; expected names or indices of existing channels", 1, true))
    ok, err = pcall(spy.connectivityanalysis, spec, { channelcmb = { { 1 }, { 2 } }, select = { channel = { 1, 2 } } })
    assert.is_truthy(tostring(err):find("either channel selection or use channelcmb", 1, true))
    ok, err = pcall(spy.connectivityanalysis, spec, { channelcmb = { { 1 } } })
    assert.is_truthy(tostring(err):find("list with exactly two elements: [senders, receivers]", 1, true))
  end)

  it("rejects what Syncopy rejects", function()
    local d = analog(3, 200, function() return { gauss(), gauss() } end)
    local pow = spy.freqanalysis(d, { method = "mtmfft" })
    local ok, err = pcall(spy.connectivityanalysis, pow, { method = "coh" })
    assert.is_false(ok)
    assert.is_truthy(tostring(err):find("Invalid value of `data`: 'real valued spectral data'; expected complex valued spectra, set `output='fourier'` in spy.freqanalysis!", 1, true))
    local tf = spy.freqanalysis(d, { method = "mtmconvol", t_ftimwin = 0.05, toi = 0.5, output = "fourier" })
    ok, err = pcall(spy.connectivityanalysis, tf, { method = "granger" })
    assert.is_truthy(tostring(err):find("Time resolved Granger causality from tf-spectra not available atm", 1, true))
    ok, err = pcall(spy.connectivityanalysis, tf, { method = "corr" })
    assert.is_truthy(tostring(err):find("Invalid value of `data`: 'SpectralData'; expected AnalogData instance as input for method corr", 1, true))
  end)
end)

describe("jackknife", function()
  it("gives Syncopy's leave-one-out bias and variance, kept in the .spy container", function()
    local r = ref("conn_coh_dpss")
    local res = spy.connectivityanalysis(r.data, { method = "coh", tapsmofrq = 3, jackknife = true })
    local direct = whole(res):astype("float64")
    -- the replicates by hand: coherence of every leave-one-out selection
    local N, reps = 5, {}
    for k = 1, N do
      local keep = {}
      for t = 1, N do if t ~= k then keep[#keep + 1] = t end end
      reps[k] = whole(spy.connectivityanalysis(spy.selectdata(r.data, { trials = keep }),
                                               { method = "coh", tapsmofrq = 3 })):astype("float64")
    end
    local mean = reps[1] * 0
    for k = 1, N do mean = mean + reps[k] / N end
    local var = mean * 0
    for k = 1, N do var = var + (mean - reps[k]) ^ 2 * (N - 1) end
    local bias = (mean - direct) * (N - 1)
    assert.are.same(res.shape, res.jack_var.shape)
    assert.is_true((res.jack_var:astype("float64") - var):abs():max() <= 1e-5 * var:abs():max())
    assert.is_true((res.jack_bias:astype("float64") - bias):abs():max() <= 1e-5 * bias:abs():max())
    -- saved and loaded with the result; a result without jackknife has none
    local dir = os.tmpname()
    os.remove(dir)
    spy.save(res, dir .. ".spy")
    local back = spy.load(dir .. ".spy")
    assert.are.equal(0, (back.jack_var - res.jack_var):abs():max())
    assert.are.equal(0, (back.jack_bias - res.jack_bias):abs():max())
    os.execute("rm -rf '" .. dir .. ".spy'")
    assert.is_nil(spy.connectivityanalysis(r.data, { method = "coh" }).jack_var)
    local g = spy.connectivityanalysis(r.data, { method = "granger", tapsmofrq = 3, jackknife = true })
    assert.are.same(g.shape, g.jack_bias.shape)
    assert.is_true(g.jack_var:min() >= 0)
  end)
end)

describe("connectivityanalysis in parallel", function()
  it("gives identical numbers with 1, 2 and 4 workers", function()
    local r = ref("conn_coh_dpss")
    local cases = { { method = "coh", tapsmofrq = 3 }, { method = "ppc" }, { method = "corr" },
                    { method = "csd", keeptrials = true }, { method = "granger", tapsmofrq = 3 } }
    for _, kw in ipairs(cases) do
      local seq = whole(spy.connectivityanalysis(r.data, kw))
      for _, n in ipairs{ 2, 4 } do
        local cluster = spy.LocalCluster{ n_workers = n }
        local client = spy.Client(cluster)
        local par = whole(spy.connectivityanalysis(r.data, kw))
        client:close()
        cluster:close()
        local diff = seq.dtype == "complex64" and (par:real() - seq:real()):abs():max() +
                     (par:imag() - seq:imag()):abs():max() or (par - seq):abs():max()
        assert.are.equal(0, diff)
      end
    end
  end)
end)

describe("connectivityanalysis rejects bad input as Syncopy does", function()
  local r = ref("conn_csd")
  local function msg(data, kw)
    local ok, err = pcall(spy.connectivityanalysis, data, kw)
    assert.is_false(ok)
    return tostring(err)
  end
  local function has(s, sub) assert.is_truthy(s:find(sub, 1, true), s) end
  it("names the allowed values", function()
    has(msg(r.data, { method = "foo" }),
        "Invalid value of `method`: 'foo'; expected 'coh' or 'corr' or 'granger' or 'csd' or 'ppc' ")
    has(msg(r.data, { method = "coh", keeptrials = true }),
        "Invalid value of `keeptrials`: 'True'; expected False, trial averaging needed for method coh!")
    has(msg(r.data, { method = "coh", output = "bad" }),
        "Invalid value of `output`: 'bad'; expected one of ('abs', 'pow', 'complex', 'fourier', 'angle', 'real', 'imag')")
    has(msg(r.data, { method = "corr", pad = "nextpow2" }),
        "Invalid value of `pad`: 'nextpow2'; expected 'maxperlen', no padding needed/allowed for cross-correlations")
    has(msg(r.data, { polyremoval = 2 }), "polyremoval")
    has(msg(r.data, { method = "granger", foilim = { 1, 100 } }),
        "Invalid value of `foi/foilim`: 'foi or foilim specification'; expected no foi specification for Granger analysis")
    has(msg(r.data, { channelcmb = { { 1 }, { 2 } } }),
        "Wrong type of `data`: expected SpectralData, `channelcmb` not supported for other data types,  found AnalogData")
  end)
  it("averages corr only over trials of equal length", function()
    local rows, trl, row = {}, {}, 0
    for k, ns in ipairs{ 300, 400, 350 } do
      for n = 1, ns do rows[#rows + 1] = { math.sin(n * 0.1 * k), math.cos(n * 0.07) + 0.01 * n } end
      trl[k] = { row, row + ns, 0 }
      row = row + ns
    end
    local d = spy.AnalogData{ data = spy.array(rows), samplerate = 1000, trialdefinition = spy.array(trl) }
    has(msg(d, { method = "corr" }), "Averaging trials of unequal lengths in output currently not supported!")
    local kept = spy.connectivityanalysis(d, { method = "corr", keeptrials = true })
    assert.are.equal(150 + 200 + 175, kept.shape[1])
  end)
  it("needs several trials for spectral measures", function()
    local one = spy.selectdata(r.data, { trials = { 1 } })
    has(msg(one, { method = "coh" }),
        "Invalid value of `data`: 'only one trial'; expected multi-trial input data, spectral connectivity measures critically depend on trial averaging!")
  end)
  it("takes AnalogData, not other classes", function()
    local c = spy.connectivityanalysis(r.data, { method = "coh" })
    has(msg(c, { method = "coh" }),
        "Invalid value of `data`: 'CrossSpectralData'; expected either AnalogData or SpectralData as input")
    has(msg(nil, { method = "coh" }), "expected Syncopy data object")
  end)
end)

describe("the CrossSpectralData result", function()
  local r = ref("conn_coh_dpss")
  local res = spy.connectivityanalysis(r.data, { method = "coh", tapsmofrq = 3 })
  it("prints its summary and carries both channel axes", function()
    local s = tostring(res)
    assert.is_truthy(s:find("CrossSpectralData", 1, true))
    assert.is_truthy(s:find("channel_i", 1, true))
    assert.are.same({ "channel1", "channel2", "channel3", "channel4" }, res.channel_i)
    assert.are.same(res.channel_i, res.channel_j)
  end)
  it("selects over channel_i and channel_j", function()
    local s = spy.selectdata(res, { channel_i = { "channel2" }, channel_j = { "channel1", "channel4" } })
    assert.are.same({ 1, 1001, 1, 2 }, s.shape)
    local a, b = whole(s), whole(res)
    assert.are.equal(0, (a:slice{ ":", ":", 1, 2 } - b:slice{ ":", ":", 2, 4 }):abs():max())
    local v = spy.show(res, { channel_i = 1, channel_j = 2 })
    assert.is_true((v:astype("float64"):reshape{ 1001 } - pair(b, 1, 2):reshape{ 1001 }):abs():max() == 0)
  end)
  it("does arithmetic", function()
    local d = whole(res + res) - whole(res) * 2
    assert.are.equal(0, d:abs():max())
  end)
  it("replays its cfg", function()
    local again = spy.connectivityanalysis(r.data, res.cfg)
    assert.are.equal(0, (whole(again) - whole(res)):abs():max())
  end)
  it("saves and loads as .spy", function()
    local dir = os.tmpname()
    os.remove(dir)
    spy.save(res, dir .. ".spy")
    local back = spy.load(dir .. ".spy")
    assert.are.same(res.shape, back.shape)
    assert.are.same(res.channel_j, back.channel_j)
    assert.are.equal(0, (whole(back) - whole(res)):abs():max())
    assert.are.equal("coh", back.cfg.connectivityanalysis.method)
    os.execute("rm -rf '" .. dir .. ".spy'")
  end)
end)
