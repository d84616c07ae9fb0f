-- Runs a script of emulator/sdk-check (Microsoft's official JS SDK) against the emulator, over
-- HTTPS with the emulator's CA, installing the SDK with `npm ci` when it is not there yet.
--
--   local result, code, out = sdk.run("check.js")  -- the script's last JSON line, decoded
--   -- or nil, reason when node/npm are missing or the install failed (the caller marks pending)
local emu = require "support.emulator"

local sdk = {}

local DIR = "emulator/sdk-check"

-- The output and exit status of a shell command: the status is printed after the output, since
-- close() does not return it on Lua 5.1/LuaJIT.
local function sh(cmd)
  local p = io.popen(cmd .. " 2>&1; printf '\\n%d' $?")
  local out = p:read("*a")
  p:close()
  local text, code = out:match("^(.-)\n(%d+)$")
  return tonumber(code), text or out
end

function sdk.run(script)
  if sh("command -v node") ~= 0 or sh("command -v npm") ~= 0 then
    return nil, "node and npm are not installed"
  end
  if sh("test -d " .. DIR .. "/node_modules/@azure-rest/ai-translation-document") ~= 0 then
    local code, out = sh("cd " .. DIR .. " && timeout 300 npm ci --no-audit --no-fund --loglevel=error")
    if code ~= 0 then return nil, "the SDK could not be installed from npm: " .. out:sub(1, 300) end
  end
  local q = emu.shell_quote
  local env = "NODE_EXTRA_CA_CERTS=" .. q(emu.ca) .. " DT_EMULATOR_HTTP=" .. q(emu.http) ..
    " DT_EMULATOR_HTTPS=" .. q(emu.https) .. " DT_EMULATOR_KEY=" .. q(emu.key)
  local code, out = sh("cd " .. DIR .. " && " .. env .. " timeout 120 node " .. script)
  local line = out:match("({.*})%s*$")
  assert(line, "no JSON line from " .. script .. ":\n" .. out)
  return emu.decode(line), code, out
end

return sdk
