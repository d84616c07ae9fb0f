--- doctranslate: track Azure AI Translator Document Translation jobs.
--
-- The work is done by the C core (doctranslate.core): request building,
-- paging, retries, parsing and the libcurl driver. This module is the public
-- entry point and stays thin.
--
--   local c = dt.new{ endpoint =, key = | token =, region =, api_version = "2026-03-01",
--                     timeout = 30, connect_timeout = 10, retries = 3, ca_file =, insecure = false,
--                     user_agent =, proxy =, log = function(level, message) end,
--                     page_size =, retry_base = 0.8, retry_max = 60, max_body = 16 MiB,
--                     max_headers = 64 KiB, max_pages = 1e6, prefetch = true, concurrency = 1,
--                     prepare_tls = true }
--     prepare_tls: an https client sets TLS up when it is made (OpenSSL's one-time set-up, the
--     CA store read and kept), a few ms then instead of inside the first request's step.
--   c:job(id) / job:refresh() / c:document(job_id, doc_id) / job:document(doc_id)
--   for doc in c:documents(job_id, { statuses =, ids =, created_after =, created_before =,
--                                    order_by =, top =, skip =, page_size =, continuation =,
--                                    prefetch = true, concurrency = 1 }) do end
--     prefetch: page N+1 travels while the caller works through page N (one page ahead;
--     the same requests, connection, checks, errors and continuation).
--     concurrency = n (1..16): up to n pages fetched at once over a few kept-alive
--     connections, documents still in exact order; only for a job that has ended, with a
--     known total and no filters (one job lookup first); otherwise sequential, said
--     through log("info", "concurrency n: ...; the listing runs sequentially").
--   pages:next_page() / pages:continuation() / pages:close()
--   obj.field (JSON names, nested tables, unknown fields too), obj:time(field), obj:response()
--   c:stats() -> { requests =, connections =, transfers = } of the libcurl driver (all its
--     transfers share one multi handle, so one pool of kept-alive connections)
--
-- Game and app loops (src/lua_async.c): operations that never block.
--   local op = c:documents_async(job_id, { <listing options>, on_documents = fn(op, docs),
--                                          on_done = fn(op, err) })
--   c:job_async(job_id, { on_done = }) / c:document_async(job_id, doc_id, { on_done = })
--   op:step() -> done        once per frame: bounded work (at most a slice of one page's
--                            parse), no sleep, no wait; a retry's Retry-After is a deadline
--   op:take([t]) -> docs, n  the documents ready since the last take (t reused: no garbage)
--   op.done, op.error, op.result (job/document ops), op.documents, op.pages, op.ready,
--   op.waiting (a retry wait runs), op.cancelled
--   op:cancel()              stops at once, frees its transfers; op:continuation() after it
--   op:fds() -> { {fd =, read =, write =}, ... }, timeout_ms   for a host's poller (luv, an
--                            engine): wait on those, at most timeout_ms (-1 none, 0 now), step
--   Callbacks run inside step() only, never inside libcurl.
--
-- The job lifecycle (doctranslate.lifecycle, src/lua_lifecycle.c):
--   c:start{ inputs = {{ source = { sourceUrl =, filter = { prefix =, suffix = }, language =,
--            storageSource = }, targets = {{ targetUrl =, language =, category =, glossaries =
--            {{ glossaryUrl =, format =, version =, storageSource = }}, storageSource = }},
--            storageType = "Folder" | "File" }}, options = { experimental = } } -> job | nil, err
--   c:jobs{ statuses =, ids =, created_after =, created_before =, order_by =, top =, skip =,
--           page_size =, continuation = }   -- the job list: Pages of Job userdata
--   job:cancel() -> job (Cancelling or Cancelled) | nil, err;  c:cancel(job_id)
--   job:wait{ timeout =, interval = 1, on_progress = function(job) end, sleep =, now = }
--     -> job in a terminal state | nil, err (kind "timeout", or the failed poll's error)
--   job:wait_async{ timeout =, interval =, on_progress = } -> w; w:step() each frame (true once
--     ended: w.job / w.error), w:next_poll_in(), w:cancel()   -- libcurl client, never blocks
--   job:failures() -> report (tostring / report:table(), report:json(), .groups, .documents)
--   for doc in c:watch(job_id, { interval = 1, timeout =, on_job =, continuation = }) do end
--     each document once, when it has ended (doctranslate.watch, docs/watch.md); w:continuation();
--     c:watch_async(job_id, { on_documents =, on_done = }): step / take / fds / cancel
--   dt.new{ cache = ngx.shared.NAME, cache_ttl = 1, cache_terminal_ttl = 3600 }   -- OpenResty: a
--     status cache shared by the workers (doctranslate.cache, docs/openresty-cache.md)
--   c:formats("document" | "glossary") -> { { format =, fileExtensions =, contentTypes =, ... } }
--   dt.new{ token = "..." | function() return token, expires_at end }   -- Azure AD bearer
--   Lua transports: c:start_op(req), c:cancel_op(job_id), c:formats_op(type), c:jobs(opts)
--   (next_request/feed like the others), c:start_body(req) (the JSON a start sends),
--   c:token_due() / c:set_token(token, expires_at) for drivers that fetch tokens themselves.
--
-- Lua transports (OpenResty cosockets, an event loop) drive the same C state
-- machine: pages:next_request() / c:job_op(id) / c:document_op(job_id, doc_id)
-- give { method =, url =, headers =, body = } (it carries the key in its
-- headers: a secret-bearing value whose tostring hides them), { wait = s } or
-- nil; the transport answers with :feed{ status =, headers =, body = } or
-- :feed_error("network" | "timeout" | "protocol", message); op:result() gives
-- the job or document.
--
-- Conventions (docs/errors.md): programmer errors (bad arguments, unknown
-- options, a closed object) raise a string as luaL_argerror does, with the
-- caller's position ("app.lua:12: bad argument 'job_id': ..."); runtime
-- failures (network, timeout, HTTP, parse, protocol) are returned as
-- `nil, err`, except inside a generic `for` loop, where the iterator raises
-- the error as a string (its kind, status, code, message and request ids: it
-- prints on every Lua and in nginx's error log) and listing:error() gives the
-- error value; listing:next_page() never raises for a runtime failure. Error
-- values are tables with the metatable "doctranslate.Error" and the fields
-- kind, status, code, message, target, innerError (also as innererror),
-- retry_after and the request ids "apim-request-id", "x-requestid",
-- "x-ms-client-request-id".
local core = require "doctranslate.core"
local lifecycle = require "doctranslate.lifecycle"

-- c:job, c:start, job:refresh, job:wait, ...: written once in Lua for every transport
require("doctranslate.client").install()

local dt = {
  VERSION = "0.1.0",
  -- the core's lists (src/core/dt_consts.h), the ones it checks api_version and statuses against
  DEFAULT_API_VERSION = core.DEFAULT_API_VERSION,
  API_VERSIONS = core.API_VERSIONS,
  TERMINAL = core.TERMINAL,
}

--- Creates a client. See README for the options. A `transport` option, or
-- `ngx` being present (OpenResty), hands over to doctranslate.driver, which
-- drives the core from Lua (cosockets under nginx, never blocking libcurl).
function dt.new(opts)
  if type(opts) == "table" and (opts.transport ~= nil or rawget(_G, "ngx") ~= nil) then
    return require("doctranslate.driver").new(opts)
  end
  return core.new(opts)
end

--- ISO-8601 (or HTTP-date) -> UTC epoch seconds with fraction; nil, err if not a date.
dt.parse_date = core.parse_date

--- UTC epoch seconds -> ISO-8601 string, as sent in filters.
dt.format_date = core.format_date

--- A string with its SAS signatures (sig=...) replaced by REDACTED, as tostring and logs show URLs.
dt.redact = core.redact

--- True when a job or document status is terminal (an unknown status is not).
function dt.is_terminal(status)
  return dt.TERMINAL[status] == true
end

--- True when v is an error value of this module.
function dt.is_error(v)
  return type(v) == "table" and tostring(getmetatable(v) and getmetatable(v).__name) == "doctranslate.Error"
end

dt.curl_version = core.curl_version

--- Seconds to wait before polling job again (Retry-After, at least interval): for event loops.
dt.poll_delay = lifecycle.poll_delay

return dt
