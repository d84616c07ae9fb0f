-- c:translate with the libcurl client against the emulator: text and binary
-- documents, path and data forms, output files, glossaries, the query sent,
-- limits refused before sending, retries (429/503 sent again, 408 and a cut
-- answer not), progress, and the async form.
local emu = require "support.emulator"
local U = require "support.usage"
local H = require "core.helper"
local T = require "translate.helper"

local function client(o)
  local opts = { api_version = "2024-11-01-preview" }
  for k, v in pairs(o or {}) do opts[k] = v end
  return H.client(opts)
end

describe("c:translate (libcurl)", function()
  before_each(function()
    emu.reset()
  end)

  it("translates a text document given as data and answers its bytes and headers", function()
    local c = client()
    local text = "Hello world\nsecond line\n\nüber\n"
    local r, err = c:translate{ document = { name = "strings.txt", data = text }, to = "fr", from = "en" }
    assert.is_nil(err)
    assert.equal(T.expect_text(text, "fr"), r.body)
    assert.equal(#r.body, r.size)
    assert.equal("text/plain", r.content_type)
    assert.equal(utf8.len(text), r.characters_charged)
    assert.equal(0, r.image_scans_succeeded)
    assert.equal(0, r.image_scans_failed)
    assert.equal(200, r:response().status)
    assert.equal(tostring(utf8.len(text)), r:response().headers["x-metered-usage"])
    local reqs = T.requests()
    assert.equal(1, #reqs)
    assert.equal("POST", reqs[1].method)
    assert.matches("^multipart/form%-data; boundary=", reqs[1].headers["content-type"])
    assert.matches("targetLanguage=fr", reqs[1].query, 1, true)
    assert.matches("sourceLanguage=en", reqs[1].query, 1, true)
    assert.matches("api-version=2024-11-01-preview", reqs[1].query, 1, true)
    c:close()
  end)

  it("sends category, allowFallback and translateTextWithinImage, and reads the image headers", function()
    local c = client()
    local html = "<p>one</p><img src=a.png><IMG src=b.png>\n"
    local r = assert(c:translate{ document = { name = "page.html", data = html }, to = "de",
      category = "my-model", allow_fallback = false, text_within_image = true })
    assert.equal("text/html", r.content_type)
    assert.equal(2, r.image_scans_succeeded)
    local q = T.requests()[1].query
    assert.matches("category=my-model", q, 1, true)
    assert.matches("allowFallback=false", q, 1, true)
    assert.matches("translateTextWithinImage=true", q, 1, true)
  end)

  it("has no image counters in 2024-05-01, and refuses text_within_image there before sending", function()
    local c = client{ api_version = "2024-05-01" }
    local r = assert(c:translate{ document = { name = "a.txt", data = "x\n" }, to = "fr" })
    assert.is_nil(r.image_scans_succeeded)
    assert.is_nil(r:response().headers["total-image-scans-succeeded"])
    local ok, err = pcall(c.translate, c, { document = { name = "a.txt", data = "x" }, to = "fr",
      text_within_image = true })
    assert.is_false(ok)
    err = U.of(err)
    assert.matches("2024-11-01-preview", err.message, 1, true)
    assert.equal(1, #T.requests())
  end)

  it("refuses the v1.x family (no such route there) before sending", function()
    local c = client{ api_version = "v1.1" }
    local ok, err = pcall(c.translate, c, { document = { name = "a.txt", data = "x" }, to = "fr" })
    assert.is_false(ok)
    err = U.of(err)
    assert.matches("v1.x", err.message, 1, true)
    assert.equal(0, #T.requests())
  end)

  it("round-trips a binary document from a path, streamed, into an output file", function()
    local c = client()
    local data = T.binary(4096) -- 1 MiB
    local src, dir = T.path("deck.pptx")
    T.write(src, data)
    local out = dir .. "/deck.fr.pptx"
    local r = assert(c:translate{ document = { path = src }, to = "fr", output = out })
    assert.is_nil(r.body)
    assert.equal(out, r.output)
    local want = "DTEMU:fr\n" .. data
    assert.equal(#want, r.size)
    assert.equal(#data, r.characters_charged)
    assert.equal("application/vnd.openxmlformats-officedocument.presentationml.presentation", r.content_type)
    assert.is_true(T.read(out) == want)
    assert.same({ "deck.fr.pptx", "deck.pptx" }, T.ls(dir)) -- no temporary file left
  end)

  it("applies glossaries (TSV and CSV, by extension or content_type)", function()
    local c = client()
    local gpath = T.write(T.path("terms.tsv"), "cat\tchat\ndog\tchien\n")
    local text = "the cat and the dog\nno dog here? a dog.\n"
    local r = assert(c:translate{ document = { name = "t.txt", data = text }, to = "fr",
      glossaries = { { path = gpath }, { name = "more", data = "the,le\n", content_type = "text/csv" } } })
    assert.equal(T.expect_text(text, "fr", { { "cat", "chat" }, { "dog", "chien" }, { "the", "le" } }), r.body)
    assert.matches("le chat", r.body, 1, true)
  end)

  it("refuses what is over the limits, unknown extensions and unreadable files before sending", function()
    local c = client()
    local big, dir = T.path("big.txt")
    local f = assert(io.open(big, "wb"))
    f:seek("set", 10 * 1024 * 1024) -- one byte over 10 MiB
    f:write("x")
    f:close()
    local cases = {
      { { document = { path = big }, to = "fr" }, "over the service's limit of 10 MiB" },
      { { document = { name = "a.txt", data = "x" }, to = "fr",
          glossaries = { { name = "g.tsv", data = string.rep("a\tb\n", 300000) } } }, "limit of 1 MiB" },
      { { document = { name = "a.weird", data = "x" }, to = "fr" }, "give content_type" },
      { { document = { path = dir .. "/missing.docx" }, to = "fr" }, dir .. "/missing.docx" },
      { { document = { path = dir }, to = "fr" }, dir },
      { { document = { name = "a.txt", data = "x" }, to = "fr,de" }, "one target language" },
      { { document = { name = "a.txt", data = "x" } }, "'to'" },
      { { document = { name = "a.txt", data = "x" }, to = "fr", colour = 1 }, "colour" },
      { { document = { name = "a.txt", data = "x" }, to = "fr", output = dir .. "/no/such/dir/out.txt" },
        dir .. "/no/such/dir/out.txt" },
    }
    for _, case in ipairs(cases) do
      local ok, err = pcall(c.translate, c, case[1])
      assert.is_false(ok)
      err = U.of(err)
      assert.matches(case[2], err.message, 1, true)
    end
    assert.equal(0, #T.requests())
  end)

  it("translates over HTTPS, the answer into an output file", function()
    local c = H.client{ endpoint = emu.https, ca_file = emu.ca }
    local src, dir = T.path("a.xlsx")
    T.write(src, T.binary(64))
    local r = assert(c:translate{ document = { path = src }, to = "pt", output = dir .. "/a.pt.xlsx" })
    assert.equal("DTEMU:pt\n" .. T.binary(64), T.read(dir .. "/a.pt.xlsx"))
    assert.equal(#T.binary(64) + 9, r.size)
    assert.is_true(T.requests()[1].tls)
  end)

  it("gives the service's error as an error value with its ids", function()
    emu.fault{ route = "translate", action = "status", status = 400 }
    local c = client()
    local r, err = c:translate{ document = { name = "a.txt", data = "x" }, to = "fr" }
    assert.is_nil(r)
    assert.equal("http", err.kind)
    assert.equal(400, err.status)
    assert.equal("InvalidRequest", err.code)
    assert.truthy(err["apim-request-id"])
    assert.truthy(err["x-ms-client-request-id"])
  end)

  it("is refused by the emulator itself over the limits (a raw upload past the client's checks)", function()
    local src, dir = T.path("big.txt")
    local f = assert(io.open(src, "wb"))
    f:seek("set", 10 * 1024 * 1024)
    f:write("x")
    f:close()
    local p = io.popen("curl -sS -o '" .. dir .. "/body' -w '%{http_code}' -H 'Ocp-Apim-Subscription-Key: "
      .. emu.key .. "' -F 'document=@" .. src .. ";type=text/plain' '" .. emu.http
      .. "/translator/document:translate?targetLanguage=fr&api-version=2024-05-01'")
    local status = p:read("*a")
    p:close()
    assert.equal("400", status)
    local body = T.read(dir .. "/body")
    assert.matches('"code":"InvalidRequest"', body, 1, true)
    assert.matches("DocumentSizeExceedsLimit", body, 1, true)
  end)

  it("sends the whole body again after a 429 or a 503", function()
    local c = client()
    for _, status in ipairs({ 429, 503 }) do
      emu.reset()
      emu.fault{ route = "translate", action = "status", status = status, retry_after = 0 }
      local src, dir = T.path("doc.txt")
      T.write(src, "alpha\nbeta\n")
      local r = assert(c:translate{ document = { path = src }, to = "it", output = dir .. "/out.txt" })
      assert.equal("[it] alpha\n[it] beta\n", T.read(dir .. "/out.txt"))
      assert.equal(#"[it] alpha\n[it] beta\n", r.size)
      local reqs = T.requests()
      assert.equal(2, #reqs)
      assert.equal(status, reqs[1].status)
      assert.equal(200, reqs[2].status)
      assert.equal(reqs[1].headers["x-ms-client-request-id"], reqs[2].headers["x-ms-client-request-id"])
    end
  end)

  it("does not send a 408 again (the service may have charged)", function()
    emu.fault{ route = "translate", action = "status", status = 408 }
    local c = client()
    local r, err = c:translate{ document = { name = "a.txt", data = "x" }, to = "fr" }
    assert.is_nil(r)
    assert.equal(408, err.status)
    assert.equal(1, #T.requests())
  end)

  it("leaves no output after an answer cut mid-way, and is not sent again", function()
    local c = client()
    local src, dir = T.path("long.txt")
    T.write(src, string.rep("a line of text to translate\n", 20000))
    local out = dir .. "/long.fr.txt"
    emu.fault{ route = "translate", action = "reset" }
    local r, err = c:translate{ document = { path = src }, to = "fr", output = out }
    assert.is_nil(r)
    assert.equal("network", err.kind)
    assert.matches("not sent again", err.message, 1, true)
    assert.is_nil(T.read(out))
    assert.same({ "long.txt" }, T.ls(dir))
    assert.equal(1, #T.requests())
    -- an output that existed is left as it was
    T.write(out, "the old translation")
    emu.fault{ route = "translate", action = "reset" }
    r = c:translate{ document = { path = src }, to = "fr", output = out }
    assert.is_nil(r)
    assert.equal("the old translation", T.read(out))
    assert.same({ "long.fr.txt", "long.txt" }, T.ls(dir))
  end)

  it("reports progress of the upload and the download", function()
    local c = client()
    local src = T.write(T.path("big.bin.pdf"), T.binary(8192)) -- 2 MiB
    local seen = { upload = {}, download = {} }
    local r = assert(c:translate{ document = { path = src }, to = "fr",
      on_progress = function(phase, done, total) table.insert(seen[phase], { done, total }) end })
    assert.truthy(#seen.upload >= 1)
    assert.truthy(#seen.download >= 1)
    local last_up, last_down = seen.upload[#seen.upload], seen.download[#seen.download]
    assert.equal(last_up[2], last_up[1])
    assert.truthy(last_up[1] > 2 * 1024 * 1024) -- the document and the multipart framing
    assert.equal(r.size, last_down[1])
    assert.equal(r.size, last_down[2])
    for i = 2, #seen.upload do assert.truthy(seen.upload[i][1] >= seen.upload[i - 1][1]) end
  end)

  it("raises what on_progress raised, after stopping the transfer", function()
    local c = client()
    local src, dir = T.path("x.pdf")
    T.write(src, T.binary(4096))
    local ok, err = pcall(c.translate, c, { document = { path = src }, to = "fr", output = dir .. "/o.pdf",
      on_progress = function() error("stop here") end })
    assert.is_false(ok)
    assert.matches("stop here", tostring(err), 1, true)
    assert.same({ "x.pdf" }, T.ls(dir))
    -- the client still works
    assert.truthy(c:translate{ document = { name = "a.txt", data = "y" }, to = "fr" })
  end)

  it("works as an async op moved by step()", function()
    local c = client()
    local src, dir = T.path("a.docx")
    T.write(src, T.binary(1024))
    local done_with
    local op = c:translate_async{ document = { path = src }, to = "ja", output = dir .. "/a.ja.docx",
      on_done = function(o, err) done_with = { o, err } end }
    local steps = 0
    while not op:step() do
      steps = steps + 1
      c:core() -- nothing else to do: the loop of a host
    end
    assert.truthy(steps > 0)
    assert.is_nil(op.error)
    assert.equal(#("DTEMU:ja\n") + 256 * 1024, op.result.size)
    assert.equal("DTEMU:ja\n" .. T.binary(1024), T.read(dir .. "/a.ja.docx"))
    assert.equal(op, done_with[1])
    -- and an error reaches on_done
    emu.fault{ route = "translate", action = "status", status = 400 }
    op = c:translate_async{ document = { name = "a.txt", data = "x" }, to = "ja" }
    while not op:step() do end
    assert.equal(400, op.error.status)
  end)
end)
