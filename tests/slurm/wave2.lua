-- The second-wave analyses that tests/slurm/connectivity.lua does not run,
-- through a SLURMCluster of two workers: mean/var over trials,
-- timelockanalysis with covariance, resampledata and
-- freqanalysis(output='fooof', keeptrials=False) give the sequential numbers
-- exactly (max |difference| == 0); fooof with kept trials is refused (the fits
-- would stay on the workers) and the cluster goes on serving.
local H = dofile(arg[0]:match("^(.*)/") .. "/helpers.lua")

local wn = spy.synthdata.white_noise{ nTrials = 9, nSamples = 1000, nChannels = 4, samplerate = 1000, seed = 5,
                                      parallel = false }
local cases = {
  { "mean", "trials" },
  { "var", "trials" },
  { "resampledata", { method = "resample", resamplefs = 300 } },
  { "resampledata", { method = "downsample", resamplefs = 500 } },
  { "freqanalysis", { method = "mtmfft", taper = "hann", output = "fooof", foilim = { 1, 100 }, keeptrials = false } },
}
local want = {}
for i, c in ipairs(cases) do want[i] = spy[c[1]](wn, H.seqcfg(c[2])) end
local tl_want = spy.timelockanalysis(wn, { covariance = true, parallel = false })

local cl = H.cluster{}
cl:scale(2)
local client = spy.Client(cl)
cl:wait_for_workers(2)
for i, c in ipairs(cases) do
  local got = spy[c[1]](wn, c[2])
  H.check(got.log:find("used_parallel = True", 1, true), "case %d (%s): not run in parallel", i, c[1])
  local d = H.maxdiff(got, want[i])
  H.check(d == 0, "case %d (%s): max |slurm - sequential| = %g", i, c[1], d)
  if c[1] == "freqanalysis" then
    H.check(spy.pretty(got.metadata) == spy.pretty(want[i].metadata), "fooof metadata differ")
  end
end
local tl = spy.timelockanalysis(wn, { covariance = true })
for _, f in ipairs { "avg", "var", "cov" } do
  local d = (tl[f]:astype("float64") - tl_want[f]:astype("float64")):abs():max()
  H.check(d == 0, "timelockanalysis %s: max |slurm - sequential| = %g", f, d)
end
local ok, err = pcall(spy.freqanalysis, wn, { method = "mtmfft", taper = "hann", output = "fooof", foilim = { 1, 100 } })
H.check(not ok and tostring(err):find("cannot run on remote workers; use a LocalCluster or parallel=False", 1, true),
        "fooof with kept trials on Slurm workers: %s", tostring(err))
H.check(H.maxdiff(spy.mean(wn, "trials"), want[1]) == 0, "the cluster serves after the refusal")
local name = cl.job_name
client:close()
cl:close()
H.wait_until(30, function() return #H.jobs(name) == 0 end, "jobs to go after close")
print("wave2: ok")
