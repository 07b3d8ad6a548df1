-- EEG markers as EventData (issue #16): BrainVision markers and EDF+
-- annotations of hand-built files come back from load_* {events=true} as
-- [sample, eventid] rows in the recording's sampling, ids by first
-- appearance of each text, mapping in events.info.event_ids, usable by
-- spy.definetrial; the plain info lists stay.
local spy = require "spy"
local H = require "formats_helpers"
local scratch, write = H.scratch, H.write

local function brainvision(dir, markers)
  write(dir .. "/rec.vhdr", table.concat({
    "Brain Vision Data Exchange Header File Version 1.0", "", "[Common Infos]", "Codepage=UTF-8",
    "DataFile=rec.eeg", markers and "MarkerFile=rec.vmrk" or "", "DataFormat=BINARY",
    "DataOrientation=MULTIPLEXED", "NumberOfChannels=1", "SamplingInterval=2000", "", "[Binary Infos]",
    "BinaryFormat=INT_16", "", "[Channel Infos]", "Ch1=Cz,,1,µV", "" }, "\r\n"))
  if markers then
    write(dir .. "/rec.vmrk", table.concat({
      "Brain Vision Data Exchange Marker File, Version 1.0", "", "[Marker Infos]",
      table.concat(markers, "\n"), "" }, "\n"))
  end
  local parts = {}
  for s = 0, 999 do parts[#parts + 1] = string.pack("<i2", s % 500) end
  write(dir .. "/rec.eeg", table.concat(parts))
end

-- A minimal EDF+C file: one 100 Hz signal "Cz" (1 s records) and the
-- "EDF Annotations" signal holding the TALs given per record.
local function edfplus(path, nrec, tals)
  local function f(s, n) return s .. string.rep(" ", n - #s) end
  local annbytes = 120
  local hdr = { "0       ", f("X X X X", 80), f("Startdate 01-JAN-2024 X X X", 80), "01.01.24", "12.00.00",
    f(tostring(256 * 3), 8), f("EDF+C", 44), f(tostring(nrec), 8), f("1", 8), f("2", 4),
    f("Cz", 16), f("EDF Annotations", 16), f("", 80), f("", 80), f("uV", 8), f("", 8),
    f("-32768", 8), f("-32768", 8), f("32767", 8), f("32767", 8), f("-32768", 8), f("-32768", 8),
    f("32767", 8), f("32767", 8), f("", 80), f("", 80), f("100", 8), f(tostring(annbytes // 2), 8),
    f("", 32), f("", 32) }
  local out = { table.concat(hdr) }
  for r = 0, nrec - 1 do
    local s = {}
    for i = 0, 99 do s[#s + 1] = string.pack("<i2", (r * 100 + i) % 700) end
    out[#out + 1] = table.concat(s)
    local tal = string.format("+%d\20\20\0", r) .. (tals[r + 1] or "")
    out[#out + 1] = tal .. string.rep("\0", annbytes - #tal)
  end
  write(path, table.concat(out))
end

describe("load_brainvision {events=true}", function()
  it("returns the markers as EventData sorted by sample, ids by first appearance", function()
    local dir = scratch()
    brainvision(dir, { "Mk1=New Segment,,1,1,0", "Mk2=Stimulus,S  1,401,1,0", "Mk3=Stimulus,S  2,101,1,0",
      "Mk4=Stimulus,S  1,251,1,0", "Mk5=Response,R  1,401,1,0" })
    local d, ev = spy.load_brainvision(dir .. "/rec.vhdr", { events = true })
    assert.equal("AnalogData", d.dataclass)
    assert.equal("EventData", ev.dataclass)
    assert.equal(500, ev.samplerate)
    local want = { { 0, 1 }, { 100, 3 }, { 250, 2 }, { 400, 2 }, { 400, 4 } }
    local got = spy.h5read(ev.filename, "data"):totable()
    assert.same(want, got)
    assert.same({ ["New Segment/"] = 1, ["Stimulus/S  1"] = 2, ["Stimulus/S  2"] = 3, ["Response/R  1"] = 4 },
      ev.info.event_ids)
    assert.equal(5, #d.info.markers) -- the old list stays
    -- trials cut around the "S  1" markers line up with the data's samples
    spy.definetrial(d, ev, { pre = 0.1, post = 0.2, trigger = 2 })
    assert.same({ { 200, 350, 50 }, { 350, 500, 50 } }, d.trialdefinition:totable()) -- spy.definetrial's offsets
  end)

  it("gives no EventData without markers, and only data without events=true", function()
    local dir = scratch()
    brainvision(dir, nil)
    local d, ev = spy.load_brainvision(dir .. "/rec.vhdr", { events = true })
    assert.equal("AnalogData", d.dataclass)
    assert.is_nil(ev)
    brainvision(dir, { "Mk1=Stimulus,S  1,3,1,0" })
    local n = select("#", spy.load_brainvision(dir .. "/rec.vhdr"))
    assert.equal(1, n)
  end)
end)

describe("load_edf {events=true}", function()
  it("turns EDF+ annotations (onsets in s) into samples and ids", function()
    local path = scratch() .. "/ann.edf"
    edfplus(path, 3, { "+0.5\20Go\20\0", "+1.333\0210.2\20Stop\20\0+1.999\20Go\20\0", "+2.5\20go\20\0" })
    local d, ev = spy.load_edf(path, { events = true })
    assert.equal(100, d.samplerate)
    assert.equal(300, d.shape[1])
    assert.same({ { 50, 1 }, { 133, 2 }, { 200, 1 }, { 250, 3 } }, spy.h5read(ev.filename, "data"):totable())
    assert.same({ Go = 1, Stop = 2, go = 3 }, ev.info.event_ids)
    assert.same({ { 0, 300, 0 } }, ev.trialdefinition:totable())
    assert.equal(4, #d.info.annotations)
  end)
end)
