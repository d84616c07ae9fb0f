--- bench/openresty: the two listings the benchmark compares, in one nginx worker.
--
--   GET /ours/<http|https>/<job id>   doctranslate (driver + openresty transport)
--   GET /peer/<http|https>/<job id>   peer.lua, the hand-written cosocket loop
-- Each lists the whole job and answers the number of documents (text), or 502
-- and the error. Query `pace=off` (ours): a client made with pace = false.
-- luacheck: globals ngx
local dt = require "doctranslate"
local peer = require "peer"

local H = {}

local API_VERSION = "2024-05-01"
local conf = {}
local clients = {}

function H.init()
  conf.http = assert(os.getenv("DT_ENDPOINT"), "set DT_ENDPOINT")
  conf.https = assert(os.getenv("BENCH_HTTPS"), "set BENCH_HTTPS")
  conf.key = assert(os.getenv("DT_KEY"), "set DT_KEY")
  conf.ca = os.getenv("DT_CA_FILE")
  conf.pace = tonumber(os.getenv("BENCH_PACE") or "")
end

local function client(scheme, pace_off)
  local name = scheme .. (pace_off and "-nopace" or "")
  local c = clients[name]
  if not c then
    local pace = conf.pace
    if pace_off then pace = false end
    c = dt.new{ endpoint = conf[scheme], key = conf.key, ca_file = conf.ca, api_version = API_VERSION,
                keepalive_pool_size = 256, pace = pace }
    clients[name] = c
  end
  return c
end

local function ours(scheme, job_id, args)
  local pages = client(scheme, args.pace == "off"):documents(job_id)
  local count = 0
  while true do
    local page, err = pages:next_page()
    if err then
      pages:close()
      return nil, tostring(type(err) == "table" and err.message or err)
    end
    if not page then break end
    count = count + #page
  end
  pages:close()
  return count
end

local function theirs(scheme, job_id)
  return peer.count(conf[scheme], conf.key, job_id, API_VERSION)
end

function H.handle()
  local who, scheme, job_id = ngx.var.uri:match("^/(%a+)/(https?)/([^/]+)$")
  local count, err
  if who == "ours" then
    count, err = ours(scheme, job_id, ngx.req.get_uri_args())
  elseif who == "peer" then
    count, err = theirs(scheme, job_id)
  else
    ngx.status = 404
    return ngx.say("no such route")
  end
  if not count then
    ngx.status = 502
    return ngx.say(err)
  end
  ngx.say(count)
end

return H
