-- Callbacks that end what is being run: a log function or a token function that closes the
-- listing being read, the async op being stepped or the client, or drops the last reference and
-- collects garbage. Whatever they do, nothing is freed under the runner: the close is done when
-- the run returns, and a listing never ends silently short (it raises a usage error that names
-- what happened, and its continuation still resumes it exactly).
local H = require "core.helper"
local emu = H.emu
local core = require "doctranslate.core"

local DOCS = 23

-- A client whose log (or token) function calls act() once, on the first call after arm().
local function client_with(kind)
  local armed, act = false, nil
  local function fire()
    if armed and act then
      armed = false
      act()
    end
  end
  local c
  if kind == "token" then
    c = H.dt.new{ endpoint = emu.http, retry_base = 0.05, token = function()
      fire()
      return emu.token{ expires_in = 3600 }.token, os.time() + 3600
    end }
  else
    c = H.client{ log = function() fire() end }
  end
  return c, function(fn) act = fn; armed = true end
end

-- a usage error: a string at a line of this file, as luaL_argerror's (spec/support/usage.lua)
local function usage_error(ok, err, pattern)
  assert.is_false(ok)
  local e = require("support.usage").of(err)
  assert.matches("reentrancy_spec%.lua:%d+$", e.where)
  if pattern then assert.matches(pattern, e.message) end
end

describe("a callback that ends what is being run", function()
  local job_id, all
  lazy_setup(function()
    emu.reset()
    job_id = H.job{ documents = DOCS }
    all = H.listing(H.client(), job_id, { page_size = 5 })
    assert.equal(DOCS, #all)
  end)

  for _, kind in ipairs({ "log", "token" }) do
    for _, prefetch in ipairs({ true, false }) do
      it(kind .. " closes the listing being read (prefetch " .. tostring(prefetch) .. "): a usage error,"
        .. " and the continuation resumes exactly", function()
        local c, arm = client_with(kind)
        local pages = c:documents(job_id, { page_size = 5, prefetch = prefetch })
        local got = {}
        for _ = 1, 7 do got[#got + 1] = pages().id end
        if kind == "token" then
          -- the token is fetched again before the next request, inside the run
          c:set_token("expired", os.time() - 1)
        end
        arm(function() pages:close() end)
        local ok, err = pcall(function() for doc in pages do got[#got + 1] = doc.id end end)
        usage_error(ok, err, "closed by one of its own callbacks")
        for doc in c:documents(job_id, { continuation = pages:continuation() }) do got[#got + 1] = doc.id end
        assert.same(all, got)
        c:close()
      end)
    end

    it(kind .. " closes the client during a blocking call: a usage error, not a crash", function()
      local c, arm = client_with(kind)
      if kind == "token" then c:set_token("expired", os.time() - 1) end
      arm(function() c:close() end)
      local ok, err = pcall(c.job, c, job_id)
      usage_error(ok, err, "client")
      usage_error(pcall(c.job, c, job_id))
    end)

    it(kind .. " calls the listing again from inside its own run: a usage error", function()
      local c, arm = client_with(kind)
      local pages = c:documents(job_id, { page_size = 5, prefetch = false })
      if kind == "token" then c:set_token("expired", os.time() - 1) end
      local inner_ok, inner_err
      arm(function() inner_ok, inner_err = pcall(pages.next_page, pages) end)
      local n = 0
      for _ in pages do n = n + 1 end
      assert.equal(DOCS, n)
      usage_error(inner_ok, inner_err, "already being run")
      c:close()
    end)
  end

  for _, ending in ipairs({ "cancel", "close" }) do
    it("a log line cancels / closes the async op being stepped (" .. ending .. "): it ends, nothing freed early",
      function()
      local c, arm = client_with("log")
      local op = c:documents_async(job_id, { page_size = 5 })
      local seen = 0
      for _ = 1, 3 do
        while not op:step() and op.pages < 1 do core.sleep(0.001) end
        seen = seen + select(2, op:take())
        if op.pages >= 1 then break end
      end
      arm(function() op[ending](op) end)
      local steps = 0
      while not op:step() do
        seen = seen + select(2, op:take())
        steps = steps + 1
        assert.is_true(steps < 100000, "the op never ended")
        core.sleep(0.001)
      end
      assert.is_true(op.done)
      assert.is_true(op.cancelled)
      assert.is_true(seen < DOCS)
      -- a listing cancelled early resumes from its continuation with nothing lost
      local got = {}
      for i = 1, seen do got[i] = all[i] end
      for doc in c:documents(job_id, { continuation = op:continuation() }) do got[#got + 1] = doc.id end
      assert.same(all, got)
      c:close()
    end)
  end

  it("on_documents cancels its op and on_done closes it: each ends once", function()
    local c = H.client()
    local dones = 0
    local op
    op = c:documents_async(job_id, { page_size = 5, on_documents = function(o) o:cancel() end,
                                     on_done = function(o) dones = dones + 1; o:close() end })
    local steps = 0
    while not op:step() do
      steps = steps + 1
      assert.is_true(steps < 100000)
      core.sleep(0.001)
    end
    assert.is_true(op.cancelled)
    assert.is_true(dones <= 1)
    c:close()
  end)

  it("a log line steps its own async op again: a usage error from the inner step", function()
    local c, arm = client_with("log")
    local op = c:documents_async(job_id, { page_size = 5 })
    local inner_ok, inner_err
    arm(function() inner_ok, inner_err = pcall(op.step, op) end)
    local steps, n = 0, 0
    while true do
      local done = op:step()
      n = n + select(2, op:take())
      if done then break end
      steps = steps + 1
      assert.is_true(steps < 100000)
      core.sleep(0.001)
    end
    assert.equal(DOCS, n)
    usage_error(inner_ok, inner_err, "own callbacks")
    c:close()
  end)

  it("a log line drops the last references and collects garbage: the run goes on", function()
    local c, arm = client_with("log")
    local pages = c:documents(job_id, { page_size = 5 })
    arm(function()
      c = nil -- luacheck: ignore 311 (the last reference goes)
      collectgarbage()
      collectgarbage()
    end)
    local n = 0
    for _ in pages do n = n + 1 end
    assert.equal(DOCS, n)
    pages = nil -- luacheck: ignore (the last reference goes)
    collectgarbage()
  end)

  it("a log line closes the listing read through a Lua transport: a usage error, never short", function()
    local socket_http = require "socket.http"
    local ltn12 = require "ltn12"
    local t = {}
    function t.request(_, req)
      local body = {}
      local _, status, headers = socket_http.request{ url = req.url, method = req.method, headers = req.headers,
                                                      sink = ltn12.sink.table(body) }
      if type(status) ~= "number" then return nil, "network", tostring(status) end
      return { status = status, headers = headers, body = table.concat(body) }
    end
    function t.sleep(_, s) core.sleep(s) end
    local pages
    local armed = false
    local c = H.dt.new{ endpoint = emu.http, key = emu.key, transport = t,
                        log = function() if armed then armed = false; pages:close() end end }
    pages = c:documents(job_id, { page_size = 5 })
    local got = {}
    for _ = 1, 6 do got[#got + 1] = pages().id end
    armed = true
    local ok, err = pcall(function() for doc in pages do got[#got + 1] = doc.id end end)
    usage_error(ok, err, "closed")
    for doc in c:documents(job_id, { continuation = pages:continuation() }) do got[#got + 1] = doc.id end
    assert.same(all, got)
  end)
end)
