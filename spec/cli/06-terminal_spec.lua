-- bin/doctranslate on a terminal and in scripts: exit codes, widths at 80 columns, UTF-8 output,
-- one-line errors, retry messages, id checks before any request, the continuation offer.
local H = require "cli.helper"
local emu = require "support.emulator"
local cli = require "doctranslate.cli"

local W = cli.text.width

-- Whether s is valid UTF-8 (the decoder the CLI uses does not judge its own output).
local function valid_utf8(s)
  local i, n = 1, #s
  while i <= n do
    local c = s:byte(i)
    local len = c < 0x80 and 1 or (c >= 0xC2 and c <= 0xDF) and 2 or (c >= 0xE0 and c <= 0xEF) and 3
                or (c >= 0xF0 and c <= 0xF4) and 4 or nil
    if not len then return false, i end
    for k = 1, len - 1 do
      local b = s:byte(i + k)
      if not b or b < 0x80 or b > 0xBF then return false, i end
    end
    if (c == 0xE0 and s:byte(i + 1) < 0xA0) or (c == 0xED and s:byte(i + 1) > 0x9F)
       or (c == 0xF0 and s:byte(i + 1) < 0x90) or (c == 0xF4 and s:byte(i + 1) > 0x8F) then
      return false, i
    end
    i = i + len
  end
  return true
end

describe("doctranslate exit codes", function()
  local cases = {
    { "a Succeeded job with failed documents: the job ran", { "status", H.FIXTURE_BIG }, 0 },
    { "the same with --strict: some documents failed", { "status", H.FIXTURE_BIG, "--strict" }, 4 },
    { "a Succeeded job with no failure, --strict", { "status", H.FIXTURE_SMALL, "--strict" }, 0 },
    { "a job that failed validation", { "status", H.FIXTURE_VALIDATION }, 3 },
    { "failures of a job with failed documents", { "failures", H.FIXTURE_BIG }, 4 },
    { "failures of a job that failed", { "failures", H.FIXTURE_VALIDATION }, 3 },
    { "a failed document", { "doc", H.FIXTURE_BIG, "000003e1-0000-0000-0000-000000000003" }, 4 },
    { "a job the service does not know: the command failed", { "status", H.UNKNOWN }, 1 },
    { "a usage error", { "status" }, 2 },
  }
  for _, case in ipairs(cases) do
    it(case[1] .. ": exit " .. case[3], function()
      local r = H.run(case[2])
      assert.equal(case[3], r.code, r.err)
    end)
  end

  it("are listed by --help, and `set -e` scripts can ask whether a job ran", function()
    local r = H.run("--help")
    for code, words in pairs({ [0] = "ok", "the command failed", "usage", "the job failed",
                               "some documents failed" }) do
      assert.is_truthy(r.out:find("\n  " .. code .. "  " .. words, 1, true), words)
    end
    local q = emu.shell_quote
    local script = ("set -e; %s %s status %s >/dev/null; echo ran"):format(q(H.LUA), q(H.BIN), H.FIXTURE_BIG)
    local sh = H.run{ "--version" } -- the environment H.run sets, for the script below
    assert.equal(0, sh.code)
    local p = io.popen(("env DOCTRANSLATE_ENDPOINT=%s DOCTRANSLATE_KEY=%s DOCTRANSLATE_CA_FILE=%s sh -c %s")
      :format(q(emu.https), q(emu.key), q(emu.ca), q(script)))
    local out = p:read("*a")
    p:close()
    assert.equal("ran\n", out)
  end)
end)

