-- c:watch_async: the watch of a game loop, stepped per frame over job_async / documents_async,
-- never blocking; the loop's clock is the emulator's (frozen, moved a frame at a time).
local H = require "core.helper"
local U = require "support.usage"
local emu = H.emu
local core = require "doctranslate.core"

local FRAME = 0.05

local function loop_clock()
  emu.freeze()
  local t = 0
  return { now = function() return t end, tick = function() t = t + FRAME; emu.advance(FRAME) end }
end

-- Steps w until it is done: frames taken and the longest step (seconds, real time).
local function frames(w, clock, max_frames, each)
  local n, longest = 0, 0
  while n < max_frames do
    n = n + 1
    local t0 = core.monotonic()
    local done = w:step()
    longest = math.max(longest, core.monotonic() - t0)
    if each then each(n) end
    if done then return n, longest end
    clock.tick()
  end
  error("the watch did not end in " .. max_frames .. " frames")
end

describe("c:watch_async", function()
  before_each(function() emu.reset() end)
  lazy_teardown(function() emu.reset() end)

  for _, v in ipairs({ "v1.1", "2026-03-01" }) do
    it("hands each document to on_documents once, as it ends, without blocking (" .. v .. ")", function()
      local c = H.client{ api_version = v }
      local id = emu.create_job{ documents = 120, duration = 6, parallel = 10, fail_every = 9 }.id
      local clock = loop_clock()
      local seen, batches, done_calls, jobs = {}, 0, 0, 0
      local w
      w = c:watch_async(id, { interval = 0.5, timeout = 60, now = clock.now,
        on_job = function() jobs = jobs + 1 end,
        on_documents = function(self, docs)
          assert.equals(w, self)
          batches = batches + 1
          for _, d in ipairs(docs) do
            assert.is_nil(seen[d.id], "twice: " .. d.id)
            assert.is_true(core.TERMINAL[d.status])
            seen[d.id] = true
          end
        end,
        on_done = function(self, err)
          assert.equals(w, self)
          assert.is_nil(err)
          done_calls = done_calls + 1
        end })
      assert.matches("watching", tostring(w))
      local _, longest = frames(w, clock, 5000)
      local n = 0
      for _ in pairs(seen) do n = n + 1 end
      assert.equals(120, n)
      assert.is_true(batches >= 5, batches .. " batches")
      assert.equals(1, done_calls)
      assert.is_true(jobs >= 5)
      assert.is_true(w.done)
      assert.is_nil(w.error)
      assert.equals("Succeeded", w.job.status)
      assert.is_true(longest < 0.5, "a step took " .. longest .. " s")
      assert.is_true(w:step())
      local fds, t = w:fds()
      assert.same({}, fds)
      assert.equals(-1, t)
      assert.is_nil(w:next_poll_in())
    end)
  end

  it("take() hands out what ended; fds() says what to wait on; cancel() stops; the continuation goes on",
    function()
    local c = H.client{ api_version = "2024-05-01" }
    local id = emu.create_job{ documents = 40, duration = 8, parallel = 4 }.id
    local clock = loop_clock()
    local w = c:watch_async(id, { interval = 1, timeout = 60, now = clock.now })
    local got, buf = {}, {}
    local timers, sockets = 0, 0
    for _ = 1, 2000 do
      w:step()
      local docs, n = w:take(buf)
      assert.equals(buf, docs)
      assert.equals(#docs, n)
      for i = 1, n do got[#got + 1] = docs[i].id end
      local fds, ms = w:fds()
      assert.is_table(fds)
      if #fds > 0 then sockets = sockets + 1 end
      if ms > 0 and #fds == 0 then timers = timers + 1 end
      if #got >= 15 then break end
      clock.tick()
    end
    assert.is_true(#got >= 15)
    assert.is_true(timers > 0 and sockets > 0, timers .. " timer waits, " .. sockets .. " socket waits")
    w:cancel()
    assert.is_true(w.cancelled)
    assert.is_true(w.done)
    assert.is_true(w:step())
    local token = w:continuation()
    local rest = {}
    local w2 = c:watch_async(id, { timeout = 60, now = clock.now, continuation = token,
                                   on_documents = function(_, docs)
                                     for _, d in ipairs(docs) do rest[#rest + 1] = d.id end
                                   end })
    frames(w2, clock, 5000)
    local all = {}
    for _, i in ipairs(got) do all[i] = true end
    for _, i in ipairs(rest) do
      assert.is_nil(all[i], "twice: " .. i)
      all[i] = true
    end
    local n = 0
    for _ in pairs(all) do n = n + 1 end
    assert.equals(40, n)
  end)

  it("ends with the job's error value, or the timeout's", function()
    local c = H.client{ api_version = "2026-03-01" }
    local id = emu.create_job{ documents = 10, duration = 4, parallel = 2, status = "Cancelled" }.id
    local clock = loop_clock()
    local n, errs = 0, {}
    local w = c:watch_async(id, { timeout = 60, now = clock.now,
      on_documents = function(_, docs) n = n + #docs end,
      on_done = function(_, err) errs[#errs + 1] = err end })
    frames(w, clock, 5000)
    assert.equals(10, n)
    assert.equals(1, #errs)
    assert.equals("job", w.error.kind)
    assert.equals("Cancelled", w.error.job_status)
    local running = emu.create_job{ status = "Running" }.id
    local wt = c:watch_async(running, { timeout = 2, now = clock.now })
    frames(wt, clock, 5000, function() wt:take() end)
    assert.equals("timeout", wt.error.kind)
    local ok, err = pcall(c.watch_async, c, id, { sleep = function() end })
    assert.is_false(ok)
    assert.equals("usage", U.of(err).kind)
  end)
end)
