# doctranslate: build, test, demo and the local emulator.
#
#   make            build doctranslate/core.so for $(LUA_VERSION)
#   make deps       install the Debian packages that build, test and demo need
#   make test       deps + build + the spec groups side by side, each on its own emulator
#                   (tools/spec-groups starts and stops them); SPEC_JOBS=3 at once
#   make demo       deps + build + emulator + a job tracked to its end
#   make clean      remove build outputs
#
# Variables may be overridden on the command line: make LUA_VERSION=5.3

SHELL := /bin/bash

LUA_VERSION ?= 5.4
LUA         ?= lua$(LUA_VERSION)
LUA_INCDIR  ?= /usr/include/lua$(LUA_VERSION)
LUA_LIBDIR  ?= /usr/lib/x86_64-linux-gnu
BUSTED      ?= busted
CC          ?= cc

WARNINGS = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wpointer-arith -Wcast-qual -Wwrite-strings -Wundef -Wformat=2 \
           -Wold-style-definition -Wnested-externs -Wvla
OPTFLAGS ?= -O2 -g
CFLAGS   ?= $(OPTFLAGS)
ALL_CFLAGS  = -std=c99 -D_POSIX_C_SOURCE=200809L -fPIC -fvisibility=hidden \
              $(WARNINGS) $(CFLAGS) -I$(LUA_INCDIR) -Isrc \
              $(shell pkg-config --cflags libcurl 2>/dev/null)
LIBS        = $(shell pkg-config --libs libcurl 2>/dev/null || echo -lcurl)
LDFLAGS    ?=

BUILD_DIR  ?= build
OBJ_DIR     = $(BUILD_DIR)/obj-$(notdir $(LUA))
CORE_SO     = doctranslate/core.so
SRCS        = $(wildcard src/*/*.c)
OBJS        = $(patsubst src/%.c,$(OBJ_DIR)/%.o,$(SRCS))
HDRS        = $(wildcard src/*/*.h)

# Debian packages the build, the specs, the emulator and the demo need.
DEB_PACKAGES ?= lua$(LUA_VERSION) liblua$(LUA_VERSION)-dev libcurl4-openssl-dev \
                pkg-config lua-cjson lua-dkjson lua-argparse lua-socket lua-busted lua-check nginx libnginx-mod-http-lua \
                libnginx-mod-http-ndk libluajit2-5.1-dev luajit2 \
                openssl curl ca-certificates make gcc

export LUA_PATH  := $(CURDIR)/lua/?.lua;$(CURDIR)/lua/?/init.lua;$(CURDIR)/spec/?.lua;;
export LUA_CPATH := $(CURDIR)/?.so;;

.PHONY: all deps test test-serial check-test demo clean distclean

all: $(CORE_SO)

$(CORE_SO): $(OBJS)
	@mkdir -p $(dir $@)
	$(CC) -shared $(LDFLAGS) -o $@ $(OBJS) $(LIBS)

$(OBJ_DIR)/%.o: src/%.c $(HDRS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Debian packages, for every *-deps target (mk/*.mk use these too):
#   $(call apt_install,WORDS)  installs WORDS, Debian package names (shell words such as
#                              $$missing work), with apt-get update first; nothing when empty
#   $(call deb_install,PKGS)   installs those of PKGS that are not installed; quiet when all are
apt_install = pkgs="$(strip $(1))"; if [ -n "$$pkgs" ]; then \
	  echo "installing: $$pkgs"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$pkgs; \
	fi
deb_install = missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; $(call apt_install,$$missing)

# Installs only what is missing; quiet when everything is present.
deps:
	@$(call deb_install,$(DEB_PACKAGES))

include mk/*.mk

# The spec run: independent groups of specs side by side (SPEC_JOBS at once), each on an
# emulator of its own that tools/spec-groups starts and stops whatever the result; slot i listens
# on EMULATOR_HTTP_PORT + 2i and EMULATOR_HTTPS_PORT + 2i. Each group's log is in
# build/spec-groups/; build/busted.log ends with one busted summary line summed over the groups.
# The exit status is non-zero when any group fails. SPEC_GROUPS names the groups, slowest first.
BUSTED_FLAGS ?=
SPEC_JOBS    ?= 3
SPEC_GROUPS  ?=
test: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory openresty-core
	@BUILD_DIR='$(BUILD_DIR)' LUA='$(LUA)' BUSTED='$(BUSTED)' BUSTED_FLAGS='$(BUSTED_FLAGS)' \
	  SPEC_JOBS='$(SPEC_JOBS)' $(if $(strip $(SPEC_GROUPS)),SPEC_GROUPS='$(SPEC_GROUPS)') \
	  EMULATOR_HTTP_PORT='$(EMULATOR_HTTP_PORT)' EMULATOR_HTTPS_PORT='$(EMULATOR_HTTPS_PORT)' \
	  EMULATOR_KEY='$(EMULATOR_KEY)' EMULATOR_WORKERS='$(EMULATOR_WORKERS)' tools/spec-groups

# The whole suite in one busted run, on one emulator (started and stopped here), as `make test`
# ran it before the groups: for a comparison or a machine with one core.
test-serial: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory openresty-core
	@$(MAKE) --no-print-directory emulator-start
	@status=0; $(MAKE) --no-print-directory check-test || status=$$?; \
	  $(MAKE) --no-print-directory emulator-stop; exit $$status

# Runs busted against an emulator that is already running (the whole suite, sequentially).
check-test:
	@mkdir -p $(BUILD_DIR)
	$(BUSTED) --lua=$(LUA) $(BUSTED_FLAGS) 2>&1 | tee $(BUILD_DIR)/busted.log; exit $${PIPESTATUS[0]}

demo: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory emulator-start
	@status=0; $(LUA) examples/demo.lua || status=$$?; \
	  $(MAKE) --no-print-directory emulator-stop; exit $$status

clean: clean-openresty
	rm -rf $(BUILD_DIR)/obj-* doctranslate

distclean: clean emulator-stop
	rm -rf $(BUILD_DIR)
