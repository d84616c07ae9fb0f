--- doctranslate: track Azure AI Translator Document Translation jobs.
--
-- The work is done by the C core (doctranslate.core): request building,
-- paging, retries, parsing and the libcurl driver. This module is the public
-- entry point and stays thin.
--
-- Conventions: programmer errors (bad arguments, unknown options, a closed
-- object) raise an error value of kind "usage"; runtime failures (network,
-- HTTP, parse, protocol) are returned as `nil, err`, except inside a generic
-- `for` loop, where the iterator raises the error value (a `nil, err` would
-- silently end the loop). Error values are tables with the metatable
-- "doctranslate.Error" and the fields kind, status, code, message, target,
-- innerError, retry_after and the request ids.

local core = require "doctranslate.core"

local dt = {
  VERSION = "0.1.0",
  DEFAULT_API_VERSION = "2026-03-01",
  API_VERSIONS = { "2026-03-01", "2024-11-01-preview", "2024-05-01", "v1.1", "v1.0", "v1.0-preview.1" },
  TERMINAL = { Succeeded = true, Failed = true, Cancelled = true, Canceled = true, ValidationFailed = true },
}

--- Creates a client. See README for the options.
function dt.new(opts)
  return core.new(opts)
end

--- ISO-8601 (or HTTP-date) -> UTC epoch seconds with fraction; nil, err if not a date.
dt.parse_date = core.parse_date

--- UTC epoch seconds -> ISO-8601 string, as sent in filters.
dt.format_date = core.format_date

--- True when a job or document status is terminal (an unknown status is not).
function dt.is_terminal(status)
  return dt.TERMINAL[status] == true
end

--- True when v is an error value of this module.
function dt.is_error(v)
  return type(v) == "table" and tostring(getmetatable(v) and getmetatable(v).__name) == "doctranslate.Error"
end

dt.curl_version = core.curl_version

return dt
