-- spy.pretty(v [, opts]) -> string: a readable rendering of any Lua value,
-- used by the shell to print results.  Tables read as Lua table
-- constructors: on one line when they fit the width, else one entry (or a
-- packed run of short array entries) per line.  Long tables show the head
-- and tail of their array part and the first keys of the rest; nesting
-- stops at a depth, and a budget of rendered tables bounds the output.
-- Userdata and tables with __tostring print through it.
--
-- opts: width (80), items (20 per table), depth (4), strlen (200),
--       tables (200 nested tables in all).
return function(spy)
  local defaults = {width = 80, items = 20, depth = 4, strlen = 200, tables = 200}

  local reserved = {}
  for w in ([[and break do else elseif end false for function goto if in
              local nil not or repeat return then true until while]]):gmatch("%a+") do
    reserved[w] = true
  end

  local function isname(k)
    return type(k) == "string" and k:match("^[%a_][%w_]*$") ~= nil and not reserved[k]
  end

  local escapes = {["\n"] = "\\n", ["\t"] = "\\t", ["\r"] = "\\r", ['"'] = '\\"', ["\\"] = "\\\\"}

  local function quote(s, maxlen)
    local more = #s - maxlen
    if more > 0 then s = s:sub(1, maxlen) end
    s = '"' .. s:gsub('[%c"\\]', function(c)
      return escapes[c] or string.format("\\%d", c:byte())
    end) .. '"'
    if more > 0 then s = s .. string.format("...(%d more bytes)", more) end
    return s
  end

  -- tostring through __tostring, never raising.
  local function safetostring(v)
    local ok, s = pcall(tostring, v)
    if ok and type(s) == "string" then return s end
    return string.format("<%s: __tostring failed: %s>", type(v), tostring(s))
  end

  local function scalar(v, opts)
    local t = type(v)
    if t == "string" then return quote(v, opts.strlen) end
    if v == spy.null then return "spy.null" end
    return safetostring(v)
  end

  local typeorder = {number = 1, string = 2, boolean = 3}
  local function keyless(a, b)
    local ta, tb = typeorder[type(a)] or 4, typeorder[type(b)] or 4
    if ta ~= tb then return ta < tb end
    if ta == 3 then return not a and b end
    if ta == 4 then return tostring(a) < tostring(b) end
    return a < b
  end

  local render

  local function keytext(k, opts, st)
    if isname(k) then return k end
    if type(k) == "table" and not (getmetatable(k) or {}).__tostring then
      return "[" .. safetostring(k) .. "]"
    end
    return "[" .. render(k, opts, "", math.huge, st) .. "]"
  end

  -- Packs single-line items into lines no wider than the width.
  local function packed(items, indent, width)
    local lines, cur = {}, nil
    for _, it in ipairs(items) do
      if cur and #indent + #cur + 2 + #it <= width then
        cur = cur .. ", " .. it
      else
        if cur then lines[#lines + 1] = cur end
        cur = it
      end
    end
    lines[#lines + 1] = cur
    return lines
  end

  function render(v, opts, indent, depth, st)
    local mt = type(v) == "table" and getmetatable(v)
    if type(v) ~= "table" or (type(mt) == "table" and rawget(mt, "__tostring")) then
      return scalar(v, opts)
    end
    if st.path[v] then return "<cycle>" end
    if depth > opts.depth or st.tables >= opts.tables then
      return next(v) == nil and "{}" or "{...}"
    end
    st.tables = st.tables + 1
    st.path[v] = true
    local inner = indent .. "  "
    local items, multiline = {}, false
    local function add(s)
      items[#items + 1] = s
      multiline = multiline or s:find("\n", 1, true) ~= nil
    end

    local n = 0
    while rawget(v, n + 1) ~= nil do n = n + 1 end
    local keys = {}
    for k in next, v do
      if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
    end
    table.sort(keys, keyless)

    local head, tail = n, 0
    if n > opts.items then head, tail = opts.items - 5, 5 end
    for i = 1, head do add(render(rawget(v, i), opts, inner, depth + 1, st)) end
    if tail > 0 then
      add(string.format("...(%d more)", n - head - tail))
      for i = n - tail + 1, n do add(render(rawget(v, i), opts, inner, depth + 1, st)) end
    end
    local shown = math.min(#keys, opts.items)
    for j = 1, shown do
      local k = keys[j]
      add(keytext(k, opts, st) .. " = " .. render(rawget(v, k), opts, inner, depth + 1, st))
    end
    if #keys > shown then add(string.format("...(%d more keys)", #keys - shown)) end
    st.path[v] = nil

    if #items == 0 then return "{}" end
    local line = "{" .. table.concat(items, ", ") .. "}"
    if not multiline and #indent + #line <= opts.width then return line end
    local lines = (not multiline and #keys == 0) and packed(items, inner, opts.width) or items
    return "{\n" .. inner .. table.concat(lines, ",\n" .. inner) .. "\n" .. indent .. "}"
  end

  return function(v, opts)
    if opts ~= nil and type(opts) ~= "table" then -- e.g. spy.pretty(f()) of a call returning two values
      error(("bad argument #2 to 'pretty' (option table {width=, items=, depth=, strlen=, tables=} expected, got %s)")
        :format(type(opts)), 2)
    end
    local o = {}
    for k, d in pairs(defaults) do o[k] = (opts and opts[k]) or d end
    return render(v, o, "", 1, {path = {}, tables = 0})
  end
end
