-- Statistics and trial tools through the Lua API: every stat_* and trials_*
-- Syncopy reference case (per channel max|spy - Syncopy| / max|Syncopy|
-- <= 1e-5, trial definitions and labels exactly), first principles, the
-- same numbers for 1, 2 and 4 workers, bad input, elementwise maths and
-- TimeLockData's avg/var/cov in .spy containers.
local spy = require "spy"
local DATA = os.getenv("SPY_TEST_DATA")
local TOL = 1e-5

local function h5(case, name) return spy.h5read(DATA .. "/" .. case .. ".h5", name) end

local function input(case, prefix)
  prefix = prefix or "input"
  return spy.AnalogData{ data = h5(case, prefix), samplerate = 1000,
                         trialdefinition = h5(case, prefix .. "_trialdefinition") }
end

-- the worst per-channel relative error of an object's trials against the
-- rows of a reference array given by the object's trial definition
local function relerr(obj, want)
  local worst = 0
  local trl = obj.trialdefinition
  for k = 1, #obj.trials do
    local got = obj.trials[k]:astype("float64")
    local nd = #got.shape
    local rows = { { trl:get(k, 1) + 1, trl:get(k, 2) } }
    for i = 2, nd do rows[i] = ":" end
    local w = want:slice(rows):astype("float64")
    assert.are.same(w.shape, got.shape)
    for c = 1, got.shape[nd] do
      local sel = {}
      for i = 1, nd - 1 do sel[i] = ":" end
      sel[nd] = c
      local wc, gc = w:slice(sel), got:slice(sel)
      local scale = wc:abs():max()
      local e = (gc - wc):abs():max() / (scale > 0 and scale or 1)
      if e ~= e then e = math.huge end
      if e > worst then worst = e end
    end
  end
  return worst
end

-- the same for a plain array (avg, var, cov)
local function arrerr(got, want)
  got, want = got:astype("float64"), want:astype("float64")
  assert.are.same(want.shape, got.shape)
  local scale = want:abs():max()
  return (got - want):abs():max() / scale
end

local function same_trl(obj, want)
  local got = obj.trialdefinition
  assert.are.same(want.shape, got.shape)
  assert.is_true((got - want):abs():max() == 0)
end

describe("Syncopy reference cases", function()
  it("stat_mean_trials: spy.mean(data, 'trials')", function()
    local m = spy.mean(input("stat_mean_trials"), "trials")
    assert.are.equal("AnalogData", m.dataclass)
    assert.is_true(relerr(m, h5("stat_mean_trials", "output")) <= TOL)
    same_trl(m, h5("stat_mean_trials", "output_trialdefinition"))
  end)

  it("stat_timelock: spy.timelockanalysis(data, {covariance=true})", function()
    local tl = spy.timelockanalysis(input("stat_timelock"), { covariance = true })
    assert.are.equal("TimeLockData", tl.dataclass)
    assert.are.equal("float32", tl.dtype)
    assert.is_true(relerr(tl, h5("stat_timelock", "output")) <= TOL)
    same_trl(tl, h5("stat_timelock", "output_trialdefinition"))
    for _, k in ipairs { "avg", "var", "cov" } do
      assert.is_true(arrerr(tl[k], h5("stat_timelock", "output_" .. k)) <= TOL, k)
    end
  end)

  it("stat_var_freq: spy.var(spec, 'freq')", function()
    local spec = spy.freqanalysis(input("stat_var_freq"), { method = "mtmfft", taper = "hann",
                                                           output = "pow", keeptrials = true })
    local v = spy.var(spec, "freq")
    assert.is_true(relerr(v, h5("stat_var_freq", "output")) <= TOL)
    same_trl(v, h5("stat_var_freq", "output_trialdefinition"))
    assert.are.same({ 0 }, { v.freq:get(1) })
    assert.are.same({ "hann" }, v.taper)
  end)

  it("stat_itc: spy.itc of a Fourier spectrum", function()
    local f = spy.freqanalysis(input("stat_itc"), { method = "mtmfft", taper = "hann",
                                                   output = "fourier", keeptrials = true })
    local itc = spy.itc(f)
    assert.is_true(relerr(itc, h5("stat_itc", "output")) <= TOL)
    same_trl(itc, h5("stat_itc", "output_trialdefinition"))
    assert.are.same({ "taper1" }, itc.taper)
  end)

  it("trials_redefinetrial: toilim={-0.5, 0.5}, both ends included", function()
    local r = spy.redefinetrial(input("trials_redefinetrial"), { toilim = { -0.5, 0.5 } })
    assert.is_true(relerr(r, h5("trials_redefinetrial", "output")) == 0)
    same_trl(r, h5("trials_redefinetrial", "output_trialdefinition"))
  end)

  it("trials_concat: spy.concat(a, b, {dim='channel'}) with default labels", function()
    local a = input("trials_concat")
    local b = input("trials_concat", "input2")
    local c = spy.concat(a, b, { dim = "channel" })
    assert.is_true(relerr(c, h5("trials_concat", "output")) == 0)
    same_trl(c, h5("trials_concat", "output_trialdefinition"))
    assert.are.same({ "channel1", "channel2", "channel3", "channel4", "channel5", "channel6" }, c.channel)
  end)
end)

