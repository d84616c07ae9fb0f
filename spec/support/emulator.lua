-- Helpers for specs that talk to the running emulator over real HTTP (the curl CLI).
--
--   local emu = require "support.emulator"
--   emu.reset()
--   local job = emu.create_job{ documents = 1000, fail_every = 7 }
--   local status, headers, body = emu.get("/translator/document/batches/" .. job.id .. "?api-version=2024-05-01")
--
-- emu.get/emu.request add the key header unless the headers table sets
-- ["Ocp-Apim-Subscription-Key"] itself (false leaves it out). Header names in answers are lower-cased.
local cjson = require "cjson"

local emu = {}

emu.http = os.getenv("DT_EMULATOR_HTTP") or "http://127.0.0.1:18480"
emu.https = os.getenv("DT_EMULATOR_HTTPS") or "https://127.0.0.1:18443"
emu.key = os.getenv("DT_EMULATOR_KEY") or "doctranslate-emulator-key"
emu.ca = os.getenv("DT_EMULATOR_CA") or "build/emulator/ca.pem"

local KEY_HEADER = "Ocp-Apim-Subscription-Key"

local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
emu.shell_quote = shell_quote

local function read_file(path)
  local fh = io.open(path, "rb")
  if not fh then return nil end
  local data = fh:read("*a") -- "*a": Lua 5.1 and LuaJIT want the star
  fh:close()
  return data
end

local function parse_headers(text)
  local headers, status_line = {}, nil
  -- with redirects or 100-continue there may be several blocks: keep the last one
  for block in (text or ""):gsub("\r", ""):gmatch("(HTTP/[^\n]*\n.-)\n\n") do
    headers, status_line = {}, block:match("^(HTTP/[^\n]*)")
    for line in block:gmatch("[^\n]+") do
      local name, value = line:match("^([^:]+):%s*(.-)%s*$")
      if name and not line:match("^HTTP/") then
        local lname = name:lower()
        if headers[lname] then headers[lname] = headers[lname] .. ", " .. value else headers[lname] = value end
      end
    end
  end
  return headers, status_line
end

