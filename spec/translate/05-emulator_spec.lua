-- The emulator's document:translate route seen with the curl CLI: the versions that have it,
-- the service's answers to invalid requests, and a timeout after the upload (libcurl client).
local emu = require "support.emulator"
local H = require "core.helper"
local T = require "translate.helper"

-- POST of a multipart form through the curl CLI: status, body.
local function post(path, form)
  local out = os.tmpname()
  local args = {}
  for _, f in ipairs(form or {}) do args[#args + 1] = "-F " .. emu.shell_quote(f) end
  local p = io.popen("curl -sS -o " .. emu.shell_quote(out) .. " -w '%{http_code}' -H "
    .. emu.shell_quote("Ocp-Apim-Subscription-Key: " .. emu.key) .. " " .. table.concat(args, " ") .. " "
    .. emu.shell_quote(emu.http .. path))
  local status = tonumber(p:read("*a"))
  p:close()
  local body = T.read(out)
  os.remove(out)
  return status, body
end

describe("the emulator's document:translate", function()
  before_each(function() emu.reset() end)

  it("exists in the 2024+ versions only", function()
    for _, v in ipairs({ "2024-05-01", "2024-11-01-preview", "2026-03-01" }) do
      local status, body = post("/translator/document:translate?targetLanguage=fr&api-version=" .. v,
        { "document=hello;filename=a.txt;type=text/plain" })
      assert.equal(200, status)
      assert.equal("[fr] hello", body)
    end
    for _, v in ipairs({ "v1.0", "v1.1" }) do
      local status = post("/translator/text/batch/" .. v .. "/document:translate?targetLanguage=fr",
        { "document=hello;filename=a.txt;type=text/plain" })
      assert.equal(404, status)
    end
    local status = post("/translator/document:translate?targetLanguage=fr&api-version=v1.1",
      { "document=hello;filename=a.txt;type=text/plain" })
    assert.equal(404, status)
  end)

  it("answers the service's 400s to invalid requests", function()
    local base = "/translator/document:translate?api-version=2024-05-01"
    local cases = {
      { base, { "document=x;filename=a.txt" }, "MissingTargetLanguage" },
      { base .. "&targetLanguage=fr,de", { "document=x;filename=a.txt" }, "TooManyTargetLanguages" },
      { base .. "&targetLanguage=fr", { "glossary=a\tb;filename=g.tsv" }, "MissingDocument" },
      { base .. "&targetLanguage=fr&translateTextWithinImage=true", { "document=x;filename=a.txt" },
        "InvalidQueryParameterValue" },
      { base .. "&targetLanguage=fr&allowFallback=maybe", { "document=x;filename=a.txt" },
        "InvalidQueryParameterValue" },
    }
    for _, case in ipairs(cases) do
      local status, body = post(case[1], case[2])
      assert.equal(400, status)
      assert.matches(case[3], body, 1, true)
    end
    local g = T.write(T.path("g.tsv"), string.rep("a\tb\n", 300000))
    local status, body = post(base .. "&targetLanguage=fr", { "document=x;filename=a.txt;type=text/plain",
      "glossary=@" .. g .. ";type=text/tab-separated-values" })
    assert.equal(400, status)
    assert.matches("GlossarySizeExceedsLimit", body, 1, true)
  end)

  it("a timeout once the upload was sent is not sent again (libcurl client)", function()
    emu.fault{ route = "translate", action = "latency", ms = 3000 }
    local c = H.client{ timeout = 0.5 }
    local r, err = c:translate{ document = { name = "a.txt", data = string.rep("x", 1000) }, to = "fr" }
    assert.is_nil(r)
    assert.equal("timeout", err.kind)
    assert.matches("not sent again", err.message, 1, true)
    assert.equal(1, emu.faults()[1].hits)
  end)
end)
