-- Regressions found by scripts/syncopy-xcheck-stats (spy against Syncopy on
-- cases no other reference covers; docs/internals/xcheck-stats.md). The
-- expected values are Syncopy's own outputs in tests/data/xcheck_stats.h5.
-- Tolerance: 1e-5 relative to the largest reference value; time axes and
-- trial definitions exactly; NaN patterns exactly.
local spy = require "spy"
local DATA = os.getenv("SPY_TEST_DATA")
local TOL = 1e-5
local function ref(name) return spy.h5read(DATA .. "/xcheck_stats.h5", name) end

-- max |got - want| / max |want| over the elements that are not NaN in want;
-- NaN must be where want has NaN
local function relerr(got, want)
  got, want = got:astype("float64"), want:astype("float64")
  assert.are.same(want.shape, got.shape)
  local g, w = got:reshape { -1 }, want:reshape { -1 }
  local worst, scale = 0, 0
  for i = 1, #w do
    local a, b = g:get(i), w:get(i)
    if b ~= b then
      assert.is_true(a ~= a, "NaN expected at element " .. i)
    else
      assert.is_true(a == a, "no NaN expected at element " .. i)
      worst = math.max(worst, math.abs(a - b))
      scale = math.max(scale, math.abs(b))
    end
  end
  return worst / (scale > 0 and scale or 1)
end

describe("spike_psth's time axis (Syncopy: offset = rint(first bin midpoint * samplerate))", function()
  local spk = spy.SpikeData { data = ref("spk_input"), samplerate = 10000,
                              trialdefinition = ref("spk_input_trialdefinition") }
  for _, case in ipairs {
    { "psth_rice", {} },
    { "psth_prop", { binsize = 0.013, latency = { 0.005, 0.2 }, output = "proportion" } },
  } do
    it(case[1], function()
      local out = spy.spike_psth(spk, case[2])
      assert.are.same(ref(case[1] .. "_trialdefinition"):totable(), out.trialdefinition:totable())
      local t, want = out.time[1], ref(case[1] .. "_time_trial0")
      assert.is_true((t - want):abs():max() <= 1e-12)
      assert.is_true(relerr(out:toarray(), ref(case[1] .. "_output")) <= TOL)
      assert.is_true(relerr(out.avg, ref(case[1] .. "_avg")) <= TOL)
      assert.is_true(relerr(out.var, ref(case[1] .. "_var")) <= TOL)
    end)
  end
end)

describe("timelockanalysis of data with NaNs", function()
  it("var is NaN where avg is (Syncopy's plain trial mean and variance), cov as np.cov", function()
    local a = spy.AnalogData { data = ref("nan_input"), samplerate = 1000,
                               trialdefinition = ref("nan_input_trialdefinition") }
    local tl = spy.timelockanalysis(a, { covariance = true })
    for _, k in ipairs { "avg", "var", "cov" } do
      assert.is_true(relerr(tl[k], ref("timelock_nan_" .. k)) <= TOL, k)
    end
  end)
end)

