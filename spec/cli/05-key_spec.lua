-- The key on the command line: --key KEY shows in the process list, so the CLI offers ways that
-- do not (--key-file FILE, --key - from standard input, the environment) and says so in --help;
-- and only secrets are masked in what it prints (a short key does not mask ordinary words).
local H = require "cli.helper"
local emu = require "support.emulator"

local function tmpfile(content)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write(content)
  f:close()
  return path
end

describe("doctranslate key handling", function()
  it("--help says --key is visible to other users and names the ways that are not", function()
    local r = H.run("--help")
    local help = r.out .. H.run("status", "--help").out
    assert.truthy(help:find("visible to other users", 1, true), help)
    assert.truthy(help:find("--key-file FILE", 1, true))
    assert.truthy(help:find("--key -", 1, true))
  end)

  it("--key-file FILE reads the key from the file's first line", function()
    local path = tmpfile(emu.key .. "\n")
    local r = H.run{ "status", H.FIXTURE_SMALL, "--key-file", path, env = { DOCTRANSLATE_KEY = "not-the-key-1234" } }
    os.remove(path)
    assert.equal(0, r.code, r.err)
    assert.truthy(r.out:find("Succeeded", 1, true))
  end)

  it("--key - reads the key from standard input", function()
    local r = H.run{ "status", H.FIXTURE_SMALL, "--key", "-", stdin = emu.key .. "\r\n",
                     env = { DOCTRANSLATE_KEY = false } }
    assert.equal(0, r.code, r.err)
    assert.truthy(r.out:find("Succeeded", 1, true))
  end)

  it("a missing or empty key file, an empty standard input, or both flags: usage (exit 2)", function()
    local empty = tmpfile("")
    for _, argv in ipairs({
      { "status", H.FIXTURE_SMALL, "--key-file", "/nonexistent/key" },
      { "status", H.FIXTURE_SMALL, "--key-file", empty },
      { "status", H.FIXTURE_SMALL, "--key", "-" },
      { "status", H.FIXTURE_SMALL, "--key", "x", "--key-file", empty },
    }) do
      local r = H.run(argv)
      assert.equal(2, r.code, table.concat(argv, " ") .. ": " .. r.err)
      assert.equal("", r.out)
    end
    os.remove(empty)
  end)

  it("the environment variable still works and wins over nothing", function()
    local r = H.run{ "status", H.FIXTURE_SMALL, env = { DOCTRANSLATE_KEY = emu.key } }
    assert.equal(0, r.code, r.err)
  end)

  it("a short wrong key does not mask the words of the service's message", function()
    local r = H.run{ "status", H.FIXTURE_SMALL, env = { DOCTRANSLATE_KEY = "wrong" } }
    assert.equal(1, r.code, r.err)
    assert.truthy(r.err:find("wrong API endpoint", 1, true), r.err)
    assert.is_nil(r.err:find("*****", 1, true), r.err)
  end)
end)
