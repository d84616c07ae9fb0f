-- doctranslate.driver outside nginx: a Lua transport (LuaSocket, blocking) on the spec's Lua,
-- the same API and answers as the C driver, and the option checks of dt.new.
local H = require "core.helper"
local U = require "support.usage"
local emu = H.emu
local dt = H.dt
local http = require "socket.http"
local ltn12 = require "ltn12"

-- A transport table: request(req) -> response | nil, kind, message; sleep(s).
local function luasocket_transport()
  local t = { requests = 0, sleeps = {} }
  function t.request(self, req)
    self.requests = self.requests + 1
    local chunks, headers_out = {}, {}
    for k, v in pairs(req.headers) do headers_out[k] = v end
    if req.body then headers_out["Content-Length"] = #req.body end
    local _, code, headers = http.request{ url = req.url, method = req.method, headers = headers_out,
      source = req.body and ltn12.source.string(req.body), sink = ltn12.sink.table(chunks) }
    if type(code) ~= "number" then return nil, "network", tostring(code) end
    return { status = code, headers = headers, body = table.concat(chunks) }
  end
  function t.sleep(self, s) self.sleeps[#self.sleeps + 1] = s end
  function t.stats(self) return { requests = self.requests, connections = 0 } end
  return t
end

describe("doctranslate.driver with a Lua transport", function()
  local job_id, total = nil, 33

  lazy_setup(function()
    emu.reset()
    job_id = emu.create_job{ documents = total, fail_every = 4 }.id
  end)
  lazy_teardown(function() emu.reset() end)

  local function client(t)
    return dt.new{ endpoint = emu.http, key = emu.key, retry_base = 0.01, transport = t or luasocket_transport() }
  end

  it("lists, pages and resumes like the C driver", function()
    local want = H.listing(H.client(), job_id, { page_size = 5 })
    local t = luasocket_transport()
    local c = client(t)
    assert.matches("via a Lua transport", tostring(c), 1, true)
    assert.same(want, (H.listing(c, job_id, { page_size = 5 })))
    assert.equal(math.ceil(total / 5), t.requests)
    local pages = c:documents(job_id, { page_size = 5 })
    local first = assert(pages:next_page())
    assert.equal(5, #first)
    local token = pages:continuation()
    pages:close()
    local rest = H.listing(c, job_id, { continuation = token })
    assert.equal(total - 5, #rest)
    assert.same(want[6], rest[1])
  end)

  it("wraps jobs: fields, refresh, documents, document", function()
    local c = client()
    local job = assert(c:job(job_id))
    assert.equal(job_id, job.id)
    assert.equal(total, job.summary.total)
    assert.equal(job, job:refresh())
    assert.equal(200, job:response().status)
    assert.is_number(job:time("createdDateTimeUtc"))
    local n = 0
    for doc in job:documents{ statuses = "Failed" } do
      assert.equal("Failed", doc.status)
      n = n + 1
    end
    assert.equal(math.floor(total / 4), n)
    local first = H.listing(H.client(), job_id)[1]
    assert.equal(first, job:document(first).id)
    assert.equal(first, c:document(job_id, first).id)
    assert.matches("doctranslate.Job", tostring(job), 1, true)
    assert.equal(c, job:client())
    assert.equal(job, job:adopt(c:job(job_id)))
    assert.has_error(function() job:adopt(c:job(emu.create_job{ documents = 1 }.id)) end)
  end)

  it("sleeps through the transport on a retry and returns the C driver's error values", function()
    local t = luasocket_transport()
    local c = client(t)
    emu.fault{ route = "job", job = job_id, action = "status", status = 503, times = 1 }
    assert(c:job(job_id))
    assert.equal(1, #t.sleeps)
    local missing = "11111111-2222-4333-8444-555555555555"
    local _, want = H.client():job(missing)
    local _, err = c:job(missing)
    assert.is_true(dt.is_error(err))
    for _, k in ipairs({ "kind", "status", "code", "message" }) do assert.equal(want[k], err[k]) end
    local ok, raised = U.loop(c:documents(missing))
    assert.is_false(ok)
    assert.equal("http", raised.kind)
  end)

  it("hands out raw ops that a caller drives itself, never run by libcurl behind its back", function()
    local c = client()
    local op = c:job_op(job_id)
    local ok, e = pcall(op.result, op)
    assert.is_false(ok)
    assert.equal("usage", U.of(e).kind)
    local t = luasocket_transport()
    while true do
      local req = op:next_request()
      if req == nil then break end
      if not req.wait then op:feed(assert(t:request(req))) end
    end
    assert.equal(job_id, assert(op:result()).id)
  end)

  local START = { inputs = { {
    source = { sourceUrl = "https://acct.blob.core.windows.net/src?sv=2024&sig=SECRETSIG" },
    targets = { { targetUrl = "https://acct.blob.core.windows.net/fr?sig=SECRETSIG", language = "fr" } },
  } } }

  for _, version in ipairs({ "2026-03-01", "v1.1" }) do
    it("starts, cancels, lists jobs and reads formats through the transport (" .. version .. ")", function()
      local t = luasocket_transport()
      local c = dt.new{ endpoint = emu.http, key = emu.key, transport = t, api_version = version }
      local job = assert(c:start(START))
      assert.equal("userdata", type(job)) -- the core's Job, read through this client
      assert.equal(c, job:client())
      assert.is_string(job.id)
      assert.equal("NotStarted", c:job(job.id).status)
      assert.equal(job, job:cancel())
      assert.matches("^Cancel", job.status)
      local again = assert(c:cancel(job.id))
      assert.equal(job.id, again.id)
      local formats = assert(c:formats())
      assert.is_true(#formats > 0)
      local seen = false
      for j in c:jobs{ page_size = 5 } do
        assert.equal(c, j:client()) -- their refresh uses the transport too
        if j.id == job.id then seen = assert(j:refresh()) end
      end
      assert.truthy(seen)
      local before = t.requests
      assert(seen:refresh())
      assert.equal(before + 1, t.requests)
    end)
  end

  it("calls a token function in Lua before a request is built, and reports its failure", function()
    local t = luasocket_transport()
    local tok = emu.token{ expires_in = 3600 }
    local calls = 0
    local c = dt.new{ endpoint = emu.http, transport = t,
                      token = function() calls = calls + 1; return tok.token, os.time() + 3600 end }
    assert(c:job(job_id))
    assert(c:job(job_id))
    assert.equal(1, calls)
    local bad = dt.new{ endpoint = emu.http, transport = t, retries = 0,
                        token = function() error("the identity service is down") end }
    local _, err = bad:job(job_id)
    assert.equal("network", err.kind)
    assert.matches("the identity service is down", err.message, 1, true)
  end)

  it("maps transport failures to network/timeout errors", function()
    local c = client({ request = function() return nil, "timeout", "took too long" end, sleep = function() end })
    local _, err = c:job(job_id)
    assert.equal("timeout", err.kind)
    assert.matches("took too long", err.message, 1, true)
  end)

  if _VERSION == "Lua 5.4" then
    it("is a to-be-closed value on Lua 5.4: break releases the listing", function()
      local c = client()
      local it
      for doc, _ in c:documents(job_id, { page_size = 3 }) do -- luacheck: ignore 512
        it = doc
        break
      end
      assert.is_not_nil(it)
      local pages = c:documents(job_id, { page_size = 3 })
      -- compiled only here: `<close>` is a syntax error before Lua 5.4
      assert(load("local pages = ...; do local p <close> = pages end"))(pages)
      assert.has_error(function() pages:next_page() end)
    end)
  end

  it("checks its options: transport, keepalive and pace only for openresty, curl on purpose", function()
    local function usage(opts, pattern)
      local ok, e = pcall(dt.new, opts)
      assert.is_false(ok)
      e = U.of(e)
      assert.matches(pattern, e.message, 1, true)
    end
    usage({ endpoint = emu.http, key = emu.key, transport = "bogus" }, "transport")
    usage({ endpoint = emu.http, key = emu.key, transport = "openresty" }, "ngx")
    usage({ endpoint = emu.http, key = emu.key, transport = "curl", pace = 0.01 }, "pace")
    usage({ endpoint = emu.http, key = emu.key, keepalive_pool_size = 3 }, "keepalive_pool_size")
    usage({ endpoint = emu.http, transport = luasocket_transport() }, "key")
    usage({ endpoint = emu.http, key = emu.key, transport = luasocket_transport(), colour = 1 }, "colour")
    local c = dt.new{ endpoint = emu.http, key = emu.key, transport = "curl" }
    assert.falsy(tostring(c):find("via", 1, true))
    local lc = client()
    local ok_async, e_async = pcall(function() return lc:documents_async(job_id) end)
    if lc.documents_async then
      assert.is_false(ok_async)
      assert.matches("libcurl client", U.of(e_async).message, 1, true)
    end
    lc:close()
    local ok, e = pcall(lc.job, lc, job_id)
    assert.is_false(ok)
    assert.equal("usage", U.of(e).kind)
  end)
end)
