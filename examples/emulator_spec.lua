-- A user's own busted spec against the emulator, as docs/emulator.md shows it:
--   eval "$(doctranslate-emulator start)"
--   busted examples/emulator_spec.lua
--   doctranslate-emulator stop
-- The code under test is failures_by_code below; the spec drives the emulator through its admin
-- API (http://.../_emulator/..., no key) to make the jobs and the failures it needs.
local dt = require "doctranslate"
local json = require "dkjson"

-- The code under test: how many documents of a job failed, per error code.
local function failures_by_code(client, job_id)
  local counts = {}
  for doc in client:documents(job_id, { statuses = { "Failed" } }) do
    local code = doc.error and doc.error.code or "unknown"
    counts[code] = (counts[code] or 0) + 1
  end
  return counts
end

local endpoint = assert(os.getenv("DT_EMULATOR_HTTP"), 'run eval "$(doctranslate-emulator start)" first')
local key = assert(os.getenv("DT_EMULATOR_KEY"))

-- The emulator's admin API, through the curl command: the decoded answer.
local function admin(method, path, body)
  local cmd = ("curl -sS -X %s %s/_emulator%s"):format(method, endpoint, path)
  if body then cmd = cmd .. " -d '" .. json.encode(body) .. "'" end
  local p = assert(io.popen(cmd))
  local out = p:read("*a")
  p:close()
  return json.decode(out)
end

describe("failures_by_code", function()
  local client
  before_each(function()
    admin("POST", "/reset")
    client = dt.new{ endpoint = endpoint, key = key, retry_base = 0.01 }
  end)
  after_each(function() client:close() end)

  it("counts the failed documents of a job", function()
    local job = admin("POST", "/jobs", { documents = 20, fail_every = 4 })
    local counts = failures_by_code(client, job.id)
    local total = 0
    for _, n in pairs(counts) do total = total + n end
    assert.equal(5, total)
  end)

  it("rides out the service's 503s", function()
    local job = admin("POST", "/jobs", { documents = 10, fail_every = 5 })
    admin("POST", "/faults", { route = "documents", action = "status", status = 503, times = 2 })
    local counts = failures_by_code(client, job.id)
    local total = 0
    for _, n in pairs(counts) do total = total + n end
    assert.equal(2, total)
  end)

  it("raises what the service said when the job does not exist", function()
    local ok, err = pcall(failures_by_code, client, "00000000-0000-4000-8000-000000000000")
    assert.is_false(ok)
    assert.matches("http 404 ResourceNotFound", err)
  end)
end)
