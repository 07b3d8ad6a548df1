-- Regressions found by scripts/syncopy-xcheck-stats (spy against Syncopy on
-- cases no other reference covers; docs/internals/xcheck-stats.md). The
-- expected values are Syncopy's own outputs in tests/data/xcheck_stats.h5.
-- Tolerance: 1e-5 relative to the largest reference value; time axes and
-- trial definitions exactly; NaN patterns exactly.
local spy = require "spy"
local DATA = os.getenv("SPY_TEST_DATA")
local TOL = 1e-5
local function ref(name) return spy.h5read(DATA .. "/xcheck_stats.h5", name) end

-- max |got - want| / max |want| over the elements that are not NaN in want;
-- NaN must be where want has NaN
local function relerr(got, want)
  got, want = got:astype("float64"), want:astype("float64")
  assert.are.same(want.shape, got.shape)
  local g, w = got:reshape { -1 }, want:reshape { -1 }
  local worst, scale = 0, 0
  for i = 1, #w do
    local a, b = g:get(i), w:get(i)
    if b ~= b then
      assert.is_true(a ~= a, "NaN expected at element " .. i)
    else
      assert.is_true(a == a, "no NaN expected at element " .. i)
      worst = math.max(worst, math.abs(a - b))
      scale = math.max(scale, math.abs(b))
    end
  end
  return worst / (scale > 0 and scale or 1)
end

describe("spike_psth's time axis (Syncopy: offset = rint(first bin midpoint * samplerate))", function()
  local spk = spy.SpikeData { data = ref("spk_input"), samplerate = 10000,
                              trialdefinition = ref("spk_input_trialdefinition") }
  for _, case in ipairs {
    { "psth_rice", {} },
    { "psth_prop", { binsize = 0.013, latency = { 0.005, 0.2 }, output = "proportion" } },
  } do
    it(case[1], function()
      local out = spy.spike_psth(spk, case[2])
      assert.are.same(ref(case[1] .. "_trialdefinition"):totable(), out.trialdefinition:totable())
      local t, want = out.time[1], ref(case[1] .. "_time_trial0")
      assert.is_true((t - want):abs():max() <= 1e-12)
      assert.is_true(relerr(out:toarray(), ref(case[1] .. "_output")) <= TOL)
      assert.is_true(relerr(out.avg, ref(case[1] .. "_avg")) <= TOL)
      assert.is_true(relerr(out.var, ref(case[1] .. "_var")) <= TOL)
    end)
  end
end)

describe("timelockanalysis of data with NaNs", function()
  it("var is NaN where avg is (Syncopy's plain trial mean and variance), cov as np.cov", function()
    local a = spy.AnalogData { data = ref("nan_input"), samplerate = 1000,
                               trialdefinition = ref("nan_input_trialdefinition") }
    local tl = spy.timelockanalysis(a, { covariance = true })
    for _, k in ipairs { "avg", "var", "cov" } do
      assert.is_true(relerr(tl[k], ref("timelock_nan_" .. k)) <= TOL, k)
    end
  end)
end)
