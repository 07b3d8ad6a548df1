-- MATLAB files: FieldTrip raw structures written by scipy.io.savemat (MAT v5,
-- compressed and not) and by matio (spy.savemat, MAT v5/v7/v7.3) load as
-- AnalogData with the known values, trial definition, labels, trialinfo and
-- extra fields; what spy.savemat writes scipy.io.loadmat reads.
local spy = require "spy"
local H = require "formats_helpers"
local scratch, python, maxdiff = H.scratch, H.python, H.maxdiff
local DATA = os.getenv("SPY_TEST_DATA")

-- trial k (1-based), channel c, sample s (0-based): k*100 + c + s/4 (exact in float32)
local FT = [==[
import numpy as np, scipy.io as sio
def ft(lengths, t0s, fsample=1000.0, nchan=4, with_fs=True, extra=True):
    trial = np.empty((1, len(lengths)), dtype=object)
    time = np.empty((1, len(lengths)), dtype=object)
    for k, (n, t0) in enumerate(zip(lengths, t0s)):
        c = np.arange(1, nchan + 1)[:, None]; s = np.arange(n)[None, :]
        trial[0, k] = (k + 1) * 100 + c + s / 4
        time[0, k] = t0 + np.arange(n) / fsample
    label = np.empty((nchan, 1), dtype=object)
    for c in range(nchan): label[c, 0] = 'ch%d' % (c + 1)
    st = {'trial': trial, 'time': time, 'label': label}
    if with_fs: st['fsample'] = fsample
    if extra:
        st['trialinfo'] = np.array([[k + 1, 10 * (k + 1)] for k in range(len(lengths))], dtype=float)
        st['subject'] = 'S01'
        st['gains'] = np.array([[1.0, 2.0], [3.0, 4.0]])
    return st
]==]

local function check_ft(d, lengths, t0, fs, nchan)
  assert.are.equal("float32", d.dtype)
  assert.is_true(math.abs(d.samplerate - fs) <= 1e-12 * fs, tostring(d.samplerate)) -- inferred: rounding only
  local labels = {}
  for c = 1, nchan do labels[c] = "ch" .. c end
  assert.are.same(labels, d.channel)
  local start = 0
  for k, n in ipairs(lengths) do
    local trl = d.trialdefinition
    assert.are.equal(start, trl:get(k, 1))
    assert.are.equal(start + n, trl:get(k, 2))
    assert.are.equal(math.floor(t0[k] * fs + 0.5), trl:get(k, 3))
    start = start + n
    local x = d.trials[k]
    assert.are.same({ n, nchan }, x.shape)
    for _, s in ipairs { 0, n - 1 } do
      for c = 1, nchan do assert.are.equal(k * 100 + c + s / 4, x:get(s + 1, c)) end
    end
  end
end

