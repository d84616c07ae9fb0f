-- Every route of the emulator in every API version: status codes, bodies, headers, auth.
local cjson = require "cjson"
local emu = require "support.emulator"

local function sha256_hex(s)
  local path = os.tmpname()
  local fh = assert(io.open(path, "wb"))
  fh:write(s)
  fh:close()
  local p = assert(io.popen("sha256sum " .. emu.shell_quote(path)))
  local out = p:read("*a")
  p:close()
  os.remove(path)
  return out:match("^(%x+)"):upper() -- the service writes its ETags in uppercase hex
end

local function get_json(path, headers)
  local status, h, body = emu.get(path, headers)
  assert(status, h)
  local ok, decoded = pcall(cjson.decode, body)
  return status, h, ok and decoded or nil, body
end

local function keys_in_order(body, keys)
  local last = 0
  for _, k in ipairs(keys) do
    local at = body:find('"' .. k .. '":', 1, true)
    assert.is_truthy(at, "key " .. k .. " missing")
    assert.is_true(at > last, "key " .. k .. " out of order")
    last = at
  end
end

describe("emulator routes", function()
  -- leave no jobs, faults or settings behind for the spec files that follow
  teardown(function() emu.reset() end)

  local job

  setup(function()
    emu.reset()
    job = emu.create_job({ documents = 30, fail_every = 4, languages = { "fr", "de" } })
  end)

  for _, v in ipairs(emu.VERSIONS) do
    describe(v, function()
      local base = emu.base(v)

      it("answers job status with the recorded field order and headers", function()
        local status, h, j, body = get_json(base .. "/batches/" .. job.id .. emu.q(v))
        assert.equal(200, status)
        assert.equal(job.id, j.id)
        assert.equal("Succeeded", j.status)
        assert.same({ total = 30, failed = 7, success = 23, inProgress = 0, notYetStarted = 0, cancelled = 0,
                      totalCharacterCharged = j.summary.totalCharacterCharged }, j.summary)
        assert.is_true(j.summary.totalCharacterCharged > 23 * 27)
        keys_in_order(body, { "id", "createdDateTimeUtc", "lastActionDateTimeUtc", "status", "summary", "total",
                              "failed", "success", "inProgress", "notYetStarted", "cancelled",
                              "totalCharacterCharged" })
        assert.equal("1", h["retry-after"])
        assert.equal("application/json; charset=utf-8", h["content-type"])
        assert.equal('"' .. sha256_hex(body) .. '"', h["etag"])
        assert.matches("^%x+%-%x+%-%x+%-%x+%-%x+$", h["apim-request-id"])
        assert.equal(h["apim-request-id"], h["x-requestid"])
        assert.is_nil(h["x-ms-client-request-id"])
        assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.?%d*Z$", j.createdDateTimeUtc)
      end)

      it("answers one document, succeeded and failed", function()
        local first = job._emulator.first_document_id
        local status, h, d, body = get_json(base .. "/batches/" .. job.id .. "/documents/" .. first .. emu.q(v))
        assert.equal(200, status)
        assert.equal(first, d.id)
        assert.equal("Succeeded", d.status)
        assert.equal("fr", d.to)
        assert.equal(1, d.progress)
        assert.equal(27, d.characterCharged)
        keys_in_order(body, { "path", "sourcePath", "createdDateTimeUtc", "lastActionDateTimeUtc", "status", "to",
                              "progress", "id", "characterCharged" })
        assert.equal('"' .. sha256_hex(body) .. '"', h["etag"])
        -- index 3 fails with fail_every = 4: no path, an error between "to" and "progress"
        local failed = "00000003" .. first:sub(9)
        status, _, d, body = get_json(base .. "/batches/" .. job.id .. "/documents/" .. failed .. emu.q(v))
        assert.equal(200, status)
        assert.equal("Failed", d.status)
        assert.is_nil(d.path)
        assert.equal("de", d.to)
        assert.equal(0, d.characterCharged)
        assert.equal("InvalidRequest", d.error.code)
        assert.is_string(d.error.innerError.code)
        keys_in_order(body, { "sourcePath", "createdDateTimeUtc", "lastActionDateTimeUtc", "status", "to", "error",
                              "progress", "id", "characterCharged" })
      end)

      it("lists documents with a next link", function()
        local q = emu.is_v1(v) and "$maxpagesize=10" or "maxpagesize=10"
        local status, _, page = get_json(base .. "/batches/" .. job.id .. "/documents" .. emu.q(v, q))
        assert.equal(200, status)
        assert.equal(10, #page.value)
        local link = page["@nextLink"]
        assert.is_string(link)
        if emu.is_v1(v) then
          assert.equal(emu.http .. base .. "/batches/" .. job.id .. "/documents?$skip=10&$top=20&$maxpagesize=10",
            link)
        else
          assert.equal(emu.http .. base .. "/batches/" .. job.id ..
            "/documents?skip=10&top=20&maxpagesize=10&api-version=" .. v, link)
        end
      end)

      it("lists jobs, newest first", function()
        local q = emu.is_v1(v) and "$top=3" or "top=3"
        local status, _, page = get_json(base .. "/batches" .. emu.q(v, q))
        assert.equal(200, status)
        assert.equal(3, #page.value)
        assert.equal(job.id, page.value[1].id)
        assert.is_true(emu.ticks(page.value[1].createdDateTimeUtc) >= emu.ticks(page.value[2].createdDateTimeUtc))
        assert.is_nil(page["@nextLink"])
      end)

      it("answers 404 ResourceNotFound for an unknown job on every job route", function()
        local unknown = "11111111-2222-4333-8444-555555555555"
        for _, path in ipairs({ "/batches/" .. unknown, "/batches/" .. unknown .. "/documents",
                                "/batches/" .. unknown .. "/documents/" .. job._emulator.first_document_id }) do
          local status, h, e = get_json(base .. path .. emu.q(v))
          assert.equal(404, status)
          assert.equal("ResourceNotFound", e.error.code)
          assert.equal("ResourceNotFound", h["x-ms-error-code"])
          assert.is_string(e.error.innerError.code)
        end
        local status, _, e = emu.request({ method = "DELETE", path = base .. "/batches/" .. unknown .. emu.q(v) })
        assert.equal(404, status)
        assert.equal("ResourceNotFound", cjson.decode(e).error.code)
      end)

      it("answers an unknown document id of a known job", function()
        local unknown = "000f0000" .. job._emulator.first_document_id:sub(9)
        local status, h, body = emu.get(base .. "/batches/" .. job.id .. "/documents/" .. unknown .. emu.q(v))
        assert.equal(404, status)
        if emu.is_v1(v) then
          assert.equal("ResourceNotFound", cjson.decode(body).error.code)
        else
          assert.equal("", body) -- as recorded for 2024-05-01
        end
        assert.equal(h["apim-request-id"], h["x-requestid"])
      end)

      it("rejects malformed job and document ids with 400", function()
        local status, _, e = get_json(base .. "/batches/not-a-guid" .. emu.q(v))
        assert.equal(400, status)
        assert.equal("InvalidArgument", e.error.code)
        assert.matches("not%-a%-guid", e.error.message)
        status, _, e = get_json(base .. "/batches/" .. job.id .. "/documents/xyz" .. emu.q(v))
        assert.equal(400, status)
        assert.matches("xyz", e.error.message)
      end)

      it("serves the formats", function()
        if emu.is_v1(v) then
          local status, _, f = get_json(base .. "/documents/formats")
          assert.equal(200, status)
          assert.equal(22, #f.value)
          assert.equal("PlainText", f.value[1].format)
          assert.is_nil(f.value[1].type)
          status, _, f = get_json(base .. "/glossaries/formats")
          assert.equal(200, status)
          assert.same({ "XLIFF", "TSV", "CSV" }, { f.value[1].format, f.value[2].format, f.value[3].format })
          status, _, f = get_json(base .. "/storagesources")
          assert.equal(200, status)
          assert.same({ "AzureBlob" }, f.value)
          status = emu.get(base .. "/formats")
          assert.equal(404, status)
        else
          local status, _, f, body = get_json(base .. "/formats" .. emu.q(v, "type=document"))
          assert.equal(200, status)
          assert.equal(22, #f.value)
          assert.equal("Document", f.value[1].type)
          keys_in_order(body, { "format", "fileExtensions", "contentTypes", "type" })
          status, _, f = get_json(base .. "/formats" .. emu.q(v, "type=glossary"))
          assert.equal(200, status)
          assert.equal(3, #f.value)
          assert.equal("Glossary", f.value[1].type)
          status, _, f = get_json(base .. "/formats" .. emu.q(v))
          assert.equal(200, status)
          assert.equal(25, #f.value)
          status, _, f = get_json(base .. "/formats" .. emu.q(v, "type=spreadsheet"))
          assert.equal(400, status)
          assert.equal("InvalidArgument", f.error.code)
          assert.equal("type", f.error.target)
          status = emu.get(base .. "/documents/formats" .. emu.q(v))
          assert.equal(404, status)
        end
      end)

      it("requires the key on every route", function()
        for _, path in ipairs({ "/batches/" .. job.id, "/batches/" .. job.id .. "/documents", "/batches",
                                emu.is_v1(v) and "/documents/formats" or "/formats" }) do
          local status, h, body = emu.get(base .. path .. emu.q(v), { ["Ocp-Apim-Subscription-Key"] = false })
          assert.equal(401, status)
          assert.equal('{"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong ' ..
            'API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional ' ..
            'API endpoint for your resource."}}', body)
          assert.equal("224", h["content-length"])
          status = emu.get(base .. path .. emu.q(v), { ["Ocp-Apim-Subscription-Key"] = "wrong" })
          assert.equal(401, status)
        end
        local status = emu.request({ method = "POST", path = base .. "/batches" .. emu.q(v), body = "{}",
                                     key = false })
        assert.equal(401, status)
        status = emu.request({ method = "DELETE", path = base .. "/batches/" .. job.id .. emu.q(v), key = false })
        assert.equal(401, status)
      end)
    end)
  end

  describe("authentication", function()
    it("accepts a bearer token it issued, until it expires", function()
      local t = emu.token({ expires_in = 1 })
      assert.equal(1, t.expires_in)
      local path = "/translator/document/batches/" .. job.id .. "?api-version=2024-05-01"
      local status = emu.get(path, { ["Ocp-Apim-Subscription-Key"] = false, Authorization = "Bearer " .. t.token })
      assert.equal(200, status)
      status = emu.get(path, { ["Ocp-Apim-Subscription-Key"] = false, Authorization = "Bearer nope" })
      assert.equal(401, status)
      emu.advance(1.2) -- the token expires on the emulator's clock
      status = emu.get(path, { ["Ocp-Apim-Subscription-Key"] = false, Authorization = "Bearer " .. t.token })
      assert.equal(401, status)
    end)

    it("accepts the region header", function()
      local status = emu.get("/translator/text/batch/v1.0/batches/" .. job.id,
        { ["Ocp-Apim-Subscription-Region"] = "westeurope" })
      assert.equal(200, status)
    end)
  end)

  describe("versions", function()
    it("answers 404 for an unknown v1 version", function()
      local status, _, e = get_json("/translator/text/batch/v2.0/batches/" .. job.id)
      assert.equal(404, status)
      assert.equal("404", e.error.code)
    end)

    it("answers 404 naming api-version for an unknown api-version", function()
      local status, _, e = get_json("/translator/document/batches/" .. job.id .. "?api-version=2023-01-01")
      assert.equal(404, status)
      assert.equal("ResourceNotFound", e.error.code)
      assert.equal("api-version", e.error.target)
      assert.matches("2023%-01%-01", e.error.message)
    end)

    it("answers 400 naming api-version when it is missing", function()
      local status, _, e = get_json("/translator/document/batches/" .. job.id)
      assert.equal(400, status)
      assert.equal("InvalidRequest", e.error.code)
      assert.equal("api-version", e.error.target)
    end)

    it("answers 404 for paths outside the service and wrong methods", function()
      assert.equal(404, (emu.get("/translator/text/v3.0/translate")))
      assert.equal(404, (emu.get("/")))
      assert.equal(404, (emu.request({ method = "PUT", path = "/translator/text/batch/v1.0/batches/" .. job.id })))
      assert.equal(404, (emu.request({ method = "POST", path = "/translator/text/batch/v1.0/documents/formats",
                                       body = "{}" })))
    end)

    it("shows a job created through one version in every version", function()
      local status, h = emu.request({ method = "POST", path = "/translator/text/batch/v1.1/batches",
        body = cjson.encode({ inputs = { { source = { sourceUrl = "https://a.blob.core.windows.net/src" },
          targets = { { targetUrl = "https://a.blob.core.windows.net/fr", language = "fr" } } } } }) })
      assert.equal(202, status)
      local id = h["operation-location"]:match("/batches/([%x%-]+)$")
      for _, v in ipairs(emu.VERSIONS) do
        local s, _, j = get_json(emu.base(v) .. "/batches/" .. id .. emu.q(v))
        assert.equal(200, s)
        assert.equal(id, j.id)
      end
    end)
  end)

  describe("ETag", function()
    it("answers 304 to a matching If-None-Match and changes with the body", function()
      local path = "/translator/document/batches/" .. job.id .. "?api-version=2024-05-01"
      local _, h = emu.get(path)
      local status, h2, body = emu.get(path, { ["If-None-Match"] = h.etag })
      assert.equal(304, status)
      assert.equal("", body)
      assert.equal(h.etag, h2.etag)
      local _, h3 = emu.get("/translator/document/batches/" .. job.id .. "/documents?api-version=2024-05-01")
      assert.are_not.equal(h.etag, h3.etag)
    end)
  end)
end)
