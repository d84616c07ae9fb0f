-- A second, hostile HTTP server for spec/security, run as its own process (a blocking libcurl
-- client in the spec's process could not be answered by a server in that same process).
--
--   local L = require "security.listener"
--   local srv = L.start()          -- srv.port, srv.url; every request it receives is logged
--   srv:requests()                 -- the raw requests received so far (strings)
--   srv:stop()
--
-- What it answers depends on the request path (the job id a client asks for):
--   .../huge-header   200 with one 200 KiB header        .../deep        JSON nested 10,000 deep
--   .../many-headers  200 with 100 headers of 1 KiB
--   .../long-string   a job whose id is 8 MiB long       .../trickle     1 byte a second
--   .../numeric-link/documents  "@nextLink": 7          .../no-id/documents  items without an "id"
--   .../redirect-to-<port>  302 to 127.0.0.1:<port>    .../dup-listing/documents  3 pages, a repeat
--                                                      two pages apart      otherwise       404 with a service error
--   .../tricky/documents    a page of one document with escapes, surrogates, odd numbers, repeated
--                           names, nested objects; .../tricky/documents/<id>: that document alone
--   .../deep-page/documents a document with a member nested 100 deep
--   .../long-page/documents a document with a 2 MiB string
--   .../strict-<nan|inf|neginf|bigint|negbigint>  a job (or .../documents/<id>: a document) whose
--                           member "x" is NaN, Infinity, -Infinity or a 30-digit integer
local L = {}

local SERVER = [=[
local socket = require "socket"
local port_file, log_file = arg[1], arg[2]
local srv = assert(socket.bind("127.0.0.1", 0))
local _, port = srv:getsockname()
local fh = assert(io.open(port_file .. ".tmp", "w")); fh:write(port); fh:close()
os.rename(port_file .. ".tmp", port_file)
-- one document that exercises every corner of the page reader (read as an element of a page and
-- as the root of its own body: the Lua values must be the same)
local TRICKY = '{"id":"t\\u00e9\\ud83d\\ude00","status":"Failed","to":"fr","progress":0.5,' ..
  '"characterCharged":9007199254740993,"big":99999999999999999999,"small":-99999999999999999999,' ..
  '"neg":-0,"exp":1E2,"frac":-0.25e-1,"esc":"a\\"b\\\\c\\/d\\n\\t\\u0000e","lone":"\\ud800x\\udc00",' ..
  '"flag":true,"off":false,"nothing":null,"arr":[1,"two",null,{"k":[]},[[]]],' ..
  '"error":{"code":"X","message":"m","innerError":{"code":"Y","message":"n","k":1,"k":null}},' ..
  '"dup":1,"dup":2,"k\\u0000cut":3,"createdDateTimeUtc":"2024-10-11T01:26:30.1343348Z",' ..
  '"sp\\u0061ced" : [ 1 , { "a" : "b" } ] ,"path":"https://x/a%20b.txt?sig=abc"}'
local function answer(c, status, headers, body)
  local out = { "HTTP/1.1 " .. status .. "\r\n" }
  for _, h in ipairs(headers) do out[#out + 1] = h .. "\r\n" end
  out[#out + 1] = "Content-Length: " .. #body .. "\r\nConnection: close\r\n\r\n"
  c:send(table.concat(out) .. body)
end
-- it ends by itself after 300 s without a request, should the spec that started it die first
srv:settimeout(1)
local idle_since = socket.gettime()
while socket.gettime() - idle_since < 300 do
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
    local log = io.open(log_file, "a")
    log:write(table.concat(lines, "\n"), "\n\0\n")
    log:close()
    local path = (lines[1] or ""):match("^%S+%s+(%S+)") or ""
    local json = { "Content-Type: application/json", "apim-request-id: 11111111-2222-4333-8444-555555555555" }
    if path:find("tricky/documents/", 1, true) then
      answer(c, "200 OK", json, TRICKY)
    elseif path:find("tricky/documents", 1, true) then
      answer(c, "200 OK", json, '{"value":[' .. TRICKY .. '],"nextLink":null}')
    elseif path:find("deep%-page/documents") then
      answer(c, "200 OK", json, '{"value":[{"id":"deep","x":' .. string.rep("[", 100) .. "1" ..
                                string.rep("]", 100) .. "}]}")
    elseif path:find("long%-page/documents") then
      answer(c, "200 OK", json, '{"value":[{"id":"long","x":"' .. string.rep("s", 2 * 1024 * 1024) .. '"}]}')
    elseif path:find("strict%-%a+") then
      -- one job or document with a number outside RFC 8259, or an integer past int64
      local x = ({ nan = "NaN", inf = "Infinity", neginf = "-Infinity",
                   bigint = "123456789012345678901234567890",
                   negbigint = "-123456789012345678901234567890" })[path:match("strict%-(%a+)")]
      answer(c, "200 OK", json, '{"id":"s1","status":"Running","x":' .. (x or "null") .. "}")
    elseif path:find("huge%-header") then
      local h = { "Content-Type: application/json", "X-Padding: " .. string.rep("p", 200 * 1024) }
      answer(c, "200 OK", h, '{"id":"x","status":"Running"}')
    elseif path:find("many%-headers") then
      local h = { "Content-Type: application/json" }
      for i = 1, 100 do h[#h + 1] = "X-Padding-" .. i .. ": " .. string.rep("p", 1024) end
      answer(c, "200 OK", h, '{"id":"x","status":"Running"}')
    elseif path:find("deep") then
      answer(c, "200 OK", json, '{"id":"x","status":"Running","x":' .. string.rep("[", 10000) ..
                                string.rep("]", 10000) .. "}")
    elseif path:find("long%-string") then
      answer(c, "200 OK", json, '{"id":"' .. string.rep("i", 8 * 1024 * 1024) .. '","status":"Running"}')
    elseif path:find("trickle") then
      local body = '{"id":"trickle","status":"Running"}'
      c:send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " .. #body ..
             "\r\nConnection: close\r\n\r\n")
      for i = 1, #body do
        if not c:send(body:sub(i, i)) then break end
        socket.sleep(1)
      end
    elseif path:find("numeric%-link/documents") then
      -- a next link that is not a string: the listing must not just end there
      answer(c, "200 OK", json, '{"value":[{"id":"n0","status":"Succeeded"}],"@nextLink":7}')
    elseif path:find("no%-id/documents") then
      -- items that are not documents (no "id" string) after one that is
      answer(c, "200 OK", json, '{"value":[{"id":"k0","status":"Succeeded"},1,"x",{}]}')
    elseif path:find("dup%-listing/documents") then
      -- pages of two documents; the third repeats the first page's first document, with next links
      -- at the right offsets (a repeat the previous page alone does not show)
      local skip = tonumber(path:match("[?&]skip=(%d+)")) or 0
      local host = ""
      for _, l in ipairs(lines) do host = l:match("^[Hh]ost:%s*(%S+)") or host end
      local ids = ({ [0] = { "d0", "d1" }, [2] = { "d2", "d3" }, [4] = { "d0", "d4" } })[skip] or {}
      local items = {}
      for i, id in ipairs(ids) do
        items[i] = '{"id":"' .. id .. '","status":"Succeeded","path":"p","sourcePath":"s","to":"fr"}'
      end
      local next_link = skip < 4 and (',"@nextLink":"http://' .. host .. path:gsub("%?.*$", "") .. "?skip=" ..
                                      (skip + 2) .. '&api-version=2026-03-01"') or ""
      answer(c, "200 OK", json, '{"value":[' .. table.concat(items, ",") .. "]" .. next_link .. "}")
    elseif path:find("redirect%-to%-%d+") then
      local to = path:match("redirect%-to%-(%d+)")
      answer(c, "302 Found", { "Location: http://127.0.0.1:" .. to .. "/stolen" }, "")
    else
      answer(c, "404 Not Found", json, '{"error":{"code":"NotHere","message":"the other listener"}}')
    end
    c:close()
  end
end
]=]

local function read(path)
  local fh = io.open(path, "rb")
  if not fh then return nil end
  local s = fh:read("*a")
  fh:close()
  return s
end

local Srv = {}
Srv.__index = Srv

-- Runs the Lua server source (it has LuaSocket) in a folder of its own: it is given the file to
-- write its port to, its request log and args (names of files, written first from files); waits
-- until it listens. what names it when it does not start; key is the key its clients send.
function L.spawn(source, files, args, what, key, lua)
  lua = lua or os.getenv("DT_SPEC_LUA") or (rawget(_G, "jit") and "luajit") or ("lua" .. _VERSION:match("%d+%.%d+"))
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p '" .. dir .. "'"))
  files = files or {}
  files["server.lua"] = source
  for name, text in pairs(files) do
    local fh = assert(io.open(dir .. "/" .. name, "wb"))
    fh:write(text)
    fh:close()
  end
  local self = setmetatable({ dir = dir, log = dir .. "/requests.log", key = key }, Srv)
  local extra = {}
  for i, name in ipairs(args or {}) do extra[i] = "'" .. dir .. "/" .. name .. "'" end
  local cmd = string.format("%s '%s/server.lua' '%s/port' '%s' %s >'%s/stderr' 2>&1 & echo $!",
                            lua, dir, dir, self.log, table.concat(extra, " "), dir)
  local p = assert(io.popen(cmd))
  self.pid = tonumber(p:read("*l"))
  p:close()
  local socket = require "socket"
  local deadline = socket.gettime() + 10
  while not read(dir .. "/port") do
    assert(socket.gettime() < deadline, what .. " did not start: " .. tostring(read(dir .. "/stderr")))
    socket.sleep(0.02)
  end
  self.port = tonumber(read(dir .. "/port"))
  self.url = "http://127.0.0.1:" .. self.port
  return self
end

function L.start(lua)
  return L.spawn(SERVER, nil, nil, "the listener", "k", lua)
end

function Srv:requests()
  local out = {}
  for r in (read(self.log) or ""):gmatch("(.-)\n%z\n") do out[#out + 1] = r end
  return out
end

-- The request lines ("GET /path HTTP/1.1") received so far.
function Srv:targets()
  local out = {}
  for _, r in ipairs(self:requests()) do out[#out + 1] = r:match("^%S+ (%S+)") end
  return out
end

-- A client of this server: no retries, a 5 s timeout; o adds or overrides options.
function Srv:client(o)
  local opts = { endpoint = self.url, key = self.key, retries = 0, timeout = 5 }
  for k, v in pairs(o or {}) do opts[k] = v end
  return require("doctranslate").new(opts)
end

function Srv:stop()
  if self.pid then os.execute("kill " .. self.pid .. " 2>/dev/null") end
  self.pid = nil
  os.execute("rm -rf '" .. self.dir .. "'")
end

return L
