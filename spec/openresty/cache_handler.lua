-- spec/openresty: the status endpoints of the cache spec and of bench-cache. Each worker makes
-- its clients on first use: `cached` reads through the lua_shared_dict `doctranslate`, `plain`
-- does not, `other` has another key and the same dict.
--   GET /status/{job}        the job's status through the cache: {id, status, summary}
--   GET /plain/{job}         the same without the cache
--   GET /other/{job}         through the cache with another key (its own entries, its own 401)
--   GET /document/{job}/{doc} one document's status through the cache
--   GET /cache-stats         this worker's transport counters
-- luacheck: globals ngx
local dt = require "doctranslate"
local cjson = require "cjson.safe"

local H = {}
local clients = {}

local function client(name)
  local c = clients[name]
  if c then return c end
  local opts = { endpoint = os.getenv("DT_ENDPOINT"), key = os.getenv("DT_KEY"), retry_base = 0.05,
                 api_version = os.getenv("DT_API_VERSION") }
  if name ~= "plain" then
    opts.cache = ngx.shared.doctranslate
    opts.cache_ttl = tonumber(os.getenv("DT_CACHE_TTL") or "") or 1
  end
  if name == "other" then opts.key = "another-key-" .. opts.key end
  c = dt.new(opts)
  clients[name] = c
  return c
end

local function send(status, value)
  ngx.status = status
  ngx.header.content_type = "application/json"
  ngx.say(cjson.encode(value))
end

local function fail(err)
  return send(type(err) == "table" and err.kind == "http" and err.status or 502,
    { error = { kind = err.kind, status = err.status, code = err.code, message = err.message } })
end

function H.handle()
  local uri = ngx.var.uri
  local which, id = uri:match("^/(%a+)/([^/]+)$")
  if uri == "/cache-stats" then return send(200, client("cached"):stats()) end
  if which == "status" or which == "plain" or which == "other" then
    local job, err = client(which == "status" and "cached" or which):job(id)
    if not job then return fail(err) end
    local s = job.summary
    return send(200, { id = job.id, status = job.status, total = s.total, success = s.success,
                       failed = s.failed, inProgress = s.inProgress, notYetStarted = s.notYetStarted })
  end
  local job_id, doc_id = uri:match("^/document/([^/]+)/([^/]+)$")
  if job_id then
    local doc, err = client("cached"):document(job_id, doc_id)
    if not doc then return fail(err) end
    return send(200, { id = doc.id, status = doc.status })
  end
  return send(404, { error = { message = "no route " .. uri } })
end

return H
