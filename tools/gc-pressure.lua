-- Lifetime and hostile-input pressure on the C core, for the sanitizer runs
-- (`make test-asan`, `make test-valgrind`, mk/quality.mk); not a spec, a
-- driver whose only verdict is "no sanitizer report, no Lua error".
--
-- Against the running emulator (DT_EMULATOR_*), ROUNDS times:
--   * listings dropped mid-page, mid-listing, after `break` (a to-be-closed
--     value on 5.4), inside an abandoned coroutine, with the client already
--     unreachable; pages kept after their iterator and client are gone;
--     documents, jobs and error values read after everything else is gone;
--     continuation tokens resumed by a new client; use after close;
--   * the sans-I/O surface fed hostile responses (truncated and deep JSON,
--     wrong types, odd next links, huge strings, bad statuses and headers)
--     that must end in a page, a typed error or a usage error.
-- A full collection runs between steps; run it with DT_GC_STRESS=1 for more.
--
--   lua -e "dofile'tools/sanitizer-prelude.lua'" tools/gc-pressure.lua
local dt = require "doctranslate"
local emu = require "support.emulator"

local ROUNDS = tonumber(os.getenv("GC_PRESSURE_ROUNDS") or "") or 3
local steps = 0

local function full_gc()
  collectgarbage("collect")
  collectgarbage("collect")
end

local function step(name, f)
  local ok, err = xpcall(f, debug.traceback)
  full_gc()
  if not ok then
    error("gc-pressure: " .. name .. ": " .. tostring(type(err) == "table" and err.message or err), 0)
  end
  steps = steps + 1
end

local function client(o)
  local opts = { endpoint = emu.http, key = emu.key, retry_base = 0.01, retry_max = 0.05 }
  for k, v in pairs(o or {}) do opts[k] = v end
  return dt.new(opts)
end

local function new_job(n)
  local j = emu.create_job{ documents = n, fail_every = 3 }
  return type(j) == "table" and (j.id or j.job_id) or j
end

local function use(...) return select("#", ...) end

local function touch(obj)
  -- every kind of read, on an object whose owners may all be gone
  use(tostring(obj), obj.id, obj.status, obj.error, obj.createdDateTimeUtc)
  if obj.error then use(obj.error.code, obj.error.innerError) end
  use(obj.summary and obj.summary.total)
  pcall(obj.time, obj, "createdDateTimeUtc")
  pcall(obj.response, obj)
end

