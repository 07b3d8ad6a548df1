# Tab completion: globals, fields, methods, keyword names and allowed
# values of a spy function's option table, file paths inside strings.
# A listing needs two TABs after the last change to the line; Ctrl-U
# (\x15) clears the line between cases.
file data_alpha.txt
end
file data_beta.txt
end
file sub/inner.lua
end
spawn spy -l repltest -i
expect spy> 

# Globals: a unique match is completed ...
send pri\t
expect print
send ("ok")\n
expect \nok\nspy> 
# ... several are listed (Lua keywords included).
send to\t\t
expect tonumber  tostring
send \x15
send whi\t
expect while
send \x15

# Fields of tables, listed without the common prefix; names starting
# with '_' only when asked for.
send spy.set_l\t
expect spy.set_loglevel
send \x15
send spy.\t\t
expect AnalogData
expect spy> spy.
absent _spec
send \x15
send spy._sp\t
expect spy._spec
send \x15
send t = {alpha = {beta = 1, bravo = 2}}\n
expect \nspy> 
send t.alpha.b\t\t
expect beta
expect bravo
send \x15

# Methods, through the metatable's __index table: of strings, of
# userdata (files) and of objects.
send s = "text"\n
expect \nspy> 
send s:up\t
expect s:upper
send \x15
send io.stdout:wr\t
expect io.stdout:write
send \x15
send obj = setmetatable({}, {__index = {frobnicate = function() end, count = 3}})\n
expect \nspy> 
send obj:fro\t
expect obj:frobnicate
send \x15

# Keyword names inside the option table of a function with a spec
# (repltest's, attached as spy.freqanalysis's will be).
send analysis = function() end spy._setspec(analysis, "repltest")\n
expect \nspy> 
send analysis(data, {tap\t\t
expect taper      tapsmofrq
send \x15
send analysis(data, {meth\t
expect analysis(data, {method=
send \x15
# keys already given are not offered again
send analysis(data, {taper = "dpss", tap\t
expect tapsmofrq=
send \x15
# a word that is no keyword completes as a name (a value in the table)
send analysis(data, {spy.set_l\t
expect {spy.set_loglevel
send \x15
# f{...} calls and method calls
send analysis{kee\t
expect analysis{keeptrials=
send \x15
send runner = {run = analysis}\n
expect \nspy> 
send runner.run(data, {outp\t
expect {output=
send \x15
# across continuation lines
send analysis(data, {\n
expect ...> 
send tap\t\t
expect taper      tapsmofrq
send \x15
key C-c
expect \nspy> 

# Allowed values of a keyword, inside the string.
send analysis(data, {method = "wav\t
expect {method = "wavelet"
send \x15
send analysis(data, {method = "mtm\t\t
expect mtmconvol  mtmfft
send \x15

# File paths inside strings.
send io.open("data_a\t
expect io.open("data_alpha.txt"
send \x15
send io.open("data_\t\t
expect data_alpha.txt  data_beta.txt
send \x15
send io.open('su\t
expect io.open('sub/
send \t
expect inner.lua'
send \x15

# Data objects: methods after ':' and fields after '.', from the class's
# metatable; keyword names of spy.freqanalysis from its real spec.
send w = spy.synthdata.white_noise{nTrials = 2, nSamples = 100, seed = 1}\n
expect \nspy> 
send w:sel\t
expect w:selectdata
send \x15
send w:s\t\t
expect selectdata
send \x15
send w.sampler\t
expect w.samplerate
send \x15
send w.trial\t\t
expect trialintervals
send \x15
send spy.freqanalysis(w, {tapsm\t
expect spy.freqanalysis(w, {tapsmofrq=
send \x15
send spy.freqanalysis(w, {method = "sup\t
expect {method = "superlet"
send \x15

key C-d
exit 0
