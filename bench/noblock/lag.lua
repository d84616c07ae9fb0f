-- bench/noblock: the nginx worker's event-loop lag, seen from inside the worker.
-- A timer every 2 ms notes how late it runs; /lag answers the figures as JSON.
-- Its clock must not be ngx.update_time: that moves nginx's timer clock in the
-- middle of an event-loop iteration, so timers (this one, and every ngx.sleep)
-- would fire again within the same iteration and hide its length.
-- Loaded by the benchmark's copy of examples/nginx.conf (init_worker, location /lag).
-- luacheck: globals ngx
local clock = require("doctranslate.openresty").clock

local L = { samples = {}, max = 0 }

local EVERY = 0.002

function L.start()
  local last
  local function tick(premature)
    if premature then return end
    local now = clock()
    if last then
      local lag = now - last - EVERY
      if lag < 0 then lag = 0 end
      local s = L.samples
      s[#s + 1] = lag
      if lag > L.max then L.max = lag end
    end
    last = now
  end
  assert(ngx.timer.every(EVERY, tick))
end

-- GET /lag?reset=1 clears; otherwise {n, p50, p99, max} in ms.
function L.handle()
  if ngx.var.arg_reset then
    L.samples, L.max = {}, 0
    return ngx.say("{}")
  end
  local s = {}
  for i, v in ipairs(L.samples) do s[i] = v end
  table.sort(s)
  local function pct(p) return #s > 0 and s[math.max(1, math.ceil(p / 100 * #s))] * 1000 or 0 end
  ngx.say(string.format('{"n":%d,"p50":%.3f,"p99":%.3f,"max":%.3f}', #s, pct(50), pct(99), L.max * 1000))
end

return L
