# Ctrl-C in the middle of the second wave's long calls (connectivity,
# spike_psth, fooof): the prompt comes back with "interrupted", no result
# file is left in SPYTMPDIR, the inputs are untouched and the session goes
# on.  Sizes make each call take seconds under the sanitizers.
timeout 120
spawn spy -i
expect spy> 
send function files() local n = 0 for f in io.popen('ls "' .. spy.__storage__ .. '"'):lines() do if f:find("spy_" .. spy.__sessionid__, 1, true) then n = n + 1 end end return n end\n
expect \nspy> 
send w = spy.synthdata.white_noise{nTrials = 100, nSamples = 4000, nChannels = 16, seed = 1}; before = w.trials[3]:get(100, 5)\n
expect \nspy> 
send s = spy.synthdata.poisson_noise{nTrials = 50, nSpikes = 2000000, nChannels = 8, nUnits = 10, samplerate = 10000, seed = 2}; sbefore = s.trials[2]:get(7, 1)\n
expect \nspy> 
send files()\n
expect \n2\nspy> 

send c = spy.connectivityanalysis(w, {method = "coh", tapsmofrq = 5})\n
expect % Completed |
key C-c
expect interrupted
expect spy> 
send c, files(), w.trials[3]:get(100, 5) == before\n
expect \nnil\t2\ttrue\nspy> 

# spike_psth draws no progress bar: the key goes once the call has started
send print("binning") p = spy.spike_psth(s, {binsize = 0.001})\n
expect binning\n
key C-c
expect interrupted
expect spy> 
send p, files(), s.trials[2]:get(7, 1) == sbefore\n
expect \nnil\t2\ttrue\nspy> 

send f = spy.freqanalysis(w, {method = "mtmfft", output = "fooof", foilim = {1, 100}, keeptrials = true})\n
expect % Completed |
key C-c
expect interrupted
expect spy> 
send f, files(), w.trials[3]:get(100, 5) == before\n
expect \nnil\t2\ttrue\nspy> 

# the session goes on: a small call of each completes
send #spy.connectivityanalysis(spy.selectdata(w, {trials = {1, 2, 3}, channel = {1, 2}}), {method = "coh"}).freq\n
expect \n2001\nspy> 
send files(collectgarbage())\n
expect \n2\nspy> 
key C-d
exit 0
