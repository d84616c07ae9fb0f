-- c:start{}: the body as the service spells it, client-side checks, the service's 400s, the job id
-- from Operation-Location, and Azure Core's rule for POST retries (500/503/504 only, never after a
-- network error).
local L = require "lifecycle.helper"
local U = require "support.usage"
local emu = L.emu
local cjson = require "cjson"

local function usage(fn, field)
  local ok, err = pcall(fn)
  assert.is_false(ok)
  err = U.of(err) -- a string at the caller's line
  assert.matches(field, err.message, 1, true)
end

describe("c:start", function()
  lazy_setup(function() emu.reset() end)
  lazy_teardown(function() emu.reset() end)
  before_each(function() emu.clear_faults() end)

  for _, v in ipairs(L.VERSIONS) do
    it("starts a job and takes its id from Operation-Location (" .. v .. ")", function()
      local c = L.client(v)
      local mark = L.mark()
      emu.freeze()
      finally(function() emu.freeze(false) end)
      local job, err = c:start(L.request())
      assert.is_nil(err)
      local posts = L.log("start", mark)
      assert.equals(1, #posts)
      assert.equals("POST", posts[1].method)
      local r = job:response()
      assert.equals(202, r.status)
      local loc = r.headers["operation-location"]
      assert.equals(loc:match("/batches/([^/?]+)"), job.id)
      if L.is_v1(v) then
        assert.equals("/translator/text/batch/" .. v .. "/batches", posts[1].path)
        assert.is_nil(job.status) -- v1.x: 202 with an empty body
      else
        assert.equals("/translator/document/batches", posts[1].path)
        assert.equals("api-version=" .. v, posts[1].query)
        assert.equals("NotStarted", job.status)
      end
      assert.equals("application/json", posts[1].headers["content-type"])
      -- the job exists in the service and refresh reads it through this version
      assert.equals(job, job:refresh())
      assert.equals("NotStarted", job.status)
      assert.equals(0, job.summary.total) -- as the service: nothing counted before it starts
      emu.advance(1)
      assert.equals(job, job:refresh())
      assert.equals("Running", job.status)
      assert.equals(20, job.summary.total)
    end)
  end

  it("sends every field with the service's names; empty arrays stay arrays", function()
    local c = L.client("2026-03-01")
    local req = {
      inputs = {
        { source = { sourceUrl = "https://a.blob.core.windows.net/src", filter = { prefix = "in/", suffix = ".txt" },
                     language = "en", storageSource = "AzureBlob" },
          targets = {
            { targetUrl = "https://a.blob.core.windows.net/fr", language = "fr", category = "general",
              storageSource = "AzureBlob",
              glossaries = { { glossaryUrl = "https://a.blob.core.windows.net/g.tsv", format = "TSV",
                               version = "1", storageSource = "AzureBlob" } } },
            { targetUrl = "https://a.blob.core.windows.net/de", language = "de", glossaries = {} },
          },
          storageType = "Folder" },
      },
      options = { experimental = false },
    }
    local body = c:start_body(req)
    assert.matches('"glossaries":[]', body, 1, true)
    assert.not_matches("\\/", body, 1, true)
    local mark = L.mark()
    assert.is_truthy(c:start(req))
    local sent = cjson.decode(L.log("start", mark)[1].body)
    assert.same({
      inputs = {
        { source = { sourceUrl = "https://a.blob.core.windows.net/src", filter = { prefix = "in/", suffix = ".txt" },
                     language = "en", storageSource = "AzureBlob" },
          targets = {
            { targetUrl = "https://a.blob.core.windows.net/fr", language = "fr", category = "general",
              storageSource = "AzureBlob",
              glossaries = { { glossaryUrl = "https://a.blob.core.windows.net/g.tsv", format = "TSV",
                               version = "1", storageSource = "AzureBlob" } } },
            { targetUrl = "https://a.blob.core.windows.net/de", language = "de", glossaries = {} },
          },
          storageType = "Folder" },
      },
      options = { experimental = false },
    }, sent)
  end)

  it("checks the request before sending anything (usage errors name the field)", function()
    local c = L.client("2024-05-01")
    local mark = L.mark()
    local function req(mut)
      local r = L.request()
      mut(r)
      return function() return c:start(r) end
    end
    usage(function() return c:start() end, "request")
    usage(function() return c:start("x") end, "request")
    usage(function() return c:start{} end, "inputs")
    usage(function() return c:start{ inputs = {} } end, "inputs")
    usage(req(function(r) r.inputs[1].source.sourceUrl = nil end), "inputs[1].source.sourceUrl")
    usage(req(function(r) r.inputs[1].source.sourceUrl = "" end), "inputs[1].source.sourceUrl")
    usage(req(function(r) r.inputs[1].source = nil end), "inputs[1].source")
    usage(req(function(r) r.inputs[1].targets = nil end), "inputs[1].targets")
    usage(req(function(r) r.inputs[1].targets = {} end), "inputs[1].targets")
    usage(req(function(r) r.inputs[1].targets[1].targetUrl = nil end), "inputs[1].targets[1].targetUrl")
    usage(req(function(r) r.inputs[1].targets[1].language = nil end), "inputs[1].targets[1].language")
    usage(req(function(r) r.inputs[1].targets[1].language = 7 end), "inputs[1].targets[1].language")
    usage(req(function(r)
      for i = 1, 11 do r.inputs[1].targets[i] = { targetUrl = "https://x/t" .. i, language = "fr" } end
    end), "at most 10")
    usage(req(function(r) r.inputs[1].storageType = "Blob" end), "inputs[1].storageType")
    usage(req(function(r) r.inputs[1].colour = "red" end), "inputs[1].colour")
    usage(req(function(r) r.inputs[1].source.filter = { prefix = 1 } end), "inputs[1].source.filter.prefix")
    usage(req(function(r) r.inputs[1].targets[1].glossaries = { { format = "TSV" } } end),
      "inputs[1].targets[1].glossaries[1].glossaryUrl")
    usage(req(function(r) r.inputs[1].targets[1].glossaries = { x = 1 } end), "inputs[1].targets[1].glossaries")
    usage(req(function(r) r.inputs[2] = "no" end), "inputs[2]")
    usage(req(function(r) r.options = { experimental = "yes" } end), "options.experimental")
    usage(req(function(r) r.extra = true end), "extra")
    usage(function() return L.client("v1.1"):start{ inputs = L.request().inputs, options = {} } end, "options")
    -- ten targets are fine
    local ten = L.request()
    for i = 1, 10 do ten.inputs[1].targets[i] = { targetUrl = "https://x/t" .. i, language = "fr" } end
    assert.is_truthy(c:start_body(ten))
    assert.equals(0, #L.log("start", mark))
  end)

  for _, v in ipairs({ "v1.0", "2024-05-01" }) do
    it("returns the service's 400 as an error value naming the field (" .. v .. ")", function()
      local c = L.client(v)
      local r = L.request()
      r.inputs[1].targets[1].targetUrl = "not-a-url" -- a string, but the service wants an absolute URL
      local job, err = c:start(r)
      assert.is_nil(job)
      assert.equals("http", err.kind)
      assert.equals(400, err.status)
      assert.equals("InvalidRequest", err.code)
      assert.equals("inputs[0].targets[0].targetUrl", err.target)
      assert.equals("InvalidTargetUrl", err.innerError.code)
      assert.is_truthy(err["x-ms-client-request-id"])
    end)
  end

  describe("retries (a POST only on 500/503/504, per Azure Core)", function()
    for _, status in ipairs({ 500, 503, 504 }) do
      it("retries " .. status .. " with the same client request id", function()
        emu.fault{ route = "start", action = "status", status = status, times = 2 }
        local mark = L.mark()
        local job, err = L.client("2026-03-01"):start(L.request())
        assert.is_nil(err)
        assert.is_truthy(job.id)
        local posts = L.log("start", mark)
        assert.equals(3, #posts)
        assert.same({ status, status, 202 }, { posts[1].status, posts[2].status, posts[3].status })
        local id = posts[1].headers["x-ms-client-request-id"]
        assert.equals(id, posts[2].headers["x-ms-client-request-id"])
        assert.equals(id, posts[3].headers["x-ms-client-request-id"])
      end)
    end

    for _, status in ipairs({ 408, 429, 502 }) do
      it("does not retry " .. status .. ", even with Retry-After", function()
        emu.fault{ route = "start", action = "status", status = status, retry_after = 1 }
        local mark = L.mark()
        local job, err = L.client("2024-05-01"):start(L.request())
        assert.is_nil(job)
        assert.equals(status, err.status)
        assert.equals(1, #L.log("start", mark))
      end)
    end

    it("stops after the retry budget", function()
      emu.fault{ route = "start", action = "status", status = 503, times = -1 }
      local mark = L.mark()
      local job, err = L.client("v1.1", { retries = 2 }):start(L.request())
      assert.is_nil(job)
      assert.equals(503, err.status)
      assert.equals(3, #L.log("start", mark))
    end)

    it("never sends a start again after a network failure (the request may have reached the service)", function()
      emu.fault{ route = "start", action = "reset" }
      local mark = L.mark()
      local job, err = L.client("2024-05-01"):start(L.request())
      assert.is_nil(job)
      assert.equals("network", err.kind)
      assert.equals(1, #L.log("start", mark))
    end)

    it("keeps a job the service accepted even when the 202 body is cut (the id is in the header)", function()
      emu.fault{ route = "start", action = "truncate" }
      local mark = L.mark()
      local job = assert(L.client("2024-05-01"):start(L.request()))
      local posts = L.log("start", mark)
      assert.equals(1, #posts)
      assert.equals(job.id, job:response().headers["operation-location"]:match("/batches/([^/?]+)"))
    end)

    it("never sends it twice after the service accepted it, even when the answer lacks the id", function()
      local c = L.client("2024-05-01")
      local op = c:start_op(L.request())
      local req = op:next_request()
      assert.equals("POST", req.method)
      op:feed{ status = 202, headers = {}, body = "" }
      local job, err = op:result()
      assert.is_nil(job)
      assert.equals("protocol", err.kind)
      assert.matches("Operation%-Location", err.message)
      assert.is_nil(op:next_request())
    end)
  end)

  it("works through a Lua transport (start_op: next_request / feed / result)", function()
    for _, v in ipairs({ "v1.0", "2026-03-01" }) do
      local c = L.client(v)
      local op = c:start_op(L.request())
      local sent = L.drive(op)
      assert.equals(1, #sent)
      assert.equals("POST", sent[1].method)
      assert.equals("application/json", sent[1].headers["Content-Type"])
      assert.matches('"sourceUrl"', sent[1].body, 1, true)
      assert.not_matches("SECRETSIG", tostring(sent[1]), 1, true)
      local job = assert(op:result())
      assert.is_truthy(job.id)
      assert.equals(job, job:refresh())
    end
  end)
end)
