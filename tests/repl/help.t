# help(): the namespace with one-line summaries; help(f), ?f and f? show
# a function's signature, summary, description, every keyword with its
# default and allowed values, and an example -- all from its keyword spec
# (repltest's spec stands in for spy.freqanalysis's).
spawn spy -l repltest -i
expect spy> 

send help()\n
expect \nspy 0.1.0: Syncopy's spectral analysis, from Lua.\n
expect \n  spy.log 
expect Write a message to the console and the log
expect \n  spy.set_loglevel 
expect Set the console and log-file level:
expect \nspy> 
absent _spec
absent __version__

send ?spy.log\n
expect \nspy.log(msg [, level='IMPORTANT'])\n\nWrite a message to the console and the log file.\n\nExample:\n  spy.log('starting analysis', 'INFO')\nspy> 
send spy.set_loglevel?\n
expect \nspy.set_loglevel(level)\n\nSet the console and log-file level: 'DEBUG',
expect \nMessages below the level are not shown.
expect \nspy> 

send analysis = function() end spy._setspec(analysis, "repltest")\n
expect \nspy> 
send help(analysis)\n
expect \nrepltest(data, {method="mtmfft", ...})\n\nA test function with the keywords of a spectral analysis.\n\nRegistered by the REPL transcripts to check completion and help.\n\nKeywords:\n
expect   method = "mtmfft"  (string)\n      one of "mtmfft", "mtmconvol", "wavelet" or "superlet"\n      Spectral estimation method.\n
expect   output = "pow"  (string)\n      one of "pow", "fourier" or "abs"\n      Quantity to return.\n
expect   taper = "hann"  (string or spy.null)\n      one of "hann", "dpss" or "boxcar"\n      Windowing function.\n
expect   tapsmofrq = nil  (number or nil)\n      Spectral smoothing box half-width in Hz.\n
expect   foilim = {1, 100}  (list of numbers or spy.null)\n      Frequency window [fmin, fmax] in Hz.\n
expect   keeptrials = true  (boolean)\n      Keep single-trial results.\n
expect \nExample:\n  repltest(data, {method="mtmfft", taper="dpss", tapsmofrq=4})\nspy> 
# by name, as spec or namespace entry
send help("repltest")\n
expect \nrepltest(data, {method="mtmfft", ...})\n
expect \nspy> 
send help("log")\n
expect \nspy.log(msg [, level='IMPORTANT'])\n
expect \nspy> 

# Objects: their type and methods; missing things say so.
send ?io.stdout\n
expect \nFILE* object\n\nMethods (obj:name(...)):\n  close\n  flush\n
expect \nspy> 
send help(print)\n
expect \nprint: no documentation\nspy> 
send ?spy.frequanalysis\n
expect \nhelp: the value is nil (a misspelt name?)\nspy> 
send help("nosuch")\n
expect \nhelp: no spy function named 'nosuch'\nspy> 
# help is itself documented
send ?help\n
expect \nhelp([x])\n\nShow documentation; help() lists the namespace.\n
expect \nspy> 

key C-d
exit 0
