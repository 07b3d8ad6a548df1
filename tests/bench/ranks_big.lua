-- Big results (not a test): rank 0 of `spy --ranks 3` generates nTrials
-- trials of 100 MiB each (white noise 2621440 x 10 float32) on the two other
-- ranks and prints the seconds and MB/s of the transport plus writing.
--   build-rel/spy --ranks 3 tests/bench/ranks_big.lua
spy.set_progress(false)
local function now() local p = io.popen("date +%s.%N"); local t = tonumber(p:read("l")); p:close(); return t end
local n = tonumber(os.getenv("SPY_BENCH_TRIALS") or "") or 8
local client = spy.Client()
while client.n_workers < tonumber(os.getenv("SPY_NRANKS")) - 1 do os.execute("sleep 0.05") end
spy.synthdata.white_noise{ nTrials = 1, nSamples = 1000, nChannels = 10, seed = 1 } -- warm
local t0 = now()
local d = spy.synthdata.white_noise{ nTrials = n, nSamples = 2621440, nChannels = 10, seed = 1 }
local dt = now() - t0
print(("%d trials of 100 MiB in %.2f s = %.0f MB/s"):format(n, dt, n * 104.8576 / dt))
