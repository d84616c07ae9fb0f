-- The official JS SDK lists a 1,000-document job from the emulator over HTTPS (emulator/sdk-check).
local emu = require "support.emulator"

local DIR = "emulator/sdk-check"

local function sh(cmd)
  -- the exit status is printed after the output: close() does not return it on Lua 5.1/LuaJIT
  local p = io.popen(cmd .. " 2>&1; printf '\\n%d' $?")
  local out = p:read("*a")
  p:close()
  local text, code = out:match("^(.-)\n(%d+)$")
  return tonumber(code), text or out
end

describe("the official JS SDK against the emulator", function()
  it("lists a 1,000-document job over HTTPS exactly, in nextLink mode", function()
    if sh("command -v node") ~= 0 or sh("command -v npm") ~= 0 then
      pending("node and npm are not installed")
      return
    end
    if sh("test -d " .. DIR .. "/node_modules/@azure-rest/ai-translation-document") ~= 0 then
      local code, out = sh("cd " .. DIR .. " && timeout 300 npm ci --no-audit --no-fund --loglevel=error")
      if code ~= 0 then
        pending("the SDK could not be installed from npm: " .. out:sub(1, 300))
        return
      end
    end
    local env = "NODE_EXTRA_CA_CERTS=" .. emu.shell_quote(emu.ca) .. " DT_EMULATOR_HTTP=" ..
      emu.shell_quote(emu.http) .. " DT_EMULATOR_HTTPS=" .. emu.shell_quote(emu.https) .. " DT_EMULATOR_KEY=" ..
      emu.shell_quote(emu.key)
    local code, out = sh("cd " .. DIR .. " && " .. env .. " timeout 120 node check.js")
    local line = out:match("({.*})%s*$")
    assert.is_string(line, out)
    local result = emu.decode(line)
    assert.same({}, result.failures)
    assert.equal(0, code, out)
    assert.equal(1000, result.listed)
    assert.equal(1000, result.distinct)
    assert.equal(20, result.pages) -- the default page size, 50
    -- the SDK follows only "nextLink": with the wire's "@nextLink" it stops after one page
    assert.equal(50, result.at_nextLink_mode_listed)
  end)
end)
