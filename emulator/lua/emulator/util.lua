-- Small helpers shared by the emulator modules: time in ticks, dates, ids, JSON strings, hashing.
local ffi = require "ffi"

local floor = math.floor
local format = string.format
local char, gsub, find = string.char, string.gsub, string.find

local util = {}

-- Time is kept in "ticks" (100 ns, as .NET and the service's 7-digit fractions) since
-- 2020-01-01T00:00:00Z, so that every instant is an exact integer in a double until 2048.
util.TICKS = 10000000
local TICKS = util.TICKS
local EPOCH = 1577836800 -- 2020-01-01T00:00:00Z in Unix seconds
local EPOCH_DAYS = 18262 -- days from 1970-01-01 to 2020-01-01

-- The real clock, in ticks.
function util.real_ticks()
  ngx.update_time()
  -- ngx.now() has millisecond resolution: round to whole milliseconds, then scale exactly
  return floor((ngx.now() - EPOCH) * 1000 + 0.5) * 10000
end

-- The emulated clock, in ticks: the real clock (or the instant it was frozen at) plus an offset
-- that only the admin API moves (POST /_emulator/clock). Both live in the shared dict, so every
-- worker reads the same time; with neither set it is the real clock. Every date the service
-- writes and every job's progress are read from this clock.
local shared = ngx.shared and ngx.shared.emulator
function util.now_ticks()
  local frozen, offset
  if shared then
    frozen, offset = shared:get("clock:frozen"), shared:get("clock:offset")
  end
  return (frozen or util.real_ticks()) + (offset or 0)
end

function util.seconds(s)
  return floor(s * TICKS + 0.5)
end

-- Civil date from a day count since 1970-01-01 (proleptic Gregorian).
local function civil(z)
  z = z + 719468
  local era = floor(z / 146097)
  local doe = z - era * 146097
  local yoe = floor((doe - floor(doe / 1460) + floor(doe / 36524) - floor(doe / 146096)) / 365)
  local y = yoe + era * 400
  local doy = doe - (365 * yoe + floor(yoe / 4) - floor(yoe / 100))
  local mp = floor((5 * doy + 2) / 153)
  local d = doy - floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  if m <= 2 then y = y + 1 end
  return y, m, d
end

-- Day count since 1970-01-01 of a civil date.
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = floor(y / 400)
  local yoe = y - era * 400
  local mp = m > 2 and m - 3 or m + 9
  local doy = floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

-- "HH:MM:SS" of every second of a day, built once per worker on first use (86,400 short strings).
local clock_texts
local function build_clock_texts()
  clock_texts = {}
  local k = 0
  for h = 0, 23 do
    for mi = 0, 59 do
      local hm = format("%02d:%02d:", h, mi)
      for sec = 0, 59 do
        clock_texts[k] = hm .. format("%02d", sec)
        k = k + 1
      end
    end
  end
end

-- Per-worker caches of the texts of days and of fractions (bounded: cleared when full).
local day_cache, day_count = {}, 0
local frac_cache, frac_count = {}, 0

-- "YYYY-MM-DDT" of a day and "HH:MM:SS" of a second, for a count of seconds since 2020.
local function day_and_clock(secs)
  local days = floor(secs / 86400)
  local day = day_cache[days]
  if not day then
    if day_count >= 10000 then day_cache, day_count = {}, 0 end
    local y, m, d = civil(days + EPOCH_DAYS)
    day = format("%04d-%02d-%02dT", y, m, d)
    day_cache[days] = day
    day_count = day_count + 1
  end
  if not clock_texts then build_clock_texts() end
  return day, clock_texts[secs - days * 86400]
end

local function frac_text(frac)
  local digits = 7
  while frac % 10 == 0 do
    frac = frac / 10
    digits = digits - 1
  end
  return "." .. format("%0" .. digits .. "d", frac) .. "Z"
end

-- The three cached pieces of a date's text: day, clock and ".fffffffZ" (or "Z").
local function date_parts(ticks)
  local secs = floor(ticks / TICKS)
  local frac = ticks - secs * TICKS
  local day, clock = day_and_clock(secs)
  if frac == 0 then return day, clock, "Z" end
  local tail = frac_cache[frac]
  if not tail then
    if frac_count >= 50000 then frac_cache, frac_count = {}, 0 end
    tail = frac_text(frac)
    frac_cache[frac] = tail
    frac_count = frac_count + 1
  end
  return day, clock, tail
end

-- "2024-10-11T01:26:30.1343348Z": UTC, up to 7 fractional digits, trailing zeros trimmed.
function util.date(ticks)
  local day, clock, tail = date_parts(ticks)
  return day .. clock .. tail
end

-- Appends a date's text to a buffer (see util.buffer) without making a string of it.
function util.put_date(b, ticks)
  local day, clock, tail = date_parts(ticks)
  b:put(day, clock, tail)
end

-- A reusable text buffer: LuaJIT's string.buffer when the VM has it (it builds a text without
-- interning every piece), else the same four methods over a table.
function util.buffer()
  local ok, sb = pcall(require, "string.buffer")
  if ok and type(sb) == "table" and sb.new then return sb.new() end
  local parts, n = {}, 0
  local b = {}
  function b.put(self, ...)
    for k = 1, select("#", ...) do parts[n + k] = (select(k, ...)) end
    n = n + select("#", ...)
    return self
  end
  function b.putf(self, fmt, ...)
    n = n + 1
    parts[n] = format(fmt, ...)
    return self
  end
  function b.reset(self)
    n = 0
    return self
  end
  function b.get()
    local text = table.concat(parts, "", 1, n)
    n = 0
    return text
  end
  return b
