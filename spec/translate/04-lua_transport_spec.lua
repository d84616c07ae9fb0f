-- c:translate through a Lua transport of one's own (LuaSocket, blocking): the request the core
-- describes (req.parts, req.output, req.call_id), a multipart body streamed from the file with
-- ltn12, an answer given in memory and written to the output by the driver.
local H = require "core.helper"
local T = require "translate.helper"
local emu = H.emu
local dt = H.dt
local http = require "socket.http"
local ltn12 = require "ltn12"

local function multipart_transport()
  local t = { seen = {} }
  function t.request(_, req)
    t.seen[#t.seen + 1] = req
    local headers = {}
    for k, v in pairs(req.headers) do headers[k] = v end
    local source, length = nil, 0
    if req.parts then
      local boundary = "spec-" .. req.call_id
      local sources = {}
      local function add(s, n)
        sources[#sources + 1] = s
        length = length + n
      end
      for _, p in ipairs(req.parts) do
        local head = "--" .. boundary .. '\r\nContent-Disposition: form-data; name="' .. p.name
          .. '"; filename="' .. p.filename .. '"\r\nContent-Type: ' .. p.content_type .. "\r\n\r\n"
        add(ltn12.source.string(head), #head)
        if p.path then add(ltn12.source.file(assert(io.open(p.path, "rb"))), p.size)
        else add(ltn12.source.string(p.data), #p.data) end
        add(ltn12.source.string("\r\n"), 2)
      end
      local tail = "--" .. boundary .. "--\r\n"
      add(ltn12.source.string(tail), #tail)
      source = ltn12.source.cat(table.unpack(sources))
      headers["Content-Type"] = "multipart/form-data; boundary=" .. boundary
      headers["Content-Length"] = length
    end
    local chunks = {}
    local _, code, rh = http.request{ url = req.url, method = req.method, headers = headers, source = source,
      sink = ltn12.sink.table(chunks) }
    if type(code) ~= "number" then return nil, "network", tostring(code), true end
    return { status = code, headers = rh, body = table.concat(chunks) }
  end
  function t.sleep() end
  return t
end

describe("c:translate through a Lua transport", function()
  before_each(function() emu.reset() end)

  it("hands the transport the parts, and writes an answer given in memory to the output", function()
    local t = multipart_transport()
    local c = dt.new{ endpoint = emu.http, key = emu.key, transport = t }
    local src, dir = T.path("notes.md")
    T.write(src, "one\ntwo\n")
    local g = T.write(dir .. "/g.csv", "two,deux\n")
    local r = assert(c:translate{ document = { path = src }, to = "fr", glossaries = { { path = g } },
      output = dir .. "/notes.fr.md" })
    assert.equal("[fr] one\n[fr] deux\n", T.read(dir .. "/notes.fr.md"))
    assert.equal(#"[fr] one\n[fr] deux\n", r.size)
    assert.is_nil(r.body)
    assert.same({ "g.csv", "notes.fr.md", "notes.md" }, T.ls(dir))
    local req = t.seen[1]
    assert.equal("POST", req.method)
    assert.equal(2, #req.parts)
    assert.same({ name = "document", filename = "notes.md", content_type = "text/markdown", path = src, size = 8 },
      req.parts[1])
    assert.equal("glossary", req.parts[2].name)
    assert.equal("text/csv", req.parts[2].content_type)
    assert.equal(dir .. "/notes.fr.md", req.output)
    assert.is_nil(req.body)
    assert.not_matches(emu.key, tostring(req), 1, true)
  end)

  it("does not send a translation again after a failure once its body had begun to leave", function()
    local calls = 0
    local c = dt.new{ endpoint = emu.http, key = emu.key, retry_base = 0.01, transport = {
      request = function() calls = calls + 1; return nil, "network", "connection reset", true end,
      sleep = function() end } }
    local r, err = c:translate{ document = { name = "a.txt", data = "x" }, to = "fr" }
    assert.is_nil(r)
    assert.equal("network", err.kind)
    assert.matches("not sent again", err.message, 1, true)
    assert.equal(1, calls)
    -- before the body left (no fourth value): retried as any call
    calls = 0
    c = dt.new{ endpoint = emu.http, key = emu.key, retry_base = 0.01, retries = 2, transport = {
      request = function() calls = calls + 1; return nil, "network", "connection refused" end,
      sleep = function() end } }
    r = c:translate{ document = { name = "a.txt", data = "x" }, to = "fr" }
    assert.is_nil(r)
    assert.equal(3, calls)
  end)
end)
