-- The Document Translation service's routes: parameters, validation, bodies.
-- Handlers return status, body (string or nil) and a table of extra headers; app.lua delivers them.
local cjson = require "cjson.safe"
local util = require "emulator.util"
local model = require "emulator.model"
local store = require "emulator.store"
local query = require "emulator.query"
local formats = require "emulator.formats"
local pagecache = require "emulator.pagecache"

local floor, min, max = math.floor, math.min, math.max
local concat = table.concat
local json_string, int = util.json_string, util.int

local M = {}

M.V1 = { ["v1.0-preview.1"] = true, ["v1.0"] = true, ["v1.1"] = true }
M.V2024 = { ["2024-05-01"] = true, ["2024-11-01-preview"] = true, ["2026-03-01"] = true }
local V2024_LIST = "2024-05-01, 2024-11-01-preview, 2026-03-01"
local INT32 = 2147483647

---------------------------------------------------------------------------------------------------
-- Error bodies

-- {"error": {"code", "message", "target", "innerError": {"code", "message"}}}
function M.error_body(code, message, target, inner_code, inner_message)
  return '{"error":' .. model.error_json(code, message, target, inner_code, inner_message) .. "}"
end
local error_body = M.error_body

M.BODY_401 = '{"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong API ' ..
  'endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API ' ..
  'endpoint for your resource."}}'
M.BODY_404 = '{"error":{"code":"404","message":"Resource not found"}}'

local function bad(message, target, inner_code)
  return 400, error_body("InvalidArgument", message, target, inner_code or "InvalidQueryParameterValue")
end

local function not_found_job(id)
  return 404, error_body("ResourceNotFound", "The requested translation job was not found.", "Operation",
    "BatchNotFound", "No translation job with id '" .. id .. "' exists.")
end

---------------------------------------------------------------------------------------------------
-- Routing

-- Splits the path into family, version and operation. Returns nil for paths outside the service.
function M.route(uri, method)
  local r = {}
  local ver, rest = uri:match("^/translator/text/batch/([^/]+)(.*)$")
  if ver then
    r.family, r.version = "v1", ver
  else
    rest = uri:match("^/translator/document(/.*)$")
    if not rest then return nil end
    r.family = "2024"
  end
  r.rest = rest
  local id, doc
  if rest == "/batches" then
    r.name = method == "POST" and "start" or "jobs"
    r.methods = { GET = true, POST = true }
  elseif rest:match("^/batches/[^/]+$") then
    id = rest:match("^/batches/([^/]+)$")
    r.name = method == "DELETE" and "cancel" or "job"
    r.methods = { GET = true, DELETE = true }
  elseif rest:match("^/batches/[^/]+/documents$") then
    id = rest:match("^/batches/([^/]+)/documents$")
    r.name = "documents"
  elseif rest:match("^/batches/[^/]+/documents/[^/]+$") then
    id, doc = rest:match("^/batches/([^/]+)/documents/([^/]+)$")
    r.name = "document"
  elseif r.family == "v1" and rest == "/documents/formats" then
    r.name, r.format_type = "formats", "document"
  elseif r.family == "v1" and rest == "/glossaries/formats" then
    r.name, r.format_type = "formats", "glossary"
  elseif r.family == "v1" and rest == "/storagesources" then
    r.name = "storagesources"
  elseif r.family == "2024" and rest == "/formats" then
    r.name = "formats"
  end
  r.methods = r.methods or { GET = true }
  r.job_id, r.doc_id = id, doc
  return r
end

