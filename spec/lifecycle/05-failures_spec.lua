-- job:failures(): every failed document with its error chain, grouped with counts, printable as a
-- table and as JSON, for one filtered listing.
local L = require "lifecycle.helper"
local emu = L.emu
local cjson = require "cjson"
local lifecycle = require "doctranslate.lifecycle"

describe("job:failures", function()
  lazy_setup(function() emu.reset() end)
  lazy_teardown(function() emu.reset() end)

  for _, v in ipairs({ "v1.0", "2026-03-01" }) do
    it("reports every failed document, grouped by its error chain (" .. v .. ")", function()
      local c = L.client(v)
      local id = emu.create_job{ documents = 30, fail_every = 3, languages = { "fr", "de" } }.id
      local job = assert(c:job(id))
      local mark = L.mark()
      local report = assert(job:failures())
      local lists = L.log("documents", mark)
      assert.equals(1, #lists) -- one filtered listing, one page
      assert.matches("statuses=Failed", lists[1].query, 1, true)

      local want = {}
      for doc in c:documents(id, { statuses = { "Failed" } }) do want[doc.id] = doc end
      assert.equals(10, report.failed)
      assert.equals(10, #report.documents)
      local total = 0
      for i, g in ipairs(report.groups) do
        total = total + g.count
        assert.equals(g.count, #g.documents)
        if i > 1 then assert.is_true(report.groups[i - 1].count >= g.count) end
        assert.equals(g.code .. " > " .. g.innermost, g.key)
      end
      assert.equals(10, total)
      for _, d in ipairs(report.documents) do
        local doc = want[d.id]
        assert.is_truthy(doc)
        assert.equals(doc.sourcePath, d.sourcePath)
        assert.equals(doc.to, d.to)
        assert.equals(doc.error.code, d.code)
        assert.equals(doc.error.innerError.code, d.innermost)
        assert.equals(doc.error.innerError.message, d.message)
        assert.equals(2, #d.errors)
        assert.equals(d.code, d.errors[1].code)
        assert.equals(d.innermost, d.errors[2].code)
      end

      local text = tostring(report)
      assert.equals(text, report:table())
      assert.matches("job " .. id .. ": 10 failed documents in " .. #report.groups .. " group", text, 1, true)
      for _, g in ipairs(report.groups) do assert.matches(g.key, text, 1, true) end
      for _, d in ipairs(report.documents) do assert.matches(d.sourcePath, text, 1, true) end

      local json = cjson.decode(report:json())
      assert.equals(id, json.job_id)
      assert.equals(10, json.failed)
      assert.equals(#report.groups, #json.groups)
      assert.equals(report.groups[1].count, json.groups[1].count)
      assert.equals(report.groups[1].documents[1].id, json.groups[1].documents[1])
      assert.equals(10, #json.documents)
      assert.equals(report.documents[1].innermost, json.documents[1].errors[2].code)
    end)
  end

  it("pages through many failures and reports an empty job with arrays that stay arrays", function()
    local c = L.client("2024-05-01")
    local job = assert(c:job(emu.create_job{ documents = 40, fail_every = 2 }.id))
    local mark = L.mark()
    local report = assert(job:failures{ page_size = 6 })
    assert.equals(20, report.failed)
    assert.equals(4, #L.log("documents", mark)) -- ceil(20 / 6)
    local clean = assert(assert(c:job(emu.create_job{ documents = 5 }.id)):failures())
    assert.equals(0, clean.failed)
    assert.matches('"groups":[]', clean:json(), 1, true)
    assert.matches('"documents":[]', clean:json(), 1, true)
    assert.matches(": 0 failed documents in 0 groups", tostring(clean), 1, true)
  end)

  it("returns the listing's error as a value", function()
    local c = L.client("v1.1", { retries = 0 })
    local job = assert(c:job(emu.create_job{ documents = 10, fail_every = 2 }.id))
    emu.fault{ route = "documents", action = "status", status = 503 }
    local r, err = job:failures()
    emu.clear_faults()
    assert.is_nil(r)
    assert.equals(503, err.status)
    assert.has_error(function() job:failures{ colour = 1 } end)
  end)

  it("follows deep chains (innerError and innererror), hides SAS signatures, keeps codeless errors", function()
    local page = {
      { id = "a", sourcePath = "https://x.blob/c/a.txt?sv=1&sig=TOPSECRET", to = "fr",
        error = { code = "InvalidRequest", message = "outer", target = "Document",
                  innerError = { code = "InvalidDocument", message = "middle",
                                 innererror = { code = "EmptyDocument", message = "inner" } } } },
      { id = "b", sourcePath = "https://x.blob/c/b.txt", to = "de",
        error = { code = "InvalidRequest", message = "outer",
                  innerError = { code = "InvalidDocument", message = "middle",
                                 innerError = { code = "EmptyDocument", message = "inner 2" } } } },
      { id = "c", sourcePath = "https://x.blob/c/c.txt", to = "de", error = { message = "no code" } },
      { id = "d", sourcePath = "https://x.blob/c/d.txt", to = "de" },
    }
    local fake = { id = "job-1" }
    function fake.documents(_, opts)
      assert.same({ statuses = { "Failed" } }, opts)
      local given = false
      return {
        next_page = function()
          if given then return nil end
          given = true
          return page
        end,
        close = function() end,
      }
    end
    local report = assert(lifecycle.failures(fake))
    assert.equals(4, report.failed)
    local g = report.groups[1]
    assert.equals("InvalidRequest > InvalidDocument > EmptyDocument", g.key)
    assert.equals(2, g.count)
    assert.equals("EmptyDocument", g.innermost)
    assert.equals("inner", report.documents[1].message)
    assert.equals("?", report.documents[3].key)
    assert.equals("(no error)", report.documents[4].key)
    assert.not_matches("TOPSECRET", tostring(report), 1, true)
    assert.not_matches("TOPSECRET", report:json(), 1, true)
    assert.matches("sig=REDACTED", report:json(), 1, true)
  end)
end)
