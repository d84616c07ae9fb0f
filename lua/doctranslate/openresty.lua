--- doctranslate.openresty: the OpenResty transport (nginx cosockets).
--
-- Moves the bytes of the requests that the C state machine builds, with
-- ngx.socket.tcp: HTTP/1.1 over a per-origin keepalive pool, TLS through
-- sslhandshake with verification, the client's timeouts, a body size cap, and
-- retry waits with ngx.sleep. It never blocks the nginx worker: every wait is
-- a cosocket yield. doctranslate.driver selects it (dt.new{ transport =
-- "openresty" }, or automatically when `ngx` is present) and drives the core.
--
-- What nginx.conf needs (see examples/nginx.conf):
--   `lua_package_cpath`   the LuaJIT build of doctranslate/core.so (make openresty-core)
--   resolver            for an endpoint given by host name ("localhost" is taken as 127.0.0.1)
--   `lua_ssl_trusted_certificate`  the CAs that verify the service. Cosockets verify
--                       against this file only: the client's `ca_file` cannot be applied
--                       per connection (it only separates keepalive pools). For Azure:
--                       /etc/ssl/certs/ca-certificates.crt.
--   `lua_ssl_verify_depth`  at least the chain's length (Azure: 3 or more; nginx's default is 1)
-- The certificate's chain is always verified (unless `insecure = true`); its
-- name is checked against a host name endpoint (nginx's check knows DNS names,
-- not IP addresses: for an IP address endpoint only the chain is verified).
-- `insecure = true` skips both, as with libcurl.
--
-- The shared status cache (dt.new{ cache = ngx.shared.NAME, cache_ttl =, cache_terminal_ttl = }):
-- doctranslate.cache answers a job's or a document's status from a lua_shared_dict and
-- coalesces the workers' reads; see docs/openresty-cache.md.
--
-- Transport options (dt.new): `keepalive_timeout` (seconds idle in the pool,
-- default 60), `keepalive_pool_size` (connections kept per origin and worker,
-- default 32) and pace (seconds of parsing per event-loop iteration before
-- the driver yields with ngx.sleep, default 0.001; false: never). A proxy is
-- not supported here (usage error).
--
-- The interface the driver uses:
--   t:check()          raises a usage error outside a phase that allows cosockets
--   t:process()        an id of the current process (the nginx worker's pid)
--   t:sleep(s)         ngx.sleep
--   t:pace()           yields when this loop iteration has worked long enough
--   t:now()            a monotonic clock (seconds)
--   t:request(req)     -> { status =, headers =, body = } or nil, kind, message
--                         (req.timeout, when set: seconds left of the deadline); a
--                         translation (req.parts) streams its files, writes a 2xx answer
--                         to req.output when set and answers { status, headers, size },
--                         and a failure after its body began adds a fourth value, true
--   t:stats()          -> { requests =, connections = } of this worker
-- luacheck: read globals ngx

local M = {}

local DEFAULTS = require("doctranslate.core").DEFAULTS -- the libcurl client's, one source

local tcp = ngx.socket.tcp
local sleep = ngx.sleep
local ngx_now = ngx.now
local concat, floor, min = table.concat, math.floor, math.min
local find, sub, lower, byte = string.find, string.sub, string.lower, string.byte
local running = coroutine.running
-- the coroutines that waited (a request, a sleep) since their last turn of pace()
local waited = setmetatable({}, { __mode = "k" })

-- A monotonic clock that leaves nginx's time cache alone (ngx.update_time
-- would refresh it for the whole worker and blur pace()'s view of the loop):
-- the core's, the one its libcurl runner and job:wait use.
local mono = require("doctranslate.core").monotonic
M.clock = mono

local READ_CHUNK = 64 * 1024
local multipart, send_pieces, read_answer -- a translation's body and answer (below)

-- Phases where cosockets and ngx.sleep are available.
local COSOCKET_PHASES = {
  rewrite = true, server_rewrite = true, access = true, content = true, timer = true,
  ssl_cert = true, ssl_session_fetch = true, ssl_client_hello = true, preread = true,
}
M.COSOCKET_PHASES = COSOCKET_PHASES

local Transport = {}
Transport.__index = Transport

--- conf: the client's options (timeout, `connect_timeout`, `max_body`, `max_headers`,
-- insecure, `ca_file`, `keepalive_timeout`, `keepalive_pool_size`, pace). usage(msg) raises.
function M.new(conf, usage)
  if conf.proxy ~= nil then
    usage("bad option 'proxy': not supported by the openresty transport (cosockets connect directly)")
  end
  local self = setmetatable({
    connect_ms = floor((conf.connect_timeout or DEFAULTS.connect_timeout) * 1000 + 0.5),
    timeout = conf.timeout or DEFAULTS.timeout,
    max_body = conf.max_body or DEFAULTS.max_body,
    max_headers = conf.max_headers or DEFAULTS.max_headers,
    verify = conf.insecure ~= true,
    ca_file = conf.ca_file,
    keepalive_ms = floor((conf.keepalive_timeout or 60) * 1000 + 0.5),
    pool_size = conf.keepalive_pool_size or 32,
    pace_s = conf.pace == nil and 0.001 or conf.pace,
    sessions = {},      -- TLS sessions per pool, for faster new handshakes
    requests = 0,
    connections = 0,
    usage = usage,
  }, Transport)
  if conf.cache ~= nil then self.cache = require("doctranslate.cache").new(conf, usage, mono) end
  return self
