--- doctranslate.cache: the OpenResty client's shared status cache, in a
-- lua_shared_dict that every nginx worker reads (dt.new{ cache = ngx.shared.NAME,
-- cache_ttl = 1, cache_terminal_ttl = 3600 }).
--
-- What it caches: the answers to GET of a job's status (/batches/{id}) and of
-- one document's status (/batches/{id}/documents/{docId}), whole (status,
-- headers, body), under a key made of a hash of the client's identity
-- (endpoint, key or token scope, region) and the request's path and query (so
-- per job, per document and per API version). An answer is fresh for
-- max(cache_ttl, the Retry-After it carries); a job or document in a terminal
-- state for cache_terminal_ttl; an error answer for a short while only
-- (min(cache_ttl, ERROR_TTL)). Listings, starts and cancels are never cached;
-- a cancel drops the job's entry.
--
-- Coalescing: a worker that finds no fresh entry takes the entry's lock
-- (dict:add, atomic across workers) and asks the service; the others serve
-- the stale entry if there is one, or wait for the holder's answer (polling
-- the dict, at most the client's timeout), and never send their own. A 429's
-- Retry-After is shared: until it has passed no worker of this identity sends
-- anything; a cacheable read is served stale if it can be, else answered 429
-- with the time left, which the core waits out like any Retry-After.
--
-- What is stored holds no secret: the key and tokens only enter the identity
-- through a SHA-1, and the service's answers carry none.
-- luacheck: read globals ngx
local core = require "doctranslate.core"

local M = {}

M.ERROR_TTL = 0.5     -- seconds an error answer serves the workers that waited for it
M.STALE = 60          -- seconds a stale entry stays, to be served while another worker refreshes it
M.POLL = 0.005        -- seconds between two looks at the dict of a worker waiting for another's answer

local TERMINAL = core.TERMINAL
local floor, max, min = math.floor, math.max, math.min

local Cache = {}
Cache.__index = Cache

local function is_dict(d)
  if type(d) ~= "table" and type(d) ~= "userdata" then return false end
  local ok, res = pcall(function() return type(d.get) == "function" and type(d.add) == "function"
    and type(d.set) == "function" and type(d.delete) == "function" end)
  return ok and res
end

local function number_opt(usage, name, v, lo, hi)
  if type(v) ~= "number" or not (v >= lo and v <= hi) then
    usage(string.format("bad option '%s': a number of seconds in %g..%g expected", name, lo, hi))
  end
  return v
end

--- The cache of a client: conf has cache, cache_ttl, cache_terminal_ttl, endpoint, key, token,
-- region, timeout; now() is a monotonic clock shared by the workers (CLOCK_MONOTONIC).
function M.new(conf, usage, now)
  local dict = conf.cache
  if not is_dict(dict) then
    usage("bad option 'cache': a lua_shared_dict expected (ngx.shared.NAME), got " .. type(dict))
  end
  local ttl = conf.cache_ttl == nil and 1 or number_opt(usage, "cache_ttl", conf.cache_ttl, 0.001, 86400)
  local terminal = conf.cache_terminal_ttl == nil and 3600 or
    number_opt(usage, "cache_terminal_ttl", conf.cache_terminal_ttl, 0.001, 30 * 86400)
  local who
  if type(conf.key) == "string" then
    who = "key\0" .. conf.key
  else
    -- a token's holder has no name the client knows: the scope of these entries is this
    -- client, in the process that made it and the workers forked from it
    who = "token\0" .. tostring(ngx.now()) .. "\0" .. tostring(math.random()) .. "\0" .. tostring({})
  end
  local ident = ngx.encode_base64(ngx.sha1_bin(table.concat({ "doctranslate-cache-1", tostring(conf.endpoint),
    tostring(conf.region or ""), who }, "\0")))
  return setmetatable({
    dict = dict, ttl = ttl, terminal_ttl = terminal, prefix = "dt:" .. ident:sub(1, 20) .. ":",
    wait_max = conf.timeout or core.DEFAULTS.timeout, now = now,
    hits = 0, stale = 0, waits = 0, fetches = 0, blocked = 0,
  }, Cache)
end

-- Which requests it keeps: the status of a job or of one document.
local function cacheable_path(path)
  return path:match("/batches/[^/]+$") ~= nil or path:match("/batches/[^/]+/documents/[^/]+$") ~= nil
end

function Cache:key_of(target)
  return self.prefix .. "e:" .. target
end

-- Seconds the service asked to wait (Retry-After and friends) in res, or 0.
local function retry_after(headers)
  local function h(name)
    local v = headers[name]
    if v == nil then
      for k, val in pairs(headers) do
        if type(k) == "string" and k:lower() == name then v = val break end
      end
    end
    return type(v) == "string" and v or nil
  end
  return core.retry_delay(h("retry-after-ms"), h("x-ms-retry-after-ms"), h("retry-after")) or 0
