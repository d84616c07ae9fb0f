-- Filters and order of the document and job lists, checked against the full unfiltered listing.
local cjson = require "cjson"
local emu = require "support.emulator"

local function get_json(path)
  local status, h, body = emu.get(path)
  assert(status, h)
  local ok, decoded = pcall(cjson.decode, body)
  return status, ok and decoded or nil, body
end

local function collect(first)
  local items, url, pages = {}, first, 0
  while url do
    local status, page = get_json(url)
    assert.equal(200, status, url)
    for _, it in ipairs(page.value) do items[#items + 1] = it end
    url = page["@nextLink"]
    pages = pages + 1
    assert.is_true(pages < 500)
  end
  return items
end

local function ids_of(list)
  local out = {}
  for k, d in ipairs(list) do out[k] = d.id end
  return out
end

local function where(list, pred)
  local out = {}
  for _, d in ipairs(list) do
    if pred(d) then out[#out + 1] = d end
  end
  return out
end

local function reversed(list)
  local out = {}
  for k = #list, 1, -1 do out[#out + 1] = list[k] end
  return out
end

-- Ascending by lastActionDateTimeUtc, ties by creation.
local function by_last_action(list)
  local out = { (table.unpack or unpack)(list) } -- unpack: Lua 5.1 and LuaJIT
  table.sort(out, function(a, b)
    local la, lb = emu.ticks(a.lastActionDateTimeUtc), emu.ticks(b.lastActionDateTimeUtc)
    if la ~= lb then return la < lb end
    return emu.ticks(a.createdDateTimeUtc) < emu.ticks(b.createdDateTimeUtc)
  end)
  return out
end

describe("emulator filters", function()
  -- leave no jobs, faults or settings behind for the spec files that follow
  teardown(function() emu.reset() end)

  local jobs = {}

  setup(function()
    emu.reset()
    jobs.succeeded = emu.create_job({ documents = 120, fail_every = 4 })
    jobs.running = emu.create_job({ documents = 60, fail_every = 3, status = "Running", parallel = 4 })
    jobs.cancelled = emu.create_job({ documents = 40, fail_every = 5, status = "Cancelled", parallel = 2 })
    jobs.notstarted = emu.create_job({ documents = 8, status = "NotStarted" })
  end)

  for _, name in ipairs({ "succeeded", "running", "cancelled", "notstarted" }) do
    describe("a " .. name .. " job", function()
      local path, full

      local function q(params)
        return path .. "?" .. params .. "&maxpagesize=100&api-version=2024-05-01"
      end

      setup(function()
        path = "/translator/document/batches/" .. jobs[name].id .. "/documents"
        full = collect(q("x=1"))
      end)

      it("holds documents consistent with the job's summary", function()
        local _, j = get_json("/translator/document/batches/" .. jobs[name].id .. "?api-version=2024-05-01")
        local count = {}
        for _, d in ipairs(full) do count[d.status] = (count[d.status] or 0) + 1 end
        assert.equal(j.summary.total, #full)
        assert.equal(j.summary.success, count.Succeeded or 0)
        assert.equal(j.summary.failed, count.Failed or 0)
        assert.equal(j.summary.inProgress, count.Running or 0)
        assert.equal(j.summary.notYetStarted, count.NotStarted or 0)
        assert.equal(j.summary.cancelled, count.Cancelled or 0)
        local chars = 0
        for _, d in ipairs(full) do chars = chars + d.characterCharged end
        assert.equal(j.summary.totalCharacterCharged, chars)
      end)

      it("filters by every status and set of statuses, comma-separated or repeated", function()
        local sets = { { "Succeeded" }, { "Failed" }, { "Running" }, { "NotStarted" }, { "Cancelled" },
                       { "Succeeded", "Failed" }, { "Running", "NotStarted", "Failed" }, { "Cancelling" },
                       { "ValidationFailed" } }
        for _, set in ipairs(sets) do
          local want = {}
          for _, s in ipairs(set) do want[s] = true end
          local expected = ids_of(where(full, function(d) return want[d.status] end))
          assert.same(expected, ids_of(collect(q("statuses=" .. table.concat(set, ",")))))
          local rep = {}
          for _, s in ipairs(set) do rep[#rep + 1] = "statuses=" .. s end
          assert.same(expected, ids_of(collect(q(table.concat(rep, "&")))))
        end
        -- Canceled is the seeds' spelling of Cancelled; case does not matter
        assert.same(ids_of(where(full, function(d) return d.status == "Cancelled" end)),
          ids_of(collect(q("statuses=Canceled"))))
        assert.same(ids_of(where(full, function(d) return d.status == "Succeeded" end)),
          ids_of(collect(q("statuses=succeeded"))))
      end)

      it("orders by creation and by last action, both directions", function()
        assert.same(ids_of(reversed(full)), ids_of(collect(q("orderby=createdDateTimeUtc%20asc"))))
        assert.same(ids_of(full), ids_of(collect(q("orderby=createdDateTimeUtc+desc"))))
        assert.same(ids_of(reversed(full)), ids_of(collect(q("orderby=createdDateTimeUtc"))))
        local la = by_last_action(full)
        assert.same(ids_of(la), ids_of(collect(q("orderby=lastActionDateTimeUtc%20asc"))))
        assert.same(ids_of(reversed(la)), ids_of(collect(q("$orderBy=LastActionDateTimeUtc%20DESC"))))
      end)

      it("filters by a created date range, inclusive", function()
        if #full < 10 then return end
        local asc = reversed(full)
        local lo, hi = asc[3].createdDateTimeUtc, asc[#asc - 4].createdDateTimeUtc
        local expected = where(full, function(d)
          local t = emu.ticks(d.createdDateTimeUtc)
          return t >= emu.ticks(lo) and t <= emu.ticks(hi)
        end)
        assert.equal(#full - 6, #expected)
        assert.same(ids_of(expected), ids_of(collect(q("createdDateTimeUtcStart=" .. lo .. "&createdDateTimeUtcEnd=" ..
          hi))))
        assert.same(ids_of(where(full, function(d) return emu.ticks(d.createdDateTimeUtc) >= emu.ticks(lo) end)),
          ids_of(collect(q("createdDateTimeUtcStart=" .. lo))))
        -- an offset means the same instant
        local hi_ticks = emu.ticks(hi) -- whole seconds without // (a syntax error before Lua 5.3)
        local t = (hi_ticks - hi_ticks % 10000000) / 10000000
        local shifted = os.date("!%Y-%m-%dT%H:%M:%S", t + 3600) .. hi:match("(%.%d+)Z$") .. "+01:00"
        assert.same(ids_of(where(full, function(d) return emu.ticks(d.createdDateTimeUtc) <= emu.ticks(hi) end)),
          ids_of(collect(q("createdDateTimeUtcEnd=" .. shifted:gsub("+", "%%2B")))))
      end)

      it("filters by ids, ignoring ids of other jobs and unknown ones", function()
        local picks, other = {}, jobs.notstarted._emulator.first_document_id
        for k = 1, #full, 3 do picks[#picks + 1] = full[k].id end
        if name == "notstarted" then other = jobs.succeeded._emulator.first_document_id end
        local list = table.concat(picks, ",") .. "," .. other .. ",11111111-2222-4333-8444-555555555555"
        assert.same(picks, ids_of(collect(q("ids=" .. list))))
        assert.same(reversed(picks), ids_of(collect(q("ids=" .. list .. "&orderby=createdDateTimeUtc%20asc"))))
      end)

      it("combines filters, order, skip and top", function()
        local want = { Succeeded = true, NotStarted = true, Cancelled = true }
        local expected = where(reversed(full), function(d) return want[d.status] end)
        local page = {}
        for k = 3, math.min(#expected, 3 + 9) do page[#page + 1] = expected[k] end
        local status, got = get_json(path .. "?statuses=Succeeded,NotStarted,Cancelled" ..
          "&orderby=createdDateTimeUtc%20asc&skip=2&top=10&maxpagesize=4&api-version=2026-03-01")
        assert.equal(200, status)
        local items = ids_of(got.value)
        for _, d in ipairs(collect(got["@nextLink"] or "")) do items[#items + 1] = d.id end
        assert.same(ids_of(page), items)
      end)
    end)
  end

  it("reproduces the recorded mixed-filter request of v1.0", function()
    local j = jobs.succeeded
    local base = "/translator/text/batch/v1.0/batches/" .. j.id .. "/documents"
    local _, all = get_json(base .. "?$orderBy=createdDateTimeUtc%20asc&$maxpagesize=100")
    -- five ids, one of them Failed (index 3 with fail_every = 4)
    local five = { all.value[2].id, all.value[3].id, all.value[4].id, all.value[5].id, all.value[6].id }
    local _, page = get_json(base .. "?$skip=1&$maxpagesize=50&ids=" .. table.concat(five, ",") ..
      "&statuses=Succeeded&$orderBy=createdDateTimeUtc%20asc")
    assert.same({ all.value[3].id, all.value[5].id, all.value[6].id }, ids_of(page.value))
  end)

  describe("bad filter values", function()
    local base

    setup(function()
      base = "/translator/text/batch/v1.0/batches/" .. jobs.succeeded.id .. "/documents"
    end)

    local function bad(path, target)
      local status, e = get_json(path)
      assert.equal(400, status, path)
      assert.equal("InvalidArgument", e.error.code)
      assert.equal(target, e.error.target)
      assert.is_string(e.error.innerError.code)
      return e
    end

    it("rejects unknown statuses, naming them", function()
      local e = bad(base .. "?statuses=Succeeded,Done", "statuses")
      assert.truthy(e.error.message:find("Done", 1, true))
    end)

    it("limits v1.x to 5 statuses and 25 ids, not 2024+", function()
      bad(base .. "?statuses=Succeeded,Failed,Running,NotStarted,Cancelled,Cancelling", "statuses")
      local ids = {}
      for k = 1, 26 do ids[k] = string.format("%08x-0000-0000-0000-000000000000", k) end
      bad(base .. "?ids=" .. table.concat(ids, ","), "ids")
      local path2024 = "/translator/document/batches/" .. jobs.succeeded.id .. "/documents?api-version=2024-05-01"
      assert.equal(200, (get_json(path2024 .. "&ids=" .. table.concat(ids, ","))))
      assert.equal(200, (get_json(path2024 .. "&statuses=Succeeded,Failed,Running,NotStarted,Cancelled,Cancelling")))
      -- and a single orderBy item in v1.x
      bad(base .. "?$orderBy=createdDateTimeUtc%20asc,lastActionDateTimeUtc%20desc", "$orderBy")
    end)

    it("rejects ids that are not GUIDs", function()
      local e = bad(base .. "?ids=12345", "ids")
      assert.truthy(e.error.message:find("12345", 1, true))
    end)

    it("rejects bad dates", function()
      for _, d in ipairs({ "yesterday", "2024-13-01T00:00:00Z", "2024-02-30", "2024-01-01T25:00:00Z",
                           "2024-01-01T00:00:00.12345678Z", "2024-01-01T00:00:00+0x:00" }) do
        bad(base .. "?createdDateTimeUtcStart=" .. d, "createdDateTimeUtcStart")
        bad(base .. "?createdDateTimeUtcEnd=" .. d, "createdDateTimeUtcEnd")
      end
    end)

    it("rejects bad order fields and directions", function()
      bad(base .. "?$orderBy=id%20asc", "$orderBy")
      bad(base .. "?$orderBy=createdDateTimeUtc%20up", "$orderBy")
      bad("/translator/document/batches/" .. jobs.succeeded.id .. "/documents?api-version=2024-05-01&orderby=status",
        "orderby")
    end)
  end)

  describe("the job list", function()
    it("filters jobs by status, ids and creation date and orders them", function()
      local full = collect("/translator/document/batches?maxpagesize=100&api-version=2024-05-01")
      assert.is_true(#full >= 4)
      local pos = {}
      for k, j in ipairs(full) do pos[j.id] = k end
      assert.is_true(pos[jobs.notstarted.id] < pos[jobs.succeeded.id])
      local running = collect("/translator/document/batches?statuses=Running&api-version=2024-05-01")
      assert.same(ids_of(where(full, function(j) return j.status == "Running" end)), ids_of(running))
      assert.is_true(#running >= 1)
      local two = collect("/translator/text/batch/v1.1/batches?ids=" .. jobs.running.id .. "," ..
        jobs.cancelled.id .. "&$orderBy=createdDateTimeUtc%20asc")
      assert.same({ jobs.running.id, jobs.cancelled.id }, ids_of(two))
      local since = collect("/translator/text/batch/v1.0/batches?createdDateTimeUtcStart=" ..
        jobs.running.createdDateTimeUtc)
      assert.same({ jobs.notstarted.id, jobs.cancelled.id, jobs.running.id }, ids_of(since))
      local la = collect("/translator/document/batches?orderby=lastActionDateTimeUtc%20desc&api-version=2024-05-01")
      for k = 2, #la do
        assert.is_true(emu.ticks(la[k - 1].lastActionDateTimeUtc) >= emu.ticks(la[k].lastActionDateTimeUtc))
      end
    end)
  end)
end)