-- Decisions where Syncopy is wrong (docs/internals/xcheck-stats.md); each
-- asserts spy's documented behaviour on the case that exposed Syncopy's.
describe("where spy decides against Syncopy", function()
  local one = spy.synthdata.white_noise { nTrials = 1, nSamples = 1000, nChannels = 3, seed = 21 }
  local anau = spy.AnalogData { data = one.trials[1], samplerate = 1000,
    trialdefinition = { { 0, 250, -100, 1 }, { 250, 420, -50, 2 }, { 420, 700, -120, 1 }, { 700, 1000, 0, 3 } } }

  it("a statistic over time keeps the trialinfo columns (Syncopy drops them)", function()
    local m = spy.mean(anau, "time")
    assert.are.same({ { 0, 1, 0, 1 }, { 1, 2, 0, 2 }, { 2, 3, 0, 1 }, { 3, 4, 0, 3 } }, m.trialdefinition:totable())
    assert.are.same({ { 1 }, { 2 }, { 1 }, { 3 } }, m.trialinfo:totable())
  end)

  it("select= of a statistic cuts trials to the latency window as Syncopy's select= (and every analysis') does", function()
    -- over time: 4 trials; the last (offset 0) cut to its 51 samples in [0, 0.05] s
    local m = spy.mean(anau, { dim = "time", select = { latency = { -0.04, 0.05 } } })
    assert.are.equal(4, #m.trials)
    local want = anau.trials[4]:astype("float64"):slice { { 1, 51 } }:mean(1)
    assert.is_true((m.trials[4]:astype("float64"):reshape({ 3 }) - want):abs():max() <= 1e-6 * want:abs():max())
    -- over trials the cut trials differ in length: refused (Syncopy fails on the shapes), naming selectdata
    local ok, msg = pcall(spy.mean, anau, { dim = "trials", select = { latency = { -0.04, 0.03 }, channel = { 3, 1 } } })
    assert.is_false(ok)
    assert.truthy(msg:find("latency window cuts trial 4 to 31 samples, trial 1 to 71", 1, true))
    assert.truthy(msg:find("`spy.selectdata` with that latency drops the trials that do not cover it", 1, true))
  end)

  it("a trial statistic of selectdata's latency selection drops uncovered trials and keeps the channel order", function()
    local s = spy.selectdata(anau, { latency = { -0.04, 0.03 }, channel = { 3, 1 } })
    assert.are.equal(3, #s.trials) -- the trial with offset 0 does not cover -0.04 s
    local m = spy.mean(s, "trials")
    assert.are.same({ "channel3", "channel1" }, m.channel)
    local want = (s.trials[1]:astype("float64") + s.trials[2] + s.trials[3]) / 3
    assert.is_true((m.trials[1]:astype("float64") - want):abs():max() <= 1e-6 * want:abs():max())
    assert.are.same({ { 0, 71, -40, 1 } }, m.trialdefinition:totable())
  end)

  it("timelockanalysis keeps the labels of the selected channels (Syncopy's become channel1..n)", function()
    local d = spy.synthdata.white_noise { nTrials = 3, nSamples = 50, nChannels = 3, seed = 2 }
    local tl = spy.timelockanalysis(d, { covariance = true, select = { channel = { 1, 3 } } })
    assert.are.same({ "channel1", "channel3" }, tl.channel)
    assert.are.same({ 2, 2 }, tl.cov.shape)
  end)

  it("eventid selects event codes (Syncopy checks positions, then compares them with codes)", function()
    local evt = spy.EventData { data = { { 100, 1 }, { 180, 7 }, { 260, 9 }, { 400, 1 }, { 470, 7 }, { 530, 9 }, { 900, 1 } },
                                samplerate = 1000 }
    local s = spy.selectdata(evt, { eventid = { 9, 7 } })
    assert.are.same({ { 180, 7 }, { 260, 9 }, { 470, 7 }, { 530, 9 } }, s.trials[1]:totable()) -- in sample order
    assert.are.same({ 7, 9 }, s.eventid)
  end)

  it("a unit selection keeps the rows in sample order and the unit labels (Syncopy: grouped by unit, labels None)", function()
    local s = spy.SpikeData { data = { { 1, 0, 0 }, { 2, 0, 2 }, { 3, 0, 1 }, { 4, 0, 0 }, { 5, 0, 2 }, { 9, 0, 0 } },
                              samplerate = 1000 }
    local sub = spy.selectdata(s, { unit = { "unit3", "unit1" } })
    assert.are.same({ { 1, 0, 0 }, { 2, 0, 2 }, { 4, 0, 0 }, { 5, 0, 2 } }, sub.trials[1]:totable())
    assert.are.same({ "unit1", "unit3" }, sub.unit)
  end)

  it("trials of SpikeData are selected in time order (Syncopy's reversed selection empties a trial)", function()
    local s = spy.SpikeData { data = { { 1, 0, 0 }, { 5, 0, 1 }, { 12, 0, 0 }, { 15, 0, 1 } }, samplerate = 1000,
                              trialdefinition = { { 0, 10, 0 }, { 10, 20, 0 } } }
    local ok, e = pcall(spy.selectdata, s, { trials = { 2, 1 } })
    assert.is_false(ok)
    assert.matches("expected trials in ascending order of time, not overlapping", e, 1, true)
    assert.are.same({ { 12, 0, 0 }, { 15, 0, 1 } }, spy.selectdata(s, { trials = { 2 } }).trials[1]:totable())
  end)
end)

describe("std and var along an axis of complex data (Syncopy fails writing them)", function()
  it("are real: the population std/var of the complex values (numpy's np.std/np.var)", function()
    local d = spy.synthdata.white_noise { nTrials = 2, nSamples = 200, nChannels = 2, seed = 3 }
    local f = spy.freqanalysis(d, { method = "mtmfft", tapsmofrq = 20, output = "fourier", keeptapers = true,
                                    foilim = { 0, 50 } })
    local s, v = spy.std(f, "taper"), spy.var(f, "freq")
    assert.are.equal("float32", s.dtype)
    assert.are.equal("float32", v.dtype)
    for k = 1, 2 do
      local z = f.trials[k]:astype("complex128")
      local want_s = z:std(2):reshape(s.trials[k].shape)
      local sd = z:std(3)
      local want_v = (sd * sd):reshape(v.trials[k].shape)
      assert.is_true((s.trials[k]:astype("float64") - want_s):abs():max() <= TOL * want_s:abs():max())
      assert.is_true((v.trials[k]:astype("float64") - want_v):abs():max() <= TOL * want_v:abs():max())
    end
  end)
end)

describe("redefinetrial", function()
  it("minlength keeps trials of at least int(minlength * samplerate) samples (Syncopy's rule)", function()
    local a = spy.AnalogData { data = ref("anau_input"), samplerate = 1000,
                               trialdefinition = ref("anau_input_trialdefinition") }
    local r = spy.redefinetrial(a, { minlength = 0.2505 }) -- int(250.5) = 250: the 250-sample trial stays
    local want = ref("redef_minlength_trialdefinition")
    local got = r.trialdefinition
    assert.are.same(want.shape, got.shape)
    for k = 1, want.shape[1] do -- lengths, offsets and trialinfo (spy stores only the trials)
      assert.are.equal(want:get(k, 2) - want:get(k, 1), got:get(k, 2) - got:get(k, 1))
      assert.are.equal(want:get(k, 3), got:get(k, 3))
      assert.are.equal(want:get(k, 4), got:get(k, 4))
    end
  end)

  it("cuts time-frequency SpectralData like Syncopy (begsample/endsample, offset)", function()
    local f = spy.SpectralData { data = ref("spectf_input"), samplerate = 20, freq = ref("spectf_freq"),
                                 trialdefinition = ref("spectf_input_trialdefinition") }
    local r = spy.redefinetrial(f, { begsample = 2, endsample = 3, offset = -1 }) -- Syncopy: 1, 3 (0-based, exclusive)
    assert.are.equal("SpectralData", r.dataclass)
    assert.are.equal("complex64", r.dtype)
    assert.are.same(ref("redef_tf_len_offset"):totable(), (function()
      local t = {}
      for k, row in ipairs(r.trialdefinition:totable()) do t[k] = { row[2] - row[1], row[3] } end
      return t
    end)())
    assert.are.equal(0, (r:toarray() - ref("redef_tf_trials")):abs():max())
    assert.is_true((r.time[1] - ref("redef_tf_time_trial0")):abs():max() <= 1e-12)
    assert.are.same(f.freq:totable(), r.freq:totable())
  end)

  it("takes CrossSpectralData: trials and labels as given, rows copied exactly", function()
    local d = spy.synthdata.white_noise { nTrials = 3, nSamples = 100, nChannels = 2, seed = 4 }
    local c = spy.connectivityanalysis(d, { method = "coh", tapsmofrq = 20 })
    local r = spy.redefinetrial(c, { trl = { { 0, 1, 0, 9 } } })
    assert.are.equal("CrossSpectralData", r.dataclass)
    assert.are.same({ { 0, 1, 0, 9 } }, r.trialdefinition:totable())
    assert.are.same(c.channel_i, r.channel_i)
    assert.are.equal(0, (r:toarray() - c:toarray()):abs():max())
  end)
end)

describe("concat of SpectralData (Syncopy concatenates any continuous class along channel)", function()
  local function tf()
    return spy.SpectralData { data = ref("spectf_input"), samplerate = 20, freq = ref("spectf_freq"),
                              trialdefinition = ref("spectf_input_trialdefinition") }
  end
  it("appends the channels trial by trial, labels channel1..n, obj1's freq", function()
    local f = tf()
    local c = spy.concat(f, f, { dim = "channel" })
    assert.are.equal("SpectralData", c.dataclass)
    assert.are.equal(0, (c:toarray() - ref("concat_tf_output")):abs():max())
    assert.are.same(ref("concat_tf_trialdefinition"):totable(), c.trialdefinition:totable())
    assert.are.same({ "channel1", "channel2", "channel3", "channel4", "channel5", "channel6" }, c.channel)
    assert.are.same(f.freq:totable(), c.freq:totable())
  end)
  it("refuses spectra of different frequency axes, saying which axis", function()
    local f = tf()
    local ok, e = pcall(spy.concat, f, spy.selectdata(f, { frequency = { 20, 100 } }))
    assert.is_false(ok)
    assert.matches("axis 3 ('freq') has 5 entries, 10 in obj1'; expected the same shapes except along `channel`", e, 1, true)
  end)
end)

describe("spike_psth binsize", function()
  it("0 is refused saying the width must be positive (Syncopy lets it through to np.arange)", function()
    local spk = spy.SpikeData { data = ref("spk_input"), samplerate = 10000,
                                trialdefinition = ref("spk_input_trialdefinition") }
    local ok, e = pcall(spy.spike_psth, spk, { binsize = 0 })
    assert.is_false(ok)
    assert.matches("Invalid value of `binsize`: '0'; expected value to be greater than 0 and less or equals", e, 1, true)
  end)
end)

describe("wrong classes are refused in Syncopy's words", function()
  it("itc of AnalogData, spike_psth of AnalogData", function()
    local a = spy.synthdata.white_noise { nTrials = 2, nSamples = 20, nChannels = 1, seed = 1 }
    local ok, e = pcall(spy.itc, a)
    assert.is_false(ok)
    assert.matches("Wrong type of `spec_data`: expected Syncopy SpectralData object found AnalogData", e, 1, true)
    ok, e = pcall(spy.spike_psth, a)
    assert.is_false(ok)
    assert.matches("Wrong type of `data`: expected Syncopy SpikeData object found AnalogData", e, 1, true)
  end)
end)
