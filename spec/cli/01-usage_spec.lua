-- bin/doctranslate: help, usage errors (exit 2) and configuration, against the emulator.
local H = require "cli.helper"
local emu = require "support.emulator"

local COMMANDS = { "status", "doc", "docs", "jobs", "start", "cancel", "formats", "failures", "watch" }

describe("doctranslate --help", function()
  it("lists every command and the exit codes", function()
    local r = H.run("--help")
    assert.equal(0, r.code)
    for _, c in ipairs(COMMANDS) do
      assert.is_truthy(r.out:find("\n   " .. c .. " ", 1, true), c)
    end
    assert.is_truthy(r.out:find("\nExit codes:\n  0  ok\n  1  the command failed: a service, network or internal "
      .. "error\n  2  usage: [^\n]+\n  3  the job failed %(Failed, ValidationFailed%)\n  4  some documents failed", 1),
      r.out)
    assert.equal("", r.err)
  end)

  it("works for every command, as --help, -h and `help COMMAND`, without any configuration", function()
    for _, c in ipairs(COMMANDS) do
      for _, form in ipairs({ { c, "--help" }, { c, "-h" }, { "help", c } }) do
        form.env = { DOCTRANSLATE_ENDPOINT = false, DOCTRANSLATE_KEY = false }
        local r = H.run(form)
        assert.equal(0, r.code, table.concat(form, " "))
        assert.is_truthy(r.out:find("Usage: doctranslate " .. c, 1, true), c)
        assert.is_truthy(r.out:find("DOCTRANSLATE_ENDPOINT", 1, true))
      end
    end
  end)

  it("--version prints the module version", function()
    local r = H.run("--version")
    assert.equal(0, r.code)
    assert.matches("^doctranslate %d+%.%d+%.%d+", r.out)
  end)
end)

describe("doctranslate usage errors", function()
  local cases = {
    { {}, "a command is required" },
    { { "frobnicate" }, "unknown command 'frobnicate'" },
    { { "stauts" }, "Did you mean 'status'?" },
    { { "status" }, "missing argument 'job'" },
    { { "doc", H.FIXTURE_BIG }, "missing argument 'doc'" },
    { { "status", H.FIXTURE_BIG, "extra" }, "too many arguments" },
    { { "status", H.FIXTURE_BIG, "--colour" }, "unknown option '--colour'" },
    { { "status", H.FIXTURE_BIG, "--top", "3" }, "unknown option '--top'" },
    { { "docs", H.FIXTURE_BIG, "-vx" }, "unknown option '-x'" },
    { { "status", H.FIXTURE_BIG, "--tty", "--no-tty" },
      "option '--no-tty' can not be used together with option '--tty'" },
    { { "jobs", "--status", "Nope" }, "option --status: 'Nope' is not a status (NotStarted, Running" },
    { { "docs", H.FIXTURE_BIG, "--page-size", "500" }, "option --page-size: an integer in 1..100 expected" },
    { { "docs", H.FIXTURE_BIG, "--top", "x" }, "option --top" },
    { { "docs", H.FIXTURE_BIG, "--order", "up" }, "argument for option '--order' must be one of 'asc', 'desc'" },
    { { "docs", H.FIXTURE_BIG, "--order-by", "size" }, "order_by" },
    { { "docs", H.FIXTURE_BIG, "--created-after", "yesterday" }, "option --created-after" },
    { { "docs", H.FIXTURE_BIG, "--continuation", "dt1:x", "--top", "3" }, "--top cannot be added" },
    { { "docs", H.FIXTURE_BIG, "--page-size" }, "option '--page-size' requires an argument" },
    { { "status", H.FIXTURE_BIG, "--json=yes" }, "option '--json' does not take arguments" },
    { { "start", "--target", "https://a.blob.core.windows.net/t:fr" }, "missing option '--source'" },
    { { "start", "--source", "https://a.blob.core.windows.net/s" }, "missing option '--target'" },
    { { "start", "--source", "https://a.blob.core.windows.net/s", "--target", "fr" }, "option --target: URL:LANG" },
    { { "formats", "--type", "font" }, "argument for option '--type' must be one of 'document', 'glossary'" },
    { { "watch", H.FIXTURE_BIG, "--interval=-1" }, "option --interval: a number in 0..3600 expected" },
    { { "status", H.FIXTURE_BIG, "--api-version", "2099-01-01" }, "option '--api-version' must be one of" },
    { { "status", H.FIXTURE_BIG, "--endpoint", "ftp://example.com" }, "endpoint" },
  }
  for _, case in ipairs(cases) do
    local argv, want = case[1], case[2]
    it("exits 2 for `doctranslate " .. table.concat(argv, " ") .. "`", function()
      local r = H.run(argv)
      assert.equal(2, r.code, r.err)
      assert.equal("", r.out)
      assert.is_truthy(r.err:find(want, 1, true), r.err)
      assert.matches("^doctranslate: ", r.err)
    end)
  end

  it("exits 2 without an endpoint or a key, naming the variable to set", function()
    local r = H.run{ "status", H.FIXTURE_BIG, env = { DOCTRANSLATE_ENDPOINT = false } }
    assert.equal(2, r.code)
    assert.is_truthy(r.err:find("DOCTRANSLATE_ENDPOINT", 1, true))
    r = H.run{ "status", H.FIXTURE_BIG, env = { DOCTRANSLATE_KEY = false } }
    assert.equal(2, r.code)
    assert.is_truthy(r.err:find("DOCTRANSLATE_KEY", 1, true))
  end)
end)

