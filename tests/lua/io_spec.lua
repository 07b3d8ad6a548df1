-- .spy containers from Lua: Syncopy-written containers load with identical
-- data and metadata; what spy saves loads again (with checksum) and equals
-- the original; existing files are protected; cleanup reports.
local spy = require "spy"
local DATA = os.getenv("SPY_TEST_DATA")

local function scratch()
  local d = os.tmpname()
  os.remove(d)
  assert(os.execute("mkdir -p " .. d))
  return d
end

local function maxdiff(a, b) return (a:astype("float64") - b:astype("float64")):abs():max() end

describe("spy.load of Syncopy's containers", function()
  local ref = DATA .. "/spy_container.h5"

  it("analog_ref.spy equals the stored arrays", function()
    local a = spy.load(DATA .. "/analog_ref.spy", { checksum = true })
    assert.are.equal("r", a.mode)
    assert.are.same({ 10000, 4 }, a.shape)
    assert.are.same({ "channel1", "channel2", "channel3", "channel4" }, a.channel)
    assert.are.equal(1000, a.samplerate)
    assert.are.equal(0, maxdiff(a.trialdefinition, spy.h5read(ref, "input_trialdefinition")))
    local input = spy.h5read(ref, "input")
    for k = 1, 5 do
      assert.are.equal(0, maxdiff(a.trials[k], input:slice{ { (k - 1) * 2000 + 1, k * 2000 }, ":" }))
    end
  end)

  it("spectral_ref.spy equals the stored arrays", function()
    local s = spy.load(DATA .. "/spectral_ref", { checksum = true }) -- .spy appended
    assert.are.same({ 5, 1, 201, 4 }, s.shape)
    assert.are.same({ "hann" }, s.taper)
    assert.are.equal(0, maxdiff(s.freq, spy.h5read(ref, "freq")))
    local out = spy.h5read(ref, "output")
    for k = 1, 5 do
      assert.are.equal(0, maxdiff(s.trials[k], out:slice{ { k, k }, ":", ":", ":" }))
    end
    assert.are.equal("mtmfft", s.cfg.freqanalysis.method)
    assert.are.same({ 0, 100 }, s.cfg.freqanalysis.foilim)
  end)

  -- Syncopy hashes a saved file while it holds it open "r+" (HDF5 then sets the superblock's
  -- file consistency flag, cleared again on close), so its own load(checksum=True) refuses
  -- its containers in a new process; spy accepts that recorded hash, and only that one.
  it("checksum=true accepts the hash Syncopy records for its own containers", function()
    local e = spy.load(DATA .. "/syncopy_events.spy", { checksum = true })
    assert.are.equal(100, e.samplerate)
    assert.are.equal(0, maxdiff(e:toarray(), spy.array({ { 10, 1 }, { 50, 2 }, { 120, 1 }, { 300, 3 } })))
    assert.are.equal(0, maxdiff(e.trialdefinition, spy.array({ { 0, 200, -20 }, { 200, 400, 0 } })))
    -- any other change of the file is still refused
    local dir = scratch()
    local copy = dir .. "/syncopy_events.spy"
    assert(os.execute("cp -r " .. DATA .. "/syncopy_events.spy " .. copy))
    local f = assert(io.open(copy .. "/syncopy_events.event", "r+b"))
    f:seek("set", 21) -- the flag's second byte
    f:write("\1")
    f:close()
    local ok, err = pcall(spy.load, copy, { checksum = true })
    assert.is_false(ok)
    assert.matches("Invalid value of `syncopy_events.event`: 'hash = %x+'; expected hash = " ..
      "71c596c2c497be30cea27c1540a9579e420cd4e7", tostring(err))
    assert.is_truthy(pcall(spy.load, copy)) -- without checksum it loads
    os.execute("rm -rf " .. dir)
  end)

  it("replays Syncopy's cfg and gets Syncopy's numbers", function()
    local a = spy.load(DATA .. "/analog_ref.spy")
    local s = spy.load(DATA .. "/spectral_ref.spy")
    local again = spy.freqanalysis(a, s.cfg)
    for k = 1, 5 do
      assert.is_true(maxdiff(again.trials[k], s.trials[k]) <= 1e-5 * s.trials[k]:abs():max())
    end
  end)
end)

describe("spy.save", function()
  it("round-trips an analysis result and keeps every field", function()
    local dir = scratch()
    local a = spy.load(DATA .. "/analog_ref.spy")
    local spec = spy.freqanalysis(a, { method = "mtmfft", foilim = { 1, 100 }, tapsmofrq = 4, keeptapers = true, output = "fourier" })
    local before = spec.trials[3]
    spy.save(spec, dir .. "/spec.spy")
    assert.are.equal("r", spec.mode)
    local back = spy.load(dir .. "/spec.spy", { checksum = true })
    assert.are.same(spec.shape, back.shape)
    assert.are.same(spec.taper, back.taper)
    assert.are.same(spec.channel, back.channel)
    assert.are.equal(0, maxdiff(spec.freq, back.freq))
    assert.are.equal(0, maxdiff(spec.trialdefinition, back.trialdefinition))
    assert.are.equal("complex64", back.dtype)
    assert.are.equal(0, (back.trials[3] - before):abs():max())
    assert.are.equal(4, back.cfg.freqanalysis.tapsmofrq)
    assert.truthy(back.log:find("computed mtmfft_cF with settings", 1, true))
    assert.truthy(back.log:find("Wrote files", 1, true))
  end)

  it("never overwrites without overwrite=true", function()
    local dir = scratch()
    local w = spy.synthdata.white_noise{ nTrials = 2, nSamples = 100, seed = 1 }
    w:save(dir .. "/w.spy")
    local f = io.open(dir .. "/w.spy/w.analog", "rb")
    local bytes = f:read("a")
    f:close()
    local w2 = spy.synthdata.white_noise{ nTrials = 3, nSamples = 100, seed = 2 }
    local ok, err = pcall(spy.save, w2, dir .. "/w.spy")
    assert.is_false(ok)
    assert.truthy(err:find("object already exists", 1, true))
    f = io.open(dir .. "/w.spy/w.analog", "rb")
    assert.are.equal(bytes, f:read("a"))
    f:close()
    spy.save(w2, dir .. "/w.spy", { overwrite = true })
    assert.are.equal(3, #spy.load(dir .. "/w.spy").trials)
  end)

  it("reports bad containers clearly", function()
    local dir = scratch()
    assert(os.execute("mkdir -p " .. dir .. "/bad.spy"))
    local f = io.open(dir .. "/bad.spy/bad.analog", "w")
    f:write("not hdf5")
    f:close()
    f = io.open(dir .. "/bad.spy/bad.analog.info", "w")
    f:write("{ broken")
    f:close()
    local ok, err = pcall(spy.load, dir .. "/bad.spy")
    assert.is_false(ok)
    assert.is_string(err)
    ok, err = pcall(spy.load, dir .. "/missing.spy")
    assert.is_false(ok)
    assert.truthy(err:find("does not exist", 1, true))
  end)
end)

describe("spy.cleanup", function()
  it("keeps this session's files and reports what it freed", function()
    local w = spy.synthdata.white_noise{ nTrials = 2, nSamples = 100, seed = 1 }
    local n, bytes = spy.cleanup{ dry_run = true }
    assert.is_number(n)
    assert.is_number(bytes)
    spy.cleanup()
    assert.are.equal(2, #w.trials) -- still readable
  end)
end)
