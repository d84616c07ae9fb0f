-- c:translate inside nginx (the openresty transport, cosockets, the LuaJIT
-- core): the same requests as the libcurl client's, the multipart body
-- streamed from the files, answers written to output files (complete or
-- absent), retries and progress.
local emu = require "support.emulator"
local U = require "support.usage"
local N = require "openresty.nginx"
local T = require "translate.helper"

local function chunk(code, vars)
  return (code:gsub("%$(%w+)", function(k)
    local v = vars[k]
    if v == nil then return "$" .. k end
    if type(v) == "number" then return string.format("%.17g", v) end
    return string.format("%q", v)
  end))
end

describe("c:translate inside nginx (openresty transport)", function()
  local srv

  local function ok(code, vars)
    return srv:eval_ok(chunk(code, vars or {}))
  end

  lazy_setup(function()
    emu.reset()
    srv = N.start{ conf = N.root .. "/spec/openresty/eval_nginx.conf", endpoint = emu.http, key = emu.key }
  end)

  lazy_teardown(function()
    if srv then srv:stop() end
    emu.reset()
  end)

  before_each(function()
    emu.reset()
  end)

  it("translates a text document given as data, with glossaries", function()
    local text = "the cat sat\nthe dog ran\n"
    local g = T.write(T.path("terms.tsv"), "cat\tchat\n")
    local r = ok([[
      assert(tostring(c):find("via openresty", 1, true))
      local r = assert(c:translate{ document = { name = "a.txt", data = $text }, to = "fr",
        glossaries = { { path = $g }, { name = "g.csv", data = "dog,chien\n" } } })
      return { body = r.body, size = r.size, ctype = r.content_type, chars = r.characters_charged,
               ok_scans = r.image_scans_succeeded, status = r:response().status }
    ]], { text = text, g = g })
    assert.equal(T.expect_text(text, "fr", { { "cat", "chat" }, { "dog", "chien" } }), r.body)
    assert.equal(#r.body, r.size)
    assert.equal("text/plain", r.ctype)
    assert.equal(#text, r.chars)
    assert.equal(0, r.ok_scans)
    assert.equal(200, r.status)
    local reqs = T.requests()
    assert.equal(1, #reqs)
    assert.matches("^multipart/form%-data; boundary=", reqs[1].headers["content-type"])
  end)

  it("round-trips a binary document from a path into an output file", function()
    local data = T.binary(4096 * 3) -- 3 MiB
    local src, dir = T.path("deck.docx")
    T.write(src, data)
    local out = dir .. "/deck.fr.docx"
    local r = ok([[
      local seen = { upload = 0, download = 0 }
      local r = assert(c:translate{ document = { path = $src }, to = "fr", output = $out,
        on_progress = function(phase, done, total) seen[phase] = seen[phase] + 1; seen[phase .. "_at"] = done
          seen[phase .. "_total"] = total end })
      return { body = r.body == nil, size = r.size, output = r.output, seen = seen }
    ]], { src = src, out = out })
    assert.is_true(r.body)
    assert.equal(out, r.output)
    assert.equal(#data + #"DTEMU:fr\n", r.size)
    assert.is_true(T.read(out) == "DTEMU:fr\n" .. data)
    assert.same({ "deck.docx", "deck.fr.docx" }, T.ls(dir))
    assert.truthy(r.seen.upload > 1) -- a chunk at a time
    assert.equal(r.seen.upload_total, r.seen.upload_at)
    assert.truthy(r.seen.download >= 1)
    assert.equal(r.size, r.seen.download_at)
  end)

  it("refuses the limits before sending", function()
    local big, dir = T.path("big.txt")
    local f = assert(io.open(big, "wb"))
    f:seek("set", 10 * 1024 * 1024)
    f:write("x")
    f:close()
    local r = ok([[
      local ok1, e1 = pcall(c.translate, c, { document = { path = $big }, to = "fr" })
      local ok2, e2 = pcall(c.translate, c, { document = { path = $missing }, to = "fr" })
      return { ok1, e1, e1, ok2, e2, e2 }
    ]], { big = big, missing = dir .. "/none.txt" })
    assert.is_false(r[1])
    assert.equal("usage", U.of(r[2]).kind)
    assert.matches("limit of 10 MiB", r[3], 1, true)
    assert.is_false(r[4])
    assert.matches(dir .. "/none.txt", r[6], 1, true)
    assert.equal(0, #T.requests())
  end)

  it("leaves no output after an answer cut mid-way, and does not send it again", function()
    local src, dir = T.path("long.txt")
    T.write(src, string.rep("a line of text to translate\n", 20000))
    local out = dir .. "/long.fr.txt"
    emu.fault{ route = "translate", action = "reset" }
    local r = ok([[
      local r, err = c:translate{ document = { path = $src }, to = "fr", output = $out }
      return { r == nil, err.kind, err.message }
    ]], { src = src, out = out })
    assert.is_true(r[1])
    assert.equal("network", r[2])
    assert.matches("not sent again", r[3], 1, true)
    assert.same({ "long.txt" }, T.ls(dir))
    assert.equal(1, #T.requests())
  end)

  it("sends the whole body again after a 503, not after a 408", function()
    local src, dir = T.path("doc.md")
    T.write(src, "# title\nbody\n")
    emu.fault{ route = "translate", action = "status", status = 503, retry_after = 0 }
    local r = ok([[
      local r = assert(c:translate{ document = { path = $src }, to = "es", output = $out })
      return { size = r.size }
    ]], { src = src, out = dir .. "/doc.es.md" })
    assert.equal("[es] # title\n[es] body\n", T.read(dir .. "/doc.es.md"))
    assert.equal(#"[es] # title\n[es] body\n", r.size)
    local reqs = T.requests()
    assert.equal(2, #reqs)
    assert.equal(503, reqs[1].status)
    emu.reset()
    emu.fault{ route = "translate", action = "status", status = 408 }
    r = ok([[
      local r, err = c:translate{ document = { path = $src }, to = "es" }
      return { r == nil, err.status }
    ]], { src = src })
    assert.is_true(r[1])
    assert.equal(408, r[2])
    assert.equal(1, #T.requests())
  end)

  it("has no translate_async (it belongs to the libcurl client)", function()
    local r = srv:eval([[ return c:translate_async{ document = { name = "a.txt", data = "x" }, to = "fr" } ]])
    assert.is_false(r.ok)
    assert.matches("libcurl client", r.error.message, 1, true)
  end)
end)
