-- examples/nginx.conf + examples/openresty_handler.lua in a real nginx (LuaJIT build of the
-- core, cosockets) against the emulator: status JSON, streamed listings, typed errors,
-- HTTPS verified with the CA, keepalive reuse, and no request from init_worker.
local emu = require "support.emulator"
local N = require "openresty.nginx"
local cjson = require "cjson"

local VERSION = "2026-03-01"

-- The job's documents as the emulator lists them (default order), through raw HTTP.
local function expected(job_id, query)
  local ids, statuses = {}, {}
  local url = "/translator/document/batches/" .. job_id .. "/documents?api-version=" .. VERSION
    .. "&maxpagesize=100" .. (query and ("&" .. query) or "")
  while url do
    local status, _, body = emu.get(url)
    assert.equal(200, status)
    local page = cjson.decode(body)
    for _, d in ipairs(page.value) do
      ids[#ids + 1] = d.id
      statuses[#statuses + 1] = d.status
    end
    url = page["@nextLink"] or page.nextLink
  end
  return ids, statuses
end

local function decode(body)
  local ok, v = pcall(cjson.decode, body)
  assert(ok, "not JSON: " .. tostring(body))
  return v
end

local function ids_of(list)
  local out = {}
  for i, d in ipairs(list) do out[i] = d.id end
  return out
end

local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(ch) return string.format("%%%02X", ch:byte()) end))
end

local function distinct_count(list)
  local seen, n = {}, 0
  for _, v in ipairs(list) do
    if not seen[v] then seen[v], n = true, n + 1 end
  end
  return n
end

