-- Starts and stops a real nginx running examples/nginx.conf + examples/openresty_handler.lua,
-- with its own prefix under a temp folder and a free loopback port. Used by
-- spec/openresty/*_spec.lua and bench/noblock/run.lua (require "openresty.nginx").
--
--   local N = require "openresty.nginx"
--   local srv = N.start{ endpoint =, key =, ca_file =, timeout =, workers = 1 }
--   local status, headers, body = srv:get("/jobs/" .. id)
--   srv:stop()   -- always; safe to call twice
local socket = require "socket"

local N = {}

local function sh_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function exists(path)
  local fh = io.open(path, "rb")
  if fh then fh:close() return true end
  return false
end

local function read_all(path)
  local fh = io.open(path, "rb")
  if not fh then return nil end
  local s = fh:read("*a")
  fh:close()
  return s
end

-- os.execute's success on every Lua (5.1 gives a status number, 5.2+ true/nil).
local function succeeds(cmd)
  local r = os.execute(cmd)
  return r == true or r == 0
end

local function run(cmd)
  local p = io.popen(cmd .. " 2>&1", "r")
  local out = p:read("*a")
  local ok, _, code = p:close()
  return ok, out, code
end

-- The checkout: the folder holding examples/nginx.conf (found from the cwd).
N.root = os.getenv("DT_ROOT") or (function()
  local _, pwd = run("pwd")
  return (pwd:gsub("%s+$", ""))
end)()

N.core = os.getenv("OPENRESTY_CORE") or (N.root .. "/build/openresty/doctranslate/core.so")

-- Brings the LuaJIT core up to date once per run (make openresty-core: quick when
-- nothing changed), unless OPENRESTY_CORE names a build; errors with make's output.
local core_checked = os.getenv("OPENRESTY_CORE") ~= nil
function N.ensure_core()
  if core_checked and exists(N.core) then return N.core end
  local ok, out = run("make -C " .. sh_quote(N.root) .. " --no-print-directory openresty-core")
  if not ok or not exists(N.core) then
    error("the LuaJIT build of the core (" .. N.core .. ") could not be made: `make openresty-core` said:\n"
      .. out, 2)
  end
  core_checked = true
  return N.core
end

local function find_module(name)
  for _, dir in ipairs({ "/usr/lib/nginx/modules", "/usr/share/nginx/modules", "/usr/local/nginx/modules" }) do
    if exists(dir .. "/" .. name) then return dir .. "/" .. name end
  end
  error("nginx module " .. name .. " not found (apt-get install libnginx-mod-http-lua libnginx-mod-http-ndk)")
end

function N.free_port()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return tonumber(port)
end

local Server = {}
Server.__index = Server

-- opts: endpoint, key (required); ca_file, timeout, api_version, workers (1), port,
-- trusted (lua_ssl_trusted_certificate; default ca_file, else the system CAs),
-- conf (another template with the same @fields@), lua_path (more package.path
-- entries), edit (a function that may change the filled-in configuration text).
function N.start(opts)
  local core = N.ensure_core()
  local prefix = os.tmpname()
  os.remove(prefix)
  assert(succeeds("mkdir -p " .. sh_quote(prefix .. "/logs") .. " " .. sh_quote(prefix .. "/temp")))
  local port = opts.port or N.free_port()
  local ca = opts.trusted or opts.ca_file or "/etc/ssl/certs/ca-certificates.crt"
  local fields = {
    NDK_MODULE = find_module("ndk_http_module.so"),
    LUA_MODULE = find_module("ngx_http_lua_module.so"),
    USER_LINE = select(2, run("id -u")):match("^0%s*$") and "user root;" or "",
    PREFIX = prefix,
    PORT = tostring(port),
    WORKERS = tostring(opts.workers or 1),
    LUA_PATH = N.root .. "/lua/?.lua;" .. N.root .. "/examples/?.lua;" .. N.root .. "/spec/openresty/?.lua"
      .. (opts.lua_path and (";" .. opts.lua_path) or ""),
    LUA_CPATH = core:gsub("doctranslate/core%.so$", "?.so"),
    CA_FILE = ca,
  }
  local template = opts.conf or (N.root .. "/examples/nginx.conf")
  local conf = assert(read_all(template), template .. " not found")
  conf = conf:gsub("@([%u_]+)@", function(k) return fields[k] end)
  if opts.edit then conf = opts.edit(conf) end
  local fh = assert(io.open(prefix .. "/nginx.conf", "wb"))
  fh:write(conf)
  fh:close()
  local env = { DT_ENDPOINT = opts.endpoint, DT_KEY = opts.key, DT_CA_FILE = opts.ca_file,
                DT_TIMEOUT = opts.timeout and tostring(opts.timeout), DT_API_VERSION = opts.api_version }
  local assigns = {}
  for k, v in pairs(env) do assigns[#assigns + 1] = k .. "=" .. sh_quote(v) end
  local self = setmetatable({ prefix = prefix, port = port, base = "http://127.0.0.1:" .. port }, Server)
  local ok, out = run("env " .. table.concat(assigns, " ") .. " nginx -p " .. sh_quote(prefix)
    .. " -c " .. sh_quote(prefix .. "/nginx.conf") .. " -e " .. sh_quote(prefix .. "/logs/error.log"))
  if not ok then
    self:stop()
    error("nginx did not start: " .. out .. "\n" .. (read_all(prefix .. "/logs/error.log") or ""), 2)
  end
  for _ = 1, 100 do
    self.master = self.master or self:pid() -- kept: stop() must not depend on the pid file
    local c = socket.connect("127.0.0.1", port)
    if c then
      c:close()
      return self
    end
    socket.sleep(0.05)
  end
  local log = self:error_log()
  self:stop()
  error("nginx did not answer on port " .. port .. ":\n" .. log, 2)
end

function Server:pid()
  return tonumber((read_all(self.prefix .. "/nginx.pid") or ""):match("%d+"))
end

function Server:error_log()
  return read_all(self.prefix .. "/logs/error.log") or ""
end

-- GET (or POST of data) through the curl CLI: status, headers (lower-case
-- names), body, and curl's time_total in seconds.
function Server:get(path, timeout, data)
  local hdr, body, input = os.tmpname(), os.tmpname(), nil
  local post = ""
  if data then
    input = os.tmpname()
    local fh = assert(io.open(input, "wb"))
    fh:write(data)
    fh:close()
    post = " --data-binary @" .. sh_quote(input)
  end
  local _, out = run("curl -sS --http1.1 --max-time " .. (timeout or 30) .. " -D " .. sh_quote(hdr)
    .. " -o " .. sh_quote(body) .. post .. " -w '%{http_code} %{time_total}' " .. sh_quote(self.base .. path))
  if input then os.remove(input) end
  local headers = {}
  for line in (read_all(hdr) or ""):gmatch("[^\r\n]+") do
    local k, v = line:match("^([^:]+):%s*(.-)%s*$")
    if k then headers[k:lower()] = v end
  end
  local text = read_all(body) or ""
  os.remove(hdr)
  os.remove(body)
  local code, total = out:match("(%d%d%d) ([%d.]+)%s*$")
  return tonumber(code), headers, text, tonumber(total)
end

-- Runs a Lua chunk in the worker (eval_nginx.conf): the decoded {ok=, result= | error=}.
function Server:eval(code, timeout)
  local status, _, body = self:get("/eval", timeout, code)
  local cjson = require "cjson"
  local ok, v = pcall(cjson.decode, body or "")
  if status ~= 200 or not ok then
    error("eval answered " .. tostring(status) .. ": " .. tostring(body) .. "\n" .. self:error_log(), 2)
  end
  return v
end

-- Runs a chunk that must not raise in the worker: what it returned.
function Server:eval_ok(code, timeout)
  local r = self:eval(code, timeout)
  assert(r.ok, "failed in the worker: " .. tostring(r.error and (r.error.text or r.error.message)))
  return r.result
end

-- True while the process runs. A zombie has ended: the master is daemonized, so only init is
-- left to reap it, which may take a while (kill -0 succeeds on it until then).
local function alive(pid)
  if not succeeds("kill -0 " .. pid .. " 2>/dev/null") then return false end
  local stat = read_all("/proc/" .. pid .. "/stat")
  return not (stat and stat:match("^%d+ %b() Z"))
end

-- Stops nginx (TERM, then KILL of the master and its workers by pid after 5 s)
-- and removes its prefix. Idempotent.
function Server:stop()
  if self.stopped then return end
  self.stopped = true
  local pid = self.master or self:pid()
  if pid then
    local _, children = run("ps -o pid= --ppid " .. pid)
    os.execute("kill -TERM " .. pid .. " 2>/dev/null")
    for _ = 1, 250 do
      if not alive(pid) then break end
      socket.sleep(0.02)
    end
    if alive(pid) then
      os.execute("kill -KILL " .. pid .. " 2>/dev/null")
      for child in children:gmatch("%d+") do os.execute("kill -KILL " .. child .. " 2>/dev/null") end
    end
  end
  if os.getenv("DT_KEEP_NGINX_PREFIX") == nil then os.execute("rm -rf " .. sh_quote(self.prefix)) end
end

return N
