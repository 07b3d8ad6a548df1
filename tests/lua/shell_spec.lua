-- What a newcomer relies on besides the numbers (issue 19): help that uses
-- the terminal's width and lists what objects offer, keyword values that
-- help prints and Tab completes, NaN-aware and shape-changing array methods.
local spy = require "spy"

local function capture(f)
  local out, write = {}, io.write
  io.write = function(...) for _, s in ipairs({...}) do out[#out + 1] = tostring(s) end end
  local ok, err = pcall(f)
  io.write = write
  assert(ok, err)
  return table.concat(out)
end

describe("help", function()
  it("uses the terminal's width for one-line summaries", function()
    spy._columns = function() return 140 end
    local wide = capture(function() spy.help() end)
    spy._columns = function() return 80 end
    local narrow = capture(function() spy.help() end)
    spy._columns = nil
    local line = wide:match("\n(  spy%.freqanalysis[^\n]*)")
    assert.is_truthy(line)
    assert.is_nil(line:find("...", 1, true)) -- the whole summary fits in 140 columns
    assert.is_truthy(narrow:match("\n(  spy%.freqanalysis[^\n]*)"):find("...", 1, true))
    for l in wide:gmatch("[^\n]+") do assert.is_true(#l <= 138, l) end
  end)

  it("documents every function of the namespace", function()
    local text = capture(function() spy.help() end)
    for name in text:gmatch("\n  (spy%.[%w_.]+)\n") do
      error(name .. " has no summary")
    end
  end)

  it("spells None as spy.null where nil means the default", function()
    local text = capture(function() spy.help(spy.freqanalysis) end)
    assert.is_truthy(text:find("polyremoval = 0  (integer or spy.null)", 1, true))
    assert.is_truthy(text:find("spy.null none", 1, true))
    assert.is_nil(text:find("nil none", 1, true))
  end)

  it("lists values that the plan checks", function()
    local text = capture(function() spy.help(spy.preprocessing) end)
    assert.is_truthy(text:find('one of "lp", "hp", "bp" or "bs"', 1, true))
    local s = spy._spec(spy.resampledata)
    local allowed
    for _, k in ipairs(s.kw) do if k.name == "method" then allowed = k.allowed end end
    assert.are.equal("downsample|resample", allowed)
  end)

  it("describes objects by their fields and methods, and topics", function()
    local data = spy.synthdata.white_noise{nTrials=2, nSamples=50, nChannels=2, seed=1}
    local text = capture(function() spy.help(data) end)
    assert.is_truthy(text:find("AnalogData object", 1, true))
    assert.is_truthy(text:find("Fields (obj.name):", 1, true))
    assert.is_truthy(text:find("samplerate", 1, true))
    assert.is_truthy(text:find("selectdata", 1, true))
    text = capture(function() spy.help("indexing") end)
    assert.is_truthy(text:find("1-based", 1, true))
  end)
end)

describe("arrays", function()
  local a = spy.array({{1, 0 / 0, 3}, {4, 5, 6}})

  it("reduce without nan when asked (NumPy's nan* functions)", function()
    assert.are.equal(19, a:nansum())
    assert.are.equal(3.8, a:nanmean())
    assert.are.equal(6, a:nanmax())
    assert.are.equal(1, a:nanmin())
    assert.is_true(math.abs(a:nanstd() - math.sqrt(2.96)) < 1e-12)
    local m = a:nanmean(2)
    assert.are.equal(2, m:get(1))
    assert.are.equal(5, m:get(2))
    assert.is_true(a:mean() ~= a:mean()) -- the plain mean stays nan
    local allnan = spy.array({0 / 0, 0 / 0})
    assert.are.equal(0, allnan:nansum())
    assert.is_true(allnan:nanmax() ~= allnan:nanmax())
  end)

  it("transpose and squeeze as views", function()
    local t = a:transpose()
    assert.are.same({3, 2}, {t.shape[1], t.shape[2]})
    assert.are.equal(4, t:get(1, 2))
    t:set(1, 2, 40)
    assert.are.equal(40, a:get(2, 1)) -- shares memory
    local b = spy.zeros({2, 1, 3, 1})
    assert.are.equal("{2, 3}", tostring(b:squeeze().shape))
    assert.are.equal("{2, 3, 1}", tostring(b:squeeze(2).shape))
    assert.has_error(function() b:squeeze(1) end)
    local p = spy.zeros({2, 3, 4}):transpose{3, 1, 2}
    assert.are.equal("{4, 2, 3}", tostring(p.shape))
    assert.has_error(function() a:transpose{1, 1} end)
  end)

  it("look up an axis value", function()
    local f = spy.array({0, 0.5, 1, 1.5, 2})
    local i, v = f:nearest(1.2)
    assert.are.equal(3, i)
    assert.are.equal(1, v)
    assert.are.equal(5, (f:nearest(99)))
    assert.has_error(function() a:nearest(1) end)
  end)
end)
