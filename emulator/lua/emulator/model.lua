-- The job model: a job is a small "spec" (numbers and strings, no per-document data); every
-- document, status, summary and page is computed from the spec and the (virtual) time.
--
-- Timeline of a job with n documents processed by P lanes in W = ceil(n / P) waves:
--   created            the job's createdDateTimeUtc
--   d0 + i * dgap      document i's createdDateTimeUtc (all before start)
--   start + w * run    wave w (documents w*P .. w*P+P-1) starts; it ends at start + (w+1) * run
--   cancel_at          (virtual) time a cancel was asked: progress freezes there, the job is Cancelling
--   cancel_done        the job becomes Cancelled, its unfinished documents Cancelled (-1: never)
-- Documents 0 .. d-1 are done (every fe-th one Failed, the others Succeeded), the next ones Running,
-- the rest NotStarted (or Cancelled). Within each of these groups lastActionDateTimeUtc grows with the
-- index, which is what lets every filter, order and page be computed arithmetically.
local util = require "emulator.util"

local floor, ceil, min, max = math.floor, math.ceil, math.min, math.max
local format, concat = string.format, table.concat
local date, json_string, int = util.date, util.json_string, util.int

local M = {}

M.STATUSES = { "NotStarted", "Running", "Succeeded", "Failed", "Cancelled", "Cancelling", "ValidationFailed" }
M.TERMINAL = { Succeeded = true, Failed = true, Cancelled = true, ValidationFailed = true }

-- Status names as accepted in filters and in the admin API (case-insensitive; Canceled = Cancelled).
local canonical = {}
for _, s in ipairs(M.STATUSES) do canonical[s:lower()] = s end
canonical.canceled = "Cancelled"
function M.canonical_status(s)
  return type(s) == "string" and canonical[s:lower()] or nil
end

