-- Scripted faults: which request a fault fires on, and the answers that replace or spoil a response.
local store = require "emulator.store"

local floor, max, min = math.floor, math.max, math.min

local M = {}

M.ROUTES = { job = true, document = true, documents = true, jobs = true, start = true, cancel = true,
             formats = true, storagesources = true, translate = true, any = true }
M.ACTIONS = { status = true, latency = true, reset = true, truncate = true, nonjson = true, html = true,
              empty = true, trickle = true, oversize = true, foreign_next = true, loop_next = true,
              pingpong_next = true, empty_pages = true, repeat_doc = true, big_header = true }
local LIST_ONLY = { foreign_next = true, loop_next = true, pingpong_next = true, empty_pages = true,
                    repeat_doc = true }
local LIST_ROUTES = { documents = true, jobs = true }
local BODY_KINDS = { service = true, empty = true, nonjson = true, html = true }

local function is_int(v, lo)
  return type(v) == "number" and v == floor(v) and v >= lo
end

-- Checks and completes a fault description from the admin API. Returns it, or nil and a message.
function M.validate(f)
  if type(f) ~= "table" then return nil, "the body must be a JSON object" end
  f.route = f.route or "any"
  if not M.ROUTES[f.route] then return nil, "unknown route '" .. tostring(f.route) .. "'" end
  if not M.ACTIONS[f.action] then return nil, "unknown or missing action '" .. tostring(f.action) .. "'" end
  if LIST_ONLY[f.action] and not LIST_ROUTES[f.route] and f.route ~= "any" then
    return nil, "action '" .. f.action .. "' applies to the list routes (documents, jobs) only"
  end
  if f.job ~= nil then
    if type(f.job) ~= "string" then return nil, "job must be a string" end
    f.job = f.job:lower()
  end
  if f.page ~= nil and not is_int(f.page, 1) then return nil, "page must be an integer >= 1" end
  f.nth = f.nth or 1
  if not is_int(f.nth, 1) then return nil, "nth must be an integer >= 1" end
  f.times = f.times or 1
  if not is_int(f.times, -1) or f.times == 0 then return nil, "times must be -1 (forever) or an integer >= 1" end
  if f.method ~= nil and type(f.method) ~= "string" then return nil, "method must be a string" end
  local a = f.action
  if a == "status" then
    if not is_int(f.status, 100) or f.status > 599 then return nil, "status needs an HTTP status code" end
    if f.retry_after ~= nil and f.retry_after ~= "date" and not is_int(f.retry_after, 0) then
      return nil, "retry_after must be whole seconds or \"date\""
    end
    if f.retry_after_ms ~= nil and not is_int(f.retry_after_ms, 0) then
      return nil, "retry_after_ms must be an integer"
    end
    f.body = f.body or "service"
    if not BODY_KINDS[f.body] then return nil, "body must be service, empty, nonjson or html" end
  elseif a == "latency" then
    if type(f.ms) ~= "number" or f.ms < 0 then return nil, "latency needs ms >= 0" end
  elseif a == "trickle" then
    f.bytes_per_second = f.bytes_per_second or 200
    if not is_int(f.bytes_per_second, 1) then return nil, "bytes_per_second must be an integer >= 1" end
  elseif a == "oversize" then
    f.bytes = f.bytes or 64 * 1024 * 1024
    if not is_int(f.bytes, 1) then return nil, "bytes must be an integer >= 1" end
  elseif a == "big_header" then
    f.bytes = f.bytes or 110 * 1024
    if not is_int(f.bytes, 1) or f.bytes > 1024 * 1024 then return nil, "bytes must be an integer in 1..1048576" end
  elseif a == "foreign_next" then
    if type(f.next) ~= "string" or f.next == "" then return nil, "foreign_next needs next (a URL)" end
  elseif a == "truncate" then
    if f.bytes ~= nil and not is_int(f.bytes, 0) then return nil, "bytes must be an integer >= 0" end
  end
  return f
end

-- The page number of a list request (1-based, from skip and maxpagesize in any spelling).
local function page_of(params)
  local skip, size = 0, 50
  for _, p in ipairs(params) do
    local n = type(p.value) == "string" and tonumber(p.value)
    if n then
      if p.lname == "skip" or p.lname == "$skip" then skip = n end
      if (p.lname == "maxpagesize" or p.lname == "$maxpagesize") and n >= 1 then size = n end
    end
  end
  return floor(skip / size) + 1
end
M.page_of = page_of

