--- The methods of clients and jobs, written once for every transport.
--
-- Each is built on four methods that every client has: `Client:core` (the core client, which
-- makes the operations), `Client:run` (an operation to its result), `Client:listing` (a listing
-- as this client reads it) and `Client:sleep` (the wait between polls). The libcurl client is
-- the core's userdata: these are its methods, and its `run` is `op:result()` (the libcurl runner
-- in C). A client over a Lua transport (`doctranslate.driver`) gives its own `core`, `run`,
-- `listing` and `sleep` and takes the rest from here. The methods written in C are in
-- `doctranslate.core`.
-- @module doctranslate.client
local core = require "doctranslate.core"
local lifecycle = require "doctranslate.lifecycle"
local watch = require "doctranslate.watch"
local translate = require "doctranslate.translate"

local M = {}

local usage = core.usage_error

-- The Lua-transport client a job reads through (weak keys: an entry lives as
-- long as its job, and keeps the client alive as the job's own reference to
-- its core client would). Jobs of the libcurl client are not in it.
local owner = setmetatable({}, { __mode = "k" })

local function name_of(v)
  local mt = getmetatable(v)
  return type(mt) == "table" and mt.__name or nil
end

local function is_client(v)
  return name_of(v) == "doctranslate.Client"
end

local function check_client(self, method)
  if not is_client(self) then
    usage("bad self: c:" .. method .. "() must be called on a doctranslate client (with ':', not '.')")
  end
  return self
end

local function check_job(self, method)
  if name_of(self) ~= "doctranslate.Job" then
    usage("bad self: job:" .. method .. "() must be called on a doctranslate Job (with ':', not '.')")
  end
  return self
end

--- Records that job (a result of client) reads through client, when client is
-- not its own core; gives job (or whatever v is) back, with err.
-- @local
function M.own(client, v, err)
  if v ~= nil and client ~= client:core() and name_of(v) == "doctranslate.Job" then owner[v] = client end
  return v, err
end
local own = M.own

-- clients ---------------------------------------------------------------

--- A client (`doctranslate.new`): its methods written in Lua.
-- @type Client
local Client = {}
M.Client = Client

--- The core client that makes the operations (`job_op`, `documents_op`, `start_op`, ...): the
-- client itself for libcurl, the core client of this process for a Lua transport.
-- @treturn Client
function Client.core(self) return check_client(self, "core") end

local function check_op(op)
  local n = name_of(op)
  if n ~= "doctranslate.Op" and n ~= "doctranslate.Pages" then
    usage("bad argument 'op': an operation of the client expected (job_op, start_op, ...), got " .. type(op))
  end
  return op
end

--- Runs an operation of `Client:core` to its result with the client's own runner, then
-- closes it.
-- @tparam Op op
-- @return the job, document or formats, or nil, err
-- @function Client:run
function Client.run(self, op)
  check_client(self, "run")
  local v, err = check_op(op):result()
  op:close()
  return v, err
end

--- A listing of `Client:core` (`documents_op`, `jobs_op`) as this client reads it.
-- @tparam Pages pages
-- @treturn Pages
-- @function Client:listing
function Client.listing(self, pages, ...)
  check_client(self, "listing")
  return check_op(pages), ...
end

--- Waits, as this client waits between polls (`ngx.sleep` where nginx lets a request yield,
-- else a blocking sleep).
-- @number seconds
-- @function Client:sleep
function Client.sleep(self, seconds)
  check_client(self, "sleep")
  if type(seconds) ~= "number" then usage("bad argument 'seconds': a number expected, got " .. type(seconds)) end
  lifecycle.default_sleep()(seconds)
end

--- Reads a job's status. One request (plus retries).
-- @string job_id
-- @treturn Job or nil, err
-- @usage local job = assert(c:job(id)); print(job.status, job.summary.total)
function Client:job(job_id)
  check_client(self, "job")
  return own(self, self:run(self:core():job_op(job_id)))
end

