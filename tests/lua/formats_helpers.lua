-- Helpers shared by the formats_*_spec.lua files: scratch folders, writing
-- files, running Debian's python3 (numpy, scipy, h5py) for cross-checks.
local H = {}

function H.scratch()
  local d = os.tmpname()
  os.remove(d)
  assert(os.execute("mkdir -p " .. d))
  return d
end

function H.write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

-- Runs Python code with /usr/bin/python3; returns its output (a Python
-- error fails the test with the traceback).
function H.python(code)
  local name = os.tmpname()
  H.write(name, code)
  local p = assert(io.popen("/usr/bin/python3 " .. name .. " 2>&1"))
  local out = p:read("a")
  local ok = p:close()
  os.remove(name)
  assert(ok, "python failed:\n" .. out)
  return out
end

function H.maxdiff(a, b) return (a:astype("float64") - b:astype("float64")):abs():max() end

return H
