-- c:jobs{}: the lazy job list with every filter, paging, both next-link spellings, continuation
-- and the listing's protocol checks, in both URL families; items are Job userdata.
local L = require "lifecycle.helper"
local U = require "support.usage"
local emu = L.emu

local WINDOW_START, WINDOW_END = "2001-02-03T00:00:00Z", "2001-02-04T00:00:00Z"

describe("c:jobs", function()
  local ok_ids, failed_ids, running_ids, all_ids = {}, {}, {}, {}

  local function make(status, n, created)
    local r = emu.create_job{ status = status, count = n, documents = 3, created = created }
    return r.ids
  end

  lazy_setup(function()
    emu.reset()
    -- 12 jobs in a window no other spec uses, 1 ms apart inside each batch
    ok_ids = make("Succeeded", 5, "2001-02-03T01:00:00Z")
    failed_ids = make("Failed", 4, "2001-02-03T02:00:00Z")
    running_ids = make("Running", 3, "2001-02-03T03:00:00Z")
    for _, list in ipairs({ ok_ids, failed_ids, running_ids }) do
      for _, id in ipairs(list) do all_ids[#all_ids + 1] = id end
    end
  end)
  lazy_teardown(function() emu.reset() end)
  after_each(function()
    emu.settings{ next_link = "@nextLink" }
    emu.clear_faults()
  end)

  local function ids_of(c, opts)
    local out = {}
    for job in c:jobs(opts) do
      assert.equals("doctranslate.Job", tostring(job):match("^(doctranslate%.Job):"))
      out[#out + 1] = job.id
    end
    return out
  end

  local function window(extra)
    local o = { created_after = WINDOW_START, created_before = WINDOW_END, order_by = "createdDateTimeUtc asc" }
    for k, v in pairs(extra or {}) do o[k] = v end
    return o
  end

  for _, v in ipairs(L.VERSIONS) do
    it("lists the jobs of a date window in order, page by page (" .. v .. ")", function()
      local c = L.client(v)
      local mark = L.mark()
      assert.same(all_ids, ids_of(c, window{ page_size = 5 }))
      local log = L.log("jobs", mark)
      assert.equals(3, #log) -- ceil(12 / 5)
      local first = log[1]
      if L.is_v1(v) then
        assert.equals("/translator/text/batch/" .. v .. "/batches", first.path)
        assert.matches("$maxpagesize=5", first.query, 1, true)
        assert.matches("$orderBy=createdDateTimeUtc%20asc", first.query, 1, true)
      else
        assert.equals("/translator/document/batches", first.path)
        assert.matches("maxpagesize=5", first.query, 1, true)
        assert.matches("orderby=createdDateTimeUtc%20asc", first.query, 1, true)
        assert.matches("api-version=" .. v, first.query, 1, true)
      end
      assert.matches("createdDateTimeUtcStart=2001-02-03T00%3A00%3A00Z", first.query, 1, true)
      assert.matches("createdDateTimeUtcEnd=2001-02-04T00%3A00%3A00Z", first.query, 1, true)
    end)
  end

  for _, v in ipairs({ "v1.0", "2026-03-01" }) do
    it("filters by status, ids, dates, order, top and skip (" .. v .. ")", function()
      local c = L.client(v)
      assert.same(failed_ids, ids_of(c, window{ statuses = { "Failed" } }))
      local fr = {}
      for _, id in ipairs(failed_ids) do fr[#fr + 1] = id end
      for _, id in ipairs(running_ids) do fr[#fr + 1] = id end
      assert.same(fr, ids_of(c, window{ statuses = { "Failed", "Running" }, page_size = 2 }))
      assert.same({ ok_ids[2], failed_ids[1] }, ids_of(c, window{ ids = { failed_ids[1], ok_ids[2] } }))
      -- created_before / created_after narrow the window; epoch numbers work too
      assert.same(ok_ids, ids_of(c, window{ created_before = "2001-02-03T01:30:00Z" }))
      assert.same(running_ids, ids_of(c, window{ created_after = L.dt.parse_date("2001-02-03T02:30:00Z") }))
      -- descending order
      local desc = ids_of(c, window{ order_by = "createdDateTimeUtc desc" })
      local rev = {}
      for i = #all_ids, 1, -1 do rev[#rev + 1] = all_ids[i] end
      assert.same(rev, desc)
      -- top and skip across pages
      assert.same({ all_ids[4], all_ids[5], all_ids[6], all_ids[7], all_ids[8] },
        ids_of(c, window{ skip = 3, top = 5, page_size = 2 }))
      assert.same({}, ids_of(c, window{ top = 0 }))
      assert.same({}, ids_of(c, window{ skip = 12 }))
      -- a job of the list is a full Job: refresh and documents work
      local pages = c:jobs(window{ top = 1 })
      local page = assert(pages:next_page())
      local job = page[1]
      assert.equals(all_ids[1], job.id)
      assert.equals("Succeeded", job.status)
      assert.equals(job, job:refresh())
      local docs = 0
      for _ in job:documents() do docs = docs + 1 end
      assert.equals(3, docs)
    end)
  end

  for _, style in ipairs({ "@nextLink", "nextLink", "relative", "nextLink,relative", "null" }) do
    it("follows the " .. style .. " next-link style", function()
      emu.settings{ next_link = style }
      for _, v in ipairs({ "v1.1", "2024-05-01" }) do
        local c = L.client(v)
        local mark = L.mark()
        assert.same(all_ids, ids_of(c, window{ page_size = 4 }))
        assert.equals(3, #L.log("jobs", mark))
      end
    end)
  end

  it("resumes with a continuation token and rejects a documents token", function()
    local c = L.client("2024-05-01")
    local pages = c:jobs(window{ page_size = 5 })
    local first = assert(pages:next_page())
    assert.equals(5, #first)
    local token = pages:continuation()
    assert.matches("^dt1:jobs=1", token)
    pages:close()
    local rest = ids_of(c, { continuation = token })
    assert.same({ table.unpack(all_ids, 6) }, rest)
    local ok, err = pcall(function() return c:jobs{ continuation = "dt1:job=abc&skip=0" } end)
    assert.is_false(ok)
    assert.matches("continuation", U.of(err).message)
    local docs_token = c:documents(all_ids[1]):continuation()
    assert.has_error(function() c:jobs{ continuation = docs_token } end)
    assert.has_error(function() c:documents(all_ids[1], { continuation = token }) end)
  end)

  it("ends with a protocol error on a looping next link and on a repeated job", function()
    local c = L.client("2026-03-01")
    emu.fault{ route = "jobs", action = "loop_next" }
    local ok, err = U.loop(c:jobs(window{ page_size = 5 }))
    assert.is_false(ok)
    assert.equals("protocol", err.kind)
    emu.clear_faults()
    emu.fault{ route = "jobs", action = "repeat_doc", page = 2 }
    local pages = c:jobs(window{ page_size = 5 })
    assert.equals(5, #assert(pages:next_page()))
    local seen = 0
    local page, e2 = pages:next_page()
    while page do
      seen = seen + #page
      page, e2 = pages:next_page()
    end
    assert.equals("protocol", e2.kind)
    assert.matches("job", e2.message)
    assert.equals(0, seen) -- nothing of the page that repeats is handed out
  end)

  it("checks its options like documents", function()
    local c = L.client("v1.1")
    for _, bad in ipairs({ { page_size = 0 }, { colour = 1 }, { top = -1 }, { order_by = "id" }, { statuses = {} } }) do
      local ok, err = pcall(c.jobs, c, bad)
      assert.is_false(ok)
      assert.equal("usage", U.of(err).kind) -- a string at the caller's line
    end
  end)

  it("works through a Lua transport (next_request / feed)", function()
    local c = L.client("2024-11-01-preview")
    local pages = c:jobs(window{ page_size = 5 })
    local got = {}
    while true do
      L.drive(pages)
      local page = pages:next_page()
      if not page then break end
      for _, j in ipairs(page) do got[#got + 1] = j.id end
    end
    assert.same(all_ids, got)
  end)
end)
