# Figures at the prompt and in scripts.  A figure returned by an expression
# shows itself: without DISPLAY and in a terminal without graphics that is a
# text plot sized to the 80 x 24 window (less a line for the figure's name
# and one for the prompt), followed by the figure's name.
# The spectrum of a 40 Hz sine in noise: the top of the plot holds only the
# peak, drawn in the column of the 40 Hz tick.  fig:save writes files; a
# script shows nothing unless it calls fig:show().
unset DISPLAY
unset WAYLAND_DISPLAY
unset KITTY_WINDOW_ID
unset TERM_PROGRAM
spawn spy -i
expect spy> 
send d = spy.synthdata.harmonic{freq = 40, nTrials = 1, nSamples = 1000, nChannels = 1, seed = 1} + spy.synthdata.white_noise{nTrials = 1, nSamples = 1000, nChannels = 1, seed = 2}\n
expect \nspy> 
send s = spy.freqanalysis(d, {method = "mtmfft", taper = "hann", foilim = {0, 100}})\n
expect \nspy> 
send spy.singlepanelplot(s)\n
expect \n  power (dB)     
expect \n  0 +-+      
expect \n      |                           +                                             \n
expect       |                           ||                       channel1 +-----+     \n
expect \n -5 +-+---------------------------------------------------------------------+   \n
expect       +             +             +             +             +             +   \n
expect       0             20            40            60            80           100  \n
expect                                   frequency (Hz)       
expect \n<Figure: SpectralData line spectra, 1 panel (1 x 1)>\nspy> 

# Plain characters when colours are off (the line is drawn with '*').
send spy.set_plot{color = false}\n
expect {backend = "auto", color = false, terminal = "auto"}
expect \nspy> 
send spy.singlepanelplot(s)\n
expect \n      |                           *                                             \n
expect       |                           **                       channel1 *******     \n
expect \nspy> 

# Assigned (or with a trailing ';') a figure stays quiet; saving writes files.
send fig = spy.singlepanelplot(s)\n
expect \nspy> 
absent frequency (Hz)
send fig:save("spec.png"); fig:save("spec.svg", {width = 8, height = 5})\n
expect \nspy> 
send io.open("spec.png", "rb"):read(4):sub(2) == "PNG", io.open("spec.svg"):read("a"):find("<text>frequency (Hz)</text>", 1, true) ~= nil\n
expect \ntrue\ttrue\nspy> 
send fig:save("spec.svg")\n
expect \nspec.svg\nspy> 
send fig:save("spec.gif")\n
expect Invalid value of `filename`: 'spec.gif'; expected a file name ending in .png, .svg or .pdf
expect \nspy> 
# Completion knows a figure's methods and fields; help documents them.
send fig:sa\t
expect fig:save
send \x15
send fig.np\t
expect fig.npanels
send \x15
send help(fig.save)\n
expect fig:save(filename, {width=, height=, dpi=})
expect \nspy> 
send print(fig)\n
expect \n<Figure: SpectralData line spectra, 1 panel (1 x 1)>\n  panel 1: 1 line, x 'frequency (Hz)', y 'power (dB)'\nspy> 
absent power (dB)     
key C-d
exit 0

# Scripts: a figure that is only made shows nothing; fig:show() draws it.
file quiet.lua
local d = spy.synthdata.harmonic{freq = 40, nTrials = 1, nSamples = 1000, nChannels = 1, seed = 1}
local s = spy.freqanalysis(d, {method = "mtmfft", foilim = {0, 100}})
local fig = spy.singlepanelplot(s)
print("made", fig.npanels)
spy.set_plot{color = false}
if arg[1] == "show" then fig:show() end
print("done")
end
spawn spy quiet.lua
expect made\t1
expect done
absent frequency
exit 0
spawn spy quiet.lua show
expect made\t1
expect frequency (Hz)
expect done
exit 0

# Without gnuplot the prompt reports what to install and carries on; a
# window without a display says so.
env SPY_GNUPLOT=/nonexistent/gnuplot
spawn spy -i
expect spy> 
send d = spy.synthdata.harmonic{freq = 40, nTrials = 1, nSamples = 100, nChannels = 1}\n
expect \nspy> 
send spy.singlepanelplot(d)\n
expect plotting needs gnuplot, but '/nonexistent/gnuplot' was not found: install the Debian package gnuplot-nox (gnuplot-qt for windows)
expect \nspy> 
send spy.set_plot{backend = "window"}; spy.singlepanelplot(d):show()\n
expect no display for a window (DISPLAY is not set)
expect \nspy> 
key C-d
exit 0