-- emu.request{method=, url= (absolute) or path= (relative to base), base=, headers=, body=,
--             timeout=, ca=, key=true|false}
-- Returns status (number), headers (table), body (string); or nil, error message, curl exit code
-- when the transfer failed (reset, truncated, timeout...): then the partial headers and body follow.
function emu.request(opts)
  local url = opts.url or ((opts.base or emu.http) .. (opts.path or "/"))
  local hdr_file, body_file = os.tmpname(), os.tmpname()
  local args = { "curl", "-sS", "--http1.1", "-o", shell_quote(body_file), "-D", shell_quote(hdr_file),
                 "-w", shell_quote("%{http_code}"), "-X", shell_quote(opts.method or "GET"),
                 "--max-time", tostring(opts.timeout or 30) }
  if url:match("^https:") then
    args[#args + 1] = "--cacert " .. shell_quote(opts.ca or emu.ca)
  end
  local headers = opts.headers or {}
  local has_key = false
  for k in pairs(headers) do
    if type(k) == "string" and k:lower() == KEY_HEADER:lower() then has_key = true end
  end
  if not has_key and opts.key ~= false then
    args[#args + 1] = "-H " .. shell_quote(KEY_HEADER .. ": " .. emu.key)
  end
  for k, v in pairs(headers) do
    if v ~= false then args[#args + 1] = "-H " .. shell_quote(k .. ": " .. tostring(v)) end
  end
  local body_in
  if opts.body then
    body_in = os.tmpname()
    local fh = assert(io.open(body_in, "wb"))
    fh:write(opts.body)
    fh:close()
    args[#args + 1] = "--data-binary @" .. shell_quote(body_in)
  end
  args[#args + 1] = shell_quote(url)
  -- curl's exit status is printed after its output: on Lua 5.1 (and LuaJIT without 5.2 compat)
  -- a popen file's close() does not return it
  local cmd = table.concat(args, " ") .. " 2>&1; printf '\\ncurl-exit:%d' $?"
  local p = assert(io.popen(cmd, "r"))
  local out = p:read("*a")
  p:close()
  local text, code = out:match("^(.-)\ncurl%-exit:(%d+)$")
  out, code = text or out, tonumber(code)
  local raw_headers, body = read_file(hdr_file), read_file(body_file) or ""
  os.remove(hdr_file)
  os.remove(body_file)
  if body_in then os.remove(body_in) end
  local status = tonumber(out:match("(%d%d%d)%s*$"))
  local h = parse_headers(raw_headers)
  if code ~= 0 then
    return nil, "curl failed (" .. tostring(code) .. "): " .. out, code, h, body
  end
  return status, h, body
end

-- GET of a path (or an absolute URL) with the key unless headers say otherwise.
function emu.get(path_and_query, headers)
  if path_and_query:match("^https?://") then
    return emu.request({ url = path_and_query, headers = headers })
  end
  return emu.request({ path = path_and_query, headers = headers })
end

-- lua-cjson decodes every number as a float under Lua 5.4: give whole numbers back as integers,
-- so that ids and counts print and concatenate as the service sent them. Lua 5.1/5.2/LuaJIT
-- have no integer subtype (math.tointeger is absent): numbers stay as they are.
local tointeger = math.tointeger or function(v) return v end
local function integers(v)
  if type(v) == "number" then return tointeger(v) or v end
  if type(v) == "table" then
    for k, x in pairs(v) do v[k] = integers(x) end
  end
  return v
end

-- cjson.decode with whole numbers as integers.
function emu.decode(text)
  return integers(cjson.decode(text))
end

-- Admin calls go over LuaSocket when it is there (plain HTTP, no key, JSON): a spec makes many of
-- them (a reset, a job, a fault, a clock move...) and a curl process each costs more CPU than the
-- exchange itself. Returns status, nil, body like emu.request; nil, message on a transport error.
local ok_http, socket_http = pcall(require, "socket.http")
local ok_ltn12, ltn12 = pcall(require, "ltn12")
local function admin_exchange(method, path, body)
  if not (ok_http and ok_ltn12) or not emu.http:match("^http://") then
    return emu.request({ method = method, path = path, body = body, key = false,
                         headers = body and { ["Content-Type"] = "application/json" } or nil })
  end
  local chunks = {}
  local headers = {}
  if body then
    headers["Content-Type"] = "application/json"
    headers["Content-Length"] = tostring(#body)
  end
  local ok, status = socket_http.request{ url = emu.http .. path, method = method, headers = headers,
                                          source = body and ltn12.source.string(body) or nil,
                                          sink = ltn12.sink.table(chunks) }
  if not ok or type(status) ~= "number" then return nil, tostring(status) end
  return status, nil, table.concat(chunks)
end

local function admin(method, path, value)
  local body = value ~= nil and cjson.encode(value) or nil
  local status, headers, text = admin_exchange(method, "/_emulator" .. path, body)
  if not status then error("emulator admin " .. method .. " " .. path .. ": " .. tostring(headers), 3) end
  local decoded = text ~= "" and emu.decode(text) or nil
  if status >= 300 then
    local msg = type(decoded) == "table" and decoded.error and decoded.error.message or text
    error("emulator admin " .. method .. " " .. path .. " -> " .. status .. ": " .. tostring(msg), 3)
  end
  return decoded, status
end
emu.admin = admin

-- Clears created jobs, faults, the request log, tokens and settings (fixture jobs stay).
function emu.reset() return admin("POST", "/reset") end

-- opts: documents, status, fail_every, duration, next_link, languages, created, id, parallel, ...
function emu.create_job(opts) return admin("POST", "/jobs", opts or {}) end

function emu.job(id) return admin("GET", "/jobs/" .. id) end

-- opts: route, job, page, nth, times, action and the action's fields. Returns the fault id.
function emu.fault(opts) return admin("POST", "/faults", opts).id end

function emu.faults() return admin("GET", "/faults") end

function emu.clear_faults() return admin("DELETE", "/faults") end

-- The log of service requests received (admin requests are not logged), oldest first.
function emu.requests(since)
  return admin("GET", "/requests" .. (since and ("?since=" .. since) or ""))
end

function emu.clear_requests() return admin("DELETE", "/requests") end

-- Issues a bearer token: {token=, expires_in=}.
function emu.token(opts) return admin("POST", "/tokens", opts or {}) end

-- Changes server-wide settings; returns every setting.
function emu.settings(opts)
  if opts == nil then return admin("GET", "/settings") end
  return admin("POST", "/settings", opts)
end

function emu.health() return admin("GET", "/health") end

-- The emulator's clock, which every job's progress and every date it writes follow:
-- {now = date text, epoch = Unix seconds, offset = seconds ahead of the real clock, frozen = bool}.
-- Specs move it instead of sleeping; emu.reset() puts it back on the real clock.
function emu.clock() return admin("GET", "/clock") end

-- Moves the clock forward by seconds (jobs progress as if that time had passed); returns the clock.
function emu.advance(seconds) return admin("POST", "/clock", { advance = seconds }) end

-- Stops the clock (only emu.advance moves it then), or lets it run again (freeze false).
function emu.freeze(freeze)
  if freeze == nil then freeze = true end
  return admin("POST", "/clock", { freeze = freeze })
end

-- The emulated time in Unix seconds (a `now` for job:wait and friends).
function emu.now() return emu.clock().epoch end

-- Options that make a waiting loop (job:wait, the CLI's watch) wait on the emulator's clock: its
-- sleep advances the clock instead of sleeping, its now reads it. Extra fields are copied over.
function emu.clock_opts(extra)
  local o = { sleep = function(s) if s > 0 then emu.advance(s) end end, now = emu.now }
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

-- A service date-time ("2024-10-11T01:26:30.1343348Z", an offset, or no zone = UTC) as an integer
-- count of 100 ns ticks since 1970, so that dates compare correctly (their texts do not: trailing
-- zeros are trimmed). Returns nil for text that is not such a date.
-- Lua 5.1/5.2/LuaJIT have only doubles: exact for whole-millisecond instants (every date the
-- emulator makes) until the year 2400; a fixture's odd 100 ns digit may round by one tick.
local floor = math.floor
function emu.ticks(text)
  local y, mo, d, h, mi, sec, rest = tostring(text):match("^(%d+)%-(%d+)%-(%d+)T(%d+):(%d+):(%d+)(.*)$")
  if not y then return nil end
  local frac, zone = rest:match("^%.(%d+)(.*)$")
  if not frac then frac, zone = "", rest end
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  if mo <= 2 then y = y - 1 end
  -- floor(a / b), not a // b: the operator is a syntax error before Lua 5.3
  local era = floor(y / 400)
  local yoe = y - era * 400
  local doy = floor((153 * (mo > 2 and mo - 3 or mo + 9) + 2) / 5) + d - 1
  local days = era * 146097 + yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy - 719468
  local secs = days * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(sec)
  if zone ~= "" and zone ~= "Z" then
    local sign, oh, om = zone:match("^([+-])(%d%d):?(%d%d)$")
    if not sign then return nil end
    local off = tonumber(oh) * 3600 + tonumber(om) * 60
    secs = sign == "+" and secs - off or secs + off
  end
  return secs * 10000000 + (frac ~= "" and tonumber((frac .. "0000000"):sub(1, 7)) or 0)
end

-- Base paths of each API version: emu.base(version) .. "/batches" .. emu.q(version, "top=5")
emu.V1 = { "v1.0-preview.1", "v1.0", "v1.1" }
emu.V2024 = { "2024-05-01", "2024-11-01-preview", "2026-03-01" }
emu.VERSIONS = { "v1.0-preview.1", "v1.0", "v1.1", "2024-05-01", "2024-11-01-preview", "2026-03-01" }

function emu.is_v1(version) return version:sub(1, 1) == "v" end

function emu.base(version)
  if emu.is_v1(version) then return "/translator/text/batch/" .. version end
  return "/translator/document"
end

-- The query string for a version: the api-version where needed, plus the given parameters.
function emu.q(version, params)
  local parts = {}
  if params and params ~= "" then parts[#parts + 1] = params end
  if not emu.is_v1(version) then parts[#parts + 1] = "api-version=" .. version end
  if #parts == 0 then return "" end
  return "?" .. table.concat(parts, "&")
end

return emu
