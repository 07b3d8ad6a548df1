-- The outside review of the second wave (docs/internals/audit-wave2.md):
-- each case is a call that crashed, hung, leaked, lost a file or printed a
-- library's raw error before its fix, and what the user gets now.  Runs
-- under ASan/UBSan: a leak or undefined behaviour fails it; a hang fails it
-- through ctest's timeout.
local spy = require "spy"
local H = require "formats_helpers"
local scratch, write = H.scratch, H.write

local function errmsg(f, ...)
  local ok, e = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  return tostring(e)
end

local function has(msg, frag) assert.truthy(msg:find(frag, 1, true), ("%q lacks %q"):format(msg, frag)) end

describe("connectivityanalysis granger from Fourier spectra", function()
  it("carries Syncopy's info (converged, errors) as from AnalogData", function()
    local w = spy.synthdata.white_noise{ nTrials = 3, nSamples = 200, nChannels = 2, samplerate = 100, seed = 1 }
    local f = spy.freqanalysis(w, { method = "mtmfft", output = "fourier", taper = "hann", keeptrials = true })
    local g = spy.connectivityanalysis(f, { method = "granger" })
    assert.is_boolean(g.info.converged)
    assert.is_number(g.info["max rel. err"])
    assert.is_number(g.info["reg. factor"])
    assert.is_true(g.info["initial cond. num"] > 0)
  end)
end)

