-- Every fenced block of README.md (and of the docs pages that carry examples) runs as printed, in
-- a fresh shell set up the way the page tells its reader, so the pages cannot rot.
--
-- Fences and what this spec does with them (any other fence fails it):
--   ```sh setup        run first, in every shell of its page (README's: in every page's)
--   ```sh              run with `bash -e` after the setup, from the checkout
--   ```lua             saved to a file and run with `lua5.4 FILE` after the setup
--   ```lua file=PATH   saved to PATH (from the checkout) for the blocks after it
--   ```text output     what the block before it prints on stdout, exactly
--   ```text            an illustration, not run
--   ```sh norun        what cannot run inside the specs (make test, apt-get): only checked, its
--                      make targets exist, its Debian packages are known, its files are there
-- The shell starts from an empty environment (PATH, HOME, LANG only) plus the emulator's make
-- variables, so `make emulator-start` in a setup block finds the emulator these specs run.
local emu = require "support.emulator"

local PAGES = { "README.md", "docs/api.md", "docs/emulator-admin.md" }
local LUA = "lua5.4"

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local function write(path, text)
  local dir = path:match("^(.*)/[^/]*$")
  if dir then os.execute("mkdir -p " .. emu.shell_quote(dir)) end
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

-- The fenced blocks of a page: { line, kind, tags, file, text }.
local function blocks(page)
  local out, current, n = {}, nil, 0
  for line in (read(page) .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    if current then
      if line:match("^```%s*$") then
        current.text = table.concat(current.lines, "\n") .. "\n"
        out[#out + 1] = current
        current = nil
      else
        current.lines[#current.lines + 1] = line
      end
    else
      local info = line:match("^```(.*)$")
      if info then
        local kind, rest = info:match("^(%a*)%s*(.-)%s*$")
        local b = { page = page, line = n, kind = kind, info = info, lines = {}, tags = {} }
        for word in rest:gmatch("%S+") do
          local k, v = word:match("^(%a+)=(.+)$")
          if k == "file" then b.file = v else b.tags[word] = true end
        end
        current = b
      end
    end
  end
  assert(current == nil, page .. ": a fenced block is not closed")
  return out
end

-- What a fence may say.
local function allowed(b)
  local tags = {}
  for t in pairs(b.tags) do tags[#tags + 1] = t end
  table.sort(tags)
  local key = b.kind .. ":" .. table.concat(tags, ",") .. (b.file and ":file" or "")
  return ({ ["sh:"] = true, ["sh:setup"] = true, ["sh:norun"] = true, ["lua:"] = true,
            ["lua::file"] = true, ["text:"] = true, ["text:output"] = true })[key] == true
end

local function name(b) return ("%s:%d"):format(b.page, b.line) end

local function free_port()
  local socket = require "socket"
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return port
end

-- The environment of a fresh shell: nothing of the spec's own, the emulator's make variables.
local function fresh_env()
  local http_port = (os.getenv("DT_EMULATOR_HTTP") or emu.http):match(":(%d+)$")
  local https_port = (os.getenv("DT_EMULATOR_HTTPS") or emu.https):match(":(%d+)$")
  local vars = {
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME=" .. (os.getenv("HOME") or "/tmp"), "LANG=C.UTF-8",
    "EMULATOR_HTTP_PORT=" .. http_port, "EMULATOR_HTTPS_PORT=" .. https_port,
    "EMULATOR_DIR=" .. emu.ca:match("^(.*)/[^/]*$"), "EMULATOR_KEY=" .. emu.key,
    "MY_JOBS_PORT=" .. free_port(),
  }
  for i, v in ipairs(vars) do vars[i] = emu.shell_quote(v) end
  return "env -i " .. table.concat(vars, " ")
end

local MARK = "@@ the block starts here @@"

-- Runs body after the setup blocks in a fresh bash; returns ok, the body's stdout, all stderr.
local function run_shell(setups, body)
  local script = os.tmpname()
  local parts = { "set -e" }
  for _, s in ipairs(setups) do parts[#parts + 1] = s.text end
  parts[#parts + 1] = "echo '" .. MARK .. "'"
  parts[#parts + 1] = body
  write(script, table.concat(parts, "\n") .. "\n")
  local out, err = os.tmpname(), os.tmpname()
  local ok = os.execute(("%s bash %s >%s 2>%s </dev/null"):format(fresh_env(), emu.shell_quote(script),
    emu.shell_quote(out), emu.shell_quote(err)))
  local o, e = read(out), read(err)
  os.remove(script)
  os.remove(out)
  os.remove(err)
  local after = o:match(MARK:gsub("%p", "%%%0") .. "\n(.*)$")
  return (ok == true or ok == 0), after or "", e, o
end

-- The make targets of the Makefile and mk/*.mk (rule heads).
local function make_targets()
  local t = {}
  local p = io.popen("cat Makefile mk/*.mk")
  for line in p:lines() do
    local head, after = line:match("^([%w%-_ %.]+):(.?)")
    if head and after ~= "=" then
      for target in head:gmatch("%S+") do t[target] = true end
    end
  end
  p:close()
  return t
end

-- A block that cannot run here: what it names must exist.
local function check_norun(b)
  local targets = make_targets()
  local text = b.text:gsub("\\\n", " ")
  for line in text:gmatch("[^\n]+") do
    line = line:gsub("%s+#.*$", "")
    local words = {}
    for w in line:gmatch("%S+") do words[#words + 1] = w end
    if words[1] == "make" then
      for i = 2, #words do
        if not words[i]:find("=", 1, true) and not words[i]:match("^%-") then
          assert(targets[words[i]], name(b) .. ": no make target " .. words[i])
        end
      end
    elseif line:match("apt%-get install") then
      for i = 1, #words do
        if words[i] ~= "sudo" and words[i] ~= "apt-get" and words[i] ~= "install" and not words[i]:match("^%-") then
          local ok = os.execute("apt-cache show " .. emu.shell_quote(words[i]) .. " >/dev/null 2>&1")
          assert(ok == true or ok == 0, name(b) .. ": no Debian package " .. words[i])
        end
      end
    else
      for _, w in ipairs(words) do
        if w:match("^[%w_.-]+/[%w_./-]+$") then
          assert(io.open(w, "r"), name(b) .. ": no file " .. w):close()
        end
      end
    end
  end
end

local all, by_page = {}, {}
for _, page in ipairs(PAGES) do
  by_page[page] = blocks(page)
  for _, b in ipairs(by_page[page]) do all[#all + 1] = b end
end

describe("the pages' examples", function()
  setup(function()
    emu.reset()
    -- the jobs the examples start take one second (the service's Retry-After), not the default eight
    emu.settings{ start_duration = 1 }
  end)
  teardown(function() emu.reset() end)

  it("use only the fences this spec knows how to run or check", function()
    for _, b in ipairs(all) do
      assert(allowed(b), name(b) .. ": a fence this spec does not run: ```" .. b.info)
    end
  end)

  it("run nearly all: few blocks are only checked", function()
    local run, norun = 0, 0
    for _, b in ipairs(all) do
      if b.tags.norun then norun = norun + 1 elseif b.kind ~= "text" then run = run + 1 end
    end
    assert.is_true(run >= 15, "runnable blocks: " .. run)
    assert.is_true(norun <= 5, "norun blocks: " .. norun)
  end)

  it("README keeps the two commands first, and stays short", function()
    local readme = read("README.md")
    local first = readme:find("\n## ", 1, true)
    assert.equal("## Two commands", readme:sub(first + 1, first + #"## Two commands"))
    local two = readme:match("## Two commands\n\n```sh norun\n(.-)```")
    assert.is_truthy(two and two:find("make demo", 1, true) and two:find("make test", 1, true))
    local lines = select(2, readme:gsub("\n", ""))
    assert.is_true(lines < 400, "README.md has " .. lines .. " lines")
  end)

  it("link to files that exist", function()
    for _, page in ipairs(PAGES) do
      local dir = page:match("^(.*)/[^/]*$")
      for target in read(page):gmatch("%]%(([^)#%s]+)[^)]*%)") do
        if not target:match("^%a+:") then
          local path = dir and (dir .. "/" .. target) or target
          local f = io.open(path, "r")
          assert(f, page .. " links to a missing " .. target)
          f:close()
        end
      end
    end
  end)

  for _, page in ipairs(PAGES) do
    local setups = {}
    if page ~= "README.md" then
      for _, b in ipairs(by_page["README.md"]) do
        if b.tags.setup then setups[#setups + 1] = b end
      end
    end
    local last_out
    for _, b in ipairs(by_page[page]) do
      local before = {}
      for i, x in ipairs(setups) do before[i] = x end
      if b.tags.setup then
        setups[#setups + 1] = b
        before[#before + 1] = b
        it(name(b) .. " sets up a shell", function()
          local ok, _, err = run_shell(before, "true")
          assert(ok, err)
        end)
      elseif b.tags.norun then
        it(name(b) .. " names targets, packages and files that exist (norun)", function() check_norun(b) end)
      elseif b.file then
        it(name(b) .. " is saved as " .. b.file, function() write(b.file, b.text) end)
      elseif b.kind == "text" and b.tags.output then
        it(name(b) .. " is what the block before it printed", function()
          assert.is_string(last_out, "no block before it ran")
          assert.equal(b.text, last_out)
        end)
      elseif b.kind == "sh" or b.kind == "lua" then
        it(name(b) .. " runs as printed", function()
          local body = b.text
          local file
          if b.kind == "lua" then
            file = os.tmpname()
            write(file, b.text)
            body = LUA .. " " .. emu.shell_quote(file)
          end
          local ok, out, err = run_shell(before, body)
          if file then os.remove(file) end
          last_out = out
          assert(ok, name(b) .. " failed:\n" .. out .. err)
          -- the key never shows in what an example prints (the setup's own lines excepted)
          assert.is_nil(out:find(emu.key, 1, true), out)
        end)
      end
    end
  end
end)
