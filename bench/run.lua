-- The benchmark driver of a full listing (`make bench` runs it against a dedicated
-- emulator instance; see bench/README.md).
--
-- It creates the jobs through the emulator's admin API, warms the emulator,
-- and runs the peers interleaved, each under /usr/bin/time -v: wall, CPU
-- (user+sys), peak RSS; requests and TCP connections from the emulator's
-- request log; emulator CPU from /proc.  Every run's ids are checked: exactly
-- N distinct ids.  Prints tables and ratios, writes CSV to bench/results/.
--
-- Environment (mk/bench.mk sets it):
--   DT_EMULATOR_HTTP, DT_EMULATOR_HTTPS, DT_EMULATOR_KEY, DT_EMULATOR_CA
--   BENCH_EMULATOR_DIR  the instance's directory (pid file for its CPU time)
--   BENCH_FLOOR         path of the built floor program
--   BENCH_ROUNDS        rounds of the interleaved runs (default 3)
--   BENCH_DOCS          documents of the main job (default 100000)
--   BENCH_SCENARIOS     comma list of capacity,main,rss,latency (default all)
--   BENCH_RSS_SIZES     default 10000,100000,1000000
--   BENCH_LATENCY_MS    default 50; BENCH_LATENCY_DOCS default 10000
--   BENCH_CONCURRENCY   ours' parallel windows in the latency scenario (default 8,16)
--   BENCH_RESULTS       output folder (default bench/results)
--   BENCH_WAIT_QUIET    seconds to wait for the machine to be quiet first (default 0)
--   BENCH_NOPREFETCH    0 leaves out ours_nopf (ours with prefetch = false)
local cjson = require "cjson"
local socket = require "socket"

