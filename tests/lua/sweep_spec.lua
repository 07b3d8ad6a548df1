-- The one-keyword-at-a-time sweep of issue #10: every keyword of every
-- registered spec (spy._specnames, so functions added later are covered
-- without editing this file) gets extreme, negative, NaN, infinite, huge
-- integer and wrongly typed values.  Runs under the sanitizer build: a crash
-- or a hang fails the suite (ctest's timeout).  What each call must do:
--   * never crash;
--   * refuse every number outside the keyword's documented range (spy._spec
--     min/max) and NaN, with a message that names the keyword;
--   * produce no result for a refused value.
-- SPY_SWEEP_SEED picks the seeded random values (default 10); the fixed
-- values run always.
local spy = require "spy"

local seed = tonumber(os.getenv("SPY_SWEEP_SEED") or "10")
math.randomseed(seed)

local data = spy.synthdata.white_noise{ nTrials = 2, nSamples = 100, nChannels = 2, samplerate = 100, seed = 1 }

local fixed = {
  -1, 0, 0.5, 1e308, -1e308, 2 ^ 62, -(2 ^ 62), math.maxinteger, math.mininteger,
  1 / 0, -1 / 0, 0 / 0, 2 ^ 53 + 2, "x", "", true, {}, { 0 / 0 }, { 1e308, 1 }, { -1 / 0 },
  { "a", 1 }, string.rep("z", 300), spy.null, data,
}
-- seeded extras: random magnitudes beyond every default range, and small integers
local random = {}
for _ = 1, 6 do
  local sign = math.random() < 0.5 and -1 or 1
  random[#random + 1] = sign * 10 ^ (16 + math.random() * 292)
  random[#random + 1] = math.random(-3, 3)
end

-- Calls that touch the file system or a batch system are validated only.
local validate_only = {
  save = true, load = true, cleanup = true, h5write = true, h5read = true,
  SLURMCluster = true, esi_cluster_setup = true,
}
-- Keyword sets that reach the deeper plans (the sweep value replaces one key).
local bases = {
  freqanalysis = {
    {}, { method = "superlet", order_max = 2, foi = { 10, 20 } }, { method = "wavelet", foi = { 10, 20 } },
    { method = "mtmconvol", t_ftimwin = 0.2, foi = { 10, 20 } }, { method = "welch", t_ftimwin = 0.2 },
  },
  preprocessing = { { freq = 20 }, { filter_class = "firws", freq = 20, order = 20 } },
  resampledata = { { resamplefs = 50 } },
  AnalogData = { { data = spy.zeros{ 100, 2 }, samplerate = 100 } },
}

local function resolve(name)
  local f = spy
  for part in name:gmatch("[^.]+") do
    if type(f) ~= "table" then return nil end
    f = f[part]
  end
  return type(f) == "function" and f or nil
end

local function describe_value(v)
  if type(v) == "table" then return "table" end
  return tostring(v)
end

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

-- Out of the keyword's range (or NaN): must be refused.
local function out_of_range(k, v)
  if math.type(v) == nil or k.min == nil then return false end
  return v ~= v or v < k.min or v > k.max
end

local function takes_numbers(k)
  return k.min ~= nil
end

describe("keyword sweep (seed " .. seed .. ")", function()
  local names = spy._specnames()
  table.sort(names)
  local calls = 0

  it("finds the specs of every area", function()
    local have = {}
    for _, n in ipairs(names) do have[n] = true end
    for _, n in ipairs{ "freqanalysis", "preprocessing", "resampledata", "synthdata.white_noise",
                        "save", "load", "LocalCluster", "selectdata" } do
      assert.is_true(have[n], n .. " is registered")
    end
  end)

  for _, name in ipairs(names) do
    local s = spy._spec(name)
    if s and #s.kw > 0 then
      it(name, function()
        local f = resolve(name)
        local withdata = s.signature:find("%(data[,)]") ~= nil
        for _, k in ipairs(s.kw) do
          if k.type ~= "array" then
            local values = {}
            for _, v in ipairs(fixed) do values[#values + 1] = v end
            for _, v in ipairs(random) do values[#values + 1] = v end
            for _, v in ipairs(values) do
              -- validation alone (what a worker re-runs on a cfg)
              local ok, err = pcall(spy._kwcheck, name, { [k.name] = v })
              if out_of_range(k, v) and takes_numbers(k) then
                assert.is_false(ok, ("%s: %s = %s accepted (range %s..%s)"):format(name, k.name,
                  describe_value(v), k.min, k.max))
                assert.truthy(tostring(err):find("`" .. k.name .. "`", 1, true),
                  ("%s: message %q does not name `%s`"):format(name, tostring(err), k.name))
              end
              -- a string where no string is taken: a type error that names the keyword
              if v == "x" and not k.type:find("string", 1, true) and k.type ~= "any" then
                assert.is_false(ok, ("%s: %s = 'x' accepted (%s)"):format(name, k.name, k.type))
                assert.truthy(tostring(err):find("`" .. k.name .. "`", 1, true),
                  ("%s: message %q does not name `%s`"):format(name, tostring(err), k.name))
              end
              -- the real call
              if f and not validate_only[name] then
                for _, base in ipairs(bases[name] or { {} }) do
                  local opts = copy(base)
                  opts[k.name] = v
                  local res
                  if withdata then
                    ok, res = pcall(f, data, opts)
                  else
                    ok, res = pcall(f, opts)
                  end
                  calls = calls + 1
                  if out_of_range(k, v) then
                    assert.is_false(ok, ("%s: %s = %s computed"):format(name, k.name, describe_value(v)))
                  end
                  if type(res) == "userdata" and res.close then pcall(res.close, res) end
                end
              end
            end
          end
        end
        collectgarbage()
      end)
    end
  end

  -- values nested in table-valued keywords (taper_opt, select, fooof_opt),
  -- data tables and constructors, which the spec does not see one by one
  it("nested values", function()
    local w = data
    local nested = {
      function(v) return spy.freqanalysis(w, { taper = "kaiser", taper_opt = { beta = v } }) end,
      function(v) return spy.freqanalysis(w, { taper = "tukey", taper_opt = { alpha = v } }) end,
      function(v) return spy.freqanalysis(w, { taper = "general_gaussian", taper_opt = { p = v, sig = 1 } }) end,
      function(v) return spy.freqanalysis(w, { taper = "chebwin", taper_opt = { at = v } }) end,
      function(v) return spy.freqanalysis(w, { select = { trials = v } }) end,
      function(v) return spy.freqanalysis(w, { select = { channel = v } }) end,
      function(v) return spy.freqanalysis(w, { select = { latency = { v, 0 } } }) end,
      function(v) return spy.selectdata(w, { latency = v }) end,
      function(v) return spy.freqanalysis(w, { method = "mtmconvol", t_ftimwin = 0.05, toi = { v } }) end,
      function(v) return spy.freqanalysis(w, { method = "wavelet", toi = { 0, v } }) end,
      function(v) return spy.freqanalysis(w, { output = "fooof", foilim = { 1, 40 }, fooof_opt = { max_n_peaks = v } }) end,
      function(v) return spy.synthdata.ar2_network{ AdjMat = { { v, 0 }, { 0, 0 } }, nTrials = 1, nSamples = 10 } end,
      function(v) return spy.AnalogData{ data = spy.zeros{ 10, 2 }, trialdefinition = { { 0, 10, v } } } end,
      function(v) return spy.definetrial(w, { { 0, v, 0 } }) end,
      function(v) return spy.zeros{ v, 2 } end,
      function(v) return w.trials[v] end,
    }
    for _, f in ipairs(nested) do
      for _, v in ipairs(fixed) do
        local ok, res = pcall(f, v)
        calls = calls + 1
        if ok and type(res) == "userdata" and res.close then pcall(res.close, res) end
      end
    end
  end)

  it("ran real calls", function()
    print(calls .. " calls")
    assert.is_true(calls > 1000, "only " .. calls .. " calls")
  end)
end)