end

local cjson = require "cjson.safe"

-- Seconds an answer stays fresh.
function Cache:fresh_for(res)
  local status = res.status
  if status < 200 or status >= 300 then return min(self.ttl, M.ERROR_TTL), true end
  local body = cjson.decode(res.body or "")
  if type(body) == "table" and TERMINAL[body.status] then return self.terminal_ttl, false end
  return max(self.ttl, retry_after(res.headers or {})), false
end

function Cache:store(key, res, t)
  local fresh, is_error = self:fresh_for(res)
  local headers = {}
  for k, v in pairs(res.headers or {}) do headers[k] = v end
  local text = cjson.encode({ s = res.status, h = headers, b = res.body or "", t = t, f = t + fresh })
  if text == nil then return end
  -- the dict's clock is nginx's; the entry's own freshness is on the shared monotonic clock
  self.dict:set(key, text, is_error and fresh or fresh + M.STALE)
end

-- The stored entry as a response, with its Age (whole seconds), and whether it is fresh.
function Cache:load(key, t)
  local text = self.dict:get(key)
  if text == nil then return nil end
  local e = cjson.decode(text)
  if type(e) ~= "table" or type(e.s) ~= "number" then return nil end
  local headers = type(e.h) == "table" and e.h or {}
  headers["age"] = tostring(max(0, floor(t - (e.t or t))))
  return { status = e.s, headers = headers, body = e.b or "" }, t < (e.f or 0), e.t or 0
end

-- The shared 429: until when nobody of this identity sends anything (nil: no block).
function Cache:blocked_until(t)
  local u = self.dict:get(self.prefix .. "429")
  if u and t < u then return u end
  return nil
end

local function answer_429(left)
  local secs = max(1, math.ceil(left))
  return {
    status = 429,
    headers = { ["retry-after"] = tostring(secs), ["content-type"] = "application/json",
                ["x-ms-error-code"] = "RequestRateTooHigh" },
    body = '{"error":{"code":"RequestRateTooHigh","message":"The service answered 429 to another worker'
      .. ' of this client; no request is sent before its Retry-After has passed (' .. secs .. ' s left)."}}',
  }
end

-- After any answer: a 429 blocks the identity for its Retry-After (at least 1 s).
function Cache:note(res, t)
  if res and res.status == 429 then
    local wait = max(1, retry_after(res.headers or {}))
    local key = self.prefix .. "429"
    local u = self.dict:get(key)
    if u == nil or u < t + wait then self.dict:set(key, t + wait, wait + 1) end
  end
end

--- Sends req through send(req) unless the cache answers it: a response, or nil, kind, message.
function Cache:request(req, path, target, send)
  local method = req.method or "GET"
  local t = self.now()
  if method ~= "GET" or not cacheable_path(path) then
    local u = self:blocked_until(t)
    if u then
      self.blocked = self.blocked + 1
      return answer_429(u - t)
    end
    local res, kind, msg, sent = send(req)
    self:note(res, self.now())
    if res and method == "DELETE" and path:match("/batches/[^/]+$") and res.status < 300 then
      self.dict:delete(self:key_of(target)) -- the job's status changed: its entry is gone
    end
    return res, kind, msg, sent -- sent: a translation's upload had begun
  end
  local key = self:key_of(target)
  local lock = self.prefix .. "l:" .. target
  local started = t
  local bound = min(self.wait_max, tonumber(req.timeout) or self.wait_max)
  while true do
    local cached, fresh = self:load(key, t)
    if cached and fresh then
      self.hits = self.hits + 1
      return cached
    end
    local u = self:blocked_until(t)
    if u then
      self.blocked = self.blocked + 1
      if cached and cached.status < 300 then
        self.stale = self.stale + 1
        return cached
      end
      return answer_429(u - t)
    end
    local took, why = self.dict:add(lock, true, 2 * self.wait_max + 1)
    if took or why ~= "exists" then
      -- the lock is ours, or the dict cannot hold it (full): ask, rather than wait for nobody
      self.fetches = self.fetches + 1
      local ok, res, kind, msg = pcall(send, req)
      local done = self.now()
      if ok and res then
        self:note(res, done)
        if res.status ~= 429 then self:store(key, res, done) end
      end
      if took then self.dict:delete(lock) end
      if not ok then error(res, 0) end
      return res, kind, msg
    end
    -- another worker is asking: its answer, or the stale one now
    if cached and cached.status < 300 then
      self.stale = self.stale + 1
      return cached
    end
    if t - started >= bound then
      return nil, "timeout", string.format("waited %g s for another worker's read of the same status", bound)
    end
    self.waits = self.waits + 1
    ngx.sleep(M.POLL)
    t = self.now()
  end
end

function Cache:stats()
  return { hits = self.hits, stale = self.stale, waits = self.waits, fetches = self.fetches,
           blocked = self.blocked }
end

return M
