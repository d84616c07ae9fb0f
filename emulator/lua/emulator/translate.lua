-- The single-document translation route (POST /translator/document:translate, 2024-05-01 and
-- later): multipart parsing, the service's limits, and a deterministic "translation" a test can
-- check: every line of a text document prefixed with "[<to>] " after the glossaries' terms were
-- replaced (TSV "source<TAB>target" or CSV "source,target" lines); any other document comes back
-- as "DTEMU:<to>\n" followed by its bytes. x-metered-usage is the document's characters (UTF-8
-- characters of a text document, bytes of any other); from 2024-11-01-preview on the answer
-- carries total-image-scans-succeeded (the "<img" tags of the document when
-- translateTextWithinImage=true, else 0) and total-image-scans-failed (0).
local service = require "emulator.service"
local query = require "emulator.query"

local M = {}

M.PATH = "/translator/document:translate"
M.MAX_DOCUMENT = 10 * 1024 * 1024
M.MAX_GLOSSARY = 1024 * 1024

local error_body = service.error_body
local concat = table.concat

local function invalid(message, inner_code, target)
  return 400, error_body("InvalidRequest", message, target or "Document", inner_code or "InvalidRequest")
end

local function bad_arg(message, name)
  return 400, error_body("InvalidArgument", message, name, "InvalidQueryParameterValue")
end

-- The route of this request, or nil (app.lua asks before service.route).
function M.route(uri)
  if uri ~= M.PATH then return nil end
  return { name = "translate", family = "2024", methods = { POST = true }, handler = M.translate }
end

local function read_body()
  ngx.req.read_body()
  local data = ngx.req.get_body_data()
  if data then return data end
  local file = ngx.req.get_body_file()
  if not file then return "" end
  local fh = io.open(file, "rb")
  if not fh then return nil end
  data = fh:read("*a")
  fh:close()
  return data
end

