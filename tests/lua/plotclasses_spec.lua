-- Plots of TimeLockData (trial average with its variance band), SpikeData
-- (rasters) and real connectivity results, read back from the SVG as in
-- plot_spec.lua: texts are <text> elements; lines, bands and raster marks
-- are paths and polygons whose pixel coordinates map back to data units
-- through the tick labels.
local spy = require "spy"
local S = require "svgread"
local texts, hastext, axis, lines, count, errmsg = S.texts, S.hastext, S.axis, S.lines, S.count, S.errmsg
local DATA = os.getenv("SPY_TEST_DATA")

local DIR = os.tmpname()
os.remove(DIR)
assert(os.execute("mkdir -p '" .. DIR .. "'"))

local function h5(case, name) return spy.h5read(DATA .. "/" .. case .. ".h5", name) end

local function svgof(fig, name)
  local path = DIR .. "/" .. name .. ".svg"
  assert.are.equal(path, fig:save(path))
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end






-- filled translucent polygons (bands): their points
local function polygons(svg)
  local out = {}
  for op, pts in svg:gmatch("<polygon fill = 'rgb%([^']*%)' fill%-opacity = '([%d%.]+)' points = '([^']*)'") do
    local p = {}
    for x, y in pts:gmatch("([%d%.]+),([%d%.]+)") do p[#p + 1] = { tonumber(x), tonumber(y) } end
    out[#out + 1] = { opacity = tonumber(op), pts = p }
  end
  return out
end

-- raster marks: the vertical segments "M x,y0 L x,y1" of black paths
local function marks(svg)
  local out = {}
  for d in svg:gmatch("<path stroke='rgb%(  0,   0,   0%)'%s+d='([^']*)'") do
    for x, y0, x1, y1 in d:gmatch("M([%d%.]+),([%d%.]+) L([%d%.]+),([%d%.]+)") do
      if x == x1 then out[#out + 1] = { x = tonumber(x), y = (tonumber(y0) + tonumber(y1)) / 2 } end
    end
  end
  return out
end

-- y pixel of each y tick label (text -> pixel of its tick)
local function yticks(svg)
  local fs = tonumber(svg:match('font%-size="([%d%.]+)"'))
  local out = {}
  for _, t in ipairs(texts(svg)) do
    if t.anchor == "end" and not t.rotated then out[t.text] = t.y - fs / 3 end
  end
  return out
end


describe("TimeLockData", function()
  local src = spy.AnalogData { data = h5("stat_timelock", "input"), samplerate = 1000,
                               trialdefinition = h5("stat_timelock", "input_trialdefinition") }
  local tl = spy.timelockanalysis(src, { covariance = true })

  it("the trial average with its band avg ± sqrt(var), drawn where the numbers are", function()
    local svg = svgof(spy.singlepanelplot(tl, { channel = 2, latency = { 0, 0.05 } }), "tl")
    assert.is_true(hastext(svg, "trial average ± 1 SD"))
    assert.is_true(hastext(svg, "time (s)"))
    assert.is_true(hastext(svg, "channel2")) -- legend
    local fx, fy = axis(svg, "x"), axis(svg, "y")
    local _, yt = axis(svg, "y")
    local tol = 0.005 * (yt[#yt].v - yt[1].v)
    local ls, bands = lines(svg), polygons(svg)
    assert.are.equal(1, #ls)
    assert.are.equal(1, #bands)
    assert.is_true(bands[1].opacity > 0 and bands[1].opacity < 1, "the band is translucent")
    local line = ls[1]
    assert.are.equal(51, #line) -- 0 .. 50 ms at 1 kHz
    local avg, var = tl.avg:astype("float64"), tl.var:astype("float64")
    -- t = 0 is row 1001 of the [-1, 1) s window
    for k = 1, 51 do
      local t, y = fx(line[k][1]), fy(line[k][2])
      assert.is_true(math.abs(t - (k - 1) / 1000) < 1e-4, "x " .. t)
      assert.is_true(math.abs(y - avg:get(1000 + k, 2)) < tol, "avg at " .. k)
    end
    -- the polygon runs along avg - sd forwards and avg + sd backwards
    local pts = bands[1].pts
    assert.are.equal(102, #pts)
    for k = 1, 51 do
      local sd = math.sqrt(var:get(1000 + k, 2))
      local lo, hi = fy(pts[k][2]), fy(pts[103 - k][2])
      assert.is_true(math.abs(fx(pts[k][1]) - (k - 1) / 1000) < 1e-4)
      assert.is_true(math.abs(lo - (avg:get(1000 + k, 2) - sd)) < tol, "lower edge at " .. k)
      assert.is_true(math.abs(hi - (avg:get(1000 + k, 2) + sd)) < tol, "upper edge at " .. k)
    end
  end)

  it("multipanelplot: one panel per channel, each with its band", function()
    local fig = spy.multipanelplot(tl, { channel = { 1, 2, 3 } })
    assert.are.same({ 3, 1, 3 }, { fig.npanels, fig.nrows, fig.ncols })
    local svg = svgof(fig, "tl_multi")
    for c = 1, 3 do assert.is_true(hastext(svg, "channel" .. c)) end
    assert.are.equal(3, #polygons(svg))
    assert.are.equal(3, #lines(svg))
    assert.are.equal("Please select at least two channels for a multipanelplot!",
                     errmsg(spy.multipanelplot, tl, { channel = 1 }))
  end)

  it("selected trials: the trials as lines", function()
    local fig = spy.singlepanelplot(tl, { trials = { 1, 3 }, channel = 1, latency = { 0, 0.02 } })
    local svg = svgof(fig, "tl_trials")
    assert.is_true(hastext(svg, "trial 1") and hastext(svg, "trial 3"))
    assert.are.equal(0, #polygons(svg))
    local ls = lines(svg)
    assert.are.equal(2, #ls)
    local fy = axis(svg, "y")
    local _, yt = axis(svg, "y")
    for i, trial in ipairs({ 1, 3 }) do
      local want = tl.trials[trial]:astype("float64")
      for k = 1, 21 do
        assert.is_true(math.abs(fy(ls[i][k][2]) - want:get(1000 + k, 1)) < 0.005 * (yt[#yt].v - yt[1].v))
      end
    end
    assert.are.equal("Please select a single channel or a single trial for plotting!",
                     errmsg(spy.singlepanelplot, tl, { trials = { 1, 2 } }))
  end)
end)

describe("SpikeData rasters (Syncopy's poisson_noise)", function()
  local sp = spy.synthdata.poisson_noise { nTrials = 10, nSpikes = 2000, nChannels = 3, nUnits = 10,
                                           intensity = 0.1, samplerate = 10000, seed = 42 }
  local trl = sp.trialdefinition

  -- spike times (s) of trial t for a selection, as Syncopy's raster computes them
  local function times(t, sel)
    sel.trials = t
    local rows = spy.show(sp, sel)
    local out = {}
    for k = 1, rows.shape[1] do
      out[k] = (rows:get(k, 1) - trl:get(t, 1) + trl:get(t, 3)) / 10000
    end
    return out, rows
  end

  it("one unit, a row per trial: every spike one mark at its time in its trial's row", function()
    local svg = svgof(spy.singlepanelplot(sp, { unit = 2 }), "raster")
    assert.is_true(hastext(svg, "unit2"))
    assert.is_true(hastext(svg, "time (s)"))
    local ticks = yticks(svg)
    local fx = axis(svg, "x")
    local ms = marks(svg)
    local total = 0
    for t = 1, 10 do
      local want = times(t, { unit = 2 })
      local row = ticks["trial" .. t]
      assert.is_not_nil(row, "tick trial" .. t)
      local got = {}
      for _, m in ipairs(ms) do
        if math.abs(m.y - row) < 1 then got[#got + 1] = fx(m.x) end
      end
      assert.are.equal(#want, #got, "marks of trial " .. t)
      table.sort(got)
      for k = 1, #want do
        assert.is_true(math.abs(got[k] - want[k]) < 2e-3, "trial " .. t .. " spike " .. k)
      end
      total = total + #want
    end
    assert.are.equal(total, #ms)
    assert.are.equal("Please select a single unit for plotting!", errmsg(spy.singlepanelplot, sp))
  end)

  it("one trial, a row per channel (on_yaxis='channel') or unit", function()
    local svg = svgof(spy.singlepanelplot(sp, { trials = 4, on_yaxis = "channel" }), "raster_ch")
    local ticks, ms = yticks(svg), marks(svg)
    for c = 1, 3 do
      local want, rows = times(4, { channel = c })
      local n = 0
      for _, m in ipairs(ms) do
        if math.abs(m.y - ticks["channel" .. c]) < 1 then n = n + 1 end
      end
      assert.are.equal(rows.shape[1], n, "channel" .. c)
      assert.is_true(#want > 0)
    end
    local fig = spy.singlepanelplot(sp, { trials = 4, on_yaxis = "unit", unit = { 1, 5, 9 } })
    svg = svgof(fig, "raster_unit")
    for _, u in ipairs({ "unit1", "unit5", "unit9" }) do assert.is_true(hastext(svg, u)) end
    assert.is_false(hastext(svg, "unit2"))
    assert.are.equal("Please select a single trial for plotting!",
                     errmsg(spy.singlepanelplot, sp, { on_yaxis = "unit" }))
  end)

  it("multipanelplot: a panel per trial, or per unit with on_yaxis='trials'", function()
    local fig = spy.multipanelplot(sp, { trials = { 1, 2, 3, 4 }, on_yaxis = "unit" })
    assert.are.same({ 4, 2, 2 }, { fig.npanels, fig.nrows, fig.ncols })
    local svg = svgof(fig, "raster_multi")
    for t = 1, 4 do assert.is_true(hastext(svg, "trial" .. t)) end
    local n = 0
    for t = 1, 4 do n = n + spy.show(sp, { trials = t }).shape[1] end
    assert.are.equal(n, #marks(svg))
    fig = spy.multipanelplot(sp, { unit = { 3, 4 } })
    assert.are.same({ 2, 1, 2 }, { fig.npanels, fig.nrows, fig.ncols })
    svg = svgof(fig, "raster_units")
    assert.is_true(hastext(svg, "unit3") and hastext(svg, "unit4"))
    local many = spy.synthdata.poisson_noise { nTrials = 30, nSpikes = 300, seed = 1 }
    assert.are.equal("Cannot plot 30 trials at once!\nPlease select maximum 25 trials for multipanel "
                     .. "plotting.. skipping plot!", errmsg(spy.multipanelplot, many, { on_yaxis = "channel" }))
  end)

  it("the text plot: each spike a '|' in its trial's row at its time; the axis spans the trials", function()
    local s = spy.SpikeData { data = { { 500, 0, 0 }, { 1250, 0, 0 }, { 1400, 0, 1 } }, samplerate = 1000,
                              trialdefinition = { { 0, 1000, 0 }, { 1000, 2000, 0 } } }
    local txt = spy.singlepanelplot(s, { unit = 1 }):text { color = false }
    local rows, ticks = {}, nil
    for l in txt:gmatch("[^\n]+") do
      rows[#rows + 1] = l
      if l:find("^%s+0%s+0%.2") then ticks = l end
    end
    assert.is_not_nil(ticks, txt)
    -- column -> time from the tick labels "0" and "1"
    local c0 = ticks:find("0", 1, true)
    local c1 = select(2, ticks:find(".*1"))
    local function at(col) return (col - c0) / (c1 - c0) end
    local want = { trial1 = 0.5, trial2 = 0.25 }
    for _, l in ipairs(rows) do
      local name = l:match("^%s*(trial%d)")
      if name then
        local axis = l:find("|", 1, true)
        local mark = l:find("|", axis + 1, true)
        assert.is_not_nil(mark, "no mark in " .. name .. ":\n" .. txt)
        assert.is_nil(l:find("|", mark + 1, true), "one mark only in " .. name)
        assert.is_true(math.abs(at(mark) - want[name]) < 1.5 / (c1 - c0), name .. " mark at " .. at(mark))
        want[name] = nil
      end
    end
    assert.is_nil(next(want), "rows missing:\n" .. txt)
  end)

  it("on_yaxis other than trials, unit, channel; EventData is not plotted", function()
    assert.truthy(errmsg(spy.singlepanelplot, sp, { unit = 1, on_yaxis = "x" }):find("on_yaxis", 1, true))
    local evt = spy.EventData { data = { { 100, 7 }, { 150, 1 } }, samplerate = 1000 }
    assert.are.equal("plotting EventData is not supported", errmsg(spy.singlepanelplot, evt))
  end)
end)

describe("CrossSpectralData of spy.connectivityanalysis", function()
  local function input(case)
    return spy.AnalogData { data = h5(case, "input"), samplerate = 1000,
                            trialdefinition = h5(case, "input_trialdefinition") }
  end
  -- the frequency (or lag) of the highest point of the drawn line
  local function peakx(svg)
    local fx = axis(svg, "x")
    local line, top = lines(svg)[1], nil
    for _, p in ipairs(line) do
      if not top or p[2] < top[2] then top = p end
    end
    return fx(top[1])
  end
  local function argmax(res, i, j, axisv)
    local v = spy.show(res, { channel_i = i, channel_j = j }):astype("float64")
    local best, at = -math.huge, nil
    for k = 1, v.shape[1] do
      if v:get(k) > best then best, at = v:get(k), axisv:get(k) end
    end
    return at
  end

  it("coherence: '<output> coherence' against frequency, range 0..1, peak where the data have it", function()
    local coh = spy.connectivityanalysis(input("conn_coh_dpss"), { method = "coh", tapsmofrq = 3 })
    local svg = svgof(spy.singlepanelplot(coh, { channel_i = 1, channel_j = 2 }), "coh")
    assert.is_true(hastext(svg, "abs coherence") and hastext(svg, "frequency (Hz)"))
    assert.is_true(hastext(svg, "channel1 - channel2"))
    local _, yt = axis(svg, "y")
    assert.are.same({ 0, 1 }, { yt[1].v, yt[#yt].v })
    assert.is_true(math.abs(peakx(svg) - argmax(coh, 1, 2, coh.freq)) < 1)
  end)

  it("Granger: 'chi → chj', the directed peak at its frequency", function()
    local gr = spy.connectivityanalysis(input("conn_granger"), { method = "granger", tapsmofrq = 2 })
    local svg = svgof(spy.singlepanelplot(gr, { channel_i = 1, channel_j = 2 }), "granger")
    assert.is_true(hastext(svg, "Granger causality"))
    assert.is_true(hastext(svg, "channel1 → channel2"))
    assert.is_true(math.abs(peakx(svg) - argmax(gr, 1, 2, gr.freq)) < 2)
    local fig = spy.multipanelplot(gr, { channel_i = { 1, 2 }, channel_j = { 1, 2 } })
    svg = svgof(fig, "granger_multi")
    assert.is_true(hastext(svg, "channel2 → channel1"))
  end)

  it("corr: correlation against the lag axis of the result, range -1..1", function()
    local cr = spy.connectivityanalysis(input("conn_corr"), { method = "corr" })
    local svg = svgof(spy.singlepanelplot(cr, { channel_i = 1, channel_j = 2 }), "corr")
    assert.is_true(hastext(svg, "lag") and hastext(svg, "correlation"))
    local _, yt = axis(svg, "y")
    assert.are.same({ -1, 1 }, { yt[1].v, yt[#yt].v })
    local lag = cr.time[1]
    local fx = axis(svg, "x")
    local line = lines(svg)[1]
    assert.is_true(math.abs(fx(line[1][1]) - lag:get(1)) < 2e-3)
    assert.is_true(math.abs(fx(line[#line][1]) - lag:get(lag.shape[1])) < 2e-3)
    assert.is_true(math.abs(peakx(svg) - argmax(cr, 1, 2, lag)) < 2e-3)
  end)
end)
