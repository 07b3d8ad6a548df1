-- In-allocation mode on Slurm: scripts/spy-sbatch --ntasks 3 runs
-- `srun spy tests/ranks/ranks.lua` in one job; that script (rank 0) attaches
-- the two other ranks with spy.Client(), checks its results against the
-- sequential ones exactly and SIGKILLs rank 1 while it computes (its tasks
-- re-run on rank 2).  Nothing connects to this session; squeue is empty after.
local H = dofile(arg[0]:match("^(.*)/") .. "/helpers.lua")
local src = os.getenv("SPY_SOURCE_DIR")
local dir = H.sh("mktemp -d"):gsub("%s+$", "")
local name = "spy-ranks"
local out, ok = H.sh(("cd %q && SPY_SBATCH_DIR=%q %q/scripts/spy-sbatch --ntasks 3 --overcommit -t 5 " ..
                      "-o %q/job.out %q/tests/ranks/ranks.lua")
                     :format(dir, dir, src, dir, src))
H.check(ok, "spy-sbatch failed:\n%s", out)
local id = tonumber(out:match("Submitted spy job (%d+)"))
H.check(id, "no job id in:\n%s", out)
local script = H.sh(("cat %q/*.sh"):format(dir))
H.check(script:find("srun --kill-on-bad-exit=0 ", 1, true), "the job does not use srun:\n%s", script)
H.wait_until(300, function() return H.state(id) == "" or H.state(id) == "COMPLETED" or
                                      H.state(id) == "FAILED" end, "job " .. id)
H.wait_until(30, function() return #H.jobs(name) == 0 end, "squeue to drop job " .. id)
local log = H.sh(("cat %q/job.out"):format(dir))
H.check(log:find("ranks: ok", 1, true), "the job's script did not finish:\n%s", log)
H.check(log:find("worker rank-1-" .. id .. ".0 was lost", 1, true), "rank 1 was not lost:\n%s", log)
H.check(#H.jobs(name) == 0, "jobs left")
os.execute("rm -rf " .. dir)
print("slurm ranks: ok")
