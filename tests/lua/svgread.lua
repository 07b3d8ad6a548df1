-- Reading plots back from their SVG as a person would (shared by plot_spec.lua and
-- plotclasses_spec.lua): texts are <text> elements, lines are stroked paths whose
-- pixel coordinates map back to data units through the numeric tick labels.
local assert = require "luassert" -- busted gives specs its assert, not modules
local M = {}

-- Every text of an SVG with its anchor point and alignment.
function M.texts(svg)
  local out = {}
  for x, y, rest, t in svg:gmatch('translate%(([%d%.%-]+),([%d%.%-]+)%)([^>]*)>%s*<text>(.-)</text>') do
    out[#out + 1] = { x = tonumber(x), y = tonumber(y), anchor = rest:match('text%-anchor="(%a+)"'),
                      rotated = rest:find("rotate", 1, true) ~= nil, text = t }
  end
  return out
end

function M.hastext(svg, s)
  for _, t in ipairs(M.texts(svg)) do
    if t.text == s then return true end
  end
  return false
end

-- The linear map pixel -> value of one axis from its numeric tick labels
-- (x ticks: centred below the axis; y ticks: right-aligned left of it).
function M.axis(svg, which)
  local pts = {}
  for _, t in ipairs(M.texts(svg)) do
    local v = tonumber(t.text)
    if v and not t.rotated and ((which == "x" and t.anchor == "middle") or (which == "y" and t.anchor == "end")) then
      pts[#pts + 1] = { px = which == "x" and t.x or t.y, v = v }
    end
  end
  assert.is_true(#pts >= 2, "fewer than two " .. which .. " tick labels")
  table.sort(pts, function(a, b) return a.v < b.v end)
  local a, b = pts[1], pts[#pts]
  -- a y tick label's anchor sits a third of the font size below its tick
  local shift = which == "y" and tonumber(svg:match('font%-size="([%d%.]+)"')) / 3 or 0
  return function(px)
    return a.v + (px + shift - a.px) * (b.v - a.v) / (b.px - a.px)
  end, pts
end

-- The data polylines of the SVG (the longest sub-path of each stroked path).
function M.lines(svg)
  local out = {}
  for d in svg:gmatch("<path stroke='rgb%([^']*%)'%s+d='([^']*)'") do
    local best = {}
    for sub in d:gmatch("M[^M]*") do
      local pts = {}
      for x, y in sub:gmatch("([%d%.]+),([%d%.]+)") do pts[#pts + 1] = { tonumber(x), tonumber(y) } end
      if #pts > #best then best = pts end
    end
    if #best > 2 then out[#out + 1] = best end
  end
  return out
end

function M.count(s, pat)
  local n = 0
  for _ in s:gmatch(pat) do n = n + 1 end
  return n
end

function M.errmsg(f, ...)
  local ok, e = pcall(f, ...)
  assert.is_false(ok)
  return tostring(e)
end

return M
