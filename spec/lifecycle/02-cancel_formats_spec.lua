-- job:cancel() and c:formats() in both URL families.
local L = require "lifecycle.helper"
local U = require "support.usage"
local emu = L.emu

describe("job:cancel", function()
  lazy_setup(function()
    emu.reset()
    emu.settings{ cancel_delay = 0.5 }
  end)
  lazy_teardown(function() emu.reset() end)

  for _, v in ipairs(L.VERSIONS) do
    it("cancels a running job, then cancelling it again after it ended is the service's error (" .. v .. ")",
      function()
        local c = L.client(v)
        local job = assert(c:start(L.request()))
        local mark = L.mark()
        assert.equals(job, job:cancel())
        local dels = L.log("cancel", mark)
        assert.equals(1, #dels)
        assert.equals("DELETE", dels[1].method)
        assert.equals("/batches/" .. job.id, dels[1].path:sub(-#job.id - 9))
        assert.is_truthy(job.status == "Cancelling" or job.status == "Cancelled")
        assert.equals(200, job:response().status)
        local done = assert(job:wait(emu.clock_opts{ interval = 0.2, timeout = 10 })) -- the emulator's time
        assert.is_truthy(done.status == "Cancelled" or done.status == "Canceled")
        local again, err = job:cancel()
        assert.is_nil(again)
        assert.equals("http", err.kind)
        assert.equals(L.is_v1(v) and 400 or 409, err.status)
        assert.equals("InvalidRequest", err.code)
        -- the job keeps its last good state
        assert.equals(done.status, job.status)
      end)
  end

  it("c:cancel(job_id) and an unknown job", function()
    local c = L.client("2024-11-01-preview")
    local job = assert(c:start(L.request()))
    local j = assert(c:cancel(job.id))
    assert.equals(job.id, j.id)
    local none, err = c:cancel("00000000-0000-4000-8000-000000000000")
    assert.is_nil(none)
    assert.equals(404, err.status)
    assert.has_error(function() c:cancel() end)
  end)

  it("works through a Lua transport (cancel_op)", function()
    local c = L.client("v1.1")
    local job = assert(c:start(L.request()))
    local op = c:cancel_op(job.id)
    local sent = L.drive(op)
    assert.equals(1, #sent)
    assert.equals("DELETE", sent[1].method)
    local j = assert(op:result())
    assert.equals("Cancelling", j.status)
  end)
end)

describe("c:formats", function()
  lazy_setup(function() emu.reset() end)

  for _, v in ipairs(L.VERSIONS) do
    it("lists document and glossary formats (" .. v .. ")", function()
      local c = L.client(v)
      local mark = L.mark()
      local docs = assert(c:formats("document"))
      local gloss = assert(c:formats("glossary"))
      assert.equals(docs, docs) -- a plain array
      assert.is_true(#docs > 10)
      local by = {}
      for _, f in ipairs(docs) do by[f.format] = f end
      assert.same({ ".txt" }, by.PlainText.fileExtensions)
      assert.same({ "text/plain" }, by.PlainText.contentTypes)
      assert.equals("1.2", by.XLIFF.defaultVersion)
      assert.same({ "1.0", "1.1", "1.2" }, by.XLIFF.versions)
      assert.equals(3, #gloss)
      local log = L.log("formats", mark)
      assert.equals(2, #log)
      if L.is_v1(v) then
        assert.equals("/translator/text/batch/" .. v .. "/documents/formats", log[1].path)
        assert.equals("/translator/text/batch/" .. v .. "/glossaries/formats", log[2].path)
        assert.is_nil(gloss[1].type)
      else
        assert.equals("/translator/document/formats", log[1].path)
        assert.equals("type=document&api-version=" .. v, log[1].query)
        assert.equals("type=glossary&api-version=" .. v, log[2].query)
        assert.equals("Glossary", gloss[1].type) -- a field the core does not know, kept
      end
    end)
  end

  it("defaults to document formats, checks its argument, returns errors as values", function()
    local c = L.client("2024-05-01")
    assert.is_true(#assert(c:formats()) > 10)
    local ok, err = pcall(c.formats, c, "images")
    assert.is_false(ok)
    assert.equal("usage", U.of(err).kind) -- a string at the caller's line
    emu.fault{ route = "formats", action = "status", status = 404 }
    local f, e = c:formats("glossary")
    assert.is_nil(f)
    assert.equals(404, e.status)
    emu.clear_faults()
  end)

  it("works through a Lua transport (formats_op)", function()
    local op = L.client("2026-03-01"):formats_op("glossary")
    L.drive(op)
    local f = assert(op:result())
    assert.equals("XLIFF", f[1].format)
  end)
end)
