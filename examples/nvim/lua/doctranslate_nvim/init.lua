-- doctranslate_nvim: follow Document Translation jobs from Neovim without ever blocking the editor.
--
--   require("doctranslate_nvim").setup{ endpoint = "https://<resource>.cognitiveservices.azure.com",
--                                       key_env = "DOCTRANSLATE_KEY", ca_file = nil, region = nil,
--                                       interval = 1, page_size = 100 }
--   :DocTranslateWatch {job}   the job's progress in a floating window, until the job ends
--   :DocTranslateDocs {job}    a scratch buffer with the job's documents, filled page by page
--   require("doctranslate_nvim").statusline()   the watched jobs' progress, for 'statusline'
--
-- Every operation is one of the module's async operations (op:step() never blocks). Its
-- sockets (op:fds()) are watched with vim.loop poll handles and its timeout with a vim.loop
-- timer: the editor's loop wakes up when a socket is ready or a timer is due, steps the
-- operation once, and goes back to the user. The key is read from the environment variable
-- named by key_env when a client is made; it is never shown, logged or kept by this plugin.
local M = {}

local uv = vim.loop

local config = {
  endpoint = os.getenv("DOCTRANSLATE_ENDPOINT"),
  key_env = "DOCTRANSLATE_KEY",
  ca_file = os.getenv("DOCTRANSLATE_CA_FILE"),
  region = os.getenv("DOCTRANSLATE_REGION"),
  interval = 1,      -- seconds between two polls of a watched job
  page_size = 100,
  budget = 0.0005,   -- seconds of work a step aims at
}

local TERMINAL = { Succeeded = true, Failed = true, Cancelled = true, ValidationFailed = true }

-- the module built for LuaJIT: next to the plugin (doctranslate/core.so), in the checkout's
-- build/openresty/ (make openresty-core), or on package.cpath
local root = (debug.getinfo(1, "S").source:gsub("^@", "")):match("^(.*)/lua/doctranslate_nvim/[^/]*$") or "."
local function add_paths()
  if M._paths then return end
  M._paths = true
  package.path = table.concat({ root .. "/../../lua/?.lua", root .. "/../../lua/?/init.lua" }, ";") .. ";"
    .. package.path
  package.cpath = table.concat({ root .. "/?.so", root .. "/../../build/openresty/?.so" }, ";") .. ";"
    .. package.cpath
end

local function notify(msg, level)
  vim.schedule(function() vim.notify("doctranslate: " .. msg, level or vim.log.levels.INFO) end)
end

local dt -- the module, loaded on first use
local function module()
  if dt then return dt end
  add_paths()
  local ok, err = pcall(require, "doctranslate.core")
  if not ok then
    return nil, "the doctranslate module built for LuaJIT (doctranslate/core.so) could not be loaded: "
      .. "run `make openresty-core` in the checkout (it builds build/openresty/doctranslate/core.so, "
      .. "which this plugin finds), or put a LuaJIT build of core.so in " .. root .. "/doctranslate/, "
      .. "or its folder on package.cpath (" .. tostring(err):gsub("\n.*", "") .. ")"
  end
  local ok_lua, lua_part = pcall(require, "doctranslate")
  if not ok_lua then
    return nil, "the module's Lua files (doctranslate.lua, doctranslate/) could not be loaded: they are the "
      .. "checkout's lua/ folder, found from " .. root .. "/../../lua or on package.path ("
      .. tostring(lua_part):gsub("\n.*", "") .. ")"
  end
  dt = lua_part
  return dt
end

local client -- one client (one pool of connections) for every command
local function get_client()
  if client then return client end
  local mod, err = module()
  if not mod then return nil, err end
  if not config.endpoint then
    return nil, "no endpoint: setup{ endpoint = ... } or DOCTRANSLATE_ENDPOINT"
  end
  local key = os.getenv(config.key_env or "")
  if not key or key == "" then
    return nil, "the environment variable " .. tostring(config.key_env) .. " (key_env) is not set"
  end
  -- a bad option raises a usage error: said like any other failure
  local ok, c, cerr = pcall(mod.new, { endpoint = config.endpoint, key = key, region = config.region,
                                       ca_file = config.ca_file })
  if not ok or not c then return nil, tostring(ok and cerr or c) end
  client = c
  return client
