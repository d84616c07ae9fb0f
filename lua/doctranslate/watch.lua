--- doctranslate.watch: each document of a job once, as it reaches a terminal
-- state, written once over the primitives every client has (c:job,
-- c:documents, c:sleep) and, for loops that never block, over the libcurl
-- client's job_async / documents_async.
--
--   for doc in c:watch(job_id, { interval = 1, timeout = 3600, on_job = fn(job) }) do ... end
--   local w = c:watch_async(job_id, { on_documents = fn(w, docs), on_done = fn(w, err) })
--
-- How it stays cheap: it polls the job's status and lists only when the
-- job's counts of ended documents (success + failed + cancelled) are ahead of
-- what it has handed out. A listing asks only for the ended documents
-- (statuses filter), oldest last action first, skipping those already handed
-- out: an ended document stays ended, so the ones that ended since come at
-- the end of that order. When that assumption breaks (a document handed out
-- comes back: one was put before it), or the counts stay ahead of what the
-- listings show, it lists every ended document once and keeps the ones it has
-- not seen: nothing is lost and nothing is handed out twice, whatever order
-- the service keeps.
--
-- The set of ids handed out is kept as 48-bit hashes; w:continuation() writes
-- them (no key, no token, no URL) with the job id and the API version.
local core = require "doctranslate.core"
local lifecycle = require "doctranslate.lifecycle"

local M = {}

local usage = core.usage_error
local TERMINAL = core.TERMINAL
local floor, char, byte, concat = math.floor, string.char, string.byte, table.concat

-- The ended statuses a listing asks for (at most 5: the v1.x limit).
M.STATUSES = { "Succeeded", "Failed", "Cancelled", "ValidationFailed" }
M.ORDER = "lastActionDateTimeUtc asc"
M.PAGE_SIZE = 100

-- How far a job's status is along; a read that goes back is a stale (cached) read.
local RANK = { NotStarted = 1, Running = 2, Cancelling = 3 }

local function counted(job)
  local s = job.summary
  if type(s) ~= "table" then return 0 end
  return (tonumber(s.success) or 0) + (tonumber(s.failed) or 0) + (tonumber(s.cancelled) or 0)
end

-- -------------------------------------------------------------- id hashes

-- Two polynomial hashes of 24 bits each, modulo primes below 2^24: every
-- product stays below 2^53, so Lua 5.1..5.4 and LuaJIT compute the same bits.
local P1, P2, B1, B2 = 16777213, 16777199, 1000003, 999983

--- The 6-byte hash of a document id (ids compare without case).
function M.hash(id)
  local s = id:lower()
  local h1, h2 = #s, 7 * #s + 1
  for i = 1, #s do
    local c = byte(s, i)
    h1 = (h1 * B1 + c) % P1
    h2 = (h2 * B2 + c + 101) % P2
  end
  return char(floor(h1 / 65536), floor(h1 / 256) % 256, h1 % 256, floor(h2 / 65536), floor(h2 / 256) % 256,
    h2 % 256)
end

-- -------------------------------------------------------------- tokens

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
local B64_INDEX = {}
for i = 1, 64 do B64_INDEX[byte(B64, i)] = i - 1 end

