-- The plain Lua peer: the loop a Lua user writes today without doctranslate,
-- with what Debian ships for Lua 5.4: LuaSocket + LuaSec for HTTPS and
-- lua-cjson for the body.  (Debian's lua-curl is built for 5.1/5.2 only.)
-- LuaSocket's http client closes the connection after every request, so this
-- peer also shows the cost of a TCP and TLS handshake per page.
--
--   lua5.4 bench/plain_lua.lua ENDPOINT KEY JOB_ID CA_FILE [IDS_FILE]
--
-- Prints: docs= distinct=-1 chars= requests= connects=-1 bytes= listing_s=
local https = require "ssl.https"
local ltn12 = require "ltn12"
local cjson = require "cjson"
local socket = require "socket"

local endpoint, key, job_id, ca_file, ids_file = ...
if not (endpoint and key and job_id and ca_file) then
  io.stderr:write("usage: lua5.4 plain_lua.lua ENDPOINT KEY JOB_ID CA_FILE [IDS_FILE]\n")
  os.exit(2)
end
endpoint = endpoint:gsub("/+$", "")
local origin = endpoint:match("^(https?://[^/]+)")

local started = socket.gettime()
local out = ids_file and assert(io.open(ids_file, "w"))
local url = endpoint .. "/translator/document/batches/" .. job_id
  .. "/documents?api-version=2024-05-01&maxpagesize=100"
local docs, chars, requests, bytes = 0, 0, 0, 0

while url do
  local chunks = {}
  local ok, code = https.request{
    url = url,
    headers = { ["Ocp-Apim-Subscription-Key"] = key, ["Accept"] = "application/json" },
    sink = ltn12.sink.table(chunks),
    cafile = ca_file,
    verify = "peer",
  }
  requests = requests + 1
  local body = table.concat(chunks)
  if not ok or code ~= 200 then
    io.stderr:write(("plain_lua: %s %s\n%s\n"):format(tostring(code), url, body:sub(1, 500)))
    os.exit(1)
  end
  bytes = bytes + #body
  local page = cjson.decode(body)
  for _, doc in ipairs(page.value) do
    local id, status = doc.id, doc.status
    assert(status, "document without status")
    chars = chars + doc.characterCharged
    docs = docs + 1
    if out then out:write(id, "\n") end
  end
  local link = page.nextLink or page["@nextLink"]
  if link == nil or link == cjson.null or link == "" then
    url = nil
  elseif link:sub(1, 1) == "/" then
    url = origin .. link
  else
    url = link
  end
  if url and not url:find("api-version=", 1, true) then
    url = url .. (url:find("?", 1, true) and "&" or "?") .. "api-version=2024-05-01"
  end
end

if out then out:close() end
io.write(("docs=%d distinct=-1 chars=%d requests=%d connects=-1 bytes=%d listing_s=%.6f\n")
  :format(docs, chars, requests, bytes, socket.gettime() - started))
