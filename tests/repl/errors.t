# Errors: one clear line, then only the frames of the user's code;
# spy.traceback(true) shows every frame.  Scripts: "spy: msg", status 1.
spawn spy -i
expect spy> 

# The line just typed needs no traceback.
send nosuch()\n
expect \nerror: stdin:1: attempt to call a nil value (global 'nosuch')\nspy> 
send x = = 1\n
expect \nerror: stdin:1: unexpected symbol near '='\nspy> 

# Inside functions: the user's frames, no C frames.
send function inner(x) return x.field end\n
expect \nspy> 
send function middle(x) local v = inner(x) return v end\n
expect \nspy> 
send middle(nil)\n
expect \nerror: stdin:1: attempt to index a nil value (local 'x')\n  stdin:1: in function 'inner'\n  stdin:1: in function 'middle'\nspy> 
send function thrower() error("boom") end\n
expect \nspy> 
send thrower()\n
expect \nerror: stdin:1: boom\n  stdin:1: in function 'thrower'\nspy> 
absent [C]

# Errors of spy functions read as one line, in Syncopy's wording.
send spy.set_loglevel("loud")\n
expect \nerror: stdin:1: Invalid value of `level`: 'loud'; expected 'DEBUG' or 'INFO' or 'IMPORTANT' or 'WARNING' or 'ERROR'\nspy> 

# Error objects: __tostring is honoured, other values are named.
send error(setmetatable({}, {__tostring = function() return "custom error object" end}))\n
expect \nerror: custom error object\nspy> 
send error({code = 1})\n
expect \nerror: (error object is a table value)\nspy> 

# Deep recursion: the first and last ten frames.
send function rec(n) if n == 0 then error("bottom") end return 1 + rec(n - 1) end\n
expect \nspy> 
send rec(50)\n
expect \nerror: stdin:1: bottom\n  stdin:1: in function 'rec'\n
expect \n  ...\t(skipping 31 levels)\n  stdin:1: in function 'rec'\n
expect \nspy> 

# Full tracebacks on demand.
send spy.traceback(true)\n
expect \nspy> 
send spy.traceback()\n
expect \ntrue\nspy> 
send thrower()\n
expect \nerror: stdin:1: boom\nstack traceback:\n\t[C]: in function 'error'\n\tstdin:1: in function 'thrower'\n
expect \nspy> 
send spy.traceback(false)\n
expect \nspy> 
send thrower()\n
expect \nerror: stdin:1: boom\n  stdin:1: in function 'thrower'\nspy> 

# The session goes on after errors.
send 6 * 7\n
expect \n42\nspy> 
key C-d
exit 0

# A failing script: its message and frames on stderr, exit status 1.
file fail.lua
local function inner() error("failed here") end
local function outer() inner() end
outer()
end
spawn spy fail.lua
expect spy: fail.lua:1: failed here\n  fail.lua:1: in upvalue 'inner'\n  fail.lua:2: in local 'outer'\n  fail.lua:3: in main chunk\n
exit 1
