--- doctranslate.translate: the arguments of c:translate and c:translate_async,
-- checked and put in the form of the core's translate_op: each file's
-- content type (from its extension, for the formats c:formats lists), its
-- size against the service's limits, and that it can be read, before
-- anything is sent. No file is read here beyond its first byte: the
-- runners stream it.
local core = require "doctranslate.core"

local M = {}

local usage = core.usage_error

--- The service's limits of one call (bytes).
M.MAX_DOCUMENT = 10 * 1024 * 1024
M.MAX_GLOSSARY = 1024 * 1024

-- Extensions of the formats the service lists (c:formats("document") and
-- ("glossary")), each with the content type sent for it.
local DOCUMENT_TYPES = {
  txt = "text/plain", rtf = "application/rtf",
  docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  pptx = "application/vnd.openxmlformats-officedocument.presentationml.presentation",
  xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  doc = "application/msword", ppt = "application/vnd.ms-powerpoint", xls = "application/vnd.ms-excel",
  odt = "application/vnd.oasis.opendocument.text",
  odp = "application/vnd.oasis.opendocument.presentation",
  ods = "application/vnd.oasis.opendocument.spreadsheet",
  msg = "application/vnd.ms-outlook", eml = "message/rfc822",
  xml = "application/vnd.openxmlformats-officedocument", ooxml = "application/vnd.openxmlformats-officedocument",
  html = "text/html", htm = "text/html",
  markdown = "text/markdown", mdown = "text/markdown", mkdn = "text/markdown", md = "text/markdown",
  mkd = "text/markdown", mdwn = "text/markdown", mdtxt = "text/markdown", mdtext = "text/markdown",
  rmd = "text/markdown",
  mhtml = "message/rfc822", mht = "message/rfc822",
  xlf = "application/xliff+xml", tsv = "text/tab-separated-values", tab = "text/tab-separated-values",
  csv = "text/csv", pdf = "application/pdf", json = "application/json",
}
local GLOSSARY_TYPES = {
  xlf = "application/xliff+xml", tsv = "text/tab-separated-values", tab = "text/tab-separated-values",
  csv = "text/csv",
}
M.DOCUMENT_TYPES, M.GLOSSARY_TYPES = DOCUMENT_TYPES, GLOSSARY_TYPES

local REQUEST_KEYS = {
  document = true, to = true, from = true, glossaries = true, category = true, allow_fallback = true,
  text_within_image = true, output = true, on_progress = true,
}
local ASYNC_KEYS = { on_done = true, budget = true }
local SOURCE_KEYS = { path = true, name = true, data = true, content_type = true }

local function basename(path)
  return path:match("([^/\\]+)$") or path
end

local function megabytes(n)
  return string.format("%d MiB (%d bytes)", math.floor(n / (1024 * 1024)), n)
end

-- The size of the file at path (it must open and read), or a usage error naming it.
local function file_size(path, what)
  local f, err = io.open(path, "rb")
  if not f then usage("bad field '" .. what .. ".path': cannot read " .. tostring(err)) end
  local _, rerr = f:read(1)
  local size = rerr == nil and f:seek("end") or nil
  f:close()
  if not size then
    usage("bad field '" .. what .. ".path': cannot read '" .. path .. "': " .. tostring(rerr or "no size"))
  end
  return size
end

-- A document or glossary ({ path = } or { name =, data = }, content_type
-- optional) as a part of the core's request.
local function part(v, what, name, types, limit, kind)
  if type(v) ~= "table" then
    usage("bad field '" .. what .. "': a table { path = ... } or { name = ..., data = ... } expected, got "
      .. type(v))
  end
  for k in pairs(v) do
    if not SOURCE_KEYS[k] then usage("bad field '" .. what .. "." .. tostring(k) .. "': not a field of a file") end
  end
  local p = { name = name }
  if v.path ~= nil then
    if v.data ~= nil then usage("bad field '" .. what .. "': path or data, not both") end
    if type(v.path) ~= "string" or v.path == "" then usage("bad field '" .. what .. ".path': a string expected") end
    p.path = v.path
    p.size = file_size(v.path, what)
    p.filename = v.name or basename(v.path)
  elseif v.data ~= nil then
    if type(v.data) ~= "string" then usage("bad field '" .. what .. ".data': a string expected") end
    if type(v.name) ~= "string" or v.name == "" then
      usage("bad field '" .. what .. ".name': a file name is required with data")
    end
    p.data, p.size, p.filename = v.data, #v.data, v.name
  else
    usage("bad field '" .. what .. "': path or data expected")
  end
  if type(p.filename) ~= "string" or p.filename == "" or p.filename:find("[\r\n\"]") then
    usage("bad field '" .. what .. ".name': a file name without quotes or line breaks expected")
  end
  if v.content_type ~= nil then
    if type(v.content_type) ~= "string" or v.content_type == "" or v.content_type:find("[\r\n]") then
      usage("bad field '" .. what .. ".content_type': a content type expected")
    end
    p.content_type = v.content_type
  else
    local ext = p.filename:match("%.([^./\\]+)$")
    p.content_type = ext and types[ext:lower()]
    if not p.content_type then
      usage("bad field '" .. what .. "': the extension of '" .. p.filename .. "' is not one of the " .. kind
        .. " formats the service lists: give content_type")
    end
  end
  if p.size > limit then
    usage(string.format("bad field '%s': '%s' is %d bytes, over the service's limit of %s for a %s",
      what, p.filename, p.size, megabytes(limit), kind))
  end
  return p
end

--- The core's form of c:translate's request (raises usage errors). async:
-- the keys of translate_async (on_done, budget) are allowed, and left out.
function M.request(r, async)
  if type(r) ~= "table" then usage("bad argument 'request': a table expected, got " .. type(r)) end
  for k in pairs(r) do
    if not REQUEST_KEYS[k] and not (async and ASYNC_KEYS[k]) then
      usage("bad field '" .. tostring(k) .. "': not a field of a translation")
    end
  end
  if r.document == nil then usage("bad field 'document': required") end
  if r.output ~= nil then
    if type(r.output) ~= "string" or r.output == "" then usage("bad field 'output': a file name expected") end
    -- a folder that cannot take the file fails now, not after the service charged the document
    local probe = r.output .. ".doctranslate-probe"
    local f, err = io.open(probe, "wb")
    if not f then usage("bad field 'output': cannot write beside " .. r.output .. ": " .. tostring(err)) end
    f:close()
    os.remove(probe)
  end
  local out = {
    to = r.to, from = r.from, category = r.category, allow_fallback = r.allow_fallback,
    text_within_image = r.text_within_image, output = r.output, on_progress = r.on_progress,
    parts = { part(r.document, "document", "document", DOCUMENT_TYPES, M.MAX_DOCUMENT, "document") },
  }
  if r.glossaries ~= nil then
    if type(r.glossaries) ~= "table" then usage("bad field 'glossaries': an array of files expected") end
    for i, g in ipairs(r.glossaries) do
      out.parts[#out.parts + 1] = part(g, "glossaries[" .. i .. "]", "glossary", GLOSSARY_TYPES, M.MAX_GLOSSARY,
        "glossary")
    end
  end
  return out
end

--- The options of translate_async (on_done, budget) from its request.
function M.async_options(r)
  return { on_done = r.on_done, budget = r.budget }
end

return M
