-- The game-loop API: c:documents_async / c:job_async / c:document_async,
-- op:step() that never blocks, op:take(), callbacks, cancel, errors, fds/timeout.
local H = require "core.helper"
local U = require "support.usage"
local core = require "doctranslate.core"
local emu = H.emu

local now = core.monotonic

-- Steps op to its end, collecting ids; returns ids and the slowest step (s).
local function drive(op, opts)
  opts = opts or {}
  local ids, slowest, steps = {}, 0, 0
  local buf = {}
  local deadline = now() + (opts.limit or 30)
  while true do
    local t0 = now()
    local done = op:step()
    local docs, n = op:take(buf)
    local dt = now() - t0
    if dt > slowest then slowest = dt end
    for i = 1, n do ids[#ids + 1] = docs[i].id end
    steps = steps + 1
    if done then break end
    assert(now() < deadline, "the operation did not end in time")
    core.sleep(opts.frame or 0.001)
  end
  return ids, slowest, steps
end

describe("c:documents_async", function()
  before_each(function() emu.reset() end)

  it("lists the same documents in the same order as the blocking listing", function()
    local id = H.job{ documents = 53 }
    local c = H.client()
    local want = H.listing(c, id, { page_size = 7 })
    emu.clear_requests()
    local op = c:documents_async(id, { page_size = 7 })
    local got = drive(op)
    assert.same(want, got)
    assert.is_true(op.done)
    assert.is_nil(op.error)
    assert.equal(53, op.documents)
    assert.equal(8, op.pages)
    assert.equal(8, #H.requests("/documents"))
    assert.truthy(op:continuation():find("end=1", 1, true))
  end)

  it("sends nothing before the first step", function()
    local id = H.job{ documents = 3 }
    local c = H.client()
    emu.clear_requests()
    local op = c:documents_async(id)
    assert.equal(0, #H.requests())
    assert.is_false(op.done)
    drive(op)
    assert.equal(1, #H.requests("/documents"))
  end)

  it("calls on_documents with each page and on_done once at the end", function()
    local id = H.job{ documents = 25 }
    local c = H.client()
    local want = H.listing(c, id, { page_size = 10 })
    local got, pages, done_calls, done_err = {}, 0, 0, "unset"
    local op
    op = c:documents_async(id, {
      page_size = 10,
      on_documents = function(o, docs)
        assert.equal(op, o)
        pages = pages + 1
        for _, d in ipairs(docs) do got[#got + 1] = d.id end
      end,
      on_done = function(o, err)
        assert.equal(op, o)
        done_calls = done_calls + 1
        done_err = err
      end,
    })
    local extra = drive(op)
    assert.equal(0, #extra) -- the callback took them all
    assert.same(want, got)
    assert.equal(3, pages)
    assert.equal(1, done_calls)
    assert.is_nil(done_err)
  end)

  it("raises a failing callback's error from step (never inside libcurl), and goes on", function()
    local id = H.job{ documents = 30 }
    local c = H.client{ log = function() error("a broken log function") end }
    local calls, got = 0, {}
    local op = c:documents_async(id, {
      page_size = 10,
      on_documents = function(_, docs)
        calls = calls + 1
        for _, d in ipairs(docs) do got[#got + 1] = d.id end
        if calls == 1 then error("the game's bug") end
      end,
    })
    local raised = 0
    local deadline = core.monotonic() + 20
    while true do
      local ok, done = pcall(op.step, op)
      if not ok then
        raised = raised + 1
        assert.truthy(tostring(done):find("the game's bug", 1, true))
      elseif done then
        break
      end
      assert(core.monotonic() < deadline)
      core.sleep(0.001)
    end
    assert.equal(1, raised)
    assert.equal(30, #got)
    assert.equal(30, H.distinct(got))
    assert.is_nil(op.error)
  end)

  it("reuses the table given to take and says what it holds", function()
    local id = H.job{ documents = 12 }
    local c = H.client()
    local op = c:documents_async(id, { page_size = 5 })
    local t = { "stale", "stale", "stale", "stale", "stale", "stale", "stale" }
    local seen = 0
    while not op:step() do
      local docs, n = op:take(t)
      assert.equal(t, docs)
      assert.equal(n, #docs)
      seen = seen + n
      core.sleep(0.001)
    end
    assert.equal(12, seen)
    assert.truthy(tostring(op):find("doctranslate.Async: done (12 documents, 3 pages)", 1, true))
  end)

  it("honours top and skip and resumes from its continuation", function()
    local id = H.job{ documents = 40 }
    local c = H.client()
    local all = H.listing(c, id, { page_size = 100 })
    local op = c:documents_async(id, { page_size = 6, skip = 3, top = 20 })
    local first = {}
    local buf = {}
    while #first < 7 do
      op:step()
      local docs, n = op:take(buf)
      for i = 1, n do first[#first + 1] = docs[i].id end
      core.sleep(0.001)
    end
    op:cancel()
    local token = op:continuation()
    local rest = drive(c:documents_async(id, { continuation = token, page_size = 6 }))
    local got = {}
    for _, v in ipairs(first) do got[#got + 1] = v end
    for _, v in ipairs(rest) do got[#got + 1] = v end
    assert.equal(20, #got)
    for i = 1, 20 do assert.equal(all[3 + i], got[i]) end
  end)

  it("never blocks: every step returns fast while pages are delayed by 200 ms", function()
    local id = H.job{ documents = 30 }
    local c = H.client()
    emu.fault{ route = "documents", action = "latency", ms = 200, times = -1 }
    local t0 = now()
    local ids, slowest, steps = drive(c:documents_async(id, { page_size = 10 }))
    local wall = now() - t0
    assert.equal(30, #ids)
    assert.is_true(wall >= 0.6, "three delayed pages take 0.6 s or more")
    assert.is_true(steps > 100, "the loop kept running while the pages travelled")
    assert.is_true(slowest < 0.05, ("a step took %.1f ms"):format(slowest * 1000))
  end)

  it("honours a 429 Retry-After without blocking the frame", function()
    local id = H.job{ documents = 20 }
    local c = H.client()
    emu.fault{ route = "documents", page = 2, action = "status", status = 429, retry_after = 1 }
    emu.clear_requests()
    local op = c:documents_async(id, { page_size = 10 })
    local saw_waiting = false
    local t0 = now()
    local ids, slowest = {}, 0
    local buf = {}
    while true do
      local s0 = now()
      local done = op:step()
      local docs, n = op:take(buf)
      local d = now() - s0
      if d > slowest then slowest = d end
      for i = 1, n do ids[#ids + 1] = docs[i].id end
      if op.waiting then saw_waiting = true end
      if done then break end
      assert(now() - t0 < 20, "too slow")
      core.sleep(0.002)
    end
    local wall = now() - t0
    assert.equal(20, #ids)
    assert.equal(20, H.distinct(ids))
    assert.is_true(saw_waiting)
    assert.is_true(wall >= 0.9, ("the Retry-After of 1 s was honoured (%.2f s)"):format(wall))
    assert.is_true(slowest < 0.05, ("a step took %.1f ms"):format(slowest * 1000))
    local reqs = H.requests("/documents")
    assert.equal(3, #reqs) -- two pages and one retry
    assert.equal(H.header(reqs[2], "x-ms-client-request-id"), H.header(reqs[3], "x-ms-client-request-id"))
  end)

  it("cancel stops at once and frees its transfers", function()
    local id = H.job{ documents = 30 }
    local c = H.client()
    emu.fault{ route = "documents", action = "latency", ms = 500, times = -1 }
    local op = c:documents_async(id, { page_size = 10 })
    op:step()
    assert.equal(1, c:stats().transfers)
    local t0 = now()
    op:cancel()
    assert.is_true(now() - t0 < 0.05)
    assert.equal(0, c:stats().transfers)
    assert.is_true(op.done)
    assert.is_true(op.cancelled)
    assert.is_true(op:step()) -- a no-op now
    local docs, n = op:take()
    assert.equal(0, n)
    assert.same({}, docs)
    assert.truthy(op:continuation():find("skip=0", 1, true))
  end)

  it("a listing dropped without cancel is collected without leaks", function()
    local id = H.job{ documents = 30 }
    local c = H.client()
    emu.fault{ route = "documents", action = "latency", ms = 300, times = -1 }
    do
      local op = c:documents_async(id, { page_size = 10 })
      op:step()
    end
    collectgarbage()
    collectgarbage()
    assert.equal(0, c:stats().transfers)
  end)

  it("returns typed error values", function()
    local c = H.client{ retries = 0 }
    local op = c:documents_async("00000000-0000-4000-8000-000000000000")
    drive(op)
    assert.is_true(op.done)
    assert.is_true(H.dt.is_error(op.error))
    assert.equal("http", op.error.kind)
    assert.equal(404, op.error.status)
    local id = H.job{ documents = 20 }
    emu.fault{ route = "documents", page = 2, action = "status", status = 500, times = -1 }
    local errs = {}
    op = c:documents_async(id, { page_size = 10, on_done = function(_, err) errs[#errs + 1] = err end })
    local ids = drive(op)
    assert.equal(10, #ids) -- the first page came before the failure
    assert.equal("http", op.error.kind)
    assert.equal(500, op.error.status)
    assert.equal(op.error, errs[1])
    assert.truthy(op:continuation():find("skip=10", 1, true))
  end)

  it("reports a network failure as a network error", function()
    local c = H.dt.new{ endpoint = "http://127.0.0.1:1", key = "k", retries = 0 }
    local op = c:documents_async("job")
    drive(op)
    assert.equal("network", op.error.kind)
  end)

  it("rejects bad options as usage errors", function()
    local c = H.client()
    local ok, err = pcall(c.documents_async, c, "job", { nope = 1 })
    assert.is_false(ok)
    assert.equal("usage", U.of(err).kind) -- a string at the caller's line
    ok, err = pcall(c.documents_async, c, "job", { on_documents = 3 })
    assert.is_false(ok)
    assert.equal("usage", U.of(err).kind) -- a string at the caller's line
    ok, err = pcall(c.job_async, c, 42)
    assert.is_false(ok)
    assert.equal("usage", U.of(err).kind) -- a string at the caller's line
  end)

  it("keeps to its budget by putting a piece off one step at most, and stays exact", function()
    local id = H.job{ documents = 53 }
    local c = H.client()
    local want = H.listing(c, id, { page_size = 7 })
    -- a budget no piece fits: each read of an arrived page and each request is put off once, so
    -- no step both reads a page and sends the next request: two steps a page at least (one
    -- without a budget: the page read and the next one sent in the same step)
    local op = c:documents_async(id, { page_size = 7, budget = 1e-9 })
    local got, _, steps = drive(op)
    assert.same(want, got)
    assert.is_nil(op.error)
    assert.equal(8, op.pages)
    assert.is_true(steps >= 2 * 8, ("%d steps for 8 pages"):format(steps))
    -- no bound: the same listing
    got = drive(c:documents_async(id, { page_size = 7, budget = 0 }))
    assert.same(want, got)
    -- and the single-shot operations take it too
    local jop = c:job_async(id, { budget = 1e-9 })
    drive(jop)
    assert.equal(id, jop.result.id)
  end)

  it("rejects a budget that is not seconds in 0..1", function()
    local c = H.client()
    for _, bad in ipairs({ -1, 2, "0.001", true, 0 / 0 }) do
      local ok, err = pcall(c.documents_async, c, "job", { budget = bad })
      assert.is_false(ok)
      err = U.of(err) -- a string at the caller's line
      assert.truthy(err.message:find("budget", 1, true))
      ok, err = pcall(c.document_async, c, "job", "doc", { budget = bad })
      assert.is_false(ok)
      assert.equal("usage", U.of(err).kind) -- a string at the caller's line
    end
    -- a blocking listing has no steps to budget
    local ok, err = pcall(c.documents, c, "job", { budget = 0.001 })
    assert.is_false(ok)
    assert.equal("usage", U.of(err).kind) -- a string at the caller's line
  end)

  it("exposes the sockets and the timeout a host poller waits on", function()
    local id = H.job{ documents = 20 }
    local c = H.client()
    emu.fault{ route = "documents", action = "latency", ms = 150, times = -1 }
    local op = c:documents_async(id, { page_size = 10 })
    local fds, timeout = op:fds()
    assert.equal(0, #fds)
    assert.equal(0, timeout) -- not started: step now
    op:step()
    local waited, ids, steps = 0, {}, 0
    while not op.done do
      fds, timeout = op:fds()
      assert.is_number(timeout)
      if op.ready == 0 and not op.waiting then
        -- a transfer travels: its socket is there, and the host may sleep until it wakes
        if #fds > 0 then
          assert.is_number(fds[1].fd)
          assert.is_true(fds[1].read or fds[1].write)
        end
        local nap = timeout < 0 and 0.01 or math.min(timeout / 1000, 0.01)
        core.sleep(nap)
        waited = waited + nap
      end
      op:step()
      steps = steps + 1
      local docs, n = op:take()
      for i = 1, n do ids[#ids + 1] = docs[i].id end
    end
    assert.equal(20, #ids)
    -- the host slept through most of the two 150 ms pages; under valgrind (DT_SLOW) the steps
    -- themselves take that time, and sleeping at all is what is left to prove
    assert.is_true(waited > (os.getenv("DT_SLOW") and 0 or 0.2), tostring(waited))
    assert.is_true(steps < 200, "a select-style wait does not spin")
    fds, timeout = op:fds()
    assert.equal(0, #fds)
    assert.equal(-1, timeout)
  end)
end)

describe("c:job_async and c:document_async", function()
  before_each(function() emu.reset() end)

  it("give the same job and document as the blocking calls", function()
    local id = H.job{ documents = 3 }
    local c = H.client()
    local job = c:job(id)
    local docs = H.listing(c, id)
    local op = c:job_async(id)
    drive(op)
    assert.equal(job.id, op.result.id)
    assert.equal(job.summary.total, op.result.summary.total)
    local done_with
    local dop = c:document_async(id, docs[1], { on_done = function(o) done_with = o.result end })
    drive(dop)
    assert.equal(docs[1], dop.result.id)
    assert.equal(dop.result, done_with)
  end)

  it("fail with typed errors", function()
    local c = H.client{ retries = 0 }
    local op = c:job_async("00000000-0000-4000-8000-000000000000")
    drive(op)
    assert.equal("http", op.error.kind)
    assert.equal(404, op.error.status)
    assert.is_nil(op.result)
  end)
end)
