-- Links and URLs: a next link that cannot be sent is a protocol error, never retried; a fragment
-- never swallows api-version; the origin check reads a link the way libcurl, which connects,
-- reads it (one parser: curl_url); an id the service names is one segment or refused; the URL
-- builder has no hidden limits (no "out of memory" for a long ids entry).
local S = require "security.scripted"

local JSON = S.JSON
local DOC = '{"id":"d1","status":"Succeeded","to":"fr"}'

local function page(items, link)
  return '{"value":[' .. table.concat(items, ",") .. "]" .. (link and (',"@nextLink":"' .. link .. '"') or "") .. "}"
end

local function list(pages)
  local ids = {}
  while true do
    local p, err = pages:next_page()
    if p == nil then return ids, err end
    for i = 1, #p do ids[#ids + 1] = p[i].id end
  end
end

describe("next links", function()
  local base = "/translator/document/batches/j1/documents?skip=1&api-version=2026-03-01"

  for _, case in ipairs({ { "vertical tab", "\\u000b" }, { "DEL", "\\u007f" }, { "NUL", "\\u0000" },
                          { "line feed", "\\n" }, { "space", " " }, { "form feed", "\\f" } }) do
    it("with a " .. case[1] .. " is a protocol error after the page, never retried", function()
      local srv = S.start{ S.response("200 OK", JSON, page({ DOC }, "http://{HOST}" .. base .. case[2] .. "x")),
                           S.response("200 OK", JSON, page({ '{"id":"d2","status":"Succeeded"}' })) }
      local c = srv:client{ retries = 3, retry_base = 0.01 }
      local ids, err = list(c:documents("j1"))
      local n = #srv:requests()
      srv:stop()
      assert.same({ "d1" }, ids)
      assert.truthy(err)
      assert.equal("protocol", err.kind)
      assert.equal(1, n)
    end)
  end

  it("with a #fragment: the fragment is dropped and api-version is in the query sent", function()
    local srv = S.start{
      S.response("200 OK", JSON, page({ DOC }, "/translator/document/batches/j1/documents?skip=1#frag")),
      S.response("200 OK", JSON, page({ '{"id":"d2","status":"Succeeded"}' })) }
    local c = srv:client{ retries = 0 }
    local ids, err = list(c:documents("j1"))
    local targets = srv:targets()
    srv:stop()
    assert.is_nil(err)
    assert.same({ "d1", "d2" }, ids)
    assert.equal("/translator/document/batches/j1/documents?skip=1&api-version=2026-03-01", targets[2])
  end)

  it("the origin check reads a host as libcurl connects to it (127.1 and 0x7f.1 are 127.0.0.1)", function()
    for _, host in ipairs({ "127.1", "0x7f.1", "[::ffff:127.0.0.1]" }) do
      local srv = S.start{ S.response("200 OK", JSON, page({ DOC }, "http://" .. host .. ":{PORT}" .. base)),
                           S.response("200 OK", JSON, page({ '{"id":"d2","status":"Succeeded"}' })) }
      local c = srv:client{ retries = 0 }
      local ids, err = list(c:documents("j1"))
      local n = #srv:requests()
      srv:stop()
      if host:find("::", 1, true) then
        -- another spelling libcurl does not fold: a foreign origin, not followed
        assert.same({ "d1" }, ids)
        assert.equal("protocol", err and err.kind)
        assert.equal(1, n)
      else
        assert.is_nil(err, host .. ": " .. tostring(err))
        assert.same({ "d1", "d2" }, ids)
        assert.equal(2, n)
      end
    end
  end)
end)

describe("the URL builder", function()
  it("a job started with an Operation-Location ending in '..' is a protocol error", function()
    local loc = "Operation-Location: http://{HOST}/translator/document/batches/.."
    local s2 = S.start{ S.response("202 Accepted", { loc }, "") }
    local c = s2:client{ retries = 0 }
    local job, err = c:start{ inputs = { { source = { sourceUrl = "https://a.blob.core.windows.net/src" },
      targets = { { targetUrl = "https://a.blob.core.windows.net/fr", language = "fr" } } } } }
    s2:stop()
    assert.is_nil(job)
    assert.equal("protocol", err.kind)
  end)

  it("a long entry of ids is sent whole, never 'out of memory'", function()
    local long = ("i"):rep(5000)
    local s2 = S.start{ S.response("200 OK", JSON, page({ DOC })) }
    local c = s2:client{ retries = 0 }
    local ids, err = list(c:documents("j1", { ids = { "a", long } }))
    local targets = s2:targets()
    s2:stop()
    assert.is_nil(err)
    assert.same({ "d1" }, ids)
    assert.truthy(targets[1]:find("ids=a," .. long, 1, true))
  end)
end)
