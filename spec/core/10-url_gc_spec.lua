-- Endpoint spellings, request URLs per family, and collection at any point.
local H = require "core.helper"
local emu = H.emu

describe("endpoints and URLs", function()
  before_each(function() emu.reset() end)

  for _, suffix in ipairs{ "", "/", "/translator", "/translator/" } do
    it("accepts an endpoint ending in '" .. suffix .. "' for both families", function()
      local id = H.job{ documents = 3 }
      for _, version in ipairs{ "v1.1", "2026-03-01" } do
        emu.clear_requests()
        local c = H.client{ endpoint = emu.http .. suffix, api_version = version }
        assert(c:job(id))
        assert(c:document(id, H.listing(c, id)[1]))
        local reqs = H.requests()
        assert.equal(3, #reqs)
        local want = version == "v1.1" and "/translator/text/batch/v1.1/batches/" or "/translator/document/batches/"
        for _, r in ipairs(reqs) do
          assert.equal(1, select(2, r.path:gsub("/translator", "")), r.path)
          assert.truthy(r.path:find(want, 1, true), r.path)
          if version == "v1.1" then
            assert.falsy((r.query or ""):find("api-version", 1, true))
          else
            assert.equal(1, select(2, (r.query or ""):gsub("api%-version=2026%-03%-01", "")))
          end
        end
      end
    end)
  end

  it("percent-encodes ids in the path", function()
    local c = H.client()
    local _, err = c:document("a/b", "c d")
    assert.equal("http", err.kind)
    local r = H.requests()[1]
    assert.truthy(r.path:find("a%2Fb", 1, true) or r.path:find("a%2fb", 1, true), r.path)
  end)
end)

describe("collection", function()
  before_each(function() emu.reset() end)

  it("drops iterators, pages and documents mid-listing under GC pressure", function()
    local id = H.job{ documents = 120 }
    local c = H.client()
    local kept = {}
    for round = 1, 15 do
      local p = c:documents(id, { page_size = 7 })
      for _ = 1, round do
        local d = p()
        if round % 3 == 0 then kept[#kept + 1] = d end
        collectgarbage("step")
      end
      if round % 2 == 0 then
        local page = p:next_page()
        kept[#kept + 1] = page and page[1]
      end
      p = nil -- luacheck: ignore
      collectgarbage()
    end
    -- documents outlive their pages, iterators and the page JSON they point into
    for _, d in ipairs(kept) do assert.is_string(d.id) end
    local job = assert(c:job(id))
    c = nil -- luacheck: ignore
    collectgarbage()
    collectgarbage()
    assert.is_string(job.id)
    assert.equal(120, job.summary.total)
    -- the job keeps its client alive
    assert.equal(job, assert(job:refresh()))
  end)
end)
