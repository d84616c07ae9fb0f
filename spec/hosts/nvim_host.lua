-- The Neovim plugin (examples/nvim) in headless Neovim against the emulator over HTTPS:
-- :DocTranslateWatch follows a job that runs for 3 s to its end, :DocTranslateDocs lists a job of
-- 1,000 documents whose pages the emulator delays by 300 ms each, and a timer firing every 10 ms
-- inside Neovim notes how late it is meanwhile (spec/hosts/nvim_check.lua runs inside Neovim).
--
--   make test-hosts   (its own emulator; this file is not part of `make test`)
local emu = require "support.emulator"

local OUT = os.getenv("HOSTS_OUT") or "build/hosts"
local q = emu.shell_quote

local function read(path)
  local fh = io.open(path, "rb")
  if not fh then return nil end
  local s = fh:read("a")
  fh:close()
  return s
end

local function job(o)
  local j = emu.create_job(o)
  return type(j) == "table" and (j.id or j.job_id) or j
end

describe("the Neovim plugin (examples/nvim), headless", function()
  local status, f, watch_job, docs_job

  setup(function()
    watch_job = job{ documents = 50, duration = 3, fail_every = 7 }
    docs_job = job{ documents = 1000, fail_every = 37 }
    emu.fault{ route = "documents", job = docs_job, action = "latency", ms = 300, times = -1 }
    os.execute("mkdir -p " .. q(OUT))
    local out = OUT .. "/nvim.txt"
    os.remove(out)
    local cmd = table.concat({
      "env", "DT_NVIM_OUT=" .. q(out), "DT_NVIM_WATCH_JOB=" .. q(watch_job), "DT_NVIM_DOCS_JOB=" .. q(docs_job),
      "DT_NVIM_ENDPOINT=" .. q(emu.https), "DT_NVIM_CA=" .. q(emu.ca), "DOCTRANSLATE_KEY=" .. q(emu.key),
      "timeout 120 nvim --headless -u NONE -i NONE --cmd 'set rtp^=examples/nvim'",
      "--cmd 'runtime plugin/doctranslate.lua' -c 'luafile spec/hosts/nvim_check.lua'",
      ">" .. q(OUT .. "/nvim.log"), "2>&1 </dev/null",
    }, " ")
    local ok, how, code = os.execute(cmd)
    status = ok and 0 or (how == "exit" and code or -1)
    f = {}
    for name, value in (read(out) or ""):gmatch("(%S+) ([^\n]*)") do f[name] = tonumber(value) or value end
    print(("\nNeovim: a 10 ms timer late by p50 %.3f ms, p99 %.3f ms, max %.3f ms over %d ticks while %d "
      .. "documents were listed (%d pages of 300 ms) and a job watched to %s in %.2f s; the slowest step "
      .. "%.3f ms of %d"):format(f.late_p50_ms or -1, f.late_p99_ms or -1, f.late_max_ms or -1, f.ticks or 0,
      f.docs_lines or 0, f.docs_pages or 0, tostring(f.watch_status), f.seconds or -1, f.step_max_ms or -1,
      f.steps or 0))
  end)

  it("ends: Neovim quits with 0 once both commands are done", function()
    assert.are.equal(0, status, read(OUT .. "/nvim.log"))
    assert.are.equal("done", f.reason, read(OUT .. "/nvim.log"))
  end)

  it(":DocTranslateWatch follows the job to its end, in a floating window", function()
    assert.are.equal(1, f.watch_done)
    assert.are.equal("Succeeded", f.watch_status)
    assert.are.equal(50, f.watch_total)
    assert.are.equal(50, f.watch_finished)
    assert.is_true(f.watch_polls >= 3, "polls: " .. tostring(f.watch_polls)) -- it watched it live
    assert.are.equal(1, f.watch_window)
  end)

  it(":DocTranslateDocs fills the buffer with every document exactly once", function()
    assert.are.equal(1, f.docs_done)
    assert.are.equal("none", f.docs_error)
    assert.are.equal(1000, f.docs_lines)
    assert.are.equal(1000, f.docs_distinct)
    assert.are.equal(0, f.docs_duplicates)
    assert.are.equal(10, f.docs_pages)
    assert.are.equal(emu.job(docs_job).summary.failed, f.docs_failed_with_code)
  end)

  it("never shows the key (buffer, messages, the watch)", function()
    assert.are.equal(0, f.key_shown)
  end)

  it("never blocks the editor: a 10 ms timer is never late by more than 20 ms", function()
    assert.is_true(f.ticks >= 100, "ticks: " .. tostring(f.ticks))
    assert.is_true(f.late_max_ms <= 20, "max " .. tostring(f.late_max_ms) .. " ms")
    assert.is_true(f.late_p99_ms <= 20, "p99 " .. tostring(f.late_p99_ms) .. " ms")
  end)
end)
