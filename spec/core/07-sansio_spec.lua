-- The sans-I/O surface (next_request / feed) driven by a Lua transport (LuaSocket),
-- as the OpenResty transport will drive it.
local H = require "core.helper"
local U = require "support.usage"
local emu = H.emu
local http = require "socket.http"
local ltn12 = require "ltn12"

local function transport(req)
  local chunks = {}
  local _, code, headers = http.request{ url = req.url, method = req.method, headers = req.headers,
    sink = ltn12.sink.table(chunks) }
  if type(code) ~= "number" then return nil, tostring(code) end
  return { status = code, headers = headers, body = table.concat(chunks) }
end

local function drive(it)
  while true do
    local req = it:next_request()
    if req == nil then return end
    if req.wait then
      assert.is_number(req.wait)
    else
      local res, err = transport(req)
      if res then it:feed(res) else it:feed_error("network", err) end
    end
  end
end

describe("next_request / feed", function()
  before_each(function() emu.reset() end)

  it("lists the same documents as the C driver", function()
    local id = H.job{ documents = 57 }
    local c = H.client()
    local want = H.listing(c, id, { page_size = 10 })
    local it = c:documents(id, { page_size = 10 })
    local got = {}
    while true do
      drive(it)
      local page, err = it:next_page()
      assert.is_nil(err)
      if not page then break end
      for _, d in ipairs(page) do got[#got + 1] = d.id end
    end
    assert.same(want, got)
  end)

  it("gives requests whose tostring hides the key and which carry it in headers", function()
    local c = H.client()
    local it = c:documents("some-job")
    local req = it:next_request()
    assert.equal("GET", req.method)
    assert.equal(emu.key, req.headers["Ocp-Apim-Subscription-Key"])
    assert.is_string(req.headers["x-ms-client-request-id"])
    assert.falsy(tostring(req):find(emu.key, 1, true))
    -- asking again before feeding gives the same request
    assert.equal(req.url, it:next_request().url)
    it:close()
  end)

  it("runs a single-shot job operation and reports retries as waits", function()
    local id = H.job{ documents = 3 }
    emu.fault{ route = "job", job = id, action = "status", status = 503, times = 1 }
    local c = H.client()
    local op = c:job_op(id)
    local waits, reqs = 0, {}
    while true do
      local req = op:next_request()
      if not req then break end
      if req.wait then waits = waits + 1 else
        reqs[#reqs + 1] = req.headers["x-ms-client-request-id"]
        op:feed(assert(transport(req)))
      end
    end
    assert.equal(1, waits)
    assert.equal(2, #reqs)
    assert.equal(reqs[1], reqs[2])
    local job = assert(op:result())
    assert.equal(id, job.id)
    assert.equal(3, job.summary.total)
  end)

  it("refuses to block in the for loop when driven externally", function()
    local c = H.client()
    local it = c:documents("j")
    it:next_request()
    local ok, err = pcall(it)
    assert.is_false(ok)
    assert.equal("usage", U.of(err).kind) -- a string at the caller's line
  end)

  it("feed_error maps to a typed error after the retries", function()
    local c = H.client{ retries = 1 }
    local op = c:job_op("j")
    local n = 0
    while true do
      local req = op:next_request()
      if not req then break end
      if not req.wait then n = n + 1; op:feed_error("timeout", "too slow") end
    end
    assert.equal(2, n)
    local job, err = op:result()
    assert.is_nil(job)
    assert.equal("timeout", err.kind)
  end)
end)
