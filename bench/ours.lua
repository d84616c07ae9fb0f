-- Our peer: the listing loop the benchmark times, on Lua 5.4, with doctranslate.
--
--   lua5.4 bench/ours.lua ENDPOINT KEY JOB_ID CA_FILE [IDS_FILE|-] [CONCURRENCY] [PREFETCH]
--
-- Reads doc.id, doc.status and doc.characterCharged of every document and
-- sums the last.  The ids go to IDS_FILE ("-" or absent: nowhere) so that the
-- driver checks they are distinct without this process holding them, and
-- memory stays what the listing needs.  CONCURRENCY > 1 passes the listing
-- option `concurrency` (parallel page windows); 1 or absent leaves the
-- default.  PREFETCH "off" passes `prefetch = false` (to see what the default
-- prefetch of the next page buys); absent leaves the default.  With
-- DT_BENCH_LOG=1 the client's log messages go to stderr.
--
-- Prints: docs= distinct=-1 chars= requests=-1 connects=-1 bytes=-1 listing_s=
local dt = require "doctranslate"

local endpoint, key, job_id, ca_file, ids_file, concurrency, prefetch = ...
if not (endpoint and key and job_id and ca_file) then
  io.stderr:write("usage: lua5.4 ours.lua ENDPOINT KEY JOB_ID CA_FILE [IDS_FILE|-] [CONCURRENCY] [PREFETCH]\n")
  os.exit(2)
end
concurrency = math.tointeger(tonumber(concurrency or "1"))

-- A wall clock for the in-process listing time, if LuaSocket is there.
local have_clock, clock = pcall(require, "socket.core")
local function now()
  return have_clock and clock.gettime() or -1
end

local log
if os.getenv("DT_BENCH_LOG") == "1" then
  log = function(level, message)
    io.stderr:write("[", tostring(level), "] ", tostring(message), "\n")
  end
end

local started = now()
local client = dt.new{ endpoint = endpoint, key = key, ca_file = ca_file,
                       api_version = "2024-05-01", log = log }
local options = { page_size = 100 }
if concurrency and concurrency > 1 then
  options.concurrency = concurrency
end
if prefetch == "off" then
  options.prefetch = false
end

local out = ids_file and ids_file ~= "-" and assert(io.open(ids_file, "w")) or nil
local docs, chars = 0, 0
for doc in client:documents(job_id, options) do
  local id, status = doc.id, doc.status
  if not status then error("document " .. tostring(id) .. " has no status") end
  chars = chars + doc.characterCharged
  docs = docs + 1
  if out then out:write(id, "\n") end
end
if out then out:close() end

local elapsed = have_clock and now() - started or -1
io.write(("docs=%d distinct=-1 chars=%d requests=-1 connects=-1 bytes=-1 listing_s=%.6f\n")
  :format(docs, chars, elapsed))
