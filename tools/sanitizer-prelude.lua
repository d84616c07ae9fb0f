-- Run before busted by `make test-asan` and `make test-valgrind` (mk/quality.mk):
--
--   lua -e "dofile'tools/sanitizer-prelude.lua'" /usr/bin/busted ...
--
-- DT_CORE_SO (required): the instrumented build of doctranslate.core to test.
--   busted prepends the .busted `cpath` (./?.so, the normal build) to
--   package.cpath, so LUA_CPATH alone cannot guarantee which core.so a spec
--   gets.  A searcher put first in package.searchers loads DT_CORE_SO for
--   `doctranslate.core` whatever the paths say, and refuses to fall back.
--
-- DT_GC_STRESS (optional): makes the collector run far more often than it
--   would, so a userdata, a page or an iterator dropped by a spec is collected
--   (and its __gc run) while C code still runs around it:
--     1  generational mode (5.4) with the smallest minor multiplier, plus a
--        collector step every DT_GC_STRESS_EVERY (default 1000) VM instructions
--        in every coroutine;
--     2  the same, with a full collection at each hook instead of a step.
--   On versions without a generational mode the incremental collector is set
--   to start a new cycle at once (pause 0) and to work in large steps.
-- A sanitizer that aborts the process at exit (LeakSanitizer) would lose
-- whatever busted's summary left in a full stdout buffer.
io.stdout:setvbuf("line")

local core_so = os.getenv("DT_CORE_SO")
if not core_so or core_so == "" then
  error("sanitizer-prelude: DT_CORE_SO is not set", 0)
end
do
  local fh = io.open(core_so, "rb")
  if not fh then error("sanitizer-prelude: " .. core_so .. " does not exist", 0) end
  fh:close()
end

local searchers = package.searchers or package.loaders -- luacheck: ignore (5.1)
local announced = false
table.insert(searchers, 1, function(name)
  if name ~= "doctranslate.core" then return nil end
  local open, err = package.loadlib(core_so, "luaopen_doctranslate_core")
  if not open then
    error("sanitizer-prelude: cannot load " .. core_so .. ": " .. tostring(err), 0)
  end
  if not announced then
    announced = true
    io.stderr:write("sanitizer-prelude: doctranslate.core from ", core_so, "\n")
  end
  return open, core_so
end)

local stress = tonumber(os.getenv("DT_GC_STRESS") or "0") or 0
if stress > 0 then
  local every = tonumber(os.getenv("DT_GC_STRESS_EVERY") or "") or 1000
  local full = stress >= 2
  local mode
  if pcall(collectgarbage, "generational", 1, 100) and collectgarbage("generational") == "generational" then
    mode = "generational"
  else
    collectgarbage("setpause", 0)
    collectgarbage("setstepmul", 1000)
    mode = "incremental, pause 0"
  end
  local function hook()
    if full then collectgarbage("collect") else collectgarbage("step", 0) end
  end
  debug.sethook(hook, "", every)
  -- A count hook belongs to one coroutine: give every new coroutine its own.
  local create = coroutine.create
  coroutine.create = function(f) -- luacheck: ignore 122
    local co = create(f)
    debug.sethook(co, hook, "", every)
    return co
  end
  coroutine.wrap = function(f) -- luacheck: ignore 122
    local co = create(f)
    debug.sethook(co, hook, "", every)
    local function finish(ok, ...)
      if not ok then error((...), 0) end
      return ...
    end
    return function(...)
      return finish(coroutine.resume(co, ...))
    end
  end
  io.stderr:write(("sanitizer-prelude: GC stress %d (%s, %s every %d instructions)\n")
    :format(stress, mode, full and "full collection" or "step", every))
end
