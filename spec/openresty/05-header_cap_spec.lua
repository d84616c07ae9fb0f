-- A response header line over 100 KiB through the openresty transport: the same
-- `protocol` kind as the libcurl drivers give (there through libcurl's line cap, here through the
-- client's max_headers, 64 KiB by default, which such a line exceeds).
local emu = require "support.emulator"
local N = require "openresty.nginx"
local H = require "core.helper"

describe("a huge response header line inside nginx", function()
  local srv

  lazy_setup(function()
    emu.reset()
    srv = N.start{ conf = N.root .. "/spec/openresty/eval_nginx.conf", endpoint = emu.http, key = emu.key }
  end)
  lazy_teardown(function()
    if srv then srv:stop() end
    emu.reset()
  end)

  it("is a protocol error, as from libcurl", function()
    local job = "71ab389d-a2c3-4110-8988-8da4e5fd7408"
    emu.fault{ route = "job", action = "big_header" }
    local _, want = H.client():job(job)
    assert.equal("protocol", want.kind)
    emu.fault{ route = "job", action = "big_header" }
    local res = srv:eval_ok(string.format([[
      local job, err = c:job(%q)
      return { job = job ~= nil, kind = err and err.kind, message = err and err.message }
    ]], job))
    assert.is_false(res.job)
    assert.equal(want.kind, res.kind)
    assert.matches("header", res.message, 1, true)
  end)
end)
