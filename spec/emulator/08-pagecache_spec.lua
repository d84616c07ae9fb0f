-- The page cache: pages of ended jobs served from the cache are byte for byte the pages the
-- emulator renders without it; pages of jobs that can still change are never cached.
-- (The emulator under test runs one worker: /_emulator/pagecache reports that worker's cache.)
local cjson = require "cjson"
local emu = require "support.emulator"

local function cache_info()
  local status, _, body = emu.request({ path = "/_emulator/pagecache", key = false })
  assert.equal(200, status)
  return cjson.decode(body)
end

-- status, body and ETag of one request (an absolute URL, or a path on the HTTP listener)
local function fetch(target, headers)
  local opts = { headers = headers }
  if target:match("^https?://") then opts.url = target else opts.path = target end
  local status, h, body = emu.request(opts)
  assert(status, h)
  return { status = status, body = body, etag = h.etag, retry = h["retry-after"], ctype = h["content-type"] }
end

-- Live jobs move on the emulator's clock, frozen by the specs that use one and advanced by hand.
local function frozen_clock()
  emu.freeze()
  finally(function() emu.freeze(false) end)
end
local advance = emu.advance

describe("emulator page cache", function()
  teardown(function() emu.reset() end)

  local ended, failed, cancelled, relative

  setup(function()
    emu.reset()
    ended = emu.create_job({ documents = 1000, fail_every = 7, languages = { "fr", "de" } }).id
    failed = emu.create_job({ documents = 30, status = "Failed" }).id
    cancelled = emu.create_job({ documents = 300, status = "Cancelled" }).id
    relative = emu.create_job({ documents = 120, next_link = "both,relative,null", extra_fields = true }).id
  end)

  -- Requests that shape pages in every way: versions, URL families, paging, filters, order,
  -- next-link styles, both listeners and another Host.
  local function targets()
    local v2 = "/translator/document/batches/"
    local v1 = "/translator/text/batch/v1.1/batches/"
    local list = {
      v2 .. ended .. "/documents?api-version=2024-05-01",
      v2 .. ended .. "/documents?api-version=2026-03-01&maxpagesize=100&skip=300",
      v2 .. ended .. "/documents?top=170&skip=20&maxpagesize=37&api-version=2024-11-01-preview",
      v2 .. ended .. "/documents?statuses=Failed,Succeeded&orderby=lastActionDateTimeUtc%20asc&api-version=2024-05-01",
      v2 .. ended .. "/documents?$skip=5&createdDateTimeUtcStart=2000-01-01&api-version=2024-05-01",
      v2 .. ended:upper() .. "/documents?api-version=2024-05-01&maxpagesize=3",
      v1 .. ended .. "/documents?$top=120&$skip=40&$maxpagesize=50",
      v1 .. ended .. "/documents?statuses=Failed&$orderBy=createdDateTimeUtc%20asc",
      "/translator/text/batch/v1.0/batches/" .. failed .. "/documents?$maxpagesize=7",
      v2 .. cancelled .. "/documents?statuses=Cancelled&maxpagesize=100&api-version=2024-05-01",
      v2 .. relative .. "/documents?maxpagesize=50&skip=100&api-version=2024-05-01",
      v2 .. relative .. "/documents?maxpagesize=50&api-version=2024-05-01",
      emu.https .. v2 .. ended .. "/documents?api-version=2024-05-01&maxpagesize=100&skip=900",
    }
    return list
  end

  it("serves pages byte-identical to the ones rendered with the cache off", function()
    emu.settings({ page_cache_mb = 0 })
    local before = cache_info()
    assert.equal(0, before.budget)
    local plain = {}
    for k, t in ipairs(targets()) do plain[k] = fetch(t) end
    plain.host = fetch(targets()[1], { Host = "localhost:1234" })
    local off = cache_info()
    assert.equal(0, off.pages)
    assert.equal(before.hits, off.hits)
    assert.equal(before.stored, off.stored)

    emu.settings({ page_cache_mb = cjson.null }) -- back to the default budget
    local on = cache_info()
    assert.is_true(on.budget > 0)
    assert.equal(0, on.pages)
    local n = #targets()
    for round = 1, 2 do
      for k, t in ipairs(targets()) do
        local got = fetch(t)
        assert.equal(200, plain[k].status, t)
        assert.equal(plain[k].status, got.status, t)
        assert.equal(plain[k].body, got.body, t)
        assert.equal(plain[k].etag, got.etag, t)
        assert.equal(plain[k].retry, got.retry, t)
        assert.equal(plain[k].ctype, got.ctype, t)
      end
      local info = cache_info()
      assert.equal(n, info.pages)
      assert.equal(on.stored + n, info.stored)
      assert.equal(on.hits + (round - 1) * n, info.hits)
    end
    -- the Host of the request is part of the page (absolute next links): a page of its own
    local other = fetch(targets()[1], { Host = "localhost:1234" })
    assert.equal(plain.host.body, other.body)
    assert.truthy(other.body:find("http://localhost:1234/", 1, true))
    assert.equal(n + 1, cache_info().pages)
  end)

  it("answers 304 to the ETag of a cached page", function()
    local t = targets()[2]
    local first = fetch(t)
    local again = fetch(t)
    assert.equal(first.body, again.body)
    local status = emu.request({ path = t, headers = { ["If-None-Match"] = again.etag } })
    assert.equal(304, status)
  end)

  it("never serves a job that is still running from the cache", function()
    frozen_clock()
    local live = emu.create_job({ documents = 8, duration = 2.5, parallel = 2 }).id
    local path = "/translator/document/batches/" .. live .. "/documents?api-version=2024-05-01"
    local before = cache_info()
    local bodies = {}
    for k = 1, 4 do
      bodies[k] = fetch(path).body
      advance(0.4)
    end
    local info = cache_info()
    assert.equal(before.stored, info.stored)
    assert.equal(before.hits, info.hits)
    assert.equal(before.pages, info.pages)
    assert.is_truthy(bodies[1]:find('"status":"NotStarted"', 1, true) or bodies[1]:find('"status":"Running"', 1, true))
    assert.are_not.equal(bodies[1], bodies[4]) -- the job progressed between the reads
    -- once it has ended, its pages are cached and equal the rendered ones
    advance(1.5)
    local ended_body = fetch(path).body
    assert.is_nil(ended_body:find('"status":"Running"', 1, true))
    assert.equal(before.stored + 1, cache_info().stored)
    assert.equal(ended_body, fetch(path).body)
    assert.equal(before.hits + 1, cache_info().hits)
  end)

  it("keeps a cancelled job out of the cache until it is Cancelled", function()
    frozen_clock()
    local job = emu.create_job({ documents = 40, duration = 20, parallel = 4, }).id
    local path = "/translator/document/batches/" .. job .. "/documents?api-version=2024-05-01&maxpagesize=100"
    advance(2.5)
    local running = fetch(path).body
    assert.truthy(running:find('"status":"Running"', 1, true) or running:find('"status":"Succeeded"', 1, true))
    advance(0.1) -- the documents move on between that read and the cancel
    local status = emu.request({ method = "DELETE", path = "/translator/document/batches/" .. job ..
      "?api-version=2024-05-01" })
    assert.equal(200, status)
    local before = cache_info()
    local cancelling = fetch(path).body
    assert.are_not.equal(running, cancelling)
    assert.equal(before.stored, cache_info().stored)
    advance(1.6) -- the cancel_delay setting: 1 s
    local done = fetch(path).body
    assert.truthy(done:find('"status":"Cancelled"', 1, true))
    assert.equal(done, fetch(path).body)
    local info = cache_info()
    assert.equal(before.stored + 1, info.stored)
    assert.is_true(info.hits >= before.hits + 1)
  end)

  it("is bypassed by faults and dropped when jobs or settings change", function()
    local t = targets()[1]
    local normal = fetch(t)
    assert.equal(normal.body, fetch(t).body)
    local before = cache_info()
    emu.fault({ route = "documents", action = "repeat_doc", page = 1 })
    local spoiled = fetch(t)
    assert.are_not.equal(normal.body, spoiled.body)
    assert.is_nil(spoiled.etag) -- as without the cache: no ETag on a fault's answer
    local after = cache_info()
    assert.equal(before.hits, after.hits)
    assert.equal(before.stored, after.stored)
    emu.clear_faults()
    assert.equal(normal.body, fetch(t).body)
    -- a setting that shapes pages: the job has no next-link style of its own
    emu.settings({ next_link = "nextLink" })
    local restyled = fetch(t)
    assert.truthy(restyled.body:find('"nextLink":', 1, true))
    assert.is_nil(restyled.body:find('"@nextLink":', 1, true))
    emu.settings({ next_link = cjson.null })
    assert.equal(normal.body, fetch(t).body)
    -- a deleted job's pages go with it
    local status = emu.request({ method = "DELETE", path = "/_emulator/jobs/" .. failed, key = false })
    assert.equal(200, status)
    assert.equal(404, fetch(targets()[9]).status)
  end)

  it("stays within its budget, dropping the least recently used pages", function()
    emu.settings({ page_cache_mb = 0.1 }) -- about two pages of 100 documents
    local base = "/translator/document/batches/" .. ended .. "/documents?api-version=2024-05-01&maxpagesize=100&skip="
    local first = fetch(base .. "0").body
    for skip = 100, 900, 100 do fetch(base .. skip) end
    local info = cache_info()
    assert.is_true(info.bytes <= info.budget)
    assert.is_true(info.pages >= 1 and info.pages < 10)
    assert.is_true(info.dropped >= 10 - info.pages)
    assert.equal(first, fetch(base .. "0").body)
    emu.settings({ page_cache_mb = cjson.null })
  end)

  it("refuses a budget that is not a number", function()
    assert.has_error(function() emu.settings({ page_cache_mb = "lots" }) end)
    assert.has_error(function() emu.settings({ page_cache_mb = -1 }) end)
  end)
end)