-- Version and method checks; returns nil when the request may go on, else status, body.
function M.check_version(r, params)
  if r.family == "v1" then
    if not M.V1[r.version] then return 404, M.BODY_404 end
  else
    local values = query.all(params, "api-version")
    local v = values[#values]
    if v == nil or v == true or v == "" then
      return 400, error_body("InvalidRequest", "The api-version query parameter is required. Supported values: " ..
        V2024_LIST .. ".", "api-version", "MissingApiVersion")
    end
    if not M.V2024[v] then
      return 404, error_body("ResourceNotFound", "The api-version '" .. v .. "' is not supported. Supported values: " ..
        V2024_LIST .. ".", "api-version", "UnsupportedApiVersion")
    end
    r.version = v
  end
  if not r.name or not r.methods[ngx.req.get_method()] then return 404, M.BODY_404 end
  return nil
end

---------------------------------------------------------------------------------------------------
-- List parameters

local PAGING = { top = true, skip = true, maxpagesize = true,
                 ["$top"] = true, ["$skip"] = true, ["$maxpagesize"] = true, ["api-version"] = true }

-- The single value of a parameter that may be spelt several ways; nil when absent.
local function scalar(params, lnames)
  local value, name
  for _, p in ipairs(params) do
    if lnames[p.lname] then
      if value ~= nil and p.value ~= value then
        return nil, nil, bad("Query parameter '" .. p.name .. "' is given more than once with different values.",
          p.name, "DuplicateQueryParameter")
      end
      value, name = p.value, p.name
    end
  end
  return value, name
end

local function integer(value, name, lo, hi)
  if value == true or type(value) ~= "string" or not value:match("^%d+$") or #value > 10 then
    return nil, bad("The value '" .. tostring(value == true and "" or value) .. "' of query parameter '" .. name ..
      "' is invalid: expected an integer between " .. lo .. " and " .. hi .. ".", name)
  end
  local n = tonumber(value)
  if n < lo or n > hi then
    return nil, bad("The value '" .. value .. "' of query parameter '" .. name .. "' is out of range: expected " ..
      lo .. " to " .. hi .. ".", name)
  end
  return n
end

-- Comma lists, over every occurrence of the parameter. Returns the items and the name as sent.
local function list_values(params, lname)
  local items, name = {}, nil
  for _, p in ipairs(params) do
    if p.lname == lname then
      name = p.name
      if p.value ~= true then
        for item in p.value:gmatch("[^,]+") do
          item = item:match("^%s*(.-)%s*$")
          if item ~= "" then items[#items + 1] = item end
        end
      end
    end
  end
  return items, name
end

-- Parses and validates paging, filter and order parameters. Returns p, or nil, status, body.
function M.list_params(r, params)
  local v1 = r.family == "v1"
  local p = { skip = 0, size = 50, order = "created", desc = true, carry = {} }
  if v1 then
    for _, q in ipairs(params) do
      if q.lname == "top" or q.lname == "skip" or q.lname == "maxpagesize" or q.lname == "orderby" then
        local status, body = bad("Query parameter '" .. q.name .. "' is not supported in API version " ..
          r.version .. "; use '$" .. q.lname .. "'.", q.name, "UnsupportedQueryParameter")
        return nil, status, body
      end
    end
  end
  local function names(base)
    if v1 then return { ["$" .. base] = true } end
    return { [base] = true, ["$" .. base] = true }
  end
  local value, name, status, body
  value, name, status, body = scalar(params, names("top"))
  if status then return nil, status, body end
  if value ~= nil then
    p.top, status, body = integer(value, name, 0, INT32)
    if not p.top then return nil, status, body end
  end
  value, name, status, body = scalar(params, names("skip"))
  if status then return nil, status, body end
  if value ~= nil then
    p.skip, status, body = integer(value, name, 0, INT32)
    if not p.skip then return nil, status, body end
  end
  value, name, status, body = scalar(params, names("maxpagesize"))
  if status then return nil, status, body end
  if value ~= nil then
    p.size, status, body = integer(value, name, 1, 100)
    if not p.size then return nil, status, body end
  end
  -- order
  local orders, oname = {}, nil
  for _, q in ipairs(params) do
    if q.lname == "$orderby" or (not v1 and q.lname == "orderby") then
      oname = q.name
      if q.value == true then
        status, body = bad("Query parameter '" .. q.name .. "' needs a value such as 'createdDateTimeUtc desc'.",
          q.name)
        return nil, status, body
      end
      for item in q.value:gmatch("[^,]+") do orders[#orders + 1] = item end
    end
  end
  if v1 and #orders > 1 then
    status, body = bad("Query parameter '" .. oname .. "' accepts a single item in API version " .. r.version .. ".",
      oname, "TooManyOrderByItems")
    return nil, status, body
  end
  for k, item in ipairs(orders) do
    local field, dir = item:match("^%s*(%S+)%s*(%a*)%s*$")
    local lf = field and field:lower()
    local ld = dir and dir:lower()
    if not lf or (lf ~= "createddatetimeutc" and lf ~= "lastactiondatetimeutc") or
       (ld ~= "" and ld ~= "asc" and ld ~= "desc") then
      status, body = bad("The value '" .. item .. "' of query parameter '" .. oname .. "' is invalid: expected " ..
        "'createdDateTimeUtc' or 'lastActionDateTimeUtc', optionally followed by 'asc' or 'desc'.", oname,
        "InvalidOrderBy")
      return nil, status, body
    end
    if k == 1 then
      p.order = lf == "createddatetimeutc" and "created" or "lastAction"
      p.desc = ld == "desc"
    end
  end
  -- statuses
  local items, sname = list_values(params, "statuses")
  if #items > 0 then
    local set, count = {}, 0
    for _, item in ipairs(items) do
      local c = model.canonical_status(item)
      if not c then
        status, body = bad("The value '" .. item .. "' of query parameter '" .. sname .. "' is not a status. " ..
          "Allowed: NotStarted, Running, Succeeded, Failed, Cancelled (or Canceled), Cancelling, ValidationFailed.",
          sname, "InvalidStatus")
        return nil, status, body
      end
      if not set[c] then count = count + 1 end
      set[c] = true
    end
    if v1 and count > 5 then
      status, body = bad("Query parameter '" .. sname .. "' accepts at most 5 statuses in API version " ..
        r.version .. ".", sname, "TooManyStatuses")
      return nil, status, body
    end
    p.statuses = set
  end
  -- ids
  local ids, iname = list_values(params, "ids")
  if #ids > 0 then
    for _, id in ipairs(ids) do
      if not util.is_uuid(id) then
        status, body = bad("The value '" .. id .. "' in query parameter '" .. iname .. "' is not a valid GUID.",
          iname, "InvalidId")
        return nil, status, body
      end
    end
    if v1 and #ids > 25 then
      status, body = bad("Query parameter '" .. iname .. "' accepts at most 25 ids in API version " .. r.version ..
        ".", iname, "TooManyIds")
      return nil, status, body
    end
    for k, id in ipairs(ids) do ids[k] = id:lower() end
    p.ids = ids
  end
  -- created date range
  for _, which in ipairs({ "createddatetimeutcstart", "createddatetimeutcend" }) do
    value, name, status, body = scalar(params, { [which] = true })
    if status then return nil, status, body end
    if value ~= nil then
      local t = util.parse_date(value)
      if not t then
        status, body = bad("The value '" .. tostring(value) .. "' of query parameter '" .. name ..
          "' is not a valid ISO-8601 date-time.", name, "InvalidDateTime")
        return nil, status, body
      end
      if which == "createddatetimeutcstart" then p.lo = t else p.hi = t end
    end
  end
  for _, q in ipairs(params) do
    if not PAGING[q.lname] then p.carry[#p.carry + 1] = q.raw end
  end
  return p
end

---------------------------------------------------------------------------------------------------
-- Next links

-- Style words: "@nextLink" | "nextLink" | "both" (which keys), "relative" | "absolute", "null"
-- (null on the last page). Several words may be combined with commas: "nextLink,relative".
local style_cache = {}
local function parse_style(text)
  local st = style_cache[text]
  if st then return st end
  st = { keys = { "@nextLink" }, relative = false, null = false }
  for word in tostring(text):gmatch("[^,%s+]+") do
    local w = word:lower()
    if w == "@nextlink" then st.keys = { "@nextLink" }
    elseif w == "nextlink" then st.keys = { "nextLink" }
    elseif w == "both" then st.keys = { "@nextLink", "nextLink" }
    elseif w == "relative" then st.relative = true
    elseif w == "absolute" then st.relative = false
    elseif w == "null" then st.null = true
    end
  end
  style_cache[text] = st
  return st
end
M.parse_style = parse_style

function M.valid_style(text)
  if type(text) ~= "string" then return false end
  for word in text:gmatch("[^,%s+]+") do
    local w = word:lower()
    if w ~= "@nextlink" and w ~= "nextlink" and w ~= "both" and w ~= "relative" and w ~= "absolute" and
       w ~= "null" then
      return false
    end
  end
  return true
end

local function base_url()
  local host = ngx.var.http_host
  if not host or host == "" then host = ngx.var.server_addr .. ":" .. ngx.var.server_port end
  return ngx.var.scheme .. "://" .. host
end
M.base_url = base_url

local function request_path()
  local uri = ngx.var.request_uri
  local q = uri:find("?", 1, true)
  return q and uri:sub(1, q - 1) or uri
end

-- Link to the page at skip with the given top.
function M.link(r, p, skip, top, style)
  local q
  if r.family == "v1" then
    q = { "$skip=" .. int(skip), "$top=" .. int(top), "$maxpagesize=" .. int(p.size) }
  else
    q = { "skip=" .. int(skip), "top=" .. int(top), "maxpagesize=" .. int(p.size) }
  end
  for _, raw in ipairs(p.carry) do q[#q + 1] = raw end
  if r.family ~= "v1" then q[#q + 1] = "api-version=" .. r.version end
  local rel = request_path() .. "?" .. concat(q, "&")
  if style.relative then return rel end
  return base_url() .. rel
end

-- Ends a page in a buffer after its "]": the next link (string, or nil on the last page), "}".
local function page_end(b, link, style)
  if link then
    local enc = json_string(link)
    for _, k in ipairs(style.keys) do b:put(',"', k, '":', enc) end
  elseif style.null then
    for _, k in ipairs(style.keys) do b:put(',"', k, '":null') end
  end
  return b:put("}"):get()
end

-- Serialises a page: items (array of JSON texts) and the next link (string, or nil on the last page).
local page_buf = util.buffer()
function M.page_body(items, link, style)
  return page_end(page_buf:reset():put('{"value":[', concat(items, ","), "]"), link, style)
end

-- The window of ranks a request covers: first rank, count, and the next page's skip and top (or nil).
local function window(total, p)
  local avail = max(0, total - p.skip)
  local want = p.top and min(p.top, avail) or avail
  local len = min(want, p.size)
  local rest = want - len
  if rest > 0 then return p.skip, len, p.skip + len, rest end
  return p.skip, len, nil, nil
end
M.window = window

---------------------------------------------------------------------------------------------------
-- Handlers

local function lookup_job(r)
  local id = r.job_id
  if not util.is_uuid(id) then
    return nil, bad("The job id '" .. id .. "' is not a valid GUID.", "id", "InvalidJobId")
  end
  local spec = store.job(id:lower())
  if not spec then return nil, not_found_job(id) end
  return spec
end

local function now_state(spec)
  local now = util.now_ticks()
  local t = model.vtime(spec, now)
  return model.state(spec, t), t
end

function M.job(_, r)
  local spec, status, body = lookup_job(r)
  if not spec then return status, body end
  local now = util.now_ticks()
  local t = model.vtime(spec, now)
  local headers = { ["Retry-After"] = "1" }
  local settings = store.settings()
  if settings.stale or spec.stale then
    local every = max(2, floor(tonumber(settings.stale_every) or 3))
    local n = ngx.shared.emulator:incr("stale:" .. spec.id, 1, 0)
    if n % every == 0 then
      local secs = tonumber(settings.stale_seconds) or 2
      t = t - util.seconds(secs)
      headers.Age = tostring(floor(secs))
    end
  end
  return 200, model.job_json(spec, model.state(spec, t)), headers
end

function M.document(_, r)
  local spec, status, body = lookup_job(r)
  if not spec then return status, body end
  local id = r.doc_id
  if not util.is_uuid(id) then
    return bad("The document id '" .. id .. "' is not a valid GUID.", "documentId", "InvalidDocumentId")
  end
  local i = model.doc_index(spec, id)
  if not i then
    if r.family == "v1" then
      return 404, error_body("ResourceNotFound", "The requested document was not found.", "Document",
        "DocumentNotFound", "No document with id '" .. id .. "' in job '" .. spec.id .. "'.")
    end
    return 404, nil -- 2024-05-01 answered an unknown document id with an empty 404
  end
  local st = now_state(spec)
  return 200, model.doc_json(spec, st, i), { ["Retry-After"] = "1" }
end

local function style_for(spec)
  local s = (spec and spec.next_link) or store.settings().next_link or "@nextLink"
  return parse_style(s)
end

function M.documents(ctx, r, params)
  local spec, status, body = lookup_job(r)
  if not spec then return status, body end
  local p
  p, status, body = M.list_params(r, params)
  if not p then return status, body end
  local st = now_state(spec)
  -- The pages of an ended job never change: without a fault, they come from the page cache.
  -- The page is named by what shapes it: scheme and Host (absolute next links), path and query
  -- as sent; the job and the settings are fixed while the cache lives.
  local base, uri, settings
  if not ctx.fault and model.TERMINAL[st.status] then
    settings = store.settings()
    base, uri = base_url(), ngx.var.request_uri
    local cached, etag = pagecache.get(base, uri, settings)
    if cached then
      ctx.etag_body, ctx.etag = cached, etag
      return 200, cached, { ["Retry-After"] = "1" }
    end
  end
  local sel = model.select(spec, st, { statuses = p.statuses, lo = p.lo, hi = p.hi, order = p.order,
                                       desc = p.desc, ids = p.ids })
  local style = style_for(spec)
  local first, len, next_skip, next_top = window(sel.total, p)
  local fault = ctx.fault
  local action = fault and fault.action
  if not action then
    -- the documents go straight into one buffer, then the next link
    local b = page_buf:reset():put('{"value":[')
    for k = 0, len - 1 do
      if k > 0 then b:put(",") end
      model.doc_put(b, spec, st, model.at(spec, sel, first + k))
    end
    b:put("]")
    local link = next_skip and M.link(r, p, next_skip, next_top, style) or nil
    body = page_end(b, link, style)
  else
    local items = {}
    if action == "empty_pages" then
      next_skip, next_top = p.skip + p.size, max(1, (p.top or INT32) - p.size)
    else
      for k = 0, len - 1 do
        items[k + 1] = model.doc_json(spec, st, model.at(spec, sel, first + k))
      end
      if action == "repeat_doc" and len > 0 then
        if first > 0 then
          items[1] = model.doc_json(spec, st, model.at(spec, sel, first - 1))
        else
          items[len] = items[1]
        end
      end
    end
    local link = next_skip and M.link(r, p, next_skip, next_top, style) or nil
    link = M.fault_link(ctx, r, p, link, style)
    body = M.page_body(items, link, style)
  end
  if base then
    local etag = util.etag(body, settings)
    pagecache.put(base, uri, body, etag, settings)
    ctx.etag_body, ctx.etag = body, etag
  end
  return 200, body, { ["Retry-After"] = "1" }
end

-- Next-link faults: foreign_next, loop_next, pingpong_next.
function M.fault_link(ctx, r, p, link, style)
  local f = ctx.fault
  if f.action == "foreign_next" then
    return f.next or "http://127.0.0.2:9/elsewhere"
  elseif f.action == "loop_next" then
    return (style.relative and "" or base_url()) .. ngx.var.request_uri
  elseif f.action == "pingpong_next" then
    if ctx.fault_page == (f.page or 1) + 1 then
      local back = max(0, p.skip - p.size)
      return M.link(r, p, back, (p.top or INT32) + p.size, style)
    end
  end
  return link
end

function M.jobs(ctx, r, params)
  local p, status, body = M.list_params(r, params)
  if not p then return status, body end
  local now = util.now_ticks()
  local idset
  if p.ids then
    idset = {}
    for _, id in ipairs(p.ids) do idset[id] = true end
  end
  -- Jobs in the listing's order. A plain listing comes straight from the sorted cache; the state of
  -- every job is computed only to filter by status or to order by last action.
  local specs
  local sorted = store.jobs_by_created()
  if p.desc then
    specs = {}
    for k = #sorted, 1, -1 do specs[#specs + 1] = sorted[k] end
  else
    specs = sorted
  end
  local states = {}
  if idset or p.lo or p.hi or p.statuses or p.order ~= "created" then
    local kept = {}
    for _, spec in ipairs(specs) do
      if (not idset or idset[spec.id]) and (not p.lo or spec.created >= p.lo) and
         (not p.hi or spec.created <= p.hi) then
        local st
        if p.statuses or p.order ~= "created" then
          st = model.state(spec, model.vtime(spec, now))
          states[spec] = st
        end
        if not p.statuses or p.statuses[st.status] then kept[#kept + 1] = spec end
      end
    end
    specs = kept
    if p.order ~= "created" then
      local desc = p.desc
      table.sort(specs, function(a, b)
        local ka, kb = states[a].la, states[b].la
        if ka ~= kb then
          if desc then return ka > kb end
          return ka < kb
        end
        if desc then return a.num > b.num end
        return a.num < b.num
      end)
    end
  end
  local function job_at(k) -- 1-based
    local spec = specs[k]
    local st = states[spec] or model.state(spec, model.vtime(spec, now))
    return model.job_json(spec, st)
  end
  local first, len, next_skip, next_top = window(#specs, p)
  local items = {}
  local action = ctx.fault and ctx.fault.action
  if action ~= "empty_pages" then
    for k = 1, len do items[k] = job_at(first + k) end
    if action == "repeat_doc" and len > 0 then
      if first > 0 then
        items[1] = job_at(first)
      else
        items[len] = items[1]
      end
    end
  else
    next_skip, next_top = p.skip + p.size, max(1, (p.top or INT32) - p.size)
  end
  local style = style_for(nil)
  local link = next_skip and M.link(r, p, next_skip, next_top, style) or nil
  if action then link = M.fault_link(ctx, r, p, link, style) end
  return 200, M.page_body(items, link, style), { ["Retry-After"] = "1" }
end

function M.formats(_, r, params)
  if r.family == "v1" then
    return 200, r.format_type == "glossary" and formats.v1_glossary or formats.v1_document
  end
  local values, names = query.all(params, "type")
  local v = values[#values]
  if v == nil then return 200, formats.all end
  local lv = type(v) == "string" and v:lower() or ""
  if lv == "document" then return 200, formats.document end
  if lv == "glossary" then return 200, formats.glossary end
  return bad("The value '" .. tostring(v == true and "" or v) .. "' of query parameter '" .. names[#names] ..
    "' is invalid: expected 'document' or 'glossary'.", names[#names], "InvalidFormatType")
end

function M.storagesources()
  return 200, formats.storage_sources
end

---------------------------------------------------------------------------------------------------
-- Start (POST /batches) and cancel (DELETE /batches/{id})

local function invalid(message, target, inner_code)
  return 400, error_body("InvalidRequest", message, target, inner_code or "InvalidDocumentTranslationRequest")
end

local function strip_url(u)
  u = u:gsub("[?#].*$", "")
  u = u:gsub("/+$", "")
  return u
end

local function read_body()
  ngx.req.read_body()
  local data = ngx.req.get_body_data()
  if not data then
    local file = ngx.req.get_body_file()
    if file then
      local fh = io.open(file, "rb")
      if fh then
        data = fh:read("*a")
        fh:close()
      end
    end
  end
  return data
end

local function is_url(v)
  return type(v) == "string" and v:match("^https?://[^/%s]+") ~= nil
end

-- Validates a StartTranslationDetails body. Returns the decoded table, or nil, status, body.
function M.validate_start(r, data)
  if not data or data == "" then
    local s, b = invalid("The request body is empty: a JSON object with 'inputs' is required.", "body",
      "InvalidRequestBody")
    return nil, s, b
  end
  local doc = cjson.decode(data)
  if type(doc) ~= "table" or doc[1] ~= nil then
    local s, b = invalid("The request body is not a valid JSON object.", "body", "InvalidRequestBody")
    return nil, s, b
  end
  local inputs = doc.inputs
  if type(inputs) ~= "table" or inputs[1] == nil then
    local s, b = invalid("The field 'inputs' is required and must be a non-empty array.", "inputs", "MissingInputs")
    return nil, s, b
  end
  for k, input in ipairs(inputs) do
    local at = "inputs[" .. (k - 1) .. "]"
    if type(input) ~= "table" then
      local s, b = invalid("The field '" .. at .. "' must be an object.", at)
      return nil, s, b
    end
    local src = input.source
    if type(src) ~= "table" then
      local s, b = invalid("The field '" .. at .. ".source' is required.", at .. ".source", "MissingSource")
      return nil, s, b
    end
    if not is_url(src.sourceUrl) then
      local s, b = invalid("The field '" .. at .. ".source.sourceUrl' is required and must be an absolute URL.",
        at .. ".source.sourceUrl", "InvalidSourceUrl")
      return nil, s, b
    end
    if src.storageSource ~= nil and src.storageSource ~= "AzureBlob" then
      local s, b = invalid("The field '" .. at .. ".source.storageSource' must be 'AzureBlob'.",
        at .. ".source.storageSource")
      return nil, s, b
    end
    if src.filter ~= nil and type(src.filter) ~= "table" then
      local s, b = invalid("The field '" .. at .. ".source.filter' must be an object.", at .. ".source.filter")
      return nil, s, b
    end
    if input.storageType ~= nil and input.storageType ~= "Folder" and input.storageType ~= "File" then
      local s, b = invalid("The field '" .. at .. ".storageType' must be 'Folder' or 'File'.", at .. ".storageType",
        "InvalidStorageType")
      return nil, s, b
    end
    local targets = input.targets
    if type(targets) ~= "table" or targets[1] == nil then
      local s, b = invalid("The field '" .. at .. ".targets' is required and must be a non-empty array.",
        at .. ".targets", "MissingTargets")
      return nil, s, b
    end
    if #targets > 10 then
      local s, b = 400, error_body("InvalidArgument", "The field '" .. at .. ".targets' has " .. #targets ..
        " targets; at most 10 are allowed.", at .. ".targets", "TooManyTargets")
      return nil, s, b
    end
    for j, tg in ipairs(targets) do
      local tat = at .. ".targets[" .. (j - 1) .. "]"
      if type(tg) ~= "table" then
        local s, b = invalid("The field '" .. tat .. "' must be an object.", tat)
        return nil, s, b
      end
      if not is_url(tg.targetUrl) then
        local s, b = invalid("The field '" .. tat .. ".targetUrl' is required and must be an absolute URL.",
          tat .. ".targetUrl", "InvalidTargetUrl")
        return nil, s, b
      end
      if type(tg.language) ~= "string" or not tg.language:match("^%a%a%a?[%w%-]*$") then
        local s, b = invalid("The field '" .. tat .. ".language' is required and must be a language code.",
          tat .. ".language", "InvalidTargetLanguage")
        return nil, s, b
      end
      if tg.glossaries ~= nil then
        if type(tg.glossaries) ~= "table" then
          local s, b = invalid("The field '" .. tat .. ".glossaries' must be an array.", tat .. ".glossaries")
          return nil, s, b
        end
        for g, gl in ipairs(tg.glossaries) do
          local gat = tat .. ".glossaries[" .. (g - 1) .. "]"
          if type(gl) ~= "table" or not is_url(gl.glossaryUrl) then
            local s, b = invalid("The field '" .. gat .. ".glossaryUrl' is required and must be an absolute URL.",
              gat .. ".glossaryUrl", "InvalidGlossaryUrl")
            return nil, s, b
          end
          if type(gl.format) ~= "string" or gl.format == "" then
            local s, b = invalid("The field '" .. gat .. ".format' is required.", gat .. ".format",
              "InvalidGlossaryFormat")
            return nil, s, b
          end
        end
      end
    end
  end
  if r.family ~= "v1" and doc.options ~= nil then
    if type(doc.options) ~= "table" or (doc.options.experimental ~= nil and type(doc.options.experimental) ~= "boolean")
    then
      local s, b = invalid("The field 'options.experimental' must be a boolean.", "options.experimental")
      return nil, s, b
    end
  end
  return doc
end

function M.start(_, r)
  local doc, status, body = M.validate_start(r, read_body())
  if not doc then return status, body end
  local settings = store.settings()
  local first = doc.inputs[1]
  local targets = {}
  for _, tg in ipairs(first.targets) do
    targets[#targets + 1] = { url = strip_url(tg.targetUrl), lang = tg.language }
  end
  local n = math.floor(tonumber(settings.start_documents) or 20)
  local all_files = true
  for _, input in ipairs(doc.inputs) do
    if input.storageType ~= "File" then all_files = false end
  end
  local source = strip_url(first.source.sourceUrl)
  if all_files then
    n = #targets
    source = source:gsub("/[^/]*$", "")
  end
  local status_final, err = "Succeeded", nil
  if first.source.sourceUrl:find("validation-failed", 1, true) then
    status_final = "ValidationFailed"
    err = model.VALIDATION_ERROR
  end
  local now = store.creation_ticks(util.now_ticks(), 1, 0)
  local spec = model.new_spec({
    id = util.uuid(), num = store.next_job_number(), documents = n,
    fail_every = math.floor(tonumber(settings.start_fail_every) or 0), status = status_final,
    duration = tonumber(settings.start_duration) or 8, source = source, targets = targets,
    cancel_delay = tonumber(settings.cancel_delay) or 1, kind = "started", error = err,
    uncounted = settings.uncounted == true, not_started = tonumber(settings.start_not_started),
  }, now)
  local ok, serr = store.put_job(spec, true)
  if not ok then
    return 500, error_body("InternalServerError", "The emulator could not store the job: " .. tostring(serr),
      "Operation", "InternalServerError")
  end
  local loc
  if r.family == "v1" then
    loc = base_url() .. "/translator/text/batch/" .. r.version .. "/batches/" .. spec.id
    return 202, nil, { ["Operation-Location"] = loc }
  end
  loc = base_url() .. "/translator/document/batches/" .. spec.id .. "?api-version=" .. r.version
  return 202, '{"id":' .. json_string(spec.id) .. ',"status":"NotStarted"}', { ["Operation-Location"] = loc }
end

function M.cancel(_, r)
  local spec, status, body = lookup_job(r)
  if not spec then return status, body end
  local now = util.now_ticks()
  local t = model.vtime(spec, now)
  local st = model.state(spec, t)
  if model.TERMINAL[st.status] then
    return r.family == "v1" and 400 or 409, error_body("InvalidRequest", "The translation job '" .. spec.id ..
      "' has already ended with status " .. st.status .. " and cannot be cancelled.", "Operation",
      "JobAlreadyEnded")
  end
  if st.status ~= "Cancelling" then
    local text = ngx.shared.emulator:get("job:" .. spec.id)
    local fresh = text and cjson.decode(text)
    if not fresh then return not_found_job(spec.id) end
    fresh.at, fresh.till = nil, nil
    fresh.shift = t - now
    fresh.cancel_at = t
    fresh.cancel_done = t + util.seconds(tonumber(store.settings().cancel_delay) or 1)
    store.put_job(fresh, false)
    spec = store.job(spec.id)
    st = model.state(spec, model.vtime(spec, now))
  end
  return 200, model.job_json(spec, st), { ["Retry-After"] = "1", ETag = false }
end

return M
