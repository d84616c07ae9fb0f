-- bench/openresty: doctranslate against the hand-written cosocket loop, under load,
-- in one nginx worker.
--
-- One nginx (bench/openresty/nginx.conf, one worker) serves /ours/<scheme>/<job>
-- (doctranslate: driver + openresty transport) and /peer/<scheme>/<job> (peer.lua);
-- each request lists a whole job of the emulator and answers the count. wrk drives
-- each location in turn with OR_CONNECTIONS connections for OR_SECONDS, over HTTP
-- and over HTTPS, OR_ROUNDS rounds (the order rotates each round). Printed per
-- scheme and peer: listings/s, p50/p90/p99 latency, CPU seconds of the worker per
-- listing (medians over the rounds), and the ratios ours/peer of p99 and of
-- listings/s (medians of the per-round ratios), with PASS/FAIL against
-- OR_MAX_P99_RATIO (1.2) and OR_MIN_RATE_RATIO (1.3). Exits 1 when one fails.
--
--   make bench-openresty     (its own emulator; see mk/openresty.mk and bench/README.md)
--
-- Knobs (environment): OR_ROUNDS (3), OR_SECONDS (10), OR_CONNECTIONS (32),
-- OR_DOCS (1000), OR_SCHEMES (http,https), OR_PEERS (ours,peer; also ours_nopace:
-- doctranslate with pace = false), OR_PORT (18550), OR_PACE (the client's pace
-- option, default the library's), OR_WARMUP (3 seconds per peer and scheme).
package.path = "spec/?.lua;spec/openresty/?.lua;" .. package.path
local emu = require "support.emulator"
local N = require "openresty.nginx"

local function list(s)
  local t = {}
  for x in s:gmatch("[^,%s]+") do t[#t + 1] = x end
  return t
end

local ROUNDS = tonumber(os.getenv("OR_ROUNDS")) or 3
local SECONDS = tonumber(os.getenv("OR_SECONDS")) or 10
local CONNS = tonumber(os.getenv("OR_CONNECTIONS")) or 32
local DOCS = tonumber(os.getenv("OR_DOCS")) or 1000
local SCHEMES = list(os.getenv("OR_SCHEMES") or "http,https")
local PEERS = list(os.getenv("OR_PEERS") or "ours,peer")
local PORT = tonumber(os.getenv("OR_PORT")) or 18550
local PACE = os.getenv("OR_PACE")
local WARMUP = tonumber(os.getenv("OR_WARMUP")) or 3
local MAX_P99 = tonumber(os.getenv("OR_MAX_P99_RATIO")) or 1.2
local MIN_RATE = tonumber(os.getenv("OR_MIN_RATE_RATIO")) or 1.3

local function sh(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function read_all(path)
  local fh = io.open(path, "rb")
  if not fh then return nil end
  local s = fh:read("*a")
  fh:close()
  return s
end

local function cpu_seconds(pid)
  local stat = assert(read_all("/proc/" .. tostring(pid) .. "/stat"), "no such process " .. tostring(pid))
  local f = {}
  for x in stat:match("%) (.*)$"):gmatch("%S+") do f[#f + 1] = x end
  return (tonumber(f[12]) + tonumber(f[13])) / 100
end

local function worker_pid(master)
  local p = io.popen("ps -o pid= --ppid " .. tostring(master))
  local out = p:read("*a")
  p:close()
  return tonumber(out:match("%d+"))
end

local function median(t)
  local s = {}
  for i, v in ipairs(t) do s[i] = v end
  table.sort(s)
  local n = #s
  if n == 0 then return 0 / 0 end
  if n % 2 == 1 then return s[(n + 1) / 2] end
  return (s[n / 2] + s[n / 2 + 1]) / 2
end

local function path_of(peer, scheme, job)
  if peer == "ours_nopace" then return "/ours/" .. scheme .. "/" .. job .. "?pace=off" end
  return "/" .. peer .. "/" .. scheme .. "/" .. job
end

local function wrk(srv, path, seconds)
  local script = N.root .. "/bench/openresty/wrk_report.lua"
  local cmd = string.format("wrk -t1 -c%d -d%ds --timeout 60s --latency -s %s %s 2>&1", CONNS, seconds, sh(script),
    sh(srv.base .. path))
  local p = io.popen(cmd)
  local out = p:read("*a")
  p:close()
  local line = out:match("WRK ([^\n]+)")
  if not line then error("wrk said:\n" .. out) end
  local r = {}
  for k, v in line:gmatch("([%w_]+)=(%d+)") do r[k] = tonumber(v) end
  return r
end

local function main()
  emu.reset()
  local job = emu.create_job{ documents = DOCS }.id
  local srv = N.start{
    conf = N.root .. "/bench/openresty/nginx.conf", port = PORT, workers = 1,
    endpoint = emu.http, key = emu.key, ca_file = emu.ca, trusted = emu.ca,
    lua_path = N.root .. "/bench/openresty/?.lua",
    edit = function(conf)
      conf = conf:gsub("env BENCH_HTTPS;", "env BENCH_HTTPS=" .. emu.https .. ";")
      if PACE then conf = conf:gsub("env BENCH_PACE;", "env BENCH_PACE=" .. PACE .. ";") end
      return conf
    end,
  }
  local ok, failed = pcall(function()
    local worker
    for _ = 1, 50 do -- the master forks its worker after it answers
      worker = worker_pid(srv.master or srv:pid())
      if worker then break end
      os.execute("sleep 0.1")
    end
    assert(worker, "no nginx worker")
    -- every location answers the whole job
    for _, scheme in ipairs(SCHEMES) do
      for _, peer in ipairs(PEERS) do
        local status, _, body = srv:get(path_of(peer, scheme, job), 60)
        if status ~= 200 or tonumber(body) ~= DOCS then
          error(string.format("%s %s answered %s: %s\n%s", peer, scheme, tostring(status), tostring(body),
            srv:error_log()))
        end
        if WARMUP > 0 then wrk(srv, path_of(peer, scheme, job), WARMUP) end
      end
    end
    print(string.format("bench-openresty: one nginx worker (pid %d), a %d-document job listed to the end per"
      .. " request, wrk -c%d, %d s x %d rounds; pace %s", worker, DOCS, CONNS, SECONDS, ROUNDS,
      PACE or "default"))
    local res = {}
    for r = 1, ROUNDS do
      for _, scheme in ipairs(SCHEMES) do
        for i = 1, #PEERS do
          local peer = PEERS[(i + r - 2) % #PEERS + 1]
          local c0 = cpu_seconds(worker)
          local w = wrk(srv, path_of(peer, scheme, job), SECONDS)
          local c1 = cpu_seconds(worker)
          local key = scheme .. "/" .. peer
          res[key] = res[key] or {}
          local row = {
            rate = w.requests / (w.duration_us / 1e6), p50 = w.p50 / 1000, p90 = w.p90 / 1000,
            p99 = w.p99 / 1000, max = w.max / 1000, cpu = (c1 - c0) / math.max(w.requests, 1),
            errors = w.errors + w.non2xx, n = w.requests,
          }
          res[key][r] = row
          print(string.format("  round %d %-5s %-12s %7.1f listings/s  p50 %7.1f  p90 %7.1f  p99 %7.1f  max %7.1f ms"
            .. "  cpu %.2f ms/listing%s", r, scheme, peer, row.rate, row.p50, row.p90, row.p99, row.max,
            row.cpu * 1000, row.errors > 0 and ("  ERRORS " .. row.errors) or ""))
          io.stdout:flush()
        end
      end
    end
    local failed = false
    print("")
    print(string.format("%-6s %-12s %11s %9s %9s %9s %9s %13s", "scheme", "peer", "listings/s", "p50 ms",
      "p90 ms", "p99 ms", "max ms", "cpu ms/listing"))
    for _, scheme in ipairs(SCHEMES) do
      for _, peer in ipairs(PEERS) do
        local rows = res[scheme .. "/" .. peer]
        local function m(f)
          local t = {}
          for _, row in ipairs(rows) do t[#t + 1] = row[f] end
          return median(t)
        end
        local errors = 0
        for _, row in ipairs(rows) do errors = errors + row.errors end
        if errors > 0 then failed = true end
        print(string.format("%-6s %-12s %11.1f %9.1f %9.1f %9.1f %9.1f %13.2f%s", scheme, peer, m("rate"), m("p50"),
          m("p90"), m("p99"), m("max"), m("cpu") * 1000, errors > 0 and ("  ERRORS " .. errors) or ""))
      end
    end
    print("")
    for _, scheme in ipairs(SCHEMES) do
      local ours, peer = res[scheme .. "/ours"], res[scheme .. "/peer"]
      if ours and peer then
        local p99, rate, cpu = {}, {}, {}
        for r = 1, ROUNDS do
          p99[r] = ours[r].p99 / peer[r].p99
          rate[r] = ours[r].rate / peer[r].rate
          cpu[r] = ours[r].cpu / peer[r].cpu
        end
        local a, b = median(p99), median(rate)
        local pa, pb = a <= MAX_P99, b >= MIN_RATE
        failed = failed or not pa or not pb
        print(string.format("%-5s ours/peer p99 %.2f (<= %.2f: %s)   listings/s %.2f (>= %.2f: %s)   cpu/listing %.2f",
          scheme, a, MAX_P99, pa and "PASS" or "FAIL", b, MIN_RATE, pb and "PASS" or "FAIL", median(cpu)))
      end
    end
    return failed
  end)
  local log = srv:error_log()
  srv:stop()
  if not ok then error(failed, 0) end
  local alerts = 0
  for _ in log:gmatch("%[alert%]") do alerts = alerts + 1 end
  for _ in log:gmatch("%[error%]") do alerts = alerts + 1 end
  if alerts > 0 then print("nginx logged " .. alerts .. " errors/alerts:\n" .. log:sub(1, 2000)) end
  os.exit(failed and 1 or 0)
end

main()
