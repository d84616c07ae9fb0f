--- Track Azure AI Translator Document Translation jobs.
--
-- The work is done by the C core (`doctranslate.core`): request building, paging, retries,
-- parsing and the libcurl runner. This module is the public entry point and stays thin:
--
--     local dt = require "doctranslate"
--     local c = dt.new{ endpoint = "https://<resource>.cognitiveservices.azure.com", key = key }
--     local job = assert(c:job(job_id))
--     for doc in job:documents{ statuses = { "Failed" } } do print(doc.id, doc.error.code) end
--
-- Where things are:
--
-- * the client, jobs, documents, listings, operations and errors written in C:
--   `doctranslate.core` (`Client`, `Job`, `Document`, `Pages`, `Op`, `Async`, `Error`);
-- * the methods written once in Lua for every transport (`c:job`, `c:start`, `job:refresh`,
--   `job:wait`, `job:failures`, ...): `doctranslate.client`;
-- * waiting without blocking and the failure report: `doctranslate.lifecycle`
--   (`Wait`, `FailureReport`);
-- * Lua transports (OpenResty cosockets, a transport of your own): `doctranslate.driver`,
--   `doctranslate.openresty`;
-- * the document watch (`c:watch`, `c:watch_async`): `doctranslate.watch`;
-- * one document translated now (`c:translate`): `doctranslate.translate`;
-- * the OpenResty client's shared status cache: `doctranslate.cache`;
-- * the `doctranslate` command: `doctranslate.cli`.
--
-- Conventions (docs/errors.md): programmer errors (bad arguments, unknown options, a closed
-- object) raise a string as `luaL_argerror` does, with the caller's position
-- ("app.lua:12: bad argument 'job_id': ..."); runtime failures (network, timeout, HTTP, parse,
-- protocol) are returned as `nil, err`, except inside a generic `for` loop, where the iterator
-- raises the error as a string (kind, status, code, message and request ids, so it prints on
-- every Lua and in nginx's error log) and `listing:error()` gives the error value;
-- `listing:next_page()` never raises for a runtime failure.
-- @module doctranslate

local core = require "doctranslate.core"
local lifecycle = require "doctranslate.lifecycle"

-- c:job, c:start, job:refresh, job:wait, ...: written once in Lua for every transport
require("doctranslate.client").install()

--- The module's constants.
-- @field VERSION the module's version
-- @field DEFAULT_API_VERSION the API version a client uses unless told otherwise
-- @field API_VERSIONS the API versions a client takes, newest first
-- @field TERMINAL the statuses after which a job or document no longer changes, as a set
-- @table dt
local dt = {
  VERSION = "0.1.0",
  -- the core's lists (src/core/dt_consts.h), the ones it checks api_version and statuses against
  DEFAULT_API_VERSION = core.DEFAULT_API_VERSION,
  API_VERSIONS = core.API_VERSIONS,
  TERMINAL = core.TERMINAL,
}

--- Creates a client. Under OpenResty (`ngx` present), or with a `transport` option, the client
-- is `doctranslate.driver`'s, which drives the core from Lua (cosockets under nginx, never a
-- blocking libcurl call); otherwise the core's libcurl client. Both have the same methods. An
-- unknown option is a `usage` error that names it. Every value that goes into a header (`key`,
-- `token`, `region`, `user_agent`, a token from a function or `Client:set_token`) is sent exactly
-- as given or refused with a `usage` error: no control character, no NUL, at most 8000 bytes.
-- @tparam table opts the options:
-- @tparam string opts.endpoint `https://<resource>.cognitiveservices.azure.com`; may end in
-- `/`, `/translator` or `/translator/`
-- @tparam[opt] string opts.key the resource key, sent as `Ocp-Apim-Subscription-Key` (give
-- `key` or `token`)
-- @tparam[opt] string|function opts.token a Microsoft Entra bearer token, or
-- `function() return token, expires_at end`, called when needed, again when it expires or a
-- 401 says so; never logged
-- @tparam[opt] string opts.region sent as `Ocp-Apim-Subscription-Region`
-- @tparam[opt="2026-03-01"] string opts.api_version one of `API_VERSIONS`
-- @tparam[opt=30] number opts.timeout seconds for one request
-- @tparam[opt=10] number opts.connect_timeout seconds to connect
-- @tparam[opt] number opts.deadline default of listings: seconds a whole listing may take
-- @tparam[opt=3] int opts.retries retries of one call (408, 429, 5xx, network errors)
-- @tparam[opt=0.8] number opts.retry_base first backoff, seconds
-- @tparam[opt=60] number opts.retry_max cap of every wait (retries, and the polls of `job:wait`)
-- @tparam[opt] int opts.page_size default page size of listings, 1..100 (service default 50)
-- @tparam[opt=true] boolean opts.prefetch default of listings: the next page travels while the
-- loop works
-- @tparam[opt=1] int opts.concurrency default of listings: up to n (1..16) pages at once
-- @tparam[opt] string opts.ca_file PEM file of the CAs to trust (default: the system's)
-- @tparam[opt=false] boolean opts.insecure skip TLS verification
-- @tparam[opt="doctranslate-lua/0.1"] string opts.user_agent
-- @tparam[opt] string opts.proxy a proxy URL for libcurl
-- @tparam[opt=true] boolean opts.prepare_tls libcurl client over https: OpenSSL's set-up and
-- the CA store are done when the client is made (a few ms then), not inside the first request's
-- step of a game or app frame
-- @tparam[opt] function opts.log `function(level, message)`: one `debug` line per request,
-- `warn` per retry, `info` when a listing cannot use `concurrency`; never a secret
-- @tparam[opt=16 MiB] int opts.max_body cap on one answer's body, bytes
-- @tparam[opt=64 KiB] int opts.max_headers cap on one answer's headers, bytes
-- @tparam[opt=64] int opts.max_depth JSON nesting an answer may have, 1..1000
-- @tparam[opt=1 MiB] int opts.max_string longest string in an answer, 1 KiB..1 GiB
-- @tparam[opt=1e6] int opts.max_pages pages one listing may fetch
-- @tparam[opt] string|table opts.transport `"openresty"`, `"curl"`, or a table with `request`
-- and `sleep` functions (see `doctranslate.driver`)
-- @tparam[opt=60] number opts.keepalive_timeout OpenResty transport: seconds a kept-alive
-- connection may idle
-- @tparam[opt=32] int opts.keepalive_pool_size OpenResty transport: connections kept per worker
-- @tparam[opt=0.002] number opts.pace OpenResty transport: seconds between the requests of
-- a listing's windows
-- @tparam[opt] table opts.cache OpenResty transport: a `lua_shared_dict` in which the workers
-- share job and document status reads (`doctranslate.cache`, docs/openresty-cache.md)
-- @tparam[opt=1] number opts.cache_ttl seconds a cached status read stays fresh (at least the
-- service's Retry-After)
-- @tparam[opt=3600] number opts.cache_terminal_ttl seconds a job or document in a terminal state
-- stays cached
-- @treturn Client
-- @usage local c = dt.new{ endpoint = os.getenv("DT_ENDPOINT"), key = os.getenv("DT_KEY") }
function dt.new(opts)
  if type(opts) == "table" and (opts.transport ~= nil or rawget(_G, "ngx") ~= nil) then
    return require("doctranslate.driver").new(opts)
  end
  return core.new(opts)
end

--- A date as UTC epoch seconds with fraction: ISO-8601 (1..9 fractional digits, `Z`, an offset,
-- or no zone = UTC) or an HTTP date.
-- @function parse_date
-- @string s
-- @treturn number seconds, or nil, err
dt.parse_date = core.parse_date

--- UTC epoch seconds as ISO-8601, as sent in filters.
-- @function format_date
-- @number t
-- @treturn string
dt.format_date = core.format_date

--- A string with its SAS signatures (`sig=...`, the name in any case, after `?`, `&` or at the
-- start, up to `&`, `#`, `"` or white space) replaced by `REDACTED`, as `tostring` and log lines
-- show URLs.
-- @function redact
-- @string s
-- @treturn string
dt.redact = core.redact

--- Whether a job or document status is terminal (an unknown status is not).
-- @string status
-- @treturn boolean
function dt.is_terminal(status)
  return dt.TERMINAL[status] == true
end

--- Whether v is an error value of this module (see `doctranslate.core`'s `Error`).
-- @param v any value
-- @treturn boolean
function dt.is_error(v)
  return type(v) == "table" and tostring(getmetatable(v) and getmetatable(v).__name) == "doctranslate.Error"
end

-- libcurl's version string (`curl_version()`)
dt.curl_version = core.curl_version

--- Seconds to wait before polling a job again: the service's Retry-After, at least `interval`;
-- for event loops that poll by themselves.
-- @function poll_delay
-- @tparam Job job
-- @tparam[opt=1] number interval
-- @treturn number
dt.poll_delay = lifecycle.poll_delay

return dt
