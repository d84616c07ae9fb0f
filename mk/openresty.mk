# OpenResty transport: the LuaJIT build of the core that nginx loads,
# the nginx spec, and the no-block benchmark.  Included by the top Makefile.
#
#   make openresty-core   build/openresty/doctranslate/core.so for LuaJIT (Lua 5.1 ABI);
#                         never touches the default build (doctranslate/core.so)
#   make openresty-deps   installs the Debian packages below that are missing
#   make test-openresty   busted spec/openresty against a running emulator
#   make bench-noblock    one nginx worker serving /ping while 200 listings run (own emulator)
#   make bench-openresty  doctranslate against a hand-written cosocket loop under wrk, one
#                         nginx worker, HTTP and HTTPS (own emulator; bench/README.md)
#   make clean-openresty  removes build/openresty
#
# nginx's Lua is LuaJIT: the core loaded there must be built against LuaJIT's
# headers. Debian's `luajit` package must never be installed: it removes
# libnginx-mod-http-lua; `luajit2` is the OpenResty branch and keeps it.

OPENRESTY_DIR        ?= $(BUILD_DIR)/openresty
OPENRESTY_CORE       ?= $(OPENRESTY_DIR)/doctranslate/core.so
OPENRESTY_LUAJIT_INC ?= /usr/include/luajit-2.1
OPENRESTY_DEB_PACKAGES ?= libluajit2-5.1-dev luajit2 nginx libnginx-mod-http-lua libnginx-mod-http-ndk \
                          lua-cjson lua-dkjson lua-socket curl

NOBLOCK_HTTP_PORT    ?= 18780
NOBLOCK_HTTPS_PORT   ?= 18743
NOBLOCK_EMULATOR_DIR ?= $(BUILD_DIR)/emu-noblock
NOBLOCK_EMU_ARGS = EMULATOR_HTTP_PORT=$(NOBLOCK_HTTP_PORT) EMULATOR_HTTPS_PORT=$(NOBLOCK_HTTPS_PORT) \
                   EMULATOR_DIR=$(NOBLOCK_EMULATOR_DIR)

OR_BENCH_HTTP_PORT    ?= 18540
OR_BENCH_HTTPS_PORT   ?= 18541
OR_BENCH_EMULATOR_DIR ?= $(BUILD_DIR)/emu-openresty-bench
OR_BENCH_EMU_ARGS = EMULATOR_HTTP_PORT=$(OR_BENCH_HTTP_PORT) EMULATOR_HTTPS_PORT=$(OR_BENCH_HTTPS_PORT) \
                    EMULATOR_DIR=$(OR_BENCH_EMULATOR_DIR)
OR_BENCH_DEB_PACKAGES ?= wrk

.PHONY: openresty-core openresty-deps test-openresty bench-noblock bench-openresty clean-openresty

openresty-core:
	@test -f $(OPENRESTY_LUAJIT_INC)/lua.h || { \
	  echo "openresty-core: $(OPENRESTY_LUAJIT_INC)/lua.h is missing (make openresty-deps, or" \
	       "apt-get install libluajit2-5.1-dev luajit2; never Debian's luajit)" >&2; exit 1; }
	@$(MAKE) --no-print-directory LUA_VERSION=5.1 LUA=luajit LUA_INCDIR=$(OPENRESTY_LUAJIT_INC) \
	  OBJ_DIR=$(OPENRESTY_DIR)/obj CORE_SO=$(OPENRESTY_CORE) $(OPENRESTY_CORE)

openresty-deps:
	@$(call deb_install,$(OPENRESTY_DEB_PACKAGES))

# Against the emulator that is already running (make emulator-start).
test-openresty: openresty-core
	$(BUSTED) --lua=$(LUA) $(BUSTED_FLAGS) spec/openresty

bench-noblock: openresty-core
	@stop() { $(MAKE) --no-print-directory emulator-stop $(NOBLOCK_EMU_ARGS) >/dev/null 2>&1 || true; }; \
	trap stop EXIT; trap 'exit 130' INT TERM; \
	$(MAKE) --no-print-directory emulator-start $(NOBLOCK_EMU_ARGS) || exit 1; \
	DT_EMULATOR_HTTP=http://127.0.0.1:$(NOBLOCK_HTTP_PORT) DT_EMULATOR_HTTPS=https://127.0.0.1:$(NOBLOCK_HTTPS_PORT) \
	DT_EMULATOR_KEY=$(EMULATOR_KEY) DT_EMULATOR_CA=$(abspath $(NOBLOCK_EMULATOR_DIR))/ca.pem \
	OPENRESTY_CORE=$(abspath $(OPENRESTY_CORE)) timeout 300 $(LUA) bench/noblock/run.lua

# wrk at 32 connections against one nginx worker: /ours (doctranslate) next to /peer
# (bench/openresty/peer.lua), over HTTP and HTTPS; knobs OR_* (bench/openresty/run.lua).
bench-openresty: openresty-core
	@$(MAKE) --no-print-directory openresty-deps OPENRESTY_DEB_PACKAGES="$(OPENRESTY_DEB_PACKAGES) $(OR_BENCH_DEB_PACKAGES)"
	@stop() { $(MAKE) --no-print-directory emulator-stop $(OR_BENCH_EMU_ARGS) >/dev/null 2>&1 || true; }; \
	trap stop EXIT; trap 'exit 130' INT TERM; \
	$(MAKE) --no-print-directory emulator-start $(OR_BENCH_EMU_ARGS) || exit 1; \
	DT_EMULATOR_HTTP=http://127.0.0.1:$(OR_BENCH_HTTP_PORT) DT_EMULATOR_HTTPS=https://127.0.0.1:$(OR_BENCH_HTTPS_PORT) \
	DT_EMULATOR_KEY=$(EMULATOR_KEY) DT_EMULATOR_CA=$(abspath $(OR_BENCH_EMULATOR_DIR))/ca.pem \
	OPENRESTY_CORE=$(abspath $(OPENRESTY_CORE)) timeout 900 $(LUA) bench/openresty/run.lua

clean-openresty:
	rm -rf $(OPENRESTY_DIR)
