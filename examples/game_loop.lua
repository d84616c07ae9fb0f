-- A game (or app) loop that lists a job's documents without ever blocking a frame.
--
--   make emulator-start && lua5.4 examples/game_loop.lua [job_id]
--
-- With no job id, a job of 1,000 documents is made on the local emulator (its admin API), and
-- the emulator delays each page by 200 ms so that the frames visibly go on while pages travel.
-- Against Azure: DOCTRANSLATE_ENDPOINT, DOCTRANSLATE_KEY (and DOCTRANSLATE_REGION) plus a job id.
--
-- The loop runs at 60 Hz. Each frame calls op:step() once: it reads what arrived, parses at
-- most one page and starts the next request, each only when it fits in the step's budget
-- (0.2 ms unless the option says otherwise; what does not fit is done at the next frame), and
-- returns at once (never a sleep, never a wait on a socket; a 429's Retry-After is a deadline it
-- checks, not a pause). op:take(t) hands out
-- the documents that arrived since the last frame, reusing t so no garbage is made per frame.
-- A host with its own poller (luv, an engine) can instead wait on op:fds() and its timeout.
local here = (arg and arg[0] or ""):match("^(.*)/examples/[^/]*$") or "."
package.path = here .. "/lua/?.lua;" .. here .. "/lua/?/init.lua;" .. here .. "/spec/?.lua;" .. package.path
package.cpath = here .. "/?.so;" .. package.cpath

local dt = require "doctranslate"
local core = require "doctranslate.core"

local FRAME = 1 / 60
local job_id = arg and arg[1]
local endpoint, key = os.getenv("DOCTRANSLATE_ENDPOINT"), os.getenv("DOCTRANSLATE_KEY")
local emu
if not job_id then
  emu = require "support.emulator"
  endpoint, key = emu.http, emu.key
  local j = emu.create_job{ documents = 1000, fail_every = 37 }
  job_id = type(j) == "table" and (j.id or j.job_id) or j
  emu.fault{ route = "documents", job = job_id, action = "latency", ms = 200, times = -1 }
end

local c = dt.new{ endpoint = endpoint, key = key, region = os.getenv("DOCTRANSLATE_REGION") }

-- the game's own state: a progress bar and a tally by status
local listed, by_status, failed = 0, {}, {}
local op = c:documents_async(job_id, {
  page_size = 100,
  on_done = function(_, err)
    if err then print("listing failed: " .. tostring(err)) end
  end,
})

local frames, in_module, worst = 0, 0, 0
local batch = {}
local start = core.monotonic()
local next_frame = start
while true do
  -- ---- the module's share of the frame
  local t0 = core.monotonic()
  local done = op:step()
  local docs, n = op:take(batch)
  local spent = core.monotonic() - t0
  in_module = in_module + spent
  if spent > worst then worst = spent end

  -- ---- the game's share: use what arrived
  for i = 1, n do
    local d = docs[i]
    listed = listed + 1
    by_status[d.status] = (by_status[d.status] or 0) + 1
    if d.status == "Failed" then failed[#failed + 1] = d.id end
  end
  frames = frames + 1
  if frames % 30 == 0 or done then
    local bar = math.floor(40 * listed / 1000 + 0.5)
    io.write(("\rframe %4d  [%s%s] %4d documents, %2d pages"):format(frames, ("#"):rep(math.min(bar, 40)),
      ("."):rep(math.max(0, 40 - bar)), listed, op.pages))
    io.flush()
  end
  if done then break end

  -- ---- wait for the next frame (a real engine renders here)
  next_frame = next_frame + FRAME
  local rest = next_frame - core.monotonic()
  if rest > 0 then core.sleep(rest) end
end
io.write("\n")

local wall = core.monotonic() - start
print(("%d documents in %d frames (%.2f s); time inside the module: %.3f ms per frame on average, "
  .. "%.3f ms at worst"):format(listed, frames, wall, in_module / frames * 1000, worst * 1000))
local parts = {}
for status, count in pairs(by_status) do parts[#parts + 1] = status .. " " .. count end
table.sort(parts)
print("by status: " .. table.concat(parts, ", ") .. (#failed > 0 and (" (first failed: " .. failed[1] .. ")") or ""))
if emu then emu.clear_faults() end
os.exit(op.error == nil and 0 or 1)
