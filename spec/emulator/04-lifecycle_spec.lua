-- Jobs that live: start (POST) with validation, progress over time, cancel, stale reads.
local cjson = require "cjson"
local emu = require "support.emulator"

local function get_json(path, headers)
  local status, h, body = emu.get(path, headers)
  assert(status, h)
  local ok, decoded = pcall(cjson.decode, body)
  return status, ok and decoded or nil, h, body
end

-- Time passes on the emulator's clock, which every spec here freezes first: jobs move only when
-- a spec advances it, so nothing waits and nothing depends on how loaded the machine is.
local advance = emu.advance

-- Reads path until the job's status is `want` or `within` seconds have passed on the emulator's
-- clock (advanced 0.1 s a read); returns the last job read.
local function until_status(path, want, within)
  local j
  for _ = 1, math.floor(within / 0.1) do
    j = select(2, get_json(path))
    if j.status == want then return j end
    advance(0.1)
  end
  return j
end

local now = emu.now -- the emulator's clock in Unix seconds

local VALID = {
  inputs = { {
    source = { sourceUrl = "https://acct.blob.core.windows.net/source?sv=2020&sig=secret", language = "en",
               filter = { prefix = "a", suffix = ".txt" }, storageSource = "AzureBlob" },
    targets = { { targetUrl = "https://acct.blob.core.windows.net/fr?sig=x", language = "fr",
                  glossaries = { { glossaryUrl = "https://acct.blob.core.windows.net/g.tsv", format = "TSV" } } },
                { targetUrl = "https://acct.blob.core.windows.net/de", language = "de", category = "general" } },
    storageType = "Folder",
  } },
}

local function copy(t)
  return cjson.decode(cjson.encode(t))
end

