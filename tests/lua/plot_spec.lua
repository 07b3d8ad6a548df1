-- Plots as a person checks them: figures rendered by gnuplot to SVG, PNG
-- and PDF, then read back.  In the SVG the axis labels, tick values and
-- legend are text; data lines are paths whose pixel coordinates map back to
-- data through the tick labels, so "the peak is drawn at 10 Hz" is a
-- measurement.  PNG and PDF: the format and the requested size.  Then
-- Syncopy's selection rules and messages, and the errors of spy's own.
local spy = require "spy"
local S = require "svgread"
local texts, hastext, axis, lines, count, errmsg = S.texts, S.hastext, S.axis, S.lines, S.count, S.errmsg
local DATA = os.getenv("SPY_TEST_DATA")

local function tmpdir()
  local p = os.tmpname()
  os.remove(p)
  assert(os.execute("mkdir -p '" .. p .. "'"))
  return p
end
local DIR = tmpdir()

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function svgof(fig, name)
  local path = DIR .. "/" .. name .. ".svg"
  assert.are.equal(path, fig:save(path))
  return slurp(path)
end





-- The highest point of a polyline (smallest pixel y) in data units.
local function peak(svg, line)
  local fx, fy = axis(svg, "x"), axis(svg, "y")
  local top = line[1]
  for _, p in ipairs(line) do
    if p[2] < top[2] then top = p end
  end
  return fx(top[1]), fy(top[2])
end


local function png_size(path)
  local s = slurp(path)
  assert.are.equal("\137PNG\r\n\26\n", s:sub(1, 8))
  assert.are.equal("IHDR", s:sub(13, 16))
  local w, h = string.unpack(">I4I4", s, 17)
  return w, h
end

