-- spy.esi_cluster_setup against partitions named like ESI's: the partition
-- is checked with sinfo, memory and cores come from scontrol (8GBXS has
-- DefMemPerCPU=MaxMemPerCPU=8000: 1 core, 8000 MB) or, when it sets none,
-- from the name (16GBXL: 16000 MB, 2 cores); larger requests are capped; the
-- call returns an attached client with a worker up, and reuses it.
local H = dofile(arg[0]:match("^(.*)/") .. "/helpers.lua")

local ok, err = pcall(spy.esi_cluster_setup, { partition = "32GBS" })
H.check(not ok and tostring(err):find("Invalid partition selection 32GBS, available SLURM partitions are ['debug', 'batch', '8GBXS', '16GBXL']", 1, true),
        "error: %s", tostring(err))
ok, err = pcall(spy.esi_cluster_setup, { partition = "8GBXS", n_jobs = 1, n_workers = 2 })
H.check(not ok and tostring(err):find("`n_jobs` and `n_workers` are the same option", 1, true), "%s", tostring(err))
ok, err = pcall(spy.esi_cluster_setup, { partition = "8GBXS", mem_per_job = "8 GB" })
H.check(not ok and tostring(err):find("`mem_per_job` has to be a valid memory specifier (e.g., '8GB', '12000MB'), not 8 GB", 1, true), "%s", tostring(err))

local client = spy.esi_cluster_setup{ partition = "8GBXS", n_jobs = 1, interface = "lo", timeout = 180 }
H.check(spy.get_client() == client, "the client is attached")
H.check(client.n_workers == 1, "one worker up")
local js = client.cluster:job_script()
for _, want in ipairs{ "\n#SBATCH -p 8GBXS\n", "\n#SBATCH --cpus-per-task=1\n", "\n#SBATCH --mem=8000M\n" } do
  H.check(js:find(want, 1, true), "8GBXS job script lacks %q:\n%s", want, js)
end
H.check(not js:find("#SBATCH -t", 1, true), "no walltime: the partition's default")
local d = spy.synthdata.white_noise{ nTrials = 10, nSamples = 1000, nChannels = 4, seed = 2, parallel = false }
H.check(H.maxdiff(spy.freqanalysis(d, { method = "mtmfft", taper = "hann" }),
                  spy.freqanalysis(d, { method = "mtmfft", taper = "hann", parallel = false })) == 0, "equal")
H.check(spy.esi_cluster_setup{ partition = "16GBXL" } == client, "a client with workers is reused")
local name = client.cluster.job_name
spy.cluster_cleanup()
H.check(#H.jobs(name) == 0, "cluster_cleanup cancels the jobs")

client = spy.esi_cluster_setup{ partition = "16GBXL", n_jobs = 1, interface = "lo", timeout = 180 }
js = client.cluster:job_script()
for _, want in ipairs{ "\n#SBATCH -p 16GBXL\n", "\n#SBATCH --cpus-per-task=2\n", "\n#SBATCH --mem=16000M\n" } do
  H.check(js:find(want, 1, true), "16GBXL job script lacks %q:\n%s", want, js)
end
H.check(tostring(client):match("processes=1 threads=2, memory=15%.62 GiB>$"), "client: %s", tostring(client))
spy.cluster_cleanup()

local from = H.logsize()
client = spy.esi_cluster_setup{ partition = "8GBXS", n_jobs = 1, mem_per_job = "9GB", cores_per_job = 1,
                                n_jobs_startup = 0, job_extra = { "--hold" }, interface = "lo" }
H.check(client.cluster:job_script():find("\n#SBATCH --mem=8000M\n#SBATCH --hold\n", 1, true), "capped")
H.check(H.log_since(from):find("`mem_per_job` exceeds limit of 8000 MB for partition 8GBXS. Capping memory at partition limit.", 1, true), "warning")
name = client.cluster.job_name
spy.cluster_cleanup()
H.check(#H.jobs(name) == 0, "no jobs left")
print("esi: ok")
