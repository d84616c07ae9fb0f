-- Shared by spec/lifecycle: clients per API version, a start request, the request log by route,
-- and a LuaSocket loop that drives the sans-I/O ops (next_request / feed) like a Lua transport.
local H = require "core.helper"
local emu = H.emu
local http = require "socket.http"
local ltn12 = require "ltn12"

local L = { emu = emu, dt = H.dt, VERSIONS = H.VERSIONS }

function L.client(version, o)
  local opts = { api_version = version }
  for k, v in pairs(o or {}) do opts[k] = v end
  return H.client(opts)
end

function L.is_v1(version) return version:sub(1, 1) == "v" end

-- A valid start request; extra fields merged into the first input.
function L.request(extra)
  local input = {
    source = { sourceUrl = "https://acct.blob.core.windows.net/src?sv=2024&sig=SECRETSIG" },
    targets = { { targetUrl = "https://acct.blob.core.windows.net/fr?sig=SECRETSIG", language = "fr" } },
  }
  for k, v in pairs(extra or {}) do input[k] = v end
  return { inputs = { input } }
end

-- The service requests logged since seq (exclusive) for a route ("start", "job", "cancel", ...).
function L.log(route, since)
  local out = {}
  for _, r in ipairs(emu.requests(since)) do
    if route == nil or r.route == route then out[#out + 1] = r end
  end
  return out
end

-- The sequence number of the last logged request (0 when none).
function L.mark()
  local all = emu.requests()
  return #all > 0 and all[#all].seq or 0
end

-- One HTTP exchange over LuaSocket: a transport's request(req).
function L.send(req)
  local chunks = {}
  local headers = {}
  for k, v in pairs(req.headers) do headers[k] = v end
  local source
  if req.body then
    headers["Content-Length"] = tostring(#req.body)
    source = ltn12.source.string(req.body)
  end
  local _, code, h = http.request{ url = req.url, method = req.method, headers = headers, source = source,
    sink = ltn12.sink.table(chunks) }
  if type(code) ~= "number" then return nil, "network", tostring(code) end
  return { status = code, headers = h, body = table.concat(chunks) }
end

-- Drives an op or a listing from Lua until it needs nothing; returns the requests sent and the waits.
function L.drive(it)
  local sent, waits = {}, {}
  while true do
    local req = it:next_request()
    if req == nil then break end
    if req.wait then
      waits[#waits + 1] = req.wait
    else
      sent[#sent + 1] = req
      local res, kind, msg = L.send(req)
      if res then it:feed(res) else it:feed_error(kind, msg) end
    end
  end
  return sent, waits
end

L.header = H.header
return L
