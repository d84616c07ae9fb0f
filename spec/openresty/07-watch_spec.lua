-- c:watch and c:watch_async inside an nginx worker (the openresty transport): the same
-- watch as the libcurl client's, written once over c:job / c:documents. The chunk's sleep
-- moves the emulator's clock (an admin request over a cosocket) instead of sleeping.
local emu = require "support.emulator"
local N = require "openresty.nginx"

local PRELUDE = [[
  local host, port = %q, %d
  local function admin(method, path, body)
    local sock = ngx.socket.tcp()
    assert(sock:connect(host, port))
    assert(sock:send(method .. " /_emulator" .. path .. " HTTP/1.0\r\nHost: x\r\nContent-Type: application/json\r\n"
      .. "Content-Length: " .. #(body or "") .. "\r\n\r\n" .. (body or "")))
    local text = assert(sock:receive("*a"))
    sock:close()
    return cjson.decode(text:match("\r\n\r\n(.*)$"))
  end
  admin("POST", "/clock", '{"freeze":true}')
  local function advance(s) if s > 0 then admin("POST", "/clock", cjson.encode({ advance = s })) end end
  local function now() return admin("GET", "/clock").epoch end
]]

describe("the watch inside nginx (openresty transport)", function()
  local srv, prelude

  lazy_setup(function()
    emu.reset()
    srv = N.start{ conf = N.root .. "/spec/openresty/eval_nginx.conf", endpoint = emu.http, key = emu.key }
    local host, port = emu.http:match("^http://([^:/]+):(%d+)")
    prelude = PRELUDE:format(host, tonumber(port))
  end)

  lazy_teardown(function()
    if srv then srv:stop() end
    emu.reset()
  end)

  it("c:watch hands out each document once, as it ends, and raises at a failed job", function()
    local id = emu.create_job{ documents = 30, duration = 6, parallel = 3, fail_every = 5 }.id
    local failed = emu.create_job{ documents = 6, duration = 3, parallel = 2, fail_every = 1 }.id
    local r = srv:eval_ok(prelude .. ([[
      local ids, moments, last, n = {}, {}, 0, 0
      for doc in c:watch(%q, { timeout = 60, sleep = advance, now = now }) do
        assert(not ids[doc.id], "twice: " .. doc.id)
        ids[doc.id] = true
        n = n + 1
        local la = doc:time("lastActionDateTimeUtc")
        assert(la >= last, "out of order")
        last = la
        moments[now()] = true
      end
      local k = 0
      for _ in pairs(moments) do k = k + 1 end
      local m, err = 0, nil
      local ok, e = pcall(function()
        for _ in c:watch(%q, { timeout = 60, sleep = advance, now = now }) do m = m + 1 end
      end)
      if not ok then err = e end
      return { n = n, moments = k, failed_docs = m, kind = err and err.kind, status = err and err.job_status }
    ]]):format(id, failed), 60)
    assert.equals(30, r.n)
    assert.is_true(r.moments >= 4, r.moments .. " moments")
    assert.equals(6, r.failed_docs)
    assert.equals("job", r.kind)
    assert.equals("Failed", r.status)
  end)

  it("c:watch_async steps through the transport, with on_documents, on_done and a continuation", function()
    local id = emu.create_job{ documents = 24, duration = 6, parallel = 4 }.id
    local r = srv:eval_ok(prelude .. ([[
      local t = 0
      local seen, n, dones, batches = {}, 0, 0, 0
      local w = c:watch_async(%q, { timeout = 60, now = function() return t end,
        on_documents = function(_, docs)
          batches = batches + 1
          for _, d in ipairs(docs) do
            assert(not seen[d.id], "twice")
            seen[d.id] = true
            n = n + 1
          end
        end,
        on_done = function(_, err) assert(err == nil, tostring(err)); dones = dones + 1 end })
      local frames = 0
      while not w:step() do
        frames = frames + 1
        assert(frames < 5000, "did not end")
        local fds, ms = w:fds()
        assert(type(fds) == "table" and ms >= 0)
        t = t + 0.1
        advance(0.1)
      end
      local token = w:continuation()
      local rest = 0
      for _ in c:watch(%q, { continuation = token, timeout = 60, sleep = advance, now = now }) do rest = rest + 1 end
      return { n = n, batches = batches, dones = dones, status = w.job.status, rest = rest, token = #token }
    ]]):format(id, id), 60)
    assert.equals(24, r.n)
    assert.is_true(r.batches >= 4)
    assert.equals(1, r.dones)
    assert.equals("Succeeded", r.status)
    assert.equals(0, r.rest)
  end)
end)
