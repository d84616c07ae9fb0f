--- doctranslate.driver: the C state machine driven from Lua, for transports
-- that must yield (OpenResty cosockets) and so cannot run under a C call.
--
-- dt.new comes here when opts.transport is given or when `ngx` is present:
--   transport = "openresty"  cosockets (doctranslate.openresty); the default under nginx
--   transport = "curl"       the blocking libcurl driver in C, chosen on purpose
--   transport = { request = function(self, req) -> res | nil, kind, msg,
--                 sleep = function(self, seconds), [check =, process =, stats =, now =, pace =] }
-- Options for the openresty transport only: keepalive_timeout, keepalive_pool_size, pace.
--
-- The client it returns has the public API of the C client (job, document,
-- documents, jobs, start, cancel, formats, the *_op forms, stats, close;
-- token functions are called here, so they may yield); every request goes through
-- the transport, every wait through transport:sleep, and the paging, retry,
-- parsing and error code is the core's (next_request / feed / feed_error).
-- Jobs are Lua proxies of the core's Job userdata, so that refresh, documents
-- and document use the transport too: fields, time() and response() read
-- through; type(job) is "table". Listings are Lua objects over the core's
-- Pages: `for doc in c:documents(...)`, next_page(), continuation(), close()
-- (a to-be-closed value on Lua 5.4).
--
-- Nothing that matters across fork() is made by dt.new: the core client (its
-- random state seeds the request ids and the retry jitter) is made on first
-- use in each process, so a client created in init_by_lua* works in every
-- worker. Outside a cosocket phase (init, init_worker, log, header_filter...)
-- a request raises a usage error: it never falls back to blocking libcurl.
local core = require "doctranslate.core"

local D = {}

local usage = core.usage_error
local LUA54 = _VERSION == "Lua 5.4"

-- Options the driver takes; the core never sees them.
local DRIVER_OPTIONS = { transport = true, keepalive_timeout = true, keepalive_pool_size = true, pace = true }

-- Private state of clients, listings and jobs (the key never sits in a field).
local private = setmetatable({}, { __mode = "k" })

local Client, ClientMT = {}, { __name = "doctranslate.Client" }
local core_methods -- the core client's method table, seen on the first probe client

-- A method only the core's libcurl driver has (documents_async, ...) is a
-- usage error that says so, rather than "attempt to call a nil value".
function ClientMT.__index(_, key)
  local m = Client[key]
  if m ~= nil then return m end
  if type(core_methods) == "table" and core_methods[key] ~= nil then
    return function()
      usage("c:" .. tostring(key) .. "() belongs to the libcurl driver; this client moves its bytes through"
        .. " a Lua transport (job, document, documents, jobs, start, cancel, formats and the *_op forms)")
    end
  end
  return nil
end
local Pages, PagesMT = {}, { __name = "doctranslate.Pages" }
PagesMT.__index = Pages
local Job, JobMT = {}, { __name = "doctranslate.Job" }

local MAX_LOG_LINE = 1024

local function log(st, level, message)
  if st.log == nil then return end
  -- the core's redaction (SAS sig=, the key, the token) of the whole line, then the cut
  message = core.scrub(message, st.secrets[1], st.secrets[2], st.secrets[3])
  if #message > MAX_LOG_LINE then message = message:sub(1, MAX_LOG_LINE - 3) .. "..." end
  pcall(st.log, level, message)
end

local function state_of(self, what)
  local st = private[self]
  if st == nil then usage("bad self: a doctranslate " .. what .. " expected") end
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
    if st.notice then log(st, "warn", st.notice) end
  end
  return st.cc
end

-- Runs it (a Pages or an Op) until it has a result, documents, an end or an error.
-- Several coroutines may drive operations of one client at once (one nginx
-- worker serving many requests): everything per call stays local here.
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
      st.secrets[st.token_slot] = #token >= 4 and token or nil
    elseif type(err) == "table" and err.kind == "usage" then
      error(err, 0) -- a token that cannot be sent as it is: the caller's function is wrong
    else
      st.token_error = "its token was refused: " .. tostring(type(err) == "table" and err.message or err)
    end
  end
end

local function drive(st, it)
  local t = st.transport
  local last_id
  while true do
    if st.closed then usage("the client is closed") end
    refresh_token(st)
    local req = it:next_request()
    if req == nil then return end
    if t.check then t:check() end
    if req.wait then
      log(st, "warn", string.format("retry in %.3f s (x-ms-client-request-id %s)", req.wait, tostring(last_id)))
      t:sleep(req.wait)
    else
      if t.pace then t:pace() end
      last_id = req.headers and req.headers["x-ms-client-request-id"]
      local started = st.log and t.now and t:now()
      local res, kind, message = t:request(req)
      -- the request's tostring is the core's: URL with any SAS signature hidden, no headers
      local line = st.log and (tostring(req):match("^doctranslate%.Request: (.-) %(headers hidden%)$") or "?")
      if res then
        if t.pace then t:pace() end
        if started then
          log(st, "debug", string.format("%s -> %d (%.1f ms)", line, res.status, (t:now() - started) * 1000))
        end
        it:feed(res)
      else
        if kind ~= "network" and kind ~= "timeout" and kind ~= "protocol" then kind = "network" end
        if line then log(st, "debug", string.format("%s -> %s error: %s", line, kind, tostring(message))) end
        it:feed_error(kind, tostring(message or kind))
      end
    end
  end
