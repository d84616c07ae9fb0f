# Fuzzing: libFuzzer harnesses of the pure C parts (no Lua, no curl),
# built with clang, AddressSanitizer and UndefinedBehaviorSanitizer.  Included
# by the top Makefile.
#
#   make fuzz               builds build/fuzz/fuzz_{parse,page,url,date,link}, runs each for
#                           FUZZ_SECONDS (60) one after the other, one line per
#                           target (executions, exec/s, coverage, features,
#                           corpus, findings); fails on any crash, leak, timeout
#                           or broken property
#   make fuzz-regress       replays fuzz/regressions/<target>/ (and the seeds) once:
#                           seconds, for CI
#   make fuzz-build         only the binaries
#
# Knobs: FUZZ_SECONDS, FUZZ_TARGETS (e.g. FUZZ_TARGETS=url), FUZZ_CC (clang),
# FUZZ_RECORDINGS (../shared/recordings; built-in seeds alone when absent),
# FUZZ_STRICT=1 (known defects fail too, see fuzz/README.md).
# Corpora grow in fuzz/corpus-<target>/, artifacts land in fuzz/crash-<target>-*
# (both ignored by git).  fuzz/README.md describes the harnesses.

FUZZ_CC         ?= clang
FUZZ_SECONDS    ?= 60
FUZZ_TARGETS    ?= parse page url date link
FUZZ_RECORDINGS ?= $(CURDIR)/../shared/recordings
FUZZ_DIR         = $(BUILD_DIR)/fuzz
FUZZ_SAN         = -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS      = -std=c99 -D_POSIX_C_SOURCE=200809L -g -O1 -fno-omit-frame-pointer \
                   $(WARNINGS) -Isrc -Isrc/core -Ifuzz $(shell pkg-config --cflags json-c libcurl 2>/dev/null)
# the core reads URLs with libcurl's URL parser (curl_url: no I/O), so the
# harnesses link libcurl too; nothing here includes Lua or makes a transfer
FUZZ_JSON_LIBS   = $(shell pkg-config --libs json-c libcurl 2>/dev/null || echo -ljson-c -lcurl)
# the pure C core each harness links: every file of src/core
FUZZ_CORE        = $(patsubst src/core/%.c,%,$(wildcard src/core/*.c))
# json-c (fuzz/dt_json.c) is the harnesses' oracle only: the module does not link it
FUZZ_CORE_OBJS   = $(patsubst %,$(FUZZ_DIR)/obj/%.o,$(FUZZ_CORE)) $(FUZZ_DIR)/obj/dt_json.o
FUZZ_DEB         = clang libclang-rt-14-dev libjson-c-dev libcurl4-openssl-dev pkg-config
export FUZZ_STRICT

.PHONY: fuzz fuzz-build fuzz-regress fuzz-deps
.SECONDARY: $(FUZZ_CORE_OBJS)

fuzz-deps:
	@$(call deb_install,$(FUZZ_DEB))

$(FUZZ_DIR)/obj/dt_json.o: fuzz/dt_json.c fuzz/dt_json.h mk/fuzz.mk
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_SAN) -c -o $@ $<

$(FUZZ_DIR)/obj/%.o: src/core/%.c $(HDRS) mk/fuzz.mk
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_SAN) -c -o $@ $<

# fuzz_date needs dt_date only; the others the whole pure core
$(FUZZ_DIR)/fuzz_date: fuzz/fuzz_date.c fuzz/fuzz_common.h $(FUZZ_DIR)/obj/dt_date.o
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $< $(FUZZ_DIR)/obj/dt_date.o -lm

$(FUZZ_DIR)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_common.h $(FUZZ_CORE_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $< $(FUZZ_CORE_OBJS) $(FUZZ_JSON_LIBS) -lm

fuzz-build: fuzz-deps
	@$(MAKE) --no-print-directory $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_TARGETS))

fuzz: fuzz-build
	@start=$$(date +%s); status=0; \
	for t in $(FUZZ_TARGETS); do \
	  fuzz/run.sh $$t $(FUZZ_SECONDS) $(FUZZ_DIR) "$(FUZZ_RECORDINGS)" || status=1; \
	done; \
	if [ $$status = 0 ]; then r=PASS; else r=FAIL; fi; \
	echo "fuzz: $$r ($(FUZZ_TARGETS), $(FUZZ_SECONDS) s each) in $$(( $$(date +%s) - start )) s"; \
	exit $$status

# Every regression input and every seed, once each, no mutation.
fuzz-regress: fuzz-build
	@start=$$(date +%s); status=0; \
	for t in $(FUZZ_TARGETS); do \
	  seeds=$$(mktemp -d); fuzz/seed.sh $$t $$seeds "$(FUZZ_RECORDINGS)" >/dev/null 2>&1; \
	  files=$$(find fuzz/regressions/$$t $$seeds -type f 2>/dev/null | sort); \
	  n=$$(echo "$$files" | grep -c .); \
	  if $(FUZZ_DIR)/fuzz_$$t -runs=1 $$files >$(FUZZ_DIR)/$$t-regress.log 2>&1; then \
	    echo "fuzz-regress $$t: PASS ($$n inputs)"; \
	  else \
	    echo "fuzz-regress $$t: FAIL ($$n inputs; $(FUZZ_DIR)/$$t-regress.log)"; \
	    grep -E 'ERROR|SUMMARY|runtime error|fuzz property failed|Running:' $(FUZZ_DIR)/$$t-regress.log | tail -8; \
	    status=1; \
	  fi; \
	  rm -rf $$seeds; \
	done; \
	if [ $$status = 0 ]; then r=PASS; else r=FAIL; fi; \
	echo "fuzz-regress: $$r in $$(( $$(date +%s) - start )) s"; \
	exit $$status
