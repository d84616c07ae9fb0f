-- The admin API: reset, jobs, request log, tokens, settings, the clock; and TLS with the generated CA.
local cjson = require "cjson"
local emu = require "support.emulator"

local function decode(body)
  local ok, v = pcall(emu.decode, body)
  return ok and v or nil
end

local function sh(cmd)
  -- the exit status is printed after the output: close() does not return it on Lua 5.1/LuaJIT
  local p = io.popen(cmd .. " 2>&1; printf '\\n%d' $?")
  local out = p:read("*a")
  p:close()
  local text, code = out:match("^(.-)\n(%d+)$")
  return tonumber(code), text or out
end

describe("emulator admin API", function()
  -- leave no jobs, faults or settings behind for the spec files that follow
  teardown(function() emu.reset() end)

  before_each(function() emu.reset() end)

  it("answers health", function()
    assert.is_true(emu.health().ok)
  end)

  describe("jobs", function()
    it("creates a job with the given id, creation date and failure rule", function()
      local job = emu.create_job({ id = "AAAAAAAA-1111-4222-8333-444444444444", documents = 14, fail_every = 7,
                                   created = "2024-10-11T01:26:30.1343348Z", languages = { "es" } })
      assert.equal("aaaaaaaa-1111-4222-8333-444444444444", job.id)
      assert.equal("Succeeded", job.status)
      assert.same({ total = 14, failed = 2, success = 12, inProgress = 0, notYetStarted = 0, cancelled = 0,
                    totalCharacterCharged = job.summary.totalCharacterCharged }, job.summary)
      assert.equal(14, job._emulator.documents)
      local status, _, body = emu.get("/translator/document/batches/" .. job.id ..
        "/documents?orderby=createdDateTimeUtc%20asc&top=1&api-version=2024-05-01")
      assert.equal(200, status)
      local doc = decode(body).value[1]
      assert.equal("2024-10-11T01:26:30.1343348Z", doc.createdDateTimeUtc)
      assert.equal(job._emulator.first_document_id, doc.id)
      assert.equal("es", doc.to)
      assert.same(job, emu.job(job.id))
    end)

    it("creates jobs in every status", function()
      for _, st in ipairs({ "NotStarted", "Running", "Succeeded", "Failed", "Cancelled", "Cancelling",
                            "ValidationFailed" }) do
        local job = emu.create_job({ documents = 9, status = st })
        local status, _, body = emu.get("/translator/text/batch/v1.1/batches/" .. job.id)
        assert.equal(200, status)
        local j = decode(body)
        assert.equal(st, j.status)
        if st == "ValidationFailed" then
          assert.equal("InvalidRequest", j.error.code)
          assert.equal(0, j.summary.total)
        elseif st == "Failed" then
          assert.equal(9, j.summary.failed)
        else
          assert.equal(9, j.summary.total)
        end
      end
      -- "Canceled" is accepted as well
      assert.equal("Cancelled", emu.create_job({ documents = 2, status = "Canceled" }).status)
    end)

    it("uses a custom error for a failed job", function()
      local job = emu.create_job({ documents = 1, status = "Failed", error = {
        code = "InvalidRequest", message = "The document does not have any translatable text.",
        target = "Operation", innerError = { code = "NoTranslatableText", message = "No text." } } })
      local _, _, body = emu.get("/translator/document/batches/" .. job.id .. "?api-version=2024-05-01")
      local j = decode(body)
      assert.equal("NoTranslatableText", j.error.innerError.code)
      assert.truthy(body:find('"status":"Failed","error":{"code":"InvalidRequest"', 1, true))
    end)

    it("adds the fields of later API versions when asked, after the known ones", function()
      local job = emu.create_job({ documents = 1, extra_fields = true })
      local _, _, body = emu.get("/translator/document/batches/" .. job.id .. "?api-version=2026-03-01")
      assert.truthy(body:find('"totalCharacterCharged":%d+,"totalImageScansSucceeded":0,' ..
        '"totalImageScansFailed":0,"totalImageCharged":0}}$'))
      _, _, body = emu.get("/translator/document/batches/" .. job.id .. "/documents/" ..
        job._emulator.first_document_id .. "?api-version=2026-03-01")
      local d = decode(body)
      assert.equal("default", d.deploymentName)
      assert.equal(0, d.imageCharged)
      assert.truthy(body:find('"characterCharged":27,"deploymentName"', 1, true))
    end)

    it("writes blob URLs with an explicit :443 when asked", function()
      local job = emu.create_job({ documents = 1, explicit_port = true })
      local _, _, body = emu.get("/translator/document/batches/" .. job.id .. "/documents?api-version=2024-05-01")
      assert.matches("^https://[^/]+:443/", decode(body).value[1].sourcePath)
    end)

    it("rejects bad job descriptions", function()
      for _, bad in ipairs({ { id = "nope" }, { documents = -1 }, { documents = 1.5 }, { status = "Done" },
                             { fail_every = -2 }, { duration = -1 }, { languages = {} }, { languages = { "!!" } },
                             { created = "last week" }, { next_link = "up" }, { stale = "yes" },
                             { error = { code = 1 } }, { parallel = 0 } }) do
        assert.has_error(function() emu.create_job(bad) end)
      end
      local job = emu.create_job({ documents = 1 })
      local ok, err = pcall(emu.create_job, { id = job.id })
      assert.is_false(ok)
      assert.truthy(tostring(err):find("409", 1, true))
    end)

    it("creates many jobs at once, oldest first", function()
      local made = emu.create_job({ count = 120, documents = 2 })
      assert.equal(120, made.count)
      assert.equal(120, #made.ids)
      local status, _, body = emu.get("/translator/text/batch/v1.0/batches?$top=3")
      assert.equal(200, status)
      local page = decode(body)
      assert.same({ made.ids[120], made.ids[119], made.ids[118] }, { page.value[1].id, page.value[2].id,
                                                                     page.value[3].id })
      assert.has_error(function() emu.create_job({ count = 0 }) end)
      assert.has_error(function() emu.create_job({ count = 2, id = "11111111-2222-4333-8444-555555555555" }) end)
    end)

    it("shows an uncounted job with a zero total until it starts", function()
      local job = emu.create_job({ documents = 6, status = "NotStarted", uncounted = true })
      assert.equal(0, job.summary.total)
      assert.equal(0, job.summary.notYetStarted)
      local _, _, body = emu.get("/translator/document/batches/" .. job.id .. "/documents?api-version=2024-05-01")
      assert.same({}, decode(body).value)
      emu.settings({ uncounted = true, start_duration = 5 })
      local status, h = emu.request({ method = "POST", path = "/translator/text/batch/v1.0/batches",
        body = cjson.encode({ inputs = { { source = { sourceUrl = "https://a.blob.core.windows.net/s" },
          targets = { { targetUrl = "https://a.blob.core.windows.net/t", language = "fr" } } } } }) })
      assert.equal(202, status)
      status, _, body = emu.get(h["operation-location"])
      assert.equal(200, status)
      local j = decode(body)
      assert.equal("NotStarted", j.status)
      assert.equal(0, j.summary.total)
    end)

    it("lists and deletes jobs", function()
      local job = emu.create_job({ documents = 1 })
      local ids = {}
      for _, j in ipairs(emu.admin("GET", "/jobs")) do ids[j.id] = true end
      assert.is_true(ids[job.id])
      emu.admin("DELETE", "/jobs/" .. job.id)
      assert.equal(404, (emu.get("/translator/text/batch/v1.0/batches/" .. job.id)))
      assert.has_error(function() emu.job(job.id) end)
    end)

    it("reset removes created jobs and keeps the fixtures", function()
      local job = emu.create_job({ documents = 1 })
      emu.reset()
      assert.equal(404, (emu.get("/translator/text/batch/v1.0/batches/" .. job.id)))
      local status, _, body = emu.get("/translator/text/batch/v1.0-preview.1/batches/" ..
        "5fae77cb-59cd-4021-bae7-5fcc4fb6cd2c")
      assert.equal(200, status)
      local j = decode(body)
      assert.equal("ValidationFailed", j.status)
      assert.equal("InvalidDocumentAccessLevel", j.error.innerError.code)
      assert.equal("2021-03-29T20:02:38.6637111Z", j.createdDateTimeUtc)
    end)
  end)

  describe("request log", function()
    it("records method, path, raw query, headers with secrets redacted, status, connection and TLS", function()
      local job = emu.create_job({ documents = 3 })
      local path = "/translator/text/batch/v1.0/batches/" .. job.id .. "/documents"
      emu.get(path .. "?$top=2&ids=" .. job._emulator.first_document_id .. "%2Cx&statuses=Succeeded",
        { ["x-ms-client-request-id"] = "11111111-2222-4333-8444-555555555555", ["User-Agent"] = "spec/1.0",
          ["Ocp-Apim-Subscription-Region"] = "westeurope" })
      emu.get(path, { ["Ocp-Apim-Subscription-Key"] = false, Authorization = "Bearer sekrit" })
      local log = emu.requests()
      assert.equal(2, #log)
      local e = log[1]
      assert.equal("GET", e.method)
      assert.equal(path, e.path)
      assert.equal("$top=2&ids=" .. job._emulator.first_document_id .. "%2Cx&statuses=Succeeded", e.query)
      assert.equal(400, e.status)
      assert.equal("REDACTED", e.headers["ocp-apim-subscription-key"])
      assert.equal("11111111-2222-4333-8444-555555555555", e.headers["x-ms-client-request-id"])
      assert.equal("spec/1.0", e.headers["user-agent"])
      assert.equal("westeurope", e.headers["ocp-apim-subscription-region"])
      assert.is_false(e.tls)
      assert.is_number(e.connection)
      assert.is_not_nil(emu.ticks(e.time))
      assert.equal(401, log[2].status)
      assert.equal("Bearer REDACTED", log[2].headers.authorization)
      assert.is_nil(cjson.encode(log):find("sekrit", 1, true))
      assert.is_nil(cjson.encode(log):find(emu.key, 1, true))
      assert.is_true(log[2].seq > log[1].seq)
      assert.same({ log[2] }, emu.requests(log[1].seq))
      emu.clear_requests()
      assert.same({}, emu.requests())
    end)

    it("shows which requests shared a connection", function()
      local url = emu.http .. "/translator/text/batch/v1.0/documents/formats"
      local code = sh("curl -s -o /dev/null -o /dev/null -H " .. emu.shell_quote("Ocp-Apim-Subscription-Key: " ..
        emu.key) .. " " .. url .. " " .. url)
      assert.equal(0, code)
      emu.get("/translator/text/batch/v1.0/documents/formats")
      local log = emu.requests()
      assert.equal(3, #log)
      assert.equal(log[1].connection, log[2].connection)
      assert.are_not.equal(log[2].connection, log[3].connection)
      assert.equal(2, log[2].connection_requests)
    end)

    it("does not log admin requests", function()
      emu.create_job({ documents = 1 })
      emu.faults()
      assert.same({}, emu.requests())
    end)
  end)

  describe("settings", function()
    it("has defaults, takes changes, rejects unknown or bad ones and resets", function()
      local s = emu.settings()
      assert.equal("@nextLink", s.next_link)
      assert.equal(20, s.start_documents)
      s = emu.settings({ start_documents = 3, latency_ms = 0 })
      assert.equal(3, s.start_documents)
      assert.has_error(function() emu.settings({ colour = "blue" }) end)
      assert.has_error(function() emu.settings({ start_documents = -3 }) end)
      emu.reset()
      assert.equal(20, emu.settings().start_documents)
    end)

    it("adds latency to every service answer", function()
      emu.settings({ latency_ms = 300 })
      local p = io.popen("date +%s.%N")
      local t0 = tonumber(p:read("*l"))
      p:close()
      emu.get("/translator/text/batch/v1.0/documents/formats")
      p = io.popen("date +%s.%N")
      local t1 = tonumber(p:read("*l"))
      p:close()
      assert.is_true(t1 - t0 >= 0.3)
    end)
  end)

  describe("tokens", function()
    it("issues tokens that reset revokes", function()
      local t = emu.token()
      assert.equal(3600, t.expires_in)
      local path = "/translator/text/batch/v1.0/documents/formats"
      local auth = { ["Ocp-Apim-Subscription-Key"] = false, Authorization = "Bearer " .. t.token }
      assert.equal(200, (emu.get(path, auth)))
      emu.reset()
      assert.equal(401, (emu.get(path, auth)))
    end)
  end)

  describe("clock", function()
    local function job_state(id)
      local _, _, body = emu.get("/translator/document/batches/" .. id .. "?api-version=2024-05-01")
      return decode(body)
    end

    it("is the real clock until moved, and advancing it moves live jobs and their dates", function()
      local clock = emu.clock()
      assert.is_false(clock.frozen)
      assert.equal(0, clock.offset)
      assert.is_true(math.abs(clock.epoch - os.time()) < 5)
      assert.is_true(math.abs(emu.ticks(clock.now) / 1e7 - clock.epoch) < 1e-3) -- the same instant
      emu.freeze()
      local job = emu.create_job({ documents = 4, duration = 10, parallel = 4 })
      assert.equal("NotStarted", job_state(job.id).status)
      local at = emu.clock().epoch
      clock = emu.advance(5)
      assert.is_true(clock.frozen)
      assert.equal(5, clock.offset)
      assert.is_true(math.abs(clock.epoch - at - 5) < 1e-3)
      local j = job_state(job.id)
      assert.equal("Running", j.status)
      assert.equal(4, j.summary.inProgress)
      emu.advance(6)
      j = job_state(job.id)
      assert.equal("Succeeded", j.status)
      -- the job ended 10 s after it was created, by the emulator's clock
      assert.equal(10, (emu.ticks(j.lastActionDateTimeUtc) - emu.ticks(j.createdDateTimeUtc)) / 1e7)
      assert.is_true(emu.ticks(j.lastActionDateTimeUtc) <= emu.ticks(emu.clock().now))
    end)

    it("stands still while frozen and runs on from there when let go", function()
      local frozen = emu.freeze().epoch
      local ticks = emu.ticks
      os.execute("sleep 0.05")
      assert.equal(frozen, emu.clock().epoch)
      local running = emu.freeze(false)
      assert.is_false(running.frozen)
      assert.is_true(running.epoch >= frozen and running.epoch < frozen + 1)
      assert.is_true(running.offset < 0) -- the real time that passed while frozen
      -- a request's time in the log is the emulator's
      emu.clear_requests()
      emu.get("/translator/text/batch/v1.0/documents/formats")
      local logged = ticks(emu.requests()[1].time) / 1e7
      assert.is_true(logged >= frozen and logged < frozen + 5)
    end)

    it("expires tokens on its time, and goes back to the real clock on reset or DELETE", function()
      local t = emu.token({ expires_in = 60 })
      local path = "/translator/text/batch/v1.0/documents/formats"
      local auth = { ["Ocp-Apim-Subscription-Key"] = false, Authorization = "Bearer " .. t.token }
      assert.equal(200, (emu.get(path, auth)))
      emu.advance(59)
      assert.equal(200, (emu.get(path, auth)))
      emu.advance(2)
      assert.equal(401, (emu.get(path, auth)))
      emu.freeze()
      local status, _, body = emu.request({ method = "DELETE", path = "/_emulator/clock", key = false })
      assert.equal(200, status)
      local c = decode(body)
      assert.is_false(c.frozen)
      assert.equal(0, c.offset)
      emu.advance(100)
      emu.reset()
      assert.equal(0, emu.clock().offset)
    end)

    it("refuses to go back, and unknown or mistyped fields", function()
      for _, bad in ipairs({ { advance = -1 }, { advance = "5" }, { freeze = "yes" }, { rewind = 1 } }) do
        local status, _, body = emu.request({ method = "POST", path = "/_emulator/clock", key = false,
                                              body = cjson.encode(bad) })
        assert.equal(400, status, cjson.encode(bad))
        assert.equal("BadRequest", decode(body).error.code)
      end
      assert.equal(0, emu.clock().offset)
    end)
  end)

  describe("TLS", function()
    it("serves HTTPS with a certificate the generated CA verifies", function()
      local job = emu.create_job({ documents = 3 })
      local status, _, body = emu.request({ base = emu.https, path = "/translator/document/batches/" .. job.id ..
        "/documents?maxpagesize=2&api-version=2024-05-01" })
      assert.equal(200, status)
      local page = decode(body)
      assert.equal(emu.https .. "/translator/document/batches/" .. job.id ..
        "/documents?skip=2&top=1&maxpagesize=2&api-version=2024-05-01", page["@nextLink"])
      local log = emu.requests()
      assert.is_true(log[#log].tls)
    end)

    it("is refused without the CA, and valid for localhost too", function()
      local code = sh("curl -s -o /dev/null " .. emu.https .. "/_emulator/health")
      assert.equal(60, code) -- peer certificate cannot be authenticated
      local port = emu.https:match(":(%d+)$")
      code = sh("curl -sf -o /dev/null --cacert " .. emu.shell_quote(emu.ca) .. " https://localhost:" .. port ..
        "/_emulator/health")
      assert.equal(0, code)
    end)
  end)
end)
