-- Prefetch: the blocking listing sends page N+1 while the caller works
-- through page N; nothing else about the listing changes.
local H = require "core.helper"
local U = require "support.usage"
local core = require "doctranslate.core"
local emu = H.emu

local function docs_requests(id)
  return H.requests("/batches/" .. id .. "/documents")
end

describe("prefetch", function()
  before_each(function() emu.reset() end)

  for _, case in ipairs{ { n = 230, ps = 50 }, { n = 7, ps = 1 }, { n = 100, ps = 100 }, { n = 0, ps = 10 } } do
    it(("lists what the plain listing lists, in ceil(n/p) requests (%d documents, page size %d)")
      :format(case.n, case.ps), function()
      local id = H.job{ documents = case.n }
      local c = H.client()
      local plain = H.listing(c, id, { page_size = case.ps, prefetch = false })
      emu.clear_requests()
      local c2 = H.client()
      local ids = H.listing(c2, id, { page_size = case.ps })
      assert.same(plain, ids)
      assert.equal(math.max(1, math.ceil(case.n / case.ps)), #docs_requests(id))
      assert.equal(math.max(1, math.ceil(case.n / case.ps)), c2:stats().requests)
    end)
  end

  it("runs a sequential listing over one connection, and a job call before it too", function()
    local id = H.job{ documents = 1000 }
    local c = H.client()
    emu.clear_requests()
    assert.is_not_nil(c:job(id))
    local ids = H.listing(c, id, { page_size = 100 })
    assert.equal(1000, H.distinct(ids))
    local conns = {}
    for _, r in ipairs(H.requests()) do conns[#conns + 1] = tostring(H.connection(r)) end
    assert.equal(11, #conns)
    assert.equal(1, H.distinct(conns))
    assert.equal(1, c:stats().connections)
    assert.equal(11, c:stats().requests)
  end)

  it("over HTTPS too: one TLS connection", function()
    local id = H.job{ documents = 300 }
    local c = H.client{ endpoint = emu.https, ca_file = emu.ca }
    emu.clear_requests()
    local ids = H.listing(c, id, { page_size = 100 })
    assert.equal(300, #ids)
    assert.equal(1, c:stats().connections)
    assert.equal(3, #docs_requests(id))
  end)

  it("never asks for a page beyond top", function()
    local id = H.job{ documents = 120 }
    local c = H.client()
    emu.clear_requests()
    local ids = H.listing(c, id, { page_size = 10, top = 30, skip = 5 })
    assert.equal(30, #ids)
    assert.equal(3, #docs_requests(id))
  end)

  it("gives every page call its own x-ms-client-request-id", function()
    local id = H.job{ documents = 40 }
    local c = H.client()
    emu.clear_requests()
    H.listing(c, id, { page_size = 10 })
    local seen = {}
    for _, r in ipairs(docs_requests(id)) do seen[#seen + 1] = H.header(r, "x-ms-client-request-id") end
    assert.equal(4, #seen)
    assert.equal(4, H.distinct(seen))
  end)

  it("leaves no transfer running after a break, and the continuation resumes exactly", function()
    local id = H.job{ documents = 50 }
    local c = H.client()
    local all = H.listing(c, id, { page_size = 10, prefetch = false })
    emu.fault{ route = "documents", page = 3, action = "latency", ms = 400 }
    local got, pages = {}, c:documents(id, { page_size = 10 })
    for doc in pages do
      got[#got + 1] = doc.id
      if #got == 13 then break end
    end
    assert.equal(1, c:stats().transfers) -- page 3 travels while page 2 is read
    local t0 = core.monotonic()
    pages:close()
    assert.is_true(core.monotonic() - t0 < 0.1) -- close does not wait for it
    assert.equal(0, c:stats().transfers)
    for doc in c:documents(id, { continuation = pages:continuation() }) do got[#got + 1] = doc.id end
    assert.same(all, got)
  end)

  it("keeps the error position and the continuation of a listing failing at page 3", function()
    local id = H.job{ documents = 50 }
    local results = {}
    for _, pf in ipairs{ false, true } do
      emu.clear_faults()
      emu.fault{ route = "documents", page = 3, action = "status", status = 500, times = -1 }
      local c = H.client{ retries = 1, prefetch = pf }
      local got = {}
      local pages = c:documents(id, { page_size = 10 })
      local ok, err = U.loop(pages, function(doc) got[#got + 1] = doc.id end)
      assert.is_false(ok)
      assert.equal("http", err.kind)
      assert.equal(500, err.status)
      results[#results + 1] = { got = got, token = pages:continuation() }
    end
    assert.equal(20, #results[1].got)
    assert.same(results[1].got, results[2].got)
    assert.equal(results[1].token, results[2].token)
  end)

  it("retries a prefetched page that met a 503 exactly as the plain listing does", function()
    local id = H.job{ documents = 30 }
    emu.fault{ route = "documents", page = 2, action = "status", status = 503 }
    local c = H.client()
    emu.clear_requests()
    local ids = H.listing(c, id, { page_size = 10 })
    assert.equal(30, H.distinct(ids))
    assert.equal(4, #docs_requests(id))
  end)

  it("has the next page travelling while the caller works through the current one", function()
    local id = H.job{ documents = 40 }
    emu.fault{ route = "documents", action = "latency", ms = 100, times = -1 }
    for _, pf in ipairs{ false, true } do
      local c = H.client{ prefetch = pf }
      local during = {}
      for doc in c:documents(id, { page_size = 10 }) do
        if doc.id then during[#during + 1] = c:stats().transfers end
      end
      assert.equal(40, #during)
      -- with prefetch, from the first document of page 1 to the last of page 3, page N+1
      -- travels; page 4 has no next link, so nothing does then
      assert.equal(pf and 1 or 0, during[1])
      assert.equal(pf and 1 or 0, during[30])
      assert.equal(0, during[31 + (pf and 9 or 0)])
    end
  end)

  it("is a usage error when not a boolean", function()
    local c = H.client()
    local ok, err = pcall(c.documents, c, "j", { prefetch = 1 })
    assert.is_false(ok)
    assert.equal("usage", U.of(err).kind) -- a string at the caller's line
    ok, err = pcall(H.client, { prefetch = "yes" })
    assert.is_false(ok)
    assert.equal("usage", U.of(err).kind) -- a string at the caller's line
  end)
end)
