# Multi-line input, auto-print and its suppression, =expr, table literals.
# Every command is followed by an expect that ends at the next prompt.
spawn spy -i
expect spy> 

# An expression prints its values; a statement prints nothing.
send 1 + 1\n
expect \n2\nspy> 
send x = 42\n
expect \nspy> 
absent \n42
send x\n
expect \n42\nspy> 
send x, "two", nil, true\n
expect \n42\ttwo\tnil\ttrue\nspy> 

# A trailing ';' keeps results quiet, for expressions and calls alike.
send x;\n
expect \nspy> 
absent \n42
send math.max(1, 7);\n
expect \nspy> 
absent \n7

# =expr is lua's shorthand for return expr.
send =x * 2\n
expect \n84\nspy> 

# An incomplete chunk waits for more on the continuation prompt ...
send function sq(v)\n
expect ...> 
send return v * v\n
expect ...> 
send end\n
expect \nspy> 
send sq(12)\n
expect \n144\nspy> 
# ... also when it is an unfinished expression ...
send t = {1, 2,\n
expect ...> 
send 3}\n
expect \nspy> 
send #t\n
expect \n3\nspy> 
send {10,\n
expect ...> 
send 20}\n
expect \n{10, 20}\nspy> 
# ... while a syntax error is reported at once.
send x = = 1\n
expect error: stdin:1: unexpected symbol near '='\nspy> 
absent ...>
send for i = 1, 3 do print(i) end end\n
expect error: stdin:1: <eof> expected near 'end'\nspy> 

# Tables print as readable literals; long ones are truncated.
send {a = 1, b = "two", [3] = true, {nested = {1, 2}}}\n
expect {{nested = {1, 2}}, [3] = true, a = 1, b = "two"}\nspy> 
send big = {} for i = 1, 1000 do big[i] = i end\n
expect \nspy> 
send big\n
expect \n{\n  1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, ...(980 more), 996, 997,\n  998, 999, 1000\n}\nspy> 
send {s = "line\\nbreak", deep = {{{{{1}}}}}}\n
expect {deep = {{{{...}}}}, s = "line\\nbreak"}\nspy> 
send cyc = {} cyc.self = cyc\n
expect \nspy> 
send cyc\n
expect {self = <cycle>}\nspy> 
# Userdata print through __tostring.
send io.stdout\n
expect \nfile (0x
expect \nspy> 
send setmetatable({}, {__tostring = function() return "<a custom object>" end})\n
expect \n<a custom object>\nspy> 
# Strings print as they are at the top, quoted inside tables.
send "plain", {"quoted"}\n
expect \nplain\t{"quoted"}\nspy> 

# Pasted text (bracketed paste) is one chunk and one history entry.
send \e[200~function pasted(a)\n  return a * 3\nend\e[201~\r
expect \nspy> 
send pasted(5)\n
expect \n15\nspy> 
key UP UP
expect function pasted(a)\n  return a * 3\nend
key C-c
expect ^C\nspy> 

# _PROMPT and _PROMPT2 change the prompts, as in lua.
send _PROMPT = "mine> " _PROMPT2 = "more> "\n
expect \nmine> 
send if true then\n
expect more> 
send print("inside") end\n
expect \ninside\nmine> 

key C-d
exit 0
