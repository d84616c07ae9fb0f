-- Query strings as sent: every parameter in order, raw and decoded, repeated names kept.
local query = {}

local unescape = ngx.unescape_uri

local function decode(s)
  if s:find("+", 1, true) then s = s:gsub("+", " ") end
  if s:find("%", 1, true) then s = unescape(s) end
  return s
end
query.decode = decode

-- Returns an array of {name = decoded name, lname = lower-cased name, value = decoded value or true,
-- raw = the piece as sent}.
function query.parse(raw)
  local out = {}
  if not raw or raw == "" then return out end
  for piece in raw:gmatch("[^&]+") do
    local eq = piece:find("=", 1, true)
    local name, value
    if eq then
      name, value = decode(piece:sub(1, eq - 1)), decode(piece:sub(eq + 1))
    else
      name, value = decode(piece), true
    end
    out[#out + 1] = { name = name, lname = name:lower(), value = value, raw = piece }
  end
  return out
end

-- Every value of a (lower-cased) name, and the names as sent.
function query.all(params, lname)
  local values, names = {}, {}
  for _, p in ipairs(params) do
    if p.lname == lname then
      values[#values + 1] = p.value
      names[#names + 1] = p.name
    end
  end
  return values, names
end

return query
