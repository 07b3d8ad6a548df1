-- In-allocation runs: this script runs on rank 0 of `spy --ranks N` (tests/ranks)
-- or `srun -n N spy` (tests/slurm/ranks.lua); the other ranks are workers.
-- spy.Client() attaches them without arguments; results equal the sequential
-- ones exactly (same kernels on the same float64 slices); a rank killed
-- while computing has its tasks re-run on the others.
local here = arg[0]:match("^(.*)/") or "."
local H = dofile(here .. "/../slurm/helpers.lua")

local nranks = tonumber(os.getenv("SPY_NRANKS") or os.getenv("SLURM_NTASKS"))
H.check(nranks and nranks >= 3, "run with at least 3 ranks")

local function cputicks(pid)
  local f = io.open("/proc/" .. pid .. "/stat")
  local s = f:read("a")
  f:close()
  local rest = s:match("%) (.*)$")
  local fields = {}
  for w in rest:gmatch("%S+") do fields[#fields + 1] = w end
  return tonumber(fields[12]) + tonumber(fields[13]) -- utime + stime (fields 14, 15)
end

local data = spy.synthdata.white_noise{ nTrials = 40, nSamples = 2000, nChannels = 16, samplerate = 1000,
                                        seed = 7, parallel = false }
local function cfg(par)
  return { method = "mtmfft", tapsmofrq = 20, foilim = { 1, 300 }, keeptrials = true, parallel = par }
end
local want = spy.freqanalysis(data, cfg(false))

-- 1. spy.Client() attaches the other ranks
local client = spy.Client()
H.check(tostring(client):find("tcp://", 1, true), "not the ranks' cluster: %s", tostring(client))
H.wait_until(60, function() return client.n_workers == nranks - 1 end, (nranks - 1) .. " rank workers")
local got = spy.freqanalysis(data, cfg(nil))
local d = H.maxdiff(got, want)
H.check(d == 0, "result on %d ranks differs from the sequential one: %g", nranks, d)

-- 2. rank 1 killed (SIGKILL) while it computes: its tasks re-run on the others
local victim = H.rank_pid(1)
local t0 = cputicks(victim)
os.execute(("(timeout 120 sh -c 'while t=$(awk \"{print \\$14+\\$15}\" /proc/%d/stat 2>/dev/null); do " ..
            "[ \"$t\" -ge %d ] && exec kill -9 %d; sleep 0.01; done') >/dev/null 2>&1 &")
           :format(victim, t0 + 10, victim))
local from = H.logsize()
got = spy.freqanalysis(data, cfg(nil))
d = H.maxdiff(got, want)
H.check(d == 0, "result after a killed rank differs from the sequential one: %g", d)
local log = H.log_since(from)
H.check(log:find("was lost", 1, true), "no 'was lost' warning:\n%s", log)
H.check(log:find("died while running trial", 1, true), "no task was re-run:\n%s", log)
H.check(client.n_workers == nranks - 2, "workers after the kill: %d", client.n_workers)

-- 3. the remaining ranks go on serving
got = spy.freqanalysis(data, cfg(nil))
H.check(H.maxdiff(got, want) == 0, "result on the remaining ranks differs")
print("ranks: ok")