local function error_json(code, message, target, inner_code, inner_message)
  local t = { '{"code":', json_string(code), ',"message":', json_string(message) }
  if target then t[#t + 1] = ',"target":' .. json_string(target) end
  if inner_code then
    t[#t + 1] = ',"innerError":{"code":' .. json_string(inner_code) .. ',"message":' ..
      json_string(inner_message or message) .. "}"
  end
  t[#t + 1] = "}"
  return concat(t)
end
M.error_json = error_json

-- Errors of failed documents, chosen by index.
local DOC_ERRORS = {
  error_json("InvalidRequest", "Document is empty or missing main part.", "Document", "EmptyDocument"),
  error_json("InvalidRequest", "The document does not have any translatable text.", "Document",
    "NoTranslatableText"),
  error_json("InvalidRequest", "The input document is corrupted or cannot be opened.", "Document",
    "DocumentCorrupted"),
}

M.VALIDATION_ERROR = {
  code = "InvalidRequest",
  message = "Cannot access source document location with the current permissions.",
  target = "Operation",
  innerError = { code = "InvalidDocumentAccessLevel",
                 message = "Cannot access source document location with the current permissions." },
}

local function default_lanes(n)
  if n <= 0 then return 1 end
  if n <= 400 then return min(n, 4) end
  return ceil(n / 100)
end

-- Number of failing documents among indexes 0 .. n-1 (index i fails when (i + 1) % fe == 0).
local function nfail(fe, n)
  if fe <= 0 or n <= 0 then return 0 end
  return floor(n / fe)
end
M.nfail = nfail

local function is_failed(fe, i)
  return fe > 0 and (i + 1) % fe == 0
end

-- Characters charged for a succeeded document i: base + 3 * (i % 7).
local function chars(s, i)
  return s.chars0 + 3 * (i % 7)
end

-- Sum of chars over every document 0 .. d-1, minus the failing ones.
local function charged(s, d)
  if d <= 0 then return 0 end
  local full, rest = floor(d / 7), d % 7
  local all = d * s.chars0 + 3 * (full * 21 + rest * (rest - 1) / 2)
  local fe = s.fe
  local f = nfail(fe, d)
  if f == 0 then return all end
  -- failing indexes are k*fe - 1 for k = 1 .. f; their (index % 7) repeats every 7 values of k
  local period, part = 0, 0
  local whole, left = floor(f / 7), f % 7
  for k = 1, 7 do
    local v = (k * fe - 1) % 7
    period = period + v
    if k <= left then part = part + v end
  end
  return all - (f * s.chars0 + 3 * (whole * period + part))
end

---------------------------------------------------------------------------------------------------
-- Building a spec

-- opts (already validated): id, num, documents, fail_every, status, duration (s), created (ticks),
-- parallel, chars, languages, source, targets ({url, lang}), cancel_delay (s), gap (s), run (s),
-- next_link, stale, error (table), kind
function M.new_spec(o, now)
  local n = o.documents or 10
  local P = o.parallel or default_lanes(n)
  local W = n > 0 and ceil(n / P) or 0
  local final = o.status or "Succeeded"
  local s = {
    id = o.id, num = o.num, n = n, fe = o.fail_every or 0, final = final, lanes = P, waves = W,
    chars0 = o.chars or 27, next_link = o.next_link, stale = o.stale or nil, kind = o.kind or "admin",
    uncounted = o.uncounted or nil, extra_fields = o.extra_fields or nil,
    source = o.source, targets = o.targets, shift = 0, error = o.error, port = o.port or nil,
  }
  local cdelay = util.seconds(o.cancel_delay or 1)
  local dur = o.duration or 0
  if dur > 0 then
    -- A live job: created now, NotStarted for a moment, then waves until created + duration.
    local D = util.seconds(dur)
    local span = D
    if final ~= "Succeeded" and final ~= "Failed" and final ~= "ValidationFailed" then
      span = 2 * D -- the run that would end at 2D is stopped (or cancelled) at D
    end
    local c = now
    local ns = o.not_started and max(1, min(D - 1, util.seconds(o.not_started))) or
      max(1, min(util.seconds(1), floor(D / 10)))
    s.created = c
    s.d0 = c + 1
    s.dgap = max(1, floor((ns - 1) / max(n, 1)))
    s.start = max(c + ns, s.d0 + n * s.dgap)
    s.run = max(1, floor((c + span - s.start) / max(W, 1)))
    if final == "Running" then
      s.till = c + D
    elseif final == "NotStarted" then
      s.at = c
    elseif final == "Cancelled" then
      s.cancel_at = c + floor(D / 2)
      s.cancel_done = c + D
    elseif final == "Cancelling" then
      s.cancel_at = c + floor(D / 2)
      s.cancel_done = -1
    elseif final == "ValidationFailed" then
      s.start = c + D
    end
  else
    -- A job that is already where it was asked to be: evaluated at a fixed time.
    -- By default the job was created a day before now (so jobs keep their creation order) and its
    -- timeline fits in the first half of that day: 0.4 s between documents, 2 s a wave at most.
    local half = util.seconds(21600)
    s.dgap = o.gap and max(1, util.seconds(o.gap)) or max(1, min(util.seconds(0.4), floor(half / max(n, 1))))
    s.run = o.run and max(1, util.seconds(o.run)) or max(1, min(util.seconds(2), floor(half / max(W, 1))))
    if o.created then
      s.d0 = o.created
      s.created = s.d0 - util.seconds(0.5)
    else
      s.created = now - util.seconds(86400)
      s.d0 = s.created + util.seconds(0.5)
    end
    s.start = s.d0 + n * s.dgap
    local mid = s.start + floor(W / 2) * s.run + floor(s.run / 2)
    if final == "Succeeded" or final == "Failed" then
      s.at = s.start + W * s.run
    elseif final == "Running" then
      s.at = mid
    elseif final == "NotStarted" then
      s.at = s.created
    elseif final == "Cancelled" then
      s.cancel_at = mid
      s.cancel_done = mid + cdelay
      s.at = s.cancel_done
    elseif final == "Cancelling" then
      s.cancel_at = mid
      s.cancel_done = -1
      s.at = mid + 1
    elseif final == "ValidationFailed" then
      s.at = s.start
    end
  end
  s.cancel_delay = cdelay
  return s
end

-- Derived, non-stored fields (escaped strings) computed once per worker and spec version.
function M.prepare(s)
  local tg = {}
  for i, t in ipairs(s.targets) do
    local url = t.url
    tg[i] = { path = json_string(url):sub(1, -2), lang = json_string(t.lang) }
  end
  s._targets = tg
  s._ntargets = #tg
  s._source = json_string(s.source):sub(1, -2)
  s._idtail = format("-0000-0000-0000-%012x", s.num)
  s._error = s.error and M.encode_error(s.error) or nil
  return s
end

-- An error table {code, message, target, innerError = {...}} in the wire's key order.
function M.encode_error(e)
  local t = { '{"code":', json_string(e.code or "InvalidRequest"), ',"message":', json_string(e.message or "") }
  if e.target then t[#t + 1] = ',"target":' .. json_string(e.target) end
  local inner = e.innerError or e.innererror
  if type(inner) == "table" then t[#t + 1] = ',"innerError":' .. M.encode_error(inner) end
  t[#t + 1] = "}"
  return concat(t)
end

---------------------------------------------------------------------------------------------------
-- State at a time

-- The virtual time at which a job is evaluated for a request arriving at `now`.
function M.vtime(s, now)
  if s.at then return s.at end
  local t = now + s.shift
  if s.till and t > s.till then t = s.till end
  return t
end

local function job_end(s)
  return s.start + s.waves * s.run
end

-- Snapshot of a job at virtual time t: counts, status, the job's lastAction.
function M.state(s, t)
  local n, P = s.n, s.lanes
  local r = { t = t, tt = t }
  if s.final == "ValidationFailed" then
    r.d, r.r, r.ns, r.cancelled, r.failed, r.success, r.charged, r.total = 0, 0, 0, 0, 0, 0, 0, 0
    if s.cancel_at and t >= s.cancel_at then
      -- cancelled before the validation ended
      if s.cancel_done >= 0 and t >= s.cancel_done then
        r.status, r.la = "Cancelled", s.cancel_done
      else
        r.status, r.la = "Cancelling", s.cancel_at
      end
    elseif t < s.start then
      r.status, r.la = "NotStarted", s.created
    else
      r.status, r.la = "ValidationFailed", s.start
    end
    r.visible = false
    return r
  end
  local tt, phase = t, nil
  if s.cancel_at and t >= s.cancel_at then
    tt = s.cancel_at
    phase = (s.cancel_done >= 0 and t >= s.cancel_done) and "Cancelled" or "Cancelling"
  end
  r.tt = tt
  local d, running, w = 0, 0, -1
  if tt >= s.start then
    w = floor((tt - s.start) / s.run)
    d = min(n, w * P)
    running = min(P, n - d)
  end
  r.w = w
  r.d = d
  r.visible = true
  r.total = n
  if phase == "Cancelled" then
    r.r, r.ns, r.cancelled = 0, 0, n - d
  else
    r.r, r.ns, r.cancelled = running, n - d - running, 0
  end
  r.phase = phase
  if s.uncounted and tt < s.start and phase ~= "Cancelled" then
    -- not counted yet: the service showed total 0 (and no documents) until it had scanned them
    r.total, r.ns, r.visible = 0, 0, false
  end
  r.failed = nfail(s.fe, d)
  r.success = d - r.failed
  r.charged = charged(s, d)
  if phase == "Cancelled" then
    r.status, r.la = "Cancelled", s.cancel_done
  elseif phase == "Cancelling" then
    r.status, r.la = "Cancelling", s.cancel_at
  elseif tt < s.start then
    r.status, r.la = "NotStarted", s.created
  elseif d >= n then
    if s.final == "Failed" or (r.success == 0 and r.failed > 0) then
      r.status = "Failed"
    else
      r.status = "Succeeded"
    end
    r.la = job_end(s)
  else
    r.status, r.la = "Running", s.start + w * s.run
  end
  return r
end

---------------------------------------------------------------------------------------------------
-- Documents

function M.doc_status(s, st, i)
  if i < st.d then
    return is_failed(s.fe, i) and "Failed" or "Succeeded"
  elseif st.cancelled > 0 then
    return "Cancelled"
  elseif i < st.d + st.r then
    return "Running"
  end
  return "NotStarted"
end

function M.doc_created(s, i)
  return s.d0 + i * s.dgap
end

function M.doc_last_action(s, st, i)
  if i < st.d then
    return s.start + (floor(i / s.lanes) + 1) * s.run
  elseif st.cancelled > 0 then
    return s.cancel_done
  elseif i < st.d + st.r then
    return s.start + floor(i / s.lanes) * s.run
  end
  return s.d0 + i * s.dgap
end

function M.doc_id(s, i)
  return format("%08x", i) .. s._idtail
end

-- Index of a document id of this job, or nil.
function M.doc_index(s, id)
  if type(id) ~= "string" then return nil end
  local head, tail = id:lower():match("^(%x%x%x%x%x%x%x%x)(%-0000%-0000%-0000%-%x+)$")
  if not head or tail ~= s._idtail then return nil end
  local i = tonumber(head, 16)
  if i >= s.n or (s.final == "ValidationFailed") then return nil end
  return i
end

local function progress_text(s, st, i)
  local x = (st.tt - (s.start + floor(i / s.lanes) * s.run)) / s.run
  x = floor(x * 100) / 100
  if x <= 0 then return "0" end
  if x >= 1 then x = 0.99 end
  return (format("%.2f", x):gsub("0+$", ""))
end

-- Appends a document's JSON text, in the recorded field order, to a buffer (util.buffer).
local put_date = util.put_date
function M.doc_put(b, s, st, i)
  local status = M.doc_status(s, st, i)
  local ntg = s._ntargets
  local tg = s._targets[i % ntg + 1]
  local n = floor(i / ntg)
  if status ~= "Failed" then
    b:put('{"path":', tg.path)
    b:putf("/document-%07d.txt", n)
    b:put('","sourcePath":', s._source)
  else
    b:put('{"sourcePath":', s._source)
  end
  b:putf("/document-%07d.txt", n)
  b:put('","createdDateTimeUtc":"')
  put_date(b, s.d0 + i * s.dgap)
  b:put('","lastActionDateTimeUtc":"')
  put_date(b, M.doc_last_action(s, st, i))
  b:put('","status":"', status, '","to":', tg.lang)
  if status == "Succeeded" then
    b:put(',"progress":1')
  elseif status == "Failed" then
    b:put(',"error":', DOC_ERRORS[floor(i / max(s.fe, 1)) % #DOC_ERRORS + 1], ',"progress":0')
  elseif status == "Running" then
    b:put(',"progress":', progress_text(s, st, i))
  else
    b:put(',"progress":0')
  end
  b:putf(',"id":"%08x', i)
  b:put(s._idtail, '","characterCharged":')
  if status == "Succeeded" then b:putf("%d", chars(s, i)) else b:put("0") end
  b:put(s.extra_fields and ',"deploymentName":"default","imageCharged":0,"imageCharacterDetected":0}' or "}")
  return b
end

-- A document's JSON text.
local doc_buf = util.buffer()
function M.doc_json(s, st, i)
  return M.doc_put(doc_buf:reset(), s, st, i):get()
end

-- A job's JSON text (TranslationStatus), in the recorded field order.
function M.job_json(s, st)
  local t = {
    '{"id":', json_string(s.id),
    ',"createdDateTimeUtc":"', date(s.created),
    '","lastActionDateTimeUtc":"', date(st.la),
    '","status":"', st.status, '"',
  }
  if st.status == "ValidationFailed" then
    t[#t + 1] = ',"error":' .. (s._error or M.encode_error(M.VALIDATION_ERROR))
  elseif s._error and (st.status == "Failed") then
    t[#t + 1] = ',"error":' .. s._error
  end
  t[#t + 1] = ',"summary":{"total":' .. int(st.total) .. ',"failed":' .. int(st.failed) ..
    ',"success":' .. int(st.success) .. ',"inProgress":' .. int(st.r) .. ',"notYetStarted":' ..
    int(st.ns) .. ',"cancelled":' .. int(st.cancelled) .. ',"totalCharacterCharged":' ..
    int(st.charged) ..
    (s.extra_fields and ',"totalImageScansSucceeded":0,"totalImageScansFailed":0,"totalImageCharged":0}}' or "}}")
  return concat(t)
end

---------------------------------------------------------------------------------------------------
-- Selections: which documents a filtered, ordered listing holds, by rank.

-- Within [a, b], "all" indexes, only the failing ones ("fail") or only the others ("ok").
local function part_count(fe, kind, a, b)
  if kind == "all" then return b - a + 1 end
  local f = nfail(fe, b + 1) - nfail(fe, a)
  if kind == "fail" then return f end
  return (b - a + 1) - f
end

-- The k-th (0-based) index of the part in ascending order.
local function part_nth(fe, kind, a, k)
  if kind == "all" then return a + k end
  if kind == "fail" then
    local r = nfail(fe, a) + k
    return (r + 1) * fe - 1
  end
  local r = (a - nfail(fe, a)) + k
  if fe <= 0 then return r end
  return r + floor(r / (fe - 1))
end

-- filt: statuses (set of canonical names or nil), lo/hi (created ticks or nil),
-- order ("created" | "lastAction"), desc (boolean), ids (array of strings or nil).
function M.select(s, st, filt)
  local sel = { desc = filt.desc }
  if not st.visible then
    sel.total = 0
    sel.list = {}
    return sel
  end
  local n = s.n
  local ilo, ihi = 0, n - 1
  if filt.lo then ilo = max(ilo, ceil((filt.lo - s.d0) / s.dgap)) end
  if filt.hi then ihi = min(ihi, floor((filt.hi - s.d0) / s.dgap)) end
  local want = filt.statuses
  if filt.ids then
    -- at most a few lookups: the ids, checked one by one, then sorted
    local seen, list = {}, {}
    for _, id in ipairs(filt.ids) do
      local i = M.doc_index(s, id)
      if i and not seen[i] and i >= ilo and i <= ihi and (not want or want[M.doc_status(s, st, i)]) then
        seen[i] = true
        list[#list + 1] = i
      end
    end
    if filt.order == "lastAction" then
      local keys = {}
      for _, i in ipairs(list) do keys[i] = M.doc_last_action(s, st, i) end
      table.sort(list, function(a, b)
        if keys[a] ~= keys[b] then return keys[a] < keys[b] end
        return a < b
      end)
    else
      table.sort(list)
    end
    sel.list = list
    sel.total = #list
    return sel
  end
  local d, r = st.d, st.r
  local done = { 0, d - 1, "done" }
  local running = { d, d + r - 1, "Running" }
  local rest
  if st.cancelled > 0 then
    rest = { d, n - 1, "Cancelled" }
  else
    rest = { d + r, n - 1, "NotStarted" }
  end
  local segs
  if filt.order == "lastAction" and rest[3] == "NotStarted" then
    segs = { rest, done, running }
  else
    segs = { done, running, rest }
  end
  local parts, total = {}, 0
  for _, seg in ipairs(segs) do
    local a, b = max(seg[1], ilo), min(seg[2], ihi)
    if a <= b then
      local kind
      if seg[3] == "done" then
        local fe = s.fe
        local wf = (not want or want.Failed) and fe > 0
        local ws = (not want or want.Succeeded) and fe ~= 1
        if wf and ws then kind = "all" elseif wf then kind = "fail" elseif ws then kind = "ok" end
        if kind == "ok" and fe == 0 then kind = "all" end
      elseif not want or want[seg[3]] then
        kind = "all"
      end
      if kind then
        local c = part_count(s.fe, kind, a, b)
        if c > 0 then
          parts[#parts + 1] = { a, b, kind, c }
          total = total + c
        end
      end
    end
  end
  sel.parts = parts
  sel.total = total
  return sel
end

-- Document index at rank k (0-based, in the listing's order).
function M.at(s, sel, k)
  if sel.desc then k = sel.total - 1 - k end
  if sel.list then return sel.list[k + 1] end
  for _, p in ipairs(sel.parts) do
    if k < p[4] then return part_nth(s.fe, p[3], p[1], k) end
    k = k - p[4]
  end
  return nil
end

return M
