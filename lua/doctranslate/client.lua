--- doctranslate.client: the methods of clients and jobs, written once for
-- every transport.
--
-- Each is built on four methods that every client has:
--   c:core()           the core client of this process: it makes the ops
--                      (job_op, document_op, documents_op, jobs_op, start_op,
--                      cancel_op, formats_op)
--   c:run(op)          runs a single-shot op to its result: a Job, a Document,
--                      the formats, or nil, err
--   c:listing(pages)   a listing (documents_op or jobs_op) as this client reads it
--   c:sleep(seconds)   the wait between polls
-- The libcurl client is the core's userdata: these are its methods, and its
-- run is op:result() (the libcurl runner in C). A client over a Lua
-- transport (doctranslate.driver) gives its own core, run, listing and sleep
-- and takes the rest from here.
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
function M.own(client, v, err)
  if v ~= nil and client ~= client:core() and name_of(v) == "doctranslate.Job" then owner[v] = client end
  return v, err
end
local own = M.own

---------------------------------------------------------------- clients

local Client = {}
M.Client = Client

-- The primitives of the libcurl client (a client over a Lua transport has its own).
function Client.core(self) return check_client(self, "core") end

local function check_op(op)
  local n = name_of(op)
  if n ~= "doctranslate.Op" and n ~= "doctranslate.Pages" then
    usage("bad argument 'op': an operation of the client expected (job_op, start_op, ...), got " .. type(op))
  end
  return op
end

function Client.run(self, op)
  check_client(self, "run")
  local v, err = check_op(op):result()
  op:close()
  return v, err
end

function Client.listing(self, pages, ...)
  check_client(self, "listing")
  return check_op(pages), ...
end

function Client.sleep(self, seconds)
  check_client(self, "sleep")
  if type(seconds) ~= "number" then usage("bad argument 'seconds': a number expected, got " .. type(seconds)) end
  lifecycle.default_sleep()(seconds)
end

--- The job's status: a Job, or nil, err.
function Client:job(job_id)
  check_client(self, "job")
  return own(self, self:run(self:core():job_op(job_id)))
end

--- One document's status: a Document, or nil, err.
function Client:document(job_id, doc_id)
  check_client(self, "document")
  return self:run(self:core():document_op(job_id, doc_id))
end

--- The lazy listing of a job's documents (see the README for the options).
function Client:documents(job_id, opts)
  check_client(self, "documents")
  return self:listing(self:core():documents_op(job_id, opts))
end

--- The lazy job list: a listing whose items are jobs.
function Client:jobs(opts)
  check_client(self, "jobs")
  return self:listing(self:core():jobs_op(opts))
end

--- Starts a translation: the job, or nil, err.
function Client:start(request)
  check_client(self, "start")
  return own(self, self:run(self:core():start_op(request)))
end

--- Asks the service to cancel a job: the job (Cancelling or Cancelled), or nil, err.
function Client:cancel(job_id)
  check_client(self, "cancel")
  return own(self, self:run(self:core():cancel_op(job_id)))
end

--- The supported formats ("document" or "glossary"), or nil, err.
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

---------------------------------------------------------------- jobs

local Job = {}
M.Job = Job

local core_job_client -- the core's job:client() (its core client)

--- The client this job reads through.
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

--- Re-reads the job's status in place: the job, or nil, err.
function Job:refresh() return reread(self, "refresh") end

--- Asks the service to cancel the job, updated in place: the job, or nil, err.
function Job:cancel() return reread(self, "cancel") end

--- The lazy listing of the job's documents.
function Job:documents(opts)
  return Job.client(check_job(self, "documents")):documents(self:job_id(), opts)
end

--- One document of the job: a Document, or nil, err.
function Job:document(doc_id)
  return Job.client(check_job(self, "document")):document(self:job_id(), doc_id)
end

--- Waits for the job to end (doctranslate.lifecycle), sleeping as its client does
-- unless opts.sleep says otherwise.
function Job:wait(opts)
  local c = Job.client(check_job(self, "wait"))
  if opts ~= nil and (type(opts) ~= "table" or opts.sleep ~= nil) then return lifecycle.wait(self, opts) end
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  o.sleep = function(s) c:sleep(s) end
  return lifecycle.wait(self, o)
end

function Job:wait_async(opts) return lifecycle.wait_async(check_job(self, "wait_async"), opts) end

function Job:watch(opts)
  local c = Job.client(check_job(self, "watch"))
  return c:watch(self:job_id(), opts)
end

function Job:failures(opts) return lifecycle.failures(check_job(self, "failures"), opts) end

---------------------------------------------------------------- install

local installed = setmetatable({}, { __mode = "k" })

--- Puts these methods into the core's classes (once per Lua state).
function M.install()
  local classes = core.classes
  if installed[classes] then return end
  installed[classes] = true
  core_job_client = classes.Job.client
  for name, fn in pairs(Client) do classes.Client[name] = fn end
  for name, fn in pairs(Job) do classes.Job[name] = fn end
end

return M
