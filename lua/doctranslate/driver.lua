--- doctranslate.driver: the Lua runner. It drives the core's ops from Lua,
-- for transports that must yield (OpenResty cosockets) and so cannot run
-- under a C call.
--
-- dt.new comes here when opts.transport is given or when `ngx` is present:
--   transport = "openresty"  cosockets (doctranslate.openresty); the default under nginx
--   transport = "curl"       the libcurl client in C, chosen on purpose
--   transport = { request = function(self, req) -> res | nil, kind, msg,
--                 sleep = function(self, seconds), [check =, process =, stats =, pace =] }
-- Options for the openresty transport only: `keepalive_timeout`, `keepalive_pool_size`, pace, and the
-- shared status cache: `cache` (a lua_shared_dict), `cache_ttl`, `cache_terminal_ttl` (doctranslate.cache).
--
-- The client it returns gives what doctranslate.client builds every method
-- on: core() (the core client of this process), run(op), listing(pages) and
-- sleep(s); job, document, documents, jobs, start, cancel, formats and the
-- Job methods are those of doctranslate.client, the same for every
-- transport. Every request goes through the transport, every wait through
-- transport:sleep; paging, retries, deadlines, parsing, errors and log lines
-- are the core's (`next_request` / feed / `feed_error`). Jobs are the core's Job
-- userdata; they read through this client.
--
-- Nothing that matters across fork() is made by dt.new: the core client (its
-- random state seeds the request ids and the retry jitter) is made on first
-- use in each process, so a client created in `init_by_lua*` works in every
-- worker. Outside a cosocket phase (init, `init_worker`, log, `header_filter...`)
-- a request raises a usage error: it never falls back to blocking libcurl.
local core = require "doctranslate.core"

local D = {}

local usage = core.usage_error
local LUA54 = _VERSION == "Lua 5.4"

-- Options the driver takes; the core never sees them.
local DRIVER_OPTIONS = { transport = true, keepalive_timeout = true, keepalive_pool_size = true, pace = true,
                         cache = true, cache_ttl = true, cache_terminal_ttl = true }

-- Private state of clients, listings and jobs (the key never sits in a field).
local private = setmetatable({}, { __mode = "k" })

local methods = require "doctranslate.client"

local Client = setmetatable({}, { __index = methods.Client })
local ClientMT = { __name = "doctranslate.Client", __index = Client }

-- The libcurl client's non-blocking forms: a usage error that says so, rather
-- than "attempt to call a nil value".
for _, name in ipairs({ "documents_async", "job_async", "document_async", "translate_async" }) do
  Client[name] = function()
    usage("c:" .. name .. "() belongs to the libcurl client; this client moves its bytes through"
      .. " a Lua transport")
  end
end
local Pages, PagesMT = {}, { __name = "doctranslate.Pages" }
PagesMT.__index = Pages

local function state_of(self, what)
  local st = private[self]
  if st == nil then usage("bad self: a doctranslate " .. what .. " expected (called with ':'?)") end
  return st
end

-- The core client of this process (made on first use, again after a fork).
local function core_client(st, io)
  if st.closed then usage("the client is closed") end
  if io and st.transport.check then st.transport:check() end
  local pid = st.transport.process and st.transport:process() or 0
  if st.cc == nil or st.pid ~= pid then
    st.cc = core.new(st.conf)
    st.pid = pid
    if st.notice and st.log then pcall(st.log, "warn", st.notice) end
  end
  return st.cc
end

-- A token function (dt.new{ token = function() return token, expires_at end })
-- runs here, in Lua, so that it may yield (fetch its token over cosockets);
-- the core only learns the token. A failure reaches the operation through the
-- core's own token function, which then answers "no token" with the reason.
local function refresh_token(st)
  local cc = st.cc
  if st.token_fn == nil or cc == nil or not cc:token_due() then return end
  local ok, token, expires = pcall(st.token_fn)
  if not ok then
    st.token_error = "it failed: " .. tostring(type(token) == "table" and token.message or token)
  elseif type(token) ~= "string" or token == "" then
    st.token_error = "it gave no token" .. (expires ~= nil and (": " .. tostring(expires)) or "")
  else
    local set, err = pcall(cc.set_token, cc, token, type(expires) == "number" and expires or nil)
    if set then
      st.token_error = nil
    elseif type(err) == "string" then
      error(err, 0) -- a usage error: a token that cannot be sent as it is, the caller's function is wrong
    else
      st.token_error = "its token was refused: " .. tostring(type(err) == "table" and err.message or err)
    end
  end
