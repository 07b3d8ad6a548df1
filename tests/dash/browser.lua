-- Headless chromium loads the dashboard's /status page while computations
-- run on a LocalCluster; the DOM it dumps (after the page's script ran)
-- must show the worker count, the computation's progress and task marks
-- in the task stream, and the workers table; an open page then follows the
-- computations over its event stream.
local chromium = os.getenv("SPY_CHROMIUM")
if not chromium or chromium == "" or chromium:find("NOTFOUND") then
  io.stderr:write("SKIP: chromium is not installed (Debian package chromium)\n")
  os.exit(77)
end

local function fail(msg)
  io.stderr:write("FAIL: ", msg, "\n")
  os.exit(1)
end

local cluster = spy.LocalCluster{n_workers = 2, dashboard_address = ":0"}
local client = spy.Client(cluster)
local link = client.dashboard_link
if not link or not link:match("^http://127%.0%.0%.1:%d+/status%?token=%x+$") then fail("link " .. tostring(link)) end

local tmp = os.tmpname()
os.remove(tmp)
assert(os.execute("mkdir -p " .. tmp))
local dom, done = tmp .. "/dom.html", tmp .. "/done"
local cmd = string.format(
  "(%s --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking " ..
  "--disable-component-update --disable-sync --user-data-dir=%s/profile --dump-dom '%s' > %s 2> %s/chromium.log; " ..
  "touch %s) &", chromium, tmp, link, dom, tmp, done)

local w = spy.synthdata.white_noise{nTrials = 300, nSamples = 2000, nChannels = 8, seed = 1}
spy.freqanalysis(w, {method = "mtmfft", foilim = {1, 100}}) -- the stream has tasks before the page loads
assert(os.execute(cmd))
local t0, n = os.time(), 0
local function exists(p) local f = io.open(p) if f then f:close() return true end return false end
repeat -- computations back to back until the browser has dumped the page
  spy.freqanalysis(w, {method = "mtmfft", foilim = {1, 100}})
  n = n + 1
until exists(done) or os.time() - t0 > 120
if not exists(done) then fail("chromium did not finish within 120 s") end

local f = assert(io.open(dom))
local html = f:read("a")
f:close()
if os.getenv("KEEP") == nil then os.execute("rm -rf " .. tmp) end
if #html == 0 then fail("chromium dumped nothing") end

local function text(id)
  return html:match('id="' .. id:gsub("%-", "%%-") .. '"[^>]*>([^<]*)<')
end
-- the worker count
local wc = text("worker-count")
if wc ~= "2 workers available, 0 busy" and not (wc or ""):match("^2 workers available, [12] busy$") then
  fail("worker count: " .. tostring(wc))
end
-- the computation and its progress
local prog = text("progress")
local d, t, pct = (prog or ""):match("^(%d+)/(%d+) tasks %((%d+)%%%)$")
if not d or tonumber(t) ~= 300 or tonumber(pct) ~= math.floor(100 * tonumber(d) / 300) then
  fail("progress: " .. tostring(prog))
end
local state = text("comp-state")
if state ~= "running" and state ~= "finished" then fail("computation state: " .. tostring(state)) end
if not (text("comp-name") or ""):match("^mtmfft #%d+$") then fail("computation: " .. tostring(text("comp-name"))) end
local bar = html:match('id="progress%-bar" style="width: (%d+)%%;"')
if tonumber(bar) ~= tonumber(pct) then fail("progress bar width " .. tostring(bar) .. " vs " .. pct) end
-- the task stream: one lane per worker, marks coloured by state
local stream = html:match('<div id="stream">(.-)</div><div class="muted" id="stream%-span">')
if not stream then fail("no task stream") end
local lanes, marks = 0, 0
for _ in stream:gmatch('<span class="wname"') do lanes = lanes + 1 end
for _ in stream:gmatch('<span class="task done"') do marks = marks + 1 end
if lanes ~= 2 or marks < 10 then fail(string.format("task stream: %d lanes, %d done tasks", lanes, marks)) end
if not stream:find('title="trial %d+: done, [%d.]+ s"') then fail("task titles") end
-- the workers table
local rows = 0
for name in html:gmatch('<tr class="%a+"><td><a href="/info/worker/%d+%?token=%x+">%d+</a></td><td>(local%-%d)</td>') do
  rows = rows + 1
end
if rows ~= 2 then fail("workers table rows: " .. rows) end
print(string.format("ok: %s; %s; %s; %d lanes, %d task marks; %d computations while loading", wc, prog, state,
                    lanes, marks, n))

-- Live: the page stays open (chromium driven over --remote-debugging-pipe,
-- the DevTools protocol on two named pipes) while computations run; the
-- stream must change its DOM without a reload.
assert(os.execute("mkdir -p " .. tmp .. " && mkfifo " .. tmp .. "/in " .. tmp .. "/out"))
assert(os.execute(string.format(
  "%s --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking " ..
  "--disable-component-update --disable-sync --user-data-dir=%s/profile2 --remote-debugging-pipe about:blank " ..
  "3<%s/in 4>%s/out 2>%s/chromium2.log &", chromium, tmp, tmp, tmp, tmp)))
local to = assert(io.open(tmp .. "/in", "w"))
local from = assert(io.open(tmp .. "/out", "r"))
local id = 0
local function call(method, params, session)
  id = id + 1
  to:write(string.format('{"id":%d,%s"method":"%s","params":%s}\0', id,
                         session and ('"sessionId":"' .. session .. '",') or "", method, params))
  to:flush()
  while true do -- skip events and other replies
    local buf = {}
    while true do
      local c = from:read(1)
      if not c then fail("chromium closed the pipe during " .. method) end
      if c == "\0" then break end
      buf[#buf + 1] = c
    end
    local msg = table.concat(buf)
    if msg:find('^{"id":' .. id .. ',') then return msg end
  end
end
local target = call("Target.createTarget", '{"url":"' .. link .. '"}'):match('"targetId":"(%w+)"')
local session = call("Target.attachToTarget", '{"targetId":"' .. target .. '","flatten":true}'):match('"sessionId":"(%w+)"')
if not session then fail("no DevTools session") end
local function page()
  local r = call("Runtime.evaluate", '{"expression":"[document.readyState, document.getElementById(\'live\').textContent, ' ..
                 'document.getElementById(\'progress\').textContent, document.getElementById(\'comp-name\').textContent, ' ..
                 'document.querySelectorAll(\'#stream .task\').length].join(\'|\')","returnByValue":true}', session)
  return r:match('"value":"([^"]*)"')
end
local seen, live, t1 = {}, false, os.time()
local first
repeat
  spy.freqanalysis(w, {method = "mtmfft", foilim = {1, 100}})
  local v = page() or ""
  local ready, conn, progress, comp, ntask = v:match("^(%a+)|([^|]*)|([^|]*)|([^|]*)|(%d+)$")
  if ready == "complete" and conn == "live" then
    first = first or comp
    seen[comp .. " " .. progress] = true
    live = comp ~= first and tonumber(ntask) > 0
  end
until live or os.time() - t1 > 60
to:close()
from:close()
if not live then fail("the page did not follow the computations over its stream") end
local states = 0
for _ in pairs(seen) do states = states + 1 end
print(string.format("ok: the open page followed %d states without a reload (first %s)", states, first))
if os.getenv("KEEP") == nil then os.execute("rm -rf " .. tmp) end
spy.cluster_cleanup()