end

function M.setup(opts)
  for k, v in pairs(opts or {}) do
    if config[k] == nil and k ~= "endpoint" and k ~= "ca_file" and k ~= "region" then
      error("doctranslate_nvim.setup: unknown option '" .. tostring(k) .. "'", 2)
    end
    config[k] = v
  end
  if client then client:close(); client = nil end
end

-- ------------------------------------------------------------------ the loop's side
-- Every operation of the client shares its pool (one libcurl multi handle), so their sockets
-- are the same: one set of poll handles (one per socket, libuv allows no more) and one timer
-- serve all of them. When a socket is ready or the timer is due, each running operation is
-- stepped once, in the main loop, then the handles are set again from op:fds().

M.stats = { steps = 0, steps_max_ms = 0 }

local running = {}            -- { op =, on_step = } in start order
local polls = {}              -- the poll handles of the last arm
local timer                   -- made on first use
local scheduled = false

local function unpoll()
  -- before the steps: libcurl may close a socket during one, and a handle must not outlive
  -- the socket it polls
  for i = #polls, 1, -1 do
    local p = polls[i]
    polls[i] = nil
    p:stop()
    p:close()
  end
  if timer then timer:stop() end
end

local wake
local function arm()
  unpoll()
  if #running == 0 then return end
  local events, timeout = {}, -1
  for _, r in ipairs(running) do
    local fds, t = r.op:fds()
    for _, f in ipairs(fds) do
      local e = events[f.fd] or {}
      e.r, e.w = e.r or f.read, e.w or f.write
      events[f.fd] = e
    end
    if t >= 0 and (timeout < 0 or t < timeout) then timeout = t end
  end
  local any = false
  for fd, e in pairs(events) do
    local p = uv.new_socket_poll(fd)
    if p then
      p:start((e.r and e.w) and "rw" or e.w and "w" or "r", wake)
      polls[#polls + 1] = p
      any = true
    end
  end
  -- no socket and no timer: work is left for the next step (its budget): soon
  if timeout < 0 then timeout = any and 250 or 1 end
  timer = timer or uv.new_timer()
  timer:start(timeout, 0, wake)
end

local function step_all()
  scheduled = false
  local list = running
  running = {}
  for _, r in ipairs(list) do
    local t0 = uv.hrtime()
    -- a usage error (the client closed by setup{} meanwhile) ends this operation, not the loop
    local ok, done = pcall(r.op.step, r.op)
    local ms = (uv.hrtime() - t0) / 1e6
    M.stats.steps = M.stats.steps + 1
    if ms > M.stats.steps_max_ms then M.stats.steps_max_ms = ms end
    local err = done
    if ok then ok, err = pcall(r.on_step, r.op, done) end
    if not ok then notify(tostring(err), vim.log.levels.ERROR) end
    if not done and ok then running[#running + 1] = r end -- (ops a callback started are there too)
  end
  arm()
end

-- from a loop callback (a fast event: no API calls there): stop watching, step soon
wake = function()
  if scheduled then return end
  scheduled = true
  unpoll()
  vim.schedule(step_all)
end

-- Runs op on the editor's loop until it ends; on_step(op, done) runs after each of its steps.
local function drive(op, on_step)
  running[#running + 1] = { op = op, on_step = on_step }
  wake()
end


-- ------------------------------------------------------------------ :DocTranslateWatch

local watches = {} -- job id -> { text =, win =, buf =, stop =, done = }

local function bar(fraction, width)
  local full = math.floor(fraction * width + 0.5)
  return string.rep("█", full) .. string.rep("░", width - full)
end

local function show(w)
  if not (w.buf and vim.api.nvim_buf_is_valid(w.buf)) then
    w.buf = vim.api.nvim_create_buf(false, true)
    vim.bo[w.buf].bufhidden = "wipe"
  end
  vim.api.nvim_buf_set_lines(w.buf, 0, -1, false, { w.text })
  local width = math.min(vim.fn.strdisplaywidth(w.text) + 2, math.max(20, vim.o.columns - 4))
  if not (w.win and vim.api.nvim_win_is_valid(w.win)) then
    w.win = vim.api.nvim_open_win(w.buf, false, { relative = "editor", anchor = "NE", row = 1,
      col = vim.o.columns - 1, width = width, height = 1, style = "minimal", border = "rounded",
      focusable = false })
  else
    vim.api.nvim_win_set_config(w.win, { width = width })
  end
end

local function watch_text(job_id, job, err)
  local short = job_id:sub(1, 8)
  if err then return ("%s: %s"):format(short, err) end
  local s = job.summary or {}
  local total = s.total or 0
  local done = (s.success or 0) + (s.failed or 0) + (s.cancelled or 0)
  local fraction = total > 0 and done / total or 0
  return ("%s %s %s %d/%d (%d failed)"):format(short, job.status, bar(fraction, 20), done, total,
    s.failed or 0)
end

function M.watch(job_id)
  local c, err = get_client()
  if not c then return notify(err, vim.log.levels.ERROR) end
  local w = watches[job_id]
  if w and not w.done then return end
  w = { text = job_id:sub(1, 8) .. " ...", polls = 0 }
  watches[job_id] = w
  show(w)
  local function poll()
    drive(c:job_async(job_id), function(op, done)
      if not done then return end
      w.polls = w.polls + 1
      if op.error then
        w.text = watch_text(job_id, nil, tostring(op.error))
        w.done, w.error = true, op.error
      else
        local job = op.result
        w.status, w.summary = job.status, job.summary
        w.text = watch_text(job_id, job)
        if TERMINAL[job.status] then
          w.done = true
        else
          local t = uv.new_timer()
          t:start(math.floor(config.interval * 1000), 0, function()
            t:close()
            vim.schedule(poll)
          end)
        end
      end
      show(w)
      if w.done then vim.cmd("redrawstatus") end
    end)
  end
  poll()
end

function M.watch_state(job_id) return watches[job_id] end

function M.statusline()
  local parts = {}
  for _, w in pairs(watches) do parts[#parts + 1] = w.text end
  table.sort(parts)
  return table.concat(parts, "  ")
end

-- ------------------------------------------------------------------ :DocTranslateDocs

local listings = {} -- job id -> { buf =, count =, pages =, done =, error = }

function M.docs(job_id)
  local c, err = get_client()
  if not c then return notify(err, vim.log.levels.ERROR) end
  local buf = vim.api.nvim_create_buf(true, true)
  vim.bo[buf].buftype = "nofile"
  vim.bo[buf].swapfile = false
  pcall(vim.api.nvim_buf_set_name, buf, "doctranslate://" .. job_id .. "/documents")
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, { ("%-36s  %-10s  %s"):format("id", "status", "error") })
  vim.api.nvim_set_current_buf(buf)
  local l = { buf = buf, count = 0, pages = 0 }
  listings[job_id] = l
  local batch = {}
  local op = c:documents_async(job_id, { page_size = config.page_size, budget = config.budget })
  drive(op, function(o, done)
    local docs, n = o:take(batch)
    if n > 0 and vim.api.nvim_buf_is_valid(buf) then
      local lines = {}
      for i = 1, n do
        local d = docs[i]
        local e = d.error
        lines[i] = ("%-36s  %-10s  %s"):format(d.id, d.status, e and e.code or "")
      end
      vim.api.nvim_buf_set_lines(buf, -1, -1, false, lines)
      l.count = l.count + n
    end
    l.pages = o.pages
    if done then
      l.done = true
      if o.error then
        l.error = o.error
        notify("listing " .. job_id .. " failed: " .. tostring(o.error), vim.log.levels.ERROR)
      else
        notify(("%d documents of job %s listed (%d pages)"):format(l.count, job_id, l.pages))
      end
    end
  end)
  return buf
end

function M.docs_state(job_id) return listings[job_id] end

return M
