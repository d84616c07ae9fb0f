-- The LÖVE app (examples/love) run headless under Xvfb with software rendering against the
-- emulator over HTTPS: it lists a job of 1,000 documents to the end, then writes its figures, a
-- screenshot and the pixels of the bar's row (examples/love/report.lua). Checked here: every
-- document seen exactly once, no frame with more than 2 ms inside the module (the frames of the
-- first HTTPS connection included), a p99 under 1 ms, and a screenshot of the window's size
-- whose bar is full.
--
--   make test-hosts   (its own emulator; this file is not part of `make test`)
local emu = require "support.emulator"

local OUT = os.getenv("HOSTS_OUT") or "build/hosts"
local LOVE_OUT = OUT .. "/love"
local q = emu.shell_quote

local function read(path)
  local fh = io.open(path, "rb")
  if not fh then return nil end
  local s = fh:read("a")
  fh:close()
  return s
end

local function figures()
  local f = {}
  for name, value in (read(LOVE_OUT .. "/figures.txt") or ""):gmatch("(%S+) ([^\n]*)") do
    f[name] = tonumber(value) or value
  end
  return f
end

local function rgb_of(text)
  local r, g, b = text:match("^(%d+) (%d+) (%d+)$")
  return { tonumber(r), tonumber(g), tonumber(b) }
end

local function near(a, b)
  return math.abs(a[1] - b[1]) <= 2 and math.abs(a[2] - b[2]) <= 2 and math.abs(a[3] - b[3]) <= 2
end

