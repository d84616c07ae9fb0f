-- Secrets: with a recognisable key, a bearer token and SAS signatures in document paths,
-- every error path is tried and every string the module produces is searched for them: error
-- messages and every field of error values (recursively), tostring of every object, every log
-- line at debug level, continuation tokens, the CLI's output. No request to anything but the
-- configured endpoint carries them; insecure = true is loud; SAS sig= is redacted in tostring and
-- logs while the fields keep the real value.
local H = require "core.helper"
local emu = H.emu
local socket = require "socket"
local listener = require "security.listener"
local U = require "support.usage"

local KEY = emu.key                       -- the emulator's key: the one that works
local WRONG = "WRONGKEY-7f3a9c1e5b"       -- a recognisable key the service refuses
local SIG = "SASSIGSECRET4711"            -- a SAS signature in the documents' source paths
local BAD_TOKEN = "BADTOKEN-0c9d8e7f6a"

local secrets = { KEY, WRONG, SIG, BAD_TOKEN }
local NOT_SIG = { KEY, WRONG, BAD_TOKEN }
local token -- a bearer token the emulator issued (added to secrets in setup)

-- Every string reachable from v: strings, keys and values of tables, tostring of userdata and of
-- tables with a __tostring, error fields through pairs, the fields of userdata that index by name.
local FIELDS = { "id", "status", "message", "code", "target", "kind", "path", "sourcePath", "url", "next_link",
                 "innerError", "innererror", "error", "apim-request-id", "x-requestid",
                 "x-ms-client-request-id", "retry_after" }