local function b64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = byte(s, i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local k = c and 4 or (b and 3 or 2)
    local q = { floor(n / 262144), floor(n / 4096) % 64, floor(n / 64) % 64, n % 64 }
    for j = 1, k do out[#out + 1] = B64:sub(q[j] + 1, q[j] + 1) end
  end
  return concat(out)
end

local function unb64(s)
  if #s % 4 == 1 then return nil end
  local out = {}
  for i = 1, #s, 4 do
    local n, k = 0, 0
    for j = i, math.min(i + 3, #s) do
      local v = B64_INDEX[byte(s, j)]
      if v == nil then return nil end
      n = n * 64 + v
      k = k + 1
    end
    for _ = k + 1, 4 do n = n * 64 end
    local bytes = { floor(n / 65536), floor(n / 256) % 256, n % 256 }
    for j = 1, k - 1 do out[#out + 1] = char(bytes[j]) end
  end
  return concat(out)
end

local function u32(n)
  return char(floor(n / 16777216) % 256, floor(n / 65536) % 256, floor(n / 256) % 256, n % 256)
end

local function read_u32(s, i)
  local a, b, c, d = byte(s, i, i + 3)
  if d == nil then return nil end
  return ((a * 256 + b) * 256 + c) * 256 + d
end

local PREFIX = "dtw1."

local function encode_token(job_id, version, hashes)
  return PREFIX .. b64(char(#job_id) .. job_id .. char(#version) .. version .. u32(#hashes) .. concat(hashes))
end

-- job_id, version, hashes (array) or nil, why.
local function decode_token(token)
  if token:sub(1, #PREFIX) ~= PREFIX then return nil, "is not a watch token (dtw1.)" end
  local s = unb64(token:sub(#PREFIX + 1))
  if s == nil or #s < 6 then return nil, "is damaged" end
  local i = 1
  local function str()
    local n = byte(s, i)
    if n == nil or i + n > #s then return nil end
    local v = s:sub(i + 1, i + n)
    i = i + 1 + n
    return v
  end
  local job_id, version = str(), nil
  if job_id then version = str() end
  local count = version and read_u32(s, i)
  if count == nil or #s ~= i + 3 + 6 * count then return nil, "is damaged" end
  local hashes, at = {}, i + 4
  for k = 1, count do hashes[k] = s:sub(at + 6 * (k - 1), at + 6 * k - 1) end
  return job_id, version, hashes
end

-- -------------------------------------------------------------- the state both forms share

local State = {}
local StateMT = { __index = State }

local OPTIONS = { interval = "number", timeout = "number", on_job = "function", sleep = "function",
                  now = "function", continuation = "string", page_size = "number" }
local ASYNC_OPTIONS = { interval = "number", timeout = "number", on_job = "function", now = "function",
                        continuation = "string", page_size = "number", on_documents = "function",
                        on_done = "function", budget = "number" }

-- The client's API version, as its core client describes itself (no secret is in that text).
local function api_version(client)
  return tostring(client:core()):match("%(api ([^,)]+)") or ""
end

local function new_state(client, job_id, opts, allowed, what)
  if type(job_id) ~= "string" or job_id == "" then
    usage("bad argument 'job_id': a non-empty string expected, got " .. type(job_id))
  end
  if #job_id > 255 then usage("bad argument 'job_id': longer than 255 bytes") end
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then usage("bad argument 'opts': a table expected, got " .. type(opts)) end
  for k, v in pairs(opts) do
    local want = allowed[k]
    if want == nil then usage("bad option '" .. tostring(k) .. "': not a " .. what .. " option") end
    if type(v) ~= want then usage("bad option '" .. k .. "': a " .. want .. " expected, got " .. type(v)) end
  end
  for _, k in ipairs({ "interval", "timeout" }) do
    local v = opts[k]
    if v ~= nil and (v ~= v or v < 0) then usage("bad option '" .. k .. "': a number of seconds >= 0 expected") end
  end
  local ps = opts.page_size or M.PAGE_SIZE
  if ps ~= floor(ps) or ps < 1 or ps > 100 then usage("bad option 'page_size': an integer in 1..100 expected") end
  local st = setmetatable({
    client = client, job_id = job_id, version = api_version(client), interval = opts.interval or 1,
    timeout = opts.timeout, on_job = opts.on_job, now = opts.now or core.monotonic, page_size = ps,
    seen = {}, handed = {}, queue = {}, qhead = 1, qtail = 0, count = 0, best_rank = 0, best_done = -1,
    polls = 0, listings = 0,
  }, StateMT)
  if opts.continuation then
    local id, version, hashes = decode_token(opts.continuation)
    if id == nil then usage("bad option 'continuation': the token " .. version) end
    if id ~= job_id then usage("bad option 'continuation': the token is of another job") end
    if version ~= st.version then
      usage("bad option 'continuation': the token was made with API version " .. version .. ", the client uses "
        .. st.version)
    end
    for k, h in ipairs(hashes) do
      st.seen[h] = true
      st.handed[k] = h
    end
    st.count = #hashes
  end
  st.timeout_at = st.timeout and st.now() + st.timeout
  return st
end

function State:timeout_error()
  return core.error("timeout", string.format("the job %s did not end within %g s (status %s)", self.job_id,
    self.timeout, tostring(self.job and self.job.status)))
end

-- The error value that ends the watch of a job that ended without succeeding.
function State:job_error(job)
  local e = type(job.error) == "table" and job.error or {}
  local err = core.error("protocol", string.format("the job %s ended %s%s", self.job_id, tostring(job.status),
    e.message and (": " .. tostring(e.message)) or ""))
  err.kind = "job"
  err.job = job
  err.job_status = job.status
  err.code = e.code and tostring(e.code) or job.status
  err.target = e.target
  err.innerError = e.innerError or e.innererror
  return err
end

-- A job read: nil when it goes back (a stale read), else true.
function State:read_job(job)
  local rank = RANK[job.status] or (TERMINAL[job.status] and 4) or 0
  local done = counted(job)
  self.polls = self.polls + 1
  if job.status == nil or rank < self.best_rank or done < self.best_done then return false end
  self.best_rank, self.best_done = rank, done
  self.job = job
  if self.on_job then self.on_job(job) end
  return true
end

-- Listing options for what comes after the documents handed out (skip) or for every ended one.
function State:list_opts(full)
  self.listings = self.listings + 1
  self.full = full
  self.dup = false
  return { statuses = M.STATUSES, order_by = M.ORDER, skip = (not full) and self.count or nil,
           page_size = self.page_size }
end

-- What follows a poll: "list" (with the options), or nil (wait for the next poll, or end).
function State:after_poll()
  local job = self.job
  if job == nil then return nil end
  self.terminal = TERMINAL[job.status] or false
  if counted(job) > self.count or self.terminal or self.short then return self:list_opts(false) end
  return nil
end

-- A document of a listing: queued when it is ended and not seen before.
function State:listed(doc)
  if not TERMINAL[doc.status] or type(doc.id) ~= "string" then return end
  local h = M.hash(doc.id)
  if self.seen[h] then
    self.dup = true
    return
  end
  self.seen[h] = true
  self.count = self.count + 1
  self.qtail = self.qtail + 1
  self.queue[self.qtail] = { doc = doc, hash = h }
end

-- What follows a listing's end: the options of a full listing, or nil.
function State:after_listing()
  local behind = self.job and counted(self.job) > self.count
  if not self.full and (self.dup or (behind and (self.terminal or self.short))) then
    return self:list_opts(true)
  end
  self.short = behind and not self.full or nil
  if self.terminal then
    self.ended = true
    local s = self.job.status
    if s ~= "Succeeded" then self.err = self:job_error(self.job) end
  end
  return nil
end

-- The next queued document (recorded as handed out), or nil.
function State:pop()
  local e = self.queue[self.qhead]
  if e == nil then return nil end
  self.queue[self.qhead] = nil
  self.qhead = self.qhead + 1
  if self.qhead > self.qtail then
    self.queue, self.qhead, self.qtail = {}, 1, 0
  end
  self.handed[#self.handed + 1] = e.hash
  return e.doc
end

function State:pending()
  return self.qtail - self.qhead + 1
end

function State:continuation()
  return encode_token(self.job_id, self.version, self.handed)
end

-- -------------------------------------------------------------- the blocking watch

local Watch = {}
local WatchMT = { __index = Watch, __name = "doctranslate.Watch" }

local function check(self, mt, what)
  if getmetatable(self) ~= mt then usage("bad self: " .. what .. " expected (call the method with ':')") end
  return self
end

--- c:watch(job_id, { interval = 1, timeout =, on_job = fn(job), continuation =, page_size = 100,
-- sleep =, now = }) -> w: `for doc in w do ... end` gives each document once, when it has
-- ended; the loop raises the error value when a poll or a listing fails, when the job ends
-- without succeeding (kind "job": Failed, Cancelled, ValidationFailed; every document handed
-- out first) or at the timeout (kind "timeout").
function M.watch(client, job_id, opts)
  local st = new_state(client, job_id, opts, OPTIONS, "watch")
  st.sleep = (opts or {}).sleep or function(s) client:sleep(s) end
  return setmetatable({ state = st }, WatchMT)
end

-- Reads a listing to its end into the state: true, or nil, err.
local function read_listing(st, opts)
  local pages = st.client:documents(st.job_id, opts)
  while true do
    local page, err = pages:next_page()
    if page == nil then
      pages:close()
      if err then return nil, err end
      return true
    end
    for _, doc in ipairs(page) do st:listed(doc) end
  end
end

--- The next document, nil at the end, or nil, err.
function Watch:next()
  local st = check(self, WatchMT, "a watch (c:watch)").state
  while true do
    local doc = st:pop()
    if doc then return doc end
    if st.ended then return nil, st.err end
    if st.job ~= nil then
      local delay = lifecycle.poll_delay(st.job, st.interval)
      if st.timeout_at and st.now() + delay > st.timeout_at then
        st.ended, st.err = true, st:timeout_error()
        return nil, st.err
      end
      st.sleep(delay)
    end
    local job, err = st.client:job(st.job_id)
    if job == nil then
      st.ended, st.err = true, err
      return nil, err
    end
    if not st:read_job(job) and st.job == nil then st.job = job end
    local lopts = st:after_poll()
    while lopts do
      local ok, lerr = read_listing(st, lopts)
      if not ok then
        st.ended, st.err = true, lerr
        break
      end
      lopts = st:after_listing()
    end
  end
end

-- The for-loop step: raises the error value (a listing's rule: never a silent end).
function WatchMT.__call(self)
  local doc, err = Watch.next(self)
  if doc == nil and err ~= nil then error(err, 0) end
  return doc
end

--- A token from which c:watch(job_id, { continuation = token }) goes on: every document
-- handed out so far is left out, none other.
function Watch:continuation()
  return check(self, WatchMT, "a watch (c:watch)").state:continuation()
end

--- The job as last read (nil before the first poll).
function Watch:job()
  return check(self, WatchMT, "a watch (c:watch)").state.job
end

--- { polls =, listings =, handed =, pending = }: what the watch did so far.
function Watch:stats()
  local st = check(self, WatchMT, "a watch (c:watch)").state
  return { polls = st.polls, listings = st.listings, handed = #st.handed, pending = st:pending() }
end

WatchMT.__tostring = function(self)
  local st = self.state
  return string.format("doctranslate.Watch: job %s, %d documents handed out%s", st.job_id, #st.handed,
    st.ended and (st.err and ", ended with an error" or ", ended") or "")
end

-- -------------------------------------------------------------- the stepped watch

local AsyncWatch = {}
local AsyncMT = { __name = "doctranslate.WatchAsync" }

AsyncMT.__index = function(self, k)
  local v = AsyncWatch[k]
  if v ~= nil then return v end
  local st = rawget(self, "state")
  if k == "job" then return st.job end
  if k == "documents" then return #st.handed end
  return nil
end

--- c:watch_async(job_id, { interval =, timeout =, on_job =, on_documents = fn(w, docs),
-- on_done = fn(w, err), continuation =, page_size =, now =, budget = }) -> w, for game and app
-- loops (budget: seconds of parsing a step of its listings aims at, as documents_async's).
-- w:step() -> done never blocks on the libcurl client (it steps job_async / documents_async);
-- on a client over a Lua transport (OpenResty) a step that is due runs the poll or listing
-- through it (cosockets yield to nginx). w:take([t]) -> docs, n (when no on_documents is
-- given), w:fds() -> fds, timeout_ms, w:cancel(), w:continuation(), w.done, w.error, w.job.
function M.watch_async(client, job_id, opts)
  local st = new_state(client, job_id, opts, ASYNC_OPTIONS, "watch_async")
  opts = opts or {}
  -- the libcurl client is its own core: it has the async ops; a Lua transport's client has not
  return setmetatable({ state = st, done = false, on_documents = opts.on_documents, on_done = opts.on_done,
                        budget = opts.budget, due = st.now(), stepped = rawequal(client:core(), client) },
                      AsyncMT)
end

local function check_async(self)
  return check(self, AsyncMT, "a stepped watch (c:watch_async)")
end

function AsyncWatch:finish(err)
  local st = self.state
  if self.op then
    self.op:close()
    self.op = nil
  end
  st.ended = true
  if err ~= nil then st.err = err end
  if st:pending() > 0 then return false end -- documents still to hand out first
  if self.done then return true end
  self.done = true
  self.error = st.err
  if self.on_done then self.on_done(self, self.error) end
  return true
end

-- Hands the queued documents to on_documents, if there is one.
function AsyncWatch:deliver()
  local st = self.state
  if self.on_documents and st:pending() > 0 then
    local docs = {}
    while true do
      local d = st:pop()
      if d == nil then break end
      docs[#docs + 1] = d
    end
    self.on_documents(self, docs)
  end
end

-- Starts the next op: a listing with opts, or a poll.
function AsyncWatch:start_op(lopts)
  local c, st = self.state.client, self.state
  if lopts then
    self.phase = "list"
    if self.budget ~= nil then lopts.budget = self.budget end
    self.op = c:documents_async(st.job_id, lopts)
  else
    self.phase = "poll"
    self.op = c:job_async(st.job_id)
  end
end

-- A poll or a listing ended (the op's error or nil): what comes next.
function AsyncWatch:op_ended(err)
  local st = self.state
  local phase, op = self.phase, self.op
  if err then return self:finish(err) end
  local lopts
  if phase == "poll" then
    local job = op.result
    op:close()
    self.op = nil
    if not st:read_job(job) and st.job == nil then st.job = job end
    lopts = st:after_poll()
  else
    local docs = op:take()
    for _, d in ipairs(docs) do st:listed(d) end
    op:close()
    self.op = nil
    lopts = st:after_listing()
  end
  if lopts then
    self:start_op(lopts)
    return false
  end
  if st.ended then return self:finish(nil) end
  self.due = st.now() + lifecycle.poll_delay(st.job, st.interval)
  if st.timeout_at and self.due > st.timeout_at then return self:finish(st:timeout_error()) end
  return false
end

-- One step on the libcurl client: never blocks.
function AsyncWatch:step_async()
  local st = self.state
  if self.op == nil then
    if st.now() < self.due then return false end
    self:start_op(nil)
  end
  local op = self.op
  op:step()
  if self.phase == "list" and not op.done then
    for _, d in ipairs((op:take())) do st:listed(d) end
    return false
  end
  if not op.done then return false end
  local err = op.error
  if err then
    op:close()
    self.op = nil
  end
  return self:op_ended(err)
end

-- One step on a client over a Lua transport: a due poll (and its listings) run through it.
function AsyncWatch:step_driven()
  local st = self.state
  if st.now() < self.due then return false end
  local job, err = st.client:job(st.job_id)
  if job == nil then return self:finish(err) end
  if not st:read_job(job) and st.job == nil then st.job = job end
  local lopts = st:after_poll()
  while lopts do
    local ok, lerr = read_listing(st, lopts)
    if not ok then return self:finish(lerr) end
    lopts = st:after_listing()
  end
  if st.ended then return self:finish(nil) end
  self.due = st.now() + lifecycle.poll_delay(st.job, st.interval)
  if st.timeout_at and self.due > st.timeout_at then return self:finish(st:timeout_error()) end
  return false
end

--- w:step() -> done: true once the job has ended and every document was handed out (w.error
-- tells how it ended), false while it watches.
function AsyncWatch:step()
  check_async(self)
  if self.done then return true end
  local st = self.state
  local finished
  if st.ended then
    finished = self:finish(nil)
  elseif self.stepped then
    finished = self:step_async()
  else
    finished = self:step_driven()
  end
  self:deliver()
  if not finished and st.ended and st:pending() == 0 then finished = self:finish(nil) end
  return finished
end

--- w:take([t]) -> docs, n: the documents ended since the last take (t cleared and reused).
function AsyncWatch:take(t)
  local st = check_async(self).state
  if t ~= nil and type(t) ~= "table" then usage("bad argument 't': a table expected, got " .. type(t)) end
  t = t or {}
  local n = 0
  while true do
    local d = st:pop()
    if d == nil then break end
    n = n + 1
    t[n] = d
  end
  for i = n + 1, #t do t[i] = nil end
  if st.ended and not self.done then self:finish(nil) end
  return t, n
end

--- w:fds() -> { {fd =, read =, write =}, ... }, timeout_ms: what to wait on before the next
-- step (the inner op's sockets, or only a timer until the next poll; -1 once done).
function AsyncWatch:fds()
  local st = check_async(self).state
  if self.done then return {}, -1 end
  if st:pending() > 0 or st.ended then return {}, 0 end
  if self.op then return self.op:fds() end
  return {}, math.max(0, math.ceil((self.due - st.now()) * 1000))
end

--- Seconds until the next poll (0 while an op runs or is due; nil once done).
function AsyncWatch:next_poll_in()
  local st = check_async(self).state
  if self.done then return nil end
  if self.op then return 0 end
  return math.max(0, self.due - st.now())
end

--- Stops at once (an op in flight is dropped); w.cancelled is true. The continuation stays.
function AsyncWatch:cancel()
  check_async(self)
  if self.done then return end
  if self.op then
    self.op:close()
    self.op = nil
  end
  self.state.ended = true
  self.state.queue, self.state.qhead, self.state.qtail = {}, 1, 0
  self.done = true
  self.cancelled = true
end

function AsyncWatch:continuation()
  return check_async(self).state:continuation()
end

function AsyncWatch:stats()
  local st = check_async(self).state
  return { polls = st.polls, listings = st.listings, handed = #st.handed, pending = st:pending() }
end

AsyncMT.__tostring = function(self)
  local st = self.state
  return string.format("doctranslate.WatchAsync: job %s, %d documents handed out, %s", st.job_id, #st.handed,
    self.done and (self.cancelled and "cancelled" or (self.error and "ended with an error" or "done"))
      or "watching")
end

M.decode_token = decode_token

--- A continuation for a watch of job_id by client that leaves out the documents ids (an array
-- of ids already dealt with, in any order): how a program that kept its own record goes on.
function M.token(client, job_id, ids)
  if type(job_id) ~= "string" or job_id == "" then usage("bad argument 'job_id': a non-empty string expected") end
  if type(ids) ~= "table" then usage("bad argument 'ids': an array of ids expected, got " .. type(ids)) end
  local hashes, seen = {}, {}
  for i, id in ipairs(ids) do
    if type(id) ~= "string" then usage("bad argument 'ids': item " .. i .. " is not a string") end
    local h = M.hash(id)
    if not seen[h] then
      seen[h] = true
      hashes[#hashes + 1] = h
    end
  end
  return encode_token(job_id, api_version(client), hashes)
end
return M
