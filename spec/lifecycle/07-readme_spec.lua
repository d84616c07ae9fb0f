-- The README's lifecycle examples, run as written against the emulator (only ENDPOINT, KEY,
-- fetch_token and print are provided here).
local L = require "lifecycle.helper"
local emu = L.emu

describe("README lifecycle examples", function()
  local out, env
  lazy_setup(function()
    emu.reset()
    -- the examples wait as written, on the real clock: a job of one second is one poll after
    -- the first (the service's Retry-After is 1 s)
    emu.settings{ start_duration = 1, cancel_delay = 0.3 }
  end)
  lazy_teardown(function() emu.reset() end)
  before_each(function()
    out = {}
    env = setmetatable({
      ENDPOINT = emu.http, KEY = emu.key,
      print = function(...)
        local parts = {}
        for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
        out[#out + 1] = table.concat(parts, "\t")
      end,
      fetch_token = function() return emu.token{ expires_in = 3600 }.token, os.time() + 3600 end,
    }, { __index = _G })
  end)

  local function run(code)
    local chunk
    if setfenv then -- Lua 5.1 (LuaJIT too): load() takes no string, no env
      chunk = assert(loadstring(code, "=readme"))
      setfenv(chunk, env)
    else
      chunk = assert(load(code, "=readme", "t", env))
    end
    return chunk()
  end

  it("start, wait, failures", function()
    local job, done = run([[
      local dt = require "doctranslate"
      local c = dt.new{ endpoint = ENDPOINT, key = KEY }

      local job = assert(c:start{ inputs = { {
        source = { sourceUrl = "https://acct.blob.core.windows.net/src?sv=2024&sig=abc", filter = { suffix = ".txt" } },
        targets = { { targetUrl = "https://acct.blob.core.windows.net/fr?sv=2024&sig=abc", language = "fr" } },
      } } })

      local done, err = job:wait{ timeout = 600, on_progress = function(j)
        print(j.status, j.summary.success + j.summary.failed, "/", j.summary.total)
      end }
      if not done then error(err) end

      local report = assert(job:failures())
      print(report)                    -- a text table; report:json() gives JSON
      return job, done
    ]])
    assert.equals(job, done)
    assert.equals("Succeeded", job.status)
    assert.matches("failed documents in", table.concat(out, "\n"), 1, true)
    assert.not_matches("sig=abc", table.concat(out, "\n"), 1, true)
  end)

  it("cancel, the job list, formats", function()
    run([[
      local dt = require "doctranslate"
      local c = dt.new{ endpoint = ENDPOINT, key = KEY, api_version = "v1.1" }

      local job = assert(c:start{ inputs = { {
        source = { sourceUrl = "https://acct.blob.core.windows.net/src" },
        targets = { { targetUrl = "https://acct.blob.core.windows.net/de", language = "de" } },
      } } })
      assert(job:cancel())             -- job.status: "Cancelling", then "Cancelled"
      print(job.status)

      for j in c:jobs{ statuses = { "Cancelling", "Cancelled" }, order_by = "createdDateTimeUtc desc", top = 20 } do
        print(j.id, j.status)
      end

      for _, f in ipairs(assert(c:formats("document"))) do
        print(f.format, table.concat(f.fileExtensions, " "))
      end
    ]])
    assert.is_truthy(out[1] == "Cancelling" or out[1] == "Cancelled")
    assert.matches("\tCancell", out[2])
    assert.matches("PlainText\t.txt", table.concat(out, "\n"), 1, true)
  end)

  it("Azure AD tokens", function()
    local job = run([[
      local dt = require "doctranslate"
      local c = dt.new{ endpoint = ENDPOINT, region = "westeurope",
                        token = function() return fetch_token() end }   -- token, expires_at (epoch)
      return assert(c:job("71ab389d-a2c3-4110-8988-8da4e5fd7408"))
    ]])
    assert.equals("71ab389d-a2c3-4110-8988-8da4e5fd7408", job.id)
  end)
end)
