-- Runs bin/doctranslate as a user would, against the emulator, and collects what it printed.
--
--   local H = require "cli.helper"
--   local r = H.run("status", job_id)       -- r.code, r.out, r.err
--   local r = H.run{ "docs", id, "--json", env = { DOCTRANSLATE_KEY = false } }
--
-- The configuration comes from the environment (DOCTRANSLATE_ENDPOINT, _KEY, _CA_FILE) unless
-- `env` overrides it (false unsets a variable); the AZURE_* names are always unset first so a
-- developer's own settings never leak into a spec. Every output is checked for the key.
local emu = require "support.emulator"

local H = {}

H.LUA = os.getenv("DT_CLI_LUA")
  or (rawget(_G, "jit") and "luajit")
  or ("lua" .. _VERSION:match("%d+%.%d+"))
H.BIN = "bin/doctranslate"
H.outputs = {}

local q = emu.shell_quote

local UNSET = { "AZURE_DOCUMENT_TRANSLATION_ENDPOINT", "AZURE_TRANSLATOR_ENDPOINT",
                "AZURE_DOCUMENT_TRANSLATION_KEY", "AZURE_TRANSLATOR_KEY", "AZURE_DOCUMENT_TRANSLATION_REGION",
                "AZURE_TRANSLATOR_REGION", "DOCTRANSLATE_TOKEN", "DOCTRANSLATE_REGION",
                "DOCTRANSLATE_API_VERSION", "COLUMNS" }

local function read(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("*a")
  f:close()
  return s
end

local function status_of(ok, how, code)
  if type(ok) == "number" then -- Lua 5.1: the wait status
    return ok >= 256 and math.floor(ok / 256) or ok
  end
  if how == "exit" then return code end
  return 128 + (code or 0)
end

-- H.run("cmd", "arg", ...) or H.run{ "cmd", "arg", ..., env = {}, stdin = "text" }
function H.run(first, ...)
  local spec = type(first) == "table" and first or { first, ... }
  local env = {
    DOCTRANSLATE_ENDPOINT = emu.https,
    DOCTRANSLATE_KEY = emu.key,
    DOCTRANSLATE_CA_FILE = emu.ca,
    TERM = "dumb",
  }
  for k, v in pairs(spec.env or {}) do env[k] = v end
  local parts = { "env" }
  for _, n in ipairs(UNSET) do
    if env[n] == nil then parts[#parts + 1] = "-u " .. n end
  end
  local names = {}
  for k in pairs(env) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do -- options (-u) before the first assignment
    if env[k] == false then parts[#parts + 1] = "-u " .. k end
  end
  for _, k in ipairs(names) do
    if env[k] ~= false then parts[#parts + 1] = q(k .. "=" .. tostring(env[k])) end
  end
  parts[#parts + 1] = q(H.LUA)
  parts[#parts + 1] = q(H.BIN)
  for _, a in ipairs(spec) do parts[#parts + 1] = q(a) end
  local out, err = os.tmpname(), os.tmpname()
  local input = "/dev/null"
  if spec.stdin then
    input = os.tmpname()
    local f = assert(io.open(input, "wb"))
    f:write(spec.stdin)
    f:close()
  end
  local cmd = table.concat(parts, " ") .. " >" .. q(out) .. " 2>" .. q(err) .. " <" .. q(input)
  local code = status_of(os.execute(cmd))
  local r = { code = code, out = read(out), err = read(err) }
  os.remove(out)
  os.remove(err)
  if spec.stdin then os.remove(input) end
  H.outputs[#H.outputs + 1] = r.out
  H.outputs[#H.outputs + 1] = r.err
  assert(not r.out:find(emu.key, 1, true), "the key was printed on stdout")
  assert(not r.err:find(emu.key, 1, true), "the key was printed on stderr")
  return r
end

function H.lines(text)
  local t = {}
  for line in text:gmatch("[^\n]+") do t[#t + 1] = line end
  return t
end

-- The rows of a document or job table (lines that start with an id).
function H.rows(text)
  local t = {}
  for line in text:gmatch("[^\n]+") do
    if line:match("^%x+%-%x+%-%x+%-%x+%-%x+%s") then t[#t + 1] = line end
  end
  return t
end

function H.json_lines(text)
  local t = {}
  for line in text:gmatch("[^\n]+") do t[#t + 1] = emu.decode(line) end
  return t
end

H.FIXTURE_BIG = "0aea2ca5-0e55-4338-b701-f53ea3891e5c"   -- 1,000 documents, every 7th failed
H.FIXTURE_SMALL = "71ab389d-a2c3-4110-8988-8da4e5fd7408" -- 10 documents, all succeeded
H.FIXTURE_VALIDATION = "5fae77cb-59cd-4021-bae7-5fcc4fb6cd2c" -- ValidationFailed
H.UNKNOWN = "00000000-0000-0000-0000-000000000000"

return H
