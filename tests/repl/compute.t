# Computations at the prompt: the worker log lines of a client (once per
# computation), dask's progress bar for computations longer than a second,
# and Ctrl-C in the middle of a long computation: the prompt comes back with
# "interrupted", no output file is left in SPYTMPDIR, the input is
# untouched and the next computation works.
# The superlet below takes ~20 s under the sanitizers on an idle machine
# and several times that on a loaded one: a generous limit per expect.
timeout 300
spawn spy -i
expect spy> 
send w = spy.synthdata.white_noise{nTrials = 16, nSamples = 5000, nChannels = 8, seed = 1}\n
expect \nspy> 
send foi = {} for f = 2, 100, 2 do foi[#foi + 1] = f end toi = {} for i = 0, 49 do toi[#toi + 1] = -1 + i * 0.1 end\n
expect \nspy> 
send function files() local n = 0 for f in io.popen('ls "' .. spy.__storage__ .. '"'):lines() do if f:find("spy_" .. spy.__sessionid__, 1, true) then n = n + 1 end end return n end\n
expect \nspy> 
send before = w.trials[3]:get(100, 5)\n
expect \nspy> 
send files()\n
expect \n1\nspy> 

# A long computation shows the bar, redrawn in place, and ends at 100 %.
send s = spy.freqanalysis(w, {method = "superlet", foi = foi, order_max = 25, toi = toi})\n
expect ] |
expect % Completed |
expect [########################################] | 100% Completed |
expect \nspy> 
send #s.trials, files()\n
expect \n16\t2\nspy> 
send s = nil; collectgarbage()\n
expect \nspy> 
send files()\n
expect \n1\nspy> 

# Ctrl-C while it runs: back at the prompt, nothing left behind.
send s = spy.freqanalysis(w, {method = "superlet", foi = foi, order_max = 30, toi = toi})\n
expect % Completed |
key C-c
expect interrupted
expect spy> 
send s, files(), w.trials[3]:get(100, 5) == before\n
expect \nnil\t1\ttrue\nspy> 
send s = spy.freqanalysis(w, {method = "mtmfft", foilim = {1, 100}})\n
expect \nspy> 
send #s.trials\n
expect \n16\nspy> 

# With a client: the two log lines once per computation, dask's client line.
send cluster = spy.LocalCluster{n_workers = 2}; client = spy.Client(cluster)\n
expect \nspy> 
send client\n
expect <Client: 'local://spy' workers=2 threads=2, memory=
expect spy> 
send s = spy.freqanalysis(w, {method = "mtmfft", foilim = {1, 100}})\n
expect - IMPORTANT: 2/2 workers available, starting computation..
expect - IMPORTANT: ..attaching to running client:
expect \n\t<Client: 'local://spy' workers=2 threads=2, memory=
expect \nspy> 
absent IMPORTANT
send #s.trials\n
expect \n16\nspy> 
send s = spy.freqanalysis(w, {method = "mtmfft", foilim = {1, 100}, parallel = false})\n
expect \nspy> 
absent IMPORTANT

# A second client warns (the guide: one cluster per session), then replaces
# the first; data generation prints the attach block once per client.
send client2 = spy.Client(cluster)\n
expect - WARNING: a client is already attached: <Client: 'local://spy' workers=2 threads=2, memory=
expect client:close() detaches a client, cluster:close() stops its workers)
expect \nspy> 
send g = spy.synthdata.white_noise{nTrials = 2, nSamples = 100, nChannels = 2, seed = 2}\n
expect - IMPORTANT: ..attaching to running client:
expect \nspy> 
send g = spy.synthdata.white_noise{nTrials = 2, nSamples = 100, nChannels = 2, seed = 3}\n
expect \nspy> 
absent IMPORTANT
send client2:close(); client3 = spy.Client(cluster)\n
expect \nspy> 
absent WARNING
key C-d
exit 0

# In a script, Ctrl-C during a computation ends the script with status 130,
# and the session's temporary files go with it.
file long.lua
w = spy.synthdata.white_noise{nTrials = 16, nSamples = 5000, nChannels = 8, seed = 1}
foi = {} for f = 2, 100, 2 do foi[#foi + 1] = f end
toi = {} for i = 0, 49 do toi[#toi + 1] = -1 + i * 0.1 end
print("computing")
spy.freqanalysis(w, {method = "superlet", foi = foi, order_max = 30, toi = toi})
print("not reached")
end
spawn spy long.lua
expect computing
expect % Completed |
key C-c
expect interrupted
absent not reached
exit 130
spawn spy -e "local n = 0 for f in io.popen('ls ' .. spy.__storage__):lines() do if f:match('^spy_') then n = n + 1 end end print('left', n)"
expect left\t0
exit 0
