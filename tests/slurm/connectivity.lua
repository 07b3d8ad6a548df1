-- connectivityanalysis through a SLURMCluster gives the sequential numbers
-- exactly: the workers re-plan "connectivityanalysis" from the cfg, compute
-- each trial's cross spectra and ship the float64 blocks of the custom
-- reduction; the session sums them in trial order and finalizes (coh, ppc,
-- granger, corr) or writes single trials (csd, corr with keeptrials).
local H = dofile(arg[0]:match("^(.*)/") .. "/helpers.lua")

local data = spy.synthdata.ar2_network{ AdjMat = { { 0, 0.2, 0 }, { 0, 0, 0 }, { 0, 0, 0 } }, nSamples = 500,
                                        nTrials = 16, seed = 3 }
local cl = H.cluster{}
cl:scale(2)
local client = spy.Client(cl)
local cases = {
  { method = "coh", tapsmofrq = 5 },
  { method = "coh", output = "complex" },
  { method = "coh", jackknife = true },
  { method = "ppc" },
  { method = "granger", tapsmofrq = 5 },
  { method = "csd", keeptrials = true },
  { method = "corr" },
  { method = "corr", keeptrials = true, select = { trials = { 3, 1, 7 } } },
}
for i, cfg in ipairs(cases) do
  local remote = spy.connectivityanalysis(data, cfg)
  local seq = {}
  for k, v in pairs(cfg) do seq[k] = v end
  seq.parallel = false
  local want = spy.connectivityanalysis(data, seq)
  local d = H.maxdiff(remote, want)
  H.check(d == 0, "case %d (%s): max |slurm - sequential| = %g", i, cfg.method, d)
  H.check(remote.log:find("used_parallel = True", 1, true), "case %d: not run in parallel", i)
  if cfg.jackknife then
    H.check((remote.jack_var - want.jack_var):abs():max() == 0, "jackknife travels")
  end
  if cfg.method == "granger" then
    H.check(remote.info["converged"] == want.info["converged"], "granger info travels")
  end
end
local name = cl.job_name
client:close()
cl:close()
H.check(#H.jobs(name) == 0, "jobs left after close: %s", table.concat(H.jobs(name), " "))
print("connectivity: ok")
