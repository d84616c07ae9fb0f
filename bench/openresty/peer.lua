--- bench/openresty: the peer, the listing loop an OpenResty user writes by hand.
--
-- A cosocket per page taken from a keepalive pool (HTTP/1.1, TLS verified
-- against lua_ssl_trusted_certificate on a new connection), the key header,
-- cjson.decode of every page, following `@nextLink` (or `nextLink`) to the
-- end. No retries, no pacing: what the listing costs without a library.
-- luacheck: globals ngx
local cjson = require "cjson"

local P = {}

local tcp = ngx.socket.tcp
local POOL_SIZE = 256

local function split(url)
  local scheme, host, port, rest = url:match("^(https?)://([^:/]+):?(%d*)(.*)$")
  port = tonumber(port) or (scheme == "https" and 443 or 80)
  return scheme, host, port, rest
end

-- One GET: the body, or nil and an error.
local function get(scheme, host, port, target, key)
  local sock = tcp()
  sock:settimeouts(10000, 30000, 30000)
  local ok, err = sock:connect(host, port, { pool = "peer|" .. scheme .. "|" .. host .. ":" .. port,
                                             pool_size = POOL_SIZE })
  if not ok then return nil, "connect: " .. tostring(err) end
  if scheme == "https" and sock:getreusedtimes() == 0 then
    ok, err = sock:sslhandshake(nil, nil, true)
    if not ok then sock:close() return nil, "handshake: " .. tostring(err) end
  end
  ok, err = sock:send("GET " .. target .. " HTTP/1.1\r\nHost: " .. host .. ":" .. port
    .. "\r\nOcp-Apim-Subscription-Key: " .. key .. "\r\nAccept: application/json\r\n\r\n")
  if not ok then sock:close() return nil, "send: " .. tostring(err) end
  local line
  line, err = sock:receive("*l")
  if not line then sock:close() return nil, "status line: " .. tostring(err) end
  local status = tonumber(line:match("^HTTP/1%.%d (%d%d%d)"))
  local length, chunked, close
  while true do
    local h
    h, err = sock:receive("*l")
    if not h then sock:close() return nil, "headers: " .. tostring(err) end
    if h == "" then break end
    local name, value = h:match("^([^:]+):%s*(.-)%s*$")
    name = name and name:lower()
    if name == "content-length" then length = tonumber(value)
    elseif name == "transfer-encoding" then chunked = value:lower():find("chunked", 1, true) ~= nil
    elseif name == "connection" then close = value:lower() == "close" end
  end
  local body
  if chunked then
    local parts = {}
    while true do
      local size
      size, err = sock:receive("*l")
      if not size then sock:close() return nil, "chunk: " .. tostring(err) end
      size = tonumber(size:match("^%x+"), 16)
      if not size then sock:close() return nil, "bad chunk size" end
      if size == 0 then
        repeat line = sock:receive("*l") until not line or line == ""
        break
      end
      parts[#parts + 1], err = sock:receive(size)
      if not parts[#parts] then sock:close() return nil, "chunk body: " .. tostring(err) end
      sock:receive(2)
    end
    body = table.concat(parts)
  elseif length then
    body, err = sock:receive(length)
    if not body then sock:close() return nil, "body: " .. tostring(err) end
  else
    body = sock:receive("*a")
    close = true
  end
  if close then sock:close() else sock:setkeepalive(60000, POOL_SIZE) end
  if status ~= 200 then return nil, "status " .. tostring(status) end
  return body
end

--- Lists every document of the job: the count, or nil and an error.
function P.count(endpoint, key, job_id, api_version)
  local scheme, host, port, base = split(endpoint)
  local target = base .. "/translator/document/batches/" .. job_id .. "/documents?api-version=" .. api_version
  local count = 0
  while target do
    local body, err = get(scheme, host, port, target, key)
    if not body then return nil, err end
    local page = cjson.decode(body)
    count = count + #page.value
    local link = page["@nextLink"] or page.nextLink
    target = link and select(4, split(link))
  end
  return count
end

return P
