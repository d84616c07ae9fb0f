# The local Document Translation emulator (OpenResty app in emulator/).
# Contract used by the specs, the demo and the benchmarks:
EMULATOR_HTTP_PORT  ?= 18480
EMULATOR_HTTPS_PORT ?= 18443
EMULATOR_KEY        ?= doctranslate-emulator-key
EMULATOR_DIR        ?= $(BUILD_DIR)/emulator

export DT_EMULATOR_HTTP  := http://127.0.0.1:$(EMULATOR_HTTP_PORT)
export DT_EMULATOR_HTTPS := https://127.0.0.1:$(EMULATOR_HTTPS_PORT)
export DT_EMULATOR_KEY   := $(EMULATOR_KEY)
export DT_EMULATOR_CA    := $(abspath $(EMULATOR_DIR))/ca.pem

.PHONY: emulator-start emulator-stop emulator-run
emulator-start:
	@echo "emulator: not built yet" >&2; exit 1
emulator-stop:
	@true
emulator-run:
	@echo "emulator: not built yet" >&2; exit 1
