# Ctrl-C: at the prompt it discards the line (also a pending multi-line
# chunk); while Lua runs it stops the code, even through pcall, and the
# prompt comes back; in a script it ends the script with status 130.
# Each loop prints a line first, so Ctrl-C is sent only once it runs.
spawn spy -i
expect spy> 

# At the prompt: the typed text is dropped, the next line starts afresh.
send 1 +
expect 1 +
key C-c
expect ^C\nspy> 
send 2 * 21\n
expect \n42\nspy> 
absent error
# A pending multi-line chunk is dropped as a whole.
send function unfinished()\n
expect ...> 
key C-c
expect ^C\nspy> 
send unfinished\n
expect \nnil\nspy> 

# A running loop stops with "interrupted".
send print("looping") while true do end\n
expect \nlooping\n
key C-c
expect \ninterrupted\n
expect spy> 
send "alive"\n
expect \nalive\nspy> 

# pcall in user code cannot swallow it.
send print("swallowing") while true do pcall(function() while true do end end) end\n
expect \nswallowing\n
key C-c
expect \ninterrupted\n
expect spy> 
# ... nor an error handler of xpcall
send print("handling") while true do xpcall(function() while true do end end, function(e) return e end) end\n
expect \nhandling\n
key C-c
expect \ninterrupted\n
expect spy> 

# Interrupted inside a function: the traceback shows where.
send function spin() print("spinning") while true do end end\n
expect \nspy> 
send function outer() spin() return 1 end\n
expect \nspy> 
send outer()\n
expect \nspinning\n
key C-c
expect \ninterrupted\n  stdin:1: in function 'spin'\n  stdin:1: in function 'outer'\n
expect spy> 

# The flag does not leak into the next command: it runs to the end.
send n = 0 for i = 1, 3000000 do n = n + 1 end print(n)\n
expect \n3000000\nspy> 

# Code the hook cannot reach (here a coroutine: the hook is armed on the
# main thread; the same holds for C code that never polls): the third
# Ctrl-C ends the session.  The terminal echoes a ^C once it has sent the
# signal; `settle` waits until spy has taken it, so presses do not merge.
send coroutine.wrap(function() print("unreachable") while true do end end)()\n
expect \nunreachable\n
key C-c
expect ^C
settle
key C-c
expect one more Ctrl-C quits spy
key C-c
expect spy: interrupted three times, exiting
exit 130

# Script mode: Ctrl-C ends the script with status 130.
file loop.lua
print("script running")
while true do end
end
spawn spy loop.lua
expect script running\n
key C-c
expect spy: interrupted
exit 130

# Ctrl-D at an empty prompt ends the session with status 0.
spawn spy -i
expect spy> 
key C-d
exit 0
