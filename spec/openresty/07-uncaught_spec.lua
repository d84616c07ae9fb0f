-- Errors nobody catches in a content handler land in nginx's error log readable: an argument
-- error names the argument and the handler's line, a listing that fails half-way inside a `for`
-- loop names the kind, status, code, message and request id. (nginx's Lua module writes
-- "unknown reason" for an error that is not a string, which is what an error table gave.)
local emu = require "support.emulator"
local N = require "openresty.nginx"

local HANDLERS = [[
        location = /uncaught/argument {
            content_by_lua_block {
                local c = require("doctranslate").new{ endpoint = os.getenv("DT_ENDPOINT"), key = os.getenv("DT_KEY") }
                local job = c:job(ngx.var.arg_job)
                ngx.say(job.status)
            }
        }
        location = /uncaught/listing {
            content_by_lua_block {
                local c = require("doctranslate").new{ endpoint = os.getenv("DT_ENDPOINT"), key = os.getenv("DT_KEY"),
                                                       retry_base = 0.01 }
                local n = 0
                for doc in c:documents(ngx.var.arg_job, { page_size = 10 }) do n = n + 1 end
                ngx.say(n)
            }
        }
]]

describe("an uncaught error under nginx", function()
  local srv, job
  lazy_setup(function()
    emu.reset()
    job = emu.create_job({ documents = 30 })
    srv = N.start{ endpoint = emu.http, key = emu.key, conf = N.root .. "/spec/openresty/eval_nginx.conf",
                   edit = function(conf)
                     local out, n = conf:gsub("(        location = /ping {)",
                                              function(ping) return HANDLERS .. ping end)
                     assert(n == 1, "eval_nginx.conf has no /ping location")
                     return out
                   end }
  end)
  lazy_teardown(function()
    if srv then srv:stop() end
    emu.reset()
  end)

  it("of a request without a job id says which argument and where", function()
    local status = srv:get("/uncaught/argument")
    assert.equal(500, status)
    local log = srv:error_log()
    assert.is_nil(log:find("unknown reason", 1, true), log)
    assert.truthy(log:find("content_by_lua%(nginx%.conf:%d+%):3: bad argument 'job_id': a non%-empty string " ..
      "expected, got nil"), log)
  end)

  it("of a listing failing half-way names kind, status, code, message and request id", function()
    emu.fault({ route = "documents", page = 2, action = "status", status = 404, times = -1 })
    finally(function() emu.clear_faults() end)
    local status = srv:get("/uncaught/listing?job=" .. job.id)
    assert.equal(500, status)
    local log = srv:error_log()
    assert.is_nil(log:find("unknown reason", 1, true), log)
    local line = log:match("[^\n]*doctranslate: http 404 [^\n]*")
    assert.is_string(line, log)
    assert.truthy(line:find("content_by_lua%(nginx%.conf:%d+%):5: doctranslate: http 404 %w+: "), line)
    local rid = line:match("apim%-request%-id=([%x%-]+)")
    assert.is_string(rid, line)
    local seen = false
    for _, r in ipairs(emu.requests()) do
      if r.request_id == rid then seen = (r.status == 404) end
    end
    assert.is_true(seen, "request id " .. rid .. " is not the emulator's 404")
  end)
end)
