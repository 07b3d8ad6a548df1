# What a Syncopy user meets first (issue 19): the Python-call hint,
# completion of values, methods of objects, channel names and containers,
# help pages and object help, iterable trials, out-of-range trials.
file run.spy/run.analog
end
file results.txt
end
file data.analog
end
spawn spy -i
expect spy> 

# Python keyword arguments: the error says how to write it in Lua.
send data = spy.synthdata.white_noise{nTrials=2, nSamples=200, nChannels=3, seed=7}\n
expect \nspy> 
send spy.freqanalysis(data, method="mtmfft", foilim=[1, 100], keeptrials=False)\n
expect error: stdin:1: ')' expected near '='\n  keyword arguments go in a table in Lua: spy.freqanalysis(data, {method="mtmfft", foilim={1, 100}, keeptrials=false})\nspy> 

# Allowed values of keywords checked by the plan complete as values.
send spy.preprocessing(data, {filter_type="b\t\t
expect bp  bs
send \x15
send spy.resampledata(data, {method="d\t
expect method="downsample"
send \x15

# Keywords of a method call on an object: data:selectdata{...}.
send data:selectdata{tri\t
expect data:selectdata{trials=
send \x15
# Channel names of the object inside channel={"...
send data:selectdata{channel={"channel\t\t
expect channel1  channel2  channel3
send \x15
send spy.freqanalysis(data, {select={channel="channel2\t
expect channel="channel2"
send \x15

# Array fields besides methods.
send a = spy.array({1, 2, 3})\n
expect \nspy> 
send a.sh\t
expect a.shape
send \x15

# spy.load's path: containers and folders, not every file.
send spy.load("r\t
expect spy.load("run.spy/
absent results.txt
send \x15

# Trials iterate as Lua users expect; a trial that does not exist is an error.
send for t in data.trials do io.write(tostring(t.shape), ";") end print()\n
expect {200, 3};{200, 3};\nspy> 
send n = 0; for i, t in ipairs(data.trials) do n = n + i end\n
expect \nspy> 
send n\n
expect \n3\nspy> 
send data.trials[99]\n
expect error: stdin:1: trial 99 does not exist: the object has 2 trials, 1 to 2\nspy> 

# Help: topic pages, and objects list their fields and methods.
send help("null")\n
expect explicit None is spy.null
send help(data)\n
expect AnalogData object
expect Fields (obj.name):
expect channel
expect Methods (obj:name(...)):
expect selectdata
expect spy> 
send help(a)\n
expect array object
expect transpose
expect spy> 
key C-d
exit 0

# Scripts: shapes print as shapes, the hint names the script's line, and
# SPY_INIT runs for scripts too (~/.spyrc.lua is for interactive sessions).
file shape.lua
local a = spy.zeros({2, 3})
print(a.shape, #a.shape)
end
spawn spy shape.lua
expect {2, 3}\t2
exit 0
file py.lua
local x = 1
spy.load("a.spy", checksum=True)
end
spawn spy py.lua
expect spy: py.lua:2: ')' expected near '='\n  keyword arguments go in a table in Lua: spy.load("a.spy", {checksum=true})
exit 1
file .spyrc.lua
print("rc ran")
end
env SPY_INIT=print("init ran")
spawn spy -e print(1)
expect init ran\n1
absent rc ran
exit 0
unset SPY_INIT
spawn spy -h
expect usage: spy [options] [script [args]]
absent unrecognized
exit 0
