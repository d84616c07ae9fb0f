-- Shared by spec/core: a client on the emulator and readers of its request log.
local dt = require "doctranslate"
local emu = require "support.emulator"

local H = { emu = emu, dt = dt }

H.VERSIONS = { "v1.0-preview.1", "v1.0", "v1.1", "2024-05-01", "2024-11-01-preview", "2026-03-01" }

function H.client(o)
  o = o or {}
  local opts = { endpoint = emu.http, key = emu.key, retry_base = 0.05 }
  for k, v in pairs(o) do opts[k] = v end
  return dt.new(opts)
end

-- emu.create_job may return the id or a table holding it.
function H.job(o)
  local j = emu.create_job(o)
  if type(j) == "table" then return j.id or j.job_id, j end
  return j
end

local function header(r, name)
  local h = r.headers or {}
  local v = h[name]
  if v == nil then
    for k, val in pairs(h) do
      if type(k) == "string" and k:lower() == name then v = val; break end
    end
  end
  if type(v) == "table" then v = v[1] end
  return v
end
H.header = header

function H.connection(r)
  return r.connection or r.connection_id or r.conn
end

-- The logged requests whose path?query contains pattern (plain find).
function H.requests(pattern)
  local out = {}
  for _, r in ipairs(emu.requests()) do
    local target = (r.path or "") .. "?" .. (r.query or "")
    if not pattern or target:find(pattern, 1, true) then out[#out + 1] = r end
  end
  return out
end

-- One line per logged request (for assertion messages): seq, method, path, status, connection,
-- user agent, the faults that fired.
function H.describe_requests(list)
  local lines = {}
  for _, r in ipairs(list) do
    lines[#lines + 1] = string.format("#%s %s %s -> %s conn %s (%s requests) %s %s faults %s", tostring(r.seq),
      tostring(r.method), tostring(r.path), tostring(r.status), tostring(H.connection(r)),
      tostring(r.connection_requests), tostring(r.time), tostring(header(r, "user-agent")),
      table.concat(r.faults or {}, ","))
  end
  return table.concat(lines, "\n")
end

function H.listing(c, job_id, opts)
  local ids, docs = {}, {}
  for doc in c:documents(job_id, opts) do
    ids[#ids + 1] = doc.id
    docs[#docs + 1] = doc
  end
  return ids, docs
end

function H.distinct(list)
  local seen, n = {}, 0
  for _, v in ipairs(list) do
    if not seen[v] then seen[v] = true; n = n + 1 end
  end
  return n
end

return H
