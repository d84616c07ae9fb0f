--- doctranslate.lifecycle: the parts of a job's life written in Lua, so that
-- they work on every transport (libcurl in C, the OpenResty driver, any Lua
-- transport): job:wait{} and job:failures(). They only use job:refresh(),
-- job:documents{} and job:response(), which each transport provides.
--
-- doctranslate.client makes them Job methods, for every transport.
local core = require "doctranslate.core"

local L = {}

local usage = core.usage_error

L.TERMINAL = core.TERMINAL

-- How far a status is along; a read that goes back is a stale (cached) read.
local RANK = { NotStarted = 1, Running = 2, Cancelling = 3 }

local MIN_DELAY = 0.01 -- never a busy loop, whatever the options say

-- A Lua method called with '.' or on another object: a usage error, as from the C methods.
-- (need: the job method the Lua one uses)
local function check_job(job, method, need)
  local ok, m = pcall(function() return job[need] end)
  if not ok or type(m) ~= "function" then
    usage("bad self: job:" .. method .. "() is a method of a job (call it with ':')")
  end
end

local function check_self(self, mt, what)
  if getmetatable(self) ~= mt then usage("bad self: " .. what .. " expected (call the method with ':')") end
end

local YIELDING_PHASES = {
  rewrite = true, access = true, content = true, timer = true, ssl_cert = true,
  ssl_session_fetch = true, ssl_client_hello = true, preread = true,
}

--- The sleep of the running environment: ngx.sleep where nginx lets a request
-- yield, else the blocking sleep in C.
function L.default_sleep()
  local ngx = rawget(_G, "ngx")
  if type(ngx) == "table" and type(ngx.sleep) == "function" and type(ngx.get_phase) == "function" then
    local ok, phase = pcall(ngx.get_phase)
    if ok and YIELDING_PHASES[phase] then return ngx.sleep end
  end
  return core.sleep
end

