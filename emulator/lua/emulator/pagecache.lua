-- Rendered pages of document lists that can no longer change, kept per worker.
--
-- A page of an ended job (Succeeded, Failed, Cancelled, ValidationFailed) is a pure function of the
-- request (scheme, Host, path and query as sent) and of the stored jobs and settings: its documents
-- are fixed and so is its next link. Such a page is rendered once, with its ETag, and served again
-- from here. Anything that changes a job or a setting (create, delete, cancel, reset, settings)
-- bumps the versions the cache is tied to, and the whole cache is dropped at the next lookup.
--
-- Bound: the bodies held weigh at most `page_cache_mb` MiB per worker (setting; 0 turns the cache
-- off); past it, the least recently used pages are dropped (a hash table plus a doubly linked list).
local dict = ngx.shared.emulator

local M = {}

-- by_base[scheme://host][request_uri] = { body, etag, newer, older, base, uri }: two levels rather
-- than one concatenated key, so that a lookup makes no new string (LuaJIT interns every string, and
-- thousands of long, alike URLs built per request make its string table slow).
local by_base = {}
local newest, oldest = nil, nil
local bytes, count = 0, 0
local jobs_ver, settings_ver = -1, -1
local budget = 0

M.stats = { hits = 0, misses = 0, stored = 0, flushes = 0, dropped = 0 }

local function flush()
  by_base, newest, oldest, bytes, count = {}, nil, nil, 0, 0
  M.stats.flushes = M.stats.flushes + 1
end

-- Checks the versions and the budget; returns false when the cache is off.
local function current(settings)
  local jv = dict:get("jobs:ver") or 0
  local sv = dict:get("settings:ver") or 0
  if jv ~= jobs_ver or sv ~= settings_ver then
    if count > 0 then flush() end
    jobs_ver, settings_ver = jv, sv
    local mb = tonumber(settings.page_cache_mb) or 0
    budget = mb > 0 and math.floor(mb * 1048576) or 0
  end
  return budget > 0
end

local function unlink(e)
  if e[3] then e[3][4] = e[4] else newest = e[4] end
  if e[4] then e[4][3] = e[3] else oldest = e[3] end
  e[3], e[4] = nil, nil
end

local function push(e)
  e[3], e[4] = nil, newest
  if newest then newest[3] = e else oldest = e end
  newest = e
end

-- The body and ETag of the page cached for this scheme://host and request URI, or nil.
function M.get(base, uri, settings)
  if not current(settings) then return nil end
  local pages = by_base[base]
  local e = pages and pages[uri]
  if e then
    if e ~= newest then
      unlink(e)
      push(e)
    end
    M.stats.hits = M.stats.hits + 1
    return e[1], e[2]
  end
  M.stats.misses = M.stats.misses + 1
  return nil
end

-- Keeps a page (a body and its quoted ETag), dropping the least recently used ones past the budget.
function M.put(base, uri, body, etag, settings)
  if not current(settings) then return end
  local size = #body
  local pages = by_base[base]
  if size > budget or (pages and pages[uri]) then return end
  while bytes + size > budget and oldest do
    local e = oldest
    unlink(e)
    by_base[e[5]][e[6]] = nil
    bytes, count = bytes - #e[1], count - 1
    M.stats.dropped = M.stats.dropped + 1
  end
  if not pages then
    pages = {}
    by_base[base] = pages
  end
  local e = { body, etag, nil, nil, base, uri }
  push(e)
  pages[uri] = e
  bytes, count = bytes + size, count + 1
  M.stats.stored = M.stats.stored + 1
end

-- What the cache holds now (GET /_emulator/pagecache; this worker's cache).
function M.info(settings)
  current(settings)
  return { pages = count, bytes = bytes, budget = budget, hits = M.stats.hits, misses = M.stats.misses,
           stored = M.stats.stored, dropped = M.stats.dropped, flushes = M.stats.flushes }
end

return M
