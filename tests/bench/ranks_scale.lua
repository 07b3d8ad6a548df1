-- Scale benchmark (not a test): rank 0 of `spy --ranks N` with N-1 workers.
--   SPY_BENCH_T0=$(date +%s.%N) build-rel/spy --ranks 129 tests/bench/ranks_scale.lua
-- (scripts/bench-ranks runs 33, 129 and 513 ranks and adds the shutdown time).
-- Prints: time until every worker is connected, the session's resident
-- memory and CPU before/after, tasks per second on tiny tasks (the cost is
-- the round trip and the result transport, not the kernel), and the
-- session's CPU seconds per task.
spy.set_progress(false)
local function now() local p = io.popen("date +%s.%N"); local t = tonumber(p:read("l")); p:close(); return t end
local function status(key)
  for l in io.lines("/proc/self/status") do
    local v = l:match("^" .. key .. ":%s+(%d+)")
    if v then return tonumber(v) end
  end
end
local function cpu()
  local f = io.open("/proc/self/stat"); local s = f:read("a"); f:close()
  local fields = {}
  for w in s:match("%) (.*)$"):gmatch("%S+") do fields[#fields + 1] = w end
  return (tonumber(fields[12]) + tonumber(fields[13])) / 100
end
local t0 = tonumber(os.getenv("SPY_BENCH_T0") or "") or now()
local n = tonumber(os.getenv("SPY_NRANKS")) - 1
local ntasks = tonumber(os.getenv("SPY_BENCH_TASKS") or "") or 20 * n
local rss0 = status("VmRSS")
local client = spy.Client()
while client.n_workers < n do os.execute("sleep 0.05") end
local tup = now() - t0
local rss1, thr1 = status("VmRSS"), status("Threads")
local tiny = spy.synthdata.white_noise{ nTrials = ntasks, nSamples = 64, nChannels = 1, seed = 1, parallel = false }
local cfg = { method = "mtmfft", taper = "hann", keeptrials = true }
spy.freqanalysis(tiny, cfg) -- warm: every worker plans once
local c0, w0 = cpu(), now()
spy.freqanalysis(tiny, cfg)
local dt, dc = now() - w0, cpu() - c0
local rss2 = status("VmRSS")
print(("workers %d | all connected after %.2f s | %d tasks in %.2f s = %.0f tasks/s | session CPU %.2f s (%.0f us/task) | " ..
       "session RSS %.1f MB alone, %.1f MB with workers (%.1f kB/worker), %.1f MB after tasks, %d threads")
      :format(n, tup, ntasks, dt, ntasks / dt, dc, dc / ntasks * 1e6, rss0 / 1024, rss1 / 1024,
              (rss1 - rss0) / n, rss2 / 1024, thr1))
print(("SPY_BENCH_TASKS %d"):format(2 * ntasks)) -- the warm-up run's and the timed run's
print(("SPY_BENCH_END %.6f"):format(now()))
