-- Supported formats, as the 2024-05-01 service listed them (recordings/2024-05-01_formats-document.json).
local util = require "emulator.util"

local json_string = util.json_string
local concat = table.concat

local DOCUMENT = {
  { "PlainText", { ".txt" }, { "text/plain" } },
  { "RichTextFormat", { ".rtf" }, { "application/rtf" } },
  { "OpenXmlWord", { ".docx" }, { "application/vnd.openxmlformats-officedocument.wordprocessingml.document" } },
  { "OpenXmlPresentation", { ".pptx" },
    { "application/vnd.openxmlformats-officedocument.presentationml.presentation" } },
  { "OpenXmlSpreadsheet", { ".xlsx" }, { "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" } },
  { "WordDocument", { ".doc" }, { "application/msword" } },
  { "PowerpointPresentation", { ".ppt" }, { "application/vnd.ms-powerpoint" } },
  { "ExcelSpreadsheet", { ".xls" }, { "application/vnd.ms-excel" } },
  { "OpenDocumentText", { ".odt" }, { "application/vnd.oasis.opendocument.text" } },
  { "OpenDocumentPresentation", { ".odp" }, { "application/vnd.oasis.opendocument.presentation" } },
  { "OpenDocumentSpreadsheet", { ".ods" }, { "application/vnd.oasis.opendocument.spreadsheet" } },
  { "OutlookMailMessage", { ".msg" }, { "application/vnd.ms-outlook" } },
  { "MailMessageEml", { ".eml" }, { "message/rfc822" } },
  { "OfficeOpenXml", { ".xml", ".ooxml" }, { "application/vnd.openxmlformats-officedocument" } },
  { "HtmlFile", { ".html", ".htm" }, { "text/html" } },
  { "Markdown", { ".markdown", ".mdown", ".mkdn", ".md", ".mkd", ".mdwn", ".mdtxt", ".mdtext", ".rmd" },
    { "text/markdown", "text/x-markdown", "text/plain" } },
  { "Mhtml", { ".mhtml", ".mht" }, { "message/rfc822", "application/x-mimearchive", "multipart/related" } },
  { "XLIFF", { ".xlf" }, { "application/xliff+xml" }, "1.2", { "1.0", "1.1", "1.2" } },
  { "TSV", { ".tsv", ".tab" }, { "text/tab-separated-values" } },
  { "CSV", { ".csv" }, { "text/csv" } },
  { "PortableDocumentFormat", { ".pdf" }, { "application/pdf" } },
  { "StreamJSONFile", { ".json" }, { "application/json" } },
}

local GLOSSARY = {
  { "XLIFF", { ".xlf" }, { "application/xliff+xml" }, "1.2", { "1.0", "1.1", "1.2" } },
  { "TSV", { ".tsv", ".tab" }, { "text/tab-separated-values" } },
  { "CSV", { ".csv" }, { "text/csv" } },
}

local function strings(list)
  local out = {}
  for i, s in ipairs(list) do out[i] = json_string(s) end
  return "[" .. concat(out, ",") .. "]"
end

local function item(f, type_name)
  local t = { '{"format":', json_string(f[1]), ',"fileExtensions":', strings(f[2]),
              ',"contentTypes":', strings(f[3]) }
  if f[4] then
    t[#t + 1] = ',"defaultVersion":' .. json_string(f[4]) .. ',"versions":' .. strings(f[5])
  end
  if type_name then t[#t + 1] = ',"type":' .. json_string(type_name) end
  t[#t + 1] = "}"
  return concat(t)
end

local function body(lists)
  local items = {}
  for _, l in ipairs(lists) do
    for _, f in ipairs(l[1]) do items[#items + 1] = item(f, l[2]) end
  end
  return '{"value":[' .. concat(items, ",") .. "]}"
end

return {
  v1_document = body({ { DOCUMENT } }),
  v1_glossary = body({ { GLOSSARY } }),
  document = body({ { DOCUMENT, "Document" } }),
  glossary = body({ { GLOSSARY, "Glossary" } }),
  all = body({ { DOCUMENT, "Document" }, { GLOSSARY, "Glossary" } }),
  storage_sources = '{"value":["AzureBlob"]}',
}
