-- Every ```lua block of README.md runs against the emulator, so the README cannot rot.
--
-- Blocks fenced ```lua norun are skipped (the OpenResty one needs nginx); there must be few.
-- Each block runs on its own, in a fresh environment over the globals, with print captured;
-- the blocks find the emulator through DT_EMULATOR_HTTPS, DT_EMULATOR_KEY and DT_EMULATOR_CA
-- (or spec/support/emulator.lua, which reads the same variables).
local emu = require "support.emulator"

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local function blocks(text)
  local out, current, n = {}, nil, 0
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    if current then
      if line:match("^```%s*$") then
        out[#out + 1] = current
        current = nil
      else
        current.lines[#current.lines + 1] = line
      end
    else
      local info = line:match("^```(.*)$")
      if info and info:match("^lua") then
        current = { line = n, info = info, lines = {}, norun = info:match("norun") ~= nil }
      elseif info and info ~= "" and not info:match("^%a*$") then
        error("README.md line " .. n .. ": unexpected fence info '" .. info .. "'")
      end
    end
  end
  assert(current == nil, "README.md: a ```lua block is not closed")
  return out
end

-- The blocks read the emulator's address, key and CA with os.getenv; a run without the Makefile's
-- exports (plain `busted`) gets the same defaults as spec/support/emulator.lua.
local DEFAULTS = { DT_EMULATOR_HTTP = emu.http, DT_EMULATOR_HTTPS = emu.https, DT_EMULATOR_KEY = emu.key,
                   DT_EMULATOR_CA = emu.ca }
local block_os = setmetatable({
  getenv = function(name) return os.getenv(name) or DEFAULTS[name] end,
}, { __index = os })

local readme = read("README.md")
local all = blocks(readme)

describe("README.md", function()
  setup(function()
    emu.reset()
  end)

  it("has Lua examples, and only a few that cannot run here", function()
    local run, skipped = 0, 0
    for _, b in ipairs(all) do
      if b.norun then skipped = skipped + 1 else run = run + 1 end
    end
    assert.is_true(run >= 10, "runnable blocks: " .. run)
    assert.is_true(skipped <= 2, "norun blocks: " .. skipped)
  end)

  it("keeps the two commands first", function()
    local first = readme:find("\n## ", 1, true)
    assert.is_truthy(first)
    assert.equal("## Two commands", readme:sub(first + 1, first + #"## Two commands"))
    local two = readme:match("## Two commands\n\n```sh\n(.-)```")
    assert.is_truthy(two and two:find("make demo", 1, true) and two:find("make test", 1, true))
  end)

  for i, b in ipairs(all) do
    local name = ("block %d (line %d)"):format(i, b.line)
    if b.norun then
      it(name .. " compiles (norun)", function()
        local chunk, err = (loadstring or load)(table.concat(b.lines, "\n"), "=README.md:" .. b.line)
        assert(chunk, err)
      end)
    else
      it(name .. " runs against the emulator", function()
        local printed = {}
        local env = setmetatable({
          os = block_os,
          print = function(...)
            local t = {}
            for k = 1, select("#", ...) do t[k] = tostring((select(k, ...))) end
            printed[#printed + 1] = table.concat(t, "\t")
          end,
        }, { __index = _G })
        local code = table.concat(b.lines, "\n")
        local chunk, err
        if setfenv then
          chunk, err = loadstring(code, "=README.md:" .. b.line)
          if chunk then setfenv(chunk, env) end
        else
          chunk, err = load(code, "=README.md:" .. b.line, "t", env)
        end
        assert(chunk, err)
        local ok, rerr = pcall(chunk)
        assert(ok, "README.md block at line " .. b.line .. " failed: " .. tostring(rerr))
        -- the key never shows in what an example prints
        for _, line in ipairs(printed) do
          assert.is_nil(line:find(emu.key, 1, true), "the key was printed: " .. line)
        end
      end)
    end
  end
end)
