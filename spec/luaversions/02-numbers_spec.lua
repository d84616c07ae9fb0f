-- Counters are int64 in the service's JSON. Lua 5.3/5.4 give integers (exact to 2^63 - 1);
-- Lua 5.1, 5.2 and LuaJIT give plain numbers (doubles), exact to 2^53, which is every count a
-- job can have: job.summary.total == 120 holds on every Lua.
local H = require "core.helper"
local emu = H.emu

-- A job answer fed through the sans-I/O surface: any counter, no network.
local function job_with(summary)
  local c = H.client()
  local op = c:job_op("j")
  assert.is_table(op:next_request())
  op:feed{ status = 200, headers = { ["content-type"] = "application/json" },
           body = '{"id":"j","status":"Succeeded","createdDateTimeUtc":"2024-10-11T01:26:30.1343348Z",'
             .. '"lastActionDateTimeUtc":"2024-10-11T01:26:30.1343348Z","summary":' .. summary .. '}' }
  return assert(op:result())
end

describe("int64 counters on " .. (rawget(_G, "jit") and jit.version or _VERSION), function()
  it("are Lua numbers that compare equal to literals: job.summary.total == 120", function()
    emu.reset()
    local id = H.job{ documents = 120 }
    local job = assert(H.client():job(id))
    assert.equal("number", type(job.summary.total))
    assert.is_true(job.summary.total == 120)
    assert.equal("120", tostring(job.summary.total)) -- never "120.0"
    assert.equal(120, job.summary.notYetStarted + job.summary.inProgress + job.summary.success
      + job.summary.failed + job.summary.cancelled)
    if math.type then assert.equal("integer", math.type(job.summary.total)) end
    emu.reset()
  end)

  it("are exact up to 2^53 on every Lua", function()
    local job = job_with('{"total":9007199254740991,"failed":-9007199254740991,'
      .. '"totalCharacterCharged":4503599627370497}')
    assert.is_true(job.summary.total == 2 ^ 53 - 1)
    assert.is_true(job.summary.total - 1 == 9007199254740990)
    assert.is_true(job.summary.failed == -(2 ^ 53 - 1))
    assert.is_true(job.summary.totalCharacterCharged == 2 ^ 52 + 1)
    assert.equal("9007199254740991", string.format("%.0f", job.summary.total))
  end)

  it("beyond 2^53: exact integers on 5.3+, the nearest double before", function()
    local job = job_with('{"total":9223372036854775807,"totalCharacterCharged":9007199254740993}')
    if math.type then
      assert.equal("integer", math.type(job.summary.total))
      assert.equal(math.maxinteger, job.summary.total)
      assert.equal(9007199254740993, job.summary.totalCharacterCharged)
    else
      assert.equal("number", type(job.summary.total))
      assert.is_true(job.summary.total == 2 ^ 63)
      assert.is_true(job.summary.totalCharacterCharged == 2 ^ 53) -- 2^53 + 1 has no double
    end
  end)
end)
