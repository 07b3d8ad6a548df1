# The same help and pretty-printing from Debian's lua5.4 with require "spy".
spawn lua5.4 -e "spy = require 'spy' spy.help(spy.log) print(spy.pretty({1, 2, x = {y = true}}))"
expect spy.log(msg [, level='IMPORTANT'])\n\nWrite a message to the console and the log file.\n
expect {1, 2, x = {y = true}}
exit 0
spawn lua5.4 -e "spy = require 'spy' spy.help()"
expect spy.set_loglevel 
expect Set the console and log-file level:
exit 0
