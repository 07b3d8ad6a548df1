-- Second-wave analyses that no other spec runs on a LocalCluster give the
-- sequential bytes for 1, 2 and 3 workers (max |difference| == 0):
-- resampledata (downsample, resample), median and mean over trials of
-- spectra, itc, timelockanalysis with kept trials and a latency window,
-- spike_psth and freqanalysis(output='fooof') with kept trials.  The
-- others (connectivityanalysis, mean/var over trials, timelockanalysis with
-- covariance, fooof) are covered in connectivity_spec, stats_spec and
-- fooof_spec; on ranks and Slurm see tests/ranks/wave2.lua and tests/slurm.
local spy = require "spy"

local function maxdiff(a, b)
  assert.are.equal(#b.trials, #a.trials)
  local d = 0
  for k = 1, #b.trials do
    local x, y = a.trials[k], b.trials[k]
    assert.are.same(y.shape, x.shape)
    d = math.max(d, (x - y):abs():max()) -- complex too: |x - y| is 0 only where both parts agree
  end
  return d
end

describe("second-wave analyses on a LocalCluster", function()
  it("give the sequential bytes for 1, 2 and 3 workers", function()
    local wn = spy.synthdata.white_noise{ nTrials = 9, nSamples = 1000, nChannels = 4, samplerate = 1000, seed = 5,
                                          parallel = false }
    local spikes = spy.synthdata.poisson_noise{ nTrials = 10, nChannels = 3, nUnits = 2, seed = 4 }
    local spec = spy.freqanalysis(wn, { method = "mtmfft", taper = "hann", parallel = false })
    local four = spy.freqanalysis(wn, { method = "mtmfft", taper = "hann", output = "fourier", parallel = false })
    local cases = {
      { "resampledata", wn, { method = "downsample", resamplefs = 500 } },
      { "resampledata", wn, { method = "resample", resamplefs = 300 } },
      { "median", wn, "trials" },
      { "median", spec, "trials" },
      { "mean", spec, "trials" },
      { "itc", four },
      { "timelockanalysis", wn, { latency = { -0.8, -0.3 }, keeptrials = true } },
      { "spike_psth", spikes, { binsize = 0.05 } },
      { "freqanalysis", wn, { method = "mtmfft", taper = "hann", output = "fooof", foilim = { 1, 100 } } },
    }
    local function run(c, parallel)
      local cfg = c[3]
      if type(cfg) == "table" then
        cfg = { parallel = parallel }
        for k, v in pairs(c[3]) do cfg[k] = v end
      end
      return spy[c[1]](c[2], cfg)
    end
    local want = {}
    for i, c in ipairs(cases) do want[i] = run(c, false) end
    for _, n in ipairs { 1, 2, 3 } do
      local cluster = spy.LocalCluster{ n_workers = n, dashboard_address = false }
      local client = spy.Client(cluster)
      for i, c in ipairs(cases) do
        local got = run(c, nil)
        assert.are.equal(0, maxdiff(got, want[i]), ("%s (case %d) on %d workers"):format(c[1], i, n))
        if c[1] == "freqanalysis" then assert.are.same(want[i].metadata, got.metadata) end
        if c[1] == "timelockanalysis" then
          assert.are.equal(0, (got.avg:astype("float64") - want[i].avg:astype("float64")):abs():max())
          assert.are.equal(0, (got.var:astype("float64") - want[i].var:astype("float64")):abs():max())
        end
      end
      client:close()
      cluster:close()
    end
  end)
end)