describe("spy.load_ft_raw", function()
  it("reads scipy.io.savemat's MAT v5 files (plain and compressed)", function()
    local dir = scratch()
    python(FT .. ([==[
d = %q
data = ft([300, 250, 300], [-0.2, -0.1, 0.0])
sio.savemat(d + '/ft.mat', {'data': data, 'nofs': ft([100, 100], [0.5, 1.0], fsample=500.0, with_fs=False, extra=False), 'x': np.eye(3)})
sio.savemat(d + '/ftz.mat', {'data': data}, do_compression=True)
]==]):format(dir))
    assert.are.same({ "data", "nofs" }, spy.load_ft_raw(dir .. "/ft.mat", { list_only = true }))
    for _, f in ipairs { "ft.mat", "ftz.mat" } do
      local d = spy.load_ft_raw(dir .. "/" .. f, { include_fields = { "subject", "gains", "nothere" } }).data
      check_ft(d, { 300, 250, 300 }, { -0.2, -0.1, 0 }, 1000, 4)
      assert.are.same({ { 1, 10 }, { 2, 20 }, { 3, 30 } }, d.trialinfo:totable())
      assert.are.equal("S01", d.info.subject)
      assert.are.same({ { 1, 2 }, { 3, 4 } }, d.info.gains)
    end
    -- no fsample: 1 / mean(diff(time{1})) (Syncopy stores the period instead)
    local all = spy.load_ft_raw(dir .. "/ft.mat", { select_structures = { "nofs" } })
    assert.is_nil(all.data)
    check_ft(all.nofs, { 100, 100 }, { 0.5, 1.0 }, 500, 4)
  end)

  it("round-trips through matio's MAT v5, v7 and v7.3 writers", function()
    local dir = scratch()
    local a = spy.load(DATA .. "/analog_ref.spy")
    local trl = a.trialdefinition:totable()
    for k = 1, #trl do trl[k][3] = -500; trl[k][4] = k; end
    spy.definetrial(a, trl)
    for _, v in ipairs { "v5", "v7", "v7.3" } do
      local f = dir .. "/rt_" .. v .. ".mat"
      spy.savemat(f, { lfp = a, extra = spy.array { 1, 2 } }, { version = v })
      local b = spy.load_ft_raw(f).lfp
      assert.are.equal(a.samplerate, b.samplerate)
      assert.are.same(a.channel, b.channel)
      assert.are.equal(0, maxdiff(a.trialdefinition, b.trialdefinition), v)
      -- float32 storage, as Syncopy's loader
      assert.is_true(maxdiff(a:toarray(), b:toarray()) <= 1e-6 * a:toarray():abs():max(), v)
    end
  end)

  it("reads MAT v7.3 files laid out as MATLAB writes them (HDF5 with #refs#)", function()
    local dir = scratch()
    python(([==[
import h5py, numpy as np
S = lambda s: np.bytes_(s)
with h5py.File(%q, 'w', userblock_size=512) as f:
    refs = f.create_group('#refs#')
    g = f.create_group('data'); g.attrs['MATLAB_class'] = S('struct')
    ref = h5py.special_dtype(ref=h5py.Reference)
    def cell(name, arrays, cls):
        ds = g.create_dataset(name, (len(arrays), 1), dtype=ref); ds.attrs['MATLAB_class'] = S('cell')
        for i, a in enumerate(arrays):
            d = refs.create_dataset('%%s%%d' %% (name, i), data=a); d.attrs['MATLAB_class'] = S(cls)
            ds[i, 0] = d.ref
    lengths, fs = [120, 80], 250.0
    # MATLAB nchan x n is HDF5 (n, nchan)
    cell('trial', [np.array([[(k + 1) * 100 + c + s / 4 for c in range(1, 4)] for s in range(n)]) for k, n in enumerate(lengths)], 'double')
    cell('time', [(t0 + np.arange(n) / fs)[:, None] for t0, n in zip([-0.1, 0.2], lengths)], 'double')
    cell('label', [np.frombuffer(('ch%%d' %% c).encode(), np.uint8).astype(np.uint16)[:, None] for c in range(1, 4)], 'char')
    ti = g.create_dataset('trialinfo', data=np.array([[1.0, 2.0], [10.0, 20.0]])); ti.attrs['MATLAB_class'] = S('double')  # 2 trials x 2 columns, transposed
    sub = g.create_dataset('subject', data=np.frombuffer(b'S02', np.uint8).astype(np.uint16)[:, None]); sub.attrs['MATLAB_class'] = S('char')
    gains = g.create_dataset('gains', data=np.array([[1.0, 3.0], [2.0, 4.0]])); gains.attrs['MATLAB_class'] = S('double')
    e = g.create_dataset('nothing', data=np.array([0, 0], dtype=np.uint64)); e.attrs['MATLAB_class'] = S('double'); e.attrs['MATLAB_empty'] = np.uint8(1)
with open(%q, 'r+b') as f:
    f.write(b'MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Dec  7 04:00:00 2026 HDF5 schema 1.00 .'.ljust(116))
]==]):format(dir .. "/v73.mat", dir .. "/v73.mat"))
    local d = spy.load_ft_raw(dir .. "/v73.mat", { include_fields = { "subject", "gains", "nothing" } }).data
    check_ft(d, { 120, 80 }, { -0.1, 0.2 }, 250, 3) -- fsample inferred from time{1}
    assert.are.same({ { 1, 10 }, { 2, 20 } }, d.trialinfo:totable())
    assert.are.equal("S02", d.info.subject)
    assert.are.same({ { 1, 2 }, { 3, 4 } }, d.info.gains)
    assert.are.same({}, d.info.nothing)
  end)

  it("writes files scipy.io.loadmat reads, arrays in their own shape", function()
    local dir = scratch()
    local a = spy.load(DATA .. "/analog_ref.spy")
    spy.savemat(dir .. "/o.mat", {
      m = spy.array { { 1, 2, 3 }, { 4, 5, 6 } }, v = spy.array { 1, 2 }, c = spy.array { spy.complex(1, 2) },
      i = spy.array({ 7 }, "int64"), lfp = a,
    }, { version = "v5" })
    local out = python(([==[
import numpy as np, scipy.io as sio, h5py
m = sio.loadmat(%q + '/o.mat')
print(m['m'].tolist(), m['v'].shape, m['c'].tolist(), m['i'].dtype)
lfp = m['lfp'][0, 0]
print(lfp['trial'].shape, lfp['trial'][0, 1].shape, float(lfp['fsample'][0, 0]), lfp['sampleinfo'][1].tolist())
print([str(l[0]) for l in lfp['label'][:, 0]], lfp['time'][0, 0][0, :2].tolist())
with h5py.File(%q, 'r') as f:
    ref = f['input'][()]
print(np.array_equal(lfp['trial'][0, 1], ref[2000:4000].T))
]==]):format(dir, DATA .. "/spy_container.h5"))
    assert.are.equal(table.concat({
      "[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]] (1, 2) [[(1+2j)]] int64",
      "(1, 5) (4, 2000) 1000.0 [2001.0, 4000.0]",
      "['channel1', 'channel2', 'channel3', 'channel4'] [-1.0, -0.999]",
      "True", "" }, "\n"), out)
  end)

  it("damaged MAT v5 files give errors naming the file, never a crash", function()
    local dir = scratch()
    python(FT .. ([==[
import random
d = %q
sio.savemat(d + '/good.mat', {'data': ft([50, 40], [0.0, 1.0], extra=False)})
sio.savemat(d + '/goodz.mat', {'data': ft([50, 40], [0.0, 1.0], extra=False)}, do_compression=True)
random.seed(3)
for name in ['good', 'goodz']:
    raw = open(d + '/' + name + '.mat', 'rb').read()
    for i, cut in enumerate([len(raw) // 2, 200, 130, len(raw) - 10]):
        open(d + '/%%s_cut%%d.mat' %% (name, i), 'wb').write(raw[:cut])
    for i in range(25):
        b = bytearray(raw)
        for _ in range(20 if name == 'good' else 5):
            p = random.randrange(128, len(b)); b[p] = random.randrange(256)
        open(d + '/%%s_flip%%d.mat' %% (name, i), 'wb').write(bytes(b))
]==]):format(dir))
    -- In the spy shell: damaged dimensions make matio ask for tens of GB, which
    -- the C library refuses (NULL) but ASan's allocator would abort on.
    local script = dir .. "/probe.lua"
    local f = assert(io.open(script, "w"))
    f:write(([==[
local n, failed, unnamed = 0, 0, 0
for f in io.popen("ls %s/*_*.mat"):lines() do
  local ok, msg = pcall(spy.load_ft_raw, f)
  n = n + 1
  if not ok then
    failed = failed + 1
    if not tostring(msg):find(f, 1, true) then unnamed = unnamed + 1; print(msg) end
  end
end
print(("files=%%d failed=%%d unnamed=%%d"):format(n, failed, unnamed))
]==]):format(dir))
    f:close()
    local p = assert(io.popen("ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=0 " .. os.getenv("SPY_BIN")
      .. " " .. script .. " 2>/dev/null"))
    local out = p:read("a")
    assert.is_true(p:close(), "the shell died:\n" .. out)
    local n, failed, unnamed = out:match("files=(%d+) failed=(%d+) unnamed=(%d+)")
    assert.are.equal("58", n, out)
    assert.are.equal("0", unnamed, out)
    assert.is_true(tonumber(failed) >= 40, out)
  end)

  it("says what is wrong with a file", function()
    local dir = scratch()
    python(FT .. ([==[
d = %q
st = ft([10], [0.0]); del st['label']
sio.savemat(d + '/nolabel.mat', {'bad': st})
open(d + '/junk.mat', 'w').write('hello')
]==]):format(dir))
    local function err(f, o)
      local ok, msg = pcall(spy.load_ft_raw, dir .. "/" .. f, o)
      assert.is_false(ok)
      return msg
    end
    assert.matches("nolabel.mat' holds no FieldTrip raw structure", err("nolabel.mat"))
    assert.matches("junk.mat' is not a recognizable .mat file", err("junk.mat"))
    assert.matches("cannot open '.*/none.mat'", err("none.mat"))
    assert.matches("Invalid value of `mem_use`: '1000'; expected 2000 or more MB", err("nolabel.mat", { mem_use = 1000 }))
    local big = spy.AnalogData { data = spy.zeros { 100000, 4 }, samplerate = 1000 }
    spy.savemat(dir .. "/big.mat", { lfp = big }, { version = "v7.3" })
    assert.matches("Invalid value of `mem_use`: '1'; expected 8 or more MB %(trial{1} of 'lfp' needs 3.2 MB%)",
      err("big.mat", { mem_use = 1 }))
    local ok, msg = pcall(spy.savemat, dir .. "/x.mat", { ["1x"] = spy.array { 1 } })
    assert.is_false(ok)
    assert.matches("expected a MATLAB variable name", msg)
    assert.is_nil(io.open(dir .. "/x.mat"))
  end)
end)
