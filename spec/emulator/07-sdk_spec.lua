-- The official JS SDK lists a 1,000-document job from the emulator over HTTPS (emulator/sdk-check).
local sdk = require "support.sdk"

describe("the official JS SDK against the emulator", function()
  it("lists a 1,000-document job over HTTPS exactly, in nextLink mode", function()
    local result, code, out = sdk.run("check.js")
    if not result then return pending(code) end
    assert.same({}, result.failures)
    assert.equal(0, code, out)
    assert.equal(1000, result.listed)
    assert.equal(1000, result.distinct)
    assert.equal(20, result.pages) -- the default page size, 50
    -- the SDK follows only "nextLink": with the wire's "@nextLink" it stops after one page
    assert.equal(50, result.at_nextLink_mode_listed)
  end)
end)
