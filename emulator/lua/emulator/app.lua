-- Entry points called from nginx.conf: init, init_worker, handle (content) and log.
local config = require "emulator.config"
local util = require "emulator.util"
local store = require "emulator.store"
local query = require "emulator.query"
local service = require "emulator.service"
local faults = require "emulator.faults"
local admin = require "emulator.admin"
local translate = require "emulator.translate"

local M = {}

local JSON_TYPE = "application/json; charset=utf-8"

function M.init()
  admin.install_fixtures()
end

function M.init_worker()
  math.randomseed(ngx.now() * 1000 + ngx.worker.pid())
end

local function authorized()
  local key = ngx.var.http_ocp_apim_subscription_key
  if key then return key == config.key end
  local auth = ngx.var.http_authorization
  if auth then
    local token = auth:match("^[Bb]earer%s+(%S+)%s*$")
    return token ~= nil and store.token_ok(token)
  end
  return false
end

-- The GETs whose 200 answers the service lets caches keep for a second.
local CACHED_ROUTES = { job = true, jobs = true, document = true, documents = true }

-- Sends an answer: the common headers, an ETag on 200 GET bodies, then the body (through the
-- body-spoiling faults when one fired). The service's own headers (settings cache_control,
-- etag_case, chunked, security_headers) are on its routes' answers, never on the admin API's.
local function send(ctx, status, body, headers, content_type)
  local h = ngx.header
  local settings = store.settings()
  local service_route = not ctx.admin and ctx.route ~= nil and ctx.route ~= "unknown"
  h["apim-request-id"] = ctx.rid
  h["X-RequestId"] = ctx.rid
  if body then h["Content-Type"] = content_type or JSON_TYPE end
  if not ctx.admin and settings.security_headers then
    h["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    h["X-Content-Type-Options"] = "nosniff"
  end
  -- chunked as the service (nginx chunks an HTTP/1.1 answer that has no Content-Length); the
  -- recordings are of the batch routes' JSON: a translated document is sent with its length
  ctx.chunked = service_route and ctx.route ~= "translate" and settings.chunked and status ~= 401 or nil
  local etag = true
  if headers then
    for k, v in pairs(headers) do
      if k == "ETag" and v == false then etag = false elseif v then h[k] = v end
    end
  end
  if status == 200 and body and body ~= "" and etag and ngx.req.get_method() == "GET" and not ctx.fault then
    local tag = ctx.etag_body == body and ctx.etag or util.etag(body, settings)
    h["ETag"] = tag
    local cc = settings.cache_control
    if CACHED_ROUTES[ctx.route] and type(cc) == "string" and cc ~= "" then h["Cache-Control"] = cc end
    local inm = ngx.var.http_if_none_match
    if inm and (inm == tag or inm == "*") then
      ngx.status = 304
      h["Content-Type"] = nil
      return
    end
  end
  if status >= 400 and body and not h["x-ms-error-code"] then
    local code = body:match('^{"error":{"code":"([^"]*)"')
    if code then h["x-ms-error-code"] = code end
  end
  ngx.status = status
  return faults.deliver(ctx, body)
end
M.send = send

local function handle(ctx)
  ctx.rid = util.uuid()
  local uri = ngx.var.uri
  if uri == "/_emulator" or uri:sub(1, 11) == "/_emulator/" then
    ctx.admin = true
    local status, body, headers = admin.handle(ctx, uri)
    return send(ctx, status, body, headers)
  end
  local params = query.parse(ngx.var.args)
  local r = translate.route(uri) or service.route(uri, ngx.req.get_method())
  if not r then
    ctx.route = "unknown"
    return send(ctx, 404, service.BODY_404)
  end
  ctx.route = r.name or "unknown"
  local delay = faults.match(ctx, r, params)
  delay = delay + (tonumber(store.settings().latency_ms) or 0)
  if delay > 0 then ngx.sleep(delay / 1000) end
  if ctx.fault then
    local status, body, headers, ctype = faults.answer(ctx, service.error_body)
    if status then
      local f = ctx.fault
      ctx.fault = nil -- the answer is already the fault's: deliver it as is
      send(ctx, status, body, headers, ctype)
      ctx.fault = f
      return
    end
  end
  if not authorized() then
    return send(ctx, 401, service.BODY_401)
  end
  local status, body = service.check_version(r, params)
  if status then return send(ctx, status, body) end
  local headers, ctype
  status, body, headers, ctype = (r.handler or service[r.name])(ctx, r, params)
  return send(ctx, status, body, headers, ctype)
end

function M.handle()
  local ctx = ngx.ctx
  local ok, err = xpcall(handle, debug.traceback, ctx)
  if not ok then
    ngx.log(ngx.ERR, "emulator: ", err)
    if not ngx.headers_sent then
      ctx.fault = nil
      send(ctx, 500, service.error_body("InternalServerError",
        "The emulator failed on this request; its error log has the details.", "Operation", "EmulatorError"))
    end
  end
end

local SECRET = { ["ocp-apim-subscription-key"] = "REDACTED", authorization = "REDACTED" }

function M.log()
  local ctx = ngx.ctx
  if ctx.admin or not ctx.rid then return end
  local headers = {}
  for k, v in pairs(ngx.req.get_headers(50)) do
    if SECRET[k] then
      if k == "authorization" and type(v) == "string" then
        v = (v:match("^(%S+)%s") or "") .. " REDACTED"
      else
        v = SECRET[k]
      end
    end
    headers[k] = v
  end
  local uri = ngx.var.request_uri or ""
  local q = uri:find("?", 1, true)
  local entry = {
    method = ngx.req.get_method(),
    path = q and uri:sub(1, q - 1) or uri,
    query = ngx.var.args or "",
    headers = headers,
    status = ngx.status,
    time = util.date(util.now_ticks()),
    route = ctx.route,
    request_id = ctx.rid,
    connection = tonumber(ngx.var.connection),
    connection_requests = tonumber(ngx.var.connection_requests),
    tls = ngx.var.https == "on",
    faults = ctx.fired,
    bytes = tonumber(ngx.var.bytes_sent),
  }
  if entry.method == "POST" and ctx.route ~= "translate" then
    local body = ngx.req.get_body_data()
    if body and #body <= 8192 then entry.body = body end
  end
  local max = tonumber(store.settings().log_max) or 10000
  store.log_add(entry, max)
end

return M
