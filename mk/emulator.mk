# The local Document Translation emulator (OpenResty app in emulator/).
# Contract used by the specs, the demo and the benchmarks:
EMULATOR_HTTP_PORT  ?= 18480
EMULATOR_HTTPS_PORT ?= 18443
EMULATOR_KEY        ?= doctranslate-emulator-key
EMULATOR_DIR        ?= $(BUILD_DIR)/emulator
# nginx worker processes (state is shared between them through a lua_shared_dict)
EMULATOR_WORKERS    ?= 1

export DT_EMULATOR_HTTP  := http://127.0.0.1:$(EMULATOR_HTTP_PORT)
export DT_EMULATOR_HTTPS := https://127.0.0.1:$(EMULATOR_HTTPS_PORT)
export DT_EMULATOR_KEY   := $(EMULATOR_KEY)
export DT_EMULATOR_CA    := $(abspath $(EMULATOR_DIR))/ca.pem

EMULATOR_CTL = EMULATOR_DIR='$(EMULATOR_DIR)' EMULATOR_HTTP_PORT='$(EMULATOR_HTTP_PORT)' \
               EMULATOR_HTTPS_PORT='$(EMULATOR_HTTPS_PORT)' EMULATOR_KEY='$(EMULATOR_KEY)' \
               EMULATOR_WORKERS='$(EMULATOR_WORKERS)' emulator/emulatorctl

.PHONY: emulator-start emulator-stop emulator-run emulator-status
emulator-start:
	@$(EMULATOR_CTL) start
emulator-stop:
	@$(EMULATOR_CTL) stop
emulator-run:
	@$(EMULATOR_CTL) run
emulator-status:
	@$(EMULATOR_CTL) status

# The emulator's address, key and CA as shell exports, for a shell of one's own:
#   eval "$(make -s emulator-env)"
.PHONY: emulator-env
emulator-env:
	@printf 'export DT_EMULATOR_HTTP=%s\nexport DT_EMULATOR_HTTPS=%s\nexport DT_EMULATOR_KEY=%s\nexport DT_EMULATOR_CA=%s\n' \
	  '$(DT_EMULATOR_HTTP)' '$(DT_EMULATOR_HTTPS)' '$(DT_EMULATOR_KEY)' '$(DT_EMULATOR_CA)'
