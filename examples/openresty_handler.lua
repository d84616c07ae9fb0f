--- examples/openresty_handler.lua: doctranslate in an nginx worker (see examples/nginx.conf).
--
--   GET /jobs/<id>                  the job's status as JSON
--   GET /jobs/<id>/documents        its documents as a JSON stream, one ngx.flush per page:
--       {"job_id":"...","documents":[{...},...],"count":n}
--       query: page_size, top, skip, statuses (comma list), order_by, continuation
--       an error after the first page ends the stream with "error" and "continuation"
--   GET /stats                      this worker's transport counters, its pid, and what
--                                   init_worker saw when it tried a request (a usage error)
-- Errors come out as {"error":{"kind","status","code","message",...}} with 400 (usage),
-- the service's status (http), 504 (timeout) or 502 (network, protocol, parse). The module
-- raises a usage error as a string ("file:line: bad option 'page_size': ..."): a request's bad
-- query makes one here, answered as kind "usage" without the position (docs/errors.md).
-- luacheck: globals ngx
local dt = require "doctranslate"
local cjson = require "cjson.safe"

local H = {}

local client          -- made in init_by_lua (the master), used by every worker
local init_worker_said -- what a request from init_worker answered

function H.init()
  local endpoint, key = os.getenv("DT_ENDPOINT"), os.getenv("DT_KEY")
  if not endpoint or not key then
    error("openresty_handler: set DT_ENDPOINT and DT_KEY in nginx's environment")
  end
  client = dt.new{
    endpoint = endpoint,
    key = key,
    api_version = os.getenv("DT_API_VERSION"),
    ca_file = os.getenv("DT_CA_FILE"),
    timeout = tonumber(os.getenv("DT_TIMEOUT") or ""),
    retries = 1,
    retry_base = 0.05,
    keepalive_pool_size = 256, -- idle connections kept per worker: many listings may run at once
    log = function(level, message)
      if level ~= "debug" then ngx.log(ngx.WARN, "doctranslate ", level, ": ", message) end
    end,
  }
end

local ERROR_FIELDS = { "kind", "status", "code", "message", "target", "retry_after",
                       "apim-request-id", "x-requestid", "x-ms-client-request-id" }

-- An error value as JSON fields; a raised usage error (a string) as kind "usage" and its message
-- without the position, which names a file of this server.
local function error_table(err)
  if type(err) == "string" then return { kind = "usage", message = (err:gsub("^[^\n]-:%d+: ", "")) } end
  if type(err) ~= "table" then return { kind = "lua", message = tostring(err) } end
  local t = {}
  for _, k in ipairs(ERROR_FIELDS) do t[k] = err[k] end
  return t
end

-- init_worker cannot use cosockets: a request made here is a usage error, never a
-- blocking fallback. (Work for this phase belongs in ngx.timer.at(0, ...).)
function H.init_worker()
  local ok, err = pcall(client.job, client, "00000000-0000-0000-0000-000000000000")
  init_worker_said = ok and "no error" or error_table(err)
end

local function http_status(err)
  if type(err) == "string" then return 400 end -- a usage error
  local kind = type(err) == "table" and err.kind
  if kind == "usage" then return 400 end
  if kind == "http" and type(err.status) == "number" then return err.status end
  if kind == "timeout" then return 504 end
  return 502
end

local function send_error(err)
  ngx.status = http_status(err)
  ngx.header.content_type = "application/json"
  ngx.say(cjson.encode({ error = error_table(err) }))
  return ngx.exit(ngx.status)
end

local JOB_FIELDS = { "id", "status", "createdDateTimeUtc", "lastActionDateTimeUtc", "summary", "error" }
local DOC_FIELDS = { "id", "status", "to", "progress", "path", "sourcePath", "createdDateTimeUtc",
                     "lastActionDateTimeUtc", "characterCharged", "error" }

local function pick(obj, fields)
  local t = {}
  for _, k in ipairs(fields) do t[k] = obj[k] end
  return t
end

local function job_status(job_id)
  local job, err = client:job(job_id)
  if not job then return send_error(err) end
  ngx.header.content_type = "application/json"
  ngx.say(cjson.encode(pick(job, JOB_FIELDS)))
end

local function listing_opts(args)
  local o = {}
  for _, k in ipairs({ "page_size", "top", "skip" }) do
    if args[k] then o[k] = tonumber(args[k]) or args[k] end
  end
  if args.statuses then
    o.statuses = {}
    for s in tostring(args.statuses):gmatch("[^,]+") do o.statuses[#o.statuses + 1] = s end
  end
  o.order_by = args.order_by
  o.continuation = args.continuation
  return o
end

local function documents(job_id)
  local ok, pages = pcall(client.documents, client, job_id, listing_opts(ngx.req.get_uri_args()))
  if not ok then return send_error(pages) end
  -- the first page decides the HTTP status; after it the answer streams
  local page, err = pages:next_page()
  if err then return send_error(err) end
  ngx.header.content_type = "application/json"
  ngx.print('{"job_id":', cjson.encode(job_id), ',"documents":[')
  local count = 0
  while page do
    local parts = {}
    for i, doc in ipairs(page) do parts[i] = cjson.encode(pick(doc, DOC_FIELDS)) end
    if #parts > 0 then
      ngx.print(count > 0 and "," or "", table.concat(parts, ","))
      if not ngx.flush() then -- the client went away: stop asking the service
        pages:close()
        return
      end
    end
    count = count + #page
    page, err = pages:next_page()
  end
  if err then
    ngx.print('],"count":', count, ',"error":', cjson.encode(error_table(err)),
              ',"continuation":', cjson.encode(pages:continuation()), '}\n')
  else
    ngx.print('],"count":', count, '}\n')
  end
  pages:close()
end

local function stats()
  local s = client:stats()
  s.pid = ngx.worker.pid()
  s.init_worker = init_worker_said
  s.client = tostring(client)
  ngx.header.content_type = "application/json"
  ngx.say(cjson.encode(s))
end

function H.handle()
  local uri = ngx.var.uri
  local id, rest = uri:match("^/jobs/([^/]+)(.*)$")
  if id and rest == "" then return job_status(ngx.unescape_uri(id)) end
  if id and rest == "/documents" then return documents(ngx.unescape_uri(id)) end
  if uri == "/stats" then return stats() end
  ngx.status = 404
  ngx.say(cjson.encode({ error = { kind = "usage", message = "no such route: " .. uri } }))
end

return H
