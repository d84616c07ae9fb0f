-- A scripted HTTP server for spec/security, run as its own process: it answers the requests it
-- receives, in order, with raw responses given by the spec (bytes as they go on the wire, so a
-- spec can send what no well-behaved server sends: trailers, odd Retry-After values, links).
--
--   local S = require "security.scripted"
--   local srv = S.start{ raw1, raw2, ... }  -- the last one answers every later request
--   srv.url, srv.port; srv:requests() the raw request heads received; srv:stop()
--   S.response(status, headers, body)       -- a raw response with Content-Length
--   S.chunked(status, headers, body, trailers) -- a chunked one, with trailers
-- "{HOST}" in a response is replaced by the request's Host header, "{PORT}" by its port.
local listener = require "security.listener"

local S = {}

local SERVER = [=[
local socket = require "socket"
local port_file, log_file, script = arg[1], arg[2], arg[3]
local fh = assert(io.open(script, "rb")); local src = fh:read("*a"); fh:close()
local responses = assert((loadstring or load)(src))() -- luacheck: ignore (Lua 5.1 and LuaJIT)
local srv = assert(socket.bind("127.0.0.1", 0))
local _, port = srv:getsockname()
fh = assert(io.open(port_file .. ".tmp", "w")); fh:write(port); fh:close()
os.rename(port_file .. ".tmp", port_file)
srv:settimeout(1)
local n, idle_since = 0, socket.gettime()
while socket.gettime() - idle_since < 120 do
  local c = srv:accept()
  if c then
    idle_since = socket.gettime()
    c:settimeout(5)
    local lines = {}
    while true do
      local line = c:receive("*l")
      if not line or line == "" then break end
      lines[#lines + 1] = line
    end
    local log = io.open(log_file, "ab")
    log:write(table.concat(lines, "\n"), "\n\0\n")
    log:close()
    local host = ""
    for _, l in ipairs(lines) do host = l:match("^[Hh]ost:%s*(%S+)") or host end
    n = n + 1
    local r = responses[math.min(n, #responses)]
    local port = host:match(":(%d+)$") or ""
    local head, body = r:match("^(.-\r\n\r\n)(.*)$")
    if head and head:find("Content-Length:", 1, true) then
      -- the placeholders may change the body's length: Content-Length follows
      body = body:gsub("{HOST}", host):gsub("{PORT}", port)
      head = head:gsub("{HOST}", host):gsub("{PORT}", port):gsub("Content%-Length: %d+", "Content-Length: " .. #body)
      r = head .. body
    else
      r = r:gsub("{HOST}", host):gsub("{PORT}", port)
    end
    c:send(r)
    c:close()
  end
end
]=]

function S.response(status, headers, body)
  body = body or ""
  local out = { "HTTP/1.1 " .. status .. "\r\n" }
  for _, h in ipairs(headers or {}) do out[#out + 1] = h .. "\r\n" end
  out[#out + 1] = "Content-Length: " .. #body .. "\r\nConnection: close\r\n\r\n"
  return table.concat(out) .. body
end

function S.chunked(status, headers, body, trailers)
  local out = { "HTTP/1.1 " .. status .. "\r\n" }
  for _, h in ipairs(headers or {}) do out[#out + 1] = h .. "\r\n" end
  out[#out + 1] = "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
  if #body > 0 then out[#out + 1] = string.format("%x\r\n%s\r\n", #body, body) end
  out[#out + 1] = "0\r\n"
  for _, t in ipairs(trailers or {}) do out[#out + 1] = t .. "\r\n" end
  out[#out + 1] = "\r\n"
  return table.concat(out)
end

local function quote(s) return string.format("%q", s) end

function S.start(responses)
  local parts = {}
  for i, r in ipairs(responses) do parts[i] = quote(r) end
  return listener.spawn(SERVER, { ["responses.lua"] = "return {" .. table.concat(parts, ",\n") .. "}\n" },
                        { "responses.lua" }, "the scripted server", "scripted-key-0123456789")
end

-- What the specs of scripted servers share: a JSON content type, a running and an ended job j1,
-- a 503 body, the waits of the core's retries (from its log lines), and the usage-error check.
S.JSON = { "Content-Type: application/json" }
S.RUNNING = '{"id":"j1","status":"Running","createdDateTimeUtc":"2024-10-11T01:26:30Z"}'
S.DONE = '{"id":"j1","status":"Succeeded","createdDateTimeUtc":"2024-10-11T01:26:30Z"}'
S.BUSY = '{"error":{"code":"ServiceUnavailable","message":"busy"}}'

function S.retry_waits(srv, o)
  local waits = {}
  local opts = { retries = 1, retry_base = 0.01, log = function(_, m)
    local w = m:match("^retry %d+ of %d+ in ([%d.]+) s")
    if w then waits[#waits + 1] = tonumber(w) end
  end }
  for k, v in pairs(o or {}) do opts[k] = v end
  local job, err = srv:client(opts):job("j1")
  return waits, job, err
end

-- f() must raise the module's usage error: a string at the caller's line, as luaL_argerror's
-- (spec/support/usage.lua); { kind = "usage", message =, where = }.
function S.usage_of(f)
  local ok, err = pcall(f)
  if ok then error("no error", 2) end
  local parsed, e = pcall(require("support.usage").of, err)
  if not parsed then error(e, 2) end
  return e
end

return S
