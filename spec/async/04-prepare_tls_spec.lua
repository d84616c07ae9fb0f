-- prepare_tls: an https client sets TLS up when it is made (OpenSSL's set-up, the CA store
-- read and cached in the client's pool), with a handshake begun on a loopback socket of its own:
-- nothing reaches the endpoint, nothing counts as a connection, and what follows is the same.
local H = require "core.helper"
local U = require "support.usage"
local dt = require "doctranslate"
local emu = H.emu

local function count_requests()
  return #emu.requests()
end

describe("prepare_tls", function()
  local job_id
  setup(function()
    emu.reset()
    job_id = H.job{ documents = 5 }
  end)

  it("sends nothing when an https client is made, and its first request goes through", function()
    local before = count_requests()
    local c = dt.new{ endpoint = emu.https, key = emu.key, ca_file = emu.ca }
    assert.are.equal(before, count_requests())
    assert.are.equal(0, c:stats().connections)
    assert.are.equal(0, c:stats().requests)
    local job = assert(c:job(job_id))
    assert.are.equal(job_id, job.id)
    assert.are.equal(1, c:stats().connections)
    assert.are.equal(before + 1, count_requests())
    c:close()
  end)

  it("with false, or over http, works the same", function()
    for _, o in ipairs({ { endpoint = emu.https, prepare_tls = false }, { endpoint = emu.http } }) do
      local c = dt.new{ endpoint = o.endpoint, key = emu.key, ca_file = emu.ca, prepare_tls = o.prepare_tls }
      assert.are.equal(job_id, assert(c:job(job_id)).id)
      c:close()
    end
  end)

  it("leaves a CA file that does not hold the server's CA to the first request's error", function()
    local c = dt.new{ endpoint = emu.https, key = emu.key, ca_file = "/dev/null", retries = 0 }
    local job, err = c:job(job_id)
    assert.is_nil(job)
    assert.are.equal("network", err.kind)
    local c2 = dt.new{ endpoint = emu.https, key = emu.key, ca_file = "/nonexistent/ca.pem", retries = 0 }
    job, err = c2:job(job_id)
    assert.is_nil(job)
    assert.are.equal("network", err.kind)
  end)

  it("is a boolean option", function()
    local ok, err = pcall(dt.new, { endpoint = emu.https, key = emu.key, prepare_tls = 1 })
    assert.is_false(ok)
    assert.are.equal("bad option 'prepare_tls': a boolean expected", U.of(err).message)
  end)
end)
