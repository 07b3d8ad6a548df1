-- scripts/spy-sbatch: a spy script runs as a batch job to completion; its
-- log has plain lines (no progress-bar redraws) and the exit status; a
-- LocalCluster in the job defaults to the allocated CPUs; a failing script
-- fails the job.
local H = dofile(arg[0]:match("^(.*)/") .. "/helpers.lua")
local dir = H.sh("mktemp -d"):gsub("%s+$", "")
local sbatch = os.getenv("SPY_SOURCE_DIR") .. "/scripts/spy-sbatch"

local function write(name, text)
  local f = io.open(dir .. "/" .. name, "w")
  f:write(text)
  f:close()
  return dir .. "/" .. name
end

local good = write("analysis.lua", [[
local cluster = spy.LocalCluster{}
print("workers", cluster.n_workers, os.getenv("SLURM_CPUS_PER_TASK"))
spy.Client(cluster)
local d = spy.synthdata.white_noise{ nTrials = 120, nSamples = 4000, nChannels = 16, seed = 3 }
local s = spy.freqanalysis(d, { method = "mtmfft", tapsmofrq = 20 })
spy.save(s, arg[1])
print("saved", arg[1], arg[2])
]])
local bad = write("broken.lua", 'print("before")\nerror("boom in the script")\n')

-- submits; returns job id and log path
local function submit(args)
  local out, ok = H.sh(("SPY_SBATCH_DIR=%q %q %s"):format(dir, sbatch, args))
  H.check(ok, "spy-sbatch failed:\n%s", out)
  local id = tonumber(out:match("Submitted spy job (%d+)"))
  local log = out:match("\nlog: ([^\n]+)")
  H.check(id and log, "spy-sbatch printed:\n%s", out)
  return id, log
end

local function finish(id)
  H.wait_until(300, function() local s = H.state(id) return s ~= "PENDING" and s ~= "RUNNING" and s ~= "COMPLETING" end, "job " .. id)
  return H.state(id)
end

local out = dir .. "/result.spy"
local id, log = submit(("-c 2 --mem=800M -t 10 %q %q 'two words'"):format(good, out))
local state = finish(id)
local text = io.open(log):read("a")
H.check(state == "COMPLETED", "job %d %s; log:\n%s", id, state, text)
H.check(text:find("workers\t2\t2\n", 1, true), "LocalCluster default is not the allocation:\n%s", text)
H.check(text:find("saved\t" .. out .. "\ttwo words\n", 1, true), "script arguments:\n%s", text)
H.check(text:find("| 100% Completed |", 1, true), "progress lines:\n%s", text)
H.check(not text:find("\r", 1, true), "carriage returns in the log")
H.check(text:match("spy%-sbatch: [%d%- :]+ exit status 0\n$"), "exit status line:\n%s", text)
local again = spy.load(out)
H.check(#again.trials == 120, "saved result")

id, log = submit(("%q"):format(bad))
state = finish(id)
text = io.open(log):read("a")
H.check(state == "FAILED", "a failing script: job %s", state)
H.check(text:find("boom in the script", 1, true) and text:find("exit status 1\n", 1, true), "log:\n%s", text)
os.execute("rm -rf " .. dir)
print("sbatch: ok")
