-- The cost of a client's first HTTPS connection, step by step: a job is asked for with
-- c:job_async over HTTPS (the emulator's CA), stepped at 60 Hz like a game loop; printed:
-- the time inside the module of each step that took more than 0.05 ms, and the worst. Then the
-- same with a second client in the same process, and over plain HTTP.
--
--   lua5.4 bench/hosts/tls_first.lua       (against a running emulator: DT_EMULATOR_HTTPS, _CA, _HTTP)
--   lua5.4 bench/hosts/tls_first.lua off   (the clients made with prepare_tls = false: TLS is set
--                                           up inside the first connection's steps)
local here = (arg and arg[0] or ""):match("^(.*)/bench/hosts/[^/]*$") or "."
package.path = here .. "/lua/?.lua;" .. here .. "/lua/?/init.lua;" .. here .. "/spec/?.lua;" .. package.path
package.cpath = here .. "/?.so;" .. package.cpath

local dt = require "doctranslate"
local core = require "doctranslate.core"
local emu = require "support.emulator"

local now, sleep = core.monotonic, core.sleep
local prepare = arg[1] ~= "off"
local j = emu.create_job{ documents = 10 }
local job_id = type(j) == "table" and (j.id or j.job_id) or j

local function run(label, endpoint)
  local t0 = now()
  local c = assert(dt.new{ endpoint = endpoint, key = emu.key, ca_file = emu.ca, prepare_tls = prepare })
  local made = now() - t0
  local op = c:job_async(job_id)
  local steps, worst, total = {}, 0, 0
  while true do
    local s0 = now()
    local done = op:step()
    local spent = now() - s0
    total = total + spent
    if spent > worst then worst = spent end
    if spent > 0.00005 then steps[#steps + 1] = ("%.3f"):format(spent * 1000) end
    if done then break end
    sleep(1 / 60)
  end
  assert(op.result, tostring(op.error))
  print(("%-22s client made in %.3f ms; steps over 0.05 ms: %s; worst %.3f ms; in all %.3f ms")
    :format(label, made * 1000, table.concat(steps, " "), worst * 1000, total * 1000))
  c:close()
end

print("prepare_tls = " .. tostring(prepare))
run("HTTPS, first client", emu.https)
run("HTTPS, second client", emu.https)
run("HTTP", emu.http)
