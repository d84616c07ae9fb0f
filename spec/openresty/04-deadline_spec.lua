-- The deadline of a listing with the openresty transport: the request's socket
-- timeouts are what is left of the deadline, the listing ends with the timeout error that names
-- it, and its continuation resumes with no document lost or repeated.
local emu = require "support.emulator"
local N = require "openresty.nginx"
local H = require "core.helper"

describe("the deadline of a listing inside nginx", function()
  local srv, job_id, total = nil, nil, 30

  lazy_setup(function()
    emu.reset()
    job_id = emu.create_job{ documents = total }.id
    srv = N.start{ conf = N.root .. "/spec/openresty/eval_nginx.conf", endpoint = emu.http, key = emu.key }
  end)
  lazy_teardown(function()
    if srv then srv:stop() end
    emu.reset()
  end)

  it("cuts a slow page at the deadline and resumes from the continuation", function()
    local want = H.listing(H.client(), job_id, { page_size = 5 })
    emu.fault{ route = "documents", page = 3, action = "latency", ms = 3000, times = -1 }
    local res = srv:eval_ok(string.format([[
      local id = %q
      local pages = c:documents(id, { page_size = 5, deadline = 0.8 })
      local ids = {}
      ngx.update_time()
      local t0 = ngx.now()
      local ok, raised = pcall(function() for doc in pages do ids[#ids + 1] = doc.id end end)
      ngx.update_time()
      local err = pages:error() -- the loop raised a string; the listing keeps the error value
      assert(type(raised) == "string" and raised:find(tostring(err), 1, true), raised)
      return { ok = ok, kind = err.kind, message = err.message, took = ngx.now() - t0,
               token = pages:continuation(), ids = ids }
    ]], job_id))
    emu.clear_faults()
    assert.is_false(res.ok)
    assert.equal("timeout", res.kind)
    assert.matches("deadline of 0.8 s passed", res.message, 1, true)
    assert.is_true(res.took < 2.5, "ended after " .. res.took .. " s")
    assert.equal(10, #res.ids)
    local all = res.ids
    for doc in H.client():documents(job_id, { continuation = res.token }) do all[#all + 1] = doc.id end
    assert.same(want, all)
  end)
end)
