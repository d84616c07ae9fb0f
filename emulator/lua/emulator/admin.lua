-- The admin API under /_emulator/ (no key): jobs, faults, request log, tokens, settings, clock, reset.
local cjson = require "cjson.safe"
local util = require "emulator.util"
local model = require "emulator.model"
local store = require "emulator.store"
local faults = require "emulator.faults"
local service = require "emulator.service"
local pagecache = require "emulator.pagecache"

local floor = math.floor
local concat = table.concat

local M = {}

local function json(status, value)
  return status, cjson.encode(value)
end

local function fail(status, message)
  return status, cjson.encode({ error = { code = status == 404 and "NotFound" or "BadRequest", message = message } })
end

local function read_json()
  ngx.req.read_body()
  local data = ngx.req.get_body_data()
  if not data then
    local file = ngx.req.get_body_file()
    if file then
      local fh = io.open(file, "rb")
      if fh then data = fh:read("*a"); fh:close() end
    end
  end
  if not data or data:match("^%s*$") then return {} end
  local v = cjson.decode(data)
  if type(v) ~= "table" then return nil, "the body must be a JSON object" end
  return v
end

local function is_int(v, lo, hi)
  return type(v) == "number" and v == floor(v) and v >= lo and (not hi or v <= hi)
end

local function lang_ok(l)
  return type(l) == "string" and l:match("^%a%a%a?[%w%-]*$") ~= nil
end

---------------------------------------------------------------------------------------------------
-- Jobs

