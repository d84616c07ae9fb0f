-- Error kinds with their fields, retries, hostile next links, and the key's absence.
local H = require "core.helper"
local U = require "support.usage"
local emu = H.emu
local socket = require "socket"

-- Every string reachable from an error value.
local function strings(v, out, seen)
  out, seen = out or {}, seen or {}
  if type(v) == "string" then out[#out + 1] = v
  elseif type(v) == "table" and not seen[v] then
    seen[v] = true
    for k, x in pairs(v) do strings(k, out, seen); strings(x, out, seen) end
  end
  return out
end

local function no_key(err, key)
  key = key or emu.key
  assert.falsy(tostring(err):find(key, 1, true), tostring(err))
  for _, s in ipairs(strings(err)) do assert.falsy(s:find(key, 1, true), s) end
end

local function ids_of(r)
  return H.header(r, "x-ms-client-request-id")
end

describe("errors", function()
  before_each(function() emu.reset() end)

  it("http: an unknown job is 404 with code, message, innerError and request ids", function()
    local c = H.client()
    local job, err = c:job("00000000-0000-0000-0000-000000000000")
    assert.is_nil(job)
    assert.equal("doctranslate.Error", getmetatable(err).__name)
    assert.equal("http", err.kind)
    assert.equal(404, err.status)
    assert.is_string(err.code)
    assert.is_string(err.message)
    assert.is_string(err["x-ms-client-request-id"])
    assert.truthy(err["apim-request-id"] or err["x-requestid"])
    if err.innerError then assert.is_string(err.innerError.code) end
    assert.truthy(tostring(err):find("404", 1, true))
    no_key(err)
  end)

  it("http: a wrong key is 401 and the key is nowhere in the error", function()
    local id = H.job{ documents = 2 }
    local wrong = "wrong-key-0123456789abcdef"
    local c = H.client{ key = wrong }
    local _, err = c:job(id)
    assert.equal("http", err.kind)
    assert.equal(401, err.status)
    assert.is_string(err.message)
    no_key(err, wrong)
    local ok, e2 = U.loop(c:documents(id))
    assert.is_false(ok)
    assert.equal(401, e2.status)
    no_key(e2, wrong)
  end)

  it("network: nothing listens", function()
    local c = H.client{ endpoint = "http://127.0.0.1:1", retries = 1, retry_base = 0.01 }
    local _, err = c:job("x")
    assert.equal("network", err.kind)
    assert.is_string(err.message)
    assert.is_string(err["x-ms-client-request-id"])
    no_key(err)
  end)

  it("timeout: latency beyond the timeout", function()
    local id = H.job{ documents = 2 }
    emu.fault{ route = "job", job = id, action = "latency", ms = 1500, times = 5 }
    local c = H.client{ timeout = 0.3, retries = 0 }
    local _, err = c:job(id)
    assert.equal("timeout", err.kind)
    no_key(err)
  end)

  for _, action in ipairs{ "nonjson", "html", "empty", "truncate" } do
    it("parse: a 200 with a " .. action .. " body", function()
      local id = H.job{ documents = 2 }
      emu.fault{ route = "job", job = id, action = action, times = 5 }
      local c = H.client{ retries = 0 }
      local _, err = c:job(id)
      assert.is_table(err)
      if action == "truncate" then
        assert.truthy(err.kind == "parse" or err.kind == "network", err.kind)
      else
        assert.equal("parse", err.kind)
        assert.equal(200, err.status)
      end
      assert.is_string(err["x-ms-client-request-id"])
      no_key(err)
    end)
  end

  for _, s in ipairs{ 400, 401, 403, 404, 409 } do
    it("http " .. s .. " from a fault is not retried", function()
      local id = H.job{ documents = 2 }
      emu.fault{ route = "job", job = id, action = "status", status = s, times = 5 }
      local c = H.client()
      emu.clear_requests()
      local _, err = c:job(id)
      assert.equal("http", err.kind)
      assert.equal(s, err.status)
      assert.equal(1, #H.requests("/batches/" .. id))
    end)
  end

  it("retries a 429 after Retry-After with the same client request id", function()
    local id = H.job{ documents = 2 }
    emu.fault{ route = "job", job = id, action = "status", status = 429, retry_after = 1, times = 1 }
    local c = H.client()
    emu.clear_requests()
    local t0 = socket.gettime()
    local job = assert(c:job(id))
    assert.equal(id, job.id)
    local reqs = H.requests("/batches/" .. id)
    assert.equal(2, #reqs)
    assert.is_string(ids_of(reqs[1]))
    assert.equal(ids_of(reqs[1]), ids_of(reqs[2]))
    assert.truthy(socket.gettime() - t0 >= 0.95, "Retry-After: 1 was honoured")
  end)

  it("retries a 503 without Retry-After with backoff, same id, and gives up after `retries`", function()
    local id = H.job{ documents = 2 }
    emu.fault{ route = "job", job = id, action = "status", status = 503, times = 2 }
    local c = H.client{ retry_base = 0.05 }
    emu.clear_requests()
    assert(c:job(id))
    local reqs = H.requests("/batches/" .. id)
    assert.equal(3, #reqs)
    assert.equal(ids_of(reqs[1]), ids_of(reqs[3]))
    emu.clear_faults()
    emu.fault{ route = "job", job = id, action = "status", status = 503, times = 10 }
    emu.clear_requests()
    local c2 = H.client{ retries = 2, retry_base = 0.01 }
    local _, err = c2:job(id)
    assert.equal("http", err.kind)
    assert.equal(503, err.status)
    assert.equal(3, #H.requests("/batches/" .. id))
  end)

  it("a retried page never duplicates or drops a document", function()
    local id = H.job{ documents = 30 }
    local c = H.client()
    local all = H.listing(c, id, { page_size = 100 })
    emu.fault{ route = "documents", job = id, page = 2, action = "status", status = 503, times = 2 }
    local got = H.listing(c, id, { page_size = 7 })
    assert.same(all, got)
  end)

  local function protocol(action, extra)
    local id = H.job{ documents = 40 }
    local f = { route = "documents", job = id, page = 1, action = action }
    for k, v in pairs(extra or {}) do f[k] = v end
    if f.page == false then f.page = nil end
    emu.fault(f)
    local c = H.client()
    emu.clear_requests()
    local got = {}
    local t0 = os.clock()
    local ok, err = U.loop(c:documents(id, { page_size = 10 }), function(doc) got[#got + 1] = doc.id end)
    assert.is_false(ok)
    assert.is_table(err)
    assert.equal("protocol", err.kind)
    assert.truthy(os.clock() - t0 < 5)
    no_key(err)
    return got, err, id
  end

  it("protocol: a next link to another origin is not followed", function()
    local got, err, id = protocol("foreign_next", { next = emu.http:gsub("127%.0%.0%.1", "127.0.0.2") ..
      "/translator/document/batches/x/documents?api-version=2026-03-01" })
    assert.equal(10, #got)
    assert.truthy(err.message:find("origin", 1, true))
    assert.equal(1, #H.requests("/batches/" .. id .. "/documents"))
  end)

  it("protocol: a next link to localhost is foreign to 127.0.0.1", function()
    local got, _, id = protocol("foreign_next", { next = emu.http:gsub("127%.0%.0%.1", "localhost") ..
      "/translator/document/batches/x/documents?api-version=2026-03-01" })
    assert.equal(10, #got)
    assert.equal(1, #H.requests("/batches/" .. id .. "/documents"))
  end)

  it("protocol: a next link to itself", function()
    local got = protocol("loop_next")
    assert.truthy(#got <= 20)
  end)

  it("protocol: two pages pointing at each other", function()
    local got = protocol("pingpong_next")
    assert.equal(H.distinct(got), #got)
  end)

  it("protocol: an empty page whose next link skips documents", function()
    local got = protocol("empty_pages")
    assert.equal(0, #got)
  end)

  it("protocol: endless empty pages", function()
    local got = protocol("empty_pages", { times = -1, page = false })
    assert.equal(0, #got)
  end)

  it("protocol: a page repeating a document is never a silent duplicate", function()
    local got = protocol("repeat_doc", { page = 2 })
    assert.equal(H.distinct(got), #got)
  end)

  it("protocol: a body over the cap", function()
    local id = H.job{ documents = 2 }
    emu.fault{ route = "job", job = id, action = "oversize", times = 5 }
    local c = H.client{ max_body = 4096, retries = 0 }
    local _, err = c:job(id)
    assert.equal("protocol", err.kind)
    assert.truthy(err.message:find("cap", 1, true))
  end)

  it("protocol: the pages-per-listing cap", function()
    local id = H.job{ documents = 30 }
    local c = H.client{ max_pages = 2 }
    local n = 0
    local ok, err = U.loop(c:documents(id, { page_size = 10 }), function() n = n + 1 end)
    assert.is_false(ok)
    assert.equal("protocol", err.kind)
    assert.truthy(err.message:find("max_pages", 1, true))
    assert.equal(20, n)
  end)

  it("an unknown status string is data", function()
    local id = H.job{ documents = 2, status = "Succeeded" }
    local job = assert(H.client():job(id))
    assert.is_string(job.status)
    assert.is_false(H.dt.is_terminal("SomethingNew"))
    assert.is_true(H.dt.is_terminal("Canceled"))
  end)

  it("the log function never receives the key", function()
    local id = H.job{ documents = 12 }
    local lines = {}
    emu.fault{ route = "documents", job = id, page = 1, action = "status", status = 503, times = 1 }
    local c = H.client{ log = function(level, msg) lines[#lines + 1] = level .. " " .. msg end }
    H.listing(c, id, { page_size = 5 })
    c:job("nope")
    assert.truthy(#lines >= 4)
    for _, l in ipairs(lines) do assert.falsy(l:find(emu.key, 1, true), l) end
  end)
end)
