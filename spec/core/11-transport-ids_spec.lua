-- A transfer that fails after the response's headers arrived (a reset
-- mid-body, a body trickling past the timeout) still reports the service's
-- request ids: they are what support asks for.
local H = require "core.helper"
local emu = H.emu

describe("request ids of transfers that fail after the headers", function()
  before_each(function() emu.reset() end)

  it("keeps apim-request-id and x-requestid on a reset mid-body", function()
    local id = H.job{ documents = 5 }
    emu.fault{ route = "job", job = id, action = "reset", times = -1 }
    local job, err = H.client{ retries = 1 }:job(id)
    assert.is_nil(job)
    assert.equals("network", err.kind)
    assert.is_string(err["apim-request-id"])
    assert.equals(err["apim-request-id"], err["x-requestid"])
    assert.is_string(err["x-ms-client-request-id"])
    -- the id is the one the emulator logged for the last try
    local logged = {}
    for _, r in ipairs(emu.requests()) do logged[#logged + 1] = r end
    local last = logged[#logged]
    assert.equals(err["x-ms-client-request-id"], H.header(last, "x-ms-client-request-id"))
  end)

  it("keeps them on a body that trickles past the timeout", function()
    local id = H.job{ documents = 5 }
    emu.fault{ route = "job", job = id, action = "trickle", bytes_per_second = 20, times = -1 }
    local job, err = H.client{ retries = 0, timeout = 1 }:job(id)
    assert.is_nil(job)
    assert.equals("timeout", err.kind)
    assert.is_string(err["apim-request-id"])
    assert.equals(err["apim-request-id"], err["x-requestid"])
  end)

  it("has none when no answer came at all", function()
    local c = H.dt.new{ endpoint = "http://127.0.0.1:9", key = emu.key, retries = 0, connect_timeout = 2 }
    local job, err = c:job("no-such-job")
    assert.is_nil(job)
    assert.equals("network", err.kind)
    assert.is_nil(err["apim-request-id"])
    assert.is_nil(err["x-requestid"])
    assert.is_string(err["x-ms-client-request-id"])
  end)
end)
