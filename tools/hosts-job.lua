-- Makes a job on the local emulator for the host examples (examples/love, examples/nvim) and
-- prints its id: a job of N documents that lives for some seconds, a failure every so often,
-- and each page of its document list delayed, so that the frames visibly go on while pages travel.
--
--   lua5.4 tools/hosts-job.lua [documents=1000] [duration=3] [fail_every=37] [page_latency_ms=150]
--
-- Uses DT_EMULATOR_HTTP (the emulator's admin API), like the specs.
local here = (arg and arg[0] or ""):match("^(.*)/tools/[^/]*$") or "."
package.path = here .. "/lua/?.lua;" .. here .. "/spec/?.lua;" .. package.path

local emu = require "support.emulator"

local documents = tonumber(arg[1]) or 1000
local duration = tonumber(arg[2]) or 3
local fail_every = tonumber(arg[3]) or 37
local latency = tonumber(arg[4]) or 150

local job = emu.create_job{ documents = documents, duration = duration, fail_every = fail_every }
local id = type(job) == "table" and (job.id or job.job_id) or job
if latency > 0 then
  emu.fault{ route = "documents", job = id, action = "latency", ms = latency, times = -1 }
end
io.write(id, "\n")