local function strings(v, out, seen)
  out, seen = out or {}, seen or {}
  local t = type(v)
  if t == "string" then
    out[#out + 1] = v
  elseif t == "number" or t == "boolean" or t == "nil" then
    return out
  elseif seen[v] then
    return out
  else
    seen[v] = true
    out[#out + 1] = tostring(v)
    if t == "table" then
      for k, x in pairs(v) do strings(k, out, seen); strings(x, out, seen) end
    elseif t == "userdata" then
      for _, f in ipairs(FIELDS) do
        local ok, x = pcall(function() return v[f] end)
        if ok then strings(x, out, seen) end
      end
    end
  end
  return out
end

local checked = 0
local function clean_of(v, what, list)
  for _, s in ipairs(strings(v)) do
    checked = checked + 1
    for _, secret in ipairs(list or secrets) do
      assert.falsy(s:find(secret, 1, true), (what or "a string") .. " holds a secret: " .. s:sub(1, 300))
    end
  end
end

local function client(o)
  local opts = { endpoint = emu.http, key = KEY, retries = 1, retry_base = 0.01, timeout = 0.5 }
  for k, v in pairs(o or {}) do
    if v == false then opts[k] = nil else opts[k] = v end
  end
  local lines = {}
  opts.log = function(level, msg) lines[#lines + 1] = level .. " " .. msg end
  return H.dt.new(opts), lines
end

describe("secrets", function()
  local job_id, other

  lazy_setup(function()
    emu.reset()
    local t = emu.token{}
    token = type(t) == "table" and (t.token or t.access_token) or t
    assert.is_string(token)
    secrets[#secrets + 1] = token
    NOT_SIG[#NOT_SIG + 1] = token
    job_id = emu.create_job{ documents = 12, fail_every = 4, extra_fields = true,
                             source = "https://acct.blob.core.windows.net/src?sv=2024&sig=" .. SIG }.id
    other = listener.start()
  end)
  lazy_teardown(function()
    other:stop()
    emu.reset()
  end)

  -- every fault on every route the module reads: each error, its fields, its tostring, the log
  local FAULTS = {
    { action = "latency", ms = 900 }, { action = "status", status = 429, retry_after = 1 },
    { action = "status", status = 503 }, { action = "status", status = 401 },
    { action = "status", status = 403, body = "empty" }, { action = "status", status = 404, body = "nonjson" },
    { action = "status", status = 409, body = "html" }, { action = "reset" }, { action = "truncate" },
    { action = "html" }, { action = "empty" }, { action = "nonjson" }, { action = "trickle", bytes_per_second = 20 },
    { action = "oversize", bytes = 100000 },
  }
  local CALLS = {
    { "job", "job", function(c) return c:job(job_id) end },
    { "document", "document", function(c) return c:document(job_id, "00000000-0000-0000-0000-000000000001") end },
    { "documents", "documents", function(c)
        local pages = c:documents(job_id, { page_size = 5 })
        local page, err = pages:next_page()
        return page, err, pages
      end },
    { "jobs", "jobs", function(c)
        local pages = c:jobs{ page_size = 5 }
        local page, err = pages:next_page()
        return page, err, pages
      end },
    { "start", "start", function(c)
        return c:start{ inputs = { { source = { sourceUrl = "https://acct.blob.core.windows.net/s?sig=" .. SIG },
                                     targets = { { targetUrl = "https://acct.blob.core.windows.net/t?sig=" .. SIG,
                                                   language = "fr" } } } } }
      end },
    { "cancel", "cancel", function(c) return c:cancel(job_id) end },
    { "formats", "formats", function(c) return c:formats("document") end },
  }
  for _, auth in ipairs{ "key", "token" } do
    for _, call in ipairs(CALLS) do
      it("every fault on " .. call[1] .. " (" .. auth .. "): no secret in any error, tostring or log line", function()
        for _, f in ipairs(FAULTS) do
          emu.clear_faults()
          local fault = { route = call[2], times = -1 }
          for k, v in pairs(f) do fault[k] = v end
          emu.fault(fault)
          local c, lines = client(auth == "token" and { key = false, token = token } or nil)
          local v, err, pages = call[3](c)
          assert.truthy(err or v, "an answer")
          if err then
            assert.is_true(H.dt.is_error(err), tostring(err))
            clean_of(err, call[1] .. " " .. f.action .. " error")
          end
          -- results: their fields keep the service's values (a document's sourcePath keeps its
          -- SAS signature); their tostring hides it
          clean_of(v, "result", NOT_SIG)
          if type(v) == "table" then
            for _, x in ipairs(v) do clean_of(tostring(x), "tostring(result item)") end
          end
          clean_of(tostring(v), "tostring(result)")
          if pages then
            clean_of(pages, "pages")
            clean_of(pages:continuation(), "continuation")
          end
          clean_of(c, "client")
          clean_of(lines, "log")
          assert.is_true(#lines >= 1, "the log saw the call")
        end
        emu.clear_faults()
      end)
    end
  end

  it("a wrong key and a wrong token: 401 errors without them", function()
    local c, lines = client{ key = WRONG }
    local _, err = c:job(job_id)
    assert.equal(401, err.status)
    clean_of(err, "401 error")
    clean_of(lines, "log")
    local ok, e2, raised = U.loop(c:documents(job_id))
    assert.is_false(ok)
    clean_of(e2, "raised 401")
    clean_of(raised, "raised 401, its text")
    local c2, lines2 = client{ key = false, token = BAD_TOKEN }
    local _, e3 = c2:job(job_id)
    assert.equal(401, e3.status)
    clean_of(e3, "token 401")
    clean_of(lines2, "log")
    clean_of(c2, "client")
    -- a token function's value
    local c3 = client{ key = false, token = function() return BAD_TOKEN, os.time() + 3600 end }
    local _, e4 = c3:job(job_id)
    assert.equal(401, e4.status)
    clean_of(e4, "token function 401")
    clean_of(c3, "client")
  end)

  it("usage errors, a bad endpoint, connection refused and a TLS failure", function()
    local errs = {}
    local function usage(opts)
      local ok, e = pcall(H.dt.new, opts)
      assert.is_false(ok)
      assert.equal("usage", U.of(e).kind) -- the raised string, at this line
      errs[#errs + 1] = e
    end
    usage{ endpoint = "ftp://x", key = KEY }
    usage{ endpoint = "http://h/?k=" .. KEY, key = KEY }
    usage{ endpoint = emu.http, key = KEY .. "\n" }
    usage{ endpoint = emu.http, key = KEY, token = token }
    usage{ endpoint = emu.http, token = token .. "\r\n" }
    usage{ endpoint = emu.http, key = KEY, bogus = KEY }
    usage{ endpoint = emu.http, key = KEY, page_size = 1000 }
    usage{ endpoint = emu.http, key = { KEY } }
    local c = client()
    for _, f in ipairs{ function() return c:job(42) end, function() return c:documents(job_id, { top = KEY }) end,
                        function() return c:documents(job_id, { continuation = KEY }) end,
                        function() return c:start{ inputs = { { source = { sourceUrl = KEY } } } } end } do
      local ok, e = pcall(f)
      if ok then
        -- a value that is not an iterator error yet: drive it
        local ok2, e2 = U.loop(e)
        assert.is_false(ok2)
        e = e2
      end
      errs[#errs + 1] = e
    end
    -- connection refused (the endpoint is a closed port), a TLS failure (no CA), a wrong host name
    local s = assert(socket.bind("127.0.0.1", 0))
    local _, port = s:getsockname()
    s:close()
    for _, o in ipairs{ { endpoint = "http://127.0.0.1:" .. port }, { endpoint = emu.https },
                        { endpoint = emu.https:gsub("127%.0%.0%.1", "127.0.0.2"), ca_file = emu.ca },
                        { endpoint = "http://no-such-host.invalid" } } do
      local cl, lines = client(o)
      local _, e = cl:job(job_id)
      assert.is_true(H.dt.is_error(e))
      assert.truthy(e.kind == "network" or e.kind == "timeout", e.kind)
      errs[#errs + 1] = e
      clean_of(lines, "log")
      clean_of(cl, "client")
    end
    for _, e in ipairs(errs) do clean_of(e, "error " .. tostring(e)) end
    assert.is_true(#errs >= 16)
  end)

  it("tostring of every object; SAS sig= redacted while the fields keep it", function()
    local c, lines = client{ timeout = 5 }
    local job = assert(c:job(job_id))
    clean_of(job, "job")
    clean_of(job:response(), "response")
    local docs = {}
    for doc in c:documents(job_id, { page_size = 5 }) do docs[#docs + 1] = doc end
    assert.equal(12, #docs)
    for _, doc in ipairs(docs) do
      -- the field is the service's value, with its signature
      assert.truthy(doc.sourcePath:find("sig=" .. SIG, 1, true), doc.sourcePath)
      assert.falsy(tostring(doc):find(SIG, 1, true), tostring(doc))
      clean_of(tostring(doc), "tostring(doc)")
      clean_of(doc:response(), "doc response")
    end
    local pages = c:documents(job_id, { page_size = 5 })
    local page = assert(pages:next_page())
    clean_of(tostring(page), "page")
    clean_of(tostring(pages), "pages")
    clean_of(pages:continuation(), "continuation")
    local doc = assert(c:document(job_id, docs[1].id))
    clean_of(tostring(doc), "document")
    -- the failure report prints paths: redacted there too
    local report = job:failures()
    clean_of(tostring(report), "failures report")
    -- sans-I/O requests carry the key in their headers (the transport sends them) but never show it
    local op = c:job_op(job_id)
    local req = op:next_request()
    assert.equal(KEY, req.headers["Ocp-Apim-Subscription-Key"])
    clean_of(tostring(req), "tostring(request)")
    clean_of(tostring(op), "op")
    local lop = c:documents(job_id, { page_size = 5 })
    clean_of(tostring(lop:next_request()), "listing request")
    clean_of(lines, "log")
    assert.is_true(#lines >= 4)
    -- a start's body holds the SAS URLs as the caller gave them; its tostring does not
    local started = assert(c:start{ inputs = { { source = { sourceUrl = "https://a.blob.core.windows.net/s?sig=" ..
                                                            SIG },
                                                 targets = { { targetUrl = "https://a.blob.core.windows.net/t?sig=" ..
                                                               SIG, language = "fr" } } } } })
    clean_of(started, "started job")
    clean_of(lines, "log after start")
  end)

  it("insecure = true is explicit and loud in tostring(client); TLS is verified by default", function()
    local c = client{ endpoint = emu.https, insecure = true }
    assert.truthy(tostring(c):find("INSECURE", 1, true), tostring(c))
    assert(c:job(job_id)) -- the emulator's certificate is not trusted, yet insecure reads it
    local safe = client{ endpoint = emu.https, ca_file = emu.ca }
    assert.falsy(tostring(safe):find("INSECURE", 1, true))
    assert(safe:job(job_id))
    -- room for a slow handshake (valgrind): the refusal must be the certificate, not the clock
    local _, err = client{ endpoint = emu.https, timeout = 10 }:job(job_id)
    assert.equal("network", err.kind)
    assert.truthy(err.message:lower():find("certificate", 1, true) or err.message:find("SSL", 1, true), err.message)
  end)

  it("a foreign next link: the other listener receives no request and no secret", function()
    emu.clear_faults()
    emu.fault{ route = "documents", job = job_id, page = 1, action = "foreign_next", times = -1,
               next = other.url .. "/translator/document/batches/" .. job_id .. "/documents?skip=5" }
    for _, auth in ipairs{ { key = KEY }, { key = false, token = token } } do
      local c, lines = client(auth)
      local listing = c:documents(job_id, { page_size = 5 })
      local ok, raised = pcall(function() for _ in listing do end end) -- luacheck: ignore
      assert.is_false(ok)
      local err = listing:error()
      assert.equal("protocol", err.kind)
      assert.matches("doctranslate: protocol", raised)
      clean_of(raised, "foreign error, raised")
      clean_of(err, "foreign error")
      clean_of(lines, "log")
    end
    local got = other:requests()
    assert.equal(0, #got)
    emu.clear_faults()
  end)

  it("a redirect to another host is not followed and does not carry the key", function()
    local second = listener.start()
    finally(function() second:stop() end)
    local c, lines = client{ endpoint = other.url, timeout = 3 }
    local _, err = c:job("redirect-to-" .. second.port)
    assert.is_true(H.dt.is_error(err))
    assert.equal(302, err.status)
    clean_of(err, "redirect error")
    clean_of(lines, "log")
    assert.equal(0, #second:requests())
    -- the configured endpoint did get the key: the listener proves the check can see it
    local reqs = other:requests()
    assert.truthy(reqs[#reqs]:find(KEY, 1, true))
  end)

  it("the CLI: no secret on stdout or stderr on any path", function()
    -- the Lua running the specs (as spec/cli does), with nothing of the developer's own settings
    local lua = os.getenv("DT_CLI_LUA") or (rawget(_G, "jit") and "luajit") or ("lua" .. _VERSION:match("%d+%.%d+"))
    local unset = {}
    for _, n in ipairs{ "AZURE_DOCUMENT_TRANSLATION_ENDPOINT", "AZURE_TRANSLATOR_ENDPOINT", "DOCTRANSLATE_KEY",
                        "AZURE_DOCUMENT_TRANSLATION_KEY", "AZURE_TRANSLATOR_KEY", "DOCTRANSLATE_TOKEN",
                        "DOCTRANSLATE_CA_FILE", "DOCTRANSLATE_API_VERSION" } do
      unset[#unset + 1] = "-u " .. n
    end
    local function run(env, args)
      local cmd = "env " .. table.concat(unset, " ") .. " " .. env .. " " .. lua .. " bin/doctranslate " .. args ..
                  " 2>&1"
      local p = assert(io.popen(cmd))
      local out = p:read("*a")
      p:close()
      return out
    end
    local base = "DOCTRANSLATE_ENDPOINT=" .. emu.http .. " DOCTRANSLATE_KEY=" .. KEY
    local outs = {
      run(base, "status " .. job_id .. " --verbose"),
      run(base, "status 00000000-0000-0000-0000-000000000000 --verbose"),
      run(base, "failures " .. job_id .. " --verbose"),
      run("DOCTRANSLATE_ENDPOINT=" .. emu.http .. " DOCTRANSLATE_KEY=" .. WRONG, "status " .. job_id .. " --verbose"),
      run("DOCTRANSLATE_ENDPOINT=" .. emu.https .. " DOCTRANSLATE_KEY=" .. KEY, "status " .. job_id .. " --verbose"),
      run("DOCTRANSLATE_ENDPOINT=ftp://nowhere DOCTRANSLATE_KEY=" .. KEY, "status " .. job_id),
      run("DOCTRANSLATE_ENDPOINT=" .. emu.http .. " DOCTRANSLATE_TOKEN=" .. BAD_TOKEN, "jobs --verbose"),
      run("DOCTRANSLATE_ENDPOINT=" .. emu.http .. " DOCTRANSLATE_TOKEN=" .. token, "status " .. job_id ..
          " --verbose"),
      run(base, "start --source https://a.blob.core.windows.net/s?sig=" .. SIG .. " --target https://a.blob." ..
          "core.windows.net/t?sig=" .. SIG .. ":fr --verbose"),
      run(base, "--bogus " .. KEY),
    }
    assert.truthy(outs[1]:find(job_id, 1, true), outs[1])
    assert.truthy(outs[4]:find("401", 1, true), outs[4])
    for i, out in ipairs(outs) do
      for _, secret in ipairs{ KEY, WRONG, BAD_TOKEN, token } do
        assert.falsy(out:find(secret, 1, true), "CLI run " .. i .. " printed a secret:\n" .. out)
      end
    end
  end)

  it("looked at a good number of strings", function()
    assert.is_true(checked > 1000, checked .. " strings")
  end)
end)