local env = os.getenv
local HTTP = assert(env "DT_EMULATOR_HTTP", "DT_EMULATOR_HTTP not set")
local HTTPS = assert(env "DT_EMULATOR_HTTPS", "DT_EMULATOR_HTTPS not set")
local KEY = env "DT_EMULATOR_KEY" or "doctranslate-emulator-key"
local CA = assert(env "DT_EMULATOR_CA", "DT_EMULATOR_CA not set")
local EMU_DIR = env "BENCH_EMULATOR_DIR"
local FLOOR = env "BENCH_FLOOR" or "build/bench/floor"
local ROUNDS = tonumber(env "BENCH_ROUNDS" or "3")
local DOCS = math.tointeger(tonumber(env "BENCH_DOCS" or "100000"))
local RESULTS = env "BENCH_RESULTS" or "bench/results"
local LUA = env "BENCH_LUA" or "lua5.4"
local LAT_MS = tonumber(env "BENCH_LATENCY_MS" or "50")
local LAT_DOCS = math.tointeger(tonumber(env "BENCH_LATENCY_DOCS" or "10000"))
local CONCURRENCIES = {}
for n in (env "BENCH_CONCURRENCY" or "8,16"):gmatch("%d+") do
  CONCURRENCIES[#CONCURRENCIES + 1] = math.tointeger(tonumber(n))
end
local API_VERSION = "2024-05-01"

local scenarios = {}
for name in (env "BENCH_SCENARIOS" or "capacity,main,rss,latency"):gmatch("[^,%s]+") do
  scenarios[name] = true
end
local rss_sizes = {}
for n in (env "BENCH_RSS_SIZES" or "10000,100000,1000000"):gmatch("%d+") do
  rss_sizes[#rss_sizes + 1] = math.tointeger(tonumber(n))
end

local stamp = os.date("!%Y%m%d-%H%M%S")
local scratch = RESULTS .. "/run-" .. stamp
os.execute("mkdir -p '" .. scratch .. "'")

------------------------------------------------------------------ helpers --

local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function run_capture(cmd)
  local p = assert(io.popen(cmd, "r"))
  local out = p:read("a")
  local ok, _, code = p:close()
  return out, ok, code
end

local transcript = {}
local function say(...)
  local line = table.concat({ ... })
  transcript[#transcript + 1] = line
  io.write(line, "\n")
  io.flush()
end

-- The emulator's admin API, over plain HTTP with curl(1).
local function admin(method, path, body)
  local cmd = "curl -sS -X " .. method .. " -H 'Content-Type: application/json' -H "
    .. shell_quote("Ocp-Apim-Subscription-Key: " .. KEY)
    .. " -w '\\n%{http_code}' "
  if body ~= nil then
    cmd = cmd .. "--data-binary " .. shell_quote(cjson.encode(body)) .. " "
  end
  local out, ok = run_capture(cmd .. shell_quote(HTTP .. path) .. " 2>&1")
  local text, code = out:match("^(.*)\n(%d+)$")
  code = tonumber(code)
  if not ok or not code or code >= 300 then
    return nil, ("%s %s -> %s: %s"):format(method, path, tostring(code), (text or out):sub(1, 300))
  end
  if text == "" then return {} end
  local okj, decoded = pcall(cjson.decode, text)
  return okj and decoded or text
end

local function admin_ok(method, path, body)
  local r, err = admin(method, path, body)
  if not r then error("emulator admin API: " .. err, 2) end
  return r
end

local job_cache = {}
local function job_of(docs)
  if not job_cache[docs] then
    local r = admin_ok("POST", "/_emulator/jobs",
      { documents = docs, status = "Succeeded", next_link = "nextLink" })
    job_cache[docs] = assert(r.id, "the admin API returned no job id")
  end
  return job_cache[docs]
end

local function documents_url(job_id)
  return HTTPS .. "/translator/document/batches/" .. job_id
    .. "/documents?api-version=" .. API_VERSION .. "&maxpagesize=100"
end

-- Emulator CPU time (utime + stime of the nginx master and its workers) in s.
local TICKS = tonumber((run_capture("getconf CLK_TCK"))) or 100
local function emulator_pids()
  if not EMU_DIR then return {} end
  local master
  for _, name in ipairs{ "nginx.pid", "logs/nginx.pid", "emulator.pid", "pid" } do
    local s = read_file(EMU_DIR .. "/" .. name)
    master = s and tonumber(s:match("%d+"))
    if master then break end
  end
  if not master then return {} end
  local pids = { master }
  local list = run_capture("ps -o pid= --ppid " .. master)
  for pid in list:gmatch("%d+") do pids[#pids + 1] = tonumber(pid) end
  return pids
end
local function emulator_cpu(pids)
  local total = 0
  for _, pid in ipairs(pids) do
    local stat = read_file("/proc/" .. pid .. "/stat")
    if stat then
      local rest = stat:match("%) (.*)$") -- fields after the command name
      local fields = {}
      for f in rest:gmatch("%S+") do fields[#fields + 1] = f end
      -- utime and stime are fields 14 and 15 of stat, 12 and 13 after ") "
      total = total + (tonumber(fields[12]) or 0) + (tonumber(fields[13]) or 0)
    end
  end
  return total / TICKS
end

-- CPU seconds the whole machine spent busy so far (all cores, /proc/stat): what
-- is left after the peer and the emulator is other load that disturbed the run.
local function machine_busy()
  local s = read_file("/proc/stat") or ""
  local fields = {}
  for n in (s:match("^cpu%s+([^\n]+)") or ""):gmatch("%d+") do fields[#fields + 1] = tonumber(n) end
  local total = 0
  for i = 1, math.min(#fields, 8) do total = total + fields[i] end
  return (total - (fields[4] or 0) - (fields[5] or 0)) / TICKS
end

-- The request log: requests about the job (its document list, and a job lookup
-- if a peer makes one) and the distinct connections they came on.
local function log_entries(r)
  if type(r) ~= "table" then return {} end
  return r.requests or r.entries or r.log or r
end
local function clear_request_log()
  local ok = admin("DELETE", "/_emulator/requests")
  if not ok then admin("POST", "/_emulator/requests/clear", {}) end
end
local function count_requests(job_id)
  local r = admin("GET", "/_emulator/requests")
  if not r then return -1, -1 end
  local requests, conns, nconns = 0, {}, 0
  for _, e in ipairs(log_entries(r)) do
    local path = e.path or e.uri or e.url or ""
    if path:find(job_id, 1, true) then
      requests = requests + 1
      local c = e.connection or e.connection_id or e.conn
      if c ~= nil and not conns[c] then
        conns[c] = true
        nconns = nconns + 1
      end
    end
  end
  return requests, nconns
end

-- Exactly n distinct ids in an ids file?
local function check_ids(path)
  local seen, count, distinct = {}, 0, 0
  local f = io.open(path, "r")
  if not f then return 0, 0 end
  for id in f:lines() do
    count = count + 1
    if not seen[id] then
      seen[id] = true
      distinct = distinct + 1
    end
  end
  f:close()
  return count, distinct
end

local function parse_time_v(path)
  local s = read_file(path) or ""
  local r = {}
  r.user = tonumber(s:match("User time %(seconds%): ([%d%.]+)")) or -1
  r.sys = tonumber(s:match("System time %(seconds%): ([%d%.]+)")) or -1
  r.rss_kb = tonumber(s:match("Maximum resident set size %(kbytes%): (%d+)")) or -1
  local clock = s:match("Elapsed %(wall clock%) time %([^)]*%): ([%d:%.]+)") or ""
  local h, m, sec = clock:match("^(%d+):(%d+):([%d%.]+)$")
  if not h then
    h = 0
    m, sec = clock:match("^(%d+):([%d%.]+)$")
  end
  r.elapsed = m and (tonumber(h) * 3600 + tonumber(m) * 60 + tonumber(sec)) or -1
  r.exit = tonumber(s:match("Exit status: (%d+)")) or -1
  return r
end

------------------------------------------------------------------- peers --

local peers = {}
local function peer(name, argv_of, note)
  peers[name] = { name = name, argv_of = argv_of, note = note }
end

peer("ours", function(job, ids, extra)
  return LUA .. " bench/ours.lua " .. shell_quote(HTTPS) .. " " .. shell_quote(KEY) .. " "
    .. shell_quote(job) .. " " .. shell_quote(CA) .. " " .. shell_quote(ids or "-")
    .. " " .. tostring(extra and extra.concurrency or 1)
    .. (extra and extra.prefetch == false and " off" or "")
end)
-- ours with the prefetch of the next page turned off: what the default buys.
peer("ours_nopf", function(job, ids)
  return peers.ours.argv_of(job, ids, { prefetch = false })
end)
peer("js_sdk", function(job, ids)
  return "env NODE_EXTRA_CA_CERTS=" .. shell_quote(CA) .. " node bench/js_peer.mjs "
    .. shell_quote(HTTPS) .. " " .. shell_quote(KEY) .. " " .. shell_quote(job)
    .. " " .. shell_quote(ids or "")
end)
peer("floor", function(job)
  return shell_quote(FLOOR) .. " " .. shell_quote(documents_url(job)) .. " "
    .. shell_quote(KEY) .. " " .. shell_quote(CA)
end)
peer("plain_lua", function(job, ids)
  return LUA .. " bench/plain_lua.lua " .. shell_quote(HTTPS) .. " " .. shell_quote(KEY) .. " "
    .. shell_quote(job) .. " " .. shell_quote(CA) .. " " .. shell_quote(ids or "")
end)

-- Which peers can run here; the others are skipped with a note.
local function available(name)
  if name == "ours" then
    local _, ok = run_capture(LUA .. " -e 'require \"doctranslate\"' 2>&1")
    return ok, "doctranslate does not load (LUA_PATH/LUA_CPATH, make all)"
  elseif name == "js_sdk" then
    local _, ok = run_capture("node -e 'require.resolve(\"@azure-rest/ai-translation-document\", "
      .. "{paths: [\"bench\"]})' 2>&1")
    return ok, "node or bench/node_modules missing (make bench-deps)"
  elseif name == "floor" then
    local _, ok = run_capture("test -x " .. shell_quote(FLOOR))
    return ok, "floor not built"
  elseif name == "plain_lua" then
    local _, ok = run_capture(LUA .. " -e 'require \"ssl.https\"; require \"cjson\"' 2>&1")
    return ok, "lua-socket/lua-sec/lua-cjson for Lua 5.4 not installed"
  end
end

local csv_rows = {}
local CSV_HEADER = "scenario,peer,round,docs_expected,docs,distinct,chars,wall_s,listing_s,user_s,sys_s,"
  .. "cpu_s,peak_rss_kb,requests,connections,emulator_cpu_s,other_cpu_s,ok"

-- One measured run of one peer.
local function measure(scenario, name, job, expected, round, extra)
  local p = peers[name]
  local tag = ("%s-%s-%d-%d"):format(scenario, name, expected, round)
  local ids = scratch .. "/" .. tag .. ".ids"
  local tv = scratch .. "/" .. tag .. ".time"
  local out = scratch .. "/" .. tag .. ".out"
  local err = scratch .. "/" .. tag .. ".err"
  clear_request_log()
  local pids = emulator_pids()
  local cpu0, busy0 = emulator_cpu(pids), machine_busy()
  local cmd = "/usr/bin/time -v -o " .. shell_quote(tv) .. " " .. p.argv_of(job, ids, extra)
    .. " >" .. shell_quote(out) .. " 2>" .. shell_quote(err)
  local t0 = socket.gettime()
  local ok = os.execute(cmd)
  local wall = socket.gettime() - t0
  local emu = emulator_cpu(pids) - cpu0
  local busy = machine_busy() - busy0
  local t = parse_time_v(tv)
  local line = read_file(out) or ""
  local r = { scenario = scenario, peer = name, round = round, expected = expected,
              wall = wall, user = t.user, sys = t.sys, cpu = t.user + t.sys, rss_kb = t.rss_kb,
              emu_cpu = emu, extra = extra }
  -- Other processes' CPU during the run (never below 0: the clocks differ in resolution).
  r.others = math.max(0, busy - r.cpu - emu)
  for k, v in line:gmatch("([%w_]+)=(%-?[%d%.]+)") do r[k] = tonumber(v) end
  r.docs = r.docs or -1
  r.requests_self, r.connects_self = r.requests, r.connects
  r.requests, r.connections = count_requests(job)
  if r.requests <= 0 and (r.requests_self or -1) > 0 then r.requests = r.requests_self end
  if r.connections <= 0 and (r.connects_self or -1) > 0 then r.connections = r.connects_self end
  if name == "floor" then
    r.count = r.docs -- the floor checks its ids itself
  else
    r.count, r.distinct = check_ids(ids)
  end
  os.remove(ids)
  r.ok = ok and t.exit == 0 and r.docs == expected and r.count == expected and r.distinct == expected
  if not r.ok then
    local e = read_file(err) or ""
    say(("  ! %s %s round %d: exit %s, docs %s, distinct %s; stderr: %s"):format(
      scenario, name, round, tostring(t.exit), tostring(r.docs), tostring(r.distinct), e:sub(1, 400)))
  end
  csv_rows[#csv_rows + 1] = table.concat({ scenario, name .. (extra and extra.label or ""), round,
    expected, r.docs, r.distinct or -1, r.chars or -1, ("%.4f"):format(wall),
    ("%.4f"):format(r.listing_s or -1), r.user, r.sys, ("%.2f"):format(r.cpu), r.rss_kb,
    r.requests, r.connections, ("%.2f"):format(emu), ("%.2f"):format(r.others),
    tostring(r.ok) }, ",")
  return r
end

------------------------------------------------------------------- stats --

local function stats(rows, field)
  local v = {}
  for _, r in ipairs(rows) do v[#v + 1] = r[field] end
  table.sort(v)
  if #v == 0 then return nil end
  local h = math.floor(#v / 2) -- not #v // 2: a syntax error before Lua 5.3
  local med = (#v % 2 == 1) and v[h + 1] or (v[h] + v[h + 1]) / 2
  return { med = med, min = v[1], max = v[#v] }
end

local function fmt3(s, f, scale)
  if not s then return "-" end
  scale = scale or 1
  return (f .. " (" .. f .. "-" .. f .. ")"):format(s.med * scale, s.min * scale, s.max * scale)
end

local function print_table(title, order, results)
  say("")
  say(title)
  say(("%-14s %-26s %-26s %-26s %6s %6s %6s %6s %s"):format("peer", "wall s med (min-max)",
    "cpu s med (min-max)", "peak RSS MiB med (min-max)", "reqs", "conns", "emu%", "other%", "check"))
  for _, name in ipairs(order) do
    local rows = results[name]
    if rows and #rows > 0 then
      local all_ok = true
      for _, r in ipairs(rows) do all_ok = all_ok and r.ok end
      local wall, cpu = stats(rows, "wall"), stats(rows, "cpu")
      local emu, others = stats(rows, "emu_cpu"), stats(rows, "others")
      say(("%-14s %-26s %-26s %-26s %6.0f %6.0f %5.0f%% %5.0f%% %s"):format(name,
        fmt3(wall, "%.3f"), fmt3(cpu, "%.2f"), fmt3(stats(rows, "rss_kb"), "%.1f", 1 / 1024),
        stats(rows, "requests").med, stats(rows, "connections").med,
        100 * emu.med / wall.med, 100 * others.med / wall.med,
        all_ok and ("ok: " .. rows[1].expected .. " distinct ids") or "FAILED"))
    end
  end
end

local function at_most(limit)
  return { text = "<= " .. limit, fn = function(x) return x <= limit end }
end

local function ratio(results, a, b, field, label, target)
  local ra, rb = results[a], results[b]
  if not (ra and rb and #ra > 0 and #rb > 0) then
    say(("  %-22s n/a (a peer is missing)"):format(label))
    return
  end
  for _, r in ipairs(ra) do
    if not r.ok then return say(("  %-22s n/a (a run of %s failed)"):format(label, a)) end
  end
  for _, r in ipairs(rb) do
    if not r.ok then return say(("  %-22s n/a (a run of %s failed)"):format(label, b)) end
  end
  local x = stats(ra, field).med / stats(rb, field).med
  say(("  %-22s %.3fx   (target %s: %s)"):format(label, x, target.text,
    target.fn(x) and "met" or "NOT met"))
end

---------------------------------------------------------------- scenarios --

local function machine()
  local cpuinfo = read_file("/proc/cpuinfo") or ""
  local model = cpuinfo:match("model name%s*:%s*([^\n]+)") or "?"
  local node = run_capture("node --version 2>/dev/null"):gsub("%s+$", "")
  local curl = run_capture("curl-config --version 2>/dev/null"):gsub("%s+$", "")
  local kernel = run_capture("uname -sr"):gsub("%s+$", "")
  local cores = run_capture("nproc"):gsub("%s+$", "")
  local js = (read_file("bench/node_modules/@azure-rest/ai-translation-document/package.json") or "")
    :match('"version"%s*:%s*"([^"]+)"') or "?"
  say(("machine: %s, %s cores, %s; %s, node %s, %s, @azure-rest/ai-translation-document %s")
    :format(model, cores, kernel, _VERSION, node, curl, js))
  local commit = run_capture("git rev-parse --short HEAD 2>/dev/null"):gsub("%s+$", "")
  local dirty = run_capture("git status --porcelain -- src lua 2>/dev/null") ~= ""
  say(("code: commit %s%s"):format(commit ~= "" and commit or "?",
    dirty and " with uncommitted changes in src/ or lua/" or ""))
  local load = (read_file("/proc/loadavg") or ""):match("^(%S+ %S+ %S+)") or "?"
  say(("load average at start: %s (other%% in the tables: CPU of other processes during a run,"
    .. " in %% of one core; high values mean a disturbed run)"):format(load))
end

local function shuffled_order(names, round)
  local order = {}
  for i = 1, #names do
    order[i] = names[((i - 1 + round - 1) % #names) + 1]
  end
  return order
end

say(("doctranslate benchmark %s UTC; emulator %s; %d rounds"):format(stamp, HTTPS, ROUNDS))
machine()

-- Other load on the machine now, in cores (1 s sample).  With BENCH_WAIT_QUIET=s the
-- benchmark waits up to s seconds for it to fall under 0.3 cores before it starts.
local function other_load()
  local b0, t0 = machine_busy(), socket.gettime()
  socket.sleep(1)
  return (machine_busy() - b0) / (socket.gettime() - t0)
end
do
  local wait = tonumber(env "BENCH_WAIT_QUIET" or "0")
  local deadline = socket.gettime() + wait
  local load = other_load()
  while load >= 0.3 and socket.gettime() < deadline do
    load = other_load()
  end
  say(("other load before the runs: %.2f cores%s"):format(load,
    load >= 0.5 and " (busy machine: expect noisy wall times; see other%)" or ""))
end

local main_peers = {}
for _, name in ipairs{ "ours", "js_sdk", "floor", "plain_lua" } do
  local ok, why = available(name)
  if ok then
    main_peers[#main_peers + 1] = name
  else
    say(("note: peer %s skipped: %s"):format(name, why))
  end
end
local function runnable(name)
  for _, n in ipairs(main_peers) do
    if n == name then return true end
  end
  return false
end
-- ours_nopf joins the main scenario when this build has the listing option prefetch.
if runnable("ours") and (env "BENCH_NOPREFETCH" or "1") == "1" then
  local _, ok = run_capture(LUA .. " -e 'local c = require(\"doctranslate\").new{endpoint = "
    .. "\"https://127.0.0.1:1\", key = \"k\"}; c:documents(\"x\", {prefetch = false})' 2>&1")
  if ok then
    table.insert(main_peers, 2, "ours_nopf")
  else
    say("note: peer ours_nopf skipped: this build has no listing option prefetch")
  end
end

admin("POST", "/_emulator/reset", {})
-- Room in the request log for the longest listing (1,000,000 documents: 10,000 requests).
admin("POST", "/_emulator/settings", { log_max = 20000 })

-- Warm-up: one untimed listing of the main job by every peer but plain_lua (whose
-- handshake per page makes it the slowest by far; it has nothing to warm).
if scenarios.main or scenarios.capacity then
  local job = job_of(DOCS)
  say(("main job: %s (%d documents, nextLink, page size 100)"):format(job, DOCS))
  for _, name in ipairs(main_peers) do
    if name ~= "plain_lua" then
      os.execute(peers[name].argv_of(job, nil) .. " >/dev/null 2>&1")
    end
  end
end

local floor_rps
if scenarios.main then
  local results = {}
  for round = 1, ROUNDS do
    for _, name in ipairs(shuffled_order(main_peers, round)) do
      local r = measure("main", name, job_of(DOCS), DOCS, round)
      results[name] = results[name] or {}
      table.insert(results[name], r)
    end
  end
  print_table(("Listing %d documents over HTTPS on loopback, page size 100, %d rounds interleaved")
    :format(DOCS, ROUNDS), { "ours", "ours_nopf", "js_sdk", "floor", "plain_lua" }, results)
  say("ratios (medians):")
  ratio(results, "ours", "js_sdk", "wall", "ours/JS wall", at_most(0.25))
  ratio(results, "ours", "js_sdk", "cpu", "ours/JS CPU", at_most(0.35))
  ratio(results, "ours", "floor", "wall", "ours/floor wall", at_most(1.6))
  ratio(results, "ours", "js_sdk", "listing_s", "ours/JS in-process", at_most(0.25))
  if results.ours_nopf then
    local a, b = stats(results.ours, "wall").med, stats(results.ours_nopf, "wall").med
    say(("  prefetch: ours %.3f s vs ours_nopf %.3f s wall (%.2fx)"):format(a, b, a / b))
  end
  if results.ours then
    local c = stats(results.ours, "connections").med
    say(("  ours TCP connections per listing: %.0f   (target 1: %s)"):format(c, c == 1 and "met" or "NOT met"))
  end
  if results.floor then
    local f = results.floor
    floor_rps = stats(f, "requests").med / stats(f, "listing_s").med
    say(("  floor: %.0f requests/s on one connection"):format(floor_rps))
  end
end

if scenarios.capacity then
  -- Can the emulator serve pages faster than the peers ask for them?
  local ok = run_capture("command -v wrk >/dev/null && echo yes"):match("yes")
  if ok then
    -- emulator/bench/pages.lua (the emulator's own wrk script) walks the pages, a different
    -- one per request; without it, wrk asks for the first page every time.
    local walk = io.open("emulator/bench/pages.lua", "r")
    if walk then walk:close() end
    local target = walk and (shell_quote(HTTPS) .. " -s emulator/bench/pages.lua -- "
      .. shell_quote(job_of(DOCS)) .. " " .. DOCS .. " 100")
      or shell_quote(documents_url(job_of(DOCS)))
    local key_header = shell_quote("Ocp-Apim-Subscription-Key: " .. KEY)
    -- Warm-up, untimed: the job has ended, so the emulator renders each of its pages once and
    -- then serves it from its page cache (setting page_cache_mb); walking the pages for a few
    -- seconds renders every one of them (DOCS / 100 pages) before the measured runs.
    run_capture(("wrk -t1 -c1 -d%ds -H %s %s 2>&1"):format(math.max(2, math.ceil(DOCS / 100 / 400)),
      key_header, target))
    local before = admin("GET", "/_emulator/pagecache")
    for _, conf in ipairs{ { 1, 1 }, { 2, 4 } } do
      local out = run_capture(("wrk -t%d -c%d -d3s -H %s %s 2>&1"):format(conf[1], conf[2], key_header, target))
      local rps = out:match("Requests/sec:%s*([%d%.]+)")
      say(("emulator capacity (wrk, %s of 100 documents, %d connection(s)): %s requests/s%s")
        :format(walk and "pages" or "first page", conf[2], rps or "?", floor_rps and rps
          and (" = %.1fx the floor's rate"):format(tonumber(rps) / floor_rps) or ""))
    end
    local after = admin("GET", "/_emulator/pagecache")
    if type(before) == "table" and type(after) == "table" and after.hits then
      say(("  emulator page cache during the measured runs: %d pages served from it, %d rendered"
        .. " (%d pages, %.1f MiB held)"):format(after.hits - before.hits, after.misses - before.misses,
        after.pages, after.bytes / 1048576))
    end
  else
    say("note: wrk not installed; emulator capacity not measured (see emu% in the tables)")
  end
end

if scenarios.rss and runnable("ours") then
  say("")
  say("Peak RSS of ours by job size (one listing each, ids written to a file, not held):")
  local rsss = {}
  for _, n in ipairs(rss_sizes) do
    local r = measure("rss", "ours", job_of(n), n, 1)
    rsss[#rsss + 1] = r.rss_kb
    say(("  %9d documents: peak RSS %.1f MiB, wall %.2f s, cpu %.2f s, %d requests, %d connection(s), %s")
      :format(n, r.rss_kb / 1024, r.wall, r.cpu, r.requests, r.connections, r.ok and "ok" or "FAILED"))
  end
  table.sort(rsss)
  if #rsss > 0 then
    local spread = (rsss[#rsss] - rsss[1]) / 1024
    say(("  spread %.1f MiB (target <= 2 MiB: %s); max %.1f MiB (target < 20 MiB: %s)"):format(
      spread, spread <= 2 and "met" or "NOT met", rsss[#rsss] / 1024,
      rsss[#rsss] / 1024 < 20 and "met" or "NOT met"))
  end
elseif scenarios.rss then
  say("note: RSS scenario skipped: ours is not available")
end

-- Adds latency to every documents request; returns a function that removes it.
local function add_latency(ms)
  local ok = admin("POST", "/_emulator/settings", { latency_ms = ms })
  if ok then
    return function() admin("POST", "/_emulator/settings", { latency_ms = 0 }) end
  end
  admin_ok("POST", "/_emulator/faults", { route = "documents", action = "latency", ms = ms, times = -1 })
  return function() admin("DELETE", "/_emulator/faults") end
end

if scenarios.latency then
  local lat_peers = {}
  for _, name in ipairs(main_peers) do
    if name == "ours" or name == "js_sdk" then lat_peers[#lat_peers + 1] = name end
  end
  for _, concurrency in ipairs(runnable("ours") and CONCURRENCIES or {}) do
    local label = "ours_c" .. concurrency
    peers[label] = { name = label, argv_of = function(job, ids)
      return peers.ours.argv_of(job, ids, { concurrency = concurrency })
    end }
    -- Does this build accept the listing option?  (A small listing, no latency.)
    local probe, ok = run_capture(peers[label].argv_of(job_of(1000), nil) .. " 2>&1")
    if ok and probe:match("docs=1000 ") then
      lat_peers[#lat_peers + 1] = label
    else
      say(("note: %s skipped: the listing option concurrency = %d failed: %s")
        :format(label, concurrency, (probe:gsub("%s+$", "")):sub(1, 200)))
    end
  end
  local job = job_of(LAT_DOCS)
  local remove = add_latency(LAT_MS)
  local ok, err = pcall(function()
    local results = {}
    for round = 1, ROUNDS do
      for _, name in ipairs(shuffled_order(lat_peers, round)) do
        local r = measure("latency", name, job, LAT_DOCS, round)
        results[name] = results[name] or {}
        table.insert(results[name], r)
      end
    end
    print_table(("Latency: %d ms added per request, %d documents, page size 100, %d rounds")
      :format(LAT_MS, LAT_DOCS, ROUNDS), lat_peers, results)
    say("ratios (medians):")
    ratio(results, "ours", "js_sdk", "wall", "ours/JS wall", at_most(0.125))
    for _, concurrency in ipairs(CONCURRENCIES) do
      if results["ours_c" .. concurrency] then
        ratio(results, "ours_c" .. concurrency, "js_sdk", "wall",
          ("ours(concurrency=%d)/JS wall"):format(concurrency), at_most(0.125))
      end
    end
  end)
  remove()
  if not ok then error(err, 0) end
end

local csv = RESULTS .. "/bench-" .. stamp .. ".csv"
local f = assert(io.open(csv, "w"))
f:write(CSV_HEADER, "\n", table.concat(csv_rows, "\n"), "\n")
f:close()
local txt = RESULTS .. "/bench-" .. stamp .. ".txt"
say("")
say("CSV: " .. csv .. "; this output: " .. txt .. "; per-run outputs: " .. scratch)
f = assert(io.open(txt, "w"))
f:write(table.concat(transcript, "\n"), "\n")
f:close()
