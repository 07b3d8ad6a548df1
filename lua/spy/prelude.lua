-- The Lua half of the spy namespace.  Called once by luaopen_spy with the
-- table the C areas have filled; adds what is more naturally written in Lua.
-- help, pretty and the Python hints are compiled on their first call
-- (start-up, issue 20): each name holds one small function for good, so
-- `help(spy.help)`, `_G.help == spy.help` and replacing spy.pretty work as
-- before.
local function lazy(module, ...)
  local args, impl = table.pack(...), nil
  return function(...)
    if not impl then impl = require(module)(table.unpack(args, 1, args.n)) end
    return impl(...)
  end
end

return function(spy)
  spy.version = spy.__version__
  spy.pretty = lazy("spy.pretty", spy)
  spy.help = lazy("spy.help", spy)
  require("spy.values")(spy)
  spy._pyhint = lazy("spy.pyhint")
  return spy
end
