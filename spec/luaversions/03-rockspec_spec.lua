-- rockspec/doctranslate-scm-1.rockspec lists every C source, every Lua module and the CLI: a new
-- src/*/*.c or lua/doctranslate/*.lua that is not in it fails here (and in make rockspec-check).
local ROCKSPEC = "rockspec/doctranslate-scm-1.rockspec"

local function load_rockspec(path)
  local env = {}
  local chunk
  if rawget(_G, "setfenv") then -- Lua 5.1, LuaJIT
    chunk = assert(loadfile(path))
    setfenv(chunk, env)
  else
    chunk = assert(loadfile(path, "t", env))
  end
  chunk()
  return env
end

local function files(cmd)
  local list = {}
  local p = assert(io.popen(cmd))
  for line in p:lines() do list[#list + 1] = line end
  p:close()
  table.sort(list)
  return list
end

local function exists(path)
  local fh = io.open(path, "rb")
  if fh then fh:close() end
  return fh ~= nil
end

describe("the rockspec", function()
  local spec = load_rockspec(ROCKSPEC)
  local modules = spec.build.modules

  it("builds doctranslate.core from every src/*/*.c", function()
    local sources = {}
    for _, s in ipairs(modules["doctranslate.core"].sources) do sources[#sources + 1] = s end
    table.sort(sources)
    assert.same(files("ls src/*/*.c"), sources)
  end)

  it("installs every Lua module under its name", function()
    local want = {}
    for _, path in ipairs(files("find lua -name '*.lua'")) do
      local name = path:gsub("^lua/", ""):gsub("%.lua$", ""):gsub("/init$", ""):gsub("/", ".")
      want[name] = path
    end
    local got = {}
    for name, v in pairs(modules) do
      if type(v) == "string" then got[name] = v end
    end
    assert.same(want, got)
  end)

  it("installs bin/doctranslate and bin/doctranslate-emulator, and the emulator's files", function()
    if exists("bin/doctranslate") then
      assert.equal("bin/doctranslate", spec.build.install.bin["doctranslate"])
    end
    assert.equal("bin/doctranslate-emulator", spec.build.install.bin["doctranslate-emulator"])
    local copied = {}
    for _, d in ipairs(spec.build.copy_directories or {}) do copied[d] = true end
    assert.is_true(copied.emulator)
    for _, path in pairs(spec.build.install and spec.build.install.bin or {}) do
      assert.is_true(exists(path), path)
    end
  end)

  it("declares Lua 5.1 to 5.4, what the modules and commands use, and its C libraries", function()
    assert.same({ "lua >= 5.1, < 5.5", "dkjson >= 2.5", "argparse >= 0.7", "lua-cjson >= 2.1.0" },
      spec.dependencies)
    -- the library only: LuaRocks looks for a header under <prefix>/include, never in Debian's
    -- multiarch include folder, where curl/curl.h is (the compiler finds it there by itself)
    assert.is_nil(spec.external_dependencies.CURL.header)
    assert.equal("curl", spec.external_dependencies.CURL.library)
    assert.is_nil(spec.external_dependencies.JSONC) -- JSON is read by the core's own reader
    local core = modules["doctranslate.core"]
    assert.same({ "curl" }, core.libraries)
    assert.truthy(table.concat(core.incdirs, " "):find("$(CURL_INCDIR)", 1, true))
    assert.truthy(table.concat(core.libdirs, " "):find("$(CURL_LIBDIR)", 1, true))
  end)
end)
