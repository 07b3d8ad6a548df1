-- SpikeData and EventData (docs/internals/discrete.md): Syncopy's
-- poisson_noise bit for bit, constructors and their errors, trials and
-- times, selections, definetrial from EventData markers (Syncopy's
-- reference and known triggers), .spy save/load both ways.
local spy = require "spy"
local DATA = os.getenv("SPY_TEST_DATA")

local function scratch()
  local d = os.tmpname()
  os.remove(d)
  return d
end

local function errmsg(f, ...)
  local ok, e = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  return tostring(e)
end

-- Three spikes in each of two trials [0, 100) and [100, 200), one outside.
local ROWS = { { 5, 0, 0 }, { 20, 1, 0 }, { 60, 0, 2 }, { 110, 2, 0 }, { 150, 0, 0 }, { 190, 1, 2 },
  { 250, 0, 0 } }

local function spikes()
  return spy.SpikeData { data = ROWS, samplerate = 100,
    trialdefinition = { { 0, 100, -10 }, { 100, 200, 0 } } }
end

describe("poisson_noise", function()
  it("is Syncopy's SpikeData for seed 42 (int64 rows, trials and labels exact)", function()
    local f = DATA .. "/spike_poisson.h5"
    local s = spy.synthdata.poisson_noise { nTrials = 10, nSpikes = 10000, nChannels = 3, nUnits = 10,
      intensity = 0.1, samplerate = 10000, seed = 42 }
    assert.equal("SpikeData", s.dataclass)
    assert.equal("int64", s.dtype)
    assert.same({ 10000, 3 }, s.shape)
    local want = spy.h5read(f, "output"):totable()
    assert.same(want, spy.h5read(s.filename, "data"):totable())
    -- trial 1 is [0, 9906): the spikes before the first one at or after 9906
    local n = 0
    while want[n + 1][1] < 9906 do n = n + 1 end
    local t1 = s.trials[1]:totable()
    assert.equal(n, #t1)
    assert.same(want[n], t1[n])
    assert.same(spy.h5read(f, "output_trialdefinition"):totable(), s.trialdefinition:totable())
    assert.same(spy.h5read(f, "channel"), s.channel)
    assert.same(spy.h5read(f, "unit"), s.unit)
    assert.equal(10000, s.samplerate)
  end)

  it("gives the same data for the same seed and other data for another", function()
    local a = spy.synthdata.poisson_noise { nSpikes = 2000, seed = 3 }
    local b = spy.synthdata.poisson_noise { nSpikes = 2000, seed = 3 }
    local c = spy.synthdata.poisson_noise { nSpikes = 2000, seed = 4 }
    assert.same(a.trials[1]:totable(), b.trials[1]:totable())
    assert.are_not.same(a.trials[1]:totable(), c.trials[1]:totable())
  end)

  it("rejects impossible settings", function()
    assert.matches("intensity <= 1", errmsg(spy.synthdata.poisson_noise, { intensity = 2 }))
    assert.matches("nTrials", errmsg(spy.synthdata.poisson_noise, { nSpikes = 1, nTrials = 4 }))
    assert.matches("Invalid value of `nUnits`", errmsg(spy.synthdata.poisson_noise, { nUnits = 0 }))
  end)
end)

describe("SpikeData", function()
  it("holds the rows of each trial and their trial times", function()
    local s = spikes()
    assert.equal(2, #s.trials)
    assert.same({ { 5, 0, 0 }, { 20, 1, 0 }, { 60, 0, 2 } }, s.trials[1]:totable())
    assert.same({ { 110, 2, 0 }, { 150, 0, 0 }, { 190, 1, 2 } }, s.trials[2]:totable())
    assert.same({ -0.05, 0.1, 0.5 }, s.time[1]:totable())
    assert.same({ 0.1, 0.5, 0.9 }, s.time[2]:totable())
    assert.is_nil(s.trials[3])
    assert.same({ "sample", "channel", "unit" }, s.dimord)
  end)

  it("labels the distinct indices as Syncopy does", function()
    local s = spikes()
    assert.same({ "channel1", "channel2", "channel3" }, s.channel)
    assert.same({ "unit1", "unit3" }, s.unit)
    assert.same({ 0, 1, 2 }, s.channel_idx)
    assert.same({ 0, 2 }, s.unit_idx)
    local t = spy.SpikeData { data = { { 1, 0, 10 }, { 2, 0, 0 } }, samplerate = 1 }
    assert.same({ "unit01", "unit11" }, t.unit)
    local u = spy.SpikeData { data = ROWS, samplerate = 100, unit = { "a", "b" } }
    assert.same({ "a", "b" }, u.unit)
    u.unit = { "x", "y" }
    assert.same({ "x", "y" }, u.unit)
    assert.matches("expected array of shape (2,)", errmsg(function() u.unit = { "z" } end), 1, true)
    assert.equal("1 element iterable", tostring(u.trials))
    assert.equal(1, #u.time)
  end)

  it("defaults to one trial from the first to the last sample (the last excluded)", function()
    local s = spy.SpikeData { data = ROWS, samplerate = 100 }
    assert.same({ { 5, 250, 0 } }, s.trialdefinition:totable())
    assert.equal(6, s.trials[1].shape[1])
  end)

  it("copies, and refuses arithmetic", function()
    local s = spikes()
    local c = spy.copy(s)
    assert.are_not.equal(s.filename, c.filename)
    assert.same(s.trials[2]:totable(), c.trials[2]:totable())
    assert.same(s.unit, c.unit)
    assert.matches("expected continuous data", errmsg(function() return s + 1 end))
  end)

  it("prints a summary", function()
    local txt = tostring(spikes())
    assert.matches("spy SpikeData object with fields", txt, 1, true)
    assert.matches("data : 2 trials of length 100 defined on [7 x 3] int64 Dataset", txt, 1, true)
    assert.matches("dimord : sample by channel by unit", txt, 1, true)
    assert.matches("unit : [2] element array", txt, 1, true)
  end)

  it("rejects bad input with Syncopy's wording", function()
    assert.matches("sorted in ascending order",
      errmsg(spy.SpikeData, { data = { { 5, 0, 0 }, { 3, 0, 0 } }, samplerate = 100 }))
    assert.matches("non-negative unit indices",
      errmsg(spy.SpikeData, { data = { { 5, 0, -1 } }, samplerate = 100 }), 1, true)
    assert.matches("integer like", errmsg(spy.SpikeData, { data = { { 5.5, 0, 0 } }, samplerate = 100 }))
    assert.matches("nSpikes x 3", errmsg(spy.SpikeData, { data = { { 5, 0 } }, samplerate = 100 }))
    assert.matches("greater or equals 1", errmsg(spy.SpikeData, { data = ROWS, samplerate = 0.5 }))
    assert.matches("expected exactly 2 unit label", errmsg(spy.SpikeData, { data = ROWS, unit = { "a" } }))
    assert.matches("non empty data set", errmsg(spy.SpikeData, { samplerate = 10 }))
    assert.matches("Invalid value of `sampleinfo`",
      errmsg(spy.SpikeData, { data = ROWS, trialdefinition = { { -1, 10, 0 } } }))
  end)
end)

describe("SpikeData waveforms", function()
  local function wave()
    local w = {}
    for i = 1, #ROWS do w[i] = { i, 10 * i, 100 * i, 1000 * i } end
    return spy.SpikeData { data = ROWS, samplerate = 100, waveform = w,
      trialdefinition = { { 0, 100, -10 }, { 100, 200, 0 } } }
  end

  it("keeps one waveform row per spike, through selections and containers", function()
    local s = wave()
    assert.same({ 7, 4 }, s.waveform.shape)
    assert.matches("waveform : [7 x 4] element array", tostring(s), 1, true)
    local sub = spy.selectdata(s, { unit = 2 }) -- rows 3 and 6
    assert.same({ { 3, 30, 300, 3000 }, { 6, 60, 600, 6000 } }, sub.waveform:totable())
    local dir = scratch()
    spy.save(s, dir .. "/w.spy")
    local l = spy.load(dir .. "/w.spy", { checksum = true })
    assert.same(s.waveform:totable(), l.waveform:totable())
    local info = io.open(dir .. "/w.spy/w.spike.info"):read("a")
    assert.matches('"_hdfFileDatasetProperties": [\n        "data",\n        "waveform"\n    ]', info, 1, true)
    -- Syncopy's .info describes the waveform (its last dataset written), not `data`
    local quirk = info:gsub('"data_dtype": "int64"', '"data_dtype": "float64"')
                      :gsub('"data_shape": %[%s*7,%s*3%s*%]', '"data_shape": [7, 4]')
    io.open(dir .. "/w.spy/w.spike.info", "w"):write(quirk):close()
    local q = spy.load(dir .. "/w.spy")
    assert.same({ 7, 3 }, q.shape)
    assert.equal("int64", q.dtype)
    assert.same(s.trials[1]:totable(), q.trials[1]:totable())
    io.open(dir .. "/w.spy/w.spike.info", "w"):write((quirk:gsub("%[7, 4%]", "[7, 5]"))):close()
    assert.matches("does not match", errmsg(spy.load, dir .. "/w.spy"))
    os.execute("rm -rf " .. dir)
  end)

  it("refuses waveforms that are not one row per spike", function()
    assert.matches("waveform shape%[0%] to equal nSpikes=7",
      errmsg(spy.SpikeData, { data = ROWS, waveform = { { 1, 2 }, { 3, 4 } } }))
    assert.matches("at least 2 dimensions", errmsg(spy.SpikeData, { data = ROWS, waveform = { 1, 2, 3, 4, 5, 6, 7 } }))
  end)
end)

describe("selections of SpikeData", function()
  it("selects trials, channels, units (by name or 1-based index) and latency", function()
    local s = spikes()
    local a = spy.selectdata(s, { trials = 2 })
    assert.same({ { 110, 2, 0 }, { 150, 0, 0 }, { 190, 1, 2 } }, a.trials[1]:totable())
    assert.same({ { 100, 200, 0 } }, a.trialdefinition:totable())
    local b = spy.selectdata(s, { channel = { "channel1" } })
    assert.same({ { 5, 0, 0 }, { 60, 0, 2 } }, b.trials[1]:totable())
    assert.same({ "channel1" }, b.channel)
    assert.same({ "unit1", "unit3" }, b.unit)
    local c = spy.selectdata(s, { unit = 2 })
    assert.same({ { 60, 0, 2 } }, c.trials[1]:totable())
    assert.same({ { 190, 1, 2 } }, c.trials[2]:totable())
    assert.same({ "unit3" }, c.unit)
    -- trial times: trial 1 runs -0.1 .. 0.89 s, trial 2 0 .. 0.99 s
    local d = spy.selectdata(s, { latency = { 0, 0.5 } })
    assert.same({ { 20, 1, 0 }, { 60, 0, 2 } }, d.trials[1]:totable())
    assert.same({ { 110, 2, 0 }, { 150, 0, 0 } }, d.trials[2]:totable())
    assert.equal("selectdata", next(d.cfg))
  end)

  it("shows a selection in memory", function()
    local x = spy.show(spikes(), { trials = 1, unit = "unit1" })
    assert.same({ { 5, 0, 0 }, { 20, 1, 0 } }, x:totable())
  end)

  it("rejects selectors of other classes and unknown labels", function()
    local s = spikes()
    assert.matches("no `frequency` selection available for SpikeData",
      errmsg(spy.selectdata, s, { frequency = { 1, 2 } }))
    assert.matches("unit existing names or indices", errmsg(spy.selectdata, s, { unit = "unit2" }))
    assert.matches("values b/w 1 and 2", errmsg(spy.selectdata, s, { trials = 3 }))
    assert.matches("start of latency window", errmsg(spy.selectdata, s, { latency = { 5, 6 } }))
  end)
end)

describe("EventData and definetrial", function()
  local f = DATA .. "/event_definetrial.h5"

  it("cuts Syncopy's trials around trigger 1 (pre 0.25 s, post 0.5 s)", function()
    local input = spy.h5read(f, "input")
    local data = spy.AnalogData { data = input, samplerate = 1000 }
    local evt = spy.EventData { data = spy.h5read(f, "events"), samplerate = 1000 }
    assert.same(spy.h5read(f, "events_trialdefinition"):totable(), evt.trialdefinition:totable())
    assert.same({ 1, 2 }, evt.eventid)
    spy.definetrial(data, evt, { pre = 0.25, post = 0.5, trigger = 1 })
    assert.same(spy.h5read(f, "output_trialdefinition"):totable(), data.trialdefinition:totable())
    assert.equal("definetrial", data.cfg.method)
    assert.is_table(data.cfg["EventData object"])
    assert.same(spy.h5read(f, "time_trial0"):totable(), data.time[1]:totable())
  end)

  it("takes Syncopy's keyword form", function()
    local data = spy.AnalogData { data = spy.h5read(f, "input"), samplerate = 1000 }
    local evt = spy.EventData { data = spy.h5read(f, "events"), samplerate = 1000 }
    spy.definetrial(data, { trialdefinition = evt, pre = 0.25, post = 0.5, trigger = 1 })
    assert.same(spy.h5read(f, "output_trialdefinition"):totable(), data.trialdefinition:totable())
    spy.definetrial(data, { trialdefinition = { { 0, 10, 0 } } })
    assert.same({ { 0, 10, 0 } }, data.trialdefinition:totable())
    spy.definetrial(data, { trialdefinition = evt }) -- the EventData's own trials, rescaled
    assert.same({ { 1000, 7800, 0 } }, data.trialdefinition:totable())
  end)

  it("cuts trials from start to stop codes", function()
    local evt = spy.EventData { data = { { 100, 7 }, { 150, 1 }, { 300, 9 }, { 400, 7 }, { 420, 1 }, { 460, 9 } },
      samplerate = 100 }
    local data = spy.AnalogData { data = spy.array { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, samplerate = 2 }
    spy.definetrial(data, evt, { start = 7, stop = 9, trigger = 1, pre = 0, post = 0 })
    -- seconds 1..3 and 4..4.6 at 2 Hz, t0 at the trigger (1.5 s and 4.2 s)
    assert.same({ { 2, 6, 1 }, { 8, 9, 0 } }, data.trialdefinition:totable())
  end)

  it("cuts SpikeData around known triggers", function()
    local s = spy.SpikeData { data = ROWS, samplerate = 100 }
    local evt = spy.EventData { data = { { 30, 5 }, { 160, 5 } }, samplerate = 100 }
    spy.definetrial(s, evt, { pre = 0.2, post = 0.3, trigger = 5 })
    assert.same({ { 10, 60, 20 }, { 140, 190, 20 } }, s.trialdefinition:totable())
    assert.same({ { 20, 1, 0 } }, s.trials[1]:totable())
    assert.same({ { 150, 0, 0 } }, s.trials[2]:totable())
  end)

  it("clips trials to the data with clip_edges", function()
    local data = spy.AnalogData { data = spy.array { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, samplerate = 10 }
    local evt = spy.EventData { data = { { 1, 3 }, { 9, 3 } }, samplerate = 10 }
    assert.matches("inside the data", errmsg(spy.definetrial, data, evt, { pre = 0.2, post = 0.2, trigger = 3 }))
    spy.definetrial(data, evt, { pre = 0.2, post = 0.2, trigger = 3, clip_edges = true })
    -- Syncopy clips start/stop and keeps the offset (trigger - unclipped begin)
    assert.same({ { 0, 3, 2 }, { 7, 10, 2 } }, data.trialdefinition:totable())
  end)

  it("explains what is missing", function()
    local data = spy.AnalogData { data = spy.array { 1, 2, 3, 4 }, samplerate = 1 }
    local evt = spy.EventData { data = { { 1, 3 } }, samplerate = 1 }
    assert.matches("expected existing event%-id", errmsg(spy.definetrial, data, evt, { pre = 0, post = 1, trigger = 4 }))
    assert.matches("`pre` or `start` and `post` or `stop` to be not `None`",
      errmsg(spy.definetrial, data, evt, { trigger = 3 }), 1, true)
    assert.matches("non-None `trigger` with `pre`/`post` timing information",
      errmsg(spy.definetrial, data, evt, { pre = 1, stop = 3 }), 1, true)
    assert.matches("unknown keyword 'pree'", errmsg(spy.definetrial, data, evt, { pree = 1 }))
    assert.matches("sorted in ascending order", errmsg(spy.EventData, { data = { { 5, 1 }, { 2, 1 } } }))
  end)

  it("keeps extra columns named by a dimord", function()
    local evt = spy.EventData { data = { { 10, 1, 7 }, { 20, 2, 8 }, { 30, 1, 9 }, { 40, 2, 6 } }, samplerate = 10,
      dimord = { "sample", "eventid", "trialtype" } }
    assert.same({ "sample", "eventid", "trialtype" }, evt.dimord)
    assert.matches("dimord : sample by eventid by trialtype", tostring(evt), 1, true)
    local e1 = spy.selectdata(evt, { eventid = 1 })
    assert.same({ { 10, 1, 7 }, { 30, 1, 9 } }, e1.trials[1]:totable())
    assert.same(evt.dimord, e1.dimord)
    local data = spy.AnalogData { data = spy.array { 1, 2, 3, 4, 5, 6, 7, 8 }, samplerate = 2 }
    spy.definetrial(data, evt, { pre = 0.5, post = 1, trigger = 1 })
    assert.same({ { 1, 4, 1 }, { 5, 8, 1 } }, data.trialdefinition:totable())
    local dir = scratch()
    spy.save(evt, dir .. "/ev3.spy")
    local l = spy.load(dir .. "/ev3.spy", { checksum = true })
    assert.same(evt.dimord, l.dimord)
    assert.same(evt.trials[1]:totable(), l.trials[1]:totable())
    os.execute("rm -rf " .. dir)
    assert.matches("expected dimensional labels 'sample', 'eventid'",
      errmsg(spy.EventData, { data = { { 1, 1, 1 } } }))
    assert.matches("expected dimensional labels",
      errmsg(spy.EventData, { data = { { 1, 1, 1 } }, dimord = { "eventid", "sample", "x" } }))
  end)

  it("selects events by code", function()
    local evt = spy.EventData { data = spy.h5read(f, "events"), samplerate = 1000 }
    local e2 = spy.selectdata(evt, { eventid = 2 })
    assert.same({ 2 }, e2.eventid)
    assert.equal(3, e2.shape[1]) -- the last event (7800) lies outside the default trial
  end)
end)

describe(".spy containers of discrete data", function()
  it("round-trips SpikeData and EventData with checksums", function()
    local dir = scratch()
    local s = spikes()
    s.info = { subject = "m1" }
    spy.save(s, dir .. "/sp.spy")
    local l = spy.load(dir .. "/sp.spy", { checksum = true })
    assert.equal("SpikeData", l.dataclass)
    assert.same(s.trialdefinition:totable(), l.trialdefinition:totable())
    assert.same(s.trials[2]:totable(), l.trials[2]:totable())
    assert.same(s.unit, l.unit)
    assert.same(s.channel, l.channel)
    assert.equal("m1", l.info.subject)
    local info = io.open(dir .. "/sp.spy/sp.spike.info"):read("a")
    assert.matches('"dataclass": "SpikeData"', info, 1, true)
    assert.matches('"unit": %[', info)
    assert.matches('"data_dtype": "int64"', info, 1, true)
    local evt = spy.EventData { data = { { 3, 1 }, { 8, 2 } }, samplerate = 10 }
    spy.save(evt, dir .. "/ev.spy")
    local e = spy.load(dir .. "/ev.spy", { checksum = true })
    assert.same({ { 3, 8, 0 } }, e.trialdefinition:totable())
    assert.same({ 1, 2 }, e.eventid)
    os.execute("rm -rf " .. dir)
  end)
end)

describe("spike_psth", function()
  local f = DATA .. "/spike_psth.h5"

  -- max |got - want| / max(|want|, 1) over the non-NaN entries; NaN where want is NaN
  local function compare(got, want)
    local g, w = got:totable(), want:totable()
    assert.equal(#w, #g)
    local worst, nanbad = 0, 0
    for i = 1, #w do
      for j = 1, #w[i] do
        local a, b = g[i][j], w[i][j]
        if b ~= b or a ~= a then
          if (a ~= a) ~= (b ~= b) then nanbad = nanbad + 1 end
        else
          worst = math.max(worst, math.abs(a - b) / math.max(math.abs(b), 1))
        end
      end
    end
    return worst, nanbad
  end

  it("is Syncopy's TimeLockData for the default settings (rates to 1e-5, NaN where Syncopy has NaN)", function()
    local s = spy.SpikeData { data = spy.h5read(f, "input"), samplerate = 10000,
      trialdefinition = spy.h5read(f, "input_trialdefinition") }
    local out = spy.spike_psth(s)
    assert.equal("TimeLockData", out.dataclass)
    assert.equal("float32", out.dtype)
    assert.same({ 410, 30 }, out.shape)
    local worst, nanbad = compare(spy.h5read(out.filename, "data"), spy.h5read(f, "output"))
    assert.equal(0, nanbad)
    assert.is_true(worst <= 1e-5, "rate error " .. worst)
    worst, nanbad = compare(out.avg, spy.h5read(f, "output_avg"))
    assert.equal(0, nanbad)
    assert.is_true(worst <= 1e-5, "avg error " .. worst)
    worst, nanbad = compare(out.var, spy.h5read(f, "output_var"))
    assert.equal(0, nanbad)
    assert.is_true(worst <= 1e-5, "var error " .. worst)
    assert.same(spy.h5read(f, "output_trialdefinition"):totable(), out.trialdefinition:totable())
    assert.same(spy.h5read(f, "channel"), out.channel)
    assert.is_true(math.abs(out.samplerate - 38.450717434117976) < 1e-9)
    assert.same(spy.h5read(f, "time_trial0"):totable(), out.time[1]:totable())
    assert.equal("rice", out.cfg.spike_psth.binsize)
  end)

  it("counts spikes, averages trials and refuses bad settings", function()
    local s = spikes() -- 2 trials: -0.1 .. 0.89 s and 0 .. 0.99 s at 100 Hz
    local c = spy.spike_psth(s, { binsize = 0.5, output = "spikecount", latency = { 0, 0.99 } })
    -- edges 0, 0.5, 1.0: trial 1 has spikes at 0.1 and 0.5 s, trial 2 at 0.1, 0.5, 0.9 s
    assert.same({ "channel0_unit0", "channel0_unit2", "channel1_unit0", "channel1_unit2", "channel2_unit0" },
      c.channel)
    local t1, t2 = c.trials[1]:totable(), c.trials[2]:totable()
    assert.same({ 0, 0, 1, 0, 0 }, t1[1])
    assert.same({ 0, 1, 0, 0, 0 }, t1[2])
    assert.same({ 0, 0, 0, 0, 1 }, t2[1])
    assert.same({ 1, 0, 0, 1, 0 }, t2[2])
    local a = spy.spike_psth(s, { binsize = 0.5, output = "spikecount", latency = { 0, 0.99 }, keeptrials = false })
    assert.same({ 2, 5 }, a.shape)
    assert.same({ 0.5, 0.5, 0, 0.5, 0 }, a.trials[1]:totable()[2])
    local sc = spy.spike_psth(s, { binsize = 0.5, output = "spikecount", latency = { 0, 0.99 },
      select = { trials = 2, unit = "unit3" } })
    assert.same({ "channel1_unit2" }, sc.channel)
    assert.same({ { 0 }, { 1 } }, sc.trials[1]:totable())
    assert.matches("the `latency` keyword", errmsg(spy.spike_psth, s, { select = { latency = { 0, 1 } } }))
    local v = spy.spike_psth(s, { binsize = 0.5, latency = { -0.1, 0.6 }, vartriallen = false })
    assert.equal(1, #v.trials) -- trial 2 starts at 0 s
    assert.matches("Wrong type of `data`: expected Syncopy SpikeData object found EventData",
      errmsg(spy.spike_psth, spy.EventData { data = { { 1, 1 } } }))
    assert.matches("expected 'rate' or 'spikecount' or 'proportion'",
      errmsg(spy.spike_psth, s, { output = "hz" }), 1, true)
    assert.matches("no trial that completely covers the latency window",
      errmsg(spy.spike_psth, s, { latency = { -0.1, 0.95 }, vartriallen = false }))
    assert.matches("start of latency window", errmsg(spy.spike_psth, s, { latency = { 2, 3 } }))
  end)
end)
