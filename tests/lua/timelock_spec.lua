-- TimeLockData: the class (Syncopy's .timelock), its summary, selection,
-- arithmetic and .spy containers both ways.
local spy = require "spy"

local function trials(n, len, nch, f)
  local list = {}
  for k = 1, n do
    local t = {}
    for s = 1, len do
      local row = {}
      for c = 1, nch do row[c] = f(k, s, c) end
      t[s] = row
    end
    list[k] = spy.array(t, "float32")
  end
  return list
end

local function tmpdir()
  local p = os.tmpname()
  os.remove(p)
  os.execute('mkdir -p "' .. p .. '"')
  return p
end

describe("TimeLockData", function()
  it("is built like AnalogData and prints avg, cov and var", function()
    local tl = spy.TimeLockData{ data = trials(3, 10, 2, function(k, s, c) return k + s + c end),
                                 samplerate = 10 }
    assert.are.equal("TimeLockData", tl.dataclass)
    assert.are.same({ "time", "channel" }, tl.dimord)
    assert.are.same({ 30, 2 }, tl.shape)
    assert.is_nil(tl.avg)
    local s = tostring(tl)
    assert.truthy(s:find("spy TimeLockData object with fields", 1, true))
    assert.truthy(s:find("\n                avg : nil\n", 1, true))
    assert.truthy(s:find("\n                cov : nil\n", 1, true))
    assert.truthy(s:find("\n                var : nil\n", 1, true))
    assert.truthy(s:find("is_time_locked : true", 1, true))
  end)

  it("refuses trials of unequal lengths, as Syncopy", function()
    local ok, err = pcall(spy.TimeLockData, { data = spy.zeros({ 30, 2 }), samplerate = 10,
                                             trialdefinition = { { 0, 10, 0 }, { 10, 30, 0 } } })
    assert.is_false(ok)
    assert.truthy(tostring(err):find("expected trialdefinition with equally sized trials and common offsets", 1, true))
  end)

  it("keeps its trials time-locked in definetrial", function()
    local tl = spy.TimeLockData{ data = trials(2, 10, 1, function(k, s) return k + s end), samplerate = 10 }
    local ok, err = pcall(spy.definetrial, tl, { { 0, 10, 0 }, { 10, 15, 0 } })
    assert.is_false(ok)
    assert.truthy(tostring(err):find("equally sized trials and common offsets", 1, true))
    spy.definetrial(tl, { { 0, 5, -1 }, { 10, 15, -1 } })
    assert.are.equal(2, #tl.trials)
  end)

  it("selects channels and trials and keeps its class", function()
    local tl = spy.TimeLockData{ data = trials(3, 10, 2, function(k, s, c) return 100 * k + s + c / 10 end),
                                 samplerate = 10, channel = { "a", "b" } }
    local sel = spy.selectdata(tl, { trials = { 3, 1 }, channel = { "b" } })
    assert.are.equal("TimeLockData", sel.dataclass)
    assert.are.same({ "b" }, sel.channel)
    assert.are.equal(2, #sel.trials)
    assert.is_true(math.abs(sel.trials[1]:get(1, 1) - 301.2) < 1e-4)
  end)

  it("averages over trials into a TimeLockData", function()
    local tl = spy.TimeLockData{ data = trials(4, 5, 2, function(k, s, c) return k * s + c end), samplerate = 5 }
    local m = spy.mean(tl, "trials")
    assert.are.equal("TimeLockData", m.dataclass)
    assert.are.equal(2.5 * 5 + 2, m.trials[1]:get(5, 2))
  end)

  it("does arithmetic trial by trial", function()
    local tl = spy.TimeLockData{ data = trials(2, 5, 2, function(k, s, c) return k * s * c end), samplerate = 5 }
    local r = 2 * tl + tl
    assert.are.equal("TimeLockData", r.dataclass)
    assert.are.equal(3 * 2 * 5 * 2, r.trials[2]:get(5, 2))
  end)

  it("saves to and loads from a .spy container with the .timelock extension", function()
    local tl = spy.TimeLockData{ data = trials(2, 5, 3, function(k, s, c) return k - s * c end), samplerate = 5 }
    local dir = tmpdir()
    spy.save(tl, { container = dir .. "/tl.spy" })
    local f = io.open(dir .. "/tl.spy/tl.timelock.info")
    local info = f:read("a")
    f:close()
    assert.truthy(info:find('"dataclass": "TimeLockData"', 1, true))
    local flat = info:gsub("%s+", "")
    assert.truthy(flat:find('"_hdfFileDatasetProperties":["data","avg","var","cov"]', 1, true))
    local back = spy.load(dir .. "/tl.spy")
    assert.are.equal("TimeLockData", back.dataclass)
    assert.are.equal(tl.trials[2]:get(4, 3), back.trials[2]:get(4, 3))
    os.execute('rm -rf "' .. dir .. '"')
  end)
end)
