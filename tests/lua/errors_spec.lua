-- Bad input gets a clear error that says what is allowed: never a crash, a
-- hang or a lost file.  Each case names the fragment the message must hold.
local spy = require "spy"

describe("bad input", function()
  local w = spy.synthdata.white_noise{ nTrials = 3, nSamples = 200, nChannels = 2, seed = 1 }
  local cases = {
    { "no data", function() return spy.freqanalysis() end, "expected Syncopy AnalogData object found nothing" },
    { "a number as options", function() return spy.freqanalysis(w, 5) end, "data object or option table expected, got number" },
    { "foi string", function() return spy.freqanalysis(w, { foi = "x" }) end, "expected 'all' or `None` or list/array" },
    { "foi range", function() return spy.freqanalysis(w, { foi = { -1, 2 } }) end, "bounded by 0 and 500.0" },
    { "foi NaN", function() return spy.freqanalysis(w, { foi = { 1, 0 / 0 } }) end, "well-defined numerical array" },
    { "mtmconvol without window", function() return spy.freqanalysis(w, { method = "mtmconvol" }) end, "Wrong type of `t_ftimwin`" },
    { "window longer than trials", function() return spy.freqanalysis(w, { method = "mtmconvol", t_ftimwin = 100 }) end, "less or equals 0.2" },
    { "superlet without order_max", function() return spy.freqanalysis(w, { method = "superlet" }) end, "Positive integer needed for order_max" },
    { "negative smoothing", function() return spy.freqanalysis(w, { tapsmofrq = -1 }) end, "smoothing bandwidth in Hz" },
    { "taper without parameters", function() return spy.freqanalysis(w, { taper = "kaiser" }) end, "additional parameters for taper 'kaiser'" },
    { "unknown taper", function() return spy.freqanalysis(w, { taper = "nope" }) end, "expected 'boxcar' or 'triang'" },
    { "pad too short", function() return spy.freqanalysis(w, { pad = 0.01 }) end, "Invalid value of `pad`" },
    { "fooof", function() return spy.freqanalysis(w, { output = "fooof" }) end, "does not include zero" },
    { "trial 0", function() return spy.freqanalysis(w, { select = { trials = { 0 } } }) end, "b/w 1 and 3" },
    { "latency outside", function() return spy.freqanalysis(w, { select = { latency = { 5, 6 } } }) end, "start of latency window" },
    { "chan_per_worker 0", function() return spy.freqanalysis(w, { chan_per_worker = 0 }) end, "expected a positive integer" },
    { "unknown keyword", function() return spy.freqanalysis(w, { tapsmofreq = 4 }) end, "did you mean `tapsmofrq`" },
    { "wrong type", function() return spy.freqanalysis(w, { keeptrials = 1 }) end, "Wrong type of `keeptrials`: expected boolean found number" },
    { "filter without freq", function() return spy.preprocessing(w, {}) end, "Wrong type of `freq`" },
    { "freq above Nyquist", function() return spy.preprocessing(w, { freq = 600 }) end, "less or equals 500.0" },
    { "band of zero width", function() return spy.preprocessing(w, { filter_type = "bp", freq = { 10, 10 } }) end, "two different frequencies" },
    { "up-sampling", function() return spy.resampledata(w, { resamplefs = 2000 }) end, "less or equals 1000.0" },
    { "downsample by a fraction", function() return spy.resampledata(w, { resamplefs = 300, method = "downsample" }) end, "integer division" },
    { "no trials", function() return spy.synthdata.white_noise{ nTrials = 0 } end, "greater or equals 1" },
    { "ragged data", function() return spy.AnalogData{ data = { { 1, 2 }, { 3 } } } end, "ragged nested table" },
    { "trial outside data", function() return spy.AnalogData{ data = spy.zeros{ 10, 2 }, trialdefinition = { { 0, 20, 0 } } } end, "0 <= start <= stop <= 10" },
    { "channel 5 of 2", function() return spy.selectdata(w, { channel = { 5 } }) end, "existing names or indices (1..2)" },
    { "frequency of analog data", function() return spy.selectdata(w, { frequency = { 1, 2 } }) end, "no `frequency` selection available for AnalogData" },
    { "objects of other lengths", function() return w + spy.synthdata.white_noise{ nTrials = 2, nSamples = 200, seed = 1 } end, "same class, number of trials" },
    { "division by zero", function() return w / 0 end, "non-zero scalar" },
    { "trial index string", function() return w.trials["x"] end, "expected single number" },
    { "bad channel labels", function() w.channel = 5 end, "expected array_like" },
    { "unknown field", function() w.foo = 1 end, "cannot set field 'foo'" },
    { "missing container", function() return spy.load("/nonexistent.spy") end, "object does not exist" },
    { "no workers", function() return spy.LocalCluster{ n_workers = 0 } end, "between 1 and 4096" },
    { "missing HDF5 file", function() return spy.h5read("/nonexistent.h5", "x") end, "No such file" },
    { "empty object", function() return spy.freqanalysis(spy.AnalogData{}) end, "non-empty" },
    { "spectral input", function() return spy.freqanalysis(spy.freqanalysis(w)) end, "found SpectralData" },
  }
  for _, c in ipairs(cases) do
    it(c[1], function()
      local ok, err = pcall(c[2])
      assert.is_false(ok)
      assert.truthy(tostring(err):find(c[3], 1, true), ("message %q lacks %q"):format(tostring(err), c[3]))
    end)
  end

  it("leaves the input intact and nothing behind", function()
    local before = w.trials[2]:get(17, 2)
    collectgarbage(); collectgarbage()
    local n0 = 0
    for f in io.popen('ls "' .. spy.__storage__ .. '"'):lines() do
      if f:find("spy_" .. spy.__sessionid__, 1, true) then n0 = n0 + 1 end
    end
    for _, c in ipairs(cases) do pcall(c[2]) end
    collectgarbage(); collectgarbage()
    local n1 = 0
    for f in io.popen('ls "' .. spy.__storage__ .. '"'):lines() do
      if f:find("spy_" .. spy.__sessionid__, 1, true) then n1 = n1 + 1 end
    end
    assert.are.equal(before, w.trials[2]:get(17, 2))
    assert.are.equal(n0, n1)
  end)
end)
