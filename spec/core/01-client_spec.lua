-- Client construction, argument checking and the date helpers: no network.
local dt = require "doctranslate"
local U = require "support.usage"

local function usage(f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok)
  err = U.of(err) -- a string at this line, as luaL_argerror raises them
  assert.matches("01%-client_spec%.lua:%d+$", err.where)
  return err
end

describe("dt.new", function()
  it("accepts every documented option", function()
    local c = dt.new{ endpoint = "https://res.cognitiveservices.azure.com", key = "k-123456789",
      region = "westeurope", api_version = "2024-05-01", timeout = 30, connect_timeout = 10, retries = 3,
      ca_file = "/etc/ssl/certs/ca-certificates.crt", insecure = false, user_agent = "ua/1",
      proxy = "http://127.0.0.1:3128", log = function() end }
    assert.equal("doctranslate.Client", getmetatable(c).__name)
  end)

  it("defaults to api_version 2026-03-01 and knows every version", function()
    assert.equal("2026-03-01", dt.DEFAULT_API_VERSION)
    for _, v in ipairs{ "2026-03-01", "2024-11-01-preview", "2024-05-01", "v1.1", "v1.0", "v1.0-preview.1" } do
      local c = dt.new{ endpoint = "https://h", key = "k", api_version = v }
      assert.truthy(tostring(c):find(v, 1, true))
    end
    assert.truthy(tostring(dt.new{ endpoint = "https://h", key = "k" }):find("2026-03-01", 1, true))
  end)

  it("raises usage errors that name the argument", function()
    assert.truthy(usage(dt.new, nil).message:find("'opts'", 1, true))
    assert.truthy(usage(dt.new, { key = "k" }).message:find("'endpoint'", 1, true))
    assert.truthy(usage(dt.new, { endpoint = "ftp://h", key = "k" }).message:find("'endpoint'", 1, true))
    assert.truthy(usage(dt.new, { endpoint = "https://h" }).message:find("'key'", 1, true))
    local function names(opts, name)
      assert.truthy(usage(dt.new, opts).message:find("'" .. name .. "'", 1, true), name)
    end
    names({ endpoint = "https://h", key = "k", colour = 1 }, "colour")
    assert.truthy(usage(dt.new, { endpoint = "https://h", key = 42 }).message:find("'key'", 1, true))
    names({ endpoint = "https://h", key = "k", timeout = "30" }, "timeout")
    assert.truthy(usage(dt.new, { endpoint = "https://h", key = "k", api_version = "2099-01-01" })
      .message:find("'api_version'", 1, true))
    names({ endpoint = "https://h", key = "k", page_size = 101 }, "page_size")
    names({ endpoint = "https://h", key = "k", page_size = 0 }, "page_size")
    names({ endpoint = "https://h", key = "k", insecure = "yes" }, "insecure")
    assert.truthy(usage(dt.new, { endpoint = "https://h", key = "k", log = "print" }).message:find("'log'", 1, true))
  end)

  it("checks listing options lazily named", function()
    local c = dt.new{ endpoint = "https://h", key = "k" }
    assert.truthy(usage(c.documents, c, "j", { page_size = 101 }).message:find("'page_size'", 1, true))
    assert.truthy(usage(c.documents, c, "j", { page_size = 1.5 }).message:find("'page_size'", 1, true))
    assert.truthy(usage(c.documents, c, "j", { top = -1 }).message:find("'top'", 1, true))
    assert.truthy(usage(c.documents, c, "j", { skip = "1" }).message:find("'skip'", 1, true))
    assert.truthy(usage(c.documents, c, "j", { statuses = { 1 } }).message:find("'statuses'", 1, true))
    assert.truthy(usage(c.documents, c, "j", { order_by = "id" }).message:find("'order_by'", 1, true))
    assert.truthy(usage(c.documents, c, "j", { created_after = "yesterday" }).message:find("'created_after'", 1, true))
    assert.truthy(usage(c.documents, c, "j", { sort = "x" }).message:find("'sort'", 1, true))
    assert.truthy(usage(c.documents, c, "j", { continuation = "nope" }).message:find("'continuation'", 1, true))
    assert.truthy(usage(c.documents, c, "", {}).message:find("'job_id'", 1, true))
    assert.truthy(usage(c.job, c, nil).message:find("'job_id'", 1, true))
    assert.truthy(usage(c.document, c, "j", 5).message:find("'doc_id'", 1, true))
  end)

  it("never shows the key in tostring, and says insecure loudly", function()
    local c = dt.new{ endpoint = "https://h/translator/", key = "super-secret-key-value", insecure = true }
    local s = tostring(c)
    assert.falsy(s:find("super-secret-key-value", 1, true))
    assert.truthy(s:find("INSECURE", 1, true))
    assert.truthy(s:find("https://h", 1, true))
  end)

  it("closes idempotently and then refuses work", function()
    local c = dt.new{ endpoint = "https://h", key = "k" }
    c:close()
    c:close()
    assert.truthy(usage(c.job, c, "j").message:find("closed", 1, true))
  end)
end)

