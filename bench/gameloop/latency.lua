-- bench/gameloop/latency.lua: what prefetch and parallel windows change for a listing under
-- latency: a job of 10,000 documents, 50 ms added by the emulator to every page,
-- page size 100, listed with `for doc in c:documents(...)` reading doc.id, doc.status and
-- doc.characterCharged. Each configuration runs LATENCY_ROUNDS times; the median is printed
-- with min/max, plus requests and connections of the last round.
--
--   lua5.4 bench/gameloop/latency.lua   (against a running emulator: DT_EMULATOR_HTTP)
--
-- Knobs: LATENCY_DOCUMENTS (10000), LATENCY_MS (50), LATENCY_WORK_MS (0: the caller's work
-- per page, spent as busy time in the loop), LATENCY_ROUNDS (3).
local here = (arg and arg[0] or ""):match("^(.*)/bench/gameloop/[^/]*$") or "."
package.path = here .. "/lua/?.lua;" .. here .. "/lua/?/init.lua;" .. here .. "/spec/?.lua;" .. package.path
package.cpath = here .. "/?.so;" .. package.cpath

local dt = require "doctranslate"
local core = require "doctranslate.core"
local emu = require "support.emulator"

local N = tonumber(os.getenv("LATENCY_DOCUMENTS")) or 10000
local MS = tonumber(os.getenv("LATENCY_MS")) or 50
local WORK = (tonumber(os.getenv("LATENCY_WORK_MS")) or 0) / 1000
local ROUNDS = tonumber(os.getenv("LATENCY_ROUNDS")) or 3
local now = core.monotonic

emu.reset()
local j = emu.create_job{ documents = N }
local job_id = type(j) == "table" and (j.id or j.job_id) or j
emu.fault{ route = "documents", job = job_id, action = "latency", ms = MS, times = -1 }

local function busy(s)
  local t = now() + s
  while now() < t do end
end

local function run(opts)
  local c = dt.new{ endpoint = emu.http, key = emu.key }
  local t0 = now()
  local n, chars, seen = 0, 0, {}
  for doc in c:documents(job_id, opts) do
    n = n + 1
    seen[doc.id] = doc.status
    chars = chars + (doc.characterCharged or 0)
    if WORK > 0 and n % 100 == 0 then busy(WORK) end
  end
  local wall = now() - t0
  local distinct = 0
  for _ in pairs(seen) do distinct = distinct + 1 end
  assert(n == N and distinct == N, ("listed %d (%d distinct) of %d"):format(n, distinct, N))
  local s = c:stats()
  return wall, s.requests, s.connections
end

local configs = {
  { "sequential (prefetch = false)", { page_size = 100, prefetch = false } },
  { "prefetch (default)", { page_size = 100 } },
  { "concurrency = 4", { page_size = 100, concurrency = 4 } },
  { "concurrency = 8", { page_size = 100, concurrency = 8 } },
  { "concurrency = 16", { page_size = 100, concurrency = 16 } },
}
print(("latency: %d documents, page size 100, %d ms added per page, caller work %.0f ms per page, %d rounds")
  :format(N, MS, WORK * 1000, ROUNDS))
print(("%-32s %9s %9s %9s %9s %6s"):format("listing", "median s", "min s", "max s", "requests", "conns"))
local base
for _, cfg in ipairs(configs) do
  local walls, req, conn = {}, 0, 0
  for _ = 1, ROUNDS do
    local w
    w, req, conn = run(cfg[2])
    walls[#walls + 1] = w
  end
  table.sort(walls)
  local med = walls[math.floor((#walls + 1) / 2)]
  base = base or med
  print(("%-32s %9.3f %9.3f %9.3f %9d %6d   %.2fx"):format(cfg[1], med, walls[1], walls[#walls], req, conn,
    base / med))
end
emu.clear_faults()
