-- job:wait_async{}: the wait of a game loop, stepped per frame, never blocking.
local L = require "lifecycle.helper"
local U = require "support.usage"
local emu = L.emu
local core = require "doctranslate.core"

describe("job:wait_async", function()
  lazy_setup(function()
    emu.reset()
    emu.settings{ start_duration = 2 }
  end)
  lazy_teardown(function() emu.reset() end)

  -- A game loop's clock that is the emulator's: the emulator's clock is frozen, and each frame
  -- moves both by FRAME seconds (the wait's `now` reads the loop's clock). The steps themselves run
  -- in real time, and are timed as such.
  local FRAME = 0.05
  local function loop_clock()
    emu.freeze()
    local t = 0
    return { now = function() return t end,
             tick = function() t = t + FRAME; emu.advance(FRAME) end }
  end

  local function frames(w, max_frames, clock)
    local n, longest = 0, 0
    while n < max_frames do
      n = n + 1
      local t0 = core.monotonic()
      local finished = w:step()
      longest = math.max(longest, core.monotonic() - t0)
      if finished then return n, longest end
      clock.tick()
    end
    error("the wait did not end in " .. max_frames .. " frames")
  end

  for _, v in ipairs({ "v1.1", "2026-03-01" }) do
    it("steps a started job to Succeeded without blocking, polls spaced by Retry-After (" .. v .. ")", function()
      local c = L.client(v)
      local job = assert(c:start(L.request()))
      local mark = L.mark()
      local seen = 0
      local clock = loop_clock()
      local w = job:wait_async{ interval = 0, timeout = 30, on_progress = function() seen = seen + 1 end,
                                now = clock.now }
      assert.matches("waiting", tostring(w))
      local n, longest = frames(w, 3000, clock)
      assert.is_true(w.done)
      assert.is_nil(w.error)
      assert.equals(job, w.job)
      assert.equals("Succeeded", job.status)
      assert.equals(20, job.summary.total)
      assert.is_true(seen >= 2)
      assert.is_true(n > 20, "frames: " .. n)
      assert.is_true(longest < 0.5, "a step took " .. longest .. " s")
      local reads = {}
      for _, r in ipairs(L.log("job", mark)) do reads[#reads + 1] = L.dt.parse_date(r.time) end
      for i = 2, #reads do assert.is_true(reads[i] - reads[i - 1] >= 0.999) end
      assert.is_nil(w:next_poll_in())
    end)
  end

  it("ends with a timeout error, can be cancelled, and is done at once for an ended job", function()
    local c = L.client("2024-05-01")
    local running = assert(c:job(emu.create_job{ status = "Running" }.id))
    local clock = loop_clock()
    local w = running:wait_async{ interval = 0, timeout = 1.2, now = clock.now }
    frames(w, 1000, clock)
    assert.equals("timeout", w.error.kind)
    local w2 = running:wait_async{ interval = 5 }
    assert.is_false(w2:step())
    assert.is_true(w2:next_poll_in() > 4)
    w2:cancel()
    assert.is_true(w2.cancelled)
    assert.is_true(w2:step())
    local ended = assert(c:job(emu.create_job{ status = "Failed" }.id))
    assert.is_true(ended:wait_async():step())
    local ok, err = pcall(running.wait_async, running, { colour = 1 })
    assert.is_false(ok)
    assert.equal("usage", U.of(err).kind) -- a string at the caller's line
  end)

  it("gives the poll's error", function()
    local c = L.client("v1.0", { retries = 0 })
    local job = assert(c:job(emu.create_job{ status = "Running" }.id))
    emu.fault{ route = "job", action = "status", status = 500 }
    local clock = loop_clock()
    local w = job:wait_async{ interval = 0, now = clock.now }
    frames(w, 1000, clock)
    emu.clear_faults()
    assert.equals(500, w.error.status)
    assert.equals("Running", job.status)
  end)
end)
