-- c:watch: each document of a job once, as it ends, on the emulator's clock (its sleep moves the
-- clock): the order they end in, the requests it makes, how it ends, and its continuation.
local H = require "core.helper"
local U = require "support.usage"
local emu = H.emu
local dt = H.dt
local watchmod = require "doctranslate.watch"

local function client(version) return H.client{ api_version = version } end

local function mark()
  local all = emu.requests()
  return #all > 0 and all[#all].seq or 0
end

-- The service requests since seq, split by route.
local function requests(since)
  local out = { job = {}, documents = {}, all = {} }
  for _, r in ipairs(emu.requests(since)) do
    out.all[#out.all + 1] = r
    if out[r.route] then table.insert(out[r.route], r) end
  end
  return out
end

local function clock_opts(extra)
  emu.freeze()
  return emu.clock_opts(extra)
end

-- Runs a watch to its end: the documents in order (with the emulated time each came), and the
-- error the loop raised (or nil).
local function run(w)
  local got = {}
  local ok, err = pcall(function()
    for doc in w do got[#got + 1] = { doc = doc, at = emu.now() } end
  end)
  return got, (not ok) and err or nil
end

describe("c:watch", function()
  before_each(function() emu.reset() end)
  lazy_teardown(function() emu.reset() end)

  for _, v in ipairs({ "v1.0-preview.1", "v1.1", "2024-05-01", "2026-03-01" }) do
    it("hands out each document once, as it ends, in the order they end (" .. v .. ")", function()
      local c = client(v)
      local id = emu.create_job{ documents = 40, duration = 10, parallel = 4, fail_every = 6 }.id
      local jobs = 0
      local w = c:watch(id, clock_opts{ interval = 0.5, timeout = 60, on_job = function(job)
        jobs = jobs + 1
        assert.equals(id, job.id)
      end })
      local got, err = run(w)
      assert.is_nil(err)
      assert.equals(40, #got)
      local ids, times, last = {}, {}, nil
      local failed = 0
      for _, g in ipairs(got) do
        local d = g.doc
        assert.is_nil(ids[d.id], "handed out twice: " .. d.id)
        ids[d.id] = true
        assert.is_true(d.status == "Succeeded" or d.status == "Failed", d.status)
        if d.status == "Failed" then failed = failed + 1 end
        -- it had ended when it came, and no document came before one that ended earlier
        local la = d:time("lastActionDateTimeUtc")
        assert.is_true(la <= g.at + 0.001)
        if last then assert.is_true(la >= last) end
        last = la
        times[g.at] = true
      end
      assert.equals(6, failed)
      local distinct = 0
      for _ in pairs(times) do distinct = distinct + 1 end
      assert.is_true(distinct >= 5, "documents came at " .. distinct .. " moments, not as they ended")
      assert.is_true(jobs >= 5)
      assert.equals("Succeeded", w:job().status)
      assert.is_nil(w:next()) -- ended: stays ended
    end)
  end

  it("polls the job first, lists only when its counts moved, and skips what it handed out", function()
    local c = client("2026-03-01")
    local id = emu.create_job{ documents = 200, duration = 20, parallel = 10 }.id
    local m = mark()
    local got, err = run(c:watch(id, clock_opts{ interval = 1, timeout = 120 }))
    assert.is_nil(err)
    assert.equals(200, #got)
    local r = requests(m)
    assert.is_true(#r.job >= 20, "polls: " .. #r.job)
    -- a listing per poll that saw counts move at most (plus the final one), never one per poll blindly
    assert.is_true(#r.documents <= #r.job + 1)
    local skips = {}
    for _, q in ipairs(r.documents) do
      assert.matches("statuses=", q.query)
      assert.matches("orderby=lastActionDateTimeUtc", q.query)
      skips[#skips + 1] = tonumber(q.query:match("skip=(%d+)") or 0)
    end
    for i = 2, #skips do assert.is_true(skips[i] >= skips[i - 1]) end
    assert.equals(0, skips[1])
    assert.is_true(skips[#skips] > 150)
    assert.is_true(#r.all < 2 * #r.job + 2)
  end)

  it("polls past stale reads of the job (an older state every third read)", function()
    emu.settings{ stale = true, stale_every = 3, stale_seconds = 2 }
    local c = client("2024-05-01")
    local id = emu.create_job{ documents = 30, duration = 6, parallel = 3 }.id
    local statuses = {}
    local w = c:watch(id, clock_opts{ timeout = 60, on_job = function(job)
      statuses[#statuses + 1] = job.summary.success
    end })
    local got, err = run(w)
    assert.is_nil(err)
    assert.equals(30, #got)
    local ids = {}
    for _, g in ipairs(got) do
      assert.is_nil(ids[g.doc.id])
      ids[g.doc.id] = true
    end
    -- on_job never saw the counts go back
    for i = 2, #statuses do assert.is_true(statuses[i] >= statuses[i - 1]) end
  end)

  it("waits as long as Retry-After says, never less, and not more than interval asks", function()
    local c = client("v1.1")
    local id = emu.create_job{ documents = 8, duration = 4, parallel = 2 }.id
    local slept = {}
    local o = clock_opts{ interval = 0, timeout = 60 }
    local advance = o.sleep
    o.sleep = function(s) slept[#slept + 1] = s; advance(s) end
    local got, err = run(c:watch(id, o))
    assert.is_nil(err)
    assert.equals(8, #got)
    assert.is_true(#slept >= 3)
    for _, s in ipairs(slept) do assert.equals(1, s) end -- the emulator's Retry-After: 1
    slept = {}
    id = emu.create_job{ documents = 8, duration = 4, parallel = 2 }.id
    o.interval = 2.5
    got = run(c:watch(id, o))
    assert.equals(8, #got)
    for _, s in ipairs(slept) do assert.equals(2.5, s) end
  end)

  it("ends a failed job with an error value of kind job, after every document", function()
    local c = client("2024-05-01")
    local id = emu.create_job{ documents = 12, duration = 6, parallel = 3, fail_every = 1 }.id
    local got, err = run(c:watch(id, clock_opts{ timeout = 60 }))
    assert.equals(12, #got)
    for _, g in ipairs(got) do assert.equals("Failed", g.doc.status) end
    assert.is_true(dt.is_error(err))
    assert.equals("job", err.kind)
    assert.equals("Failed", err.job_status)
    assert.equals(id, err.job.id)
    assert.matches(id, tostring(err), 1, true)
    -- the non-raising form returns the same value
    local w = c:watch(id, clock_opts{ timeout = 60 })
    local n = 0
    while true do
      local d, e = w:next()
      if d == nil then
        assert.equals("job", e.kind)
        break
      end
      n = n + 1
    end
    assert.equals(12, n)
  end)

  it("hands out the cancelled documents of a cancelled job, then raises", function()
    local c = client("v1.0")
    local id = emu.create_job{ documents = 20, duration = 8, parallel = 2, status = "Cancelled" }.id
    local got, err = run(c:watch(id, clock_opts{ timeout = 60 }))
    assert.equals(20, #got)
    local by = {}
    for _, g in ipairs(got) do by[g.doc.status] = (by[g.doc.status] or 0) + 1 end
    assert.is_true((by.Cancelled or 0) > 0 and (by.Succeeded or 0) > 0)
    assert.equals("job", err.kind)
    assert.equals("Cancelled", err.job_status)
  end)

  it("ends a ValidationFailed job with the job's error, and a job that never ends at the timeout", function()
    local c = client("2026-03-01")
    local id = emu.create_job{ status = "ValidationFailed" }.id
    local got, err = run(c:watch(id, clock_opts{ timeout = 60 }))
    assert.equals(0, #got)
    assert.equals("job", err.kind)
    assert.equals("InvalidRequest", err.code)
    assert.equals("ValidationFailed", err.job_status)
    local running = emu.create_job{ status = "Running", documents = 10 }.id
    local m = mark()
    local got2, terr = run(c:watch(running, clock_opts{ timeout = 5, interval = 1 }))
    assert.equals("timeout", terr.kind)
    assert.matches(running, terr.message, 1, true)
    -- the documents already ended were handed out; the listing was not repeated per poll
    assert.is_true(#got2 > 0)
    local r = requests(m)
    assert.is_true(#r.documents <= 2, #r.documents .. " listings")
    -- an unknown job: the service's 404, raised
    local _, nerr = run(c:watch("00000000-0000-0000-0000-000000000000", clock_opts{ timeout = 5 }))
    assert.equals("http", nerr.kind)
    assert.equals(404, nerr.status)
  end)

  it("goes on from a continuation in another watch: nothing twice, nothing lost", function()
    local c = client("2026-03-01")
    local id = emu.create_job{ documents = 60, duration = 12, parallel = 3 }.id
    local first = c:watch(id, clock_opts{ timeout = 60 })
    local seen = {}
    for doc in first do
      seen[#seen + 1] = doc.id
      if #seen == 17 then break end
    end
    local token = first:continuation()
    assert.matches("^dtw1%.", token)
    assert.is_nil(token:find(emu.key, 1, true))
    local c2 = client("2026-03-01")
    local got, err = run(c2:watch(id, clock_opts{ timeout = 60, continuation = token }))
    assert.is_nil(err)
    local all = {}
    for _, sid in ipairs(seen) do all[sid] = true end
    for _, g in ipairs(got) do
      assert.is_nil(all[g.doc.id], "handed out twice: " .. g.doc.id)
      all[g.doc.id] = true
    end
    local n = 0
    for _ in pairs(all) do n = n + 1 end
    assert.equals(60, n)
    -- the token is checked
    local function bad(o) return select(2, pcall(c.watch, c, id, o)) end
    assert.equals("usage", U.of(bad{ continuation = "dtw1.!!" }).kind)
    assert.matches("another job", U.of(bad{ continuation = select(1, c:watch("other", {}):continuation()) }).message)
    assert.matches("API version", U.of(select(2, pcall(client("v1.1").watch, client("v1.1"), id,
      { continuation = token }))).message)
  end)

  it("lists every ended document once when those handed out are not the first of the order", function()
    -- handed out elsewhere: every third document of the job's creation order, not the first ones
    -- of the last-action order a watch skips over; the watch sees some come back, lists all the
    -- ended ones once, and hands out exactly the others
    local c = client("2024-11-01-preview")
    local id = emu.create_job{ documents = 30, duration = 6, parallel = 3 }.id
    emu.freeze()
    emu.advance(4)
    local ended = {}
    for d in c:documents(id, { statuses = { "Succeeded" } }) do ended[#ended + 1] = d.id end
    assert.is_true(#ended >= 9 and #ended < 30)
    local handed = {}
    for i = 1, #ended, 3 do handed[#handed + 1] = ended[i] end
    local token = watchmod.token(c, id, handed)
    local m = mark()
    local got, err = run(c:watch(id, clock_opts{ timeout = 60, continuation = token }))
    assert.is_nil(err)
    local all = {}
    for _, h in ipairs(handed) do all[h] = true end
    for _, g in ipairs(got) do
      assert.is_nil(all[g.doc.id], "handed out twice: " .. g.doc.id)
      all[g.doc.id] = true
    end
    local n = 0
    for _ in pairs(all) do n = n + 1 end
    assert.equals(30, n)
    assert.equals(30 - #handed, #got)
    local full = 0
    for _, q in ipairs(requests(m).documents) do
      if not q.query:find("skip=", 1, true) then full = full + 1 end
    end
    assert.is_true(full >= 1, "no listing of every ended document")
  end)

  it("keeps the continuation of a 1,000-document job small", function()
    local c = client("2026-03-01")
    local id = emu.create_job{ documents = 1000, status = "Succeeded" }.id
    local w = c:watch(id, { timeout = 60 })
    local n = 0
    for _ in w do n = n + 1 end
    assert.equals(1000, n)
    local token = w:continuation()
    -- 6 bytes an id, base64: 8 characters each, and the header
    assert.is_true(#token <= 8 * 1000 + 80, #token .. " characters")
    local _, _, hashes = watchmod.decode_token(token)
    assert.equals(1000, #hashes)
    local distinct = {}
    for _, h in ipairs(hashes) do distinct[h] = true end
    local k = 0
    for _ in pairs(distinct) do k = k + 1 end
    assert.equals(1000, k)
    -- resuming an ended job from its full token: nothing more, one listing of what follows
    local m = mark()
    local got = run(c:watch(id, { timeout = 60, continuation = token }))
    assert.equals(0, #got)
    assert.equals(1, #requests(m).documents)
  end)

  it("checks its arguments", function()
    local c = client("2026-03-01")
    for _, args in ipairs({ { nil }, { 42 }, { "id", 5 }, { "id", { colour = 1 } }, { "id", { interval = -1 } },
                            { "id", { on_job = 3 } }, { "id", { page_size = 500 } } }) do
      local ok, err = pcall(c.watch, c, args[1], args[2])
      assert.is_false(ok)
      assert.equals("usage", U.of(err).kind)
    end
    local ok, err = pcall(c.watch, nil, "id")
    assert.is_false(ok)
    assert.equals("usage", U.of(err).kind)
  end)
end)
