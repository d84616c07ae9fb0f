-- bench/openresty: wrk's report as one parseable line (latencies in microseconds).
-- luacheck: globals done
done = function(summary, latency, _)
  local e = summary.errors
  io.write(string.format("WRK requests=%d duration_us=%d errors=%d non2xx=%d p50=%d p90=%d p99=%d max=%d\n",
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
