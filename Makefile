# doctranslate: build, test, demo and the local emulator.
#
#   make            build doctranslate/core.so for $(LUA_VERSION)
#   make deps       install the Debian packages that build, test and demo need
#   make test       deps + build + start the emulator + busted spec/ + stop the emulator
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
                pkg-config lua-cjson lua-socket lua-busted lua-check nginx libnginx-mod-http-lua \
                libnginx-mod-http-ndk libluajit2-5.1-dev luajit2 \
                openssl curl ca-certificates make gcc

export LUA_PATH  := $(CURDIR)/lua/?.lua;$(CURDIR)/lua/?/init.lua;$(CURDIR)/spec/?.lua;;
export LUA_CPATH := $(CURDIR)/?.so;;

.PHONY: all deps test check-test demo clean distclean

all: $(CORE_SO)

$(CORE_SO): $(OBJS)
	@mkdir -p $(dir $@)
	$(CC) -shared $(LDFLAGS) -o $@ $(OBJS) $(LIBS)

$(OBJ_DIR)/%.o: src/%.c $(HDRS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Installs only what is missing; quiet when everything is present.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

include mk/*.mk

# The spec run: the emulator is started before busted and stopped after it,
# whatever busted's result; the exit status is busted's.
BUSTED_FLAGS ?=
test: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory openresty-core
	@$(MAKE) --no-print-directory emulator-start
	@status=0; $(MAKE) --no-print-directory check-test || status=$$?; \
	  $(MAKE) --no-print-directory emulator-stop; exit $$status

# Runs busted against an emulator that is already running.
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
