-- Shared by spec/translate: files to translate, the emulator's deterministic
-- translation (emulator/lua/emulator/translate.lua) and its request log.
local emu = require "support.emulator"

local T = {}

-- A fresh path in a new empty folder (os.tmpname's unique name, made a folder).
function T.path(name)
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir '" .. dir .. "'"))
  return dir .. "/" .. name, dir
end

function T.write(path, data)
  local f = assert(io.open(path, "wb"))
  assert(f:write(data))
  f:close()
  return path
end

function T.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

-- The files of a folder (names).
function T.ls(dir)
  local p = io.popen("ls -A '" .. dir .. "'")
  local out = {}
  for line in p:lines() do out[#out + 1] = line end
  p:close()
  table.sort(out)
  return out
end

-- What the emulator answers for a text document translated to `to` after the
-- glossary pairs { {source, target}, ... } were applied.
function T.expect_text(text, to, pairs_)
  for _, p in ipairs(pairs_ or {}) do
    local pat = p[1]:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0")
    text = text:gsub(pat, (p[2]:gsub("%%", "%%%%")))
  end
  local out, pos = {}, 1
  while pos <= #text do
    local e = text:find("\n", pos, true)
    out[#out + 1] = "[" .. to .. "] " .. (e and text:sub(pos, e) or text:sub(pos))
    if not e then break end
    pos = e + 1
  end
  return table.concat(out)
end

-- Every byte value, n times over: a binary document.
function T.binary(n)
  local t = {}
  for i = 0, 255 do t[#t + 1] = string.char(i) end
  return string.rep(table.concat(t), n)
end

-- The translate requests in the emulator's log.
function T.requests()
  local out = {}
  for _, r in ipairs(emu.requests()) do
    if r.route == "translate" then out[#out + 1] = r end
  end
  return out
end

return T
