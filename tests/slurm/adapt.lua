-- cluster:adapt{minimum_jobs=, maximum_jobs=} as dask-jobqueue's: no job while
-- idle (minimum 0), jobs submitted when a computation starts (as many as it
-- has trials for, never more than maximum_jobs), cancelled again `wait`
-- seconds after it ended; results equal the sequential ones; squeue empty after.
local H = dofile(arg[0]:match("^(.*)/") .. "/helpers.lua")

local data = spy.synthdata.white_noise{ nTrials = 8, nSamples = 2000, nChannels = 4, samplerate = 1000,
                                        seed = 5, parallel = false }
local function cfg(par) return { method = "mtmfft", tapsmofrq = 10, foilim = { 1, 200 }, keeptrials = true, parallel = par } end
local want = spy.freqanalysis(data, cfg(false))

local cl = H.cluster{}
local name = cl.job_name
local ok, err = pcall(function() return cl:adapt{ minimum_jobs = 3, maximum_jobs = 2 } end)
H.check(not ok and tostring(err):find("Invalid adapt range", 1, true), "bad range accepted: %s", tostring(err))
ok, err = pcall(function() return cl:adapt{ minimum_jobs = 0 } end)
H.check(not ok and tostring(err):find("needs maximum_jobs", 1, true), "no maximum accepted: %s", tostring(err))

cl:adapt{ minimum_jobs = 0, maximum_jobs = 2, wait = 2 }
spy.Client(cl)
H.check(#H.jobs(name) == 0 and cl.requested == 0, "jobs while idle at minimum 0")
local from = H.logsize()
-- 8 trials on 1-core jobs: the maximum, 2 jobs
local got = spy.freqanalysis(data, cfg(nil))
H.check(H.maxdiff(got, want) == 0, "adaptive result differs from the sequential one")
H.check(cl.requested == 2, "requested %d jobs, want the maximum 2", cl.requested)
H.check(#H.jobs(name) <= 2, "more than maximum_jobs jobs: %d", #H.jobs(name))
-- idle: back to 0 jobs after the wait
H.wait_until(60, function() return #H.jobs(name) == 0 end, "idle jobs to be cancelled")
H.check(cl.requested == 0, "requested %d after idling", cl.requested)
local log = H.log_since(from)
H.check(log:find("-> 2 jobs (a computation starts)", 1, true), "no scale-up in the log:\n%s", log)
H.check(log:find("2 -> 0 jobs (idle)", 1, true), "no scale-down in the log:\n%s", log)
H.check(not log:find("was lost", 1, true), "a worker was lost while scaling down:\n%s", log)

-- one trial: one job only
from = H.logsize()
local one = data:selectdata{ trials = { 1 } }
local w1 = spy.freqanalysis(one, cfg(false))
got = spy.freqanalysis(one, cfg(nil))
H.check(H.maxdiff(got, w1) == 0, "one-trial result differs")
log = H.log_since(from)
H.check(log:find("adapts: 0 -> 1 jobs", 1, true) and not log:find("-> 2 jobs", 1, true),
        "one trial did not get exactly one job:\n%s", log)

-- scale() ends adaptive mode
cl:scale(1)
H.sleep(4)
H.check(cl.requested == 1, "scale(1) did not stick: %d", cl.requested)
cl:close()
H.wait_until(30, function() return #H.jobs(name) == 0 end, "squeue to be empty")
print("adapt: ok")
