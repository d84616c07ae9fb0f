# The LDoc reference of the public API.  Included by the top Makefile.
#
#   make doc        the HTML reference of every public function into $(DOC_DIR)/ (ignored by git),
#                   from the Lua doc comments and ldoc/core.luadoc (the C functions); fails on any
#                   LDoc warning
#   make doc-check  fails when a public function (found at run time: the module's functions and
#                   each class's methods) has no doc comment, or has two (tools/doc-check.lua);
#                   make doc runs it first
#   make doc-deps   installs the Debian packages below that are missing
#
# LDoc runs on Lua 5.1 here: Debian's lua-markdown (the Markdown formatter config.ld asks for)
# is built for 5.1 only, and /usr/bin/ldoc would otherwise pick 5.2 and fall back to plain text.

DOC_DIR      ?= doc
DOC_PACKAGES ?= lua-ldoc lua-markdown lua5.1
LDOC         ?= lua5.1 /usr/bin/ldoc

.PHONY: doc doc-deps doc-check

doc-deps:
	@$(call deb_install,$(DOC_PACKAGES))

doc-check: $(CORE_SO)
	@$(LUA) tools/doc-check.lua

doc: doc-deps doc-check
	@rm -rf $(DOC_DIR)
	@out=$$(env -u LUA_PATH -u LUA_CPATH $(LDOC) -d $(DOC_DIR) . 2>&1); status=$$?; \
	  printf '%s\n' "$$out"; \
	  if [ $$status -ne 0 ]; then echo "doc: ldoc failed ($$status)" >&2; exit $$status; fi; \
	  warnings=$$(printf '%s\n' "$$out" | grep -v -e '^reading configuration from' -e '^output written to' || true); \
	  if [ -n "$$warnings" ]; then echo "doc: LDoc warned (above); the reference must build clean" >&2; exit 1; fi; \
	  echo "doc: $(DOC_DIR)/index.html ($$(ls $(DOC_DIR)/modules | wc -l) modules)"