--- Seconds the service asked to wait before the next poll (Retry-After,
-- retry-after-ms, x-ms-retry-after-ms of the job's last response), or 0. The
-- core reads them (one parser: RFC 9110, anything else ignored).
function L.retry_after(job)
  local ok, r = pcall(function() return job:response() end)
  local h = ok and type(r) == "table" and type(r.headers) == "table" and r.headers or {}
  local function str(v) return type(v) == "string" and v or nil end
  return core.retry_delay(str(h["retry-after-ms"]), str(h["x-ms-retry-after-ms"]), str(h["retry-after"])) or 0
end

-- The client's retry_max (seconds): no wait the service asks for is longer.
local function retry_cap(job)
  local ok, m = pcall(function() return job:client():retry_max() end)
  if ok and type(m) == "number" and m >= 0 then return m end
  return 60
end

--- The delay before the next poll of job: the service's Retry-After (at
-- most the client's `retry_max`), never less than interval (seconds). For
-- event loops that poll on their own.
function L.poll_delay(job, interval)
  return math.max(interval or 0, math.min(L.retry_after(job), retry_cap(job)), MIN_DELAY)
end

local function counted(job)
  local s = job.summary
  if type(s) ~= "table" then return 0 end
  return (tonumber(s.success) or 0) + (tonumber(s.failed) or 0) + (tonumber(s.cancelled) or 0)
end

local WAIT_OPTIONS = { timeout = "number", deadline = "number", interval = "number", on_progress = "function",
                       sleep = "function", now = "function" }

-- The loop behind Job:wait.
-- job:wait{ timeout = s, deadline = s, interval = s, on_progress = function(job) end, sleep =, now = }
-- Polls the job until its status is terminal and returns it; nil, err (kind
-- "timeout") when the next poll would come after the timeout, or when the
-- deadline (the whole wait, polls included) passes first; nil, err when a
-- poll fails (after the core's retries). Never polls faster than the service's
-- Retry-After nor than interval (default 1 s). A stale read that goes back
-- (Running, then NotStarted; fewer documents done) is polled past, and
-- on_progress is not called for it.
function L.wait(job, opts)
  check_job(job, "wait", "refresh")
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then usage("bad argument 'opts': a table expected, got " .. type(opts)) end
  for k, v in pairs(opts) do
    local want = WAIT_OPTIONS[k]
    if want == nil then usage("bad option '" .. tostring(k) .. "': not a wait option") end
    if type(v) ~= want then usage("bad option '" .. k .. "': a " .. want .. " expected, got " .. type(v)) end
  end
  for _, k in ipairs({ "interval", "timeout", "deadline" }) do
    local v = opts[k]
    if v ~= nil and (v ~= v or v < 0) then usage("bad option '" .. k .. "': a number of seconds >= 0 expected") end
  end
  local interval = opts.interval or 1
  local sleep, now, on_progress = opts.sleep or L.default_sleep(), opts.now or core.monotonic, opts.on_progress
  -- timeout: when the last poll may start; deadline: the whole wait, polls included
  local timeout_at = opts.timeout and now() + opts.timeout
  local deadline_at = opts.deadline and now() + opts.deadline
  local function past_deadline()
    return core.error("timeout", string.format("the deadline of %g s passed while waiting for the job %s (status %s)",
      opts.deadline, tostring(job.id), tostring(job.status)))
  end
  local best_rank, best_done = 0, -1

  local function progressed()
    local rank = RANK[job.status] or (L.TERMINAL[job.status] and 4) or 0
    local done = counted(job)
    if rank < best_rank or done < best_done then return false end -- stale: went back
    best_rank, best_done = rank, done
    return true
  end

  if job.status == nil then
    -- a job just started (v1.x answers with no body): read it once now
    local ok, err = job:refresh()
    if not ok then return nil, err end
    if progressed() and on_progress then on_progress(job) end
  else
    progressed()
  end
  while not L.TERMINAL[job.status] do
    local delay = L.poll_delay(job, interval)
    if timeout_at and now() + delay > timeout_at then
      local err = core.error("timeout", string.format("the job %s did not end within %g s (status %s)",
        tostring(job.id), opts.timeout, tostring(job.status)))
      return nil, err
    end
    if deadline_at and now() + delay >= deadline_at then return nil, past_deadline() end
    sleep(delay)
    local ok, err = job:refresh()
    if not ok then return nil, err end
    if progressed() and on_progress then on_progress(job) end
    if deadline_at and now() > deadline_at and not L.TERMINAL[job.status] then return nil, past_deadline() end
  end
  return job
end

-- wait_async ------------------------------------------------------------

--- A wait that never blocks (`Job:wait_async`). Fields: `job`, `error` (the failed poll's error,
-- or a `timeout` one), `done`, `cancelled`.
-- @type Wait
local Wait = {}
local WaitMT = { __index = Wait, __name = "doctranslate.Wait" }

local ASYNC_OPTIONS = { timeout = "number", interval = "number", on_progress = "function", now = "function" }

-- The state behind Job:wait_async.
-- job:wait_async{ timeout =, interval = 1, on_progress =, now = } -> w, for game and app loops
-- (the libcurl client): call w:step() each frame; it never blocks. It returns true once the wait
-- has ended (w.job in a terminal state, or w.error: the poll's error or a "timeout" one), false
-- while it waits. w:next_poll_in() says how many seconds until it polls again (0: a poll is in
-- flight), w:cancel() stops it. The same rules as wait: Retry-After, interval, stale reads.
-- on_progress runs inside step().
function L.wait_async(job, opts)
  check_job(job, "wait_async", "client")
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then usage("bad argument 'opts': a table expected, got " .. type(opts)) end
  for k, v in pairs(opts) do
    local want = ASYNC_OPTIONS[k]
    if want == nil then usage("bad option '" .. tostring(k) .. "': not a wait_async option") end
    if type(v) ~= want then usage("bad option '" .. k .. "': a " .. want .. " expected, got " .. type(v)) end
  end
  local interval = opts.interval or 1
  if interval ~= interval or interval < 0 then usage("bad option 'interval': a number of seconds >= 0 expected") end
  local client = job:client()
  local now = opts.now or core.monotonic
  local w = setmetatable({ job = job, done = false, client = client, interval = interval, now = now,
                           on_progress = opts.on_progress, best_rank = 0, best_done = -1 }, WaitMT)
  w.deadline = opts.timeout and now() + opts.timeout
  w.timeout = opts.timeout
  -- a job read before (it has a status) waits for its Retry-After first
  w.due = job.status == nil and now() or now() + L.poll_delay(job, interval)
  w:progressed()
  if L.TERMINAL[job.status] then w.done = true end
  return w
end

-- Whether the last read moved the job on (a stale read does not).
function Wait:progressed()
  local job = self.job
  local rank = RANK[job.status] or (L.TERMINAL[job.status] and 4) or 0
  local done = counted(job)
  if job.status == nil or rank < self.best_rank or done < self.best_done then return false end
  self.best_rank, self.best_done = rank, done
  return true
end

function Wait:finish(err)
  self.done = true
  self.error = err
  if self.op then
    self.op:close()
    self.op = nil
  end
  return true
end

--- Does what is due and returns at once: sends a poll when it is time, reads its answer when it
-- has arrived. Never sleeps, never waits on a socket.
-- @treturn boolean true once the wait has ended (`w.job` in a terminal state, or `w.error`)
function Wait:step()
  check_self(self, WaitMT, "a wait handle (job:wait_async)")
  if self.done then return true end
  local t = self.now()
  if self.op == nil then
    -- the timeout ends the wait even while the next poll is not due
    if self.deadline and (t > self.deadline or self.due > self.deadline) then
      return self:finish(core.error("timeout", string.format("the job %s did not end within %g s (status %s)",
        tostring(self.job.id), self.timeout, tostring(self.job.status))))
    end
    if t < self.due then return false end
    self.op = self.client:job_async(self.job.id)
  end
  self.op:step()
  if not self.op.done then return false end
  local op = self.op
  self.op = nil
  if op.error then
    local err = op.error
    op:close()
    return self:finish(err)
  end
  self.job:adopt(op.result)
  op:close()
  if self:progressed() and self.on_progress then self.on_progress(self.job) end
  if L.TERMINAL[self.job.status] then return self:finish(nil) end
  self.due = self.now() + L.poll_delay(self.job, self.interval)
  if self.deadline and self.due > self.deadline then
    return self:finish(core.error("timeout", string.format("the job %s did not end within %g s (status %s)",
      tostring(self.job.id), self.timeout, tostring(self.job.status))))
  end
  return false
end

--- Seconds until the next poll (0 while one is in flight or due; nil once done).
function Wait:next_poll_in()
  check_self(self, WaitMT, "a wait handle (job:wait_async)")
  if self.done then return nil end
  if self.op then return 0 end
  return math.max(0, self.due - self.now())
end

--- Stops waiting (an in-flight poll is dropped); w.cancelled is true, w.error nil.
function Wait:cancel()
  check_self(self, WaitMT, "a wait handle (job:wait_async)")
  if self.done then return end
  self:finish(nil)
  self.cancelled = true
end

WaitMT.__tostring = function(self)
  return string.format("doctranslate.Wait: job %s %s", tostring(self.job.id),
    self.done and (self.error and "ended with an error" or "done") or "waiting")
end

-- failures --------------------------------------------------------------

local function redact(s) -- SAS signatures hidden as the core hides them everywhere else
  if type(s) ~= "string" then return s end
  return core.redact(s)
end

-- report:json() is written by dkjson (the CLI's JSON library): each object carries its key
-- order (__jsonorder), so the text is the same from run to run; arrays stay arrays when empty.
local ARRAY = { __jsontype = "array" }

local function array(t)
  return setmetatable(t or {}, ARRAY)
end

local function object(t, order)
  return setmetatable(t, { __jsontype = "object", __jsonorder = order })
end

local REPORT_ORDER = { "job_id", "failed", "groups", "documents" }
local GROUP_ORDER = { "key", "count", "code", "innermost", "message", "documents" }
local DOCUMENT_ORDER = { "id", "sourcePath", "to", "key", "code", "innermost", "message", "target", "errors" }
local LINK_ORDER = { "code", "message", "target" }

L.array = array

-- The error chain of a document: { {code=, message=, target=}, ... } outermost first.
local function chain_of(e)
  local chain = array()
  local depth = 0
  while type(e) == "table" and depth < 32 do
    chain[#chain + 1] = object({ code = e.code ~= nil and tostring(e.code) or nil, message = redact(e.message),
                                 target = e.target }, LINK_ORDER)
    e = e.innerError or e.innererror
    depth = depth + 1
  end
  return chain
end

--- The failure report of `Job:failures`. Fields: `job_id`, `failed` (how many documents),
-- `groups` (`{ key =, code =, innermost =, count =, message = }`, the biggest first) and
-- `documents` (each failed document's id, paths, language and error chain). `tostring(report)`
-- is `report:table()`.
-- @type FailureReport
local Report = {}
local ReportMT = { __index = Report, __name = "doctranslate.FailureReport" }

local function pad(s, n)
  s = tostring(s)
  if #s >= n then return s end
  return s .. string.rep(" ", n - #s)
end

local function clip(s, n)
  s = tostring(s or ""):gsub("%s+", " ")
  if #s > n then return s:sub(1, n - 3) .. "..." end
  return s
end

--- The report as a text table: the groups with their counts, then every failed document.
function Report:table()
  check_self(self, ReportMT, "a failure report (job:failures)")
  local lines = {}
  lines[#lines + 1] = string.format("job %s: %d failed document%s in %d group%s", tostring(self.job_id),
    self.failed, self.failed == 1 and "" or "s", #self.groups, #self.groups == 1 and "" or "s")
  if #self.groups == 0 then return table.concat(lines, "\n") end
  local kw = 5
  for _, g in ipairs(self.groups) do kw = math.max(kw, #g.key) end
  lines[#lines + 1] = ""
  lines[#lines + 1] = string.format("%6s  %s  %s", "count", pad("error", kw), "message (first)")
  for _, g in ipairs(self.groups) do
    lines[#lines + 1] = string.format("%6d  %s  %s", g.count, pad(g.key, kw), clip(g.message, 60))
  end
  local pw, tw = 10, 2
  for _, d in ipairs(self.documents) do
    pw = math.max(pw, #tostring(d.sourcePath or d.id))
    tw = math.max(tw, #tostring(d.to or ""))
  end
  pw = math.min(pw, 80)
  lines[#lines + 1] = ""
  lines[#lines + 1] = string.format("%s  %s  %s  %s", pad("source", pw), pad("to", tw), pad("error", kw), "message")
  for _, d in ipairs(self.documents) do
    lines[#lines + 1] = string.format("%s  %s  %s  %s", pad(clip(d.sourcePath or d.id, pw), pw), pad(d.to or "", tw),
      pad(d.key, kw), clip(d.message, 80))
  end
  return table.concat(lines, "\n")
end

ReportMT.__tostring = Report.table

--- The report as JSON: { `job_id`, failed, groups = [{ key, code, innermost, count, message,
-- documents = [ids] }], documents = [{ id, sourcePath, to, code, innermost, message, target,
-- errors = [{code, message, target}, ...] }] }.
function Report:json()
  check_self(self, ReportMT, "a failure report (job:failures)")
  local groups = array()
  for i, g in ipairs(self.groups) do
    local ids = array()
    for j, d in ipairs(g.documents) do ids[j] = d.id end
    groups[i] = object({ key = g.key, code = g.code, innermost = g.innermost, count = g.count, message = g.message,
                         documents = ids }, GROUP_ORDER)
  end
  local docs = array()
  for i, d in ipairs(self.documents) do
    docs[i] = object({ id = d.id, sourcePath = d.sourcePath, to = d.to, code = d.code, innermost = d.innermost,
                       message = d.message, target = d.target, key = d.key, errors = d.errors }, DOCUMENT_ORDER)
  end
  return require("dkjson").encode(object({ job_id = self.job_id, failed = self.failed, groups = groups,
                                            documents = docs }, REPORT_ORDER))
end

-- The work behind Job:failures.
-- job:failures() -> report, or nil, err. One filtered listing (statuses =
-- {"Failed"}, as many pages as it takes). Documents are grouped by their error
-- chain ("InvalidRequest > EmptyDocument": the innermost code is the one that
-- says what went wrong), the biggest group first.
function L.failures(job, opts)
  check_job(job, "failures", "documents")
  if opts ~= nil and type(opts) ~= "table" then usage("bad argument 'opts': a table expected") end
  local list_opts = { statuses = { "Failed" } }
  if opts and opts.page_size ~= nil then list_opts.page_size = opts.page_size end
  for k in pairs(opts or {}) do
    if k ~= "page_size" then usage("bad option '" .. tostring(k) .. "': not a failures option") end
  end
  local pages = job:documents(list_opts)
  local report = setmetatable({ job_id = job.id, failed = 0, groups = {}, documents = {} }, ReportMT)
  local by_key = {}
  while true do
    local page, err = pages:next_page()
    if page == nil then
      pages:close()
      if err then return nil, err end
      break
    end
    for _, doc in ipairs(page) do
      local e = doc.error
      local errors = chain_of(e)
      local codes = {}
      for i, link in ipairs(errors) do codes[i] = link.code or "?" end
      local key = #codes > 0 and table.concat(codes, " > ") or "(no error)"
      local entry = {
        id = doc.id, sourcePath = redact(doc.sourcePath), to = doc.to, key = key,
        code = errors[1] and errors[1].code, innermost = errors[#errors] and errors[#errors].code,
        message = errors[#errors] and errors[#errors].message or (errors[1] and errors[1].message),
        target = errors[1] and errors[1].target, errors = errors,
      }
      report.documents[#report.documents + 1] = entry
      report.failed = report.failed + 1
      local g = by_key[key]
      if g == nil then
        g = { key = key, code = entry.code, innermost = entry.innermost, count = 0, message = entry.message,
              documents = {} }
        by_key[key] = g
        report.groups[#report.groups + 1] = g
      end
      g.count = g.count + 1
      g.documents[#g.documents + 1] = entry
    end
  end
  table.sort(report.groups, function(a, b)
    if a.count ~= b.count then return a.count > b.count end
    return a.key < b.key
  end)
  return report
end

return L