describe("doctranslate configuration", function()
  it("reads the AZURE_* names users already have", function()
    local r = H.run{ "status", H.FIXTURE_SMALL, env = {
      DOCTRANSLATE_ENDPOINT = false, DOCTRANSLATE_KEY = false,
      AZURE_DOCUMENT_TRANSLATION_ENDPOINT = emu.https, AZURE_TRANSLATOR_KEY = emu.key } }
    assert.equal(0, r.code, r.err)
    assert.is_truthy(r.out:find("Succeeded", 1, true))
    r = H.run{ "status", H.FIXTURE_SMALL, env = {
      DOCTRANSLATE_ENDPOINT = false, DOCTRANSLATE_KEY = false,
      AZURE_TRANSLATOR_ENDPOINT = emu.https, AZURE_DOCUMENT_TRANSLATION_KEY = emu.key } }
    assert.equal(0, r.code, r.err)
  end)

  it("takes flags over the environment, and never prints the key given as a flag", function()
    local r = H.run{ "status", H.FIXTURE_SMALL, "--endpoint", emu.https, "--key", emu.key,
                     "--ca-file", emu.ca, "--region", "westeurope", "--api-version", "v1.0", "--verbose",
                     env = { DOCTRANSLATE_ENDPOINT = "https://127.0.0.1:1", DOCTRANSLATE_KEY = "wrong-key-123" } }
    assert.equal(0, r.code, r.err)
    -- --verbose: the request line names the v1.0 URL family, never the key
    assert.is_truthy(r.err:find("/translator/text/batch/v1.0/batches/" .. H.FIXTURE_SMALL, 1, true), r.err)
    local log = emu.requests()
    local last = log[#log]
    assert.equal("westeurope", last.headers["ocp-apim-subscription-region"])
  end)

  it("sends DOCTRANSLATE_TOKEN as a bearer token when no key is set", function()
    local tok = emu.token{ expires_in = 600 }.token
    local r = H.run{ "status", H.FIXTURE_SMALL, env = { DOCTRANSLATE_KEY = false, DOCTRANSLATE_TOKEN = tok } }
    assert.equal(0, r.code, r.err)
    assert.is_nil(r.out:find(tok, 1, true))
    local log = emu.requests()
    assert.equal("Bearer REDACTED", log[#log].headers.authorization)
  end)

  it("verifies TLS: without the emulator's CA the certificate is refused (exit 1)", function()
    local r = H.run{ "status", H.FIXTURE_SMALL, "--retries", "0", env = { DOCTRANSLATE_CA_FILE = false } }
    assert.equal(1, r.code)
    assert.matches("^doctranslate: network", r.err)
    r = H.run{ "status", H.FIXTURE_SMALL, "--insecure", env = { DOCTRANSLATE_CA_FILE = false } }
    assert.equal(0, r.code, r.err)
  end)

  it("a wrong key is the service's 401, exit 1, and the wrong key is not printed either", function()
    local r = H.run{ "status", H.FIXTURE_SMALL, env = { DOCTRANSLATE_KEY = "not-the-right-key-42" } }
    assert.equal(1, r.code)
    assert.matches("^doctranslate: http 401", r.err)
    assert.is_nil(r.err:find("not-the-right-key-42", 1, true))
  end)
end)
