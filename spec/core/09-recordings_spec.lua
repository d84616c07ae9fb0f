-- Recorded bodies of the real service (../shared/recordings) through the sans-I/O
-- surface: wire variants the emulator may not produce (no-zone dates, the 401 body
-- whose code is "401", 7-digit fractions, explicit :443 in blob URLs).
local dt = require "doctranslate"

local DIR = os.getenv("DT_RECORDINGS") or "../shared/recordings"

local function read(name)
  local f = io.open(DIR .. "/" .. name, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function client(version)
  return dt.new{ endpoint = "https://fake.cognitiveservices.azure.com/translator", key = "recorded-key-123456",
                 api_version = version }
end

describe("recorded responses", function()
  local have = read("v1.0_error-401.json") ~= nil
  if not have then
    pending("recordings not found in " .. DIR)
    return
  end

  it("a v1.0-preview.1 ValidationFailed job with innerError and a date without zone", function()
    local op = client("v1.0-preview.1"):job_op("5fae77cb-59cd-4021-bae7-5fcc4fb6cd2c")
    local req = op:next_request()
    assert.equal("https://fake.cognitiveservices.azure.com/translator/text/batch/v1.0-preview.1/batches/" ..
      "5fae77cb-59cd-4021-bae7-5fcc4fb6cd2c", req.url)
    op:feed{ status = 200, headers = { ["Retry-After"] = "1" },
             body = read("v1.0-preview.1_job-status_validationfailed.json") }
    local job = assert(op:result())
    assert.equal("ValidationFailed", job.status)
    assert.equal("InvalidRequest", job.error.code)
    assert.equal("InvalidDocumentAccessLevel", job.error.innerError.code)
    assert.near(dt.parse_date("2021-03-29T20:02:38.6637111Z"), job:time("createdDateTimeUtc"), 1e-6)
    assert.equal(0, job.summary.total)
  end)

  it("a 401 whose code is the string 401", function()
    local op = client("v1.0"):job_op("j")
    op:next_request()
    op:feed{ status = 401, headers = { ["apim-request-id"] = "a-1" }, body = read("v1.0_error-401.json") }
    local job, err = op:result()
    assert.is_nil(job)
    assert.equal("http", err.kind)
    assert.equal(401, err.status)
    assert.equal("401", err.code)
    assert.equal("a-1", err["apim-request-id"])
    assert.truthy(err.message:find("subscription key", 1, true))
  end)

  it("a 2024-05-01 page with :443 blob URLs and 7-digit fractions", function()
    local pages = client("2024-05-01"):documents("j", { skip = 2 })
    local req = pages:next_request()
    assert.truthy(req.url:find("skip=2", 1, true))
    pages:feed{ status = 200, headers = {}, body = read("2024-05-01_list-document-statuses_skip2.json") }
    local page = assert(pages:next_page())
    assert.truthy(#page > 0)
    for _, d in ipairs(page) do
      assert.is_string(d.id)
      assert.truthy(d.path:find(":443/", 1, true))
      assert.is_number(d:time("lastActionDateTimeUtc"))
      if math.type then assert.equal("integer", math.type(d.characterCharged)) end
    end
    assert.is_nil(pages:next_request())
    assert.is_nil(pages:next_page())
  end)

  it("v1.0 pages with failed documents and their errors", function()
    local body = read("v1.0_list-document-statuses_failed-doc.json")
    local pages = client("v1.0"):documents("j")
    pages:next_request()
    pages:feed{ status = 200, headers = {}, body = body }
    local n = 0
    for d in pages do
      n = n + 1
      if d.status == "Failed" then
        assert.is_string(d.error.code)
        assert.is_nil(d.path)
      end
    end
    assert.truthy(n > 0)
  end)

  it("a 404 with an empty body", function()
    local op = client("2024-05-01"):document_op("j", "d")
    op:next_request()
    op:feed{ status = 404, headers = { ["x-requestid"] = "r-9" }, body = "" }
    local _, err = op:result()
    assert.equal("http", err.kind)
    assert.equal(404, err.status)
    assert.is_nil(err.code)
    assert.equal("r-9", err["x-requestid"])
  end)
end)
