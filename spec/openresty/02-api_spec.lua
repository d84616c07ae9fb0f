-- The public API inside an nginx worker (transport "openresty", chosen automatically):
-- c:job, job:refresh, job:documents, job:document, c:document, the for iterator,
-- next_page, continuation, retries with ngx.sleep, errors equal to the C driver's,
-- and usage errors. Each case runs as a Lua chunk in the worker (eval_handler.lua);
-- the C driver (libcurl, this busted's Lua) gives the reference answers.
local emu = require "support.emulator"
local N = require "openresty.nginx"
local H = require "core.helper"

local function chunk(code, vars)
  return (code:gsub("%$(%w+)", function(k)
    local v = vars[k]
    if v == nil then return "$" .. k end
    -- %q quotes numbers as strings before Lua 5.3: a number is written as a numeral
    if type(v) == "number" then return string.format("%.17g", v) end
    return string.format("%q", v)
  end))
end

describe("the API inside nginx (openresty transport)", function()
  local srv, job_id, total = nil, nil, 57

  local function ok(code, vars)
    return srv:eval_ok(chunk(code, vars or {}))
  end

  lazy_setup(function()
    emu.reset()
    job_id = emu.create_job{ documents = total, fail_every = 5, languages = { "fr", "de" } }.id
    srv = N.start{ conf = N.root .. "/spec/openresty/eval_nginx.conf", endpoint = emu.http, key = emu.key }
  end)

  lazy_teardown(function()
    if srv then srv:stop() end
    emu.reset()
  end)

  it("chooses the openresty transport by itself under nginx", function()
    local r = ok([[return { tostring(c), type(c) }]])
    assert.matches("via openresty", r[1], 1, true)
    assert.equal("table", r[2])
  end)

  it("c:job, job fields, time(), response(), refresh() and int64 counters as numbers", function()
    local want = H.client():job(job_id)
    local r = ok([[
      local job = assert(c:job($id))
      local before = job.status
      assert(job:refresh() == job)
      return { id = job.id, status = job.status, before = before, total = job.summary.total,
               total_is_number = type(job.summary.total) == "number" and job.summary.total == $n,
               created = job:time("createdDateTimeUtc"), http = job:response().status,
               text = tostring(job), created_text = job.createdDateTimeUtc }
    ]], { id = job_id, n = total })
    assert.equal(job_id, r.id)
    assert.equal(want.status, r.status)
    assert.equal(total, r.total)
    assert.is_true(r.total_is_number)
    assert.equal(want.createdDateTimeUtc, r.created_text)
    assert.near(want:time("createdDateTimeUtc"), r.created, 1e-3)
    assert.equal(200, r.http)
    assert.equal(tostring(want), r.text)
  end)

  it("for doc in c:documents(...) lists what the C driver lists, yielding on each page", function()
    local want = H.listing(H.client(), job_id, { page_size = 7, order_by = "createdDateTimeUtc asc" })
    emu.clear_requests()
    local got = ok([[
      local ids = {}
      for doc in c:documents($id, { page_size = 7, order_by = "createdDateTimeUtc asc" }) do
        ids[#ids + 1] = doc.id
      end
      return ids
    ]], { id = job_id })
    assert.same(want, got)
    local pages = 0
    for _, r in ipairs(emu.requests()) do if r.route == "documents" then pages = pages + 1 end end
    assert.equal(math.ceil(total / 7), pages)
  end)

  it("job:documents, job:document and c:document", function()
    local want_doc = H.client():document(job_id, (H.listing(H.client(), job_id))[3])
    local r = ok([[
      local job = assert(c:job($id))
      local ids, failed = {}, 0
      for doc in job:documents{ statuses = { "Failed" }, page_size = 4 } do
        ids[#ids + 1] = doc.id
        failed = failed + (doc.status == "Failed" and 1 or 0)
      end
      local d1 = assert(job:document($doc))
      local d2 = assert(c:document($id, $doc))
      return { n = #ids, failed = failed, d1 = d1.id, d2 = d2.id, to = d2.to, status = d2.status,
               path = d2.path, progress = d2.progress }
    ]], { id = job_id, doc = want_doc.id })
    assert.equal(math.floor(total / 5), r.n)
    assert.equal(r.n, r.failed)
    assert.equal(want_doc.id, r.d1)
    assert.equal(want_doc.id, r.d2)
    assert.equal(want_doc.to, r.to)
    assert.equal(want_doc.status, r.status)
    assert.equal(want_doc.path, r.path)
  end)

  it("next_page pages, break and continuation resume without loss or repeat", function()
    local want = H.listing(H.client(), job_id)
    local r = ok([[
      local pages = c:documents($id, { page_size = 10 })
      local first = assert(pages:next_page())
      local head = {}
      for i, d in ipairs(first) do head[i] = d.id end
      local link = first.next_link
      local more = {}
      for doc in pages do
        more[#more + 1] = doc.id
        if #more == 13 then break end
      end
      local token = pages:continuation()
      pages:close()
      local rest = {}
      for doc in c:documents($id, { continuation = token }) do rest[#rest + 1] = doc.id end
      local ids = {}
      for _, l in ipairs({ head, more, rest }) do for _, x in ipairs(l) do ids[#ids + 1] = x end end
      return { ids = ids, link = type(link) }
    ]], { id = job_id })
    assert.equal("string", r.link)
    assert.same(want, r.ids)
  end)

  it("gives the C driver's error values: nil, err from c:job, raised from a for loop", function()
    local missing = "11111111-2222-4333-8444-555555555555"
    local _, want = H.client():job(missing)
    local r = ok([[
      local job, err = c:job($id)
      local listing = c:documents($id)
      local ok, raised = pcall(function() for _ in listing do end end)
      return { job = job == nil, e = E.error_table(err), ok = ok, raised = E.error_table(listing:error()),
               raised_text = raised }
    ]], { id = missing })
    assert.is_true(r.job)
    -- the for loop raised a string carrying the error's text; listing:error() is the value
    assert.is_false(r.ok)
    assert.is_string(r.raised_text)
    assert.truthy(r.raised_text:find("^eval:%d+: doctranslate: http 404 "), r.raised_text)
    assert.truthy(r.raised_text:find(r.raised.text, 1, true), r.raised_text)
    for _, e in ipairs({ r.e, r.raised }) do
      assert.is_true(e.is_error)
      assert.equal(want.kind, e.kind)
      assert.equal(want.status, e.status)
      assert.equal(want.code, e.code)
      assert.equal(want.message, e.message)
      assert.is_string(e["x-ms-client-request-id"])
      assert.falsy(e.text:find(emu.key, 1, true))
    end
    assert.is_false(r.ok)
  end)

  -- Each fault fires on every attempt: the final error (or success) of the openresty
  -- transport must be the C driver's.
  local FAULTS = {
    { action = "truncate" }, { action = "nonjson" }, { action = "html" }, { action = "empty" },
    { action = "reset" }, { action = "oversize", bytes = 20 * 1024 * 1024 },
    { action = "status", status = 500 }, { action = "status", status = 429, retry_after = 0 },
    { action = "trickle", bytes_per_second = 200000 },
  }
  for _, f in ipairs(FAULTS) do
    it("ends like the C driver under the emulator's " .. f.action .. " fault " .. tostring(f.status or ""),
      function()
        local function with_fault(run)
          local spec = { route = "documents", job = job_id, times = -1 }
          for k, v in pairs(f) do spec[k] = v end
          emu.fault(spec)
          local done, r = pcall(run)
          emu.clear_faults()
          assert(done, r)
          return r
        end
        local want = with_fault(function()
          local page, err = H.client():documents(job_id, { page_size = 20 }):next_page()
          return { n = page and #page, kind = err and err.kind, status = err and err.status, code = err and err.code }
        end)
        local got = with_fault(function()
          return ok([[
            local page, err = c:documents($id, { page_size = 20 }):next_page()
            return { n = page and #page, kind = err and err.kind, status = err and err.status, code = err and err.code }
          ]], { id = job_id })
        end)
        assert.same(want, got)
      end)
  end

  it("retries with ngx.sleep, one x-ms-client-request-id per call, and logs without the key", function()
    emu.clear_requests()
    emu.fault{ route = "job", job = job_id, action = "status", status = 503, times = 1 }
    local r = ok([[
      local n = #logs
      local job = assert(c:job($id))
      local mine = {}
      for i = n + 1, #logs do mine[#mine + 1] = logs[i] end
      return { status = job.status, logs = mine }
    ]], { id = job_id })
    emu.clear_faults()
    assert.is_string(r.status)
    local ids = {}
    for _, q in ipairs(emu.requests()) do
      if q.route == "job" then ids[#ids + 1] = q.headers["x-ms-client-request-id"] end
    end
    assert.equal(2, #ids)
    assert.equal(ids[1], ids[2])
    local text = table.concat(r.logs, "\n")
    assert.matches("retry 1 of %d+ in", text)
    assert.matches("-> 503", text, 1, true)
    assert.falsy(text:find(emu.key, 1, true))
  end)

  it("keeps serving other requests while a call waits for Retry-After (ngx.sleep, not a blocking sleep)", function()
    emu.fault{ route = "job", job = job_id, action = "status", status = 429, retry_after = 1, times = 1 }
    local out = os.tmpname()
    local code = chunk([[local t = ngx.now(); local job = assert(c:job($id)); ngx.update_time();
      return { waited = ngx.now() - t, status = job.status }]], { id = job_id })
    local input = os.tmpname()
    local fh = assert(io.open(input, "wb"))
    fh:write(code)
    fh:close()
    assert(os.execute("curl -s --max-time 20 --data-binary @" .. input .. " -o " .. out .. " "
      .. srv.base .. "/eval &"))
    local pings = {}
    for i = 1, 8 do
      local status, _, body, took = srv:get("/ping")
      assert.equal(200, status)
      assert.equal("pong\n", body)
      pings[i] = took
      os.execute("sleep 0.05")
    end
    local result
    for _ = 1, 100 do
      local rf = io.open(out, "rb")
      local text = rf and rf:read("*a")
      if rf then rf:close() end
      if text and text:find("}%s*$") then result = require("cjson").decode(text) break end
      os.execute("sleep 0.1")
    end
    os.remove(out)
    os.remove(input)
    emu.clear_faults()
    assert.is_table(result, "the waiting call did not answer")
    assert.is_true(result.ok)
    assert.is_true(result.result.waited >= 0.9)
    for _, t in ipairs(pings) do assert.is_true(t < 0.2, "a /ping took " .. t .. " s") end
  end)

  it("raises usage errors: bad options, an unknown transport, a proxy, a closed client", function()
    local r = ok([[
      local out = {}
      local function try(f, ...)
        local ok, e = pcall(f, ...)
        out[#out + 1] = ok and "no error" or E.error_table(e)
      end
      try(c.documents, c, $id, { page_size = 0 })
      try(dt.new, { endpoint = "http://127.0.0.1:1", key = "abcdefgh", transport = "bogus" })
      try(dt.new, { endpoint = "http://127.0.0.1:1", key = "abcdefgh", proxy = "http://127.0.0.1:3128" })
      try(dt.new, { endpoint = "http://127.0.0.1:1", key = "abcdefgh", keepalive_timeout = -1 })
      local c2 = dt.new{ endpoint = "http://127.0.0.1:1", key = "abcdefgh" }
      c2:close()
      try(c2.job, c2, $id)
      local curl = dt.new{ endpoint = "http://127.0.0.1:1", key = "abcdefgh", transport = "curl" }
      out[#out + 1] = tostring(curl)
      return out
    ]], { id = job_id })
    for i = 1, 5 do
      assert.equal("usage", r[i].kind, tostring(r[i].message))
      assert.matches("^eval:%d+$", r[i].where) -- the caller's line, in the eval'd chunk
    end
    assert.matches("page_size", r[1].message, 1, true)
    assert.matches("transport", r[2].message, 1, true)
    assert.matches("proxy", r[3].message, 1, true)
    assert.matches("keepalive_timeout", r[4].message, 1, true)
    assert.matches("closed", r[5].message, 1, true)
    assert.falsy(r[6]:find("via", 1, true))
  end)

  it("starts a job, waits for it with job:wait (ngx.sleep), lists jobs and cancels, all over cosockets", function()
    emu.settings{ start_duration = 1, start_documents = 4 }
    local r = ok([[
      local req = { inputs = { {
        source = { sourceUrl = "https://acct.blob.core.windows.net/src?sv=2024&sig=SECRETSIG" },
        targets = { { targetUrl = "https://acct.blob.core.windows.net/fr?sig=SECRETSIG", language = "fr" } },
      } } }
      local job = assert(c:start(req))
      local waited = assert(job:wait{ interval = 0.2, timeout = 20 })
      local listed = 0
      for j in c:jobs{ page_size = 10 } do
        if j.id == job.id then listed = listed + 1 end
      end
      local other = assert(c:start(req))
      assert(other:cancel())
      return { id = type(job.id), status = waited.status, total = waited.summary.total, listed = listed,
               cancelled = other.status, kind = type(job), through = job:client() == c }
    ]])
    emu.admin("DELETE", "/settings")
    assert.equal("string", r.id)
    assert.is_true(r.status == "Succeeded" or r.status == "Failed")
    assert.equal(4, r.total)
    assert.equal(1, r.listed)
    assert.matches("^Cancel", r.cancelled)
    assert.equal("userdata", r.kind) -- the core's Job ...
    assert.is_true(r.through)          -- ... read through the openresty client
  end)

  it("runs a token function that fetches its token over cosockets (it yields)", function()
    local r = ok([[
      local T = require("doctranslate.openresty").new({}, error)
      local calls = 0
      local tc = dt.new{ endpoint = os.getenv("DT_ENDPOINT"), token = function()
        calls = calls + 1
        local res = assert(T:request{ method = "POST", url = os.getenv("DT_ENDPOINT") .. "/_emulator/tokens",
                                      headers = { ["Content-Type"] = "application/json" }, body = "{}" })
        local t = cjson.decode(res.body)
        return t.token, ngx.time() + t.expires_in
      end }
      local job = assert(tc:job($id))
      assert(tc:job($id))
      return { status = job.status, calls = calls }
    ]], { id = job_id })
    assert.is_string(r.status)
    assert.equal(1, r.calls)
  end)

  it("made the request from init_worker a usage error", function()
    local r = ok([[return E.error_table(init_worker_said)]])
    assert.equal("usage", r.kind)
    assert.matches("init_worker", r.message, 1, true)
  end)

  it("reuses kept-alive connections across calls (stats)", function()
    local r = ok([[
      local before = c:stats()
      for _ = 1, 3 do assert(c:job($id)) end
      for _ in c:documents($id, { page_size = 20 }) do end
      local after = c:stats()
      return { requests = after.requests - before.requests, connections = after.connections - before.connections }
    ]], { id = job_id })
    assert.equal(3 + math.ceil(total / 20), r.requests)
    assert.is_true(r.connections <= 1)
  end)
end)
