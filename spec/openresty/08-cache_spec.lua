-- The shared status cache of the OpenResty client (doctranslate.cache) under nginx with 4
-- workers: one read of the service per fresh period whatever the number of viewers, answers
-- that stay correct, entries that never answer another key, a 429 that every worker waits out,
-- and a worker that stays responsive. The load comes from curl processes started in batches
-- (a shell loop paces them over 2 s: the cache's freshness is on the real clock).
local emu = require "support.emulator"
local U = require "support.usage"
local N = require "openresty.nginx"
local H = require "core.helper"
local cjson = require "cjson"
local core = require "doctranslate.core"

local edit = require("openresty.cache_conf").edit

local function sh(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("*a")
  p:close()
  return out
end

local function read(path)
  local fh = io.open(path, "rb")
  if not fh then return nil end
  local s = fh:read("*a")
  fh:close()
  return s
end

-- n GETs of path, in `batches` curl processes started `gap` s apart (each runs its share 16 at
-- once), with a /ping timed after each batch starts. Returns the bodies (by request), the
-- status codes, the /ping times and the seconds it all took.
local function load(srv, path, n, batches, gap)
  local dir = os.tmpname()
  os.remove(dir)
  sh("mkdir -p " .. dir)
  local per = math.ceil(n / batches)
  local script = { "cd " .. dir }
  local k = 0
  for b = 1, batches do
    local cfg = {}
    for _ = 1, per do
      if k < n then
        k = k + 1
        cfg[#cfg + 1] = string.format('url = "%s%s"\noutput = "%s/body-%d"', srv.base, path, dir, k)
      end
    end
    local fh = assert(io.open(dir .. "/batch-" .. b .. ".cfg", "wb"))
    fh:write(table.concat(cfg, "\n"), "\n")
    fh:close()
    script[#script + 1] = string.format("curl -s --no-progress-meter --http1.1 --parallel "
      .. "--parallel-max 16 -K batch-%d.cfg -w '%%{http_code}\\n' >> codes 2>/dev/null &", b)
    script[#script + 1] = string.format("curl -s -o /dev/null -w 'ping %%{time_total}\\n' %s/ping >> pings",
      srv.base)
    if b < batches then script[#script + 1] = "sleep " .. gap end
  end
  script[#script + 1] = "wait"
  local t0 = core.monotonic()
  sh(table.concat(script, "\n"))
  local took = core.monotonic() - t0
  local bodies, codes, pings = {}, {}, {}
  for i = 1, n do bodies[i] = read(dir .. "/body-" .. i) end
  for c in (read(dir .. "/codes") or ""):gmatch("%d+") do codes[#codes + 1] = tonumber(c) end
  for t in (read(dir .. "/pings") or ""):gmatch("ping ([%d.]+)") do pings[#pings + 1] = tonumber(t) end
  sh("rm -rf " .. dir)
  return bodies, codes, pings, took
end

local function job_reads(since, id)
  local n = 0
  for _, r in ipairs(emu.requests(since)) do
    if r.route == "job" and r.path:find(id, 1, true) then n = n + 1 end
  end
  return n
end

local function mark()
  local all = emu.requests()
  return #all > 0 and all[#all].seq or 0
end

describe("the shared status cache (openresty, 4 workers)", function()
  local srv

  lazy_setup(function()
    emu.reset()
    srv = N.start{ conf = N.root .. "/spec/openresty/eval_nginx.conf", endpoint = emu.http, key = emu.key,
                   workers = 4, edit = edit }
  end)

  lazy_teardown(function()
    if srv then srv:stop() end
    emu.reset()
  end)

  it("1,000 reads of a running job's status in 2 s: at most 3 reads of the service, each answer right",
    function()
    local id = emu.create_job{ documents = 40, status = "Running" }.id
    local want = assert(H.client():job(id))
    local m = mark()
    local bodies, codes, pings, took = load(srv, "/status/" .. id, 1000, 20, 0.09)
    local reads = job_reads(m, id)
    assert.equals(1000, #codes)
    for i, c in ipairs(codes) do assert.equals(200, c, "answer " .. i) end
    for i = 1, 1000 do
      local v = cjson.decode((assert(bodies[i], "no body " .. i)))
      assert.equals(id, v.id)
      assert.equals(want.status, v.status)
      assert.equals(want.summary.total, v.total)
      assert.equals(want.summary.success, v.success)
      assert.equals(want.summary.inProgress, v.inProgress)
    end
    assert.is_true(took < 4, "the load took " .. took .. " s")
    -- one read per fresh period (cache_ttl 1 s, the emulator's Retry-After 1 s) at most: 3 in 2 s
    -- (ngx.now() is each worker's clock cached per event-loop turn: a period may end a few ms early)
    assert.is_true(reads >= 1 and reads <= math.floor(took + 0.1) + 1 and reads <= 3,
      reads .. " reads of the service in " .. took .. " s")
    assert.equals(20, #pings)
    table.sort(pings)
    assert.is_true(pings[#pings] < 0.25, "a /ping took " .. pings[#pings] .. " s")
    -- without the cache every read reaches the service
    local m2 = mark()
    local _, codes2 = load(srv, "/plain/" .. id, 100, 2, 0.1)
    assert.equals(100, #codes2)
    assert.equals(100, job_reads(m2, id))
  end)

  it("keeps a job that has ended for cache_terminal_ttl, and a document's status per document", function()
    local id = emu.create_job{ documents = 5, status = "Succeeded" }.id
    local m = mark()
    local _, codes = load(srv, "/status/" .. id, 200, 2, 1.2)
    assert.equals(200, #codes)
    assert.equals(1, job_reads(m, id)) -- 1.2 s apart, past cache_ttl: still the one read
    local docs = {}
    for d in H.client():documents(id) do docs[#docs + 1] = d.id end
    m = mark()
    for _, d in ipairs({ docs[1], docs[2], docs[1] }) do
      local status, _, body = srv:get("/document/" .. id .. "/" .. d)
      assert.equals(200, status)
      assert.equals(d, cjson.decode(body).id)
    end
    local n = 0
    for _, r in ipairs(emu.requests(m)) do if r.route == "document" then n = n + 1 end end
    assert.equals(2, n)
  end)

  it("keeps an error answer only briefly, and still coalesces the reads that wait for it", function()
    local unknown = "00000000-0000-0000-0000-0000000000ee"
    local m = mark()
    local bodies, codes = load(srv, "/status/" .. unknown, 100, 2, 0.8)
    assert.equals(100, #codes)
    for _, c in ipairs(codes) do assert.equals(404, c) end
    assert.equals("ResourceNotFound", cjson.decode(bodies[1]).error.code)
    local reads = 0
    for _, r in ipairs(emu.requests(m)) do if r.path:find(unknown, 1, true) then reads = reads + 1 end end
    -- each batch of 50 is one read; the first batch's 404 is gone 0.8 s later
    assert.is_true(reads >= 2 and reads <= 4, reads .. " reads")
  end)

  it("never answers from another key's entries, and stores no key", function()
    local id = emu.create_job{ documents = 5, status = "Running" }.id
    assert.equals(200, (srv:get("/status/" .. id)))
    local status, _, body = srv:get("/other/" .. id)
    assert.equals(401, status, body)
    assert.equals(200, (srv:get("/status/" .. id)))
    local dump = srv:eval_ok([[
      local d = ngx.shared.doctranslate
      local out = {}
      for _, k in ipairs(d:get_keys(0)) do out[#out + 1] = k .. "=" .. tostring(d:get(k)) end
      return table.concat(out, "\n")
    ]])
    assert.matches(id, dump, 1, true)
    assert.is_nil(dump:find(emu.key, 1, true))
    assert.is_nil(dump:lower():find("ocp-apim", 1, true))
  end)

  it("shares a 429's Retry-After: no worker asks before it has passed", function()
    local id = emu.create_job{ documents = 5, status = "Running" }.id
    local fault = emu.fault{ route = "job", action = "status", status = 429, retry_after = 2, times = 1 }
    local m = mark()
    local t0 = core.monotonic()
    local _, codes = load(srv, "/status/" .. id, 200, 4, 0.2)
    local took = core.monotonic() - t0
    emu.clear_faults()
    assert.is_number(fault)
    assert.equals(200, #codes)
    for _, c in ipairs(codes) do assert.equals(200, c) end
    local times = {}
    for _, r in ipairs(emu.requests(m)) do
      if r.route == "job" then times[#times + 1] = H.dt.parse_date(r.time) end
    end
    -- the 429, then the retry after its 2 s: nothing in between, from any worker
    assert.is_true(#times >= 2 and #times <= 3, #times .. " reads")
    assert.is_true(times[2] - times[1] >= 1.9, "asked again after " .. (times[2] - times[1]) .. " s")
    assert.is_true(took >= 1.9)
  end)

  it("checks its options", function()
    local r = srv:eval_ok([[
      local out = {}
      for i, o in ipairs({ { cache = {} }, { cache = ngx.shared.doctranslate, cache_ttl = -1 },
                           { cache = ngx.shared.doctranslate, cache_terminal_ttl = "1h" } }) do
        o.endpoint, o.key = "http://127.0.0.1:9", "k"
        local ok, err = pcall(dt.new, o)
        out[i] = (not ok) and err or "accepted"
      end
      return out
    ]])
    assert.matches("^bad option 'cache'", U.of(r[1]).message)
    assert.matches("^bad option 'cache_ttl'", U.of(r[2]).message)
    assert.matches("^bad option 'cache_terminal_ttl'", U.of(r[3]).message)
    local ok, err = pcall(H.dt.new, { endpoint = emu.http, key = emu.key, transport = "curl", cache = {} })
    assert.is_false(ok)
    assert.matches("only for the openresty transport", U.of(err).message)
  end)
end)
