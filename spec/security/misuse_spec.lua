-- Programmer errors: a method called with '.' instead of ':' (c.job(nil, "x")), on the wrong
-- object, or with a wrong argument raises the module's usage error, a string at the caller's
-- line as luaL_argerror raises them (spec/support/usage.lua):
-- every method of every class (client, job, document, pages, op, async op, request, error, and
-- the methods written in Lua: wait, wait_async, failures, the wait handle, the failure report).
local dt = require "doctranslate"
local S = require "security.scripted"

local U = require "support.usage"

-- A usage error placed at this file's line (the caller's), not inside the module.
local function is_usage(ok, err)
  if ok then return false end
  local parsed, e = pcall(U.of, err)
  return parsed and e.where:find("misuse_spec%.lua:%d+$") ~= nil
end

local CLASSES = { "doctranslate.Client", "doctranslate.Job", "doctranslate.Document", "doctranslate.Pages",
                  "doctranslate.Op", "doctranslate.Request", "doctranslate.Error", "doctranslate.Async" }

describe("misuse", function()
  local srv, c, job, wait, report
  lazy_setup(function()
    srv = S.start{ S.response("200 OK", { "Content-Type: application/json" },
                              '{"id":"j1","status":"Succeeded","value":[]}') }
    c = srv:client()
    job = assert(c:job("j1"))
    wait = job:wait_async{}
    report = assert(job:failures())
  end)
  lazy_teardown(function() srv:stop() end)

  it("the examples: c.job(nil, 'x'), c.document(nil, ...), c.documents({}, ...)", function()
    assert.is_true(is_usage(pcall(c.job, nil, "x")))
    assert.is_true(is_usage(pcall(c.document, nil, "x", "y")))
    assert.is_true(is_usage(pcall(c.documents, {}, "x")))
    local line = debug.getinfo(1, "l").currentline + 1
    local ok, err = pcall(c.job, nil, "x")
    assert.is_false(ok)
    assert.equal("string", type(err))
    assert.matches("misuse_spec%.lua:" .. line .. ": bad self: c:job%(%) must be called on a doctranslate client", err)
  end)

  it("every method of every C class, given no self or another object as self", function()
    local reg = debug.getregistry()
    local tried = 0
    -- another object of the module: a job for the client's methods, the client for the others
    for _, name in ipairs(CLASSES) do
      local mt = reg[name]
      if mt then
        local methods = type(mt.__index) == "table" and mt.__index or {}
        local all = {}
        for k, f in pairs(methods) do if type(f) == "function" then all[k] = f end end
        for _, mm in ipairs({ "__tostring", "__len", "__call", "__close" }) do
          if type(mt[mm]) == "function" then all[mm] = mt[mm] end
        end
        for k, f in pairs(all) do
          local others = { nil, {}, "x", 1, name == "doctranslate.Client" and job or c }
          for i = 1, 5 do
            local self = others[i]
            -- errors and requests are tables: their __tostring takes any table
            local lenient = (name == "doctranslate.Error" or name == "doctranslate.Request") and type(self) == "table"
            if getmetatable(self) ~= mt and not lenient then
              tried = tried + 1
              local ok, err = pcall(f, self)
              assert.is_true(is_usage(ok, err), name .. "." .. k .. "(" .. tostring(self) .. "): "
                .. (ok and "no error" or type(err) .. " " .. tostring(err)))
            end
          end
        end
      end
    end
    assert.is_true(tried > 100, "tried only " .. tried)
  end)

  it("the methods written in Lua, given no self or another object as self", function()
    local funcs = {
      ["job.wait"] = job.wait, ["job.wait_async"] = job.wait_async, ["job.failures"] = job.failures,
      ["w.step"] = wait.step, ["w.next_poll_in"] = wait.next_poll_in, ["w.cancel"] = wait.cancel,
      ["report.table"] = report.table, ["report.json"] = report.json,
    }
    for name, f in pairs(funcs) do
      for _, self in ipairs({ false, {}, "x", 1, c }) do
        local ok, err = pcall(f, self or nil)
        assert.is_true(is_usage(ok, err), name .. "(" .. tostring(self) .. "): " .. tostring(err))
      end
    end
  end)

  it("wrong arguments: usage errors", function()
    assert.is_true(is_usage(pcall(c.job, c, 42)))
    assert.is_true(is_usage(pcall(c.job, c)))
    assert.is_true(is_usage(pcall(c.documents, c, "j1", 5)))
    assert.is_true(is_usage(pcall(dt.new)))
    assert.is_true(is_usage(pcall(dt.new, "https://example.com")))
    assert.is_true(is_usage(pcall(dt.redact)))
    assert.is_true(is_usage(pcall(require("doctranslate.core").error, "nope", "x")))
    assert.is_true(is_usage(pcall(require("doctranslate.core").sleep, "x")))
  end)
end)
