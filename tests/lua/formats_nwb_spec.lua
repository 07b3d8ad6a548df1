-- NWB 2.x for AnalogData: what data:save_nwb writes has the NWB schema's
-- structure (checked with h5py: neurodata types, electrodes table, region
-- reference, trials table) and loads back equal; a file built with h5py the
-- way pynwb lays it out (int16 data, channel_conversion gains, epochs, a
-- non-electrical series) loads with Syncopy's rules.
local spy = require "spy"
local H = require "formats_helpers"
local scratch, python, maxdiff = H.scratch, H.python, H.maxdiff
local DATA = os.getenv("SPY_TEST_DATA")

local function with_offsets()
  local a = spy.load(DATA .. "/analog_ref.spy")
  local trl = a.trialdefinition:totable()
  for k = 1, #trl do trl[k][3] = -500 end
  return spy.definetrial(a, trl)
end

describe("NWB", function()
  it("save_nwb writes the NWB schema's layout and load_nwb reads it back", function()
    local dir = scratch()
    local a = with_offsets()
    a:save_nwb(dir .. "/a.nwb")
    local b = spy.load_nwb(dir .. "/a.nwb").ElectricalSeries
    assert.are.equal(0, maxdiff(a:toarray(), b:toarray()))
    assert.are.equal(a.samplerate, b.samplerate)
    assert.are.same(a.channel, b.channel)
    assert.are.equal(0, maxdiff(a.trialdefinition, b.trialdefinition))
    assert.are.equal("volts", b.info.unit)
    local out = python(([==[
import h5py, numpy as np
with h5py.File(%q, 'r') as f:
    a = lambda o: (o.attrs['namespace'], o.attrs['neurodata_type'], len(o.attrs['object_id']))
    print(a(f), f.attrs['nwb_version'], f['identifier'][()] != b'')
    es = f['acquisition/ElectricalSeries']
    print(a(es), es['data'].shape, es['data'].dtype, es['starting_time'].attrs['rate'], es['data'].attrs['unit'])
    reg = es['electrodes']
    print(a(reg), f[reg.attrs['table']].name, reg[()].tolist())
    el = f['general/extracellular_ephys/electrodes']
    print(a(el), list(el.attrs['colnames']), [x.decode() for x in el['location'][()]])
    print(f[el['group'][0]].name, f['general/extracellular_ephys/shank0'].get('device', getlink=True).path, a(f['general/extracellular_ephys/shank0/device']))
    tr = f['intervals/trials']
    print(a(tr), list(tr.attrs['colnames']), tr['start_time'][:2].tolist(), tr['offset'][0])
]==]):format(dir .. "/a.nwb"))
    assert.are.equal(table.concat({
      "('core', 'NWBFile', 36) 2.6.0 True",
      "('core', 'ElectricalSeries', 36) (10000, 4) float32 1000.0 volts",
      "('hdmf-common', 'DynamicTableRegion', 36) /general/extracellular_ephys/electrodes [0, 1, 2, 3]",
      "('hdmf-common', 'DynamicTable', 36) ['location', 'group', 'group_name', 'label'] ['channel1', 'channel2', 'channel3', 'channel4']",
      "/general/extracellular_ephys/shank0 /general/devices/array ('core', 'Device', 36)",
      "('core', 'TimeIntervals', 36) ['start_time', 'stop_time', 'offset'] [0.0, 2.0] -0.5", "" }, "\n"), out)
    -- not raw: processing/ecephys/LFP
    a:save_nwb(dir .. "/lfp.nwb", { is_raw = false, with_trialdefinition = false })
    local c = spy.load_nwb(dir .. "/lfp.nwb").ElectricalSeries
    assert.are.same({ { 0, 10000, 0 } }, c.trialdefinition:totable())
  end)

  it("reads files laid out as pynwb writes them, with Syncopy's rules", function()
    local dir = scratch()
    python(([==[
import h5py, numpy as np, uuid
def typed(o, ns, t):
    o.attrs['namespace'] = ns; o.attrs['neurodata_type'] = t; o.attrs['object_id'] = str(uuid.uuid4())
with h5py.File(%q, 'w') as f:
    typed(f, 'core', 'NWBFile'); f.attrs['nwb_version'] = '2.5.0'
    g = f.create_group('general/extracellular_ephys/electrodes'); typed(g, 'hdmf-common', 'DynamicTable')
    g['location'] = np.array([b'CA1', b'CA1', b'CA1'], dtype=h5py.string_dtype())
    acq = f.create_group('acquisition')
    es = acq.create_group('raw'); typed(es, 'core', 'ElectricalSeries')
    x = (np.arange(3000, dtype=np.int16).reshape(1000, 3) - 1500)
    es['data'] = x
    es['channel_conversion'] = np.array([0.5, 2.0, 1e-3], dtype=np.float32)
    st = es.create_dataset('starting_time', data=10.0); st.attrs['rate'] = 500.0
    es['electrodes'] = np.array([0, 1, 2])
    ts = acq.create_group('running'); typed(ts, 'core', 'TimeSeries')
    ep = f.create_group('intervals/epochs'); typed(ep, 'core', 'TimeIntervals')
    ep['start_time'] = [10.0, 11.0]; ep['stop_time'] = [10.5, 11.998]
]==]):format(dir .. "/py.nwb"))
    local d = spy.load_nwb(dir .. "/py.nwb").raw
    assert.are.equal("float32", d.dtype)
    assert.are.equal(500, d.samplerate)
    assert.are.same({ "channel1", "channel2", "channel3" }, d.channel) -- locations not unique: default names
    assert.are.same({ { 0, 250, 0 }, { 500, 999, 0 } }, d.trialdefinition:totable())
    local x = spy.load_nwb(dir .. "/py.nwb").raw:toarray()
    assert.are.equal((3 * 700 + 1 - 1500) * 2.0, x:get(701, 2))
    assert.is_true(math.abs(x:get(1000, 3) - (2999 - 1500) * 1e-3) < 1e-7)
    assert.are.equal(10, d.info.starting_time)
  end)

  it("says what is wrong", function()
    local dir = scratch()
    spy.h5write(dir .. "/plain.h5", "x", spy.array { 1, 2 })
    local ok, msg = pcall(spy.load_nwb, dir .. "/plain.h5")
    assert.is_false(ok)
    assert.matches("plain.h5' is not an NWB file %(its root has no neurodata_type 'NWBFile'%)", msg)
    ok, msg = pcall(spy.load_nwb, dir .. "/none.nwb")
    assert.is_false(ok)
    assert.matches("cannot open '.*none.nwb'", msg)
    local s = spy.freqanalysis(spy.load(DATA .. "/analog_ref.spy"), { method = "mtmfft", foilim = { 1, 10 } })
    ok, msg = pcall(s.save_nwb, s, dir .. "/s.nwb")
    assert.is_false(ok)
    assert.matches("save_nwb writes AnalogData, TimeLockData, SpikeData or EventData; got SpectralData", msg)
    assert.is_nil(io.open(dir .. "/s.nwb"))
  end)
end)
