--- The `doctranslate` command: check on Document Translation jobs from a shell.
--
-- `bin/doctranslate` only finds this module and calls `cli.main`; everything else is here so
-- specs can drive it in-process with their own streams, environment, clock and terminal:
--
--     local cli = require "doctranslate.cli"
--     local code = cli.main({ "status", job_id }, { stdout = f, stderr = g, getenv = os.getenv })
--
-- The command line is parsed by lua-argparse from one table of subcommands (`cli.COMMANDS`):
-- each entry declares its arguments and options and has one `run` function, so a new
-- subcommand is one more entry.
--
-- Exit codes (`cli.EXIT`): 0 ok, 1 the command failed (service, network or internal error),
-- 2 usage, 3 the job failed (Failed, ValidationFailed), 4 some documents failed.
--
-- The key is never written anywhere: not in output, not in errors (the core scrubs it from
-- every message it makes), not in `-v` log lines (the core never hands a secret to its log
-- function).
-- @module doctranslate.cli
local dt = require "doctranslate"
local dkjson = require "dkjson"
local argparse = require "argparse"

local cli = {}

--- Exit codes, listed by `doctranslate --help`.
-- @table EXIT
-- @field OK 0: the command did what it was asked
-- @field ERROR 1: the command failed: a service, network or internal error
-- @field USAGE 2: a usage error (unknown command or option, missing or malformed argument)
-- @field JOB 3: the job failed (Failed or ValidationFailed)
-- @field DOCUMENTS 4: some documents failed (`doc`, `failures`; `status` and `watch` with `--strict`)
cli.EXIT = { OK = 0, ERROR = 1, USAGE = 2, JOB = 3, DOCUMENTS = 4 }

--- Environment variables read for each setting, first found wins.
-- @table ENV
cli.ENV = {
  endpoint = { "DOCTRANSLATE_ENDPOINT", "AZURE_DOCUMENT_TRANSLATION_ENDPOINT", "AZURE_TRANSLATOR_ENDPOINT" },
  key = { "DOCTRANSLATE_KEY", "AZURE_DOCUMENT_TRANSLATION_KEY", "AZURE_TRANSLATOR_KEY" },
  token = { "DOCTRANSLATE_TOKEN" },
  region = { "DOCTRANSLATE_REGION", "AZURE_DOCUMENT_TRANSLATION_REGION", "AZURE_TRANSLATOR_REGION" },
  api_version = { "DOCTRANSLATE_API_VERSION" },
  ca_file = { "DOCTRANSLATE_CA_FILE" },
}

-- Statuses a job or a document may be filtered on.
local STATUSES = { "NotStarted", "Running", "Succeeded", "Failed", "Cancelled", "Cancelling",
                   "ValidationFailed" }

-- text ------------------------------------------------------------------------------------------

--- Display text: valid UTF-8, measured in terminal columns, clipped without cutting a character.
-- @section text
local text = {}
cli.text = text

-- Code points that take two columns (East Asian Wide and Fullwidth) and none (combining marks,
-- zero-width characters), as sorted ranges.
local WIDE = {
  { 0x1100, 0x115F }, { 0x231A, 0x231B }, { 0x2329, 0x232A }, { 0x23E9, 0x23EC }, { 0x23F0, 0x23F0 },
  { 0x23F3, 0x23F3 }, { 0x25FD, 0x25FE }, { 0x2614, 0x2615 }, { 0x2648, 0x2653 }, { 0x267F, 0x267F },
  { 0x2693, 0x2693 }, { 0x26A1, 0x26A1 }, { 0x26AA, 0x26AB }, { 0x26BD, 0x26BE }, { 0x26C4, 0x26C5 },
  { 0x26CE, 0x26CE }, { 0x26D4, 0x26D4 }, { 0x26EA, 0x26EA }, { 0x26F2, 0x26F3 }, { 0x26F5, 0x26F5 },
  { 0x26FA, 0x26FA }, { 0x26FD, 0x26FD }, { 0x2705, 0x2705 }, { 0x270A, 0x270B }, { 0x2728, 0x2728 },
  { 0x274C, 0x274C }, { 0x274E, 0x274E }, { 0x2753, 0x2755 }, { 0x2757, 0x2757 }, { 0x2795, 0x2797 },
  { 0x27B0, 0x27B0 }, { 0x27BF, 0x27BF }, { 0x2B1B, 0x2B1C }, { 0x2B50, 0x2B50 }, { 0x2B55, 0x2B55 },
  { 0x2E80, 0x303E }, { 0x3041, 0x33FF }, { 0x3400, 0x4DBF }, { 0x4E00, 0x9FFF }, { 0xA000, 0xA4CF },
  { 0xA960, 0xA97F }, { 0xAC00, 0xD7A3 }, { 0xF900, 0xFAFF }, { 0xFE10, 0xFE19 }, { 0xFE30, 0xFE6F },
  { 0xFF00, 0xFF60 }, { 0xFFE0, 0xFFE6 }, { 0x16FE0, 0x16FE4 }, { 0x17000, 0x18CFF }, { 0x1B000, 0x1B2FF },
  { 0x1F004, 0x1F004 }, { 0x1F0CF, 0x1F0CF }, { 0x1F18E, 0x1F18E }, { 0x1F191, 0x1F19A },
  { 0x1F200, 0x1F251 }, { 0x1F300, 0x1F64F }, { 0x1F680, 0x1F6FF }, { 0x1F900, 0x1F9FF },
  { 0x1FA70, 0x1FAFF }, { 0x20000, 0x2FFFD }, { 0x30000, 0x3FFFD },
}
local ZERO = {
  { 0x0300, 0x036F }, { 0x0483, 0x0489 }, { 0x0591, 0x05BD }, { 0x0610, 0x061A }, { 0x064B, 0x065F },
  { 0x1AB0, 0x1AFF }, { 0x1DC0, 0x1DFF }, { 0x200B, 0x200F }, { 0x2060, 0x2064 }, { 0x20D0, 0x20FF },
  { 0x3099, 0x309A }, { 0xFE00, 0xFE0F }, { 0xFE20, 0xFE2F }, { 0xFEFF, 0xFEFF }, { 0xE0100, 0xE01EF },
}

local function in_ranges(ranges, cp)
  local lo, hi = 1, #ranges
  while lo <= hi do
    local mid = math.floor((lo + hi) / 2)
    local r = ranges[mid]
    if cp < r[1] then hi = mid - 1 elseif cp > r[2] then lo = mid + 1 else return true end
  end
  return false
end

--- Columns one code point takes on a terminal: 2 for East Asian wide characters, 0 for
-- combining marks, else 1.
function text.cp_width(cp)
  if cp < 0x300 then return 1 end
  if in_ranges(ZERO, cp) then return 0 end
  if in_ranges(WIDE, cp) then return 2 end
  return 1
end

local REPLACEMENT = "\239\191\189" -- U+FFFD

-- The code point of the UTF-8 sequence at byte i and the index after it; nil when the bytes
-- there are not valid UTF-8 (overlong forms and surrogates included).
local function decode(s, i)
  local c = s:byte(i)
  if c < 0x80 then return c, i + 1 end
  local n, cp, min
  if c >= 0xC2 and c <= 0xDF then n, cp, min = 1, c - 0xC0, 0x80
  elseif c >= 0xE0 and c <= 0xEF then n, cp, min = 2, c - 0xE0, 0x800
  elseif c >= 0xF0 and c <= 0xF4 then n, cp, min = 3, c - 0xF0, 0x10000
  else return nil, i + 1 end
  for k = 1, n do
    local b = s:byte(i + k)
    if b == nil or b < 0x80 or b > 0xBF then return nil, i + 1 end
    cp = cp * 64 + (b - 0x80)
  end
  if cp < min or cp > 0x10FFFF or (cp >= 0xD800 and cp <= 0xDFFF) then return nil, i + 1 end
  return cp, i + n + 1
end

