-- Waiting for workers: a request that can never be scheduled (held jobs)
-- ends with the timeout error, the waiting lines (every 2 s, INFO) are in
-- the log file with squeue's reason, and no job is left.  Jobs that fail at
-- start end the wait at once with an error naming a job and its log.
local H = dofile(arg[0]:match("^(.*)/") .. "/helpers.lua")
local data = spy.synthdata.white_noise{ nTrials = 4, nSamples = 500, nChannels = 2, seed = 1, parallel = false }

local cl = H.cluster{ timeout = 7, job_extra_directives = { "--hold" } }
cl:scale(2)
spy.Client(cl)
local name = cl.job_name
H.check(#H.jobs(name) == 2, "2 jobs submitted")
local from, t0 = H.logsize(), os.time()
local ok, err = pcall(spy.freqanalysis, data, { method = "mtmfft", taper = "hann" })
err = tostring(err)
H.check(not ok, "the computation should have failed")
H.check(os.time() - t0 >= 6, "failed before the timeout")
H.check(err:find("0/2 workers available after the timeout of 7 s (jobs: 2 PENDING (JobHeldUser)): cancelled the 2 Slurm jobs of cluster " ..
                 cl.id, 1, true), "error: %s", err)
H.check(#H.jobs(name) == 0, "jobs left: %s", table.concat(H.jobs(name), " "))
local log = H.log_since(from)
H.check(log:match("%d%d:%d%d:%d%d %- INFO %- [^\n]* 0/2 workers available, waiting%.%. 2s %(jobs: 2 PENDING %(JobHeldUser%)%)"),
        "no waiting line in the log file:\n%s", log)
H.check(log:find("waiting.. 6s", 1, true), "waiting lines every 2 s:\n%s", log)
-- the cluster now asks for nothing
local ok2, err2 = pcall(spy.freqanalysis, data, { method = "mtmfft", taper = "hann" })
H.check(not ok2 and tostring(err2):find("has no workers: ask for some with cluster:scale(n)", 1, true), "%s", tostring(err2))
cl:close()

-- jobs whose worker cannot start: the wait ends when squeue reports them ended
local cl2 = H.cluster{ timeout = 120, spy = "/nonexistent/spy" }
cl2:scale(2)
spy.Client(cl2)
t0 = os.time()
ok, err = pcall(spy.freqanalysis, data, { method = "mtmfft", taper = "hann" })
err = tostring(err)
H.check(not ok and os.time() - t0 < 60, "should fail fast: %s", err)
H.check(err:match("every Slurm job of cluster %x+ ended before a worker connected %(jobs: 2 FAILED; job %d+ FAILED, see .*%.out%)"),
        "error: %s", err)
cl2:close()
print("timeout: ok")
