-- Retry-After forms, resets, slow bodies, bearer tokens and the region header.
local H = require "core.helper"
local emu = H.emu
local socket = require "socket"

local function cid(r) return H.header(r, "x-ms-client-request-id") end

describe("faults and headers", function()
  before_each(function() emu.reset() end)

  it("honours Retry-After as an HTTP date", function()
    local id = H.job{ documents = 2 }
    emu.fault{ route = "job", job = id, action = "status", status = 429, retry_after = "date", times = 1 }
    local c = H.client()
    emu.clear_requests()
    assert(c:job(id))
    local reqs = H.requests("/batches/" .. id)
    assert.equal(2, #reqs)
    assert.equal(cid(reqs[1]), cid(reqs[2]))
  end)

  it("honours retry-after-ms", function()
    local id = H.job{ documents = 2 }
    emu.fault{ route = "job", job = id, action = "status", status = 503, retry_after_ms = 600, times = 1 }
    local c = H.client{ retry_base = 0.001 }
    local t0 = socket.gettime()
    assert(c:job(id))
    assert.truthy(socket.gettime() - t0 >= 0.55)
  end)

  it("an exhausted 429 reports retry_after", function()
    local id = H.job{ documents = 2 }
    emu.fault{ route = "job", job = id, action = "status", status = 429, retry_after = 7, times = 5 }
    local _, err = H.client{ retries = 0 }:job(id)
    assert.equal("http", err.kind)
    assert.equal(429, err.status)
    assert.equal(7, err.retry_after)
  end)

  it("retries a connection reset with the same id", function()
    local id = H.job{ documents = 2 }
    emu.fault{ route = "job", job = id, action = "reset", times = 1 }
    local c = H.client()
    assert(c:job(id))
    local _, err = H.client{ retries = 1 }:job("x")
    assert.is_table(err)
    emu.fault{ route = "job", job = id, action = "reset", times = 10 }
    local _, e2 = H.client{ retries = 1, retry_base = 0.01 }:job(id)
    assert.equal("network", e2.kind)
  end)

  it("a trickling body ends with a timeout", function()
    local id = H.job{ documents = 2 }
    emu.fault{ route = "job", job = id, action = "trickle", bytes_per_second = 20, times = 5 }
    local t0 = socket.gettime()
    local _, err = H.client{ timeout = 0.5, retries = 0 }:job(id)
    assert.equal("timeout", err.kind)
    assert.truthy(socket.gettime() - t0 < 3)
  end)

  it("a listing page that resets is retried without loss", function()
    local id = H.job{ documents = 40 }
    local c = H.client()
    local all = H.listing(c, id)
    emu.fault{ route = "documents", job = id, page = 2, action = "reset", times = 1 }
    assert.same(all, H.listing(c, id, { page_size = 10 }))
  end)

  it("authenticates with a bearer token", function()
    local id = H.job{ documents = 2 }
    local t = emu.token{}
    local token = type(t) == "table" and (t.token or t.access_token) or t
    local c = H.dt.new{ endpoint = emu.http, token = token }
    local job = assert(c:job(id))
    assert.equal(id, job.id)
    assert.falsy(tostring(c):find(token, 1, true))
    local _, err = H.dt.new{ endpoint = emu.http, token = "not-a-token-0123456789" }:job(id)
    assert.equal(401, err.status)
    assert.falsy(tostring(err):find("not-a-token-0123456789", 1, true))
  end)

  it("sends the region, the user agent and a UUID client request id", function()
    local id = H.job{ documents = 2 }
    emu.clear_requests()
    assert(H.client{ region = "westeurope", user_agent = "spec-agent/1" }:job(id))
    local r = H.requests("/batches/" .. id)[1]
    assert.equal("westeurope", H.header(r, "ocp-apim-subscription-region"))
    assert.equal("spec-agent/1", H.header(r, "user-agent"))
    assert.truthy(cid(r):match("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"))
  end)
end)
