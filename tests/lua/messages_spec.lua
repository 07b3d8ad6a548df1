-- Messages in Lua words where the user wrote Lua (issue 19, item 4; see
-- docs/messages.md for what spy keeps of Syncopy's wording and what it
-- improves).  Each case is the text a user reads after a common slip.
local spy = require "spy"

local function errmsg(f, ...)
  local ok, e = pcall(f, ...)
  assert.is_false(ok)
  return tostring(e)
end

local function has(text, part)
  assert.is_truthy(text:find(part, 1, true), ("%q\nlacks\n%q"):format(text, part))
end

describe("messages", function()
  local w = spy.synthdata.white_noise{ nTrials = 2, nSamples = 200, nChannels = 3, samplerate = 100, seed = 3 }

  it("name Lua types and values, not Python's", function()
    local e = errmsg(spy.preprocessing, w, { freq = 10, order = 4, filter_class = "but", rectify = true, hilbert = "abs" })
    has(e, [[Invalid value of `rectify/hilbert`: 'rectify=true, hilbert="abs"']])
    e = errmsg(spy.preprocessing, w, { filter_type = "bs", freq = 10 })
    has(e, "expected array_like found integer")
    e = errmsg(spy.freqanalysis, w, { method = "welch", t_ftimwin = 0.5, toi = 0.5, keeptapers = true })
    has(e, "'true'; expected keeptapers=false with method='welch'")
    e = errmsg(spy.freqanalysis, w, { taper = "kaiser", taper_opt = { 1 } })
    assert.is_nil(e:find("NoneType", 1, true))
    assert.is_nil(e:find("True", 1, true))
  end)

  it("say that mtmconvol needs a window length and how to give it", function()
    local e = errmsg(spy.freqanalysis, w, { method = "mtmconvol" })
    has(e, "found nil (method='mtmconvol' needs a window length: give it in seconds, "
      .. [[e.g. {method="mtmconvol", t_ftimwin=0.5})]])
  end)

  it("call a nil argument nil and suspect a misspelt name", function()
    local e = errmsg(function() return spy.freqanalysis(datta) end) -- luacheck: ignore datta
    has(e, "expected Syncopy AnalogData object found nil (a misspelt variable name?")
    e = errmsg(function() return spy.freqanalysis(nil, { method = "mtmfft" }) end)
    has(e, "found nil (a misspelt variable name?")
    has(errmsg(spy.freqanalysis), "found nothing")
  end)

  it("list the channel names with the nearest one for a wrong name", function()
    local e = errmsg(spy.selectdata, w, { channel = { "chanel2" } })
    has(e, "expected list/array of channel existing names or indices; 'chanel2' is not a channel "
      .. "name (did you mean 'channel2'?); the names are 'channel1', 'channel2', 'channel3'")
    local many = spy.synthdata.white_noise{ nTrials = 1, nSamples = 50, nChannels = 12, seed = 1 }
    e = errmsg(spy.selectdata, many, { channel = { "xyz" } })
    has(e, "; the names are 'channel01'")
    has(e, ", ... (12 in all)")
    assert.is_nil(e:find("did you mean", 1, true)) -- nothing is near "xyz"
  end)

  it("give the trials' time range for a latency outside them", function()
    has(errmsg(spy.selectdata, w, { latency = { 5, 6 } }),
      "expected start of latency window < 0.99s (the trials span -1 s to 0.99 s)")
    has(errmsg(spy.selectdata, w, { latency = { -9, -8 } }),
      "expected end of latency window > -1s (the trials span -1 s to 0.99 s)")
  end)

  it("mention overwrite=true when a save would replace a file", function()
    local dir = os.tmpname()
    os.remove(dir)
    local path = dir .. ".spy"
    spy.save(w, path)
    has(errmsg(spy.save, w, path), "object already exists (overwrite=true replaces it)")
    spy.save(w, { container = path, overwrite = true })
    for f in io.popen("ls " .. path):lines() do os.remove(path .. "/" .. f) end
    os.remove(path)
  end)

  it("use the right article", function()
    local e = errmsg(function() w.foo = 1 end)
    has(e, "cannot set field 'foo' of an AnalogData")
  end)

  it("print WARNING once and spell Syncopy's resampledata warning right", function()
    local script, log = os.tmpname(), os.tmpname()
    local f = assert(io.open(script, "w"))
    f:write("local w = spy.synthdata.white_noise{nTrials=1, nSamples=200, nChannels=1, ",
      "samplerate=100, seed=1}\nspy.resampledata(w, {resamplefs=50, method='resample'})\n")
    f:close()
    assert.is_true(os.execute(("%q %q 2>%q"):format(assert(os.getenv("SPY_BIN")), script, log)))
    local text = assert(io.open(log)):read("a")
    os.remove(script)
    os.remove(log)
    has(text, "WARNING: Syncopy <resampledata>: New sampling rate is an integer division of the "
      .. "original sampling rate, consider using `method='downsample'`")
    local _, count = text:gsub("WARNING", "")
    assert.are.equal(1, count)
    assert.is_nil(text:find("integeger", 1, true))
  end)
end)
