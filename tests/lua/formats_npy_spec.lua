-- Results out as NumPy .npy and text: what spy writes numpy.load reads with
-- the same dtype, shape and values; what numpy writes (every header version,
-- dtype, byte order, C and Fortran order) spy reads; text tables are what
-- numpy.loadtxt reads.  Cross-checked with Debian's python3-numpy.
local spy = require "spy"
local H = require "formats_helpers"
local scratch, python, maxdiff = H.scratch, H.python, H.maxdiff
local DATA = os.getenv("SPY_TEST_DATA")

describe("spy.savenpy", function()
  it("writes arrays numpy.load reads with dtype, shape and values", function()
    local dir = scratch()
    local a = spy.array { { 1.5, -2, 3 }, { 4, 5e-300, 6 } }
    spy.savenpy(dir .. "/a.npy", a)
    spy.savenpy(dir .. "/f.npy", a:astype("float32"))
    spy.savenpy(dir .. "/i.npy", spy.array({ 1, -2, 9007199254740993 }, "int64"))
    spy.savenpy(dir .. "/c.npy", spy.array { spy.complex(1, -2), spy.complex(0.5, 3) })
    spy.savenpy(dir .. "/s.npy", spy.array(7)) -- 0-d
    spy.savenpy(dir .. "/t.npy", a:slice { ":", { 2, 3 } }) -- a strided view
    local out = python(([==[
import numpy as np
d = %q
a = np.load(d + '/a.npy'); print(a.dtype, a.shape, a.tolist() == [[1.5, -2, 3], [4, 5e-300, 6]])
f = np.load(d + '/f.npy'); print(f.dtype, f.shape)
i = np.load(d + '/i.npy'); print(i.dtype, i.tolist() == [1, -2, 9007199254740993])
c = np.load(d + '/c.npy'); print(c.dtype, c.tolist() == [1-2j, 0.5+3j])
s = np.load(d + '/s.npy'); print(s.dtype, s.shape, s == 7)
t = np.load(d + '/t.npy'); print(t.shape, t.tolist() == [[-2, 3], [5e-300, 6]])
]==]):format(dir))
    assert.are.equal(table.concat({
      "float64 (2, 3) True", "float32 (2, 3)", "int64 True", "complex128 True",
      "float64 () True", "(2, 2) True", "" }, "\n"), out)
  end)

  it("writes a data object's data array in Syncopy's layout, streamed", function()
    local dir = scratch()
    local a = spy.load(DATA .. "/analog_ref.spy")
    spy.savenpy(dir .. "/analog.npy", a)
    local out = python(([==[
import numpy as np, h5py
x = np.load(%q + '/analog.npy')
with h5py.File(%q, 'r') as f:
    ref = f['input'][()]
print(x.dtype, x.shape, np.array_equal(x, ref))
]==]):format(dir, DATA .. "/spy_container.h5"))
    assert.are.equal("float32 (10000, 4) True\n", out)
    -- and back: spy -> file -> spy equal
    assert.are.equal(0, maxdiff(spy.loadnpy(dir .. "/analog.npy"), a:toarray()))
  end)

  it("leaves no file behind when it cannot write", function()
    local dir = scratch()
    local ok, msg = pcall(spy.savenpy, dir .. "/missing/x.npy", spy.array { 1 })
    assert.is_false(ok)
    assert.matches("cannot write '.*/missing/x.npy'", msg)
    ok, msg = pcall(spy.savenpy, dir .. "/x.npy", { { 1, 2 }, { 3 } })
    assert.is_false(ok)
    assert.is_nil(io.open(dir .. "/x.npy"))
  end)
end)

