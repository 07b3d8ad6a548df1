-- Clusters and clients as a Syncopy user meets them (issue 19, items 6 and 8):
-- a SLURMCluster on a machine without Slurm says so and leaves no log folder.
local spy = require "spy"

-- Runs a spy script with PATH pointing nowhere (no sbatch) and HOME in a
-- scratch folder; returns its output and the scratch folder.
local function run_without_slurm(body)
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute(("mkdir -p %q/home"):format(dir)))
  local script = dir .. "/t.lua"
  local f = assert(io.open(script, "w"))
  f:write(body)
  f:close()
  local out = dir .. "/out.txt"
  assert.is_true(os.execute(("HOME=%q/home PATH=/nonexistent %q %q >%q 2>&1"):format(
    dir, assert(os.getenv("SPY_BIN")), script, out)))
  local text = assert(io.open(out)):read("a")
  return text, dir
end

local function exists(path)
  return os.rename(path, path) ~= nil
end

describe("SLURMCluster without Slurm", function()
  it("says Slurm is not installed, suggests spy.LocalCluster and leaves no log folder", function()
    local text, dir = run_without_slurm([[
local logs = os.getenv("HOME") .. "/../slurmlogs"
local c = spy.SLURMCluster{cores=1, memory="1 GB", processes=1, queue="q", log_directory=logs}
print("scale", pcall(c.scale, c, 1))
c:close()
local c2 = spy.SLURMCluster{cores=1, memory="1 GB", processes=1, queue="q"}
print("default", c2.log_directory)
c2:close()
print("n_workers", pcall(spy.SLURMCluster, {cores=1, memory="1 GB", processes=1, queue="q", n_workers=1}))
]])
    local msg = "Slurm is not installed on this machine (no `sbatch` on PATH): a SLURMCluster cannot "
      .. "start workers here; use spy.LocalCluster{n_workers=...} to compute on this machine"
    assert.is_truthy(text:find("scale\tfalse\t" .. msg, 1, true), text)
    assert.is_truthy(text:find("n_workers\tfalse\t" .. msg, 1, true), text)
    local default = assert(text:match("default\t([^\n]+)"), text)
    assert.is_falsy(exists(dir .. "/slurmlogs"))
    assert.is_falsy(exists(default))
    assert.is_truthy(exists(dir .. "/home")) -- the check above can see folders
    os.execute(("rm -rf %q"):format(dir))
  end)

  it("keeps esi_cluster_setup's fall-back to a LocalCluster, as ACME does", function()
    local text = run_without_slurm([[
local client = spy.esi_cluster_setup{partition="8GBXS", n_workers=1}
print("client", client)
]])
    assert.is_truthy(text:find("client\t<Client: 'local://spy' workers=", 1, true), text)
  end)
end)
