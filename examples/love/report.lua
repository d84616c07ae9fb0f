-- What the headless check of the LÖVE app writes (DT_LOVE_OUT), read by spec/hosts/love_host.lua:
--   figures.txt   one "name value" per line: the module's time per frame (p50, p99, max, the
--                 frames up to the first answer over the first connection), the frame times,
--                 the documents seen, the window's size, the bar's place and colours
--   module_ms.txt the time inside the module in every frame, in ms, one per line
--   screenshot.png the window at the end (love.graphics.captureScreenshot)
--   bar_row.txt   the pixels of the captured image's row through the middle of the bar,
--                 "r g b" (0..255) per pixel from x = 0 to the width - 1
local report = {}

local function pct(values, p)
  local sorted = {}
  for i = 1, #values do sorted[i] = values[i] end
  table.sort(sorted)
  if #sorted == 0 then return 0 end
  local i = math.max(1, math.min(#sorted, math.ceil(p / 100 * #sorted)))
  return sorted[i]
end

local function max_of(values, from, to)
  local m, at = 0, 0
  for i = from or 1, to or #values do
    if values[i] and values[i] > m then m, at = values[i], i end
  end
  return m, at
end

local function write_file(path, text)
  local fh = assert(io.open(path, "wb"))
  fh:write(text)
  fh:close()
end

function report.write(dir, image, r)
  local png = image:encode("png")
  write_file(dir .. "/screenshot.png", png:getString())

  local y = r.bar.y + math.floor(r.bar.h / 2)
  local row = {}
  for x = 0, image:getWidth() - 1 do
    local pr, pg, pb = image:getPixel(x, y)
    row[#row + 1] = ("%d %d %d"):format(math.floor(pr * 255 + 0.5), math.floor(pg * 255 + 0.5),
      math.floor(pb * 255 + 0.5))
  end
  write_file(dir .. "/bar_row.txt", table.concat(row, "\n") .. "\n")

  local per_frame = {}
  for i = 1, #r.module_ms do per_frame[i] = ("%.4f"):format(r.module_ms[i]) end
  write_file(dir .. "/module_ms.txt", table.concat(per_frame, "\n") .. "\n")

  local max, max_frame = max_of(r.module_ms)
  local first = r.first_response_frame or #r.module_ms
  local first_max, first_at = max_of(r.module_ms, 1, first)
  local f = {
    { "frames", #r.module_ms },
    { "module_p50_ms", pct(r.module_ms, 50) },
    { "module_p99_ms", pct(r.module_ms, 99) },
    { "module_max_ms", max },
    { "module_max_frame", max_frame },
    { "first_https_frames", first },
    { "first_https_max_ms", first_max },
    { "first_https_max_frame", first_at },
    { "client_new_ms", r.client_new_ms },
    { "frame_p50_ms", pct(r.frame_ms, 50) },
    { "frame_p99_ms", pct(r.frame_ms, 99) },
    { "frame_max_ms", max_of(r.frame_ms) },
    { "documents", r.documents },
    { "duplicates", r.duplicates },
    { "failed", r.failed },
    { "total", r.total or 0 },
    { "pages", r.pages },
    { "shown_while_running", r.shown_while_running or 0 },
    { "connections", r.connections },
    { "fraction", r.fraction },
    { "width", r.width },
    { "height", r.height },
    { "image_width", image:getWidth() },
    { "image_height", image:getHeight() },
    { "bar_x", r.bar.x },
    { "bar_y", r.bar.y },
    { "bar_w", r.bar.w },
    { "bar_h", r.bar.h },
    { "bar_row_y", y },
    { "fill", table.concat(r.color.fill, " ") },
    { "track", table.concat(r.color.track, " ") },
    { "background", table.concat(r.color.background, " ") },
  }
  local text = {}
  for _, kv in ipairs(f) do
    local v = kv[2]
    if type(v) == "number" and v ~= math.floor(v) then v = ("%.4f"):format(v) end
    text[#text + 1] = kv[1] .. " " .. tostring(v)
  end
  write_file(dir .. "/figures.txt", table.concat(text, "\n") .. "\n")
end

return report
