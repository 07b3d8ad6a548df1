-- spy.help([x]): documentation at the prompt (the shell's global `help`,
-- also `?x`).  What it prints about a function comes from the function's
-- keyword spec (spy._spec): the same data that validates a call and that
-- tab completion offers, so the three cannot disagree.
--
--   help()               the namespace, one line per function
--   help(spy.f), help("f")  signature, description, keywords, example
--   help(obj)            the object's type and its methods
--   help(spy.sub)        the functions of a sub-table of the namespace
return function(spy)
  -- Text is wrapped to the terminal's width (the shell tells it through
  -- spy._columns; elsewhere $COLUMNS), within reason.
  local WIDTH = 78
  local function setwidth()
    local cols = (spy._columns and spy._columns()) or tonumber(os.getenv("COLUMNS") or "") or 80
    WIDTH = math.max(60, math.min(cols, 160)) - 2
  end

  -- The few functions written in Lua have no C spec; their help is here.
  local luadocs = {
    help = {
      signature = "help([x])",
      summary = "Show documentation; help() lists the namespace.",
      doc = "At the prompt `?x` and `x?` are short for help(x).  help(\"name\") looks a "
        .. "function up by its name.",
      example = "help(spy.log)\n?spy.log",
    },
    pretty = {
      signature = "spy.pretty(value [, {width=80, items=20, depth=4, strlen=200, tables=200}])",
      summary = "Render a value as readable text (tables as literals).",
      doc = "The shell prints results through spy.pretty; assign your own function to "
        .. "spy.pretty (for example in ~/.spyrc.lua) to change how results look.",
      example = "print(spy.pretty({1, 2, x = {y = true}}))",
    },
    traceback = {
      signature = "spy.traceback([on])",
      summary = "Full tracebacks (true) or your frames only (false).",
      doc = "Without an argument, returns the current setting.  Only the `spy` shell has it.",
      example = "spy.traceback(true)",
    },
  }

  local function out(...) io.write(...) end -- looked up per call: output can be redirected

  -- Words of text wrapped to the width, each line starting with indent.
  local function wrap(text, indent)
    local lines = {}
    for para in (text .. "\n"):gmatch("(.-)\n") do
      local line = indent
      for word in para:gmatch("%S+") do
        if #line > #indent and #line + 1 + #word > WIDTH then
          lines[#lines + 1] = line
          line = indent .. word
        else
          line = line .. (#line > #indent and " " or "") .. word
        end
      end
      lines[#lines + 1] = line
    end
    return table.concat(lines, "\n") .. "\n"
  end

  local function isname(s) return type(s) == "string" and s:match("^[%a_][%w_]*$") ~= nil end

  -- A keyword default (JSON text) as Lua text: [1,2] -> {1, 2}, null -> nil.
  local function luatext(json)
    local parts, i = {}, 1
    while i <= #json do
      local c = json:sub(i, i)
      if c == '"' then
        local j = i + 1
        while j <= #json and json:sub(j, j) ~= '"' do
          j = j + (json:sub(j, j) == "\\" and 2 or 1)
        end
        local str, colon = json:sub(i, j), json:match("^%s*:%s*", j + 1)
        if colon then
          local key = json:sub(i + 1, j - 1)
          parts[#parts + 1] = (isname(key) and key or "[" .. str .. "]") .. " = "
          j = j + #colon
        else
          parts[#parts + 1] = str
        end
        i = j + 1
      elseif c == "[" or c == "{" then
        parts[#parts + 1], i = "{", i + 1
      elseif c == "]" or c == "}" then
        parts[#parts + 1], i = "}", i + 1
      elseif c == "," then
        parts[#parts + 1], i = ", ", i + 1
      elseif c:match("%s") then
        i = i + 1
      else
        local tok = json:match("^[^,%]}%s]+", i)
        parts[#parts + 1], i = tok == "null" and "nil" or tok, i + #tok
      end
    end
    return table.concat(parts)
  end

  -- "a|b|c" -> '"a", "b" or "c"'
  local function allowedtext(allowed)
    local v = {}
    for a in allowed:gmatch("[^|]+") do v[#v + 1] = string.format("%q", a) end
    if #v == 1 then return v[1] end
    return table.concat(v, ", ", 1, #v - 1) .. " or " .. v[#v]
  end

  -- The qualified name of a value in the namespace ("spy.f", "spy.sub.f"),
  -- else its global name, else nil.
  local function nameof(x)
    for k, v in pairs(spy) do
      if rawequal(v, x) and isname(k) then return "spy." .. k end
    end
    for k, v in pairs(spy) do
      if type(v) == "table" and isname(k) and v ~= spy then
        for k2, v2 in pairs(v) do
          if rawequal(v2, x) and isname(k2) then return "spy." .. k .. "." .. k2 end
        end
      end
    end
    for k, v in pairs(_G) do
      if rawequal(v, x) and isname(k) then return k end
    end
  end

  -- The documentation of function f: its spec, or the Lua table above.
  local function docof(f)
    local s = spy._spec(f)
    if s then return s end
    for name, d in pairs(luadocs) do
      if rawequal(spy[name], f) or (name == "help" and rawequal(_G.help, f)) then return d end
    end
  end

  local function describe(d, name)
    if not d then
      out(name, ": no documentation\n")
      return
    end
    out(d.signature or (name .. "(...)"), "\n\n")
    if d.summary then out(wrap(d.summary, "")) end
    if d.doc then out("\n", wrap(d.doc, "")) end
    if d.kw and #d.kw > 0 then
      out("\nKeywords:\n")
      for _, k in ipairs(d.kw) do
        out("  ", k.name, " = ", luatext(k.default or "null"))
        local ty = k.type or ""
        -- nil is "not given": where the default is something else, None is spy.null
        if k.default and k.default ~= "null" then ty = ty:gsub("%f[%w]nil%f[%W]", "spy.null") end
        if ty ~= "" then out("  (", ty, k.range and (", " .. k.range) or "", ")") end
        out("\n")
        if k.allowed then out(wrap("one of " .. allowedtext(k.allowed), "      ")) end
        if k.doc then out(wrap(k.doc, "      ")) end
      end
    end
    if d.example then
      out("\nExample:\n")
      for line in (d.example .. "\n"):gmatch("(.-)\n") do out("  ", line, "\n") end
    end
  end

  -- One line per function of table t (and of its sub-tables, one level).
  local function listing(t, prefix)
    local rows, width = {}, 0
    local function collect(tab, pre, nested)
      for k, v in pairs(tab) do
        if isname(k) and k:sub(1, 1) ~= "_" then
          if type(v) == "function" then
            rows[#rows + 1] = {pre .. k, v}
            width = math.max(width, #pre + #k)
          elseif type(v) == "table" and not nested and v ~= tab then
            collect(v, pre .. k .. ".", true)
          end
        end
      end
    end
    collect(t, prefix, false)
    table.sort(rows, function(a, b) return a[1] < b[1] end)
    width = math.min(width, 30)
    for _, r in ipairs(rows) do
      local d = docof(r[2])
      local summary = d and d.summary or ""
      local room = WIDTH - 2 - width - 2
      if #summary > room then summary = summary:sub(1, room - 3) .. "..." end
      out(string.format("  %-" .. width .. "s  %s", r[1], summary):gsub("%s+$", ""), "\n")
    end
  end

  -- An object: its fields (the metatable's __fields, a sequence of names)
  -- and its methods (__methods, or an __index table), with summaries.
  local function methods(x)
    local mt = getmetatable(x)
    local name = type(mt) == "table" and rawget(mt, "__name") or type(x)
    out(tostring(name):gsub("^spy%.", ""), " object")
    local about = type(mt) == "table" and rawget(mt, "__about")
    out(about and (": " .. about) or "", "\n")
    local more = type(mt) == "table" and rawget(mt, "__help")
    if type(more) == "function" then out(more(x)) end
    local fields = type(mt) == "table" and rawget(mt, "__fields")
    if type(fields) == "table" and #fields > 0 then
      local names = {}
      for i, f in ipairs(fields) do names[i] = f end
      table.sort(names)
      out("\nFields (obj.name):\n", wrap(table.concat(names, ", "), "  "))
    end
    local index = type(mt) == "table" and (rawget(mt, "__methods") or rawget(mt, "__index"))
    if type(index) == "table" then
      out("\nMethods (obj:name(...)):\n")
      listing(index, "")
    end
    out("\nhelp(obj.name) or ?obj.name describes a method.\n")
  end

  -- Topic pages: help("selections") and friends.
  local topics = {
    topics = "help(\"topic\") explains one of: " .. "selections, indexing, null, clusters, scripts, "
      .. "python.",
    selections = "Every computing function takes select={...} (or call spy.selectdata(data, {...}) "
      .. "first). Keys: trials (1-based indices, or \"all\"), channel (names or 1-based "
      .. "indices), latency ({tmin, tmax} in seconds, or \"maxperiod\"/\"minperiod\"), "
      .. "frequency ({fmin, fmax}) and taper on spectra. Example: "
      .. "spy.freqanalysis(data, {select={trials={1, 2, 3}, channel={\"channel01\"}, latency={0, 0.5}}})",
    indexing = "Indices are 1-based everywhere, as in Lua: data.trials[1] is the first trial, "
      .. "channel index 1 the first channel, a[1] the first element of an array. "
      .. "for t in data.trials do ... end and ipairs(data.trials) visit every trial; "
      .. "#data.trials counts them. Arrays: a.shape, a.dtype, a.ndim, a.size, a:get(i, j), "
      .. "a:slice{...}, a:nearest(v) (index of the value nearest v, e.g. spec.freq:nearest(40)).",
    null = "In a keyword table nil means \"not given\" (the default applies). Syncopy's "
      .. "explicit None is spy.null, for the keywords whose default is not None: "
      .. "{polyremoval=spy.null} turns de-trending off, {nTrials=spy.null} makes synthdata "
      .. "return a plain array.",
    clusters = "Computations run sequentially unless a client exists: "
      .. "client = spy.Client(spy.LocalCluster{n_workers=4}) uses threads here; "
      .. "spy.SLURMCluster{...} and spy.esi_cluster_setup{partition=..., n_jobs=...} run "
      .. "workers as Slurm jobs. Every later call uses the client (parallel=false opts out); "
      .. "client:close() ends it. Start one cluster per session. spy.status() shows the workers.",
    scripts = "spy script.lua [args] runs a script (arg holds its arguments; a failure exits "
      .. "non-zero). At start spy runs LUA_INIT, then SPY_INIT (Lua code or @file, for every "
      .. "session: put a cluster set-up there to have it in scripts), then ~/.spyrc.lua "
      .. "(interactive sessions only), then -e/-l, the script, the prompt. spy -h lists the flags.",
    python = "Coming from Syncopy's Python: keywords go in a table, "
      .. "spy.freqanalysis(data, {method=\"mtmfft\", foilim={1, 100}}); lists are {1, 2}; "
      .. "True/False are true/false; None is spy.null; indices start at 1; methods use a colon, "
      .. "data:selectdata{trials={1, 2}}; a cfg replays: spy.freqanalysis(data, res.cfg).",
  }

  -- "f", "spy.f" or "spy.sub.f" -> the value in the namespace, or nil
  local function lookup(name)
    local v = spy
    for part in name:gsub("^spy%.", ""):gmatch("[^.]+") do
      if type(v) ~= "table" or part == "spy" then return nil end
      v = rawget(v, part)
    end
    return v
  end

  return function(...)
    local x = ...
    setwidth()
    if select("#", ...) == 0 or rawequal(x, spy) then
      out("spy ", tostring(spy.__version__), ": Syncopy's spectral analysis, from Lua.\n")
      out("help(spy.name) or ?spy.name shows one function; Tab completes names and keywords.\n")
      out("Topics: help(\"selections\"), \"indexing\", \"null\", \"clusters\", \"scripts\", "
        .. "\"python\".\n\n")
      listing(spy, "spy.")
      return
    end
    if type(x) == "string" and topics[x] then
      out(wrap(topics[x], ""))
      return
    end
    if type(x) == "string" then
      local spec = spy._spec((x:gsub("^spy%.", "")))
      local v = lookup(x)
      if spec and type(v) ~= "function" then return describe(spec, x) end
      if v == nil then
        out("help: no spy function named '", x, "'\n")
        return
      end
      x = v
    end
    if x == nil then
      out("help: the value is nil (a misspelt name?)\n")
    elseif rawequal(x, spy) then
      return
    elseif type(x) == "function" then
      describe(docof(x), nameof(x) or "function")
    elseif type(x) == "table" and getmetatable(x) == nil then
      local name = nameof(x)
      out(name or "table", ":\n")
      listing(x, name and (name .. ".") or "")
    else
      methods(x)
    end
  end
end
