-- Peak memory of a single-document translation (c:translate) with the libcurl
-- client: a 10 MB document sent from a path and answered into an output file
-- must stay under 20 MiB of peak RSS (VmHWM) for the whole process, since
-- libcurl streams the file (curl_mime_filedata) and the answer goes to disk as
-- it comes; the `data` form (the document read into a Lua string, the answer
-- returned as one) is printed beside it for comparison, with a process that
-- only loads the module and makes the client as the floor.
--
-- Each figure comes from its own process (VmHWM is a process's peak).
-- Usage: lua5.4 bench/translate_rss.lua   (DT_EMULATOR_HTTP, DT_EMULATOR_KEY set,
-- as `make emulator-start` prints; `make bench-translate` does it all)
package.path = "lua/?.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath

local SIZE = tonumber(os.getenv("TRANSLATE_BENCH_BYTES")) or 10 * 1000 * 1000
local LIMIT = 20 * 1024 * 1024

local function hwm()
  local f = assert(io.open("/proc/self/status"))
  local s = f:read("a")
  f:close()
  return tonumber(s:match("VmHWM:%s*(%d+)%s*kB")) * 1024
end

local mode, src, out = arg[1], arg[2], arg[3]
if mode == "child" then
  local form = arg[4]
  local dt = require "doctranslate"
  local c = dt.new{ endpoint = os.getenv("DT_EMULATOR_HTTP"), key = os.getenv("DT_EMULATOR_KEY"), timeout = 300 }
  local r, err, seconds
  local t0 = os.clock()
  if form == "path" then
    r, err = c:translate{ document = { path = src }, to = "fr", output = out }
  elseif form == "data" then
    local f = assert(io.open(src, "rb"))
    local data = f:read("a")
    f:close()
    r, err = c:translate{ document = { name = "doc.pdf", data = data }, to = "fr" }
    data = nil -- luacheck: ignore 311
  else
    r = { size = 0 }
  end
  seconds = os.clock() - t0
  if not r then error(tostring(err)) end
  io.write(string.format("%d %d %.3f\n", hwm(), r.size, seconds))
  os.exit(0)
end

-- the parent: a document of SIZE bytes, then one child per form
local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p '" .. dir .. "'"))
src = dir .. "/doc.pdf"
out = dir .. "/doc.fr.pdf"
do
  local f = assert(io.open(src, "wb"))
  local block = {}
  for i = 0, 65535 do block[#block + 1] = string.char((i * 7 + 13) % 256) end
  block = table.concat(block)
  local left = SIZE
  while left > 0 do
    local n = math.min(left, #block)
    f:write(n == #block and block or block:sub(1, n))
    left = left - n
  end
  f:close()
end

local function run(form)
  local p = assert(io.popen(string.format("%s %q child %q %q %s", arg[-1] or "lua5.4", arg[0], src, out, form)))
  local line = p:read("a")
  p:close()
  local peak, size, cpu = line:match("^(%d+) (%d+) ([%d.]+)")
  if not peak then error("the " .. form .. " child failed: " .. line) end
  return tonumber(peak), tonumber(size), tonumber(cpu)
end

local MiB = 1024 * 1024
local floor_peak = run("none")
local path_peak, path_size, path_cpu = run("path")
local check = io.open(out, "rb")
local written = check and check:seek("end")
if check then check:close() end
local data_peak, data_size, data_cpu = run("data")
os.remove(src)
os.remove(out)
os.remove(dir)

print(string.format("document: %d bytes (10 MB), answer: %d bytes", SIZE, path_size))
print(string.format("%-34s %10s %12s %8s", "form", "VmHWM MiB", "over floor", "cpu s"))
print(string.format("%-34s %10.1f %12s %8s", "floor (module + client, no call)", floor_peak / MiB, "-", "-"))
print(string.format("%-34s %10.1f %12.1f %8.2f", "path + output (streamed)", path_peak / MiB,
  (path_peak - floor_peak) / MiB, path_cpu))
print(string.format("%-34s %10.1f %12.1f %8.2f", "data, body returned", data_peak / MiB,
  (data_peak - floor_peak) / MiB, data_cpu))
print(string.format("ratio data / path peak: %.2f; path's peak over the document's size: %.2f",
  data_peak / path_peak, (path_peak - floor_peak) / SIZE))
assert(written == path_size and data_size == path_size, "the answers differ in size")
if path_peak >= LIMIT then
  print(string.format("FAIL: path + output peaked at %.1f MiB (limit 20 MiB)", path_peak / MiB))
  os.exit(1)
end
print(string.format("ok: path + output peaked at %.1f MiB, under 20 MiB", path_peak / MiB))
