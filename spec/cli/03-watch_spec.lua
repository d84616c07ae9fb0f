-- doctranslate watch: plain lines off a terminal, the redrawn bar with --tty, the report at the end.
local H = require "cli.helper"
local emu = require "support.emulator"
local cli = require "doctranslate.cli"

describe("doctranslate watch", function()
  it("off a terminal: plain lines as the counts change, then the failure report; exit 4 with --strict", function()
    local id = emu.create_job{ documents = 60, duration = 2.5, fail_every = 9 }.id
    local r = H.run("watch", id, "--strict")
    assert.equal(4, r.code, r.err)
    assert.is_nil(r.out:find("\r", 1, true))
    assert.is_nil(r.out:find("\27", 1, true))
    local lines = H.lines(r.out)
    assert.equal("watching job " .. id, lines[1])
    local progress = {}
    for _, l in ipairs(lines) do
      if l:match("^%s*[%d.]+s  ") then progress[#progress + 1] = l end
    end
    assert.is_true(#progress >= 3, r.out)
    assert.matches("^%s*[%d.]+s  %a+%s+%d+/60%s", progress[1])
    assert.matches("Succeeded%s+60/60 100%%  ok 54  failed 6  running 0  waiting 0  [%d.]+/s  done in %d+s$",
      progress[#progress])
    -- no two plain lines say the same thing
    for i = 2, #progress do
      assert.are_not.equal(progress[i]:gsub("^%s*[%d.]+s", ""), progress[i - 1]:gsub("^%s*[%d.]+s", ""))
    end
    assert.is_truthy(r.out:find("job " .. id .. ": 6 failed documents in ", 1, true), r.out)
  end)

  it("exit 0 when the job ends with no failure; polls no faster than Retry-After", function()
    local id = emu.create_job{ documents = 10, duration = 1.5 }.id
    emu.clear_requests()
    local r = H.run("watch", id)
    assert.equal(0, r.code, r.err)
    assert.is_truthy(r.out:find("0 failed documents", 1, true))
    local times = {}
    for _, e in ipairs(emu.requests()) do
      if e.route == "job" then times[#times + 1] = emu.ticks(e.time) / 1e7 end
    end
    assert.is_true(#times >= 2)
    for i = 2, #times do assert.is_true(times[i] - times[i - 1] >= 0.95, "polled too fast") end
  end)

  it("--tty: the bar is redrawn in place (CR + erase line), then a newline and the report", function()
    local id = emu.create_job{ documents = 40, duration = 1.5, fail_every = 10 }.id
    local r = H.run("watch", id, "--tty")
    assert.equal(0, r.code, r.err) -- the job ran: some documents failed, --strict was not asked
    local redraws = select(2, r.out:gsub("\r\27%[2K", ""))
    assert.is_true(redraws >= 4, "redraws: " .. redraws) -- four a second between polls
    -- 80 columns (no terminal to ask): the bar, the counts that fit, the rate and the time taken
    assert.matches("\r\27%[2K%[#+%] Succeeded%s+40/40 100%%  ok 36  failed 4[^\r]*  [%d.]+/s  done in %d+s\n", r.out)
    for line in r.out:gmatch("\27%[2K([^\r\n]*)") do assert.is_true(#line <= 79, line) end
    assert.matches("^watching job [^\n]+\n\r\27%[2K%[[#.]+%] %a+%s+%d+/40%s", r.out)
    assert.is_truthy(r.out:find("job " .. id .. ": 4 failed documents", 1, true))
  end)

  it("a job that fails validation: exit 3 and the job's end state", function()
    local id = H.run("start", "--source", "https://a.blob.core.windows.net/validation-failed",
      "--target", "https://a.blob.core.windows.net/t:fr").out:match("%S+")
    -- the validation ends when a started job would have run (start_duration): on the emulator's
    -- clock, moved there rather than waited for
    emu.advance(emu.settings().start_duration)
    local r = H.run("watch", id)
    assert.equal(3, r.code, r.err)
    assert.matches("ValidationFailed", r.out)
  end)

  it("--max-wait: exit 1 with a timeout error when the job does not end in time", function()
    local id = emu.create_job{ documents = 10, duration = 30 }.id
    local r = H.run("watch", id, "--max-wait", "1.5")
    assert.equal(1, r.code)
    assert.matches("^doctranslate: timeout", r.err)
    assert.is_truthy(r.err:find("did not end within 1.5 s", 1, true), r.err)
  end)

  it("Ctrl-C: exit 130, the bar's line ended, no stack trace", function()
    local id = emu.create_job{ documents = 10, duration = 30 }.id
    local out, err = os.tmpname(), os.tmpname()
    local q = emu.shell_quote
    os.execute(("env DOCTRANSLATE_ENDPOINT=%s DOCTRANSLATE_KEY=%s DOCTRANSLATE_CA_FILE=%s %s %s watch %s --tty"
      .. " >%s 2>%s & p=$!; sleep 1.5; kill -INT $p; wait $p; echo $? >>%s"):format(q(emu.https), q(emu.key),
      q(emu.ca), q(H.LUA), q(H.BIN), q(id), q(out), q(err), q(err)))
    local fo, fe = io.open(out), io.open(err)
    local o, e = fo:read("*a"), fe:read("*a")
    fo:close()
    fe:close()
    os.remove(out)
    os.remove(err)
    assert.equal("doctranslate: interrupted\n130\n", e)
    assert.matches("\r\27%[2K%[[#.]+%][^\r]*\n$", o)
  end)

  it("an unknown job: exit 1 before any progress line", function()
    local r = H.run("watch", H.UNKNOWN)
    assert.equal(1, r.code)
    assert.equal("", r.out)
  end)
end)

describe("doctranslate.cli in-process", function()
  local function sink()
    local t = {}
    return { write = function(self, ...)
      for i = 1, select("#", ...) do t[#t + 1] = tostring((select(i, ...))) end
      return self
    end, flush = function() end, text = function() return table.concat(t) end }
  end

  it("main() takes its streams, environment and terminal setting from the caller", function()
    local out, err = sink(), sink()
    local env = { DOCTRANSLATE_ENDPOINT = emu.https, DOCTRANSLATE_KEY = emu.key, DOCTRANSLATE_CA_FILE = emu.ca }
    local code = cli.main({ "docs", H.FIXTURE_BIG, "--top", "3" },
      { stdout = out, stderr = err, getenv = function(k) return env[k] end, tty = true, columns = 100 })
    assert.equal(0, code, err.text())
    local lines = H.lines(out.text())
    assert.equal(5, #lines) -- the header, 3 documents, the count
    assert.equal("(3)", lines[5])
    for _, line in ipairs(lines) do assert.is_true(cli.text.width(line) <= 100, line) end
  end)

  it("progress_line: the bar, counts, rate and ETA", function()
    local p = { status = "Running", total = 1000, done = 500, success = 490, failed = 10, running = 8,
                waiting = 492, cancelled = 0, rate = 50, eta = 10, elapsed = 10 }
    assert.equal("[##########..........] Running    500/1000  50%  ok 490  failed 10  running 8  waiting 492"
      .. "  50.0/s  ETA 10s", cli.progress_line(p, true, 200))
    assert.equal("Running    500/1000  50%  ok 490  failed 10  running 8  waiting 492  50.0/s  ETA 10s",
      cli.progress_line(p, false))
    -- narrower: the per-state counts give way, never the rate and the ETA
    for _, w in ipairs({ 80, 60, 50 }) do
      local line = cli.progress_line(p, true, w)
      assert.is_true(#line <= w - 1, line)
      assert.matches("Running%s+500/1000  50%%.*  50%.0/s  ETA 10s$", line)
      if w >= 60 then assert.matches("^%[#####[#.]+%] ", line) end
    end
    assert.matches("failed 10", cli.progress_line(p, true, 80))
    p.rate, p.eta = nil, nil
    assert.matches("%-%-/s  ETA %?$", cli.progress_line(p, false))
  end)

  it("durations print as s, m s, h m", function()
    assert.equal("9s", cli.fmt_duration(9.4))
    assert.equal("2m05s", cli.fmt_duration(125))
    assert.equal("1h01m", cli.fmt_duration(3660))
    assert.equal("?", cli.fmt_duration(nil))
  end)

  it("parser(): global options before or after the command, --opt=value, repeats, comma lists", function()
    local ok, a = cli.parser():pparse({ "--retries", "1", "docs", "--status=Failed", "J", "--status",
                                        "Running,Cancelled", "-v", "--json" })
    assert.is_true(ok, a)
    assert.equal("docs", a.command)
    assert.equal("J", a.job)
    assert.same({ { "Failed" }, { "Running", "Cancelled" } }, a.status)
    assert.equal(1, a.retries)
    assert.equal(1, a.verbose)
    assert.is_true(a.json)
  end)

  it("stdout_is_terminal: false without TERM or with TERM=dumb", function()
    assert.is_false(cli.stdout_is_terminal(function() return nil end))
    assert.is_false(cli.stdout_is_terminal(function(k) return k == "TERM" and "dumb" or nil end))
  end)
end)

describe("the key", function()
  it("never appeared in any output of any command run by these specs", function()
    assert.is_true(#H.outputs > 0)
    for _, text in ipairs(H.outputs) do
      assert.is_nil(text:find(emu.key, 1, true))
    end
  end)
end)
