-- Header values: whatever goes into a request header (the key, a token - given, set later with
-- set_token or made by a token function -, the region, the user agent) is sent exactly as given
-- or refused with a usage error: a CR or LF never starts a header of the caller's data, a long
-- key is never cut, a NUL never ends it early.
local S = require "security.scripted"
local dt = require "doctranslate"

local JOB = S.RUNNING

local usage_of = S.usage_of

local function header(raw, name)
  for line in raw:gmatch("[^\n]+") do
    local n, v = line:match("^([^:]+):%s?(.-)\r?$")
    if n and n:lower() == name:lower() then return v end
  end
end

describe("header values", function()
  local srv
  lazy_setup(function() srv = S.start{ S.response("200 OK", { "Content-Type: application/json" }, JOB) } end)
  lazy_teardown(function() srv:stop() end)

  local BAD = {
    { "CR LF", "west\r\nX-Injected: 1" }, { "LF", "west\nX-Injected: 1" }, { "CR", "west\rX" },
    { "NUL", "west\0X-Injected" }, { "vertical tab", "west\vX" }, { "DEL", "west\127" }, { "tab", "we\tst" },
  }
  for _, case in ipairs(BAD) do
    for _, option in ipairs({ "key", "token", "region", "user_agent" }) do
      it(option .. " with a " .. case[1] .. " is a usage error", function()
        local o = { endpoint = srv.url }
        if option ~= "key" and option ~= "token" then o.key = "scripted-key-0123456789" end
        o[option] = case[2]
        usage_of(function() return dt.new(o) end)
      end)
    end
    it("set_token with a " .. case[1] .. " is a usage error", function()
      local c = dt.new{ endpoint = srv.url, token = "first-token-0123456789" }
      usage_of(function() return c:set_token(case[2]) end)
    end)
    it("a token function's token with a " .. case[1] .. " is a usage error, and nothing is sent", function()
      local before = #srv:requests()
      local c = dt.new{ endpoint = srv.url, token = function() return case[2] end, retries = 2 }
      usage_of(function() return c:job("j1") end)
      assert.equal(before, #srv:requests())
    end)
  end

  it("a key longer than a header can take is refused, never cut", function()
    usage_of(function() return dt.new{ endpoint = srv.url, key = ("k"):rep(9000) } end)
    usage_of(function() return dt.new{ endpoint = srv.url, token = ("t"):rep(9000) } end)
    local c = dt.new{ endpoint = srv.url, token = "first-token-0123456789" }
    usage_of(function() return c:set_token(("t"):rep(9000)) end)
  end)

  it("the longest key and token allowed are sent exactly", function()
    local key = ("0123456789abcdef"):rep(500) -- 8000 bytes
    local c = dt.new{ endpoint = srv.url, key = key, retries = 0 }
    assert.truthy(c:job("j1"))
    local reqs = srv:requests()
    assert.equal(key, header(reqs[#reqs], "Ocp-Apim-Subscription-Key"))
    c = dt.new{ endpoint = srv.url, token = key, retries = 0 }
    assert.truthy(c:job("j1"))
    reqs = srv:requests()
    assert.equal("Bearer " .. key, header(reqs[#reqs], "Authorization"))
  end)

  it("a region and a user agent are sent as given, and no header is made of them", function()
    local c = dt.new{ endpoint = srv.url, key = "scripted-key-0123456789", region = "westeurope",
                      user_agent = "my-app/1.0 (+https://example.com)", retries = 0 }
    assert.truthy(c:job("j1"))
    local reqs = srv:requests()
    local raw = reqs[#reqs]
    assert.equal("westeurope", header(raw, "Ocp-Apim-Subscription-Region"))
    assert.equal("my-app/1.0 (+https://example.com)", header(raw, "User-Agent"))
    assert.is_nil(header(raw, "X-Injected"))
  end)
end)
