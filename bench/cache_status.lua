-- Requests per second of a status endpoint under nginx, with and without the shared status
-- cache (dt.new{ cache = ngx.shared.doctranslate, cache_ttl = 1 }), and how many of those
-- reached the service. Load tool: wrk (Debian package wrk), keep-alive connections.
-- The endpoint (spec/openresty/cache_handler.lua) answers a running job's status as JSON:
-- /status/{id} through the cache, /plain/{id} without it. Run: make bench-cache.
--   BENCH_CACHE_SECONDS=5 BENCH_CACHE_CONNECTIONS=32 BENCH_CACHE_WORKERS=2
package.path = "lua/?.lua;spec/?.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath
local emu = require "support.emulator"
local N = require "openresty.nginx"

local SECONDS = tonumber(os.getenv("BENCH_CACHE_SECONDS") or "") or 5
local CONNECTIONS = tonumber(os.getenv("BENCH_CACHE_CONNECTIONS") or "") or 32
local WORKERS = tonumber(os.getenv("BENCH_CACHE_WORKERS") or "") or 2

local function sh(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("*a")
  p:close()
  return out
end

if not sh("command -v wrk"):match("wrk") then
  io.stderr:write("bench-cache needs wrk (apt-get install wrk)\n")
  os.exit(2)
end

emu.reset()
emu.settings{ log_max = 1000000 }
local id = emu.create_job{ documents = 100, status = "Running" }.id
local srv = N.start{ conf = N.root .. "/spec/openresty/eval_nginx.conf", endpoint = emu.http, key = emu.key,
                     workers = WORKERS, edit = require("openresty.cache_conf").edit }

local function seq()
  local all = emu.requests()
  return #all > 0 and all[#all].seq or 0
end

local function run(path)
  sh("curl -s -o /dev/null " .. srv.base .. path) -- the workers' clients made, the connection kept
  local before = seq()
  local out = sh(string.format("wrk -t2 -c%d -d%ds --latency %s%s", CONNECTIONS, SECONDS, srv.base, path))
  local after = seq()
  local rps = tonumber(out:match("Requests/sec:%s*([%d.]+)"))
  local non2xx = tonumber(out:match("Non%-2xx or 3xx responses:%s*(%d+)") or "0")
  local p99 = out:match("99%%%s+([%d.]+%a+)")
  local total = tonumber(out:match("(%d+) requests in"))
  if not rps then
    srv:stop()
    error("wrk said:\n" .. out)
  end
  return { rps = rps, non2xx = non2xx, p99 = p99 or "?", total = total, service = after - before }
end

local ok, err = pcall(function()
  local plain = run("/plain/" .. id)
  local cached = run("/status/" .. id)
  print(string.format("status endpoint under nginx (%d workers), wrk %d connections for %d s each (load tool: wrk)",
    WORKERS, CONNECTIONS, SECONDS))
  print(string.format("%-10s %12s %10s %10s %16s %10s", "", "requests/s", "requests", "non-2xx", "service reads",
    "p99"))
  for _, row in ipairs({ { "no cache", plain }, { "cache", cached } }) do
    local r = row[2]
    print(string.format("%-10s %12.0f %10d %10d %16d %10s", row[1], r.rps, r.total, r.non2xx, r.service, r.p99))
  end
  print(string.format("ratio cache/no cache: requests/s %.1fx, service reads %.4f", cached.rps / plain.rps,
    cached.service / math.max(plain.service, 1)))
end)
srv:stop()
emu.reset()
if not ok then error(err, 0) end
