-- Faults: a worker cancelled with scancel in the middle of a computation
-- has its tasks re-run elsewhere and the result equals the sequential one
-- exactly; the lost worker is replaced.  A task whose workers keep dying is
-- given up after 3 re-runs with an error naming the last job and its log.
local H = dofile(arg[0]:match("^(.*)/") .. "/helpers.lua")

local data = spy.synthdata.white_noise{ nTrials = 120, nSamples = 4000, nChannels = 16, samplerate = 1000,
                                        seed = 11, parallel = false }
local cfg = { method = "mtmfft", tapsmofrq = 20, foilim = { 1, 300 }, keeptrials = false }
local want = spy.freqanalysis(data, { method = "mtmfft", tapsmofrq = 20, foilim = { 1, 300 },
                                      keeptrials = false, parallel = false })

-- 1. scancel of one of two busy workers
local cl = H.cluster{}
cl:scale(2)
spy.Client(cl)
cl:wait_for_workers(2)
local victim = cl.job_ids[1]
local errlog = cl.log_directory .. "/" .. cl.job_name .. "-" .. victim .. ".err"
-- the killer waits until the victim has been handed the computation
-- (bounded: it gives up after 5 minutes, so a failed test leaves no poller behind)
os.execute(("(timeout 300 sh -c 'until grep -q computation \"$1\" 2>/dev/null; do sleep 0.05; done' sh %q && scancel %d) >/dev/null 2>&1 &")
           :format(errlog, victim))
local from = H.logsize()
local got = spy.freqanalysis(data, cfg)
local d = H.maxdiff(got, want)
H.check(d == 0, "result after a lost worker differs from the sequential one: %g", d)
local log = H.log_since(from)
H.check(log:find("(Slurm job " .. victim .. ") was lost", 1, true), "no 'was lost' warning:\n%s", log)
H.check(log:find("died while running trial", 1, true), "no task was re-run:\n%s", log)
H.wait_until(120, function() return cl.workers == 2 end, "a replacement worker")
H.check(H.state(victim) == "CANCELLED" or H.state(victim) == "", "victim state %s", H.state(victim))
cl:close()

-- 2. workers that always die while computing: 1 + 3 attempts, then an error
local logdir = H.sh("mktemp -d"):gsub("%s+$", "")
local cl3 = H.cluster{ log_directory = logdir, job_script_prologue = {
  -- the killer ends with the job shell it watches (kill -0 $$), so none outlives its job
  ([[( while kill -0 $$ 2>/dev/null; do grep -q computation "%s/${SLURM_JOB_NAME}-${SLURM_JOB_ID}.err" 2>/dev/null && kill -9 $$; sleep 0.05; done ) &]]):format(logdir) } }
cl3:scale(1)
spy.Client(cl3)
-- one task that runs for seconds, far longer than the killer needs to strike
local one = spy.synthdata.white_noise{ nTrials = 1, nSamples = 600000, nChannels = 8, seed = 1, parallel = false }
local ok, err = pcall(spy.freqanalysis, one, { method = "mtmconvol", taper = "hann", t_ftimwin = 1.0,
                                              toi = 0.995, foilim = { 1, 10 } })
H.check(not ok, "the computation should have failed")
err = tostring(err)
H.check(err:find("on 4 different workers, but all those workers died while running it", 1, true), "error: %s", err)
H.check(err:match("The last worker was spy%-worker%-[%w_.-]+ %(Slurm job %d+, log " .. logdir:gsub("%p", "%%%0") ..
                  "/spy%-worker%-[%w_.-]+%-%d+%.out%)"), "error names no job and log: %s", err)
local name = cl3.job_name
cl3:close()
-- close cancels every job; a job whose worker was just killed may still be completing (CG)
H.wait_until(30, function() return #H.jobs(name) == 0 end, "jobs to go after close")
os.execute("rm -rf " .. logdir)
print("fault: ok")
