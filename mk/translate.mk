# Single-document translation: its benchmark. Included by the top Makefile.
#
#   make bench-translate   peak RSS (VmHWM) of a 10 MB translation with `path` and `output`
#                          (must stay under 20 MiB) and of the `data` form, for comparison
#                          (bench/translate_rss.lua)
#
# It starts its own emulator on its own ports and directory and always stops it.
TRANSLATE_BENCH_HTTP_PORT  ?= 27680
TRANSLATE_BENCH_HTTPS_PORT ?= 27643
TRANSLATE_BENCH_EMU_DIR    ?= $(BUILD_DIR)/emu-bench-translate
TRANSLATE_BENCH_EMU = EMULATOR_HTTP_PORT=$(TRANSLATE_BENCH_HTTP_PORT) \
                      EMULATOR_HTTPS_PORT=$(TRANSLATE_BENCH_HTTPS_PORT) EMULATOR_DIR=$(TRANSLATE_BENCH_EMU_DIR)

.PHONY: bench-translate
bench-translate: deps
	@$(MAKE) --no-print-directory all
	@stop() { $(MAKE) --no-print-directory emulator-stop $(TRANSLATE_BENCH_EMU) >/dev/null 2>&1 || true; }; \
	  trap stop EXIT INT TERM; \
	  $(MAKE) --no-print-directory emulator-start $(TRANSLATE_BENCH_EMU) >/dev/null || exit 1; \
	  DT_EMULATOR_HTTP=http://127.0.0.1:$(TRANSLATE_BENCH_HTTP_PORT) \
	  DT_EMULATOR_KEY=$(EMULATOR_KEY) \
	  $(LUA) bench/translate_rss.lua
