-- Trailers of a chunked response are not headers: they neither set the retry delay nor give an
-- error its request ids, nor show among a job's response headers.
local S = require "security.scripted"
local lifecycle = require "doctranslate.lifecycle"

local JSON = S.JSON
local RUNNING = S.RUNNING
local DONE = S.DONE
local BUSY = S.BUSY

local retry_waits = S.retry_waits

describe("trailers", function()
  it("of a chunked error do not set the retry delay", function()
    local srv = S.start{ S.chunked("503 Service Unavailable", JSON, BUSY, { "Retry-After: 5" }),
                         S.response("200 OK", JSON, DONE) }
    local waits, job = retry_waits(srv)
    srv:stop()
    assert.truthy(job)
    assert.equal(1, #waits)
    assert.is_true(waits[1] < 0.5, "waited " .. waits[1] .. " s")
  end)

  it("of a chunked error do not give the error its request ids", function()
    local srv = S.start{ S.chunked("404 Not Found", { "Content-Type: application/json", "x-requestid: from-header" },
                                   '{"error":{"code":"NotFound","message":"no"}}',
                                   { "apim-request-id: from-trailer", "x-requestid: trailer-too" }) }
    local _, err = srv:client():job("j1")
    srv:stop()
    assert.equal(404, err.status)
    assert.is_nil(err["apim-request-id"])
    assert.equal("from-header", err["x-requestid"])
  end)

  it("of a chunked job are not among its response headers", function()
    local srv = S.start{ S.chunked("200 OK", JSON, RUNNING, { "Retry-After: 7", "X-Trailer: t" }) }
    local job = assert(srv:client():job("j1"))
    srv:stop()
    local h = job:response().headers
    assert.is_nil(h["retry-after"])
    assert.is_nil(h["x-trailer"])
    assert.equal(0, lifecycle.retry_after(job))
  end)
end)
