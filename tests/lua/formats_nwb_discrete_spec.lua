-- NWB 2.x for SpikeData, EventData and TimeLockData: what data:save_nwb
-- writes has the schema's structure (checked with h5py: Units with ragged
-- spike_times through a VectorIndex whose `target` references its column,
-- an electrodes DynamicTableRegion referencing the electrodes table, TTL
-- TimeSeries with timestamps) and loads back equal; files built with h5py
-- the way pynwb lays them out load with the rules of docs/internals/formats.md
-- (spikes sorted by sample with their units, unit indices = ids, samplerate
-- from the ElectricalSeries / the units' column / the keyword); bad files
-- give errors naming the file and the problem.
local spy = require "spy"
local H = require "formats_helpers"
local scratch, python, maxdiff = H.scratch, H.python, H.maxdiff
local DATA = os.getenv("SPY_TEST_DATA")

-- h5py helpers for files laid out as pynwb writes them
local PY = [==[
import h5py, numpy as np, uuid
def typed(o, ns, t):
    o.attrs['namespace'] = ns; o.attrs['neurodata_type'] = t; o.attrs['object_id'] = str(uuid.uuid4())
    return o
def nwbfile(path):
    f = h5py.File(path, 'w'); typed(f, 'core', 'NWBFile'); f.attrs['nwb_version'] = '2.5.0'
    return f
def ragged(g, name, rows, dtype):
    d = typed(g.create_dataset(name, data=np.concatenate([np.asarray(r, dtype) for r in rows])), 'hdmf-common', 'VectorData')
    i = typed(g.create_dataset(name + '_index', data=np.cumsum([len(r) for r in rows]).astype(np.uint32)), 'hdmf-common', 'VectorIndex')
    i.attrs['target'] = d.ref
    return d
def units(f, times, ids=None, **cols):
    g = typed(f.create_group('units'), 'core', 'Units')
    g['id'] = np.arange(len(times)) if ids is None else np.asarray(ids)
    ragged(g, 'spike_times', times, np.float64)
    for k, v in cols.items(): g[k] = v
    return g
]==]

local function rows(x) return x:toarray():totable() end

local function errmsg(f, ...)
  local ok, msg = pcall(f, ...)
  assert.is_false(ok)
  return msg
end

describe("NWB SpikeData", function()
  it("save_nwb writes a units table that load_nwb reads back equal", function()
    local dir = scratch()
    -- units 0 and 2 on channel 0, unit 1 on channel 1; two trials with offsets
    local s = spy.SpikeData {
      data = { { 3, 0, 0 }, { 5, 1, 1 }, { 9, 0, 2 }, { 12, 0, 0 }, { 130, 1, 1 }, { 150, 0, 2 }, { 199, 0, 0 } },
      samplerate = 1000, channel = { "CA1", "CA3" }, unit = { "a", "b", "c" },
      trialdefinition = { { 0, 100, -10 }, { 100, 200, 0 } } }
    s:save_nwb(dir .. "/s.nwb")
    local b = spy.load_nwb(dir .. "/s.nwb").units
    assert.matches("SpikeData", tostring(b))
    assert.are.same(rows(s), rows(b))
    assert.are.same({ "CA1", "CA3" }, b.channel)
    assert.are.same({ "a", "b", "c" }, b.unit)
    assert.are.equal(1000, b.samplerate)
    assert.are.same(s.trialdefinition:totable(), b.trialdefinition:totable())
    local out = python(([==[
import h5py, numpy as np
with h5py.File(%q, 'r') as f:
    a = lambda o: (o.attrs['namespace'], o.attrs['neurodata_type'], len(o.attrs['object_id']))
    u = f['units']
    print(a(u), list(u.attrs['colnames']), u['id'][()].tolist())
    print(a(u['spike_times']), u['spike_times'][()].tolist())
    ix = u['spike_times_index']
    print(a(ix), f[ix.attrs['target']].name, ix[()].tolist())
    el = u['electrodes']
    print(a(el), f[el.attrs['table']].name, el[()].tolist(), f[u['electrodes_index'].attrs['target']].name, u['electrodes_index'][()].tolist())
    print([x.decode() for x in u['unit_name'][()]], u['samplerate'][()].tolist(), 'spike_electrodes' in u)
    print([x.decode() for x in f['general/extracellular_ephys/electrodes/location'][()]])
    print(f['intervals/trials/start_time'][()].tolist(), f['intervals/trials/offset'][()].tolist())
]==]):format(dir .. "/s.nwb"))
    assert.are.equal(table.concat({
      "('core', 'Units', 36) ['spike_times', 'electrodes', 'unit_name', 'samplerate'] [0, 1, 2]",
      "('hdmf-common', 'VectorData', 36) [0.003, 0.012, 0.199, 0.005, 0.13, 0.009, 0.15]",
      "('hdmf-common', 'VectorIndex', 36) /units/spike_times [3, 5, 7]",
      "('hdmf-common', 'DynamicTableRegion', 36) /general/extracellular_ephys/electrodes [0, 1, 0] /units/electrodes [1, 2, 3]",
      "['a', 'b', 'c'] [1000.0, 1000.0, 1000.0] False",
      "['CA1', 'CA3']",
      "[0.0, 0.1] [-0.01, 0.0]", "" }, "\n"), out)
  end)

  it("keeps channel and unit index values that are not 0..n-1 (electrode ids, unit ids)", function()
    local dir = scratch()
    local s = spy.SpikeData { data = { { 1, 5, 7 }, { 2, 0, 2 }, { 4, 5, 2 }, { 8, 0, 7 } }, samplerate = 100,
      channel = { "left", "right" }, unit = { "u2", "u7" } }
    s:save_nwb(dir .. "/ix.nwb")
    local b = spy.load_nwb(dir .. "/ix.nwb").units
    assert.are.same(rows(s), rows(b))
    assert.are.same({ "left", "right" }, b.channel)
    assert.are.same({ "u2", "u7" }, b.unit)
    local out = python(([==[
import h5py
with h5py.File(%q, 'r') as f:
    e = f['general/extracellular_ephys/electrodes']; u = f['units']
    print(e['id'][()].tolist(), [x.decode() for x in e['location'][()]], u['id'][()].tolist(), u['spike_electrodes'][()].tolist())
]==]):format(dir .. "/ix.nwb"))
    assert.are.equal("[0, 5] ['left', 'right'] [2, 7] [0, 1, 1, 0]\n", out)
  end)

  it("keeps the channel of each spike when a unit fires on several channels", function()
    local dir = scratch()
    local s = spy.synthdata.poisson_noise { nTrials = 3, nSpikes = 3000, nChannels = 3, nUnits = 4, seed = 7 }
    s:save_nwb(dir .. "/p.nwb", { with_trialdefinition = true })
    local b = spy.load_nwb(dir .. "/p.nwb").units
    assert.are.equal(0, maxdiff(s:toarray(), b:toarray()))
    assert.are.same(s.channel, b.channel)
    assert.are.same(s.unit, b.unit)
    assert.are.same(s.trialdefinition:totable(), b.trialdefinition:totable())
    local out = python(([==[
import h5py
with h5py.File(%q, 'r') as f:
    u = f['units']; se = u['spike_electrodes']
    print(se.attrs['neurodata_type'], f[u['spike_electrodes_index'].attrs['target']].name, len(se), se[()].max())
]==]):format(dir .. "/p.nwb"))
    assert.are.equal("VectorData /units/spike_electrodes 3000 2\n", out)
  end)

  it("writes waveforms as NWB's doubly ragged `waveforms` and reads them back with their spikes", function()
    local dir = scratch()
    local data = { { 3, 0, 1 }, { 5, 0, 0 }, { 9, 0, 1 }, { 12, 0, 0 }, { 130, 0, 1 } }
    local wf = {}
    for i = 1, #data do wf[i] = { i, 10 * i, 100 * i, -i } end
    local s = spy.SpikeData { data = data, samplerate = 1000, waveform = spy.array(wf):astype("float32") }
    s:save_nwb(dir .. "/w.nwb")
    local b = spy.load_nwb(dir .. "/w.nwb").units
    assert.are.same(rows(s), rows(b))
    assert.are.equal("float32", b.waveform.dtype)
    assert.are.same(wf, b.waveform:totable())
    local out = python(([==[
import h5py
with h5py.File(%q, 'r') as f:
    u = f['units']; w = u['waveforms']; i = u['waveforms_index']; ii = u['waveforms_index_index']
    print(list(u.attrs['colnames']), w.attrs['neurodata_type'], w.shape, w[:, 0].tolist())
    print(f[i.attrs['target']].name, i[()].tolist(), f[ii.attrs['target']].name, ii[()].tolist(), u['spike_times_index'][()].tolist())
]==]):format(dir .. "/w.nwb"))
    assert.are.equal("['spike_times', 'electrodes', 'unit_name', 'samplerate', 'waveforms'] VectorData (5, 4) [2.0, 4.0, 1.0, 3.0, 5.0]\n"
      .. "/units/waveforms [1, 2, 3, 4, 5] /units/waveforms_index [2, 5] [2, 5]\n", out)
    -- several waveforms per spike (one per electrode) load without them
    python(PY .. ([==[
f = nwbfile(%q); g = units(f, [[0.1, 0.2]], samplerate=[10.0])
w = ragged(g, 'waveforms', [np.zeros((2, 3)), np.ones((2, 3))], np.float32)
ii = typed(g.create_dataset('waveforms_index_index', data=np.array([2], np.uint8)), 'hdmf-common', 'VectorIndex')
ii.attrs['target'] = g['waveforms_index'].ref
del g['waveforms_index']; g['waveforms_index'] = np.array([2, 4], np.uint8)
f.close()
]==]):format(dir .. "/multi.nwb"))
    local c = spy.load_nwb(dir .. "/multi.nwb").units
    assert.are.same({ { 1, 0, 0 }, { 2, 0, 0 } }, rows(c))
    assert.is_nil(c.waveform)
  end)

  it("reads units as pynwb lays them out: sorted with their units, on the series' clock", function()
    local dir = scratch()
    python(PY .. ([==[
f = nwbfile(%q)
# ASCII variable-length strings (other writers than h5py's UTF-8 default)
f.attrs.create('neurodata_type', 'NWBFile', dtype=h5py.string_dtype('ascii'))
e = typed(f.create_group('general/extracellular_ephys/electrodes'), 'hdmf-common', 'DynamicTable')
e['location'] = np.array([b'V1', b'V2', b'LGN'], dtype=h5py.string_dtype('ascii'))
es = typed(f.create_group('acquisition/lfp'), 'core', 'ElectricalSeries')
es['data'] = np.zeros((5000, 3), np.float32); es['electrodes'] = [0, 1, 2]
st = es.create_dataset('starting_time', data=2.0); st.attrs['rate'] = 1000.0
# ids are not positions; unit 12 fires first (Syncopy sorts the times and keeps the unit order)
g = units(f, [[2.5, 3.0004, 4.0], [2.1, 2.5, 6.9], [2.0, 2.2]], ids=[3, 7, 12])
rg = typed(g.create_dataset('electrodes', data=[2, 1, 0, 1]), 'hdmf-common', 'DynamicTableRegion')
rg.attrs['table'] = e.ref
g['electrodes_index'] = np.array([1, 3, 4], np.uint8); g['electrodes_index'].attrs['target'] = rg.ref
tr = typed(f.create_group('intervals/trials'), 'core', 'TimeIntervals')
tr['start_time'] = [2.0, 4.0]; tr['stop_time'] = [3.0, 5.0]
f.close()
]==]):format(dir .. "/u.nwb"))
    local b = spy.load_nwb(dir .. "/u.nwb").units
    assert.are.same({ { 0, 1, 12 }, { 100, 1, 7 }, { 200, 1, 12 }, { 500, 2, 3 }, { 500, 1, 7 }, { 1000, 2, 3 },
      { 2000, 2, 3 }, { 4900, 1, 7 } }, rows(b))
    assert.are.equal(1000, b.samplerate)
    assert.are.same({ "V2", "LGN" }, b.channel) -- the electrodes' location of the channel indices 1, 2
    assert.are.same({ "unit04", "unit08", "unit13" }, b.unit) -- spy's defaults for the ids
    assert.are.same({ { 0, 1000, 0 }, { 2000, 3000, 0 } }, b.trialdefinition:totable())
  end)

  it("merges many spikes per unit in blocks, as a full sort would order them", function()
    local dir = scratch()
    python(PY .. ([==[
rng = np.random.default_rng(5)
times = [np.sort(rng.integers(0, 400000, n)) / 1000.0 for n in (30000, 50000, 1, 0, 40000)]
f = nwbfile(%q)
units(f, times, ids=[4, 0, 9, 2, 1], samplerate=np.full(5, 1000.0))
f.close()
s = np.concatenate([np.rint(t * 1000) for t in times]).astype(np.int64)
u = np.concatenate([np.full(len(t), i) for i, t in zip([4, 0, 9, 2, 1], times)])
o = np.lexsort((np.concatenate([np.full(len(t), k) for k, t in enumerate(times)]), s))
np.save(%q, np.column_stack([s[o], np.zeros(len(s), np.int64), u[o]]))
]==]):format(dir .. "/m.nwb", dir .. "/m.npy"))
    local b = spy.load_nwb(dir .. "/m.nwb").units
    assert.are.equal(0, maxdiff(spy.loadnpy(dir .. "/m.npy"), b:toarray()))
    assert.are.equal(1000, b.samplerate) -- Syncopy's `samplerate` column
    assert.are.same({ "unit1", "unit2", "unit5", "unit10" }, b.unit) -- id 2 has no spikes
    local x = b:toarray()
    assert.are.same({ { 0, x:get(x.shape[1], 1) + 1, 0 } }, b.trialdefinition:totable()) -- past the last spike
  end)

  it("needs a samplerate for a units-only file without one, and says so", function()
    local dir = scratch()
    python(PY .. ([==[
f = nwbfile(%q); units(f, [[0.5, 1.0], [0.25]]); f.close()
]==]):format(dir .. "/n.nwb"))
    assert.matches("n.nwb': the units table holds spike times in seconds, but the file gives no samplerate.*"
      .. "pass one: spy.load_nwb%(path, {samplerate=...}%)", errmsg(spy.load_nwb, dir .. "/n.nwb"))
    local b = spy.load_nwb(dir .. "/n.nwb", { samplerate = 100 }).units
    assert.are.same({ { 25, 0, 1 }, { 50, 0, 0 }, { 100, 0, 0 } }, rows(b))
    assert.are.same({ "channel1" }, b.channel)
    assert.matches("Invalid value of `samplerate`: '%-1'", errmsg(spy.load_nwb, dir .. "/n.nwb", { samplerate = -1 }))
  end)

  it("ignores spike times past the last row of the ragged index", function()
    local dir = scratch()
    python(PY .. ([==[
f = nwbfile(%q); g = units(f, [[0.1, 0.2], [0.3]], samplerate=[10.0, 10.0])
del g['spike_times_index']; g['spike_times_index'] = np.array([1, 2], np.uint8); f.close()
]==]):format(dir .. "/short.nwb"))
    assert.are.same({ { 1, 0, 0 }, { 2, 0, 1 } }, rows(spy.load_nwb(dir .. "/short.nwb").units))
  end)

  it("says what is wrong with a units table", function()
    local dir = scratch()
    python(PY .. ([==[
d = %q
f = nwbfile(d + '/range.nwb'); g = units(f, [[0.1, 0.2], [0.3]], samplerate=[10.0, 10.0])
del g['spike_times_index']; g['spike_times_index'] = np.array([2, 7], np.uint8); f.close()
f = nwbfile(d + '/noid.nwb'); g = units(f, [[0.1]]); del g['id']; f.close()
f = nwbfile(d + '/notimes.nwb'); g = typed(f.create_group('units'), 'core', 'Units'); g['id'] = [0]; f.close()
f = nwbfile(d + '/unsorted.nwb'); units(f, [[0.1], [0.5, 0.3]], samplerate=[10.0, 10.0]); f.close()
f = nwbfile(d + '/negative.nwb'); units(f, [[-0.5, 0.3]], samplerate=[10.0]); f.close()
f = nwbfile(d + '/negid.nwb'); units(f, [[0.5]], ids=[-1], samplerate=[10.0]); f.close()
f = nwbfile(d + '/empty.nwb'); f.create_group('acquisition'); f.close()
]==]):format(dir))
    assert.matches("range.nwb': units/spike_times_index is out of range: row 2 ends at 7, but spike_times has 3 values",
      errmsg(spy.load_nwb, dir .. "/range.nwb"))
    assert.matches("noid.nwb': the units table has no `id` column", errmsg(spy.load_nwb, dir .. "/noid.nwb"))
    assert.matches("notimes.nwb': the units table has no `spike_times` column", errmsg(spy.load_nwb, dir .. "/notimes.nwb"))
    assert.matches("unsorted.nwb': the spike times of unit id 1 are not sorted %(0.3 s follows a later spike%)",
      errmsg(spy.load_nwb, dir .. "/unsorted.nwb"))
    assert.matches("negative.nwb': unit id 0 has a spike at %-0.5 s, before the recording's start %(0 s%)",
      errmsg(spy.load_nwb, dir .. "/negative.nwb"))
    assert.matches("negid.nwb': unit 1 has id %-1; spy uses the ids as unit indices",
      errmsg(spy.load_nwb, dir .. "/negid.nwb"))
    assert.matches("empty.nwb' holds no ElectricalSeries %(in acquisition or processing/ecephys/LFP%), no units table and no TTL_PulseValues",
      errmsg(spy.load_nwb, dir .. "/empty.nwb"))
    -- a truncated file is not HDF5 any more
    local src = assert(io.open(dir .. "/range.nwb", "rb")):read("a")
    H.write(dir .. "/cut.nwb", src:sub(1, #src // 2))
    assert.matches("cut.nwb' is not an NWB file %(not HDF5%)", errmsg(spy.load_nwb, dir .. "/cut.nwb"))
    -- a SpikeData without samplerate cannot become seconds; the target is left alone
    H.write(dir .. "/keep.nwb", "old")
    local s = spy.SpikeData { data = { { 1, 0, 0 } } }
    assert.matches("Invalid value of `samplerate`: 'None'", errmsg(s.save_nwb, s, dir .. "/keep.nwb"))
    assert.are.equal("old", io.open(dir .. "/keep.nwb"):read("a"))
  end)
end)

describe("NWB EventData", function()
  it("save_nwb writes TTL series that load_nwb reads back equal", function()
    local dir = scratch()
    local e = spy.load(DATA .. "/syncopy_events.spy")
    e:save_nwb(dir .. "/e.nwb")
    local b = spy.load_nwb(dir .. "/e.nwb").TTL_PulseValues
    assert.are.same(rows(e), rows(b))
    assert.are.equal(e.samplerate, b.samplerate)
    assert.are.same(e.trialdefinition:totable(), b.trialdefinition:totable())
    -- a third column becomes TTL_Channels and comes back as `chans`
    local c = spy.EventData { data = { { 7, 1, 2 }, { 7, 4, 0 }, { 31, 1, 5 } }, samplerate = 30000,
      dimord = { "sample", "eventid", "chans" } }
    c:save_nwb(dir .. "/c.nwb")
    local d = spy.load_nwb(dir .. "/c.nwb").TTL_PulseValues
    assert.are.same(rows(c), rows(d))
    assert.are.same({ "sample", "eventid", "chans" }, d.dimord)
    assert.are.equal(30000, d.samplerate)
    local out = python(([==[
import h5py
with h5py.File(%q, 'r') as f:
    for n in ('TTL_PulseValues', 'TTL_Channels'):
        g = f['acquisition'][n]; t = g['timestamps']
        print(g.attrs['namespace'], g.attrs['neurodata_type'], g['data'][()].tolist(), g['data'].attrs['unit'],
              (t[()] * 30000).round(6).tolist(), t.attrs['unit'], t.attrs['interval'], t.attrs['resolution'] * 30000)
]==]):format(dir .. "/c.nwb"))
    assert.are.equal("core TimeSeries [1, 4, 1] n/a [7.0, 7.0, 31.0] seconds 1 1.0\n"
      .. "core TimeSeries [2, 0, 5] n/a [7.0, 7.0, 31.0] seconds 1 1.0\n", out)
    local w = spy.EventData { data = { { 1, 1, 1, 1 } }, samplerate = 10, dimord = { "sample", "eventid", "a", "b" } }
    assert.matches("EventData with the columns sample, eventid and at most one more", errmsg(w.save_nwb, w, dir .. "/w.nwb"))
  end)

  it("reads Syncopy's TTLs (ndx-events) on the acquisition clock and sorts them", function()
    local dir = scratch()
    python(PY .. ([==[
f = nwbfile(%q)
es = typed(f.create_group('acquisition/raw'), 'core', 'ElectricalSeries')
es['data'] = np.zeros((100, 1), np.int16); es['electrodes'] = [0]
st = es.create_dataset('starting_time', data=1.0); st.attrs['rate'] = 50.0
for name, vals in (('TTL_PulseValues', [8, 2, 8]), ('TTL_Channels', [1, 3, 1]), ('TTL_ChannelStates', [1, 1, -1])):
    g = typed(f.create_group('acquisition/' + name), 'ndx-events', 'TTLs')
    g.attrs['description'] = 'from open ephys'
    g['data'] = np.array(vals, np.int8)
    t = g.create_dataset('timestamps', data=np.array([1.5, 1.25, 1.75], np.float32))
    t.attrs['resolution'] = 1 / 2000.0; t.attrs['unit'] = 'seconds'
f.close()
]==]):format(dir .. "/t.nwb"))
    local r = spy.load_nwb(dir .. "/t.nwb")
    local e = r.TTL_PulseValues
    assert.are.equal(2000, e.samplerate)
    assert.are.same({ { 500, 2, 3 }, { 1000, 8, 1 }, { 1500, 8, 1 } }, rows(e))
    assert.are.same({ { 500, 1500, 0 } }, e.trialdefinition:totable())
    assert.is_not_nil(r.raw)
    python(PY .. ([==[
f = nwbfile(%q)
g = typed(f.create_group('acquisition/TTL_PulseValues'), 'core', 'TimeSeries')
g['data'] = [1, 2]; g['timestamps'] = [0.5, 0.25]
h = typed(f.create_group('acquisition/TTL_Channels'), 'core', 'TimeSeries')
h['data'] = [1]; h['timestamps'] = [0.5]
f.close()
]==]):format(dir .. "/bad.nwb"))
    assert.matches("bad.nwb': TTL_Channels has 1 values for 2 TTL pulses", errmsg(spy.load_nwb, dir .. "/bad.nwb"))
  end)
end)

describe("NWB TimeLockData", function()
  it("is written as an ElectricalSeries with trials and comes back as TimeLockData", function()
    local dir = scratch()
    local a = spy.load(DATA .. "/analog_ref.spy")
    local tl = spy.TimeLockData { data = a:toarray(), samplerate = a.samplerate, channel = a.channel,
      trialdefinition = a.trialdefinition }
    tl:save_nwb(dir .. "/tl.nwb", { is_raw = false })
    local b = spy.load_nwb(dir .. "/tl.nwb").ElectricalSeries
    assert.matches("TimeLockData", tostring(b))
    assert.are.equal(0, maxdiff(tl:toarray(), b:toarray()))
    assert.are.same(tl.trialdefinition:totable(), b.trialdefinition:totable())
    assert.are.same(tl.channel, b.channel)
    local out = python(([==[
import h5py
with h5py.File(%q, 'r') as f:
    es = f['processing/ecephys/LFP/ElectricalSeries']
    print(es.attrs['neurodata_type'], es.attrs['comments'], es['data'].shape, len(f['intervals/trials/id']))
]==]):format(dir .. "/tl.nwb"))
    assert.are.equal("ElectricalSeries Exported by spy from TimeLockData (10000, 4) " .. #tl.trialdefinition:totable() .. "\n", out)
  end)
end)
