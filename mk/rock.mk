# The LuaRocks package. Included by the top Makefile (after mk/luaversions.mk).
#
#   make rock             the release tarball and its source rock in $(ROCK_DIST):
#                         doctranslate-$(ROCK_VERSION).tar.gz (what source.url of
#                         rockspec/doctranslate-$(ROCK_VERSION)-1.rockspec names) and
#                         doctranslate-$(ROCK_VERSION)-1.src.rock (that rockspec and that tarball),
#                         which `luarocks install ./doctranslate-$(ROCK_VERSION)-1.src.rock` installs
#                         offline; from the files git knows in this checkout, as they are now
#   make rockspec-check   every src/*/*.c and lua/**.lua is listed in the rockspecs, and the
#                         versioned rockspec differs from the scm one in its version and source only
#   make rock-check       in a temporary folder outside the checkout: luarocks lint; plain
#                         `luarocks make` of the scm rockspec from the release tarball (no
#                         CURL_INCDIR); `luarocks install` of the source rock with no rocks server and
#                         Debian's Lua packages declared to LuaRocks (rocks_provided, as
#                         docs/install.md tells users); the installed core.so exports luaopen_* only;
#                         then the installed doctranslate-emulator starts, a script with only the
#                         tree's paths lists a job on it with the installed module, the installed
#                         CLI reads the job, busted runs examples/emulator_spec.lua (the spec of
#                         docs/emulator.md) against it, and the emulator stops
#
# The dependencies (lua-dkjson, lua-argparse, lua-cjson) come from Debian here; LuaRocks does not
# see Debian's packages by itself, hence the rocks_provided of rock-check's configuration. The
# tree's paths go in LUA_PATH_5_4 (for Lua 5.4): other Luas (busted's launcher) keep their own.

LUAROCKS        ?= luarocks
ROCK_VERSION    ?= 0.1.0
ROCK_RELEASE     = doctranslate-$(ROCK_VERSION)
ROCKSPEC        ?= rockspec/doctranslate-scm-1.rockspec
ROCKSPEC_REL    ?= rockspec/$(ROCK_RELEASE)-1.rockspec
ROCKSPECS        = $(ROCKSPEC) $(ROCKSPEC_REL)
ROCK_LUA        ?= $(LUA)
ROCK_DIST       ?= $(BUILD_DIR)/dist
ROCK_TARBALL     = $(ROCK_DIST)/$(ROCK_RELEASE).tar.gz
ROCK_SRC_ROCK    = $(ROCK_DIST)/$(ROCK_RELEASE)-1.src.rock
ROCK_HTTP_PORT  ?= 19880
ROCK_HTTPS_PORT ?= 19843
# Debian's packages of the rock's dependencies: rock name:Debian package
ROCK_DEB_DEPS   ?= dkjson:lua-dkjson argparse:lua-argparse lua-cjson:lua-cjson

ROCK_DEB_PACKAGES = luarocks zip unzip libcurl4-openssl-dev pkg-config $(foreach d,$(ROCK_DEB_DEPS),$(lastword $(subst :, ,$(d)))) \
                    $(call lua_debs,$(notdir $(ROCK_LUA))) \
                    $(if $(filter luajit,$(notdir $(ROCK_LUA))),$(call lua_debs,lua5.1)) \
                    nginx libnginx-mod-http-lua libnginx-mod-http-ndk openssl curl make gcc

.PHONY: rock rockspec-check rock-deps rock-check

rock-deps:
	@$(MAKE) --no-print-directory deps DEB_PACKAGES='$(strip $(ROCK_DEB_PACKAGES))'

