-- TDT blocks built here from the format's description (the .tsq event index
-- of 40-byte records, .sev channel files of a 40-byte header and float32
-- samples): channels in natural order, sample rate of the LFPs stream,
-- triggers and photodiode epochs in info, trials from start/end codes,
-- per-channel median removal, and errors naming file and problem.
local spy = require "spy"
local H = require "formats_helpers"
local scratch, write = H.scratch, H.write

local START = 1700000000.0
local FS = 1017.25 -- exact in float32

local function rec(type, code, chan, ts, val, fs)
  return string.pack("<I4I4c4I2I2ddI4f", 40, type, code, chan, 0, ts, val, 0, fs or 0)
end

-- round half to even, as numpy.round and C's rint
local function rint(x)
  local f = math.floor(x)
  if x - f > 0.5 or (x - f == 0.5 and f % 2 == 1) then return f + 1 end
  return f
end
local function grid(t) return rint(t * 195312.5) / 195312.5 end
local function value(s, c) return c * 1000 + s * 0.25 end -- sample s (0-based) of channel number c

-- events at multiples of 1/1024 s, so START + t is exact
local MARKS = { { 0.25, 23000 }, { 0.875, 30020 }, { 1.25, 23000 }, { 1.75, 30020 }, { 2.0, 23000 } }

local function block(dir, opts)
  opts = opts or {}
  local r = { string.rep("\0", 8) .. string.pack("<i8", 0) .. string.rep("\0", 24) } -- file header
  r[#r + 1] = rec(0x8801, string.pack("<I4", 1), 0, START, 0) -- block start
  for k = 0, 3 do r[#r + 1] = rec(0x8101, "LFPs", 1, START + k * 0.5, k * 512, FS) end
  r[#r + 1] = rec(0x101, "PDio", 0, START + 0.5, 1)
  r[#r + 1] = rec(0x102, "PDi\\", 0, START + 0.75, 0)
  r[#r + 1] = rec(0x101, "PDio", 0, START + 1.5, 1)
  r[#r + 1] = rec(0x102, "PDi\\", 0, START + 1.75, 0)
  for _, m in ipairs(MARKS) do r[#r + 1] = rec(0x201, "Mark", 1, START + m[1], m[2]) end
  if not opts.unclean then r[#r + 1] = rec(0x8801, string.pack("<I4", 2), 0, START + 2.5, 0) end
  write(dir .. "/Block-1.tsq", table.concat(r))
  for _, c in ipairs { 1, 2, 10 } do
    local n = c == 10 and 2010 or 2000 -- longer files are cut to the first
    local p = { string.pack("<I8", 40 + 4 * n) .. "SEV" .. string.rep("\0", 29) }
    for s = 0, n - 1 do p[#p + 1] = string.pack("<f", value(s, c)) end
    write(("%s/Block-1_LFPs_Ch%d.sev"):format(dir, c), table.concat(p))
  end
end

describe("spy.load_tdt", function()
  it("reads channels, sample rate and event information", function()
    local dir = scratch()
    block(dir)
    local d = spy.load_tdt(dir)
    assert.are.same({ 2000, 3 }, d.shape)
    assert.are.equal("float32", d.dtype)
    assert.are.equal(FS, d.samplerate)
    assert.are.same(spy.AnalogData { data = spy.zeros { 1, 3 }, samplerate = 1 }.channel, d.channel)
    local x = d:toarray()
    for _, s in ipairs { 0, 1, 1999 } do
      assert.are.same({ value(s, 1), value(s, 2), value(s, 10) }, x:slice { s + 1 }:totable()) -- Ch10 last
    end
    assert.are.same({ { 0, 2000, 0 } }, d.trialdefinition:totable())
    local info = d.info
    local codes, stamps, samples = {}, {}, {}
    for i, m in ipairs(MARKS) do
      codes[i] = m[2]
      stamps[i] = grid(m[1])
      samples[i] = rint(grid(m[1]) * FS) -- 2.0 s gives 2034.5 -> 2034
    end
    assert.are.same(codes, info.Trigger_code)
    assert.are.same(stamps, info.Trigger_timestamp)
    assert.are.same(samples, info.Trigger_sample)
    assert.are.same({ grid(0.5), grid(1.5) }, info.PDio_onset)
    assert.are.same({ grid(0.75), grid(1.75) }, info.PDio_offset)
    assert.are.same({ 1, 1 }, info.PDio_data)
    assert.are.equal("2023-11-14 22:13:20.000000", info.start_date)
    assert.are.equal("22:13:20", info.utc_start_time)
    assert.are.equal("0:00:02.500000", info.duration)
    assert.matches("Block%-1_LFPs_Ch1.sev$", info.originalFiles[1])
    assert.matches("Block%-1_LFPs_Ch10.sev$", info.originalFiles[3])
  end)

  it("cuts trials from start and end codes and removes medians", function()
    local dir = scratch()
    block(dir)
    local d = spy.load_tdt(dir, { start_code = 23000, end_code = 30020, subtract_median = true })
    local s = function(t) return rint(grid(t) * FS) end
    -- three starts, two ends: two trials
    assert.are.same({ { s(0.25), s(0.875), 0 }, { s(1.25), s(1.75), 0 } }, d.trialdefinition:totable())
    -- each channel's own median: c*1000 + 249.875
    local x = d:toarray()
    assert.are.equal(value(10, 2) - (2000 + 249.875), x:get(11, 2))
    assert.are.equal(value(1999, 10) - (10000 + 249.875), x:get(2000, 3))
  end)

  it("says what is wrong", function()
    local dir = scratch()
    block(dir, { unclean = true })
    local function err(o, where)
      local ok, msg = pcall(spy.load_tdt, where or dir, o)
      assert.is_false(ok)
      return msg
    end
    assert.matches("Invalid value of `end_code`: 'None'; expected trigger codes for both trial start and end",
      err { start_code = 1 })
    assert.matches("Invalid value of `start_code`: '7'; expected at least one occurence of trial start code",
      err { start_code = 7, end_code = 30020 })
    -- a truncated channel file
    local f = assert(io.open(dir .. "/Block-1_LFPs_Ch2.sev", "ab"))
    f:write("\1\2")
    f:close()
    assert.matches("Block%-1_LFPs_Ch2.sev' is not a TDT channel file of float32 samples after a 40%-byte header %(truncated%?%)",
      err {})
    os.remove(dir .. "/Block-1_LFPs_Ch2.sev")
    write(dir .. "/Block-1.tsq", string.rep("\0", 100))
    assert.matches("Block%-1.tsq' is not a TDT event index: the block start marker is missing", err {})
    os.remove(dir .. "/Block-1.tsq")
    assert.matches("holds no .tsq file", err {})
    assert.matches("cannot open the TDT block folder", err({}, dir .. "/nothing"))
  end)
end)
