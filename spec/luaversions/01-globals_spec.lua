-- One source for Lua 5.1 to 5.4 and LuaJIT: loading the module creates no global variable (on
-- 5.1, luaL_register with a name, or a module() call, would), neither in a fresh interpreter nor
-- in this busted state.
local MODULES = { "doctranslate", "doctranslate.core", "doctranslate.lifecycle", "doctranslate.driver",
                  "doctranslate.cli" }

-- The interpreter running this spec (busted --lua=...), as spec/cli does.
local LUA = os.getenv("DT_CLI_LUA") or (rawget(_G, "jit") and "luajit") or ("lua" .. _VERSION:match("%d+%.%d+"))

local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function globals()
  local keys = {}
  for k in pairs(_G) do keys[k] = true end
  return keys
end

local function added_since(before)
  local added = {}
  for k in pairs(_G) do
    if not before[k] then added[#added + 1] = tostring(k) end
  end
  table.sort(added)
  return added
end

describe("require", function()
  it("creates no globals in a fresh " .. LUA, function()
    -- this state's search paths, so that the child finds the same files however busted was started
    local script = ("package.path, package.cpath = %q, %q\n"):format(package.path, package.cpath) .. [[
      local before = {}
      for k in pairs(_G) do before[k] = true end
      for name in (...):gmatch("%S+") do require(name) end
      local added = {}
      for k in pairs(_G) do if not before[k] then added[#added + 1] = tostring(k) end end
      table.sort(added)
      io.write("added: ", table.concat(added, " "), "\n")
    ]]
    local path = os.tmpname()
    local fh = assert(io.open(path, "w"))
    fh:write(script)
    fh:close()
    local p = assert(io.popen(shell_quote(LUA) .. " " .. shell_quote(path) .. " "
      .. shell_quote(table.concat(MODULES, " ")) .. " 2>&1; printf '\\nexit %d' $?"))
    local out = p:read("*a")
    p:close()
    os.remove(path)
    local text, code = out:match("^(.-)\nexit (%d+)$")
    assert.equal("0", code, out)
    assert.equal("added: \n", text)
  end)

  it("creates no globals in this state", function()
    -- busted gives every spec file the package.loaded it started with: the modules load afresh
    for _, name in ipairs(MODULES) do package.loaded[name] = nil end
    local before, mt = globals(), getmetatable(_G)
    for _, name in ipairs(MODULES) do require(name) end
    assert.same({}, added_since(before))
    assert.equal(mt, getmetatable(_G))
  end)
end)
