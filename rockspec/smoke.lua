-- `make rock-check`'s last step: run outside the checkout with LUA_PATH/LUA_CPATH from
-- `luarocks path --tree <tree>` only. It proves that the installed rock works on its own: the
-- modules come from that tree, and a job started on the emulator is read and listed.
--   DT_EMULATOR_HTTP, DT_EMULATOR_KEY: the emulator; DT_ROCK_TREE: the tree that must serve us
local tree = assert(os.getenv("DT_ROCK_TREE"), "DT_ROCK_TREE is not set")

local dt = require "doctranslate"
local core = require "doctranslate.core"

-- package.searchpath, which Lua 5.1 lacks
local function searchpath(name, path)
  local base = name:gsub("%.", "/")
  for template in path:gmatch("[^;]+") do
    local file = template:gsub("%?", base)
    local fh = io.open(file, "rb")
    if fh then
      fh:close()
      return file
    end
  end
end

-- where each module was found: inside the tree, never in a checkout
local function origin(name, path)
  local file = searchpath(name, path)
  assert(file and file:sub(1, #tree) == tree, name .. " was not loaded from the tree: " .. tostring(file))
  return file
end
print("lua:       " .. (rawget(_G, "jit") and jit.version or _VERSION))
print("module:    " .. origin("doctranslate", package.path))
print("core:      " .. origin("doctranslate.core", package.cpath))
assert(type(core.new) == "function")

local c = dt.new{ endpoint = assert(os.getenv("DT_EMULATOR_HTTP")), key = assert(os.getenv("DT_EMULATOR_KEY")),
                  retry_base = 0.05 }
local job = assert(c:start{ inputs = { {
  source = { sourceUrl = "https://rock.blob.core.windows.net/in" },
  targets = { { targetUrl = "https://rock.blob.core.windows.net/fr", language = "fr" } },
} } })
-- the service counts a job's documents once it runs: the emulator's clock is moved past its start
local p = assert(io.popen("curl -fsS -o /dev/null -w '%{http_code}' -X POST -d '{\"advance\":2}' " ..
                          os.getenv("DT_EMULATOR_HTTP") .. "/_emulator/clock"))
assert(p:read("*a") == "200", "the emulator's clock did not move")
p:close()
local fresh = assert(c:job(job.id))
local n = 0
for doc in c:documents(job.id) do
  assert(type(doc.id) == "string")
  n = n + 1
end
print(("job:       %s %s, %d documents listed (summary.total %s)"):format(fresh.id, fresh.status, n,
  tostring(fresh.summary.total)))
assert(n > 0 and n == fresh.summary.total, "listed " .. n .. " documents, the job has " ..
  tostring(fresh.summary.total))
-- for the next step, the installed `doctranslate` command
local fh = assert(io.open("job-id", "w"))
fh:write(fresh.id)
fh:close()
