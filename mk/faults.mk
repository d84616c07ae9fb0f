# Reliability and security specs: faults, hostile servers, secrets. Included by the top Makefile.
#
#   make test-faults   the fault matrix (spec/faults: every operation x every scripted fault,
#                      printed as a table and written to build/fault-matrix.txt), then the
#                      hostile-server, cap and secret specs (spec/security)
#
# It starts its own emulator on its own ports and directory (a running `make test` or another
# developer's instance is left alone) and always stops it, whatever busted's result; the exit
# status is busted's. FAULTS_SPECS picks other spec paths.
FAULTS_HTTP_PORT  ?= 26480
FAULTS_HTTPS_PORT ?= 26443
FAULTS_EMU_DIR    ?= $(BUILD_DIR)/emu-test-faults
FAULTS_SPECS      ?= spec/faults spec/security
FAULTS_EMU = EMULATOR_HTTP_PORT=$(FAULTS_HTTP_PORT) EMULATOR_HTTPS_PORT=$(FAULTS_HTTPS_PORT) \
             EMULATOR_DIR=$(FAULTS_EMU_DIR)

.PHONY: test-faults
test-faults: deps
	@$(MAKE) --no-print-directory all
	@mkdir -p $(BUILD_DIR)
	@stop() { $(MAKE) --no-print-directory emulator-stop $(FAULTS_EMU) >/dev/null 2>&1 || true; }; \
	  trap stop EXIT INT TERM; \
	  $(MAKE) --no-print-directory emulator-start $(FAULTS_EMU) >/dev/null || exit 1; \
	  DT_EMULATOR_HTTP=http://127.0.0.1:$(FAULTS_HTTP_PORT) \
	  DT_EMULATOR_HTTPS=https://127.0.0.1:$(FAULTS_HTTPS_PORT) \
	  DT_EMULATOR_CA=$(abspath $(FAULTS_EMU_DIR))/ca.pem \
	  $(BUSTED) --lua=$(LUA) $(BUSTED_FLAGS) $(FAULTS_SPECS) 2>&1 | tee $(BUILD_DIR)/faults.log; \
	  exit $${PIPESTATUS[0]}
