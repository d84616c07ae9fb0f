-- The official JS SDK's single-document call (@azure-rest/ai-translation-document 1.0.0,
-- POST /document:translate) against the emulator over HTTPS (emulator/sdk-check/translate.js).
local emu = require "support.emulator"
local sdk = require "support.sdk"

describe("the official JS SDK's document:translate against the emulator", function()
  it("translates a text document with a glossary and a binary document", function()
    emu.reset()
    local result, code, out = sdk.run("translate.js")
    if not result then return pending(code) end
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
