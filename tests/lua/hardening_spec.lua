-- Issue #10 through the Lua surface: every case is a call an attacker or a
-- careless user made, and the message a user now gets (the fragment it must
-- hold).  None may crash, hang or compute.
local spy = require "spy"

describe("hostile keyword values", function()
  local w = spy.synthdata.white_noise{ nTrials = 2, nSamples = 200, nChannels = 2, seed = 1 }
  local sl = { method = "superlet", foi = { 10, 20 } }
  local function with(t, k, v) local c = {} for a, b in pairs(t) do c[a] = b end c[k] = v return c end
  local cases = {
    -- the critical one: integer overflow in the superlet plan (was an ASan heap overflow)
    { "order_max 2^62", function() return spy.freqanalysis(w, with(sl, "order_max", 2 ^ 62)) end,
      "Invalid value of `order_max`: '4.611686018427388e+18'; expected value to be greater or equals 1 and less or equals 100" },
    { "order_max 1e308", function() return spy.freqanalysis(w, with(sl, "order_max", 1e308)) end, "less or equals 100" },
    { "order_max maxinteger", function() return spy.freqanalysis(w, with(sl, "order_max", math.maxinteger)) end, "less or equals 100" },
    { "order_max 1e6", function() return spy.freqanalysis(w, with(sl, "order_max", 1e6)) end, "less or equals 100" },
    { "c_1 huge", function() return spy.freqanalysis(w, with(with(sl, "order_max", 3), "c_1", 2 ^ 40)) end, "Invalid value of `c_1`" },
    -- pad: undefined conversion, an upper bound of inf, a 30 s out-of-memory
    { "pad 1e308", function() return spy.freqanalysis(w, { pad = 1e308 }) end, "Invalid value of `pad`: '1e+308'; expected value to be less or equals 1e+15" },
    { "pad inf", function() return spy.freqanalysis(w, { pad = 1 / 0 }) end, "Invalid value of `pad`: 'inf'; expected value to be less or equals 1e+15" },
    { "pad 1e6", function() return spy.freqanalysis(w, { pad = 1e6 }) end, "less or equals 33554.432" },
    { "pad NaN", function() return spy.freqanalysis(w, { pad = 0 / 0 }) end, "Invalid value of `pad`: 'nan'; expected a finite number" },
    { "FIR order 1e12", function() return spy.preprocessing(w, { filter_class = "firws", freq = 20, order = 1e12 }) end, "less or equals 16777216" },
    { "resample order 1e12", function() return spy.resampledata(w, { resamplefs = 100, order = 1e12 }) end, "less or equals 16777216" },
    { "wavelet order 1e9", function() return spy.freqanalysis(w, { method = "wavelet", wavelet = "Paul", order = 1e9 }) end, "less or equals 50" },
    { "workers 2^40", function() return spy.LocalCluster{ n_workers = 2 ^ 40 } end, "Invalid value of `n_workers`" },
    { "negative memory", function() return spy.LocalCluster{ n_workers = 1, memory_limit = -1 } end, "Invalid value of `memory_limit`: '-1'" },
    -- values of the wrong kind name the keyword and what they are
    { "samplerate array", function() return spy.synthdata.white_noise{ samplerate = spy.array{ 1, 2 } } end, "Wrong type of `samplerate`: expected number found array" },
    { "samplerate data", function() return spy.synthdata.white_noise{ samplerate = w } end, "Wrong type of `samplerate`: expected number found AnalogData" },
    { "data inside a list", function() return spy.freqanalysis(w, { foi = w }) end, "Wrong type of `foi`" },
    { "keyless selectdata", function() return spy.selectdata(w, { 1, 2 }) end, "expected dictionary-like table found list (keywords are named: {trials = ...})" },
  }
  for _, c in ipairs(cases) do
    it(c[1], function()
      local ok, err = pcall(c[2])
      assert.is_false(ok)
      assert.truthy(tostring(err):find(c[3], 1, true), ("message %q lacks %q"):format(tostring(err), c[3]))
    end)
  end

  it("refuses a stored cfg that carries the overflow (replay)", function()
    local res = spy.freqanalysis(w, with(sl, "order_max", 2))
    local cfg = res.cfg
    cfg.freqanalysis.order_max = 2 ^ 62
    local ok, err = pcall(spy.freqanalysis, w, cfg)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("`order_max`", 1, true), tostring(err))
  end)
end)

describe("container names", function()
  local w = spy.synthdata.white_noise{ nTrials = 2, nSamples = 50, nChannels = 2, seed = 1 }
  local dir = os.tmpname()
  os.remove(dir)
  os.execute("mkdir -p " .. dir .. "/a/b")
  local function entries(d)
    local p = io.popen("ls -A " .. d)
    local s = p:read("a")
    p:close()
    return s
  end

  it("refuses tags that leave the container, before touching the disk", function()
    local before_a, before_b = entries(dir .. "/a"), entries(dir .. "/a/b")
    for _, tag in ipairs{ "/../../c", "../c", "a/b", "x\ny", "*", "a?b", "t.x", "" } do
      local ok, err = pcall(spy.save, w, dir .. "/a/b/c.spy", { tag = tag })
      assert.is_false(ok)
      assert.truthy(tostring(err):find("Invalid value of `tag`", 1, true), tostring(err))
    end
    assert.are.equal(before_a, entries(dir .. "/a"))
    assert.are.equal(before_b, entries(dir .. "/a/b"))
  end)

  it("keeps good tags working", function()
    spy.save(w, dir .. "/a/b/c.spy", { tag = "run_1-a" })
    local back = spy.load(dir .. "/a/b/c.spy", { tag = "run_1" })
    assert.are.equal(2, #back.trials)
    os.execute("rm -rf " .. dir)
  end)
end)
