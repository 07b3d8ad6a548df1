# The command line of lua: -e -l -i -v -E -W -- -, the arg table,
# LUA_INIT, scripts with arguments and exit status, stdin as the script.
file args.lua
print("args", #arg, arg[0], arg[1], arg[2], select("#", ...), ...)
print("before", arg[-2], arg[-1])
end
file fail.lua
error("script failed")
end
file exits.lua
os.exit(3)
end
file init.lua
print("init file ran")
end

spawn spy -v
expect spy 0.1.0 (Lua 5.4
exit 0

spawn spy -e "print(6 * 7)"
expect 42
exit 0
spawn spy -e x=5 -e "print(x * 2)"
expect 10
exit 0
spawn spy -e "error('bad', 0)"
expect spy: bad
exit 1
spawn spy -e "syntax error here"
expect spy: (command line):1: syntax error near 'error'
exit 1

# -l mod, -l g=mod: the module's value in a global
spawn spy -l repltest -e "print('loaded', repltest)"
expect loaded\ttrue
exit 0
spawn spy -l s=string -e "print(s.upper('abc'))"
expect ABC
exit 0
spawn spy -l nosuchmodule
expect spy: module 'nosuchmodule' not found
exit 1

# -W turns warnings on
spawn spy -W -e "warn('careful')"
expect Lua warning: careful
exit 0

# Scripts: arg[0] is the script, arg[1..] and ... its arguments, arg[-k]
# what came before.
spawn spy args.lua one two
expect args\t2\targs.lua\tone\ttwo\t2\tone\ttwo
expect before\tnil\t/
exit 0
spawn spy -e "x = 1" args.lua three
expect args\t1\targs.lua\tthree
expect before\t-e\tx = 1
exit 0
# -- ends the options, even before a name starting with '-'
spawn spy -- args.lua -x
expect args\t1\targs.lua\t-x
exit 0
# without a script, arg[0] is the program and arg[1..] the options
spawn spy -e "print(#arg, arg[1], arg[2])"
expect 2\t-e\tprint(#arg, arg[1], arg[2])
exit 0

# Exit status: a failing script is 1, os.exit's code passes through,
# a missing script is an error.
spawn spy fail.lua
expect spy: fail.lua:1: script failed
exit 1
spawn spy exits.lua
exit 3
spawn spy nosuch.lua
expect spy: cannot open nosuch.lua
exit 1
spawn spy -x
expect spy: unrecognized option '-x'
expect usage: spy [options] [script [args]]
exit 1
spawn spy -e
expect spy: '-e' needs argument
exit 1

# '-' runs stdin (with arguments); without arguments a stdin that is not
# a terminal is the script.
stdin print("from stdin", ...)\n
spawn spy - p q
expect from stdin\tp\tq
exit 0
stdin print(40 + 2)\n
spawn spy
expect 42
exit 0
stdin error("stdin failed")\n
spawn spy
expect spy: stdin:1: stdin failed
exit 1

# -i with stdin not a terminal: the REPL reads lines as they come, with
# prompts, as lua -i does.
stdin x = 5\nx * 2\nfor i = 1, 2 do\nprint("n", i)\nend\n
spawn spy -i
expect spy> spy> 10\nspy> ...> ...> n\t1\nn\t2\nspy> \n
exit 0

# -i after a script: the REPL sees what the script left.
spawn spy -i -e "answer = 42"
expect spy> 
send answer\n
expect \n42\nspy> 
key C-d
exit 0

# LUA_INIT runs first (code or @file); LUA_INIT_5_4 wins; -E skips it.
env LUA_INIT=print("init ran")
spawn spy -e "print('after')"
expect init ran\nafter
exit 0
spawn spy -E -e "print('after')"
expect after
absent init ran
exit 0
env LUA_INIT_5_4=@init.lua
spawn spy -e "print('after')"
expect init file ran\nafter
absent init ran\n
exit 0
env LUA_INIT=error("init failed")
unset LUA_INIT_5_4
spawn spy -e "print('never')"
expect spy: LUA_INIT:1: init failed
exit 1
