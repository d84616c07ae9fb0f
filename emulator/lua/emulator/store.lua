-- State shared by every nginx worker, in the "emulator" lua_shared_dict, with per-worker caches
-- invalidated by version counters. Keys:
--   jobs:ver, jobs:n, jobs:at:<k> = id, job:<id> = spec (JSON), jobnum
--   settings (JSON), settings:ver
--   faults:ver, faults:n, fault:<k> (JSON), fault:<k>:hits, fault:<k>:fired
--   token:<token> = expiry (ticks, emulated clock)
--   clock:offset, clock:frozen (the emulated clock, see util.now_ticks), clock:created (the
--   last job's creation instant)
--   log:seq, log:first, log:<seq> (JSON)
local cjson = require "cjson.safe"
local model = require "emulator.model"

local dict = ngx.shared.emulator
local store = {}

-- JSON for stored specs: numbers keep all their digits (cjson's encoder stops at 14; ticks need 16).
local util = require "emulator.util"
local json_string = util.json_string
local function encode(v)
  local t = type(v)
  if t == "number" then
    if v == math.floor(v) and v > -2 ^ 53 and v < 2 ^ 53 then return string.format("%d", v) end
    return string.format("%.17g", v)
  elseif t == "string" then
    return json_string(v)
  elseif t == "boolean" then
    return tostring(v)
  elseif t == "table" then
    local out = {}
    if #v > 0 then
      for i = 1, #v do out[i] = encode(v[i]) end
      return "[" .. table.concat(out, ",") .. "]"
    end
    for k, x in pairs(v) do
      if type(k) == "string" and k:sub(1, 1) ~= "_" and type(x) ~= "function" then
        out[#out + 1] = json_string(k) .. ":" .. encode(x)
      end
    end
    return "{" .. table.concat(out, ",") .. "}"
  end
  return "null"
end
store.encode = encode

local function bump(key)
  return dict:incr(key, 1, 0)
end

---------------------------------------------------------------------------------------------------
-- Jobs

local job_cache, job_cache_ver = {}, -1
local list_cache, list_cache_ver = nil, -1

local function check_job_cache()
  local ver = dict:get("jobs:ver") or 0
  if ver ~= job_cache_ver then
    job_cache, job_cache_ver = {}, ver
    list_cache = nil
  end
  return ver
end

function store.next_job_number()
  return bump("jobnum")
end

function store.put_job(spec, is_new)
  local text = encode(spec)
  local ok, err = dict:set("job:" .. spec.id, text)
  if not ok then return nil, err end
  if is_new then
    local k = bump("jobs:n")
    dict:set("jobs:at:" .. k, spec.id)
  end
  bump("jobs:ver")
  return true
end

function store.job(id)
  check_job_cache()
  local spec = job_cache[id]
  if spec == nil then
    local text = dict:get("job:" .. id)
    if text then
      spec = model.prepare(cjson.decode(text))
    else
      spec = false
    end
    job_cache[id] = spec
  end
  return spec or nil
end

-- Every job, oldest first.
function store.jobs()
  local ver = check_job_cache()
  if list_cache and list_cache_ver == ver then return list_cache end
  local list = {}
  local n = dict:get("jobs:n") or 0
  for k = 1, n do
    local id = dict:get("jobs:at:" .. k)
    if id then
      local spec = store.job(id)
      if spec then list[#list + 1] = spec end
    end
  end
  list_cache, list_cache_ver = list, ver
  return list
end

-- Every job by creation (ties by job number), oldest first; cached until a job changes.
local sorted_cache, sorted_ver = nil, -1
function store.jobs_by_created()
  local ver = check_job_cache()
  if sorted_cache and sorted_ver == ver then return sorted_cache end
  local list = {}
  for k, spec in ipairs(store.jobs()) do list[k] = spec end
  table.sort(list, function(a, b)
    if a.created ~= b.created then return a.created < b.created end
    return a.num < b.num
  end)
  sorted_cache, sorted_ver = list, ver
  return list
end

function store.delete_job(id)
  if not dict:get("job:" .. id) then return false end
  dict:delete("job:" .. id)
  local n = dict:get("jobs:n") or 0
  for k = 1, n do
    if dict:get("jobs:at:" .. k) == id then dict:delete("jobs:at:" .. k) end
  end
  bump("jobs:ver")
  return true
end

-- Deletes every job except the fixtures (kind "fixture").
function store.clear_jobs()
  local n = dict:get("jobs:n") or 0
  for k = 1, n do
    local id = dict:get("jobs:at:" .. k)
    if id then
      local spec = store.job(id)
      if not spec or spec.kind ~= "fixture" then
        dict:delete("jobs:at:" .. k)
        dict:delete("job:" .. id)
      end
    end
  end
  bump("jobs:ver")
end

---------------------------------------------------------------------------------------------------
-- Settings

store.DEFAULT_SETTINGS = {
  next_link = "@nextLink",  -- "@nextLink" | "nextLink" | "both", plus ",relative" and/or ",null"
  stale = false,            -- every stale_every-th job status read answers an older state
  stale_every = 3,
  stale_seconds = 2,
  latency_ms = 0,           -- added to every service answer
  log_max = 10000,          -- request log entries kept
  start_documents = 20,     -- jobs started by POST /batches
  start_duration = 8,
  start_fail_every = 7,
  start_not_started = false, -- seconds a started job stays NotStarted (false: a tenth of its duration, at most 1)
  cancel_delay = 1,         -- seconds from Cancelling to Cancelled
  uncounted = true,         -- started jobs show total 0 (and no documents) while NotStarted
  page_cache_mb = 128,      -- MiB of rendered pages of ended jobs kept per worker (0: off)
  -- the service's headers (the recordings); each can be turned back to the emulator's former answer
  cache_control = "public, max-age=1", -- Cache-Control of job and list GETs ("" or false: none)
  etag_case = "upper",      -- ETag hex digits: "upper" as the service, or "lower"
  chunked = true,           -- bodies sent chunked as the service does (false: with Content-Length)
  security_headers = true,  -- Strict-Transport-Security and X-Content-Type-Options: nosniff
}

local settings_cache, settings_ver = nil, -1
function store.settings()
  local ver = dict:get("settings:ver") or 0
  if settings_cache and ver == settings_ver then return settings_cache end
  local s = {}
  for k, v in pairs(store.DEFAULT_SETTINGS) do s[k] = v end
  local text = dict:get("settings")
  if text then
    for k, v in pairs(cjson.decode(text) or {}) do s[k] = v end
  end
  settings_cache, settings_ver = s, ver
  return s
end

function store.set_settings(changes)
  local text = dict:get("settings")
  local cur = text and cjson.decode(text) or {}
  for k, v in pairs(changes) do
    if v == cjson.null then cur[k] = nil else cur[k] = v end
  end
  dict:set("settings", cjson.encode(cur))
  bump("settings:ver")
end

function store.reset_settings()
  dict:delete("settings")
  bump("settings:ver")
end

---------------------------------------------------------------------------------------------------
-- Tokens

-- A token expires on the emulated clock (util.now_ticks), so advancing the clock expires it.
function store.add_token(token, seconds)
  dict:set("token:" .. token, util.now_ticks() + util.seconds(seconds))
end

function store.token_ok(token)
  local expires = dict:get("token:" .. token)
  return type(expires) == "number" and util.now_ticks() < expires
end

---------------------------------------------------------------------------------------------------
-- The emulated clock (read by util.now_ticks): clock:offset (ticks added to the real clock) and
-- clock:frozen (the real instant, in ticks, the clock stopped at; absent while it runs).

function store.clock()
  return dict:get("clock:offset") or 0, dict:get("clock:frozen")
end

-- Moves the clock forward by ticks (atomic: several workers may advance at once).
function store.clock_advance(ticks)
  return dict:incr("clock:offset", ticks, 0)
end

-- Stops the clock where it is (freeze true) or lets it run on from there (false).
function store.clock_freeze(freeze)
  local offset, frozen = store.clock()
  local real = util.real_ticks()
  if freeze and not frozen then
    dict:set("clock:frozen", real)
  elseif not freeze and frozen then
    -- what was frozen is now: the offset takes up the real time that passed meanwhile
    dict:set("clock:offset", offset + frozen - real)
    dict:delete("clock:frozen")
  end
end

-- Back to the real clock. Time goes back: jobs are recomputed, cached pages dropped.
function store.clock_reset()
  dict:delete("clock:offset")
  dict:delete("clock:frozen")
  dict:delete("clock:created")
  bump("jobs:ver")
end

-- The instant for the first of `count` jobs created `spacing` ticks apart, wanted at `first`:
-- never at or before the last job created (clock:created), so that jobs created within one
-- millisecond of the clock, or while it is frozen, still have distinct creation dates in
-- creation order, as the service's have.
function store.creation_ticks(first, count, spacing)
  local last = dict:get("clock:created")
  if last and first <= last then first = last + 1 end
  dict:set("clock:created", first + (count - 1) * spacing)
  return first
end

function store.clear_tokens()
  for _, key in ipairs(dict:get_keys(0)) do
    if key:sub(1, 6) == "token:" then dict:delete(key) end
  end
end

---------------------------------------------------------------------------------------------------
-- Faults

local fault_cache, fault_ver = {}, -1
function store.faults()
  local ver = dict:get("faults:ver") or 0
  if ver == fault_ver then return fault_cache end
  local list = {}
  local n = dict:get("faults:n") or 0
  for k = 1, n do
    local text = dict:get("fault:" .. k)
    if text then list[#list + 1] = cjson.decode(text) end
  end
  fault_cache, fault_ver = list, ver
  return list
end

function store.add_fault(f)
  local k = bump("faults:n")
  f.id = k
  dict:set("fault:" .. k, cjson.encode(f))
  bump("faults:ver")
  return k
end

function store.delete_fault(k)
  if not dict:get("fault:" .. k) then return false end
  dict:delete("fault:" .. k)
  dict:delete("fault:" .. k .. ":hits")
  dict:delete("fault:" .. k .. ":fired")
  bump("faults:ver")
  return true
end

function store.clear_faults()
  local n = dict:get("faults:n") or 0
  for k = 1, n do
    dict:delete("fault:" .. k)
    dict:delete("fault:" .. k .. ":hits")
    dict:delete("fault:" .. k .. ":fired")
  end
  bump("faults:ver")
end

function store.fault_hit(k)
  return bump("fault:" .. k .. ":hits")
end

function store.fault_fired(k, delta)
  return dict:incr("fault:" .. k .. ":fired", delta or 0, 0)
end

---------------------------------------------------------------------------------------------------
-- Request log (a ring of the last log_max entries)

function store.log_add(entry, max_entries)
  local seq = bump("log:seq")
  entry.seq = seq
  dict:set("log:" .. seq, cjson.encode(entry))
  local old = seq - max_entries
  if old > 0 then dict:delete("log:" .. old) end
  return seq
end

function store.log_seq()
  return dict:get("log:seq") or 0
end

function store.log_entries(since)
  local seq = dict:get("log:seq") or 0
  local first = math.max(dict:get("log:first") or 1, (since or 0) + 1)
  local out = {}
  for k = first, seq do
    local text = dict:get("log:" .. k)
    if text then out[#out + 1] = text end
  end
  return out
end

function store.log_clear()
  local seq = dict:get("log:seq") or 0
  local first = dict:get("log:first") or 1
  for k = first, seq do dict:delete("log:" .. k) end
  dict:set("log:first", seq + 1)
end

return store
