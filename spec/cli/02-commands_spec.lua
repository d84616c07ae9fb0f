-- bin/doctranslate: each command against the emulator, as tables and as --json, with its exit codes.
local H = require "cli.helper"
local emu = require "support.emulator"

local function ids_of(list)
  local t = {}
  for i, v in ipairs(list) do t[i] = v.id end
  return t
end

describe("doctranslate status", function()
  it("prints the status and summary; exit 0 for a Succeeded job with failed documents", function()
    local r = H.run("status", H.FIXTURE_BIG)
    assert.equal(0, r.code)
    assert.matches("job%s+" .. H.FIXTURE_BIG:gsub("%-", "%%-"), r.out)
    assert.matches("status%s+Succeeded", r.out)
    assert.is_truthy(r.out:find("1000 total: 858 succeeded, 142 failed, 0 in progress, 0 not started, 0 cancelled",
      1, true), r.out)
    assert.equal("", r.err)
  end)

  it("exit 0 for a job that succeeded entirely", function()
    local r = H.run("status", H.FIXTURE_SMALL)
    assert.equal(0, r.code)
    assert.is_truthy(r.out:find("10 total: 10 succeeded", 1, true))
  end)

  it("exit 3 and the job's error for a job that failed validation", function()
    local r = H.run("status", H.FIXTURE_VALIDATION)
    assert.equal(3, r.code)
    assert.matches("status%s+ValidationFailed", r.out)
    assert.matches("\nerror%s+%S+", r.out)
  end)

  it("--json gives the job as one object with the service's fields", function()
    local r = H.run("status", H.FIXTURE_BIG, "--json")
    assert.equal(0, r.code)
    local lines = H.lines(r.out)
    assert.equal(1, #lines)
    local j = emu.decode(lines[1])
    assert.equal(H.FIXTURE_BIG, j.id)
    assert.equal("Succeeded", j.status)
    assert.same({ total = 1000, success = 858, failed = 142, inProgress = 0, notYetStarted = 0, cancelled = 0,
                  totalCharacterCharged = j.summary.totalCharacterCharged }, j.summary)
    assert.matches('^{"id":"[^"]+","createdDateTimeUtc":', lines[1]) -- the service's field order
  end)

  it("an unknown job: exit 1, the service's code, message and request ids on stderr with -v", function()
    local r = H.run("status", H.UNKNOWN, "-v")
    assert.equal(1, r.code)
    assert.equal("", r.out)
    assert.matches("\ndoctranslate: http 404 ResourceNotFound: The requested translation job was not found%.\n", r.err)
    assert.matches("\n  target: Operation", r.err)
    assert.matches("\n  apim%-request%-id: %x+%-", r.err)
    assert.matches("\n  x%-requestid: %x+%-", r.err)
    assert.matches("\n  x%-ms%-client%-request%-id: %x+%-", r.err)
  end)

  it("a network error: exit 1, kind network", function()
    local r = H.run("status", H.FIXTURE_BIG, "--endpoint", "https://127.0.0.1:1", "--retries", "0")
    assert.equal(1, r.code)
    assert.matches("^doctranslate: network", r.err)
  end)

  it("rides out a 429 with Retry-After (the core retries)", function()
    emu.fault{ route = "job", job = H.FIXTURE_SMALL, action = "status", status = 429, retry_after = 1 }
    local r = H.run("status", H.FIXTURE_SMALL)
    emu.clear_faults()
    assert.equal(0, r.code, r.err)
  end)
end)

describe("doctranslate doc", function()
  local ok_id, failed_id
  setup(function()
    local r = H.run("docs", H.FIXTURE_BIG, "--json", "--order", "asc", "--top", "7")
    local docs = H.json_lines(r.out)
    ok_id, failed_id = docs[1].id, docs[7].id
    assert.equal("Failed", docs[7].status)
  end)

  it("prints a document; exit 0 when it succeeded", function()
    local r = H.run("doc", H.FIXTURE_BIG, ok_id)
    assert.equal(0, r.code, r.err)
    assert.matches("\nstatus%s+Succeeded\n", r.out)
    assert.matches("\nprogress%s+100%%\n", r.out)
    assert.matches("\nsourcePath%s+https://", r.out)
  end)

  it("exit 4 with the error chain for a failed document", function()
    local r = H.run("doc", H.FIXTURE_BIG, failed_id)
    assert.equal(4, r.code)
    assert.matches("\nstatus%s+Failed\n", r.out)
    assert.matches("\nerror%s+InvalidRequest/%a+: ", r.out)
  end)

  it("--json keeps the service's fields", function()
    local r = H.run("doc", H.FIXTURE_BIG, failed_id, "--json")
    assert.equal(4, r.code)
    local d = emu.decode(r.out)
    assert.equal(failed_id, d.id)
    assert.equal("InvalidRequest", d.error.code)
    assert.is_string(d.error.innerError.code)
  end)

  it("an unknown document: exit 1", function()
    local r = H.run("doc", H.FIXTURE_BIG, "ffffffff-0000-0000-0000-000000000003")
    assert.equal(1, r.code)
    assert.matches("^doctranslate: http 404", r.err)
  end)
end)

describe("doctranslate docs", function()
  it("prints a table with a header and one row per document, then the count", function()
    local r = H.run("docs", H.FIXTURE_BIG, "--top", "25")
    assert.equal(0, r.code, r.err)
    local lines = H.lines(r.out)
    assert.matches("^document%s+status%s+to%s+done%s+chars%s+source / error$", lines[1])
    assert.equal(25, #H.rows(r.out))
    assert.equal("(25)", lines[#lines])
  end)

  it("streams: one request per page, each page printed as it arrives", function()
    emu.clear_requests()
    local r = H.run("docs", H.FIXTURE_BIG, "--page-size", "7", "--top", "30", "--json")
    assert.equal(0, r.code, r.err)
    local docs = H.json_lines(r.out)
    assert.equal(30, #docs)
    local pages = 0
    for _, e in ipairs(emu.requests()) do
      if e.route == "documents" then pages = pages + 1 end
    end
    assert.equal(5, pages) -- ceil(30 / 7)
  end)

  it("--json: one object a line, the service's field order, distinct ids", function()
    local r = H.run("docs", H.FIXTURE_BIG, "--json", "--page-size", "100")
    assert.equal(0, r.code)
    local docs = H.json_lines(r.out)
    assert.equal(1000, #docs)
    local seen, n = {}, 0
    for _, d in ipairs(docs) do
      if not seen[d.id] then n = n + 1 end
      seen[d.id] = true
    end
    assert.equal(1000, n)
    assert.matches('^{"id":"[^"]+",', H.lines(r.out)[1])
    assert.is_nil(r.out:find("\\/", 1, true)) -- URLs are not escaped
  end)

  it("--status Failed lists exactly the failed documents, with their errors", function()
    local r = H.run("docs", H.FIXTURE_BIG, "--status", "Failed", "--page-size", "100")
    assert.equal(0, r.code)
    local rows = H.rows(r.out)
    assert.equal(142, #rows)
    for _, row in ipairs(rows) do assert.matches("%s+Failed%s+.*InvalidRequest/%a+: ", row) end
  end)

  it("--status takes repeats and comma lists; --id filters", function()
    local r = H.run("docs", H.FIXTURE_BIG, "--json", "--status", "Failed,Cancelled", "--status", "Running")
    assert.equal(142, #H.json_lines(r.out))
    local some = ids_of(H.json_lines(H.run("docs", H.FIXTURE_BIG, "--json", "--top", "3").out))
    r = H.run("docs", H.FIXTURE_BIG, "--json", "--id", some[1] .. "," .. some[2], "--id", some[3])
    local got = ids_of(H.json_lines(r.out))
    table.sort(got)
    table.sort(some)
    assert.same(some, got)
  end)

  it("--order asc|desc, --order-by, --skip, --top", function()
    local asc = H.json_lines(H.run("docs", H.FIXTURE_BIG, "--json", "--order", "asc", "--top", "5").out)
    local desc = H.json_lines(H.run("docs", H.FIXTURE_BIG, "--json", "--order", "desc", "--top", "5").out)
    assert.is_true(emu.ticks(asc[1].createdDateTimeUtc) < emu.ticks(asc[5].createdDateTimeUtc))
    assert.is_true(emu.ticks(desc[1].createdDateTimeUtc) > emu.ticks(desc[5].createdDateTimeUtc))
    local skipped = H.json_lines(H.run("docs", H.FIXTURE_BIG, "--json", "--order-by", "createdDateTimeUtc asc",
      "--skip", "3", "--top", "2").out)
    assert.same({ asc[4].id, asc[5].id }, ids_of(skipped))
    local last = H.json_lines(H.run("docs", H.FIXTURE_BIG, "--json", "--order-by", "lastActionDateTimeUtc",
      "--order", "desc", "--top", "3").out)
    assert.equal(3, #last)
  end)

  it("--concurrency N: the same documents in the same order as the sequential listing", function()
    local seq = H.run("docs", H.FIXTURE_BIG, "--json", "--page-size", "100")
    emu.clear_requests()
    local par = H.run("docs", H.FIXTURE_BIG, "--json", "--page-size", "100", "--concurrency", "4")
    assert.equal(0, par.code, par.err)
    assert.same(ids_of(H.json_lines(seq.out)), ids_of(H.json_lines(par.out)))
    local r = H.run("docs", H.FIXTURE_BIG, "--concurrency", "17")
    assert.equal(2, r.code)
  end)

  it("--created-after / --created-before narrow by date", function()
    local asc = H.json_lines(H.run("docs", H.FIXTURE_BIG, "--json", "--order", "asc", "--top", "10").out)
    local r = H.run("docs", H.FIXTURE_BIG, "--json", "--order", "asc", "--created-after", asc[3].createdDateTimeUtc,
      "--created-before", asc[6].createdDateTimeUtc)
    assert.equal(0, r.code, r.err)
    assert.same({ asc[3].id, asc[4].id, asc[5].id, asc[6].id }, ids_of(H.json_lines(r.out)))
  end)

  it("a failure half way: exit 1, the documents so far on stdout, how to resume on stderr", function()
    emu.fault{ route = "documents", job = H.FIXTURE_BIG, page = 3, action = "status", status = 400 }
    local r = H.run("docs", H.FIXTURE_BIG, "--json", "--order", "asc", "--page-size", "10", "--retries", "0")
    emu.clear_faults()
    assert.equal(1, r.code)
    assert.equal(20, #H.json_lines(r.out))
    local token = r.err:match("resume this listing with %-%-continuation (%S+)")
    assert.is_string(token, r.err)
    local rest = H.run("docs", H.FIXTURE_BIG, "--json", "--continuation", token)
    assert.equal(0, rest.code, rest.err)
    assert.equal(980, #H.json_lines(rest.out))
  end)

  it("an unknown job: exit 1 and no rows", function()
    local r = H.run("docs", H.UNKNOWN)
    assert.equal(1, r.code)
    assert.equal(0, #H.rows(r.out))
    assert.matches("ResourceNotFound", r.err)
  end)
end)

describe("doctranslate jobs", function()
  setup(function()
    -- created in the future, so they are the newest whatever other specs made
    emu.create_job{ documents = 3, created = os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() + 3600) }
    emu.create_job{ documents = 4, fail_every = 2, created = os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() + 7200) }
  end)

  it("lists jobs as a table, newest first", function()
    local r = H.run("jobs", "--top", "2")
    assert.equal(0, r.code, r.err)
    local lines = H.lines(r.out)
    assert.matches("^job%s+status%s+created %(UTC%)%s+total%s+success%s+failed%s+running%s+waiting$", lines[1])
    assert.equal(2, #H.rows(r.out))
    assert.matches("%s4%s+2%s+2%s+0%s+0$", H.rows(r.out)[1])
  end)

  it("--json, --status and --order", function()
    local r = H.run("jobs", "--json", "--status", "ValidationFailed")
    assert.equal(0, r.code, r.err)
    local jobs = H.json_lines(r.out)
    assert.is_true(#jobs >= 1)
    for _, j in ipairs(jobs) do assert.equal("ValidationFailed", j.status) end
    local asc = H.json_lines(H.run("jobs", "--json", "--order", "asc", "--top", "2").out)
    assert.is_true(emu.ticks(asc[1].createdDateTimeUtc) <= emu.ticks(asc[2].createdDateTimeUtc))
  end)
end)

describe("doctranslate start and cancel", function()
  it("start prints the new job's id alone on stdout", function()
    local r = H.run("start", "--source", "https://acct.blob.core.windows.net/src?sv=2024&sig=SECRETSIG",
      "--target", "https://acct.blob.core.windows.net/fr?sig=OTHER:fr",
      "--target", "https://acct.blob.core.windows.net/de:de",
      "--source-language", "en", "--prefix", "reports/", "--suffix", ".docx")
    assert.equal(0, r.code, r.err)
    local id = r.out:match("^(%x+%-%x+%-%x+%-%x+%-%x+)\n$")
    assert.is_string(id, r.out)
    local log = emu.requests()
    local body = emu.decode(log[#log].body)
    local input = body.inputs[1]
    assert.equal("en", input.source.language)
    assert.same({ prefix = "reports/", suffix = ".docx" }, input.source.filter)
    assert.equal(2, #input.targets)
    assert.equal("fr", input.targets[1].language)
    assert.equal("https://acct.blob.core.windows.net/de", input.targets[2].targetUrl)
    local s = H.run("status", id)
    assert.is_truthy(s.out:find(id, 1, true))
    assert.is_nil(s.out:find("SECRETSIG", 1, true))
    -- cancel it: Cancelling, then Cancelled
    local c = H.run("cancel", id)
    assert.equal(0, c.code, c.err)
    assert.matches("^job " .. id:gsub("%-", "%%-") .. " Cancell", c.out)
  end)

  it("start --json gives the job; the service's validation errors exit 2", function()
    local r = H.run("start", "--source", "https://a.blob.core.windows.net/s", "--target",
      "https://a.blob.core.windows.net/t:fr", "--json", "--storage-type", "Folder")
    assert.equal(0, r.code, r.err)
    local j = emu.decode(r.out)
    assert.is_string(j.id)
    -- more than 10 targets: the library's usage error names the field
    local argv = { "start", "--source", "https://a.blob.core.windows.net/s" }
    for i = 1, 11 do
      argv[#argv + 1] = "--target"
      argv[#argv + 1] = "https://a.blob.core.windows.net/t" .. i .. ":fr"
    end
    local u = H.run(argv)
    assert.equal(2, u.code)
    assert.matches("targets", u.err)
    -- a storage type the service does not have: refused before any request
    local s = H.run("start", "--source", "https://a.blob.core.windows.net/s", "--target",
      "https://a.blob.core.windows.net/t:fr", "--storage-type", "Drawer")
    assert.equal(2, s.code, s.err)
    assert.matches("storage%-type", s.err)
  end)

  it("cancel of a job that has ended: the service's error, exit 1", function()
    local r = H.run("cancel", H.FIXTURE_SMALL)
    assert.equal(1, r.code)
    assert.matches("^doctranslate: http 409 ", r.err)
    local v1 = H.run("cancel", H.FIXTURE_SMALL, "--api-version", "v1.1")
    assert.equal(1, v1.code)
    assert.matches("^doctranslate: http 400 ", v1.err)
  end)

  it("cancel --json gives the job", function()
    local id = H.run("start", "--source", "https://a.blob.core.windows.net/s", "--target",
      "https://a.blob.core.windows.net/t:fr").out:match("%S+")
    local r = H.run("cancel", id, "--json")
    assert.equal(0, r.code, r.err)
    local j = emu.decode(r.out)
    assert.equal(id, j.id)
    assert.matches("^Cancel", j.status)
  end)
end)

describe("doctranslate formats", function()
  it("lists document formats as a table and as JSON lines, in every URL family", function()
    for _, v in ipairs({ "2026-03-01", "v1.1" }) do
      local r = H.run("formats", "--api-version", v)
      assert.equal(0, r.code, r.err)
      assert.matches("\nPlainText%s+%.txt", r.out)
      local j = H.json_lines(H.run("formats", "--json", "--api-version", v).out)
      assert.is_true(#j > 5)
      assert.is_string(j[1].format)
      assert.is_table(j[1].fileExtensions)
    end
  end)

  it("--type glossary", function()
    local j = H.json_lines(H.run("formats", "--type", "glossary", "--json").out)
    local names = {}
    for _, f in ipairs(j) do names[f.format] = true end
    assert.is_true(names.XLIFF and names.TSV)
  end)
end)

describe("doctranslate failures", function()
  it("prints the library's report; exit 4 when documents failed", function()
    local r = H.run("failures", H.FIXTURE_BIG)
    assert.equal(4, r.code)
    assert.is_truthy(r.out:find("job " .. H.FIXTURE_BIG .. ": 142 failed documents in 3 groups", 1, true), r.out)
    assert.matches("\n%s+%d+%s+InvalidRequest > EmptyDocument%s", r.out)
  end)

  it("--json is the report as one object", function()
    local r = H.run("failures", H.FIXTURE_BIG, "--json")
    assert.equal(4, r.code)
    local rep = emu.decode(r.out)
    assert.equal(142, rep.failed)
    assert.equal(142, #rep.documents)
    local sum = 0
    for _, g in ipairs(rep.groups) do sum = sum + g.count end
    assert.equal(142, sum)
  end)

  it("exit 0 when nothing failed", function()
    local r = H.run("failures", H.FIXTURE_SMALL)
    assert.equal(0, r.code, r.err)
    assert.is_truthy(r.out:find("0 failed documents", 1, true))
  end)
end)
