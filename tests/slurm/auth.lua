-- Connections without the cluster's secret are refused and logged while a
-- computation runs, and the computation completes with the sequential
-- numbers: garbage, an oversized length, a silent peer, and a real worker
-- with the wrong secret (which is told so and exits non-zero).  The raw
-- peers read until the session hangs up, so the session has read what they
-- sent (closing with the greeting unread would reset the connection first).
local H = dofile(arg[0]:match("^(.*)/") .. "/helpers.lua")
local dir = H.sh("mktemp -d"):gsub("%s+$", "")

local data = spy.synthdata.white_noise{ nTrials = 120, nSamples = 4000, nChannels = 16, seed = 5, parallel = false }
local cfg = { method = "mtmfft", tapsmofrq = 20, foilim = { 1, 300 } }
local want = spy.freqanalysis(data, { method = "mtmfft", tapsmofrq = 20, foilim = { 1, 300 }, parallel = false })

local cl = H.cluster{}
cl:scale(2)
spy.Client(cl)
cl:wait_for_workers(2)
local port = cl.address:match(":(%d+)$")
H.check(H.sh("stat -c %a " .. cl.directory .. "/secret"):match("^600"), "secret file mode 0600")
H.check(H.sh("stat -c %a " .. cl.directory):match("^700"), "cluster directory mode 0700")

local attacker = dir .. "/attack.sh"
local f = io.open(attacker, "w")
f:write(([[
set -u
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > %s/wrong && chmod 600 %s/wrong
n=0
while [ ! -e %s/stop ]; do
  exec 3<>/dev/tcp/127.0.0.1/%s && printf '\0\0\0\1\011' >&3 && timeout 5 cat <&3 >/dev/null; exec 3>&-
  exec 3<>/dev/tcp/127.0.0.1/%s && printf '\377\377\377\377\002' >&3 && timeout 5 cat <&3 >/dev/null; exec 3>&-
  exec 3<>/dev/tcp/127.0.0.1/%s && (sleep 0.2; exec 3>&-) &
  %q --worker tcp://127.0.0.1:%s --secret-file %s/wrong --local-directory %s >>%s/worker.log 2>&1; echo "exit $?" >>%s/worker.log
  n=$((n + 1)); echo $n > %s/count
done
]]):format(dir, dir, dir, port, port, port, H.spy_bin(), port, dir, dir, dir, dir, dir))
f:close()
os.execute("bash " .. attacker .. " >/dev/null 2>&1 &")
H.wait_until(60, function() local c = io.open(dir .. "/count") if c then c:close() return true end end, "first attack")

local from = H.logsize()
local got = spy.freqanalysis(data, cfg)
-- the attacker rewrites the count after every round (`echo $n > count` truncates first), so
-- a read can catch the file empty: read until it holds a number
local before
for _ = 1, 100 do
  local c = io.open(dir .. "/count")
  before = c and tonumber(c:read("a"))
  if c then c:close() end
  if before then break end
  os.execute("sleep 0.05")
end
os.execute("touch " .. dir .. "/stop")
H.check(H.maxdiff(got, want) == 0, "result under attack differs: %g", H.maxdiff(got, want))
local log = H.log_since(from)
H.check(log:find("refused connection from 127.0.0.1:%d+ to cluster " .. cl.id .. ": authentication failed"), "no refusal of the wrong secret:\n%s", log)
H.check(log:find("refused connection from 127.0.0.1:%d+ to cluster %x+: not a spy worker"), "no refusal of garbage")
H.check(log:find("refused connection from 127.0.0.1:%d+ to cluster %x+: message over the size limit"), "no refusal of the oversized frame")
H.check(before and before >= 1, "attacks ran during the computation")
local w = io.open(dir .. "/worker.log"):read("a")
H.check(w:find("the session refused this worker: authentication failed", 1, true) and w:find("exit 1", 1, true),
        "the wrong-secret worker was not told:\n%s", w)
H.check(cl.workers == 2, "the real workers are still there")
cl:close()
os.execute("rm -rf " .. dir)
print("auth: ok")
