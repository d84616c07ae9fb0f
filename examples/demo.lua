-- doctranslate demo: track a job of 1,000 documents on the local emulator to its end,
-- then summarise its documents from one full listing.
--
--   make demo        (builds, starts the emulator, runs this, stops the emulator)
--
-- Uses the emulator's admin API (through spec/support/emulator.lua, which calls the
-- curl CLI) only to create the job; everything else goes through doctranslate.
local here = (arg and arg[0] or ""):match("^(.*)/examples/[^/]*$") or "."
package.path = here .. "/lua/?.lua;" .. here .. "/lua/?/init.lua;" .. here .. "/spec/?.lua;" .. package.path
package.cpath = here .. "/?.so;" .. package.cpath

local dt = require "doctranslate"
local emu = require "support.emulator"

local ok_socket, socket = pcall(require, "socket")
local function sleep(s)
  if ok_socket then socket.sleep(s) else os.execute("sleep " .. tostring(s)) end
end
local function now()
  if ok_socket then return socket.gettime() end
  return os.time()
end

local DOCUMENTS, FAIL_EVERY, DURATION = 1000, 37, 4

local created = emu.create_job{ documents = DOCUMENTS, fail_every = FAIL_EVERY, duration = DURATION }
local job_id = created.id
print(("doctranslate %s demo against %s (%s)"):format(dt.VERSION, emu.https, dt.curl_version:match("^%S+")))
print(("created job %s: %d documents, every %dth fails, about %d s of work"):format(job_id, DOCUMENTS,
  FAIL_EVERY, DURATION))

local c = dt.new{ endpoint = emu.https, key = emu.key, ca_file = emu.ca }

-- 1. follow the job until it ends, no faster than the service's Retry-After
local job, err = c:job(job_id)
if not job then
  io.stderr:write("demo: ", tostring(err), "\n")
  os.exit(1)
end
local t0, last = now(), nil
while true do
  local s = job.summary
  local line = ("%6.2f s  %-10s total %4d  success %4d  failed %3d  running %4d  waiting %4d  chars %d"):format(
    now() - t0, job.status, s.total, s.success, s.failed, s.inProgress, s.notYetStarted, s.totalCharacterCharged)
  if line:sub(10) ~= last then print(line) end
  last = line:sub(10)
  if dt.is_terminal(job.status) then break end
  if now() - t0 > 60 then
    io.stderr:write("demo: the job did not end within 60 s\n")
    os.exit(1)
  end
  local retry_after = tonumber(job:response().headers["retry-after"]) or 1
  sleep(math.min(retry_after, 0.5))
  local _, rerr = job:refresh()
  if rerr then
    io.stderr:write("demo: ", tostring(rerr), "\n")
    os.exit(1)
  end
end
print(tostring(job))

-- 2. one full listing: counts by status, characters charged, failed documents' codes
local before = c:stats()
emu.clear_requests()
local by_status, codes, chars, n, seen = {}, {}, 0, 0, {}
local lt0 = now()
for doc in c:documents(job_id, { page_size = 100 }) do
  n = n + 1
  seen[doc.id] = true
  by_status[doc.status] = (by_status[doc.status] or 0) + 1
  chars = chars + (doc.characterCharged or 0)
  if doc.status == "Failed" and doc.error then
    local e = doc.error
    local code = tostring(e.code) .. (e.innerError and e.innerError.code and ("/" .. e.innerError.code) or "")
    codes[code] = (codes[code] or 0) + 1
  end
end
local elapsed = now() - lt0
local after = c:stats()
local distinct = 0
for _ in pairs(seen) do distinct = distinct + 1 end

print(("\nlisted %d documents (%d distinct) in %.3f s"):format(n, distinct, elapsed))
local names = {}
for k in pairs(by_status) do names[#names + 1] = k end
table.sort(names)
for _, k in ipairs(names) do print(("  %-12s %5d"):format(k, by_status[k])) end
print(("  characters charged %d (job summary says %d)"):format(chars, job.summary.totalCharacterCharged))
names = {}
for k in pairs(codes) do names[#names + 1] = k end
table.sort(names)
for _, k in ipairs(names) do print(("  failed with %-40s %d"):format(k, codes[k])) end

local requests = after.requests - before.requests
local logged = #emu.requests()
print(("the listing cost %d requests (emulator log: %d), %d new connection(s) (client total %d)"):format(
  requests, logged, after.connections - before.connections, after.connections))

local ok = n == DOCUMENTS and distinct == DOCUMENTS and requests == math.ceil(DOCUMENTS / 100)
  and logged == requests and chars == job.summary.totalCharacterCharged
  and (by_status.Failed or 0) == job.summary.failed
c:close()
if not ok then
  io.stderr:write("demo: the result is not what the job reported\n")
  os.exit(1)
end
print("demo: ok")