-- Finds the faults that fire on this request. Latency faults all fire (their delays add up);
-- of the others, the first matching one fires. Sets ctx.fault and returns the total latency in ms.
function M.match(ctx, r, params)
  local list = store.faults()
  if #list == 0 then return 0 end
  local page
  if LIST_ROUTES[r.name] then page = page_of(params) end
  ctx.fault_page = page
  local method = ngx.req.get_method()
  local latency = 0
  for _, f in ipairs(list) do
    if (f.route == "any" or f.route == r.name)
       and (not f.job or (r.job_id and r.job_id:lower() == f.job))
       and (not f.method or f.method:upper() == method)
       and (not LIST_ONLY[f.action] or LIST_ROUTES[r.name])
       and (not f.page or (page and page == (f.action == "pingpong_next" and f.page + 1 or f.page)))
       and (f.action == "latency" or not ctx.fault) then
      local hits = store.fault_hit(f.id)
      if hits >= f.nth then
        local fired = store.fault_fired(f.id, 0)
        if f.times < 0 or fired < f.times then
          store.fault_fired(f.id, 1)
          if f.action == "latency" then
            latency = latency + f.ms
          else
            ctx.fault = f
          end
          ctx.fired = ctx.fired or {}
          ctx.fired[#ctx.fired + 1] = f.id
        end
      end
    end
  end
  return latency
end

local SERVICE_ERRORS = {
  [400] = { "InvalidRequest", "The request is invalid." },
  [401] = { "401", "Access denied due to invalid subscription key or wrong API endpoint." },
  [403] = { "Forbidden", "The request is forbidden." },
  [404] = { "ResourceNotFound", "The requested resource was not found." },
  [408] = { "RequestTimeout", "The request timed out." },
  [409] = { "Conflict", "The request conflicts with the state of the resource." },
  [429] = { "RequestRateTooHigh", "The request rate is too high; retry later." },
  [500] = { "InternalServerError", "Unexpected internal server error has occurred." },
  [502] = { "BadGateway", "The gateway received an invalid response." },
  [503] = { "ServiceUnavailable", "The service is temporarily unavailable; retry later." },
  [504] = { "GatewayTimeout", "The gateway timed out." },
}

M.NONJSON = "This is not JSON: the emulator was asked to send a broken body."
M.HTML = "<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head>" ..
  "<body><h1>Service Unavailable</h1><p>The emulator was asked to answer with HTML.</p></body></html>\n"

-- Faults that replace the whole answer, before authentication: returns status, body, headers,
-- content type; nil when the fault only changes the normal answer.
function M.answer(ctx, error_body)
  local f = ctx.fault
  local a = f.action
  if a == "status" then
    local headers = {}
    if f.retry_after == "date" then
      headers["Retry-After"] = ngx.http_time(ngx.time() + (f.retry_after_date_seconds or 1))
    elseif f.retry_after then
      headers["Retry-After"] = tostring(f.retry_after)
    end
    if f.retry_after_ms then
      headers["retry-after-ms"] = tostring(f.retry_after_ms)
      headers["x-ms-retry-after-ms"] = tostring(f.retry_after_ms)
    end
    local kind = f.body
    if kind == "empty" then return f.status, nil, headers end
    if kind == "nonjson" then return f.status, M.NONJSON, headers, "application/json; charset=utf-8" end
    if kind == "html" then return f.status, M.HTML, headers, "text/html; charset=utf-8" end
    local e = SERVICE_ERRORS[f.status] or { "Error" .. f.status, "The emulator answered " .. f.status .. "." }
    headers["x-ms-error-code"] = e[1]
    return f.status, error_body(e[1], e[2], "Operation", e[1]), headers
  elseif a == "nonjson" then
    return 200, M.NONJSON, {}, "application/json; charset=utf-8"
  elseif a == "html" then
    return 200, M.HTML, {}, "text/html; charset=utf-8"
  elseif a == "empty" then
    return 200, "", {}, "application/json; charset=utf-8"
  end
  return nil
end

-- Sends body according to a body-spoiling fault (reset, truncate, trickle, oversize) or plainly.
function M.deliver(ctx, body)
  local f = ctx.fault
  local a = f and f.action
  local h = ngx.header
  if a == "big_header" then
    -- one header line longer than clients buffer (libcurl: 100 KiB), then the normal answer
    h["X-Emulator-Padding"] = string.rep("h", f.bytes)
  end
  if not body then
    h["Content-Length"] = 0
    return
  end
  if a == "truncate" then
    local keep = f.bytes and min(f.bytes, max(0, #body - 1)) or floor(#body / 2)
    body = body:sub(1, keep)
    h["Content-Length"] = #body
    ngx.print(body)
  elseif a == "reset" then
    h["Content-Length"] = #body
    local half = max(1, floor(#body / 2))
    ngx.print(body:sub(1, half))
    ngx.flush(true)
    ngx.sleep(0.05)
    return ngx.exit(ngx.ERROR)
  elseif a == "trickle" then
    h["Content-Length"] = #body
    local bps = f.bytes_per_second
    local chunk = max(1, floor(bps / 10))
    local pos = 1
    while pos <= #body do
      local piece = body:sub(pos, pos + chunk - 1)
      ngx.print(piece)
      local ok = ngx.flush(true)
      if not ok then return ngx.exit(ngx.ERROR) end
      pos = pos + chunk
      if pos <= #body then ngx.sleep(#piece / bps) end
    end
  elseif a == "oversize" then
    -- {"padding":"xxxx...", <the normal members>}: valid JSON, as large as asked
    local rest = body:match("^%s*{(.*)$")
    local head = '{"padding":"'
    local tail
    if rest and rest:match("^%s*}%s*$") then
      tail = '"}'
    elseif rest then
      tail = '",' .. rest
    else
      head, tail = '{"padding":"', '"}'
    end
    local pad = max(0, f.bytes - #head - #tail)
    h["Content-Length"] = #head + pad + #tail
    ngx.print(head)
    local block = string.rep("x", 65536)
    while pad > 0 do
      local n = min(pad, #block)
      ngx.print(n == #block and block or block:sub(1, n))
      local ok = ngx.flush(true)
      if not ok then return ngx.exit(ngx.ERROR) end
      pad = pad - n
    end
    ngx.print(tail)
  else
    if not ctx.chunked or body == "" then h["Content-Length"] = #body end
    ngx.print(body)
  end
end

return M
