-- Azure AD bearer tokens: a string, or a function called when needed, again when it expires, and
-- once more when a 401 says it expired (the request then retried once); never logged or shown.
local L = require "lifecycle.helper"
local U = require "support.usage"
local emu = L.emu
local core = require "doctranslate.core"
local wall = require("socket").gettime -- epoch seconds with a fraction, as expires_at may be

local function tokens_client(version, fn, extra)
  local logs = {}
  local opts = { endpoint = emu.http, token = fn, api_version = version, retry_base = 0.05,
                 log = function(_, m) logs[#logs + 1] = m end }
  for k, v in pairs(extra or {}) do opts[k] = v end
  return L.dt.new(opts), logs
end

local function no_secret(secret, ...)
  for _, s in ipairs({ ... }) do assert.not_matches(secret, tostring(s), 1, true) end
end

describe("bearer tokens", function()
  local job_id
  lazy_setup(function()
    emu.reset()
    job_id = emu.create_job{ documents = 3 }.id
  end)
  lazy_teardown(function() emu.reset() end)

  for _, v in ipairs({ "v1.1", "2024-05-01" }) do
    describe(v, function()
      it("sends a token string as Authorization: Bearer and never shows it", function()
        local tok = emu.token{ expires_in = 3600 }.token
        local c, logs = tokens_client(v, tok, { region = "westeurope" })
        local mark = L.mark()
        local job = assert(c:job(job_id))
        local r = L.log("job", mark)[1]
        assert.equals("Bearer REDACTED", r.headers.authorization)
        assert.is_nil(r.headers["ocp-apim-subscription-key"])
        assert.equals("westeurope", r.headers["ocp-apim-subscription-region"])
        local _, err = c:job("00000000-0000-4000-8000-000000000000")
        no_secret(tok, c, job, err, table.concat(logs, "\n"))
      end)

      it("calls the token function once, again when the token expires, before any 401", function()
        local calls = 0
        local last
        -- the token lives a second for the client (fetched again a tenth of that early) and two
        -- for the service: the client's expiry is on the real clock, so the spec sleeps past it,
        -- and the service's on the emulator's, which it advances past it
        local c, logs = tokens_client(v, function()
          calls = calls + 1
          last = emu.token{ expires_in = 2 }.token
          return last, wall() + 1
        end)
        assert.equals(0, calls) -- nothing before the first request
        local mark = L.mark()
        assert(c:job(job_id))
        assert(c:job(job_id))
        assert.equals(1, calls)
        core.sleep(1)
        emu.advance(2.2)
        assert(c:job(job_id))
        assert.equals(2, calls)
        for _, r in ipairs(L.log(nil, mark)) do assert.equals(200, r.status) end
        no_secret(last, c, table.concat(logs, "\n"))
      end)

      it("gets a new token once when a 401 says the token expired, and retries the request once", function()
        local calls = 0
        local c = tokens_client(v, function()
          calls = calls + 1
          -- the service forgets it after a second, while the function claims an hour
          return emu.token{ expires_in = 1 }.token, os.time() + 3600
        end)
        assert(c:job(job_id))
        emu.advance(1.3) -- the service's clock
        local mark = L.mark()
        local job = assert(c:job(job_id))
        assert.equals(job_id, job.id)
        assert.equals(2, calls)
        local log = L.log("job", mark)
        assert.equals(2, #log)
        assert.same({ 401, 200 }, { log[1].status, log[2].status })
        assert.equals(log[1].headers["x-ms-client-request-id"], log[2].headers["x-ms-client-request-id"])
      end)

      it("gives the 401 back when the new token is refused too (one retry, no more)", function()
        local calls = 0
        local c = tokens_client(v, function()
          calls = calls + 1
          return "not-a-token-the-emulator-issued-" .. calls
        end)
        local mark = L.mark()
        local job, err = c:job(job_id)
        assert.is_nil(job)
        assert.equals(401, err.status)
        assert.equals("401", err.code)
        assert.equals(2, calls)
        assert.equals(2, #L.log("job", mark))
        no_secret("not-a-token-the-emulator-issued-2", err)
      end)
    end)
  end

  it("refreshes for a start (POST) and for every page of a listing", function()
    local calls = 0
    local c = tokens_client("2026-03-01", function()
      calls = calls + 1
      return emu.token{ expires_in = 1 }.token, os.time() + 3600
    end)
    local job = assert(c:start(L.request()))
    assert.equals(1, calls)
    emu.advance(1.3) -- the service's clock
    assert(job:refresh())
    assert.equals(2, calls)
    local ids = 0
    for _ in c:documents(job_id, { page_size = 1 }) do ids = ids + 1 end
    assert.equals(3, ids)
  end)

  it("returns the token function's failure as an error value", function()
    local c = tokens_client("v1.0", function() return nil, "the identity endpoint is down" end, { retries = 0 })
    local job, err = c:job(job_id)
    assert.is_nil(job)
    assert.equals("network", err.kind)
    assert.matches("identity endpoint is down", err.message, 1, true)
    local c2 = tokens_client("v1.0", function() error("boom") end, { retries = 0 })
    local _, e2 = c2:job(job_id)
    assert.matches("token function failed: .*boom", e2.message)
  end)

  it("drives a Lua transport: next_request fetches the token; set_token / token_due for drivers", function()
    local calls = 0
    local tok
    local c = tokens_client("2024-05-01", function()
      calls = calls + 1
      tok = emu.token{ expires_in = 60 }.token
      return tok, os.time() + 60
    end)
    assert.is_true(c:token_due())
    local op = c:job_op(job_id)
    local req = op:next_request()
    assert.equals(1, calls)
    assert.equals("Bearer " .. tok, req.headers.Authorization)
    no_secret(tok, req)
    op:feed(L.send(req))
    assert.equals(job_id, assert(op:result()).id)
    assert.is_false(c:token_due())
    c:set_token(emu.token{ expires_in = 60 }.token, os.time() - 1)
    assert.is_true(c:token_due())
    assert.has_error(function() L.client("v1.1"):set_token("x") end) -- a key client
  end)

  it("checks the option", function()
    for _, bad in ipairs({ { token = 5 }, { token = "" }, { token = "a\nb" },
                           { token = function() end, key = emu.key } }) do
      bad.endpoint = emu.http
      local ok, err = pcall(L.dt.new, bad)
      assert.is_false(ok)
      assert.equal("usage", U.of(err).kind) -- a string at the caller's line
    end
  end)
end)