describe("examples/nginx.conf under nginx", function()
  local servers = {}
  local plain, tls, badca, slow, down
  local job_id, total = nil, 237

  local function start(opts)
    local s = N.start(opts)
    servers[#servers + 1] = s
    return s
  end

  lazy_setup(function()
    local ok, err = pcall(function()
      emu.reset()
      job_id = emu.create_job{ documents = total, fail_every = 7 }.id
      plain = start{ endpoint = emu.http, key = emu.key, workers = 2 }
      tls = start{ endpoint = emu.https, key = emu.key, ca_file = emu.ca }
      badca = start{ endpoint = emu.https, key = emu.key, trusted = "/etc/ssl/certs/ca-certificates.crt" }
      slow = start{ endpoint = emu.http, key = emu.key, timeout = 0.3 }
      down = start{ endpoint = "http://127.0.0.1:" .. N.free_port(), key = emu.key }
    end)
    if not ok then
      for _, s in ipairs(servers) do s:stop() end
      error(err, 0)
    end
  end)

  lazy_teardown(function()
    for _, s in ipairs(servers) do s:stop() end
    emu.reset()
  end)

  it("answers a job's status as JSON", function()
    local status, headers, body = plain:get("/jobs/" .. job_id)
    assert.equal(200, status)
    assert.matches("application/json", headers["content-type"], 1, true)
    local job = decode(body)
    local _, _, raw = emu.get("/translator/document/batches/" .. job_id .. "?api-version=" .. VERSION)
    local want = cjson.decode(raw)
    assert.equal(job_id, job.id)
    assert.equal(want.status, job.status)
    assert.equal(total, job.summary.total)
    assert.same(want.summary, job.summary)
    assert.equal(want.createdDateTimeUtc, job.createdDateTimeUtc)
  end)

  it("streams the whole listing, equal to the emulator's, over one kept-alive connection", function()
    emu.clear_requests()
    local status, headers, body = plain:get("/jobs/" .. job_id .. "/documents?page_size=20")
    assert.equal(200, status)
    assert.equal("chunked", headers["transfer-encoding"])
    local log = emu.requests()
    local got = decode(body)
    local want_ids, want_statuses = expected(job_id)
    assert.equal(total, got.count)
    assert.same(want_ids, ids_of(got.documents))
    for i, d in ipairs(got.documents) do assert.equal(want_statuses[i], d.status) end
    assert.is_nil(got.error)
    -- ceil(237 / 20) = 12 page requests, on fewer connections (one, kept alive)
    local conns = {}
    for _, r in ipairs(log) do
      if r.route == "documents" then conns[#conns + 1] = r.connection end
    end
    assert.equal(12, #conns)
    assert.is_true(distinct_count(conns) < #conns)
    assert.equal(1, distinct_count(conns))
  end)

  it("passes filters through and lists exactly what the emulator filters", function()
    local _, _, body = plain:get("/jobs/" .. job_id .. "/documents?statuses=Failed&page_size=10")
    local got = decode(body)
    local want = expected(job_id, "statuses=Failed")
    assert.equal(math.floor(total / 7), got.count)
    assert.same(want, ids_of(got.documents))
    for _, d in ipairs(got.documents) do assert.equal("Failed", d.status) end
  end)

  it("gives typed errors: http, usage", function()
    local status, _, body = plain:get("/jobs/11111111-2222-4333-8444-555555555555")
    assert.equal(404, status)
    local e = decode(body).error
    assert.equal("http", e.kind)
    assert.equal(404, e.status)
    assert.equal("ResourceNotFound", e.code)
    assert.is_string(e["x-ms-client-request-id"])
    assert.is_string(e["apim-request-id"])

    status, _, body = plain:get("/jobs/" .. job_id .. "/documents?page_size=0")
    assert.equal(400, status)
    e = decode(body).error
    assert.equal("usage", e.kind)
    assert.matches("page_size", e.message, 1, true)
  end)

  it("ends a stream cut by the network with a typed error and a continuation that resumes it", function()
    emu.fault{ route = "documents", job = job_id, page = 3, action = "reset", times = -1 }
    local status, _, body = plain:get("/jobs/" .. job_id .. "/documents?page_size=20")
    emu.clear_faults()
    assert.equal(200, status)
    local first = decode(body)
    assert.equal(40, first.count)
    assert.equal("network", first.error.kind)
    assert.is_string(first.continuation)
    local _, _, rest_body = plain:get("/jobs/" .. job_id .. "/documents?continuation="
      .. urlencode(first.continuation))
    local rest = decode(rest_body)
    assert.is_nil(rest.error)
    local all = ids_of(first.documents)
    for _, id in ipairs(ids_of(rest.documents)) do all[#all + 1] = id end
    assert.same((expected(job_id)), all)
  end)

  it("verifies HTTPS with the CA in lua_ssl_trusted_certificate", function()
    emu.clear_requests()
    local status, _, body = tls:get("/jobs/" .. job_id .. "/documents?page_size=50")
    assert.equal(200, status)
    local log = emu.requests()
    local got = decode(body)
    assert.same((expected(job_id)), ids_of(got.documents))
    local n, conns = 0, {}
    for _, r in ipairs(log) do
      if r.route == "documents" then
        n = n + 1
        assert.is_true(r.tls)
        conns[#conns + 1] = r.connection
      end
    end
    assert.equal(5, n)
    assert.equal(1, distinct_count(conns))
    -- the client's ca_file cannot be applied per cosocket: the worker says so once
    assert.matches("ca_file is not applied", tls:error_log(), 1, true)
  end)

  it("refuses a certificate that lua_ssl_trusted_certificate does not trust (network error)", function()
    local status, _, body = badca:get("/jobs/" .. job_id)
    assert.equal(502, status, tostring(body) .. badca:error_log())
    local e = decode(body).error
    assert.equal("network", e.kind)
    assert.matches("TLS handshake", e.message, 1, true)
    assert.matches("lua_ssl_trusted_certificate", e.message, 1, true)
  end)

  it("times out with the client's timeout (timeout error)", function()
    emu.fault{ route = "job", job = job_id, action = "latency", ms = 1500, times = -1 }
    local status, _, body, took = slow:get("/jobs/" .. job_id)
    emu.clear_faults()
    assert.equal(504, status)
    local e = decode(body).error
    assert.equal("timeout", e.kind)
    assert.is_true(took < 1.4, "took " .. tostring(took))
  end)

  it("reports a refused connection as a network error", function()
    local status, _, body = down:get("/jobs/" .. job_id)
    assert.equal(502, status)
    local e = decode(body).error
    assert.equal("network", e.kind)
    assert.matches("connect to 127.0.0.1:", e.message, 1, true)
  end)

  it("refuses a request from init_worker with a usage error instead of blocking", function()
    local status, _, body = plain:get("/stats")
    assert.equal(200, status)
    local s = decode(body)
    assert.equal("usage", s.init_worker.kind)
    assert.matches("init_worker", s.init_worker.message, 1, true)
    assert.matches("via openresty", s.client, 1, true)
  end)

  it("gives every call its own x-ms-client-request-id in every worker (client made before fork)", function()
    local other = emu.create_job{ documents = 3 }.id
    for _ = 1, 12 do assert.equal(200, (plain:get("/jobs/" .. other))) end
    local ids = {}
    for _, r in ipairs(emu.requests()) do
      if r.path:find(other, 1, true) then ids[#ids + 1] = r.headers["x-ms-client-request-id"] end
    end
    assert.equal(12, #ids)
    assert.equal(12, distinct_count(ids))
  end)
end)
