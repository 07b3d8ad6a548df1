-- Slurm benchmark (not a test): run with the spy shell on a Slurm that can
-- hold 16 one-CPU jobs, e.g.
--   LOCAL_SLURM_CPUS=16 LOCAL_SLURM_MEM=64000 scripts/local-slurm start
--   SLURM_CONF=... build/spy tests/bench/slurm_bench.lua
-- 1. tasks per second the scheduler sustains with 16 connected workers
--    (tiny tasks: the cost is the round trip, not the kernel);
-- 2. case b of the freqanalysis benchmark (white_noise 500 trials x 1000
--    samples x 32 channels, mtmfft foilim {1,150} tapsmofrq 10) through 2
--    Slurm workers against 2 local threads.
spy.set_progress(false)
local function now() local p = io.popen("date +%s.%N"); local t = tonumber(p:read("l")); p:close(); return t end
local function best(n, f)
  local b = math.huge
  for _ = 1, n do local t0 = now(); f(); b = math.min(b, now() - t0) end
  return b
end

-- 1. throughput
local tiny = spy.synthdata.white_noise{ nTrials = 2000, nSamples = 64, nChannels = 1, seed = 1, parallel = false }
local cl = spy.SLURMCluster{ cores = 1, memory = "200MB", processes = 1, walltime = "00:30:00", interface = "lo" }
cl:scale(16)
spy.Client(cl)
cl:wait_for_workers(16)
spy.freqanalysis(tiny, { method = "mtmfft", taper = "hann" }) -- warm: every worker plans once
local t = best(3, function() spy.freqanalysis(tiny, { method = "mtmfft", taper = "hann" }) end)
print(("16 Slurm workers: %d tasks in %.2f s = %.0f tasks/s"):format(2000, t, 2000 / t))
local tl = best(3, function() spy.freqanalysis(tiny, { method = "mtmfft", taper = "hann", parallel = false }) end)
print(("  (inline, same tasks: %.2f s = %.0f tasks/s)"):format(tl, 2000 / tl))
cl:close()

-- 2. case b
local data = spy.synthdata.white_noise{ nTrials = 500, nSamples = 1000, nChannels = 32, seed = 42, parallel = false }
local cfg = { method = "mtmfft", foilim = { 1, 150 }, tapsmofrq = 10 }
local cl2 = spy.SLURMCluster{ cores = 1, memory = "1GB", processes = 1, walltime = "00:30:00", interface = "lo" }
cl2:scale(2)
spy.Client(cl2)
cl2:wait_for_workers(2)
spy.freqanalysis(data, cfg)
local ts = best(3, function() spy.freqanalysis(data, cfg) end)
cl2:close()
spy.Client(spy.LocalCluster{ n_workers = 2 })
spy.freqanalysis(data, cfg)
local tt = best(3, function() spy.freqanalysis(data, cfg) end)
local seq = best(2, function() spy.freqanalysis(data, { method = "mtmfft", foilim = { 1, 150 }, tapsmofrq = 10, parallel = false }) end)
print(("case b: 2 Slurm workers %.2f s, 2 local threads %.2f s, sequential %.2f s"):format(ts, tt, seq))
