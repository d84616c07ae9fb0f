-- A LÖVE app that follows a Document Translation job and draws it without ever blocking a frame:
-- a progress bar from the job's summary, and the job's documents in a scrolling list as they
-- finish (failed ones in red, with their error code).
--
--   love examples/love JOB_ID          (DOCTRANSLATE_ENDPOINT, DOCTRANSLATE_KEY, and for a
--                                       private CA DOCTRANSLATE_CA_FILE; see README.md)
--   make love-demo                     (the local emulator, a job of 1,000 documents)
--
-- Each frame, love.update calls w:step() and w:take() once on the document watch
-- (c:watch_async): bounded work inside the module (the `budget` option), never a sleep and never
-- a wait on a socket. The watch polls the job every POLL seconds at least and lists only the
-- documents that ended since, so each document shows once, as soon as it has finished.
--
-- With DT_LOVE_OUT set (make test-hosts), the app also measures the time spent inside the module
-- in every frame and the frame times, and once the listing has ended it captures the window,
-- writes the figures, the screenshot and the pixels of the bar's middle row into that folder,
-- and quits: exit code 0 only when every document of the job was seen exactly once.

local POLL = 0.5        -- seconds between two polls of the job while it runs
local BUDGET = 0.0003   -- seconds of work a step of the listing aims at
local REVEAL = 12       -- list lines revealed per frame (the list scrolls instead of jumping)
local LINES = 22        -- list lines on screen
local HZ = 60

local W, H = 800, 600
local BAR = { x = 40, y = 92, w = 720, h = 28 }
local COLOR = {
  background = { 16, 18, 24 },
  track = { 60, 62, 72 },
  fill = { 46, 180, 90 },
  text = { 225, 228, 235 },
  dim = { 140, 145, 160 },
  failed = { 235, 64, 64 },
}
local function rgb(c) return c[1] / 255, c[2] / 255, c[3] / 255 end

local out_dir = os.getenv("DT_LOVE_OUT")       -- the headless check's folder, or nil
local give_up = tonumber(os.getenv("DT_LOVE_TIMEOUT") or "") or 120