end

-- A translation's answer that a transport gave as a body although req.output
-- was asked for: written beside the output, renamed over it once complete.
local function to_output(req, res)
  local tmp = req.output .. "." .. tostring(req.call_id or "") .. ".part"
  local f, err = io.open(tmp, "wb")
  local ok = f and f:write(res.body)
  if f then
    local closed, cerr = f:close()
    if ok and not closed then ok, err = nil, cerr end
  end
  if ok then ok, err = os.rename(tmp, req.output) end
  if not ok then
    os.remove(tmp)
    return nil, "protocol", "the translated document could not be written to " .. req.output .. ": " .. tostring(err)
  end
  return { status = res.status, headers = res.headers, size = #res.body }
end

-- The Lua runner: moves the requests of it (a listing or a single-shot op)
-- through the transport until it has a result, documents, an end or an
-- error. Several coroutines may drive operations of one client at once (one
-- nginx worker serving many requests): everything per call stays local here.
local function drive(st, it)
  local t = st.transport
  while true do
    if st.closed then usage("the client is closed") end
    refresh_token(st)
    local req = it:next_request()
    if req == nil then return end
    if t.check then t:check() end
    if req.wait then
      t:sleep(req.wait)
    else
      if t.pace then t:pace() end
      local res, kind, message, sent = t:request(req)
      if res and req.output and res.body and res.status >= 200 and res.status < 300 then
        res, kind, message = to_output(req, res) -- a transport that answered in memory
      end
      if res then
        if t.pace then t:pace() end
        it:feed(res)
      else
        if kind ~= "network" and kind ~= "timeout" and kind ~= "protocol" then kind = "network" end
        -- sent: the body had begun to leave (a translation is then not sent again)
        it:feed_error(kind, tostring(message or kind), sent == true)
      end
    end
  end
end

-- listings --------------------------------------------------------------

local function pages_close(self)
  local ps = state_of(self, "listing")
  if not ps.closed then
    ps.closed = true
    ps.raw:close()
  end
end

-- The for-loop step: raises the error value, as the core's iterator does.
function PagesMT.__call(self)
  local ps = state_of(self, "listing")
  if ps.closed then return ps.raw() end -- the core's usage error, as from next_page
  drive(ps.st, ps.raw)
  return (methods.own(ps.client, ps.raw()))
end

PagesMT.__close = pages_close
Pages.close = pages_close

--- The error value that ended the listing (raised by its for loop, or returned by next_page), or nil.
function Pages:error()
  return state_of(self, "listing").raw:error()
end

function PagesMT.__tostring(self)
  return tostring(state_of(self, "listing").raw)
end

--- The next page (array of documents, `.next_link`), nil when done, or nil, err.
function Pages:next_page()
  local ps = state_of(self, "listing")
  if ps.closed then return ps.raw:next_page() end -- raises the core's usage error
  drive(ps.st, ps.raw)
  local page, err = ps.raw:next_page()
  if page then
    for _, v in ipairs(page) do methods.own(ps.client, v) end
  end
  return page, err
end

--- A token that resumes the listing at the first document not handed out.
function Pages:continuation()
  return state_of(self, "listing").raw:continuation()
end

-- client ----------------------------------------------------------------

--- The longest wait the client makes (seconds; the `retry_max` option).
function Client:retry_max()
  return core_client(state_of(self, "client"), false):retry_max()
end

--- The core client of this process: it makes the ops.
function Client:core()
  return core_client(state_of(self, "client"), false)
end

--- Runs a single-shot op through the transport: its result, or nil, err.
function Client:run(op)
  local st = state_of(self, "client")
  core_client(st, true)
  drive(st, op:from_lua()) -- never by libcurl
  local v, err = op:result()
  op:close()
  return v, err
end

--- A listing of the core (`documents_op`, `jobs_op`) read through the transport.
function Client:listing(raw)
  local st = state_of(self, "client")
  core_client(st, true)
  raw:from_lua() -- driven by next_request/feed from now on: never by libcurl
  local pages = setmetatable({}, PagesMT)
  private[pages] = { raw = raw, st = st, client = self }
  if LUA54 then return pages, nil, nil, pages end
  return pages
end

function Client:sleep(seconds)
  state_of(self, "client").transport:sleep(seconds)
end

-- The ops of the core client of this process, for callers that move the bytes
-- themselves: driven by next_request/feed from the start, so that no later
-- call runs them with libcurl behind the caller's back.
for _, name in ipairs({ "job_op", "document_op", "documents_op", "jobs_op", "start_op", "cancel_op",
                        "formats_op", "translate_op" }) do
  Client[name] = function(self, ...)
    local cc = core_client(state_of(self, "client"), false)
    return (cc[name](cc, ...):from_lua())
  end
end

--- The JSON body c:start would send (no I/O).
function Client:start_body(request)
  return core_client(state_of(self, "client"), false):start_body(request)
end

--- { requests =, connections = } of the transport in this process.
function Client:stats()
  local st = state_of(self, "client")
  if st.transport.stats then return st.transport:stats() end
  return { requests = 0, connections = 0 }
end

function Client:close()
  local st = state_of(self, "client")
  st.closed = true
  if st.cc then st.cc:close() end
end
ClientMT.__close = Client.close

function ClientMT.__tostring(self)
  local st = state_of(self, "client")
  return st.desc .. " via " .. st.transport_name .. (st.closed and " (closed)" or "")
end

-- new -------------------------------------------------------------------

local function check_number(name, v, lo, hi, integer)
  if type(v) ~= "number" or not (v >= lo and v <= hi) or (integer and v ~= math.floor(v)) then
    usage(string.format("bad option '%s': %s in %g..%g expected", name, integer and "an integer" or "a number",
      lo, hi))
  end
end

--- dt.new for Lua transports (see the header).
function D.new(opts)
  if type(opts) ~= "table" then return core.new(opts) end
  local conf, transport = {}, opts.transport
  for k, v in pairs(opts) do
    if not DRIVER_OPTIONS[k] then conf[k] = v end
  end
  if transport == nil then
    transport = rawget(_G, "ngx") ~= nil and "openresty" or "curl"
  end
  local ka_timeout, ka_pool, pace = opts.keepalive_timeout, opts.keepalive_pool_size, opts.pace
  if ka_timeout ~= nil then check_number("keepalive_timeout", ka_timeout, 0.001, 86400) end
  if ka_pool ~= nil then check_number("keepalive_pool_size", ka_pool, 1, 100000, true) end
  if pace ~= nil and pace ~= false then check_number("pace", pace, 0.0001, 10) end
  for _, name in ipairs({ "keepalive_timeout", "keepalive_pool_size", "pace", "cache", "cache_ttl",
                          "cache_terminal_ttl" }) do
    if transport ~= "openresty" and opts[name] ~= nil then
      usage("bad option '" .. name .. "': only for the openresty transport")
    end
  end
  if transport == "curl" then return core.new(conf) end
  conf.prepare_tls = false -- the core clients below never connect: no TLS to set up

  -- the core checks every option now and raises its usage errors; this probe
  -- client is dropped: the real one is made in the process that uses it
  local probe = core.new(conf)
  local st = { conf = conf, log = conf.log, desc = tostring(probe) }
  probe:close()
  if type(conf.token) == "function" then
    -- the driver calls it (see refresh_token); the core's stand-in only reports why it could not
    st.token_fn = conf.token
    conf.token = function()
      return nil, st.token_error or "the token is fetched by the driver before each request"
    end
  end

  if transport == "openresty" then
    local ngx = rawget(_G, "ngx")
    if type(ngx) ~= "table" or type(ngx.socket) ~= "table" then
      usage("bad option 'transport': 'openresty' needs nginx's Lua module (ngx.socket is not present)")
    end
    local topts = { keepalive_timeout = ka_timeout, keepalive_pool_size = ka_pool, pace = pace, cache = opts.cache,
                    cache_ttl = opts.cache_ttl, cache_terminal_ttl = opts.cache_terminal_ttl }
    for k, v in pairs(conf) do topts[k] = v end
    st.transport = require("doctranslate.openresty").new(topts, usage)
    st.transport_name = "openresty"
    if conf.ca_file ~= nil and conf.insecure ~= true then
      st.notice = "ca_file is not applied by the openresty transport: nginx's lua_ssl_trusted_certificate"
        .. " decides which CAs are trusted"
    end
  elseif type(transport) == "table" and type(transport.request) == "function"
      and type(transport.sleep) == "function" then
    st.transport = transport
    st.transport_name = "a Lua transport"
  else
    usage("bad option 'transport': \"openresty\", \"curl\" or a table with request and sleep"
      .. " methods expected")
  end
  local client = setmetatable({}, ClientMT)
  private[client] = st
  return client
end

return D
