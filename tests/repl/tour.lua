-- The README's five-minute tour as a transcript, so the README cannot
-- drift from what spy does: every `spy>` line of the tour is typed into a
-- real session and every output line the README shows (other than "...")
-- must appear after it.
--   lua5.4 tour.lua README.md PTYRUN
local readme, ptyrun = arg[1], arg[2]
local text = assert(io.open(readme)):read("a")
local block = text:match("## A five%-minute tour.-```lua\n(.-)```")
assert(block, "README.md has no tour block")

local function escape(s) return (s:gsub("\\", "\\\\")) end

local t = {"# generated from README.md by tour.lua", "spawn spy -i", "expect spy> "}
local sent = 0
for line in block:gmatch("([^\n]*)\n") do
  local code = line:match("^spy> (.*)$")
  if code then
    if sent > 0 then t[#t + 1] = "expect spy> " end
    t[#t + 1] = "send " .. escape(code) .. "\\n"
    sent = sent + 1
  elseif line ~= "$ scripts/run" and not line:match("^%s*%.%.%.%s*$") and line:match("%S") then
    t[#t + 1] = "expect " .. escape((line:gsub("%s+$", "")))
  end
end
t[#t + 1] = "expect spy> "
t[#t + 1] = "key C-d"
t[#t + 1] = "exit 0"
assert(sent >= 10, "the tour has only " .. sent .. " commands")

local path = os.tmpname()
local f = assert(io.open(path, "w"))
f:write(table.concat(t, "\n"), "\n")
f:close()
local ok, how, code = os.execute(ptyrun .. " " .. path)
os.remove(path)
if not ok then
  io.stderr:write("tour transcript failed (", tostring(how), " ", tostring(code), ")\n")
  os.exit(1)
end
