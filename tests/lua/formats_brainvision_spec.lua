-- BrainVision recordings built here by hand from the format's description
-- (Brain Products' "BrainVision Core Data Format 1.0"): header, markers,
-- INT_16 multiplexed and IEEE_FLOAT_32 vectorised data scaled by each
-- channel's resolution; broken files give errors naming file and problem.
local spy = require "spy"
local H = require "formats_helpers"
local scratch, write = H.scratch, H.write

local function raw(s, c) return (s * 13 + c * 100) % 2000 - 1000 end -- s, c 0-based

local function header(t)
  return table.concat({
    "Brain Vision Data Exchange Header File Version 1.0",
    "; Data created by the spy test suite",
    "",
    "[Common Infos]",
    "Codepage=UTF-8",
    "DataFile=" .. t.datafile,
    t.marker and ("MarkerFile=" .. t.marker) or "",
    "DataFormat=" .. (t.format or "BINARY"),
    "DataOrientation=" .. t.orientation,
    "NumberOfChannels=" .. #t.channels,
    "SamplingInterval=" .. t.interval,
    "",
    "[Binary Infos]",
    "BinaryFormat=" .. t.binary,
    "",
    "[Channel Infos]",
    "; Each entry: Ch<Channel number>=<Name>,<Reference channel name>,<Resolution in \"Unit\">,<Unit>",
    table.concat(t.channels, "\n"),
    "",
    "[Comment]",
    "free text = ignored",
  }, "\r\n")
end

local function int16_recording(dir, nsamp)
  write(dir .. "/rec.vhdr", header {
    datafile = "rec.eeg", marker = "rec.vmrk", orientation = "MULTIPLEXED", interval = 2000, binary = "INT_16",
    channels = { "Ch1=Fp1,,0.5,µV", "Ch2=A\\1B,Cz,0.1,µV", "Ch3=EOG,,,mV" },
  })
  write(dir .. "/rec.vmrk", table.concat({
    "Brain Vision Data Exchange Marker File, Version 1.0", "", "[Common Infos]", "DataFile=rec.eeg", "",
    "[Marker Infos]",
    "; Each entry: Mk<Marker number>=<Type>,<Description>,<Position in data points>,<Size in data points>,<Channel number (0 = marker is related to all channels)>",
    "Mk1=New Segment,,1,1,0,20240101120000000000",
    "Mk2=Stimulus,S  1,101,1,0",
    "Mk3=Response,R\\1 2,250,5,2", "" }, "\n"))
  local parts = {}
  for s = 0, nsamp - 1 do
    parts[#parts + 1] = string.pack("<i2<i2<i2", raw(s, 0), raw(s, 1), raw(s, 2))
  end
  write(dir .. "/rec.eeg", table.concat(parts))
end

describe("spy.load_brainvision", function()
  it("reads INT_16 multiplexed data, labels, resolutions and markers", function()
    local dir = scratch()
    int16_recording(dir, 1000)
    local d = spy.load_brainvision(dir .. "/rec.vhdr")
    assert.are.same({ 1000, 3 }, d.shape)
    assert.are.equal(500, d.samplerate)
    assert.are.same({ "Fp1", "A,B", "EOG" }, d.channel)
    assert.are.same({ { 0, 1000, 0 } }, d.trialdefinition:totable())
    local x = d:toarray()
    local res = { 0.5, 0.1, 1 }
    for _, s in ipairs { 0, 1, 500, 999 } do
      for c = 0, 2 do
        local want = raw(s, c) * res[c + 1]
        assert.is_true(math.abs(x:get(s + 1, c + 1) - want) <= 1e-6 * math.abs(want), ("s=%d c=%d"):format(s, c))
      end
    end
    assert.are.same({ "µV", "µV", "mV" }, d.info.units)
    assert.are.same(res, d.info.resolution)
    local m = d.info.markers
    assert.are.equal(3, #m)
    assert.are.same({ type = "Stimulus", description = "S  1", sample = 100, length = 1, channel = 0 }, m[2])
    assert.are.same({ type = "Response", description = "R, 2", sample = 249, length = 5, channel = 2 }, m[3])
    assert.are.equal("20240101120000000000", m[1].date)
    -- a channel subset, in the order asked, in float64
    local sub = spy.load_brainvision(dir .. "/rec.vhdr", { channel = { "EOG", "Fp1" }, dtype = "float64" })
    assert.are.equal("float64", sub.dtype)
    assert.are.same({ "EOG", "Fp1" }, sub.channel)
    assert.are.equal(raw(7, 2) * 1.0, sub:toarray():get(8, 1))
    assert.are.equal(raw(7, 0) * 0.5, sub:toarray():get(8, 2))
  end)

  it("reads IEEE_FLOAT_32 vectorised data", function()
    local dir = scratch()
    write(dir .. "/v.vhdr", header {
      datafile = "v.dat", orientation = "VECTORIZED", interval = 1000, binary = "IEEE_FLOAT_32",
      channels = { "Ch1=C3,,1,µV", "Ch2=C4,,2,µV" },
    })
    local parts = {}
    for c = 0, 1 do
      for s = 0, 69999 do parts[#parts + 1] = string.pack("<f", raw(s, c) / 4) end
    end
    write(dir .. "/v.dat", table.concat(parts))
    local d = spy.load_brainvision(dir .. "/v.vhdr")
    assert.are.same({ 70000, 2 }, d.shape)
    assert.are.equal(1000, d.samplerate)
    local x = d:toarray()
    for _, s in ipairs { 0, 65535, 65536, 69999 } do -- across the block boundary
      assert.are.equal(raw(s, 0) / 4, x:get(s + 1, 1))
      assert.are.equal(raw(s, 1) / 2, x:get(s + 1, 2))
    end
    assert.is_nil(d.info.markers)
  end)

  it("names the file and the problem", function()
    local dir = scratch()
    int16_recording(dir, 10)
    local function err(name, o)
      local ok, msg = pcall(spy.load_brainvision, dir .. "/" .. name, o)
      assert.is_false(ok)
      return msg
    end
    -- truncated data: not a whole number of samples
    local f = assert(io.open(dir .. "/rec.eeg", "ab"))
    f:write("\0")
    f:close()
    assert.matches("rec.eeg' holds 61 bytes, not a whole number of samples of 3 channels x 2 bytes", err("rec.vhdr"))
    write(dir .. "/junk.vhdr", "hello\n")
    assert.matches("junk.vhdr' is not a BrainVision header", err("junk.vhdr"))
    write(dir .. "/ascii.vhdr", header { datafile = "x", orientation = "MULTIPLEXED", interval = 1, binary = "INT_16",
      format = "ASCII", channels = { "Ch1=a,,1,µV" } })
    assert.matches("ascii.vhdr': DataFormat=ASCII is not supported %(only BINARY%)", err("ascii.vhdr"))
    write(dir .. "/gap.vhdr", header { datafile = "x", orientation = "MULTIPLEXED", interval = 1, binary = "INT_16",
      channels = { "Ch1=a,,1,µV", "Ch3=c,,1,µV" } })
    assert.matches("gap.vhdr' line %d+: channel 'Ch3' is not one of Ch1..Ch2", err("gap.vhdr"))
    write(dir .. "/nodata.vhdr", header { datafile = "missing.eeg", orientation = "MULTIPLEXED", interval = 1,
      binary = "INT_16", channels = { "Ch1=a,,1,µV" } })
    assert.matches("cannot open the data file '.*/missing.eeg' named by '.*/nodata.vhdr'", err("nodata.vhdr"))
    assert.matches("Invalid value of `channel`: 'Oz'; expected a channel of", err("nodata.vhdr", { channel = "Oz" }))
    assert.matches("Invalid value of `dtype`", err("nodata.vhdr", { dtype = "int16" }))
  end)
end)
