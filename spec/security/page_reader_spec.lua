-- Every body is read by the module's own one-pass reader: a document must read the same listed
-- (an element of a page) and fetched alone (the root of its body), and the reader's caps
-- (max_depth, max_string) are options with typed errors.
local H = require "core.helper"
local listener = require "security.listener"

local function first_of(pages)
  local page, err = pages:next_page()
  if page == nil then return nil, err end
  return page[1], nil, #page
end

local KEYS = { "id", "status", "to", "progress", "characterCharged", "big", "small", "neg", "exp", "frac",
               "esc", "lone", "flag", "off", "nothing", "arr", "error", "dup", "k", "k\0cut", "spaced",
               "createdDateTimeUtc", "path", "absent" }

describe("the page reader", function()
  local other
  lazy_setup(function() other = listener.start() end)
  lazy_teardown(function() other:stop() end)

  local function client(o)
    local opts = { timeout = 10 }
    for k, v in pairs(o or {}) do opts[k] = v end
    return other:client(opts)
  end

  it("gives a listed document the values the same document fetched alone has", function()
    local c = client()
    local listed, err, n = first_of(c:documents("tricky", { page_size = 10 }))
    assert.is_nil(err)
    assert.equal(1, n)
    local alone = assert(c:document("tricky", "t1"))
    for _, k in ipairs(KEYS) do
      assert.same(alone[k], listed[k], k)
    end
    assert.equal("t\195\169\240\159\152\128", listed.id)
    assert.equal('a"b\\c/d\n\t\0e', listed.esc)
    assert.equal("\239\191\189x\239\191\189", listed.lone)
    assert.equal(2, listed.dup)
    assert.equal(3, listed.k) -- a name is cut at a NUL, as a JSON library keeps names
    assert.is_nil(listed.nothing)
    assert.equal("n", listed.error.innerError.message)
    assert.is_nil(listed.error.innerError.k) -- the last of a repeated name: null
    if math.type then
      assert.equal(9007199254740993, listed.characterCharged)
      -- past int64: the nearest float, never clamped (spec/security/strict_json_spec.lua)
      assert.equal("float", math.type(listed.big))
      assert.equal(1e20, listed.big)
      assert.equal(-1e20, listed.small)
      assert.equal("float", math.type(listed.exp))
      assert.equal("integer", math.type(listed.neg))
    end
    assert.equal(tostring(alone), tostring(listed))
    assert.equal(alone:time("createdDateTimeUtc"), listed:time("createdDateTimeUtc"))
    assert.is_nil(listed:time("absent"))
    local _, terr = listed:time("status")
    assert.equal("parse", terr.kind)
    assert.equal(200, listed:response().status)
    assert.equal("function", type(listed.time)) -- methods before members
  end)

  it("documents outlive their page and their listing", function()
    local c = client()
    local pages = c:documents("tricky", { page_size = 10 })
    local doc = assert(first_of(pages))
    pages:close()
    pages = nil -- luacheck: ignore
    collectgarbage()
    collectgarbage()
    assert.equal("Failed", doc.status)
    assert.equal("Y", doc.error.innerError.code)
  end)

  it("max_depth: nesting past it is a parse error naming the option; raised, the page reads", function()
    local _, err = first_of(client():documents("deep-page"))
    assert.equal("parse", err.kind)
    assert.equal(200, err.status)
    assert.truthy(err.message:find("max_depth (64)", 1, true), err.message)
    assert.truthy(err.message:find("nesting", 1, true), err.message)
    local doc = assert(first_of(client{ max_depth = 110 }:documents("deep-page")))
    local x, depth = doc.x, 0
    while type(x) == "table" do x, depth = x[1], depth + 1 end
    assert.equal(100, depth)
    assert.equal(1, x)
    -- the same cap for a single job
    local _, e2 = client{ max_depth = 3 }:job("deep")
    assert.equal("parse", e2.kind)
    assert.truthy(e2.message:find("max_depth (3)", 1, true), e2.message)
  end)

  it("max_string: a longer string in a page is a parse error naming the option; raised, it reads", function()
    local _, err = first_of(client():documents("long-page"))
    assert.equal("parse", err.kind)
    assert.truthy(err.message:find("max_string (1048576 bytes)", 1, true), err.message)
    local doc = assert(first_of(client{ max_string = 4 * 1024 * 1024 }:documents("long-page")))
    assert.equal(2 * 1024 * 1024, #doc.x)
    -- the same cap for a single job
    local _, e2 = client():job("long-string")
    assert.equal("parse", e2.kind)
    assert.truthy(e2.message:find("max_string (1048576 bytes)", 1, true), e2.message)
  end)

  it("bad values of the caps are usage errors", function()
    for _, o in ipairs{ { max_depth = 0 }, { max_depth = 1001 }, { max_depth = 2.5 }, { max_depth = "64" },
                        { max_string = 10 }, { max_string = 2 ^ 31 } } do
      local ok, e = pcall(H.dt.new, { endpoint = other.url, key = "k", max_depth = o.max_depth,
                                      max_string = o.max_string })
      assert.is_false(ok)
      e = require("support.usage").of(e)
      assert.truthy(e.message:find(next(o), 1, true), e.message)
    end
  end)
end)
