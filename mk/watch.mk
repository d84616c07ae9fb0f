# The watch's cost against a loop that re-lists the job every second (bench/watch_requests.lua):
# requests and bytes of each, from the emulator's request log, on the emulator's clock.
# Included by the top Makefile; runs on the benchmarks' own emulator (mk/bench.mk's ports).
#
#   make bench-watch   BENCH_WATCH_DOCS=1000 BENCH_WATCH_SECONDS=60 BENCH_WATCH_API=2026-03-01

.PHONY: bench-watch

bench-watch: deps
	@$(MAKE) --no-print-directory all
	$(call bench_with_emulator,$(LUA) bench/watch_requests.lua)