local function row_of(text)
  local row = {}
  for line in text:gmatch("[^\n]+") do row[#row + 1] = rgb_of(line) end
  return row
end

-- The row y of an 8-bit RGBA PNG, decoded by Python's zlib (Debian's python3), as "r g b" lines.
local PNG_ROW_PY = [[
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
y = int(sys.argv[2])
pos, idat = 8, b""
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
        assert depth == 8 and ctype in (2, 6) and interlace == 0, (depth, ctype, interlace)
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
bpp = 4 if ctype == 6 else 3
raw, stride = zlib.decompress(idat), w * bpp
prev = bytearray(stride)
for r in range(y + 1):
    f, line = raw[r * (stride + 1)], bytearray(raw[r * (stride + 1) + 1:(r + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    prev = line
print("\n".join("%d %d %d" % (prev[x * bpp], prev[x * bpp + 1], prev[x * bpp + 2]) for x in range(w)))
]]

describe("the LÖVE app (examples/love), headless", function()
  local status, f, job_id

  setup(function()
    local j = emu.create_job{ documents = 1000, duration = 3, fail_every = 37 }
    job_id = type(j) == "table" and (j.id or j.job_id) or j
    emu.fault{ route = "documents", job = job_id, action = "latency", ms = 100, times = -1 }
    os.execute("rm -rf " .. q(LOVE_OUT) .. " && mkdir -p " .. q(LOVE_OUT))
    local cmd = table.concat({
      "env", "DOCTRANSLATE_ENDPOINT=" .. q(emu.https), "DOCTRANSLATE_KEY=" .. q(emu.key),
      "DOCTRANSLATE_CA_FILE=" .. q(emu.ca), "DT_LOVE_OUT=" .. q(LOVE_OUT), "DT_LOVE_TIMEOUT=90",
      "LIBGL_ALWAYS_SOFTWARE=1",
      "timeout 150 xvfb-run -a -s '-screen 0 1024x768x24' love examples/love", q(job_id),
      ">" .. q(LOVE_OUT .. "/love.log"), "2>&1",
    }, " ")
    local ok, how, code = os.execute(cmd)
    status = ok and 0 or (how == "exit" and code or -1)
    f = figures()
    print(("\nLÖVE: %d frames, inside the module per frame p50 %.3f ms, p99 %.3f ms, max %.3f ms "
      .. "(frame %d); first HTTPS frames 1..%d: max %.3f ms (frame %d); client made in %.3f ms; "
      .. "frame times p50 %.2f ms, p99 %.2f ms, max %.2f ms; %d documents, %d listings, %d shown while "
      .. "the job ran; screenshot %dx%d")
      :format(f.frames or 0, f.module_p50_ms or -1, f.module_p99_ms or -1, f.module_max_ms or -1,
        f.module_max_frame or 0, f.first_https_frames or 0, f.first_https_max_ms or -1,
        f.first_https_max_frame or 0, f.client_new_ms or -1, f.frame_p50_ms or -1, f.frame_p99_ms or -1,
        f.frame_max_ms or -1, f.documents or 0, f.pages or 0, f.shown_while_running or 0, f.image_width or 0,
        f.image_height or 0))
  end)

  it("lists the job to the end and quits with 0: every document seen exactly once", function()
    assert.are.equal(0, status, read(LOVE_OUT .. "/love.log"))
    assert.are.equal(1000, f.total)
    assert.are.equal(1000, f.documents)
    assert.are.equal(0, f.duplicates)
    -- the watch lists while the job runs: documents were on screen before the job had ended
    assert.is_true(f.pages >= 2, "listings: " .. tostring(f.pages))
    assert.is_true(f.shown_while_running > 0, "documents shown while the job ran: " .. tostring(f.shown_while_running))
    local summary = emu.job(job_id).summary
    assert.are.equal(summary.failed, f.failed)
    assert.is_true(f.failed > 0)
  end)

  it("never spends more than 2 ms inside the module in a frame, the first HTTPS frames included", function()
    assert.is_true(f.frames > 60, "frames: " .. tostring(f.frames))
    assert.is_true(f.first_https_frames >= 1 and f.first_https_frames < f.frames)
    assert.is_true(f.first_https_max_ms <= 2, "first HTTPS frames: " .. f.first_https_max_ms .. " ms")
    assert.is_true(f.module_max_ms <= 2, "max " .. f.module_max_ms .. " ms at frame " .. f.module_max_frame)
    assert.is_true(f.module_p99_ms < 1, "p99 " .. f.module_p99_ms .. " ms")
    assert.is_true(f.connections >= 1)
  end)

  it("captures a PNG of the window's size", function()
    local png = assert(read(LOVE_OUT .. "/screenshot.png"))
    assert.are.equal("\137PNG\r\n\26\n", png:sub(1, 8))
    assert.are.equal("IHDR", png:sub(13, 16))
    local w, h = string.unpack(">I4I4", png, 17)
    assert.are.equal(f.width, w)
    assert.are.equal(f.height, h)
    assert.are.same({ 800, 600 }, { w, h })
  end)

  it("shows the bar full: the bar's row is the fill colour from its left end to its right end", function()
    local row = row_of(assert(read(LOVE_OUT .. "/bar_row.txt")))
    assert.are.equal(f.width, #row)
    local fill, track, bg = rgb_of(f.fill), rgb_of(f.track), rgb_of(f.background)
    -- the track is drawn whole under the fill: any part not done would show the track's colour
    for x = f.bar_x, f.bar_x + f.bar_w - 1 do
      assert(near(row[x + 1], fill), ("x %d: %d %d %d"):format(x, table.unpack(row[x + 1])))
    end
    for x = 0, f.width - 1 do
      assert(not near(row[x + 1], track), "the empty track shows at x " .. x)
    end
    assert.is_true(near(row[f.bar_x], bg))                -- x = bar_x - 1: just left of the bar
    assert.is_true(near(row[f.bar_x + f.bar_w + 1], bg))  -- x = bar_x + bar_w: just right of it
  end)

  it("wrote the pixels the PNG holds (decoded apart from LÖVE)", function()
    local py = io.open("/usr/bin/python3") and "/usr/bin/python3" or nil
    if not py then return pending("no /usr/bin/python3 to decode the PNG") end
    local script = os.tmpname()
    local fh = assert(io.open(script, "w"))
    fh:write(PNG_ROW_PY)
    fh:close()
    local p = assert(io.popen(py .. " " .. q(script) .. " " .. q(LOVE_OUT .. "/screenshot.png") .. " "
      .. f.bar_row_y))
    local decoded = row_of(p:read("a"))
    p:close()
    os.remove(script)
    local written = row_of(read(LOVE_OUT .. "/bar_row.txt"))
    assert.are.equal(#written, #decoded)
    for x = 1, #written do
      assert(near(written[x], decoded[x]), "x " .. (x - 1))
    end
  end)
end)
