-- Job and document fields across every API version, against the emulator.
local H = require "core.helper"
local dt, emu = H.dt, H.emu
local socket_http = require "socket.http"
local ltn12 = require "ltn12"
local cjson = require "cjson"

-- The raw body of a GET, decoded by lua-cjson, to compare with what the core reads.
local function raw(url)
  local chunks = {}
  local _, code = socket_http.request{ url = url, sink = ltn12.sink.table(chunks),
    headers = { ["Ocp-Apim-Subscription-Key"] = emu.key } }
  assert.equal(200, code)
  return cjson.decode(table.concat(chunks))
end

local function base(version)
  if version:sub(1, 1) == "v" then return emu.http .. "/translator/text/batch/" .. version, "" end
  return emu.http .. "/translator/document", "?api-version=" .. version
end

-- Every member of the raw JSON reads the same through the userdata.
local function same_fields(obj, json)
  for k, v in pairs(json) do
    if v ~= cjson.null then
      local got = obj[k]
      if type(v) == "table" then
        assert.is_table(got, k)
        for k2, v2 in pairs(v) do
          if type(v2) ~= "table" and v2 ~= cjson.null then assert.equal(v2, got[k2], k .. "." .. k2) end
        end
      else
        assert.equal(v, got, k)
      end
    end
  end
end

local SUMMARY = { "total", "failed", "success", "inProgress", "notYetStarted", "cancelled", "totalCharacterCharged" }

describe("c:job", function()
  before_each(function() emu.reset() end)

  for _, version in ipairs(H.VERSIONS) do
    it("reads every job field with " .. version, function()
      local id = H.job{ documents = 12, fail_every = 4 }
      local c = H.client{ api_version = version }
      local job = assert(c:job(id))
      assert.equal("doctranslate.Job", getmetatable(job).__name)
      assert.equal(id, job.id)
      assert.is_string(job.status)
      assert.is_string(job.createdDateTimeUtc)
      assert.is_string(job.lastActionDateTimeUtc)
      assert.is_number(job:time("createdDateTimeUtc"))
      assert.is_number(job:time("lastActionDateTimeUtc"))
      assert.near(dt.parse_date(job.createdDateTimeUtc), job:time("createdDateTimeUtc"), 1e-9)
      assert.is_table(job.summary)
      for _, f in ipairs(SUMMARY) do
        assert.is_number(job.summary[f], f)
        if math.type then assert.equal("integer", math.type(job.summary[f]), f) end
      end
      assert.is_nil(job.noSuchField)
      local b, q = base(version)
      same_fields(job, raw(b .. "/batches/" .. id .. q))
      local r = job:response()
      assert.equal(200, r.status)
      assert.is_table(r.headers)
      assert.truthy(r.headers["apim-request-id"] or r.headers["x-requestid"])
      local s = tostring(job)
      assert.truthy(s:find(id, 1, true))
      assert.falsy(s:find(emu.key, 1, true))
    end)

    it("reads every document field with " .. version, function()
      local id = H.job{ documents = 6, fail_every = 3, status = "Failed" }
      local c = H.client{ api_version = version }
      local b, q = base(version)
      local n, failed, succeeded = 0, 0, 0
      for doc in c:documents(id) do
        n = n + 1
        assert.equal("doctranslate.Document", getmetatable(doc).__name)
        local one = assert(c:document(id, doc.id))
        for _, f in ipairs{ "id", "status", "to", "progress", "sourcePath", "createdDateTimeUtc",
                            "lastActionDateTimeUtc", "characterCharged" } do
          assert.is_not_nil(one[f], f)
          assert.equal(doc[f], one[f], f)
        end
        assert.is_number(one.progress)
        if math.type then assert.equal("integer", math.type(one.characterCharged)) end
        assert.is_number(one:time("createdDateTimeUtc"))
        same_fields(one, raw(b .. "/batches/" .. id .. "/documents/" .. doc.id .. q))
        if one.status == "Failed" then
          failed = failed + 1
          assert.is_table(one.error)
          assert.is_string(one.error.code)
          assert.is_string(one.error.message)
        elseif one.status == "Succeeded" then
          succeeded = succeeded + 1
          assert.is_string(one.path)
        end
        assert.equal(200, one:response().status)
        assert.falsy(tostring(one):find(emu.key, 1, true))
      end
      assert.equal(6, n)
      assert.truthy(failed > 0)
      assert.truthy(succeeded > 0)
    end)
  end

  it("job:document and job:documents use the job's client", function()
    local id = H.job{ documents = 3 }
    local c = H.client()
    local job = assert(c:job(id))
    local ids = {}
    for doc in job:documents() do ids[#ids + 1] = doc.id end
    assert.equal(3, #ids)
    local d = assert(job:document(ids[2]))
    assert.equal(ids[2], d.id)
  end)

  it("job:refresh re-reads in place", function()
    local id = H.job{ documents = 20, duration = 2 }
    local c = H.client()
    local job = assert(c:job(id))
    local first = job.lastActionDateTimeUtc
    emu.clear_requests()
    local same = assert(job:refresh())
    assert.equal(job, same)
    assert.equal(1, #H.requests("/batches/" .. id))
    assert.is_string(job.status)
    assert.is_string(first)
  end)

  it("keeps int64 counters exact", function()
    local id = H.job{ documents = 3 }
    local c = H.client()
    local job = assert(c:job(id))
    assert.equal(job.summary.total, 3)
    if math.type then assert.equal("integer", math.type(job.summary.totalCharacterCharged)) end
  end)
end)
