--- The failure report the command line prints (`failures`, and `watch` when a job ends).
--
-- When the library offers `job:failures()` (issue 8's report) the command
-- prints that; otherwise it builds the same information here from one
-- listing of the job's failed documents: every failed document with its
-- source path, target language, error code, message and inner error chain,
-- grouped by error code with counts.
-- @module doctranslate.cli.report
local report = {}

--- The inner error chain of an error table as a list of codes.
-- @tparam table err an error object as the service sends it
-- @treturn table codes, outermost first (the error's own code excluded)
function report.inner_codes(err)
  local codes, e, depth = {}, err and (err.innerError or err.innererror), 0
  while type(e) == "table" and depth < 16 do
    codes[#codes + 1] = tostring(e.code or "?")
    e = e.innerError or e.innererror
    depth = depth + 1
  end
  return codes
end

--- "code" or "code/inner/inner..." for an error table.
function report.code_path(err)
  if type(err) ~= "table" then return "(no error)" end
  local parts = { tostring(err.code or "?") }
  for _, c in ipairs(report.inner_codes(err)) do parts[#parts + 1] = c end
  return table.concat(parts, "/")
end

--- The deepest message of an error chain (the most specific one).
function report.message(err)
  local msg, e, depth = nil, err, 0
  while type(e) == "table" and depth < 16 do
    if e.message then msg = e.message end
    e = e.innerError or e.innererror
    depth = depth + 1
  end
  return msg or ""
end

--- Builds the report from a listing of the job's failed documents.
-- @param c client
-- @param job job userdata
-- @treturn table { job_id, status, total, failed, groups = {{code, count, message, documents}}, documents }
-- or nil, err
function report.collect(c, job)
  local rep = { job_id = job.id, status = job.status, total = job.summary and job.summary.total or 0,
                failed = 0, groups = {}, documents = {}, job_error = job.error }
  local by_code = {}
  local pages = c:documents(job.id, { statuses = { "Failed" }, order_by = "createdDateTimeUtc asc" })
  while true do
    local page, err = pages:next_page()
    if not page then
      pages:close()
      if err then return nil, err end
      break
    end
    for _, d in ipairs(page) do
      local e = d.error
      local entry = { id = d.id, sourcePath = d.sourcePath, to = d.to, code = e and e.code, target = e and e.target,
                      message = e and e.message, innerError = e and (e.innerError or e.innererror),
                      code_path = report.code_path(e) }
      rep.documents[#rep.documents + 1] = entry
      local g = by_code[entry.code_path]
      if not g then
        g = { code = entry.code_path, count = 0, message = report.message(e) }
        by_code[entry.code_path] = g
        rep.groups[#rep.groups + 1] = g
      end
      g.count = g.count + 1
    end
  end
  rep.failed = #rep.documents
  table.sort(rep.groups, function(a, b)
    if a.count ~= b.count then return a.count > b.count end
    return a.code < b.code
  end)
  return rep
end

local function clip(s, n)
  s = tostring(s or "")
  if n and #s > n then return s:sub(1, n - 1) .. "~" end
  return s
end

--- The report as text lines (a table on a terminal or in a file alike).
-- @tparam table rep from report.collect
-- @tparam[opt] number width columns to fit the message column in (nil: no clipping)
-- @tparam[opt] number max_docs list at most this many documents (nil: all), then say how many more
-- @treturn string
function report.text(rep, width, max_docs)
  local out = {}
  local function add(s) out[#out + 1] = s end
  if rep.failed == 0 and not rep.job_error then
    add(("job %s %s: no document failed"):format(rep.job_id, rep.status))
    return table.concat(out, "\n") .. "\n"
  end
  add(("job %s %s: %d of %d documents failed"):format(rep.job_id, rep.status, rep.failed, rep.total))
  if rep.job_error then
    add(("job error: %s: %s"):format(report.code_path(rep.job_error), report.message(rep.job_error)))
  end
  if #rep.groups > 0 then
    add("")
    add(("%7s  %-36s  %s"):format("count", "code/inner code", "message"))
    for _, g in ipairs(rep.groups) do
      add(("%7d  %-36s  %s"):format(g.count, clip(g.code, 36), clip(g.message, width and width - 47)))
    end
    add("")
    add(("%-36s  %-6s  %-36s  %s"):format("document", "to", "code/inner code", "source"))
    for i, d in ipairs(rep.documents) do
      if max_docs and i > max_docs then
        add(("... and %d more (doctranslate failures %s lists them all)"):format(#rep.documents - max_docs,
          rep.job_id))
        break
      end
      add(("%-36s  %-6s  %-36s  %s"):format(d.id, clip(d.to, 6), clip(d.code_path, 36),
        clip(d.sourcePath, width and width - 86)))
    end
  end
  return table.concat(out, "\n") .. "\n"
end

--- The report as one JSON value (a Lua table ready for doctranslate.cli.json).
function report.value(rep)
  local docs = {}
  for i, d in ipairs(rep.documents) do
    docs[i] = { id = d.id, sourcePath = d.sourcePath, to = d.to,
                error = { code = d.code, message = d.message, target = d.target, innerError = d.innerError } }
  end
  local groups = {}
  for i, g in ipairs(rep.groups) do groups[i] = { code = g.code, count = g.count, message = g.message } end
  return { job = rep.job_id, status = rep.status, total = rep.total, failed = rep.failed,
           error = rep.job_error, groups = groups, documents = docs }
end

report.ORDERS = {
  [""] = { "job", "status", "total", "failed", "error", "groups", "documents" },
  groups = { "code", "count", "message" },
  documents = { "id", "sourcePath", "to", "error" },
  error = { "code", "message", "target", "innerError" },
  innerError = { "code", "message", "target", "innerError" },
}

return report