local function lifetimes(job_id)
  step("break mid-listing, drop everything", function()
    local n = 0
    for doc in client():documents(job_id, { page_size = 7 }) do
      n = n + 1
      if n == 10 then break end
      touch(doc)
    end
  end)

  step("iterator outlives its client", function()
    local it = client():documents(job_id, { page_size = 5 })
    full_gc()
    local d = it()
    full_gc()
    touch(d)
    it:close()
  end)

  step("documents and pages outlive iterator and client", function()
    local keep = {}
    local it = client():documents(job_id, { page_size = 4 })
    local page = assert(it:next_page())
    keep[#keep + 1] = page
    keep[#keep + 1] = it()
    it = nil -- luacheck: ignore 311
    full_gc()
    for _, d in ipairs(page) do touch(d) end
    touch(keep[2])
    local _ = page.next_link
  end)

  step("continuation resumed by another client", function()
    local it = client():documents(job_id, { page_size = 3 })
    it(); it(); it(); it()
    local token = it:continuation()
    it = nil -- luacheck: ignore 311
    full_gc()
    local n = 0
    for doc in client():documents(job_id, { continuation = token, page_size = 3 }) do
      n = n + 1
      touch(doc)
      if n == 5 then break end
    end
  end)

  step("iterator dropped inside an abandoned coroutine", function()
    local co = coroutine.create(function()
      for doc in client():documents(job_id, { page_size = 2 }) do coroutine.yield(doc) end
    end)
    local _, d = coroutine.resume(co)
    touch(d)
    co = nil -- luacheck: ignore 311
  end)

  step("use after close", function()
    local it = client():documents(job_id)
    it:close()
    pcall(it) -- ends (nil) today; raising would do as well
    assert(not pcall(it.next_page, it))
    use(it:continuation())
    it:close()
  end)

  step("jobs, documents and errors outlive their client", function()
    local c = client()
    local job = assert(c:job(job_id))
    local doc = c:document(job_id, "no-such-document")
    local missing, err = c:job("no-such-job")
    assert(missing == nil and err)
    c = nil -- luacheck: ignore 311
    full_gc()
    touch(job); touch(job.summary or job)
    if doc then touch(doc) end
    use(tostring(err), err.kind, err.status, err.code, err.message, err["x-requestid"])
    assert(job:refresh())
  end)

  step("a failing page raises in the loop; the error outlives the loop", function()
    emu.fault{ route = "documents", job = job_id, page = 2, action = "status", status = 503, times = 3 }
    local ok, err = pcall(function()
      for doc in client{ retries = 0 }:documents(job_id, { page_size = 5 }) do touch(doc) end
    end)
    emu.clear_faults()
    assert(not ok)
    full_gc()
    use(tostring(err), type(err) == "table" and err.kind)
  end)
end

-- The sans-I/O surface, fed by hand: every answer must end as a page, a typed
-- error (nil, err) or a raised usage error; never a crash or a hang.
local HOSTILE = {
  { status = 200, body = "" },
  { status = 200, body = "{" },
  { status = 200, body = '{"value": [' },
  { status = 200, body = "<html>maintenance</html>", headers = { ["content-type"] = "text/html" } },
  { status = 200, body = '{"value": {}}' },
  { status = 200, body = '{"value": "x"}' },
  { status = 200, body = '{"value": [1, "x", null, true, [], {}]}' },
  { status = 200, body = '{"value": [{"id": 5}, {"id": null}, {"status": {}}]}' },
  { status = 200, body = '{"value": [], "@nextLink": 7}' },
  { status = 200, body = '{"value": [], "@nextLink": ""}' },
  { status = 200, body = '{"value": [], "nextLink": "ftp://elsewhere/x"}' },
  { status = 200, body = '{"value": [], "@nextLink": "http://[::1"}' },
  { status = 200, body = '{"value": [], "@nextLink": "' .. ("a/"):rep(5000) .. '"}' },
  { status = 200, body = '{"value": [{"id": "' .. ("i"):rep(1048576) .. '"}]}' },
  { status = 200, body = '{"value": [' .. ("["):rep(100000) .. ("]"):rep(100000) .. ']}' },
  { status = 200, body = ("["):rep(100000) },
  { status = 200, body = '{"value": [{"id": "a", "createdDateTimeUtc": "9999-99-99T99:99:99.99999999+99:99"}]}' },
  { status = 200, body = '{"value": [{"id": "a\\u0000b", "progress": 1e400,'
                         .. ' "characterCharged": -9223372036854775809}]}' },
  { status = 200, body = '{"value": []}\0garbage' },
  { status = 404, body = '{"error": {"code": 7, "message": [], "innerError": "x"}}' },
  { status = 404, body = '{"error": {"innerError": {"innerError": {"innerError": {"code": "deep"}}}}}' },
  { status = 429, body = "", headers = { ["retry-after"] = "Wed, 99 Foo 2026 99:99:99 GMT" } },
  { status = 503, body = "", headers = { ["retry-after"] = "-1", ["retry-after-ms"] = "1e309" } },
  { status = 999, body = "{}" },
  { status = -1, body = "{}" },
  { status = 200, body = "{}", headers = { [""] = "", ["x-requestid"] = ("r"):rep(100000) } },
}

local outcomes = {}
local function tally(ok, value, err)
  local k = not ok and "raised" or value and "result" or err and ("error:" .. tostring(err.kind)) or "nil"
  outcomes[k] = (outcomes[k] or 0) + 1
end

local function drain(it, answer)
  for _ = 1, 50 do
    local ok, req = pcall(it.next_request, it)
    if not ok or req == nil then return end
    if req.wait == nil then
      local fed = pcall(it.feed, it, answer)
      if not fed then pcall(it.feed_error, it, "protocol", "refused by the driver") end
    end
  end
  error("no end after 50 requests")
end

local function hostile()
  for i, answer in ipairs(HOSTILE) do
    step("hostile answer " .. i .. " to a listing", function()
      local it = client{ retries = 1 }:documents("hostile-job", { page_size = 5 })
      drain(it, answer)
      local ok, page, err = pcall(it.next_page, it)
      tally(ok, page, err)
      if ok and page then for _, d in ipairs(page) do touch(d) end end
      if ok and err then use(tostring(err)) end
    end)
    step("hostile answer " .. i .. " to a job", function()
      local op = client{ retries = 1 }:job_op("hostile-job")
      drain(op, answer)
      local ok, job, err = pcall(op.result, op)
      tally(ok, job, err)
      if ok and job then touch(job) end
      if ok and err then use(tostring(err)) end
    end)
  end
  step("an op dropped with a request in flight", function()
    local it = client():documents("j")
    local _ = it:next_request()
    local op = client():job_op("j")
    _ = op:next_request()
  end)
  step("feed_error of every kind, and an unknown one", function()
    for _, kind in ipairs{ "network", "timeout", "protocol", "bogus", "" } do
      local op = client{ retries = 0 }:job_op("j")
      op:next_request()
      pcall(op.feed_error, op, kind, ("m"):rep(10000))
      pcall(op.result, op)
    end
  end)
end

local t0 = os.clock()
emu.reset()
local job_id = new_job(60)
for _ = 1, ROUNDS do
  lifetimes(job_id)
  hostile()
end
local kinds = {}
for k, n in pairs(outcomes) do kinds[#kinds + 1] = k .. " " .. n end
table.sort(kinds)
print(("gc-pressure: %d steps in %d rounds, %.1f s CPU, no error; hostile answers ended as: %s")
  :format(steps, ROUNDS, os.clock() - t0, table.concat(kinds, ", ")))