describe("doctranslate tables at 80 columns", function()
  it("docs: every line fits, the error code and message get the room", function()
    local r = H.run{ "docs", H.FIXTURE_BIG, "--status", "Failed", "--top", "20", "--tty",
                     env = { COLUMNS = "80" } }
    assert.equal(0, r.code, r.err)
    local lines = H.lines(r.out)
    assert.equal(22, #lines)
    for _, line in ipairs(lines) do assert.is_true(W(line) <= 80, line) end
    for i = 2, 21 do
      -- the innermost code and a message that reads as words, not "Inv~"
      assert.matches("  (%u%a+): (%u%a+ %a+ [%a ]+)", lines[i])
    end
    assert.is_truthy(r.out:find("EmptyDocument: Document is empty", 1, true), r.out)
  end)

  it("docs: a wide terminal shows the full ids, code path and message", function()
    local r = H.run{ "docs", H.FIXTURE_BIG, "--status", "Failed", "--top", "3", "--tty",
                     env = { COLUMNS = "200" } }
    assert.equal(3, #H.rows(r.out))
    assert.is_truthy(r.out:find("InvalidRequest/EmptyDocument: Document is empty or missing main part.\n", 1, true))
  end)

  it("jobs: every line fits in 80 columns, the counts that matter stay", function()
    local r = H.run{ "jobs", "--top", "5", "--tty", env = { COLUMNS = "80" } }
    assert.equal(0, r.code, r.err)
    local lines = H.lines(r.out)
    assert.matches("^job%s+status%s+created %(UTC%)%s+total%s+success%s+failed", lines[1])
    for _, line in ipairs(lines) do assert.is_true(W(line) <= 80, line) end
  end)

  it("off a terminal nothing is cut (a pipe gets whole values)", function()
    local r = H.run{ "docs", H.FIXTURE_BIG, "--status", "Failed", "--top", "3", env = { COLUMNS = "80" } }
    for _, row in ipairs(H.rows(r.out)) do assert.is_nil(row:find("\226\128\166", 1, true), row) end
  end)
end)

describe("doctranslate text", function()
  it("measures display columns: East Asian wide characters count 2, combining marks 0", function()
    assert.equal(5, W("abcde"))
    assert.equal(10, W("日本語文書"))
    assert.equal(4, W("ｶﾀｶﾅ")) -- half-width katakana: 1 each
    assert.equal(1, W("e\204\129")) -- e + combining acute
    assert.equal(3, W("a\255b")) -- an invalid byte shows as one U+FFFD
  end)

  it("clips at the end or in the middle, never inside a character, always valid UTF-8", function()
    local s = "翻訳/ドキュメント/報告書-最終版.docx"
    for w = 1, W(s) + 1 do
      for _, f in ipairs({ cli.text.clip, cli.text.clip_middle }) do
        local c = f(s, w)
        assert.is_true(valid_utf8(c), c)
        assert.is_true(W(c) <= w, c .. " in " .. w)
        assert.is_true(W(c) >= w - 1 or c == s, c .. " in " .. w) -- a wide character may leave one column
      end
    end
    assert.equal("翻訳/ドキ…版.docx", cli.text.clip_middle(s, 18))
    assert.equal("翻訳/ドキュ…", cli.text.clip(s, 12))
    assert.equal("a\239\191\189b", cli.text.clean("a\27b")) -- no escape reaches the terminal
  end)
end)

describe("doctranslate with Japanese paths (a server that answers with them)", function()
  local S = require "security.scripted"
  local JOB = "7e0fa1b2-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
  local function doc(i, status, path, err)
    return ('{"id":"%08x-0000-4000-8000-00000000000%d","path":"https://a.blob.core.windows.net/out/%s",'
      .. '"sourcePath":"https://a.blob.core.windows.net/in/%s","createdDateTimeUtc":"2024-10-11T01:26:30Z",'
      .. '"lastActionDateTimeUtc":"2024-10-11T01:27:30Z","status":"%s","to":"ja","progress":1,'
      .. '"characterCharged":120%s}'):format(i, i, path, path, status,
      err and (',"error":{"code":"InvalidRequest","message":"%s","target":"Document",'
               .. '"innerError":{"code":"DocumentCorrupted","message":"%s"}}'):format(err, err) or "")
  end
  local PATHS = { "プロジェクト/翻訳済み/年次報告書_2024年度_最終版_社外秘.docx",
                  "資料/会議メモ/東京本社/第三四半期の売上見通しと課題の整理.pptx",
                  "短い.txt" }
  local body = '{"value":[' .. table.concat({
    doc(1, "Succeeded", PATHS[1]),
    doc(2, "Failed", PATHS[2], "文書が破損しているか、開くことができません。ファイルを確認してください。"),
    doc(3, "Succeeded", PATHS[3]),
  }, ",") .. "]}"
  local srv
  setup(function()
    srv = S.start{ S.response("200 OK", { "Content-Type: application/json; charset=utf-8" }, body) }
  end)
  teardown(function() if srv then srv:stop() end end)

  for _, cols in ipairs({ 80, 60, 45 }) do
    it(("fit %d columns as valid UTF-8, shortened in the middle"):format(cols), function()
      local r = H.run{ "docs", JOB, "--tty", "--endpoint", srv.url, env = { COLUMNS = tostring(cols) } }
      assert.equal(0, r.code, r.err)
      assert.is_true(valid_utf8(r.out), r.out)
      local lines = H.lines(r.out)
      assert.equal(5, #lines)
      for _, line in ipairs(lines) do assert.is_true(W(line) <= cols, W(line) .. ": " .. line) end
      -- the source path keeps both ends: the scheme and the file's extension
      assert.matches("  https:/[^\n]*…[^\n]*%.docx\n", r.out)
      if cols >= 60 then
        assert.is_truthy(r.out:find("DocumentCorrupted: 文書が", 1, true), r.out)
        assert.is_truthy(r.out:find("/in/短い.txt\n", 1, true), r.out)
      end
    end)
  end

  it("off a terminal: whole values, valid UTF-8", function()
    local r = H.run{ "docs", JOB, "--endpoint", srv.url }
    assert.equal(0, r.code, r.err)
    assert.is_true(valid_utf8(r.out))
    assert.is_truthy(r.out:find("/in/" .. PATHS[1] .. "\n", 1, true), r.out)
    assert.is_truthy(r.out:find("/in/" .. PATHS[3] .. "\n", 1, true), r.out)
    assert.is_truthy(r.out:find("InvalidRequest/DocumentCorrupted: 文書が破損しているか", 1, true), r.out)
  end)
end)

describe("doctranslate errors", function()
  it("a service error is one line: kind, status, code, message, request id", function()
    local r = H.run("status", H.UNKNOWN)
    assert.equal(1, r.code)
    local lines = H.lines(r.err)
    assert.equal(1, #lines, r.err)
    assert.matches("^doctranslate: http 404 ResourceNotFound: The requested translation job was not found%. "
      .. "%(apim%-request%-id %x+%-[%x-]+%)$", lines[1])
  end)

  it("-v shows the rest: target, inner errors, every request id", function()
    local r = H.run("status", H.UNKNOWN, "-v")
    assert.matches("\ndoctranslate: http 404 ResourceNotFound: The requested translation job was not found%.\n", r.err)
    assert.matches("\n  target: Operation\n", r.err)
    assert.matches("\n  inner error: %a+: ", r.err)
    assert.matches("\n  x%-ms%-client%-request%-id: %x+%-", r.err)
  end)
end)

describe("doctranslate retries", function()
  it("are said on stderr with -v: what the try got, which retry, when", function()
    local r = H.run("status", H.FIXTURE_SMALL, "--endpoint", "https://127.0.0.1:1", "--retries", "2", "-v")
    assert.equal(1, r.code)
    local said = {}
    for line in r.err:gmatch("[^\n]+") do
      if line:match("retry") then said[#said + 1] = line end
    end
    assert.equal(2, #said, r.err)
    for i, line in ipairs(said) do
      assert.matches(("^doctranslate: no response; retry %d of 2 in [%%d.]+ s %%(at %%d%%d:%%d%%d:%%d%%d UTC%%)$")
        :format(i), line)
    end
  end)

  it("name the service's answer (a 429 with Retry-After)", function()
    emu.fault{ route = "job", job = H.FIXTURE_SMALL, action = "status", status = 429, retry_after = 1 }
    local r = H.run("status", H.FIXTURE_SMALL, "-v")
    emu.clear_faults()
    assert.equal(0, r.code, r.err)
    assert.matches("doctranslate: HTTP 429; retry 1 of %d+ in 1%.0 s", r.err)
  end)

  it("are silent in a pipe without -v, said when stderr is a terminal", function()
    local quiet = H.run("status", H.FIXTURE_SMALL, "--endpoint", "https://127.0.0.1:1", "--retries", "1")
    assert.equal(1, quiet.code)
    assert.equal(1, #H.lines(quiet.err), quiet.err)
    local err = {}
    local sink = { write = function(self, s) err[#err + 1] = s return self end, flush = function() end }
    local env = { DOCTRANSLATE_ENDPOINT = "https://127.0.0.1:1", DOCTRANSLATE_KEY = emu.key }
    local code = cli.main({ "status", H.FIXTURE_SMALL, "--retries", "1" },
      { stdout = sink, stderr = sink, getenv = function(k) return env[k] end, tty = false, stderr_tty = true })
    assert.equal(1, code)
    assert.matches("^doctranslate: no response; retry 1 of 1 in [%d.]+ s %(at [%d:]+ UTC%)\n", table.concat(err))
  end)
end)

describe("doctranslate ids", function()
  it("a malformed job or document id is refused before any request, with a clear message", function()
    for _, argv in ipairs({
      { "status", "not-a-job" }, { "docs", "123" }, { "cancel", "x" }, { "watch", "0aea2ca5" },
      { "doc", H.FIXTURE_BIG, "doc-1" }, { "status", "not-a-job", "--api-version", "v1.0" },
    }) do
      emu.clear_requests()
      local r = H.run(argv)
      assert.equal(2, r.code, table.concat(argv, " "))
      assert.matches("^doctranslate: %a+: '[^']+' is not a %a+ id: API version [%w.-]+ takes a GUID", r.err)
      assert.equal(0, #emu.requests(), table.concat(argv, " "))
    end
    -- upper case GUIDs are GUIDs
    local r = H.run("status", H.FIXTURE_SMALL:upper())
    assert.equal(0, r.code, r.err)
  end)
end)

describe("doctranslate listings that fail", function()
  it("offer --continuation only when something was listed", function()
    emu.fault{ route = "documents", job = H.FIXTURE_BIG, page = 1, action = "status", status = 400 }
    local r = H.run("docs", H.FIXTURE_BIG, "--page-size", "10", "--retries", "0")
    emu.clear_faults()
    assert.equal(1, r.code)
    assert.is_nil(r.err:find("continuation", 1, true), r.err)
    assert.equal(1, #H.lines(r.err))

    emu.fault{ route = "jobs", page = 1, action = "status", status = 500 }
    r = H.run("jobs", "--retries", "0")
    emu.clear_faults()
    assert.equal(1, r.code)
    assert.is_nil(r.err:find("continuation", 1, true), r.err)

    emu.fault{ route = "documents", job = H.FIXTURE_BIG, page = 2, action = "status", status = 400 }
    r = H.run("docs", H.FIXTURE_BIG, "--page-size", "10", "--retries", "0")
    emu.clear_faults()
    assert.equal(1, r.code)
    assert.matches("doctranslate: 10 listed; resume this listing with %-%-continuation %S+\n", r.err)
  end)

  it("a status that does not exist is refused before any request", function()
    emu.clear_requests()
    local r = H.run("jobs", "--status", "Nope")
    assert.equal(2, r.code)
    assert.is_nil(r.err:find("continuation", 1, true))
    assert.equal(0, #emu.requests())
  end)
end)
