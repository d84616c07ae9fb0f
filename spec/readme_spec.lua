-- Every ```lua block of README.md runs against the emulator, so the README cannot rot.
--
-- A block fenced ```lua openresty is a module for nginx: it is saved as my_jobs.lua and served
-- by a real nginx (spec/openresty/nginx.lua starts it) with the configuration its comment shows.
-- Blocks fenced ```lua norun are only compiled; there must be few.
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
        current = { line = n, info = info, lines = {}, norun = info:match("norun") ~= nil,
                    openresty = info:match("openresty") ~= nil }
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

-- The nginx.conf the OpenResty block's comment describes, with spec/openresty/nginx.lua's @fields@.
local NGINX_CONF = [[
load_module @NDK_MODULE@;
load_module @LUA_MODULE@;
@USER_LINE@
worker_processes 1;
pid @PREFIX@/nginx.pid;
error_log @PREFIX@/logs/error.log warn;
env DT_ENDPOINT;
env DT_KEY;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path @PREFIX@/temp/body;
    proxy_temp_path @PREFIX@/temp/proxy;
    fastcgi_temp_path @PREFIX@/temp/fastcgi;
    uwsgi_temp_path @PREFIX@/temp/uwsgi;
    scgi_temp_path @PREFIX@/temp/scgi;
    lua_package_path "@LUA_PATH@;;";
    lua_package_cpath "@LUA_CPATH@;;";
    lua_ssl_trusted_certificate @CA_FILE@;
    lua_ssl_verify_depth 4;
    init_by_lua_block { require("my_jobs").init() }
    server {
        listen 127.0.0.1:@PORT@;
        location /documents { content_by_lua_block { require("my_jobs").documents() } }
    }
}
]]

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

local function run_in_nginx(b)
  local N = require "openresty.nginx"
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. emu.shell_quote(dir)))
  write(dir .. "/my_jobs.lua", table.concat(b.lines, "\n"))
  write(dir .. "/nginx.conf.in", NGINX_CONF)
  local srv
  local ok, err = pcall(function()
    srv = N.start{ endpoint = emu.https, key = emu.key, trusted = emu.ca, conf = dir .. "/nginx.conf.in",
                   lua_path = dir .. "/?.lua" }
    local status, _, body = srv:get("/documents?job=0aea2ca5-0e55-4338-b701-f53ea3891e5c", 60)
    assert.equal(200, status, body)
    local ids, n = {}, 0
    for line in body:gmatch("[^\n]+") do
      local d = emu.decode(line)
      assert.is_nil(d.error, line)
      if not ids[d.id] then n = n + 1 end
      ids[d.id] = true
    end
    assert.equal(1000, n)
    -- an unknown job: the error line, not a 500
    status, _, body = srv:get("/documents?job=00000000-0000-0000-0000-000000000000")
    assert.equal(200, status)
    assert.matches('"error":"The requested translation job was not found."', body, 1, true)
    assert.is_nil(srv:error_log():find(emu.key, 1, true))
  end)
  if srv then srv:stop() end
  os.execute("rm -rf " .. emu.shell_quote(dir))
  assert(ok, err)
end

describe("README.md", function()
  setup(function()
    emu.reset()
    -- the blocks wait on the real clock, as a reader's program would: the jobs they start take one
    -- second (the service's Retry-After), not the default eight
    emu.settings{ start_duration = 1 }
  end)
  teardown(function() emu.reset() end)

  it("has Lua examples, and only a few that cannot run here", function()
    local run, skipped = 0, 0
    for _, b in ipairs(all) do
      if b.norun then skipped = skipped + 1 else run = run + 1 end
    end
    assert.is_true(run >= 10, "runnable blocks: " .. run)
    assert.is_true(skipped <= 2, "norun blocks: " .. skipped)
  end)

  it("shows the command line's real output", function()
    local H = require "cli.helper"
    local cmd, shown = readme:match("\n(bin/doctranslate docs [^\n]+)\n```\n\n```\n(.-)```")
    assert.is_string(cmd, "the CLI example and its output block")
    local args = {}
    for a in cmd:gmatch("%S+") do args[#args + 1] = a end
    table.remove(args, 1)
    local r = H.run(args)
    assert.equal(0, r.code, r.err)
    assert.equal(shown, r.out)
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
    if b.openresty then
      it(name .. " serves a job's documents from a real nginx", function()
        run_in_nginx(b)
      end)
    elseif b.norun then
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
