-- Hostile servers: next links elsewhere are never followed, loops end fast with bounded
-- memory, repeated documents are never silent, and every cap and timeout is a typed error.
local H = require "core.helper"
local U = require "support.usage"
local emu = H.emu
local socket = require "socket"
local listener = require "security.listener"
local unpack = table.unpack or unpack -- luacheck: ignore (Lua 5.1 and LuaJIT)

local function port_of(url) return tonumber(url:match(":(%d+)$")) end

local function rss_kib()
  local fh = io.open("/proc/self/status")
  if not fh then return 0 end
  local s = fh:read("*a")
  fh:close()
  return tonumber(s:match("VmRSS:%s*(%d+)")) or 0
end

-- Lists with next_page until the end or an error: ids yielded, the error, the seconds it took.
local function list(pages)
  local ids, t0 = {}, socket.gettime()
  while true do
    local page, err = pages:next_page()
    if page == nil then return ids, err, socket.gettime() - t0 end
    for i = 1, #page do ids[#ids + 1] = page[i].id end
  end
end

local function logged(route)
  local out = {}
  for _, r in ipairs(emu.requests()) do
    if r.route == route then out[#out + 1] = r end
  end
  return out
end

describe("hostile next links", function()
  local other, id, clean
  local http_port, https_port = port_of(emu.http), port_of(emu.https)

  lazy_setup(function()
    emu.reset()
    other = listener.start()
    id = H.job{ documents = 40 }
    clean = list(H.client():documents(id, { page_size = 10 }))
    assert.equal(40, #clean)
  end)
  lazy_teardown(function() other:stop() end)

  local function path(q)
    return "/translator/document/batches/" .. id .. "/documents?skip=10&maxpagesize=10&api-version=2026-03-01" ..
           (q or "")
  end

  -- name, the next link (built once the listener and the job exist)
  local CASES = {
    { "another port on the same host", function() return other.url .. path() end },
    { "localhost for 127.0.0.1", function() return "http://localhost:" .. http_port .. path() end },
    { "https on the same host", function() return emu.https .. path() end },
    { "https on the endpoint's own port", function() return "https://127.0.0.1:" .. http_port .. path() end },
    { "http on the https port", function() return "http://127.0.0.1:" .. https_port .. path() end },
    { "userinfo that looks like the endpoint", function()
        return "http://127.0.0.1:" .. http_port .. "@127.0.0.1:" .. other.port .. path() end },
    { "a scheme-relative link", function() return "//127.0.0.1:" .. other.port .. path() end },
    { "[::1] for 127.0.0.1", function() return "http://[::1]:" .. http_port .. path() end },
    { "a backslash authority", function() return "http://127.0.0.1:" .. other.port .. "\\@127.0.0.1:" ..
                                                 http_port .. path() end },
  }

  for _, case in ipairs(CASES) do
    it("is not followed: " .. case[1], function()
      emu.clear_faults()
      emu.fault{ route = "documents", job = id, page = 1, action = "foreign_next", next = case[2]() }
      emu.clear_requests()
      local before = #other:requests()
      local got, err, took = list(H.client():documents(id, { page_size = 10 }))
      -- the trusted page, then a protocol error
      assert.same({ unpack(clean, 1, 10) }, got)
      assert.is_true(H.dt.is_error(err))
      assert.equal("protocol", err.kind)
      assert.truthy(err.message:find("not followed", 1, true) or err.message:find("cannot be resolved", 1, true),
                    err.message)
      assert.is_true(took < 5)
      -- nothing reached the other place: one request in the emulator's log (the first page, plain
      -- HTTP, the endpoint's host), none at the other listener
      local reqs = logged("documents")
      assert.equal(1, #reqs)
      assert.is_false(reqs[1].tls)
      assert.equal("127.0.0.1:" .. http_port, H.header(reqs[1], "host"))
      assert.equal(before, #other:requests())
    end)
  end

  it("is not followed in the jobs listing either", function()
    local ids = {}
    for i = 1, 4 do ids[i] = H.job{ documents = 1 } end
    emu.clear_faults()
    emu.fault{ route = "jobs", page = 1, action = "foreign_next", next = other.url .. "/translator/document/batches" }
    emu.clear_requests()
    local before = #other:requests()
    local got, err = list(H.client():jobs{ ids = ids, page_size = 2 })
    assert.equal(2, #got)
    assert.equal("protocol", err.kind)
    assert.equal(1, #logged("jobs"))
    assert.equal(before, #other:requests())
  end)
end)

describe("hostile loops", function()
  before_each(function() emu.reset() end)

  -- fault, expected documents at most, listing route
  local LOOPS = {
    { "a next link to the page itself", { action = "loop_next", page = 1, times = -1 } },
    { "two pages pointing at each other", { action = "pingpong_next", page = 1, times = -1 } },
    { "endless empty pages", { action = "empty_pages", times = -1 } },
    { "empty pages after the first", { action = "empty_pages", page = 2, times = -1 } },
  }
  for _, loop in ipairs(LOOPS) do
    for _, route in ipairs{ "documents", "jobs" } do
      it("ends with a protocol error within seconds and bounded memory: " .. loop[1] .. " (" .. route .. ")",
        function()
          local id = H.job{ documents = 40 }
          if route == "jobs" then emu.create_job{ documents = 1, count = 40 } end
          local f = { route = route }
          for k, v in pairs(loop[2]) do f[k] = v end
          if route == "documents" then f.job = id end
          emu.fault(f)
          emu.clear_requests()
          collectgarbage()
          local heap0, rss0 = collectgarbage("count"), rss_kib()
          local c = H.client()
          local pages = route == "documents" and c:documents(id, { page_size = 10 }) or c:jobs{ page_size = 10 }
          local got, err, took = list(pages)
          assert.is_true(H.dt.is_error(err), "a typed error, not a silent end")
          assert.equal("protocol", err.kind)
          assert.is_true(took < 5, "took " .. took .. " s")
          assert.equal(H.distinct(got), #got)
          local reqs = #logged(route)
          assert.is_true(reqs <= 12, reqs .. " requests")
          pages = nil -- luacheck: ignore
          collectgarbage()
          assert.is_true(collectgarbage("count") - heap0 < 1024, "Lua heap bounded")
          assert.is_true(rss_kib() - rss0 < 32 * 1024, "RSS bounded")
        end)
    end
  end

  for _, page in ipairs{ 1, 2, 3 } do
    it("a page repeating a document: each id once or a typed error (page " .. page .. ")", function()
      local id = H.job{ documents = 40 }
      local clean = list(H.client():documents(id, { page_size = 10 }))
      emu.fault{ route = "documents", job = id, page = page, action = "repeat_doc", times = -1 }
      local got, err = list(H.client():documents(id, { page_size = 10 }))
      assert.equal(H.distinct(got), #got)
      if err then
        assert.equal("protocol", err.kind)
        assert.truthy(err.message:find("twice", 1, true), err.message)
        -- what was yielded is the clean listing's beginning: nothing lost before the error
        assert.same({ unpack(clean, 1, #got) }, got)
      else
        assert.same(clean, got)
      end
      -- the generic for raises it: never a silent short listing
      local listing = H.client():documents(id, { page_size = 10 })
      local ok, e2 = pcall(function()
        for _ in listing do end -- luacheck: ignore
      end)
      assert.equal(err == nil, ok)
      if not ok then
        -- a string that says what happened; the error value stays with the listing
        assert.matches("^spec/security/hostile_spec%.lua:%d+: doctranslate: protocol 200: " ..
          "the service listed document %S+ twice", e2)
        assert.equal("protocol", listing:error().kind)
      end
    end)
  end
end)

describe("hostile repeats", function()
  local other
  lazy_setup(function() other = listener.start() end)
  lazy_teardown(function() other:stop() end)

  it("a document repeated two pages later (next links at the right offsets): a typed error", function()
    local c = other:client()
    local got, err = list(c:documents("dup-listing", { page_size = 2 }))
    assert.same({ "d0", "d1", "d2", "d3" }, got)
    assert.is_true(H.dt.is_error(err), "never a silent duplicate")
    assert.equal("protocol", err.kind)
    assert.truthy(err.message:find("d0 twice", 1, true), err.message)
    assert.equal(3, #other:requests())
  end)

  it("a next link that is not a string: the trusted documents, then a typed error (never a silent end)",
    function()
      local c = other:client()
      local got, err = list(c:documents("numeric-link", { page_size = 2 }))
      assert.same({ "n0" }, got)
      assert.is_true(H.dt.is_error(err))
      assert.equal("protocol", err.kind)
      assert.truthy(err.message:find("not a string", 1, true), err.message)
    end)

  it("items that are not documents: the documents before them, then a parse error", function()
    local c = other:client()
    local got, err = list(c:documents("no-id", { page_size = 10 }))
    assert.same({ "k0" }, got)
    assert.is_true(H.dt.is_error(err))
    assert.equal("parse", err.kind)
    assert.truthy(err.message:find("item 2", 1, true), err.message)
  end)
end)

describe("caps", function()
  local other
  lazy_setup(function()
    emu.reset()
    other = listener.start()
  end)
  lazy_teardown(function() other:stop() end)

  it("body size: 16 MiB by default, configurable, a typed error over it", function()
    local id = H.job{ documents = 2 }
    emu.fault{ route = "job", job = id, action = "oversize", bytes = 17 * 1024 * 1024 }
    local _, err = H.client{ retries = 0 }:job(id)
    assert.equal("protocol", err.kind)
    assert.truthy(err.message:find("cap", 1, true), err.message)
    emu.fault{ route = "job", job = id, action = "oversize", bytes = 15 * 1024 * 1024 }
    -- the body's padding is one string: max_string lets it through
    local job = assert(H.client{ retries = 0, max_string = 16 * 1024 * 1024 }:job(id))
    assert.equal(id, job.id)
    emu.fault{ route = "job", job = id, action = "oversize", bytes = 8192 }
    local _, e2 = H.client{ retries = 0, max_body = 4096 }:job(id)
    assert.equal("protocol", e2.kind)
    local ok, e3 = pcall(H.dt.new, { endpoint = emu.http, key = "k", max_body = 10 })
    assert.is_false(ok)
    e3 = U.of(e3)
    assert.truthy(e3.message:find("max_body", 1, true))
  end)

  it("header size: 64 KiB by default, configurable, a typed error over it", function()
    local _, err = other:client():job("many-headers")
    assert.is_true(H.dt.is_error(err))
    assert.equal("protocol", err.kind)
    assert.truthy(err.message:find("header", 1, true), err.message)
    local job = assert(other:client{ max_headers = 1024 * 1024 }:job("many-headers"))
    assert.equal("x", job.id)
    -- one header line over libcurl's own limit (100 KiB): a typed error as well
    local _, e2 = other:client{ max_headers = 1024 * 1024 }:job("huge-header")
    assert.is_true(H.dt.is_error(e2))
    assert.is_string(e2.message)
  end)

  it("JSON nesting depth: a typed parse error", function()
    local _, err = other:client():job("deep")
    assert.equal("parse", err.kind)
    assert.equal(200, err.status)
    assert.truthy(err.message:find("nesting", 1, true), err.message)
  end)

  it("string length: max_string (1 MiB by default) in every body, and the body cap", function()
    local _, e1 = other:client():job("long-string")
    assert.equal("parse", e1.kind)
    assert.truthy(e1.message:find("max_string (1048576 bytes)", 1, true), e1.message)
    local job = assert(other:client{ max_string = 16 * 1024 * 1024 }:job("long-string"))
    assert.equal(8 * 1024 * 1024, #job.id)
    local _, err = other:client{ max_body = 1024 * 1024 }:job("long-string")
    assert.equal("protocol", err.kind)
  end)

  it("pages per listing: max_pages, a typed error after the pages it allows", function()
    local id = H.job{ documents = 30 }
    local got, err = list(H.client{ max_pages = 2 }:documents(id, { page_size = 5 }))
    assert.equal(10, #got)
    assert.equal("protocol", err.kind)
    assert.truthy(err.message:find("max_pages", 1, true))
    local all, e2 = list(H.client{ max_pages = 6 }:documents(id, { page_size = 5 }))
    assert.is_nil(e2)
    assert.equal(30, #all)
  end)
end)

describe("timeouts", function()
  local other
  lazy_setup(function() other = listener.start() end)
  lazy_teardown(function() other:stop() end)

  it("the total timeout covers a body trickling one byte a second", function()
    local c = other:client{ timeout = 2 }
    local t0 = socket.gettime()
    local _, err = c:job("trickle")
    local took = socket.gettime() - t0
    assert.equal("timeout", err.kind)
    assert.is_true(took >= 1.9 and took < 3.5, "took " .. took)
  end)

  it("connect_timeout bounds a connection that never completes", function()
    -- a listening socket that never accepts, its backlog filled: the kernel leaves further SYNs
    -- unanswered (an outside address may be answered by the sandbox's network)
    local srv = assert(socket.bind("127.0.0.1", 0, 1))
    local _, port = srv:getsockname()
    local fill = {}
    for i = 1, 4 do
      fill[i] = socket.tcp()
      fill[i]:settimeout(0.2)
      fill[i]:connect("127.0.0.1", port)
    end
    -- (libcurl would take a proxy from the environment: the client sets none unless told)
    local c = H.dt.new{ endpoint = "http://127.0.0.1:" .. port, key = "k", retries = 0, connect_timeout = 0.5,
                        timeout = 30 }
    local t0 = socket.gettime()
    local _, err = c:job("x")
    local took = socket.gettime() - t0
    for _, s in ipairs(fill) do s:close() end
    srv:close()
    assert.equal("timeout", err.kind)
    assert.is_true(took >= 0.45 and took < 2, "took " .. took)
  end)

  it("job:wait has a deadline (timeout) for the whole wait", function()
    emu.reset()
    local id = H.job{ documents = 5, duration = 600 }
    local job = assert(H.client():job(id))
    local t0 = socket.gettime()
    local done, err = job:wait{ timeout = 1.5, interval = 0.2 }
    assert.is_nil(done)
    assert.equal("timeout", err.kind)
    assert.is_true(socket.gettime() - t0 < 3)
  end)
end)
