-- spec/openresty: runs the Lua chunk POSTed to /eval inside the nginx worker, with
-- `c` (the client made in init_by_lua from DT_* variables), `dt`, `ngx`, `cjson`
-- and `logs` (what the client's log function received in this worker), and
-- answers {"ok":true,"result":...} or {"ok":false,"error":{kind,status,code,...}}.
-- Loopback only; for the specs.
-- luacheck: globals ngx
local dt = require "doctranslate"
local cjson = require "cjson.safe"

local E = { logs = {} }
local client, init_worker_said

function E.init()
  client = dt.new{
    endpoint = os.getenv("DT_ENDPOINT"),
    key = os.getenv("DT_KEY"),
    ca_file = os.getenv("DT_CA_FILE"),
    timeout = tonumber(os.getenv("DT_TIMEOUT") or ""),
    api_version = os.getenv("DT_API_VERSION"),
    retry_base = 0.05,
    log = function(level, message) E.logs[#E.logs + 1] = level .. " " .. message end,
  }
end

function E.init_worker()
  local ok, err = pcall(client.documents, client, "00000000-0000-0000-0000-000000000000")
  init_worker_said = ok and "no error" or err
end

local FIELDS = { "kind", "status", "code", "message", "target", "retry_after",
                 "apim-request-id", "x-requestid", "x-ms-client-request-id" }

-- A raised string "chunk:line: message" of the module is a usage error (its runtime errors raised
-- by a for loop say "doctranslate: kind ..."): { kind = "usage", message =, where =, text = }.
local function error_table(err)
  if type(err) == "string" then
    local where, message = err:match("^([^\n]-:%d+): (.*)$")
    if where and not message:find("^doctranslate: ") then
      return { kind = "usage", message = message, where = where, text = err }
    end
    return { kind = "lua", message = err, text = err }
  end
  if type(err) ~= "table" then return { kind = "lua", message = tostring(err) } end
  local t = { text = tostring(err), is_error = dt.is_error(err) }
  for _, k in ipairs(FIELDS) do t[k] = err[k] end
  return t
end
E.error_table = error_table

function E.handle()
  ngx.req.read_body()
  local code = ngx.req.get_body_data() or ""
  local f, perr = loadstring(code, "=eval")
  if not f then
    ngx.status = 400
    return ngx.say(cjson.encode({ ok = false, error = { kind = "lua", message = perr } }))
  end
  setfenv(f, setmetatable({ dt = dt, c = client, ngx = ngx, cjson = cjson, logs = E.logs, E = E,
                            init_worker_said = init_worker_said }, { __index = _G }))
  local ok, res = pcall(f)
  ngx.header.content_type = "application/json"
  if ok then
    ngx.say(cjson.encode({ ok = true, result = res == nil and cjson.null or res }))
  else
    ngx.say(cjson.encode({ ok = false, error = error_table(res) }))
  end
end

return E
