-- wrk script: walks the pages of one job's document list, a different page on every request,
-- wrapping around at the end. The first pass over an ended job renders every page; later passes are
-- served from the emulator's page cache (setting page_cache_mb: 0 measures rendering alone).
--
--   wrk -t1 -c8 -d10s -s emulator/bench/pages.lua "$DT_EMULATOR_HTTP" -- <job id> [documents] [page size]
-- luacheck: globals init request wrk
local job, documents, size
local skip = 0

function init(args)
  job = args[1] or error("usage: wrk ... -s pages.lua URL -- <job id> [documents] [page size]")
  documents = tonumber(args[2]) or 100000
  size = tonumber(args[3]) or 100
  skip = math.random(0, math.floor(documents / size) - 1) * size
end

function request()
  local path = "/translator/document/batches/" .. job .. "/documents?skip=" .. skip .. "&maxpagesize=" .. size ..
    "&api-version=2024-05-01"
  skip = skip + size
  if skip >= documents then skip = 0 end
  return wrk.format("GET", path, { ["Ocp-Apim-Subscription-Key"] = os.getenv("DT_EMULATOR_KEY") or
    "doctranslate-emulator-key" })
end
