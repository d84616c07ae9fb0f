# The watch's cost against a loop that re-lists the job every second (bench/watch_requests.lua):
# requests and bytes of each, from the emulator's request log, on the emulator's clock.
# Included by the top Makefile; both run on the benchmarks' own emulator (mk/bench.mk's ports).
#
#   make bench-watch   BENCH_WATCH_DOCS=1000 BENCH_WATCH_SECONDS=60 BENCH_WATCH_API=2026-03-01

.PHONY: bench-watch

bench-watch: deps
	@$(MAKE) --no-print-directory all
	$(call bench_with_emulator,$(LUA) bench/watch_requests.lua)

# Requests per second of a status endpoint under nginx with and without the shared status cache
# (bench/cache_status.lua; load tool: wrk, Debian package wrk).
#   make bench-cache   BENCH_CACHE_SECONDS=5 BENCH_CACHE_CONNECTIONS=32 BENCH_CACHE_WORKERS=2

.PHONY: bench-cache

bench-cache: deps
	@$(MAKE) --no-print-directory all openresty-core
	@command -v wrk >/dev/null 2>&1 || $(call apt_install,wrk)
	$(call bench_with_emulator,$(LUA) bench/cache_status.lua)
