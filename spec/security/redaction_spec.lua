-- Redaction: every string that leaves the module (log lines, error messages, tostring) has its
-- secrets removed from the whole string first and is cut after, so a cut never leaves part of a
-- secret behind; and only secrets are masked: a word of the service's message that happens to
-- be the (short) key stays as it is.
local S = require "security.scripted"
local dt = require "doctranslate"

local KEY = "KEYSECRET-5b2f8e1a9c7d4f60"

local function error_body(message)
  return '{"error":{"code":"Oops","message":"' .. message .. '"}}'
end

-- Every prefix of the key of 8 bytes or more that s holds.
local function key_piece(s, key)
  for n = #key, 8, -1 do
    if s:find(key:sub(1, n), 1, true) then return key:sub(1, n) end
  end
end

describe("redaction", function()
  it("a log line echoing the key near its 1,024-byte cut holds no part of the key", function()
    for _, at in ipairs({ 990, 1000, 1005, 1010, 1015, 1020 }) do
      -- "http error: " starts the line of the error
      local message = ("m"):rep(at - #"http error: ") .. KEY .. (" tail"):rep(20)
      local srv = S.start{ S.response("400 Bad Request", { "Content-Type: application/json" }, error_body(message)) }
      local lines = {}
      local c = dt.new{ endpoint = srv.url, key = KEY, retries = 0,
                        log = function(_, m) lines[#lines + 1] = m end }
      local job, err = c:job("j1")
      srv:stop()
      assert.is_nil(job)
      assert.truthy(err)
      for _, line in ipairs(lines) do
        assert.is_true(#line <= 1024, "a log line over 1,024 bytes")
        assert.is_nil(key_piece(line, KEY), "a log line holds part of the key (at " .. at .. "): " .. line:sub(-60))
      end
      assert.is_nil(key_piece(err.message, KEY))
      assert.is_nil(key_piece(tostring(err), KEY))
    end
  end)

  it("an error message echoing the key near its cut holds no part of it (a Lua transport)", function()
    for _, at in ipairs({ 490, 500, 505, 510, 1000, 1010, 1020 }) do
      local message = ("n"):rep(at) .. KEY .. (" tail"):rep(200)
      local lines = {}
      local transport = {
        request = function() return nil, "network", message end,
        sleep = function() end,
      }
      local c = dt.new{ endpoint = "https://example.invalid", key = KEY, retries = 0, transport = transport,
                        log = function(_, m) lines[#lines + 1] = m end }
      local job, err = c:job("j1")
      assert.is_nil(job)
      assert.equal("network", err.kind)
      assert.is_nil(key_piece(err.message, KEY), "the message holds part of the key (at " .. at .. ")")
      assert.is_nil(key_piece(tostring(err), KEY))
      for _, line in ipairs(lines) do
        assert.is_true(#line <= 1024)
        assert.is_nil(key_piece(line, KEY), "a log line holds part of the key (at " .. at .. ")")
      end
    end
  end)

  it("only secrets are masked: a short key does not mask the words of the service's message", function()
    local text = "Access denied due to invalid subscription key or wrong API endpoint."
    local srv = S.start{ S.response("401 Unauthorized", { "Content-Type: application/json" }, error_body(text)) }
    local c = dt.new{ endpoint = srv.url, key = "wrong", retries = 0 }
    local _, err = c:job("j1")
    srv:stop()
    assert.equal(text, err.message)
    assert.truthy(tostring(err):find(text, 1, true))
  end)

  it("a real key echoed by the service is masked as a whole, and a word containing it is not cut up", function()
    local text = "the key " .. KEY .. " is not valid"
    local srv = S.start{ S.response("401 Unauthorized", { "Content-Type: application/json" }, error_body(text)) }
    local c = dt.new{ endpoint = srv.url, key = KEY, retries = 0 }
    local _, err = c:job("j1")
    srv:stop()
    assert.equal("the key REDACTED is not valid", err.message)
  end)
end)

describe("redaction of a token function's message", function()
  it("the old token echoed near the cut of 'gave no token: ...' leaves no part of it", function()
    local TOKEN = "TOKENSECRET-0a1b2c3d4e5f6789"
    local srv = S.start{ S.response("401 Unauthorized", { "Content-Type: application/json" },
                                    '{"error":{"code":"401","message":"expired"}}') }
    local calls = 0
    local c = dt.new{ endpoint = srv.url, retries = 0, token = function()
      calls = calls + 1
      if calls == 1 then return TOKEN end
      return nil, ("w"):rep(460) .. TOKEN .. (" tail"):rep(20)
    end }
    local _, err = c:job("j1")
    srv:stop()
    assert.truthy(err)
    assert.is_nil(key_piece(err.message or "", TOKEN), err.message)
    assert.is_nil(key_piece(tostring(err), TOKEN))
  end)
end)
