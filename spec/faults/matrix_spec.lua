-- The fault matrix: every operation x every fault the emulator scripts.
-- Each cell is exact (compared with a clean read, after the retries it took) or a typed error
-- value with the right kind, status, code, message and request ids. A listing that fails keeps
-- its continuation: resuming it yields the rest with no document lost or repeated.
-- The table is printed at the end and written to build/fault-matrix.txt.
local H = require "core.helper"
local socket = require "socket"
local http = require "socket.http"
local ltn12 = require "ltn12"
local cjson = require "cjson"

-- The emulator's helpers, with the admin calls the cells make over LuaSocket in this process
-- (spec/support/emulator.lua runs the curl CLI for each: too slow for 272 cells).
local emu = setmetatable({}, { __index = H.emu })
local function fast(method, path, value, headers)
  local chunks = {}
  local body = value ~= nil and (type(value) == "string" and value or cjson.encode(value)) or nil
  headers = headers or {}
  if body then
    headers["Content-Type"] = "application/json"
    headers["Content-Length"] = tostring(#body)
  end
  local _, status, rheaders = http.request{ method = method, url = H.emu.http .. path, headers = headers,
                                            source = body and ltn12.source.string(body) or nil,
                                            sink = ltn12.sink.table(chunks) }
  local text = table.concat(chunks)
  assert(type(status) == "number", "emulator " .. method .. " " .. path .. ": " .. tostring(status))
  return status, rheaders, text
end
local function admin(method, path, value)
  local status, _, text = fast(method, "/_emulator" .. path, value)
  assert(status < 300, "emulator admin " .. method .. " " .. path .. " -> " .. status .. ": " .. text)
  return text ~= "" and H.emu.decode(text) or nil
end
emu.admin = admin
function emu.fault(o) return admin("POST", "/faults", o).id end
function emu.clear_faults() return admin("DELETE", "/faults") end
function emu.clear_requests() return admin("DELETE", "/requests") end
function emu.requests() return admin("GET", "/requests") end
function emu.job(id) return admin("GET", "/jobs/" .. id) end
function emu.get(path) return fast("GET", path, nil, { ["Ocp-Apim-Subscription-Key"] = H.emu.key }) end

local UUID = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"
local TIMEOUT = 0.4           -- the client's per-request timeout in the cells
local RETRIES = 1

-- A port where nothing listens: bound then closed (connection refused).
local function closed_port()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return port
end

local function client(o)
  local opts = { retries = RETRIES, retry_base = 0.01, retry_max = 2, timeout = TIMEOUT,
                 connect_timeout = 2, page_size = 5 }
  for k, v in pairs(o or {}) do opts[k] = v end
  return H.client(opts)
end

local function start_request()
  return { inputs = { {
    source = { sourceUrl = "https://acct.blob.core.windows.net/src?sv=2024&sig=MATRIXSIG" },
    targets = { { targetUrl = "https://acct.blob.core.windows.net/fr?sig=MATRIXSIG", language = "fr" } },
  } } }
end

local function project(o, fields)
  local t = {}
  for _, f in ipairs(fields) do t[f] = o[f] end
  return t
end

local JOB_FIELDS = { "id", "status", "createdDateTimeUtc", "lastActionDateTimeUtc" }
local SUMMARY = { "total", "failed", "success", "inProgress", "notYetStarted", "cancelled",
                  "totalCharacterCharged" }
local DOC_FIELDS = { "id", "status", "path", "sourcePath", "to", "progress", "characterCharged",
                     "createdDateTimeUtc", "lastActionDateTimeUtc" }

local function job_view(j)
  local t = project(j, JOB_FIELDS)
  t.summary = project(j.summary, SUMMARY)
  return t
end

-- Drains a Pages object page by page; returns ids (and nil) or the ids got so far and the error.
local function drain(pages)
  local ids = {}
  while true do
    local page, err = pages:next_page()
    if page == nil then return ids, err end
    for i = 1, #page do ids[#ids + 1] = page[i].id end
  end
end

local fx -- fixtures: created once for the file

-- The listing whose page n meets the fault: its ids so far, then what its continuation finishes.
local function listing_op(n)
  return { name = "list p" .. n, route = "documents", page = n, base = 3, listing = true,
    run = function(c, st)
      st.pages = c:documents(fx.job)
      local ids, err = drain(st.pages)
      st.got = ids
      if err then return nil, err end
      return ids
    end,
    resume = function(c, st) return drain(c:documents(fx.job, { continuation = st.pages:continuation() })) end,
    view = function(ids) return ids end }
end

-- Operations: route (the emulator's), page (list fault page), base (requests of a clean call),
-- prepare (per cell state), run (value or nil, err), view (what "exact" compares),
-- resume (listings: finishes from the continuation after an error).
local OPS = {
  { name = "job", route = "job", base = 1,
    run = function(c) return c:job(fx.job) end,
    view = job_view },
  { name = "document", route = "document", base = 1,
    run = function(c) return c:document(fx.job, fx.doc) end,
    view = function(d) return project(d, DOC_FIELDS) end },
  listing_op(1),
  listing_op(3),
  { name = "start", route = "start", base = 1, start = true,
    run = function(c) return c:start(start_request()) end,
    view = function(j, st)
      -- exact: the service accepted exactly one start of this call (a try that failed created
      -- nothing), and the job returned is the one it holds
      local accepted = 0
      for _, r in ipairs(emu.requests()) do
        if r.route == "start" and H.header(r, "user-agent") == st.agent and r.status == 202 then
          accepted = accepted + 1
        end
      end
      assert.equal(1, accepted, "one start creates exactly one job")
      local held = emu.job(j.id)
      assert.equal(j.id, held.id)
      return { status = j.status }
    end },
  { name = "cancel", route = "cancel", base = 1,
    prepare = function(st) st.id = admin("POST", "/jobs", { documents = 5, duration = 600 }).id end,
    run = function(c, st) return c:cancel(st.id) end,
    view = function(j, st)
      assert.equal(st.id, j.id)
      assert.equal("Cancelling", emu.job(st.id).status)
      return { id = j.id, status = j.status == "Cancelled" and "Cancelling" or j.status }
    end },
  { name = "jobs p2", route = "jobs", page = 2, base = 3, listing = true,
    run = function(c, st)
      st.pages = c:jobs{ ids = fx.jobs, page_size = 2, order_by = "createdDateTimeUtc asc" }
      local ids, err = drain(st.pages)
      st.got = ids
      if err then return nil, err end
      return ids
    end,
    resume = function(c, st) return drain(c:jobs{ continuation = st.pages:continuation() }) end,
    view = function(ids) return ids end },
  { name = "formats", route = "formats", base = 1,
    run = function(c) return c:formats("document") end,
    view = function(list)
      local t = {}
      for i, f in ipairs(list) do t[i] = { f.format, table.concat(f.fileExtensions, ","), f.defaultVersion } end
      return t
    end },
}

-- Faults: the emulator's fault (route and page filled in per op), times, client options, and
-- the expected outcome per op: "ok" (exact, maybe after retries) or { kind, status, body }.
local FAULTS = {}
local function fault(col, spec) spec.col = col; FAULTS[#FAULTS + 1] = spec end

fault("latency", { f = { action = "latency", ms = 900, times = -1 }, slow = true, expect = { kind = "timeout" } })
fault("429 s", { f = { action = "status", status = 429, retry_after = 1 }, recovers = true, waits = 1,
                 start_fails = { kind = "http", status = 429, body = "service", retry_after = 1 } })
fault("429 date", { f = { action = "status", status = 429, retry_after = "date" }, recovers = true,
                    start_fails = { kind = "http", status = 429, body = "service" } })
for _, s in ipairs{ 500, 502, 503, 504 } do
  local start_ok = s ~= 502 -- a start is retried only on 500/503/504
  fault(tostring(s), { f = { action = "status", status = s }, recovers = true,
                       start_fails = not start_ok and { kind = "http", status = s, body = "service" } or nil })
  fault(s .. " RA", { f = { action = "status", status = s, retry_after = 1 }, recovers = true, waits = 1,
                      start_fails = not start_ok and { kind = "http", status = s, body = "service",
                                                       retry_after = 1 } or nil })
end
fault("503 x inf", { f = { action = "status", status = 503, times = -1 },
                     expect = { kind = "http", status = 503, body = "service", tries = RETRIES + 1 } })
for _, s in ipairs{ 400, 401, 403, 404, 409 } do
  for _, b in ipairs{ "service", "empty", "nonjson" } do
    fault(s .. (b == "service" and "" or (b == "empty" and " empty" or " text")),
      { f = { action = "status", status = s, body = b, times = -1 },
        expect = { kind = "http", status = s, body = b, tries = 1 } })
  end
end
fault("refused", { refused = true, expect = { kind = "network" } })
fault("reset", { f = { action = "reset" }, recovers = true, start_fails = { kind = "network" } })
-- a start answered 202 with its Operation-Location but a cut body was accepted by the service:
-- the job is returned (its id from the header), never an error that invites a second start
fault("trunc", { f = { action = "truncate", times = -1 }, expect = { kind = "parse", status = 200 },
                 start_expect = "accepted" })
fault("html", { f = { action = "html", times = -1 }, expect = { kind = "parse", status = 200 },
                start_expect = { kind = "protocol", status = 200 } })
fault("empty", { f = { action = "empty", times = -1 }, expect = { kind = "parse", status = 200 },
                 start_expect = { kind = "protocol", status = 200 } })
fault("trickle", { f = { action = "trickle", bytes_per_second = 40, times = -1 }, slow = true,
                   expect = { kind = "timeout" } })
fault("oversize", { f = { action = "oversize", bytes = 200000, times = -1 }, client = { max_body = 4096 },
                    expect = { kind = "protocol", message = "cap" } })

local function expectation(op, ft)
  if op.start then
    if ft.start_expect then return ft.start_expect end
    if ft.recovers then return ft.start_fails or "ok" end
  end
  if ft.recovers then return "ok" end
  return ft.expect
end

-- The requests of one cell: its route, sent with the cell's own user agent (a slow answer of an
-- earlier cell may be logged late, once the server has finished it).
local function route_requests(route, agent)
  local out = {}
  for _, r in ipairs(emu.requests()) do
    if r.route == route and H.header(r, "user-agent") == agent then out[#out + 1] = r end
  end
  return out
end

local MATRIX, CLEAN = {}, {}
local cell_no = 0
local counts = { exact = 0, typed = 0 }

local function record(op, ft, cell)
  MATRIX[op.name] = MATRIX[op.name] or {}
  MATRIX[op.name][ft.col] = cell
end

local function pad(s, n) return s .. string.rep(" ", n - #s) end

local function table_text()
  local w0 = 9
  for _, op in ipairs(OPS) do if #op.name > w0 then w0 = #op.name end end
  local lines, cols = {}, {}
  for i, ft in ipairs(FAULTS) do
    local w = #ft.col
    for _, op in ipairs(OPS) do
      local cell = MATRIX[op.name] and MATRIX[op.name][ft.col] or "?"
      if #cell > w then w = #cell end
    end
    cols[i] = w
  end
  -- two blocks so that the table stays readable in a terminal
  local half = math.ceil(#FAULTS / 2)
  for _, range in ipairs{ { 1, half }, { half + 1, #FAULTS } } do
    local head = { pad("", w0) }
    for i = range[1], range[2] do head[#head + 1] = pad(FAULTS[i].col, cols[i]) end
    lines[#lines + 1] = table.concat(head, " | ")
    for _, op in ipairs(OPS) do
      local row = { pad(op.name, w0) }
      for i = range[1], range[2] do
        row[#row + 1] = pad(MATRIX[op.name] and MATRIX[op.name][FAULTS[i].col] or "?", cols[i])
      end
      lines[#lines + 1] = table.concat(row, " | ")
    end
    lines[#lines + 1] = ""
  end
  local n = 0
  for _, op in ipairs(OPS) do for _ in pairs(MATRIX[op.name] or {}) do n = n + 1 end end
  lines[#lines + 1] = string.format("cells %d (planned %d): exact %d, typed errors %d", n,
                                    #OPS * #FAULTS, counts.exact, counts.typed)
  return table.concat(lines, "\n") .. "\n"
end

describe("fault matrix", function()
  lazy_setup(function()
    emu.reset()
    emu.settings{ cancel_delay = 600 }
    fx = {}
    fx.job = H.job{ documents = 15 }
    fx.doc = nil
    fx.jobs = {}
    for i = 1, 5 do fx.jobs[i] = H.job{ documents = i } end
    -- clean reads, against which "exact" compares
    local c = client()
    local ids = assert(drain(c:documents(fx.job)))
    assert.equal(15, #ids)
    fx.doc = ids[7]
    for _, op in ipairs(OPS) do
      if not op.start and op.name ~= "cancel" then
        local st = {}
        local v, err = op.run(c, st)
        assert(v, tostring(err))
        CLEAN[op.name] = op.view(v, st)
      end
    end
    CLEAN.start = { status = "NotStarted" }
    CLEAN.cancel = "by id" -- filled per cell
    assert.equal(5, #CLEAN["jobs p2"])
  end)

  lazy_teardown(function()
    local text = table_text()
    io.stdout:write("\n\nfault matrix (rows: operations, columns: faults; ok/rN = exact after N retries)\n\n",
                    text)
    os.execute("mkdir -p build")
    local fh = io.open("build/fault-matrix.txt", "w")
    if fh then fh:write(text); fh:close() end
    emu.reset()
  end)

  for _, op in ipairs(OPS) do
    for _, ft in ipairs(FAULTS) do
      local want = expectation(op, ft)
      local label = op.name .. " x " .. ft.col .. ": " ..
                    ((want == "ok" or want == "accepted") and "exact" or
                     (want.kind .. (want.status and (" " .. want.status) or "")))
      it(label, function()
        emu.clear_faults()
        local st = {}
        if op.prepare then op.prepare(st) end
        local copts = {}
        for k, v in pairs(ft.client or {}) do copts[k] = v end
        if ft.refused then copts.endpoint = "http://127.0.0.1:" .. closed_port() end
        cell_no = cell_no + 1
        local agent = "fault-matrix/" .. cell_no
        st.agent = agent
        copts.user_agent = agent
        local c = client(copts)
        -- the service's error body for the expected status, read first by a raw request that
        -- consumes a one-shot fault of its own (so the cell's fault is untouched)
        local probe
        if type(want) == "table" and want.body == "service" then
          emu.fault{ route = "job", job = fx.jobs[1], action = "status", status = want.status, times = 1 }
          local status, _, text = emu.get("/translator/document/batches/" .. fx.jobs[1] .. "?api-version=2026-03-01")
          assert.equal(want.status, status)
          probe = emu.decode(text).error
        end
        if ft.f then
          local f = { route = op.route, page = op.page, times = 1 }
          for k, v in pairs(ft.f) do f[k] = v end
          emu.fault(f)
        end
        emu.clear_requests()
        local t0 = socket.gettime()
        local v, err = op.run(c, st)
        local elapsed = socket.gettime() - t0
        local reqs = ft.refused and {} or route_requests(op.route, agent)
        if want == "accepted" then
          assert(v, "expected the started job, got " .. tostring(err))
          op.view(v, st)
          assert.equal(1, #reqs)
          counts.exact = counts.exact + 1
          record(op, ft, "ok/id")
          return
        end
        if want == "ok" then
          assert(v, "expected an exact result, got " .. tostring(err))
          local clean = CLEAN[op.name]
          if op.name == "cancel" then clean = { id = st.id, status = "Cancelling" } end
          assert.same(clean, op.view(v, st))
          local retries = #reqs - op.base
          assert.is_true(retries >= 1, "the fault fired and the call was retried")
          -- Retry-After honoured (the backoff alone is a few hundredths of a second here)
          if ft.waits then assert.is_true(elapsed >= ft.waits - 0.05, "waited " .. elapsed) end
          counts.exact = counts.exact + 1
          record(op, ft, retries == 0 and "ok" or ("ok/r" .. retries))
          return
        end
        -- a typed error value
        assert.is_nil(v)
        assert.is_true(H.dt.is_error(err), "an error value: " .. tostring(err))
        assert.equal(want.kind, err.kind)
        assert.is_string(err.message)
        assert.is_true(#err.message > 0)
        if want.status then assert.equal(want.status, err.status) end
        if want.message then assert.truthy(err.message:find(want.message, 1, true), err.message) end
        if want.retry_after then assert.equal(want.retry_after, err.retry_after) end
        if want.body == "service" then
          assert.equal(probe.code, err.code)
          assert.equal(probe.message, err.message)
          if probe.target then assert.equal(probe.target, err.target) end
        elseif want.body == "empty" then
          assert.is_nil(err.code)
          assert.truthy(err.message:find("empty body", 1, true), err.message)
        elseif want.body == "nonjson" then
          assert.is_nil(err.code)
          assert.truthy(err.message:find("non-JSON", 1, true), err.message)
        end
        -- request ids: the client's always, the same one on every try of this call, the one the
        -- server logged; the server's when it answered with a status
        local cid = err["x-ms-client-request-id"]
        assert.is_string(cid)
        assert.truthy(cid:match(UUID), cid)
        if ft.refused then
          assert.is_nil(err["apim-request-id"])
        elseif not ft.slow then -- (a slow answer is logged once the server has finished it)
          assert.is_true(#reqs >= 1, "the server saw the call")
          -- every try of the failing call (the requests the fault fired on) carries the same id
          local faulted = 0
          for _, r in ipairs(reqs) do
            if r.faults and #r.faults > 0 then
              faulted = faulted + 1
              assert.equal(cid, H.header(r, "x-ms-client-request-id"))
            end
          end
          assert.is_true(faulted >= 1, "the fault fired")
          assert.equal(cid, H.header(reqs[#reqs], "x-ms-client-request-id"))
          if want.tries then assert.equal((op.page or 1) - 1 + want.tries, #reqs) end
        end
        if err.kind == "http" or err.kind == "parse" then
          assert.truthy(tostring(err["apim-request-id"]):match(UUID))
          assert.equal(err["apim-request-id"], err["x-requestid"])
        elseif err["apim-request-id"] ~= nil then
          assert.truthy(err["apim-request-id"]:match(UUID))
        end
        if err.kind == "timeout" then
          -- each try is cut at the timeout: the call never hangs on a slow server
          assert.is_true(elapsed < (RETRIES + 1) * (TIMEOUT + 0.3) + 0.5, "elapsed " .. elapsed)
        end
        local cell = err.kind == "http" and ("http " .. err.status) or err.kind
        -- a listing keeps its continuation: finishing it later loses and repeats nothing
        if op.listing then
          emu.clear_faults()
          local rest, rerr = op.resume(client(), st)
          assert.is_nil(rerr)
          local union = {}
          for _, id in ipairs(st.got) do union[#union + 1] = id end
          for _, id in ipairs(rest) do union[#union + 1] = id end
          assert.same(CLEAN[op.name], union)
          if op.page and op.page > 1 and not ft.refused then
            assert.is_true(#st.got > 0, "the pages before the fault were yielded")
          end
          cell = cell .. "+c"
        end
        counts.typed = counts.typed + 1
        record(op, ft, cell)
      end)
    end
  end
end)