end

function Transport:check()
  local phase = ngx.get_phase()
  if not COSOCKET_PHASES[phase] then
    self.usage("the openresty transport cannot make a request in nginx's " .. tostring(phase)
      .. " phase: cosockets are not available there (use it from a rewrite, access, content or"
      .. " timer handler; from init_worker_by_lua*, start an ngx.timer.at(0, ...)); it does not"
      .. " fall back to blocking libcurl")
  end
end

function Transport.process()
  return ngx.worker.pid()
end

function Transport.sleep(_, seconds)
  if seconds and seconds > 0 then
    waited[running()] = true
    sleep(seconds)
  end
end

Transport.now = mono

-- Pacing: the worker's event loop gets control back after `pace` seconds of
-- work in one loop iteration, so that a burst of pages that land together
-- (hundreds of listings waiting on the same slow service) is parsed over
-- several iterations instead of holding up every other request. nginx's
-- cached time (ngx.now) changes once per iteration: it marks the window.
--
-- The budget is the worker's, and the turns are handed out first come, first
-- served: a coroutine that finds the window spent (or others already waiting)
-- joins a FIFO queue (an ngx.semaphore) and runs when its turn comes, once,
-- without checking again. A pump (a 1 ms ngx.timer) opens the window of a
-- later iteration and wakes the first waiter; each one woken wakes the next
-- while the window lasts (overshoot: one turn of work), else schedules the
-- pump again. Without the queue, a coroutine woken from its sleep had to find
-- budget left, but nginx runs the handlers of ready sockets before expiring
-- timers: under load the coroutines resumed by their responses spent every
-- window first, and a sleeper slept again, behind the newcomers, for as many
-- iterations as luck had it (a listing among 32 waited up to hundreds of
-- times: a p99 several times the unpaced loop's).
--
-- The 1 ms timer resumes in a later iteration as long as nothing calls
-- ngx.update_time() meanwhile: that moves nginx's timer clock within the
-- iteration, and timers then fire in the same one. This module never calls it
-- (its clock is the core's clock_gettime). Where ngx.semaphore is missing
-- (no lua-resty-core), pace() sleeps 1 ms until it finds budget left.
local window_tick, window_start = nil, 0
local seen_tick, seen_start = nil, 0 -- the first pace() of an iteration (ms of nginx's clock)
local queue -- ngx.semaphore: the coroutines waiting for a turn, in order (made in a worker)
local pump_pending = false
local budget_now = 0.001 -- the pace of the latest coroutine that queued
local handed_at = nil -- mono() when a turn was handed to a waiter that has not taken it yet

local function hand_over()
  handed_at = mono()
  queue:post(1)
end
local QUEUE_WAIT = 300 -- seconds a turn may take to come before it is taken anyway

local function make_queue()
  local ok, semaphore = pcall(require, "ngx.semaphore")
  local sema = ok and type(semaphore) == "table" and semaphore.new and semaphore.new(0)
  queue = sema or false
  return queue
end

local schedule_pump

-- next: the pump was scheduled from a semaphore's wake-up (nginx's posted
-- events, which run after the timers of an iteration): its 0 ms timer fires
-- in the next iteration, after the event loop has polled the sockets.
local function pump(premature, next)
  pump_pending = false
  local n = queue:count()
  if premature then -- the worker is exiting: everyone runs
    if n < 0 then queue:post(-n) end
    return
  end
  local tick = ngx_now()
  if next or tick ~= window_tick then
    -- a later iteration: a new window, from the first turn that came in it
    -- (the work of the sockets, earlier in the iteration, counts)
    window_tick, window_start = tick, seen_tick == tick and seen_start or mono()
  elseif mono() - window_start >= budget_now then
    -- maybe still the iteration that spent the window: wait for a later one
    schedule_pump(false, 0.001)
    return
  end
  if n < 0 then hand_over() end
end

schedule_pump = function(next, delay)
  if pump_pending then return end
  if ngx.timer.at(delay or 0, pump, next) then
    pump_pending = true
  else
    queue:post(1) -- no timer to be had (lua_max_pending_timers): no waiter is left behind
  end
end

local function turn(budget)
  local tick = ngx_now()
  if tick ~= seen_tick then seen_tick, seen_start = tick, mono() end
  if queue == nil then make_queue() end
  if not queue then
    while true do
      local now, t = ngx_now(), mono()
      if now ~= window_tick then
        window_tick, window_start = now, t
        return
      end
      if t - window_start < budget then return end
      sleep(0.001)
    end
  end
  if queue:count() == 0 and not handed_at then
    -- nobody waits: run while this iteration's window lasts
    if tick ~= window_tick then
      window_tick, window_start = tick, mono()
      return
    end
    if mono() - window_start < budget then return end
  end
  budget_now = budget
  -- the turns go round already when a pump is due or a turn is being handed
  -- over (unless that waiter vanished: its request was aborted)
  if not (handed_at and mono() - handed_at < 0.5) then schedule_pump(false) end
  pcall(queue.wait, queue, QUEUE_WAIT)
  -- this coroutine's turn (or a timeout, or an error of a phase without
  -- semaphores: it runs in any case); the next one's follows if time is left
  handed_at = nil
  if queue:count() < 0 then
    if mono() - window_start < budget then
      hand_over()
    else
      schedule_pump(true)
    end
  end
end

function Transport:pace()
  local budget = self.pace_s
  if not budget then return end
  local co = running()
  if not waited[co] then return end -- one turn: a page from its answer to the next request
  waited[co] = nil
  turn(budget)
end

function Transport:stats()
  local s = { requests = self.requests, connections = self.connections }
  if self.cache then s.cache = self.cache:stats() end
  return s
end

-- URL -> scheme, host (as written, brackets kept), port, authority, path+query.
local function split_url(url)
  local scheme, authority, rest = url:match("^(%a[%w+.-]*)://([^/?#]+)(.*)$")
  if not scheme then return nil end
  scheme = lower(scheme)
  if scheme ~= "http" and scheme ~= "https" then return nil end
  local host, port
  if byte(authority, 1) == 91 then -- "[" IPv6 literal
    host, port = authority:match("^(%[[^%]]+%]):?(%d*)$")
  else
    host, port = authority:match("^([^:@]+):?(%d*)$")
  end
  if not host then return nil end
  port = tonumber(port) or (scheme == "https" and 443 or 80)
  if port < 1 or port > 65535 then return nil end
  rest = rest:gsub("#.*$", "")
  if rest == "" then rest = "/" elseif byte(rest, 1) == 63 then rest = "/" .. rest end
  return scheme, host, port, authority, rest
end
M.split_url = split_url

local function is_ip(host)
  return host:match("^%d+%.%d+%.%d+%.%d+$") ~= nil or byte(host, 1) == 91
end

-- A buffered reader over a cosocket with one deadline for the whole answer.
local Reader = {}
Reader.__index = Reader

local function new_reader(sock, deadline, max_headers, pace)
  return setmetatable({ sock = sock, deadline = deadline, buf = "", got_any = false, max_headers = max_headers,
                        pace = pace }, Reader)
end

-- Reads what is available (up to max bytes); nil, kind, message on failure.
function Reader:more(max)
  local left = self.deadline - mono()
  if left <= 0 then return nil, "timeout", "timed out while reading the response" end
  self.sock:settimeout(floor(left * 1000) + 1)
  local data, err = self.sock:receiveany(max)
  if not data then
    if err == "timeout" then return nil, "timeout", "timed out while reading the response" end
    return nil, "network", err
  end
  if not self.got_any and self.pace then
    -- the answer's first bytes: its turn starts here, so that the reading of
    -- a burst of answers that land together is paced as well
    local co = running()
    if waited[co] then
      waited[co] = nil
      turn(self.pace)
    end
  end
  self.got_any = true
  return data
end

-- One line without its CRLF (or LF); cap: bytes allowed for it.
function Reader:line(cap, what)
  while true do
    local buf = self.buf
    local e = find(buf, "\n", 1, true)
    if e then
      self.buf = sub(buf, e + 1)
      local stop = (e > 1 and byte(buf, e - 1) == 13) and e - 2 or e - 1
      return sub(buf, 1, stop)
    end
    if #buf > cap then
      return nil, "protocol", what or ("the response headers exceed the cap of " .. self.max_headers .. " bytes")
    end
    local data, kind, msg = self:more(READ_CHUNK)
    if not data then return nil, kind, msg end
    self.buf = buf .. data
  end
end

-- Exactly n bytes (appended to parts); never reads past them.
function Reader:take(n, parts)
  local buf = self.buf
  if #buf >= n then
    parts[#parts + 1] = sub(buf, 1, n)
    self.buf = sub(buf, n + 1)
    return true
  end
  if #buf > 0 then parts[#parts + 1] = buf end
  self.buf = ""
  local have = #buf
  while have < n do
    local data, kind, msg = self:more(min(READ_CHUNK, n - have))
    if not data then return nil, kind, msg, have end
    parts[#parts + 1] = data
    have = have + #data
  end
  return true
end

-- Everything up to the peer's close (an answer without length), capped.
function Reader:rest(parts, cap)
  local have = #self.buf
  if have > 0 then parts[#parts + 1] = self.buf end
  self.buf = ""
  while true do
    if have > cap then return nil, "protocol", "the response body exceeds the cap of " .. cap .. " bytes" end
    local data, kind, msg = self:more(READ_CHUNK)
    if not data then
      if kind == "network" and msg == "closed" then return true end
      return nil, kind, msg
    end
    parts[#parts + 1] = data
    have = have + #data
  end
end

local function header_list(headers)
  local v = headers
  if type(v) == "table" then v = v[#v] end
  return v
end

-- Reads the status line and headers (skipping 1xx answers).
local function read_head(r)
  local used, max = 0, r.max_headers
  while true do
    local line, kind, msg = r:line(max - used)
    if not line then return nil, kind, msg end
    local major, minor, status = line:match("^HTTP/(%d)%.(%d) (%d%d%d)")
    if not status then
      return nil, "protocol", "not an HTTP/1.x status line from the server"
    end
    status = tonumber(status)
    local headers, last = {}, nil
    used = used + #line
    while true do
      local h
      h, kind, msg = r:line(max - used)
      if not h then return nil, kind, msg end
      used = used + #h + 2
      if used > max then
        return nil, "protocol", "the response headers exceed the cap of " .. max .. " bytes"
      end
      if h == "" then break end
      local c1 = byte(h, 1)
      if (c1 == 32 or c1 == 9) and last then -- obsolete line folding
        local v = headers[last]
        if type(v) == "table" then v[#v] = v[#v] .. " " .. h:match("^%s*(.-)%s*$")
        else headers[last] = v .. " " .. h:match("^%s*(.-)%s*$") end
      else
        local name, value = h:match("^([^:%s]+):%s*(.-)%s*$")
        if not name then return nil, "protocol", "a malformed response header line" end
        name = lower(name)
        local old = headers[name]
        if old == nil then
          headers[name] = value
        elseif type(old) == "table" then
          old[#old + 1] = value
        else
          headers[name] = { old, value }
        end
        last = name
      end
    end
    if status >= 200 or status < 100 then
      return status, headers, tonumber(major) * 10 + tonumber(minor)
    end
    if status == 101 then return nil, "protocol", "unexpected 101 Switching Protocols" end
    -- 100 Continue, 103 Early Hints: the real answer follows
  end
end

local function has_token(v, token)
  if v == nil then return false end
  if type(v) == "table" then v = concat(v, ",") end
  for item in lower(v):gmatch("[^,%s]+") do
    if item == token then return true end
  end
  return false
end

-- Reads the body of a GET answer. Returns body, reusable or nil, kind, message.
-- sink: a table whose __newindex takes each piece (read_answer), else the
-- pieces are gathered and joined.
local function read_body(r, status, headers, version, cap, sink)
  local parts = sink or {}
  local keep = version >= 11 and not has_token(headers["connection"], "close")
    or version == 10 and has_token(headers["connection"], "keep-alive")
  if status == 204 or status == 304 then return "", keep end
  if has_token(headers["transfer-encoding"], "chunked") then
    local total = 0
    while true do
      local line, kind, msg = r:line(1024, "a chunk size line over 1024 bytes")
      if not line then return nil, kind, msg end
      local hex = line:match("^(%x+)")
      if not hex or #hex > 12 then return nil, "protocol", "a malformed chunk size in the response" end
      local size = tonumber(hex, 16)
      if size == 0 then break end
      total = total + size
      if total > cap then
        return nil, "protocol", "the response body exceeds the cap of " .. cap .. " bytes"
      end
      local ok, k2, m2 = r:take(size, parts)
      if not ok then
        if k2 == "network" then m2 = "the chunked body ended early (" .. tostring(m2) .. ")" end
        return nil, k2, m2
      end
      local crlf
      crlf, k2, m2 = r:line(2, "a chunk does not end with CRLF")
      if crlf ~= "" then return nil, k2 or "protocol", m2 or "a chunk does not end with CRLF" end
    end
    repeat -- trailers
      local t, kind, msg = r:line(r.max_headers)
      if not t then return nil, kind, msg end
    until t == ""
    return concat(parts), keep
  end
  local cl = header_list(headers["content-length"])
  if cl ~= nil then
    if type(headers["content-length"]) == "table" then
      for _, v in ipairs(headers["content-length"]) do
        if v ~= cl then return nil, "protocol", "conflicting Content-Length headers" end
      end
    end
    local n = cl:match("^%d+$") and tonumber(cl)
    if not n then return nil, "protocol", "a malformed Content-Length in the response" end
    if n > cap then return nil, "protocol", "the response body exceeds the cap of " .. cap .. " bytes" end
    local ok, kind, msg, have = r:take(n, parts)
    if not ok then
      if kind == "network" then
        msg = "the body ended early (" .. tostring(msg) .. ") after " .. tostring(have) .. " of " .. n
          .. " bytes"
      end
      return nil, kind, msg
    end
    return concat(parts), keep
  end
  local ok, kind, msg = r:rest(parts, cap)
  if not ok then return nil, kind, msg end
  return concat(parts), false
end


-- translation ---------------------------------------------------------------

-- A translation's multipart body, streamed: the parts' headers, each file
-- read and sent a chunk at a time (never whole in memory), or its bytes.
local FILE_CHUNK = 64 * 1024

-- The Content-Type, the pieces (strings, or { path =, size = }) and the
-- length of req.parts as multipart/form-data; nil, message on a bad part.
multipart = function(req)
  local boundary = "doctranslate-" .. tostring(req.call_id or "") .. "-"
    .. string.format("%08x%08x", math.random(0, 0x7fffffff), math.random(0, 0x7fffffff))
  local pieces, length = {}, 0
  local function add(p, n)
    pieces[#pieces + 1] = p
    length = length + n
  end
  for _, p in ipairs(req.parts) do
    if find(p.filename, '[\r\n"]') or find(p.name, '[\r\n"]')
        or (p.content_type and find(p.content_type, "[\r\n]")) then
      return nil, "a part's name, file name or content type holds a quote or a line break"
    end
    local head = "--" .. boundary .. '\r\nContent-Disposition: form-data; name="' .. p.name .. '"; filename="'
      .. p.filename .. '"\r\n' .. (p.content_type and ("Content-Type: " .. p.content_type .. "\r\n") or "") .. "\r\n"
    add(head, #head)
    if p.path then add({ path = p.path, size = p.size }, p.size) else add(p.data, #p.data) end
    add("\r\n", 2)
  end
  local tail = "--" .. boundary .. "--\r\n"
  add(tail, #tail)
  return "multipart/form-data; boundary=" .. boundary, pieces, length
end

-- Calls on_progress; an error it raises comes back as "raise", err.
local function progress(on_progress, phase, done, total)
  if not on_progress then return end
  local ok, err = pcall(on_progress, phase, done, total)
  if not ok then return "raise", err end
end

-- Sends the pieces; nil, or kind, message ("raise": on_progress's error).
send_pieces = function(sock, pieces, length, on_progress)
  local done = 0
  for _, p in ipairs(pieces) do
    if type(p) == "string" then
      local ok, err = sock:send(p)
      if not ok then
        return err == "timeout" and "timeout" or "network", "sending the document failed: " .. tostring(err)
      end
      done = done + #p
    else
      local f, ferr = io.open(p.path, "rb")
      if not f then return "protocol", "cannot read " .. tostring(ferr) end
      local left = p.size
      while left > 0 do
        local chunk = f:read(min(FILE_CHUNK, left))
        if not chunk then
          f:close()
          return "protocol", "'" .. p.path .. "' became shorter while it was sent"
        end
        local ok, err = sock:send(chunk)
        if not ok then
          f:close()
          return err == "timeout" and "timeout" or "network", "sending the document failed: " .. tostring(err)
        end
        left = left - #chunk
        done = done + #chunk
        local k, e = progress(on_progress, "upload", done, length)
        if k then f:close() return k, e end
      end
      f:close()
    end
  end
  return progress(on_progress, "upload", done, length)
end

-- Reads a translation's answer: a 2xx with req.output goes to a temporary
-- file beside it, renamed over it once complete (never half-written), else
-- into memory (cap bytes). Returns body (or "" when written), keep, nil,
-- written bytes; or nil, kind, message ("raise": on_progress's error).
local MAX_OUTPUT = 1024 * 1024 * 1024

read_answer = function(r, status, headers, version, cap, req)
  local total = tonumber(header_list(headers["content-length"]) or "")
  local to_file = req.output and status >= 200 and status < 300
  local f, tmp, werr, perr, got = nil, nil, nil, nil, 0
  local store = {}
  if to_file then
    tmp = req.output .. "." .. tostring(req.call_id or "") .. ".part"
    local ferr
    f, ferr = io.open(tmp, "wb")
    if not f then return nil, "protocol", "the translated document could not be written: " .. tostring(ferr) end
  end
  local report = status >= 200 and status < 300 and req.on_progress
  local sink = setmetatable({}, { __newindex = function(_, _, piece)
    got = got + #piece
    if f then
      if not werr then
        local ok, e = f:write(piece)
        if not ok then werr = e end
      end
    else
      store[#store + 1] = piece
    end
    if report and not perr then
      local k, e = progress(report, "download", got, total)
      if k then perr = e end
    end
  end })
  local ok, data, keep, msg = pcall(read_body, r, status, headers, version, to_file and MAX_OUTPUT or cap, sink)
  local failed = not ok or not data or werr or perr
  if f then
    local closed, cerr = f:close()
    if not closed and not failed then werr, failed = cerr, true end
  end
  if failed then
    if tmp then os.remove(tmp) end
    if not ok then return nil, "raise", data end
    if perr then return nil, "raise", perr end
    if werr then
      return nil, "protocol", "the translated document could not be written to " .. req.output .. ": "
        .. tostring(werr)
    end
    return nil, keep, msg
  end
  if to_file then
    local renamed, rerr = os.rename(tmp, req.output)
    if not renamed then
      os.remove(tmp)
      return nil, "protocol", "the translated document could not be written to " .. req.output .. ": " .. tostring(rerr)
    end
    return "", keep, nil, got
  end
  return concat(store), keep
end

local IDEMPOTENT = { GET = true, HEAD = true, DELETE = true, PUT = true, OPTIONS = true }

local function connect_error(kind_err, where, err)
  if err == "timeout" then return nil, "timeout", "timed out while " .. where end
  return nil, kind_err, where .. " failed: " .. tostring(err)
end

-- One attempt. Returns the response, or nil, kind, message, retryable (a
-- kept-alive connection the server had closed: the send failed, or an
-- idempotent request got no byte back).
function Transport:attempt(req, scheme, host, port, authority, target)
  local sock = tcp()
  local connect_host = host == "localhost" and "127.0.0.1" or host
  local tls_tag = scheme == "https" and (self.verify and "verify" or "noverify") .. "|" .. (self.ca_file or "") or ""
  local pool = "doctranslate|" .. scheme .. "|" .. host .. "|" .. port .. "|" .. tls_tag
  -- req.timeout: what is left of a listing's deadline, when less than the client's timeout
  local timeout = req.timeout and req.timeout < self.timeout and req.timeout or self.timeout
  local connect_ms = min(self.connect_ms, floor(timeout * 1000) + 1)
  sock:settimeouts(connect_ms, floor(timeout * 1000) + 1, floor(timeout * 1000) + 1)
  local deadline = mono() + timeout
  local ok, err = sock:connect(connect_host, port, { pool = pool, pool_size = self.pool_size })
  if not ok then return connect_error("network", "connect to " .. authority, err) end
  local reused = (sock:getreusedtimes() or 0) > 0
  if not reused then
    self.connections = self.connections + 1
    if scheme == "https" then
      local sni = not is_ip(host) and host or nil
      -- lua-resty-core 0.1.25 asserts instead of returning the error when a
      -- handshake that finished at once failed verification: both are failures
      local done, session, herr = pcall(sock.sslhandshake, sock, self.sessions[pool], sni, self.verify)
      if not done then
        session, err = nil, "the handshake or the certificate check failed (" .. tostring(session) .. ")"
      else
        err = herr
      end
      if not session then
        sock:close()
        if err == "timeout" then return nil, "timeout", "timed out in the TLS handshake with " .. authority end
        local hint = ""
        if self.verify and err and (err:find("verify", 1, true) or not done) then
          hint = " (under OpenResty the trusted CAs come from lua_ssl_trusted_certificate in nginx.conf,"
            .. " with lua_ssl_verify_depth; the ca_file option cannot be applied per connection)"
        end
        return nil, "network", "TLS handshake with " .. authority .. " failed: " .. tostring(err) .. hint
      end
      if type(session) ~= "boolean" then self.sessions[pool] = session end
    end
  end

  local lines = { (req.method or "GET") .. " " .. target .. " HTTP/1.1\r\nHost: " .. authority .. "\r\n" }
  for name, value in pairs(req.headers or {}) do
    value = tostring(value)
    if find(name, "[\r\n:]") or find(value, "[\r\n]") then
      sock:close()
      return nil, "protocol", "a request header holds a line break"
    end
    lines[#lines + 1] = name .. ": " .. value .. "\r\n"
  end
  local body = req.body
  local pieces, length
  if req.parts then
    local ctype
    ctype, pieces, length = multipart(req)
    if not ctype then
      sock:close()
      return nil, "protocol", pieces
    end
    lines[#lines + 1] = "Content-Type: " .. ctype .. "\r\nContent-Length: " .. length .. "\r\n"
  elseif body ~= nil then
    lines[#lines + 1] = "Content-Length: " .. #body .. "\r\n"
  end
  lines[#lines + 1] = "\r\n"
  if body ~= nil and not pieces then lines[#lines + 1] = body end
  self.requests = self.requests + 1
  local sent
  sent, err = sock:send(lines)
  if not sent then
    sock:close()
    if reused and err ~= "timeout" then return nil, "network", "send failed: " .. tostring(err), true end
    return connect_error("network", "sending the request", err)
  end
  if pieces then
    local kind, msg = send_pieces(sock, pieces, length, req.on_progress)
    if kind then
      sock:close()
      if kind == "raise" then error(msg, 0) end
      return nil, kind, msg, false, true
    end
  end

  local r = new_reader(sock, deadline, self.max_headers, self.pace_s)
  local status, headers, version = read_head(r)
  if not status then
    local kind, msg = headers, version
    sock:close()
    -- the server may have acted on a request it did not answer: only an
    -- idempotent one is sent again
    if reused and not r.got_any and kind == "network" and IDEMPOTENT[req.method or "GET"] then
      return nil, kind, msg, true
    end
    if kind == "network" then msg = "reading the response head failed: " .. tostring(msg) end
    return nil, kind, msg
  end
  local data, keep, msg, written
  if pieces then
    data, keep, msg, written = read_answer(r, status, headers, version, self.max_body, req)
  else
    data, keep, msg = read_body(r, status, headers, version, self.max_body)
  end
  if not data then
    sock:close()
    if keep == "raise" then error(msg, 0) end
    return nil, keep, msg, false, pieces ~= nil
  end
  if keep and r.buf == "" then
    sock:setkeepalive(self.keepalive_ms, self.pool_size)
  else
    sock:close()
  end
  for name, v in pairs(headers) do
    if type(v) == "table" then headers[name] = concat(v, ", ") end
  end
  if written then return { status = status, headers = headers, size = written } end
  return { status = status, headers = headers, body = data }
end

local send

function Transport:request(req)
  waited[running()] = true
  local scheme, host, port, authority, target = split_url(req.url or "")
  if not scheme then return nil, "protocol", "not an http(s) URL" end
  if self.cache then
    local path = target:match("^[^?#]*")
    return self.cache:request(req, path, target, function(r)
      return send(self, r, scheme, host, port, authority, target)
    end)
  end
  return send(self, req, scheme, host, port, authority, target)
end

send = function(self, req, scheme, host, port, authority, target)
  local res, kind, msg, retry, sent = self:attempt(req, scheme, host, port, authority, target)
  if not res and retry then
    -- the server had closed the kept connection: one fresh try, as libcurl does
    local _
    res, kind, msg, _, sent = self:attempt(req, scheme, host, port, authority, target)
  end
  -- sent: a translation's body had begun to leave (it is then not sent again)
  if not res then return nil, kind, msg, sent end
  return res
end

return M
