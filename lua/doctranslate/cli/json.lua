--- JSON text for the command line's `--json` output.
--
-- Objects keep a given key order (the service's field order), so JSON lines
-- read like the service's own answers; tables without an order hint are
-- written with sorted keys, arrays as arrays. lua-cjson is not used here: it
-- escapes every `/` (URLs become unreadable) and orders keys at random.
-- @module doctranslate.cli.json
local json = {}

local escapes = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
                  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }

local function quote(s)
  return '"' .. s:gsub('[%c"\\]', function(ch)
    return escapes[ch] or ("\\u%04x"):format(ch:byte())
  end) .. '"'
end

local function is_array(t)
  local n = #t
  if n == 0 then return next(t) == nil and false end
  for k in pairs(t) do
    if type(k) ~= "number" or k < 1 or k > n or k % 1 ~= 0 then return false end
  end
  return true
end

local encode

local function number(v)
  if v ~= v or v == math.huge or v == -math.huge then return "null" end
  if math.type and math.type(v) == "integer" then return ("%d"):format(v) end
  if v % 1 == 0 and v >= -2^53 and v <= 2^53 then return ("%.0f"):format(v) end
  return ("%.17g"):format(v)
end

--- Encodes a Lua value. `orders` maps a key path's last key (e.g. "summary")
-- or the root ("") to the list of keys to write first, in that order.
encode = function(v, orders, key)
  local t = type(v)
  if v == nil or v == json.null then return "null" end
  if t == "boolean" then return tostring(v) end
  if t == "number" then return number(v) end
  if t == "string" then return quote(v) end
  if t ~= "table" then return quote(tostring(v)) end
  if is_array(v) then
    local parts = {}
    for i = 1, #v do parts[i] = encode(v[i], orders, key) end
    return "[" .. table.concat(parts, ",") .. "]"
  end
  local parts, done = {}, {}
  local order = orders and orders[key or ""]
  if order then
    for _, k in ipairs(order) do
      if v[k] ~= nil then
        parts[#parts + 1] = quote(k) .. ":" .. encode(v[k], orders, k)
        done[k] = true
      end
    end
  end
  local rest = {}
  for k in pairs(v) do
    if not done[k] then rest[#rest + 1] = tostring(k) end
  end
  table.sort(rest)
  for _, k in ipairs(rest) do
    parts[#parts + 1] = quote(k) .. ":" .. encode(v[k], orders, k)
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

--- A sentinel that encodes as `null` inside arrays and objects.
json.null = setmetatable({}, { __tostring = function() return "null" end })

--- Encodes `v` as one line of JSON.
-- @param v a string, number, boolean, nil or table
-- @tparam[opt] table orders key orders by parent key ("" for the root)
-- @treturn string
function json.encode(v, orders)
  return encode(v, orders, "")
end

return json
