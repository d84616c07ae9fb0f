-- What the server says about waiting: Retry-After is read as RFC 9110 defines it (1*DIGIT
-- seconds or an HTTP-date; anything else is ignored) by one parser, the core's, on every path;
-- every wait it causes is capped by retry_max and by the caller's timeout, so no value from the
-- server raises a usage error or keeps a wait from ending. (Trailers: trailers_spec.)
local S = require "security.scripted"
local lifecycle = require "doctranslate.lifecycle"
local socket = require "socket"

local JSON = S.JSON
local RUNNING = S.RUNNING
local DONE = S.DONE
local BUSY = S.BUSY

local retry_waits = S.retry_waits

describe("Retry-After", function()
  for _, case in ipairs({ { "Retry-After", "0x3" }, { "Retry-After", "3.5" }, { "Retry-After", "+3" },
                          { "Retry-After", "3s" }, { "Retry-After", "1e1" }, { "retry-after-ms", "2500garbage" },
                          { "retry-after-ms", "0x9c4" }, { "x-ms-retry-after-ms", "2500.0" },
                          { "Retry-After", "Sun, 06 Nov 2994 08:49:37 GMT garbage" } }) do
    it(case[1] .. ": " .. case[2] .. " is ignored (the client's own backoff)", function()
      local srv = S.start{ S.response("503 Service Unavailable", { "Content-Type: application/json",
                                                                   case[1] .. ": " .. case[2] }, BUSY),
                           S.response("200 OK", JSON, DONE) }
      local waits, job = retry_waits(srv)
      srv:stop()
      assert.truthy(job)
      assert.equal(1, #waits)
      assert.is_true(waits[1] < 0.5, "waited " .. waits[1] .. " s")
    end)

    it(case[1] .. ": " .. case[2] .. " on a 4xx is no reason to retry", function()
      local srv = S.start{ S.response("409 Conflict", { "Content-Type: application/json",
                                                         case[1] .. ": " .. case[2] }, BUSY),
                           S.response("200 OK", JSON, DONE) }
      local _, job, err = retry_waits(srv)
      local n = #srv:requests()
      srv:stop()
      assert.is_nil(job)
      assert.equal(409, err.status)
      assert.equal(1, n)
    end)
  end

  it("a valid Retry-After is honoured up to retry_max", function()
    local srv = S.start{ S.response("503 Service Unavailable", { "Retry-After: 100000" }, BUSY),
                         S.response("200 OK", JSON, DONE) }
    local waits, job = retry_waits(srv, { retry_max = 0.2 })
    srv:stop()
    assert.truthy(job)
    assert.same({ 0.2 }, waits)
  end)

  it("the Lua layer reads it with the core's parser", function()
    for _, case in ipairs({ { "0x3", 0 }, { "1e999", 0 }, { "2500garbage", 0 }, { "7", 7 }, { "", 0 } }) do
      local srv = S.start{ S.response("200 OK", { "Content-Type: application/json", "Retry-After: " .. case[1] },
                                      RUNNING) }
      local job = assert(srv:client():job("j1"))
      srv:stop()
      assert.equal(case[2], lifecycle.retry_after(job), case[1])
    end
  end)

  for _, value in ipairs({ "100000", "1e999", "99999999999999999999999999" }) do
    it("job:wait with Retry-After: " .. value .. " raises no usage error and waits at most retry_max", function()
      local later = { "Content-Type: application/json", "Retry-After: " .. value }
      local srv = S.start{ S.response("200 OK", later, RUNNING), S.response("200 OK", later, RUNNING),
                           S.response("200 OK", JSON, DONE) }
      local c = srv:client{ retry_max = 0.05 }
      local job = assert(c:job("j1"))
      -- the sleep of the environment (core.sleep: a usage error above 86,400 s)
      local t0 = socket.gettime()
      local ok, got = pcall(job.wait, job, { interval = 0 })
      assert.is_true(ok, tostring(got))
      assert.equal("Succeeded", got.status)
      assert.is_true(socket.gettime() - t0 < 2)
      -- and every wait it asked for
      local sleeps = {}
      srv:stop()
      srv = S.start{ S.response("200 OK", later, RUNNING), S.response("200 OK", JSON, DONE) }
      c = srv:client{ retry_max = 0.05 }
      job = assert(c:job("j1"))
      got = job:wait{ interval = 0, sleep = function(s) sleeps[#sleeps + 1] = s end }
      srv:stop()
      assert.equal("Succeeded", got.status)
      for _, s in ipairs(sleeps) do assert.is_true(s <= 0.05, "slept " .. s) end
    end)

    it("job:wait_async{timeout = 2} with Retry-After: " .. value .. " ends within the timeout", function()
      local later = { "Content-Type: application/json", "Retry-After: " .. value }
      local srv = S.start{ S.response("200 OK", later, RUNNING) }
      local c = srv:client()
      local job = assert(c:job("j1"))
      local w = job:wait_async{ timeout = 2 }
      local t0 = socket.gettime()
      while not w:step() and socket.gettime() - t0 < 5 do socket.sleep(0.01) end
      srv:stop()
      assert.is_true(w.done, "still waiting after 5 s")
      assert.is_true(socket.gettime() - t0 <= 2.5)
      assert.equal("timeout", w.error and w.error.kind)
    end)
  end
end)