-- The documents URL of a job URL (with or without a query).
local function docs_url(job_url, params)
  local path, query = job_url:match("^([^?]*)%??(.*)$")
  local parts = {}
  if params then parts[#parts + 1] = params end
  if query ~= "" then parts[#parts + 1] = query end
  return path .. "/documents" .. (#parts > 0 and ("?" .. table.concat(parts, "&")) or "")
end

local function start(version, body)
  return emu.request({ method = "POST", path = emu.base(version) .. "/batches" .. emu.q(version),
                       body = type(body) == "string" and body or cjson.encode(body),
                       headers = { ["Content-Type"] = "application/json" } })
end

describe("emulator job lifecycle", function()
  -- leave no jobs, faults or settings behind for the spec files that follow
  teardown(function() emu.reset() end)

  before_each(function()
    emu.reset()
    emu.freeze()
  end)

  describe("start", function()
    for _, v in ipairs(emu.VERSIONS) do
      it("accepts a valid body in " .. v, function()
        local status, h, body = start(v, VALID)
        assert.equal(202, status)
        local loc = h["operation-location"]
        if emu.is_v1(v) then
          assert.equal("", body)
          assert.matches("^" .. emu.http:gsub("%p", "%%%0") .. "/translator/text/batch/" .. v:gsub("%p", "%%%0") ..
            "/batches/%x+%-%x+%-%x+%-%x+%-%x+$", loc)
        else
          local id = loc:match("/translator/document/batches/([%x%-]+)%?api%-version=" .. v:gsub("%p", "%%%0") .. "$")
          assert.is_string(id)
          assert.equal('{"id":"' .. id .. '","status":"NotStarted"}', body)
        end
        local s, j = get_json(loc)
        assert.equal(200, s)
        -- as the service: nothing counted while NotStarted, then every document
        assert.equal("NotStarted", j.status)
        assert.equal(0, j.summary.total)
        emu.advance(1)
        s, j = get_json(loc)
        assert.equal(200, s)
        assert.equal("Running", j.status)
        assert.equal(20, j.summary.total)
        -- documents come from the source container (SAS stripped), one per target language
        local _, docs = get_json(docs_url(loc))
        assert.equal(20, #docs.value)
        assert.matches("^https://acct%.blob%.core%.windows%.net/source/", docs.value[1].sourcePath)
        assert.is_nil(docs.value[1].sourcePath:find("sig=", 1, true))
        local langs = {}
        for _, d in ipairs(docs.value) do langs[d.to] = true end
        assert.same({ fr = true, de = true }, langs)
      end)

      it("rejects invalid bodies in " .. v .. " naming the field", function()
        local cases = {
          { "not json at all", "body" },
          { "[1,2]", "body" },
          { "", "body" },
          { {}, "inputs" },
          { { inputs = {} }, "inputs" },
          { { inputs = { { targets = VALID.inputs[1].targets } } }, "inputs[0].source" },
          { function(b) b.inputs[1].source.sourceUrl = "not a url" end, "inputs[0].source.sourceUrl" },
          { function(b) b.inputs[1].source.storageSource = "S3" end, "inputs[0].source.storageSource" },
          { function(b) b.inputs[1].targets = nil end, "inputs[0].targets" },
          { function(b) b.inputs[1].targets[2].targetUrl = nil end, "inputs[0].targets[1].targetUrl" },
          { function(b) b.inputs[1].targets[1].language = nil end, "inputs[0].targets[0].language" },
          { function(b) b.inputs[1].targets[1].glossaries[1].format = nil end,
            "inputs[0].targets[0].glossaries[0].format" },
          { function(b) b.inputs[1].storageType = "Bucket" end, "inputs[0].storageType" },
          { function(b)
              for k = 3, 11 do
                b.inputs[1].targets[k] = { targetUrl = "https://a.blob.core.windows.net/t" .. k, language = "es" }
              end
            end, "inputs[0].targets", "InvalidArgument" },
        }
        if not emu.is_v1(v) then
          cases[#cases + 1] = { function(b) b.options = { experimental = "yes" } end, "options.experimental" }
        end
        for _, case in ipairs(cases) do
          local body = case[1]
          if type(body) == "function" then
            local b = copy(VALID)
            body(b)
            body = b
          end
          local status, h, text = start(v, body)
          assert.equal(400, status, case[2])
          local e = cjson.decode(text)
          assert.equal(case[3] or "InvalidRequest", e.error.code, case[2])
          assert.equal(case[2], e.error.target)
          assert.truthy(e.error.message:find(case[2], 1, true), e.error.message)
          assert.is_nil(h["operation-location"])
        end
        -- nothing was created
        local _, list = get_json(emu.base(v) .. "/batches" .. emu.q(v, emu.is_v1(v) and "$top=100" or "top=100"))
        for _, j in ipairs(list.value) do assert.is_not.equal(20, j.summary.total) end
      end)
    end

    it("ends ValidationFailed when the source cannot be read", function()
      emu.settings({ start_duration = 0.5 })
      local b = copy(VALID)
      b.inputs[1].source.sourceUrl = "https://acct.blob.core.windows.net/validation-failed"
      local _, h = start("2024-05-01", b)
      advance(0.7)
      local _, j = get_json(h["operation-location"])
      assert.equal("ValidationFailed", j.status)
      assert.equal("InvalidDocumentAccessLevel", j.error.innerError.code)
      assert.equal(0, j.summary.total)
      local _, docs = get_json(docs_url(h["operation-location"]))
      assert.same({}, docs.value)
    end)
  end)

  describe("progress", function()
    it("moves NotStarted -> Running -> Succeeded with consistent counts", function()
      emu.settings({ start_documents = 12, start_duration = 2.5, start_fail_every = 5, start_not_started = 1,
                     uncounted = false })
      local _, h = start("v1.1", VALID)
      local loc = h["operation-location"]
      local order = { NotStarted = 1, Running = 2, Succeeded = 3 }
      local last_rank, last_done, seen = 0, 0, {}
      local t0 = now()
      local j
      repeat
        _, j = get_json(loc)
        local s = j.summary
        assert.equal(12, s.total)
        assert.equal(12, s.success + s.failed + s.inProgress + s.notYetStarted + s.cancelled)
        assert.is_true(order[j.status] >= last_rank, j.status)
        assert.is_true(s.success + s.failed >= last_done)
        last_rank, last_done = order[j.status], s.success + s.failed
        seen[j.status] = true
        if j.status == "Running" then assert.is_true(s.inProgress > 0) end
        advance(0.15)
      until j.status == "Succeeded" or now() - t0 > 6
      assert.equal("Succeeded", j.status)
      assert.is_true(seen.NotStarted and seen.Running)
      assert.equal(10, j.summary.success)
      assert.equal(2, j.summary.failed)
      assert.is_true(now() - t0 < 5)
    end)

    it("lets an admin job run for a duration", function()
      local job = emu.create_job({ documents = 50, duration = 1.5, fail_every = 10 })
      assert.equal("NotStarted", job.status)
      local path = "/translator/document/batches/" .. job.id .. "?api-version=2024-05-01"
      advance(0.8)
      local _, j = get_json(path)
      assert.equal("Running", j.status)
      advance(1)
      _, j = get_json(path)
      assert.equal("Succeeded", j.status)
      assert.equal(45, j.summary.success)
      assert.equal(5, j.summary.failed)
    end)

    it("shows a document's progress while it runs", function()
      local job = emu.create_job({ documents = 4, status = "Running", parallel = 4 })
      local _, d = get_json("/translator/document/batches/" .. job.id .. "/documents/" ..
        job._emulator.first_document_id .. "?api-version=2024-05-01")
      assert.equal("Running", d.status)
      assert.is_true(d.progress > 0 and d.progress < 1)
      assert.equal(0, d.characterCharged)
    end)
  end)

  describe("cancel", function()
    for _, v in ipairs({ "v1.0", "2024-05-01" }) do
      it("moves a running job to Cancelling then Cancelled in " .. v, function()
        emu.settings({ start_documents = 20, start_duration = 4, cancel_delay = 0.5 })
        local _, h = start(v, VALID)
        local loc = h["operation-location"]
        advance(1.5)
        local _, j = get_json(loc, nil)
        assert.equal("Running", j.status)
        local status, ch
        status, ch, j = emu.request({ method = "DELETE", url = loc })
        assert.equal(200, status)
        j = cjson.decode(j)
        assert.equal("Cancelling", j.status)
        assert.equal("1", ch["retry-after"])
        assert.is_nil(ch["etag"])
        local done = j.summary.success + j.summary.failed
        advance(0.7)
        _, j = get_json(loc)
        assert.equal("Cancelled", j.status)
        assert.equal(done, j.summary.success + j.summary.failed)
        assert.equal(20 - done, j.summary.cancelled)
        assert.equal(0, j.summary.inProgress + j.summary.notYetStarted)
        local _, docs = get_json(docs_url(loc, emu.is_v1(v) and "statuses=Cancelled" or "statuses=Canceled"))
        assert.equal(20 - done, #docs.value)
        -- the job has ended: cancelling again is an error
        status, _, j = emu.request({ method = "DELETE", url = loc })
        assert.equal(emu.is_v1(v) and 400 or 409, status)
        assert.equal("InvalidRequest", cjson.decode(j).error.code)
      end)
    end

    it("cancels a job that has not started: every document Cancelled", function()
      local job = emu.create_job({ documents = 20, status = "NotStarted" })
      emu.settings({ cancel_delay = 0.3 })
      local path = "/translator/text/batch/v1.0/batches/" .. job.id
      local status, _, body = emu.request({ method = "DELETE", path = path })
      assert.equal(200, status)
      assert.equal("Cancelling", cjson.decode(body).status)
      local j = until_status(path, "Cancelled", 3)
      assert.equal("Cancelled", j.status)
      assert.equal(20, j.summary.total)
      assert.equal(20, j.summary.cancelled)
    end)

    it("cancels a job before its validation fails", function()
      local job = emu.create_job({ documents = 3, status = "ValidationFailed", duration = 5 })
      emu.settings({ cancel_delay = 0.2 })
      local path = "/translator/document/batches/" .. job.id .. "?api-version=2024-05-01"
      local status, _, body = emu.request({ method = "DELETE", path = path })
      assert.equal(200, status)
      assert.equal("Cancelling", cjson.decode(body).status)
      local j = until_status(path, "Cancelled", 3)
      assert.equal("Cancelled", j.status)
      assert.is_nil(j.error)
    end)

    it("refuses to cancel ended jobs: 400 in v1.x, 409 in 2024+", function()
      for _, st in ipairs({ "Succeeded", "Failed", "Cancelled", "ValidationFailed" }) do
        local job = emu.create_job({ documents = 3, status = st })
        for _, v in ipairs(emu.VERSIONS) do
          local status, _, body = emu.request({ method = "DELETE",
                                                path = emu.base(v) .. "/batches/" .. job.id .. emu.q(v) })
          assert.equal(emu.is_v1(v) and 400 or 409, status)
          local e = cjson.decode(body)
          assert.equal("InvalidRequest", e.error.code)
          assert.truthy(e.error.message:find(st, 1, true))
        end
      end
    end)

    it("answers a second cancel while Cancelling with the job", function()
      local job = emu.create_job({ documents = 3, status = "Cancelling" })
      local status, _, body = emu.request({ method = "DELETE",
                                            path = "/translator/text/batch/v1.0/batches/" .. job.id })
      assert.equal(200, status)
      assert.equal("Cancelling", cjson.decode(body).status)
    end)
  end)

  describe("stale reads", function()
    it("answers an older state now and then, with an Age header", function()
      emu.settings({ stale = true, stale_every = 2, stale_seconds = 30 })
      local job = emu.create_job({ documents = 10, duration = 0.5 })
      advance(1.2)
      local path = "/translator/document/batches/" .. job.id .. "?api-version=2024-05-01"
      local statuses, ages = {}, {}
      for k = 1, 4 do
        local _, j, h = get_json(path)
        statuses[k], ages[k] = j.status, h.age
      end
      assert.same({ "Succeeded", "NotStarted", "Succeeded", "NotStarted" }, statuses)
      assert.same({ nil, "30", nil, "30" }, { ages[1], ages[2], ages[3], ages[4] })
    end)

    it("can be asked for one job only", function()
      local job = emu.create_job({ documents = 10, duration = 0.5, stale = true })
      local other = emu.create_job({ documents = 10, duration = 0.5 })
      advance(1.2)
      local seen = {}
      for _ = 1, 3 do
        local _, j = get_json("/translator/document/batches/" .. job.id .. "?api-version=2024-05-01")
        seen[j.status] = true
        local _, o = get_json("/translator/document/batches/" .. other.id .. "?api-version=2024-05-01")
        assert.equal("Succeeded", o.status)
      end
      assert.is_true(seen.NotStarted and seen.Succeeded)
    end)
  end)
end)