-- CPU seconds of this process and its finished children (gnuplot), so time
-- bounds hold on a loaded machine too: /proc/self/stat fields 14-17.
local TICK = tonumber(io.popen("getconf CLK_TCK"):read("l"))
local function cpu()
  local f = assert(io.open("/proc/self/stat"))
  local stat = f:read("a")
  f:close()
  local fields = {}
  for v in stat:match("%) (.*)"):gmatch("%S+") do fields[#fields + 1] = v end
  return (fields[12] + fields[13] + fields[14] + fields[15]) / TICK -- utime stime cutime cstime
end


describe("SpectralData line spectra (Syncopy's mtmfft result, spectral_ref.spy)", function()
  local spec = spy.load(DATA .. "/spectral_ref.spy")

  it("labels, ticks and legend as Syncopy's, the 10 Hz peak drawn at 10 Hz and its log10 power", function()
    local fig = spy.singlepanelplot(spec, { trials = 1, channel = { 1, 2 } })
    local svg = svgof(fig, "spec")
    assert.is_true(hastext(svg, "frequency (Hz)"))
    assert.is_true(hastext(svg, "power (dB)"))
    for _, v in ipairs({ " 0", " 20", " 40", " 60", " 80", " 100" }) do
      assert.is_true(hastext(svg, v), "x tick " .. v)
    end
    assert.is_true(hastext(svg, "channel1") and hastext(svg, "channel2"))
    local ls = lines(svg)
    assert.are.equal(2, #ls)
    local p = spy.show(spec, { trials = 1 }) -- freq x channel
    for c = 1, 2 do
      local f, y = peak(svg, ls[c])
      -- one pixel is 0.2 Hz here; the bins are 0.5 Hz apart
      assert.is_true(math.abs(f - 10) < 0.25, "channel " .. c .. " peak drawn at " .. f .. " Hz")
      local want = math.log(p:get(21, c), 10) -- 10 Hz is bin 21
      local _, yticks = axis(svg, "y")
      local span = yticks[#yticks].v - yticks[1].v
      assert.is_true(math.abs(y - want) < 0.01 * span, "peak " .. y .. " vs log10 power " .. want)
    end
  end)

  it("logscale=false plots the power itself with Syncopy's label", function()
    local svg = svgof(spy.singlepanelplot(spec, { trials = 1, channel = 1, logscale = false }), "lin")
    assert.is_true(hastext(svg, "power (mV^2)"))
    local _, y = peak(svg, lines(svg)[1])
    local want = spy.show(spec, { trials = 1, channel = 1 }):get(21)
    local _, yt = axis(svg, "y")
    assert.is_true(math.abs(y - want) < 0.01 * (yt[#yt].v - yt[1].v))
  end)

  it("a latency selection is ignored for line spectra (they have no time axis)", function()
    local svg = svgof(spy.singlepanelplot(spec, { trials = 1, channel = 1, latency = { 0, 0.5 } }), "lat")
    assert.are.equal(201, #lines(svg)[1]) -- every frequency, 0 .. 100 Hz
  end)

  it("PNG and PDF: the format and the size asked for", function()
    local fig = spy.singlepanelplot(spec, { trials = 2 })
    local png = DIR .. "/spec.png"
    fig:save(png)
    local w, h = png_size(png)
    assert.are.same({ 640, 420 }, { w, h }) -- Syncopy's 6.4 x 4.2 in at 100 dpi
    fig:save(png, { width = 8, height = 5, dpi = 50 })
    w, h = png_size(png)
    assert.are.same({ 400, 250 }, { w, h })
    local pdf = DIR .. "/spec.pdf"
    fig:save(pdf, { width = 8, height = 5 })
    local s = slurp(pdf)
    assert.are.equal("%PDF-", s:sub(1, 5))
    assert.truthy(s:find("/MediaBox [ 0 0 576 360 ]", 1, true))
  end)

  it("more than one trial: Syncopy's messages", function()
    assert.are.equal("Please select a single trial for plotting.", errmsg(spy.singlepanelplot, spec))
    assert.are.equal("Please select a single trial for plotting!", errmsg(spy.multipanelplot, spec))
    assert.are.equal("Please select a single trial for plotting.",
                     errmsg(spy.singlepanelplot, spec, { trials = { 1, 2 } }))
  end)

  it("multipanelplot: one panel per channel with its title, Syncopy's grid", function()
    local fig = spec:multipanelplot { trials = 3 }
    assert.are.same({ 4, 2, 2 }, { fig.npanels, fig.nrows, fig.ncols })
    local svg = svgof(fig, "multi")
    assert.are.equal(4, count(svg, "<g id=\"gnuplot_plot_1[a-z]\""))
    for c = 1, 4 do assert.is_true(hastext(svg, "channel" .. c)) end
    -- axis labels only on the outer panels, as Syncopy's
    assert.are.equal(2, count(svg, "<text>power %(dB%)</text>"))
    assert.are.equal(2, count(svg, "<text>frequency %(Hz%)</text>"))
    assert.are.equal("Please select at least two channels for a multipanelplot!",
                     errmsg(spy.multipanelplot, spec, { trials = 1, channel = "channel2" }))
  end)
end)

describe("multi-taper and complex spectra", function()
  local d = spy.synthdata.harmonic { freq = 40, nTrials = 1, nSamples = 1000, nChannels = 2, seed = 1 }
  local tapers = spy.freqanalysis(d, { method = "mtmfft", tapsmofrq = 4, keeptapers = true })

  it("several tapers need one channel (a line per taper) or one taper (a line per channel)", function()
    assert.are.equal("Please select a single taper or a single channel \nfor plotting multi-taper spectra.. aborting plotting\n",
                     errmsg(spy.singlepanelplot, tapers))
    local svg = svgof(spy.singlepanelplot(tapers, { channel = 2 }), "tapers")
    assert.are.equal(#tapers.taper, #lines(svg))
    assert.is_true(hastext(svg, tapers.taper[1]) and hastext(svg, tapers.taper[#tapers.taper]))
    svg = svgof(spy.singlepanelplot(tapers, { taper = 3 }), "onetaper")
    assert.are.equal(2, #lines(svg))
    assert.is_true(hastext(svg, "channel1") and hastext(svg, "channel2"))
  end)

  it("FOOOF fits are drawn as log10 power, other real outputs as they are", function()
    -- a result carrying the cfg of another output: saved, its .info's cfg replaced, loaded
    local function as(output)
      local path = DIR .. "/" .. output .. ".spy"
      os.execute("rm -rf '" .. path .. "'")
      spy.save(spy.freqanalysis(d, { method = "mtmfft", taper = "hann" }), path)
      local info = path .. "/" .. output .. ".spectral.info"
      local s = slurp(info)
      local cfg = s:match('"cfg": (%b{})')
      local fh = assert(io.open(info, "w"))
      fh:write((s:gsub(cfg:gsub("%p", "%%%0"), (cfg:gsub('"output": "pow"', '"output": "' .. output .. '"')), 1)))
      fh:close()
      return spy.load(path)
    end
    local fooof = as("fooof")
    assert.are.equal("fooof", fooof.cfg.freqanalysis.output)
    local svg = svgof(spy.singlepanelplot(fooof, { channel = 1 }), "fooof")
    assert.is_true(hastext(svg, "power (dB)"))
    local _, y = peak(svg, lines(svg)[1])
    local p = spy.show(fooof, { channel = 1 })
    local want = -math.huge
    for i = 1, #p do want = math.max(want, p:get(i)) end
    local _, yt = axis(svg, "y")
    assert.is_true(math.abs(y - math.log(want, 10)) < 0.01 * (yt[#yt].v - yt[1].v))
    svg = svgof(spy.singlepanelplot(as("abs"), { channel = 1 }), "abs")
    assert.is_true(hastext(svg, "abs"))
  end)

  it("complex output is refused with Syncopy's message", function()
    local four = spy.freqanalysis(d, { method = "mtmfft", output = "fourier" })
    assert.are.equal("Can't plot complex valued spectra, choose 'real' or 'imag' as freqanalysis output.. aborting plotting",
                     errmsg(spy.singlepanelplot, four))
  end)
end)

describe("SpectralData time-frequency images", function()
  local d = spy.synthdata.harmonic { freq = 40, nTrials = 1, nSamples = 1000, nChannels = 3, seed = 1 }
  local tf = spy.freqanalysis(d, { method = "mtmconvol", t_ftimwin = 0.2, toi = 0.5, foilim = { 1, 100 } })

  it("an image with labels, title and a magma colorbar", function()
    local fig = spy.singlepanelplot(tf, { channel = "channel2" })
    local svg = svgof(fig, "tf")
    assert.is_true(hastext(svg, "time (s)") and hastext(svg, "frequency (Hz)"))
    assert.is_true(hastext(svg, "channel2"))
    assert.truthy(svg:find("<image ", 1, true))
    -- the colorbar: its label and its tick values (left-aligned right of the image)
    assert.is_true(hastext(svg, "power"))
    local cb = 0
    for _, t in ipairs(texts(svg)) do
      if tonumber(t.text) and t.anchor == "start" then cb = cb + 1 end
    end
    assert.is_true(cb >= 3, "colorbar ticks: " .. cb)
    local png = DIR .. "/tf.png"
    fig:save(png)
    assert.are.same({ 640, 420 }, { png_size(png) })
  end)

  it("as plain text: a shaded image whose darkest row is the 40 Hz row", function()
    local txt = spy.singlepanelplot(tf, { channel = 2 }):text { cols = 80, rows = 24 }
    local ramp = " .:-=+*#%@"
    local darkest, row40, rowdark = 0, nil, {}
    for l in txt:gmatch("([^\n]*)\n") do
      local axis, cells = l:match("^(.-)|(.*)$")
      if cells then
        if axis:match("^%s*40 %+%-$") then row40 = l end
        for ch in cells:gmatch(".") do
          local k = ramp:find(ch, 1, true)
          if k and k > darkest then darkest, rowdark = k, { l } elseif k and k == darkest then rowdark[#rowdark + 1] = l end
        end
      end
    end
    assert.is_true(darkest >= 5, "darkest shade " .. ramp:sub(darkest, darkest))
    assert.truthy(row40)
    local on40 = false
    for _, l in ipairs(rowdark) do on40 = on40 or l == row40 end
    assert.is_true(on40, "the darkest cells are on the 40 Hz row:\n" .. txt)
    assert.truthy(txt:find("power: shades ' .:-=+*#%@' from", 1, true))
  end)

  it("log-spaced frequencies (wavelet's default) on a log axis, the 40 Hz row where it belongs", function()
    local w = spy.freqanalysis(d, { method = "wavelet" }) -- 37 frequencies from 0.98 to 500 Hz
    local fig = spy.singlepanelplot(w, { channel = 1 })
    local svg = svgof(fig, "wavelet")
    local ticks = {}
    for _, t in ipairs(texts(svg)) do
      if t.anchor == "end" and tonumber(t.text) then ticks[#ticks + 1] = tonumber(t.text) end
    end
    table.sort(ticks)
    assert.are.same({ 1, 10, 100 }, ticks)
    local txt = fig:text { cols = 80, rows = 30, color = false }
    local ramp, rows, darkest, at = " .:-=+*#%@", {}, 0, {}
    local n = 0
    for l in txt:gmatch("([^\n]*)\n") do
      n = n + 1
      local axis, cells = l:match("^(.-)|(.*)$")
      if axis then
        local v = tonumber(axis:match("^%s*(%d+) %+%-$"))
        if v then rows[v] = n end
        for ch in cells:gmatch(".") do
          local k = ramp:find(ch, 1, true)
          if k and k > darkest then darkest, at = k, { n } elseif k and k == darkest then at[#at + 1] = n end
        end
      end
    end
    assert.truthy(rows[10] and rows[100], txt)
    local want = rows[10] - (math.log(40, 10) - 1) * (rows[10] - rows[100])
    for _, r in ipairs(at) do
      assert.is_true(math.abs(r - want) <= 1.5, "darkest on line " .. r .. ", 40 Hz is line " .. want .. ":\n" .. txt)
    end
  end)

  it("Syncopy's rules: one channel, no taper selection; multipanel shares one colour scale", function()
    assert.are.equal("Please select a single channel for plotting!\nSkipping plot..", errmsg(spy.singlepanelplot, tf))
    assert.are.equal("Taper selection not supported for time-frequency spectra!\nSkipping plot..",
                     errmsg(spy.singlepanelplot, tf, { channel = 1, taper = 1 }))
    local fig = spy.multipanelplot(tf)
    assert.are.same({ 3, 1, 3 }, { fig.npanels, fig.nrows, fig.ncols })
    local svg = svgof(fig, "tfmulti")
    assert.are.equal(3, count(svg, "<image "))
  end)

  it("a 1000 x 1000 image renders well under a second", function()
    local noise = spy.synthdata.white_noise { nTrials = 1, nSamples = 1000, nChannels = 1000, seed = 3 }
    local a = spy.show(noise, { trials = 1 }):reshape { 1000, 1, 1000, 1 }
    local freq = {}
    for i = 1, 1000 do freq[i] = i / 10 end
    local big = spy.SpectralData { data = a, samplerate = 1000, freq = freq,
                                   trialdefinition = spy.array { { 0, 1000, 0 } } }
    local png = DIR .. "/big.png"
    local c0 = cpu()
    spy.singlepanelplot(big):save(png)
    local used = cpu() - c0
    assert.is_true(used < 1.0, string.format("1000 x 1000 image took %.2f s of CPU", used))
    assert.are.same({ 640, 420 }, { png_size(png) })
  end)
end)

describe("AnalogData", function()
  local data = spy.load(DATA .. "/analog_ref.spy")

  it("shifted: channels stacked in order, their names as y ticks", function()
    local svg = svgof(spy.singlepanelplot(data, { trials = 1 }), "analog")
    assert.is_true(hastext(svg, "time (s)"))
    local ys = {}
    for _, t in ipairs(texts(svg)) do
      local c = t.text:match("^channel(%d)$")
      if c and t.anchor == "end" then ys[tonumber(c)] = t.y end
    end
    for c = 1, 3 do assert.is_true(ys[c] > ys[c + 1], "channel" .. c .. " below channel" .. c + 1) end
    local ls = lines(svg)
    assert.are.equal(4, #ls)
    -- every sample drawn: trial 1 has 2000 samples from -1 s
    assert.are.equal(2000, #ls[1])
    local fx = axis(svg, "x")
    assert.is_true(math.abs(fx(ls[1][1][1]) - (-1)) < 0.005)
    assert.is_true(math.abs(fx(ls[1][#ls[1]][1]) - 0.999) < 0.005)
  end)

  it("not shifted: a legend with the channel names; latency selects the time shown", function()
    local svg = svgof(spy.singlepanelplot(data, { trials = 2, shifted = false, latency = { 0, 0.5 } }), "noshift")
    assert.is_true(hastext(svg, "channel1") and hastext(svg, "channel4"))
    local ls = lines(svg)
    assert.are.equal(501, #ls[1])
    local fx = axis(svg, "x")
    assert.is_true(math.abs(fx(ls[1][1][1])) < 0.005 and math.abs(fx(ls[1][#ls[1]][1]) - 0.5) < 0.005)
  end)

  it("multipanelplot: 2 to 25 channels, Syncopy's grid for a prime number of panels", function()
    local five = spy.synthdata.white_noise { nTrials = 1, nSamples = 100, nChannels = 5, seed = 1 }
    local fig = five:multipanelplot {}
    assert.are.same({ 5, 2, 3 }, { fig.npanels, fig.nrows, fig.ncols })
    assert.are.equal(5, count(svgof(fig, "five"), "<g id=\"gnuplot_plot_1[a-z]\""))
    local many = spy.synthdata.white_noise { nTrials = 1, nSamples = 10, nChannels = 26, seed = 1 }
    assert.are.equal("Please select max. 25 channels for a multipanelplot!", errmsg(spy.multipanelplot, many))
    assert.are.equal(25, spy.multipanelplot(many, { channel = spy.array and (function()
      local t = {} for i = 1, 25 do t[i] = i end return t end)() }).npanels)
  end)

  it("long traces: every extreme survives in raster and text output, at a bounded cost", function()
    local n = 400000 -- 400 s at 1 kHz, a spike of 40 at t = 250 s on unit noise
    local a = spy.show(spy.synthdata.white_noise { nTrials = 1, nSamples = n, nChannels = 1, seed = 5 }, { trials = 1 })
    a = a:reshape { n, 1 }:copy()
    a:set(250001, 1, 40)
    local long = spy.AnalogData { data = a, samplerate = 1000, trialdefinition = spy.array { { 0, n, 0 } } }
    local fig = spy.singlepanelplot(long)
    local png = DIR .. "/long.png"
    local c0 = cpu()
    fig:save(png)
    local used = cpu() - c0
    -- drawn from each pixel column's extremes: all 400000 points take gnuplot over a minute
    assert.is_true(used < 1.0, string.format("400000 points took %.2f s of CPU", used))
    assert.are.same({ 640, 420 }, { png_size(png) })
    local txt = fig:text { cols = 80, rows = 20 }
    local lines = {}
    for l in txt:gmatch("([^\n]*)\n") do lines[#lines + 1] = l end
    -- the x axis: tick marks ('+') and their values on the next line
    local marks, values
    for i = #lines, 2, -1 do
      if lines[i]:match("^%s*[%d%.%s]+$") and lines[i - 1]:match("^%s*[+%s]+$") then
        marks, values = lines[i - 1], lines[i]
        break
      end
    end
    assert.truthy(marks, txt)
    local cols, vals = {}, {}
    for c in marks:gmatch("()%+") do cols[#cols + 1] = c end
    for v in values:gmatch("[%d%.]+") do vals[#vals + 1] = tonumber(v) end
    assert.are.equal(#cols, #vals)
    local function at(col) return vals[1] + (col - cols[1]) * (vals[#vals] - vals[1]) / (cols[#cols] - cols[1]) end
    -- the topmost row with data holds the spike alone
    for _, l in ipairs(lines) do
      local body = l:match("|(.*)$")
      if body and body:find("%S") then
        local c = l:find("%S", #l - #body + 1)
        assert.is_true(math.abs(at(c) - 250) < 400 / 60, "spike drawn at " .. at(c) .. " s:\n" .. txt)
        assert.is_nil(body:find("%S%s+%S"), "the top row holds the spike alone:\n" .. txt)
        break
      end
    end
  end)

  it("a selection with no samples and a selector the class lacks give clear errors", function()
    assert.matches("expected non%-empty channel selection", errmsg(spy.singlepanelplot, data, { trials = 1, channel = {} }))
    assert.matches("no `frequency` selection available for AnalogData",
                   errmsg(spy.singlepanelplot, data, { trials = 1, frequency = { 1, 2 } }))
    assert.matches("did you mean `channel`", errmsg(spy.singlepanelplot, data, { trials = 1, chanel = 1 }))
  end)
end)

describe("CrossSpectralData (Syncopy's coherence, conn_coh_dpss.h5)", function()
  -- The reference result as a CrossSpectralData carrying Syncopy's cfg.
  local ref = DATA .. "/conn_coh_dpss.h5"
  local freq = {}
  local f = spy.h5read(ref, "freq")
  for i = 1, #f do freq[i] = f[i] end
  local function coh(method, output, c)
    c = c or spy.CrossSpectralData { data = spy.h5read(ref, "output"), freq = freq, samplerate = 1000 }
    local path = DIR .. "/" .. method .. ".spy"
    os.execute("rm -rf '" .. path .. "'")
    spy.save(c, path)
    local info = path .. "/" .. method .. ".crossspectral.info"
    local s = slurp(info):gsub('"cfg": {}', string.format(
      '"cfg": {"connectivityanalysis": {"method": "%s", "output": "%s"}}', method, output), 1)
    local fh = assert(io.open(info, "w"))
    fh:write(s)
    fh:close()
    return spy.load(path)
  end

  it("needs channel_i and channel_j", function()
    assert.are.equal("Please select a channel combination `channel_i` and `channel_j` for plotting.",
                     errmsg(spy.singlepanelplot, coh("coh", "abs"), { channel_i = 1 }))
  end)

  it("coherence: Syncopy's labels and y range, 0.995 at 10 Hz drawn as such", function()
    local c = coh("coh", "abs")
    local svg = svgof(spy.singlepanelplot(c, { channel_i = 1, channel_j = "channel2", frequency = { 0, 50 } }), "coh")
    assert.is_true(hastext(svg, "abs coherence") and hastext(svg, "frequency (Hz)"))
    assert.is_true(hastext(svg, "channel1 - channel2"))
    local fy, yt = axis(svg, "y")
    assert.are.equal(0, yt[1].v)
    assert.are.equal(1, yt[#yt].v)
    local fx = axis(svg, "x")
    local line = lines(svg)[1]
    assert.are.equal(101, #line) -- 0 .. 50 Hz in 0.5 Hz steps
    local at10 = line[21]
    assert.is_true(math.abs(fx(at10[1]) - 10) < 0.1)
    local want = spy.h5read(ref, "output"):get(1, 21, 1, 2)
    assert.is_true(math.abs(fy(at10[2]) - want) < 0.01, "coherence at 10 Hz drawn as " .. fy(at10[2]))
  end)

  it("time-resolved coherence: an image per channel combination", function()
    local a = spy.zeros { 20, 5, 2, 2 }
    for t = 1, 20 do for f = 1, 5 do a:set(t, f, 1, 2, f == 3 and 0.9 or 0.1) end end
    local c = coh("coh", "abs", spy.CrossSpectralData { data = a, freq = { 10, 20, 30, 40, 50 }, samplerate = 100,
                                                         trialdefinition = spy.array { { 0, 20, 0 } } })
    assert.are.equal("Please select a single channel combination for plotting!",
                     errmsg(spy.singlepanelplot, c, { channel_i = { 1, 2 }, channel_j = 2 }))
    local svg = svgof(spy.singlepanelplot(c, { channel_i = 1, channel_j = 2 }), "cohtf")
    assert.is_true(hastext(svg, "coh: channel1 - channel2") and hastext(svg, "abs coherence"))
    assert.is_true(hastext(svg, "time (s)") and hastext(svg, "frequency (Hz)"))
    assert.truthy(svg:find("<image ", 1, true))
    -- as text, the 30 Hz band is the darkest row
    local txt = spy.singlepanelplot(c, { channel_i = 1, channel_j = 2 }):text { cols = 60, rows = 20 }
    local row30 = txt:match("\n(%s*30 %+%-|[^\n]*)")
    assert.truthy(row30 and row30:find("@", 1, true), txt)
  end)

  it("Granger: the arrow label; multipanelplot: one panel per channel combination", function()
    local g = coh("granger", "abs")
    local svg = svgof(spy.singlepanelplot(g, { channel_i = 2, channel_j = 3 }), "granger")
    assert.is_true(hastext(svg, "Granger causality") and hastext(svg, "channel2 \u{2192} channel3"))
    local fig = spy.multipanelplot(g, { channel_i = { 1, 2 }, channel_j = { 3, 4 } })
    assert.are.same({ 4, 2, 2 }, { fig.npanels, fig.nrows, fig.ncols })
    assert.are.equal("Please select max. 25 channel combinations for a multipanelplot!",
                     errmsg(spy.multipanelplot, spy.CrossSpectralData { data = spy.zeros { 1, 2, 6, 6 }, freq = { 1, 2 } }))
  end)
end)

describe("figures", function()
  local d = spy.synthdata.harmonic { freq = 40, nTrials = 1, nSamples = 500, nChannels = 2, seed = 1 }

  it("describe themselves", function()
    local s = tostring(spy.singlepanelplot(d))
    assert.are.equal("<Figure: AnalogData, 1 panel (1 x 1)>\n  panel 1: 2 lines, x 'time (s)'", s)
  end)

  it("save by extension only, into a place that exists, leaving nothing when failing", function()
    local fig = spy.singlepanelplot(d)
    assert.are.equal("Invalid value of `filename`: '" .. DIR .. "/x.jpg'; expected a file name ending in .png, .svg or .pdf",
                     errmsg(fig.save, fig, DIR .. "/x.jpg"))
    assert.matches("cannot write .*/nodir/x.png: No such file or directory", errmsg(fig.save, fig, DIR .. "/nodir/x.png"))
    assert.matches("Invalid value of `dpi`", errmsg(fig.save, fig, DIR .. "/x.png", { dpi = 1 }))
    local left = io.popen("ls -A '" .. DIR .. "' | grep -c part"):read("l")
    assert.are.equal("0", left)
  end)

  it("text plots of any size", function()
    local t = spy.singlepanelplot(d):text { cols = 60, rows = 15 }
    local n, w = 0, 0
    for l in t:gmatch("([^\n]*)\n") do n, w = n + 1, math.max(w, #l) end
    assert.are.same({ 15, 60 }, { n, w })
    assert.truthy(t:find("time (s)", 1, true))
  end)

  it("spy.set_plot validates and reports the settings", function()
    assert.are.same({ backend = "auto", terminal = "auto" }, spy.set_plot {})
    assert.are.same({ backend = "terminal", terminal = "text", color = false },
                    spy.set_plot { backend = "terminal", terminal = "text", color = false })
    assert.are.equal("Invalid value of `terminal`: 'ascii'; expected 'auto' or 'sixel' or 'kitty' or 'text'",
                     errmsg(spy.set_plot, { terminal = "ascii" }))
    spy.set_plot { backend = "auto", terminal = "auto" }
  end)

  it("without gnuplot: an error naming the Debian package", function()
    local bin = os.getenv("SPY_BIN")
    local code = "local d = spy.synthdata.harmonic{freq=40, nTrials=1, nSamples=10, nChannels=2} " ..
                 "local ok, e = pcall(spy.singlepanelplot(d).save, spy.singlepanelplot(d), 'x.png') print(e)"
    for _, env in ipairs({ "SPY_GNUPLOT=/nonexistent/gnuplot", "PATH=/nonexistent" }) do
      local out = io.popen("cd '" .. DIR .. "' && env " .. env .. " '" .. bin .. "' -e \"" .. code .. "\" 2>&1"):read("a")
      assert.matches("plotting needs gnuplot, .*install the Debian package gnuplot%-nox", out)
    end
  end)
end)
