-- Runs inside headless Neovim (spec/hosts/nvim_host.lua starts it): the plugin of examples/nvim
-- watches one job and lists another whose pages the emulator delays, while a timer fires every
-- 10 ms and notes how late it is. Writes "name value" lines to DT_NVIM_OUT, then quits.
local uv = vim.loop
local out = assert(os.getenv("DT_NVIM_OUT"))
local watch_job = assert(os.getenv("DT_NVIM_WATCH_JOB"))
local docs_job = assert(os.getenv("DT_NVIM_DOCS_JOB"))
local key = os.getenv("DOCTRANSLATE_KEY") or ""

local plugin = require "doctranslate_nvim"
plugin.setup{ endpoint = os.getenv("DT_NVIM_ENDPOINT"), key_env = "DOCTRANSLATE_KEY",
              ca_file = os.getenv("DT_NVIM_CA"), interval = 0.5 }

-- the editor's responsiveness: a timer every 10 ms, its lateness in ms
local PERIOD = 10
local late, last = {}, nil
local ticker = uv.new_timer()
ticker:start(PERIOD, PERIOD, function()
  local t = uv.hrtime() / 1e6
  if last then late[#late + 1] = math.max(0, t - last - PERIOD) end
  last = t
end)

local started = uv.hrtime()
vim.cmd("DocTranslateWatch " .. watch_job)
local buf = plugin.docs(docs_job)

local function pct(values, p)
  local s = {}
  for i = 1, #values do s[i] = values[i] end
  table.sort(s)
  if #s == 0 then return -1 end
  return s[math.max(1, math.min(#s, math.ceil(p / 100 * #s)))]
end

local function finish(reason)
  ticker:stop()
  ticker:close()
  local w = plugin.watch_state(watch_job) or {}
  local l = plugin.docs_state(docs_job) or {}
  local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  local ids, dup, failed_with_code = {}, 0, 0
  for i = 2, #lines do
    local id, status, code = lines[i]:match("^(%S+)%s+(%S+)%s*(%S*)$")
    if id then
      if ids[id] then dup = dup + 1 else ids[id] = true end
      if status == "Failed" and code ~= "" then failed_with_code = failed_with_code + 1 end
    end
  end
  local distinct = 0
  for _ in pairs(ids) do distinct = distinct + 1 end
  local messages = vim.api.nvim_exec("messages", true)
  local text = table.concat(lines, "\n") .. "\n" .. messages .. "\n" .. (w.text or "") .. plugin.statusline()
  local f = {
    { "reason", reason },
    { "seconds", (uv.hrtime() - started) / 1e9 },
    { "watch_status", w.status or "none" },
    { "watch_done", w.done and 1 or 0 },
    { "watch_polls", w.polls or 0 },
    { "watch_total", w.summary and w.summary.total or 0 },
    { "watch_finished", w.summary and ((w.summary.success or 0) + (w.summary.failed or 0)) or 0 },
    { "watch_window", (w.win and vim.api.nvim_win_is_valid(w.win)) and 1 or 0 },
    { "docs_done", l.done and 1 or 0 },
    { "docs_error", l.error and tostring(l.error):gsub("%s", "_") or "none" },
    { "docs_lines", #lines - 1 },
    { "docs_distinct", distinct },
    { "docs_duplicates", dup },
    { "docs_failed_with_code", failed_with_code },
    { "docs_pages", l.pages or 0 },
    { "key_shown", (key ~= "" and text:find(key, 1, true)) and 1 or 0 },
    { "ticks", #late },
    { "late_p50_ms", pct(late, 50) },
    { "late_p99_ms", pct(late, 99) },
    { "late_max_ms", pct(late, 100) },
    { "step_max_ms", plugin.stats.steps_max_ms or -1 },
    { "steps", plugin.stats.steps or 0 },
  }
  local fh = assert(io.open(out, "w"))
  for _, kv in ipairs(f) do
    local v = kv[2]
    if type(v) == "number" and v ~= math.floor(v) then v = ("%.3f"):format(v) end
    fh:write(kv[1], " ", tostring(v), "\n")
  end
  fh:close()
  vim.cmd("qall!")
end

local check, finished = uv.new_timer(), false
check:start(50, 50, vim.schedule_wrap(function()
  if finished then return end
  local w = plugin.watch_state(watch_job)
  local l = plugin.docs_state(docs_job)
  local give_up = (uv.hrtime() - started) / 1e9 > 90
  if (w and w.done and l and l.done) or give_up then
    finished = true
    check:stop()
    check:close()
    finish(give_up and "timeout" or "done")
  end
end))
