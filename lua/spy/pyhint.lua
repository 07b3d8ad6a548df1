-- The Python habit every Syncopy user brings: f(data, method="mtmfft").
-- Lua has no keyword arguments, so that is a syntax error ("')' expected
-- near '='").  Given the code and the error message, this returns the call
-- rewritten the spy way, f(data, {method="mtmfft"}), with Python's True,
-- False, None and [lists] turned into Lua's true, false, spy.null and
-- {tables}; or nil when the error is something else.
return function()
  -- Splits s at top-level commas (outside strings and brackets); returns
  -- nil when the brackets do not balance.
  local function split(s)
    local parts, depth, start, i, q = {}, 0, 1, 1, nil
    while i <= #s do
      local c = s:sub(i, i)
      if q then
        if c == "\\" then i = i + 1 elseif c == q then q = nil end
      elseif c == '"' or c == "'" then
        q = c
      elseif c:match("[%(%[{]") then
        depth = depth + 1
      elseif c:match("[%)%]}]") then
        depth = depth - 1
        if depth < 0 then return nil end
      elseif c == "," and depth == 0 then
        parts[#parts + 1] = s:sub(start, i - 1)
        start = i + 1
      end
      i = i + 1
    end
    if depth ~= 0 or q then return nil end
    parts[#parts + 1] = s:sub(start)
    return parts
  end

  -- Python literals in a value, outside strings.
  local function luavalue(v)
    local out, brackets, i, q = {}, {}, 1, nil
    while i <= #v do
      local c = v:sub(i, i)
      if q then
        out[#out + 1] = c
        if c == "\\" then
          out[#out + 1] = v:sub(i + 1, i + 1)
          i = i + 1
        elseif c == q then
          q = nil
        end
        i = i + 1
      elseif c == '"' or c == "'" then
        q = c
        out[#out + 1] = c
        i = i + 1
      else
        local word = v:match("^[%a_][%w_]*", i)
        if word then
          local prev = v:sub(1, i - 1):match("[%.:]%s*$")
          out[#out + 1] = not prev and ({True = "true", False = "false", None = "spy.null"})[word] or word
          i = i + #word
        else
          if c == "[" then
            -- a list literal unless it indexes what stands before it
            local list = not table.concat(out):match("[%w_%)%]}\"']%s*$")
            brackets[#brackets + 1] = list
            if list then c = "{" end
          elseif c == "]" then
            if table.remove(brackets) then c = "}" end
          end
          out[#out + 1] = c
          i = i + 1
        end
      end
    end
    return table.concat(out)
  end

  local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

  return function(code, msg)
    if type(code) ~= "string" or type(msg) ~= "string" or not msg:find("near '='", 1, true) then
      return nil
    end
    -- the first call whose arguments hold a top-level `name=value`
    for s, callee, open in code:gmatch("()([%a_][%w_%.:]*)%s*()%(") do
      local depth, close, q = 0, nil, nil
      for i = open, #code do
        local c = code:sub(i, i)
        if q then
          if c == q then q = nil end
        elseif c == '"' or c == "'" then
          q = c
        elseif c == "(" then
          depth = depth + 1
        elseif c == ")" then
          depth = depth - 1
          if depth == 0 then close = i break end
        end
      end
      local parts = close and split(code:sub(open + 1, close - 1))
      if parts then
        local pos, kw = {}, {}
        for _, p in ipairs(parts) do
          local k, v = p:match("^%s*([%a_][%w_]*)%s*=%s*([^=].*)$")
          if k and not p:match("^%s*[%a_][%w_]*%s*==") then
            kw[#kw + 1] = k .. "=" .. trim(luavalue(v))
          elseif trim(p) ~= "" then
            pos[#pos + 1] = trim(luavalue(p))
          end
        end
        if #kw > 0 then
          pos[#pos + 1] = "{" .. table.concat(kw, ", ") .. "}"
          local call = callee .. "(" .. table.concat(pos, ", ") .. ")"
          return "keyword arguments go in a table in Lua: " .. code:sub(1, s - 1) .. call ..
            code:sub(close + 1):gsub("%s+$", "")
        end
      end
    end
    return nil
  end
end
