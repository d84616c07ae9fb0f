-- The official JS SDK's single-document call (@azure-rest/ai-translation-document 1.0.0,
-- POST /document:translate) against the emulator over HTTPS (emulator/sdk-check/translate.js).
local emu = require "support.emulator"

local DIR = "emulator/sdk-check"

local function sh(cmd)
  local p = io.popen(cmd .. " 2>&1; printf '\\n%d' $?")
  local out = p:read("*a")
  p:close()
  local text, code = out:match("^(.-)\n(%d+)$")
  return tonumber(code), text or out
end

describe("the official JS SDK's document:translate against the emulator", function()
  it("translates a text document with a glossary and a binary document", function()
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
    emu.reset()
    local env = "NODE_EXTRA_CA_CERTS=" .. emu.shell_quote(emu.ca) .. " DT_EMULATOR_HTTPS=" ..
      emu.shell_quote(emu.https) .. " DT_EMULATOR_KEY=" .. emu.shell_quote(emu.key)
    local code, out = sh("cd " .. DIR .. " && " .. env .. " timeout 120 node translate.js")
    local line = out:match("({.*})%s*$")
    assert.is_string(line, out)
    local result = emu.decode(line)
    assert.same({}, result.failures)
    assert.equal(0, code, out)
    assert.equal("[fr] the chat sat\n[fr] the dog ran\n", result.text)
    assert.equal("24", result.metered)
    assert.is_true(result.binary_ok)
    -- what the emulator received: two multipart translations over TLS, api-version 2024-05-01
    local seen = {}
    for _, r in ipairs(emu.requests()) do
      if r.route == "translate" then seen[#seen + 1] = r end
    end
    assert.equal(2, #seen)
    for _, r in ipairs(seen) do
      assert.is_true(r.tls)
      assert.equal(200, r.status)
      assert.matches("api-version=2024-05-01", r.query, 1, true)
      assert.matches("^multipart/form%-data", r.headers["content-type"])
    end
  end)
end)