-- ------------------------------------------------------------------ the module
-- The module built for LuaJIT (the checkout's `make openresty-core`): next to the app
-- (examples/love/doctranslate/core.so), in the checkout's build/openresty/, or on package.cpath.
local source = love.filesystem.getSource()
local tried_cpath = table.concat({
  source .. "/?.so",
  source .. "/../../build/openresty/?.so",
}, ";")
package.path = table.concat({ source .. "/?.lua", source .. "/?/init.lua", source .. "/../../lua/?.lua",
  source .. "/../../lua/?/init.lua" }, ";") .. ";" .. package.path
package.cpath = tried_cpath .. ";" .. package.cpath

local dt
local fatal -- the message drawn instead of the job when the app cannot go on
do
  local ok, err = pcall(require, "doctranslate.core")
  if not ok then
    fatal = "The doctranslate module built for LuaJIT (doctranslate/core.so) could not be loaded.\n\n"
      .. "In the checkout, run:  make openresty-core\n"
      .. "(it builds build/openresty/doctranslate/core.so, which this app finds), or copy a core.so\n"
      .. "built for LuaJIT to " .. source .. "/doctranslate/core.so, or put its folder on package.cpath.\n"
      .. "The Lua 5.4 build (doctranslate/core.so of `make`) does not load in LÖVE.\n\n"
      .. "The loader said:\n" .. tostring(err)
  else
    local ok_lua, lua_part = pcall(require, "doctranslate")
    if ok_lua then
      dt = lua_part
    else
      fatal = "The module's Lua files (doctranslate.lua and doctranslate/) could not be loaded: they are "
        .. "the checkout's lua/ folder, found from " .. source .. "/../../lua, next to the app, or on "
        .. "package.path.\n\nThe loader said:\n" .. tostring(lua_part)
    end
  end
end

-- ------------------------------------------------------------------ the app's state
local now = love.timer.getTime
local client, job_id
local summary, status_text = nil, "asking for the job..."
local watch, watch_error
local batch = {}
local seen, seen_count, duplicates, failed_count = {}, 0, 0, 0
local shown_while_running = 0 -- documents shown before the job had ended (the watch at work)
local pending, pending_head, pending_tail = {}, 1, 0 -- documents taken, not yet shown
local lines = {}                    -- shown: { text, failed }
local frame = 0

-- measurements (every frame from the first on)
local module_ms, frame_ms = {}, {}
local client_new_ms = 0
local first_response_frame -- the frame in which the first answer (over the first connection) arrived
local capture_state        -- nil, "asked", "written"
local exit_code
local started_at

local TERMINAL = { Succeeded = true, Failed = true, Cancelled = true, ValidationFailed = true }

local function fail(msg)
  fatal = msg
  io.stderr:write("doctranslate love: ", msg, "\n")
  if out_dir then exit_code = 1 end
end

function love.load(args)
  love.graphics.setBackgroundColor(rgb(COLOR.background))
  if fatal then
    io.stderr:write("doctranslate love: ", fatal, "\n")
    if out_dir then exit_code = 1 end
    return
  end
  job_id = args[1] or os.getenv("DOCTRANSLATE_JOB")
  local endpoint, key = os.getenv("DOCTRANSLATE_ENDPOINT"), os.getenv("DOCTRANSLATE_KEY")
  if not job_id or not endpoint or not key then
    return fail("Give a job id (love examples/love JOB_ID) and set DOCTRANSLATE_ENDPOINT and "
      .. "DOCTRANSLATE_KEY (DOCTRANSLATE_CA_FILE for a private CA); `make love-demo` does it all "
      .. "against the local emulator.")
  end
  local t0 = now()
  local c, err = dt.new{ endpoint = endpoint, key = key, region = os.getenv("DOCTRANSLATE_REGION"),
                         ca_file = os.getenv("DOCTRANSLATE_CA_FILE"),
                         -- TLS set up here, not in the first connection's frame (on unless "0")
                         prepare_tls = os.getenv("DT_LOVE_PREPARE_TLS") ~= "0" }
  client_new_ms = (now() - t0) * 1000
  if not c then return fail("cannot make the client: " .. tostring(err)) end
  client = c
  started_at = now()
end

-- ------------------------------------------------------------------ each frame

-- The module's share of a frame: the watch, stepped once, and what it handed out taken.
local function step_module()
  if not watch then
    watch = client:watch_async(job_id, {
      interval = POLL, page_size = 100, budget = BUDGET,
      on_job = function(job)
        summary = job.summary
        status_text = job.status
      end,
    })
  end
  if watch.done then return end
  watch:step()
  local docs, n = watch:take(batch)
  for i = 1, n do
    local d = docs[i]
    local id, st = d.id, d.status
    local code = st == "Failed" and d.error and d.error.code or nil
    pending_tail = pending_tail + 1
    pending[pending_tail] = { id, st, code }
  end
  if watch.done and watch.error then watch_error = watch.error end
end

-- The game's share: count what arrived and reveal a few lines of the list.
local function use(t)
  for _ = 1, REVEAL do
    local p = pending[pending_head]
    if not p then break end
    pending[pending_head] = nil
    pending_head = pending_head + 1
    local id, st, code = p[1], p[2], p[3]
    if seen[id] then duplicates = duplicates + 1 else seen[id] = true; seen_count = seen_count + 1 end
    if not TERMINAL[status_text] then shown_while_running = shown_while_running + 1 end
    if code then failed_count = failed_count + 1 end
    lines[#lines + 1] = { ("%-38s %-10s %s"):format(id, st, code or ""), code ~= nil }
    if #lines > LINES then table.remove(lines, 1) end
  end
  if out_dir and not capture_state and t - started_at > give_up then
    fail(("gave up after %d s: %d documents seen"):format(give_up, seen_count))
  end
end

function love.update()
  if fatal or not client then return end
  frame = frame + 1
  local t0 = now()
  step_module()
  local spent = now() - t0
  module_ms[frame] = spent * 1000
  if not first_response_frame and (summary or status_text ~= "asking for the job...") then
    first_response_frame = frame
  end
  use(t0)
  if watch_error then
    fail("the watch failed: " .. tostring(watch_error))
    watch_error = nil
  end
end

-- ------------------------------------------------------------------ drawing

local function finished()
  return watch and watch.done and not watch.error and pending[pending_head] == nil
end

local function fraction()
  if not summary or not summary.total or summary.total == 0 then return 0 end
  local done = (summary.success or 0) + (summary.failed or 0) + (summary.cancelled or 0)
  return math.min(1, done / summary.total)
end

function love.draw()
  local g = love.graphics
  if fatal then
    g.setColor(rgb(COLOR.failed))
    g.printf(fatal, 40, 40, W - 80)
    return
  end
  g.setColor(rgb(COLOR.text))
  g.print("job " .. tostring(job_id), BAR.x, 24)
  g.setColor(rgb(COLOR.dim))
  local s = summary or {}
  g.print(("%s   total %s   succeeded %s   failed %s   running %s   waiting %s"):format(status_text,
    s.total or "?", s.success or "?", s.failed or "?", s.inProgress or "?", s.notYetStarted or "?"),
    BAR.x, 48)
  -- the bar: the track, then the part done over it
  g.setColor(rgb(COLOR.track))
  g.rectangle("fill", BAR.x, BAR.y, BAR.w, BAR.h)
  g.setColor(rgb(COLOR.fill))
  g.rectangle("fill", BAR.x, BAR.y, math.floor(BAR.w * fraction() + 0.5), BAR.h)
  g.setColor(rgb(COLOR.text))
  local stats = watch and watch:stats() or {}
  local listed = ("%d documents finished, %d failed%s"):format(seen_count, failed_count,
    (watch and watch.done) and "" or "...")
  g.print(listed, BAR.x, BAR.y + BAR.h + 10)
  for i, line in ipairs(lines) do
    g.setColor(rgb(line[2] and COLOR.failed or COLOR.text))
    g.print(line[1], BAR.x, BAR.y + BAR.h + 24 + i * 18)
  end
  if out_dir and finished() and not capture_state then
    capture_state = "asked"
    love.graphics.captureScreenshot(function(image) -- runs at the end of this frame's draw
      local report = require "report"
      report.write(out_dir, image, {
        module_ms = module_ms, frame_ms = frame_ms, client_new_ms = client_new_ms,
        first_response_frame = first_response_frame, documents = seen_count, duplicates = duplicates,
        failed = failed_count, total = s.total, pages = stats.listings or 0,
        shown_while_running = shown_while_running, width = W, height = H, bar = BAR,
        color = COLOR, fraction = fraction(), connections = client:stats().connections,
      })
      capture_state = "written"
      exit_code = (duplicates == 0 and s.total and seen_count == s.total and fraction() == 1) and 0 or 1
    end)
  end
end

function love.keypressed(key)
  if key == "escape" or key == "q" then love.event.quit(0) end
end

-- ------------------------------------------------------------------ the loop
-- LÖVE's own loop, with a frame limiter at HZ (vsync may be absent, e.g. under Xvfb) and the
-- frame times recorded.
function love.run()
  love.load(love.arg.parseGameArguments(arg), arg)
  love.timer.step()
  local period = 1 / HZ
  local next_frame = now()
  local last = now()
  return function()
    love.event.pump()
    for name, a, b, c, d, e, f in love.event.poll() do
      if name == "quit" then
        if not love.quit or not love.quit() then
          if client then client:close() end
          return exit_code or a or 0
        end
      end
      love.handlers[name](a, b, c, d, e, f)
    end
    love.timer.step()
    local t = now()
    if client then frame_ms[#frame_ms + 1] = (t - last) * 1000 end
    last = t
    love.update(love.timer.getDelta())
    if love.graphics.isActive() then
      love.graphics.origin()
      love.graphics.clear(love.graphics.getBackgroundColor())
      love.draw()
      love.graphics.present()
    end
    if exit_code ~= nil then
      if client then client:close() end
      if exit_code ~= 0 and fatal then io.stderr:write("doctranslate love: failed\n") end
      return exit_code
    end
    next_frame = next_frame + period
    local rest = next_frame - now()
    if rest > 0 then love.timer.sleep(rest) else next_frame = now() end
  end
end
