# Benchmarks of a full listing against the peers a user would otherwise pick
# (bench/README.md).  Included by the top Makefile.
#
#   make bench            peers interleaved against a dedicated emulator: tables, ratios, CSV
#   make bench-callgrind  instructions per document under valgrind --tool=callgrind
#   make bench-deps       what the benchmarks need beyond `make deps` (Debian + npm ci)
#
# Both targets start their own emulator instance on its own ports and
# directory (so a running `make test` or demo is left alone) and stop it
# whatever the result.  Knobs: BENCH_ROUNDS, BENCH_DOCS, BENCH_SCENARIOS,
# BENCH_RSS_SIZES, BENCH_LATENCY_MS, BENCH_LATENCY_DOCS, BENCH_CONCURRENCY,
# CALLGRIND_DOCS (see bench/run.lua and bench/callgrind.lua).

BENCH_HTTP_PORT    ?= 18580
BENCH_HTTPS_PORT   ?= 18543
BENCH_EMULATOR_DIR ?= $(BUILD_DIR)/emu-bench
BENCH_FLOOR        ?= $(BUILD_DIR)/bench/floor
BENCH_RESULTS      ?= bench/results
BENCH_ROUNDS       ?= 3
CALLGRIND_DOCS     ?= 10000

# command:Debian package, for what the benchmarks run beyond `make deps`.
BENCH_TOOLS ?= /usr/bin/time:time valgrind:valgrind callgrind_annotate:valgrind wrk:wrk \
               node:nodejs npm:npm

BENCH_EMU_ARGS = EMULATOR_HTTP_PORT=$(BENCH_HTTP_PORT) EMULATOR_HTTPS_PORT=$(BENCH_HTTPS_PORT) \
                 EMULATOR_DIR=$(BENCH_EMULATOR_DIR)
BENCH_ENV = DT_EMULATOR_HTTP=http://127.0.0.1:$(BENCH_HTTP_PORT) \
            DT_EMULATOR_HTTPS=https://127.0.0.1:$(BENCH_HTTPS_PORT) \
            DT_EMULATOR_KEY=$(EMULATOR_KEY) \
            DT_EMULATOR_CA=$(abspath $(BENCH_EMULATOR_DIR))/ca.pem \
            BENCH_EMULATOR_DIR=$(abspath $(BENCH_EMULATOR_DIR)) \
            BENCH_FLOOR=$(abspath $(BENCH_FLOOR)) BENCH_RESULTS=$(BENCH_RESULTS) \
            BENCH_ROUNDS=$(BENCH_ROUNDS) CALLGRIND_DOCS=$(CALLGRIND_DOCS) BENCH_LUA=$(LUA)

# Starts the dedicated emulator, runs $(1), stops the emulator on any exit.
define bench_with_emulator
	@stop() { $(MAKE) --no-print-directory emulator-stop $(BENCH_EMU_ARGS) >/dev/null 2>&1 || true; }; \
	trap stop EXIT; trap 'exit 130' INT TERM; \
	$(MAKE) --no-print-directory emulator-start $(BENCH_EMU_ARGS) || exit 1; \
	$(BENCH_ENV) $(1)
endef

.PHONY: bench bench-deps bench-callgrind bench-floor

bench-floor: $(BENCH_FLOOR)

$(BENCH_FLOOR): bench/floor.c mk/bench.mk
	@mkdir -p $(dir $@)
	$(CC) -std=c99 -D_POSIX_C_SOURCE=200809L $(WARNINGS) $(CFLAGS) \
	  $(shell pkg-config --cflags libcurl 2>/dev/null) -o $@ $< \
	  $(shell pkg-config --libs libcurl 2>/dev/null || echo -lcurl)

# Debian packages for the tools that are missing, then the JS SDK from the
# npm registry at the versions bench/package-lock.json pins.  The plain Lua
# peer uses LuaSocket + LuaSec + lua-cjson (Debian's lua-curl has no 5.4 build).
bench-deps: bench/node_modules/.package-lock.json
	@missing=""; for t in $(BENCH_TOOLS); do \
	  command -v $${t%%:*} >/dev/null 2>&1 || missing="$$missing $${t#*:}"; \
	done; \
	$(LUA) -e 'require "socket"; require "ssl.https"' >/dev/null 2>&1 || missing="$$missing lua-socket lua-sec"; \
	$(LUA) -e 'require "cjson"' >/dev/null 2>&1 || missing="$$missing lua-cjson"; \
	$(call apt_install,$$missing)

bench/node_modules/.package-lock.json: bench/package.json bench/package-lock.json
	@command -v npm >/dev/null 2>&1 || { $(call apt_install,nodejs npm); }
	cd bench && npm ci --no-audit --no-fund --loglevel=error

bench: deps bench-deps
	@$(MAKE) --no-print-directory all bench-floor
	@mkdir -p $(BENCH_RESULTS)
	$(call bench_with_emulator,$(LUA) bench/run.lua)

bench-callgrind: deps bench-deps
	@$(MAKE) --no-print-directory all bench-floor
	@mkdir -p $(BENCH_RESULTS)
	$(call bench_with_emulator,$(LUA) bench/callgrind.lua)
