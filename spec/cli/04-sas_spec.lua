-- SAS signatures in document paths: hidden in the tables people read,
-- kept in --json, where programs need the real URL.
local H = require "cli.helper"
local emu = require "support.emulator"

local SIG = "cliSasSignature0123456789"

describe("doctranslate and SAS signatures", function()
  local job_id, doc_id
  lazy_setup(function()
    job_id = emu.create_job{ documents = 3, source = "https://acct.blob.core.windows.net/src?sv=2024&sig=" .. SIG }.id
    local r = H.run{ "docs", job_id, "--json" }
    assert.equal(0, r.code)
    doc_id = H.json_lines(r.out)[1].id
  end)

  it("docs: the table shows sig=REDACTED, --json the real value", function()
    local t = H.run("docs", job_id)
    assert.equal(0, t.code)
    assert.falsy(t.out:find(SIG, 1, true))
    assert.truthy(t.out:find("sig=REDACTED", 1, true))
    local j = H.run{ "docs", job_id, "--json" }
    assert.equal(0, j.code)
    local first = H.json_lines(j.out)[1]
    assert.truthy(first.sourcePath:find("sig=" .. SIG, 1, true))
  end)

  it("doc: the table shows sig=REDACTED, --json the real value", function()
    local t = H.run("doc", job_id, doc_id)
    assert.equal(0, t.code)
    assert.falsy(t.out:find(SIG, 1, true))
    assert.truthy(t.out:find("sig=REDACTED", 1, true))
    local j = H.run{ "doc", job_id, doc_id, "--json" }
    assert.truthy(j.out:find("sig=" .. SIG, 1, true))
  end)
end)
