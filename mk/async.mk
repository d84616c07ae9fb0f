# The game-loop API (operations that never block): its benchmark. Included by the top Makefile.
#
#   make bench-gameloop   a 60 Hz loop lists 1,000 documents whose pages the emulator delays by
#                         200 ms; prints the time spent inside the module per frame
#                         (p50/p99/max) and the wall time (bench/gameloop/run.lua)
#
# It starts its own emulator on its own ports and directory (a running `make test` is left
# alone) and always stops it. Knobs: GAMELOOP_DOCUMENTS, GAMELOOP_LATENCY_MS,
# GAMELOOP_PAGE_SIZE, GAMELOOP_ROUNDS, GAMELOOP_HZ, GAMELOOP_BUDGET, GAMELOOP_GC (environment,
# see the script).
GAMELOOP_HTTP_PORT  ?= 27480
GAMELOOP_HTTPS_PORT ?= 27443
GAMELOOP_EMU_DIR    ?= $(BUILD_DIR)/emu-gameloop
GAMELOOP_EMU = EMULATOR_HTTP_PORT=$(GAMELOOP_HTTP_PORT) EMULATOR_HTTPS_PORT=$(GAMELOOP_HTTPS_PORT) \
               EMULATOR_DIR=$(GAMELOOP_EMU_DIR)

.PHONY: bench-gameloop
bench-gameloop: deps
	@$(MAKE) --no-print-directory all
	@stop() { $(MAKE) --no-print-directory emulator-stop $(GAMELOOP_EMU) >/dev/null 2>&1 || true; }; \
	  trap stop EXIT INT TERM; \
	  $(MAKE) --no-print-directory emulator-start $(GAMELOOP_EMU) >/dev/null || exit 1; \
	  DT_EMULATOR_HTTP=http://127.0.0.1:$(GAMELOOP_HTTP_PORT) \
	  DT_EMULATOR_HTTPS=https://127.0.0.1:$(GAMELOOP_HTTPS_PORT) \
	  DT_EMULATOR_CA=$(abspath $(GAMELOOP_EMU_DIR))/ca.pem \
	  $(LUA) bench/gameloop/run.lua
