-- Ids: every job or document id stays one path segment: "." and ".." are refused with a usage
-- error before any request (libcurl would remove them as dot segments and ask for another
-- resource: c:job("..") the job list, c:document(job, "..") the job).
local S = require "security.scripted"

local JSON = S.JSON
local JOB = S.RUNNING

local usage_of = S.usage_of

describe("ids", function()
  local srv
  lazy_setup(function() srv = S.start{ S.response("200 OK", JSON, JOB) } end)
  lazy_teardown(function() srv:stop() end)

  for _, id in ipairs({ ".", ".." }) do
    it("'" .. id .. "' is refused before any request, by every method that takes an id", function()
      local c = srv:client{ retries = 0 }
      local before = #srv:requests()
      usage_of(function() return c:job(id) end)
      usage_of(function() return c:job_op(id) end)
      usage_of(function() return c:document("j1", id) end)
      usage_of(function() return c:document(id, "d1") end)
      usage_of(function() return c:document_op("j1", id) end)
      usage_of(function() return c:documents(id) end)
      usage_of(function() return c:cancel(id) end)
      usage_of(function() return c:cancel_op(id) end)
      usage_of(function() return c:job_async(id) end)
      usage_of(function() return c:document_async("j1", id) end)
      usage_of(function() return c:documents_async(id) end)
      local job = assert(c:job("j1"))
      usage_of(function() return job:document(id) end)
      assert.equal(before + 1, #srv:requests())
    end)
  end

  it("ids with dots, slashes and escapes stay one segment", function()
    local c = srv:client{ retries = 0 }
    for _, id in ipairs({ "...", ".a", "a/../b", "%2E%2E", "a b" }) do
      assert.truthy(c:job(id))
      local reqs = srv:targets()
      local path = reqs[#reqs]:match("^[^?]*")
      assert.equal("/translator/document/batches/", path:sub(1, #"/translator/document/batches/"))
      assert.is_nil(path:sub(#"/translator/document/batches/" + 1):find("/", 1, true), path)
    end
  end)

end)

