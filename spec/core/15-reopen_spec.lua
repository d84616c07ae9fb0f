-- The module opened a second time in one Lua state (package.loaded cleared, then require again):
-- documents listed before keep working and their pages are still freed when they go, because the
-- core's tables for listed documents are made once per state, not once per open.
local H = require "core.helper"
local emu = H.emu

local function reload()
  local saved = {}
  for k, v in pairs(package.loaded) do
    if k == "doctranslate" or k:match("^doctranslate%.") then saved[k] = v; package.loaded[k] = nil end
  end
  local dt = require "doctranslate"
  return dt, function()
    for k in pairs(package.loaded) do
      if k == "doctranslate" or k:match("^doctranslate%.") then package.loaded[k] = nil end
    end
    for k, v in pairs(saved) do package.loaded[k] = v end
  end
end

describe("the core opened twice", function()
  it("keeps documents listed before the second open readable, and lists again", function()
    local job = H.job{ documents = 7 }
    local before = {}
    for d in H.client():documents(job, { page_size = 3 }) do before[#before + 1] = d end
    assert.equal(7, #before)

    local dt, restore = reload()
    local ok, err = pcall(function()
      do
        local after = {}
        local c = dt.new{ endpoint = emu.http, key = emu.key }
        for d in c:documents(job, { page_size = 3 }) do after[#after + 1] = d end
        assert.equal(7, #after)
        for i = 1, 7 do
          -- a document of the first open, read through the methods and metamethods
          assert.equal(after[i].id, before[i].id)
          assert.equal(after[i].status, before[i].status)
          assert.matches("^doctranslate%.Document: ", tostring(before[i]))
          assert.equal("table", type(before[i]:response()))
        end
      end
      before = nil
      collectgarbage()
      collectgarbage()
    end)
    restore()
    assert(ok, tostring(err))
  end)
end)