describe("reductions over trials on workers", function()
  it("give bit-identical results for 1, 2 and 4 workers", function()
    local data = input("stat_mean_trials")
    local ref = { mean = spy.mean(data, "trials").trials[1], var = spy.var(data, "trials").trials[1],
                  avg = spy.timelockanalysis(data, { covariance = true }).avg }
    for _, n in ipairs { 1, 2, 4 } do
      local cluster = spy.LocalCluster{ n_workers = n }
      local client = spy.Client(cluster)
      assert.are.equal(0, (spy.mean(data, "trials").trials[1] - ref.mean):abs():max())
      assert.are.equal(0, (spy.var(data, "trials").trials[1] - ref.var):abs():max())
      local tl = spy.timelockanalysis(data, { covariance = true })
      assert.are.equal(0, (tl.avg:astype("float64") - ref.avg:astype("float64")):abs():max())
      client:close()
      cluster:close()
    end
  end)
end)

-- n trials of len samples x nch channels with x = f(k, s, c)
local function build(n, len, nch, f, cls, dtype)
  local list = {}
  for k = 1, n do
    local t = {}
    for s = 1, len do
      local row = {}
      for c = 1, nch do row[c] = f(k, s, c) end
      t[s] = row
    end
    list[k] = spy.array(t, dtype or "float64")
  end
  return (cls or spy.AnalogData){ data = list, samplerate = 100 }
end

