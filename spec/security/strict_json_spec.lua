-- A single job or document is read as strictly as a listing page: NaN and Infinity (outside
-- RFC 8259) are parse errors, and an integer past int64 is the float nearest to it, never clamped
-- to the int64 bounds.
local listener = require "security.listener"

local BIG = "123456789012345678901234567890"

describe("strict JSON in single objects", function()
  local other
  lazy_setup(function() other = listener.start() end)
  lazy_teardown(function() other:stop() end)

  -- c:job(id) and c:document(id, doc_id) of the listener's client
  local reads = {
    job = function(c, id) return c:job(id) end,
    document = function(c, id) return c:document(id, "d1") end,
  }

  for what, read in pairs(reads) do
    it(what .. ": NaN, Infinity and -Infinity are parse errors", function()
      local c = other:client()
      for _, kind in ipairs{ "nan", "inf", "neginf" } do
        local obj, err = read(c, "strict-" .. kind)
        assert.is_nil(obj, kind)
        assert.equal("parse", err.kind, kind)
        assert.equal(200, err.status, kind)
        assert.truthy(err.message:find("invalid JSON at byte", 1, true), err.message)
      end
    end)

    it(what .. ": a 30-digit integer is the nearest float, not clamped", function()
      local c = other:client()
      local obj = assert(read(c, "strict-bigint"))
      assert.equal("Running", obj.status)
      assert.equal(tonumber(BIG), obj.x)
      assert.is_true(obj.x > 1.2e29 and obj.x < 1.3e29)
      assert.equal(-tonumber(BIG), assert(read(c, "strict-negbigint")).x)
      if math.type then
        assert.equal("float", math.type(obj.x))
        assert.not_equal(math.maxinteger, obj.x)
      end
      assert.is_string(tostring(obj))
    end)
  end
end)
