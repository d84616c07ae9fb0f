-- What c:watch costs against the loop users write without it: a 1,000-document job that
-- finishes over 60 s, read every second, on the emulator's clock (frozen; each wait moves it,
-- so the run takes a few seconds, not a minute). Both read the same job from its creation,
-- with the same client, page size 100 (the most the service gives).
--   watch    for doc in c:watch(id, { interval = 1 }) do ... end
--   re-list  every second: list every document of the job, act on those newly ended;
--            until the job has ended (a status poll each second tells)
--   filtered what the watch would cost without its skip: a status poll each second and, when
--            the counts moved, a listing of every ended document (statuses filter, no skip)
-- Figures come from the emulator's request log (requests, bytes of the answers), plus how late
-- each document came after it ended (emulated seconds). Run: make bench-watch.
package.path = "lua/?.lua;spec/?.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath
local emu = require "support.emulator"
local dt = require "doctranslate"

local DOCS = tonumber(os.getenv("BENCH_WATCH_DOCS") or "") or 1000
local SECONDS = tonumber(os.getenv("BENCH_WATCH_SECONDS") or "") or 60
local VERSION = os.getenv("BENCH_WATCH_API") or "2026-03-01"
local TERMINAL = dt.TERMINAL or require("doctranslate.core").TERMINAL

local function client()
  return dt.new{ endpoint = emu.http, key = emu.key, api_version = VERSION, page_size = 100 }
end

local function last_seq()
  local all = emu.requests()
  return #all > 0 and all[#all].seq or 0
end

local function tally(since)
  local t = { requests = 0, bytes = 0, job = 0, documents = 0 }
  for _, r in ipairs(emu.requests(since)) do
    t.requests = t.requests + 1
    t.bytes = t.bytes + (r.bytes or 0)
    if r.route == "job" then t.job = t.job + 1 elseif r.route == "documents" then t.documents = t.documents + 1 end
  end
  return t
end

local function new_job()
  emu.reset()
  emu.settings{ log_max = 100000 }
  emu.freeze()
  return emu.create_job{ documents = DOCS, duration = SECONDS, fail_every = 17 }.id
end

-- Lateness of a document handed out at emulated time `at`.
local function late(doc, at, lat)
  local ended = doc:time("lastActionDateTimeUtc")
  lat[#lat + 1] = at - ended
end

local function summary(lat)
  table.sort(lat)
  local sum = 0
  for _, v in ipairs(lat) do sum = sum + v end
  return #lat, sum / math.max(#lat, 1), lat[math.max(1, math.ceil(#lat * 0.99))] or 0
end

local function run_watch()
  local id = new_job()
  local c = client()
  local mark = last_seq()
  local lat = {}
  local w = c:watch(id, emu.clock_opts{ interval = 1, timeout = SECONDS * 3 })
  local ok, err = pcall(function()
    for doc in w do late(doc, emu.now(), lat) end
  end)
  if not ok and not (type(err) == "table" and err.kind == "job") then error(err, 0) end
  local t = tally(mark)
  t.docs, t.mean_late, t.p99_late = summary(lat)
  t.token = #w:continuation()
  return t
end

local function run_relist()
  local id = new_job()
  local c = client()
  local mark = last_seq()
  local lat, seen = {}, {}
  while true do
    local job = assert(c:job(id))
    for doc in c:documents(id) do
      if TERMINAL[doc.status] and not seen[doc.id] then
        seen[doc.id] = true
        late(doc, emu.now(), lat)
      end
    end
    if TERMINAL[job.status] then break end
    emu.advance(1)
  end
  local t = tally(mark)
  t.docs, t.mean_late, t.p99_late = summary(lat)
  return t
end

local function run_filtered()
  local id = new_job()
  local c = client()
  local mark = last_seq()
  local lat, seen, listed = {}, {}, -1
  while true do
    local job = assert(c:job(id))
    local s = job.summary
    local ended = s.success + s.failed + s.cancelled
    if ended ~= listed then
      for doc in c:documents(id, { statuses = { "Succeeded", "Failed", "Cancelled" } }) do
        if not seen[doc.id] then
          seen[doc.id] = true
          late(doc, emu.now(), lat)
        end
      end
      listed = ended
    end
    if TERMINAL[job.status] then break end
    emu.advance(1)
  end
  local t = tally(mark)
  t.docs, t.mean_late, t.p99_late = summary(lat)
  return t
end

local watch = run_watch()
local relist = run_relist()
local filtered = run_filtered()
emu.reset()

print(string.format("c:watch against a re-list loop: %d documents ending over %d s, read every second (api %s)",
  DOCS, SECONDS, VERSION))
print(string.format("%-9s %9s %11s %9s %12s %9s %14s %13s", "", "requests", "(job/list)", "bytes", "bytes/doc",
  "docs", "mean late (s)", "p99 late (s)"))
for _, row in ipairs({ { "watch", watch }, { "re-list", relist }, { "filtered", filtered } }) do
  local t = row[2]
  print(string.format("%-9s %9d %5d/%-5d %9d %12.0f %9d %14.2f %13.2f", row[1], t.requests, t.job, t.documents,
    t.bytes, t.bytes / math.max(t.docs, 1), t.docs, t.mean_late, t.p99_late))
end
print(string.format("ratio watch/re-list: requests %.3f, bytes %.3f", watch.requests / relist.requests,
  watch.bytes / relist.bytes))
print(string.format("continuation token after %d documents: %d characters", watch.docs, watch.token))
local ok = watch.requests * 3 <= relist.requests and watch.docs == DOCS and relist.docs == DOCS
print(ok and "OK: the watch made at most a third of the requests and handed out every document"
  or "NOT OK: the watch made more than a third of the requests, or lost documents")
os.exit(ok and 0 or 1)
