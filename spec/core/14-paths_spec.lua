-- Public behaviour that reaches C paths no other spec enters (make coverage-c):
-- tostring of listings and operations in each state, the fallback of a `concurrency` listing
-- whose next link does not page by skip, and the job list.
local H = require "core.helper"
local emu = H.emu

local JOB = "71ab389d-a2c3-4110-8988-8da4e5fd7408"

describe("paths of the core", function()
  before_each(function() emu.reset() end)
  after_each(function() emu.clear_faults() end)

  it("tostring of a listing says its job, documents and pages, then that it is closed", function()
    local c = H.client{ page_size = 4 }
    local pages = c:documents(JOB)
    assert.equal("doctranslate.Pages: job " .. JOB .. " (0 documents handed out, 0 pages)", tostring(pages))
    for _ = 1, 5 do pages() end
    assert.equal("doctranslate.Pages: job " .. JOB .. " (5 documents handed out, 2 pages)", tostring(pages))
    pages:close()
    assert.equal("doctranslate.Pages: closed", tostring(pages))
    local jobs = c:jobs{ top = 1 }
    assert.equal("doctranslate.Pages: the job list (0 jobs handed out, 0 pages)", tostring(jobs))
    assert.not_matches(emu.key, tostring(jobs), 1, true)
  end)

  it("tostring of an operation says what it reads and who drives it", function()
    local c = H.client()
    local op = c:job_op(JOB)
    assert.equal("doctranslate.Op: job status of job " .. JOB, tostring(op))
    local req = op:next_request()
    assert.is_table(req)
    assert.equal("doctranslate.Op: job status of job " .. JOB .. " (driven by next_request/feed)", tostring(op))
    local dop = c:document_op(JOB, "00000000-0000-0000-0000-000000000001")
    assert.equal("doctranslate.Op: document status of job " .. JOB, tostring(dop))
    op:close()
    dop:close()
  end)

  it("a concurrency listing whose next link does not page by skip runs sequentially, exactly", function()
    local c0 = H.client()
    local id = H.job{ documents = 10 }
    local want = H.listing(c0, id, { page_size = 5, order_by = "createdDateTimeUtc asc" })
    local ver = "2026-03-01"
    -- page 1's next link: the same origin, an ids filter for the other five instead of a skip
    local next = emu.http .. "/translator/document/batches/" .. id .. "/documents?api-version=" .. ver
      .. "&orderby=createdDateTimeUtc%20asc&ids=" .. table.concat(want, ",", 6, 10)
    emu.fault{ route = "documents", page = 1, action = "foreign_next", next = next }
    local lines = {}
    local c = H.client{ api_version = ver, log = function(level, msg) lines[#lines + 1] = level .. " " .. msg end }
    local got = H.listing(c, id, { page_size = 5, order_by = "createdDateTimeUtc asc", concurrency = 4 })
    assert.same(want, got)
    local said
    for _, l in ipairs(lines) do
      if l:find("does not page by skip", 1, true) then said = l end
    end
    assert.is_not_nil(said, table.concat(lines, "\n"))
    assert.matches("^info concurrency 4: .* runs sequentially", said)
  end)

  it("lists jobs through the job list operation", function()
    local ids = {}
    for _ = 1, 3 do ids[#ids + 1] = H.job{ documents = 1 } end
    local got = {}
    for j in H.client{ page_size = 2 }:jobs{ top = 3 } do got[#got + 1] = j.id end
    assert.same({ ids[3], ids[2], ids[1] }, got)
  end)
end)
