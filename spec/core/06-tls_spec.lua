-- HTTPS against the emulator's own CA.
local H = require "core.helper"
local U = require "support.usage"
local emu = H.emu

describe("https", function()
  before_each(function() emu.reset() end)

  it("verifies with ca_file and keeps one connection", function()
    local id = H.job{ documents = 250 }
    local c = H.client{ endpoint = emu.https, ca_file = emu.ca }
    local job = assert(c:job(id))
    assert.equal(id, job.id)
    local ids = H.listing(c, id, { page_size = 100 })
    assert.equal(250, #ids)
    assert.equal(1, c:stats().connections)
  end)

  it("fails as a network error without the CA, and insecure = true is explicit", function()
    local id = H.job{ documents = 2 }
    local c = H.client{ endpoint = emu.https, retries = 0 }
    local job, err = c:job(id)
    assert.is_nil(job)
    assert.equal("network", err.kind)
    assert.truthy(err.message:lower():find("certificate", 1, true) or err.message:lower():find("ssl", 1, true))
    local c2 = H.client{ endpoint = emu.https, insecure = true }
    assert(c2:job(id))
    assert.truthy(tostring(c2):find("INSECURE", 1, true))
  end)

  it("a next link from https to http is foreign", function()
    local id = H.job{ documents = 30 }
    emu.fault{ route = "documents", job = id, page = 1, action = "foreign_next",
               next = emu.http .. "/translator/document/batches/" .. id .. "/documents?skip=10&api-version=2026-03-01" }
    local c = H.client{ endpoint = emu.https, ca_file = emu.ca }
    local n = 0
    local ok, err = U.loop(c:documents(id, { page_size = 10 }), function() n = n + 1 end)
    assert.is_false(ok)
    assert.equal("protocol", err.kind)
    assert.equal(10, n)
  end)
end)
