-- doctranslate translate (one document now) and doctranslate watch --documents (each document
-- once, as it ends), run as a user would against the emulator.
local H = require "cli.helper"
local emu = require "support.emulator"
local cli = require "doctranslate.cli"

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

-- A fresh folder for one spec's files.
local function folder()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. emu.shell_quote(dir)))
  return dir
end

describe("doctranslate translate", function()
  it("names the output after the file and the language", function()
    assert.equal("help.fr.docx", cli.translated_name("help.docx", "fr"))
    assert.equal("a/b.c/help.de.txt", cli.translated_name("a/b.c/help.txt", "de"))
    assert.equal("a/b.c/README.fr", cli.translated_name("a/b.c/README", "fr"))
    assert.equal("notes.tar.ja.gz", cli.translated_name("notes.tar.gz", "ja"))
    assert.equal(".profile.fr", cli.translated_name(".profile", "fr"))
  end)

  it("translates a text file with a glossary into FILE.LANG.EXT; --json gives the result", function()
    local dir = folder()
    write(dir .. "/help.txt", "hello\nworld\n")
    write(dir .. "/terms.tsv", "world\tmonde\n")
    local r = H.run("translate", dir .. "/help.txt", "--to", "fr", "--glossary", dir .. "/terms.tsv")
    assert.equal(0, r.code, r.err)
    assert.equal("[fr] hello\n[fr] monde\n", read(dir .. "/help.fr.txt"))
    assert.matches("help.fr.txt (22 bytes, text/plain); 12 characters charged", r.out, 1, true)
    local j = H.run("translate", dir .. "/help.txt", "--to", "de", "--from", "en", "-o", dir .. "/out.txt",
                    "--json")
    assert.equal(0, j.code, j.err)
    local v = emu.decode(j.out)
    assert.equal(dir .. "/out.txt", v.output)
    assert.equal("text/plain", v.content_type)
    assert.equal(22, v.size)
    assert.equal(12, v.characters_charged)
    assert.equal("[de] hello\n[de] world\n", read(dir .. "/out.txt"))
  end)

  it("never overwrites without --force, and refuses what cannot be sent (exit 2, no request)", function()
    local dir = folder()
    write(dir .. "/help.txt", "one\n")
    write(dir .. "/help.fr.txt", "keep me")
    emu.clear_requests()
    local r = H.run("translate", dir .. "/help.txt", "--to", "fr")
    assert.equal(2, r.code)
    assert.matches("exists; give --force", r.err, 1, true)
    assert.equal("keep me", read(dir .. "/help.fr.txt"))
    local missing = H.run("translate", dir .. "/none.txt", "--to", "fr")
    assert.equal(2, missing.code)
    assert.matches("cannot read " .. dir .. "/none.txt", missing.err, 1, true)
    local no_to = H.run("translate", dir .. "/help.txt")
    assert.equal(2, no_to.code)
    assert.matches("'--to'", no_to.err, 1, true)
    local v1 = H.run("translate", dir .. "/help.txt", "--to", "fr", "--api-version", "v1.1", "-o", dir .. "/x")
    assert.equal(2, v1.code)
    assert.matches("no single-document translation", v1.err, 1, true)
    for _, e in ipairs(emu.requests()) do
      assert.are_not.equal("translate", e.route)
    end
    local forced = H.run("translate", dir .. "/help.txt", "--to", "fr", "--force")
    assert.equal(0, forced.code, forced.err)
    assert.equal("[fr] one\n", read(dir .. "/help.fr.txt"))
  end)

  it("a service error is one line and exit 1; the output is not written", function()
    local dir = folder()
    write(dir .. "/help.txt", "one\n")
    emu.fault{ route = "translate", action = "status", status = 500, count = 10 }
    local r = H.run("translate", dir .. "/help.txt", "--to", "fr", "--retries", "0")
    emu.clear_faults()
    assert.equal(1, r.code, r.err)
    assert.matches("^doctranslate: http 500", r.err)
    assert.is_nil(read(dir .. "/help.fr.txt"))
  end)
end)

describe("doctranslate watch --documents", function()
  -- every document of the job, as the service lists it at the end
  local function all_ids(id)
    local ids = {}
    local r = H.run("docs", id, "--json")
    assert.equal(0, r.code, r.err)
    for _, d in ipairs(H.json_lines(r.out)) do ids[d.id] = d.status end
    return ids
  end

  it("prints each document once as it ends, with the failed ones' codes; --strict exits 4", function()
    local id = emu.create_job{ documents = 24, duration = 1.5, fail_every = 5 }.id
    local r = H.run("watch", id, "--documents", "--strict")
    assert.equal(4, r.code, r.err)
    local seen, n = {}, 0
    for _, line in ipairs(H.lines(r.out)) do
      local status, doc = line:match("^(%u%a+)%s+(%x+%-%x+%-%x+%-%x+%-%x+)")
      if doc then
        assert.is_nil(seen[doc], "twice: " .. doc)
        seen[doc] = status
        n = n + 1
        if status == "Failed" then assert.matches("%s%u%a+$", line) end
      end
    end
    assert.equal(24, n)
    for doc, status in pairs(all_ids(id)) do assert.equal(status, seen[doc], doc) end
    assert.matches("job " .. id:gsub("%-", "%%-") .. " Succeeded; 24 documents", r.out)
  end)

  it("--json: JSON lines only, one per document, each once", function()
    local id = emu.create_job{ documents = 15, duration = 1 }.id
    local r = H.run("watch", id, "--documents", "--json")
    assert.equal(0, r.code, r.err)
    local docs = H.json_lines(r.out)
    assert.equal(15, #docs)
    local seen = {}
    for _, d in ipairs(docs) do
      assert.is_nil(seen[d.id])
      seen[d.id] = true
      assert.equal("Succeeded", d.status)
    end
    for doc in pairs(all_ids(id)) do assert.is_true(seen[doc], doc) end
  end)

  it("a failed job: its documents, then exit 3; --json without --documents is a usage error", function()
    local r = H.run("watch", H.FIXTURE_VALIDATION, "--documents")
    assert.equal(3, r.code, r.err)
    local u = H.run("watch", H.FIXTURE_SMALL, "--json")
    assert.equal(2, u.code)
    assert.matches("go with --documents", u.err, 1, true)
  end)
end)
