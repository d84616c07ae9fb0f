-- Parallel page windows: concurrency = n fetches several pages at once and still
-- yields the documents in exact order; only for an ended job with a known total, else the
-- listing runs sequentially and says so through the log.
local H = require "core.helper"
local U = require "support.usage"
local emu = H.emu

local function docs_requests(id)
  return H.requests("/batches/" .. id .. "/documents")
end

local function logged(c_opts)
  local lines = {}
  c_opts = c_opts or {}
  c_opts.log = function(level, message) lines[#lines + 1] = level .. ": " .. message end
  return H.client(c_opts), lines
end

local function find(lines, pattern)
  for _, l in ipairs(lines) do if l:find(pattern, 1, true) then return l end end
end

describe("concurrency = n", function()
  before_each(function() emu.reset() end)

  for _, case in ipairs{
    { n = 1000, opts = { page_size = 100 } },
    { n = 237, opts = { page_size = 20 } },
    { n = 237, opts = { page_size = 20, skip = 33, top = 150 } },
    { n = 237, opts = { page_size = 7, order_by = "createdDateTimeUtc desc" } },
    { n = 90, opts = { page_size = 100 } },
  } do
    local label = ("%d documents, %s"):format(case.n, require("cjson").encode(case.opts))
    it("yields the sequential listing's documents in its order (" .. label .. ")", function()
      local id = H.job{ documents = case.n }
      local want = H.listing(H.client(), id, case.opts)
      local c, lines = logged()
      local opts = { concurrency = 4 }
      for k, v in pairs(case.opts) do opts[k] = v end
      emu.clear_requests()
      local got = H.listing(c, id, opts)
      assert.same(want, got)
      assert.equal(#want, H.distinct(got))
      assert.is_nil(find(lines, "sequentially"))
      -- one job lookup, then each page once
      local ps = case.opts.page_size
      assert.equal(math.max(1, math.ceil(#want / ps)), #docs_requests(id))
      assert.equal(1, #H.requests("/batches/" .. id .. "?"))
    end)
  end

  it("keeps several pages in flight over a few kept-alive connections", function()
    local id = H.job{ documents = 400 }
    emu.fault{ route = "documents", action = "latency", ms = 100, times = -1 }
    local seq = H.listing(H.client(), id, { page_size = 50, prefetch = false })
    local c = H.client()
    local par, most = {}, 0
    for doc in c:documents(id, { page_size = 50, concurrency = 4 }) do
      par[#par + 1] = doc.id
      most = math.max(most, c:stats().transfers)
    end
    assert.same(seq, par)
    assert.equal(4, most)
    assert.is_true(c:stats().connections <= 5)
    assert.equal(0, c:stats().transfers)
  end)

  it("is also a client default", function()
    local id = H.job{ documents = 120 }
    local want = H.listing(H.client(), id, { page_size = 10 })
    local c = H.client{ concurrency = 3 }
    emu.clear_requests()
    assert.same(want, H.listing(c, id, { page_size = 10 }))
    assert.equal(1, #H.requests("/batches/" .. id .. "?"))
  end)

  it("falls back to a sequential listing for a running job, and says so", function()
    local id = H.job{ documents = 40, duration = 60 }
    local c, lines = logged()
    emu.clear_requests()
    local got = H.listing(c, id, { page_size = 10, concurrency = 4 })
    local want = H.listing(H.client(), id, { page_size = 10 })
    assert.equal(#want, #got)
    local line = find(lines, "runs sequentially")
    assert.truthy(line, table.concat(lines, "\n"))
    assert.truthy(line:find("not ended", 1, true))
    assert.truthy(line:find("concurrency 4", 1, true))
  end)

  it("falls back when filters make the count unknown, without a job lookup", function()
    local id = H.job{ documents = 40, fail_every = 3 }
    local c, lines = logged()
    emu.clear_requests()
    local got = H.listing(c, id, { page_size = 5, concurrency = 4, statuses = { "Failed" } })
    assert.same(H.listing(H.client(), id, { page_size = 5, statuses = { "Failed" } }), got)
    assert.truthy(find(lines, "filters make the number of documents unknown"))
    assert.equal(0, #H.requests("/batches/" .. id .. "?"))
  end)

  it("resumes from the continuation of a listing left early, and leaves nothing running", function()
    local id = H.job{ documents = 300 }
    local all = H.listing(H.client(), id, { page_size = 20 })
    local c = H.client()
    local got, pages = {}, c:documents(id, { page_size = 20, concurrency = 5 })
    for doc in pages do
      got[#got + 1] = doc.id
      if #got == 47 then break end
    end
    pages:close()
    assert.equal(0, c:stats().transfers)
    for doc in c:documents(id, { continuation = pages:continuation() }) do got[#got + 1] = doc.id end
    assert.same(all, got)
  end)

  it("fails at the same document, with the same continuation, as the sequential listing", function()
    local id = H.job{ documents = 100 }
    local results = {}
    for _, conc in ipairs{ 1, 4 } do
      emu.clear_faults()
      emu.fault{ route = "documents", page = 4, action = "status", status = 500, times = -1 }
      local c = H.client{ retries = 1 }
      local got, pages = {}, c:documents(id, { page_size = 10, concurrency = conc })
      local ok, err = U.loop(pages, function(doc) got[#got + 1] = doc.id end)
      assert.is_false(ok)
      assert.equal(500, err.status)
      results[#results + 1] = { got = got, token = pages:continuation() }
    end
    assert.equal(30, #results[2].got)
    assert.same(results[1].got, results[2].got)
    assert.equal(results[1].token, results[2].token)
  end)

  it("retries a window page that met a 429 like any page", function()
    local id = H.job{ documents = 100 }
    emu.fault{ route = "documents", page = 5, action = "status", status = 429, retry_after_ms = 50 }
    local c = H.client()
    local got = H.listing(c, id, { page_size = 10, concurrency = 4 })
    assert.same(H.listing(H.client(), id, { page_size = 10 }), got)
  end)

  it("asks for no page past max_pages", function()
    local id = H.job{ documents = 100 }
    local c = H.client{ max_pages = 3 }
    emu.clear_requests()
    local got = {}
    local ok, err = U.loop(c:documents(id, { page_size = 10, concurrency = 8 }), function(doc)
      got[#got + 1] = doc.id
    end)
    assert.is_false(ok)
    assert.equal("protocol", err.kind)
    assert.equal(30, #got)
    assert.equal(3, #docs_requests(id))
  end)

  it("rejects a bad value as a usage error", function()
    local c = H.client()
    for _, v in ipairs{ 0, 17, 2.5, "4" } do
      local ok, err = pcall(c.documents, c, "j", { concurrency = v })
      assert.is_false(ok)
      assert.equal("usage", U.of(err).kind) -- a string at the caller's line
    end
    local ok, err = pcall(H.client, { concurrency = 0 })
    assert.is_false(ok)
    assert.equal("usage", U.of(err).kind) -- a string at the caller's line
  end)
end)
