-- The handshake cannot be starved (issue #10): a client without the secret
-- holds 200 idle connections to the scheduler port -- re-opening every one
-- the session closes -- from before the workers start until the
-- computation has finished.  The workers still join, the computation
-- completes with the sequential numbers, the idle connections are refused
-- after the 5 s handshake deadline, and the refusals are rate-limited in the
-- log.  (Before: ~70 idle connections filled 64 handshake slots, workers got
-- "no greeting", exited, and the computation failed.)
local H = dofile(arg[0]:match("^(.*)/") .. "/helpers.lua")
local dir = H.sh("mktemp -d"):gsub("%s+$", "")

local data = spy.synthdata.white_noise{ nTrials = 60, nSamples = 2000, nChannels = 8, seed = 7, parallel = false }
local cfg = { method = "mtmfft", tapsmofrq = 10, foilim = { 1, 200 } }
local want = spy.freqanalysis(data, { method = "mtmfft", tapsmofrq = 10, foilim = { 1, 200 }, parallel = false })

local cl = H.cluster{}
local port = cl.address:match(":(%d+)$")

-- the hostile client: 200 idle connections, kept at 200; it records how many
-- it holds (min since start) and how many times it had to reconnect
local attacker = dir .. "/hold.py"
local f = io.open(attacker, "w")
f:write(([[
import os, selectors, socket, time
N, port, d = 200, %s, %q
sel = selectors.DefaultSelector()
def conn():
    s = socket.create_connection(("127.0.0.1", port))
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
held, reopened, low = 0, 0, None
for _ in range(N):
    conn(); held += 1
open(d + "/ready", "w").close()
while not os.path.exists(d + "/stop"):
    for key, _ in sel.select(timeout=0.2):
        s = key.fileobj
        try:
            gone = s.recv(65536) == b""
        except OSError:
            gone = True
        if gone:
            sel.unregister(s); s.close(); held -= 1
            low = held if low is None or held < low else low
            conn(); held += 1; reopened += 1
    with open(d + "/state.tmp", "w") as o:
        o.write("%%d %%d %%d\n" %% (held, reopened, N if low is None else low))
    os.replace(d + "/state.tmp", d + "/state")
]]):format(port, dir))
f:close()
os.execute("python3 " .. attacker .. " >" .. dir .. "/hold.log 2>&1 &")
H.wait_until(30, function() local r = io.open(dir .. "/ready") if r then r:close() return true end end, "200 idle connections")

local from = H.logsize()
cl:scale(2)
spy.Client(cl)
cl:wait_for_workers(2)
local got = spy.freqanalysis(data, cfg)
H.sleep(12) -- past two handshake deadlines, with the connections still held
local s = io.open(dir .. "/state"):read("a")
os.execute("touch " .. dir .. "/stop")
local held, reopened = s:match("^(%d+) (%d+)")
held, reopened = tonumber(held), tonumber(reopened)
H.check(H.maxdiff(got, want) == 0, "result under attack differs: %g", H.maxdiff(got, want))
H.check(cl.workers == 2, "both workers joined while 200 connections were held: %d", cl.workers)
H.check(held == 200, "the attacker held %d connections", held)
H.check(reopened >= 200, "the idle connections were closed by the handshake deadline (%d reopened)", reopened)
local log = H.log_since(from)
H.check(log:find("refused connection from 127.0.0.1:%d+ to cluster " .. cl.id .. ": no authentication within 5 s"),
        "no refusal of the idle connections:\n%s", log:sub(1, 2000))
local lines = select(2, log:gsub("refused connection", ""))
H.check(lines < 100, "refusals are not rate-limited: %d lines for %d connections", lines, reopened)
H.check(log:find("more refused connections", 1, true), "the rate limit does not say what it left out")
cl:close()
os.execute("rm -rf " .. dir)
print("dos: ok")
