-- Paging of the document and job lists: top, skip, maxpagesize, next links and their styles.
local cjson = require "cjson"
local emu = require "support.emulator"

local function get_json(path, headers)
  local status, h, body = emu.get(path, headers)
  assert(status, h)
  local ok, decoded = pcall(cjson.decode, body)
  return status, ok and decoded or nil, body, h
end

-- Follows next links (either key) from a first URL; returns every item and every page.
local function collect(first, max_pages)
  local items, pages, url = {}, {}, first
  while url do
    local status, page = get_json(url)
    assert.equal(200, status)
    pages[#pages + 1] = page
    for _, it in ipairs(page.value) do items[#items + 1] = it end
    url = page["@nextLink"] or page.nextLink
    if url == cjson.null then url = nil end
    assert.is_true(#pages <= (max_pages or 1000), "too many pages")
  end
  return items, pages
end

describe("emulator paging", function()
  -- leave no jobs, faults or settings behind for the spec files that follow
  teardown(function() emu.reset() end)

  local job, docs_path
  local N = 237

  setup(function()
    emu.reset()
    job = emu.create_job({ documents = N, fail_every = 5 })
    docs_path = "/translator/document/batches/" .. job.id .. "/documents"
  end)

  local function q(params) return docs_path .. "?" .. params .. "&api-version=2024-05-01" end

  it("lists every document exactly once with the default page size of 50", function()
    local items, pages = collect(q("x=1"))
    assert.equal(N, #items)
    assert.equal(5, #pages)
    assert.equal(50, #pages[1].value)
    assert.equal(37, #pages[5].value)
    assert.is_nil(pages[5]["@nextLink"])
    local seen = {}
    for k, d in ipairs(items) do
      assert.is_nil(seen[d.id])
      seen[d.id] = true
      if k > 1 then assert.is_true(emu.ticks(d.createdDateTimeUtc) < emu.ticks(items[k - 1].createdDateTimeUtc)) end
    end
    -- default order: newest first, so the last document created comes first
    assert.equal(job._emulator.last_document_id, items[1].id)
    assert.equal(job._emulator.first_document_id, items[N].id)
  end)

  it("pages of 1 and of 100", function()
    local _, p1 = get_json(q("maxpagesize=1"))
    assert.equal(1, #p1.value)
    assert.equal(emu.http .. docs_path .. "?skip=1&top=236&maxpagesize=1&api-version=2024-05-01", p1["@nextLink"])
    local items, pages = collect(q("maxpagesize=100"))
    assert.equal(N, #items)
    assert.same({ 100, 100, 37 }, { #pages[1].value, #pages[2].value, #pages[3].value })
  end)

  it("applies skip before top and counts top across pages", function()
    local items, pages = collect(q("skip=10&top=25&maxpagesize=10"))
    assert.equal(25, #items)
    assert.equal(3, #pages)
    local all = collect(q("maxpagesize=100"))
    for k = 1, 25 do assert.equal(all[10 + k].id, items[k].id) end
    assert.equal(emu.http .. docs_path .. "?skip=20&top=15&maxpagesize=10&api-version=2024-05-01",
      pages[1]["@nextLink"])
  end)

  it("answers empty pages for top=0 and skip or top past the end", function()
    for _, params in ipairs({ "top=0", "skip=237", "skip=100000", "skip=2147483647" }) do
      local status, page = get_json(q(params))
      assert.equal(200, status)
      assert.same({}, page.value)
      assert.is_nil(page["@nextLink"])
    end
    local items = collect(q("skip=230&top=100"))
    assert.equal(7, #items)
    items = collect(q("top=100000&maxpagesize=100"))
    assert.equal(N, #items)
  end)

  it("rejects out-of-range and malformed paging values naming the parameter", function()
    for _, case in ipairs({ { "maxpagesize=0", "maxpagesize" }, { "maxpagesize=101", "maxpagesize" },
                            { "top=-1", "top" }, { "skip=-5", "skip" }, { "top=abc", "top" },
                            { "skip=1.5", "skip" }, { "top=2147483648", "top" }, { "$maxpagesize=500", "$maxpagesize" },
                            { "top=1&top=2", "top" }, { "top", "top" } }) do
      local status, e = get_json(q(case[1]))
      assert.equal(400, status, case[1])
      assert.equal("InvalidArgument", e.error.code)
      assert.equal(case[2], e.error.target)
      assert.truthy(e.error.message:find(case[2], 1, true))
    end
  end)

  it("accepts the $ spellings in 2024+ and answers with plain names", function()
    local _, page = get_json(q("$top=5&$skip=3&$maxpagesize=2"))
    assert.equal(2, #page.value)
    assert.equal(emu.http .. docs_path .. "?skip=5&top=3&maxpagesize=2&api-version=2024-05-01", page["@nextLink"])
    local status = get_json(q("top=5&$top=5"))
    assert.equal(200, status)
    status = get_json(q("top=5&$top=6"))
    assert.equal(400, status)
  end)

  it("rejects plain paging names in v1.x", function()
    local base = "/translator/text/batch/v1.0/batches/" .. job.id .. "/documents"
    for _, name in ipairs({ "top=1", "skip=1", "maxpagesize=1", "orderby=createdDateTimeUtc" }) do
      local status, e = get_json(base .. "?" .. name)
      assert.equal(400, status)
      assert.equal("InvalidArgument", e.error.code)
      assert.equal(name:match("^[^=]+"), e.error.target)
    end
    local _, page = get_json(base .. "?$top=4&$skip=1&$maxpagesize=3")
    assert.equal(emu.http .. base .. "?$skip=4&$top=1&$maxpagesize=3", page["@nextLink"])
  end)

  it("keeps the filters and the order in the next link", function()
    local _, page = get_json(q("statuses=Failed&orderby=createdDateTimeUtc%20asc&maxpagesize=3"))
    assert.equal(emu.http .. docs_path ..
      "?skip=3&top=44&maxpagesize=3&statuses=Failed&orderby=createdDateTimeUtc%20asc&api-version=2024-05-01",
      page["@nextLink"])
    local items = collect(q("statuses=Failed&orderby=createdDateTimeUtc%20asc&maxpagesize=3"))
    assert.equal(47, #items)
    for k, d in ipairs(items) do
      assert.equal("Failed", d.status)
      if k > 1 then assert.is_true(emu.ticks(d.createdDateTimeUtc) > emu.ticks(items[k - 1].createdDateTimeUtc)) end
    end
  end)

  it("builds absolute links from the request's Host header", function()
    local _, page = get_json(q("maxpagesize=2"), { Host = "example.test:1234" })
    assert.equal("http://example.test:1234" .. docs_path .. "?skip=2&top=235&maxpagesize=2&api-version=2024-05-01",
      page["@nextLink"])
  end)

  describe("next-link styles", function()
    local function first_page(style)
      local j = emu.create_job({ documents = 5, next_link = style })
      local path = "/translator/document/batches/" .. j.id .. "/documents?maxpagesize=2&api-version=2024-05-01"
      local _, page, raw = get_json(path)
      local _, last, raw_last = get_json("/translator/document/batches/" .. j.id ..
        "/documents?skip=4&maxpagesize=2&api-version=2024-05-01")
      return page, raw, last, raw_last, j
    end

    it("@nextLink by default, absent on the last page", function()
      local page, _, last, raw_last = first_page(nil)
      assert.is_string(page["@nextLink"])
      assert.is_nil(page.nextLink)
      assert.is_nil(last["@nextLink"])
      assert.is_nil(raw_last:find("nextLink", 1, true))
    end)

    it("nextLink", function()
      local page = first_page("nextLink")
      assert.is_string(page.nextLink)
      assert.is_nil(page["@nextLink"])
    end)

    it("both", function()
      local page = first_page("both")
      assert.is_string(page.nextLink)
      assert.equal(page.nextLink, page["@nextLink"])
    end)

    it("relative", function()
      local page, _, _, _, j = first_page("relative")
      assert.equal("/translator/document/batches/" .. j.id ..
        "/documents?skip=2&top=3&maxpagesize=2&api-version=2024-05-01", page["@nextLink"])
    end)

    it("null on the last page", function()
      local _, _, last, raw_last = first_page("nextLink,null")
      assert.equal(cjson.null, last.nextLink)
      assert.truthy(raw_last:find('"nextLink":null', 1, true))
    end)

    it("a server setting applies to jobs without their own style", function()
      emu.settings({ next_link = "nextLink" })
      local _, page = get_json(q("maxpagesize=2"))
      emu.settings({ next_link = cjson.null })
      assert.is_string(page.nextLink)
      assert.is_nil(page["@nextLink"])
      local _, jobs = get_json("/translator/document/batches?maxpagesize=1&api-version=2024-05-01")
      assert.is_string(jobs["@nextLink"])
    end)

    it("rejects an unknown style", function()
      assert.has_error(function() emu.create_job({ next_link = "sideways" }) end)
      assert.has_error(function() emu.settings({ next_link = "sideways" }) end)
    end)
  end)

  describe("job list", function()
    it("pages through every job with the server's top in the link", function()
      emu.reset()
      local ids = {}
      for k = 1, 7 do ids[k] = emu.create_job({ documents = k }).id end
      local _, page = get_json("/translator/text/batch/v1.0/batches?$maxpagesize=2")
      local total = #page.value
      -- fixtures are listed too
      local items = collect("/translator/text/batch/v1.0/batches?$maxpagesize=2")
      assert.is_true(#items >= 7)
      assert.equal(2, total)
      assert.equal(emu.http .. "/translator/text/batch/v1.0/batches?$skip=2&$top=" .. (#items - 2) ..
        "&$maxpagesize=2", page["@nextLink"])
      local pos = {}
      for k, j in ipairs(items) do pos[j.id] = k end
      for k = 1, 6 do assert.is_true(pos[ids[k]] > pos[ids[k + 1]]) end
    end)
  end)

  describe("a million documents", function()
    it("serves any page of it exactly", function()
      local big = emu.create_job({ documents = 1000000, fail_every = 7 })
      local path = "/translator/document/batches/" .. big.id .. "/documents"
      local _, page = get_json(path .. "?skip=999950&maxpagesize=100&api-version=2024-05-01")
      assert.equal(50, #page.value)
      assert.is_nil(page["@nextLink"])
      assert.equal(big._emulator.first_document_id, page.value[50].id)
      local _, failed = get_json(path .. "?statuses=Failed&orderby=createdDateTimeUtc%20asc&skip=142856" ..
        "&api-version=2024-05-01")
      assert.equal(1, #failed.value)
      -- the 142857th failure is index 999998 (every 7th document fails)
      assert.equal(string.format("%08x", 999998), failed.value[1].id:sub(1, 8))
      local _, ok = get_json(path .. "?statuses=Succeeded&orderby=createdDateTimeUtc%20asc&skip=6&top=2" ..
        "&api-version=2024-05-01")
      -- succeeded indexes: 0..5, 7..12, ...: the 7th and 8th are 7 and 8
      assert.equal("00000007", ok.value[1].id:sub(1, 8))
      assert.equal("00000008", ok.value[2].id:sub(1, 8))
    end)
  end)
end)
