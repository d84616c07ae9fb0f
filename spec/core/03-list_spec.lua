-- Lazy listing: page sizes, top/skip, filters, order, next-link spellings, request counts.
local H = require "core.helper"
local emu = H.emu

local function docs_requests(id)
  return H.requests("/batches/" .. id .. "/documents")
end

describe("c:documents", function()
  before_each(function() emu.reset() end)

  it("is lazy: no request before the first document, and no job lookup", function()
    local id = H.job{ documents = 5 }
    local c = H.client()
    emu.clear_requests()
    local pages = c:documents(id, { page_size = 2, prefetch = false })
    assert.equal(0, #H.requests())
    local doc = pages()
    assert.is_not_nil(doc)
    local reqs = H.requests()
    assert.equal(1, #reqs)
    assert.truthy((reqs[1].path or reqs[1].uri):find("/documents", 1, true))
    pages:close()
  end)

  it("prefetches at most one page ahead", function()
    local id = H.job{ documents = 5 }
    local c = H.client()
    emu.clear_requests()
    local pages = c:documents(id, { page_size = 2 })
    assert.equal(0, #H.requests())
    assert.is_not_nil(pages())
    assert.is_true(#H.requests() <= 2)
    pages:close()
  end)

  for _, ps in ipairs{ 1, 50, 100 } do
    it("lists every document once at page size " .. ps .. " in ceil(n/p) requests", function()
      local n = ps == 1 and 7 or 230
      local id = H.job{ documents = n }
      local c = H.client{ api_version = "2024-05-01" }
      emu.clear_requests()
      local ids = H.listing(c, id, { page_size = ps })
      assert.equal(n, #ids)
      assert.equal(n, H.distinct(ids))
      assert.equal(math.ceil(n / ps), #docs_requests(id))
    end)
  end

  it("costs one request for an empty listing", function()
    local id = H.job{ documents = 4, fail_every = 0 }
    local c = H.client()
    emu.clear_requests()
    local ids = H.listing(c, id, { statuses = { "Cancelled" } })
    assert.equal(0, #ids)
    assert.equal(1, #docs_requests(id))
  end)

  it("lists 1,000 documents in 10 requests over one connection", function()
    local id = H.job{ documents = 1000 }
    local c = H.client()
    emu.clear_requests()
    local ids = H.listing(c, id, { page_size = 100 })
    assert.equal(1000, #ids)
    assert.equal(1000, H.distinct(ids))
    local reqs = docs_requests(id)
    assert.equal(10, #reqs)
    local conns = {}
    for _, r in ipairs(reqs) do conns[#conns + 1] = tostring(H.connection(r)) end
    assert.equal(1, H.distinct(conns))
    assert.equal(1, c:stats().connections)
    assert.equal(10, c:stats().requests)
  end)

  describe("top and skip", function()
    local id, all
    before_each(function()
      id = H.job{ documents = 120 }
      all = H.listing(H.client(), id, { page_size = 100 })
      assert.equal(120, #all)
    end)

    local function check(opts, first, count, requests)
      local c = H.client()
      emu.clear_requests()
      local ids = H.listing(c, id, opts)
      assert.equal(count, #ids)
      for i = 1, count do assert.equal(all[first + i - 1], ids[i]) end
      if requests then assert.equal(requests, #docs_requests(id)) end
    end

    it("top = 0 makes no request", function() check({ top = 0 }, 1, 0, 0) end)
    it("top = 1", function() check({ top = 1, page_size = 50 }, 1, 1, 1) end)
    it("top = page size", function() check({ top = 50, page_size = 50 }, 1, 50, 1) end)
    it("top = page size + 1", function() check({ top = 51, page_size = 50 }, 1, 51, 2) end)
    it("top = n", function() check({ top = 120, page_size = 50 }, 1, 120, 3) end)
    it("top > n", function() check({ top = 500, page_size = 50 }, 1, 120) end)
    it("skip = 1", function() check({ skip = 1, page_size = 50 }, 2, 119, 3) end)
    it("skip = n - 1", function() check({ skip = 119 }, 120, 1, 1) end)
    it("skip = n", function() check({ skip = 120 }, 121, 0, 1) end)
    it("skip and top across a page boundary", function() check({ skip = 45, top = 10, page_size = 50 }, 46, 10) end)
    it("skip and top on v1.1", function()
      local c = H.client{ api_version = "v1.1" }
      local ids = H.listing(c, id, { skip = 45, top = 10, page_size = 7 })
      assert.equal(10, #ids)
      for i = 1, 10 do assert.equal(all[45 + i], ids[i]) end
    end)
  end)

  describe("filters and order", function()
    local id, docs
    before_each(function()
      id = H.job{ documents = 40, fail_every = 4 }
      local _, d = H.listing(H.client(), id, { page_size = 100 })
      docs = d
    end)

    for _, version in ipairs{ "v1.1", "2024-05-01", "2026-03-01" } do
      it("statuses with " .. version, function()
        local want = 0
        for _, d in ipairs(docs) do if d.status == "Failed" then want = want + 1 end end
        assert.truthy(want > 0)
        local ids, got = H.listing(H.client{ api_version = version }, id, { statuses = { "Failed" }, page_size = 3 })
        assert.equal(want, #ids)
        for _, d in ipairs(got) do assert.equal("Failed", d.status) end
        local both = H.listing(H.client{ api_version = version }, id, { statuses = { "Failed", "Succeeded" } })
        assert.equal(#docs, #both)
      end)

      it("ids with " .. version, function()
        local pick = { docs[3].id, docs[17].id, docs[29].id }
        local ids = H.listing(H.client{ api_version = version }, id, { ids = pick })
        table.sort(pick)
        table.sort(ids)
        assert.same(pick, ids)
      end)

      it("order_by with " .. version, function()
        for _, spec in ipairs{ { "createdDateTimeUtc asc", "createdDateTimeUtc", 1 },
                               { "createdDateTimeUtc desc", "createdDateTimeUtc", -1 },
                               { "lastActionDateTimeUtc asc", "lastActionDateTimeUtc", 1 },
                               { "lastActionDateTimeUtc desc", "lastActionDateTimeUtc", -1 } } do
          local _, got = H.listing(H.client{ api_version = version }, id, { order_by = spec[1], page_size = 9 })
          assert.equal(#docs, #got)
          for i = 2, #got do
            local a, b = got[i - 1]:time(spec[2]), got[i]:time(spec[2])
            assert.truthy((b - a) * spec[3] >= 0, spec[1])
          end
        end
      end)
    end

    it("created_after and created_before (epoch numbers and strings)", function()
      local times = {}
      for _, d in ipairs(docs) do times[#times + 1] = d:time("createdDateTimeUtc") end
      table.sort(times)
      local mid = times[math.floor(#times / 2)]
      local c = H.client()
      local _, after = H.listing(c, id, { created_after = mid })
      local _, before = H.listing(c, id, { created_before = H.dt.format_date(mid) })
      assert.truthy(#after > 0 and #before > 0)
      for _, d in ipairs(after) do assert.truthy(d:time("createdDateTimeUtc") >= mid - 0.001) end
      for _, d in ipairs(before) do assert.truthy(d:time("createdDateTimeUtc") <= mid + 0.001) end
      assert.truthy(#after + #before >= #docs)
      local q = H.requests("createdDateTimeUtcStart=")
      assert.truthy(#q > 0)
    end)
  end)

  for _, mode in ipairs{ "@nextLink", "nextLink", "both", "relative", "null" } do
    it("follows next links spelt " .. mode, function()
      local id = H.job{ documents = 95, next_link = mode }
      for _, version in ipairs{ "v1.0", "2024-05-01" } do
        local c = H.client{ api_version = version }
        emu.clear_requests()
        local ids = H.listing(c, id, { page_size = 10 })
        assert.equal(95, #ids)
        assert.equal(95, H.distinct(ids))
        assert.equal(10, #docs_requests(id))
      end
    end)
  end

  it("sends the family's query names", function()
    local id = H.job{ documents = 3 }
    emu.clear_requests()
    local opts = { top = 2, skip = 1, page_size = 5, order_by = "createdDateTimeUtc asc" }
    H.listing(H.client{ api_version = "v1.1" }, id, opts)
    H.listing(H.client{ api_version = "2026-03-01" }, id, opts)
    local reqs = docs_requests(id)
    local function q(r)
      if type(r.query) == "table" then
        local parts = {}
        for k in pairs(r.query) do parts[#parts + 1] = k end
        return table.concat(parts, "&")
      end
      return r.query or r.args or ""
    end
    local first, second = q(reqs[1]), q(reqs[2])
    for _, name in ipairs{ "$top", "$skip", "$maxpagesize", "$orderBy" } do
      assert.truthy(first:find(name, 1, true), name)
    end
    for _, name in ipairs{ "top", "skip", "maxpagesize", "orderby", "api-version" } do
      assert.truthy(second:find(name, 1, true), name)
    end
    assert.falsy(second:find("$", 1, true))
  end)

  it("next_page hands whole pages with next_link", function()
    local id = H.job{ documents = 25 }
    local pages = H.client():documents(id, { page_size = 10 })
    local sizes, total = {}, 0
    while true do
      local page, err = pages:next_page()
      assert.is_nil(err)
      if not page then break end
      sizes[#sizes + 1] = #page
      total = total + #page
      if #sizes < 3 then assert.is_string(page.next_link) else assert.is_nil(page.next_link) end
    end
    assert.same({ 10, 10, 5 }, sizes)
    assert.equal(25, total)
    assert.is_nil(pages:next_page())
  end)

  it("releases on break (to-be-closed on 5.4) and on collection", function()
    local id = H.job{ documents = 30 }
    local c = H.client()
    local n = 0
    for _ in c:documents(id, { page_size = 5 }) do
      n = n + 1
      if n == 3 then break end
    end
    assert.equal(3, n)
    for _ = 1, 20 do
      local p = c:documents(id, { page_size = 5 })
      p()
    end
    collectgarbage()
    collectgarbage()
  end)
end)
