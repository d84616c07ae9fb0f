# Every Lua a user has: Lua 5.4, 5.3, 5.2, 5.1 and LuaJIT 2.1 from one source. Included by the
# top Makefile.
#
#   make LUA_VERSION=5.1   the usual build (doctranslate/core.so) for another Lua; objects in
#                          build/obj-lua5.1; the .so is relinked whenever the Lua changes
#   make LUA=luajit        the same for LuaJIT 2.1 (LUA_INCDIR becomes $(LUAJIT_INCDIR))
#   make deps-all          installs the missing Debian packages for every Lua in $(LUAS)
#   make core-all          build/<lua>/doctranslate/core.so for every Lua in $(LUAS)
#   make test-all          deps-all, core-all, one emulator for all, the whole spec suite on
#                          every Lua (LUA_CPATH -> build/<lua>); one line per Lua; fails if any fails
#   make check-test-all    the same runs against an emulator that is already running (the one
#                          EMULATOR_HTTP_PORT/... name, as check-test)
#   (the LuaRocks package: mk/rock.mk)
#
# LuaJIT comes from Debian's luajit2 / libluajit2-5.1-dev (OpenResty's branch). Debian's `luajit`
# package must never be installed: it removes libnginx-mod-http-lua, which the emulator needs.

LUAS          ?= lua5.4 lua5.3 lua5.2 lua5.1 luajit
LUAJIT_INCDIR ?= /usr/include/luajit-2.1

# $(call lua_incdir,lua5.3) -> /usr/include/lua5.3; luajit -> $(LUAJIT_INCDIR)
lua_incdir  = $(if $(filter luajit,$(1)),$(LUAJIT_INCDIR),/usr/include/$(1))
# $(call lua_abi,luajit) -> 5.1: the Lua version whose C API (and LuaRocks tree) it has
lua_abi     = $(if $(filter luajit,$(1)),5.1,$(patsubst lua%,%,$(1)))
# Debian packages of one Lua: interpreter and headers (5.1's -dev is liblua5.1-0-dev)
lua_debs    = $(if $(filter luajit,$(1)),luajit2 libluajit2-5.1-dev,\
              $(if $(filter lua5.1,$(1)),lua5.1 liblua5.1-0-dev,$(1) lib$(1)-dev))

# `make LUA=luajit`: LuaJIT's headers and packages unless given; Lua 5.1's -dev package name.
ifeq ($(notdir $(LUA)),luajit)
  ifeq ($(origin LUA_INCDIR),file)
    LUA_INCDIR = $(LUAJIT_INCDIR)
  endif
  ifeq ($(origin LUA_VERSION),file)
    LUA_VERSION = 5.1
  endif
  ifeq ($(origin DEB_PACKAGES),file)
    DEB_PACKAGES := $(filter-out lua5.1 liblua5.1-dev,$(DEB_PACKAGES)) $(call lua_debs,luajit)
  endif
endif
ifeq ($(origin DEB_PACKAGES),file)
  DEB_PACKAGES := $(patsubst liblua5.1-dev,liblua5.1-0-dev,$(DEB_PACKAGES))
endif

ALL_DEB_PACKAGES ?= $(foreach l,$(LUAS),$(call lua_debs,$(l))) \
                    libcurl4-openssl-dev pkg-config lua-cjson lua-dkjson lua-argparse lua-socket lua-busted \
                    luarocks nginx libnginx-mod-http-lua curl ca-certificates make gcc

# One output path (doctranslate/core.so) serves every LUA_VERSION: stamps make sure it is never
# left built for another Lua, nor objects built against other headers. A stamp is rewritten only
# when what it records changes, so an up-to-date build stays untouched.
LUA_OBJ_STAMP  = $(OBJ_DIR)/.lua-headers
LUA_CORE_STAMP = $(dir $(CORE_SO)).lua-objects

define write_stamp
	@mkdir -p $(dir $@)
	@if [ "$$(cat $@ 2>/dev/null)" != '$(1)' ]; then echo '$(1)' > $@; fi
endef

$(OBJS): $(LUA_OBJ_STAMP)
$(CORE_SO): $(LUA_CORE_STAMP)

$(LUA_OBJ_STAMP): lua-stamp-force
	$(call write_stamp,$(LUA_INCDIR) $(CC))