describe("spy.loadnpy", function()
  it("reads what numpy writes: versions, dtypes, byte orders, Fortran order", function()
    local dir = scratch()
    python(([==[
import numpy as np
from numpy.lib import format as fm
d = %q
x = np.arange(24, dtype=float).reshape(2, 3, 4) / 7
np.save(d + '/c.npy', x)
np.save(d + '/fo.npy', np.asfortranarray(x))
np.save(d + '/be.npy', x.astype('>f8'))
np.save(d + '/f4.npy', x.astype('<f4'))
np.save(d + '/f2.npy', np.array([0.5, -2, 65504, 1e-7], dtype='<f2'))
np.save(d + '/i2.npy', np.array([[-32768, 7], [32767, 0]], dtype='>i2'))
np.save(d + '/u8.npy', np.array([1, 2**64 - 1], dtype='<u8'))
np.save(d + '/b.npy', np.array([True, False, True]))
np.save(d + '/c8.npy', np.array([1+2j, -3.5j], dtype='complex64'))
for v in [(2, 0), (3, 0)]:
    with open(d + '/v%%d.npy' %% v[0], 'wb') as f:
        fm.write_array(f, x, version=v)
]==]):format(dir))
    local ref = spy.loadnpy(dir .. "/c.npy")
    assert.are.same({ 2, 3, 4 }, ref.shape)
    assert.are.equal("float64", ref.dtype)
    assert.are.equal(23 / 7, ref:get(2, 3, 4))
    for _, name in ipairs { "fo", "be", "v2", "v3" } do
      local y = spy.loadnpy(dir .. "/" .. name .. ".npy")
      assert.are.same({ 2, 3, 4 }, y.shape)
      assert.are.equal(0, maxdiff(y, ref), name)
    end
    local f4 = spy.loadnpy(dir .. "/f4.npy")
    assert.are.equal("float32", f4.dtype)
    assert.is_true(maxdiff(f4, ref) < 1e-6)
    assert.are.same({ 0.5, -2, 65504 }, { table.unpack(spy.loadnpy(dir .. "/f2.npy"):totable(), 1, 3) })
    assert.are.equal(1.1920928955078125e-07, spy.loadnpy(dir .. "/f2.npy"):get(4)) -- a subnormal half
    assert.are.same({ { -32768, 7 }, { 32767, 0 } }, spy.loadnpy(dir .. "/i2.npy"):totable())
    assert.are.same({ 1, math.maxinteger }, spy.loadnpy(dir .. "/u8.npy"):totable()) -- saturates
    assert.are.same({ 1, 0, 1 }, spy.loadnpy(dir .. "/b.npy"):totable())
    local c = spy.loadnpy(dir .. "/c8.npy")
    assert.are.equal("complex64", c.dtype)
    assert.are.equal(-3.5, c:imag():get(2))
  end)

  it("names the file and the problem for bad files", function()
    local dir = scratch()
    python(([==[
import numpy as np
d = %q
np.save(d + '/rec.npy', np.zeros(3, dtype=[('a', 'f8'), ('b', 'i4')]))
np.save(d + '/s.npy', np.array(['ab', 'c']))
b = open(d + '/full.npy', 'wb'); np.save(b, np.arange(100.0)); b.close()
raw = open(d + '/full.npy', 'rb').read()
open(d + '/trunc.npy', 'wb').write(raw[:-8])
open(d + '/junk.npy', 'wb').write(b'hello world, not numpy')
]==]):format(dir))
    local function err(name)
      local ok, msg = pcall(spy.loadnpy, dir .. "/" .. name)
      assert.is_false(ok)
      return msg
    end
    assert.matches("rec.npy': structured or object dtypes are not supported", err("rec.npy"))
    assert.matches("s.npy': dtype '<U2' is not supported %(only floats", err("s.npy"))
    assert.matches("trunc.npy' is truncated: the header promises 800 bytes of data, the file holds 792", err("trunc.npy"))
    assert.matches("junk.npy' is not a valid .npy file: the magic string", err("junk.npy"))
    assert.matches("cannot open '.*/none.npy'", err("none.npy"))
  end)
end)

describe("text tables", function()
  it("savetxt and tocsv write what numpy.loadtxt reads", function()
    local dir = scratch()
    local a = spy.array { { 1 / 3, -2e-10 }, { 1e300, 4 } }
    spy.savetxt(dir .. "/a.txt", a, { header = "first line\nsecond" })
    a:tocsv(dir .. "/a.csv")
    spy.array { 1, 2, 3 }:tocsv(dir .. "/v.csv", { fmt = "%g" })
    spy.savetxt(dir .. "/c.txt", spy.array { spy.complex(1, -2), spy.complex(0.25, 3) })
    local out = python(([==[
import numpy as np
d = %q
ref = np.array([[1/3, -2e-10], [1e300, 4]])
print(np.array_equal(np.loadtxt(d + '/a.txt'), ref), np.array_equal(np.loadtxt(d + '/a.csv', delimiter=','), ref))
print(open(d + '/a.txt').read().splitlines()[:2])
print(open(d + '/v.csv').read().split())
np.savetxt(d + '/np.txt', np.array([1-2j, 0.25+3j]))
print(open(d + '/np.txt').read() == open(d + '/c.txt').read())
np.savetxt(d + '/np2.txt', ref)
print(open(d + '/np2.txt').read() == open(d + '/a.txt').read().split('\n', 2)[2])
]==]):format(dir))
    assert.are.equal(table.concat({ "True True", "['# first line', '# second']", "['1', '2', '3']", "True", "True", "" }, "\n"), out)
  end)

  it("refuses arrays that are not 1-d or 2-d, and bad formats", function()
    local ok, msg = pcall(spy.savetxt, os.tmpname(), spy.zeros { 2, 2, 2 })
    assert.is_false(ok)
    assert.matches("Expected 1D or 2D array, got 3D array instead", msg)
    ok, msg = pcall(spy.savetxt, os.tmpname(), spy.array { 1 }, { fmt = "%s" })
    assert.is_false(ok)
    assert.matches("Invalid value of `fmt`: '%%s'; expected one printf float conversion", msg)
  end)
end)

describe("data:toarray", function()
  it("is the data array in Syncopy's layout", function()
    local a = spy.load(DATA .. "/analog_ref.spy")
    local x = a:toarray()
    assert.are.same({ 10000, 4 }, x.shape)
    assert.are.equal(0, maxdiff(x, spy.h5read(DATA .. "/spy_container.h5", "input")))
  end)
end)
