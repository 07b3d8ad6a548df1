# History persists across sessions in $SPYDIR/history (~/.spy/history);
# SPY_HISTORY names another file.  A multi-line chunk is one entry.
spawn spy -i
expect spy> 
send first = 1\n
expect \nspy> 
send for i = 1, 2 do\n
expect ...> 
send print("loop", i)\n
expect ...> 
send end\n
expect \nloop\t2\nspy> 
key C-d
exit 0

# A second session recalls the loop with one Up, and runs it again.
spawn spy -i
expect spy> 
key UP
expect print("loop", i)
expect end
key ENTER
expect \nloop\t1\nloop\t2\nspy> 
# The repeated chunk is not stored twice: two Ups reach the first line.
key UP UP
expect first = 1
key C-a C-k
send "next"\n
expect \nnext\nspy> 
key C-d
exit 0

# The file holds each chunk once, its lines together.
spawn cat .spy/history
expect first = 1\n
expect for i = 1, 2 do\nprint("loop", i)\nend\n
expect "next"\n
exit 0

# SPY_HISTORY redirects it.
env SPY_HISTORY=$DIR/other-history
spawn spy -i
expect spy> 
send elsewhere = true\n
expect \nspy> 
key C-d
exit 0
spawn cat other-history
expect elsewhere = true
exit 0
spawn grep -c elsewhere .spy/history
expect 0
exit 1
