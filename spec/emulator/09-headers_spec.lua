-- The headers of the emulator's answers, field by field against the recorded service: caching,
-- ETag case, chunked bodies, the security headers and the zero counts of a job cancelled at once.
-- Each is a setting; the defaults are the service's, the other values the emulator's former ones.
local cjson = require "cjson"
local emu = require "support.emulator"

describe("emulator headers", function()
  local job
  before_each(function()
    emu.reset()
    job = emu.create_job({ documents = 3 })
  end)
  after_each(function() emu.reset() end)

  local v1 = "/translator/text/batch/v1.0"
  local function paths()
    return { job = v1 .. "/batches/" .. job.id, list = v1 .. "/batches",
             documents = v1 .. "/batches/" .. job.id .. "/documents" }
  end

  it("are the service's by default on job and list GETs", function()
    for what, path in pairs(paths()) do
      local status, h, body = emu.get(path)
      assert.equal(200, status, what)
      assert.equal("public, max-age=1", h["cache-control"], what)
      assert.matches('^"[0-9A-F]+"$', h.etag, what)
      assert.equal(66, #h.etag, what)
      assert.equal("chunked", h["transfer-encoding"], what)
      assert.is_nil(h["content-length"], what)
      assert.equal("max-age=31536000; includeSubDomains", h["strict-transport-security"], what)
      assert.equal("nosniff", h["x-content-type-options"], what)
      assert.is_truthy(cjson.decode(body), what)
    end
  end)

  it("keeps Cache-Control and the ETag on a 304", function()
    local _, h = emu.get(paths().job)
    local status, h2 = emu.get(paths().job, { ["If-None-Match"] = h.etag })
    assert.equal(304, status)
    assert.equal(h.etag, h2.etag)
    assert.equal("public, max-age=1", h2["cache-control"])
  end)

  it("are chunked over HTTPS too, and on errors of the service", function()
    local status, h = emu.request({ base = emu.https, path = paths().job })
    assert.equal(200, status)
    assert.equal("chunked", h["transfer-encoding"])
    status, h = emu.get(v1 .. "/batches/" .. "00000000-0000-4000-8000-000000000000")
    assert.equal(404, status)
    assert.equal("chunked", h["transfer-encoding"])
    assert.equal("nosniff", h["x-content-type-options"])
    assert.is_nil(h["cache-control"])
  end)

  it("are the former ones when the settings say so", function()
    emu.settings({ cache_control = false, etag_case = "lower", chunked = false, security_headers = false })
    for what, path in pairs(paths()) do
      local status, h, body = emu.get(path)
      assert.equal(200, status, what)
      assert.is_nil(h["cache-control"], what)
      assert.matches('^"[0-9a-f]+"$', h.etag, what)
      assert.equal(tostring(#body), h["content-length"], what)
      assert.is_nil(h["transfer-encoding"], what)
      assert.is_nil(h["strict-transport-security"], what)
      assert.is_nil(h["x-content-type-options"], what)
    end
    emu.settings({ cache_control = "no-store" })
    local _, h = emu.get(paths().job)
    assert.equal("no-store", h["cache-control"])
  end)

  it("rejects settings of the wrong kind", function()
    for _, bad in ipairs({ { etag_case = "mixed" }, { cache_control = 1 }, { cache_control = "a\nb" },
                           { chunked = "yes" }, { security_headers = 0 } }) do
      local status = emu.request({ method = "POST", path = "/_emulator/settings", body = cjson.encode(bad) })
      assert.equal(400, status, cjson.encode(bad))
    end
  end)

  it("are not on the admin API's answers", function()
    local status, h = emu.request({ path = "/_emulator/health" })
    assert.equal(200, status)
    assert.is_nil(h["strict-transport-security"])
    assert.is_nil(h["transfer-encoding"])
  end)

  it("count zeros for a job cancelled right after its start, as the service did", function()
    local status, h = emu.request({ method = "POST", path = v1 .. "/batches", body = cjson.encode({ inputs = { {
      source = { sourceUrl = "https://a.blob.core.windows.net/in" },
      targets = { { targetUrl = "https://a.blob.core.windows.net/fr", language = "fr" } } } } }),
      headers = { ["Content-Type"] = "application/json" } })
    assert.equal(202, status)
    local loc = h["operation-location"]
    local _, _, body = emu.request({ method = "DELETE", url = loc })
    local j = cjson.decode(body)
    assert.equal("Cancelling", j.status)
    assert.same({ total = 0, failed = 0, success = 0, inProgress = 0, notYetStarted = 0, cancelled = 0,
                  totalCharacterCharged = 0 }, j.summary)
    emu.advance(5)
    _, _, body = emu.get(loc)
    j = cjson.decode(body)
    assert.equal("Cancelled", j.status)
    assert.is_true(j.summary.total > 0)
    assert.equal(j.summary.total, j.summary.cancelled)
  end)
end)
