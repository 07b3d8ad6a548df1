# Start-up: ~/.spyrc.lua runs in interactive sessions (not for scripts,
# not with -E); a one-line banner unless SPYSILENTSTARTUP is set.
file .spyrc.lua
greeting = "from spyrc"
end

spawn spy -i
expect spy> 
send greeting\n
expect \nfrom spyrc\nspy> 
key C-d
exit 0
spawn spy -E -i
expect spy> 
send greeting\n
expect \nnil\nspy> 
key C-d
exit 0
spawn spy -e "print(greeting)"
expect nil
exit 0

# The banner
unset SPYSILENTSTARTUP
spawn spy
expect spy 0.1.0 (Lua 5.4
expect -- help() lists the functions, Ctrl-D exits\n
expect spy> 
key C-d
exit 0
env SPYSILENTSTARTUP=1
spawn spy -i
expect spy> 
absent help()
key C-d
exit 0

# A failing ~/.spyrc.lua is reported; the session still starts.
file .spyrc.lua
error("broken rc")
end
spawn spy -i
expect spy: 
expect .spyrc.lua:1: broken rc
expect spy> 
send 1 + 1\n
expect \n2\nspy> 
key C-d
exit 0
