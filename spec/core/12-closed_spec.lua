-- A listing used after it was closed: its iterator and next_page both raise the same
-- usage error, whoever closed it (close(), a for loop on Lua 5.4 that ended or broke, <close>),
-- so a reused listing never looks complete; continuation() still resumes it. A listing that
-- ended but was not closed (Lua 5.1-5.3 loops close nothing) keeps answering "no more" (nil).
-- The same through doctranslate.driver with a Lua transport.
local H = require "core.helper"
local U = require "support.usage"
local http = require "socket.http"
local ltn12 = require "ltn12"
local emu = H.emu

local function luasocket_transport()
  local t = {}
  function t.request(_, req)
    local chunks = {}
    local _, code, headers = http.request{ url = req.url, method = req.method, headers = req.headers,
                                           sink = ltn12.sink.table(chunks) }
    if type(code) ~= "number" then return nil, "network", tostring(code) end
    return { status = code, headers = headers, body = table.concat(chunks) }
  end
  function t.sleep() end
  return t
end

local function usage_of(f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, "no error raised")
  err = U.of(err) -- a string at the caller's line
  return err
end

local drivers = {
  { "libcurl", function() return H.client{ page_size = 4 } end },
  { "a Lua transport", function()
      return H.dt.new{ endpoint = emu.http, key = emu.key, transport = luasocket_transport(), page_size = 4 }
    end },
}

for _, d in ipairs(drivers) do
  local name, new = d[1], d[2]
  describe("a closed listing (" .. name .. ")", function()
    local id, all

    lazy_setup(function()
      emu.reset()
      id = H.job{ documents = 10 }
      all = H.listing(H.client(), id)
    end)

    it("raises the same usage error from its iterator and next_page after close()", function()
      local pages = new():documents(id)
      local first = pages()
      assert.equal(all[1], first.id)
      pages:close()
      pages:close() -- idempotent
      local e1 = usage_of(pages)
      local e2 = usage_of(pages.next_page, pages)
      assert.equal(e1.message, e2.message)
      assert.matches("the listing is closed", e1.message, 1, true)
      assert.matches("continuation", e1.message, 1, true)
      -- and it still resumes after the one handed out
      local got = { first.id }
      for doc in new():documents(id, { continuation = pages:continuation() }) do got[#got + 1] = doc.id end
      assert.same(all, got)
    end)

    it("a listing that ended but was not closed keeps saying there is no more", function()
      local pages = new():documents(id)
      local n = 0
      while pages() do n = n + 1 end -- called by hand: nothing closes it
      assert.equal(#all, n)
      assert.is_nil(pages())
      assert.is_nil(pages:next_page())
    end)

    if _VERSION == "Lua 5.4" then
      it("raises after a for loop broke out of it (Lua 5.4 closes it), not an empty second loop", function()
        local c = new()
        local pages = c:documents(id)
        local got = {}
        for doc in pages, nil, nil, pages do
          got[#got + 1] = doc.id
          if #got == 3 then break end
        end
        usage_of(function() for _ in pages do error("a closed listing yielded") end end)
        for doc in c:documents(id, { continuation = pages:continuation() }) do got[#got + 1] = doc.id end
        assert.same(all, got)
      end)

      it("raises after a <close> variable closed it", function()
        local pages = new():documents(id)
        assert(load("local pages = ...; do local p <close> = pages end"))(pages)
        usage_of(pages)
      end)
    end
  end)
end