describe("first principles", function()
  it("mean over trials of constant trials is the constant, var 0", function()
    local d = build(6, 20, 3, function(_, _, c) return 2.5 * c end)
    local m, v = spy.mean(d, "trials"), spy.var(d, "trials")
    assert.are.equal(1, #m.trials)
    assert.are.equal("float64", m.dtype) -- double-precision input stays double
    assert.are.equal(7.5, m.trials[1]:get(20, 3))
    assert.are.equal(0, v.trials[1]:abs():max())
  end)

  it("var and std over trials of 1..N are (N^2-1)/12 and its root; median is the middle", function()
    local N = 9
    local d = build(N, 5, 2, function(k) return k end)
    local v, s, med = spy.var(d, "trials"), spy.std(d, "trials"), spy.median(d, "trials")
    assert.is_true(math.abs(v.trials[1]:get(3, 2) - (N * N - 1) / 12) < 1e-5)
    assert.is_true(math.abs(s.trials[1]:get(3, 2) - math.sqrt((N * N - 1) / 12)) < 1e-5)
    assert.are.equal(5, med.trials[1]:get(1, 1))
  end)

  it("var of white noise of known variance, along time", function()
    local d = spy.synthdata.white_noise{ nTrials = 4, nSamples = 20000, nChannels = 2, seed = 7 }
    local v = spy.var(d, "time")
    assert.are.same({ 4, 2 }, v.shape)
    for k = 1, 4 do assert.is_true(math.abs(v.trials[k]:get(1, 1) - 1) < 0.05) end
    assert.are.same({ 1, 0 }, { v.trialdefinition:get(2, 1) - 0, v.trialdefinition:get(1, 3) })
  end)

  it("is NaN-aware as numpy's nanmean, along an axis and over trials", function()
    local d = build(3, 4, 2, function(k, s, c) if k == 2 and c == 1 then return 0 / 0 end return k + s end)
    local m = spy.mean(d, "trials")
    assert.are.equal((1 + 3) / 2 + 1, m.trials[1]:get(1, 1))
    assert.are.equal(3, m.trials[1]:get(1, 2))
    local mc = spy.mean(d, { dim = "channel" })
    assert.are.same({ "mean" }, mc.channel)
    assert.are.equal(2 + 1, mc.trials[2]:get(1, 1))
    local avg = spy.mean(d, { dim = "channel", keeptrials = false })
    assert.are.equal(1, #avg.trials)
  end)

  it("mean over trials of a per-trial spectrum is freqanalysis's trial average", function()
    local data = input("stat_var_freq")
    local opts = { method = "mtmfft", taper = "hann", output = "pow" }
    opts.keeptrials = true
    local m = spy.mean(spy.freqanalysis(data, opts), "trials")
    opts.keeptrials = false
    local avg = spy.freqanalysis(data, opts)
    assert.are.same(avg.shape, m.shape)
    local w = avg.trials[1]:astype("float64")
    assert.is_true((m.trials[1]:astype("float64") - w):abs():max() / w:abs():max() < 1e-6)
  end)

  it("mean over trials of complex data is complex, var real", function()
    local f = spy.freqanalysis(input("stat_itc"), { method = "mtmfft", taper = "hann", output = "fourier" })
    local m, v = spy.mean(f, "trials"), spy.var(f, "trials")
    assert.are.equal("complex64", m.dtype)
    assert.are.equal("float32", v.dtype)
    local re, im = f:real(), f:imag()
    local sr, si, sq = 0, 0, 0
    for k = 1, 5 do
      local x, y = re.trials[k]:get(1, 1, 41, 2), im.trials[k]:get(1, 1, 41, 2)
      sr, si, sq = sr + x, si + y, sq + x * x + y * y
    end
    local mr, mi = sr / 5, si / 5
    local got_r, got_i = m:real().trials[1]:get(1, 1, 41, 2), m:imag().trials[1]:get(1, 1, 41, 2)
    local scale = math.sqrt(mr * mr + mi * mi)
    assert.is_true(math.abs(got_r - mr) <= 1e-5 * scale and math.abs(got_i - mi) <= 1e-5 * scale)
    local var = sq / 5 - (mr * mr + mi * mi)
    assert.is_true(math.abs(v.trials[1]:get(1, 1, 41, 2) - var) <= 1e-5 * var)
    assert.is_true(math.abs(f:abs().trials[3]:get(1, 1, 41, 2) -
      math.sqrt(re.trials[3]:get(1, 1, 41, 2) ^ 2 + im.trials[3]:get(1, 1, 41, 2) ^ 2)) < 1e-4)
  end)

  it("takes select= and CrossSpectralData axes", function()
    local d = build(4, 6, 3, function(k, s, c) return k * s + c end)
    local m = spy.mean(d, { dim = "trials", select = { channel = { "channel3" }, trials = { 2, 4 } } })
    assert.are.same({ "channel3" }, m.channel)
    assert.are.equal((2 * 6 + 4 * 6) / 2 + 3, m.trials[1]:get(6, 1))
    local x = {}
    for t = 1, 2 do
      x[t] = {}
      for f = 1, 3 do
        x[t][f] = {}
        for i = 1, 2 do x[t][f][i] = { t + f + i, 10 * (t + f + i) } end
      end
    end
    local cs = spy.CrossSpectralData{ data = spy.array(x), samplerate = 1 }
    local r = spy.mean(cs, "channel_j")
    assert.are.same({ 2, 3, 2, 1 }, r.shape)
    assert.are.same({ "mean" }, r.channel_j)
    assert.are.equal(5.5 * (1 + 1 + 1), r.trials[1]:get(1, 1, 1, 1))
  end)

  it("ITC of phase-locked trials is 1", function()
    local d = build(8, 200, 2, function(k, s, c) return math.cos(2 * math.pi * 10 * (s - 1) / 100 + c) * k end)
    local f = spy.freqanalysis(d, { method = "mtmfft", taper = "hann", output = "fourier" })
    local itc = spy.itc(f, { select = { frequency = 10 } })
    assert.are.same({ 10 }, { itc.freq:get(1) })
    assert.is_true(math.abs(itc.trials[1]:get(1, 1, 1, 1) - 1) < 1e-6)
    assert.is_true(math.abs(itc.trials[1]:get(1, 1, 1, 2) - 1) < 1e-6)
  end)

  it("redefinetrial (1-based inclusive samples) then concat over trials gives the samples back", function()
    local d = build(3, 10, 2, function(k, s, c) return 100 * k + s + c / 10 end)
    local a = spy.redefinetrial(d, { begsample = 1, endsample = 4 })
    local b = spy.redefinetrial(d, { begsample = 5, endsample = 10 })
    assert.are.equal(4, a.trials[1].shape[1])
    assert.are.equal(-100 + 4, b.trialdefinition:get(1, 3)) -- samples keep their time
    local both = spy.concat(a, b, "trials")
    assert.are.equal(6, #both.trials)
    for k = 1, 3 do
      local orig = d.trials[k]
      assert.are.equal(0, (both.trials[k] - orig:slice { { 1, 4 }, ":" }):abs():max())
      assert.are.equal(0, (both.trials[k + 3] - orig:slice { { 5, 10 }, ":" }):abs():max())
      assert.are.equal(d.time[k]:get(5), both.time[k + 3]:get(1))
    end
  end)

  it("redefinetrial with trl, minlength and offset", function()
    local d = build(3, 10, 1, function(k, s) return 10 * k + s end)
    local r = spy.redefinetrial(d, { trl = { { 2, 5, 0 }, { 20, 30, -3 } } })
    assert.are.equal(2, #r.trials)
    assert.are.equal(13, r.trials[1]:get(1, 1))
    assert.are.equal(-3, r.trialdefinition:get(2, 3))
    local o = spy.redefinetrial(d, { offset = 0 })
    assert.are.equal(0, o.time[1]:get(1))
    local long = spy.redefinetrial(d, { minlength = 0.2 })
    assert.are.equal(0, #long.trials)
    local some = spy.redefinetrial(d, { trials = { 3, 1 }, begsample = 2, endsample = 3 })
    assert.are.equal(2, #some.trials)
    assert.are.equal(32, some.trials[1]:get(1, 1))
    assert.are.equal(13, some.trials[2]:get(2, 1))
  end)
end)

describe("elementwise maths on objects", function()
  it("10 * spec:log10() is decibels, same class and axes", function()
    local spec = spy.freqanalysis(input("stat_var_freq"), { method = "mtmfft", taper = "hann", output = "pow" })
    local db = 10 * spec:log10()
    assert.are.equal("SpectralData", db.dataclass)
    assert.are.same(spec.shape, db.shape)
    local p = spec.trials[1]:get(1, 1, 21, 2)
    assert.is_true(math.abs(db.trials[1]:get(1, 1, 21, 2) - 10 * math.log(p, 10)) < 1e-4)
    local s = spec:sqrt()
    assert.is_true(math.abs(s.trials[1]:get(1, 1, 21, 2) - math.sqrt(p)) < 1e-5 * math.sqrt(p))
  end)

  it("abs of a complex spectrum is real", function()
    local f = spy.freqanalysis(input("stat_itc"), { method = "mtmfft", taper = "hann", output = "fourier" })
    local a = f:abs()
    assert.are.equal("float32", a.dtype)
    local z = f.trials[2]:get(1, 1, 30, 3)
    assert.is_true(math.abs(a.trials[2]:get(1, 1, 30, 3) - spy.array({ z }):abs():get(1)) < 1e-4)
  end)
end)

describe("TimeLockData containers", function()
  it("keep avg, var and cov through spy.save and spy.load", function()
    local tl = spy.timelockanalysis(input("stat_timelock"), { covariance = true, latency = { -0.5, 0.2 } })
    assert.are.equal(701, tl.avg.shape[1])
    local dir = os.tmpname()
    os.remove(dir)
    spy.save(tl, { container = dir .. ".spy" })
    local back = spy.load(dir .. ".spy")
    for _, k in ipairs { "avg", "var", "cov" } do
      assert.are.equal(0, (back[k]:astype("float64") - tl[k]:astype("float64")):abs():max())
    end
    os.execute('rm -rf "' .. dir .. '.spy"')
  end)

  it("load when the .info describes var, as Syncopy writes it", function()
    local tl = spy.timelockanalysis(input("stat_timelock"), { latency = { 0, 0.099 } })
    local dir = os.tmpname()
    os.remove(dir)
    spy.save(tl, { container = dir .. ".spy" })
    local info = dir .. ".spy/" .. dir:match("[^/]+$") .. ".timelock.info"
    local f = io.open(info)
    local text = f:read("a")
    f:close()
    text = text:gsub('"data_shape": %[[^%]]*%]', '"data_shape": [100, 4]')
    f = io.open(info, "w")
    f:write(text)
    f:close()
    local back = spy.load(dir .. ".spy")
    assert.are.same({ 500, 4 }, back.shape)
    assert.are.equal(tl.trials[5]:get(100, 4), back.trials[5]:get(100, 4))
    os.execute('rm -rf "' .. dir .. '.spy"')
  end)

  it("keeptrials=true keeps one covariance per trial", function()
    local tl = spy.timelockanalysis(input("stat_timelock"), { covariance = true, keeptrials = true })
    assert.are.same({ 5, 4, 4 }, tl.cov.shape)
  end)
end)

describe("bad input", function()
  local function err(f, ...)
    local ok, e = pcall(f, ...)
    assert.is_false(ok)
    return tostring(e)
  end

  it("leaves no temporary files behind", function()
    local d = input("trials_redefinetrial")
    local function count()
      local n = 0
      local p = io.popen('ls "' .. spy.__storage__ .. '" 2>/dev/null')
      for _ in p:lines() do n = n + 1 end
      p:close()
      return n
    end
    collectgarbage()
    local before = count()
    err(spy.timelockanalysis, d, { covariance = true, keeptrials = true, latency = { 0, 0.001 }, ddof = 5 })
    err(spy.redefinetrial, d, { begsample = 1, endsample = 2001 })
    err(spy.concat, d, input("trials_concat", "input2"), { dim = "trials" })
    collectgarbage()
    collectgarbage()
    assert.are.equal(before, count())
  end)

  it("names the allowed dims", function()
    local d = build(2, 5, 1, function(k) return k end)
    assert.truthy(err(spy.mean, d, "freq"):find(
      "Invalid value of `dim`: 'freq'; expected one of ['time', 'channel'] or 'trials'", 1, true))
  end)

  it("refuses trials of unequal shapes over trials", function()
    local d = spy.AnalogData{ data = { spy.zeros({ 10, 2 }), spy.zeros({ 12, 2 }) }, samplerate = 10 }
    assert.truthy(err(spy.mean, d, "trials"):find(
      "Invalid value of `trials`: 'trial 2 has 12 samples, trial 1 has 10'; expected all trials to have the same shape", 1, true))
    assert.truthy(err(spy.median, d, "trials"):find("expected all trials to have the same shape", 1, true))
  end)

  it("refuses a real-valued spectrum for itc", function()
    local spec = spy.freqanalysis(input("stat_itc"), { method = "mtmfft", taper = "hann", output = "pow" })
    assert.truthy(err(spy.itc, spec):find(
      "expected complex valued spectra, set `output='fourier` in spy.freqanalysis!", 1, true))
  end)

  it("refuses windows outside the trials and conflicting trial keywords", function()
    local d = input("trials_redefinetrial")
    assert.truthy(err(spy.redefinetrial, d, { toilim = { 5, 6 } }):find("expected start of latency window < ", 1, true))
    assert.truthy(err(spy.timelockanalysis, d, { latency = { 5, 6 } }):find("expected start of latency window < ", 1, true))
    assert.truthy(err(spy.redefinetrial, d, { toilim = { 0, 0.1 }, minlength = 1 }):find(
      "Incompatible input arguments, either `minlength` or `begsample`/`endsample` or `trl` or `toilim`", 1, true))
    assert.truthy(err(spy.redefinetrial, d, { begsample = 1, endsample = 2001 }):find(
      "expected 1 <= begsample <= endsample <= 2000", 1, true))
    assert.truthy(err(spy.timelockanalysis, d, { trials = { 1 }, select = { trials = { 2 } } }):find(
      "expected either `trials != 'all'` or selection", 1, true))
    assert.truthy(err(spy.timelockanalysis, d, { ddof = -1 }):find("Invalid value of `ddof`", 1, true))
  end)
end)

describe("reductions over trials with NaNs", function()
  -- Sequentially the trials are added into the sums directly (op.fold),
  -- on workers each trial's block is summed: the same numbers either way.
  -- Channel 2 is NaN in trials 2 and 5, channel 3 at sample 7 in every trial.
  local function f(k, s, c)
    if (c == 2 and (k == 2 or k == 5)) or (c == 3 and s == 7) then return 0 / 0 end
    return math.sin(k * 1.7 + s * 0.31 + c) * (1 + k / 3)
  end
  local function same(a, b)
    for s = 1, a.shape[1] do
      for c = 1, a.shape[2] do
        local x, y = a:get(s, c), b:get(s, c)
        if not (x == y or (x ~= x and y ~= y)) then return false, s, c end
      end
    end
    return true
  end

  for _, dtype in ipairs { "float64", "float32" } do
  it("skip the NaNs (numpy's nanmean / nanvar) and agree bit for bit on workers (" .. dtype .. ")", function()
    local d = build(7, 40, 4, f, nil, dtype)
    local function stored(k, s, c) -- the values as stored
      local x = f(k, s, c)
      return dtype == "float32" and x == x and string.unpack("f", string.pack("f", x)) or x
    end
    local seq = { mean = spy.mean(d, "trials").trials[1], var = spy.var(d, "trials").trials[1],
                  std = spy.std(d, "trials").trials[1] }
    -- nanmean and nanvar of trials 1, 3, 4, 6, 7 at sample 11, channel 2
    local v, sum, sq = {}, 0, 0
    for _, k in ipairs { 1, 3, 4, 6, 7 } do v[#v + 1] = stored(k, 11, 2) end
    for _, x in ipairs(v) do sum = sum + x end
    local m = sum / #v
    for _, x in ipairs(v) do sq = sq + (x - m) ^ 2 end
    local tol = dtype == "float32" and 1e-6 or 1e-12 -- float32 data give float32 results
    assert.are.equal(dtype, seq.mean.dtype)
    assert.is_true(math.abs(seq.mean:get(11, 2) - m) < tol)
    assert.is_true(math.abs(seq.var:get(11, 2) - sq / #v) < tol)
    assert.is_true(math.abs(seq.std:get(11, 2) - math.sqrt(sq / #v)) < tol)
    local x = seq.mean:get(7, 3)
    assert.is_true(x ~= x, "sample 7 of channel 3 is NaN in every trial")
    local cluster = spy.LocalCluster{ n_workers = 2 }
    local client = spy.Client(cluster)
    for _, name in ipairs { "mean", "var", "std" } do
      local ok, s, c = same(spy[name](d, "trials").trials[1], seq[name])
      assert.is_true(ok, ("%s differs on workers at sample %s, channel %s"):format(name, s, c))
    end
    client:close()
    cluster:close()
  end)
  end
end)

describe("reductions over many trials on workers", function()
  -- more trials than the workers may hold at once, so trial buffers are
  -- reused once folded (and folded by whichever worker moves the frontier)
  for _, dtype in ipairs { "float64", "float32" } do
  it("equal the sequential sums bit for bit and the mean of first principles (" .. dtype .. ")", function()
    local n = 64
    local d = build(n, 30, 3, function(k, s, c) return k * 0.5 + s * 0.01 + c end, nil, dtype)
    local seq = { mean = spy.mean(d, "trials").trials[1], var = spy.var(d, "trials").trials[1] }
    -- mean over k of k/2 is (n+1)/4
    local want = (n + 1) / 4 + 12 * 0.01 + 2
    assert.is_true(math.abs(seq.mean:get(12, 2) - want) < (dtype == "float32" and 1e-4 or 1e-12))
    local cluster = spy.LocalCluster{ n_workers = 2 }
    local client = spy.Client(cluster)
    for _ = 1, 3 do
      assert.are.equal(0, (spy.mean(d, "trials").trials[1] - seq.mean):abs():max())
      assert.are.equal(0, (spy.var(d, "trials").trials[1] - seq.var):abs():max())
    end
    client:close()
    cluster:close()
  end)
  end
end)
