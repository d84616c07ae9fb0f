-- One response header line over libcurl's 100 KiB cap: a `protocol` error that names the
-- cap, with the service's request ids (they came in earlier lines), from every libcurl driver: a
-- single call, the blocking listing (with and without prefetch, continuation kept) and
-- documents_async. A line under that cap still counts toward `max_headers`.
local H = require "core.helper"
local U = require "support.usage"
local core = require "doctranslate.core"
local emu = H.emu

local UUID = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"
local JOB = "71ab389d-a2c3-4110-8988-8da4e5fd7408"

local function assert_line_cap(err)
  assert.equal("table", type(err), tostring(err))
  assert.equal("protocol", err.kind)
  assert.matches("header line exceeds libcurl's cap of 102400 bytes", err.message, 1, true)
  assert.matches(UUID, err["apim-request-id"])
  assert.matches(UUID, err["x-ms-client-request-id"])
end

describe("a response header line over libcurl's cap", function()
  before_each(function() emu.reset() end)
  after_each(function() emu.clear_faults() end)

  it("is a protocol error of a single call, not a network one, and is not retried", function()
    -- a job of its own: a request another spec left sleeping in the emulator cannot count here
    local id = H.job{ documents = 1 }
    emu.fault{ route = "job", action = "big_header", times = -1 }
    local c = H.client{ retries = 3 }
    emu.clear_requests()
    local job, err = c:job(id)
    assert.is_nil(job)
    assert_line_cap(err)
    assert.equal(1, #H.requests("/batches/" .. id))
    assert.equal(err["apim-request-id"], H.requests("/batches/" .. id)[1].request_id)
  end)

  it("a line under it still counts toward max_headers", function()
    emu.fault{ route = "job", action = "big_header", bytes = 70000 }
    local _, err = H.client():job(JOB)
    assert.equal("protocol", err.kind)
    assert.matches("headers exceed the cap of 65536 bytes", err.message, 1, true)
    emu.fault{ route = "job", action = "big_header", bytes = 70000 }
    local job = assert(H.client{ max_headers = 200000 }:job(JOB))
    assert.equal(JOB, job.id)
  end)

  for _, prefetch in ipairs({ false, true }) do
    it("ends a listing with its continuation kept (prefetch " .. tostring(prefetch) .. ")", function()
      local id = H.job{ documents = 20 }
      local c = H.client{ page_size = 5, prefetch = prefetch }
      local want = H.listing(c, id)
      emu.fault{ route = "documents", page = 3, action = "big_header", times = -1 }
      local pages = c:documents(id)
      local ids = {}
      local ok, err = U.loop(pages, function(d) ids[#ids + 1] = d.id end)
      assert.is_false(ok)
      assert_line_cap(err)
      assert.equal(10, #ids)
      emu.clear_faults()
      for d in c:documents(id, { continuation = pages:continuation() }) do ids[#ids + 1] = d.id end
      assert.same(want, ids)
    end)
  end

  it("ends documents_async with the same error", function()
    local id = H.job{ documents = 20 }
    emu.fault{ route = "documents", page = 2, action = "big_header", times = -1 }
    local op = H.client{ page_size = 5 }:documents_async(id)
    local t0 = core.monotonic()
    while not op:step() do
      assert(core.monotonic() - t0 < 10, "documents_async did not end")
      op:take({})
      core.sleep(0.002)
    end
    assert_line_cap(op.error)
  end)
end)
