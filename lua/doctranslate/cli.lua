--- The `doctranslate` command: check on Document Translation jobs from a shell.
--
-- `bin/doctranslate` only finds this module and calls `cli.main`; everything
-- else is here so specs can drive it in-process with their own streams,
-- environment, clock and terminal setting:
--
--     local cli = require "doctranslate.cli"
--     local code = cli.main({ "status", job_id }, { stdout = f, stderr = g, getenv = os.getenv })
--
-- Exit codes: 0 ok, 1 the job or a document failed, 2 usage, 3 service or
-- network error. The key is never written anywhere: not in output, not in
-- errors (the core scrubs it from every message it makes), not in `--verbose`
-- log lines (the core never hands a secret to its log function).
-- @module doctranslate.cli
local dt = require "doctranslate"
local dkjson = require "dkjson"

local cli = {}

cli.EXIT_OK, cli.EXIT_FAILED, cli.EXIT_USAGE, cli.EXIT_SERVICE = 0, 1, 2, 3

-- Environment variables read for each setting, first found wins.
cli.ENV = {
  endpoint = { "DOCTRANSLATE_ENDPOINT", "AZURE_DOCUMENT_TRANSLATION_ENDPOINT", "AZURE_TRANSLATOR_ENDPOINT" },
  key = { "DOCTRANSLATE_KEY", "AZURE_DOCUMENT_TRANSLATION_KEY", "AZURE_TRANSLATOR_KEY" },
  token = { "DOCTRANSLATE_TOKEN" },
  region = { "DOCTRANSLATE_REGION", "AZURE_DOCUMENT_TRANSLATION_REGION", "AZURE_TRANSLATOR_REGION" },
  api_version = { "DOCTRANSLATE_API_VERSION" },
  ca_file = { "DOCTRANSLATE_CA_FILE" },
}

-- Every option, with whether it takes a value. One table for all commands,
-- so options may come before or after the command name.
local VALUE = {
  endpoint = true, key = true, ["key-file"] = true, region = true, ["api-version"] = true, ["ca-file"] = true,
  timeout = true, retries = true,
  status = true, id = true, order = true, ["order-by"] = true, top = true, skip = true,
  ["page-size"] = true, ["created-after"] = true, ["created-before"] = true, continuation = true,
  source = true, target = true, ["source-language"] = true, prefix = true, suffix = true,
  ["storage-type"] = true, interval = true, ["max-wait"] = true, type = true, concurrency = true,
}
local FLAG = { insecure = true, verbose = true, tty = true, ["no-tty"] = true, json = true,
               help = true, version = true }
local REPEATABLE = { status = true, id = true, target = true }

local GLOBAL = { "endpoint", "key", "key-file", "region", "api-version", "ca-file", "insecure", "timeout", "retries",
                 "verbose", "tty", "no-tty", "help", "version" }