--- Reads one document's status.
-- @string job_id
-- @string doc_id
-- @treturn Document or nil, err
function Client:document(job_id, doc_id)
  check_client(self, "document")
  return self:run(self:core():document_op(job_id, doc_id))
end

--- A lazy listing of a job's documents. Options: `statuses`, `ids` (lists), `created_after`,
-- `created_before` (epoch or ISO-8601), `order_by` ("createdDateTimeUtc" or
-- "lastActionDateTimeUtc", optionally with " asc" or " desc"), `top`, `skip`, `page_size`
-- (1..100), `prefetch` (boolean, default true: the next page travels while the caller works),
-- `concurrency` (1..16: pages fetched at once for an ended job listed without filters, in exact
-- order; otherwise sequential, said through the log), `continuation` (a token from
-- `Pages:continuation`), `deadline` (seconds the whole listing may take; default: the client's
-- `deadline` option). No request is made until the first document is asked for.
-- @string job_id
-- @tparam[opt] table opts
-- @treturn Pages
-- @usage for doc in c:documents(id, { statuses = { "Failed" } }) do print(doc.id) end
function Client:documents(job_id, opts)
  check_client(self, "documents")
  return self:listing(self:core():documents_op(job_id, opts))
end

--- A lazy listing of the resource's jobs: the same options and `Pages` object as documents.
-- @tparam[opt] table opts
-- @treturn Pages of `Job`
function Client:jobs(opts)
  check_client(self, "jobs")
  return self:listing(self:core():jobs_op(opts))
end

--- Starts a translation job: `{ inputs = {{ source = { sourceUrl =, filter = { prefix =, suffix = },
-- language =, storageSource = }, targets = {{ targetUrl =, language =, category =, glossaries =,
-- storageSource = }}, storageType = "Folder" | "File" }}, options = {...} }`, checked before it is
-- sent (missing URLs, no targets, more than 10 targets are `usage` errors naming the field).
-- Retried only on 500, 503 and 504.
-- @tparam table request
-- @treturn Job (its id from Operation-Location) or nil, err
function Client:start(request)
  check_client(self, "start")
  return own(self, self:run(self:core():start_op(request)))
end

