-- Data objects: constructors, fields, trials read from disk, selections,
-- arithmetic, copy, definetrial, temporary storage.
local spy = require "spy"

local function tmpfiles()
  local n = 0
  local p = io.popen('ls "' .. spy.__storage__ .. '" 2>/dev/null')
  for _ in p:lines() do n = n + 1 end
  p:close()
  return n
end

-- 3 trials x 100 samples x 2 channels, x[n][c] = trial*1000 + n + c/10
local function trials3()
  local list = {}
  for k = 1, 3 do
    local t = {}
    for n = 1, 100 do t[n] = { k * 1000 + n, k * 1000 + n + 0.1 } end
    list[k] = spy.array(t, "float32")
  end
  return list
end

describe("AnalogData", function()
  it("builds from a list of trials starting at -1 s, as Syncopy", function()
    local a = spy.AnalogData{ data = trials3(), samplerate = 100 }
    assert.are.equal(3, #a.trials)
    assert.are.same({ 300, 2 }, a.shape)
    assert.are.equal("float32", a.dtype)
    assert.are.same({ "channel1", "channel2" }, a.channel)
    assert.are.same({ "time", "channel" }, a.dimord)
    local trl = a.trialdefinition
    assert.are.equal(100, trl:get(2, 1))
    assert.are.equal(200, trl:get(2, 2))
    assert.are.equal(-100, trl:get(2, 3))
    assert.are.equal(-1, a.time[1]:get(1))
    assert.are.equal(2001, a.trials[2]:get(1, 1))
    assert.is_true(math.abs(a.trials[3]:get(100, 2) - 3100.1) < 1e-3)
    assert.has_error(function() return a.trials[4] end,
      "trial 4 does not exist: the object has 3 trials, 1 to 3")
    local n = 0
    for _ in ipairs(a.trials) do n = n + 1 end
    assert.are.equal(3, n) -- ipairs still ends at the last trial
    assert.is_true(a.is_time_locked)
    assert.are.equal("r+", a.mode)
  end)

  it("takes one array with a trial definition and validates it", function()
    local x = spy.zeros{ 1000, 3 }
    local a = spy.AnalogData{ data = x, samplerate = 500,
                              trialdefinition = { { 0, 500, -250 }, { 500, 1000, -250 } } }
    assert.are.equal(2, #a.trials)
    assert.are.equal(-0.5, a.time[2]:get(1))
    assert.has_error(function()
      spy.AnalogData{ data = x, samplerate = 500, trialdefinition = { { 0, 1500, 0 } } }
    end)
  end)

  it("rejects unknown keywords with a suggestion", function()
    local ok, err = pcall(spy.AnalogData, { data = spy.zeros{ 10, 1 }, samplerat = 10 })
    assert.is_false(ok)
    assert.truthy(err:find("unknown keyword `samplerat`", 1, true))
    assert.truthy(err:find("did you mean `samplerate`", 1, true))
  end)

  it("checks channel labels like Syncopy", function()
    local a = spy.AnalogData{ data = trials3(), samplerate = 100 }
    a.channel = { "a", "b" }
    assert.are.same({ "a", "b" }, a.channel)
    local ok, err = pcall(function() a.channel = { "a" } end)
    assert.is_false(ok)
    assert.truthy(err:find("Invalid value of `channel`: 'shape = (1,)'; expected array of shape (2,)", 1, true))
  end)

  it("prints a Syncopy-style summary", function()
    local s = tostring(spy.AnalogData{ data = trials3(), samplerate = 100 })
    assert.truthy(s:find("spy AnalogData object with fields", 1, true))
    assert.truthy(s:find("data : 3 trials of length 100.0 defined on [300 x 2] float32 Dataset of size", 1, true))
    assert.truthy(s:find("dimord : time by channel", 1, true))
    assert.truthy(s:find("samplerate : 100", 1, true))
  end)
end)

describe("selections", function()
  local a = spy.AnalogData{ data = trials3(), samplerate = 100 }

  it("selectdata copies trials, channels and latency", function()
    local s = spy.selectdata(a, { trials = { 3, 1 }, channel = { "channel2" }, latency = { -0.5, -0.1 } })
    assert.are.equal(2, #s.trials)
    assert.are.same({ "channel2" }, s.channel)
    assert.are.same({ 41, 1 }, s.trials[1].shape)
    -- trial 3, sample at t = -0.5 is n = 51 (1-based)
    assert.is_true(math.abs(s.trials[1]:get(1, 1) - 3051.1) < 1e-3)
    assert.are.equal(-0.5, s.time[1]:get(1))
    assert.is_true(math.abs(s.time[1]:get(41) + 0.1) < 1e-12)
    assert.is_true(math.abs(s.trials[2]:get(1, 1) - 1051.1) < 1e-3)
  end)

  it("uses Syncopy's messages", function()
    local ok, err = pcall(spy.selectdata, a, { trials = { 5 } })
    assert.truthy(err:find("Invalid value of `trials`", 1, true))
    assert.truthy(err:find("b/w 1 and 3", 1, true))
    ok, err = pcall(spy.selectdata, a, { channel = { "nope" } })
    assert.truthy(err:find("expected list/array of channel existing names or indices", 1, true))
    ok, err = pcall(spy.selectdata, a, { latency = { 2, 3 } })
    assert.truthy(err:find("start of latency window", 1, true))
    ok, err = pcall(spy.selectdata, a, { frequency = { 1, 2 } })
    assert.truthy(err:find("unknown keyword", 1, true) or err:find("no `frequency` selection available", 1, true))
  end)

  it("show reads a selection into memory", function()
    local x = spy.show(a, { trials = 2, channel = 1 })
    assert.are.same({ 100 }, x.shape)
    assert.are.equal(2001, x:get(1))
    local xs = spy.show(a, { trials = { 1, 2 } })
    assert.are.equal(2, #xs)
  end)
end)

describe("arithmetic", function()
  it("adds objects and scalars trial by trial", function()
    local a = spy.AnalogData{ data = trials3(), samplerate = 100 }
    local b = a + a
    assert.is_true(math.abs(b.trials[2]:get(1, 1) - 4002) < 1e-3)
    local c = (a * 2 - a) / 2
    assert.is_true(math.abs(c.trials[3]:get(10, 2) - 3010.1 / 2) < 1e-2)
    local d = 1 - a
    assert.is_true(math.abs(d.trials[1]:get(1, 1) - (1 - 1001)) < 1e-3)
    assert.has_error(function() return a / 0 end)
  end)
end)

describe("copy and definetrial", function()
  it("copy owns a new file; definetrial redefines in place", function()
    local a = spy.AnalogData{ data = trials3(), samplerate = 100 }
    local b = spy.copy(a)
    assert.are_not.equal(a.filename, b.filename)
    assert.are.equal(a.trials[2]:get(5, 2), b.trials[2]:get(5, 2))
    spy.definetrial(b, { { 0, 150, 0 }, { 150, 300, -50 } })
    assert.are.equal(2, #b.trials)
    assert.are.same({ 150, 2 }, b.trials[1].shape)
    assert.are.equal(3, #a.trials)
    spy.definetrial(b)
    assert.are.equal(1, #b.trials)
  end)

  it("removes temporary files when objects are collected", function()
    collectgarbage(); collectgarbage()
    local before = tmpfiles()
    do
      local a = spy.AnalogData{ data = trials3(), samplerate = 100 }
      assert.are.equal(before + 1, tmpfiles())
    end
    collectgarbage(); collectgarbage()
    assert.are.equal(before, tmpfiles())
  end)
end)

describe("synthdata", function()
  it("white_noise: float32 trials starting at -1 s, seeded", function()
    local w = spy.synthdata.white_noise{ nTrials = 4, nSamples = 200, nChannels = 3, seed = 42 }
    assert.are.equal(4, #w.trials)
    assert.are.equal("float32", w.dtype)
    assert.are.equal(-1, w.time[1]:get(1))
    local w2 = spy.synthdata.white_noise{ nTrials = 4, nSamples = 200, nChannels = 3, seed = 42 }
    assert.are.equal(w.trials[3]:get(7, 2), w2.trials[3]:get(7, 2))
    local x = spy.synthdata.white_noise{ nTrials = spy.null, nSamples = 50, seed = 1 }
    assert.are.same({ 50, 2 }, x.shape)
  end)

  it("generators compose by addition", function()
    local h = spy.synthdata.harmonic{ freq = 10, nTrials = 2, nSamples = 1000 }
    local n = spy.synthdata.white_noise{ nTrials = 2, nSamples = 1000, seed = 3 }
    local s = h + n * 0.1
    assert.are.equal(2, #s.trials)
    assert.is_true(math.abs(s.trials[1]:get(1, 1) - (1 + 0.1 * n.trials[1]:get(1, 1))) < 1e-5)
  end)

  it("ar2_peak_freq and mk_RandomAdjMat", function()
    assert.is_true(math.abs(spy.synthdata.ar2_peak_freq(0.55, -0.8, 200) - 39.988) < 0.01)
    local A = spy.synthdata.mk_RandomAdjMat{ nChannels = 4, seed = 1 }
    assert.are.same({ 4, 4 }, A.shape)
  end)
end)

describe("clusters", function()
  it("LocalCluster and Client print like dask and are used by computations", function()
    local cluster = spy.LocalCluster{ n_workers = 2 }
    local client = spy.Client(cluster)
    assert.truthy(tostring(client):match("^<Client: 'local://spy' workers=2 threads=2, memory=[%d.]+ [GMk]iB>$"))
    assert.are.equal(client, spy.get_client())
    local w = spy.synthdata.white_noise{ nTrials = 6, nSamples = 100, nChannels = 2, seed = 5 }
    local w0 = spy.synthdata.white_noise{ nTrials = 6, nSamples = 100, nChannels = 2, seed = 5, parallel = false }
    assert.are.equal(w.trials[6]:get(100, 2), w0.trials[6]:get(100, 2))
    client:close()
    cluster:close()
    assert.has_error(function() spy.get_client() end)
  end)
end)
