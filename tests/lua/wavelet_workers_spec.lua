-- Wavelet and superlet on workers through the Lua API: the kernel bank is
-- made by the first tasks of a run, shared between the workers
-- (docs/internals/wavelets.md), and float32 data go to the kernels as
-- stored; the results are bit-identical to the sequential call for 1, 2
-- and 3 workers, whole trials or channel chunks, and a cfg replay.
local spy = require "spy"

local function same(a, b)
  assert.are.same(a.shape, b.shape)
  for k = 1, #b.trials do
    assert.are.equal(0, (a.trials[k] - b.trials[k]):abs():max(), ("trial %d differs"):format(k))
  end
end

describe("wavelet methods on workers", function()
  local data = spy.synthdata.white_noise{ nTrials = 6, nSamples = 2000, nChannels = 5, seed = 7 }
  local t = data.time[1]
  local toi = {}
  for i = 1, t.shape[1], 10 do toi[#toi + 1] = t:get(i) end
  local cases = {
    { method = "wavelet", foi = { 4, 8, 16, 32, 64 }, toi = toi, output = "fourier" },
    { method = "wavelet", wavelet = "Paul", order = 4, foi = { 5, 10, 20 }, toi = "all" },
    { method = "superlet", foi = { 10, 20, 40 }, order_max = 4, c_1 = 3, toi = toi },
  }

  it("give the sequential bytes for 1, 2 and 3 workers, with and without channel chunks", function()
    assert.are.equal("float32", data.dtype)
    local base = {}
    for i, c in ipairs(cases) do base[i] = spy.freqanalysis(data, c) end
    for _, n in ipairs { 1, 2, 3 } do
      local cluster = spy.LocalCluster{ n_workers = n }
      local client = spy.Client(cluster)
      for i, c in ipairs(cases) do
        same(spy.freqanalysis(data, c), base[i])
        local chunked = {}
        for k, v in pairs(c) do chunked[k] = v end
        chunked.chan_per_worker = 2
        same(spy.freqanalysis(data, chunked), base[i])
      end
      client:close()
      cluster:close()
    end
    -- the cfg replays to the same bytes
    same(spy.freqanalysis(data, base[1].cfg), base[1])
  end)
end)
