-- No job outlives its session: squeue is empty after cluster:close(), after
-- a script ends, fails, calls os.exit, or is stopped by Ctrl-C or SIGTERM;
-- a worker whose session was killed exits by itself; and
-- spy.cluster_cleanup() cancels what a killed session left pending.
local H = dofile(arg[0]:match("^(.*)/") .. "/helpers.lua")
local dir = H.sh("mktemp -d"):gsub("%s+$", "")
local child = dir .. "/child.lua"
local f = io.open(child, "w")
f:write([[
local mode = arg[1]
local cl = spy.SLURMCluster{ cores = 1, memory = "300MB", processes = 1, walltime = "00:15:00",
                             interface = "lo", timeout = 180,
                             job_extra_directives = mode == "kill-running" and {} or { "--hold" } }
cl:scale(2)
print(cl.job_name)
io.stdout:flush()
if mode == "error" then error("boom") end
if mode == "exit" then os.exit(3, false) end
if mode == "wait" or mode == "kill-running" then cl:wait_for_workers(2); print("up"); io.stdout:flush(); cl:wait_for_workers(3) end
]])
f:close()

-- runs the child; `act(pid, name)` once its jobs exist; returns name, exit status
local function run(mode, act)
  local p = io.popen(("sh -c 'echo $$; exec %q %q %q' 2>&1"):format(H.spy_bin(), child, mode))
  local pid = tonumber(p:read("l"))
  local name
  repeat name = p:read("l") until not name or name:match("^spy%-worker%-")
  H.check(name and name:match("^spy%-worker%-"), "%s: child printed %s", mode, tostring(name))
  if act then
    H.wait_until(60, function() return #H.jobs(name) == 2 end, mode .. ": 2 jobs")
    act(pid, name, p)
  end
  local rest = p:read("a")
  local _, _, code = p:close()
  return name, code, rest
end

local function gone(name, what)
  H.wait_until(30, function() return #H.jobs(name) == 0 end, what .. ": jobs to go")
end

-- close
local cl = H.cluster{ job_extra_directives = { "--hold" } }
cl:scale(3)
H.check(#H.jobs(cl.job_name) == 3, "3 jobs")
cl:close()
H.check(#H.jobs(cl.job_name) == 0, "close cancels synchronously")

-- the end of a script, an error, os.exit: jobs are cancelled before the process ends
for _, mode in ipairs{ "end", "error", "exit" } do
  local name, code = run(mode)
  H.check(#H.jobs(name) == 0, "%s: jobs left: %s", mode, table.concat(H.jobs(name), " "))
  H.check(code == ({ ["end"] = 0, error = 1, exit = 3 })[mode], "%s: exit status %s", mode, tostring(code))
end

-- Ctrl-C while waiting for workers, SIGTERM
local name, code = run("wait", function(pid) os.execute("kill -INT " .. pid) end)
gone(name, "SIGINT")
H.check(code == 130, "SIGINT: exit status %s", tostring(code))
name = run("wait", function(pid) os.execute("kill -TERM " .. pid) end)
gone(name, "SIGTERM")

-- SIGKILL: running workers notice and exit; held jobs wait for cluster_cleanup
name = run("kill-running", function(pid, _, p)
  local line
  repeat line = p:read("l") until not line or line == "up"
  H.check(line == "up", "workers up")
  os.execute("kill -KILL " .. pid)
end)
gone(name, "workers of a killed session")
name = run("wait", function(pid) os.execute("kill -KILL " .. pid) end)
H.sleep(1)
H.check(#H.jobs(name) == 2, "held jobs of a killed session stay")
local from = H.logsize()
spy.cluster_cleanup()
H.check(#H.jobs(name) == 0, "cluster_cleanup cancels them")
H.check(H.log_since(from):find("Cancelled 2 Slurm jobs left over by earlier sessions", 1, true), "cleanup message")
os.execute("rm -rf " .. dir)
print("cleanup: ok")
