-- The second wave on in-allocation ranks (`spy --ranks 3`, see tests.cmake):
-- connectivityanalysis, mean/var over trials, timelockanalysis, resampledata
-- and freqanalysis(output='fooof', keeptrials=False) give the sequential
-- numbers exactly (max |difference| == 0) on two worker ranks; a rank killed
-- (SIGKILL) during coh and during a mean has its tasks re-run on the other;
-- once every rank is lost, the next call fails at once naming the cause (it
-- waited the 360 s worker timeout for ranks that never come back), leaves no
-- file behind, and the session goes on with parallel=False.
local here = arg[0]:match("^(.*)/") or "."
local H = dofile(here .. "/../slurm/helpers.lua")
H.check(tonumber(os.getenv("SPY_NRANKS")) == 3, "run with 3 ranks")

local function cputicks(pid)
  local f = io.open("/proc/" .. pid .. "/stat")
  local s = f:read("a")
  f:close()
  local fields = {}
  for w in s:match("%) (.*)$"):gmatch("%S+") do fields[#fields + 1] = w end
  return tonumber(fields[12]) + tonumber(fields[13])
end
-- kills rank k once it has computed for 50 ms more (bounded: gives up after 60 s)
local function kill_busy(k)
  local victim = H.rank_pid(k)
  os.execute(("(timeout 60 sh -c 'while t=$(awk \"{print \\$14+\\$15}\" /proc/%d/stat 2>/dev/null); do " ..
              "[ \"$t\" -ge %d ] && exec kill -9 %d; sleep 0.01; done') >/dev/null 2>&1 &")
             :format(victim, cputicks(victim) + 5, victim))
end
local function files()
  local set = {}
  for f in io.popen('ls "' .. spy.__storage__ .. '"'):lines() do set[f] = true end
  return set
end
-- a file of `now` that `before` had not (objects collected meanwhile take theirs away)
local function new_file(before, now)
  for f in pairs(now) do
    if not before[f] then return f end
  end
end
local ar = spy.synthdata.ar2_network{ AdjMat = { { 0, 0.2, 0 }, { 0, 0, 0 }, { 0, 0, 0 } }, nSamples = 500,
                                      nTrials = 30, seed = 3 }
local wn = spy.synthdata.white_noise{ nTrials = 9, nSamples = 1000, nChannels = 4, samplerate = 1000, seed = 5,
                                      parallel = false }
local cases = {
  { "connectivityanalysis", ar, { method = "coh", tapsmofrq = 5 } },
  { "connectivityanalysis", ar, { method = "csd", keeptrials = true } },
  { "connectivityanalysis", ar, { method = "granger", tapsmofrq = 5 } },
  { "connectivityanalysis", ar, { method = "ppc" } },
  { "connectivityanalysis", ar, { method = "corr" } },
  { "mean", wn, "trials" },
  { "var", wn, "trials" },
  { "resampledata", wn, { method = "resample", resamplefs = 300 } },
  { "freqanalysis", wn, { method = "mtmfft", taper = "hann", output = "fooof", foilim = { 1, 100 }, keeptrials = false } },
}
local want = {}
for i, c in ipairs(cases) do want[i] = spy[c[1]](c[2], H.seqcfg(c[3])) end
local tl_want = spy.timelockanalysis(wn, { covariance = true, parallel = false })

local client = spy.Client()
H.wait_until(60, function() return client.n_workers == 2 end, "2 rank workers")

-- 1. the sequential numbers exactly
for i, c in ipairs(cases) do
  local got = spy[c[1]](c[2], c[3])
  H.check(got.log:find("used_parallel = True", 1, true), "case %d (%s): not run on the ranks", i, c[1])
  local d = H.maxdiff(got, want[i])
  H.check(d == 0, "case %d (%s): max |ranks - sequential| = %g", i, c[1], d)
  if c[1] == "freqanalysis" then
    H.check(spy.pretty(got.metadata) == spy.pretty(want[i].metadata), "fooof metadata differ")
  end
end
local tl = spy.timelockanalysis(wn, { covariance = true })
for _, f in ipairs { "avg", "var", "cov" } do
  local d = (tl[f]:astype("float64") - tl_want[f]:astype("float64")):abs():max()
  H.check(d == 0, "timelockanalysis %s: max |ranks - sequential| = %g", f, d)
end
local ok, err = pcall(spy.freqanalysis, wn, { method = "mtmfft", taper = "hann", output = "fooof", foilim = { 1, 100 } })
H.check(not ok and tostring(err):find("fooof: this computation keeps per-trial results in the session and cannot " ..
                                      "run on remote workers; use a LocalCluster or parallel=False", 1, true),
        "fooof with keeptrials on ranks: %s", tostring(err))

-- 2. a rank killed during coh: its trials re-run on the other rank
local big = spy.synthdata.ar2_network{ AdjMat = { { 0, 0.2, 0 }, { 0, 0, 0 }, { 0, 0, 0 } }, nSamples = 4000,
                                       nTrials = 120, seed = 4 }
local coh = { method = "coh", tapsmofrq = 5 }
local coh_want = spy.connectivityanalysis(big, H.seqcfg(coh))
kill_busy(1)
local from = H.logsize()
local d = H.maxdiff(spy.connectivityanalysis(big, coh), coh_want)
H.check(d == 0, "coh after a killed rank differs from the sequential one: %g", d)
local log = H.log_since(from)
H.check(log:find("was lost", 1, true) and log:find("died while running trial", 1, true),
        "no lost rank or re-run task:\n%s", log)
H.check(client.n_workers == 1, "workers after the kill: %d", client.n_workers)

-- 3. the last rank lost: the next call fails at once and leaves nothing behind
local victim = H.rank_pid(2)
os.execute("kill -9 " .. victim)
H.wait_until(30, function() return client.n_workers == 0 end, "the last rank to be lost")
local before, t0 = files(), os.time()
ok, err = pcall(spy.mean, wn, "trials")
H.check(not ok and tostring(err):find("is gone: the 2 in-allocation ranks of this run were lost (lost ranks are " ..
                                      "not replaced); run with parallel=False or start a new allocation", 1, true),
        "mean without ranks: %s", tostring(err))
H.check(os.time() - t0 <= 5, "the error took %d s", os.time() - t0)
H.check(not new_file(before, files()), "a file was left: %s", new_file(before, files()))
H.check(H.maxdiff(spy.mean(wn, "trials", { parallel = false }), want[6]) == 0, "the session goes on sequentially")
print("wave2 ranks: ok")