end

-- Makes an Op or Pages driven by next_request/feed from the start, so that
-- no later call can run it with libcurl by accident.
local function external(it)
  it:next_request()
  return it
end

---------------------------------------------------------------- jobs

local function wrap_job(client, raw, job_id)
  local job = setmetatable({}, JobMT)
  private[job] = { raw = raw, client = client, id = job_id }
  return job
end

-- The id of a core Job: its JSON id, or (a v1.x start answers with no body)
-- the last segment of the Operation-Location it came with.
local function job_id_of(raw)
  local id = raw.id
  if id == nil then
    local ok, r = pcall(raw.response, raw)
    local loc = ok and type(r) == "table" and type(r.headers) == "table" and r.headers["operation-location"]
    id = type(loc) == "string" and loc:match("/batches/([^/?#]+)") or nil
  end
  return id
end

-- A core Job (from a result or a job listing) becomes a proxy; anything else stays.
local function wrap_result(client, v)
  if type(v) == "userdata" then
    local mt = getmetatable(v)
    if type(mt) == "table" and mt.__name == "doctranslate.Job" then return wrap_job(client, v, job_id_of(v)) end
  end
  return v
end

-- Fields read through to the core's Job. Its methods written in Lua (wait,
-- failures, ...) take the proxy as they find it; one written in C that this
-- file does not wrap would get the proxy instead of its userdata (or move its
-- bytes with libcurl): it is a usage error that says so.
function JobMT.__index(self, key)
  local m = Job[key]
  if m ~= nil then return m end
  local js = private[self]
  if js == nil then return nil end
  local v = js.raw[key]
  if type(v) == "function" and debug.getinfo(v, "S").what == "C" then
    return function()
      usage("job:" .. tostring(key) .. "() belongs to the libcurl driver; a job read through a Lua transport"
        .. " offers refresh, documents, document, cancel, time, response, client, adopt and the Lua methods")
    end
  end
  return v
end

function JobMT.__tostring(self)
  return tostring(state_of(self, "job").raw)
end

function Job:time(field) return state_of(self, "job").raw:time(field) end

function Job:response() return state_of(self, "job").raw:response() end

-- Runs the core client's single-shot job operation `method` (job_op, cancel_op) for this job
-- through the transport and takes the job it reads in place: the job, or nil, err.
local function job_call(self, method)
  local js = state_of(self, "job")
  local st = state_of(js.client, "client")
  local cc = core_client(st, true)
  local op = cc[method](cc, js.id)
  drive(st, op)
  local raw, err = op:result()
  op:close()
  if raw == nil then return nil, err end
  js.raw = raw
  return self
end

--- Re-reads the job's status in place: the job, or nil, err.
function Job:refresh()
  return job_call(self, "job_op")
end

--- Asks the service to cancel the job; the job is updated in place: the job, or nil, err.
function Job:cancel()
  return job_call(self, "cancel_op")
end

--- Waits for the job to end (see doctranslate.lifecycle), sleeping through
-- the transport (ngx.sleep under OpenResty) unless opts.sleep says otherwise.
function Job:wait(opts)
  local lifecycle = require "doctranslate.lifecycle"
  if opts ~= nil and type(opts) ~= "table" then return lifecycle.wait(self, opts) end
  local t = state_of(state_of(self, "job").client, "client").transport
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  if o.sleep == nil and t.sleep then o.sleep = function(s) t:sleep(s) end end
  return lifecycle.wait(self, o)
end

--- The client this job reads through (the Lua-transport client).
function Job:client()
  return state_of(self, "job").client
end

--- Takes the state another read of the same job gave (a proxy or a core Job).
function Job:adopt(other)
  local js = state_of(self, "job")
  local os_ = private[other]
  local raw = os_ and os_.raw or other
  local mt = type(raw) == "userdata" and getmetatable(raw)
  if type(mt) ~= "table" or mt.__name ~= "doctranslate.Job" or job_id_of(raw) ~= js.id then
    usage("bad argument 'other': a read of the same job expected")
  end
  js.raw = raw
  return self
end

function Job:documents(opts)
  local js = state_of(self, "job")
  return js.client:documents(js.id, opts)
end

function Job:document(doc_id)
  local js = state_of(self, "job")
  return js.client:document(js.id, doc_id)
end

