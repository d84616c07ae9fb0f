-- bench/gameloop: a 60 Hz loop lists a job of 1,000 documents whose pages the emulator delays
-- by 200 ms. Printed: the time spent inside the module per frame (op:step() plus
-- op:take(), p50/p99/max over every frame) and the total wall time. Target: p99 well under 1 ms.
--
--   make bench-gameloop            (its own emulator on its own ports, always stopped)
--   lua5.4 bench/gameloop/run.lua  (against a running emulator: DT_EMULATOR_HTTP)
--
-- Knobs (environment): GAMELOOP_DOCUMENTS (1000), GAMELOOP_LATENCY_MS (200),
-- GAMELOOP_PAGE_SIZE (100), GAMELOOP_ROUNDS (3), GAMELOOP_HZ (60), GAMELOOP_BUDGET (the step
-- budget in seconds; unset: the module's default, 0: no bound), GAMELOOP_GC ("incremental",
-- Lua's default, or "generational": the collector mode of the host; finalizing the documents of
-- pages the game dropped happens inside whatever allocates, op:take() included).
local here = (arg and arg[0] or ""):match("^(.*)/bench/gameloop/[^/]*$") or "."
package.path = here .. "/lua/?.lua;" .. here .. "/lua/?/init.lua;" .. here .. "/spec/?.lua;" .. package.path
package.cpath = here .. "/?.so;" .. package.cpath

local dt = require "doctranslate"
local core = require "doctranslate.core"
local emu = require "support.emulator"

local N = tonumber(os.getenv("GAMELOOP_DOCUMENTS")) or 1000
local LATENCY = tonumber(os.getenv("GAMELOOP_LATENCY_MS")) or 200
local PS = tonumber(os.getenv("GAMELOOP_PAGE_SIZE")) or 100
local ROUNDS = tonumber(os.getenv("GAMELOOP_ROUNDS")) or 3
local HZ = tonumber(os.getenv("GAMELOOP_HZ")) or 60
local GC = os.getenv("GAMELOOP_GC") or "incremental"
local BUDGET = tonumber(os.getenv("GAMELOOP_BUDGET"))
local now, sleep = core.monotonic, core.sleep
if _VERSION ~= "Lua 5.1" and _VERSION ~= "Lua 5.2" and _VERSION ~= "Lua 5.3" then collectgarbage(GC) end

local function pct(sorted, p)
  if #sorted == 0 then return 0 end
  local i = math.max(1, math.min(#sorted, math.ceil(p / 100 * #sorted)))
  return sorted[i]
end

emu.reset()
local j = emu.create_job{ documents = N }
local job_id = type(j) == "table" and (j.id or j.job_id) or j
emu.fault{ route = "documents", job = job_id, action = "latency", ms = LATENCY, times = -1 }

local function round()
  local c = dt.new{ endpoint = emu.http, key = emu.key }
  local op = c:documents_async(job_id, { page_size = PS, budget = BUDGET })
  local costs, seen, ids = {}, 0, {}
  local batch = {}
  local start = now()
  local next_frame = start
  while true do
    local t0 = now()
    local done = op:step()
    local docs, n = op:take(batch)
    for i = 1, n do local d = docs[i]; ids[d.id] = true end -- reading the id is the game's work
    costs[#costs + 1] = now() - t0
    seen = seen + n
    if done then break end
    next_frame = next_frame + 1 / HZ
    local rest = next_frame - now()
    if rest > 0 then sleep(rest) end
  end
  local wall = now() - start
  assert(op.error == nil, tostring(op.error))
  local distinct = 0
  for _ in pairs(ids) do distinct = distinct + 1 end
  assert(seen == N and distinct == N, ("listed %d (%d distinct) of %d"):format(seen, distinct, N))
  table.sort(costs)
  return { frames = #costs, p50 = pct(costs, 50), p99 = pct(costs, 99), max = costs[#costs], wall = wall,
           requests = c:stats().requests, connections = c:stats().connections }
end

print(("gameloop: %d documents, page size %d, %d ms added per page, %d Hz, %d rounds, %s, %s, GC %s, budget %s")
  :format(N, PS, LATENCY, HZ, ROUNDS, _VERSION, dt.curl_version, GC,
          BUDGET and ("%g s"):format(BUDGET) or "default (0.0002 s)"))
print(("%-6s %7s %10s %10s %10s %9s %9s %6s"):format("round", "frames", "p50 ms", "p99 ms", "max ms",
  "wall s", "requests", "conns"))
local all = {}
for r = 1, ROUNDS do
  local x = round()
  all[#all + 1] = x
  print(("%-6d %7d %10.3f %10.3f %10.3f %9.2f %9d %6d"):format(r, x.frames, x.p50 * 1000, x.p99 * 1000,
    x.max * 1000, x.wall, x.requests, x.connections))
end
local function median(key)
  local v = {}
  for _, x in ipairs(all) do v[#v + 1] = x[key] end
  table.sort(v)
  return v[math.floor((#v + 1) / 2)]
end
print(("median: in-module per frame p50 %.3f ms, p99 %.3f ms, max %.3f ms; wall %.2f s")
  :format(median("p50") * 1000, median("p99") * 1000, median("max") * 1000, median("wall")))
emu.clear_faults()