# The tarball holds the files git tracks or would track (ignored ones are left out), as they are
# in the working tree, under $(ROCK_RELEASE)/, with the last commit's date: the same files give
# the same bytes.
rock: rockspec-check
	@command -v zip >/dev/null || { echo "rock: zip is missing (make rock-deps)" >&2; exit 1; }
	@rm -rf $(ROCK_DIST) && mkdir -p $(ROCK_DIST)/stage
	@stamp=$$(git log -1 --format=%ct 2>/dev/null || date +%s); \
	  git ls-files -z --cached --others --exclude-standard | \
	  while IFS= read -r -d '' f; do [ -f "$$f" ] && printf '%s\0' "$$f"; done | \
	  tar --null -T - --transform 's,^,$(ROCK_RELEASE)/,' --sort=name --owner=0 --group=0 \
	    --numeric-owner --mtime="@$$stamp" -cf - | gzip -n -9 > $(ROCK_TARBALL) || exit 1; \
	  cp $(ROCKSPEC_REL) $(ROCK_TARBALL) $(ROCK_DIST)/stage/ && \
	  touch -d "@$$stamp" $(ROCK_DIST)/stage/* && \
	  ( cd $(ROCK_DIST)/stage && zip -q -X ../$(notdir $(ROCK_SRC_ROCK)) $(notdir $(ROCKSPEC_REL)) \
	      $(notdir $(ROCK_TARBALL)) ) || exit 1; \
	  rm -rf $(ROCK_DIST)/stage; \
	  echo "rock: $(ROCK_TARBALL) ($$(tar -tzf $(ROCK_TARBALL) | grep -vc '/$$') files," \
	       "$$(( $$(stat -c %s $(ROCK_TARBALL)) / 1024 )) KiB)"; \
	  echo "rock: $(ROCK_SRC_ROCK) ($$(unzip -Z1 $(ROCK_SRC_ROCK) | tr '\n' ' '))"

# Every src/*/*.c in the core's sources, every lua/**.lua a module, the bin/ commands installed;
# the versioned rockspec is the scm one but for its version and source.
rockspec-check:
	@status=0; \
	for spec in $(ROCKSPECS); do \
	  for f in $(wildcard src/*/*.c); do \
	    grep -qF "\"$$f\"" $$spec || { echo "rockspec-check: $$f is not in $$spec's sources" >&2; status=1; }; \
	  done; \
	  for f in $$(find lua -name '*.lua' | sort); do \
	    grep -qF "= \"$$f\"" $$spec || { echo "rockspec-check: $$f is not a module in $$spec" >&2; status=1; }; \
	  done; \
	  for f in $$(grep -oE '"(src|lua|bin)/[^"]+"' $$spec | tr -d '"'); do \
	    test -f "$$f" || { echo "rockspec-check: $$spec lists $$f, which does not exist" >&2; status=1; }; \
	  done; \
	  for f in bin/*; do \
	    grep -qF "\"$$f\"" $$spec || { echo "rockspec-check: $$f is not installed by $$spec" >&2; status=1; }; \
	  done; \
	done; \
	$(LUA) tools/rockspec-same $(ROCKSPEC) $(ROCKSPEC_REL) || status=1; \
	[ $$status -eq 0 ] && echo "rockspec-check: $(ROCKSPECS) list every source and agree"; exit $$status

# Debian's versions of the rock's dependencies, as LuaRocks' rocks_provided: "2.6-2" -> "2.6-1".
define rock_provided
	for d in $(ROCK_DEB_DEPS); do \
	  v=$$(dpkg-query -W -f='$${Version}' "$${d#*:}" 2>/dev/null | sed -E 's/^[0-9]+://; s/[-+~].*//'); \
	  [ -n "$$v" ] && printf '  ["%s"] = "%s-1",\n' "$${d%%:*}" "$$v"; \
	done
endef

rock-check: rock-deps rock
	@abi=$(call lua_abi,$(notdir $(ROCK_LUA))); t0=$$(date +%s); \
	root=$$(mktemp -d "$${TMPDIR:-/tmp}/doctranslate-rock.XXXXXX") || exit 1; \
	emu() { "$$root/tree/bin/doctranslate-emulator" "$$@" --port $(ROCK_HTTP_PORT) --https-port $(ROCK_HTTPS_PORT) \
	          --dir "$$root/emulator"; }; \
	cleanup() { [ -x "$$root/tree/bin/doctranslate-emulator" ] && emu stop >/dev/null 2>&1; rm -rf "$$root"; }; \
	trap cleanup EXIT; trap 'exit 130' INT TERM; \
	for spec in $(ROCKSPECS); do \
	  echo "$$ $(LUAROCKS) lint $$spec"; $(LUAROCKS) lint $$spec || exit 1; \
	done; \
	{ echo "-- rock-check: no rocks server (offline); Debian's packages stand for these rocks"; \
	  echo "rocks_servers = {}"; echo "rocks_provided = {"; $(rock_provided); echo "}"; } > "$$root/config.lua"; \
	export LUAROCKS_CONFIG="$$root/config.lua"; unset LUA_PATH LUA_CPATH; \
	mkdir -p "$$root/checkout" && tar -xzf $(abspath $(ROCK_TARBALL)) -C "$$root/checkout" || exit 1; \
	echo "$$ cd <release tarball> && $(LUAROCKS) --lua-version=$$abi make $(ROCKSPEC) --tree <tmp>/made"; \
	( cd "$$root/checkout/$(ROCK_RELEASE)" && \
	  $(LUAROCKS) --lua-version=$$abi make $(ROCKSPEC) --tree "$$root/made" ) > "$$root/make.log" 2>&1 || \
	  { cat "$$root/make.log"; exit 1; }; \
	grep -E 'is now installed' "$$root/make.log"; \
	cp $(abspath $(ROCK_SRC_ROCK)) "$$root/" && cd "$$root" || exit 1; \
	echo "$$ $(LUAROCKS) --lua-version=$$abi install ./$(notdir $(ROCK_SRC_ROCK)) --tree <tmp>/tree"; \
	$(LUAROCKS) --lua-version=$$abi install ./$(notdir $(ROCK_SRC_ROCK)) --tree "$$root/tree" > install.log 2>&1 || \
	  { cat install.log; exit 1; }; \
	grep -vE '^(gcc|cc) ' install.log; \
	so="$$root/tree/lib/lua/$$abi/doctranslate/core.so"; \
	syms=$$(nm -D --defined-only "$$so" | awk '{ print $$3 }' | grep -vE '^(_init|_fini|_edata|_end|__bss_start)$$'); \
	if [ -z "$$syms" ] || printf '%s\n' $$syms | grep -qv '^luaopen_'; then \
	  echo "rock-check: the rock's core.so must export luaopen_* only; it exports:" $$syms >&2; exit 1; fi; \
	echo "rock-check: the rock's core.so exports only" $$syms; \
	eval "$$($(LUAROCKS) --lua-version=$$abi path --tree "$$root/tree")"; \
	unset LUA_PATH_5_2 LUA_PATH_5_3 LUA_PATH_5_4 LUA_CPATH_5_2 LUA_CPATH_5_3 LUA_CPATH_5_4; \
	if [ "$$abi" = 5.1 ]; then export LUA_PATH LUA_CPATH; else \
	  v=$${abi/./_}; export LUA_PATH_$$v="$$LUA_PATH" LUA_CPATH_$$v="$$LUA_CPATH"; unset LUA_PATH LUA_CPATH; fi; \
	export PATH="$$root/tree/bin:$$PATH"; \
	echo "$$ eval \"\$$(doctranslate-emulator start --port $(ROCK_HTTP_PORT) ...)\"    # $$(command -v doctranslate-emulator)"; \
	env_lines=$$(emu start) || exit 1; eval "$$env_lines"; \
	printf '%s\n' "$$env_lines" | grep -E '^export DT_EMULATOR_(HTTP|HTTPS|KEY|CA)=' | sed 's/=.*/=.../'; \
	emu status | head -n 1; \
	mkdir -p run && cp $(CURDIR)/rockspec/smoke.lua run/ && cd run && \
	DT_ROCK_TREE="$$root/tree" $(ROCK_LUA) smoke.lua || exit 1; \
	echo "$$ doctranslate status <job>    # $$(command -v doctranslate)"; \
	DOCTRANSLATE_ENDPOINT="$$DT_EMULATOR_HTTP" DOCTRANSLATE_KEY="$$DT_EMULATOR_KEY" \
	  doctranslate status "$$(cat job-id)" --no-tty || exit 1; \
	echo "$$ busted emulator_spec.lua    # examples/emulator_spec.lua, as docs/emulator.md runs it"; \
	cp $(CURDIR)/examples/emulator_spec.lua . && \
	$(BUSTED) --lua=$(ROCK_LUA) emulator_spec.lua > busted.log 2>&1 || { cat busted.log; exit 1; }; \
	sed 's/\x1b\[[0-9;]*m//g' busted.log | grep -E '^[0-9]+ success'; \
	emu stop || exit 1; \
	echo "rock-check: the installed rock works from its tree alone, outside the checkout" \
	     "($$(( $$(date +%s) - t0 )) s)"
