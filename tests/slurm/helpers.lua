-- Shared helpers of the Slurm end-to-end tests (run by run.sh with the spy
-- shell; `spy` is the global namespace).  Failures raise, so the script
-- exits non-zero with the message.
local H = {}

function H.check(cond, fmt, ...)
  if not cond then error(string.format(fmt or "check failed", ...), 2) end
  return cond
end

-- stdout of a shell command, and whether it succeeded
function H.sh(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  local ok = p:close()
  return out, ok
end

function H.sleep(s) os.execute("sleep " .. s) end

-- polls fn every 0.2 s until it returns true or `seconds` pass
function H.wait_until(seconds, fn, what)
  local t0 = os.time()
  while os.time() - t0 < seconds do
    if fn() then return true end
    H.sleep(0.2)
  end
  error("timed out after " .. seconds .. " s waiting for " .. what, 2)
end

-- ids of the jobs named `name` that squeue still lists as pending or running
function H.jobs(name)
  local out = H.sh("squeue -h -n " .. name .. " -t PD,R,CG,CF -o %i")
  local ids = {}
  for id in out:gmatch("%d+") do ids[#ids + 1] = tonumber(id) end
  return ids
end

-- squeue's state of one job ("" once purged)
-- a job's state, "" once Slurm has forgotten it (squeue then answers "Invalid job id")
function H.state(id)
  local out = H.sh("squeue -h -t all -j " .. id .. " -o %T")
  return out:match("^%s*(%u[%u_]*)%s*$") or ""
end

-- max |a - b| over all trials of two data objects (same shapes)
function H.maxdiff(a, b)
  H.check(#a.trials == #b.trials, "trial counts differ: %d vs %d", #a.trials, #b.trials)
  local m = 0
  for k = 1, #a.trials do
    local x, y = a.trials[k], b.trials[k]
    H.check(#x.shape == #y.shape, "trial %d: ranks differ", k)
    for i = 1, #x.shape do H.check(x.shape[i] == y.shape[i], "trial %d: shapes differ", k) end
    local d = (x - y):abs():max()
    if d > m then m = d end
  end
  return m
end

-- the pid of rank k of this in-allocation run (`spy --ranks N` or `srun -n N spy`),
-- found by its environment
local function mypid()
  local f = io.open("/proc/self/stat")
  local pid = tonumber(f:read("a"):match("^(%d+)"))
  f:close()
  return pid
end
function H.rank_pid(k)
  local keys
  if os.getenv("SPY_RANKS_ID") then
    keys = { "SPY_RANKS_ID=" .. os.getenv("SPY_RANKS_ID"), "SPY_RANK=" .. k }
  else
    keys = { "SLURM_JOB_ID=" .. os.getenv("SLURM_JOB_ID"), "SLURM_STEP_ID=" .. os.getenv("SLURM_STEP_ID"),
             "SLURM_PROCID=" .. k }
  end
  local me = mypid()
  for pid in H.sh("ls /proc"):gmatch("%d+") do
    local f = tonumber(pid) ~= me and io.open("/proc/" .. pid .. "/environ")
    local env = f and f:read("a")
    if f then f:close() end
    local c = io.open("/proc/" .. pid .. "/comm")
    local comm = c and c:read("l")
    if c then c:close() end
    if env and comm == "spy" then
      local all = true
      for _, k in ipairs(keys) do all = all and ("\0" .. env):find("\0" .. k .. "\0", 1, true) ~= nil end
      if all then return tonumber(pid) end
    end
  end
  error("rank " .. k .. " not found")
end

-- cfg with parallel=false added (a copy; a non-table, e.g. a dim name, as it is)
function H.seqcfg(cfg)
  if type(cfg) ~= "table" then return cfg end
  local t = { parallel = false }
  for k, v in pairs(cfg) do t[k] = v end
  return t
end

-- a SLURMCluster with small test jobs (loopback only)
function H.cluster(opts)
  local o = { cores = 1, memory = "300MB", processes = 1, walltime = "00:15:00", interface = "lo",
              timeout = 180 }
  for k, v in pairs(opts or {}) do o[k] = v end
  return spy.SLURMCluster(o)
end

-- the session's log file (SPYLOGDIR/spy.log) from byte `from` on
function H.logsize()
  local f = io.open(os.getenv("HOME") .. "/.spy/logs/spy.log", "r")
  if not f then return 0 end
  local n = f:seek("end")
  f:close()
  return n
end

function H.log_since(from)
  local f = io.open(os.getenv("HOME") .. "/.spy/logs/spy.log", "r")
  if not f then return "" end
  f:seek("set", from)
  local s = f:read("a")
  f:close()
  return s
end

function H.dir_of_test() return (arg[0]:match("^(.*)/[^/]*$") or ".") end

function H.spy_bin() return os.getenv("SPY_BIN") end

return H
