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
  local WIDTH = 78

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

  local out = io.write

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
        if k.type and k.type ~= "" then out("  (", k.type, ")") end
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

  local function methods(x)
    local mt = getmetatable(x)
    local name = type(mt) == "table" and rawget(mt, "__name") or type(x)
    out(tostring(name), " object\n")
    local more = type(mt) == "table" and rawget(mt, "__help")
    if type(more) == "function" then out(more(x)) end
    local index = type(mt) == "table" and rawget(mt, "__index")
    if type(index) == "table" then
      out("\nMethods (obj:name(...)):\n")
      listing(index, "")
    end
  end

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
    if select("#", ...) == 0 or rawequal(x, spy) then
      out("spy ", tostring(spy.__version__), ": Syncopy's spectral analysis, from Lua.\n")
      out("help(spy.name) or ?spy.name shows one function; Tab completes names and keywords.\n\n")
      listing(spy, "spy.")
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
