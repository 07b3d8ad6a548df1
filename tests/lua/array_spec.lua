-- spy.array at the prompt: construction, 1-based indexing and views,
-- reductions and arithmetic against hand-computed values, the preview, JSON,
-- and plain HDF5 import/export (reference files, round trips, errors).
local spy = require "spy"

local DATA = os.getenv("SPY_TEST_DATA") or "../data"

local function tmpname()
  local p = os.tmpname()
  os.remove(p)
  return p .. ".h5"
end

-- error text of f(...), which must fail
local function err(f, ...)
  local ok, msg = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  return tostring(msg)
end

local function near(a, b, tol)
  assert(math.abs(a - b) <= (tol or 1e-12), ("%.17g vs %.17g"):format(a, b))
end

describe("spy.array construction", function()
  it("builds float64 arrays from nested tables", function()
    local a = spy.array{{1, 2, 3}, {4, 5, 6}}
    assert.same({2, 3}, a.shape)
    assert.equal("float64", a.dtype)
    assert.equal(2, a.ndim)
    assert.equal(6, a.size)
    assert.equal(2, #a)
    assert.same({{1, 2, 3}, {4, 5, 6}}, a:totable())
    assert.equal(0, spy.array(0).ndim)
    assert.same({0}, spy.array{}.shape)
  end)

  it("takes a dtype", function()
    local i = spy.array({1, -2, 3}, "int64")
    assert.equal("int64", i.dtype)
    assert.equal(math.type(i[2]), "integer")
    assert.equal("float32", spy.array({0.1}, "float32").dtype)
    near(spy.array({0.1}, "float32")[1], 0.1, 1e-8)
    assert.equal("complex64", spy.array({1}, "complex64").dtype)
    assert.equal("float32", spy.array(spy.array{1, 2}, "float32").dtype)
    assert.matches("Invalid value of `dtype`: 'float'; expected 'float32' or 'float64' or "
                   .. "'complex64' or 'complex128' or 'int64'",
                   err(spy.array, {1}, "float"), 1, true)
  end)

  it("reads complex elements as {re=, im=} and promotes to complex128", function()
    local c = spy.array{spy.complex(1, 2), 3, {re = 0, im = -1}}
    assert.equal("complex128", c.dtype)
    assert.equal(1, c[1].re)
    assert.equal(2, c[1].im)
    assert.equal(3, c[2].re)
    assert.equal(-1, c[3].im)
    assert.equal("1+2j", tostring(c[1]))
    assert.equal("complex64", spy.array({1, spy.complex(0, 1)}, "complex64").dtype)
    assert.matches("element [2] is complex: a float64 array cannot hold it",
                   err(spy.array, {1, spy.complex(0, 1)}, "float64"), 1, true)
  end)

  it("says which element is wrong", function()
    assert.matches("ragged nested table: [2] is a table of 1 element where a table of 2 "
                   .. "elements was expected", err(spy.array, {{1, 2}, {3}}), 1, true)
    assert.matches("element [2] is a string (allowed: numbers and complex values {re=, im=})",
                   err(spy.array, {1, "x"}), 1, true)
    assert.matches("element [1][2] = 1.5 is not an integer",
                   err(spy.array, {{1, 1.5}}, "int64"), 1, true)
    assert.matches("not an array", err(spy.array, {x = 1}), 1, true)
  end)

  it("makes zeros of any dtype", function()
    local z = spy.zeros{2, 3}
    assert.same({2, 3}, z.shape)
    assert.equal("float64", z.dtype)
    assert.equal(0, z:sum())
    assert.equal("complex64", spy.zeros{4, dtype = "complex64"}.dtype)
    assert.matches("Invalid value of `dtype`: 'float'", err(spy.zeros, {3, dtype = "float"}), 1, true)
    assert.matches("did you mean `dtype`?", err(spy.zeros, {3, dtyp = "int64"}), 1, true)
    assert.matches("length 2 must be an integer >= 0", err(spy.zeros, {3, -1}), 1, true)
  end)
end)

describe("spy.array indexing", function()
  local function grid() -- a[i][j] = 10 i + j
    return spy.array{{11, 12, 13, 14}, {21, 22, 23, 24}, {31, 32, 33, 34}}
  end

  it("is 1-based, negative from the end", function()
    local a = grid()
    assert.equal(23, a[2][3])
    assert.equal(23, a:get(2, 3))
    assert.equal(34, a:get(-1, -1))
    assert.equal(31, a[-1][1])
  end)

  it("gives views for rows and numbers for 1-d", function()
    local a = grid()
    local row = a[2]
    assert.same({4}, row.shape)
    row[1] = -1
    assert.equal(-1, a:get(2, 1))
    a[3][2] = 0.5
    assert.equal(0.5, a[3][2])
    a:set(1, 4, 7)
    assert.equal(7, a[1][4])
    a[1] = 0 -- a scalar fills the row
    assert.same({0, 0, 0, 7 * 0}, a[1]:totable())
    a[1] = {1, 2, 3, 4}
    assert.same({1, 2, 3, 4}, a[1]:totable())
  end)

  it("iterates like a Lua sequence", function()
    local a, seen = spy.array{5, 6, 7}, {}
    for i, v in ipairs(a) do seen[i] = v end
    assert.same({5, 6, 7}, seen)
    assert.is_nil(a[4])
  end)

  it("says which indices are allowed", function()
    local a = grid()
    assert.matches("index 0 is out of range for axis 1: indices start at 1 (allowed: 1..3, or "
                   .. "-3..-1 counting from the end)", err(function() return a[0] end), 1, true)
    assert.matches("index 5 is out of range for axis 1 of length 3",
                   err(function() return a[5] end), 1, true)
    assert.matches("index 9 is out of range for axis 2 of length 4",
                   err(a.get, a, 1, 9), 1, true)
    assert.matches("an element of a 2-d array takes 2 indices, got 1", err(a.get, a, 1), 1, true)
    assert.matches("cannot set field 'shape' of a spy.array",
                   err(function() a.shape = {1} end), 1, true)
    assert.matches("cannot store 1.5 in an int64 array",
                   err(function() spy.array({1}, "int64")[1] = 1.5 end), 1, true)
  end)

  it("slices into views", function()
    local a = grid()
    local s = a:slice{2, {2, 4}}
    assert.same({22, 23, 24}, s:totable())
    s[1] = 0
    assert.equal(0, a[2][2])
    assert.same({{14, 12}, {24, 0}, {34, 32}}, a:slice{":", {-1, 1, -2}}:totable())
    assert.same({{11, 12, 13, 14}, {31, 32, 33, 34}}, a:slice{{1, 3, 2}}:totable())
    local v = spy.array{1, 2, 3, 4, 5, 6}:slice{{2, -2}}
    assert.same({2, 3, 4, 5}, v:totable())
    assert.matches("range {3, 1, 1} of axis 1 is empty", err(a.slice, a, {{3, 1}}), 1, true)
    assert.matches("entry 2: expected an index, {lo, hi}, {lo, hi, step} or ':', got boolean",
                   err(a.slice, a, {1, true}), 1, true)
    assert.matches("3 entries for a 2-d array", err(a.slice, a, {1, 1, 1}), 1, true)
  end)

  it("keeps views valid after the parent is closed", function()
    local v
    do
      local a <close> = spy.array{1, 2, 3}
      v = a:slice{{2, 3}}
    end
    assert.same({2, 3}, v:totable())
    local b = spy.array{1}
    getmetatable(b).__close(b)
    assert.matches("the spy.array is closed", err(b.sum, b), 1, true)
    assert.equal("spy.array (closed)", tostring(b))
  end)
end)

describe("spy.array reductions", function()
  local a = spy.array{{1, 2, 3}, {4, 5, 9}}

  it("reduce all elements", function()
    assert.equal(24, a:sum())
    assert.equal(4, a:mean())
    assert.equal(1, a:min())
    assert.equal(9, a:max())
    -- population std: deviations -3 -2 -1 0 1 5 -> (9+4+1+0+1+25)/6 = 40/6
    near(a:std(), math.sqrt(40 / 6))
    local i, j = a:argmax()
    assert.same({2, 3}, {i, j})
    i, j = a:argmin()
    assert.same({1, 1}, {i, j})
  end)

  it("reduce along an axis (1-based, negative from the last)", function()
    assert.same({5, 7, 12}, a:sum(1):totable())
    assert.same({2, 6}, a:mean(2):totable())
    assert.same({2, 6}, a:mean(-1):totable())
    assert.same({1, 2, 3}, a:min(1):totable())
    assert.same({3, 9}, a:max(2):totable())
    assert.same({2, 2, 2}, a:argmax(1):totable())
    assert.same({1, 1}, a:argmin(2):totable())
    assert.equal("int64", a:argmax(1).dtype)
    near(a:std(2):totable()[1], math.sqrt(2 / 3))
    near(a:std(2):totable()[2], math.sqrt(((4 - 6) ^ 2 + (5 - 6) ^ 2 + (9 - 6) ^ 2) / 3))
  end)

  it("keep float32 results float32 and handle complex", function()
    local f = spy.array({{1, 2}, {3, 4}}, "float32")
    assert.equal("float32", f:sum(1).dtype)
    local c = spy.array{spy.complex(1, 2), spy.complex(3, -4)}
    assert.equal("2-1j", tostring(c:mean()))
    near(c:std(), math.sqrt(10))
    assert.matches("max is not defined for complex values (complex128): take abs() or real() first",
                   err(c.max, c), 1, true)
    assert.equal(5, c:abs():max())
  end)

  it("refuse axes that do not exist", function()
    assert.matches("axis 3 is out of range for a 2-d array (allowed: 1..2, -2..-1 counting from "
                   .. "the last, or none for all elements)", err(a.sum, a, 3), 1, true)
    assert.matches("axis 0 does not exist: axes are numbered from 1", err(a.mean, a, 0), 1, true)
  end)
end)

describe("spy.array arithmetic", function()
  it("works with numbers on both sides", function()
    local a = spy.array{1, 2, 4}
    assert.same({3, 5, 9}, (2 * a + 1):totable())
    assert.same({9, 8, 6}, (10 - a):totable())
    assert.same({4, 2, 1}, (4 / a):totable())
    assert.same({0.5, 1, 2}, (a / 2):totable())
    assert.same({-1, -2, -4}, (-a):totable())
    assert.same({1, 4, 16}, (a ^ 2):totable())
  end)

  it("works elementwise on equal and broadcast shapes", function()
    local a = spy.array{{1, 2}, {3, 4}}
    local b = spy.array{{10, 20}, {30, 40}}
    assert.same({{11, 22}, {33, 44}}, (a + b):totable())
    assert.same({{10, 40}, {90, 160}}, (a * b):totable())
    assert.same({{11, 22}, {13, 24}}, (a + spy.array{10, 20}):totable())
    assert.same({{11, 12}, {23, 24}}, (a + spy.array{{10}, {20}}):totable())
    assert.same({{2, 4}, {4, 6}}, (a + {1, 2}):totable())
    assert.equal(36, (b - a):abs():max())
    assert.matches("shapes (2, 2) and (3,) do not match", err(function() return a + {1, 2, 3} end),
                   1, true)
  end)

  it("follows NumPy's dtype rules", function()
    local f = spy.array({1, 2}, "float32")
    assert.equal("float32", (f * 2.5).dtype)
    assert.equal("float64", (f * spy.array{1, 1}).dtype)
    assert.equal("complex64", (f * spy.complex(0, 1)).dtype)
    local i = spy.array({1, 2}, "int64")
    assert.equal("int64", (i + 1).dtype)
    assert.equal("float64", (i + 0.5).dtype)
    assert.equal("float64", (i / 2).dtype)
    assert.same({0.5, 1}, (i / 2):totable())
  end)

  it("has the unary functions", function()
    local c = spy.array{spy.complex(3, 4), -1}
    assert.same({5, 1}, c:abs():totable())
    assert.same({3, -1}, c:real():totable())
    assert.same({4, 0}, c:imag():totable())
    assert.equal("3-4j", tostring(c:conj()[1]))
    near(c:angle()[1], math.atan(4, 3))
    near(c:angle()[2], math.pi)
    near(c:sqrt()[2].im, 1)
    local x = spy.array{100, 1, -1}
    assert.same({2, 0}, x:log10():slice{{1, 2}}:totable())
    assert.is_true(x:sqrt()[3] ~= x:sqrt()[3]) -- nan, as NumPy
    near(x:exp()[2], math.exp(1))
    near(x:log()[1], math.log(100))
  end)
end)

describe("spy.array conversions", function()
  it("copies, converts and reshapes", function()
    local a = spy.array{{1.7, -2.5}, {3, 4}}
    local c = a:copy()
    c[1][1] = 0
    assert.equal(1.7, a[1][1])
    assert.same({{1, -2}, {3, 4}}, a:astype("int64"):totable())
    assert.matches("the imaginary part would be lost",
                   err(spy.array{spy.complex(1, 1)}.astype, spy.array{spy.complex(1, 1)}, "float64"),
                   1, true)
    local r = a:reshape{-1}
    assert.same({4}, r.shape)
    r[1] = 9
    assert.equal(9, a[1][1]) -- a view of a contiguous array
    assert.same({1, 4}, a:reshape(1, 4).shape)
    assert.matches("cannot reshape an array of 4 elements into shape (3,)", err(a.reshape, a, {3}),
                   1, true)
  end)

  it("converts to JSON through __tojson", function()
    local a = spy.array{{1, 2}, {3, 4.5}}
    assert.same({{1, 2}, {3, 4.5}}, getmetatable(a).__tojson(a))
    -- a cfg sees a list; a keyword that takes no list names it an array (issue #10)
    assert.matches("Wrong type of `overwrite`: expected boolean found array",
                   err(spy._kwcheck, "h5write", {overwrite = a}), 1, true)
  end)
end)

describe("spy.array preview", function()
  it("prints like NumPy with shape and dtype", function()
    assert.equal("array([[1., 2., 3.],\n       [4., 5., 6.]], shape=(2, 3), dtype=float64)",
                 tostring(spy.array{{1, 2, 3}, {4, 5, 6}}))
    assert.equal("array([1.5+2j, 0  -1j], shape=(2,), dtype=complex128)",
                 tostring(spy.array{spy.complex(1.5, 2), spy.complex(0, -1)}))
    assert.equal("1.5+2j", tostring(spy.complex(1.5, 2)))
  end)

  it("never floods the screen", function()
    local s = tostring(spy.zeros{1000, 1000} + 0.5)
    local lines = select(2, s:gsub("\n", "")) + 1
    assert.is_true(lines <= 8, s)
    assert.matches("[0.5, 0.5, 0.5, ..., 0.5, 0.5, 0.5]", s, 1, true)
    assert.matches("shape=(1000, 1000), dtype=float64)", s, 1, true)
    local big = tostring(spy.zeros{5, 5, 5, 5, 5, 5, 5, 5})
    assert.is_true(select(2, big:gsub("\n", "")) < 40)
  end)
end)

describe("spy.h5read and spy.h5write", function()
  local ref = DATA .. "/mtmfft_hann_pow.h5"

  it("reads the reference files", function()
    local out = spy.h5read(ref, "output")
    assert.same({5, 1, 1001, 4}, out.shape)
    assert.equal("float32", out.dtype)
    assert.is_true(out:min() >= 0) -- power
    local freq = spy.h5read(ref, "freq")
    assert.same({1001}, freq.shape)
    local bad = 0
    for i = 1, #freq do
      if freq[i] ~= (i - 1) * 0.5 then bad = bad + 1 end
    end
    assert.equal(0, bad)
    assert.equal(500, freq:max())
    assert.same({"channel1", "channel2", "channel3", "channel4"}, spy.h5read(ref, "channel"))
  end)

  it("round-trips every dtype", function()
    local path = tmpname()
    local values = {{1, -2, 3}, {4, 5, -6}}
    for _, dt in ipairs{"float32", "float64", "complex64", "complex128", "int64"} do
      local a = spy.array(values, dt)
      if dt:match("complex") then a = a * spy.complex(1, 0.5) end
      spy.h5write(path, dt, a)
      local b = spy.h5read(path, dt)
      assert.equal(dt, b.dtype)
      assert.same(a.shape, b.shape)
      assert.equal(0, (a - b):abs():max())
    end
    spy.h5write(path, "group/table", {1.5, 2.5})
    assert.same({1.5, 2.5}, spy.h5read(path, "group/table"):totable())
    os.remove(path)
  end)

  it("replaces a dataset only with overwrite=true", function()
    local path = tmpname()
    spy.h5write(path, "x", spy.array{1, 2})
    assert.matches("dataset 'x' already exists in '" .. path .. "' (overwrite=true replaces it)",
                   err(spy.h5write, path, "x", spy.array{3}), 1, true)
    spy.h5write(path, "x", spy.array{3}, {overwrite = true})
    assert.same({3}, spy.h5read(path, "x"):totable())
    assert.matches("unknown keyword `overwrit`", err(spy.h5write, path, "x", {1}, {overwrit = true}),
                   1, true)
    os.remove(path)
  end)

  it("says what is wrong", function()
    assert.matches("cannot open 'nope.h5': No such file or directory",
                   err(spy.h5read, "nope.h5", "x"), 1, true)
    assert.matches("no dataset 'outptu' in '" .. ref .. "' (it holds: channel, freq, input, ",
                   err(spy.h5read, ref, "outptu"), 1, true)
  end)

  it("has help texts", function()
    assert.equal("spy.h5read(path, dataset)", spy._spec(spy.h5read).signature)
    assert.equal("overwrite", spy._spec(spy.h5write).kw[1].name)
    assert.equal("dtype", spy._spec(spy.zeros).kw[1].name)
    local a = spy.array{1}
    assert.equal("a:mean([axis])", spy._spec(a.mean).signature)
    assert.equal("a:slice{s1, s2, ...}", spy._spec(a.slice).signature)
  end)
end)
