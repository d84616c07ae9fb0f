-- job:wait{}: polls until a terminal status, never faster than Retry-After or interval, with a
-- timeout, through stale reads, and on every transport (the sleep is injectable).
-- Jobs run on the emulator's clock: most waits are given a sleep that advances it (and a now that
-- reads it), so they take no real time; the specs about the real sleep keep a real one, short.
local L = require "lifecycle.helper"
local U = require "support.usage"
local emu = L.emu
local core = require "doctranslate.core"

local function status_reads(job_id, since)
  local out = {}
  for _, r in ipairs(L.log("job", since)) do
    if r.method == "GET" and r.path:sub(-#job_id) == job_id then out[#out + 1] = r end
  end
  return out
end

local function seconds(iso) return L.dt.parse_date(iso) end

describe("job:wait", function()
  lazy_setup(function()
    emu.reset()
    emu.settings{ start_duration = 3 }
  end)
  lazy_teardown(function() emu.reset() end)

  for _, v in ipairs({ "v1.0-preview.1", "v1.1", "2024-05-01", "2026-03-01" }) do
    it("start -> wait -> Succeeded with the summary right (" .. v .. ")", function()
      local c = L.client(v)
      local job = assert(c:start(L.request()))
      local seen = {}
      local done = assert(job:wait(emu.clock_opts{ interval = 0, timeout = 30, on_progress = function(j)
        seen[#seen + 1] = { status = j.status, done = j.summary.success + j.summary.failed }
      end }))
      assert.equals(job, done)
      assert.equals("Succeeded", job.status)
      assert.same({ total = 20, success = 18, failed = 2, inProgress = 0, notYetStarted = 0, cancelled = 0,
                    totalCharacterCharged = job.summary.totalCharacterCharged }, job.summary)
      assert.is_true(job.summary.totalCharacterCharged > 0)
      assert.is_true(#seen >= 2)
      for i = 2, #seen do assert.is_true(seen[i].done >= seen[i - 1].done) end
      assert.equals("Succeeded", seen[#seen].status)
    end)
  end

  it("waits at least the Retry-After the service sent between polls, and never bursts", function()
    local c = L.client("2024-05-01")
    local job = assert(c:start(L.request()))
    -- the real sleep is what is measured: the job is brought near its end (2.5 of its 3 s), so
    -- that the wait polls it (Running), sleeps the Retry-After (1 s) for real, and polls it again
    emu.advance(2.5)
    local mark = L.mark()
    local started = core.monotonic()
    assert(job:wait{ interval = 0, timeout = 30 })
    local elapsed = core.monotonic() - started
    local reads = status_reads(job.id, mark)
    assert.is_true(#reads >= 2)
    assert.is_true(#reads <= elapsed + 2, "polls: " .. #reads .. " in " .. elapsed .. " s")
    for i = 2, #reads do
      local gap = seconds(reads[i].time) - seconds(reads[i - 1].time)
      -- the emulator stamps requests with nginx's cached clock (milliseconds, refreshed per event
      -- loop turn), which can lag by a few ms under load; a poll burst would show gaps near 0
      assert.is_true(gap >= 0.99, "a poll " .. gap .. " s after the previous one")
    end
  end)

  it("takes the larger of interval and Retry-After (seconds, ms, HTTP date)", function()
    local t = { requests = 0 }
    local retry_header = { ["Retry-After"] = "3" }
    function t.request(_, req)
      t.requests = t.requests + 1
      local res, kind, msg = L.send(req)
      if res and req.url:match("/batches/[^/?]+%??[^/]*$") then
        res.headers["retry-after"] = nil
        for k, val in pairs(retry_header) do res.headers[k] = val end
      end
      return res, kind, msg
    end
    function t.sleep() end
    local c = L.dt.new{ endpoint = emu.http, key = emu.key, api_version = "v1.1", transport = t }
    local id = emu.create_job{ documents = 4, duration = 0.6 }.id
    local function delays(opts)
      local job = assert(c:job(id))
      local got = {}
      opts.sleep = function(s)
        got[#got + 1] = s
        emu.advance(0.2)
      end
      opts.timeout = 30
      return assert(job:wait(opts)), got
    end
    local job, got = delays{ interval = 0 }
    assert.equals("Succeeded", job.status)
    for _, s in ipairs(got) do assert.equals(3, s) end
    id = emu.create_job{ documents = 4, duration = 0.6 }.id
    job, got = delays{ interval = 5 }
    assert.equals("Succeeded", job.status)
    for _, s in ipairs(got) do assert.equals(5, s) end
    retry_header = { ["retry-after-ms"] = "1500" }
    id = emu.create_job{ documents = 4, duration = 0.6 }.id
    job, got = delays{ interval = 0.5 }
    assert.equals("Succeeded", job.status)
    assert.is_true(#got >= 1)
    for _, s in ipairs(got) do assert.equals(1.5, s) end
    retry_header = { ["Retry-After"] = os.date("!%a, %d %b %Y %H:%M:%S GMT", os.time() + 4) }
    id = emu.create_job{ documents = 4, duration = 0.6 }.id
    job, got = delays{ interval = 0 }
    assert.equals("Succeeded", job.status)
    for _, s in ipairs(got) do assert.is_true(s >= 2 and s <= 4, tostring(s)) end
  end)

  it("returns a timeout error rather than poll past the deadline", function()
    local c = L.client("2026-03-01")
    local id = emu.create_job{ status = "Running" }.id
    local job = assert(c:job(id))
    local started = core.monotonic()
    local r, err = job:wait{ timeout = 1.5, interval = 0 }
    local elapsed = core.monotonic() - started
    assert.is_nil(r)
    assert.equals("timeout", err.kind)
    assert.matches(id, err.message, 1, true)
    assert.is_true(elapsed >= 0.9 and elapsed < 1.5, tostring(elapsed))
    -- timeout 0: no poll at all
    local mark = L.mark()
    local _, e0 = job:wait{ timeout = 0 }
    assert.equals("timeout", e0.kind)
    assert.equals(0, #status_reads(id, mark))
  end)

  it("returns a job that already ended at once, for every terminal spelling", function()
    local c = L.client("v1.0")
    for _, status in ipairs({ "Succeeded", "Failed", "Cancelled", "ValidationFailed" }) do
      local job = assert(c:job(emu.create_job{ status = status }.id))
      local mark = L.mark()
      assert.equals(job, job:wait{ timeout = 0 })
      assert.equals(0, #status_reads(job.id, mark))
    end
    local fake = { status = "Canceled", refresh = function() error("no poll") end }
    assert.equals(fake, require("doctranslate.lifecycle").wait(fake, {}))
  end)

  it("polls past stale reads (Running then NotStarted) without reporting them", function()
    local c = L.client("2024-05-01")
    local id = emu.create_job{ documents = 12, duration = 4, stale = true }.id
    local job = assert(c:job(id))
    local stale, seen = 0, {}
    local RANK = { NotStarted = 1, Running = 2, Succeeded = 3 }
    assert(job:wait{ interval = 0, timeout = 30,
      sleep = function(s)
        if job:response().headers.age then stale = stale + 1 end
        emu.advance(s)
      end, now = emu.now,
      on_progress = function(j) seen[#seen + 1] = { RANK[j.status], j.summary.success + j.summary.failed } end })
    assert.equals("Succeeded", job.status)
    assert.is_true(stale >= 1, "no stale read happened")
    for i = 2, #seen do
      assert.is_true(seen[i][1] >= seen[i - 1][1])
      assert.is_true(seen[i][2] >= seen[i - 1][2])
    end
  end)

  it("waits through a total of 0 before the service counted the documents", function()
    emu.settings{ uncounted = true, start_not_started = 1.5 }
    local c = L.client("2026-03-01")
    local job = assert(c:start(L.request()))
    local totals = {}
    assert(job:wait(emu.clock_opts{ interval = 0, timeout = 30,
                                    on_progress = function(j) totals[#totals + 1] = j.summary.total end }))
    emu.settings{ uncounted = require("cjson").null, start_not_started = require("cjson").null }
    assert.equals(0, totals[1])
    assert.equals(20, job.summary.total)
  end)

  it("returns the poll's error value", function()
    local c = L.client("v1.1", { retries = 0 })
    local job = assert(c:job(emu.create_job{ status = "Running" }.id))
    emu.fault{ route = "job", action = "status", status = 500 }
    local r, err = job:wait(emu.clock_opts{ interval = 0, timeout = 10 })
    emu.clear_faults()
    assert.is_nil(r)
    assert.equals(500, err.status)
  end)

  it("checks its options", function()
    local job = assert(L.client("v1.1"):job(emu.create_job{}.id))
    for _, bad in ipairs({ { interval = -1 }, { timeout = "1" }, { on_progress = 1 }, { colour = 1 }, 5 }) do
      local ok, err = pcall(job.wait, job, bad)
      assert.is_false(ok)
      assert.equal("usage", U.of(err).kind) -- a string at the caller's line
    end
  end)

  -- A job read through a Lua transport (LuaSocket) that counts its requests and its sleeps; its
  -- sleep advances the emulator's clock.
  local function counted_transport_job()
    local t = { requests = 0, sleeps = 0 }
    function t.request(_, req)
      t.requests = t.requests + 1
      return L.send(req)
    end
    function t.sleep(_, s)
      t.sleeps = t.sleeps + 1
      emu.advance(s)
    end
    local c = L.dt.new{ endpoint = emu.http, key = emu.key, api_version = "2024-05-01", transport = t }
    return t, assert(c:job(emu.create_job{ documents = 6, duration = 2 }.id))
  end

  it("works on a Lua-transport client (the driver's jobs), sleeping as told", function()
    local t, job = counted_transport_job()
    local slept = 0
    local before = t.requests
    assert(job:wait{ interval = 0, timeout = 20, sleep = function(s)
      slept = slept + 1
      t:sleep(s)
    end })
    assert.equals("Succeeded", job.status)
    assert.is_true(slept >= 1)
    assert.equals(slept, t.requests - before) -- one poll after each sleep, all through the transport
  end)

  it("sleeps through the transport's own sleep when no sleep is given", function()
    local t, job = counted_transport_job()
    local before = t.requests
    assert(job:wait{ interval = 0, timeout = 20 })
    assert.equals("Succeeded", job.status)
    assert.is_true(t.sleeps >= 1)
    assert.equals(t.sleeps, t.requests - before)
  end)
end)