$(LUA_CORE_STAMP): lua-stamp-force
	$(call write_stamp,$(abspath $(OBJ_DIR)))

.PHONY: lua-stamp-force deps-all core-all test-all check-test-all
lua-stamp-force:

deps-all:
	@$(MAKE) --no-print-directory deps DEB_PACKAGES='$(strip $(ALL_DEB_PACKAGES))'

# build/<lua>/doctranslate/core.so, objects in build/obj-<lua> (as `make LUA=<lua>`).
core-all:
	@for lua in $(LUAS); do \
	  case $$lua in luajit) v=5.1; inc='$(LUAJIT_INCDIR)';; *) v=$${lua#lua}; inc=/usr/include/$$lua;; esac; \
	  test -f "$$inc/lua.h" || { echo "core-all: $$inc/lua.h is missing (make deps-all)" >&2; exit 1; }; \
	  $(MAKE) --no-print-directory LUA=$$lua LUA_VERSION=$$v LUA_INCDIR=$$inc \
	    CORE_SO=$(BUILD_DIR)/$$lua/doctranslate/core.so $(BUILD_DIR)/$$lua/doctranslate/core.so || exit 1; \
	done

# busted per Lua: its log in build/test-all/<lua>.log, one summary line each. Each core is brought
# up to date right before its run (a shared checkout's sources may change during the runs).
TEST_ALL_DIR ?= $(BUILD_DIR)/test-all
define run_all_luas
	status=0; mkdir -p $(TEST_ALL_DIR); \
	for lua in $(LUAS); do \
	  log=$(TEST_ALL_DIR)/$$lua.log; cpath='$(abspath $(BUILD_DIR))'/$$lua/?.so; t0=$$(date +%s); \
	  $(MAKE) --no-print-directory -s core-all LUAS=$$lua >$$log 2>&1 || { cat $$log; status=1; continue; }; \
	  LUA_CPATH="$$cpath;;" $(BUSTED) --lua=$$lua --cpath="$$cpath" $(BUSTED_FLAGS) >>$$log 2>&1; rc=$$?; \
	  summary=$$(sed 's/\x1b\[[0-9;]*m//g' $$log | grep -E '^[0-9]+ success(es)? / ' | tail -n 1); \
	  printf '%-7s %s  [%ss wall, busted exit %s]\n' $$lua "$${summary:-no busted summary, see $$log}" \
	    $$(( $$(date +%s) - t0 )) $$rc; \
	  if [ $$rc -ne 0 ] || [ -z "$$summary" ]; then status=1; fi; \
	done; \
	if [ $$status -ne 0 ]; then echo "test-all: failures; logs in $(TEST_ALL_DIR)/" >&2; fi
endef

# test-all's own emulator (ports apart from `make test`'s, so both may run at once).
TEST_ALL_HTTP_PORT  ?= 19780
TEST_ALL_HTTPS_PORT ?= 19743
TEST_ALL_EMU_DIR    ?= $(BUILD_DIR)/emu-all
TEST_ALL_EMU_ARGS    = EMULATOR_HTTP_PORT=$(TEST_ALL_HTTP_PORT) EMULATOR_HTTPS_PORT=$(TEST_ALL_HTTPS_PORT) \
                       EMULATOR_DIR=$(TEST_ALL_EMU_DIR)

test-all: deps-all
	@$(MAKE) --no-print-directory openresty-core
	@stop() { $(MAKE) --no-print-directory emulator-stop $(TEST_ALL_EMU_ARGS) >/dev/null 2>&1 || true; }; \
	trap stop EXIT; trap 'exit 130' INT TERM; \
	$(MAKE) --no-print-directory emulator-start $(TEST_ALL_EMU_ARGS) >/dev/null || exit 1; \
	export DT_EMULATOR_HTTP=http://127.0.0.1:$(TEST_ALL_HTTP_PORT) DT_EMULATOR_KEY=$(EMULATOR_KEY) \
	  DT_EMULATOR_HTTPS=https://127.0.0.1:$(TEST_ALL_HTTPS_PORT) DT_EMULATOR_CA=$(abspath $(TEST_ALL_EMU_DIR))/ca.pem; \
	$(run_all_luas); exit $$status

check-test-all:
	@$(run_all_luas); exit $$status
