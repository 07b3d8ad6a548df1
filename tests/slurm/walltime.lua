-- Walltime hand-over: with 1-minute jobs, a computation of ~100 s on one
-- worker completes without a lost worker or a re-run task.  Each worker
-- retires 15 s before its walltime (no new tasks, finishes what it holds),
-- the cluster submits its replacement at once, and the retired jobs end
-- COMPLETED (not TIMEOUT); squeue is empty afterwards.
local H = dofile(arg[0]:match("^(.*)/") .. "/helpers.lua")

local function cfg(par) return { method = "mtmfft", tapsmofrq = 4, foilim = { 1, 100 }, keeptrials = true, parallel = par } end
local function noise(n) return spy.synthdata.white_noise{ nTrials = n, nSamples = 20000, nChannels = 8, samplerate = 1000,
                                                          seed = 2, parallel = false } end
-- as many trials as take ~100 s here (one worker runs them as fast as this session): the
-- marginal wall-clock time of a trial, from 8 and 24 trials (a call's planning, the DPSS
-- tapers of 20000 samples, would otherwise count as trial time); at most 3000 trials (1.9 GB):
-- an idle 2-core machine needs ~1500 (~0.07 s per trial under the sanitizers)
local function timed(n)
  local d = noise(n)
  local t = spy.clock()
  spy.freqanalysis(d, cfg(false))
  return spy.clock() - t
end
-- a first call warms what a session keeps between calls (FFTW's plans, the DPSS tapers of
-- spy_dpss_kept), which would otherwise count in the 8 trials' time and not in the 24's
timed(8)
local t8, t24 = timed(8), timed(24)
local per = t24 > t8 and (t24 - t8) / 16 or t24 / 24
local ntrials = math.max(60, math.min(3000, math.ceil(100 / per)))
local data = noise(ntrials)

local cl = H.cluster{ walltime = "00:01:00" }
local name = cl.job_name
H.check(cl:job_script():find(" --walltime 60 ", 1, true), "the job script passes no walltime:\n%s", cl:job_script())
cl:scale(1)
spy.Client(cl)
cl:wait_for_workers(1)
local first = cl.job_ids[1]
local from = H.logsize()
local t0 = os.time()
local got = spy.freqanalysis(data, cfg(nil))
local took = os.time() - t0
local log = H.log_since(from)
H.check(took > 60, "the computation should outlast a job's walltime (took %d s)", took)
H.check(not log:find("was lost", 1, true) and not log:find("died while running", 1, true),
        "a worker was lost or a task re-run:\n%s", log)
H.check(log:find("(Slurm job " .. first .. ") retires before its walltime", 1, true), "the first job did not retire:\n%s", log)
H.check(log:find("take over from a retiring worker", 1, true), "no replacement was submitted:\n%s", log)
H.check(H.state(first) == "COMPLETED" or H.state(first) == "", "the first job ended %s", H.state(first))
-- spot check against the sequential result (all 90 trials would double the test's time)
local sel = { 1, ntrials // 2, ntrials }
local want = spy.freqanalysis(data:selectdata{ trials = sel }, cfg(false))
for i, k in ipairs(sel) do
  local d = (got.trials[k] - want.trials[i]):abs():max()
  H.check(d == 0, "trial %d differs from the sequential one: %g", k, d)
end
cl:close()
H.wait_until(30, function() return #H.jobs(name) == 0 end, "squeue to be empty")
print(("walltime: ok (%d s on 1-minute jobs)"):format(took))