local GLOBAL_HELP = [[
Connection (flags, or the environment; flags win):
  --endpoint URL       DOCTRANSLATE_ENDPOINT, AZURE_DOCUMENT_TRANSLATION_ENDPOINT, AZURE_TRANSLATOR_ENDPOINT
  --key KEY            DOCTRANSLATE_KEY, AZURE_DOCUMENT_TRANSLATION_KEY, AZURE_TRANSLATOR_KEY
                       WARNING: --key KEY is visible to other users of this machine (ps, /proc);
                       prefer the environment, --key-file or --key - (never printed)
  --key-file FILE      read the key from FILE (its first line)
  --key -              read the key from standard input (its first line)
                       DOCTRANSLATE_TOKEN: a Microsoft Entra bearer token instead of a key
  --region REGION      DOCTRANSLATE_REGION, AZURE_DOCUMENT_TRANSLATION_REGION, AZURE_TRANSLATOR_REGION
  --api-version V      DOCTRANSLATE_API_VERSION (default ${api_default}; also
                       ${api_others})
  --ca-file PATH       DOCTRANSLATE_CA_FILE: trust this CA (the emulator's build/emulator/ca.pem)
  --insecure           do not verify TLS certificates
  --timeout S          seconds per request (default ${timeout})      --retries N   (default ${retries})
  --verbose            one log line per request on stderr
  --tty / --no-tty     force terminal or plain output (default: terminal when stdout is one)
  --help               help for the command                  --version

Exit codes: 0 ok, 1 the job or a document failed, 2 usage, 3 service or network error.
]]

-- The versions and the defaults the help names are the core's own.
do
  local defaults = require("doctranslate.core").DEFAULTS
  local others = {}
  for i = 2, #dt.API_VERSIONS do others[#others + 1] = dt.API_VERSIONS[i] end
  GLOBAL_HELP = GLOBAL_HELP:gsub("%${([%w_]+)}", {
    api_default = dt.DEFAULT_API_VERSION, api_others = table.concat(others, ", "),
    timeout = ("%g"):format(defaults.timeout), retries = ("%d"):format(defaults.retries),
  })
end

local HELP = {}

HELP[""] = [[
usage: doctranslate COMMAND [ARGS] [OPTIONS]

Check on Azure AI Translator Document Translation jobs.

Commands:
  status JOB          the job's status and summary
  doc JOB DOC         one document's status
  docs JOB            the job's documents, streamed page by page (table, or --json lines)
  jobs                the resource's jobs, newest first
  start               start a job: --source URL --target URL:lang ...
  cancel JOB          cancel a job
  formats             the document (or --type glossary) formats the service accepts
  failures JOB        every failed document, grouped by error code
  watch JOB           a live progress bar until the job ends, then the failure report

`doctranslate COMMAND --help` tells more about each.

]]

HELP.status = [[
usage: doctranslate status JOB [--json]

The job's status, dates and summary counts (and its error, if it has one).
  --json   the job as one JSON object

Exit: 0, or 1 when the job failed (Failed, ValidationFailed) or a document failed.

]]

HELP.doc = [[
usage: doctranslate doc JOB DOC [--json]

One document's status: target language, progress, paths, characters charged, error.
  --json   the document as one JSON object

Exit: 0, or 1 when the document failed.

]]

HELP.docs = [[
usage: doctranslate docs JOB [OPTIONS]

The job's documents, printed as each page arrives: a table, or one JSON object a line.
  --status S           only documents in status S (repeat, or a comma list): NotStarted, Running,
                       Succeeded, Failed, Cancelled, Cancelling, ValidationFailed
  --id ID              only these document ids (repeat, or a comma list)
  --order asc|desc     by creation date (service default: desc)
  --order-by FIELD     createdDateTimeUtc or lastActionDateTimeUtc, optionally followed by asc or desc
  --created-after T    --created-before T   ISO-8601 date-times
  --top N  --skip N    at most N documents / skip the first N
  --page-size N        documents per request, 1..100 (service default 50)
  --continuation TOK   resume a listing where a token (printed when a listing fails) points
  --concurrency N      fetch up to N pages at once (1..16; an ended job listed without filters)
  --json               JSON lines

Exit: 0 when the listing completed (whatever the documents' statuses).

]]

HELP.jobs = [[
usage: doctranslate jobs [OPTIONS]

The resource's translation jobs, printed as each page arrives.
  --status S  --id ID  --order asc|desc  --order-by FIELD  --created-after T  --created-before T
  --top N  --skip N  --page-size N  --json      (as for `docs`)

Exit: 0 when the listing completed.

]]

HELP.start = [[
usage: doctranslate start --source URL --target URL:LANG [--target URL:LANG ...] [OPTIONS]

Starts a translation job and prints its id (on stdout, alone, so `J=$(doctranslate start ...)` works).
  --source URL           the source container (or file, with --storage-type File), a SAS URL
  --target URL:LANG      a target container and language; repeat for more (at most 10)
  --source-language L    the source language (the service detects it otherwise)
  --prefix P  --suffix S only the source documents whose names match
  --storage-type T       Folder (default) or File
  --json                 the job as one JSON object instead of its id

Exit: 0 when the service accepted the job.

]]

HELP.cancel = [[
usage: doctranslate cancel JOB [--json]

Cancels a job: documents not yet translated are not translated. Prints the job's status afterwards
(Cancelling, then Cancelled). A job that has already ended cannot be cancelled (the service's error).

Exit: 0 when the service accepted the cancel.

]]

HELP.formats = [[
usage: doctranslate formats [--type document|glossary] [--json]

The file formats the service translates (or accepts as glossaries): format, extensions, content
types, versions.

]]

HELP.failures = [[
usage: doctranslate failures JOB [--json]

Every failed document of the job with its source path, target language, error code, message and
inner error codes, grouped by error code with counts.
  --json   the report as one JSON object

Exit: 0 when no document failed, 1 when some did (or the job failed).

]]

HELP.watch = [[
usage: doctranslate watch JOB [--interval S] [--max-wait S]

Follows the job until it ends: on a terminal a progress bar redrawn in place (documents done of
total, succeeded / failed / in progress counts, rate, ETA); otherwise one plain line each time the
counts change. Then the failure report. Polls no faster than the service's Retry-After.
  --interval S   seconds between status reads, at least (default: the service's Retry-After, 1)
  --max-wait S   give up after S seconds (exit 3)

Exit: 0 when the job ended with no failure, 1 when the job or a document failed, 3 on a service
or network error or when --max-wait passed.

]]

local COMMAND_OPTIONS = {
  [""] = {},
  status = { "json" },
  doc = { "json" },
  docs = { "status", "id", "order", "order-by", "created-after", "created-before", "top", "skip",
           "page-size", "continuation", "concurrency", "json" },
  jobs = { "status", "id", "order", "order-by", "created-after", "created-before", "top", "skip",
           "page-size", "continuation", "json" },
  start = { "source", "target", "source-language", "prefix", "suffix", "storage-type", "json" },
  cancel = { "json" },
  formats = { "type", "json" },
  failures = { "json" },
  watch = { "interval", "max-wait" },
}

local POSITIONAL = {
  [""] = {}, status = { "JOB" }, doc = { "JOB", "DOC" }, docs = { "JOB" }, jobs = {}, start = {},
  cancel = { "JOB" }, formats = {}, failures = { "JOB" }, watch = { "JOB" },
}

-- The service's field order for jobs and documents, so JSON lines read like its answers.
local ERROR_ORDER = { "code", "message", "target", "innerError" }
local ORDERS = {
  job = {
    [""] = { "id", "createdDateTimeUtc", "lastActionDateTimeUtc", "status", "error", "summary" },
    summary = { "total", "failed", "success", "inProgress", "notYetStarted", "cancelled",
                "totalCharacterCharged" },
    error = ERROR_ORDER, innerError = ERROR_ORDER,
  },
  document = {
    [""] = { "id", "path", "sourcePath", "createdDateTimeUtc", "lastActionDateTimeUtc", "status", "to",
             "error", "progress", "characterCharged" },
    error = ERROR_ORDER, innerError = ERROR_ORDER,
  },
  format = {
    [""] = { "format", "fileExtensions", "contentTypes", "defaultVersion", "versions", "type" },
  },
}

-- --json output is written by dkjson: it takes a key order for each object (__jsonorder) and
-- leaves `/` alone. lua-cjson orders keys at random and writes every `/` as `\/`, which makes
-- the URLs of jobs and documents hard to read.
local json = {}

-- A number as dkjson would write it, unless its 14 digits (tostring) lose something: then all
-- 17, so a large count on Lua 5.1 or a fraction reads back as the same number. force: always
-- (dkjson takes an object whose only key is a numeric `n` for an array).
local function exact(n, force)
  if n ~= n or n == math.huge or n == -math.huge then return n end
  if not force and tonumber(tostring(n)) == n then return n end
  local text = (math.type and math.type(n) == "integer") and ("%d"):format(n) or ("%.17g"):format(n)
  return setmetatable({}, { __tojson = function() return text end })
end

local function is_array(t)
  local n = #t
  if n == 0 then return false end
  for k in pairs(t) do
    if type(k) ~= "number" or k < 1 or k > n or k % 1 ~= 0 then return false end
  end
  return true
end

-- A copy of v that dkjson writes with the service's field order: arrays as arrays (an empty
-- table as an object), objects with the keys of orders[key] first, in that order, then the
-- others sorted.
local function for_json(v, orders, key)
  local t = type(v)
  if t == "number" then return exact(v, key == "n") end
  if t ~= "table" then return v end
  local out = {}
  if is_array(v) then
    for i = 1, #v do out[i] = for_json(v[i], orders, key) end
    return setmetatable(out, { __jsontype = "array" })
  end
  local keys, listed, rest = {}, {}, {}
  for _, k in ipairs(orders and orders[key] or {}) do
    if v[k] ~= nil then
      keys[#keys + 1] = k
      listed[k] = true
    end
  end
  for k, x in pairs(v) do
    k = tostring(k)
    if not listed[k] then rest[#rest + 1] = k end
    out[k] = for_json(x, orders, k)
  end
  table.sort(rest)
  for _, k in ipairs(rest) do keys[#keys + 1] = k end
  return setmetatable(out, { __jsontype = "object", __jsonorder = keys })
end

--- One line of JSON. orders maps a key (e.g. "summary"), or "" for the root, to the keys
-- written first, in that order.
function json.encode(v, orders)
  return dkjson.encode(for_json(v, orders, ""))
end

local usage_mt = {}
local function usage(fmt, ...)
  error(setmetatable({ message = fmt:format(...) }, usage_mt), 0)
end

-- A service/network/usage error value of the library, or one of ours.
local function is_usage(e)
  return getmetatable(e) == usage_mt or (dt.is_error(e) and e.kind == "usage")
end

--- Parses argv into the command, its positional arguments and its options.
-- @tparam table argv the arguments after the program name
-- @treturn table { command =, args = {...}, opts = { name = value or list } }
function cli.parse(argv)
  local p = { command = nil, args = {}, opts = {} }
  local i = 1
  local only_args = false
  while i <= #argv do
    local a = argv[i]
    if only_args or a == "-" or a:sub(1, 1) ~= "-" then
      if p.command == nil then p.command = a else p.args[#p.args + 1] = a end
    elseif a == "--" then
      only_args = true
    else
      local name, value = a:match("^%-%-([^=]+)=(.*)$")
      if not name then name = a:match("^%-%-(.+)$") end
      if a == "-h" then name = "help" end
      if not name then usage("unknown option '%s'", a:sub(1, 2)) end
      if VALUE[name] then
        if value == nil then
          i = i + 1
          value = argv[i]
          if value == nil then usage("option --%s needs a value", name) end
        end
        if REPEATABLE[name] then
          local list = p.opts[name] or {}
          p.opts[name] = list
          list[#list + 1] = value
        else
          p.opts[name] = value
        end
      elseif FLAG[name] then
        if value ~= nil then usage("option --%s takes no value", name) end
        p.opts[name] = true
      else
        usage("unknown option --%s", name)
      end
    end
    i = i + 1
  end
  return p
end

local function getenv_first(getenv, names)
  for _, n in ipairs(names) do
    local v = getenv(n)
    if v ~= nil and v ~= "" then return v end
  end
  return nil
end

local function number_opt(opts, name, lo, hi, integer)
  local s = opts[name]
  if s == nil then return nil end
  local v = tonumber(s)
  if v == nil or v ~= v or v < lo or v > hi or (integer and v % 1 ~= 0) then
    usage("option --%s: %s in %s..%s expected", name, integer and "an integer" or "a number", lo, hi)
  end
  if integer and math.tointeger then v = math.tointeger(v) end
  return v
end

-- The first line of a file or stream, without its line end; nil, why when there is none.
local function first_line(fh)
  local line = fh:read("*l")
  if line == nil then return nil end
  line = line:gsub("\r$", "")
  if line == "" then return nil end
  return line
end

-- The key of --key-file FILE or --key - (standard input), else of --key or the environment.
local function key_of(opts, getenv, stdin)
  if opts["key-file"] and opts.key then usage("give --key or --key-file, not both") end
  if opts["key-file"] then
    local fh = io.open(opts["key-file"], "r")
    if fh == nil then usage("option --key-file: cannot read %s", opts["key-file"]) end
    local key = first_line(fh)
    fh:close()
    if key == nil then usage("option --key-file: %s holds no key on its first line", opts["key-file"]) end
    return key
  end
  if opts.key == "-" then
    local key = first_line(stdin or io.stdin)
    if key == nil then usage("option --key -: no key on the first line of standard input") end
    return key
  end
  return opts.key or getenv_first(getenv, cli.ENV.key)
end

--- The client options from flags and the environment (the key never leaves this table).
-- stdin: where `--key -` reads the key (io.stdin).
function cli.client_options(opts, getenv, stdin)
  local o = {
    endpoint = opts.endpoint or getenv_first(getenv, cli.ENV.endpoint),
    region = opts.region or getenv_first(getenv, cli.ENV.region),
    api_version = opts["api-version"] or getenv_first(getenv, cli.ENV.api_version),
    ca_file = opts["ca-file"] or getenv_first(getenv, cli.ENV.ca_file),
    timeout = number_opt(opts, "timeout", 0.001, 86400),
    retries = number_opt(opts, "retries", 0, 100, true),
    insecure = opts.insecure or nil,
  }
  local key = key_of(opts, getenv, stdin)
  local token = getenv_first(getenv, cli.ENV.token)
  if key then o.key = key elseif token then o.token = token end
  if not o.endpoint then
    usage("no endpoint: give --endpoint or set DOCTRANSLATE_ENDPOINT")
  end
  if not o.key and not o.token then
    usage("no key: set DOCTRANSLATE_KEY (or DOCTRANSLATE_TOKEN, --key-file FILE, --key -)")
  end
  return o
end

-- Lists from repeated options and comma lists alike.
local function list_opt(values)
  if values == nil then return nil end
  local out = {}
  for _, v in ipairs(values) do
    for item in v:gmatch("[^,]+") do
      item = item:match("^%s*(.-)%s*$")
      if item ~= "" then out[#out + 1] = item end
    end
  end
  if #out == 0 then return nil end
  return out
end

local function listing_options(opts)
  if opts.continuation then
    for _, n in ipairs({ "status", "id", "order", "order-by", "created-after", "created-before", "top",
                         "skip", "page-size" }) do
      if opts[n] ~= nil then usage("option --continuation: the token carries the listing's options; "
        .. "--%s cannot be added", n) end
    end
    return { continuation = opts.continuation, concurrency = number_opt(opts, "concurrency", 1, 16, true) }
  end
  local o = {
    statuses = list_opt(opts.status),
    ids = list_opt(opts.id),
    created_after = opts["created-after"],
    created_before = opts["created-before"],
    top = number_opt(opts, "top", 0, 2^53, true),
    skip = number_opt(opts, "skip", 0, 2^53, true),
    page_size = number_opt(opts, "page-size", 1, 100, true),
    concurrency = number_opt(opts, "concurrency", 1, 16, true),
  }
  local field, dir = opts["order-by"], opts.order
  if dir ~= nil and dir ~= "asc" and dir ~= "desc" then usage("option --order: asc or desc expected") end
  if field or dir then
    if field and field:find(" ") then
      if dir then usage("option --order: --order-by already names a direction") end
      o.order_by = field
    else
      o.order_by = (field or "createdDateTimeUtc") .. (dir and (" " .. dir) or "")
    end
  end
  for _, n in ipairs({ "created_after", "created_before" }) do
    if o[n] and not dt.parse_date(o[n]) then
      usage("option --%s: an ISO-8601 date-time expected (2024-10-11T01:26:30Z)", n:gsub("_", "-"))
    end
  end
  return o
end

-- Wall clock and sleep: LuaSocket when present (sub-second), else whole seconds.
local function default_clock()
  local ok, socket = pcall(require, "socket")
  if ok and socket.gettime then
    return socket.gettime, socket.sleep
  end
  return os.time, function(s)
    if s > 0 then os.execute(("sleep %.3f"):format(s)) end
  end
end

-- Terminal detection: `test -t 1` runs with the same stdout as this process
-- (os.execute inherits it; io.popen would not), and TERM=dumb opts out.
function cli.stdout_is_terminal(getenv)
  getenv = getenv or os.getenv
  local term = getenv("TERM")
  if term == nil or term == "" or term == "dumb" then return false end
  local ok, how, code = os.execute("test -t 1")
  if type(ok) == "number" then return ok == 0 end -- Lua 5.1
  return ok == true and how == "exit" and code == 0
end

-- The terminal's width from `stty size` (stdin or /dev/tty), nil when unknown.
function cli.terminal_columns()
  local p = io.popen("{ stty size </dev/tty; } 2>/dev/null")
  if not p then return nil end
  local out = p:read("*a") or ""
  p:close()
  local cols = tonumber(out:match("^%s*%d+%s+(%d+)"))
  if cols and cols >= 20 then return cols end
  return nil
end

-- output ------------------------------------------------------------------

-- "code/inner/inner..." of an error table, and its deepest (most specific) message.
local function code_path(err)
  if type(err) ~= "table" then return "(no error)" end
  local parts, e, depth = {}, err, 0
  while type(e) == "table" and depth < 16 do
    parts[#parts + 1] = tostring(e.code or "?")
    e = e.innerError or e.innererror
    depth = depth + 1
  end
  return table.concat(parts, "/")
end

local function deepest_message(err)
  local msg, e, depth = nil, err, 0
  while type(e) == "table" and depth < 16 do
    if e.message then msg = e.message end
    e = e.innerError or e.innererror
    depth = depth + 1
  end
  return msg or ""
end

local function clip(s, n)
  s = tostring(s == nil and "" or s)
  if n and n > 1 and #s > n then return s:sub(1, n - 1) .. "~" end
  return s
end

local function job_value(job)
  return { id = job.id, createdDateTimeUtc = job.createdDateTimeUtc,
           lastActionDateTimeUtc = job.lastActionDateTimeUtc, status = job.status, error = job.error,
           summary = job.summary }
end

local function doc_value(d)
  local v = {}
  for _, k in ipairs(ORDERS.document[""]) do v[k] = d[k] end
  return v
end

local function job_failed(job)
  local s = job.summary
  return job.status == "Failed" or job.status == "ValidationFailed" or (s and (s.failed or 0) > 0) or false
end

local function error_lines(err)
  local lines = {}
  if type(err) ~= "table" then
    return { "doctranslate: " .. tostring(err) }
  end
  local head = { err.kind or "error" }
  if err.status then head[#head + 1] = tostring(err.status) end
  if err.code then head[#head + 1] = tostring(err.code) end
  lines[1] = "doctranslate: " .. table.concat(head, " ") .. ": " .. tostring(err.message or "")
  if err.target then lines[#lines + 1] = "  target: " .. tostring(err.target) end
  local inner, depth = err.innerError or err.innererror, 0
  while type(inner) == "table" and depth < 16 do
    lines[#lines + 1] = ("  inner error: %s: %s"):format(tostring(inner.code or "?"), tostring(inner.message or ""))
    inner = inner.innerError or inner.innererror
    depth = depth + 1
  end
  for _, n in ipairs({ "apim-request-id", "x-requestid", "x-ms-client-request-id" }) do
    if err[n] then lines[#lines + 1] = ("  %s: %s"):format(n, tostring(err[n])) end
  end
  if err.retry_after then lines[#lines + 1] = ("  retry after: %s s"):format(tostring(err.retry_after)) end
  return lines
end

-- Raised by commands for a returned library error: printed, exit 3.
local service_mt = {}
local function fail(err)
  error(setmetatable({ err = err }, service_mt), 0)
end

local function check(v, err)
  if v == nil and err ~= nil then fail(err) end
  return v
end

local function fmt_duration(s)
  if s == nil or s ~= s or s == math.huge then return "?" end
  s = math.floor(s + 0.5)
  if s < 60 then return ("%ds"):format(s) end
  if s < 3600 then return ("%dm%02ds"):format(math.floor(s / 60), s % 60) end
  return ("%dh%02dm"):format(math.floor(s / 3600), math.floor((s % 3600) / 60))
end
cli.fmt_duration = fmt_duration

-- commands ------------------------------------------------------------------

local commands = {}

function commands.status(ctx, c, args)
  local job = check(c:job(args[1]))
  if ctx.opts.json then
    ctx.out(json.encode(job_value(job), ORDERS.job) .. "\n")
  else
    local s = job.summary or {}
    ctx.out(("job        %s\n"):format(job.id))
    ctx.out(("status     %s\n"):format(job.status))
    ctx.out(("created    %s\n"):format(job.createdDateTimeUtc or ""))
    ctx.out(("last       %s\n"):format(job.lastActionDateTimeUtc or ""))
    ctx.out(("documents  %d total: %d succeeded, %d failed, %d in progress, %d not started, %d cancelled\n")
      :format(s.total or 0, s.success or 0, s.failed or 0, s.inProgress or 0, s.notYetStarted or 0,
              s.cancelled or 0))
    ctx.out(("characters %d charged\n"):format(s.totalCharacterCharged or 0))
    if job.error then
      ctx.out(("error      %s: %s\n"):format(code_path(job.error), deepest_message(job.error)))
    end
  end
  return job_failed(job) and cli.EXIT_FAILED or cli.EXIT_OK
end

function commands.doc(ctx, c, args)
  local d = check(c:document(args[1], args[2]))
  if ctx.opts.json then
    ctx.out(json.encode(doc_value(d), ORDERS.document) .. "\n")
  else
    for _, k in ipairs({ "id", "status", "to", "progress", "characterCharged", "sourcePath", "path",
                         "createdDateTimeUtc", "lastActionDateTimeUtc" }) do
      local v = d[k]
      if k == "progress" and type(v) == "number" then v = ("%d%%"):format(math.floor(v * 100 + 0.5)) end
      -- SAS signatures hidden, as tostring hides them; --json keeps the real values
      if v ~= nil then ctx.out(("%-22s %s\n"):format(k, dt.redact(tostring(v)))) end
    end
    if d.error then
      ctx.out(("%-22s %s: %s\n"):format("error", code_path(d.error), deepest_message(d.error)))
    end
  end
  return d.status == "Failed" and cli.EXIT_FAILED or cli.EXIT_OK
end

-- Streams a lazy listing page by page; `row` turns one item into a table line.
local function stream(ctx, pages, header, row, to_value, orders)
  local n = 0
  if not ctx.opts.json then ctx.out(header .. "\n") end
  local ok, err = pcall(function()
    while true do
      local page, perr = pages:next_page()
      if not page then
        if perr then fail(perr) end
        break
      end
      local buf = {}
      for i, item in ipairs(page) do
        if ctx.opts.json then
          buf[i] = json.encode(to_value(item), orders)
        else
          buf[i] = row(item)
        end
      end
      n = n + #page
      if #buf > 0 then ctx.out(table.concat(buf, "\n") .. "\n") end
      ctx.flush()
    end
  end)
  if not ok then
    local token = pages:continuation()
    pages:close()
    if token and getmetatable(err) == service_mt then
      ctx.err(("doctranslate: resume this listing with --continuation %s\n"):format(token))
    end
    error(err, 0)
  end
  pages:close()
  if not ctx.opts.json then ctx.out(("(%d)\n"):format(n)) end
  return n
end

function commands.docs(ctx, c, args)
  local pages = c:documents(args[1], listing_options(ctx.opts))
  local width = ctx.tty and ctx.columns or nil
  stream(ctx, pages,
    ("%-36s  %-10s  %-6s  %4s  %9s  %s"):format("document", "status", "to", "done", "chars", "source / error"),
    function(d)
      local last
      if d.error then
        last = code_path(d.error) .. ": " .. deepest_message(d.error)
      else
        last = dt.redact(d.sourcePath or "") -- sig= hidden; --json keeps it
      end
      local p = type(d.progress) == "number" and ("%3d%%"):format(math.floor(d.progress * 100 + 0.5)) or ""
      return ("%-36s  %-10s  %-6s  %4s  %9s  %s"):format(d.id, clip(d.status, 10), clip(d.to, 6), p,
        tostring(d.characterCharged or ""), clip(last, width and width - 76))
    end, doc_value, ORDERS.document)
  return cli.EXIT_OK
end

function commands.jobs(ctx, c)
  local pages = c:jobs(listing_options(ctx.opts))
  stream(ctx, pages,
    ("%-36s  %-16s  %-28s  %7s  %7s  %6s  %7s  %7s"):format("job", "status", "created", "total", "success",
      "failed", "running", "waiting"),
    function(j)
      local s = j.summary or {}
      return ("%-36s  %-16s  %-28s  %7d  %7d  %6d  %7d  %7d"):format(j.id, clip(j.status, 16),
        clip(j.createdDateTimeUtc, 28), s.total or 0, s.success or 0, s.failed or 0, s.inProgress or 0,
        s.notYetStarted or 0)
    end, job_value, ORDERS.job)
  return cli.EXIT_OK
end

function commands.start(ctx, c)
  local o = ctx.opts
  if not o.source then usage("start: --source URL is required") end
  if not o.target then usage("start: at least one --target URL:LANG is required") end
  local targets = {}
  for _, t in ipairs(o.target) do
    local url, lang = t:match("^(.+):([%a][%w%-]*)$")
    if not url or not url:match("^%a[%w+.-]*://") then
      usage("start: --target expects URL:LANG (https://account.blob.core.windows.net/out?sas:fr)")
    end
    targets[#targets + 1] = { targetUrl = url, language = lang }
  end
  local source = { sourceUrl = o.source, language = o["source-language"] }
  if o.prefix or o.suffix then source.filter = { prefix = o.prefix, suffix = o.suffix } end
  local input = { source = source, targets = targets, storageType = o["storage-type"] }
  local job = check(c:start{ inputs = { input } })
  if o.json then
    ctx.out(json.encode(job_value(job), ORDERS.job) .. "\n")
  else
    ctx.out(job.id .. "\n")
  end
  return cli.EXIT_OK
end

function commands.cancel(ctx, c, args)
  local job = check(c:cancel(args[1]))
  if ctx.opts.json then
    ctx.out(json.encode(job_value(job), ORDERS.job) .. "\n")
  else
    ctx.out(("job %s %s\n"):format(job.id, job.status))
  end
  return cli.EXIT_OK
end

function commands.formats(ctx, c)
  local kind = ctx.opts.type or "document"
  if kind ~= "document" and kind ~= "glossary" then usage("option --type: document or glossary expected") end
  local list = check(c:formats(kind))
  if ctx.opts.json then
    for _, f in ipairs(list) do ctx.out(json.encode(f, ORDERS.format) .. "\n") end
  else
    ctx.out(("%-22s  %-30s  %s\n"):format("format", "extensions", "versions"))
    for _, f in ipairs(list) do
      ctx.out(("%-22s  %-30s  %s\n"):format(clip(f.format, 22), clip(table.concat(f.fileExtensions or {}, " "), 30),
        table.concat(f.versions or {}, " ")))
    end
  end
  return cli.EXIT_OK
end

-- The failure report of the library (job:failures()): its table, or its JSON.
-- max_docs lists only the first documents (watch), with a pointer to the full report.
local function print_report(ctx, job, max_docs)
  local rep = check(job:failures())
  if ctx.opts.json then
    ctx.out(rep:json() .. "\n")
  elseif max_docs and #rep.documents > max_docs then
    local short = {}
    for k, v in pairs(rep) do short[k] = v end
    short.documents = {}
    for i = 1, max_docs do short.documents[i] = rep.documents[i] end
    ctx.out(setmetatable(short, getmetatable(rep)):table() .. "\n")
    ctx.out(("... and %d more: doctranslate failures %s\n"):format(#rep.documents - max_docs, job.id))
  else
    ctx.out(rep:table() .. "\n")
  end
  return rep
end

function commands.failures(ctx, c, args)
  local job = check(c:job(args[1]))
  local rep = print_report(ctx, job)
  return (rep.failed > 0 or job_failed(job)) and cli.EXIT_FAILED or cli.EXIT_OK
end

--- One progress line: the bar (terminal) or plain text, from a job and the rate so far.
-- @tparam table p { status, total, done, success, failed, running, waiting, cancelled, rate, eta, elapsed }
-- @tparam boolean bar draw the bar
-- @tparam[opt] number width terminal columns
function cli.progress_line(p, bar, width)
  local pct = p.total > 0 and math.floor(p.done * 100 / p.total) or (dt.is_terminal(p.status) and 100 or 0)
  local rate = p.rate and ("%.1f/s"):format(p.rate) or "--/s"
  local eta
  if dt.is_terminal(p.status) then
    eta = "done in " .. fmt_duration(p.elapsed)
  elseif p.eta then
    eta = "ETA " .. fmt_duration(p.eta)
  else
    eta = "ETA ?"
  end
  local counts = ("%d/%d %3d%%  ok %d  failed %d  running %d  waiting %d"):format(p.done, p.total, pct,
    p.success, p.failed, p.running, p.waiting)
  if p.cancelled > 0 then counts = counts .. ("  cancelled %d"):format(p.cancelled) end
  local text = ("%-10s %s  %s  %s"):format(p.status, counts, rate, eta)
  if not bar then return text end
  local cells = 20
  local filled = p.total > 0 and math.floor(p.done * cells / p.total) or (dt.is_terminal(p.status) and cells or 0)
  local line = "[" .. ("#"):rep(filled) .. ("."):rep(cells - filled) .. "] " .. text
  if width and #line > width - 1 then line = line:sub(1, width - 1) end
  return line
end

function commands.watch(ctx, c, args)
  local interval = number_opt(ctx.opts, "interval", 0, 3600)
  local max_wait = number_opt(ctx.opts, "max-wait", 0, 1e9)
  local job = check(c:job(args[1]))
  local t0 = ctx.now()
  local first_t, first_done, last_plain, p
  local function sample()
    local s = job.summary or {}
    local done = (s.success or 0) + (s.failed or 0) + (s.cancelled or 0)
    local now = ctx.now()
    if first_t == nil or done < first_done then first_t, first_done = now, done end
    local rate, eta
    if now - first_t > 0.5 and done > first_done then
      rate = (done - first_done) / (now - first_t)
      eta = ((s.total or 0) - done) / rate
    end
    p = { status = job.status, total = s.total or 0, done = done, success = s.success or 0,
          failed = s.failed or 0, running = s.inProgress or 0, waiting = s.notYetStarted or 0,
          cancelled = s.cancelled or 0, rate = rate, eta = eta, elapsed = now - t0, at = now }
  end
  local function draw()
    if ctx.tty then
      local q = p
      if q.eta and not dt.is_terminal(q.status) then
        -- count the ETA down between polls
        q = setmetatable({ eta = math.max(0, q.eta - (ctx.now() - q.at)) }, { __index = p })
      end
      ctx.out("\r\27[2K" .. cli.progress_line(q, true, ctx.columns))
      ctx.flush()
    else
      local line = cli.progress_line(p, false)
      local key = line:gsub("%s+[%d.-]+/s.*$", "")
      if key ~= last_plain then
        ctx.out(("%7.1fs  %s\n"):format(ctx.now() - t0, line))
        ctx.flush()
        last_plain = key
      end
    end
  end
  -- job:wait (the library's poll loop: Retry-After, interval, stale reads, timeout) sleeps
  -- through this: on a terminal the bar is redrawn four times a second meanwhile.
  local function pause(seconds)
    if not ctx.tty then return ctx.sleep(seconds) end
    local until_t = ctx.now() + seconds
    while true do
      local left = until_t - ctx.now()
      if left <= 0 then break end
      ctx.sleep(math.min(left, 0.25))
      draw()
    end
  end
  ctx.out(("watching job %s\n"):format(job.id))
  sample()
  draw()
  local _, err = job:wait{ interval = interval, timeout = max_wait, sleep = pause, now = ctx.now,
                           on_progress = function() sample() draw() end }
  if ctx.tty then ctx.out("\n") end
  if err then fail(err) end
  ctx.out("\n")
  local rep = print_report(ctx, job, 10)
  return (rep.failed > 0 or job_failed(job)) and cli.EXIT_FAILED or cli.EXIT_OK
end

-- The library functions a command needs (a build of the module without them says so).
local NEEDS = { jobs = "jobs", start = "start", formats = "formats", cancel = "cancel" }

-- main ------------------------------------------------------------------

local function command_help(name)
  local text = HELP[name] or HELP[""]
  if name == "" then
    return text .. GLOBAL_HELP
  end
  return text .. GLOBAL_HELP
end
cli.help = command_help

--- Runs the command line.
-- @tparam table argv arguments after the program name
-- @tparam[opt] table env { stdout =, stderr =, getenv =, stdin =, now =, sleep =, tty = true|false|nil,
-- columns = }
-- @treturn number the exit code
function cli.main(argv, env)
  env = env or {}
  local stdout, stderr = env.stdout or io.stdout, env.stderr or io.stderr
  local getenv = env.getenv or os.getenv
  local now, sleep = env.now, env.sleep
  if not now or not sleep then
    local n, s = default_clock()
    now, sleep = now or n, sleep or s
  end
  local ctx = {
    out = function(s) stdout:write(s) end,
    err = function(s) stderr:write(s) end,
    flush = function() stdout:flush() end,
    now = now, sleep = sleep,
  }
  local function say_error(lines)
    stderr:write(table.concat(lines, "\n"), "\n")
  end
  local ok, result = pcall(function()
    local p = cli.parse(argv)
    local name = p.command or ""
    if name == "help" then
      name = p.args[1] or ""
      p.opts.help = true
    end
    if p.opts.version and name == "" then
      ctx.out(("doctranslate %s (%s)\n"):format(dt.VERSION, (dt.curl_version or ""):match("^%S*")))
      return cli.EXIT_OK
    end
    if not HELP[name] or name == "" and not p.opts.help then
      if name ~= "" then usage("unknown command '%s'", name) end
      usage("a command is required")
    end
    if p.opts.help then
      ctx.out(command_help(name))
      return cli.EXIT_OK
    end
    local allowed = {}
    for _, n in ipairs(GLOBAL) do allowed[n] = true end
    for _, n in ipairs(COMMAND_OPTIONS[name]) do allowed[n] = true end
    for n in pairs(p.opts) do
      if not allowed[n] then usage("%s: unknown option --%s", name, n) end
    end
    local want = POSITIONAL[name]
    if #p.args < #want then usage("%s: %s is required", name, want[#p.args + 1]) end
    if #p.args > #want then usage("%s: unexpected argument '%s'", name, clip(p.args[#want + 1], 40)) end
    if p.opts.tty then ctx.tty = true elseif p.opts["no-tty"] then ctx.tty = false
    elseif env.tty ~= nil then ctx.tty = env.tty else ctx.tty = cli.stdout_is_terminal(getenv) end
    ctx.columns = env.columns or tonumber(getenv("COLUMNS") or "") or (ctx.tty and cli.terminal_columns()) or 80
    ctx.opts = p.opts
    local copts = cli.client_options(p.opts, getenv, env.stdin)
    if p.opts.verbose then
      copts.log = function(level, message) stderr:write(("doctranslate: %s: %s\n"):format(level, message)) end
    end
    local c = dt.new(copts)
    if NEEDS[name] and c[NEEDS[name]] == nil then
      usage("%s: this build of the doctranslate module has no c:%s()", name, NEEDS[name])
    end
    local code = commands[name](ctx, c, p.args)
    if c.close then c:close() end
    return code
  end)
  if ok then
    stdout:flush()
    return result
  end
  stdout:flush()
  if getmetatable(result) == usage_mt then
    say_error({ "doctranslate: " .. result.message, "(doctranslate --help, or doctranslate COMMAND --help)" })
    return cli.EXIT_USAGE
  end
  if getmetatable(result) == service_mt then
    if is_usage(result.err) then
      say_error({ "doctranslate: " .. tostring(result.err.message or result.err) })
      return cli.EXIT_USAGE
    end
    say_error(error_lines(result.err))
    return cli.EXIT_SERVICE
  end
  if is_usage(result) then
    say_error({ "doctranslate: " .. tostring(result.message or result) })
    return cli.EXIT_USAGE
  end
  if dt.is_error(result) then
    say_error(error_lines(result))
    return cli.EXIT_SERVICE
  end
  if tostring(result):find("interrupted!", 1, true) then -- Ctrl-C: end the line a bar may be on
    if ctx.tty then stdout:write("\n") end
    say_error({ "doctranslate: interrupted" })
    return 130
  end
  say_error({ "doctranslate: internal error: " .. tostring(result) })
  return cli.EXIT_SERVICE
end

return cli
