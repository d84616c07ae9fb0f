-- Fails when a public function of the module has no LDoc documentation, or has it twice.
--
--   lua5.4 tools/doc-check.lua        (make doc runs it; LUA_PATH/LUA_CPATH as the Makefile sets)
--
-- The public functions are found at run time: the module's own functions, and the methods of
-- each class as Lua sees them (a client, an op, a listing, a job, a document, an async op, a
-- wait), made without a network (ops are fed their answers by hand, the way a Lua transport
-- feeds them). The documented ones are read from the files config.ld gives LDoc: a `---`
-- comment followed by `function Class:name`, `function Class.name`, `function name`,
-- `name.field = ...`, or carrying `@function name`. doctranslate.driver and
-- doctranslate.openresty implement the same classes for Lua transports: their comments may say
-- again what a method does there, so they do not count as a second documentation.
local dt = require "doctranslate"

local JOB = "71ab389d-a2c3-4110-8988-8da4e5fd7408"
local DOC = "00000000-0000-0000-0000-000000000002"

-- Methods that are part of no public API (used between the module's own files).
local INTERNAL = {
  ["Job:adopt"] = "client.lua and lifecycle.lua hand a fresh read's state to a job",
  ["Wait:finish"] = "Wait:step's ending", ["Wait:progressed"] = "Wait:step's progress test",
}
-- Files whose comments describe another implementation of documented methods.
local SECOND_OPINION = { ["lua/doctranslate/driver.lua"] = true, ["lua/doctranslate/openresty.lua"] = true }

local function methods_of(v)
  local mt = getmetatable(v)
  local idx = mt and mt.__index
  local tables, names = {}, {}
  if type(idx) == "table" then
    tables[1] = idx
  elseif type(idx) == "function" then -- fields read lazily: the methods are an upvalue
    for i = 1, 16 do
      local n, up = debug.getupvalue(idx, i)
      if n == nil then break end
      if type(up) == "table" then tables[#tables + 1] = up end
    end
  end
  for _, t in ipairs(tables) do
    for k, f in pairs(t) do
      if type(k) == "string" and type(f) == "function" and not k:match("^_") then names[k] = true end
    end
  end
  return names
end

local function fed(op, body)
  assert(op:next_request())
  op:feed{ status = 200, headers = { ["content-type"] = "application/json" }, body = body }
  return assert(op:result())
end

local c = dt.new{ endpoint = "https://127.0.0.1:9", key = "doc-check" }
local job = fed(c:job_op(JOB), ('{"id":"%s","status":"Succeeded","createdDateTimeUtc":"2024-01-01T00:00:00Z",'
  .. '"lastActionDateTimeUtc":"2024-01-01T00:00:00Z","summary":{"total":1,"failed":0,"success":1,"inProgress":0,'
  .. '"notYetStarted":0,"cancelled":0,"totalCharacterCharged":0}}'):format(JOB))
local doc = fed(c:document_op(JOB, DOC), ('{"id":"%s","status":"Succeeded","to":"fr","progress":1,'
  .. '"path":"https://a/b","sourcePath":"https://a/c","createdDateTimeUtc":"2024-01-01T00:00:00Z",'
  .. '"lastActionDateTimeUtc":"2024-01-01T00:00:00Z","characterCharged":1}'):format(DOC))
local classes = {
  Client = methods_of(c),
  Op = methods_of(c:job_op(JOB)),
  Pages = methods_of(c:documents(JOB)),
  Job = methods_of(job),
  Document = methods_of(doc),
  Async = methods_of(c:job_async(JOB)),
  Wait = methods_of(job:wait_async{ timeout = 1 }),
}
local public = {}
for class, names in pairs(classes) do
  for n in pairs(names) do public[#public + 1] = class .. ":" .. n end
end
for k, v in pairs(dt) do
  if type(v) == "function" then public[#public + 1] = "doctranslate." .. k end
end
table.sort(public)

-- The files LDoc reads, from config.ld.
local files = {}
do
  local f = assert(io.open("config.ld"))
  local text = f:read("*a")
  f:close()
  local list = assert(text:match("file%s*=%s*(%b{})"), "config.ld: no file list")
  for path in list:gmatch('"([^"]+)"') do files[#files + 1] = path end
end

-- name -> { files }, for every documented function. Class methods are "Class:name" whether
-- written with ':' or '.'; module functions "doctranslate.name" in lua/doctranslate.lua.
local documented = {}
local function note(name, path)
  documented[name] = documented[name] or {}
  table.insert(documented[name], path)
end
for _, path in ipairs(files) do
  local module_prefix = path == "lua/doctranslate.lua" and "doctranslate." or nil
  local in_doc, tagged = false, nil
  for line in io.lines(path) do
    if line:match("^%-%-%-") and not line:match("^%-%-%-%-") then
      in_doc, tagged = true, nil
    elseif in_doc and line:match("^%-%-") then
      tagged = line:match("@function%s+([%w_.:]+)") or tagged
    elseif in_doc then
      local name = tagged
      if not name then
        name = line:match("^function%s+([%w_.:]+)") or line:match("^local%s+function%s+([%w_]+)")
          or line:match("^([%w_]+%.[%w_]+)%s*=")
      end
      if name then
        local class, method = name:match("^([%u][%w_]*)[.:]([%w_]+)$")
        if class then
          note(class .. ":" .. method, path)
        elseif module_prefix then
          note(module_prefix .. (name:match("^[%w_]+%.([%w_]+)$") or name), path)
        end
      end
      in_doc = false
    end
  end
end

local missing, twice = {}, {}
for _, name in ipairs(public) do
  if not INTERNAL[name] then
    local where = documented[name]
    if not where then
      missing[#missing + 1] = name
    else
      local n, seen = 0, {}
      for _, p in ipairs(where) do
        if not SECOND_OPINION[p] then
          n = n + 1
          seen[#seen + 1] = p
        end
      end
      if n == 0 then missing[#missing + 1] = name .. " (only in " .. where[1] .. ")" end
      if n > 1 then twice[#twice + 1] = name .. " (" .. table.concat(seen, ", ") .. ")" end
    end
  end
end
c:close()
if #missing > 0 or #twice > 0 then
  for _, n in ipairs(missing) do io.stderr:write("doc-check: not documented: ", n, "\n") end
  for _, n in ipairs(twice) do io.stderr:write("doc-check: documented twice: ", n, "\n") end
  os.exit(1)
end
print(("doc-check: %d public functions, each documented once"):format(#public))
