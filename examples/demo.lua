-- doctranslate demo: a job of 1,000 documents on the local emulator, watched to its end with
-- the `doctranslate` command, then its failure report and its failed documents.
--
--   make demo        (installs what is missing, builds, starts the emulator, runs this, stops it)
--
-- By hand, against an emulator that is running (`make emulator-start`):
--   lua5.4 examples/demo.lua
--
-- The emulator's admin API (spec/support/emulator.lua, which calls the curl CLI) sets what the
-- next started job looks like: 1,000 documents, every 37th fails, about 6 seconds of work (the
-- settings are put back at the end). Everything else is the command line a user types:
-- `doctranslate start`, `doctranslate watch`, then `doctranslate docs --status Failed`.
-- The demo exits 0 when it ran as designed: `watch --strict` ended with exit code 4 (the job has
-- failed documents: they are part of the show), the listing found exactly the failed documents
-- the job's summary counts, and the key never appeared in any output.
local here = (arg and arg[0] or ""):match("^(.*)/examples/[^/]*$") or "."
package.path = here .. "/lua/?.lua;" .. here .. "/lua/?/init.lua;" .. here .. "/spec/?.lua;" .. package.path
package.cpath = here .. "/?.so;" .. package.cpath

local dt = require "doctranslate"
local cli = require "doctranslate.cli"
local emu = require "support.emulator"

local DOCUMENTS, FAIL_EVERY, DURATION = 1000, 37, 6
local LUA = arg and arg[-1] or "lua5.4"
local q = emu.shell_quote

local function say(s) io.stdout:write(s, "\n") io.stdout:flush() end
local tty = cli.stdout_is_terminal()
local function bold(s)
  if tty then return "\27[1m" .. s .. "\27[0m" end
  return s
end

-- The command line, as a user runs it: configuration from the environment.
local function command(args)
  return table.concat({ "env",
    "DOCTRANSLATE_ENDPOINT=" .. q(emu.https),
    "DOCTRANSLATE_KEY=" .. q(emu.key),
    "DOCTRANSLATE_CA_FILE=" .. q(emu.ca),
    q(LUA), q(here .. "/bin/doctranslate"), args }, " ")
end

local function exit_code(ok, how, code)
  if type(ok) == "number" then return ok % 255 end -- Lua 5.1: the raw status
  if how == "exit" then return code end
  return 128 + (code or 0)
end

local failures = {}
local function expect(what, cond)
  if not cond then failures[#failures + 1] = what end
end

say(bold(("doctranslate %s demo"):format(dt.VERSION)) .. (" against the emulator at %s"):format(emu.https))
say(("the emulator's next job: %d documents, every %dth fails, about %d s of work"):format(
  DOCUMENTS, FAIL_EVERY, DURATION))
emu.settings{ start_documents = DOCUMENTS, start_fail_every = FAIL_EVERY, start_duration = DURATION }
say("")

-- 0. start it, as a user would (the emulator reads no blobs: any container URL will do)
local start_args = "start --source https://demo.blob.core.windows.net/source"
  .. " --target https://demo.blob.core.windows.net/target-fr:fr"
say(bold("$ doctranslate " .. start_args))
local sp = assert(io.popen(command(start_args), "r"))
local job_id = (sp:read("*a") or ""):match("^%s*(%S+)%s*$")
local start_code = exit_code(sp:close())
local null = require("cjson").null -- null puts a setting back to its default
emu.settings{ start_documents = null, start_fail_every = null, start_duration = null }
if start_code ~= 0 or not job_id then
  io.stderr:write(("demo: doctranslate start failed (exit code %d)\n"):format(start_code))
  os.exit(1)
end
say(job_id)
say("")

-- 1. watch it: a progress bar on a terminal, plain lines otherwise; ends with the failure report
say(bold("$ doctranslate watch --strict " .. job_id))
local watch_code = exit_code(os.execute(command("watch --strict " .. q(job_id))))
say(("(exit code %d: with --strict, 4 means the job ran and some documents failed)"):format(watch_code))
say("")

-- 2. the failed documents, as a listing the user can filter and page
say(bold("$ doctranslate docs " .. job_id .. " --status Failed --order asc --page-size 100"))
local p = assert(io.popen(command("docs " .. q(job_id) .. " --status Failed --order asc --page-size 100")
  .. " 2>&1", "r"))
local listing = p:read("*a")
local docs_code = exit_code(p:close())
io.stdout:write(listing)
say("")

-- 3. was it the show we meant? checked through the library itself
local c = dt.new{ endpoint = emu.https, key = emu.key, ca_file = emu.ca }
local job, err = c:job(job_id)
expect("the job can be read: " .. tostring(err), job ~= nil)
if job then
  local want_failed = math.floor(DOCUMENTS / FAIL_EVERY)
  local rows = 0
  for line in listing:gmatch("[^\n]+") do
    if line:match("^%x+%-%x+%-%x+%-%x+%-%x+%s+Failed%s") then rows = rows + 1 end
  end
  expect("the job ended Succeeded (" .. tostring(job.status) .. ")", job.status == "Succeeded")
  expect(("the job counts %d failed documents (%s)"):format(want_failed, tostring(job.summary.failed)),
    job.summary.failed == want_failed)
  expect(("watch --strict exits 4 for a job with failed documents (%d)"):format(watch_code), watch_code == 4)
  expect(("docs exits 0 (%d)"):format(docs_code), docs_code == 0)
  expect(("the listing shows every failed document (%d rows)"):format(rows), rows == want_failed)
  expect("the key never appears in the output", not listing:find(emu.key, 1, true))
end
c:close()

if #failures > 0 then
  io.stderr:write("demo: not as designed:\n  ", table.concat(failures, "\n  "), "\n")
  os.exit(1)
end
say(("demo: ok (%d documents watched to the end, %d failed documents reported and listed)"):format(
  DOCUMENTS, job.summary.failed))