-- Validates an admin job description and turns it into model options. Returns opts or nil, message.
function M.job_options(b)
  local o = { kind = "admin" }
  if b.id ~= nil then
    if not util.is_uuid(b.id) then return nil, "id must be a GUID (the service's job ids are GUIDs)" end
    o.id = b.id:lower()
    if store.job(o.id) then return nil, "a job with id " .. o.id .. " already exists", 409 end
  else
    o.id = util.uuid()
  end
  o.documents = b.documents or 10
  if not is_int(o.documents, 0, 4294967295) then return nil, "documents must be an integer from 0" end
  if b.status ~= nil then
    o.status = model.canonical_status(b.status)
    if not o.status then return nil, "status must be one of " .. concat(model.STATUSES, ", ") end
  else
    o.status = "Succeeded"
  end
  if b.fail_every ~= nil then
    if not is_int(b.fail_every, 0) then return nil, "fail_every must be an integer >= 0" end
    o.fail_every = b.fail_every
  elseif o.status == "Failed" then
    o.fail_every = 1
  else
    o.fail_every = 0
  end
  for _, k in ipairs({ "duration", "cancel_delay", "gap", "run", "not_started" }) do
    if b[k] ~= nil then
      if type(b[k]) ~= "number" or b[k] < 0 then return nil, k .. " must be a number of seconds >= 0" end
      o[k] = b[k]
    end
  end
  if b.parallel ~= nil then
    if not is_int(b.parallel, 1) then return nil, "parallel must be an integer >= 1" end
    o.parallel = b.parallel
  end
  if b.characters ~= nil then
    if not is_int(b.characters, 0) then return nil, "characters must be an integer >= 0" end
    o.chars = b.characters
  end
  if b.next_link ~= nil then
    if not service.valid_style(b.next_link) then
      return nil, "next_link must be @nextLink, nextLink, both, relative, absolute or null (comma-combined)"
    end
    o.next_link = b.next_link
  end
  if b.created ~= nil then
    o.created = util.parse_date(b.created)
    if not o.created then return nil, "created must be an ISO-8601 date-time" end
  end
  for _, k in ipairs({ "stale", "uncounted", "explicit_port", "extra_fields" }) do
    if b[k] ~= nil and type(b[k]) ~= "boolean" then return nil, k .. " must be a boolean" end
  end
  o.stale, o.uncounted, o.extra_fields = b.stale, b.uncounted, b.extra_fields
  if b.error ~= nil then
    if type(b.error) ~= "table" or type(b.error.code) ~= "string" or type(b.error.message) ~= "string" then
      return nil, "error must be an object with code and message (and optional target, innerError)"
    end
    o.error = b.error
  end
  o.num = store.next_job_number()
  local host = b.explicit_port and "https://emulator.blob.core.windows.net:443" or
    "https://emulator.blob.core.windows.net"
  if b.source ~= nil then
    if type(b.source) ~= "string" or not b.source:match("^https?://") then return nil, "source must be a URL" end
    o.source = b.source:gsub("/+$", "")
  else
    o.source = host .. string.format("/source-%d", o.num)
  end
  local langs = b.languages or { "fr" }
  if type(langs) ~= "table" or #langs == 0 then return nil, "languages must be a non-empty array" end
  o.targets = {}
  for _, l in ipairs(langs) do
    if not lang_ok(l) then return nil, "languages holds an invalid language code: " .. tostring(l) end
    o.targets[#o.targets + 1] = { url = host .. string.format("/target-%d-%s", o.num, l), lang = l }
  end
  if o.status == "ValidationFailed" and not o.error then o.error = model.VALIDATION_ERROR end
  return o
end

-- The job as the service shows it now, plus an "_emulator" member describing the spec.
local function job_view(spec)
  local now = util.now_ticks()
  local st = model.state(spec, model.vtime(spec, now))
  local extra = cjson.encode({
    number = spec.num, documents = spec.n, fail_every = spec.fe, final = spec.final,
    next_link = spec.next_link or cjson.null, kind = spec.kind, parallel = spec.lanes,
    first_document_id = spec.n > 0 and model.doc_id(spec, 0) or cjson.null,
    last_document_id = spec.n > 0 and model.doc_id(spec, spec.n - 1) or cjson.null,
  })
  local body = model.job_json(spec, st)
  return body:sub(1, -2) .. ',"_emulator":' .. extra .. "}"
end

-- One job, or with "count": n (at most 10000) that many alike, for job lists that grow; those are
-- created one millisecond apart, oldest first, and answered as {"count": n, "ids": [...]}.
local function create_job()
  local b, err = read_json()
  if not b then return fail(400, err) end
  local count = b.count or 1
  if not is_int(count, 1, 10000) then return fail(400, "count must be an integer from 1 to 10000") end
  b.count = nil
  if count > 1 and b.id ~= nil then return fail(400, "id and count > 1 cannot go together") end
  local first = store.creation_ticks(util.now_ticks() - (count - 1) * 10000, count, 10000)
  local ids = {}
  for k = 1, count do
    local o, msg, code = M.job_options(b)
    if not o then return fail(code or 400, msg) end
    local spec = model.new_spec(o, first + (k - 1) * 10000)
    local ok, serr = store.put_job(spec, true)
    if not ok then return fail(500, "could not store the job: " .. tostring(serr)) end
    ids[k] = spec.id
  end
  if count > 1 then return json(201, { count = count, ids = ids }) end
  return 201, job_view(store.job(ids[1]))
end

---------------------------------------------------------------------------------------------------
-- Fixtures: fixed jobs that survive a reset

M.FIXTURES = {
  { id = "5fae77cb-59cd-4021-bae7-5fcc4fb6cd2c", status = "ValidationFailed", documents = 0,
    created = "2021-03-29T20:02:39.1637111Z" }, -- (of document 0; the job is created 0.5 s before)
  { id = "71ab389d-a2c3-4110-8988-8da4e5fd7408", status = "Succeeded", documents = 10,
    created = "2021-06-02T05:59:24.2625179Z", languages = { "es" } },
  { id = "0aea2ca5-0e55-4338-b701-f53ea3891e5c", status = "Succeeded", documents = 1000, fail_every = 7,
    created = "2024-04-30T00:07:38.3554268Z", languages = { "fr", "de" } },
}

function M.install_fixtures()
  for _, f in ipairs(M.FIXTURES) do
    if not store.job(f.id) then
      local o = assert(M.job_options(f))
      o.kind = "fixture"
      -- os.time: ngx.now is not available in init_by_lua, where fixtures are installed
      store.put_job(model.new_spec(o, (os.time() - 1577836800) * util.TICKS), true)
    end
  end
end

---------------------------------------------------------------------------------------------------
-- Settings

local SETTING_TYPES = {
  next_link = "style", stale = "boolean", uncounted = "boolean", stale_every = "int2", stale_seconds = "number",
  latency_ms = "number",
  log_max = "int1", start_documents = "int0", start_duration = "number", start_fail_every = "int0",
  start_not_started = "number",
  cancel_delay = "number", page_cache_mb = "number",
  cache_control = "header", etag_case = "case", chunked = "boolean", security_headers = "boolean",
}

local function set_settings()
  local b, err = read_json()
  if not b then return fail(400, err) end
  for k, v in pairs(b) do
    local t = SETTING_TYPES[k]
    if not t then return fail(400, "unknown setting '" .. tostring(k) .. "'") end
    if v ~= cjson.null then
      local ok
      if t == "style" then ok = service.valid_style(v)
      elseif t == "boolean" then ok = type(v) == "boolean"
      elseif t == "number" then ok = type(v) == "number" and v >= 0
      elseif t == "int0" then ok = is_int(v, 0)
      elseif t == "int1" then ok = is_int(v, 1)
      elseif t == "int2" then ok = is_int(v, 2)
      elseif t == "header" then ok = v == false or (type(v) == "string" and not v:find("[%c]"))
      elseif t == "case" then ok = v == "upper" or v == "lower"
      end
      if not ok then return fail(400, "invalid value for setting '" .. k .. "'") end
    end
  end
  store.set_settings(b)
  return json(200, store.settings())
end

---------------------------------------------------------------------------------------------------
-- The clock: what time it is for the service, moved by hand (specs) instead of waiting

local function clock_view()
  local offset, frozen = store.clock()
  local now = util.now_ticks()
  return json(200, {
    now = util.date(now), epoch = now / util.TICKS + 1577836800,
    offset = offset / util.TICKS, frozen = frozen ~= nil,
  })
end

local function set_clock()
  local b, err = read_json()
  if not b then return fail(400, err) end
  for k in pairs(b) do
    if k ~= "advance" and k ~= "freeze" then return fail(400, "unknown clock field '" .. tostring(k) .. "'") end
  end
  if b.advance ~= nil and (type(b.advance) ~= "number" or b.advance < 0 or b.advance ~= b.advance
      or b.advance > 3.2e8) then
    return fail(400, "advance must be a number of seconds >= 0 (the clock never goes back)")
  end
  if b.freeze ~= nil and type(b.freeze) ~= "boolean" then return fail(400, "freeze must be a boolean") end
  if b.freeze ~= nil then store.clock_freeze(b.freeze) end
  if b.advance and b.advance > 0 then store.clock_advance(util.seconds(b.advance)) end
  return clock_view()
end

---------------------------------------------------------------------------------------------------
-- Dispatch

function M.handle(_, uri)
  local method = ngx.req.get_method()
  local rest = uri:sub(11) -- after "/_emulator"
  if rest == "/health" and method == "GET" then
    return json(200, { ok = true, pid = ngx.worker.pid() })
  elseif rest == "/pagecache" and method == "GET" then
    return json(200, pagecache.info(store.settings()))
  elseif rest == "/reset" and method == "POST" then
    store.clear_jobs()
    store.clear_faults()
    store.log_clear()
    store.clear_tokens()
    store.reset_settings()
    store.clock_reset()
    return json(200, { reset = true })
  elseif rest == "/jobs" then
    if method == "POST" then return create_job() end
    if method == "GET" then
      local out = {}
      for _, spec in ipairs(store.jobs()) do out[#out + 1] = job_view(spec) end
      return 200, "[" .. concat(out, ",") .. "]"
    end
  elseif rest:match("^/jobs/[^/]+$") then
    local id = rest:match("^/jobs/([^/]+)$"):lower()
    if method == "GET" then
      local spec = store.job(id)
      if not spec then return fail(404, "no job " .. id) end
      return 200, job_view(spec)
    elseif method == "DELETE" then
      if not store.delete_job(id) then return fail(404, "no job " .. id) end
      return json(200, { deleted = id })
    end
  elseif rest == "/faults" then
    if method == "POST" then
      local b, err = read_json()
      if not b then return fail(400, err) end
      local f, msg = faults.validate(b)
      if not f then return fail(400, msg) end
      return json(201, { id = store.add_fault(f) })
    elseif method == "GET" then
      local out = {}
      for _, f in ipairs(store.faults()) do
        f.hits = ngx.shared.emulator:get("fault:" .. f.id .. ":hits") or 0
        f.fired = ngx.shared.emulator:get("fault:" .. f.id .. ":fired") or 0
        out[#out + 1] = cjson.encode(f)
      end
      return 200, "[" .. concat(out, ",") .. "]"
    elseif method == "DELETE" then
      store.clear_faults()
      return json(200, { cleared = true })
    end
  elseif rest:match("^/faults/%d+$") and method == "DELETE" then
    local k = tonumber(rest:match("(%d+)$"))
    if not store.delete_fault(k) then return fail(404, "no fault " .. k) end
    return json(200, { deleted = k })
  elseif rest == "/requests" then
    if method == "GET" then
      local since = tonumber(ngx.var.arg_since)
      return 200, "[" .. concat(store.log_entries(since), ",") .. "]"
    elseif method == "DELETE" then
      store.log_clear()
      return json(200, { cleared = true })
    end
  elseif rest == "/clock" then
    if method == "GET" then return clock_view() end
    if method == "POST" then return set_clock() end
    if method == "DELETE" then
      store.clock_reset()
      return clock_view()
    end
  elseif rest == "/tokens" and method == "POST" then
    local b, err = read_json()
    if not b then return fail(400, err) end
    local expires = b.expires_in or 3600
    if type(expires) ~= "number" or expires <= 0 then return fail(400, "expires_in must be a number > 0") end
    local token = util.token()
    store.add_token(token, expires)
    return json(201, { token = token, token_type = "Bearer", expires_in = expires })
  elseif rest == "/settings" then
    if method == "GET" then return json(200, store.settings()) end
    if method == "POST" then return set_settings() end
    if method == "DELETE" then
      store.reset_settings()
      return json(200, store.settings())
    end
  else
    return fail(404, "no admin route " .. uri)
  end
  return fail(405, "method " .. method .. " not allowed on " .. uri)
end

return M