---------------------------------------------------------------- listings

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
  local item = ps.raw()
  if ps.jobs then return wrap_result(ps.client, item) end
  return item
end

PagesMT.__close = pages_close
Pages.close = pages_close

function PagesMT.__tostring(self)
  return tostring(state_of(self, "listing").raw)
end

--- The next page (array of documents, .next_link), nil when done, or nil, err.
function Pages:next_page()
  local ps = state_of(self, "listing")
  if ps.closed then return ps.raw:next_page() end -- raises the core's usage error
  drive(ps.st, ps.raw)
  local page, err = ps.raw:next_page()
  if page and ps.jobs then
    for i, v in ipairs(page) do page[i] = wrap_result(ps.client, v) end
  end
  return page, err
end

--- A token that resumes the listing at the first document not handed out.
function Pages:continuation()
  return state_of(self, "listing").raw:continuation()
end

---------------------------------------------------------------- client

--- The longest wait the client makes (seconds; the retry_max option).
function Client:retry_max()
  return core_client(state_of(self, "client"), false):retry_max()
end

function Client:job(job_id)
  local st = state_of(self, "client")
  local op = core_client(st, true):job_op(job_id)
  drive(st, op)
  local raw, err = op:result()
  op:close()
  if raw == nil then return nil, err end
  return wrap_job(self, raw, job_id)
end

function Client:document(job_id, doc_id)
  local st = state_of(self, "client")
  local op = core_client(st, true):document_op(job_id, doc_id)
  drive(st, op)
  local doc, err = op:result()
  op:close()
  return doc, err
end

local function new_pages(client, st, raw, jobs)
  local pages = setmetatable({}, PagesMT)
  private[pages] = { raw = external(raw), st = st, client = client, jobs = jobs }
  if LUA54 then return pages, nil, nil, pages end
  return pages
end

function Client:documents(job_id, opts)
  local st = state_of(self, "client")
  return new_pages(self, st, (core_client(st, true):documents(job_id, opts)), false)
end

--- The lazy job list: the same listing object; its items are jobs.
function Client:jobs(opts)
  local st = state_of(self, "client")
  return new_pages(self, st, (core_client(st, true):jobs(opts)), true)
end

-- Runs a single-shot op made by make(cc) and gives its result (a Job becomes a proxy).
local function run_op(self, make)
  local st = state_of(self, "client")
  local op = make(core_client(st, true))
  drive(st, op)
  local v, err = op:result()
  op:close()
  if v == nil then return nil, err end
  return wrap_result(self, v)
end

--- Starts a translation (the request table as for the core): the job, or nil, err.
function Client:start(request)
  return run_op(self, function(cc) return cc:start_op(request) end)
end

--- Cancels a job: the job (Cancelling or Cancelled), or nil, err.
function Client:cancel(job_id)
  return run_op(self, function(cc) return cc:cancel_op(job_id) end)
end

--- The supported formats ("document" or "glossary"), or nil, err.
function Client:formats(kind)
  return run_op(self, function(cc) return cc:formats_op(kind) end)
end

function Client:start_op(request)
  return external(core_client(state_of(self, "client"), false):start_op(request))
end

function Client:cancel_op(job_id)
  return external(core_client(state_of(self, "client"), false):cancel_op(job_id))
end

function Client:formats_op(kind)
  return external(core_client(state_of(self, "client"), false):formats_op(kind))
end

--- The JSON body c:start would send (no I/O).
function Client:start_body(request)
  return core_client(state_of(self, "client"), false):start_body(request)
end

--- Raw operations for code that moves the bytes itself (next_request / feed).
function Client:job_op(job_id)
  return external(core_client(state_of(self, "client"), false):job_op(job_id))
end

function Client:document_op(job_id, doc_id)
  return external(core_client(state_of(self, "client"), false):document_op(job_id, doc_id))
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

---------------------------------------------------------------- new

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
  for _, name in ipairs({ "keepalive_timeout", "keepalive_pool_size", "pace" }) do
    if transport ~= "openresty" and opts[name] ~= nil then
      usage("bad option '" .. name .. "': only for the openresty transport")
    end
  end
  if transport == "curl" then return core.new(conf) end

  -- the core checks every option now and raises its usage errors; this probe
  -- client is dropped: the real one is made in the process that uses it
  local probe = core.new(conf)
  if core_methods == nil then
    local mt = getmetatable(probe)
    core_methods = type(mt) == "table" and type(mt.__index) == "table" and mt.__index or false
  end
  local st = { conf = conf, log = conf.log, secrets = {}, desc = tostring(probe), token_slot = 3 }
  probe:close()
  if type(conf.key) == "string" and #conf.key >= 4 then st.secrets[1] = conf.key end
  if type(conf.token) == "string" and #conf.token >= 4 then st.secrets[2] = conf.token end
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
    local topts = { keepalive_timeout = ka_timeout, keepalive_pool_size = ka_pool, pace = pace }
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
