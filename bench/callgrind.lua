-- Instructions per document, counted by valgrind's callgrind (`make bench-callgrind`).
--
-- Each peer lists a job of N documents and a job of BASE documents (one page)
-- under callgrind; the difference of the two totals divided by N - BASE is
-- the cost of one more document, free of start-up (Lua, libcurl, the TLS
-- handshake).  The totals are split by the object the instructions ran in, so
-- the network share (libcurl, OpenSSL, zlib) can be told from the parse and
-- the objects (doctranslate's core, its JSON library, the Lua VM, libc).  libc is
-- shared by both sides (memcpy, malloc): it is shown on its own line.
--
-- Environment: DT_EMULATOR_HTTP/HTTPS/KEY/CA as for bench/run.lua;
-- CALLGRIND_DOCS (default 10000), BENCH_FLOOR, BENCH_RESULTS.
local cjson = require "cjson"

local env = os.getenv
local HTTP = assert(env "DT_EMULATOR_HTTP", "DT_EMULATOR_HTTP not set")
local HTTPS = assert(env "DT_EMULATOR_HTTPS", "DT_EMULATOR_HTTPS not set")
local KEY = env "DT_EMULATOR_KEY" or "doctranslate-emulator-key"
local CA = assert(env "DT_EMULATOR_CA", "DT_EMULATOR_CA not set")
local N = math.tointeger(tonumber(env "CALLGRIND_DOCS" or "10000"))
local BASE = 100
local FLOOR = env "BENCH_FLOOR" or "build/bench/floor"
local LUA = env "BENCH_LUA" or "lua5.4"
local OUT = (env "BENCH_RESULTS" or "bench/results") .. "/callgrind-" .. os.date("!%Y%m%d-%H%M%S")
os.execute("mkdir -p '" .. OUT .. "'")

-- Everything printed also goes to OUT/summary.txt.
local summary = assert(io.open(OUT .. "/summary.txt", "w"))
local function print(...)
  local line = table.concat({ ... }, "\t")
  io.write(line, "\n")
  summary:write(line, "\n")
end

local function q(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function capture(cmd)
  local p = assert(io.popen(cmd, "r"))
  local s = p:read("a")
  local ok = p:close()
  return s, ok
end

local function new_job(docs)
  local body = cjson.encode{ documents = docs, status = "Succeeded", next_link = "nextLink" }
  local out = capture("curl -sS -X POST -H 'Content-Type: application/json' -H "
    .. q("Ocp-Apim-Subscription-Key: " .. KEY) .. " --data-binary " .. q(body) .. " "
    .. q(HTTP .. "/_emulator/jobs"))
  local ok, r = pcall(cjson.decode, out)
  assert(ok and type(r) == "table" and r.id, "creating a job failed: " .. out)
  return r.id
end

local function url_of(job)
  return HTTPS .. "/translator/document/batches/" .. job
    .. "/documents?api-version=2024-05-01&maxpagesize=100"
end

local peers = {
  { name = "ours", probe = LUA .. " -e 'require \"doctranslate\"'",
    cmd = function(job)
      return LUA .. " bench/ours.lua " .. q(HTTPS) .. " " .. q(KEY) .. " " .. q(job) .. " " .. q(CA) .. " - 1"
    end },
  { name = "plain_lua", probe = LUA .. " -e 'require \"ssl.https\"; require \"cjson\"'",
    cmd = function(job)
      return LUA .. " bench/plain_lua.lua " .. q(HTTPS) .. " " .. q(KEY) .. " " .. q(job) .. " " .. q(CA)
    end },
  { name = "floor", probe = "test -x " .. q(FLOOR),
    cmd = function(job) return q(FLOOR) .. " " .. q(url_of(job)) .. " " .. q(KEY) .. " " .. q(CA) end },
}

-- Which group an object's instructions belong to.
local function group_of(obj)
  local base = obj:match("([^/]+)$") or obj
  if base:find("^core%.so") then return "doctranslate core" end
  if base:find("jansson") or base:find("json%-c") then return "JSON library (json-c, jansson)" end
  if base:find("cjson") then return "lua-cjson (JSON)" end
  if base:find("^liblua") or base:find("^lua5") then return "Lua VM" end
  if base:find("^libc%.so") or base:find("^libm%.so") then return "libc" end
  if base:find("curl") or base:find("ssl") or base:find("crypto") or base:find("^libz%.")
    or base:find("nghttp") or base:find("socket") or base:find("psl") or base:find("idn")
    or base:find("brotli") or base:find("zstd") or base:find("gnutls") or base:find("nettle")
    or base:find("tasn1") or base:find("p11") or base:find("gmp") or base:find("krb5") or base:find("ssh2")
    or base:find("gssapi") or base:find("ldap") or base:find("sasl") or base:find("rtmp") then
    return "network (curl, TLS, zlib, sockets)"
  end
  if base == "floor" then return "floor program" end
  return "other (ld.so, ...)"
end
local GROUPS = { "doctranslate core", "JSON library (json-c, jansson)", "lua-cjson (JSON)", "Lua VM", "libc",
                 "floor program", "network (curl, TLS, zlib, sockets)", "other (ld.so, ...)" }

-- Self cost (Ir) per object, read from callgrind's own output format: "ob="
-- sets the object of the cost lines that follow; the cost line right after a
-- "calls=" line is a call's inclusive cost and is skipped (it is counted where
-- it ran).  Names are compressed: "ob=(7) /path" (or "cob=(7) /path") defines 7,
-- "ob=(7)" reuses it.
local function self_cost_by_object(file)
  local names, by_object, total = {}, {}, nil
  local current, after_call = "?", false
  for line in io.lines(file) do
    local c = line:byte(1)
    if c and ((c >= 48 and c <= 57) or c == 43 or c == 45 or c == 42) then -- 0-9 + - *
      local ir = tonumber(line:match("^%S+%s+(%d+)"))
      if ir and not after_call then
        by_object[current] = (by_object[current] or 0) + ir
      end
      after_call = false
    elseif line:find("^ob=") then
      local id, name = line:match("^ob=%((%d+)%)%s*(.*)$")
      if id then
        if name ~= "" then names[id] = name end
        current = names[id] or "?"
      else
        current = line:sub(4)
      end
    elseif line:find("^cob=") then -- a called object: may define a name, keeps the current one
      local id, name = line:match("^cob=%((%d+)%)%s*(.*)$")
      if id and name ~= "" then names[id] = name end
    elseif line:find("^calls=") then
      after_call = true
    elseif line:find("^summary:") or line:find("^totals:") then
      total = total or tonumber(line:match("(%d+)"))
    end
  end
  return by_object, total
end

-- Total instructions of one run, and per group.
local function profile(peer, job, tag)
  local file = OUT .. "/" .. peer.name .. "-" .. tag .. ".out"
  local out, ok = capture("valgrind --tool=callgrind --callgrind-out-file=" .. q(file) .. " "
    .. peer.cmd(job) .. " 2>" .. q(file .. ".log"))
  if not ok then
    error(peer.name .. " failed under callgrind; see " .. file .. ".log")
  end
  local docs = tonumber(out:match("docs=(%d+)"))
  local by_object, total = self_cost_by_object(file)
  local groups, sum = {}, 0
  for obj, ir in pairs(by_object) do
    local g = group_of(obj)
    groups[g] = (groups[g] or 0) + ir
    sum = sum + ir
  end
  return { total = total or sum, groups = groups, docs = docs }
end

print(("callgrind: instructions per document, (Ir(%d docs) - Ir(%d docs)) / %d; files in %s")
  :format(N, BASE, N - BASE, OUT))
local big, small = new_job(N), new_job(BASE)
for _, peer in ipairs(peers) do
  local _, ok = capture(peer.probe .. " >/dev/null 2>&1")
  if not ok then
    print(("\n%s: skipped (not available)"):format(peer.name))
  else
    local a = profile(peer, big, tostring(N))
    local b = profile(peer, small, tostring(BASE))
    assert(a.docs == N and b.docs == BASE, peer.name .. " listed a wrong number of documents")
    local per = (a.total - b.total) / (N - BASE)
    local net = ((a.groups["network (curl, TLS, zlib, sockets)"] or 0)
      - (b.groups["network (curl, TLS, zlib, sockets)"] or 0)) / (N - BASE)
    print(("\n%s: %.0f instructions per document; %.0f without the network objects"):format(
      peer.name, per, per - net))
    for _, g in ipairs(GROUPS) do
      local d = ((a.groups[g] or 0) - (b.groups[g] or 0)) / (N - BASE)
      if a.groups[g] then
        print(("  %-38s %9.0f"):format(g, d))
      end
    end
    print(("  (start-up and one page: %d instructions)"):format(b.total))
    if peer.name == "ours" then
      -- Where one more document goes: self cost per function, the N-document run minus the
      -- BASE-document run (start-up, the TLS handshake and one page cancel out).
      local function by_function(file)
        local ann = capture("callgrind_annotate --inclusive=no --threshold=100 --auto=no " .. q(file))
        local t = {}
        for line in ann:gmatch("[^\n]+") do
          local ir, fn = line:match("^%s*([%d,]+) %b()%s+(.-)%s*$")
          if ir and not fn:find("PROGRAM TOTALS", 1, true) then
            fn = fn:gsub("^.-:([^:]+)$", "%1") -- drop the source file; keep function [object]
            t[fn] = (t[fn] or 0) + tonumber((ir:gsub(",", "")))
          end
        end
        return t
      end
      local big_fn = by_function(OUT .. "/ours-" .. N .. ".out")
      local small_fn = by_function(OUT .. "/ours-" .. BASE .. ".out")
      local rows = {}
      for fn, ir in pairs(big_fn) do
        rows[#rows + 1] = { fn = fn, per = (ir - (small_fn[fn] or 0)) / (N - BASE) }
      end
      table.sort(rows, function(x, y) return x.per > y.per end)
      print("  top functions by self cost per extra document (Ir / document):")
      for k = 1, math.min(12, #rows) do
        print(("    %9.0f  %s"):format(rows[k].per, rows[k].fn))
      end
    end
  end
end
summary:close()
