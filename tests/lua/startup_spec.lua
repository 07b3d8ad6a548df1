-- Start-up (issue 20): the shell maps only what every session needs; HDF5,
-- LAPACK, matio, edflib, libmicrohttpd, cminpack, libcrypto, FFTW (and the ~40
-- libraries they pull: curl, gnutls, krb5, gfortran, ...) are opened by the
-- first call that needs them (src/core/lazy.h), and a library opened that
-- way is the one its other users in the process share.

-- The shared objects mapped into the running spy at each "mark" of body:
-- {mark = {name = count of distinct paths, ...}, ...}.
local function mapped(body, env)
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute(("mkdir -p %q"):format(dir)))
  local script = dir .. "/t.lua"
  local f = assert(io.open(script, "w"))
  f:write([[
function mark(name)
  local seen = {}
  for l in io.lines("/proc/self/maps") do
    local path = l:match("(/%S+%.so[%.%d]*)$")
    if path and not seen[path] then
      seen[path] = true
      print(name, path:match("([^/]+)%.so"))
    end
  end
end
]] .. body)
  f:close()
  local p = assert(io.popen(("cd %q && %s %q %q 2>&1"):format(dir, env or "", assert(os.getenv("SPY_BIN")),
                                                            script)))
  local out = p:read("a")
  assert.is_true(p:close(), out)
  local marks = {}
  for name, lib in out:gmatch("(%S+)\t(%S+)\n") do
    marks[name] = marks[name] or {}
    marks[name][lib] = (marks[name][lib] or 0) + 1
  end
  os.execute(("rm -rf %q"):format(dir))
  return marks, out
end

local optional = {"libhdf5_serial", "liblapack", "libblas", "libgfortran", "libmatio", "libedf",
                  "libmicrohttpd", "libcminpack", "libcrypto", "libssl", "libcurl", "libgnutls",
                  "libkrb5", "libgssapi_krb5", "libldap-2", "libfftw3"}

describe("spy's start-up", function()
  it("maps none of the libraries only some calls need", function()
    local m, out = mapped('mark("start")')
    assert.is_truthy(m.start, out)
    assert.is_truthy(m.start["liblua5.4"], out) -- the check sees the shell's own libraries
    for _, lib in ipairs(optional) do assert.is_nil(m.start[lib], lib .. " is mapped at start-up") end
  end)

  it("opens HDF5 with the first data object and LAPACK with the first DPSS taper", function()
    local m, out = mapped([[
local d = spy.synthdata.white_noise{nTrials=2, nChannels=2, nSamples=200, samplerate=100, seed=1}
mark("data")
local s = spy.freqanalysis(d, {method="mtmfft", taper="hann"})
mark("hann")
s = spy.freqanalysis(d, {method="mtmfft", tapsmofrq=4})
mark("dpss")
print("power", s:show{trials=1}[2][1])
]])
    assert.is_truthy(out:find("power\t%d"), out)
    assert.are.equal(1, m.data.libhdf5_serial, out)
    assert.is_nil(m.data.liblapack, out)
    assert.are.equal(1, m.hann.libfftw3, out)
    assert.is_nil(m.hann.liblapack, out)
    assert.are.equal(1, m.dpss.liblapack, out)
    for _, lib in ipairs({"libmatio", "libedf", "libmicrohttpd", "libcminpack"}) do
      assert.is_nil(m.dpss[lib], lib .. " is mapped by an analysis")
    end
  end)

  it("gives matio the HDF5 spy uses: one libhdf5 in the process", function()
    local m, out = mapped([[
local a = spy.array{{1, 2, 3}, {4, 5, 6}}
spy.savemat("x.mat", {x = a}, {version = "v5"})
mark("v5")
local d = spy.synthdata.white_noise{nTrials=1, nChannels=2, nSamples=50, samplerate=100, seed=1}
spy.savemat("y.mat", {x = a}, {version = "v7.3"})
mark("v73")
local back = spy.load_ft_raw("x.mat", {list_only = true})
print("read back")
]])
    assert.is_truthy(out:find("read back", 1, true), out)
    assert.are.equal(1, m.v5.libmatio, out)
    -- matio itself links libhdf5: loading it maps the one HDF5 spy's stubs open
    assert.are.equal(1, m.v5.libhdf5_serial, out)
    assert.are.equal(1, m.v73.libhdf5_serial, out)
  end)

  it("maps none of them when Lua requires the module either", function()
    local p = assert(io.popen([[lua5.4 -e 'require "spy"
      for l in io.lines("/proc/self/maps") do
        local lib = l:match("/([^/%s]+)%.so[%.%d]*$")
        if lib then print(lib) end
      end' 2>&1]]))
    local out = p:read("a")
    assert.is_true(p:close(), out)
    assert.is_truthy(out:find("\nspy\n", 1, true) or out:find("^spy\n"), out)
    for _, lib in ipairs(optional) do assert.is_nil(out:find("\n" .. lib .. "\n", 1, true), lib) end
  end)
end)

-- A library that is missing or broken (here: an empty shared object under
-- the library's soname, found first through LD_LIBRARY_PATH) gives an error
-- naming it and its Debian package; the session goes on.
describe("a missing library", function()
  local function fake(soname)
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute(("mkdir -p %q && echo 'int spy_fake;' | cc -shared -fPIC -x c -o %q/%s -"):format(
      dir, dir, soname)))
    return "LD_LIBRARY_PATH=" .. dir
  end

  it("is named with its package when a call needs it", function()
    local _, out = mapped([[
local ok, e = pcall(spy.load_edf, "x.edf")
print("edf", e)
ok, e = pcall(spy.savemat, "x.mat", {x = spy.array{1, 2}})
print("mat", e)
print("still", 1 + 1)
]], fake("libedf.so.1") .. ":" .. fake("libmatio.so.11"):match("=(.*)"))
    assert.is_truthy(out:find("edf\tspy.load_edf needs libedf.so.1 (Debian package libedf1): "
                              .. "libedf.so.1 has no function ", 1, true), out)
    assert.is_truthy(out:find("mat\tspy.savemat needs libmatio.so.11 (Debian package libmatio11): "
                              .. "libmatio.so.11 has no function ", 1, true), out)
    assert.is_truthy(out:find("still\t2", 1, true), out)
  end)

  it("fails HDF5 calls with the package's name, not a crash", function()
    local _, out = mapped([[
local ok, e = pcall(spy.synthdata.white_noise, {nTrials=2, nChannels=2, nSamples=20, seed=1})
print("data", e)
ok, e = pcall(spy.load, "nothing.spy")
print("load", e)
print("still", 1 + 1)
]], fake("libhdf5_serial.so.103"))
    assert.is_truthy(out:find("data\t[^\n]*needs libhdf5_serial.so.103 %(Debian package libhdf5%-103%-1%): "
                              .. "libhdf5_serial.so.103 has no function "), out)
    assert.is_truthy(out:find("load\t[^\n]*", 1), out)
    assert.is_truthy(out:find("still\t2", 1, true), out)
  end)
end)