describe("spike_psth", function()
  local s = spy.synthdata.poisson_noise{ nTrials = 2, nSpikes = 200, nChannels = 2, nUnits = 2, samplerate = 1000, seed = 2 }
  it("refuses a binsize that makes more bins than memory holds", function()
    local e = errmsg(spy.spike_psth, s, { binsize = 1e-12 })
    has(e, "Invalid value of `binsize`: '1e-12'; expected value to be greater or equals ")
    -- the smallest allowed width works
    local lo = tonumber(e:match("greater or equals ([^ ]+) and"))
    assert.is_true(lo > 0 and lo < 1e-6)
    has(errmsg(spy.spike_psth, s, { binsize = 0 }), "Invalid value of `binsize`: '0'; expected value to be greater than 0")
  end)
  it("refuses binsize='sqrt' of trials so long it makes billions of bins", function()
    local long = spy.SpikeData{ data = spy.array{ { 0, 0, 0 }, { 4e18, 0, 0 } }, samplerate = 1000 }
    has(errmsg(spy.spike_psth, long, { binsize = "sqrt" }),
      "Invalid value of `binsize`: 'sqrt'; expected at most 16777216 bins (2000000000 edges")
    assert.is_true(#spy.spike_psth(long, { binsize = "rice" }).time[1] > 1000)
  end)
  it("refuses an empty latency window (its bins would have width 0)", function()
    has(errmsg(spy.spike_psth, s, { latency = { 0.1, 0.1 } }),
      "Invalid value of `latency`: 'start=0.1, end=0.1'; expected start < end latency window")
  end)
end)

describe("plots of data holding NaN and infinities", function()
  spy.set_plot{ terminal = "text", color = false }
  it("draws a shifted analog panel with an infinite sample", function()
    local a = spy.zeros{ 200, 2 }
    a:set(1, 1, 1 / 0)
    local d = spy.AnalogData{ data = a, samplerate = 100 }
    local t = spy.singlepanelplot(d, { trials = 1 }):text()
    has(t, "channel2")
  end)
  it("draws a panel whose every value is NaN (a spectrum of data with a NaN)", function()
    local a = spy.zeros{ 200, 2 }
    a:set(5, 1, 0 / 0)
    local d = spy.AnalogData{ data = a, samplerate = 100 }
    local spec = spy.freqanalysis(d, {})
    assert.is_true(#spy.singlepanelplot(spec, {}):text() > 0)
    assert.is_true(#spy.multipanelplot(spec, {}):text() > 0)
  end)
end)

describe("loaders given a directory or a FIFO", function()
  local dir = scratch()
  os.execute("mkdir " .. dir .. "/d.edf && mkfifo " .. dir .. "/f.edf")
  local loaders = {
    { "load_edf", spy.load_edf }, { "load_brainvision", spy.load_brainvision }, { "loadnpy", spy.loadnpy },
    { "load_ft_raw", spy.load_ft_raw }, { "load_nwb", spy.load_nwb },
  }
  for _, l in ipairs(loaders) do
    it(l[1] .. " names the problem instead of blocking", function()
      has(errmsg(l[2], dir .. "/d.edf"), "'" .. dir .. "/d.edf' is a directory; expected a file")
      has(errmsg(l[2], dir .. "/f.edf"),
        "'" .. dir .. "/f.edf' is not a regular file (a FIFO, socket or device); expected a file")
    end)
  end
  it("load_brainvision refuses a SamplingInterval giving a rate beyond 1e15 Hz", function()
    write(dir .. "/x.eeg", string.rep("\0", 20))
    write(dir .. "/fast.vhdr", table.concat({ "Brain Vision Data Exchange Header File Version 1.0", "[Common Infos]",
      "DataFile=x.eeg", "DataFormat=BINARY", "DataOrientation=MULTIPLEXED", "NumberOfChannels=1",
      "SamplingInterval=1e-300", "[Binary Infos]", "BinaryFormat=INT_16", "[Channel Infos]", "Ch1=Cz,,1,uV", "" }, "\r\n"))
    has(errmsg(spy.load_brainvision, dir .. "/fast.vhdr"),
      "fast.vhdr': SamplingInterval=1e-300 gives a sample rate above 1e+15 Hz (microseconds are expected)")
  end)
  it("load_brainvision with a data file that is a FIFO", function()
    write(dir .. "/r.vhdr", table.concat({ "Brain Vision Data Exchange Header File Version 1.0", "[Common Infos]",
      "DataFile=f.edf", "DataFormat=BINARY", "DataOrientation=MULTIPLEXED", "NumberOfChannels=1",
      "SamplingInterval=2000", "[Binary Infos]", "BinaryFormat=INT_16", "[Channel Infos]", "Ch1=Cz,,1,uV", "" }, "\r\n"))
    has(errmsg(spy.load_brainvision, dir .. "/r.vhdr"), "f.edf' is not a regular file")
  end)
end)

describe("load_tdt", function()
  local function rec(type, code, ts, val, fs)
    return string.pack("<I4I4c4I2I2ddI4f", 40, type, code, 1, 0, ts, val, 0, fs or 0)
  end
  local function block(dir, fs)
    local r = { string.rep("\0", 40), rec(0x8801, string.pack("<I4", 1), 1700000000, 0) }
    r[#r + 1] = rec(0x8101, "LFPs", 1700000000, 0, fs or 1000)
    r[#r + 1] = rec(0x8801, string.pack("<I4", 2), 1700000001, 0)
    write(dir .. "/B.tsq", table.concat(r))
    for c = 1, 2 do
      local s = { string.rep("\0", 40) }
      for i = 0, 99 do s[#s + 1] = string.pack("<f", i + c) end
      write(dir .. "/B_LFPs_Ch" .. c .. ".sev", table.concat(s))
    end
  end
  it("reads a block without photodiode (PDio) events", function()
    local dir = scratch()
    block(dir)
    local d = spy.load_tdt(dir)
    assert.equal(100, d.trials[1].shape[1])
    assert.equal(2, d.trials[1]:get(1, 2))
  end)
  it("refuses a sample rate no recording has", function()
    local dir = scratch()
    block(dir, 3e38)
    has(errmsg(spy.load_tdt, dir), "B.tsq': the sample rate 3e+38 Hz of the LFPs/LFP1 store is not one a recording has")
  end)
  it("refuses a channel file that is a FIFO", function()
    local dir = scratch()
    block(dir)
    os.remove(dir .. "/B_LFPs_Ch2.sev")
    os.execute("mkfifo " .. dir .. "/B_LFPs_Ch2.sev")
    has(errmsg(spy.load_tdt, dir), "B_LFPs_Ch2.sev' is not a regular file")
  end)
end)

describe("writers never replace the file of a live object", function()
  it("savenpy, savetxt, savemat, h5write and save_nwb refuse it; the object still reads", function()
    local w = spy.synthdata.white_noise{ nTrials = 2, nSamples = 50, nChannels = 2, samplerate = 100, seed = 1 }
    local before = w.trials[1]:sum()
    local p = w.filename
    local frag = "Cannot write '" .. p .. "': it is the file of a data object of this session"
    has(errmsg(spy.savenpy, p, w), frag)
    has(errmsg(spy.savetxt, p, spy.zeros{ 2 }), frag)
    has(errmsg(spy.savemat, p, { a = spy.zeros{ 2 } }), frag)
    has(errmsg(spy.h5write, p, "x", spy.zeros{ 2 }), frag)
    has(errmsg(function() return w:save_nwb(p) end), frag)
    assert.equal(before, w.trials[1]:sum())
    -- a loaded .npy is an array in memory: overwriting its file is fine
    local dir = scratch()
    spy.savenpy(dir .. "/a.npy", spy.zeros{ 3 })
    local a = spy.loadnpy(dir .. "/a.npy")
    spy.savenpy(dir .. "/a.npy", a + 1)
    assert.equal(3, spy.loadnpy(dir .. "/a.npy"):sum())
  end)
end)

describe("savetxt", function()
  it("writes NaN as numpy.savetxt does ('nan', never '-nan')", function()
    local dir = scratch()
    local a = spy.zeros{ 3 }
    a:set(1, 0 / 0)
    a:set(2, -(0 / 0))
    a:set(3, -1 / 0)
    spy.savetxt(dir .. "/n.txt", a, { fmt = "%g" })
    local f = assert(io.open(dir .. "/n.txt"))
    assert.equal("nan\nnan\n-inf\n", f:read("a"))
    f:close()
  end)
end)

describe("help of definetrial", function()
  it("lists the options the call reads", function()
    local names = {}
    for _, k in ipairs(spy._spec("definetrial").kw) do names[#names + 1] = k.name end
    assert.same({ "trialdefinition", "pre", "post", "start", "trigger", "stop", "clip_edges" }, names)
    -- and the call refuses any other
    local d = spy.synthdata.white_noise{ nTrials = 1, nSamples = 100, nChannels = 1, seed = 1 }
    local ev = spy.EventData{ data = spy.array{ { 10, 1 } }, samplerate = 1000 }
    has(errmsg(spy.definetrial, d, ev, { trigr = 1 }), "unknown keyword 'trigr' for definetrial")
  end)
end)

describe("Figure:save sizes", function()
  it("names the limit instead of cairo's error", function()
    local w = spy.synthdata.white_noise{ nTrials = 1, nSamples = 100, nChannels = 2, samplerate = 100, seed = 1 }
    local fig = spy.singlepanelplot(w)
    local dir = scratch()
    has(errmsg(fig.save, fig, dir .. "/a.png", { width = 1e6 }),
      "Invalid value of `width`/`height`/`dpi`: '1e+06 x 4.2 in at 100 dpi'; expected at most 20000 pixels per side")
    has(errmsg(fig.save, fig, dir .. "/a.svg", { dpi = 1e7 }), "expected at most 20000 pixels per side")
    has(errmsg(fig.save, fig, dir .. "/a.pdf", { width = 1e9 }), "expected at most 200 inches per side (a PDF page)")
    assert.equal(dir .. "/a.png", fig:save(dir .. "/a.png", { width = 8, dpi = 200 }))
  end)
end)

describe("messages", function()
  it("a failed FOOOF fit names its trial once", function()
    local w = spy.synthdata.white_noise{ nTrials = 3, nSamples = 200, nChannels = 2, samplerate = 100, seed = 1 }
    local e = errmsg(spy.freqanalysis, w, { method = "mtmfft", output = "fooof", foilim = { 5, 6 } })
    has(e, "fooof failed in trial ")
    assert.is_nil(e:find("%) in trial"), e)
  end)
  it("selectdata of SpikeData names the selector, the value and the labels", function()
    local s = spy.synthdata.poisson_noise{ nTrials = 2, nSpikes = 100, nChannels = 2, nUnits = 2, samplerate = 1000, seed = 2 }
    has(errmsg(spy.selectdata, s, { channel = { "nope" } }),
      "Invalid value of `channel`: 'nope'; expected list/array of channel existing names or indices (1..2); the names are 'channel1', 'channel2'")
  end)
end)

describe("concat", function()
  it("names obj1 when its class cannot be concatenated", function()
    local w = spy.synthdata.white_noise{ nTrials = 2, nSamples = 100, nChannels = 2, samplerate = 100, seed = 1 }
    local p = spy.freqanalysis(w, {})
    local c = spy.connectivityanalysis(w, { method = "csd" })
    has(errmsg(spy.concat, c, c),
      "Wrong type of `obj1`: expected AnalogData, TimeLockData or SpectralData (continuous data with a `channel` axis) found CrossSpectralData")
    has(errmsg(spy.concat, w, p),
      "Wrong type of `obj2`: expected continuous data of the class of `obj1` (AnalogData) found SpectralData")
  end)
end)

describe("mean/var/std/median", function()
  it("refuse SpikeData and EventData by class (their trials are not samples)", function()
    local s = spy.synthdata.poisson_noise{ nTrials = 2, nSpikes = 100, nChannels = 2, nUnits = 2, samplerate = 1000, seed = 2 }
    local ev = spy.EventData{ data = spy.array{ { 10, 1 }, { 50, 2 } }, samplerate = 100 }
    for _, f in ipairs{ "mean", "var", "std", "median" } do
      for _, dim in ipairs{ "trials", "time", "channel" } do
        has(errmsg(spy[f], s, dim),
          "Wrong type of `data`: expected AnalogData, SpectralData, CrossSpectralData or TimeLockData found SpikeData")
        has(errmsg(spy[f], ev, dim), "found EventData")
      end
    end
  end)
end)

describe("connectivityanalysis channelcmb", function()
  it("names the side that is empty", function()
    local w = spy.synthdata.white_noise{ nTrials = 3, nSamples = 200, nChannels = 3, samplerate = 100, seed = 1 }
    local f = spy.freqanalysis(w, { method = "mtmfft", output = "fourier", taper = "hann", keeptrials = true })
    has(errmsg(spy.connectivityanalysis, f, { method = "coh", channelcmb = { {}, { 1 } } }),
      "Invalid value of `channelcmb[1] (senders)`: '[]'; expected non-empty list of channel names or indices")
    has(errmsg(spy.connectivityanalysis, f, { method = "coh", channelcmb = { { 1 }, {} } }),
      "`channelcmb[2] (receivers)`")
  end)
end)

describe("results larger than the machine's memory", function()
  -- 400000 channels of 2 samples: a small input (13 MB) whose channel x
  -- channel results need more than a TB; refused before any output exists
  local wide = spy.AnalogData{ data = spy.zeros{ 4, 400000 }, samplerate = 100, trialdefinition = { { 0, 2, 0 }, { 2, 4, 0 } } }
  local function files()
    local n = 0
    for f in io.popen('ls "' .. spy.__storage__ .. '"'):lines() do
      if f:find("spy_" .. spy.__sessionid__, 1, true) then n = n + 1 end
    end
    return n
  end
  it("are refused by name, not by an allocation that aborts", function()
    collectgarbage()
    local before = files()
    has(errmsg(spy.timelockanalysis, wide, { covariance = true }),
      "timelockanalysis: the trial average needs 1280.0 GB in memory, more than this machine has")
    has(errmsg(spy.connectivityanalysis, wide, { method = "coh" }), "coh: the trial average needs ")
    has(errmsg(spy.connectivityanalysis, wide, { method = "csd", keeptrials = true }), "csd: one trial needs ")
    local f = spy.freqanalysis(wide, { output = "fourier", keeptrials = true })
    has(errmsg(spy.connectivityanalysis, f, { method = "coh" }), "connectivityanalysis needs ")
    f = nil
    collectgarbage()
    assert.equal(before, files())
    has(errmsg(spy.synthdata.poisson_noise, { nSpikes = 1e12 }),
      "Invalid value of `nSpikes`: expected at most ")
  end)
end)

describe("spy.pretty", function()
  it("names a second argument that is not an option table (a call returning two values)", function()
    has(errmsg(spy.pretty, 15, 57610), "bad argument #2 to 'pretty' (option table {width=, items=, depth=, strlen=, tables=} expected, got number)")
    assert.equal("{1, 2}", spy.pretty({ 1, 2 }, { width = 40 }))
  end)
end)