end

-- Parses an ISO-8601 date-time (Z, an offset, or no zone = UTC; up to 7 fractional digits; a bare
-- date is midnight UTC). Returns ticks since 2020-01-01, or nil when the text is not a date.
function util.parse_date(text)
  if type(text) ~= "string" then return nil end
  local y, mo, d, rest = text:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)(.*)$")
  if not y then return nil end
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  local h, mi, s, frac, zone = 0, 0, 0, "", ""
  if rest ~= "" then
    local hh, mm, tail = rest:match("^[Tt ](%d%d):(%d%d)(.*)$")
    if not hh then return nil end
    h, mi = tonumber(hh), tonumber(mm)
    local ss, tail2 = tail:match("^:(%d%d)(.*)$")
    if ss then
      s = tonumber(ss)
      tail = tail2
      local f, tail3 = tail:match("^[%.,](%d+)(.*)$")
      if f then
        if #f > 7 then return nil end
        frac, tail = f, tail3
      end
    end
    zone = tail
  end
  if mo < 1 or mo > 12 or d < 1 or h > 23 or mi > 59 or s > 59 then return nil end
  local mdays = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }
  if y % 4 == 0 and (y % 100 ~= 0 or y % 400 == 0) then mdays[2] = 29 end
  if d > mdays[mo] then return nil end
  local offset = 0
  if zone ~= "Z" and zone ~= "z" and zone ~= "" then
    local sign, oh, om = zone:match("^([+-])(%d%d):?(%d%d)$")
    if not sign then return nil end
    oh, om = tonumber(oh), tonumber(om)
    if oh > 23 or om > 59 then return nil end
    offset = (oh * 60 + om) * 60
    if sign == "-" then offset = -offset end
  end
  local days = days_from_civil(y, mo, d) - EPOCH_DAYS
  local secs = days * 86400 + h * 3600 + mi * 60 + s - offset
  local f = 0
  if frac ~= "" then
    f = tonumber(frac .. string.rep("0", 7 - #frac))
  end
  return secs * TICKS + f
end

local random = math.random
function util.uuid()
  return format("%08x-%04x-4%03x-%04x-%06x%06x",
    random(0, 0xffffffff), random(0, 0xffff), random(0, 0xfff),
    0x8000 + random(0, 0x3fff), random(0, 0xffffff), random(0, 0xffffff))
end

function util.token()
  local t = {}
  for i = 1, 4 do t[i] = format("%08x", random(0, 0xffffffff)) end
  return "emu." .. table.concat(t)
end

local UUID_PATTERN = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"
function util.is_uuid(s)
  return type(s) == "string" and find(s, UUID_PATTERN) ~= nil
end

-- JSON string escaping (the bodies whose field order matters are built by hand).
local escapes = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
                  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
for i = 0, 31 do
  local c = char(i)
  if not escapes[c] then escapes[c] = format("\\u%04x", i) end
end
escapes[char(127)] = "\\u007f"

function util.json_string(s)
  s = tostring(s)
  if find(s, '[%c"\\]') then
    s = gsub(s, '[%c"\\]', escapes)
  end
  return '"' .. s .. '"'
end

-- Integers as JSON numbers (tostring would print 1e+15 under LuaJIT).
function util.int(n)
  return format("%d", n)
end

-- SHA-256 through the OpenSSL that nginx itself is linked with.
ffi.cdef [[
unsigned char *SHA256(const unsigned char *d, size_t n, unsigned char *md);
]]
local digest = ffi.new("unsigned char[32]")
local hex, HEX = {}, {}
for i = 0, 255 do hex[i], HEX[i] = format("%02x", i), format("%02X", i) end
local C = ffi.C

-- The SHA-256 of s in hex: lowercase, or uppercase when upper is true.
function util.sha256_hex(s, upper)
  C.SHA256(s, #s, digest)
  local digits = upper and HEX or hex
  local out = {}
  for i = 0, 31 do out[i + 1] = digits[digest[i]] end
  return table.concat(out)
end

-- The quoted ETag of a body: its SHA-256 in uppercase hex as the service writes it, or in
-- lowercase when the setting etag_case is "lower".
function util.etag(body, settings)
  return '"' .. util.sha256_hex(body, settings.etag_case ~= "lower") .. '"'
end

return util
