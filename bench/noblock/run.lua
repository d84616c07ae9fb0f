-- bench/noblock: proof that the OpenResty transport never blocks an nginx worker.
--
-- One nginx worker (examples/nginx.conf + examples/openresty_handler.lua, the LuaJIT
-- core over cosockets) serves /ping while 200 concurrent requests each stream the
-- document list of a job whose pages the emulator delays by 300 ms. Every /ping must
-- answer in under 50 ms and every listing must equal the emulator's. Prints the
-- ping latencies (p50/p99/max) and exits non-zero when either condition fails.
--
--   make bench-noblock     (its own emulator on 18780/18743; see mk/openresty.mk)
--
-- Knobs (environment): NOBLOCK_LISTINGS (200), NOBLOCK_DOCS (200 documents per job),
-- NOBLOCK_PAGE (50 per page), NOBLOCK_DELAY_MS (300), NOBLOCK_LIMIT_MS (50),
-- NOBLOCK_PING_EVERY_MS (10), NOBLOCK_WARMUP (20 listings of a job without latency first).
-- Load: `curl --parallel` for the listings, a LuaSocket loop for the pings (a new
-- connection each, timed from connect to the last byte). Also printed: the worker's
-- CPU time, its transport counters, and its event-loop lag seen from inside
-- (bench/noblock/lag.lua, added to the example's configuration for this run).
package.path = "spec/?.lua;" .. package.path
local socket = require "socket"
local cjson = require "cjson"
local emu = require "support.emulator"
local N = require "openresty.nginx"

local LISTINGS = tonumber(os.getenv("NOBLOCK_LISTINGS")) or 200
local DOCS = tonumber(os.getenv("NOBLOCK_DOCS")) or 200
local PAGE = tonumber(os.getenv("NOBLOCK_PAGE")) or 50
local DELAY_MS = tonumber(os.getenv("NOBLOCK_DELAY_MS")) or 300
local LIMIT_MS = tonumber(os.getenv("NOBLOCK_LIMIT_MS")) or 50
local PING_EVERY = (tonumber(os.getenv("NOBLOCK_PING_EVERY_MS")) or 10) / 1000
local WARMUP = tonumber(os.getenv("NOBLOCK_WARMUP")) or 20
local DEADLINE = 120 -- seconds for the whole load

local function sh(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function read_all(path)
  local fh = io.open(path, "rb")
  if not fh then return nil end
  local s = fh:read("*a")
  fh:close()
  return s
end

-- The job's ids as the emulator lists them (before the latency fault).
local function expected(job_id)
  local ids = {}
  local url = "/translator/document/batches/" .. job_id .. "/documents?api-version=2026-03-01&maxpagesize=100"
  while url do
    local status, _, body = emu.get(url)
    assert(status == 200, "emulator listing answered " .. tostring(status))
    local page = cjson.decode(body)
    for _, d in ipairs(page.value) do ids[#ids + 1] = d.id end
    url = page["@nextLink"] or page.nextLink
  end
  return ids
end

local PHASES
local function ping(port)
  local t0 = socket.gettime()
  local c = socket.tcp()
  c:settimeout(10)
  local ok, err = c:connect("127.0.0.1", port)
  if not ok then return nil, err end
  local t1 = socket.gettime()
  c:send("GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
  local first = c:receive("*l")
  local t2 = socket.gettime()
  local data, rerr, partial = c:receive("*a")
  c:close()
  local took = socket.gettime() - t0
  PHASES = string.format("connect %.1f ms, first line %.1f ms, rest %.1f ms", (t1 - t0) * 1000, (t2 - t1) * 1000,
    (t0 + took - t2) * 1000)
  data = first and (first .. "\r\n" .. (data or partial or "")) or nil
  data = data or partial
  if not data or not data:find("^HTTP/1%.1 200") or not data:find("pong") then
    return nil, "bad /ping answer: " .. tostring(rerr)
  end
  return took
end

-- CPU seconds (user + system) used so far by a process, from /proc.
local function cpu_seconds(pid)
  local stat = read_all("/proc/" .. tostring(pid) .. "/stat")
  if not stat then return nil end
  local fields = {}
  for f in stat:match("%) (.*)$"):gmatch("%S+") do fields[#fields + 1] = f end
  return (tonumber(fields[12]) + tonumber(fields[13])) / 100 -- utime, stime in ticks (USER_HZ 100)
end

-- The nginx worker of a master pid.
local function worker_pid(master)
  local p = io.popen("ps -o pid= --ppid " .. tostring(master))
  local out = p:read("*a")
  p:close()
  return tonumber(out:match("%d+"))
end

local function percentile(sorted, p)
  if #sorted == 0 then return 0 / 0 end
  local i = math.max(1, math.ceil(p / 100 * #sorted))
  return sorted[i]
end

local function run(srv, job_id, want, dir, warm_id)
  -- warm-up: the worker's JIT compiles its traces on a job without latency first
  for _ = 1, WARMUP do
    local status = srv:get("/jobs/" .. warm_id .. "/documents?page_size=" .. PAGE)
    assert(status == 200, "warm-up listing answered " .. tostring(status))
  end
  -- the load: LISTINGS concurrent streamed listings through nginx
  local cfg = dir .. "/curl.cfg"
  local fh = assert(io.open(cfg, "wb"))
  for i = 1, LISTINGS do
    fh:write(string.format('url = "%s/jobs/%s/documents?page_size=%d"\noutput = "%s/%d.json"\n',
      srv.base, job_id, PAGE, dir, i))
  end
  fh:close()
  local flag = dir .. "/done"
  assert(ping(srv.port), "nginx does not answer /ping")
  assert(srv:get("/lag?reset=1") == 200, "no /lag probe")
  local worker = worker_pid(srv:pid())
  local cpu0 = cpu_seconds(worker)
  local started = socket.gettime()
  os.execute("(curl -s --http1.1 --parallel --parallel-immediate --parallel-max " .. LISTINGS
    .. " --max-time " .. DEADLINE .. " -w '%{http_code}\\n' -K " .. sh(cfg) .. " > " .. sh(dir .. "/codes")
    .. " 2>/dev/null; date +%s.%N > " .. sh(flag) .. ") &")

  local pings, failures, slow = {}, {}, {}
  while socket.gettime() - started < DEADLINE + 5 do
    local at = socket.gettime() - started
    local took, err = ping(srv.port)
    if took then pings[#pings + 1] = took else failures[#failures + 1] = err end
    if took and took * 1000 >= LIMIT_MS then
      slow[#slow + 1] = string.format("%.0f ms at +%.2f s (%s)", took * 1000, at, PHASES)
    end
    if read_all(flag) then break end
    socket.sleep(PING_EVERY)
  end
  local ended = tonumber(read_all(flag) or "") or socket.gettime()
  local cpu1 = cpu_seconds(worker)
  local _, _, lag_body = srv:get("/lag")
  local lag = cjson.decode(lag_body)

  local codes, exact = {}, 0
  local codes_text = read_all(dir .. "/codes") or ""
  for code in codes_text:gmatch("%d%d%d") do if code == "200" then codes[#codes + 1] = code end end
  local bad = {}
  for i = 1, LISTINGS do
    local text = read_all(dir .. "/" .. i .. ".json") or ""
    local okd, got = pcall(cjson.decode, text)
    local same = okd and type(got) == "table" and got.count == #want and got.error == nil
      and type(got.documents) == "table" and #got.documents == #want
    if same then
      for k, d in ipairs(got.documents) do
        if d.id ~= want[k] then same = false break end
      end
    end
    if same then exact = exact + 1 elseif #bad < 3 then bad[#bad + 1] = i .. ": " .. text:sub(1, 200) end
  end
  table.sort(pings)
  local max = pings[#pings] or 0 / 0
  return {
    pings = #pings, ping_failures = failures, p50 = percentile(pings, 50), p99 = percentile(pings, 99), max = max,
    exact = exact, codes = #codes, codes_text = codes_text, bad = bad, wall = ended - started, slow = slow,
    cpu = cpu0 and cpu1 and cpu1 - cpu0, lag = lag,
  }
end

local function main()
  emu.reset()
  local job_id = emu.create_job{ documents = DOCS, fail_every = 7 }.id
  local want = expected(job_id)
  local warm_id = emu.create_job{ documents = DOCS, fail_every = 7 }.id
  assert(#want == DOCS, "the emulator lists " .. #want .. " documents, not " .. DOCS)
  emu.fault{ route = "documents", job = job_id, action = "latency", ms = DELAY_MS, times = -1 }
  emu.clear_requests()
  local dir = os.tmpname()
  os.remove(dir)
  local made = os.execute("mkdir -p " .. sh(dir))
  assert(made == true or made == 0, "mkdir failed")
  -- the example's nginx.conf, plus the lag probe (an init_worker timer and /lag)
  local function edit(conf)
    local n1, n2
    conf, n1 = conf:gsub('(require%("openresty_handler"%)%.init_worker%(%))', '%1\n        require("lag").start()')
    conf, n2 = conf:gsub('(%s+location = /ping {)', '\n        location = /lag {\n            content_by_lua_block {'
      .. ' require("lag").handle() }\n        }\n%1')
    assert(n1 == 1 and n2 == 1, "examples/nginx.conf changed: the lag probe does not fit")
    return conf
  end
  local srv = N.start{ endpoint = emu.http, key = emu.key, workers = 1, edit = edit,
                       lua_path = N.root .. "/bench/noblock/?.lua" }
  local ok, r = pcall(run, srv, job_id, want, dir, warm_id)
  local stats
  if ok then
    local _, _, body = srv:get("/stats")
    stats = select(2, pcall(cjson.decode, body or ""))
  end
  srv:stop()
  os.execute("rm -rf " .. sh(dir))
  if not ok then error(r, 0) end

  local conns, pages = {}, 0
  for _, q in ipairs(emu.requests()) do
    if q.route == "documents" and q.path:find(job_id, 1, true) then
      pages = pages + 1
      conns[q.connection] = true
    end
  end
  local nconns = 0
  for _ in pairs(conns) do nconns = nconns + 1 end
  emu.reset()

  local per_listing = math.ceil(DOCS / PAGE)
  print(string.format("noblock: 1 nginx worker, %d concurrent listings of %d documents (%d pages of %d,"
    .. " each page delayed %d ms by the emulator)", LISTINGS, DOCS, per_listing, PAGE, DELAY_MS))
  print(string.format("noblock: listings exact %d/%d (HTTP 200 answers %d), wall %.2f s; emulator saw %d page"
    .. " requests on %d connections", r.exact, LISTINGS, r.codes, r.wall, pages, nconns))
  if type(stats) == "table" and stats.lags then print("lags: " .. table.concat(stats.lags, " ")) end
  if r.cpu then print(string.format("noblock: the nginx worker used %.2f s of CPU during the load", r.cpu)) end
  if type(stats) == "table" then
    print(string.format("noblock: worker transport stats: %d requests (%d of them warm-up), %d new connections",
      stats.requests, WARMUP * math.ceil(DOCS / PAGE), stats.connections))
  end
  print(string.format("noblock: /ping during the load: n=%d  p50 %.2f ms  p99 %.2f ms  max %.2f ms  (limit %d ms)",
    r.pings, r.p50 * 1000, r.p99 * 1000, r.max * 1000, LIMIT_MS))
  print(string.format("noblock: worker event-loop lag (2 ms timer, inside nginx): n=%d  p50 %.2f ms  p99 %.2f ms"
    .. "  max %.2f ms", r.lag.n, r.lag.p50, r.lag.p99, r.lag.max))
  for _, b in ipairs(r.bad) do print("noblock: inexact listing " .. b) end
  if r.codes ~= LISTINGS then print("noblock: curl said: " .. r.codes_text:sub(1, 400)) end
  if #r.slow > 0 then print("noblock: slow pings: " .. table.concat(r.slow, ", ", 1, math.min(#r.slow, 10))) end
  for i, f in ipairs(r.ping_failures) do
    if i > 3 then break end
    print("noblock: /ping failed: " .. tostring(f))
  end
  local pass = r.exact == LISTINGS and r.codes == LISTINGS and #r.ping_failures == 0 and r.pings > 0
    and r.max * 1000 < LIMIT_MS
    and pages == LISTINGS * per_listing
  print("noblock: " .. (pass and "PASS" or "FAIL"))
  os.exit(pass and 0 or 1)
end

main()
