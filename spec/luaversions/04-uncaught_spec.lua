-- An error nobody catches prints what it is on every Lua: a script run by the interpreter of this
-- spec (busted --lua=...; `make test-all` runs 5.1 to 5.4 and LuaJIT) ends on an argument error
-- or on a listing that fails half-way, and its stderr names the kind, the status, the code, the
-- message and the request id, at the script's own line. Before, 5.1 and LuaJIT printed
-- "(error object is not a string)".
local emu = require "support.emulator"

local LUA = os.getenv("DT_CLI_LUA") or (rawget(_G, "jit") and "luajit") or ("lua" .. _VERSION:match("%d+%.%d+"))

local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- Runs body as a script file (this state's module paths first); its stderr and exit status.
local function run(body)
  local script = ("package.path, package.cpath = %q, %q\n"):format(package.path, package.cpath) ..
    ("local dt = require 'doctranslate'\nlocal c = dt.new{ endpoint = %q, key = %q, retry_base = 0.01 }\n")
      :format(emu.http, emu.key) .. body
  local path = os.tmpname()
  local fh = assert(io.open(path, "w"))
  fh:write(script)
  fh:close()
  local err = os.tmpname()
  local p = assert(io.popen(shell_quote(LUA) .. " " .. shell_quote(path) .. " 2>" .. shell_quote(err) ..
    " >/dev/null; printf '%d' $?"))
  local code = tonumber(p:read("*a"))
  p:close()
  fh = assert(io.open(err, "r"))
  local text = fh:read("*a")
  fh:close()
  os.remove(path)
  os.remove(err)
  return text, code, path
end


describe("an uncaught error on " .. LUA, function()
  local job
  lazy_setup(function()
    emu.reset()
    job = emu.create_job({ documents = 30 })
  end)
  lazy_teardown(function() emu.reset() end)

  it("of a bad argument prints the argument, the function and the script's line", function()
    local text, code, path = run("local j = c:job(nil)\n")
    assert.are_not.equal(0, code)
    assert.is_nil(text:find("error object is not a string", 1, true), text)
    assert.truthy(text:find(path:match("[^/]+$") .. ":4: bad argument 'job_id': a non-empty string expected, got nil",
      1, true), text)
  end)

  it("of a listing failing half-way prints kind, status, code, message and request id", function()
    emu.fault({ route = "documents", page = 2, action = "status", status = 404, times = -1 })
    finally(function() emu.clear_faults() end)
    local text, code, path = run(([[
local n = 0
for doc in c:documents(%q, { page_size = 10 }) do n = n + 1 end
]]):format(job.id))
    assert.are_not.equal(0, code)
    assert.is_nil(text:find("error object is not a string", 1, true), text)
    local where = path:match("[^/]+$") .. ":5: "
    assert.truthy(text:find(where .. "doctranslate: http 404 ", 1, true), text)
    local rid = text:match("apim%-request%-id=([%x%-]+)")
    assert.is_string(rid, text)
    -- the id is the one of the answer that failed: the emulator logged it
    local seen = false
    for _, r in ipairs(emu.requests()) do
      if r.request_id == rid then
        seen = true
        assert.equal(404, r.status)
      end
    end
    assert.is_true(seen, "request id " .. rid .. " is not in the emulator's log")
  end)
end)
