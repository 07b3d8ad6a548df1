-- The Lua half of the spy namespace.  Called once by luaopen_spy with the
-- table the C areas have filled; adds what is more naturally written in Lua.
return function(spy)
  spy.version = spy.__version__
  spy.pretty = require("spy.pretty")(spy)
  spy.help = require("spy.help")(spy)
  require("spy.values")(spy)
  spy._pyhint = require("spy.pyhint")()
  return spy
end