-- The characters of s as { text, width } pairs: invalid bytes and control characters (which
-- could move the cursor or end a line) each become U+FFFD.
local function chars(s)
  local out, i, n = {}, 1, #s
  while i <= n do
    local cp, j = decode(s, i)
    if cp == nil or cp < 0x20 or cp == 0x7F or (cp >= 0x80 and cp < 0xA0) then
      out[#out + 1] = { REPLACEMENT, 1 }
    else
      out[#out + 1] = { s:sub(i, j - 1), text.cp_width(cp) }
    end
    i = j
  end
  return out
end

--- s as valid UTF-8 without control characters (each invalid byte or control becomes U+FFFD).
function text.clean(s)
  s = tostring(s == nil and "" or s)
  if not s:find("[%z\1-\31\127-\255]") then return s end
  local t = {}
  for i, ch in ipairs(chars(s)) do t[i] = ch[1] end
  return table.concat(t)
end

--- Display width of s in terminal columns (after `text.clean`).
function text.width(s)
  s = tostring(s == nil and "" or s)
  if not s:find("[%z\1-\31\127-\255]") then return #s end
  local w = 0
  for _, ch in ipairs(chars(s)) do w = w + ch[2] end
  return w
end

local ELLIPSIS = "\226\128\166" -- U+2026, one column

--- s in at most w columns, cut at the end with an ellipsis; valid UTF-8.
function text.clip(s, w)
  s = text.clean(s)
  if w == nil or text.width(s) <= w then return s end
  if w <= 0 then return "" end
  local out, used = {}, 0
  for _, ch in ipairs(chars(s)) do
    if used + ch[2] > w - 1 then break end
    out[#out + 1] = ch[1]
    used = used + ch[2]
  end
  return table.concat(out) .. ELLIPSIS
end

--- s in at most w columns, its middle replaced by an ellipsis (for paths and ids: both ends
-- tell most); valid UTF-8.
-- @tparam string s
-- @tparam number w columns
-- @tparam[opt=0.5] number share the part of the room the start keeps (ids: their first group)
function text.clip_middle(s, w, share)
  s = text.clean(s)
  if w == nil or text.width(s) <= w then return s end
  if w <= 1 then return text.clip(s, w) end
  local cs = chars(s)
  local room = w - 1
  local head_room = math.ceil(room * (share or 0.5))
  local head, used = {}, 0
  for _, ch in ipairs(cs) do
    if used + ch[2] > head_room then break end
    head[#head + 1] = ch[1]
    used = used + ch[2]
  end
  local tail, tused = {}, 0
  for i = #cs, 1, -1 do
    local ch = cs[i]
    if used + tused + ch[2] > room then break end
    table.insert(tail, 1, ch[1])
    tused = tused + ch[2]
  end
  return table.concat(head) .. ELLIPSIS .. table.concat(tail)
end

--- s padded with spaces to w columns (left-aligned, or right-aligned when `right`).
function text.pad(s, w, right)
  local n = w - text.width(s)
  if n <= 0 then return s end
  if right then return (" "):rep(n) .. s end
  return s .. (" "):rep(n)
end

-- tables ----------------------------------------------------------------------------------------

--- A table's layout for a width: which columns show, and how wide each is.
-- `cols` is a list of `{ key =, head =, right = true|nil, clip = "end"|"middle"|"id", min = n }`; the
-- last column takes what is left. A cell is a string or a list of alternatives, longest first
-- (the first that fits is printed, else the last one clipped). `reductions` says, in order, what
-- gives way when the natural widths do not fit: `{ drop = key }` hides a column,
-- `{ shrink = key }` narrows one to its `min`.
-- @tparam table cols the columns
-- @tparam table rows the rows (key -> cell)
-- @tparam[opt] number width the terminal's columns (nil: no limit)
-- @tparam[opt] table reductions what gives way, in order
-- @treturn table the layout, for `cli.render_row`
function cli.layout(cols, rows, width, reductions)
  local w, shown = {}, {}
  local function first(cell)
    if type(cell) == "table" then return cell[1] end
    return cell
  end
  for _, c in ipairs(cols) do
    local m = text.width(c.head)
    for _, r in ipairs(rows) do
      local cw = text.width(first(r[c.key]))
      if cw > m then m = cw end
    end
    w[c.key] = m
    shown[c.key] = true
  end
  local last = cols[#cols].key
  local function total()
    local t, n = 0, 0
    for _, c in ipairs(cols) do
      if shown[c.key] then
        t, n = t + w[c.key], n + 1
      end
    end
    return t + 2 * (n - 1)
  end
  if width then
    for _, red in ipairs(reductions or {}) do
      local over = total() - width
      if over <= 0 then break end
      if red.drop then
        shown[red.drop] = false
      elseif red.shrink then
        for _, c in ipairs(cols) do
          if c.key == red.shrink then
            w[c.key] = math.max(c.min or 1, w[c.key] - over)
          end
        end
      end
    end
    local over = total() - width
    if over > 0 then w[last] = math.max(text.width(cols[#cols].head), w[last] - over) end
  end
  local visible = {}
  for _, c in ipairs(cols) do
    if shown[c.key] then visible[#visible + 1] = c end
  end
  return { cols = visible, w = w, limited = width ~= nil }
end

-- One cell in w columns: the first alternative that fits, else the last one clipped.
local function fit(cell, w, how, limited)
  local alts = type(cell) == "table" and cell or { cell }
  if not limited then return text.clean(alts[1] or "") end
  for _, a in ipairs(alts) do
    if text.width(a) <= w then return text.clean(a) end
  end
  local a = alts[#alts] or ""
  how = type(cell) == "table" and cell.clip or how
  if how == "middle" then return text.clip_middle(a, w) end
  if how == "id" then return text.clip_middle(a, w, 0.65) end
  return text.clip(a, w)
end

--- One line of a table laid out by `cli.layout` (a header when row is nil).
function cli.render_row(layout, row)
  local parts = {}
  for i, c in ipairs(layout.cols) do
    local cell = row and row[c.key] or c.head
    local s = fit(cell == nil and "" or cell, layout.w[c.key], c.clip, layout.limited)
    if i < #layout.cols or c.right then s = text.pad(s, layout.w[c.key], c.right) end
    parts[i] = s
  end
  return (table.concat(parts, "  "):gsub("%s+$", ""))
end

-- json ------------------------------------------------------------------------------------------

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
  local digits = (math.type and math.type(n) == "integer") and ("%d"):format(n) or ("%.17g"):format(n)
  return setmetatable({}, { __tojson = function() return digits end })
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

-- errors ----------------------------------------------------------------------------------------

local usage_mt = {}
local function usage(fmt, ...)
  error(setmetatable({ message = fmt:format(...) }, usage_mt), 0)
end

-- The library raises a misuse as a string, the way luaL_argerror does ("where: bad option
-- 'x': ..."): with arguments from the command line, that is the user's usage error.
local function library_usage(e)
  if type(e) ~= "string" then return nil end
  local msg = e:match("^[^\n]-:%d+: (.*)$") or e
  if msg:find("^bad argument") or msg:find("^bad option") or msg:find("^bad field") then return msg end
  return nil
end

local function is_usage(e)
  return getmetatable(e) == usage_mt or (dt.is_error(e) and e.kind == "usage") or library_usage(e) ~= nil
end

-- Raised by commands for a returned library error: printed, exit 1.
local service_mt = {}
local function fail(err)
  error(setmetatable({ err = err }, service_mt), 0)
end

local function check(v, err)
  if v == nil and err ~= nil then fail(err) end
  return v
end

-- "code/inner/inner..." of an error table, its deepest (most specific) code and message.
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

local function deepest(err, field)
  local v, e, depth = nil, err, 0
  while type(e) == "table" and depth < 16 do
    if e[field] then v = e[field] end
    e = e.innerError or e.innererror
    depth = depth + 1
  end
  return v and tostring(v) or ""
end

local REQUEST_IDS = { "apim-request-id", "x-requestid", "x-ms-client-request-id" }

--- How an error is printed: one line (kind, status, code, message, the request id), or with
-- `verbose` also its target, inner errors, every request id and the retry delay, one a line.
-- @param err an error value of the library (or any value)
-- @tparam[opt] boolean verbose all the details
-- @treturn table the lines, without line ends
function cli.error_lines(err, verbose)
  if type(err) ~= "table" then
    return { "doctranslate: " .. text.clean(tostring(err)) }
  end
  local head = { err.kind or "error" }
  if err.status then head[#head + 1] = tostring(err.status) end
  if err.code then head[#head + 1] = tostring(err.code) end
  local line = "doctranslate: " .. table.concat(head, " ") .. ": " .. tostring(err.message or "")
  local rid
  for _, n in ipairs(REQUEST_IDS) do
    if err[n] and not rid then rid = n end
  end
  if rid and not verbose then line = line .. (" (%s %s)"):format(rid, tostring(err[rid])) end
  local lines = { text.clean(line) }
  if not verbose then return lines end
  if err.target then lines[#lines + 1] = "  target: " .. tostring(err.target) end
  local inner, depth = err.innerError or err.innererror, 0
  while type(inner) == "table" and depth < 16 do
    lines[#lines + 1] = ("  inner error: %s: %s"):format(tostring(inner.code or "?"), tostring(inner.message or ""))
    inner = inner.innerError or inner.innererror
    depth = depth + 1
  end
  for _, n in ipairs(REQUEST_IDS) do
    if err[n] then lines[#lines + 1] = ("  %s: %s"):format(n, tostring(err[n])) end
  end
  if err.retry_after then lines[#lines + 1] = ("  retry after: %s s"):format(tostring(err.retry_after)) end
  for i = 2, #lines do lines[i] = text.clean(lines[i]) end
  return lines
end

-- configuration ---------------------------------------------------------------------------------

local function getenv_first(getenv, names)
  for _, n in ipairs(names) do
    local v = getenv(n)
    if v ~= nil and v ~= "" then return v end
  end
  return nil
end

-- The first line of a file or stream, without its line end; nil when there is none.
local function first_line(fh)
  local line = fh:read("*l")
  if line == nil then return nil end
  line = line:gsub("\r$", "")
  if line == "" then return nil end
  return line
end

-- The key of --key-file FILE or --key - (standard input), else of --key or the environment.
local function key_of(a, getenv, stdin)
  if a.key_file then
    local fh = io.open(a.key_file, "r")
    if fh == nil then usage("option --key-file: cannot read %s", a.key_file) end
    local key = first_line(fh)
    fh:close()
    if key == nil then usage("option --key-file: %s holds no key on its first line", a.key_file) end
    return key
  end
  if a.key == "-" then
    local key = first_line(stdin or io.stdin)
    if key == nil then usage("option --key -: no key on the first line of standard input") end
    return key
  end
  return a.key or getenv_first(getenv, cli.ENV.key)
end

--- The client options from the parsed arguments and the environment (the key never leaves
-- this table).
-- @tparam table a the parsed arguments (argparse's names: `api_version`, `ca_file`, ...)
-- @tparam function getenv reads the environment (`os.getenv`)
-- @param[opt] stdin where `--key -` reads the key (`io.stdin`)
-- @treturn table options for `dt.new`
function cli.client_options(a, getenv, stdin)
  local o = {
    endpoint = a.endpoint or getenv_first(getenv, cli.ENV.endpoint),
    region = a.region or getenv_first(getenv, cli.ENV.region),
    api_version = a.api_version or getenv_first(getenv, cli.ENV.api_version),
    ca_file = a.ca_file or getenv_first(getenv, cli.ENV.ca_file),
    timeout = a.timeout,
    retries = a.retries,
    insecure = a.insecure or nil,
  }
  local key = key_of(a, getenv, stdin)
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

local GUID = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"

-- The API versions whose routes take GUIDs as job and document ids: all the service has (each
-- declares its ids `format: uuid`; it answers anything else with a 400 InvalidJobId).
local GUID_VERSIONS = {}
for _, v in ipairs(dt.API_VERSIONS) do GUID_VERSIONS[v] = true end

--- Whether id is well formed for `api_version`: a GUID where the version requires one.
-- @tparam string id a job or document id
-- @tparam string api_version the API version
-- @treturn boolean
function cli.valid_id(id, api_version)
  if not GUID_VERSIONS[api_version] then return true end
  return id:match(GUID) ~= nil
end

-- Lists from repeated options and comma lists alike (argparse has split nothing).
local function list_opt(values)
  if values == nil then return nil end
  local out = {}
  for _, v in ipairs(values) do
    for _, item in ipairs(v) do out[#out + 1] = item end
  end
  if #out == 0 then return nil end
  return out
end

local LISTING_FILTERS = { "status", "id", "order", "order_by", "created_after", "created_before", "top",
                          "skip", "page_size" }

local function listing_options(a)
  if a.continuation then
    for _, n in ipairs(LISTING_FILTERS) do
      local v = a[n]
      if v ~= nil and not (type(v) == "table" and #v == 0) then
        usage("option --continuation: the token carries the listing's options; --%s cannot be added",
              (n:gsub("_", "-")))
      end
    end
    return { continuation = a.continuation, concurrency = a.concurrency }
  end
  local o = {
    statuses = list_opt(a.status),
    ids = list_opt(a.id),
    created_after = a.created_after,
    created_before = a.created_before,
    top = a.top,
    skip = a.skip,
    page_size = a.page_size,
    concurrency = a.concurrency,
  }
  local field, dir = a.order_by, a.order
  if field or dir then
    if field and field:find(" ") then
      if dir then usage("option --order: --order-by already names a direction") end
      o.order_by = field
    else
      o.order_by = (field or "createdDateTimeUtc") .. (dir and (" " .. dir) or "")
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

local function is_tty_fd(getenv, fd)
  getenv = getenv or os.getenv
  local term = getenv("TERM")
  if term == nil or term == "" or term == "dumb" then return false end
  local ok, how, code = os.execute("test -t " .. fd)
  if type(ok) == "number" then return ok == 0 end -- Lua 5.1
  return ok == true and how == "exit" and code == 0
end

--- Whether standard output is a terminal: `test -t 1` runs with the same stdout as this
-- process (os.execute inherits it; io.popen would not), and an unset or `dumb` TERM opts out.
-- @tparam[opt] function getenv reads the environment (`os.getenv`)
-- @treturn boolean
function cli.stdout_is_terminal(getenv) return is_tty_fd(getenv, 1) end

--- Whether standard error is a terminal (as `cli.stdout_is_terminal`, for `test -t 2`).
-- @tparam[opt] function getenv reads the environment (`os.getenv`)
-- @treturn boolean
function cli.stderr_is_terminal(getenv) return is_tty_fd(getenv, 2) end

--- The terminal's width from `stty size` on /dev/tty, nil when unknown.
-- @treturn[opt] number columns
function cli.terminal_columns()
  local p = io.popen("{ stty size </dev/tty; } 2>/dev/null")
  if not p then return nil end
  local out = p:read("*a") or ""
  p:close()
  local cols = tonumber(out:match("^%s*%d+%s+(%d+)"))
  if cols and cols >= 20 then return cols end
  return nil
end

-- The client's log function: each retry said on stderr, with what the try got and when the
-- next one goes (when stderr is a terminal, or with -v); with -v every request too.
local function make_log(ctx)
  if ctx.verbose == 0 and not ctx.stderr_tty then return nil end
  local got
  return function(level, message)
    local n, of, secs = message:match("^retry (%d+) of (%d+) in ([%d.]+) s")
    if level == "warn" and n then
      local at = os.date("!%H:%M:%S", math.floor(ctx.now() + tonumber(secs) + 0.5))
      ctx.err(("doctranslate: %s; retry %s of %s in %.1f s (at %s UTC)\n"):format(
        got or "the request failed", n, of, tonumber(secs), at))
      got = nil
      return
    end
    if level == "debug" then
      local answer = message:match("^%u+ %S+ %-> (.-) %(")
      if answer == "no response" then got = "no response"
      elseif answer then got = "HTTP " .. answer end
    end
    if ctx.verbose > 0 then ctx.err(text.clean(("doctranslate: %s: %s"):format(level, message)) .. "\n") end
  end
end

-- output ----------------------------------------------------------------------------------------

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
  return job.status == "Failed" or job.status == "ValidationFailed"
end

local function failed_documents(job)
  local s = job.summary
  return s and (s.failed or 0) > 0 or false
end

-- The exit code of a job that ran: JOB when it failed; DOCUMENTS when some documents failed and
-- that was asked for; else OK.
local function job_code(job, strict)
  if job_failed(job) then return cli.EXIT.JOB end
  if strict and failed_documents(job) then return cli.EXIT.DOCUMENTS end
  return cli.EXIT.OK
end

local function fmt_duration(s)
  if s == nil or s ~= s or s == math.huge then return "?" end
  s = math.floor(s + 0.5)
  if s < 60 then return ("%ds"):format(s) end
  if s < 3600 then return ("%dm%02ds"):format(math.floor(s / 60), s % 60) end
  return ("%dh%02dm"):format(math.floor(s / 3600), math.floor((s % 3600) / 60))
end
cli.fmt_duration = fmt_duration

local function percent(p)
  if type(p) ~= "number" then return "" end
  return ("%d%%"):format(math.floor(p * 100 + 0.5))
end

-- "2021-06-02T05:59:23.7625179Z" as "2021-06-02 05:59:23".
local function short_time(s)
  if type(s) ~= "string" then return "" end
  local d, t = s:match("^(%d+%-%d+%-%d+)T(%d+:%d+:%d+)")
  if d then return d .. " " .. t end
  return s
end

-- Streams a lazy listing page by page as a table laid out on its first page (or JSON lines).
-- The continuation token is offered when a listing that printed something fails.
local function stream(ctx, pages, tab, to_value, orders)
  local n, layout = 0, nil
  local width = ctx.tty and ctx.columns or nil
  local ok, err = pcall(function()
    while true do
      local page, perr = pages:next_page()
      if not page then
        if perr then fail(perr) end
        break
      end
      local buf = {}
      if ctx.args.json then
        for i, item in ipairs(page) do buf[i] = json.encode(to_value(item), orders) end
      else
        local rows = {}
        for i, item in ipairs(page) do rows[i] = tab.row(item) end
        if not layout then
          layout = cli.layout(tab.cols, rows, width, tab.reductions)
          buf[1] = cli.render_row(layout)
        end
        for _, r in ipairs(rows) do buf[#buf + 1] = cli.render_row(layout, r) end
      end
      n = n + #page
      if #buf > 0 then ctx.out(table.concat(buf, "\n") .. "\n") end
      ctx.flush()
    end
  end)
  if not ok then
    local token = pages:continuation()
    pages:close()
    if token and n > 0 and getmetatable(err) == service_mt then
      ctx.err(("doctranslate: %d listed; resume this listing with --continuation %s\n"):format(n, token))
    end
    error(err, 0)
  end
  pages:close()
  if not ctx.args.json then
    if not layout then ctx.out(cli.render_row(cli.layout(tab.cols, {}, width, tab.reductions)) .. "\n") end
    ctx.out(("(%d)\n"):format(n))
  end
  return n
end

--- One progress line of `watch`: with the bar (terminal) or plain. On a terminal the line fits
-- in `width - 1` columns: the per-state counts, then half the bar give way first, so the
-- done/total, rate and ETA always show.
-- @tparam table p { status, total, done, success, failed, running, waiting, cancelled, rate, eta,
-- elapsed }
-- @tparam boolean bar draw the bar
-- @tparam[opt] number width terminal columns
-- @treturn string the line
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
  local head = ("%-10s %d/%d %3d%%"):format(p.status, p.done, p.total, pct)
  local details = { ("ok %d"):format(p.success), ("failed %d"):format(p.failed),
                    ("running %d"):format(p.running), ("waiting %d"):format(p.waiting) }
  if p.cancelled > 0 then details[#details + 1] = ("cancelled %d"):format(p.cancelled) end
  local function compose(nd, cells)
    local parts = { head }
    for i = 1, nd do parts[#parts + 1] = details[i] end
    parts[#parts + 1] = rate
    parts[#parts + 1] = eta
    local line = table.concat(parts, "  ")
    if cells == 0 then return line end
    local filled = p.total > 0 and math.floor(p.done * cells / p.total) or (dt.is_terminal(p.status) and cells or 0)
    return "[" .. ("#"):rep(filled) .. ("."):rep(cells - filled) .. "] " .. line
  end
  if not bar then return compose(#details, 0) end
  if not width then return compose(#details, 20) end
  for nd = #details, 0, -1 do
    for _, cells in ipairs({ 20, 10 }) do
      local line = compose(nd, cells)
      if #line <= width - 1 then return line end
    end
  end
  return text.clip(compose(0, 0), width - 1) -- the bar goes last
end

-- Each line of s cleaned (valid UTF-8, no control characters).
local function clean_lines(s)
  return (s:gsub("[^\n]+", text.clean))
end

-- The failure report of the library (job:failures()): its table, or its JSON.
-- max_docs lists only the first documents (watch), with a pointer to the full report.
local function print_report(ctx, job, max_docs)
  local rep = check(job:failures())
  if ctx.args.json then
    ctx.out(rep:json() .. "\n")
  elseif max_docs and #rep.documents > max_docs then
    local short = {}
    for k, v in pairs(rep) do short[k] = v end
    short.documents = {}
    for i = 1, max_docs do short.documents[i] = rep.documents[i] end
    ctx.out(clean_lines(setmetatable(short, getmetatable(rep)):table()) .. "\n")
    ctx.out(("... and %d more: doctranslate failures %s\n"):format(#rep.documents - max_docs, job.id))
  else
    ctx.out(clean_lines(rep:table()) .. "\n")
  end
  return rep
end

-- argument checks -------------------------------------------------------------------------------

local function integer(name, lo, hi)
  return function(s)
    local v = tonumber(s)
    if v == nil or v ~= v or v < lo or v > hi or v % 1 ~= 0 then
      return nil, ("option --%s: an integer in %.0f..%.0f expected"):format(name, lo, hi)
    end
    return math.tointeger and math.tointeger(v) or v
  end
end

local function number(name, lo, hi)
  return function(s)
    local v = tonumber(s)
    if v == nil or v ~= v or v < lo or v > hi then
      return nil, ("option --%s: a number in %g..%g expected"):format(name, lo, hi)
    end
    return v
  end
end

local function split(s)
  local out = {}
  for item in s:gmatch("[^,]+") do
    item = item:match("^%s*(.-)%s*$")
    if item ~= "" then out[#out + 1] = item end
  end
  return out
end

local IS_STATUS = {}
for _, s in ipairs(STATUSES) do IS_STATUS[s] = true end

local function statuses(s)
  local list = split(s)
  for _, item in ipairs(list) do
    if not IS_STATUS[item] then
      return nil, ("option --status: '%s' is not a status (%s)"):format(text.clip(item, 30),
        table.concat(STATUSES, ", "))
    end
  end
  return list
end

local function date(name)
  return function(s)
    if not dt.parse_date(s) then
      return nil, ("option --%s: an ISO-8601 date-time expected (2024-10-11T01:26:30Z)"):format(name)
    end
    return s
  end
end

local function target(s)
  local url, lang = s:match("^(.+):([%a][%w%-]*)$")
  if not url or not url:match("^%a[%w+.-]*://") then
    return nil, "option --target: URL:LANG expected (https://account.blob.core.windows.net/out?sas:fr)"
  end
  return { targetUrl = url, language = lang }
end

local function listing_args(cmd, docs)
  cmd:option("--status", "Only these statuses (repeat, or a comma list): " .. table.concat(STATUSES, ", ") .. ".")
    :argname("<S>"):count("*"):convert(statuses)
  cmd:option("--id", (docs and "Only these document ids" or "Only these job ids") .. " (repeat, or a comma list).")
    :argname("<ID>"):count("*"):convert(split)
  cmd:option("--order", "By creation date (service default: desc)."):choices({ "asc", "desc" })
  cmd:option("--order-by", "createdDateTimeUtc or lastActionDateTimeUtc, optionally then asc or desc.")
    :argname("<FIELD>")
  cmd:option("--created-after", "ISO-8601 date-time."):argname("<T>"):convert(date("created-after"))
  cmd:option("--created-before", "ISO-8601 date-time."):argname("<T>"):convert(date("created-before"))
  cmd:option("--top", "At most N."):argname("<N>"):convert(integer("top", 0, 2 ^ 53))
  cmd:option("--skip", "Skip the first N."):argname("<N>"):convert(integer("skip", 0, 2 ^ 53))
  cmd:option("--page-size", "Items per request, 1..100 (service default 50)."):argname("<N>")
    :convert(integer("page-size", 1, 100))
  cmd:option("--continuation", "Resume a listing where a token (printed when one fails) points; "
    .. "the token carries the filters."):argname("<TOKEN>")
  if docs then
    cmd:option("--concurrency", "Fetch up to N pages at once, 1..16 (an ended job listed without filters).")
      :argname("<N>"):convert(integer("concurrency", 1, 16))
  end
  cmd:flag("--json", "JSON lines, the service's fields in its order.")
end

-- commands --------------------------------------------------------------------------------------

--- The subcommands, in the order `--help` lists them. Each entry: `name`, `summary` (one line),
-- `define(cmd)` (declares its arguments and options on an argparse command), `ids` (the
-- arguments that are job or document ids, checked before any request), `epilog` (what its exit
-- codes mean) and `run(ctx, c, args)` (returns the exit code). `no_client`: runs without
-- configuration.
-- @table COMMANDS
cli.COMMANDS = {}
local COMMANDS = cli.COMMANDS

COMMANDS[#COMMANDS + 1] = {
  name = "status", summary = "The job's status, dates and summary counts.",
  ids = { "job" },
  define = function(cmd)
    cmd:argument("job", "The job id.")
    cmd:flag("--json", "The job as one JSON object.")
    cmd:flag("--strict", "Exit 4 when the job succeeded but some documents failed.")
  end,
  epilog = "Exit: 0 when the job ran (whatever its documents), 3 when it failed (Failed,\n"
        .. "ValidationFailed), 4 with --strict when some documents failed.",
  run = function(ctx, c, a)
    local job = check(c:job(a.job))
    if a.json then
      ctx.out(json.encode(job_value(job), ORDERS.job) .. "\n")
    else
      local s = job.summary or {}
      ctx.out(("job        %s\n"):format(text.clean(job.id)))
      ctx.out(("status     %s\n"):format(text.clean(job.status)))
      ctx.out(("created    %s\n"):format(text.clean(job.createdDateTimeUtc)))
      ctx.out(("last       %s\n"):format(text.clean(job.lastActionDateTimeUtc)))
      ctx.out(("documents  %d total: %d succeeded, %d failed, %d in progress, %d not started, %d cancelled\n")
        :format(s.total or 0, s.success or 0, s.failed or 0, s.inProgress or 0, s.notYetStarted or 0,
                s.cancelled or 0))
      ctx.out(("characters %d charged\n"):format(s.totalCharacterCharged or 0))
      if job.error then
        ctx.out(text.clean(("error      %s: %s"):format(code_path(job.error), deepest(job.error, "message"))) .. "\n")
      end
    end
    return job_code(job, a.strict)
  end,
}

COMMANDS[#COMMANDS + 1] = {
  name = "doc", summary = "One document's status.",
  ids = { "job", "doc" },
  define = function(cmd)
    cmd:argument("job", "The job id.")
    cmd:argument("doc", "The document id.")
    cmd:flag("--json", "The document as one JSON object.")
  end,
  epilog = "Exit: 0, or 4 when the document failed.",
  run = function(ctx, c, a)
    local d = check(c:document(a.job, a.doc))
    if a.json then
      ctx.out(json.encode(doc_value(d), ORDERS.document) .. "\n")
    else
      for _, k in ipairs({ "id", "status", "to", "progress", "characterCharged", "sourcePath", "path",
                           "createdDateTimeUtc", "lastActionDateTimeUtc" }) do
        local v = d[k]
        if k == "progress" then v = type(v) == "number" and percent(v) or nil end
        -- SAS signatures hidden, as tostring hides them; --json keeps the real values
        if v ~= nil then ctx.out(("%-22s %s\n"):format(k, text.clean(dt.redact(tostring(v))))) end
      end
      if d.error then
        ctx.out(text.clean(("%-22s %s: %s"):format("error", code_path(d.error), deepest(d.error, "message"))) .. "\n")
      end
    end
    return d.status == "Failed" and cli.EXIT.DOCUMENTS or cli.EXIT.OK
  end,
}

-- The documents table: on a narrow terminal the characters and progress columns go, then the
-- ids are shortened in the middle, so the error code and message (or the source path, shortened
-- in the middle) get the room.
local DOCS_TABLE = {
  cols = {
    { key = "id", head = "document", clip = "id", min = 13 },
    { key = "status", head = "status" },
    { key = "to", head = "to" },
    { key = "done", head = "done", right = true },
    { key = "chars", head = "chars", right = true },
    { key = "last", head = "source / error" },
  },
  reductions = { { drop = "chars" }, { drop = "done" }, { shrink = "id" } },
  row = function(d)
    local last
    if d.error then
      local msg = deepest(d.error, "message")
      last = { code_path(d.error) .. ": " .. msg, deepest(d.error, "code") .. ": " .. msg, clip = "end" }
    else
      last = { dt.redact(d.sourcePath or ""), clip = "middle" } -- sig= hidden; --json keeps it
    end
    return { id = d.id, status = d.status or "", to = d.to or "", done = percent(d.progress),
             chars = tostring(d.characterCharged or ""), last = last }
  end,
}

COMMANDS[#COMMANDS + 1] = {
  name = "docs", summary = "The job's documents, streamed page by page.",
  ids = { "job" },
  define = function(cmd)
    cmd:argument("job", "The job id.")
    listing_args(cmd, true)
  end,
  epilog = "Exit: 0 when the listing completed (whatever the documents' statuses).",
  run = function(ctx, c, a)
    stream(ctx, c:documents(a.job, listing_options(a)), DOCS_TABLE, doc_value, ORDERS.document)
    return cli.EXIT.OK
  end,
}

local JOBS_TABLE = {
  cols = {
    { key = "id", head = "job", clip = "id", min = 13 },
    { key = "status", head = "status" },
    { key = "created", head = "created (UTC)" },
    { key = "total", head = "total", right = true },
    { key = "success", head = "success", right = true },
    { key = "failed", head = "failed", right = true },
    { key = "running", head = "running", right = true },
    { key = "waiting", head = "waiting", right = true },
  },
  reductions = { { drop = "waiting" }, { drop = "running" }, { shrink = "id" } },
  row = function(j)
    local s = j.summary or {}
    return { id = j.id, status = j.status or "", created = short_time(j.createdDateTimeUtc),
             total = ("%d"):format(s.total or 0), success = ("%d"):format(s.success or 0),
             failed = ("%d"):format(s.failed or 0), running = ("%d"):format(s.inProgress or 0),
             waiting = ("%d"):format(s.notYetStarted or 0) }
  end,
}

COMMANDS[#COMMANDS + 1] = {
  name = "jobs", summary = "The resource's jobs, newest first.",
  define = function(cmd) listing_args(cmd, false) end,
  epilog = "Exit: 0 when the listing completed.",
  run = function(ctx, c, a)
    stream(ctx, c:jobs(listing_options(a)), JOBS_TABLE, job_value, ORDERS.job)
    return cli.EXIT.OK
  end,
}

COMMANDS[#COMMANDS + 1] = {
  name = "start", summary = "Start a job; prints its id.",
  define = function(cmd)
    cmd:option("--source", "The source container (or file, with --storage-type File): a SAS URL.")
      :argname("<URL>"):count(1)
    cmd:option("--target", "A target container and language; repeat for more (at most 10).")
      :argname("<URL:LANG>"):count("+"):convert(target)
    cmd:option("--source-language", "The source language (detected otherwise)."):argname("<L>")
    cmd:option("--prefix", "Only source documents whose names start so."):argname("<P>")
    cmd:option("--suffix", "Only source documents whose names end so."):argname("<S>")
    cmd:option("--storage-type", "Folder (default) or File."):choices({ "Folder", "File" })
    cmd:flag("--json", "The job as one JSON object instead of its id.")
  end,
  epilog = "The id is printed alone on stdout: J=$(doctranslate start ...) works.\n"
        .. "Exit: 0 when the service accepted the job.",
  run = function(ctx, c, a)
    local source = { sourceUrl = a.source, language = a.source_language }
    if a.prefix or a.suffix then source.filter = { prefix = a.prefix, suffix = a.suffix } end
    local input = { source = source, targets = a.target, storageType = a.storage_type }
    local job = check(c:start{ inputs = { input } })
    if a.json then
      ctx.out(json.encode(job_value(job), ORDERS.job) .. "\n")
    else
      ctx.out(job.id .. "\n")
    end
    return cli.EXIT.OK
  end,
}

COMMANDS[#COMMANDS + 1] = {
  name = "cancel", summary = "Cancel a job.",
  ids = { "job" },
  define = function(cmd)
    cmd:argument("job", "The job id.")
    cmd:flag("--json", "The job as one JSON object.")
  end,
  epilog = "Documents not yet translated are not translated. Prints the job's status\n"
        .. "afterwards (Cancelling, then Cancelled). A job that has ended cannot be cancelled.\n"
        .. "Exit: 0 when the service accepted the cancel.",
  run = function(ctx, c, a)
    local job = check(c:cancel(a.job))
    if a.json then
      ctx.out(json.encode(job_value(job), ORDERS.job) .. "\n")
    else
      ctx.out(("job %s %s\n"):format(job.id, text.clean(job.status)))
    end
    return cli.EXIT.OK
  end,
}

local FORMATS_TABLE = {
  cols = {
    { key = "format", head = "format" },
    { key = "ext", head = "extensions", min = 12 },
    { key = "versions", head = "versions" },
  },
  reductions = { { shrink = "ext" } },
  row = function(f)
    return { format = f.format or "", ext = table.concat(f.fileExtensions or {}, " "),
             versions = table.concat(f.versions or {}, " ") }
  end,
}

COMMANDS[#COMMANDS + 1] = {
  name = "formats", summary = "The formats the service translates (or takes as glossaries).",
  define = function(cmd)
    cmd:option("--type", "document (default) or glossary."):choices({ "document", "glossary" })
    cmd:flag("--json", "JSON lines.")
  end,
  epilog = "Exit: 0 when the service answered.",
  run = function(ctx, c, a)
    local list = check(c:formats(a.type or "document"))
    if a.json then
      for _, f in ipairs(list) do ctx.out(json.encode(f, ORDERS.format) .. "\n") end
    else
      local rows = {}
      for i, f in ipairs(list) do rows[i] = FORMATS_TABLE.row(f) end
      local layout = cli.layout(FORMATS_TABLE.cols, rows, ctx.tty and ctx.columns or nil, FORMATS_TABLE.reductions)
      ctx.out(cli.render_row(layout) .. "\n")
      for _, r in ipairs(rows) do ctx.out(cli.render_row(layout, r) .. "\n") end
    end
    return cli.EXIT.OK
  end,
}

COMMANDS[#COMMANDS + 1] = {
  name = "failures", summary = "Every failed document, grouped by error code.",
  ids = { "job" },
  define = function(cmd)
    cmd:argument("job", "The job id.")
    cmd:flag("--json", "The report as one JSON object.")
  end,
  epilog = "Exit: 0 when no document failed, 3 when the job failed, 4 when some documents failed.",
  run = function(ctx, c, a)
    local job = check(c:job(a.job))
    local rep = print_report(ctx, job)
    if job_failed(job) then return cli.EXIT.JOB end
    return rep.failed > 0 and cli.EXIT.DOCUMENTS or cli.EXIT.OK
  end,
}

-- The live bar of `watch`: sample(job) reads the job's counts, draw() prints the bar (redrawn in
-- place on a terminal, a plain line when the counts change otherwise), pause(s) sleeps s seconds
-- redrawing the bar four times a second on a terminal, above(line) prints a line above the bar.
local function progress_bar(ctx)
  local b = { t0 = ctx.now() }
  local first_t, first_done, last_plain, p
  function b.sample(job)
    local s = job.summary or {}
    local done = (s.success or 0) + (s.failed or 0) + (s.cancelled or 0)
    local now = ctx.now()
    if first_t == nil or done < first_done then first_t, first_done = now, done end
    local rate, eta
    if now - first_t > 0.5 and done > first_done then
      rate = (done - first_done) / (now - first_t)
      eta = ((s.total or 0) - done) / rate
    end
    p = { status = text.clean(job.status), total = s.total or 0, done = done, success = s.success or 0,
          failed = s.failed or 0, running = s.inProgress or 0, waiting = s.notYetStarted or 0,
          cancelled = s.cancelled or 0, rate = rate, eta = eta, elapsed = now - b.t0, at = now }
  end
  function b.draw()
    if not p then return end
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
        ctx.out(("%7.1fs  %s\n"):format(ctx.now() - b.t0, line))
        ctx.flush()
        last_plain = key
      end
    end
  end
  function b.above(line)
    if ctx.tty then ctx.out("\r\27[2K") end
    ctx.out(line .. "\n")
    b.draw()
  end
  -- the library's poll loops (job:wait, c:watch) sleep through this
  function b.pause(seconds)
    if not ctx.tty then return ctx.sleep(seconds) end
    local until_t = ctx.now() + seconds
    while true do
      local left = until_t - ctx.now()
      if left <= 0 then break end
      ctx.sleep(math.min(left, 0.25))
      b.draw()
    end
  end
  return b
end

-- One line of `watch --documents`: status, id, the target path shortened in the middle, and the
-- error code of a failed document, fitted to the terminal's width.
local function document_line(ctx, d)
  local status = text.pad(text.clean(d.status), 16)
  local id = text.clean(d.id)
  local code = d.error and d.error.code and ("  " .. text.clean(d.error.code)) or ""
  local path = text.clean(d.path or d.sourcePath or "")
  if ctx.tty and ctx.columns then
    local room = ctx.columns - 1 - text.width(status) - text.width(id) - text.width(code) - 4
    path = room >= 8 and text.clip_middle(path, room) or ""
  end
  return status .. "  " .. id .. (path ~= "" and ("  " .. path) or "") .. code
end

-- watch --documents: each document as it ends (c:watch), below the bar on a terminal.
local function watch_documents(ctx, c, a)
  local bar = progress_bar(ctx)
  local quiet = a.json
  local w = c:watch(a.job, {
    interval = a.interval, timeout = a.max_wait, continuation = a.continuation, now = ctx.now,
    sleep = quiet and ctx.sleep or bar.pause,
    on_job = function(job)
      if quiet then return end
      bar.sample(job)
      bar.draw()
    end,
  })
  if not quiet then ctx.out(("watching job %s\n"):format(a.job)) end
  local n = 0
  while true do
    local d, err = w:next()
    if d == nil then
      if ctx.tty and not quiet then ctx.out("\n") end
      if err and err.kind == "job" then -- the job failed or was cancelled: every document was listed
        if not quiet then ctx.out(("job %s %s; %d documents\n"):format(a.job, text.clean(err.job_status), n)) end
        return err.job_status == "Cancelled" and cli.EXIT.OK or cli.EXIT.JOB
      end
      if err then
        if n > 0 then ctx.err("doctranslate: resume with --continuation " .. w:continuation() .. "\n") end
        fail(err)
      end
      break
    end
    n = n + 1
    if quiet then
      ctx.out(json.encode(doc_value(d), ORDERS.document) .. "\n")
      ctx.flush()
    else
      bar.above(document_line(ctx, d))
    end
  end
  local job = w:job()
  if not quiet then ctx.out(("job %s %s; %d documents\n"):format(a.job, text.clean(job.status), n)) end
  return job_code(job, a.strict)
end

COMMANDS[#COMMANDS + 1] = {
  name = "watch", summary = "A live progress bar until the job ends, then the failure report.",
  ids = { "job" },
  define = function(cmd)
    cmd:argument("job", "The job id.")
    cmd:option("--interval", "Seconds between status reads, at least (default: the service's Retry-After).")
      :argname("<S>"):convert(number("interval", 0, 3600))
    cmd:option("--max-wait", "Give up after S seconds (exit 1)."):argname("<S>"):convert(number("max-wait", 0, 1e9))
    cmd:flag("--strict", "Exit 4 when the job succeeded but some documents failed.")
    cmd:flag("--documents", "Print each document once, as it ends (below the bar on a terminal).")
    cmd:flag("--json", "With --documents: JSON lines, one document each, and nothing else.")
    cmd:option("--continuation", "With --documents: go on from a watch that stopped (its token)."):argname("<TOKEN>")
  end,
  epilog = "On a terminal a bar redrawn in place (done of total, counts, rate, ETA); otherwise one\n"
        .. "plain line each time the counts change. Polls no faster than the service's Retry-After.\n"
        .. "With --documents, each document once as it ends (status, id, path, error code); the job\n"
        .. "is polled and only what changed is listed. A watch that fails prints its continuation.\n"
        .. "Exit: 0 when the job ended and was not Failed, 3 when it failed, 4 with --strict when\n"
        .. "some documents failed, 1 on a service or network error or when --max-wait passed.",
  run = function(ctx, c, a)
    if (a.json or a.continuation) and not a.documents then
      usage("watch: --json and --continuation go with --documents")
    end
    if a.documents then return watch_documents(ctx, c, a) end
    local job = check(c:job(a.job))
    local bar = progress_bar(ctx)
    ctx.out(("watching job %s\n"):format(job.id))
    bar.sample(job)
    bar.draw()
    local _, err = job:wait{ interval = a.interval, timeout = a.max_wait, sleep = bar.pause, now = ctx.now,
                             on_progress = function() bar.sample(job) bar.draw() end }
    if ctx.tty then ctx.out("\n") end
    if err then fail(err) end
    ctx.out("\n")
    print_report(ctx, job, 10)
    return job_code(job, a.strict)
  end,
}

-- translate: FILE -> FILE with the language before its extension ("help.docx" -> "help.fr.docx").
function cli.translated_name(path, lang)
  local dir, base = path:match("^(.*/)([^/]*)$")
  if not dir then dir, base = "", path end
  local stem, ext = base:match("^(.+)(%.[^.]+)$")
  if not stem then return path .. "." .. lang end
  return dir .. stem .. "." .. lang .. ext
end

local function mib(n) return ("%.1f MiB"):format((n or 0) / 1048576) end

COMMANDS[#COMMANDS + 1] = {
  name = "translate", summary = "Translate one document now (synchronous); writes FILE.LANG.EXT.",
  define = function(cmd)
    cmd:argument("file", "The document.")
    cmd:option("--to", "The target language (one)."):argname("<LANG>"):count(1)
    cmd:option("--from", "The source language (default: detected)."):argname("<LANG>")
    cmd:option("--glossary", "A glossary file (again for more)."):argname("<FILE>"):count("*")
    cmd:option("--category", "A custom translator category id."):argname("<ID>")
    cmd:flag("--allow-fallback", "Fall back to the general system when the category has no model.")
    cmd:flag("--text-within-image", "Translate the text in images too (2024-11-01-preview on).")
    cmd:option("-o --output", "Where to write the translation (default FILE.LANG.EXT)."):argname("<OUT>")
    cmd:flag("--force", "Overwrite OUT when it exists.")
    cmd:flag("--json", "The result's fields as one JSON object.")
  end,
  epilog = "The file is streamed to the service and the answer to OUT, which is complete or absent:\n"
        .. "never half-written. On a terminal a bar shows the upload and the download.\n"
        .. "Exit: 0 written, 1 on a service or network error, 2 on a usage error (no --to, a file\n"
        .. "that cannot be read, over the 10 MB limit, OUT exists without --force).",
  run = function(ctx, c, a)
    local version = a.api_version or dt.DEFAULT_API_VERSION
    if version:match("^v1%.") then
      usage("translate: API version %s has no single-document translation (2024-05-01 and later do)", version)
    end
    local out = a.output or cli.translated_name(a.file, a.to)
    local fh = io.open(out, "rb")
    if fh then
      fh:close()
      if not a.force then usage("translate: %s exists; give --force to overwrite it", text.clean(out)) end
    end
    local glossaries
    if #a.glossary > 0 then
      glossaries = {}
      for i, g in ipairs(a.glossary) do glossaries[i] = { path = g } end
    end
    local drew = false
    local function progress(phase, done, total)
      if not ctx.tty or a.json then return end
      local pct = (total and total > 0) and ("%3d%%"):format(math.floor(done * 100 / total)) or "    "
      local line = ("%-8s %s  %s%s"):format(phase, pct, mib(done), total and (" of " .. mib(total)) or "")
      ctx.out("\r\27[2K" .. text.clip(line, (ctx.columns or 80) - 1))
      ctx.flush()
      drew = true
    end
    local r, err = c:translate{
      document = { path = a.file }, to = a.to, from = a.from, glossaries = glossaries,
      category = a.category, allow_fallback = a.allow_fallback or nil,
      text_within_image = a.text_within_image or nil, output = out, on_progress = progress,
    }
    if drew then ctx.out("\r\27[2K") end
    check(r, err)
    if a.json then
      ctx.out(json.encode({ output = out, content_type = r.content_type, size = r.size,
                            characters_charged = r.characters_charged,
                            image_scans_succeeded = r.image_scans_succeeded,
                            image_scans_failed = r.image_scans_failed },
                          { [""] = { "output", "content_type", "size", "characters_charged",
                                     "image_scans_succeeded", "image_scans_failed" } }) .. "\n")
    else
      ctx.out(("%s -> %s (%d bytes, %s); %s characters charged\n"):format(text.clean(a.file),
        text.clean(out), r.size or 0, text.clean(r.content_type or "?"), tostring(r.characters_charged or "?")))
    end
    return cli.EXIT.OK
  end,
}

COMMANDS[#COMMANDS + 1] = {
  name = "help", summary = "Help for a command.", no_client = true,
  define = function(cmd) cmd:argument("topic", "The command."):args("?") end,
  run = function(ctx, _, a, help_of)
    local text_of = help_of(a.topic)
    if not text_of then usage("help: unknown command '%s'", text.clip(a.topic, 40)) end
    ctx.out(text_of)
    return cli.EXIT.OK
  end,
}

-- The library functions a command needs (a build of the module without them says so).
local NEEDS = { jobs = "jobs", start = "start", formats = "formats", cancel = "cancel", translate = "translate" }

-- main ------------------------------------------------------------------------------------------

local COMMON_EPILOG = [[
Connection: options (before or after the command) or the environment.
  --endpoint     DOCTRANSLATE_ENDPOINT, AZURE_DOCUMENT_TRANSLATION_ENDPOINT or
                 AZURE_TRANSLATOR_ENDPOINT
  --key          DOCTRANSLATE_KEY, AZURE_DOCUMENT_TRANSLATION_KEY or
                 AZURE_TRANSLATOR_KEY; --key KEY is visible to other users
                 (process list): prefer the environment, --key-file FILE or
                 --key - (the first line of standard input)
                 DOCTRANSLATE_TOKEN: a Microsoft Entra token instead of a key
  --region       DOCTRANSLATE_REGION, AZURE_DOCUMENT_TRANSLATION_REGION or
                 AZURE_TRANSLATOR_REGION
  --api-version  DOCTRANSLATE_API_VERSION
  --ca-file      DOCTRANSLATE_CA_FILE

Exit codes:
  0  ok
  1  the command failed: a service, network or internal error
  2  usage: unknown command or option, missing or malformed argument
  3  the job failed (Failed, ValidationFailed)
  4  some documents failed (doc, failures; status and watch with --strict)]]

local HELP = {} -- raised through argparse by -h / --help

--- The argument parser (lua-argparse) of the whole command line.
-- @tparam[opt] function on_help called with the argparse command whose `-h`/`--help` was given
-- (it should raise to stop the parse)
-- @treturn table the parser
-- @treturn table the argparse command of each subcommand, by name
function cli.parser(on_help)
  local defaults = require("doctranslate.core").DEFAULTS
  local function help_flag(cmd)
    cmd:add_help(false)
    cmd:flag("-h --help", "Show this help and exit."):action(function()
      if on_help then on_help(cmd) end
    end)
  end
  local p = argparse("doctranslate", "Check on Azure AI Translator Document Translation jobs.")
  p:help_max_width(80):usage_max_width(80)
  help_flag(p)
  p:command_target("command")
  p:require_command(false)
  p:option("--endpoint", "https://<resource>.cognitiveservices.azure.com"):argname("<URL>")
  local key = p:option("--key", "The resource key ('-': the first line of standard input)."):argname("<KEY>")
  local key_file = p:option("--key-file", "Read the key from the first line of FILE."):argname("<FILE>")
  p:mutex(key, key_file)
  p:option("--region", "The resource's region."):argname("<REGION>")
  p:option("--api-version", "Default " .. dt.DEFAULT_API_VERSION .. "."):argname("<V>"):choices(dt.API_VERSIONS)
  p:option("--ca-file", "Trust the CAs of this PEM file (the emulator's)."):argname("<PATH>")
  p:flag("--insecure", "Do not verify TLS certificates.")
  p:option("--timeout", ("Seconds per request (default %g)."):format(defaults.timeout)):argname("<S>")
    :convert(number("timeout", 0.001, 86400))
  p:option("--retries", ("Retries of one request (default %d)."):format(defaults.retries)):argname("<N>")
    :convert(integer("retries", 0, 100))
  p:flag("-v --verbose", "Errors in full, and one log line per request on stderr."):count("*")
  local tty = p:flag("--tty", "Terminal output (tables fitted to the width, a live bar).")
  local no_tty = p:flag("--no-tty", "Plain output (default when stdout is not a terminal).")
  p:mutex(tty, no_tty)
  p:flag("--version", "Print the version and exit.")
  p:epilog(COMMON_EPILOG)
  local by_name = {}
  for _, entry in ipairs(COMMANDS) do
    local cmd = p:command(entry.name, entry.summary)
    help_flag(cmd)
    entry.define(cmd)
    cmd:epilog((entry.epilog and (entry.epilog .. "\n\n") or "") .. COMMON_EPILOG)
    by_name[entry.name] = cmd
  end
  return p, by_name
end

--- Runs the command line.
-- @tparam table argv arguments after the program name
-- @tparam[opt] table env { stdout =, stderr =, getenv =, stdin =, now =, sleep =,
-- tty = true|false|nil, `stderr_tty` = true|false|nil, columns = }
-- @treturn number the exit code (`cli.EXIT`)
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
    now = now, sleep = sleep, verbose = 0,
  }
  local function say_error(lines)
    stderr:write(table.concat(lines, "\n"), "\n")
  end
  local ok, result = pcall(function()
    local help_cmd
    local parser, by_name = cli.parser(function(cmd)
      help_cmd = cmd
      error(HELP, 0)
    end)
    local function help_of(name)
      if name == nil then return parser:get_help() .. "\n" end
      return by_name[name] and (by_name[name]:get_help() .. "\n") or nil
    end
    local done, parsed, a = pcall(parser.pparse, parser, argv)
    if not done then
      if help_cmd then
        ctx.out(help_cmd:get_help() .. "\n")
        return cli.EXIT.OK
      end
      error(parsed, 0)
    end
    if not parsed then usage("%s", (a:gsub("[^\n]+", text.clean))) end
    if a.version and not a.command then
      ctx.out(("doctranslate %s (%s)\n"):format(dt.VERSION, (dt.curl_version or ""):match("^%S*")))
      return cli.EXIT.OK
    end
    if not a.command then usage("a command is required") end
    local entry
    for _, e in ipairs(COMMANDS) do
      if e.name == a.command then entry = e end
    end
    ctx.args = a
    ctx.verbose = a.verbose or 0
    if entry.no_client then return entry.run(ctx, nil, a, help_of) end
    if a.tty then ctx.tty = true elseif a.no_tty then ctx.tty = false
    elseif env.tty ~= nil then ctx.tty = env.tty else ctx.tty = cli.stdout_is_terminal(getenv) end
    if env.stderr_tty ~= nil then ctx.stderr_tty = env.stderr_tty
    else ctx.stderr_tty = cli.stderr_is_terminal(getenv) end
    ctx.columns = env.columns or tonumber(getenv("COLUMNS") or "") or (ctx.tty and cli.terminal_columns()) or 80
    local copts = cli.client_options(a, getenv, env.stdin)
    local version = copts.api_version or dt.DEFAULT_API_VERSION
    for _, name in ipairs(entry.ids or {}) do
      if not cli.valid_id(a[name], version) then
        usage("%s: '%s' is not a %s id: API version %s takes a GUID (like 0aea2ca5-0e55-4338-b701-f53ea3891e5c)",
              entry.name, text.clip(a[name], 40), name == "doc" and "document" or name, version)
      end
    end
    copts.log = make_log(ctx)
    local c = dt.new(copts)
    if NEEDS[entry.name] and c[NEEDS[entry.name]] == nil then
      usage("%s: this build of the doctranslate module has no c:%s()", entry.name, NEEDS[entry.name])
    end
    local code = entry.run(ctx, c, a)
    if c.close then c:close() end
    return code
  end)
  stdout:flush()
  if ok then return result end
  local hint = "(doctranslate --help, or doctranslate COMMAND --help)"
  if getmetatable(result) == usage_mt then
    say_error({ "doctranslate: " .. result.message, hint })
    return cli.EXIT.USAGE
  end
  local err = result
  if getmetatable(result) == service_mt then err = result.err end
  if is_usage(err) then
    local msg = library_usage(err) or (type(err) == "table" and err.message) or err
    say_error({ "doctranslate: " .. text.clean(tostring(msg)) })
    return cli.EXIT.USAGE
  end
  if dt.is_error(err) then
    say_error(cli.error_lines(err, ctx.verbose > 0))
    return cli.EXIT.ERROR
  end
  if tostring(result):find("interrupted!", 1, true) then -- Ctrl-C: end the line a bar may be on
    if ctx.tty then stdout:write("\n") end
    say_error({ "doctranslate: interrupted" })
    return 130
  end
  say_error({ "doctranslate: internal error: " .. text.clean(tostring(result)) })
  return cli.EXIT.ERROR
end

return cli
