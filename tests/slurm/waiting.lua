-- Waiting for Slurm workers is visible at the default log level: a child
-- session whose jobs stay pending (held) shows "0/2 workers available,
-- waiting.. 0s (jobs: 2 PENDING ...)" on its console at IMPORTANT, with
-- squeue's reason, at most every few seconds, until the timeout error; the
-- dashboard's status.json shows the same waiting line and the jobs' reason
-- while the prompt waits, and spy.status() lists the pending jobs.
local H = dofile(arg[0]:match("^(.*)/") .. "/helpers.lua")
local dir = H.sh("mktemp -d"):gsub("%s+$", "")
local script = dir .. "/child.lua"
local f = assert(io.open(script, "w"))
f:write([[
local cl = spy.SLURMCluster{ cores = 1, memory = "300MB", processes = 1, walltime = "00:15:00", interface = "lo",
                             timeout = 9, job_extra_directives = { "--hold" }, dashboard_address = ":0" }
cl:scale(2)
local client = spy.Client(cl)
local link = client.dashboard_link
os.execute("sleep 3")   -- the monitor has asked squeue by now
io.stdout:write("STATUS\n")
spy.status()
io.stdout:write("END STATUS\n")
io.stdout:flush()
-- while the prompt waits for workers, ask the dashboard (its own thread)
local port, token = link:match(":(%d+)/status%?token=(%x+)")
os.execute("(sleep 5; bash -c 'exec 3<>/dev/tcp/127.0.0.1/" .. port .. "; printf \"GET /json/status.json?token=" .. token ..
           " HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nConnection: close\\r\\n\\r\\n\" >&3; cat <&3' > ]] .. dir .. [[/status.json) &")
local data = spy.synthdata.white_noise{ nTrials = 2, nSamples = 100, nChannels = 2, seed = 1, parallel = false }
local ok, err = pcall(spy.freqanalysis, data, { method = "mtmfft", taper = "hann" })
print("RESULT", ok, err)
cl:close()
]])
f:close()

local out = H.sh("SPYLOGLEVEL= " .. os.getenv("SPY_BIN") .. " " .. script)
print("---- transcript ----\n" .. out .. "---- end ----")

-- the waiting lines at the default level
local shown = {}
for t, line in out:gmatch("(%d%d:%d%d:%d%d) %- IMPORTANT: (0/2 workers available, waiting%.%. [^\n]*)") do
  shown[#shown + 1] = { t = t, line = line }
end
H.check(#shown >= 2 and #shown <= 3, "2 or 3 waiting lines in 9 s, got %d", #shown)
H.check(shown[1].line:match("^0/2 workers available, waiting%.%. 0s %(jobs: 2 PENDING"), "first: %s", shown[1].line)
local secs = {}
for i, s in ipairs(shown) do secs[i] = tonumber(s.line:match("waiting%.%. (%d+)s")) end
for i = 2, #secs do H.check(secs[i] - secs[i - 1] >= 5, "at most every few seconds: %s", table.concat(secs, ", ")) end
H.check(shown[#shown].line:find("(jobs: 2 PENDING (JobHeldUser))", 1, true), "the pending reason: %s", shown[#shown].line)
H.check(not out:gsub("STATUS\n.-END STATUS", ""):find("- INFO:", 1, true), "no INFO lines on the default console")
H.check(out:find("RESULT\tfalse\t[^\n]*0/2 workers available after the timeout of 9 s %(jobs: 2 PENDING %(JobHeldUser%)%)"),
        "the timeout error is unchanged")

-- spy.status() while the jobs are pending
local status = out:match("STATUS\n(.-)END STATUS")
H.check(status and status:find("workers: 0 available, 0 busy", 1, true), "status: %s", tostring(status))
local njobs = 0
for _ in status:gmatch("Slurm job %d+ without a worker: PENDING %(JobHeldUser%)") do njobs = njobs + 1 end
H.check(njobs == 2, "both pending jobs with their reason in spy.status():\n%s", status)

-- the dashboard during the wait
local jf = io.open(dir .. "/status.json")
local json = jf and jf:read("a") or ""
if jf then jf:close() end
H.check(json:find('"waiting":{"message":"0/2 workers available, waiting.. ', 1, true), "status.json waiting: %s", json)
H.check(json:find('"state":"PENDING","reason":"JobHeldUser"', 1, true), "status.json jobs: %s", json)

-- a Slurm worker on the dashboard: its tasks and the tail of its job's log
local function http_get(lnk, path)
  local port, token = lnk:match(":(%d+)/status%?token=(%x+)")
  return H.sh("bash -c 'exec 3<>/dev/tcp/127.0.0.1/" .. port .. "; printf \"GET " .. path .. "?token=" .. token ..
              " HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nConnection: close\\r\\n\\r\\n\" >&3; cat <&3'")
end
local cl = H.cluster{ dashboard_address = ":0" }
cl:scale(1)
local client = spy.Client(cl)
local data = spy.synthdata.white_noise{ nTrials = 3, nSamples = 500, nChannels = 4, seed = 1, parallel = false }
spy.freqanalysis(data, { method = "mtmfft", taper = "hann", chan_per_worker = 2 })
local workers = http_get(client.dashboard_link, "/info/workers")
local id = workers:match('/info/worker/(%d+)%?token=%x+">%d+</a></td><td>spy%-worker%-')
H.check(id, "the Slurm worker is listed:\n%s", workers)
local page = http_get(client.dashboard_link, "/info/worker/" .. id)
H.check(page:find("<tr><th>slurm_job</th><td>%d+</td></tr>") and page:find("<td>trial 3, channels 3-4</td><td>done</td>", 1, true),
        "the worker's tasks:\n%s", page)
H.check(page:find('<pre id="log">==&gt; [^\n]*%.err &lt;==\n'), "the worker's log tail:\n%s", page)
cl:close()
client:close()
os.execute("rm -rf " .. dir)
print("waiting: ok")
