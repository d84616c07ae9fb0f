-- The deadline of a whole listing: a client default and a per-listing option. Each
-- request's timeout is the smaller of `timeout` and what is left, a retry wait that would pass the
-- deadline is not slept, and the listing ends with a timeout error that names the deadline, keeps
-- the service's request ids when a response had arrived, and keeps its continuation: resuming it
-- yields the rest with no document lost or repeated. Every driver: the blocking iterator (with
-- and without prefetch), documents_async, and a Lua transport through doctranslate.driver.
local H = require "core.helper"
local U = require "support.usage"
local core = require "doctranslate.core"
local http = require "socket.http"
local ltn12 = require "ltn12"
local emu = H.emu

local now = core.monotonic
local TOTAL, PS = 30, 5

-- The pages before the slow one (`before` of them) arrive well within the deadline on a quiet
-- machine; under valgrind they may not, so only whole pages, at most those, are required: the
-- exact proof is the resumed listing, equal to the clean one.
local function assert_whole_pages(ids, before)
  assert.is_true(#ids % PS == 0 and #ids <= before * PS, #ids .. " documents before the deadline")
end

-- Lists with pcall until the end or an error; returns ids, the error, the listing.
local function list_until_error(c, id, opts)
  local pages = c:documents(id, opts)
  local ids = {}
  local ok, err = U.loop(pages, function(doc) ids[#ids + 1] = doc.id end)
  return ids, not ok and err or nil, pages
end

-- The ids of a listing resumed from token (no fault left), appended to ids.
local function resume(c, id, token, ids)
  local all = {}
  for i = 1, #ids do all[i] = ids[i] end
  for doc in c:documents(id, { continuation = token }) do all[#all + 1] = doc.id end
  return all
end

local function assert_deadline_error(err, deadline)
  assert.equal("table", type(err), tostring(err))
  assert.equal("timeout", err.kind)
  assert.matches("deadline of " .. deadline .. " s passed", err.message, 1, true)
end

describe("the deadline of a listing", function()
  local id, want

  before_each(function()
    emu.reset()
    id = H.job{ documents = TOTAL }
    want = H.listing(H.client(), id, { page_size = PS })
    assert.equal(TOTAL, #want)
  end)
  after_each(function() emu.clear_faults() end)

  for _, prefetch in ipairs({ false, true }) do
    local how = prefetch and "with prefetch" or "blocking"
    it("cuts a slow page at the deadline and resumes from its continuation (" .. how .. ")", function()
      emu.fault{ route = "documents", page = 3, action = "latency", ms = 3000, times = -1 }
      local c = H.client{ timeout = 10, retries = 2, page_size = PS, prefetch = prefetch }
      local t0 = now()
      local ids, err, pages = list_until_error(c, id, { deadline = 0.8 })
      local took = now() - t0
      assert_deadline_error(err, "0.8")
      assert.is_true(took >= 0.75 and took < 2.5, "ended after " .. took .. " s")
      assert_whole_pages(ids, 2)
      assert.matches("^%x+%-", err["x-ms-client-request-id"])
      local token = pages:continuation()
      emu.clear_faults()
      assert.same(want, resume(c, id, token, ids))
    end)
  end

  it("is a client default that a listing may override", function()
    emu.fault{ route = "documents", page = 2, action = "latency", ms = 3000, times = -1 }
    local c = H.client{ timeout = 10, page_size = PS, deadline = 0.5 }
    local t0 = now()
    local ids, err = list_until_error(c, id)
    assert_deadline_error(err, "0.5")
    assert_whole_pages(ids, 1)
    assert.is_true(now() - t0 < 2)
    -- deadline = 0 turns the client's off for one listing: the slow page arrives
    emu.clear_faults()
    emu.fault{ route = "documents", page = 2, action = "latency", ms = 700 }
    local all = H.listing(c, id, { deadline = 0 })
    assert.same(want, all)
  end)

  it("keeps the request ids of a response whose body was still arriving", function()
    emu.fault{ route = "documents", page = 2, action = "trickle", bytes_per_second = 100, times = -1 }
    local c = H.client{ timeout = 10, retries = 0, page_size = PS }
    local ids, err, pages = list_until_error(c, id, { deadline = 1 })
    assert_deadline_error(err, "1")
    assert_whole_pages(ids, 1)
    assert.matches("^%x+%-", err["apim-request-id"])
    local token = pages:continuation()
    emu.clear_faults()
    assert.same(want, resume(c, id, token, ids))
  end)

  it("does not sleep a retry wait that would pass it, and says what the last try got", function()
    emu.fault{ route = "documents", page = 2, action = "status", status = 429, retry_after = 5, times = -1 }
    local c = H.client{ timeout = 10, retries = 3, page_size = PS }
    local t0 = now()
    local ids, err, pages = list_until_error(c, id, { deadline = 2 })
    local took = now() - t0
    assert_deadline_error(err, "2")
    assert.matches("the last try failed: HTTP 429", err.message, 1, true)
    assert.is_true(took < 1.5, "waited " .. took .. " s")
    assert.equal(PS, #ids)
    assert.matches("^%x+%-", err["apim-request-id"]) -- of the 429 answer
    emu.clear_faults()
    assert.same(want, resume(c, id, pages:continuation(), ids))
  end)

  it("rejects a bad deadline option", function()
    local c = H.client()
    for _, bad in ipairs({ -1, "1", 1e9 }) do
      local ok, err = pcall(c.documents, c, id, { deadline = bad })
      assert.is_false(ok)
      err = U.of(err) -- a string at the caller's line
      assert.matches("deadline", err.message, 1, true)
    end
    local ok, err = pcall(H.client, { deadline = -1 })
    assert.is_false(ok)
    assert.matches("deadline", tostring(err.message or err), 1, true)
  end)

  it("ends documents_async at the deadline with its continuation", function()
    emu.fault{ route = "documents", page = 4, action = "latency", ms = 3000, times = -1 }
    local c = H.client{ timeout = 10, page_size = PS }
    local op = c:documents_async(id, { deadline = 0.8 })
    local ids, buf = {}, {}
    local t0 = now()
    while true do
      local done = op:step()
      local docs, n = op:take(buf)
      for i = 1, n do ids[#ids + 1] = docs[i].id end
      if done then break end
      assert(now() - t0 < 5, "documents_async did not end")
      core.sleep(0.005)
    end
    assert_deadline_error(op.error, "0.8")
    assert_whole_pages(ids, 3)
    emu.clear_faults()
    assert.same(want, resume(c, id, op:continuation(), ids))
  end)

  it("holds with a Lua transport: the request carries what is left as its timeout", function()
    emu.fault{ route = "documents", page = 3, action = "latency", ms = 3000, times = -1 }
    local timeouts = {}
    local t = {}
    function t.request(_, req)
      timeouts[#timeouts + 1] = req.timeout
      local chunks = {}
      local saved = http.TIMEOUT -- LuaSocket's timeout of each socket call
      http.TIMEOUT = math.min(req.timeout or 10, 10)
      local _, code, headers = http.request{ url = req.url, method = req.method, headers = req.headers,
        sink = ltn12.sink.table(chunks) }
      http.TIMEOUT = saved
      if code == "timeout" then return nil, "timeout", "timed out" end
      if type(code) ~= "number" then return nil, "network", tostring(code) end
      return { status = code, headers = headers, body = table.concat(chunks) }
    end
    function t.sleep(_, s) core.sleep(s) end
    local c = H.dt.new{ endpoint = emu.http, key = emu.key, transport = t, page_size = PS, timeout = 10 }
    local t0 = now()
    local ids, err, pages = list_until_error(c, id, { deadline = 0.8 })
    assert_deadline_error(err, "0.8")
    assert.is_true(now() - t0 < 2.5)
    assert_whole_pages(ids, 2)
    assert.is_true(#timeouts >= 1)
    for i = 2, #timeouts do assert.is_true(timeouts[i] <= timeouts[i - 1] and timeouts[i] <= 0.8) end
    emu.clear_faults()
    assert.same(want, resume(c, id, pages:continuation(), ids))
  end)
end)

describe("job:wait{ deadline = }", function()
  before_each(function() emu.reset() end)

  -- a clock the wait reads and its sleep moves, so the spec does not sleep; the polls are real
  local function fake_clock()
    local t = 100
    return function() return t end, function(s) t = t + s end
  end

  it("ends the wait when no poll could come before the deadline, naming it", function()
    local id = H.job{ documents = 4, duration = 60 }
    local c = H.client()
    local job = assert(c:job(id))
    local now_fn, sleep_fn = fake_clock()
    emu.clear_requests()
    local got, err = job:wait{ deadline = 2.5, interval = 1, now = now_fn, sleep = sleep_fn }
    assert.is_nil(got)
    assert.equal("timeout", err.kind)
    assert.matches("the deadline of 2.5 s passed while waiting for the job " .. id, err.message, 1, true)
    assert.equal(2, #H.requests("/batches/" .. id)) -- at 101 and 102; 103 is past 102.5
  end)

  it("ends the wait when a poll itself ran past the deadline", function()
    local id = H.job{ documents = 4, duration = 60 }
    local job = assert(H.client():job(id))
    emu.fault{ route = "job", action = "latency", ms = 1500 } -- the next poll takes 1.5 s
    emu.clear_requests()
    local t0 = now()
    -- the real clock; a sleep that does not sleep, so the first poll starts at once
    local got, err = job:wait{ deadline = 1.2, timeout = 60, interval = 0.1, sleep = function() end }
    assert.is_nil(got)
    assert.matches("deadline of 1.2 s passed", err.message, 1, true)
    assert.equal(1, #H.requests("/batches/" .. id))
    assert.is_true(now() - t0 < 3)
  end)

  it("returns the job when it ends before the deadline", function()
    local id = H.job{ documents = 2 }
    local job = assert(H.client():job(id))
    assert.equal(job, job:wait{ deadline = 5 })
    local ok, err = pcall(job.wait, job, { deadline = -1 })
    assert.is_false(ok)
    assert.equal("usage", U.of(err).kind) -- a string at the caller's line
  end)
end)