describe("dt.parse_date", function()
  it("parses Z, offsets, 1..7 fractional digits and no zone as UTC", function()
    assert.equal(1585180800, dt.parse_date("2020-03-26T00:00:00Z"))
    assert.equal(1585180800, dt.parse_date("2020-03-26T00:00:00"))
    assert.near(1579549207.701, dt.parse_date("2020-01-20T11:40:07.7010000-08:00"), 1e-6)
    assert.near(1728609990.1343348, dt.parse_date("2024-10-11T01:26:30.1343348Z"), 1e-6)
    assert.near(1728609990.1, dt.parse_date("2024-10-11T01:26:30.1Z"), 1e-6)
    assert.equal(1585180800 - 5400, dt.parse_date("2020-03-26T00:00:00+01:30"))
    assert.equal(1585180800 - 5400, dt.parse_date("2020-03-26T00:00:00+0130"))
  end)

  it("parses an HTTP date", function()
    assert.equal(784111777, dt.parse_date("Sun, 06 Nov 1994 08:49:37 GMT"))
  end)

  it("returns nil and a parse error for anything else", function()
    for _, s in ipairs{ "", "2020-13-01T00:00:00Z", "2020-02-30T00:00:00Z", "2020-01-01", "2020-01-01T00:00:00Q",
                        "2020-01-01T00:00:00.Z", "yesterday" } do
      local t, err = dt.parse_date(s)
      assert.is_nil(t, s)
      assert.equal("parse", err.kind)
    end
    assert.equal("usage", U.of(select(2, pcall(dt.parse_date, 5))).kind)
  end)

  it("round-trips with format_date", function()
    assert.equal("2020-03-26T00:00:00Z", dt.format_date(1585180800))
    assert.equal("2020-03-26T00:00:00.250Z", dt.format_date(1585180800.25))
  end)
end)

describe("the core's constants", function()
  local core = require "doctranslate.core"

  it("are the public names, one table each", function()
    assert.equal(core.API_VERSIONS, dt.API_VERSIONS)
    assert.equal(core.TERMINAL, dt.TERMINAL)
    assert.equal(core.API_VERSIONS[1], dt.DEFAULT_API_VERSION)
    assert.equal(core.TERMINAL, require("doctranslate.lifecycle").TERMINAL)
  end)

  it("list the versions the client takes and the terminal statuses", function()
    assert.same({ "2026-03-01", "2024-11-01-preview", "2024-05-01", "v1.1", "v1.0", "v1.0-preview.1" },
      core.API_VERSIONS)
    assert.same({ Succeeded = true, Failed = true, Cancelled = true, Canceled = true, ValidationFailed = true },
      core.TERMINAL)
    local err = usage(dt.new, { endpoint = "https://h", key = "k", api_version = "2099-01-01" })
    assert.truthy(err.message:find("(known: " .. table.concat(core.API_VERSIONS, ", ") .. ")", 1, true))
  end)

  it("give the client's option defaults", function()
    assert.same({ timeout = 30, connect_timeout = 10, retries = 3, retry_base = 0.8, retry_max = 60,
                  max_body = 16 * 1024 * 1024, max_headers = 64 * 1024, max_pages = 1000000 }, core.DEFAULTS)
  end)
end)

describe("dt.redact", function()
  it("hides every SAS signature and only the signature", function()
    assert.equal("sig=REDACTED&sv=1", dt.redact("sig=a%2Bb&sv=1"))
    assert.equal("https://h/c?sv=1&sig=REDACTED#f", dt.redact("https://h/c?sv=1&sig=xyz#f"))
    assert.equal("a?sig=REDACTED b?sig=REDACTED", dt.redact("a?sig=1 b?sig=2"))
    -- the name in any case; the value ends at white space of any kind
    assert.equal("https://h/c?sv=1&SIG=REDACTED&x=1", dt.redact("https://h/c?sv=1&SIG=abc&x=1"))
    assert.equal("a?Sig=REDACTED\tb?sIg=REDACTED\nc", dt.redact("a?Sig=1\tb?sIg=2\nc"))
    -- a name that merely ends in sig= is not a signature
    assert.equal("https://h/c?mysig=keep", dt.redact("https://h/c?mysig=keep"))
    assert.equal("", dt.redact(""))
    assert.equal("usage", U.of(select(2, pcall(dt.redact, nil))).kind)
  end)
end)

describe("error values", function()
  it("print well and carry their kind", function()
    local err = require("doctranslate.core").error("timeout", "the deadline passed")
    assert.truthy(dt.is_error(err))
    assert.equal("timeout", err.kind)
    assert.equal("doctranslate: timeout: the deadline passed", tostring(err))
  end)

  it("are not what a misuse raises: that is a string at the caller's line", function()
    local line = debug.getinfo(1, "l").currentline + 1
    local ok, err = pcall(dt.new, { endpoint = "https://h", key = "k", page_size = 500 })
    assert.is_false(ok)
    assert.is_false(dt.is_error(err))
    assert.equal("string", type(err))
    assert.truthy(err:find("^spec/core/01%-client_spec%.lua:" .. line .. ": bad option 'page_size'"), err)
  end)
end)
