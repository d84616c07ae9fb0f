# Real hosts of the module: the LÖVE app (examples/love) and the Neovim plugin (examples/nvim),
# both on LuaJIT with the core built for it (make openresty-core). Included by the top Makefile.
#
#   make test-hosts   installs love, xvfb, neovim (a host that cannot be installed fails the
#                     step), starts its own emulator, and runs spec/hosts: the LÖVE app headless
#                     under xvfb-run with software rendering (1,000 documents over HTTPS: the time
#                     inside the module per frame, a screenshot with the bar full) and headless
#                     Neovim (a job watched to its end, 1,000 documents listed at 300 ms a page,
#                     a 10 ms timer's lateness); prints the figures. About 15 s after the installs.
#   make love-demo    the LÖVE app in a window against the emulator (a job of 1,000 documents)
#   make nvim-demo    Neovim with the plugin against the emulator: :DocTranslateWatch and
#                     :DocTranslateDocs on two jobs
#
# Its emulator listens on HOSTS_HTTP_PORT / HOSTS_HTTPS_PORT (test-hosts) and is always stopped;
# the demos use the emulator's usual ports, like `make demo`.
HOSTS_HTTP_PORT    ?= 28480
HOSTS_HTTPS_PORT   ?= 28443
HOSTS_EMULATOR_DIR ?= $(BUILD_DIR)/emu-hosts
HOSTS_OUT          ?= $(BUILD_DIR)/hosts
HOSTS_DEB_PACKAGES ?= love xvfb xauth neovim libgl1-mesa-dri
HOSTS_EMU = EMULATOR_HTTP_PORT=$(HOSTS_HTTP_PORT) EMULATOR_HTTPS_PORT=$(HOSTS_HTTPS_PORT) \
            EMULATOR_DIR=$(HOSTS_EMULATOR_DIR)

.PHONY: hosts-deps test-hosts love-demo nvim-demo

hosts-deps:
	@$(call deb_install,$(HOSTS_DEB_PACKAGES))
	@for c in love xvfb-run nvim; do command -v $$c >/dev/null || { \
	  echo "hosts-deps: $$c is missing after the install ($(HOSTS_DEB_PACKAGES))" >&2; exit 1; }; done

test-hosts: deps hosts-deps
	@$(MAKE) --no-print-directory openresty-core
	@stop() { $(MAKE) --no-print-directory emulator-stop $(HOSTS_EMU) >/dev/null 2>&1 || true; }; \
	  trap stop EXIT; trap 'exit 130' INT TERM; \
	  $(MAKE) --no-print-directory emulator-start $(HOSTS_EMU) >/dev/null || exit 1; \
	  mkdir -p $(HOSTS_OUT); \
	  DT_EMULATOR_HTTP=http://127.0.0.1:$(HOSTS_HTTP_PORT) \
	  DT_EMULATOR_HTTPS=https://127.0.0.1:$(HOSTS_HTTPS_PORT) \
	  DT_EMULATOR_KEY=$(EMULATOR_KEY) DT_EMULATOR_CA=$(abspath $(HOSTS_EMULATOR_DIR))/ca.pem \
	  HOSTS_OUT=$(HOSTS_OUT) timeout 300 $(BUSTED) --lua=$(LUA) $(BUSTED_FLAGS) --pattern=_host spec/hosts

love-demo: deps hosts-deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory openresty-core
	@$(MAKE) --no-print-directory emulator-start
	@status=0; job=$$($(LUA) tools/hosts-job.lua 1000 10 37 200) || status=$$?; \
	  if [ $$status = 0 ]; then \
	    DOCTRANSLATE_ENDPOINT=$(DT_EMULATOR_HTTPS) DOCTRANSLATE_KEY=$(EMULATOR_KEY) \
	    DOCTRANSLATE_CA_FILE=$(DT_EMULATOR_CA) love examples/love "$$job" || status=$$?; \
	  fi; \
	  $(MAKE) --no-print-directory emulator-stop; exit $$status

nvim-demo: deps hosts-deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory openresty-core
	@$(MAKE) --no-print-directory emulator-start
	@status=0; watch=$$($(LUA) tools/hosts-job.lua 50 20 7 0) && docs=$$($(LUA) tools/hosts-job.lua 1000 0 37 300) \
	  || status=$$?; \
	  if [ $$status = 0 ]; then \
	    DOCTRANSLATE_ENDPOINT=$(DT_EMULATOR_HTTPS) DOCTRANSLATE_KEY=$(EMULATOR_KEY) \
	    DOCTRANSLATE_CA_FILE=$(DT_EMULATOR_CA) nvim -u NONE -i NONE --cmd 'set rtp^=examples/nvim' \
	      --cmd 'runtime plugin/doctranslate.lua' -c "DocTranslateDocs $$docs" -c "DocTranslateWatch $$watch" \
	      || status=$$?; \
	  fi; \
	  $(MAKE) --no-print-directory emulator-stop; exit $$status
