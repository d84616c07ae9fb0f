-- A client used before a fork, used again in the child (a preforking server, nginx's workers):
-- the child forgets the parent's connection and pool without closing them and opens its own, a
-- listing begun in the parent (a page prefetched in flight) goes on in the child from where it
-- was, and the parent's connection and listing are untouched. fork() comes from a small Lua
-- module (spec/support/fork.c) built here; without a C compiler this is pending.
local H = require "core.helper"
local emu = H.emu

local JOB = "71ab389d-a2c3-4110-8988-8da4e5fd7408"

local function build_fork()
  local dir = os.getenv("DT_SPEC_TMP") or "build"
  local so = dir .. "/spec-fork-" .. _VERSION:gsub("%D", "") .. ".so"
  local inc = "/usr/include/lua" .. _VERSION:match("%d+%.%d+")
  local cmd = string.format("mkdir -p %s && cc -std=c99 -O1 -shared -fPIC -I%s -o %s spec/support/fork.c 2>&1",
                            dir, inc, so)
  local p = io.popen(cmd)
  local out = p:read("*a")
  p:close()
  local f = package.loadlib(so, "luaopen_fork")
  return f and f() or nil, out
end

local function read(path)
  local fh = io.open(path, "rb")
  if not fh then return nil end
  local s = fh:read("*a")
  fh:close()
  return s
end

-- Runs fn in a child; returns its exit code and what it wrote to the file it was given.
local function in_child(F, fn)
  local out = os.tmpname()
  local pid = assert(F.fork(), "fork failed")
  if pid == 0 then
    local ok, text = pcall(fn)
    local fh = io.open(out, "wb")
    if fh then
      fh:write(ok and text or ("error: " .. tostring(type(text) == "table" and text.message or text)))
      fh:close()
    end
    F._exit(ok and 0 or 1)
  end
  local code = F.wait(pid)
  local text = read(out)
  os.remove(out)
  return code, text
end

describe("a client used across fork()", function()
  local F, why = build_fork()

  if not F then
    pending("spec/support/fork.c could not be built: " .. tostring(why))
    return
  end

  before_each(function() emu.reset() end)

  it("opens its own connection in the child and leaves the parent's alone", function()
    local c = H.client()
    assert(c:job(JOB))
    local before = H.requests("/batches/")
    local parent_conn = H.connection(before[#before])
    emu.clear_requests()
    local code, text = in_child(F, function()
      local job, err = c:job(JOB)
      if not job then error(err) end
      return job.id
    end)
    assert.equal(0, code, text)
    assert.equal(JOB, text)
    -- the child's call: the requests for JOB (a loaded run has shown one stray request for
    -- another job in this window, whose source is not known yet)
    local child = H.requests("/batches/" .. JOB)
    assert.equal(1, #child, H.describe_requests(H.requests("/batches/")))
    assert.are_not.equal(parent_conn, H.connection(child[1]))
    emu.clear_requests()
    assert(c:job(JOB))
    local again = H.requests("/batches/")
    assert.equal(parent_conn, H.connection(again[1])) -- still open: the child did not close it
  end)

  it("goes on with a prefetching listing begun in the parent, in both", function()
    local id = H.job{ documents = 23 }
    local c = H.client{ page_size = 5, prefetch = true }
    local want = H.listing(c, id)
    local pages = c:documents(id)
    local head = {}
    for _ = 1, 7 do head[#head + 1] = pages().id end -- page 2 in hand, page 3 prefetched
    local code, text = in_child(F, function()
      local ids = {}
      for doc in pages do ids[#ids + 1] = doc.id end
      return table.concat(ids, ",")
    end)
    assert.equal(0, code, text)
    local child = {}
    for i = 1, #head do child[i] = head[i] end
    for x in text:gmatch("[^,]+") do child[#child + 1] = x end
    assert.same(want, child)
    local parent = {}
    for i = 1, #head do parent[i] = head[i] end
    for doc in pages do parent[#parent + 1] = doc.id end
    assert.same(want, parent)
  end)
end)