--- Cancels a job.
-- @string job_id
-- @treturn Job (Cancelling or Cancelled) or nil, err (a job that has ended: the service's error)
function Client:cancel(job_id)
  check_client(self, "cancel")
  return own(self, self:run(self:core():cancel_op(job_id)))
end

--- The formats the service accepts.
-- @string kind "document" or "glossary"
-- @treturn table an array of `{ format =, fileExtensions =, contentTypes =, versions =, defaultVersion = }`
-- or nil, err
function Client:formats(kind)
  check_client(self, "formats")
  return self:run(self:core():formats_op(kind))
end

--- Each document of the job once, as it ends (doctranslate.watch): `for doc in c:watch(id) do`.
function Client:watch(job_id, opts)
  return watch.watch(check_client(self, "watch"), job_id, opts)
end

--- The watch of a game loop: step / take / fds / cancel (doctranslate.watch).
function Client:watch_async(job_id, opts)
  return watch.watch_async(check_client(self, "watch_async"), job_id, opts)
end

--- Translates one document synchronously (docs/translate.md): the result
-- { body | output, content_type, size, characters_charged, ... }, or nil, err.
function Client:translate(request)
  check_client(self, "translate")
  return self:run(self:core():translate_op(translate.request(request)))
end

--- The same as an async op (libcurl client): op:step() moves it on.
function Client:translate_async(request)
  check_client(self, "translate_async")
  return self:core():translate_async_op(translate.request(request, true), translate.async_options(request))
end

-- jobs ------------------------------------------------------------------

--- A job (`Client:job`, `Client:start`): its methods written in Lua.
-- @type Job
local Job = {}
M.Job = Job

local core_job_client -- the core's job:client() (its core client)

--- The client this job reads through.
-- @treturn Client
function Job:client()
  check_job(self, "client")
  return owner[self] or core_job_client(self)
end

-- Runs the op make(core client, job id) and takes the job it reads in place.
local function reread(self, method)
  local c = Job.client(check_job(self, method))
  local fresh, err = c:run(c:core()[method == "refresh" and "job_op" or "cancel_op"](c:core(), self:job_id()))
  if fresh == nil then return nil, err end
  return self:adopt(fresh)
end

--- Re-reads the job's status in place.
-- @treturn Job itself, or nil, err
function Job:refresh() return reread(self, "refresh") end

--- Cancels the job and updates it in place.
-- @treturn Job or nil, err
function Job:cancel() return reread(self, "cancel") end

--- The job's documents: `Client:documents` for this job.
-- @tparam[opt] table opts
-- @treturn Pages
function Job:documents(opts)
  return Job.client(check_job(self, "documents")):documents(self:job_id(), opts)
end

--- One of the job's documents.
-- @string doc_id
-- @treturn Document or nil, err
function Job:document(doc_id)
  return Job.client(check_job(self, "document")):document(self:job_id(), doc_id)
end

--- Waits for the job to end: polls it until its status is terminal, never faster than the
-- service's Retry-After nor than `interval`. A stale read that goes back (Running, then
-- NotStarted; fewer documents done) is polled past, and `on_progress` is not called for it.
-- @tparam[opt] table opts
-- @tparam[opt] number opts.timeout give up (a `timeout` error) when the next poll would come later
-- @tparam[opt] number opts.deadline seconds the whole wait, polls included, may take
-- @tparam[opt=1] number opts.interval seconds between polls, at least
-- @tparam[opt] function opts.on_progress `function(job)`, after each poll that moved
-- @tparam[opt] function opts.sleep `function(seconds)` (default: the client's `Client:sleep`)
-- @tparam[opt] function opts.now `function()` the clock, in seconds
-- @treturn Job the job in a terminal state, or nil, err (the failed poll's error, or `timeout`)
-- @usage assert(job:wait{ timeout = 600, on_progress = function(j) print(j.status) end })
function Job:wait(opts)
  local c = Job.client(check_job(self, "wait"))
  if opts ~= nil and (type(opts) ~= "table" or opts.sleep ~= nil) then return lifecycle.wait(self, opts) end
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  o.sleep = function(s) c:sleep(s) end
  return lifecycle.wait(self, o)
end

--- The non-blocking form of `Job:wait` (libcurl client), for game and app loops: call
-- `w:step()` each frame (see `doctranslate.lifecycle`'s `Wait`). The same rules as `wait`;
-- `on_progress` runs inside `step`.
-- @tparam[opt] table opts `timeout`, `interval` (default 1), `on_progress`, `now`
-- @treturn Wait
function Job:wait_async(opts) return lifecycle.wait_async(check_job(self, "wait_async"), opts) end

--- Each document of this job once, as it ends: `Client:watch` for this job.
-- @tparam[opt] table opts the options of `Client:watch`
function Job:watch(opts)
  local c = Job.client(check_job(self, "watch"))
  return c:watch(self:job_id(), opts)
end


--- The failure report: every failed document (one filtered listing, as many pages as it
-- takes), grouped by its error chain ("InvalidRequest > EmptyDocument": the innermost code says
-- what went wrong), the biggest group first.
-- @tparam[opt] table opts listing options (`page_size`, ...)
-- @treturn FailureReport or nil, err
function Job:failures(opts) return lifecycle.failures(check_job(self, "failures"), opts) end

-- install ---------------------------------------------------------------

local installed = setmetatable({}, { __mode = "k" })

--- Puts these methods into the core's classes (once per Lua state).
-- @local
function M.install()
  local classes = core.classes
  if installed[classes] then return end
  installed[classes] = true
  core_job_client = classes.Job.client
  for name, fn in pairs(Client) do classes.Client[name] = fn end
  for name, fn in pairs(Job) do classes.Job[name] = fn end
end

return M