-- The parts of a multipart/form-data body: { name, filename, content_type, data }, or nil, why.
function M.parse_multipart(body, ctype)
  local boundary = ctype:match('[Bb]oundary="([^"]+)"') or ctype:match("[Bb]oundary=([^;%s]+)")
  if not boundary then return nil, "the multipart Content-Type has no boundary" end
  local delim = "--" .. boundary
  local pos = body:find(delim, 1, true)
  if not pos then return nil, "the body has no multipart boundary" end
  pos = pos + #delim
  local parts = {}
  while body:sub(pos, pos + 1) ~= "--" do
    if body:sub(pos, pos + 1) ~= "\r\n" then return nil, "a malformed multipart boundary line" end
    pos = pos + 2
    local hend = body:find("\r\n\r\n", pos, true)
    if not hend then return nil, "a multipart part without the end of its headers" end
    local stop = body:find("\r\n" .. delim, hend + 4, true)
    if not stop then return nil, "a multipart part without its closing boundary" end
    local p = { data = body:sub(hend + 4, stop - 1) }
    for line in (body:sub(pos, hend - 1) .. "\r\n"):gmatch("(.-)\r\n") do
      local n, v = line:match("^([^:]+):%s*(.-)%s*$")
      n = n and n:lower()
      if n == "content-disposition" then
        p.name = v:match(';%s*name="([^"]*)"') or v:match(";%s*name=([^;%s]+)")
        p.filename = v:match(';%s*filename="([^"]*)"') or v:match(";%s*filename=([^;%s]+)")
      elseif n == "content-type" then
        p.content_type = v
      end
    end
    parts[#parts + 1] = p
    pos = stop + 2 + #delim
  end
  return parts
end

local function is_text(p)
  local ct = (p.content_type or ""):lower()
  return ct:match("^text/") ~= nil
end

local function plain(s) return (s:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0")) end

-- The (source, target) pairs of a glossary part (TSV or CSV), in file order.
local function terms(g)
  local sep = "\t"
  local ct, fname = (g.content_type or ""):lower(), (g.filename or ""):lower()
  if ct:find("csv", 1, true) or fname:match("%.csv$") then sep = "," end
  local out = {}
  for line in (g.data .. "\n"):gmatch("(.-)\r?\n") do
    local s, t = line:match("^([^" .. sep .. "]+)" .. sep .. "(.*)$")
    if s and s ~= "" then out[#out + 1] = { s, t } end
  end
  return out
end

local function translate_text(text, to, glossaries)
  for _, g in ipairs(glossaries) do
    for _, pair in ipairs(terms(g)) do
      text = text:gsub(plain(pair[1]), (pair[2]:gsub("%%", "%%%%")))
    end
  end
  local prefix = "[" .. to .. "] "
  local out, n, pos = {}, 0, 1
  while pos <= #text do
    local e = text:find("\n", pos, true)
    n = n + 1
    out[n] = prefix .. (e and text:sub(pos, e) or text:sub(pos))
    if not e then break end
    pos = e + 1
  end
  return concat(out)
end

local function characters(p)
  if not is_text(p) then return #p.data end
  local _, continuation = p.data:gsub("[\128-\191]", "")
  return #p.data - continuation
end

local function flag(params, lname)
  local values, names = query.all(params, lname)
  local v = values[#values]
  if v == nil then return nil end
  if v ~= "true" and v ~= "false" then
    return nil, bad_arg("The value of '" .. names[#names] .. "' must be true or false.", names[#names])
  end
  return v == "true"
end

function M.translate(_, r, params)
  local tos = query.all(params, "targetlanguage")
  local to = tos[#tos]
  if to == nil or to == true or to == "" then
    return invalid("The targetLanguage query parameter is required.", "MissingTargetLanguage", "targetLanguage")
  end
  if #tos > 1 or to:find(",", 1, true) then
    return invalid("Only one target language is allowed.", "TooManyTargetLanguages", "targetLanguage")
  end
  local froms = query.all(params, "sourcelanguage")
  local from = froms[#froms]
  if from == true or from == "" then
    return bad_arg("The sourceLanguage query parameter is empty.", "sourceLanguage")
  end
  local _, status, body = flag(params, "allowfallback")
  if status then return status, body end
  local image
  image, status, body = flag(params, "translatetextwithinimage")
  if status then return status, body end
  local images = r.version ~= "2024-05-01"
  if image ~= nil and not images then
    return bad_arg("translateTextWithinImage is not part of API version 2024-05-01.", "translateTextWithinImage")
  end
  local ctype = ngx.var.content_type or ""
  if not ctype:lower():match("^multipart/form%-data") then
    return invalid("The request body must be multipart/form-data.", "InvalidContentType", "Content-Type")
  end
  body = read_body()
  if not body then return 500, error_body("InternalServerError", "The request body could not be read.") end
  local parts, why = M.parse_multipart(body, ctype)
  if not parts then return invalid("The multipart body is malformed: " .. why .. ".", "InvalidMultipartBody") end
  local doc, glossaries = nil, {}
  for _, p in ipairs(parts) do
    local name = (p.name or ""):lower()
    if name == "document" then
      if doc then return invalid("Only one document is allowed.", "TooManyDocuments") end
      doc = p
    elseif name == "glossary" then
      glossaries[#glossaries + 1] = p
    end
  end
  if not doc then return invalid("The Document field is required.", "MissingDocument") end
  if #doc.data > M.MAX_DOCUMENT then
    return invalid("The document is larger than the limit of " .. M.MAX_DOCUMENT .. " bytes.",
      "DocumentSizeExceedsLimit")
  end
  for _, g in ipairs(glossaries) do
    if #g.data > M.MAX_GLOSSARY then
      return invalid("The glossary is larger than the limit of " .. M.MAX_GLOSSARY .. " bytes.",
        "GlossarySizeExceedsLimit", "Glossary")
    end
  end
  local out
  if is_text(doc) then
    out = translate_text(doc.data, to, glossaries)
  else
    out = "DTEMU:" .. to .. "\n" .. doc.data
  end
  local headers = { ["x-metered-usage"] = tostring(characters(doc)) }
  if images then
    local scans = 0
    if image then
      local _, n = doc.data:lower():gsub("<img", "")
      scans = n
    end
    headers["total-image-scans-succeeded"] = tostring(scans)
    headers["total-image-scans-failed"] = "0"
  end
  return 200, out, headers, doc.content_type or "application/octet-stream"
end

return M
