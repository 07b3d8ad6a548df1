-- The figures of README.md, made by spy itself:
--   scripts/make-figures            (or: spy docs/figures.lua [outdir])
-- Everything is seeded, so the files only change when the plots do.
local out = arg and arg[1] or "docs/figures"

-- 50 trials of noise with a 10 Hz and a 40 Hz rhythm, 4 channels.
local n = { nTrials = 50, nSamples = 1000, nChannels = 4 }
local function with(t) local c = {} for k, v in pairs(n) do c[k] = v end for k, v in pairs(t) do c[k] = v end return c end
local data = spy.synthdata.white_noise(with { seed = 42 })
  + spy.synthdata.harmonic(with { freq = 10 }) * 2
  + spy.synthdata.harmonic(with { freq = 40 })
local spec = spy.freqanalysis(data, { method = "mtmfft", tapsmofrq = 2, foilim = { 1, 100 }, keeptrials = false })
spy.multipanelplot(spec):save(out .. "/spectra.png", { width = 6.4, height = 4.8 })

-- One trial whose 40 Hz rhythm starts half-way, as a wavelet spectrogram.
local fs, rows = 1000, {}
local noise = spy.show(spy.synthdata.white_noise { nTrials = 1, nSamples = 2000, nChannels = 1, seed = 7 }, { trials = 1 })
for i = 1, 2000 do
  local t = (i - 1) / fs
  rows[i] = { noise:get(i) * 0.5 + (t >= 1 and 2 * math.sin(2 * math.pi * 40 * t) or 0)
              + math.sin(2 * math.pi * 10 * t) }
end
local burst = spy.AnalogData { data = spy.array(rows), samplerate = fs }
local foi = {}
for f = 4, 80, 2 do foi[#foi + 1] = f end
local tf = spy.freqanalysis(burst, { method = "wavelet", foi = foi })
spy.singlepanelplot(tf, { channel = 1 }):save(out .. "/timefreq.png")

-- The text plot a terminal without graphics shows.
local f = assert(io.open(out .. "/spectrum.txt", "w"))
local txt = spy.singlepanelplot(spec, { channel = 1 }):text { cols = 78, rows = 20 }
f:write((txt:gsub(" +\n", "\n"):gsub("^\n+", ""):gsub("\n+$", "\n")))
f:close()
print("wrote " .. out .. "/spectra.png, timefreq.png, spectrum.txt")
