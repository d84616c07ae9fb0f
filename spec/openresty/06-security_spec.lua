-- The security rules through the OpenResty transport (cosockets inside nginx): header values
-- that cannot be sent exactly are usage errors, trailers are not headers, Retry-After is read
-- by the core's parser and capped by retry_max, log lines are redacted before they are cut, an
-- unsendable next link is a protocol error never retried, and misuse is a usage error.
local emu = require "support.emulator"
local N = require "openresty.nginx"
local S = require "security.scripted"

local JSON = S.JSON
local RUNNING = S.RUNNING
local DONE = S.DONE
local KEY = "KEYSECRET-5b2f8e1a9c7d4f60"

describe("security through the openresty transport", function()
  local srv

  lazy_setup(function()
    srv = N.start{ conf = N.root .. "/spec/openresty/eval_nginx.conf", endpoint = emu.http, key = emu.key }
  end)
  lazy_teardown(function()
    if srv then srv:stop() end
  end)

  -- Runs code in the worker with `new(url, opts)`: an openresty client of url.
  local function eval(code)
    return srv:eval_ok([[
      local function new(url, o)
        local opts = { endpoint = url, key = "]] .. KEY .. [[", retries = 0, timeout = 5, transport = "openresty" }
        for k, v in pairs(o or {}) do opts[k] = v end
        return dt.new(opts)
      end
    ]] .. code)
  end

  it("header values with control characters, a NUL or over 8000 bytes are usage errors", function()
    local res = eval([[
      local kinds = {}
      for _, o in ipairs({ { region = "a\r\nX-Injected: 1" }, { user_agent = "a\nb" }, { key = "k\0k" },
                           { key = string.rep("k", 9000) }, { region = "a\127" } }) do
        local ok, err = pcall(new, "http://127.0.0.1:1", o)
        kinds[#kinds + 1] = not ok and E.error_table(err).kind or "no error"
      end
      return kinds
    ]])
    assert.same({ "usage", "usage", "usage", "usage", "usage" }, res)
  end)

  it("trailers neither give an error its ids nor become response headers", function()
    local s = S.start{ S.chunked("404 Not Found", JSON, '{"error":{"code":"NotFound","message":"no"}}',
                                 { "apim-request-id: from-trailer" }),
                       S.chunked("200 OK", JSON, RUNNING, { "Retry-After: 7" }) }
    local res = eval(string.format([[
      local c2 = new(%q)
      local _, err = c2:job("j1")
      local job = assert(c2:job("j1"))
      return { status = err.status, id = err["apim-request-id"] or "none",
               ra = job:response().headers["retry-after"] or "none" }
    ]], s.url))
    s:stop()
    assert.same({ status = 404, id = "none", ra = "none" }, res)
  end)

  it("Retry-After: 0x3 is ignored; 100000 is capped by retry_max in job:wait", function()
    local s = S.start{ S.response("503 Service Unavailable", { "Retry-After: 0x3" }, ""),
                       S.response("200 OK", { "Content-Type: application/json", "Retry-After: 100000" }, RUNNING),
                       S.response("200 OK", JSON, DONE) }
    local res = eval(string.format([[
      local waits = {}
      local c2 = new(%q, { retries = 1, retry_base = 0.01, retry_max = 0.05, log = function(_, m)
        local w = m:match("retry %%d+ of %%d+ in ([%%d.]+) s")
        if w then waits[#waits + 1] = tonumber(w) end
      end })
      local job = assert(c2:job("j1"))
      local t0 = ngx.now()
      local ok, got = pcall(job.wait, job, { interval = 0 })
      ngx.update_time()
      return { first_wait = waits[1], ok = ok, status = ok and got.status or tostring(got),
               took = ngx.now() - t0 }
    ]], s.url))
    s:stop()
    assert.is_true(res.first_wait < 0.5, "waited " .. tostring(res.first_wait))
    assert.is_true(res.ok, res.status)
    assert.equal("Succeeded", res.status)
    assert.is_true(res.took < 2)
  end)

  it("a log line echoing the key near the cut holds no part of it", function()
    local message = ("m"):rep(1000) .. KEY .. (" tail"):rep(20)
    local s = S.start{ S.response("400 Bad Request", JSON, '{"error":{"code":"X","message":"' .. message .. '"}}') }
    local res = eval(string.format([[
      local lines = {}
      local c2 = new(%q, { log = function(_, m) lines[#lines + 1] = m end })
      local _, err = c2:job("j1")
      lines[#lines + 1] = err.message
      lines[#lines + 1] = tostring(err)
      return lines
    ]], s.url))
    s:stop()
    for _, line in ipairs(res) do
      assert.is_nil(line:find(KEY:sub(1, 8), 1, true), "part of the key in: " .. line:sub(-80))
    end
  end)

  it("a next link with a vertical tab is a protocol error, never retried; misuse is a usage error", function()
    local s = S.start{ S.response("200 OK", JSON, '{"value":[{"id":"d1","status":"Succeeded"}],' ..
                                  '"@nextLink":"/translator/document/batches/j1/documents?skip=1\\u000bx"}') }
    local res = eval(string.format([[
      local c2 = new(%q, { retries = 3, retry_base = 0.01 })
      local pages = c2:documents("j1")
      local ids, err = {}, nil
      while true do
        local p, e = pages:next_page()
        if p == nil then err = e break end
        for i = 1, #p do ids[#ids + 1] = p[i].id end
      end
      local ok, merr = pcall(c2.job, nil, "x")
      return { ids = ids, kind = err and err.kind, misuse = not ok and E.error_table(merr).kind }
    ]], s.url))
    local n = #s:requests()
    s:stop()
    assert.same({ "d1" }, res.ids)
    assert.equal("protocol", res.kind)
    assert.equal(1, n)
    assert.equal("usage", res.misuse)
  end)
end)
